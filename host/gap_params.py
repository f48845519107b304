"""GAP parameter objects, the commands they become, controller facts, addresses.

(Split out of :mod:`host.gap`.)

Theory of operation
-------------------
Applications give times in integer nanoseconds; the HCI wants the specification's
units (0.625 ms advertising/scan slots, 1.25 ms connection interval units, 10 ms
supervision timeout units, Vol 4 Part E 7.8). The frozen dataclasses here hold the
application's values, check them against the ranges of the specification (raising
:class:`~host.hci.LocalError`) and convert them. :class:`ControllerInfo` is what the
power-on sequence learned about the controller; :func:`event_masks` gives the masks the
host sets; :func:`random_static_address` draws a static address (Vol 6 Part B 1.3.2.1).
"""

from __future__ import annotations

import dataclasses

from host.hci import LocalError
from linklayer.hci.address import Address
from linklayer.hci import le_commands as lc
from linklayer.hci import le_ext_commands as lx
from linklayer.hci.codec import HciCommand
from linklayer.hci.supported import is_supported
from phy.types import Rng
from phy.units import MS, SLOT_625US, UNIT_10MS, UNIT_1250US

#: Event codes whose bit the host sets in Set_Event_Mask (bit = code - 1), 7.3.1:
#: Disconnection Complete, Encryption Change, Read Remote Version Information
#: Complete, Hardware Error, Data Buffer Overflow, Encryption Key Refresh Complete;
#: and, as other hosts do, the bits once assigned to Command Complete, Command Status
#: and Number Of Completed Packets, which a controller must never mask.
HOST_EVENTS = (0x05, 0x08, 0x0C, 0x0E, 0x0F, 0x10, 0x13, 0x1A, 0x30)
#: The LE Meta event bit of Set_Event_Mask.
LE_META_EVENT_BIT = 61
#: Event codes on page 2 (bit = code - 64): Authenticated Payload Timeout Expired,
#: Encryption Change v2.
HOST_EVENTS_PAGE_2 = (0x57, 0x59)
#: LE subevent codes the host handles (LE_Set_Event_Mask bit = code - 1), 7.8.1.
HOST_LE_SUBEVENTS = (
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x0A, 0x0B, 0x0C, 0x0D, 0x11, 0x12, 0x13, 0x14,
)


def event_masks() -> tuple[int, int, int]:
    """(Event_Mask, Event_Mask_Page_2, LE_Event_Mask) the host sets at power-on."""
    page1 = sum(1 << (code - 1) for code in HOST_EVENTS) | (1 << LE_META_EVENT_BIT)
    page2 = sum(1 << (code - 64) for code in HOST_EVENTS_PAGE_2)
    le_mask = sum(1 << (code - 1) for code in HOST_LE_SUBEVENTS)
    return page1, page2, le_mask


def random_static_address(rng: Rng) -> Address:
    """A random static address: 46 random bits, the two top bits 0b11, and neither all
    zeros nor all ones in the random part (Vol 6 Part B 1.3.2.1)."""
    while True:
        bits = rng.getrandbits(46)
        if bits not in (0, (1 << 46) - 1):
            value = bits | (0b11 << 46)
            return Address(value.to_bytes(6, "little"), True)


@dataclasses.dataclass
class ControllerInfo:
    """What the power-on sequence learned about the controller."""

    hci_version: int = 0
    hci_subversion: int = 0
    company_identifier: int = 0
    supported_commands: bytes | None = None
    lmp_features: int = 0
    le_features: int = 0
    public_address: Address = dataclasses.field(default_factory=lambda: Address(bytes(6)))
    le_acl_data_packet_length: int = 0
    total_num_le_acl_data_packets: int = 0
    max_advertising_data_length: int = 31
    num_advertising_sets: int = 1
    #: Extended advertising/scanning/connecting commands in use (decided at power-on).
    extended: bool = False

    def supports(self, cls: type[HciCommand]) -> bool:
        """Whether the Supported_Commands bitmap lists ``cls``.

        Before the bitmap is known (or when reading it failed) the Bluetooth 4.0 LE
        commands are assumed and the later ones (OCF 0x0025 and above) are not.
        """
        if self.supported_commands is None:
            ogf, ocf = cls.OPCODE >> 10, cls.OPCODE & 0x3FF
            return not (ogf == 0x08 and ocf >= 0x0025) and ocf != 0x0063
        return is_supported(self.supported_commands, cls.OPCODE)


def _units(value_ns: int, unit_ns: int, what: str, low: int, high: int) -> int:
    units, rest = divmod(value_ns, unit_ns)
    if rest:
        raise LocalError(f"{what} of {value_ns} ns is not a multiple of {unit_ns} ns")
    if not low <= units <= high:
        raise LocalError(
            f"{what} of {value_ns / MS:g} ms is outside {low * unit_ns / MS:g}..{high * unit_ns / MS:g} ms"
        )
    return units


@dataclasses.dataclass(frozen=True)
class AdvertisingParameters:
    """Advertising parameters (Vol 4 Part E 7.8.5, 7.8.53); times in nanoseconds.

    ``legacy``: ``None`` uses legacy PDUs when the data fits in 31 octets, ``True``
    forces them, ``False`` forces extended PDUs. ``directed_to`` makes directed
    advertising (``high_duty`` for the 3.75 ms variant). ``duration_ns`` and
    ``max_events`` limit extended advertising (0: no limit).
    """

    interval_min_ns: int = 100 * MS
    interval_max_ns: int | None = None
    connectable: bool = True
    scannable: bool = True
    directed_to: Address | None = None
    high_duty: bool = False
    channel_map: int = 0b111
    filter_policy: int = 0
    own_address_type: int | None = None
    legacy: bool | None = None
    primary_phy: int = 1
    secondary_phy: int = 1
    tx_power: int | None = None
    sid: int = 0
    duration_ns: int = 0
    max_events: int = 0
    scan_request_notification: bool = False
    anonymous: bool = False
    include_tx_power: bool = False

    def interval_units(self) -> tuple[int, int]:
        high = self.interval_max_ns if self.interval_max_ns is not None else self.interval_min_ns
        if high < self.interval_min_ns:
            raise LocalError("interval_max_ns is below interval_min_ns")
        lo = _units(self.interval_min_ns, SLOT_625US, "advertising interval", 0x20, 0xFFFFFF)
        hi = _units(high, SLOT_625US, "advertising interval", 0x20, 0xFFFFFF)
        if not 1 <= self.channel_map <= 7:
            raise LocalError(f"channel_map 0b{self.channel_map:b} must select channels 37-39")
        return lo, hi

    def duration_units(self) -> int:
        return 0 if not self.duration_ns else _units(self.duration_ns, UNIT_10MS, "advertising duration", 1, 0xFFFF)

    def legacy_advertising_type(self) -> int:
        """Advertising_Type of LE_Set_Advertising_Parameters (7.8.5)."""
        if self.directed_to is not None:
            return 1 if self.high_duty else 4
        if self.connectable:
            return 0
        return 2 if self.scannable else 3

    def event_properties(self, extended_pdus: bool, has_scan_response: bool) -> int:
        """Advertising_Event_Properties of LE_Set_Extended_Advertising_Parameters (7.8.53)."""
        directed = self.directed_to is not None
        if not extended_pdus:
            legacy = {0: 0x13, 1: 0x1D, 2: 0x12, 3: 0x10, 4: 0x15}[self.legacy_advertising_type()]
            return legacy
        props = 0
        if self.connectable:
            props |= 0x01
        elif self.scannable and has_scan_response:
            props |= 0x02
        if directed:
            props |= 0x04 | (0x08 if self.high_duty else 0)
        if self.anonymous:
            props |= 0x20
        if self.include_tx_power:
            props |= 0x40
        return props


@dataclasses.dataclass(frozen=True)
class ScanParameters:
    """Scanning parameters (Vol 4 Part E 7.8.10, 7.8.64); times in nanoseconds.

    ``duration_ns`` 0 scans until stopped; ``coded`` also scans on LE Coded.
    """

    active: bool = True
    interval_ns: int = 100 * MS
    window_ns: int = 100 * MS
    filter_duplicates: bool = False
    duration_ns: int = 0
    filter_policy: int = 0
    own_address_type: int | None = None
    coded: bool = False

    def units(self) -> tuple[int, int]:
        interval = _units(self.interval_ns, SLOT_625US, "scan interval", 0x0004, 0x4000)
        window = _units(self.window_ns, SLOT_625US, "scan window", 0x0004, 0x4000)
        if window > interval:
            raise LocalError("the scan window is longer than the scan interval")
        return interval, window

    def duration_units(self) -> int:
        return 0 if not self.duration_ns else _units(self.duration_ns, UNIT_10MS, "scan duration", 1, 0xFFFF)


@dataclasses.dataclass(frozen=True)
class ConnectionParameters:
    """Connection parameters (Vol 4 Part E 7.8.12, 7.8.18); times in nanoseconds.

    Ranges (Vol 6 Part B 4.5.1, 4.5.2): interval 7.5 ms..4 s in 1.25 ms steps, latency
    0..499, supervision timeout 100 ms..32 s in 10 ms steps and longer than
    (1 + latency) × interval_max × 2.
    """

    interval_min_ns: int = 30 * MS
    interval_max_ns: int = 50 * MS
    latency: int = 0
    supervision_timeout_ns: int = 4000 * MS
    min_ce_length_ns: int = 0
    max_ce_length_ns: int = 0

    def validate(self) -> None:
        self.units()

    def units(self) -> tuple[int, int, int, int, int, int]:
        """(interval min, max, latency, timeout, min CE, max CE) in HCI units."""
        imin = _units(self.interval_min_ns, UNIT_1250US, "connection interval", 6, 3200)
        imax = _units(self.interval_max_ns, UNIT_1250US, "connection interval", 6, 3200)
        if imax < imin:
            raise LocalError("interval_max_ns is below interval_min_ns")
        if not 0 <= self.latency <= 499:
            raise LocalError(f"peripheral latency {self.latency} is outside 0..499")
        timeout = _units(self.supervision_timeout_ns, UNIT_10MS, "supervision timeout", 10, 3200)
        if self.supervision_timeout_ns <= (1 + self.latency) * self.interval_max_ns * 2:
            raise LocalError("the supervision timeout must exceed (1 + latency) x interval_max x 2")
        cmin = _units(self.min_ce_length_ns, SLOT_625US, "CE length", 0, 0xFFFF)
        cmax = _units(self.max_ce_length_ns, SLOT_625US, "CE length", 0, 0xFFFF)
        return imin, imax, self.latency, timeout, cmin, cmax

    @classmethod
    def from_units(cls, interval_min: int, interval_max: int, latency: int, timeout: int) -> ConnectionParameters:
        """From the HCI / L2CAP units (1.25 ms, 1.25 ms, events, 10 ms); not validated."""
        return cls(
            interval_min_ns=interval_min * UNIT_1250US,
            interval_max_ns=interval_max * UNIT_1250US,
            latency=latency,
            supervision_timeout_ns=timeout * UNIT_10MS,
        )


# -- advertising parameters -> HCI commands ----------------------------------------------


def legacy_advertising_commands(
    p: AdvertisingParameters, adv: bytes, rsp: bytes, own: int, disable_first: bool
) -> list[HciCommand]:
    """The legacy commands that (re)start advertising (Vol 4 Part E 7.8.5-7.8.9)."""
    lo, hi = p.interval_units()
    peer = p.directed_to
    cmds: list[HciCommand] = []
    if disable_first:
        cmds.append(lc.HCI_LE_Set_Advertising_Enable_Command(advertising_enable=0))
    return cmds + [
        lc.HCI_LE_Set_Advertising_Parameters_Command(
            advertising_interval_min=lo, advertising_interval_max=hi,
            advertising_type=p.legacy_advertising_type(), own_address_type=own,
            peer_address_type=peer.address_type if peer else 0,
            peer_address=peer.value if peer else bytes(6),
            advertising_channel_map=p.channel_map, advertising_filter_policy=p.filter_policy,
        ),
        lc.HCI_LE_Set_Advertising_Data_Command(advertising_data=adv),
        lc.HCI_LE_Set_Scan_Response_Data_Command(scan_response_data=rsp),
        lc.HCI_LE_Set_Advertising_Enable_Command(advertising_enable=1),
    ]


def extended_advertising_commands(
    p: AdvertisingParameters, adv: bytes, rsp: bytes, handle: int, extended_pdus: bool, own: int,
    random_address: Address, disable_first: bool,
) -> list[HciCommand]:
    """The extended commands that (re)start advertising set ``handle`` (7.8.52-7.8.56).

    Data longer than one command's 251 octets goes in fragments (first, intermediate,
    last); raises :class:`LocalError` for data the PDU kind cannot carry.
    """
    props = p.event_properties(extended_pdus, bool(rsp))
    if extended_pdus and props & 0x02 and adv:
        raise LocalError("scannable extended advertising carries its data in the scan response only")
    if extended_pdus and rsp and not props & 0x02:
        raise LocalError("connectable extended advertising cannot have a scan response")
    lo, hi = p.interval_units()
    peer = p.directed_to
    cmds: list[HciCommand] = []
    if disable_first:
        cmds.append(lx.HCI_LE_Set_Extended_Advertising_Enable_Command(
            enable=0, sets=(lx.AdvertisingSetEnable(advertising_handle=handle),)))
    cmds.append(lx.HCI_LE_Set_Extended_Advertising_Parameters_Command(
        advertising_handle=handle, advertising_event_properties=props,
        primary_advertising_interval_min=lo, primary_advertising_interval_max=hi,
        primary_advertising_channel_map=p.channel_map, own_address_type=own,
        peer_address_type=peer.address_type if peer else 0,
        peer_address=peer.value if peer else bytes(6),
        advertising_filter_policy=p.filter_policy,
        advertising_tx_power=127 if p.tx_power is None else p.tx_power & 0xFF,
        primary_advertising_phy=p.primary_phy if extended_pdus else 1,
        secondary_advertising_max_skip=0,
        secondary_advertising_phy=p.secondary_phy if extended_pdus else 1,
        advertising_sid=p.sid, scan_request_notification_enable=int(p.scan_request_notification),
    ))
    if own == 1:
        cmds.append(lx.HCI_LE_Set_Advertising_Set_Random_Address_Command(
            advertising_handle=handle, random_address=random_address.value))
    if not (extended_pdus and props & 0x02):
        cmds += [lx.HCI_LE_Set_Extended_Advertising_Data_Command(
            advertising_handle=handle, operation=op, fragment_preference=1, advertising_data=chunk)
            for op, chunk in _fragments(adv)]
    if props & 0x02:
        cmds += [lx.HCI_LE_Set_Extended_Scan_Response_Data_Command(
            advertising_handle=handle, operation=op, fragment_preference=1, scan_response_data=chunk)
            for op, chunk in _fragments(rsp)]
    cmds.append(lx.HCI_LE_Set_Extended_Advertising_Enable_Command(
        enable=1, sets=(lx.AdvertisingSetEnable(
            advertising_handle=handle, duration=p.duration_units(),
            max_extended_advertising_events=p.max_events),)))
    return cmds


def _fragments(data: bytes) -> list[tuple[int, bytes]]:
    """Set_Extended_Advertising_Data operations for ``data`` (7.8.54): 251 octets each."""
    if len(data) <= 251:
        return [(3, data)]
    chunks = [data[i : i + 251] for i in range(0, len(data), 251)]
    return [(1 if i == 0 else 2 if i == len(chunks) - 1 else 0, c) for i, c in enumerate(chunks)]


__all__ = [
    "HOST_EVENTS",
    "HOST_EVENTS_PAGE_2",
    "HOST_LE_SUBEVENTS",
    "LE_META_EVENT_BIT",
    "event_masks",
    "random_static_address",
    "ControllerInfo",
    "AdvertisingParameters",
    "ScanParameters",
    "ConnectionParameters",
    "legacy_advertising_commands",
    "extended_advertising_commands",
]
