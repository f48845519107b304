"""MicroPython's ``machine`` module: resets and sleeps on the firmware runtime, timers on
simulated time, and harmless stand-ins for the hardware.

Theory of operation
-------------------
* ``reset()`` / ``soft_reset()`` reboot the node's firmware (``NodeRuntime.reboot``):
  fresh modules, the BLE stack down, the state folder kept. ``deepsleep(ms)`` stops the
  firmware and boots it again ``ms`` later (never, without ``ms``); ``lightsleep(ms)``
  and ``idle()`` just let simulated time pass (``idle`` waits one millisecond, the next
  tick interrupt). ``reset_cause()`` tells the next boot how the last one ended
  (kept in the node's per-node objects).
* ``Timer(id, mode=..., period=..., callback=...)`` fires on simulated time; each call of
  the callback runs in its own firmware thread, like an interrupt handler.
* ``Pin``, ``Signal``, ``ADC``, ``PWM``, ``I2C``/``SoftI2C``, ``SPI``/``SoftSPI``,
  ``UART``, ``RTC`` and ``WDT`` accept what firmware passes them and do nothing to the
  world: a pin remembers its value, a bus reads zeros and finds no device, the RTC counts
  from simulated time.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any, Callable

from emu.kernel import Timer as KernelTimer
from emu.runtime import FirmwareStatus

from .time_mod import NS_PER_MS, NS_PER_S, localtime

if TYPE_CHECKING:
    from emu.personality import NodeContext
    from emu.runtime import NodeRuntime

__all__ = ["RESET_CAUSE_KEY", "make_machine_module"]

PWRON_RESET, HARD_RESET, WDT_RESET, DEEPSLEEP_RESET, SOFT_RESET = 1, 2, 3, 4, 5
#: Per-node object holding the cause the next boot reports.
RESET_CAUSE_KEY = "micropython.reset_cause"


class _Pin:
    IN, OUT, OPEN_DRAIN, ALT = 0, 1, 2, 3
    PULL_UP, PULL_DOWN = 1, 2
    IRQ_RISING, IRQ_FALLING = 1, 2

    def __init__(self, id: Any, mode: int = -1, pull: int = -1, *, value: Any = None, **_: Any) -> None:  # noqa: A002
        self.id = id
        self._mode = mode
        self._pull = pull
        self._value = 1 if pull == self.PULL_UP else 0
        if value is not None:
            self._value = 1 if value else 0

    def init(self, mode: int = -1, pull: int = -1, *, value: Any = None, **_: Any) -> None:
        self._mode, self._pull = mode, pull
        if value is not None:
            self._value = 1 if value else 0

    def value(self, x: Any = None) -> int | None:
        if x is None:
            return self._value
        self._value = 1 if x else 0
        return None

    def __call__(self, x: Any = None) -> int | None:
        return self.value(x)

    def on(self) -> None:
        self._value = 1

    def off(self) -> None:
        self._value = 0

    def toggle(self) -> None:
        self._value ^= 1

    def irq(self, handler: Any = None, trigger: int = 3, **_: Any) -> None:
        return None

    def __repr__(self) -> str:
        return f"Pin({self.id!r})"


class _Signal:
    def __init__(self, pin: Any, *args: Any, invert: bool = False, **_: Any) -> None:
        self._pin = pin if isinstance(pin, _Pin) else _Pin(pin, *args)
        self._invert = invert

    def value(self, x: Any = None) -> int | None:
        if x is None:
            v = self._pin.value()
            return int(bool(v) != self._invert)
        self._pin.value(bool(x) != self._invert)
        return None

    def on(self) -> None:
        self.value(1)

    def off(self) -> None:
        self.value(0)


class _Device:
    """A peripheral that accepts any configuration and does nothing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args

    def init(self, *args: Any, **kwargs: Any) -> None:
        return None

    def deinit(self) -> None:
        return None


class _ADC(_Device):
    ATTN_0DB, ATTN_2_5DB, ATTN_6DB, ATTN_11DB = 0, 1, 2, 3
    WIDTH_9BIT, WIDTH_10BIT, WIDTH_11BIT, WIDTH_12BIT = 0, 1, 2, 3

    def read_u16(self) -> int:
        return 0

    def read(self) -> int:
        return 0

    def read_uv(self) -> int:
        return 0

    def atten(self, *_: Any) -> None:
        return None

    def width(self, *_: Any) -> None:
        return None


class _PWM(_Device):
    def __init__(self, pin: Any, freq: int = 0, duty_u16: int = 0, **kwargs: Any) -> None:
        super().__init__(pin)
        self._freq, self._duty = freq, duty_u16

    def freq(self, value: Any = None) -> int | None:
        if value is None:
            return self._freq
        self._freq = int(value)
        return None

    def duty_u16(self, value: Any = None) -> int | None:
        if value is None:
            return self._duty
        self._duty = int(value)
        return None

    def duty(self, value: Any = None) -> int | None:
        if value is None:
            return self._duty >> 6
        self._duty = int(value) << 6
        return None


class _I2C(_Device):
    def scan(self) -> list[int]:
        return []

    def readfrom(self, addr: int, nbytes: int, stop: bool = True) -> bytes:
        return bytes(nbytes)

    def readfrom_into(self, addr: int, buf: Any, stop: bool = True) -> None:
        memoryview(buf)[:] = bytes(len(buf))

    def writeto(self, addr: int, buf: Any, stop: bool = True) -> int:
        return len(buf)

    def readfrom_mem(self, addr: int, memaddr: int, nbytes: int, **_: Any) -> bytes:
        return bytes(nbytes)

    def readfrom_mem_into(self, addr: int, memaddr: int, buf: Any, **_: Any) -> None:
        memoryview(buf)[:] = bytes(len(buf))

    def writeto_mem(self, addr: int, memaddr: int, buf: Any, **_: Any) -> None:
        return None


class _SPI(_Device):
    MSB, LSB = 0, 1

    def read(self, nbytes: int, write: int = 0) -> bytes:
        return bytes(nbytes)

    def readinto(self, buf: Any, write: int = 0) -> None:
        memoryview(buf)[:] = bytes(len(buf))

    def write(self, buf: Any) -> None:
        return None

    def write_readinto(self, write_buf: Any, read_buf: Any) -> None:
        memoryview(read_buf)[:] = bytes(len(read_buf))


class _UART(_Device):
    def any(self) -> int:
        return 0

    def read(self, nbytes: int = -1) -> None:
        return None

    def readline(self) -> None:
        return None

    def readinto(self, buf: Any, nbytes: int = -1) -> None:
        return None

    def write(self, buf: Any) -> int:
        return len(buf)

    def flush(self) -> None:
        return None


class _WDT:
    def __init__(self, id: int = 0, timeout: int = 5000) -> None:  # noqa: A002
        self.timeout = timeout

    def feed(self) -> None:
        return None


def make_machine_module(ctx: NodeContext, runtime: NodeRuntime) -> ModuleType:
    """The node's ``machine`` module for this boot."""
    mod = ModuleType("machine", "MicroPython machine stand-in on the firmware runtime (blesim)")
    cause = ctx.objects.pop(RESET_CAUSE_KEY, PWRON_RESET)
    kernel = runtime.kernel
    timers: list[Timer] = []

    def stopping() -> None:
        ctx.objects.setdefault(RESET_CAUSE_KEY, PWRON_RESET)
        for timer in list(timers):
            timer.deinit()

    runtime.on_stop(stopping)

    def reset() -> None:
        ctx.objects[RESET_CAUSE_KEY] = HARD_RESET
        runtime.reboot()

    def soft_reset() -> None:
        ctx.objects[RESET_CAUSE_KEY] = SOFT_RESET
        runtime.reboot()

    def deepsleep(time_ms: Any = None) -> None:
        ctx.objects[RESET_CAUSE_KEY] = DEEPSLEEP_RESET
        if time_ms is not None:
            def wake() -> None:
                if runtime.status is FirmwareStatus.STOPPED and not runtime.threads:
                    runtime.boot()

            kernel.call_at(runtime.now + max(0, int(time_ms)) * NS_PER_MS, wake)
        runtime.stop()

    def lightsleep(time_ms: Any = None) -> None:
        runtime.sleep_ns(max(0, int(time_ms)) * NS_PER_MS if time_ms is not None else 24 * 3600 * NS_PER_S)

    def idle() -> None:
        runtime.sleep_ns(NS_PER_MS)

    def unique_id() -> bytes:
        return ctx.host.gap.info.public_address.value[::-1]

    class Timer:
        """``machine.Timer`` on simulated time; callbacks run as interrupts."""

        ONE_SHOT, PERIODIC = 0, 1

        def __init__(self, id: int = -1, *args: Any, **kwargs: Any) -> None:  # noqa: A002
            self.id = id
            self._timer: KernelTimer | None = None
            self._period_ns = 0
            self._mode = Timer.PERIODIC
            self._callback: Callable[[Any], Any] | None = None
            if args or kwargs:
                self.init(*args, **kwargs)

        def init(
            self, mode: int = 1, period: int = -1, callback: Any = None, *, freq: Any = None, tick_hz: int = 1000
        ) -> None:
            self.deinit()
            if freq is not None:
                period_ns = round(NS_PER_S / float(freq))
            else:
                if period < 0:
                    raise ValueError("period must be specified")
                period_ns = round(int(period) * NS_PER_S / tick_hz)
            self._mode, self._period_ns, self._callback = mode, max(1, period_ns), callback
            timers.append(self)
            self._arm()

        def _arm(self) -> None:
            self._timer = kernel.call_at(runtime.now + self._period_ns, self._fire)

        def _fire(self) -> None:
            self._timer = None
            if self._mode == Timer.PERIODIC:
                self._arm()
            elif self in timers:
                timers.remove(self)
            callback = self._callback
            if callback is not None:
                runtime.run_callback(callback, self, name="timer")

        def deinit(self) -> None:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self in timers:
                timers.remove(self)

        def __repr__(self) -> str:
            return f"Timer({self.id})"

    class RTC:
        """``machine.RTC``: the calendar of simulated time (settable)."""

        def __init__(self, id: int = 0) -> None:  # noqa: A002
            self._offset_s = 0

        def datetime(self, value: Any = None) -> tuple[int, ...] | None:
            if value is None:
                y, mo, d, h, mi, s, wd, _ = localtime(runtime.now // NS_PER_S + self._offset_s)
                return (y, mo, d, wd, h, mi, s, (runtime.now // 1000) % 1_000_000)
            from .time_mod import mktime

            y, mo, d, _wd, h, mi, s = (int(v) for v in tuple(value)[:7])
            self._offset_s = mktime((y, mo, d, h, mi, s, 0, 0)) - runtime.now // NS_PER_S
            return None

        def init(self, value: Any) -> None:
            self.datetime(value)

    values: dict[str, Any] = {
        "reset": reset,
        "soft_reset": soft_reset,
        "deepsleep": deepsleep,
        "lightsleep": lightsleep,
        "sleep": lightsleep,
        "idle": idle,
        "reset_cause": lambda: cause,
        "wake_reason": lambda: 0,
        "unique_id": unique_id,
        "freq": lambda hz=None: 160_000_000 if hz is None else None,
        "disable_irq": lambda: 0,
        "enable_irq": lambda state=0: None,
        "time_pulse_us": lambda pin, level, timeout_us=1_000_000: -1,
        "bootloader": reset,
        "Timer": Timer,
        "RTC": RTC,
        "Pin": _Pin,
        "Signal": _Signal,
        "ADC": _ADC,
        "PWM": _PWM,
        "I2C": _I2C,
        "SoftI2C": _I2C,
        "SPI": _SPI,
        "SoftSPI": _SPI,
        "UART": _UART,
        "WDT": _WDT,
        "PWRON_RESET": PWRON_RESET,
        "HARD_RESET": HARD_RESET,
        "WDT_RESET": WDT_RESET,
        "DEEPSLEEP_RESET": DEEPSLEEP_RESET,
        "SOFT_RESET": SOFT_RESET,
    }
    for key, value in values.items():
        setattr(mod, key, value)
    return mod
