"""Real-time pacing: simulated time never runs ahead of the wall clock.

Theory of operation
-------------------
While a real controller or an outside host is attached, the world must keep its
promises to them in real time: a connection event at simulated 1.250 s happens no earlier
than 1.250 s of wall time after the start. :class:`Pacer` runs the kernel in steps that
never pass the wall clock (mapped to simulated time: ``sim = wall - wall_at_start +
sim_at_start``). It runs the kernel only when something is due — the next scheduled
instant has passed on the wall clock — and otherwise sleeps until then or until a
transport wakes it, so it leaves the CPU (and the GIL) to the transports' threads.

Transports live in their own threads and never touch the simulation. What they receive
goes into the pacer's :class:`Inbox` as a callback stamped with the wall clock; the pacer
drains the inbox in the simulation's thread and schedules each callback on the kernel at
its stamp (never before the kernel's present), so packets from outside enter simulated
time when they arrived in real time, in arrival order.

Falling behind (events run later in wall time than their simulated instant because the
simulation cannot keep up) is measured after every step: :attr:`Pacer.max_lag_ns`,
:attr:`Pacer.late_steps`, and ``on_report`` messages at most once per simulated second
while the lag exceeds ``report_lag_ns``.

The clock and the wait are injectable, so tests crank a fake wall clock by hand.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable

from phy.units import MS, S

from ..kernel import Kernel

Clock = Callable[[], int]
#: Waits at most the given number of seconds, or less if the inbox is woken.
Wait = Callable[[float], None]

#: A step that ends this much later than the wall clock counts as falling behind.
DEFAULT_REPORT_LAG_NS = 50 * MS
#: Longest single wait (so that Ctrl-C and closing are noticed promptly).
MAX_WAIT_NS = 50 * MS


class Inbox:
    """Thread-safe: callbacks from transport threads, stamped with the wall clock."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._items: deque[tuple[int, Callable[[], None]]] = deque()
        self.wakeup = threading.Event()

    def put(self, callback: Callable[[], None]) -> None:
        """Queue ``callback`` to run in the simulation at the present wall-clock instant."""
        with self._lock:
            self._items.append((self._clock(), callback))
        self.wakeup.set()

    def drain(self) -> list[tuple[int, Callable[[], None]]]:
        with self._lock:
            items = list(self._items)
            self._items.clear()
        return items


class Pacer:
    """Runs a :class:`~emu.kernel.Kernel` no faster than the wall clock; see the module docstring."""

    def __init__(
        self,
        kernel: Kernel,
        *,
        clock: Clock = time.monotonic_ns,
        wait: Wait | None = None,
        report_lag_ns: int = DEFAULT_REPORT_LAG_NS,
        on_report: Callable[[str], None] | None = None,
    ) -> None:
        self.kernel = kernel
        self.clock = clock
        self.inbox = Inbox(clock)
        self._wait = wait if wait is not None else self._wait_inbox
        self.report_lag_ns = report_lag_ns
        self.on_report = on_report
        self._origin: tuple[int, int] | None = None  # (wall ns, simulated ns) at start
        #: Largest lag seen: wall time past a step's simulated end, in ns.
        self.max_lag_ns = 0
        #: Steps that ended more than ``report_lag_ns`` behind the wall clock.
        self.late_steps = 0
        self.steps = 0
        self.arrivals = 0
        self._last_report_sim: int | None = None

    # -- time mapping ------------------------------------------------------------------
    def start(self) -> None:
        """Tie the kernel's present to the wall clock's (done by the first run)."""
        if self._origin is None:
            self._origin = (self.clock(), self.kernel.now)

    @property
    def started(self) -> bool:
        return self._origin is not None

    def sim_time(self, wall_ns: int) -> int:
        """The simulated instant corresponding to wall-clock ``wall_ns``."""
        self.start()
        assert self._origin is not None
        wall0, sim0 = self._origin
        return sim0 + (wall_ns - wall0)

    def wall_sim_now(self) -> int:
        """The wall clock's present, in simulated time."""
        return self.sim_time(self.clock())

    # -- running -----------------------------------------------------------------------
    def run_until(self, until_ns: int) -> None:
        """Advance the kernel to ``until_ns``, never ahead of the wall clock."""
        self.start()
        kernel = self.kernel
        while True:
            self._drain()
            if kernel.now >= until_ns:
                return
            wall = self.wall_sim_now()
            due = min(self._next_event(), until_ns)
            if due <= wall:
                if until_ns <= wall:  # the step's end has passed: finish it
                    kernel.run(until_ns)
                    self._measure(until_ns)
                else:  # run what is due, up to the wall clock's present
                    env = kernel.env
                    while env.peek() <= wall:
                        env.step()
                    self._measure(wall)
                continue
            # Nothing to do before ``due``: sleep (a transport wakes us earlier).
            self._wait(min(due - wall, MAX_WAIT_NS) / S)

    def _next_event(self) -> int:
        peek = self.kernel.env.peek()
        return int(peek) if peek != float("inf") else 1 << 62

    def _drain(self) -> None:
        kernel = self.kernel
        for stamp, callback in self.inbox.drain():
            self.arrivals += 1
            kernel.call_at(max(kernel.now, self.sim_time(stamp)), callback)

    def _wait_inbox(self, seconds: float) -> None:
        wakeup = self.inbox.wakeup
        wakeup.wait(seconds)
        wakeup.clear()

    def _measure(self, step_end: int) -> None:
        self.steps += 1
        lag = self.wall_sim_now() - step_end
        if lag > self.max_lag_ns:
            self.max_lag_ns = lag
        if lag <= self.report_lag_ns:
            return
        self.late_steps += 1
        last = self._last_report_sim
        if self.on_report is not None and (last is None or step_end - last >= S):
            self._last_report_sim = step_end
            self.on_report(
                f"the simulation is falling behind the wall clock: {lag / MS:.1f} ms late at "
                f"simulated {step_end / S:.3f} s (attached hosts and controllers see delays)"
            )

    def describe(self) -> dict[str, object]:
        """Figures for the run summary."""
        return {
            "real_time": True,
            "max_lag_ms": round(self.max_lag_ns / MS, 3),
            "late_steps": self.late_steps,
            "fell_behind": self.late_steps > 0,
        }


__all__ = ["Clock", "Wait", "Inbox", "Pacer", "DEFAULT_REPORT_LAG_NS", "MAX_WAIT_NS"]
