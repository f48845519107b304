"""The modules a ``native`` firmware imports: ``blesim`` (the device API) and ``time``.

Theory of operation
-------------------
Both are built per node and per boot by the firmware runtime's importer (a factory
called with the node's :class:`~emu.runtime.NodeRuntime`). ``blesim.device`` is a
:class:`emu.device.Device` over the node's host driver with a
:class:`~emu.device_wait.FirmwareWaiter`; it is closed (it stops listening to the host)
when the firmware stops or reboots, and the next boot gets a fresh one over the same
host. ``time`` counts simulated time from the scenario epoch (instant 0); its sleeps
park the calling firmware thread. Nothing here reads the wall clock.
"""

from __future__ import annotations

import time as _time
from types import ModuleType
from typing import TYPE_CHECKING

from emu import device as _device
from emu.device_wait import FirmwareWaiter
from host.gatt_db import Permissions

if TYPE_CHECKING:
    from emu.personality import NodeContext
    from emu.runtime import NodeRuntime

__all__ = ["BLESIM_EXPORTS", "make_blesim_module", "make_time_module"]

NS_PER_S = 1_000_000_000

#: The names ``import blesim`` offers besides ``device``.
BLESIM_EXPORTS = (
    "Address",
    "AdvertisingData",
    "Characteristic",
    "Connection",
    "ConnectionFailed",
    "ConnectTimeout",
    "Descriptor",
    "Device",
    "DeviceError",
    "DeviceTimeoutError",
    "DeviceUsageError",
    "Disconnected",
    "GattError",
    "RemoteCharacteristic",
    "RemoteDescriptor",
    "RemoteInclude",
    "RemoteService",
    "ScanResult",
    "Service",
    "UUID",
)


def make_blesim_module(ctx: NodeContext, runtime: NodeRuntime) -> ModuleType:
    """The node's ``blesim`` module for this boot."""
    device = _device.Device(ctx.host_driver, FirmwareWaiter(runtime), name=ctx.name, powering=True)
    runtime.on_stop(device.close)
    ctx.objects["device"] = device
    mod = ModuleType("blesim", "blesim: the Python device API of this simulated node (native personality).")
    setattr(mod, "device", device)
    for name in BLESIM_EXPORTS:
        setattr(mod, name, getattr(_device, name))
    setattr(mod, "Permissions", Permissions)
    setattr(mod, "TimeoutError", _device.DeviceTimeoutError)
    return mod


def make_time_module(runtime: NodeRuntime) -> ModuleType:
    """A ``time`` module on simulated time (epoch: the start of the scenario)."""
    mod = ModuleType("time", "time on simulated time (native personality)")

    def sleep(seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        runtime.sleep_ns(int(round(seconds * NS_PER_S)))

    def sleep_ms(ms: float) -> None:
        if ms < 0:
            raise ValueError("sleep length must be non-negative")
        runtime.sleep_ns(int(round(ms * 1_000_000)))

    def sleep_us(us: float) -> None:
        if us < 0:
            raise ValueError("sleep length must be non-negative")
        runtime.sleep_ns(int(round(us * 1_000)))

    def seconds_now() -> float:
        return runtime.now / NS_PER_S

    def now_ns() -> int:
        return runtime.now

    def gmtime(secs: float | None = None) -> _time.struct_time:
        return _time.gmtime(runtime.now // NS_PER_S if secs is None else secs)

    def strftime(fmt: str, t: _time.struct_time | None = None) -> str:
        return _time.strftime(fmt, gmtime() if t is None else _time.struct_time(t))

    functions = {
        "sleep": sleep,
        "sleep_ms": sleep_ms,
        "sleep_us": sleep_us,
        "time": seconds_now,
        "time_ns": now_ns,
        "monotonic": seconds_now,
        "monotonic_ns": now_ns,
        "perf_counter": seconds_now,
        "perf_counter_ns": now_ns,
        "ticks_ms": lambda: runtime.now // 1_000_000,
        "ticks_us": lambda: runtime.now // 1_000,
        "ticks_diff": lambda new, old: new - old,
        "gmtime": gmtime,
        "localtime": gmtime,
        "strftime": strftime,
        "struct_time": _time.struct_time,
    }
    for name, fn in functions.items():
        setattr(mod, name, fn)
    return mod
