"""``BLE.gatts_*``: the GATT server as MicroPython's NimBLE (or BTstack) build shows it.

Theory of operation
-------------------
The attributes live in the host's :class:`~host.gatt_server.GattServer`; the *values* of
the firmware's characteristics and descriptors live here, as MicroPython keeps them in
its own ``gatts_db``: one buffer per value handle with a capacity (20 octets unless
``gatts_set_buffer`` or a larger local ``gatts_write`` says otherwise) and an append flag.
Every attribute the firmware registers gets a read and a write hook:

* a remote write stores ``min(capacity, len)`` octets (appending in append mode) and
  answers success, then raises ``_IRQ_GATTS_WRITE (conn, handle)``;
* a remote read raises ``_IRQ_GATTS_READ_REQUEST (conn, handle)`` when a handler is set
  and answers once the handler returned (a :class:`~host.gatt_db.Deferred`): a non-zero
  return value is the ATT error of the response, anything else sends the buffer.

Handle numbering follows the stack. NimBLE registers GAP (0x1800: 0x2A00, 0x2A01) and
GATT (0x1801: 0x2A05 + CCCD) when the radio becomes active and again before the
firmware's services at every ``gatts_register_services``, and never resets its handle
counter: a fresh boot's first user service starts at handle 19. BTstack rebuilds its
database from handle 1 each time (GAP with 0x2A00, GATT with 0x2A05 read-only), so the
first user service starts at 7. A CCCD follows the value of every notify/indicate
characteristic and is not in the returned tuples; CCCD writes raise no IRQ.
Characteristic flags are masked to 16 bits (``_FLAG_WRITE_CAPTURE`` is lost, as on the
board); NimBLE descriptors take ATT permission flags (1 read, 2 write, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from host.att import AttBearerClosedError, AttError, AttLocalError
from host.events import HostEvent
from host.gatt_db import (
    DEVICE_NAME_UUID,
    GAP_SERVICE_UUID,
    GATT_SERVICE_UUID,
    SERVICE_CHANGED_UUID,
    AttributeAccess,
    AttributeDatabase,
    CharacteristicDef,
    CharacteristicProperties,
    Deferred,
    DescriptorDef,
    Permissions,
    ServiceDef,
)
from host.hci import LocalError

from .ble_core import BleCore, buffer_bytes
from .errors import (
    BLE_HS_ENOTCONN,
    BLE_HS_ETIMEOUT,
    EBUSY,
    EINVAL,
    ENOENT,
    ENOTCONN,
    raise_errno,
)
from .gap import IRQ
from .uuid import UUID, to_host_uuid

__all__ = ["DEFAULT_VALUE_SIZE", "GattsMixin", "LOCAL_CONN_HANDLE"]

#: ``MP_BLUETOOTH_DEFAULT_ATTR_LEN``: the capacity of a new value buffer.
DEFAULT_VALUE_SIZE = 20
#: The connection handle of NimBLE's own reads of a local value.
LOCAL_CONN_HANDLE = 0xFFFF
#: Characteristic flags of MicroPython (``_FLAG_*``).
_F_READ, _F_WRITE_NO_RESPONSE, _F_WRITE, _F_NOTIFY, _F_INDICATE = 0x02, 0x04, 0x08, 0x10, 0x20
_F_AUTH_SIGNED_WRITE = 0x40
_SECURITY_FLAGS = (
    (0x0200, Permissions.READ_ENCRYPTED),
    (0x0400, Permissions.READ_AUTHENTICATED),
    (0x0800, Permissions.READ_AUTHORIZED),
    (0x1000, Permissions.WRITE_ENCRYPTED),
    (0x2000, Permissions.WRITE_AUTHENTICATED),
    (0x4000, Permissions.WRITE_AUTHORIZED),
)
_MAX_VALUE = 512


@dataclass
class _Value:
    """One entry of MicroPython's ``gatts_db``."""

    data: bytes = b""
    size: int = DEFAULT_VALUE_SIZE
    append: bool = False


def _array(obj: Any, what: str) -> tuple[Any, ...]:
    if not isinstance(obj, (tuple, list)):
        raise TypeError(f"object '{type(obj).__name__}' isn't a tuple or list")
    return tuple(obj)


def _fixed(obj: Any, n: int) -> tuple[Any, ...]:
    items = _array(obj, "")
    if len(items) != n:
        raise ValueError(f"requested length {n} but object has length {len(items)}")
    return items


def _char_permissions(flags: int) -> Permissions:
    perms = Permissions(0)
    if flags & _F_READ:
        perms |= Permissions.READ
    if flags & (_F_WRITE | _F_WRITE_NO_RESPONSE | _F_AUTH_SIGNED_WRITE):
        perms |= Permissions.WRITE
    for bit, perm in _SECURITY_FLAGS:
        if flags & bit:
            perms |= perm
    return perms


class GattsMixin(BleCore):
    """The GATT server part of ``BLE`` (see the module docstring)."""

    _values: dict[int, _Value]
    _name_handle: int | None
    _db_fresh: bool

    def _init_gatts(self) -> None:
        self._values = {}
        self._name_handle = None
        self._db_fresh = False

    # -- database ----------------------------------------------------------------------

    def _gatts_activate(self) -> None:
        """The radio came up: the database holds GAP and GATT only."""
        server = self._host.gatt_server
        if not self._db_fresh or not self._nimble:
            server.db = AttributeDatabase()
            self._db_fresh = True
        else:
            for service in list(server.db.services):
                server.remove_service(service)
        self._values = {}
        self._add_standard_services()
        if self._nimble and hasattr(server, "open_ended_last_group"):
            setattr(server, "open_ended_last_group", True)

    def _add_standard_services(self) -> None:
        server = self._host.gatt_server
        if self._nimble:
            handles = server.add_gap_service(self._gap_name, 0)
            self._name_handle = handles.device_name
            server.add_gatt_service(service_changed=True, client_supported_features=False, database_hash=False)
            return
        read = CharacteristicProperties.READ
        gap = server.add_service(
            ServiceDef(GAP_SERVICE_UUID, (CharacteristicDef(DEVICE_NAME_UUID, read, self._gap_name, max_length=248),))
        )
        self._name_handle = gap.characteristics[0].value_handle
        server.add_service(ServiceDef(GATT_SERVICE_UUID, (CharacteristicDef(SERVICE_CHANGED_UUID, read, bytes(4)),)))

    def _gap_name_changed(self) -> None:
        if self._active and self._name_handle is not None:
            try:
                self._host.gatt_server.set_value(self._name_handle, self._gap_name)
            except AttLocalError:
                pass

    def _gatts_busy(self) -> bool:
        gap = self._host.gap
        return bool(gap.is_advertising() or gap.scanning or gap.connecting or gap.connections)

    def gatts_register_services(self, services_definition: Any) -> tuple[tuple[int, ...], ...]:
        """``BLE.gatts_register_services(services_definition)``: replace every service;
        one tuple of value handles per service (characteristics and their descriptors,
        flattened in definition order)."""
        self._check_active()
        definitions = [self._service_def(s) for s in _array(services_definition, "services")]
        if self._nimble and self._gatts_busy():
            raise_errno(EBUSY)
        server = self._host.gatt_server
        if self._nimble:
            # NimBLE never resets its attribute counter: handles keep growing.
            for service in list(server.db.services):
                server.remove_service(service)
        else:
            server.reset(False, self._now)
        self._values = {}
        self._add_standard_services()
        out = []
        try:
            for definition in definitions:
                service = server.add_service(definition)
                handles: list[int] = []
                for char in service.characteristics:
                    handles.append(char.value_handle)
                    handles.extend(char.descriptor_handles)
                for h in handles:
                    self._values[h] = _Value()
                out.append(tuple(handles))
        except AttLocalError:
            raise_errno(EINVAL)
        return tuple(out)

    def _service_def(self, service: Any) -> ServiceDef:
        uuid, chars = _fixed(service, 2)
        if not isinstance(uuid, UUID):
            raise ValueError("invalid service UUID")
        return ServiceDef(to_host_uuid(uuid, nimble=self._nimble), tuple(self._char_def(c) for c in _array(chars, "")))

    def _char_def(self, char: Any) -> CharacteristicDef:
        items = _array(char, "")
        if not 2 <= len(items) <= 3:
            raise ValueError("invalid characteristic tuple")
        uuid = items[0]
        if not isinstance(uuid, UUID):
            raise ValueError("invalid characteristic UUID")
        flags = int(items[1]) & 0xFFFF
        descriptors = tuple(self._descriptor_def(d) for d in _array(items[2], "")) if len(items) == 3 else ()
        return CharacteristicDef(
            to_host_uuid(uuid, nimble=self._nimble),
            CharacteristicProperties(flags & 0x7F),
            permissions=_char_permissions(flags),
            max_length=_MAX_VALUE,
            descriptors=descriptors,
            read_hook=self._read_hook,
            write_hook=self._write_hook,
        )

    def _descriptor_def(self, descriptor: Any) -> DescriptorDef:
        uuid, flags_obj = _fixed(descriptor, 2)
        if not isinstance(uuid, UUID):
            raise ValueError("invalid descriptor UUID")
        flags = int(flags_obj) & 0xFFFF
        perms = Permissions(flags & 0xFF) if self._nimble else _char_permissions(flags)
        return DescriptorDef(
            to_host_uuid(uuid, nimble=self._nimble), permissions=perms, max_length=_MAX_VALUE,
            read_hook=self._read_hook, write_hook=self._write_hook,
        )

    # -- remote access -------------------------------------------------------------------

    def _read_hook(self, access: AttributeAccess) -> bytes | Deferred | None:
        entry = self._values.get(access.handle)
        if entry is None:
            raise AttError(0x0A, access.handle)  # BLE_ATT_ERR_ATTR_NOT_FOUND
        if self._irq.handler is None:
            return entry.data
        deferred = Deferred()
        handle = access.handle

        def answered(result: Any) -> None:
            if deferred.done:
                return
            code = 0 if result is None or isinstance(result, bool) and not result else _int(result)
            if code:
                deferred.fail(AttError(code & 0xFF, handle))
            else:
                current = self._values.get(handle)
                deferred.complete(current.data if current is not None else b"")
            self._service()

        self._irq.post(IRQ.GATTS_READ_REQUEST, (access.connection, handle), answered)
        return deferred

    def _write_hook(self, access: AttributeAccess) -> None:
        entry = self._values.get(access.handle)
        if entry is None:
            raise AttError(0x0A, access.handle)
        if entry.append:
            entry.data = (entry.data + access.value)[: entry.size]
        else:
            entry.data = access.value[: entry.size]
        self._irq.post(IRQ.GATTS_WRITE, (access.connection, access.handle))

    # -- local access --------------------------------------------------------------------

    def _entry(self, value_handle: Any) -> _Value:
        entry = self._values.get(int(value_handle))
        if entry is None:
            raise_errno(EINVAL)
        return entry

    def gatts_read(self, value_handle: int) -> bytes:
        """``BLE.gatts_read(value_handle)``: the local value (cleared in append mode)."""
        self._check_active()
        entry = self._entry(value_handle)
        data = entry.data
        if entry.append:
            entry.data = b""
        return data

    def gatts_write(self, value_handle: int, data: Any, send_update: Any = False) -> None:
        """``BLE.gatts_write(value_handle, data, send_update=False)``."""
        self._check_active()
        entry = self._entry(value_handle)
        value = buffer_bytes(data)
        if len(value) > entry.size:
            entry.size = len(value)
        entry.data = value
        if send_update:
            self._send_update(int(value_handle))

    def _send_update(self, value_handle: int) -> None:
        """``ble_gatts_chr_updated``: notify or indicate every subscribed client."""
        server = self._host.gatt_server
        for conn in list(self._conns):
            try:
                bits = server.subscription(conn, value_handle)
            except AttLocalError:
                continue
            if bits & 1:
                self._notify(conn, value_handle, None)
            elif bits & 2:
                self._indicate(conn, value_handle, None)

    def _local_value(self, value_handle: int) -> bytes:
        """NimBLE reading its own value: ``_IRQ_GATTS_READ_REQUEST (65535, handle)``."""
        entry = self._values.get(value_handle)
        if entry is None:
            raise_errno(ENOENT)
        if self._irq.handler is not None:
            current = self._rt.scheduler.current
            if current is not None and current.node is self._rt:
                self._irq.call_now(IRQ.GATTS_READ_REQUEST, (LOCAL_CONN_HANDLE, value_handle))
            else:
                self._irq.post(IRQ.GATTS_READ_REQUEST, (LOCAL_CONN_HANDLE, value_handle))
        return entry.data

    def _bearer_for(self, conn_handle: int) -> Any:
        try:
            return self._host.att_bearer(int(conn_handle))
        except LocalError:
            raise_errno(ENOTCONN)

    def _notify(self, conn_handle: int, value_handle: int, data: Any) -> None:
        bearer = self._bearer_for(conn_handle)
        value = self._local_value(value_handle) if data is None else buffer_bytes(data)
        bearer.notify(value_handle, value)
        self._service()

    def _indicate(self, conn_handle: int, value_handle: int, data: Any) -> None:
        bearer = self._bearer_for(conn_handle)
        value = self._local_value(value_handle) if data is None else buffer_bytes(data)

        def done(err: AttError | None, now: int) -> None:
            if err is None:
                status = 0  # BLE_HS_EDONE: confirmed
            elif isinstance(err, AttBearerClosedError):
                status = BLE_HS_ENOTCONN
            else:
                status = BLE_HS_ETIMEOUT
            self._irq.post(IRQ.GATTS_INDICATE_DONE, (conn_handle, value_handle, status))

        bearer.indicate(value_handle, value, self._now, done)
        self._service()

    def gatts_notify(self, conn_handle: int, value_handle: int, data: Any = None) -> None:
        """``BLE.gatts_notify(conn_handle, value_handle, data=None)``: sent whatever the
        client's subscription (cut to ATT_MTU-3)."""
        self._check_active()
        self._notify(int(conn_handle), int(value_handle), data)

    def gatts_indicate(self, conn_handle: int, value_handle: int, data: Any = None) -> None:
        """``BLE.gatts_indicate(conn_handle, value_handle, data=None)``;
        ``_IRQ_GATTS_INDICATE_DONE`` follows."""
        self._check_active()
        self._indicate(int(conn_handle), int(value_handle), data)

    def gatts_set_buffer(self, value_handle: int, len: int, append: Any = False) -> None:  # noqa: A002
        """``BLE.gatts_set_buffer(value_handle, len, append=False)``: capacity and append
        mode; the value is cleared."""
        self._check_active()
        entry = self._entry(value_handle)
        entry.size = int(len)
        entry.append = bool(append)
        entry.data = b""

    def _ignore(self, event: HostEvent) -> None:
        """CCCD writes (SubscriptionChanged) raise no IRQ on the board."""


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
