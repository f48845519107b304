"""The sans-IO medium: transmissions, receive windows, synchronisation and reception.

Theory of operation
-------------------
The driver tells the medium what happens at which instant; the medium never reads a
clock. Radios are registered with a position and their own random stream
(:meth:`Medium.add_radio`). A radio that wants to receive opens a :class:`Listener`
window (one per radio: a new one replaces the old, a transmission closes it).

``start_transmission`` is called at the instant a packet starts. The medium computes its
end from the exact airtime (:mod:`phy.airtime`) and decides, at once, which listeners
*synchronise* to it: an open window on the same channel index, access address and PHY
(either coding for LE Coded) whose [start, end] contains the packet start (edges
inclusive), an enabled radio that is neither the sender, nor transmitting, nor already
receiving another packet, that hears the packet at or above its sensitivity and that the
optional per-link loss draw does not drop. A synchronised listener's window is consumed.

``end_transmission`` is called at the packet's end instant. For each synchronised
listener the packet's span is cut into pieces at every start/end of an overlapping
transmission on the same channel (any PHY) and of every on-period of an interferer on
that RF channel. In each piece the interference I is the sum of those powers at the
listener. A piece where interference dominates the noise floor (I >= N) and the
carrier-to-interference ratio is below the PHY's capture threshold loses the packet
(counted, not delivered). Otherwise bit errors are drawn per piece from
``ber(phy, S/(N + I))`` over the PDU/CRC bits sent during that piece, and flipped into the
delivered bytes. Interferers weaker than the noise floor therefore only degrade the BER.

Performance: windows are indexed by channel, so a transmission only looks at the few
radios listening on its channel; path losses are cached per unordered radio pair in
dictionaries (linear in the links actually used, where a dense matrix would be quadratic
in radios) and invalidated per radio on :meth:`Medium.move`; transmissions are kept per
channel only while they can still overlap a packet in flight; a packet with nothing
overlapping takes a one-piece fast path.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

import math
import zlib
from dataclasses import dataclass, fields, replace

from phy.airtime import airtime_ns, bit_duration_ns, payload_start_ns
from phy.channel import ChannelModel, mix_seed, splitmix64
from phy.channels import NUM_CHANNELS, RF_CHANNEL
from phy.errors import RadioProfile, ber, draw_bit_errors, flip_bits
from phy.interference import Interferer
from phy.types import Phy, Rng

Position = tuple[float, float] | tuple[float, float, float]

_PHY_FAMILY: dict[Phy, int] = {
    Phy.LE_1M: 1,
    Phy.LE_2M: 2,
    Phy.LE_CODED_S2: 3,
    Phy.LE_CODED_S8: 3,
}

#: ``tuple.__new__``: radio records are named tuples, and building one through its class
#: calls a Python-level ``__new__``; on the hot paths they are made as the tuples they are.
_new_tuple = tuple.__new__

_MASK64 = (1 << 64) - 1

#: Pair-seed domains, so radio pairs, interferer links and sniffer links never collide.
_DOMAIN_PAIR = 0
_DOMAIN_INTERFERER = 1
_DOMAIN_SNIFFER = 2


class MediumError(ValueError):
    """The medium was used wrongly (unknown radio, time going backwards, bad argument)."""


class Transmission(NamedTuple):
    """A packet on the air (preamble to TERM2), as placed there by one radio.

    Radio records are immutable named tuples: millions are made in a busy world, and a
    named tuple is built several times faster than a frozen dataclass.

    ``channel`` is the link-layer channel index 0..39; ``pdu`` excludes preamble, access
    address and CRC; ``crc`` is its 3 octets in air order; ``seq`` is the medium's serial
    number; ``position`` is where the sender was when it started.
    """

    radio_id: int
    start_ns: int
    end_ns: int
    channel: int
    phy: Phy
    access_address: int
    pdu: bytes
    crc: bytes
    tx_power_dbm: float
    seq: int
    position: tuple[float, float, float] = (0.0, 0.0, 0.0)


class Delivery(NamedTuple):
    """A packet as one synchronised listener received it.

    ``pdu``/``crc`` carry the bit errors the channel put in (``bit_errors`` of them);
    ``rssi_dbm`` is the signal power at the listener; ``sinr_db`` the worst SINR over
    the packet's pieces.
    """

    radio_id: int
    tx: Transmission
    pdu: bytes
    crc: bytes
    rssi_dbm: float
    sinr_db: float
    bit_errors: int


class Listener(NamedTuple):
    """An open receive window: sync to a packet whose start lies in [start_ns, end_ns].

    A ``persistent`` window stays open after a packet (a scanner keeps listening through
    its scan window); an ordinary one is used up by the packet the radio locks onto.
    """

    radio_id: int
    start_ns: int
    end_ns: int
    channel: int
    phy: Phy
    access_address: int
    persistent: bool = False


@dataclass(slots=True)
class MediumStats:
    """Counters of the medium's decisions.

    ``transmissions`` counts packets put on the air (not those of disabled senders);
    ``lost_weak`` and ``lost_link`` count (packet, open listener) pairs that did not
    sync; ``lost_collision`` synchronised receptions lost to interference; ``aborted``
    receptions cut short because the listener transmitted or was disabled.
    """

    transmissions: int = 0
    deliveries: int = 0
    lost_collision: int = 0
    lost_weak: int = 0
    lost_link: int = 0
    bit_error_packets: int = 0
    aborted: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counters as a plain dict (for JSON reports)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


class _Radio:
    __slots__ = ("radio_id", "position", "rng", "rx_gain_db", "enabled", "window",
                 "synced", "tx_end_ns")

    def __init__(self, radio_id: int, position: tuple[float, float, float], rng: Rng,
                 rx_gain_db: float) -> None:
        self.radio_id = radio_id
        self.position = position
        self.rng = rng
        self.rx_gain_db = rx_gain_db
        self.enabled = True
        self.window: Listener | None = None
        self.synced: int | None = None  # seq of the packet being received
        self.tx_end_ns = -1  # end of its latest transmission


def _position3(position: Position) -> tuple[float, float, float]:
    if len(position) == 2:
        return (float(position[0]), float(position[1]), 0.0)
    if len(position) == 3:
        return (float(position[0]), float(position[1]), float(position[2]))
    raise MediumError(f"position must have 2 or 3 coordinates, got {position!r}")


_pow = math.pow


def _mw(dbm: float) -> float:
    return _pow(10.0, dbm / 10.0)


def _db(mw: float) -> float:
    return 10.0 * math.log10(mw) if mw > 0.0 else -math.inf


class Medium:
    """The shared 2.4 GHz medium (sans-IO). See the module docstring."""

    def __init__(self, model: ChannelModel, *, noise_floor_dbm: float = -100.0,
                 seed: int = 0, profile: RadioProfile | None = None) -> None:
        self._model = model
        self._noise_floor_dbm = float(noise_floor_dbm)
        self._noise_mw = _mw(noise_floor_dbm)
        self._seed = seed
        self._pair_seed_prefix = mix_seed(seed, _DOMAIN_PAIR)
        self._profile = profile if profile is not None else RadioProfile()
        self._sensitivity = dict(self._profile.sensitivity_dbm)
        self._capture_lin = {p: _mw(v) for p, v in self._profile.capture_threshold_db.items()}
        self._radios: dict[int, _Radio] = {}
        self._windows: list[dict[int, Listener]] = [{} for _ in range(NUM_CHANNELS)]
        self._air: list[list[Transmission]] = [[] for _ in range(NUM_CHANNELS)]
        self._receivers: dict[int, list[tuple[_Radio, float]]] = {}
        self._loss: dict[int, dict[int, float]] = {}
        self._link_loss: dict[tuple[int, int], float] = {}
        self._interferers: dict[str, Interferer] = {}
        self._interferers_by_rf: list[list[Interferer]] = [[] for _ in range(NUM_CHANNELS)]
        self._interferer_loss: dict[tuple[str, int], float] = {}
        self._seq = 0
        self._now = 0
        self.stats = MediumStats()

    # ----------------------------------------------------------------- properties
    @property
    def noise_floor_dbm(self) -> float:
        """The noise floor every receiver sees (dBm)."""
        return self._noise_floor_dbm

    @property
    def profile(self) -> RadioProfile:
        """The receiver figures in use."""
        return self._profile

    @property
    def now_ns(self) -> int:
        """The latest instant the medium was told about."""
        return self._now

    # --------------------------------------------------------------------- radios
    def add_radio(self, radio_id: int, position: Position, *, rng: Rng,
                  rx_gain_db: float = 0.0) -> None:
        """Register a radio at ``position`` (metres) with its own random stream."""
        if radio_id in self._radios:
            raise MediumError(f"radio {radio_id} is already registered")
        self._radios[radio_id] = _Radio(radio_id, _position3(position), rng, float(rx_gain_db))

    def _radio(self, radio_id: int) -> _Radio:
        try:
            return self._radios[radio_id]
        except KeyError:
            raise MediumError(f"unknown radio {radio_id}") from None

    def position(self, radio_id: int) -> tuple[float, float, float]:
        """Current position of a radio (x, y, z)."""
        return self._radio(radio_id).position

    def move(self, radio_id: int, position: Position) -> None:
        """Move a radio; its cached path losses are recomputed when next needed."""
        radio = self._radio(radio_id)
        radio.position = _position3(position)
        row = self._loss.pop(radio_id, None)
        if row:
            for other in row:
                partner = self._loss.get(other)
                if partner is not None:
                    partner.pop(radio_id, None)
        for name in self._interferers:
            self._interferer_loss.pop((name, radio_id), None)

    def set_enabled(self, radio_id: int, enabled: bool) -> None:
        """Switch a radio on or off. Off: its transmissions are dropped, it hears nothing,
        and a reception in progress is aborted. Its window is kept for when it is back."""
        radio = self._radio(radio_id)
        radio.enabled = bool(enabled)
        if not enabled and radio.synced is not None:
            radio.synced = None
            self.stats.aborted += 1

    def is_enabled(self, radio_id: int) -> bool:
        """Whether the radio is switched on."""
        return self._radio(radio_id).enabled

    def set_link_loss(self, a: int, b: int, probability: float | None) -> None:
        """Drop packets from ``a`` to ``b`` (this direction only) with ``probability``,
        drawn from ``b``'s random stream at sync time. None or 0 clears it."""
        self._radio(a)
        self._radio(b)
        if not probability:
            self._link_loss.pop((a, b), None)
            return
        if not 0.0 <= probability <= 1.0:
            raise MediumError(f"link loss probability must be within 0..1, got {probability!r}")
        self._link_loss[(a, b)] = float(probability)

    # ----------------------------------------------------------------- interferers
    def add_interferer(self, interferer: Interferer) -> None:
        """Add a non-LE interferer (its name must be new)."""
        if interferer.name in self._interferers:
            raise MediumError(f"interferer {interferer.name!r} already exists")
        self._interferers[interferer.name] = interferer
        self._reindex_interferers()

    def set_interferer_enabled(self, name: str, on: bool) -> None:
        """Switch an interferer on or off."""
        try:
            current = self._interferers[name]
        except KeyError:
            raise MediumError(f"unknown interferer {name!r}") from None
        self._interferers[name] = replace(current, enabled=bool(on))
        self._reindex_interferers()

    def interferers(self) -> list[Interferer]:
        """The interferers, in the order they were added."""
        return list(self._interferers.values())

    def _reindex_interferers(self) -> None:
        by_rf: list[list[Interferer]] = [[] for _ in range(NUM_CHANNELS)]
        for itf in self._interferers.values():
            if itf.enabled and itf.duty_cycle > 0.0:
                for rf in range(NUM_CHANNELS):
                    if itf.covers(rf):
                        by_rf[rf].append(itf)
        self._interferers_by_rf = by_rf

    # ------------------------------------------------------------------ path loss
    def _pl(self, a: int, b: int) -> float:
        row = self._loss.get(a)
        if row is not None:
            value = row.get(b)
            if value is not None:
                return value
        ra = self._radios[a]
        rb = self._radios[b]
        lo, hi = (a, b) if a <= b else (b, a)
        # = mix_seed(self._seed, _DOMAIN_PAIR, lo, hi), its constant first half done once
        # (a crowd meets new pairs all the time).
        seed = splitmix64(splitmix64(self._pair_seed_prefix ^ (lo & _MASK64)) ^ (hi & _MASK64))
        value = self._model.path_loss_db(math.dist(ra.position, rb.position), seed)
        self._loss.setdefault(a, {})[b] = value
        self._loss.setdefault(b, {})[a] = value
        return value

    def path_loss_db(self, a: int, b: int) -> float:
        """Path loss between radios ``a`` and ``b`` (dB, symmetric, cached)."""
        self._radio(a)
        self._radio(b)
        return self._pl(a, b)

    def _interferer_pl(self, itf: Interferer, radio: _Radio) -> float:
        key = (itf.name, radio.radio_id)
        value = self._interferer_loss.get(key)
        if value is None:
            value = self._model.path_loss_db(
                math.dist(itf.position, radio.position),
                mix_seed(self._seed, _DOMAIN_INTERFERER, zlib.crc32(itf.name.encode()), radio.radio_id))
            self._interferer_loss[key] = value
        return value

    def rssi_at(self, tx: Transmission, position: Position) -> float:
        """Power (dBm) of ``tx`` at an arbitrary point, e.g. the air capture's sniffer
        (no receive gain; shadowing seeded by the sender alone)."""
        d = math.dist(tx.position, _position3(position))
        seed = mix_seed(self._seed, _DOMAIN_SNIFFER, tx.radio_id)
        return tx.tx_power_dbm - self._model.path_loss_db(d, seed)

    def rssi_between(self, a: int, b: int, tx_power_dbm: float) -> float:
        """Power (dBm) at radio ``b`` of a transmission by ``a`` at ``tx_power_dbm``."""
        return tx_power_dbm - self.path_loss_db(a, b) + self._radio(b).rx_gain_db

    # -------------------------------------------------------------------- windows
    def open_window(self, radio_id: int, start_ns: int, end_ns: int, channel: int,
                    phy: Phy, access_address: int, persistent: bool = False) -> None:
        """Listen for a packet starting in [start_ns, end_ns] (replaces any open window)."""
        radio = self._radio(radio_id)
        if not 0 <= channel < NUM_CHANNELS:
            raise MediumError(f"channel index must be 0..39, got {channel!r}")
        if end_ns < start_ns:
            raise MediumError(f"window ends ({end_ns}) before it starts ({start_ns})")
        if phy not in _PHY_FAMILY:
            raise MediumError(f"unknown PHY {phy!r}")
        if radio.window is not None:
            self._windows[radio.window.channel].pop(radio_id, None)
        window = _new_tuple(Listener, (radio_id, start_ns, end_ns, channel, phy, access_address,
                                       persistent))  # = Listener(...), faster
        radio.window = window
        self._windows[channel][radio_id] = window

    def close_window(self, radio_id: int) -> None:
        """Close the radio's window; a packet it is already receiving still completes."""
        radio = self._radio(radio_id)
        if radio.window is not None:
            self._windows[radio.window.channel].pop(radio_id, None)
            radio.window = None

    def window(self, radio_id: int) -> Listener | None:
        """The radio's open window, if any (a consumed or closed window is None)."""
        return self._radio(radio_id).window

    def transmissions_on(self, channel: int) -> list[Transmission]:
        """Transmissions the medium still tracks on ``channel``: those in flight and ended
        ones that may overlap a packet in flight (the rest is pruned at the next
        start or end of a packet on that channel)."""
        if not 0 <= channel < NUM_CHANNELS:
            raise MediumError(f"channel index must be 0..39, got {channel!r}")
        return list(self._air[channel])

    def receiving(self, radio_id: int) -> int | None:
        """``seq`` of the packet the radio is synchronised to, or None."""
        return self._radio(radio_id).synced

    # -------------------------------------------------------------- transmissions
    def _advance(self, now_ns: int) -> None:
        if now_ns < self._now:
            raise MediumError(f"time went backwards: {now_ns} < {self._now}")
        self._now = now_ns

    def start_transmission(self, now_ns: int, radio_id: int, channel: int, phy: Phy,
                           access_address: int, pdu: bytes, crc: bytes,
                           tx_power_dbm: float) -> tuple[Transmission, list[int]]:
        """Put a packet on the air at ``now_ns``; return it and the radios that synced.

        See the module docstring for the sync rules. The sender's own window closes and
        a reception it had in progress is aborted (one radio, half duplex). A disabled
        sender's packet is returned with no listeners and is not on the air.
        """
        if now_ns < self._now:
            self._advance(now_ns)  # raises
        self._now = now_ns
        sender = self._radios.get(radio_id) or self._radio(radio_id)
        if not 0 <= channel < NUM_CHANNELS:
            raise MediumError(f"channel index must be 0..39, got {channel!r}")
        family = _PHY_FAMILY.get(phy)
        if family is None:
            raise MediumError(f"unknown PHY {phy!r}")
        if len(crc) != 3:
            raise MediumError(f"crc must be 3 octets, got {len(crc)}")
        seq = self._seq
        self._seq = seq + 1
        if type(pdu) is not bytes:
            pdu = bytes(pdu)
        if type(crc) is not bytes:
            crc = bytes(crc)
        power = float(tx_power_dbm)
        # Transmission(...) without the named tuple's slow Python-level __new__.
        tx = _new_tuple(Transmission, (radio_id, now_ns, now_ns + airtime_ns(phy, len(pdu)), channel,
                                       phy, access_address, pdu, crc, power, seq, sender.position))
        if not sender.enabled:
            return tx, []
        self.stats.transmissions += 1
        if sender.window is not None and sender.window.start_ns <= now_ns:
            # An open window closes (half duplex); one armed for after this packet stays.
            self._windows[sender.window.channel].pop(radio_id, None)
            sender.window = None
        if sender.synced is not None:
            sender.synced = None
            self.stats.aborted += 1
        sender.tx_end_ns = tx.end_ns

        air = self._air[channel]
        if air and air[0].end_ns <= now_ns:
            self._prune(channel, now_ns)
        air.append(tx)

        windows = self._windows[channel]
        if not windows:
            return tx, []
        ids = sorted(windows) if len(windows) > 1 else list(windows)
        synced: list[int] = []
        receivers: list[tuple[_Radio, float]] = []
        sensitivity = self._sensitivity[phy]
        radios = self._radios
        losses = self._loss.get(radio_id)
        link_loss = self._link_loss
        for rid in ids:
            w = windows[rid]
            if w.end_ns < now_ns:  # expired for good: time only moves forward
                del windows[rid]
                radios[rid].window = None
                continue
            if (w.start_ns > now_ns or w.access_address != access_address
                    or _PHY_FAMILY[w.phy] != family or rid == radio_id):
                continue
            listener = radios[rid]
            if not listener.enabled or listener.synced is not None or listener.tx_end_ns > now_ns:
                continue
            loss = losses.get(rid) if losses is not None else None
            if loss is None:
                loss = self._pl(radio_id, rid)
                losses = self._loss.get(radio_id)
            signal = power - loss + listener.rx_gain_db
            if signal < sensitivity:
                self.stats.lost_weak += 1
                continue
            if link_loss:
                p = link_loss.get((radio_id, rid))
                if p is not None and listener.rng.random() < p:
                    self.stats.lost_link += 1
                    continue
            listener.synced = seq
            if not w.persistent:
                del windows[rid]
                listener.window = None
            synced.append(rid)
            receivers.append((listener, signal))
        if receivers:
            self._receivers[seq] = receivers
        return tx, synced

    def end_transmission(self, now_ns: int, tx: Transmission) -> list[Delivery]:
        """The packet ``tx`` ends now (``now_ns == tx.end_ns``): decide its fate at each
        synchronised listener and return the deliveries, in radio id order.

        Must be called for every transmission that had listeners; optional otherwise.
        """
        if now_ns != tx.end_ns:
            raise MediumError(f"end_transmission at {now_ns} for a packet ending at {tx.end_ns}")
        self._advance(now_ns)
        receivers = self._receivers.pop(tx.seq, None)
        deliveries: list[Delivery] = []
        if receivers:
            for listener, signal in receivers:
                if listener.synced != tx.seq:  # aborted meanwhile
                    continue
                listener.synced = None
                delivery = self._receive(tx, listener, signal)
                if delivery is not None:
                    deliveries.append(delivery)
        air = self._air[tx.channel]
        if air:
            self._prune(tx.channel, now_ns)
        return deliveries

    def _prune(self, channel: int, now_ns: int) -> None:
        """Drop ended transmissions that can no longer overlap a packet in flight."""
        air = self._air[channel]
        receivers = self._receivers
        horizon = now_ns
        for t in air:  # sorted by start: the first in flight has the earliest start
            if t.end_ns > now_ns or t.seq in receivers:
                horizon = min(horizon, t.start_ns)
                break
        drop = 0
        for t in air:
            if t.end_ns <= horizon and t.end_ns <= now_ns and t.seq not in receivers:
                drop += 1
            else:
                break
        if drop:
            del air[:drop]

    # ------------------------------------------------------------------ reception
    def _receive(self, tx: Transmission, listener: _Radio, signal_dbm: float) -> Delivery | None:
        rid = listener.radio_id
        t0 = tx.start_ns
        t1 = tx.end_ns
        sources: list[tuple[int, int, float]] = []
        gain = listener.rx_gain_db
        losses = self._loss.get(rid)  # = self._pl(x, rid) where cached (the cache is symmetric)
        for o in self._air[tx.channel]:
            if o is tx or o.start_ns >= t1 or o.end_ns <= t0 or o.radio_id == rid:
                continue
            loss = losses.get(o.radio_id) if losses is not None else None
            if loss is None:
                loss = self._pl(o.radio_id, rid)
                losses = self._loss.get(rid)
            power = o.tx_power_dbm - loss + gain
            sources.append((max(o.start_ns, t0), min(o.end_ns, t1), _pow(10.0, power / 10.0)))  # _mw
        for itf in self._interferers_by_rf[RF_CHANNEL[tx.channel]]:
            windows = itf.power_windows(t0, t1)
            if windows:
                mw = _mw(itf.power_dbm - self._interferer_pl(itf, listener) + gain)
                for a, b in windows:
                    sources.append((a, b, mw))

        phy = tx.phy
        noise = self._noise_mw
        n_bits = (len(tx.pdu) + 3) * 8
        rng = listener.rng
        profile = self._profile
        if not sources:
            sinr_db = signal_dbm - self._noise_floor_dbm
            errors = draw_bit_errors(rng, n_bits, ber(phy, sinr_db, profile))
        else:
            signal_mw = _mw(signal_dbm)
            capture = self._capture_lin[phy]
            pieces = interference_pieces(t0, t1, sources)
            for _a, _b, interference in pieces:
                if interference >= noise and signal_mw < capture * interference:
                    self.stats.lost_collision += 1
                    return None
            sinr_db = math.inf
            errors = []
            p0 = t0 + payload_start_ns(phy)
            bit_ns = bit_duration_ns(phy)
            for a, b, interference in pieces:
                lo = max(0, -((p0 - a) // bit_ns))  # first bit starting at or after a
                hi = min(n_bits, -((p0 - b) // bit_ns))  # first bit starting at or after b
                piece_sinr = _db(signal_mw / (noise + interference))
                if piece_sinr < sinr_db:
                    sinr_db = piece_sinr
                if hi > lo:
                    for pos in draw_bit_errors(rng, hi - lo, ber(phy, piece_sinr, profile)):
                        errors.append(lo + pos)

        pdu = tx.pdu
        crc = tx.crc
        if errors:
            received = flip_bits(pdu + crc, errors)
            pdu = received[:-3]
            crc = received[-3:]
            self.stats.bit_error_packets += 1
        self.stats.deliveries += 1
        return _new_tuple(Delivery, (rid, tx, pdu, crc, signal_dbm, sinr_db, len(errors)))


#: From this many overlapping sources on, the interference sweep runs in numpy. Measured
#: crossover: the plain loop costs 1.5 µs for 4 sources and 107 µs for 64 (it grows with
#: pieces × sources); the numpy sweep costs 14 µs for 4 and 30 µs for 64; they meet near 28.
NUMPY_SOURCES = 28


def interference_pieces(
    t0: int, t1: int, sources: list[tuple[int, int, float]]
) -> list[tuple[int, int, float]]:
    """Cut [t0, t1] at every source's start and end; the summed power (mW) on each piece.

    ``sources`` are (start, end, mW) clipped to [t0, t1]. A packet in a crowd overlaps many
    others; past :data:`NUMPY_SOURCES` of them the sweep is vectorised with numpy, which
    pays off there (the plain loop costs pieces × sources).
    """
    if len(sources) >= NUMPY_SOURCES:
        return _pieces_numpy(t0, t1, sources)
    return _pieces_python(t0, t1, sources)


def _pieces_python(t0: int, t1: int, sources: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    cuts = {t0, t1}
    for a, b, _ in sources:
        cuts.add(a)
        cuts.add(b)
    edges = sorted(cuts)
    pieces: list[tuple[int, int, float]] = []
    for a, b in zip(edges, edges[1:]):
        interference = 0.0
        for sa, sb, mw in sources:
            if sa < b and sb > a:
                interference += mw
        pieces.append((a, b, interference))
    return pieces


def _pieces_numpy(t0: int, t1: int, sources: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    starts = np.fromiter((a for a, _, _ in sources), dtype=np.int64, count=len(sources))
    ends = np.fromiter((b for _, b, _ in sources), dtype=np.int64, count=len(sources))
    power = np.fromiter((mw for _, _, mw in sources), dtype=np.float64, count=len(sources))
    edges = np.unique(np.concatenate((np.array([t0, t1], dtype=np.int64), starts, ends)))
    delta = np.zeros(len(edges), dtype=np.float64)
    np.add.at(delta, np.searchsorted(edges, starts), power)
    np.add.at(delta, np.searchsorted(edges, ends), -power)
    level = np.cumsum(delta)[:-1]  # the power on [edges[i], edges[i+1])
    # Adding and subtracting leaves rounding residue where nothing transmits: make it 0.
    level[level < float(power.max()) * 1e-12] = 0.0
    e = edges.tolist()
    return list(zip(e[:-1], e[1:], level.tolist()))
