"""``_bleio.CharacteristicBuffer`` and ``_bleio.PacketBuffer``.

Theory of operation
-------------------
:class:`CharacteristicBuffer` is a byte FIFO fed by a characteristic: client writes to a
local characteristic, or notifications of a remote one. New bytes that do not fit are
dropped. It reads like the board's stream: ``read(n)`` asks the FIFO for the missing
bytes, each ask waiting (simulated time) until they are all there or ``timeout`` passes,
and returns when an ask brings nothing more; ``read()`` reads 256-octet chunks the same
way; ``readline()`` reads one byte at a time until a newline or a timeout. Reading
``in_waiting`` lets simulated time advance (busy loops). Reading a remote buffer whose
connection is gone raises ``ConnectionError("Not connected")``.

:class:`PacketBuffer` keeps whole packets (``buffer_size`` packets of
``max_packet_size``; the oldest is dropped to make room). As server it serves the first
client that writes or subscribes to notifications and forgets it when it unsubscribes or
disconnects; as client it subscribes (notifications preferred) when created. ``readinto``
never blocks: it returns 0 when no packet is waiting (and lets simulated time advance,
since callers poll it).

Outgoing packets follow the nRF port: one packet is in flight at a time (a notification
until the host's "sent" signal, the SoftDevice's HVN_TX_COMPLETE; an indication until its
confirmation; a Write Command until "sent"; a Write Request until its response). While
one is in flight, ``write`` appends to the *pending* packet (``header`` only when it is
empty) and returns at once; a write whose data do not fit the pending packet
(``outgoing_packet_length``) first waits (simulated time) until the pending packet has
left. When the in-flight packet completes, the pending one goes out. ``flush`` waits
until nothing is pending or in flight. A new or lost connection forgets both.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Self

from host.att import AttError, AttLocalError
from host.hci import LocalError
from phy.units import MS

from .errors import DEINITED_MESSAGE, NOT_CONNECTED, BluetoothError, ConnectionError
from .gatt import Characteristic
from .node import BleioNode, LinkState
from .values import buffer_bytes, check_type, int_min, writable_buffer

__all__ = ["CharacteristicBuffer", "PacketBuffer"]

#: Chunk size of ``read()`` without a count (MicroPython's DEFAULT_BUFFER_SIZE).
READALL_CHUNK = 256
#: Largest packet a PacketBuffer handles (BLE_GATTS_VAR_ATTR_LEN_MAX - 3).
MAX_PACKET = 509


def _remote_link(characteristic: Characteristic) -> LinkState | None:
    connection = characteristic._service._connection
    return None if connection is None else connection._link


class CharacteristicBuffer:
    """A FIFO of the bytes written to (local) or notified by (remote) a characteristic."""

    def __init__(self, characteristic: Characteristic, *, timeout: float = 1, buffer_size: int = 64) -> None:
        timeout_s = float(timeout)
        if timeout_s < 0.0:
            raise ValueError("timeout must be >= 0.0")
        int_min(int(buffer_size), 1, "buffer_size")
        check_type(characteristic, Characteristic, "characteristic")
        self._characteristic: Characteristic | None = characteristic
        self._node: BleioNode = characteristic._node
        self._timeout_ns = int(timeout_s * 1000) * MS
        self._capacity = int(buffer_size)
        self._data = bytearray()
        self._link = _remote_link(characteristic) if characteristic._service.remote else None
        if self._link is not None:
            self._key = (self._link.handle, characteristic._handle)
            self._node.subscribe(self._node.notification_subscribers, self._key, self._on_data)
        else:
            characteristic._listeners.append(self._on_data)

    def _on_data(self, connection: int, value: bytes) -> None:
        room = self._capacity - len(self._data)
        if room > 0:
            self._data += value[:room]

    # -- checks ------------------------------------------------------------------------------

    def _check(self) -> None:
        if self._characteristic is None:
            raise ValueError(DEINITED_MESSAGE)

    def _check_connected(self) -> None:
        self._check()
        if self._link is not None and not self._link.connected:
            raise ConnectionError(NOT_CONNECTED)

    def _read_some(self, count: int) -> bytes:
        """One stream read: wait for ``count`` bytes or the timeout, take what is there."""
        self._check_connected()
        self._node.wait_until(lambda: len(self._data) >= count, self._timeout_ns)
        out = bytes(self._data[:count])
        del self._data[:count]
        return out

    def _read_up_to(self, count: int) -> bytes:
        out = bytearray()
        while len(out) < count:
            got = self._read_some(count - len(out))
            if not got:
                break
            out += got
        return bytes(out)

    # -- stream methods ------------------------------------------------------------------------

    def read(self, nbytes: int | None = None) -> bytes:
        """Read ``nbytes`` (or everything until a timeout brings nothing)."""
        self._check_connected()
        if nbytes is not None:
            return self._read_up_to(int(nbytes))
        out = bytearray()
        while True:
            got = self._read_up_to(READALL_CHUNK)
            out += got
            if len(got) < READALL_CHUNK:
                return bytes(out)

    def readinto(self, buf: Any, nbytes: int | None = None) -> int:
        """Read at most ``len(buf)`` (or ``nbytes``) bytes into ``buf``; the count read."""
        view = writable_buffer(buf)
        self._check_connected()
        count = len(view) if nbytes is None else min(int(nbytes), len(view))
        data = self._read_up_to(count)
        view[: len(data)] = data
        return len(data)

    def readline(self) -> bytes:
        """Read up to and including a newline (or what arrived before a timeout)."""
        self._check_connected()
        out = bytearray()
        while True:
            got = self._read_some(1)
            if not got:
                break
            out += got
            if got == b"\n":
                break
        return bytes(out)

    def __iter__(self) -> CharacteristicBuffer:
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    @property
    def in_waiting(self) -> int:
        """Bytes waiting to be read (reading it lets simulated time advance)."""
        self._check()
        self._node.poll()
        return len(self._data)

    def reset_input_buffer(self) -> None:
        self._check()
        self._data.clear()

    def deinit(self) -> None:
        """Stop buffering; the object can no longer be used."""
        characteristic = self._characteristic
        if characteristic is None:
            return
        if self._link is not None:
            self._node.unsubscribe(self._node.notification_subscribers, self._key, self._on_data)
        elif self._on_data in characteristic._listeners:
            characteristic._listeners.remove(self._on_data)
        self._characteristic = None
        self._data.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.deinit()

    def __repr__(self) -> str:
        return "<CharacteristicBuffer>"


class PacketBuffer:
    """Whole packets in and out of a characteristic (see the module docstring)."""

    def __init__(self, characteristic: Characteristic, *, buffer_size: int, max_packet_size: int | None = None) -> None:
        int_min(int(buffer_size), 1, "buffer_size")
        check_type(characteristic, Characteristic, "characteristic")
        self._characteristic: Characteristic | None = characteristic
        self._node: BleioNode = characteristic._node
        max_packet = characteristic._max_length if max_packet_size is None else int(max_packet_size)
        self._max_packet = min(max_packet, MAX_PACKET)
        props = characteristic._props
        incoming = props & (Characteristic.WRITE_NO_RESPONSE | Characteristic.WRITE)
        outgoing = props & (Characteristic.NOTIFY | Characteristic.INDICATE)
        self._client = characteristic._service.remote
        if self._client:
            incoming, outgoing = outgoing, incoming
        self._capacity = int(buffer_size) * (2 + self._max_packet) if incoming else 0
        self._packets: deque[bytes] = deque()
        self._used = 0
        self._outgoing = bool(outgoing)
        #: The packet being filled, the link it is for, and whether one is in flight.
        self._pending = bytearray()
        self._out_link: LinkState | None = None
        self._in_flight = False
        self._flight = 0  # bumped to disown the callbacks of a forgotten packet
        node = self._node
        if self._client:
            self._link = _remote_link(characteristic)
            self._conn: int | None = None if self._link is None or not self._link.connected else self._link.handle
            if self._link is not None:
                self._key = (self._link.handle, characteristic._handle)
                node.subscribe(node.notification_subscribers, self._key, self._on_packet)
                node.subscribe(node.indication_subscribers, self._key, self._on_packet)
            self._write_type = "command" if outgoing & Characteristic.WRITE_NO_RESPONSE else "request"
            if incoming:
                if incoming & Characteristic.NOTIFY:
                    characteristic.set_cccd(notify=True)
                else:
                    characteristic.set_cccd(indicate=True)
        else:
            self._link = None
            self._conn = None
            characteristic._listeners.append(self._on_client_write)
            node.subscribe(node.cccd_subscribers, characteristic, self._on_cccd)
            self._write_type = "notify" if outgoing & Characteristic.NOTIFY else "indicate"

    # -- incoming ------------------------------------------------------------------------------

    def _on_packet(self, connection: int, value: bytes) -> None:
        size = len(value) + 2
        if size > self._capacity:
            return
        while self._capacity - self._used < size and self._packets:
            self._used -= len(self._packets.popleft()) + 2
        self._packets.append(bytes(value))
        self._used += size

    def _on_client_write(self, connection: int, value: bytes) -> None:
        if self._conn is None or self._conn not in self._node.links:
            self._conn = connection
        elif self._conn != connection:
            return
        self._on_packet(connection, value)

    def _on_cccd(self, connection: int, cccd: int) -> None:
        self._conn = connection if cccd & 1 else None

    def _connection(self) -> int | None:
        """The connection served now (None when it is gone)."""
        if self._conn is None or self._conn not in self._node.links:
            return None
        return self._conn

    # -- API -----------------------------------------------------------------------------------

    def _check(self) -> Characteristic:
        if self._characteristic is None:
            raise ValueError(DEINITED_MESSAGE)
        return self._characteristic

    def readinto(self, buf: Any) -> int:
        """Read one packet into ``buf``: its length, or 0 when none is waiting."""
        self._check()
        view = writable_buffer(buf)
        if not self._packets:
            self._node.poll()
            return 0
        packet = self._packets.popleft()
        self._used -= len(packet) + 2
        if len(packet) > len(view):
            raise ValueError(f"Buffer too short by {len(packet) - len(view)} bytes")
        view[: len(packet)] = packet
        return len(packet)

    def write(self, data: Any, *, header: Any = None) -> int:
        """Add ``data`` (after ``header`` when the pending packet is empty) to the pending
        packet; the bytes written (0 when not connected). See the module docstring."""
        self._check()
        payload = buffer_bytes(data)
        head = b"" if header is None else buffer_bytes(header)
        if not self._outgoing:
            raise BluetoothError("Writes not supported on Characteristic")
        link = self._out_state()
        if link is None:
            return 0
        outgoing_length = self._outgoing_length()
        total = len(payload) + len(head)
        if total > outgoing_length:
            raise ValueError("Total data to write is larger than outgoing_packet_length")
        if total > self._max_packet:
            raise ValueError("Total data to write is larger than max_packet_size")
        room = min(outgoing_length, self._max_packet)
        if self._pending and len(self._pending) + len(payload) > room:
            # The pending packet is full: wait until it has gone out.
            self._node.wait_until(lambda: not self._pending or self._out_state() is not link, None)
            if self._out_state() is not link:
                return 0
        written = 0
        if not self._pending:
            self._pending += head
            written += len(head)
        self._pending += payload
        written += len(payload)
        if not self._in_flight:
            self._send_pending()
        return written

    def flush(self) -> None:
        """Wait (simulated time) until nothing is pending or in flight (or the link is gone)."""
        self._check()
        link = self._out_state()
        if link is None:
            return
        self._node.wait_until(
            lambda: (not self._pending and not self._in_flight) or self._out_state() is not link, None
        )

    def _out_state(self) -> LinkState | None:
        """The link writes go to now; the outgoing state is forgotten when it changed."""
        conn = self._connection()
        link = None if conn is None else self._node.links.get(conn)
        if link is not self._out_link:
            self._out_link = link
            self._pending = bytearray()
            self._in_flight = False
            self._flight += 1
        return link

    def _send_pending(self) -> None:
        """``queue_next_write``: put the pending packet in flight. A packet the host
        refuses (link closing, client not subscribed) is dropped; the board would keep it
        and hang the next write that does not fit."""
        characteristic = self._characteristic
        link = self._out_link
        if not self._pending or characteristic is None or link is None or not link.connected:
            return
        packet = bytes(self._pending)
        self._pending = bytearray()
        self._in_flight = True
        self._flight += 1
        flight = self._flight

        def done(*_: object) -> None:
            if flight != self._flight:
                return
            self._in_flight = False
            self._send_pending()
            self._node.pulse()

        node = self._node
        host = node.host
        handle = characteristic._handle
        try:
            if self._client:
                if self._write_type == "command":
                    sent = host.att_bearer(link.handle).write_without_response(handle, packet, on_sent=done)
                else:
                    host.gatt_client(link.handle).write(handle, packet, node.now, on_done=done)
                    sent = True
            else:
                characteristic._service._commit()
                server = host.gatt_server
                if self._write_type == "notify":
                    subscribed = bool(server.subscription(link.handle, handle) & 1)
                    sent = subscribed and host.att_bearer(link.handle).notify(handle, packet, on_sent=done)
                else:
                    sent = bool(server.indicate(handle, node.now, packet, connection=link.handle,
                                                on_done=done))
        except (LocalError, AttLocalError, AttError):
            sent = False
        if not sent and flight == self._flight:
            self._in_flight = False
        node.service()

    def _mtu_payload(self) -> int | None:
        conn = self._connection()
        if conn is None:
            return None
        return self._node.links[conn].mtu - 3

    def _incoming_length(self) -> int:
        characteristic = self._check()
        if self._client and characteristic._props & (Characteristic.INDICATE | Characteristic.NOTIFY):
            payload = self._mtu_payload()
            return -1 if payload is None else payload
        return characteristic._max_length

    def _outgoing_length(self) -> int:
        characteristic = self._check()
        if not self._client and characteristic._props & (Characteristic.INDICATE | Characteristic.NOTIFY):
            payload = self._mtu_payload()
            if payload is None:
                return -1
            return min(payload, self._max_packet, characteristic._max_length)
        if self._client:
            payload = self._mtu_payload()
            if payload is not None:
                return min(payload, self._max_packet)
        return min(characteristic._max_length, self._max_packet)

    @property
    def incoming_packet_length(self) -> int:
        """Largest packet this buffer reads."""
        size = self._incoming_length()
        if size < 0:
            raise ValueError("No connection: length cannot be determined")
        return size

    @property
    def outgoing_packet_length(self) -> int:
        """Largest packet this buffer writes."""
        size = self._outgoing_length()
        if size < 0:
            raise ValueError("No connection: length cannot be determined")
        return size

    @property
    def packet_size(self) -> int:
        """Deprecated name of :attr:`incoming_packet_length`."""
        return self.incoming_packet_length

    def deinit(self) -> None:
        """Stop buffering; the object can no longer be used."""
        characteristic = self._characteristic
        if characteristic is None:
            return
        node = self._node
        if self._client:
            if self._link is not None:
                node.unsubscribe(node.notification_subscribers, self._key, self._on_packet)
                node.unsubscribe(node.indication_subscribers, self._key, self._on_packet)
        else:
            if self._on_client_write in characteristic._listeners:
                characteristic._listeners.remove(self._on_client_write)
            node.unsubscribe(node.cccd_subscribers, characteristic, self._on_cccd)
        self._characteristic = None
        self._packets.clear()
        self._used = 0

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.deinit()

    def __repr__(self) -> str:
        return "<PacketBuffer>"
