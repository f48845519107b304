"""H4 framing and the sans-IO stream parser: whole, byte by byte, split, with garbage."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import linklayer.hci as hci
from linklayer.hci.h4 import H4FramingError, H4PacketType, H4Parser, decode_h4, h4_frame

RESET = bytes.fromhex("030c00")
RESET_COMPLETE = bytes.fromhex("0e0401030c00")
ACL = bytes.fromhex("4000" "0700" "030004000a0300")
SCO = bytes.fromhex("0100" "03" "aabbcc")
# ISO: the top two bits of the length word are RFU and not part of the length.
ISO = bytes.fromhex("0100" "02c0" "dead")
BIG_ACL = bytes.fromhex("4020" "0401") + bytes(range(256)) * 1 + bytes(4)

PACKETS: list[tuple[int, bytes]] = [
    (H4PacketType.COMMAND, RESET),
    (H4PacketType.EVENT, RESET_COMPLETE),
    (H4PacketType.ACL, ACL),
    (H4PacketType.SCO, SCO),
    (H4PacketType.ISO, ISO),
    (H4PacketType.ACL, BIG_ACL),
    (H4PacketType.EVENT, bytes.fromhex("3e0111")),
]
STREAM = b"".join(h4_frame(t, p) for t, p in PACKETS)


def test_packet_type_values() -> None:
    assert [int(t) for t in H4PacketType] == [1, 2, 3, 4, 5]
    assert [t.name for t in H4PacketType] == ["COMMAND", "ACL", "SCO", "EVENT", "ISO"]


def test_h4_frame_literal() -> None:
    assert h4_frame(H4PacketType.COMMAND, RESET) == bytes.fromhex("01030c00")
    assert h4_frame(4, RESET_COMPLETE) == bytes.fromhex("040e0401030c00")
    with pytest.raises(ValueError):
        h4_frame(0x06, b"")


def test_whole_stream() -> None:
    parser = H4Parser()
    assert parser.feed(STREAM) == PACKETS
    assert parser.pending == 0 and parser.discarded == 0


def test_byte_by_byte() -> None:
    parser = H4Parser(strict=True)
    out: list[tuple[int, bytes]] = []
    for i in range(len(STREAM)):
        got = parser.feed(STREAM[i : i + 1])
        out += got
        # A packet is returned exactly when its last octet arrives.
        if got:
            assert parser.pending == 0
    assert out == PACKETS


@given(st.lists(st.integers(0, len(STREAM)), max_size=12))
def test_split_anywhere(cuts: list[int]) -> None:
    bounds = [0, *sorted(cuts), len(STREAM)]
    parser = H4Parser(strict=True)
    out: list[tuple[int, bytes]] = []
    for a, b in zip(bounds, bounds[1:]):
        out += parser.feed(STREAM[a:b])
    assert out == PACKETS


def test_types_are_the_enum() -> None:
    (packet_type, _), = H4Parser().feed(h4_frame(4, RESET_COMPLETE))
    assert packet_type is H4PacketType.EVENT


GARBAGE = bytes([0x00, 0x06, 0x7F, 0xFF, 0x10, 0x3E])


def test_garbage_between_packets_is_skipped_and_counted() -> None:
    stream = b"".join(GARBAGE[: i % 7] + h4_frame(t, p) for i, (t, p) in enumerate(PACKETS))
    parser = H4Parser()
    assert parser.feed(stream) == PACKETS
    assert parser.discarded == sum(min(i % 7, len(GARBAGE)) for i in range(len(PACKETS)))


def test_garbage_byte_by_byte_and_trailing() -> None:
    stream = GARBAGE + STREAM + GARBAGE
    parser = H4Parser()
    out: list[tuple[int, bytes]] = []
    for i in range(len(stream)):
        out += parser.feed(stream[i : i + 1])
    assert out == PACKETS
    assert parser.discarded == 2 * len(GARBAGE)
    assert parser.pending == 0


def test_partial_packet_stays_pending() -> None:
    parser = H4Parser()
    framed = h4_frame(H4PacketType.ACL, ACL)
    assert parser.feed(framed[:-1]) == []
    assert parser.pending == len(framed) - 1
    assert parser.feed(framed[-1:]) == [(H4PacketType.ACL, ACL)]


def test_strict_mode_raises_with_position_and_keeps_earlier_packets() -> None:
    parser = H4Parser(strict=True)
    first = h4_frame(1, RESET)
    with pytest.raises(H4FramingError) as info:
        parser.feed(first + b"\x99" + h4_frame(4, RESET_COMPLETE))
    assert "offset 4" in str(info.value) and "0x99" in str(info.value)
    assert info.value.packets == [(H4PacketType.COMMAND, RESET)]
    assert parser.discarded == 1
    # The offending octet is dropped; the rest is still there.
    assert parser.feed(b"") == [(H4PacketType.EVENT, RESET_COMPLETE)]
    assert isinstance(info.value, ValueError)


def test_max_packet_length_resynchronises() -> None:
    # An 0x02 (ACL type) in the garbage declares a huge length; with a limit the parser
    # skips it instead of waiting forever for 0xFFFF octets.
    stream = bytes.fromhex("02" "0000" "ffff") + h4_frame(1, RESET)
    parser = H4Parser(max_packet_length=1021)
    assert parser.feed(stream) == [(H4PacketType.COMMAND, RESET)]
    assert parser.discarded == 5  # 02, then 00 00 ff ff are not packet types
    with pytest.raises(H4FramingError, match="limit 1021"):
        H4Parser(strict=True, max_packet_length=1021).feed(stream)
    assert H4Parser().feed(stream) == []  # without a limit: waits for the ACL data


def test_accept_subset() -> None:
    parser = H4Parser(accept=[H4PacketType.EVENT, H4PacketType.ACL])
    stream = h4_frame(1, RESET) + h4_frame(4, RESET_COMPLETE)
    # 01 is refused; its 03 0c 00 are not accepted types either.
    assert parser.feed(stream) == [(H4PacketType.EVENT, RESET_COMPLETE)]
    assert parser.discarded == 4
    with pytest.raises(ValueError):
        H4Parser(accept=[7])


def test_decode_h4() -> None:
    assert decode_h4(1, RESET) == hci.HCI_Reset_Command()
    assert decode_h4(4, RESET_COMPLETE) == hci.command_complete(0x0C03, hci.StatusReturn(0))
    assert decode_h4(2, ACL) == hci.HciAclData(0x40, 0, 0, bytes.fromhex("030004000a0300"))
    assert decode_h4(3, SCO) == SCO
    with pytest.raises(ValueError):
        decode_h4(9, b"")


@given(st.lists(st.binary(max_size=40), max_size=10))
def test_random_input_never_raises_and_accounts_for_every_octet(chunks: list[bytes]) -> None:
    parser = H4Parser()
    out: list[tuple[int, bytes]] = []
    for chunk in chunks:
        out += parser.feed(chunk)
    total = sum(len(c) for c in chunks)
    assert sum(1 + len(p) for _, p in out) + parser.discarded + parser.pending == total


@given(st.binary(max_size=80))
def test_random_input_strict_raises_only_framing_errors(data: bytes) -> None:
    parser = H4Parser(strict=True)
    remaining = data
    for _ in range(len(data) + 1):
        try:
            parser.feed(remaining)
            break
        except H4FramingError:
            remaining = b""
    assert parser.pending <= len(data)
