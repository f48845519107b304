"""SmpSession behaviour common to both pairing kinds: the IO capability matrix, key
size negotiation, every state x input pair, Pairing Failed reasons, the SMP timeout,
repeated attempts, Security Request and API misuse (Vol 3 Part H 2.3, 3)."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from host.bonds import BondStore
from host.smp import SmpSession, SmpState
from host.smp_pdu import (
    AuthReq,
    IoCapability,
    KeyDistribution,
    KeypressNotificationType,
    OobDataFlag,
    PairingFailedReason,
    SMP_Central_Identification,
    SMP_Encryption_Information,
    SMP_Identity_Address_Information,
    SMP_Identity_Information,
    SMP_Pairing_Confirm,
    SMP_Pairing_DHKey_Check,
    SMP_Pairing_Failed,
    SMP_Pairing_Public_Key,
    SMP_Pairing_Random,
    SMP_Pairing_Request,
    SMP_Pairing_Response,
    SMP_Security_Request,
    SMP_Signing_Information,
    SmpCode,
    SmpPdu,
)
from host.smp_sc import ScKeyPair
from host.smp_types import (
    SMP_TIMEOUT_NS,
    AssociationModel,
    PairingAttemptGuard,
    PairingResult,
    SmpConfig,
    SmpDelegate,
    SmpLocalError,
)
from linklayer.address import Address
from tests.host.test_smp_rig import CENTRAL_ADDRESS, PERIPHERAL_ADDRESS, STEP_NS, SmpRig

IO = IoCapability
R = PairingFailedReason
KEYS_C = ScKeyPair.generate(random.Random("session central"))
KEYS_P = ScKeyPair.generate(random.Random("session peripheral"))
KEYS_X = ScKeyPair.generate(random.Random("a third device"))

# -- the IO capability matrix (Vol 3 Part H 2.3.5.1, Table 2.8) ------------------------------
# Rows: responder; columns: initiator; order DO, DYN, KO, NoIO, KD.
# JW just works, NC numeric comparison, I initiator types (responder displays),
# R responder types (initiator displays), B both type.
ORDER = [IO.DISPLAY_ONLY, IO.DISPLAY_YES_NO, IO.KEYBOARD_ONLY, IO.NO_INPUT_NO_OUTPUT, IO.KEYBOARD_DISPLAY]
LEGACY_TABLE = """
JW JW I  JW I
JW JW I  JW I
R  R  B  JW R
JW JW JW JW JW
R  R  I  JW R
"""
SC_TABLE = """
JW JW I  JW I
JW NC I  JW NC
R  R  B  JW R
JW JW JW JW JW
R  NC I  JW NC
"""


def _cells(table: str) -> dict[tuple[IoCapability, IoCapability], str]:
    rows = [line.split() for line in table.strip().splitlines()]
    return {(ORDER[c], ORDER[r]): rows[r][c] for r in range(5) for c in range(5)}


MATRIX_CASES = [
    (sc, init, resp, cell)
    for sc, table in ((False, LEGACY_TABLE), (True, SC_TABLE))
    for (init, resp), cell in _cells(table).items()
]


@pytest.mark.parametrize("sc,initiator_io,responder_io,cell", MATRIX_CASES)
def test_io_capability_matrix(sc: bool, initiator_io: IoCapability, responder_io: IoCapability, cell: str) -> None:
    rig = SmpRig(
        SmpConfig(io_capability=initiator_io, mitm=True, secure_connections=sc),
        SmpConfig(io_capability=responder_io, secure_connections=sc),
        central_keys=KEYS_C, peripheral_keys=KEYS_P,
    )
    if cell == "B":
        rig.users["central"].passkey = rig.users["peripheral"].passkey = 123456
    if cell == "JW":
        # MITM was asked for but cannot be had: the initiator refuses Just Works.
        rig.pair()
        assert rig.failures() == [("central", R.AUTHENTICATION_REQUIREMENTS)]
        rig = SmpRig(
            SmpConfig(io_capability=initiator_io, secure_connections=sc),
            SmpConfig(io_capability=responder_io, secure_connections=sc, mitm=True),
            central_keys=KEYS_C, peripheral_keys=KEYS_P,
        )
        rig.pair()
        assert rig.failures() == [("peripheral", R.AUTHENTICATION_REQUIREMENTS)]
        return
    rig.pair()
    model = {"NC": AssociationModel.NUMERIC_COMPARISON}.get(cell, AssociationModel.PASSKEY_ENTRY)
    for side in ("central", "peripheral"):
        result = rig.result(side)
        assert result.success and result.model is model and result.authenticated
        assert result.secure_connections == sc
    typed = {"I": {"central"}, "R": {"peripheral"}, "B": {"central", "peripheral"}, "NC": set()}[cell]
    for side in ("central", "peripheral"):
        assert rig.delegate(side).passkey_asked == (side in typed)
        shows = cell in ("I", "R") and side not in typed
        assert (rig.delegate(side).displayed is not None) == shows
        assert (rig.delegate(side).compared is not None) == (cell == "NC")


@pytest.mark.parametrize("sc", [False, True])
def test_without_mitm_every_io_pair_is_just_works(sc: bool) -> None:
    for io_c in ORDER:
        for io_p in ORDER:
            rig = SmpRig(SmpConfig(io_capability=io_c, secure_connections=sc),
                         SmpConfig(io_capability=io_p, secure_connections=sc),
                         central_keys=KEYS_C, peripheral_keys=KEYS_P).pair()
            assert rig.result("central").model is AssociationModel.JUST_WORKS
            assert not rig.result("peripheral").authenticated


# -- every state x input pair ---------------------------------------------------------------


def _sample(code: int) -> SmpPdu:
    features = (IO.NO_INPUT_NO_OUTPUT, OobDataFlag.NOT_PRESENT, AuthReq.BONDING | AuthReq.SC, 16,
                KeyDistribution(0), KeyDistribution(0))
    return {
        SmpCode.PAIRING_REQUEST: SMP_Pairing_Request(*features),
        SmpCode.PAIRING_RESPONSE: SMP_Pairing_Response(*features),
        SmpCode.PAIRING_CONFIRM: SMP_Pairing_Confirm(bytes(range(16))),
        SmpCode.PAIRING_RANDOM: SMP_Pairing_Random(bytes(range(16))),
        SmpCode.ENCRYPTION_INFORMATION: SMP_Encryption_Information(bytes(range(16))),
        SmpCode.CENTRAL_IDENTIFICATION: SMP_Central_Identification(1, 2),
        SmpCode.IDENTITY_INFORMATION: SMP_Identity_Information(bytes(range(16))),
        SmpCode.IDENTITY_ADDRESS_INFORMATION: SMP_Identity_Address_Information(Address.parse("00:11:22:33:44:55")),
        SmpCode.SIGNING_INFORMATION: SMP_Signing_Information(bytes(range(16))),
        SmpCode.SECURITY_REQUEST: SMP_Security_Request(AuthReq.BONDING),
        SmpCode.PAIRING_PUBLIC_KEY: SMP_Pairing_Public_Key(KEYS_X.x, KEYS_X.y),
        SmpCode.PAIRING_DHKEY_CHECK: SMP_Pairing_DHKey_Check(bytes(range(16))),
    }[SmpCode(code)]


# Pairing Failed and Keypress Notification have their own tests.
ORACLE_CODES = [c for c in SmpCode if c not in (SmpCode.PAIRING_FAILED, SmpCode.PAIRING_KEYPRESS_NOTIFICATION)]
FORBIDDEN = {"central": {SmpCode.PAIRING_REQUEST}, "peripheral": {SmpCode.PAIRING_RESPONSE, SmpCode.SECURITY_REQUEST}}
IDLE_ACCEPTS = {"central": {SmpCode.SECURITY_REQUEST}, "peripheral": {SmpCode.PAIRING_REQUEST}}


def _flows() -> dict[str, tuple[Callable[[], SmpRig], int]]:
    def make(c: SmpConfig, p: SmpConfig, oob: bool = False) -> Callable[[], SmpRig]:
        def build() -> SmpRig:
            rig = SmpRig(c, p, central_keys=KEYS_C, peripheral_keys=KEYS_P)
            if oob:
                rig.central.set_oob_data(peer_sc=rig.peripheral.local_sc_oob_data())
                rig.peripheral.set_oob_data(peer_sc=rig.central.local_sc_oob_data())
            rig.central.pair(rig.now)
            return rig
        return build

    legacy = dict(secure_connections=False)
    return {
        "legacy-jw": (make(SmpConfig(**legacy), SmpConfig(**legacy)), 100),  # type: ignore[arg-type]
        "legacy-pk-central-types": (make(SmpConfig(io_capability=IO.KEYBOARD_ONLY, mitm=True, **legacy),  # type: ignore[arg-type]
                                         SmpConfig(io_capability=IO.DISPLAY_ONLY, **legacy)), 100),  # type: ignore[arg-type]
        "legacy-pk-peripheral-types": (make(SmpConfig(io_capability=IO.DISPLAY_ONLY, mitm=True, **legacy),  # type: ignore[arg-type]
                                            SmpConfig(io_capability=IO.KEYBOARD_ONLY, **legacy)), 100),  # type: ignore[arg-type]
        "sc-jw": (make(SmpConfig(), SmpConfig()), 100),
        "sc-nc": (make(SmpConfig(io_capability=IO.DISPLAY_YES_NO, mitm=True), SmpConfig(io_capability=IO.DISPLAY_YES_NO)), 100),
        "sc-oob": (make(SmpConfig(), SmpConfig(), oob=True), 100),
        "sc-pk": (make(SmpConfig(io_capability=IO.DISPLAY_ONLY, mitm=True), SmpConfig(io_capability=IO.KEYBOARD_ONLY)), 14),
    }


FLOWS = _flows()


def _transcript(build: Callable[[], SmpRig]) -> list[tuple[str, ...]]:
    rig = build()
    steps: list[tuple[str, ...]] = []
    while (step := rig.step()) is not None:
        steps.append(step)
    assert rig.result("central").success and rig.result("peripheral").success
    return steps


def _next_expected(steps: list[tuple[str, ...]], k: int, side: str) -> int | None:
    """The PDU ``side`` legitimately receives next: the next one delivered to it,
    unless the link must be encrypted or its user must act first."""
    for step in steps[k:]:
        if step == ("encrypt",) or step == ("user", side):
            return None
        if step[0] == "deliver" and step[1] == side:
            return int(step[2])
    return None


STATE_CASES = [
    (flow, k, side)
    for flow, (build, limit) in FLOWS.items()
    for k in range(min(len(_transcript(build)) + 1, limit))
    for side in ("central", "peripheral")
]


@pytest.mark.parametrize("flow,k,side", STATE_CASES)
def test_every_state_and_input(flow: str, k: int, side: str) -> None:
    """At every point of real pairings, inject each SMP command into one side: the one
    it legitimately expects is processed (whatever its content leads to), a command its
    role never receives is Command Not Supported (0x07), any other ends the pairing
    with Unspecified Reason (0x08); an idle side drops out-of-place commands."""
    build, _ = FLOWS[flow]
    steps = _transcript(build)
    expected = _next_expected(steps, k, side)
    for code in ORACLE_CODES:
        rig = build()
        for _ in range(k):
            rig.step()
        session = rig.session(side)
        idle = not session.pairing_in_progress
        before = len(rig.wire)
        session.receive(_sample(code).to_bytes(), rig.now + 1)
        answers = [pdu for s, pdu in rig.wire[before:] if s == side]
        failed = [pdu[1] for pdu in answers if pdu[0] == SmpCode.PAIRING_FAILED]
        where = f"{flow} step {k}: {SmpCode(code).name} -> {side} ({session.state.name})"
        if code in FORBIDDEN[side]:
            assert failed == [R.COMMAND_NOT_SUPPORTED], where
        elif code == SmpCode.SECURITY_REQUEST or (idle and code in IDLE_ACCEPTS[side]) or (
            not idle and code == expected
        ):
            assert R.UNSPECIFIED_REASON not in failed and R.COMMAND_NOT_SUPPORTED not in failed, where
        elif idle:
            assert answers == [], where
        else:
            assert failed == [R.UNSPECIFIED_REASON], where
            assert session.state is SmpState.IDLE and not session.pairing_in_progress, where
            assert rig.delegate(side).results[-1].reason == R.UNSPECIFIED_REASON, where


def test_pairing_failed_ends_the_pairing_in_any_state_without_an_answer() -> None:
    build, _ = FLOWS["sc-nc"]
    steps = _transcript(build)
    for k in range(len(steps)):
        rig = build()
        for _ in range(k):
            rig.step()
        for side in ("central", "peripheral"):
            session = rig.session(side)
            active = session.pairing_in_progress
            before = len(rig.wire)
            session.receive(SMP_Pairing_Failed(R.UNSPECIFIED_REASON).to_bytes(), rig.now)
            assert rig.wire[before:] == []
            assert not session.pairing_in_progress
            if active:
                last = rig.delegate(side).results[-1]
                assert last.reason == R.UNSPECIFIED_REASON and last.remote


# -- Pairing Failed reasons from Phase 1 ------------------------------------------------------


class Results(SmpDelegate):
    """Keeps the pairing results."""

    def __init__(self) -> None:
        self.results: list[PairingResult] = []

    def on_pairing_complete(self, handle: int, result: PairingResult) -> None:
        self.results.append(result)


def _peripheral(config: SmpConfig | None = None, **kw: object) -> tuple[SmpSession, list[bytes]]:
    sent: list[bytes] = []
    session = SmpSession(3, "peripheral", sent.append, config or SmpConfig(), random.Random(1),
                         local_address=PERIPHERAL_ADDRESS, peer_address=CENTRAL_ADDRESS,
                         key_pair=KEYS_P, **kw)  # type: ignore[arg-type]
    return session, sent


def _central(config: SmpConfig | None = None, **kw: object) -> tuple[SmpSession, list[bytes]]:
    sent: list[bytes] = []
    session = SmpSession(4, "central", sent.append, config or SmpConfig(), random.Random(2),
                         local_address=CENTRAL_ADDRESS, peer_address=PERIPHERAL_ADDRESS,
                         key_pair=KEYS_C, **kw)  # type: ignore[arg-type]
    return session, sent


def _request(max_key: int = 16, auth: AuthReq = AuthReq.BONDING | AuthReq.SC) -> bytes:
    return SMP_Pairing_Request(IO.NO_INPUT_NO_OUTPUT, OobDataFlag.NOT_PRESENT, auth, max_key,
                               KeyDistribution(7), KeyDistribution(7)).to_bytes()


def _failed(reason: int) -> bytes:
    return bytes([SmpCode.PAIRING_FAILED, reason])


def test_key_size_negotiated_to_the_smaller_maximum() -> None:
    rig = SmpRig(SmpConfig(max_key_size=16), SmpConfig(max_key_size=12),
                 central_keys=KEYS_C, peripheral_keys=KEYS_P).pair()
    assert rig.result("central").key_size == rig.result("peripheral").key_size == 12
    assert rig.central_side.encryptions[0][3] == 12


def test_key_size_below_the_central_minimum() -> None:
    rig = SmpRig(SmpConfig(min_key_size=13), SmpConfig(max_key_size=12),
                 central_keys=KEYS_C, peripheral_keys=KEYS_P).pair()
    assert rig.failures() == [("central", R.ENCRYPTION_KEY_SIZE)]
    assert rig.result("peripheral").reason == R.ENCRYPTION_KEY_SIZE and rig.result("peripheral").remote
    assert rig.encrypted_with is None


def test_key_size_below_the_peripheral_minimum() -> None:
    rig = SmpRig(SmpConfig(max_key_size=10), SmpConfig(min_key_size=12),
                 central_keys=KEYS_C, peripheral_keys=KEYS_P).pair()
    assert rig.codes() == [SmpCode.PAIRING_REQUEST, SmpCode.PAIRING_FAILED]
    assert rig.failures() == [("peripheral", R.ENCRYPTION_KEY_SIZE)]
    assert rig.result("central").reason == R.ENCRYPTION_KEY_SIZE


@pytest.mark.parametrize("size", [0, 6, 17, 255])
def test_key_size_out_of_range_is_invalid_parameters(size: int) -> None:
    peripheral, sent = _peripheral()
    peripheral.receive(_request(max_key=size), 0)
    assert sent == [_failed(R.INVALID_PARAMETERS)]
    central, sent = _central()
    central.pair(0)
    central.receive(SMP_Pairing_Response(IO.NO_INPUT_NO_OUTPUT, OobDataFlag.NOT_PRESENT, AuthReq.BONDING, size,
                                         KeyDistribution(0), KeyDistribution(0)).to_bytes(), 1)
    assert sent[-1] == _failed(R.INVALID_PARAMETERS)


def test_response_distributing_keys_not_offered_is_invalid_parameters() -> None:
    central, sent = _central(SmpConfig(local_keys=KeyDistribution.ENC_KEY, peer_keys=KeyDistribution.ENC_KEY))
    central.pair(0)
    central.receive(SMP_Pairing_Response(IO.NO_INPUT_NO_OUTPUT, OobDataFlag.NOT_PRESENT, AuthReq.BONDING, 16,
                                         KeyDistribution.ENC_KEY, KeyDistribution.ID_KEY).to_bytes(), 1)
    assert sent[-1] == _failed(R.INVALID_PARAMETERS)


def test_not_pairable_is_pairing_not_supported() -> None:
    peripheral, sent = _peripheral(SmpConfig(pairable=False))
    peripheral.receive(_request(), 0)
    assert sent == [_failed(R.PAIRING_NOT_SUPPORTED)]


def test_secure_connections_only_mode() -> None:
    rig = SmpRig(SmpConfig(secure_connections=False, io_capability=IO.KEYBOARD_DISPLAY),
                 SmpConfig(sc_only=True, io_capability=IO.DISPLAY_ONLY)).pair()
    assert rig.failures() == [("peripheral", R.AUTHENTICATION_REQUIREMENTS)]
    rig = SmpRig(SmpConfig(max_key_size=15, io_capability=IO.KEYBOARD_DISPLAY),
                 SmpConfig(sc_only=True, io_capability=IO.DISPLAY_ONLY),
                 central_keys=KEYS_C, peripheral_keys=KEYS_P).pair()
    assert rig.failures() == [("peripheral", R.ENCRYPTION_KEY_SIZE)]
    rig = SmpRig(SmpConfig(io_capability=IO.KEYBOARD_DISPLAY, mitm=True),
                 SmpConfig(sc_only=True, io_capability=IO.DISPLAY_ONLY),
                 central_keys=KEYS_C, peripheral_keys=KEYS_P).pair()
    assert rig.result("peripheral").success and rig.result("peripheral").secure_connections


def test_commands_the_role_never_receives_are_command_not_supported() -> None:
    central, sent = _central()
    central.receive(_request(), 0)
    assert sent == [_failed(R.COMMAND_NOT_SUPPORTED)]
    peripheral, sent = _peripheral()
    peripheral.receive(SMP_Security_Request(AuthReq.BONDING).to_bytes(), 0)
    peripheral.receive(bytes.fromhex("02030000100000"), 0)
    assert sent == [_failed(R.COMMAND_NOT_SUPPORTED)] * 2


@pytest.mark.parametrize("code", [0x00, 0x0F, 0x3F, 0xFF])
def test_unknown_command_is_command_not_supported(code: int) -> None:
    peripheral, sent = _peripheral()
    peripheral.receive(bytes([code, 1, 2, 3]), 0)
    assert sent == [_failed(R.COMMAND_NOT_SUPPORTED)]


def test_malformed_command_is_invalid_parameters_and_ends_the_pairing() -> None:
    recorder = Results()
    peripheral, sent = _peripheral(delegate=recorder)
    results = recorder.results
    peripheral.receive(_request(), 0)
    assert sent[-1][0] == SmpCode.PAIRING_RESPONSE
    peripheral.receive(bytes([SmpCode.PAIRING_PUBLIC_KEY]) + bytes(63), 1)  # one octet short
    assert sent[-1] == _failed(R.INVALID_PARAMETERS)
    assert peripheral.state is SmpState.IDLE and len(results) == 1


def test_stray_pairing_failed_when_idle_is_ignored() -> None:
    peripheral, sent = _peripheral()
    peripheral.receive(_failed(R.UNSPECIFIED_REASON), 0)
    assert sent == [] and peripheral.state is SmpState.IDLE


def test_key_rejected_for_an_identity_address_that_is_not_one() -> None:
    rpa = Address.parse("40:11:22:33:44:55", random=True)  # resolvable private
    rig = SmpRig(SmpConfig(), SmpConfig(identity_address=rpa), central_keys=KEYS_C, peripheral_keys=KEYS_P).pair()
    assert rig.failures() == [("central", R.KEY_REJECTED)]
    assert rig.result("peripheral").reason == R.KEY_REJECTED


def test_encryption_failure_during_pairing_fails_it() -> None:
    rig = SmpRig(SmpConfig(), SmpConfig(), central_keys=KEYS_C, peripheral_keys=KEYS_P)
    rig.central.pair(rig.now)
    while rig.central.state is not SmpState.WAIT_ENCRYPTION:
        assert rig.step() is not None
    rig.pending_encryption = None
    rig.central.on_encryption_change(0x3D, False, rig.now)  # Connection Terminated due to MIC Failure
    rig.run()
    assert rig.failures() == [("central", R.UNSPECIFIED_REASON)]
    assert not rig.central.security.encrypted
    assert rig.result("peripheral").reason == R.UNSPECIFIED_REASON


def test_keypress_notification_outside_phase2_is_unexpected() -> None:
    rig = SmpRig(SmpConfig(), SmpConfig(), central_keys=KEYS_C, peripheral_keys=KEYS_P)
    rig.central.pair(rig.now)
    rig.central.receive(bytes([SmpCode.PAIRING_KEYPRESS_NOTIFICATION, 0]), rig.now)
    assert rig.failures() == [("central", R.UNSPECIFIED_REASON)]


# -- the Security Manager Timer (3.4) ----------------------------------------------------------


def test_timeout_after_30_seconds_then_no_more_smp() -> None:
    rig = SmpRig(SmpConfig(), SmpConfig(), central_keys=KEYS_C, peripheral_keys=KEYS_P)
    rig.now = 1_000
    rig.central.pair(rig.now)
    assert rig.central.get_timer() == 1_000 + SMP_TIMEOUT_NS
    rig.queue.clear()  # the Pairing Request is lost: the peer never answers
    rig.advance(SMP_TIMEOUT_NS - 1)
    assert rig.central.state is SmpState.WAIT_PAIRING_RESPONSE and rig.central_side.results == []
    rig.advance(1)
    result = rig.result("central")
    assert not result.success and result.timed_out and result.reason is None
    assert rig.central.state.name == "TIMED_OUT" and rig.central.get_timer() is None
    sent = len(rig.wire)
    rig.central.receive(bytes.fromhex("02030000100000"), rig.now)
    rig.central.receive(_request(), rig.now)
    rig.central.receive(bytes([0x77]), rig.now)
    assert len(rig.wire) == sent  # nothing more on the SMP channel
    with pytest.raises(SmpLocalError):
        rig.central.pair(rig.now)
    with pytest.raises(SmpLocalError):
        rig.central.send_keypress(KeypressNotificationType.PASSKEY_CLEARED, rig.now)


def test_timer_restarts_with_every_pdu_sent_and_times_out_waiting_for_the_user() -> None:
    rig = SmpRig(SmpConfig(io_capability=IO.KEYBOARD_ONLY, mitm=True), SmpConfig(io_capability=IO.DISPLAY_ONLY),
                 central_keys=KEYS_C, peripheral_keys=KEYS_P)
    rig.users["central"].respond = False
    rig.pair()
    # Central: Pairing Request at 0, Public Key at 2 steps; peripheral: Pairing Response
    # at 1 step, Public Key at 3 steps. Each timer runs from its last PDU sent.
    assert rig.central.get_timer() == 2 * STEP_NS + SMP_TIMEOUT_NS
    assert rig.peripheral.get_timer() == 3 * STEP_NS + SMP_TIMEOUT_NS
    rig.advance(SMP_TIMEOUT_NS + 2 * STEP_NS - rig.now)
    assert rig.result("central").timed_out and rig.peripheral_side.results == []
    assert rig.central.state is SmpState.TIMED_OUT
    rig.advance(STEP_NS)
    assert rig.result("peripheral").timed_out
    rig.users["central"].respond = True
    with pytest.raises(SmpLocalError):
        rig.central.passkey_reply(1, rig.now)
    assert rig.failures() == []


def test_security_request_starts_the_timer() -> None:
    recorder = Results()
    peripheral, sent = _peripheral(delegate=recorder)
    results = recorder.results
    peripheral.request_security(5)
    assert sent == [bytes([SmpCode.SECURITY_REQUEST, int(SmpConfig().auth_req)])]
    assert peripheral.get_timer() == 5 + SMP_TIMEOUT_NS
    peripheral.handle_timer(5 + SMP_TIMEOUT_NS)
    assert peripheral.state is SmpState.TIMED_OUT and len(results) == 1
    with pytest.raises(SmpLocalError):
        peripheral.request_security(6 + SMP_TIMEOUT_NS)


def test_handle_timer_early_does_nothing() -> None:
    central, _ = _central()
    central.handle_timer(10)
    central.pair(0)
    central.handle_timer(SMP_TIMEOUT_NS - 1)
    assert central.state is SmpState.WAIT_PAIRING_RESPONSE


def test_configurable_timeout() -> None:
    central, _ = _central(SmpConfig(timeout_ns=5))
    central.pair(0)
    assert central.get_timer() == 5


# -- repeated attempts (2.3.6) ---------------------------------------------------------------


def test_attempt_guard_backs_off_exponentially() -> None:
    guard = PairingAttemptGuard(base_interval_ns=100, max_interval_ns=1_000)
    peer = CENTRAL_ADDRESS
    assert guard.allowed(peer, 0) and guard.blocked_until(peer) is None
    intervals = []
    for now in (0, 1_000, 2_000, 3_000, 4_000, 5_000):
        guard.record_failure(peer, now)
        intervals.append(guard.blocked_until(peer) - now)  # type: ignore[operator]
    assert intervals == [100, 200, 400, 800, 1_000, 1_000]
    assert not guard.allowed(peer, 5_999) and guard.allowed(peer, 6_000)
    assert guard.allowed(PERIPHERAL_ADDRESS, 5_000)
    guard.record_success(peer)
    assert guard.allowed(peer, 5_000) and guard.blocked_until(peer) is None
    with pytest.raises(SmpLocalError):
        PairingAttemptGuard(0, 10)


def test_repeated_attempts_after_a_wrong_passkey() -> None:
    guard = PairingAttemptGuard(base_interval_ns=2_000_000_000)
    configs = (SmpConfig(io_capability=IO.KEYBOARD_ONLY, mitm=True), SmpConfig(io_capability=IO.DISPLAY_ONLY))
    rig = SmpRig(*configs, peripheral_guard=guard, central_keys=KEYS_C, peripheral_keys=KEYS_P)
    rig.users["central"].passkey_offset = 1
    rig.pair()
    assert rig.failures() == [("peripheral", R.CONFIRM_VALUE_FAILED)]
    failed_at = _last_failure_time(rig)
    assert guard.blocked_until(CENTRAL_ADDRESS) == failed_at + 2_000_000_000
    # Retry on the same link at once: refused.
    rig.users["central"].passkey_offset = 0
    rig.pair()
    assert rig.failures()[-1] == ("peripheral", R.REPEATED_ATTEMPTS)
    assert rig.central_side.results[-1].reason == R.REPEATED_ATTEMPTS
    # After the waiting interval the right passkey pairs, which clears the record.
    rig.advance(2_000_000_000)
    rig.pair()
    assert rig.central_side.results[-1].success and rig.peripheral_side.results[-1].success
    assert guard.blocked_until(CENTRAL_ADDRESS) is None


def test_second_failure_doubles_the_interval() -> None:
    guard = PairingAttemptGuard(base_interval_ns=1_000)
    rig = SmpRig(SmpConfig(io_capability=IO.KEYBOARD_ONLY, mitm=True), SmpConfig(io_capability=IO.DISPLAY_ONLY),
                 peripheral_guard=guard, central_keys=KEYS_C, peripheral_keys=KEYS_P)
    rig.users["central"].passkey_offset = 1
    rig.pair()
    rig.advance(1_000)
    rig.pair()
    assert [r for _, r in rig.failures()] == [R.CONFIRM_VALUE_FAILED, R.CONFIRM_VALUE_FAILED]
    assert guard.blocked_until(CENTRAL_ADDRESS) == _last_failure_time(rig) + 2_000


def _last_failure_time(rig: SmpRig) -> int:
    return max(t for t, side, event, detail in rig.log if event == "complete" and side == "peripheral")


def test_central_refuses_security_request_and_pairing_while_blocked() -> None:
    guard = PairingAttemptGuard()
    guard.record_failure(PERIPHERAL_ADDRESS, 0)
    recorder = Results()
    central, sent = _central(guard=guard, delegate=recorder)
    results = recorder.results
    central.receive(SMP_Security_Request(AuthReq.BONDING).to_bytes(), 1)
    assert sent == [_failed(R.REPEATED_ATTEMPTS)]
    central.pair(2)
    assert sent == [_failed(R.REPEATED_ATTEMPTS)]  # nothing more sent
    assert len(results) == 1 and results[0].reason == R.REPEATED_ATTEMPTS


# -- Security Request (3.6.7) -------------------------------------------------------------------


def test_security_request_makes_the_central_pair() -> None:
    rig = SmpRig(SmpConfig(), SmpConfig(), central_keys=KEYS_C, peripheral_keys=KEYS_P)
    rig.peripheral.request_security(rig.now)
    rig.run()
    assert rig.codes()[:2] == [SmpCode.SECURITY_REQUEST, SmpCode.PAIRING_REQUEST]
    assert rig.result("central").success and rig.result("peripheral").success
    assert ("security_request" in [e for _, s, e, _ in rig.log if s == "central"])


def test_security_request_with_a_bond_encrypts_without_pairing() -> None:
    store_c, store_p = BondStore(), BondStore()
    SmpRig(SmpConfig(), SmpConfig(), central_bonds=store_c, peripheral_bonds=store_p,
           central_keys=KEYS_C, peripheral_keys=KEYS_P).pair()
    rig = SmpRig(SmpConfig(), SmpConfig(), central_bonds=store_c, peripheral_bonds=store_p,
                 central_keys=KEYS_C, peripheral_keys=KEYS_P, seed=4)
    rig.peripheral.request_security(rig.now)
    rig.run()
    assert rig.codes() == [SmpCode.SECURITY_REQUEST]
    result = rig.result("peripheral")
    assert result.success and result.reused_keys and result.bonded
    assert rig.peripheral.get_timer() is None
    assert rig.central_side.results == []


def test_security_request_asking_mitm_repairs_an_unauthenticated_bond() -> None:
    store_c, store_p = BondStore(), BondStore()
    SmpRig(SmpConfig(), SmpConfig(), central_bonds=store_c, peripheral_bonds=store_p,
           central_keys=KEYS_C, peripheral_keys=KEYS_P).pair()
    rig = SmpRig(SmpConfig(io_capability=IO.DISPLAY_YES_NO), SmpConfig(io_capability=IO.DISPLAY_YES_NO, mitm=True),
                 central_bonds=store_c, peripheral_bonds=store_p, central_keys=KEYS_C, peripheral_keys=KEYS_P)
    rig.peripheral.request_security(rig.now)
    rig.run()
    assert rig.codes()[:2] == [SmpCode.SECURITY_REQUEST, SmpCode.PAIRING_REQUEST]
    assert rig.result("peripheral").authenticated
    bond = store_c.get(PERIPHERAL_ADDRESS)
    assert bond is not None and bond.peer_ltk is not None and bond.peer_ltk.authenticated


def test_security_request_falls_back_to_pairing_when_the_peripheral_lost_the_bond() -> None:
    store_c = BondStore()
    SmpRig(SmpConfig(), SmpConfig(), central_bonds=store_c, central_keys=KEYS_C, peripheral_keys=KEYS_P).pair()
    rig = SmpRig(SmpConfig(), SmpConfig(), central_bonds=store_c, peripheral_bonds=BondStore(),
                 central_keys=KEYS_C, peripheral_keys=KEYS_P)
    rig.peripheral.request_security(rig.now)
    rig.run()
    assert rig.codes()[:2] == [SmpCode.SECURITY_REQUEST, SmpCode.PAIRING_REQUEST]
    assert rig.result("central").success and rig.result("peripheral").success


def test_security_request_ignored_when_configured() -> None:
    central, sent = _central(SmpConfig(respond_to_security_request=False))
    central.receive(SMP_Security_Request(AuthReq.BONDING).to_bytes(), 0)
    assert sent == [] and central.state is SmpState.IDLE


def test_security_request_refused_by_the_central() -> None:
    recorder = Results()
    peripheral, sent = _peripheral(delegate=recorder)
    results = recorder.results
    peripheral.request_security(0)
    peripheral.receive(_failed(R.PAIRING_NOT_SUPPORTED), 1)
    assert len(results) == 1 and results[0].reason == R.PAIRING_NOT_SUPPORTED
    assert peripheral.get_timer() is None


# -- API misuse and configuration -------------------------------------------------------------


def test_local_errors() -> None:
    peripheral, _ = _peripheral()
    central, _ = _central()
    with pytest.raises(SmpLocalError):
        peripheral.pair(0)
    with pytest.raises(SmpLocalError):
        central.request_security(0)
    with pytest.raises(SmpLocalError):
        peripheral.encrypt(0)
    with pytest.raises(SmpLocalError):
        central.passkey_reply(123, 0)
    with pytest.raises(SmpLocalError):
        central.numeric_comparison_reply(True, 0)
    with pytest.raises(SmpLocalError):
        central.set_oob_data(legacy_tk=b"short")
    assert not central.encrypt(0)  # no bond store
    central.pair(0)
    with pytest.raises(SmpLocalError):
        central.pair(1)
    with pytest.raises(SmpLocalError):
        central.encrypt(1)
    with pytest.raises(SmpLocalError):
        SmpSession(1, "observer", lambda b: None, SmpConfig(), random.Random(),  # type: ignore[arg-type]
                   local_address=CENTRAL_ADDRESS, peer_address=PERIPHERAL_ADDRESS)


def test_passkey_out_of_range_is_refused_and_the_pairing_goes_on() -> None:
    rig = SmpRig(SmpConfig(io_capability=IO.KEYBOARD_ONLY, mitm=True), SmpConfig(io_capability=IO.DISPLAY_ONLY),
                 central_keys=KEYS_C, peripheral_keys=KEYS_P)
    rig.users["central"].respond = False
    rig.pair()
    with pytest.raises(SmpLocalError):
        rig.central.passkey_reply(1_000_000, rig.now)
    assert rig.central.waiting_for_passkey
    rig.users["central"].respond = True
    rig.run()
    assert rig.result("central").success


@pytest.mark.parametrize(
    "kwargs",
    [dict(min_key_size=6), dict(max_key_size=17), dict(min_key_size=12, max_key_size=10),
     dict(irk=b"x"), dict(csrk=bytes(15)), dict(timeout_ns=0)],
)
def test_invalid_configuration(kwargs: dict[str, object]) -> None:
    with pytest.raises(SmpLocalError):
        SmpConfig(**kwargs)  # type: ignore[arg-type]


def test_auth_req_from_configuration() -> None:
    assert SmpConfig(bonding=False, secure_connections=False).auth_req == AuthReq(0)
    assert SmpConfig(mitm=True, keypress=True).auth_req == (
        AuthReq.BONDING | AuthReq.MITM | AuthReq.SC | AuthReq.KEYPRESS | AuthReq.CT2
    )


# -- robustness: nothing raises out of a session ------------------------------------------------

_PDU_BYTES = st.one_of(
    st.sampled_from([_sample(c).to_bytes() for c in ORACLE_CODES]),
    st.binary(max_size=70),
    st.builds(lambda c, r: bytes([c, r]), st.sampled_from([0x05, 0x0E, 0x0B]), st.integers(0, 255)),
)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["central", "peripheral"]), st.booleans(), st.lists(_PDU_BYTES, max_size=12))
def test_arbitrary_pdu_sequences_never_raise(side: str, start: bool, pdus: list[bytes]) -> None:
    session, sent = (_central if side == "central" else _peripheral)()
    if start:
        if side == "central":
            session.pair(0)
        else:
            session.request_security(0)
    for i, pdu in enumerate(pdus):
        session.receive(pdu, i)
        session.on_ltk_request(0, 0, i)
        session.handle_timer(i * SMP_TIMEOUT_NS)
    for pdu in sent:
        assert pdu  # every answer is a whole PDU


@pytest.mark.parametrize("reason", list(range(0x01, 0x10)) + [0x42])
def test_every_received_failure_reason_is_reported(reason: int) -> None:
    """Every Pairing Failed reason of Table 3.7 (and an unknown one) ends the pairing
    and reaches the application as a remote failure, without an answer."""
    recorder = Results()
    central, sent = _central(delegate=recorder)
    central.pair(0)
    central.receive(_failed(reason), 1)
    assert sent == [sent[0]] and sent[0][0] == SmpCode.PAIRING_REQUEST
    (result,) = recorder.results
    assert result.reason == reason and result.remote and not result.success
    assert central.state is SmpState.IDLE
