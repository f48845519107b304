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

How requests are answered (access checks, ranged requests, deferred reads, queued and
signed writes) is told in :mod:`host.gatt_requests`, home of the base class
:class:`~host.gatt_requests.GattRequests`.

Reset. :meth:`GattServer.reset` rebuilds the table from handle 1 (the firmware APIs
that replace every service), with or without the GAP and GATT services added by
:meth:`GattServer.add_gap_service` / :meth:`GattServer.add_gatt_service` (re-added
first, in their order, with their current values). Every connection's CCCDs and prepare
queue are cleared (a bonded client's come back from its bond, below), except the
Service Changed CCCD, which stays with the kept GATT service (its handle must not change for bonded clients, Vol 3 Part G 7.1); every
connected client that has Service Changed indications enabled is then indicated the
whole range 0x0001-0xFFFF.

Bonded clients (Vol 3 Part G 3.3.3.3, 2.5.2, 7.1, 7.3). With a bond store
(:meth:`GattServer.use_bonds`, wired to a host by :func:`keep_bonded_clients`), a
connection becomes *bonded* once its link is encrypted with a bond's key or a pairing
with bonding completes (:meth:`GattServer.bonded_client`). From then on its CCCD values
are kept in the bond (:class:`~host.bonds.StoredCccd`), keyed by the characteristic's
position (service UUID and index, characteristic UUID and index: :meth:`AttributeDatabase.position_of`)
rather than its handle, with the Database Hash the client has seen. When a bonded client
comes back, its CCCDs are restored at today's handles (those whose characteristic is gone
are dropped from the bond) and, if the Database Hash differs from the stored one and
its Service Changed CCCD enables indications, it alone is indicated 0x0001-0xFFFF. A
bonded client connected across :meth:`reset` gets its CCCDs back as the services that
still hold its characteristics are added again. A client told by a Service Changed
indication counts as having seen every later change of that connection (it rediscovers).

Notifications/indications go to connections whose CCCD enables them. A CCCD write with
a bit the characteristic does not support answers VALUE_NOT_ALLOWED. CCCD state is per
connection; :meth:`GattServer.cccd_states` and :meth:`GattServer.load_cccd_states`
persist it per bonded peer (keyed by characteristic value handle), and
``on_subscription_changed`` reports every change.
"""

from __future__ import annotations

from typing import Callable, Final, Protocol

from host.att import NO_SECURITY, AttBearer, AttError, AttLocalError
from host.bonds import BondStore, StoredCccd
from host.events import EncryptionChanged, HostEvent, PairingComplete
from host.gatt_db import (
    CLIENT_SUPPORTED_FEATURES_UUID,
    DATABASE_HASH_UUID,
    SERVER_SUPPORTED_FEATURES_UUID,
    SERVICE_CHANGED_UUID,
    Attribute,
    AttributeDatabase,
    AttributeKind,
    Characteristic,
    CharacteristicPosition,
    Service,
    ServiceDef,
    ServiceInfo,
)
from host.gatt_requests import (
    GattRequests,
    SecurityProvider,
    SignatureChecker,
    _Connection,
)
from host.gatt_services import (
    CLIENT_FEATURE_MULTIPLE_HANDLE_VALUE_NOTIFICATIONS,
    GapServiceHandles,
    GattServiceHandles,
    PeripheralPreferredConnectionParameters,
    gap_service_def,
    gatt_service_def,
)
from host.hci import LocalError
from host.uuid import UUID
from linklayer.hci.address import Address

__all__ = ["BondedHost", "GattServer", "SecurityProvider", "SignatureChecker", "keep_bonded_clients"]

_DEFAULT_MAX_PREPARE_WRITES: Final = 128


class GattServer(GattRequests):
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
        #: Report end handle 0xFFFF for the last service in Read By Group Type, as NimBLE's
        #: server does (Find By Type Value keeps the real end). Off: the spec's usual answer.
        self.open_ended_last_group = False
        #: ``(connection, value_handle, cccd_value, now)`` after a CCCD write.
        self.on_subscription_changed = on_subscription_changed
        self._connections: dict[int, _Connection] = {}
        self.gatt_handles: GattServiceHandles | None = None
        self.gap_handles: GapServiceHandles | None = None
        # How the GAP / GATT services were built, to rebuild them in reset().
        self._gap_def: ServiceDef | None = None
        self._gatt_def: ServiceDef | None = None
        # Bonded clients: where their state is kept, who each bonded connection is, and
        # the Database Hash each has seen (None: told by Service Changed, sees it all).
        self._bond_store: Callable[[], BondStore | None] | None = None
        self._bonded: dict[int, Address] = {}
        self._seen_hash: dict[int, bytes | None] = {}

    # -- database -------------------------------------------------------------------------

    def add_service(self, definition: ServiceDef) -> Service:
        """Add a service (handles allocated after all existing ones). Connected bonded
        clients get back the CCCD values their bond keeps for its characteristics."""
        svc = self.db.add_service(definition)
        for connection in self._bonded:
            self._restore_cccds(connection, svc.start_handle, svc.end_handle)
        return svc

    def remove_service(self, service: Service) -> None:
        self.db.remove_service(service)

    def describe(self) -> list[ServiceInfo]:
        """The database as a client discovers it."""
        return self.db.describe()

    def reset(self, keep_gap_gatt: bool, now: int) -> list[int]:
        """Rebuild the attribute table from handle 1, for the firmware APIs that replace
        every service (QuecPython ``addOrClearService``, MicroPython
        ``gatts_register_services``); add the new services afterwards.

        With ``keep_gap_gatt`` the GAP and GATT services added by
        :meth:`add_gap_service` / :meth:`add_gatt_service` (if still present) come back
        first, in their order, with their current values (a changed Device Name stays).
        Each connection loses its CCCD values and prepared writes, except its Service
        Changed subscription while the GATT service is kept; the connected clients with
        Service Changed indications enabled are indicated 0x0001-0xFFFF (Vol 3 Part G
        7.1). ``on_subscription_changed`` is not called for the cleared CCCDs. A bonded
        client's CCCDs stay in its bond and come back as :meth:`add_service` adds their
        characteristics again. Returns the connections indicated.
        """
        kept: list[tuple[Service, ServiceDef, bool]] = []  # (old service, definition, is GAP)
        if keep_gap_gatt:
            for start, definition, is_gap in (
                (self.gap_handles.service_start if self.gap_handles else None, self._gap_def, True),
                (self.gatt_handles.service_start if self.gatt_handles else None, self._gatt_def, False),
            ):
                old = next((svc for svc in self.db.services if svc.start_handle == start), None)
                if old is not None and definition is not None:
                    kept.append((old, definition, is_gap))
            kept.sort(key=lambda k: k[0].start_handle)
        values = [
            [(a.handle - old.start_handle, a.value) for a in self.db.in_range(old.start_handle, old.end_handle)]
            for old, _, _ in kept
        ]
        old_sc_cccd = self.gatt_handles.service_changed_cccd if self.gatt_handles else None
        self.db.clear()
        self.gap_handles = self.gatt_handles = None
        for (_, definition, is_gap), old_values in zip(kept, values):
            svc = self.db.add_service(definition)
            for offset, value in old_values:
                self.db[svc.start_handle + offset].value = value
            if is_gap:
                self._set_gap_handles(svc)
            else:
                self._set_gatt_handles(svc)
        new_sc_cccd = self.gatt_handles.service_changed_cccd if self.gatt_handles else None
        for conn in self._connections.values():
            subscribed = conn.cccd.get(old_sc_cccd, 0) if old_sc_cccd is not None else 0
            conn.cccd = {}
            conn.prepare_queue = []
            if subscribed and new_sc_cccd is not None:
                conn.cccd[new_sc_cccd] = subscribed
        if new_sc_cccd is None:
            return []
        return self.service_changed(0x0001, 0xFFFF, now)

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
        definition = gap_service_def(device_name, appearance, ppcp, device_name_writable=device_name_writable)
        svc = self.add_service(definition)
        self._gap_def = definition
        return self._set_gap_handles(svc)

    def _set_gap_handles(self, svc: Service) -> GapServiceHandles:
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
        definition = gatt_service_def(
            service_changed=service_changed,
            client_supported_features=client_supported_features,
            database_hash=database_hash,
            server_supported_features=server_supported_features,
        )
        svc = self.add_service(definition)
        self._gatt_def = definition
        return self._set_gatt_handles(svc)

    def _set_gatt_handles(self, svc: Service) -> GattServiceHandles:
        def find(uuid: UUID) -> Characteristic | None:
            return next((c for c in svc.characteristics if c.uuid == uuid), None)

        sc = find(SERVICE_CHANGED_UUID)
        csf = find(CLIENT_SUPPORTED_FEATURES_UUID)
        dbh = find(DATABASE_HASH_UUID)
        ssf = find(SERVER_SUPPORTED_FEATURES_UUID)
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
        """Called by :meth:`AttBearer.close`; forgets the connection's state (a bonded
        client's is saved in its bond first)."""
        conn = self._connections.get(bearer.handle)
        if conn is not None and conn.bearer is bearer:
            if bearer.handle in self._bonded:
                self._save_bonded(bearer.handle, keep_absent=True)
                del self._bonded[bearer.handle]
                self._seen_hash.pop(bearer.handle, None)
            del self._connections[bearer.handle]

    @property
    def connections(self) -> tuple[int, ...]:
        return tuple(self._connections)

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

    # -- bonded clients (Vol 3 Part G 3.3.3.3, 2.5.2, 7.1) --------------------------------

    def use_bonds(self, bonds: Callable[[], BondStore | None]) -> None:
        """Keep bonded clients' CCCDs and Database Hash in the store ``bonds()`` gives
        (looked up at each use, so the owner may replace its store)."""
        self._bond_store = bonds

    @property
    def uses_bonds(self) -> bool:
        return self._bond_store is not None

    def bonded_identity(self, connection: int) -> Address | None:
        """The bonded identity a connection was recognised as, or None."""
        return self._bonded.get(connection)

    def bonded_client(self, connection: int, identity: Address, now: int, *, new_bond: bool = False) -> list[int]:
        """The link of ``connection`` is encrypted with the key of the bond with
        ``identity`` (``new_bond``: a pairing with bonding just made it). A new bond
        keeps the connection's CCCDs and the current Database Hash. A known bond gets
        its stored CCCD values back at today's handles (CCCDs written on this connection
        before encryption win; characteristics no longer present are dropped from the
        bond) and, when the database changed since the client last saw it (stored
        Database Hash, Vol 3 Part G 7.3) and its Service Changed CCCD enables
        indications, is indicated Service Changed 0x0001-0xFFFF (7.1). Returns the
        connections indicated. Nothing happens without a bond store, a bond for
        ``identity`` or an ATT bearer, nor when the connection is already this bond's
        (a key refresh)."""
        store = self._bond_store() if self._bond_store is not None else None
        bond = store.get(identity) if store is not None else None
        if bond is None or connection not in self._connections:
            return []
        if new_bond:
            self._bonded[connection] = identity
            self._seen_hash[connection] = self.db.database_hash()
            self._save_bonded(connection, keep_absent=False)
            return []
        if self._bonded.get(connection) == identity:
            return []
        self._bonded[connection] = identity
        self._restore_cccds(connection, 0x0001, 0xFFFF, override=False)
        current = self.db.database_hash()
        sent: list[int] = []
        handles = self.gatt_handles
        if (
            bond.gatt_database_hash is not None
            and bond.gatt_database_hash != current
            and handles is not None
            and handles.service_changed is not None
        ):
            sent = self.service_changed(0x0001, 0xFFFF, now, connection=connection)
        if not sent:
            self._seen_hash[connection] = current
        self._save_bonded(connection, keep_absent=False)
        return sent

    def _stored_cccds(self, connection: int) -> tuple[StoredCccd, ...]:
        store = self._bond_store() if self._bond_store is not None else None
        identity = self._bonded.get(connection)
        bond = store.get(identity) if store is not None and identity is not None else None
        return bond.gatt_cccds if bond is not None else ()

    def _restore_cccds(self, connection: int, start: int, end: int, *, override: bool = False) -> None:
        """Load the bond's CCCD values for the characteristics now in ``start..end``
        (values the connection already wrote stay unless ``override``)."""
        conn = self._connections.get(connection)
        if conn is None:
            return
        for stored in self._stored_cccds(connection):
            position = CharacteristicPosition(
                stored.service, stored.service_index, stored.characteristic, stored.characteristic_index
            )
            value_handle = self.db.value_handle_at(position)
            cccd = self.db.cccd_of(value_handle) if value_handle is not None else None
            if cccd is None or not start <= cccd.handle <= end:
                continue
            if override or cccd.handle not in conn.cccd:
                conn.cccd[cccd.handle] = stored.value & cccd.cccd_allowed

    def _save_bonded(self, connection: int, *, keep_absent: bool) -> None:
        """Write a bonded connection's CCCDs and seen Database Hash into its bond;
        ``keep_absent`` keeps stored values of characteristics not in the database now
        (a reset in progress may add them back)."""
        store = self._bond_store() if self._bond_store is not None else None
        identity = self._bonded.get(connection)
        conn = self._connections.get(connection)
        if store is None or identity is None or conn is None or store.get(identity) is None:
            return
        live: dict[CharacteristicPosition, int] = {}
        for handle in sorted(conn.cccd):
            attr = self.db.get(handle)
            if attr is None or attr.kind is not AttributeKind.CCCD:
                continue
            position = self.db.position_of(attr.characteristic_value_handle)
            if position is not None:
                live[position] = conn.cccd[handle]
        out: list[StoredCccd] = []
        if keep_absent:
            for stored in self._stored_cccds(connection):
                position = CharacteristicPosition(
                    stored.service, stored.service_index, stored.characteristic, stored.characteristic_index
                )
                if position not in live and self.db.value_handle_at(position) is None:
                    out.append(stored)
        out.extend(
            StoredCccd(p.service_uuid, p.service_index, p.characteristic_uuid, p.characteristic_index, v)
            for p, v in live.items()
            if v
        )
        seen = self._seen_hash.get(connection)
        store.set_gatt_state(identity, tuple(out), self.db.database_hash() if seen is None else seen)

    def _store(self, conn: int, attr: Attribute, value: bytes, now: int) -> None:
        super()._store(conn, attr, value, now)
        if attr.kind is AttributeKind.CCCD and conn in self._bonded:
            self._save_bonded(conn, keep_absent=True)

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

    def service_changed(self, start: int, end: int, now: int, *, connection: int | None = None) -> list[int]:
        """Indicate Service Changed (Vol 3 Part G 7.1) for the handle range to every
        subscribed client, or just ``connection``. Bonded clients indicated count as
        having seen the database from now on (their bond's Database Hash follows it)."""
        if self.gatt_handles is None or self.gatt_handles.service_changed is None:
            raise AttLocalError("the GATT service has no Service Changed characteristic")
        value = start.to_bytes(2, "little") + end.to_bytes(2, "little")
        sent = self.indicate(self.gatt_handles.service_changed, now, value, connection=connection)
        for handle in sent:
            if handle in self._bonded:
                self._seen_hash[handle] = None
        return sent


# ---------------------------------------------------------------------------------------
# Wiring to a host
# ---------------------------------------------------------------------------------------


class _LinkSecurityLike(Protocol):
    @property
    def encrypted(self) -> bool: ...

    @property
    def bonded(self) -> bool: ...


class _SmpLike(Protocol):
    @property
    def peer_address(self) -> Address: ...

    @property
    def security(self) -> _LinkSecurityLike: ...


class BondedHost(Protocol):
    """What :func:`keep_bonded_clients` uses of a :class:`host.host.Host`."""

    @property
    def bonds(self) -> BondStore | None: ...

    @property
    def gatt_server(self) -> GattServer: ...

    @property
    def listeners(self) -> list[Callable[[HostEvent], None]]: ...

    @property
    def now(self) -> int: ...

    def smp(self, handle: int) -> _SmpLike: ...


def keep_bonded_clients(host: BondedHost) -> None:
    """Make ``host``'s GATT server keep bonded clients' state in ``host.bonds``
    (:meth:`GattServer.use_bonds`) and tell it when a link is encrypted with a bond's
    key (:class:`~host.events.EncryptionChanged` on a bonded SMP session) or a pairing
    with bonding completes (:class:`~host.events.PairingComplete`). Idempotent."""
    server = host.gatt_server
    if server.uses_bonds:
        return
    server.use_bonds(lambda: host.bonds)

    def on_event(event: HostEvent) -> None:
        if isinstance(event, PairingComplete):
            if not event.success:
                return
            new_bond = getattr(event.result, "bond", None) is not None
        elif isinstance(event, EncryptionChanged):
            if event.status != 0 or not event.enabled:
                return
            new_bond = False
        else:
            return
        bonds = host.bonds
        try:
            session = host.smp(event.handle)
        except LocalError:
            return
        if bonds is None or not (session.security.encrypted and session.security.bonded):
            return
        bond = bonds.find(session.peer_address)
        if bond is not None:
            server.bonded_client(event.handle, bond.peer_address, host.now, new_bond=new_bond)

    host.listeners.append(on_event)
