"""Tests of emu.capture: air (DLT 256) and HCI (btsnoop 1002, DLT 201) capture files.

Bytes are checked against the shared sample captures (decoded cleanly by tshark 4.0.17),
against scapy's independent ``BTLE_RF`` encoder, and by decoding our files with tshark.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emu.capture import (
    CAPTURE_EPOCH_UNIX_NS,
    AirCapture,
    AirRecord,
    CaptureFormatError,
    HciCapture,
    HciDirection,
    LePhdr,
    PhdrPduType,
    build_air_packet,
    read_air_pcap,
)
from phy.types import Phy
from tests.tshark import (
    assert_clean_capture,
    require_tshark,
    run_tshark,
    tshark_expert,
    tshark_expert_items,
    tshark_fields,
)

VECTORS = Path("/work/shared/vectors/captures")
REPO = Path(__file__).resolve().parents[2]
ADV_AA = 0x8E89BED6
CONN_AA = 0x50654AC3
CRC_INIT = 0x123456
VECTOR_EPOCH_UNIX_NS = 1_700_000_000 * 1_000_000_000


# --- a small, independent CRC-24 (Vol 6 Part B 3.1.1) ------------------------------------


def crc24(crc_init: int, pdu: bytes) -> bytes:
    """CRC octets as sent on air: LFSR poly x^24+x^10+x^9+x^6+x^4+x^3+x+1, LSB first."""
    reg = crc_init
    for octet in pdu:
        for i in range(8):
            feedback = ((octet >> i) & 1) ^ ((reg >> 23) & 1)
            reg = (reg << 1) & 0xFFFFFF
            if feedback:
                reg ^= 0x00065B
    # Position 23 of the register goes out first: bit-reverse, then little-endian octets.
    out = 0
    for i in range(24):
        if (reg >> i) & 1:
            out |= 1 << (23 - i)
    return out.to_bytes(3, "little")


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def test_local_crc24_matches_sample_captures() -> None:
    # CRCs from le_ll_phdr_256.pcap (accepted by Wireshark, see reference/wireshark.md §8).
    adv_ind = h("4014 554433 2211c0 020106 0a09456d755065726970 68")
    assert crc24(0x555555, adv_ind) == h("fab39d")
    read_req = h("0207 0300 0400 0a0300")
    assert crc24(CRC_INIT, read_req) == h("97bfa6")


def test_local_crc24_agrees_with_linklayer_crypto() -> None:
    crypto = pytest.importorskip("linklayer.crypto")
    for init, pdu in [(0x555555, h("4014554433221100")), (CRC_INIT, h("0207030004000a0300")),
                      (0xABCDEF, b""), (0x000001, bytes(range(40)))]:
        assert crypto.crc24_bytes(init, pdu) == crc24(init, pdu)


# --- the pseudo-header ----------------------------------------------------------------------


def scapy_phdr(**fields: Any) -> bytes:
    from scapy.layers.bluetooth4LE import BTLE_RF

    return bytes(BTLE_RF(**fields))


@pytest.mark.parametrize(
    ("kwargs", "scapy_fields"),
    [
        (
            dict(channel_index=37, phy=Phy.LE_1M, access_address=ADV_AA, rssi_dbm=-40.4),
            dict(rf_channel=0, signal=-40, reference_access_address=ADV_AA, dewhitened=1,
                 sig_power_valid=1, crc_checked=1, crc_valid=1),
        ),
        (
            dict(channel_index=7, phy=Phy.LE_2M, access_address=CONN_AA, rssi_dbm=None,
                 crc_valid=False, pdu_kind=2),
            dict(rf_channel=8, reference_access_address=CONN_AA, dewhitened=1, type=2,
                 crc_checked=1, phy=1),
        ),
        (
            dict(channel_index=36, phy=Phy.LE_1M, access_address=CONN_AA, rssi_dbm=-300.0,
                 pdu_kind=3, decrypted=True, mic_valid=True),
            dict(rf_channel=38, signal=-128, reference_access_address=CONN_AA, dewhitened=1,
                 sig_power_valid=1, decrypted=1, type=3, crc_checked=1, crc_valid=1,
                 mic_checked=1, mic_valid=1),
        ),
        (
            dict(channel_index=0, phy=Phy.LE_1M, access_address=CONN_AA, rssi_dbm=12.0,
                 pdu_kind=2, decrypted=True, mic_valid=False),
            dict(rf_channel=1, signal=12, reference_access_address=CONN_AA, dewhitened=1,
                 sig_power_valid=1, decrypted=1, type=2, crc_checked=1, crc_valid=1,
                 mic_checked=1),
        ),
        (
            dict(channel_index=38, phy=Phy.LE_CODED_S8, access_address=ADV_AA, rssi_dbm=500.0),
            dict(rf_channel=12, signal=127, reference_access_address=ADV_AA, dewhitened=1,
                 sig_power_valid=1, crc_checked=1, crc_valid=1, phy=2),
        ),
        (
            # Aux advertising: bits 12-13 carry the aux type (3 = AUX_SCAN_RSP).
            dict(channel_index=20, phy=Phy.LE_1M, access_address=ADV_AA, rssi_dbm=-70.0,
                 pdu_kind=1, aux_type=3),
            dict(rf_channel=22, signal=-70, reference_access_address=ADV_AA, dewhitened=1,
                 sig_power_valid=1, type=1, crc_checked=1, crc_valid=1, mic_checked=1,
                 mic_valid=1),
        ),
    ],
)
def test_phdr_matches_scapy(kwargs: dict[str, Any], scapy_fields: dict[str, Any]) -> None:
    frame = build_air_packet(pdu=h("4000"), crc=h("000000"), **kwargs)
    assert frame[:10] == scapy_phdr(**scapy_fields)


def test_air_frame_literal_bytes() -> None:
    pdu = h("4014 554433 2211c0 020106 0a09456d755065726970 68")
    frame = build_air_packet(37, Phy.LE_1M, ADV_AA, pdu, h("fab39d"), rssi_dbm=-40)
    # rf 0, signal -40 (d8), noise -128 invalid (80), offenses 0, ref AA, flags 0x0c03.
    assert frame == h("00 d8 80 00 d6be898e 030c d6be898e") + pdu + h("fab39d")
    coded = build_air_packet(39, Phy.LE_CODED_S2, ADV_AA, h("0700"), h("010203"), rssi_dbm=None)
    # rf 39 (27), no signal, flags 0x8c01 (Coded), then AA and coding indicator 1 (S=2).
    assert coded == h("27 80 80 00 d6be898e 018c d6be898e 01 0700 010203")


def test_phdr_codec_round_trip() -> None:
    head = LePhdr(rf_channel=12, signal_dbm=-60, noise_dbm=-128, aa_offenses=0,
                  reference_access_address=ADV_AA, flags=0x0C03)
    assert LePhdr.from_bytes(head.to_bytes()) == head
    assert head.to_bytes() == h("0c c4 80 00 d6be898e 030c")
    with pytest.raises(CaptureFormatError):
        LePhdr.from_bytes(b"\x00" * 9)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(channel_index=40),
        dict(channel_index=-1),
        dict(crc=h("0000")),
        dict(pdu=h("40")),
        dict(access_address=1 << 32),
        dict(pdu_kind=7),
        dict(pdu_kind=2, aux_type=0),
        dict(pdu_kind=1, mic_valid=True),
        dict(pdu_kind=1, aux_type=4),
        dict(coding_indicator=0),
        dict(phy=Phy.LE_CODED_S8, coding_indicator=4),
        dict(rssi_dbm=float("nan")),
    ],
)
def test_build_air_packet_rejects_bad_arguments(kwargs: dict[str, Any]) -> None:
    args: dict[str, Any] = dict(channel_index=37, phy=Phy.LE_1M, access_address=ADV_AA,
                                pdu=h("4000"), crc=h("000000"), rssi_dbm=-40.0)
    args.update(kwargs)
    with pytest.raises(ValueError):
        build_air_packet(**args)


# --- the air capture file -------------------------------------------------------------------


def test_air_capture_file_layout(tmp_path: Path) -> None:
    path = tmp_path / "air.pcap"
    with AirCapture(path) as cap:
        assert path.read_bytes() == h("4d3cb2a1 0200 0400 00000000 00000000 ffff0000 00010000")
        cap.write(1_234_567_890_123, 37, Phy.LE_1M, ADV_AA, h("4000"), h("010203"), rssi_dbm=-40)
        assert cap.packets_written == 1
    assert cap.closed
    data = path.read_bytes()
    sec = 1_767_225_600 + 1_234
    # Nanosecond pcap record header: seconds, nanoseconds, incl_len, orig_len.
    assert data[24:40] == struct.pack("<IIII", sec, 567_890_123, 19, 19)
    with pytest.raises(ValueError):
        cap.write(0, 37, Phy.LE_1M, ADV_AA, h("4000"), h("010203"), rssi_dbm=None)


def test_air_capture_rejects_negative_time(tmp_path: Path) -> None:
    with AirCapture(tmp_path / "a.pcap") as cap, pytest.raises(ValueError):
        cap.write(-1, 37, Phy.LE_1M, ADV_AA, h("4000"), h("010203"), rssi_dbm=None)


def test_read_sample_capture() -> None:
    records = read_air_pcap(VECTORS / "le_ll_phdr_256.pcap", epoch_unix_ns=VECTOR_EPOCH_UNIX_NS)
    assert len(records) == 8
    first, read_rsp = records[0], records[5]
    assert (first.t_ns, first.channel_index, first.rf_channel) == (1_250_000, 37, 0)
    assert (first.rssi_dbm, first.flags, first.access_address) == (-40, 0x0C37, ADV_AA)
    assert first.pdu[:2] == h("4014") and first.crc == h("fab39d")
    assert first.phy is Phy.LE_1M and first.pdu_kind == 0
    assert (read_rsp.t_ns, read_rsp.channel_index, read_rsp.pdu_kind) == (3_100_000, 7, 3)
    assert read_rsp.access_address == CONN_AA and read_rsp.crc_valid and read_rsp.crc_checked
    assert read_rsp.pdu == h("060e 0a00 0400 0b 456d755065726970 68")
    edge = read_air_pcap(VECTORS / "le_ll_phdr_256_edge_cases.pcap", epoch_unix_ns=0)
    assert [r.decrypted for r in edge] == [False, False, False, True, True]
    assert [r.mic_valid for r in edge] == [None, None, True, True, True]
    assert edge[0].t_ns == 100 * 1_000_000_000


def test_rewriting_sample_capture_keeps_ll_bytes(tmp_path: Path) -> None:
    """Our frames carry the same AA/PDU/CRC octets as the independent sample writer's."""
    sample = VECTORS / "le_ll_phdr_256.pcap"
    records = read_air_pcap(sample, epoch_unix_ns=VECTOR_EPOCH_UNIX_NS)
    path = tmp_path / "rewritten.pcap"
    with AirCapture(path, epoch_unix_ns=VECTOR_EPOCH_UNIX_NS) as cap:
        for r in records:
            cap.write(r.t_ns, r.channel_index, r.phy, r.access_address, r.pdu, r.crc,
                      rssi_dbm=r.rssi_dbm, pdu_kind=r.pdu_kind)

    def frames(data: bytes, ts_scale: int) -> list[tuple[int, bytes]]:
        out, offset = [], 24
        while offset < len(data):
            sec, frac, incl, _ = struct.unpack_from("<IIII", data, offset)
            stamp = sec * 1_000_000_000 + frac * ts_scale
            out.append((stamp, data[offset + 16 : offset + 16 + incl]))
            offset += 16 + incl
        return out

    theirs = frames(sample.read_bytes(), 1_000)
    ours = frames(path.read_bytes(), 1)
    assert [t for t, _ in ours] == [t for t, _ in theirs]
    assert [f[10:] for _, f in ours] == [f[10:] for _, f in theirs]
    assert [f[:8] for _, f in ours] == [f[:2] + b"\x80" + f[3:8] for _, f in theirs]


def test_reader_rejects_malformed_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"not a pcap file at all....")
    with pytest.raises(CaptureFormatError):
        read_air_pcap(bad)
    bad.write_bytes(b"\x00" * 4)
    with pytest.raises(CaptureFormatError):
        read_air_pcap(bad)
    with pytest.raises(CaptureFormatError):
        read_air_pcap(VECTORS / "hci_h4_phdr_201.pcap")  # link type 201, not 256
    good = tmp_path / "good.pcap"
    with AirCapture(good) as cap:
        for i in range(3):
            cap.write(i * 1000, 37, Phy.LE_1M, ADV_AA, h("4000"), h("010203"), rssi_dbm=-50)
    cut = tmp_path / "cut.pcap"
    for trim in (1, 19, 25):  # inside the last frame, inside its record header
        cut.write_bytes(good.read_bytes()[:-trim])
        with pytest.raises(CaptureFormatError):
            read_air_pcap(cut)
        assert len(read_air_pcap(cut, strict=False)) == 2
    # A frame too short for header + CRC.
    short = bytearray(good.read_bytes()[:24])
    short += struct.pack("<IIII", 0, 0, 15, 15) + build_air_packet(
        37, Phy.LE_1M, ADV_AA, h("4000"), h("010203"), rssi_dbm=None)[:15]
    cut.write_bytes(bytes(short))
    with pytest.raises(CaptureFormatError):
        read_air_pcap(cut)


_packet = st.fixed_dictionaries(
    {
        "t_ns": st.integers(0, 10**15),
        "channel_index": st.integers(0, 39),
        "phy": st.sampled_from(list(Phy)),
        "access_address": st.integers(0, 0xFFFFFFFF),
        "pdu": st.binary(min_size=2, max_size=257),
        "crc": st.binary(min_size=3, max_size=3),
        "rssi_dbm": st.none() | st.floats(-300, 300),
        "crc_valid": st.booleans(),
        "pdu_kind": st.integers(0, 6),
        "decrypted": st.booleans(),
        "mic_or_aux": st.none() | st.integers(0, 3),
    }
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_packet, min_size=1, max_size=8))
def test_air_round_trip_property(packets: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rt.pcap"
        with AirCapture(path) as cap:
            for p in packets:
                extra = p["mic_or_aux"]
                is_aux = p["pdu_kind"] == PhdrPduType.AUX_ADV
                cap.write(
                    p["t_ns"], p["channel_index"], p["phy"], p["access_address"], p["pdu"],
                    p["crc"], rssi_dbm=p["rssi_dbm"], crc_valid=p["crc_valid"],
                    pdu_kind=p["pdu_kind"], decrypted=p["decrypted"],
                    aux_type=extra if is_aux else None,
                    mic_valid=None if is_aux or extra is None else bool(extra & 1),
                )
        records = read_air_pcap(path)
    assert len(records) == len(packets)
    for p, r in zip(packets, records):
        extra = p["mic_or_aux"]
        is_aux = p["pdu_kind"] == PhdrPduType.AUX_ADV
        rssi = None if p["rssi_dbm"] is None else max(-128, min(127, round(p["rssi_dbm"])))
        assert r == AirRecord(
            t_ns=p["t_ns"], channel_index=p["channel_index"], rf_channel=r.rf_channel,
            rssi_dbm=rssi, flags=r.flags, phy=p["phy"], pdu_kind=p["pdu_kind"],
            access_address=p["access_address"],
            coding_indicator={Phy.LE_CODED_S8: 0, Phy.LE_CODED_S2: 1}.get(p["phy"]),
            pdu=p["pdu"], crc=p["crc"],
        )
        assert r.crc_checked and r.crc_valid == p["crc_valid"]
        assert r.decrypted == p["decrypted"]
        assert r.aux_type == ((extra or 0) if is_aux else None)
        assert r.mic_valid == (None if is_aux or extra is None else bool(extra & 1))


# --- a hand-made world on the air, decoded by tshark ------------------------------------------

ADVA = "554433 2211c0"  # c0:11:22:33:44:55, random
INITA = "eeddcc bbaad0"  # d0:aa:bb:cc:dd:ee, random

ADV_IND = h("4014" + ADVA + "020106 0a09 426c6573696d416476")  # name "BlesimAdv"
SCAN_REQ = h("c30c" + INITA + ADVA)
SCAN_RSP = h("440f" + ADVA + "020a04 0508 426c6573")  # Tx Power 4 dBm, name "Bles"
ADV_NONCONN_IND = h("4211" + ADVA + "020104 0709 426561636f6e")  # name "Beacon"
# ADV_EXT_IND (Vol 6 Part B 2.3.4): ext header length 6, AdvMode 0; flags ADI|AuxPtr;
# ADI DID 0x123 SID 1; AuxPtr channel 5, 30 us units, offset 10, PHY 1M.
ADV_EXT_IND = h("0707 06 18 2311 050a00")
# AUX_ADV_IND: TxAdd random, ext header length 9 (flags AdvA|ADI), AdvA, ADI, then
# AdvData Flags + Complete Local Name "EmuAux".
AUX_ADV_IND = h("4715 09 09" + ADVA + "2311 020106 0709 456d75417578")
# The same ADV_EXT_IND on the Coded PHY, AuxPtr PHY = Coded (2).
ADV_EXT_IND_CODED = h("0707 06 18 2311 050a40")
# CONNECT_IND: InitA, AdvA, AA 0x50654ac3, CRCInit 0x123456, WinSize 2, WinOffset 0,
# Interval 24, Latency 0, Timeout 72, ChM all 37, hop 7, SCA 0.
CONNECT_IND = h("c522" + INITA + ADVA + "c34a6550 563412 02 0000 1800 0000 4800 ffffffff1f 07")
READ_REQ = h("0207 0300 0400 0a0300")  # C->P SN0 NESN0, ATT Read Request handle 3
READ_RSP = h("060b 0700 0400 0b 426c6573696d")  # P->C SN0 NESN1, value "Blesim"
VERSION_C = h("0f06 0c0d 5900 0000")  # C->P SN1 NESN1, LL_VERSION_IND
VERSION_P = h("0b06 0c0d 5900 0100")  # P->C SN1 NESN0, LL_VERSION_IND
WRITE_REQ = h("0208 0400 0400 12 0300 01")  # C->P SN0 NESN0, Write Request (decrypted)
WRITE_RSP = h("0605 0100 0400 13")  # P->C SN0 NESN1, Write Response (decrypted)

# (t_us, channel index, phy, AA, pdu, crc init, keyword arguments)
WORLD: list[tuple[int, int, Phy, int, bytes, int, dict[str, Any]]] = [
    (1000, 37, Phy.LE_1M, ADV_AA, ADV_IND, 0x555555, {}),
    (1326, 37, Phy.LE_1M, ADV_AA, SCAN_REQ, 0x555555, {"rssi_dbm": -55.0}),
    (1622, 37, Phy.LE_1M, ADV_AA, SCAN_RSP, 0x555555, {}),
    (3000, 38, Phy.LE_1M, ADV_AA, ADV_NONCONN_IND, 0x555555, {}),
    (5000, 37, Phy.LE_1M, ADV_AA, ADV_EXT_IND, 0x555555, {}),
    (5300, 5, Phy.LE_1M, ADV_AA, AUX_ADV_IND, 0x555555, {"pdu_kind": 1, "aux_type": 0}),
    (7000, 39, Phy.LE_CODED_S8, ADV_AA, ADV_EXT_IND_CODED, 0x555555, {}),
    (9000, 37, Phy.LE_1M, ADV_AA, ADV_IND, 0x555555, {}),
    (9326, 37, Phy.LE_1M, ADV_AA, CONNECT_IND, 0x555555, {"rssi_dbm": -55.0}),
    (12000, 7, Phy.LE_1M, CONN_AA, READ_REQ, CRC_INIT, {"pdu_kind": 2, "rssi_dbm": -55.0}),
    (12230, 7, Phy.LE_1M, CONN_AA, READ_RSP, CRC_INIT, {"pdu_kind": 3}),
    (42000, 14, Phy.LE_1M, CONN_AA, VERSION_C, CRC_INIT, {"pdu_kind": 2, "rssi_dbm": -55.0}),
    (42230, 14, Phy.LE_1M, CONN_AA, VERSION_P, CRC_INIT, {"pdu_kind": 3}),
    (72000, 21, Phy.LE_1M, CONN_AA, WRITE_REQ, CRC_INIT,
     {"pdu_kind": 2, "rssi_dbm": -55.0, "decrypted": True, "mic_valid": True}),
    (72230, 21, Phy.LE_1M, CONN_AA, WRITE_RSP, CRC_INIT,
     {"pdu_kind": 3, "decrypted": True, "mic_valid": True}),
]


def write_world(path: Path) -> None:
    with AirCapture(path) as cap:
        for t_us, ch, phy, aa, pdu, init, kwargs in WORLD:
            args = {"rssi_dbm": -40.0, **kwargs}
            cap.write(t_us * 1000, ch, phy, aa, pdu, crc24(init, pdu), **args)
        assert cap.packets_written == len(WORLD)


def test_world_capture_decodes_in_tshark(tmp_path: Path) -> None:
    require_tshark()
    path = tmp_path / "world.pcap"
    write_world(path)
    assert_clean_capture(path, expected_packets=len(WORLD))
    assert sum(tshark_expert(path).values()) == 0  # not even a Note
    rows = tshark_fields(path, ["btle_rf.channel", "btle_rf.flags", "btle_rf.signal_dbm",
                                "btle.advertising_header.pdu_type", "btle.access_address",
                                "btcommon.eir_ad.entry.device_name", "btle.coding_indicator"])
    assert [r[0] for r in rows] == ["0", "0", "0", "12", "0", "6", "39", "0", "0",
                                    "8", "8", "16", "16", "23", "23"]
    assert [r[1] for r in rows] == [
        "0x0c03", "0x0c03", "0x0c03", "0x0c03", "0x0c03", "0x0c83", "0x8c03", "0x0c03",
        "0x0c03", "0x0d03", "0x0d83", "0x0d03", "0x0d83", "0x3d0b", "0x3d8b"]
    assert {r[2] for r in rows} == {"-40", "-55"}
    assert [r[3] for r in rows] == ["0x00", "0x03", "0x04", "0x02", "0x07", "0x07", "0x07",
                                    "0x00", "0x05"] + [""] * 6
    assert [r[4] for r in rows] == ["0x8e89bed6"] * 9 + ["0x50654ac3"] * 6
    assert [r[5] for r in rows] == ["BlesimAdv", "", "Bles", "Beacon", "", "EmuAux", "",
                                    "BlesimAdv", ""] + [""] * 6
    assert [r[6] for r in rows] == [""] * 6 + ["0"] + [""] * 8
    # The connection is followed from the CONNECT_IND, directions come from the PHDR.
    conn = tshark_fields(path, ["btle.master_bd_addr", "btle.slave_bd_addr", "btatt.opcode",
                                "btle.control_opcode", "btle.data_header.llid"],
                         display_filter="btle.access_address == 0x50654ac3")
    assert {(r[0], r[1]) for r in conn} == {("d0:aa:bb:cc:dd:ee", "c0:11:22:33:44:55")}
    assert [r[2] for r in conn] == ["0x0a", "0x0b", "", "", "0x12", "0x13"]
    assert [r[3] for r in conn] == ["", "", "0x0c", "0x0c", "", ""]
    assert [r[4] for r in conn] == ["0x02", "0x02", "0x03", "0x03", "0x02", "0x02"]
    aux = tshark_fields(path, ["_ws.col.Info"], display_filter="btle_rf.pdu_type == 1")
    assert aux == [["AUX_ADV_IND"]]


def test_world_timestamps_are_simulated_time_in_ns(tmp_path: Path) -> None:
    require_tshark()
    path = tmp_path / "world.pcap"
    with AirCapture(path) as cap:
        cap.write(1_234, 37, Phy.LE_1M, ADV_AA, ADV_IND, crc24(0x555555, ADV_IND), rssi_dbm=-40)
    assert tshark_fields(path, ["frame.time_epoch"]) == [["1767225600.000001234"]]


def test_test_crcs_are_accepted_by_wireshark_recomputation(tmp_path: Path) -> None:
    """With "CRC checked" cleared Wireshark recomputes advertising CRCs itself: an
    independent check of the CRCs this test writes.

    Coded-PHY frames keep the flag: Wireshark 4.0.17 computes their CRC over the coding
    indicator plus the PDU minus its last octet (measured), so it rejects correct CRCs.
    """
    require_tshark()
    path = tmp_path / "world.pcap"
    write_world(path)
    data = bytearray(path.read_bytes())
    offset, adv = 24, 0
    while offset < len(data):
        incl = struct.unpack_from("<I", data, offset + 8)[0]
        frame = offset + 16
        flags = struct.unpack_from("<H", data, frame + 8)[0]
        is_coded = flags >> 14 == 2
        if data[frame + 10 : frame + 14] == ADV_AA.to_bytes(4, "little") and not is_coded:
            flags = struct.unpack_from("<H", data, frame + 8)[0] & ~0x0C00
            struct.pack_into("<H", data, frame + 8, flags)
            adv += 1
        offset = frame + incl
    path.write_bytes(bytes(data))
    assert adv == 8
    assert_clean_capture(path)
    # Control: one flipped bit in the first frame's CRC is caught by the same check.
    first_crc_last_octet = 24 + 16 + struct.unpack_from("<I", data, 24 + 8)[0] - 1
    data[first_crc_last_octet] ^= 0x01
    path.write_bytes(bytes(data))
    items = tshark_expert_items(path)
    assert [(i.frame, i.severity, i.message) for i in items] == [(1, "warning", "Incorrect CRC")]


def test_crc_invalid_flag_shows_incorrect_crc(tmp_path: Path) -> None:
    require_tshark()
    path = tmp_path / "bad_crc.pcap"
    with AirCapture(path) as cap:
        cap.write(0, 37, Phy.LE_1M, ADV_AA, ADV_IND, crc24(0x555555, ADV_IND), rssi_dbm=-40)
        cap.write(500_000, 37, Phy.LE_1M, ADV_AA, ADV_IND, h("000000"), rssi_dbm=-40,
                  crc_valid=False)
    items = tshark_expert_items(path)
    assert [(i.frame, i.severity, i.message) for i in items] == [(2, "warning", "Incorrect CRC")]
    assert tshark_expert(path)["warning"] == 1
    with pytest.raises(AssertionError, match="Incorrect CRC"):
        assert_clean_capture(path)


def test_assert_clean_capture_catches_malformed_packets(tmp_path: Path) -> None:
    require_tshark()
    path = tmp_path / "malformed.pcap"
    short_ad = h("4009" + ADVA + "050106")  # AD structure says 5 octets, 2 follow
    with AirCapture(path) as cap:
        cap.write(0, 37, Phy.LE_1M, ADV_AA, short_ad, crc24(0x555555, short_ad), rssi_dbm=None)
    counts = tshark_expert(path)
    assert counts["malformed"] == 1 and counts["error"] >= 1
    with pytest.raises(AssertionError, match="malformed"):
        assert_clean_capture(path)


def test_air_capture_is_deterministic(tmp_path: Path) -> None:
    write_world(tmp_path / "a.pcap")
    write_world(tmp_path / "b.pcap")
    assert (tmp_path / "a.pcap").read_bytes() == (tmp_path / "b.pcap").read_bytes()


# --- crash safety ------------------------------------------------------------------------------

_CRASH_SCRIPT = """
import os, sys
from emu.capture import AirCapture, HciCapture
from phy.types import Phy
air = AirCapture(sys.argv[1])
hci = HciCapture(sys.argv[2])
pdu, crc = bytes.fromhex(sys.argv[3]), bytes.fromhex(sys.argv[4])
for i in range(5):
    air.write(i * 1_000_000, 37, Phy.LE_1M, 0x8E89BED6, pdu, crc, rssi_dbm=-40.0)
    hci.write(i * 1_000_000, "host->controller", 1, bytes.fromhex("030c00"))
os._exit(3)  # no close(), no interpreter clean-up: buffered data would be lost
"""


def test_capture_survives_a_crash(tmp_path: Path) -> None:
    air, hci = tmp_path / "air.pcap", tmp_path / "hci.btsnoop"
    proc = subprocess.run(
        [sys.executable, "-c", _CRASH_SCRIPT, str(air), str(hci), ADV_IND.hex(),
         crc24(0x555555, ADV_IND).hex()],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode == 3, proc.stderr
    assert len(read_air_pcap(air)) == 5
    if shutil.which("tshark") is None:
        return
    assert_clean_capture(air, expected_packets=5)
    assert_clean_capture(hci, expected_packets=5)


def test_file_cut_inside_a_packet_is_readable_up_to_the_last_whole_one(tmp_path: Path) -> None:
    require_tshark()
    path = tmp_path / "world.pcap"
    write_world(path)
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(path.read_bytes()[:-7])
    rows = tshark_fields(cut, ["frame.number"], check=False)
    assert len(rows) == len(WORLD) - 1
    assert len(read_air_pcap(cut, strict=False)) == len(WORLD) - 1


# --- HCI captures -------------------------------------------------------------------------------


def sample_btsnoop_records() -> list[tuple[int, int, bytes]]:
    """(flags, timestamp µs since year 0, H4 packet) from the shared btsnoop sample."""
    data = (VECTORS / "hci_h4_1002.btsnoop").read_bytes()
    assert data[:16] == b"btsnoop\x00" + struct.pack(">II", 1, 1002)
    out, offset = [], 16
    while offset < len(data):
        orig, incl, flags, drops, ts = struct.unpack_from(">IIIIq", data, offset)
        out.append((flags, ts, data[offset + 24 : offset + 24 + incl]))
        offset += 24 + incl
    return out


HciFormat = Literal["btsnoop", "pcap"]


def write_hci_sample(path: Path, fmt: HciFormat, epoch_unix_ns: int = VECTOR_EPOCH_UNIX_NS) -> None:
    with HciCapture(path, fmt, epoch_unix_ns=epoch_unix_ns) as cap:
        for flags, ts, packet in sample_btsnoop_records():
            t_ns = (ts - 0x00DCDDB30F2F8000) * 1000 - VECTOR_EPOCH_UNIX_NS
            direction: HciDirection = "controller->host" if flags & 1 else "host->controller"
            cap.write(t_ns, direction, packet[0], packet[1:])
        assert cap.packets_written == 8


def test_btsnoop_matches_sample_file_bytes(tmp_path: Path) -> None:
    path = tmp_path / "hci.btsnoop"
    write_hci_sample(path, "btsnoop")
    assert path.read_bytes() == (VECTORS / "hci_h4_1002.btsnoop").read_bytes()


def test_hci_pcap_201_matches_sample_records(tmp_path: Path) -> None:
    path = tmp_path / "hci.pcap"
    write_hci_sample(path, "pcap")
    ours, theirs = path.read_bytes(), (VECTORS / "hci_h4_phdr_201.pcap").read_bytes()
    assert struct.unpack_from("<I", ours, 0)[0] == 0xA1B23C4D
    assert struct.unpack_from("<I", ours, 20)[0] == struct.unpack_from("<I", theirs, 20)[0] == 201

    def records(data: bytes, scale: int) -> list[tuple[int, bytes]]:
        out, offset = [], 24
        while offset < len(data):
            sec, frac, incl, _ = struct.unpack_from("<IIII", data, offset)
            out.append((sec * 10**9 + frac * scale, data[offset + 16 : offset + 16 + incl]))
            offset += 16 + incl
        return out

    assert records(ours, 1) == records(theirs, 1000)


def test_btsnoop_default_epoch_and_timestamp_truncation(tmp_path: Path) -> None:
    path = tmp_path / "hci.btsnoop"
    with HciCapture(path) as cap:
        cap.write(1_000_999, "controller->host", 0x04, h("0e0401030c00"))
        cap.write(2_000_000, "host->controller", 0x02, h("0100 0700 0300 0400 0a0300"))
    data = path.read_bytes()
    # 2026-01-01T00:00:00Z = Unix 1767225600 s; + 1 ms (the 999 ns are below µs resolution).
    stamp = 1_767_225_600_000_000 + 1_000 + 0x00DCDDB30F2F8000
    assert data[16:40] == struct.pack(">IIIIq", 7, 7, 3, 0, stamp)
    assert data[40:47] == h("04 0e0401030c00")
    # ACL host->controller: flags 0 (bit 0 direction, bit 1 command/event).
    assert struct.unpack_from(">I", data, 47 + 8)[0] == 0
    if shutil.which("tshark") is not None:
        times = tshark_fields(path, ["frame.time_epoch"])
        assert times == [["1767225600.001000000"], ["1767225600.002000000"]]


@pytest.mark.parametrize("fmt", ["btsnoop", "pcap"])
def test_hci_captures_decode_in_tshark(tmp_path: Path, fmt: HciFormat) -> None:
    require_tshark()
    path = tmp_path / f"hci.{fmt}"
    write_hci_sample(path, fmt, epoch_unix_ns=CAPTURE_EPOCH_UNIX_NS)
    assert_clean_capture(path, expected_packets=8)
    assert sum(tshark_expert(path).values()) == 0
    rows = tshark_fields(path, ["hci_h4.type", "hci_h4.direction", "bthci_cmd.opcode",
                                "bthci_evt.code", "btatt.opcode"])
    assert [r[0] for r in rows] == ["0x01", "0x04", "0x01", "0x04", "0x04", "0x02", "0x04", "0x02"]
    assert [r[1] for r in rows] == ["0x00", "0x01", "0x00", "0x01", "0x01", "0x00", "0x01", "0x01"]
    assert rows[0][2] == "0x0c03" and rows[2][2] == "0x200d"
    assert [r[3] for r in rows] == ["", "0x0e", "", "0x0f", "0x3e", "", "0x13", ""]
    assert rows[5][4] == "0x0a" and rows[7][4] == "0x0b"
    info = tshark_fields(path, ["_ws.col.Info"])
    assert info[0] == ["Sent Reset"] and info[1] == ["Rcvd Command Complete (Reset)"]


def test_hci_capture_is_deterministic_and_validates(tmp_path: Path) -> None:
    formats: list[HciFormat] = ["btsnoop", "pcap"]
    for fmt in formats:
        write_hci_sample(tmp_path / f"a.{fmt}", fmt, CAPTURE_EPOCH_UNIX_NS)
        write_hci_sample(tmp_path / f"b.{fmt}", fmt, CAPTURE_EPOCH_UNIX_NS)
        assert (tmp_path / f"a.{fmt}").read_bytes() == (tmp_path / f"b.{fmt}").read_bytes()
    with pytest.raises(ValueError):
        HciCapture(tmp_path / "x", "pcapng")  # type: ignore[arg-type]
    with HciCapture(tmp_path / "y.btsnoop") as cap:
        with pytest.raises(ValueError):
            cap.write(0, "sideways", 1, b"")  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            cap.write(0, "host->controller", 0x06, b"")
        with pytest.raises(ValueError):
            cap.write(-5, "host->controller", 0x01, h("030c00"))
        assert cap.packets_written == 0
    with pytest.raises(ValueError):
        cap.write(0, "host->controller", 0x01, h("030c00"))


def test_capture_creates_parent_directories(tmp_path: Path) -> None:
    path = tmp_path / "out" / "hci" / "node.btsnoop"
    HciCapture(path).close()
    assert path.read_bytes() == b"btsnoop\x00" + struct.pack(">II", 1, 1002)
    assert os.path.getsize(path) == 16


def test_run_tshark_reports_unreadable_files(tmp_path: Path) -> None:
    require_tshark()
    junk = tmp_path / "junk.pcap"
    junk.write_bytes(h("d4c3b2a1 0200 0400"))  # a pcap header cut short
    from tests.tshark import TsharkError

    with pytest.raises(TsharkError):
        run_tshark(["-r", str(junk)])
