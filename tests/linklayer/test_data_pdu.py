"""Data channel PDU header and PDU.

Literal bytes: scapy's BTLE_DATA (which has LLID, NESN, SN, MD and a 3-bit RFU; it
predates the CP bit of Core 5.1, so CP/CTEInfo are checked against hand-built bytes),
the LL encryption sample packets in ``ll_ccm.json`` and the data frames of the shared
DLT 256 captures.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scapy.layers import bluetooth4LE as sc

from linklayer.data_pdu import LLID, MAX_DATA_PAYLOAD, MIC_SIZE, DataHeader, DataPdu
from linklayer.pdu import CTEInfo, PduDecodeError, PduFieldError

VECTORS = Path("/work/shared/vectors")
ADV_AA = 0x8E89BED6


def data_frames(name: str) -> list[bytes]:
    """PDUs (header + payload) of the non-advertising frames of a DLT 256 capture."""
    raw = (VECTORS / "captures" / name).read_bytes()
    out, pos = [], 24
    while pos < len(raw):
        incl = struct.unpack_from("<I", raw, pos + 8)[0]
        pkt = raw[pos + 16 : pos + 16 + incl]
        pos += 16 + incl
        if int.from_bytes(pkt[10:14], "little") != ADV_AA:
            out.append(pkt[14:-3])  # strip PHDR (10), AA (4) and CRC (3)
    return out


def test_header_bits_by_hand() -> None:
    # LLID bits 0-1, NESN 2, SN 3, MD 4, CP 5, RFU 6-7 (Vol 6 Part B 2.4).
    h = DataHeader(LLID.CONTROL, 6, nesn=1, sn=0, md=True)
    assert h.to_bytes() == bytes([0b0001_0111, 6])
    assert DataHeader.from_bytes(bytes([0b0000_1010, 27])) == DataHeader(LLID.DATA_START, 27, 0, 1)


@pytest.mark.parametrize(
    "llid,nesn,sn,md,length",
    [(1, 0, 0, 0, 0), (2, 1, 0, 0, 27), (3, 0, 1, 1, 9), (1, 1, 1, 1, 251), (2, 0, 1, 0, 255)],
)
def test_header_matches_scapy(llid: int, nesn: int, sn: int, md: int, length: int) -> None:
    theirs = bytes(sc.BTLE_DATA(LLID=llid, NESN=nesn, SN=sn, MD=md, len=length))
    ours = DataHeader(LLID(llid), length, nesn, sn, bool(md))
    assert ours.to_bytes() == theirs
    assert DataHeader.from_bytes(theirs) == ours


def test_ccm_sample_packets_headers() -> None:
    vectors = json.loads((VECTORS / "ll_ccm.json").read_text())
    for packet in vectors["packets"]:
        octet0 = int(packet["header_octet0"], 16)
        plaintext = bytes.fromhex(packet["plaintext_payload"])
        on_air = bytes.fromhex(packet["encrypted_pdu_on_air"])
        pdu = DataPdu.from_bytes(on_air)
        assert pdu.header.length == len(plaintext) + MIC_SIZE
        assert pdu.to_bytes() == on_air
        assert pdu.header.to_bytes()[0] == octet0
        plain = DataPdu.make(pdu.llid, plaintext, nesn=pdu.header.nesn, sn=pdu.header.sn)
        assert plain.to_bytes() == bytes([octet0, len(plaintext)]) + plaintext
    first = DataPdu.from_bytes(bytes.fromhex(vectors["packets"][0]["encrypted_pdu_on_air"]))
    # 0x0f: LL Control PDU with NESN 1 and SN 1.
    assert (first.llid, first.header.nesn, first.header.sn, first.header.md) == (
        LLID.CONTROL, 1, 1, False,
    )  # fmt: skip


def test_capture_data_frames() -> None:
    frames = data_frames("le_ll_phdr_256.pcap")
    pdus = [DataPdu.from_bytes(f) for f in frames]
    assert [p.to_bytes() for p in pdus] == frames
    read_req, read_rsp, version, empty = pdus
    assert read_req.llid is LLID.DATA_START and read_req.payload == bytes.fromhex("030004000a0300")
    assert read_rsp.header.nesn == 1 and read_rsp.header.sn == 0  # tshark: NESN 1, SN 0
    assert version.is_control and version.payload[0] == 0x0C
    assert empty.is_empty and empty.header.sn == 1
    assert empty == DataPdu.empty(nesn=0, sn=1)


def test_edge_case_capture_frames() -> None:
    frames = data_frames("le_ll_phdr_256_edge_cases.pcap")
    assert len(frames) == 5
    for frame in frames:
        assert DataPdu.from_bytes(frame).to_bytes() == frame
    with_mic = DataPdu.from_bytes(frames[-1])
    assert with_mic.header.length == 7 + MIC_SIZE


def test_cp_bit_and_cteinfo() -> None:
    # LLID 3 | CP 0x20 = 0x23, Length 1, CTEInfo 20 | 1 << 6 = 0x54, then LL_CTE_RSP.
    raw = bytes.fromhex("2301541b")
    pdu = DataPdu.make(LLID.CONTROL, b"\x1b", cte_info=CTEInfo(20, 1))
    assert pdu.header.cp and pdu.header.size == 3
    assert pdu.to_bytes() == raw
    assert DataPdu.from_bytes(raw) == pdu


def test_reserved_llid_still_decodes_its_header() -> None:
    h = DataHeader.from_bytes(bytes([0b0000_1100, 0]))
    assert h.llid is LLID.RESERVED and h.nesn == 1 and h.sn == 1


def test_helpers() -> None:
    pdu = DataPdu.make(LLID.DATA_START, b"abc", nesn=1)
    again = pdu.with_flags(nesn=0, sn=1, md=True)
    assert again.payload == b"abc" and again.header.to_bytes() == bytes([0b0001_1010, 3])
    longer = pdu.with_payload(b"abc" + bytes(MIC_SIZE))
    assert longer.header.length == 7 and longer.header.nesn == 1
    assert not pdu.is_empty and not DataPdu.make(LLID.DATA_CONTINUE, b"x").is_empty
    assert MAX_DATA_PAYLOAD == 251


@pytest.mark.parametrize(
    "hexbytes",
    ["", "01", "0201", "020000", "2300", "2301"],
)
def test_malformed(hexbytes: str) -> None:
    with pytest.raises(PduDecodeError):
        DataPdu.from_bytes(bytes.fromhex(hexbytes))


def test_constructor_refuses_bad_fields() -> None:
    with pytest.raises(PduFieldError):
        DataPdu(DataHeader(LLID.DATA_START, 2), b"x")
    with pytest.raises(PduFieldError):
        DataHeader(LLID.DATA_START, 256)
    with pytest.raises(PduFieldError):
        DataHeader(LLID.DATA_START, 0, nesn=2)


headers = st.builds(
    DataHeader,
    st.sampled_from(LLID),
    st.just(0),
    st.integers(0, 1),
    st.integers(0, 1),
    st.booleans(),
    st.one_of(st.none(), st.builds(CTEInfo, st.integers(0, 31), st.integers(0, 3))),
)


@given(headers, st.binary(max_size=255))
def test_property_round_trip(header: DataHeader, payload: bytes) -> None:
    pdu = DataPdu.make(header.llid, payload, nesn=header.nesn, sn=header.sn, md=header.md,
                       cte_info=header.cte_info)  # fmt: skip
    assert DataPdu.from_bytes(pdu.to_bytes()) == pdu


@given(st.binary(max_size=260))
def test_property_random_bytes_only_raise_pdu_decode_error(raw: bytes) -> None:
    for decoder in (DataPdu.from_bytes, DataHeader.from_bytes):
        try:
            decoder(raw)
        except PduDecodeError:
            pass
