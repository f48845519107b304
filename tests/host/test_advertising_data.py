"""Tests for host.advertising_data: literal bytes from the vectors and from scapy's
independent EIR/AD layers, round trips, tolerant vs strict decoding, builders."""

from __future__ import annotations

import json
import uuid as std_uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers import bluetooth as sb

from host.advertising_data import (
    LEGACY_ADVERTISING_DATA_MAX,
    AdFlags,
    AdStructure,
    AdType,
    AdvertisingData,
    AdvertisingDataError,
    LeRole,
)
from host.uuid import UUID

NUS = "6E400001-B5A3-F393-E0A9-E50E24DCCA9E"
VECTORS = Path("/work/shared/vectors/crc_whitening.json")
EMU_PERIPH = bytes.fromhex("0201060a09456d75506572697068")


def _adv_ind_data_from_vectors() -> bytes:
    """AdvData of the ADV_IND in the CRC vectors: header (2) + AdvA (6) + AdvData."""
    if not VECTORS.exists():  # pragma: no cover - the shared folder is part of the rig
        return EMU_PERIPH
    doc = json.loads(VECTORS.read_text())
    pdu = bytes.fromhex(doc["crc_examples"][0]["pdu"])
    return pdu[8 : 2 + pdu[1]]


def test_vector_adv_ind_data() -> None:
    raw = _adv_ind_data_from_vectors()
    assert raw == EMU_PERIPH
    ad = AdvertisingData.from_bytes(raw, strict=True)
    assert ad.structures == (
        AdStructure(AdType.FLAGS, b"\x06"),
        AdStructure(AdType.COMPLETE_LOCAL_NAME, b"EmuPeriph"),
    )
    assert not ad.malformed
    assert ad.flags == AdFlags.LE_GENERAL_DISCOVERABLE_MODE | AdFlags.BR_EDR_NOT_SUPPORTED
    assert ad.local_name == ad.complete_local_name == "EmuPeriph"
    assert ad.to_bytes() == raw
    assert AdvertisingData.build(flags=0x06, name="EmuPeriph").to_bytes() == raw


# (scapy AD structure, expected structure, accessor name, expected accessor value)
SCAPY_CASES: list[tuple[Any, AdStructure, str, Any]] = [
    (
        sb.EIR_Hdr() / sb.EIR_Flags(flags=["limited_disc_mode", "br_edr_not_supported"]),
        AdStructure.flags(AdFlags.LE_LIMITED_DISCOVERABLE_MODE | AdFlags.BR_EDR_NOT_SUPPORTED),
        "flags",
        0x05,
    ),
    (
        sb.EIR_Hdr() / sb.EIR_CompleteList16BitServiceUUIDs(svc_uuids=[0x180F, 0x180A]),
        AdStructure.service_uuids([UUID(0x180F), UUID(0x180A)], 16, complete=True),
        "service_uuids",
        [UUID(0x180F), UUID(0x180A)],
    ),
    (
        sb.EIR_Hdr() / sb.EIR_IncompleteList16BitServiceUUIDs(svc_uuids=[0x1812]),
        AdStructure.service_uuids([UUID(0x1812)], 16, complete=False),
        "service_uuids",
        [UUID(0x1812)],
    ),
    (
        sb.EIR_Hdr() / sb.EIR_IncompleteList32BitServiceUUIDs(svc_uuids=[0x12345678]),
        AdStructure.service_uuids([UUID(0x12345678)], 32, complete=False),
        "service_uuids",
        [UUID(0x12345678)],
    ),
    (
        sb.EIR_Hdr() / sb.EIR_CompleteList32BitServiceUUIDs(svc_uuids=[0x12345678]),
        AdStructure.service_uuids([UUID(0x12345678)], 32),
        "service_uuids",
        [UUID(0x12345678)],
    ),
    (
        sb.EIR_Hdr() / sb.EIR_CompleteList128BitServiceUUIDs(svc_uuids=[std_uuid.UUID(NUS)]),
        AdStructure.service_uuids([UUID(NUS)], 128),
        "service_uuids",
        [UUID(NUS)],
    ),
    (
        sb.EIR_Hdr() / sb.EIR_IncompleteList128BitServiceUUIDs(svc_uuids=[std_uuid.UUID(NUS)]),
        AdStructure.service_uuids([UUID(NUS)], 128, complete=False),
        "service_uuids",
        [UUID(NUS)],
    ),
    (
        sb.EIR_Hdr() / sb.EIR_ShortenedLocalName(local_name=b"Emu"),
        AdStructure.shortened_local_name("Emu"),
        "shortened_local_name",
        "Emu",
    ),
    (
        sb.EIR_Hdr() / sb.EIR_CompleteLocalName(local_name="Café".encode()),
        AdStructure.complete_local_name("Café"),
        "local_name",
        "Café",
    ),
    (sb.EIR_Hdr() / sb.EIR_TX_Power_Level(level=-8), AdStructure.tx_power_level(-8), "tx_power_level", -8),
    (
        # Appearance 0x0341: category 0x00D (sensor-ish), sub-category 1.
        sb.EIR_Hdr() / sb.EIR_Appearance(category=0x0D, subcategory=1),
        AdStructure.appearance(0x0341),
        "appearance",
        0x0341,
    ),
    (
        sb.EIR_Hdr() / sb.EIR_ServiceData16BitUUID(svc_uuid=0xFEAA) / b"\x10\x00",
        AdStructure.service_data(UUID(0xFEAA), b"\x10\x00"),
        "service_data",
        [(UUID(0xFEAA), b"\x10\x00")],
    ),
    (
        sb.EIR_Hdr() / sb.EIR_ServiceData32BitUUID(svc_uuid=0x12345678) / b"z",
        AdStructure.service_data(UUID(0x12345678), b"z"),
        "service_data",
        [(UUID(0x12345678), b"z")],
    ),
    (
        sb.EIR_Hdr() / sb.EIR_ServiceData128BitUUID(svc_uuid=std_uuid.UUID(NUS)) / b"z",
        AdStructure.service_data(UUID(NUS), b"z"),
        "service_data",
        [(UUID(NUS), b"z")],
    ),
    (
        sb.EIR_Hdr() / sb.EIR_Manufacturer_Specific_Data(company_identifier=0x0059) / b"\x01\x02",
        AdStructure.manufacturer_specific_data(0x0059, b"\x01\x02"),
        "manufacturer_specific_data",
        [(0x0059, b"\x01\x02")],
    ),
    (
        sb.EIR_Hdr() / sb.EIR_PeripheralConnectionIntervalRange(conn_interval_min=6, conn_interval_max=0xFFFF),
        AdStructure.peripheral_connection_interval_range(6, 0xFFFF),
        "peripheral_connection_interval_range",
        (6, 0xFFFF),
    ),
    (
        sb.EIR_Hdr() / sb.EIR_ServiceSolicitation16BitUUID(svc_uuid=0x1812),
        AdStructure.service_solicitation([UUID(0x1812)], 16),
        "service_solicitation_uuids",
        [UUID(0x1812)],
    ),
    (
        sb.EIR_Hdr() / sb.EIR_ServiceSolicitation128BitUUID(svc_uuid=std_uuid.UUID(NUS)),
        AdStructure.service_solicitation([UUID(NUS)], 128),
        "service_solicitation_uuids",
        [UUID(NUS)],
    ),
    (
        sb.EIR_Hdr() / sb.EIR_LERole(role=2),
        AdStructure.le_role(LeRole.PERIPHERAL_AND_CENTRAL_PERIPHERAL_PREFERRED),
        "le_role",
        LeRole.PERIPHERAL_AND_CENTRAL_PERIPHERAL_PREFERRED,
    ),
    (
        sb.EIR_Hdr() / sb.EIR_URI(scheme=0x17, uri_hier_part=b"//example.org/x"),
        AdStructure.uri("https://example.org/x"),
        "uri",
        "https://example.org/x",
    ),
]


@pytest.mark.parametrize(("packet", "structure", "accessor", "value"), SCAPY_CASES, ids=lambda x: str(x)[:30])
def test_scapy_structures(packet: Any, structure: AdStructure, accessor: str, value: Any) -> None:
    raw = bytes(packet)
    ad = AdvertisingData.from_bytes(raw, strict=True)
    assert ad.structures == (structure,)
    assert ad.structures[0].ad_type == packet.type
    assert getattr(ad, accessor) == value
    assert structure.to_bytes() == raw


def test_all_scapy_structures_in_one_payload() -> None:
    raw = b"".join(bytes(p) for p, *_ in SCAPY_CASES)
    ad = AdvertisingData.from_bytes(raw, strict=True)
    assert [s for s in ad] == [s for _, s, _, _ in SCAPY_CASES]
    assert ad.to_bytes() == raw and ad.encoded_length == len(raw)


def test_advertising_interval_spec_layout() -> None:
    # scapy cannot build EIR_AdvertisingInterval on its own; dissect our bytes with it.
    raw = AdStructure.advertising_interval(0x0020).to_bytes()
    assert raw == bytes.fromhex("031a2000")
    p = sb.EIR_Hdr(raw)
    assert (p.type, p.advertising_interval) == (0x1A, 0x20)
    assert AdvertisingData.from_bytes(raw).advertising_interval == 0x20
    long = AdStructure.advertising_interval(0x123456)
    assert long.to_bytes() == bytes.fromhex("042f563412")
    assert AdvertisingData.of(long).advertising_interval == 0x123456


def test_scapy_dissects_our_build() -> None:
    ad = AdvertisingData.build(flags=0x06, name="EmuPeriph", services=[0x180F], tx_power=0)
    p = sb.EIR_Hdr(ad.to_bytes())
    assert p[sb.EIR_Flags].flags == 0x06
    names = [layer.local_name for layer in _eir_layers(ad.to_bytes()) if layer.type == 0x09]
    assert names == [b"EmuPeriph"]


def _eir_layers(raw: bytes) -> list[Any]:
    out = []
    while raw:
        p = sb.EIR_Hdr(raw)
        out.append(p)
        raw = raw[p.len + 1 :]
    return out


def test_ad_type_numbers_match_scapy() -> None:
    names: dict[int, str] = getattr(sb.EIR_Hdr.fields_desc[1], "i2s")
    for t in (0x01, 0x03, 0x07, 0x09, 0x0A, 0x16, 0x19, 0x1C, 0x21, 0x24, 0xFF):
        assert t in names and t in AdType._value2member_map_
    assert int(AdType.MANUFACTURER_SPECIFIC_DATA) == 0xFF and int(AdType.LE_ROLE) == 0x1C


# ---------------------------------------------------------------------------------------
# Tolerant and strict decoding
# ---------------------------------------------------------------------------------------


def test_zero_length_ends_data_and_padding() -> None:
    padded = EMU_PERIPH + bytes(LEGACY_ADVERTISING_DATA_MAX - len(EMU_PERIPH))
    for strict in (False, True):
        ad = AdvertisingData.from_bytes(padded, strict=strict)
        assert len(ad.structures) == 2 and not ad.malformed
    early = bytes.fromhex("020106" + "00" + "0509414243")
    assert len(AdvertisingData.from_bytes(early).structures) == 1
    with pytest.raises(AdvertisingDataError, match="after the end"):
        AdvertisingData.from_bytes(early, strict=True)


def test_truncated_trailing_structure() -> None:
    raw = bytes.fromhex("020106" + "0a09456d75")
    ad = AdvertisingData.from_bytes(raw)
    assert ad.malformed
    assert ad.structures == (AdStructure(AdType.FLAGS, b"\x06"),)
    assert ad.local_name is None
    with pytest.raises(AdvertisingDataError, match="Length 10"):
        AdvertisingData.from_bytes(raw, strict=True)


@pytest.mark.parametrize(
    "raw",
    [
        "030a0102",  # TX power of 2 octets
        "0219ff",  # appearance of 1 octet
        "04030f180a",  # 16-bit list with 3 octets
        "04050102 03".replace(" ", ""),  # 32-bit list with 3 octets
        "0216aa",  # service data without a full UUID
        "02ff59",  # manufacturer data without company id
        "0309c328",  # complete name, invalid UTF-8
        "041200010002"[:10],  # interval range 3 octets
        "0224ff",  # URI with unknown code point
        "011c",  # LE role with no octet
    ],
)
def test_strict_rejects_bad_contents_tolerant_skips(raw: str) -> None:
    data = bytes.fromhex(raw)
    with pytest.raises(AdvertisingDataError):
        AdvertisingData.from_bytes(data, strict=True)
    ad = AdvertisingData.from_bytes(data)
    assert len(ad.structures) == 1 and not ad.malformed
    assert ad.tx_power_level is None and ad.appearance is None and ad.le_role is None
    assert ad.uri is None and ad.peripheral_connection_interval_range is None
    assert ad.manufacturer_specific_data == [] and ad.service_data == []
    assert ad.to_bytes() == data  # kept raw: re-encodes unchanged


def test_tolerant_names() -> None:
    cut = "Café".encode()[:-1]  # shortened inside the two-octet "é"
    ad = AdvertisingData.of(AdStructure(AdType.SHORTENED_LOCAL_NAME, cut))
    assert ad.local_name == "Caf"
    AdvertisingData.from_bytes(ad.to_bytes(), strict=True)  # allowed for shortened names
    bad = AdvertisingData.from_bytes(bytes.fromhex("0409c32841"))
    assert bad.complete_local_name == "\ufffd(A"


def test_unknown_type_and_empty_flags() -> None:
    ad = AdvertisingData.from_bytes(bytes.fromhex("03f00102" + "0101"), strict=True)
    assert ad.structures[0] == AdStructure(0xF0, b"\x01\x02")
    assert ad.get(0xF0) == b"\x01\x02" and ad.get_all(0xF0) == [b"\x01\x02"]
    assert ad.flags == 0  # a zero-length Flags field is allowed (Supplement Part A 1.3)


# ---------------------------------------------------------------------------------------
# Builders
# ---------------------------------------------------------------------------------------


def test_build_full_payload() -> None:
    ad = AdvertisingData.build(
        flags=AdFlags.LE_GENERAL_DISCOVERABLE_MODE | AdFlags.BR_EDR_NOT_SUPPORTED,
        name="n",
        services=[0x180F, NUS, "0x12345678", UUID(0x2A00).to_128()],
        service_data=[(0xFEAA, b"\x10")],
        manufacturer=(0x0059, b"\xaa"),
        appearance=0x03C1,
        tx_power=4,
        le_role=0,
        uri="http://a.b",
        peripheral_connection_interval_range=(6, 12),
        advertising_interval=160,
    )
    raw = ad.to_bytes()
    assert raw.startswith(bytes.fromhex("020106" + "02096e" + "05030f18002a" + "050578563412"))
    back = AdvertisingData.from_bytes(raw, strict=True)
    assert back == ad
    assert back.service_uuids == [UUID(0x180F), UUID(0x2A00), UUID(0x12345678), UUID(NUS)]
    assert back.service_data == [(UUID(0xFEAA), b"\x10")]
    assert back.manufacturer_specific_data == [(0x59, b"\xaa")]
    assert (back.appearance, back.tx_power_level, back.le_role) == (0x03C1, 4, 0)
    assert back.uri == "http://a.b"
    assert back.get(AdType.URI) == b"\x16//a.b"
    assert back.peripheral_connection_interval_range == (6, 12)
    assert back.advertising_interval == 160


def test_build_limits_and_errors() -> None:
    with pytest.raises(AdvertisingDataError, match="limit is 31"):
        AdvertisingData.build(name="x" * 40, max_length=LEGACY_ADVERTISING_DATA_MAX)
    with pytest.raises(AdvertisingDataError):
        AdStructure.tx_power_level(200)
    with pytest.raises(AdvertisingDataError):
        AdStructure.le_role(7)
    with pytest.raises(AdvertisingDataError):
        AdStructure.flags(0x100)
    with pytest.raises(AdvertisingDataError):
        AdStructure(AdType.MANUFACTURER_SPECIFIC_DATA, bytes(255)).to_bytes()
    with pytest.raises(AdvertisingDataError):
        AdStructure.service_uuids([UUID(NUS)], 16)
    assert AdStructure.uri("ftp://x").data == b"\x01ftp://x"
    assert AdvertisingData.of(AdStructure.uri("ftp://x")).uri == "ftp://x"
    assert issubclass(AdvertisingDataError, ValueError)


def test_concatenation() -> None:
    a = AdvertisingData.build(flags=6)
    b = AdvertisingData.build(name="x")
    assert (a + b).to_bytes() == a.to_bytes() + b.to_bytes()


# ---------------------------------------------------------------------------------------
# Random bytes
# ---------------------------------------------------------------------------------------


@settings(max_examples=500)
@given(st.binary(max_size=64))
def test_tolerant_never_raises(raw: bytes) -> None:
    ad = AdvertisingData.from_bytes(raw)
    # Every accessor copes with whatever came in.
    for name in (
        "flags", "local_name", "service_uuids", "service_solicitation_uuids", "service_data",
        "manufacturer_specific_data", "tx_power_level", "appearance", "le_role", "uri",
        "peripheral_connection_interval_range", "advertising_interval",
    ):
        getattr(ad, name)
    if not ad.malformed:
        assert raw.startswith(ad.to_bytes())


@settings(max_examples=500)
@given(st.binary(max_size=64))
def test_strict_raises_only_documented_error(raw: bytes) -> None:
    try:
        ad = AdvertisingData.from_bytes(raw, strict=True)
    except AdvertisingDataError:
        return
    assert raw.startswith(ad.to_bytes())


@given(st.lists(st.tuples(st.integers(1, 0xFF), st.binary(max_size=30)), max_size=8))
def test_round_trip(items: list[tuple[int, bytes]]) -> None:
    ad = AdvertisingData(tuple(AdStructure(t, d) for t, d in items))
    assert AdvertisingData.from_bytes(ad.to_bytes()) == ad
