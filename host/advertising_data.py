"""Advertising and scan response data (Core Specification Vol 3 Part C 11, Core
Specification Supplement Part A).

Theory of operation
-------------------
Advertising data is a sequence of AD structures, each a Length octet (counting the AD
type and the data), an AD type octet and ``Length - 1`` octets of data (Vol 3 Part C 11).
A Length of zero ends the significant part early; legacy data is zero-padded to 31
octets.

:class:`AdStructure` is one structure, kept raw (``ad_type``, ``data``) so unknown and
malformed types survive a round trip; classmethods build the typed ones (flags, names,
UUID lists, service data ...). :class:`AdvertisingData` is the ordered list with
``to_bytes()`` / ``from_bytes()`` and typed accessors that read the first well-formed
structure of a type (or all of them, for lists).

Decoding is tolerant by default, as scanners are: a zero-length structure ends the data
and a trailing structure whose Length runs past the end is dropped and reported through
``malformed=True``; accessors skip structures whose contents are malformed.
``from_bytes(data, strict=True)`` instead raises :class:`AdvertisingDataError` for a
truncated structure, non-zero octets after the end marker, or a structure of a known
type whose contents are malformed (wrong size, bad UTF-8 ...).
:meth:`AdvertisingData.build` makes the usual payloads in one call.
"""

from __future__ import annotations

import dataclasses
import enum
import codecs
from collections.abc import Callable, Iterable, Iterator
from typing import Final, Self

from host.uuid import UUID, UUIDError

__all__ = [
    "AdFlags", "AdStructure", "AdType", "AdvertisingData", "AdvertisingDataError",
    "LEGACY_ADVERTISING_DATA_MAX", "LeRole",
]

#: Advertising/scan response data of legacy advertising PDUs (Vol 6 Part B 2.3.1).
LEGACY_ADVERTISING_DATA_MAX: Final = 31


class AdvertisingDataError(ValueError):
    """Malformed advertising data (strict decoding, typed accessors on bad contents) or
    a value that cannot be encoded."""


class AdType(enum.IntEnum):
    """AD types (Bluetooth Assigned Numbers 2.3, "Common Data Types")."""

    FLAGS = 0x01
    INCOMPLETE_LIST_OF_16_BIT_SERVICE_UUIDS = 0x02
    COMPLETE_LIST_OF_16_BIT_SERVICE_UUIDS = 0x03
    INCOMPLETE_LIST_OF_32_BIT_SERVICE_UUIDS = 0x04
    COMPLETE_LIST_OF_32_BIT_SERVICE_UUIDS = 0x05
    INCOMPLETE_LIST_OF_128_BIT_SERVICE_UUIDS = 0x06
    COMPLETE_LIST_OF_128_BIT_SERVICE_UUIDS = 0x07
    SHORTENED_LOCAL_NAME = 0x08
    COMPLETE_LOCAL_NAME = 0x09
    TX_POWER_LEVEL = 0x0A
    CLASS_OF_DEVICE = 0x0D
    SIMPLE_PAIRING_HASH_C_192 = 0x0E
    SIMPLE_PAIRING_RANDOMIZER_R_192 = 0x0F
    SECURITY_MANAGER_TK_VALUE = 0x10  # also Device ID
    SECURITY_MANAGER_OUT_OF_BAND_FLAGS = 0x11
    PERIPHERAL_CONNECTION_INTERVAL_RANGE = 0x12
    LIST_OF_16_BIT_SERVICE_SOLICITATION_UUIDS = 0x14
    LIST_OF_128_BIT_SERVICE_SOLICITATION_UUIDS = 0x15
    SERVICE_DATA_16_BIT_UUID = 0x16
    PUBLIC_TARGET_ADDRESS = 0x17
    RANDOM_TARGET_ADDRESS = 0x18
    APPEARANCE = 0x19
    ADVERTISING_INTERVAL = 0x1A
    LE_BLUETOOTH_DEVICE_ADDRESS = 0x1B
    LE_ROLE = 0x1C
    SIMPLE_PAIRING_HASH_C_256 = 0x1D
    SIMPLE_PAIRING_RANDOMIZER_R_256 = 0x1E
    LIST_OF_32_BIT_SERVICE_SOLICITATION_UUIDS = 0x1F
    SERVICE_DATA_32_BIT_UUID = 0x20
    SERVICE_DATA_128_BIT_UUID = 0x21
    LE_SECURE_CONNECTIONS_CONFIRMATION_VALUE = 0x22
    LE_SECURE_CONNECTIONS_RANDOM_VALUE = 0x23
    URI = 0x24
    INDOOR_POSITIONING = 0x25
    TRANSPORT_DISCOVERY_DATA = 0x26
    LE_SUPPORTED_FEATURES = 0x27
    CHANNEL_MAP_UPDATE_INDICATION = 0x28
    PB_ADV = 0x29
    MESH_MESSAGE = 0x2A
    MESH_BEACON = 0x2B
    BIGINFO = 0x2C
    BROADCAST_CODE = 0x2D
    RESOLVABLE_SET_IDENTIFIER = 0x2E
    ADVERTISING_INTERVAL_LONG = 0x2F
    BROADCAST_NAME = 0x30
    ENCRYPTED_ADVERTISING_DATA = 0x31
    PERIODIC_ADVERTISING_RESPONSE_TIMING_INFORMATION = 0x32
    ELECTRONIC_SHELF_LABEL = 0x34
    THREE_D_INFORMATION_DATA = 0x3D
    MANUFACTURER_SPECIFIC_DATA = 0xFF


class AdFlags(enum.IntFlag):
    """Bits of the Flags AD type (Core Specification Supplement Part A 1.3)."""

    LE_LIMITED_DISCOVERABLE_MODE = 0x01
    LE_GENERAL_DISCOVERABLE_MODE = 0x02
    BR_EDR_NOT_SUPPORTED = 0x04
    SIMULTANEOUS_LE_AND_BR_EDR_CONTROLLER = 0x08
    SIMULTANEOUS_LE_AND_BR_EDR_HOST = 0x10


class LeRole(enum.IntEnum):
    """Values of the LE Role AD type (Core Specification Supplement Part A 1.17)."""

    ONLY_PERIPHERAL_ROLE_SUPPORTED = 0x00
    ONLY_CENTRAL_ROLE_SUPPORTED = 0x01
    PERIPHERAL_AND_CENTRAL_PERIPHERAL_PREFERRED = 0x02
    PERIPHERAL_AND_CENTRAL_CENTRAL_PREFERRED = 0x03


_T = AdType
#: UUID list types -> (UUID width in bits, complete?)
_SERVICE_LISTS: Final[dict[int, tuple[int, bool]]] = {
    _T.INCOMPLETE_LIST_OF_16_BIT_SERVICE_UUIDS: (16, False),
    _T.COMPLETE_LIST_OF_16_BIT_SERVICE_UUIDS: (16, True),
    _T.INCOMPLETE_LIST_OF_32_BIT_SERVICE_UUIDS: (32, False),
    _T.COMPLETE_LIST_OF_32_BIT_SERVICE_UUIDS: (32, True),
    _T.INCOMPLETE_LIST_OF_128_BIT_SERVICE_UUIDS: (128, False),
    _T.COMPLETE_LIST_OF_128_BIT_SERVICE_UUIDS: (128, True),
}
_SOLICITATION_LISTS: Final[dict[int, int]] = {
    _T.LIST_OF_16_BIT_SERVICE_SOLICITATION_UUIDS: 16,
    _T.LIST_OF_32_BIT_SERVICE_SOLICITATION_UUIDS: 32,
    _T.LIST_OF_128_BIT_SERVICE_SOLICITATION_UUIDS: 128,
}
_SERVICE_DATA: Final[dict[int, int]] = {
    _T.SERVICE_DATA_16_BIT_UUID: 16,
    _T.SERVICE_DATA_32_BIT_UUID: 32,
    _T.SERVICE_DATA_128_BIT_UUID: 128,
}
#: Exact data sizes of fixed-size types.
_FIXED_SIZES: Final[dict[int, tuple[int, ...]]] = {
    _T.TX_POWER_LEVEL: (1,),
    _T.APPEARANCE: (2,),
    _T.PERIPHERAL_CONNECTION_INTERVAL_RANGE: (4,),
    _T.LE_ROLE: (1,),
    _T.ADVERTISING_INTERVAL: (2,),
    _T.ADVERTISING_INTERVAL_LONG: (3, 4),
    _T.PUBLIC_TARGET_ADDRESS: (6,),
    _T.RANDOM_TARGET_ADDRESS: (6,),
    _T.LE_BLUETOOTH_DEVICE_ADDRESS: (7,),
    _T.CLASS_OF_DEVICE: (3,),
}
#: URI scheme name string code points (Assigned Numbers, "URI Schemes"); others are
#: encoded with the empty scheme (0x01) followed by the whole URI.
_URI_SCHEMES: Final[dict[int, str]] = {0x01: "", 0x16: "http:", 0x17: "https:"}


def _uuid_list(data: bytes, bits: int) -> list[UUID]:
    size = bits // 8
    if len(data) % size:
        raise AdvertisingDataError(f"{len(data)} octets is not a list of {bits}-bit UUIDs")
    return [UUID.from_bytes(data[i : i + size]) for i in range(0, len(data), size)]


def _uuid_bytes(uuids: Iterable[UUID], bits: int) -> bytes:
    try:
        return b"".join(u.to_bytes(bits) for u in uuids)
    except UUIDError as exc:
        raise AdvertisingDataError(str(exc)) from None


def _check_size(ad_type: int, data: bytes) -> None:
    sizes = _FIXED_SIZES.get(ad_type)
    if sizes is not None and len(data) not in sizes:
        name = AdType(ad_type).name
        raise AdvertisingDataError(f"{name} holds {sizes} octets, got {len(data)}")


@dataclasses.dataclass(frozen=True)
class AdStructure:
    """One AD structure: Length, AD type, data (Vol 3 Part C 11)."""

    ad_type: int
    data: bytes = b""

    def to_bytes(self) -> bytes:
        if not 0 <= self.ad_type <= 0xFF:
            raise AdvertisingDataError(f"AD type {self.ad_type} does not fit in one octet")
        if len(self.data) > 254:
            raise AdvertisingDataError(f"AD data of {len(self.data)} octets exceeds 254")
        return bytes((len(self.data) + 1, self.ad_type)) + bytes(self.data)

    def validate(self) -> None:
        """Raise :class:`AdvertisingDataError` if a known type's contents are malformed."""
        t, data = self.ad_type, self.data
        _check_size(t, data)
        if t in _SERVICE_LISTS:
            _uuid_list(data, _SERVICE_LISTS[t][0])
        elif t in _SOLICITATION_LISTS:
            _uuid_list(data, _SOLICITATION_LISTS[t])
        elif t in _SERVICE_DATA and len(data) < _SERVICE_DATA[t] // 8:
            raise AdvertisingDataError(f"service data of {len(data)} octets has no full UUID")
        elif t == AdType.MANUFACTURER_SPECIFIC_DATA and len(data) < 2:
            raise AdvertisingDataError("manufacturer specific data without a company identifier")
        elif t in (AdType.COMPLETE_LOCAL_NAME, AdType.SHORTENED_LOCAL_NAME, AdType.BROADCAST_NAME):
            # A shortened name may be cut inside a multi-octet character: allow that.
            final = t != AdType.SHORTENED_LOCAL_NAME
            try:
                codecs.getincrementaldecoder("utf-8")().decode(data, final=final)
            except UnicodeDecodeError as exc:
                raise AdvertisingDataError(f"name is not UTF-8: {exc}") from None
        elif t == AdType.URI:
            _decode_uri(data)

    # -- typed constructors (Core Specification Supplement Part A 1.x) -------------------

    @classmethod
    def flags(cls, flags: int) -> Self:
        """Flags (Supplement Part A 1.3), one octet."""
        if not 0 <= flags <= 0xFF:
            raise AdvertisingDataError(f"flags {flags:#x} do not fit in one octet")
        return cls(AdType.FLAGS, bytes((flags,)))

    @classmethod
    def service_uuids(cls, uuids: Iterable[UUID], bits: int, complete: bool = True) -> Self:
        """(In)complete List of 16/32/128-bit Service UUIDs (Supplement Part A 1.1)."""
        for t, (b, c) in _SERVICE_LISTS.items():
            if b == bits and c == complete:
                return cls(t, _uuid_bytes(uuids, bits))
        raise AdvertisingDataError(f"no service UUID list of {bits}-bit UUIDs")

    @classmethod
    def service_solicitation(cls, uuids: Iterable[UUID], bits: int) -> Self:
        """List of 16/32/128-bit Service Solicitation UUIDs (Supplement Part A 1.10)."""
        for t, b in _SOLICITATION_LISTS.items():
            if b == bits:
                return cls(t, _uuid_bytes(uuids, bits))
        raise AdvertisingDataError(f"no solicitation list of {bits}-bit UUIDs")

    @classmethod
    def complete_local_name(cls, name: str) -> Self:
        """Complete Local Name, UTF-8 (Supplement Part A 1.2)."""
        return cls(AdType.COMPLETE_LOCAL_NAME, name.encode("utf-8"))

    @classmethod
    def shortened_local_name(cls, name: str) -> Self:
        """Shortened Local Name, UTF-8 (Supplement Part A 1.2)."""
        return cls(AdType.SHORTENED_LOCAL_NAME, name.encode("utf-8"))

    @classmethod
    def tx_power_level(cls, dbm: int) -> Self:
        """Tx Power Level, signed dBm (Supplement Part A 1.5)."""
        if not -127 <= dbm <= 127:
            raise AdvertisingDataError(f"TX power {dbm} dBm is not in -127..127")
        return cls(AdType.TX_POWER_LEVEL, dbm.to_bytes(1, "little", signed=True))

    @classmethod
    def appearance(cls, value: int) -> Self:
        """Appearance, 16 bits (Supplement Part A 1.12)."""
        return cls(AdType.APPEARANCE, _u16(value, "appearance"))

    @classmethod
    def service_data(cls, uuid: UUID, data: bytes) -> Self:
        """Service Data for a 16/32/128-bit UUID, shortest form (Supplement Part A 1.11)."""
        bits = uuid.shortest_bits
        ad_type = next(t for t, b in _SERVICE_DATA.items() if b == bits)
        return cls(ad_type, uuid.to_bytes(bits) + bytes(data))

    @classmethod
    def manufacturer_specific_data(cls, company_id: int, data: bytes) -> Self:
        """Manufacturer Specific Data: company identifier then data (Supplement Part A 1.4)."""
        return cls(AdType.MANUFACTURER_SPECIFIC_DATA, _u16(company_id, "company_id") + bytes(data))

    @classmethod
    def peripheral_connection_interval_range(cls, interval_min: int, interval_max: int) -> Self:
        """In 1.25 ms units, 0xFFFF = no specific value (Supplement Part A 1.9)."""
        return cls(
            AdType.PERIPHERAL_CONNECTION_INTERVAL_RANGE,
            _u16(interval_min, "interval_min") + _u16(interval_max, "interval_max"),
        )

    @classmethod
    def le_role(cls, role: int) -> Self:
        """LE Role (Supplement Part A 1.17)."""
        if role not in LeRole._value2member_map_:
            raise AdvertisingDataError(f"LE role {role} is reserved")
        return cls(AdType.LE_ROLE, bytes((role,)))

    @classmethod
    def uri(cls, uri: str) -> Self:
        """URI: scheme code point then the rest, UTF-8 (Supplement Part A 1.18)."""
        for code, scheme in _URI_SCHEMES.items():
            if scheme and uri.startswith(scheme):
                return cls(AdType.URI, (chr(code) + uri[len(scheme) :]).encode("utf-8"))
        return cls(AdType.URI, ("\x01" + uri).encode("utf-8"))

    @classmethod
    def advertising_interval(cls, interval: int) -> Self:
        """Advertising Interval in 0.625 ms units; 3 octets (Advertising Interval - long)
        above 0xFFFF (Supplement Part A 1.15, 1.19)."""
        if 0 <= interval <= 0xFFFF:
            return cls(AdType.ADVERTISING_INTERVAL, interval.to_bytes(2, "little"))
        if 0 <= interval <= 0xFFFFFF:
            return cls(AdType.ADVERTISING_INTERVAL_LONG, interval.to_bytes(3, "little"))
        raise AdvertisingDataError(f"advertising interval {interval} does not fit in 3 octets")


def _u16(value: int, what: str) -> bytes:
    if not 0 <= value <= 0xFFFF:
        raise AdvertisingDataError(f"{what}={value} does not fit in two octets")
    return value.to_bytes(2, "little")


def _decode_uri(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AdvertisingDataError(f"URI is not UTF-8: {exc}") from None
    if not text:
        raise AdvertisingDataError("URI without a scheme code point")
    scheme = _URI_SCHEMES.get(ord(text[0]))
    if scheme is None:
        raise AdvertisingDataError(f"unknown URI scheme code point {ord(text[0]):#x}")
    return scheme + text[1:]


def _as_uuid(value: UUID | int | str) -> UUID:
    try:
        return value if isinstance(value, UUID) else UUID(value)
    except UUIDError as exc:
        raise AdvertisingDataError(str(exc)) from None


@dataclasses.dataclass(frozen=True)
class AdvertisingData:
    """An ordered list of AD structures (Vol 3 Part C 11).

    ``malformed`` is set by tolerant decoding when a trailing structure was truncated
    (it is not encoded: ``to_bytes()`` gives the well-formed structures only).
    """

    structures: tuple[AdStructure, ...] = ()
    malformed: bool = False

    # -- codec -----------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        return b"".join(s.to_bytes() for s in self.structures)

    def __bytes__(self) -> bytes:
        return self.to_bytes()

    @property
    def encoded_length(self) -> int:
        """Octets of ``to_bytes()`` (legacy PDUs carry at most 31)."""
        return sum(2 + len(s.data) for s in self.structures)

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview, strict: bool = False) -> Self:
        """Decode advertising or scan response data (tolerant unless ``strict``)."""
        raw = bytes(data)
        structures: list[AdStructure] = []
        offset = 0
        malformed = False
        while offset < len(raw):
            length = raw[offset]
            if length == 0:
                if strict and any(raw[offset:]):
                    raise AdvertisingDataError(
                        f"non-zero octets after the end of the data at offset {offset}"
                    )
                break
            end = offset + 1 + length
            if end > len(raw):
                if strict:
                    raise AdvertisingDataError(
                        f"AD structure at offset {offset} has Length {length} but only "
                        f"{len(raw) - offset - 1} octets follow"
                    )
                malformed = True
                break
            t = raw[offset + 1]
            ad_type: int = AdType(t) if t in AdType._value2member_map_ else t
            structures.append(AdStructure(ad_type, raw[offset + 2 : end]))
            offset = end
        result = cls(tuple(structures), malformed)
        if strict:
            for s in structures:
                s.validate()
        return result

    @classmethod
    def of(cls, *structures: AdStructure) -> Self:
        return cls(tuple(structures))

    def __iter__(self) -> Iterator[AdStructure]:
        return iter(self.structures)

    def __add__(self, other: AdvertisingData) -> AdvertisingData:
        return AdvertisingData(self.structures + other.structures, self.malformed or other.malformed)

    @classmethod
    def build(
        cls,
        *,
        flags: int | None = None,
        name: str | None = None,
        short_name: str | None = None,
        services: Iterable[UUID | int | str] = (),
        services_complete: bool = True,
        service_data: Iterable[tuple[UUID | int | str, bytes]] = (),
        solicited_services: Iterable[UUID | int | str] = (),
        appearance: int | None = None,
        tx_power: int | None = None,
        manufacturer: tuple[int, bytes] | None = None,
        le_role: int | None = None,
        uri: str | None = None,
        peripheral_connection_interval_range: tuple[int, int] | None = None,
        advertising_interval: int | None = None,
        max_length: int | None = None,
    ) -> Self:
        """Build the usual payload, structures in this order: flags, complete then
        shortened local name, service UUID lists (16, 32, 128-bit, each UUID in its
        shortest form), service data, solicitation lists, appearance, TX power,
        manufacturer data, LE role, URI, connection interval range, advertising interval.

        ``max_length`` (e.g. :data:`LEGACY_ADVERTISING_DATA_MAX`) raises
        :class:`AdvertisingDataError` when the encoding would be longer.
        """
        out: list[AdStructure] = []
        if flags is not None:
            out.append(AdStructure.flags(flags))
        if name is not None:
            out.append(AdStructure.complete_local_name(name))
        if short_name is not None:
            out.append(AdStructure.shortened_local_name(short_name))
        out.extend(_grouped(services, lambda us, b: AdStructure.service_uuids(us, b, services_complete)))
        for uuid, payload in service_data:
            out.append(AdStructure.service_data(_as_uuid(uuid), payload))
        out.extend(_grouped(solicited_services, AdStructure.service_solicitation))
        if appearance is not None:
            out.append(AdStructure.appearance(appearance))
        if tx_power is not None:
            out.append(AdStructure.tx_power_level(tx_power))
        if manufacturer is not None:
            out.append(AdStructure.manufacturer_specific_data(*manufacturer))
        if le_role is not None:
            out.append(AdStructure.le_role(le_role))
        if uri is not None:
            out.append(AdStructure.uri(uri))
        if peripheral_connection_interval_range is not None:
            out.append(AdStructure.peripheral_connection_interval_range(*peripheral_connection_interval_range))
        if advertising_interval is not None:
            out.append(AdStructure.advertising_interval(advertising_interval))
        result = cls(tuple(out))
        if max_length is not None and result.encoded_length > max_length:
            raise AdvertisingDataError(
                f"advertising data needs {result.encoded_length} octets, limit is {max_length}"
            )
        return result

    # -- generic access ------------------------------------------------------------------

    def get_all(self, ad_type: int) -> list[bytes]:
        """Data of every structure of this type, in order."""
        return [s.data for s in self.structures if s.ad_type == ad_type]

    def get(self, ad_type: int) -> bytes | None:
        """Data of the first structure of this type."""
        for s in self.structures:
            if s.ad_type == ad_type:
                return s.data
        return None

    def _valid(self, *types: int) -> Iterator[AdStructure]:
        for s in self.structures:
            if s.ad_type in types:
                try:
                    s.validate()
                except AdvertisingDataError:
                    continue
                yield s

    def _first_valid(self, *types: int) -> AdStructure | None:
        return next(self._valid(*types), None)

    # -- typed access --------------------------------------------------------------------

    @property
    def flags(self) -> AdFlags | None:
        s = self._first_valid(AdType.FLAGS)
        return None if s is None else AdFlags(int.from_bytes(s.data, "little"))

    @property
    def complete_local_name(self) -> str | None:
        """The complete name; invalid UTF-8 octets become U+FFFD."""
        data = self.get(AdType.COMPLETE_LOCAL_NAME)
        return None if data is None else data.decode("utf-8", errors="replace")

    @property
    def shortened_local_name(self) -> str | None:
        """The shortened name; a name cut inside a UTF-8 sequence loses that character."""
        data = self.get(AdType.SHORTENED_LOCAL_NAME)
        if data is None:
            return None
        return codecs.getincrementaldecoder("utf-8")(errors="replace").decode(data, final=False)

    @property
    def local_name(self) -> str | None:
        """The complete local name, else the shortened one."""
        name = self.complete_local_name
        return name if name is not None else self.shortened_local_name

    @property
    def service_uuids(self) -> list[UUID]:
        """UUIDs of every (in)complete service UUID list, in order."""
        return [
            u
            for s in self._valid(*_SERVICE_LISTS)
            for u in _uuid_list(s.data, _SERVICE_LISTS[s.ad_type][0])
        ]

    @property
    def service_solicitation_uuids(self) -> list[UUID]:
        return [
            u
            for s in self._valid(*_SOLICITATION_LISTS)
            for u in _uuid_list(s.data, _SOLICITATION_LISTS[s.ad_type])
        ]

    @property
    def service_data(self) -> list[tuple[UUID, bytes]]:
        out: list[tuple[UUID, bytes]] = []
        for s in self._valid(*_SERVICE_DATA):
            size = _SERVICE_DATA[s.ad_type] // 8
            out.append((UUID.from_bytes(s.data[:size]), s.data[size:]))
        return out

    @property
    def manufacturer_specific_data(self) -> list[tuple[int, bytes]]:
        """``(company_id, data)`` of every Manufacturer Specific Data structure."""
        return [
            (int.from_bytes(s.data[:2], "little"), s.data[2:])
            for s in self._valid(AdType.MANUFACTURER_SPECIFIC_DATA)
        ]

    @property
    def tx_power_level(self) -> int | None:
        s = self._first_valid(AdType.TX_POWER_LEVEL)
        return None if s is None else int.from_bytes(s.data, "little", signed=True)

    @property
    def appearance(self) -> int | None:
        s = self._first_valid(AdType.APPEARANCE)
        return None if s is None else int.from_bytes(s.data, "little")

    @property
    def peripheral_connection_interval_range(self) -> tuple[int, int] | None:
        s = self._first_valid(AdType.PERIPHERAL_CONNECTION_INTERVAL_RANGE)
        if s is None:
            return None
        return int.from_bytes(s.data[:2], "little"), int.from_bytes(s.data[2:], "little")

    @property
    def le_role(self) -> int | None:
        s = self._first_valid(AdType.LE_ROLE)
        if s is None:
            return None
        return LeRole(s.data[0]) if s.data[0] in LeRole._value2member_map_ else s.data[0]

    @property
    def uri(self) -> str | None:
        s = self._first_valid(AdType.URI)
        return None if s is None else _decode_uri(s.data)

    @property
    def advertising_interval(self) -> int | None:
        """In 0.625 ms units, from Advertising Interval or Advertising Interval - long."""
        s = self._first_valid(AdType.ADVERTISING_INTERVAL, AdType.ADVERTISING_INTERVAL_LONG)
        return None if s is None else int.from_bytes(s.data, "little")


def _grouped(
    values: Iterable[UUID | int | str], make: Callable[[list[UUID], int], AdStructure]
) -> list[AdStructure]:
    """One list structure per UUID width (16, 32, 128), each UUID in its shortest form."""
    by_bits: dict[int, list[UUID]] = {16: [], 32: [], 128: []}
    for v in values:
        u = _as_uuid(v)
        by_bits[u.shortest_bits].append(u)
    return [make(us, bits) for bits, us in by_bits.items() if us]

