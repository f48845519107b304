"""SMP PDU codecs (host.smp_pdu) against scapy's independent SM_* layers and the spec's
sample Pairing Request/Response bytes (Vol 3 Part H Appendix D / the c1 sample)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers import bluetooth as sb

from host.smp_pdu import (
    SMP_PDU_CLASSES,
    AuthReq,
    IoCapability,
    KeyDistribution,
    KeypressNotificationType,
    OobDataFlag,
    PairingFailedReason,
    SMP_Central_Identification,
    SMP_Encryption_Information,
    SMP_Identity_Address_Information,
    SMP_Identity_Information,
    SMP_Pairing_Confirm,
    SMP_Pairing_DHKey_Check,
    SMP_Pairing_Failed,
    SMP_Pairing_Keypress_Notification,
    SMP_Pairing_Public_Key,
    SMP_Pairing_Random,
    SMP_Pairing_Request,
    SMP_Pairing_Response,
    SMP_Security_Request,
    SMP_Signing_Information,
    SmpCode,
    SmpDecodeError,
    SmpPdu,
    UnknownSmpCode,
    decode_smp,
    swap,
)
from linklayer.address import Address

V16 = bytes(range(1, 17))  # MSB-first value 01..10; on the air 10 0f .. 01
V32X = bytes(range(32))
V32Y = bytes(range(32, 64))


def scapy_bytes(layer: Any) -> bytes:
    return bytes(sb.SM_Hdr() / layer)


# (our PDU, the same PDU built with scapy)
CASES: list[tuple[SmpPdu, Any]] = [
    (
        SMP_Pairing_Request(
            IoCapability.DISPLAY_YES_NO, OobDataFlag.NOT_PRESENT,
            AuthReq.BONDING | AuthReq.MITM | AuthReq.SC | AuthReq.CT2, 16,
            KeyDistribution.ENC_KEY | KeyDistribution.ID_KEY | KeyDistribution.SIGN_KEY,
            KeyDistribution.ENC_KEY | KeyDistribution.SIGN_KEY,
        ),
        sb.SM_Pairing_Request(iocap=1, oob=0, authentication=0x2D, max_key_size=16,
                              initiator_key_distribution=7, responder_key_distribution=5),
    ),
    (
        SMP_Pairing_Response(
            IoCapability.KEYBOARD_DISPLAY, OobDataFlag.PRESENT, AuthReq.KEYPRESS, 7,
            KeyDistribution(0), KeyDistribution.ID_KEY,
        ),
        sb.SM_Pairing_Response(iocap=4, oob=1, authentication=0x10, max_key_size=7,
                               initiator_key_distribution=0, responder_key_distribution=2),
    ),
    (SMP_Pairing_Confirm(V16), sb.SM_Confirm(confirm=V16[::-1])),
    (SMP_Pairing_Random(V16), sb.SM_Random(random=V16[::-1])),
    (SMP_Pairing_Failed(PairingFailedReason.DHKEY_CHECK_FAILED), sb.SM_Failed(reason=0x0B)),
    (SMP_Encryption_Information(V16), sb.SM_Encryption_Information(ltk=V16[::-1])),
    (
        SMP_Central_Identification(0x1234, 0x0807060504030201),
        sb.SM_Master_Identification(ediv=0x1234, rand=bytes(range(1, 9))),
    ),
    (SMP_Identity_Information(V16), sb.SM_Identity_Information(irk=V16[::-1])),
    (
        SMP_Identity_Address_Information(Address.parse("C0:11:22:33:44:55", random=True)),
        sb.SM_Identity_Address_Information(addr_type=1, bd_addr="c0:11:22:33:44:55"),
    ),
    (SMP_Signing_Information(V16), sb.SM_Signing_Information(csrk=V16[::-1])),
    (SMP_Security_Request(AuthReq.BONDING | AuthReq.MITM | AuthReq.SC), sb.SM_Security_Request(auth_req=0x0D)),
    (
        SMP_Pairing_Public_Key(V32X, V32Y),
        sb.SM_Public_Key(key_x=V32X[::-1], key_y=V32Y[::-1]),
    ),
    (SMP_Pairing_DHKey_Check(V16), sb.SM_DHKey_Check(dhkey_check=V16[::-1])),
    (
        SMP_Pairing_Keypress_Notification(KeypressNotificationType.PASSKEY_CLEARED),
        sb.SM_Keypress_Notification(notification_type=3),
    ),
]


def test_every_code_has_a_class_and_a_scapy_case() -> None:
    assert set(SMP_PDU_CLASSES) == set(SmpCode)
    assert {type(ours).CODE for ours, _ in CASES} == set(SmpCode)


@pytest.mark.parametrize("ours,theirs", CASES, ids=lambda p: type(p).__name__)
def test_encoding_matches_scapy(ours: SmpPdu, theirs: Any) -> None:
    assert ours.to_bytes() == scapy_bytes(theirs)


@pytest.mark.parametrize("ours,theirs", CASES, ids=lambda p: type(p).__name__)
def test_decoding_scapy_bytes(ours: SmpPdu, theirs: Any) -> None:
    assert decode_smp(scapy_bytes(theirs)) == ours
    assert type(ours).from_bytes(scapy_bytes(theirs)) == ours


def test_spec_sample_pairing_request_and_response() -> None:
    """The c1 sample data (Vol 3 Part H 2.2.3): preq = 07071000000101, pres =
    05000800000302 MSB-first, i.e. on the air 01 01 00 00 10 07 07 / 02 03 00 00 08 00 05."""
    request = decode_smp(bytes.fromhex("01010000100707"))
    assert request == SMP_Pairing_Request(
        IoCapability.DISPLAY_YES_NO, OobDataFlag.NOT_PRESENT, AuthReq(0), 16,
        KeyDistribution(7), KeyDistribution(7),
    )
    response = decode_smp(bytes.fromhex("02030000080005"))
    assert response == SMP_Pairing_Response(
        IoCapability.NO_INPUT_NO_OUTPUT, OobDataFlag.NOT_PRESENT, AuthReq(0), 8,
        KeyDistribution(0), KeyDistribution(5),
    )
    assert swap(request.to_bytes()).hex() == "07071000000101"
    assert swap(response.to_bytes()).hex() == "05000800000302"


def test_values_travel_least_significant_octet_first() -> None:
    pdu = SMP_Pairing_Confirm(bytes.fromhex("00112233445566778899aabbccddeeff"))
    assert pdu.to_bytes() == bytes.fromhex("03ffeeddccbbaa99887766554433221100")
    key = SMP_Pairing_Public_Key(bytes(31) + b"\x01", b"\x02" + bytes(31))
    assert key.to_bytes()[1] == 0x01 and key.to_bytes()[64] == 0x02


def test_bonding_flag_reads_the_two_bits() -> None:
    base = dict(
        io_capability=IoCapability.DISPLAY_ONLY, oob_data_flag=OobDataFlag.NOT_PRESENT,
        max_encryption_key_size=16, initiator_key_distribution=KeyDistribution(0),
        responder_key_distribution=KeyDistribution(0),
    )
    assert SMP_Pairing_Request(auth_req=AuthReq(0x01), **base).bonding  # type: ignore[arg-type]
    assert not SMP_Pairing_Request(auth_req=AuthReq(0x00), **base).bonding  # type: ignore[arg-type]
    assert not SMP_Pairing_Request(auth_req=AuthReq(0x03), **base).bonding  # type: ignore[arg-type]


def test_reserved_auth_req_bits_are_kept() -> None:
    pdu = decode_smp(bytes.fromhex("0bc5"))
    assert isinstance(pdu, SMP_Security_Request)
    assert pdu.to_bytes() == bytes.fromhex("0bc5")


def test_reserved_failure_reason_is_kept() -> None:
    pdu = decode_smp(bytes.fromhex("0577"))
    assert pdu == SMP_Pairing_Failed(0x77)
    assert pdu.to_bytes() == bytes.fromhex("0577")


# -- malformed ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "",  # empty
        "01010000100707ff",  # trailing octet
        "010100001007",  # short
        "0305",  # short confirm
        "01050000100707",  # reserved IO capability
        "01010200100707",  # reserved OOB flag
        "0902112233445566",  # reserved address type
        "0e05",  # reserved keypress type
        "05",  # failed without reason
    ],
)
def test_malformed_pdus_raise_invalid_parameters(raw: str) -> None:
    with pytest.raises(SmpDecodeError) as info:
        decode_smp(bytes.fromhex(raw))
    assert info.value.reason is PairingFailedReason.INVALID_PARAMETERS
    assert not isinstance(info.value, UnknownSmpCode)


@pytest.mark.parametrize("code", [0x00, 0x0F, 0x10, 0xFF])
def test_unknown_code_is_command_not_supported(code: int) -> None:
    with pytest.raises(UnknownSmpCode) as info:
        decode_smp(bytes([code, 0, 0]))
    assert info.value.reason is PairingFailedReason.COMMAND_NOT_SUPPORTED
    assert info.value.code == code


def test_class_from_bytes_rejects_another_code() -> None:
    with pytest.raises(SmpDecodeError):
        SMP_Pairing_Random.from_bytes(SMP_Pairing_Confirm(V16).to_bytes())


def test_encoding_checks_sizes() -> None:
    with pytest.raises(ValueError):
        SMP_Pairing_Confirm(b"\x00" * 15).to_bytes()
    with pytest.raises(ValueError):
        SMP_Central_Identification(0x10000, 0).to_bytes()
    with pytest.raises(ValueError):
        SMP_Pairing_Public_Key(V32X, V32Y[:31]).to_bytes()


# -- round trips ----------------------------------------------------------------------------

_b16 = st.binary(min_size=16, max_size=16)
_b32 = st.binary(min_size=32, max_size=32)
_octet = st.integers(0, 255)
_features = st.tuples(
    st.sampled_from(IoCapability), st.sampled_from(OobDataFlag), _octet.map(AuthReq), _octet,
    _octet.map(KeyDistribution), _octet.map(KeyDistribution),
)

PDUS = st.one_of(
    _features.map(lambda f: SMP_Pairing_Request(*f)),
    _features.map(lambda f: SMP_Pairing_Response(*f)),
    _b16.map(SMP_Pairing_Confirm),
    _b16.map(SMP_Pairing_Random),
    _octet.map(SMP_Pairing_Failed),
    _b16.map(SMP_Encryption_Information),
    st.tuples(st.integers(0, 0xFFFF), st.integers(0, 2**64 - 1)).map(
        lambda t: SMP_Central_Identification(*t)
    ),
    _b16.map(SMP_Identity_Information),
    st.tuples(st.binary(min_size=6, max_size=6), st.booleans()).map(
        lambda t: SMP_Identity_Address_Information(Address(t[0], t[1]))
    ),
    _b16.map(SMP_Signing_Information),
    _octet.map(lambda v: SMP_Security_Request(AuthReq(v))),
    st.tuples(_b32, _b32).map(lambda t: SMP_Pairing_Public_Key(*t)),
    _b16.map(SMP_Pairing_DHKey_Check),
    st.sampled_from(KeypressNotificationType).map(SMP_Pairing_Keypress_Notification),
)


@settings(max_examples=300)
@given(PDUS)
def test_round_trip(pdu: SmpPdu) -> None:
    data = pdu.to_bytes()
    assert len(data) == 1 + type(pdu).LENGTH
    assert decode_smp(data) == pdu
    assert decode_smp(data).to_bytes() == data


@settings(max_examples=300)
@given(st.binary(max_size=80))
def test_arbitrary_bytes_decode_or_raise_smp_errors(data: bytes) -> None:
    try:
        pdu = decode_smp(data)
    except SmpDecodeError:
        return
    assert pdu.to_bytes() == data
