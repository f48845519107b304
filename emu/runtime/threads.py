"""Firmware threads: greenlets run by the simulation kernel.

Theory of operation
-------------------
Every firmware thread — a node's main script, each callback/IRQ invocation, each thread
the firmware starts — is a greenlet. All of them run on the one OS thread of the
simulation, one at a time, and only switch where the firmware blocks, so a run is
deterministic.

The scheduler keeps a FIFO of ready threads. *Dispatching* means: the greenlet that
calls into the scheduler (a kernel callback, or plain test code) becomes the *hub* and
switches into each ready thread in turn; a thread runs until it blocks or ends, and a
blocking call switches back to the hub after arranging its wake-up:

* a timer (``Kernel.call_at``) for ``sleep`` and for timeouts — it fires as a kernel
  callback at the exact simulated instant and dispatches the woken thread right there;
* a :class:`Waiter` in a primitive's waiter list (``emu.runtime.sync``) — released by
  another thread (it joins the ready FIFO of the running dispatch) or by plain code
  outside any dispatch (it is then deferred: a dispatch is scheduled with the kernel at
  the current instant, so it runs after the current kernel callback has returned).

:meth:`FirmwareScheduler.spawn` from plain code runs the new thread at once, until it
blocks; from inside a firmware thread it only queues it (it runs when the current thread
blocks, still at the same simulated instant). A killed thread receives ``GreenletExit``
where it blocked and cannot block again. Each slice (one switch into a thread until it
blocks) is watched by the :class:`~emu.runtime.watchdog.Watchdog`.
"""

from __future__ import annotations

import collections
import enum
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import greenlet  # type: ignore[import-untyped]

from emu.kernel import Kernel, Timer
from emu.runtime.watchdog import DEFAULT_BUDGET_S, Watchdog

if TYPE_CHECKING:
    from emu.runtime.node import FirmwareFailure, NodeRuntime

__all__ = [
    "FirmwareScheduler",
    "FirmwareThread",
    "GreenletExit",
    "NotInFirmwareThread",
    "ThreadState",
    "Waiter",
    "format_seconds",
    "format_sim_time",
]

#: Raised inside a thread that is being killed (node stopped, rebooted).
GreenletExit: type[BaseException] = greenlet.GreenletExit


def format_seconds(t_ns: int) -> str:
    """``12345678000`` -> ``"12.345678"`` (integer arithmetic, microsecond resolution)."""
    return f"{t_ns // 1_000_000_000}.{(t_ns // 1_000) % 1_000_000:06d}"


def format_sim_time(t_ns: int) -> str:
    """The console prefix for an instant: ``[  12.345678]``."""
    return f"[{t_ns // 1_000_000_000:4d}.{(t_ns // 1_000) % 1_000_000:06d}]"


class NotInFirmwareThread(RuntimeError):
    """A blocking call was made outside any firmware thread (plain code cannot block)."""


class ThreadState(enum.Enum):
    NEW = "new"
    READY = "ready"
    RUNNING = "running"
    BLOCKED = "blocked"
    DEAD = "dead"


class Waiter:
    """One blocked thread's place in a waiter list (or its sleep timer).

    ``done`` is set once, by whichever comes first: :meth:`FirmwareScheduler.wake` (then
    ``signaled`` is True and ``value`` carries what was handed over) or the timeout.
    Primitives skip waiters that are already done.
    """

    __slots__ = ("done", "signaled", "thread", "timer", "value")

    def __init__(self, thread: FirmwareThread) -> None:
        self.thread = thread
        self.timer: Timer | None = None
        self.done = False
        self.signaled = False
        self.value: object = None


class FirmwareThread:
    """A firmware thread of one node (a greenlet plus bookkeeping)."""

    def __init__(
        self,
        scheduler: FirmwareScheduler,
        node: NodeRuntime,
        fn: Callable[..., object],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        name: str,
        ident: int,
    ) -> None:
        self.scheduler = scheduler
        self.node = node
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.name = name
        self.ident = ident
        self.state = ThreadState.NEW
        self.killed = False
        self.started = False
        self.waiter: Waiter | None = None
        self.glet: Any = greenlet.greenlet(self._body)

    @property
    def alive(self) -> bool:
        return self.state is not ThreadState.DEAD

    def __repr__(self) -> str:
        return f"<FirmwareThread {self.node.name}/{self.name} #{self.ident} {self.state.value}>"

    def _body(self) -> None:
        scheduler = self.scheduler
        try:
            try:
                self.fn(*self.args, **self.kwargs)
            finally:
                scheduler.watchdog.finished(self.glet)
        except GreenletExit:
            pass
        except SystemExit:
            pass  # sys.exit() / _thread.exit(): the thread ends quietly
        except BaseException as exc:  # noqa: BLE001 - firmware errors of every kind are reported
            self.node._thread_failed(self, exc)
        finally:
            self.state = ThreadState.DEAD
            self.waiter = None
            scheduler._forget(self)
            self.node._thread_ended(self)


class FirmwareScheduler:
    """Runs the firmware threads of every node of a world over one :class:`Kernel`.

    ``watchdog_s`` is the wall-time budget of one slice (``None``: no watchdog).
    """

    def __init__(self, kernel: Kernel, *, watchdog_s: float | None = DEFAULT_BUDGET_S) -> None:
        self.kernel = kernel
        self.watchdog = Watchdog(watchdog_s)
        self.nodes: list[NodeRuntime] = []
        #: every firmware failure of the run, in order (the run's exit status uses it)
        self.failures: list[FirmwareFailure] = []
        self._ready: collections.deque[FirmwareThread] = collections.deque()
        #: made ready by plain code for "later at this instant": the pending dispatch's
        self._deferred: collections.deque[FirmwareThread] = collections.deque()
        self._by_glet: dict[Any, FirmwareThread] = {}
        self._hub: Any = None
        self._running: FirmwareThread | None = None
        self._pending: Timer | None = None

    # -- queries ---------------------------------------------------------------------------

    @property
    def current(self) -> FirmwareThread | None:
        """The firmware thread calling this, or None from plain code."""
        return self._by_glet.get(greenlet.getcurrent())

    def require_current(self) -> FirmwareThread:
        thread = self.current
        if thread is None:
            raise NotInFirmwareThread("a blocking call needs a firmware thread (plain code cannot block)")
        return thread

    @property
    def dispatching(self) -> bool:
        return self._hub is not None

    # -- threads ---------------------------------------------------------------------------

    def spawn(
        self,
        node: NodeRuntime,
        fn: Callable[..., object],
        *args: Any,
        name: str = "thread",
        kwargs: dict[str, Any] | None = None,
        defer: bool = False,
    ) -> FirmwareThread:
        """Start ``fn(*args)`` as a firmware thread of ``node`` at the current instant.

        From plain code it runs at once until it blocks (``defer=True``: from a kernel
        callback scheduled now, after the caller returns); from a firmware thread it is
        queued behind the ready threads and runs when the caller blocks.
        """
        thread = FirmwareThread(self, node, fn, args, dict(kwargs or {}), name, node._next_ident())
        self._by_glet[thread.glet] = thread
        node._thread_started(thread)
        self._make_ready(thread, run_now=not defer)
        return thread

    def kill(self, thread: FirmwareThread) -> None:
        """Kill ``thread``: ``GreenletExit`` is raised where it blocked (its ``finally`` runs).

        Killing the calling thread only marks it; the caller raises ``GreenletExit``.
        """
        if thread.state is ThreadState.DEAD:
            return
        thread.killed = True
        self._cancel_wait(thread)
        for queue in (self._ready, self._deferred):
            try:
                queue.remove(thread)
            except ValueError:
                pass
        if not thread.started:
            thread.state = ThreadState.DEAD
            self._forget(thread)
            thread.node._thread_ended(thread)
            return
        if thread.glet is greenlet.getcurrent():
            return
        here = greenlet.getcurrent()
        previous_running = self._running
        self._running = thread
        saved = self.watchdog.enter(thread.glet, thread.node.name, self.kernel.now)
        try:
            thread.glet.parent = here
            thread.glet.throw(GreenletExit)
        finally:
            self._running = previous_running
            self.watchdog.restore(saved)

    def close(self) -> None:
        """Kill every remaining thread (end of a run), in a deterministic order."""
        for thread in list(self._by_glet.values()):
            self.kill(thread)

    def _forget(self, thread: FirmwareThread) -> None:
        self._by_glet.pop(thread.glet, None)

    # -- blocking --------------------------------------------------------------------------

    def new_waiter(self) -> Waiter:
        """A waiter for the calling thread (raises :class:`NotInFirmwareThread` in plain code)."""
        return Waiter(self.require_current())

    def wait(self, waiter: Waiter, timeout_ns: int | None = None) -> bool:
        """Park the calling thread until :meth:`wake` (True) or ``timeout_ns`` passes (False)."""
        thread = waiter.thread
        if thread is not self.current:
            raise NotInFirmwareThread("a waiter can only be waited on by its own thread")
        if thread.killed:
            raise GreenletExit()
        if waiter.done:
            return waiter.signaled
        if timeout_ns is not None:
            waiter.timer = self.kernel.call_at(
                self.kernel.now + max(0, int(timeout_ns)), lambda: self._expire(waiter)
            )
        thread.waiter = waiter
        thread.state = ThreadState.BLOCKED
        self._switch_out(thread)
        return waiter.signaled

    def wake(self, waiter: Waiter, value: object = None) -> bool:
        """Release ``waiter`` with ``value``; False if it had already timed out or was released."""
        if waiter.done:
            return False
        waiter.done = True
        waiter.signaled = True
        waiter.value = value
        if waiter.timer is not None:
            waiter.timer.cancel()
            waiter.timer = None
        thread = waiter.thread
        if thread.waiter is waiter and thread.state is ThreadState.BLOCKED:
            thread.waiter = None
            self._make_ready(thread, run_now=False)
        return True

    def sleep_ns(self, ns: int) -> None:
        """Park the calling thread for exactly ``ns`` nanoseconds (``<= 0``: yield)."""
        if ns <= 0:
            self.yield_now()
            return
        self.wait(self.new_waiter(), ns)

    def sleep_until(self, t_ns: int) -> None:
        self.sleep_ns(int(t_ns) - self.kernel.now)

    def yield_now(self) -> None:
        """Let the other ready threads of this instant run first."""
        thread = self.require_current()
        if thread.killed:
            raise GreenletExit()
        self._ready.append(thread)
        thread.state = ThreadState.READY
        self._switch_out(thread)

    def _switch_out(self, thread: FirmwareThread) -> None:
        hub = self._hub
        if hub is None or self._running is not thread:
            raise GreenletExit()  # being killed outside a dispatch: cannot block any more
        self.watchdog.leave()
        hub.switch()
        if thread.killed:
            raise GreenletExit()

    def _expire(self, waiter: Waiter) -> None:
        if waiter.done:
            return
        waiter.done = True
        waiter.timer = None
        thread = waiter.thread
        if thread.waiter is waiter and thread.state is ThreadState.BLOCKED:
            thread.waiter = None
            self._make_ready(thread, run_now=True)

    def _cancel_wait(self, thread: FirmwareThread) -> None:
        waiter = thread.waiter
        if waiter is not None:
            waiter.done = True
            if waiter.timer is not None:
                waiter.timer.cancel()
                waiter.timer = None
            thread.waiter = None

    # -- dispatch --------------------------------------------------------------------------

    def _make_ready(self, thread: FirmwareThread, *, run_now: bool) -> None:
        thread.state = ThreadState.READY
        if self._hub is not None:
            self._ready.append(thread)  # the running dispatch takes it
        elif run_now and self.current is None:
            self._ready.append(thread)
            self.dispatch()
        else:
            self._deferred.append(thread)
            if self._pending is None:
                self._pending = self.kernel.call_at(self.kernel.now, self._pending_dispatch)

    def _pending_dispatch(self) -> None:
        self._pending = None
        self._ready.extend(self._deferred)
        self._deferred.clear()
        self.dispatch()

    def dispatch(self) -> None:
        """Run ready threads (FIFO) until none is ready. Called from plain code only."""
        if self._hub is not None or self.current is not None:
            raise RuntimeError("dispatch() called from inside the firmware scheduler")
        hub = greenlet.getcurrent()
        self._hub = hub
        watchdog = self.watchdog
        watchdog.arm()
        try:
            while self._ready:
                thread = self._ready.popleft()
                if thread.state is not ThreadState.READY:
                    continue
                thread.state = ThreadState.RUNNING
                thread.started = True
                self._running = thread
                watchdog.enter(thread.glet, thread.node.name, self.kernel.now)
                try:
                    thread.glet.parent = hub
                    thread.glet.switch()
                finally:
                    watchdog.leave()
                    self._running = None
        finally:
            self._hub = None
            watchdog.disarm()

    def threads_of(self, node: NodeRuntime) -> Iterable[FirmwareThread]:
        return [t for t in self._by_glet.values() if t.node is node]
