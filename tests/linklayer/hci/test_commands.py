"""HCI command codecs: opcodes, return parameters, round trips and literal bytes.

Literal bytes come from scapy's independent HCI layers (``scapy.layers.bluetooth``) and
from packets written out by hand from Vol 4 Part E 7.x, never from our own encoder.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import linklayer.hci as hci
from linklayer.hci.registry import parse_command

from .samples import registered_classes, return_parameter_classes, sample, strategy

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from scapy.layers import bluetooth as sb

# (class name, OGF, OCF, answered by Command_Complete?) restated from Vol 4 Part E 7.x.
EXPECTED_COMMANDS: list[tuple[str, int, int, bool]] = [
    ("HCI_Disconnect_Command", 0x01, 0x0006, False),
    ("HCI_Read_Remote_Version_Information_Command", 0x01, 0x001D, False),
    ("HCI_Set_Event_Mask_Command", 0x03, 0x0001, True),
    ("HCI_Reset_Command", 0x03, 0x0003, True),
    ("HCI_Read_Transmit_Power_Level_Command", 0x03, 0x002D, True),
    ("HCI_Set_Controller_To_Host_Flow_Control_Command", 0x03, 0x0031, True),
    ("HCI_Host_Buffer_Size_Command", 0x03, 0x0033, True),
    ("HCI_Host_Number_Of_Completed_Packets_Command", 0x03, 0x0035, True),
    ("HCI_Set_Event_Mask_Page_2_Command", 0x03, 0x0063, True),
    ("HCI_Read_LE_Host_Support_Command", 0x03, 0x006C, True),
    ("HCI_Write_LE_Host_Support_Command", 0x03, 0x006D, True),
    ("HCI_Read_Authenticated_Payload_Timeout_Command", 0x03, 0x007B, True),
    ("HCI_Write_Authenticated_Payload_Timeout_Command", 0x03, 0x007C, True),
    ("HCI_Read_Local_Version_Information_Command", 0x04, 0x0001, True),
    ("HCI_Read_Local_Supported_Commands_Command", 0x04, 0x0002, True),
    ("HCI_Read_Local_Supported_Features_Command", 0x04, 0x0003, True),
    ("HCI_Read_Buffer_Size_Command", 0x04, 0x0005, True),
    ("HCI_Read_BD_ADDR_Command", 0x04, 0x0009, True),
    ("HCI_Read_RSSI_Command", 0x05, 0x0005, True),
    ("HCI_LE_Set_Event_Mask_Command", 0x08, 0x0001, True),
    ("HCI_LE_Read_Buffer_Size_Command", 0x08, 0x0002, True),
    ("HCI_LE_Read_Buffer_Size_V2_Command", 0x08, 0x0060, True),
    ("HCI_LE_Read_Local_Supported_Features_Command", 0x08, 0x0003, True),
    ("HCI_LE_Set_Random_Address_Command", 0x08, 0x0005, True),
    ("HCI_LE_Set_Advertising_Parameters_Command", 0x08, 0x0006, True),
    ("HCI_LE_Read_Advertising_Physical_Channel_Tx_Power_Command", 0x08, 0x0007, True),
    ("HCI_LE_Set_Advertising_Data_Command", 0x08, 0x0008, True),
    ("HCI_LE_Set_Scan_Response_Data_Command", 0x08, 0x0009, True),
    ("HCI_LE_Set_Advertising_Enable_Command", 0x08, 0x000A, True),
    ("HCI_LE_Set_Scan_Parameters_Command", 0x08, 0x000B, True),
    ("HCI_LE_Set_Scan_Enable_Command", 0x08, 0x000C, True),
    ("HCI_LE_Create_Connection_Command", 0x08, 0x000D, False),
    ("HCI_LE_Create_Connection_Cancel_Command", 0x08, 0x000E, True),
    ("HCI_LE_Read_Filter_Accept_List_Size_Command", 0x08, 0x000F, True),
    ("HCI_LE_Clear_Filter_Accept_List_Command", 0x08, 0x0010, True),
    ("HCI_LE_Add_Device_To_Filter_Accept_List_Command", 0x08, 0x0011, True),
    ("HCI_LE_Remove_Device_From_Filter_Accept_List_Command", 0x08, 0x0012, True),
    ("HCI_LE_Connection_Update_Command", 0x08, 0x0013, False),
    ("HCI_LE_Set_Host_Channel_Classification_Command", 0x08, 0x0014, True),
    ("HCI_LE_Read_Channel_Map_Command", 0x08, 0x0015, True),
    ("HCI_LE_Read_Remote_Features_Command", 0x08, 0x0016, False),
    ("HCI_LE_Encrypt_Command", 0x08, 0x0017, True),
    ("HCI_LE_Rand_Command", 0x08, 0x0018, True),
    ("HCI_LE_Enable_Encryption_Command", 0x08, 0x0019, False),
    ("HCI_LE_Long_Term_Key_Request_Reply_Command", 0x08, 0x001A, True),
    ("HCI_LE_Long_Term_Key_Request_Negative_Reply_Command", 0x08, 0x001B, True),
    ("HCI_LE_Read_Supported_States_Command", 0x08, 0x001C, True),
    ("HCI_LE_Remote_Connection_Parameter_Request_Reply_Command", 0x08, 0x0020, True),
    ("HCI_LE_Remote_Connection_Parameter_Request_Negative_Reply_Command", 0x08, 0x0021, True),
    ("HCI_LE_Set_Data_Length_Command", 0x08, 0x0022, True),
    ("HCI_LE_Read_Suggested_Default_Data_Length_Command", 0x08, 0x0023, True),
    ("HCI_LE_Write_Suggested_Default_Data_Length_Command", 0x08, 0x0024, True),
    ("HCI_LE_Read_Local_P256_Public_Key_Command", 0x08, 0x0025, False),
    ("HCI_LE_Generate_DHKey_Command", 0x08, 0x0026, False),
    ("HCI_LE_Add_Device_To_Resolving_List_Command", 0x08, 0x0027, True),
    ("HCI_LE_Remove_Device_From_Resolving_List_Command", 0x08, 0x0028, True),
    ("HCI_LE_Clear_Resolving_List_Command", 0x08, 0x0029, True),
    ("HCI_LE_Read_Resolving_List_Size_Command", 0x08, 0x002A, True),
    ("HCI_LE_Read_Peer_Resolvable_Address_Command", 0x08, 0x002B, True),
    ("HCI_LE_Read_Local_Resolvable_Address_Command", 0x08, 0x002C, True),
    ("HCI_LE_Set_Address_Resolution_Enable_Command", 0x08, 0x002D, True),
    ("HCI_LE_Set_Resolvable_Private_Address_Timeout_Command", 0x08, 0x002E, True),
    ("HCI_LE_Read_Maximum_Data_Length_Command", 0x08, 0x002F, True),
    ("HCI_LE_Read_PHY_Command", 0x08, 0x0030, True),
    ("HCI_LE_Set_Default_PHY_Command", 0x08, 0x0031, True),
    ("HCI_LE_Set_PHY_Command", 0x08, 0x0032, False),
    ("HCI_LE_Set_Advertising_Set_Random_Address_Command", 0x08, 0x0035, True),
    ("HCI_LE_Set_Extended_Advertising_Parameters_Command", 0x08, 0x0036, True),
    ("HCI_LE_Set_Extended_Advertising_Data_Command", 0x08, 0x0037, True),
    ("HCI_LE_Set_Extended_Scan_Response_Data_Command", 0x08, 0x0038, True),
    ("HCI_LE_Set_Extended_Advertising_Enable_Command", 0x08, 0x0039, True),
    ("HCI_LE_Read_Maximum_Advertising_Data_Length_Command", 0x08, 0x003A, True),
    ("HCI_LE_Read_Number_of_Supported_Advertising_Sets_Command", 0x08, 0x003B, True),
    ("HCI_LE_Remove_Advertising_Set_Command", 0x08, 0x003C, True),
    ("HCI_LE_Clear_Advertising_Sets_Command", 0x08, 0x003D, True),
    ("HCI_LE_Set_Extended_Scan_Parameters_Command", 0x08, 0x0041, True),
    ("HCI_LE_Set_Extended_Scan_Enable_Command", 0x08, 0x0042, True),
    ("HCI_LE_Extended_Create_Connection_Command", 0x08, 0x0043, False),
    ("HCI_LE_Read_Transmit_Power_Command", 0x08, 0x004B, True),
    ("HCI_LE_Set_Privacy_Mode_Command", 0x08, 0x004E, True),
]

COMMAND_CLASSES = [c for c in registered_classes() if issubclass(c, hci.HciCommand)]


@pytest.mark.parametrize("name,ogf,ocf,complete", EXPECTED_COMMANDS, ids=lambda v: str(v))
def test_every_command_is_registered_with_its_spec_opcode(
    name: str, ogf: int, ocf: int, complete: bool
) -> None:
    cls = getattr(hci, name)
    assert cls.OPCODE == (ogf << 10) | ocf
    assert hci.COMMANDS[cls.OPCODE] is cls
    assert (cls.RETURNS is not None) == complete
    assert cls.__doc__ and "Vol 4 Part E 7." in cls.__doc__


def test_no_unexpected_commands() -> None:
    assert {c.__name__ for c in COMMAND_CLASSES} == {row[0] for row in EXPECTED_COMMANDS}


@pytest.mark.parametrize("cls", COMMAND_CLASSES, ids=lambda c: c.__name__)
def test_command_round_trip(cls: type[hci.HciCommand]) -> None:
    cmd = sample(cls)
    raw = cmd.to_bytes()
    assert int.from_bytes(raw[:2], "little") == cls.OPCODE
    assert raw[2] == len(raw) - 3
    assert parse_command(raw) == cmd


@settings(max_examples=400)
@given(st.sampled_from(COMMAND_CLASSES).flatmap(strategy))
def test_command_round_trip_property(cmd: hci.HciCommand) -> None:
    assert parse_command(cmd.to_bytes()) == cmd


@pytest.mark.parametrize("cls", return_parameter_classes(), ids=lambda c: c.__name__)
def test_return_parameters_round_trip_through_command_complete(
    cls: type[hci.ReturnParameters],
) -> None:
    returns = sample(cls)
    for op, cmd in hci.COMMANDS.items():
        if cmd.RETURNS is cls:
            event = hci.parse_event(hci.command_complete(op, returns, num=3).to_bytes())
            assert isinstance(event, hci.HCI_Command_Complete_Event)
            assert event.num_hci_command_packets == 3
            assert event.command_opcode == op
            assert event.decode_returns() == returns


@settings(max_examples=200)
@given(st.sampled_from(return_parameter_classes()).flatmap(strategy))
def test_return_parameters_round_trip_property(returns: hci.ReturnParameters) -> None:
    assert type(returns).from_parameters(returns.parameters()) == returns


# --- literal bytes from scapy -----------------------------------------------------------

ADDR = "c0:11:22:33:44:55"
ADDR_LE = bytes.fromhex("5544332211c0")
LTK = bytes(range(0x10, 0x20))
RAND = bytes.fromhex("0102030405060708")


def _scapy_command(layer: Any) -> bytes:
    return bytes(sb.HCI_Command_Hdr() / layer)


SCAPY_COMMANDS: list[tuple[Any, hci.HciCommand]] = [
    (sb.HCI_Cmd_Reset(), hci.HCI_Reset_Command()),
    (
        sb.HCI_Cmd_Disconnect(connection_handle=0x0040, reason=0x13),
        hci.HCI_Disconnect_Command(connection_handle=0x0040, reason=0x13),
    ),
    (
        sb.HCI_Cmd_Set_Event_Mask(mask=bytes.fromhex("ffffffffffff3f20")),
        hci.HCI_Set_Event_Mask_Command(event_mask=0x203FFFFFFFFFFFFF),
    ),
    (sb.HCI_Cmd_Read_BD_Addr(), hci.HCI_Read_BD_ADDR_Command()),
    (sb.HCI_Cmd_Read_Local_Version_Information(), hci.HCI_Read_Local_Version_Information_Command()),
    (sb.HCI_Cmd_Read_RSSI(connection_handle=0x0041), hci.HCI_Read_RSSI_Command(handle=0x0041)),
    (sb.HCI_Cmd_Read_LE_Host_Support(), hci.HCI_Read_LE_Host_Support_Command()),
    (
        sb.HCI_Cmd_Write_LE_Host_Support(supported=1, unused=0),
        hci.HCI_Write_LE_Host_Support_Command(le_supported_host=1, unused=0),
    ),
    (
        sb.HCI_Cmd_LE_Set_Event_Mask(mask=bytes.fromhex("ff09000000000000")),
        hci.HCI_LE_Set_Event_Mask_Command(le_event_mask=0x09FF),
    ),
    (sb.HCI_Cmd_LE_Read_Buffer_Size_V1(), hci.HCI_LE_Read_Buffer_Size_Command()),
    (sb.HCI_Cmd_LE_Read_Buffer_Size_V2(), hci.HCI_LE_Read_Buffer_Size_V2_Command()),
    (
        sb.HCI_Cmd_LE_Read_Local_Supported_Features(),
        hci.HCI_LE_Read_Local_Supported_Features_Command(),
    ),
    (
        sb.HCI_Cmd_LE_Set_Random_Address(addr=ADDR),
        hci.HCI_LE_Set_Random_Address_Command(random_address=ADDR_LE),
    ),
    (
        sb.HCI_Cmd_LE_Set_Advertising_Parameters(
            interval_min=0x00A0,
            interval_max=0x00B0,
            adv_type=3,
            own_addr_type=1,
            peer_addr_type=1,
            peer_addr=ADDR,
            channel_map=7,
            filter_policy=2,
        ),
        hci.HCI_LE_Set_Advertising_Parameters_Command(
            advertising_interval_min=0x00A0,
            advertising_interval_max=0x00B0,
            advertising_type=3,
            own_address_type=1,
            peer_address_type=1,
            peer_address=ADDR_LE,
            advertising_channel_map=7,
            advertising_filter_policy=2,
        ),
    ),
    (
        sb.HCI_Cmd_LE_Set_Advertising_Data(
            data=[
                sb.EIR_Hdr() / sb.EIR_Flags(flags=0x06),
                sb.EIR_Hdr() / sb.EIR_CompleteLocalName(local_name=b"blesim"),
            ]
        ),
        hci.HCI_LE_Set_Advertising_Data_Command(
            advertising_data=bytes.fromhex("020106") + b"\x07\x09blesim"
        ),
    ),
    (
        sb.HCI_Cmd_LE_Set_Advertise_Enable(enable=1),
        hci.HCI_LE_Set_Advertising_Enable_Command(advertising_enable=1),
    ),
    (
        sb.HCI_Cmd_LE_Set_Scan_Parameters(type=1, interval=0x0060, window=0x0030, addr_type=1, policy=0),
        hci.HCI_LE_Set_Scan_Parameters_Command(
            le_scan_type=1,
            le_scan_interval=0x0060,
            le_scan_window=0x0030,
            own_address_type=1,
            scanning_filter_policy=0,
        ),
    ),
    (
        sb.HCI_Cmd_LE_Set_Scan_Enable(enable=1, filter_dups=0),
        hci.HCI_LE_Set_Scan_Enable_Command(le_scan_enable=1, filter_duplicates=0),
    ),
    (
        sb.HCI_Cmd_LE_Create_Connection(
            interval=0x60,
            window=0x30,
            filter=0,
            peer_addr_type=1,
            peer_addr=ADDR,
            own_addr_type=0,
            min_interval=0x18,
            max_interval=0x28,
            latency=4,
            timeout=0x1F4,
            min_ce=1,
            max_ce=2,
        ),
        hci.HCI_LE_Create_Connection_Command(
            le_scan_interval=0x60,
            le_scan_window=0x30,
            initiator_filter_policy=0,
            peer_address_type=1,
            peer_address=ADDR_LE,
            own_address_type=0,
            connection_interval_min=0x18,
            connection_interval_max=0x28,
            max_latency=4,
            supervision_timeout=0x1F4,
            min_ce_length=1,
            max_ce_length=2,
        ),
    ),
    (sb.HCI_Cmd_LE_Create_Connection_Cancel(), hci.HCI_LE_Create_Connection_Cancel_Command()),
    (
        sb.HCI_Cmd_LE_Read_Filter_Accept_List_Size(),
        hci.HCI_LE_Read_Filter_Accept_List_Size_Command(),
    ),
    (sb.HCI_Cmd_LE_Clear_Filter_Accept_List(), hci.HCI_LE_Clear_Filter_Accept_List_Command()),
    (
        sb.HCI_Cmd_LE_Add_Device_To_Filter_Accept_List(addr_type=1, addr=ADDR),
        hci.HCI_LE_Add_Device_To_Filter_Accept_List_Command(address_type=1, address=ADDR_LE),
    ),
    (
        sb.HCI_Cmd_LE_Remove_Device_From_Filter_Accept_List(addr_type=0, addr=ADDR),
        hci.HCI_LE_Remove_Device_From_Filter_Accept_List_Command(address_type=0, address=ADDR_LE),
    ),
    (
        sb.HCI_Cmd_LE_Connection_Update(
            connection_handle=0x40,
            min_interval=6,
            max_interval=12,
            latency=1,
            timeout=100,
            min_ce=3,
            max_ce=4,
        ),
        hci.HCI_LE_Connection_Update_Command(
            connection_handle=0x40,
            connection_interval_min=6,
            connection_interval_max=12,
            max_latency=1,
            supervision_timeout=100,
            min_ce_length=3,
            max_ce_length=4,
        ),
    ),
    (
        sb.HCI_Cmd_LE_Read_Remote_Features(connection_handle=0x42),
        hci.HCI_LE_Read_Remote_Features_Command(connection_handle=0x42),
    ),
    (
        sb.HCI_Cmd_LE_Enable_Encryption(connection_handle=0x40, rand=RAND, ediv=0x1234, ltk=LTK),
        hci.HCI_LE_Enable_Encryption_Command(
            connection_handle=0x40,
            random_number=RAND,
            encrypted_diversifier=0x1234,
            long_term_key=LTK,
        ),
    ),
    (
        sb.HCI_Cmd_LE_Long_Term_Key_Request_Reply(connection_handle=0x40, ltk=LTK),
        hci.HCI_LE_Long_Term_Key_Request_Reply_Command(connection_handle=0x40, long_term_key=LTK),
    ),
    (
        sb.HCI_Cmd_LE_Long_Term_Key_Request_Negative_Reply(connection_handle=0x40),
        hci.HCI_LE_Long_Term_Key_Request_Negative_Reply_Command(connection_handle=0x40),
    ),
    (
        sb.HCI_Cmd_LE_Set_Advertising_Set_Random_Address(handle=2, addr=ADDR),
        hci.HCI_LE_Set_Advertising_Set_Random_Address_Command(
            advertising_handle=2, random_address=ADDR_LE
        ),
    ),
    (
        sb.HCI_Cmd_LE_Set_Extended_Advertising_Parameters(
            handle=1,
            properties=0x0013,
            pri_interval_min=0x0000A0,
            pri_interval_max=0x0100A0,
            pri_channel_map=7,
            own_addr_type=1,
            peer_addr_type=0,
            peer_addr=ADDR,
            filter_policy=0,
            tx_power=-7,
            pri_phy=1,
            sec_max_skip=0,
            sec_phy=2,
            sid=5,
            scan_req_notify_enable=1,
        ),
        hci.HCI_LE_Set_Extended_Advertising_Parameters_Command(
            advertising_handle=1,
            advertising_event_properties=0x0013,
            primary_advertising_interval_min=0x0000A0,
            primary_advertising_interval_max=0x0100A0,
            primary_advertising_channel_map=7,
            own_address_type=1,
            peer_address_type=0,
            peer_address=ADDR_LE,
            advertising_filter_policy=0,
            advertising_tx_power=-7,
            primary_advertising_phy=1,
            secondary_advertising_max_skip=0,
            secondary_advertising_phy=2,
            advertising_sid=5,
            scan_request_notification_enable=1,
        ),
    ),
    (
        sb.HCI_Cmd_LE_Set_Extended_Advertising_Data(
            handle=1,
            operation=3,
            frag_pref=1,
            data=[sb.EIR_Hdr() / sb.EIR_CompleteLocalName(local_name=b"ext")],
        ),
        hci.HCI_LE_Set_Extended_Advertising_Data_Command(
            advertising_handle=1,
            operation=3,
            fragment_preference=1,
            advertising_data=b"\x04\x09ext",
        ),
    ),
    (
        sb.HCI_Cmd_LE_Set_Extended_Advertise_Enable(
            enable=1,
            sets=[
                sb.Extended_Advertise_Set(
                    handle=1, duration=0x0102, max_events=3
                ),
                sb.Extended_Advertise_Set(
                    handle=2, duration=0, max_events=0
                ),
            ],
        ),
        hci.HCI_LE_Set_Extended_Advertising_Enable_Command(
            enable=1,
            sets=(
                hci.AdvertisingSetEnable(
                    advertising_handle=1, duration=0x0102, max_extended_advertising_events=3
                ),
                hci.AdvertisingSetEnable(advertising_handle=2),
            ),
        ),
    ),
    (
        sb.HCI_Cmd_LE_Set_Extended_Scan_Parameters(
            own_address_type=1,
            scanning_filter_policy=0,
            scanning_phys=0b101,
            scan_type_1m=1,
            scan_interval_1m=0x60,
            scan_window_1m=0x30,
            scan_type_coded=0,
            scan_interval_coded=0x120,
            scan_window_coded=0x90,
        ),
        hci.HCI_LE_Set_Extended_Scan_Parameters_Command(
            own_address_type=1,
            scanning_filter_policy=0,
            scanning_phys=0b101,
            phys=(
                hci.ExtendedScanParameters(scan_type=1, scan_interval=0x60, scan_window=0x30),
                hci.ExtendedScanParameters(scan_type=0, scan_interval=0x120, scan_window=0x90),
            ),
        ),
    ),
    (
        sb.HCI_Cmd_LE_Set_Extended_Scan_Enable(enable=1, filter_dups=1, duration=500, period=7),
        hci.HCI_LE_Set_Extended_Scan_Enable_Command(
            enable=1, filter_duplicates=1, duration=500, period=7
        ),
    ),
    (
        sb.HCI_Cmd_LE_Extended_Create_Connection(
            filter_policy=0,
            address_type=1,
            peer_addr_type=1,
            peer_addr=ADDR,
            phys=0b011,
            interval_1m=0x60,
            window_1m=0x30,
            min_interval_1m=0x18,
            max_interval_1m=0x28,
            latency_1m=0,
            timeout_1m=0x48,
            min_ce_1m=0,
            max_ce_1m=0,
            interval_2m=0x61,
            window_2m=0x31,
            min_interval_2m=0x19,
            max_interval_2m=0x29,
            latency_2m=1,
            timeout_2m=0x49,
            min_ce_2m=2,
            max_ce_2m=3,
        ),
        hci.HCI_LE_Extended_Create_Connection_Command(
            initiator_filter_policy=0,
            own_address_type=1,
            peer_address_type=1,
            peer_address=ADDR_LE,
            initiating_phys=0b011,
            phys=(
                hci.ExtendedCreateConnectionParameters(0x60, 0x30, 0x18, 0x28, 0, 0x48, 0, 0),
                hci.ExtendedCreateConnectionParameters(0x61, 0x31, 0x19, 0x29, 1, 0x49, 2, 3),
            ),
        ),
    ),
]


@pytest.mark.parametrize(
    "layer,ours", SCAPY_COMMANDS, ids=[type(o).__name__ for _, o in SCAPY_COMMANDS]
)
def test_command_matches_scapy(layer: Any, ours: hci.HciCommand) -> None:
    expected = _scapy_command(layer)
    assert ours.to_bytes() == expected
    assert parse_command(expected) == ours


# --- literal bytes written out from the specification ---------------------------------

SPEC_COMMANDS: list[tuple[str, hci.HciCommand]] = [
    # Vol 4 Part E 7.3.40 with two handles: Num_Handles, then (handle, count) pairs.
    (
        "350c09" "02" "4000" "0100" "4100" "0500",
        hci.HCI_Host_Number_Of_Completed_Packets_Command(
            handles=(hci.HostCompletedPackets(0x40, 1), hci.HostCompletedPackets(0x41, 5))
        ),
    ),
    ("330c07" "fb00" "00" "0a00" "0000", hci.HCI_Host_Buffer_Size_Command(251, 0, 10, 0)),
    ("2d0c03" "4000" "01", hci.HCI_Read_Transmit_Power_Level_Command(0x40, 1)),
    ("7c0c04" "4000" "b80b", hci.HCI_Write_Authenticated_Payload_Timeout_Command(0x40, 3000)),
    ("1d0402" "4000", hci.HCI_Read_Remote_Version_Information_Command(0x40)),
    ("222006" "4000" "fb00" "4808", hci.HCI_LE_Set_Data_Length_Command(0x40, 251, 2120)),
    ("322007" "4000" "00" "02" "02" "0000", hci.HCI_LE_Set_PHY_Command(0x40, 0, 2, 2, 0)),
    ("312003" "00" "03" "03", hci.HCI_LE_Set_Default_PHY_Command(0, 3, 3)),
    ("4e2008" "01" + ADDR_LE.hex() + "01", hci.HCI_LE_Set_Privacy_Mode_Command(1, ADDR_LE, 1)),
    ("2e2002" "8403", hci.HCI_LE_Set_Resolvable_Private_Address_Timeout_Command(900)),
    ("3c2001" "03", hci.HCI_LE_Remove_Advertising_Set_Command(3)),
    ("392002" "00" "00", hci.HCI_LE_Set_Extended_Advertising_Enable_Command(enable=0)),
    (
        "092020" "05" "0409616263" + "00" * 26,
        hci.HCI_LE_Set_Scan_Response_Data_Command(scan_response_data=b"\x04\x09abc"),
    ),
    ("142005" "ffffffff1f", hci.HCI_LE_Set_Host_Channel_Classification_Command(
        bytes.fromhex("ffffffff1f"))),
]


@pytest.mark.parametrize("hexbytes,ours", SPEC_COMMANDS, ids=[type(o).__name__ for _, o in SPEC_COMMANDS])
def test_command_matches_spec_literal(hexbytes: str, ours: hci.HciCommand) -> None:
    raw = bytes.fromhex(hexbytes)
    assert ours.to_bytes() == raw
    assert parse_command(raw) == ours


def test_returns_match_scapy_read_local_version() -> None:
    raw = bytes(
        sb.HCI_Event_Hdr()
        / sb.HCI_Event_Command_Complete(number=1, opcode=0x1001, status=0)
        / sb.HCI_Cmd_Complete_Read_Local_Version_Information(
            hci_version=0x0C, hci_subversion=0x1234, lmp_version=0x0C,
            company_identifier=0x05F1, lmp_subversion=0x5678,
        )
    )
    event = hci.parse_event(raw)
    assert isinstance(event, hci.HCI_Command_Complete_Event)
    assert event.decode_returns() == hci.HCI_Read_Local_Version_Information_ReturnParameters(
        0, 0x0C, 0x1234, 0x0C, 0x05F1, 0x5678
    )


def test_returns_match_scapy_read_bd_addr() -> None:
    raw = bytes(
        sb.HCI_Event_Hdr()
        / sb.HCI_Event_Command_Complete(number=1, opcode=0x1009, status=0)
        / sb.HCI_Cmd_Complete_Read_BD_Addr(bd_addr=ADDR)
    )
    ours = hci.command_complete(0x1009, hci.HCI_Read_BD_ADDR_ReturnParameters(0, ADDR_LE))
    assert ours.to_bytes() == raw
    assert hci.parse_event(raw) == ours


def test_legacy_advertising_data_is_padded_to_31_octets() -> None:
    raw = hci.HCI_LE_Set_Advertising_Data_Command(b"\x02\x01\x06").to_bytes()
    assert raw == bytes.fromhex("082020" "03020106") + bytes(28)
    with pytest.raises(ValueError):
        hci.HCI_LE_Set_Advertising_Data_Command(bytes(32)).to_bytes()


def test_phy_array_length_must_match_bit_field() -> None:
    with pytest.raises(ValueError):
        hci.HCI_LE_Set_Extended_Scan_Parameters_Command(0, 0, 0b101, ()).to_bytes()
    with pytest.raises(ValueError):
        hci.HCI_LE_Extended_Create_Connection_Command(
            0, 0, 0, ADDR_LE, 0b001, ()
        ).to_bytes()
