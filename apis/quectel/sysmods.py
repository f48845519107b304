"""``utime``, ``_thread`` and ``queue`` of a Quectel node, on simulated time.

Theory of operation
-------------------
Each factory builds the module for one node and one boot from the node's
:class:`~emu.runtime.node.NodeRuntime` (threads, blocking primitives, simulated time):

* ``utime``: ``sleep``/``sleep_ms``/``sleep_us`` park the calling firmware thread;
  ``ticks_ms``/``ticks_us``/``ticks_cpu`` count simulated time and wrap at 2**30
  (``ticks_diff``/``ticks_add`` use the same period); the real-time clock reads
  :data:`RTC_START` (2024-01-01 00:00:00 UTC, as if set by the network) at simulated time
  0, ``time()`` is seconds since 1970, ``localtime``/``mktime`` apply the time zone of
  ``setTimeZone`` (hours, -12..12); ``localtime`` gives the 8-tuple
  ``(year, month, mday, hour, minute, second, weekday 0-6 Monday first, yearday)``.
* ``_thread``: ``start_new_thread(fn, args)`` starts a firmware thread and returns its id;
  locks (``acquire`` -> True/False, ``release`` of an unlocked lock is ``RuntimeError``),
  semaphores ``allocate_semphore(n)`` (n is the initial and maximum count, ``getCnt()`` ->
  ``(max, current)``), ``stop_thread(id)`` (0: the calling thread; never the main
  thread), ``stack_size`` counted in 4-byte words as the 2021 firmware does (default 8448,
  minimum 8192: smaller is refused with -1), ``exit()``.
* ``queue.Queue(maxsize=100)``: the module's pure-Python queue over ``_thread`` locks —
  ``put`` never blocks and returns False when full, where full means ``size() >
  maxsize`` (it holds maxsize + 1 items); ``get`` blocks until an item arrives.
"""

from __future__ import annotations

import calendar
import datetime
from types import ModuleType
from typing import Any, Callable

from emu.runtime.sync import Lock, Queue, Semaphore
from phy.units import MS, US

from .board import QuectelBoard

__all__ = ["RTC_START", "TICKS_PERIOD", "make_queue_module", "make_thread_module", "make_utime_module"]

#: ``ticks_*`` wrap at this period (``& 0x3FFFFFFF``).
TICKS_PERIOD = 1 << 30
_TICKS_MAX = TICKS_PERIOD - 1
_TICKS_HALF = TICKS_PERIOD // 2
#: The RTC at simulated time 0, in seconds since 1970-01-01 UTC (2024-01-01 00:00:00).
RTC_START = calendar.timegm((2024, 1, 1, 0, 0, 0))
_SECOND = 1_000_000_000


def _module(name: str, doc: str, values: dict[str, Any]) -> ModuleType:
    module = ModuleType(name, doc)
    for key, value in values.items():
        setattr(module, key, value)
    return module


def _number(value: object, name: str) -> float:
    if not isinstance(value, (int, float)):
        raise TypeError(f"{name}: can't convert {type(value).__name__} to float")
    return float(value)


# -- utime ------------------------------------------------------------------------------------


def make_utime_module(board: QuectelBoard) -> ModuleType:
    """``utime`` for ``board``'s node (the time zone is per boot)."""
    runtime = board.runtime
    zone: list[int] = [int(board.objects.get("timezone", 0))]

    def sleep(seconds: object) -> None:
        runtime.sleep_ns(max(0, round(_number(seconds, "seconds") * _SECOND)))

    def sleep_ms(ms: object) -> None:
        runtime.sleep_ns(max(0, int(_number(ms, "ms")) * MS))

    def sleep_us(us: object) -> None:
        runtime.sleep_ns(max(0, int(_number(us, "us")) * US))

    def ticks_ms() -> int:
        return (runtime.now // MS) & _TICKS_MAX

    def ticks_us() -> int:
        return (runtime.now // US) & _TICKS_MAX

    def ticks_diff(new: int, old: int) -> int:
        return ((int(new) - int(old) + _TICKS_HALF) & _TICKS_MAX) - _TICKS_HALF

    def ticks_add(ticks: int, delta: int) -> int:
        return (int(ticks) + int(delta)) & _TICKS_MAX

    def time() -> int:
        return RTC_START + runtime.now // _SECOND

    def localtime(secs: object = None) -> tuple[int, ...]:
        t = time() if secs is None else int(_number(secs, "secs"))
        d = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=t + zone[0] * 3600)
        return (d.year, d.month, d.day, d.hour, d.minute, d.second, d.weekday(), d.timetuple().tm_yday)

    def mktime(tm: object) -> int:
        if not isinstance(tm, (tuple, list)) or len(tm) not in (8, 9):
            raise TypeError("mktime needs a tuple of length 8 or 9")
        fields = [int(v) for v in tm[:6]]
        return calendar.timegm((fields[0], fields[1], fields[2], fields[3], fields[4], fields[5])) - zone[0] * 3600

    def getTimeZone() -> int:
        return zone[0]

    def setTimeZone(offset: object) -> int:
        if not isinstance(offset, int):
            raise TypeError("offset: int expected")
        if not -12 <= offset <= 12:
            raise ValueError(f"time zone {offset} is outside -12..12")
        zone[0] = offset
        board.objects["timezone"] = offset
        return 0

    values: dict[str, Any] = dict(
        sleep=sleep, sleep_ms=sleep_ms, sleep_us=sleep_us, ticks_ms=ticks_ms, ticks_us=ticks_us,
        ticks_cpu=ticks_us, ticks_diff=ticks_diff, ticks_add=ticks_add, time=time, localtime=localtime,
        mktime=mktime, getTimeZone=getTimeZone, setTimeZone=setTimeZone,
    )
    return _module("utime", "QuecPython utime on simulated time (blesim)", values)


# -- _thread ----------------------------------------------------------------------------------


class QLock:
    """A ``_thread`` lock (``allocate_lock``)."""

    def __init__(self, lock: Lock) -> None:
        self._lock = lock

    def acquire(self, waitflag: int = 1, timeout: float = -1) -> bool:
        if not waitflag:
            return self._lock.acquire(blocking=False)
        timeout_ns = None if timeout is None or timeout < 0 else round(timeout * _SECOND)
        return self._lock.acquire(True, timeout_ns)

    def release(self) -> None:
        if not self._lock.locked():
            raise RuntimeError("lock is not locked")
        self._lock.release()

    def locked(self) -> bool:
        return self._lock.locked()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


class QSemaphore:
    """A ``_thread`` semaphore (``allocate_semphore(n)``: n is the start and the maximum)."""

    def __init__(self, semaphore: Semaphore, maximum: int) -> None:
        self._sem = semaphore
        self._max = maximum

    def acquire(self, waitflag: int = 1, timeout: float = -1) -> bool:
        if not waitflag:
            return self._sem.acquire(blocking=False)
        timeout_ns = None if timeout is None or timeout < 0 else round(timeout * _SECOND)
        return self._sem.acquire(True, timeout_ns)

    def release(self) -> None:
        if self._sem.value < self._max:
            self._sem.release()

    def getCnt(self) -> tuple[int, int]:
        return (self._max, self._sem.value)


_STACK_DEFAULT_WORDS = 8448
_STACK_MIN_WORDS = 8192


def make_thread_module(board: QuectelBoard) -> ModuleType:
    """``_thread`` for ``board``'s node."""
    runtime = board.runtime
    stack = [_STACK_DEFAULT_WORDS]

    def start_new_thread(function: Callable[..., object], args: object, kwargs: object = None) -> int:
        if not isinstance(args, (tuple, list)):
            raise TypeError("start_new_thread expects a tuple of arguments")
        if kwargs is not None and not isinstance(kwargs, dict):
            raise TypeError("kwargs must be a dict")
        return runtime.start_thread(function, tuple(args), kwargs)

    def get_ident() -> int:
        return runtime.get_ident()

    def stack_size(size: object = None) -> int:
        if size is None:
            return stack[0]
        words = int(_number(size, "size"))
        if words < _STACK_MIN_WORDS:
            return -1
        stack[0] = words
        return 0

    def _main_ident() -> int | None:
        for thread in runtime.threads:
            if thread.name == "main":
                return thread.ident
        return None

    def stop_thread(thread_id: object) -> int:
        ident = int(_number(thread_id, "thread_id"))
        target = runtime.get_ident() if ident == 0 else ident
        if target == _main_ident() or not runtime.thread_alive(target):
            return -1
        runtime.kill_thread(target)
        return 0

    def threadIsRunning(thread_id: object) -> bool:
        return runtime.thread_alive(int(_number(thread_id, "thread_id")))

    def exit() -> None:
        raise SystemExit()

    values: dict[str, Any] = dict(
        start_new_thread=start_new_thread, get_ident=get_ident, stack_size=stack_size,
        stop_thread=stop_thread, threadIsRunning=threadIsRunning, exit=exit,
        allocate_lock=lambda: QLock(runtime.lock()), delete_lock=lambda lock: None,
        allocate_semphore=lambda n: QSemaphore(runtime.semaphore(int(n)), int(n)),
        delete_semphore=lambda sem: None, get_heap_size=lambda: 1 << 20,
        LockType=QLock,
    )
    return _module("_thread", "QuecPython _thread on firmware threads (blesim)", values)


# -- queue ------------------------------------------------------------------------------------


def make_queue_module(board: QuectelBoard) -> ModuleType:
    """``queue`` (``Queue``) for ``board``'s node."""
    runtime = board.runtime

    class Queue_:
        """``queue.Queue(maxsize=100)``: ``put`` never blocks, ``get`` does."""

        def __init__(self, maxsize: int = 100) -> None:
            self.maxsize = int(maxsize)
            self._items: Queue[Any] = runtime.queue(0)

        def put(self, item: Any = None) -> bool:
            if self._items.qsize() > self.maxsize:
                return False
            self._items.put_nowait(item)
            return True

        def get(self) -> Any:
            return self._items.get()

        def empty(self) -> bool:
            return self._items.empty()

        def size(self) -> int:
            return self._items.qsize()

        def clear(self) -> None:
            self._items.clear()

    Queue_.__name__ = Queue_.__qualname__ = "Queue"
    return _module("queue", "QuecPython queue (blesim)", {"Queue": Queue_})
