"""Declarative HCI codecs: frozen dataclasses whose fields carry their wire format.

A command, event or return-parameter class lists its parameters in specification
order; each field's metadata names its wire type (``u8()``, ``u16()``, ``bd_addr()``,
``fixed(n)``, ``rest()`` ...). :class:`Packed` encodes and decodes them generically;
classes whose layout is not a flat list (arrays of reports, for instance) override
``parameters()`` and ``from_parameters()``.

Multi-octet integers are little-endian as on the HCI (Vol 4 Part E 5.2). ``BD_ADDR``
fields are 6 ``bytes`` in HCI (little-endian) order; :mod:`linklayer.address` converts
to and from the printed form.
"""

from __future__ import annotations

import dataclasses
import struct
from typing import Any, ClassVar, Self


class HciDecodeError(ValueError):
    """The bytes do not form a valid packet of the expected kind."""


class WireType:
    """How one parameter is written on the HCI."""

    size: int | None = None  # None: variable (consumes the rest or is length-prefixed)

    def encode(self, value: Any) -> bytes:  # pragma: no cover - interface
        raise NotImplementedError

    def decode(self, data: bytes, offset: int) -> tuple[Any, int]:  # pragma: no cover
        raise NotImplementedError


class _UInt(WireType):
    def __init__(self, size: int, signed: bool = False) -> None:
        self.size = size
        self.signed = signed

    def encode(self, value: Any) -> bytes:
        try:
            return int(value).to_bytes(self.size or 0, "little", signed=self.signed)
        except OverflowError as exc:
            raise ValueError(f"{value} does not fit in {self.size} octets") from exc

    def decode(self, data: bytes, offset: int) -> tuple[Any, int]:
        end = offset + (self.size or 0)
        if end > len(data):
            raise HciDecodeError("truncated integer parameter")
        return int.from_bytes(data[offset:end], "little", signed=self.signed), end


class _Fixed(WireType):
    def __init__(self, size: int) -> None:
        self.size = size

    def encode(self, value: Any) -> bytes:
        raw = bytes(value)
        if len(raw) != self.size:
            raise ValueError(f"expected {self.size} octets, got {len(raw)}")
        return raw

    def decode(self, data: bytes, offset: int) -> tuple[Any, int]:
        end = offset + (self.size or 0)
        if end > len(data):
            raise HciDecodeError("truncated fixed-size parameter")
        return bytes(data[offset:end]), end


class _Rest(WireType):
    def encode(self, value: Any) -> bytes:
        return bytes(value)

    def decode(self, data: bytes, offset: int) -> tuple[Any, int]:
        return bytes(data[offset:]), len(data)


class _LengthPrefixed(WireType):
    """One length octet, then that many octets (e.g. Advertising_Data in v1 commands)."""

    def encode(self, value: Any) -> bytes:
        raw = bytes(value)
        if len(raw) > 255:
            raise ValueError("length-prefixed parameter longer than 255 octets")
        return bytes([len(raw)]) + raw

    def decode(self, data: bytes, offset: int) -> tuple[Any, int]:
        if offset >= len(data):
            raise HciDecodeError("missing length octet")
        n = data[offset]
        end = offset + 1 + n
        if end > len(data):
            raise HciDecodeError("length octet runs past the end of the packet")
        return bytes(data[offset + 1 : end]), end


U8 = _UInt(1)
U16 = _UInt(2)
U24 = _UInt(3)
U32 = _UInt(4)
U40 = _UInt(5)
U64 = _UInt(8)
I8 = _UInt(1, signed=True)
BD_ADDR = _Fixed(6)
REST = _Rest()
LENGTH_PREFIXED = _LengthPrefixed()


def _f(wire: WireType, default: Any = dataclasses.MISSING) -> Any:
    if default is dataclasses.MISSING:
        return dataclasses.field(metadata={"hci": wire})
    return dataclasses.field(default=default, metadata={"hci": wire})


def u8(default: Any = dataclasses.MISSING) -> Any:
    return _f(U8, default)


def i8(default: Any = dataclasses.MISSING) -> Any:
    return _f(I8, default)


def u16(default: Any = dataclasses.MISSING) -> Any:
    return _f(U16, default)


def u24(default: Any = dataclasses.MISSING) -> Any:
    return _f(U24, default)


def u32(default: Any = dataclasses.MISSING) -> Any:
    return _f(U32, default)


def u40(default: Any = dataclasses.MISSING) -> Any:
    return _f(U40, default)


def u64(default: Any = dataclasses.MISSING) -> Any:
    return _f(U64, default)


def bd_addr(default: Any = dataclasses.MISSING) -> Any:
    return _f(BD_ADDR, default)


def fixed(size: int, default: Any = dataclasses.MISSING) -> Any:
    return _f(_Fixed(size), default)


def rest(default: Any = dataclasses.MISSING) -> Any:
    """The remaining octets of the packet (must be the last field)."""
    return _f(REST, default)


def length_prefixed(default: Any = dataclasses.MISSING) -> Any:
    return _f(LENGTH_PREFIXED, default)


_WIRE_FIELDS: dict[type, tuple[tuple[str, WireType], ...]] = {}


def _wire_fields(cls: type) -> tuple[tuple[str, WireType], ...]:
    """(name, wire type) of a class's HCI fields, computed once per class."""
    found = _WIRE_FIELDS.get(cls)
    if found is None:
        found = tuple(
            (f.name, f.metadata["hci"]) for f in dataclasses.fields(cls) if "hci" in f.metadata
        )
        _WIRE_FIELDS[cls] = found
    return found


@dataclasses.dataclass(frozen=True)
class Packed:
    """Base of every declarative HCI structure."""

    def parameters(self) -> bytes:
        """The parameter octets, in field order."""
        out = bytearray()
        for name, wire in _wire_fields(type(self)):
            out += wire.encode(getattr(self, name))
        return bytes(out)

    @classmethod
    def from_parameters(cls, data: bytes) -> Self:
        """Decode the parameter octets; raises :class:`HciDecodeError` when malformed."""
        values: dict[str, Any] = {}
        offset = 0
        for name, wire in _wire_fields(cls):
            values[name], offset = wire.decode(data, offset)
        if offset != len(data):
            raise HciDecodeError(
                f"{cls.__name__}: {len(data) - offset} unexpected trailing octet(s)"
            )
        return cls(**values)


def opcode(ogf: int, ocf: int) -> int:
    """An HCI command opcode from its group and command fields (Vol 4 Part E 5.4.1)."""
    return (ogf << 10) | ocf


@dataclasses.dataclass(frozen=True)
class ReturnParameters(Packed):
    """Return parameters of a command, carried by HCI_Command_Complete."""


@dataclasses.dataclass(frozen=True)
class StatusReturn(ReturnParameters):
    """Return parameters that are just a Status octet."""

    status: int = u8()


@dataclasses.dataclass(frozen=True)
class HciCommand(Packed):
    """An HCI command packet (Vol 4 Part E 5.4.1), without the H4 type octet."""

    OPCODE: ClassVar[int] = -1
    #: The class of the return parameters this command's Command_Complete carries;
    #: ``None`` for commands answered with Command_Status.
    RETURNS: ClassVar[type[ReturnParameters] | None] = StatusReturn

    def to_bytes(self) -> bytes:
        params = self.parameters()
        if len(params) > 255:
            raise ValueError("command parameters longer than 255 octets")
        return struct.pack("<HB", self.OPCODE, len(params)) + params


@dataclasses.dataclass(frozen=True)
class HciEvent(Packed):
    """An HCI event packet (Vol 4 Part E 5.4.4), without the H4 type octet."""

    EVENT_CODE: ClassVar[int] = -1

    def to_bytes(self) -> bytes:
        params = self.parameters()
        if len(params) > 255:
            raise ValueError("event parameters longer than 255 octets")
        return bytes([self.EVENT_CODE, len(params)]) + params


HCI_LE_META_EVENT = 0x3E


@dataclasses.dataclass(frozen=True)
class HciLeMetaEvent(HciEvent):
    """An LE Meta event (0x3E): the subevent code is the first parameter octet."""

    EVENT_CODE: ClassVar[int] = HCI_LE_META_EVENT
    SUBEVENT_CODE: ClassVar[int] = -1

    def to_bytes(self) -> bytes:
        params = bytes([self.SUBEVENT_CODE]) + self.parameters()
        if len(params) > 255:
            raise ValueError("event parameters longer than 255 octets")
        return bytes([self.EVENT_CODE, len(params)]) + params
