"""Blocking primitives in simulated time: exact instants, FIFO hand-over, timeouts."""

from __future__ import annotations

import queue as stdlib_queue
from collections.abc import Callable
from typing import Any

import pytest

from emu.kernel import Kernel
from emu.runtime import NodeRuntime, NotInFirmwareThread, QueueEmpty, QueueFull
from tests.emu.runtime.helpers import soon

MakeNode = Callable[..., NodeRuntime]


def test_queue_get_with_timeout_returns_at_the_right_instant(kernel: Kernel, make_node: MakeNode) -> None:
    node = make_node("n")
    q = node.queue()
    log: list[tuple[int, Any]] = []

    def consumer() -> None:
        try:
            q.get(timeout_ns=2_500)
        except QueueEmpty:
            log.append((node.now, "timeout"))
        item = q.get(timeout_ns=10_000)
        log.append((node.now, item))

    def producer() -> None:
        node.sleep_ns(4_000)
        q.put("x")

    kernel.call_at(1_000, soon(lambda: node.start_thread(consumer)))
    kernel.call_at(1_000, soon(lambda: node.start_thread(producer)))
    kernel.run()
    assert log == [(3_500, "timeout"), (5_000, "x")]


def test_queue_empty_and_full_are_the_stdlib_exceptions() -> None:
    assert issubclass(QueueEmpty, stdlib_queue.Empty)
    assert issubclass(QueueFull, stdlib_queue.Full)


def test_queue_hands_items_to_getters_in_arrival_order(kernel: Kernel, make_node: MakeNode) -> None:
    node = make_node("n")
    q = node.queue()
    log: list[tuple[int, str, object]] = []

    def getter(tag: str) -> None:
        item = q.get()
        log.append((node.now, tag, item))

    for tag in ("g1", "g2", "g3"):
        node.start_thread(getter, (tag,))

    def producer() -> None:
        q.put(1)
        q.put(2)
        # a greedy reader at the same instant cannot steal items handed to waiters
        with pytest.raises(QueueEmpty):
            q.get_nowait()
        node.sleep_ns(10)
        q.put(3)

    kernel.call_at(100, soon(lambda: node.start_thread(producer)))
    kernel.run()
    assert log == [(100, "g1", 1), (100, "g2", 2), (110, "g3", 3)]


def test_bounded_queue_put_blocks_until_room(kernel: Kernel, make_node: MakeNode) -> None:
    node = make_node("n")
    q = node.queue(maxsize=1)
    log: list[tuple[int, str]] = []

    def producer() -> None:
        q.put("a")
        log.append((node.now, "put a"))
        q.put("b")
        log.append((node.now, "put b"))
        with pytest.raises(QueueFull):
            q.put("c", timeout_ns=50)
        log.append((node.now, "c timed out"))

    def consumer() -> None:
        node.sleep_ns(300)
        log.append((node.now, f"got {q.get()}"))

    node.start_thread(producer)
    node.start_thread(consumer)
    kernel.run()
    assert log == [(0, "put a"), (300, "got a"), (300, "put b"), (350, "c timed out")]
    assert q.get_nowait() == "b"


def test_queue_nonblocking_from_plain_code(make_node: MakeNode) -> None:
    node = make_node("n")
    q = node.queue(maxsize=2)
    assert q.put_nowait(1) and q.put_nowait(2)
    assert q.full() and q.qsize() == 2
    assert q.put_nowait(3, raise_full=False) is False
    with pytest.raises(QueueFull):
        q.put_nowait(3)
    with pytest.raises(QueueFull):
        q.put(3, block=False)
    assert q.get_nowait() == 1
    q.clear()
    assert q.empty()
    with pytest.raises(QueueEmpty):
        q.get(block=False)
    with pytest.raises(NotInFirmwareThread):
        q.get()


def test_lock_contention_and_timeout(kernel: Kernel, make_node: MakeNode) -> None:
    node = make_node("n")
    lock = node.lock()
    log: list[tuple[int, str]] = []

    def holder() -> None:
        with lock:
            log.append((node.now, "holder in"))
            node.sleep_ns(1_000)
        log.append((node.now, "holder out"))

    def impatient() -> None:
        ok = lock.acquire(timeout_ns=400)
        log.append((node.now, f"impatient {ok}"))

    def patient(tag: str) -> None:
        assert lock.acquire()
        log.append((node.now, f"{tag} in"))
        node.sleep_ns(100)
        lock.release()

    node.start_thread(holder)
    node.start_thread(impatient)
    node.start_thread(patient, ("p1",))
    node.start_thread(patient, ("p2",))
    assert lock.locked() and lock.acquire(blocking=False) is False
    kernel.run()
    assert log == [
        (0, "holder in"),
        (400, "impatient False"),
        (1_000, "holder out"),
        (1_000, "p1 in"),
        (1_100, "p2 in"),
    ]
    assert not lock.locked()
    with pytest.raises(RuntimeError):
        lock.release()


def test_event_wait(kernel: Kernel, make_node: MakeNode) -> None:
    node = make_node("n")
    event = node.event()
    log: list[tuple[int, bool]] = []

    def waiter(timeout: int | None) -> None:
        result = event.wait(timeout)
        log.append((node.now, result))

    node.start_thread(waiter, (100,))
    node.start_thread(waiter, (None,))
    node.start_thread(waiter, (1_000,))
    kernel.call_at(500, event.set)
    kernel.run()
    assert log == [(100, False), (500, True), (500, True)]
    assert event.is_set() and event.wait(0)
    event.clear()
    assert not event.is_set()


def test_semaphore(kernel: Kernel, make_node: MakeNode) -> None:
    node = make_node("n")
    sem = node.semaphore(2, bound=2)
    log: list[tuple[int, str]] = []

    def user(tag: str) -> None:
        with sem:
            log.append((node.now, tag))
            node.sleep_ns(10)

    for tag in "abc":
        node.start_thread(user, (tag,))
    kernel.run()
    assert log == [(0, "a"), (0, "b"), (10, "c")]
    assert sem.value == 2
    with pytest.raises(ValueError):
        sem.release()
    assert sem.acquire(timeout_ns=0) and sem.acquire(blocking=False) and not sem.acquire(blocking=False)


def test_rlock_is_reentrant_and_owned(kernel: Kernel, make_node: MakeNode) -> None:
    node = make_node("n")
    rlock = node.rlock()
    log: list[tuple[int, str]] = []

    def owner() -> None:
        with rlock:
            with rlock:
                log.append((node.now, "owner twice"))
                node.sleep_ns(5)
        log.append((node.now, "owner out"))

    def other() -> None:
        with pytest.raises(RuntimeError):
            rlock.release()
        with rlock:
            log.append((node.now, "other in"))

    node.start_thread(owner)
    node.start_thread(other)
    kernel.run()
    assert log == [(0, "owner twice"), (5, "owner out"), (5, "other in")]


def test_condition_notify_and_wait_for(kernel: Kernel, make_node: MakeNode) -> None:
    node = make_node("n")
    cond = node.condition()
    items: list[int] = []
    log: list[tuple[int, object]] = []

    def consumer() -> None:
        with cond:
            assert cond.wait_for(lambda: len(items) >= 2, timeout_ns=10_000)
            log.append((node.now, list(items)))
            notified = cond.wait(300)
            log.append((node.now, notified))

    def producer() -> None:
        for i in range(2):
            node.sleep_ns(100)
            with cond:
                items.append(i)
                cond.notify()

    node.start_thread(consumer)
    node.start_thread(producer)
    kernel.run()
    assert log == [(200, [0, 1]), (500, False)]
