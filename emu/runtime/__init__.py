"""The firmware runtime: unmodified board firmware running on simulated nodes.

Theory of operation
-------------------
A node's firmware is a Python file run as if on a board, inside the one simulation
process, on simulated time:

* **Threads** (:mod:`.threads`). The main script, every callback/IRQ invocation and every
  thread the firmware starts is a greenlet run by the :class:`FirmwareScheduler` from
  kernel callbacks. A thread runs until it blocks; blocking parks it and arranges a
  wake-up (a kernel timer, or a waiter in a primitive), so nothing ever waits on the wall
  clock and switching happens in one deterministic order (FIFO per instant).
* **Primitives** (:mod:`.sync`): Event, Lock, RLock, Semaphore, Condition and Queue, with
  timeouts in integer nanoseconds. Personalities build their ``time``, ``_thread``,
  ``queue`` and ``asyncio`` stand-ins from these and from ``NodeRuntime.sleep_ns``.
* **Namespaces** (:mod:`.importer`). Each node executes its firmware with its own
  builtins, whose ``__import__`` serves personality modules and hardware stand-ins,
  loads helper modules and libraries once per node, and leaves the standard library to
  the normal import system. ``sys.modules`` is never used for per-node modules.
* **State** (:mod:`.statefs`, :mod:`.standins`). ``open`` and ``os`` work in the node's
  state folder, which survives a reboot; ``random`` is the node's seeded stream.
* **Failures** (:mod:`.node`, :mod:`.watchdog`). An exception in a firmware thread is
  reported with node name, simulated time and a traceback into the firmware file; that
  node's firmware stops and the world goes on. A thread that does not yield within the
  watchdog's wall-time budget is stopped with ``FirmwareHung``.

Typical use by a driver::

    scheduler = FirmwareScheduler(kernel, watchdog_s=5.0)
    rt = NodeRuntime("server", kernel, scheduler, kernel.seeds, state_dir,
                     firmware=path, modules={"time": make_time, ...}, lib_paths=[...])
    kernel.call_at(boot_time_ns, rt.boot)
    kernel.run(until_ns)
    scheduler.close()
"""

from emu.runtime.importer import ModuleSource, NodeImporter, compile_file
from emu.runtime.node import (
    ErrorHook,
    FirmwareFailure,
    FirmwareStatus,
    NodeRuntime,
    OutputHook,
    default_error_hook,
    firmware_traceback,
)
from emu.runtime.standins import NodeConsole, NodeFS, make_os_module, make_random_module
from emu.runtime.statefs import (
    JsonStore,
    StateFolder,
    atomic_write_bytes,
    atomic_write_text,
)
from emu.runtime.sync import (
    Condition,
    Event,
    Lock,
    Queue,
    QueueEmpty,
    QueueFull,
    RLock,
    Semaphore,
)
from emu.runtime.threads import (
    FirmwareScheduler,
    FirmwareThread,
    GreenletExit,
    NotInFirmwareThread,
    ThreadState,
    Waiter,
    format_seconds,
    format_sim_time,
)
from emu.runtime.watchdog import DEFAULT_BUDGET_S, FirmwareHung, Watchdog

__all__ = [
    "DEFAULT_BUDGET_S",
    "Condition",
    "ErrorHook",
    "Event",
    "FirmwareFailure",
    "FirmwareHung",
    "FirmwareScheduler",
    "FirmwareStatus",
    "FirmwareThread",
    "GreenletExit",
    "JsonStore",
    "Lock",
    "ModuleSource",
    "NodeConsole",
    "NodeFS",
    "NodeImporter",
    "NodeRuntime",
    "NotInFirmwareThread",
    "OutputHook",
    "Queue",
    "QueueEmpty",
    "QueueFull",
    "RLock",
    "Semaphore",
    "StateFolder",
    "ThreadState",
    "Waiter",
    "Watchdog",
    "atomic_write_bytes",
    "atomic_write_text",
    "compile_file",
    "default_error_hook",
    "firmware_traceback",
    "format_seconds",
    "format_sim_time",
    "make_os_module",
    "make_random_module",
]
