"""Pairing, bonding and re-encryption between two blesim nodes over the simulated radio.

Every association model in both roles (the central pairs, or the peripheral asks with a
Security Request), with bonding; then disconnection, reconnection encrypted from the
stored LTK with no SMP at all, and a node reboot whose bonds come back from JSON.
Negative paths end with the right Pairing Failed reason and no encrypted link.
"""

from __future__ import annotations

from typing import Callable

import pytest

from host.events import EncryptionChanged, PairingComplete
from host.smp_crypto import DEBUG_PUBLIC_KEY
from host.smp_pdu import (
    IoCapability,
    PairingFailedReason,
    SMP_Pairing_Public_Key,
    SMP_Pairing_Request,
    AuthReq,
    KeyDistribution,
    OobDataFlag,
    SmpCode,
)
from host.smp_types import AssociationModel, SmpConfig, SmpLocalError
from phy.units import MS, S

from .test_security_rig import SecurityRig

IO = IoCapability
R = PairingFailedReason
TK = bytes.fromhex("00112233445566778899aabbccddeeff")


def cfg(sc: bool, io: IoCapability = IO.NO_INPUT_NO_OUTPUT, mitm: bool = False, **kw: object) -> SmpConfig:
    return SmpConfig(io_capability=io, mitm=mitm, secure_connections=sc, **kw)  # type: ignore[arg-type]


#: name -> (central config, peripheral config, model), per pairing kind.
MODELS: dict[str, Callable[[bool], tuple[SmpConfig, SmpConfig, AssociationModel]]] = {
    "just-works": lambda sc: (cfg(sc), cfg(sc), AssociationModel.JUST_WORKS),
    "passkey-central-types": lambda sc: (cfg(sc, IO.KEYBOARD_ONLY, True), cfg(sc, IO.DISPLAY_ONLY, True),
                                         AssociationModel.PASSKEY_ENTRY),
    "passkey-peripheral-types": lambda sc: (cfg(sc, IO.DISPLAY_ONLY, True), cfg(sc, IO.KEYBOARD_ONLY, True),
                                            AssociationModel.PASSKEY_ENTRY),
    "passkey-both-type": lambda sc: (cfg(sc, IO.KEYBOARD_ONLY, True), cfg(sc, IO.KEYBOARD_ONLY, True),
                                     AssociationModel.PASSKEY_ENTRY),
    "oob": lambda sc: (cfg(sc), cfg(sc), AssociationModel.OOB),
    "numeric-comparison": lambda sc: (cfg(sc, IO.DISPLAY_YES_NO, True), cfg(sc, IO.KEYBOARD_DISPLAY, True),
                                      AssociationModel.NUMERIC_COMPARISON),
}
CASES = [(sc, name, initiator) for sc in (False, True) for name in MODELS
         for initiator in ("central", "peripheral") if not (name == "numeric-comparison" and not sc)]


def start_pairing(rig: SecurityRig, model: str, sc: bool, initiator: str) -> tuple[object, object]:
    """Set up OOB data / users as the model needs, start the pairing from ``initiator``
    and run until both sides report."""
    c, p = rig.central, rig.peripheral
    assert c.handle is not None and p.handle is not None
    if model == "oob":
        cs, ps = c.host.smp(c.handle), p.host.smp(p.handle)
        if sc:
            cs.set_oob_data(peer_sc=ps.local_sc_oob_data())
            ps.set_oob_data(peer_sc=cs.local_sc_oob_data())
        else:
            cs.set_oob_data(legacy_tk=TK)
            ps.set_oob_data(legacy_tk=TK)
    if model == "passkey-both-type":
        c.user.passkey = p.user.passkey = 314159
    if initiator == "central":
        return rig.pair()
    n = (len(c.results()), len(p.results()))
    p.host.pair(p.handle, rig.now)  # a Security Request
    p.driver.service()
    rig.run_until(lambda: len(c.results()) > n[0] and len(p.results()) > n[1], 40 * S)
    rig.run(50 * MS)
    return c.results()[n[0]], p.results()[n[1]]


@pytest.mark.parametrize("sc,model,initiator", CASES, ids=[f"{'sc' if s else 'legacy'}-{m}-{i}" for s, m, i in CASES])
def test_every_model_pairs_bonds_and_reencrypts_from_the_bond(sc: bool, model: str, initiator: str) -> None:
    central_cfg, peripheral_cfg, expected = MODELS[model](sc)
    rig = SecurityRig(central_cfg, peripheral_cfg, seed=7)
    rig.connect()
    first = rig.now
    c_res, p_res = start_pairing(rig, model, sc, initiator)
    for res in (c_res, p_res):
        assert res.success, res  # type: ignore[attr-defined]
        assert res.model is expected and res.secure_connections is sc and res.bonded  # type: ignore[attr-defined]
        assert res.authenticated is (expected is not AssociationModel.JUST_WORKS)  # type: ignore[attr-defined]
    assert rig.encrypted()
    codes = rig.smp_codes(first)
    if initiator == "peripheral":
        assert codes[0] == ("peripheral", SmpCode.SECURITY_REQUEST)
    assert ("central", SmpCode.PAIRING_REQUEST) in codes and ("peripheral", SmpCode.PAIRING_RESPONSE) in codes
    assert (("central", SmpCode.PAIRING_PUBLIC_KEY) in codes) is sc
    # Both bond stores know the other by its identity address, with the same LTK.
    c, p = rig.central, rig.peripheral
    assert c.host.bonds is not None and p.host.bonds is not None
    c_bond, p_bond = c.host.bonds.get(p.host.address), p.host.bonds.get(c.host.address)
    assert c_bond is not None and p_bond is not None and c_bond.peer_ltk is not None
    assert p_bond.local_ltk is not None and c_bond.peer_ltk.key == p_bond.local_ltk.key
    assert c_bond.peer_irk is not None and c_bond.peer_csrk == p_bond.local_csrk

    # Disconnect and reconnect: encryption from the stored LTK, no SMP PDU at all.
    rig.disconnect()
    rig.connect()
    assert c.handle is not None and p.handle is not None
    again = rig.now
    assert c.host.encrypt(c.handle, again)
    c.driver.service()
    assert rig.run_until(rig.encrypted, 500 * MS)
    assert rig.smp_codes(again) == []
    for node in (c, p):
        assert node.host.smp(node.handle).security.bonded  # type: ignore[arg-type]
        changes = [e for e in node.events(EncryptionChanged) if isinstance(e, EncryptionChanged)]
        assert changes[-1].enabled and changes[-1].status == 0

    # Reboot both nodes (bonds reloaded from JSON): still no new pairing.
    rig.disconnect()
    c.reboot()
    p.reboot()
    assert rig.run_until(lambda: c.host.powered and p.host.powered, 100 * MS)
    rig.connect()
    assert c.handle is not None
    later = rig.now
    assert c.host.encrypt(c.handle, later)
    c.driver.service()
    assert rig.run_until(rig.encrypted, 500 * MS)
    assert rig.smp_codes(later) == []
    assert not c.events(PairingComplete, since=later) and not p.events(PairingComplete, since=later)
    assert c.host.smp(c.handle).security.authenticated is (expected is not AssociationModel.JUST_WORKS)


def test_security_request_on_reconnection_is_answered_from_the_bond() -> None:
    rig = SecurityRig(cfg(True, IO.KEYBOARD_ONLY, True), cfg(True, IO.DISPLAY_ONLY, True))
    rig.connect()
    assert rig.pair()[0].success
    rig.disconnect()
    rig.connect()
    p = rig.peripheral
    t = rig.now
    assert p.handle is not None
    p.host.pair(p.handle, t)  # Security Request: the central encrypts with the bond's LTK
    p.driver.service()
    assert rig.run_until(rig.encrypted, 500 * MS)
    assert rig.smp_codes(t) == [("peripheral", SmpCode.SECURITY_REQUEST)]
    (done,) = [e for e in rig.peripheral.results() if e.reused_keys]  # the requester reports
    assert done.success and done.authenticated and done.bonded


# -- negative paths ------------------------------------------------------------------------


def failed_with(rig: SecurityRig, reason: int, detector: str) -> None:
    """Both sides report the failure (``detector`` sent Pairing Failed ``reason``), and the
    link is not encrypted."""
    c, p = rig.central.results()[-1], rig.peripheral.results()[-1]
    assert not c.success and not p.success
    assert c.reason == reason and p.reason == reason
    assert (c.remote, p.remote) == ((True, False) if detector == "peripheral" else (False, True))
    sent = [pdu for _, name, pdu in rig.smp_log if name == detector and pdu[0] == SmpCode.PAIRING_FAILED]
    assert sent and sent[-1] == bytes([SmpCode.PAIRING_FAILED, reason])
    assert not rig.encrypted()
    assert not rig.central.events(EncryptionChanged) and not rig.peripheral.events(EncryptionChanged)
    assert rig.central.host.bonds is not None and len(rig.central.host.bonds) == 0


@pytest.mark.parametrize("sc", [False, True], ids=["legacy", "sc"])
def test_wrong_passkey_fails_with_confirm_value_failed(sc: bool) -> None:
    rig = SecurityRig(cfg(sc, IO.KEYBOARD_ONLY, True), cfg(sc, IO.DISPLAY_ONLY, True))
    rig.central.user.passkey_offset = 1
    rig.connect()
    rig.pair()
    # Legacy: the responder checks Mconfirm first; SC: the initiator checks Cb of round 1
    # (the bit of the passkey that differs decides which round, the first side to see it).
    detector = "peripheral" if not sc else _detector(rig)
    failed_with(rig, R.CONFIRM_VALUE_FAILED, detector)


def _detector(rig: SecurityRig) -> str:
    (name,) = {name for _, name, pdu in rig.smp_log if pdu[0] == SmpCode.PAIRING_FAILED}
    return name


def test_cancelled_passkey_entry_fails_with_passkey_entry_failed() -> None:
    rig = SecurityRig(cfg(True, IO.DISPLAY_ONLY, True), cfg(True, IO.KEYBOARD_ONLY, True))
    rig.peripheral.user.cancel = True
    rig.connect()
    rig.pair()
    failed_with(rig, R.PASSKEY_ENTRY_FAILED, "peripheral")


def test_numeric_comparison_rejected() -> None:
    rig = SecurityRig(cfg(True, IO.DISPLAY_YES_NO, True), cfg(True, IO.DISPLAY_YES_NO, True))
    rig.central.user.accept = False
    rig.connect()
    rig.pair()
    failed_with(rig, R.NUMERIC_COMPARISON_FAILED, "central")


def test_key_size_below_the_minimum() -> None:
    rig = SecurityRig(cfg(True, max_key_size=7), cfg(True, min_key_size=16))
    rig.connect()
    rig.pair()
    failed_with(rig, R.ENCRYPTION_KEY_SIZE, "peripheral")


def test_invalid_public_key_fails_the_pairing() -> None:
    """A central that sends a public key off the curve (the fixed-coordinate attack: a
    valid X with Y = 0) gets DHKey Check Failed and no link key."""
    rig = SecurityRig(cfg(True), cfg(True))
    rig.connect()
    c, p = rig.central, rig.peripheral
    assert c.handle is not None
    request = SMP_Pairing_Request(IO.NO_INPUT_NO_OUTPUT, OobDataFlag.NOT_PRESENT, AuthReq.BONDING | AuthReq.SC,
                                  16, KeyDistribution(0), KeyDistribution(0))
    c.host.l2cap.send_fixed(c.handle, 0x0006, request.to_bytes())  # a hand-made, hostile SMP
    c.driver.service()
    rig.run(100 * MS)
    bad = SMP_Pairing_Public_Key(DEBUG_PUBLIC_KEY[0], bytes(32))
    c.host.l2cap.send_fixed(c.handle, 0x0006, bad.to_bytes())
    c.driver.service()
    rig.run(200 * MS)
    (result,) = p.results()
    assert not result.success and result.reason == R.DHKEY_CHECK_FAILED
    assert [pdu for _, name, pdu in rig.smp_log if name == "peripheral"][-1] == bytes([0x05, R.DHKEY_CHECK_FAILED])
    assert not p.events(EncryptionChanged) and p.host.bonds is not None and len(p.host.bonds) == 0


def test_repeated_attempts_after_a_failure_are_refused() -> None:
    rig = SecurityRig(cfg(False, IO.KEYBOARD_ONLY, True), cfg(False, IO.DISPLAY_ONLY, True))
    rig.central.user.passkey_offset = 1
    rig.connect()
    rig.pair()
    failed_with(rig, R.CONFIRM_VALUE_FAILED, "peripheral")
    rig.central.user.passkey_offset = 0
    rig.pair()  # at once: the peripheral is still in its waiting interval (2.3.6)
    failed_with(rig, R.REPEATED_ATTEMPTS, "peripheral")
    rig.run(2 * S)  # the interval passed: a correct passkey pairs
    c_res, p_res = rig.pair()
    assert c_res.success and p_res.success and rig.encrypted()


def test_smp_timeout_ends_smp_on_the_link() -> None:
    rig = SecurityRig(cfg(False, IO.DISPLAY_ONLY, True), cfg(False, IO.KEYBOARD_ONLY, True))
    rig.peripheral.user.respond = False  # the user never types the passkey
    rig.connect()
    c, p = rig.central, rig.peripheral
    assert c.handle is not None and p.handle is not None
    start = rig.now
    c_res, p_res = rig.pair(timeout_ns=35 * S)
    for res in (c_res, p_res):
        assert not res.success and res.timed_out and res.reason is None
    assert 30 * S <= rig.now - start <= 31 * S + 100 * MS
    assert not rig.encrypted() and not any(pdu[0] == SmpCode.PAIRING_FAILED for _, _, pdu in rig.smp_log)
    with pytest.raises(SmpLocalError, match="timed out"):
        c.host.pair(c.handle, rig.now)  # no more SMP on this link (Vol 3 Part H 3.4)
    rig.disconnect()
    rig.peripheral.user.respond = True
    rig.connect()  # a new link pairs again
    assert rig.pair()[0].success


def test_just_works_consent() -> None:
    rig = SecurityRig(cfg(True), cfg(True, confirm_just_works=True))
    rig.peripheral.user.consent = False
    rig.connect()
    rig.pair()
    failed_with(rig, R.PAIRING_NOT_SUPPORTED, "peripheral")
    rig.peripheral.user.consent = True
    c_res, p_res = rig.pair()
    assert c_res.success and p_res.success and c_res.model is AssociationModel.JUST_WORKS


def test_fixed_passkey_is_displayed() -> None:
    rig = SecurityRig(cfg(False, IO.KEYBOARD_ONLY, True), cfg(False, IO.DISPLAY_ONLY, True, passkey=123456))
    rig.central.user.passkey = 123456  # the user knows the printed passkey
    rig.connect()
    assert rig.pair()[0].success and rig.peripheral.displayed == 123456


def test_keys_cross_the_hci_least_significant_octet_first() -> None:
    """SMP keys are MSB-first; LE_Enable_Encryption and the LTK request reply carry them
    LSO first (Vol 4 Part E 7.8.24, 7.8.25): the commands hold the bond's LTK reversed."""
    from linklayer.hci import le_commands as lc
    from linklayer.hci.registry import parse_command

    rig = SecurityRig(cfg(False), cfg(False))
    rig.connect()
    assert rig.pair()[0].success
    rig.disconnect()
    rig.connect()
    commands: list[object] = []
    for node in (rig.central, rig.peripheral):
        node.controller.hci_taps.append(
            lambda t, d, h4, pkt: commands.append(parse_command(pkt)) if d == "host->controller" and h4 == 1 else None)
    c = rig.central
    assert c.handle is not None and c.host.encrypt(c.handle, rig.now)
    c.driver.service()
    assert rig.run_until(rig.encrypted, 500 * MS)
    assert c.host.bonds is not None and rig.peripheral.host.bonds is not None
    c_ltk = c.host.bonds.get(rig.peripheral.host.address).peer_ltk  # type: ignore[union-attr]
    p_ltk = rig.peripheral.host.bonds.get(c.host.address).local_ltk  # type: ignore[union-attr]
    assert c_ltk is not None and p_ltk == c_ltk and c_ltk.ediv != 0  # legacy: EDIV/Rand name the key
    (enable,) = [x for x in commands if isinstance(x, lc.HCI_LE_Enable_Encryption_Command)]
    (reply,) = [x for x in commands if isinstance(x, lc.HCI_LE_Long_Term_Key_Request_Reply_Command)]
    assert bytes(enable.long_term_key) == c_ltk.key[::-1] and bytes(reply.long_term_key) == c_ltk.key[::-1]
    assert enable.encrypted_diversifier == c_ltk.ediv and enable.random_number == c_ltk.rand.to_bytes(8, "little")
