"""Legacy advertising channel PDUs and the decode_adv_pdu dispatcher.

Literal bytes come from scapy's independent BTLE layers, from the shared capture
``le_ll_phdr_256.pcap`` (decoded cleanly by tshark) and from hand-reading the spec's
header layout. Scapy notes: its BTLE_ADV names the header bits RxAdd, TxAdd, ChSel, RFU,
PDU_type from the most significant bit down, which matches the spec (PDU Type in bits
0-3, TxAdd bit 6, RxAdd bit 7); it has no layer for PDU types 0b0111 / 0b1000
(extended advertising, see test_pdu_ext.py); and it fills Length in itself only for
payloads longer than 2 octets, which every legacy PDU is.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scapy.layers import bluetooth4LE as sc
from scapy.layers.bluetooth import EIR_CompleteLocalName, EIR_Flags, EIR_Hdr

from linklayer.address import Address
from linklayer.pdu import (
    ADV_DIRECT_IND,
    ADV_IND,
    ADV_NONCONN_IND,
    ADV_SCAN_IND,
    AUX_CONNECT_REQ,
    AUX_SCAN_REQ,
    CONNECT_IND,
    MAX_LEGACY_ADV_DATA,
    SCAN_REQ,
    SCAN_RSP,
    AdvHeader,
    AdvPduType,
    ExtendedAdvPdu,
    LLData,
    PduDecodeError,
    PduFieldError,
    decode_adv_pdu,
)

CAPTURES = Path("/work/shared/vectors/captures")
ADV_AA = 0x8E89BED6

ADV = Address.parse("C0:11:22:33:44:55", random=True)
SCANNER = Address.parse("D0:AA:BB:CC:DD:EE", random=True)
PUBLIC = Address.parse("00:1B:DC:01:02:03")
LLDATA = LLData(
    aa=0x50654AC3, crc_init=0x123456, win_size=2, win_offset=0, interval=24,
    latency=0, timeout=72, ch_m=0x1FFFFFFFFF, hop=7, sca=0,
)  # fmt: skip


def read_pcap(path: Path) -> list[bytes]:
    """Packets of a little-endian pcap file (independent of scapy and of our code)."""
    raw = path.read_bytes()
    assert raw[:4] == b"\xd4\xc3\xb2\xa1"
    packets, pos = [], 24
    while pos < len(raw):
        incl = struct.unpack_from("<I", raw, pos + 8)[0]
        packets.append(raw[pos + 16 : pos + 16 + incl])
        pos += 16 + incl
    return packets


def adv_frames_from_capture() -> list[bytes]:
    """PDUs (header + payload) of the advertising frames of le_ll_phdr_256.pcap."""
    out = []
    for pkt in read_pcap(CAPTURES / "le_ll_phdr_256.pcap"):
        aa = int.from_bytes(pkt[10:14], "little")
        if aa == ADV_AA:
            out.append(pkt[14:-3])  # 10-octet PHDR, 4-octet AA, ..., 3-octet CRC
    return out


# -- header ------------------------------------------------------------------------


def test_header_bit_layout_by_hand() -> None:
    # PDU Type bits 0-3, RFU 4, ChSel 5, TxAdd 6, RxAdd 7 (Vol 6 Part B 2.3).
    h = AdvHeader(pdu_type=5, length=34, ch_sel=True, tx_add=False, rx_add=True)
    assert h.to_bytes() == bytes([0b1010_0101, 34])
    assert AdvHeader.from_bytes(bytes([0b0101_0001, 12])) == AdvHeader(1, 12, False, True, False)


def test_header_rfu_bit_is_ignored() -> None:
    assert AdvHeader.from_bytes(bytes([0x10, 0])) == AdvHeader(0, 0)


def test_header_matches_scapy_bit_order() -> None:
    ours = AdvHeader(pdu_type=3, length=12, ch_sel=True, tx_add=True, rx_add=False)
    theirs = bytes(sc.BTLE_ADV(PDU_type=3, ChSel=1, TxAdd=1, RxAdd=0, Length=12))
    assert ours.to_bytes() == theirs


# -- literal bytes from scapy --------------------------------------------------------


def scapy_adv(pdu_type: int, layer: Any, **hdr: Any) -> bytes:
    return bytes(sc.BTLE_ADV(PDU_type=pdu_type, **hdr) / layer)


AD = [EIR_Hdr() / EIR_Flags(flags=0x06), EIR_Hdr() / EIR_CompleteLocalName(local_name=b"blesim")]
AD_BYTES = b"\x02\x01\x06\x07\x09blesim"

SCAPY_CASES = [
    (
        ADV_IND(ADV, AD_BYTES, ch_sel=True),
        lambda: scapy_adv(0, sc.BTLE_ADV_IND(AdvA="c0:11:22:33:44:55", data=AD), TxAdd=1, ChSel=1),
    ),
    (
        ADV_IND(PUBLIC),
        lambda: scapy_adv(0, sc.BTLE_ADV_IND(AdvA="00:1b:dc:01:02:03")),
    ),
    (
        ADV_DIRECT_IND(ADV, PUBLIC, ch_sel=True),
        lambda: scapy_adv(
            1,
            sc.BTLE_ADV_DIRECT_IND(AdvA="c0:11:22:33:44:55", InitA="00:1b:dc:01:02:03"),
            TxAdd=1, RxAdd=0, ChSel=1,
        ),
    ),
    (
        ADV_NONCONN_IND(ADV, AD_BYTES),
        lambda: scapy_adv(2, sc.BTLE_ADV_NONCONN_IND(AdvA="c0:11:22:33:44:55", data=AD), TxAdd=1),
    ),
    (
        SCAN_REQ(SCANNER, PUBLIC),
        lambda: scapy_adv(
            3, sc.BTLE_SCAN_REQ(ScanA="d0:aa:bb:cc:dd:ee", AdvA="00:1b:dc:01:02:03"), TxAdd=1
        ),
    ),
    (
        SCAN_RSP(ADV, AD_BYTES),
        lambda: scapy_adv(4, sc.BTLE_SCAN_RSP(AdvA="c0:11:22:33:44:55", data=AD), TxAdd=1),
    ),
    (
        CONNECT_IND(SCANNER, ADV, LLDATA, ch_sel=True),
        lambda: scapy_adv(
            5,
            sc.BTLE_CONNECT_REQ(
                InitA="d0:aa:bb:cc:dd:ee", AdvA="c0:11:22:33:44:55", AA=0x50654AC3,
                crc_init=0x123456, win_size=2, win_offset=0, interval=24, latency=0,
                timeout=72, chM=0x1FFFFFFFFF, hop=7, SCA=0,
            ),
            TxAdd=1, RxAdd=1, ChSel=1,
        ),
    ),
    (
        CONNECT_IND(
            PUBLIC, ADV,
            LLData(0xAF9A9CB5, 0xABCDEF, 3, 0x0102, 0x0C80, 4, 0x0C80, 0x1E00E00600, 16, 5),
        ),
        lambda: scapy_adv(
            5,
            sc.BTLE_CONNECT_REQ(
                InitA="00:1b:dc:01:02:03", AdvA="c0:11:22:33:44:55", AA=0xAF9A9CB5,
                crc_init=0xABCDEF, win_size=3, win_offset=0x0102, interval=0x0C80,
                latency=4, timeout=0x0C80, chM=0x1E00E00600, hop=16, SCA=5,
            ),
            RxAdd=1,
        ),
    ),
    (
        ADV_SCAN_IND(PUBLIC, b"\x02\x01\x04"),
        lambda: scapy_adv(
            6, sc.BTLE_ADV_SCAN_IND(AdvA="00:1b:dc:01:02:03", data=[EIR_Hdr() / EIR_Flags(flags=4)])
        ),
    ),
]  # fmt: skip


@pytest.mark.parametrize("pdu,build", SCAPY_CASES, ids=lambda x: type(x).__name__)
def test_encoding_matches_scapy(pdu: object, build: object) -> None:
    expected = build()  # type: ignore[operator]
    assert pdu.to_bytes() == expected  # type: ignore[attr-defined]
    assert decode_adv_pdu(expected) == pdu


def test_scan_req_rxadd_follows_adva() -> None:
    pdu = SCAN_REQ(PUBLIC, ADV)
    layer = sc.BTLE_SCAN_REQ(ScanA="00:1b:dc:01:02:03", AdvA="c0:11:22:33:44:55")
    raw = scapy_adv(3, layer, RxAdd=1)
    assert pdu.to_bytes() == raw
    decoded = decode_adv_pdu(raw)
    assert isinstance(decoded, SCAN_REQ)
    assert decoded.adv_a.random and not decoded.scan_a.random


# -- literal bytes from the capture --------------------------------------------------


def test_capture_frames_decode_and_reencode() -> None:
    frames = adv_frames_from_capture()
    assert len(frames) == 4
    decoded = [decode_adv_pdu(f) for f in frames]
    assert [type(p) for p in decoded] == [ADV_IND, SCAN_REQ, SCAN_RSP, CONNECT_IND]
    for frame, pdu in zip(frames, decoded):
        assert pdu.to_bytes() == frame


def test_capture_field_values() -> None:
    frames = adv_frames_from_capture()
    adv_ind, scan_req, scan_rsp, connect_ind = (decode_adv_pdu(f) for f in frames)
    # Values as printed by tshark for this file (reference/wireshark.md section 8).
    assert isinstance(adv_ind, ADV_IND)
    assert str(adv_ind.adv_a) == "C0:11:22:33:44:55" and adv_ind.adv_a.random
    assert b"EmuPeriph" in adv_ind.adv_data
    assert isinstance(scan_req, SCAN_REQ)
    assert str(scan_req.scan_a) == "D0:AA:BB:CC:DD:EE"
    assert scan_req.adv_a == adv_ind.adv_a
    assert isinstance(scan_rsp, SCAN_RSP) and scan_rsp.scan_rsp_data == bytes.fromhex("020a00")
    assert isinstance(connect_ind, CONNECT_IND)
    ll = connect_ind.ll_data
    assert (ll.aa, ll.crc_init, ll.hop, connect_ind.ch_sel) == (0x50654AC3, 0x123456, 7, False)


# -- round trips ---------------------------------------------------------------------

ROUND_TRIP = [
    ADV_IND(ADV, b"\x02\x01\x06"),
    ADV_IND(PUBLIC, bytes(31), ch_sel=True),
    ADV_DIRECT_IND(PUBLIC, SCANNER),
    ADV_NONCONN_IND(ADV),
    ADV_SCAN_IND(ADV, b"x" * 31),
    SCAN_REQ(SCANNER, ADV),
    SCAN_RSP(PUBLIC),
    CONNECT_IND(SCANNER, PUBLIC, LLDATA),
]


@pytest.mark.parametrize("pdu", ROUND_TRIP, ids=lambda p: type(p).__name__)
def test_round_trip(pdu: object) -> None:
    raw = pdu.to_bytes()  # type: ignore[attr-defined]
    assert decode_adv_pdu(raw) == pdu
    assert type(pdu).from_bytes(raw) == pdu


def test_aux_scan_and_connect_req_only_on_secondary() -> None:
    req = AUX_SCAN_REQ(SCANNER, ADV)
    raw = req.to_bytes()
    assert raw == SCAN_REQ(SCANNER, ADV).to_bytes()  # same layout, same PDU type
    assert type(decode_adv_pdu(raw, secondary=True)) is AUX_SCAN_REQ
    assert type(decode_adv_pdu(raw)) is SCAN_REQ
    conn = AUX_CONNECT_REQ(SCANNER, ADV, LLDATA)
    assert type(decode_adv_pdu(conn.to_bytes(), secondary=True)) is AUX_CONNECT_REQ
    assert decode_adv_pdu(conn.to_bytes(), secondary=True) == conn


def test_legacy_types_are_refused_on_secondary_channels() -> None:
    for pdu in (ADV_IND(ADV), ADV_DIRECT_IND(ADV, PUBLIC), ADV_NONCONN_IND(ADV),
                SCAN_RSP(ADV), ADV_SCAN_IND(ADV)):  # fmt: skip
        with pytest.raises(PduDecodeError):
            decode_adv_pdu(pdu.to_bytes(), secondary=True)


def test_aux_connect_rsp_type_refused_on_primary() -> None:
    raw = ExtendedAdvPdu.aux_connect_rsp(ADV, SCANNER).to_bytes()
    assert raw[0] & 0x0F == AdvPduType.AUX_CONNECT_RSP
    with pytest.raises(PduDecodeError):
        decode_adv_pdu(raw)
    assert isinstance(decode_adv_pdu(raw, secondary=True), ExtendedAdvPdu)


# -- malformed input -------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00",
        bytes([0x00, 5]) + bytes(5),  # ADV_IND shorter than AdvA
        bytes([0x00, 38]) + bytes(38),  # AdvData of 32 octets
        bytes([0x00, 7]) + bytes(6),  # Length says 7, 6 given
        bytes([0x00, 6]) + bytes(7),  # trailing octet
        bytes([0x01, 13]) + bytes(13),  # ADV_DIRECT_IND of 13
        bytes([0x03, 11]) + bytes(11),  # SCAN_REQ of 11
        bytes([0x05, 33]) + bytes(33),  # CONNECT_IND of 33
        bytes([0x09, 6]) + bytes(6),  # reserved PDU type
        bytes([0x0F, 0]),
    ],
)
def test_malformed_raises_pdu_decode_error(raw: bytes) -> None:
    with pytest.raises(PduDecodeError):
        decode_adv_pdu(raw)


def test_class_from_bytes_checks_pdu_type() -> None:
    with pytest.raises(PduDecodeError):
        ADV_NONCONN_IND.from_bytes(ADV_IND(ADV).to_bytes())


def test_constructor_refuses_bad_fields() -> None:
    with pytest.raises(PduFieldError):
        ADV_IND(ADV, bytes(MAX_LEGACY_ADV_DATA + 1))
    with pytest.raises(PduFieldError):
        SCAN_RSP(ADV, bytes(32))
    with pytest.raises(PduFieldError):
        LLData(0, 0x1000000, 0, 0, 0, 0, 0, 0, 0, 0)  # CRCInit is 24 bits
    with pytest.raises(PduFieldError):
        LLData(0, 0, 0, 0, 0, 0, 0, 1 << 37, 0, 0)  # ChM is 37 bits
    with pytest.raises(PduFieldError):
        LLData(0, 0, 0, 0, 0, 0, 0, 0, 32, 0)  # Hop is 5 bits


def test_lldata_units() -> None:
    assert LLDATA.interval_ns == 30_000_000
    assert LLDATA.timeout_ns == 720_000_000
    assert LLDATA.win_size_ns == 2_500_000


def test_lldata_bit_packing_by_hand() -> None:
    raw = LLData(1, 2, 3, 4, 5, 6, 7, 0x1FFFFFFFFF, hop=0b10101, sca=0b110).to_bytes()
    assert raw == bytes.fromhex("01000000" "020000" "03" "0400" "0500" "0600" "0700"
                                "ffffffff1f") + bytes([0b110_10101])  # fmt: skip


# -- property tests --------------------------------------------------------------------

addresses = st.builds(Address, st.binary(min_size=6, max_size=6), st.booleans())
ad = st.binary(max_size=31)
lldata = st.builds(
    LLData,
    st.integers(0, 2**32 - 1), st.integers(0, 2**24 - 1), st.integers(0, 255),
    st.integers(0, 65535), st.integers(0, 65535), st.integers(0, 65535), st.integers(0, 65535),
    st.integers(0, 2**37 - 1), st.integers(0, 31), st.integers(0, 7),
)  # fmt: skip
legacy = st.one_of(
    st.builds(ADV_IND, addresses, ad, st.booleans()),
    st.builds(ADV_DIRECT_IND, addresses, addresses, st.booleans()),
    st.builds(ADV_NONCONN_IND, addresses, ad),
    st.builds(ADV_SCAN_IND, addresses, ad),
    st.builds(SCAN_REQ, addresses, addresses),
    st.builds(SCAN_RSP, addresses, ad),
    st.builds(CONNECT_IND, addresses, addresses, lldata, st.booleans()),
)


@given(legacy)
def test_property_round_trip(pdu: object) -> None:
    assert decode_adv_pdu(pdu.to_bytes()) == pdu  # type: ignore[attr-defined]


@given(st.binary(max_size=64), st.booleans())
def test_property_random_bytes_only_raise_pdu_decode_error(raw: bytes, secondary: bool) -> None:
    try:
        decode_adv_pdu(raw, secondary)
    except PduDecodeError:
        pass


@given(st.binary(min_size=2, max_size=40).map(lambda b: bytes([b[0], len(b) - 2]) + b[2:]))
def test_property_well_framed_bytes_only_raise_pdu_decode_error(raw: bytes) -> None:
    for secondary in (False, True):
        try:
            pdu = decode_adv_pdu(raw, secondary)
        except PduDecodeError:
            continue
        assert decode_adv_pdu(pdu.to_bytes(), secondary) == pdu


@given(st.binary(max_size=40))
def test_property_each_class_decoder(raw: bytes) -> None:
    for cls in (ADV_IND, ADV_DIRECT_IND, ADV_NONCONN_IND, ADV_SCAN_IND, SCAN_REQ, SCAN_RSP,
                CONNECT_IND, AUX_SCAN_REQ, AUX_CONNECT_REQ):  # fmt: skip
        try:
            cls.from_bytes(raw)
        except PduDecodeError:
            pass
    try:
        LLData.from_bytes(raw)
    except PduDecodeError:
        pass
