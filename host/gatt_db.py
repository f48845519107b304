"""The GATT attribute database: definitions, handle allocation and the discovered view.

Theory of operation
-------------------
An application describes a service with frozen definitions (:class:`ServiceDef`,
:class:`CharacteristicDef`, :class:`DescriptorDef`) and hands it to
:meth:`AttributeDatabase.add_service`, which turns it into attributes (Core Specification
Vol 3 Part G 3) with stable handles: services are laid out in the order they are added,
each one's handles contiguous, starting right after the highest handle ever used, and a
removed service leaves its handles unused (:meth:`AttributeDatabase.clear` empties the
database and restarts allocation at handle 1). Per service: the service declaration, its
include declarations, then per characteristic its declaration, its value, the automatic
descriptors (Extended Properties if any, User Description if given, CCCD when it can
notify or indicate) and the application's descriptors. The returned :class:`Service` and
:class:`Characteristic` name every handle.

:class:`Attribute` is the mutable storage of one attribute: type, value (at most 512
octets), :class:`Permissions`, hooks, and a :class:`AttributeKind` for the attributes
whose value the server computes per connection (CCCD, Client Supported Features,
Database Hash). Hooks receive an :class:`AttributeAccess`; they may answer (read: return
the whole value, ``None`` for the stored one), deny (raise
:class:`~host.att.AttError`) or answer later (return a :class:`Deferred`).

:meth:`AttributeDatabase.describe` gives the database as the same frozen view classes
the GATT client builds by discovery (:class:`ServiceInfo`, :class:`IncludeInfo`,
:class:`CharacteristicInfo`, :class:`DescriptorInfo`), so "the client's view equals the
server's definition" is one ``==``. :meth:`AttributeDatabase.database_hash` is the
Database Hash of Vol 3 Part G 7.3. :meth:`AttributeDatabase.position_of` names a
characteristic independently of handles (:class:`CharacteristicPosition`), so that state
kept for bonded clients can follow it into a rebuilt database.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Callable, Final, Iterator

from host.att import AttError, AttLocalError
from host.att_pdu import ATT_MAX_ATTRIBUTE_VALUE_LENGTH
from host.smp_crypto import aes_cmac
from host.uuid import UUID

__all__ = [
    "APPEARANCE_UUID", "AccessMethod", "Attribute", "AttributeAccess", "AttributeDatabase",
    "AttributeKind", "CCCD_UUID", "CHARACTERISTIC_UUID", "CLIENT_SUPPORTED_FEATURES_UUID",
    "CharacteristicDef", "CharacteristicInfo", "CharacteristicPosition",
    "CharacteristicProperties", "Characteristic", "DATABASE_HASH_UUID", "DEVICE_NAME_UUID",
    "DescriptorDef", "DescriptorInfo", "Deferred", "EXTENDED_PROPERTIES_UUID",
    "ExtendedProperties", "GAP_SERVICE_UUID", "GATT_SERVICE_UUID", "INCLUDE_UUID",
    "IncludeInfo", "PERIPHERAL_PREFERRED_CONNECTION_PARAMETERS_UUID", "PRIMARY_SERVICE_UUID",
    "Permissions", "ReadHook", "SECONDARY_SERVICE_UUID", "SERVER_SUPPORTED_FEATURES_UUID",
    "SERVICE_CHANGED_UUID", "Service", "ServiceDef", "ServiceInfo", "USER_DESCRIPTION_UUID",
    "WriteHook",
]

# -- GATT attribute types (Assigned Numbers 3.5-3.8) -----------------------------------
PRIMARY_SERVICE_UUID: Final = UUID(0x2800)
SECONDARY_SERVICE_UUID: Final = UUID(0x2801)
INCLUDE_UUID: Final = UUID(0x2802)
CHARACTERISTIC_UUID: Final = UUID(0x2803)
EXTENDED_PROPERTIES_UUID: Final = UUID(0x2900)
USER_DESCRIPTION_UUID: Final = UUID(0x2901)
CCCD_UUID: Final = UUID(0x2902)
SERVER_CHARACTERISTIC_CONFIGURATION_UUID: Final = UUID(0x2903)
PRESENTATION_FORMAT_UUID: Final = UUID(0x2904)
AGGREGATE_FORMAT_UUID: Final = UUID(0x2905)
GAP_SERVICE_UUID: Final = UUID(0x1800)
GATT_SERVICE_UUID: Final = UUID(0x1801)
DEVICE_NAME_UUID: Final = UUID(0x2A00)
APPEARANCE_UUID: Final = UUID(0x2A01)
PERIPHERAL_PREFERRED_CONNECTION_PARAMETERS_UUID: Final = UUID(0x2A04)
SERVICE_CHANGED_UUID: Final = UUID(0x2A05)
CLIENT_SUPPORTED_FEATURES_UUID: Final = UUID(0x2B29)
DATABASE_HASH_UUID: Final = UUID(0x2B2A)
SERVER_SUPPORTED_FEATURES_UUID: Final = UUID(0x2B3A)

_SERVICE_TYPES: Final = (PRIMARY_SERVICE_UUID, SECONDARY_SERVICE_UUID)


class CharacteristicProperties(enum.IntFlag):
    """Characteristic Properties bit field (Vol 3 Part G 3.3.1.1, Table 3.5)."""

    BROADCAST = 0x01
    READ = 0x02
    WRITE_WITHOUT_RESPONSE = 0x04
    WRITE = 0x08
    NOTIFY = 0x10
    INDICATE = 0x20
    AUTHENTICATED_SIGNED_WRITES = 0x40
    EXTENDED_PROPERTIES = 0x80


class ExtendedProperties(enum.IntFlag):
    """Characteristic Extended Properties bit field (Vol 3 Part G 3.3.3.1, Table 3.11)."""

    RELIABLE_WRITE = 0x0001
    WRITABLE_AUXILIARIES = 0x0002


class Permissions(enum.IntFlag):
    """Attribute permissions (Vol 3 Part F 3.2.5): access, then security per direction.

    ``*_ENCRYPTED`` needs an encrypted link, ``*_AUTHENTICATED`` an authenticated
    (MITM-protected) key, ``*_AUTHORIZED`` the application's authorization.
    """

    READ = 0x01
    WRITE = 0x02
    READ_ENCRYPTED = 0x04
    READ_AUTHENTICATED = 0x08
    READ_AUTHORIZED = 0x10
    WRITE_ENCRYPTED = 0x20
    WRITE_AUTHENTICATED = 0x40
    WRITE_AUTHORIZED = 0x80


class AttributeKind(enum.Enum):
    """Where an attribute's value comes from."""

    STATIC = "static"  # stored in Attribute.value (hooks may override)
    CCCD = "cccd"  # per connection, Vol 3 Part G 3.3.3.3
    CLIENT_SUPPORTED_FEATURES = "client_supported_features"  # per connection, 7.2
    DATABASE_HASH = "database_hash"  # computed, 7.3


class AccessMethod(enum.Enum):
    """The ATT method that caused an access, as hooks see it."""

    READ = "read"
    WRITE_REQUEST = "write_request"
    WRITE_COMMAND = "write_command"
    SIGNED_WRITE_COMMAND = "signed_write_command"
    EXECUTE_WRITE = "execute_write"


@dataclass(frozen=True)
class AttributeAccess:
    """What a hook is told: ``value`` is the whole new value for writes, ``b""`` for reads;
    ``offset`` is the Read Blob offset for reads (0 otherwise)."""

    connection: int
    handle: int
    uuid: UUID
    method: AccessMethod
    offset: int
    value: bytes
    now: int


class Deferred:
    """An answer an application hook gives later (e.g. after asking the user).

    Return it from a hook, keep it, then call :meth:`complete` (a read: with the whole
    value, or ``None`` for the stored one) or :meth:`fail` with an :class:`AttError`.
    Reads can be deferred in every request that reads values through hooks (Read, Read
    Blob, Read By Type, Read Multiple, Read Multiple Variable: the server answers once
    the values it needs are known, whatever order they complete in), writes in Write
    Request (and Write Command, whose outcome nobody hears). An Execute Write whose
    hook defers is answered with UNLIKELY_ERROR.
    """

    def __init__(self) -> None:
        self._callbacks: list[Callable[[bytes | None | AttError], None]] = []
        self._result: tuple[bytes | None | AttError] | None = None

    @property
    def done(self) -> bool:
        return self._result is not None

    @property
    def result(self) -> bytes | None | AttError:
        """The outcome; :class:`AttLocalError` before completion."""
        if self._result is None:
            raise AttLocalError("this Deferred is not completed yet")
        return self._result[0]

    def complete(self, value: bytes | None = None) -> None:
        self._finish(None if value is None else bytes(value))

    def fail(self, error: AttError) -> None:
        self._finish(error)

    def _finish(self, result: bytes | None | AttError) -> None:
        if self._result is not None:
            raise AttLocalError("this Deferred is already completed")
        self._result = (result,)
        for callback in self._callbacks:
            callback(result)

    def add_callback(self, callback: Callable[[bytes | None | AttError], None]) -> None:
        """Run ``callback`` with the outcome (at once, if already known); in order."""
        self._callbacks.append(callback)
        if self._result is not None:
            callback(self._result[0])


ReadHook = Callable[[AttributeAccess], "bytes | None | Deferred"]
WriteHook = Callable[[AttributeAccess], "None | Deferred"]


@dataclass(eq=False)
class Attribute:
    """One attribute (Vol 3 Part F 3.2): mutable storage owned by the database."""

    handle: int
    type: UUID
    value: bytes = b""
    permissions: Permissions = Permissions.READ
    min_key_size: int = 0
    kind: AttributeKind = AttributeKind.STATIC
    max_length: int = ATT_MAX_ATTRIBUTE_VALUE_LENGTH
    fixed_length: bool = False
    read_hook: ReadHook | None = None
    write_hook: WriteHook | None = None
    #: Service declarations: the service's last handle (group end).
    group_end: int = 0
    #: CCCD: the bits the characteristic allows (1 notify, 2 indicate); value handle.
    cccd_allowed: int = 0
    characteristic_value_handle: int = 0


# ---------------------------------------------------------------------------------------
# Definitions (input) and allocations (output)
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DescriptorDef:
    """A characteristic descriptor (Vol 3 Part G 3.3.3)."""

    uuid: UUID
    value: bytes = b""
    permissions: Permissions = Permissions.READ
    min_key_size: int = 0
    max_length: int = ATT_MAX_ATTRIBUTE_VALUE_LENGTH
    fixed_length: bool = False
    read_hook: ReadHook | None = None
    write_hook: WriteHook | None = None


@dataclass(frozen=True)
class CharacteristicDef:
    """A characteristic (Vol 3 Part G 3.3).

    ``permissions`` of the value default from ``properties`` (READ if readable, WRITE if
    any write property). A CCCD is added when it can notify or indicate, an Extended
    Properties descriptor when ``extended_properties`` is non-zero (which also sets the
    EXTENDED_PROPERTIES property bit) and a User Description when ``user_description``
    is given (writable with WRITABLE_AUXILIARIES). ``cccd_after``: the CCCD comes after
    that many of ``descriptors`` (a stack that lays descriptors out in declaration order);
    ``None`` puts it before them.
    """

    uuid: UUID
    properties: CharacteristicProperties
    value: bytes = b""
    permissions: Permissions | None = None
    min_key_size: int = 0
    max_length: int = ATT_MAX_ATTRIBUTE_VALUE_LENGTH
    fixed_length: bool = False
    descriptors: tuple[DescriptorDef, ...] = ()
    extended_properties: ExtendedProperties = ExtendedProperties(0)
    user_description: str | None = None
    cccd_permissions: Permissions = Permissions.READ | Permissions.WRITE
    read_hook: ReadHook | None = None
    write_hook: WriteHook | None = None
    cccd_after: int | None = None


@dataclass(frozen=True)
class Service:
    """An allocated service: its handle range and what lies inside."""

    uuid: UUID
    start_handle: int
    end_handle: int
    primary: bool
    include_handles: tuple[int, ...]
    characteristics: tuple[Characteristic, ...]


@dataclass(frozen=True)
class ServiceDef:
    """A service (Vol 3 Part G 3.1); ``includes`` name services already added (3.2)."""

    uuid: UUID
    characteristics: tuple[CharacteristicDef, ...] = ()
    includes: tuple[Service, ...] = ()
    primary: bool = True


@dataclass(frozen=True)
class Characteristic:
    """An allocated characteristic. ``descriptor_handles`` follow the order of
    :attr:`CharacteristicDef.descriptors`."""

    uuid: UUID
    properties: int
    declaration_handle: int
    value_handle: int
    end_handle: int
    cccd_handle: int | None
    extended_properties_handle: int | None
    user_description_handle: int | None
    descriptor_handles: tuple[int, ...]


@dataclass(frozen=True)
class CharacteristicPosition:
    """A characteristic named without handles: the UUID of its service and that
    service's index among the services with the same UUID (handle order), then its own
    UUID and index among the characteristics with the same UUID in the service. It
    stays the same when services are inserted before it or the database is rebuilt
    with the same definitions."""

    service_uuid: UUID
    service_index: int
    characteristic_uuid: UUID
    characteristic_index: int


# -- the view shared with the GATT client ----------------------------------------------


@dataclass(frozen=True)
class DescriptorInfo:
    """A descriptor as discovered (Vol 3 Part G 4.7.1)."""

    handle: int
    uuid: UUID


@dataclass(frozen=True)
class CharacteristicInfo:
    """A characteristic as discovered (Vol 3 Part G 4.6); ``end_handle`` is its last
    attribute (the next declaration minus one, or the service end)."""

    declaration_handle: int
    value_handle: int
    end_handle: int
    uuid: UUID
    properties: int
    descriptors: tuple[DescriptorInfo, ...] = ()


@dataclass(frozen=True)
class IncludeInfo:
    """An include declaration as discovered (Vol 3 Part G 4.5.1)."""

    handle: int
    start_handle: int
    end_handle: int
    uuid: UUID


@dataclass(frozen=True)
class ServiceInfo:
    """A service as discovered (Vol 3 Part G 4.4)."""

    start_handle: int
    end_handle: int
    uuid: UUID
    primary: bool = True
    includes: tuple[IncludeInfo, ...] = ()
    characteristics: tuple[CharacteristicInfo, ...] = ()


def att_uuid_bytes(uuid: UUID) -> bytes:
    """A UUID as ATT carries it: 2 octets for 16-bit UUIDs, else 16 (Vol 3 Part F 3.2.1)."""
    return uuid.to_bytes(16 if uuid.bits == 16 else 128)


def _check_value(value: bytes, max_length: int, what: str) -> bytes:
    if not 0 <= max_length <= ATT_MAX_ATTRIBUTE_VALUE_LENGTH:
        raise AttLocalError(f"{what}: max_length must be 0..{ATT_MAX_ATTRIBUTE_VALUE_LENGTH}")
    if len(value) > max_length:
        raise AttLocalError(f"{what}: a {len(value)}-octet value exceeds {max_length} octets")
    return bytes(value)


# ---------------------------------------------------------------------------------------
# The database
# ---------------------------------------------------------------------------------------


class AttributeDatabase:
    """Attributes by handle, with stable allocation (see the module docstring)."""

    def __init__(self) -> None:
        self._attributes: dict[int, Attribute] = {}
        self._sorted: list[Attribute] = []
        self._services: list[Service] = []
        self._cccds: dict[int, Attribute] = {}  # characteristic value handle -> its CCCD
        self._next_handle = 1
        self._hash: bytes | None = None
        self._positions: dict[int, CharacteristicPosition] | None = None

    def clear(self) -> None:
        """Forget every attribute: the next service starts at handle 1 again."""
        self._attributes.clear()
        self._sorted = []
        self._services = []
        self._cccds = {}
        self._next_handle = 1
        self._hash = None
        self._positions = None

    # -- lookup ---------------------------------------------------------------------------

    def get(self, handle: int) -> Attribute | None:
        return self._attributes.get(handle)

    def __getitem__(self, handle: int) -> Attribute:
        try:
            return self._attributes[handle]
        except KeyError:
            raise AttLocalError(f"no attribute with handle 0x{handle:04X}") from None

    def __iter__(self) -> Iterator[Attribute]:
        return iter(self._sorted)

    def __len__(self) -> int:
        return len(self._sorted)

    def in_range(self, start: int, end: int) -> Iterator[Attribute]:
        """Attributes with ``start <= handle <= end``, in handle order."""
        for attr in self._sorted:
            if attr.handle > end:
                return
            if attr.handle >= start:
                yield attr

    def cccd_of(self, value_handle: int) -> Attribute | None:
        """The CCCD of the characteristic whose value is at ``value_handle``."""
        return self._cccds.get(value_handle)

    @property
    def services(self) -> tuple[Service, ...]:
        return tuple(self._services)

    # -- building -------------------------------------------------------------------------

    def add_service(self, definition: ServiceDef) -> Service:
        """Allocate handles for ``definition`` (after every handle used so far)."""
        handle = self._next_handle
        new: list[Attribute] = []

        def take(attr: Attribute) -> int:
            nonlocal handle
            if handle > 0xFFFF:
                raise AttLocalError("the attribute handle space (0x0001-0xFFFF) is exhausted")
            attr.handle = handle
            new.append(attr)
            handle += 1
            return attr.handle

        decl_type = PRIMARY_SERVICE_UUID if definition.primary else SECONDARY_SERVICE_UUID
        service_decl = Attribute(0, decl_type, att_uuid_bytes(definition.uuid))
        take(service_decl)
        include_handles: list[int] = []
        for inc in definition.includes:
            if inc not in self._services:
                raise AttLocalError(f"included service {inc.uuid} is not in this database")
            value = inc.start_handle.to_bytes(2, "little") + inc.end_handle.to_bytes(2, "little")
            if inc.uuid.bits == 16:
                value += inc.uuid.to_bytes(16)
            include_handles.append(take(Attribute(0, INCLUDE_UUID, value)))
        chars = [self._add_characteristic(c, take) for c in definition.characteristics]
        service = Service(
            definition.uuid, service_decl.handle, handle - 1, definition.primary,
            tuple(include_handles), tuple(chars),
        )
        service_decl.group_end = service.end_handle
        # Commit only once everything was allocated without error.
        for attr in new:
            self._attributes[attr.handle] = attr
            if attr.kind is AttributeKind.CCCD:
                self._cccds[attr.characteristic_value_handle] = attr
        self._sorted.extend(new)
        self._services.append(service)
        self._next_handle = handle
        self._hash = None
        self._positions = None
        return service

    def _add_characteristic(
        self, cdef: CharacteristicDef, take: Callable[[Attribute], int]
    ) -> Characteristic:
        props = CharacteristicProperties(cdef.properties)
        if cdef.extended_properties:
            props |= CharacteristicProperties.EXTENDED_PROPERTIES
        perms = cdef.permissions
        if perms is None:
            perms = Permissions(0)
            if props & CharacteristicProperties.READ:
                perms |= Permissions.READ
            writes = (
                CharacteristicProperties.WRITE
                | CharacteristicProperties.WRITE_WITHOUT_RESPONSE
                | CharacteristicProperties.AUTHENTICATED_SIGNED_WRITES
            )
            if props & writes:
                perms |= Permissions.WRITE
        value = _check_value(cdef.value, cdef.max_length, f"characteristic {cdef.uuid}")
        decl = Attribute(0, CHARACTERISTIC_UUID)
        take(decl)
        value_attr = Attribute(
            0, cdef.uuid, value, perms, cdef.min_key_size, AttributeKind.STATIC,
            cdef.max_length, cdef.fixed_length, cdef.read_hook, cdef.write_hook,
        )
        value_handle = take(value_attr)
        decl.value = bytes((int(props),)) + value_handle.to_bytes(2, "little") + att_uuid_bytes(cdef.uuid)
        ext_handle = cud_handle = cccd_handle = None
        if cdef.extended_properties:
            ext_value = int(cdef.extended_properties).to_bytes(2, "little")
            ext_handle = take(Attribute(0, EXTENDED_PROPERTIES_UUID, ext_value, fixed_length=True))
        if cdef.user_description is not None:
            cud_perms = Permissions.READ
            if cdef.extended_properties & ExtendedProperties.WRITABLE_AUXILIARIES:
                cud_perms |= Permissions.WRITE
            text = _check_value(cdef.user_description.encode(), 512, "user description")
            cud_handle = take(Attribute(0, USER_DESCRIPTION_UUID, text, cud_perms))
        allowed = (1 if props & CharacteristicProperties.NOTIFY else 0) | (
            2 if props & CharacteristicProperties.INDICATE else 0
        )
        cccd_at = 0 if cdef.cccd_after is None else max(0, min(cdef.cccd_after, len(cdef.descriptors)))
        desc_handles = []
        for i, d in enumerate((*cdef.descriptors, None)):
            if allowed and i == cccd_at:
                cccd_handle = take(
                    Attribute(
                        0, CCCD_UUID, b"\x00\x00", cdef.cccd_permissions, kind=AttributeKind.CCCD,
                        max_length=2, fixed_length=True, cccd_allowed=allowed,
                        characteristic_value_handle=value_handle,
                    )
                )
            if d is None:
                break
            dvalue = _check_value(d.value, d.max_length, f"descriptor {d.uuid}")
            desc_handles.append(
                take(
                    Attribute(
                        0, d.uuid, dvalue, d.permissions, d.min_key_size, AttributeKind.STATIC,
                        d.max_length, d.fixed_length, d.read_hook, d.write_hook,
                    )
                )
            )
        last = max([value_handle, *desc_handles, *(h for h in (ext_handle, cud_handle, cccd_handle) if h)])
        return Characteristic(
            cdef.uuid, int(props), decl.handle, value_handle, last, cccd_handle, ext_handle,
            cud_handle, tuple(desc_handles),
        )

    def remove_service(self, service: Service) -> None:
        """Remove a service; its handles stay unused (allocation remains stable)."""
        if service not in self._services:
            raise AttLocalError(f"service {service.uuid} is not in this database")
        self._services.remove(service)
        for h in range(service.start_handle, service.end_handle + 1):
            self._attributes.pop(h, None)
        self._sorted = [a for a in self._sorted if a.handle in self._attributes]
        self._cccds = {v: a for v, a in self._cccds.items() if a.handle in self._attributes}
        self._hash = None
        self._positions = None

    def set_kind(self, handle: int, kind: AttributeKind) -> None:
        """Mark an attribute as computed by the server (GATT service characteristics)."""
        self[handle].kind = kind
        self._hash = None

    # -- views ----------------------------------------------------------------------------

    def describe(self) -> list[ServiceInfo]:
        """The database as a GATT client discovers it, services in handle order."""
        out = []
        for svc in sorted(self._services, key=lambda s: s.start_handle):
            includes = []
            for h in svc.include_handles:
                v = self[h].value
                start = int.from_bytes(v[0:2], "little")
                inc_decl = self[start]
                includes.append(
                    IncludeInfo(h, start, int.from_bytes(v[2:4], "little"), UUID.from_bytes(inc_decl.value))
                )
            chars = []
            for c in svc.characteristics:
                descs = tuple(
                    DescriptorInfo(a.handle, a.type) for a in self.in_range(c.value_handle + 1, c.end_handle)
                )
                chars.append(
                    CharacteristicInfo(
                        c.declaration_handle, c.value_handle, c.end_handle, c.uuid, c.properties, descs
                    )
                )
            out.append(
                ServiceInfo(svc.start_handle, svc.end_handle, svc.uuid, svc.primary, tuple(includes), tuple(chars))
            )
        return out

    def _position_table(self) -> dict[int, CharacteristicPosition]:
        if self._positions is None:
            table: dict[int, CharacteristicPosition] = {}
            service_counts: dict[UUID, int] = {}
            for svc in sorted(self._services, key=lambda s: s.start_handle):
                s_index = service_counts.get(svc.uuid, 0)
                service_counts[svc.uuid] = s_index + 1
                char_counts: dict[UUID, int] = {}
                for c in svc.characteristics:
                    c_index = char_counts.get(c.uuid, 0)
                    char_counts[c.uuid] = c_index + 1
                    table[c.value_handle] = CharacteristicPosition(svc.uuid, s_index, c.uuid, c_index)
            self._positions = table
        return self._positions

    def position_of(self, value_handle: int) -> CharacteristicPosition | None:
        """Where the characteristic whose value is at ``value_handle`` sits, or None."""
        return self._position_table().get(value_handle)

    def value_handle_at(self, position: CharacteristicPosition) -> int | None:
        """The value handle of the characteristic at ``position`` today, or None."""
        for handle, pos in self._position_table().items():
            if pos == position:
                return handle
        return None

    def database_hash(self) -> bytes:
        """Database Hash (Vol 3 Part G 7.3.1): AES-CMAC with a zero key over, in handle
        order, handle||type||value of declarations and Extended Properties and
        handle||type of the other GATT-defined descriptors; little-endian on the air."""
        if self._hash is None:
            with_value = _SERVICE_TYPES + (INCLUDE_UUID, CHARACTERISTIC_UUID, EXTENDED_PROPERTIES_UUID)
            type_only = (
                USER_DESCRIPTION_UUID, CCCD_UUID, SERVER_CHARACTERISTIC_CONFIGURATION_UUID,
                PRESENTATION_FORMAT_UUID, AGGREGATE_FORMAT_UUID,
            )
            m = bytearray()
            for attr in self._sorted:
                if attr.type in with_value:
                    m += attr.handle.to_bytes(2, "little") + attr.type.to_bytes(16) + attr.value
                elif attr.type in type_only:
                    m += attr.handle.to_bytes(2, "little") + attr.type.to_bytes(16)
            self._hash = aes_cmac(bytes(16), bytes(m))[::-1]
        return self._hash

