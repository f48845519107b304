"""Advertising sets: legacy and extended advertising events (Vol 6 Part B 4.4.2).

Theory of operation
-------------------
An :class:`AdvertisingSet` is the configuration the host gave (through the legacy or
the extended HCI commands — the controller translates both into this one form).
An :class:`Advertiser` runs one enabled set as a scheduler activity (see
:mod:`linklayer.scheduler`): each advertising event starts at
``T_advEvent = advInterval + advDelay`` after the previous one, advDelay being a fresh
pseudo-random 0–10 ms from the set's own random stream (4.4.2.2.1). High duty cycle
directed advertising has no advDelay, events at most 3.75 ms apart, and ends after
1.28 s (4.4.2.4.3).

Inside an event the advertiser walks the primary channels of the channel map. On each it
transmits the primary PDU; for a scannable or connectable PDU it then listens at
T_IFS for a SCAN_REQ / CONNECT_IND addressed to it, answering a SCAN_REQ with a
SCAN_RSP at T_IFS (4.4.2.3). Extended advertising (4.4.2.4–4.4.2.6) sends ADV_EXT_IND
on the primary channels, each with an AuxPtr to one AUX_ADV_IND on a secondary channel,
then AUX_CHAIN_IND packets T_MAFS apart carrying the rest of the data (up to 1650
octets); scannable sets answer AUX_SCAN_REQ with AUX_SCAN_RSP (+ chain).

Requests pass the filter policy through the controller, which resolves private
addresses with its resolving list (``resolve_peer``, ``privacy_blocks``,
:mod:`linklayer.ctrl_privacy`): a directed set accepts its peer's identity or an RPA
of it.

The states and the inputs each accepts are the table :data:`TRANSITIONS`; an input in a
state that does not accept it is dropped and counted (``ignored``), which is also what a
real advertiser does with a stray packet.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass, field, replace
from typing import Callable, Protocol

from phy.airtime import airtime_ns
from phy.types import Phy, Rng
from phy.units import MS, T_IFS, T_MAFS, US

from .address import Address
from .crypto import ADV_CRC_INIT, check_crc, crc24_bytes
from .pdu import (
    ADV_DIRECT_IND,
    ADV_IND,
    ADV_NONCONN_IND,
    ADV_SCAN_IND,
    AUX_CONNECT_REQ,
    AUX_SCAN_REQ,
    CONNECT_IND,
    SCAN_REQ,
    SCAN_RSP,
    decode_adv_pdu,
)
from .pdu_ext import ADI, AdvMode, AuxPhy, AuxPtr, ExtendedAdvPdu, PduDecodeError, PduFieldError
from .radio import ADVERTISING_ACCESS_ADDRESS, AirInfo, RadioPacket, RadioRx, RadioTx
from .scheduler import Priority, Radio

#: advDelay upper bound (Vol 6 Part B 4.4.2.2.1).
ADV_DELAY_MAX_NS = 10 * MS
#: High duty cycle directed advertising: event interval and lifetime (4.4.2.4.3).
HIGH_DUTY_INTERVAL_NS = 3_750 * US
HIGH_DUTY_TIMEOUT_NS = 1_280 * MS
#: Receive window tolerance around T_IFS (Vol 6 Part B 4.1.1: ±2 µs).
T_IFS_TOLERANCE_NS = 2 * US
#: Gap between the end of one primary-channel step and the next PDU (radio retune).
CHANNEL_STEP_GAP_NS = 150 * US
#: Gap between the last primary PDU and the AUX_ADV_IND (>= T_MAFS).
AUX_GAP_NS = T_MAFS
#: Largest data a set may hold (HCI_LE_Read_Maximum_Advertising_Data_Length).
MAX_EXT_ADV_DATA = 1650
_OFFSET_UNIT_NS = 30 * US
#: Auxiliary PDU kinds, as the LE LL pseudo-header names them.
AUX_ADV_IND_TYPE = 0
AUX_CHAIN_IND_TYPE = 1
AUX_SCAN_RSP_TYPE = 3


class AdvEventKind(enum.Enum):
    """What the PDUs of an event are (from the legacy type or the extended properties)."""

    ADV_IND = "ADV_IND"
    ADV_DIRECT_IND_HIGH = "ADV_DIRECT_IND high duty"
    ADV_DIRECT_IND_LOW = "ADV_DIRECT_IND low duty"
    ADV_SCAN_IND = "ADV_SCAN_IND"
    ADV_NONCONN_IND = "ADV_NONCONN_IND"
    EXTENDED = "extended"


@dataclass(frozen=True)
class AdvertisingSet:
    """An advertising set as configured by the host."""

    handle: int = 0
    legacy: bool = True
    connectable: bool = True
    scannable: bool = True
    directed: bool = False
    high_duty: bool = False
    anonymous: bool = False
    include_tx_power: bool = False
    interval_ns: int = 1_280 * MS
    channels: tuple[int, ...] = (37, 38, 39)
    own_address: Address = field(default_factory=lambda: Address(bytes(6)))
    peer_address: Address | None = None
    filter_policy: int = 0
    tx_power_dbm: int = 0
    primary_phy: Phy = Phy.LE_1M
    secondary_phy: Phy = Phy.LE_1M
    sid: int = 0
    scan_request_notification: bool = False
    adv_data: bytes = b""
    scan_rsp_data: bytes = b""
    did: int = 0
    duration_ns: int = 0  # 0: no limit
    max_events: int = 0  # 0: no limit
    #: ChSel of ADV_IND / ADV_DIRECT_IND: the controller supports CSA #2 (Vol 6 Part B 2.3.1).
    ch_sel: bool = False

    @property
    def kind(self) -> AdvEventKind:
        if not self.legacy:
            return AdvEventKind.EXTENDED
        if self.directed:
            return AdvEventKind.ADV_DIRECT_IND_HIGH if self.high_duty else AdvEventKind.ADV_DIRECT_IND_LOW
        if self.connectable:
            return AdvEventKind.ADV_IND
        if self.scannable:
            return AdvEventKind.ADV_SCAN_IND
        return AdvEventKind.ADV_NONCONN_IND

    @property
    def adv_mode(self) -> AdvMode:
        if self.connectable:
            return AdvMode.CONNECTABLE
        if self.scannable:
            return AdvMode.SCANNABLE
        return AdvMode.NON_CONNECTABLE_NON_SCANNABLE


class AdvertiserHost(Protocol):
    """How an advertiser tells its controller what happened."""

    def scan_request_received(self, adv: "Advertiser", scanner: Address, now: int) -> None: ...

    def connect_request_received(
        self, adv: "Advertiser", pdu: CONNECT_IND, packet: RadioPacket, now: int
    ) -> bool:
        """A CONNECT_IND/AUX_CONNECT_REQ for this set; True if the controller takes it."""

    def filter_accepts(self, address: Address) -> bool:
        """Whether ``address`` is on the filter accept list."""

    def resolve_peer(self, address: Address) -> Address | None:
        """The identity of a peer's resolvable private address (resolving list)."""

    def privacy_blocks(self, address: Address) -> bool:
        """Network privacy mode: ignore a peer that uses its identity address."""

    def advertising_ended(self, adv: "Advertiser", status: int, now: int) -> None:
        """The set stopped by itself (status 0x3C timeout, 0x43 limit reached)."""


class State(enum.Enum):
    WAITING = "waiting for the next event"
    TX = "transmitting"
    AWAIT_REQUEST = "listening for a request at T_IFS"
    RECEIVING = "receiving a request"
    RESPONDING = "transmitting a response"
    STOPPED = "stopped"


class Input(enum.Enum):
    BEGIN = "begin"
    TIMER = "timer"
    SYNCED = "synced"
    PACKET = "packet"
    LOST = "lost"


#: (state, input) pairs the advertiser acts on; any other pair is ignored and counted.
TRANSITIONS: frozenset[tuple[State, Input]] = frozenset(
    {
        (State.WAITING, Input.BEGIN),
        (State.TX, Input.TIMER),
        (State.AWAIT_REQUEST, Input.TIMER),
        (State.AWAIT_REQUEST, Input.SYNCED),
        (State.RECEIVING, Input.PACKET),
        (State.RECEIVING, Input.LOST),
        (State.RESPONDING, Input.TIMER),
    }
)

#: The states that accept a timer, and a scheduler grant: :data:`TRANSITIONS` for the two
#: inputs of every advertising event, as tuples (membership by identity, no enum hashing).
_TIMER_STATES = tuple(st for st in State if (st, Input.TIMER) in TRANSITIONS)
_BEGIN_STATES = tuple(st for st in State if (st, Input.BEGIN) in TRANSITIONS)
# Module-level names for the states tested on every packet (an enum member looked up on
# its class costs several times a global).
_WAITING = State.WAITING
_TX = State.TX
_AWAIT_REQUEST = State.AWAIT_REQUEST
_RESPONDING = State.RESPONDING
#: Radio operations are named tuples, whose own ``__new__`` is a slow Python function: the
#: ones sent every advertising event are made with the tuple's.
_new_tuple = tuple.__new__


@dataclass(frozen=True)
class _Step:
    """One packet of an event still to send, and whether to listen after it.

    ``airtime_ns`` and ``crc`` follow from the others; they are worked out once, as legacy
    steps are sent again every event.
    """

    channel: int
    phy: Phy
    pdu: bytes
    listen: bool
    primary: bool
    aux_type: int | None = None  # for the capture: 0 AUX_ADV_IND, 1 AUX_CHAIN_IND, 3 AUX_SCAN_RSP
    airtime_ns: int = field(init=False, compare=False, repr=False)
    crc: bytes = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "airtime_ns", airtime_ns(self.phy, len(self.pdu)))
        object.__setattr__(self, "crc", _adv_crc(self.pdu))


class Advertiser:
    """One enabled advertising set, as a foreground scheduler activity."""

    priority = Priority.ADVERTISING
    deferrable = True

    def __init__(
        self,
        adv_set: AdvertisingSet,
        radio: Radio,
        rng: Rng,
        host: AdvertiserHost,
        now: int,
        release: Callable[[object, int], None],
    ) -> None:
        self.set = adv_set
        self.radio = radio
        self._release = release
        self.rng = rng
        self.host = host
        self.state = State.WAITING
        self.enabled_at = now
        self.events = 0
        self.ignored = 0
        self.scan_responses = 0
        self._deadline: int | None = None
        # The first event starts after advDelay (or at once for high duty directed).
        self._next_start: int | None = now + self._delay()
        self._event_start = 0
        self._steps: list[_Step] = []
        self._step_index = 0
        self._current: _Step | None = None
        self._tx_end = 0
        self._aux: tuple[int, Phy] | None = None
        self._chain: list[tuple[int, int, bytes]] = []
        self._legacy_cache: tuple[AdvertisingSet, bytes] | None = None
        self._reservation: tuple[AdvertisingSet, int] | None = None
        self._legacy_steps: tuple[AdvertisingSet, list[_Step]] | None = None
        self._ext_step_ns = 0
        self._ext_aux_at = 0

    # -- activity interface ------------------------------------------------------------
    def next_start(self) -> int | None:
        return self._next_start if self.state is _WAITING else None

    def reservation_ns(self) -> int:
        cached = self._reservation
        if cached is not None and cached[0] is self.set:
            return cached[1]
        value = self._reservation_for_set()
        self._reservation = (self.set, value)
        return value

    def _reservation_for_set(self) -> int:
        s = self.set
        one = airtime_ns(s.primary_phy, 2 + 6 + 31) + T_IFS + airtime_ns(s.primary_phy, 2 + 34)
        one += T_IFS + airtime_ns(s.primary_phy, 2 + 6 + 31) + CHANNEL_STEP_GAP_NS
        total = one * len(s.channels)
        if not s.legacy:
            aux = airtime_ns(s.secondary_phy, 255) + T_MAFS
            total += AUX_GAP_NS + aux * (1 + (len(s.adv_data) + len(s.scan_rsp_data)) // 200)
            total += 2 * T_IFS
        return total

    def deadline(self) -> int | None:
        return self._deadline

    def begin(self, now: int) -> None:
        if self.state not in _BEGIN_STATES:  # = self._accept(Input.BEGIN)
            self.ignored += 1
            return
        if self._expired(now):
            return
        self._event_start = now
        self.events += 1
        self._steps = self._build_event(now)
        self._step_index = 0
        self._send_next(now)

    def defer(self, now: int, until: int) -> None:
        self._next_start = until

    def skip(self, now: int) -> None:
        if not self._expired(now):
            self._next_start = now + self._interval() + self._delay()

    def on_timer(self, now: int) -> None:
        state = self.state
        if state not in _TIMER_STATES:  # = self._accept(Input.TIMER)
            self.ignored += 1
            return
        self._deadline = None
        if state is _AWAIT_REQUEST:
            self.radio.idle(self)
            self._advance(now, gap_done=True)
        elif state is _TX:
            step = self._current
            if step is not None and step.listen:
                self._await_request(now)
            else:
                self._advance(now)
        elif state is _RESPONDING:
            self._advance(now)

    def on_synced(self, now: int) -> None:
        if not self._accept(Input.SYNCED):
            return
        self.state = State.RECEIVING
        self._deadline = None  # the packet ends in on_packet or on_lost

    def on_lost(self, now: int) -> None:
        """The request we locked onto could not be decoded: go on with the event."""
        if self._accept(Input.LOST):
            self._advance(now)

    def on_packet(self, packet: RadioPacket, now: int) -> None:
        if not self._accept(Input.PACKET):
            return
        self._deadline = None
        step = self._current
        if step is None or not check_crc(ADV_CRC_INIT, packet.pdu, packet.crc):
            self._advance(now)
            return
        try:
            pdu = decode_adv_pdu(packet.pdu, secondary=not step.primary)
        except (PduDecodeError, PduFieldError):
            self._advance(now)
            return
        if isinstance(pdu, SCAN_REQ) and self._scannable_on(step, pdu):
            if pdu.adv_a == self.set.own_address and self._policy_allows_scan(pdu.scan_a):
                self._respond_scan(pdu, packet, step, now)
                return
        elif isinstance(pdu, CONNECT_IND) and self.set.connectable:
            if (
                pdu.adv_a == self.set.own_address
                and isinstance(pdu, AUX_CONNECT_REQ) == (not step.primary)
                and self._policy_allows_connect(pdu.init_a)
                and self.host.connect_request_received(self, pdu, packet, now)
            ):
                self.radio.idle(self)
                if isinstance(pdu, AUX_CONNECT_REQ):
                    self._send_connect_rsp(pdu, packet)
                self._finish_event(now, stop=True)
                return
        self._advance(now)

    def _send_connect_rsp(self, req: AUX_CONNECT_REQ, packet: RadioPacket) -> None:
        """AUX_CONNECT_RSP T_IFS after an accepted AUX_CONNECT_REQ (Vol 6 Part B 4.4.2.4.3)."""
        rsp = ExtendedAdvPdu.aux_connect_rsp(self.set.own_address, req.init_a).to_bytes()
        start = packet.end_ns + T_IFS
        self.radio.transmit(
            self,
            RadioTx(start, packet.channel, packet.phy, ADVERTISING_ACCESS_ADDRESS, rsp,
                    crc24_bytes(ADV_CRC_INIT, rsp), float(self.set.tx_power_dbm)),
            start + airtime_ns(packet.phy, len(rsp)),
        )

    # -- control ---------------------------------------------------------------------
    def stop(self) -> None:
        self.state = State.STOPPED
        self._deadline = None
        self._next_start = None
        self.radio.idle(self)

    def update(self, adv_set: AdvertisingSet) -> None:
        """New data while enabled takes effect from the next event."""
        self.set = adv_set

    # -- internals -------------------------------------------------------------------
    def _accept(self, inp: Input) -> bool:
        if (self.state, inp) in TRANSITIONS:
            return True
        self.ignored += 1
        return False

    def _interval(self) -> int:
        if self.set.kind is AdvEventKind.ADV_DIRECT_IND_HIGH:
            return HIGH_DUTY_INTERVAL_NS
        return self.set.interval_ns

    def _delay(self) -> int:
        if self.set.kind is AdvEventKind.ADV_DIRECT_IND_HIGH:
            return 0
        return self.rng.randrange(0, ADV_DELAY_MAX_NS // US + 1) * US

    def _expired(self, now: int) -> bool:
        s = self.set
        if s.kind is AdvEventKind.ADV_DIRECT_IND_HIGH and now - self.enabled_at >= HIGH_DUTY_TIMEOUT_NS:
            self._end(now, 0x3C)
            return True
        if s.duration_ns and now - self.enabled_at >= s.duration_ns:
            self._end(now, 0x3C)
            return True
        if s.max_events and self.events >= s.max_events:
            self._end(now, 0x43)
            return True
        return False

    def _end(self, now: int, status: int) -> None:
        self.stop()
        self.host.advertising_ended(self, status, now)

    def _scannable_on(self, step: _Step, pdu: SCAN_REQ) -> bool:
        if not self.set.scannable:
            return False
        return isinstance(pdu, AUX_SCAN_REQ) == (not step.primary)

    def _policy_allows_scan(self, scanner: Address) -> bool:
        if self.host.privacy_blocks(scanner):
            return False
        return self.set.filter_policy not in (1, 3) or self.host.filter_accepts(scanner)

    def _policy_allows_connect(self, initiator: Address) -> bool:
        s = self.set
        if self.host.privacy_blocks(initiator):
            return False
        if s.directed:  # the peer's identity, or an RPA of it (resolving list)
            return s.peer_address is not None and s.peer_address in (initiator, self.host.resolve_peer(initiator))
        return s.filter_policy not in (2, 3) or self.host.filter_accepts(initiator)

    def _build_event(self, now: int) -> list[_Step]:
        s = self.set
        if s.legacy:
            cached = self._legacy_steps
            if cached is not None and cached[0] is s:
                return cached[1]  # the same packets every event while the set is unchanged
            pdu = self._legacy_pdu()
            listen = s.kind is not AdvEventKind.ADV_NONCONN_IND
            steps = [_Step(ch, Phy.LE_1M, pdu, listen, True) for ch in s.channels]
            self._legacy_steps = (s, steps)
            return steps
        return self._extended_steps(now)

    def _legacy_pdu(self) -> bytes:
        """The event's PDU; rebuilt only when the set changes (data, address, type)."""
        cached = self._legacy_cache
        if cached is not None and cached[0] is self.set:
            return cached[1]
        pdu = self._build_legacy_pdu()
        self._legacy_cache = (self.set, pdu)
        return pdu

    def _build_legacy_pdu(self) -> bytes:
        s = self.set
        kind = s.kind
        if kind is AdvEventKind.ADV_IND:
            return ADV_IND(s.own_address, s.adv_data, s.ch_sel).to_bytes()
        if kind in (AdvEventKind.ADV_DIRECT_IND_HIGH, AdvEventKind.ADV_DIRECT_IND_LOW):
            assert s.peer_address is not None
            return ADV_DIRECT_IND(s.own_address, s.peer_address, s.ch_sel).to_bytes()
        if kind is AdvEventKind.ADV_SCAN_IND:
            return ADV_SCAN_IND(s.own_address, s.adv_data).to_bytes()
        return ADV_NONCONN_IND(s.own_address, s.adv_data).to_bytes()

    def _extended_steps(self, now: int) -> list[_Step]:
        """Primary ADV_EXT_IND steps; the aux part is built when the primaries are done."""
        s = self.set
        adi = ADI(did=s.did, sid=s.sid)
        n = len(s.channels)
        probe = ExtendedAdvPdu.adv_ext_ind(
            s.adv_mode, adi=adi, aux_ptr=AuxPtr(0, 0, 0, AuxPhy.from_phy(s.secondary_phy))
        )
        step_ns = _round_up(airtime_ns(s.primary_phy, len(probe.to_bytes())) + CHANNEL_STEP_GAP_NS)
        aux_at = _round_up(step_ns * (n - 1) + airtime_ns(s.primary_phy, len(probe.to_bytes())) + AUX_GAP_NS)
        aux_channel = self.rng.randrange(0, 37)
        self._aux = (aux_channel, s.secondary_phy)
        steps = []
        for i, ch in enumerate(s.channels):
            ptr = AuxPtr.from_offset_ns(aux_channel, aux_at - i * step_ns, AuxPhy.from_phy(s.secondary_phy))
            pdu = ExtendedAdvPdu.adv_ext_ind(s.adv_mode, adi=adi, aux_ptr=ptr).to_bytes()
            steps.append(_Step(ch, s.primary_phy, pdu, False, True))
        self._ext_step_ns = step_ns
        self._ext_aux_at = now + aux_at
        return steps

    def _aux_chain(self, first: ExtendedAdvPdu, data: bytes, start: int, channel: int) -> list[tuple[int, int, bytes]]:
        """Fragment ``data`` after ``first`` (which already holds its share) into AUX_CHAIN_INDs.

        Returns (start time, channel, pdu bytes) for the first PDU and every chain PDU.
        """
        s = self.set
        adi = ADI(did=s.did, sid=s.sid)
        packets: list[tuple[int, int, bytes]] = []
        pieces = []
        rest = data
        while rest:
            probe = ExtendedAdvPdu.aux_chain_ind(b"", adi=adi, aux_ptr=AuxPtr(0, 0))
            room = probe.max_adv_data()
            cut = ad_boundary(rest, room)
            pieces.append(rest[:cut])
            rest = rest[cut:]
        # Walk backwards so every AuxPtr knows where the next packet is.
        times = []
        t = start + airtime_ns(s.secondary_phy, len(first.to_bytes()) + (3 if pieces else 0)) + T_MAFS
        channels = []
        prev_len = 0
        for i, piece in enumerate(pieces):
            t = _round_up_abs(t, start)
            times.append(t)
            channels.append(self.rng.randrange(0, 37))
            has_next = i + 1 < len(pieces)
            prev_len = len(ExtendedAdvPdu.aux_chain_ind(piece, adi=adi, aux_ptr=AuxPtr(0, 0) if has_next else None).to_bytes())
            t = t + airtime_ns(s.secondary_phy, prev_len) + T_MAFS
        aux_phy = AuxPhy.from_phy(s.secondary_phy)
        chain: list[tuple[int, int, bytes]] = []
        for i, piece in enumerate(pieces):
            ptr = None
            if i + 1 < len(pieces):
                ptr = AuxPtr.from_offset_ns(channels[i + 1], times[i + 1] - times[i], aux_phy)
            chain.append((times[i], channels[i], ExtendedAdvPdu.aux_chain_ind(piece, adi=adi, aux_ptr=ptr).to_bytes()))
        if pieces:
            first = replace(first, aux_ptr=AuxPtr.from_offset_ns(channels[0], times[0] - start, aux_phy))
        packets.append((start, channel, first.to_bytes()))
        packets += chain
        return packets

    def _aux_first(self, data: bytes, with_data: bool) -> tuple[ExtendedAdvPdu, bytes]:
        """The AUX_ADV_IND with as much of ``data`` as fits; returns it and the remainder."""
        s = self.set
        adi = ADI(did=s.did, sid=s.sid)
        adv_a = None if s.anonymous else s.own_address
        target = s.peer_address if s.directed else None
        tx_power = s.tx_power_dbm if s.include_tx_power else None
        base = ExtendedAdvPdu.aux_adv_ind(
            s.adv_mode, adi, adv_a=adv_a, target_a=target, tx_power=tx_power,
            aux_ptr=AuxPtr(0, 0) if with_data and data else None,
        )
        if not with_data:
            return replace(base, aux_ptr=None), b""
        room = base.max_adv_data()
        if len(data) <= room:
            return ExtendedAdvPdu.aux_adv_ind(
                s.adv_mode, adi, adv_a=adv_a, target_a=target, tx_power=tx_power, adv_data=data
            ), b""
        cut = ad_boundary(data, room)
        return replace(base, adv_data=data[:cut]), data[cut:]

    def _send_next(self, now: int) -> None:
        if self._step_index >= len(self._steps):
            if not self.set.legacy and self._aux is not None:
                self._send_aux(now)
                return
            self._finish_event(now)
            return
        step = self._steps[self._step_index]
        self._step_index += 1
        start = now
        if not self.set.legacy:
            start = max(now, self._event_start + (self._step_index - 1) * self._ext_step_ns)
        self._transmit(step, start)

    def _transmit(self, step: _Step, start: int) -> None:
        """Send one PDU; a PDU that expects a request arms the T_IFS window with it."""
        self._current = step
        end = start + step.airtime_ns
        # RadioTx(start, channel, phy, access_address, pdu, crc, tx_power_dbm, capture), made
        # as the tuple it is (a named tuple's __new__ is a slow Python function).
        self.radio.transmit(
            self,
            _new_tuple(RadioTx, (
                start, step.channel, step.phy, ADVERTISING_ACCESS_ADDRESS, step.pdu, step.crc,
                float(self.set.tx_power_dbm),
                None if step.aux_type is None else AirInfo(pdu_kind=1, aux_type=step.aux_type),
            )),
            end,
        )
        self._tx_end = end
        if step.listen:
            self._await_request(start)
            return
        self.state = _TX
        self._deadline = end

    def _await_request(self, now: int) -> None:
        step = self._current
        assert step is not None
        start = self._tx_end + T_IFS - T_IFS_TOLERANCE_NS
        end = self._tx_end + T_IFS + T_IFS_TOLERANCE_NS
        # RadioRx(start, end, channel, phy, access_address, persistent=False), as a plain tuple.
        self.radio.listen(self, _new_tuple(RadioRx, (
            start, end, step.channel, step.phy, ADVERTISING_ACCESS_ADDRESS, False)))
        self.state = _AWAIT_REQUEST
        # Nothing synced by the end of the window: the next PDU follows after the retune gap.
        self._deadline = end + self._step_gap()

    def _step_gap(self) -> int:
        return CHANNEL_STEP_GAP_NS if self.set.legacy else 0

    def _advance(self, now: int, gap_done: bool = False) -> None:
        if self._chain:
            self._send_chain(now)
            return
        self._send_next(now if gap_done else now + self._step_gap())

    def _send_aux(self, now: int) -> None:
        s = self.set
        assert self._aux is not None
        channel, phy = self._aux
        self._aux = None
        scannable = s.scannable and not s.connectable
        first, rest = self._aux_first(s.adv_data, with_data=not scannable)
        start = max(now, self._ext_aux_at)
        packets = self._aux_chain(first, rest, start, channel)
        t0, ch0, pdu0 = packets[0]
        self._chain = packets[1:]
        listen = s.scannable or s.connectable
        self._transmit(_Step(ch0, phy, pdu0, listen, False, AUX_ADV_IND_TYPE), t0)

    def _send_chain(self, now: int) -> None:
        t, ch, pdu = self._chain.pop(0)
        self._transmit(_Step(ch, self.set.secondary_phy, pdu, False, False, AUX_CHAIN_IND_TYPE), max(t, now))

    def _respond_scan(self, req: SCAN_REQ, packet: RadioPacket, step: _Step, now: int) -> None:
        s = self.set
        if s.scan_request_notification or not s.legacy:
            self.host.scan_request_received(self, req.scan_a, now)
        start = packet.end_ns + T_IFS
        if step.primary:
            rsp = SCAN_RSP(s.own_address, s.scan_rsp_data).to_bytes()
            self._transmit(_Step(step.channel, step.phy, rsp, False, True), start)
        else:
            adi = ADI(did=s.did, sid=s.sid)
            probe = ExtendedAdvPdu.aux_scan_rsp(s.own_address, b"", adi=adi, aux_ptr=AuxPtr(0, 0))
            room = probe.max_adv_data()
            data = s.scan_rsp_data
            if len(data) <= room:
                first = ExtendedAdvPdu.aux_scan_rsp(s.own_address, data, adi=adi)
                rest = b""
            else:
                cut = ad_boundary(data, room)
                first = replace(probe, adv_data=data[:cut])
                rest = data[cut:]
            packets = self._aux_chain(first, rest, start, step.channel)
            _, ch0, pdu0 = packets[0]
            self._chain = packets[1:]
            self._transmit(_Step(ch0, step.phy, pdu0, False, False, AUX_SCAN_RSP_TYPE), start)
        self.scan_responses += 1
        self.state = State.RESPONDING

    def _finish_event(self, now: int, stop: bool = False) -> None:
        self._current = None
        self._chain = []
        self._deadline = None
        self.radio.idle(self)
        self._release(self, now)
        if stop:
            self.state = State.STOPPED
            self._next_start = None
            return
        self.state = State.WAITING
        self._next_start = self._event_start + self._interval() + self._delay()


@functools.lru_cache(maxsize=1024)
def _adv_crc(pdu: bytes) -> bytes:
    """The CRC of an advertising channel PDU (advertisers send the same PDUs again and again)."""
    return crc24_bytes(ADV_CRC_INIT, pdu)


def ad_boundary(data: bytes, room: int) -> int:
    """Where to cut ``data`` so the first fragment fits in ``room`` octets.

    The cut falls after the last whole AD structure (Core Supplement Part A 1) that fits,
    so a sniffer decoding each fragment on its own sees whole structures; when not even
    one structure fits (or the data is not AD structures), it falls at ``room``.
    """
    if len(data) <= room:
        return len(data)
    pos = 0
    while pos < len(data):
        length = data[pos]
        end = pos + 1 + length
        if length == 0 or end > room:
            break
        pos = end
    return pos if pos > 0 else room


def _round_up(ns: int) -> int:
    """Round up to a whole 30 µs AuxPtr unit, so offsets are exact."""
    return -(-ns // _OFFSET_UNIT_NS) * _OFFSET_UNIT_NS


def _round_up_abs(t: int, origin: int) -> int:
    return origin + _round_up(t - origin)
