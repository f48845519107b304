"""Real-time pacing with a hand-cranked wall clock: never ahead, arrivals at their instant,
falling behind reported."""

from __future__ import annotations

import functools

from emu.bridge.pacing import MAX_WAIT_NS, Pacer
from emu.kernel import Kernel
from phy.units import MS, S


class FakeWall:
    """A wall clock that moves only when the pacer waits (or a test says so)."""

    def __init__(self) -> None:
        self.ns = 1_000_000_000_000
        self.waits: list[int] = []
        self.on_wait: list[object] = []

    def clock(self) -> int:
        return self.ns

    def wait(self, seconds: float) -> None:
        step = round(seconds * S)
        self.waits.append(step)
        self.ns += step


def rig() -> tuple[Kernel, FakeWall, Pacer, list[tuple[int, int]]]:
    kernel = Kernel()
    wall = FakeWall()
    pacer = Pacer(kernel, clock=wall.clock, wait=wall.wait)
    seen: list[tuple[int, int]] = []  # (simulated instant, wall offset) of each callback
    return kernel, wall, pacer, seen


def test_events_never_run_before_the_wall_clock() -> None:
    kernel, wall, pacer, seen = rig()
    start = wall.ns
    for t in (0, 3 * MS, 250 * MS, 1 * S):
        kernel.call_at(t, functools.partial(lambda t: seen.append((t, wall.ns - start)), t))
    pacer.run_until(2 * S)
    assert kernel.now == 2 * S
    assert [t for t, _ in seen] == [0, 3 * MS, 250 * MS, 1 * S]
    for t, wall_offset in seen:
        assert wall_offset >= t  # never ahead of the wall clock
    # It slept until things were due rather than spinning, in waits of at most MAX_WAIT_NS.
    assert wall.waits and max(wall.waits) <= MAX_WAIT_NS
    assert wall.ns - start == 2 * S


def test_arrivals_enter_at_their_wall_clock_instant() -> None:
    kernel, wall, pacer, seen = rig()
    pacer.start()
    start = wall.ns
    wall.ns += 400 * MS  # a packet arrives 400 ms after the start, while nothing is due
    pacer.inbox.put(lambda: seen.append((kernel.now, 0)))
    wall.ns += 100 * MS
    pacer.inbox.put(lambda: seen.append((kernel.now, 1)))
    pacer.run_until(1 * S)
    assert seen == [(400 * MS, 0), (500 * MS, 1)]
    assert wall.ns - start == 1 * S


def test_an_arrival_wakes_the_wait() -> None:
    kernel, wall, pacer, seen = rig()
    arrivals = iter([30 * MS, 70 * MS])

    def wait(seconds: float) -> None:
        # A transport thread puts a packet in the middle of the wait.
        at = next(arrivals, None)
        if at is not None and wall.ns + round(seconds * S) - start > at:
            wall.ns = start + at
            pacer.inbox.put(functools.partial(lambda at: seen.append((kernel.now, at)), at))
            return
        wall.wait(seconds)

    pacer._wait = wait  # the injectable wait, swapped after construction for this rig
    pacer.start()
    start = wall.ns
    pacer.run_until(100 * MS)
    assert seen == [(30 * MS, 30 * MS), (70 * MS, 70 * MS)]


def test_falling_behind_is_measured_and_reported() -> None:
    kernel = Kernel()
    wall = FakeWall()
    reports: list[str] = []
    pacer = Pacer(kernel, clock=wall.clock, wait=wall.wait, on_report=reports.append, report_lag_ns=20 * MS)

    def slow() -> None:
        wall.ns += 120 * MS  # this event takes 120 ms of real time to simulate

    for i in range(5):
        kernel.call_at(i * 10 * MS, slow)
    pacer.run_until(3 * S)
    assert pacer.max_lag_ns >= 120 * MS
    assert pacer.late_steps >= 1
    assert len(reports) == 1  # at most once per simulated second
    assert "falling behind the wall clock" in reports[0]
    assert pacer.describe()["fell_behind"] is True


def test_keeping_up_is_not_reported() -> None:
    kernel, wall, pacer, seen = rig()
    for i in range(100):
        kernel.call_at(i * 10 * MS, lambda: None)
    pacer.run_until(1 * S)
    assert pacer.late_steps == 0
    assert pacer.describe() == {"real_time": True, "max_lag_ms": 0.0, "late_steps": 0, "fell_behind": False}


def test_origin_follows_the_kernel() -> None:
    kernel, wall, pacer, seen = rig()
    kernel.run(5 * S)  # simulated before pacing started (e.g. a fast warm-up)
    start = wall.ns
    kernel.call_at(5 * S + 10 * MS, lambda: seen.append((kernel.now, wall.ns - start)))
    pacer.run_until(6 * S)
    assert seen == [(5 * S + 10 * MS, 10 * MS)]
