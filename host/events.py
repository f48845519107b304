"""Events the host reports to its application (personality, device API, test).

Theory of operation
-------------------
The :class:`~host.host.Host` is sans-IO: whatever happens below it (an HCI event, an
L2CAP or ATT PDU, a timer) becomes zero or more :class:`HostEvent` objects that the
driver collects with ``Host.take_events()``. Each is a frozen dataclass carrying plain
values (addresses as :class:`~linklayer.hci.address.Address`, times in integer nanoseconds,
HCI status and reason octets as the Controller error codes of Vol 1 Part F), so events
compare equal by value and can be asserted in literal timelines.

Events name the connection by its HCI Connection_Handle (Vol 4 Part E 5.3.1).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from host.advertising_data import AdvertisingData
from linklayer.hci.address import Address
from linklayer.hci import le_events as le


@dataclass(frozen=True)
class HostEvent:
    """Base class of every host event."""


# -- controller and power ------------------------------------------------------------


@dataclass(frozen=True)
class PoweredOn(HostEvent):
    """The power-on sequence finished (Vol 4 Part E 7.3.2 Reset, then discovery).

    ``address`` is the identity the host uses by default (public, or the random static
    address when the host is configured for it or the controller has no public one).
    """

    public_address: Address
    random_address: Address | None
    address: Address
    hci_version: int
    le_features: int
    extended_advertising: bool
    le_acl_data_packet_length: int
    total_num_le_acl_data_packets: int


@dataclass(frozen=True)
class PowerOnFailed(HostEvent):
    """A mandatory command of the power-on sequence failed or timed out."""

    command: str
    status: int
    message: str


@dataclass(frozen=True)
class HardwareError(HostEvent):
    """The controller reported HCI_Hardware_Error (Vol 4 Part E 7.7.16); the host
    drops its connections and runs the power-on sequence again."""

    hardware_code: int


@dataclass(frozen=True)
class CommandTimedOut(HostEvent):
    """An HCI command got neither Command_Complete nor Command_Status in time."""

    opcode: int
    command: str
    timeout_ns: int


@dataclass(frozen=True)
class CommandFailed(HostEvent):
    """A command the host issued on its own behalf returned a non-zero status."""

    opcode: int
    command: str
    status: int


# -- advertising and scanning --------------------------------------------------------


@dataclass(frozen=True)
class AdvertisingStarted(HostEvent):
    """An advertising set is enabled (``handle`` 0 is the legacy set)."""

    handle: int
    extended_pdus: bool


@dataclass(frozen=True)
class AdvertisingStopped(HostEvent):
    """An advertising set stopped: by the host (status 0 and no connection), by a
    connection (``connection_handle``), or by its duration / event limit (status 0x3C
    Advertising Timeout or 0x43 Limit Reached), Vol 4 Part E 7.7.65.18."""

    handle: int
    status: int
    connection_handle: int | None = None


@dataclass(frozen=True)
class AdvertisingStartFailed(HostEvent):
    """The controller refused a command of the advertising set-up."""

    handle: int
    command: str
    status: int


@dataclass(frozen=True)
class AdvertisingReport(HostEvent):
    """One advertising or scan response PDU seen by the scanner (Vol 4 Part E
    7.7.65.2 / 7.7.65.13), with its data decoded as AD structures.

    ``event_type`` is the legacy Event_Type (0 ADV_IND ... 4 SCAN_RSP) for legacy
    PDUs, and the extended Event_Type bit field (without the data status bits) for
    extended ones. ``truncated`` is set when the controller could not deliver all of
    the data (data status 0b10).
    """

    address: Address | None
    rssi: int
    data: bytes
    connectable: bool
    scannable: bool
    directed: bool
    scan_response: bool
    legacy: bool
    event_type: int
    tx_power: int | None = None
    sid: int | None = None
    primary_phy: int = 1
    secondary_phy: int = 0
    direct_address: Address | None = None
    truncated: bool = False
    advertising_data: AdvertisingData = field(
        default_factory=AdvertisingData, compare=False, repr=False
    )


@dataclass(frozen=True)
class ScanStarted(HostEvent):
    """Scanning is enabled."""

    active: bool


@dataclass(frozen=True)
class ScanStopped(HostEvent):
    """Scanning stopped: ``timeout`` when its duration elapsed (LE Scan Timeout)."""

    timeout: bool


@dataclass(frozen=True)
class ScanRequestReceived(HostEvent):
    """A scanner sent SCAN_REQ / AUX_SCAN_REQ to one of our sets (7.7.65.19)."""

    handle: int
    scanner: Address


# -- connections -----------------------------------------------------------------------


@dataclass(frozen=True)
class Connected(HostEvent):
    """A connection exists (LE (Enhanced) Connection Complete, status 0).

    ``role`` is ``"central"`` or ``"peripheral"``; times in nanoseconds.
    """

    handle: int
    role: str
    peer_address: Address
    interval_ns: int
    latency: int
    supervision_timeout_ns: int
    local_address: Address | None = None


@dataclass(frozen=True)
class ConnectionFailed(HostEvent):
    """A connection attempt the host started did not succeed.

    ``reason`` says why in words: ``"timeout"``, ``"cancelled"``, ``"refused"`` (the
    controller refused LE Create Connection) or ``"failed"`` (establishment failed).
    """

    peer_address: Address
    status: int
    reason: str


@dataclass(frozen=True)
class Disconnected(HostEvent):
    """The connection is gone (HCI Disconnection Complete, or a hardware error)."""

    handle: int
    reason: int


@dataclass(frozen=True)
class ConnectionUpdated(HostEvent):
    """Connection parameters changed (LE Connection Update Complete, status 0)."""

    handle: int
    interval_ns: int
    latency: int
    supervision_timeout_ns: int


@dataclass(frozen=True)
class ConnectionUpdateFailed(HostEvent):
    """A parameter update this host asked for was refused or failed."""

    handle: int
    status: int
    reason: str


@dataclass(frozen=True)
class ConnectionParameterRequest(HostEvent):
    """The peer asked for new parameters and the host answered ``accepted``
    (LL Connection Parameters Request procedure or L2CAP Connection Parameter Update
    Request)."""

    handle: int
    interval_min_ns: int
    interval_max_ns: int
    latency: int
    supervision_timeout_ns: int
    accepted: bool


@dataclass(frozen=True)
class DataLengthChanged(HostEvent):
    """LE Data Length Change (Vol 4 Part E 7.7.65.7): the effective maximum payload
    octets and times of a connection changed (whichever side started the Data Length
    Update procedure); times in nanoseconds."""

    handle: int
    max_tx_octets: int
    max_tx_time_ns: int
    max_rx_octets: int
    max_rx_time_ns: int


@dataclass(frozen=True)
class PhyUpdated(HostEvent):
    """The PHYs of a connection changed or a PHY update this host asked for completed
    (LE PHY Update Complete with status 0, Vol 4 Part E 7.7.65.12), whichever side
    started the procedure. PHYs: 1 LE 1M, 2 LE 2M, 3 LE Coded."""

    handle: int
    tx_phy: int
    rx_phy: int


@dataclass(frozen=True)
class PhyUpdateFailed(HostEvent):
    """A PHY update this host asked for failed: HCI_LE_Set_PHY refused (Command Status,
    7.8.49) or LE PHY Update Complete with a non-zero status (7.7.65.12)."""

    handle: int
    status: int


@dataclass(frozen=True)
class RemoteFeatures(HostEvent):
    """LE Read Remote Features Complete (7.7.65.4)."""

    handle: int
    status: int
    le_features: int


@dataclass(frozen=True)
class RemoteVersion(HostEvent):
    """Read Remote Version Information Complete (7.7.12)."""

    handle: int
    status: int
    version: int
    company_identifier: int
    subversion: int


@dataclass(frozen=True)
class EncryptionChanged(HostEvent):
    """Encryption Change / Key Refresh Complete (7.7.8, 7.7.39)."""

    handle: int
    status: int
    enabled: bool
    key_size: int | None = None


# -- upper layers ------------------------------------------------------------------


@dataclass(frozen=True)
class MtuChanged(HostEvent):
    """The ATT_MTU of a connection changed after an MTU exchange."""

    handle: int
    mtu: int


@dataclass(frozen=True)
class MtuExchanged(HostEvent):
    """An ATT MTU exchange completed (Vol 3 Part F 3.4.2), whether or not ATT_MTU changed;
    ``mtu`` is the connection's ATT_MTU after it."""

    handle: int
    mtu: int


@dataclass(frozen=True)
class Notification(HostEvent):
    """A Handle Value Notification from the peer's GATT server."""

    handle: int
    attribute_handle: int
    value: bytes


@dataclass(frozen=True)
class Indication(HostEvent):
    """A Handle Value Indication from the peer's GATT server (confirmed by the host)."""

    handle: int
    attribute_handle: int
    value: bytes


@dataclass(frozen=True)
class SubscriptionChanged(HostEvent):
    """The peer wrote the CCCD of one of our characteristics (1 notify, 2 indicate)."""

    handle: int
    value_handle: int
    cccd_value: int


@dataclass(frozen=True)
class AttTimedOut(HostEvent):
    """An ATT transaction got no answer in 30 s: ATT is over on this connection
    (Vol 3 Part F 3.3.3); the host disconnects."""

    handle: int


# -- security ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PairingComplete(HostEvent):
    """SMP pairing (or a Security Request answered with a bond's key) ended;
    ``result`` is the :class:`host.smp_types.PairingResult`."""

    handle: int
    success: bool
    result: object = None


@dataclass(frozen=True)
class PasskeyDisplay(HostEvent):
    """Show this passkey to the user (Passkey Entry, display side)."""

    handle: int
    passkey: int


@dataclass(frozen=True)
class PasskeyRequest(HostEvent):
    """Ask the user for the peer's passkey; answer with ``Host.smp(handle).passkey_reply``."""

    handle: int


@dataclass(frozen=True)
class NumericComparisonRequest(HostEvent):
    """Show ``value`` and ask whether it matches; answer with
    ``Host.smp(handle).numeric_comparison_reply``."""

    handle: int
    value: int


@dataclass(frozen=True)
class KeypressNotification(HostEvent):
    """The peer's user pressed a key while entering the passkey."""

    handle: int
    notification: int


@dataclass(frozen=True)
class SecurityRequested(HostEvent):
    """Central: the peripheral sent an SMP Security Request (AuthReq octet)."""

    handle: int
    auth_req: int


# -- HCI reports -> events ---------------------------------------------------------------


def _address(address_type: int, value: bytes) -> Address | None:
    if address_type == 0xFF:
        return None  # anonymous advertising
    return Address(bytes(value), bool(address_type & 1))


#: Legacy Event_Type -> (connectable, scannable, directed, scan response).
_LEGACY_TYPES = {
    0: (True, True, False, False),
    1: (True, False, True, False),
    2: (False, True, False, False),
    3: (False, False, False, False),
    4: (False, True, False, True),
}


def report_from_legacy(r: le.AdvertisingReport) -> AdvertisingReport:
    """The event for one report of LE Advertising Report (Vol 4 Part E 7.7.65.2)."""
    conn, scan, directed, rsp = _LEGACY_TYPES.get(r.event_type, (False, False, False, False))
    return AdvertisingReport(
        address=_address(r.address_type, r.address), rssi=r.rssi, data=bytes(r.data),
        connectable=conn, scannable=scan, directed=directed, scan_response=rsp, legacy=True,
        event_type=r.event_type, advertising_data=AdvertisingData.from_bytes(r.data),
    )


def report_from_directed(r: le.DirectedAdvertisingReport) -> AdvertisingReport:
    """The event for one report of LE Directed Advertising Report (7.7.65.11)."""
    return AdvertisingReport(
        address=_address(r.address_type, r.address), rssi=r.rssi, data=b"", connectable=True,
        scannable=False, directed=True, scan_response=False, legacy=True, event_type=r.event_type,
        direct_address=_address(r.direct_address_type, r.direct_address),
    )


def report_from_extended(r: le.ExtendedAdvertisingReport, data: bytes, truncated: bool) -> AdvertisingReport:
    """The event for one (reassembled) LE Extended Advertising Report (7.7.65.13)."""
    t = r.event_type & 0x1F
    return AdvertisingReport(
        address=_address(r.address_type, r.address), rssi=r.rssi, data=data,
        connectable=bool(t & 0x01), scannable=bool(t & 0x02), directed=bool(t & 0x04),
        scan_response=bool(t & 0x08), legacy=bool(t & 0x10), event_type=t,
        tx_power=None if r.tx_power == 127 else r.tx_power,
        sid=None if r.advertising_sid == 0xFF else r.advertising_sid,
        primary_phy=r.primary_phy, secondary_phy=r.secondary_phy,
        direct_address=_address(r.direct_address_type, r.direct_address) if t & 0x04 else None,
        truncated=truncated, advertising_data=AdvertisingData.from_bytes(data),
    )


__all__ = [
    "HostEvent",
    "PoweredOn",
    "PowerOnFailed",
    "HardwareError",
    "CommandTimedOut",
    "CommandFailed",
    "AdvertisingStarted",
    "AdvertisingStopped",
    "AdvertisingStartFailed",
    "AdvertisingReport",
    "ScanStarted",
    "ScanStopped",
    "ScanRequestReceived",
    "Connected",
    "ConnectionFailed",
    "Disconnected",
    "ConnectionUpdated",
    "ConnectionUpdateFailed",
    "ConnectionParameterRequest",
    "DataLengthChanged",
    "PhyUpdated",
    "PhyUpdateFailed",
    "RemoteFeatures",
    "RemoteVersion",
    "EncryptionChanged",
    "MtuChanged",
    "MtuExchanged",
    "Notification",
    "Indication",
    "SubscriptionChanged",
    "AttTimedOut",
    "PairingComplete",
    "PasskeyDisplay",
    "PasskeyRequest",
    "NumericComparisonRequest",
    "KeypressNotification",
    "SecurityRequested",
    "report_from_legacy",
    "report_from_directed",
    "report_from_extended",
]
