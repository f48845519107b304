"""H4 framing over a byte stream (UART, TCP, pty, vhci, HCI socket), with resynchronisation.

Theory of operation
-------------------
:class:`H4StreamDecoder` wraps the sans-IO :class:`linklayer.hci.h4.H4Parser`: it accepts
only the packet types the other side may send (a controller sends events and data, a host
commands and data), takes a declared length past ``max_packet_length`` as garbage, and
resynchronises by skipping octets that cannot start a packet. Skipped octets are
counted; a burst of more than ``garbage_limit`` of them between two good packets (a wrong
baud rate, a stream that is not H4 at all) raises :class:`H4StreamError` with a message
that says so and shows the first octets, instead of resynchronising forever.

:class:`StreamTransport` is the :class:`~emu.bridge.transports.HciTransport` of every
byte-stream transport: a reader thread calls ``_read_chunk`` (which waits at most a short
while, so that closing is noticed), feeds the decoder and delivers the packets; an
empty read is the other side closing. Writes are H4 frames; while a server transport has
no client yet (``connected`` false) they are kept, in order, and written on connection.
"""

from __future__ import annotations

import threading
from abc import abstractmethod
from typing import Iterable

from linklayer.hci.h4 import H4Parser, h4_frame

from .transports import INBOUND_TYPES, HciTransport, Role, TransportSpec

#: Octets of garbage in a row after which a stream is declared lost.
DEFAULT_GARBAGE_LIMIT = 512
#: Longest packet accepted: ACL/ISO data of a dual-mode controller fits comfortably.
DEFAULT_MAX_PACKET_LENGTH = 4096
#: Packets kept while a server waits for its client (the rest are dropped).
MAX_PENDING_WRITES = 1024


class H4StreamError(ValueError):
    """The stream is not (or no longer) H4: too much garbage between packets."""


class H4StreamDecoder:
    """Sans-IO: octets in, ``(h4_type, packet)`` out, resynchronising on garbage."""

    def __init__(
        self,
        accept: Iterable[int],
        *,
        max_packet_length: int = DEFAULT_MAX_PACKET_LENGTH,
        garbage_limit: int = DEFAULT_GARBAGE_LIMIT,
    ) -> None:
        self.parser = H4Parser(max_packet_length=max_packet_length, accept=accept)
        self.garbage_limit = garbage_limit
        self._run = 0  # octets discarded since the last good packet
        self._sample = bytearray()  # the first garbage octets of the current run
        self.packets = 0

    @property
    def discarded(self) -> int:
        """Octets skipped since creation."""
        return self.parser.discarded

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        """The packets ``data`` completes; :class:`H4StreamError` past the garbage limit."""
        before = self.parser.discarded
        if self._run and len(self._sample) < 16:
            self._sample += data[: 16 - len(self._sample)]
        packets = self.parser.feed(data)
        skipped = self.parser.discarded - before
        if packets:
            self.packets += len(packets)
            self._run = 0
            self._sample.clear()
        elif skipped:
            if not self._run:
                self._sample = bytearray(data[:16])
            self._run += skipped
            if self._run > self.garbage_limit:
                shown = self._sample.hex(" ")
                raise H4StreamError(
                    f"{self._run} octets that are not H4 packets in a row (starting {shown}): "
                    "the other side does not speak H4 here (wrong baud rate or flow control?)"
                )
        return [(int(t), p) for t, p in packets]


class StreamTransport(HciTransport):
    """An :class:`HciTransport` over a byte stream; see the module docstring."""

    def __init__(self, spec: TransportSpec, role: Role) -> None:
        super().__init__(spec, role)
        self.decoder = H4StreamDecoder(INBOUND_TYPES[role])
        self.connected = True
        self._pending: list[bytes] = []
        self._write_lock = threading.Lock()

    def _start_readers(self) -> None:
        self._spawn(self._reader, "reader")

    def _reader(self) -> None:
        if not self._wait_connected():
            return
        while not self.closing:
            try:
                data = self._read_chunk()
            except OSError as exc:
                if not self.closing:
                    self.lost(f"read failed: {exc.strerror or exc}")
                return
            if data is None:
                continue
            if not data:
                self.lost(self._eof_reason())
                return
            try:
                packets = self.decoder.feed(data)
            except H4StreamError as exc:
                self.lost(f"H4 framing lost: {exc}")
                return
            for h4_type, packet in packets:
                self.deliver(h4_type, packet)

    def _wait_connected(self) -> bool:
        """Server transports wait for their client here; True when connected."""
        return True

    def _set_connected(self) -> None:
        with self._write_lock:
            self.connected = True
            pending, self._pending = self._pending, []
            for frame in pending:
                self._write(frame)

    def _send(self, h4_type: int, packet: bytes) -> None:
        frame = h4_frame(h4_type, packet)
        with self._write_lock:
            if not self.connected:
                if len(self._pending) < MAX_PENDING_WRITES:
                    self._pending.append(frame)
                return
            self._write(frame)

    def _eof_reason(self) -> str:
        return "closed by the other side"

    @abstractmethod
    def _read_chunk(self) -> bytes | None:
        """Octets received (waiting a short while); None: nothing yet; b"": closed."""

    @abstractmethod
    def _write(self, frame: bytes) -> None:
        """Write all of ``frame`` (OSError when the stream is gone)."""


__all__ = [
    "DEFAULT_GARBAGE_LIMIT",
    "DEFAULT_MAX_PACKET_LENGTH",
    "H4StreamError",
    "H4StreamDecoder",
    "StreamTransport",
]
