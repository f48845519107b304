"""ATT PDUs for errors, MTU exchange, discovery and reads (Vol 3 Part F 3.4.1-3.4.4).

Theory of operation
-------------------
Frozen dataclasses, one per PDU, registered in
:data:`host.att_pdu_base.ATT_PDU_CLASSES` as they are defined. Flat PDUs are described
by field metadata; the list-carrying responses (Find Information, Find By Type Value,
Read By Type, Read By Group Type, Read Multiple Variable) encode and decode their
entries themselves, as tuples of the small named tuples below, and derive their
``format``/``length`` octets from the entries. Import them from :mod:`host.att_pdu`,
which re-exports every public name.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar, NamedTuple, Self

from host.att_constants import AttErrorCode, AttOpcode
from host.att_pdu_base import (
    AttPdu,
    _Reader,
    _register,
    _restf,
    _u8,
    _u8f,
    _u16,
    _u16f,
    _uuidf,
)
from host.uuid import UUID

__all__ = [
    "ATT_ERROR_RSP", "ATT_EXCHANGE_MTU_REQ", "ATT_EXCHANGE_MTU_RSP",
    "ATT_FIND_BY_TYPE_VALUE_REQ", "ATT_FIND_BY_TYPE_VALUE_RSP",
    "ATT_FIND_INFORMATION_REQ", "ATT_FIND_INFORMATION_RSP",
    "ATT_READ_BLOB_REQ", "ATT_READ_BLOB_RSP",
    "ATT_READ_BY_GROUP_TYPE_REQ", "ATT_READ_BY_GROUP_TYPE_RSP", "ATT_READ_BY_TYPE_REQ",
    "ATT_READ_BY_TYPE_RSP", "ATT_READ_MULTIPLE_REQ", "ATT_READ_MULTIPLE_RSP",
    "ATT_READ_MULTIPLE_VARIABLE_REQ", "ATT_READ_MULTIPLE_VARIABLE_RSP", "ATT_READ_REQ",
    "ATT_READ_RSP", "AttributeData", "GroupAttributeData", "HandlesInformation",
    "InformationData", "LengthValueTuple",
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
