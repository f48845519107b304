"""GAP connection parameter updates (Vol 3 Part C 9.3.9-9.3.11; Vol 6 Part B 5.1.7; Vol 3 Part A 4.20).

Theory of operation
-------------------
:class:`ConnectionUpdates` is the part of :class:`~host.gap.Gap` that changes the
parameters of an established connection. A central uses LE_Connection_Update. A
peripheral uses the LL Connection Parameters Request procedure (also
LE_Connection_Update) when its controller supports it and the peer is not known to lack
it; otherwise — or when the peer answers Unsupported Remote Feature — the L2CAP
Connection Parameter Update Request, through the ``l2cap_update_request`` hook the host
installs. Requests from the peer (LE Remote Connection Parameter Request events, L2CAP
requests reaching a central) are decided by ``parameter_policy`` (default: accept valid
parameters) and reported as :class:`~host.events.ConnectionParameterRequest`. Outcomes
are :class:`~host.events.ConnectionUpdated` or :class:`~host.events.ConnectionUpdateFailed`.
An LL update that loses a collision with the peer's procedure (0x23, 0x2A: both started a
procedure with an instant at once, Vol 6 Part B 5.3) is started again once the winner's
instant has passed, up to :data:`UPDATE_RETRIES` times, before it is reported failed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from host.events import (
    ConnectionParameterRequest,
    ConnectionUpdated,
    ConnectionUpdateFailed,
    HostEvent,
)
from host.gap_params import ConnectionParameters, ControllerInfo
from host.hci import ChainFailure, HciDriver, LocalError, Step
from linklayer.hci import le_commands as lc
from linklayer.hci import le_events as le
from linklayer.hci.codec import HciCommand, HciEvent
from linklayer.hci.errors import ErrorCode
from linklayer.hci.supported import LeFeature
from phy.units import UNIT_10MS, UNIT_1250US

if TYPE_CHECKING:
    from host.gap import Connection

__all__ = ["UPDATE_RETRIES", "UPDATE_RETRY_EVENTS", "ConnectionUpdates", "L2capUpdateRequest", "ParameterPolicy"]

#: ``(handle, parameters) -> accept?`` for a peer's request.
ParameterPolicy = Callable[[int, ConnectionParameters], bool]
#: ``(handle, parameters, now, on_result(accepted))``: send an L2CAP update request.
L2capUpdateRequest = Callable[[int, ConnectionParameters, int, Callable[[bool], None]], None]


#: How many times an update that lost a collision is started again.
UPDATE_RETRIES = 3
#: Connection events (times 1 + latency) to wait first: the winner's instant is at least
#: 6 events after it started (Vol 6 Part B 5.1.1), usually a few more.
UPDATE_RETRY_EVENTS = 12
#: Statuses of a procedure that lost a collision (Vol 1 Part F 2: 0x23, 0x2A).
_COLLISIONS = frozenset({int(ErrorCode.LL_PROCEDURE_COLLISION), int(ErrorCode.DIFFERENT_TRANSACTION_COLLISION)})


class ConnectionUpdates:
    """Connection parameter procedures, mixed into :class:`~host.gap.Gap`."""

    hci: HciDriver
    info: ControllerInfo
    connections: dict[int, Connection]
    parameter_policy: ParameterPolicy | None
    l2cap_update_request: L2capUpdateRequest | None
    _emit: Callable[[HostEvent], None]

    if TYPE_CHECKING:
        def _connection(self, handle: int) -> Connection: ...

        def _run(
            self,
            steps: list[Step],
            on_done: Callable[[], None] | None = None,
            on_fail: Callable[[ChainFailure], None] | None = None,
        ) -> None: ...

        def _step(self, cmd: HciCommand, on_result: Callable[[HciEvent], None] | None = None,
                  required: bool = True) -> Step: ...

        def _report_failure(self, cmd: HciCommand) -> Callable[[HciEvent], None]: ...

    def update_connection(self, handle: int, params: ConnectionParameters, now: int) -> None:
        """Ask for new parameters: :class:`ConnectionUpdated` or :class:`ConnectionUpdateFailed`."""
        self.hci.tick(now)
        conn = self._connection(handle)
        params.validate()
        conn.update_retries, conn.update_retry_at = 0, None
        if conn.role == "central" or self._ll_request_usable(conn):
            self._ll_update(conn, params, "central" if conn.role == "central" else "ll")
        else:
            self._l2cap_update(conn, params, now)

    def _ll_request_usable(self, conn: Connection) -> bool:
        feature = LeFeature.CONNECTION_PARAMETERS_REQUEST_PROCEDURE
        return (
            self.info.supports(lc.HCI_LE_Connection_Update_Command)
            and bool(self.info.le_features & feature)
            and (conn.remote_features is None or bool(conn.remote_features & feature))
        )

    def _ll_update(self, conn: Connection, params: ConnectionParameters, how: str) -> None:
        imin, imax, lat, tmo, cmin, cmax = params.units()
        cmd = lc.HCI_LE_Connection_Update_Command(
            connection_handle=conn.handle, connection_interval_min=imin, connection_interval_max=imax,
            max_latency=lat, supervision_timeout=tmo, min_ce_length=cmin, max_ce_length=cmax)
        conn.update_in_progress = how
        conn.pending_update = params

        def fail(f: ChainFailure) -> None:
            conn.update_in_progress = None
            self._emit(ConnectionUpdateFailed(conn.handle, f.status, "refused by the controller"))

        self._run([self._step(cmd)], None, fail)

    def _l2cap_update(self, conn: Connection, params: ConnectionParameters, now: int) -> None:
        if self.l2cap_update_request is None:
            raise LocalError("no L2CAP layer to send a Connection Parameter Update Request")
        conn.update_in_progress = "l2cap"
        conn.pending_update = params

        def result(accepted: bool) -> None:
            if not accepted and conn.update_in_progress == "l2cap":
                conn.update_in_progress = None
                self._emit(ConnectionUpdateFailed(conn.handle, int(ErrorCode.UNACCEPTABLE_CONNECTION_PARAMETERS),
                                                  "rejected by the central"))

        self.l2cap_update_request(conn.handle, params, now, result)

    def on_l2cap_parameter_request(self, handle: int, params: ConnectionParameters, now: int) -> bool:
        """A peripheral's L2CAP Connection Parameter Update Request reached this central:
        accept (and start LE_Connection_Update) or reject."""
        self.hci.tick(now)
        conn = self.connections.get(handle)
        if conn is None or conn.role != "central":
            return False
        accepted = self._decide(handle, params)
        self._emit(ConnectionParameterRequest(
            handle, params.interval_min_ns, params.interval_max_ns, params.latency,
            params.supervision_timeout_ns, accepted))
        if accepted:
            self._ll_update(conn, params, "central")
        return accepted

    def _decide(self, handle: int, params: ConnectionParameters) -> bool:
        try:
            params.validate()
        except LocalError:
            return False
        return self.parameter_policy(handle, params) if self.parameter_policy else True

    def _update_complete(self, e: le.HCI_LE_Connection_Update_Complete_Event) -> None:
        conn = self.connections.get(e.connection_handle)
        if conn is None:
            return
        how, wanted = conn.update_in_progress, conn.pending_update
        conn.update_in_progress = None
        if e.status == 0:
            conn.interval_ns = e.connection_interval * UNIT_1250US
            conn.latency = e.peripheral_latency
            conn.supervision_timeout_ns = e.supervision_timeout * UNIT_10MS
            self._emit(ConnectionUpdated(conn.handle, conn.interval_ns, conn.latency, conn.supervision_timeout_ns))
            return
        if (how in ("ll", "central") and wanted is not None and e.status in _COLLISIONS
                and conn.update_retries < UPDATE_RETRIES):
            # Both sides started a procedure with an instant at once and ours lost
            # (Vol 6 Part B 5.3): the peer's goes on to its instant, ours starts again
            # once that has passed.
            conn.update_retries += 1
            conn.update_in_progress = how
            conn.update_retry_at = self.hci.now + UPDATE_RETRY_EVENTS * conn.interval_ns * (conn.latency + 1)
            return
        if how == "ll" and wanted is not None and e.status == ErrorCode.UNSUPPORTED_REMOTE_FEATURE:
            conn.remote_features = 0  # the peer lacks the LL procedure: use L2CAP instead
            if self.l2cap_update_request is not None:
                self._l2cap_update(conn, wanted, self.hci.now)
                return
        self._emit(ConnectionUpdateFailed(conn.handle, e.status, "update failed"))

    def _update_retry_deadline(self) -> int | None:
        times = [c.update_retry_at for c in self.connections.values() if c.update_retry_at is not None]
        return min(times) if times else None

    def _retry_updates(self, now: int) -> None:
        for conn in list(self.connections.values()):
            at, wanted, how = conn.update_retry_at, conn.pending_update, conn.update_in_progress
            if at is None or at > now:
                continue
            conn.update_retry_at = None
            if wanted is not None and how in ("ll", "central"):
                self._ll_update(conn, wanted, how)

    def _remote_parameter_request(self, e: le.HCI_LE_Remote_Connection_Parameter_Request_Event) -> None:
        params = ConnectionParameters.from_units(e.interval_min, e.interval_max, e.max_latency, e.timeout)
        accepted = e.connection_handle in self.connections and self._decide(e.connection_handle, params)
        self._emit(ConnectionParameterRequest(
            e.connection_handle, params.interval_min_ns, params.interval_max_ns, params.latency,
            params.supervision_timeout_ns, accepted))
        cmd: HciCommand
        if accepted:
            cmd = lc.HCI_LE_Remote_Connection_Parameter_Request_Reply_Command(
                connection_handle=e.connection_handle, interval_min=e.interval_min, interval_max=e.interval_max,
                max_latency=e.max_latency, timeout=e.timeout, min_ce_length=0, max_ce_length=0)
        else:
            cmd = lc.HCI_LE_Remote_Connection_Parameter_Request_Negative_Reply_Command(
                connection_handle=e.connection_handle, reason=int(ErrorCode.UNACCEPTABLE_CONNECTION_PARAMETERS))
        # A reply, not a procedure: it goes straight to the driver, ahead of queued chains.
        self.hci.send_command(cmd, self.hci.now, self._report_failure(cmd))
