"""One LE connection as the device API shows it: GATT client calls that block, and the link.

Theory of operation
-------------------
A :class:`Connection` wraps one HCI connection handle of its :class:`~emu.device.Device`.
Each GATT call starts the host's :class:`~host.gatt_client.GattClient` procedure (Core
Specification Vol 3 Part G 4), pushes the resulting HCI packets out, then waits on the
device's waiter until the operation completes; a failed operation raises
:class:`~emu.device_errors.GattError` (the peer's ATT error), ``DeviceTimeoutError`` or
:class:`~emu.device_errors.Disconnected`. Procedures run one at a time per connection
(the host queues them), as the ATT bearer allows only one outstanding request.

Targets of reads and writes are a discovered :class:`~emu.device_gatt.RemoteCharacteristic`
(its value), a :class:`~emu.device_gatt.RemoteDescriptor`, or a plain attribute handle.

Notifications and indications of a subscribed characteristic go to its callback (run
with the waiter's ``call_soon``), or, without a callback, to a queue read by
:meth:`Connection.next_value`. Link events (parameter updates, MTU, pairing, encryption
changes, PHY updates, data length changes, disconnection) are fed by the device from the
host's events; :meth:`Connection.set_phy` and :meth:`Connection.set_data_length` use
:mod:`host.gap_phy` (Vol 4 Part E 7.8.33, 7.8.49).

Security: :meth:`Connection.pair` always runs a fresh pairing (or, as peripheral, sends
a Security Request); :meth:`Connection.encrypt` re-encrypts a reconnection with the LTK
of a stored bond, without pairing (Vol 3 Part C 10.3.3, Vol 3 Part H 2.4.4).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any, Callable, Sequence, TypeVar

from host.events import (
    ConnectionUpdated,
    ConnectionUpdateFailed,
    DataLengthChanged,
    EncryptionChanged,
    HostEvent,
    MtuChanged,
    PairingComplete,
    PhyUpdated,
    PhyUpdateFailed,
)
from host.gap import Connection as GapConnection
from host.gap_phy import PHY_BIT_1M, PHY_BIT_2M, PHY_BIT_CODED, tx_time_for
from host.gap_params import ConnectionParameters
from host.gatt_client import GattClient, GattOperation
from host.hci import LocalError
from host.smp_types import LinkSecurity, SmpLocalError
from host.uuid import UUID
from linklayer.address import Address
from phy.units import MS, UNIT_10MS, US

from emu.device_errors import (
    DeviceError,
    DeviceTimeoutError,
    DeviceUsageError,
    Disconnected,
    from_att_error,
    host_errors,
)
from emu.device_gatt import (
    RemoteCharacteristic,
    RemoteDescriptor,
    RemoteService,
    UuidLike,
    as_uuid,
    remote_services,
)

if TYPE_CHECKING:
    from emu.device import Device

__all__ = ["Connection", "DataLength", "PhyName", "Target", "connection_parameters", "ms_to_ns"]

T = TypeVar("T")
Target = RemoteCharacteristic | RemoteDescriptor | int
ValueCallback = Callable[[bytes], object]
#: A PHY by name: ``"1M"``, ``"2M"`` or ``"coded"`` (LE 1M, LE 2M, LE Coded).
PhyName = str
#: ``(max_tx_octets, max_tx_time_us, max_rx_octets, max_rx_time_us)`` in effect.
DataLength = tuple[int, int, int, int]

_PHY_BITS = {"1m": PHY_BIT_1M, "2m": PHY_BIT_2M, "coded": PHY_BIT_CODED}
_PHY_NAMES = {1: "1M", 2: "2M", 3: "coded"}


def _phy_bits(what: str, phys: PhyName | Sequence[PhyName]) -> int:
    """The HCI PHYS bit field (Vol 4 Part E 7.8.49) of a PHY name or a list of names."""
    if isinstance(phys, str):
        names: list[object] = [phys]
    elif isinstance(phys, (list, tuple)):
        names = list(phys)
    else:
        raise DeviceUsageError(f"set_phy: {what} PHY {phys!r}: give '1M', '2M' or 'coded' (or a list of them)")
    bits = 0
    for name in names:
        bit = _PHY_BITS.get(str(name).lower()) if isinstance(name, str) else None
        if bit is None:
            raise DeviceUsageError(f"set_phy: {what} PHY {name!r}: give '1M', '2M' or 'coded' (or a list of them)")
        bits |= bit
    if not bits:
        raise DeviceUsageError(f"set_phy: name at least one {what} PHY")
    return bits

#: How long a GATT operation may take before the call gives up (the ATT transaction
#: timeout is 30 s, Vol 3 Part F 3.3.3; the host then fails the operation itself).
DEFAULT_GATT_TIMEOUT_MS = 35_000.0


def ms_to_ns(ms: float) -> int:
    """Milliseconds (int or float) to integer nanoseconds."""
    return int(round(float(ms) * MS))


def connection_parameters(
    interval_ms: float | tuple[float, float] | None,
    latency: int = 0,
    supervision_timeout_ms: float | None = None,
) -> ConnectionParameters:
    """Connection parameters from milliseconds (Vol 6 Part B 4.5.1); without a supervision
    timeout, 4 s or the smallest valid one above ``(1 + latency) * interval_max * 2``."""
    if interval_ms is None:
        base = ConnectionParameters()
        imin, imax = base.interval_min_ns, base.interval_max_ns
    elif isinstance(interval_ms, tuple):
        imin, imax = ms_to_ns(interval_ms[0]), ms_to_ns(interval_ms[1])
    else:
        imin = imax = ms_to_ns(interval_ms)
    if supervision_timeout_ms is None:
        floor = (1 + latency) * imax * 2
        timeout = max(4000 * MS, (floor // UNIT_10MS + 1) * UNIT_10MS)
    else:
        timeout = ms_to_ns(supervision_timeout_ms)
    return ConnectionParameters(imin, imax, latency, timeout)


class Connection:
    """An LE connection of a device (see the module docstring)."""

    def __init__(
        self,
        device: Device,
        handle: int,
        role: str,
        peer_address: Address,
        interval_ns: int,
        latency: int,
        supervision_timeout_ns: int,
    ) -> None:
        self.device = device
        #: The HCI Connection_Handle.
        self.handle = handle
        #: ``"central"`` or ``"peripheral"`` (our role).
        self.role = role
        self.peer_address = peer_address
        self.interval_ns = interval_ns
        self.latency = latency
        self.supervision_timeout_ns = supervision_timeout_ns
        self.connected = True
        #: The HCI reason of the disconnection, once disconnected.
        self.disconnect_reason: int | None = None
        #: The services found by the last :meth:`discover`.
        self.services: list[RemoteService] | None = None
        #: Called (through the waiter) with the reason when the link goes down.
        self.on_disconnect: Callable[[int], object] | None = None
        self._callbacks: dict[int, ValueCallback] = {}
        self._queues: dict[int, deque[bytes]] = {}
        self._updates: list[HostEvent] = []
        self._pairings: list[PairingComplete] = []
        self._encryptions: list[EncryptionChanged] = []
        self._phy_events: list[PhyUpdated | PhyUpdateFailed] = []
        self._lengths: list[DataLengthChanged] = []
        self._last_mtu = 23
        self._last_phy: tuple[int, int] = (1, 1)
        self._last_lengths: DataLength = (27, 328, 27, 328)

    def __repr__(self) -> str:
        state = "connected" if self.connected else f"disconnected 0x{self.disconnect_reason or 0:02X}"
        return f"<Connection 0x{self.handle:03X} {self.role} to {self.peer_address} {state}>"

    # -- link facts ----------------------------------------------------------------------

    @property
    def address(self) -> Address:
        """The peer's address."""
        return self.peer_address

    @property
    def interval_ms(self) -> float:
        return self.interval_ns / MS

    @property
    def supervision_timeout_ms(self) -> float:
        return self.supervision_timeout_ns / MS

    @property
    def mtu(self) -> int:
        """The current ATT_MTU (Vol 3 Part F 3.2.8)."""
        if self.connected:
            try:
                self._last_mtu = self.device.host.att_bearer(self.handle).mtu
            except LocalError:  # the bearer is gone with the link
                pass
        return self._last_mtu

    def _gap(self) -> GapConnection | None:
        return self.device.host.gap.connections.get(self.handle) if self.connected else None

    @property
    def phy(self) -> tuple[PhyName, PhyName]:
        """The (TX, RX) PHYs of the link: ``"1M"``, ``"2M"`` or ``"coded"`` (LE 1M until
        a PHY update reports otherwise, Vol 4 Part E 7.7.65.12)."""
        gap = self._gap()
        if gap is not None:
            self._last_phy = (gap.tx_phy, gap.rx_phy)
        return _PHY_NAMES.get(self._last_phy[0], "?"), _PHY_NAMES.get(self._last_phy[1], "?")

    @property
    def data_length(self) -> DataLength:
        """The effective ``(max_tx_octets, max_tx_time_us, max_rx_octets, max_rx_time_us)``
        (27 octets and 328 µs each way until an LE Data Length Change, Vol 6 Part B 4.5.10)."""
        gap = self._gap()
        if gap is not None:
            self._last_lengths = (gap.max_tx_octets, gap.max_tx_time_ns // US,
                                  gap.max_rx_octets, gap.max_rx_time_ns // US)
        return self._last_lengths

    # -- events from the device ------------------------------------------------------------

    def _on_event(self, event: HostEvent) -> None:
        if isinstance(event, (ConnectionUpdated, ConnectionUpdateFailed)):
            if isinstance(event, ConnectionUpdated):
                self.interval_ns = event.interval_ns
                self.latency = event.latency
                self.supervision_timeout_ns = event.supervision_timeout_ns
            self._updates.append(event)
        elif isinstance(event, MtuChanged):
            self._last_mtu = event.mtu
        elif isinstance(event, PairingComplete):
            self._pairings.append(event)
        elif isinstance(event, EncryptionChanged):
            self._encryptions.append(event)
        elif isinstance(event, (PhyUpdated, PhyUpdateFailed)):
            self._phy_events.append(event)
        elif isinstance(event, DataLengthChanged):
            self._lengths.append(event)

    def _on_disconnected(self, reason: int) -> None:
        self.mtu  # remember the last ATT_MTU while the bearer still answers
        self.phy, self.data_length  # and the last PHYs and data lengths
        self.connected = False
        self.disconnect_reason = reason
        if self.on_disconnect is not None:
            self.device.waiter.call_soon(self.on_disconnect, reason)

    # -- the GATT client engine ------------------------------------------------------------

    def _client(self) -> GattClient:
        if not self.connected:
            raise Disconnected(f"{self!r} is disconnected", self.disconnect_reason)
        with host_errors("GATT client"):
            return self.device.host.gatt_client(self.handle)

    def _run(
        self, what: str, start: Callable[[GattClient, int, Callable[[Any], None]], GattOperation[T]],
        timeout_ms: float | None,
    ) -> T:
        device = self.device
        device._check_may_block(what)
        client = self._client()

        def done(_outcome: object) -> None:
            device.waiter.notify()

        with host_errors(what):
            op = start(client, device.now, done)
        device._flush()
        limit = DEFAULT_GATT_TIMEOUT_MS if timeout_ms is None else timeout_ms
        if not device.waiter.wait_until(lambda: op.done, ms_to_ns(limit)):
            raise DeviceTimeoutError(f"{what}: no answer within {limit:g} ms")
        if op.error is not None:
            raise from_att_error(op.error, what)
        return op.result  # type: ignore[return-value]

    @staticmethod
    def _handle(target: Target) -> int:
        if isinstance(target, RemoteCharacteristic):
            return target.value_handle
        if isinstance(target, RemoteDescriptor):
            return target.handle
        if isinstance(target, int) and not isinstance(target, bool):
            return target
        raise DeviceUsageError(f"cannot read or write {target!r}: give a characteristic, descriptor or handle")

    # -- discovery -------------------------------------------------------------------------

    def discover(self, timeout_ms: float | None = None) -> list[RemoteService]:
        """Discover every service with its includes, characteristics and descriptors
        (Vol 3 Part G 4.4-4.7); also kept in :attr:`services`."""
        infos = self._run("discover", lambda c, now, done: c.discover_all(now, done), timeout_ms)
        self.services = remote_services(infos)
        return self.services

    def _discovered(self) -> list[RemoteService]:
        return self.services if self.services is not None else self.discover()

    def service(self, uuid: UuidLike) -> RemoteService:
        """The first discovered service with this UUID (discovers first if needed)."""
        wanted = as_uuid(uuid)
        for svc in self._discovered():
            if svc.uuid == wanted:
                return svc
        raise DeviceUsageError(f"the peer has no service {wanted}")

    def characteristic(self, uuid: UuidLike, service: UuidLike | None = None) -> RemoteCharacteristic:
        """The first discovered characteristic with this UUID (in ``service`` if given)."""
        wanted = as_uuid(uuid)
        services = [self.service(service)] if service is not None else self._discovered()
        for svc in services:
            for char in svc.characteristics:
                if char.uuid == wanted:
                    return char
        raise DeviceUsageError(f"the peer has no characteristic {wanted}")

    def _characteristic_of(self, target: RemoteCharacteristic | int) -> RemoteCharacteristic:
        if isinstance(target, RemoteCharacteristic):
            return target
        for svc in self._discovered():
            for char in svc.characteristics:
                if target in (char.value_handle, char.declaration_handle):
                    return char
        raise DeviceUsageError(f"no discovered characteristic has handle 0x{target:04X}")

    # -- reads -------------------------------------------------------------------------------

    def read(self, target: Target, timeout_ms: float | None = None) -> bytes:
        """Read Characteristic Value / Descriptor (Vol 3 Part G 4.8.1, 4.12.1): at most
        ATT_MTU-1 octets; :meth:`read_long` reads all of a longer value."""
        handle = self._handle(target)
        return self._run("read", lambda c, now, done: c.read(handle, now, done), timeout_ms)

    def read_long(self, target: Target, timeout_ms: float | None = None) -> bytes:
        """Read Long Characteristic Values (Vol 3 Part G 4.8.3): the whole value."""
        handle = self._handle(target)
        return self._run("read_long", lambda c, now, done: c.read_long(handle, now, done), timeout_ms)

    def read_by_uuid(
        self, uuid: UuidLike, start: int = 0x0001, end: int = 0xFFFF, timeout_ms: float | None = None
    ) -> list[tuple[int, bytes]]:
        """Read Using Characteristic UUID (Vol 3 Part G 4.8.2): ``[(handle, value), ...]``."""
        wanted: UUID = as_uuid(uuid)
        return self._run(
            "read_by_uuid", lambda c, now, done: c.read_by_uuid(wanted, now, start, end, done), timeout_ms
        )

    def read_multiple(self, targets: Sequence[Target], timeout_ms: float | None = None) -> bytes:
        """Read Multiple Characteristic Values (Vol 3 Part G 4.8.4): the values
        concatenated (cut to ATT_MTU-1)."""
        handles = [self._handle(t) for t in targets]
        return self._run("read_multiple", lambda c, now, done: c.read_multiple(handles, now, done), timeout_ms)

    def read_multiple_variable(self, targets: Sequence[Target], timeout_ms: float | None = None) -> list[bytes]:
        """Read Multiple Variable Length Characteristic Values (Vol 3 Part G 4.8.5)."""
        handles = [self._handle(t) for t in targets]
        return self._run(
            "read_multiple_variable", lambda c, now, done: c.read_multiple_variable(handles, now, done), timeout_ms
        )

    # -- writes ------------------------------------------------------------------------------

    def write(
        self, target: Target, value: bytes | bytearray | str, response: bool = True,
        timeout_ms: float | None = None,
    ) -> None:
        """Write a value. ``response=True``: Write Characteristic Value (Vol 3 Part G
        4.9.3), or Write Long (4.9.4) when the value does not fit one request;
        ``response=False``: Write Without Response (4.9.1), returns at once."""
        handle = self._handle(target)
        data = value.encode() if isinstance(value, str) else bytes(value)
        if not response:
            self._run("write_without_response", lambda c, now, done: _immediate(
                c.write_without_response(handle, data, now), done), timeout_ms)
            return
        if len(data) > self.mtu - 3:
            self.write_long(target, data, timeout_ms=timeout_ms)
            return
        self._run("write", lambda c, now, done: c.write(handle, data, now, done), timeout_ms)

    def write_long(
        self, target: Target, value: bytes | bytearray, offset: int = 0, timeout_ms: float | None = None
    ) -> None:
        """Write Long Characteristic Values (Vol 3 Part G 4.9.4): Prepare Write requests
        then Execute Write."""
        handle = self._handle(target)
        data = bytes(value)
        self._run("write_long", lambda c, now, done: c.write_long(handle, data, now, offset, done), timeout_ms)

    def reliable_write(
        self, writes: Sequence[tuple[Target, bytes | bytearray]], timeout_ms: float | None = None
    ) -> None:
        """Reliable Writes (Vol 3 Part G 4.9.5): every echoed part is checked, then all
        values are written at once."""
        items = [(self._handle(t), bytes(v)) for t, v in writes]
        self._run("reliable_write", lambda c, now, done: c.reliable_write(items, now, done), timeout_ms)

    # -- notifications and indications -----------------------------------------------------

    def subscribe(
        self,
        target: RemoteCharacteristic | int,
        callback: ValueCallback | None = None,
        indicate: bool | None = None,
        timeout_ms: float | None = None,
    ) -> None:
        """Enable notifications (or indications with ``indicate=True``; ``None`` picks
        notifications when the characteristic has them) by writing its CCCD (Vol 3
        Part G 4.10, 4.11). Each value goes to ``callback(value)`` or, without one, to
        the queue of :meth:`next_value`."""
        char = self._characteristic_of(target)
        if indicate is None:
            indicate = not char.notifiable and char.indicatable
        if char.cccd is None:
            raise DeviceUsageError(f"characteristic {char.uuid} has no CCCD (cannot notify or indicate)")
        handle = char.value_handle
        if callback is not None:
            self._callbacks[handle] = callback
        else:
            self._callbacks.pop(handle, None)
            self._queues.setdefault(handle, deque())
        info = char.to_info()
        use_indications = bool(indicate)
        self._run("subscribe", lambda c, now, done: c.subscribe(
            info, now, indicate=use_indications, on_value=self._value_handler(handle), on_done=done), timeout_ms)

    def unsubscribe(self, target: RemoteCharacteristic | int, timeout_ms: float | None = None) -> None:
        """Write 0x0000 to the CCCD; later values are dropped."""
        char = self._characteristic_of(target)
        self._callbacks.pop(char.value_handle, None)
        info = char.to_info()
        self._run("unsubscribe", lambda c, now, done: c.unsubscribe(info, now, done), timeout_ms)

    def _value_handler(self, handle: int) -> Callable[[bytes, int], None]:
        def on_value(value: bytes, _now: int) -> None:
            callback = self._callbacks.get(handle)
            if callback is not None:
                self.device.waiter.call_soon(callback, bytes(value))
                return
            queue = self._queues.get(handle)
            if queue is not None:
                queue.append(bytes(value))
                self.device.waiter.notify()

        return on_value

    def next_value(self, target: RemoteCharacteristic | int, timeout_ms: float | None = None) -> bytes:
        """The next notified/indicated value of a characteristic subscribed without a
        callback (waits for it; ``DeviceTimeoutError`` after ``timeout_ms``)."""
        handle = self._characteristic_of(target).value_handle
        queue = self._queues.get(handle)
        if queue is None:
            raise DeviceUsageError("subscribe(characteristic) without a callback first")
        self.device._wait(lambda: bool(queue) or not self.connected, timeout_ms, "next_value")
        if not queue:
            raise Disconnected(f"{self!r} went down while waiting for a value", self.disconnect_reason)
        return queue.popleft()

    # -- MTU, parameters, security, disconnection --------------------------------------------

    def exchange_mtu(self, mtu: int | None = None, timeout_ms: float | None = None) -> int:
        """Exchange MTU (Vol 3 Part G 4.3.1), offering ``mtu`` (default: the host's
        configured Rx MTU); returns the new ATT_MTU. Allowed once per connection."""
        if mtu is not None:
            if not 23 <= mtu <= 517:
                raise DeviceUsageError(f"an ATT MTU is 23..517, not {mtu}")
            with host_errors("exchange_mtu"):
                bearer = self.device.host.att_bearer(self.handle)
            if not bearer.mtu_exchange_requested:
                bearer.local_mtu = mtu
        return self._run("exchange_mtu", lambda c, now, done: c.exchange_mtu(now, done), timeout_ms)

    def update_parameters(
        self,
        interval_ms: float | tuple[float, float],
        latency: int = 0,
        timeout_ms: float | None = None,
        wait_ms: float | None = None,
    ) -> None:
        """Ask for new connection parameters (either role; a peripheral uses the LL
        Connection Parameters Request procedure or the L2CAP Connection Parameter Update
        Request, Vol 3 Part C 9.3.9) and wait until they apply. ``timeout_ms`` is the
        supervision timeout. Raises :class:`DeviceError` if the update was refused."""
        params = connection_parameters(interval_ms, latency, timeout_ms)
        if not self.connected:
            raise Disconnected(f"{self!r} is disconnected", self.disconnect_reason)
        self.device._check_may_block("update_parameters")
        seen = len(self._updates)
        with host_errors("update_parameters"):
            self.device.host.update_connection(self.handle, params, self.device.now)
        self.device._flush()
        budget = wait_ms if wait_ms is not None else 5000 + 20 * max(self.interval_ms, params.interval_max_ns / MS)
        self.device._wait(lambda: len(self._updates) > seen or not self.connected, budget, "update_parameters")
        if len(self._updates) <= seen:
            raise Disconnected(f"{self!r} went down during the parameter update", self.disconnect_reason)
        result = self._updates[seen]
        if isinstance(result, ConnectionUpdateFailed):
            raise DeviceError(f"connection parameter update failed: {result.reason} (status 0x{result.status:02X})")

    def _procedure_budget_ms(self) -> float:
        """How long an LL procedure with an instant may take: a margin plus a few dozen
        connection events (the LL response timeout itself is 40 s, Vol 6 Part B 5.2)."""
        return 5000 + 20 * self.interval_ms * (1 + self.latency)

    def set_phy(
        self,
        tx: PhyName | Sequence[PhyName] = "2M",
        rx: PhyName | Sequence[PhyName] = "2M",
        timeout_ms: float | None = None,
    ) -> tuple[PhyName, PhyName]:
        """Ask for the PHYs ``tx`` and ``rx`` (each ``"1M"``, ``"2M"``, ``"coded"`` or a list
        of acceptable ones; HCI_LE_Set_PHY, Vol 4 Part E 7.8.49) and wait for the LL PHY
        Update procedure to end (Vol 6 Part B 5.1.10); returns the new (TX, RX) PHYs — the
        peers may settle on other PHYs than asked. Raises :class:`DeviceError` with the
        HCI status when the update failed (the peer lacks the PHY: 0x1A)."""
        tx_bits, rx_bits = _phy_bits("TX", tx), _phy_bits("RX", rx)
        if not self.connected:
            raise Disconnected(f"{self!r} is disconnected", self.disconnect_reason)
        device = self.device
        device._check_may_block("set_phy")
        seen = len(self._phy_events)
        with host_errors("set_phy"):
            device.host.gap.set_phy(self.handle, device.now, tx_phys=tx_bits, rx_phys=rx_bits)
        device._flush()
        budget = self._procedure_budget_ms() if timeout_ms is None else timeout_ms
        device._wait(lambda: len(self._phy_events) > seen or not self.connected, budget, "set_phy")
        if len(self._phy_events) <= seen:
            raise Disconnected(f"{self!r} went down during the PHY update", self.disconnect_reason)
        result = self._phy_events[seen]
        if isinstance(result, PhyUpdateFailed):
            raise DeviceError(f"PHY update failed (HCI status 0x{result.status:02X})")
        return self.phy

    def set_data_length(
        self, octets: int = 251, time_us: int | None = None, timeout_ms: float | None = None
    ) -> DataLength:
        """Ask to send LL data PDUs of up to ``octets`` payload octets (27..251) taking up
        to ``time_us`` (default: what ``octets`` need on the current PHY) with
        HCI_LE_Set_Data_Length (Vol 4 Part E 7.8.33), and wait for the LL Data Length
        Update procedure (Vol 6 Part B 5.1.9); returns :attr:`data_length`.

        The controller reports LE Data Length Change only when the effective lengths
        change (7.7.65.7): when ours already are ``octets``/``time_us`` this returns at
        once; when the peer keeps them where they are (it receives no longer PDUs), it
        returns the unchanged lengths after ``timeout_ms`` (default: the procedure's
        usual budget). Raises :class:`DeviceError` if the controller refused."""
        if not self.connected:
            raise Disconnected(f"{self!r} is disconnected", self.disconnect_reason)
        gap = self._gap()
        tx_phy = gap.tx_phy if gap is not None else 1
        time = tx_time_for(int(octets), tx_phy) if time_us is None else int(time_us)
        current = self.data_length
        if current[:2] == (octets, time):
            return current
        device = self.device
        device._check_may_block("set_data_length")
        seen = len(self._lengths)
        status: list[int] = []
        with host_errors("set_data_length"):
            device.host.gap.set_data_length(self.handle, device.now, int(octets), time, on_status=status.append)
        device._flush()
        device._wait(lambda: bool(status) or not self.connected, 5000, "set_data_length")
        if status and status[0] != 0:
            raise DeviceError(f"data length update refused (HCI status 0x{status[0]:02X})")
        budget = self._procedure_budget_ms() if timeout_ms is None else timeout_ms
        device.waiter.wait_until(lambda: len(self._lengths) > seen or not self.connected, ms_to_ns(budget))
        if not self.connected:
            raise Disconnected(f"{self!r} went down during the data length update", self.disconnect_reason)
        return self.data_length

    def pair(self, timeout_ms: float = 30_000) -> object:
        """Pair (central) or ask the central to (peripheral, Security Request) with the
        host's SMP configuration; returns the SMP result. Raises :class:`DeviceError` if
        pairing failed."""
        if not self.connected:
            raise Disconnected(f"{self!r} is disconnected", self.disconnect_reason)
        self.device._check_may_block("pair")
        seen = len(self._pairings)
        with host_errors("pair"):
            self.device.host.pair(self.handle, self.device.now)
        self.device._flush()
        self.device._wait(lambda: len(self._pairings) > seen or not self.connected, timeout_ms, "pair")
        if len(self._pairings) <= seen:
            raise Disconnected(f"{self!r} went down during pairing", self.disconnect_reason)
        outcome = self._pairings[seen]
        if not outcome.success:
            raise DeviceError(f"pairing failed: {outcome.result!r}")
        return outcome.result

    @property
    def security(self) -> LinkSecurity:
        """What the link's encryption is worth now (encrypted, authenticated, key size,
        Secure Connections, bonded); no security once disconnected."""
        if not self.connected:
            return LinkSecurity()
        try:
            return self.device.host.smp(self.handle).security
        except LocalError:
            return LinkSecurity()

    def encrypt(self, timeout_ms: float = 10_000) -> LinkSecurity:
        """Central: encrypt the link with the Long Term Key bonded with the peer, without
        pairing (Vol 3 Part C 10.3.3; HCI_LE_Enable_Encryption, Vol 4 Part E 7.8.24), and
        wait for the Encryption Change; returns :attr:`security`. Raises
        :class:`DeviceUsageError` as peripheral, during a pairing or without a bond with
        the peer, and :class:`DeviceError` if encryption failed (the peer has no key any
        more: PIN or Key Missing 0x06)."""
        if not self.connected:
            raise Disconnected(f"{self!r} is disconnected", self.disconnect_reason)
        device = self.device
        device._check_may_block("encrypt")
        seen = len(self._encryptions)
        with host_errors("encrypt"):
            try:
                started = device.host.encrypt(self.handle, device.now)
            except SmpLocalError as exc:
                raise DeviceUsageError(f"encrypt: {exc}") from exc
        if not started:
            raise DeviceUsageError(f"encrypt: no bond with {self.peer_address}: pair() first")
        device._flush()
        device._wait(lambda: len(self._encryptions) > seen or not self.connected, timeout_ms, "encrypt")
        if len(self._encryptions) <= seen:
            raise Disconnected(f"{self!r} went down during encryption", self.disconnect_reason)
        change = self._encryptions[seen]
        if change.status != 0 or not change.enabled:
            raise DeviceError(f"encryption failed (HCI status 0x{change.status:02X})")
        return self.security

    def disconnect(self, reason: int = 0x13, timeout_ms: float = 10_000) -> int:
        """Disconnect (HCI_Disconnect, Vol 4 Part E 7.1.6) and wait until the link is
        gone; returns the reason reported. Does nothing if already disconnected."""
        if not self.connected:
            return self.disconnect_reason or 0
        with host_errors("disconnect"):
            self.device.host.disconnect(self.handle, self.device.now, reason)
        self.device._flush()
        return self.wait_disconnected(timeout_ms)

    def wait_disconnected(self, timeout_ms: float | None = None) -> int:
        """Wait until the link is gone; returns the HCI reason."""
        self.device._wait(lambda: not self.connected, timeout_ms, "wait_disconnected")
        return self.disconnect_reason or 0


def _immediate(op: GattOperation[T], done: Callable[[Any], None]) -> GattOperation[T]:
    """An operation the client completed at once (Write Without Response)."""
    if op.done:
        done(op.error if op.error is not None else op.result)
    return op
