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

Split for size, this module re-exports every public name (import from here):
opcodes, error codes, the opcode classifiers and the error classes live in
:mod:`host.att_constants`; :class:`AttPdu`, the wire helpers and the registry in
:mod:`host.att_pdu_base`; the error, MTU, discovery and read PDUs in
:mod:`host.att_pdu_read`; the write, queued-write and server-initiated PDUs in
:mod:`host.att_pdu_write`. :func:`decode_att_pdu` lives here, after both PDU modules
are imported, so the registry it dispatches through is always complete.

UUIDs are :class:`host.uuid.UUID`. A UUID parameter is written in its own form when
that is 16 bits and as 128 bits otherwise (ATT carries only 16- and 128-bit UUIDs,
Vol 3 Part F 3.2.1), so decoding then encoding gives back the same bytes.
"""

from __future__ import annotations

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
from host.att_pdu_base import ATT_PDU_CLASSES, AttPdu
from host.att_pdu_read import (
    ATT_ERROR_RSP,
    ATT_EXCHANGE_MTU_REQ,
    ATT_EXCHANGE_MTU_RSP,
    ATT_FIND_BY_TYPE_VALUE_REQ,
    ATT_FIND_BY_TYPE_VALUE_RSP,
    ATT_FIND_INFORMATION_REQ,
    ATT_FIND_INFORMATION_RSP,
    ATT_READ_BLOB_REQ,
    ATT_READ_BLOB_RSP,
    ATT_READ_BY_GROUP_TYPE_REQ,
    ATT_READ_BY_GROUP_TYPE_RSP,
    ATT_READ_BY_TYPE_REQ,
    ATT_READ_BY_TYPE_RSP,
    ATT_READ_MULTIPLE_REQ,
    ATT_READ_MULTIPLE_RSP,
    ATT_READ_MULTIPLE_VARIABLE_REQ,
    ATT_READ_MULTIPLE_VARIABLE_RSP,
    ATT_READ_REQ,
    ATT_READ_RSP,
    AttributeData,
    GroupAttributeData,
    HandlesInformation,
    InformationData,
    LengthValueTuple,
)
from host.att_pdu_write import (
    ATT_EXECUTE_WRITE_REQ,
    ATT_EXECUTE_WRITE_RSP,
    ATT_HANDLE_VALUE_CFM,
    ATT_HANDLE_VALUE_IND,
    ATT_HANDLE_VALUE_NTF,
    ATT_MULTIPLE_HANDLE_VALUE_NTF,
    ATT_PREPARE_WRITE_REQ,
    ATT_PREPARE_WRITE_RSP,
    ATT_SIGNED_WRITE_CMD,
    ATT_WRITE_CMD,
    ATT_WRITE_REQ,
    ATT_WRITE_RSP,
    HandleLengthValue,
)


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
