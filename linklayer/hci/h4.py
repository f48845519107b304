"""H4 (UART transport) framing: a type octet before each HCI packet (Vol 4 Part A).

Theory of operation
-------------------
On a UART, a TCP/pty bridge or in a btsnoop H4 capture, each HCI packet is preceded by
one packet-type octet (:class:`H4PacketType`). :func:`h4_frame` adds it.
:class:`H4Parser` is the sans-IO reverse: ``feed()`` it whatever octets arrived (a packet
split anywhere, several packets in one chunk) and it returns the complete packets
``(type, packet)`` in order, keeping the rest for the next call. The length of each
packet comes from its header (Vol 4 Part E 5.4): command 3 octets (length u8),
ACL 4 (length u16), SCO 3 (length u8), event 2 (length u8), ISO 4 (14-bit length).

H4 has no sync word, so a parser that lost its place can only resynchronise on
octets that may start a packet: an octet that is not an accepted packet type is
skipped and counted in :attr:`H4Parser.discarded`. A declared length above
``max_packet_length`` (if given) is also taken as garbage and its type octet skipped.
In ``strict`` mode the parser raises :class:`H4FramingError` instead, after dropping the
offending octet, with the packets completed before it in the exception's ``packets``.
"""

from __future__ import annotations

import enum
from typing import Iterable

from .acl import HciAclData
from .codec import HciCommand, HciEvent
from .registry import parse_command, parse_event


class H4PacketType(enum.IntEnum):
    """The H4 packet indicators (Vol 4 Part A 2)."""

    COMMAND = 0x01
    ACL = 0x02
    SCO = 0x03
    EVENT = 0x04
    ISO = 0x05


#: For each type: (header size, offset of the length field, its size, mask).
_HEADERS: dict[int, tuple[int, int, int, int]] = {
    H4PacketType.COMMAND: (3, 2, 1, 0xFF),
    H4PacketType.ACL: (4, 2, 2, 0xFFFF),
    H4PacketType.SCO: (3, 2, 1, 0xFF),
    H4PacketType.EVENT: (2, 1, 1, 0xFF),
    H4PacketType.ISO: (4, 2, 2, 0x3FFF),
}


class H4FramingError(ValueError):
    """The stream holds octets that cannot start an H4 packet (strict mode)."""

    def __init__(self, message: str, packets: list[tuple[int, bytes]]) -> None:
        super().__init__(message)
        #: Packets completed before the offending octet, in order.
        self.packets = packets


def h4_frame(packet_type: int, packet: bytes) -> bytes:
    """The H4 form of an HCI packet: its type octet, then the packet."""
    if packet_type not in _HEADERS:
        raise ValueError(f"0x{packet_type:02x} is not an H4 packet type")
    return bytes([packet_type]) + bytes(packet)


def decode_h4(packet_type: int, packet: bytes) -> HciCommand | HciEvent | HciAclData | bytes:
    """Decode one packet by its H4 type; SCO and ISO packets are returned as bytes.

    Raises :class:`~linklayer.hci.codec.HciDecodeError` for a malformed packet.
    """
    if packet_type == H4PacketType.COMMAND:
        return parse_command(packet)
    if packet_type == H4PacketType.EVENT:
        return parse_event(packet)
    if packet_type == H4PacketType.ACL:
        return HciAclData.from_bytes(packet)
    if packet_type in _HEADERS:
        return bytes(packet)
    raise ValueError(f"0x{packet_type:02x} is not an H4 packet type")


class H4Parser:
    """Sans-IO H4 stream parser: ``feed(bytes) -> [(type, packet), ...]``."""

    def __init__(
        self,
        strict: bool = False,
        max_packet_length: int | None = None,
        accept: Iterable[int] = tuple(H4PacketType),
    ) -> None:
        self.strict = strict
        self.max_packet_length = max_packet_length
        self.accept = frozenset(int(t) for t in accept)
        unknown = self.accept - set(_HEADERS)
        if unknown:
            raise ValueError(f"not H4 packet types: {sorted(unknown)}")
        #: Octets skipped while resynchronising, since creation.
        self.discarded = 0
        self._buffer = bytearray()
        self._consumed = 0  # stream offset of _buffer[0], for messages

    @property
    def pending(self) -> int:
        """Octets held back: the start of a packet not yet complete."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        """Add received octets; return the packets they complete, in order.

        In strict mode, raises :class:`H4FramingError` at the first octet that cannot
        start a packet; that octet is dropped, the packets completed before it are in
        the exception's ``packets``, and the rest stays buffered for the next call.
        """
        self._buffer += data
        buf = self._buffer
        out: list[tuple[int, bytes]] = []
        pos = 0
        error: str | None = None
        while pos < len(buf):
            packet_type = buf[pos]
            if packet_type not in self.accept:
                error = f"octet 0x{packet_type:02x} is not an accepted H4 packet type"
            else:
                header_size, len_at, len_size, mask = _HEADERS[packet_type]
                if len(buf) - pos - 1 < header_size:
                    break
                start = pos + 1 + len_at
                length = int.from_bytes(buf[start : start + len_size], "little") & mask
                limit = self.max_packet_length
                if limit is not None and length > limit:
                    error = (
                        f"{H4PacketType(packet_type).name} packet declares {length} "
                        f"octets, more than the limit {limit}"
                    )
                else:
                    end = pos + 1 + header_size + length
                    if end > len(buf):
                        break
                    out.append((H4PacketType(packet_type), bytes(buf[pos + 1 : end])))
                    pos = end
                    continue
            # The octet at pos cannot start a packet: skip it.
            self.discarded += 1
            if self.strict:
                where = self._consumed + pos
                self._trim(pos + 1)
                raise H4FramingError(f"H4 framing error at stream offset {where}: {error}", out)
            pos += 1
        self._trim(pos)
        return out

    def _trim(self, count: int) -> None:
        del self._buffer[:count]
        self._consumed += count


__all__ = [
    "H4PacketType",
    "H4FramingError",
    "h4_frame",
    "decode_h4",
    "H4Parser",
]
