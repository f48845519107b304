"""Tests for host.uuid: forms, equality across forms, air order, errors."""

from __future__ import annotations

import copy
import pickle
import uuid as std_uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from host.uuid import BASE_UUID, UUID, UUIDError

NUS = "6E400001-B5A3-F393-E0A9-E50E24DCCA9E"


def test_base_uuid_matches_the_printed_base() -> None:
    assert BASE_UUID == std_uuid.UUID("00000000-0000-1000-8000-00805F9B34FB").int


@pytest.mark.parametrize("form", [0x180F, "0x180F", "180F", "0x180f", b"\x0f\x18"])
def test_16bit_forms_are_equal(form: int | str | bytes) -> None:
    u = UUID(form)
    assert u.bits == 16
    assert u == UUID(0x180F)
    assert str(u) == "0x180F"
    assert u.to_bytes() == b"\x0f\x18"


def test_equal_across_forms_and_hash() -> None:
    short = UUID(0x180F)
    long = UUID("0000180F-0000-1000-8000-00805F9B34FB")
    mid = UUID("0000180F")
    assert long.bits == 128 and mid.bits == 32
    assert short == long == mid
    assert len({short, long, mid}) == 1
    assert {short: 1}[long] == 1
    assert UUID(0x180F) != UUID(0x180A)
    assert UUID(0x180F) != 0x180F  # no silent comparison with ints


def test_128bit_string_and_air_order() -> None:
    u = UUID(NUS)
    assert u.bits == 128
    assert str(u) == NUS
    # Air order is little-endian: the reverse of the printed octets (Vol 3 Part F 3.2.1).
    assert u.to_bytes() == bytes.fromhex(NUS.replace("-", ""))[::-1]
    assert UUID.from_bytes(u.to_bytes()) == u
    assert UUID(NUS.lower().replace("-", "")) == u
    assert u.value == std_uuid.UUID(NUS).int
    assert u.short_value is None
    assert u.shortest_bits == 128


def test_to_128_and_forced_widths() -> None:
    u = UUID(0x2A19)
    assert u.to_128().bits == 128
    assert str(u.to_128()) == "00002A19-0000-1000-8000-00805F9B34FB"
    assert u.to_bytes(128) == bytes.fromhex("00002A19-0000-1000-8000-00805F9B34FB".replace("-", ""))[::-1]
    assert u.to_bytes(32) == b"\x19\x2a\x00\x00"
    assert u.to_128().to_bytes(16) == b"\x19\x2a"
    assert u.to_128().shortest().bits == 16
    assert UUID(0x12345678).to_bytes() == bytes.fromhex("78563412")
    assert str(UUID(0x12345678)) == "0x12345678"
    assert int(UUID(0x2A19)) == 0x2A19
    assert int(UUID(NUS)) == std_uuid.UUID(NUS).int


def test_no_short_form_errors() -> None:
    with pytest.raises(UUIDError, match="Base UUID"):
        UUID(NUS).to_bytes(16)
    with pytest.raises(UUIDError, match="does not fit in 16 bits"):
        UUID(0x12345678).to_bytes(16)
    with pytest.raises(UUIDError, match="16, 32 or 128"):
        UUID(0x180F).to_bytes(64)


@pytest.mark.parametrize(
    "bad",
    ["", "0x", "18F", "180G", "12345", "6E400001B5A3-F393-E0A9-E50E24DCCA9E", "6E400001-B5A3"],
)
def test_bad_strings(bad: str) -> None:
    with pytest.raises(UUIDError, match="invalid UUID string"):
        UUID(bad)


def test_bad_inputs() -> None:
    with pytest.raises(UUIDError, match="2, 4 or 16 octets"):
        UUID(b"\x01\x02\x03")
    with pytest.raises(UUIDError, match="negative"):
        UUID(-1)
    with pytest.raises(UUIDError, match="longer than 128 bits"):
        UUID(1 << 128)
    with pytest.raises(UUIDError):
        UUID(True)
    with pytest.raises(UUIDError):
        UUID(1.5)  # type: ignore[arg-type]
    assert issubclass(UUIDError, ValueError)


def test_immutable_and_copyable() -> None:
    u = UUID(0x180F)
    with pytest.raises(AttributeError):
        setattr(u, "_value", 3)
    assert copy.copy(u) == u and copy.deepcopy(u).bits == 16
    v = pickle.loads(pickle.dumps(UUID("0000180F")))
    assert v.bits == 32 and v == u
    assert repr(u) == "UUID('0x180F')"
    assert UUID(u) is not u and UUID(u) == u


@given(st.integers(min_value=0, max_value=0xFFFF))
def test_16bit_round_trips(n: int) -> None:
    u = UUID(n)
    assert UUID.from_bytes(u.to_bytes()) == u
    assert UUID(str(u)) == u and UUID(str(u)).bits == 16
    assert UUID.from_bytes(u.to_bytes(128)) == u
    assert hash(UUID.from_bytes(u.to_bytes(128))) == hash(u)


@given(st.binary(min_size=16, max_size=16))
def test_128bit_round_trips(raw: bytes) -> None:
    u = UUID.from_bytes(raw)
    assert u.to_bytes() == raw
    assert UUID(str(u)) == u
    assert str(u) == str(std_uuid.UUID(bytes=raw[::-1])).upper()
