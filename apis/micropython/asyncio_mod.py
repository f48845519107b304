"""MicroPython's ``asyncio`` (``uasyncio``) for a node, on simulated time.

Theory of operation
-------------------
MicroPython's own ``extmod/asyncio`` cannot run on CPython (``ThreadSafeFlag.wait`` is an
``async def`` containing ``yield``; ``sleep_ms`` returns a bare iterator), so the stand-in
is CPython's asyncio machinery — its ``Task``, ``Future`` and loop core — driven by a
:class:`~apis.micropython.asyncio_loop.SimEventLoop` whose clock is the node's simulated
time and whose idle step parks the firmware thread until the next timer or wake-up.

Each boot of a node gets one :class:`AsyncioNode` and one module built from it
(:func:`make_asyncio_module`), exposing MicroPython's API: ``run`` (repeatable; tasks
left over stay queued for the next ``run``, as in MicroPython), ``create_task`` (legal
before ``run``), ``sleep``/``sleep_ms``, ``wait_for``/``wait_for_ms``, ``gather``,
``current_task``, ``get_event_loop``/``new_event_loop``, ``Event``, ``Lock``,
``ThreadSafeFlag`` (constructible with no loop, ``set`` from IRQ handlers),
``CancelledError``, ``TimeoutError`` and ``Task``. The loop is passed explicitly
everywhere (never looked up as CPython's per-thread running loop), so firmware threads of
different nodes can each be inside ``asyncio.run`` at once.

Timings are exact: ``sleep_ms(5)`` resumes exactly 5 000 000 ns later. Semantics that
differ between CPython and MicroPython follow MicroPython: ``gather`` with an exception
and ``return_exceptions=False`` raises it and leaves the other tasks running;
``wait_for`` cancels its awaitable on timeout, waits for it to end and raises
``TimeoutError``; an exception in a task nobody awaits is printed when the task ends.

Not provided (no network stack on simulated nodes): ``open_connection``,
``start_server``, ``StreamReader``/``StreamWriter``.
"""

from __future__ import annotations

import asyncio
import types
from collections.abc import Awaitable, Coroutine, Generator
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

from apis.micropython.asyncio_loop import SimEventLoop
from apis.micropython.asyncio_sync import Event, Lock, ThreadSafeFlag

if TYPE_CHECKING:
    from emu.runtime import NodeRuntime
    from emu.runtime.importer import ModuleSource

__all__ = [
    "ASYNCIO_MODULES",
    "AsyncioNode",
    "CancelledError",
    "TimeoutError",
    "make_asyncio_module",
]

T = TypeVar("T")

CancelledError = asyncio.CancelledError
TimeoutError = asyncio.TimeoutError

NS_PER_MS = 1_000_000
NS_PER_S = 1_000_000_000

#: The version string MicroPython's asyncio exposes.
VERSION = (3, 0, 0)


@types.coroutine
def _yield_once() -> Generator[None, None, None]:
    """Give the other ready tasks a turn (a bare ``yield``: the task is re-queued)."""
    yield


class AsyncioNode:
    """One boot's asyncio state: the node's current loop and the API functions."""

    def __init__(self, runtime: NodeRuntime) -> None:
        self.runtime = runtime
        self._loop: SimEventLoop | None = None
        runtime.on_stop(self._stopped)

    # -- the loop ------------------------------------------------------------------------

    @property
    def loop(self) -> SimEventLoop:
        """The node's loop (created on first use: no loop is needed to build objects)."""
        if self._loop is None:
            self._loop = SimEventLoop(self.runtime)
        return self._loop

    def get_event_loop(self, *_args: Any) -> SimEventLoop:
        return self.loop

    def new_event_loop(self) -> SimEventLoop:
        """A fresh loop; tasks of the previous one are dropped (as MicroPython resets its queue)."""
        if self._loop is not None:
            self._loop.abandon()
        self._loop = SimEventLoop(self.runtime)
        return self._loop

    def _stopped(self) -> None:
        if self._loop is not None:
            self._loop.abandon()

    # -- tasks ---------------------------------------------------------------------------

    def create_task(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Schedule ``coro`` as a task (also before any ``run``)."""
        if not asyncio.iscoroutine(coro):
            raise TypeError("coroutine expected")
        return self.loop.create_task(coro)

    def _as_task(self, aw: Awaitable[T]) -> asyncio.Future[T]:
        if isinstance(aw, asyncio.Future):
            return aw
        if asyncio.iscoroutine(aw):
            return self.loop.create_task(aw)
        raise TypeError("coroutine expected")

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` as a task until it ends; returns its result or raises its exception."""
        return self.loop.run_until_complete(self.create_task(coro))

    def run_until_complete(self, main: Awaitable[T] | None = None) -> Any:
        loop = self.loop
        if main is None:
            loop.run_forever()
            return None
        return loop.run_until_complete(self._as_task(main))

    def current_task(self) -> asyncio.Task[Any]:
        task = asyncio.current_task(self.loop)
        if task is None:
            raise RuntimeError("no running task")
        return task

    # -- time ----------------------------------------------------------------------------

    async def _sleep_ns(self, ns: int) -> None:
        if ns <= 0:
            await _yield_once()
            return
        loop = self.loop
        fut: asyncio.Future[None] = loop.create_future()
        handle = loop.call_at_ns(self.runtime.now + ns, _resolve, fut)
        try:
            await fut
        finally:
            handle.cancel()

    def sleep(self, t: float) -> Coroutine[Any, Any, None]:
        """Sleep ``t`` seconds of simulated time (``sleep(0)`` yields once)."""
        return self._sleep_ns(round(t * NS_PER_S))

    def sleep_ms(self, t: int) -> Coroutine[Any, Any, None]:
        """Sleep ``t`` milliseconds of simulated time."""
        return self._sleep_ns(int(t) * NS_PER_MS)

    # -- combinators ---------------------------------------------------------------------

    async def _wait_for_ns(self, aw: Awaitable[T], timeout_ns: int | None) -> T:
        task = self._as_task(aw)
        if timeout_ns is None:
            return await task
        loop = self.loop
        waiter: asyncio.Future[None] = loop.create_future()
        timer = loop.call_at_ns(self.runtime.now + max(0, timeout_ns), _resolve, waiter)
        task.add_done_callback(lambda _t: _resolve(waiter))
        try:
            await waiter
        except asyncio.CancelledError:
            task.cancel()  # cancelled from outside: the awaitable goes too
            raise
        finally:
            timer.cancel()
        if task.done():
            return task.result()
        task.cancel()  # the timeout came first
        try:
            await task
        except asyncio.CancelledError:
            pass
        except BaseException:
            pass
        raise TimeoutError()

    def wait_for(self, aw: Awaitable[T], timeout: float | None) -> Coroutine[Any, Any, T]:
        """Await ``aw`` for at most ``timeout`` s; on timeout cancel it and raise ``TimeoutError``."""
        return self._wait_for_ns(aw, None if timeout is None else round(timeout * NS_PER_S))

    def wait_for_ms(self, aw: Awaitable[T], timeout: int | None) -> Coroutine[Any, Any, T]:
        """:meth:`wait_for` with the timeout in milliseconds."""
        return self._wait_for_ns(aw, None if timeout is None else int(timeout) * NS_PER_MS)

    async def gather(self, *aws: Awaitable[Any], return_exceptions: bool = False) -> list[Any]:
        """Run every awaitable; their results in order (MicroPython semantics)."""
        if not aws:
            return []
        tasks = [self._as_task(aw) for aw in aws]
        loop = self.loop
        done: asyncio.Future[None] = loop.create_future()
        remaining = len(tasks)

        def on_done(task: asyncio.Future[Any]) -> None:
            nonlocal remaining
            remaining -= 1
            failed = task.cancelled() or task.exception() is not None
            if not done.done() and (remaining == 0 or (failed and not return_exceptions)):
                done.set_result(None)

        for task in tasks:
            task.add_done_callback(on_done)
        try:
            await done
        except asyncio.CancelledError:
            for task in tasks:
                task.cancel()
            raise
        finally:
            for task in tasks:
                task.remove_done_callback(on_done)
        results: list[Any] = []
        for task in tasks:
            if not task.done():
                results.append(None)  # still running: only reached when raising below
                continue
            if task.cancelled():
                exc: BaseException = asyncio.CancelledError()
            else:
                maybe = task.exception()
                if maybe is None:
                    results.append(task.result())
                    continue
                exc = maybe
            if not return_exceptions:
                raise exc
            results.append(exc)
        return results


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


def _bind(cls: type[T], node: AsyncioNode) -> type[T]:
    """A per-node subclass of ``cls`` bound to ``node`` (its loop, its runtime)."""
    return type(cls.__name__, (cls,), {"_node": node, "__module__": "asyncio", "__qualname__": cls.__name__})


def make_asyncio_module(runtime: NodeRuntime) -> ModuleType:
    """The node's ``asyncio`` module (a module-table factory: one per boot)."""
    node = AsyncioNode(runtime)
    mod = ModuleType("asyncio", "MicroPython asyncio on simulated time (blesim).")
    names: dict[str, object] = {
        "__version__": VERSION,
        "CancelledError": CancelledError,
        "TimeoutError": TimeoutError,
        "Task": asyncio.Task,
        "Event": _bind(Event, node),
        "ThreadSafeFlag": _bind(ThreadSafeFlag, node),
        "Lock": _bind(Lock, node),
        "create_task": node.create_task,
        "current_task": node.current_task,
        "run": node.run,
        "run_until_complete": node.run_until_complete,
        "get_event_loop": node.get_event_loop,
        "new_event_loop": node.new_event_loop,
        "sleep": node.sleep,
        "sleep_ms": node.sleep_ms,
        "wait_for": node.wait_for,
        "wait_for_ms": node.wait_for_ms,
        "gather": node.gather,
        "Loop": SimEventLoop,
        "_node": node,
    }
    for key, value in names.items():
        setattr(mod, key, value)
    return mod


def _uasyncio(runtime: NodeRuntime) -> ModuleType:
    """``uasyncio``: the same module object as the node's ``asyncio``."""
    importer = runtime.importer
    if importer is None:
        raise RuntimeError(f"node {runtime.name}: not booted")
    return importer.import_module("asyncio")


#: Module-table entries for a MicroPython personality's ``modules(ctx)``.
ASYNCIO_MODULES: dict[str, ModuleSource] = {"asyncio": make_asyncio_module, "uasyncio": _uasyncio}
