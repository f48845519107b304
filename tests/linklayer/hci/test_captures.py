"""Decode the HCI sample captures of /work/shared/vectors/captures with our parsers.

The three files hold the same eight packets (Reset / Command Complete, LE Create
Connection / Command Status, LE Connection Complete, an ATT Read Request, Number Of
Completed Packets, an ATT Read Response) as pcap DLT 187 (H4), pcap DLT 201 (H4 with a
big-endian direction word) and btsnoop datalink 1002 (H4); all decode in tshark.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

import linklayer.hci as hci

CAPTURES = Path("/work/shared/vectors/captures")
ADDR_LE = bytes.fromhex("5544332211c0")

EXPECTED: list[object] = [
    hci.HCI_Reset_Command(),
    hci.command_complete(0x0C03, hci.StatusReturn(0)),
    hci.HCI_LE_Create_Connection_Command(
        le_scan_interval=0x60,
        le_scan_window=0x30,
        initiator_filter_policy=0,
        peer_address_type=1,
        peer_address=ADDR_LE,
        own_address_type=1,
        connection_interval_min=0x18,
        connection_interval_max=0x18,
        max_latency=0,
        supervision_timeout=0x48,
        min_ce_length=0,
        max_ce_length=0,
    ),
    hci.command_status(0x200D, 0),
    hci.HCI_LE_Connection_Complete_Event(0, 0x40, 0, 1, ADDR_LE, 0x18, 0, 0x48, 0),
    hci.HciAclData(0x40, hci.PB_FIRST_NON_FLUSHABLE, 0, bytes.fromhex("030004000a0300")),
    hci.HCI_Number_Of_Completed_Packets_Event(handles=(hci.CompletedPackets(0x40, 1),)),
    hci.HciAclData(0x40, hci.PB_FIRST_FLUSHABLE, 0, bytes.fromhex("0a0004000b") + b"EmuPeriph"),
]
# Direction of each packet: 0 host -> controller, 1 controller -> host.
DIRECTIONS = [0, 1, 0, 1, 1, 0, 1, 1]


def _pcap_records(path: Path) -> tuple[int, list[bytes]]:
    raw = path.read_bytes()
    magic, _, _, _, _, _, linktype = struct.unpack_from("<IHHiIII", raw)
    assert magic == 0xA1B2C3D4
    records, offset = [], 24
    while offset < len(raw):
        _, _, incl, _ = struct.unpack_from("<IIII", raw, offset)
        records.append(raw[offset + 16 : offset + 16 + incl])
        offset += 16 + incl
    return linktype, records


def _btsnoop_records(path: Path) -> tuple[int, list[tuple[int, bytes]]]:
    raw = path.read_bytes()
    assert raw[:8] == b"btsnoop\0"
    version, datalink = struct.unpack_from(">II", raw, 8)
    assert version == 1
    records, offset = [], 16
    while offset < len(raw):
        _, incl, flags, _, _ = struct.unpack_from(">IIIIq", raw, offset)
        records.append((flags, raw[offset + 24 : offset + 24 + incl]))
        offset += 24 + incl
    return datalink, records


def _decode_h4(record: bytes) -> object:
    return hci.decode_h4(record[0], record[1:])


def test_pcap_h4_187() -> None:
    linktype, records = _pcap_records(CAPTURES / "hci_h4_187.pcap")
    assert linktype == 187
    assert [_decode_h4(r) for r in records] == EXPECTED


def test_pcap_h4_with_phdr_201() -> None:
    linktype, records = _pcap_records(CAPTURES / "hci_h4_phdr_201.pcap")
    assert linktype == 201
    assert [struct.unpack(">I", r[:4])[0] & 1 for r in records] == DIRECTIONS
    assert [_decode_h4(r[4:]) for r in records] == EXPECTED


def test_btsnoop_h4_1002() -> None:
    datalink, records = _btsnoop_records(CAPTURES / "hci_h4_1002.btsnoop")
    assert datalink == 1002
    assert [flags & 1 for flags, _ in records] == DIRECTIONS
    decoded = [_decode_h4(data) for _, data in records]
    assert decoded == EXPECTED
    # Flags bit 1 marks command/event records, clear for ACL data.
    for (flags, _), packet in zip(records, decoded):
        assert bool(flags & 2) == (not isinstance(packet, hci.HciAclData))


@pytest.mark.parametrize("chunk", [1, 3, 7, 1000])
def test_capture_as_one_stream(chunk: int) -> None:
    _, records = _pcap_records(CAPTURES / "hci_h4_187.pcap")
    stream = b"".join(records)
    parser = hci.H4Parser(strict=True)
    packets: list[tuple[int, bytes]] = []
    for i in range(0, len(stream), chunk):
        packets += parser.feed(stream[i : i + chunk])
    assert [hci.decode_h4(t, p) for t, p in packets] == EXPECTED
    assert parser.pending == 0 and parser.discarded == 0


def test_our_encoders_reproduce_the_capture() -> None:
    _, records = _pcap_records(CAPTURES / "hci_h4_187.pcap")
    types = [
        hci.H4PacketType.COMMAND,
        hci.H4PacketType.EVENT,
        hci.H4PacketType.COMMAND,
        hci.H4PacketType.EVENT,
        hci.H4PacketType.EVENT,
        hci.H4PacketType.ACL,
        hci.H4PacketType.EVENT,
        hci.H4PacketType.ACL,
    ]
    for record, packet_type, obj in zip(records, types, EXPECTED):
        assert isinstance(obj, (hci.HciCommand, hci.HciEvent, hci.HciAclData))
        assert hci.h4_frame(packet_type, obj.to_bytes()) == record
