"""Tests for host.att_pdu: every ATT PDU against scapy's independent ATT layers,
round trips, malformed PDUs, opcode helpers, and random bytes into the decoder."""

from __future__ import annotations

import uuid as std_uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers import bluetooth as sb

from host.att_pdu import (
    ATT_ERROR_RSP,
    ATT_EXCHANGE_MTU_REQ,
    ATT_EXCHANGE_MTU_RSP,
    ATT_EXECUTE_WRITE_REQ,
    ATT_EXECUTE_WRITE_RSP,
    ATT_FIND_BY_TYPE_VALUE_REQ,
    ATT_FIND_BY_TYPE_VALUE_RSP,
    ATT_FIND_INFORMATION_REQ,
    ATT_FIND_INFORMATION_RSP,
    ATT_HANDLE_VALUE_CFM,
    ATT_HANDLE_VALUE_IND,
    ATT_HANDLE_VALUE_NTF,
    ATT_MULTIPLE_HANDLE_VALUE_NTF,
    ATT_PDU_CLASSES,
    ATT_PREPARE_WRITE_REQ,
    ATT_PREPARE_WRITE_RSP,
    ATT_READ_BLOB_REQ,
    ATT_READ_BLOB_RSP,
    ATT_READ_BY_GROUP_TYPE_REQ,
    ATT_READ_BY_GROUP_TYPE_RSP,
    ATT_READ_BY_TYPE_REQ,
    ATT_READ_BY_TYPE_RSP,
    ATT_READ_MULTIPLE_REQ,
    ATT_READ_MULTIPLE_RSP,
    ATT_READ_MULTIPLE_VARIABLE_REQ,
    ATT_READ_MULTIPLE_VARIABLE_RSP,
    ATT_READ_REQ,
    ATT_READ_RSP,
    ATT_SIGNED_WRITE_CMD,
    ATT_WRITE_CMD,
    ATT_WRITE_REQ,
    ATT_WRITE_RSP,
    AttDecodeError,
    AttErrorCode,
    AttExecuteWriteFlags,
    AttMethodType,
    AttOpcode,
    AttPdu,
    AttributeData,
    GroupAttributeData,
    HandleLengthValue,
    HandlesInformation,
    InformationData,
    LengthValueTuple,
    UnknownAttOpcode,
    decode_att_pdu,
    has_signature,
    is_command,
    is_confirmation,
    is_indication,
    is_notification,
    is_request,
    is_response,
    method_type,
    response_opcode,
)
from host.uuid import UUID

NUS = "6E400001-B5A3-F393-E0A9-E50E24DCCA9E"
SIG = bytes(range(12))


def _i2s(layer: Any, index: int) -> dict[int, str]:
    """The value -> name table of one of scapy's enum fields."""
    table: dict[int, str] = layer.fields_desc[index].i2s
    return table

# (scapy packet built independently, the PDU we expect it to decode to)
SCAPY_CASES: list[tuple[Any, AttPdu]] = [
    (
        sb.ATT_Hdr() / sb.ATT_Error_Response(request=0x0A, handle=0x0003, ecode=0x0A),
        ATT_ERROR_RSP(0x0A, 0x0003, AttErrorCode.ATTRIBUTE_NOT_FOUND),
    ),
    (sb.ATT_Hdr() / sb.ATT_Exchange_MTU_Request(mtu=247), ATT_EXCHANGE_MTU_REQ(247)),
    (sb.ATT_Hdr() / sb.ATT_Exchange_MTU_Response(mtu=185), ATT_EXCHANGE_MTU_RSP(185)),
    (
        sb.ATT_Hdr() / sb.ATT_Find_Information_Request(start=0x0001, end=0xFFFF),
        ATT_FIND_INFORMATION_REQ(0x0001, 0xFFFF),
    ),
    (
        sb.ATT_Hdr()
        / sb.ATT_Find_Information_Response(
            format=1,
            handles=[sb.ATT_Handle(handle=0x10, value=0x2803), sb.ATT_Handle(handle=0x11, value=0x2A19)],
        ),
        ATT_FIND_INFORMATION_RSP(
            (InformationData(0x10, UUID(0x2803)), InformationData(0x11, UUID(0x2A19)))
        ),
    ),
    (
        sb.ATT_Hdr()
        / sb.ATT_Find_Information_Response(
            format=2, handles=[sb.ATT_Handle_UUID128(handle=0x20, value=std_uuid.UUID(NUS))]
        ),
        ATT_FIND_INFORMATION_RSP((InformationData(0x20, UUID(NUS)),)),
    ),
    (
        sb.ATT_Hdr()
        / sb.ATT_Find_By_Type_Value_Request(start=1, end=0xFFFF, uuid=0x2800, data=b"\x0f\x18"),
        ATT_FIND_BY_TYPE_VALUE_REQ(1, 0xFFFF, UUID(0x2800), b"\x0f\x18"),
    ),
    (
        sb.ATT_Hdr()
        / sb.ATT_Find_By_Type_Value_Response(
            handles=[sb.ATT_Handle(handle=0x0C, value=0x0F), sb.ATT_Handle(handle=0x20, value=0x25)]
        ),
        ATT_FIND_BY_TYPE_VALUE_RSP((HandlesInformation(0x0C, 0x0F), HandlesInformation(0x20, 0x25))),
    ),
    (
        sb.ATT_Hdr() / sb.ATT_Read_By_Type_Request(start=1, end=0xFFFF, uuid=0x2803),
        ATT_READ_BY_TYPE_REQ(1, 0xFFFF, UUID(0x2803)),
    ),
    (
        sb.ATT_Hdr()
        / sb.ATT_Read_By_Type_Request_128bit(
            start=5, end=9, uuid1=std_uuid.UUID(NUS).int & (2**64 - 1), uuid2=std_uuid.UUID(NUS).int >> 64
        ),
        ATT_READ_BY_TYPE_REQ(5, 9, UUID(NUS)),
    ),
    (
        sb.ATT_Hdr()
        / sb.ATT_Read_By_Type_Response(
            len=7,
            handles=[
                sb.ATT_Handle_Variable(handle=2, value=b"\x02\x03\x00\x00\x2a"),
                sb.ATT_Handle_Variable(handle=4, value=b"\x02\x05\x00\x01\x2a"),
            ],
        ),
        ATT_READ_BY_TYPE_RSP(
            (AttributeData(2, b"\x02\x03\x00\x00\x2a"), AttributeData(4, b"\x02\x05\x00\x01\x2a"))
        ),
    ),
    (sb.ATT_Hdr() / sb.ATT_Read_Request(gatt_handle=0x0003), ATT_READ_REQ(3)),
    (sb.ATT_Hdr() / sb.ATT_Read_Response(value=b"EmuPeriph"), ATT_READ_RSP(b"EmuPeriph")),
    (sb.ATT_Hdr() / sb.ATT_Read_Response(value=b""), ATT_READ_RSP(b"")),
    (sb.ATT_Hdr() / sb.ATT_Read_Blob_Request(gatt_handle=0x2A, offset=22), ATT_READ_BLOB_REQ(0x2A, 22)),
    (sb.ATT_Hdr() / sb.ATT_Read_Blob_Response(value=b"tail"), ATT_READ_BLOB_RSP(b"tail")),
    (
        sb.ATT_Hdr() / sb.ATT_Read_Multiple_Request(handles=[3, 5, 0x107]),
        ATT_READ_MULTIPLE_REQ((3, 5, 0x107)),
    ),
    (sb.ATT_Hdr() / sb.ATT_Read_Multiple_Response(values=b"\x01\x02\x03"), ATT_READ_MULTIPLE_RSP(b"\x01\x02\x03")),
    (
        sb.ATT_Hdr() / sb.ATT_Read_By_Group_Type_Request(start=1, end=0xFFFF, uuid=0x2800),
        ATT_READ_BY_GROUP_TYPE_REQ(1, 0xFFFF, UUID(0x2800)),
    ),
    (
        sb.ATT_Hdr()
        / sb.ATT_Read_By_Group_Type_Response(
            len=6,
            handles=[
                sb.ATT_Group_Handle_Variable(handle=1, group_end_handle=5, value=b"\x00\x18"),
                sb.ATT_Group_Handle_Variable(handle=6, group_end_handle=9, value=b"\x0f\x18"),
            ],
        ),
        ATT_READ_BY_GROUP_TYPE_RSP(
            (GroupAttributeData(1, 5, b"\x00\x18"), GroupAttributeData(6, 9, b"\x0f\x18"))
        ),
    ),
    (
        sb.ATT_Hdr() / sb.ATT_Read_Multiple_Variable_Request(handles=[3, 9]),
        ATT_READ_MULTIPLE_VARIABLE_REQ((3, 9)),
    ),
    (
        sb.ATT_Hdr()
        / sb.ATT_Read_Multiple_Variable_Response(
            values=[sb.ATT_Length_Value_Tuple(value=b"abc"), sb.ATT_Length_Value_Tuple(value=b"")]
        ),
        ATT_READ_MULTIPLE_VARIABLE_RSP((LengthValueTuple(3, b"abc"), LengthValueTuple(0, b""))),
    ),
    (
        sb.ATT_Hdr() / sb.ATT_Write_Request(gatt_handle=0x0E, data=b"\x01\x00"),
        ATT_WRITE_REQ(0x0E, b"\x01\x00"),
    ),
    (sb.ATT_Hdr() / sb.ATT_Write_Response(), ATT_WRITE_RSP()),
    (sb.ATT_Hdr() / sb.ATT_Write_Command(gatt_handle=0x10, data=b"hi"), ATT_WRITE_CMD(0x10, b"hi")),
    (
        # scapy splits the 12-octet signature into SignCounter (4) and MAC (8).
        sb.ATT_Hdr()
        / sb.ATT_Signed_Write_Command(
            handle=0x10, value=b"on", sign_counter=0x03020100, signature=bytes(range(4, 12))
        ),
        ATT_SIGNED_WRITE_CMD(0x10, b"on", SIG),
    ),
    (
        sb.ATT_Hdr() / sb.ATT_Prepare_Write_Request(gatt_handle=0x15, offset=18, data=b"part"),
        ATT_PREPARE_WRITE_REQ(0x15, 18, b"part"),
    ),
    (
        sb.ATT_Hdr() / sb.ATT_Prepare_Write_Response(gatt_handle=0x15, offset=18, data=b"part"),
        ATT_PREPARE_WRITE_RSP(0x15, 18, b"part"),
    ),
    (
        sb.ATT_Hdr() / sb.ATT_Execute_Write_Request(flags=1),
        ATT_EXECUTE_WRITE_REQ(AttExecuteWriteFlags.IMMEDIATELY_WRITE_ALL_PENDING_PREPARED_VALUES),
    ),
    (sb.ATT_Hdr() / sb.ATT_Execute_Write_Request(flags=0), ATT_EXECUTE_WRITE_REQ(0)),
    (sb.ATT_Hdr() / sb.ATT_Execute_Write_Response(), ATT_EXECUTE_WRITE_RSP()),
    (
        sb.ATT_Hdr() / sb.ATT_Handle_Value_Notification(gatt_handle=0x0B, value=b"\x64"),
        ATT_HANDLE_VALUE_NTF(0x0B, b"\x64"),
    ),
    (
        sb.ATT_Hdr() / sb.ATT_Handle_Value_Indication(gatt_handle=0x0B, value=b"\x63"),
        ATT_HANDLE_VALUE_IND(0x0B, b"\x63"),
    ),
    (sb.ATT_Hdr() / sb.ATT_Handle_Value_Confirmation(), ATT_HANDLE_VALUE_CFM()),
    (
        sb.ATT_Hdr()
        / sb.ATT_Multiple_Handle_Value_Notification(
            handles=[
                sb.ATT_Handle_Length_Value_Tuple(handle=3, value=b"abc"),
                sb.ATT_Handle_Length_Value_Tuple(handle=5, value=b"q"),
            ]
        ),
        ATT_MULTIPLE_HANDLE_VALUE_NTF((HandleLengthValue(3, b"abc"), HandleLengthValue(5, b"q"))),
    ),
]


def _ids() -> list[str]:
    return [f"{i}-{type(pdu).__name__}" for i, (_, pdu) in enumerate(SCAPY_CASES)]


@pytest.mark.parametrize(("packet", "expected"), SCAPY_CASES, ids=_ids())
def test_scapy_bytes_decode_to_expected_fields(packet: Any, expected: AttPdu) -> None:
    raw = bytes(packet)
    decoded = decode_att_pdu(raw)
    assert type(decoded) is type(expected)
    assert decoded == expected
    assert decoded.opcode == packet.opcode
    # And our encoder writes exactly what scapy wrote.
    assert expected.to_bytes() == raw
    assert type(expected).from_bytes(raw) == expected


def test_scapy_cases_cover_every_pdu_class() -> None:
    covered = {type(pdu) for _, pdu in SCAPY_CASES}
    assert covered == set(ATT_PDU_CLASSES.values())
    assert len(ATT_PDU_CLASSES) == 31


def test_selected_fields_against_scapy_dissection() -> None:
    """Decode our bytes with scapy and compare named fields (the other direction)."""
    p = sb.ATT_Hdr(ATT_READ_BY_TYPE_REQ(0x0001, 0x00FF, UUID(0x2A00)).to_bytes())
    assert (p.opcode, p.start, p.end, p.uuid) == (0x08, 0x0001, 0x00FF, 0x2A00)
    p = sb.ATT_Hdr(ATT_ERROR_RSP(0x12, 0x0021, AttErrorCode.WRITE_NOT_PERMITTED).to_bytes())
    assert (p.request, p.handle, p.ecode) == (0x12, 0x0021, 0x03)
    p = sb.ATT_Hdr(ATT_HANDLE_VALUE_NTF(0x002A, b"\x10\x20").to_bytes())
    assert (p.gatt_handle, p.value) == (0x002A, b"\x10\x20")
    rsp = ATT_FIND_INFORMATION_RSP((InformationData(0x30, UUID(NUS)),))
    p = sb.ATT_Hdr(rsp.to_bytes())
    assert p.format == 2 and p.handles[0].handle == 0x30
    assert p.handles[0].value == std_uuid.UUID(NUS)


def test_literal_bytes_from_spec_layout() -> None:
    # Read Response carrying "EmuPeriph" as in vectors/captures le_ll_phdr_256.pcap
    # (reference/wireshark.md, frame 6: opcode 0x0b, value 456d75506572697068).
    assert decode_att_pdu(bytes.fromhex("0b456d75506572697068")) == ATT_READ_RSP(b"EmuPeriph")
    assert decode_att_pdu(bytes.fromhex("0a0300")) == ATT_READ_REQ(3)


# ---------------------------------------------------------------------------------------
# Round trips and derived fields
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("packet", "pdu"), SCAPY_CASES, ids=_ids())
def test_round_trip(packet: Any, pdu: AttPdu) -> None:
    assert decode_att_pdu(pdu.to_bytes()) == pdu
    assert bytes(pdu) == pdu.to_bytes()


def test_derived_format_and_length() -> None:
    assert ATT_FIND_INFORMATION_RSP((InformationData(1, UUID(0x2800)),)).format == 1
    mixed = ATT_FIND_INFORMATION_RSP((InformationData(1, UUID(0x2800)), InformationData(2, UUID(NUS))))
    assert mixed.format == 2
    back = decode_att_pdu(mixed.to_bytes())
    assert isinstance(back, ATT_FIND_INFORMATION_RSP)
    assert back == mixed and back.information_data[0].uuid.bits == 128
    rsp = ATT_READ_BY_TYPE_RSP((AttributeData(1, b"abc"),))
    assert rsp.length == 5 and rsp.to_bytes()[1] == 5
    grp = ATT_READ_BY_GROUP_TYPE_RSP((GroupAttributeData(1, 4, bytes(16)),))
    assert grp.length == 20


def test_read_by_type_req_keeps_uuid_form() -> None:
    long_form = UUID(0x2803).to_128()
    raw = ATT_READ_BY_TYPE_REQ(1, 2, long_form).to_bytes()
    assert len(raw) == 1 + 4 + 16
    # 32-bit UUIDs are not allowed in ATT: they go out as 128-bit.
    assert len(ATT_READ_BY_TYPE_REQ(1, 2, UUID(0x12345678)).to_bytes()) == 21


def test_error_rsp_application_error_code_decodes_as_int() -> None:
    pdu = decode_att_pdu(bytes.fromhex("01120500" + "80"))
    assert isinstance(pdu, ATT_ERROR_RSP)
    assert pdu.error_code == 0x80 and not isinstance(pdu.error_code, AttErrorCode)
    assert AttErrorCode.is_application_error(pdu.error_code)


def test_read_multiple_variable_rsp_truncated_last_value() -> None:
    # ATT_MTU - 1 cut: the last tuple announces 5 octets but carries 2.
    raw = bytes.fromhex("21" + "0200abcd" + "0500" + "0102")
    pdu = decode_att_pdu(raw)
    assert pdu == ATT_READ_MULTIPLE_VARIABLE_RSP(
        (LengthValueTuple(2, b"\xab\xcd"), LengthValueTuple(5, b"\x01\x02"))
    )
    assert pdu.to_bytes() == raw
    assert ATT_READ_MULTIPLE_VARIABLE_RSP.from_values([b"a", b"bc"]).to_bytes() == bytes.fromhex(
        "21010061020062 63".replace(" ", "")
    )
    with pytest.raises(ValueError, match="only the last"):
        ATT_READ_MULTIPLE_VARIABLE_RSP((LengthValueTuple(5, b"x"), LengthValueTuple(1, b"y"))).to_bytes()


def test_signed_write_signed_data() -> None:
    pdu = ATT_SIGNED_WRITE_CMD(0x10, b"on", SIG)
    assert pdu.signed_data == bytes.fromhex("d21000") + b"on"


@pytest.mark.parametrize(
    "bad",
    [
        lambda: ATT_READ_REQ(0x10000),
        lambda: ATT_ERROR_RSP(0x100, 1, 1),
        lambda: ATT_READ_BY_TYPE_RSP(()),
        lambda: ATT_READ_BY_TYPE_RSP((AttributeData(1, b"a"), AttributeData(2, b"bc"))),
        lambda: ATT_READ_BY_GROUP_TYPE_RSP((GroupAttributeData(1, 2, b"a"), GroupAttributeData(3, 4, b""))),
        lambda: ATT_READ_MULTIPLE_REQ((1,)),
        lambda: ATT_FIND_INFORMATION_RSP(()),
        lambda: ATT_FIND_BY_TYPE_VALUE_RSP(()),
        lambda: ATT_SIGNED_WRITE_CMD(1, b"", b"short"),
        lambda: ATT_FIND_BY_TYPE_VALUE_REQ(1, 2, UUID(NUS), b""),
        lambda: ATT_MULTIPLE_HANDLE_VALUE_NTF(()),
    ],
)
def test_encoding_misuse_raises_value_error(bad: Any) -> None:
    with pytest.raises(ValueError):
        bad().to_bytes()


# ---------------------------------------------------------------------------------------
# Malformed PDUs
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "opcode"),
    [
        ("0a03", 0x0A),  # Read Request: handle truncated
        ("0a030000", 0x0A),  # Read Request: trailing octet
        ("0100", 0x01),  # Error Response truncated
        ("02", 0x02),  # MTU request without MTU
        ("0503100028", 0x05),  # Find Information Response: reserved format 3
        ("050110000028ff", 0x05),  # format 1 with a partial entry
        ("0501", 0x05),  # no entries
        ("0801000200aabbcc", 0x08),  # Read By Type Request: 3-octet UUID
        ("0801000200" + "00" * 4, 0x08),  # 4-octet (32-bit) UUID is not allowed
        ("090102", 0x09),  # Read By Type Response: length 1
        ("0904010002", 0x09),  # entries not a multiple of length
        ("0903", 0x09),  # no entries
        ("1103010002", 0x11),  # Read By Group Type Response: length 3
        ("0e0100", 0x0E),  # Read Multiple Request: one handle
        ("0e010002", 0x0E),  # odd length
        ("200100", 0x20),
        ("070100", 0x07),  # Find By Type Value Response: partial entry
        ("1803", 0x18),  # Execute Write: reserved flags
        ("18", 0x18),
        ("d21000" + "00" * 11, 0xD2),  # Signed Write: signature too short
        ("23", 0x23),  # Multiple Handle Value Notification: empty
        ("2301000500abcd", 0x23),  # length beyond the PDU
        ("210200abcd02", 0x21),  # stray single octet after a tuple
        ("0601000200", 0x06),  # Find By Type Value Request: no type
        ("1301", 0x13),  # Write Response with a parameter
        ("1e00", 0x1E),  # Confirmation with a parameter
    ],
)
def test_malformed_raises_decode_error_with_opcode(raw: str, opcode: int) -> None:
    with pytest.raises(AttDecodeError) as info:
        decode_att_pdu(bytes.fromhex(raw))
    assert info.value.opcode == opcode
    assert info.value.reason
    assert f"0x{opcode:02X}" in str(info.value)


def test_empty_and_unknown() -> None:
    with pytest.raises(AttDecodeError) as info:
        decode_att_pdu(b"")
    assert info.value.opcode is None
    for opcode in (0x14, 0x15, 0x1A, 0x1C, 0x22, 0x7F, 0x92, 0xFF):
        with pytest.raises(UnknownAttOpcode) as unk:
            decode_att_pdu(bytes((opcode, 0, 0)))
        assert unk.value.opcode == opcode
    assert issubclass(AttDecodeError, ValueError) and issubclass(UnknownAttOpcode, ValueError)


def test_from_bytes_rejects_other_opcode() -> None:
    with pytest.raises(AttDecodeError, match="is not ATT_READ_REQ"):
        ATT_READ_REQ.from_bytes(ATT_WRITE_RSP().to_bytes())


# ---------------------------------------------------------------------------------------
# Opcodes and error codes
# ---------------------------------------------------------------------------------------


def test_opcode_values_match_scapy_bindings() -> None:
    scapy_opcodes = {
        sb.ATT_Read_Request: AttOpcode.ATT_READ_REQ,
        sb.ATT_Write_Command: AttOpcode.ATT_WRITE_CMD,
        sb.ATT_Signed_Write_Command: AttOpcode.ATT_SIGNED_WRITE_CMD,
        sb.ATT_Multiple_Handle_Value_Notification: AttOpcode.ATT_MULTIPLE_HANDLE_VALUE_NTF,
        sb.ATT_Read_Multiple_Variable_Response: AttOpcode.ATT_READ_MULTIPLE_VARIABLE_RSP,
    }
    for layer, ours in scapy_opcodes.items():
        assert bytes(sb.ATT_Hdr() / layer())[0] == ours


def test_opcode_helpers() -> None:
    assert is_command(0x52) and is_command(0xD2) and not is_command(0x12)
    assert has_signature(0xD2) and not has_signature(0x52)
    requests = {0x02, 0x04, 0x06, 0x08, 0x0A, 0x0C, 0x0E, 0x10, 0x12, 0x16, 0x18, 0x20}
    responses = {0x01, 0x03, 0x05, 0x07, 0x09, 0x0B, 0x0D, 0x0F, 0x11, 0x13, 0x17, 0x19, 0x21}
    for op in AttOpcode:
        assert is_request(op) == (op in requests)
        assert is_response(op) == (op in responses)
        assert is_notification(op) == (op in (0x1B, 0x23))
        assert is_indication(op) == (op == 0x1D)
        assert is_confirmation(op) == (op == 0x1E)
        assert method_type(op) is not None
    assert method_type(0x52) is AttMethodType.COMMAND
    assert method_type(0x7F) is None and not is_request(0x7F)
    for req in requests:
        rsp = response_opcode(req)
        assert rsp == req + 1 and is_response(rsp)
    assert response_opcode(0x1D) == 0x1E
    assert response_opcode(0x52) is None


def test_error_codes() -> None:
    assert [int(c) for c in AttErrorCode][:19] == list(range(0x01, 0x14))
    assert int(AttErrorCode.INVALID_PDU) == 0x04
    assert int(AttErrorCode.REQUEST_NOT_SUPPORTED) == 0x06
    assert int(AttErrorCode.ATTRIBUTE_NOT_FOUND) == 0x0A
    assert int(AttErrorCode.VALUE_NOT_ALLOWED) == 0x13
    assert int(AttErrorCode.CLIENT_CHARACTERISTIC_CONFIGURATION_DESCRIPTOR_IMPROPERLY_CONFIGURED) == 0xFD
    assert int(AttErrorCode.OUT_OF_RANGE) == 0xFF
    # scapy's table (0x01-0x11) uses the same numbers for the same meanings.
    names = _i2s(sb.ATT_Error_Response, 2)
    assert names[AttErrorCode.INSUFFICIENT_RESOURCES] == "insufficient resources"
    assert names[AttErrorCode.PREPARE_QUEUE_FULL] == "prepare queue full"


# ---------------------------------------------------------------------------------------
# Random bytes
# ---------------------------------------------------------------------------------------

_KNOWN = sorted(ATT_PDU_CLASSES)


@settings(max_examples=400)
@given(st.binary(max_size=40))
def test_random_bytes_raise_only_documented_errors(raw: bytes) -> None:
    try:
        pdu = decode_att_pdu(raw)
    except (AttDecodeError, UnknownAttOpcode):
        return
    assert pdu.to_bytes() == raw  # anything that decodes re-encodes byte for byte


@settings(max_examples=1500)
@given(st.sampled_from(_KNOWN), st.binary(max_size=40))
def test_random_parameters_for_known_opcodes(opcode: int, params: bytes) -> None:
    raw = bytes((opcode,)) + params
    try:
        pdu = decode_att_pdu(raw)
    except AttDecodeError as exc:
        assert exc.opcode == opcode
        return
    assert pdu.opcode == opcode
    assert pdu.to_bytes() == raw
