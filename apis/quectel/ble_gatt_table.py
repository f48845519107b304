"""The attribute table a Quectel server builds: ``addService`` ... ``addOrClearService``.

Theory of operation
-------------------
``addService``, ``addChara``, ``addCharaValue`` and ``addCharaDesc`` only *record* what
the application declares (by ``server_id`` and ``chara_id``); ``addOrClearService(1,
mode)`` then builds the whole table at once, so the call order does not matter, only the
declaration order: services in ``addService`` order; in each, characteristics in
``addChara`` order, each one's declaration, its value right after, then its descriptors
in ``addCharaDesc`` order. With ``mode`` 1 the system GAP and GATT services come first
and take handles 1-15 (GAP: Device Name, Appearance, Peripheral Preferred Connection
Parameters; GATT: Service Changed + CCCD, Client Supported Features, Database Hash), so
the first user service declaration is handle 16; with ``mode`` 0 it is handle 1. The
firmware's ``BLE_SERVER_HANDLE`` arithmetic (service + 2 = first value) holds either way.

:func:`build_definitions` turns the records into the host's
:class:`~host.gatt_db.ServiceDef` objects; the host's GATT server allocates the handles.
A characteristic that can notify or indicate gets its CCCD from the host; a 0x2902
descriptor the application declares *is* that CCCD (its permission applies), so it is
not added twice. Quectel permission bits (0x0001 read, 0x0002 write, 0x0004/0x0040
authentication, 0x0008/0x0080 authorization, 0x0010/0x0100 encryption, 0x0020/0x0200
authentication and authorization, for read/write) map onto
:class:`~host.gatt_db.Permissions`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from host.gatt_db import (
    CCCD_UUID,
    CharacteristicDef,
    CharacteristicProperties,
    DescriptorDef,
    Permissions,
    ReadHook,
    ServiceDef,
    WriteHook,
)
from host.gatt_server import GattServer
from host.gatt_services import PeripheralPreferredConnectionParameters
from host.uuid import UUID

__all__ = [
    "CharaRecord",
    "DescRecord",
    "Hooks",
    "ServiceRecord",
    "ServerTable",
    "SYSTEM_SERVICES_LAST_HANDLE",
    "build_definitions",
    "install",
    "permissions_of",
]

#: The last handle of the system GAP + GATT services (``addOrClearService(1, 1)``).
SYSTEM_SERVICES_LAST_HANDLE = 15
#: What the system GAP service shows before ``setLocalName``.
DEFAULT_DEVICE_NAME = "Quectel"
#: The system GAP service's Peripheral Preferred Connection Parameters.
SYSTEM_PPCP = PeripheralPreferredConnectionParameters(0x0018, 0x0028, 0, 0x01F4)


def permissions_of(permission: int) -> Permissions:
    """The host permissions for a Quectel permission word (see the module docstring).

    Any read (write) security bit implies the access itself.
    """
    out = Permissions(0)
    if permission & 0x003D:
        out |= Permissions.READ
    if permission & 0x03C2:
        out |= Permissions.WRITE
    if permission & 0x0024:
        out |= Permissions.READ_AUTHENTICATED
    if permission & 0x0028:
        out |= Permissions.READ_AUTHORIZED
    if permission & 0x0010:
        out |= Permissions.READ_ENCRYPTED
    if permission & 0x0240:
        out |= Permissions.WRITE_AUTHENTICATED
    if permission & 0x0280:
        out |= Permissions.WRITE_AUTHORIZED
    if permission & 0x0100:
        out |= Permissions.WRITE_ENCRYPTED
    return out


@dataclass
class DescRecord:
    permission: int
    uuid: UUID
    value: bytes


@dataclass
class CharaRecord:
    chara_id: int
    properties: int
    uuid: UUID
    value_permission: int | None = None
    value_uuid: UUID | None = None
    value: bytes = b""
    descriptors: list[DescRecord] = field(default_factory=list)


@dataclass
class ServiceRecord:
    server_id: int
    primary: bool
    uuid: UUID
    characteristics: dict[int, CharaRecord] = field(default_factory=dict)


@dataclass(frozen=True)
class Hooks:
    """Hook factories: ``read(uuid)`` / ``write(uuid)`` give the hooks of one attribute."""

    read: Callable[[UUID], ReadHook]
    write: Callable[[UUID], WriteHook]


class ServerTable:
    """What the application declared so far, by ``server_id`` and ``chara_id``."""

    def __init__(self) -> None:
        self.services: dict[int, ServiceRecord] = {}
        #: (server_id, chara_id) -> value handle, once built.
        self.value_handles: dict[tuple[int, int], int] = {}

    def clear(self) -> None:
        self.services.clear()
        self.value_handles.clear()

    def add_service(self, server_id: int, primary: bool, uuid: UUID) -> bool:
        if server_id in self.services:
            return False
        self.services[server_id] = ServiceRecord(server_id, primary, uuid)
        return True

    def add_chara(self, server_id: int, chara_id: int, properties: int, uuid: UUID) -> bool:
        service = self.services.get(server_id)
        if service is None or chara_id in service.characteristics:
            return False
        service.characteristics[chara_id] = CharaRecord(chara_id, properties, uuid)
        return True

    def chara(self, server_id: int, chara_id: int) -> CharaRecord | None:
        service = self.services.get(server_id)
        return None if service is None else service.characteristics.get(chara_id)

    def add_value(self, server_id: int, chara_id: int, permission: int, uuid: UUID, value: bytes) -> bool:
        chara = self.chara(server_id, chara_id)
        if chara is None or chara.value_permission is not None:
            return False
        chara.value_permission, chara.value_uuid, chara.value = permission, uuid, bytes(value)
        return True

    def add_desc(self, server_id: int, chara_id: int, permission: int, uuid: UUID, value: bytes) -> bool:
        chara = self.chara(server_id, chara_id)
        if chara is None:
            return False
        chara.descriptors.append(DescRecord(permission, uuid, bytes(value)))
        return True


def _characteristic(chara: CharaRecord, hooks: Hooks) -> CharacteristicDef:
    props = CharacteristicProperties(chara.properties)
    can_subscribe = bool(props & (CharacteristicProperties.NOTIFY | CharacteristicProperties.INDICATE))
    cccd_permissions = Permissions.READ | Permissions.WRITE
    cccd_after: int | None = None
    descriptors: list[DescriptorDef] = []
    for desc in chara.descriptors:
        if desc.uuid == CCCD_UUID and can_subscribe and cccd_after is None:
            # The host's own CCCD, where the firmware declared it.
            cccd_permissions = permissions_of(desc.permission)
            cccd_after = len(descriptors)
            continue
        descriptors.append(DescriptorDef(
            desc.uuid, desc.value, permissions_of(desc.permission),
            read_hook=hooks.read(desc.uuid), write_hook=hooks.write(desc.uuid),
        ))
    if chara.value_permission is None:
        permissions = None  # from the properties
    else:
        permissions = permissions_of(chara.value_permission)
    return CharacteristicDef(
        chara.uuid, props, chara.value, permissions,
        descriptors=tuple(descriptors), cccd_permissions=cccd_permissions, cccd_after=cccd_after,
        read_hook=hooks.read(chara.uuid), write_hook=hooks.write(chara.uuid),
    )


def build_definitions(table: ServerTable, hooks: Hooks) -> list[tuple[int, ServiceDef]]:
    """``(server_id, ServiceDef)`` for every recorded service, in declaration order."""
    out = []
    for service in table.services.values():
        chars = tuple(_characteristic(c, hooks) for c in service.characteristics.values())
        out.append((service.server_id, ServiceDef(service.uuid, chars, primary=service.primary)))
    return out


def install(
    server: GattServer, table: ServerTable, hooks: Hooks, keep_system: bool, device_name: str, now: int
) -> None:
    """Replace the server's attribute table by the system services (``keep_system``) and
    the recorded services; fills ``table.value_handles``.

    Raises :class:`~host.att.AttLocalError` (or ValueError) when the host cannot build it.
    """
    definitions = build_definitions(table, hooks)
    # addOrClearService rebuilds the module's table from handle 1.
    clear(server, keep_system, device_name, now)
    table.value_handles.clear()
    for server_id, definition in definitions:
        service = server.add_service(definition)
        record = table.services[server_id]
        for chara_id, allocated in zip(record.characteristics, service.characteristics):
            table.value_handles[(server_id, chara_id)] = allocated.value_handle


def clear(server: GattServer, keep_system: bool, device_name: str, now: int) -> None:
    """``addOrClearService(0, mode)``: no user services any more (a table rebuilt from handle
    1, with the system services when ``keep_system``, under the module's device name)."""
    server.reset(False, now)
    if keep_system:
        server.add_gap_service(device_name or DEFAULT_DEVICE_NAME, 0, SYSTEM_PPCP)
        server.add_gatt_service()
