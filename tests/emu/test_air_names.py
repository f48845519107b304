"""Tests of emu.air_names: naming every packet on the air.

Oracles: the shared DLT 256 sample captures (decoded by tshark 4.0.17 as ADV_IND,
SCAN_REQ, ... LL_VERSION_IND, Empty PDU), scapy's independent BTLE / L2CAP / ATT / SMP
encoders for data-channel PDUs, and our own advertising encoders for the extended PDUs
(whose names depend on context, which is what is under test there).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers import bluetooth as sbt
from scapy.layers import bluetooth4LE as sle

from emu.air_names import (
    AirClassifier,
    AirName,
    classify_packets,
    count_pdus,
    is_connection_packet,
    is_primary_advertising,
    pdu_name,
)
from emu.capture import read_air_pcap
from emu.records import AirPacket
from emu.scenario_defaults import AIR_PDU_NAMES
from linklayer.address import Address
from linklayer.pdu import (
    ADI,
    ADV_IND,
    AUX_CONNECT_REQ,
    AUX_SCAN_REQ,
    CONNECT_IND,
    AdvMode,
    AuxPtr,
    ExtendedAdvPdu,
    LLData,
    SyncInfo,
)
from phy.types import Phy

CAPTURES = "/work/shared/vectors/captures"
ADV_AA = 0x8E89BED6
CONN_AA = 0x50654AC3
SYNC_AA = 0x12345678
ADV_A = Address(bytes.fromhex("554433221100"), random=True)
SCAN_A = Address(bytes.fromhex("eeddccbbaad0"), random=True)


def pkt(
    pdu: bytes,
    *,
    t: int = 0,
    node: str = "n",
    channel: int = 37,
    aa: int = ADV_AA,
    kind: int = 0,
    crc_ok: bool = True,
    dur: int = 100_000,
) -> AirPacket:
    return AirPacket(t, t + dur, node, channel, Phy.LE_1M, aa, pdu, kind, crc_ok, -50.0)


def data(pdu: bytes, *, t: int = 0, kind: int = 2, aa: int = CONN_AA) -> AirPacket:
    return pkt(pdu, t=t, channel=5, aa=aa, kind=kind)


def name_of(packet: AirPacket) -> str | None:
    return pdu_name(packet, AirClassifier())


def _from_pcap(path: str) -> list[AirPacket]:
    return [
        AirPacket(r.t_ns, r.t_ns + 1, "", r.channel_index, r.phy, r.access_address, r.pdu,
                  r.pdu_kind, r.crc_valid, float(r.rssi_dbm or 0))
        for r in read_air_pcap(path)
    ]


# ------------------------------------------------------------------ sample captures


def test_sample_capture_names_match_tshark() -> None:
    names = [n.name for n in classify_packets(_from_pcap(f"{CAPTURES}/le_ll_phdr_256.pcap"))]
    # tshark: ADV_IND, SCAN_REQ, SCAN_RSP, CONNECT_IND, ATT Read Request, ATT Read
    # Response, Control Opcode: LL_VERSION_IND, Empty PDU.
    assert names == [
        "ADV_IND", "SCAN_REQ", "SCAN_RSP", "CONNECT_IND", "ATT_READ_REQ", "ATT_READ_RSP",
        "LL_VERSION_IND", "LL_EMPTY",
    ]


def test_edge_case_capture_never_raises_and_names_what_it_can() -> None:
    result = classify_packets(_from_pcap(f"{CAPTURES}/le_ll_phdr_256_edge_cases.pcap"))
    # 1: unknown direction (PHDR type 0 off the advertising address), a Read Request;
    # 3: random "ciphertext" with LLID 2 is just L2CAP data; 4/5: decrypted copies.
    assert [n.name for n in result] == [
        "ATT_READ_REQ", "ATT_READ_REQ", "LL_DATA", "ATT_READ_REQ", "ATT_READ_REQ",
    ]
    assert all(n.l2cap for n in result)


# ------------------------------------------------------------------ scapy oracles

_SCAPY_ATT = {
    "ATT_Error_Response": "ATT_ERROR_RSP",
    "ATT_Exchange_MTU_Request": "ATT_EXCHANGE_MTU_REQ",
    "ATT_Exchange_MTU_Response": "ATT_EXCHANGE_MTU_RSP",
    "ATT_Find_Information_Request": "ATT_FIND_INFORMATION_REQ",
    "ATT_Find_Information_Response": "ATT_FIND_INFORMATION_RSP",
    "ATT_Find_By_Type_Value_Request": "ATT_FIND_BY_TYPE_VALUE_REQ",
    "ATT_Find_By_Type_Value_Response": "ATT_FIND_BY_TYPE_VALUE_RSP",
    "ATT_Read_By_Type_Request": "ATT_READ_BY_TYPE_REQ",
    "ATT_Read_By_Type_Response": "ATT_READ_BY_TYPE_RSP",
    "ATT_Read_Request": "ATT_READ_REQ",
    "ATT_Read_Response": "ATT_READ_RSP",
    "ATT_Read_Blob_Request": "ATT_READ_BLOB_REQ",
    "ATT_Read_Blob_Response": "ATT_READ_BLOB_RSP",
    "ATT_Read_Multiple_Request": "ATT_READ_MULTIPLE_REQ",
    "ATT_Read_Multiple_Response": "ATT_READ_MULTIPLE_RSP",
    "ATT_Read_By_Group_Type_Request": "ATT_READ_BY_GROUP_TYPE_REQ",
    "ATT_Read_By_Group_Type_Response": "ATT_READ_BY_GROUP_TYPE_RSP",
    "ATT_Write_Request": "ATT_WRITE_REQ",
    "ATT_Write_Response": "ATT_WRITE_RSP",
    "ATT_Prepare_Write_Request": "ATT_PREPARE_WRITE_REQ",
    "ATT_Prepare_Write_Response": "ATT_PREPARE_WRITE_RSP",
    "ATT_Execute_Write_Request": "ATT_EXECUTE_WRITE_REQ",
    "ATT_Execute_Write_Response": "ATT_EXECUTE_WRITE_RSP",
    "ATT_Read_Multiple_Variable_Request": "ATT_READ_MULTIPLE_VARIABLE_REQ",
    "ATT_Read_Multiple_Variable_Response": "ATT_READ_MULTIPLE_VARIABLE_RSP",
    "ATT_Multiple_Handle_Value_Notification": "ATT_MULTIPLE_HANDLE_VALUE_NTF",
    "ATT_Write_Command": "ATT_WRITE_CMD",
    "ATT_Handle_Value_Notification": "ATT_HANDLE_VALUE_NTF",
    "ATT_Handle_Value_Indication": "ATT_HANDLE_VALUE_IND",
    "ATT_Handle_Value_Confirmation": "ATT_HANDLE_VALUE_CFM",
    "ATT_Signed_Write_Command": "ATT_SIGNED_WRITE_CMD",
}
_SCAPY_SMP = {
    "SM_Pairing_Request": "SMP_PAIRING_REQUEST",
    "SM_Pairing_Response": "SMP_PAIRING_RESPONSE",
    "SM_Confirm": "SMP_PAIRING_CONFIRM",
    "SM_Random": "SMP_PAIRING_RANDOM",
    "SM_Failed": "SMP_PAIRING_FAILED",
    "SM_Encryption_Information": "SMP_ENCRYPTION_INFORMATION",
    "SM_Master_Identification": "SMP_CENTRAL_IDENTIFICATION",
    "SM_Identity_Information": "SMP_IDENTITY_INFORMATION",
    "SM_Identity_Address_Information": "SMP_IDENTITY_ADDRESS_INFORMATION",
    "SM_Signing_Information": "SMP_SIGNING_INFORMATION",
    "SM_Security_Request": "SMP_SECURITY_REQUEST",
    "SM_Public_Key": "SMP_PAIRING_PUBLIC_KEY",
    "SM_DHKey_Check": "SMP_PAIRING_DHKEY_CHECK",
    "SM_Keypress_Notification": "SMP_PAIRING_KEYPRESS_NOTIFICATION",
}
_SCAPY_LL_RENAMED = {"LL_SLAVE_FEATURE_REQ": "LL_PERIPHERAL_FEATURE_REQ"}


def _scapy_att() -> list[tuple[bytes, str]]:
    out = []
    for _, cls in sbt.ATT_Hdr.payload_guess:
        if cls.__name__ in _SCAPY_ATT:
            layer = sle.BTLE_DATA() / sbt.L2CAP_Hdr() / sbt.ATT_Hdr() / cls()
            out.append((bytes(layer), _SCAPY_ATT[cls.__name__]))
    return out


def _scapy_smp() -> list[tuple[bytes, str]]:
    out = []
    for _, cls in sbt.SM_Hdr.payload_guess:
        layer = sle.BTLE_DATA() / sbt.L2CAP_Hdr() / sbt.SM_Hdr() / cls()
        out.append((bytes(layer), _SCAPY_SMP[cls.__name__]))
    return out


def _scapy_control() -> list[tuple[bytes, str | None]]:
    out: list[tuple[bytes, str | None]] = []
    for _, cls in sle.BTLE_CTRL.payload_guess:
        spec = _SCAPY_LL_RENAMED.get(cls.__name__, cls.__name__)
        expected = spec if spec in AIR_PDU_NAMES else None
        out.append((bytes(sle.BTLE_DATA() / sle.BTLE_CTRL() / cls()), expected))
    return out


def test_scapy_oracle_covers_all_att_smp_and_control_names() -> None:
    got = {name for _, name in _scapy_att() + _scapy_smp() + _scapy_control()}
    wanted = {n for n in AIR_PDU_NAMES if n.startswith(("ATT_", "SMP_", "LL_"))}
    assert wanted - {"LL_EMPTY", "LL_DATA"} <= got


@pytest.mark.parametrize("pdu, expected", _scapy_att() + _scapy_smp())
def test_att_and_smp_names_from_scapy_bytes(pdu: bytes, expected: str) -> None:
    for kind in (2, 3, 0):
        name = AirClassifier().classify(data(pdu, kind=kind))
        assert name == AirName(expected, l2cap=True)
        assert name.counts_as(expected) and name.counts_as("LL_DATA")
        assert not name.counts_as("LL_EMPTY")


@pytest.mark.parametrize("pdu, expected", _scapy_control())
def test_control_names_from_scapy_bytes(pdu: bytes, expected: str | None) -> None:
    name = AirClassifier().classify(data(pdu))
    assert name == AirName(expected)
    assert not name.counts_as("LL_DATA")


def test_literal_data_pdus() -> None:
    # Hand-assembled from Vol 6 Part B 2.4 and Vol 3 Part A 3.1 (not our encoders).
    assert name_of(data(bytes.fromhex("0100"))) == "LL_EMPTY"
    assert name_of(data(bytes.fromhex("0d00"))) == "LL_EMPTY"  # NESN/SN set
    ntf = bytes.fromhex("0209" "05000400" "1b0300" "6869")
    assert name_of(data(ntf)) == "ATT_HANDLE_VALUE_NTF"
    # Signalling channel (CID 5): a Connection Parameter Update Request is LL_DATA.
    sig = bytes.fromhex("0210" "0c000500" "12010800" "0600060000008000")
    assert AirClassifier().classify(data(sig)) == AirName("LL_DATA", l2cap=True)
    # An LE credit-based channel (CID 0x0040).
    assert name_of(data(bytes.fromhex("0206" "02004000" "6869"))) == "LL_DATA"
    # Continuation fragment (LLID 01 with payload).
    assert AirClassifier().classify(data(bytes.fromhex("0103616263"))) == AirName(
        "LL_DATA", l2cap=True
    )
    # Start fragment too short for header + opcode.
    assert name_of(data(bytes.fromhex("0203" "1b0004"))) == "LL_DATA"
    # ATT with an opcode ATT does not define.
    assert name_of(data(bytes.fromhex("0205" "01000400" "ff"))) == "LL_DATA"


@pytest.mark.parametrize(
    "pdu",
    [b"", b"\x01", bytes.fromhex("0105aa"), bytes.fromhex("0001aa"), bytes.fromhex("0200"),
     bytes.fromhex("0300"), bytes.fromhex("0301ff"), bytes.fromhex("2301")],
)
def test_malformed_data_pdus_have_no_name(pdu: bytes) -> None:
    assert name_of(data(pdu)) is None


# ------------------------------------------------------------------ advertising


def test_legacy_advertising_from_scapy() -> None:
    cases = [
        (sle.BTLE_ADV() / sle.BTLE_ADV_IND(AdvA="c0:11:22:33:44:55"), "ADV_IND"),
        (sle.BTLE_ADV() / sle.BTLE_ADV_NONCONN_IND(AdvA="c0:11:22:33:44:55"), "ADV_NONCONN_IND"),
        (sle.BTLE_ADV() / sle.BTLE_ADV_SCAN_IND(AdvA="c0:11:22:33:44:55"), "ADV_SCAN_IND"),
        (sle.BTLE_ADV() / sle.BTLE_ADV_DIRECT_IND(AdvA="c0:11:22:33:44:55",
                                                 InitA="d0:aa:bb:cc:dd:ee"), "ADV_DIRECT_IND"),
        (sle.BTLE_ADV() / sle.BTLE_SCAN_REQ(ScanA="d0:aa:bb:cc:dd:ee",
                                           AdvA="c0:11:22:33:44:55"), "SCAN_REQ"),
        (sle.BTLE_ADV() / sle.BTLE_SCAN_RSP(AdvA="c0:11:22:33:44:55"), "SCAN_RSP"),
        (sle.BTLE_ADV() / sle.BTLE_CONNECT_REQ(InitA="d0:aa:bb:cc:dd:ee",
                                              AdvA="c0:11:22:33:44:55"), "CONNECT_IND"),
    ]
    for layer, expected in cases:
        for channel in (37, 38, 39):
            assert name_of(pkt(bytes(layer), channel=channel)) == expected


def test_advertising_round_trip_with_our_encoder() -> None:
    pdu = ADV_IND(ADV_A, b"\x02\x01\x06").to_bytes()
    assert name_of(pkt(pdu)) == "ADV_IND"
    # The same bytes on a secondary channel are not a valid PDU type there.
    assert name_of(pkt(pdu, channel=5, kind=1)) is None
    assert name_of(pkt(pdu[:-1])) is None  # Length disagrees with the octets


def _ll_data(aa: int = CONN_AA) -> LLData:
    return LLData(aa=aa, crc_init=0x123456, win_size=2, win_offset=0, interval=24,
                  latency=0, timeout=72, ch_m=(1 << 37) - 1, hop=7, sca=0)


def test_secondary_channel_request_and_connect_pdus() -> None:
    req = AUX_SCAN_REQ(SCAN_A, ADV_A).to_bytes()
    assert name_of(pkt(req, channel=5, kind=1)) == "AUX_SCAN_REQ"
    assert name_of(pkt(req, channel=37)) == "SCAN_REQ"
    conn = AUX_CONNECT_REQ(SCAN_A, ADV_A, _ll_data()).to_bytes()
    assert name_of(pkt(conn, channel=5, kind=1)) == "AUX_CONNECT_REQ"
    # The advertising access address on a data channel index is a secondary channel.
    assert name_of(pkt(conn, channel=5, kind=0)) == "AUX_CONNECT_REQ"
    rsp = ExtendedAdvPdu.aux_connect_rsp(ADV_A, SCAN_A).to_bytes()
    assert name_of(pkt(rsp, channel=5, kind=1)) == "AUX_CONNECT_RSP"


ADI_1 = ADI(did=0x123, sid=2)


def _ext_ind(channel: int, offset_ns: int, adi: ADI = ADI_1) -> bytes:
    ptr = AuxPtr.from_offset_ns(channel, offset_ns, ca=1)
    return ExtendedAdvPdu.adv_ext_ind(AdvMode.NON_CONNECTABLE_NON_SCANNABLE, adi=adi,
                                      aux_ptr=ptr).to_bytes()


def _aux(adv_a: Address | None = None, ptr: AuxPtr | None = None, adi: ADI | None = ADI_1,
         sync: SyncInfo | None = None) -> bytes:
    # Built without the role check: the same structure serves several roles.
    return ExtendedAdvPdu(adv_a=adv_a, adi=adi, aux_ptr=ptr, sync_info=sync,
                          adv_data=b"\x02\x01\x06").to_bytes()


def test_aux_pointer_chain_names_adv_then_chain() -> None:
    chain_ptr = AuxPtr.from_offset_ns(9, 600_000, ca=1)
    packets = [
        pkt(_ext_ind(5, 300_000), t=0, channel=37),
        pkt(_aux(ADV_A, chain_ptr), t=300_010, channel=5, kind=1),
        pkt(_aux(None, None), t=900_020, channel=9, kind=1),
    ]
    assert [n.name for n in classify_packets(packets)] == [
        "ADV_EXT_IND", "AUX_ADV_IND", "AUX_CHAIN_IND",
    ]


def test_same_bytes_named_by_context() -> None:
    body = _aux(None, None, adi=ADI_1)
    # Announced by an ADV_EXT_IND: AUX_ADV_IND.
    first = [pkt(_ext_ind(5, 300_000), t=0), pkt(body, t=300_000, channel=5, kind=1)]
    assert classify_packets(first)[1].name == "AUX_ADV_IND"
    # Announced by an AUX_ADV_IND: AUX_CHAIN_IND.
    ptr = AuxPtr.from_offset_ns(5, 300_000, ca=1)
    second = [pkt(_aux(ADV_A, ptr), t=0, channel=20, kind=1),
              pkt(body, t=300_000, channel=5, kind=1)]
    assert classify_packets(second)[1].name == "AUX_CHAIN_IND"


def test_pointer_window_channel_and_sender_must_match() -> None:
    body = _aux(None, None, adi=None)  # no context: would be AUX_CHAIN_IND
    ext = pkt(_ext_ind(5, 300_000), t=0)
    on_time = pkt(body, t=300_000, channel=5, kind=1)
    assert classify_packets([ext, on_time])[1].name == "AUX_ADV_IND"
    late = on_time._replace(start_ns=2_000_000, end_ns=2_100_000)
    assert classify_packets([ext, late])[1].name == "AUX_CHAIN_IND"
    other_channel = on_time._replace(channel=6)
    assert classify_packets([ext, other_channel])[1].name == "AUX_CHAIN_IND"
    other_node = on_time._replace(node="someone else")
    assert classify_packets([ext, other_node])[1].name == "AUX_CHAIN_IND"
    # A pointer is used once.
    again = on_time._replace(start_ns=300_100)
    assert [n.name for n in classify_packets([ext, on_time, again])][1:] == [
        "AUX_ADV_IND", "AUX_CHAIN_IND",
    ]


def test_aux_scan_rsp_follows_aux_scan_req() -> None:
    req = pkt(AUX_SCAN_REQ(SCAN_A, ADV_A).to_bytes(), t=0, channel=5, kind=1, node="scanner")
    rsp_bytes = _aux(ADV_A, None, adi=None)
    rsp = pkt(rsp_bytes, t=req.end_ns + 150_000, channel=5, kind=1)
    assert [n.name for n in classify_packets([req, rsp])] == ["AUX_SCAN_REQ", "AUX_SCAN_RSP"]
    # Without the request (or too late) the same bytes are an AUX_ADV_IND (AdvA present).
    assert name_of(rsp) == "AUX_ADV_IND"
    late = rsp._replace(start_ns=req.end_ns + 2_000_000)
    assert classify_packets([req, late])[1].name == "AUX_ADV_IND"


def test_periodic_train_sync_and_chain() -> None:
    sync = SyncInfo(sync_packet_offset=100, interval=80, ch_m=(1 << 37) - 1, aa=SYNC_AA,
                    crc_init=0x555555, event_counter=0)
    adv = pkt(_aux(ADV_A, None, sync=sync), t=0, channel=5, kind=1)
    ptr = AuxPtr.from_offset_ns(12, 400_000, ca=1)
    sync_ind = pkt(_aux(None, ptr, adi=None), t=3_000_000, channel=8, aa=SYNC_AA, kind=1)
    chain = pkt(_aux(None, None, adi=None), t=3_400_000, channel=12, aa=SYNC_AA, kind=1)
    assert [n.name for n in classify_packets([adv, sync_ind, chain])] == [
        "AUX_ADV_IND", "AUX_SYNC_IND", "AUX_CHAIN_IND",
    ]
    # Known from the SyncInfo even when the sender left the PHDR type at 0.
    assert classify_packets([adv, sync_ind._replace(pdu_kind=0)])[1].name == "AUX_SYNC_IND"


def test_every_vocabulary_name_is_produced() -> None:
    """The classifier's output vocabulary is exactly AIR_PDU_NAMES (plus None)."""
    produced: set[str | None] = set()
    produced |= {n for _, n in _scapy_att() + _scapy_smp() + _scapy_control()}
    for layer in (sle.BTLE_ADV_IND(), sle.BTLE_ADV_DIRECT_IND(), sle.BTLE_ADV_NONCONN_IND(),
                  sle.BTLE_ADV_SCAN_IND(), sle.BTLE_SCAN_REQ(), sle.BTLE_SCAN_RSP(),
                  sle.BTLE_CONNECT_REQ()):
        produced.add(name_of(pkt(bytes(sle.BTLE_ADV() / layer))))
    produced.add(name_of(pkt(_ext_ind(5, 300_000))))
    produced.add(name_of(pkt(AUX_SCAN_REQ(SCAN_A, ADV_A).to_bytes(), channel=5, kind=1)))
    produced.add(name_of(pkt(AUX_CONNECT_REQ(SCAN_A, ADV_A, _ll_data()).to_bytes(), channel=5,
                             kind=1)))
    produced.add(name_of(pkt(ExtendedAdvPdu.aux_connect_rsp(ADV_A, SCAN_A).to_bytes(),
                             channel=5, kind=1)))
    produced.add(name_of(pkt(_aux(ADV_A), channel=5, kind=1)))
    produced.add(name_of(pkt(_aux(None, adi=None), channel=5, kind=1)))
    produced.add(name_of(pkt(_aux(None, adi=None), channel=5, kind=1, aa=SYNC_AA)))
    req = pkt(AUX_SCAN_REQ(SCAN_A, ADV_A).to_bytes(), channel=5, kind=1)
    produced.add(classify_packets([req, pkt(_aux(ADV_A), t=req.end_ns + 150_000, channel=5,
                                            kind=1)])[1].name)
    produced |= {name_of(data(b"\x01\x00")), name_of(data(b"\x01\x01a"))}
    assert produced - {None} == AIR_PDU_NAMES


# ------------------------------------------------------------------ connection state


def test_retransmission_by_sequence_number() -> None:
    ntf = bytes.fromhex("0209" "05000400" "1b0300" "6869")  # SN 0
    ntf_sn1 = bytes([ntf[0] | 0x08]) + ntf[1:]
    empty_p = bytes.fromhex("0500")  # NESN 1, SN 0
    packets = [
        data(ntf, t=0, kind=2),
        data(empty_p, t=1, kind=3),
        data(ntf, t=2, kind=2),  # same SN: sent again
        data(empty_p, t=3, kind=3),  # same SN from the other side too
        data(ntf_sn1, t=4, kind=2),  # a new PDU
    ]
    result = classify_packets(packets)
    assert [n.retransmission for n in result] == [False, False, True, True, False]
    assert [n.name for n in result] == ["ATT_HANDLE_VALUE_NTF", "LL_EMPTY"] * 2 + [
        "ATT_HANDLE_VALUE_NTF"
    ]
    assert sum(n.counts_as("ATT_HANDLE_VALUE_NTF") for n in result) == 2
    # Unknown direction: no retransmission bookkeeping.
    assert not any(n.retransmission for n in classify_packets(
        [data(ntf, kind=0), data(ntf, kind=0)]))


def test_connect_ind_forgets_the_access_address() -> None:
    empty = bytes.fromhex("0100")
    connect = CONNECT_IND(SCAN_A, ADV_A, _ll_data(CONN_AA)).to_bytes()
    result = classify_packets([data(empty, t=0), pkt(connect, t=1), data(empty, t=2)])
    assert [n.retransmission for n in result] == [False, False, False]
    assert result[1].name == "CONNECT_IND"


def test_bad_crc_is_named_but_not_counted_nor_learned() -> None:
    ntf = bytes.fromhex("0209" "05000400" "1b0300" "6869")
    bad = data(ntf)._replace(crc_ok=False)
    result = classify_packets([bad, data(ntf)])
    assert result[0] == AirName("ATT_HANDLE_VALUE_NTF", True, False, False)
    assert not result[0].counts_as("ATT_HANDLE_VALUE_NTF")
    assert result[1].counts_as("ATT_HANDLE_VALUE_NTF")  # not a retransmission of a bad one


def _ctrl(payload: bytes, sn: int, kind: int, t: int) -> AirPacket:
    return data(bytes([0x03 | sn << 3, len(payload)]) + payload, kind=kind, t=t)


def _l2(payload: bytes, sn: int, kind: int, t: int) -> AirPacket:
    return data(bytes([0x02 | sn << 3, len(payload)]) + payload, kind=kind, t=t)


def test_encryption_start_with_ciphertext_records() -> None:
    att = bytes.fromhex("05000400" "1b0300" "6869")
    packets = [
        _ctrl(bytes.fromhex("05"), 0, 3, 0),  # LL_START_ENC_REQ, plaintext
        _ctrl(bytes.fromhex("9a3b2c1d0e"), 0, 2, 1),  # encrypted LL_START_ENC_RSP
        _ctrl(bytes.fromhex("7f00112233"), 1, 3, 2),  # encrypted LL_START_ENC_RSP
        _l2(bytes.fromhex("a1b2c3d4e5f60718293a4b5c6d"), 1, 2, 3),  # encrypted ATT
        _ctrl(bytes.fromhex("0c0c0d0e0f101112"), 0, 3, 4),  # encrypted control
    ]
    assert [n.name for n in classify_packets(packets)] == [
        "LL_START_ENC_REQ", "LL_START_ENC_RSP", "LL_START_ENC_RSP", "LL_DATA", None,
    ]
    plain = [
        packets[0],
        _ctrl(b"\x06", 0, 2, 1),
        _ctrl(b"\x06", 1, 3, 2),
        _l2(att, 1, 2, 3),
        _ctrl(bytes.fromhex("0c0c5f050100"), 0, 3, 4),
    ]
    assert [n.name for n in classify_packets(plain)] == [
        "LL_START_ENC_REQ", "LL_START_ENC_RSP", "LL_START_ENC_RSP", "ATT_HANDLE_VALUE_NTF",
        "LL_VERSION_IND",
    ]


def test_count_pdus_and_helpers() -> None:
    ntf = bytes.fromhex("0209" "05000400" "1b0300" "6869")
    packets = [
        pkt(ADV_IND(ADV_A, b"").to_bytes()),
        data(ntf, t=1),
        data(ntf, t=2),  # retransmission
        data(bytes.fromhex("0d00"), t=3, kind=3),
        data(bytes.fromhex("0103616263"), t=4, kind=3),
    ]
    assert count_pdus(packets) == {
        "ADV_IND": 1, "ATT_HANDLE_VALUE_NTF": 1, "LL_EMPTY": 1, "LL_DATA": 2,
    }
    assert is_primary_advertising(packets[0])
    assert not is_primary_advertising(pkt(b"", channel=5))
    assert is_connection_packet(packets[1])
    assert is_connection_packet(data(b"", kind=0))
    assert not is_connection_packet(packets[0])


# ------------------------------------------------------------------ robustness

_kinds = st.sampled_from([0, 1, 2, 3])
_aas = st.sampled_from([ADV_AA, CONN_AA, SYNC_AA])


@st.composite
def _packets(draw: Any) -> AirPacket:
    return AirPacket(
        draw(st.integers(0, 10**9)), 0, draw(st.sampled_from(["a", "b", ""])),
        draw(st.integers(0, 39)), Phy.LE_1M, draw(_aas), draw(st.binary(max_size=64)),
        draw(_kinds), draw(st.booleans()), -50.0,
    )


@settings(max_examples=400, deadline=None)
@given(st.lists(_packets(), max_size=30))
def test_garbage_never_raises(packets: list[AirPacket]) -> None:
    state = AirClassifier()
    for packet in sorted(packets, key=lambda p: p.start_ns):
        name = state.classify(packet)
        assert name.name is None or name.name in AIR_PDU_NAMES


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=2, max_size=40), st.integers(0, 3))
def test_garbage_with_valid_lengths_never_raises(body: bytes, kind: int) -> None:
    # Make the Length agree so that decoding goes deep.
    for aa, channel in ((ADV_AA, 37), (ADV_AA, 5), (CONN_AA, 5), (SYNC_AA, 5)):
        pdu = bytes([body[0], len(body) - 2]) + body[2:]
        name = AirClassifier().classify(pkt(pdu, aa=aa, channel=channel, kind=kind))
        assert name.name is None or name.name in AIR_PDU_NAMES
