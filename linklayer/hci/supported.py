"""What a Controller says it supports: the Supported_Commands bitmap and LE features.

Theory of operation
-------------------
``HCI_Read_Local_Supported_Commands`` returns 64 octets in which one bit stands for
one command (Vol 4 Part E 6.27): :data:`SUPPORTED_COMMANDS` maps the opcode of every
command blesim implements to its (octet, bit), :func:`supported_commands_bitmap` builds
the 64 octets for a set of opcodes and :func:`is_supported` reads one back.
``HCI_Read_Local_Supported_Commands`` itself has no bit: a Controller that answers it
supports it.

``HCI_LE_Read_Local_Supported_Features`` and the LL feature exchange carry the LE
feature bit mask of Vol 6 Part B 4.6, :class:`LeFeature` (bit n of the 64-bit
little-endian FeatureSet is ``1 << n``).
"""

from __future__ import annotations

import enum
from typing import Iterable

from . import commands as c
from . import le_commands as le
from . import le_ext_commands as lx

SUPPORTED_COMMANDS_SIZE = 64

#: Opcode -> (octet, bit) in the Supported_Commands bitmap (Vol 4 Part E 6.27).
SUPPORTED_COMMANDS: dict[int, tuple[int, int]] = {
    c.HCI_Disconnect_Command.OPCODE: (0, 5),
    c.HCI_Read_Remote_Version_Information_Command.OPCODE: (2, 7),
    c.HCI_Set_Event_Mask_Command.OPCODE: (5, 6),
    c.HCI_Reset_Command.OPCODE: (5, 7),
    c.HCI_Read_Transmit_Power_Level_Command.OPCODE: (10, 2),
    c.HCI_Set_Controller_To_Host_Flow_Control_Command.OPCODE: (10, 5),
    c.HCI_Host_Buffer_Size_Command.OPCODE: (10, 6),
    c.HCI_Host_Number_Of_Completed_Packets_Command.OPCODE: (10, 7),
    c.HCI_Read_Local_Version_Information_Command.OPCODE: (14, 3),
    c.HCI_Read_Local_Supported_Features_Command.OPCODE: (14, 5),
    c.HCI_Read_Buffer_Size_Command.OPCODE: (14, 7),
    c.HCI_Read_BD_ADDR_Command.OPCODE: (15, 1),
    c.HCI_Read_RSSI_Command.OPCODE: (15, 5),
    c.HCI_Set_Event_Mask_Page_2_Command.OPCODE: (22, 2),
    c.HCI_Read_LE_Host_Support_Command.OPCODE: (24, 5),
    c.HCI_Write_LE_Host_Support_Command.OPCODE: (24, 6),
    le.HCI_LE_Set_Event_Mask_Command.OPCODE: (25, 0),
    le.HCI_LE_Read_Buffer_Size_Command.OPCODE: (25, 1),
    le.HCI_LE_Read_Local_Supported_Features_Command.OPCODE: (25, 2),
    le.HCI_LE_Set_Random_Address_Command.OPCODE: (25, 4),
    le.HCI_LE_Set_Advertising_Parameters_Command.OPCODE: (25, 5),
    le.HCI_LE_Read_Advertising_Physical_Channel_Tx_Power_Command.OPCODE: (25, 6),
    le.HCI_LE_Set_Advertising_Data_Command.OPCODE: (25, 7),
    le.HCI_LE_Set_Scan_Response_Data_Command.OPCODE: (26, 0),
    le.HCI_LE_Set_Advertising_Enable_Command.OPCODE: (26, 1),
    le.HCI_LE_Set_Scan_Parameters_Command.OPCODE: (26, 2),
    le.HCI_LE_Set_Scan_Enable_Command.OPCODE: (26, 3),
    le.HCI_LE_Create_Connection_Command.OPCODE: (26, 4),
    le.HCI_LE_Create_Connection_Cancel_Command.OPCODE: (26, 5),
    le.HCI_LE_Read_Filter_Accept_List_Size_Command.OPCODE: (26, 6),
    le.HCI_LE_Clear_Filter_Accept_List_Command.OPCODE: (26, 7),
    le.HCI_LE_Add_Device_To_Filter_Accept_List_Command.OPCODE: (27, 0),
    le.HCI_LE_Remove_Device_From_Filter_Accept_List_Command.OPCODE: (27, 1),
    le.HCI_LE_Connection_Update_Command.OPCODE: (27, 2),
    le.HCI_LE_Set_Host_Channel_Classification_Command.OPCODE: (27, 3),
    le.HCI_LE_Read_Channel_Map_Command.OPCODE: (27, 4),
    le.HCI_LE_Read_Remote_Features_Command.OPCODE: (27, 5),
    le.HCI_LE_Encrypt_Command.OPCODE: (27, 6),
    le.HCI_LE_Rand_Command.OPCODE: (27, 7),
    le.HCI_LE_Enable_Encryption_Command.OPCODE: (28, 0),
    le.HCI_LE_Long_Term_Key_Request_Reply_Command.OPCODE: (28, 1),
    le.HCI_LE_Long_Term_Key_Request_Negative_Reply_Command.OPCODE: (28, 2),
    le.HCI_LE_Read_Supported_States_Command.OPCODE: (28, 3),
    c.HCI_Read_Authenticated_Payload_Timeout_Command.OPCODE: (32, 4),
    c.HCI_Write_Authenticated_Payload_Timeout_Command.OPCODE: (32, 5),
    le.HCI_LE_Remote_Connection_Parameter_Request_Reply_Command.OPCODE: (33, 4),
    le.HCI_LE_Remote_Connection_Parameter_Request_Negative_Reply_Command.OPCODE: (33, 5),
    le.HCI_LE_Set_Data_Length_Command.OPCODE: (33, 6),
    le.HCI_LE_Read_Suggested_Default_Data_Length_Command.OPCODE: (33, 7),
    le.HCI_LE_Write_Suggested_Default_Data_Length_Command.OPCODE: (34, 0),
    lx.HCI_LE_Read_Local_P256_Public_Key_Command.OPCODE: (34, 1),
    lx.HCI_LE_Generate_DHKey_Command.OPCODE: (34, 2),
    lx.HCI_LE_Add_Device_To_Resolving_List_Command.OPCODE: (34, 3),
    lx.HCI_LE_Remove_Device_From_Resolving_List_Command.OPCODE: (34, 4),
    lx.HCI_LE_Clear_Resolving_List_Command.OPCODE: (34, 5),
    lx.HCI_LE_Read_Resolving_List_Size_Command.OPCODE: (34, 6),
    lx.HCI_LE_Read_Peer_Resolvable_Address_Command.OPCODE: (34, 7),
    lx.HCI_LE_Read_Local_Resolvable_Address_Command.OPCODE: (35, 0),
    lx.HCI_LE_Set_Address_Resolution_Enable_Command.OPCODE: (35, 1),
    lx.HCI_LE_Set_Resolvable_Private_Address_Timeout_Command.OPCODE: (35, 2),
    lx.HCI_LE_Read_Maximum_Data_Length_Command.OPCODE: (35, 3),
    lx.HCI_LE_Read_PHY_Command.OPCODE: (35, 4),
    lx.HCI_LE_Set_Default_PHY_Command.OPCODE: (35, 5),
    lx.HCI_LE_Set_PHY_Command.OPCODE: (35, 6),
    lx.HCI_LE_Set_Advertising_Set_Random_Address_Command.OPCODE: (36, 1),
    lx.HCI_LE_Set_Extended_Advertising_Parameters_Command.OPCODE: (36, 2),
    lx.HCI_LE_Set_Extended_Advertising_Data_Command.OPCODE: (36, 3),
    lx.HCI_LE_Set_Extended_Scan_Response_Data_Command.OPCODE: (36, 4),
    lx.HCI_LE_Set_Extended_Advertising_Enable_Command.OPCODE: (36, 5),
    lx.HCI_LE_Read_Maximum_Advertising_Data_Length_Command.OPCODE: (36, 6),
    lx.HCI_LE_Read_Number_of_Supported_Advertising_Sets_Command.OPCODE: (36, 7),
    lx.HCI_LE_Remove_Advertising_Set_Command.OPCODE: (37, 0),
    lx.HCI_LE_Clear_Advertising_Sets_Command.OPCODE: (37, 1),
    lx.HCI_LE_Set_Extended_Scan_Parameters_Command.OPCODE: (37, 5),
    lx.HCI_LE_Set_Extended_Scan_Enable_Command.OPCODE: (37, 6),
    lx.HCI_LE_Extended_Create_Connection_Command.OPCODE: (37, 7),
    lx.HCI_LE_Read_Transmit_Power_Command.OPCODE: (38, 7),
    lx.HCI_LE_Set_Privacy_Mode_Command.OPCODE: (39, 2),
    le.HCI_LE_Read_Buffer_Size_V2_Command.OPCODE: (41, 5),
}

#: Commands with no bit in the bitmap, supported by every Controller.
ALWAYS_SUPPORTED: frozenset[int] = frozenset(
    {c.HCI_Read_Local_Supported_Commands_Command.OPCODE}
)


def supported_commands_bitmap(opcodes: Iterable[int]) -> bytes:
    """The 64-octet Supported_Commands parameter with the bits of ``opcodes`` set.

    Opcodes without a bit (:data:`ALWAYS_SUPPORTED`) are ignored; an opcode blesim does
    not know raises ``KeyError``.
    """
    bitmap = bytearray(SUPPORTED_COMMANDS_SIZE)
    for op in opcodes:
        if op in ALWAYS_SUPPORTED:
            continue
        try:
            octet, bit = SUPPORTED_COMMANDS[op]
        except KeyError:
            raise KeyError(f"no Supported_Commands bit known for opcode 0x{op:04x}") from None
        bitmap[octet] |= 1 << bit
    return bytes(bitmap)


def is_supported(bitmap: bytes, opcode: int) -> bool:
    """Whether ``bitmap`` (Supported_Commands) marks ``opcode`` as supported.

    Unknown opcodes, and bits beyond a short bitmap, read as not supported.
    """
    if opcode in ALWAYS_SUPPORTED:
        return True
    position = SUPPORTED_COMMANDS.get(opcode)
    if position is None:
        return False
    octet, bit = position
    return octet < len(bitmap) and bool(bitmap[octet] >> bit & 1)


class LeFeature(enum.IntFlag):
    """LE feature bits of the FeatureSet (Vol 6 Part B 4.6)."""

    LE_ENCRYPTION = 1 << 0
    CONNECTION_PARAMETERS_REQUEST_PROCEDURE = 1 << 1
    EXTENDED_REJECT_INDICATION = 1 << 2
    PERIPHERAL_INITIATED_FEATURES_EXCHANGE = 1 << 3
    LE_PING = 1 << 4
    LE_DATA_PACKET_LENGTH_EXTENSION = 1 << 5
    LL_PRIVACY = 1 << 6
    EXTENDED_SCANNER_FILTER_POLICIES = 1 << 7
    LE_2M_PHY = 1 << 8
    STABLE_MODULATION_INDEX_TRANSMITTER = 1 << 9
    STABLE_MODULATION_INDEX_RECEIVER = 1 << 10
    LE_CODED_PHY = 1 << 11
    LE_EXTENDED_ADVERTISING = 1 << 12
    LE_PERIODIC_ADVERTISING = 1 << 13
    CHANNEL_SELECTION_ALGORITHM_2 = 1 << 14
    LE_POWER_CLASS_1 = 1 << 15
    MINIMUM_NUMBER_OF_USED_CHANNELS_PROCEDURE = 1 << 16
    CONNECTION_CTE_REQUEST = 1 << 17
    CONNECTION_CTE_RESPONSE = 1 << 18
    CONNECTIONLESS_CTE_TRANSMITTER = 1 << 19
    CONNECTIONLESS_CTE_RECEIVER = 1 << 20
    ANTENNA_SWITCHING_DURING_CTE_TRANSMISSION = 1 << 21
    ANTENNA_SWITCHING_DURING_CTE_RECEPTION = 1 << 22
    RECEIVING_CONSTANT_TONE_EXTENSIONS = 1 << 23
    PERIODIC_ADVERTISING_SYNC_TRANSFER_SENDER = 1 << 24
    PERIODIC_ADVERTISING_SYNC_TRANSFER_RECIPIENT = 1 << 25
    SLEEP_CLOCK_ACCURACY_UPDATES = 1 << 26
    REMOTE_PUBLIC_KEY_VALIDATION = 1 << 27
    CONNECTED_ISOCHRONOUS_STREAM_CENTRAL = 1 << 28
    CONNECTED_ISOCHRONOUS_STREAM_PERIPHERAL = 1 << 29
    ISOCHRONOUS_BROADCASTER = 1 << 30
    SYNCHRONIZED_RECEIVER = 1 << 31
    CONNECTED_ISOCHRONOUS_STREAM_HOST_SUPPORT = 1 << 32
    LE_POWER_CONTROL_REQUEST = 1 << 33
    LE_POWER_CONTROL_REQUEST_2 = 1 << 34  # the spec sets both bits 33 and 34 for this feature
    LE_POWER_CHANGE_INDICATION = 1 << 34
    LE_PATH_LOSS_MONITORING = 1 << 35
    PERIODIC_ADVERTISING_ADI_SUPPORT = 1 << 36
    CONNECTION_SUBRATING = 1 << 37
    CONNECTION_SUBRATING_HOST_SUPPORT = 1 << 38
    CHANNEL_CLASSIFICATION = 1 << 39
    ADVERTISING_CODING_SELECTION = 1 << 40
    ADVERTISING_CODING_SELECTION_HOST_SUPPORT = 1 << 41
    DECISION_BASED_ADVERTISING_FILTERING = 1 << 42
    PERIODIC_ADVERTISING_WITH_RESPONSES_ADVERTISER = 1 << 43
    PERIODIC_ADVERTISING_WITH_RESPONSES_SCANNER = 1 << 44
    UNSEGMENTED_FRAMED_MODE = 1 << 45
    CHANNEL_SOUNDING = 1 << 46
    CHANNEL_SOUNDING_HOST_SUPPORT = 1 << 47
    CHANNEL_SOUNDING_TONE_QUALITY_INDICATION = 1 << 48


def le_features_to_bytes(features: int) -> bytes:
    """The 8-octet little-endian FeatureSet (as in LL_FEATURE_REQ/RSP)."""
    return int(features).to_bytes(8, "little")


def le_features_from_bytes(data: bytes) -> LeFeature:
    """Decode an 8-octet little-endian FeatureSet (unknown bits are kept)."""
    if len(data) != 8:
        raise ValueError(f"a FeatureSet has 8 octets, not {len(data)}")
    return LeFeature(int.from_bytes(data, "little"))


__all__ = [
    "SUPPORTED_COMMANDS_SIZE",
    "SUPPORTED_COMMANDS",
    "ALWAYS_SUPPORTED",
    "supported_commands_bitmap",
    "is_supported",
    "LeFeature",
    "le_features_to_bytes",
    "le_features_from_bytes",
]
