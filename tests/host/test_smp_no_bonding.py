"""Pairing without bonding, per procedure (Vol 3 Part H 3.5.1 AuthReq Bonding_Flags,
3.6.1 key distribution): ``Host.pair(handle, now, bonding=False)``.

The expected PDUs are written out by hand from the spec's field layouts (3.5.1/3.5.2,
3.6.7): code, IO capability (0x03 NoInputNoOutput), OOB flag, AuthReq (Bonding_Flags
bits 0-1, MITM bit 2, SC bit 3, Keypress bit 4, CT2 bit 5), Maximum Encryption Key Size
(0x10), Initiator and Responder Key Distribution (EncKey bit 0, IdKey bit 1, SignKey
bit 2).
"""

from __future__ import annotations

import pytest

from host.smp_types import SmpConfig, SmpLocalError

from .test_security_rig import SecurityRig

#: Pairing Request, No Bonding (Bonding_Flags 00), SC + CT2, no keys either way.
REQ_NO_BOND_SC = bytes.fromhex("01 03 00 28 10 00 00")
#: Pairing Request, Bonding (01), SC + CT2, EncKey|IdKey|SignKey both ways.
REQ_BOND_SC = bytes.fromhex("01 03 00 29 10 07 07")
#: LE legacy pairing (no SC, no CT2), No Bonding, no keys.
REQ_NO_BOND_LEGACY = bytes.fromhex("01 03 00 00 10 00 00")
#: Security Request (3.6.7) with No Bonding, SC + CT2.
SEC_REQ_NO_BOND = bytes.fromhex("0b 28")
KEY_CODES = {0x06, 0x07, 0x08, 0x09, 0x0A}


def _sent(rig: SecurityRig, name: str) -> list[bytes]:
    return [pdu for _, sender, pdu in rig.smp_log if sender == name]


def _assert_paired_without_bond(rig: SecurityRig) -> None:
    c, p = rig.central, rig.peripheral
    (cr,), (pr,) = c.results(), p.results()
    assert cr.success and pr.success
    assert not cr.bonded and not pr.bonded and cr.bond is None and pr.bond is None
    assert rig.encrypted()
    assert c.handle is not None and p.handle is not None
    assert not c.host.smp(c.handle).security.bonded and not p.host.smp(p.handle).security.bonded
    assert not [pdu for _, _, pdu in rig.smp_log if pdu[0] in KEY_CODES]  # nothing distributed
    assert c.host.bonds is not None and p.host.bonds is not None
    assert list(c.host.bonds) == [] and list(p.host.bonds) == []


def test_central_pairs_without_bonding_no_keys_on_the_wire() -> None:
    rig = SecurityRig()
    ch, _ = rig.connect()
    rig.central.host.pair(ch, rig.now, bonding=False)
    rig.central.driver.service()
    rig.run_until(lambda: bool(rig.central.results() and rig.peripheral.results()), 2000 * 1_000_000)
    rig.run(50_000_000)
    request, *_ = _sent(rig, "central")
    response, *_ = _sent(rig, "peripheral")
    assert request == REQ_NO_BOND_SC
    # The responder is bondable itself (01) but distributes nothing the request did not ask.
    assert response == bytes.fromhex("02 03 00 29 10 00 00")
    _assert_paired_without_bond(rig)


def test_legacy_pairing_without_bonding_encrypts_with_the_stk() -> None:
    legacy = SmpConfig(secure_connections=False)
    rig = SecurityRig(legacy, legacy)
    ch, _ = rig.connect()
    rig.central.host.pair(ch, rig.now, bonding=False)
    rig.central.driver.service()
    rig.run_until(lambda: bool(rig.central.results() and rig.peripheral.results()), 2000 * 1_000_000)
    rig.run(50_000_000)
    assert _sent(rig, "central")[0] == REQ_NO_BOND_LEGACY
    assert _sent(rig, "peripheral")[0] == bytes.fromhex("02 03 00 01 10 00 00")
    _assert_paired_without_bond(rig)


def test_default_pairing_still_bonds() -> None:
    rig = SecurityRig()
    rig.connect()
    c, p = rig.pair()
    assert _sent(rig, "central")[0] == REQ_BOND_SC
    assert _sent(rig, "peripheral")[0] == bytes.fromhex("02 03 00 29 10 07 07")
    assert c.bonded and p.bonded
    assert rig.central.host.bonds is not None and len(list(rig.central.host.bonds)) == 1
    assert rig.peripheral.host.bonds is not None and len(list(rig.peripheral.host.bonds)) == 1


def test_bonding_true_overrides_a_non_bonding_configuration() -> None:
    rig = SecurityRig(SmpConfig(bonding=False), SmpConfig())
    ch, _ = rig.connect()
    rig.central.host.pair(ch, rig.now, bonding=True)
    rig.central.driver.service()
    rig.run_until(lambda: bool(rig.central.results() and rig.peripheral.results()), 2000 * 1_000_000)
    assert _sent(rig, "central")[0] == REQ_BOND_SC
    assert rig.central.results()[0].bonded and rig.peripheral.results()[0].bonded


def test_peripheral_security_request_without_bonding() -> None:
    rig = SecurityRig()
    _, ph = rig.connect()
    rig.peripheral.host.pair(ph, rig.now, bonding=False)
    rig.peripheral.driver.service()
    rig.run_until(lambda: bool(rig.central.results() and rig.peripheral.results()), 2000 * 1_000_000)
    rig.run(50_000_000)
    sec_req, response, *_ = _sent(rig, "peripheral")
    assert sec_req == SEC_REQ_NO_BOND
    assert _sent(rig, "central")[0] == REQ_BOND_SC  # the central asks with its own settings
    assert response == bytes.fromhex("02 03 00 28 10 00 00")  # No Bonding, no keys
    _assert_paired_without_bond(rig)


def test_no_bond_means_an_unencrypted_reconnection_until_paired_again() -> None:
    rig = SecurityRig()
    ch, _ = rig.connect()
    rig.central.host.pair(ch, rig.now, bonding=False)
    rig.central.driver.service()
    rig.run_until(lambda: bool(rig.central.results() and rig.peripheral.results()), 2000 * 1_000_000)
    rig.disconnect()
    ch, _ = rig.connect()
    rig.run(200_000_000)
    assert not rig.encrypted()
    assert rig.central.host.encrypt(ch, rig.now) is False  # no bond to encrypt from
    c, p = rig.pair()  # the override was for one pairing: the configuration bonds again
    assert c.bonded and p.bonded and rig.encrypted()


def test_override_is_checked_like_any_pairing() -> None:
    rig = SecurityRig()
    _, ph = rig.connect()
    with pytest.raises(SmpLocalError):
        rig.peripheral.host.smp(ph).pair(rig.now, bonding=False)
