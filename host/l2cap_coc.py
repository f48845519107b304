"""LE credit-based connection-oriented channels (Core Specification Vol 3 Part A 3.4, 10.1).

Theory of operation
-------------------
A :class:`CreditBasedChannel` is one endpoint of an LE credit-based channel on one ACL
connection. It holds the data plane: the transmit queue of K-frames, the credits this
side may still spend (``credits``), the credits the peer still holds for sending to us
(``peer_credits``), and the SDU reassembler. The signalling plane (connection request/
response, disconnection, credit indications on CID 0x0005, RTX timers) lives in
:class:`host.l2cap.L2cap`, which owns every channel and which the channel reaches only
through the small :class:`ChannelOwner` protocol.

Sending: ``send(sdu)`` cuts the SDU into K-frames no longer than the peer's MPS (the
first carries the 16-bit SDU Length, Vol 3 Part A 3.4.2) and queues them; one K-frame
leaves per credit. When credits run out the channel is *stalled*: ``send`` returns
``False`` and ``on_send_ready`` fires once the queue has drained after the peer granted
more credits (L2CAP_FLOW_CONTROL_CREDIT_IND, 4.24).

Receiving: every K-frame spends one of the peer's credits; a K-frame received while the
peer holds none, a K-frame above our MPS, an SDU Length above our MTU or more data than
the SDU Length announced is a protocol error and the channel is disconnected (3.4.3,
10.1). Complete SDUs go to ``on_sdu`` (or wait in a queue read with ``take_sdus``).
Credits are returned automatically as K-frames are consumed (``auto_credits``, topping
the peer back up to its initial credits once it falls to half of them) or explicitly by
the application with ``give_credits``.

This module also holds the small value types :class:`host.l2cap` re-exports
(:class:`ConnectionParameters`, :class:`L2capConfig`, :class:`L2capStats`, the errors).

The channel's states and the inputs each state accepts are the table
:data:`CHANNEL_TRANSITIONS`; :func:`channel_transition` is the single place a state
changes. An API call the table refuses raises :class:`L2capLocalError`; a remote input
it refuses is dropped (and counted by the owner).
"""

from __future__ import annotations

import dataclasses
import enum
from collections import deque
from typing import Callable, Final, Protocol

from host.l2cap_pdu import (
    L2CAP_LE_CREDIT_BASED_CONNECTION_REQ,
    L2CAP_LE_DYNAMIC_CID_MAX,
    L2CAP_LE_DYNAMIC_CID_MIN,
    L2CAP_LE_MIN_MTU,
    L2CAP_LE_MPS_MAX,
    KFrameError,
    LeCreditBasedConnectionResult,
    SduReassembler,
    segment_sdu,
)

__all__ = [
    "CHANNEL_TRANSITIONS",
    "ChannelCloseReason",
    "ChannelInput",
    "ChannelOwner",
    "ChannelState",
    "ConnectionParameters",
    "CreditBasedChannel",
    "L2capConfig",
    "L2capError",
    "L2capLocalError",
    "L2capRequestFailed",
    "L2capStats",
    "LE_PSM_DYNAMIC_MIN",
    "LE_PSM_MAX",
    "LE_PSM_MIN",
    "MAX_CREDITS",
    "OnAccept",
    "RequestFailure",
    "Verdict",
    "accept_answer_result",
    "admission_refusal",
    "channel_transition",
    "check_channel_parameters",
    "check_psm",
]

#: LE_PSM ranges (Vol 3 Part A 4.22): fixed (SIG) 0x0001-0x007F, dynamic 0x0080-0x00FF.
LE_PSM_MIN: Final = 0x0001
LE_PSM_DYNAMIC_MIN: Final = 0x0080
LE_PSM_MAX: Final = 0x00FF
#: Credit counts are 16-bit; more than this is a credit overflow (Vol 3 Part A 4.24).
MAX_CREDITS: Final = 0xFFFF


class L2capError(Exception):
    """Base of the L2CAP errors raised to callers or handed to result callbacks."""


class L2capLocalError(L2capError):
    """The caller misused the L2CAP API (unknown handle, channel not open, bad parameter)."""


# ---------------------------------------------------------------------------------------
# Types shared with host.l2cap (kept here so that each module stays short)
# ---------------------------------------------------------------------------------------

_NS_PER_S: Final = 1_000_000_000


@dataclasses.dataclass(frozen=True)
class ConnectionParameters:
    """Connection parameters of L2CAP_CONNECTION_PARAMETER_UPDATE_REQ (Vol 3 Part A 4.20):
    intervals in 1.25 ms units, latency in connection events, timeout in 10 ms units."""

    interval_min: int
    interval_max: int
    latency: int
    timeout: int

    def problem(self) -> str | None:
        """Why these values are not acceptable (Vol 3 Part A 4.20 ranges and the
        supervision-timeout rule of Vol 6 Part B 4.5.2), else ``None``."""
        if not 6 <= self.interval_min <= 3200 or not 6 <= self.interval_max <= 3200:
            return "interval not in 6..3200 (7.5 ms..4 s)"
        if self.interval_min > self.interval_max:
            return "interval_min > interval_max"
        if not 0 <= self.latency <= 499:
            return "latency not in 0..499"
        if not 10 <= self.timeout <= 3200:
            return "timeout not in 10..3200 (100 ms..32 s)"
        # timeout * 10 ms > (1 + latency) * interval_max * 1.25 ms * 2
        if self.timeout * 4 <= (1 + self.latency) * self.interval_max:
            return "supervision timeout too short for interval_max and latency"
        return None


@dataclasses.dataclass(frozen=True)
class L2capConfig:
    """Knobs of the L2CAP entity."""

    #: RTX: how long a signalling request waits for its response (Vol 3 Part A 6.2.1: 1-60 s).
    rtx_timeout_ns: int = 30 * _NS_PER_S
    #: Our MTUsig on the LE signalling channel (Vol 3 Part A 4: 23 on LE).
    signalling_mtu: int = L2CAP_LE_MIN_MTU
    #: Default credit return of new channels: automatic, or explicit ``give_credits``.
    auto_credits: bool = True
    #: Credit-based channels per connection (at most the 64 dynamic CIDs).
    max_channels_per_connection: int = L2CAP_LE_DYNAMIC_CID_MAX - L2CAP_LE_DYNAMIC_CID_MIN + 1

    def __post_init__(self) -> None:
        if not _NS_PER_S <= self.rtx_timeout_ns <= 60 * _NS_PER_S:
            raise L2capLocalError(f"rtx_timeout_ns {self.rtx_timeout_ns} is not within 1 s..60 s")
        if self.signalling_mtu < L2CAP_LE_MIN_MTU:
            raise L2capLocalError(f"signalling_mtu {self.signalling_mtu} is below 23")
        if not 0 <= self.max_channels_per_connection <= 64:
            raise L2capLocalError("max_channels_per_connection is not within 0..64")


@dataclasses.dataclass
class L2capStats:
    """Counters of what the entity dropped or refused (never raised)."""

    unknown_handle: int = 0
    malformed_frames: int = 0
    unknown_cid: int = 0
    kframes_dropped: int = 0
    commands_rejected: int = 0  # Command Rejects we sent
    rejects_received: int = 0
    unexpected_responses: int = 0
    signalling_ignored: int = 0


class RequestFailure(enum.Enum):
    """Why a signalling request got no usable response."""

    TIMEOUT = "timeout"
    COMMAND_REJECTED = "command_rejected"
    LINK_LOST = "link_lost"


class L2capRequestFailed(L2capError):
    """Handed (not raised) to a request's ``on_result`` when it got no response."""

    def __init__(self, reason: RequestFailure, detail: str = "") -> None:
        self.reason = reason
        super().__init__(f"L2CAP request failed: {reason.value}{': ' + detail if detail else ''}")


# ---------------------------------------------------------------------------------------
# Credit-based channels
# ---------------------------------------------------------------------------------------


class ChannelState(enum.Enum):
    """States of an LE credit-based channel endpoint."""

    CONNECTING = "connecting"  # our L2CAP_LE_CREDIT_BASED_CONNECTION_REQ is outstanding
    ACCEPTING = "accepting"  # the peer's request is with the application (on_accept)
    OPEN = "open"
    DISCONNECTING = "disconnecting"  # our L2CAP_DISCONNECTION_REQ is outstanding
    CLOSED = "closed"


class ChannelInput(enum.Enum):
    """Inputs of the channel state machine: API calls, received signalling, time."""

    SEND = "send"
    GIVE_CREDITS = "give_credits"
    DISCONNECT = "disconnect"
    ACCEPT = "accept"
    REFUSE = "refuse"
    RX_CONNECTION_RSP_OK = "rx_connection_rsp_ok"
    RX_CONNECTION_RSP_REFUSED = "rx_connection_rsp_refused"
    RX_KFRAME = "rx_kframe"
    RX_CREDIT_IND = "rx_credit_ind"
    RX_DISCONNECTION_REQ = "rx_disconnection_req"
    RX_DISCONNECTION_RSP = "rx_disconnection_rsp"
    TIMEOUT = "timeout"
    LINK_LOST = "link_lost"
    PROTOCOL_ERROR = "protocol_error"


class Verdict(enum.Enum):
    """What the state machine says about an input in a state."""

    GO = "go"  # allowed: perform the action, move to the next state
    DEFER = "defer"  # disconnect while connecting: done once the response arrives
    NOOP = "noop"  # an API call that has nothing left to do (idempotent)
    LOCAL_ERROR = "local_error"  # an API call not allowed now: L2capLocalError
    IGNORE = "ignore"  # a remote/internal input not valid now: dropped and counted
    REJECT_CID = "reject_cid"  # disconnection request for no open channel: Command Reject


class ChannelCloseReason(enum.Enum):
    """Why a channel reached CLOSED (passed to ``on_close``)."""

    LOCAL_DISCONNECT = "local_disconnect"
    REMOTE_DISCONNECT = "remote_disconnect"
    REFUSED = "refused"  # the peer answered with a refusal result (see ``result``)
    COMMAND_REJECTED = "command_rejected"  # the peer answered L2CAP_COMMAND_REJECT_RSP
    TIMEOUT = "timeout"  # RTX expired (Vol 3 Part A 6.2.1)
    LINK_LOST = "link_lost"
    PROTOCOL_ERROR = "protocol_error"  # credit overflow, K-frame without credit, ...


_S = ChannelState
_I = ChannelInput
_V = Verdict

#: ``(state, input) -> (verdict, next state)``; total over every pair.
CHANNEL_TRANSITIONS: Final[
    dict[tuple[ChannelState, ChannelInput], tuple[Verdict, ChannelState]]
] = {}


def _row(state: ChannelState, default: Verdict, **entries: tuple[Verdict, ChannelState]) -> None:
    for inp in ChannelInput:
        verdict = entries.get(inp.name)
        CHANNEL_TRANSITIONS[(state, inp)] = verdict if verdict is not None else (default, state)


_row(
    _S.CONNECTING,
    _V.IGNORE,
    SEND=(_V.LOCAL_ERROR, _S.CONNECTING),
    GIVE_CREDITS=(_V.LOCAL_ERROR, _S.CONNECTING),
    DISCONNECT=(_V.DEFER, _S.CONNECTING),
    RX_CONNECTION_RSP_OK=(_V.GO, _S.OPEN),
    RX_CONNECTION_RSP_REFUSED=(_V.GO, _S.CLOSED),
    RX_DISCONNECTION_REQ=(_V.REJECT_CID, _S.CONNECTING),
    TIMEOUT=(_V.GO, _S.CLOSED),
    LINK_LOST=(_V.GO, _S.CLOSED),
    PROTOCOL_ERROR=(_V.GO, _S.CLOSED),
)
_row(
    _S.ACCEPTING,
    _V.IGNORE,
    SEND=(_V.LOCAL_ERROR, _S.ACCEPTING),
    GIVE_CREDITS=(_V.LOCAL_ERROR, _S.ACCEPTING),
    DISCONNECT=(_V.LOCAL_ERROR, _S.ACCEPTING),
    ACCEPT=(_V.GO, _S.OPEN),
    REFUSE=(_V.GO, _S.CLOSED),
    RX_DISCONNECTION_REQ=(_V.REJECT_CID, _S.ACCEPTING),
    LINK_LOST=(_V.GO, _S.CLOSED),
)
_row(
    _S.OPEN,
    _V.IGNORE,
    SEND=(_V.GO, _S.OPEN),
    GIVE_CREDITS=(_V.GO, _S.OPEN),
    DISCONNECT=(_V.GO, _S.DISCONNECTING),
    RX_KFRAME=(_V.GO, _S.OPEN),
    RX_CREDIT_IND=(_V.GO, _S.OPEN),
    RX_DISCONNECTION_REQ=(_V.GO, _S.CLOSED),
    LINK_LOST=(_V.GO, _S.CLOSED),
    PROTOCOL_ERROR=(_V.GO, _S.DISCONNECTING),
)
_row(
    _S.DISCONNECTING,
    _V.IGNORE,
    SEND=(_V.LOCAL_ERROR, _S.DISCONNECTING),
    GIVE_CREDITS=(_V.NOOP, _S.DISCONNECTING),
    DISCONNECT=(_V.NOOP, _S.DISCONNECTING),
    RX_DISCONNECTION_REQ=(_V.GO, _S.CLOSED),
    RX_DISCONNECTION_RSP=(_V.GO, _S.CLOSED),
    TIMEOUT=(_V.GO, _S.CLOSED),
    LINK_LOST=(_V.GO, _S.CLOSED),
)
_row(
    _S.CLOSED,
    _V.IGNORE,
    SEND=(_V.LOCAL_ERROR, _S.CLOSED),
    GIVE_CREDITS=(_V.NOOP, _S.CLOSED),
    DISCONNECT=(_V.NOOP, _S.CLOSED),
    RX_DISCONNECTION_REQ=(_V.REJECT_CID, _S.CLOSED),
)


def channel_transition(state: ChannelState, inp: ChannelInput) -> tuple[Verdict, ChannelState]:
    """The table's answer for ``inp`` in ``state``."""
    return CHANNEL_TRANSITIONS[(state, inp)]


class ChannelOwner(Protocol):
    """What a channel needs from the L2CAP entity that owns it (host.l2cap.L2cap)."""

    def _send_kframe(self, channel: CreditBasedChannel, payload: bytes) -> None: ...

    def _send_credits(self, channel: CreditBasedChannel, credits: int) -> None: ...

    def _disconnect_channel(
        self, channel: CreditBasedChannel, reason: ChannelCloseReason, now: int
    ) -> None: ...

    def _kframe_dropped(self, channel: CreditBasedChannel) -> None: ...

    @property
    def now(self) -> int: ...


OnOpen = Callable[["CreditBasedChannel", int], None]
OnClose = Callable[["CreditBasedChannel", ChannelCloseReason, int], None]
OnSdu = Callable[["CreditBasedChannel", bytes, int], None]
OnSendReady = Callable[["CreditBasedChannel", int], None]


class CreditBasedChannel:
    """One endpoint of an LE credit-based connection-oriented channel (Vol 3 Part A 3.4).

    Made by :meth:`host.l2cap.L2cap.connect` (state CONNECTING) or for an incoming
    request (state ACCEPTING, handed to the listener's ``on_accept``). Callbacks, all
    optional and settable at any time: ``on_open(channel, now)``,
    ``on_close(channel, reason, now)``, ``on_sdu(channel, sdu, now)`` and
    ``on_send_ready(channel, now)``.
    """

    def __init__(
        self,
        owner: ChannelOwner,
        *,
        handle: int,
        psm: int,
        local_cid: int,
        mtu: int,
        mps: int,
        initial_credits: int,
        auto_credits: bool,
        state: ChannelState,
    ) -> None:
        self._owner = owner
        self.handle = handle
        self.psm = psm
        self.local_cid = local_cid
        #: Our receive MTU/MPS and the credits we granted at set-up.
        self.mtu = mtu
        self.mps = mps
        self.initial_credits = initial_credits
        self.auto_credits = auto_credits
        #: The peer's CID, MTU and MPS (known once the channel is set up).
        self.remote_cid: int | None = None
        self.peer_mtu = 0
        self.peer_mps = 0
        #: Credits we may still spend (K-frames we may send).
        self.credits = 0
        #: Credits the peer still holds (K-frames it may send us).
        self.peer_credits = initial_credits
        self.state = state
        self.close_reason: ChannelCloseReason | None = None
        #: The peer's refusal result when ``close_reason`` is REFUSED.
        self.result: int | None = None
        self.on_open: OnOpen | None = None
        self.on_close: OnClose | None = None
        self.on_sdu: OnSdu | None = None
        self.on_send_ready: OnSendReady | None = None
        self._tx: deque[bytes] = deque()
        self._rx_sdus: deque[bytes] = deque()
        self._reassembler = SduReassembler(mtu, mps)
        self._owed = 0
        self._stalled = False
        #: Set by disconnect() while CONNECTING: disconnect as soon as the channel opens.
        self.close_when_open = False
        #: Why the disconnection we started was started (reported on close).
        self.pending_close_reason = ChannelCloseReason.LOCAL_DISCONNECT

    def __repr__(self) -> str:
        return (
            f"CreditBasedChannel(handle=0x{self.handle:04X}, psm=0x{self.psm:04X}, "
            f"local_cid=0x{self.local_cid:04X}, remote_cid={self.remote_cid}, "
            f"state={self.state.name}, credits={self.credits}, peer_credits={self.peer_credits})"
        )

    # -- public API -------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.state is ChannelState.OPEN

    @property
    def stalled(self) -> bool:
        """True while K-frames wait for credits."""
        return bool(self._tx)

    @property
    def tx_pending(self) -> int:
        """K-frames queued and waiting for credits."""
        return len(self._tx)

    @property
    def credits_owed(self) -> int:
        """K-frames received (consumed) since credits were last returned to the peer."""
        return self._owed

    def send(self, sdu: bytes) -> bool:
        """Queue one SDU (at most the peer's MTU) and send what the credits allow.

        Returns ``True`` when the whole SDU left, ``False`` when the channel is now
        stalled; ``on_send_ready`` then fires once the queue has drained.
        """
        self._apply(ChannelInput.SEND)
        if len(sdu) > self.peer_mtu:
            raise L2capLocalError(
                f"SDU of {len(sdu)} octets exceeds the peer's MTU {self.peer_mtu}"
            )
        self._tx.extend(segment_sdu(bytes(sdu), self.peer_mps))
        self._drain(self._owner.now)
        if self._tx:
            self._stalled = True
            return False
        return True

    def give_credits(self, credits: int | None = None) -> int:
        """Grant the peer ``credits`` more K-frames (default: every consumed K-frame
        not yet returned) with L2CAP_FLOW_CONTROL_CREDIT_IND (Vol 3 Part A 4.24).
        Returns the number granted (0 sends nothing)."""
        verdict, _ = self._apply(ChannelInput.GIVE_CREDITS)
        if verdict is not Verdict.GO:
            return 0
        n = self._owed if credits is None else credits
        if n < 0:
            raise L2capLocalError(f"cannot give {n} credits")
        if self.peer_credits + n > MAX_CREDITS:
            raise L2capLocalError(
                f"giving {n} credits would leave the peer {self.peer_credits + n} > 65535"
            )
        if n == 0:
            return 0
        self.peer_credits += n
        self._owed = max(0, self._owed - n)
        self._owner._send_credits(self, n)
        return n

    def disconnect(self, now: int | None = None) -> None:
        """Disconnect the channel (L2CAP_DISCONNECTION_REQ, Vol 3 Part A 4.6).
        ``on_close`` fires when the peer answers or the RTX timer expires."""
        t = self._owner.now if now is None else now
        verdict, _ = channel_transition(self.state, ChannelInput.DISCONNECT)
        if verdict is Verdict.LOCAL_ERROR:
            raise L2capLocalError(f"cannot disconnect a channel in state {self.state.name}")
        if verdict is Verdict.DEFER:
            self.close_when_open = True
        elif verdict is Verdict.GO:
            self._owner._disconnect_channel(self, ChannelCloseReason.LOCAL_DISCONNECT, t)

    def take_sdus(self) -> list[bytes]:
        """SDUs received while ``on_sdu`` was not set, oldest first."""
        out = list(self._rx_sdus)
        self._rx_sdus.clear()
        return out

    # -- for the owner ------------------------------------------------------------------

    def _apply(self, inp: ChannelInput) -> tuple[Verdict, ChannelState]:
        """Look ``inp`` up; raise for a refused API call; move state on GO."""
        verdict, nxt = channel_transition(self.state, inp)
        if verdict is Verdict.LOCAL_ERROR:
            raise L2capLocalError(
                f"{inp.value} is not allowed on a channel in state {self.state.name}"
            )
        if verdict is Verdict.GO:
            self.state = nxt
        return verdict, nxt

    def _set_peer(self, remote_cid: int, peer_mtu: int, peer_mps: int, credits: int) -> None:
        self.remote_cid = remote_cid
        self.peer_mtu = peer_mtu
        self.peer_mps = peer_mps
        self.credits = credits

    def _opened(self, now: int) -> None:
        if self.on_open is not None:
            self.on_open(self, now)

    def _closed(self, reason: ChannelCloseReason, now: int) -> None:
        self.state = ChannelState.CLOSED
        self.close_reason = reason
        self._tx.clear()
        if self.on_close is not None:
            self.on_close(self, reason, now)

    def _start_disconnecting(self) -> None:
        self._tx.clear()
        self._stalled = False

    def _receive_kframe(self, payload: bytes, now: int) -> None:
        verdict, _ = self._apply(ChannelInput.RX_KFRAME)
        if verdict is not Verdict.GO:
            self._owner._kframe_dropped(self)
            return
        if self.peer_credits == 0:
            # Vol 3 Part A 10.1: a K-frame received with no credits -> disconnect.
            self._owner._disconnect_channel(self, ChannelCloseReason.PROTOCOL_ERROR, now)
            return
        self.peer_credits -= 1
        try:
            sdu = self._reassembler.feed(payload)
        except KFrameError:
            self._owner._disconnect_channel(self, ChannelCloseReason.PROTOCOL_ERROR, now)
            return
        self._owed += 1
        if sdu is not None:
            if self.on_sdu is not None:
                self.on_sdu(self, sdu, now)
            else:
                self._rx_sdus.append(sdu)
        if self.auto_credits and self.state is ChannelState.OPEN:
            self._auto_return()

    def _auto_return(self) -> None:
        if self._owed and self.peer_credits <= self.initial_credits // 2:
            n = min(self._owed, MAX_CREDITS - self.peer_credits)
            if n:
                self.give_credits(n)

    def _receive_credits(self, credits: int, now: int) -> None:
        verdict, _ = self._apply(ChannelInput.RX_CREDIT_IND)
        if verdict is not Verdict.GO:
            return
        if self.credits + credits > MAX_CREDITS:
            # Vol 3 Part A 4.24: a credit count above 65535 -> disconnect.
            self._owner._disconnect_channel(self, ChannelCloseReason.PROTOCOL_ERROR, now)
            return
        self.credits += credits
        self._drain(now)

    def _drain(self, now: int) -> None:
        while self._tx and self.credits > 0 and self.state is ChannelState.OPEN:
            payload = self._tx.popleft()
            self.credits -= 1
            self._owner._send_kframe(self, payload)
        if not self._tx and self._stalled and self.state is ChannelState.OPEN:
            self._stalled = False
            if self.on_send_ready is not None:
                self.on_send_ready(self, now)


def check_channel_parameters(mtu: int, mps: int, credits: int) -> str | None:
    """Why ``mtu``/``mps``/``credits`` are not valid for an LE credit-based channel
    (Vol 3 Part A 4.22: MTU 23..65535, MPS 23..65533, credits 0..65535), else ``None``."""
    if not 23 <= mtu <= 0xFFFF:
        return f"MTU {mtu} is not in 23..65535"
    if not 23 <= mps <= L2CAP_LE_MPS_MAX:
        return f"MPS {mps} is not in 23..65533"
    if not 0 <= credits <= MAX_CREDITS:
        return f"initial credits {credits} is not in 0..65535"
    return None


def check_psm(psm: int) -> None:
    """Raise :class:`L2capLocalError` for an LE_PSM outside 0x0001..0x00FF (4.22)."""
    if not LE_PSM_MIN <= psm <= LE_PSM_MAX:
        raise L2capLocalError(f"LE_PSM 0x{psm:04X} is not in 0x0001..0x00FF")


def admission_refusal(
    req: L2CAP_LE_CREDIT_BASED_CONNECTION_REQ, *, listening: bool, source_cid_in_use: bool
) -> LeCreditBasedConnectionResult | None:
    """The result refusing an incoming request before the application sees it, else
    ``None`` (Vol 3 Part A 4.22, 4.23): LE_PSM not in range or not listened on, source
    CID outside the dynamic range or already in use, MTU/MPS out of range."""
    r = LeCreditBasedConnectionResult
    if not LE_PSM_MIN <= req.le_psm <= LE_PSM_MAX or not listening:
        return r.CONNECTION_REFUSED_SPSM_NOT_SUPPORTED
    if not L2CAP_LE_DYNAMIC_CID_MIN <= req.source_cid <= L2CAP_LE_DYNAMIC_CID_MAX:
        return r.CONNECTION_REFUSED_INVALID_SOURCE_CID
    if source_cid_in_use:
        return r.CONNECTION_REFUSED_SOURCE_CID_ALREADY_ALLOCATED
    if check_channel_parameters(req.mtu, req.mps, req.initial_credits) is not None:
        return r.CONNECTION_REFUSED_UNACCEPTABLE_PARAMETERS
    return None


#: ``on_accept(channel, now)``: ``None``/``True``/``0`` accepts; ``False`` refuses with
#: "no resources available"; a :class:`LeCreditBasedConnectionResult` refuses with it.
OnAccept = Callable[[CreditBasedChannel, int], bool | int | None]

#: Refusal results an ``on_accept`` callback may return (Vol 3 Part A 4.23, Table 4.16).
_REFUSALS: Final = frozenset(LeCreditBasedConnectionResult) - {
    LeCreditBasedConnectionResult.CONNECTION_SUCCESSFUL
}


def accept_answer_result(answer: bool | int | None) -> LeCreditBasedConnectionResult:
    """Map an ``on_accept`` answer to the response's result (see :data:`OnAccept`);
    an integer that is not a refusal code refuses with "no resources available"."""
    if answer is None or answer is True or (answer is not False and answer == 0):
        return LeCreditBasedConnectionResult.CONNECTION_SUCCESSFUL
    if answer is not False and answer in _REFUSALS:
        return LeCreditBasedConnectionResult(answer)
    return LeCreditBasedConnectionResult.CONNECTION_REFUSED_NO_RESOURCES_AVAILABLE
