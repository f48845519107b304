"""MicroPython's small built-in modules: ``micropython``, ``sys``, ``_thread``, ``gc``, and
the ``u``-prefixed aliases of the standard ones.

Theory of operation
-------------------
* ``micropython``: ``const`` (identity), ``schedule(fn, arg)`` (runs ``fn(arg)`` soon, in
  its own firmware thread at the same simulated instant; at most 8 pending, then
  ``RuntimeError('schedule queue full')``), ``alloc_emergency_exception_buf``,
  ``opt_level``, ``mem_info``/``qstr_info`` (fixed text), ``stack_use``,
  ``heap_lock``/``heap_unlock``, ``kbd_intr`` and the code-emitter decorators
  (``native``, ``viper``, ``bytecode``) as harmless stand-ins.
* ``sys``/``usys``: MicroPython's ``sys`` (``implementation.name == 'micropython'``,
  ``print_exception`` in the board's format, ``stdout``/``stderr`` on the node's output,
  the node's own ``modules`` table and ``path``).
* ``_thread``: threads and locks of the firmware runtime (``start_new_thread``,
  ``allocate_lock`` with ``acquire(waitflag, timeout)`` in seconds, ``get_ident``).
* ``gc``: ``collect``, ``mem_free``/``mem_alloc`` (fixed numbers), ``enable``/``disable``.
* Aliases: ``ustruct``, ``ubinascii``, ``ujson``, ``ucollections``, ``uerrno``, ``uio``,
  ``uhashlib``, ``ure``, ``uheapq``, ``uarray``, ``uzlib`` are CPython's modules of the
  same name (stateless, shared); ``ubluetooth``/``utime``/``umachine``/``usys`` are
  the node's own module of the plain name (one object per boot).
"""

from __future__ import annotations

import importlib
import io
import sys as _sys
import types
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

from emu.runtime import NodeConsole

from .asyncio_trace import format_exception

if TYPE_CHECKING:
    from emu.runtime import NodeRuntime
    from emu.runtime.importer import ModuleSource

__all__ = [
    "STDLIB_ALIASES",
    "alias",
    "make_gc_module",
    "make_micropython_module",
    "make_sys_module",
    "make_thread_module",
]

#: ``micropython.schedule``'s queue depth (MICROPY_SCHEDULER_DEPTH).
SCHEDULE_DEPTH = 8
#: MicroPython's version as this personality reports it.
VERSION = (1, 23, 0)
HEAP_SIZE = 2_072_832

#: ``u``-module -> CPython module (imported when the table is built).
STDLIB_ALIASES = {
    "ustruct": "struct",
    "ubinascii": "binascii",
    "ujson": "json",
    "ucollections": "collections",
    "uerrno": "errno",
    "uio": "io",
    "uhashlib": "hashlib",
    "ure": "re",
    "uheapq": "heapq",
    "uarray": "array",
    "uzlib": "zlib",
}


def alias(name: str) -> Callable[[NodeRuntime], ModuleType]:
    """A module-table factory giving the node's module ``name`` (same object)."""

    def factory(runtime: NodeRuntime) -> ModuleType:
        importer = runtime.importer
        if importer is None:
            raise RuntimeError(f"node {runtime.name}: not booted")
        return importer.import_module(name)

    return factory


def stdlib_aliases() -> dict[str, ModuleSource]:
    return {short: importlib.import_module(full) for short, full in STDLIB_ALIASES.items()}


def make_micropython_module(runtime: NodeRuntime) -> ModuleType:
    """The node's ``micropython`` module for this boot."""
    mod = ModuleType("micropython", "MicroPython's micropython module (blesim)")
    pending = [0]
    level = [0]

    def schedule(function: Any, arg: Any) -> None:
        if not callable(function):
            raise TypeError("function expected")
        if pending[0] >= SCHEDULE_DEPTH:
            raise RuntimeError("schedule queue full")
        pending[0] += 1

        def run() -> None:
            pending[0] -= 1
            function(arg)

        if runtime.run_callback(run, name="schedule", defer=True) is None:
            pending[0] -= 1

    def opt_level(value: Any = None) -> int | None:
        if value is None:
            return level[0]
        level[0] = int(value)
        return None

    def mem_info(verbose: Any = None) -> None:
        runtime.output(
            "stack: 0 out of 80000\n"
            f"GC: total: {HEAP_SIZE}, used: 0, free: {HEAP_SIZE}\n"
            " No. of 1-blocks: 0, 2-blocks: 0, max blk sz: 0, max free sz: 129552\n"
        )

    def qstr_info(verbose: Any = None) -> None:
        runtime.output("qstr pool: n_pool=0, n_qstr=0, n_str_data_bytes=0, n_total_bytes=0\n")

    def identity(f: Any) -> Any:
        return f

    values: dict[str, Any] = {
        "const": lambda value: value,
        "schedule": schedule,
        "alloc_emergency_exception_buf": lambda size: None,
        "opt_level": opt_level,
        "mem_info": mem_info,
        "qstr_info": qstr_info,
        "stack_use": lambda: 0,
        "heap_lock": lambda: 0,
        "heap_unlock": lambda: 0,
        "heap_locked": lambda: 0,
        "kbd_intr": lambda chr: None,
        "native": identity,
        "viper": identity,
        "bytecode": identity,
        "asm_thumb": identity,
    }
    for key, value in values.items():
        setattr(mod, key, value)
    return mod


def make_sys_module(runtime: NodeRuntime) -> ModuleType:
    """The node's ``sys`` module for this boot (MicroPython's ``sys``)."""
    mod = ModuleType("sys", "MicroPython's sys module (blesim)")
    console = NodeConsole(runtime.output)
    importer = runtime.importer

    def print_exception(exc: BaseException, file: Any = None) -> None:
        text = format_exception(exc)
        if file is None or file is console or file is _sys.stdout or file is _sys.stderr:
            runtime.output(text)
        else:
            file.write(text)

    def exit(code: Any = 0) -> None:  # noqa: A001 - sys.exit
        raise SystemExit(code)

    implementation = types.SimpleNamespace(name="micropython", version=(*VERSION, ""), _machine="blesim with NimBLE", _mpy=0)
    values: dict[str, Any] = {
        "argv": [],
        "byteorder": "little",
        "exit": exit,
        "implementation": implementation,
        "maxsize": (1 << 31) - 1,
        "modules": importer.modules if importer is not None else {},
        "path": ["", ".frozen", "/lib"],
        "platform": "linux",
        "print_exception": print_exception,
        "stdin": io.StringIO(""),
        "stdout": console,
        "stderr": console,
        "version": "3.4.0; MicroPython v{}.{}.{} on blesim".format(*VERSION),
        "version_info": (3, 4, 0),
        "exc_info": _sys.exc_info,
        "atexit": lambda func: None,
    }
    for key, value in values.items():
        setattr(mod, key, value)
    return mod


def make_thread_module(runtime: NodeRuntime) -> ModuleType:
    """The node's ``_thread`` module: threads and locks of the firmware runtime."""
    mod = ModuleType("_thread", "MicroPython's _thread on the firmware runtime (blesim)")

    class LockType:
        def __init__(self) -> None:
            self._lock = runtime.lock()

        def acquire(self, waitflag: Any = 1, timeout: Any = -1) -> bool:
            if not waitflag:
                return self._lock.acquire(False)
            timeout_ns = None if timeout is None or timeout < 0 else round(float(timeout) * 1_000_000_000)
            return self._lock.acquire(True, timeout_ns)

        def release(self) -> None:
            self._lock.release()

        def locked(self) -> bool:
            return self._lock.locked()

        def __enter__(self) -> bool:
            return self.acquire()

        def __exit__(self, *exc: object) -> None:
            self.release()

    def start_new_thread(function: Any, args: Any, kwargs: Any = None) -> int:
        if not isinstance(args, tuple):
            raise TypeError("expecting a tuple")
        return runtime.start_thread(function, args, kwargs or {})

    def exit() -> None:  # noqa: A001
        raise SystemExit

    values: dict[str, Any] = {
        "LockType": LockType,
        "allocate_lock": LockType,
        "start_new_thread": start_new_thread,
        "get_ident": runtime.get_ident,
        "exit": exit,
        "stack_size": lambda size=None: 0 if size is None else None,
        "error": RuntimeError,
    }
    for key, value in values.items():
        setattr(mod, key, value)
    return mod


def make_gc_module(runtime: NodeRuntime) -> ModuleType:
    """``gc``: collection is a no-op; memory figures are fixed (determinism)."""
    mod = ModuleType("gc", "MicroPython's gc stand-in (blesim)")
    enabled = [True]
    values: dict[str, Any] = {
        "collect": lambda: 0,
        "enable": lambda: enabled.__setitem__(0, True),
        "disable": lambda: enabled.__setitem__(0, False),
        "isenabled": lambda: enabled[0],
        "mem_free": lambda: HEAP_SIZE,
        "mem_alloc": lambda: 0,
        "threshold": lambda amount=None: -1 if amount is None else None,
    }
    for key, value in values.items():
        setattr(mod, key, value)
    return mod
