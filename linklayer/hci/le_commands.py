"""LE Controller commands, part 1 (Vol 4 Part E 7.8.1 – 7.8.35).

Theory of operation
-------------------
The Bluetooth 4.x LE commands: event masks and buffers, legacy advertising and scanning,
the filter accept list, connection creation and update, encryption, and data length.
Each class is a frozen dataclass registered by opcode (OGF 0x08); ``RETURNS`` is its
Command_Complete return-parameter class, or ``None`` for commands answered with
Command_Status. The commands of Bluetooth 4.2 and 5.x (P-256, resolving list, PHY,
extended advertising and scanning, privacy mode) are in :mod:`.le_ext_commands`.

``HCI_LE_Set_Advertising_Data`` and ``HCI_LE_Set_Scan_Response_Data`` always carry 32
parameter octets: a length, then 31 octets of which the first ``length`` are significant
(7.8.7, 7.8.8). The dataclass holds only the significant octets; the encoder pads with
zeros and the decoder refuses any other parameter length.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar, Self

from .codec import (
    HciCommand,
    HciDecodeError,
    ReturnParameters,
    bd_addr,
    fixed,
    i8,
    opcode,
    u8,
    u16,
    u64,
)
from .commands import OGF_LE_CONTROLLER, ConnectionHandleReturn
from .registry import command

#: Size of the Advertising_Data / Scan_Response_Data parameter of the legacy commands.
LEGACY_ADVERTISING_DATA_SIZE = 31


def _le(ocf: int) -> int:
    return opcode(OGF_LE_CONTROLLER, ocf)


def _encode_legacy_data(data: bytes, what: str) -> bytes:
    if len(data) > LEGACY_ADVERTISING_DATA_SIZE:
        raise ValueError(f"{what}: {len(data)} octets, at most 31 allowed")
    return bytes([len(data)]) + data + bytes(LEGACY_ADVERTISING_DATA_SIZE - len(data))


def _decode_legacy_data(data: bytes, what: str) -> bytes:
    if len(data) != 1 + LEGACY_ADVERTISING_DATA_SIZE:
        raise HciDecodeError(f"{what}: expected 32 parameter octets, got {len(data)}")
    length = data[0]
    if length > LEGACY_ADVERTISING_DATA_SIZE:
        raise HciDecodeError(f"{what}: data length {length} exceeds 31")
    return bytes(data[1 : 1 + length])


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Set_Event_Mask_Command(HciCommand):
    """Vol 4 Part E 7.8.1."""

    OPCODE: ClassVar[int] = _le(0x0001)
    le_event_mask: int = u64()


@dataclasses.dataclass(frozen=True)
class HCI_LE_Read_Buffer_Size_ReturnParameters(ReturnParameters):
    """Vol 4 Part E 7.8.2 (version 1)."""

    status: int = u8()
    le_acl_data_packet_length: int = u16()
    total_num_le_acl_data_packets: int = u8()


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Read_Buffer_Size_Command(HciCommand):
    """Vol 4 Part E 7.8.2, version 1 (OCF 0x0002)."""

    OPCODE: ClassVar[int] = _le(0x0002)
    RETURNS: ClassVar[type[ReturnParameters] | None] = (
        HCI_LE_Read_Buffer_Size_ReturnParameters
    )


@dataclasses.dataclass(frozen=True)
class HCI_LE_Read_Buffer_Size_V2_ReturnParameters(ReturnParameters):
    """Vol 4 Part E 7.8.2 (version 2, adds the ISO buffers)."""

    status: int = u8()
    le_acl_data_packet_length: int = u16()
    total_num_le_acl_data_packets: int = u8()
    iso_data_packet_length: int = u16()
    total_num_iso_data_packets: int = u8()


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Read_Buffer_Size_V2_Command(HciCommand):
    """Vol 4 Part E 7.8.2, version 2 (OCF 0x0060)."""

    OPCODE: ClassVar[int] = _le(0x0060)
    RETURNS: ClassVar[type[ReturnParameters] | None] = (
        HCI_LE_Read_Buffer_Size_V2_ReturnParameters
    )


@dataclasses.dataclass(frozen=True)
class HCI_LE_Read_Local_Supported_Features_ReturnParameters(ReturnParameters):
    """Vol 4 Part E 7.8.3 (LE feature bits of Vol 6 Part B 4.6, see :mod:`.supported`)."""

    status: int = u8()
    le_features: int = u64()


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Read_Local_Supported_Features_Command(HciCommand):
    """Vol 4 Part E 7.8.3."""

    OPCODE: ClassVar[int] = _le(0x0003)
    RETURNS: ClassVar[type[ReturnParameters] | None] = (
        HCI_LE_Read_Local_Supported_Features_ReturnParameters
    )


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Set_Random_Address_Command(HciCommand):
    """Vol 4 Part E 7.8.4."""

    OPCODE: ClassVar[int] = _le(0x0005)
    random_address: bytes = bd_addr()


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Set_Advertising_Parameters_Command(HciCommand):
    """Vol 4 Part E 7.8.5 (intervals in units of 0.625 ms)."""

    OPCODE: ClassVar[int] = _le(0x0006)
    advertising_interval_min: int = u16()
    advertising_interval_max: int = u16()
    advertising_type: int = u8()
    own_address_type: int = u8()
    peer_address_type: int = u8()
    peer_address: bytes = bd_addr()
    advertising_channel_map: int = u8()
    advertising_filter_policy: int = u8()


@dataclasses.dataclass(frozen=True)
class HCI_LE_Read_Advertising_Physical_Channel_Tx_Power_ReturnParameters(
    ReturnParameters
):
    """Vol 4 Part E 7.8.6."""

    status: int = u8()
    tx_power_level: int = i8()


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Read_Advertising_Physical_Channel_Tx_Power_Command(HciCommand):
    """Vol 4 Part E 7.8.6."""

    OPCODE: ClassVar[int] = _le(0x0007)
    RETURNS: ClassVar[type[ReturnParameters] | None] = (
        HCI_LE_Read_Advertising_Physical_Channel_Tx_Power_ReturnParameters
    )


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Set_Advertising_Data_Command(HciCommand):
    """Vol 4 Part E 7.8.7: Advertising_Data_Length, then 31 octets (zero padded)."""

    OPCODE: ClassVar[int] = _le(0x0008)
    advertising_data: bytes = b""

    def parameters(self) -> bytes:
        return _encode_legacy_data(self.advertising_data, "Advertising_Data")

    @classmethod
    def from_parameters(cls, data: bytes) -> Self:
        return cls(advertising_data=_decode_legacy_data(data, cls.__name__))


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Set_Scan_Response_Data_Command(HciCommand):
    """Vol 4 Part E 7.8.8: Scan_Response_Data_Length, then 31 octets (zero padded)."""

    OPCODE: ClassVar[int] = _le(0x0009)
    scan_response_data: bytes = b""

    def parameters(self) -> bytes:
        return _encode_legacy_data(self.scan_response_data, "Scan_Response_Data")

    @classmethod
    def from_parameters(cls, data: bytes) -> Self:
        return cls(scan_response_data=_decode_legacy_data(data, cls.__name__))


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Set_Advertising_Enable_Command(HciCommand):
    """Vol 4 Part E 7.8.9."""

    OPCODE: ClassVar[int] = _le(0x000A)
    advertising_enable: int = u8()


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Set_Scan_Parameters_Command(HciCommand):
    """Vol 4 Part E 7.8.10 (interval and window in units of 0.625 ms)."""

    OPCODE: ClassVar[int] = _le(0x000B)
    le_scan_type: int = u8()
    le_scan_interval: int = u16()
    le_scan_window: int = u16()
    own_address_type: int = u8()
    scanning_filter_policy: int = u8()


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Set_Scan_Enable_Command(HciCommand):
    """Vol 4 Part E 7.8.11."""

    OPCODE: ClassVar[int] = _le(0x000C)
    le_scan_enable: int = u8()
    filter_duplicates: int = u8()


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Create_Connection_Command(HciCommand):
    """Vol 4 Part E 7.8.12. Answered by Command_Status, then (Enhanced_)Connection_Complete.

    Scan interval/window in 0.625 ms, connection interval in 1.25 ms, supervision
    timeout in 10 ms, CE lengths in 0.625 ms.
    """

    OPCODE: ClassVar[int] = _le(0x000D)
    RETURNS: ClassVar[type[ReturnParameters] | None] = None
    le_scan_interval: int = u16()
    le_scan_window: int = u16()
    initiator_filter_policy: int = u8()
    peer_address_type: int = u8()
    peer_address: bytes = bd_addr()
    own_address_type: int = u8()
    connection_interval_min: int = u16()
    connection_interval_max: int = u16()
    max_latency: int = u16()
    supervision_timeout: int = u16()
    min_ce_length: int = u16()
    max_ce_length: int = u16()


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Create_Connection_Cancel_Command(HciCommand):
    """Vol 4 Part E 7.8.13."""

    OPCODE: ClassVar[int] = _le(0x000E)


@dataclasses.dataclass(frozen=True)
class HCI_LE_Read_Filter_Accept_List_Size_ReturnParameters(ReturnParameters):
    """Vol 4 Part E 7.8.14."""

    status: int = u8()
    filter_accept_list_size: int = u8()


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Read_Filter_Accept_List_Size_Command(HciCommand):
    """Vol 4 Part E 7.8.14."""

    OPCODE: ClassVar[int] = _le(0x000F)
    RETURNS: ClassVar[type[ReturnParameters] | None] = (
        HCI_LE_Read_Filter_Accept_List_Size_ReturnParameters
    )


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Clear_Filter_Accept_List_Command(HciCommand):
    """Vol 4 Part E 7.8.15."""

    OPCODE: ClassVar[int] = _le(0x0010)


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Add_Device_To_Filter_Accept_List_Command(HciCommand):
    """Vol 4 Part E 7.8.16 (Address_Type 0xFF: anonymous advertisements)."""

    OPCODE: ClassVar[int] = _le(0x0011)
    address_type: int = u8()
    address: bytes = bd_addr()


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Remove_Device_From_Filter_Accept_List_Command(HciCommand):
    """Vol 4 Part E 7.8.17."""

    OPCODE: ClassVar[int] = _le(0x0012)
    address_type: int = u8()
    address: bytes = bd_addr()


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Connection_Update_Command(HciCommand):
    """Vol 4 Part E 7.8.18. Answered by Command_Status, then Connection_Update_Complete."""

    OPCODE: ClassVar[int] = _le(0x0013)
    RETURNS: ClassVar[type[ReturnParameters] | None] = None
    connection_handle: int = u16()
    connection_interval_min: int = u16()
    connection_interval_max: int = u16()
    max_latency: int = u16()
    supervision_timeout: int = u16()
    min_ce_length: int = u16()
    max_ce_length: int = u16()


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Set_Host_Channel_Classification_Command(HciCommand):
    """Vol 4 Part E 7.8.19 (Channel_Map: 37 bits, channel index n = bit n)."""

    OPCODE: ClassVar[int] = _le(0x0014)
    channel_map: bytes = fixed(5)


@dataclasses.dataclass(frozen=True)
class HCI_LE_Read_Channel_Map_ReturnParameters(ReturnParameters):
    """Vol 4 Part E 7.8.20."""

    status: int = u8()
    connection_handle: int = u16()
    channel_map: bytes = fixed(5)


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Read_Channel_Map_Command(HciCommand):
    """Vol 4 Part E 7.8.20."""

    OPCODE: ClassVar[int] = _le(0x0015)
    RETURNS: ClassVar[type[ReturnParameters] | None] = (
        HCI_LE_Read_Channel_Map_ReturnParameters
    )
    connection_handle: int = u16()


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Read_Remote_Features_Command(HciCommand):
    """Vol 4 Part E 7.8.21. Completed by LE Read_Remote_Features_Complete."""

    OPCODE: ClassVar[int] = _le(0x0016)
    RETURNS: ClassVar[type[ReturnParameters] | None] = None
    connection_handle: int = u16()


@dataclasses.dataclass(frozen=True)
class HCI_LE_Encrypt_ReturnParameters(ReturnParameters):
    """Vol 4 Part E 7.8.22 (MSO of the block is the last octet on the HCI)."""

    status: int = u8()
    encrypted_data: bytes = fixed(16)


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Encrypt_Command(HciCommand):
    """Vol 4 Part E 7.8.22: AES-128 of Plaintext_Data with Key (both little-endian)."""

    OPCODE: ClassVar[int] = _le(0x0017)
    RETURNS: ClassVar[type[ReturnParameters] | None] = HCI_LE_Encrypt_ReturnParameters
    key: bytes = fixed(16)
    plaintext_data: bytes = fixed(16)


@dataclasses.dataclass(frozen=True)
class HCI_LE_Rand_ReturnParameters(ReturnParameters):
    """Vol 4 Part E 7.8.23."""

    status: int = u8()
    random_number: bytes = fixed(8)


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Rand_Command(HciCommand):
    """Vol 4 Part E 7.8.23."""

    OPCODE: ClassVar[int] = _le(0x0018)
    RETURNS: ClassVar[type[ReturnParameters] | None] = HCI_LE_Rand_ReturnParameters


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Enable_Encryption_Command(HciCommand):
    """Vol 4 Part E 7.8.24. Completed by Encryption_Change or Key_Refresh_Complete."""

    OPCODE: ClassVar[int] = _le(0x0019)
    RETURNS: ClassVar[type[ReturnParameters] | None] = None
    connection_handle: int = u16()
    random_number: bytes = fixed(8)
    encrypted_diversifier: int = u16()
    long_term_key: bytes = fixed(16)


@dataclasses.dataclass(frozen=True)
class HCI_LE_Long_Term_Key_Request_Reply_ReturnParameters(ConnectionHandleReturn):
    """Vol 4 Part E 7.8.25."""


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Long_Term_Key_Request_Reply_Command(HciCommand):
    """Vol 4 Part E 7.8.25."""

    OPCODE: ClassVar[int] = _le(0x001A)
    RETURNS: ClassVar[type[ReturnParameters] | None] = (
        HCI_LE_Long_Term_Key_Request_Reply_ReturnParameters
    )
    connection_handle: int = u16()
    long_term_key: bytes = fixed(16)


@dataclasses.dataclass(frozen=True)
class HCI_LE_Long_Term_Key_Request_Negative_Reply_ReturnParameters(
    ConnectionHandleReturn
):
    """Vol 4 Part E 7.8.26."""


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Long_Term_Key_Request_Negative_Reply_Command(HciCommand):
    """Vol 4 Part E 7.8.26."""

    OPCODE: ClassVar[int] = _le(0x001B)
    RETURNS: ClassVar[type[ReturnParameters] | None] = (
        HCI_LE_Long_Term_Key_Request_Negative_Reply_ReturnParameters
    )
    connection_handle: int = u16()


@dataclasses.dataclass(frozen=True)
class HCI_LE_Read_Supported_States_ReturnParameters(ReturnParameters):
    """Vol 4 Part E 7.8.27."""

    status: int = u8()
    le_states: int = u64()


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Read_Supported_States_Command(HciCommand):
    """Vol 4 Part E 7.8.27."""

    OPCODE: ClassVar[int] = _le(0x001C)
    RETURNS: ClassVar[type[ReturnParameters] | None] = (
        HCI_LE_Read_Supported_States_ReturnParameters
    )


@dataclasses.dataclass(frozen=True)
class HCI_LE_Remote_Connection_Parameter_Request_Reply_ReturnParameters(
    ConnectionHandleReturn
):
    """Vol 4 Part E 7.8.31."""


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Remote_Connection_Parameter_Request_Reply_Command(HciCommand):
    """Vol 4 Part E 7.8.31."""

    OPCODE: ClassVar[int] = _le(0x0020)
    RETURNS: ClassVar[type[ReturnParameters] | None] = (
        HCI_LE_Remote_Connection_Parameter_Request_Reply_ReturnParameters
    )
    connection_handle: int = u16()
    interval_min: int = u16()
    interval_max: int = u16()
    max_latency: int = u16()
    timeout: int = u16()
    min_ce_length: int = u16()
    max_ce_length: int = u16()


@dataclasses.dataclass(frozen=True)
class HCI_LE_Remote_Connection_Parameter_Request_Negative_Reply_ReturnParameters(
    ConnectionHandleReturn
):
    """Vol 4 Part E 7.8.32."""


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Remote_Connection_Parameter_Request_Negative_Reply_Command(HciCommand):
    """Vol 4 Part E 7.8.32."""

    OPCODE: ClassVar[int] = _le(0x0021)
    RETURNS: ClassVar[type[ReturnParameters] | None] = (
        HCI_LE_Remote_Connection_Parameter_Request_Negative_Reply_ReturnParameters
    )
    connection_handle: int = u16()
    reason: int = u8()


@dataclasses.dataclass(frozen=True)
class HCI_LE_Set_Data_Length_ReturnParameters(ConnectionHandleReturn):
    """Vol 4 Part E 7.8.33."""


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Set_Data_Length_Command(HciCommand):
    """Vol 4 Part E 7.8.33 (TX_Time in µs)."""

    OPCODE: ClassVar[int] = _le(0x0022)
    RETURNS: ClassVar[type[ReturnParameters] | None] = (
        HCI_LE_Set_Data_Length_ReturnParameters
    )
    connection_handle: int = u16()
    tx_octets: int = u16()
    tx_time: int = u16()


@dataclasses.dataclass(frozen=True)
class HCI_LE_Read_Suggested_Default_Data_Length_ReturnParameters(ReturnParameters):
    """Vol 4 Part E 7.8.34."""

    status: int = u8()
    suggested_max_tx_octets: int = u16()
    suggested_max_tx_time: int = u16()


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Read_Suggested_Default_Data_Length_Command(HciCommand):
    """Vol 4 Part E 7.8.34."""

    OPCODE: ClassVar[int] = _le(0x0023)
    RETURNS: ClassVar[type[ReturnParameters] | None] = (
        HCI_LE_Read_Suggested_Default_Data_Length_ReturnParameters
    )


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Write_Suggested_Default_Data_Length_Command(HciCommand):
    """Vol 4 Part E 7.8.35."""

    OPCODE: ClassVar[int] = _le(0x0024)
    suggested_max_tx_octets: int = u16()
    suggested_max_tx_time: int = u16()


__all__ = [
    "LEGACY_ADVERTISING_DATA_SIZE",
    "HCI_LE_Set_Event_Mask_Command",
    "HCI_LE_Read_Buffer_Size_ReturnParameters",
    "HCI_LE_Read_Buffer_Size_Command",
    "HCI_LE_Read_Buffer_Size_V2_ReturnParameters",
    "HCI_LE_Read_Buffer_Size_V2_Command",
    "HCI_LE_Read_Local_Supported_Features_ReturnParameters",
    "HCI_LE_Read_Local_Supported_Features_Command",
    "HCI_LE_Set_Random_Address_Command",
    "HCI_LE_Set_Advertising_Parameters_Command",
    "HCI_LE_Read_Advertising_Physical_Channel_Tx_Power_ReturnParameters",
    "HCI_LE_Read_Advertising_Physical_Channel_Tx_Power_Command",
    "HCI_LE_Set_Advertising_Data_Command",
    "HCI_LE_Set_Scan_Response_Data_Command",
    "HCI_LE_Set_Advertising_Enable_Command",
    "HCI_LE_Set_Scan_Parameters_Command",
    "HCI_LE_Set_Scan_Enable_Command",
    "HCI_LE_Create_Connection_Command",
    "HCI_LE_Create_Connection_Cancel_Command",
    "HCI_LE_Read_Filter_Accept_List_Size_ReturnParameters",
    "HCI_LE_Read_Filter_Accept_List_Size_Command",
    "HCI_LE_Clear_Filter_Accept_List_Command",
    "HCI_LE_Add_Device_To_Filter_Accept_List_Command",
    "HCI_LE_Remove_Device_From_Filter_Accept_List_Command",
    "HCI_LE_Connection_Update_Command",
    "HCI_LE_Set_Host_Channel_Classification_Command",
    "HCI_LE_Read_Channel_Map_ReturnParameters",
    "HCI_LE_Read_Channel_Map_Command",
    "HCI_LE_Read_Remote_Features_Command",
    "HCI_LE_Encrypt_ReturnParameters",
    "HCI_LE_Encrypt_Command",
    "HCI_LE_Rand_ReturnParameters",
    "HCI_LE_Rand_Command",
    "HCI_LE_Enable_Encryption_Command",
    "HCI_LE_Long_Term_Key_Request_Reply_ReturnParameters",
    "HCI_LE_Long_Term_Key_Request_Reply_Command",
    "HCI_LE_Long_Term_Key_Request_Negative_Reply_ReturnParameters",
    "HCI_LE_Long_Term_Key_Request_Negative_Reply_Command",
    "HCI_LE_Read_Supported_States_ReturnParameters",
    "HCI_LE_Read_Supported_States_Command",
    "HCI_LE_Remote_Connection_Parameter_Request_Reply_ReturnParameters",
    "HCI_LE_Remote_Connection_Parameter_Request_Reply_Command",
    "HCI_LE_Remote_Connection_Parameter_Request_Negative_Reply_ReturnParameters",
    "HCI_LE_Remote_Connection_Parameter_Request_Negative_Reply_Command",
    "HCI_LE_Set_Data_Length_ReturnParameters",
    "HCI_LE_Set_Data_Length_Command",
    "HCI_LE_Read_Suggested_Default_Data_Length_ReturnParameters",
    "HCI_LE_Read_Suggested_Default_Data_Length_Command",
    "HCI_LE_Write_Suggested_Default_Data_Length_Command",
]
