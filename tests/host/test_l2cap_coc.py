"""Tests for LE credit-based channels (host.l2cap_coc through host.l2cap): set-up with
the spec's result codes, segmentation and reassembly, credits and stalls, disconnection
both ways, timeouts, protocol errors, the state table, and a 100 kB transfer.

Expected bytes come from scapy's independent L2CAP layers or are written out by hand
from the spec's field layout, never from our encoder.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers import bluetooth as sb

from host.l2cap import (
    ChannelCloseReason,
    ChannelState,
    CreditBasedChannel,
    L2capConfig,
    L2capLocalError,
)
from host.l2cap_coc import (
    CHANNEL_TRANSITIONS,
    ChannelInput,
    Verdict,
    channel_transition,
)
from host.l2cap_pdu import LeCreditBasedConnectionResult as R
from tests.host.test_l2cap import HANDLE, MS, Rig, S, scapy_reject, sig

PSM = 0x0080


class Events:
    """Records every callback of the channels it is attached to."""

    def __init__(self) -> None:
        self.log: list[tuple[Any, ...]] = []
        self.sdus: list[bytes] = []

    def attach(self, ch: CreditBasedChannel, name: str) -> None:
        ch.on_open = lambda c, t: self.log.append((name, "open", t))
        ch.on_close = lambda c, r, t: self.log.append((name, "close", r, t))
        ch.on_sdu = lambda c, sdu, t: self.sdus.append(sdu)
        ch.on_send_ready = lambda c, t: self.log.append((name, "send_ready", t))


def open_pair(
    rig: Rig,
    *,
    mtu: int = 64,
    mps: int = 23,
    credits: int = 2,
    peer_mtu: int = 64,
    peer_mps: int = 23,
    peer_credits: int = 2,
    auto_a: bool | None = None,
    auto_b: bool | None = None,
) -> tuple[CreditBasedChannel, CreditBasedChannel, Events]:
    """``a`` connects to ``b``'s listener; returns (a's channel, b's channel, events)."""
    ev = Events()
    accepted: list[CreditBasedChannel] = []

    def on_accept(ch: CreditBasedChannel, now: int) -> None:
        ev.attach(ch, "b")
        accepted.append(ch)

    rig.b.listen(PSM, peer_mtu, peer_mps, peer_credits, on_accept, auto_credits=auto_b)
    ch_a = rig.a.connect(HANDLE, PSM, mtu, mps, credits, rig.now, auto_credits=auto_a)
    ev.attach(ch_a, "a")
    rig.run()
    assert ch_a.is_open and accepted and accepted[0].is_open
    return ch_a, accepted[0], ev


# ---------------------------------------------------------------------------------------
# Set-up
# ---------------------------------------------------------------------------------------


def test_connect_and_accept_literal_bytes() -> None:
    rig = Rig()
    ch_a, ch_b, ev = open_pair(
        rig, mtu=100, mps=50, credits=3, peer_mtu=64, peer_mps=23, peer_credits=2
    )
    assert rig.a_out == [
        bytes(
            sb.L2CAP_Hdr(cid=5)
            / sb.L2CAP_CmdHdr(code=0x14, id=1)
            / sb.L2CAP_LE_Credit_Based_Connection_Request(
                spsm=0x80, scid=0x40, mtu=100, mps=50, initial_credits=3
            )
        )
    ]
    assert rig.b_out == [
        bytes(
            sb.L2CAP_Hdr(cid=5)
            / sb.L2CAP_CmdHdr(code=0x15, id=1)
            / sb.L2CAP_LE_Credit_Based_Connection_Response(
                dcid=0x40, mtu=64, mps=23, initial_credits=2, result=0
            )
        )
    ]
    assert (ch_a.local_cid, ch_a.remote_cid, ch_a.peer_mtu, ch_a.peer_mps) == (0x40, 0x40, 64, 23)
    assert (ch_b.remote_cid, ch_b.peer_mtu, ch_b.peer_mps, ch_b.psm) == (0x40, 100, 50, PSM)
    assert (ch_a.credits, ch_a.peer_credits, ch_b.credits, ch_b.peer_credits) == (2, 3, 3, 2)
    assert ev.log == [("b", "open", MS), ("a", "open", 2 * MS)]
    assert rig.a.get_timer() is None


def test_kframe_literal_bytes_and_sdu_length_header() -> None:
    rig = Rig()
    ch_a, ch_b, ev = open_pair(rig)
    n = len(rig.a_out)
    assert ch_a.send(b"hello") is True
    # Basic header (len 7, CID 0x0040), SDU Length 5, then the data (Vol 3 Part A 3.4.2).
    assert rig.a_out[n:] == [bytes.fromhex("0700 4000 0500") + b"hello"]
    # 50 octets with MPS 23: 2+21, 23, 6.
    assert ch_a.send(bytes(range(50))) is False  # only one credit was left
    assert rig.a_out[n + 1 :] == [bytes.fromhex("1700 4000 3200") + bytes(range(21))]
    rig.run()
    assert ev.sdus == [b"hello", bytes(range(50))]
    frames = rig.a_out[n + 1 :]
    assert [len(f) - 4 for f in frames if f[2:4] == b"\x40\x00"] == [23, 23, 6]


def test_credit_indication_literal_bytes() -> None:
    rig = Rig()
    ch_a, ch_b, ev = open_pair(rig, auto_b=False)
    ch_a.send(b"x" * 30)  # 2 K-frames
    rig.deliver()
    assert ch_b.credits_owed == 2 and ch_b.peer_credits == 0
    n = len(rig.b_out)
    assert ch_b.give_credits() == 2
    assert rig.b_out[n:] == [
        bytes(
            sb.L2CAP_Hdr(cid=5)
            / sb.L2CAP_CmdHdr(code=0x16, id=1)  # b's first command
            / sb.L2CAP_Flow_Control_Credit_Ind(cid=0x40, credits=2)
        )
    ]
    assert ch_b.give_credits() == 0 and ch_b.give_credits(3) == 3
    rig.run()
    assert ch_a.credits == 5


@pytest.mark.parametrize(
    ("req", "result"),
    [
        (dict(spsm=0x81), R.CONNECTION_REFUSED_SPSM_NOT_SUPPORTED),  # nobody listens
        (dict(spsm=0x0100), R.CONNECTION_REFUSED_SPSM_NOT_SUPPORTED),  # reserved range
        (dict(spsm=0x0000), R.CONNECTION_REFUSED_SPSM_NOT_SUPPORTED),
        (dict(scid=0x0020), R.CONNECTION_REFUSED_INVALID_SOURCE_CID),
        (dict(scid=0x0080), R.CONNECTION_REFUSED_INVALID_SOURCE_CID),
        (dict(scid=0x0041), R.CONNECTION_REFUSED_SOURCE_CID_ALREADY_ALLOCATED),
        (dict(scid=0x42, mtu=22), R.CONNECTION_REFUSED_UNACCEPTABLE_PARAMETERS),
        (dict(scid=0x42, mps=22), R.CONNECTION_REFUSED_UNACCEPTABLE_PARAMETERS),
        (dict(scid=0x42, mps=65534), R.CONNECTION_REFUSED_UNACCEPTABLE_PARAMETERS),
    ],
)
def test_incoming_requests_refused_with_the_spec_result(req: dict[str, Any], result: R) -> None:
    rig = Rig()
    rig.b.listen(PSM, 64, 23, 2)
    fields: dict[str, Any] = dict(spsm=PSM, scid=0x0041, mtu=64, mps=23, initial_credits=1)
    ok = (
        sb.L2CAP_Hdr(cid=5)
        / sb.L2CAP_CmdHdr(code=0x14, id=3)
        / sb.L2CAP_LE_Credit_Based_Connection_Request(**fields)
    )
    rig.b.receive_acl(HANDLE, bytes(ok), 0)  # a first channel from scid 0x41 succeeds
    assert len(rig.b.channels(HANDLE)) == 1
    fields.update(req)
    pkt = (
        sb.L2CAP_Hdr(cid=5)
        / sb.L2CAP_CmdHdr(code=0x14, id=4)
        / sb.L2CAP_LE_Credit_Based_Connection_Request(**fields)
    )
    rig.b.receive_acl(HANDLE, bytes(pkt), 0)
    assert rig.b_out[-1] == bytes(
        sb.L2CAP_Hdr(cid=5)
        / sb.L2CAP_CmdHdr(code=0x15, id=4)
        / sb.L2CAP_LE_Credit_Based_Connection_Response(result=int(result))
    )
    assert len(rig.b.channels(HANDLE)) == 1


def test_no_resources_when_every_channel_is_taken() -> None:
    rig = Rig(config_b=L2capConfig(max_channels_per_connection=1))
    open_pair(rig)
    ch = rig.a.connect(HANDLE, PSM, 64, 23, 2, rig.now)
    rig.run()
    assert ch.state is ChannelState.CLOSED and ch.close_reason is ChannelCloseReason.REFUSED
    assert ch.result == R.CONNECTION_REFUSED_NO_RESOURCES_AVAILABLE


@pytest.mark.parametrize(
    ("answer", "result"),
    [
        (False, R.CONNECTION_REFUSED_NO_RESOURCES_AVAILABLE),
        (
            R.CONNECTION_REFUSED_INSUFFICIENT_AUTHENTICATION,
            R.CONNECTION_REFUSED_INSUFFICIENT_AUTHENTICATION,
        ),
        (0x0008, R.CONNECTION_REFUSED_INSUFFICIENT_ENCRYPTION),
        (0x7777, R.CONNECTION_REFUSED_NO_RESOURCES_AVAILABLE),  # not a refusal code
    ],
)
def test_listener_refuses(answer: Any, result: R) -> None:
    rig = Rig()
    seen: list[CreditBasedChannel] = []

    def on_accept(ch: CreditBasedChannel, now: int) -> Any:
        seen.append(ch)
        assert ch.state is ChannelState.ACCEPTING and ch.peer_mtu == 100
        with pytest.raises(L2capLocalError):
            ch.send(b"too early")
        return answer

    rig.b.listen(PSM, 64, 23, 2, on_accept)
    ch = rig.a.connect(HANDLE, PSM, 100, 23, 2, 0)
    closes: list[Any] = []
    ch.on_close = lambda c, r, t: closes.append((r, t))
    ch.on_open = lambda c, t: closes.append("opened?!")
    rig.run()
    assert closes == [(ChannelCloseReason.REFUSED, 2 * MS)]
    assert ch.result == result and ch.state is ChannelState.CLOSED
    assert seen[0].state is ChannelState.CLOSED and rig.b.channels(HANDLE) == []
    assert rig.a.channels(HANDLE) == [] and rig.a.get_timer() is None


@pytest.mark.parametrize("answer", [None, True, 0, R.CONNECTION_SUCCESSFUL])
def test_listener_accepts(answer: Any) -> None:
    rig = Rig()
    rig.b.listen(PSM, 64, 23, 2, lambda ch, now: answer)
    ch = rig.a.connect(HANDLE, PSM, 100, 23, 2, 0)
    rig.run()
    assert ch.is_open
    ch.send(b"queued at b")
    rig.run()
    assert rig.b.channels(HANDLE)[0].take_sdus() == [b"queued at b"]


def test_listen_and_connect_refuse_bad_parameters() -> None:
    rig = Rig()
    for psm, mtu, mps, credits in [
        (0x0000, 64, 23, 1),
        (0x0100, 64, 23, 1),
        (PSM, 22, 23, 1),
        (PSM, 64, 22, 1),
        (PSM, 64, 65534, 1),
        (PSM, 64, 23, 65536),
        (PSM, 65536, 23, 1),
    ]:
        with pytest.raises(L2capLocalError):
            rig.a.connect(HANDLE, psm, mtu, mps, credits, 0)
        with pytest.raises(L2capLocalError):
            rig.a.listen(psm, mtu, mps, credits)
    with pytest.raises(L2capLocalError):
        rig.a.connect(0x0EFF, PSM, 64, 23, 1, 0)
    rig.a.listen(0x0001, 64, 23, 1)  # fixed (SIG) range
    with pytest.raises(L2capLocalError):
        rig.a.listen(0x0001, 64, 23, 1)
    rig.a.unlisten(0x0001)
    with pytest.raises(L2capLocalError):
        rig.a.unlisten(0x0001)
    assert rig.a_out == []


def test_unlisten_refuses_new_channels() -> None:
    rig = Rig()
    open_pair(rig)
    rig.b.unlisten(PSM)
    ch = rig.a.connect(HANDLE, PSM, 64, 23, 2, rig.now)
    rig.run()
    assert ch.result == R.CONNECTION_REFUSED_SPSM_NOT_SUPPORTED


def test_connect_times_out_after_rtx_and_late_response_is_ignored() -> None:
    rig = Rig()
    rig.b.listen(PSM, 64, 23, 2)
    ch = rig.a.connect(HANDLE, PSM, 64, 23, 2, 7 * S)
    closes: list[Any] = []
    ch.on_close = lambda c, r, t: closes.append((r, t))
    late = rig.drop_wire()
    assert rig.a.get_timer() == 37 * S
    rig.a.handle_timer(37 * S)
    assert closes == [(ChannelCloseReason.TIMEOUT, 37 * S)]
    assert rig.a.channels(HANDLE) == [] and rig.a.get_timer() is None
    for _, handle, frame in late:
        rig.b.receive_acl(handle, frame, 38 * S)
    for _, handle, answer in rig.drop_wire():
        rig.a.receive_acl(handle, answer, 38 * S)
    assert rig.a.stats.unexpected_responses == 1 and closes == [
        (ChannelCloseReason.TIMEOUT, 37 * S)
    ]


def test_connect_rejected_by_command_reject() -> None:
    rig = Rig()
    ch = rig.a.connect(HANDLE, PSM, 64, 23, 2, 0)
    rig.drop_wire()
    rig.a.receive_acl(HANDLE, scapy_reject(1, 0), 5)
    assert ch.close_reason is ChannelCloseReason.COMMAND_REJECTED


@pytest.mark.parametrize(
    "rsp",
    [
        dict(dcid=0x0020, mtu=64, mps=23, initial_credits=1),  # not a dynamic CID
        dict(dcid=0x0041, mtu=22, mps=23, initial_credits=1),  # MTU below 23
    ],
)
def test_bad_success_response_is_a_protocol_error(rsp: dict[str, Any]) -> None:
    rig = Rig()
    ch = rig.a.connect(HANDLE, PSM, 64, 23, 2, 0)
    opened: list[Any] = []
    ch.on_open = lambda c, t: opened.append(t)
    rig.drop_wire()
    pkt = (
        sb.L2CAP_Hdr(cid=5)
        / sb.L2CAP_CmdHdr(code=0x15, id=1)
        / sb.L2CAP_LE_Credit_Based_Connection_Response(result=0, **rsp)
    )
    rig.a.receive_acl(HANDLE, bytes(pkt), 5)
    assert opened == []
    if rsp["dcid"] == 0x0020:
        assert ch.state is ChannelState.CLOSED and rig.a_out[1:] == []
    else:
        assert ch.state is ChannelState.DISCONNECTING
        assert rig.a_out[-1] == bytes(
            sb.L2CAP_Hdr(cid=5)
            / sb.L2CAP_CmdHdr(code=0x06, id=2)
            / sb.L2CAP_DisconnReq(dcid=0x41, scid=0x40)
        )
    assert ch.close_reason in (None, ChannelCloseReason.PROTOCOL_ERROR)


# ---------------------------------------------------------------------------------------
# Disconnection
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("initiator", ["a", "b"])
def test_disconnect_either_way(initiator: str) -> None:
    rig = Rig()
    ch_a, ch_b, ev = open_pair(rig)
    ev.log.clear()
    (ch_a if initiator == "a" else ch_b).disconnect(rig.now)
    local, remote = (ch_a, ch_b) if initiator == "a" else (ch_b, ch_a)
    out = rig.a_out if initiator == "a" else rig.b_out
    ident = 2 if initiator == "a" else 1  # a's first identifier went to the connection request
    assert local.state is ChannelState.DISCONNECTING
    assert out[-1] == bytes(
        sb.L2CAP_Hdr(cid=5)
        / sb.L2CAP_CmdHdr(code=0x06, id=ident)
        / sb.L2CAP_DisconnReq(dcid=0x40, scid=0x40)
    )
    with pytest.raises(L2capLocalError):
        local.send(b"late")
    local.disconnect()  # idempotent
    rig.run()
    other = "b" if initiator == "a" else "a"
    assert ev.log == [
        (other, "close", ChannelCloseReason.REMOTE_DISCONNECT, 3 * MS),
        (initiator, "close", ChannelCloseReason.LOCAL_DISCONNECT, 4 * MS),
    ]
    reply = rig.b_out[-1] if initiator == "a" else rig.a_out[-1]
    assert reply == bytes(
        sb.L2CAP_Hdr(cid=5)
        / sb.L2CAP_CmdHdr(code=0x07, id=ident)
        / sb.L2CAP_DisconnResp(dcid=0x40, scid=0x40)
    )
    assert rig.a.channels(HANDLE) == [] == rig.b.channels(HANDLE)
    assert local.give_credits(5) == 0  # harmless after close
    with pytest.raises(L2capLocalError):
        remote.send(b"x")


def test_simultaneous_disconnect() -> None:
    rig = Rig()
    ch_a, ch_b, ev = open_pair(rig)
    ev.log.clear()
    ch_a.disconnect()
    ch_b.disconnect()
    rig.run()
    assert sorted(e[:3] for e in ev.log) == [
        ("a", "close", ChannelCloseReason.LOCAL_DISCONNECT),
        ("b", "close", ChannelCloseReason.LOCAL_DISCONNECT),
    ]
    assert rig.a.get_timer() is None and rig.b.get_timer() is None


def test_disconnect_times_out() -> None:
    rig = Rig()
    ch_a, ch_b, ev = open_pair(rig)
    ev.log.clear()
    ch_a.disconnect(10 * S)
    rig.drop_wire()
    assert rig.a.get_timer() == 40 * S
    rig.a.handle_timer(40 * S)
    assert ev.log == [("a", "close", ChannelCloseReason.LOCAL_DISCONNECT, 40 * S)]


def test_disconnect_while_connecting() -> None:
    rig = Rig()
    ev = Events()
    rig.b.listen(PSM, 64, 23, 2, lambda ch, now: ev.attach(ch, "b"))
    ch = rig.a.connect(HANDLE, PSM, 64, 23, 2, 0)
    ev.attach(ch, "a")
    ch.disconnect()
    assert ch.state is ChannelState.CONNECTING
    rig.run()
    assert ev.log == [
        ("b", "open", MS),
        ("b", "close", ChannelCloseReason.REMOTE_DISCONNECT, 3 * MS),
        ("a", "close", ChannelCloseReason.LOCAL_DISCONNECT, 4 * MS),
    ]


def test_disconnection_request_for_unknown_channel_gets_invalid_cid_reject() -> None:
    rig = Rig()
    ch_a, ch_b, ev = open_pair(rig)
    n = len(rig.b_out)
    rig.b.receive_acl(HANDLE, sig(0x06, 9, bytes.fromhex("4500 4000")), rig.now)  # no 0x45
    rig.b.receive_acl(HANDLE, sig(0x06, 10, bytes.fromhex("4000 4100")), rig.now)  # scid mismatch
    assert rig.b_out[n:] == [
        scapy_reject(9, 2, bytes.fromhex("4500 4000")),
        scapy_reject(10, 2, bytes.fromhex("4000 4100")),
    ]
    assert ch_b.is_open


def test_disconnection_response_with_wrong_cids_is_ignored() -> None:
    rig = Rig()
    ch_a, ch_b, ev = open_pair(rig)
    ch_a.disconnect()
    rig.drop_wire()
    rig.a.receive_acl(HANDLE, sig(0x07, 2, bytes.fromhex("4100 4000")), rig.now)
    assert rig.a.channels(HANDLE) == [ch_a] and ch_a.close_reason is None
    rig.a.receive_acl(HANDLE, sig(0x07, 2, bytes.fromhex("4000 4000")), rig.now)
    assert rig.a.channels(HANDLE) == [] and ch_a.close_reason is ChannelCloseReason.LOCAL_DISCONNECT


def test_link_loss_closes_every_channel() -> None:
    rig = Rig()
    ch_a, ch_b, ev = open_pair(rig)
    pending = rig.a.connect(HANDLE, PSM, 64, 23, 2, rig.now)
    ev.attach(pending, "a2")
    ev.log.clear()
    rig.a.remove_connection(HANDLE, 50 * MS)
    assert ev.log == [
        ("a", "close", ChannelCloseReason.LINK_LOST, 50 * MS),
        ("a2", "close", ChannelCloseReason.LINK_LOST, 50 * MS),
    ]
    assert rig.a.get_timer() is None and rig.a.channels(HANDLE) == []


# ---------------------------------------------------------------------------------------
# Protocol errors on the data path
# ---------------------------------------------------------------------------------------


def _disc_req_from_b(rig: Rig) -> bool:
    return any(f[2:5] == b"\x05\x00\x06" for f in rig.b_out)


@pytest.mark.parametrize(
    ("name", "frames"),
    [
        ("SDU Length above MTU", [bytes.fromhex("4100") + bytes(21)]),
        ("K-frame above MPS", [bytes.fromhex("0500") + bytes(22)]),
        ("first K-frame shorter than SDU Length", [b"\x05"]),
        ("more data than the SDU Length", [bytes.fromhex("0300") + bytes(2), bytes(5)]),
        ("K-frame without credit", [bytes.fromhex("0100") + b"a"] * 3),
    ],
)
def test_kframe_violations_disconnect_the_channel(name: str, frames: list[bytes]) -> None:
    rig = Rig()
    ch_a, ch_b, ev = open_pair(rig, auto_b=False)
    ev.log.clear()
    for i, payload in enumerate(frames):
        rig.b.receive_acl(
            HANDLE, len(payload).to_bytes(2, "little") + b"\x40\x00" + payload, rig.now
        )
    assert ch_b.state is ChannelState.DISCONNECTING and _disc_req_from_b(rig)
    rig.run()
    assert ("b", "close", ChannelCloseReason.PROTOCOL_ERROR) in [e[:3] for e in ev.log]
    assert ("a", "close", ChannelCloseReason.REMOTE_DISCONNECT) in [e[:3] for e in ev.log]


def test_credit_overflow_disconnects() -> None:
    rig = Rig()
    ch_a, ch_b, ev = open_pair(rig)
    ev.log.clear()
    assert ch_b.credits == 2
    rig.b.receive_acl(HANDLE, sig(0x16, 9, bytes.fromhex("4000 fdff")), rig.now)  # 2 + 65533
    assert ch_b.is_open and ch_b.credits == 65535
    rig.b.receive_acl(HANDLE, sig(0x16, 10, bytes.fromhex("4000 0100")), rig.now)  # 65536
    assert ch_b.state is ChannelState.DISCONNECTING
    rig.run()
    assert [e[:3] for e in ev.log] == [
        ("a", "close", ChannelCloseReason.REMOTE_DISCONNECT),
        ("b", "close", ChannelCloseReason.PROTOCOL_ERROR),
    ]


def test_credits_for_unknown_channel_are_ignored() -> None:
    rig = Rig()
    ch_a, ch_b, ev = open_pair(rig)
    n = len(rig.b_out)
    rig.b.receive_acl(HANDLE, sig(0x16, 9, bytes.fromhex("4700 0100")), rig.now)
    assert rig.b.stats.signalling_ignored == 1 and rig.b_out[n:] == []


def test_kframes_after_disconnect_started_are_dropped() -> None:
    rig = Rig()
    ch_a, ch_b, ev = open_pair(rig)
    ch_b.disconnect()
    rig.b.receive_acl(HANDLE, bytes.fromhex("0300 4000 0100") + b"z", rig.now)
    assert ev.sdus == [] and rig.b.stats.kframes_dropped == 1


def test_send_refuses_sdu_above_peer_mtu() -> None:
    rig = Rig()
    ch_a, ch_b, ev = open_pair(rig, peer_mtu=30)
    with pytest.raises(L2capLocalError):
        ch_a.send(bytes(31))
    assert ch_a.send(bytes(30)) in (True, False)


def test_give_credits_refuses_overflow_and_negative() -> None:
    rig = Rig()
    ch_a, ch_b, ev = open_pair(rig, auto_b=False)
    with pytest.raises(L2capLocalError):
        ch_b.give_credits(65534)
    with pytest.raises(L2capLocalError):
        ch_b.give_credits(-1)
    assert ch_b.give_credits(65533) == 65533


# ---------------------------------------------------------------------------------------
# Flow control and transfers
# ---------------------------------------------------------------------------------------


def test_empty_sdu_round_trips() -> None:
    rig = Rig()
    ch_a, ch_b, ev = open_pair(rig)
    ch_a.send(b"")
    assert rig.a_out[-1] == bytes.fromhex("0200 4000 0000")
    rig.run()
    assert ev.sdus == [b""]


def test_explicit_credits_keep_the_sender_stalled_until_given() -> None:
    rig = Rig()
    ch_a, ch_b, ev = open_pair(rig, auto_b=False, peer_credits=2)
    ev.log.clear()
    assert ch_a.send(bytes(range(64))) is False  # needs 3 K-frames, has 2 credits
    assert ch_a.stalled and ch_a.tx_pending == 1 and ch_a.credits == 0
    for _ in range(50):
        rig.deliver()
    assert ch_a.tx_pending == 1 and ev.sdus == [] and ch_b.credits_owed == 2
    ch_b.give_credits()
    rig.run()
    assert ev.sdus == [bytes(range(64))]
    assert ev.log == [("a", "send_ready", rig.now - MS)]
    assert not ch_a.stalled and ch_b.credits_owed == 1


def test_sdus_queue_without_on_sdu() -> None:
    rig = Rig()
    ch_a, ch_b, ev = open_pair(rig)
    ch_b.on_sdu = None
    for i in range(5):
        ch_a.send(bytes([i]) * 40)
    rig.run()
    assert ch_b.take_sdus() == [bytes([i]) * 40 for i in range(5)]
    assert ch_b.take_sdus() == []


def test_data_sent_in_on_open_follows_the_response() -> None:
    rig = Rig()
    got: list[bytes] = []

    def welcome(ch: CreditBasedChannel, now: int) -> None:
        ch.send(b"welcome")

    def on_accept(ch: CreditBasedChannel, now: int) -> None:
        ch.on_open = welcome

    rig.b.listen(PSM, 64, 23, 2, on_accept)
    ch = rig.a.connect(HANDLE, PSM, 64, 23, 2, 0)
    ch.on_sdu = lambda c, sdu, t: got.append(sdu)
    rig.run()
    assert got == [b"welcome"]


@pytest.mark.parametrize(("mtu", "mps", "credits"), [(64, 23, 2), (512, 100, 1), (23, 23, 7)])
def test_100kB_transfer_arrives_complete_and_in_order_with_stalls(
    mtu: int, mps: int, credits: int
) -> None:
    """The issue's acceptance: 100 kB over a small MTU/MPS with few credits. The sender
    writes until ``send`` reports a stall and resumes on ``on_send_ready``."""
    rig = Rig()
    ch_a, ch_b, ev = open_pair(
        rig, mtu=mtu, mps=mps, credits=credits, peer_mtu=mtu, peer_mps=mps, peer_credits=credits
    )
    data = bytes(itertools.islice(itertools.cycle(range(251)), 100_000))
    chunks = [data[i : i + mtu] for i in range(0, len(data), mtu)]
    todo = list(reversed(chunks))
    stalls: list[int] = []
    credit_history: list[int] = []

    def pump(ch: CreditBasedChannel, now: int) -> None:
        while todo:
            if not ch.send(todo.pop()):
                stalls.append(now)
                assert ch.credits == 0 and ch.tx_pending > 0
                return

    ch_a.on_send_ready = pump
    n_out = len(rig.a_out)
    pump(ch_a, rig.now)
    while rig.wire:
        credit_history.append(ch_a.credits)
        rig.deliver()
    assert b"".join(ev.sdus) == data
    assert ev.sdus == chunks
    assert len(stalls) > 10  # flow control stalled the sender again and again...
    assert not todo and not ch_a.stalled  # ...and it always resumed
    # Every K-frame respects the peer's MPS; their count is what segmentation needs.
    kframes = [f for f in rig.a_out[n_out:] if f[2:4] == b"\x40\x00"]
    assert all(len(f) - 4 <= mps for f in kframes)
    assert len(kframes) == sum(-(-(len(c) + 2) // mps) for c in chunks)
    # The first K-frame of each SDU carries its SDU Length.
    first = kframes[0]
    assert int.from_bytes(first[4:6], "little") == len(chunks[0])
    # The receiver never let the sender hold more than its initial credits.
    assert max(credit_history) <= credits and ch_b.peer_credits <= credits


# ---------------------------------------------------------------------------------------
# The state table
# ---------------------------------------------------------------------------------------

API_INPUTS = {ChannelInput.SEND, ChannelInput.GIVE_CREDITS, ChannelInput.DISCONNECT}


@pytest.mark.parametrize(("state", "inp"), list(itertools.product(ChannelState, ChannelInput)))
def test_every_state_input_pair_has_a_defined_outcome(
    state: ChannelState, inp: ChannelInput
) -> None:
    verdict, nxt = channel_transition(state, inp)
    if inp in API_INPUTS:
        assert verdict in (Verdict.GO, Verdict.NOOP, Verdict.LOCAL_ERROR, Verdict.DEFER)
    else:
        assert verdict in (Verdict.GO, Verdict.IGNORE, Verdict.REJECT_CID)
    if verdict is not Verdict.GO:
        assert nxt is state
    if state is ChannelState.CLOSED:
        assert verdict is not Verdict.GO  # nothing leaves CLOSED
    if inp is ChannelInput.LINK_LOST and state is not ChannelState.CLOSED:
        assert (verdict, nxt) == (Verdict.GO, ChannelState.CLOSED)


def test_state_table_is_total_and_key_transitions() -> None:
    assert len(CHANNEL_TRANSITIONS) == len(ChannelState) * len(ChannelInput)
    S_, I_ = ChannelState, ChannelInput
    expected = {
        (S_.CONNECTING, I_.RX_CONNECTION_RSP_OK): (Verdict.GO, S_.OPEN),
        (S_.CONNECTING, I_.RX_CONNECTION_RSP_REFUSED): (Verdict.GO, S_.CLOSED),
        (S_.CONNECTING, I_.DISCONNECT): (Verdict.DEFER, S_.CONNECTING),
        (S_.CONNECTING, I_.TIMEOUT): (Verdict.GO, S_.CLOSED),
        (S_.ACCEPTING, I_.ACCEPT): (Verdict.GO, S_.OPEN),
        (S_.ACCEPTING, I_.REFUSE): (Verdict.GO, S_.CLOSED),
        (S_.OPEN, I_.DISCONNECT): (Verdict.GO, S_.DISCONNECTING),
        (S_.OPEN, I_.PROTOCOL_ERROR): (Verdict.GO, S_.DISCONNECTING),
        (S_.OPEN, I_.RX_DISCONNECTION_REQ): (Verdict.GO, S_.CLOSED),
        (S_.OPEN, I_.RX_KFRAME): (Verdict.GO, S_.OPEN),
        (S_.DISCONNECTING, I_.RX_DISCONNECTION_RSP): (Verdict.GO, S_.CLOSED),
        (S_.DISCONNECTING, I_.RX_KFRAME): (Verdict.IGNORE, S_.DISCONNECTING),
        (S_.DISCONNECTING, I_.SEND): (Verdict.LOCAL_ERROR, S_.DISCONNECTING),
        (S_.CLOSED, I_.DISCONNECT): (Verdict.NOOP, S_.CLOSED),
        (S_.CLOSED, I_.SEND): (Verdict.LOCAL_ERROR, S_.CLOSED),
    }
    for key, value in expected.items():
        assert CHANNEL_TRANSITIONS[key] == value, key


def test_api_calls_in_each_state() -> None:
    rig = Rig()
    ch = rig.a.connect(HANDLE, PSM, 64, 23, 2, 0)  # CONNECTING
    with pytest.raises(L2capLocalError):
        ch.send(b"x")
    with pytest.raises(L2capLocalError):
        ch.give_credits(1)
    seen: list[CreditBasedChannel] = []

    def on_accept(c: CreditBasedChannel, now: int) -> None:  # ACCEPTING
        seen.append(c)
        with pytest.raises(L2capLocalError):
            c.disconnect()
        with pytest.raises(L2capLocalError):
            c.give_credits(1)

    rig.b.listen(PSM, 64, 23, 2, on_accept)
    rig.run()
    assert seen and ch.is_open


# ---------------------------------------------------------------------------------------
# Fuzzing the data path
# ---------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(payloads=st.lists(st.binary(max_size=40), min_size=1, max_size=12))
def test_fuzz_random_kframes_never_raise(payloads: list[bytes]) -> None:
    rig = Rig()
    ch_a, ch_b, ev = open_pair(rig, peer_credits=4)
    for p in payloads:
        rig.b.receive_acl(HANDLE, len(p).to_bytes(2, "little") + b"\x40\x00" + p, rig.now)
        assert ch_b.state in (ChannelState.OPEN, ChannelState.DISCONNECTING)
    assert all(len(s) <= 64 for s in ev.sdus)
    rig.run()
    rig.b.handle_timer(rig.now + 30 * S)
    assert rig.b.get_timer() is None


def test_automatic_credits_return_in_batches_at_half_the_initial_credits() -> None:
    rig = Rig()
    ch_a, ch_b, ev = open_pair(rig, peer_credits=8)
    n = len(rig.b_out)
    for _ in range(3):
        ch_a.send(b"s")
    rig.deliver()
    assert ch_b.peer_credits == 5 and rig.b_out[n:] == []  # 5 > 8 // 2: nothing yet
    ch_a.send(b"s")
    rig.deliver()
    assert rig.b_out[n:] == [
        bytes(
            sb.L2CAP_Hdr(cid=5)
            / sb.L2CAP_CmdHdr(code=0x16, id=1)
            / sb.L2CAP_Flow_Control_Credit_Ind(cid=0x40, credits=4)
        )
    ]
    assert ch_b.peer_credits == 8 and ch_b.credits_owed == 0
    rig.run()
    assert ch_a.credits == 8 and ev.sdus == [b"s"] * 4
