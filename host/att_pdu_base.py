"""Shared machinery of the ATT PDU modules (Core Specification Vol 3 Part F 3.3).

Theory of operation
-------------------
An ATT PDU is one opcode octet followed by parameters. :class:`AttPdu` is the base of
every PDU class: it encodes the whole PDU, opcode included (``to_bytes()``), and
``Class.from_bytes(data)`` checks the opcode, hands the parameters to a :class:`_Reader`
and refuses trailing octets. Flat PDUs only declare fields with wire metadata
(:func:`_u8f`, :func:`_u16f`, :func:`_uuidf`, :func:`_restf`); PDUs holding lists
override ``_encode_parameters`` / ``_decode_parameters``.

:func:`_register` records each PDU class in :data:`ATT_PDU_CLASSES` (opcode -> class);
the classes live in :mod:`host.att_pdu_read` (errors, MTU, discovery, reads) and
:mod:`host.att_pdu_write` (writes, queued writes, server-initiated PDUs), and
:mod:`host.att_pdu` imports both and dispatches with ``decode_att_pdu``. The
underscore helpers here are shared by those two modules only: import PDUs and
:func:`~host.att_pdu.decode_att_pdu` from :mod:`host.att_pdu`.

Every shortfall while reading becomes :class:`~host.att_constants.AttDecodeError`
carrying the opcode, never IndexError.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, NoReturn, Self, TypeVar

from host.att_constants import AttDecodeError
from host.uuid import UUID

__all__ = ["ATT_PDU_CLASSES", "AttPdu"]


# ---------------------------------------------------------------------------------------
# Wire helpers
# ---------------------------------------------------------------------------------------


class _Reader:
    """Reads parameters of one PDU; every shortfall becomes AttDecodeError(opcode)."""

    def __init__(self, opcode: int, data: bytes, offset: int = 1) -> None:
        self.opcode = opcode
        self.data = data
        self.offset = offset

    @property
    def remaining(self) -> int:
        return len(self.data) - self.offset

    def fail(self, reason: str) -> NoReturn:
        raise AttDecodeError(self.opcode, reason)

    def take(self, n: int, what: str) -> bytes:
        if self.remaining < n:
            self.fail(f"truncated {what}: need {n} octets, have {self.remaining}")
        out = self.data[self.offset : self.offset + n]
        self.offset += n
        return out

    def u8(self, what: str) -> int:
        return self.take(1, what)[0]

    def u16(self, what: str) -> int:
        return int.from_bytes(self.take(2, what), "little")

    def rest(self) -> bytes:
        out = self.data[self.offset :]
        self.offset = len(self.data)
        return out

    def uuid_rest(self, what: str) -> UUID:
        n = self.remaining
        if n not in (2, 16):
            self.fail(f"{what} must be a 2- or 16-octet UUID, got {n} octets")
        return UUID.from_bytes(self.rest())

    def end(self) -> None:
        if self.remaining:
            self.fail(f"{self.remaining} unexpected trailing octets")


def _u8(value: int, what: str) -> bytes:
    if not 0 <= value <= 0xFF:
        raise ValueError(f"{what}={value} does not fit in one octet")
    return bytes((value,))


def _u16(value: int, what: str) -> bytes:
    if not 0 <= value <= 0xFFFF:
        raise ValueError(f"{what}={value} does not fit in two octets")
    return value.to_bytes(2, "little")


def _att_uuid(uuid: UUID) -> bytes:
    """A UUID parameter: 2 octets if its own form is 16-bit, else 16 octets."""
    return uuid.to_bytes(16 if uuid.bits == 16 else 128)


def _field(kind: str) -> Any:
    return dataclasses.field(metadata={"att": kind})


def _u8f() -> Any:
    return _field("u8")


def _u16f() -> Any:
    return _field("u16")


def _uuidf() -> Any:
    return _field("uuid")


def _restf() -> Any:
    return _field("rest")


# ---------------------------------------------------------------------------------------
# Base class and registry
# ---------------------------------------------------------------------------------------

#: Opcode -> PDU class, filled by :func:`_register`.
ATT_PDU_CLASSES: dict[int, type[AttPdu]] = {}


@dataclasses.dataclass(frozen=True)
class AttPdu:
    """Base of all ATT PDUs (Vol 3 Part F 3.3). ``to_bytes()`` includes the opcode.

    Subclasses made of flat parameters only declare fields with wire metadata; others
    override :meth:`_encode_parameters` and :meth:`_decode_parameters`.
    """

    opcode: ClassVar[int]

    def to_bytes(self) -> bytes:
        """The whole PDU: opcode then parameters."""
        return bytes((self.opcode,)) + self._encode_parameters()

    def __bytes__(self) -> bytes:
        return self.to_bytes()

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> Self:
        """Decode a whole PDU of this kind (opcode included)."""
        raw = bytes(data)
        if not raw:
            raise AttDecodeError(None, "empty PDU")
        if raw[0] != cls.opcode:
            raise AttDecodeError(
                raw[0], f"opcode 0x{raw[0]:02X} is not {cls.__name__} (0x{cls.opcode:02X})"
            )
        reader = _Reader(cls.opcode, raw, 1)
        pdu = cls._decode_parameters(reader)
        reader.end()
        return pdu

    def _encode_parameters(self) -> bytes:
        out = bytearray()
        for name, kind in _att_fields(type(self)):
            value = getattr(self, name)
            if kind == "u8":
                out += _u8(value, name)
            elif kind == "u16":
                out += _u16(value, name)
            elif kind == "uuid":
                out += _att_uuid(value)
            elif kind == "rest":
                out += bytes(value)
            else:  # pragma: no cover - programming error in a subclass
                raise TypeError(f"{type(self).__name__}.{name} has no wire format")
        return bytes(out)

    @classmethod
    def _decode_parameters(cls, reader: _Reader) -> Self:
        kwargs: dict[str, Any] = {}
        for name, kind in _att_fields(cls):
            if kind == "u8":
                kwargs[name] = reader.u8(name)
            elif kind == "u16":
                kwargs[name] = reader.u16(name)
            elif kind == "uuid":
                kwargs[name] = reader.uuid_rest(name)
            elif kind == "rest":
                kwargs[name] = reader.rest()
            else:  # pragma: no cover - programming error in a subclass
                raise TypeError(f"{cls.__name__}.{name} has no wire format")
        return cls(**kwargs)


_ATT_FIELDS: dict[type, tuple[tuple[str, object], ...]] = {}


def _att_fields(cls: type) -> tuple[tuple[str, object], ...]:
    """(name, wire kind) of a PDU class's fields, computed once per class."""
    found = _ATT_FIELDS.get(cls)
    if found is None:
        found = tuple((f.name, f.metadata.get("att")) for f in dataclasses.fields(cls))
        _ATT_FIELDS[cls] = found
    return found


_P = TypeVar("_P", bound="type[AttPdu]")


def _register(cls: _P) -> _P:
    if cls.opcode in ATT_PDU_CLASSES:  # pragma: no cover - programming error
        raise RuntimeError(f"duplicate ATT opcode 0x{cls.opcode:02X}")
    ATT_PDU_CLASSES[cls.opcode] = cls
    return cls
