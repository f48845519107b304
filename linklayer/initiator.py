"""Initiating: scanning for one advertiser and sending the connect request (Vol 6 Part B 4.4.4).

Theory of operation
-------------------
The :class:`Initiator` is a foreground activity of the scheduler (priority
``INITIATING``, deferrable): it listens in scan windows on the primary channels 37, 38,
39 in turn (and, with extended initiating on two PHYs, on LE 1M and LE Coded in turn),
cutting each listening stretch short of the next start of any higher-priority activity
(a connection event), which it learns from its host.

A connectable advertisement from the peer (initiator filter policy 0) or from a device
on the filter accept list (policy 1) is answered T_IFS after its end:

* legacy: ADV_IND or ADV_DIRECT_IND (whose TargetA must be us) gets a CONNECT_IND;
  the connection is created when the CONNECT_IND has been sent;
* extended: ADV_EXT_IND is followed through its AuxPtr to the AUX_ADV_IND on the
  secondary channel, which gets an AUX_CONNECT_REQ; the connection is created when the
  AUX_CONNECT_RSP from that advertiser arrives T_IFS later. Without one, initiating
  goes on.

A controller with a resolving list (:mod:`linklayer.ctrl_privacy`) also offers
``resolve_peer`` and ``privacy_blocks``: Peer_Address may then be an identity whose
advertiser uses resolvable private addresses.

The LLData of the request (access address, CRCInit, window, interval, hop, SCA) comes
from the host (:meth:`InitiatorHost.connect_request`) at the moment the request is built.
The states and the inputs each accepts are :data:`TRANSITIONS`; anything else is counted
in ``ignored``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from phy.airtime import airtime_ns
from phy.types import Phy
from phy.units import T_IFS, US

from .address import Address
from .connection_timing import T_IFS_TOLERANCE_NS
from .crypto import ADV_CRC_INIT, check_crc, crc24_bytes
from .pdu import (
    ADV_DIRECT_IND,
    ADV_IND,
    AUX_CONNECT_REQ,
    CONNECT_IND,
    AdvMode,
    AdvPduType,
    AuxPhy,
    ExtendedAdvPdu,
    PduDecodeError,
    PduFieldError,
    decode_adv_pdu,
)
from .radio import ADVERTISING_ACCESS_ADDRESS, RadioPacket, RadioRx, RadioTx
from .scheduler import GUARD_NS, Priority, Radio

PRIMARY_CHANNELS = (37, 38, 39)
#: Shortest listening stretch worth starting before a higher-priority activity.
MIN_LISTEN_NS = 1_000 * US
#: Margin around an AuxPtr instant (offset unit and clock accuracy).
AUX_MARGIN_NS = 10 * US


@dataclass(frozen=True)
class ConnRequest:
    """Connection parameters the host asked for (HCI units: 1.25 ms, events, 10 ms, 0.625 ms)."""

    interval_min: int
    interval_max: int
    latency: int
    timeout: int
    min_ce_length: int = 0
    max_ce_length: int = 0


@dataclass(frozen=True)
class InitiatorPhy:
    """Scanning on one primary PHY, and the parameters of a connection made there."""

    phy: Phy
    interval_ns: int
    window_ns: int
    request: ConnRequest


@dataclass(frozen=True)
class InitiatorConfig:
    """LE_Create_Connection / LE_Extended_Create_Connection, as the initiator needs it."""

    phys: tuple[InitiatorPhy, ...]
    own_address: Address
    filter_policy: int
    peer_address: Address | None
    extended: bool = False
    #: Parameters for a connection made through an AUX_ADV_IND on LE 2M.
    request_2m: ConnRequest | None = None


class InitiatorHost(Protocol):
    def filter_accepts(self, address: Address) -> bool: ...

    def is_own_address(self, address: Address) -> bool: ...

    def connect_request(self, init: Initiator, adv_a: Address, ch_sel: bool, request: ConnRequest,
                        aux: bool, phy: Phy, end_ns: int) -> CONNECT_IND:
        """The CONNECT_IND / AUX_CONNECT_REQ to send; ``end_ns`` is when it will end."""

    def initiator_connected(self, init: Initiator, pdu: CONNECT_IND, phy: Phy, ref_end_ns: int,
                            now: int) -> None:
        """The connection is created (CONNECT_IND sent, or AUX_CONNECT_RSP received)."""

    def foreground_horizon(self, activity: object) -> int | None:
        """The next start of an activity that outranks ``activity``."""


class State(enum.Enum):
    IDLE = "between listening stretches"
    LISTENING = "listening on a primary channel"
    RECEIVING = "receiving a primary packet"
    CONNECT_TX = "sending CONNECT_IND"
    AUX_WAIT = "waiting for the AUX_ADV_IND"
    AUX_LISTEN = "listening for the AUX_ADV_IND"
    AUX_RECEIVING = "receiving the AUX_ADV_IND"
    RSP_WAIT = "listening for AUX_CONNECT_RSP"
    RSP_RECEIVING = "receiving AUX_CONNECT_RSP"
    DONE = "done"


class Input(enum.Enum):
    BEGIN = "begin"
    TIMER = "timer"
    SYNCED = "synced"
    PACKET = "packet"
    LOST = "lost"


TRANSITIONS: frozenset[tuple[State, Input]] = frozenset({
    (State.IDLE, Input.BEGIN),
    (State.LISTENING, Input.TIMER),
    (State.LISTENING, Input.SYNCED),
    (State.RECEIVING, Input.PACKET),
    (State.RECEIVING, Input.LOST),
    (State.RECEIVING, Input.TIMER),
    (State.CONNECT_TX, Input.TIMER),
    (State.AUX_WAIT, Input.TIMER),
    (State.AUX_LISTEN, Input.TIMER),
    (State.AUX_LISTEN, Input.SYNCED),
    (State.AUX_RECEIVING, Input.PACKET),
    (State.AUX_RECEIVING, Input.LOST),
    (State.AUX_RECEIVING, Input.TIMER),
    (State.RSP_WAIT, Input.TIMER),
    (State.RSP_WAIT, Input.SYNCED),
    (State.RSP_RECEIVING, Input.PACKET),
    (State.RSP_RECEIVING, Input.LOST),
    (State.RSP_RECEIVING, Input.TIMER),
})


def _aux_phy(ptr_phy: AuxPhy) -> Phy:
    return {AuxPhy.LE_1M: Phy.LE_1M, AuxPhy.LE_2M: Phy.LE_2M}.get(ptr_phy, Phy.LE_CODED_S8)


class Initiator:
    """The initiating state of one controller; see the module docstring."""

    priority = Priority.INITIATING
    deferrable = True

    def __init__(self, config: InitiatorConfig, radio: Radio, host: InitiatorHost, now: int,
                 release: Callable[[object, int], None]) -> None:
        self.config = config
        self.radio = radio
        self.host = host
        self._release = release
        self.started_at = now
        self.state = State.IDLE
        self.ignored = 0
        self.requests_sent = 0
        self._next: int | None = now
        self._deadline: int | None = None
        self._stop = now
        self._window_end = now
        self._params = config.phys[0]
        self._channel = 37
        self._aux: tuple[int, int, int, Phy, Address | None] | None = None  # at, end, ch, phy, adv_a
        self._pending: CONNECT_IND | None = None
        self._req_phy = Phy.LE_1M
        self._req_end = 0

    # -- activity interface ----------------------------------------------------------
    def next_start(self) -> int | None:
        return self._next if self.state is State.IDLE else None

    def reservation_ns(self) -> int:
        start = self._next if self._next is not None else 0
        _, _, _, end = self._window_at(start)
        horizon = self.host.foreground_horizon(self)
        stop = end if horizon is None else min(end, horizon - GUARD_NS)
        if stop - start < MIN_LISTEN_NS:
            return max(end - start, MIN_LISTEN_NS)  # let the scheduler defer us past it
        return stop - start

    def deadline(self) -> int | None:
        return self._deadline

    def begin(self, now: int) -> None:
        if not self._accept(Input.BEGIN):
            return
        params, channel, start, end = self._window_at(now)
        if now < start or now >= end:
            self._next = start if now < start else self._window_at(end)[2]
            self._release(self, now)
            return
        horizon = self.host.foreground_horizon(self)
        stop = end if horizon is None else min(end, horizon - GUARD_NS)
        if stop - now < MIN_LISTEN_NS // 4:
            self._next = end if horizon is None or horizon >= end else horizon + GUARD_NS
            self._release(self, now)
            return
        self._params, self._channel, self._stop, self._window_end = params, channel, stop, end
        self._listen(now)

    def defer(self, now: int, until: int) -> None:
        self._next = until

    def skip(self, now: int) -> None:
        _, _, start, end = self._window_at(now)
        self._next = start if start > now else self._window_at(end)[2]

    def on_timer(self, now: int) -> None:
        if not self._accept(Input.TIMER):
            return
        self._deadline = None
        st = self.state
        if st is State.LISTENING:
            self._end_stretch(now)
        elif st is State.CONNECT_TX:
            self._connected(now, self._req_end)
        elif st is State.AUX_WAIT:
            assert self._aux is not None
            at, end, ch, phy, _ = self._aux
            self.radio.listen(self, RadioRx(max(now, at - AUX_MARGIN_NS), end, ch, phy, ADVERTISING_ACCESS_ADDRESS))
            self.state = State.AUX_LISTEN
            self._deadline = end + 1
        else:  # a window passed with nothing, or a packet never ended
            self.radio.idle(self)
            self._aux = None
            self._resume(now)

    def on_synced(self, now: int) -> None:
        if not self._accept(Input.SYNCED):
            return
        self.state = {State.LISTENING: State.RECEIVING, State.AUX_LISTEN: State.AUX_RECEIVING,
                      State.RSP_WAIT: State.RSP_RECEIVING}[self.state]
        self._deadline = None  # the packet ends in on_packet or on_lost

    def on_lost(self, now: int) -> None:
        if not self._accept(Input.LOST):
            return
        self._deadline = None
        self._aux = None
        self._resume(now)

    def on_packet(self, packet: RadioPacket, now: int) -> None:
        if not self._accept(Input.PACKET):
            return
        self._deadline = None
        st = self.state
        ok = check_crc(ADV_CRC_INIT, packet.pdu, packet.crc)
        if st is State.RECEIVING and ok:
            self._primary(packet, now)
        elif st is State.AUX_RECEIVING and ok:
            self._aux_adv(packet, now)
        elif st is State.RSP_RECEIVING and ok:
            self._aux_rsp(packet, now)
        if self.state in (State.RECEIVING, State.AUX_RECEIVING, State.RSP_RECEIVING):
            self._aux = None
            self._resume(now)

    # -- control ---------------------------------------------------------------------
    def stop(self) -> None:
        self.state = State.DONE
        self._next = None
        self._deadline = None
        self.radio.idle(self)

    # -- internals -------------------------------------------------------------------
    def _accept(self, inp: Input) -> bool:
        if (self.state, inp) in TRANSITIONS:
            return True
        self.ignored += 1
        return False

    def _window_at(self, t: int) -> tuple[InitiatorPhy, int, int, int]:
        """(params, channel, start, end) of the scan window at or after ``t``."""
        phys = self.config.phys
        interval = phys[0].interval_ns
        k = max(0, (t - self.started_at) // interval)
        start = self.started_at + k * interval
        params = phys[k % len(phys)]
        end = start + params.window_ns
        if t >= end:
            k += 1
            start += interval
            params = phys[k % len(phys)]
            end = start + params.window_ns
        channel = PRIMARY_CHANNELS[(k // len(phys)) % 3]
        return params, channel, start, end

    def _listen(self, now: int) -> None:
        self.radio.listen(self, RadioRx(now, self._stop, self._channel, self._params.phy,
                                        ADVERTISING_ACCESS_ADDRESS))
        self.state = State.LISTENING
        self._deadline = self._stop + 1

    def _resume(self, now: int) -> None:
        if now + MIN_LISTEN_NS // 4 < self._stop:
            self._listen(now)
        else:
            self._end_stretch(now)

    def _end_stretch(self, now: int) -> None:
        self.radio.idle(self)
        self.state = State.IDLE
        self._deadline = None
        self._release(self, now)
        if self._stop < self._window_end:
            self._next = self._stop + 1  # the scheduler defers us past what cut us short
        else:
            self._next = self._window_at(self._window_end)[2]

    def _policy_accepts(self, adv_a: Address | None) -> bool:
        if adv_a is None:
            return False
        # Address resolution hooks of a controller with a resolving list (ctrl_privacy).
        blocks = getattr(self.host, "privacy_blocks", None)
        if blocks is not None and blocks(adv_a):
            return False
        if self.config.filter_policy == 1:
            return self.host.filter_accepts(adv_a)
        peer = self.config.peer_address
        if peer is None:
            return False
        if adv_a == peer:
            return True
        resolve = getattr(self.host, "resolve_peer", None)
        return resolve is not None and resolve(adv_a) == peer

    def _primary(self, packet: RadioPacket, now: int) -> None:
        try:
            pdu = decode_adv_pdu(packet.pdu)
        except (PduDecodeError, PduFieldError):
            return
        if isinstance(pdu, (ADV_IND, ADV_DIRECT_IND)):
            if isinstance(pdu, ADV_DIRECT_IND) and not self.host.is_own_address(pdu.target_a):
                return
            if not self._policy_accepts(pdu.adv_a):
                return
            request = self._params.request
            start = packet.end_ns + T_IFS
            end = start + airtime_ns(Phy.LE_1M, 2 + 34)
            req = self.host.connect_request(self, pdu.adv_a, pdu.ch_sel, request, False, Phy.LE_1M, end)
            self._send_request(req, packet.channel, Phy.LE_1M, start)
            self.state = State.CONNECT_TX
            self._deadline = end
            return
        if isinstance(pdu, ExtendedAdvPdu) and self.config.extended:
            ptr = pdu.aux_ptr
            if ptr is None or pdu.adv_mode is not AdvMode.CONNECTABLE:
                return
            if pdu.adv_a is not None and not self._policy_accepts(pdu.adv_a):
                return
            phy = _aux_phy(ptr.aux_phy)
            at = packet.start_ns + ptr.offset_ns()
            end = at + ptr.unit_ns() + AUX_MARGIN_NS
            budget = (airtime_ns(phy, 2 + 255) + 2 * T_IFS + airtime_ns(phy, 2 + 34)
                      + airtime_ns(phy, 2 + 20) + GUARD_NS)
            horizon = self.host.foreground_horizon(self)
            if horizon is not None and end + budget > horizon:
                return  # the whole exchange would not fit before a connection event
            self._aux = (at, end, ptr.channel_index, phy, pdu.adv_a)
            self.radio.idle(self)
            self.state = State.AUX_WAIT
            self._deadline = max(now, at - AUX_MARGIN_NS)

    def _aux_adv(self, packet: RadioPacket, now: int) -> None:
        try:
            pdu = decode_adv_pdu(packet.pdu, secondary=True)
        except (PduDecodeError, PduFieldError):
            return
        if not isinstance(pdu, ExtendedAdvPdu) or pdu.pdu_type != AdvPduType.ADV_EXT_IND:
            return
        if pdu.adv_mode is not AdvMode.CONNECTABLE or not self._policy_accepts(pdu.adv_a):
            return
        if pdu.target_a is not None and not self.host.is_own_address(pdu.target_a):
            return
        assert pdu.adv_a is not None
        phy = packet.phy
        request = self._params.request
        if phy is Phy.LE_2M and self.config.request_2m is not None:
            request = self.config.request_2m
        start = packet.end_ns + T_IFS
        end = start + airtime_ns(phy, 2 + 34)
        req = self.host.connect_request(self, pdu.adv_a, True, request, True, phy, end)
        self._send_request(req, packet.channel, phy, start)
        rsp_start = end + T_IFS - T_IFS_TOLERANCE_NS
        rsp_end = end + T_IFS + T_IFS_TOLERANCE_NS
        self.radio.listen(self, RadioRx(rsp_start, rsp_end, packet.channel, phy, ADVERTISING_ACCESS_ADDRESS))
        self.state = State.RSP_WAIT
        self._deadline = rsp_end + 1

    def _aux_rsp(self, packet: RadioPacket, now: int) -> None:
        req = self._pending
        try:
            pdu = decode_adv_pdu(packet.pdu, secondary=True)
        except (PduDecodeError, PduFieldError):
            return
        if req is None or not isinstance(pdu, ExtendedAdvPdu) or pdu.pdu_type != AdvPduType.AUX_CONNECT_RSP:
            return
        if pdu.adv_a != req.adv_a or pdu.target_a != req.init_a:
            return
        self._connected(now, self._req_end)

    def _send_request(self, req: CONNECT_IND, channel: int, phy: Phy, start: int) -> None:
        raw = req.to_bytes()
        end = start + airtime_ns(phy, len(raw))
        self.radio.transmit(self, RadioTx(start, channel, phy, ADVERTISING_ACCESS_ADDRESS, raw,
                                          crc24_bytes(ADV_CRC_INIT, raw), 0.0), end)
        self.requests_sent += 1
        self._pending = req
        self._req_phy = phy
        self._req_end = end

    def _connected(self, now: int, ref_end: int) -> None:
        req = self._pending
        assert req is not None
        self.state = State.DONE
        self._next = None
        self._deadline = None
        self.radio.idle(self)
        self._release(self, now)
        self.host.initiator_connected(self, req, self._req_phy, ref_end, now)


def is_aux_request(pdu: CONNECT_IND) -> bool:
    """Whether a connect request is an AUX_CONNECT_REQ (sent on a secondary channel)."""
    return isinstance(pdu, AUX_CONNECT_REQ)
