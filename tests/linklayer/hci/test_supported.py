"""Supported_Commands bitmap (Vol 4 Part E 6.27) and LE feature bits (Vol 6 Part B 4.6)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import linklayer.hci as hci
from linklayer.hci.supported import (
    ALWAYS_SUPPORTED,
    SUPPORTED_COMMANDS,
    LeFeature,
    is_supported,
    le_features_from_bytes,
    le_features_to_bytes,
    supported_commands_bitmap,
)

# A sample of rows of the 6.27 table, restated: (opcode, octet, bit).
SPEC_ROWS = [
    (0x0406, 0, 5),  # Disconnect
    (0x041D, 2, 7),  # Read_Remote_Version_Information
    (0x0C01, 5, 6),  # Set_Event_Mask
    (0x0C03, 5, 7),  # Reset
    (0x0C2D, 10, 2),  # Read_Transmit_Power_Level
    (0x0C35, 10, 7),  # Host_Number_Of_Completed_Packets
    (0x1001, 14, 3),  # Read_Local_Version_Information
    (0x1005, 14, 7),  # Read_Buffer_Size
    (0x1009, 15, 1),  # Read_BD_ADDR
    (0x1405, 15, 5),  # Read_RSSI
    (0x0C63, 22, 2),  # Set_Event_Mask_Page_2
    (0x0C6D, 24, 6),  # Write_LE_Host_Support
    (0x2001, 25, 0),  # LE_Set_Event_Mask
    (0x2008, 25, 7),  # LE_Set_Advertising_Data
    (0x200D, 26, 4),  # LE_Create_Connection
    (0x2018, 27, 7),  # LE_Rand
    (0x201C, 28, 3),  # LE_Read_Supported_States
    (0x0C7B, 32, 4),  # Read_Authenticated_Payload_Timeout
    (0x2022, 33, 6),  # LE_Set_Data_Length
    (0x2026, 34, 2),  # LE_Generate_DHKey [v1]
    (0x2032, 35, 6),  # LE_Set_PHY
    (0x2036, 36, 2),  # LE_Set_Extended_Advertising_Parameters [v1]
    (0x203D, 37, 1),  # LE_Clear_Advertising_Sets
    (0x2043, 37, 7),  # LE_Extended_Create_Connection [v1]
    (0x204B, 38, 7),  # LE_Read_Transmit_Power
    (0x204E, 39, 2),  # LE_Set_Privacy_Mode
    (0x2060, 41, 5),  # LE_Read_Buffer_Size [v2]
]


@pytest.mark.parametrize("op,octet,bit", SPEC_ROWS, ids=lambda v: str(v))
def test_spec_rows(op: int, octet: int, bit: int) -> None:
    assert SUPPORTED_COMMANDS[op] == (octet, bit)
    bitmap = supported_commands_bitmap([op])
    assert len(bitmap) == 64
    assert bitmap == bytes(octet) + bytes([1 << bit]) + bytes(63 - octet)
    assert is_supported(bitmap, op)


def test_every_registered_command_has_a_bit() -> None:
    for op in hci.COMMANDS:
        assert op in SUPPORTED_COMMANDS or op in ALWAYS_SUPPORTED, hex(op)
    assert set(SUPPORTED_COMMANDS) <= set(hci.COMMANDS)
    positions = list(SUPPORTED_COMMANDS.values())
    assert len(positions) == len(set(positions)), "two commands share a bit"
    assert all(0 <= o < 64 and 0 <= b < 8 for o, b in positions)


def test_full_bitmap_literal() -> None:
    bitmap = supported_commands_bitmap([0x0C03, 0x0C01, 0x1009, 0x2001, 0x2002, 0x1002])
    assert bitmap[5] == 0xC0 and bitmap[15] == 0x02 and bitmap[25] == 0x03
    assert sum(bin(b).count("1") for b in bitmap) == 5
    assert is_supported(bitmap, 0x1002)  # Read_Local_Supported_Commands: no bit, always
    assert not is_supported(bitmap, 0x2005)
    assert not is_supported(bitmap, 0xFC00)  # unknown opcode
    assert not is_supported(b"", 0x0C03)
    with pytest.raises(KeyError):
        supported_commands_bitmap([0xFC00])


@given(st.sets(st.sampled_from(sorted(SUPPORTED_COMMANDS))))
def test_bitmap_round_trip(ops: set[int]) -> None:
    bitmap = supported_commands_bitmap(ops)
    assert {op for op in SUPPORTED_COMMANDS if is_supported(bitmap, op)} == ops


def test_le_feature_bits() -> None:
    expected = {
        "LE_ENCRYPTION": 0,
        "CONNECTION_PARAMETERS_REQUEST_PROCEDURE": 1,
        "EXTENDED_REJECT_INDICATION": 2,
        "PERIPHERAL_INITIATED_FEATURES_EXCHANGE": 3,
        "LE_PING": 4,
        "LE_DATA_PACKET_LENGTH_EXTENSION": 5,
        "LL_PRIVACY": 6,
        "EXTENDED_SCANNER_FILTER_POLICIES": 7,
        "LE_2M_PHY": 8,
        "STABLE_MODULATION_INDEX_TRANSMITTER": 9,
        "STABLE_MODULATION_INDEX_RECEIVER": 10,
        "LE_CODED_PHY": 11,
        "LE_EXTENDED_ADVERTISING": 12,
        "LE_PERIODIC_ADVERTISING": 13,
        "CHANNEL_SELECTION_ALGORITHM_2": 14,
        "LE_POWER_CLASS_1": 15,
        "MINIMUM_NUMBER_OF_USED_CHANNELS_PROCEDURE": 16,
        "SLEEP_CLOCK_ACCURACY_UPDATES": 26,
        "REMOTE_PUBLIC_KEY_VALIDATION": 27,
        "CONNECTED_ISOCHRONOUS_STREAM_HOST_SUPPORT": 32,
        "CHANNEL_CLASSIFICATION": 39,
    }
    for name, bit in expected.items():
        assert LeFeature[name] == 1 << bit, name
    assert len({int(f) for f in LeFeature}) == len(list(LeFeature))


def test_le_features_bytes() -> None:
    features = LeFeature.LE_ENCRYPTION | LeFeature.LE_2M_PHY | LeFeature.CHANNEL_SELECTION_ALGORITHM_2
    assert le_features_to_bytes(features) == bytes.fromhex("0141000000000000")
    assert le_features_from_bytes(bytes.fromhex("0141000000000000")) == features
    # Bits unknown to this enum are kept, not dropped.
    assert int(le_features_from_bytes(bytes.fromhex("0000000000000080"))) == 1 << 63
    with pytest.raises(ValueError):
        le_features_from_bytes(b"\x01")
