"""LE Secure Connections pairing between two SmpSessions (Vol 3 Part H 2.3.5.6).

The sessions get known key pairs, so the test recomputes independently, from the
values on the wire: DHKey = ECDH, (MacKey, LTK) = f5(DHKey, Na, Nb, A, B), the DHKey
checks Ea/Eb = f6(...), the commitments f4(...) and the compared value g2(...).
"""

from __future__ import annotations

import random

import pytest

from host.bonds import BondStore
from host.smp import SmpSession, SmpState, mask_key
from host.smp_crypto import DEBUG_PUBLIC_KEY, dh_key, f4, f5, f6, g2
from host.smp_pdu import (
    AuthReq,
    IoCapability,
    KeyDistribution,
    OobDataFlag,
    PairingFailedReason,
    SMP_Pairing_Confirm,
    SMP_Pairing_DHKey_Check,
    SMP_Pairing_Public_Key,
    SMP_Pairing_Random,
    SMP_Pairing_Request,
    SMP_Pairing_Response,
    SmpCode,
    SmpPdu,
    decode_smp,
    swap,
)
from host.smp_sc import PASSKEY_ROUNDS, ScKeyPair
from host.smp_types import AssociationModel, ScOobData, SmpConfig
from linklayer.address import Address
from tests.host.test_smp_rig import CENTRAL_ADDRESS, PERIPHERAL_ADDRESS, SmpRig

IO = IoCapability
KEYS_C = ScKeyPair.generate(random.Random("central keys"))
KEYS_P = ScKeyPair.generate(random.Random("peripheral keys"))


def sc_rig(central: SmpConfig | None = None, peripheral: SmpConfig | None = None, **kw: object) -> SmpRig:
    kw.setdefault("central_keys", KEYS_C)
    kw.setdefault("peripheral_keys", KEYS_P)
    return SmpRig(central or SmpConfig(), peripheral or SmpConfig(), **kw)  # type: ignore[arg-type]


def a7(address: Address) -> bytes:
    return bytes([address.address_type]) + swap(address.value)


def last(rig: SmpRig, side: str, code: int) -> SmpPdu:
    return rig.pdus(side, code)[-1]


def check_sc_keys(rig: SmpRig, r: bytes = bytes(16), ra: bytes | None = None, rb: bytes | None = None) -> bytes:
    """Recompute DHKey, LTK, Ea and Eb from the wire; returns the LTK (masked)."""
    pka = last(rig, "central", SmpCode.PAIRING_PUBLIC_KEY)
    pkb = last(rig, "peripheral", SmpCode.PAIRING_PUBLIC_KEY)
    assert isinstance(pka, SMP_Pairing_Public_Key) and isinstance(pkb, SMP_Pairing_Public_Key)
    assert (pka.public_key_x, pka.public_key_y) == (KEYS_C.x, KEYS_C.y) or rig.central.config.use_debug_keys
    dhkey = dh_key(KEYS_P.private if not rig.peripheral.config.use_debug_keys else ScKeyPair.debug().private,
                   pka.public_key_x, pka.public_key_y)
    na_pdu = last(rig, "central", SmpCode.PAIRING_RANDOM)
    nb_pdu = last(rig, "peripheral", SmpCode.PAIRING_RANDOM)
    assert isinstance(na_pdu, SMP_Pairing_Random) and isinstance(nb_pdu, SMP_Pairing_Random)
    na, nb = na_pdu.random_value, nb_pdu.random_value
    a, b = a7(CENTRAL_ADDRESS), a7(PERIPHERAL_ADDRESS)
    mac_key, ltk = f5(dhkey, na, nb, a, b)
    req = decode_smp(rig.wire[0][1])
    rsp = decode_smp(rig.wire[1][1])
    assert isinstance(req, SMP_Pairing_Request) and isinstance(rsp, SMP_Pairing_Response)
    io_a = bytes([int(req.auth_req), int(req.oob_data_flag), int(req.io_capability)])
    io_b = bytes([int(rsp.auth_req), int(rsp.oob_data_flag), int(rsp.io_capability)])
    ea = last(rig, "central", SmpCode.PAIRING_DHKEY_CHECK)
    eb = last(rig, "peripheral", SmpCode.PAIRING_DHKEY_CHECK)
    assert ea == SMP_Pairing_DHKey_Check(f6(mac_key, na, nb, rb if rb is not None else r, io_a, a, b))
    assert eb == SMP_Pairing_DHKey_Check(f6(mac_key, nb, na, ra if ra is not None else r, io_b, b, a))
    key_size = rig.result("central").key_size
    masked = mask_key(ltk, key_size)
    assert rig.central_side.encryptions[0] == (masked, 0, 0, key_size)
    for side in ("central", "peripheral"):
        bond = rig.result(side).bond
        assert bond is not None and bond.peer_ltk is not None and bond.peer_ltk == bond.local_ltk
        assert bond.peer_ltk.key == masked and bond.peer_ltk.secure_connections
        assert (bond.peer_ltk.ediv, bond.peer_ltk.rand) == (0, 0)
    return masked


@pytest.mark.parametrize("user_first", [False, True])
def test_just_works(user_first: bool) -> None:
    rig = sc_rig(user_first=user_first).pair()
    for side in ("central", "peripheral"):
        result = rig.result(side)
        assert result.success and result.secure_connections and not result.authenticated
        assert result.model is AssociationModel.JUST_WORKS
    check_sc_keys(rig)
    # Cb = f4(PKbx, PKax, Nb, 0) on the wire.
    cb = last(rig, "peripheral", SmpCode.PAIRING_CONFIRM)
    nb = last(rig, "peripheral", SmpCode.PAIRING_RANDOM)
    assert isinstance(cb, SMP_Pairing_Confirm) and isinstance(nb, SMP_Pairing_Random)
    assert cb.confirm_value == f4(KEYS_P.x, KEYS_C.x, nb.random_value, b"\x00")
    assert rig.codes()[:8] == [0x01, 0x02, 0x0C, 0x0C, 0x03, 0x04, 0x04, 0x0D]
    # No LTK distribution in Secure Connections: only IRK/identity and CSRK.
    assert SmpCode.ENCRYPTION_INFORMATION not in rig.codes()
    assert rig.codes()[9:] == [0x08, 0x09, 0x0A, 0x08, 0x09, 0x0A]


@pytest.mark.parametrize("user_first", [False, True])
@pytest.mark.parametrize("central_io", [IO.DISPLAY_YES_NO, IO.KEYBOARD_DISPLAY])
def test_numeric_comparison(central_io: IoCapability, user_first: bool) -> None:
    rig = sc_rig(SmpConfig(io_capability=central_io, mitm=True), SmpConfig(io_capability=IO.DISPLAY_YES_NO),
                 user_first=user_first).pair()
    na = last(rig, "central", SmpCode.PAIRING_RANDOM)
    nb = last(rig, "peripheral", SmpCode.PAIRING_RANDOM)
    assert isinstance(na, SMP_Pairing_Random) and isinstance(nb, SMP_Pairing_Random)
    expected = g2(KEYS_C.x, KEYS_P.x, na.random_value, nb.random_value) % 1_000_000
    assert rig.central_side.compared == rig.peripheral_side.compared == expected
    for side in ("central", "peripheral"):
        assert rig.result(side).model is AssociationModel.NUMERIC_COMPARISON
        assert rig.result(side).authenticated
    check_sc_keys(rig)


@pytest.mark.parametrize("user_first", [False, True])
@pytest.mark.parametrize("rejecter", ["central", "peripheral"])
def test_numeric_comparison_rejected(rejecter: str, user_first: bool) -> None:
    rig = sc_rig(SmpConfig(io_capability=IO.DISPLAY_YES_NO, mitm=True), SmpConfig(io_capability=IO.DISPLAY_YES_NO),
                 user_first=user_first)
    rig.users[rejecter].accept = False
    rig.pair()
    assert (rejecter, PairingFailedReason.NUMERIC_COMPARISON_FAILED) in rig.failures()
    assert rig.result(rejecter).reason == PairingFailedReason.NUMERIC_COMPARISON_FAILED
    other = "peripheral" if rejecter == "central" else "central"
    assert rig.result(other).reason == PairingFailedReason.NUMERIC_COMPARISON_FAILED
    assert rig.result(other).remote
    assert rig.encrypted_with is None
    assert not rig.central.security.encrypted


@pytest.mark.parametrize("user_first", [False, True])
@pytest.mark.parametrize(
    "central_io,peripheral_io,who_types",
    [
        (IO.KEYBOARD_ONLY, IO.DISPLAY_ONLY, "central"),
        (IO.DISPLAY_ONLY, IO.KEYBOARD_ONLY, "peripheral"),
        (IO.KEYBOARD_ONLY, IO.KEYBOARD_ONLY, "both"),
    ],
)
def test_passkey_entry_20_rounds(central_io: IoCapability, peripheral_io: IoCapability, who_types: str,
                                 user_first: bool) -> None:
    rig = sc_rig(SmpConfig(io_capability=central_io, mitm=True), SmpConfig(io_capability=peripheral_io),
                 user_first=user_first)
    if who_types == "both":
        rig.users["central"].passkey = rig.users["peripheral"].passkey = 999_999
    rig.pair()
    passkey = 999_999 if who_types == "both" else (
        rig.peripheral_side.displayed if who_types == "central" else rig.central_side.displayed
    )
    assert passkey is not None
    for side in ("central", "peripheral"):
        assert rig.result(side).model is AssociationModel.PASSKEY_ENTRY and rig.result(side).authenticated
        assert rig.codes(side).count(SmpCode.PAIRING_CONFIRM) == PASSKEY_ROUNDS
        assert rig.codes(side).count(SmpCode.PAIRING_RANDOM) == PASSKEY_ROUNDS
    # Every commitment matches its passkey bit (2.3.5.6.3).
    cas = rig.pdus("central", SmpCode.PAIRING_CONFIRM)
    nas = rig.pdus("central", SmpCode.PAIRING_RANDOM)
    cbs = rig.pdus("peripheral", SmpCode.PAIRING_CONFIRM)
    nbs = rig.pdus("peripheral", SmpCode.PAIRING_RANDOM)
    for i in range(PASSKEY_ROUNDS):
        z = bytes([0x80 | ((passkey >> i) & 1)])
        assert cas[i] == SMP_Pairing_Confirm(f4(KEYS_C.x, KEYS_P.x, nas[i].random_value, z))  # type: ignore[attr-defined]
        assert cbs[i] == SMP_Pairing_Confirm(f4(KEYS_P.x, KEYS_C.x, nbs[i].random_value, z))  # type: ignore[attr-defined]
    check_sc_keys(rig, passkey.to_bytes(16, "big"))


@pytest.mark.parametrize("typist", ["central", "peripheral"])
def test_wrong_passkey_is_confirm_value_failed(typist: str) -> None:
    central_io = IO.KEYBOARD_ONLY if typist == "central" else IO.DISPLAY_ONLY
    peripheral_io = IO.DISPLAY_ONLY if typist == "central" else IO.KEYBOARD_ONLY
    rig = sc_rig(SmpConfig(io_capability=central_io, mitm=True), SmpConfig(io_capability=peripheral_io))
    rig.users[typist].passkey_offset = 1 << 5  # only bit 5 differs: found in round 6
    rig.pair()
    failures = rig.failures()
    assert len(failures) == 1 and failures[0][1] == PairingFailedReason.CONFIRM_VALUE_FAILED
    assert rig.result("central").reason == rig.result("peripheral").reason == PairingFailedReason.CONFIRM_VALUE_FAILED
    assert rig.codes("central").count(SmpCode.PAIRING_CONFIRM) <= 6
    assert rig.encrypted_with is None


def test_oob_both_directions() -> None:
    rig = sc_rig()
    c_data, p_data = rig.central.local_sc_oob_data(), rig.peripheral.local_sc_oob_data()
    assert c_data.c == f4(KEYS_C.x, KEYS_C.x, c_data.r, b"\x00")
    rig.central.set_oob_data(peer_sc=p_data)
    rig.peripheral.set_oob_data(peer_sc=c_data)
    rig.pair()
    assert rig.result("central").model is AssociationModel.OOB and rig.result("central").authenticated
    assert SmpCode.PAIRING_CONFIRM not in rig.codes()
    check_sc_keys(rig, ra=c_data.r, rb=p_data.r)


@pytest.mark.parametrize("holder", ["central", "peripheral"])
def test_oob_one_direction(holder: str) -> None:
    """Only ``holder`` received the other's OOB data: the other device's r counts, the
    holder's own r is 0 (2.3.5.6.4)."""
    rig = sc_rig()
    c_data, p_data = rig.central.local_sc_oob_data(), rig.peripheral.local_sc_oob_data()
    if holder == "central":
        rig.central.set_oob_data(peer_sc=p_data)
    else:
        rig.peripheral.set_oob_data(peer_sc=c_data)
    rig.pair()
    assert rig.result("central").model is AssociationModel.OOB
    req = decode_smp(rig.wire[0][1])
    assert isinstance(req, SMP_Pairing_Request)
    assert (req.oob_data_flag is OobDataFlag.PRESENT) == (holder == "central")
    if holder == "central":
        check_sc_keys(rig, ra=bytes(16), rb=p_data.r)
    else:
        check_sc_keys(rig, ra=c_data.r, rb=bytes(16))


def test_oob_data_that_does_not_match_the_key_is_confirm_value_failed() -> None:
    rig = sc_rig()
    genuine = rig.peripheral.local_sc_oob_data()
    forged = ScOobData(PERIPHERAL_ADDRESS, bytes(range(16)), genuine.c)  # r altered
    rig.central.set_oob_data(peer_sc=forged)
    rig.pair()
    assert rig.failures() == [("central", PairingFailedReason.CONFIRM_VALUE_FAILED)]


def test_oob_flag_from_the_peer_without_local_data_is_oob_not_available() -> None:
    rig = sc_rig()
    # The central claims the peripheral's data, but the peripheral never generated any.
    rig.central.set_oob_data(peer_sc=ScOobData(PERIPHERAL_ADDRESS, bytes(16), bytes(16)))
    rig.peripheral.set_oob_data()
    rig.pair()
    assert rig.failures() == [("peripheral", PairingFailedReason.OOB_NOT_AVAILABLE)]


# -- public key validation ----------------------------------------------------------------


def test_debug_keys_refused_unless_allowed() -> None:
    rig = SmpRig(SmpConfig(use_debug_keys=True), SmpConfig(), peripheral_keys=KEYS_P).pair()
    pka = last(rig, "central", SmpCode.PAIRING_PUBLIC_KEY)
    assert isinstance(pka, SMP_Pairing_Public_Key)
    assert (pka.public_key_x, pka.public_key_y) == DEBUG_PUBLIC_KEY
    assert rig.failures() == [("peripheral", PairingFailedReason.AUTHENTICATION_REQUIREMENTS)]
    assert rig.codes("peripheral").count(SmpCode.PAIRING_PUBLIC_KEY) == 0


def test_debug_keys_accepted_when_allowed() -> None:
    rig = SmpRig(SmpConfig(use_debug_keys=True), SmpConfig(allow_debug_keys=True), peripheral_keys=KEYS_P).pair()
    assert rig.result("central").success and rig.result("peripheral").success
    both = SmpRig(SmpConfig(use_debug_keys=True, allow_debug_keys=True),
                  SmpConfig(use_debug_keys=True, allow_debug_keys=True)).pair()
    assert both.result("peripheral").success


def peripheral_after_request(config: SmpConfig | None = None) -> tuple[SmpSession, list[bytes]]:
    sent: list[bytes] = []
    session = SmpSession(
        1, "peripheral", sent.append, config or SmpConfig(), random.Random(4),
        local_address=PERIPHERAL_ADDRESS, peer_address=CENTRAL_ADDRESS, key_pair=KEYS_P,
    )
    request = SMP_Pairing_Request(IO.NO_INPUT_NO_OUTPUT, OobDataFlag.NOT_PRESENT,
                                  AuthReq.BONDING | AuthReq.SC, 16, KeyDistribution(0), KeyDistribution(0))
    session.receive(request.to_bytes(), 0)
    assert sent[-1][0] == SmpCode.PAIRING_RESPONSE
    return session, sent


_P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF


@pytest.mark.parametrize(
    "x,y",
    [
        (KEYS_C.x, bytes(32)),  # fixed-coordinate attack: Y forced to 0
        (KEYS_C.x, (int.from_bytes(KEYS_C.y, "big") ^ 1).to_bytes(32, "big")),  # off the curve
        (bytes(32), bytes(32)),  # the point at infinity encoding
        (_P.to_bytes(32, "big"), KEYS_C.y),  # coordinate out of the field
    ],
)
def test_invalid_public_key_fails_with_dhkey_check_failed(x: bytes, y: bytes) -> None:
    session, sent = peripheral_after_request()
    session.receive(SMP_Pairing_Public_Key(x, y).to_bytes(), 1)
    assert sent[-1] == bytes([SmpCode.PAIRING_FAILED, PairingFailedReason.DHKEY_CHECK_FAILED])
    assert all(pdu[0] != SmpCode.PAIRING_PUBLIC_KEY for pdu in sent)
    assert session.state is SmpState.IDLE


def test_invalid_public_key_from_the_peripheral() -> None:
    sent: list[bytes] = []
    central = SmpSession(
        1, "central", sent.append, SmpConfig(), random.Random(5),
        local_address=CENTRAL_ADDRESS, peer_address=PERIPHERAL_ADDRESS, key_pair=KEYS_C,
    )
    central.pair(0)
    response = SMP_Pairing_Response(IO.NO_INPUT_NO_OUTPUT, OobDataFlag.NOT_PRESENT,
                                    AuthReq.BONDING | AuthReq.SC, 16, KeyDistribution(0), KeyDistribution(0))
    central.receive(response.to_bytes(), 1)
    assert sent[-1][0] == SmpCode.PAIRING_PUBLIC_KEY
    central.receive(SMP_Pairing_Public_Key(KEYS_P.x, bytes(32)).to_bytes(), 2)
    assert sent[-1] == bytes([SmpCode.PAIRING_FAILED, PairingFailedReason.DHKEY_CHECK_FAILED])


def test_reflected_public_key_is_refused() -> None:
    session, sent = peripheral_after_request()
    session.receive(SMP_Pairing_Public_Key(KEYS_P.x, KEYS_P.y).to_bytes(), 1)
    assert sent[-1] == bytes([SmpCode.PAIRING_FAILED, PairingFailedReason.AUTHENTICATION_REQUIREMENTS])


def test_wrong_dhkey_check_is_dhkey_check_failed() -> None:
    session, sent = peripheral_after_request()
    session.receive(SMP_Pairing_Public_Key(KEYS_C.x, KEYS_C.y).to_bytes(), 1)
    assert [p[0] for p in sent[-2:]] == [SmpCode.PAIRING_PUBLIC_KEY, SmpCode.PAIRING_CONFIRM]
    session.receive(SMP_Pairing_Random(bytes(16)).to_bytes(), 2)
    assert sent[-1][0] == SmpCode.PAIRING_RANDOM
    session.receive(SMP_Pairing_DHKey_Check(bytes(16)).to_bytes(), 3)
    assert sent[-1] == bytes([SmpCode.PAIRING_FAILED, PairingFailedReason.DHKEY_CHECK_FAILED])


# -- key size, reconnection ------------------------------------------------------------------


def test_short_sc_key_is_masked() -> None:
    rig = sc_rig(SmpConfig(), SmpConfig(max_key_size=9)).pair()
    ltk = check_sc_keys(rig)
    assert ltk[:7] == bytes(7) and rig.result("peripheral").key_size == 9


def test_reconnection_finds_the_sc_key_by_address() -> None:
    store_c, store_p = BondStore(), BondStore()
    sc_rig(central_bonds=store_c, peripheral_bonds=store_p).pair()
    rig = sc_rig(central_bonds=store_c, peripheral_bonds=store_p, seed=9)
    assert rig.central.encrypt(rig.now)
    rig.run()
    bond = store_p.get(CENTRAL_ADDRESS)
    assert bond is not None and bond.local_ltk is not None
    assert rig.encrypted_with == bond.local_ltk.key and rig.wire == []
    assert rig.peripheral.security.secure_connections and rig.peripheral.security.encrypted


def test_sc_ltk_request_with_ediv_rand_is_refused() -> None:
    store_p = BondStore()
    sc_rig(peripheral_bonds=store_p).pair()
    rig = sc_rig(peripheral_bonds=store_p, seed=10)
    assert rig.peripheral.on_ltk_request(1, 2, 0) is None
    assert rig.peripheral.on_ltk_request(0, 0, 0) is not None


def test_legacy_peer_gives_legacy_pairing() -> None:
    rig = sc_rig(SmpConfig(), SmpConfig(secure_connections=False)).pair()
    assert not rig.result("central").secure_connections
    assert SmpCode.PAIRING_PUBLIC_KEY not in rig.codes()
