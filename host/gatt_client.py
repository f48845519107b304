"""The GATT client: discovery, reads, writes and subscriptions over one ATT bearer.

Theory of operation
-------------------
Every GATT procedure of Core Specification Vol 3 Part G 4 is a method of
:class:`GattClient` that returns a :class:`GattOperation` at once and completes it later
through ``on_done(result | AttError)``. The client runs one operation at a time, in call
order (so the server's prepare queue is never shared by two long writes); the operation
ends when its last response arrives, on the first error, or when the bearer times out or
closes (:class:`~host.att.AttTimeoutError`, :class:`~host.att.AttBearerClosedError`).
Write Without Response and Signed Write go out at once and complete immediately.

Each procedure is a generator that yields ATT requests and receives each response (a
decoded PDU, or an :class:`~host.att.AttError` from ATT_ERROR_RSP); composite procedures
(:meth:`GattClient.discover_all`) reuse the simple ones with ``yield from``. A response
the client cannot make sense of (a UUID of the wrong size, a handle going backwards)
fails the operation with ``AttError(INVALID_PDU)``; nothing raises out of
:meth:`~host.att.AttBearer.receive`. Caller mistakes (a value too long for one PDU, a
characteristic without CCCD) raise :class:`~host.att.AttLocalError` from the call.

Observers. Discovery and read procedures take an optional ``on_response`` observer,
called with every ATT response the procedure receives (the decoded PDU, or the
:class:`~host.att.AttError` of an ATT_ERROR_RSP or of a malformed response) before the
procedure handles it, so an API that reports each response as an event (QuecPython's
event per response) reuses the procedure. The end of ATT (timeout, close) is no
response: it reaches ``on_done`` only.

Results as they arrive. The discovery procedures also take ``on_results``, called with
each batch of results at the instant the response carrying them is handled (so an API
that raises one event per result, MicroPython's ``_IRQ_GATTC_*_RESULT``, raises it when
its ATT response arrives), always before ``on_done``; the batches together are the
final result, in handle order. A characteristic's end handle is the next declaration's
handle minus one, so a characteristic is reported with the response that carries the
next declaration, or when the procedure ends (the end of the range) -- as NimBLE's
MicroPython binding does. Results reported before an error stay reported; the pending
characteristic is reported before the error reaches ``on_done``.

Notifications and indications from the server go to per-value-handle subscribers
(:meth:`GattClient.subscribe`) and to ``on_notification`` / ``on_indication``;
indications are confirmed by the bearer automatically.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Callable, Generator, Generic, TypeVar

from host.att import (
    ATT_MAX_MTU,
    AttBearer,
    AttBearerClosedError,
    AttError,
    AttLocalError,
    AttTimeoutError,
)
from host.att_pdu import (
    ATT_DEFAULT_LE_MTU,
    ATT_EXCHANGE_MTU_REQ,
    ATT_EXECUTE_WRITE_REQ,
    ATT_EXECUTE_WRITE_RSP,
    ATT_FIND_BY_TYPE_VALUE_REQ,
    ATT_FIND_BY_TYPE_VALUE_RSP,
    ATT_FIND_INFORMATION_REQ,
    ATT_FIND_INFORMATION_RSP,
    ATT_MAX_ATTRIBUTE_VALUE_LENGTH,
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
    ATT_SIGNATURE_LENGTH,
    ATT_SIGNED_WRITE_CMD,
    ATT_WRITE_CMD,
    ATT_WRITE_REQ,
    ATT_WRITE_RSP,
    AttErrorCode,
    AttExecuteWriteFlags,
    AttPdu,
)
from host.gatt_db import (
    CCCD_UUID,
    CHARACTERISTIC_UUID,
    INCLUDE_UUID,
    PRIMARY_SERVICE_UUID,
    SECONDARY_SERVICE_UUID,
    CharacteristicInfo,
    DescriptorInfo,
    IncludeInfo,
    ServiceInfo,
    att_uuid_bytes,
)
from host.uuid import UUID

__all__ = ["GattClient", "GattOperation", "GattVerifyError", "ResponseObserver", "ResultsObserver"]

T = TypeVar("T")
_PDU = TypeVar("_PDU", bound=AttPdu)
Procedure = Generator[AttPdu, "AttPdu | AttError", T]
#: Sees every ATT response of one procedure before the procedure does.
ResponseObserver = Callable[["AttPdu | AttError"], None]
#: Gets each batch of a discovery's results as the response carrying them arrives.
ResultsObserver = Callable[[list[T]], None]
_E = AttErrorCode


class GattVerifyError(AttError):
    """A reliable write's echoed value differed from the one sent (Vol 3 Part G
    4.9.5); the prepared writes were cancelled."""

    def __init__(self, handle: int) -> None:
        super().__init__(0, handle, None, f"reliable write: echo mismatch on handle 0x{handle:04X}")


class GattOperation(Generic[T]):
    """One client operation: ``done``, then ``result`` or ``error``; ``on_done`` gets
    the result or the :class:`AttError`."""

    def __init__(self, name: str, on_done: Callable[[T | AttError], None] | None) -> None:
        self.name = name
        self.on_done = on_done
        self.done = False
        self.result: T | None = None
        self.error: AttError | None = None

    def _complete(self, outcome: T | AttError) -> None:
        self.done = True
        if isinstance(outcome, AttError):
            self.error = outcome
        else:
            self.result = outcome
        if self.on_done is not None:
            self.on_done(outcome)

    def __repr__(self) -> str:
        state = "pending" if not self.done else ("error" if self.error else "done")
        return f"<GattOperation {self.name} {state}>"


@dataclass
class _Running:
    op: GattOperation[object]
    gen: Procedure[object]
    observer: ResponseObserver | None = None


def _expect(rsp: AttPdu | AttError, cls: type[_PDU]) -> _PDU:
    if isinstance(rsp, AttError):
        raise rsp
    if not isinstance(rsp, cls):  # pragma: no cover - the bearer matches opcodes
        raise AttError(_E.INVALID_PDU, 0, None, f"expected {cls.__name__}")
    return rsp


def _not_found(rsp: AttPdu | AttError) -> bool:
    return isinstance(rsp, AttError) and rsp.code == _E.ATTRIBUTE_NOT_FOUND


def _bad(reason: str) -> AttError:
    return AttError(_E.INVALID_PDU, 0, None, f"malformed response: {reason}")


def _report(report: ResultsObserver[T] | None, batch: list[T]) -> None:
    if report is not None and batch:
        report(list(batch))


def _uuid(data: bytes) -> UUID:
    if len(data) not in (2, 16):
        raise _bad(f"a {len(data)}-octet UUID")
    return UUID.from_bytes(data)


class GattClient:
    """GATT client procedures (Vol 3 Part G 4) over ``bearer``: see the module docstring."""

    def __init__(
        self,
        bearer: AttBearer,
        *,
        on_notification: Callable[[int, bytes, int], None] | None = None,
        on_indication: Callable[[int, bytes, int], None] | None = None,
    ) -> None:
        self.bearer = bearer
        #: ``(value_handle, value, now)`` for every notification.
        self.on_notification = on_notification
        #: ``(value_handle, value, now)`` for every indication (confirmed afterwards).
        self.on_indication = on_indication
        self._subscribers: dict[int, Callable[[bytes, int], None]] = {}
        self._queue: deque[_Running] = deque()
        self._current: _Running | None = None
        self._mtu_requested = False
        bearer.on_notification = self._notified
        bearer.on_indication = self._indicated

    # -- the operation engine -------------------------------------------------------------

    def _start(
        self,
        name: str,
        gen: Procedure[T],
        now: int,
        on_done: Callable[[T | AttError], None] | None,
        on_response: ResponseObserver | None = None,
    ) -> GattOperation[T]:
        op: GattOperation[T] = GattOperation(name, on_done)
        self._queue.append(_Running(op, gen, on_response))  # type: ignore[arg-type]
        self._run_next(now)
        return op

    def _run_next(self, now: int) -> None:
        if self._current is not None or not self._queue:
            return
        self._current = self._queue.popleft()
        self._step(self._current, None, now)

    def _step(self, running: _Running, rsp: AttPdu | AttError | None, now: int) -> None:
        if (
            rsp is not None
            and running.observer is not None
            and not isinstance(rsp, (AttTimeoutError, AttBearerClosedError))
        ):
            running.observer(rsp)
        try:
            pdu = next(running.gen) if rsp is None else running.gen.send(rsp)
        except StopIteration as stop:
            self._finish(running, stop.value, now)
            return
        except AttError as err:
            self._finish(running, err, now)
            return
        except ValueError as exc:  # undecodable content in a response
            self._finish(running, _bad(str(exc)), now)
            return
        try:
            self.bearer.request(pdu, now, lambda r, t: self._step(running, r, t))
        except AttLocalError as exc:
            running.gen.close()
            self._finish(running, AttError(_E.UNLIKELY_ERROR, 0, pdu.opcode, str(exc)), now)

    def _finish(self, running: _Running, outcome: object, now: int) -> None:
        if self._current is running:
            self._current = None
        running.op._complete(outcome)
        self._run_next(now)

    @property
    def busy(self) -> bool:
        """True while an operation runs or waits."""
        return self._current is not None or bool(self._queue)

    # -- notifications --------------------------------------------------------------------

    def _notified(self, handle: int, value: bytes, now: int) -> None:
        sub = self._subscribers.get(handle)
        if sub is not None:
            sub(value, now)
        if self.on_notification is not None:
            self.on_notification(handle, value, now)

    def _indicated(self, handle: int, value: bytes, now: int) -> None:
        sub = self._subscribers.get(handle)
        if sub is not None:
            sub(value, now)
        if self.on_indication is not None:
            self.on_indication(handle, value, now)

    # -- MTU ------------------------------------------------------------------------------

    def exchange_mtu(
        self, now: int, on_done: Callable[[int | AttError], None] | None = None, *, mtu: int | None = None
    ) -> GattOperation[int]:
        """Exchange MTU (Vol 3 Part G 4.3.1), once per connection (a second call is an
        :class:`AttLocalError`), offering ``mtu`` as Client Rx MTU (default: the bearer's
        ``local_mtu``; 23..527, else :class:`AttLocalError`); the result is the new
        ATT_MTU. The bearer's ``local_mtu`` becomes ``mtu`` when the request leaves."""
        if self._mtu_requested or self.bearer.mtu_exchange_requested:
            raise AttLocalError("the client exchanges the MTU only once per connection")
        if mtu is not None and not ATT_DEFAULT_LE_MTU <= mtu <= ATT_MAX_MTU:
            raise AttLocalError(f"an MTU of {mtu} is outside {ATT_DEFAULT_LE_MTU}..{ATT_MAX_MTU}")
        self._mtu_requested = True

        def proc() -> Procedure[int]:
            _ = yield ATT_EXCHANGE_MTU_REQ(self.bearer.local_mtu if mtu is None else mtu)
            if isinstance(_, AttError):
                raise _
            return self.bearer.mtu

        return self._start("exchange_mtu", proc(), now, on_done)

    # -- discovery ------------------------------------------------------------------------

    def _services_by_group(
        self, group: UUID, report: ResultsObserver[ServiceInfo] | None = None
    ) -> Procedure[list[ServiceInfo]]:
        out: list[ServiceInfo] = []
        start = 0x0001
        primary = group == PRIMARY_SERVICE_UUID
        while start <= 0xFFFF:
            rsp = yield ATT_READ_BY_GROUP_TYPE_REQ(start, 0xFFFF, group)
            if _not_found(rsp):
                break
            entries = _expect(rsp, ATT_READ_BY_GROUP_TYPE_RSP).attribute_data_list
            batch = []
            for handle, end, value in entries:
                if handle < start or end < handle:
                    raise _bad("service handles out of order")
                batch.append(ServiceInfo(handle, end, _uuid(value), primary))
                start = end + 1
            out += batch
            _report(report, batch)
        return out

    def _services_by_uuid(
        self, uuid: UUID, report: ResultsObserver[ServiceInfo] | None = None
    ) -> Procedure[list[ServiceInfo]]:
        out: list[ServiceInfo] = []
        start = 0x0001
        while start <= 0xFFFF:
            rsp = yield ATT_FIND_BY_TYPE_VALUE_REQ(start, 0xFFFF, PRIMARY_SERVICE_UUID, att_uuid_bytes(uuid))
            if _not_found(rsp):
                break
            batch = []
            for found, end in _expect(rsp, ATT_FIND_BY_TYPE_VALUE_RSP).handles_information_list:
                if found < start or end < found:
                    raise _bad("service handles out of order")
                batch.append(ServiceInfo(found, end, uuid, True))
                start = end + 1
            out += batch
            _report(report, batch)
        return out

    def discover_primary_services(
        self,
        now: int,
        uuid: UUID | None = None,
        on_done: Callable[[list[ServiceInfo] | AttError], None] | None = None,
        on_response: ResponseObserver | None = None,
        on_results: ResultsObserver[ServiceInfo] | None = None,
    ) -> GattOperation[list[ServiceInfo]]:
        """Discover All Primary Services, or by Service UUID (Vol 3 Part G 4.4.1, 4.4.2).
        Results carry no includes or characteristics; ``on_results`` gets them per
        response."""
        gen = (
            self._services_by_group(PRIMARY_SERVICE_UUID, on_results)
            if uuid is None
            else self._services_by_uuid(uuid, on_results)
        )
        return self._start("discover_primary_services", gen, now, on_done, on_response)

    def discover_secondary_services(
        self, now: int, on_done: Callable[[list[ServiceInfo] | AttError], None] | None = None,
        on_response: ResponseObserver | None = None,
    ) -> GattOperation[list[ServiceInfo]]:
        """Read By Group Type over 0x2801 (ATT allows it; GATT reaches secondary
        services through includes)."""
        return self._start(
            "discover_secondary_services", self._services_by_group(SECONDARY_SERVICE_UUID), now, on_done,
            on_response,
        )

    def _includes(self, start: int, end: int) -> Procedure[list[IncludeInfo]]:
        out: list[IncludeInfo] = []
        while start <= end:
            rsp = yield ATT_READ_BY_TYPE_REQ(start, end, INCLUDE_UUID)
            if _not_found(rsp):
                break
            for handle, value in _expect(rsp, ATT_READ_BY_TYPE_RSP).attribute_data_list:
                if handle < start or len(value) not in (4, 6):
                    raise _bad("include declaration")
                inc_start = int.from_bytes(value[0:2], "little")
                inc_end = int.from_bytes(value[2:4], "little")
                if len(value) == 6:
                    uuid = UUID.from_bytes(value[4:6])
                else:  # a 128-bit UUID: read the included service declaration (4.5.1)
                    decl = yield ATT_READ_REQ(inc_start)
                    uuid = _uuid(_expect(decl, ATT_READ_RSP).attribute_value)
                out.append(IncludeInfo(handle, inc_start, inc_end, uuid))
                start = handle + 1
        return out

    def find_included_services(
        self,
        service: ServiceInfo,
        now: int,
        on_done: Callable[[list[IncludeInfo] | AttError], None] | None = None,
        on_response: ResponseObserver | None = None,
    ) -> GattOperation[list[IncludeInfo]]:
        """Find Included Services (Vol 3 Part G 4.5.1)."""
        return self._start(
            "find_included_services", self._includes(service.start_handle, service.end_handle), now, on_done,
            on_response,
        )

    def _characteristics(
        self, start: int, end: int, uuid: UUID | None, report: ResultsObserver[CharacteristicInfo] | None = None
    ) -> Procedure[list[CharacteristicInfo]]:
        """Each characteristic is complete (its end handle known) when the next
        declaration arrives, or at the end of the procedure: see the module docstring."""
        out: list[CharacteristicInfo] = []
        pending: tuple[int, int, int, UUID] | None = None

        def complete(char_end: int, batch: list[CharacteristicInfo]) -> None:
            if pending is not None and (uuid is None or pending[3] == uuid):
                handle, props, value_handle, char_uuid = pending
                batch.append(CharacteristicInfo(handle, value_handle, char_end, char_uuid, props))

        def flush() -> None:
            last: list[CharacteristicInfo] = []
            complete(end, last)
            out.extend(last)
            _report(report, last)

        handle_from = start
        try:
            while handle_from <= end:
                rsp = yield ATT_READ_BY_TYPE_REQ(handle_from, end, CHARACTERISTIC_UUID)
                if _not_found(rsp):
                    break
                batch: list[CharacteristicInfo] = []
                try:
                    for handle, value in _expect(rsp, ATT_READ_BY_TYPE_RSP).attribute_data_list:
                        if handle < handle_from or len(value) not in (5, 19):
                            raise _bad("characteristic declaration")
                        value_handle = int.from_bytes(value[1:3], "little")
                        declared = (handle, value[0], value_handle, _uuid(value[3:]))
                        complete(handle - 1, batch)
                        pending = declared
                        handle_from = handle + 1
                finally:
                    out += batch
                    _report(report, batch)
        except (AttError, ValueError):
            flush()  # the error still fails the procedure, after the pending result
            raise
        flush()
        return out

    def discover_characteristics(
        self,
        service: ServiceInfo,
        now: int,
        uuid: UUID | None = None,
        on_done: Callable[[list[CharacteristicInfo] | AttError], None] | None = None,
        on_response: ResponseObserver | None = None,
        on_results: ResultsObserver[CharacteristicInfo] | None = None,
    ) -> GattOperation[list[CharacteristicInfo]]:
        """Discover All Characteristics of a Service, or by UUID (Vol 3 Part G 4.6.1,
        4.6.2). Results carry no descriptors; ``on_results`` gets each characteristic
        once its end handle is known (the next declaration, or the end)."""
        gen = self._characteristics(service.start_handle, service.end_handle, uuid, on_results)
        return self._start("discover_characteristics", gen, now, on_done, on_response)

    def _descriptors(
        self, start: int, end: int, report: ResultsObserver[DescriptorInfo] | None = None
    ) -> Procedure[list[DescriptorInfo]]:
        out: list[DescriptorInfo] = []
        while start <= end:
            rsp = yield ATT_FIND_INFORMATION_REQ(start, end)
            if _not_found(rsp):
                break
            batch = []
            for handle, uuid in _expect(rsp, ATT_FIND_INFORMATION_RSP).information_data:
                if handle < start:
                    raise _bad("descriptor handles out of order")
                batch.append(DescriptorInfo(handle, uuid))
                start = handle + 1
            out += batch
            _report(report, batch)
        return out

    def discover_descriptors(
        self,
        characteristic: CharacteristicInfo,
        now: int,
        on_done: Callable[[list[DescriptorInfo] | AttError], None] | None = None,
        on_response: ResponseObserver | None = None,
        on_results: ResultsObserver[DescriptorInfo] | None = None,
    ) -> GattOperation[list[DescriptorInfo]]:
        """Discover All Characteristic Descriptors (Vol 3 Part G 4.7.1); ``on_results``
        gets them per response."""
        gen = self._descriptors(characteristic.value_handle + 1, characteristic.end_handle, on_results)
        return self._start("discover_descriptors", gen, now, on_done, on_response)

    def _discover_all(self) -> Procedure[list[ServiceInfo]]:
        services = yield from self._services_by_group(PRIMARY_SERVICE_UUID)
        services += yield from self._services_by_group(SECONDARY_SERVICE_UUID)
        out = []
        for svc in sorted(services, key=lambda s: s.start_handle):
            includes = yield from self._includes(svc.start_handle, svc.end_handle)
            chars = yield from self._characteristics(svc.start_handle, svc.end_handle, None)
            full = []
            for c in chars:
                descs = yield from self._descriptors(c.value_handle + 1, c.end_handle)
                full.append(
                    CharacteristicInfo(
                        c.declaration_handle, c.value_handle, c.end_handle, c.uuid, c.properties, tuple(descs)
                    )
                )
            out.append(ServiceInfo(svc.start_handle, svc.end_handle, svc.uuid, svc.primary, tuple(includes), tuple(full)))
        return out

    def discover_all(
        self, now: int, on_done: Callable[[list[ServiceInfo] | AttError], None] | None = None,
        on_response: ResponseObserver | None = None,
    ) -> GattOperation[list[ServiceInfo]]:
        """Primary and secondary services with their includes, characteristics and
        descriptors: the same view as :meth:`GattServer.describe`."""
        return self._start("discover_all", self._discover_all(), now, on_done, on_response)

    # -- reads ----------------------------------------------------------------------------

    def _read_long(self, handle: int, first: bytes | None = None) -> Procedure[bytes]:
        if first is None:
            rsp = yield ATT_READ_REQ(handle)
            first = _expect(rsp, ATT_READ_RSP).attribute_value
        value = bytearray(first)
        part_len = len(first)
        while part_len == self.bearer.mtu - 1 and len(value) < ATT_MAX_ATTRIBUTE_VALUE_LENGTH:
            rsp = yield ATT_READ_BLOB_REQ(handle, len(value))
            if isinstance(rsp, AttError) and rsp.code in (_E.ATTRIBUTE_NOT_LONG, _E.INVALID_OFFSET):
                break
            part = _expect(rsp, ATT_READ_BLOB_RSP).part_attribute_value
            value += part
            part_len = len(part)
        return bytes(value)

    def read(
        self, handle: int, now: int, on_done: Callable[[bytes | AttError], None] | None = None,
        on_response: ResponseObserver | None = None,
    ) -> GattOperation[bytes]:
        """Read Characteristic Value (Vol 3 Part G 4.8.1): at most ATT_MTU-1 octets."""

        def proc() -> Procedure[bytes]:
            rsp = yield ATT_READ_REQ(handle)
            return _expect(rsp, ATT_READ_RSP).attribute_value

        return self._start("read", proc(), now, on_done, on_response)

    def read_long(
        self, handle: int, now: int, on_done: Callable[[bytes | AttError], None] | None = None,
        on_response: ResponseObserver | None = None,
    ) -> GattOperation[bytes]:
        """Read Long Characteristic Values (Vol 3 Part G 4.8.3): Read then Read Blob."""
        return self._start("read_long", self._read_long(handle), now, on_done, on_response)

    def read_by_uuid(
        self,
        uuid: UUID,
        now: int,
        start: int = 0x0001,
        end: int = 0xFFFF,
        on_done: Callable[[list[tuple[int, bytes]] | AttError], None] | None = None,
        on_response: ResponseObserver | None = None,
    ) -> GattOperation[list[tuple[int, bytes]]]:
        """Read Using Characteristic UUID (Vol 3 Part G 4.8.2), repeated over the range:
        ``[(handle, value), ...]``; stops at the first error after some results."""
        if not 1 <= start <= end <= 0xFFFF:
            raise AttLocalError(f"bad handle range 0x{start:04X}-0x{end:04X}")

        def proc() -> Procedure[list[tuple[int, bytes]]]:
            out: list[tuple[int, bytes]] = []
            handle_from = start
            while handle_from <= end:
                rsp = yield ATT_READ_BY_TYPE_REQ(handle_from, end, uuid)
                if out and isinstance(rsp, AttError):
                    break
                for handle, value in _expect(rsp, ATT_READ_BY_TYPE_RSP).attribute_data_list:
                    if handle < handle_from:
                        raise _bad("handles out of order")
                    out.append((handle, value))
                    handle_from = handle + 1
            return out

        return self._start("read_by_uuid", proc(), now, on_done, on_response)

    def read_multiple(
        self, handles: list[int], now: int, on_done: Callable[[bytes | AttError], None] | None = None,
        on_response: ResponseObserver | None = None,
    ) -> GattOperation[bytes]:
        """Read Multiple Characteristic Values (Vol 3 Part G 4.8.4): the values
        concatenated, cut to ATT_MTU-1."""
        req = ATT_READ_MULTIPLE_REQ(tuple(handles))
        self._fits(req)

        def proc() -> Procedure[bytes]:
            rsp = yield req
            return _expect(rsp, ATT_READ_MULTIPLE_RSP).set_of_values

        return self._start("read_multiple", proc(), now, on_done, on_response)

    def read_multiple_variable(
        self, handles: list[int], now: int, on_done: Callable[[list[bytes] | AttError], None] | None = None,
        on_response: ResponseObserver | None = None,
    ) -> GattOperation[list[bytes]]:
        """Read Multiple Variable Length Characteristic Values (Vol 3 Part G 4.8.5);
        values the response cut short are completed with Read / Read Blob."""
        req = ATT_READ_MULTIPLE_VARIABLE_REQ(tuple(handles))
        self._fits(req)

        def proc() -> Procedure[list[bytes]]:
            rsp = yield req
            entries = _expect(rsp, ATT_READ_MULTIPLE_VARIABLE_RSP).length_value_tuple_list
            if len(entries) > len(handles):
                raise _bad("more values than handles")
            out = []
            for i, handle in enumerate(handles):
                if i < len(entries) and len(entries[i].value) == entries[i].length:
                    out.append(entries[i].value)
                    continue
                value = yield from self._read_long(handle)
                out.append(value)
            return out

        return self._start("read_multiple_variable", proc(), now, on_done, on_response)

    # -- writes ---------------------------------------------------------------------------

    def _fits(self, pdu: AttPdu) -> None:
        if len(pdu.to_bytes()) > self.bearer.mtu:
            raise AttLocalError(f"{type(pdu).__name__} does not fit ATT_MTU {self.bearer.mtu}")

    def _handle_value_fits(self, name: str, handle: int, value: bytes) -> None:
        """:meth:`_fits` for opcode + handle + value PDUs, without encoding them."""
        if not 0 <= handle <= 0xFFFF:
            raise AttLocalError(f"attribute handle {handle} does not fit in two octets")
        if 3 + len(value) > self.bearer.mtu:
            raise AttLocalError(f"{name} does not fit ATT_MTU {self.bearer.mtu}")

    def write(
        self, handle: int, value: bytes, now: int, on_done: Callable[[None | AttError], None] | None = None
    ) -> GattOperation[None]:
        """Write Characteristic Value (Vol 3 Part G 4.9.3): at most ATT_MTU-3 octets."""
        req = ATT_WRITE_REQ(handle, bytes(value))
        self._handle_value_fits("ATT_WRITE_REQ", handle, req.attribute_value)

        def proc() -> Procedure[None]:
            rsp = yield req
            _expect(rsp, ATT_WRITE_RSP)
            return None

        return self._start("write", proc(), now, on_done)

    def write_without_response(self, handle: int, value: bytes, now: int) -> GattOperation[None]:
        """Write Without Response (Vol 3 Part G 4.9.1): sent at once, never answered."""
        pdu = ATT_WRITE_CMD(handle, bytes(value))
        self._handle_value_fits("ATT_WRITE_CMD", handle, pdu.attribute_value)
        op: GattOperation[None] = GattOperation("write_without_response", None)
        sent = self.bearer.send_command(pdu)
        op._complete(None if sent else AttError(_E.UNLIKELY_ERROR, handle, pdu.opcode, "bearer not open"))
        return op

    def signed_write_without_response(
        self, handle: int, value: bytes, sign: Callable[[bytes], bytes], now: int
    ) -> GattOperation[None]:
        """Signed Write Without Response (Vol 3 Part G 4.9.2); ``sign(signed_data)`` gives
        the 12-octet SignCounter||MAC (SMP's CSRK signing)."""
        unsigned = ATT_SIGNED_WRITE_CMD(handle, bytes(value), bytes(ATT_SIGNATURE_LENGTH))
        signature = sign(unsigned.signed_data)
        if len(signature) != ATT_SIGNATURE_LENGTH:
            raise AttLocalError(f"a signature is {ATT_SIGNATURE_LENGTH} octets")
        pdu = ATT_SIGNED_WRITE_CMD(handle, bytes(value), bytes(signature))
        self._fits(pdu)
        op: GattOperation[None] = GattOperation("signed_write_without_response", None)
        sent = self.bearer.send_command(pdu)
        op._complete(None if sent else AttError(_E.UNLIKELY_ERROR, handle, pdu.opcode, "bearer not open"))
        return op

    def _prepare(self, handle: int, value: bytes, offset: int, verify: bool) -> Procedure[None]:
        """Queue ``value`` at ``offset`` in ATT_MTU-5 parts; on error or mismatch, cancel."""
        position = 0
        while True:
            part = value[position : position + self.bearer.mtu - 5]
            rsp = yield ATT_PREPARE_WRITE_REQ(handle, offset + position, part)
            if isinstance(rsp, AttError):
                yield ATT_EXECUTE_WRITE_REQ(AttExecuteWriteFlags.CANCEL_ALL_PREPARED_WRITES)
                raise rsp
            echo = _expect(rsp, ATT_PREPARE_WRITE_RSP)
            if verify and (echo.attribute_handle, echo.value_offset, echo.part_attribute_value) != (
                handle, offset + position, part,
            ):
                yield ATT_EXECUTE_WRITE_REQ(AttExecuteWriteFlags.CANCEL_ALL_PREPARED_WRITES)
                raise GattVerifyError(handle)
            position += len(part)
            if position >= len(value):
                return None

    def _execute(self) -> Procedure[None]:
        rsp = yield ATT_EXECUTE_WRITE_REQ(AttExecuteWriteFlags.IMMEDIATELY_WRITE_ALL_PENDING_PREPARED_VALUES)
        _expect(rsp, ATT_EXECUTE_WRITE_RSP)
        return None

    def write_long(
        self,
        handle: int,
        value: bytes,
        now: int,
        offset: int = 0,
        on_done: Callable[[None | AttError], None] | None = None,
    ) -> GattOperation[None]:
        """Write Long Characteristic Values (Vol 3 Part G 4.9.4): Prepare Write
        requests then Execute Write."""
        if offset + len(value) > ATT_MAX_ATTRIBUTE_VALUE_LENGTH:
            raise AttLocalError("an attribute value is at most 512 octets")
        data = bytes(value)

        def proc() -> Procedure[None]:
            yield from self._prepare(handle, data, offset, verify=False)
            yield from self._execute()
            return None

        return self._start("write_long", proc(), now, on_done)

    def reliable_write(
        self,
        writes: list[tuple[int, bytes]],
        now: int,
        on_done: Callable[[None | AttError], None] | None = None,
    ) -> GattOperation[None]:
        """Reliable Writes (Vol 3 Part G 4.9.5): every echo is checked; a mismatch
        cancels and fails with :class:`GattVerifyError`."""
        if not writes:
            raise AttLocalError("a reliable write needs at least one value")
        items = [(h, bytes(v)) for h, v in writes]

        def proc() -> Procedure[None]:
            for handle, value in items:
                yield from self._prepare(handle, value, 0, verify=True)
            yield from self._execute()
            return None

        return self._start("reliable_write", proc(), now, on_done)

    # -- subscriptions --------------------------------------------------------------------

    @staticmethod
    def _cccd(characteristic: CharacteristicInfo) -> int:
        for d in characteristic.descriptors:
            if d.uuid == CCCD_UUID:
                return d.handle
        raise AttLocalError(f"characteristic {characteristic.uuid} has no discovered CCCD")

    def subscribe(
        self,
        characteristic: CharacteristicInfo,
        now: int,
        *,
        indicate: bool = False,
        on_value: Callable[[bytes, int], None] | None = None,
        on_done: Callable[[None | AttError], None] | None = None,
    ) -> GattOperation[None]:
        """Write the CCCD (Vol 3 Part G 4.10, 4.11, 3.3.3.3): notifications, or
        indications with ``indicate=True``; ``on_value(value, now)`` gets each one.
        The characteristic's descriptors must have been discovered."""
        cccd = self._cccd(characteristic)
        if on_value is not None:
            self._subscribers[characteristic.value_handle] = on_value
        return self.write(cccd, (2 if indicate else 1).to_bytes(2, "little"), now, on_done)

    def unsubscribe(
        self,
        characteristic: CharacteristicInfo,
        now: int,
        on_done: Callable[[None | AttError], None] | None = None,
    ) -> GattOperation[None]:
        """Write 0x0000 to the CCCD and forget the subscriber."""
        cccd = self._cccd(characteristic)
        self._subscribers.pop(characteristic.value_handle, None)
        return self.write(cccd, b"\x00\x00", now, on_done)
