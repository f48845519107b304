"""Non-BLE interferers: sources of power on some RF channels, switched on and off.

Theory of operation
-------------------
An :class:`Interferer` stands for anything in the band that is not an LE packet — a Wi-Fi
access point, a microwave oven, a jammer. It has a position and a transmit power (its
power at a receiver follows the medium's channel model like any radio's), a set of RF
channels it covers (``None``: the whole band) and a periodic on/off pattern: it is on
during ``[phase + k·period, phase + k·period + duty_cycle·period)`` for every integer k.
``period_ns = 0`` or ``duty_cycle = 1`` means always on, ``duty_cycle = 0`` never.

The medium asks :meth:`Interferer.power_windows` for the on-periods overlapping a packet
and counts the interferer's power as interference during those pieces of the packet.
Interferers are immutable; switching one on or off replaces it (``dataclasses.replace``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Interferer:
    """A periodic non-LE source of interference.

    Attributes:
        name: unique name (the medium's key for it).
        position: (x, y) or (x, y, z) in metres.
        power_dbm: its transmit power (EIRP) in dBm.
        channels: the RF channels (0..39, not channel indices) it covers; None = all.
        period_ns: length of one on/off cycle; 0 = continuous.
        duty_cycle: fraction of each period it is on, 0..1.
        phase_ns: instant at which an on-period starts.
        enabled: False: it is never on.
    """

    name: str
    position: tuple[float, ...]
    power_dbm: float
    channels: frozenset[int] | None = None
    period_ns: int = 0
    duty_cycle: float = 1.0
    phase_ns: int = 0
    enabled: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError("Interferer.name must be a non-empty string")
        if len(self.position) not in (2, 3):
            raise ValueError(f"Interferer {self.name!r}: position must have 2 or 3 coordinates")
        pos = tuple(float(c) for c in self.position)
        object.__setattr__(self, "position", pos if len(pos) == 3 else (pos[0], pos[1], 0.0))
        if not math.isfinite(self.power_dbm):
            raise ValueError(f"Interferer {self.name!r}: power_dbm must be finite")
        if self.channels is not None:
            chans = frozenset(int(c) for c in self.channels)
            bad = sorted(c for c in chans if not 0 <= c <= 39)
            if bad:
                raise ValueError(f"Interferer {self.name!r}: RF channels must be 0..39, got {bad}")
            object.__setattr__(self, "channels", chans)
        if not isinstance(self.period_ns, int) or self.period_ns < 0:
            raise ValueError(f"Interferer {self.name!r}: period_ns must be an int >= 0")
        if not 0.0 <= self.duty_cycle <= 1.0:
            raise ValueError(f"Interferer {self.name!r}: duty_cycle must be within 0..1")
        if not isinstance(self.phase_ns, int):
            raise ValueError(f"Interferer {self.name!r}: phase_ns must be an int")

    @property
    def on_ns(self) -> int:
        """Length of each on-period (meaningless when continuous)."""
        return int(round(self.duty_cycle * self.period_ns))

    @property
    def continuous(self) -> bool:
        """True when it is on all the time (if enabled and duty cycle > 0)."""
        return self.period_ns == 0 or self.on_ns >= self.period_ns

    def covers(self, rf: int) -> bool:
        """Whether RF channel ``rf`` is one it transmits on."""
        return self.channels is None or rf in self.channels

    def is_on(self, t_ns: int) -> bool:
        """Whether it is on at instant ``t_ns``."""
        if not self.enabled or self.duty_cycle == 0.0:
            return False
        if self.continuous:
            return True
        return (t_ns - self.phase_ns) % self.period_ns < self.on_ns

    def power_windows(self, t0: int, t1: int) -> list[tuple[int, int]]:
        """Its on-periods overlapping [t0, t1), clipped to [t0, t1], in time order.

        Empty when disabled, when the duty cycle is 0, or when t1 <= t0.
        """
        if not self.enabled or self.duty_cycle == 0.0 or t1 <= t0:
            return []
        if self.continuous:
            return [(t0, t1)]
        on = self.on_ns
        if on <= 0:
            return []
        period = self.period_ns
        k = (t0 - self.phase_ns) // period
        start = self.phase_ns + k * period
        out: list[tuple[int, int]] = []
        while start < t1:
            end = start + on
            if end > t0:
                out.append((max(start, t0), min(end, t1)))
            start += period
        return out
