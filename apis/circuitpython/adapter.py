"""``_bleio.Adapter``, ``ScanEntry`` and ``ScanResults``: GAP as CircuitPython exposes it.

Theory of operation
-------------------
The node's single :class:`Adapter` (``_bleio.adapter``) turns the board's GAP calls into
host calls and waits, on simulated time, for the host events that answer them:

* ``start_advertising`` checks its arguments in the order and with the messages of
  ``shared-bindings/_bleio/Adapter.c`` and the Nordic port, then asks the host to
  advertise (data over 31 octets go out as extended advertising) and waits until the
  host confirms; a ``timeout`` stops advertising later; a connection stops it
  (``advertising`` is then False, so the examples advertise again after a disconnect).
* ``start_scan`` returns a :class:`ScanResults` fed by every advertising report: reports
  below ``minimum_rssi``, failing the prefixes (any-prefix match), extended reports when
  ``extended`` is False, or not fitting the ``buffer_size`` ring (19 octets of header +
  data per entry) are dropped, as ``shared-module/_bleio/ScanResults.c`` does. Its
  ``__next__`` blocks until an entry arrives or the scan ends (timeout, ``stop_scan``).
  Breaking out of the loop does not stop the scan: starting another one raises
  ``BluetoothError("Scan already in progress. Stop with stop_scan.")``.
* ``connect`` uses the Nordic central parameters (15-300 ms interval, latency 0, 4 s
  supervision timeout, 100 ms scan interval and window), waits for the connection or
  raises ``BluetoothError("Failed to connect: timeout")``, then, with a bond for the
  peer, starts encryption with its key, and starts an MTU exchange.
  ``connections`` returns the same :class:`~.gatt.Connection` object for a link every
  time (adafruit_ble uses them as dict keys).
* ``connected``, ``advertising`` poll: reading them advances simulated time.

:func:`data_matches` is ``bleio_scanentry_data_matches``: each prefix is a length octet
and that many octets compared at the *type* octet of each AD structure, only when the
structure is at least that long; an empty prefix list matches everything; a zero
length octet ends the data.
"""

from __future__ import annotations

import contextlib
from collections import deque
from typing import TYPE_CHECKING, Any

from host.events import AdvertisingReport
from host.gap_params import AdvertisingParameters, ConnectionParameters, ScanParameters
from host.gap_phy import tx_time_for
from host.hci import LocalError
from host.privacy import generate_nrpa
from host.smp_types import SmpLocalError
from phy.units import MS

from .connection import connection_for
from .errors import BluetoothError, firmware_error
from .node import START_WAIT_NS, SUPERVISION_TIMEOUT_NS, BleioNode
from .values import Address, buffer_bytes, check_type

if TYPE_CHECKING:
    from .connection import Connection

__all__ = ["Adapter", "ScanEntry", "ScanResults", "data_matches"]

ADV_INTERVAL_MIN = 0.02
ADV_INTERVAL_MAX = 10.24
SCAN_INTERVAL_MIN = 0.0025
SCAN_INTERVAL_MAX = 40.959375
#: Advertising timeout limit of the Nordic port, seconds (BLE_GAP_ADV_TIMEOUT_LIMITED_MAX).
ADV_TIMEOUT_MAX_S = 180
#: S140 extended advertising data limits (connectable, any).
EXTENDED_DATA_MAX = 255
EXTENDED_CONNECTABLE_DATA_MAX = 238
#: Octets of header each scan entry takes in the ScanResults ring buffer.
SCAN_ENTRY_HEADER = 19
_SLOT_NS = 625_000
_UNIT_10MS_NS = 10 * MS


def data_matches(data: bytes, prefixes: bytes, any_prefix: bool) -> bool:
    """``bleio_scanentry_data_matches`` (see the module docstring)."""
    if not prefixes:
        return True
    if not data:
        return False
    i = 0
    while i < len(prefixes):
        prefix_length = prefixes[i]
        i += 1
        prefix = prefixes[i : i + prefix_length]
        matched = False
        j = 0
        while j < len(data):
            structure_length = data[j]
            j += 1
            if structure_length == 0:
                break
            if structure_length >= prefix_length and data[j : j + prefix_length] == prefix:
                if any_prefix:
                    return True
                matched = True
                break
            j += structure_length
        if not matched and not any_prefix:
            return False
        i += prefix_length
    return not any_prefix


class ScanEntry:
    """One advertisement or scan response received while scanning."""

    __slots__ = ("_address", "_connectable", "_data", "_rssi", "_scan_response", "_time_ns")

    _address: Address
    _data: bytes
    _rssi: int
    _connectable: bool
    _scan_response: bool
    _time_ns: int

    def __init__(self) -> None:
        raise TypeError("cannot create 'ScanEntry' instances")

    @classmethod
    def _make(
        cls, address: Address, data: bytes, rssi: int, connectable: bool, scan_response: bool, time_ns: int
    ) -> ScanEntry:
        entry = cls.__new__(cls)
        entry._address = address
        entry._data = data
        entry._rssi = rssi
        entry._connectable = connectable
        entry._scan_response = scan_response
        entry._time_ns = time_ns
        return entry

    @property
    def address(self) -> Address:
        return self._address

    @property
    def advertisement_bytes(self) -> bytes:
        return self._data

    @property
    def rssi(self) -> int:
        return self._rssi

    @property
    def connectable(self) -> bool:
        return self._connectable

    @property
    def scan_response(self) -> bool:
        return self._scan_response

    def matches(self, prefixes: Any, *, match_all: bool = True, **kwargs: Any) -> bool:
        """True if the data holds every prefix (``match_all``, the default) or any of them.
        ``all=`` (the name in older documentation) is accepted too."""
        if kwargs:
            unknown = set(kwargs) - {"all"}
            if unknown:
                raise TypeError(f"unexpected keyword argument '{min(unknown)}'")
            match_all = bool(kwargs["all"])
        return data_matches(self._data, buffer_bytes(prefixes), not match_all)

    def __repr__(self) -> str:
        return "<ScanEntry>"


class ScanResults:
    """The iterator ``start_scan`` returns; ``__next__`` blocks on simulated time."""

    def __init__(self) -> None:
        raise TypeError("cannot create 'ScanResults' instances")

    @classmethod
    def _make(
        cls, node: BleioNode, prefixes: bytes, buffer_size: int, minimum_rssi: int, extended: bool
    ) -> ScanResults:
        results = cls.__new__(cls)
        results._node = node
        results._prefixes = prefixes
        results._capacity = max(0, buffer_size)
        results._minimum_rssi = minimum_rssi
        results._extended = extended
        results._entries = deque()
        results._used = 0
        results.done = False
        return results

    _node: BleioNode
    _prefixes: bytes
    _capacity: int
    _minimum_rssi: int
    _extended: bool
    _entries: deque[ScanEntry]
    _used: int
    done: bool

    def offer(self, report: AdvertisingReport, now: int) -> None:
        """A report from the host: keep it if it passes the filters and fits."""
        if self.done or report.address is None:
            return
        if not report.legacy and not self._extended:
            return
        if report.rssi < self._minimum_rssi:
            return
        data = bytes(report.data)
        if not data_matches(data, self._prefixes, True):
            return
        size = SCAN_ENTRY_HEADER + len(data)
        if self._used + size > self._capacity:
            return
        self._used += size
        address = Address._from_link(report.address)
        self._entries.append(ScanEntry._make(address, data, report.rssi, report.connectable,
                                             report.scan_response, now))

    def __iter__(self) -> ScanResults:
        return self

    def __next__(self) -> ScanEntry:
        self._node.wait_until(lambda: bool(self._entries) or self.done, None)
        if not self._entries:
            raise StopIteration
        entry = self._entries.popleft()
        self._used -= SCAN_ENTRY_HEADER + len(entry.advertisement_bytes)
        return entry

    def __repr__(self) -> str:
        return "<ScanResults>"


class Adapter:
    """The BLE adapter of the node (``_bleio.adapter``): advertising, scanning, connecting."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("Cannot create a new Adapter; use _bleio.adapter;")

    @classmethod
    def _make(cls, node: BleioNode) -> Adapter:
        adapter = cls.__new__(cls)
        adapter._node = node
        return adapter

    _node: BleioNode

    # -- state ---------------------------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        return self._node.enabled

    @enabled.setter
    def enabled(self, value: bool) -> None:
        node = self._node
        value = bool(value)
        if value == node.enabled:
            return
        if not value:
            if node.scan is not None and not node.scan.done:
                self.stop_scan()
            node.stop_advertising()
            for link in list(node.links.values()):
                try:
                    node.host.disconnect(link.handle, node.now)
                except LocalError:
                    pass
            node.service()
        node.enabled = value
        if value and node.host.powered:
            # Enabling the SoftDevice again resets the name (bleio_adapter_reset_name).
            node.set_name(node.default_name())

    @property
    def address(self) -> Address:
        """The node's identity address (read-only)."""
        self._node.ensure_ready()
        return Address._from_link(self._node.host.address)

    @property
    def name(self) -> str:
        self._node.ensure_ready()
        return self._node.name

    @name.setter
    def name(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"can't convert '{type(value).__name__}' object to str implicitly")
        self._node.ensure_ready()
        self._node.set_name(value)

    @property
    def advertising(self) -> bool:
        """True while advertising (reading it lets simulated time advance)."""
        self._node.poll()
        return self._node.advertising

    @property
    def connected(self) -> bool:
        """True while any connection exists (reading it lets simulated time advance)."""
        self._node.poll()
        return bool(self._node.links)

    @property
    def connections(self) -> tuple[Connection, ...]:
        node = self._node
        return tuple(connection_for(node, link) for _, link in sorted(node.links.items()))

    # -- advertising -----------------------------------------------------------------------------

    def start_advertising(
        self,
        data: Any,
        *,
        scan_response: Any = None,
        connectable: bool = True,
        anonymous: bool = False,
        timeout: int = 0,
        interval: float = 0.1,
        tx_power: int = 0,
        directed_to: Address | None = None,
    ) -> None:
        """Advertise ``data`` until ``stop_advertising``, a connection or ``timeout`` s."""
        node = self._node
        adv = buffer_bytes(data)
        rsp = b"" if scan_response is None else buffer_bytes(scan_response)
        interval = float(interval)
        if not ADV_INTERVAL_MIN <= interval <= ADV_INTERVAL_MAX:
            raise ValueError("interval must be in range 0.02-10.24")
        connectable = bool(connectable)
        timeout = int(timeout)
        if len(adv) > 31 and connectable and rsp:
            raise BluetoothError("Cannot have scan responses for extended, connectable advertisements.")
        if directed_to is not None:
            if not connectable:
                raise BluetoothError("Only connectable advertisements can be directed")
            check_type(directed_to, Address, "directed_to")
        node.ensure_ready()
        if node.user_advertising:
            raise BluetoothError("Already advertising.")
        for length in (len(adv), len(rsp)):
            if length > EXTENDED_DATA_MAX or (connectable and length > EXTENDED_CONNECTABLE_DATA_MAX):
                raise ValueError("Data too large for advertisement packet")
        if len(adv) > 31 and rsp:
            raise BluetoothError("Extended advertisements with scan response not supported.")
        if adv and directed_to is not None:
            raise BluetoothError("Data not supported with directed advertising")
        if anonymous:
            timeout = ADV_TIMEOUT_MAX_S
        elif timeout > ADV_TIMEOUT_MAX_S:
            raise BluetoothError(
                f"Timeout is too long: Maximum timeout length is {ADV_TIMEOUT_MAX_S} seconds"
            )
        units = int(interval * 1600 + 0.5)
        params = AdvertisingParameters(
            interval_min_ns=units * _SLOT_NS,
            connectable=connectable,
            scannable=bool(rsp) or (connectable and len(adv) <= 31 and directed_to is None),
            directed_to=None if directed_to is None else directed_to._to_link(),
            high_duty=directed_to is not None and interval <= 3.5 and timeout <= 1.3,
            # 0 (the default) leaves the node's configured transmit power in charge.
            tx_power=int(tx_power) or None,
            own_address_type=1 if anonymous else None,
        )
        node.commit_services()
        node.adv_outcome = None
        try:
            self._use_private_address(anonymous)
            node.host.start_advertising(node.now, adv, rsp, params)
        except LocalError:
            raise ValueError("Invalid BLE parameter") from None
        node.service()
        node.wait_until(lambda: node.adv_outcome is not None, START_WAIT_NS)
        outcome = node.adv_outcome
        if outcome is None:
            raise TimeoutError()  # check_nrf_error(NRF_ERROR_TIMEOUT): the controller never answered
        if not outcome[0]:
            raise firmware_error(outcome[1])
        node.user_advertising = True
        if timeout:
            node.advertising_timeout(timeout * 1_000_000_000)

    def _use_private_address(self, anonymous: bool) -> None:
        """The nRF port's SoftDevice privacy: anonymous advertising uses a fresh
        non-resolvable private address each time it starts; otherwise the identity."""
        node = self._node
        gap = node.host.gap
        if anonymous:
            public = gap.info.public_address
            avoid = None if public.value == bytes(6) else public
            gap.set_private_address(generate_nrpa(node.host.rng, avoid), node.now)
        elif gap.private_address is not None:
            gap.set_private_address(None, node.now)

    def stop_advertising(self) -> None:
        """Stop advertising (nothing happens if not advertising)."""
        self._node.stop_advertising()
        self._node.pulse()

    # -- scanning -------------------------------------------------------------------------------

    def start_scan(
        self,
        *,
        prefixes: Any = b"",
        buffer_size: int = 512,
        extended: bool = False,
        timeout: float | None = None,
        interval: float = 0.1,
        window: float = 0.1,
        minimum_rssi: int = -80,
        active: bool = True,
    ) -> ScanResults:
        """Scan and return the entries as a blocking iterator (see the module docstring)."""
        node = self._node
        timeout_s = 0.0 if timeout is None else float(timeout)
        interval = float(interval)
        window = float(window)
        if not SCAN_INTERVAL_MIN <= interval <= SCAN_INTERVAL_MAX:
            raise ValueError("interval must be in range 0.0025-40.959375")
        if timeout_s != 0.0 and timeout_s < interval:
            raise ValueError("non-zero timeout must be >= interval")
        if window > interval:
            raise ValueError("window must be <= interval")
        prefix_bytes = buffer_bytes(prefixes) if prefixes is not None else b""
        node.ensure_ready()
        if node.scan is not None and not node.scan.done:
            raise BluetoothError("Scan already in progress. Stop with stop_scan.")
        if node.user_advertising:
            raise node.busy_error()
        timeout_units = int(timeout_s * 100 + 0.5)
        if timeout_units > 0xFFFF:
            raise ValueError("timeout must be < 655.35 secs")
        if timeout_units == 0 and timeout_s > 0.0:
            raise ValueError("non-zero timeout must be > 0.01")
        results = ScanResults._make(node, prefix_bytes, int(buffer_size), int(minimum_rssi), bool(extended))
        params = ScanParameters(
            active=bool(active),
            interval_ns=int(interval * 1600 + 0.5) * _SLOT_NS,
            window_ns=int(window * 1600 + 0.5) * _SLOT_NS,
            filter_duplicates=False,
            duration_ns=timeout_units * _UNIT_10MS_NS,
        )
        node.scan = results
        try:
            node.host.start_scan(node.now, params)
        except LocalError:
            node.scan = None
            raise ValueError("Invalid BLE parameter") from None
        node.service()
        return results

    def stop_scan(self) -> None:
        """Stop the current scan; its iterator returns what it holds, then ends."""
        node = self._node
        scan = node.scan
        if scan is None:
            return
        node.scan = None
        scan.done = True
        try:
            node.host.stop_scan(node.now)
        except LocalError:
            pass
        node.service()
        node.pulse()

    # -- connecting ------------------------------------------------------------------------------

    def connect(self, address: Address, *, timeout: float) -> Connection:
        """Connect to ``address`` as central, trying for ``timeout`` seconds (0: forever)."""
        check_type(address, Address, "address")
        timeout_s = float(timeout)
        node = self._node
        node.ensure_ready()
        if node.connect_peer is not None:
            raise node.busy_error()
        peer = address._to_link()
        units = int(timeout_s * 100 + 0.5)
        params = ConnectionParameters(15 * MS, 300 * MS, 0, SUPERVISION_TIMEOUT_NS)
        scan = ScanParameters(interval_ns=100 * MS, window_ns=100 * MS)
        node.commit_services()
        node.connect_peer = peer
        node.connect_outcome = None
        if node.scan is not None and not node.scan.done:
            # The SoftDevice stops a scan in progress when it starts connecting.
            node.scan.done = True
            try:
                node.host.stop_scan(node.now)
            except LocalError:
                pass
        try:
            node.host.connect(peer, node.now, params, scan, units * _UNIT_10MS_NS if units else None)
        except LocalError:
            node.connect_peer = None
            raise node.busy_error() from None
        node.service()
        try:
            node.wait_until(lambda: node.connect_outcome is not None, None)
        finally:
            outcome = node.connect_outcome
            node.connect_peer = None
            node.connect_outcome = None
        if outcome is None or outcome[0] is None:
            raise BluetoothError("Failed to connect: timeout")
        link = node.links.get(outcome[0])
        if link is None:
            raise BluetoothError("Failed to connect: internal error")
        # With a bond for this peer, encrypt with its key first, as the Nordic port does
        # (sd_ble_gap_encrypt); ``paired`` turns True when the link is encrypted.
        with contextlib.suppress(LocalError, SmpLocalError):
            link.encrypting = node.host.encrypt(link.handle, node.now)
        with contextlib.suppress(Exception):  # an MTU exchange the peer already did is fine
            node.host.gatt_client(link.handle).exchange_mtu(node.now)
        # As the Nordic port, ask for 251-octet PDUs and LE 2M (1M allowed), without
        # waiting for either (Vol 4 Part E 7.8.33, 7.8.49); a controller lacking the
        # commands is left as it is. A peripheral asking for its interval at the same
        # time collides with the PHY update; its host tries again (host.gap_updates).
        with contextlib.suppress(LocalError):
            node.host.gap.set_data_length(link.handle, node.now, 251, tx_time_for(251))
        with contextlib.suppress(LocalError):
            node.host.gap.set_phy(link.handle, node.now, tx_phys=0x03, rx_phys=0x03)
        node.service()
        return connection_for(node, link)

    def erase_bonding(self) -> None:
        """Erase all bonding information."""
        bonds = self._node.host.bonds
        if bonds is not None:
            bonds.clear()

    def __repr__(self) -> str:
        return "<Adapter>"
