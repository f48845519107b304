"""LE Meta event subevents (Vol 4 Part E 7.7.65).

Theory of operation
-------------------
Every LE event travels inside the LE Meta event (code 0x3E) whose first parameter is the
subevent code. Each class here is one subevent, registered by subevent code; its fields
are the parameters after the subevent code. :func:`~linklayer.hci.registry.parse_event`
routes LE Meta events by subevent code.

Report events carry Num_Reports reports, each a nested frozen dataclass
(:class:`AdvertisingReport`, :class:`DirectedAdvertisingReport`,
:class:`ExtendedAdvertisingReport`); the parameters of one report follow each other
(Vol 4 Part E 5.2), as every Controller sends them. ``Data_Length`` + ``Data`` are held
as one ``data`` field.
"""

from __future__ import annotations

import dataclasses
import struct
from typing import ClassVar, Self, TypeVar

from .arrays import count_octet, decode_entries, encode_entries, expect_end, read_u8
from .codec import (
    HciLeMetaEvent,
    Packed,
    bd_addr,
    fixed,
    i8,
    length_prefixed,
    u8,
    u16,
    u64,
)
from .registry import event

R = TypeVar("R", bound=Packed)


def _encode_reports(reports: tuple[Packed, ...]) -> bytes:
    return count_octet(reports, "Num_Reports") + encode_entries(reports)


def _decode_reports(owner: type, cls: type[R], data: bytes) -> tuple[R, ...]:
    count, offset = read_u8(data, 0, "Num_Reports")
    reports, offset = decode_entries(cls, data, offset, count)
    expect_end(owner, data, offset)
    return reports


@event
@dataclasses.dataclass(frozen=True)
class HCI_LE_Connection_Complete_Event(HciLeMetaEvent):
    """Vol 4 Part E 7.7.65.1 (Role: 0 Central, 1 Peripheral)."""

    SUBEVENT_CODE: ClassVar[int] = 0x01
    status: int = u8()
    connection_handle: int = u16()
    role: int = u8()
    peer_address_type: int = u8()
    peer_address: bytes = bd_addr()
    connection_interval: int = u16()
    peripheral_latency: int = u16()
    supervision_timeout: int = u16()
    central_clock_accuracy: int = u8()


@dataclasses.dataclass(frozen=True)
class AdvertisingReport(Packed):
    """One report of LE Advertising_Report (Vol 4 Part E 7.7.65.2).

    Event_Type: 0 ADV_IND, 1 ADV_DIRECT_IND, 2 ADV_SCAN_IND, 3 ADV_NONCONN_IND,
    4 SCAN_RSP. RSSI in dBm, 127 if not available.
    """

    event_type: int = u8()
    address_type: int = u8()
    address: bytes = bd_addr()
    data: bytes = length_prefixed()
    rssi: int = i8()

    def parameters(self) -> bytes:
        # The same layout as the declared fields, packed in one go: a scanner emits
        # thousands of these per simulated second.
        address, data = bytes(self.address), bytes(self.data)
        if len(address) != 6 or len(data) > 255:
            raise ValueError("address must be 6 octets and data at most 255")
        try:
            return _REPORT_HEAD.pack(self.event_type, self.address_type, address, len(data)) + data + _RSSI.pack(self.rssi)
        except struct.error as exc:
            raise ValueError(str(exc)) from exc


_REPORT_HEAD = struct.Struct("<BB6sB")
_RSSI = struct.Struct("<b")
#: Event code, parameter length, subevent code, Num_Reports = 1, then one report's head.
_SINGLE_REPORT_HEAD = struct.Struct("<BBBBBB6sB")


def advertising_report_packet(event_type: int, address_type: int, address: bytes, data: bytes, rssi: int) -> bytes:
    """The whole LE Advertising Report event (Vol 4 Part E 7.7.65.2) for one report.

    The same octets as ``HCI_LE_Advertising_Report_Event(reports=(AdvertisingReport(...),))
    .to_bytes()``, packed in one go for scanners, which send tens of thousands of these
    per simulated minute. Raises :class:`ValueError` where the codec would.
    """
    n = len(data)
    if len(address) != 6 or n > 255 - 12:
        raise ValueError("address must be 6 octets and the event at most 255 parameter octets")
    try:
        head = _SINGLE_REPORT_HEAD.pack(0x3E, 12 + n, 0x02, 1, event_type, address_type, address, n)
        return head + data + _RSSI.pack(rssi)
    except struct.error as exc:
        raise ValueError(str(exc)) from exc


@event
@dataclasses.dataclass(frozen=True)
class HCI_LE_Advertising_Report_Event(HciLeMetaEvent):
    """Vol 4 Part E 7.7.65.2: Num_Reports, then the reports."""

    SUBEVENT_CODE: ClassVar[int] = 0x02
    reports: tuple[AdvertisingReport, ...] = ()

    def parameters(self) -> bytes:
        return _encode_reports(self.reports)

    @classmethod
    def from_parameters(cls, data: bytes) -> Self:
        return cls(reports=_decode_reports(cls, AdvertisingReport, data))


@event
@dataclasses.dataclass(frozen=True)
class HCI_LE_Connection_Update_Complete_Event(HciLeMetaEvent):
    """Vol 4 Part E 7.7.65.3."""

    SUBEVENT_CODE: ClassVar[int] = 0x03
    status: int = u8()
    connection_handle: int = u16()
    connection_interval: int = u16()
    peripheral_latency: int = u16()
    supervision_timeout: int = u16()


@event
@dataclasses.dataclass(frozen=True)
class HCI_LE_Read_Remote_Features_Complete_Event(HciLeMetaEvent):
    """Vol 4 Part E 7.7.65.4 (LE_Features as in Vol 6 Part B 4.6)."""

    SUBEVENT_CODE: ClassVar[int] = 0x04
    status: int = u8()
    connection_handle: int = u16()
    le_features: int = u64()


@event
@dataclasses.dataclass(frozen=True)
class HCI_LE_Long_Term_Key_Request_Event(HciLeMetaEvent):
    """Vol 4 Part E 7.7.65.5."""

    SUBEVENT_CODE: ClassVar[int] = 0x05
    connection_handle: int = u16()
    random_number: bytes = fixed(8)
    encrypted_diversifier: int = u16()


@event
@dataclasses.dataclass(frozen=True)
class HCI_LE_Remote_Connection_Parameter_Request_Event(HciLeMetaEvent):
    """Vol 4 Part E 7.7.65.6."""

    SUBEVENT_CODE: ClassVar[int] = 0x06
    connection_handle: int = u16()
    interval_min: int = u16()
    interval_max: int = u16()
    max_latency: int = u16()
    timeout: int = u16()


@event
@dataclasses.dataclass(frozen=True)
class HCI_LE_Data_Length_Change_Event(HciLeMetaEvent):
    """Vol 4 Part E 7.7.65.7 (times in µs)."""

    SUBEVENT_CODE: ClassVar[int] = 0x07
    connection_handle: int = u16()
    max_tx_octets: int = u16()
    max_tx_time: int = u16()
    max_rx_octets: int = u16()
    max_rx_time: int = u16()


@event
@dataclasses.dataclass(frozen=True)
class HCI_LE_Read_Local_P256_Public_Key_Complete_Event(HciLeMetaEvent):
    """Vol 4 Part E 7.7.65.8 (X then Y, each 32 octets little-endian)."""

    SUBEVENT_CODE: ClassVar[int] = 0x08
    status: int = u8()
    local_p256_public_key: bytes = fixed(64)


@event
@dataclasses.dataclass(frozen=True)
class HCI_LE_Generate_DHKey_Complete_Event(HciLeMetaEvent):
    """Vol 4 Part E 7.7.65.9 (DHKey little-endian)."""

    SUBEVENT_CODE: ClassVar[int] = 0x09
    status: int = u8()
    dh_key: bytes = fixed(32)


@event
@dataclasses.dataclass(frozen=True)
class HCI_LE_Enhanced_Connection_Complete_Event(HciLeMetaEvent):
    """Vol 4 Part E 7.7.65.10 (version 1)."""

    SUBEVENT_CODE: ClassVar[int] = 0x0A
    status: int = u8()
    connection_handle: int = u16()
    role: int = u8()
    peer_address_type: int = u8()
    peer_address: bytes = bd_addr()
    local_resolvable_private_address: bytes = bd_addr()
    peer_resolvable_private_address: bytes = bd_addr()
    connection_interval: int = u16()
    peripheral_latency: int = u16()
    supervision_timeout: int = u16()
    central_clock_accuracy: int = u8()


@dataclasses.dataclass(frozen=True)
class DirectedAdvertisingReport(Packed):
    """One report of LE Directed_Advertising_Report (Vol 4 Part E 7.7.65.11)."""

    event_type: int = u8()
    address_type: int = u8()
    address: bytes = bd_addr()
    direct_address_type: int = u8()
    direct_address: bytes = bd_addr()
    rssi: int = i8()


@event
@dataclasses.dataclass(frozen=True)
class HCI_LE_Directed_Advertising_Report_Event(HciLeMetaEvent):
    """Vol 4 Part E 7.7.65.11: Num_Reports, then the reports."""

    SUBEVENT_CODE: ClassVar[int] = 0x0B
    reports: tuple[DirectedAdvertisingReport, ...] = ()

    def parameters(self) -> bytes:
        return _encode_reports(self.reports)

    @classmethod
    def from_parameters(cls, data: bytes) -> Self:
        return cls(reports=_decode_reports(cls, DirectedAdvertisingReport, data))


@event
@dataclasses.dataclass(frozen=True)
class HCI_LE_PHY_Update_Complete_Event(HciLeMetaEvent):
    """Vol 4 Part E 7.7.65.12 (PHY: 1 LE 1M, 2 LE 2M, 3 LE Coded)."""

    SUBEVENT_CODE: ClassVar[int] = 0x0C
    status: int = u8()
    connection_handle: int = u16()
    tx_phy: int = u8()
    rx_phy: int = u8()


@dataclasses.dataclass(frozen=True)
class ExtendedAdvertisingReport(Packed):
    """One report of LE Extended_Advertising_Report (Vol 4 Part E 7.7.65.13).

    Event_Type bits: 0 connectable, 1 scannable, 2 directed, 3 scan response, 4 legacy,
    5–6 data status (0 complete, 1 incomplete/more, 2 incomplete/truncated).
    Advertising_SID 0xFF: none; TX_Power and RSSI 127: not available.
    """

    event_type: int = u16()
    address_type: int = u8()
    address: bytes = bd_addr()
    primary_phy: int = u8()
    secondary_phy: int = u8()
    advertising_sid: int = u8()
    tx_power: int = i8()
    rssi: int = i8()
    periodic_advertising_interval: int = u16()
    direct_address_type: int = u8()
    direct_address: bytes = bd_addr()
    data: bytes = length_prefixed()


@event
@dataclasses.dataclass(frozen=True)
class HCI_LE_Extended_Advertising_Report_Event(HciLeMetaEvent):
    """Vol 4 Part E 7.7.65.13: Num_Reports, then the reports."""

    SUBEVENT_CODE: ClassVar[int] = 0x0D
    reports: tuple[ExtendedAdvertisingReport, ...] = ()

    def parameters(self) -> bytes:
        return _encode_reports(self.reports)

    @classmethod
    def from_parameters(cls, data: bytes) -> Self:
        return cls(reports=_decode_reports(cls, ExtendedAdvertisingReport, data))


@event
@dataclasses.dataclass(frozen=True)
class HCI_LE_Scan_Timeout_Event(HciLeMetaEvent):
    """Vol 4 Part E 7.7.65.17 (no parameters)."""

    SUBEVENT_CODE: ClassVar[int] = 0x11


@event
@dataclasses.dataclass(frozen=True)
class HCI_LE_Advertising_Set_Terminated_Event(HciLeMetaEvent):
    """Vol 4 Part E 7.7.65.18."""

    SUBEVENT_CODE: ClassVar[int] = 0x12
    status: int = u8()
    advertising_handle: int = u8()
    connection_handle: int = u16()
    num_completed_extended_advertising_events: int = u8()


@event
@dataclasses.dataclass(frozen=True)
class HCI_LE_Scan_Request_Received_Event(HciLeMetaEvent):
    """Vol 4 Part E 7.7.65.19."""

    SUBEVENT_CODE: ClassVar[int] = 0x13
    advertising_handle: int = u8()
    scanner_address_type: int = u8()
    scanner_address: bytes = bd_addr()


@event
@dataclasses.dataclass(frozen=True)
class HCI_LE_Channel_Selection_Algorithm_Event(HciLeMetaEvent):
    """Vol 4 Part E 7.7.65.20 (0: algorithm #1, 1: algorithm #2)."""

    SUBEVENT_CODE: ClassVar[int] = 0x14
    connection_handle: int = u16()
    channel_selection_algorithm: int = u8()


__all__ = [
    "R",
    "HCI_LE_Connection_Complete_Event",
    "AdvertisingReport",
    "HCI_LE_Advertising_Report_Event",
    "HCI_LE_Connection_Update_Complete_Event",
    "HCI_LE_Read_Remote_Features_Complete_Event",
    "HCI_LE_Long_Term_Key_Request_Event",
    "HCI_LE_Remote_Connection_Parameter_Request_Event",
    "HCI_LE_Data_Length_Change_Event",
    "HCI_LE_Read_Local_P256_Public_Key_Complete_Event",
    "HCI_LE_Generate_DHKey_Complete_Event",
    "HCI_LE_Enhanced_Connection_Complete_Event",
    "DirectedAdvertisingReport",
    "HCI_LE_Directed_Advertising_Report_Event",
    "HCI_LE_PHY_Update_Complete_Event",
    "ExtendedAdvertisingReport",
    "HCI_LE_Extended_Advertising_Report_Event",
    "HCI_LE_Scan_Timeout_Event",
    "HCI_LE_Advertising_Set_Terminated_Event",
    "HCI_LE_Scan_Request_Received_Event",
    "HCI_LE_Channel_Selection_Algorithm_Event",
]
