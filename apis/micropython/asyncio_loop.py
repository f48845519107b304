"""A CPython asyncio event loop on a node's simulated time.

Theory of operation
-------------------
:class:`SimEventLoop` is CPython's ``BaseEventLoop`` with three things replaced:

* **the clock**: :meth:`time` is the node's simulated time (``runtime.now``, integer
  nanoseconds, as float seconds), so ``call_at``/``call_later`` schedule on simulated time;
* **the select step**: the loop has no file descriptors, so its "selector" only waits.
  ``select(timeout)`` parks the firmware thread that runs the loop on a runtime event with
  a simulated-time timeout equal to the time left to the next timer (forever if there is
  none). Nothing waits on the wall clock; while the loop is parked, the simulation goes on
  (other nodes, this node's BLE stack and its IRQ threads);
* **wake-ups**: a callback scheduled from another firmware thread (an IRQ handler setting
  a ``ThreadSafeFlag``, ``call_soon_threadsafe``) sets that event, so the parked loop
  resumes at the same simulated instant.

Every firmware thread is a greenlet on the one OS thread of the simulation, and CPython
keeps "the running loop" per OS thread. Several nodes (and several threads of one node)
may each be inside a loop at once, so this loop never publishes itself as the running
loop: the stand-in module (:mod:`apis.micropython.asyncio_mod`) passes its loop
explicitly everywhere, and :meth:`run_forever` checks only that *this* loop is not
already running.

MicroPython behaviours kept here: an exception in a task nobody awaits is printed when the
task ends (``Task exception wasn't retrieved``), not when CPython would collect it; tasks
never warn on destruction; when the node's firmware stops, the coroutines of pending tasks
are closed at that instant (CPython would close them whenever they are collected).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Generator
from contextvars import Context
from typing import TYPE_CHECKING, Any, TypeVar, TypeVarTuple, Unpack

import greenlet  # type: ignore[import-untyped]

from apis.micropython.asyncio_trace import format_exception

if TYPE_CHECKING:
    from emu.runtime import Event, NodeRuntime

__all__ = ["UNRETRIEVED_MESSAGE", "SimEventLoop"]

T = TypeVar("T")
Ts = TypeVarTuple("Ts")

#: What MicroPython prints for a task that ended with an exception nobody awaited.
UNRETRIEVED_MESSAGE = "Task exception wasn't retrieved"

_GreenletExit: type[BaseException] = greenlet.GreenletExit


class _Selector:
    """The loop's select step: park the loop's thread until a timer or a wake-up."""

    def __init__(self, wakeup: Event) -> None:
        self._wakeup = wakeup

    def select(self, timeout: float | None) -> list[object]:
        wakeup = self._wakeup
        if wakeup.is_set():
            wakeup.clear()
            return []
        if timeout is not None and timeout <= 0:
            return []
        timeout_ns = None if timeout is None else max(1, round(timeout * 1e9))
        wakeup.wait(timeout_ns)
        wakeup.clear()
        return []

    def close(self) -> None:
        pass


class SimEventLoop(asyncio.BaseEventLoop):
    """The event loop of one node's asyncio (see the module docstring)."""

    def __init__(self, runtime: NodeRuntime) -> None:
        super().__init__()
        self.runtime = runtime
        self._wakeup = runtime.event()
        me: Any = self
        me._selector = _Selector(self._wakeup)
        me._clock_resolution = 1e-9  # the simulation's resolution, not the host's
        self._glet: Any = None
        self._dead = False
        #: pending tasks in creation order (a dict keeps it)
        self._tasks: dict[asyncio.Task[Any], None] = {}
        self.set_exception_handler(_mpy_exception_handler)

    # -- time and waiting ----------------------------------------------------------------

    def time(self) -> float:
        """Simulated time in seconds (exact nanoseconds as a float)."""
        return self.runtime.now / 1e9

    def time_ns(self) -> int:
        return self.runtime.now

    def call_at_ns(
        self, when_ns: int, callback: Callable[[Unpack[Ts]], object], *args: *Ts
    ) -> asyncio.TimerHandle:
        """``call_at`` on an integer nanosecond instant (exact: no float drift)."""
        return self.call_at(when_ns / 1e9, callback, *args)

    def _process_events(self, event_list: list[object]) -> None:
        pass

    def _write_to_self(self) -> None:
        self._wakeup.set()

    def _in_loop_thread(self) -> bool:
        return self._glet is not None and greenlet.getcurrent() is self._glet

    def call_soon(
        self, callback: Callable[[Unpack[Ts]], object], *args: *Ts, context: Context | None = None
    ) -> asyncio.Handle:
        handle = super().call_soon(callback, *args, context=context)
        if not self._in_loop_thread():
            self._wakeup.set()
        return handle

    def call_soon_threadsafe(
        self, callback: Callable[[Unpack[Ts]], object], *args: *Ts, context: Context | None = None
    ) -> asyncio.Handle:
        handle = super().call_soon(callback, *args, context=context)
        self._wakeup.set()
        return handle

    def call_at(
        self, when: float, callback: Callable[[Unpack[Ts]], object], *args: *Ts, context: Context | None = None
    ) -> asyncio.TimerHandle:
        handle = super().call_at(when, callback, *args, context=context)
        if not self._in_loop_thread():
            self._wakeup.set()
        return handle

    # -- running -------------------------------------------------------------------------

    def _check_running(self) -> None:
        if self.is_running():
            raise RuntimeError("This event loop is already running")

    def run_forever(self) -> None:
        """Run until :meth:`stop`; never published as CPython's per-thread running loop."""
        me: Any = self
        me._check_closed()
        self._check_running()
        me._thread_id = threading.get_ident()
        previous, self._glet = self._glet, greenlet.getcurrent()
        try:
            while True:
                me._run_once()
                if me._stopping:
                    break
        except _GreenletExit:
            self.abandon()  # the firmware was stopped or rebooted while the loop ran
            raise
        finally:
            me._stopping = False
            me._thread_id = None
            self._glet = previous

    def create_task(
        self,
        coro: Generator[Any, None, T] | Coroutine[Any, Any, T],
        *,
        name: object = None,
        context: Context | None = None,
    ) -> asyncio.Task[T]:
        task = super().create_task(coro, name=name, context=context)
        me: Any = task
        me._log_destroy_pending = False
        self._tasks[task] = None
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.pop(task, None)
        if task.cancelled() or self._dead:
            return
        # Awaiters of ``task`` are woken by callbacks scheduled in this same batch; look
        # once they have run, as MicroPython reports a task nobody waits for when it ends.
        super().call_soon(self._report_unretrieved, task)

    def _report_unretrieved(self, task: asyncio.Task[Any]) -> None:
        me: Any = task
        if self._dead or not getattr(me, "_log_traceback", False):
            return
        exc = task.exception()  # marks it retrieved: CPython stays quiet later
        if isinstance(exc, _GreenletExit):
            return  # the firmware thread was killed inside the task
        self.call_exception_handler(
            {"message": UNRETRIEVED_MESSAGE, "exception": exc, "future": task, "task": task}
        )

    def pending_tasks(self) -> list[asyncio.Task[Any]]:
        """Tasks created on this loop that have not ended, in creation order."""
        return list(self._tasks)

    def abandon(self) -> None:
        """The node's firmware stopped: drop every pending task and callback, now.

        Coroutines of pending tasks are closed at this instant (their ``finally`` blocks
        run now rather than at an unpredictable garbage collection); nothing is printed.
        """
        if self._dead:
            return
        self._dead = True
        me: Any = self
        for task in self.pending_tasks():
            mt: Any = task
            mt._log_destroy_pending = False
            coro = task.get_coro()
            try:
                if coro is not None and hasattr(coro, "close"):
                    coro.close()
            except BaseException:
                pass
        self._tasks.clear()
        me._ready.clear()
        for handle in me._scheduled:
            handle.cancel()
        me._scheduled.clear()

    @property
    def dead(self) -> bool:
        return self._dead


def _mpy_exception_handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """MicroPython's default handler: message, the future, and the exception, to stdout."""
    if not isinstance(loop, SimEventLoop) or loop.dead or not loop.runtime.accepting:
        return
    out = loop.runtime.output
    out(str(context.get("message", "Unhandled exception in event loop")) + "\n")
    future = context.get("future")
    if isinstance(future, asyncio.Task):
        coro = future.get_coro()
        name = getattr(coro, "__name__", "coroutine")
        out(f"future: <Task> coro= <generator object '{name}'>\n")
    exc = context.get("exception")
    if isinstance(exc, BaseException):
        out(format_exception(exc))
