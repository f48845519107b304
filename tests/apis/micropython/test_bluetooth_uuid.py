"""``bluetooth.UUID``: construction from int, string and buffers, equality, hash, repr, and
the conversion to the host's UUID (with NimBLE's 32-bit quirk)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apis.micropython.uuid import UUID, from_host_uuid, to_host_uuid
from host.uuid import UUID as HostUUID

NUS = "6E400001-B5A3-F393-E0A9-E50E24DCCA9E"


def test_16_bit_from_int_is_little_endian_octets() -> None:
    u = UUID(0x180D)
    assert bytes(u) == b"\x0d\x18"
    assert u.bits == 16
    assert repr(u) == "UUID(0x180d)"


def test_128_bit_from_string_is_stored_least_significant_octet_first() -> None:
    u = UUID(NUS)
    # The octets of the NUS service UUID in air order (as nRF Connect shows them reversed).
    assert bytes(u) == bytes.fromhex("9ECADC240EE5A9E093F3A3B50100406E")
    assert repr(u) == "UUID('6e400001-b5a3-f393-e0a9-e50e24dcca9e')"
    assert UUID(NUS.replace("-", "")) == u
    assert UUID(NUS.lower()) == u


def test_buffers_of_2_4_16_octets_are_raw_uuids() -> None:
    assert UUID(b"\x08\x29") == UUID(0x2908)
    assert repr(UUID(b"\x08\x29\x00\x00")) == "UUID(0x00002908)"
    assert UUID(bytearray(bytes(UUID(NUS)))) == UUID(NUS)
    assert UUID(memoryview(b"\x0f\x18")) == UUID(0x180F)
    assert UUID(UUID(0x180F)) == UUID(0x180F)


def test_a_4_character_string_is_raw_32_bit_octets_as_on_the_board() -> None:
    u = UUID("abcd")
    assert u.bits == 32
    assert bytes(u) == b"abcd"
    assert repr(u) == "UUID(0x64636261)"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0x10000, "invalid UUID"),
        (b"\x01\x02\x03", "invalid UUID"),
        ("6E400001-B5A3-F393-E0A9-E50E24DCCA9", "UUID too short"),
        ("6E400001-B5A3-F393-E0A9-E50E24DCCA9E0", "UUID too long"),
        ("6E400001-B5A3-F393-E0A9-E50E24DCCA9G", "invalid char in UUID"),
    ],
)
def test_invalid_values_raise_value_error_with_micropython_messages(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        UUID(value)


def test_non_buffers_raise_type_error() -> None:
    with pytest.raises(TypeError):
        UUID(1.5)
    with pytest.raises(TypeError):
        UUID(None)


def test_equality_needs_the_same_width_and_hash_follows_it() -> None:
    short = UUID(0x180F)
    long = UUID("0000180F-0000-1000-8000-00805F9B34FB")
    assert short != long
    assert short == UUID(0x180F)
    assert hash(short) == hash(UUID(0x180F))
    assert len({short, UUID(0x180F), long}) == 2
    assert short != b"\x0f\x18"
    assert sorted([UUID(0x2A00), UUID(0x1800)]) == [UUID(0x1800), UUID(0x2A00)]
    with pytest.raises(AttributeError):
        setattr(short, 'x', 1)


def test_host_conversion_keeps_16_and_128_bit_values() -> None:
    assert to_host_uuid(UUID(0x180D)) == HostUUID(0x180D)
    assert to_host_uuid(UUID(NUS)) == HostUUID(NUS)
    assert from_host_uuid(HostUUID(0x2A37)) == UUID(0x2A37)
    assert from_host_uuid(HostUUID(NUS)) == UUID(NUS)


def test_nimble_builds_32_bit_uuids_from_data_1_repeatedly() -> None:
    u = UUID(b"\x01\x02\x03\x04")
    assert to_host_uuid(u) == HostUUID(0x02020201)
    assert to_host_uuid(u, nimble=False) == HostUUID(0x04030201)


@given(st.binary(min_size=16, max_size=16))
def test_repr_of_a_128_bit_uuid_parses_back_to_it(data: bytes) -> None:
    u = UUID(data)
    text = repr(u)[len("UUID('") : -2]
    assert UUID(text) == u
    assert to_host_uuid(u) == HostUUID(data)
