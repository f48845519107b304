"""ATT PDUs for writes, queued writes and server-initiated PDUs (Vol 3 Part F 3.4.5-3.4.7).

Theory of operation
-------------------
Frozen dataclasses, one per PDU, registered in
:data:`host.att_pdu_base.ATT_PDU_CLASSES` as they are defined. ATT_SIGNED_WRITE_CMD
carries the 12-octet authentication signature after the value and exposes the octets
the signature covers (``signed_data``); ATT_EXECUTE_WRITE_REQ refuses reserved flags on
decode; ATT_MULTIPLE_HANDLE_VALUE_NTF holds (handle, value) named tuples and writes
each length itself. Import them from :mod:`host.att_pdu`, which re-exports every
public name.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar, NamedTuple, Self

from host.att_constants import ATT_SIGNATURE_LENGTH, AttExecuteWriteFlags, AttOpcode
from host.att_pdu_base import AttPdu, _Reader, _register, _restf, _u8f, _u16, _u16f

__all__ = [
    "ATT_EXECUTE_WRITE_REQ", "ATT_EXECUTE_WRITE_RSP", "ATT_HANDLE_VALUE_CFM",
    "ATT_HANDLE_VALUE_IND", "ATT_HANDLE_VALUE_NTF", "ATT_MULTIPLE_HANDLE_VALUE_NTF",
    "ATT_PREPARE_WRITE_REQ", "ATT_PREPARE_WRITE_RSP", "ATT_SIGNED_WRITE_CMD",
    "ATT_WRITE_CMD", "ATT_WRITE_REQ", "ATT_WRITE_RSP", "HandleLengthValue",
]


# ---------------------------------------------------------------------------------------
# List elements
# ---------------------------------------------------------------------------------------


class HandleLengthValue(NamedTuple):
    """One entry of ATT_MULTIPLE_HANDLE_VALUE_NTF (Vol 3 Part F 3.4.7.4); the Length
    field is ``len(value)``."""

    handle: int
    value: bytes


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
