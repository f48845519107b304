"""The ATT bearer: one per connection, both the client and the server side of ATT.

Theory of operation
-------------------
An :class:`AttBearer` sits on the ATT fixed channel (CID 0x0004) of one LE connection
(Core Specification Vol 3 Part F 3.2.11). It is sans-IO: PDUs arrive through
:meth:`AttBearer.receive` with the current time, PDUs leave through the ``send`` callable
given at construction, and :meth:`AttBearer.get_timer` / :meth:`AttBearer.handle_timer`
carry the 30 s transaction timeout (Vol 3 Part F 3.3.3).

Client side (our requests). :meth:`AttBearer.request` queues a request; at most one is
on the air at a time (Vol 3 Part F 3.3.2), the next leaves when the response (or an
ATT_ERROR_RSP naming the request opcode) arrives. The callback gets the decoded response
PDU or an :class:`AttError`. A response nobody waits for, or of the wrong opcode, is
ignored and reported to ``on_protocol_violation``. A malformed response to the
outstanding request completes it with ``AttError(INVALID_PDU)``.

Server side (the peer's requests). Requests go to the :class:`~host.gatt_server.GattServer`
given at construction, which answers at once or defers (an application hook returning a
:class:`~host.gatt_db.Deferred`). While an answer is deferred the peer has a request
outstanding: a second request then breaks the sequential protocol (Vol 3 Part F 3.3.2);
the spec gives the server no response for it, so this bearer **ignores** it (no answer;
the peer's own transaction timer will fire) and reports it to ``on_protocol_violation``.
Malformed requests get ATT_ERROR_RSP(INVALID_PDU); unknown opcodes without the Command
Flag get REQUEST_NOT_SUPPORTED; commands (Command Flag set) are never answered, known or
unknown, valid or not (Vol 3 Part F 3.3, 3.4.1.1). A request longer than ATT_MTU gets
INVALID_PDU; any other PDU longer than ATT_MTU is dropped.

"Sent" signal. :meth:`AttBearer.notify`, :meth:`AttBearer.send_command` and
:meth:`AttBearer.write_without_response` take an optional ``on_sent(now)``: the PDU
leaves as a :class:`~host.hci.MarkedPdu` and the HCI driver calls it once the controller
completed every ACL fragment of it (Number_Of_Completed_Packets), the moment a SoftDevice
reports BLE_GATTS_EVT_HVN_TX_COMPLETE / BLE_GATTC_EVT_WRITE_CMD_TX_COMPLETE. It is never
called if the link closes first, or if the PDU was not sent (the call returned False).
The ``send`` callable must hand the PDU object on unchanged for the marker to arrive.

Server-initiated PDUs: notifications go out at once (value cut to ATT_MTU-3); one
indication at a time is outstanding until its ATT_HANDLE_VALUE_CFM, further ones wait in
a queue (Vol 3 Part F 3.4.7.2). A confirmation with no indication outstanding is ignored.
Incoming notifications and indications are handed to ``on_notification`` /
``on_indication`` (set by :class:`~host.gatt_client.GattClient`); an indication is then
confirmed automatically.

MTU. ATT_MTU starts at 23 and becomes ``max(23, min(local_mtu, peer Rx MTU))`` after an
exchange in either direction (Vol 3 Part F 3.4.2). Our client exchanges at most once
(:meth:`AttBearer.exchange_mtu`; a second call is an :class:`AttLocalError`); a repeated
request from the peer is still answered but no longer changes ATT_MTU. ``local_mtu``
must lie in 23..527; the Client Rx MTU our ATT_EXCHANGE_MTU_REQ offers (``mtu=`` of
:meth:`AttBearer.exchange_mtu`, default ``local_mtu``) becomes ``local_mtu``, so both
directions of the exchange use the same value.

Cost. Every PDU crosses this class, so the hottest ones (Read, Write and their
responses, Write Command, notifications, indications and confirmations) are decoded
and encoded here directly, with the same checks as the generic codecs of
:mod:`host.att_pdu` (which handle everything else, and every malformed case).

Timeout. A request without response, or an indication without confirmation, for
``transaction_timeout_ns`` (30 s) ends ATT on this bearer (Vol 3 Part F 3.3.3): every
waiting callback gets :class:`AttTimeoutError`, nothing more is sent or received, new
requests fail at once with the same error, and ``on_timeout`` tells the host (which
normally disconnects). :meth:`AttBearer.close` (disconnection) fails what is pending
with :class:`AttBearerClosedError`.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Final

from host.att_pdu import (
    ATT_DEFAULT_LE_MTU,
    ATT_ERROR_RSP,
    ATT_EXCHANGE_MTU_REQ,
    ATT_EXCHANGE_MTU_RSP,
    ATT_HANDLE_VALUE_CFM,
    ATT_HANDLE_VALUE_IND,
    ATT_HANDLE_VALUE_NTF,
    ATT_MULTIPLE_HANDLE_VALUE_NTF,
    ATT_READ_REQ,
    ATT_READ_RSP,
    ATT_WRITE_CMD,
    ATT_WRITE_REQ,
    ATT_WRITE_RSP,
    AttDecodeError,
    AttErrorCode,
    AttMethodType,
    AttPdu,
    HandleLengthValue,
    UnknownAttOpcode,
    decode_att_pdu,
    is_command,
    is_request,
    is_response,
    method_type,
    response_opcode,
)
from host.hci import OnSent, with_sent_marker

if TYPE_CHECKING:  # pragma: no cover - import only for the type checker (avoids a cycle)
    from host.gatt_server import GattServer

__all__ = [
    "ATT_MAX_MTU",
    "ATT_TRANSACTION_TIMEOUT_NS",
    "AttBearer",
    "AttBearerClosedError",
    "AttError",
    "AttLocalError",
    "AttTimeoutError",
    "BearerState",
    "OnSent",
    "NO_SECURITY",
    "SecurityInfo",
    "decode_pdu",
]

#: Largest ATT_MTU this stack accepts for ``local_mtu``: the core sets no limit, and 527 is
#: the largest the modelled stacks offer (NimBLE's BLE_ATT_MTU_MAX; 517 fits a 512-octet value).
ATT_MAX_MTU: Final = 527
#: ATT transaction timeout (Vol 3 Part F 3.3.3), in nanoseconds.
ATT_TRANSACTION_TIMEOUT_NS: Final = 30_000_000_000


# ---------------------------------------------------------------------------------------
# Errors and security information
# ---------------------------------------------------------------------------------------


class AttLocalError(Exception):
    """Caller misuse of the ATT/GATT API (bad MTU, value too long, no such handle...)."""


class AttError(Exception):
    """An ATT error: the result of a failed request (Vol 3 Part F 3.4.1.1).

    ``code`` is an :class:`~host.att_pdu.AttErrorCode` (or an application code
    0x80-0x9F), ``handle`` the Attribute Handle In Error, ``opcode`` the request that
    failed (``None`` when unknown). Application hooks raise it to deny an access.
    Subclasses with ``code == 0`` are local failures that carry no ATT error code
    (:class:`AttTimeoutError`, :class:`AttBearerClosedError`).
    """

    def __init__(
        self, code: int, handle: int = 0, opcode: int | None = None, message: str = ""
    ) -> None:
        self.code = code
        self.handle = handle
        self.opcode = opcode
        name = AttErrorCode(code).name if code in AttErrorCode._value2member_map_ else f"0x{code:02X}"
        text = message or f"ATT error {name} on handle 0x{handle:04X}"
        if opcode is not None and not message:
            text += f" (request 0x{opcode:02X})"
        super().__init__(text)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AttError):
            return NotImplemented
        return (type(self), self.code, self.handle) == (type(other), other.code, other.handle)

    def __hash__(self) -> int:
        return hash((type(self), self.code, self.handle))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code=0x{self.code:02X}, handle=0x{self.handle:04X})"


class AttTimeoutError(AttError):
    """The ATT transaction timed out (Vol 3 Part F 3.3.3); the bearer is unusable."""

    def __init__(self, opcode: int | None = None) -> None:
        super().__init__(0, 0, opcode, "ATT transaction timeout: no more ATT on this bearer")


class AttBearerClosedError(AttError):
    """The bearer closed (disconnection) before the operation completed."""

    def __init__(self, opcode: int | None = None) -> None:
        super().__init__(0, 0, opcode, "ATT bearer closed")


@dataclass(frozen=True)
class SecurityInfo:
    """Security state of a connection, as seen by attribute permission checks.

    ``bonded`` (an LTK exists for the peer) only chooses between Insufficient Encryption
    and Insufficient Authentication on an unencrypted link (Vol 3 Part C 10.3.1).
    """

    encrypted: bool = False
    authenticated: bool = False
    key_size: int = 0
    authorized: bool = False
    bonded: bool = False


#: The security of a fresh, unencrypted connection.
NO_SECURITY: Final = SecurityInfo()


# ---------------------------------------------------------------------------------------
# Fast paths for the hottest PDUs
# ---------------------------------------------------------------------------------------

_READ_REQ_OPCODE: Final = bytes((ATT_READ_REQ.opcode,))
_NTF_OPCODE: Final = bytes((ATT_HANDLE_VALUE_NTF.opcode,))
_IND_OPCODE: Final = bytes((ATT_HANDLE_VALUE_IND.opcode,))
_CFM: Final = ATT_HANDLE_VALUE_CFM()
_CFM_BYTES: Final = _CFM.to_bytes()
_WRITE_RSP: Final = ATT_WRITE_RSP()


def _u16(value: int) -> bytes:
    if not 0 <= value <= 0xFFFF:
        raise AttLocalError(f"attribute handle {value} does not fit in two octets")
    return value.to_bytes(2, "little")


def _encode(pdu: AttPdu) -> bytes:
    """``pdu.to_bytes()``, directly for the hottest PDUs we send."""
    if isinstance(pdu, ATT_READ_REQ):
        return _READ_REQ_OPCODE + _u16(pdu.attribute_handle)
    if isinstance(pdu, (ATT_WRITE_CMD, ATT_WRITE_REQ)):
        return bytes((pdu.opcode,)) + _u16(pdu.attribute_handle) + pdu.attribute_value
    return pdu.to_bytes()


_HandleValuePdu = type[ATT_WRITE_REQ | ATT_WRITE_CMD | ATT_HANDLE_VALUE_NTF | ATT_HANDLE_VALUE_IND]


def _handle_and_value(cls: _HandleValuePdu) -> Callable[[bytes], AttPdu | None]:
    """Decoder of an opcode || Attribute Handle || Attribute Value PDU."""

    def decode(data: bytes) -> AttPdu | None:
        return cls(data[1] | data[2] << 8, data[3:]) if len(data) >= 3 else None

    return decode


#: Opcode -> decoder giving the PDU, or ``None`` to leave the PDU to the generic codec.
_FAST_DECODERS: Final[dict[int, Callable[[bytes], AttPdu | None]]] = {
    ATT_READ_REQ.opcode: lambda d: ATT_READ_REQ(d[1] | d[2] << 8) if len(d) == 3 else None,
    ATT_READ_RSP.opcode: lambda d: ATT_READ_RSP(d[1:]),
    ATT_WRITE_REQ.opcode: _handle_and_value(ATT_WRITE_REQ),
    ATT_WRITE_RSP.opcode: lambda d: _WRITE_RSP if len(d) == 1 else None,
    ATT_WRITE_CMD.opcode: _handle_and_value(ATT_WRITE_CMD),
    ATT_HANDLE_VALUE_NTF.opcode: _handle_and_value(ATT_HANDLE_VALUE_NTF),
    ATT_HANDLE_VALUE_IND.opcode: _handle_and_value(ATT_HANDLE_VALUE_IND),
    ATT_HANDLE_VALUE_CFM.opcode: lambda d: _CFM if len(d) == 1 else None,
}

#: Per opcode: handled as a request (a request, or an unknown opcode without the
#: Command Flag, Vol 3 Part F 3.4.1.1).
_REQUEST_LIKE: Final = tuple(
    is_request(op) or (method_type(op) is None and not is_command(op)) for op in range(256)
)


def decode_pdu(data: bytes | bytearray | memoryview) -> AttPdu:
    """:func:`~host.att_pdu.decode_att_pdu` with the bearer's fast paths: the same
    result and the same errors, sooner for the hottest PDUs."""
    data = bytes(data)
    if data:
        fast = _FAST_DECODERS.get(data[0])
        if fast is not None:
            decoded = fast(data)
            if decoded is not None:
                return decoded
    return decode_att_pdu(data)


# ---------------------------------------------------------------------------------------
# The bearer
# ---------------------------------------------------------------------------------------


def _check_local_mtu(mtu: int) -> None:
    if not ATT_DEFAULT_LE_MTU <= mtu <= ATT_MAX_MTU:
        raise AttLocalError(f"local_mtu {mtu} is outside {ATT_DEFAULT_LE_MTU}..{ATT_MAX_MTU}")


class BearerState(enum.Enum):
    """OPEN -> TIMED_OUT (transaction timeout) or CLOSED (close()); both are final.

    ``(state, input)``: OPEN accepts everything; TIMED_OUT and CLOSED drop received PDUs,
    send nothing, and fail new requests and indications at once.
    """

    OPEN = "open"
    TIMED_OUT = "timed_out"
    CLOSED = "closed"


ResponseCallback = Callable[[AttPdu | AttError, int], None]
IndicationDone = Callable[[AttError | None, int], None]


@dataclass
class _Request:
    pdu: AttPdu
    data: bytes  # the encoded PDU
    on_response: ResponseCallback
    sent_at: int = 0


@dataclass
class _Indication:
    handle: int
    value: bytes
    on_done: IndicationDone | None
    sent_at: int = 0


class AttBearer:
    """ATT on one connection (Vol 3 Part F): see the module docstring.

    ``handle`` is the HCI connection handle; ``send`` takes a whole ATT PDU (the L2CAP
    payload of CID 0x0004); ``server`` answers the peer's requests.
    """

    def __init__(
        self,
        handle: int,
        send: Callable[[bytes], None],
        server: GattServer,
        *,
        local_mtu: int = 247,
        transaction_timeout_ns: int = ATT_TRANSACTION_TIMEOUT_NS,
        on_mtu_changed: Callable[[int, int], None] | None = None,
        on_mtu_exchanged: Callable[[int, int], None] | None = None,
        on_timeout: Callable[[int], None] | None = None,
        on_protocol_violation: Callable[[str, int], None] | None = None,
    ) -> None:
        _check_local_mtu(local_mtu)
        if transaction_timeout_ns <= 0:
            raise AttLocalError("transaction_timeout_ns must be positive")
        self.handle = handle
        self.local_mtu = local_mtu
        self.transaction_timeout_ns = transaction_timeout_ns
        self.server = server
        #: ``(mtu, now)`` after ATT_MTU changed.
        self.on_mtu_changed = on_mtu_changed
        #: ``(mtu, now)`` after every completed MTU exchange, changed or not (the server
        #: once it answered the request, the client on the response).
        self.on_mtu_exchanged = on_mtu_exchanged
        #: ``(now)`` once after the transaction timeout.
        self.on_timeout = on_timeout
        #: ``(description, now)`` for peer behaviour this bearer ignored.
        self.on_protocol_violation = on_protocol_violation
        #: ``(attribute_handle, value, now)`` for each received notification.
        self.on_notification: Callable[[int, bytes, int], None] | None = None
        #: ``(attribute_handle, value, now)`` for each received indication (then confirmed).
        self.on_indication: Callable[[int, bytes, int], None] | None = None
        self._send = send
        self._mtu = ATT_DEFAULT_LE_MTU
        self._state = BearerState.OPEN
        self._client_mtu_requested = False
        self._server_mtu_answered = False
        self._outstanding: _Request | None = None
        self._queue: deque[_Request] = deque()
        self._server_pending: int | None = None
        self._indication: _Indication | None = None
        self._indications: deque[_Indication] = deque()
        server.attach(self)

    # -- properties -----------------------------------------------------------------------

    @property
    def mtu(self) -> int:
        """The current ATT_MTU."""
        return self._mtu

    @property
    def state(self) -> BearerState:
        return self._state

    @property
    def is_open(self) -> bool:
        return self._state is BearerState.OPEN

    @property
    def mtu_exchange_requested(self) -> bool:
        """True once our client has sent (or queued) ATT_EXCHANGE_MTU_REQ."""
        return self._client_mtu_requested

    @property
    def request_outstanding(self) -> bool:
        """True while one of our requests waits for its response."""
        return self._outstanding is not None

    @property
    def indication_outstanding(self) -> bool:
        """True while one of our indications waits for its confirmation."""
        return self._indication is not None

    @property
    def server_response_pending(self) -> bool:
        """True while the peer's request waits for a deferred answer of ours."""
        return self._server_pending is not None

    # -- timer ----------------------------------------------------------------------------

    def get_timer(self) -> int | None:
        """The earliest transaction deadline, or ``None``."""
        if self._state is not BearerState.OPEN:
            return None
        deadlines = []
        if self._outstanding is not None:
            deadlines.append(self._outstanding.sent_at + self.transaction_timeout_ns)
        if self._indication is not None:
            deadlines.append(self._indication.sent_at + self.transaction_timeout_ns)
        return min(deadlines) if deadlines else None

    def handle_timer(self, now: int) -> None:
        """Fire the transaction timeout if its deadline has passed (Vol 3 Part F 3.3.3)."""
        deadline = self.get_timer()
        if deadline is None or now < deadline:
            return
        opcode = self._outstanding.pdu.opcode if self._outstanding is not None else None
        self._shut(BearerState.TIMED_OUT, lambda: AttTimeoutError(opcode), now)
        if self.on_timeout is not None:
            self.on_timeout(now)

    def close(self, now: int) -> None:
        """The connection is gone: fail what is pending and detach from the server."""
        if self._state is BearerState.CLOSED:
            return
        self._shut(BearerState.CLOSED, AttBearerClosedError, now)
        self.server.detach(self)

    def _shut(self, state: BearerState, make_error: Callable[[], AttError], now: int) -> None:
        self._state = state
        requests = ([self._outstanding] if self._outstanding else []) + list(self._queue)
        indications = ([self._indication] if self._indication else []) + list(self._indications)
        self._outstanding = None
        self._queue.clear()
        self._indication = None
        self._indications.clear()
        self._server_pending = None
        for req in requests:
            req.on_response(make_error(), now)
        for ind in indications:
            if ind.on_done is not None:
                ind.on_done(make_error(), now)

    # -- client side: requests -------------------------------------------------------------

    def request(self, pdu: AttPdu, now: int, on_response: ResponseCallback) -> None:
        """Queue a request; ``on_response(response, now)`` gets the response PDU or an
        :class:`AttError`.

        Raises :class:`AttLocalError` if ``pdu`` is not a request, does not fit ATT_MTU,
        or is a second ATT_EXCHANGE_MTU_REQ. On a timed-out or closed bearer the callback
        gets the error at once. An ATT_EXCHANGE_MTU_RSP updates ATT_MTU before the
        callback runs.
        """
        if not is_request(pdu.opcode):
            raise AttLocalError(f"{type(pdu).__name__} is not an ATT request")
        data = _encode(pdu)
        self._check_fits(data)
        if isinstance(pdu, ATT_EXCHANGE_MTU_REQ):
            if self._client_mtu_requested:
                raise AttLocalError("the client exchanges the MTU only once per connection")
            _check_local_mtu(pdu.client_rx_mtu)
            self._client_mtu_requested = True
            self.local_mtu = pdu.client_rx_mtu
        if self._fail_if_unusable(on_response, pdu.opcode, now):
            return
        self._queue.append(_Request(pdu, data, on_response))
        self._pump(now)

    def exchange_mtu(
        self, now: int, on_done: Callable[[int | AttError, int], None], *, mtu: int | None = None
    ) -> None:
        """Exchange MTU once (Vol 3 Part F 3.4.2.1), offering ``mtu`` (default
        ``local_mtu``, 23..527): ``on_done(new ATT_MTU | AttError, now)``."""

        def done(rsp: AttPdu | AttError, when: int) -> None:
            on_done(rsp if isinstance(rsp, AttError) else self._mtu, when)

        self.request(ATT_EXCHANGE_MTU_REQ(self.local_mtu if mtu is None else mtu), now, done)

    def send_command(self, pdu: AttPdu, on_sent: OnSent | None = None) -> bool:
        """Send a command (Write Command, Signed Write Command); never answered.

        Returns False (nothing sent) on a timed-out or closed bearer. ``on_sent(now)``:
        see the module docstring ("Sent" signal).
        """
        if method_type(pdu.opcode) is not AttMethodType.COMMAND:
            raise AttLocalError(f"{type(pdu).__name__} is not an ATT command")
        data = _encode(pdu)
        self._check_fits(data)
        if self._state is not BearerState.OPEN:
            return False
        self._send(with_sent_marker(data, on_sent))
        return True

    def write_without_response(
        self, attribute_handle: int, value: bytes, on_sent: OnSent | None = None
    ) -> bool:
        """Send ATT_WRITE_CMD (Vol 3 Part F 3.4.5.3); :class:`AttLocalError` if it does
        not fit ATT_MTU. False (nothing sent) on a timed-out or closed bearer;
        ``on_sent(now)`` once the controller completed it."""
        return self.send_command(ATT_WRITE_CMD(attribute_handle, bytes(value)), on_sent)

    def _check_fits(self, data: bytes) -> None:
        if len(data) > self._mtu:
            raise AttLocalError(f"a {len(data)}-octet PDU does not fit ATT_MTU {self._mtu}")

    def _fail_if_unusable(self, callback: ResponseCallback, opcode: int, now: int) -> bool:
        if self._state is BearerState.TIMED_OUT:
            callback(AttTimeoutError(opcode), now)
            return True
        if self._state is BearerState.CLOSED:
            callback(AttBearerClosedError(opcode), now)
            return True
        return False

    def _pump(self, now: int) -> None:
        if self._outstanding is not None or not self._queue or self._state is not BearerState.OPEN:
            return
        req = self._queue.popleft()
        req.sent_at = now
        self._outstanding = req
        self._send(req.data)

    def _complete(self, result: AttPdu | AttError, now: int) -> None:
        req = self._outstanding
        assert req is not None
        self._outstanding = None
        if isinstance(result, ATT_EXCHANGE_MTU_RSP):
            self._set_mtu(result.server_rx_mtu, now)
            self._mtu_exchanged(now)
        req.on_response(result, now)
        self._pump(now)

    def _set_mtu(self, peer_rx_mtu: int, now: int) -> None:
        # A peer Rx MTU below 23 leaves ATT_MTU at the default (Vol 3 Part F 3.4.2.2).
        new = max(ATT_DEFAULT_LE_MTU, min(self.local_mtu, peer_rx_mtu))
        if new != self._mtu:
            self._mtu = new
            if self.on_mtu_changed is not None:
                self.on_mtu_changed(new, now)

    def _mtu_exchanged(self, now: int) -> None:
        if self.on_mtu_exchanged is not None:
            self.on_mtu_exchanged(self._mtu, now)

    # -- server side: notifications and indications -------------------------------------

    def notify(self, attribute_handle: int, value: bytes, on_sent: OnSent | None = None) -> bool:
        """Send ATT_HANDLE_VALUE_NTF, value cut to ATT_MTU-3 (Vol 3 Part F 3.4.7.1).

        Returns False (nothing sent) on a timed-out or closed bearer. ``on_sent(now)``
        once the controller completed it (module docstring, "Sent" signal).
        """
        if self._state is not BearerState.OPEN:
            return False
        # ATT_HANDLE_VALUE_NTF, encoded directly (the hottest server PDU).
        data = _NTF_OPCODE + _u16(attribute_handle) + bytes(value[: self._mtu - 3])
        self._send(with_sent_marker(data, on_sent))
        return True

    def notify_multiple(self, values: list[tuple[int, bytes]]) -> bool:
        """Send ATT_MULTIPLE_HANDLE_VALUE_NTF (Vol 3 Part F 3.4.7.4) with two or more
        whole values; :class:`AttLocalError` if they do not fit ATT_MTU-1 octets."""
        if len(values) < 2:
            raise AttLocalError("ATT_MULTIPLE_HANDLE_VALUE_NTF carries two or more values")
        pdu = ATT_MULTIPLE_HANDLE_VALUE_NTF(tuple(HandleLengthValue(h, bytes(v)) for h, v in values))
        data = pdu.to_bytes()
        self._check_fits(data)
        if self._state is not BearerState.OPEN:
            return False
        self._send(data)
        return True

    def indicate(
        self, attribute_handle: int, value: bytes, now: int, on_done: IndicationDone | None = None
    ) -> None:
        """Queue ATT_HANDLE_VALUE_IND (value cut to ATT_MTU-3, Vol 3 Part F 3.4.7.2).

        ``on_done(None, now)`` on confirmation, ``on_done(AttError, now)`` on timeout or
        close.
        """
        _u16(attribute_handle)
        if self._state is not BearerState.OPEN:
            if on_done is not None:
                closed = self._state is BearerState.CLOSED
                on_done(AttBearerClosedError() if closed else AttTimeoutError(), now)
            return
        self._indications.append(_Indication(attribute_handle, bytes(value), on_done))
        self._pump_indications(now)

    def _pump_indications(self, now: int) -> None:
        if self._indication is not None or not self._indications or self._state is not BearerState.OPEN:
            return
        ind = self._indications.popleft()
        ind.sent_at = now
        self._indication = ind
        # The value is cut to the ATT_MTU in force when it leaves, not when it was queued.
        self._send(_IND_OPCODE + _u16(ind.handle) + ind.value[: self._mtu - 3])

    # -- server side: deferred responses ------------------------------------------------

    def begin_deferred_response(self, request_opcode: int) -> None:
        """Called by the server when it answers the current request later."""
        self._server_pending = request_opcode

    def complete_deferred_response(self, response: bytes) -> None:
        """Send the deferred answer (a response or ATT_ERROR_RSP) to the peer's request."""
        if self._server_pending is None or self._state is not BearerState.OPEN:
            return
        self._server_pending = None
        self._send(response)

    # -- receiving ------------------------------------------------------------------------

    def _violation(self, what: str, now: int) -> None:
        if self.on_protocol_violation is not None:
            self.on_protocol_violation(what, now)

    def _error_rsp(self, opcode: int, handle: int, code: int) -> None:
        self._send(ATT_ERROR_RSP(opcode, handle, code).to_bytes())

    def receive(self, pdu: bytes, now: int) -> None:
        """One ATT PDU from the peer (the payload of an L2CAP frame on CID 0x0004)."""
        if self._state is not BearerState.OPEN:
            return
        data = bytes(pdu)
        if not data:
            self._violation("empty ATT PDU", now)
            return
        opcode = data[0]
        # An unknown opcode without the Command Flag is handled as a request (3.4.1.1).
        request_like = _REQUEST_LIKE[opcode]
        if request_like and self._server_pending is not None:
            self._violation(f"request 0x{opcode:02X} while a request is outstanding: ignored", now)
            return
        if len(data) > self._mtu:
            if request_like:
                self._error_rsp(opcode, 0, AttErrorCode.INVALID_PDU)
            self._violation(f"{len(data)}-octet PDU exceeds ATT_MTU {self._mtu}", now)
            return
        try:
            decoded = decode_pdu(data)
        except UnknownAttOpcode:
            if is_command(opcode):
                self._violation(f"unknown command 0x{opcode:02X} ignored", now)
            else:
                self._error_rsp(opcode, 0, AttErrorCode.REQUEST_NOT_SUPPORTED)
            return
        except AttDecodeError as exc:
            self._malformed(opcode, str(exc), now)
            return
        self._dispatch(decoded, now)

    def _malformed(self, opcode: int, reason: str, now: int) -> None:
        if is_request(opcode):
            self._error_rsp(opcode, 0, AttErrorCode.INVALID_PDU)
        elif is_response(opcode) and self._expects(opcode):
            assert self._outstanding is not None
            self._complete(
                AttError(AttErrorCode.INVALID_PDU, 0, self._outstanding.pdu.opcode, reason), now
            )
        else:
            self._violation(f"malformed PDU ignored: {reason}", now)

    def _expects(self, opcode: int) -> bool:
        """True if ``opcode`` answers our outstanding request."""
        if self._outstanding is None:
            return False
        return opcode in (response_opcode(self._outstanding.pdu.opcode), ATT_ERROR_RSP.opcode)

    def _dispatch(self, pdu: AttPdu, now: int) -> None:
        kind = method_type(pdu.opcode)
        if kind is AttMethodType.REQUEST:
            self._on_request(pdu, now)
        elif kind is AttMethodType.COMMAND:
            self.server.handle_command(self, pdu, now)
        elif kind is AttMethodType.RESPONSE:
            self._on_response(pdu, now)
        elif isinstance(pdu, ATT_HANDLE_VALUE_NTF):
            if self.on_notification is not None:
                self.on_notification(pdu.attribute_handle, pdu.attribute_value, now)
        elif isinstance(pdu, ATT_MULTIPLE_HANDLE_VALUE_NTF):
            for handle, value in pdu.handle_length_value_tuple_list:
                if self.on_notification is not None:
                    self.on_notification(handle, value, now)
        elif isinstance(pdu, ATT_HANDLE_VALUE_IND):
            if self.on_indication is not None:
                self.on_indication(pdu.attribute_handle, pdu.attribute_value, now)
            if self._state is BearerState.OPEN:
                self._send(_CFM_BYTES)
        elif isinstance(pdu, ATT_HANDLE_VALUE_CFM):
            self._on_confirmation(now)

    def _on_request(self, pdu: AttPdu, now: int) -> None:
        if isinstance(pdu, ATT_EXCHANGE_MTU_REQ):
            self._send(ATT_EXCHANGE_MTU_RSP(self.local_mtu).to_bytes())
            if self._server_mtu_answered:
                self._violation("second ATT_EXCHANGE_MTU_REQ: answered, ATT_MTU unchanged", now)
                return
            self._server_mtu_answered = True
            self._set_mtu(pdu.client_rx_mtu, now)
            self._mtu_exchanged(now)
            return
        response = self.server.handle_request(self, pdu, now)
        if response is not None:
            self._send(response)

    def _on_response(self, pdu: AttPdu, now: int) -> None:
        if not self._expects(pdu.opcode):
            self._violation(f"unexpected response 0x{pdu.opcode:02X} ignored", now)
            return
        assert self._outstanding is not None
        if isinstance(pdu, ATT_ERROR_RSP):
            if pdu.request_opcode_in_error != self._outstanding.pdu.opcode:
                self._violation("ATT_ERROR_RSP for another request ignored", now)
                return
            code, handle = pdu.error_code, pdu.attribute_handle_in_error
            self._complete(AttError(code, handle, pdu.request_opcode_in_error), now)
            return
        self._complete(pdu, now)

    def _on_confirmation(self, now: int) -> None:
        ind = self._indication
        if ind is None:
            self._violation("ATT_HANDLE_VALUE_CFM with no indication outstanding ignored", now)
            return
        self._indication = None
        if ind.on_done is not None:
            ind.on_done(None, now)
        self._pump_indications(now)
