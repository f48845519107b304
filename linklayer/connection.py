"""One connection as a scheduler activity (Vol 6 Part B 4.5).

Theory of operation
-------------------
A :class:`Connection` is a foreground activity of the controller's scheduler with the
highest priority and ``deferrable = False``: a connection event that cannot have the
radio is skipped, as on hardware. Between events it only answers ``next_start()``: the
next anchor (Central) or the opening of the next receive window (Peripheral).

*Anchors.* Times come from :class:`linklayer.connection_timing.AnchorClock`: the first
anchor is ``transmitWindowDelay + WinOffset`` after the end of the CONNECT_IND (or
AUX_CONNECT_REQ); the Central sends its first packet at the start of the transmit window
and every ``connInterval`` after, measured by its own drifting clock. The Peripheral
predicts each anchor with *its* clock from the last anchor it saw, and listens from
``anchor − windowWidening`` to ``anchor + transmitWindow + windowWidening`` (4.5.7); the
first packet of each event it receives resynchronises it. A connection update moves the
anchor of the instant event by WinOffset and opens a new transmit window there.

*Event.* The Central transmits at the anchor and listens T_IFS after; each side answers
T_IFS after the end of what it received. SN/NESN (4.5.9) acknowledge: a packet is resent
(same bytes, same packet counter) until the peer's NESN moves on; a received packet with
the SN already seen is a duplicate and only acknowledged. The MD bit says "more data";
the Central goes on while either side has more and the next exchange fits before the
event's budget (its next anchor, or another connection's event), and closes the event
after two consecutive CRC errors or a missing answer (4.5.6). Empty PDUs keep the link
alive. A Peripheral with latency sleeps through up to ``connPeripheralLatency`` events
when it has nothing to send (4.5.1).

*Supervision* (4.5.2): no packet in 6 intervals after creation gives Connection Failed
to be Established (0x3E); no valid packet for ``connSupervisionTimeout`` afterwards gives
Connection Timeout (0x08). Both are checked at each event start.

*Channels* follow CSA #1 or #2 (:mod:`linklayer.channels`) with the map in force.
*Encryption*: with encryption on, every non-empty PDU's payload is encrypted with
:class:`linklayer.crypto.LlCipher` when first sent; a received one that fails its MIC
ends the link with 0x3D. Each transmission carries :class:`AirInfo` (direction, and the
plaintext of an encrypted PDU) for the air capture.

LL control PDUs go to :class:`linklayer.control.ControlProcedures`; host ACL data is
fragmented by :class:`linklayer.connection_data.AclTxQueue`.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from phy.airtime import airtime_ns
from phy.types import Phy, Rng
from phy.units import T_IFS, UNIT_10MS, UNIT_1250US, US

from .address import Address
from .channels import ChannelMap, Csa1, channel_identifier, csa2_channel
from .connection_data import EMPTY_PDU, LLID_CONTROL, AclTxQueue, TxPdu
from .connection_timing import (
    SCA_PPM,
    T_IFS_TOLERANCE_NS,
    AnchorClock,
    octets_for_time,
    transmit_window_delay,
    window_widening,
)
from .control import ControlProcedures, Lengths, LocalInfo, Proc
from .control_link import ControlItem
from .control_pdu import LL_TERMINATE_IND, ControlPdu
from .crypto import CryptoError, LlCipher, MicFailure, check_crc, crc24_bytes
from .hci.codec import HciEvent
from .hci.errors import ErrorCode
from .pdu import LLData
from .radio import AirInfo, RadioPacket, RadioRx, RadioTx
from .scheduler import GUARD_NS, Priority, Radio

#: The capture annotation of a data channel packet (an alias of the radio's AirInfo:
#: ``pdu_kind`` 2 Central→Peripheral / 3 Peripheral→Central, ``plaintext``, ``mic_valid``).
CaptureInfo = AirInfo

CONNECTION_TIMEOUT = int(ErrorCode.CONNECTION_TIMEOUT)
FAILED_TO_BE_ESTABLISHED = int(ErrorCode.CONNECTION_FAILED_TO_BE_ESTABLISHED)
MIC_FAILURE = int(ErrorCode.CONNECTION_TERMINATED_DUE_TO_MIC_FAILURE)
#: Events without a packet after which a new connection failed to be established (4.5.2).
ESTABLISHMENT_EVENTS = 6
MIC = 4
PDU_KIND_C2P = 2
PDU_KIND_P2C = 3
_RX_MARGIN_NS = 1


class ConnectionHost(Protocol):
    """What a connection needs from its controller."""

    def emit(self, event: HciEvent) -> None: ...

    def le_event_enabled(self, subevent: int) -> bool: ...

    def acl_to_host(self, conn: Connection, llid: int, data: bytes) -> None: ...

    def acl_completed(self, conn: Connection, count: int) -> None: ...

    def connection_closed(self, conn: Connection, reason: int, now: int) -> None: ...

    def radio_horizon(self, conn: Connection) -> tuple[int, object] | None:
        """The next start of another activity that outranks or equals a connection."""


@dataclass(frozen=True)
class ConnectionSetup:
    """Everything a new connection is made of (from the CONNECT_IND / AUX_CONNECT_REQ)."""

    handle: int
    central: bool
    ll: LLData
    own_address: Address
    peer_address: Address
    csa2: bool
    phy: Phy
    #: End of the CONNECT_IND / AUX_CONNECT_REQ: the reference of the transmit window.
    ref_end_ns: int
    aux: bool
    clock_ppb: int
    sca_ppm: int
    tx_power_dbm: float
    info: LocalInfo
    max_tx_octets: int = 27
    max_tx_time: int = 328


@dataclass
class _Update:
    instant: int
    win_size_ns: int
    win_offset_ns: int
    interval: int
    latency: int
    timeout: int


class State(enum.Enum):
    IDLE = "between events"
    TX = "transmitting"
    RX_WAIT = "listening"
    RX = "receiving"
    CLOSED = "closed"


class Input(enum.Enum):
    BEGIN = "begin"
    TIMER = "timer"
    SYNCED = "synced"
    PACKET = "packet"
    LOST = "lost"


#: (state, input) pairs the connection acts on; any other pair is ignored and counted.
TRANSITIONS: frozenset[tuple[State, Input]] = frozenset({
    (State.IDLE, Input.BEGIN),
    (State.TX, Input.TIMER),
    (State.RX_WAIT, Input.TIMER),
    (State.RX_WAIT, Input.SYNCED),
    (State.RX, Input.PACKET),
    (State.RX, Input.LOST),
    (State.RX, Input.TIMER),
})


class Connection:
    """One connection, Central or Peripheral; see the module docstring."""

    priority = Priority.CONNECTION
    deferrable = False

    def __init__(self, setup: ConnectionSetup, host: ConnectionHost, radio: Radio,
                 release: Callable[[object, int], None], rng: Rng, now: int) -> None:
        ll = setup.ll
        self.setup = setup
        self.host = host
        self.radio = radio
        self._release = release
        self.handle = setup.handle
        self.is_central = setup.central
        self.own_address = setup.own_address
        self.peer_address = setup.peer_address
        self.access_address = ll.aa
        self.crc_init = ll.crc_init
        self.sca = ll.sca
        self.interval = ll.interval
        self.latency = ll.latency
        self.timeout = ll.timeout
        self.channel_map = ChannelMap(ll.ch_m)
        self.csa2 = setup.csa2
        self._chan_id = channel_identifier(ll.aa)
        self._csa1 = None if setup.csa2 else Csa1(ll.hop, self.channel_map)
        self.tx_phy = setup.phy
        self.rx_phy = setup.phy
        self.tx_power_dbm = setup.tx_power_dbm
        self.state = State.IDLE
        self.counter = -1
        self.established = False
        self.created_at = now
        self.last_rx_ns = setup.ref_end_ns
        self.rssi = 127
        self.ignored = 0
        self.skipped_in_a_row = 0
        self.events = 0
        self.crc_errors = 0
        self.retransmissions = 0
        # timing
        delay = transmit_window_delay(setup.aux, setup.phy)
        self.clock = AnchorClock(setup.ref_end_ns, 0, delay + ll.win_offset_ns, ll.interval_ns,
                                 setup.clock_ppb)
        self._tw_ns = 0 if setup.central else ll.win_size_ns
        self._own_sca = setup.sca_ppm
        self._central_sca = SCA_PPM[ll.sca]
        self._upd: _Update | None = None
        self._map_pending: tuple[int, ChannelMap] | None = None
        self._phy_pending: tuple[int, Phy | None, Phy | None] | None = None
        self._notify: list[tuple[Proc, bool]] = []
        self.next_counter = 0
        self._next_start: int | None = None
        self._next_close = 0
        self._deadline: int | None = None
        self._event_end = 0
        self._channel = 0
        self._first_rx = False
        self._crc_run = 0
        self._peer_md = False
        self._own_md = False
        self._close_after: int | None = None
        # data path
        self.tx_sn = 0
        self.rx_nesn = 0
        self._in_flight: TxPdu | None = None
        self._last_sent: TxPdu | None = None
        self._control_q: deque[ControlItem] = deque()
        self.acl = AclTxQueue()
        self._data_paused = False
        self._cipher: LlCipher | None = None
        self._tx_enc = False
        self._rx_dec = False
        self._air_info = AirInfo(pdu_kind=PDU_KIND_C2P if self.is_central else PDU_KIND_P2C,
                                 crc_init=self.crc_init)
        #: Header octet 0 -> (Empty PDU, its CRC): most packets of an idle link.
        self._empty_pdus = {h: (bytes((h, 0)), crc24_bytes(self.crc_init, bytes((h, 0))))
                            for h in range(0x20) if h & 0x03}
        lengths = Lengths(max_tx_octets=setup.max_tx_octets, max_tx_time=setup.max_tx_time)
        self.control = ControlProcedures(self, setup.info, rng, lengths, now)
        self._tx_octets = 27
        self._rx_octets = 27
        self.lengths_changed()
        self._plan(now, first=True)

    # ---------------------------------------------------------------- derived values
    def _closed(self) -> bool:
        return self.state is State.CLOSED

    @property
    def interval_ns(self) -> int:
        return self.interval * UNIT_1250US

    @property
    def timeout_ns(self) -> int:
        return self.timeout * UNIT_10MS

    @property
    def encrypted(self) -> bool:
        return self.control.encrypted

    def _time(self, c: int) -> int:
        """True time of event ``c``'s anchor as this side predicts it (no state change)."""
        clk = self.clock
        upd = self._upd
        if upd is not None and c >= upd.instant:
            nominal = clk.nominal(upd.instant) + upd.win_offset_ns + (c - upd.instant) * upd.interval * UNIT_1250US
        else:
            nominal = clk.nominal(c)
        return clk.base + nominal + (nominal * clk.ppb) // 1_000_000_000

    def _window(self, c: int) -> tuple[int, int]:
        """The Peripheral's receive window for event ``c``: (open, close)."""
        t = self._time(c)
        interval = self._upd.interval * UNIT_1250US if self._upd and c >= self._upd.instant else self.interval_ns
        ww = window_widening(t - self.clock.base, self._central_sca, self._own_sca, interval)
        tw = self._upd.win_size_ns if self._upd and c >= self._upd.instant else self._tw_ns
        return t - ww, t + tw + ww

    def _start_of(self, c: int) -> int:
        return self._time(c) if self.is_central else self._window(c)[0]

    # ---------------------------------------------------------------- activity interface
    def next_start(self) -> int | None:
        return self._next_start if self.state is State.IDLE else None

    def reservation_ns(self) -> int:
        tx = airtime_ns(self.tx_phy, 2 + self._tx_octets + MIC)
        rx = airtime_ns(self.rx_phy, 2 + self._rx_octets + MIC)
        need = tx + T_IFS + rx
        if not self.is_central and self._next_start is not None:
            need += self._next_close - self._next_start
        return need

    def deadline(self) -> int | None:
        return self._deadline

    def begin(self, now: int) -> None:
        if self.state is not State.IDLE:
            self.ignored += 1
            return
        c = self.next_counter
        start = self._next_start
        if start is None or now > start + US:
            self.skip(now)  # too late for this anchor
            return
        self._event_setup(c, now)
        if self._closed():
            return
        horizon = self.host.radio_horizon(self)
        if horizon is not None and self._should_yield(now, horizon):
            self._release(self, now)
            self.skipped_in_a_row += 1
            self._plan(now)
            return
        self.skipped_in_a_row = 0
        self.events += 1
        self._first_rx = True
        self._crc_run = 0
        nxt = self._time(c + 1) - GUARD_NS
        self._event_end = nxt if horizon is None else min(nxt, horizon[0] - GUARD_NS)
        if self.is_central:
            self._central_tx(now)
        else:
            close = self._window(c)[1] if self._upd is not None or now != start else self._next_close
            self.radio.listen(self, RadioRx(now, close, self._channel, self.rx_phy, self.access_address))
            self.state = State.RX_WAIT
            self._deadline = close + _RX_MARGIN_NS

    def defer(self, now: int, until: int) -> None:
        self.skip(now)

    def skip(self, now: int) -> None:
        if self.state is not State.IDLE:
            return
        self.skipped_in_a_row += 1
        self._event_setup(self.next_counter, now)
        if self._closed():
            return
        self._plan(now)

    def on_timer(self, now: int) -> None:
        if (self.state, Input.TIMER) not in TRANSITIONS:
            self.ignored += 1
            return
        self._deadline = None
        if self.state is State.TX:
            if self._close_after is not None:
                self.close(self._close_after, now)
                return
            self._end_event(now)
        elif self.state is State.RX_WAIT:
            self.radio.idle(self)
            self._end_event(now)
        else:  # RX: the packet never ended (the radio was taken away)
            self._rx_failed(now)

    def on_synced(self, now: int) -> None:
        if (self.state, Input.SYNCED) not in TRANSITIONS:
            self.ignored += 1
            return
        self.state = State.RX
        self._deadline = None  # the packet ends in on_packet or on_lost

    def on_lost(self, now: int) -> None:
        if (self.state, Input.LOST) not in TRANSITIONS:
            self.ignored += 1
            return
        self._deadline = None
        self._rx_failed(now)

    def on_packet(self, packet: RadioPacket, now: int) -> None:
        if (self.state, Input.PACKET) not in TRANSITIONS:
            self.ignored += 1
            return
        self._deadline = None
        self.rssi = max(-127, min(20, int(round(packet.rssi_dbm))))
        if not self.is_central and self._first_rx:
            self.clock.observed(self.counter, packet.start_ns)
            self._tw_ns = 0
        self._first_rx = False
        ok = self._receive(packet.pdu, packet.crc, now)
        if self._closed():
            return
        if not self.is_central and ok:
            self._flush_notify(now)
            if self._closed():
                return
        t = packet.end_ns + T_IFS
        if self.is_central:
            if self._crc_run >= 2 or not self._central_continue(t):
                self._end_event(now)
                return
            self._central_tx(t)
        else:
            if self._crc_run >= 2:
                self._end_event(now)
                return
            self._peripheral_tx(t)

    # ---------------------------------------------------------------- the event
    def _event_setup(self, c: int, now: int) -> None:
        """Bookkeeping at the start of event ``c`` (run or skipped)."""
        self.counter = c
        if self._upd is not None or self._map_pending is not None or self._phy_pending is not None:
            self._apply_instants(c, now)
            if self._closed():
                return
        if not self.established:
            if c >= ESTABLISHMENT_EVENTS:
                self.close(FAILED_TO_BE_ESTABLISHED, now)
                return
        elif now - self.last_rx_ns >= self.timeout_ns:
            self.close(CONNECTION_TIMEOUT, now)
            return
        self.control.on_event_start(now)
        if self._closed():
            return
        if self._csa1 is not None:
            self._channel = self._csa1.channel_for_event(c, self.channel_map)
        else:
            self._channel = csa2_channel(c & 0xFFFF, self._chan_id, self.channel_map)

    def _apply_instants(self, c: int, now: int) -> None:
        upd = self._upd
        if upd is not None and c >= upd.instant:
            self._upd = None
            changed = (upd.interval, upd.latency, upd.timeout) != (self.interval, self.latency, self.timeout)
            self.clock.rebase_update(upd.instant, upd.win_offset_ns, upd.interval * UNIT_1250US)
            if not self.is_central:
                self._tw_ns = upd.win_size_ns
                self._first_rx = True
            self.interval, self.latency, self.timeout = upd.interval, upd.latency, upd.timeout
            self._notify.append((Proc.CONN_UPDATE, changed))
        mp = self._map_pending
        if mp is not None and c >= mp[0]:
            self._map_pending = None
            self.channel_map = mp[1]
            self._notify.append((Proc.CHANNEL_MAP, True))
        ph = self._phy_pending
        if ph is not None and c >= ph[0]:
            self._phy_pending = None
            _, c2p, p2c = ph
            old = (self.tx_phy, self.rx_phy)
            tx, rx = (c2p, p2c) if self.is_central else (p2c, c2p)
            self.tx_phy = tx or self.tx_phy
            self.rx_phy = rx or self.rx_phy
            self._notify.append((Proc.PHY, old != (self.tx_phy, self.rx_phy)))
        if self._notify and self.is_central:
            self._flush_notify(now)

    def _flush_notify(self, now: int) -> None:
        notes, self._notify = self._notify, []
        for kind, changed in notes:
            self.control.on_instant(kind, changed, now)
            if self._closed():
                return

    def _should_yield(self, now: int, h: tuple[int, object]) -> bool:
        """Give way to a connection whose event overlaps ours and that lost more events."""
        t_other, other = h
        need = airtime_ns(self.tx_phy, 2) + T_IFS + airtime_ns(self.rx_phy, 2) + GUARD_NS
        if not self.is_central:
            need += self._window(self.counter)[1] - now
        if now + need <= t_other or not isinstance(other, Connection):
            return False
        return other.skipped_in_a_row > self.skipped_in_a_row

    def _central_continue(self, t: int) -> bool:
        # Both MD bits 0 in the last exchange: the Central closes the event (4.5.6), even
        # if it has something new (it goes in the next event).
        if not (self._peer_md or self._own_md) or not (self._peer_md or self._has_more()):
            return False
        self._prepare()
        p = self._in_flight
        tx_len = 2 + (len(p.air) if p is not None else 0)
        rx_len = 2 + ((self._rx_octets + (MIC if self._rx_dec else 0)) if self._peer_md else 0)
        need = airtime_ns(self.tx_phy, tx_len) + T_IFS + airtime_ns(self.rx_phy, rx_len)
        return t + need <= self._event_end

    def _has_more(self) -> bool:
        p = self._in_flight
        if p is not None and p.air:
            return True
        return bool(self._control_q) or (not self._data_paused and self.acl.has_data())

    def _central_tx(self, t: int) -> None:
        end = self._transmit(t)
        if self._close_after is not None:
            self.state = State.TX
            self._deadline = end
            return
        start = end + T_IFS - T_IFS_TOLERANCE_NS
        close = end + T_IFS + T_IFS_TOLERANCE_NS
        self.radio.listen(self, RadioRx(start, close, self._channel, self.rx_phy, self.access_address))
        self.state = State.RX_WAIT
        self._deadline = close + _RX_MARGIN_NS

    def _peripheral_tx(self, t: int) -> None:
        end = self._transmit(t)
        if self._close_after is None and (self._peer_md or self._own_md):
            start = end + T_IFS - T_IFS_TOLERANCE_NS
            close = end + T_IFS + T_IFS_TOLERANCE_NS
            self.radio.listen(self, RadioRx(start, close, self._channel, self.rx_phy, self.access_address))
            self.state = State.RX_WAIT
            self._deadline = close + _RX_MARGIN_NS
            return
        if self._close_after is None:
            # Nobody has more data: the event ends with this packet. The radio stays busy
            # until it is sent (the scheduler grants nobody a transmitting radio), so the
            # event can be closed now rather than by a timer at the packet's end.
            self._end_event(t - T_IFS)
            return
        self.state = State.TX
        self._deadline = end

    def _rx_failed(self, now: int) -> None:
        """A packet locked onto did not arrive intact (collision): a CRC error."""
        self._crc_run += 1
        self.crc_errors += 1
        self._first_rx = False
        t = now + T_IFS
        if self.is_central and self._crc_run < 2 and self._has_more() and self._central_continue(t):
            self._central_tx(t)
            return
        self._end_event(now)

    def _end_event(self, now: int) -> None:
        self.radio.idle(self)
        self._deadline = None
        self.state = State.IDLE
        self._release(self, now)
        self._plan(now)

    def _plan(self, now: int, first: bool = False) -> None:
        """Choose the next event to take part in, and when it starts."""
        if self._closed():
            return
        c = 0 if first else self.counter + 1
        if not first and not self.is_central and self.latency and self.established and not self._must_listen():
            c = self.counter + 1 + self.latency
            for pending in (self._upd.instant if self._upd else None,
                            self._map_pending[0] if self._map_pending else None,
                            self._phy_pending[0] if self._phy_pending else None):
                if pending is not None and pending > self.counter:
                    c = min(c, pending)
        start = self._start_of(c)
        while start < now:
            c += 1
            start = self._start_of(c)
        self.next_counter = c
        self._next_start = start
        if not self.is_central:
            self._next_close = self._window(c)[1]

    def _must_listen(self) -> bool:
        p = self._in_flight
        return bool((p is not None and p.air) or self._has_more() or self.control.local is not None
                    or self.control.enc is not None or self._notify)

    def wake(self, now: int) -> None:
        """Something to send: a sleeping Peripheral takes part in the next event again."""
        if self.state is not State.IDLE or self.is_central or self.next_counter <= self.counter + 1:
            return
        c = self.counter + 1
        start = self._start_of(c)
        while start < now:
            c += 1
            start = self._start_of(c)
        if c < self.next_counter:
            self.next_counter = c
            self._next_start = start
            self._next_close = self._window(c)[1]

    # ---------------------------------------------------------------- transmit
    def _prepare(self) -> None:
        """Choose the PDU to send next if the last one was acknowledged."""
        if self._in_flight is not None:
            return
        pdu: ControlPdu | None = None
        while self._control_q and pdu is None:
            item = self._control_q.popleft()
            pdu = item if isinstance(item, ControlPdu) else item(max(self.counter, 0))
        if pdu is not None:
            payload = pdu.to_bytes()
            self._in_flight = self._seal(TxPdu(LLID_CONTROL, payload, payload, pdu))
            return
        if not self._data_paused and self.acl.has_data():
            mic = MIC if self._tx_enc else 0
            limit = min(self._tx_octets, octets_for_time(self.tx_phy, self.control.effective_lengths()[1], mic))
            llid, payload, completes = self.acl.pop(limit)
            self._in_flight = self._seal(TxPdu(llid, payload, payload, None, completes))
            return
        self._in_flight = EMPTY_PDU

    def _seal(self, p: TxPdu) -> TxPdu:
        if self._tx_enc and p.payload and self._cipher is not None:
            try:
                p.air = self._cipher.encrypt(p.llid, p.payload, self.is_central)
                p.sealed = True
            except CryptoError:
                p.air = p.payload
        return p

    def _transmit(self, t: int) -> int:
        """Send the current PDU at ``t``; returns when it ends."""
        self._prepare()
        p = self._in_flight
        assert p is not None
        if p is self._last_sent and p.air:
            self.retransmissions += 1
        self._last_sent = p
        md = self._has_more_after()
        self._own_md = md
        hdr0 = p.llid | (self.rx_nesn << 2) | (self.tx_sn << 3) | (0x10 if md else 0)
        if p.air:
            pdu = bytes((hdr0, len(p.air))) + p.air
            crc = crc24_bytes(self.crc_init, pdu)
        else:
            pdu, crc = self._empty_pdus[hdr0]
        info = self._air_info
        if p.sealed:
            plaintext = bytes((hdr0, len(p.payload))) + p.payload
            info = AirInfo(pdu_kind=info.pdu_kind, plaintext=plaintext, mic_valid=True, crc_init=self.crc_init)
        end = t + airtime_ns(self.tx_phy, len(pdu))
        self.radio.transmit(self, RadioTx(t, self._channel, self.tx_phy, self.access_address, pdu, crc,
                                          self.tx_power_dbm, info), end)
        return end

    def _has_more_after(self) -> bool:
        return bool(self._control_q) or (not self._data_paused and self.acl.has_data())

    # ---------------------------------------------------------------- receive
    def _receive(self, pdu: bytes, crc: bytes, now: int) -> bool:
        """Process a received packet; False for a CRC error."""
        if len(pdu) < 2 or not check_crc(self.crc_init, pdu, crc):
            self._crc_run += 1
            self.crc_errors += 1
            return False
        self._crc_run = 0
        self.last_rx_ns = now
        self.established = True
        hdr0 = pdu[0]
        self._peer_md = bool(hdr0 & 0x10)
        if ((hdr0 >> 2) & 1) != self.tx_sn:
            self.tx_sn ^= 1
            acked = self._in_flight
            self._in_flight = None
            if acked is not None:
                self._acked(acked, now)
                if self._closed():
                    return True
        if ((hdr0 >> 3) & 1) != self.rx_nesn:
            return True  # a duplicate: acknowledged, not delivered
        self.rx_nesn ^= 1
        start = 3 if hdr0 & 0x20 else 2
        if len(pdu) != start + pdu[1] or len(pdu) == start:
            return True
        body = pdu[start:]
        if self._rx_dec and self._cipher is not None:
            try:
                body = self._cipher.decrypt(hdr0, body, not self.is_central)
            except MicFailure:
                self.close(MIC_FAILURE, now)
                return True
            self.control.authenticated(now)
        llid = hdr0 & 0x03
        if llid == LLID_CONTROL:
            self.control.on_control_pdu(body, now)
        elif llid and len(body) <= 251:
            self.host.acl_to_host(self, llid, body)
        return True

    def _acked(self, p: TxPdu, now: int) -> None:
        if p.control is not None:
            self.control.on_acked(p.control, now)
        if p.completes:
            self.host.acl_completed(self, p.completes)

    # ---------------------------------------------------------------- host side
    def queue_acl(self, starts: bool, data: bytes, now: int) -> bool:
        """A host ACL packet; False when it is empty (complete at once)."""
        if not self.acl.push(starts, data):
            return False
        self.wake(now)
        return True

    def next_anchor(self) -> tuple[int, int] | None:
        """(time of the next planned anchor, interval in ns), None once closed."""
        if self._closed():
            return None
        return self._time(self.next_counter), self.interval_ns

    def release_buffers(self) -> int:
        """Drop every host packet still held; returns how many there were."""
        held = self.acl.flush()
        p = self._in_flight
        if p is not None and p.completes:
            held += p.completes
            p.completes = 0
        return held

    def close(self, reason: int, now: int) -> None:
        """The link ends now with ``reason`` (Disconnection_Complete follows)."""
        if self._closed():
            return
        was_current = self.state is not State.IDLE
        self.state = State.CLOSED
        self._next_start = None
        self._deadline = None
        self.radio.idle(self)
        if was_current:
            self._release(self, now)
        self.control.link_closed()
        self.host.connection_closed(self, reason, now)

    # ---------------------------------------------------------------- Link (control)
    def send_control(self, item: ControlItem) -> None:
        if isinstance(item, LL_TERMINATE_IND):
            self._control_q.clear()
            self._control_q.appendleft(item)
        else:
            self._control_q.append(item)

    def emit(self, event: HciEvent) -> None:
        self.host.emit(event)

    def le_event_enabled(self, subevent: int) -> bool:
        return self.host.le_event_enabled(subevent)

    def close_after_ack(self, reason: int) -> None:
        self._close_after = reason

    def schedule_update(self, instant: int, win_size: int, win_offset: int, interval: int,
                        latency: int, timeout: int) -> None:
        self._upd = _Update(instant, win_size * UNIT_1250US, win_offset * UNIT_1250US, interval,
                            latency, timeout)

    def schedule_channel_map(self, instant: int, channel_map: ChannelMap) -> None:
        self._map_pending = (instant, channel_map)

    def schedule_phy(self, instant: int, c_to_p: Phy | None, p_to_c: Phy | None) -> None:
        self._phy_pending = (instant, c_to_p, p_to_c)

    def set_data_paused(self, paused: bool) -> None:
        self._data_paused = paused

    def set_cipher(self, cipher: LlCipher | None) -> None:
        self._cipher = cipher

    def set_rx_decrypt(self, on: bool) -> None:
        self._rx_dec = on

    def set_tx_encrypt(self, on: bool) -> None:
        self._tx_enc = on

    def lengths_changed(self) -> None:
        tx_o, _, rx_o, _ = self.control.effective_lengths()
        self._tx_octets = tx_o
        self._rx_octets = rx_o

    @property
    def effective_lengths(self) -> tuple[int, int, int, int]:
        return self.control.effective_lengths()
