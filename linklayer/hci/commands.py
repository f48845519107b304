"""HCI commands outside the LE group (Vol 4 Part E 7.1, 7.3, 7.4, 7.5).

Theory of operation
-------------------
Each class is one command: a frozen dataclass whose fields are the command parameters
in specification order, registered by opcode with :func:`~linklayer.hci.registry.command`
so that :func:`~linklayer.hci.registry.parse_command` can decode it. ``RETURNS`` names
the return-parameter class that the command's ``HCI_Command_Complete`` event carries,
or is ``None`` when the Controller answers with ``HCI_Command_Status`` and reports the
outcome later in an event. LE commands (OGF 0x08) live in :mod:`.le_commands` and
:mod:`.le_ext_commands`.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar, Self

from .arrays import count_octet, decode_entries, encode_entries, expect_end, read_u8
from .codec import (
    HciCommand,
    Packed,
    ReturnParameters,
    bd_addr,
    fixed,
    i8,
    opcode,
    u8,
    u16,
    u64,
)
from .registry import command

OGF_LINK_CONTROL = 0x01
OGF_CONTROLLER_AND_BASEBAND = 0x03
OGF_INFORMATIONAL_PARAMETERS = 0x04
OGF_STATUS_PARAMETERS = 0x05
OGF_LE_CONTROLLER = 0x08


@dataclasses.dataclass(frozen=True)
class ConnectionHandleReturn(ReturnParameters):
    """Return parameters made of Status and Connection_Handle (shared layout)."""

    status: int = u8()
    connection_handle: int = u16()


# --- Link Control commands (OGF 0x01), Vol 4 Part E 7.1 -------------------------------


@command
@dataclasses.dataclass(frozen=True)
class HCI_Disconnect_Command(HciCommand):
    """Vol 4 Part E 7.1.6. Answered by Command_Status, then Disconnection_Complete."""

    OPCODE: ClassVar[int] = opcode(OGF_LINK_CONTROL, 0x0006)
    RETURNS: ClassVar[type[ReturnParameters] | None] = None
    connection_handle: int = u16()
    reason: int = u8()


@command
@dataclasses.dataclass(frozen=True)
class HCI_Read_Remote_Version_Information_Command(HciCommand):
    """Vol 4 Part E 7.1.23. Completed by Read_Remote_Version_Information_Complete."""

    OPCODE: ClassVar[int] = opcode(OGF_LINK_CONTROL, 0x001D)
    RETURNS: ClassVar[type[ReturnParameters] | None] = None
    connection_handle: int = u16()


# --- Controller & Baseband commands (OGF 0x03), Vol 4 Part E 7.3 ----------------------


@command
@dataclasses.dataclass(frozen=True)
class HCI_Set_Event_Mask_Command(HciCommand):
    """Vol 4 Part E 7.3.1."""

    OPCODE: ClassVar[int] = opcode(OGF_CONTROLLER_AND_BASEBAND, 0x0001)
    event_mask: int = u64()


@command
@dataclasses.dataclass(frozen=True)
class HCI_Reset_Command(HciCommand):
    """Vol 4 Part E 7.3.2."""

    OPCODE: ClassVar[int] = opcode(OGF_CONTROLLER_AND_BASEBAND, 0x0003)


@dataclasses.dataclass(frozen=True)
class HCI_Read_Transmit_Power_Level_ReturnParameters(ReturnParameters):
    """Vol 4 Part E 7.3.35."""

    status: int = u8()
    connection_handle: int = u16()
    tx_power_level: int = i8()


@command
@dataclasses.dataclass(frozen=True)
class HCI_Read_Transmit_Power_Level_Command(HciCommand):
    """Vol 4 Part E 7.3.35. Type: 0x00 current, 0x01 maximum."""

    OPCODE: ClassVar[int] = opcode(OGF_CONTROLLER_AND_BASEBAND, 0x002D)
    RETURNS: ClassVar[type[ReturnParameters] | None] = (
        HCI_Read_Transmit_Power_Level_ReturnParameters
    )
    connection_handle: int = u16()
    type: int = u8()


@command
@dataclasses.dataclass(frozen=True)
class HCI_Set_Controller_To_Host_Flow_Control_Command(HciCommand):
    """Vol 4 Part E 7.3.38."""

    OPCODE: ClassVar[int] = opcode(OGF_CONTROLLER_AND_BASEBAND, 0x0031)
    flow_control_enable: int = u8()


@command
@dataclasses.dataclass(frozen=True)
class HCI_Host_Buffer_Size_Command(HciCommand):
    """Vol 4 Part E 7.3.39."""

    OPCODE: ClassVar[int] = opcode(OGF_CONTROLLER_AND_BASEBAND, 0x0033)
    host_acl_data_packet_length: int = u16()
    host_synchronous_data_packet_length: int = u8()
    host_total_num_acl_data_packets: int = u16()
    host_total_num_synchronous_data_packets: int = u16()


@dataclasses.dataclass(frozen=True)
class HostCompletedPackets(Packed):
    """One element of Host_Number_Of_Completed_Packets (Vol 4 Part E 7.3.40)."""

    connection_handle: int = u16()
    host_num_completed_packets: int = u16()


@command
@dataclasses.dataclass(frozen=True)
class HCI_Host_Number_Of_Completed_Packets_Command(HciCommand):
    """Vol 4 Part E 7.3.40: Num_Handles, then (Connection_Handle, count) per handle.

    Normally no event answers this command; a Controller that finds its parameters
    invalid answers with a Command_Complete carrying only a Status.
    """

    OPCODE: ClassVar[int] = opcode(OGF_CONTROLLER_AND_BASEBAND, 0x0035)
    handles: tuple[HostCompletedPackets, ...] = ()

    def parameters(self) -> bytes:
        return count_octet(self.handles, "Num_Handles") + encode_entries(self.handles)

    @classmethod
    def from_parameters(cls, data: bytes) -> Self:
        count, offset = read_u8(data, 0, "Num_Handles")
        handles, offset = decode_entries(HostCompletedPackets, data, offset, count)
        expect_end(cls, data, offset)
        return cls(handles=handles)


@command
@dataclasses.dataclass(frozen=True)
class HCI_Set_Event_Mask_Page_2_Command(HciCommand):
    """Vol 4 Part E 7.3.69."""

    OPCODE: ClassVar[int] = opcode(OGF_CONTROLLER_AND_BASEBAND, 0x0063)
    event_mask_page_2: int = u64()


@dataclasses.dataclass(frozen=True)
class HCI_Read_LE_Host_Support_ReturnParameters(ReturnParameters):
    """Vol 4 Part E 7.3.78 (the second octet was Simultaneous_LE_Host, now unused)."""

    status: int = u8()
    le_supported_host: int = u8()
    unused: int = u8()


@command
@dataclasses.dataclass(frozen=True)
class HCI_Read_LE_Host_Support_Command(HciCommand):
    """Vol 4 Part E 7.3.78."""

    OPCODE: ClassVar[int] = opcode(OGF_CONTROLLER_AND_BASEBAND, 0x006C)
    RETURNS: ClassVar[type[ReturnParameters] | None] = (
        HCI_Read_LE_Host_Support_ReturnParameters
    )


@command
@dataclasses.dataclass(frozen=True)
class HCI_Write_LE_Host_Support_Command(HciCommand):
    """Vol 4 Part E 7.3.79."""

    OPCODE: ClassVar[int] = opcode(OGF_CONTROLLER_AND_BASEBAND, 0x006D)
    le_supported_host: int = u8()
    unused: int = u8(0)


@dataclasses.dataclass(frozen=True)
class HCI_Read_Authenticated_Payload_Timeout_ReturnParameters(ReturnParameters):
    """Vol 4 Part E 7.3.93 (timeout in units of 10 ms)."""

    status: int = u8()
    connection_handle: int = u16()
    authenticated_payload_timeout: int = u16()


@command
@dataclasses.dataclass(frozen=True)
class HCI_Read_Authenticated_Payload_Timeout_Command(HciCommand):
    """Vol 4 Part E 7.3.93."""

    OPCODE: ClassVar[int] = opcode(OGF_CONTROLLER_AND_BASEBAND, 0x007B)
    RETURNS: ClassVar[type[ReturnParameters] | None] = (
        HCI_Read_Authenticated_Payload_Timeout_ReturnParameters
    )
    connection_handle: int = u16()


@dataclasses.dataclass(frozen=True)
class HCI_Write_Authenticated_Payload_Timeout_ReturnParameters(ConnectionHandleReturn):
    """Vol 4 Part E 7.3.94."""


@command
@dataclasses.dataclass(frozen=True)
class HCI_Write_Authenticated_Payload_Timeout_Command(HciCommand):
    """Vol 4 Part E 7.3.94 (timeout in units of 10 ms)."""

    OPCODE: ClassVar[int] = opcode(OGF_CONTROLLER_AND_BASEBAND, 0x007C)
    RETURNS: ClassVar[type[ReturnParameters] | None] = (
        HCI_Write_Authenticated_Payload_Timeout_ReturnParameters
    )
    connection_handle: int = u16()
    authenticated_payload_timeout: int = u16()


# --- Informational parameters (OGF 0x04), Vol 4 Part E 7.4 ----------------------------


@dataclasses.dataclass(frozen=True)
class HCI_Read_Local_Version_Information_ReturnParameters(ReturnParameters):
    """Vol 4 Part E 7.4.1 (HCI_Subversion was called HCI_Revision before 5.2)."""

    status: int = u8()
    hci_version: int = u8()
    hci_subversion: int = u16()
    lmp_version: int = u8()
    company_identifier: int = u16()
    lmp_subversion: int = u16()


@command
@dataclasses.dataclass(frozen=True)
class HCI_Read_Local_Version_Information_Command(HciCommand):
    """Vol 4 Part E 7.4.1."""

    OPCODE: ClassVar[int] = opcode(OGF_INFORMATIONAL_PARAMETERS, 0x0001)
    RETURNS: ClassVar[type[ReturnParameters] | None] = (
        HCI_Read_Local_Version_Information_ReturnParameters
    )


@dataclasses.dataclass(frozen=True)
class HCI_Read_Local_Supported_Commands_ReturnParameters(ReturnParameters):
    """Vol 4 Part E 7.4.2 (the 64-octet bitmap of 6.27, see :mod:`.supported`)."""

    status: int = u8()
    supported_commands: bytes = fixed(64)


@command
@dataclasses.dataclass(frozen=True)
class HCI_Read_Local_Supported_Commands_Command(HciCommand):
    """Vol 4 Part E 7.4.2."""

    OPCODE: ClassVar[int] = opcode(OGF_INFORMATIONAL_PARAMETERS, 0x0002)
    RETURNS: ClassVar[type[ReturnParameters] | None] = (
        HCI_Read_Local_Supported_Commands_ReturnParameters
    )


@dataclasses.dataclass(frozen=True)
class HCI_Read_Local_Supported_Features_ReturnParameters(ReturnParameters):
    """Vol 4 Part E 7.4.3 (LMP feature page 0, Vol 2 Part C 3.3)."""

    status: int = u8()
    lmp_features: int = u64()


@command
@dataclasses.dataclass(frozen=True)
class HCI_Read_Local_Supported_Features_Command(HciCommand):
    """Vol 4 Part E 7.4.3."""

    OPCODE: ClassVar[int] = opcode(OGF_INFORMATIONAL_PARAMETERS, 0x0003)
    RETURNS: ClassVar[type[ReturnParameters] | None] = (
        HCI_Read_Local_Supported_Features_ReturnParameters
    )


@dataclasses.dataclass(frozen=True)
class HCI_Read_Buffer_Size_ReturnParameters(ReturnParameters):
    """Vol 4 Part E 7.4.5."""

    status: int = u8()
    acl_data_packet_length: int = u16()
    synchronous_data_packet_length: int = u8()
    total_num_acl_data_packets: int = u16()
    total_num_synchronous_data_packets: int = u16()


@command
@dataclasses.dataclass(frozen=True)
class HCI_Read_Buffer_Size_Command(HciCommand):
    """Vol 4 Part E 7.4.5."""

    OPCODE: ClassVar[int] = opcode(OGF_INFORMATIONAL_PARAMETERS, 0x0005)
    RETURNS: ClassVar[type[ReturnParameters] | None] = HCI_Read_Buffer_Size_ReturnParameters


@dataclasses.dataclass(frozen=True)
class HCI_Read_BD_ADDR_ReturnParameters(ReturnParameters):
    """Vol 4 Part E 7.4.6."""

    status: int = u8()
    bd_addr: bytes = bd_addr()


@command
@dataclasses.dataclass(frozen=True)
class HCI_Read_BD_ADDR_Command(HciCommand):
    """Vol 4 Part E 7.4.6."""

    OPCODE: ClassVar[int] = opcode(OGF_INFORMATIONAL_PARAMETERS, 0x0009)
    RETURNS: ClassVar[type[ReturnParameters] | None] = HCI_Read_BD_ADDR_ReturnParameters


# --- Status parameters (OGF 0x05), Vol 4 Part E 7.5 -----------------------------------


@dataclasses.dataclass(frozen=True)
class HCI_Read_RSSI_ReturnParameters(ReturnParameters):
    """Vol 4 Part E 7.5.4 (RSSI: signed dBm for LE)."""

    status: int = u8()
    handle: int = u16()
    rssi: int = i8()


@command
@dataclasses.dataclass(frozen=True)
class HCI_Read_RSSI_Command(HciCommand):
    """Vol 4 Part E 7.5.4."""

    OPCODE: ClassVar[int] = opcode(OGF_STATUS_PARAMETERS, 0x0005)
    RETURNS: ClassVar[type[ReturnParameters] | None] = HCI_Read_RSSI_ReturnParameters
    handle: int = u16()


__all__ = [
    "OGF_LINK_CONTROL",
    "OGF_CONTROLLER_AND_BASEBAND",
    "OGF_INFORMATIONAL_PARAMETERS",
    "OGF_STATUS_PARAMETERS",
    "OGF_LE_CONTROLLER",
    "ConnectionHandleReturn",
    "HCI_Disconnect_Command",
    "HCI_Read_Remote_Version_Information_Command",
    "HCI_Set_Event_Mask_Command",
    "HCI_Reset_Command",
    "HCI_Read_Transmit_Power_Level_ReturnParameters",
    "HCI_Read_Transmit_Power_Level_Command",
    "HCI_Set_Controller_To_Host_Flow_Control_Command",
    "HCI_Host_Buffer_Size_Command",
    "HostCompletedPackets",
    "HCI_Host_Number_Of_Completed_Packets_Command",
    "HCI_Set_Event_Mask_Page_2_Command",
    "HCI_Read_LE_Host_Support_ReturnParameters",
    "HCI_Read_LE_Host_Support_Command",
    "HCI_Write_LE_Host_Support_Command",
    "HCI_Read_Authenticated_Payload_Timeout_ReturnParameters",
    "HCI_Read_Authenticated_Payload_Timeout_Command",
    "HCI_Write_Authenticated_Payload_Timeout_ReturnParameters",
    "HCI_Write_Authenticated_Payload_Timeout_Command",
    "HCI_Read_Local_Version_Information_ReturnParameters",
    "HCI_Read_Local_Version_Information_Command",
    "HCI_Read_Local_Supported_Commands_ReturnParameters",
    "HCI_Read_Local_Supported_Commands_Command",
    "HCI_Read_Local_Supported_Features_ReturnParameters",
    "HCI_Read_Local_Supported_Features_Command",
    "HCI_Read_Buffer_Size_ReturnParameters",
    "HCI_Read_Buffer_Size_Command",
    "HCI_Read_BD_ADDR_ReturnParameters",
    "HCI_Read_BD_ADDR_Command",
    "HCI_Read_RSSI_ReturnParameters",
    "HCI_Read_RSSI_Command",
]
