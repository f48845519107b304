"""``bluetooth.UUID``: MicroPython's UUID object and its conversion to the host's.

Theory of operation
-------------------
A MicroPython UUID is a width (16, 32 or 128 bits, stored as 2, 4 or 16 octets) and its
octets in air order (little-endian), built as ``modbluetooth.c`` builds it:

* an ``int`` is a 16-bit UUID (``ValueError('invalid UUID')`` above 0xFFFF);
* anything with the buffer protocol of 2, 4 or 16 octets (``bytes``, ``memoryview``,
  another ``UUID``) is taken as raw octets; MicroPython's ``str`` has the buffer
  protocol too, so a 2-, 4- or 16-character **string** is raw octets as well;
* any other string is hexadecimal digits (dashes ignored), 128 bits, most significant
  first (``'6E400001-B5A3-F393-E0A9-E50E24DCCA9E'``).

Two UUIDs are equal when width and octets are equal (``UUID(0x180D)`` is not equal to its
128-bit expansion, as on the board); they hash, order and print (``UUID(0x180d)``,
``UUID('6e400001-b5a3-f393-e0a9-e50e24dcca9e')``) as MicroPython does.
:func:`to_host_uuid` gives the :class:`host.uuid.UUID` of the same value; with the NimBLE
stack a registered 32-bit UUID goes through ``create_nimble_uuid``, which fills the two
top octets from ``data[1]`` (a bug of the board that programs can observe).
"""

from __future__ import annotations

from typing import Any

from host.uuid import UUID as HostUUID

__all__ = ["UUID", "from_host_uuid", "to_host_uuid"]

_WIDTHS = (2, 4, 16)


def _buffer(value: Any) -> bytes | None:
    """The octets of a buffer-protocol object (``str`` included, as on MicroPython)."""
    if isinstance(value, UUID):
        return value._data
    if isinstance(value, str):
        return value.encode("utf-8")
    try:
        return bytes(memoryview(value))
    except TypeError:
        return None


class UUID:
    """A Bluetooth UUID as MicroPython's ``bluetooth.UUID`` (see the module docstring)."""

    __slots__ = ("_data",)

    _data: bytes

    def __init__(self, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, str)) and _buffer(value) is None:
            raise TypeError(f"can't convert {type(value).__name__} to UUID")
        if isinstance(value, int):
            if value > 0xFFFF:
                raise ValueError("invalid UUID")
            data = (value & 0xFFFF).to_bytes(2, "little")
        else:
            raw = _buffer(value)
            assert raw is not None
            if len(raw) in _WIDTHS:
                data = raw
            elif isinstance(value, str):
                data = _parse_hex(value)
            else:
                raise ValueError("invalid UUID")
        object.__setattr__(self, "_data", bytes(data))

    # -- MicroPython's behaviour -------------------------------------------------------

    def __bytes__(self) -> bytes:
        return self._data

    def __buffer__(self, flags: int) -> memoryview:
        return memoryview(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, UUID):
            return NotImplemented
        return self._data == other._data

    def __lt__(self, other: UUID) -> bool:
        if not isinstance(other, UUID):
            return NotImplemented
        return self._key() < other._key()

    def __le__(self, other: UUID) -> bool:
        if not isinstance(other, UUID):
            return NotImplemented
        return self._key() <= other._key()

    def __gt__(self, other: UUID) -> bool:
        if not isinstance(other, UUID):
            return NotImplemented
        return self._key() > other._key()

    def __ge__(self, other: UUID) -> bool:
        if not isinstance(other, UUID):
            return NotImplemented
        return self._key() >= other._key()

    def _key(self) -> tuple[int, bytes]:
        return len(self._data), self._data[::-1]

    def __hash__(self) -> int:
        return hash(("bluetooth.UUID", self._data))

    def __repr__(self) -> str:
        d = self._data
        if len(d) == 2:
            return f"UUID(0x{int.from_bytes(d, 'little'):04x})"
        if len(d) == 4:
            return f"UUID(0x{int.from_bytes(d, 'little'):08x})"
        h = d[::-1].hex()
        return f"UUID('{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}')"

    __str__ = __repr__

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("UUID is immutable")

    @property
    def bits(self) -> int:
        """16, 32 or 128 (blesim's addition, for tests and tools)."""
        return len(self._data) * 8


def _parse_hex(text: str) -> bytes:
    digits: list[int] = []
    for ch in text:
        if ch == "-":
            continue
        if ch not in "0123456789abcdefABCDEF":
            raise ValueError("invalid char in UUID")
        digits.append(int(ch, 16))
        if len(digits) > 32:
            raise ValueError("UUID too long")
    if len(digits) < 32:
        raise ValueError("UUID too short")
    msb_first = bytes((digits[i] << 4) | digits[i + 1] for i in range(0, 32, 2))
    return msb_first[::-1]


def to_host_uuid(uuid: UUID, *, nimble: bool = True) -> HostUUID:
    """The host's UUID for ``uuid``; 32-bit values as NimBLE's ``create_nimble_uuid``
    builds them when ``nimble``."""
    data = uuid._data
    if len(data) == 4 and nimble:
        data = bytes((data[0], data[1], data[1], data[1]))
    return HostUUID(data)


def from_host_uuid(uuid: HostUUID) -> UUID:
    """A ``bluetooth.UUID`` in the host UUID's own width (as discovery reports it)."""
    return UUID(uuid.to_bytes())
