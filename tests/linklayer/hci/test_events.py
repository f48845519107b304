"""HCI event codecs: codes, round trips, literal bytes (scapy and the spec), helpers."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import linklayer.hci as hci
from linklayer.hci.registry import parse_event

from .samples import registered_classes, sample, strategy

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from scapy.layers import bluetooth as sb

# Event codes (Vol 4 Part E 7.7) and LE subevent codes (7.7.65.x), restated from the spec.
EXPECTED_EVENTS = {
    "HCI_Disconnection_Complete_Event": 0x05,
    "HCI_Encryption_Change_Event": 0x08,
    "HCI_Read_Remote_Version_Information_Complete_Event": 0x0C,
    "HCI_Command_Complete_Event": 0x0E,
    "HCI_Command_Status_Event": 0x0F,
    "HCI_Hardware_Error_Event": 0x10,
    "HCI_Number_Of_Completed_Packets_Event": 0x13,
    "HCI_Data_Buffer_Overflow_Event": 0x1A,
    "HCI_Encryption_Key_Refresh_Complete_Event": 0x30,
    "HCI_Authenticated_Payload_Timeout_Expired_Event": 0x57,
    "HCI_Encryption_Change_V2_Event": 0x59,
}
EXPECTED_LE_SUBEVENTS = {
    "HCI_LE_Connection_Complete_Event": 0x01,
    "HCI_LE_Advertising_Report_Event": 0x02,
    "HCI_LE_Connection_Update_Complete_Event": 0x03,
    "HCI_LE_Read_Remote_Features_Complete_Event": 0x04,
    "HCI_LE_Long_Term_Key_Request_Event": 0x05,
    "HCI_LE_Remote_Connection_Parameter_Request_Event": 0x06,
    "HCI_LE_Data_Length_Change_Event": 0x07,
    "HCI_LE_Read_Local_P256_Public_Key_Complete_Event": 0x08,
    "HCI_LE_Generate_DHKey_Complete_Event": 0x09,
    "HCI_LE_Enhanced_Connection_Complete_Event": 0x0A,
    "HCI_LE_Directed_Advertising_Report_Event": 0x0B,
    "HCI_LE_PHY_Update_Complete_Event": 0x0C,
    "HCI_LE_Extended_Advertising_Report_Event": 0x0D,
    "HCI_LE_Scan_Timeout_Event": 0x11,
    "HCI_LE_Advertising_Set_Terminated_Event": 0x12,
    "HCI_LE_Scan_Request_Received_Event": 0x13,
    "HCI_LE_Channel_Selection_Algorithm_Event": 0x14,
}

EVENT_CLASSES = [c for c in registered_classes() if issubclass(c, hci.HciEvent)]


def test_event_codes() -> None:
    assert {c.__name__: code for code, c in hci.EVENTS.items()} == EXPECTED_EVENTS
    assert {c.__name__: code for code, c in hci.LE_SUBEVENTS.items()} == EXPECTED_LE_SUBEVENTS
    for cls in EVENT_CLASSES:
        assert cls.__doc__ and "Vol 4 Part E 7.7." in cls.__doc__


@pytest.mark.parametrize("cls", EVENT_CLASSES, ids=lambda c: c.__name__)
def test_event_round_trip(cls: type[hci.HciEvent]) -> None:
    event = sample(cls)
    raw = event.to_bytes()
    assert raw[0] == cls.EVENT_CODE
    assert raw[1] == len(raw) - 2
    if issubclass(cls, hci.HciLeMetaEvent):
        assert raw[0] == 0x3E and raw[2] == cls.SUBEVENT_CODE
    assert parse_event(raw) == event


@settings(max_examples=400)
@given(st.sampled_from(EVENT_CLASSES).flatmap(strategy))
def test_event_round_trip_property(event: hci.HciEvent) -> None:
    assert parse_event(event.to_bytes()) == event


# --- literal bytes from scapy -----------------------------------------------------------

ADDR = "c0:11:22:33:44:55"
ADDR_LE = bytes.fromhex("5544332211c0")
ADDR2 = "d0:aa:bb:cc:dd:ee"
ADDR2_LE = bytes.fromhex("eeddccbbaad0")


def _meta(layer: Any) -> bytes:
    return bytes(sb.HCI_Event_Hdr() / sb.HCI_Event_LE_Meta() / layer)


SCAPY_EVENTS: list[tuple[bytes, hci.HciEvent]] = [
    (
        bytes(sb.HCI_Event_Hdr() / sb.HCI_Event_Command_Status(status=0, number=1, opcode=0x200D)),
        hci.command_status(0x200D, 0),
    ),
    (
        bytes(sb.HCI_Event_Hdr() / sb.HCI_Event_Command_Complete(number=1, opcode=0x0C03, status=0)),
        hci.command_complete(0x0C03, hci.StatusReturn(0)),
    ),
    (
        bytes(
            sb.HCI_Event_Hdr()
            / sb.HCI_Event_Disconnection_Complete(status=0, connection_handle=0x40, reason=0x16)
        ),
        hci.HCI_Disconnection_Complete_Event(status=0, connection_handle=0x40, reason=0x16),
    ),
    (
        bytes(
            sb.HCI_Event_Hdr()
            / sb.HCI_Event_Encryption_Change(status=0, connection_handle=0x40, enabled=1)
        ),
        hci.HCI_Encryption_Change_Event(status=0, connection_handle=0x40, encryption_enabled=1),
    ),
    (
        bytes(
            sb.HCI_Event_Hdr()
            / sb.HCI_Event_Read_Remote_Version_Information_Complete(
                status=0, connection_handle=0x40, version=0x0B, manufacturer_name=0x0059,
                subversion=0x1234,
            )
        ),
        hci.HCI_Read_Remote_Version_Information_Complete_Event(0, 0x40, 0x0B, 0x0059, 0x1234),
    ),
    (
        bytes(
            sb.HCI_Event_Hdr()
            / sb.HCI_Event_Number_Of_Completed_Packets(
                num_handles=1, connection_handle_list=[0x41], num_completed_packets_list=[3]
            )
        ),
        hci.HCI_Number_Of_Completed_Packets_Event(handles=(hci.CompletedPackets(0x41, 3),)),
    ),
    (
        _meta(
            sb.HCI_LE_Meta_Connection_Complete(
                status=0, connection_handle=0x40, role=1, peer_addr_type=1, peer_addr=ADDR,
                interval=0x18, latency=2, supervision=0x48, master_clock_accuracy=5,
            )
        ),
        hci.HCI_LE_Connection_Complete_Event(0, 0x40, 1, 1, ADDR_LE, 0x18, 2, 0x48, 5),
    ),
    (
        _meta(
            sb.HCI_LE_Meta_Advertising_Reports(
                reports=[
                    sb.HCI_LE_Meta_Advertising_Report(
                        type=0, addr_type=1, addr=ADDR,
                        data=[sb.EIR_Hdr() / sb.EIR_Flags(flags=6)], rssi=-40,
                    ),
                    sb.HCI_LE_Meta_Advertising_Report(
                        type=4, addr_type=0, addr=ADDR2,
                        data=[sb.EIR_Hdr() / sb.EIR_CompleteLocalName(local_name=b"ab")],
                        rssi=-75,
                    ),
                ]
            )
        ),
        hci.HCI_LE_Advertising_Report_Event(
            reports=(
                hci.AdvertisingReport(0, 1, ADDR_LE, b"\x02\x01\x06", -40),
                hci.AdvertisingReport(4, 0, ADDR2_LE, b"\x03\x09ab", -75),
            )
        ),
    ),
    (
        _meta(
            sb.HCI_LE_Meta_Connection_Update_Complete(
                status=0, connection_handle=0x40, interval=0x28, latency=0, timeout=0x1F4
            )
        ),
        hci.HCI_LE_Connection_Update_Complete_Event(0, 0x40, 0x28, 0, 0x1F4),
    ),
    (
        _meta(
            sb.HCI_LE_Meta_LE_Read_Remote_Features_Complete(
                status=0, connection_handle=0x40, le_features=0x0000000000004965
            )
        ),
        hci.HCI_LE_Read_Remote_Features_Complete_Event(0, 0x40, 0x4965),
    ),
    (
        _meta(
            sb.HCI_LE_Meta_Long_Term_Key_Request(
                connection_handle=0x40, rand=bytes(range(8)), ediv=0x1234
            )
        ),
        hci.HCI_LE_Long_Term_Key_Request_Event(0x40, bytes(range(8)), 0x1234),
    ),
    (
        _meta(
            sb.HCI_LE_Meta_Enhanced_Connection_Complete(
                status=0, connection_handle=0x41, role=0, peer_addr_type=2, peer_addr=ADDR,
                local_rpa=ADDR2, peer_rpa="00:00:00:00:00:00", interval=6, latency=0,
                supervision=100, master_clock_accuracy=1,
            )
        ),
        hci.HCI_LE_Enhanced_Connection_Complete_Event(
            0, 0x41, 0, 2, ADDR_LE, ADDR2_LE, bytes(6), 6, 0, 100, 1
        ),
    ),
    (
        _meta(
            sb.HCI_LE_Meta_Extended_Advertising_Reports(
                reports=[
                    sb.HCI_LE_Meta_Extended_Advertising_Report(
                        legacy=1, scannable=1, connectable=1, addr_type=1, addr=ADDR,
                        primary_phy=1, secondary_phy=0, advertising_sid=0xFF,
                        tx_power=0xF6, rssi=-60, periodic_advertising_interval=0,
                        direct_addr_type=0, direct_addr="00:00:00:00:00:00",
                        data=[sb.EIR_Hdr() / sb.EIR_Flags(flags=6)],
                    )
                ]
            )
        ),
        hci.HCI_LE_Extended_Advertising_Report_Event(
            reports=(
                hci.ExtendedAdvertisingReport(
                    event_type=0x0013, address_type=1, address=ADDR_LE, primary_phy=1,
                    secondary_phy=0, advertising_sid=0xFF, tx_power=-10, rssi=-60,
                    periodic_advertising_interval=0, direct_address_type=0,
                    direct_address=bytes(6), data=b"\x02\x01\x06",
                ),
            )
        ),
    ),
]


@pytest.mark.parametrize("raw,ours", SCAPY_EVENTS, ids=[type(o).__name__ for _, o in SCAPY_EVENTS])
def test_event_matches_scapy(raw: bytes, ours: hci.HciEvent) -> None:
    assert ours.to_bytes() == raw
    assert parse_event(raw) == ours


# --- literal bytes written out from the specification ---------------------------------

SPEC_EVENTS: list[tuple[str, hci.HciEvent]] = [
    # 7.7.19 with two handles: element after element, (handle, count) pairs.
    (
        "1309" "02" "4000" "0200" "4100" "0100",
        hci.HCI_Number_Of_Completed_Packets_Event(
            handles=(hci.CompletedPackets(0x40, 2), hci.CompletedPackets(0x41, 1))
        ),
    ),
    ("5905" "00" "4000" "01" "10", hci.HCI_Encryption_Change_V2_Event(0, 0x40, 1, 16)),
    ("1001" "07", hci.HCI_Hardware_Error_Event(7)),
    ("1a01" "01", hci.HCI_Data_Buffer_Overflow_Event(1)),
    ("3003" "00" "4000", hci.HCI_Encryption_Key_Refresh_Complete_Event(0, 0x40)),
    ("5702" "4000", hci.HCI_Authenticated_Payload_Timeout_Expired_Event(0x40)),
    (
        "3e0b" "06" "4000" "0600" "0c00" "0000" "c800",
        hci.HCI_LE_Remote_Connection_Parameter_Request_Event(0x40, 6, 12, 0, 200),
    ),
    (
        "3e0b" "07" "4000" "fb00" "4808" "fb00" "4808",
        hci.HCI_LE_Data_Length_Change_Event(0x40, 251, 2120, 251, 2120),
    ),
    ("3e06" "0c" "00" "4000" "02" "02", hci.HCI_LE_PHY_Update_Complete_Event(0, 0x40, 2, 2)),
    ("3e01" "11", hci.HCI_LE_Scan_Timeout_Event()),
    (
        "3e06" "12" "00" "01" "4000" "00",
        hci.HCI_LE_Advertising_Set_Terminated_Event(0, 1, 0x40, 0),
    ),
    (
        "3e09" "13" "01" "01" + ADDR2_LE.hex(),
        hci.HCI_LE_Scan_Request_Received_Event(1, 1, ADDR2_LE),
    ),
    ("3e04" "14" "4000" "01", hci.HCI_LE_Channel_Selection_Algorithm_Event(0x40, 1)),
    (
        "3e12" "0b" "01" "01" "01" + ADDR_LE.hex() + "01" + ADDR2_LE.hex() + "c4",
        hci.HCI_LE_Directed_Advertising_Report_Event(
            reports=(hci.DirectedAdvertisingReport(1, 1, ADDR_LE, 1, ADDR2_LE, -60),)
        ),
    ),
    ("3e02" "02" "00", hci.HCI_LE_Advertising_Report_Event(reports=())),
    (
        "3e22" "09" "0c" + "00" * 32,
        hci.HCI_LE_Generate_DHKey_Complete_Event(0x0C, bytes(32)),
    ),
]


def _checked_literal(hexbytes: str) -> str:
    """The spec rows above spell the length octet; recheck it rather than trust it."""
    raw = bytes.fromhex(hexbytes)
    assert raw[1] == len(raw) - 2, f"bad literal {hexbytes}"
    return hexbytes


@pytest.mark.parametrize("hexbytes,ours", SPEC_EVENTS, ids=[type(o).__name__ for _, o in SPEC_EVENTS])
def test_event_matches_spec_literal(hexbytes: str, ours: hci.HciEvent) -> None:
    raw = bytes.fromhex(_checked_literal(hexbytes))
    assert ours.to_bytes() == raw
    assert parse_event(raw) == ours


def test_command_helpers() -> None:
    complete = hci.command_complete(
        0x1009, hci.HCI_Read_BD_ADDR_ReturnParameters(status=0, bd_addr=ADDR_LE), num=5
    )
    assert complete.to_bytes() == bytes.fromhex("0e0a" "05" "0910" "00") + ADDR_LE
    assert complete.decode_returns() == hci.HCI_Read_BD_ADDR_ReturnParameters(0, ADDR_LE)
    status = hci.command_status(0x0406, hci.ErrorCode.UNKNOWN_CONNECTION_IDENTIFIER)
    assert status.to_bytes() == bytes.fromhex("0f04" "02" "01" "0604")
    # Commands answered by Command_Status have no return parameters to decode.
    assert hci.command_complete(0x0406, b"\x0c").decode_returns() == b"\x0c"


@settings(max_examples=200, deadline=None)
@given(
    event_type=st.integers(0, 255),
    address_type=st.integers(0, 255),
    address=st.binary(min_size=6, max_size=6),
    data=st.binary(max_size=243),
    rssi=st.integers(-128, 127),
)
def test_single_advertising_report_packet_equals_the_codec(
    event_type: int, address_type: int, address: bytes, data: bytes, rssi: int
) -> None:
    """The scanners' packed report is octet for octet the codec's event, and parses back."""
    from linklayer.hci.le_events import advertising_report_packet

    report = hci.AdvertisingReport(event_type, address_type, address, data, rssi)
    event = hci.HCI_LE_Advertising_Report_Event(reports=(report,))
    packet = advertising_report_packet(event_type, address_type, address, data, rssi)
    assert packet == event.to_bytes()
    assert parse_event(packet) == event


def test_single_advertising_report_packet_literal_and_errors() -> None:
    from linklayer.hci.le_events import advertising_report_packet

    packet = advertising_report_packet(0, 1, bytes.fromhex("010203040506"), b"\x02\x01\x06", -40)
    assert packet.hex() == "3e0f0201" "0001" "010203040506" "03" "020106" "d8"
    with pytest.raises(ValueError):
        advertising_report_packet(0, 1, b"\x01" * 5, b"", 0)
    with pytest.raises(ValueError):
        advertising_report_packet(0, 1, b"\x01" * 6, bytes(244), 0)
    with pytest.raises(ValueError):
        advertising_report_packet(0, 1, b"\x01" * 6, b"", 200)
