"""HCI events outside the LE Meta event (Vol 4 Part E 7.7), and reply helpers.

Theory of operation
-------------------
Each class is one event: a frozen dataclass of its parameters, registered by event
code with :func:`~linklayer.hci.registry.event` so that
:func:`~linklayer.hci.registry.parse_event` decodes it. ``HCI_Command_Complete_Event``
and ``HCI_Command_Status_Event`` are defined in :mod:`.registry`;
:func:`command_complete` and :func:`command_status` build them the way a Controller
answers a command. LE Meta subevents are in :mod:`.le_events`.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar, Self

from .arrays import count_octet, decode_entries, encode_entries, expect_end, read_u8
from .codec import HciEvent, Packed, ReturnParameters, u8, u16
from .registry import HCI_Command_Complete_Event, HCI_Command_Status_Event, event


def command_complete(
    opcode: int, returns: ReturnParameters | bytes, num: int = 1
) -> HCI_Command_Complete_Event:
    """The Command_Complete event answering ``opcode`` (Vol 4 Part E 7.7.14).

    ``num`` is Num_HCI_Command_Packets, the number of commands the Host may send now.
    """
    raw = returns if isinstance(returns, bytes) else returns.parameters()
    return HCI_Command_Complete_Event(
        num_hci_command_packets=num, command_opcode=opcode, return_parameters=raw
    )


def command_status(opcode: int, status: int, num: int = 1) -> HCI_Command_Status_Event:
    """The Command_Status event answering ``opcode`` (Vol 4 Part E 7.7.15)."""
    return HCI_Command_Status_Event(
        status=status, num_hci_command_packets=num, command_opcode=opcode
    )


@event
@dataclasses.dataclass(frozen=True)
class HCI_Disconnection_Complete_Event(HciEvent):
    """Vol 4 Part E 7.7.5."""

    EVENT_CODE: ClassVar[int] = 0x05
    status: int = u8()
    connection_handle: int = u16()
    reason: int = u8()


@event
@dataclasses.dataclass(frozen=True)
class HCI_Encryption_Change_Event(HciEvent):
    """Vol 4 Part E 7.7.8 (version 1, event code 0x08)."""

    EVENT_CODE: ClassVar[int] = 0x08
    status: int = u8()
    connection_handle: int = u16()
    encryption_enabled: int = u8()


@event
@dataclasses.dataclass(frozen=True)
class HCI_Encryption_Change_V2_Event(HciEvent):
    """Vol 4 Part E 7.7.8 (version 2, event code 0x59, adds Encryption_Key_Size)."""

    EVENT_CODE: ClassVar[int] = 0x59
    status: int = u8()
    connection_handle: int = u16()
    encryption_enabled: int = u8()
    encryption_key_size: int = u8()


@event
@dataclasses.dataclass(frozen=True)
class HCI_Read_Remote_Version_Information_Complete_Event(HciEvent):
    """Vol 4 Part E 7.7.12."""

    EVENT_CODE: ClassVar[int] = 0x0C
    status: int = u8()
    connection_handle: int = u16()
    version: int = u8()
    company_identifier: int = u16()
    subversion: int = u16()


@event
@dataclasses.dataclass(frozen=True)
class HCI_Hardware_Error_Event(HciEvent):
    """Vol 4 Part E 7.7.16."""

    EVENT_CODE: ClassVar[int] = 0x10
    hardware_code: int = u8()


@dataclasses.dataclass(frozen=True)
class CompletedPackets(Packed):
    """One element of Number_Of_Completed_Packets (Vol 4 Part E 7.7.19)."""

    connection_handle: int = u16()
    num_completed_packets: int = u16()


@event
@dataclasses.dataclass(frozen=True)
class HCI_Number_Of_Completed_Packets_Event(HciEvent):
    """Vol 4 Part E 7.7.19: Num_Handles, then (Connection_Handle, count) per handle."""

    EVENT_CODE: ClassVar[int] = 0x13
    handles: tuple[CompletedPackets, ...] = ()

    def parameters(self) -> bytes:
        return count_octet(self.handles, "Num_Handles") + encode_entries(self.handles)

    @classmethod
    def from_parameters(cls, data: bytes) -> Self:
        count, offset = read_u8(data, 0, "Num_Handles")
        handles, offset = decode_entries(CompletedPackets, data, offset, count)
        expect_end(cls, data, offset)
        return cls(handles=handles)


@event
@dataclasses.dataclass(frozen=True)
class HCI_Data_Buffer_Overflow_Event(HciEvent):
    """Vol 4 Part E 7.7.26 (Link_Type 0x01: ACL)."""

    EVENT_CODE: ClassVar[int] = 0x1A
    link_type: int = u8()


@event
@dataclasses.dataclass(frozen=True)
class HCI_Encryption_Key_Refresh_Complete_Event(HciEvent):
    """Vol 4 Part E 7.7.39."""

    EVENT_CODE: ClassVar[int] = 0x30
    status: int = u8()
    connection_handle: int = u16()


@event
@dataclasses.dataclass(frozen=True)
class HCI_Authenticated_Payload_Timeout_Expired_Event(HciEvent):
    """Vol 4 Part E 7.7.75."""

    EVENT_CODE: ClassVar[int] = 0x57
    connection_handle: int = u16()


__all__ = [
    "command_complete",
    "command_status",
    "HCI_Disconnection_Complete_Event",
    "HCI_Encryption_Change_Event",
    "HCI_Encryption_Change_V2_Event",
    "HCI_Read_Remote_Version_Information_Complete_Event",
    "HCI_Hardware_Error_Event",
    "CompletedPackets",
    "HCI_Number_Of_Completed_Packets_Event",
    "HCI_Data_Buffer_Overflow_Event",
    "HCI_Encryption_Key_Refresh_Complete_Event",
    "HCI_Authenticated_Payload_Timeout_Expired_Event",
]
