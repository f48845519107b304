"""Tests for host.l2cap_pdu: basic frames, K-frame segmentation/reassembly and LE
signalling commands against scapy's independent L2CAP layers."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers import bluetooth as sb

from host.l2cap_pdu import (
    L2CAP_COMMAND_REJECT_RSP,
    L2CAP_CONNECTION_PARAMETER_UPDATE_REQ,
    L2CAP_CONNECTION_PARAMETER_UPDATE_RSP,
    L2CAP_CREDIT_BASED_CONNECTION_REQ,
    L2CAP_CREDIT_BASED_CONNECTION_RSP,
    L2CAP_CREDIT_BASED_RECONFIGURE_REQ,
    L2CAP_CREDIT_BASED_RECONFIGURE_RSP,
    L2CAP_DISCONNECTION_REQ,
    L2CAP_DISCONNECTION_RSP,
    L2CAP_FLOW_CONTROL_CREDIT_IND,
    L2CAP_LE_CREDIT_BASED_CONNECTION_REQ,
    L2CAP_LE_CREDIT_BASED_CONNECTION_RSP,
    SIGNALLING_CLASSES,
    CommandRejectReason,
    ConnectionParameterUpdateResult,
    CreditBasedConnectionResult,
    CreditBasedReconfigureResult,
    KFrameError,
    L2capCid,
    L2capDecodeError,
    L2capFrame,
    LeCreditBasedConnectionResult,
    SduReassembler,
    SignallingCode,
    SignallingCommand,
    SignallingDecodeError,
    UnknownSignallingCode,
    decode_signalling,
    segment_sdu,
)

def _i2s(layer: Any, index: int) -> dict[int, str]:
    """The value -> name table of one of scapy's enum fields."""
    table: dict[int, str] = layer.fields_desc[index].i2s
    return table


# ---------------------------------------------------------------------------------------
# Basic frames
# ---------------------------------------------------------------------------------------


def test_basic_frame_against_scapy() -> None:
    raw = bytes(sb.L2CAP_Hdr(cid=4) / sb.ATT_Hdr() / sb.ATT_Read_Request(gatt_handle=3))
    assert raw == bytes.fromhex("030004000a0300")
    frame = L2capFrame.from_bytes(raw)
    assert frame == L2capFrame(L2capCid.ATT, b"\x0a\x03\x00")
    assert frame.to_bytes() == raw and bytes(frame) == raw
    assert L2capFrame.parse_header(raw) == (3, 4)


def test_cids() -> None:
    assert (L2capCid.ATT, L2capCid.LE_SIGNALLING, L2capCid.SMP) == (4, 5, 6)
    smp = bytes(sb.L2CAP_Hdr() / sb.SM_Hdr() / sb.SM_Security_Request())
    assert L2capFrame.from_bytes(smp).cid == L2capCid.SMP


@pytest.mark.parametrize("raw", ["", "0300", "030004000a03", "030004000a030000", "0000040000"])
def test_basic_frame_length_mismatch(raw: str) -> None:
    with pytest.raises(L2capDecodeError):
        L2capFrame.from_bytes(bytes.fromhex(raw))


@given(st.integers(0, 0xFFFF), st.binary(max_size=300))
def test_basic_frame_round_trip(cid: int, payload: bytes) -> None:
    frame = L2capFrame(cid, payload)
    assert L2capFrame.from_bytes(frame.to_bytes()) == frame
    assert sb.L2CAP_Hdr(frame.to_bytes()).len == len(payload)


def test_basic_frame_encode_misuse() -> None:
    with pytest.raises(ValueError):
        L2capFrame(0x10000, b"").to_bytes()
    with pytest.raises(ValueError):
        L2capFrame(4, bytes(0x10000)).to_bytes()


# ---------------------------------------------------------------------------------------
# K-frames
# ---------------------------------------------------------------------------------------


def test_segment_literal() -> None:
    # SDU of 5 octets, MPS 4: first K-frame = SDU Length 0x0005 + 2 octets.
    assert segment_sdu(b"abcde", 4) == [b"\x05\x00ab", b"cde"]
    assert segment_sdu(b"", 23) == [b"\x00\x00"]
    assert segment_sdu(b"ab", 23) == [b"\x02\x00ab"]


def test_segment_errors() -> None:
    with pytest.raises(ValueError):
        segment_sdu(b"x", 2)
    with pytest.raises(ValueError):
        segment_sdu(bytes(0x10000), 100)


@given(st.binary(max_size=600), st.integers(3, 300))
def test_segment_then_reassemble(sdu: bytes, mps: int) -> None:
    frames = segment_sdu(sdu, mps)
    assert all(len(f) <= mps for f in frames)
    r = SduReassembler(mtu=len(sdu), mps=mps)
    results = [r.feed(f) for f in frames]
    assert results[-1] == sdu
    assert all(x is None for x in results[:-1])
    assert not r.in_progress


def test_reassembler_byte_by_byte_and_errors() -> None:
    r = SduReassembler(mtu=10, mps=3)
    assert r.feed(b"\x04\x00a") is None and r.in_progress
    assert r.feed(b"bc") is None
    assert r.feed(b"d") == b"abcd"
    with pytest.raises(KFrameError, match="exceeds MPS"):
        r.feed(b"\x01\x00ab")
    with pytest.raises(KFrameError, match="exceeds MTU"):
        r.feed(b"\x0b\x00")
    with pytest.raises(KFrameError, match="shorter than the SDU Length"):
        r.feed(b"\x01")
    r2 = SduReassembler(mtu=10, mps=10)
    assert r2.feed(b"\x02\x00a") is None
    with pytest.raises(KFrameError, match="more than the SDU Length"):
        r2.feed(b"bc")
    assert not r2.in_progress


# ---------------------------------------------------------------------------------------
# Signalling: literal bytes from scapy
# ---------------------------------------------------------------------------------------

SCAPY_CASES: list[tuple[Any, SignallingCommand]] = [
    (
        sb.L2CAP_CmdHdr(id=3) / sb.L2CAP_CmdRej(reason=0),
        L2CAP_COMMAND_REJECT_RSP(3, CommandRejectReason.COMMAND_NOT_UNDERSTOOD),
    ),
    (
        sb.L2CAP_CmdHdr(id=4) / sb.L2CAP_DisconnReq(dcid=0x40, scid=0x41),
        L2CAP_DISCONNECTION_REQ(4, destination_cid=0x40, source_cid=0x41),
    ),
    (
        sb.L2CAP_CmdHdr(id=4) / sb.L2CAP_DisconnResp(dcid=0x40, scid=0x41),
        L2CAP_DISCONNECTION_RSP(4, destination_cid=0x40, source_cid=0x41),
    ),
    (
        sb.L2CAP_CmdHdr(id=1)
        / sb.L2CAP_Connection_Parameter_Update_Request(
            min_interval=6, max_interval=12, slave_latency=0, timeout_mult=400
        ),
        L2CAP_CONNECTION_PARAMETER_UPDATE_REQ(1, 6, 12, 0, 400),
    ),
    (
        sb.L2CAP_CmdHdr(id=1) / sb.L2CAP_Connection_Parameter_Update_Response(move_result=1),
        L2CAP_CONNECTION_PARAMETER_UPDATE_RSP(1, ConnectionParameterUpdateResult.CONNECTION_PARAMETERS_REJECTED),
    ),
    (
        sb.L2CAP_CmdHdr(id=7)
        / sb.L2CAP_LE_Credit_Based_Connection_Request(spsm=0x0080, scid=0x0040, mtu=512, mps=247, initial_credits=10),
        L2CAP_LE_CREDIT_BASED_CONNECTION_REQ(7, le_psm=0x80, source_cid=0x40, mtu=512, mps=247, initial_credits=10),
    ),
    (
        sb.L2CAP_CmdHdr(id=7)
        / sb.L2CAP_LE_Credit_Based_Connection_Response(dcid=0x41, mtu=256, mps=100, initial_credits=5, result=0),
        L2CAP_LE_CREDIT_BASED_CONNECTION_RSP(7, 0x41, 256, 100, 5, LeCreditBasedConnectionResult.CONNECTION_SUCCESSFUL),
    ),
    (
        sb.L2CAP_CmdHdr(id=8) / sb.L2CAP_Flow_Control_Credit_Ind(cid=0x41, credits=3),
        L2CAP_FLOW_CONTROL_CREDIT_IND(8, cid=0x41, credits=3),
    ),
    (
        # scapy models a single Source CID; the field is a list of 1 to 5.
        sb.L2CAP_CmdHdr(id=9)
        / sb.L2CAP_Credit_Based_Connection_Request(spsm=0x27, mtu=100, mps=64, initial_credits=2, scid=0x40),
        L2CAP_CREDIT_BASED_CONNECTION_REQ(9, 0x27, 100, 64, 2, (0x40,)),
    ),
    (
        sb.L2CAP_CmdHdr(id=9)
        / sb.L2CAP_Credit_Based_Connection_Response(mtu=100, mps=64, initial_credits=2, result=0, dcid=0x44),
        L2CAP_CREDIT_BASED_CONNECTION_RSP(9, 100, 64, 2, CreditBasedConnectionResult.ALL_CONNECTIONS_SUCCESSFUL, (0x44,)),
    ),
    (
        sb.L2CAP_CmdHdr(id=10) / sb.L2CAP_Credit_Based_Reconfigure_Request(mtu=200, mps=64, dcid=0x44),
        L2CAP_CREDIT_BASED_RECONFIGURE_REQ(10, 200, 64, (0x44,)),
    ),
    (
        sb.L2CAP_CmdHdr(id=10) / sb.L2CAP_Credit_Based_Reconfigure_Response(result=1),
        L2CAP_CREDIT_BASED_RECONFIGURE_RSP(10, CreditBasedReconfigureResult.REDUCTION_IN_SIZE_OF_MTU_NOT_ALLOWED),
    ),
]


@pytest.mark.parametrize(("packet", "expected"), SCAPY_CASES, ids=lambda x: type(x).__name__)
def test_scapy_bytes(packet: Any, expected: SignallingCommand) -> None:
    raw = bytes(packet)
    decoded = decode_signalling(raw)
    assert type(decoded) is type(expected)
    assert decoded == expected
    assert decoded.code == packet.code and decoded.identifier == packet.id
    assert expected.to_bytes() == raw
    assert type(expected).from_bytes(raw) == expected


def test_scapy_cases_cover_every_command() -> None:
    assert {type(c) for _, c in SCAPY_CASES} == set(SIGNALLING_CLASSES.values())


def test_c_frame_against_scapy() -> None:
    cmd = L2CAP_CONNECTION_PARAMETER_UPDATE_REQ(2, 24, 40, 4, 500)
    p = sb.L2CAP_Hdr(cmd.to_frame().to_bytes())
    assert p.cid == 5 and p.len == 12
    hdr = p[sb.L2CAP_CmdHdr]
    assert (hdr.code, hdr.id, hdr.len) == (0x12, 2, 8)
    upd = p[sb.L2CAP_Connection_Parameter_Update_Request]
    assert (upd.min_interval, upd.max_interval, upd.slave_latency, upd.timeout_mult) == (24, 40, 4, 500)


def test_command_reject_data_forms() -> None:
    # scapy's L2CAP_CmdRej carries only the reason; the data octets follow it.
    raw = bytes(sb.L2CAP_CmdHdr(id=5) / sb.L2CAP_CmdRej(reason=2) / b"\x40\x00\x41\x00")
    cmd = L2CAP_COMMAND_REJECT_RSP.invalid_cid_in_request(5, 0x40, 0x41)
    assert cmd.to_bytes() == raw
    assert decode_signalling(raw) == cmd
    mtu = L2CAP_COMMAND_REJECT_RSP.signaling_mtu_exceeded(6, 23)
    assert mtu.to_bytes() == bytes.fromhex("010604000100" + "1700")
    assert L2CAP_COMMAND_REJECT_RSP.command_not_understood(7).to_bytes() == bytes.fromhex("0107020000 00".replace(" ", ""))
    unknown_reason = decode_signalling(bytes.fromhex("0101020009 00".replace(" ", "")))
    assert isinstance(unknown_reason, L2CAP_COMMAND_REJECT_RSP) and unknown_reason.reason == 9


def test_enhanced_multiple_cids() -> None:
    req = L2CAP_CREDIT_BASED_CONNECTION_REQ(1, 0x27, 100, 64, 2, (0x40, 0x41, 0x42))
    raw = req.to_bytes()
    assert raw[2:4] == (8 + 6).to_bytes(2, "little")
    assert decode_signalling(raw) == req
    refused = L2CAP_CREDIT_BASED_CONNECTION_RSP(1, 0, 0, 0, CreditBasedConnectionResult.ALL_CONNECTIONS_REFUSED_SPSM_NOT_SUPPORTED, ())
    assert decode_signalling(refused.to_bytes()) == refused
    with pytest.raises(ValueError):
        L2CAP_CREDIT_BASED_CONNECTION_REQ(1, 0x27, 100, 64, 2, tuple(range(0x40, 0x46))).to_bytes()
    with pytest.raises(ValueError):
        L2CAP_CREDIT_BASED_RECONFIGURE_REQ(1, 100, 64, ()).to_bytes()


def test_result_enums_against_scapy_tables() -> None:
    le = _i2s(sb.L2CAP_LE_Credit_Based_Connection_Response, 4)
    assert set(le) == {int(r) for r in LeCreditBasedConnectionResult}
    ecfc = _i2s(sb.L2CAP_Credit_Based_Connection_Response, 3)
    assert set(ecfc) <= {int(r) for r in CreditBasedConnectionResult}
    reconf = _i2s(sb.L2CAP_Credit_Based_Reconfigure_Response, 0)
    assert set(reconf) == {int(r) for r in CreditBasedReconfigureResult}
    codes = _i2s(sb.L2CAP_CmdHdr, 0)
    assert codes[SignallingCode.L2CAP_LE_CREDIT_BASED_CONNECTION_REQ] == "LE_credit_based_conn_req"
    assert codes[SignallingCode.L2CAP_FLOW_CONTROL_CREDIT_IND] == "flow_control_credit_ind"


# ---------------------------------------------------------------------------------------
# Signalling: malformed commands
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "identifier", "code"),
    [
        ("0604", 4, 0x06),  # header truncated
        ("06", None, 0x06),
        ("", None, None),
        ("0604040040004100ff", 4, 0x06),  # Length 4 but 5 octets follow
        ("06040500400041", 4, 0x06),  # Length 5 but 3 octets follow
        ("0604030040 0041".replace(" ", ""), 4, 0x06),  # disconnection with 3 octets
        ("060005004000410000", None, 0x06),  # identifier 0 is illegal
        ("13090000", 9, 0x13),  # parameter update response without result
        ("1209060006000c000000", 9, 0x12),  # parameter update request too short
        ("170208002700640040000200", 2, 0x17),  # enhanced request with no source CID
        ("1802090064004000020000004400", 2, 0x18),  # odd destination CID list
        ("01010000", 1, 0x01),  # command reject without reason
    ],
)
def test_malformed_signalling(raw: str, identifier: int | None, code: int | None) -> None:
    with pytest.raises(SignallingDecodeError) as info:
        decode_signalling(bytes.fromhex(raw))
    assert info.value.identifier == identifier
    assert info.value.code == code
    assert not isinstance(info.value, UnknownSignallingCode)


@pytest.mark.parametrize("code", [0x00, 0x02, 0x04, 0x08, 0x0A, 0x0C, 0x1B, 0xFF])
def test_unknown_codes(code: int) -> None:
    with pytest.raises(UnknownSignallingCode) as info:
        decode_signalling(bytes((code, 0x21, 0x02, 0x00, 0x01, 0x00)))
    assert info.value.code == code and info.value.identifier == 0x21
    assert isinstance(info.value, SignallingDecodeError) and isinstance(info.value, ValueError)


def test_from_bytes_wrong_class_and_identifier_zero_on_encode() -> None:
    with pytest.raises(SignallingDecodeError, match="is not L2CAP_DISCONNECTION_REQ"):
        L2CAP_DISCONNECTION_REQ.from_bytes(L2CAP_FLOW_CONTROL_CREDIT_IND(1, 0x40, 1).to_bytes())
    with pytest.raises(ValueError, match="identifier"):
        L2CAP_DISCONNECTION_REQ(0, 0x40, 0x41).to_bytes()
    with pytest.raises(ValueError):
        L2CAP_FLOW_CONTROL_CREDIT_IND(1, 0x40, 0x10000).to_bytes()


# ---------------------------------------------------------------------------------------
# Random bytes
# ---------------------------------------------------------------------------------------


@settings(max_examples=400)
@given(st.binary(max_size=30))
def test_random_bytes_raise_only_documented_errors(raw: bytes) -> None:
    try:
        cmd = decode_signalling(raw)
    except SignallingDecodeError:
        return
    assert cmd.to_bytes() == raw


@settings(max_examples=1000)
@given(st.sampled_from(sorted(SIGNALLING_CLASSES)), st.integers(1, 255), st.binary(max_size=24))
def test_random_data_for_known_codes(code: int, identifier: int, data: bytes) -> None:
    raw = bytes((code, identifier)) + len(data).to_bytes(2, "little") + data
    try:
        cmd = decode_signalling(raw)
    except UnknownSignallingCode:  # pragma: no cover - all codes here are known
        raise
    except SignallingDecodeError as exc:
        assert exc.identifier == identifier and exc.code == code
        return
    assert cmd.to_bytes() == raw


@given(st.binary(max_size=20))
def test_random_bytes_into_frame_decoder(raw: bytes) -> None:
    try:
        frame = L2capFrame.from_bytes(raw)
    except L2capDecodeError:
        return
    assert frame.to_bytes() == raw
