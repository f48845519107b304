"""ATT opcodes, error codes and opcode classification (Core Specification Vol 3 Part F 3.3, 3.4).

Theory of operation
-------------------
An ATT opcode packs the method (bits 0-5), the Command Flag (bit 6) and the
Authentication Signature Flag (bit 7) (Vol 3 Part F 3.3.1). This module names every
opcode (:class:`AttOpcode`) and error code (:class:`AttErrorCode`), classifies opcodes
(:func:`is_command`, :func:`has_signature`, :func:`is_request`, :func:`is_response`,
:func:`is_notification`, :func:`is_indication`, :func:`is_confirmation`,
:func:`response_opcode`) and defines the decoding errors. It was split from
:mod:`host.att_pdu`, which re-exports every public name: import from there.
"""

from __future__ import annotations

import enum
from typing import Final

#: ATT_MTU on an LE fixed channel before any exchange (Vol 3 Part F 3.2.8).
ATT_DEFAULT_LE_MTU: Final = 23
#: Longest attribute value (Vol 3 Part F 3.2.9).
ATT_MAX_ATTRIBUTE_VALUE_LENGTH: Final = 512
#: Authentication Signature length: SignCounter (4) + MAC (8) (Vol 3 Part F 3.3.1).
ATT_SIGNATURE_LENGTH: Final = 12


# ---------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------


class AttPduError(ValueError):
    """Base of the ATT decoding errors (the peer sent something we cannot decode)."""


class AttDecodeError(AttPduError):
    """A PDU with a known opcode is malformed (answer with INVALID_PDU for ``opcode``).

    ``opcode`` is ``None`` only for an empty PDU.
    """

    def __init__(self, opcode: int | None, reason: str) -> None:
        self.opcode = opcode
        self.reason = reason
        where = "empty ATT PDU" if opcode is None else f"ATT opcode 0x{opcode:02X}"
        super().__init__(f"{where}: {reason}")


class UnknownAttOpcode(AttPduError):
    """The opcode is not one this stack knows (Vol 3 Part F 3.4.8)."""

    def __init__(self, opcode: int) -> None:
        self.opcode = opcode
        super().__init__(f"unknown ATT opcode 0x{opcode:02X}")


# ---------------------------------------------------------------------------------------
# Enumerations
# ---------------------------------------------------------------------------------------


class AttOpcode(enum.IntEnum):
    """ATT opcodes (Vol 3 Part F 3.4.8, Table 3.37)."""

    ATT_ERROR_RSP = 0x01
    ATT_EXCHANGE_MTU_REQ = 0x02
    ATT_EXCHANGE_MTU_RSP = 0x03
    ATT_FIND_INFORMATION_REQ = 0x04
    ATT_FIND_INFORMATION_RSP = 0x05
    ATT_FIND_BY_TYPE_VALUE_REQ = 0x06
    ATT_FIND_BY_TYPE_VALUE_RSP = 0x07
    ATT_READ_BY_TYPE_REQ = 0x08
    ATT_READ_BY_TYPE_RSP = 0x09
    ATT_READ_REQ = 0x0A
    ATT_READ_RSP = 0x0B
    ATT_READ_BLOB_REQ = 0x0C
    ATT_READ_BLOB_RSP = 0x0D
    ATT_READ_MULTIPLE_REQ = 0x0E
    ATT_READ_MULTIPLE_RSP = 0x0F
    ATT_READ_BY_GROUP_TYPE_REQ = 0x10
    ATT_READ_BY_GROUP_TYPE_RSP = 0x11
    ATT_WRITE_REQ = 0x12
    ATT_WRITE_RSP = 0x13
    ATT_PREPARE_WRITE_REQ = 0x16
    ATT_PREPARE_WRITE_RSP = 0x17
    ATT_EXECUTE_WRITE_REQ = 0x18
    ATT_EXECUTE_WRITE_RSP = 0x19
    ATT_READ_MULTIPLE_VARIABLE_REQ = 0x20
    ATT_READ_MULTIPLE_VARIABLE_RSP = 0x21
    ATT_MULTIPLE_HANDLE_VALUE_NTF = 0x23
    ATT_HANDLE_VALUE_NTF = 0x1B
    ATT_HANDLE_VALUE_IND = 0x1D
    ATT_HANDLE_VALUE_CFM = 0x1E
    ATT_WRITE_CMD = 0x52
    ATT_SIGNED_WRITE_CMD = 0xD2


class AttErrorCode(enum.IntEnum):
    """ATT Error Codes (Vol 3 Part F 3.4.1.1, Table 3.4) and the common profile and
    service error codes 0xFC-0xFF (Core Specification Supplement Part B 1.2).

    0x80-0x9F are application errors and 0xE0-0xFB are reserved for common profile
    codes: they are valid on the wire but have no member here.
    """

    INVALID_HANDLE = 0x01
    READ_NOT_PERMITTED = 0x02
    WRITE_NOT_PERMITTED = 0x03
    INVALID_PDU = 0x04
    INSUFFICIENT_AUTHENTICATION = 0x05
    REQUEST_NOT_SUPPORTED = 0x06
    INVALID_OFFSET = 0x07
    INSUFFICIENT_AUTHORIZATION = 0x08
    PREPARE_QUEUE_FULL = 0x09
    ATTRIBUTE_NOT_FOUND = 0x0A
    ATTRIBUTE_NOT_LONG = 0x0B
    ENCRYPTION_KEY_SIZE_TOO_SHORT = 0x0C
    INVALID_ATTRIBUTE_VALUE_LENGTH = 0x0D
    UNLIKELY_ERROR = 0x0E
    INSUFFICIENT_ENCRYPTION = 0x0F
    UNSUPPORTED_GROUP_TYPE = 0x10
    INSUFFICIENT_RESOURCES = 0x11
    DATABASE_OUT_OF_SYNC = 0x12
    VALUE_NOT_ALLOWED = 0x13
    WRITE_REQUEST_REJECTED = 0xFC
    CLIENT_CHARACTERISTIC_CONFIGURATION_DESCRIPTOR_IMPROPERLY_CONFIGURED = 0xFD
    PROCEDURE_ALREADY_IN_PROGRESS = 0xFE
    OUT_OF_RANGE = 0xFF

    @staticmethod
    def is_application_error(code: int) -> bool:
        """0x80-0x9F: defined by a higher-layer specification (Vol 3 Part F 3.4.1.1)."""
        return 0x80 <= code <= 0x9F


class AttExecuteWriteFlags(enum.IntEnum):
    """Flags of ATT_EXECUTE_WRITE_REQ (Vol 3 Part F 3.4.6.3)."""

    CANCEL_ALL_PREPARED_WRITES = 0x00
    IMMEDIATELY_WRITE_ALL_PENDING_PREPARED_VALUES = 0x01


class AttMethodType(enum.Enum):
    """The six ATT PDU types (Vol 3 Part F 3.3)."""

    REQUEST = "request"
    RESPONSE = "response"
    COMMAND = "command"
    NOTIFICATION = "notification"
    INDICATION = "indication"
    CONFIRMATION = "confirmation"


_O = AttOpcode
_M = AttMethodType
_METHOD_TYPES: Final[dict[int, AttMethodType]] = {
    _O.ATT_ERROR_RSP: _M.RESPONSE,
    _O.ATT_EXCHANGE_MTU_REQ: _M.REQUEST,
    _O.ATT_EXCHANGE_MTU_RSP: _M.RESPONSE,
    _O.ATT_FIND_INFORMATION_REQ: _M.REQUEST,
    _O.ATT_FIND_INFORMATION_RSP: _M.RESPONSE,
    _O.ATT_FIND_BY_TYPE_VALUE_REQ: _M.REQUEST,
    _O.ATT_FIND_BY_TYPE_VALUE_RSP: _M.RESPONSE,
    _O.ATT_READ_BY_TYPE_REQ: _M.REQUEST,
    _O.ATT_READ_BY_TYPE_RSP: _M.RESPONSE,
    _O.ATT_READ_REQ: _M.REQUEST,
    _O.ATT_READ_RSP: _M.RESPONSE,
    _O.ATT_READ_BLOB_REQ: _M.REQUEST,
    _O.ATT_READ_BLOB_RSP: _M.RESPONSE,
    _O.ATT_READ_MULTIPLE_REQ: _M.REQUEST,
    _O.ATT_READ_MULTIPLE_RSP: _M.RESPONSE,
    _O.ATT_READ_BY_GROUP_TYPE_REQ: _M.REQUEST,
    _O.ATT_READ_BY_GROUP_TYPE_RSP: _M.RESPONSE,
    _O.ATT_WRITE_REQ: _M.REQUEST,
    _O.ATT_WRITE_RSP: _M.RESPONSE,
    _O.ATT_PREPARE_WRITE_REQ: _M.REQUEST,
    _O.ATT_PREPARE_WRITE_RSP: _M.RESPONSE,
    _O.ATT_EXECUTE_WRITE_REQ: _M.REQUEST,
    _O.ATT_EXECUTE_WRITE_RSP: _M.RESPONSE,
    _O.ATT_READ_MULTIPLE_VARIABLE_REQ: _M.REQUEST,
    _O.ATT_READ_MULTIPLE_VARIABLE_RSP: _M.RESPONSE,
    _O.ATT_MULTIPLE_HANDLE_VALUE_NTF: _M.NOTIFICATION,
    _O.ATT_HANDLE_VALUE_NTF: _M.NOTIFICATION,
    _O.ATT_HANDLE_VALUE_IND: _M.INDICATION,
    _O.ATT_HANDLE_VALUE_CFM: _M.CONFIRMATION,
    _O.ATT_WRITE_CMD: _M.COMMAND,
    _O.ATT_SIGNED_WRITE_CMD: _M.COMMAND,
}

_RESPONSES: Final[dict[int, int]] = {
    _O.ATT_EXCHANGE_MTU_REQ: _O.ATT_EXCHANGE_MTU_RSP,
    _O.ATT_FIND_INFORMATION_REQ: _O.ATT_FIND_INFORMATION_RSP,
    _O.ATT_FIND_BY_TYPE_VALUE_REQ: _O.ATT_FIND_BY_TYPE_VALUE_RSP,
    _O.ATT_READ_BY_TYPE_REQ: _O.ATT_READ_BY_TYPE_RSP,
    _O.ATT_READ_REQ: _O.ATT_READ_RSP,
    _O.ATT_READ_BLOB_REQ: _O.ATT_READ_BLOB_RSP,
    _O.ATT_READ_MULTIPLE_REQ: _O.ATT_READ_MULTIPLE_RSP,
    _O.ATT_READ_BY_GROUP_TYPE_REQ: _O.ATT_READ_BY_GROUP_TYPE_RSP,
    _O.ATT_WRITE_REQ: _O.ATT_WRITE_RSP,
    _O.ATT_PREPARE_WRITE_REQ: _O.ATT_PREPARE_WRITE_RSP,
    _O.ATT_EXECUTE_WRITE_REQ: _O.ATT_EXECUTE_WRITE_RSP,
    _O.ATT_READ_MULTIPLE_VARIABLE_REQ: _O.ATT_READ_MULTIPLE_VARIABLE_RSP,
    _O.ATT_HANDLE_VALUE_IND: _O.ATT_HANDLE_VALUE_CFM,
}


def is_command(opcode: int) -> bool:
    """Command Flag, bit 6 of the opcode (Vol 3 Part F 3.3.1)."""
    return bool(opcode & 0x40)


def has_signature(opcode: int) -> bool:
    """Authentication Signature Flag, bit 7 of the opcode (Vol 3 Part F 3.3.1)."""
    return bool(opcode & 0x80)


def method_type(opcode: int) -> AttMethodType | None:
    """The PDU type of a known opcode, ``None`` for an unknown one.

    An unknown opcode with the Command Flag set is still a command (the server ignores
    it); one without is treated by the server as an unsupported request.
    """
    return _METHOD_TYPES.get(opcode)


def is_request(opcode: int) -> bool:
    """A request: the server answers with a response or ATT_ERROR_RSP."""
    return _METHOD_TYPES.get(opcode) is AttMethodType.REQUEST


def is_response(opcode: int) -> bool:
    """A response, ATT_ERROR_RSP included."""
    return _METHOD_TYPES.get(opcode) is AttMethodType.RESPONSE


def is_notification(opcode: int) -> bool:
    """ATT_HANDLE_VALUE_NTF or ATT_MULTIPLE_HANDLE_VALUE_NTF."""
    return _METHOD_TYPES.get(opcode) is AttMethodType.NOTIFICATION


def is_indication(opcode: int) -> bool:
    """ATT_HANDLE_VALUE_IND."""
    return _METHOD_TYPES.get(opcode) is AttMethodType.INDICATION


def is_confirmation(opcode: int) -> bool:
    """ATT_HANDLE_VALUE_CFM."""
    return _METHOD_TYPES.get(opcode) is AttMethodType.CONFIRMATION


def response_opcode(opcode: int) -> int | None:
    """The opcode answering a request (or an indication); ``None`` if there is none."""
    return _RESPONSES.get(opcode)
