"""LL Control PDUs: every opcode against scapy's independent LL_* layers.

scapy notes (2.8.0): its opcode table still says LL_CONNECTION_UPDATE_REQ /
LL_CHANNEL_MAP_REQ / LL_SLAVE_FEATURE_REQ (renamed in Core 5.2 and 5.3); its
BTLEFeatureField has a missing comma after 'le_pwr_class', so every feature *name* from
bit 16 up is off by one — we only pass integers there; LL_CHANNEL_REPORTING_IND's
layer is named 'LL_SUBRATE_IND' (name only, the fields are right). Field layouts agree
with ours for every opcode, including the bit-packed LL_CTE_REQ, LL_CIS_REQ,
LL_PERIODIC_SYNC_IND and the power control PDUs.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scapy.layers import bluetooth4LE as sc

from linklayer.address import Address
from linklayer.control_pdu import (
    CONTROL_PDU_CLASSES,
    LL_CHANNEL_MAP_IND,
    LL_CHANNEL_REPORTING_IND,
    LL_CHANNEL_STATUS_IND,
    LL_CIS_IND,
    LL_CIS_REQ,
    LL_CIS_RSP,
    LL_CIS_TERMINATE_IND,
    LL_CLOCK_ACCURACY_REQ,
    LL_CLOCK_ACCURACY_RSP,
    LL_CONNECTION_PARAM_REQ,
    LL_CONNECTION_PARAM_RSP,
    LL_CONNECTION_UPDATE_IND,
    LL_CTE_REQ,
    LL_CTE_RSP,
    LL_ENC_REQ,
    LL_ENC_RSP,
    LL_FEATURE_REQ,
    LL_FEATURE_RSP,
    LL_LENGTH_REQ,
    LL_LENGTH_RSP,
    LL_MIN_USED_CHANNELS_IND,
    LL_PAUSE_ENC_REQ,
    LL_PAUSE_ENC_RSP,
    LL_PERIODIC_SYNC_IND,
    LL_PERIPHERAL_FEATURE_REQ,
    LL_PHY_REQ,
    LL_PHY_RSP,
    LL_PHY_UPDATE_IND,
    LL_PING_REQ,
    LL_PING_RSP,
    LL_POWER_CHANGE_IND,
    LL_POWER_CONTROL_REQ,
    LL_POWER_CONTROL_RSP,
    LL_REJECT_EXT_IND,
    LL_REJECT_IND,
    LL_START_ENC_REQ,
    LL_START_ENC_RSP,
    LL_SUBRATE_IND,
    LL_SUBRATE_REQ,
    LL_TERMINATE_IND,
    LL_UNKNOWN_RSP,
    LL_VERSION_IND,
    ControlPdu,
    ControlPduLengthError,
    LLFeature,
    LLPhys,
    UnknownControlOpcode,
    decode_control_pdu,
)
from linklayer.pdu import PduDecodeError, PduFieldError, SyncInfo

VECTORS = Path("/work/shared/vectors")

# CtrData sizes, written out from Core 5.2/5.3 Vol 6 Part B 2.4.2 (cross-checked with
# the packed C structures of two open controllers); independent of our layout code.
SPEC_CTR_DATA_SIZES = {
    0x00: 11, 0x01: 7, 0x02: 1, 0x03: 22, 0x04: 12, 0x05: 0, 0x06: 0, 0x07: 1,
    0x08: 8, 0x09: 8, 0x0A: 0, 0x0B: 0, 0x0C: 5, 0x0D: 1, 0x0E: 8, 0x0F: 23,
    0x10: 23, 0x11: 2, 0x12: 0, 0x13: 0, 0x14: 8, 0x15: 8, 0x16: 2, 0x17: 2,
    0x18: 4, 0x19: 2, 0x1A: 1, 0x1B: 0, 0x1C: 34, 0x1D: 1, 0x1E: 1, 0x1F: 35,
    0x20: 8, 0x21: 15, 0x22: 3, 0x23: 3, 0x24: 4, 0x25: 4, 0x26: 10, 0x27: 10,
    0x28: 3, 0x29: 10,
}  # fmt: skip


def test_every_opcode_registered_with_the_spec_size() -> None:
    assert sorted(CONTROL_PDU_CLASSES) == list(range(0x00, 0x2A))
    for opcode, cls in CONTROL_PDU_CLASSES.items():
        assert cls.OPCODE == opcode
        assert cls.CTR_DATA_SIZE == SPEC_CTR_DATA_SIZES[opcode], cls.__name__
        assert cls.__name__.startswith("LL_")


# -- literal bytes from scapy ------------------------------------------------------------

ADV_A = Address.parse("C0:11:22:33:44:55", random=True)
CCM = json.loads((VECTORS / "ll_ccm.json").read_text())["inputs"]


def air(msb_first_hex: str) -> bytes:
    """Spec-printed (MSB first) hex to air order."""
    return bytes.fromhex(msb_first_hex)[::-1]


CONN_PARAMS: dict[str, Any] = dict(
    interval_min=6, interval_max=24, latency=4, timeout=500, preferred_periodicity=2,
    reference_conn_event_count=0x1234, offset0=1, offset1=2, offset2=3, offset3=4,
    offset4=5, offset5=0xFFFF,
)  # fmt: skip
SCAPY_CONN_PARAMS: dict[str, Any] = dict(CONN_PARAMS, reference_conn_evt_count=0x1234)
del SCAPY_CONN_PARAMS["reference_conn_event_count"]

CASES: list[tuple[ControlPdu, Any]] = [
    (LL_CONNECTION_UPDATE_IND(2, 0x0102, 40, 3, 0x0C80, 0xFFFE),
     sc.LL_CONNECTION_UPDATE_IND(win_size=2, win_offset=0x0102, interval=40, latency=3,
                                 timeout=0x0C80, instant=0xFFFE)),
    (LL_CHANNEL_MAP_IND(0x1E00E00600, 0x0203),
     sc.LL_CHANNEL_MAP_IND(chM=0x1E00E00600, instant=0x0203)),
    (LL_TERMINATE_IND(0x13), sc.LL_TERMINATE_IND(code=0x13)),
    (LL_ENC_REQ(air(CCM["Rand"]), int(CCM["EDIV"], 16), air(CCM["SKDm"]), air(CCM["IVm"])),
     sc.LL_ENC_REQ(rand=int(CCM["Rand"], 16), ediv=int(CCM["EDIV"], 16),
                   skdm=int(CCM["SKDm"], 16), ivm=int(CCM["IVm"], 16))),
    (LL_ENC_RSP(air(CCM["SKDs"]), air(CCM["IVs"])),
     sc.LL_ENC_RSP(skds=int(CCM["SKDs"], 16), ivs=int(CCM["IVs"], 16))),
    (LL_START_ENC_REQ(), sc.LL_START_ENC_REQ()),
    (LL_START_ENC_RSP(), sc.LL_START_ENC_RSP()),
    (LL_UNKNOWN_RSP(0x2F), sc.LL_UNKNOWN_RSP(code=0x2F)),
    (LL_FEATURE_REQ(0x0000_00FF_0000_4121), sc.LL_FEATURE_REQ(feature_set=0x0000_00FF_0000_4121)),
    (LL_FEATURE_RSP(0x8000_0000_0000_0001), sc.LL_FEATURE_RSP(feature_set=0x8000_0000_0000_0001)),
    (LL_PAUSE_ENC_REQ(), sc.LL_PAUSE_ENC_REQ()),
    (LL_PAUSE_ENC_RSP(), sc.LL_PAUSE_ENC_RSP()),
    (LL_VERSION_IND(0x0B, 0x05F1, 0x1234), sc.LL_VERSION_IND(version=0x0B, company=0x05F1,
                                                             subversion=0x1234)),
    (LL_REJECT_IND(0x06), sc.LL_REJECT_IND(code=0x06)),
    (LL_PERIPHERAL_FEATURE_REQ(0x41FF), sc.LL_SLAVE_FEATURE_REQ(feature_set=0x41FF)),
    (LL_CONNECTION_PARAM_REQ(**CONN_PARAMS), sc.LL_CONNECTION_PARAM_REQ(**SCAPY_CONN_PARAMS)),
    (LL_CONNECTION_PARAM_RSP(**CONN_PARAMS), sc.LL_CONNECTION_PARAM_RSP(**SCAPY_CONN_PARAMS)),
    (LL_REJECT_EXT_IND(0x0F, 0x1E), sc.LL_REJECT_EXT_IND(reject_opcode=0x0F, error_code=0x1E)),
    (LL_PING_REQ(), sc.LL_PING_REQ()),
    (LL_PING_RSP(), sc.LL_PING_RSP()),
    (LL_LENGTH_REQ(251, 2120, 27, 17040), sc.LL_LENGTH_REQ(max_rx_bytes=251, max_rx_time=2120,
                                                            max_tx_bytes=27, max_tx_time=17040)),
    (LL_LENGTH_RSP(27, 328, 251, 2120), sc.LL_LENGTH_RSP(max_rx_bytes=27, max_rx_time=328,
                                                          max_tx_bytes=251, max_tx_time=2120)),
    (LL_PHY_REQ(LLPhys.LE_1M | LLPhys.LE_2M, LLPhys.LE_CODED),
     sc.LL_PHY_REQ(tx_phys="phy_1m+phy_2m", rx_phys="phy_coded")),
    (LL_PHY_RSP(LLPhys.LE_2M, LLPhys.LE_1M | LLPhys.LE_CODED),
     sc.LL_PHY_RSP(tx_phys="phy_2m", rx_phys="phy_1m+phy_coded")),
    (LL_PHY_UPDATE_IND(LLPhys.LE_2M, 0, 0x0100),
     sc.LL_PHY_UPDATE_IND(tx_phy="phy_2m", rx_phy=0, instant=0x0100)),
    (LL_MIN_USED_CHANNELS_IND(LLPhys.LE_1M, 8),
     sc.LL_MIN_USED_CHANNELS_IND(phys="phy_1m", min_used_channels=8)),
    (LL_CTE_REQ(min_cte_len_req=20, cte_type_req=2),
     sc.LL_CTE_REQ(min_cte_len_req=20, cte_type_req=2)),
    (LL_CTE_RSP(), sc.LL_CTE_RSP()),
    (LL_PERIODIC_SYNC_IND(0x1234, bytes(range(1, 19)), 0x5566, 0x7788, 5, 1, 6, 2,
                          ADV_A.value, 0x99AA),
     sc.LL_PERIODIC_SYNC_IND(id=0x1234, sync_info=int.from_bytes(bytes(range(1, 19)), "little"),
                             conn_event_count=0x5566, last_pa_event_counter=0x7788, sid=5,
                             a_type=1, sca=6, phy=2, AdvA="c0:11:22:33:44:55",
                             sync_conn_event_count=0x99AA)),
    (LL_CLOCK_ACCURACY_REQ(5), sc.LL_CLOCK_ACCURACY_REQ(sca=5)),
    (LL_CLOCK_ACCURACY_RSP(1), sc.LL_CLOCK_ACCURACY_RSP(sca=1)),
    (LL_CIS_REQ(1, 2, 1, 2, 0x123, 1, 0x456, 0x12345, 0x6789A, 0x1111, 0x2222, 3, 0x334455,
                5, 6, 7, 8, 0x99, 0xAABBCC, 0xDDEEFF, 0x1234),
     sc.LL_CIS_REQ(cig_id=1, cis_id=2, phy_c_to_p=1, phy_p_to_c=2, max_sdu_c_to_p=0x123,
                   framed=1, max_sdu_p_to_c=0x456, sdu_interval_c_to_p=0x12345,
                   sdu_interval_p_to_c=0x6789A, max_pdu_c_to_p=0x1111, max_pdu_p_to_c=0x2222,
                   nse=3, subinterval=0x334455, bn_c_to_p=5, bn_p_to_c=6, ft_c_to_p=7,
                   ft_p_to_c=8, iso_interval=0x99, cis_offset_min=0xAABBCC,
                   cis_offset_max=0xDDEEFF, conn_event_count=0x1234)),
    (LL_CIS_RSP(0x000500, 0x001000, 0x0042),
     sc.LL_CIS_RSP(cis_offset_min=0x000500, cis_offset_max=0x001000, conn_event_count=0x0042)),
    (LL_CIS_IND(0x8E89BED6, 0x0102, 0x030405, 0x060708, 0x0A0B),
     sc.LL_CIS_IND(AA=0x8E89BED6, cis_offset=0x0102, cig_sync_delay=0x030405,
                   cis_sync_delay=0x060708, conn_event_count=0x0A0B)),
    (LL_CIS_TERMINATE_IND(1, 2, 0x13),
     sc.LL_CIS_TERMINATE_IND(cig_id=1, cis_id=2, error_code=0x13)),
    (LL_POWER_CONTROL_REQ(2, -3, -20), sc.LL_POWER_CONTROL_REQ(phy=2, delta=-3, tx_power=-20)),
    (LL_POWER_CONTROL_RSP(1, 0, -3, -20, 5),
     sc.LL_POWER_CONTROL_RSP(min=1, max=0, delta=-3, tx_power=-20, apr=5)),
    (LL_POWER_CHANGE_IND(2, 0, 1, 4, 20),
     sc.LL_POWER_CHANGE_IND(phy=2, min=0, max=1, delta=4, tx_power=20)),
    (LL_SUBRATE_REQ(1, 4, 10, 2, 300),
     sc.LL_SUBRATE_REQ(subrate_factor_min=1, subrate_factor_max=4, max_latency=10,
                       continuation_number=2, timeout=300)),
    (LL_SUBRATE_IND(3, 0x100, 1, 0, 400),
     sc.LL_SUBRATE_IND(subrate_factor=3, subrate_base_event=0x100, latency=1,
                       continuation_number=0, timeout=400)),
    (LL_CHANNEL_REPORTING_IND(1, 5, 9),
     sc.LL_CHANNEL_REPORTING_IND(enable=1, min_spacing=5, max_delay=9)),
    (LL_CHANNEL_STATUS_IND(0x0102030405060708090A),
     sc.LL_CHANNEL_STATUS_IND(channel_classification=0x0102030405060708090A)),
]  # fmt: skip


def test_cases_cover_every_opcode() -> None:
    assert sorted(pdu.OPCODE for pdu, _ in CASES) == sorted(CONTROL_PDU_CLASSES)


@pytest.mark.parametrize("pdu,layer", CASES, ids=[type(p).__name__ for p, _ in CASES])
def test_matches_scapy(pdu: ControlPdu, layer: Any) -> None:
    expected = bytes(sc.BTLE_CTRL() / layer)
    assert pdu.to_bytes() == expected
    assert decode_control_pdu(expected) == pdu
    assert type(pdu).from_bytes(expected) == pdu
    # And inside a data channel PDU, as scapy frames it (LLID 0b11).
    framed = bytes(sc.BTLE_DATA(LLID=3) / sc.BTLE_CTRL() / layer)
    assert framed[0] & 0x03 == 3 and framed[1] == len(expected) and framed[2:] == expected


def test_feature_bits_match_scapy_names_below_16() -> None:
    ours = LL_FEATURE_REQ(LLFeature.LE_ENCRYPTION | LLFeature.LE_2M_PHY | LLFeature.LE_CODED_PHY
                          | LLFeature.CHANNEL_SELECTION_ALGORITHM_2
                          | LLFeature.LE_DATA_PACKET_LENGTH_EXTENSION)  # fmt: skip
    theirs = sc.BTLE_CTRL() / sc.LL_FEATURE_REQ(
        feature_set="le_encryption+le_2m_phy+le_coded_phy+ch_sel_alg+le_data_len_ext"
    )
    assert ours.to_bytes() == bytes(theirs)


# -- literal bytes from the capture and the CCM sample data ----------------------------


def test_version_ind_from_capture() -> None:
    raw = (VECTORS / "captures" / "le_ll_phdr_256.pcap").read_bytes()
    frames, pos = [], 24
    while pos < len(raw):
        incl = struct.unpack_from("<I", raw, pos + 8)[0]
        frames.append(raw[pos + 16 : pos + 16 + incl])
        pos += 16 + incl
    # 10-octet PHDR, 4-octet AA, 2-octet data header, payload, 3-octet CRC.
    control = [f[16:-3] for f in frames if f[14] & 0x03 == 3 and f[10:14] != b"\xd6\xbe\x89\x8e"]
    assert len(control) == 1
    pdu = decode_control_pdu(control[0])
    assert pdu == LL_VERSION_IND(vers_nr=0x0B, comp_id=0x05F1, sub_vers_nr=0x0001)
    assert pdu.to_bytes() == control[0]


def test_start_enc_rsp_from_ccm_sample_data() -> None:
    packets = json.loads((VECTORS / "ll_ccm.json").read_text())["packets"]
    plaintext = bytes.fromhex(packets[0]["plaintext_payload"])
    assert decode_control_pdu(plaintext) == LL_START_ENC_RSP()
    assert LL_START_ENC_RSP().to_bytes() == plaintext


# -- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("opcode", [0x2A, 0x3F, 0x80, 0xFF])
def test_unknown_opcode(opcode: int) -> None:
    with pytest.raises(UnknownControlOpcode) as info:
        decode_control_pdu(bytes([opcode, 1, 2, 3]))
    assert info.value.opcode == opcode
    assert not isinstance(info.value, PduDecodeError)


@pytest.mark.parametrize("cls", list(CONTROL_PDU_CLASSES.values()), ids=lambda c: c.__name__)
def test_wrong_ctrdata_size(cls: type[ControlPdu]) -> None:
    good = bytes([cls.OPCODE]) + bytes(cls.CTR_DATA_SIZE)
    assert type(decode_control_pdu(good)) is cls
    for bad in (good + b"\x00", good[:-1] if cls.CTR_DATA_SIZE else None):
        if bad is None:
            continue
        with pytest.raises(ControlPduLengthError) as info:
            decode_control_pdu(bad)
        assert info.value.opcode == cls.OPCODE
        assert isinstance(info.value, PduDecodeError)


def test_empty_payload_and_wrong_class() -> None:
    with pytest.raises(PduDecodeError):
        decode_control_pdu(b"")
    with pytest.raises(PduDecodeError):
        LL_PING_REQ.from_bytes(LL_PING_RSP().to_bytes())


def test_rfu_bits_ignored_on_receipt_and_sent_as_zero() -> None:
    assert decode_control_pdu(bytes([0x1A, 0b10_1_10100])) == LL_CTE_REQ(20, 2)
    assert LL_CTE_REQ(20, 2).to_bytes() == bytes([0x1A, 0b10_0_10100])
    assert decode_control_pdu(bytes([0x24, 0xFD, 0, 0, 0])) == LL_POWER_CONTROL_RSP(1, 0, 0, 0, 0)


def test_constructor_refuses_bad_fields() -> None:
    with pytest.raises(PduFieldError):
        LL_TERMINATE_IND(256)
    with pytest.raises(PduFieldError):
        LL_ENC_RSP(bytes(7), bytes(4))
    with pytest.raises(PduFieldError):
        LL_POWER_CONTROL_REQ(1, 128, 0)
    with pytest.raises(PduFieldError):
        LL_CTE_REQ(32, 0)
    with pytest.raises(PduFieldError):
        LL_CHANNEL_MAP_IND(1 << 40, 0)


def test_periodic_sync_ind_helpers() -> None:
    sync = SyncInfo(1, 80, 0x1FFFFFFFFF, 0x12345678, 0x555555, 7)
    pdu = LL_PERIODIC_SYNC_IND(1, sync.to_bytes(), 2, 3, 4, 1, 5, 1, ADV_A.value, 6)
    assert pdu.advertiser_address() == ADV_A
    assert pdu.decoded_sync_info() == sync


# -- property tests ---------------------------------------------------------------------------


@given(st.sampled_from(sorted(CONTROL_PDU_CLASSES)), st.data())
def test_property_round_trip_every_class(opcode: int, data: Any) -> None:
    cls = CONTROL_PDU_CLASSES[opcode]
    ctr = data.draw(st.binary(min_size=cls.CTR_DATA_SIZE, max_size=cls.CTR_DATA_SIZE))
    pdu = decode_control_pdu(bytes([opcode]) + ctr)
    assert type(pdu) is cls
    assert decode_control_pdu(pdu.to_bytes()) == pdu
    assert len(pdu.to_bytes()) == 1 + cls.CTR_DATA_SIZE


@given(st.binary(max_size=40))
def test_property_random_bytes_only_raise_decode_errors(raw: bytes) -> None:
    try:
        decode_control_pdu(raw)
    except (PduDecodeError, UnknownControlOpcode):
        pass
    for cls in CONTROL_PDU_CLASSES.values():
        try:
            cls.from_bytes(raw)
        except PduDecodeError:
            pass
