"""Blocking primitives in simulated time: Event, Lock, RLock, Semaphore, Condition, Queue.

Theory of operation
-------------------
Each primitive keeps a FIFO of :class:`~emu.runtime.threads.Waiter` objects. A thread that
must wait appends a waiter and parks (:meth:`FirmwareScheduler.wait`); whoever releases
it calls :meth:`FirmwareScheduler.wake`, which skips waiters that already timed out.
Ownership and items are *handed over* to the woken waiter (a released lock stays locked
for the first waiter, a put item goes straight to the first getter), so no other thread
can slip in between the wake-up and the woken thread running: the order of service is
exactly the order of arrival, which keeps runs deterministic.

All timeouts are integer nanoseconds of simulated time: ``None`` waits forever, ``<= 0``
does not wait. Non-blocking calls work from plain code too; a call that would block
raises :class:`~emu.runtime.threads.NotInFirmwareThread` there. The personalities adapt
these to their APIs (``_thread.allocate_lock``, ``queue.Queue``, ``utime.sleep`` ...).
"""

from __future__ import annotations

import collections
import queue as _stdlib_queue
from collections.abc import Callable
from typing import Generic, TypeVar

from emu.runtime.threads import FirmwareScheduler, FirmwareThread, Waiter

__all__ = ["Condition", "Event", "Lock", "Queue", "QueueEmpty", "QueueFull", "RLock", "Semaphore"]

T = TypeVar("T")


class QueueEmpty(_stdlib_queue.Empty):
    """:meth:`Queue.get` found nothing (non-blocking, or the timeout passed)."""


class QueueFull(_stdlib_queue.Full):
    """:meth:`Queue.put` found no room (non-blocking, or the timeout passed)."""


def _no_wait(timeout_ns: int | None) -> bool:
    return timeout_ns is not None and timeout_ns <= 0


def _drop(waiters: collections.deque[Waiter], waiter: Waiter) -> None:
    try:
        waiters.remove(waiter)
    except ValueError:
        pass


class _Waitable:
    def __init__(self, scheduler: FirmwareScheduler) -> None:
        self._scheduler = scheduler
        self._waiters: collections.deque[Waiter] = collections.deque()

    def _park(self, timeout_ns: int | None, value: object = None) -> Waiter:
        """Queue the calling thread and wait; the waiter tells what happened."""
        waiter = self._scheduler.new_waiter()
        waiter.value = value
        self._waiters.append(waiter)
        try:
            self._scheduler.wait(waiter, timeout_ns)
        finally:
            if not waiter.signaled:
                _drop(self._waiters, waiter)
        return waiter

    def _wake_first(self, value: object = None) -> Waiter | None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if self._scheduler.wake(waiter, value):
                return waiter
        return None


class Event(_Waitable):
    """A flag threads can wait for (``set`` wakes every waiter)."""

    def __init__(self, scheduler: FirmwareScheduler) -> None:
        super().__init__(scheduler)
        self._flag = False

    def is_set(self) -> bool:
        return self._flag

    def set(self) -> None:
        self._flag = True
        while self._wake_first() is not None:
            pass

    def clear(self) -> None:
        self._flag = False

    def wait(self, timeout_ns: int | None = None) -> bool:
        """True once the flag is set; False if ``timeout_ns`` passed first."""
        if self._flag:
            return True
        if _no_wait(timeout_ns):
            return False
        return self._park(timeout_ns).signaled


class Lock(_Waitable):
    """A non-reentrant lock; any thread may release it (as ``_thread`` locks)."""

    def __init__(self, scheduler: FirmwareScheduler) -> None:
        super().__init__(scheduler)
        self._locked = False

    def locked(self) -> bool:
        return self._locked

    def acquire(self, blocking: bool = True, timeout_ns: int | None = None) -> bool:
        if not self._locked:
            self._locked = True
            return True
        if not blocking or _no_wait(timeout_ns):
            return False
        return self._park(timeout_ns).signaled

    def release(self) -> None:
        if not self._locked:
            raise RuntimeError("release unlocked lock")
        if self._wake_first() is None:
            self._locked = False  # else: handed over, stays locked

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


class RLock(_Waitable):
    """A reentrant lock owned by a firmware thread (or by plain code: owner ``None``)."""

    def __init__(self, scheduler: FirmwareScheduler) -> None:
        super().__init__(scheduler)
        self._owner: FirmwareThread | None = None
        self._count = 0

    def locked(self) -> bool:
        return self._count > 0

    def acquire(self, blocking: bool = True, timeout_ns: int | None = None) -> bool:
        me = self._scheduler.current
        if self._count == 0:
            self._owner, self._count = me, 1
            return True
        if self._owner is me:
            self._count += 1
            return True
        if not blocking or _no_wait(timeout_ns):
            return False
        return self._park(timeout_ns).signaled  # handed over with count 1

    def release(self) -> None:
        if self._count == 0 or self._owner is not self._scheduler.current:
            raise RuntimeError("cannot release un-acquired lock")
        self._count -= 1
        if self._count == 0:
            waiter = self._wake_first()
            if waiter is not None:
                self._owner, self._count = waiter.thread, 1
            else:
                self._owner = None

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


class Semaphore(_Waitable):
    """A counting semaphore; ``bound`` makes releasing past it a ``ValueError``."""

    def __init__(self, scheduler: FirmwareScheduler, value: int = 1, bound: int | None = None) -> None:
        super().__init__(scheduler)
        if value < 0:
            raise ValueError("semaphore initial value must be >= 0")
        self._value = value
        self.bound = bound

    @property
    def value(self) -> int:
        return self._value

    def acquire(self, blocking: bool = True, timeout_ns: int | None = None) -> bool:
        if self._value > 0:
            self._value -= 1
            return True
        if not blocking or _no_wait(timeout_ns):
            return False
        return self._park(timeout_ns).signaled

    def release(self, n: int = 1) -> None:
        for _ in range(n):
            if self._wake_first() is not None:
                continue  # handed over
            if self.bound is not None and self._value >= self.bound:
                raise ValueError("semaphore released too many times")
            self._value += 1

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


class Condition(_Waitable):
    """A condition variable over a :class:`Lock` or :class:`RLock` (held once)."""

    def __init__(self, scheduler: FirmwareScheduler, lock: Lock | RLock | None = None) -> None:
        super().__init__(scheduler)
        self.lock: Lock | RLock = lock if lock is not None else Lock(scheduler)

    def acquire(self, blocking: bool = True, timeout_ns: int | None = None) -> bool:
        return self.lock.acquire(blocking, timeout_ns)

    def release(self) -> None:
        self.lock.release()

    def __enter__(self) -> bool:
        return self.lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self.lock.release()

    def wait(self, timeout_ns: int | None = None) -> bool:
        """Release the lock, wait for a notify (True) or the timeout (False), re-acquire."""
        self.lock.release()
        try:
            return self._park(timeout_ns).signaled
        finally:
            self.lock.acquire()

    def wait_for(self, predicate: Callable[[], bool], timeout_ns: int | None = None) -> bool:
        deadline = None if timeout_ns is None else self._scheduler.kernel.now + timeout_ns
        result = predicate()
        while not result:
            remaining = None if deadline is None else deadline - self._scheduler.kernel.now
            if remaining is not None and remaining <= 0:
                break
            self.wait(remaining)
            result = predicate()
        return result

    def notify(self, n: int = 1) -> None:
        for _ in range(n):
            if self._wake_first() is None:
                break

    def notify_all(self) -> None:
        while self._wake_first() is not None:
            pass


class Queue(Generic[T]):
    """A FIFO queue; ``maxsize <= 0`` is unbounded. Items are handed to waiting getters."""

    def __init__(self, scheduler: FirmwareScheduler, maxsize: int = 0) -> None:
        self._scheduler = scheduler
        self.maxsize = maxsize
        self._items: collections.deque[T] = collections.deque()
        self._getters: collections.deque[Waiter] = collections.deque()
        self._putters: collections.deque[Waiter] = collections.deque()

    def qsize(self) -> int:
        return len(self._items)

    def empty(self) -> bool:
        return not self._items

    def full(self) -> bool:
        return 0 < self.maxsize <= len(self._items)

    def clear(self) -> None:
        self._items.clear()
        self._admit_putters()

    def put(self, item: T, block: bool = True, timeout_ns: int | None = None) -> None:
        """Put ``item``; raises :class:`QueueFull` if there is no room in time."""
        if self._try_put(item):
            return
        if not block or _no_wait(timeout_ns):
            raise QueueFull()
        waiter = self._scheduler.new_waiter()
        waiter.value = item
        self._putters.append(waiter)
        try:
            self._scheduler.wait(waiter, timeout_ns)
        finally:
            if not waiter.signaled:
                _drop(self._putters, waiter)
        if not waiter.signaled:
            raise QueueFull()

    def put_nowait(self, item: T, *, raise_full: bool = True) -> bool:
        """Put without waiting: True, or when full ``QueueFull`` / False per ``raise_full``."""
        if self._try_put(item):
            return True
        if raise_full:
            raise QueueFull()
        return False

    def get(self, block: bool = True, timeout_ns: int | None = None) -> T:
        """Take the oldest item; raises :class:`QueueEmpty` if none comes in time."""
        if self._items:
            item = self._items.popleft()
            self._admit_putters()
            return item
        if not block or _no_wait(timeout_ns):
            raise QueueEmpty()
        waiter = self._scheduler.new_waiter()
        self._getters.append(waiter)
        try:
            self._scheduler.wait(waiter, timeout_ns)
        finally:
            if not waiter.signaled:
                _drop(self._getters, waiter)
        if not waiter.signaled:
            raise QueueEmpty()
        return waiter.value  # type: ignore[return-value]  # handed over by _try_put

    def get_nowait(self) -> T:
        return self.get(block=False)

    def _try_put(self, item: T) -> bool:
        while self._getters:
            if self._scheduler.wake(self._getters.popleft(), item):
                return True
        if self.full():
            return False
        self._items.append(item)
        return True

    def _admit_putters(self) -> None:
        while self._putters and not self.full():
            waiter = self._putters.popleft()
            item = waiter.value
            if self._scheduler.wake(waiter):
                self._items.append(item)  # type: ignore[arg-type]
