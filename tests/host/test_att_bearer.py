"""Tests for host.att: the ATT bearer rules (Vol 3 Part F 3.3, 3.4.2, 3.4.7).

A raw peer feeds bytes into one bearer and reads what it sends; expected bytes are
written from the spec's PDU layouts (opcode, little-endian fields) or built with scapy's
independent ATT layers, never by our own encoder.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers import bluetooth as sb

from host.att import (
    ATT_TRANSACTION_TIMEOUT_NS,
    AttBearer,
    AttBearerClosedError,
    AttError,
    AttLocalError,
    AttTimeoutError,
    BearerState,
    decode_pdu,
)
from host.att_pdu import (
    ATT_READ_REQ,
    ATT_READ_RSP,
    ATT_WRITE_CMD,
    AttDecodeError,
    AttErrorCode,
    AttPdu,
    decode_att_pdu,
)
from host.gatt_db import (
    AttributeAccess,
    CharacteristicDef,
    CharacteristicProperties,
    Deferred,
    ServiceDef,
)
from host.gatt_server import GattServer
from host.uuid import UUID

S = 1_000_000_000
P = CharacteristicProperties


class RawPeer:
    """One bearer under test; ``feed`` gives it bytes and returns what it sent."""

    def __init__(self, server: GattServer | None = None, **kw: Any) -> None:
        self.server = server or GattServer()
        self.out: list[bytes] = []
        self.events: list[tuple[Any, ...]] = []
        self.bearer = AttBearer(
            0x0040, self.out.append, self.server,
            on_mtu_changed=lambda mtu, now: self.events.append(("mtu", mtu, now)),
            on_timeout=lambda now: self.events.append(("timeout", now)),
            on_protocol_violation=lambda what, now: self.events.append(("violation", now)),
            **kw,
        )
        self.bearer.on_notification = lambda h, v, now: self.events.append(("ntf", h, v, now))
        self.bearer.on_indication = lambda h, v, now: self.events.append(("ind", h, v, now))

    def feed(self, data: bytes | str, now: int = 0) -> list[bytes]:
        raw = bytes.fromhex(data) if isinstance(data, str) else data
        self.out.clear()
        self.bearer.receive(raw, now)
        sent = list(self.out)
        self.out.clear()
        return sent


def one_char_server(value: bytes = b"hello", **kw: Any) -> GattServer:
    server = GattServer(**kw)
    server.add_service(
        ServiceDef(UUID(0x180F), (CharacteristicDef(UUID(0x2A19), P.READ | P.WRITE | P.NOTIFY | P.INDICATE, value),))
    )
    return server  # handles: 1 service, 2 declaration, 3 value, 4 CCCD


# -- construction ------------------------------------------------------------------------


@pytest.mark.parametrize("mtu", [22, 528, 0, 65535])
def test_local_mtu_out_of_bounds_is_a_local_error(mtu: int) -> None:
    with pytest.raises(AttLocalError):
        AttBearer(1, lambda b: None, GattServer(), local_mtu=mtu)


@pytest.mark.parametrize("mtu", [23, 517])
def test_local_mtu_bounds_accepted(mtu: int) -> None:
    assert AttBearer(1, lambda b: None, GattServer(), local_mtu=mtu).mtu == 23


def test_second_bearer_for_the_same_connection_is_refused() -> None:
    server = GattServer()
    AttBearer(1, lambda b: None, server)
    with pytest.raises(AttLocalError):
        AttBearer(1, lambda b: None, server)


# -- MTU exchange --------------------------------------------------------------------------


def test_server_mtu_exchange_literal_bytes_and_min() -> None:
    peer = RawPeer(local_mtu=247)
    # ATT_EXCHANGE_MTU_REQ Client Rx MTU = 512 -> RSP Server Rx MTU = 247 (0x00F7)
    assert peer.feed("020002", now=7) == [bytes.fromhex("03f700")]
    assert peer.bearer.mtu == 247
    assert peer.events == [("mtu", 247, 7)]


def test_server_mtu_exchange_takes_the_smaller_value() -> None:
    peer = RawPeer(local_mtu=247)
    assert peer.feed(bytes(sb.ATT_Hdr() / sb.ATT_Exchange_MTU_Request(mtu=100))) == [bytes.fromhex("03f700")]
    assert peer.bearer.mtu == 100


def test_client_rx_mtu_below_23_leaves_the_default() -> None:
    peer = RawPeer()
    assert peer.feed("021000") == [bytes.fromhex("03f700")]
    assert peer.bearer.mtu == 23
    assert peer.events == []


def test_second_mtu_request_is_answered_but_changes_nothing() -> None:
    peer = RawPeer()
    peer.feed("024000")
    assert peer.bearer.mtu == 64
    assert peer.feed("020001") == [bytes.fromhex("03f700")]
    assert peer.bearer.mtu == 64
    assert peer.events[-1][0] == "violation"


def test_client_mtu_exchange_once() -> None:
    peer = RawPeer(local_mtu=185)
    results: list[object] = []
    peer.bearer.exchange_mtu(0, lambda r, now: results.append((r, now)))
    assert peer.out == [bytes.fromhex("02b900")]
    peer.feed("034000", now=3)
    assert results == [(64, 3)]
    assert peer.bearer.mtu == 64
    with pytest.raises(AttLocalError):
        peer.bearer.exchange_mtu(5, lambda r, now: None)


def test_client_mtu_exchange_error_response() -> None:
    peer = RawPeer()
    results: list[object] = []
    peer.bearer.exchange_mtu(0, lambda r, now: results.append(r))
    peer.feed("0102000006")
    assert results == [AttError(AttErrorCode.REQUEST_NOT_SUPPORTED, 0)]
    assert peer.bearer.mtu == 23


# -- client side: one request at a time, responses ----------------------------------------


def test_requests_are_sequential() -> None:
    peer = RawPeer()
    got: list[AttPdu | AttError] = []
    peer.bearer.request(ATT_READ_REQ(3), 0, lambda r, now: got.append(r))
    peer.bearer.request(ATT_READ_REQ(5), 0, lambda r, now: got.append(r))
    assert peer.out == [bytes.fromhex("0a0300")]  # only the first is on the air
    assert peer.bearer.request_outstanding
    assert peer.feed("0b4142") == [bytes.fromhex("0a0500")]  # the answer releases the next
    assert got == [ATT_READ_RSP(b"AB")]
    peer.feed("010a05000a")
    assert got[1] == AttError(AttErrorCode.ATTRIBUTE_NOT_FOUND, 5)
    assert not peer.bearer.request_outstanding


def test_request_must_be_a_request_and_fit() -> None:
    peer = RawPeer()
    with pytest.raises(AttLocalError):
        peer.bearer.request(ATT_READ_RSP(b""), 0, lambda r, now: None)
    with pytest.raises(AttLocalError):
        peer.bearer.send_command(ATT_READ_REQ(1))
    with pytest.raises(AttLocalError):
        peer.bearer.send_command(ATT_WRITE_CMD(1, bytes(21)))  # 24 octets > ATT_MTU 23
    assert peer.bearer.send_command(ATT_WRITE_CMD(1, bytes(20)))
    assert peer.out == [bytes.fromhex("520100") + bytes(20)]


def test_unexpected_response_is_ignored() -> None:
    peer = RawPeer()
    assert peer.feed("0b4142") == []
    assert peer.events == [("violation", 0)]
    got: list[object] = []
    peer.bearer.request(ATT_READ_REQ(3), 0, lambda r, now: got.append(r))
    peer.feed("0d4142")  # a Read Blob response to a Read request
    peer.feed("0112030001")  # an error naming another request
    assert got == [] and peer.bearer.request_outstanding
    peer.feed("0b")
    assert got == [ATT_READ_RSP(b"")]


def test_malformed_response_fails_the_request() -> None:
    peer = RawPeer()
    got: list[object] = []
    peer.bearer.request(ATT_READ_REQ(3), 0, lambda r, now: got.append(r))
    peer.feed("0103")  # truncated ATT_ERROR_RSP
    assert got == [AttError(AttErrorCode.INVALID_PDU, 0)]


# -- timeouts -----------------------------------------------------------------------------


def test_transaction_timeout_ends_att_on_the_bearer() -> None:
    peer = RawPeer(one_char_server())
    got: list[tuple[object, int]] = []
    peer.bearer.request(ATT_READ_REQ(3), 5, lambda r, now: got.append((r, now)))
    peer.bearer.request(ATT_READ_REQ(4), 5, lambda r, now: got.append((r, now)))
    deadline = 5 + ATT_TRANSACTION_TIMEOUT_NS
    assert peer.bearer.get_timer() == deadline
    peer.bearer.handle_timer(deadline - 1)
    assert got == [] and peer.bearer.state is BearerState.OPEN
    peer.bearer.handle_timer(deadline)
    assert [type(r) for r, _ in got] == [AttTimeoutError, AttTimeoutError]
    assert [t for _, t in got] == [deadline, deadline]
    assert peer.events == [("timeout", deadline)]
    assert peer.bearer.state.value == "timed_out"
    assert peer.bearer.get_timer() is None
    # No more ATT: received requests are not answered, nothing is sent.
    assert peer.feed("0a0300", now=deadline + 1) == []
    assert not peer.bearer.notify(3, b"x")
    assert not peer.bearer.send_command(ATT_WRITE_CMD(3, b""))
    late: list[object] = []
    peer.bearer.request(ATT_READ_REQ(3), deadline + 2, lambda r, now: late.append(r))
    assert isinstance(late[0], AttTimeoutError)
    assert peer.out == []


def test_timer_restarts_for_each_request() -> None:
    peer = RawPeer()
    peer.bearer.request(ATT_READ_REQ(3), 0, lambda r, now: None)
    peer.bearer.request(ATT_READ_REQ(4), 0, lambda r, now: None)
    peer.feed("0b", now=20 * S)
    assert peer.bearer.get_timer() == 50 * S
    peer.feed("0b", now=21 * S)
    assert peer.bearer.get_timer() is None


def test_configurable_timeout() -> None:
    peer = RawPeer(transaction_timeout_ns=1000)
    peer.bearer.request(ATT_READ_REQ(3), 10, lambda r, now: None)
    assert peer.bearer.get_timer() == 1010


def test_close_fails_pending_and_detaches() -> None:
    server = one_char_server()
    peer = RawPeer(server)
    got: list[object] = []
    peer.bearer.request(ATT_READ_REQ(3), 0, lambda r, now: got.append(r))
    peer.bearer.indicate(3, b"x", 0, lambda e, now: got.append(e))
    peer.bearer.close(9)
    assert [type(g) for g in got] == [AttBearerClosedError, AttBearerClosedError]
    assert server.connections == ()
    assert peer.bearer.state is BearerState.CLOSED
    assert peer.feed("0a0300") == []
    peer.bearer.close(10)  # idempotent


# -- server side ---------------------------------------------------------------------------


def test_unknown_request_gets_request_not_supported() -> None:
    peer = RawPeer()
    assert peer.feed("3f0102") == [bytes.fromhex("013f000006")]


@pytest.mark.parametrize("opcode", ["7f", "ff", "41", "c0"])
def test_unknown_command_is_ignored(opcode: str) -> None:
    assert RawPeer().feed(opcode + "0100") == []


def test_malformed_request_gets_invalid_pdu() -> None:
    peer = RawPeer(one_char_server())
    assert peer.feed("0a03") == [bytes.fromhex("010a000004")]  # Read Request, 1-octet handle
    assert peer.feed("180a") == [bytes.fromhex("0118000004")]  # reserved Execute Write flags


def test_malformed_command_is_ignored() -> None:
    server = one_char_server()
    peer = RawPeer(server)
    assert peer.feed("5203") == []
    assert peer.feed("d20300") == []  # signed write without a signature
    assert server.get_value(3) == b"hello"


def test_empty_pdu_is_ignored() -> None:
    peer = RawPeer()
    assert peer.feed(b"") == []
    assert peer.events == [("violation", 0)]


def test_pdu_longer_than_mtu() -> None:
    server = one_char_server()
    peer = RawPeer(server)
    assert peer.feed(bytes.fromhex("120300") + bytes(21)) == [bytes.fromhex("0112000004")]
    assert peer.feed(bytes.fromhex("520300") + bytes(21)) == []
    assert server.get_value(3) == b"hello"
    assert peer.feed(bytes.fromhex("1b0300") + bytes(21)) == []
    assert [e for e in peer.events if e[0] == "ntf"] == []


def test_commands_are_never_answered() -> None:
    server = one_char_server()
    peer = RawPeer(server)
    assert peer.feed("520300414243") == []
    assert server.get_value(3) == b"ABC"
    assert peer.feed("52ff00414243") == []  # invalid handle: silently ignored


def test_request_while_one_is_outstanding_is_ignored() -> None:
    pending: list[Deferred] = []

    def hook(access: AttributeAccess) -> Deferred:
        d = Deferred()
        pending.append(d)
        return d

    server = GattServer()
    server.add_service(ServiceDef(UUID(0x180F), (CharacteristicDef(UUID(0x2A19), P.READ, b"v", read_hook=hook),)))
    peer = RawPeer(server)
    assert peer.feed("0a0300") == []  # deferred: the peer now has a request outstanding
    assert peer.bearer.server_response_pending
    assert peer.feed("0a0300") == []  # a second request: ignored (Vol 3 Part F 3.3.2)
    assert peer.feed("3f") == []  # unknown request too
    assert peer.events == [("violation", 0), ("violation", 0)]
    assert peer.feed("520300") == []  # commands still processed, never answered
    pending[0].complete(b"late")
    assert peer.out == [bytes.fromhex("0b") + b"late"]
    peer.out.clear()
    assert peer.feed("0a0300") == []  # hook deferred again
    pending[1].fail(AttError(0x80))
    assert peer.out == [bytes.fromhex("010a030080")]


# -- notifications and indications -------------------------------------------------------


def test_notification_truncated_to_mtu_minus_3() -> None:
    peer = RawPeer()
    assert peer.bearer.notify(3, bytes(range(30)))
    assert peer.out == [bytes.fromhex("1b0300") + bytes(range(20))]
    decoded = sb.ATT_Hdr(peer.out[0])
    assert decoded[sb.ATT_Handle_Value_Notification].gatt_handle == 3


def test_one_outstanding_indication() -> None:
    peer = RawPeer()
    done: list[tuple[object, int]] = []
    peer.bearer.indicate(3, b"a", 1, lambda e, now: done.append((e, now)))
    peer.bearer.indicate(4, b"b", 2, lambda e, now: done.append((e, now)))
    assert peer.out == [bytes.fromhex("1d030061")]
    assert peer.bearer.indication_outstanding
    assert peer.bearer.get_timer() == 1 + ATT_TRANSACTION_TIMEOUT_NS
    assert peer.feed("1e", now=5) == [bytes.fromhex("1d040062")]
    assert done == [(None, 5)]
    assert peer.bearer.get_timer() == 5 + ATT_TRANSACTION_TIMEOUT_NS
    peer.feed("1e", now=6)
    assert done == [(None, 5), (None, 6)]
    assert peer.feed("1e", now=7) == []  # no indication outstanding: ignored
    assert peer.events == [("violation", 7)]


def test_indication_timeout() -> None:
    peer = RawPeer()
    done: list[object] = []
    peer.bearer.indicate(3, b"a", 0, lambda e, now: done.append(e))
    peer.bearer.handle_timer(ATT_TRANSACTION_TIMEOUT_NS)
    assert isinstance(done[0], AttTimeoutError)
    assert peer.events == [("timeout", ATT_TRANSACTION_TIMEOUT_NS)]


def test_received_notifications_and_indications() -> None:
    peer = RawPeer()
    assert peer.feed("1b0300414243", now=1) == []
    assert peer.feed("1d0400", now=2) == [bytes.fromhex("1e")]  # confirmed automatically
    multiple = bytes(
        sb.ATT_Hdr()
        / sb.ATT_Multiple_Handle_Value_Notification(
            handles=[
                sb.ATT_Handle_Length_Value_Tuple(handle=5, value=b"xy"),
                sb.ATT_Handle_Length_Value_Tuple(handle=6, value=b"z"),
            ]
        )
    )
    assert peer.feed(multiple, now=3) == []
    assert peer.events == [
        ("ntf", 3, b"ABC", 1), ("ind", 4, b"", 2), ("ntf", 5, b"xy", 3), ("ntf", 6, b"z", 3),
    ]


def test_notify_multiple_must_fit() -> None:
    peer = RawPeer()
    with pytest.raises(AttLocalError):
        peer.bearer.notify_multiple([(3, b"a")])
    with pytest.raises(AttLocalError):
        peer.bearer.notify_multiple([(3, bytes(10)), (4, bytes(10))])  # 29 > 23
    assert peer.bearer.notify_multiple([(3, b"a"), (4, b"bc")])
    assert peer.out == [bytes.fromhex("2303000100610400020062 63".replace(" ", ""))]


# -- state x input table (STYLE 3) --------------------------------------------------------


def _bearer_in(state: BearerState) -> RawPeer:
    peer = RawPeer(one_char_server())
    if state is BearerState.TIMED_OUT:
        peer.bearer.request(ATT_READ_REQ(3), 0, lambda r, now: None)
        peer.bearer.handle_timer(ATT_TRANSACTION_TIMEOUT_NS)
    elif state is BearerState.CLOSED:
        peer.bearer.close(0)
    peer.out.clear()
    return peer


@pytest.mark.parametrize("state", list(BearerState))
def test_state_table(state: BearerState) -> None:
    peer = _bearer_in(state)
    is_open = state is BearerState.OPEN
    assert peer.bearer.is_open is is_open
    # input: a request from the peer
    assert peer.feed("0a0300") == ([bytes.fromhex("0b68656c6c6f")] if is_open else [])
    # input: a local request
    got: list[object] = []
    peer.bearer.request(ATT_READ_REQ(3), 1, lambda r, now: got.append(r))
    if is_open:
        assert peer.out == [bytes.fromhex("0a0300")] and got == []
    else:
        expected = AttTimeoutError if state is BearerState.TIMED_OUT else AttBearerClosedError
        assert peer.out == [] and isinstance(got[0], expected)
    peer.out.clear()
    # input: notify / indicate / command
    assert peer.bearer.notify(3, b"n") is is_open
    done: list[object] = []
    peer.bearer.indicate(3, b"i", 1, lambda e, now: done.append(e))
    assert (done == []) is is_open
    assert peer.bearer.send_command(ATT_WRITE_CMD(3, b"")) is is_open
    # input: the timer
    peer.bearer.handle_timer(10**15)
    assert peer.bearer.state is (BearerState.TIMED_OUT if is_open else state)


# -- offered MTU and the fast codec paths ---------------------------------------------------


def test_client_mtu_exchange_offers_the_given_mtu() -> None:
    peer = RawPeer(local_mtu=247)
    results: list[object] = []
    peer.bearer.exchange_mtu(0, lambda r, now: results.append(r), mtu=100)
    assert peer.out == [bytes.fromhex("026400")]
    assert peer.bearer.local_mtu == 100
    peer.feed("03f700", now=1)  # the server can take 247: ATT_MTU = min(100, 247)
    assert results == [100] and peer.bearer.mtu == 100


@pytest.mark.parametrize("mtu", [22, 528])
def test_client_mtu_exchange_refuses_an_mtu_out_of_range(mtu: int) -> None:
    peer = RawPeer()
    with pytest.raises(AttLocalError):
        peer.bearer.exchange_mtu(0, lambda r, now: None, mtu=mtu)
    assert peer.out == [] and not peer.bearer.mtu_exchange_requested


def test_hot_pdus_literal_bytes() -> None:
    """Notification, indication, confirmation, Write Command and Read as they leave and
    arrive (layouts of Vol 3 Part F 3.4.4.3, 3.4.5.3, 3.4.7.1-3, checked with scapy)."""
    peer = RawPeer(one_char_server())
    assert peer.bearer.notify(0x0003, b"\x01\x02")
    assert peer.out == [bytes(sb.ATT_Hdr() / sb.ATT_Handle_Value_Notification(gatt_handle=3, value=b"\x01\x02"))]
    peer.out.clear()
    peer.bearer.indicate(0x0003, b"\x09", 0)
    assert peer.out == [bytes(sb.ATT_Hdr() / sb.ATT_Handle_Value_Indication(gatt_handle=3, value=b"\x09"))]
    peer.out.clear()
    assert peer.bearer.send_command(ATT_WRITE_CMD(0x0003, b"hi"))
    assert peer.out == [bytes(sb.ATT_Hdr() / sb.ATT_Write_Command(gatt_handle=3, data=b"hi"))]
    assert peer.feed(bytes(sb.ATT_Hdr() / sb.ATT_Read_Request(gatt_handle=3))) == [b"\x0bhello"]
    assert peer.feed("1d03000a") == [bytes.fromhex("1e")]
    assert peer.events[-1] == ("ind", 3, b"\x0a", 0)
    assert peer.feed("1b0300") == [] and peer.events[-1] == ("ntf", 3, b"", 0)
    with pytest.raises(AttLocalError):
        peer.bearer.notify(0x10000, b"")
    with pytest.raises(AttLocalError):
        peer.bearer.indicate(-1, b"", 0)


_HOT_OPCODES = [0x0A, 0x0B, 0x12, 0x13, 0x52, 0x1B, 0x1D, 0x1E]


@settings(max_examples=600, deadline=None)
@given(st.sampled_from(_HOT_OPCODES), st.binary(max_size=8))
def test_decode_pdu_agrees_with_the_generic_decoder(opcode: int, rest: bytes) -> None:
    data = bytes((opcode,)) + rest
    try:
        expected: object = decode_att_pdu(data)
    except AttDecodeError as exc:
        expected = (type(exc), str(exc))
    try:
        got: object = decode_pdu(data)
    except AttDecodeError as exc:
        got = (type(exc), str(exc))
    assert got == expected
    assert type(got) is type(expected)
