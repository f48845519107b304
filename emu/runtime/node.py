"""One node's firmware runtime: threads, time, randomness, output, failures, reboot.

Theory of operation
-------------------
A :class:`NodeRuntime` is what a personality's stand-in modules (``time``, ``_thread``,
``queue``, ``asyncio``, ``bluetooth`` ...) are built on. It owns:

* the node's firmware threads (run by the shared :class:`FirmwareScheduler`): the main
  script (:meth:`boot`), callbacks/IRQs (:meth:`run_callback`), and threads the firmware
  starts (:meth:`start_thread`);
* the blocking primitives, all in simulated time (:meth:`sleep_ns`, :meth:`event`,
  :meth:`lock`, :meth:`queue` ...);
* the node's module namespace (a fresh :class:`NodeImporter` per boot) and its state
  folder (:class:`StateFolder`), which survives :meth:`reboot`;
* a per-node :class:`random.Random` from the seed tree stream ``node/<name>/firmware``;
* the output sink: what the firmware prints, as complete lines with the simulated instant
  they were completed (:attr:`output_lines`) and as raw text (:attr:`output_text`);
* failure handling: an exception escaping a firmware thread (or the watchdog's
  ``FirmwareHung``) is recorded in :attr:`failures` (and the scheduler's), reported
  through the ``on_error`` hook with the node name, the simulated time and a traceback
  trimmed to the firmware's frames, and the node's firmware stops. Other nodes go on.
"""

from __future__ import annotations

import enum
import sys
import traceback
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from emu.kernel import Kernel, SeedTree
from emu.runtime.statefs import StateFolder
from emu.runtime.sync import Condition, Event, Lock, Queue, RLock, Semaphore
from emu.runtime.threads import (
    FirmwareScheduler,
    FirmwareThread,
    GreenletExit,
    NotInFirmwareThread,
    format_sim_time,
)
from emu.runtime.watchdog import FirmwareHung, is_runtime_code

if TYPE_CHECKING:
    from emu.runtime.importer import ModuleSource, NodeImporter

__all__ = [
    "ErrorHook",
    "FirmwareFailure",
    "FirmwareStatus",
    "NodeRuntime",
    "OutputHook",
    "default_error_hook",
    "firmware_traceback",
]

#: ``on_error(node_name, t_ns, exc, formatted_traceback)``
ErrorHook = Callable[[str, int, BaseException, str], None]
#: ``on_output(node_name, t_ns, line)`` for each complete printed line.
OutputHook = Callable[[str, int, str], None]


def default_error_hook(node: str, t_ns: int, exc: BaseException, formatted: str) -> None:
    """Print the report to stderr, each line as ``[  12.345678] node: ...``."""
    prefix = f"{format_sim_time(t_ns)} {node}: "
    sys.stderr.write("".join(prefix + line + "\n" for line in formatted.rstrip("\n").split("\n")))


def firmware_traceback(exc: BaseException) -> str:
    """The formatted traceback of ``exc`` without the runtime's own frames.

    Like CPython hiding its import machinery, the frames of :mod:`emu.runtime` (thread
    bodies, the importer, primitives, the watchdog) are left out, so the report shows the
    firmware's lines (and personality code). With no firmware frame at all, nothing is
    left out.
    """
    entries: list[TracebackType] = []
    tb = exc.__traceback__
    while tb is not None:
        entries.append(tb)
        tb = tb.tb_next
    kept = [e for e in entries if not is_runtime_code(e.tb_frame.f_code.co_filename)]
    te = traceback.TracebackException(type(exc), exc, exc.__traceback__)
    if kept:
        te.stack = traceback.StackSummary.extract((e.tb_frame, e.tb_lineno) for e in kept)
    return "".join(te.format())


class FirmwareStatus(enum.Enum):
    IDLE = "idle"  # never booted
    RUNNING = "running"
    STOPPED = "stopped"  # stop() was called
    FAILED = "failed"  # an exception or the watchdog stopped it


@dataclass(frozen=True)
class FirmwareFailure:
    """One firmware failure: where, when, what."""

    node: str
    t_ns: int
    thread: str
    #: ``"exception"`` or ``"watchdog"``
    kind: str
    #: the last line of the report (``"ZeroDivisionError: division by zero"``)
    message: str
    traceback: str
    exc: BaseException = field(compare=False, repr=False)


class NodeRuntime:
    """The firmware side of one node.

    ``modules`` maps module names to stand-in modules or to factories called with this
    runtime once per boot; ``lib_paths`` are extra import folders (or single ``.py``
    files) after the firmware's own folder; ``per_node_packages`` names packages
    installed in site-packages that must be loaded per node (``adafruit_ble``).
    ``extra_builtins`` overrides builtins inside the firmware.
    """

    def __init__(
        self,
        name: str,
        kernel: Kernel,
        scheduler: FirmwareScheduler,
        seeds: SeedTree,
        state_dir: Path | str,
        *,
        firmware: Path | str | None = None,
        modules: Mapping[str, ModuleSource] | None = None,
        lib_paths: Sequence[Path | str] = (),
        per_node_packages: Collection[str] = (),
        extra_builtins: Mapping[str, object] | None = None,
        on_output: OutputHook | None = None,
        on_error: ErrorHook | None = None,
    ) -> None:
        self.name = name
        self.kernel = kernel
        self.scheduler = scheduler
        self.random = seeds.stream(f"node/{name}/firmware")
        #: The node's own stream for what its BLE stack draws (private addresses...), so
        #: that the stack's draws never shift what the firmware's ``random`` returns.
        self.stack_random = seeds.stream(f"node/{name}/stack")
        self.state = StateFolder(state_dir)
        self.firmware = Path(firmware).resolve() if firmware is not None else None
        self.modules: dict[str, ModuleSource] = dict(modules or {})
        self.lib_paths = [Path(p).resolve() for p in lib_paths]
        self.per_node_packages = frozenset(per_node_packages)
        self.extra_builtins: dict[str, object] = dict(extra_builtins or {})
        self.on_output = on_output
        self.on_error: ErrorHook = on_error or default_error_hook
        self.status = FirmwareStatus.IDLE
        self.generation = 0
        self.importer: NodeImporter | None = None
        self.output_lines: list[tuple[int, str]] = []
        self.failures: list[FirmwareFailure] = []
        self._text: list[str] = []
        self._partial = ""
        self._threads: dict[int, FirmwareThread] = {}
        self._ident = 0
        self._stop_hooks: list[Callable[[], None]] = []
        scheduler.nodes.append(self)

    # -- time ------------------------------------------------------------------------------

    @property
    def now(self) -> int:
        """Simulated time, integer nanoseconds."""
        return self.kernel.now

    def sleep_ns(self, ns: int) -> None:
        """Park the calling firmware thread for exactly ``ns`` ns of simulated time."""
        self.scheduler.sleep_ns(int(ns))

    def sleep_until(self, t_ns: int) -> None:
        self.scheduler.sleep_until(t_ns)

    def yield_now(self) -> None:
        self.scheduler.yield_now()

    # -- primitives (all timeouts in ns; None = forever) ---------------------------------

    def event(self) -> Event:
        return Event(self.scheduler)

    def lock(self) -> Lock:
        return Lock(self.scheduler)

    def rlock(self) -> RLock:
        return RLock(self.scheduler)

    def semaphore(self, value: int = 1, bound: int | None = None) -> Semaphore:
        return Semaphore(self.scheduler, value, bound)

    def condition(self, lock: Lock | RLock | None = None) -> Condition:
        return Condition(self.scheduler, lock)

    def queue(self, maxsize: int = 0) -> Queue[Any]:
        return Queue(self.scheduler, maxsize)

    # -- threads ---------------------------------------------------------------------------

    @property
    def accepting(self) -> bool:
        """Whether new threads/callbacks may start (not stopped, not failed)."""
        return self.status in (FirmwareStatus.IDLE, FirmwareStatus.RUNNING)

    def start_thread(
        self,
        fn: Callable[..., object],
        args: Sequence[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
        *,
        name: str | None = None,
    ) -> int:
        """Start a firmware thread (``_thread.start_new_thread``); returns its ident."""
        if not self.accepting:
            raise RuntimeError(f"node {self.name}: firmware is {self.status.value}")
        self.status = FirmwareStatus.RUNNING
        thread = self.scheduler.spawn(
            self, fn, *args, name=name or _name_of(fn), kwargs=dict(kwargs or {})
        )
        return thread.ident

    def run_callback(
        self, fn: Callable[..., object], *args: Any, name: str | None = None, defer: bool = False
    ) -> FirmwareThread | None:
        """Run ``fn(*args)`` as an IRQ/callback in its own thread at the current instant.

        From plain code (a kernel callback) it runs at once until it blocks, unless
        ``defer``: then it runs from a kernel callback scheduled at the same instant, after
        the caller (say, the host in the middle of an HCI event) has returned. From a
        firmware thread it runs after the caller blocks. Dropped (None) when the node's
        firmware is stopped or failed.
        """
        if not self.accepting:
            return None
        self.status = FirmwareStatus.RUNNING
        return self.scheduler.spawn(self, fn, *args, name=name or f"callback:{_name_of(fn)}", defer=defer)

    def current_thread(self) -> FirmwareThread:
        thread = self.scheduler.current
        if thread is None or thread.node is not self:
            raise NotInFirmwareThread(f"not in a firmware thread of node {self.name}")
        return thread

    def get_ident(self) -> int:
        return self.current_thread().ident

    @property
    def threads(self) -> list[FirmwareThread]:
        """Live threads, oldest first."""
        return list(self._threads.values())

    def thread_alive(self, ident: int) -> bool:
        return ident in self._threads

    def kill_thread(self, ident: int) -> bool:
        """Kill one thread; killing the calling thread raises ``GreenletExit`` at once."""
        thread = self._threads.get(ident)
        if thread is None:
            return False
        self.scheduler.kill(thread)
        if thread is self.scheduler.current:
            raise GreenletExit()
        return True

    # -- lifecycle -------------------------------------------------------------------------

    def on_stop(self, hook: Callable[[], None]) -> None:
        """Call ``hook()`` when the firmware stops (stop, reboot, failure); then forget it."""
        self._stop_hooks.append(hook)

    def boot(self) -> None:
        """Run the firmware file from the top as the ``main`` thread, with fresh modules.

        From plain code (a kernel callback) the main thread runs at once until it blocks.
        """
        from emu.runtime.importer import NodeImporter

        if self.firmware is None:
            raise RuntimeError(f"node {self.name}: no firmware file")
        if any(not t.killed for t in self._threads.values()):
            raise RuntimeError(f"node {self.name}: firmware is already running")
        self.generation += 1
        paths = [self.firmware.parent, *self.lib_paths]
        self.importer = NodeImporter(
            self,
            self.modules,
            paths,
            per_node_packages=self.per_node_packages,
            extra_builtins=self.extra_builtins,
        )
        self.status = FirmwareStatus.RUNNING
        self.scheduler.spawn(self, self._main, self.importer, self.firmware, name="main")

    def _main(self, importer: NodeImporter, path: Path) -> None:
        importer.run_main(path)

    def stop(self) -> None:
        """Stop the firmware: every thread of this node gets ``GreenletExit``."""
        self._halt(FirmwareStatus.STOPPED)
        self._exit_if_own_thread()

    def reboot(self) -> None:
        """Stop, then boot again: fresh modules, same state folder.

        Called by the node's own firmware (``machine.reset()``), the calling thread ends
        and the new main thread runs when it has (at the same instant).
        """
        self._halt(FirmwareStatus.STOPPED)
        self.status = FirmwareStatus.IDLE
        self.boot()
        self._exit_if_own_thread()

    def _exit_if_own_thread(self) -> None:
        thread = self.scheduler.current
        if thread is not None and thread.node is self and thread.killed:
            raise GreenletExit()

    def _halt(self, status: FirmwareStatus) -> None:
        if self.status in (FirmwareStatus.RUNNING, FirmwareStatus.IDLE):
            self.status = status
        for thread in list(self._threads.values()):
            self.scheduler.kill(thread)
        hooks, self._stop_hooks = self._stop_hooks, []
        for hook in hooks:
            hook()
        if self.importer is not None:
            self.importer.close()
        if self._partial:
            self._emit(self._partial)
            self._partial = ""

    # -- output ----------------------------------------------------------------------------

    def output(self, text: str) -> None:
        """Firmware console output (``print``): complete lines get the current instant."""
        if not text:
            return
        self._text.append(text)
        pieces = (self._partial + text).split("\n")
        self._partial = pieces.pop()
        for line in pieces:
            self._emit(line)

    def _emit(self, line: str) -> None:
        t_ns = self.kernel.now
        self.output_lines.append((t_ns, line))
        if self.on_output is not None:
            self.on_output(self.name, t_ns, line)

    @property
    def output_text(self) -> str:
        """Everything the firmware printed, exactly (``--logs``)."""
        return "".join(self._text)

    # -- scheduler callbacks ---------------------------------------------------------------

    def _next_ident(self) -> int:
        self._ident += 1
        return self._ident

    def _thread_started(self, thread: FirmwareThread) -> None:
        self._threads[thread.ident] = thread

    def _thread_ended(self, thread: FirmwareThread) -> None:
        self._threads.pop(thread.ident, None)

    def _thread_failed(self, thread: FirmwareThread, exc: BaseException) -> None:
        t_ns = self.kernel.now
        formatted = firmware_traceback(exc)
        kind = "watchdog" if isinstance(exc, FirmwareHung) else "exception"
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        message = str(exc) if kind == "watchdog" else last
        failure = FirmwareFailure(self.name, t_ns, thread.name, kind, message, formatted, exc)
        self.failures.append(failure)
        self.scheduler.failures.append(failure)
        try:
            self.on_error(self.name, t_ns, exc, formatted)
        except Exception:  # noqa: BLE001 - a broken hook must not hide the failure
            default_error_hook(self.name, t_ns, exc, formatted)
        if not thread.killed and self.status is FirmwareStatus.RUNNING:
            self._halt(FirmwareStatus.FAILED)


def _name_of(fn: Callable[..., object]) -> str:
    return str(getattr(fn, "__name__", None) or type(fn).__name__)
