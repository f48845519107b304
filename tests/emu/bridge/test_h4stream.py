"""H4 over a byte stream: whole, byte by byte, garbage between packets, too much garbage."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emu.bridge.h4stream import H4StreamDecoder, H4StreamError
from emu.bridge.transports import INBOUND_TYPES

# Literal packets: Command Complete for HCI_Reset (Vol 4 Part E 7.7.14, 7.3.2), an LE
# Connection Complete and an ATT Read By Group Type Request in ACL, as our controller sent
# them (tests/emu/bridge/data/sim_peripheral_session.txt).
RESET_COMPLETE = bytes.fromhex("040e0401030c00")
CONNECTION_COMPLETE = bytes.fromhex("043e1301000000" "0100a1b2c3d4e5f0" "28000000480100")
ACL_READ_BY_GROUP = bytes.fromhex("0200200b0007000400100100ffff0028")
STREAM = RESET_COMPLETE + CONNECTION_COMPLETE + ACL_READ_BY_GROUP
EXPECTED = [
    (0x04, RESET_COMPLETE[1:]),
    (0x04, CONNECTION_COMPLETE[1:]),
    (0x02, ACL_READ_BY_GROUP[1:]),
]


def host_decoder(**kw: int) -> H4StreamDecoder:
    return H4StreamDecoder(INBOUND_TYPES["host"], **kw)


def test_whole_stream() -> None:
    assert host_decoder().feed(STREAM) == EXPECTED


def test_byte_by_byte() -> None:
    decoder = host_decoder()
    out = []
    for i in range(len(STREAM)):
        out += decoder.feed(STREAM[i : i + 1])
    assert out == EXPECTED
    assert decoder.discarded == 0


@given(st.lists(st.integers(min_value=1, max_value=len(STREAM)), max_size=20))
def test_any_split(cuts: list[int]) -> None:
    decoder = host_decoder()
    out = []
    points = sorted(set(cuts)) + [len(STREAM)]
    start = 0
    for p in points:
        out += decoder.feed(STREAM[start:p])
        start = p
    assert out == EXPECTED


def test_garbage_between_packets_is_skipped() -> None:
    # 0x00, 0xff, 0x01 (a command: not something a controller sends), 0x99 cannot start a packet.
    garbage = bytes.fromhex("00ff0199")
    stream = garbage + RESET_COMPLETE + garbage + ACL_READ_BY_GROUP + garbage + CONNECTION_COMPLETE
    decoder = host_decoder()
    assert decoder.feed(stream) == [EXPECTED[0], EXPECTED[2], EXPECTED[1]]
    assert decoder.discarded == 3 * len(garbage)


def test_garbage_byte_by_byte_then_packet() -> None:
    decoder = host_decoder()
    out = []
    for octet in bytes.fromhex("7f7e00") + RESET_COMPLETE:
        out += decoder.feed(bytes([octet]))
    assert out == [EXPECTED[0]]


def test_oversized_length_is_garbage() -> None:
    # An ACL header declaring 0xFFFF octets is taken as garbage, not waited for.
    decoder = host_decoder(max_packet_length=1024)
    assert decoder.feed(bytes.fromhex("020000ffff") + RESET_COMPLETE) == [EXPECTED[0]]


def test_a_host_stream_accepts_commands_not_events() -> None:
    decoder = H4StreamDecoder(INBOUND_TYPES["controller"])
    reset = bytes.fromhex("01030c00")
    assert decoder.feed(RESET_COMPLETE[:1] + reset) == [(0x01, reset[1:])]


def test_too_much_garbage_fails_clearly() -> None:
    decoder = host_decoder(garbage_limit=64)
    decoder.feed(RESET_COMPLETE)
    with pytest.raises(H4StreamError, match=r"not H4 packets in a row \(starting 55 55 55.*wrong baud rate"):
        for _ in range(10):
            decoder.feed(b"\x55" * 10)


def test_garbage_run_resets_after_a_good_packet() -> None:
    decoder = host_decoder(garbage_limit=64)
    for _ in range(10):
        assert decoder.feed(b"\x55" * 40 + RESET_COMPLETE) == [EXPECTED[0]]
