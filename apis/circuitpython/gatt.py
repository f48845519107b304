"""``_bleio.Service``, ``Characteristic``, ``Descriptor`` and ``Connection``.

Theory of operation
-------------------
**Local attributes.** A CircuitPython program builds its GATT server one attribute at a
time (``Service(uuid)``, then ``Characteristic.add_to_service``, then
``Descriptor.add_to_characteristic``), as the SoftDevice does; the host's GATT server
takes whole services. So a local :class:`Service` keeps its definition and registers it
in the host's database when handles first matter (a value access, advertising,
connecting, a connection); an addition after that replaces the registration
(:meth:`BleioNode.register_service`, which tells connected clients with Service Changed). Values live in the host's database;
their current contents carry over to the new registration. Client writes reach the
characteristic through the attribute's write hook and go to its listeners
(``CharacteristicBuffer``, ``PacketBuffer``).

Property bits are CircuitPython's own (``BROADCAST`` 0x01, ``INDICATE`` 0x02, ``NOTIFY``
0x04, ``READ`` 0x08, ``WRITE`` 0x10, ``WRITE_NO_RESPONSE`` 0x20), translated to and from
the GATT wire bits. Security modes become host permissions: ``OPEN`` allows the access,
``ENCRYPT_NO_MITM`` (and the signed modes) also need an encrypted link,
``ENCRYPT_WITH_MITM`` / ``LESC_ENCRYPT_WITH_MITM`` an authenticated one, ``NO_ACCESS``
denies it. The CCCD the host adds for NOTIFY/INDICATE is readable by anyone and writable
with the characteristic's *read* mode, as the Nordic port sets it.

Setting ``value`` on a local characteristic checks its length ("Value length !=
required fixed length", "Value length > max_length"), stores it, and notifies or
indicates every connection whose CCCD asks for it.

**Remote attributes** come from :meth:`Connection.discover_remote_services`: services,
then characteristics of services whose UUID the node knows, then descriptors of
characteristics whose UUID it knows (a 128-bit UUID is known when a ``_bleio.UUID`` with
its base was created on the node; otherwise it is ``None``, as on Nordic boards). A remote
``value`` read is one ATT Read; a write waits only while the previous request is busy,
then goes out as a Write Command when the characteristic has WRITE_NO_RESPONSE, else as a
Write Request whose answer is not awaited.

**Connections.** :func:`connection_for` makes one :class:`Connection` per link, so
``adapter.connect()`` and ``adapter.connections`` return the same object. ``pair()``
blocks until the link is encrypted or the pairing fails (``SecurityError``);
``connection_interval`` is in milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from host.att import AttLocalError
from host.gatt_db import (
    AccessMethod,
    AttributeAccess,
    CharacteristicDef,
    CharacteristicProperties,
    DescriptorDef,
    Permissions,
    ServiceDef,
)
from host.gatt_db import Service as HostService
from host.hci import LocalError
from phy.units import MS

from .errors import (
    NOT_CONNECTED,
    BluetoothError,
    ConnectionError,
    RoleError,
    firmware_error,
)
from .node import BleioNode, LinkState
from .values import (
    UUID,
    Attribute,
    buffer_bytes,
    check_security_mode,
    check_type,
    int_min,
)

if TYPE_CHECKING:
    from host.gatt_db import CharacteristicInfo, DescriptorInfo, ServiceInfo

    from .connection import Connection

__all__ = [
    "Characteristic",
    "Descriptor",
    "Service",
    "permissions",
    "properties_from_wire",
    "properties_to_wire",
]

#: CircuitPython property bit -> GATT Characteristic Properties bit (Vol 3 Part G 3.3.1.1).
_WIRE = {0x01: 0x01, 0x02: 0x20, 0x04: 0x10, 0x08: 0x02, 0x10: 0x08, 0x20: 0x04}
_ALL_PROPERTIES = 0x3F
#: SoftDevice limits of a local attribute value (BLE_GATTS_FIX/VAR_ATTR_LEN_MAX).
FIXED_LENGTH_MAX = 510
VARIABLE_LENGTH_MAX = 512
#: A remote characteristic's max_length (GATT_MAX_DATA_LENGTH).
REMOTE_MAX_LENGTH = 512
#: How long ``connection_interval`` waits for an update in progress.
INTERVAL_UPDATE_WAIT_NS = 5_000 * MS

_ENCRYPTED = frozenset({Attribute.ENCRYPT_NO_MITM, Attribute.SIGNED_NO_MITM, Attribute.SIGNED_WITH_MITM})
_AUTHENTICATED = frozenset({Attribute.ENCRYPT_WITH_MITM, Attribute.LESC_ENCRYPT_WITH_MITM})


def properties_to_wire(props: int) -> int:
    return sum(wire for bit, wire in _WIRE.items() if props & bit)


def properties_from_wire(wire_props: int) -> int:
    return sum(bit for bit, wire in _WIRE.items() if wire_props & wire)


def permissions(read_perm: int, write_perm: int) -> Permissions:
    """Host permissions for a CircuitPython read/write security mode pair."""
    perms = Permissions(0)
    if read_perm != Attribute.NO_ACCESS:
        perms |= Permissions.READ
        if read_perm in _ENCRYPTED:
            perms |= Permissions.READ_ENCRYPTED
        elif read_perm in _AUTHENTICATED:
            perms |= Permissions.READ_AUTHENTICATED
    if write_perm != Attribute.NO_ACCESS:
        perms |= Permissions.WRITE
        if write_perm in _ENCRYPTED:
            perms |= Permissions.WRITE_ENCRYPTED
        elif write_perm in _AUTHENTICATED:
            perms |= Permissions.WRITE_AUTHENTICATED
    return perms


def _cccd_permissions(read_perm: int) -> Permissions:
    perms = Permissions.READ | Permissions.WRITE
    if read_perm in _ENCRYPTED:
        perms |= Permissions.WRITE_ENCRYPTED
    elif read_perm in _AUTHENTICATED:
        perms |= Permissions.WRITE_AUTHENTICATED
    return perms


def _check_lengths(max_length: int, fixed_length: bool) -> None:
    limit = FIXED_LENGTH_MAX if fixed_length else VARIABLE_LENGTH_MAX
    if max_length < 0 or max_length > limit:
        raise ValueError(f"max_length must be 0-{limit} when fixed_length is {fixed_length}")


def _initial_value(initial_value: Any, max_length: int, fixed_length: bool) -> bytes:
    if initial_value is None:
        value = bytes(max_length) if fixed_length and max_length > 0 else b""
    else:
        value = buffer_bytes(initial_value)
    if len(value) > max_length or (fixed_length and len(value) != max_length):
        raise ValueError("initial_value length is wrong")
    return value


def _check_value_length(value: bytes, max_length: int, fixed_length: bool) -> None:
    if fixed_length and len(value) != max_length:
        raise ValueError("Value length != required fixed length")
    if len(value) > max_length:
        raise ValueError("Value length > max_length")


# ---------------------------------------------------------------------------------------
# Service
# ---------------------------------------------------------------------------------------


class Service:
    """A GATT service: local (``Service(uuid)``) or remote (from discovery)."""

    #: The node this class belongs to (set on the node's subclass in its ``_bleio`` module).
    _node_of_class: ClassVar[BleioNode | None] = None

    def __init__(self, uuid: UUID, *, secondary: bool = False) -> None:
        check_type(uuid, UUID, "uuid")
        node = type(self)._node_of_class
        if node is None:
            raise RuntimeError("_bleio.Service is not bound to a node")
        self._node = node
        self._uuid: UUID | None = uuid
        self._secondary = bool(secondary)
        self._remote = False
        self._connection: Connection | None = None
        self._characteristics: list[Characteristic] = []
        self._host_service: HostService | None = None
        self._start_handle = 0
        self._end_handle = 0
        self._dirty = True
        node.local_services.append(self)

    @classmethod
    def _make_remote(
        cls, node: BleioNode, connection: Connection, uuid: UUID | None, info: ServiceInfo
    ) -> Service:
        service = cls.__new__(cls)
        service._node = node
        service._uuid = uuid
        service._secondary = not info.primary
        service._remote = True
        service._connection = connection
        service._characteristics = []
        service._host_service = None
        service._start_handle = info.start_handle
        service._end_handle = info.end_handle
        service._dirty = False
        return service

    @property
    def uuid(self) -> UUID | None:
        """The UUID, or None for a remote 128-bit UUID the node does not know."""
        return self._uuid

    @property
    def characteristics(self) -> tuple[Characteristic, ...]:
        return tuple(self._characteristics)

    @property
    def remote(self) -> bool:
        return self._remote

    @property
    def secondary(self) -> bool:
        return self._secondary

    @property
    def connection(self) -> Connection | None:
        """The connection of a remote service (None for a local one)."""
        return self._connection

    def __repr__(self) -> str:
        if self._uuid is None:
            return "<Service with unregistered UUID>"
        return f"Service({self._uuid!r})"

    # -- local registration ----------------------------------------------------------------

    def _commit(self) -> None:
        """Register what was added since the last registration (see :meth:`_register`).

        Registration is deferred to the first moment handles matter (a value access,
        advertising, connecting, a connection), so a service whose attributes are all
        added before then gets contiguous handles, as on a board.
        """
        if self._dirty and not self._remote:
            self._dirty = False
            self._register()

    def _register(self) -> None:
        """(Re)register this local service with everything added so far."""
        assert self._uuid is not None
        server = self._node.host.gatt_server
        for characteristic in self._characteristics:
            characteristic._save_value(server)
        definition = ServiceDef(
            self._uuid._to_host(),
            tuple(c._definition() for c in self._characteristics),
            primary=not self._secondary,
        )
        self._host_service = self._node.register_service(definition, self._host_service)
        self._start_handle = self._host_service.start_handle
        self._end_handle = self._host_service.end_handle
        for characteristic, allocated in zip(self._characteristics, self._host_service.characteristics):
            characteristic._allocated(allocated.value_handle, allocated.cccd_handle, allocated.descriptor_handles)


# ---------------------------------------------------------------------------------------
# Characteristic
# ---------------------------------------------------------------------------------------


class Characteristic:
    """A GATT characteristic (see the module docstring)."""

    BROADCAST = 0x01
    INDICATE = 0x02
    NOTIFY = 0x04
    READ = 0x08
    WRITE = 0x10
    WRITE_NO_RESPONSE = 0x20

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("cannot create 'Characteristic' instances")

    _node: BleioNode
    _service: Service
    _uuid: UUID | None
    _props: int
    _read_perm: int
    _write_perm: int
    _max_length: int
    _fixed_length: bool
    _value: bytes
    _user_description: str | None
    _descriptors: list[Descriptor]
    _handle: int
    _cccd_handle: int | None
    #: callbacks(connection handle, value) for client writes (local) or notifications (remote)
    _listeners: list[Callable[[int, bytes], None]]

    @classmethod
    def add_to_service(
        cls,
        service: Service,
        uuid: UUID,
        *,
        properties: int = 0,
        read_perm: int = Attribute.OPEN,
        write_perm: int = Attribute.OPEN,
        max_length: int = 20,
        fixed_length: bool = False,
        initial_value: Any = None,
        user_description: str | None = None,
    ) -> Characteristic:
        """Create a characteristic and add it to the local ``service``."""
        check_type(service, Service, "service")
        check_type(uuid, UUID, "uuid")
        properties = int(properties)
        if properties & ~_ALL_PROPERTIES:
            raise ValueError("Invalid properties")
        check_security_mode(read_perm)
        check_security_mode(write_perm)
        int_min(int(max_length), 0, "max_length")
        fixed_length = bool(fixed_length)
        value = _initial_value(initial_value, int(max_length), fixed_length)
        _check_lengths(int(max_length), fixed_length)
        if service.remote:
            raise RoleError("Can't add a Characteristic to a remote Service")
        char = cls.__new__(cls)
        char._init(service._node, service, uuid, properties, int(max_length), fixed_length)
        char._read_perm = read_perm
        char._write_perm = write_perm
        char._value = value
        char._user_description = user_description
        service._characteristics.append(char)
        service._dirty = True
        return char

    def _init(
        self, node: BleioNode, service: Service, uuid: UUID | None, props: int, max_length: int, fixed: bool
    ) -> None:
        self._node = node
        self._service = service
        self._uuid = uuid
        self._props = props
        self._read_perm = Attribute.OPEN
        self._write_perm = Attribute.OPEN
        self._max_length = max_length
        self._fixed_length = fixed
        self._value = b""
        self._user_description = None
        self._descriptors = []
        self._handle = 0
        self._cccd_handle = None
        self._listeners = []

    @classmethod
    def _make_remote(cls, service: Service, info: CharacteristicInfo, uuid: UUID | None) -> Characteristic:
        char = cls.__new__(cls)
        char._init(service._node, service, uuid, properties_from_wire(info.properties), REMOTE_MAX_LENGTH, False)
        char._handle = info.value_handle
        return char

    # -- local registration ----------------------------------------------------------------------

    def _definition(self) -> CharacteristicDef:
        assert self._uuid is not None
        return CharacteristicDef(
            self._uuid._to_host(),
            CharacteristicProperties(properties_to_wire(self._props)),
            value=self._value,
            permissions=permissions(self._read_perm, self._write_perm),
            max_length=self._max_length,
            fixed_length=self._fixed_length,
            descriptors=tuple(d._definition() for d in self._descriptors),
            user_description=self._user_description,
            cccd_permissions=_cccd_permissions(self._read_perm),
            write_hook=self._on_client_write,
        )

    def _save_value(self, server: Any) -> None:
        if self._handle:
            try:
                self._value = server.get_value(self._handle)
            except AttLocalError:
                pass
        for descriptor in self._descriptors:
            descriptor._save_value(server)

    def _allocated(self, value_handle: int, cccd_handle: int | None, descriptor_handles: tuple[int, ...]) -> None:
        self._handle = value_handle
        self._cccd_handle = cccd_handle
        for descriptor, handle in zip(self._descriptors, descriptor_handles):
            descriptor._handle = handle

    def _on_client_write(self, access: AttributeAccess) -> None:
        if access.method is AccessMethod.READ:
            return
        for callback in list(self._listeners):
            callback(access.connection, bytes(access.value))
        self._node.pulse()
        return

    # -- properties -----------------------------------------------------------------------------

    @property
    def properties(self) -> int:
        return self._props

    @property
    def uuid(self) -> UUID | None:
        """The UUID, or None for a remote 128-bit UUID the node does not know."""
        return self._uuid

    @property
    def service(self) -> Service:
        return self._service

    @property
    def max_length(self) -> int:
        return self._max_length

    @property
    def descriptors(self) -> tuple[Descriptor, ...]:
        return tuple(self._descriptors)

    @property
    def value(self) -> bytearray:
        """A local value, or one ATT Read of a remote one (blocks on simulated time)."""
        if self._service.remote:
            link = _link_of(self._service)
            handle = self._handle
            data = self._node.gatt_call(link, lambda c, now, done: c.read(handle, now, done))
            return bytearray(data)
        self._service._commit()
        return bytearray(self._node.host.gatt_server.get_value(self._handle))

    @value.setter
    def value(self, value: Any) -> None:
        data = buffer_bytes(value)
        if self._service.remote:
            _remote_write(self._node, _link_of(self._service), self._handle, data,
                          bool(self._props & Characteristic.WRITE_NO_RESPONSE))
            return
        _check_value_length(data, self._max_length, self._fixed_length)
        self._service._commit()
        node = self._node
        server = node.host.gatt_server
        server.set_value(self._handle, data)
        self._value = data
        notify = bool(self._props & Characteristic.NOTIFY)
        indicate = bool(self._props & Characteristic.INDICATE)
        if not (notify or indicate):
            return
        for handle in sorted(node.links):
            try:
                cccd = server.subscription(handle, self._handle)
            except AttLocalError:
                continue
            if notify and cccd & 1:
                server.notify(self._handle, data, connection=handle)
            if indicate and cccd & 2:
                server.indicate(self._handle, node.now, data, connection=handle)
        node.service()

    def set_cccd(self, *, notify: bool = False, indicate: bool = False) -> None:
        """Write the remote characteristic's CCCD (notifications and/or indications)."""
        remote = self._service.remote
        # A local characteristic has its CCCD from add_to_service on a board; here it
        # gets its handle only when the service is registered, so ask the properties.
        has_cccd = (self._cccd_handle is not None if remote
                    else bool(self._props & (Characteristic.NOTIFY | Characteristic.INDICATE)))
        if not has_cccd:
            raise BluetoothError("No CCCD for this Characteristic")
        if not remote or self._cccd_handle is None:
            raise RoleError("Can't set CCCD on local Characteristic")
        link = _link_of(self._service)
        value = (1 if notify else 0) | (2 if indicate else 0)
        _remote_write(self._node, link, self._cccd_handle, value.to_bytes(2, "little"), False)

    def __repr__(self) -> str:
        if self._uuid is None:
            return "<Characteristic with Unregistered UUID>"
        return f"Characteristic({self._uuid!r})"


def _link_of(service: Service) -> LinkState:
    connection = service._connection
    if connection is None or not connection._link.connected:
        raise ConnectionError(NOT_CONNECTED)
    return connection._link


def _remote_write(node: BleioNode, link: LinkState, handle: int, data: bytes, without_response: bool) -> None:
    """``bleio_gattc_write``: wait while the previous request is busy, send, do not wait
    (the response of a Write Request wakes whoever waits for the client to be idle)."""
    node.wait_client_idle(link)
    try:
        client = node.host.gatt_client(link.handle)
        if without_response:
            client.write_without_response(handle, data, node.now)
        else:
            client.write(handle, data, node.now, lambda outcome: node.pulse())
    except LocalError:
        raise ConnectionError(NOT_CONNECTED) from None
    except AttLocalError:
        raise firmware_error(0x000C) from None  # NRF_ERROR_DATA_SIZE: longer than ATT_MTU-3
    node.service()


# ---------------------------------------------------------------------------------------
# Descriptor
# ---------------------------------------------------------------------------------------


class Descriptor:
    """A characteristic descriptor: local (``add_to_characteristic``) or remote."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("cannot create 'Descriptor' instances")

    _characteristic: Characteristic
    _uuid: UUID | None
    _read_perm: int
    _write_perm: int
    _max_length: int
    _fixed_length: bool
    _value: bytes
    _handle: int

    @classmethod
    def add_to_characteristic(
        cls,
        characteristic: Characteristic,
        uuid: UUID,
        *,
        read_perm: int = Attribute.OPEN,
        write_perm: int = Attribute.OPEN,
        max_length: int = 20,
        fixed_length: bool = False,
        initial_value: Any = b"",
    ) -> Descriptor:
        """Create a descriptor and add it to the local ``characteristic``."""
        check_type(characteristic, Characteristic, "characteristic")
        check_type(uuid, UUID, "uuid")
        check_security_mode(read_perm)
        check_security_mode(write_perm)
        int_min(int(max_length), 0, "max_length")
        fixed_length = bool(fixed_length)
        value = _initial_value(initial_value, int(max_length), fixed_length)
        _check_lengths(int(max_length), fixed_length)
        if characteristic._service.remote:
            raise RoleError("Can't add a Descriptor to a remote Characteristic")
        descriptor = cls.__new__(cls)
        descriptor._characteristic = characteristic
        descriptor._uuid = uuid
        descriptor._read_perm = read_perm
        descriptor._write_perm = write_perm
        descriptor._max_length = int(max_length)
        descriptor._fixed_length = fixed_length
        descriptor._value = value
        descriptor._handle = 0
        characteristic._descriptors.append(descriptor)
        characteristic._service._dirty = True
        return descriptor

    @classmethod
    def _make_remote(cls, characteristic: Characteristic, info: DescriptorInfo, uuid: UUID | None) -> Descriptor:
        descriptor = cls.__new__(cls)
        descriptor._characteristic = characteristic
        descriptor._uuid = uuid
        descriptor._read_perm = Attribute.OPEN
        descriptor._write_perm = Attribute.OPEN
        descriptor._max_length = REMOTE_MAX_LENGTH
        descriptor._fixed_length = False
        descriptor._value = b""
        descriptor._handle = info.handle
        return descriptor

    def _definition(self) -> DescriptorDef:
        assert self._uuid is not None
        return DescriptorDef(
            self._uuid._to_host(), self._value, permissions(self._read_perm, self._write_perm),
            max_length=self._max_length, fixed_length=self._fixed_length,
        )

    def _save_value(self, server: Any) -> None:
        if self._handle:
            try:
                self._value = server.get_value(self._handle)
            except AttLocalError:
                pass

    @property
    def uuid(self) -> UUID | None:
        return self._uuid

    @property
    def characteristic(self) -> Characteristic:
        return self._characteristic

    @property
    def value(self) -> bytearray:
        service = self._characteristic._service
        node = self._characteristic._node
        if service.remote:
            handle = self._handle
            return bytearray(node.gatt_call(_link_of(service), lambda c, now, done: c.read(handle, now, done)))
        service._commit()
        return bytearray(node.host.gatt_server.get_value(self._handle))

    @value.setter
    def value(self, value: Any) -> None:
        data = buffer_bytes(value)
        service = self._characteristic._service
        node = self._characteristic._node
        if service.remote:
            _remote_write(node, _link_of(service), self._handle, data, False)
            return
        _check_value_length(data, self._max_length, self._fixed_length)
        service._commit()
        node.host.gatt_server.set_value(self._handle, data)
        self._value = data

    def __repr__(self) -> str:
        if self._uuid is None:
            return "<Descriptor with Unregistered UUID>"
        return f"Descriptor({self._uuid!r})"
