"""ATT PDUs (Core Specification Vol 3 Part F 3.3, 3.4) as frozen dataclasses.

Theory of operation
-------------------
An ATT PDU is one opcode octet followed by parameters (Vol 3 Part F 3.3). The opcode
packs the method (bits 0-5), the Command Flag (bit 6) and the Authentication Signature
Flag (bit 7); the helpers :func:`is_command`, :func:`has_signature`, :func:`is_request`,
:func:`is_response`, :func:`is_notification`, :func:`is_indication` and
:func:`is_confirmation` classify an opcode, and :func:`response_opcode` gives the
response expected for a request.

Each PDU class carries its opcode as a class variable and encodes to the full PDU,
opcode included (``to_bytes()``); ``Class.from_bytes(data)`` decodes one kind and
:func:`decode_att_pdu` dispatches on the opcode through :data:`ATT_PDU_CLASSES`.
Most PDUs are flat lists of parameters described by field metadata (``u8``, ``u16``,
a UUID filling the rest, or the rest as bytes); PDUs holding lists (Find Information,
Read By Type, ...) encode and decode themselves. Lists are tuples of small named tuples
(:class:`AttributeData` ...) so PDUs stay hashable and immutable.

Decoding is strict: a short PDU, trailing octets, a bad length field or a bad format
raises :class:`AttDecodeError` carrying the opcode, so a server can answer
``ATT_ERROR_RSP(opcode, 0x0000, INVALID_PDU)``; an opcode this module does not know
raises :class:`UnknownAttOpcode` (a server answers REQUEST_NOT_SUPPORTED to unknown
requests and ignores unknown commands, Vol 3 Part F 3.4.1.1 / 3.3). Semantic checks
(handle 0, MTU below 23, value longer than 512) belong to the bearer and the server.

Opcodes, error codes, the opcode classifiers and the error classes live in
:mod:`host.att_constants` (split for size) and are re-exported here.

UUIDs are :class:`host.uuid.UUID`. A UUID parameter is written in its own form when
that is 16 bits and as 128 bits otherwise (ATT carries only 16- and 128-bit UUIDs,
Vol 3 Part F 3.2.1), so decoding then encoding gives back the same bytes.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, NamedTuple, NoReturn, Self, TypeVar

from host.att_constants import (
    ATT_DEFAULT_LE_MTU,
    ATT_MAX_ATTRIBUTE_VALUE_LENGTH,
    ATT_SIGNATURE_LENGTH,
    AttDecodeError,
    AttErrorCode,
    AttExecuteWriteFlags,
    AttMethodType,
    AttOpcode,
    AttPduError,
    UnknownAttOpcode,
    has_signature,
    is_command,
    is_confirmation,
    is_indication,
    is_notification,
    is_request,
    is_response,
    method_type,
    response_opcode,
)
from host.uuid import UUID

__all__ = [
    "ATT_DEFAULT_LE_MTU", "ATT_ERROR_RSP", "ATT_EXCHANGE_MTU_REQ",
    "ATT_EXCHANGE_MTU_RSP", "ATT_EXECUTE_WRITE_REQ", "ATT_EXECUTE_WRITE_RSP",
    "ATT_FIND_BY_TYPE_VALUE_REQ", "ATT_FIND_BY_TYPE_VALUE_RSP",
    "ATT_FIND_INFORMATION_REQ", "ATT_FIND_INFORMATION_RSP", "ATT_HANDLE_VALUE_CFM",
    "ATT_HANDLE_VALUE_IND", "ATT_HANDLE_VALUE_NTF", "ATT_MAX_ATTRIBUTE_VALUE_LENGTH",
    "ATT_MULTIPLE_HANDLE_VALUE_NTF", "ATT_PDU_CLASSES", "ATT_PREPARE_WRITE_REQ",
    "ATT_PREPARE_WRITE_RSP", "ATT_READ_BLOB_REQ", "ATT_READ_BLOB_RSP",
    "ATT_READ_BY_GROUP_TYPE_REQ", "ATT_READ_BY_GROUP_TYPE_RSP", "ATT_READ_BY_TYPE_REQ",
    "ATT_READ_BY_TYPE_RSP", "ATT_READ_MULTIPLE_REQ", "ATT_READ_MULTIPLE_RSP",
    "ATT_READ_MULTIPLE_VARIABLE_REQ", "ATT_READ_MULTIPLE_VARIABLE_RSP", "ATT_READ_REQ",
    "ATT_READ_RSP", "ATT_SIGNATURE_LENGTH", "ATT_SIGNED_WRITE_CMD", "ATT_WRITE_CMD",
    "ATT_WRITE_REQ", "ATT_WRITE_RSP", "AttDecodeError", "AttErrorCode",
    "AttExecuteWriteFlags", "AttMethodType", "AttOpcode", "AttPdu", "AttPduError",
    "AttributeData", "GroupAttributeData", "HandleLengthValue", "HandlesInformation",
    "InformationData", "LengthValueTuple", "UnknownAttOpcode", "decode_att_pdu",
    "has_signature", "is_command", "is_confirmation", "is_indication",
    "is_notification", "is_request", "is_response", "method_type", "response_opcode",
]


# ---------------------------------------------------------------------------------------
# List elements
# ---------------------------------------------------------------------------------------


class InformationData(NamedTuple):
    """One (Handle, UUID) pair of ATT_FIND_INFORMATION_RSP (Vol 3 Part F 3.4.3.2)."""

    handle: int
    uuid: UUID


class HandlesInformation(NamedTuple):
    """One entry of ATT_FIND_BY_TYPE_VALUE_RSP (Vol 3 Part F 3.4.3.4)."""

    found_attribute_handle: int
    group_end_handle: int


class AttributeData(NamedTuple):
    """One (Handle, Value) entry of ATT_READ_BY_TYPE_RSP (Vol 3 Part F 3.4.4.2)."""

    handle: int
    value: bytes


class GroupAttributeData(NamedTuple):
    """One entry of ATT_READ_BY_GROUP_TYPE_RSP (Vol 3 Part F 3.4.4.10)."""

    attribute_handle: int
    end_group_handle: int
    attribute_value: bytes


class LengthValueTuple(NamedTuple):
    """One entry of ATT_READ_MULTIPLE_VARIABLE_RSP (Vol 3 Part F 3.4.4.12).

    ``length`` is the full attribute value length; only the last entry's ``value`` may
    be shorter, when the response was cut to ATT_MTU - 1 octets.
    """

    length: int
    value: bytes


class HandleLengthValue(NamedTuple):
    """One entry of ATT_MULTIPLE_HANDLE_VALUE_NTF (Vol 3 Part F 3.4.7.4); the Length
    field is ``len(value)``."""

    handle: int
    value: bytes


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
        for f in dataclasses.fields(self):
            kind = f.metadata.get("att")
            value = getattr(self, f.name)
            if kind == "u8":
                out += _u8(value, f.name)
            elif kind == "u16":
                out += _u16(value, f.name)
            elif kind == "uuid":
                out += _att_uuid(value)
            elif kind == "rest":
                out += bytes(value)
            else:  # pragma: no cover - programming error in a subclass
                raise TypeError(f"{type(self).__name__}.{f.name} has no wire format")
        return bytes(out)

    @classmethod
    def _decode_parameters(cls, reader: _Reader) -> Self:
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            kind = f.metadata.get("att")
            if kind == "u8":
                kwargs[f.name] = reader.u8(f.name)
            elif kind == "u16":
                kwargs[f.name] = reader.u16(f.name)
            elif kind == "uuid":
                kwargs[f.name] = reader.uuid_rest(f.name)
            elif kind == "rest":
                kwargs[f.name] = reader.rest()
            else:  # pragma: no cover - programming error in a subclass
                raise TypeError(f"{cls.__name__}.{f.name} has no wire format")
        return cls(**kwargs)


_P = TypeVar("_P", bound="type[AttPdu]")


def _register(cls: _P) -> _P:
    if cls.opcode in ATT_PDU_CLASSES:  # pragma: no cover - programming error
        raise RuntimeError(f"duplicate ATT opcode 0x{cls.opcode:02X}")
    ATT_PDU_CLASSES[cls.opcode] = cls
    return cls


def decode_att_pdu(data: bytes | bytearray | memoryview) -> AttPdu:
    """Decode any ATT PDU (Vol 3 Part F 3.4).

    Raises :class:`AttDecodeError` for a malformed PDU of a known opcode (and for an
    empty PDU, with ``opcode=None``) and :class:`UnknownAttOpcode` for an unknown opcode.
    """
    raw = bytes(data)
    if not raw:
        raise AttDecodeError(None, "empty PDU")
    cls = ATT_PDU_CLASSES.get(raw[0])
    if cls is None:
        raise UnknownAttOpcode(raw[0])
    return cls.from_bytes(raw)


# ---------------------------------------------------------------------------------------
# Error handling, MTU exchange (3.4.1, 3.4.2)
# ---------------------------------------------------------------------------------------


@_register
@dataclasses.dataclass(frozen=True)
class ATT_ERROR_RSP(AttPdu):
    """Vol 3 Part F 3.4.1.1. ``error_code`` is an :class:`AttErrorCode` when known."""

    opcode: ClassVar[int] = AttOpcode.ATT_ERROR_RSP
    request_opcode_in_error: int = _u8f()
    attribute_handle_in_error: int = _u16f()
    error_code: int = _u8f()

    @classmethod
    def _decode_parameters(cls, reader: _Reader) -> Self:
        req = reader.u8("request_opcode_in_error")
        handle = reader.u16("attribute_handle_in_error")
        code = reader.u8("error_code")
        error: int = AttErrorCode(code) if code in AttErrorCode._value2member_map_ else code
        return cls(req, handle, error)


@_register
@dataclasses.dataclass(frozen=True)
class ATT_EXCHANGE_MTU_REQ(AttPdu):
    """Vol 3 Part F 3.4.2.1."""

    opcode: ClassVar[int] = AttOpcode.ATT_EXCHANGE_MTU_REQ
    client_rx_mtu: int = _u16f()


@_register
@dataclasses.dataclass(frozen=True)
class ATT_EXCHANGE_MTU_RSP(AttPdu):
    """Vol 3 Part F 3.4.2.2."""

    opcode: ClassVar[int] = AttOpcode.ATT_EXCHANGE_MTU_RSP
    server_rx_mtu: int = _u16f()


# ---------------------------------------------------------------------------------------
# Find information (3.4.3)
# ---------------------------------------------------------------------------------------


@_register
@dataclasses.dataclass(frozen=True)
class ATT_FIND_INFORMATION_REQ(AttPdu):
    """Vol 3 Part F 3.4.3.1."""

    opcode: ClassVar[int] = AttOpcode.ATT_FIND_INFORMATION_REQ
    starting_handle: int = _u16f()
    ending_handle: int = _u16f()


@_register
@dataclasses.dataclass(frozen=True)
class ATT_FIND_INFORMATION_RSP(AttPdu):
    """Vol 3 Part F 3.4.3.2.

    ``format`` is derived: 1 (16-bit UUIDs) when every UUID's own form is 16-bit,
    else 2 (all written as 128-bit UUIDs).
    """

    opcode: ClassVar[int] = AttOpcode.ATT_FIND_INFORMATION_RSP
    FORMAT_16BIT: ClassVar[int] = 0x01
    FORMAT_128BIT: ClassVar[int] = 0x02
    information_data: tuple[InformationData, ...]

    @property
    def format(self) -> int:
        if all(uuid.bits == 16 for _, uuid in self.information_data):
            return self.FORMAT_16BIT
        return self.FORMAT_128BIT

    def _encode_parameters(self) -> bytes:
        if not self.information_data:
            raise ValueError("ATT_FIND_INFORMATION_RSP needs at least one entry")
        fmt = self.format
        bits = 16 if fmt == self.FORMAT_16BIT else 128
        out = bytearray((fmt,))
        for handle, uuid in self.information_data:
            out += _u16(handle, "handle") + uuid.to_bytes(bits)
        return bytes(out)

    @classmethod
    def _decode_parameters(cls, reader: _Reader) -> Self:
        fmt = reader.u8("format")
        if fmt not in (cls.FORMAT_16BIT, cls.FORMAT_128BIT):
            reader.fail(f"reserved Find Information format 0x{fmt:02X}")
        size = 2 + (2 if fmt == cls.FORMAT_16BIT else 16)
        if reader.remaining == 0 or reader.remaining % size:
            reader.fail(f"information data of {reader.remaining} octets is not n*{size}, n>0")
        entries: list[InformationData] = []
        while reader.remaining:
            handle = reader.u16("handle")
            entries.append(InformationData(handle, UUID.from_bytes(reader.take(size - 2, "uuid"))))
        return cls(tuple(entries))


@_register
@dataclasses.dataclass(frozen=True)
class ATT_FIND_BY_TYPE_VALUE_REQ(AttPdu):
    """Vol 3 Part F 3.4.3.3. ``attribute_type`` is always a 16-bit UUID on the wire."""

    opcode: ClassVar[int] = AttOpcode.ATT_FIND_BY_TYPE_VALUE_REQ
    starting_handle: int
    ending_handle: int
    attribute_type: UUID
    attribute_value: bytes

    def _encode_parameters(self) -> bytes:
        return (
            _u16(self.starting_handle, "starting_handle")
            + _u16(self.ending_handle, "ending_handle")
            + self.attribute_type.to_bytes(16)
            + bytes(self.attribute_value)
        )

    @classmethod
    def _decode_parameters(cls, reader: _Reader) -> Self:
        start = reader.u16("starting_handle")
        end = reader.u16("ending_handle")
        uuid = UUID.from_bytes(reader.take(2, "attribute_type"))
        return cls(start, end, uuid, reader.rest())


@_register
@dataclasses.dataclass(frozen=True)
class ATT_FIND_BY_TYPE_VALUE_RSP(AttPdu):
    """Vol 3 Part F 3.4.3.4."""

    opcode: ClassVar[int] = AttOpcode.ATT_FIND_BY_TYPE_VALUE_RSP
    handles_information_list: tuple[HandlesInformation, ...]

    def _encode_parameters(self) -> bytes:
        if not self.handles_information_list:
            raise ValueError("ATT_FIND_BY_TYPE_VALUE_RSP needs at least one entry")
        return b"".join(
            _u16(found, "found_attribute_handle") + _u16(end, "group_end_handle")
            for found, end in self.handles_information_list
        )

    @classmethod
    def _decode_parameters(cls, reader: _Reader) -> Self:
        if reader.remaining == 0 or reader.remaining % 4:
            reader.fail(f"handles information list of {reader.remaining} octets is not n*4, n>0")
        entries: list[HandlesInformation] = []
        while reader.remaining:
            entries.append(HandlesInformation(reader.u16("found"), reader.u16("group_end")))
        return cls(tuple(entries))


# ---------------------------------------------------------------------------------------
# Reading attributes (3.4.4)
# ---------------------------------------------------------------------------------------


@_register
@dataclasses.dataclass(frozen=True)
class ATT_READ_BY_TYPE_REQ(AttPdu):
    """Vol 3 Part F 3.4.4.1. ``attribute_type``: 2 or 16 octets."""

    opcode: ClassVar[int] = AttOpcode.ATT_READ_BY_TYPE_REQ
    starting_handle: int = _u16f()
    ending_handle: int = _u16f()
    attribute_type: UUID = _uuidf()


@_register
@dataclasses.dataclass(frozen=True)
class ATT_READ_BY_TYPE_RSP(AttPdu):
    """Vol 3 Part F 3.4.4.2. ``length`` (each entry's size) is derived from the entries,
    which must all carry values of the same length."""

    opcode: ClassVar[int] = AttOpcode.ATT_READ_BY_TYPE_RSP
    attribute_data_list: tuple[AttributeData, ...]

    @property
    def length(self) -> int:
        if not self.attribute_data_list:
            raise ValueError("ATT_READ_BY_TYPE_RSP needs at least one entry")
        return 2 + len(self.attribute_data_list[0].value)

    def _encode_parameters(self) -> bytes:
        length = self.length
        out = bytearray(_u8(length, "length"))
        for handle, value in self.attribute_data_list:
            if 2 + len(value) != length:
                raise ValueError("ATT_READ_BY_TYPE_RSP values must all have the same length")
            out += _u16(handle, "handle") + bytes(value)
        return bytes(out)

    @classmethod
    def _decode_parameters(cls, reader: _Reader) -> Self:
        length = reader.u8("length")
        if length < 2:
            reader.fail(f"length {length} is below 2")
        if reader.remaining == 0 or reader.remaining % length:
            reader.fail(f"attribute data list of {reader.remaining} octets is not n*{length}")
        entries: list[AttributeData] = []
        while reader.remaining:
            handle = reader.u16("handle")
            entries.append(AttributeData(handle, reader.take(length - 2, "value")))
        return cls(tuple(entries))


@_register
@dataclasses.dataclass(frozen=True)
class ATT_READ_REQ(AttPdu):
    """Vol 3 Part F 3.4.4.3."""

    opcode: ClassVar[int] = AttOpcode.ATT_READ_REQ
    attribute_handle: int = _u16f()


@_register
@dataclasses.dataclass(frozen=True)
class ATT_READ_RSP(AttPdu):
    """Vol 3 Part F 3.4.4.4."""

    opcode: ClassVar[int] = AttOpcode.ATT_READ_RSP
    attribute_value: bytes = _restf()


@_register
@dataclasses.dataclass(frozen=True)
class ATT_READ_BLOB_REQ(AttPdu):
    """Vol 3 Part F 3.4.4.5."""

    opcode: ClassVar[int] = AttOpcode.ATT_READ_BLOB_REQ
    attribute_handle: int = _u16f()
    value_offset: int = _u16f()


@_register
@dataclasses.dataclass(frozen=True)
class ATT_READ_BLOB_RSP(AttPdu):
    """Vol 3 Part F 3.4.4.6."""

    opcode: ClassVar[int] = AttOpcode.ATT_READ_BLOB_RSP
    part_attribute_value: bytes = _restf()


def _encode_handles(handles: tuple[int, ...], name: str) -> bytes:
    if len(handles) < 2:
        raise ValueError(f"{name} needs at least two handles")
    return b"".join(_u16(h, "handle") for h in handles)


def _decode_handles(reader: _Reader) -> tuple[int, ...]:
    if reader.remaining < 4 or reader.remaining % 2:
        reader.fail(f"set of handles of {reader.remaining} octets: need 2*n octets, n >= 2")
    return tuple(reader.u16("handle") for _ in range(reader.remaining // 2))


@_register
@dataclasses.dataclass(frozen=True)
class ATT_READ_MULTIPLE_REQ(AttPdu):
    """Vol 3 Part F 3.4.4.7 (two or more handles)."""

    opcode: ClassVar[int] = AttOpcode.ATT_READ_MULTIPLE_REQ
    set_of_handles: tuple[int, ...]

    def _encode_parameters(self) -> bytes:
        return _encode_handles(self.set_of_handles, type(self).__name__)

    @classmethod
    def _decode_parameters(cls, reader: _Reader) -> Self:
        return cls(_decode_handles(reader))


@_register
@dataclasses.dataclass(frozen=True)
class ATT_READ_MULTIPLE_RSP(AttPdu):
    """Vol 3 Part F 3.4.4.8: the values concatenated, without lengths."""

    opcode: ClassVar[int] = AttOpcode.ATT_READ_MULTIPLE_RSP
    set_of_values: bytes = _restf()


@_register
@dataclasses.dataclass(frozen=True)
class ATT_READ_BY_GROUP_TYPE_REQ(AttPdu):
    """Vol 3 Part F 3.4.4.9. ``attribute_group_type``: 2 or 16 octets."""

    opcode: ClassVar[int] = AttOpcode.ATT_READ_BY_GROUP_TYPE_REQ
    starting_handle: int = _u16f()
    ending_handle: int = _u16f()
    attribute_group_type: UUID = _uuidf()


@_register
@dataclasses.dataclass(frozen=True)
class ATT_READ_BY_GROUP_TYPE_RSP(AttPdu):
    """Vol 3 Part F 3.4.4.10. ``length`` is derived as in :class:`ATT_READ_BY_TYPE_RSP`."""

    opcode: ClassVar[int] = AttOpcode.ATT_READ_BY_GROUP_TYPE_RSP
    attribute_data_list: tuple[GroupAttributeData, ...]

    @property
    def length(self) -> int:
        if not self.attribute_data_list:
            raise ValueError("ATT_READ_BY_GROUP_TYPE_RSP needs at least one entry")
        return 4 + len(self.attribute_data_list[0].attribute_value)

    def _encode_parameters(self) -> bytes:
        length = self.length
        out = bytearray(_u8(length, "length"))
        for handle, end, value in self.attribute_data_list:
            if 4 + len(value) != length:
                raise ValueError("ATT_READ_BY_GROUP_TYPE_RSP values must all have the same length")
            out += _u16(handle, "attribute_handle") + _u16(end, "end_group_handle") + bytes(value)
        return bytes(out)

    @classmethod
    def _decode_parameters(cls, reader: _Reader) -> Self:
        length = reader.u8("length")
        if length < 4:
            reader.fail(f"length {length} is below 4")
        if reader.remaining == 0 or reader.remaining % length:
            reader.fail(f"attribute data list of {reader.remaining} octets is not n*{length}")
        entries: list[GroupAttributeData] = []
        while reader.remaining:
            handle = reader.u16("attribute_handle")
            end = reader.u16("end_group_handle")
            entries.append(GroupAttributeData(handle, end, reader.take(length - 4, "value")))
        return cls(tuple(entries))


@_register
@dataclasses.dataclass(frozen=True)
class ATT_READ_MULTIPLE_VARIABLE_REQ(AttPdu):
    """Vol 3 Part F 3.4.4.11 (two or more handles)."""

    opcode: ClassVar[int] = AttOpcode.ATT_READ_MULTIPLE_VARIABLE_REQ
    set_of_handles: tuple[int, ...]

    def _encode_parameters(self) -> bytes:
        return _encode_handles(self.set_of_handles, type(self).__name__)

    @classmethod
    def _decode_parameters(cls, reader: _Reader) -> Self:
        return cls(_decode_handles(reader))


@_register
@dataclasses.dataclass(frozen=True)
class ATT_READ_MULTIPLE_VARIABLE_RSP(AttPdu):
    """Vol 3 Part F 3.4.4.12. The last value may be truncated (shorter than its length)."""

    opcode: ClassVar[int] = AttOpcode.ATT_READ_MULTIPLE_VARIABLE_RSP
    length_value_tuple_list: tuple[LengthValueTuple, ...]

    @classmethod
    def from_values(cls, values: list[bytes] | tuple[bytes, ...]) -> Self:
        """Build from whole values (no truncation)."""
        return cls(tuple(LengthValueTuple(len(v), bytes(v)) for v in values))

    def _encode_parameters(self) -> bytes:
        out = bytearray()
        last = len(self.length_value_tuple_list) - 1
        for i, (length, value) in enumerate(self.length_value_tuple_list):
            if len(value) > length or (len(value) < length and i != last):
                raise ValueError("only the last value may be shorter than its length")
            out += _u16(length, "length") + bytes(value)
        return bytes(out)

    @classmethod
    def _decode_parameters(cls, reader: _Reader) -> Self:
        entries: list[LengthValueTuple] = []
        while reader.remaining:
            length = reader.u16("length")
            value = reader.take(min(length, reader.remaining), "value")
            entries.append(LengthValueTuple(length, value))
        return cls(tuple(entries))


# ---------------------------------------------------------------------------------------
# Writing attributes (3.4.5), queued writes (3.4.6)
# ---------------------------------------------------------------------------------------


@_register
@dataclasses.dataclass(frozen=True)
class ATT_WRITE_REQ(AttPdu):
    """Vol 3 Part F 3.4.5.1."""

    opcode: ClassVar[int] = AttOpcode.ATT_WRITE_REQ
    attribute_handle: int = _u16f()
    attribute_value: bytes = _restf()


@_register
@dataclasses.dataclass(frozen=True)
class ATT_WRITE_RSP(AttPdu):
    """Vol 3 Part F 3.4.5.2."""

    opcode: ClassVar[int] = AttOpcode.ATT_WRITE_RSP


@_register
@dataclasses.dataclass(frozen=True)
class ATT_WRITE_CMD(AttPdu):
    """Vol 3 Part F 3.4.5.3."""

    opcode: ClassVar[int] = AttOpcode.ATT_WRITE_CMD
    attribute_handle: int = _u16f()
    attribute_value: bytes = _restf()


@_register
@dataclasses.dataclass(frozen=True)
class ATT_SIGNED_WRITE_CMD(AttPdu):
    """Vol 3 Part F 3.4.5.4. ``authentication_signature`` is 12 octets: SignCounter
    (4, little-endian) then the 8-octet MAC (Vol 3 Part H 2.4.5)."""

    opcode: ClassVar[int] = AttOpcode.ATT_SIGNED_WRITE_CMD
    attribute_handle: int
    attribute_value: bytes
    authentication_signature: bytes

    @property
    def signed_data(self) -> bytes:
        """The octets the signature covers: opcode, handle and value (Vol 3 Part H 2.4.5)."""
        return self.to_bytes()[:-ATT_SIGNATURE_LENGTH]

    def _encode_parameters(self) -> bytes:
        if len(self.authentication_signature) != ATT_SIGNATURE_LENGTH:
            raise ValueError(f"authentication_signature must be {ATT_SIGNATURE_LENGTH} octets")
        return (
            _u16(self.attribute_handle, "attribute_handle")
            + bytes(self.attribute_value)
            + bytes(self.authentication_signature)
        )

    @classmethod
    def _decode_parameters(cls, reader: _Reader) -> Self:
        handle = reader.u16("attribute_handle")
        if reader.remaining < ATT_SIGNATURE_LENGTH:
            reader.fail(f"truncated authentication signature ({reader.remaining} octets)")
        value = reader.take(reader.remaining - ATT_SIGNATURE_LENGTH, "attribute_value")
        return cls(handle, value, reader.rest())


@_register
@dataclasses.dataclass(frozen=True)
class ATT_PREPARE_WRITE_REQ(AttPdu):
    """Vol 3 Part F 3.4.6.1."""

    opcode: ClassVar[int] = AttOpcode.ATT_PREPARE_WRITE_REQ
    attribute_handle: int = _u16f()
    value_offset: int = _u16f()
    part_attribute_value: bytes = _restf()


@_register
@dataclasses.dataclass(frozen=True)
class ATT_PREPARE_WRITE_RSP(AttPdu):
    """Vol 3 Part F 3.4.6.2."""

    opcode: ClassVar[int] = AttOpcode.ATT_PREPARE_WRITE_RSP
    attribute_handle: int = _u16f()
    value_offset: int = _u16f()
    part_attribute_value: bytes = _restf()


@_register
@dataclasses.dataclass(frozen=True)
class ATT_EXECUTE_WRITE_REQ(AttPdu):
    """Vol 3 Part F 3.4.6.3. ``flags`` is an :class:`AttExecuteWriteFlags`; a reserved
    value does not decode (the server answers INVALID_PDU)."""

    opcode: ClassVar[int] = AttOpcode.ATT_EXECUTE_WRITE_REQ
    flags: int = _u8f()

    @classmethod
    def _decode_parameters(cls, reader: _Reader) -> Self:
        flags = reader.u8("flags")
        if flags not in AttExecuteWriteFlags._value2member_map_:
            reader.fail(f"reserved Execute Write flags 0x{flags:02X}")
        return cls(AttExecuteWriteFlags(flags))


@_register
@dataclasses.dataclass(frozen=True)
class ATT_EXECUTE_WRITE_RSP(AttPdu):
    """Vol 3 Part F 3.4.6.4."""

    opcode: ClassVar[int] = AttOpcode.ATT_EXECUTE_WRITE_RSP


# ---------------------------------------------------------------------------------------
# Server initiated (3.4.7)
# ---------------------------------------------------------------------------------------


@_register
@dataclasses.dataclass(frozen=True)
class ATT_HANDLE_VALUE_NTF(AttPdu):
    """Vol 3 Part F 3.4.7.1."""

    opcode: ClassVar[int] = AttOpcode.ATT_HANDLE_VALUE_NTF
    attribute_handle: int = _u16f()
    attribute_value: bytes = _restf()


@_register
@dataclasses.dataclass(frozen=True)
class ATT_HANDLE_VALUE_IND(AttPdu):
    """Vol 3 Part F 3.4.7.2."""

    opcode: ClassVar[int] = AttOpcode.ATT_HANDLE_VALUE_IND
    attribute_handle: int = _u16f()
    attribute_value: bytes = _restf()


@_register
@dataclasses.dataclass(frozen=True)
class ATT_HANDLE_VALUE_CFM(AttPdu):
    """Vol 3 Part F 3.4.7.3."""

    opcode: ClassVar[int] = AttOpcode.ATT_HANDLE_VALUE_CFM


@_register
@dataclasses.dataclass(frozen=True)
class ATT_MULTIPLE_HANDLE_VALUE_NTF(AttPdu):
    """Vol 3 Part F 3.4.7.4: (handle, length, value) tuples, two or more on the air
    (one-entry lists are accepted on decode)."""

    opcode: ClassVar[int] = AttOpcode.ATT_MULTIPLE_HANDLE_VALUE_NTF
    handle_length_value_tuple_list: tuple[HandleLengthValue, ...]

    def _encode_parameters(self) -> bytes:
        if not self.handle_length_value_tuple_list:
            raise ValueError("ATT_MULTIPLE_HANDLE_VALUE_NTF needs at least one entry")
        return b"".join(
            _u16(handle, "handle") + _u16(len(value), "length") + bytes(value)
            for handle, value in self.handle_length_value_tuple_list
        )

    @classmethod
    def _decode_parameters(cls, reader: _Reader) -> Self:
        if not reader.remaining:
            reader.fail("empty handle length value tuple list")
        entries: list[HandleLengthValue] = []
        while reader.remaining:
            handle = reader.u16("handle")
            length = reader.u16("length")
            entries.append(HandleLengthValue(handle, reader.take(length, "value")))
        return cls(tuple(entries))
