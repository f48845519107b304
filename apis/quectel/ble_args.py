"""Argument checks of the ``ble`` functions, as the C binding makes them.

Theory of operation
-------------------
The binding converts each argument (``mp_obj_get_int``, ``mp_get_buffer_raise``,
``mp_obj_str_get_str``) and checks the documented ranges before it calls the stack. A
wrong type is a ``TypeError``; a value outside its range is a ``ValueError`` raised into
the firmware. Only when the stack itself refuses does a function return -1 (that part
lives in :mod:`.ble_stack`). The helpers here do the conversions and range checks with
messages naming the argument.
"""

from __future__ import annotations

from collections.abc import Container

from host.uuid import UUID

__all__ = [
    "as_buffer",
    "as_int",
    "as_str",
    "check_address",
    "check_in",
    "check_range",
    "check_u16",
    "uuid_of",
]


def as_int(value: object, name: str) -> int:
    """An integer argument (``bool`` counts, as in MicroPython)."""
    if not isinstance(value, int):
        raise TypeError(f"{name}: can't convert {type(value).__name__} to int")
    return int(value)


def as_buffer(value: object, name: str) -> bytes:
    """A bytes-like argument (``bytes``, ``bytearray``, ``memoryview``)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"{name}: object with buffer protocol required, not {type(value).__name__}")


def as_str(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name}: can't convert {type(value).__name__} to str")
    return value


def check_range(value: object, low: int, high: int, name: str) -> int:
    """An integer in ``low..high`` (ValueError outside)."""
    number = as_int(value, name)
    if not low <= number <= high:
        raise ValueError(f"{name} {number:#x} is outside {low:#x}..{high:#x}")
    return number


def check_in(value: object, allowed: Container[int], name: str) -> int:
    """An integer from a fixed set (ValueError otherwise)."""
    number = as_int(value, name)
    if number not in allowed:
        raise ValueError(f"invalid {name} value {number}")
    return number


def check_u16(value: object, name: str) -> int:
    """A handle, offset or other 16-bit field."""
    return check_range(value, 0, 0xFFFF, name)


def check_address(value: object, name: str = "addr") -> bytes:
    """A 6-octet device address (HCI order)."""
    raw = as_buffer(value, name)
    if len(raw) != 6:
        raise ValueError(f"{name} must be 6 bytes, not {len(raw)}")
    return raw


def uuid_of(uuid_type: object, uuid_s: object, uuid_l: object) -> UUID:
    """The UUID named by ``(uuid_type, uuid_s, uuid_l)``: type 1 is the 16-bit ``uuid_s``,
    type 0 the 128-bit ``uuid_l`` (16 octets, least significant first; a shorter buffer is
    zero-padded, a longer one is a ValueError)."""
    kind = check_in(uuid_type, (0, 1), "uuid_type")
    short = check_range(uuid_s, 0, 0xFFFF, "uuid_s")
    long = as_buffer(uuid_l, "uuid_l")
    if len(long) > 16:
        raise ValueError(f"uuid_l is at most 16 bytes, not {len(long)}")
    if kind == 1:
        return UUID(short)
    return UUID.from_bytes(long.ljust(16, b"\x00"))
