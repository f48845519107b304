"""Extended advertising PDUs: the Common Extended Advertising Payload Format.

scapy 2.8 has no layer for PDU types 0b0111 / 0b1000 and tshark needs a full capture,
so the literal bytes here were assembled by hand from the spec's layout (Vol 6 Part B
2.3.4: octet 0 = Extended Header Length in bits 0-5 and AdvMode in bits 6-7; flags
octet AdvA 0x01, TargetA 0x02, CTEInfo 0x04, ADI 0x08, AuxPtr 0x10, SyncInfo 0x20,
TxPower 0x40; fields in that order, then ACAD, then AdvData). The arithmetic for each
packed field is written out next to the expected octets.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from linklayer.address import Address
from linklayer.pdu import (
    ADI,
    ADV_EXT_IND,
    AUX_ADV_IND,
    AUX_CHAIN_IND,
    AUX_CONNECT_REQ,
    AUX_CONNECT_RSP,
    AUX_SCAN_REQ,
    AUX_SCAN_RSP,
    AUX_SYNC_IND,
    MAX_EXT_PAYLOAD,
    OFFSET_UNITS_30US,
    OFFSET_UNITS_300US,
    AdvHeader,
    AdvMode,
    AdvPduType,
    AuxPhy,
    AuxPtr,
    CTEInfo,
    ExtAdvRole,
    ExtendedAdvPdu,
    LLData,
    PduDecodeError,
    PduFieldError,
    SyncInfo,
    choose_offset_units,
    decode_adv_pdu,
)
from phy.types import Phy

ADV = Address.parse("C0:11:22:33:44:55", random=True)
SCANNER = Address.parse("D0:AA:BB:CC:DD:EE", random=True)
PUBLIC = Address.parse("00:1B:DC:01:02:03")
CONN = AdvMode.CONNECTABLE
NCNS = AdvMode.NON_CONNECTABLE_NON_SCANNABLE


# -- AuxPtr and the other packed fields --------------------------------------------


def test_auxptr_bit_packing_30us() -> None:
    # channel 12 (bits 0-5) | CA 1 (bit 6) | units 0 (bit 7) | offset 100 << 8 | PHY 1 << 21
    # = 0x0C | 0x40 | 0x6400 | 0x200000 = 0x20644C, little-endian.
    ptr = AuxPtr(channel_index=12, aux_offset=100, offset_units=0, aux_phy=AuxPhy.LE_2M, ca=1)
    assert ptr.to_bytes() == bytes.fromhex("4c6420")
    assert AuxPtr.from_bytes(bytes.fromhex("4c6420")) == ptr
    assert ptr.offset_ns() == 100 * 30_000


def test_auxptr_bit_packing_300us_extremes() -> None:
    # channel 36 = 0x24 | units 1 << 7 = 0xA4; offset 0x1FFF << 8 = 0x1FFF00; Coded 2 << 21.
    ptr = AuxPtr(36, 0x1FFF, OFFSET_UNITS_300US, AuxPhy.LE_CODED, 0)
    assert ptr.to_bytes() == bytes.fromhex("a4ff5f")
    assert AuxPtr.from_bytes(bytes.fromhex("a4ff5f")) == ptr
    assert ptr.offset_ns() == 8191 * 300_000


def test_auxptr_reserved_phy_is_a_decode_error() -> None:
    with pytest.raises(PduDecodeError):
        AuxPtr.from_bytes((3 << 21).to_bytes(3, "little"))
    with pytest.raises(PduDecodeError):
        AuxPtr.from_bytes(b"\x00\x00")


@pytest.mark.parametrize(
    "offset_ns,expected",
    [
        (0, (OFFSET_UNITS_30US, 0)),
        (1_000_000, (OFFSET_UNITS_30US, 33)),  # 1 ms -> 33 x 30 us = 990 us, rounded down
        (245_759_999, (OFFSET_UNITS_30US, 8191)),  # the largest offset in 30 us units
        (245_760_000, (OFFSET_UNITS_300US, 819)),  # 8192 x 30 us does not fit 13 bits
        (8191 * 300_000, (OFFSET_UNITS_300US, 8191)),
    ],
)
def test_choose_offset_units(offset_ns: int, expected: tuple[int, int]) -> None:
    assert choose_offset_units(offset_ns) == expected


def test_choose_offset_units_out_of_range() -> None:
    with pytest.raises(PduFieldError):
        choose_offset_units(8192 * 300_000)
    with pytest.raises(PduFieldError):
        choose_offset_units(-1)


@given(st.integers(0, 8191 * 300_000 + 299_999))
def test_property_auxptr_from_offset_never_early_and_within_one_unit(offset_ns: int) -> None:
    ptr = AuxPtr.from_offset_ns(3, offset_ns, AuxPhy.LE_1M)
    assert ptr.offset_ns() <= offset_ns < ptr.offset_ns() + ptr.unit_ns()
    assert AuxPtr.from_bytes(ptr.to_bytes()) == ptr


def test_auxphy_from_phy() -> None:
    assert AuxPhy.from_phy(Phy.LE_1M) is AuxPhy.LE_1M
    assert AuxPhy.from_phy(Phy.LE_2M) is AuxPhy.LE_2M
    assert AuxPhy.from_phy(Phy.LE_CODED_S2) is AuxPhy.LE_CODED
    assert AuxPhy.from_phy(Phy.LE_CODED_S8) is AuxPhy.LE_CODED


def test_adi_bit_packing() -> None:
    # DID bits 0-11, SID bits 12-15: 0x123 | 5 << 12 = 0x5123.
    assert ADI(did=0x123, sid=5).to_bytes() == bytes.fromhex("2351")
    assert ADI.from_bytes(bytes.fromhex("ffff")) == ADI(0xFFF, 0xF)


def test_cteinfo_bit_packing() -> None:
    # CTETime bits 0-4, RFU bit 5 (ignored), CTEType bits 6-7: 20 | 1 << 6 = 0x54.
    assert CTEInfo(cte_time=20, cte_type=1).to_bytes() == b"\x54"
    assert CTEInfo.from_bytes(b"\x74") == CTEInfo(20, 1)


SYNC = SyncInfo(
    sync_packet_offset=0x100, offset_units=1, offset_adjust=1, interval=0x0050,
    ch_m=0x1FFFFFFFFF, sca=4, aa=0x12345678, crc_init=0xABCDEF, event_counter=0x0102,
)  # fmt: skip
# 0x100 | 1 << 13 | 1 << 14 = 0x6100; Interval; ChM | SCA << 37 = 0x9FFFFFFFFF; AA;
# CRCInit; Event Counter.
SYNC_BYTES = bytes.fromhex("0061" "5000" "ffffffff9f" "78563412" "efcdab" "0201")


def test_syncinfo_layout() -> None:
    assert SYNC.to_bytes() == SYNC_BYTES
    assert SyncInfo.from_bytes(SYNC_BYTES) == SYNC
    assert SYNC.offset_ns() == 0x100 * 300_000 + 2_457_600_000


# -- whole PDUs, literal bytes -----------------------------------------------------------

LITERALS: list[tuple[str, ExtendedAdvPdu, str, bool]] = [
    (
        "ADV_EXT_IND connectable, ADI, AuxPtr, TxPower",
        ADV_EXT_IND(
            CONN, adi=ADI(0x123, 5), aux_ptr=AuxPtr(12, 100, 0, AuxPhy.LE_2M, 1), tx_power=-8
        ),
        # header 07 (type 7, no addresses) 08; 0x47 = ext len 7 | AdvMode 1 << 6;
        # flags 0x58 = ADI 0x08 | AuxPtr 0x10 | TxPower 0x40; ADI; AuxPtr; -8 = 0xf8.
        "0708" "47" "58" "2351" "4c6420" "f8",
        False,
    ),
    (
        "AUX_ADV_IND connectable, AdvA random, TargetA public, ADI, AdvData",
        AUX_ADV_IND(CONN, ADI(1, 0), adv_a=ADV, target_a=PUBLIC, adv_data=b"\x02\x01\x06"),
        # header 0x47 = type 7 | TxAdd 0x40 (RxAdd 0: TargetA public), length 19;
        # 0x4F = 15 | 1 << 6; flags 0x0B; AdvA; TargetA (air order); ADI; AdvData.
        "4713" "4f" "0b" "5544332211c0" "030201dc1b00" "0100" "020106",
        True,
    ),
    (
        "AUX_SYNC_IND with CTEInfo, ACAD and AdvData",
        AUX_SYNC_IND(b"hi", cte_info=CTEInfo(20, 1), acad=bytes.fromhex("03ff0102")),
        # header 07 09; 0x06 = ext len 6, AdvMode 0; flags 0x04; CTEInfo 0x54; ACAD; "hi".
        "0709" "06" "04" "54" "03ff0102" "6869",
        True,
    ),
    (
        "AUX_ADV_IND periodic with SyncInfo",
        AUX_ADV_IND(NCNS, ADI(0xABC, 0xF), adv_a=PUBLIC, sync_info=SYNC),
        # header 07 (public AdvA) 0x1c = 28; ext len 27 = 1 + 6 + 2 + 18; flags 0x29.
        "071c" "1b" "29" "030201dc1b00" "bcfa" + SYNC_BYTES.hex(),
        True,
    ),
    (
        "AUX_CONNECT_RSP",
        AUX_CONNECT_RSP(ADV, SCANNER),
        # header 0xC8 = type 8 | TxAdd | RxAdd, length 14; ext len 13; flags 0x03.
        "c80e" "0d" "03" "5544332211c0" "eeddccbbaad0",
        True,
    ),
    (
        "ADV_EXT_IND with an empty extended header",
        ADV_EXT_IND(NCNS),
        "0701" "00",
        False,
    ),
    (
        "AUX_CHAIN_IND with ADI, AuxPtr and AdvData",
        AUX_CHAIN_IND(b"\xaa" * 3, adi=ADI(7, 1), aux_ptr=AuxPtr(0, 1)),
        # ext len 6 = 1 + 2 + 3; flags 0x18; ADI 0x1007; AuxPtr: offset 1 << 8 = 0x000100.
        "070a" "06" "18" "0710" "000100" "aaaaaa",
        True,
    ),
]


@pytest.mark.parametrize("name,pdu,hexbytes,secondary", LITERALS, ids=[c[0] for c in LITERALS])
def test_literal_bytes(name: str, pdu: ExtendedAdvPdu, hexbytes: str, secondary: bool) -> None:
    raw = bytes.fromhex(hexbytes)
    assert pdu.to_bytes() == raw
    assert decode_adv_pdu(raw, secondary=secondary) == pdu
    assert ExtendedAdvPdu.from_bytes(raw) == pdu


def test_addresses_take_their_type_from_txadd_rxadd() -> None:
    raw = bytes.fromhex("4708" "0d03" "5544332211c0" "eeddccbbaad0")  # TxAdd 1, RxAdd 0
    pdu = ExtendedAdvPdu.from_bytes(bytes([0x47, 14]) + raw[2:])
    assert pdu.adv_a == ADV and pdu.target_a == Address(SCANNER.value, False)


def test_flags_octet_without_fields_decodes_to_no_fields() -> None:
    pdu = decode_adv_pdu(bytes.fromhex("0702" "01" "00"), secondary=True)
    assert isinstance(pdu, ExtendedAdvPdu) and pdu.present_fields() == frozenset()


def test_acad_is_what_follows_the_flagged_fields() -> None:
    raw = bytes.fromhex("0708" "05" "40" "7f" "0a0b0c" "dd" "ee")  # TxPower 127, ACAD 3, data 2
    pdu = ExtendedAdvPdu.from_bytes(raw)
    assert (pdu.tx_power, pdu.acad, pdu.adv_data) == (127, bytes.fromhex("0a0b0c"), b"\xdd\xee")


# -- an independent decoder: tshark ------------------------------------------------------

TSHARK_FIELDS = [
    "btle.advertising_header.pdu_type",
    "btle.extended_advertising_header.length",
    "btle.extended_advertising_header.mode",
    "btle.advertising_address",
    "btle.target_address",
    "btle.scanning_address",
    "btle.extended_advertising.advertising_data_info.did",
    "btle.extended_advertising.advertising_data_info.sid",
    "btle.extended_advertising_header.aux_pointer.channel",
    "btle.extended_advertising_header.aux_pointer.aux_offset",
    "btle.extended_advertising_header.aux_pointer.aux_phy",
    "btle.extended_advertising_header.cte_info.time",
    "btle.extended_advertising_header.cte_info.type",
    "btle.extended_advertising_header.sync_info.interval",
    "btle.extended_advertising_header.sync_info.access_address",
    "btle.extended_advertising_header.sync_info.crc_init",
    "btle.extended_advertising_header.sync_info.event_counter",
    "btle.extended_advertising_header.tx_power",
    "_ws.malformed",
]
# (PDU, PHDR aux advertising?, aux PDU type in PHDR flag bits 12-13, expected fields)
TSHARK_CASES: list[tuple[Any, bool, int, dict[str, str]]] = [
    (
        ADV_EXT_IND(CONN, adi=ADI(0x123, 5), aux_ptr=AuxPtr(12, 100, 0, AuxPhy.LE_2M, 1),
                    tx_power=-8),
        False, 0,
        {"pdu_type": "0x07", "length": "7", "mode": "0x01", "did": "0x0123", "sid": "0x0005",
         "channel": "12", "aux_offset": "0x0064", "aux_phy": "1", "tx_power": "-8"},
    ),
    (
        AUX_ADV_IND(NCNS, ADI(0xABC, 0xF), adv_a=PUBLIC, sync_info=SYNC, acad=b"\x02\x01\x06"),
        True, 0,
        {"length": "30", "mode": "0x00", "advertising_address": "00:1b:dc:01:02:03",
         "did": "0x0abc", "sid": "0x000f", "interval": "0x0050", "access_address": "0x12345678",
         "crc_init": "0xabcdef", "event_counter": "258"},
    ),
    (
        AUX_SYNC_IND(b"\x02\x01\x06", cte_info=CTEInfo(20, 1),
                     aux_ptr=AuxPtr(36, 0x1FFF, OFFSET_UNITS_300US, AuxPhy.LE_CODED)),
        True, 2,
        {"time": "0x14", "type": "0x01", "channel": "36", "aux_offset": "0x1fff", "aux_phy": "2"},
    ),
    (
        AUX_CONNECT_RSP(ADV, SCANNER), True, 0,
        {"pdu_type": "0x08", "advertising_address": "c0:11:22:33:44:55",
         "target_address": "d0:aa:bb:cc:dd:ee"},
    ),
    (
        AUX_SCAN_REQ(SCANNER, ADV), True, 0,
        {"pdu_type": "0x03", "scanning_address": "d0:aa:bb:cc:dd:ee",
         "advertising_address": "c0:11:22:33:44:55"},
    ),
    (
        AUX_CONNECT_REQ(SCANNER, ADV, LLData(1, 2, 3, 4, 24, 0, 72, 0x1FFFFFFFFF, 7, 0)),
        True, 0, {"pdu_type": "0x05", "advertising_address": "c0:11:22:33:44:55"},
    ),
]  # fmt: skip


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
def test_tshark_decodes_our_extended_pdus(tmp_path: Path) -> None:
    pcap = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 256))
    for i, (pdu, aux, aux_type, _) in enumerate(TSHARK_CASES):
        # PHDR: RF channel 13 (data index 11), CRC checked + valid so the zero CRC is
        # not recomputed, PDU type 1 (auxiliary advertising) on secondary channels.
        flags = 0x0C00 | (aux << 7) | (aux_type << 12)
        frame = struct.pack("<BbbBIH", 13 if aux else 0, -40, -90, 0, 0, flags)
        frame += struct.pack("<I", 0x8E89BED6) + pdu.to_bytes() + bytes(3)
        pcap += struct.pack("<IIII", i, 0, len(frame), len(frame)) + frame
    path = tmp_path / "ext.pcap"
    path.write_bytes(bytes(pcap))
    args = ["tshark", "-r", str(path), "-T", "fields", "-E", "separator=|"]
    for name in TSHARK_FIELDS:
        args += ["-e", name]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    rows = [line.split("|") for line in out.splitlines()]
    assert len(rows) == len(TSHARK_CASES)
    for row, (pdu, _, _, expected) in zip(rows, TSHARK_CASES):
        got = {name.rsplit(".", 1)[1]: value for name, value in zip(TSHARK_FIELDS, row)}
        assert got["malformed"] == "", pdu
        for key, value in expected.items():
            assert got[key] == value, (pdu, key)
    expert = subprocess.run(["tshark", "-r", str(path), "-q", "-z", "expert"],
                            capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert "Error" not in expert and "Warning" not in expert


# -- limits and roles -------------------------------------------------------------------


def test_size_limits() -> None:
    with pytest.raises(PduFieldError):  # extended header 1 + 6 + 57 = 64 > 63
        ExtendedAdvPdu(adv_a=ADV, acad=bytes(57))
    ExtendedAdvPdu(adv_a=ADV, acad=bytes(56))
    pdu = AUX_CHAIN_IND(adi=ADI(0, 0))
    assert pdu.max_adv_data() == 255 - 1 - 3
    AUX_CHAIN_IND(bytes(pdu.max_adv_data()), adi=ADI(0, 0))
    with pytest.raises(PduFieldError):
        AUX_CHAIN_IND(bytes(pdu.max_adv_data() + 1), adi=ADI(0, 0))
    full = AUX_CHAIN_IND(bytes(MAX_EXT_PAYLOAD - 1))
    assert len(full.to_bytes()) == 2 + MAX_EXT_PAYLOAD
    with pytest.raises(PduFieldError):
        ExtendedAdvPdu(tx_power=128)


def test_named_constructors_enforce_the_role_tables() -> None:
    with pytest.raises(PduFieldError):  # connectable AUX_ADV_IND needs AdvA
        AUX_ADV_IND(CONN, ADI(0, 0))
    with pytest.raises(PduFieldError):  # scannable AUX_ADV_IND carries no AdvData
        AUX_ADV_IND(AdvMode.SCANNABLE, ADI(0, 0), adv_a=ADV, adv_data=b"x")
    with pytest.raises(PduFieldError):  # connectable ADV_EXT_IND needs ADI and AuxPtr
        ADV_EXT_IND(CONN, adi=ADI(0, 0))
    with pytest.raises(PduFieldError):  # connectable ADV_EXT_IND carries no AdvA
        ADV_EXT_IND(CONN, adi=ADI(0, 0), aux_ptr=AuxPtr(1, 1), adv_a=ADV)
    assert AUX_SCAN_RSP(ADV, b"\x02\x01\x06").adv_mode is NCNS


def test_problems_as_for_received_pdus() -> None:
    pdu = AUX_SCAN_RSP(ADV, b"data")
    assert pdu.problems_as(ExtAdvRole.AUX_SCAN_RSP) == []
    assert pdu.problems_as(ExtAdvRole.AUX_SYNC_IND) == ["adv_a not allowed"]
    assert pdu.problems_as(ExtAdvRole.AUX_CONNECT_RSP) != []
    conn = ExtendedAdvPdu(adv_mode=CONN, adi=ADI(0, 0), aux_ptr=AuxPtr(1, 1))
    assert conn.problems_as(ExtAdvRole.ADV_EXT_IND) == []
    assert conn.problems_as(ExtAdvRole.AUX_CHAIN_IND) == [
        "AdvMode CONNECTABLE is not allowed in AUX_CHAIN_IND"
    ]
    assert "adi missing" in ExtendedAdvPdu().problems_as(ExtAdvRole.AUX_ADV_IND)


def test_pdu_type_aliases() -> None:
    assert AdvPduType["AUX_ADV_IND"] is AdvPduType.ADV_EXT_IND
    assert AdvPduType["AUX_SCAN_REQ"] is AdvPduType.SCAN_REQ
    assert AdvPduType["AUX_CONNECT_REQ"] is AdvPduType.CONNECT_IND
    assert int(AdvPduType.AUX_CONNECT_RSP) == 0b1000


# -- malformed input ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "hexbytes",
    [
        "0700",  # no extended header length octet
        "0701" "c0",  # AdvMode 0b11 is reserved
        "0702" "05" "00",  # extended header length 5 but 1 octet follows
        "0703" "02" "20" "00",  # SyncInfo flagged, 1 octet left
        "0705" "04" "01" "0102",  # AdvA flagged, 2 octets left
        "0705" "04" "10" "0000e0",  # AuxPtr with reserved PHY 7
        "0703" "02" "00",  # Length 3, 2 payload octets
    ],
)
def test_malformed(hexbytes: str) -> None:
    with pytest.raises(PduDecodeError):
        decode_adv_pdu(bytes.fromhex(hexbytes), secondary=True)


def test_from_bytes_refuses_legacy_types() -> None:
    with pytest.raises(PduDecodeError):
        ExtendedAdvPdu.from_bytes(bytes.fromhex("0006") + bytes(6))


# -- property tests ------------------------------------------------------------------------

addresses = st.builds(Address, st.binary(min_size=6, max_size=6), st.booleans())
aux_ptrs = st.builds(
    AuxPtr, st.integers(0, 63), st.integers(0, 8191), st.integers(0, 1),
    st.sampled_from(AuxPhy), st.integers(0, 1),
)  # fmt: skip
sync_infos = st.builds(
    SyncInfo, st.integers(0, 8191), st.integers(0, 65535), st.integers(0, 2**37 - 1),
    st.integers(0, 2**32 - 1), st.integers(0, 2**24 - 1), st.integers(0, 65535),
    st.integers(0, 1), st.integers(0, 1), st.integers(0, 7),
)  # fmt: skip


@st.composite
def extended_pdus(draw: Any) -> ExtendedAdvPdu:
    def maybe(strategy: Any) -> Any:
        return draw(st.one_of(st.none(), strategy))

    kwargs = dict(
        pdu_type=draw(st.sampled_from([AdvPduType.ADV_EXT_IND, AdvPduType.AUX_CONNECT_RSP])),
        adv_mode=draw(st.sampled_from(AdvMode)),
        adv_a=maybe(addresses),
        target_a=maybe(addresses),
        cte_info=maybe(st.builds(CTEInfo, st.integers(0, 31), st.integers(0, 3))),
        adi=maybe(st.builds(ADI, st.integers(0, 4095), st.integers(0, 15))),
        aux_ptr=maybe(aux_ptrs),
        sync_info=maybe(sync_infos),
        tx_power=maybe(st.integers(-128, 127)),
        acad=draw(st.binary(max_size=20)),
        adv_data=draw(st.binary(max_size=254)),
    )
    try:
        return ExtendedAdvPdu(**kwargs)
    except PduFieldError:
        assume(False)
        raise


@given(extended_pdus())
def test_property_round_trip(pdu: ExtendedAdvPdu) -> None:
    raw = pdu.to_bytes()
    assert len(raw) == 2 + AdvHeader.from_bytes(raw).length
    assert decode_adv_pdu(raw, secondary=True) == pdu
    assert ExtendedAdvPdu.from_bytes(raw) == pdu


@given(st.binary(max_size=300), st.booleans())
def test_property_random_bytes_only_raise_pdu_decode_error(raw: bytes, secondary: bool) -> None:
    try:
        decode_adv_pdu(raw, secondary)
    except PduDecodeError:
        pass


@given(st.binary(max_size=255))
def test_property_random_extended_payloads(payload: bytes) -> None:
    raw = bytes([0x07, len(payload)]) + payload
    try:
        pdu = ExtendedAdvPdu.from_bytes(raw)
    except PduDecodeError:
        return
    assert ExtendedAdvPdu.from_bytes(pdu.to_bytes()) == pdu


@given(st.binary(max_size=20))
def test_property_field_decoders(raw: bytes) -> None:
    for decoder in (AuxPtr.from_bytes, ADI.from_bytes, SyncInfo.from_bytes, CTEInfo.from_bytes,
                    AdvHeader.from_bytes):  # fmt: skip
        try:
            decoder(raw)
        except PduDecodeError:
            pass
