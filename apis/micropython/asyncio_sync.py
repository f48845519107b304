"""MicroPython's asyncio synchronisation classes: Event, ThreadSafeFlag, Lock.

Theory of operation
-------------------
Each class keeps its state and a FIFO of waiting futures created on the node's current
event loop (:class:`~apis.micropython.asyncio_loop.SimEventLoop`), which it reaches
through the class attribute ``_node`` (the stand-in module makes one subclass per node,
so module-level objects such as aioble's ``ThreadSafeFlag()`` need no running loop).
Waking a waiter is ``future.set_result``; the loop's ``call_soon`` wakes the parked loop
when that happens in another firmware thread (an IRQ handler), so ``set`` works from
anywhere. Cancelling a waiting task cancels its future: ``CancelledError`` is raised at
the ``await`` and the waiter is forgotten.

Semantics follow MicroPython (``extmod/asyncio/event.py``, ``lock.py``):

* ``Event``: ``set`` wakes every waiter and stays set until ``clear``; ``wait`` on a set
  event returns at once without yielding.
* ``ThreadSafeFlag``: one waiting task at a time; ``set`` may come from an IRQ; ``wait``
  returns at once (clearing the flag) when it is already set, otherwise waits for ``set``
  and clears it: the flag auto-clears.
* ``Lock``: FIFO; ``release`` hands the lock to the first waiter; releasing a lock that
  is not held raises ``RuntimeError("Lock not acquired")``.
"""

from __future__ import annotations

import asyncio
import collections
from types import TracebackType
from typing import ClassVar, Protocol

from apis.micropython.asyncio_loop import SimEventLoop

__all__ = ["Event", "Lock", "LoopSource", "ThreadSafeFlag"]


class LoopSource(Protocol):
    """What the classes need from the node's asyncio: its current loop."""

    @property
    def loop(self) -> SimEventLoop: ...


def _wake_first(waiters: collections.deque[asyncio.Future[None]]) -> bool:
    while waiters:
        fut = waiters.popleft()
        if not fut.done():
            fut.set_result(None)
            return True
    return False


class _Bound:
    _node: ClassVar[LoopSource]

    def _future(self) -> asyncio.Future[None]:
        return self._node.loop.create_future()


class Event(_Bound):
    """``asyncio.Event``: a flag tasks can wait for."""

    def __init__(self) -> None:
        self.state = False
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    def is_set(self) -> bool:
        return self.state

    def set(self) -> None:
        self.state = True
        while _wake_first(self._waiters):
            pass

    def clear(self) -> None:
        self.state = False

    async def wait(self) -> bool:
        if self.state:
            return True
        fut = self._future()
        self._waiters.append(fut)
        try:
            await fut
        finally:
            if fut in self._waiters:
                self._waiters.remove(fut)
        return True


class ThreadSafeFlag(_Bound):
    """``asyncio.ThreadSafeFlag``: an auto-clearing flag that IRQ handlers may set."""

    def __init__(self) -> None:
        self.state = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    def set(self) -> None:
        self.state = 1
        _wake_first(self._waiters)

    def clear(self) -> None:
        self.state = 0

    async def wait(self) -> None:
        if not self.state:
            fut = self._future()
            self._waiters.append(fut)
            try:
                await fut
            finally:
                if fut in self._waiters:
                    self._waiters.remove(fut)
        self.state = 0


class Lock(_Bound):
    """``asyncio.Lock``: a FIFO lock for tasks (``async with lock:``)."""

    def __init__(self) -> None:
        self.state = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    def locked(self) -> bool:
        return self.state == 1

    def release(self) -> None:
        if self.state != 1:
            raise RuntimeError("Lock not acquired")
        if not _wake_first(self._waiters):
            self.state = 0  # else handed over: stays locked for the woken waiter

    async def acquire(self) -> bool:
        if self.state == 0:
            self.state = 1
            return True
        fut = self._future()
        self._waiters.append(fut)
        try:
            await fut
        except asyncio.CancelledError:
            if fut in self._waiters:
                self._waiters.remove(fut)
            elif fut.done() and not fut.cancelled():
                self.release()  # handed over just as we were cancelled: pass it on
            raise
        return True

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
