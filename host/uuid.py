"""Bluetooth UUIDs: 16-, 32- and 128-bit forms over the Bluetooth Base UUID.

Theory of operation
-------------------
Every Bluetooth UUID is a 128-bit value. The 16- and 32-bit forms are shorthands for
``0000xxxx-0000-1000-8000-00805F9B34FB`` / ``xxxxxxxx-0000-1000-8000-00805F9B34FB``
(Core Specification Vol 3 Part B 2.5.1): ``value128 = short * 2**96 + BASE``.

:class:`UUID` keeps the full 128-bit value plus the width it was created with (its *own
form*). Equality and hashing use the 128-bit value only, so ``UUID(0x180F)`` equals
``UUID("0000180F-0000-1000-8000-00805F9B34FB")`` and both land in the same dict slot.
:meth:`UUID.to_bytes` writes the own form in air order (little-endian, Vol 3 Part F 3.2.1);
``to_bytes(16)``/``to_bytes(32)``/``to_bytes(128)`` force a width, which fails with
:class:`UUIDError` when the value has no such short form.

Accepted inputs: ``int`` (<= 0xFFFF: 16-bit, <= 0xFFFFFFFF: 32-bit, else the full 128-bit
value), ``str`` ("0x180F", "180F", "0000180F", "6E400001-B5A3-F393-E0A9-E50E24DCCA9E",
dashes optional), ``bytes`` in air order (2, 4 or 16 octets), or another :class:`UUID`.
"""

from __future__ import annotations

from typing import Any, Final, NoReturn

__all__ = ["BASE_UUID", "UUID", "UUIDError"]

#: The Bluetooth Base UUID 00000000-0000-1000-8000-00805F9B34FB (Vol 3 Part B 2.5.1).
BASE_UUID: Final = 0x00000000_0000_1000_8000_00805F9B34FB
_BASE_MASK: Final = (1 << 96) - 1  # the low 96 bits that must equal the base
_HEX_DIGITS: Final = frozenset("0123456789abcdefABCDEF")


class UUIDError(ValueError):
    """A UUID could not be built from the given value, or has no requested short form."""


class UUID:
    """An immutable Bluetooth UUID (Core Specification Vol 3 Part B 2.5.1).

    ``UUID(0x180F)``, ``UUID("180F")``, ``UUID(b"\\x0f\\x18")`` and
    ``UUID("0000180F-0000-1000-8000-00805F9B34FB")`` are all equal. ``bits`` is the own
    form (16, 32 or 128) used by :meth:`to_bytes` and :func:`str`.
    """

    __slots__ = ("_value", "_bits")

    _value: int
    _bits: int

    def __init__(self, value: int | str | bytes | bytearray | memoryview | UUID) -> None:
        if isinstance(value, UUID):
            v128, bits = value._value, value._bits
        elif isinstance(value, bool):
            raise UUIDError("a UUID cannot be built from a bool")
        elif isinstance(value, int):
            v128, bits = _from_int(value)
        elif isinstance(value, str):
            v128, bits = _from_str(value)
        elif isinstance(value, (bytes, bytearray, memoryview)):
            v128, bits = _from_bytes(bytes(value))
        else:
            raise UUIDError(f"cannot build a UUID from {type(value).__name__}")
        object.__setattr__(self, "_value", v128)
        object.__setattr__(self, "_bits", bits)

    # -- alternative constructors --------------------------------------------------------

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> UUID:
        """Build from 2, 4 or 16 octets in air order (little-endian)."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise UUIDError(f"expected bytes, got {type(data).__name__}")
        return cls(bytes(data))

    @classmethod
    def from_int(cls, value: int) -> UUID:
        """Build from an integer: 16-bit if <= 0xFFFF, 32-bit if <= 0xFFFFFFFF, else 128-bit."""
        if not isinstance(value, int) or isinstance(value, bool):
            raise UUIDError(f"expected an int, got {type(value).__name__}")
        return cls(value)

    @classmethod
    def from_str(cls, text: str) -> UUID:
        """Build from "0x180F", "180F", "0000180F" or a 128-bit string (dashes optional)."""
        if not isinstance(text, str):
            raise UUIDError(f"expected a str, got {type(text).__name__}")
        return cls(text)

    @classmethod
    def from_128(cls, value: int) -> UUID:
        """Build a UUID whose own form is 128 bits from its full 128-bit integer value."""
        if not 0 <= value < 1 << 128:
            raise UUIDError(f"{value:#x} is not a 128-bit value")
        u = cls.__new__(cls)
        object.__setattr__(u, "_value", value)
        object.__setattr__(u, "_bits", 128)
        return u

    # -- properties ----------------------------------------------------------------------

    @property
    def bits(self) -> int:
        """The own form: 16, 32 or 128."""
        return self._bits

    @property
    def value(self) -> int:
        """The full 128-bit integer value."""
        return self._value

    @property
    def is_base_derived(self) -> bool:
        """True if this UUID has a 32-bit (and maybe 16-bit) shorthand over the Base UUID."""
        return (self._value & _BASE_MASK) == BASE_UUID

    @property
    def short_value(self) -> int | None:
        """The 16/32-bit shorthand value, or ``None`` for a UUID not over the Base UUID."""
        if not self.is_base_derived:
            return None
        return self._value >> 96

    @property
    def shortest_bits(self) -> int:
        """The shortest width able to carry this UUID: 16, 32 or 128."""
        short = self.short_value
        if short is None:
            return 128
        return 16 if short <= 0xFFFF else 32

    # -- conversions ---------------------------------------------------------------------

    def to_bytes(self, bits: int | None = None) -> bytes:
        """Air-order (little-endian) octets, in the own form or the given width (16/32/128)."""
        width = self._bits if bits is None else bits
        if width == 128:
            return self._value.to_bytes(16, "little")
        if width not in (16, 32):
            raise UUIDError(f"a UUID width is 16, 32 or 128 bits, not {width}")
        short = self.short_value
        if short is None:
            raise UUIDError(f"{self} is not based on the Bluetooth Base UUID: no {width}-bit form")
        if short >> width:
            raise UUIDError(f"{self} does not fit in {width} bits")
        return short.to_bytes(width // 8, "little")

    def to_128(self) -> UUID:
        """The same UUID with a 128-bit own form."""
        return UUID.from_128(self._value)

    def shortest(self) -> UUID:
        """The same UUID in its shortest own form (16, 32 or 128 bits)."""
        return self._with_bits(self.shortest_bits)

    def __int__(self) -> int:
        """The own-form integer: the 16/32-bit shorthand, or the full 128-bit value."""
        if self._bits == 128:
            return self._value
        return self._value >> 96

    def __str__(self) -> str:
        """Canonical form: "0x180F", "0x0000FEED" or "6E400001-B5A3-F393-E0A9-E50E24DCCA9E"."""
        if self._bits == 16:
            return f"0x{self._value >> 96:04X}"
        if self._bits == 32:
            return f"0x{self._value >> 96:08X}"
        h = f"{self._value:032X}"
        return f"{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"

    def __repr__(self) -> str:
        return f"UUID({str(self)!r})"

    # -- value semantics -------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if isinstance(other, UUID):
            return self._value == other._value
        return NotImplemented

    def __hash__(self) -> int:
        return hash(("UUID", self._value))

    def __lt__(self, other: UUID) -> bool:
        if not isinstance(other, UUID):
            return NotImplemented
        return self._value < other._value

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError("UUID is immutable")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError("UUID is immutable")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self._value, self._bits))

    def _with_bits(self, bits: int) -> UUID:
        u = UUID.__new__(UUID)
        object.__setattr__(u, "_value", self._value)
        object.__setattr__(u, "_bits", bits)
        return u


def _rebuild(value: int, bits: int) -> UUID:
    return UUID.from_128(value)._with_bits(bits)


def _short_to_128(short: int) -> int:
    return (short << 96) | BASE_UUID


def _from_int(value: int) -> tuple[int, int]:
    if value < 0:
        raise UUIDError(f"a UUID cannot be negative ({value})")
    if value <= 0xFFFF:
        return _short_to_128(value), 16
    if value <= 0xFFFFFFFF:
        return _short_to_128(value), 32
    if value < 1 << 128:
        return value, 128
    raise UUIDError(f"{value:#x} is longer than 128 bits")


def _from_str(text: str) -> tuple[int, int]:
    s = text.strip()
    if s[:2].lower() == "0x":
        s = s[2:]
    if "-" in s:
        groups = s.split("-")
        if [len(g) for g in groups] != [8, 4, 4, 4, 12]:
            raise UUIDError(
                f"invalid UUID string {text!r}: expected 8-4-4-4-12 hex digits "
                "(e.g. 6E400001-B5A3-F393-E0A9-E50E24DCCA9E)"
            )
        s = "".join(groups)
    if not s or not set(s) <= _HEX_DIGITS:
        raise UUIDError(f"invalid UUID string {text!r}: not hexadecimal")
    n = int(s, 16)
    if len(s) == 4:
        return _short_to_128(n), 16
    if len(s) == 8:
        return _short_to_128(n), 32
    if len(s) == 32:
        return n, 128
    raise UUIDError(
        f"invalid UUID string {text!r}: expected 4, 8 or 32 hex digits, got {len(s)}"
    )


def _from_bytes(data: bytes) -> tuple[int, int]:
    n = int.from_bytes(data, "little")
    if len(data) == 2:
        return _short_to_128(n), 16
    if len(data) == 4:
        return _short_to_128(n), 32
    if len(data) == 16:
        return n, 128
    raise UUIDError(f"a UUID is 2, 4 or 16 octets, got {len(data)}")
