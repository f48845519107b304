"""L2CAP frames and LE signalling commands (Core Specification Vol 3 Part A 3, 4).

Theory of operation
-------------------
Every L2CAP PDU starts with a basic header: a 16-bit Length of the information payload
and a 16-bit Channel ID (Vol 3 Part A 3.1). :class:`L2capFrame` is that B-frame; on LE
the fixed channels are ATT (0x0004), LE signalling (0x0005) and SMP (0x0006), and
dynamic channels (0x0040-0x007F) carry LE credit-based K-frames (3.4): the first K-frame
of an SDU starts with a 16-bit SDU Length, the following ones carry only payload.
:func:`segment_sdu` cuts an SDU into K-frame payloads no longer than the MPS and
:class:`SduReassembler` puts them back together, raising :class:`KFrameError` on the
violations that force the channel to be disconnected (Vol 3 Part A 10.1).

A C-frame on the LE signalling channel carries exactly one command (4): Code (1),
Identifier (1), Length (2), then the data. Each command is a frozen dataclass whose
first field is the ``identifier``; :func:`decode_signalling` dispatches on the code
through :data:`SIGNALLING_CLASSES`. A malformed command raises
:class:`SignallingDecodeError` carrying the identifier when it is known, so that the
receiver can answer ``L2CAP_COMMAND_REJECT_RSP``; an unknown (or BR/EDR-only) code
raises :class:`UnknownSignallingCode`, a subclass, since the answer is the same
(reason "Command not understood", 4.1).

This module also implements the enhanced credit-based commands
(L2CAP_CREDIT_BASED_CONNECTION_REQ/RSP, L2CAP_CREDIT_BASED_RECONFIGURE_REQ/RSP, 4.25-4.28).
Codecs check framing only; parameter ranges (MTU >= 23, MPS 23..65533, PSM ranges)
are the channel manager's business, since they call for a result code, not a reject.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import ClassVar, Final, NoReturn, Self, TypeVar

__all__ = [
    "CommandRejectReason", "ConnectionParameterUpdateResult",
    "CreditBasedConnectionResult", "CreditBasedReconfigureResult", "KFrameError",
    "L2CAP_COMMAND_REJECT_RSP", "L2CAP_CONNECTION_PARAMETER_UPDATE_REQ",
    "L2CAP_CONNECTION_PARAMETER_UPDATE_RSP", "L2CAP_CREDIT_BASED_CONNECTION_REQ",
    "L2CAP_CREDIT_BASED_CONNECTION_RSP", "L2CAP_CREDIT_BASED_RECONFIGURE_REQ",
    "L2CAP_CREDIT_BASED_RECONFIGURE_RSP", "L2CAP_DISCONNECTION_REQ",
    "L2CAP_DISCONNECTION_RSP", "L2CAP_FLOW_CONTROL_CREDIT_IND",
    "L2CAP_LE_CREDIT_BASED_CONNECTION_REQ", "L2CAP_LE_CREDIT_BASED_CONNECTION_RSP",
    "L2CAP_LE_DYNAMIC_CID_MAX", "L2CAP_LE_DYNAMIC_CID_MIN", "L2CAP_LE_MIN_MTU",
    "L2CAP_LE_MPS_MAX", "L2CAP_LE_MPS_MIN", "L2CAP_HEADER_LENGTH", "L2capCid",
    "L2capDecodeError", "L2capFrame", "LeCreditBasedConnectionResult",
    "SIGNALLING_CLASSES", "SduReassembler", "SignallingCode", "SignallingCommand",
    "SignallingDecodeError", "UnknownSignallingCode", "decode_signalling", "segment_sdu",
]

#: Basic L2CAP header: Length (2) + Channel ID (2) (Vol 3 Part A 3.1).
L2CAP_HEADER_LENGTH: Final = 4
#: Dynamically allocated CIDs on an LE-U logical link (Vol 3 Part A 2.1, Table 2.3).
L2CAP_LE_DYNAMIC_CID_MIN: Final = 0x0040
L2CAP_LE_DYNAMIC_CID_MAX: Final = 0x007F
#: Smallest MTU/MPS and largest MPS of LE credit-based channels (Vol 3 Part A 4.22).
L2CAP_LE_MIN_MTU: Final = 23
L2CAP_LE_MPS_MIN: Final = 23
L2CAP_LE_MPS_MAX: Final = 65533
_SDU_LENGTH_OCTETS: Final = 2


class L2capCid(enum.IntEnum):
    """Fixed channel identifiers on an LE-U logical link (Vol 3 Part A 2.1, Table 2.3)."""

    NULL = 0x0000
    ATT = 0x0004
    LE_SIGNALLING = 0x0005
    SMP = 0x0006


# ---------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------


class L2capDecodeError(ValueError):
    """Bytes that do not form a valid basic L2CAP frame."""


class KFrameError(ValueError):
    """A K-frame sequence broke the credit-based rules (Vol 3 Part A 3.4.3, 10.1):
    the channel shall be disconnected."""


class SignallingDecodeError(ValueError):
    """A malformed signalling command (Vol 3 Part A 4).

    ``identifier`` is the command's identifier when it could be read and is valid
    (non-zero), else ``None``; ``code`` likewise.
    """

    def __init__(self, reason: str, identifier: int | None = None, code: int | None = None) -> None:
        self.reason = reason
        self.identifier = identifier
        self.code = code
        where = "" if code is None else f" (code 0x{code:02X}, identifier {identifier})"
        super().__init__(f"L2CAP signalling{where}: {reason}")


class UnknownSignallingCode(SignallingDecodeError):
    """A signalling code that is not an LE signalling command."""

    def __init__(self, code: int, identifier: int | None) -> None:
        super().__init__(f"unknown LE signalling code 0x{code:02X}", identifier, code)


# ---------------------------------------------------------------------------------------
# Basic frame and K-frames
# ---------------------------------------------------------------------------------------


def _u16(value: int, what: str) -> bytes:
    if not 0 <= value <= 0xFFFF:
        raise ValueError(f"{what}={value} does not fit in two octets")
    return value.to_bytes(2, "little")


@dataclasses.dataclass(frozen=True)
class L2capFrame:
    """A basic L2CAP frame: Length (2), Channel ID (2), payload (Vol 3 Part A 3.1)."""

    cid: int
    payload: bytes

    def to_bytes(self) -> bytes:
        return _u16(len(self.payload), "length") + _u16(self.cid, "cid") + bytes(self.payload)

    def __bytes__(self) -> bytes:
        return self.to_bytes()

    @staticmethod
    def parse_header(data: bytes | bytearray | memoryview) -> tuple[int, int]:
        """``(length, cid)`` of a frame's first four octets (for reassembly from ACL)."""
        if len(data) < L2CAP_HEADER_LENGTH:
            raise L2capDecodeError(f"basic L2CAP header needs 4 octets, have {len(data)}")
        raw = bytes(data[:L2CAP_HEADER_LENGTH])
        return int.from_bytes(raw[0:2], "little"), int.from_bytes(raw[2:4], "little")

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> Self:
        """Decode exactly one frame: the Length field must match the payload."""
        length, cid = cls.parse_header(data)
        payload = bytes(data[L2CAP_HEADER_LENGTH:])
        if len(payload) != length:
            raise L2capDecodeError(
                f"Length field says {length} octets, the frame carries {len(payload)}"
            )
        return cls(cid, payload)


def segment_sdu(sdu: bytes, mps: int) -> list[bytes]:
    """Cut an SDU into K-frame information payloads of at most ``mps`` octets.

    The first payload starts with the 16-bit SDU Length, which counts against the MPS
    (Vol 3 Part A 3.4.2). An empty SDU gives one K-frame holding only the SDU Length.
    """
    if mps < 3:
        raise ValueError(f"MPS {mps} leaves no room for data after the SDU Length")
    if len(sdu) > 0xFFFF:
        raise ValueError(f"an SDU is at most 65535 octets, got {len(sdu)}")
    first = _u16(len(sdu), "sdu_length") + sdu[: mps - _SDU_LENGTH_OCTETS]
    out = [first]
    for offset in range(mps - _SDU_LENGTH_OCTETS, len(sdu), mps):
        out.append(sdu[offset : offset + mps])
    return out


class SduReassembler:
    """Rebuilds SDUs from the K-frame payloads of one credit-based channel.

    ``feed(payload)`` returns a whole SDU when its last K-frame arrives, else ``None``.
    It raises :class:`KFrameError` for a payload above the MPS, an SDU Length above the
    MTU, a first K-frame without a full SDU Length, or more data than the SDU Length
    announced (Vol 3 Part A 3.4.3); the receiver then disconnects the channel.
    """

    def __init__(self, mtu: int, mps: int) -> None:
        self.mtu = mtu
        self.mps = mps
        self._expected: int | None = None
        self._parts = bytearray()

    @property
    def in_progress(self) -> bool:
        """True between the first and the last K-frame of an SDU."""
        return self._expected is not None

    def feed(self, payload: bytes) -> bytes | None:
        if len(payload) > self.mps:
            raise KFrameError(f"K-frame payload of {len(payload)} octets exceeds MPS {self.mps}")
        if self._expected is None:
            if len(payload) < _SDU_LENGTH_OCTETS:
                raise KFrameError("first K-frame of an SDU is shorter than the SDU Length field")
            expected = int.from_bytes(payload[:2], "little")
            if expected > self.mtu:
                raise KFrameError(f"SDU Length {expected} exceeds MTU {self.mtu}")
            self._expected = expected
            self._parts = bytearray(payload[_SDU_LENGTH_OCTETS:])
        else:
            self._parts += payload
        if len(self._parts) > self._expected:
            have = len(self._parts)
            self._expected = None
            self._parts = bytearray()
            raise KFrameError(f"K-frames carry {have} octets, more than the SDU Length")
        if len(self._parts) == self._expected:
            sdu = bytes(self._parts)
            self._expected = None
            self._parts = bytearray()
            return sdu
        return None


# ---------------------------------------------------------------------------------------
# Enumerations (Vol 3 Part A 4)
# ---------------------------------------------------------------------------------------


class SignallingCode(enum.IntEnum):
    """Signalling command codes valid on the LE signalling channel (Vol 3 Part A 4, Table 4.2)."""

    L2CAP_COMMAND_REJECT_RSP = 0x01
    L2CAP_DISCONNECTION_REQ = 0x06
    L2CAP_DISCONNECTION_RSP = 0x07
    L2CAP_CONNECTION_PARAMETER_UPDATE_REQ = 0x12
    L2CAP_CONNECTION_PARAMETER_UPDATE_RSP = 0x13
    L2CAP_LE_CREDIT_BASED_CONNECTION_REQ = 0x14
    L2CAP_LE_CREDIT_BASED_CONNECTION_RSP = 0x15
    L2CAP_FLOW_CONTROL_CREDIT_IND = 0x16
    L2CAP_CREDIT_BASED_CONNECTION_REQ = 0x17
    L2CAP_CREDIT_BASED_CONNECTION_RSP = 0x18
    L2CAP_CREDIT_BASED_RECONFIGURE_REQ = 0x19
    L2CAP_CREDIT_BASED_RECONFIGURE_RSP = 0x1A


class CommandRejectReason(enum.IntEnum):
    """Reason of L2CAP_COMMAND_REJECT_RSP (Vol 3 Part A 4.1, Table 4.3)."""

    COMMAND_NOT_UNDERSTOOD = 0x0000
    SIGNALING_MTU_EXCEEDED = 0x0001
    INVALID_CID_IN_REQUEST = 0x0002


class ConnectionParameterUpdateResult(enum.IntEnum):
    """Result of L2CAP_CONNECTION_PARAMETER_UPDATE_RSP (Vol 3 Part A 4.21)."""

    CONNECTION_PARAMETERS_ACCEPTED = 0x0000
    CONNECTION_PARAMETERS_REJECTED = 0x0001


class LeCreditBasedConnectionResult(enum.IntEnum):
    """Result of L2CAP_LE_CREDIT_BASED_CONNECTION_RSP (Vol 3 Part A 4.23, Table 4.16)."""

    CONNECTION_SUCCESSFUL = 0x0000
    CONNECTION_REFUSED_SPSM_NOT_SUPPORTED = 0x0002
    CONNECTION_REFUSED_NO_RESOURCES_AVAILABLE = 0x0004
    CONNECTION_REFUSED_INSUFFICIENT_AUTHENTICATION = 0x0005
    CONNECTION_REFUSED_INSUFFICIENT_AUTHORIZATION = 0x0006
    CONNECTION_REFUSED_ENCRYPTION_KEY_SIZE_TOO_SHORT = 0x0007
    CONNECTION_REFUSED_INSUFFICIENT_ENCRYPTION = 0x0008
    CONNECTION_REFUSED_INVALID_SOURCE_CID = 0x0009
    CONNECTION_REFUSED_SOURCE_CID_ALREADY_ALLOCATED = 0x000A
    CONNECTION_REFUSED_UNACCEPTABLE_PARAMETERS = 0x000B


class CreditBasedConnectionResult(enum.IntEnum):
    """Result of L2CAP_CREDIT_BASED_CONNECTION_RSP (Vol 3 Part A 4.26, Table 4.19)."""

    ALL_CONNECTIONS_SUCCESSFUL = 0x0000
    ALL_CONNECTIONS_REFUSED_SPSM_NOT_SUPPORTED = 0x0002
    SOME_CONNECTIONS_REFUSED_INSUFFICIENT_RESOURCES_AVAILABLE = 0x0004
    ALL_CONNECTIONS_REFUSED_INSUFFICIENT_AUTHENTICATION = 0x0005
    ALL_CONNECTIONS_REFUSED_INSUFFICIENT_AUTHORIZATION = 0x0006
    ALL_CONNECTIONS_REFUSED_ENCRYPTION_KEY_SIZE_TOO_SHORT = 0x0007
    ALL_CONNECTIONS_REFUSED_INSUFFICIENT_ENCRYPTION = 0x0008
    SOME_CONNECTIONS_REFUSED_INVALID_SOURCE_CID = 0x0009
    SOME_CONNECTIONS_REFUSED_SOURCE_CID_ALREADY_ALLOCATED = 0x000A
    ALL_CONNECTIONS_REFUSED_UNACCEPTABLE_PARAMETERS = 0x000B
    ALL_CONNECTIONS_REFUSED_INVALID_PARAMETERS = 0x000C
    ALL_CONNECTIONS_PENDING_NO_FURTHER_INFORMATION_AVAILABLE = 0x000D
    ALL_CONNECTIONS_PENDING_AUTHENTICATION_PENDING = 0x000E
    ALL_CONNECTIONS_PENDING_AUTHORIZATION_PENDING = 0x000F


class CreditBasedReconfigureResult(enum.IntEnum):
    """Result of L2CAP_CREDIT_BASED_RECONFIGURE_RSP (Vol 3 Part A 4.28, Table 4.21)."""

    RECONFIGURATION_SUCCESSFUL = 0x0000
    REDUCTION_IN_SIZE_OF_MTU_NOT_ALLOWED = 0x0001
    REDUCTION_IN_SIZE_OF_MPS_NOT_ALLOWED_FOR_MORE_THAN_ONE_CHANNEL = 0x0002
    ONE_OR_MORE_DESTINATION_CIDS_INVALID = 0x0003
    UNACCEPTABLE_PARAMETERS = 0x0004


# ---------------------------------------------------------------------------------------
# Signalling commands
# ---------------------------------------------------------------------------------------


class _Reader:
    """Reads one command's data; shortfalls become SignallingDecodeError."""

    def __init__(self, data: bytes, identifier: int, code: int) -> None:
        self.data = data
        self.offset = 0
        self.identifier = identifier
        self.code = code

    @property
    def remaining(self) -> int:
        return len(self.data) - self.offset

    def fail(self, reason: str) -> NoReturn:
        raise SignallingDecodeError(reason, self.identifier, self.code)

    def u16(self, what: str) -> int:
        if self.remaining < 2:
            self.fail(f"truncated {what}")
        v = int.from_bytes(self.data[self.offset : self.offset + 2], "little")
        self.offset += 2
        return v

    def rest(self) -> bytes:
        out = self.data[self.offset :]
        self.offset = len(self.data)
        return out


#: Code -> command class, filled by :func:`_register`.
SIGNALLING_CLASSES: dict[int, type[SignallingCommand]] = {}


@dataclasses.dataclass(frozen=True)
class SignallingCommand:
    """Base of the LE signalling commands (Vol 3 Part A 4): Code, Identifier, Length, data.

    Subclasses made only of 16-bit parameters just declare ``int`` fields after
    ``identifier``; others override :meth:`_encode_data` and :meth:`_decode_data`.
    """

    code: ClassVar[int]
    identifier: int

    def to_bytes(self) -> bytes:
        """The command with its 4-octet header (the C-frame information payload)."""
        if not 1 <= self.identifier <= 0xFF:
            raise ValueError(f"identifier {self.identifier} is not in 1..255 (4: 0 is illegal)")
        data = self._encode_data()
        return bytes((self.code, self.identifier)) + _u16(len(data), "length") + data

    def __bytes__(self) -> bytes:
        return self.to_bytes()

    def to_frame(self) -> L2capFrame:
        """This command in a C-frame on the LE signalling channel."""
        return L2capFrame(L2capCid.LE_SIGNALLING, self.to_bytes())

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> Self:
        """Decode a command of this kind; see :func:`decode_signalling`."""
        cmd = decode_signalling(data)
        if not isinstance(cmd, cls):
            raise SignallingDecodeError(
                f"code 0x{cmd.code:02X} is not {cls.__name__}", cmd.identifier, cmd.code
            )
        return cmd

    def _encode_data(self) -> bytes:
        return b"".join(
            _u16(getattr(self, f.name), f.name)
            for f in dataclasses.fields(self)
            if f.name != "identifier"
        )

    @classmethod
    def _decode_data(cls, identifier: int, reader: _Reader) -> Self:
        values = [reader.u16(f.name) for f in dataclasses.fields(cls) if f.name != "identifier"]
        return cls(identifier, *values)


_C = TypeVar("_C", bound="type[SignallingCommand]")


def _register(cls: _C) -> _C:
    if cls.code in SIGNALLING_CLASSES:  # pragma: no cover - programming error
        raise RuntimeError(f"duplicate signalling code 0x{cls.code:02X}")
    SIGNALLING_CLASSES[cls.code] = cls
    return cls


def decode_signalling(payload: bytes | bytearray | memoryview) -> SignallingCommand:
    """Decode the single command of an LE signalling C-frame (Vol 3 Part A 4).

    Raises :class:`UnknownSignallingCode` for a code that is not an LE command and
    :class:`SignallingDecodeError` for anything malformed (truncated header, Length
    not matching the data, identifier 0, a command of the wrong size).
    """
    raw = bytes(payload)
    if len(raw) < 4:
        code = raw[0] if raw else None
        ident = raw[1] if len(raw) > 1 and raw[1] else None
        raise SignallingDecodeError(f"command header needs 4 octets, have {len(raw)}", ident, code)
    code, identifier = raw[0], raw[1]
    length = int.from_bytes(raw[2:4], "little")
    if identifier == 0:
        raise SignallingDecodeError("identifier 0x00 is illegal", None, code)
    data = raw[4:]
    if len(data) != length:
        raise SignallingDecodeError(
            f"Length field says {length} octets, the command carries {len(data)}",
            identifier,
            code,
        )
    cls = SIGNALLING_CLASSES.get(code)
    if cls is None:
        raise UnknownSignallingCode(code, identifier)
    reader = _Reader(data, identifier, code)
    cmd = cls._decode_data(identifier, reader)
    if reader.remaining:
        reader.fail(f"{reader.remaining} unexpected trailing octets")
    return cmd


@_register
@dataclasses.dataclass(frozen=True)
class L2CAP_COMMAND_REJECT_RSP(SignallingCommand):
    """Vol 3 Part A 4.1. ``data`` depends on the reason: none, the actual signalling
    MTU (2 octets), or the local and remote CIDs (4 octets)."""

    code: ClassVar[int] = SignallingCode.L2CAP_COMMAND_REJECT_RSP
    reason: int
    data: bytes = b""

    @classmethod
    def command_not_understood(cls, identifier: int) -> Self:
        return cls(identifier, CommandRejectReason.COMMAND_NOT_UNDERSTOOD)

    @classmethod
    def signaling_mtu_exceeded(cls, identifier: int, actual_mtu: int) -> Self:
        return cls(identifier, CommandRejectReason.SIGNALING_MTU_EXCEEDED, _u16(actual_mtu, "mtu"))

    @classmethod
    def invalid_cid_in_request(cls, identifier: int, local_cid: int, remote_cid: int) -> Self:
        return cls(
            identifier,
            CommandRejectReason.INVALID_CID_IN_REQUEST,
            _u16(local_cid, "local_cid") + _u16(remote_cid, "remote_cid"),
        )

    def _encode_data(self) -> bytes:
        return _u16(self.reason, "reason") + bytes(self.data)

    @classmethod
    def _decode_data(cls, identifier: int, reader: _Reader) -> Self:
        reason = reader.u16("reason")
        known: int = (
            CommandRejectReason(reason)
            if reason in CommandRejectReason._value2member_map_
            else reason
        )
        return cls(identifier, known, reader.rest())


@_register
@dataclasses.dataclass(frozen=True)
class L2CAP_DISCONNECTION_REQ(SignallingCommand):
    """Vol 3 Part A 4.6."""

    code: ClassVar[int] = SignallingCode.L2CAP_DISCONNECTION_REQ
    destination_cid: int
    source_cid: int


@_register
@dataclasses.dataclass(frozen=True)
class L2CAP_DISCONNECTION_RSP(SignallingCommand):
    """Vol 3 Part A 4.7."""

    code: ClassVar[int] = SignallingCode.L2CAP_DISCONNECTION_RSP
    destination_cid: int
    source_cid: int


@_register
@dataclasses.dataclass(frozen=True)
class L2CAP_CONNECTION_PARAMETER_UPDATE_REQ(SignallingCommand):
    """Vol 3 Part A 4.20. Intervals in 1.25 ms units, timeout in 10 ms units."""

    code: ClassVar[int] = SignallingCode.L2CAP_CONNECTION_PARAMETER_UPDATE_REQ
    interval_min: int
    interval_max: int
    latency: int
    timeout: int


@_register
@dataclasses.dataclass(frozen=True)
class L2CAP_CONNECTION_PARAMETER_UPDATE_RSP(SignallingCommand):
    """Vol 3 Part A 4.21. ``result``: :class:`ConnectionParameterUpdateResult`."""

    code: ClassVar[int] = SignallingCode.L2CAP_CONNECTION_PARAMETER_UPDATE_RSP
    result: int


@_register
@dataclasses.dataclass(frozen=True)
class L2CAP_LE_CREDIT_BASED_CONNECTION_REQ(SignallingCommand):
    """Vol 3 Part A 4.22."""

    code: ClassVar[int] = SignallingCode.L2CAP_LE_CREDIT_BASED_CONNECTION_REQ
    le_psm: int
    source_cid: int
    mtu: int
    mps: int
    initial_credits: int


@_register
@dataclasses.dataclass(frozen=True)
class L2CAP_LE_CREDIT_BASED_CONNECTION_RSP(SignallingCommand):
    """Vol 3 Part A 4.23. ``result``: :class:`LeCreditBasedConnectionResult`."""

    code: ClassVar[int] = SignallingCode.L2CAP_LE_CREDIT_BASED_CONNECTION_RSP
    destination_cid: int
    mtu: int
    mps: int
    initial_credits: int
    result: int


@_register
@dataclasses.dataclass(frozen=True)
class L2CAP_FLOW_CONTROL_CREDIT_IND(SignallingCommand):
    """Vol 3 Part A 4.24."""

    code: ClassVar[int] = SignallingCode.L2CAP_FLOW_CONTROL_CREDIT_IND
    cid: int
    credits: int


def _encode_cids(cids: tuple[int, ...], low: int, what: str) -> bytes:
    if not low <= len(cids) <= 5:
        raise ValueError(f"{what} holds {low} to 5 CIDs, got {len(cids)}")
    return b"".join(_u16(c, what) for c in cids)


def _decode_cids(reader: _Reader, low: int, what: str) -> tuple[int, ...]:
    n, odd = divmod(reader.remaining, 2)
    if odd or not low <= n <= 5:
        reader.fail(f"{what} of {reader.remaining} octets: need {low} to 5 CIDs")
    return tuple(reader.u16(what) for _ in range(n))


@_register
@dataclasses.dataclass(frozen=True)
class L2CAP_CREDIT_BASED_CONNECTION_REQ(SignallingCommand):
    """Vol 3 Part A 4.25 (enhanced credit-based flow control, 1 to 5 channels)."""

    code: ClassVar[int] = SignallingCode.L2CAP_CREDIT_BASED_CONNECTION_REQ
    spsm: int
    mtu: int
    mps: int
    initial_credits: int
    source_cids: tuple[int, ...]

    def _encode_data(self) -> bytes:
        return (
            _u16(self.spsm, "spsm")
            + _u16(self.mtu, "mtu")
            + _u16(self.mps, "mps")
            + _u16(self.initial_credits, "initial_credits")
            + _encode_cids(self.source_cids, 1, "source_cids")
        )

    @classmethod
    def _decode_data(cls, identifier: int, reader: _Reader) -> Self:
        spsm, mtu, mps, credits = (reader.u16(w) for w in ("spsm", "mtu", "mps", "credits"))
        return cls(identifier, spsm, mtu, mps, credits, _decode_cids(reader, 1, "source_cids"))


@_register
@dataclasses.dataclass(frozen=True)
class L2CAP_CREDIT_BASED_CONNECTION_RSP(SignallingCommand):
    """Vol 3 Part A 4.26. A refused channel has destination CID 0x0000.
    ``result``: :class:`CreditBasedConnectionResult`."""

    code: ClassVar[int] = SignallingCode.L2CAP_CREDIT_BASED_CONNECTION_RSP
    mtu: int
    mps: int
    initial_credits: int
    result: int
    destination_cids: tuple[int, ...]

    def _encode_data(self) -> bytes:
        return (
            _u16(self.mtu, "mtu")
            + _u16(self.mps, "mps")
            + _u16(self.initial_credits, "initial_credits")
            + _u16(self.result, "result")
            + _encode_cids(self.destination_cids, 0, "destination_cids")
        )

    @classmethod
    def _decode_data(cls, identifier: int, reader: _Reader) -> Self:
        mtu, mps, credits, result = (reader.u16(w) for w in ("mtu", "mps", "credits", "result"))
        cids = _decode_cids(reader, 0, "destination_cids")
        return cls(identifier, mtu, mps, credits, result, cids)


@_register
@dataclasses.dataclass(frozen=True)
class L2CAP_CREDIT_BASED_RECONFIGURE_REQ(SignallingCommand):
    """Vol 3 Part A 4.27 (1 to 5 destination CIDs)."""

    code: ClassVar[int] = SignallingCode.L2CAP_CREDIT_BASED_RECONFIGURE_REQ
    mtu: int
    mps: int
    destination_cids: tuple[int, ...]

    def _encode_data(self) -> bytes:
        return (
            _u16(self.mtu, "mtu")
            + _u16(self.mps, "mps")
            + _encode_cids(self.destination_cids, 1, "destination_cids")
        )

    @classmethod
    def _decode_data(cls, identifier: int, reader: _Reader) -> Self:
        mtu, mps = reader.u16("mtu"), reader.u16("mps")
        return cls(identifier, mtu, mps, _decode_cids(reader, 1, "destination_cids"))


@_register
@dataclasses.dataclass(frozen=True)
class L2CAP_CREDIT_BASED_RECONFIGURE_RSP(SignallingCommand):
    """Vol 3 Part A 4.28. ``result``: :class:`CreditBasedReconfigureResult`."""

    code: ClassVar[int] = SignallingCode.L2CAP_CREDIT_BASED_RECONFIGURE_RSP
    result: int
