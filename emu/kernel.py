"""The simulation kernel: simpy on integer nanoseconds, and the seed tree.

Simulated time is an ``int`` number of nanoseconds (``phy.units`` converts from the
specification's units); simpy orders events scheduled for the same instant in the order
they were scheduled, which makes every run with the same inputs identical.

Randomness comes from one scenario seed split into independent named streams
(:class:`SeedTree`): the stream for ``"node/beacon-3/advertiser"`` depends only on the
seed and that name, so adding a node never reshuffles the others.
"""

from __future__ import annotations

import hashlib
import random
from heapq import heappush
from typing import Any, Callable

import simpy
from simpy.events import NORMAL

from phy.units import MS, NS, S, SLOT_625US, UNIT_10MS, UNIT_1250US, US, ms, seconds, us

__all__ = [
    "Kernel",
    "SeedTree",
    "NS",
    "US",
    "MS",
    "S",
    "SLOT_625US",
    "UNIT_1250US",
    "UNIT_10MS",
    "us",
    "ms",
    "seconds",
]


class SeedTree:
    """Independent, reproducible random streams derived from one seed by name."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)

    def derive(self, name: str) -> int:
        """A 64-bit integer seed for ``name``, stable across runs and Python versions."""
        digest = hashlib.sha256(f"{self.seed}\x00{name}".encode()).digest()
        return int.from_bytes(digest[:8], "little")

    def stream(self, name: str) -> random.Random:
        """A fresh :class:`random.Random` for ``name``."""
        return random.Random(self.derive(name))

    def child(self, name: str) -> "SeedTree":
        """A sub-tree whose streams are named under ``name``."""
        return SeedTree(self.derive(name))


class Kernel:
    """A simpy environment whose clock counts integer nanoseconds.

    Drivers schedule plain callbacks with :meth:`call_at`; a callback scheduled for an
    instant in the past is an error (time never runs backwards).
    """

    def __init__(self, seed: int = 0) -> None:
        self.env = simpy.Environment(initial_time=0)
        self.seeds = SeedTree(seed)

    @property
    def now(self) -> int:
        return self.env._now  # type: ignore[return-value]

    def call_at(self, t_ns: int, callback: Callable[[], None]) -> "Timer":
        """Run ``callback()`` at simulated instant ``t_ns``; returns a cancellable timer."""
        delay = int(t_ns) - self.now
        if delay < 0:
            raise ValueError(f"cannot schedule at {t_ns} ns: now is {self.now} ns")
        timer = Timer(callback)
        env = self.env
        queue: list[Any] = env._queue  # entries: (time, priority, id, event)
        heappush(queue, (env._now + delay, NORMAL, next(env._eid), timer))
        return timer

    def schedule(self, t_ns: int, callback: Callable[..., None], *args: Any) -> None:
        """Run ``callback(*args)`` at ``t_ns``, with no way to cancel it (the drivers' hot
        path: a kernel event with one plain callback and nothing else)."""
        env = self.env
        if t_ns < env._now:
            raise ValueError(f"cannot schedule at {t_ns} ns: now is {self.now} ns")
        # The entry simpy's own ``schedule`` would push (same ordering key), holding a bare
        # already-triggered event rather than a full ``simpy.Event``.
        queue: list[Any] = env._queue
        heappush(queue, (t_ns, NORMAL, next(env._eid), _Call(callback, args)))

    def call_later(self, delay_ns: int, callback: Callable[[], None]) -> "Timer":
        return self.call_at(self.now + int(delay_ns), callback)

    def run(self, until_ns: int | None = None) -> None:
        """Advance simulated time to ``until_ns`` (or until nothing is scheduled)."""
        if until_ns is None:
            self.env.run()
        elif until_ns > self.now:
            self.env.run(until=int(until_ns))


class _Call:
    """A triggered event as simpy's ``Environment.step`` sees one: a list of callbacks,
    each called with the event, and ``_ok`` true (it cannot fail)."""

    __slots__ = ("callbacks", "_callback", "_args")
    _ok = True

    def __init__(self, callback: Callable[..., None], args: tuple[Any, ...]) -> None:
        self._callback = callback
        self._args = args
        self.callbacks: list[Callable[[object], None]] | None = [self._fire]

    def _fire(self, _event: object) -> None:
        self._callback(*self._args)


class Timer:
    """A scheduled callback that can be cancelled before it fires (to simpy, a triggered
    event whose one callback is :meth:`fire`)."""

    __slots__ = ("callback", "cancelled", "callbacks")
    _ok = True

    def __init__(self, callback: Callable[[], None]) -> None:
        self.callback: Callable[[], None] | None = callback
        self.cancelled = False
        self.callbacks: list[Callable[[object], None]] | None = [self.fire]

    def cancel(self) -> None:
        self.cancelled = True
        self.callback = None

    def fire(self, _event: object) -> None:
        callback = self.callback
        if callback is not None and not self.cancelled:
            self.callback = None
            callback()
