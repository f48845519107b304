"""The GATT server: one attribute database per device, answering every ATT request.

Theory of operation
-------------------
A :class:`GattServer` owns an :class:`~host.gatt_db.AttributeDatabase` and per-connection
state (CCCD values, Client Supported Features, the prepare-write queue). Each
:class:`~host.att.AttBearer` attaches itself at construction; the bearer hands decoded
requests to :meth:`GattServer.handle_request` (which returns the response bytes, or
``None`` when an application hook deferred the answer) and commands to
:meth:`GattServer.handle_command` (never answered). The bearer itself handles the MTU
exchange, malformed and unknown PDUs.

Every access checks, in this order: handle (INVALID_HANDLE), permission
(READ/WRITE_NOT_PERMITTED), encryption and authentication (INSUFFICIENT_AUTHENTICATION
on an unencrypted link without a bond, INSUFFICIENT_ENCRYPTION with one, Vol 3 Part C
10.3.1), key size (ENCRYPTION_KEY_SIZE_TOO_SHORT), authorization
(INSUFFICIENT_AUTHORIZATION), then value length (INVALID_ATTRIBUTE_VALUE_LENGTH) and
the application hook. Security comes from the ``security`` provider, a callable
``connection -> SecurityInfo`` (SMP/host set it; default: an unencrypted link).

Ranged requests follow Vol 3 Part F 3.4.3-3.4.4: a zero or inverted range is
INVALID_HANDLE on the starting handle, an empty result ATTRIBUTE_NOT_FOUND; lists stop
at the first entry of another size/format or when the PDU would exceed ATT_MTU; Read By
Type stops before an attribute it may not read (or fails on it if it is the first).
Find By Type Value compares only values this client may read (per-connection values
included; attributes with a read hook are skipped). Values are cut to ATT_MTU-1 (Read, Read Blob, Read Multiple), min(ATT_MTU-4, 253) per
Read By Type entry and min(ATT_MTU-6, 251) per Read By Group Type entry.

Queued writes (Vol 3 Part F 3.4.6): ATT_PREPARE_WRITE_REQ checks handle and permissions
and queues (PREPARE_QUEUE_FULL past ``max_prepare_writes``); ATT_EXECUTE_WRITE_REQ
builds each new value as ``value[:offset] + part`` in queue order, validates every
offset (INVALID_OFFSET) and length (INVALID_ATTRIBUTE_VALUE_LENGTH) before writing
anything, then writes in handle order of first appearance; a hook denying a write at
that point answers its error (earlier writes stay done).

Signed Write Command: with a ``signature_checker(connection, signed_data, signature)``
returning True the write proceeds with the encryption requirements waived (data
signing, Vol 3 Part C 10.2.2); without a checker or with a bad signature it is ignored.

Notifications/indications go to connections whose CCCD enables them. A CCCD write with
a bit the characteristic does not support answers VALUE_NOT_ALLOWED. CCCD state is per
connection; :meth:`GattServer.cccd_states` and :meth:`GattServer.load_cccd_states`
persist it per bonded peer (keyed by characteristic value handle), and
``on_subscription_changed`` reports every change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Final

from host.att import NO_SECURITY, AttBearer, AttError, AttLocalError, SecurityInfo
from host.att_pdu import (
    ATT_ERROR_RSP,
    ATT_EXECUTE_WRITE_REQ,
    ATT_EXECUTE_WRITE_RSP,
    ATT_FIND_BY_TYPE_VALUE_REQ,
    ATT_FIND_BY_TYPE_VALUE_RSP,
    ATT_FIND_INFORMATION_REQ,
    ATT_FIND_INFORMATION_RSP,
    ATT_PREPARE_WRITE_REQ,
    ATT_PREPARE_WRITE_RSP,
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
    ATT_SIGNED_WRITE_CMD,
    ATT_WRITE_CMD,
    ATT_WRITE_REQ,
    ATT_WRITE_RSP,
    AttErrorCode,
    AttExecuteWriteFlags,
    AttPdu,
    AttributeData,
    GroupAttributeData,
    HandlesInformation,
    InformationData,
    LengthValueTuple,
)
from host.gatt_db import (
    CCCD_UUID,
    PRIMARY_SERVICE_UUID,
    SECONDARY_SERVICE_UUID,
    AccessMethod,
    Attribute,
    AttributeAccess,
    AttributeDatabase,
    AttributeKind,
    Deferred,
    Permissions,
    Service,
    ServiceDef,
    ServiceInfo,
)
from host.gatt_services import (
    CLIENT_FEATURE_MULTIPLE_HANDLE_VALUE_NOTIFICATIONS,
    GapServiceHandles,
    GattServiceHandles,
    PeripheralPreferredConnectionParameters,
    gap_service_def,
    gatt_service_def,
)
from host.uuid import UUID

__all__ = ["GattServer", "SecurityProvider", "SignatureChecker"]

SecurityProvider = Callable[[int], SecurityInfo]
SignatureChecker = Callable[[int, bytes, bytes], bool]

_E = AttErrorCode
_DEFAULT_MAX_PREPARE_WRITES: Final = 128


@dataclass
class _Connection:
    bearer: AttBearer
    cccd: dict[int, int] = field(default_factory=dict)  # CCCD handle -> value
    client_features: int = 0
    prepare_queue: list[tuple[int, int, bytes]] = field(default_factory=list)


class _Fail(Exception):
    """Internal: abort a request with ATT_ERROR_RSP(code, handle)."""

    def __init__(self, code: int, handle: int) -> None:
        super().__init__(code, handle)
        self.code = code
        self.handle = handle


class GattServer:
    """The attribute server of one device (Vol 3 Part F, Part G): see the module docstring."""

    def __init__(
        self,
        *,
        security: SecurityProvider | None = None,
        signature_checker: SignatureChecker | None = None,
        max_prepare_writes: int = _DEFAULT_MAX_PREPARE_WRITES,
        on_subscription_changed: Callable[[int, int, int, int], None] | None = None,
    ) -> None:
        self.db = AttributeDatabase()
        #: ``connection -> SecurityInfo``; replace it when SMP changes the link.
        self.security: SecurityProvider = security or (lambda _conn: NO_SECURITY)
        #: ``(connection, signed_data, signature) -> bool``; None ignores signed writes.
        self.signature_checker = signature_checker
        self.max_prepare_writes = max_prepare_writes
        #: ``(connection, value_handle, cccd_value, now)`` after a CCCD write.
        self.on_subscription_changed = on_subscription_changed
        self._connections: dict[int, _Connection] = {}
        self.gatt_handles: GattServiceHandles | None = None
        self.gap_handles: GapServiceHandles | None = None

    # -- database -------------------------------------------------------------------------

    def add_service(self, definition: ServiceDef) -> Service:
        """Add a service (handles allocated after all existing ones)."""
        return self.db.add_service(definition)

    def remove_service(self, service: Service) -> None:
        self.db.remove_service(service)

    def describe(self) -> list[ServiceInfo]:
        """The database as a client discovers it."""
        return self.db.describe()

    def get_value(self, handle: int) -> bytes:
        """The stored value of an attribute."""
        return self.db[handle].value

    def set_value(self, handle: int, value: bytes) -> None:
        """Replace a stored value (the application's own update; sends nothing)."""
        attr = self.db[handle]
        if len(value) > attr.max_length:
            raise AttLocalError(f"a {len(value)}-octet value exceeds {attr.max_length} octets")
        attr.value = bytes(value)

    def add_gap_service(
        self,
        device_name: str | bytes,
        appearance: int = 0,
        ppcp: PeripheralPreferredConnectionParameters | None = None,
        *,
        device_name_writable: bool = False,
    ) -> GapServiceHandles:
        """Add the GAP service (Vol 3 Part C 12)."""
        svc = self.add_service(gap_service_def(device_name, appearance, ppcp, device_name_writable=device_name_writable))
        c = svc.characteristics
        self.gap_handles = GapServiceHandles(
            svc.start_handle, svc.end_handle, c[0].value_handle, c[1].value_handle,
            c[2].value_handle if len(c) > 2 else None,
        )
        return self.gap_handles

    def add_gatt_service(
        self,
        *,
        service_changed: bool = True,
        client_supported_features: bool = True,
        database_hash: bool = True,
        server_supported_features: bool = False,
    ) -> GattServiceHandles:
        """Add the GATT service (Vol 3 Part G 7)."""
        svc = self.add_service(
            gatt_service_def(
                service_changed=service_changed,
                client_supported_features=client_supported_features,
                database_hash=database_hash,
                server_supported_features=server_supported_features,
            )
        )
        chars = list(svc.characteristics)
        sc = chars.pop(0) if service_changed else None
        csf = chars.pop(0) if client_supported_features else None
        dbh = chars.pop(0) if database_hash else None
        ssf = chars.pop(0) if server_supported_features else None
        if csf is not None:
            self.db.set_kind(csf.value_handle, AttributeKind.CLIENT_SUPPORTED_FEATURES)
        if dbh is not None:
            self.db.set_kind(dbh.value_handle, AttributeKind.DATABASE_HASH)
        self.gatt_handles = GattServiceHandles(
            svc.start_handle, svc.end_handle,
            sc.value_handle if sc else None, sc.cccd_handle if sc else None,
            csf.value_handle if csf else None, dbh.value_handle if dbh else None,
            ssf.value_handle if ssf else None,
        )
        return self.gatt_handles

    # -- connections ----------------------------------------------------------------------

    def attach(self, bearer: AttBearer) -> None:
        """Called by :class:`AttBearer` on construction."""
        if bearer.handle in self._connections:
            raise AttLocalError(f"connection 0x{bearer.handle:04X} already has an ATT bearer")
        self._connections[bearer.handle] = _Connection(bearer)

    def detach(self, bearer: AttBearer) -> None:
        """Called by :meth:`AttBearer.close`; forgets the connection's state."""
        conn = self._connections.get(bearer.handle)
        if conn is not None and conn.bearer is bearer:
            del self._connections[bearer.handle]

    @property
    def connections(self) -> tuple[int, ...]:
        return tuple(self._connections)

    def _conn(self, connection: int) -> _Connection:
        try:
            return self._connections[connection]
        except KeyError:
            raise AttLocalError(f"no ATT bearer for connection 0x{connection:04X}") from None

    def _cccd_attr(self, value_handle: int) -> Attribute | None:
        return self.db.cccd_of(value_handle)

    def subscription(self, connection: int, value_handle: int) -> int:
        """The CCCD value (bit 0 notify, bit 1 indicate) for a characteristic."""
        cccd = self._cccd_attr(value_handle)
        if cccd is None:
            return 0
        return self._conn(connection).cccd.get(cccd.handle, 0)

    def cccd_states(self, connection: int) -> dict[int, int]:
        """Non-zero CCCD values keyed by characteristic value handle (to persist a bond)."""
        conn = self._conn(connection)
        out = {}
        for handle, value in conn.cccd.items():
            attr = self.db.get(handle)
            if attr is not None and value:
                out[attr.characteristic_value_handle] = value
        return out

    def load_cccd_states(self, connection: int, states: dict[int, int]) -> None:
        """Restore CCCD values of a bonded peer (value handle -> CCCD value)."""
        conn = self._conn(connection)
        for value_handle, value in states.items():
            cccd = self._cccd_attr(value_handle)
            if cccd is not None:
                conn.cccd[cccd.handle] = value & cccd.cccd_allowed

    def client_features(self, connection: int) -> int:
        return self._conn(connection).client_features

    def load_client_features(self, connection: int, features: int) -> None:
        self._conn(connection).client_features = features

    # -- notifications and indications ---------------------------------------------------

    def _targets(self, value_handle: int, bit: int, connection: int | None) -> list[_Connection]:
        if self.db.get(value_handle) is None:
            raise AttLocalError(f"no attribute with handle 0x{value_handle:04X}")
        cccd = self._cccd_attr(value_handle)
        if cccd is None:
            return []
        conns = [self._conn(connection)] if connection is not None else list(self._connections.values())
        return [c for c in conns if c.cccd.get(cccd.handle, 0) & bit]

    def notify(
        self, value_handle: int, value: bytes | None = None, *, connection: int | None = None
    ) -> list[int]:
        """Notify subscribed connections (all, or just ``connection``); the stored value
        when ``value`` is None. Returns the connections notified."""
        data = self.db[value_handle].value if value is None else bytes(value)
        sent = []
        for conn in self._targets(value_handle, 1, connection):
            if conn.bearer.notify(value_handle, data):
                sent.append(conn.bearer.handle)
        return sent

    def indicate(
        self,
        value_handle: int,
        now: int,
        value: bytes | None = None,
        *,
        connection: int | None = None,
        on_done: Callable[[int, AttError | None], None] | None = None,
    ) -> list[int]:
        """Indicate to subscribed connections; ``on_done(connection, None | AttError)``
        after each confirmation or failure. Returns the connections indicated."""
        data = self.db[value_handle].value if value is None else bytes(value)
        sent = []
        for conn in self._targets(value_handle, 2, connection):
            handle = conn.bearer.handle

            def done(err: AttError | None, _now: int, handle: int = handle) -> None:
                if on_done is not None:
                    on_done(handle, err)

            conn.bearer.indicate(value_handle, data, now, done)
            sent.append(handle)
        return sent

    def notify_multiple(self, connection: int, values: list[tuple[int, bytes | None]]) -> None:
        """Send several values in ATT_MULTIPLE_HANDLE_VALUE_NTF when the client enabled the
        feature (Vol 3 Part G 4.10.2) and they fit; otherwise one notification each.
        Unsubscribed characteristics are skipped."""
        conn = self._conn(connection)
        ready = [
            (h, self.db[h].value if v is None else bytes(v))
            for h, v in values
            if conn.cccd.get(getattr(self._cccd_attr(h), "handle", -1), 0) & 1
        ]
        size = 1 + sum(4 + len(v) for _, v in ready)
        if (
            len(ready) >= 2
            and conn.client_features & CLIENT_FEATURE_MULTIPLE_HANDLE_VALUE_NOTIFICATIONS
            and size <= conn.bearer.mtu
        ):
            conn.bearer.notify_multiple(ready)
            return
        for h, v in ready:
            conn.bearer.notify(h, v)

    def service_changed(self, start: int, end: int, now: int) -> list[int]:
        """Indicate Service Changed (Vol 3 Part G 7.1) for the handle range."""
        if self.gatt_handles is None or self.gatt_handles.service_changed is None:
            raise AttLocalError("the GATT service has no Service Changed characteristic")
        value = start.to_bytes(2, "little") + end.to_bytes(2, "little")
        return self.indicate(self.gatt_handles.service_changed, now, value)

    # -- access checks --------------------------------------------------------------------

    def _attr(self, handle: int) -> Attribute:
        attr = self.db.get(handle) if handle else None
        if attr is None:
            raise _Fail(_E.INVALID_HANDLE, handle)
        return attr

    def _check(self, conn: int, attr: Attribute, write: bool, signed: bool = False) -> None:
        P = Permissions
        perms = attr.permissions
        if write:
            allowed, enc, auth, authz = P.WRITE, P.WRITE_ENCRYPTED, P.WRITE_AUTHENTICATED, P.WRITE_AUTHORIZED
        else:
            allowed, enc, auth, authz = P.READ, P.READ_ENCRYPTED, P.READ_AUTHENTICATED, P.READ_AUTHORIZED
        if not perms & allowed:
            raise _Fail(_E.WRITE_NOT_PERMITTED if write else _E.READ_NOT_PERMITTED, attr.handle)
        sec = self.security(conn)
        need_enc = bool(perms & (enc | auth)) or attr.min_key_size > 0
        if need_enc and not signed:
            if not sec.encrypted:
                code = _E.INSUFFICIENT_ENCRYPTION if sec.bonded else _E.INSUFFICIENT_AUTHENTICATION
                raise _Fail(code, attr.handle)
            if perms & auth and not sec.authenticated:
                raise _Fail(_E.INSUFFICIENT_AUTHENTICATION, attr.handle)
            if sec.key_size < attr.min_key_size:
                raise _Fail(_E.ENCRYPTION_KEY_SIZE_TOO_SHORT, attr.handle)
        if perms & authz and not sec.authorized:
            raise _Fail(_E.INSUFFICIENT_AUTHORIZATION, attr.handle)

    def _read(self, conn: int, attr: Attribute, offset: int, now: int) -> bytes | Deferred:
        """The whole value (hooks included) after the permission checks."""
        self._check(conn, attr, write=False)
        if attr.kind is AttributeKind.CCCD:
            return self._conn(conn).cccd.get(attr.handle, 0).to_bytes(2, "little")
        if attr.kind is AttributeKind.CLIENT_SUPPORTED_FEATURES:
            return bytes((self._conn(conn).client_features & 0xFF,))
        if attr.kind is AttributeKind.DATABASE_HASH:
            return self.db.database_hash()
        if attr.read_hook is not None:
            access = AttributeAccess(conn, attr.handle, attr.type, AccessMethod.READ, offset, b"", now)
            try:
                out = attr.read_hook(access)
            except AttError as exc:
                raise _Fail(exc.code, attr.handle) from None
            if out is not None:
                return out if isinstance(out, Deferred) else bytes(out)
        return attr.value

    def _read_now(self, conn: int, attr: Attribute, now: int) -> bytes:
        value = self._read(conn, attr, 0, now)
        if isinstance(value, Deferred):
            raise _Fail(_E.UNLIKELY_ERROR, attr.handle)
        return value

    def _validate_write(self, attr: Attribute, value: bytes) -> None:
        if len(value) > attr.max_length or (attr.fixed_length and len(value) != len(attr.value)):
            raise _Fail(_E.INVALID_ATTRIBUTE_VALUE_LENGTH, attr.handle)
        if attr.kind is AttributeKind.CCCD and value[0] & ~attr.cccd_allowed | value[1]:
            raise _Fail(_E.VALUE_NOT_ALLOWED, attr.handle)
        if attr.kind is AttributeKind.CLIENT_SUPPORTED_FEATURES and not value:
            raise _Fail(_E.INVALID_ATTRIBUTE_VALUE_LENGTH, attr.handle)

    def _write(
        self, conn: int, attr: Attribute, value: bytes, method: AccessMethod, now: int
    ) -> Deferred | None:
        """Length checks, hook, store. Permissions are checked by the caller."""
        self._validate_write(attr, value)
        if attr.kind is AttributeKind.CLIENT_SUPPORTED_FEATURES:
            state = self._conn(conn)
            new = value[0]
            if state.client_features & ~new:
                raise _Fail(_E.VALUE_NOT_ALLOWED, attr.handle)  # bits cannot be cleared (7.2)
            state.client_features = new
            return None
        if attr.write_hook is not None:
            access = AttributeAccess(conn, attr.handle, attr.type, method, 0, value, now)
            try:
                result = attr.write_hook(access)
            except AttError as exc:
                raise _Fail(exc.code, attr.handle) from None
            if isinstance(result, Deferred):
                def store(outcome: bytes | None | AttError) -> None:
                    if not isinstance(outcome, AttError):
                        self._store(conn, attr, value, now)

                result.add_callback(store)
                return result
        self._store(conn, attr, value, now)
        return None

    def _store(self, conn: int, attr: Attribute, value: bytes, now: int) -> None:
        if attr.kind is AttributeKind.CCCD:
            state = self._connections.get(conn)
            if state is None:
                return
            new = int.from_bytes(value, "little")
            if state.cccd.get(attr.handle, 0) != new:
                state.cccd[attr.handle] = new
                if self.on_subscription_changed is not None:
                    self.on_subscription_changed(conn, attr.characteristic_value_handle, new, now)
            return
        attr.value = bytes(value)

    # -- requests -------------------------------------------------------------------------

    def handle_request(self, bearer: AttBearer, pdu: AttPdu, now: int) -> bytes | None:
        """Answer one decoded request; ``None`` if the answer is deferred."""
        handler = _REQUEST_HANDLERS.get(type(pdu))
        if handler is None:
            return ATT_ERROR_RSP(pdu.opcode, 0, _E.REQUEST_NOT_SUPPORTED).to_bytes()
        try:
            result = handler(self, bearer, pdu, now)
        except _Fail as fail:
            return ATT_ERROR_RSP(pdu.opcode, fail.handle, fail.code).to_bytes()
        if isinstance(result, AttPdu):
            return result.to_bytes()
        return result

    @staticmethod
    def _range(start: int, end: int) -> None:
        if start == 0 or start > end:
            raise _Fail(_E.INVALID_HANDLE, start)

    def _find_information(self, bearer: AttBearer, pdu: ATT_FIND_INFORMATION_REQ, now: int) -> AttPdu:
        self._range(pdu.starting_handle, pdu.ending_handle)
        entries: list[InformationData] = []
        bits = 0
        for attr in self.db.in_range(pdu.starting_handle, pdu.ending_handle):
            this_bits = 16 if attr.type.shortest_bits == 16 else 128
            uuid = attr.type.shortest() if this_bits == 16 else attr.type.to_128()
            if entries and this_bits != bits:
                break
            if 2 + (len(entries) + 1) * (2 + this_bits // 8) > bearer.mtu:
                break
            bits = this_bits
            entries.append(InformationData(attr.handle, uuid))
        if not entries:
            raise _Fail(_E.ATTRIBUTE_NOT_FOUND, pdu.starting_handle)
        return ATT_FIND_INFORMATION_RSP(tuple(entries))

    def _find_by_type_value(self, bearer: AttBearer, pdu: ATT_FIND_BY_TYPE_VALUE_REQ, now: int) -> AttPdu:
        self._range(pdu.starting_handle, pdu.ending_handle)
        entries: list[HandlesInformation] = []
        is_service = pdu.attribute_type in (PRIMARY_SERVICE_UUID, SECONDARY_SERVICE_UUID)
        wanted: UUID | bytes = pdu.attribute_value
        if is_service and len(pdu.attribute_value) in (2, 16):
            wanted = UUID.from_bytes(pdu.attribute_value)
        for attr in self.db.in_range(pdu.starting_handle, pdu.ending_handle):
            if attr.type != pdu.attribute_type or attr.read_hook is not None:
                continue
            try:
                value = self._read_now(bearer.handle, attr, now)
            except _Fail:
                continue  # only values this client may read are compared
            if isinstance(wanted, UUID):
                if len(value) not in (2, 16) or UUID.from_bytes(value) != wanted:
                    continue
            elif value != wanted:
                continue
            if 1 + (len(entries) + 1) * 4 > bearer.mtu:
                break
            entries.append(HandlesInformation(attr.handle, attr.group_end if is_service else attr.handle))
        if not entries:
            raise _Fail(_E.ATTRIBUTE_NOT_FOUND, pdu.starting_handle)
        return ATT_FIND_BY_TYPE_VALUE_RSP(tuple(entries))

    def _read_by_type(self, bearer: AttBearer, pdu: ATT_READ_BY_TYPE_REQ, now: int) -> AttPdu:
        self._range(pdu.starting_handle, pdu.ending_handle)
        limit = min(bearer.mtu - 4, 253)
        entries: list[AttributeData] = []
        for attr in self.db.in_range(pdu.starting_handle, pdu.ending_handle):
            if attr.type != pdu.attribute_type:
                continue
            try:
                value = self._read_now(bearer.handle, attr, now)[:limit]
            except _Fail:
                if entries:
                    break
                raise
            if entries and len(value) != len(entries[0].value):
                break
            if 2 + (len(entries) + 1) * (2 + len(value)) > bearer.mtu:
                break
            entries.append(AttributeData(attr.handle, value))
        if not entries:
            raise _Fail(_E.ATTRIBUTE_NOT_FOUND, pdu.starting_handle)
        return ATT_READ_BY_TYPE_RSP(tuple(entries))

    def _read_single(self, bearer: AttBearer, pdu: AttPdu, handle: int, offset: int, now: int) -> AttPdu | None:
        attr = self._attr(handle)
        blob = isinstance(pdu, ATT_READ_BLOB_REQ)

        def answer(value: bytes) -> AttPdu:
            if offset > len(value):
                raise _Fail(_E.INVALID_OFFSET, handle)
            part = value[offset : offset + bearer.mtu - 1]
            return ATT_READ_BLOB_RSP(part) if blob else ATT_READ_RSP(part)

        value = self._read(bearer.handle, attr, offset, now)
        if not isinstance(value, Deferred):
            return answer(value)
        bearer.begin_deferred_response(pdu.opcode)

        def finish(outcome: bytes | None | AttError) -> None:
            try:
                if isinstance(outcome, AttError):
                    raise _Fail(outcome.code, handle)
                rsp = answer(attr.value if outcome is None else outcome).to_bytes()
            except _Fail as fail:
                rsp = ATT_ERROR_RSP(pdu.opcode, fail.handle, fail.code).to_bytes()
            bearer.complete_deferred_response(rsp)

        value.add_callback(finish)
        return None

    def _read_req(self, bearer: AttBearer, pdu: ATT_READ_REQ, now: int) -> AttPdu | None:
        return self._read_single(bearer, pdu, pdu.attribute_handle, 0, now)

    def _read_blob(self, bearer: AttBearer, pdu: ATT_READ_BLOB_REQ, now: int) -> AttPdu | None:
        return self._read_single(bearer, pdu, pdu.attribute_handle, pdu.value_offset, now)

    def _read_multiple(self, bearer: AttBearer, pdu: ATT_READ_MULTIPLE_REQ, now: int) -> AttPdu:
        values = [self._read_now(bearer.handle, self._attr(h), now) for h in pdu.set_of_handles]
        return ATT_READ_MULTIPLE_RSP(b"".join(values)[: bearer.mtu - 1])

    def _read_multiple_variable(
        self, bearer: AttBearer, pdu: ATT_READ_MULTIPLE_VARIABLE_REQ, now: int
    ) -> AttPdu:
        values = [self._read_now(bearer.handle, self._attr(h), now) for h in pdu.set_of_handles]
        room = bearer.mtu - 1
        entries: list[LengthValueTuple] = []
        for value in values:
            if room < 2:
                break
            part = value[: room - 2]
            entries.append(LengthValueTuple(len(value), part))
            room -= 2 + len(part)
            if len(part) < len(value):
                break
        return ATT_READ_MULTIPLE_VARIABLE_RSP(tuple(entries))

    def _read_by_group_type(self, bearer: AttBearer, pdu: ATT_READ_BY_GROUP_TYPE_REQ, now: int) -> AttPdu:
        self._range(pdu.starting_handle, pdu.ending_handle)
        if pdu.attribute_group_type not in (PRIMARY_SERVICE_UUID, SECONDARY_SERVICE_UUID):
            raise _Fail(_E.UNSUPPORTED_GROUP_TYPE, pdu.starting_handle)
        limit = min(bearer.mtu - 6, 251)
        entries: list[GroupAttributeData] = []
        for attr in self.db.in_range(pdu.starting_handle, pdu.ending_handle):
            if attr.type != pdu.attribute_group_type:
                continue
            value = attr.value[:limit]
            if entries and len(value) != len(entries[0].attribute_value):
                break
            if 2 + (len(entries) + 1) * (4 + len(value)) > bearer.mtu:
                break
            entries.append(GroupAttributeData(attr.handle, attr.group_end, value))
        if not entries:
            raise _Fail(_E.ATTRIBUTE_NOT_FOUND, pdu.starting_handle)
        return ATT_READ_BY_GROUP_TYPE_RSP(tuple(entries))

    def _write_req(self, bearer: AttBearer, pdu: ATT_WRITE_REQ, now: int) -> AttPdu | None:
        attr = self._attr(pdu.attribute_handle)
        self._check(bearer.handle, attr, write=True)
        deferred = self._write(bearer.handle, attr, pdu.attribute_value, AccessMethod.WRITE_REQUEST, now)
        if deferred is None:
            return ATT_WRITE_RSP()
        bearer.begin_deferred_response(pdu.opcode)

        def finish(outcome: bytes | None | AttError) -> None:
            if isinstance(outcome, AttError):
                rsp = ATT_ERROR_RSP(pdu.opcode, attr.handle, outcome.code).to_bytes()
            else:
                rsp = ATT_WRITE_RSP().to_bytes()
            bearer.complete_deferred_response(rsp)

        deferred.add_callback(finish)
        return None

    def _prepare_write(self, bearer: AttBearer, pdu: ATT_PREPARE_WRITE_REQ, now: int) -> AttPdu:
        attr = self._attr(pdu.attribute_handle)
        self._check(bearer.handle, attr, write=True)
        queue = self._conn(bearer.handle).prepare_queue
        if len(queue) >= self.max_prepare_writes:
            raise _Fail(_E.PREPARE_QUEUE_FULL, attr.handle)
        queue.append((attr.handle, pdu.value_offset, pdu.part_attribute_value))
        return ATT_PREPARE_WRITE_RSP(attr.handle, pdu.value_offset, pdu.part_attribute_value)

    def _execute_write(self, bearer: AttBearer, pdu: ATT_EXECUTE_WRITE_REQ, now: int) -> AttPdu:
        state = self._conn(bearer.handle)
        queue, state.prepare_queue = state.prepare_queue, []
        if pdu.flags == AttExecuteWriteFlags.CANCEL_ALL_PREPARED_WRITES:
            return ATT_EXECUTE_WRITE_RSP()
        new_values: dict[int, bytes] = {}
        for handle, offset, part in queue:
            attr = self._attr(handle)
            current = new_values.get(handle, attr.value)
            if offset > len(current):
                raise _Fail(_E.INVALID_OFFSET, handle)
            new_values[handle] = current[:offset] + part
        for handle, value in new_values.items():
            self._validate_write(self.db[handle], value)
        for handle, value in new_values.items():
            attr = self._attr(handle)
            if self._write(bearer.handle, attr, value, AccessMethod.EXECUTE_WRITE, now) is not None:
                raise _Fail(_E.UNLIKELY_ERROR, handle)
        return ATT_EXECUTE_WRITE_RSP()

    # -- commands -------------------------------------------------------------------------

    def handle_command(self, bearer: AttBearer, pdu: AttPdu, now: int) -> None:
        """Carry out a Write Command or Signed Write Command; errors are silent."""
        try:
            if isinstance(pdu, ATT_WRITE_CMD):
                attr = self._attr(pdu.attribute_handle)
                self._check(bearer.handle, attr, write=True)
                self._write(bearer.handle, attr, pdu.attribute_value, AccessMethod.WRITE_COMMAND, now)
            elif isinstance(pdu, ATT_SIGNED_WRITE_CMD):
                checker = self.signature_checker
                if checker is None or not checker(bearer.handle, pdu.signed_data, pdu.authentication_signature):
                    return
                attr = self._attr(pdu.attribute_handle)
                self._check(bearer.handle, attr, write=True, signed=True)
                self._write(
                    bearer.handle, attr, pdu.attribute_value, AccessMethod.SIGNED_WRITE_COMMAND, now
                )
        except _Fail:
            return


_Handler = Callable[[GattServer, AttBearer, "AttPdu", int], "AttPdu | bytes | None"]
_REQUEST_HANDLERS: Final[dict[type[AttPdu], _Handler]] = {
    ATT_FIND_INFORMATION_REQ: GattServer._find_information,  # type: ignore[dict-item]
    ATT_FIND_BY_TYPE_VALUE_REQ: GattServer._find_by_type_value,  # type: ignore[dict-item]
    ATT_READ_BY_TYPE_REQ: GattServer._read_by_type,  # type: ignore[dict-item]
    ATT_READ_REQ: GattServer._read_req,  # type: ignore[dict-item]
    ATT_READ_BLOB_REQ: GattServer._read_blob,  # type: ignore[dict-item]
    ATT_READ_MULTIPLE_REQ: GattServer._read_multiple,  # type: ignore[dict-item]
    ATT_READ_MULTIPLE_VARIABLE_REQ: GattServer._read_multiple_variable,  # type: ignore[dict-item]
    ATT_READ_BY_GROUP_TYPE_REQ: GattServer._read_by_group_type,  # type: ignore[dict-item]
    ATT_WRITE_REQ: GattServer._write_req,  # type: ignore[dict-item]
    ATT_PREPARE_WRITE_REQ: GattServer._prepare_write,  # type: ignore[dict-item]
    ATT_EXECUTE_WRITE_REQ: GattServer._execute_write,  # type: ignore[dict-item]
}
