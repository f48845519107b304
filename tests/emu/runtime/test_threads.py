"""Firmware threads: exact instants, deterministic interleaving, spawn/kill semantics."""

from __future__ import annotations

import heapq
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emu.kernel import Kernel
from emu.runtime import (
    FirmwareScheduler,
    GreenletExit,
    NodeRuntime,
    NotInFirmwareThread,
    ThreadState,
    format_seconds,
    format_sim_time,
)
from tests.emu.runtime.helpers import soon

MakeNode = Callable[..., NodeRuntime]


def test_format_time() -> None:
    assert format_sim_time(12_345_678_901) == "[  12.345678]"
    assert format_sim_time(0) == "[   0.000000]"
    assert format_seconds(5_000_000_000) == "5.000000"
    assert format_seconds(1_500) == "0.000001"


def test_sleep_advances_simulated_time_exactly(kernel: Kernel, make_node: MakeNode) -> None:
    node = make_node("n")
    log: list[tuple[str, int]] = []

    def body() -> None:
        log.append(("start", node.now))
        node.sleep_ns(1_500)
        log.append(("after 1500", node.now))
        node.sleep_ns(2_000_000_000)
        log.append(("after 2 s", node.now))
        node.sleep_until(3_000_000_000)
        log.append(("until 3 s", node.now))

    kernel.call_at(1_000, soon(lambda: node.start_thread(body)))
    kernel.run(2_000_000_000)
    assert log == [("start", 1_000), ("after 1500", 2_500)]
    kernel.run()
    assert log == [
        ("start", 1_000),
        ("after 1500", 2_500),
        ("after 2 s", 2_000_002_500),
        ("until 3 s", 3_000_000_000),
    ]


def test_threads_interleave_deterministically(kernel: Kernel, make_node: MakeNode) -> None:
    node = make_node("n")
    log: list[tuple[int, str, int]] = []

    def worker(tag: str, period: int, steps: int) -> None:
        for step in range(steps):
            log.append((node.now, tag, step))
            node.sleep_ns(period)

    def main() -> None:
        node.start_thread(worker, ("A", 300, 4))
        node.start_thread(worker, ("B", 200, 4))
        log.append((node.now, "main", 0))
        node.sleep_ns(600)
        log.append((node.now, "main", 1))

    kernel.call_at(100, soon(lambda: node.start_thread(main, name="main")))
    kernel.run()
    assert log == [
        (100, "main", 0),
        (100, "A", 0),
        (100, "B", 0),
        (300, "B", 1),
        (400, "A", 1),
        (500, "B", 2),
        (700, "main", 1),  # main's timer was armed before A's and B's at 700
        (700, "A", 2),
        (700, "B", 3),
        (1000, "A", 3),
    ]


def test_spawn_from_plain_code_runs_until_it_blocks(kernel: Kernel, make_node: MakeNode) -> None:
    node = make_node("n")
    log: list[str] = []

    def body() -> None:
        log.append("ran")
        node.sleep_ns(10)
        log.append("woke")

    ident = node.start_thread(body)
    assert log == ["ran"]
    assert node.thread_alive(ident)
    assert node.threads[0].state is ThreadState.BLOCKED
    kernel.run()
    assert log == ["ran", "woke"]
    assert not node.thread_alive(ident)
    assert node.threads == []


def test_spawn_from_a_thread_runs_after_the_caller_blocks(kernel: Kernel, make_node: MakeNode) -> None:
    node = make_node("n")
    log: list[tuple[int, str]] = []

    def child() -> None:
        log.append((node.now, "child"))

    def parent() -> None:
        node.start_thread(child)
        log.append((node.now, "parent continues"))
        node.yield_now()
        log.append((node.now, "parent resumed"))

    kernel.call_at(50, soon(lambda: node.start_thread(parent)))
    kernel.run()
    assert log == [(50, "parent continues"), (50, "child"), (50, "parent resumed")]


def test_yield_now_round_robin(make_node: MakeNode) -> None:
    node = make_node("n")
    log: list[str] = []

    def body(tag: str) -> None:
        for i in range(3):
            log.append(f"{tag}{i}")
            node.yield_now()

    def main() -> None:
        node.start_thread(body, ("a",))
        node.start_thread(body, ("b",))

    node.start_thread(main)
    assert log == ["a0", "b0", "a1", "b1", "a2", "b2"]


def test_wake_from_plain_code_runs_at_the_same_instant_from_a_kernel_callback(
    kernel: Kernel, make_node: MakeNode
) -> None:
    node = make_node("n")
    event = node.event()
    log: list[tuple[int, str]] = []

    def waiter() -> None:
        log.append((node.now, "waiting"))
        assert event.wait()
        log.append((node.now, "released"))

    def release() -> None:
        event.set()
        log.append((kernel.now, "set returned"))  # the waiter runs after this callback

    node.start_thread(waiter)
    kernel.call_at(7_000, release)
    kernel.run()
    assert log == [(0, "waiting"), (7_000, "set returned"), (7_000, "released")]


def test_blocking_from_plain_code_is_an_error(make_node: MakeNode) -> None:
    node = make_node("n")
    with pytest.raises(NotInFirmwareThread):
        node.sleep_ns(5)
    with pytest.raises(NotInFirmwareThread):
        node.event().wait(10)
    assert node.event().wait(0) is False  # non-blocking checks are fine


def test_kill_raises_greenlet_exit_where_the_thread_blocked(kernel: Kernel, make_node: MakeNode) -> None:
    node = make_node("n")
    log: list[str] = []

    def body() -> None:
        try:
            node.sleep_ns(1_000)
            log.append("never")
        finally:
            log.append(f"finally at {node.now}")

    ident = node.start_thread(body)
    kernel.run(500)
    assert node.kill_thread(ident) is True
    kernel.run()
    assert log == ["finally at 500"]
    assert node.kill_thread(ident) is False


def test_killed_thread_cannot_block_again(kernel: Kernel, make_node: MakeNode) -> None:
    node = make_node("n")
    log: list[str] = []

    def stubborn() -> None:
        while True:
            try:
                node.sleep_ns(100)
            except GreenletExit:
                log.append("caught")
                # it swallows the kill and tries to block again: that raises again
                try:
                    node.sleep_ns(100)
                except GreenletExit:
                    log.append("again")
                    raise

    ident = node.start_thread(stubborn)
    node.kill_thread(ident)
    kernel.run()
    assert log == ["caught", "again"]
    assert not node.thread_alive(ident)


def test_kill_a_thread_not_started_yet(kernel: Kernel, make_node: MakeNode) -> None:
    node = make_node("n")
    log: list[str] = []

    def main() -> None:
        ident = node.start_thread(lambda: log.append("child ran"))
        node.kill_thread(ident)
        node.sleep_ns(1)

    node.start_thread(main)
    kernel.run()
    assert log == []


def test_kill_self_raises_at_once(make_node: MakeNode) -> None:
    node = make_node("n")
    log: list[str] = []

    def body() -> None:
        node.kill_thread(node.get_ident())
        log.append("never")

    node.start_thread(body)
    assert log == [] and node.threads == []


def test_scheduler_close_kills_every_thread(kernel: Kernel, scheduler: FirmwareScheduler, make_node: MakeNode) -> None:
    a, b = make_node("a"), make_node("b")
    log: list[str] = []

    def body(tag: str) -> None:
        try:
            node = a if tag == "a" else b
            node.sleep_ns(10**12)
        finally:
            log.append(tag)

    a.start_thread(body, ("a",))
    b.start_thread(body, ("b",))
    kernel.run(1_000)
    scheduler.close()
    assert log == ["a", "b"]
    assert a.threads == [] and b.threads == []


def test_thread_idents_and_names(make_node: MakeNode) -> None:
    node = make_node("n")
    seen: list[int] = []

    def body() -> None:
        seen.append(node.get_ident())
        node.sleep_ns(1)

    first = node.start_thread(body)
    second = node.start_thread(body, name="worker")
    assert (first, second) == (1, 2) and seen == [1, 2]
    assert [t.name for t in node.threads] == ["body", "worker"]
    with pytest.raises(NotInFirmwareThread):
        node.get_ident()


def test_system_exit_ends_the_thread_quietly(kernel: Kernel, make_node: MakeNode) -> None:
    node = make_node("n")

    def body() -> None:
        raise SystemExit

    node.start_thread(body)
    kernel.run()
    assert node.failures == [] and node.scheduler.failures == []


def _model(durations: list[list[int]]) -> list[tuple[int, int, int]]:
    """A reference discrete-event simulation: the log the runtime must produce."""
    log: list[tuple[int, int, int]] = []
    heap: list[tuple[int, int, int, int]] = []
    seq = 0
    for i, ds in enumerate(durations):
        log.append((0, i, 0))
        if ds:
            heapq.heappush(heap, (ds[0], seq, i, 1))
            seq += 1
    while heap:
        t, _, i, step = heapq.heappop(heap)
        log.append((t, i, step))
        if step < len(durations[i]):
            heapq.heappush(heap, (t + durations[i][step], seq, i, step + 1))
            seq += 1
    return log


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(1, 50), max_size=6), min_size=1, max_size=5))
def test_interleaving_matches_a_reference_event_simulation(durations: list[list[int]]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        kernel = Kernel(1)
        scheduler = FirmwareScheduler(kernel, watchdog_s=None)
        node = NodeRuntime("n", kernel, scheduler, kernel.seeds, tmp)
        log: list[tuple[int, int, int]] = []

        def body(i: int) -> None:
            log.append((node.now, i, 0))
            for step, d in enumerate(durations[i], start=1):
                node.sleep_ns(d)
                log.append((node.now, i, step))

        for i in range(len(durations)):
            node.start_thread(body, (i,))
        kernel.run()
        assert log == _model(durations)
