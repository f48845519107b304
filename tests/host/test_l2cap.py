"""Tests for host.l2cap: fixed-channel routing, LE signalling (Connection Parameter Update,
Command Reject), RTX timeouts and signalling fuzzing, on a two-node in-memory rig.

Expected bytes come from scapy's independent L2CAP layers, never from our encoder.
"""

from __future__ import annotations

from typing import Any, Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers import bluetooth as sb
from scapy.packet import Raw

from host.l2cap import (
    ConnectionParameters,
    L2cap,
    L2capConfig,
    L2capLocalError,
    L2capRequestFailed,
    RequestFailure,
)
from host.l2cap_pdu import (
    SIGNALLING_CLASSES,
    CommandRejectReason,
    ConnectionParameterUpdateResult,
    L2capFrame,
    SignallingDecodeError,
    decode_signalling,
)

HANDLE = 0x0040
MS = 1_000_000
S = 1_000_000_000


class Rig:
    """Two L2cap entities back to back: ``a`` is the central, ``b`` the peripheral.

    Frames sent by one side wait on the wire until :meth:`deliver`, which advances the
    hand-cranked clock by ``step_ns`` (one connection event) and hands them over in order.
    ``a_out`` / ``b_out`` keep every frame each side sent.
    """

    def __init__(
        self,
        config_a: L2capConfig | None = None,
        config_b: L2capConfig | None = None,
        step_ns: int = MS,
    ) -> None:
        self.now = 0
        self.step_ns = step_ns
        self.wire: list[tuple[str, int, bytes]] = []
        self.a_out: list[bytes] = []
        self.b_out: list[bytes] = []
        self.a = L2cap(self._sender("b", self.a_out), config_a)
        self.b = L2cap(self._sender("a", self.b_out), config_b)
        self.a.add_connection(HANDLE, "central", 0)
        self.b.add_connection(HANDLE, "peripheral", 0)

    def _sender(self, to: str, log: list[bytes]) -> Callable[[int, bytes], None]:
        def send(handle: int, frame: bytes) -> None:
            log.append(frame)
            self.wire.append((to, handle, frame))

        return send

    def deliver(self) -> int:
        """One round: advance the clock, deliver what is on the wire; frames sent
        meanwhile wait for the next round. Returns the number delivered."""
        self.now += self.step_ns
        batch, self.wire = self.wire, []
        for to, handle, frame in batch:
            (self.a if to == "a" else self.b).receive_acl(handle, frame, self.now)
        return len(batch)

    def run(self, max_rounds: int = 100_000) -> int:
        """Deliver rounds until the wire is empty; returns the number of rounds."""
        for rounds in range(max_rounds):
            if not self.wire:
                return rounds
            self.deliver()
        raise AssertionError("the rig did not go idle")

    def drop_wire(self) -> list[tuple[str, int, bytes]]:
        out, self.wire = self.wire, []
        return out


def sig(code: int, ident: int, data: bytes) -> bytes:
    """A C-frame built with scapy (independent of our encoder)."""
    return bytes(sb.L2CAP_Hdr(cid=5) / sb.L2CAP_CmdHdr(code=code, id=ident) / Raw(load=data))


def raw_sig(payload: bytes) -> bytes:
    """A C-frame whose information payload is exactly ``payload`` (maybe malformed)."""
    return len(payload).to_bytes(2, "little") + b"\x05\x00" + payload


def scapy_reject(ident: int, reason: int, data: bytes = b"") -> bytes:
    return (
        bytes(
            sb.L2CAP_Hdr(cid=5)
            / sb.L2CAP_CmdHdr(code=0x01, id=ident)
            / sb.L2CAP_CmdRej(reason=reason)
            / Raw(load=data)
        )
        if data
        else bytes(
            sb.L2CAP_Hdr(cid=5)
            / sb.L2CAP_CmdHdr(code=0x01, id=ident)
            / sb.L2CAP_CmdRej(reason=reason)
        )
    )


# ---------------------------------------------------------------------------------------
# Fixed channels and routing
# ---------------------------------------------------------------------------------------


def test_fixed_channels_are_routed_with_handle_and_time() -> None:
    rig = Rig()
    got: list[tuple[str, int, bytes, int]] = []
    rig.b.register_fixed_channel(0x0004, lambda h, p, t: got.append(("att", h, p, t)))
    rig.b.register_fixed_channel(0x0006, lambda h, p, t: got.append(("smp", h, p, t)))
    rig.a.send_fixed(HANDLE, 0x0004, b"\x0a\x03\x00")
    rig.a.send_fixed(HANDLE, 0x0006, b"\x01\x03\x00\x01\x10\x07\x07")
    # scapy builds the same ATT Read Request frame independently.
    assert rig.a_out[0] == bytes(
        sb.L2CAP_Hdr(cid=4) / sb.ATT_Hdr() / sb.ATT_Read_Request(gatt_handle=3)
    )
    rig.deliver()
    assert got == [
        ("att", HANDLE, b"\x0a\x03\x00", MS),
        ("smp", HANDLE, b"\x01\x03\x00\x01\x10\x07\x07", MS),
    ]


def test_unknown_cids_malformed_frames_and_unknown_handles_are_dropped_and_counted() -> None:
    rig = Rig()
    att: list[bytes] = []
    rig.b.register_fixed_channel(4, lambda h, p, t: att.append(p))
    for cid in (0x0000, 0x0003, 0x0020, 0x0041, 0x007F, 0x0080, 0xFFFF):
        rig.b.receive_acl(HANDLE, L2capFrame(cid, b"xy").to_bytes(), 5)
    assert rig.b.stats.unknown_cid == 7
    for bad in (b"", b"\x01\x00\x04", b"\x05\x00\x04\x00ab", b"\x01\x00\x04\x00ab"):
        rig.b.receive_acl(HANDLE, bad, 5)
    assert rig.b.stats.malformed_frames == 4
    rig.b.receive_acl(0x0EFF, L2capFrame(4, b"x").to_bytes(), 5)
    assert rig.b.stats.unknown_handle == 1
    assert att == [] and rig.b_out == []


def test_register_fixed_channel_refuses_signalling_dynamic_and_duplicates() -> None:
    l2 = L2cap(lambda h, f: None)
    l2.register_fixed_channel(4, lambda h, p, t: None)
    for cid in (0x0000, 0x0005, 0x0040, 0x007F, 0x10000):
        with pytest.raises(L2capLocalError):
            l2.register_fixed_channel(cid, lambda h, p, t: None)
    with pytest.raises(L2capLocalError):
        l2.register_fixed_channel(4, lambda h, p, t: None)


def test_connection_bookkeeping() -> None:
    l2 = L2cap(lambda h, f: None)
    with pytest.raises(L2capLocalError):
        l2.send_fixed(1, 4, b"x")
    l2.add_connection(1, "central", 0)
    assert l2.has_connection(1)
    with pytest.raises(L2capLocalError):
        l2.add_connection(1, "peripheral", 0)
    with pytest.raises(L2capLocalError):
        l2.add_connection(2, "observer", 0)  # type: ignore[arg-type]
    l2.remove_connection(1, 0)
    l2.remove_connection(1, 0)  # twice is harmless
    assert not l2.has_connection(1)


@pytest.mark.parametrize("rtx", [999 * MS, 61 * S])
def test_rtx_must_be_within_one_to_sixty_seconds(rtx: int) -> None:
    with pytest.raises(L2capLocalError):
        L2capConfig(rtx_timeout_ns=rtx)


# ---------------------------------------------------------------------------------------
# Connection Parameter Update
# ---------------------------------------------------------------------------------------

PARAMS = ConnectionParameters(interval_min=6, interval_max=12, latency=0, timeout=200)


def test_parameter_update_accepted_literal_bytes() -> None:
    rig = Rig()
    asked: list[tuple[int, ConnectionParameters, int]] = []

    def decide(handle: int, params: ConnectionParameters, now: int) -> bool:
        asked.append((handle, params, now))
        return True

    rig.a.on_connection_parameter_update_request = decide
    results: list[Any] = []
    rig.b.request_connection_parameter_update(HANDLE, PARAMS, 0, results.append)
    assert rig.b_out == [
        bytes(
            sb.L2CAP_Hdr(cid=5)
            / sb.L2CAP_CmdHdr(code=0x12, id=1)
            / sb.L2CAP_Connection_Parameter_Update_Request(
                min_interval=6, max_interval=12, slave_latency=0, timeout_mult=200
            )
        )
    ]
    assert rig.b.get_timer() == 30 * S
    rig.run()
    assert asked == [(HANDLE, PARAMS, MS)]
    assert rig.a_out == [
        bytes(
            sb.L2CAP_Hdr(cid=5)
            / sb.L2CAP_CmdHdr(code=0x13, id=1)
            / sb.L2CAP_Connection_Parameter_Update_Response(move_result=0)
        )
    ]
    assert results == [ConnectionParameterUpdateResult.CONNECTION_PARAMETERS_ACCEPTED]
    assert rig.b.get_timer() is None


@pytest.mark.parametrize("answer", [False, None])
def test_parameter_update_rejected_by_central(answer: bool | None) -> None:
    rig = Rig()
    if answer is not None:
        rig.a.on_connection_parameter_update_request = lambda h, p, t: answer
    results: list[Any] = []
    rig.b.request_connection_parameter_update(HANDLE, PARAMS, 0, results.append)
    rig.run()
    assert rig.a_out[0][-2:] == b"\x01\x00"
    assert results == [ConnectionParameterUpdateResult.CONNECTION_PARAMETERS_REJECTED]


@pytest.mark.parametrize(
    "values",
    [
        (5, 12, 0, 200),  # interval below 7.5 ms
        (6, 3201, 0, 200),  # interval above 4 s
        (12, 6, 0, 200),  # min > max
        (6, 12, 500, 200),  # latency above 499
        (6, 12, 0, 9),  # timeout below 100 ms
        (6, 12, 0, 3201),  # timeout above 32 s
        (80, 80, 4, 100),  # 1 s timeout <= (1+4) * 100 ms * 2
    ],
)
def test_invalid_parameters_are_rejected_without_asking(values: tuple[int, int, int, int]) -> None:
    rig = Rig()
    asked: list[object] = []

    def decide(handle: int, params: ConnectionParameters, now: int) -> bool:
        asked.append(params)
        return True

    rig.a.on_connection_parameter_update_request = decide
    rig.b.receive_acl(0, b"", 0)  # unknown handle: ignored
    rig.a.receive_acl(
        HANDLE,
        bytes(
            sb.L2CAP_Hdr(cid=5)
            / sb.L2CAP_CmdHdr(code=0x12, id=9)
            / sb.L2CAP_Connection_Parameter_Update_Request(
                min_interval=values[0],
                max_interval=values[1],
                slave_latency=values[2],
                timeout_mult=values[3],
            )
        ),
        0,
    )
    assert asked == []
    assert rig.a_out == [
        bytes(
            sb.L2CAP_Hdr(cid=5)
            / sb.L2CAP_CmdHdr(code=0x13, id=9)
            / sb.L2CAP_Connection_Parameter_Update_Response(move_result=1)
        )
    ]
    with pytest.raises(L2capLocalError):
        rig.b.request_connection_parameter_update(HANDLE, ConnectionParameters(*values), 0, print)


def test_only_the_peripheral_requests_and_one_at_a_time() -> None:
    rig = Rig()
    with pytest.raises(L2capLocalError):
        rig.a.request_connection_parameter_update(HANDLE, PARAMS, 0, print)
    with pytest.raises(L2capLocalError):
        rig.b.request_connection_parameter_update(0x0EFF, PARAMS, 0, print)
    rig.b.request_connection_parameter_update(HANDLE, PARAMS, 0, print)
    with pytest.raises(L2capLocalError):
        rig.b.request_connection_parameter_update(HANDLE, PARAMS, 0, print)


def test_peripheral_receiving_the_request_answers_command_reject() -> None:
    rig = Rig()
    req = bytes(
        sb.L2CAP_Hdr(cid=5)
        / sb.L2CAP_CmdHdr(code=0x12, id=7)
        / sb.L2CAP_Connection_Parameter_Update_Request(
            min_interval=6, max_interval=12, slave_latency=0, timeout_mult=200
        )
    )
    rig.b.receive_acl(HANDLE, req, 0)
    assert rig.b_out == [scapy_reject(7, 0)]


def test_parameter_update_times_out_after_rtx() -> None:
    rig = Rig()
    results: list[Any] = []
    rig.b.request_connection_parameter_update(HANDLE, PARAMS, 5 * S, results.append)
    rig.drop_wire()  # the central never answers
    assert rig.b.get_timer() == 35 * S
    rig.b.handle_timer(35 * S - 1)
    assert results == []
    rig.b.handle_timer(35 * S)
    assert len(results) == 1 and isinstance(results[0], L2capRequestFailed)
    assert results[0].reason is RequestFailure.TIMEOUT
    assert rig.b.get_timer() is None
    # A late response is ignored.
    rig.b.receive_acl(HANDLE, sig(0x13, 1, b"\x00\x00"), 36 * S)
    assert len(results) == 1 and rig.b.stats.unexpected_responses == 1


def test_configured_rtx_is_used() -> None:
    rig = Rig(config_b=L2capConfig(rtx_timeout_ns=2 * S))
    rig.b.request_connection_parameter_update(HANDLE, PARAMS, 0, print)
    assert rig.b.get_timer() == 2 * S


def test_command_reject_fails_the_request_and_unmatched_responses_are_ignored() -> None:
    rig = Rig()
    results: list[Any] = []
    rig.b.request_connection_parameter_update(HANDLE, PARAMS, 0, results.append)
    rig.drop_wire()
    rig.b.receive_acl(HANDLE, sig(0x13, 2, b"\x00\x00"), 1)  # wrong identifier
    rig.b.receive_acl(HANDLE, sig(0x07, 1, b"\x40\x00\x40\x00"), 1)  # wrong response code
    assert results == [] and rig.b.stats.unexpected_responses == 2
    rig.b.receive_acl(HANDLE, scapy_reject(1, 0), 2)
    assert len(results) == 1 and results[0].reason is RequestFailure.COMMAND_REJECTED
    assert rig.b_out[1:] == []  # a Command Reject is never answered


def test_link_loss_fails_pending_requests() -> None:
    rig = Rig()
    results: list[Any] = []
    rig.b.request_connection_parameter_update(HANDLE, PARAMS, 0, results.append)
    rig.b.remove_connection(HANDLE, 10)
    assert len(results) == 1 and results[0].reason is RequestFailure.LINK_LOST
    assert rig.b.get_timer() is None


def test_identifiers_cycle_through_1_to_255() -> None:
    rig = Rig()
    rig.a.on_connection_parameter_update_request = lambda h, p, t: True
    idents = []
    for _ in range(300):
        rig.b.request_connection_parameter_update(HANDLE, PARAMS, rig.now, lambda r: None)
        idents.append(rig.b_out[-1][5])
        rig.run()
    assert idents[:255] == list(range(1, 256))
    assert idents[255:] == list(range(1, 46))


# ---------------------------------------------------------------------------------------
# Malformed signalling: the spec's Command Reject, nothing raises
# ---------------------------------------------------------------------------------------

NOT_UNDERSTOOD = CommandRejectReason.COMMAND_NOT_UNDERSTOOD

MALFORMED: list[tuple[str, bytes, bytes | None]] = [
    ("unknown code", bytes.fromhex("3005 0000"), scapy_reject(5, 0)),
    ("BR/EDR connection request", bytes.fromhex("0206 0400 0100 4000"), scapy_reject(6, 0)),
    ("BR/EDR echo request", bytes.fromhex("0807 0000"), scapy_reject(7, 0)),
    ("length field too long", bytes.fromhex("1208 0800 0600 0c00 0000"), scapy_reject(8, 0)),
    ("length field too short", bytes.fromhex("1209 0600 0600 0c00 0000 c800"), scapy_reject(9, 0)),
    ("command of the wrong size", bytes.fromhex("120a 0600 0600 0c00 0000"), scapy_reject(10, 0)),
    ("truncated header", bytes.fromhex("060b 04"), scapy_reject(11, 0)),
    ("code only", bytes.fromhex("06"), scapy_reject(0, 0)),
    ("identifier 0", bytes.fromhex("0600 0400 4000 4000"), scapy_reject(0, 0)),
    ("response of the wrong size", bytes.fromhex("070c 0200 4000"), scapy_reject(12, 0)),
    (
        "C-frame above the signalling MTU",
        bytes.fromhex("060d 1400") + bytes(20),
        scapy_reject(13, 1, b"\x17\x00"),
    ),
    (
        "two commands in one C-frame",
        bytes.fromhex("160e 0400 4000 0100 160f 0400 4000 0100"),
        scapy_reject(14, 0),
    ),
    (
        "enhanced credit-based request",
        bytes.fromhex("1710 0a00 8000 4000 4000 0100 4000"),
        scapy_reject(16, 0),
    ),
    (
        "enhanced reconfigure request",
        bytes.fromhex("1911 0600 4000 4000 4000"),
        scapy_reject(17, 0),
    ),
    ("empty C-frame", b"", None),
    ("malformed Command Reject", bytes.fromhex("0112 0100 00"), None),
    ("Command Reject with identifier 0", bytes.fromhex("0100 0200 0000"), None),
    ("over-long Command Reject", bytes.fromhex("0113 1400") + bytes(20), None),
    ("unsolicited Command Reject", bytes.fromhex("0114 0200 0000"), None),
    ("unsolicited responses", bytes.fromhex("1315 0200 0000"), None),
]


@pytest.mark.parametrize("role", ["central", "peripheral"])
@pytest.mark.parametrize(("name", "payload", "answer"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_signalling_gets_command_reject(
    role: str, name: str, payload: bytes, answer: bytes | None
) -> None:
    rig = Rig()
    side, out = (rig.a, rig.a_out) if role == "central" else (rig.b, rig.b_out)
    side.receive_acl(HANDLE, raw_sig(payload), 0)
    assert out == ([] if answer is None else [answer])


def test_scapy_reads_our_command_reject_reasons() -> None:
    rig = Rig()
    rig.a.receive_acl(HANDLE, raw_sig(bytes.fromhex("060d 1400") + bytes(20)), 0)
    rig.a.receive_acl(HANDLE, sig(0x06, 3, b"\x41\x00\x42\x00"), 0)
    mtu, cid = (sb.L2CAP_Hdr(f) for f in rig.a_out)
    assert mtu[sb.L2CAP_CmdHdr].code == 1 and mtu[sb.L2CAP_CmdHdr].id == 13
    assert mtu[sb.L2CAP_CmdRej].reason == 1 and bytes(mtu[sb.L2CAP_CmdRej].payload) == b"\x17\x00"
    assert cid[sb.L2CAP_CmdRej].reason == 2
    assert bytes(cid[sb.L2CAP_CmdRej].payload) == b"\x41\x00\x42\x00"


def test_larger_signalling_mtu_is_configurable() -> None:
    rig = Rig(config_a=L2capConfig(signalling_mtu=64))
    rig.a.receive_acl(HANDLE, raw_sig(bytes.fromhex("060d 1400") + bytes(20)), 0)
    assert rig.a_out == [scapy_reject(13, 0)]  # within MTU now, merely malformed


def _check_outputs(out: list[bytes]) -> None:
    """At most one answer, and it is a well-formed C-frame (an identifier-0 Command
    Reject is the only answer our own decoder refuses)."""
    assert len(out) <= 1
    for frame_bytes in out:
        frame = L2capFrame.from_bytes(frame_bytes)
        assert frame.cid == 5 and len(frame.payload) <= 23
        try:
            decode_signalling(frame.payload)
        except SignallingDecodeError:
            assert frame.payload[:2] == b"\x01\x00"


@settings(max_examples=400, deadline=None)
@given(payload=st.binary(max_size=40), role=st.sampled_from(["central", "peripheral"]))
def test_fuzz_random_signalling_bytes(payload: bytes, role: str) -> None:
    rig = Rig()
    rig.a.on_connection_parameter_update_request = lambda h, p, t: True
    rig.b.listen(0x0080, 64, 23, 2)
    side, out = (rig.a, rig.a_out) if role == "central" else (rig.b, rig.b_out)
    side.receive_acl(HANDLE, raw_sig(payload), 0)
    _check_outputs(out)


_u16 = st.integers(0, 0xFFFF)
_ident = st.integers(1, 255)


@st.composite
def _commands(draw: st.DrawFn) -> bytes:
    """Well-framed commands of every LE code with arbitrary field values."""
    code = draw(st.sampled_from(sorted(SIGNALLING_CLASSES)))
    n = {
        0x01: 1,
        0x06: 2,
        0x07: 2,
        0x12: 4,
        0x13: 1,
        0x14: 5,
        0x15: 5,
        0x16: 2,
        0x17: 5,
        0x18: 5,
        0x19: 3,
        0x1A: 1,
    }[code]
    fields = b"".join(v.to_bytes(2, "little") for v in draw(st.lists(_u16, min_size=n, max_size=n)))
    if code in (0x01, 0x18) and draw(st.booleans()):
        fields += draw(st.binary(max_size=4))
    return sig(code, draw(_ident), fields)


@settings(max_examples=400, deadline=None)
@given(frames=st.lists(_commands(), min_size=1, max_size=8), role=st.sampled_from(["a", "b"]))
def test_fuzz_well_framed_commands_with_open_channels(frames: list[bytes], role: str) -> None:
    rig = Rig()
    rig.a.on_connection_parameter_update_request = lambda h, p, t: True
    rig.a.listen(0x0080, 64, 23, 2)
    rig.b.listen(0x0080, 64, 23, 2)
    rig.a.connect(HANDLE, 0x0080, 64, 23, 2, 0)
    rig.b.connect(HANDLE, 0x0080, 100, 30, 5, 0)
    rig.run()
    side, out = (rig.a, rig.a_out) if role == "a" else (rig.b, rig.b_out)
    for i, frame in enumerate(frames):
        before = len(out)
        side.receive_acl(HANDLE, frame, rig.now + i)
        new = out[before:]
        # At most one answer per command, plus K-frames/credits from a drained queue.
        answers = [f for f in new if f[2:4] == b"\x05\x00" and f[4] not in (0x06, 0x16)]
        _check_outputs(answers)
    side.handle_timer(rig.now + 31 * S)
    assert side.get_timer() is None
