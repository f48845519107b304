"""The scanner: passive and active, legacy and extended (Vol 6 Part B 4.4.3).

Theory of operation
-------------------
The scanner is the controller's *background* activity: it listens whenever no
foreground activity (advertising event, connection event) holds the radio. Scanning
time is cut into scan intervals; the radio listens for the scan window at the start of
each, on the next primary channel of 37, 38, 39 in turn (and, with extended scanning on
two PHYs, alternating PHYs interval by interval).

A received primary PDU passes the scanner filter policy (4.3.3: 0 accept all
undirected and directed-to-us, 1 only the filter accept list, 2 and 3 also directed PDUs
whose TargetA is a resolvable private address) and becomes a :class:`ScanReport` for
the controller to turn into HCI reports. An active scanner answers a scannable PDU with
a SCAN_REQ at T_IFS when its backoff counter allows (4.4.3.2: upperLimit halves after
two consecutive successes and doubles after two consecutive failures, 1..256) and
listens for the SCAN_RSP at T_IFS after that.

ADV_EXT_IND PDUs are followed: the radio is retuned to the AuxPtr's secondary channel
and PHY at the given offset for the AUX_ADV_IND, then along AUX_CHAIN_IND pointers,
gathering up to 1650 octets of data; an active scanner sends AUX_SCAN_REQ and follows
the AUX_SCAN_RSP chain. A chain that breaks is reported with data status "truncated".

With address resolution on (the controller's resolving list, :mod:`linklayer.ctrl_privacy`)
the host's ``filter_accepts`` and ``is_own_address`` compare identities, and
``privacy_blocks`` drops a peer that network privacy mode ignores.

Duplicate filtering drops a report already made since scanning was enabled (legacy:
same address and event type; extended: same address, SID and DID), and with
Filter_Duplicates 0x02 the memory is cleared every scan period.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from phy.airtime import airtime_ns
from phy.types import Phy, Rng
from phy.units import T_IFS, US

from .address import Address, AddressKind
from .crypto import ADV_CRC_INIT, check_crc, crc24_bytes
from .pdu import (
    ADV_DIRECT_IND,
    ADV_IND,
    ADV_NONCONN_IND,
    ADV_SCAN_IND,
    AUX_SCAN_REQ,
    SCAN_REQ,
    SCAN_RSP,
    AdvPdu,
    decode_adv_pdu,
)
from .pdu_ext import AuxPhy, AuxPtr, ExtendedAdvPdu, PduDecodeError, PduFieldError
from .radio import ADVERTISING_ACCESS_ADDRESS, RadioPacket, RadioRx, RadioTx
from .scheduler import Radio

PRIMARY_CHANNELS = (37, 38, 39)
T_IFS_TOLERANCE_NS = 2 * US
#: Extra time the radio listens around an AuxPtr instant (clock accuracy and offset unit).
AUX_WINDOW_MARGIN_NS = 10 * US
MAX_DATA = 1650

# Legacy Advertising Report event types (Vol 4 Part E 7.7.65.2).
REPORT_ADV_IND = 0
REPORT_ADV_DIRECT_IND = 1
REPORT_ADV_SCAN_IND = 2
REPORT_ADV_NONCONN_IND = 3
REPORT_SCAN_RSP = 4

# Extended Advertising Report event type bits (Vol 4 Part E 7.7.65.13).
EXT_CONNECTABLE = 0x01
EXT_SCANNABLE = 0x02
EXT_DIRECTED = 0x04
EXT_SCAN_RESPONSE = 0x08
EXT_LEGACY = 0x10
DATA_COMPLETE = 0
DATA_INCOMPLETE_MORE = 1
DATA_TRUNCATED = 2

#: Legacy PDU -> (legacy report type, extended event type with the legacy bit).
_LEGACY_TYPES: dict[type, tuple[int, int]] = {
    ADV_IND: (REPORT_ADV_IND, 0x13),
    ADV_DIRECT_IND: (REPORT_ADV_DIRECT_IND, 0x15),
    ADV_SCAN_IND: (REPORT_ADV_SCAN_IND, 0x12),
    ADV_NONCONN_IND: (REPORT_ADV_NONCONN_IND, 0x10),
}


@dataclass(frozen=True)
class ScanPhy:
    """Scan parameters for one PHY (Vol 4 Part E 7.8.64)."""

    phy: Phy = Phy.LE_1M
    active: bool = False
    interval_ns: int = 10_000_000
    window_ns: int = 10_000_000


@dataclass(frozen=True)
class ScanConfig:
    """Everything the host configured for a scan (legacy or extended commands)."""

    phys: tuple[ScanPhy, ...] = (ScanPhy(),)
    own_address: Address = field(default_factory=lambda: Address(bytes(6)))
    filter_policy: int = 0
    filter_duplicates: int = 0
    extended: bool = False
    duration_ns: int = 0
    period_ns: int = 0


class ScanReport(NamedTuple):
    """One advertising report, before the controller formats it for the HCI."""

    legacy_event_type: int | None  # for LE Advertising Report; None: extended only
    event_type: int  # extended event type bits, without the data status
    address: Address | None
    primary_phy: Phy
    secondary_phy: Phy | None
    sid: int | None
    tx_power: int | None
    rssi: int
    direct_address: Address | None
    data: bytes
    data_status: int = DATA_COMPLETE


class ScannerHost(Protocol):
    def report(self, report: ScanReport, now: int) -> None: ...

    def filter_accepts(self, address: Address) -> bool: ...

    def is_own_address(self, address: Address) -> bool: ...

    def privacy_blocks(self, address: Address) -> bool: ...

    def scan_timeout(self, now: int) -> None: ...


class State(enum.Enum):
    IDLE = "between windows or suspended"
    LISTENING = "listening on a primary channel"
    RECEIVING = "receiving a primary packet"
    REQUESTING = "sending a scan request"
    AWAIT_RESPONSE = "listening for a scan response"
    RECEIVING_RESPONSE = "receiving a scan response"
    AUX_WAIT = "waiting for an auxiliary packet"
    AUX_LISTEN = "listening for an auxiliary packet"
    AUX_RECEIVING = "receiving an auxiliary packet"


# Module-level names for the members used on every packet (an enum member looked up on
# its class costs several times a global).
_IDLE = State.IDLE
_LISTENING = State.LISTENING
_RECEIVING = State.RECEIVING
_LE_1M = Phy.LE_1M
#: Reports are named tuples, whose own ``__new__`` is a slow Python function.
_new_tuple = tuple.__new__


@dataclass
class _Follow:
    """An extended advertisement being gathered across AUX packets."""

    adv_a: Address | None
    target_a: Address | None
    primary_phy: Phy
    secondary_phy: Phy
    sid: int | None
    did: int | None
    tx_power: int | None
    event_type: int
    data: bytearray
    rssi: int
    channel: int
    at_ns: int
    window_end_ns: int
    scan_response: bool = False


class _Span(NamedTuple):
    """A scan window as :meth:`Scanner._open_window` opened it, so that the scanner can go
    on listening in it after each packet without working the scan interval out again."""

    start: int  # the scan interval's start
    upto: int  # a packet received before this instant leaves the scanner in this window
    end: int  # the scan window's end
    stop: int  # where listening stops (the window's end, or earlier for the foreground)
    channel: int
    params: ScanPhy
    until: int | None  # the foreground limit it was opened with
    key: object  # the scanner's ``_open`` for it
    config: ScanConfig


class Scanner:
    """The background scanning activity of one controller."""

    def __init__(self, config: ScanConfig, radio: Radio, rng: Rng, host: ScannerHost, now: int) -> None:
        self.config = config
        self.radio = radio
        self.rng = rng
        self.host = host
        self.started_at = now
        self.state = State.IDLE
        self.enabled = True
        self._deadline: int | None = now
        self._until: int | None = None
        self._window: tuple[int, int, int, ScanPhy] | None = None  # (start, end, channel, params)
        self._seen: set[tuple[object, ...]] = set()
        self._period_index = 0
        # Backoff (4.4.3.2)
        self.upper_limit = 1
        self.backoff_count = 1
        self._successes = 0
        self._failures = 0
        self._pending_req: tuple[Address, int, ScanPhy] | None = None  # (adv_a, event_type, params)
        self._follow: _Follow | None = None
        self._req_end = 0
        self._req_channel: tuple[int, Phy] = (37, Phy.LE_1M)
        self._pending_params = config.phys[0]
        self.scan_requests_sent = 0
        #: (stop, channel, PHY) of the persistent scan window open in the medium, if any.
        self._open: tuple[int, int, Phy] | None = None
        #: The scan window last opened, valid while ``_open`` is still its window.
        self._span: _Span | None = None
        self.scan_responses_received = 0
        self.ignored = 0

    # -- background interface -------------------------------------------------------
    def wants_radio(self) -> bool:
        return self.enabled

    def deadline(self) -> int | None:
        return self._deadline

    def resume(self, now: int, until: int | None) -> None:
        self._until = until
        if self.state is _IDLE:
            self._open_window(now)

    def suspend(self, now: int) -> None:
        if self._follow is not None:
            self._report_follow(now, truncated=True)
        self._forget_window()
        self.state = State.IDLE
        self._pending_req = None
        self._deadline = self._next_window_start(now)

    def on_timer(self, now: int) -> None:
        self._deadline = None
        if self._check_duration(now):
            return
        st = self.state
        if st is State.IDLE:
            self._open_window(now)
        elif st in (State.LISTENING,):
            self._forget_window()
            self.state = State.IDLE
            self._open_window(now)
        elif st is _RECEIVING:
            # The packet we synchronised to never arrived (collision): back to listening.
            self.state = _IDLE
            self._reopen_window(now)
        elif st is State.REQUESTING:
            self._listen_response(now)
        elif st in (State.AWAIT_RESPONSE, State.RECEIVING_RESPONSE):
            self._forget_window()
            self._backoff_result(False)
            self._pending_req = None
            self.state = State.IDLE
            self._open_window(now)
        elif st is State.AUX_WAIT:
            self._listen_aux(now)
        elif st in (State.AUX_LISTEN, State.AUX_RECEIVING):
            self._forget_window()
            if self._pending_req is not None:
                self._backoff_result(False)
                self._pending_req = None
            self._report_follow(now, truncated=True)
            self.state = State.IDLE
            self._open_window(now)

    def on_synced(self, now: int) -> None:
        # The packet ends in on_packet, or in on_lost when it cannot be decoded.
        if self.state is _LISTENING:
            self.state = _RECEIVING
            self._deadline = None
        elif self.state is State.AWAIT_RESPONSE:
            self.state = State.RECEIVING_RESPONSE
            self._deadline = None
        elif self.state is State.AUX_LISTEN and self._follow is not None:
            self.state = State.AUX_RECEIVING
            self._deadline = None
        else:
            self.ignored += 1

    def on_lost(self, now: int) -> None:
        """The packet locked onto ended undecodable: as if it had a bad CRC."""
        if self.state in (State.RECEIVING, State.RECEIVING_RESPONSE, State.AUX_RECEIVING):
            self.on_timer(now)
        else:
            self.ignored += 1

    def on_packet(self, packet: RadioPacket, now: int) -> None:
        st = self.state
        ok = check_crc(ADV_CRC_INIT, packet.pdu, packet.crc)
        if st is _RECEIVING:
            self.state = _IDLE
            self._deadline = None
            if ok:
                self._primary(packet, now)
            if self.state is _IDLE:
                self._reopen_window(now)
        elif st is State.RECEIVING_RESPONSE:
            self._deadline = None
            self._response(packet, ok, now)
        elif st is State.AUX_RECEIVING:
            self._deadline = None
            self._aux(packet, ok, now)
        else:
            self.ignored += 1

    # -- control ---------------------------------------------------------------------
    def stop(self) -> None:
        self.enabled = False
        self._forget_window()
        self.state = State.IDLE
        self._deadline = None
        self._follow = None

    def _forget_window(self) -> None:
        """Close our window (the radio is given up or used for something else)."""
        self._open = None
        self.radio.idle(self)

    # -- windows ---------------------------------------------------------------------
    def _params_for(self, k: int) -> tuple[ScanPhy, int]:
        phys = self.config.phys
        params = phys[k % len(phys)]
        channel = PRIMARY_CHANNELS[(k // len(phys)) % 3]
        return params, channel

    def _interval_index(self, now: int) -> tuple[int, int]:
        """(index of the scan interval containing now, its start)."""
        interval = self.config.phys[0].interval_ns
        k = (now - self.started_at) // interval
        return k, self.started_at + k * interval

    def _next_window_start(self, now: int) -> int:
        k, start = self._interval_index(now)
        params, _ = self._params_for(k)
        if now < start + params.window_ns:
            return now
        return start + self.config.phys[0].interval_ns

    def _reopen_window(self, now: int) -> None:
        """:meth:`_open_window` after a packet, usually inside the window it came in."""
        span = self._span
        if (span is not None and span.start <= now < span.upto and span.key is self._open
                and span.until == self._until and span.config is self.config):
            # Still inside the scan window whose persistent window the medium keeps open:
            # what _open_window decides, without working the scan interval out again.
            self._window = (now, span.end, span.channel, span.params)
            self.radio.resume(self)
            self.state = _LISTENING
            self._deadline = span.stop
        else:
            self._open_window(now)

    def _open_window(self, now: int) -> None:
        if not self.enabled:
            return
        k, start = self._interval_index(now)
        params, channel = self._params_for(k)
        end = start + params.window_ns
        if now >= end:
            self.state = State.IDLE
            self._deadline = start + self.config.phys[0].interval_ns
            return
        stop = end if self._until is None else min(end, self._until)
        if stop <= now:
            self.state = State.IDLE
            self._deadline = None
            return
        self._window = (now, end, channel, params)
        key = (stop, channel, params.phy)
        if self._open == key:
            # The persistent window is still open in the medium: go on listening in it.
            self.radio.resume(self)
        else:
            self.radio.listen(self, RadioRx(now, stop, channel, params.phy, ADVERTISING_ACCESS_ADDRESS, True))
            self._open = key
        self.state = State.LISTENING
        self._deadline = stop
        if self.config.duration_ns:
            self._deadline = min(stop, self.started_at + self._duration_end())
        else:
            # Lets on_packet resume this window while the same persistent window is open
            # (up to ``stop``, within this scan interval).
            self._span = _Span(start, min(stop, start + self.config.phys[0].interval_ns), end, stop,
                               channel, params, self._until, self._open, self.config)

    def _duration_end(self) -> int:
        c = self.config
        if c.period_ns:
            return (self._period_index * c.period_ns) + c.duration_ns
        return c.duration_ns

    def _check_duration(self, now: int) -> bool:
        c = self.config
        if not c.duration_ns:
            return False
        elapsed = now - self.started_at
        if c.period_ns:
            into = elapsed - self._period_index * c.period_ns
            if into >= c.period_ns:
                self._period_index += 1
                if c.filter_duplicates == 2:
                    self._seen.clear()
                return False
            if into >= c.duration_ns:
                self._forget_window()
                self.state = State.IDLE
                self._deadline = self.started_at + (self._period_index + 1) * c.period_ns
                return True
            return False
        if elapsed >= c.duration_ns:
            self.stop()
            self.host.scan_timeout(now)
            return True
        return False

    # -- primary channel ------------------------------------------------------------
    def _primary(self, packet: RadioPacket, now: int) -> None:
        try:
            pdu = decode_adv_pdu(packet.pdu)
        except (PduDecodeError, PduFieldError):
            self.ignored += 1
            return
        params = self._window[3] if self._window else self.config.phys[0]
        rssi = _rssi(packet)
        if isinstance(pdu, ExtendedAdvPdu):
            if not self.config.extended:
                return
            self._start_follow(pdu, packet, params, now)
            return
        kinds = _LEGACY_TYPES.get(type(pdu))
        if kinds is None:
            return  # SCAN_REQ, SCAN_RSP, CONNECT_IND from others: not for a scanner
        adv_a: Address = pdu.adv_a
        direct: Address | None = None
        if isinstance(pdu, ADV_DIRECT_IND):
            direct = pdu.target_a
            if not self._directed_to_us(direct):
                return
        if not self._policy_accepts(adv_a):
            return
        legacy_type, ext_type = kinds
        data = getattr(pdu, "adv_data", b"")
        # ScanReport(legacy_type, ext_type, adv_a, LE_1M, None, None, None, rssi, direct, data),
        # made as the tuple it is (a named tuple's own __new__ is a slow Python function).
        report = _new_tuple(ScanReport, (
            legacy_type, ext_type, adv_a, _LE_1M, None, None, None, rssi, direct, data, DATA_COMPLETE))
        if self.config.filter_duplicates:
            self._emit(report, ("L", adv_a, legacy_type), now)
        else:
            self.host.report(report, now)  # = _emit(); its duplicate key is not built for nothing
        if params.active and isinstance(pdu, (ADV_IND, ADV_SCAN_IND)) and self._backoff_allows():
            self._send_request(SCAN_REQ(self.config.own_address, adv_a), packet, params, ext_type, now)

    def _directed_to_us(self, target: Address) -> bool:
        if self.host.is_own_address(target):
            return True
        return self.config.filter_policy in (2, 3) and target.kind is AddressKind.RESOLVABLE_PRIVATE

    def _policy_accepts(self, adv_a: Address | None) -> bool:
        if adv_a is not None and self.host.privacy_blocks(adv_a):
            return False  # network privacy mode (the controller's resolving list)
        if self.config.filter_policy in (1, 3):
            return adv_a is not None and self.host.filter_accepts(adv_a)
        return True

    def _emit(self, report: ScanReport, key: tuple[object, ...], now: int) -> None:
        if self.config.filter_duplicates:
            if key in self._seen:
                return
            self._seen.add(key)
        self.host.report(report, now)

    # -- scan requests ----------------------------------------------------------------
    def _backoff_allows(self) -> bool:
        self.backoff_count -= 1
        if self.backoff_count > 0:
            return False
        return True

    def _backoff_result(self, success: bool) -> None:
        if success:
            self._successes += 1
            self._failures = 0
            if self._successes == 2:
                self.upper_limit = max(1, self.upper_limit // 2)
                self._successes = 0
        else:
            self._failures += 1
            self._successes = 0
            if self._failures == 2:
                self.upper_limit = min(256, self.upper_limit * 2)
                self._failures = 0
        self.backoff_count = self.rng.randint(1, self.upper_limit)

    def _send_request(
        self, req: SCAN_REQ, packet: RadioPacket, params: ScanPhy, ext_type: int, now: int
    ) -> None:
        pdu = req.to_bytes()
        start = packet.end_ns + T_IFS
        end = start + airtime_ns(packet.phy, len(pdu))
        self._open = None
        self.radio.transmit(
            self,
            RadioTx(start, packet.channel, packet.phy, ADVERTISING_ACCESS_ADDRESS, pdu,
                    crc24_bytes(ADV_CRC_INIT, pdu), 0.0),
            end,
        )
        self.scan_requests_sent += 1
        self._pending_req = (req.adv_a, ext_type, params)
        self._req_end = end
        self._req_channel = (packet.channel, packet.phy)
        self.state = State.REQUESTING
        self._deadline = end

    def _listen_response(self, now: int) -> None:
        channel, phy = self._req_channel
        start = self._req_end + T_IFS - T_IFS_TOLERANCE_NS
        end = self._req_end + T_IFS + T_IFS_TOLERANCE_NS
        if self._follow is not None:
            self._open = None
            self.radio.listen(self, RadioRx(start, end, channel, phy, ADVERTISING_ACCESS_ADDRESS))
            self.state = State.AUX_LISTEN
            self._follow.scan_response = True
            self._deadline = end
            return
        self._open = None
        self.radio.listen(self, RadioRx(start, end, channel, phy, ADVERTISING_ACCESS_ADDRESS))
        self.state = State.AWAIT_RESPONSE
        self._deadline = end

    def _response(self, packet: RadioPacket, ok: bool, now: int) -> None:
        pending = self._pending_req
        self._pending_req = None
        self.state = State.IDLE
        pdu: AdvPdu | None = None
        if ok:
            try:
                pdu = decode_adv_pdu(packet.pdu)
            except (PduDecodeError, PduFieldError):
                pdu = None
        if pending is None or not isinstance(pdu, SCAN_RSP) or pdu.adv_a != pending[0]:
            self._backoff_result(False)
        else:
            self._backoff_result(True)
            self.scan_responses_received += 1
            ext_type = pending[1] | EXT_SCAN_RESPONSE
            self._emit(
                ScanReport(REPORT_SCAN_RSP, ext_type, pdu.adv_a, Phy.LE_1M, None, None, None,
                           _rssi(packet), None, pdu.scan_rsp_data),
                ("R", pdu.adv_a),
                now,
            )
        self._open_window(now)

    # -- extended advertising -----------------------------------------------------------
    def _start_follow(self, pdu: ExtendedAdvPdu, packet: RadioPacket, params: ScanPhy, now: int) -> None:
        ptr = pdu.aux_ptr
        if ptr is None:
            # Everything is in the ADV_EXT_IND itself (no AuxPtr): report it as is.
            f = self._new_follow(pdu, packet, Phy.LE_1M, now)
            self._follow = f
            self._report_follow(now, truncated=False)
            return
        sec = _aux_phy(ptr)
        f = self._new_follow(pdu, packet, sec, now)
        f.at_ns = packet.start_ns + ptr.offset_ns()
        f.window_end_ns = f.at_ns + ptr.unit_ns() + AUX_WINDOW_MARGIN_NS
        f.channel = ptr.channel_index
        self._follow = f
        self._pending_params = params
        self._forget_window()
        self.state = State.AUX_WAIT
        self._deadline = max(now, f.at_ns - AUX_WINDOW_MARGIN_NS)

    def _new_follow(self, pdu: ExtendedAdvPdu, packet: RadioPacket, sec: Phy, now: int) -> _Follow:
        event_type = {0: 0, 1: EXT_CONNECTABLE, 2: EXT_SCANNABLE}.get(int(pdu.adv_mode), 0)
        return _Follow(
            adv_a=pdu.adv_a, target_a=pdu.target_a, primary_phy=packet.phy, secondary_phy=sec,
            sid=pdu.adi.sid if pdu.adi else None, did=pdu.adi.did if pdu.adi else None,
            tx_power=pdu.tx_power, event_type=event_type, data=bytearray(pdu.adv_data),
            rssi=_rssi(packet), channel=packet.channel, at_ns=now, window_end_ns=now,
        )

    def _listen_aux(self, now: int) -> None:
        f = self._follow
        if f is None:
            self.state = State.IDLE
            self._open_window(now)
            return
        start = max(now, f.at_ns - AUX_WINDOW_MARGIN_NS)
        self._open = None
        self.radio.listen(self, RadioRx(start, f.window_end_ns, f.channel, f.secondary_phy, ADVERTISING_ACCESS_ADDRESS))
        self.state = State.AUX_LISTEN
        self._deadline = f.window_end_ns

    def _aux(self, packet: RadioPacket, ok: bool, now: int) -> None:
        f = self._follow
        if f is None:
            self.state = State.IDLE
            self._open_window(now)
            return
        pdu: AdvPdu | None = None
        if ok:
            try:
                pdu = decode_adv_pdu(packet.pdu, secondary=True)
            except (PduDecodeError, PduFieldError):
                pdu = None
        if not isinstance(pdu, ExtendedAdvPdu):
            if self._pending_req is not None:
                self._backoff_result(False)
                self._pending_req = None
            self._report_follow(now, truncated=True)
            self.state = State.IDLE
            self._open_window(now)
            return
        if pdu.adv_a is not None:
            f.adv_a = pdu.adv_a
        if pdu.target_a is not None:
            f.target_a = pdu.target_a
        if pdu.tx_power is not None:
            f.tx_power = pdu.tx_power
        if self._pending_req is not None and f.scan_response:
            self._backoff_result(True)
            self._pending_req = None
            self.scan_responses_received += 1
        f.rssi = _rssi(packet)
        f.data += pdu.adv_data
        if f.target_a is not None and not self._directed_to_us(f.target_a):
            self._follow = None
            self.state = State.IDLE
            self._open_window(now)
            return
        if not f.scan_response and not self._policy_accepts(f.adv_a):
            self._follow = None
            self.state = State.IDLE
            self._open_window(now)
            return
        if pdu.aux_ptr is not None and len(f.data) < MAX_DATA:
            ptr = pdu.aux_ptr
            f.at_ns = packet.start_ns + ptr.offset_ns()
            f.window_end_ns = f.at_ns + ptr.unit_ns() + AUX_WINDOW_MARGIN_NS
            f.channel = ptr.channel_index
            f.secondary_phy = _aux_phy(ptr)
            self.state = State.AUX_WAIT
            self._deadline = max(now, f.at_ns - AUX_WINDOW_MARGIN_NS)
            return
        # The advertisement (or scan response) is complete.
        params = self._pending_params
        scannable = bool(f.event_type & EXT_SCANNABLE) and not f.scan_response
        self._report_follow(now, truncated=False)
        if scannable and params.active and f.adv_a is not None and self._backoff_allows():
            follow = _Follow(**{**f.__dict__, "data": bytearray(), "scan_response": True})
            self._follow = follow
            req = AUX_SCAN_REQ(self.config.own_address, f.adv_a)
            self._send_request(req, packet, params, f.event_type, now)
            return
        self.state = State.IDLE
        self._open_window(now)

    def _report_follow(self, now: int, truncated: bool) -> None:
        f = self._follow
        self._follow = None
        if f is None:
            return
        if truncated and not f.data and not f.scan_response:
            return
        event_type = f.event_type | (EXT_SCAN_RESPONSE if f.scan_response else 0)
        if f.target_a is not None:
            event_type |= EXT_DIRECTED
        report = ScanReport(
            None, event_type, f.adv_a, f.primary_phy, f.secondary_phy, f.sid, f.tx_power,
            f.rssi, f.target_a, bytes(f.data[:MAX_DATA]),
            DATA_TRUNCATED if truncated else DATA_COMPLETE,
        )
        self._emit(report, ("X", f.adv_a, f.sid, f.did, f.scan_response), now)


def _rssi(packet: RadioPacket) -> int:
    """The report's RSSI: whole dBm, clamped to the HCI's -127..+20."""
    rssi = int(round(packet.rssi_dbm))
    if rssi < -127:
        return -127
    return rssi if rssi <= 20 else 20


def _aux_phy(ptr: AuxPtr) -> Phy:
    return {AuxPhy.LE_1M: Phy.LE_1M, AuxPhy.LE_2M: Phy.LE_2M}.get(ptr.aux_phy, Phy.LE_CODED_S8)
