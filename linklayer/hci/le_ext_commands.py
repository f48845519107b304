"""LE Controller commands, part 2 (Vol 4 Part E 7.8.36 – 7.8.77).

Theory of operation
-------------------
The LE commands of Bluetooth 4.2 and 5.x that blesim implements: P-256 key generation
and DHKey, the resolving list and address resolution, data length and PHY management,
extended advertising sets, extended scanning, extended connection creation, transmit
power, and privacy mode. Same conventions as :mod:`.le_commands`.

Three commands carry arrays (Vol 4 Part E 5.2: the parameters of one element follow
each other): ``HCI_LE_Set_Extended_Advertising_Enable`` has Num_Sets elements, and
``HCI_LE_Set_Extended_Scan_Parameters`` / ``HCI_LE_Extended_Create_Connection`` have one
element per bit set in their PHYs bit field, in increasing bit order (1M, [2M,] Coded).
The dataclasses hold the elements as tuples of small entry dataclasses; the encoders
refuse an element count that does not match the bit field, the decoders raise
:class:`~linklayer.hci.codec.HciDecodeError`.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar, Self

from .arrays import (
    bit_count,
    count_octet,
    decode_entries,
    decode_entry,
    encode_entries,
    expect_end,
    read_u8,
)
from .codec import (
    HciCommand,
    Packed,
    ReturnParameters,
    bd_addr,
    fixed,
    i8,
    length_prefixed,
    opcode,
    u8,
    u16,
    u24,
)
from .commands import OGF_LE_CONTROLLER
from .registry import command


def _le(ocf: int) -> int:
    return opcode(OGF_LE_CONTROLLER, ocf)


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Read_Local_P256_Public_Key_Command(HciCommand):
    """Vol 4 Part E 7.8.36. Completed by LE Read_Local_P256_Public_Key_Complete."""

    OPCODE: ClassVar[int] = _le(0x0025)
    RETURNS: ClassVar[type[ReturnParameters] | None] = None


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Generate_DHKey_Command(HciCommand):
    """Vol 4 Part E 7.8.37 (version 1): X then Y, each 32 octets little-endian."""

    OPCODE: ClassVar[int] = _le(0x0026)
    RETURNS: ClassVar[type[ReturnParameters] | None] = None
    remote_p256_public_key: bytes = fixed(64)


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Add_Device_To_Resolving_List_Command(HciCommand):
    """Vol 4 Part E 7.8.38."""

    OPCODE: ClassVar[int] = _le(0x0027)
    peer_identity_address_type: int = u8()
    peer_identity_address: bytes = bd_addr()
    peer_irk: bytes = fixed(16)
    local_irk: bytes = fixed(16)


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Remove_Device_From_Resolving_List_Command(HciCommand):
    """Vol 4 Part E 7.8.39."""

    OPCODE: ClassVar[int] = _le(0x0028)
    peer_identity_address_type: int = u8()
    peer_identity_address: bytes = bd_addr()


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Clear_Resolving_List_Command(HciCommand):
    """Vol 4 Part E 7.8.40."""

    OPCODE: ClassVar[int] = _le(0x0029)


@dataclasses.dataclass(frozen=True)
class HCI_LE_Read_Resolving_List_Size_ReturnParameters(ReturnParameters):
    """Vol 4 Part E 7.8.41."""

    status: int = u8()
    resolving_list_size: int = u8()


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Read_Resolving_List_Size_Command(HciCommand):
    """Vol 4 Part E 7.8.41."""

    OPCODE: ClassVar[int] = _le(0x002A)
    RETURNS: ClassVar[type[ReturnParameters] | None] = (
        HCI_LE_Read_Resolving_List_Size_ReturnParameters
    )


@dataclasses.dataclass(frozen=True)
class HCI_LE_Read_Peer_Resolvable_Address_ReturnParameters(ReturnParameters):
    """Vol 4 Part E 7.8.42."""

    status: int = u8()
    peer_resolvable_address: bytes = bd_addr()


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Read_Peer_Resolvable_Address_Command(HciCommand):
    """Vol 4 Part E 7.8.42."""

    OPCODE: ClassVar[int] = _le(0x002B)
    RETURNS: ClassVar[type[ReturnParameters] | None] = (
        HCI_LE_Read_Peer_Resolvable_Address_ReturnParameters
    )
    peer_identity_address_type: int = u8()
    peer_identity_address: bytes = bd_addr()


@dataclasses.dataclass(frozen=True)
class HCI_LE_Read_Local_Resolvable_Address_ReturnParameters(ReturnParameters):
    """Vol 4 Part E 7.8.43."""

    status: int = u8()
    local_resolvable_address: bytes = bd_addr()


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Read_Local_Resolvable_Address_Command(HciCommand):
    """Vol 4 Part E 7.8.43."""

    OPCODE: ClassVar[int] = _le(0x002C)
    RETURNS: ClassVar[type[ReturnParameters] | None] = (
        HCI_LE_Read_Local_Resolvable_Address_ReturnParameters
    )
    peer_identity_address_type: int = u8()
    peer_identity_address: bytes = bd_addr()


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Set_Address_Resolution_Enable_Command(HciCommand):
    """Vol 4 Part E 7.8.44."""

    OPCODE: ClassVar[int] = _le(0x002D)
    address_resolution_enable: int = u8()


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Set_Resolvable_Private_Address_Timeout_Command(HciCommand):
    """Vol 4 Part E 7.8.45 (RPA_Timeout in seconds)."""

    OPCODE: ClassVar[int] = _le(0x002E)
    rpa_timeout: int = u16()


@dataclasses.dataclass(frozen=True)
class HCI_LE_Read_Maximum_Data_Length_ReturnParameters(ReturnParameters):
    """Vol 4 Part E 7.8.46."""

    status: int = u8()
    supported_max_tx_octets: int = u16()
    supported_max_tx_time: int = u16()
    supported_max_rx_octets: int = u16()
    supported_max_rx_time: int = u16()


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Read_Maximum_Data_Length_Command(HciCommand):
    """Vol 4 Part E 7.8.46."""

    OPCODE: ClassVar[int] = _le(0x002F)
    RETURNS: ClassVar[type[ReturnParameters] | None] = (
        HCI_LE_Read_Maximum_Data_Length_ReturnParameters
    )


@dataclasses.dataclass(frozen=True)
class HCI_LE_Read_PHY_ReturnParameters(ReturnParameters):
    """Vol 4 Part E 7.8.47 (PHY: 1 = LE 1M, 2 = LE 2M, 3 = LE Coded)."""

    status: int = u8()
    connection_handle: int = u16()
    tx_phy: int = u8()
    rx_phy: int = u8()


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Read_PHY_Command(HciCommand):
    """Vol 4 Part E 7.8.47."""

    OPCODE: ClassVar[int] = _le(0x0030)
    RETURNS: ClassVar[type[ReturnParameters] | None] = HCI_LE_Read_PHY_ReturnParameters
    connection_handle: int = u16()


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Set_Default_PHY_Command(HciCommand):
    """Vol 4 Part E 7.8.48 (PHYs bit fields: bit 0 1M, bit 1 2M, bit 2 Coded)."""

    OPCODE: ClassVar[int] = _le(0x0031)
    all_phys: int = u8()
    tx_phys: int = u8()
    rx_phys: int = u8()


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Set_PHY_Command(HciCommand):
    """Vol 4 Part E 7.8.49. Completed by LE PHY_Update_Complete."""

    OPCODE: ClassVar[int] = _le(0x0032)
    RETURNS: ClassVar[type[ReturnParameters] | None] = None
    connection_handle: int = u16()
    all_phys: int = u8()
    tx_phys: int = u8()
    rx_phys: int = u8()
    phy_options: int = u16()


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Set_Advertising_Set_Random_Address_Command(HciCommand):
    """Vol 4 Part E 7.8.52."""

    OPCODE: ClassVar[int] = _le(0x0035)
    advertising_handle: int = u8()
    random_address: bytes = bd_addr()


@dataclasses.dataclass(frozen=True)
class HCI_LE_Set_Extended_Advertising_Parameters_ReturnParameters(ReturnParameters):
    """Vol 4 Part E 7.8.53."""

    status: int = u8()
    selected_tx_power: int = i8()


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Set_Extended_Advertising_Parameters_Command(HciCommand):
    """Vol 4 Part E 7.8.53 (version 1; primary intervals in 0.625 ms, 3 octets)."""

    OPCODE: ClassVar[int] = _le(0x0036)
    RETURNS: ClassVar[type[ReturnParameters] | None] = (
        HCI_LE_Set_Extended_Advertising_Parameters_ReturnParameters
    )
    advertising_handle: int = u8()
    advertising_event_properties: int = u16()
    primary_advertising_interval_min: int = u24()
    primary_advertising_interval_max: int = u24()
    primary_advertising_channel_map: int = u8()
    own_address_type: int = u8()
    peer_address_type: int = u8()
    peer_address: bytes = bd_addr()
    advertising_filter_policy: int = u8()
    advertising_tx_power: int = i8()
    primary_advertising_phy: int = u8()
    secondary_advertising_max_skip: int = u8()
    secondary_advertising_phy: int = u8()
    advertising_sid: int = u8()
    scan_request_notification_enable: int = u8()


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Set_Extended_Advertising_Data_Command(HciCommand):
    """Vol 4 Part E 7.8.54 (Operation: 0 intermediate, 1 first, 2 last, 3 complete,
    4 unchanged data)."""

    OPCODE: ClassVar[int] = _le(0x0037)
    advertising_handle: int = u8()
    operation: int = u8()
    fragment_preference: int = u8()
    advertising_data: bytes = length_prefixed()


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Set_Extended_Scan_Response_Data_Command(HciCommand):
    """Vol 4 Part E 7.8.55."""

    OPCODE: ClassVar[int] = _le(0x0038)
    advertising_handle: int = u8()
    operation: int = u8()
    fragment_preference: int = u8()
    scan_response_data: bytes = length_prefixed()


@dataclasses.dataclass(frozen=True)
class AdvertisingSetEnable(Packed):
    """One set of HCI_LE_Set_Extended_Advertising_Enable (Vol 4 Part E 7.8.56).

    Duration in units of 10 ms (0: until disabled); Max_Extended_Advertising_Events
    0 means no limit.
    """

    advertising_handle: int = u8()
    duration: int = u16(0)
    max_extended_advertising_events: int = u8(0)


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Set_Extended_Advertising_Enable_Command(HciCommand):
    """Vol 4 Part E 7.8.56: Enable, Num_Sets, then the sets.

    Enable = 0 with no sets disables every advertising set.
    """

    OPCODE: ClassVar[int] = _le(0x0039)
    enable: int = u8()
    sets: tuple[AdvertisingSetEnable, ...] = ()

    def parameters(self) -> bytes:
        return (
            bytes([self.enable])
            + count_octet(self.sets, "Num_Sets")
            + encode_entries(self.sets)
        )

    @classmethod
    def from_parameters(cls, data: bytes) -> Self:
        enable, offset = read_u8(data, 0, "Enable")
        count, offset = read_u8(data, offset, "Num_Sets")
        sets, offset = decode_entries(AdvertisingSetEnable, data, offset, count)
        expect_end(cls, data, offset)
        return cls(enable=enable, sets=sets)


@dataclasses.dataclass(frozen=True)
class HCI_LE_Read_Maximum_Advertising_Data_Length_ReturnParameters(ReturnParameters):
    """Vol 4 Part E 7.8.57."""

    status: int = u8()
    max_advertising_data_length: int = u16()


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Read_Maximum_Advertising_Data_Length_Command(HciCommand):
    """Vol 4 Part E 7.8.57."""

    OPCODE: ClassVar[int] = _le(0x003A)
    RETURNS: ClassVar[type[ReturnParameters] | None] = (
        HCI_LE_Read_Maximum_Advertising_Data_Length_ReturnParameters
    )


@dataclasses.dataclass(frozen=True)
class HCI_LE_Read_Number_of_Supported_Advertising_Sets_ReturnParameters(
    ReturnParameters
):
    """Vol 4 Part E 7.8.58."""

    status: int = u8()
    num_supported_advertising_sets: int = u8()


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Read_Number_of_Supported_Advertising_Sets_Command(HciCommand):
    """Vol 4 Part E 7.8.58."""

    OPCODE: ClassVar[int] = _le(0x003B)
    RETURNS: ClassVar[type[ReturnParameters] | None] = (
        HCI_LE_Read_Number_of_Supported_Advertising_Sets_ReturnParameters
    )


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Remove_Advertising_Set_Command(HciCommand):
    """Vol 4 Part E 7.8.59."""

    OPCODE: ClassVar[int] = _le(0x003C)
    advertising_handle: int = u8()


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Clear_Advertising_Sets_Command(HciCommand):
    """Vol 4 Part E 7.8.60."""

    OPCODE: ClassVar[int] = _le(0x003D)


@dataclasses.dataclass(frozen=True)
class ExtendedScanParameters(Packed):
    """One PHY's element of HCI_LE_Set_Extended_Scan_Parameters (Vol 4 Part E 7.8.64).

    Interval and window in units of 0.625 ms.
    """

    scan_type: int = u8()
    scan_interval: int = u16()
    scan_window: int = u16()


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Set_Extended_Scan_Parameters_Command(HciCommand):
    """Vol 4 Part E 7.8.64: one element per bit set in Scanning_PHYs (1M, then Coded)."""

    OPCODE: ClassVar[int] = _le(0x0041)
    own_address_type: int = u8()
    scanning_filter_policy: int = u8()
    scanning_phys: int = u8()
    phys: tuple[ExtendedScanParameters, ...] = ()

    def parameters(self) -> bytes:
        if len(self.phys) != bit_count(self.scanning_phys):
            raise ValueError(
                f"Scanning_PHYs 0x{self.scanning_phys:02x} selects "
                f"{bit_count(self.scanning_phys)} element(s), got {len(self.phys)}"
            )
        return (
            bytes([self.own_address_type, self.scanning_filter_policy, self.scanning_phys])
            + encode_entries(self.phys)
        )

    @classmethod
    def from_parameters(cls, data: bytes) -> Self:
        own, offset = read_u8(data, 0, "Own_Address_Type")
        policy, offset = read_u8(data, offset, "Scanning_Filter_Policy")
        phys_bits, offset = read_u8(data, offset, "Scanning_PHYs")
        phys, offset = decode_entries(
            ExtendedScanParameters, data, offset, bit_count(phys_bits)
        )
        expect_end(cls, data, offset)
        return cls(
            own_address_type=own,
            scanning_filter_policy=policy,
            scanning_phys=phys_bits,
            phys=phys,
        )


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Set_Extended_Scan_Enable_Command(HciCommand):
    """Vol 4 Part E 7.8.65 (Duration in 10 ms, Period in 1.28 s)."""

    OPCODE: ClassVar[int] = _le(0x0042)
    enable: int = u8()
    filter_duplicates: int = u8()
    duration: int = u16()
    period: int = u16()


@dataclasses.dataclass(frozen=True)
class ExtendedCreateConnectionParameters(Packed):
    """One PHY's element of HCI_LE_Extended_Create_Connection (Vol 4 Part E 7.8.66)."""

    scan_interval: int = u16()
    scan_window: int = u16()
    connection_interval_min: int = u16()
    connection_interval_max: int = u16()
    max_latency: int = u16()
    supervision_timeout: int = u16()
    min_ce_length: int = u16()
    max_ce_length: int = u16()


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Extended_Create_Connection_Command(HciCommand):
    """Vol 4 Part E 7.8.66 (version 1): one element per bit set in Initiating_PHYs.

    Answered by Command_Status, then Enhanced_Connection_Complete.
    """

    OPCODE: ClassVar[int] = _le(0x0043)
    RETURNS: ClassVar[type[ReturnParameters] | None] = None
    initiator_filter_policy: int = u8()
    own_address_type: int = u8()
    peer_address_type: int = u8()
    peer_address: bytes = bd_addr()
    initiating_phys: int = u8()
    phys: tuple[ExtendedCreateConnectionParameters, ...] = ()

    def parameters(self) -> bytes:
        if len(self.phys) != bit_count(self.initiating_phys):
            raise ValueError(
                f"Initiating_PHYs 0x{self.initiating_phys:02x} selects "
                f"{bit_count(self.initiating_phys)} element(s), got {len(self.phys)}"
            )
        return super().parameters() + encode_entries(self.phys)

    @classmethod
    def from_parameters(cls, data: bytes) -> Self:
        head, offset = decode_entry(_ExtendedCreateConnectionHead, data, 0)
        phys, offset = decode_entries(
            ExtendedCreateConnectionParameters,
            data,
            offset,
            bit_count(head.initiating_phys),
        )
        expect_end(cls, data, offset)
        return cls(
            initiator_filter_policy=head.initiator_filter_policy,
            own_address_type=head.own_address_type,
            peer_address_type=head.peer_address_type,
            peer_address=head.peer_address,
            initiating_phys=head.initiating_phys,
            phys=phys,
        )


@dataclasses.dataclass(frozen=True)
class _ExtendedCreateConnectionHead(Packed):
    initiator_filter_policy: int = u8()
    own_address_type: int = u8()
    peer_address_type: int = u8()
    peer_address: bytes = bd_addr()
    initiating_phys: int = u8()


@dataclasses.dataclass(frozen=True)
class HCI_LE_Read_Transmit_Power_ReturnParameters(ReturnParameters):
    """Vol 4 Part E 7.8.74."""

    status: int = u8()
    min_tx_power: int = i8()
    max_tx_power: int = i8()


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Read_Transmit_Power_Command(HciCommand):
    """Vol 4 Part E 7.8.74."""

    OPCODE: ClassVar[int] = _le(0x004B)
    RETURNS: ClassVar[type[ReturnParameters] | None] = (
        HCI_LE_Read_Transmit_Power_ReturnParameters
    )


@command
@dataclasses.dataclass(frozen=True)
class HCI_LE_Set_Privacy_Mode_Command(HciCommand):
    """Vol 4 Part E 7.8.77 (Privacy_Mode: 0 network, 1 device)."""

    OPCODE: ClassVar[int] = _le(0x004E)
    peer_identity_address_type: int = u8()
    peer_identity_address: bytes = bd_addr()
    privacy_mode: int = u8()


__all__ = [
    "HCI_LE_Read_Local_P256_Public_Key_Command",
    "HCI_LE_Generate_DHKey_Command",
    "HCI_LE_Add_Device_To_Resolving_List_Command",
    "HCI_LE_Remove_Device_From_Resolving_List_Command",
    "HCI_LE_Clear_Resolving_List_Command",
    "HCI_LE_Read_Resolving_List_Size_ReturnParameters",
    "HCI_LE_Read_Resolving_List_Size_Command",
    "HCI_LE_Read_Peer_Resolvable_Address_ReturnParameters",
    "HCI_LE_Read_Peer_Resolvable_Address_Command",
    "HCI_LE_Read_Local_Resolvable_Address_ReturnParameters",
    "HCI_LE_Read_Local_Resolvable_Address_Command",
    "HCI_LE_Set_Address_Resolution_Enable_Command",
    "HCI_LE_Set_Resolvable_Private_Address_Timeout_Command",
    "HCI_LE_Read_Maximum_Data_Length_ReturnParameters",
    "HCI_LE_Read_Maximum_Data_Length_Command",
    "HCI_LE_Read_PHY_ReturnParameters",
    "HCI_LE_Read_PHY_Command",
    "HCI_LE_Set_Default_PHY_Command",
    "HCI_LE_Set_PHY_Command",
    "HCI_LE_Set_Advertising_Set_Random_Address_Command",
    "HCI_LE_Set_Extended_Advertising_Parameters_ReturnParameters",
    "HCI_LE_Set_Extended_Advertising_Parameters_Command",
    "HCI_LE_Set_Extended_Advertising_Data_Command",
    "HCI_LE_Set_Extended_Scan_Response_Data_Command",
    "AdvertisingSetEnable",
    "HCI_LE_Set_Extended_Advertising_Enable_Command",
    "HCI_LE_Read_Maximum_Advertising_Data_Length_ReturnParameters",
    "HCI_LE_Read_Maximum_Advertising_Data_Length_Command",
    "HCI_LE_Read_Number_of_Supported_Advertising_Sets_ReturnParameters",
    "HCI_LE_Read_Number_of_Supported_Advertising_Sets_Command",
    "HCI_LE_Remove_Advertising_Set_Command",
    "HCI_LE_Clear_Advertising_Sets_Command",
    "ExtendedScanParameters",
    "HCI_LE_Set_Extended_Scan_Parameters_Command",
    "HCI_LE_Set_Extended_Scan_Enable_Command",
    "ExtendedCreateConnectionParameters",
    "HCI_LE_Extended_Create_Connection_Command",
    "HCI_LE_Read_Transmit_Power_ReturnParameters",
    "HCI_LE_Read_Transmit_Power_Command",
    "HCI_LE_Set_Privacy_Mode_Command",
]
