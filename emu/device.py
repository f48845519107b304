"""The Python device API: a small, blocking, Pythonic API over one node's host stack.

Theory of operation
-------------------
A :class:`Device` drives one :class:`~host.host.Host` run by an
:class:`~emu.host_driver.HostDriver` next to its (simulated) controller. Its methods
are the things an application does — power on, advertise, scan, connect, discover,
read, write, subscribe, notify — and each one that needs the world to answer issues the
host call, pushes the HCI packets out (``HostDriver.service``) and blocks on a
:class:`~emu.device_wait.Waiter` until the host reports the outcome or a *simulated*
timeout passes. Host events reach the device through ``HostDriver.listeners``; the
device keeps its connections (:class:`~emu.device_connection.Connection`) and scan
results from them and wakes the waiter. Nothing sleeps on the wall clock.

Two uses, one API:

* from pytest, to script a peer such as a phone app: ``Device.create(world, "phone")``
  uses a :class:`~emu.device_wait.KernelWaiter`, which runs the world's kernel while it
  waits;
* as the ``native`` personality (:mod:`apis.native`): firmware calls the same methods
  from its firmware threads, with a :class:`~emu.device_wait.FirmwareWaiter`.

Errors are always :class:`~emu.device_errors.DeviceError` subclasses (timeouts also
``TimeoutError``); no host exception leaks out. The API is an adapter (STYLE 10): every
protocol rule lives in the host.
"""

from __future__ import annotations

import contextlib
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from host.advertising_data import AdvertisingData
from host.att import AttError, AttLocalError
from host.events import (
    AdvertisingReport,
    AdvertisingStarted,
    AdvertisingStartFailed,
    AdvertisingStopped,
    Connected,
    ConnectionUpdated,
    ConnectionUpdateFailed,
    DataLengthChanged,
    EncryptionChanged,
    HostEvent,
    MtuChanged,
    PairingComplete,
    PhyUpdated,
    PhyUpdateFailed,
    PowerOnFailed,
    SubscriptionChanged,
)
from host.events import ConnectionFailed as ConnectionFailedEvent
from host.events import Disconnected as DisconnectedEvent
from host.gap_params import AdvertisingParameters, ScanParameters
from host.gatt_server import GattServer
from host.host import Host
from host.uuid import UUID
from linklayer.address import Address
from phy.units import MS

from emu.device_connection import Connection, connection_parameters, ms_to_ns
from emu.device_errors import (
    ConnectionFailed,
    ConnectTimeout,
    DeviceError,
    DeviceTimeoutError,
    DeviceUsageError,
    Disconnected,
    GattError,
    from_att_error,
    host_errors,
)
from emu.device_gatt import (
    Characteristic,
    Descriptor,
    LocalGatt,
    RemoteCharacteristic,
    RemoteDescriptor,
    RemoteInclude,
    RemoteService,
    Service,
    UuidLike,
    as_uuid,
)
from emu.device_wait import FirmwareWaiter, KernelWaiter, Waiter

if TYPE_CHECKING:
    from emu.host_driver import HostDriver
    from emu.world import World

__all__ = [
    "AdvertisingData",
    "Address",
    "Characteristic",
    "Connection",
    "ConnectionFailed",
    "ConnectTimeout",
    "Descriptor",
    "Device",
    "DeviceError",
    "DeviceTimeoutError",
    "DeviceUsageError",
    "Disconnected",
    "FirmwareWaiter",
    "GattError",
    "KernelWaiter",
    "RemoteCharacteristic",
    "RemoteDescriptor",
    "RemoteInclude",
    "RemoteService",
    "ScanResult",
    "Service",
    "UUID",
    "Waiter",
]

#: Flags of the advertising data the device builds: LE General Discoverable Mode and
#: BR/EDR Not Supported (Vol 3 Part C 18.1, Supplement Part A 1.3).
DEFAULT_FLAGS = 0x06
LEGACY_DATA_MAX = 31


@dataclass(frozen=True)
class ScanResult:
    """One advertising or scan response report seen while scanning."""

    address: Address
    rssi: int
    data: AdvertisingData
    name: str | None
    connectable: bool
    scan_response: bool
    #: Simulated instant of the report, in nanoseconds.
    time_ns: int = 0
    report: AdvertisingReport | None = field(default=None, compare=False, repr=False)

    @property
    def services(self) -> list[UUID]:
        """Advertised service UUIDs (complete and incomplete lists)."""
        return self.data.service_uuids

    @property
    def manufacturer_data(self) -> list[tuple[int, bytes]]:
        return self.data.manufacturer_specific_data


ScanFilter = Callable[[ScanResult], bool] | str | UUID | None


def _matcher(filter: ScanFilter) -> Callable[[ScanResult], bool]:
    if filter is None:
        return lambda _r: True
    if isinstance(filter, str):
        return lambda r: r.name == filter
    if isinstance(filter, UUID):
        return lambda r: filter in r.services
    return filter


class Device:
    """One BLE device: a host stack plus the waiter that blocks on simulated time."""

    def __init__(
        self,
        host_driver: HostDriver,
        waiter: Waiter,
        *,
        name: str | None = None,
        powering: bool = False,
    ) -> None:
        self.driver = host_driver
        self.waiter = waiter
        self.name = name if name is not None else host_driver.controller_driver.name
        #: The device's own GATT database.
        self.gatt = LocalGatt(self)
        #: Live connections by HCI handle.
        self.connections: dict[int, Connection] = {}
        #: Called (through the waiter) with each new :class:`Connection`, either role.
        self.on_connection: Callable[[Connection], object] | None = None
        self._incoming: deque[Connection] = deque()
        self._central: list[Connection] = []
        self._connect_failures: list[ConnectionFailedEvent] = []
        self._adv_events: list[HostEvent] = []
        self._power_failure: PowerOnFailed | None = None
        self._power_requested = powering
        self._scan_buffer: deque[ScanResult] | None = None
        self._seen: dict[bytes, Address] = {}
        self._hook_depth = 0
        self._closed = False
        host_driver.listeners.append(self._listener)
        # Links the host already has (the firmware rebooted while connected) are adopted;
        # a peripheral one is handed to the next wait_for_connection().
        for link in list(self.host.gap.connections.values()):
            adopted = Connection(
                self, link.handle, link.role, link.peer_address, link.interval_ns, link.latency,
                link.supervision_timeout_ns)
            self.connections[link.handle] = adopted
            if link.role == "peripheral":
                self._incoming.append(adopted)

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        world: World,
        name: str,
        position: tuple[float, ...] = (0.0, 0.0),
        *,
        address: Address | str | None = None,
        address_type: str = "public",
        device_name: str | None = None,
        att_mtu: int = 247,
        controller_config: Any = None,
        power_on: bool = True,
    ) -> Device:
        """A new node in ``world`` (simulated controller + host) driven from plain Python
        with a :class:`KernelWaiter`; powered on unless ``power_on=False``."""
        from host.gap import GapConfig
        from host.host import HostConfig

        from emu.host_driver import HostDriver
        from emu.world import add_controller_node

        if address_type not in ("public", "random"):
            raise DeviceUsageError(f"address_type is 'public' or 'random', not {address_type!r}")
        addr = None
        if address is not None:
            with host_errors("address"):
                addr = Address.parse(address, address_type == "random") if isinstance(address, str) else address
        public = addr if address_type == "public" else None
        static = addr if address_type == "random" else None
        controller = add_controller_node(world, name, position, public_address=public, config=controller_config)
        config = HostConfig(
            gap=GapConfig(address_type=address_type, static_address=static),
            att_mtu=att_mtu, device_name=device_name if device_name is not None else name,
        )
        with host_errors("create"):
            host = Host(world.kernel.seeds.stream(f"node/{name}/host"), config)
        driver = HostDriver(world, controller, host, power_on=False)
        device = cls(driver, KernelWaiter(world), name=name)
        if power_on:
            device.power_on()
        return device

    def __repr__(self) -> str:
        return f"<Device {self.name} {self.address if self.host.powered else 'off'}>"

    def close(self) -> None:
        """Stop listening to the host (the firmware stopped); the host keeps running."""
        if not self._closed:
            self._closed = True
            if self._listener in self.driver.listeners:
                self.driver.listeners.remove(self._listener)
            self.waiter.notify()

    # -- plumbing --------------------------------------------------------------------------

    @property
    def host(self) -> Host:
        return self.driver.host

    @property
    def now(self) -> int:
        """Simulated time, integer nanoseconds."""
        return self.waiter.now

    @property
    def time_ms(self) -> float:
        return self.now / MS

    def _flush(self) -> None:
        """Hand what the host produced to the controller and report its events."""
        self.driver.service()

    @contextlib.contextmanager
    def _hook_context(self) -> Iterator[None]:
        self._hook_depth += 1
        try:
            yield
        finally:
            self._hook_depth -= 1

    def _check_may_block(self, what: str) -> None:
        if self._hook_depth:
            raise DeviceUsageError(f"{what}: blocking calls are not allowed inside an on_read hook")
        if self._closed:
            raise DeviceUsageError(f"{what}: this device was closed")

    def _wait(self, condition: Callable[[], bool], timeout_ms: float | None, what: str) -> None:
        """Wait for ``condition`` or raise :class:`DeviceTimeoutError`."""
        self._check_may_block(what)
        timeout_ns = None if timeout_ms is None else ms_to_ns(timeout_ms)
        if not self.waiter.wait_until(condition, timeout_ns):
            raise DeviceTimeoutError(f"{what}: timed out after {timeout_ms:g} ms of simulated time")

    def sleep(self, seconds: float) -> None:
        """Let simulated time pass (the world keeps running)."""
        self._check_may_block("sleep")
        self.waiter.sleep_ns(int(round(seconds * 1_000_000_000)))

    def sleep_ms(self, ms: float) -> None:
        self._check_may_block("sleep_ms")
        self.waiter.sleep_ns(ms_to_ns(ms))

    def wait_for(self, condition: Callable[[], bool], timeout_ms: float | None = None) -> None:
        """Block until ``condition()`` holds (re-checked whenever something happens)."""
        self._wait(condition, timeout_ms, "wait_for")

    def _connection_for(self, handle: int) -> Connection | None:
        return self.connections.get(handle)

    def _subscribers(self, value_handle: int) -> list[Connection]:
        server = self.host.gatt_server
        out = []
        for handle, conn in self.connections.items():
            try:
                if server.subscription(handle, value_handle):
                    out.append(conn)
            except AttLocalError:  # a link without a bearer has no subscription
                continue
        return out

    # -- host events -----------------------------------------------------------------------

    def _listener(self, t_ns: int, event: HostEvent) -> None:
        if isinstance(event, AdvertisingReport):
            self._report(t_ns, event)
        elif isinstance(event, Connected):
            self._connected(event)
        elif isinstance(event, DisconnectedEvent):
            conn = self.connections.pop(event.handle, None)
            if conn is not None:
                conn._on_disconnected(event.reason)
                if conn in self._incoming:
                    self._incoming.remove(conn)
        elif isinstance(event, ConnectionFailedEvent):
            self._connect_failures.append(event)
        elif isinstance(event, (AdvertisingStarted, AdvertisingStopped, AdvertisingStartFailed)):
            self._adv_events.append(event)
        elif isinstance(event, (ConnectionUpdated, ConnectionUpdateFailed, MtuChanged, PairingComplete,
                                EncryptionChanged, PhyUpdated, PhyUpdateFailed, DataLengthChanged)):
            conn = self.connections.get(event.handle)
            if conn is not None:
                conn._on_event(event)
        elif isinstance(event, SubscriptionChanged):
            self._subscription_changed(event)
        elif isinstance(event, PowerOnFailed):
            self._power_failure = event
        self.waiter.notify()

    def _report(self, t_ns: int, event: AdvertisingReport) -> None:
        if event.address is None:
            return  # anonymous advertising: nothing to connect to
        self._seen[event.address.value] = event.address
        buffer = self._scan_buffer
        if buffer is not None:
            data = event.advertising_data
            buffer.append(ScanResult(
                event.address, event.rssi, data, data.local_name, event.connectable, event.scan_response,
                t_ns, event,
            ))

    def _connected(self, event: Connected) -> None:
        conn = Connection(
            self, event.handle, event.role, event.peer_address, event.interval_ns, event.latency,
            event.supervision_timeout_ns,
        )
        self.connections[event.handle] = conn
        if event.role == "central":
            self._central.append(conn)
        else:
            self._incoming.append(conn)
        if self.on_connection is not None:
            self.waiter.call_soon(self.on_connection, conn)

    def _subscription_changed(self, event: SubscriptionChanged) -> None:
        char = self.gatt.by_value_handle(event.value_handle)
        if char is not None and char.on_subscribe is not None:
            self.waiter.call_soon(char.on_subscribe, self.connections.get(event.handle), event.cccd_value)

    # -- power and identity ----------------------------------------------------------------

    @property
    def powered(self) -> bool:
        return self.host.powered

    def power_on(self, timeout_ms: float = 5000) -> None:
        """Run the host's power-on sequence (if not already done) and wait for it."""
        if self.host.powered:
            return
        if not self._power_requested:
            self._power_requested = True
            self._power_failure = None
            with host_errors("power_on"):
                self.host.power_on(self.now)
            self._flush()
        self._wait(lambda: self.host.powered or self._power_failure is not None, timeout_ms, "power_on")
        failure = self._power_failure
        if failure is not None and not self.host.powered:
            raise DeviceError(f"power-on failed at {failure.command}: {failure.message}")

    def _require_power(self, what: str) -> None:
        if self.host.powered:
            return
        if not self._power_requested:
            raise DeviceUsageError(f"{what}: the device is not powered on (call power_on() first)")
        self.power_on()

    @property
    def address(self) -> Address:
        """The identity address the device advertises and connects with."""
        return self.host.address

    # -- advertising ---------------------------------------------------------------------

    def advertise(
        self,
        name: str | None = None,
        services: Iterable[UuidLike] = (),
        manufacturer: tuple[int, bytes] | None = None,
        connectable: bool = True,
        interval_ms: float = 100,
        scan_response: AdvertisingData | bytes | None = None,
        data: AdvertisingData | bytes | None = None,
        *,
        appearance: int | None = None,
        tx_power: int | None = None,
        service_data: Iterable[tuple[UuidLike, bytes]] = (),
        flags: int | None = DEFAULT_FLAGS,
        timeout_ms: float = 5000,
    ) -> None:
        """Start (or restart with new data) advertising and wait until it runs.

        Without ``data``, the advertising data is built from flags, ``name``,
        ``services``, ``service_data``, ``appearance``, ``tx_power`` and
        ``manufacturer`` (Supplement to the Core Specification Part A); if that exceeds
        31 octets and no ``scan_response`` is given, the name moves to the scan
        response. Raises :class:`DeviceError` if the controller refused.
        """
        self._require_power("advertise")
        uuids = [as_uuid(u) for u in services]
        sdata = [(as_uuid(u), bytes(d)) for u, d in service_data]
        rsp: AdvertisingData | bytes = b"" if scan_response is None else scan_response
        with host_errors("advertise"):
            if data is None:
                adv = AdvertisingData.build(
                    flags=flags, name=name, services=uuids, service_data=sdata, appearance=appearance,
                    tx_power=tx_power, manufacturer=manufacturer,
                )
                if adv.encoded_length > LEGACY_DATA_MAX and scan_response is None and name is not None:
                    adv = AdvertisingData.build(
                        flags=flags, services=uuids, service_data=sdata, appearance=appearance,
                        tx_power=tx_power, manufacturer=manufacturer,
                    )
                    rsp = AdvertisingData.build(name=name)
                payload: AdvertisingData | bytes = adv
            else:
                payload = data
            interval = ms_to_ns(interval_ms)
            params = AdvertisingParameters(
                interval_min_ns=interval, connectable=connectable,
                scannable=connectable or bool(bytes(rsp)),
            )
            seen = len(self._adv_events)
            self.host.start_advertising(self.now, payload, rsp, params)
        self._flush()
        self._wait(lambda: any(isinstance(e, (AdvertisingStarted, AdvertisingStartFailed))
                               for e in self._adv_events[seen:]), timeout_ms, "advertise")
        for event in self._adv_events[seen:]:
            if isinstance(event, AdvertisingStartFailed):
                raise DeviceError(f"advertising refused: {event.command} status 0x{event.status:02X}")

    @property
    def advertising(self) -> bool:
        return self.host.gap.is_advertising()

    def stop_advertising(self, timeout_ms: float = 5000) -> None:
        """Stop advertising (nothing happens if it already stopped) and wait for it."""
        if not self.host.powered or not self.host.gap.is_advertising():
            return
        with host_errors("stop_advertising"):
            self.host.stop_advertising(self.now)
        self._flush()
        self._wait(lambda: not self.host.gap.is_advertising(), timeout_ms, "stop_advertising")

    # -- scanning --------------------------------------------------------------------------

    def scan(
        self,
        duration_ms: float | None = 2000,
        active: bool = True,
        filter: ScanFilter = None,
        *,
        interval_ms: float = 100,
        window_ms: float = 100,
        unique: bool = False,
    ) -> Iterator[ScanResult]:
        """Scan for ``duration_ms`` (``None``: until the loop stops) and yield each report
        as it arrives (advertising and scan responses). ``filter`` is a callable, a name,
        or an advertised service UUID; ``unique`` yields each address once. Leaving the
        loop early stops scanning."""
        self._require_power("scan")
        if self._scan_buffer is not None:
            raise DeviceUsageError("scan: already scanning")
        with host_errors("scan"):
            params = ScanParameters(active=active, interval_ns=ms_to_ns(interval_ms), window_ns=ms_to_ns(window_ms))
            params.units()
        matches = _matcher(filter)
        return self._scan(params, None if duration_ms is None else ms_to_ns(duration_ms), matches, unique)

    def _scan(
        self, params: ScanParameters, duration_ns: int | None, matches: Callable[[ScanResult], bool], unique: bool
    ) -> Iterator[ScanResult]:
        buffer: deque[ScanResult] = deque()
        self._scan_buffer = buffer
        seen: set[bytes] = set()
        try:
            with host_errors("scan"):
                self.host.start_scan(self.now, params)
            self._flush()
            deadline = None if duration_ns is None else self.now + duration_ns
            while True:
                remaining = None if deadline is None else deadline - self.now
                if remaining is not None and remaining <= 0 and not buffer:
                    return
                self._check_may_block("scan")
                if not self.waiter.wait_until(lambda: bool(buffer) or self._closed, remaining):
                    return
                if self._closed:
                    return
                while buffer:
                    result = buffer.popleft()
                    if unique and result.address.value in seen:
                        continue
                    if matches(result):
                        seen.add(result.address.value)
                        yield result
        finally:
            if self._scan_buffer is buffer:
                self._scan_buffer = None
            if self.host.powered:
                with contextlib.suppress(Exception):
                    self.host.stop_scan(self.now)
                    self._flush()

    def find(
        self,
        name: str | None = None,
        *,
        address: Address | str | None = None,
        service: UuidLike | None = None,
        timeout_ms: float = 5000,
        active: bool = True,
    ) -> ScanResult:
        """Scan until a device matching every given criterion shows up."""
        wanted_service = None if service is None else as_uuid(service)
        wanted_address = None if address is None else self._address_value(address)

        def match(r: ScanResult) -> bool:
            return (
                (name is None or r.name == name)
                and (wanted_address is None or r.address.value == wanted_address)
                and (wanted_service is None or wanted_service in r.services)
            )

        results = self.scan(timeout_ms, active, match)
        try:
            for result in results:
                return result
        finally:
            close = getattr(results, "close", None)
            if close is not None:
                close()
        raise DeviceTimeoutError(f"find: no matching device within {timeout_ms:g} ms")

    @staticmethod
    def _address_value(address: Address | str) -> bytes:
        if isinstance(address, Address):
            return address.value
        with host_errors("address"):
            return Address.parse(address).value

    # -- connections ---------------------------------------------------------------------

    def _peer(self, target: Address | str | ScanResult, address_type: str | None) -> Address:
        if isinstance(target, ScanResult):
            return target.address
        if isinstance(target, Address):
            return target
        if address_type not in (None, "public", "random"):
            raise DeviceUsageError(f"address_type is 'public' or 'random', not {address_type!r}")
        with host_errors("address"):
            parsed = Address.parse(target, address_type == "random")
        if address_type is None and parsed.value in self._seen:
            return self._seen[parsed.value]  # the type it advertised with
        return parsed

    def connect(
        self,
        address: Address | str | ScanResult,
        timeout_ms: float = 5000,
        interval_ms: float | tuple[float, float] | None = None,
        *,
        latency: int = 0,
        supervision_timeout_ms: float | None = None,
        address_type: str | None = None,
    ) -> Connection:
        """Connect as central (Vol 3 Part C 9.3.8) and return the :class:`Connection`.

        A text address takes the type it was seen advertising with, else
        ``address_type`` (default public). Raises :class:`ConnectTimeout` when nothing
        connected within ``timeout_ms`` (the attempt is cancelled) and
        :class:`ConnectionFailed` otherwise.
        """
        self._require_power("connect")
        peer = self._peer(address, address_type)
        params = connection_parameters(interval_ms, latency, supervision_timeout_ms)
        self._check_may_block("connect")
        made, failed = len(self._central), len(self._connect_failures)
        with host_errors("connect"):
            self.host.connect(peer, self.now, params, timeout_ns=ms_to_ns(timeout_ms))
        self._flush()

        def settled() -> bool:
            return len(self._central) > made or len(self._connect_failures) > failed

        if not self.waiter.wait_until(settled, ms_to_ns(timeout_ms) + 1000 * MS):
            with contextlib.suppress(Exception):
                self.host.cancel_connect(self.now)
                self._flush()
            self.waiter.wait_until(settled, 1000 * MS)
        if len(self._central) > made:
            return self._central[made]
        if len(self._connect_failures) > failed:
            event = self._connect_failures[failed]
            message = f"connect to {peer}: {event.reason} (status 0x{event.status:02X})"
            if event.reason == "timeout":
                raise ConnectTimeout(message, event.reason, event.status)
            raise ConnectionFailed(message, event.reason, event.status)
        raise ConnectTimeout(f"connect to {peer}: no outcome within {timeout_ms:g} ms", "timeout")

    def wait_for_connection(self, timeout_ms: float | None = None) -> Connection:
        """As peripheral: the next connection a central made to us (one that was made
        before the call counts too, if no earlier call took it)."""
        self._require_power("wait_for_connection")
        self._wait(lambda: bool(self._incoming), timeout_ms, "wait_for_connection")
        return self._incoming.popleft()

    # -- serving ---------------------------------------------------------------------------

    def _value_handle(self, char: Characteristic | int) -> int:
        return char.handle if isinstance(char, Characteristic) else int(char)

    def _store(self, char: Characteristic | int, value: bytes | bytearray | str | None) -> bytes | None:
        if value is None:
            return None
        data = value.encode() if isinstance(value, str) else bytes(value)
        with host_errors("value"):
            if isinstance(char, Characteristic):
                char.value = data
            else:
                self.host.gatt_server.set_value(int(char), data)
        return data

    def notify(
        self, char: Characteristic | int, value: bytes | bytearray | str | None = None,
        connection: Connection | None = None,
    ) -> list[Connection]:
        """Store ``value`` (if given) and notify it (Vol 3 Part G 4.10) to every
        subscribed connection, or just ``connection``; returns those notified."""
        handle = self._value_handle(char)
        data = self._store(char, value)
        server: GattServer = self.host.gatt_server
        with host_errors("notify"):
            sent = server.notify(handle, data, connection=None if connection is None else connection.handle)
        self._flush()
        return [self.connections[h] for h in sent if h in self.connections]

    def indicate(
        self, char: Characteristic | int, value: bytes | bytearray | str | None = None,
        connection: Connection | None = None, *, timeout_ms: float = 35_000,
    ) -> list[Connection]:
        """Store ``value`` (if given), indicate it (Vol 3 Part G 4.11) to the subscribed
        connections and wait until each confirmed; returns those indicated. A failure
        (ATT timeout, disconnection) raises."""
        self._check_may_block("indicate")
        handle = self._value_handle(char)
        data = self._store(char, value)
        results: dict[int, object] = {}

        def done(conn_handle: int, error: object) -> None:
            results[conn_handle] = error
            self.waiter.notify()

        with host_errors("indicate"):
            sent = self.host.gatt_server.indicate(
                handle, self.now, data, connection=None if connection is None else connection.handle,
                on_done=done,
            )
        self._flush()
        self._wait(lambda: all(h in results for h in sent), timeout_ms, "indicate")
        for h in sent:
            error = results[h]
            if isinstance(error, AttError):
                raise from_att_error(error, "indicate")
        return [self.connections[h] for h in sent if h in self.connections]
