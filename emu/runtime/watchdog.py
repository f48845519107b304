"""The watchdog: stops firmware that runs too long without yielding.

Choice of mechanism
-------------------
Counting executed lines or bytecodes (``sys.settrace``) would slow every firmware line by
an order of magnitude and is not portable between Python versions, so the watchdog looks
at the wall clock instead, and only from a periodic signal:

* While the scheduler runs firmware (one *dispatch*), a process CPU-time interval timer
  (``setitimer(ITIMER_VIRTUAL)``, signal ``SIGVTALRM``) ticks every ``tick_s``. Each time
  the scheduler switches into a firmware thread it notes ``time.perf_counter()``; that is
  the start of a *slice*, which ends when the thread blocks or ends.
* The Python-level handler runs in the main thread between two bytecodes of whatever
  greenlet is running. It therefore checks, without any race, that a slice is in progress
  in that very greenlet and began more than ``budget_s`` of wall time ago, and if so
  raises :class:`FirmwareHung` right in the spinning frame.
* ``FirmwareHung`` derives from ``BaseException`` so ``except Exception`` in firmware does
  not swallow it. If the firmware swallows it anyway (a bare ``except:`` inside the loop),
  the watchdog escalates: from then on, and only for that greenlet, a trace function
  raises it again on every line of non-runtime code until the thread has ended.

A CPU-time timer rather than ``SIGALRM`` leaves ``SIGALRM`` to the test runner's own
timeouts, and it only ticks while the process computes, which is what spinning firmware
does; a firmware blocked in a real system call is not spinning and is not caught.

Limits: Python delivers signals to the main thread only and ``setitimer`` is POSIX, so
when the simulation runs in another thread (or on Windows) :attr:`Watchdog.available` is
False and spinning firmware hangs the run.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

import greenlet  # type: ignore[import-untyped]

__all__ = ["DEFAULT_BUDGET_S", "FirmwareHung", "Watchdog", "is_runtime_code"]

#: Default wall-time budget of one firmware slice, seconds.
DEFAULT_BUDGET_S = 5.0

_RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def is_runtime_code(filename: str) -> bool:
    """True for code of this package (hidden from firmware tracebacks, never traced)."""
    return filename.startswith(_RUNTIME_DIR)


class FirmwareHung(BaseException):
    """Raised inside a firmware thread that ran past the watchdog budget without yielding."""


TraceFn = Callable[[FrameType, str, Any], Any]

_ACTIVE: list[Watchdog] = []
_previous_handler: Any = None
_installed = False


def _on_tick(signum: int, frame: FrameType | None) -> None:
    if _ACTIVE:
        _ACTIVE[-1]._tick(frame)
    elif callable(_previous_handler):
        _previous_handler(signum, frame)


def _install() -> None:
    global _installed, _previous_handler
    if not _installed:
        _previous_handler = signal.signal(signal.SIGVTALRM, _on_tick)
        _installed = True


class Watchdog:
    """Per-scheduler watchdog; ``budget_s=None`` disables it."""

    def __init__(self, budget_s: float | None = DEFAULT_BUDGET_S, *, tick_s: float | None = None) -> None:
        if budget_s is not None and budget_s <= 0:
            raise ValueError("watchdog budget must be positive")
        self.budget_s = budget_s
        if tick_s is None:
            tick_s = 0.05 if budget_s is None else max(0.001, min(budget_s / 4, 0.05))
        self.tick_s = tick_s
        self._armed = False
        self._glet: Any = None
        self._start = 0.0
        self._node = ""
        self._t_ns = 0
        self._fired = False
        self._hung: Any = None
        self._message = ""
        self._saved_trace: Any = None

    @property
    def available(self) -> bool:
        """Whether this watchdog can work here (enabled, POSIX, main thread)."""
        return (
            self.budget_s is not None
            and hasattr(signal, "setitimer")
            and threading.current_thread() is threading.main_thread()
        )

    # -- called by the scheduler -------------------------------------------------------

    def arm(self) -> None:
        """Start ticking (at the start of a dispatch)."""
        if self._armed or not self.available:
            return
        _install()
        _ACTIVE.append(self)
        self._armed = True
        signal.setitimer(signal.ITIMER_VIRTUAL, self.tick_s, self.tick_s)

    def disarm(self) -> None:
        """Stop ticking (at the end of a dispatch)."""
        if not self._armed:
            return
        self._armed = False
        self._glet = None
        if self in _ACTIVE:
            _ACTIVE.remove(self)
        if _ACTIVE:
            tick = _ACTIVE[-1].tick_s
            signal.setitimer(signal.ITIMER_VIRTUAL, tick, tick)
        else:
            signal.setitimer(signal.ITIMER_VIRTUAL, 0.0, 0.0)

    def enter(self, glet: Any, node: str, t_ns: int) -> tuple[Any, float, str, int, bool]:
        """A slice of ``glet`` starts now; returns the previous slice for :meth:`restore`."""
        previous = (self._glet, self._start, self._node, self._t_ns, self._fired)
        self._glet = glet
        self._start = time.perf_counter()
        self._node = node
        self._t_ns = t_ns
        self._fired = False
        return previous

    def restore(self, previous: tuple[Any, float, str, int, bool]) -> None:
        self._glet, self._start, self._node, self._t_ns, self._fired = previous

    def leave(self) -> None:
        """The current slice ended (the thread blocked or ended)."""
        self._glet = None

    def finished(self, glet: Any) -> None:
        """``glet`` ended: drop the escalation trace if it was installed for it."""
        if self._hung is not None and self._hung is glet:
            self._hung = None
            sys.settrace(self._saved_trace)
            self._saved_trace = None

    def message(self, node: str, t_ns: int) -> str:
        from emu.runtime.threads import format_seconds

        return (
            f"node {node}: firmware did not yield for {float(self.budget_s or 0.0)} s "
            f"of wall time at t={format_seconds(t_ns)} s (watchdog)"
        )

    # -- the tick ------------------------------------------------------------------------

    def _tick(self, frame: FrameType | None) -> None:
        glet = self._glet
        if glet is None or self._fired or self.budget_s is None:
            return
        if glet is not greenlet.getcurrent():
            return
        if time.perf_counter() - self._start < self.budget_s:
            return
        self._fired = True
        self._message = self.message(self._node, self._t_ns)
        self._escalate(glet, frame)
        raise FirmwareHung(self._message)

    def _escalate(self, glet: Any, frame: FrameType | None) -> None:
        """Raise again on every firmware line of ``glet`` until it ends."""
        if self._hung is not None:
            return
        message = self._message

        def local(frame: FrameType, event: str, arg: Any) -> Any:
            if event == "line" and self._hung is glet and greenlet.getcurrent() is glet:
                raise FirmwareHung(message)
            return local

        def global_(frame: FrameType, event: str, arg: Any) -> Any:
            if greenlet.getcurrent() is glet and not is_runtime_code(frame.f_code.co_filename):
                return local
            return None

        walk = frame
        while walk is not None:
            if not is_runtime_code(walk.f_code.co_filename):
                walk.f_trace = local
            walk = walk.f_back
        self._hung = glet
        self._saved_trace = sys.gettrace()
        sys.settrace(global_)
