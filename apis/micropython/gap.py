"""``BLE.gap_*``: advertising, scanning, connecting and disconnecting.

Theory of operation
-------------------
Each method checks its arguments as ``modbluetooth.c`` and the NimBLE binding do, turns
them into the host's parameter objects (``interval_us`` rounded down to 625 µs units,
the connection defaults of ``mp_bluetooth_gap_peripheral_connect``: 30-50 ms interval,
latency 0, 2.56 s supervision timeout, a 2 s connect timeout) and calls the host; the
host's events come back as IRQs:

=================================  =================================================
host event                         IRQ and payload
=================================  =================================================
``AdvertisingReport`` (scanning)   ``_IRQ_SCAN_RESULT (addr_type, addr, adv_type, rssi, adv_data)``
``ScanStopped``                    ``_IRQ_SCAN_DONE ()``
``Connected``                      ``_IRQ_CENTRAL_CONNECT`` / ``_IRQ_PERIPHERAL_CONNECT (conn, addr_type, addr)``
``ConnectionFailed``               ``_IRQ_PERIPHERAL_DISCONNECT (65535, 255, b'\\x00' * 6)``
``Disconnected``                   ``_IRQ_CENTRAL_DISCONNECT`` / ``_IRQ_PERIPHERAL_DISCONNECT``
``ConnectionUpdated`` / ``...Failed``  ``_IRQ_CONNECTION_UPDATE (conn, interval, latency, timeout, status)``
=================================  =================================================

With NimBLE a non-connectable advertiser still sends ADV_SCAN_IND (``disc_mode GEN``);
with BTstack it sends ADV_NONCONN_IND. A scan's duration is kept by a simulated-time
timer of this module (any length; 0 scans until ``gap_scan(None)``).
"""

from __future__ import annotations

from typing import Any

from emu.kernel import Timer
from host.events import (
    AdvertisingReport,
    Connected,
    ConnectionFailed,
    ConnectionUpdated,
    ConnectionUpdateFailed,
    Disconnected,
    ScanStopped,
)
from host.gap_params import AdvertisingParameters, ConnectionParameters, ScanParameters
from host.hci import LocalError
from linklayer.address import Address

from .ble_core import BleCore, ConnInfo, buffer_bytes, to_msb
from .errors import EALREADY, EINVAL, raise_errno
from .irq import Buf

__all__ = ["GapMixin", "IRQ"]


class IRQ:
    """The event codes of MicroPython's ``bluetooth`` IRQ handler."""

    CENTRAL_CONNECT = 1
    CENTRAL_DISCONNECT = 2
    GATTS_WRITE = 3
    GATTS_READ_REQUEST = 4
    SCAN_RESULT = 5
    SCAN_DONE = 6
    PERIPHERAL_CONNECT = 7
    PERIPHERAL_DISCONNECT = 8
    GATTC_SERVICE_RESULT = 9
    GATTC_SERVICE_DONE = 10
    GATTC_CHARACTERISTIC_RESULT = 11
    GATTC_CHARACTERISTIC_DONE = 12
    GATTC_DESCRIPTOR_RESULT = 13
    GATTC_DESCRIPTOR_DONE = 14
    GATTC_READ_RESULT = 15
    GATTC_READ_DONE = 16
    GATTC_WRITE_DONE = 17
    GATTC_NOTIFY = 18
    GATTC_INDICATE = 19
    GATTS_INDICATE_DONE = 20
    MTU_EXCHANGED = 21
    L2CAP_ACCEPT = 22
    L2CAP_CONNECT = 23
    L2CAP_DISCONNECT = 24
    L2CAP_RECV = 25
    L2CAP_SEND_READY = 26
    CONNECTION_UPDATE = 27
    ENCRYPTION_UPDATE = 28
    GET_SECRET = 29
    SET_SECRET = 30
    PASSKEY_ACTION = 31


US = 1_000
MS = 1_000_000
#: Advertising interval limits in 0.625 ms units (Vol 4 Part E 7.8.5).
_ADV_UNITS_MIN, _ADV_UNITS_MAX = 0x20, 0x4000
#: NimBLE's defaults for an interval of 0 (BLE_GAP_ADV_FAST_INTERVAL1/2).
_ADV_DEFAULT_CONNECTABLE = (48, 96)
_ADV_DEFAULT_NONCONNECTABLE = (160, 240)
#: Scan interval/window clamp of the NimBLE binding (0.625 ms units).
_SCAN_UNITS_MIN, _SCAN_UNITS_MAX = 0x0004, 0x4000
#: gap_connect defaults (BLE_GAP_INITIAL_CONN_ITVL_MIN/MAX, 1.25 ms units; 10 ms units).
_CONN_ITVL_MIN, _CONN_ITVL_MAX, _CONN_SUPERVISION = 24, 40, 256
#: NimBLE's connect scan interval/window: 0x10 x 0.625 ms.
_CONN_SCAN_NS = 16 * 625 * US
#: ``gap_connect(..., scan_duration_ms=0)``: NimBLE's default (BLE_GAP_CONN_DUR_DFLT).
_CONN_DEFAULT_DURATION_MS = 30_000
_NO_HANDLE = 0xFFFF


def _adv_type(report: AdvertisingReport) -> int:
    """The legacy advertising type MicroPython reports (0 ADV_IND ... 4 SCAN_RSP)."""
    if report.legacy and 0 <= report.event_type <= 4:  # LE Advertising Report
        return report.event_type
    if report.scan_response:
        return 4
    if report.directed:
        return 1
    if report.connectable:
        return 0
    return 2 if report.scannable else 3


class GapMixin(BleCore):
    """The GAP part of ``BLE`` (see the module docstring)."""

    _adv_data: bytes
    _resp_data: bytes
    _scanning: bool
    _scan_timer: Timer | None
    _connecting: bool
    _disconnecting: set[int]

    def _init_gap(self) -> None:
        self._adv_data = b""
        self._resp_data = b""
        self._scanning = False
        self._scan_timer = None
        self._connecting = False
        self._disconnecting = set()
        self._on(AdvertisingReport, self._ev_report)
        self._on(ScanStopped, self._ev_scan_stopped)
        self._on(Connected, self._ev_connected)
        self._on(ConnectionFailed, self._ev_connection_failed)
        self._on(Disconnected, self._ev_disconnected)
        self._on(ConnectionUpdated, self._ev_updated)
        self._on(ConnectionUpdateFailed, self._ev_update_failed)

    def _gap_deactivate(self) -> None:
        self._cancel_scan_timer()
        self._scanning = False
        self._connecting = False
        self._disconnecting.clear()

    # -- broadcaster -------------------------------------------------------------------

    def gap_advertise(
        self, interval_us: Any, adv_data: Any = None, *, resp_data: Any = None, connectable: Any = True
    ) -> None:
        """``BLE.gap_advertise(interval_us, adv_data=None, *, resp_data=None, connectable=True)``."""
        self._check_active()
        host = self._host
        if interval_us is None:
            if host.gap.is_advertising():
                host.stop_advertising(self._now)
                self._service()
            return
        adv = self._adv_data if adv_data is None else buffer_bytes(adv_data)
        resp = self._resp_data if resp_data is None else buffer_bytes(resp_data)
        if len(adv) > 31:
            raise_errno(EINVAL)
        self._adv_data = adv
        if len(resp) > 31:
            raise_errno(EINVAL)
        self._resp_data = resp
        units = int(interval_us) // 625
        if units == 0:
            low, high = _ADV_DEFAULT_CONNECTABLE if connectable else _ADV_DEFAULT_NONCONNECTABLE
        elif _ADV_UNITS_MIN <= units <= _ADV_UNITS_MAX:
            low = high = units
        else:
            raise_errno(EINVAL)
        params = AdvertisingParameters(
            interval_min_ns=low * 625 * US,
            interval_max_ns=high * 625 * US,
            connectable=bool(connectable),
            scannable=True if self._nimble else bool(self._resp_data),
            own_address_type=self._own_address_type(),
            legacy=True,
        )
        try:
            host.start_advertising(self._now, self._adv_data, self._resp_data, params)
        except LocalError:
            raise_errno(EINVAL)
        self._service()

    # -- observer ------------------------------------------------------------------------

    def gap_scan(
        self, duration_ms: Any = 0, interval_us: int = 1_280_000, window_us: int = 11_250, active: Any = False
    ) -> None:
        """``BLE.gap_scan(duration_ms=0, interval_us=1280000, window_us=11250, active=False)``:
        ``gap_scan()`` scans until ``gap_scan(None)`` (``modbluetooth.c``: the default is
        an indefinite scan with NimBLE's background interval and window)."""
        self._check_active()
        if duration_ms is None:
            self._stop_scan()
            return
        if self._scanning:
            raise_errno(EALREADY)
        interval = max(_SCAN_UNITS_MIN, min(_SCAN_UNITS_MAX, int(interval_us) // 625))
        window = max(_SCAN_UNITS_MIN, min(_SCAN_UNITS_MAX, int(window_us) // 625))
        if window > interval:
            raise_errno(EINVAL)
        params = ScanParameters(
            active=bool(active),
            interval_ns=interval * 625 * US,
            window_ns=window * 625 * US,
            filter_duplicates=False,
            own_address_type=self._own_address_type(),
        )
        try:
            self._host.start_scan(self._now, params)
        except LocalError:
            raise_errno(EINVAL)
        self._scanning = True
        duration = int(duration_ms)
        if duration > 0:
            self._scan_timer = self._rt.kernel.call_at(self._now + duration * MS, self._scan_expired)
        self._service()

    def _scan_expired(self) -> None:
        self._scan_timer = None
        if self._scanning and self._active and not self._closed:
            self._host.stop_scan(self._now)
            self._service()

    def _cancel_scan_timer(self) -> None:
        if self._scan_timer is not None:
            self._scan_timer.cancel()
            self._scan_timer = None

    def _stop_scan(self) -> None:
        self._cancel_scan_timer()
        if not self._scanning:
            return
        self._host.stop_scan(self._now)
        self._service()

    def _ev_report(self, e: AdvertisingReport) -> None:
        if not self._scanning or e.address is None:
            return
        self._irq.post(
            IRQ.SCAN_RESULT,
            (e.address.address_type, Buf(to_msb(e.address)), _adv_type(e), e.rssi, Buf(e.data)),
        )

    def _ev_scan_stopped(self, e: ScanStopped) -> None:
        if not self._scanning:
            return
        self._scanning = False
        self._cancel_scan_timer()
        self._irq.post(IRQ.SCAN_DONE, ())

    # -- central -------------------------------------------------------------------------

    def gap_connect(
        self,
        addr_type: Any,
        addr: Any = None,
        scan_duration_ms: int = 2000,
        min_conn_interval_us: Any = None,
        max_conn_interval_us: Any = None,
    ) -> None:
        """``BLE.gap_connect(addr_type, addr, scan_duration_ms=2000, min_conn_interval_us=None,
        max_conn_interval_us=None)``; ``gap_connect(None)`` cancels."""
        self._check_active()
        host = self._host
        if addr_type is None:
            if not host.gap.connecting:
                raise_errno(EALREADY)
            host.cancel_connect(self._now)
            self._service()
            return
        raw = buffer_bytes(addr)
        if len(raw) != 6:
            raise ValueError("invalid addr")
        if host.gap.connecting:
            raise_errno(EALREADY)
        if self._scanning:
            self._stop_scan()
        imin = int(min_conn_interval_us) // 1250 if min_conn_interval_us else _CONN_ITVL_MIN
        imax = int(max_conn_interval_us) // 1250 if max_conn_interval_us else _CONN_ITVL_MAX
        params = ConnectionParameters(
            interval_min_ns=imin * 1250 * US,
            interval_max_ns=imax * 1250 * US,
            latency=0,
            supervision_timeout_ns=_CONN_SUPERVISION * 10 * MS,
        )
        scan = ScanParameters(
            active=False, interval_ns=_CONN_SCAN_NS, window_ns=_CONN_SCAN_NS,
            own_address_type=self._own_address_type(),
        )
        duration = int(scan_duration_ms) or _CONN_DEFAULT_DURATION_MS
        peer = Address(raw[::-1], int(addr_type) == 1)
        try:
            host.connect(peer, self._now, params, scan, timeout_ns=duration * MS)
        except LocalError:
            raise_errno(EINVAL)
        self._connecting = True
        self._service()

    def _ev_connection_failed(self, e: ConnectionFailed) -> None:
        if not self._connecting:
            return
        self._connecting = False
        self._irq.post(IRQ.PERIPHERAL_DISCONNECT, (_NO_HANDLE, 0xFF, Buf(bytes(6))))

    # -- both roles -----------------------------------------------------------------------

    def gap_disconnect(self, conn_handle: int) -> bool:
        """``BLE.gap_disconnect(conn_handle)``: False if that handle is not connected."""
        self._check_active()
        host = self._host
        handle = int(conn_handle)
        if handle not in host.gap.connections:
            return False
        if handle in self._disconnecting:
            raise_errno(EALREADY)  # ble_gap_terminate: already terminating
        try:
            host.disconnect(handle, self._now)
        except LocalError:
            return False
        self._disconnecting.add(handle)
        self._service()
        return True

    def _ev_connected(self, e: Connected) -> None:
        central = e.role == "central"
        if central:
            self._connecting = False
        info = ConnInfo(e.handle, central, e.peer_address.address_type, to_msb(e.peer_address))
        self._conns[e.handle] = info
        self._connection_opened(info)
        event = IRQ.PERIPHERAL_CONNECT if central else IRQ.CENTRAL_CONNECT
        self._irq.post(event, (e.handle, info.addr_type, Buf(info.addr)))

    def _ev_disconnected(self, e: Disconnected) -> None:
        self._disconnecting.discard(e.handle)
        info = self._conns.pop(e.handle, None)
        if info is None:
            return
        self._connection_closed(info)
        event = IRQ.PERIPHERAL_DISCONNECT if info.central else IRQ.CENTRAL_DISCONNECT
        self._irq.post(event, (e.handle, info.addr_type, Buf(info.addr)))

    def _connection_opened(self, info: ConnInfo) -> None:
        """Per-connection set-up of the other parts (MTU, security)."""
        try:
            bearer = self._host.att_bearer(info.handle)
        except LocalError:
            return
        if not bearer.mtu_exchange_requested:
            bearer.local_mtu = self._mtu

    def _connection_closed(self, info: ConnInfo) -> None:
        """Per-connection clean-up of the other parts."""

    def _ev_updated(self, e: ConnectionUpdated) -> None:
        if e.handle not in self._conns:
            return
        self._irq.post(
            IRQ.CONNECTION_UPDATE,
            (e.handle, e.interval_ns // 1_250_000, e.latency, e.supervision_timeout_ns // (10 * MS), 0),
        )

    def _ev_update_failed(self, e: ConnectionUpdateFailed) -> None:
        conn = self._host.gap.connections.get(e.handle)
        if conn is None or e.handle not in self._conns:
            return
        self._irq.post(
            IRQ.CONNECTION_UPDATE,
            (e.handle, conn.interval_ns // 1_250_000, conn.latency,
             conn.supervision_timeout_ns // (10 * MS), e.status),
        )
