"""GATT for the device API: the local database an app defines, and the remote view it discovers.

Theory of operation
-------------------
*Local.* An application describes its services with :class:`Service`,
:class:`Characteristic` and :class:`Descriptor` objects (properties as keyword flags:
``read=True, notify=True``) and adds them with ``device.gatt.add_service(...)``
(:class:`LocalGatt`). That turns them into :class:`~host.gatt_db.ServiceDef` definitions
for the host's :class:`~host.gatt_server.GattServer` (Core Specification Vol 3 Part G
3), which allocates the handles; the objects are then *bound*: they know their handles,
``value`` reads and writes the server's stored value, and ``notify``/``indicate`` go to
the subscribed peers.

Hooks: ``on_read(connection) -> bytes | None`` runs synchronously while the server
answers (Read, Read Blob, Read By Type, Read Multiple...): it returns the whole value
(``None``: the stored one) or raises :class:`~emu.device_errors.GattError` to deny the
read with that ATT error code; it must not block. ``on_write(connection, value)`` runs
after a peer's write was accepted and stored, through the device's waiter
(``call_soon``: in its own firmware thread for firmware), so it may block.
``on_subscribe(connection, cccd_value)`` (characteristics) runs the same way after a
peer wrote the CCCD.

*Remote.* A client's discovery (:meth:`emu.device.Connection.discover`) gives
:class:`RemoteService` / :class:`RemoteCharacteristic` / :class:`RemoteDescriptor`
(frozen, compared by value). ``device.gatt.describe()`` gives the local database in the
same classes, so "the client's view equals the server's definition" is one ``==``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

from host.att import AttError
from host.att_pdu import ATT_MAX_ATTRIBUTE_VALUE_LENGTH, AttErrorCode
from host.gatt_db import (
    CCCD_UUID,
    AccessMethod,
    AttributeAccess,
    CharacteristicDef,
    CharacteristicInfo,
    CharacteristicProperties,
    DescriptorDef,
    DescriptorInfo,
    ExtendedProperties,
    Permissions,
    ServiceDef,
    ServiceInfo,
)
from host.gatt_db import Service as HostService
from host.uuid import UUID

from emu.device_errors import DeviceUsageError, GattError, host_errors

if TYPE_CHECKING:
    from host.gatt_server import GattServer

    from emu.device import Device
    from emu.device_connection import Connection

__all__ = [
    "Characteristic",
    "Descriptor",
    "LocalGatt",
    "RemoteCharacteristic",
    "RemoteDescriptor",
    "RemoteInclude",
    "RemoteService",
    "Service",
    "UuidLike",
    "as_uuid",
    "remote_services",
]

UuidLike = UUID | int | str
ReadCallback = Callable[["Connection | None"], "bytes | None"]
WriteCallback = Callable[["Connection | None", bytes], object]
SubscribeCallback = Callable[["Connection | None", int], object]

_P = CharacteristicProperties


def as_uuid(value: UuidLike) -> UUID:
    """``UUID(0x180F)``, ``0x180F`` and ``"180F"`` all give the same UUID."""
    if isinstance(value, UUID):
        return value
    with host_errors("UUID"):
        return UUID(value)


# ---------------------------------------------------------------------------------------
# Local definitions
# ---------------------------------------------------------------------------------------


class _Valued:
    """A value that lives locally until the attribute is added, then in the server."""

    def __init__(self, value: bytes, max_length: int) -> None:
        if not 0 <= max_length <= ATT_MAX_ATTRIBUTE_VALUE_LENGTH:
            raise DeviceUsageError(f"max_length must be 0..{ATT_MAX_ATTRIBUTE_VALUE_LENGTH}")
        if len(value) > max_length:
            raise DeviceUsageError(f"a {len(value)}-octet value exceeds max_length {max_length}")
        self._value = bytes(value)
        self.max_length = max_length
        self._gatt: LocalGatt | None = None
        self._handle: int | None = None

    @property
    def handle(self) -> int:
        """The attribute handle (the value handle of a characteristic)."""
        if self._handle is None:
            raise DeviceUsageError("not added to a device yet (device.gatt.add_service)")
        return self._handle

    @property
    def added(self) -> bool:
        return self._handle is not None

    @property
    def value(self) -> bytes:
        """The stored value (setting it notifies nobody: see ``notify``)."""
        if self._gatt is None or self._handle is None:
            return self._value
        with host_errors("value"):
            return self._gatt.server.get_value(self._handle)

    @value.setter
    def value(self, value: bytes | bytearray | str) -> None:
        data = value.encode() if isinstance(value, str) else bytes(value)
        if self._gatt is None or self._handle is None:
            if len(data) > self.max_length:
                raise DeviceUsageError(f"a {len(data)}-octet value exceeds max_length {self.max_length}")
            self._value = data
            return
        with host_errors("value"):
            self._gatt.server.set_value(self._handle, data)


class Descriptor(_Valued):
    """A characteristic descriptor (Vol 3 Part G 3.3.3) the application defines.

    The CCCD, Extended Properties and User Description are added automatically from the
    characteristic's flags; use this for others (e.g. 0x2904 Presentation Format).
    """

    def __init__(
        self,
        uuid: UuidLike,
        value: bytes = b"",
        *,
        read: bool = True,
        write: bool = False,
        max_length: int = ATT_MAX_ATTRIBUTE_VALUE_LENGTH,
        fixed_length: bool = False,
        permissions: Permissions | None = None,
        on_read: ReadCallback | None = None,
        on_write: WriteCallback | None = None,
    ) -> None:
        super().__init__(bytes(value), max_length)
        self.uuid = as_uuid(uuid)
        perms = Permissions(0)
        if read:
            perms |= Permissions.READ
        if write:
            perms |= Permissions.WRITE
        self.permissions = perms if permissions is None else permissions
        self.fixed_length = fixed_length
        self.on_read = on_read
        self.on_write = on_write

    def __repr__(self) -> str:
        return f"Descriptor({self.uuid}, handle={self._handle})"


class Characteristic(_Valued):
    """A characteristic (Vol 3 Part G 3.3) the application defines.

    Properties are keyword flags. ``description`` adds a User Description descriptor
    (writable with ``writable_description``); ``reliable_write`` /
    ``writable_description`` add the Extended Properties descriptor; ``notify`` or
    ``indicate`` add the CCCD. ``permissions`` overrides the value's permissions
    (default: READ if readable, WRITE if writable in any way).
    """

    def __init__(
        self,
        uuid: UuidLike,
        *,
        read: bool = False,
        write: bool = False,
        write_without_response: bool = False,
        notify: bool = False,
        indicate: bool = False,
        broadcast: bool = False,
        value: bytes = b"",
        descriptors: Sequence[Descriptor] = (),
        description: str | None = None,
        reliable_write: bool = False,
        writable_description: bool = False,
        max_length: int = ATT_MAX_ATTRIBUTE_VALUE_LENGTH,
        fixed_length: bool = False,
        permissions: Permissions | None = None,
        on_read: ReadCallback | None = None,
        on_write: WriteCallback | None = None,
        on_subscribe: SubscribeCallback | None = None,
    ) -> None:
        super().__init__(bytes(value), max_length)
        self.uuid = as_uuid(uuid)
        props = _P(0)
        for flag, bit in (
            (broadcast, _P.BROADCAST), (read, _P.READ), (write_without_response, _P.WRITE_WITHOUT_RESPONSE),
            (write, _P.WRITE), (notify, _P.NOTIFY), (indicate, _P.INDICATE),
        ):
            if flag:
                props |= bit
        self._properties = props
        self.extended_properties = ExtendedProperties(0)
        if reliable_write:
            self.extended_properties |= ExtendedProperties.RELIABLE_WRITE
        if writable_description:
            self.extended_properties |= ExtendedProperties.WRITABLE_AUXILIARIES
        self.descriptors = list(descriptors)
        self.description = description
        self.fixed_length = fixed_length
        self.permissions = permissions
        self.on_read = on_read
        self.on_write = on_write
        self.on_subscribe = on_subscribe
        self.declaration_handle: int | None = None
        self.cccd_handle: int | None = None
        self.extended_properties_handle: int | None = None
        self.user_description_handle: int | None = None
        self.end_handle: int | None = None

    @property
    def properties(self) -> int:
        """The Characteristic Properties octet (Vol 3 Part G 3.3.1.1)."""
        props = self._properties
        if self.extended_properties:
            props |= _P.EXTENDED_PROPERTIES
        return int(props)

    @property
    def value_handle(self) -> int:
        return self.handle

    def _bound(self) -> LocalGatt:
        if self._gatt is None:
            raise DeviceUsageError(f"characteristic {self.uuid} is not added to a device yet")
        return self._gatt

    def notify(self, value: bytes | None = None, connection: Connection | None = None) -> list[Connection]:
        """``device.notify(self, value, connection)``."""
        return self._bound().device.notify(self, value, connection)

    def indicate(
        self, value: bytes | None = None, connection: Connection | None = None, timeout_ms: float = 35_000
    ) -> list[Connection]:
        """``device.indicate(self, value, connection)``: returns when confirmed."""
        return self._bound().device.indicate(self, value, connection, timeout_ms=timeout_ms)

    @property
    def subscribers(self) -> list[Connection]:
        """Connections whose CCCD enables notifications or indications."""
        gatt = self._bound()
        return gatt.device._subscribers(self.handle)

    def __repr__(self) -> str:
        return f"Characteristic({self.uuid}, handle={self._handle})"


class Service:
    """A service (Vol 3 Part G 3.1): its characteristics, the services it includes (added
    to the same device before it), primary or secondary."""

    def __init__(
        self,
        uuid: UuidLike,
        characteristics: Iterable[Characteristic] = (),
        *,
        includes: Iterable[Service] = (),
        primary: bool = True,
    ) -> None:
        self.uuid = as_uuid(uuid)
        self.characteristics = list(characteristics)
        self.includes = list(includes)
        self.primary = primary
        self.start_handle: int | None = None
        self.end_handle: int | None = None
        self.host_service: HostService | None = None

    def characteristic(self, uuid: UuidLike) -> Characteristic:
        """The first characteristic with this UUID."""
        wanted = as_uuid(uuid)
        for c in self.characteristics:
            if c.uuid == wanted:
                return c
        raise DeviceUsageError(f"service {self.uuid} has no characteristic {wanted}")

    def __repr__(self) -> str:
        return f"Service({self.uuid}, handles={self.start_handle}..{self.end_handle})"


class LocalGatt:
    """The device's own GATT database (``device.gatt``)."""

    def __init__(self, device: Device) -> None:
        self.device = device
        self.services: list[Service] = []
        self._by_value_handle: dict[int, Characteristic] = {}

    @property
    def server(self) -> GattServer:
        """The host's GATT server."""
        return self.device.host.gatt_server

    def add_service(self, service: Service) -> Service:
        """Add ``service`` (handles are allocated after every existing one) and bind it."""
        if service.host_service is not None:
            raise DeviceUsageError(f"service {service.uuid} was already added")
        includes = []
        for inc in service.includes:
            if inc.host_service is None or inc not in self.services:
                raise DeviceUsageError(f"included service {inc.uuid} must be added to this device first")
            includes.append(inc.host_service)
        chars = [self._char_def(c) for c in service.characteristics]
        definition = ServiceDef(service.uuid, tuple(chars), tuple(includes), service.primary)
        with host_errors("add_service"):
            allocated = self.server.add_service(definition)
        service.host_service = allocated
        service.start_handle, service.end_handle = allocated.start_handle, allocated.end_handle
        for char, info in zip(service.characteristics, allocated.characteristics):
            char._gatt, char._handle = self, info.value_handle
            char.declaration_handle = info.declaration_handle
            char.cccd_handle = info.cccd_handle
            char.extended_properties_handle = info.extended_properties_handle
            char.user_description_handle = info.user_description_handle
            char.end_handle = info.end_handle
            self._by_value_handle[info.value_handle] = char
            for desc, handle in zip(char.descriptors, info.descriptor_handles):
                desc._gatt, desc._handle = self, handle
        self.services.append(service)
        return service

    def characteristic(self, uuid: UuidLike) -> Characteristic:
        """The first local characteristic with this UUID."""
        wanted = as_uuid(uuid)
        for svc in self.services:
            for c in svc.characteristics:
                if c.uuid == wanted:
                    return c
        raise DeviceUsageError(f"no local characteristic {wanted}")

    def by_value_handle(self, handle: int) -> Characteristic | None:
        return self._by_value_handle.get(handle)

    def describe(self) -> list[RemoteService]:
        """The whole database (GAP and GATT services included) as a client discovers it."""
        return remote_services(self.server.describe())

    # -- definitions and hooks ---------------------------------------------------------

    def _char_def(self, c: Characteristic) -> CharacteristicDef:
        if c.added:
            raise DeviceUsageError(f"characteristic {c.uuid} was already added")
        descs = []
        for d in c.descriptors:
            if d.added:
                raise DeviceUsageError(f"descriptor {d.uuid} was already added")
            if d.uuid == CCCD_UUID:
                raise DeviceUsageError("the CCCD is added automatically (notify=True / indicate=True)")
            descs.append(DescriptorDef(
                d.uuid, d._value, d.permissions, max_length=d.max_length, fixed_length=d.fixed_length,
                read_hook=self._read_hook(d) if d.on_read else None,
                write_hook=self._write_hook(d) if d.on_write else None,
            ))
        return CharacteristicDef(
            c.uuid, CharacteristicProperties(c._properties), c._value, c.permissions,
            max_length=c.max_length, fixed_length=c.fixed_length, descriptors=tuple(descs),
            extended_properties=c.extended_properties, user_description=c.description,
            read_hook=self._read_hook(c) if c.on_read else None,
            write_hook=self._write_hook(c) if c.on_write else None,
        )

    def _read_hook(self, item: Characteristic | Descriptor) -> Callable[[AttributeAccess], bytes | None]:
        def hook(access: AttributeAccess) -> bytes | None:
            callback = item.on_read
            if callback is None:
                return None
            device = self.device
            with device._hook_context():
                try:
                    out = callback(device._connection_for(access.connection))
                except GattError as exc:
                    raise AttError(exc.code, access.handle) from None
                except Exception as exc:  # noqa: BLE001 - reported, and the read is refused
                    device.waiter.call_soon(_reraise, exc)
                    raise AttError(AttErrorCode.UNLIKELY_ERROR, access.handle) from None
            return None if out is None else bytes(out)

        return hook

    def _write_hook(self, item: Characteristic | Descriptor) -> Callable[[AttributeAccess], None]:
        def hook(access: AttributeAccess) -> None:
            callback = item.on_write
            if callback is None or access.method is AccessMethod.READ:
                return None
            device = self.device
            device.waiter.call_soon(callback, device._connection_for(access.connection), access.value)
            return None

        return hook


def _reraise(exc: BaseException) -> None:
    raise exc


# ---------------------------------------------------------------------------------------
# The remote view
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RemoteDescriptor:
    """A descriptor as discovered (Vol 3 Part G 4.7.1)."""

    handle: int
    uuid: UUID


@dataclass(frozen=True)
class RemoteCharacteristic:
    """A characteristic as discovered (Vol 3 Part G 4.6), with its descriptors."""

    uuid: UUID
    declaration_handle: int
    value_handle: int
    end_handle: int
    properties: int
    descriptors: tuple[RemoteDescriptor, ...] = ()

    @property
    def handle(self) -> int:
        return self.value_handle

    def _has(self, bit: int) -> bool:
        return bool(self.properties & bit)

    @property
    def readable(self) -> bool:
        return self._has(_P.READ)

    @property
    def writable(self) -> bool:
        return self._has(_P.WRITE)

    @property
    def writable_without_response(self) -> bool:
        return self._has(_P.WRITE_WITHOUT_RESPONSE)

    @property
    def notifiable(self) -> bool:
        return self._has(_P.NOTIFY)

    @property
    def indicatable(self) -> bool:
        return self._has(_P.INDICATE)

    def descriptor(self, uuid: UuidLike) -> RemoteDescriptor | None:
        wanted = as_uuid(uuid)
        return next((d for d in self.descriptors if d.uuid == wanted), None)

    @property
    def cccd(self) -> RemoteDescriptor | None:
        return self.descriptor(CCCD_UUID)

    def to_info(self) -> CharacteristicInfo:
        return CharacteristicInfo(
            self.declaration_handle, self.value_handle, self.end_handle, self.uuid, self.properties,
            tuple(DescriptorInfo(d.handle, d.uuid) for d in self.descriptors),
        )


@dataclass(frozen=True)
class RemoteInclude:
    """An include declaration as discovered (Vol 3 Part G 4.5.1)."""

    handle: int
    start_handle: int
    end_handle: int
    uuid: UUID


@dataclass(frozen=True)
class RemoteService:
    """A service as discovered (Vol 3 Part G 4.4) with its includes and characteristics."""

    uuid: UUID
    start_handle: int
    end_handle: int
    primary: bool = True
    includes: tuple[RemoteInclude, ...] = ()
    characteristics: tuple[RemoteCharacteristic, ...] = ()

    def characteristic(self, uuid: UuidLike) -> RemoteCharacteristic:
        wanted = as_uuid(uuid)
        for c in self.characteristics:
            if c.uuid == wanted:
                return c
        raise DeviceUsageError(f"service {self.uuid} has no characteristic {wanted}")

    def to_info(self) -> ServiceInfo:
        from host.gatt_db import IncludeInfo

        return ServiceInfo(
            self.start_handle, self.end_handle, self.uuid, self.primary,
            tuple(IncludeInfo(i.handle, i.start_handle, i.end_handle, i.uuid) for i in self.includes),
            tuple(c.to_info() for c in self.characteristics),
        )


def remote_services(infos: Iterable[ServiceInfo]) -> list[RemoteService]:
    """The device API's view of host discovery results."""
    out = []
    for s in infos:
        chars = tuple(
            RemoteCharacteristic(
                c.uuid, c.declaration_handle, c.value_handle, c.end_handle, c.properties,
                tuple(RemoteDescriptor(d.handle, d.uuid) for d in c.descriptors),
            )
            for c in s.characteristics
        )
        incs = tuple(RemoteInclude(i.handle, i.start_handle, i.end_handle, i.uuid) for i in s.includes)
        out.append(RemoteService(s.uuid, s.start_handle, s.end_handle, s.primary, incs, chars))
    return out
