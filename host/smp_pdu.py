"""Security Manager Protocol PDUs (Core Specification Vol 3 Part H 3.3 - 3.6).

Theory of operation
-------------------
Every SMP command travels alone in one L2CAP basic frame on the fixed channel 0x0006:
a Code octet followed by the command's fixed-size data (Vol 3 Part H 3.3, Table 3.3).
Each command is a frozen dataclass carrying its code as the class variable ``CODE``;
``to_bytes()`` gives the whole PDU (code included), ``Class.from_bytes(data)`` decodes
one kind and :func:`decode_smp` dispatches on the code through :data:`SMP_PDU_CLASSES`.

Byte order: the cryptographic values (confirm and random values, keys, DHKey check
values, P-256 coordinates) are held in the fields **MSB-first**, the order in which the
specification prints them and in which :mod:`host.smp_crypto` consumes them; the codec
writes them least significant octet first, as they travel (3.3: "multi-octet fields
are transmitted with the least significant octet first"). :func:`swap` is the one
order helper of the SMP layer. EDIV and Rand are integers; identity addresses are
:class:`linklayer.hci.address.Address` (already air order).

Decoding is strict (3.3, 3.5): a PDU whose length does not match its code, or with a
reserved IO capability, OOB data flag, address type or keypress notification type,
raises :class:`SmpDecodeError` (the session answers Pairing Failed "Invalid
Parameters", 0x0A); an unknown code raises :class:`UnknownSmpCode`, a subclass (the
answer is "Command Not Supported", 0x07). The Maximum Encryption Key Size octet is
decoded as is: its range (7..16) is the pairing state machine's check, since the answer
is the same Invalid Parameters but only a session knows it is pairing.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import ClassVar, Final, Self, TypeVar

from linklayer.hci.address import Address

__all__ = [
    "SMP_CID", "SMP_MAX_ENCRYPTION_KEY_SIZE", "SMP_MIN_ENCRYPTION_KEY_SIZE",
    "SMP_PDU_CLASSES", "AuthReq", "IoCapability", "KeyDistribution",
    "KeypressNotificationType", "OobDataFlag", "PairingFailedReason",
    "SMP_Central_Identification", "SMP_Encryption_Information",
    "SMP_Identity_Address_Information", "SMP_Identity_Information",
    "SMP_Pairing_Confirm", "SMP_Pairing_DHKey_Check", "SMP_Pairing_Failed",
    "SMP_Pairing_Keypress_Notification", "SMP_Pairing_Public_Key", "SMP_Pairing_Random",
    "SMP_Pairing_Request", "SMP_Pairing_Response", "SMP_Security_Request",
    "SMP_Signing_Information", "SmpCode", "SmpDecodeError", "SmpPdu", "UnknownSmpCode",
    "decode_smp", "swap",
]

#: The LE Security Manager fixed channel (Vol 3 Part A 2.1).
SMP_CID: Final = 0x0006
#: Encryption key size range in octets (Vol 3 Part H 2.3.4).
SMP_MIN_ENCRYPTION_KEY_SIZE: Final = 7
SMP_MAX_ENCRYPTION_KEY_SIZE: Final = 16


def swap(value: bytes) -> bytes:
    """The octets of ``value`` in reverse order: MSB-first (as printed, as AES takes
    it) <-> least significant octet first (as on the air and over HCI)."""
    return bytes(value[::-1])


# ---------------------------------------------------------------------------------------
# Codes and field values
# ---------------------------------------------------------------------------------------


class SmpCode(enum.IntEnum):
    """SMP command codes (Vol 3 Part H 3.3, Table 3.3)."""

    PAIRING_REQUEST = 0x01
    PAIRING_RESPONSE = 0x02
    PAIRING_CONFIRM = 0x03
    PAIRING_RANDOM = 0x04
    PAIRING_FAILED = 0x05
    ENCRYPTION_INFORMATION = 0x06
    CENTRAL_IDENTIFICATION = 0x07
    IDENTITY_INFORMATION = 0x08
    IDENTITY_ADDRESS_INFORMATION = 0x09
    SIGNING_INFORMATION = 0x0A
    SECURITY_REQUEST = 0x0B
    PAIRING_PUBLIC_KEY = 0x0C
    PAIRING_DHKEY_CHECK = 0x0D
    PAIRING_KEYPRESS_NOTIFICATION = 0x0E


class IoCapability(enum.IntEnum):
    """IO Capability values (Vol 3 Part H 3.5.1, Table 3.4; 2.3.2)."""

    DISPLAY_ONLY = 0x00
    DISPLAY_YES_NO = 0x01
    KEYBOARD_ONLY = 0x02
    NO_INPUT_NO_OUTPUT = 0x03
    KEYBOARD_DISPLAY = 0x04


class OobDataFlag(enum.IntEnum):
    """OOB data flag (Vol 3 Part H 3.5.1, Table 3.5). In LE Secure Connections the
    flag means "I have received the peer's OOB data" (2.3.5.1)."""

    NOT_PRESENT = 0x00
    PRESENT = 0x01


class AuthReq(enum.IntFlag):
    """AuthReq octet (Vol 3 Part H 3.5.1, Figure 3.3): Bonding_Flags (bits 0-1, 0b01 =
    Bonding), MITM (bit 2), SC (bit 3), Keypress (bit 4), CT2 (bit 5). Bits 6-7 are
    reserved and kept as received."""

    BONDING = 0x01
    MITM = 0x04
    SC = 0x08
    KEYPRESS = 0x10
    CT2 = 0x20


class KeyDistribution(enum.IntFlag):
    """Initiator/Responder Key Distribution fields (Vol 3 Part H 3.6.1, Figure 3.11)."""

    ENC_KEY = 0x01
    ID_KEY = 0x02
    SIGN_KEY = 0x04
    LINK_KEY = 0x08


class PairingFailedReason(enum.IntEnum):
    """Pairing Failed reason codes (Vol 3 Part H 3.5.5, Table 3.7)."""

    PASSKEY_ENTRY_FAILED = 0x01
    OOB_NOT_AVAILABLE = 0x02
    AUTHENTICATION_REQUIREMENTS = 0x03
    CONFIRM_VALUE_FAILED = 0x04
    PAIRING_NOT_SUPPORTED = 0x05
    ENCRYPTION_KEY_SIZE = 0x06
    COMMAND_NOT_SUPPORTED = 0x07
    UNSPECIFIED_REASON = 0x08
    REPEATED_ATTEMPTS = 0x09
    INVALID_PARAMETERS = 0x0A
    DHKEY_CHECK_FAILED = 0x0B
    NUMERIC_COMPARISON_FAILED = 0x0C
    BR_EDR_PAIRING_IN_PROGRESS = 0x0D
    CROSS_TRANSPORT_KEY_DERIVATION_NOT_ALLOWED = 0x0E
    KEY_REJECTED = 0x0F


class KeypressNotificationType(enum.IntEnum):
    """Keypress Notification types (Vol 3 Part H 3.5.8, Table 3.8)."""

    PASSKEY_ENTRY_STARTED = 0
    PASSKEY_DIGIT_ENTERED = 1
    PASSKEY_DIGIT_ERASED = 2
    PASSKEY_CLEARED = 3
    PASSKEY_ENTRY_COMPLETED = 4


# ---------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------


class SmpDecodeError(ValueError):
    """Bytes that are not a valid SMP command (Vol 3 Part H 3.3); ``code`` is the
    command code when the PDU had one. The answer is Pairing Failed, Invalid
    Parameters (0x0A)."""

    reason: PairingFailedReason = PairingFailedReason.INVALID_PARAMETERS

    def __init__(self, message: str, code: int | None = None) -> None:
        self.code = code
        where = "" if code is None else f" (code 0x{code:02X})"
        super().__init__(f"SMP{where}: {message}")


class UnknownSmpCode(SmpDecodeError):
    """A command code this implementation does not know: the answer is Pairing Failed,
    Command Not Supported (0x07, Vol 3 Part H 3.3)."""

    reason = PairingFailedReason.COMMAND_NOT_SUPPORTED

    def __init__(self, code: int) -> None:
        super().__init__("unknown command code", code)


# ---------------------------------------------------------------------------------------
# Base class and registry
# ---------------------------------------------------------------------------------------

_P = TypeVar("_P", bound="SmpPdu")

#: Command code -> class (filled by :func:`_register`).
SMP_PDU_CLASSES: dict[int, type[SmpPdu]] = {}


def _register(cls: type[_P]) -> type[_P]:
    SMP_PDU_CLASSES[cls.CODE] = cls
    return cls


@dataclasses.dataclass(frozen=True)
class SmpPdu:
    """Base of every SMP command: ``CODE`` and ``LENGTH`` (octets after the code)."""

    CODE: ClassVar[int] = -1
    LENGTH: ClassVar[int] = 0

    def _body(self) -> bytes:
        raise NotImplementedError

    @classmethod
    def _parse(cls, body: bytes) -> Self:
        raise NotImplementedError

    def to_bytes(self) -> bytes:
        """The whole PDU, Code octet first."""
        body = self._body()
        assert len(body) == self.LENGTH, f"{type(self).__name__} encoded {len(body)} octets"
        return bytes([self.CODE]) + body

    def __bytes__(self) -> bytes:
        return self.to_bytes()

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> Self:
        """Decode one PDU of this kind; the length must be exact."""
        raw = bytes(data)
        if not raw:
            raise SmpDecodeError("empty PDU")
        if raw[0] != cls.CODE:
            raise SmpDecodeError(f"expected code 0x{cls.CODE:02X}", raw[0])
        if len(raw) != 1 + cls.LENGTH:
            raise SmpDecodeError(
                f"{cls.__name__} has {cls.LENGTH} octets of data, got {len(raw) - 1}",
                cls.CODE,
            )
        return cls._parse(raw[1:])


def decode_smp(data: bytes | bytearray | memoryview) -> SmpPdu:
    """Decode any SMP command (Vol 3 Part H 3.3). Raises :class:`UnknownSmpCode` for an
    unknown code and :class:`SmpDecodeError` for a malformed PDU."""
    raw = bytes(data)
    if not raw:
        raise SmpDecodeError("empty PDU")
    cls = SMP_PDU_CLASSES.get(raw[0])
    if cls is None:
        raise UnknownSmpCode(raw[0])
    return cls.from_bytes(raw)


def _need(name: str, value: bytes, size: int) -> None:
    if len(value) != size:
        raise ValueError(f"{name} must be {size} octets, not {len(value)}")


def _octet(name: str, value: int) -> int:
    if not 0 <= value <= 0xFF:
        raise ValueError(f"{name}={value} does not fit in one octet")
    return value


def _io_capability(value: int, code: int) -> IoCapability:
    try:
        return IoCapability(value)
    except ValueError:
        raise SmpDecodeError(f"reserved IO capability 0x{value:02X}", code) from None


def _oob_flag(value: int, code: int) -> OobDataFlag:
    try:
        return OobDataFlag(value)
    except ValueError:
        raise SmpDecodeError(f"reserved OOB data flag 0x{value:02X}", code) from None


# ---------------------------------------------------------------------------------------
# Pairing feature exchange (3.5.1, 3.5.2)
# ---------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _PairingFeatures(SmpPdu):
    LENGTH: ClassVar[int] = 6

    io_capability: IoCapability
    oob_data_flag: OobDataFlag
    auth_req: AuthReq
    max_encryption_key_size: int
    initiator_key_distribution: KeyDistribution
    responder_key_distribution: KeyDistribution

    def _body(self) -> bytes:
        return bytes(
            [
                _octet("io_capability", int(self.io_capability)),
                _octet("oob_data_flag", int(self.oob_data_flag)),
                _octet("auth_req", int(self.auth_req)),
                _octet("max_encryption_key_size", self.max_encryption_key_size),
                _octet("initiator_key_distribution", int(self.initiator_key_distribution)),
                _octet("responder_key_distribution", int(self.responder_key_distribution)),
            ]
        )

    @classmethod
    def _parse(cls, body: bytes) -> Self:
        return cls(
            _io_capability(body[0], cls.CODE),
            _oob_flag(body[1], cls.CODE),
            AuthReq(body[2]),
            body[3],
            KeyDistribution(body[4]),
            KeyDistribution(body[5]),
        )

    @property
    def bonding(self) -> bool:
        """Bonding_Flags == 0b01 (Vol 3 Part H 3.5.1, Table 3.6)."""
        return int(self.auth_req) & 0x03 == 0x01


@_register
@dataclasses.dataclass(frozen=True)
class SMP_Pairing_Request(_PairingFeatures):
    """Pairing Request (Vol 3 Part H 3.5.1): the initiator's features."""

    CODE: ClassVar[int] = SmpCode.PAIRING_REQUEST


@_register
@dataclasses.dataclass(frozen=True)
class SMP_Pairing_Response(_PairingFeatures):
    """Pairing Response (Vol 3 Part H 3.5.2): the responder's features."""

    CODE: ClassVar[int] = SmpCode.PAIRING_RESPONSE


# ---------------------------------------------------------------------------------------
# Commands made of one 128-bit value
# ---------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Value128(SmpPdu):
    LENGTH: ClassVar[int] = 16
    FIELD: ClassVar[str] = ""

    def _value(self) -> bytes:
        value: bytes = getattr(self, self.FIELD)
        _need(self.FIELD, value, 16)
        return value

    def _body(self) -> bytes:
        return swap(self._value())

    @classmethod
    def _parse(cls, body: bytes) -> Self:
        return cls(swap(body))  # type: ignore[call-arg]


@_register
@dataclasses.dataclass(frozen=True)
class SMP_Pairing_Confirm(_Value128):
    """Pairing Confirm (Vol 3 Part H 3.5.3): Mconfirm/Sconfirm or Ca/Cb, MSB-first."""

    CODE: ClassVar[int] = SmpCode.PAIRING_CONFIRM
    FIELD: ClassVar[str] = "confirm_value"
    confirm_value: bytes


@_register
@dataclasses.dataclass(frozen=True)
class SMP_Pairing_Random(_Value128):
    """Pairing Random (Vol 3 Part H 3.5.4): Mrand/Srand or Na/Nb, MSB-first."""

    CODE: ClassVar[int] = SmpCode.PAIRING_RANDOM
    FIELD: ClassVar[str] = "random_value"
    random_value: bytes


@_register
@dataclasses.dataclass(frozen=True)
class SMP_Encryption_Information(_Value128):
    """Encryption Information (Vol 3 Part H 3.6.2): the LTK, MSB-first."""

    CODE: ClassVar[int] = SmpCode.ENCRYPTION_INFORMATION
    FIELD: ClassVar[str] = "long_term_key"
    long_term_key: bytes


@_register
@dataclasses.dataclass(frozen=True)
class SMP_Identity_Information(_Value128):
    """Identity Information (Vol 3 Part H 3.6.4): the IRK, MSB-first."""

    CODE: ClassVar[int] = SmpCode.IDENTITY_INFORMATION
    FIELD: ClassVar[str] = "identity_resolving_key"
    identity_resolving_key: bytes


@_register
@dataclasses.dataclass(frozen=True)
class SMP_Signing_Information(_Value128):
    """Signing Information (Vol 3 Part H 3.6.6): the CSRK, MSB-first."""

    CODE: ClassVar[int] = SmpCode.SIGNING_INFORMATION
    FIELD: ClassVar[str] = "signature_key"
    signature_key: bytes


@_register
@dataclasses.dataclass(frozen=True)
class SMP_Pairing_DHKey_Check(_Value128):
    """Pairing DHKey Check (Vol 3 Part H 3.5.7): Ea/Eb, MSB-first."""

    CODE: ClassVar[int] = SmpCode.PAIRING_DHKEY_CHECK
    FIELD: ClassVar[str] = "dhkey_check"
    dhkey_check: bytes


# ---------------------------------------------------------------------------------------
# The other commands
# ---------------------------------------------------------------------------------------


@_register
@dataclasses.dataclass(frozen=True)
class SMP_Pairing_Failed(SmpPdu):
    """Pairing Failed (Vol 3 Part H 3.5.5). Any reason octet is kept (a reserved one
    from a newer peer is still a failure)."""

    CODE: ClassVar[int] = SmpCode.PAIRING_FAILED
    LENGTH: ClassVar[int] = 1
    reason: int

    def _body(self) -> bytes:
        return bytes([_octet("reason", int(self.reason))])

    @classmethod
    def _parse(cls, body: bytes) -> Self:
        try:
            return cls(PairingFailedReason(body[0]))
        except ValueError:
            return cls(body[0])


@_register
@dataclasses.dataclass(frozen=True)
class SMP_Central_Identification(SmpPdu):
    """Central Identification (Vol 3 Part H 3.6.3): EDIV (16 bits) and Rand (64 bits)."""

    CODE: ClassVar[int] = SmpCode.CENTRAL_IDENTIFICATION
    LENGTH: ClassVar[int] = 10
    ediv: int
    rand: int

    def _body(self) -> bytes:
        if not 0 <= self.ediv <= 0xFFFF or not 0 <= self.rand < 1 << 64:
            raise ValueError("EDIV is 16 bits and Rand 64 bits")
        return self.ediv.to_bytes(2, "little") + self.rand.to_bytes(8, "little")

    @classmethod
    def _parse(cls, body: bytes) -> Self:
        return cls(int.from_bytes(body[:2], "little"), int.from_bytes(body[2:], "little"))


@_register
@dataclasses.dataclass(frozen=True)
class SMP_Identity_Address_Information(SmpPdu):
    """Identity Address Information (Vol 3 Part H 3.6.5): AddrType (0 public, 1 random
    static) and BD_ADDR; held as an :class:`Address`."""

    CODE: ClassVar[int] = SmpCode.IDENTITY_ADDRESS_INFORMATION
    LENGTH: ClassVar[int] = 7
    address: Address

    def _body(self) -> bytes:
        return bytes([self.address.address_type]) + self.address.value

    @classmethod
    def _parse(cls, body: bytes) -> Self:
        if body[0] > 1:
            raise SmpDecodeError(f"reserved address type 0x{body[0]:02X}", cls.CODE)
        return cls(Address(body[1:], random=body[0] == 1))


@_register
@dataclasses.dataclass(frozen=True)
class SMP_Security_Request(SmpPdu):
    """Security Request (Vol 3 Part H 3.6.7): the peripheral's AuthReq."""

    CODE: ClassVar[int] = SmpCode.SECURITY_REQUEST
    LENGTH: ClassVar[int] = 1
    auth_req: AuthReq

    def _body(self) -> bytes:
        return bytes([_octet("auth_req", int(self.auth_req))])

    @classmethod
    def _parse(cls, body: bytes) -> Self:
        return cls(AuthReq(body[0]))


@_register
@dataclasses.dataclass(frozen=True)
class SMP_Pairing_Public_Key(SmpPdu):
    """Pairing Public Key (Vol 3 Part H 3.5.6): P-256 X and Y, each MSB-first here
    (32 octets, each coordinate least significant octet first on the air)."""

    CODE: ClassVar[int] = SmpCode.PAIRING_PUBLIC_KEY
    LENGTH: ClassVar[int] = 64
    public_key_x: bytes
    public_key_y: bytes

    def _body(self) -> bytes:
        _need("public_key_x", self.public_key_x, 32)
        _need("public_key_y", self.public_key_y, 32)
        return swap(self.public_key_x) + swap(self.public_key_y)

    @classmethod
    def _parse(cls, body: bytes) -> Self:
        return cls(swap(body[:32]), swap(body[32:]))


@_register
@dataclasses.dataclass(frozen=True)
class SMP_Pairing_Keypress_Notification(SmpPdu):
    """Keypress Notification (Vol 3 Part H 3.5.8)."""

    CODE: ClassVar[int] = SmpCode.PAIRING_KEYPRESS_NOTIFICATION
    LENGTH: ClassVar[int] = 1
    notification_type: KeypressNotificationType

    def _body(self) -> bytes:
        return bytes([int(self.notification_type)])

    @classmethod
    def _parse(cls, body: bytes) -> Self:
        try:
            return cls(KeypressNotificationType(body[0]))
        except ValueError:
            raise SmpDecodeError(f"reserved notification type 0x{body[0]:02X}", cls.CODE) from None
