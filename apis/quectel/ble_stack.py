"""The state behind the ``ble`` module: roles, GATT start/stop, connections, events.

Theory of operation
-------------------
:class:`BleStack` is the adapter between the QuecPython ``ble`` API and the node's
:class:`host.host.Host`. It keeps what the module keeps:

* the **role**: ``serverInit`` makes the module a server, ``clientInit`` a client (one at
  a time; the other init returns -1 until the role is released); each role's callback
  gets only that role's events (:mod:`.ble_events`);
* the **GATT state** (:class:`GattState`): ``gattStart`` goes STOPPED -> STARTING and, once
  the host is powered, STARTED with event 0; ``gattStop`` stops advertising, scanning and
  connections and goes back to STOPPED with event 1. Stack calls while not STARTED return
  -1, the outcome of the real stack refusing them;
* **connections** by ``connect_id``: the lowest free id from 0 (the seed server notifies on
  ``conn_id = 0``), mapped to the HCI connection handle;
* the server's declarations (:mod:`.ble_gatt_table`), advertising and scanning settings.

Host events (:meth:`on_host_event`, from the node's host driver) become event tuples
posted to the board's callback thread (:class:`~.board.QuectelBoard`), so the firmware
sees them asynchronously, one at a time, after the call that caused them has returned.
API methods here take checked arguments (the checks are in :mod:`.ble`); each returns 0,
or -1 when the host refuses (its ``LocalError``). The client's GATT procedures are
:mod:`.ble_client`; SMP is :mod:`.ble_smp`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Callable

from host.att import AttBearer, AttError, AttLocalError
from host.events import (
    AdvertisingReport,
    Connected,
    ConnectionFailed,
    ConnectionUpdated,
    ConnectionUpdateFailed,
    Disconnected,
    HostEvent,
    Indication,
    MtuChanged,
    Notification,
    PowerOnFailed,
    PoweredOn,
    SubscriptionChanged,
)
from host.gap_params import AdvertisingParameters, ScanParameters
from host.gatt_db import CCCD_UUID, AttributeAccess, ReadHook, WriteHook
from host.hci import LocalError
from host.smp_types import SmpLocalError
from host.uuid import UUID
from linklayer.address import Address
from phy.units import SLOT_625US, UNIT_10MS, UNIT_1250US

from . import ble_events as ev
from . import ble_gatt_table as table_mod
from .ble_client import ClientProcedures
from .ble_events import EventArgs
from .ble_gatt_table import Hooks, ServerTable
from .ble_smp import SmpAdapter
from .board import QuectelBoard

__all__ = ["AdvSettings", "BleStack", "GattState", "ScanSettings"]

#: What a refused stack call raises inside blesim (turned into -1).
_REFUSALS = (LocalError, AttLocalError, SmpLocalError, ValueError)


class GattState(enum.Enum):
    """``ble.getStatus()``: 1 only when STARTED."""

    STOPPED = "stopped"
    STARTING = "starting"
    STARTED = "started"


@dataclass
class AdvSettings:
    """``setAdvParam`` (intervals in 0.625 ms units); defaults of LE_Set_Advertising_Parameters."""

    min_adv: int = 0x0800
    max_adv: int = 0x0800
    adv_type: int = 0
    addr_type: int = 0
    channel: int = 0x07
    filter_policy: int = 0


@dataclass
class ScanSettings:
    """``setScanParam`` (interval and window in 0.625 ms units)."""

    scan_mode: int = 1
    interval: int = 0x0100
    window: int = 0x0050
    filter_policy: int = 0
    addr_type: int = 0


Callback = Callable[[Any], object]


class BleStack:
    """The ``ble`` module's state for one node and one boot (see the module docstring)."""

    def __init__(self, board: QuectelBoard) -> None:
        self.board = board
        self.role: str | None = None
        self.callback: Callback | None = None
        self.state = GattState.STOPPED
        # server side
        self.local_name = ""
        self.adv = AdvSettings()
        self.adv_data = b""
        self.rsp_data = b""
        self.table = ServerTable()
        self.keep_system = False
        self.table_built = False
        # client side
        self.scan = ScanSettings()
        self.scan_filter = True
        self.scanning = False
        self._reported: set[tuple[bytes, bool]] = set()
        # connections
        self._cid_to_handle: dict[int, int] = {}
        self._handle_to_peer: dict[int, tuple[int, bytes]] = {}
        self.client = ClientProcedures(self.post)
        self.smp = SmpAdapter(self)
        board.on_stop(self.shutdown)

    # -- plumbing ------------------------------------------------------------------------

    @property
    def now(self) -> int:
        return self.board.now

    def post(self, args: EventArgs) -> None:
        """Queue one event for the registered callback (if its role receives it)."""
        callback, role = self.callback, self.role
        if callback is None or role is None:
            return
        event_id = args[0]
        assert isinstance(event_id, int)
        if ev.delivered_to(event_id, role):
            self.board.schedule(callback, args, f"ble event {event_id}")

    def call(self, action: Callable[[], object]) -> int:
        """Run a host call: 0 and the host's output sent, or -1 if the host refuses."""
        try:
            action()
        except _REFUSALS:
            self.board.service()
            return -1
        self.board.service()
        return 0

    def ready(self, role: str | None = None) -> bool:
        """STARTED (and in ``role`` when given)."""
        return self.state is GattState.STARTED and (role is None or self.role == role)

    def handle_of(self, cid: int) -> int | None:
        """The HCI connection handle of ``connect_id``."""
        return self._cid_to_handle.get(cid)

    def bearer_of(self, cid: int) -> AttBearer | None:
        handle = self._cid_to_handle.get(cid)
        if handle is None:
            return None
        try:
            return self.board.host.att_bearer(handle)
        except LocalError:
            return None

    def cid_of(self, handle: int) -> int | None:
        peer = self._handle_to_peer.get(handle)
        return None if peer is None else peer[0]

    @property
    def connection_ids(self) -> tuple[int, ...]:
        return tuple(sorted(self._cid_to_handle))

    # -- init, start, stop ---------------------------------------------------------------

    def init(self, role: str, callback: Callback) -> int:
        """``serverInit`` / ``clientInit``: -1 while the module plays the other role."""
        if self.role is not None and self.role != role:
            return -1
        self.role, self.callback = role, callback
        return 0

    def release(self, role: str) -> int:
        """``serverRelease`` / ``clientRelease``."""
        if self.role != role:
            return -1
        self.role, self.callback = None, None
        return 0

    def gatt_start(self) -> int:
        if self.role is None or self.state is not GattState.STOPPED:
            return -1
        self.state = GattState.STARTING
        self.table.clear()
        self.table_built = False
        if self.board.host.powered:
            self._started()
        return 0

    def _started(self) -> None:
        self.state = GattState.STARTED
        self.post(ev.status_only(ev.BLE_START_STATUS_IND))

    def gatt_stop(self) -> int:
        if self.state is GattState.STOPPED:
            return -1
        self._quiesce()
        self.state = GattState.STOPPED
        self.post(ev.status_only(ev.BLE_STOP_STATUS_IND))
        return 0

    def status(self) -> int:
        return 1 if self.state is GattState.STARTED else 0

    def public_address(self) -> bytes | int:
        if self.state is not GattState.STARTED:
            return -1
        return bytes(self.board.host.address.value)

    def _quiesce(self) -> None:
        """Stop advertising, scanning, connecting and every connection (best effort)."""
        host, now = self.board.host, self.now
        if not host.powered:
            return
        steps: list[Callable[[], None]] = []
        if host.gap.is_advertising(0):
            steps.append(lambda: host.stop_advertising(now))
        if host.gap.scanning or self.scanning:
            steps.append(lambda: host.stop_scan(now))
        if host.gap.connecting:
            steps.append(lambda: host.cancel_connect(now))
        for handle in sorted(self._handle_to_peer):
            steps.append(lambda handle=handle: host.disconnect(handle, now))  # type: ignore[misc]
        for step in steps:
            try:
                step()
            except _REFUSALS:
                pass
        self.scanning = False
        self.board.service()

    def shutdown(self) -> None:
        """The firmware stopped or rebooted: the module resets, BLE goes off."""
        if self.state is not GattState.STOPPED:
            self._quiesce()
        self.state = GattState.STOPPED
        self.role, self.callback = None, None

    # -- server: name, advertising ----------------------------------------------------------

    def set_local_name(self, name: str) -> int:
        if not self.ready():
            return -1
        self.local_name = name
        server = self.board.host.gatt_server
        if server.gap_handles is not None:
            gap = server.gap_handles
            return self.call(lambda: server.set_value(gap.device_name, name.encode("utf-8")))
        return 0

    def set_adv_param(self, settings: AdvSettings) -> int:
        if not self.ready("server") or settings.min_adv > settings.max_adv:
            return -1
        self.adv = settings
        return 0

    def set_adv_data(self, data: bytes, scan_response: bool) -> int:
        if not self.ready("server"):
            return -1
        if scan_response:
            self.rsp_data = data
        else:
            self.adv_data = data
        if self.board.host.gap.is_advertising(0):
            return self.adv_start()
        return 0

    def adv_start(self) -> int:
        if not self.ready("server"):
            return -1
        a = self.adv
        if a.adv_type in (1, 4):  # directed: the API has no way to name the peer
            return -1
        params = AdvertisingParameters(
            interval_min_ns=a.min_adv * SLOT_625US, interval_max_ns=a.max_adv * SLOT_625US,
            connectable=a.adv_type == 0, scannable=a.adv_type in (0, 2), channel_map=a.channel,
            filter_policy=a.filter_policy, own_address_type=a.addr_type, legacy=True,
        )
        host, now = self.board.host, self.now
        return self.call(lambda: host.start_advertising(now, self.adv_data, self.rsp_data, params))

    def adv_stop(self) -> int:
        if not self.ready("server"):
            return -1
        host, now = self.board.host, self.now
        return self.call(lambda: host.stop_advertising(now))

    # -- server: the attribute table ----------------------------------------------------

    def add_service(self, server_id: int, primary: bool, uuid: UUID) -> int:
        ok = self.ready("server") and self.table.add_service(server_id, primary, uuid)
        return 0 if ok else -1

    def add_chara(self, server_id: int, chara_id: int, properties: int, uuid: UUID) -> int:
        ok = self.ready("server") and self.table.add_chara(server_id, chara_id, properties, uuid)
        return 0 if ok else -1

    def add_chara_value(self, server_id: int, chara_id: int, permission: int, uuid: UUID, value: bytes) -> int:
        ok = self.ready("server") and self.table.add_value(server_id, chara_id, permission, uuid, value)
        return 0 if ok else -1

    def add_chara_desc(self, server_id: int, chara_id: int, permission: int, uuid: UUID, value: bytes) -> int:
        ok = self.ready("server") and self.table.add_desc(server_id, chara_id, permission, uuid, value)
        return 0 if ok else -1

    def add_or_clear(self, option: int, mode: int) -> int:
        if not self.ready("server"):
            return -1
        server = self.board.host.gatt_server
        self.keep_system = mode == 1
        if option == 0:
            result = self.call(lambda: table_mod.clear(server, self.keep_system, self.local_name, self.now))
            self.table.clear()
            self.table_built = False
            return result
        hooks = Hooks(read=self._read_hook, write=self._write_hook)
        result = self.call(lambda: table_mod.install(server, self.table, hooks, self.keep_system, self.local_name, self.now))
        self.table_built = result == 0
        return result

    def change_chara_value(self, server_id: int, chara_id: int, value: bytes) -> int:
        if not self.ready("server"):
            return -1
        chara = self.table.chara(server_id, chara_id)
        if chara is None:
            return -1
        chara.value = value
        handle = self.table.value_handles.get((server_id, chara_id))
        if handle is None or not self.table_built:
            return 0
        server = self.board.host.gatt_server
        return self.call(lambda: server.set_value(handle, value))

    def _read_hook(self, uuid: UUID) -> ReadHook:
        def hook(access: AttributeAccess) -> None:
            value = self.board.host.gatt_server.get_value(access.handle)
            self.post(ev.recv_read(value, access.handle, uuid))
            return None

        return hook

    def _write_hook(self, uuid: UUID) -> WriteHook:
        def hook(access: AttributeAccess) -> None:
            self.post(ev.recv_write(access.value, access.handle, uuid))
            return None

        return hook

    # -- server: notifications and indications ----------------------------------------

    def _server_target(self, cid: int, attr_handle: int) -> AttBearer | None:
        if not self.ready("server"):
            return None
        bearer = self.bearer_of(cid)
        if bearer is None or self.board.host.gatt_server.db.get(attr_handle) is None:
            return None
        return bearer

    def send_notification(self, cid: int, attr_handle: int, value: bytes) -> int:
        """Handle Value Notification on ``connect_id`` (sent whatever the CCCD; event 25)."""
        bearer = self._server_target(cid, attr_handle)
        if bearer is None or not bearer.notify(attr_handle, value):
            return -1
        self.board.service()
        self.post(ev.status_only(ev.BLE_GATT_SEND_END))
        return 0

    def send_indication(self, cid: int, attr_handle: int, value: bytes) -> int:
        """Handle Value Indication; event 25 when confirmed (status 1 if it failed)."""
        bearer = self._server_target(cid, attr_handle)
        if bearer is None or not bearer.is_open:
            return -1

        def done(error: AttError | None, _when: int) -> None:
            self.post(ev.status_only(ev.BLE_GATT_SEND_END, 0 if error is None else 1))

        return self.call(lambda: bearer.indicate(attr_handle, value, self.now, done))

    # -- client: scanning and connecting ----------------------------------------------------

    def set_scan_param(self, settings: ScanSettings) -> int:
        if not self.ready("client"):
            return -1
        self.scan = settings
        return 0

    def scan_start(self) -> int:
        if not self.ready("client"):
            return -1
        s = self.scan
        params = ScanParameters(
            active=s.scan_mode == 1, interval_ns=s.interval * SLOT_625US, window_ns=s.window * SLOT_625US,
            filter_duplicates=self.scan_filter, filter_policy=s.filter_policy, own_address_type=s.addr_type,
        )
        host, now = self.board.host, self.now
        result = self.call(lambda: host.start_scan(now, params))
        if result == 0:
            self.scanning = True
            self._reported.clear()
        return result

    def scan_stop(self) -> int:
        if not self.ready("client"):
            return -1
        host, now = self.board.host, self.now
        self.scanning = False
        return self.call(lambda: host.stop_scan(now))

    def connect(self, addr_type: int, addr: bytes) -> int:
        if not self.ready("client"):
            return -1
        host, now, peer = self.board.host, self.now, Address(addr, addr_type == 1)
        return self.call(lambda: host.connect(peer, now))

    def cancel_connect(self) -> int:
        if not self.ready("client"):
            return -1
        host, now = self.board.host, self.now
        return self.call(lambda: host.cancel_connect(now))

    def disconnect(self, cid: int) -> int:
        handle = self.handle_of(cid)
        if not self.ready() or handle is None:
            return -1
        host, now = self.board.host, self.now
        return self.call(lambda: host.disconnect(handle, now))

    # -- client: GATT -------------------------------------------------------------------------

    def gatt(self, cid: int, action: Callable[[AttBearer, int], object]) -> int:
        """Run a client procedure on ``connect_id``'s bearer (client role, STARTED)."""
        if not self.ready("client"):
            return -1
        bearer = self.bearer_of(cid)
        if bearer is None or not bearer.is_open:
            return -1
        now = self.now
        return self.call(lambda: action(bearer, now))

    def exchange_mtu(self, cid: int, mtu: int) -> int:
        """``exchangeMtu``: our ATT Rx MTU becomes ``mtu`` and is offered (once per link)."""
        if not self.ready():
            return -1
        bearer = self.bearer_of(cid)
        if bearer is None or bearer.mtu_exchange_requested:
            return -1

        def done(result: int | AttError, _when: int) -> None:
            if isinstance(result, AttError):
                self.post(ev.mtu(cid, bearer.mtu, 1))
            elif result == bearer.mtu and result == 23:
                self.post(ev.mtu(cid, result))  # unchanged: no MtuChanged from the host

        def start() -> None:
            bearer.local_mtu = mtu
            bearer.exchange_mtu(self.now, done)

        return self.call(start)

    # -- host events ------------------------------------------------------------------------

    def on_host_event(self, t_ns: int, event: HostEvent) -> None:
        """One event of the node's host (from the host driver's listeners)."""
        if isinstance(event, PoweredOn):
            if self.state is GattState.STARTING:
                self._started()
            return
        if isinstance(event, PowerOnFailed):
            if self.state is GattState.STARTING:
                self.state = GattState.STOPPED
                self.post(ev.status_only(ev.BLE_START_STATUS_IND, 1))
            return
        if isinstance(event, Disconnected):
            self._disconnected(event)
            return
        if self.state is not GattState.STARTED:
            return
        if isinstance(event, AdvertisingReport):
            self._report(event)
        elif isinstance(event, Connected):
            self._connected(event)
        elif isinstance(event, ConnectionFailed):
            self.post(ev.connected(0, event.peer_address.value, event.status or 1))
        elif isinstance(event, ConnectionUpdated):
            cid = self.cid_of(event.handle)
            if cid is not None:
                interval = event.interval_ns // UNIT_1250US
                timeout = event.supervision_timeout_ns // UNIT_10MS
                self.post(ev.update_conn_param(cid, interval, interval, event.latency, timeout))
        elif isinstance(event, ConnectionUpdateFailed):
            cid = self.cid_of(event.handle)
            if cid is not None:
                self.post(ev.update_conn_param(cid, 0, 0, 0, 0, event.status or 1))
        elif isinstance(event, MtuChanged):
            cid = self.cid_of(event.handle)
            if cid is not None:
                self.post(ev.mtu(cid, event.mtu))
        elif isinstance(event, Notification):
            if self.cid_of(event.handle) is not None:
                self.post(ev.notification(event.attribute_handle, event.value))
        elif isinstance(event, Indication):
            if self.cid_of(event.handle) is not None:
                self.post(ev.indication(event.attribute_handle, event.value))
        elif isinstance(event, SubscriptionChanged):
            self._subscription(event)
        else:
            self.smp.on_host_event(event)

    def _report(self, report: AdvertisingReport) -> None:
        if self.role != "client" or not self.scanning or report.address is None:
            return
        key = (report.address.value, report.address.random)
        if self.scan_filter:
            if key in self._reported:
                return  # setScanFilter(1): one report per device and scan
            self._reported.add(key)
        if report.scan_response:
            event_type = 4
        elif report.directed:
            event_type = 1
        elif report.connectable:
            event_type = 0
        elif report.scannable:
            event_type = 2
        else:
            event_type = 3
        self.post(ev.scan_report(event_type, report.address.value, report.address.random, report.rssi,
                                 report.data[:31]))

    def _connected(self, event: Connected) -> None:
        cid = 0
        while cid in self._cid_to_handle:
            cid += 1
        self._cid_to_handle[cid] = event.handle
        self._handle_to_peer[event.handle] = (cid, bytes(event.peer_address.value))
        self.smp.on_connected(event.handle)
        self.post(ev.connected(cid, event.peer_address.value))
        if self.role == "client" and event.role == "central":
            self.post(ev.status_only(ev.BLE_GATT_START_DISCOVER_SERVICE_IND))

    def _disconnected(self, event: Disconnected) -> None:
        peer = self._handle_to_peer.pop(event.handle, None)
        if peer is None:
            return
        cid, address = peer
        self._cid_to_handle.pop(cid, None)
        self.post(ev.disconnected(cid, address))

    def _subscription(self, event: SubscriptionChanged) -> None:
        if self.cid_of(event.handle) is None:
            return
        cccd = self.board.host.gatt_server.db.cccd_of(event.value_handle)
        if cccd is not None:
            self.post(ev.recv_write(event.cccd_value.to_bytes(2, "little"), cccd.handle, CCCD_UUID))
