"""UUID, Address, Attribute and the exceptions, against the CircuitPython documentation and
the board's behaviour (apis/circuitpython/values.py, errors.py)."""

from __future__ import annotations

import builtins
import traceback

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apis.circuitpython.errors import (
    BluetoothError,
    ConnectionError,
    RoleError,
    SecurityError,
    gatt_error,
    security_error,
)
from apis.circuitpython.values import UUID, Address, Attribute

NUS = "6e400001-b5a3-f393-e0a9-e50e24dcca9e"
#: The NUS service UUID least significant octet first, written out by hand.
NUS_LE = bytes.fromhex("9ecadc240ee5a9e093f3a3b50100406e")


# -- UUID ------------------------------------------------------------------------------------


def test_uuid16_from_int() -> None:
    u = UUID(0x180F)
    assert (u.size, u.uuid16) == (16, 0x180F)
    assert repr(u) == "UUID(0x180f)" and str(u) == "UUID(0x180f)"


def test_uuid16_has_no_uuid128() -> None:
    with pytest.raises(AttributeError, match="not a 128-bit UUID"):
        _ = UUID(0x2A19).uuid128


@pytest.mark.parametrize("value", [-1, 0x10000])
def test_uuid_int_out_of_range(value: int) -> None:
    with pytest.raises(ValueError, match="UUID integer value must be 0-0xffff"):
        UUID(value)


def test_uuid128_from_string_and_buffer_agree() -> None:
    a = UUID(NUS)
    b = UUID(NUS_LE)
    c = UUID(NUS.upper())
    assert a == b == c
    assert a.size == 128
    assert a.uuid128 == NUS_LE
    assert a.uuid16 == 0x0001
    assert repr(a) == f"UUID('{NUS}')"


def test_base_derived_string_stays_128_bit() -> None:
    # Blinka turns this into a 16-bit UUID; a board keeps it 128-bit and unequal to 0x180F.
    u = UUID("0000180f-0000-1000-8000-00805f9b34fb")
    assert u.size == 128 and u.uuid16 == 0x180F
    assert u != UUID(0x180F)


@pytest.mark.parametrize("text", ["6e400001b5a3f393e0a9e50e24dcca9e", NUS[:-1], NUS.replace("-", "_"),
                                  "6e400001-b5a3-f393-e0a9-e50e24dcca9g"])
def test_uuid_bad_strings(text: str) -> None:
    with pytest.raises(ValueError, match="UUID string not 'xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx'"):
        UUID(text)


def test_uuid_bad_buffer_and_type() -> None:
    with pytest.raises(ValueError, match="Byte buffer must be 16 bytes."):
        UUID(b"\x00" * 15)
    with pytest.raises(ValueError, match="UUID value is not str, int or byte buffer"):
        UUID(1.5)


def test_uuid_hash_as_on_the_board() -> None:
    assert hash(UUID(0x180F)) == 0x180F
    words = [int.from_bytes(NUS_LE[i : i + 2], "little") for i in range(0, 16, 2)]
    assert hash(UUID(NUS)) == sum(words)
    assert {UUID(NUS): 1}[UUID(NUS_LE)] == 1


def test_uuid_equality_needs_same_size_and_type() -> None:
    assert UUID(0x180F) == UUID(0x180F)
    assert UUID(0x180F) != UUID(0x180A)
    assert UUID(0x180F) != 0x180F
    assert UUID(NUS) != UUID("6e400002-b5a3-f393-e0a9-e50e24dcca9e")


def test_pack_into_with_keyword_offset() -> None:
    buf = bytearray(4)
    UUID(0x180F).pack_into(buf)
    UUID(0x180A).pack_into(buf, offset=2)
    assert bytes(buf) == bytes.fromhex("0f180a18")  # Blinka would give 07020f180a180000
    big = bytearray(18)
    UUID(NUS).pack_into(big, offset=2)
    assert bytes(big) == b"\x00\x00" + NUS_LE


def test_pack_into_offset_is_keyword_only_and_checked() -> None:
    with pytest.raises(TypeError):
        UUID(0x180F).pack_into(bytearray(4), 2)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="Buffer \\+ offset too small"):
        UUID(0x180F).pack_into(bytearray(3), offset=2)
    with pytest.raises(ValueError, match="Buffer \\+ offset too small"):
        UUID(NUS).pack_into(bytearray(15))
    with pytest.raises(TypeError):
        UUID(0x180F).pack_into(b"\x00\x00")


def test_node_subclass_registers_bases() -> None:
    cls: type[UUID] = type("UUID", (UUID,), {"__slots__": (), "_registry": set()})
    assert cls._from_host(UUID(NUS)._to_host()) is None  # never created on this "node"
    cls("6e400002-b5a3-f393-e0a9-e50e24dcca9e")  # same base as NUS
    known = cls._from_host(UUID(NUS)._to_host())
    assert known == UUID(NUS) and isinstance(known, cls)
    assert cls._from_host(UUID(0x2902)._to_host()) == UUID(0x2902)


# -- Address ---------------------------------------------------------------------------------


def test_address_prints_in_the_expected_order() -> None:
    # The example of the documentation: address_bytes b'5\xa8\xed\xf5\x1d\xc8'.
    a = Address(b"5\xa8\xed\xf5\x1d\xc8")
    assert repr(a) == "<Address c8:1d:f5:ed:a8:35>" == str(a)
    assert a.address_bytes == b"5\xa8\xed\xf5\x1d\xc8"
    assert a.type == Address.PUBLIC


def test_address_types() -> None:
    assert (Address.PUBLIC, Address.RANDOM_STATIC, Address.RANDOM_PRIVATE_RESOLVABLE,
            Address.RANDOM_PRIVATE_NON_RESOLVABLE) == (0, 1, 2, 3)
    with pytest.raises(ValueError, match="Invalid address_type"):
        Address(bytes(6), 4)
    with pytest.raises(ValueError, match="address must be 6 bytes long"):
        Address(bytes(5))


def test_address_equality_and_hash() -> None:
    raw = bytes(range(6))
    assert Address(raw, 1) == Address(bytearray(raw), 1)
    assert Address(raw, 1) != Address(raw, 0)
    assert len({Address(raw, 1), Address(raw, 1), Address(raw, 0)}) == 2
    assert hash(Address(raw, 1)) == hash(Address(raw, 1))


def test_address_from_link_types() -> None:
    from linklayer.address import Address as LinkAddress

    assert Address._from_link(LinkAddress(bytes(6))).type == Address.PUBLIC
    assert Address._from_link(LinkAddress(bytes(5) + b"\xc0", True)).type == Address.RANDOM_STATIC
    assert Address._from_link(LinkAddress(bytes(5) + b"\x40", True)).type == Address.RANDOM_PRIVATE_RESOLVABLE
    assert Address._from_link(LinkAddress(bytes(5) + b"\x00", True)).type == Address.RANDOM_PRIVATE_NON_RESOLVABLE


# -- Attribute -------------------------------------------------------------------------------


def test_security_modes_have_the_boards_values() -> None:
    assert (Attribute.NO_ACCESS, Attribute.OPEN, Attribute.ENCRYPT_NO_MITM, Attribute.ENCRYPT_WITH_MITM,
            Attribute.LESC_ENCRYPT_WITH_MITM, Attribute.SIGNED_NO_MITM, Attribute.SIGNED_WITH_MITM) == (
        0x00, 0x11, 0x21, 0x31, 0x41, 0x12, 0x22)
    assert isinstance(Attribute.OPEN, int)


# -- exceptions ------------------------------------------------------------------------------


def test_exception_hierarchy() -> None:
    assert issubclass(RoleError, BluetoothError) and issubclass(SecurityError, BluetoothError)
    assert issubclass(BluetoothError, Exception)
    error = ConnectionError("Not connected")
    assert isinstance(error, builtins.ConnectionError) and isinstance(error, OSError)
    assert isinstance(error, BluetoothError)
    assert str(error) == "Not connected"


def test_exceptions_print_with_the_module_prefix() -> None:
    line = traceback.format_exception_only(SecurityError, SecurityError("Insufficient encryption"))[-1]
    assert line == "_bleio.SecurityError: Insufficient encryption\n"


def test_gatt_errors() -> None:
    assert isinstance(gatt_error(0x05), SecurityError) and str(gatt_error(0x05)) == "Insufficient authentication"
    assert isinstance(gatt_error(0x0F), SecurityError) and str(gatt_error(0x0F)) == "Insufficient encryption"
    error = gatt_error(0x03)
    assert type(error) is BluetoothError and str(error) == "Unknown gatt error: 0x0103"


def test_security_errors() -> None:
    assert str(security_error(0x05)) == "Unknown security error: 0x0085"
    assert str(security_error(None, timed_out=True)) == "Unknown security error: 0x0001"
    assert str(security_error(0x08)).startswith("Unspecified issue.")


# -- properties ------------------------------------------------------------------------------


@given(st.binary(min_size=16, max_size=16))
def test_uuid128_string_and_buffer_round_trip(raw: bytes) -> None:
    u = UUID(raw)
    text = repr(u)[len("UUID('") : -len("')")]
    assert UUID(text) == u and hash(UUID(text)) == hash(u)
    buf = bytearray(16)
    u.pack_into(buf)
    assert bytes(buf) == raw == u.uuid128
    assert u.uuid16 == int.from_bytes(raw[12:14], "little")


@given(st.integers(0, 0xFFFF))
def test_uuid16_round_trip(value: int) -> None:
    buf = bytearray(2)
    UUID(value).pack_into(buf)
    assert int.from_bytes(buf, "little") == value == hash(UUID(value))
