"""A hand-cranked driver for the medium: schedule windows and packets, run in time order.

At one instant, packet ends are processed first, then window operations, then packet
starts (a packet ending at t and one starting at t do not overlap).
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field
from typing import Callable

from phy.channel import FixedModel
from phy.medium import Delivery, Medium, Transmission
from phy.types import Phy

ADV_AA = 0x8E89BED6
CRC = b"\x11\x22\x33"

_END, _WINDOW, _START = 0, 1, 2


@dataclass
class Rig:
    medium: Medium
    txs: list[Transmission] = field(default_factory=list)
    synced: dict[int, list[int]] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    log: list[tuple[int, str, int, int]] = field(default_factory=list)
    _heap: list[tuple[int, int, int, Callable[[int], None]]] = field(default_factory=list)
    _n: int = 0

    def at(self, t: int, prio: int, fn: Callable[[int], None]) -> None:
        heapq.heappush(self._heap, (t, prio, self._n, fn))
        self._n += 1

    def transmit(self, t: int, radio_id: int, *, channel: int = 37, phy: Phy = Phy.LE_1M,
                 aa: int = ADV_AA, pdu: bytes = b"\x00\x06" + bytes(6), crc: bytes = CRC,
                 power: float = 0.0) -> None:
        def start(now: int) -> None:
            tx, synced = self.medium.start_transmission(now, radio_id, channel, phy, aa, pdu, crc, power)
            self.txs.append(tx)
            self.synced[tx.seq] = synced
            for rid in synced:
                self.log.append((now, "sync", rid, tx.seq))
            self.at(tx.end_ns, _END, lambda t_end: self._end(t_end, tx))

        self.at(t, _START, start)

    def _end(self, now: int, tx: Transmission) -> None:
        for d in self.medium.end_transmission(now, tx):
            self.deliveries.append(d)
            self.log.append((now, "rx", d.radio_id, tx.seq))

    def listen(self, t: int, radio_id: int, start: int, end: int, *, channel: int = 37,
               phy: Phy = Phy.LE_1M, aa: int = ADV_AA, persistent: bool = False) -> None:
        self.at(t, _WINDOW, lambda now: self.medium.open_window(radio_id, start, end, channel, phy, aa,
                                                                  persistent))

    def run(self) -> None:
        while self._heap:
            t, _, _, fn = heapq.heappop(self._heap)
            fn(t)


def make_medium(radios: dict[int, tuple[float, float]] | int, *, loss_db: float = 60.0,
                seed: int = 0, **kwargs: object) -> Medium:
    """A medium with a fixed-loss channel and radios (ids -> positions, or a count)."""
    medium = Medium(FixedModel(loss_db), seed=seed, **kwargs)  # type: ignore[arg-type]
    positions = radios if isinstance(radios, dict) else {i: (float(i), 0.0) for i in range(radios)}
    for rid, pos in positions.items():
        medium.add_radio(rid, pos, rng=random.Random(f"{seed}/{rid}"))
    return medium
