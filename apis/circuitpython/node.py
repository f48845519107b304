"""The per-node backend of ``_bleio``: host access, host events, blocking on simulated time.

Theory of operation
-------------------
One :class:`BleioNode` exists per node and per boot (the ``_bleio`` module factory makes
it). It is the only part of the personality that touches the host:

* **Calls.** Every ``_bleio`` call that reaches the host goes through :attr:`host` (the
  host of the node *now*: a power cycle replaces it) and ends with :meth:`service`, which
  lets the host driver send what the call produced.
* **Events.** The node is a listener of the host driver. Each :mod:`host.events` event
  updates the node's state (advertising, the scan in progress, the connection attempt,
  the :class:`LinkState` of every connection, pairing outcomes, MTUs, intervals) and is
  handed to the subscribers that buffers and characteristics registered (notifications,
  CCCD writes by clients). Writes by clients to local characteristics arrive through the
  GATT server's write hooks of the characteristics themselves (:mod:`.gatt`).
* **Blocking.** A blocking ``_bleio`` call parks its firmware thread with
  :meth:`wait_until` (a predicate and a simulated-time timeout): each host event, write
  hook or timer *pulses* the waiters, which re-check their predicate. Nothing waits on
  the wall clock.
* **Busy loops.** Firmware written for CircuitPython polls (``while not ble.connected:
  pass``); reading such a property calls :meth:`poll`, which sleeps one simulated
  millisecond when called from one of the node's firmware threads, so simulated time
  advances and the watchdog is never needed.
* **Soft reload.** When the firmware stops (reboot, failure, end), :meth:`close` does
  what ``bleio_reset`` does on a board: stop scanning and advertising, disconnect, and
  remove the services this boot added to the GATT server.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from host import events as ev
from host.att import AttBearerClosedError, AttError, AttLocalError, AttTimeoutError
from host.gap_params import ConnectionParameters
from host.gatt_client import GattClient
from host.gatt_db import Service as HostService
from host.gatt_db import ServiceDef
from host.hci import LocalError
from linklayer.address import Address as LinkAddress
from phy.units import MS

from .errors import (
    NOT_CONNECTED,
    BluetoothError,
    ConnectionError,
    firmware_error,
    gatt_error,
)
from .standins import read_setting

if TYPE_CHECKING:
    from emu.personality import NodeContext
    from emu.runtime import Event, NodeRuntime
    from host.host import Host

__all__ = ["POLL_NS", "PREFERRED_INTERVAL_NS", "BleioNode", "LinkState", "seconds_ns"]

#: Simulated time a polled property (``connected``, ``in_waiting`` ...) costs the firmware.
POLL_NS = 1 * MS
#: How long a ``_bleio`` call waits for the host's power-on to finish.
POWER_ON_WAIT_NS = 2_000 * MS
#: How long to wait for the host to confirm advertising/scanning started.
START_WAIT_NS = 1_000 * MS
#: The interval a Nordic CircuitPython peripheral asks for when a central picked another
#: one (``BLE_MIN_CONN_INTERVAL``: 15 "ms" in 0.625 ms units in a 1.25 ms field = 30 ms).
PREFERRED_INTERVAL_NS = 30 * MS
#: Size of the buffer the Nordic core reads ``CIRCUITPY_BLE_NAME`` into (NUL included).
BLE_NAME_SETTING_BUFFER = 32
#: Supervision timeout of the connections CircuitPython makes and asks for (4 s).
SUPERVISION_TIMEOUT_NS = 4_000 * MS


def seconds_ns(seconds: float) -> int:
    """Seconds (float) to integer nanoseconds."""
    return round(float(seconds) * 1_000_000_000)


@dataclasses.dataclass(eq=False)
class LinkState:
    """One connection as the node knows it (``bleio_connection_internal_t``)."""

    handle: int
    role: str
    peer: LinkAddress
    interval_ns: int
    latency: int
    supervision_timeout_ns: int
    mtu: int = 23
    connected: bool = True
    encrypted: bool = False
    paired: bool = False
    pairing: bool = False
    #: The central started encryption with a bond's key on connecting (no answer yet).
    encrypting: bool = False
    #: (success, SMP reason, timed out) of the last pairing, for ``pair()``.
    pair_result: tuple[bool, int | None, bool] | None = None
    updating: bool = False
    disconnect_reason: int | None = None
    #: The ``_bleio.Connection`` object for this link (made once, then the same one).
    obj: Any = None


Subscriber = Callable[[int, bytes], None]


class BleioNode:
    """The host side of one node's ``_bleio`` (see the module docstring)."""

    def __init__(self, ctx: NodeContext, runtime: NodeRuntime) -> None:
        self.ctx = ctx
        self.runtime = runtime
        self.host_driver = ctx.host_driver
        self.kernel = ctx.world.kernel
        self.links: dict[int, LinkState] = {}
        #: All connections this boot saw, in order (Connection objects stay valid).
        self.advertising = False
        self.user_advertising = False
        self.adv_outcome: tuple[bool, int] | None = None
        self._adv_token = 0
        self.scan: Any = None
        self.scan_started = False
        self.connect_peer: LinkAddress | None = None
        self.connect_outcome: tuple[int | None, int] | None = None
        #: (connection handle, attribute handle) -> callbacks(conn, value) for notifications.
        self.notification_subscribers: dict[tuple[int, int], list[Subscriber]] = {}
        #: (connection handle, attribute handle) -> callbacks for indications.
        self.indication_subscribers: dict[tuple[int, int], list[Subscriber]] = {}
        #: local characteristic (anything with ``_handle``) -> callbacks(conn, cccd) for
        #: CCCD writes by clients (keyed by object: re-registration moves handles).
        self.cccd_subscribers: dict[Any, list[Callable[[int, int], None]]] = {}
        #: Services this boot registered in the GATT server.
        self.services: list[HostService] = []
        #: The local ``_bleio.Service`` objects of this boot (registered lazily: ``_commit``).
        self.local_services: list[Any] = []
        self.name = ""
        self.enabled = True
        #: The node's subclasses of ``_bleio`` classes (``UUID``, ``Service``), by name.
        self.classes: dict[str, type] = {}
        self._waiters: list[Event] = []
        self._closed = False
        self._host_at_boot = self.host
        self._listener = self._on_host_event
        self.host_driver.listeners.append(self._listener)
        runtime.on_stop(self.close)

    # -- host access -------------------------------------------------------------------------

    @property
    def host(self) -> Host:
        """The node's host now (a power cycle replaces it)."""
        return self.host_driver.host

    @property
    def now(self) -> int:
        return self.kernel.now

    def service(self) -> None:
        """Let the host driver send what the last host call produced."""
        self.host_driver.service()

    def in_firmware(self) -> bool:
        """Whether the caller is one of this node's firmware threads (so it may block)."""
        thread = self.runtime.scheduler.current
        return thread is not None and thread.node is self.runtime

    def ensure_ready(self) -> None:
        """Wait (simulated time) for the host's power-on; ``BluetoothError`` if it never ends."""
        if self.host.powered:
            if not self.name:
                self.set_name(self.default_name())
            return
        if self.in_firmware():
            self.wait_until(lambda: self.host.powered, POWER_ON_WAIT_NS)
        if not self.host.powered:
            raise BluetoothError("Adapter not enabled")
        if not self.name:
            self.set_name(self.default_name())

    def default_name(self) -> str:
        """``CIRCUITPY_BLE_NAME`` from ``/settings.toml`` when it is a string of at most
        31 octets (``bleio_adapter_reset_name`` reads it into a 32-octet buffer), else
        ``CIRCUITPY`` + the last four hex digits of the printed address (Nordic, HCI)."""
        configured = read_setting(self.runtime, "CIRCUITPY_BLE_NAME")
        if isinstance(configured, str) and len(configured.encode("utf-8")) < BLE_NAME_SETTING_BUFFER:
            return configured
        value = self.host.address.value
        return f"CIRCUITPY{value[1]:02x}{value[0]:02x}"

    def set_name(self, name: str) -> None:
        """The adapter name, also the GAP Device Name (at most 248 octets, as the SoftDevice)."""
        data = name.encode("utf-8")[:248]
        self.name = data.decode("utf-8", "ignore")
        server = self.host.gatt_server
        handles = server.gap_handles
        if handles is not None:
            try:
                server.set_value(handles.device_name, data)
            except AttLocalError:
                pass

    # -- blocking ------------------------------------------------------------------------------

    def pulse(self) -> None:
        """Wake every waiter so it re-checks its predicate."""
        waiters, self._waiters = self._waiters, []
        for event in waiters:
            event.set()

    def wait_until(self, predicate: Callable[[], bool], timeout_ns: int | None) -> bool:
        """Park the calling firmware thread until ``predicate()`` or ``timeout_ns`` passes.

        From plain code (no firmware thread) it only evaluates the predicate.
        """
        if predicate():
            return True
        if not self.in_firmware():
            return False
        deadline = None if timeout_ns is None else self.now + max(0, timeout_ns)
        while True:
            remaining = None if deadline is None else deadline - self.now
            if remaining is not None and remaining <= 0:
                return predicate()
            event = self.runtime.event()
            self._waiters.append(event)
            event.wait(remaining)
            if predicate():
                return True

    def poll(self) -> None:
        """A polled property was read: let simulated time advance (busy loops)."""
        if self.in_firmware():
            self.runtime.sleep_ns(POLL_NS)

    def sleep(self, ns: int) -> None:
        if self.in_firmware():
            self.runtime.sleep_ns(ns)

    def call_later(self, delay_ns: int, fn: Callable[[], None]) -> None:
        self.kernel.call_at(self.now + delay_ns, fn)

    # -- GATT server -----------------------------------------------------------------------------

    def register_service(self, definition: ServiceDef, previous: HostService | None) -> HostService:
        """Add ``definition`` to the GATT server (replacing ``previous``, the same service
        with fewer attributes: the SoftDevice adds attributes one at a time, the host a whole
        service) and tell connected clients with Service Changed."""
        server = self.host.gatt_server
        if previous is not None and previous in self.services:
            server.remove_service(previous)
            self.services.remove(previous)
        added = server.add_service(definition)
        self.services.append(added)
        if self.links:
            start = added.start_handle if previous is None else previous.start_handle
            try:
                server.service_changed(start, added.end_handle, self.now)
                self.service()
            except AttLocalError:
                pass
        return added

    def commit_services(self) -> None:
        """Register every local service with its pending additions (before advertising,
        connecting, or serving a new connection)."""
        for service in list(self.local_services):
            service._commit()

    def subscribe(self, table: dict[Any, list[Any]], key: Any, callback: Any) -> None:
        table.setdefault(key, []).append(callback)

    def unsubscribe(self, table: dict[Any, list[Any]], key: Any, callback: Any) -> None:
        callbacks = table.get(key)
        if callbacks is not None and callback in callbacks:
            callbacks.remove(callback)
            if not callbacks:
                del table[key]

    # -- GATT client -----------------------------------------------------------------------------

    def gatt_call(self, link: LinkState, start: Callable[[GattClient, int, Callable[[Any], None]], object]) -> Any:
        """Run one GATT client operation on ``link`` and wait for its outcome.

        Raises ``ConnectionError("Not connected")`` when the link is or goes away, and the
        board's error for an ATT error response (:func:`~.errors.gatt_error`).
        """
        if not link.connected:
            raise ConnectionError(NOT_CONNECTED)
        box: list[Any] = []

        def done(outcome: Any) -> None:
            box.append(outcome)
            self.pulse()

        try:
            client = self.host.gatt_client(link.handle)
            start(client, self.now, done)
        except LocalError:
            raise ConnectionError(NOT_CONNECTED) from None
        except AttLocalError as exc:
            raise BluetoothError(str(exc)) from None
        self.service()
        self.wait_until(lambda: bool(box) or not link.connected, None)
        if not box:
            raise ConnectionError(NOT_CONNECTED)
        outcome = box[0]
        if isinstance(outcome, (AttBearerClosedError, AttTimeoutError)):
            raise ConnectionError(NOT_CONNECTED)
        if isinstance(outcome, AttError):
            raise gatt_error(outcome.code)
        return outcome

    def wait_client_idle(self, link: LinkState) -> None:
        """Wait while the link's previous GATT request is still busy (the SoftDevice's
        NRF_ERROR_BUSY loop before a write): until its response, which pulses the waiters
        (requests this personality starts pulse when they complete; the host's own emit an
        event), or the link goes away."""
        try:
            client = self.host.gatt_client(link.handle)
        except LocalError:
            raise ConnectionError(NOT_CONNECTED) from None
        self.wait_until(lambda: not client.busy or not link.connected, None)
        if not link.connected:
            raise ConnectionError(NOT_CONNECTED)

    # -- advertising -----------------------------------------------------------------------------

    def advertising_timeout(self, delay_ns: int) -> None:
        """Stop advertising after ``delay_ns`` unless it stopped and started again."""
        self._adv_token += 1
        token = self._adv_token

        def expire() -> None:
            if token == self._adv_token and self.user_advertising and not self._closed:
                self.stop_advertising()
                self.pulse()

        self.call_later(delay_ns, expire)

    def stop_advertising(self) -> None:
        self._adv_token += 1
        self.user_advertising = False
        if self.advertising:
            self.advertising = False
            try:
                self.host.stop_advertising(self.now)
                self.service()
            except LocalError:
                pass

    # -- events ----------------------------------------------------------------------------------

    def _on_host_event(self, t_ns: int, event: ev.HostEvent) -> None:
        if self._closed:
            return
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            handler(self, event)
        self.pulse()

    def _advertising_started(self, event: ev.AdvertisingStarted) -> None:
        if event.handle == 0:
            self.advertising = True
            self.adv_outcome = (True, 0)

    def _advertising_failed(self, event: ev.AdvertisingStartFailed) -> None:
        if event.handle == 0:
            self.adv_outcome = (False, event.status)
            self.user_advertising = False

    def _advertising_stopped(self, event: ev.AdvertisingStopped) -> None:
        if event.handle == 0:
            self.advertising = False
            self.user_advertising = False
            self._adv_token += 1

    def _report(self, event: ev.AdvertisingReport) -> None:
        if self.scan is not None:
            self.scan.offer(event, self.now)

    def _scan_started(self, event: ev.ScanStarted) -> None:
        self.scan_started = True

    def _scan_stopped(self, event: ev.ScanStopped) -> None:
        self.scan_started = False
        if self.scan is not None:
            self.scan.done = True

    def _connected(self, event: ev.Connected) -> None:
        self.commit_services()
        link = LinkState(
            event.handle, event.role, event.peer_address, event.interval_ns, event.latency,
            event.supervision_timeout_ns,
        )
        self.links[event.handle] = link
        if event.role == "central":
            if self.connect_peer is not None and event.peer_address.value == self.connect_peer.value:
                self.connect_outcome = (event.handle, 0)
            return
        # A connection stops the advertising that made it (advertising_on_ble_evt).
        self.advertising = False
        self.user_advertising = False
        self._adv_token += 1
        if event.interval_ns != PREFERRED_INTERVAL_NS:
            # The peripheral's preferred parameters (ppcp): 30 ms, latency 0, 4 s.
            try:
                self.request_interval(link, PREFERRED_INTERVAL_NS, 0, SUPERVISION_TIMEOUT_NS)
            except ValueError:
                pass

    def request_interval(
        self, link: LinkState, interval_ns: int, latency: int | None = None, timeout_ns: int | None = None
    ) -> None:
        """Ask for a new connection interval (``sd_ble_gap_conn_param_update``); the
        latency and supervision timeout stay the link's unless given."""
        latency = link.latency if latency is None else latency
        timeout = link.supervision_timeout_ns if timeout_ns is None else timeout_ns
        params = ConnectionParameters(interval_ns, interval_ns, latency, timeout)
        try:
            self.host.update_connection(link.handle, params, self.now)
        except LocalError as exc:
            raise ValueError("Invalid BLE parameter") from exc
        link.updating = True
        self.service()

    def _connection_failed(self, event: ev.ConnectionFailed) -> None:
        if self.connect_peer is not None and event.peer_address.value == self.connect_peer.value:
            self.connect_outcome = (None, event.status)

    def _disconnected(self, event: ev.Disconnected) -> None:
        link = self.links.pop(event.handle, None)
        if link is not None:
            link.connected = False
            link.pairing = False
            link.encrypting = False
            link.updating = False
            link.disconnect_reason = event.reason

    def _updated(self, event: ev.ConnectionUpdated) -> None:
        link = self.links.get(event.handle)
        if link is not None:
            link.interval_ns = event.interval_ns
            link.latency = event.latency
            link.supervision_timeout_ns = event.supervision_timeout_ns
            link.updating = False

    def _update_failed(self, event: ev.ConnectionUpdateFailed) -> None:
        link = self.links.get(event.handle)
        if link is not None:
            link.updating = False

    def _mtu(self, event: ev.MtuChanged) -> None:
        link = self.links.get(event.handle)
        if link is not None:
            link.mtu = event.mtu

    def _notification(self, event: ev.Notification) -> None:
        for callback in list(self.notification_subscribers.get((event.handle, event.attribute_handle), ())):
            callback(event.handle, event.value)

    def _indication(self, event: ev.Indication) -> None:
        for callback in list(self.indication_subscribers.get((event.handle, event.attribute_handle), ())):
            callback(event.handle, event.value)

    def _subscription(self, event: ev.SubscriptionChanged) -> None:
        for key, callbacks in list(self.cccd_subscribers.items()):
            if getattr(key, "_handle", key) == event.value_handle:
                for callback in list(callbacks):
                    callback(event.handle, event.cccd_value)

    def _encryption(self, event: ev.EncryptionChanged) -> None:
        link = self.links.get(event.handle)
        if link is None:
            return
        link.encrypting = False
        if event.status == 0:
            link.encrypted = event.enabled
            if event.enabled:
                link.paired = True
                if link.pairing and link.pair_result is None:
                    link.pair_result = (True, None, False)
        elif link.pairing and link.pair_result is None:
            link.pair_result = (False, 0x08, False)

    def _pairing(self, event: ev.PairingComplete) -> None:
        link = self.links.get(event.handle)
        if link is None:
            return
        reason = getattr(event.result, "reason", None)
        timed_out = bool(getattr(event.result, "timed_out", False))
        if event.success:
            if link.encrypted:
                link.paired = True
                link.pair_result = (True, None, False)
        else:
            link.pair_result = (False, reason, timed_out)

    # -- soft reload ---------------------------------------------------------------------------

    def close(self) -> None:
        """The firmware stopped: what ``bleio_reset`` does on a board (see module docstring)."""
        if self._closed:
            return
        self._closed = True
        try:
            self.host_driver.listeners.remove(self._listener)
        except ValueError:
            pass
        host = self.host
        if host is not self._host_at_boot or not host.powered:
            return
        try:
            if self.scan is not None and not self.scan.done:
                self.scan.done = True
                host.stop_scan(self.now)
            if self.advertising:
                host.stop_advertising(self.now)
            for handle in list(self.links):
                host.disconnect(handle, self.now)
            for service in self.services:
                host.gatt_server.remove_service(service)
        except (LocalError, AttLocalError):
            pass
        self.services.clear()
        self.local_services.clear()
        self.advertising = False
        self.user_advertising = False
        self.service()
        self.pulse()

    def busy_error(self) -> BluetoothError:
        """``check_nrf_error(NRF_ERROR_BUSY)``."""
        return firmware_error(0x0011)


_HANDLERS: dict[type, Callable[[BleioNode, Any], None]] = {
    ev.AdvertisingStarted: BleioNode._advertising_started,
    ev.AdvertisingStartFailed: BleioNode._advertising_failed,
    ev.AdvertisingStopped: BleioNode._advertising_stopped,
    ev.AdvertisingReport: BleioNode._report,
    ev.ScanStarted: BleioNode._scan_started,
    ev.ScanStopped: BleioNode._scan_stopped,
    ev.Connected: BleioNode._connected,
    ev.ConnectionFailed: BleioNode._connection_failed,
    ev.Disconnected: BleioNode._disconnected,
    ev.ConnectionUpdated: BleioNode._updated,
    ev.ConnectionUpdateFailed: BleioNode._update_failed,
    ev.MtuChanged: BleioNode._mtu,
    ev.Notification: BleioNode._notification,
    ev.Indication: BleioNode._indication,
    ev.SubscriptionChanged: BleioNode._subscription,
    ev.EncryptionChanged: BleioNode._encryption,
    ev.PairingComplete: BleioNode._pairing,
}
