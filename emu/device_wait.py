"""How the device API blocks: waiters that advance simulated time until a condition holds.

Theory of operation
-------------------
Every blocking call of :class:`emu.device.Device` (connect, read, scan, ...) issues its
host call and then asks its :class:`Waiter` to wait until a condition holds (an
operation completed, an event arrived) or a simulated timeout passes. Host events reach
the device from the :class:`~emu.host_driver.HostDriver`'s listeners; the device then
calls :meth:`Waiter.notify`. Nothing ever sleeps on the wall clock. Two implementations:

* :class:`KernelWaiter` — for plain Python (a pytest test scripting a phone): it *drives*
  the simulation kernel itself, one kernel event at a time, re-checking the condition
  after each, and stops at the first instant the condition holds (or exactly at the
  deadline). It is re-entrant: a callback run by the kernel during a wait may itself
  block (its inner wait steps the same kernel). It refuses, with a clear error, to run
  inside an enclosing ``world.run()`` past that run's end.
* :class:`FirmwareWaiter` — for firmware (the ``native`` personality): the calling
  firmware thread parks on a runtime :class:`~emu.runtime.sync.Event` that
  :meth:`~FirmwareWaiter.notify` sets; the kernel is driven by the scenario runner. A
  blocking call outside any firmware thread is a :class:`DeviceUsageError`.

Both run application callbacks (notification handlers, ``on_write``) with
:meth:`Waiter.call_soon`: at the current instant but after the host has returned —
from a kernel callback (:class:`KernelWaiter`), or in their own firmware thread
(``NodeRuntime.run_callback(..., defer=True)``, :class:`FirmwareWaiter`) — so they may
block too.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable, Protocol

from simpy.core import StopSimulation

from emu.device_errors import DeviceTimeoutError, DeviceUsageError
from emu.runtime.threads import NotInFirmwareThread

if TYPE_CHECKING:
    from emu.runtime import Event, NodeRuntime
    from emu.world import World

__all__ = ["FirmwareWaiter", "KernelWaiter", "Waiter"]

Condition = Callable[[], bool]


class Waiter(Protocol):
    """What the device API needs to block on simulated time."""

    @property
    def now(self) -> int:
        """Simulated time, integer nanoseconds."""

    def wait_until(self, condition: Condition, timeout_ns: int | None) -> bool:
        """Block until ``condition()`` is true (True) or ``timeout_ns`` passed (False)."""

    def sleep_ns(self, ns: int) -> None:
        """Let ``ns`` nanoseconds of simulated time pass."""

    def notify(self) -> None:
        """Something happened: waiting conditions should be re-checked."""

    def call_soon(self, fn: Callable[..., object], *args: Any) -> None:
        """Run an application callback at the current instant, after the caller returns."""


class KernelWaiter:
    """Blocks by running the world's kernel (see the module docstring)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.kernel = world.kernel
        #: How deeply waits are nested (a callback blocking inside a wait).
        self.depth = 0

    @property
    def now(self) -> int:
        return self.kernel.now

    def wait_until(self, condition: Condition, timeout_ns: int | None) -> bool:
        if condition():
            return True
        kernel = self.kernel
        env = kernel.env
        deadline = None if timeout_ns is None else kernel.now + max(0, int(timeout_ns))
        marker = None
        if deadline is not None:
            # A no-op event at the deadline: time stops exactly there if nothing else runs.
            marker = kernel.call_at(deadline, _nothing)
        self.depth += 1
        try:
            while not condition():
                if deadline is not None and kernel.now >= deadline and env.peek() > deadline:
                    return False
                if env.peek() == math.inf:
                    raise DeviceTimeoutError(
                        "the simulation has nothing left to do: the awaited event can never happen"
                    )
                try:
                    env.step()
                except StopSimulation:
                    raise DeviceUsageError(
                        "a blocking device call cannot wait past the end of an enclosing world.run(); "
                        "call it from test code (it runs the world itself) or use call_soon"
                    ) from None
            return True
        finally:
            self.depth -= 1
            if marker is not None:
                marker.cancel()

    def sleep_ns(self, ns: int) -> None:
        self.wait_until(_never, max(0, int(ns)))

    def notify(self) -> None:
        """Nothing to do: conditions are re-checked after every kernel event."""

    def call_soon(self, fn: Callable[..., object], *args: Any) -> None:
        self.kernel.call_at(self.kernel.now, lambda: _call(fn, args))


class FirmwareWaiter:
    """Blocks the calling firmware thread of ``runtime`` (see the module docstring)."""

    def __init__(self, runtime: NodeRuntime) -> None:
        self.runtime = runtime
        self._events: list[Event] = []

    @property
    def now(self) -> int:
        return self.runtime.now

    def wait_until(self, condition: Condition, timeout_ns: int | None) -> bool:
        runtime = self.runtime
        deadline = None if timeout_ns is None else runtime.now + max(0, int(timeout_ns))
        while not condition():
            remaining = None if deadline is None else deadline - runtime.now
            if remaining is not None and remaining <= 0:
                return False
            event = runtime.event()
            self._events.append(event)
            try:
                event.wait(remaining)
            except NotInFirmwareThread:
                raise DeviceUsageError(
                    f"node {runtime.name}: a blocking device call needs a firmware thread "
                    "(not an on_read hook or plain code)"
                ) from None
            finally:
                if event in self._events:
                    self._events.remove(event)
        return True

    def sleep_ns(self, ns: int) -> None:
        try:
            self.runtime.sleep_ns(max(0, int(ns)))
        except NotInFirmwareThread:
            raise DeviceUsageError(f"node {self.runtime.name}: sleeping needs a firmware thread") from None

    def notify(self) -> None:
        events, self._events = self._events, []
        for event in events:
            event.set()

    def call_soon(self, fn: Callable[..., object], *args: Any) -> None:
        self.runtime.run_callback(fn, *args, defer=True)


def _nothing() -> None:
    return None


def _never() -> bool:
    return False


def _call(fn: Callable[..., object], args: tuple[Any, ...]) -> None:
    fn(*args)
