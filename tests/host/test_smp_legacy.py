"""LE legacy pairing between two SmpSessions (Vol 3 Part H 2.3.5.2-2.3.5.5, 3.6).

The keys are cross-checked independently: Mconfirm/Sconfirm on the wire must be c1 of
the TK and the random values seen on the wire, the link must be encrypted with
s1(TK, Srand, Mrand) masked to the key size, and each side's bond must hold the keys the
other side distributed.
"""

from __future__ import annotations

import pytest

from host.bonds import BondStore
from host.smp import SmpState, mask_key
from host.smp_crypto import c1, s1
from host.smp_pdu import (
    IoCapability,
    KeyDistribution,
    KeypressNotificationType,
    PairingFailedReason,
    SMP_Central_Identification,
    SMP_Encryption_Information,
    SMP_Identity_Address_Information,
    SMP_Identity_Information,
    SMP_Pairing_Confirm,
    SMP_Pairing_Random,
    SMP_Signing_Information,
    SmpCode,
    swap,
)
from host.smp_types import AssociationModel, SmpConfig
from linklayer.address import Address
from tests.host.test_smp_rig import CENTRAL_ADDRESS, PERIPHERAL_ADDRESS, SmpRig

IO = IoCapability
LEGACY = dict(secure_connections=False)


def legacy(**kwargs: object) -> SmpConfig:
    return SmpConfig(secure_connections=False, **kwargs)  # type: ignore[arg-type]


def wire_value(rig: SmpRig, side: str, code: int) -> bytes:
    (pdu,) = rig.pdus(side, code)
    if isinstance(pdu, SMP_Pairing_Confirm):
        return pdu.confirm_value
    assert isinstance(pdu, SMP_Pairing_Random)
    return pdu.random_value


def check_legacy_keys(rig: SmpRig, tk: bytes, key_size: int = 16) -> bytes:
    """Independent check of the confirm values and the STK; returns the STK."""
    preq = swap(rig.wire[0][1])
    pres = swap(rig.wire[1][1])
    assert rig.wire[0][1][0] == SmpCode.PAIRING_REQUEST and rig.wire[1][1][0] == SmpCode.PAIRING_RESPONSE
    mrand = wire_value(rig, "central", SmpCode.PAIRING_RANDOM)
    srand = wire_value(rig, "peripheral", SmpCode.PAIRING_RANDOM)
    ia, ra = swap(CENTRAL_ADDRESS.value), swap(PERIPHERAL_ADDRESS.value)
    assert wire_value(rig, "central", SmpCode.PAIRING_CONFIRM) == c1(tk, mrand, preq, pres, 1, 0, ia, ra)
    assert wire_value(rig, "peripheral", SmpCode.PAIRING_CONFIRM) == c1(tk, srand, preq, pres, 1, 0, ia, ra)
    stk = mask_key(s1(tk, srand, mrand), key_size)
    (first,) = rig.central_side.encryptions[:1]
    assert first == (stk, 0, 0, key_size)
    return stk


def check_bonds_cross(rig: SmpRig) -> None:
    """Each side's bond holds exactly what the other side distributed."""
    c_bond = rig.result("central").bond
    p_bond = rig.result("peripheral").bond
    assert c_bond is not None and p_bond is not None
    assert c_bond.peer_ltk == p_bond.local_ltk
    assert p_bond.peer_ltk == c_bond.local_ltk
    assert c_bond.peer_csrk == p_bond.local_csrk
    assert p_bond.peer_csrk == c_bond.local_csrk
    assert c_bond.peer_address == PERIPHERAL_ADDRESS
    assert p_bond.peer_address == CENTRAL_ADDRESS


def test_just_works() -> None:
    rig = SmpRig(legacy(), legacy()).pair()
    for side in ("central", "peripheral"):
        result = rig.result(side)
        assert result.success and result.model is AssociationModel.JUST_WORKS
        assert not result.secure_connections and not result.authenticated and result.bonded
    check_legacy_keys(rig, bytes(16))
    check_bonds_cross(rig)
    assert rig.central.security.encrypted and not rig.central.security.authenticated
    assert rig.central.state is SmpState.IDLE and rig.peripheral.state is SmpState.IDLE
    assert [code for _, code in [(s, p[0]) for s, p in rig.wire]] == [
        0x01, 0x02, 0x03, 0x03, 0x04, 0x04,
        0x06, 0x07, 0x08, 0x09, 0x0A,  # responder keys first
        0x06, 0x07, 0x08, 0x09, 0x0A,  # then the initiator's
    ]


@pytest.mark.parametrize("user_first", [False, True])
@pytest.mark.parametrize(
    "central_io,peripheral_io,who_types",
    [
        (IO.KEYBOARD_ONLY, IO.DISPLAY_ONLY, "central"),
        (IO.DISPLAY_ONLY, IO.KEYBOARD_ONLY, "peripheral"),
        (IO.KEYBOARD_DISPLAY, IO.KEYBOARD_DISPLAY, "peripheral"),
        (IO.KEYBOARD_ONLY, IO.KEYBOARD_ONLY, "both"),
    ],
)
def test_passkey_entry(central_io: IoCapability, peripheral_io: IoCapability, who_types: str, user_first: bool) -> None:
    rig = SmpRig(legacy(io_capability=central_io, mitm=True), legacy(io_capability=peripheral_io), user_first=user_first)
    if who_types == "both":
        rig.users["central"].passkey = rig.users["peripheral"].passkey = 31337
    rig.pair()
    for side in ("central", "peripheral"):
        assert rig.result(side).success
        assert rig.result(side).model is AssociationModel.PASSKEY_ENTRY
        assert rig.result(side).authenticated
        assert rig.delegate(side).passkey_asked == (who_types in (side, "both"))
    if who_types == "both":
        passkey = 31337
        assert rig.central_side.displayed is None and rig.peripheral_side.displayed is None
    else:
        shower = "peripheral" if who_types == "central" else "central"
        passkey = rig.delegate(shower).displayed  # type: ignore[assignment]
        assert passkey is not None and 0 <= passkey <= 999_999
    check_legacy_keys(rig, passkey.to_bytes(16, "big"))
    check_bonds_cross(rig)
    assert rig.peripheral.security.authenticated


def test_oob() -> None:
    tk = bytes.fromhex("00112233445566778899aabbccddeeff")
    rig = SmpRig(legacy(), legacy())
    rig.central.set_oob_data(legacy_tk=tk)
    rig.peripheral.set_oob_data(legacy_tk=tk)
    rig.pair()
    assert rig.result("central").model is AssociationModel.OOB
    assert rig.result("peripheral").authenticated
    check_legacy_keys(rig, tk)


def test_oob_on_one_side_only_falls_back_to_the_io_matrix() -> None:
    rig = SmpRig(legacy(), legacy())
    rig.central.set_oob_data(legacy_tk=bytes(range(16)))
    rig.pair()
    assert rig.result("central").model is AssociationModel.JUST_WORKS
    check_legacy_keys(rig, bytes(16))


def test_oob_different_tks_fail_with_confirm_value_failed() -> None:
    rig = SmpRig(legacy(), legacy())
    rig.central.set_oob_data(legacy_tk=bytes(range(16)))
    rig.peripheral.set_oob_data(legacy_tk=bytes(range(1, 17)))
    rig.pair()
    assert rig.failures() == [("peripheral", PairingFailedReason.CONFIRM_VALUE_FAILED)]


def test_oob_flag_without_a_legacy_tk_is_oob_not_available() -> None:
    """The peripheral announces OOB data (it holds the central's SC OOB data) but the
    pairing is legacy: it has no TK to use."""
    rig = SmpRig(legacy(), SmpConfig(secure_connections=True))
    rig.central.set_oob_data(legacy_tk=bytes(range(16)))
    rig.peripheral.set_oob_data(peer_sc=rig.central.local_sc_oob_data())
    rig.pair()
    assert rig.failures() == [("peripheral", PairingFailedReason.OOB_NOT_AVAILABLE)]
    assert rig.result("central").reason == PairingFailedReason.OOB_NOT_AVAILABLE
    assert rig.result("central").remote
    assert rig.encrypted_with is None


@pytest.mark.parametrize("typist", ["central", "peripheral"])
def test_wrong_passkey_is_confirm_value_failed(typist: str) -> None:
    central_io = IO.KEYBOARD_ONLY if typist == "central" else IO.DISPLAY_ONLY
    peripheral_io = IO.DISPLAY_ONLY if typist == "central" else IO.KEYBOARD_ONLY
    rig = SmpRig(legacy(io_capability=central_io, mitm=True), legacy(io_capability=peripheral_io))
    rig.users[typist].passkey_offset = 1
    rig.pair()
    # The responder checks Mconfirm first (2.3.5.5).
    assert rig.failures() == [("peripheral", PairingFailedReason.CONFIRM_VALUE_FAILED)]
    assert rig.result("peripheral").reason == PairingFailedReason.CONFIRM_VALUE_FAILED
    assert not rig.result("peripheral").remote
    assert rig.result("central").remote
    assert rig.encrypted_with is None and not rig.central.security.encrypted
    assert SmpCode.ENCRYPTION_INFORMATION not in rig.codes()


def test_passkey_cancelled_is_passkey_entry_failed() -> None:
    rig = SmpRig(legacy(io_capability=IO.KEYBOARD_ONLY, mitm=True), legacy(io_capability=IO.DISPLAY_ONLY))
    rig.users["central"].cancel = True
    rig.pair()
    assert rig.failures() == [("central", PairingFailedReason.PASSKEY_ENTRY_FAILED)]
    assert rig.result("peripheral").reason == PairingFailedReason.PASSKEY_ENTRY_FAILED


def test_keypress_notifications_reach_the_displaying_side() -> None:
    rig = SmpRig(
        legacy(io_capability=IO.KEYBOARD_ONLY, mitm=True, keypress=True),
        legacy(io_capability=IO.DISPLAY_ONLY, keypress=True),
    )
    rig.users["central"].respond = False
    rig.pair()
    assert rig.central.waiting_for_passkey
    presses = [
        KeypressNotificationType.PASSKEY_ENTRY_STARTED,
        KeypressNotificationType.PASSKEY_DIGIT_ENTERED,
        KeypressNotificationType.PASSKEY_DIGIT_ERASED,
        KeypressNotificationType.PASSKEY_ENTRY_COMPLETED,
    ]
    for press in presses:
        rig.central.send_keypress(press, rig.now)
    rig.users["central"].respond = True
    rig.run()
    assert rig.peripheral_side.keypresses == presses
    assert rig.result("central").success and rig.result("peripheral").success


def test_keypress_not_negotiated_is_ignored_and_refused_locally() -> None:
    from host.smp_types import SmpLocalError

    rig = SmpRig(legacy(io_capability=IO.KEYBOARD_ONLY, mitm=True, keypress=True), legacy(io_capability=IO.DISPLAY_ONLY))
    rig.users["central"].respond = False
    rig.pair()
    with pytest.raises(SmpLocalError):
        rig.central.send_keypress(KeypressNotificationType.PASSKEY_ENTRY_STARTED, rig.now)
    rig.peripheral.receive(bytes([SmpCode.PAIRING_KEYPRESS_NOTIFICATION, 0]), rig.now)  # peer ignores it
    assert rig.peripheral_side.keypresses == [] and rig.failures() == []


@pytest.mark.parametrize("key_size", [7, 10, 15])
def test_short_keys_are_masked(key_size: int) -> None:
    rig = SmpRig(legacy(max_key_size=key_size), legacy()).pair()
    stk = check_legacy_keys(rig, bytes(16), key_size)
    assert stk[: 16 - key_size] == bytes(16 - key_size) and any(stk[16 - key_size :])
    bond = rig.result("central").bond
    assert bond is not None and bond.peer_ltk is not None
    assert bond.peer_ltk.key_size == key_size
    assert bond.peer_ltk.key[: 16 - key_size] == bytes(16 - key_size)
    assert rig.central.security.key_size == key_size


@pytest.mark.parametrize(
    "central_keys,peripheral_keys",
    [
        (KeyDistribution(0), KeyDistribution(0)),
        (KeyDistribution.ENC_KEY, KeyDistribution.ID_KEY),
        (KeyDistribution.SIGN_KEY, KeyDistribution.ENC_KEY | KeyDistribution.SIGN_KEY),
    ],
)
def test_key_distribution_as_negotiated(central_keys: KeyDistribution, peripheral_keys: KeyDistribution) -> None:
    every = KeyDistribution.ENC_KEY | KeyDistribution.ID_KEY | KeyDistribution.SIGN_KEY
    rig = SmpRig(legacy(local_keys=central_keys, peer_keys=every), legacy(local_keys=peripheral_keys)).pair()
    expected_codes = []
    for keys in (peripheral_keys, central_keys):
        if KeyDistribution.ENC_KEY & keys:
            expected_codes += [0x06, 0x07]
        if KeyDistribution.ID_KEY & keys:
            expected_codes += [0x08, 0x09]
        if KeyDistribution.SIGN_KEY & keys:
            expected_codes.append(0x0A)
    assert rig.codes()[6:] == expected_codes
    check_bonds_cross(rig)
    c_bond = rig.result("central").bond
    assert c_bond is not None
    assert (c_bond.peer_ltk is not None) == bool(KeyDistribution.ENC_KEY & peripheral_keys)
    assert (c_bond.local_ltk is not None) == bool(KeyDistribution.ENC_KEY & central_keys)
    assert (c_bond.peer_irk is not None) == bool(KeyDistribution.ID_KEY & peripheral_keys)


def test_distributed_keys_on_the_wire_match_the_bond() -> None:
    irk = bytes(range(16))
    csrk = bytes(range(16, 32))
    identity = Address.parse("00:1B:DC:99:88:77")
    rig = SmpRig(legacy(), legacy(irk=irk, csrk=csrk, identity_address=identity)).pair()
    (enc,) = rig.pdus("peripheral", SmpCode.ENCRYPTION_INFORMATION)
    (ident,) = rig.pdus("peripheral", SmpCode.CENTRAL_IDENTIFICATION)
    (id_info,) = rig.pdus("peripheral", SmpCode.IDENTITY_INFORMATION)
    (id_addr,) = rig.pdus("peripheral", SmpCode.IDENTITY_ADDRESS_INFORMATION)
    (sign,) = rig.pdus("peripheral", SmpCode.SIGNING_INFORMATION)
    assert isinstance(enc, SMP_Encryption_Information) and isinstance(ident, SMP_Central_Identification)
    assert isinstance(id_info, SMP_Identity_Information) and isinstance(sign, SMP_Signing_Information)
    assert id_addr == SMP_Identity_Address_Information(identity)
    bond = rig.result("central").bond
    assert bond is not None and bond.peer_ltk is not None
    assert (bond.peer_ltk.key, bond.peer_ltk.ediv, bond.peer_ltk.rand) == (enc.long_term_key, ident.ediv, ident.rand)
    assert bond.peer_irk == irk and bond.peer_csrk == csrk and bond.peer_address == identity


def test_no_bonding_distributes_nothing_and_stores_nothing() -> None:
    store_c, store_p = BondStore(), BondStore()
    rig = SmpRig(legacy(bonding=False), legacy(), central_bonds=store_c, peripheral_bonds=store_p).pair()
    assert rig.result("central").success and not rig.result("central").bonded
    assert rig.codes() == [0x01, 0x02, 0x03, 0x03, 0x04, 0x04]
    assert len(store_c) == 0 and len(store_p) == 0


def test_reconnection_encrypts_from_the_bond_without_pairing() -> None:
    store_c, store_p = BondStore(), BondStore()
    first = SmpRig(
        legacy(io_capability=IO.KEYBOARD_ONLY, mitm=True), legacy(io_capability=IO.DISPLAY_ONLY),
        central_bonds=store_c, peripheral_bonds=store_p,
    ).pair()
    assert first.result("central").bonded
    # A new connection: new sessions, same stores (reloaded from JSON, as after a reboot).
    store_c = BondStore.from_json(store_c.to_json())
    store_p = BondStore.from_json(store_p.to_json())
    rig = SmpRig(legacy(), legacy(), central_bonds=store_c, peripheral_bonds=store_p, seed=2)
    assert rig.central.encrypt(rig.now)
    rig.run()
    assert rig.wire == []  # no SMP at all
    bond = store_c.get(PERIPHERAL_ADDRESS)
    assert bond is not None and bond.peer_ltk is not None
    assert rig.encrypted_with == bond.peer_ltk.key
    for session in (rig.central, rig.peripheral):
        assert session.security.encrypted and session.security.authenticated and session.security.bonded


def test_reconnection_with_a_lost_bond_fails_encryption() -> None:
    store_c = BondStore()
    SmpRig(legacy(), legacy(), central_bonds=store_c).pair()
    rig = SmpRig(legacy(), legacy(), central_bonds=store_c, peripheral_bonds=BondStore(), seed=3)
    assert rig.central.encrypt(rig.now)
    rig.run()
    assert rig.encrypted_with is None and not rig.central.security.encrypted


def test_timeline_of_a_passkey_pairing() -> None:
    """The whole exchange as a literal timeline (STYLE 9): seeded, so exact."""
    rig = SmpRig(legacy(io_capability=IO.KEYBOARD_ONLY, mitm=True), legacy(io_capability=IO.DISPLAY_ONLY)).pair()
    assert rig.log == [
        (7_500_000, "peripheral", "display", 712775),
        (15_000_000, "central", "passkey_request", None),
        (45_000_000, "central", "start_encryption", (0, 0, 16)),
        (97_500_000, "central", "complete", True),
        (135_000_000, "peripheral", "complete", True),
    ]
