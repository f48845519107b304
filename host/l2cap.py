"""L2CAP for LE: fixed channels, LE signalling and credit-based channels (Vol 3 Part A).

Theory of operation
-------------------
One :class:`L2cap` serves every ACL connection of a host. It is sans-IO: whole basic
frames come in through :meth:`L2cap.receive_acl` (the HCI driver has already reassembled
the ACL fragments), frames go out through the ``send_acl(handle, frame)`` callable given
at construction (a frame may be a :class:`~host.hci.MarkedPdu` carrying a "sent" marker
for the HCI driver: pass it on unchanged), and the only clock is the ``now`` (integer
ns) passed to each input; :meth:`L2cap.get_timer` gives the earliest RTX deadline and
:meth:`L2cap.handle_timer` expires it.

Routing (Vol 3 Part A 2.1): CID 0x0005 is the LE signalling channel, handled here;
other fixed channels (ATT 0x0004, SMP 0x0006, ...) go to the callback registered with
:meth:`L2cap.register_fixed_channel`; CIDs 0x0040-0x007F go to the open credit-based
channel with that local CID; anything else is dropped and counted in :attr:`L2cap.stats`.

LE signalling (Vol 3 Part A 4): one command per C-frame, at most the signalling MTU
(23 octets). A C-frame that is too long gets Command Reject "signalling MTU exceeded";
one that does not decode (bad length, unknown or BR/EDR-only code, identifier 0) gets
Command Reject "command not understood", echoing its identifier; a Command Reject is
never answered (so two stacks cannot loop). Requests we send wait for their response
under the RTX timer (``rtx_timeout_ns``, 30 s by default, within the spec's 1-60 s);
a response that matches no outstanding identifier is ignored.

Connection Parameter Update (4.20, 4.21): only the peripheral sends the request, with
:meth:`L2cap.request_connection_parameter_update`; the central validates the values and
asks ``on_connection_parameter_update_request(handle, params, now) -> bool`` (which
is expected to issue HCI_LE_Connection_Update on acceptance), then answers accepted or
rejected. A peripheral receiving the request answers Command Reject.

LE credit-based channels (4.22-4.24, 10.1): :meth:`L2cap.listen` / :meth:`L2cap.connect`
set them up with the spec's result codes, and :class:`host.l2cap_coc.CreditBasedChannel`
carries the data (see that module). Disconnection (4.6, 4.7) works from both sides, and
a protocol error on a channel (credit overflow, K-frame without credit, SDU above MTU)
disconnects it.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Callable, Final, Literal

from host.hci import OnSent, sent_marker, with_sent_marker
from host.l2cap_coc import (
    LE_PSM_DYNAMIC_MIN,
    LE_PSM_MAX,
    LE_PSM_MIN,
    ChannelCloseReason,
    ChannelInput,
    ChannelState,
    ConnectionParameters,
    CreditBasedChannel,
    L2capConfig,
    L2capError,
    L2capLocalError,
    L2capRequestFailed,
    L2capStats,
    OnAccept,
    RequestFailure,
    Verdict,
    accept_answer_result,
    admission_refusal,
    channel_transition,
    check_channel_parameters,
    check_psm,
)
from host.l2cap_pdu import (
    L2CAP_COMMAND_REJECT_RSP,
    L2CAP_CONNECTION_PARAMETER_UPDATE_REQ,
    L2CAP_CONNECTION_PARAMETER_UPDATE_RSP,
    L2CAP_CREDIT_BASED_CONNECTION_REQ,
    L2CAP_CREDIT_BASED_RECONFIGURE_REQ,
    L2CAP_DISCONNECTION_REQ,
    L2CAP_DISCONNECTION_RSP,
    L2CAP_FLOW_CONTROL_CREDIT_IND,
    L2CAP_LE_CREDIT_BASED_CONNECTION_REQ,
    L2CAP_LE_CREDIT_BASED_CONNECTION_RSP,
    L2CAP_LE_DYNAMIC_CID_MAX,
    L2CAP_LE_DYNAMIC_CID_MIN,
    CommandRejectReason,
    ConnectionParameterUpdateResult,
    L2capCid,
    L2capDecodeError,
    L2capFrame,
    LeCreditBasedConnectionResult,
    SignallingCode,
    SignallingCommand,
    SignallingDecodeError,
    decode_signalling,
)

__all__ = [
    "ChannelCloseReason",
    "ChannelState",
    "ConnectionParameters",
    "CreditBasedChannel",
    "L2cap",
    "L2capConfig",
    "L2capError",
    "L2capLocalError",
    "L2capRequestFailed",
    "L2capStats",
    "OnAccept",
    "RequestFailure",
    "Role",
    "LE_PSM_MIN",
    "LE_PSM_MAX",
    "LE_PSM_DYNAMIC_MIN",
]

Role = Literal["central", "peripheral"]


OnPdu = Callable[[int, bytes, int], None]
OnParameterUpdateRequest = Callable[[int, ConnectionParameters, int], bool]
OnParameterUpdateResult = Callable[[ConnectionParameterUpdateResult | L2capRequestFailed], None]


class _Kind(enum.Enum):
    CONNECT = "connect"
    DISCONNECT = "disconnect"
    PARAMETER_UPDATE = "parameter_update"


@dataclasses.dataclass
class _Pending:
    identifier: int
    kind: _Kind
    expects: int  # the response code
    deadline: int
    channel: CreditBasedChannel | None = None
    on_result: OnParameterUpdateResult | None = None


@dataclasses.dataclass
class _Listener:
    psm: int
    mtu: int
    mps: int
    initial_credits: int
    on_accept: OnAccept | None
    auto_credits: bool


class _Link:
    """Per-connection state."""

    def __init__(self, handle: int, role: Role) -> None:
        self.handle = handle
        self.role = role
        self.channels: dict[int, CreditBasedChannel] = {}  # by local CID
        self.pending: dict[int, _Pending] = {}  # by identifier
        self.next_identifier = 1

    def allocate_identifier(self) -> int:
        for _ in range(255):
            ident = self.next_identifier
            self.next_identifier = ident % 255 + 1
            if ident not in self.pending:
                return ident
        raise L2capLocalError("255 signalling requests are outstanding: no identifier is free")

    def channel_by_remote_cid(self, cid: int) -> CreditBasedChannel | None:
        for ch in self.channels.values():
            if ch.remote_cid == cid:
                return ch
        return None


_RESPONSE_EXPECTED: Final = {
    _Kind.CONNECT: SignallingCode.L2CAP_LE_CREDIT_BASED_CONNECTION_RSP,
    _Kind.DISCONNECT: SignallingCode.L2CAP_DISCONNECTION_RSP,
    _Kind.PARAMETER_UPDATE: SignallingCode.L2CAP_CONNECTION_PARAMETER_UPDATE_RSP,
}


class L2cap:
    """The L2CAP entity of one host, for all of its LE connections (Vol 3 Part A)."""

    def __init__(
        self,
        send_acl: Callable[[int, bytes], None],
        config: L2capConfig | None = None,
        *,
        on_connection_parameter_update_request: OnParameterUpdateRequest | None = None,
    ) -> None:
        self._send_acl = send_acl
        self.config = config if config is not None else L2capConfig()
        #: Central side: asked whether to accept a peripheral's parameter update request.
        #: Without a callback every request is rejected.
        self.on_connection_parameter_update_request = on_connection_parameter_update_request
        self.stats = L2capStats()
        self._links: dict[int, _Link] = {}
        self._fixed: dict[int, OnPdu] = {}
        self._listeners: dict[int, _Listener] = {}
        self._now = 0

    # -- connections and fixed channels --------------------------------------------------

    @property
    def now(self) -> int:
        """The latest time any input carried (used by calls that take no ``now``)."""
        return self._now

    def _tick(self, now: int) -> None:
        if now > self._now:
            self._now = now

    def add_connection(self, handle: int, role: Role, now: int) -> None:
        """A new ACL connection; ``role`` is this device's role on it."""
        self._tick(now)
        if handle in self._links:
            raise L2capLocalError(f"connection 0x{handle:04X} already exists")
        if role not in ("central", "peripheral"):
            raise L2capLocalError(f"role must be 'central' or 'peripheral', not {role!r}")
        self._links[handle] = _Link(handle, role)

    def remove_connection(self, handle: int, now: int) -> None:
        """The ACL connection is gone: close its channels, fail its pending requests."""
        self._tick(now)
        link = self._links.pop(handle, None)
        if link is None:
            return
        pending = list(link.pending.values())
        link.pending.clear()
        for p in pending:
            if p.on_result is not None:
                p.on_result(L2capRequestFailed(RequestFailure.LINK_LOST))
        for ch in list(link.channels.values()):
            self._close(link, ch, ChannelCloseReason.LINK_LOST, now, ChannelInput.LINK_LOST)

    def has_connection(self, handle: int) -> bool:
        return handle in self._links

    def register_fixed_channel(self, cid: int, on_pdu: OnPdu) -> None:
        """Deliver frames of fixed channel ``cid`` as ``on_pdu(handle, payload, now)``."""
        if cid in (L2capCid.NULL, L2capCid.LE_SIGNALLING) or not 0 < cid <= 0xFFFF:
            raise L2capLocalError(f"CID 0x{cid:04X} cannot be registered as a fixed channel")
        if L2CAP_LE_DYNAMIC_CID_MIN <= cid <= L2CAP_LE_DYNAMIC_CID_MAX:
            raise L2capLocalError(f"CID 0x{cid:04X} is a dynamically allocated CID")
        if cid in self._fixed:
            raise L2capLocalError(f"fixed channel 0x{cid:04X} is already registered")
        self._fixed[cid] = on_pdu

    def send_fixed(self, handle: int, cid: int, payload: bytes, on_sent: OnSent | None = None) -> None:
        """Send ``payload`` in one basic frame on channel ``cid`` of connection ``handle``.

        ``on_sent(now)`` (or the marker of a :class:`~host.hci.MarkedPdu` payload) rides
        on the frame to the HCI driver, which calls it once the controller completed the
        frame's every fragment.
        """
        self._link(handle)
        marker = on_sent if on_sent is not None else sent_marker(payload)
        self._send_acl(handle, with_sent_marker(L2capFrame(cid, bytes(payload)).to_bytes(), marker))

    def _link(self, handle: int) -> _Link:
        link = self._links.get(handle)
        if link is None:
            raise L2capLocalError(f"no connection with handle 0x{handle:04X}")
        return link

    def channels(self, handle: int) -> list[CreditBasedChannel]:
        """The credit-based channels (any state but CLOSED) of a connection."""
        link = self._links.get(handle)
        return [] if link is None else list(link.channels.values())

    # -- input ---------------------------------------------------------------------------

    def receive_acl(self, handle: int, l2cap_pdu: bytes, now: int) -> None:
        """One whole basic frame received on connection ``handle``."""
        self._tick(now)
        link = self._links.get(handle)
        if link is None:
            self.stats.unknown_handle += 1
            return
        try:
            frame = L2capFrame.from_bytes(l2cap_pdu)
        except L2capDecodeError:
            self.stats.malformed_frames += 1
            return
        cid = frame.cid
        if cid == L2capCid.LE_SIGNALLING:
            self._receive_signalling(link, frame.payload, now)
            return
        on_pdu = self._fixed.get(cid)
        if on_pdu is not None:
            on_pdu(handle, frame.payload, now)
            return
        channel = link.channels.get(cid)
        if channel is not None:
            channel._receive_kframe(frame.payload, now)
            return
        self.stats.unknown_cid += 1

    def get_timer(self) -> int | None:
        """The earliest RTX deadline, or ``None``."""
        deadlines = [p.deadline for link in self._links.values() for p in link.pending.values()]
        return min(deadlines) if deadlines else None

    def handle_timer(self, now: int) -> None:
        """Expire every request whose RTX deadline is at or before ``now``."""
        self._tick(now)
        for link in list(self._links.values()):
            for p in sorted(link.pending.values(), key=lambda p: (p.deadline, p.identifier)):
                if p.deadline <= now and link.pending.get(p.identifier) is p:
                    del link.pending[p.identifier]
                    self._fail(link, p, RequestFailure.TIMEOUT, now)

    # -- connection parameter update -----------------------------------------------------

    def request_connection_parameter_update(
        self,
        handle: int,
        params: ConnectionParameters,
        now: int,
        on_result: OnParameterUpdateResult,
    ) -> None:
        """Peripheral: ask the central for new parameters (Vol 3 Part A 4.20).
        ``on_result`` gets the central's result or an :class:`L2capRequestFailed`."""
        self._tick(now)
        link = self._link(handle)
        if link.role != "peripheral":
            raise L2capLocalError(
                "only the peripheral sends L2CAP_CONNECTION_PARAMETER_UPDATE_REQ; "
                "a central uses HCI_LE_Connection_Update"
            )
        problem = params.problem()
        if problem is not None:
            raise L2capLocalError(f"invalid connection parameters: {problem}")
        if any(p.kind is _Kind.PARAMETER_UPDATE for p in link.pending.values()):
            raise L2capLocalError("a connection parameter update request is already outstanding")
        ident = link.allocate_identifier()
        self._request(
            link,
            L2CAP_CONNECTION_PARAMETER_UPDATE_REQ(
                ident, params.interval_min, params.interval_max, params.latency, params.timeout
            ),
            _Pending(ident, _Kind.PARAMETER_UPDATE, 0, 0, on_result=on_result),
            now,
        )

    # -- credit-based channels -----------------------------------------------------------

    def listen(
        self,
        psm: int,
        mtu: int,
        mps: int,
        initial_credits: int,
        on_accept: OnAccept | None = None,
        *,
        auto_credits: bool | None = None,
    ) -> None:
        """Accept LE credit-based connections on ``psm`` (Vol 3 Part A 4.22).
        ``on_accept(channel, now)`` sees each request first and may refuse it."""
        check_psm(psm)
        problem = check_channel_parameters(mtu, mps, initial_credits)
        if problem is not None:
            raise L2capLocalError(problem)
        if psm in self._listeners:
            raise L2capLocalError(f"already listening on PSM 0x{psm:04X}")
        auto = self.config.auto_credits if auto_credits is None else auto_credits
        self._listeners[psm] = _Listener(psm, mtu, mps, initial_credits, on_accept, auto)

    def unlisten(self, psm: int) -> None:
        """Stop accepting connections on ``psm`` (open channels stay open)."""
        if self._listeners.pop(psm, None) is None:
            raise L2capLocalError(f"not listening on PSM 0x{psm:04X}")

    def connect(
        self,
        handle: int,
        psm: int,
        mtu: int,
        mps: int,
        initial_credits: int,
        now: int,
        *,
        auto_credits: bool | None = None,
    ) -> CreditBasedChannel:
        """Open an LE credit-based channel to ``psm`` on the peer (Vol 3 Part A 4.22).
        The channel is CONNECTING; ``on_open`` or ``on_close`` tells the outcome."""
        self._tick(now)
        link = self._link(handle)
        check_psm(psm)
        problem = check_channel_parameters(mtu, mps, initial_credits)
        if problem is not None:
            raise L2capLocalError(problem)
        cid = self._free_cid(link)
        if cid is None:
            raise L2capLocalError(f"no free channel on connection 0x{handle:04X}")
        ident = link.allocate_identifier()
        auto = self.config.auto_credits if auto_credits is None else auto_credits
        channel = CreditBasedChannel(
            self,
            handle=handle,
            psm=psm,
            local_cid=cid,
            mtu=mtu,
            mps=mps,
            initial_credits=initial_credits,
            auto_credits=auto,
            state=ChannelState.CONNECTING,
        )
        link.channels[cid] = channel
        self._request(
            link,
            L2CAP_LE_CREDIT_BASED_CONNECTION_REQ(ident, psm, cid, mtu, mps, initial_credits),
            _Pending(ident, _Kind.CONNECT, 0, 0, channel=channel),
            now,
        )
        return channel

    def _free_cid(self, link: _Link) -> int | None:
        if len(link.channels) >= self.config.max_channels_per_connection:
            return None
        for cid in range(L2CAP_LE_DYNAMIC_CID_MIN, L2CAP_LE_DYNAMIC_CID_MAX + 1):
            if cid not in link.channels:
                return cid
        return None  # pragma: no cover - bounded by max_channels_per_connection

    # -- ChannelOwner (used by CreditBasedChannel) ---------------------------------------

    def _send_kframe(self, channel: CreditBasedChannel, payload: bytes) -> None:
        assert channel.remote_cid is not None
        self._send_acl(channel.handle, L2capFrame(channel.remote_cid, payload).to_bytes())

    def _send_credits(self, channel: CreditBasedChannel, credits: int) -> None:
        link = self._links[channel.handle]
        # The CID field is the sender's own (source) CID (Vol 3 Part A 4.24).
        self._send_command(
            link,
            L2CAP_FLOW_CONTROL_CREDIT_IND(link.allocate_identifier(), channel.local_cid, credits),
        )

    def _kframe_dropped(self, channel: CreditBasedChannel) -> None:
        self.stats.kframes_dropped += 1

    def _disconnect_channel(
        self, channel: CreditBasedChannel, reason: ChannelCloseReason, now: int
    ) -> None:
        """Start disconnecting an OPEN channel (API call or protocol error)."""
        self._tick(now)
        link = self._links[channel.handle]
        inp = (
            ChannelInput.PROTOCOL_ERROR
            if reason is ChannelCloseReason.PROTOCOL_ERROR
            else ChannelInput.DISCONNECT
        )
        verdict, nxt = channel._apply(inp)
        if verdict is not Verdict.GO:
            return
        if nxt is ChannelState.CLOSED:  # a protocol error before the channel was set up
            self._close(link, channel, reason, now, None)
            return
        channel.pending_close_reason = reason
        channel._start_disconnecting()
        assert channel.remote_cid is not None
        ident = link.allocate_identifier()
        self._request(
            link,
            L2CAP_DISCONNECTION_REQ(ident, channel.remote_cid, channel.local_cid),
            _Pending(ident, _Kind.DISCONNECT, 0, 0, channel=channel),
            now,
        )

    # -- signalling ----------------------------------------------------------------------

    def _send_command(self, link: _Link, cmd: SignallingCommand) -> None:
        self._send_acl(link.handle, cmd.to_frame().to_bytes())

    def _request(self, link: _Link, cmd: SignallingCommand, pending: _Pending, now: int) -> None:
        pending.expects = _RESPONSE_EXPECTED[pending.kind]
        pending.deadline = now + self.config.rtx_timeout_ns
        link.pending[pending.identifier] = pending
        self._send_command(link, cmd)

    def _reject(
        self, link: _Link, identifier: int, reason: CommandRejectReason, data: bytes
    ) -> None:
        self.stats.commands_rejected += 1
        # Built by hand: the identifier echoes the rejected command's, even an illegal 0.
        body = int(reason).to_bytes(2, "little") + data
        payload = (
            bytes((SignallingCode.L2CAP_COMMAND_REJECT_RSP, identifier))
            + len(body).to_bytes(2, "little")
            + body
        )
        self._send_acl(link.handle, L2capFrame(L2capCid.LE_SIGNALLING, payload).to_bytes())

    def _receive_signalling(self, link: _Link, payload: bytes, now: int) -> None:
        if not payload:
            self.stats.signalling_ignored += 1
            return
        code = payload[0]
        identifier = payload[1] if len(payload) > 1 else 0
        if code == SignallingCode.L2CAP_COMMAND_REJECT_RSP and (
            len(payload) > self.config.signalling_mtu or identifier == 0
        ):
            self.stats.signalling_ignored += 1  # never answer a Command Reject
            return
        if len(payload) > self.config.signalling_mtu:
            self._reject(
                link,
                identifier,
                CommandRejectReason.SIGNALING_MTU_EXCEEDED,
                self.config.signalling_mtu.to_bytes(2, "little"),
            )
            return
        try:
            cmd = decode_signalling(payload)
        except SignallingDecodeError:
            if code == SignallingCode.L2CAP_COMMAND_REJECT_RSP:
                self.stats.signalling_ignored += 1
            else:
                self._reject(link, identifier, CommandRejectReason.COMMAND_NOT_UNDERSTOOD, b"")
            return
        self._dispatch(link, cmd, now)

    def _dispatch(self, link: _Link, cmd: SignallingCommand, now: int) -> None:
        if isinstance(cmd, L2CAP_COMMAND_REJECT_RSP):
            self.stats.rejects_received += 1
            pending = link.pending.pop(cmd.identifier, None)
            if pending is None:
                self.stats.unexpected_responses += 1
            else:
                self._fail(link, pending, RequestFailure.COMMAND_REJECTED, now)
        elif isinstance(cmd, L2CAP_CONNECTION_PARAMETER_UPDATE_REQ):
            self._on_parameter_update_req(link, cmd, now)
        elif isinstance(cmd, L2CAP_LE_CREDIT_BASED_CONNECTION_REQ):
            self._on_connection_req(link, cmd, now)
        elif isinstance(cmd, L2CAP_DISCONNECTION_REQ):
            self._on_disconnection_req(link, cmd, now)
        elif isinstance(cmd, L2CAP_FLOW_CONTROL_CREDIT_IND):
            channel = link.channel_by_remote_cid(cmd.cid)
            if channel is None or channel.state is not ChannelState.OPEN:
                self.stats.signalling_ignored += 1
            else:
                channel._receive_credits(cmd.credits, now)
        elif isinstance(
            cmd, (L2CAP_CREDIT_BASED_CONNECTION_REQ, L2CAP_CREDIT_BASED_RECONFIGURE_REQ)
        ):
            # Enhanced credit-based flow control mode is not supported.
            self._reject(link, cmd.identifier, CommandRejectReason.COMMAND_NOT_UNDERSTOOD, b"")
        else:
            self._on_response(link, cmd, now)

    def _on_response(self, link: _Link, cmd: SignallingCommand, now: int) -> None:
        pending = link.pending.get(cmd.identifier)
        if pending is None or pending.expects != cmd.code:
            self.stats.unexpected_responses += 1
            return
        if isinstance(cmd, L2CAP_DISCONNECTION_RSP):
            ch = pending.channel
            assert ch is not None
            if cmd.destination_cid != ch.remote_cid or cmd.source_cid != ch.local_cid:
                self.stats.unexpected_responses += 1
                return
            del link.pending[cmd.identifier]
            self._close(link, ch, ch.pending_close_reason, now, ChannelInput.RX_DISCONNECTION_RSP)
        elif isinstance(cmd, L2CAP_CONNECTION_PARAMETER_UPDATE_RSP):
            del link.pending[cmd.identifier]
            assert pending.on_result is not None
            known = cmd.result in ConnectionParameterUpdateResult._value2member_map_
            pending.on_result(
                ConnectionParameterUpdateResult(cmd.result)
                if known
                else ConnectionParameterUpdateResult.CONNECTION_PARAMETERS_REJECTED
            )
        elif isinstance(cmd, L2CAP_LE_CREDIT_BASED_CONNECTION_RSP):
            del link.pending[cmd.identifier]
            assert pending.channel is not None
            self._on_connection_rsp(link, pending.channel, cmd, now)
        else:  # pragma: no cover - _RESPONSE_EXPECTED holds only the codes above
            self.stats.unexpected_responses += 1

    def _fail(self, link: _Link, pending: _Pending, why: RequestFailure, now: int) -> None:
        if pending.kind is _Kind.PARAMETER_UPDATE:
            assert pending.on_result is not None
            pending.on_result(L2capRequestFailed(why))
            return
        ch = pending.channel
        assert ch is not None
        if pending.kind is _Kind.CONNECT:
            reason = (
                ChannelCloseReason.TIMEOUT
                if why is RequestFailure.TIMEOUT
                else ChannelCloseReason.COMMAND_REJECTED
            )
            self._close(link, ch, reason, now, ChannelInput.TIMEOUT)
        else:  # a disconnection request: the channel is gone either way (6.2.1)
            self._close(link, ch, ch.pending_close_reason, now, ChannelInput.TIMEOUT)

    def _close(
        self,
        link: _Link,
        channel: CreditBasedChannel,
        reason: ChannelCloseReason,
        now: int,
        inp: ChannelInput | None,
    ) -> None:
        """Forget ``channel`` and tell its owner (``inp`` is checked against the table)."""
        if inp is not None:
            verdict, nxt = channel_transition(channel.state, inp)
            if verdict is not Verdict.GO or nxt is not ChannelState.CLOSED:
                return
        if link.channels.get(channel.local_cid) is channel:
            del link.channels[channel.local_cid]
        for ident, p in list(link.pending.items()):
            if p.channel is channel:
                del link.pending[ident]
        channel._closed(reason, now)

    def _on_parameter_update_req(
        self, link: _Link, cmd: L2CAP_CONNECTION_PARAMETER_UPDATE_REQ, now: int
    ) -> None:
        if link.role != "central":
            # Vol 3 Part A 4.20: a peripheral receiving the request answers Command Reject.
            self._reject(link, cmd.identifier, CommandRejectReason.COMMAND_NOT_UNDERSTOOD, b"")
            return
        params = ConnectionParameters(cmd.interval_min, cmd.interval_max, cmd.latency, cmd.timeout)
        accepted = False
        callback = self.on_connection_parameter_update_request
        if params.problem() is None and callback is not None:
            accepted = bool(callback(link.handle, params, now))
        result = (
            ConnectionParameterUpdateResult.CONNECTION_PARAMETERS_ACCEPTED
            if accepted
            else ConnectionParameterUpdateResult.CONNECTION_PARAMETERS_REJECTED
        )
        if self._links.get(link.handle) is link:
            self._send_command(link, L2CAP_CONNECTION_PARAMETER_UPDATE_RSP(cmd.identifier, result))

    def _on_connection_req(
        self, link: _Link, req: L2CAP_LE_CREDIT_BASED_CONNECTION_REQ, now: int
    ) -> None:
        R = LeCreditBasedConnectionResult

        def refuse(result: LeCreditBasedConnectionResult) -> None:
            self._send_command(
                link, L2CAP_LE_CREDIT_BASED_CONNECTION_RSP(req.identifier, 0, 0, 0, 0, result)
            )

        listener = self._listeners.get(req.le_psm)
        refusal = admission_refusal(
            req,
            listening=listener is not None,
            source_cid_in_use=link.channel_by_remote_cid(req.source_cid) is not None,
        )
        cid = self._free_cid(link)
        if refusal is None and cid is None:
            refusal = R.CONNECTION_REFUSED_NO_RESOURCES_AVAILABLE
        if refusal is not None:
            refuse(refusal)
            return
        assert listener is not None and cid is not None  # admission_refusal checked both
        channel = CreditBasedChannel(
            self,
            handle=link.handle,
            psm=req.le_psm,
            local_cid=cid,
            mtu=listener.mtu,
            mps=listener.mps,
            initial_credits=listener.initial_credits,
            auto_credits=listener.auto_credits,
            state=ChannelState.ACCEPTING,
        )
        channel._set_peer(req.source_cid, req.mtu, req.mps, req.initial_credits)
        link.channels[cid] = channel
        answer = listener.on_accept(channel, now) if listener.on_accept is not None else None
        if channel.state is not ChannelState.ACCEPTING:
            return  # the connection went away inside on_accept
        result = accept_answer_result(answer)
        if result is R.CONNECTION_SUCCESSFUL:
            channel._apply(ChannelInput.ACCEPT)
            self._send_command(
                link,
                L2CAP_LE_CREDIT_BASED_CONNECTION_RSP(
                    req.identifier,
                    cid,
                    listener.mtu,
                    listener.mps,
                    listener.initial_credits,
                    result,
                ),
            )
            channel._opened(now)
            return
        del link.channels[cid]
        channel._apply(ChannelInput.REFUSE)
        channel.result = result
        channel.close_reason = ChannelCloseReason.REFUSED
        refuse(result)

    def _on_connection_rsp(
        self,
        link: _Link,
        channel: CreditBasedChannel,
        rsp: L2CAP_LE_CREDIT_BASED_CONNECTION_RSP,
        now: int,
    ) -> None:
        if rsp.result != LeCreditBasedConnectionResult.CONNECTION_SUCCESSFUL:
            known = rsp.result in LeCreditBasedConnectionResult._value2member_map_
            channel.result = LeCreditBasedConnectionResult(rsp.result) if known else rsp.result
            self._close(
                link,
                channel,
                ChannelCloseReason.REFUSED,
                now,
                ChannelInput.RX_CONNECTION_RSP_REFUSED,
            )
            return
        dcid = rsp.destination_cid
        if (
            not L2CAP_LE_DYNAMIC_CID_MIN <= dcid <= L2CAP_LE_DYNAMIC_CID_MAX
            or link.channel_by_remote_cid(dcid) is not None
        ):
            # No usable channel on the peer's side: nothing to disconnect.
            self._close(
                link, channel, ChannelCloseReason.PROTOCOL_ERROR, now, ChannelInput.PROTOCOL_ERROR
            )
            return
        channel._apply(ChannelInput.RX_CONNECTION_RSP_OK)
        channel._set_peer(dcid, rsp.mtu, rsp.mps, rsp.initial_credits)
        if check_channel_parameters(rsp.mtu, rsp.mps, rsp.initial_credits) is not None:
            self._disconnect_channel(channel, ChannelCloseReason.PROTOCOL_ERROR, now)
        elif channel.close_when_open:
            self._disconnect_channel(channel, ChannelCloseReason.LOCAL_DISCONNECT, now)
        else:
            channel._opened(now)

    def _on_disconnection_req(self, link: _Link, req: L2CAP_DISCONNECTION_REQ, now: int) -> None:
        channel = link.channels.get(req.destination_cid)
        verdict = (
            Verdict.REJECT_CID
            if channel is None or channel.remote_cid != req.source_cid
            else channel_transition(channel.state, ChannelInput.RX_DISCONNECTION_REQ)[0]
        )
        if verdict is not Verdict.GO or channel is None:
            # Local endpoint first, then remote, as seen by us (Vol 3 Part A 4.1).
            data = req.destination_cid.to_bytes(2, "little") + req.source_cid.to_bytes(2, "little")
            self._reject(link, req.identifier, CommandRejectReason.INVALID_CID_IN_REQUEST, data)
            return
        self._send_command(
            link, L2CAP_DISCONNECTION_RSP(req.identifier, req.destination_cid, req.source_cid)
        )
        reason = (
            channel.pending_close_reason
            if channel.state is ChannelState.DISCONNECTING
            else ChannelCloseReason.REMOTE_DISCONNECT
        )
        self._close(link, channel, reason, now, ChannelInput.RX_DISCONNECTION_REQ)
