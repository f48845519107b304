"""How the GATT server answers ATT requests and commands: access checks, reads, writes.

Theory of operation
-------------------
:class:`GattRequests` is the request-answering half of
:class:`~host.gatt_server.GattServer` (which derives from it and owns the database,
the connections and the notifications). :meth:`GattRequests.handle_request` answers one
decoded request with the response bytes, or ``None`` when the answer is deferred;
:meth:`GattRequests.handle_command` carries out a command (never answered).

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
included; attributes with a read hook are skipped). Values are cut to ATT_MTU-1 (Read,
Read Blob, Read Multiple), min(ATT_MTU-4, 253) per Read By Type entry and
min(ATT_MTU-6, 251) per Read By Group Type entry.

Deferred reads. A read hook may return a :class:`~host.gatt_db.Deferred` in Read, Read
Blob, Read By Type, Read Multiple and Read Multiple Variable. The server then tells the
bearer the answer is deferred and answers as soon as it is decided, whatever order the
values complete in: every value up to the deciding one must be known, because the
answer is the same as if they had all been read at once. Read Multiple (Variable) asks
every named handle in request order and stops at the first that fails at once; the
answer is the first error in request order (Vol 3 Part F 3.4.4.7, 3.4.4.11), else the
values. Read By Type asks the matching attributes in handle order until the list is
certain to end (a failure, a second length, or as many entries as ATT_MTU can hold);
its answer is the entries before the first failure or change of length, or the first
attribute's error when it fails (3.4.4.1-2).

Queued writes (Vol 3 Part F 3.4.6): ATT_PREPARE_WRITE_REQ checks handle and permissions
and queues (PREPARE_QUEUE_FULL past ``max_prepare_writes``); ATT_EXECUTE_WRITE_REQ
builds each new value as ``value[:offset] + part`` in queue order, validates every
offset (INVALID_OFFSET) and length (INVALID_ATTRIBUTE_VALUE_LENGTH) before writing
anything, then writes in handle order of first appearance; a hook denying a write at
that point answers its error (earlier writes stay done).

Signed Write Command: with a ``signature_checker(connection, signed_data, signature)``
returning True the write proceeds with the encryption requirements waived (data
signing, Vol 3 Part C 10.2.2); without a checker or with a bad signature it is ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Callable, Final, Sequence

from host.att import AttBearer, AttError, AttLocalError, SecurityInfo
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
    PRIMARY_SERVICE_UUID,
    SECONDARY_SERVICE_UUID,
    AccessMethod,
    Attribute,
    AttributeAccess,
    AttributeDatabase,
    AttributeKind,
    Deferred,
    Permissions,
)
from host.uuid import UUID

__all__ = ["GattRequests", "SecurityProvider", "SignatureChecker"]

SecurityProvider = Callable[[int], SecurityInfo]
SignatureChecker = Callable[[int, bytes, bytes], bool]

_E = AttErrorCode
_STATIC: Final = AttributeKind.STATIC
_CCCD: Final = AttributeKind.CCCD
_CSF: Final = AttributeKind.CLIENT_SUPPORTED_FEATURES
_DB_HASH: Final = AttributeKind.DATABASE_HASH
_P = Permissions
#: (access, encryption needed, authentication needed, authorization) as plain ints per
#: direction: IntFlag arithmetic would allocate enum members on every access.
_READ_BITS: Final = (int(_P.READ), int(_P.READ_ENCRYPTED | _P.READ_AUTHENTICATED),
                     int(_P.READ_AUTHENTICATED), int(_P.READ_AUTHORIZED))
_WRITE_BITS: Final = (int(_P.WRITE), int(_P.WRITE_ENCRYPTED | _P.WRITE_AUTHENTICATED),
                      int(_P.WRITE_AUTHENTICATED), int(_P.WRITE_AUTHORIZED))
_READ_RSP_OPCODE: Final = bytes((ATT_READ_RSP.opcode,))
_READ_BLOB_RSP_OPCODE: Final = bytes((ATT_READ_BLOB_RSP.opcode,))


@dataclass
class _Connection:
    """Per-connection server state."""

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


#: One value of a multi-attribute read: known, failed, or still to come.
_Outcome = bytes | _Fail | Deferred
#: Builds the answer from the outcomes in order; ``None`` while it is not decided yet.
_Assemble = Callable[[list[_Outcome]], "AttPdu | bytes | None"]


def _resolve(attr: Attribute | None, result: bytes | None | AttError) -> bytes | _Fail:
    """A completed Deferred's outcome: the value (``None``: the stored one) or the error."""
    assert attr is not None  # only read attributes have Deferreds
    if isinstance(result, AttError):
        return _Fail(result.code, attr.handle)
    return attr.value if result is None else result


class GattRequests:
    """Answers ATT requests and carries out commands against ``db`` (see the module
    docstring); :class:`~host.gatt_server.GattServer` provides the state below."""

    db: AttributeDatabase
    security: SecurityProvider
    signature_checker: SignatureChecker | None
    max_prepare_writes: int
    on_subscription_changed: Callable[[int, int, int, int], None] | None
    _connections: dict[int, _Connection]
    open_ended_last_group: bool

    def _conn(self, connection: int) -> _Connection:
        try:
            return self._connections[connection]
        except KeyError:
            raise AttLocalError(f"no ATT bearer for connection 0x{connection:04X}") from None

    # -- access checks --------------------------------------------------------------------

    def _attr(self, handle: int) -> Attribute:
        attr = self.db.get(handle) if handle else None
        if attr is None:
            raise _Fail(_E.INVALID_HANDLE, handle)
        return attr

    def _check(self, conn: int, attr: Attribute, write: bool, signed: bool = False) -> None:
        perms = int(attr.permissions)
        allowed, enc, auth, authz = _WRITE_BITS if write else _READ_BITS
        if not perms & allowed:
            raise _Fail(_E.WRITE_NOT_PERMITTED if write else _E.READ_NOT_PERMITTED, attr.handle)
        need_enc = perms & enc or attr.min_key_size > 0
        if not need_enc and not perms & authz:
            return  # nothing to ask the security provider
        sec = self.security(conn)
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
        kind = attr.kind
        if kind is not _STATIC:
            if kind is _CCCD:
                return self._conn(conn).cccd.get(attr.handle, 0).to_bytes(2, "little")
            if kind is _CSF:
                return bytes((self._conn(conn).client_features & 0xFF,))
            if kind is _DB_HASH:
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
        kind = attr.kind
        if kind is _CCCD and value[0] & ~attr.cccd_allowed | value[1]:
            raise _Fail(_E.VALUE_NOT_ALLOWED, attr.handle)
        if kind is _CSF and not value:
            raise _Fail(_E.INVALID_ATTRIBUTE_VALUE_LENGTH, attr.handle)

    def _write(
        self, conn: int, attr: Attribute, value: bytes, method: AccessMethod, now: int
    ) -> Deferred | None:
        """Length checks, hook, store. Permissions are checked by the caller."""
        self._validate_write(attr, value)
        if attr.kind is _CSF:
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
        if attr.kind is _CCCD:
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

    # -- multi-attribute reads (values may be deferred) ------------------------------------

    def _outcome(self, conn: int, attr: Attribute, now: int) -> _Outcome:
        """Check and read one attribute of a multi-attribute read, without raising."""
        try:
            value = self._read(conn, attr, 0, now)
        except _Fail as fail:
            return fail
        if isinstance(value, Deferred) and value.done:
            return _resolve(attr, value.result)
        return value

    def _gather(
        self, bearer: AttBearer, opcode: int, attrs: Sequence[Attribute | None], outcomes: list[_Outcome],
        assemble: _Assemble,
    ) -> AttPdu | bytes | None:
        """The answer now if ``assemble`` can decide it, else a deferred answer sent once
        the Deferreds it needs have completed (in any order)."""
        # A hook may have completed an earlier attribute's Deferred.
        for i, outcome in enumerate(outcomes):
            if isinstance(outcome, Deferred) and outcome.done:
                outcomes[i] = _resolve(attrs[i], outcome.result)
        answer = assemble(outcomes)
        if answer is not None:
            return answer
        bearer.begin_deferred_response(opcode)
        answered = False

        def completed(i: int, result: bytes | None | AttError) -> None:
            nonlocal answered
            outcomes[i] = _resolve(attrs[i], result)
            if answered:
                return
            try:
                rsp = assemble(outcomes)
            except _Fail as fail:
                rsp = ATT_ERROR_RSP(opcode, fail.handle, fail.code)
            if rsp is not None:
                answered = True
                bearer.complete_deferred_response(rsp if isinstance(rsp, bytes) else rsp.to_bytes())

        for i, outcome in enumerate(outcomes):
            if isinstance(outcome, Deferred):
                outcome.add_callback(partial(completed, i))
        return None

    def _read_by_type(self, bearer: AttBearer, pdu: ATT_READ_BY_TYPE_REQ, now: int) -> AttPdu | bytes | None:
        self._range(pdu.starting_handle, pdu.ending_handle)
        mtu = bearer.mtu
        limit = min(mtu - 4, 253)
        attrs: list[Attribute] = []
        outcomes: list[_Outcome] = []
        known = -1  # the (cut) length of the first value known at once
        for attr in self.db.in_range(pdu.starting_handle, pdu.ending_handle):
            if attr.type != pdu.attribute_type:
                continue
            outcome = self._outcome(bearer.handle, attr, now)
            attrs.append(attr)
            outcomes.append(outcome)
            if isinstance(outcome, _Fail):
                break  # the list ends here whatever the values before it
            if isinstance(outcome, bytes):
                length = min(len(outcome), limit)
                if known < 0:
                    known = length
                elif length != known:
                    break  # the list ends here at the latest
            if len(outcomes) >= (mtu - 2) // (2 + max(known, 0)):
                break  # no further entry can fit
        if not outcomes:
            raise _Fail(_E.ATTRIBUTE_NOT_FOUND, pdu.starting_handle)

        def assemble(values: list[_Outcome]) -> AttPdu | None:
            room = bearer.mtu
            cut = min(room - 4, 253)
            entries: list[AttributeData] = []
            for attr, value in zip(attrs, values):
                if isinstance(value, Deferred):
                    return None
                if isinstance(value, _Fail):
                    if entries:
                        break
                    raise value
                value = value[:cut]
                if entries and len(value) != len(entries[0].value):
                    break
                if 2 + (len(entries) + 1) * (2 + len(value)) > room:
                    break
                entries.append(AttributeData(attr.handle, value))
            return ATT_READ_BY_TYPE_RSP(tuple(entries))

        return self._gather(bearer, pdu.opcode, attrs, outcomes, assemble)

    def _read_each(
        self, bearer: AttBearer, handles: tuple[int, ...], now: int
    ) -> tuple[list[Attribute | None], list[_Outcome]]:
        """Read the named handles in order, up to the first that fails at once."""
        attrs: list[Attribute | None] = []
        outcomes: list[_Outcome] = []
        for handle in handles:
            attr = self.db.get(handle) if handle else None
            outcome = _Fail(_E.INVALID_HANDLE, handle) if attr is None else self._outcome(bearer.handle, attr, now)
            attrs.append(attr)
            outcomes.append(outcome)
            if isinstance(outcome, _Fail):
                break
        return attrs, outcomes

    @staticmethod
    def _all_values(outcomes: list[_Outcome]) -> list[bytes] | None:
        """Every value in order; raises the first failure; ``None`` if one is to come."""
        values = []
        for outcome in outcomes:
            if isinstance(outcome, Deferred):
                return None
            if isinstance(outcome, _Fail):
                raise outcome
            values.append(outcome)
        return values

    def _read_single(self, bearer: AttBearer, pdu: AttPdu, handle: int, offset: int, now: int) -> bytes | None:
        attr = self._attr(handle)
        blob = isinstance(pdu, ATT_READ_BLOB_REQ)

        def answer(value: bytes) -> bytes:
            # Built directly (the hottest response): ATT_READ_RSP / ATT_READ_BLOB_RSP.
            if offset > len(value):
                raise _Fail(_E.INVALID_OFFSET, handle)
            part = value[offset : offset + bearer.mtu - 1]
            return (_READ_BLOB_RSP_OPCODE if blob else _READ_RSP_OPCODE) + part

        value = self._read(bearer.handle, attr, offset, now)
        if not isinstance(value, Deferred):
            return answer(value)
        bearer.begin_deferred_response(pdu.opcode)

        def finish(outcome: bytes | None | AttError) -> None:
            try:
                if isinstance(outcome, AttError):
                    raise _Fail(outcome.code, handle)
                rsp = answer(attr.value if outcome is None else outcome)
            except _Fail as fail:
                rsp = ATT_ERROR_RSP(pdu.opcode, fail.handle, fail.code).to_bytes()
            bearer.complete_deferred_response(rsp)

        value.add_callback(finish)
        return None

    def _read_req(self, bearer: AttBearer, pdu: ATT_READ_REQ, now: int) -> bytes | None:
        return self._read_single(bearer, pdu, pdu.attribute_handle, 0, now)

    def _read_blob(self, bearer: AttBearer, pdu: ATT_READ_BLOB_REQ, now: int) -> bytes | None:
        return self._read_single(bearer, pdu, pdu.attribute_handle, pdu.value_offset, now)

    def _read_multiple(self, bearer: AttBearer, pdu: ATT_READ_MULTIPLE_REQ, now: int) -> AttPdu | bytes | None:
        def assemble(outcomes: list[_Outcome]) -> AttPdu | None:
            values = self._all_values(outcomes)
            return None if values is None else ATT_READ_MULTIPLE_RSP(b"".join(values)[: bearer.mtu - 1])

        attrs, outcomes = self._read_each(bearer, pdu.set_of_handles, now)
        return self._gather(bearer, pdu.opcode, attrs, outcomes, assemble)

    def _read_multiple_variable(
        self, bearer: AttBearer, pdu: ATT_READ_MULTIPLE_VARIABLE_REQ, now: int
    ) -> AttPdu | bytes | None:
        def assemble(outcomes: list[_Outcome]) -> AttPdu | None:
            values = self._all_values(outcomes)
            if values is None:
                return None
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

        attrs, outcomes = self._read_each(bearer, pdu.set_of_handles, now)
        return self._gather(bearer, pdu.opcode, attrs, outcomes, assemble)

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
            end = attr.group_end
            if self.open_ended_last_group and end == self._last_group_end():
                end = 0xFFFF
            entries.append(GroupAttributeData(attr.handle, end, value))
        if not entries:
            raise _Fail(_E.ATTRIBUTE_NOT_FOUND, pdu.starting_handle)
        return ATT_READ_BY_GROUP_TYPE_RSP(tuple(entries))

    def _last_group_end(self) -> int:
        services = self.db.services
        return services[-1].end_handle if services else 0

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


_Handler = Callable[[GattRequests, AttBearer, "AttPdu", int], "AttPdu | bytes | None"]
_REQUEST_HANDLERS: Final[dict[type[AttPdu], _Handler]] = {
    ATT_FIND_INFORMATION_REQ: GattRequests._find_information,  # type: ignore[dict-item]
    ATT_FIND_BY_TYPE_VALUE_REQ: GattRequests._find_by_type_value,  # type: ignore[dict-item]
    ATT_READ_BY_TYPE_REQ: GattRequests._read_by_type,  # type: ignore[dict-item]
    ATT_READ_REQ: GattRequests._read_req,  # type: ignore[dict-item]
    ATT_READ_BLOB_REQ: GattRequests._read_blob,  # type: ignore[dict-item]
    ATT_READ_MULTIPLE_REQ: GattRequests._read_multiple,  # type: ignore[dict-item]
    ATT_READ_MULTIPLE_VARIABLE_REQ: GattRequests._read_multiple_variable,  # type: ignore[dict-item]
    ATT_READ_BY_GROUP_TYPE_REQ: GattRequests._read_by_group_type,  # type: ignore[dict-item]
    ATT_WRITE_REQ: GattRequests._write_req,  # type: ignore[dict-item]
    ATT_PREPARE_WRITE_REQ: GattRequests._prepare_write,  # type: ignore[dict-item]
    ATT_EXECUTE_WRITE_REQ: GattRequests._execute_write,  # type: ignore[dict-item]
}
