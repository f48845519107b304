"""Malformed input: every decoder fails with HciDecodeError (or an Unknown* packet).

Truncated packets, wrong length fields, trailing octets, inconsistent array counts,
unknown opcodes and event codes; then hypothesis feeds random bytes to every parser.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import linklayer.hci as hci
from linklayer.hci import HciDecodeError, parse_command, parse_event

from .samples import registered_classes, sample

CLASSES = registered_classes()


def _param_octets(obj: hci.HciCommand | hci.HciEvent) -> tuple[bytes, bytes]:
    """(header, parameters) of a packet; LE Meta subevent code counts as header."""
    raw = obj.to_bytes()
    if isinstance(obj, hci.HciLeMetaEvent):
        return raw[:3], raw[3:]
    if isinstance(obj, hci.HciCommand):
        return raw[:3], raw[3:]
    return raw[:2], raw[2:]


def _repack(obj: hci.HciCommand | hci.HciEvent, params: bytes) -> bytes:
    header, _ = _param_octets(obj)
    if isinstance(obj, hci.HciLeMetaEvent):
        return header[:1] + bytes([len(params) + 1]) + header[2:3] + params
    if isinstance(obj, hci.HciCommand):
        return header[:2] + bytes([len(params)]) + params
    return header[:1] + bytes([len(params)]) + params


def _parse(obj: object, raw: bytes) -> object:
    return parse_command(raw) if isinstance(obj, hci.HciCommand) else parse_event(raw)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_truncated_parameters(cls: type[hci.Packed]) -> None:
    obj = sample(cls)
    _, params = _param_octets(obj)
    for cut in range(len(params)):
        shorter = params[:cut]
        try:
            decoded = _parse(obj, _repack(obj, shorter))
        except HciDecodeError:
            continue
        # A shorter packet may still be valid (fewer array entries, shorter data): then
        # it must at least be a different, self-consistent packet.
        assert decoded != obj
        assert decoded.to_bytes() == _repack(obj, shorter)  # type: ignore[attr-defined]


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_trailing_octet(cls: type[hci.Packed]) -> None:
    obj = sample(cls)
    _, params = _param_octets(obj)
    if isinstance(obj, hci.HCI_Command_Complete_Event):
        pytest.skip("Return_Parameters takes the rest of the packet by definition")
    with pytest.raises(HciDecodeError, match="trailing|expected 32"):
        _parse(obj, _repack(obj, params + b"\x00"))


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_wrong_length_field(cls: type[hci.Packed]) -> None:
    obj = sample(cls)
    raw = bytearray(obj.to_bytes())
    length_at = 2 if isinstance(obj, hci.HciCommand) else 1
    for delta in (-1, 1):
        bad = bytearray(raw)
        bad[length_at] = (bad[length_at] + delta) & 0xFF
        with pytest.raises(HciDecodeError, match="length field"):
            _parse(obj, bytes(bad))


def test_headers_shorter_than_minimum() -> None:
    for raw in (b"", b"\x03", b"\x03\x0c"):
        with pytest.raises(HciDecodeError):
            parse_command(raw)
    for raw in (b"", b"\x0e"):
        with pytest.raises(HciDecodeError):
            parse_event(raw)
    with pytest.raises(HciDecodeError, match="subevent"):
        parse_event(b"\x3e\x00")


def test_unknown_codes_give_unknown_packets() -> None:
    assert parse_command(bytes.fromhex("01fc0299aa")) == hci.UnknownCommand(
        opcode=0xFC01, payload=b"\x99\xaa"
    )
    assert parse_event(bytes.fromhex("ff0101")) == hci.UnknownEvent(code=0xFF, payload=b"\x01")
    assert parse_event(bytes.fromhex("3e02" "3f" "00")) == hci.UnknownEvent(
        code=0x3E, payload=b"\x3f\x00"
    )


ARRAY_CASES = [
    # Num_Handles says 2, one element present.
    bytes.fromhex("1305" "02" "4000" "0100"),
    # Num_Reports says 1, report data length runs past the end.
    bytes.fromhex("3e0d" "02" "01" "00" "00" "5544332211c0" "05" "0201"),
    # Advertising report missing its RSSI octet.
    bytes.fromhex("3e0e" "02" "01" "00" "00" "5544332211c0" "03" "020106"),
    # Extended scan parameters: Scanning_PHYs 0b101 selects 2 elements, 1 present.
    bytes.fromhex("412008" "00" "00" "05" "01" "6000" "3000"),
    # Extended advertising enable: Num_Sets 2, one set present.
    bytes.fromhex("392006" "01" "02" "01" "0000" "00"),
    # Legacy advertising data: length octet 32 > 31.
    bytes.fromhex("082020" "20") + bytes(31),
    # Legacy advertising data: only the significant part sent.
    bytes.fromhex("082004" "03020106"),
    # Extended advertising data: length octet longer than the data.
    bytes.fromhex("372006" "01" "03" "01" "05" "0201"),
    # Extended create connection: head cut inside the peer address.
    bytes.fromhex("432005" "00" "00" "00" "5544"),
]


@pytest.mark.parametrize("raw", ARRAY_CASES, ids=range(len(ARRAY_CASES)))
def test_inconsistent_arrays_and_lengths(raw: bytes) -> None:
    with pytest.raises(HciDecodeError):
        if raw[0] in (0x13, 0x3E) and len(raw) == raw[1] + 2:
            parse_event(raw)
        else:
            parse_command(raw)


def test_command_complete_with_bad_return_parameters() -> None:
    event = parse_event(bytes.fromhex("0e05" "01" "0910" "00" "01"))
    assert isinstance(event, hci.HCI_Command_Complete_Event)
    with pytest.raises(HciDecodeError):
        event.decode_returns()


_FUZZ = settings(max_examples=3000, suppress_health_check=[HealthCheck.too_slow])


def _framed_command() -> st.SearchStrategy[bytes]:
    ops = st.sampled_from(sorted(hci.COMMANDS)) | st.integers(0, 0xFFFF)
    return st.tuples(ops, st.binary(max_size=80)).map(
        lambda t: t[0].to_bytes(2, "little") + bytes([len(t[1])]) + t[1]
    )


def _framed_event() -> st.SearchStrategy[bytes]:
    codes = st.sampled_from(sorted(hci.EVENTS) + [0x3E]) | st.integers(0, 0xFF)
    subs = st.sampled_from(sorted(hci.LE_SUBEVENTS)) | st.integers(0, 0xFF)

    def build(t: tuple[int, int, bytes]) -> bytes:
        code, sub, body = t
        params = (bytes([sub]) + body) if code == 0x3E else body
        return bytes([code, len(params)]) + params

    return st.tuples(codes, subs, st.binary(max_size=80)).map(build)


@_FUZZ
@given(st.binary(max_size=80) | _framed_command())
def test_parse_command_fuzz(raw: bytes) -> None:
    try:
        cmd = parse_command(raw)
    except HciDecodeError:
        return
    # Whatever decodes re-encodes to a well-framed command with the same opcode.
    again = cmd.to_bytes()
    assert again[:2] == raw[:2]
    assert again[2] == len(again) - 3


@_FUZZ
@given(st.binary(max_size=80) | _framed_event())
def test_parse_event_fuzz(raw: bytes) -> None:
    try:
        event = parse_event(raw)
    except HciDecodeError:
        return
    if isinstance(event, hci.HCI_Command_Complete_Event):
        try:
            event.decode_returns()
        except HciDecodeError:
            pass
    again = event.to_bytes()
    assert again[0] == raw[0]
    assert again[1] == len(again) - 2


@_FUZZ
@given(st.binary(max_size=80))
def test_decode_h4_fuzz(raw: bytes) -> None:
    parser = hci.H4Parser(max_packet_length=64)
    for packet_type, packet in parser.feed(raw):
        try:
            hci.decode_h4(packet_type, packet)
        except HciDecodeError:
            pass
