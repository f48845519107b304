"""MicroPython's ``time`` (``utime``) on simulated time.

Theory of operation
-------------------
Every value comes from the node's simulated clock (``NodeRuntime.now``, integer
nanoseconds); sleeping parks the calling firmware thread for exactly that long. Ticks
behave as on MicroPython's ports: ``ticks_ms``/``ticks_us``/``ticks_cpu`` wrap at
``2**30`` (``TICKS_PERIOD``) and must be compared with ``ticks_diff`` (a signed
difference in ``-2**29 .. 2**29-1``) and advanced with ``ticks_add``. Calendar time
counts from MicroPython's embedded epoch: simulated instant 0 is 2000-01-01 00:00:00, so
``time()`` is the number of whole simulated seconds and ``localtime``/``gmtime``/
``mktime`` use 8-tuples ``(year, month, mday, hour, minute, second, weekday,
yearday)`` with Monday = 0. Arguments are checked as MicroPython checks them
(``sleep_ms(1.5)`` is a ``TypeError``).
"""

from __future__ import annotations

import datetime as _dt
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emu.runtime import NodeRuntime

__all__ = [
    "EPOCH",
    "TICKS_MAX",
    "TICKS_PERIOD",
    "localtime",
    "make_time_module",
    "mktime",
    "ticks_add",
    "ticks_diff",
]

NS_PER_S = 1_000_000_000
NS_PER_MS = 1_000_000
NS_PER_US = 1_000
#: Ticks wrap at 2**30 (MICROPY_PY_TIME_TICKS_PERIOD).
TICKS_PERIOD = 1 << 30
TICKS_MAX = TICKS_PERIOD - 1
TICKS_HALFPERIOD = TICKS_PERIOD >> 1
#: Simulated instant 0.
EPOCH = _dt.datetime(2000, 1, 1)


def _int(value: Any) -> int:
    """``mp_obj_get_int``: ints (and bools) only."""
    if isinstance(value, int):
        return int(value)
    raise TypeError(f"can't convert {type(value).__name__} to int")


def ticks_diff(ticks1: Any, ticks2: Any) -> int:
    """The signed difference ``ticks1 - ticks2`` on the ticks circle."""
    diff = (_int(ticks1) - _int(ticks2)) & TICKS_MAX
    return ((diff + TICKS_HALFPERIOD) & TICKS_MAX) - TICKS_HALFPERIOD


def ticks_add(ticks: Any, delta: Any) -> int:
    """``ticks`` moved by ``delta`` (``OverflowError`` beyond half a period)."""
    d = _int(delta)
    if not -TICKS_HALFPERIOD <= d < TICKS_HALFPERIOD:
        raise OverflowError("ticks interval overflow")
    return (_int(ticks) + d) & TICKS_MAX


def localtime(secs: int) -> tuple[int, int, int, int, int, int, int, int]:
    """The 8-tuple of MicroPython's ``time.localtime`` for seconds since 2000."""
    t = EPOCH + _dt.timedelta(seconds=secs)
    return (t.year, t.month, t.day, t.hour, t.minute, t.second, t.weekday(), t.timetuple().tm_yday)


def mktime(items: Any) -> int:
    """Seconds since 2000 for a ``localtime`` tuple (out-of-range fields normalised)."""
    try:
        values = tuple(items)
    except TypeError:
        raise TypeError(f"object '{type(items).__name__}' isn't a tuple or list") from None
    if not 8 <= len(values) <= 9:
        raise TypeError("mktime needs a tuple of length 8 or 9")
    year, month, mday, hour, minute, second = (_int(v) for v in values[:6])
    year += (month - 1) // 12
    month = (month - 1) % 12 + 1
    base = _dt.datetime(year, month, 1)
    seconds = (base - EPOCH).total_seconds() + (mday - 1) * 86400 + hour * 3600 + minute * 60 + second
    return int(seconds)


def make_time_module(runtime: NodeRuntime, name: str = "time") -> ModuleType:
    """The node's ``time`` module for this boot."""
    mod = ModuleType(name, "MicroPython time on simulated time (blesim)")

    def sleep(seconds: Any) -> None:
        if not isinstance(seconds, (int, float)):
            raise TypeError(f"can't convert {type(seconds).__name__} to float")
        runtime.sleep_ns(max(0, round(seconds * NS_PER_S)))

    def sleep_ms(ms: Any) -> None:
        runtime.sleep_ns(max(0, _int(ms)) * NS_PER_MS)

    def sleep_us(us: Any) -> None:
        runtime.sleep_ns(max(0, _int(us)) * NS_PER_US)

    def ticks_ms() -> int:
        return (runtime.now // NS_PER_MS) & TICKS_MAX

    def ticks_us() -> int:
        return (runtime.now // NS_PER_US) & TICKS_MAX

    def now_s() -> int:
        return runtime.now // NS_PER_S

    def time_ns() -> int:
        return runtime.now

    def local(secs: Any = None) -> tuple[int, int, int, int, int, int, int, int]:
        return localtime(now_s() if secs is None else _int(secs))

    functions = {
        "sleep": sleep,
        "sleep_ms": sleep_ms,
        "sleep_us": sleep_us,
        "ticks_ms": ticks_ms,
        "ticks_us": ticks_us,
        "ticks_cpu": ticks_us,
        "ticks_diff": ticks_diff,
        "ticks_add": ticks_add,
        "time": now_s,
        "time_ns": time_ns,
        "localtime": local,
        "gmtime": local,
        "mktime": mktime,
    }
    for key, fn in functions.items():
        setattr(mod, key, fn)
    return mod
