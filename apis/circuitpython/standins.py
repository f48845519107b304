"""Harmless stand-ins for the CircuitPython modules BLE examples import besides ``_bleio``.

Theory of operation
-------------------
Each ``make_*`` function builds one module for one node and one boot (the personality's
module table calls it with the node's :class:`~emu.runtime.NodeRuntime`):

* ``time`` runs on simulated time: ``monotonic``/``monotonic_ns`` from the kernel clock,
  ``sleep`` parks the firmware thread, ``time``/``localtime`` count from 2000-01-01 as
  a board without a set RTC does. A thread that calls ``monotonic`` many times without
  letting time pass (``while time.monotonic() < t: pass``) gets a simulated millisecond
  every :data:`SPIN_CALLS` calls, so such loops end.
* ``board``, ``digitalio``, ``analogio``, ``busio``, ``neopixel``, ``microcontroller``,
  ``supervisor``, ``rtc`` accept what examples do with them and remember values written;
  inputs read their idle level (pull-up high, otherwise low), and reading a digital
  input lets simulated time advance (polling loops). ``microcontroller.reset()`` and
  ``supervisor.reload()`` reboot the node's firmware.
* ``micropython`` has ``const`` and the decorators; ``sys`` says ``circuitpython`` 9.x on
  an ``nRF52840`` so libraries take their CircuitPython paths and nothing leaks host
  values; ``os`` is the runtime's filesystem ``os`` with a board ``uname`` and
  ``getenv`` reading ``/settings.toml``.
"""

from __future__ import annotations

import calendar
import collections
import hashlib
import io
import sys as _sys
import time as _time
import traceback
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any, Self

from phy.units import MS

if TYPE_CHECKING:
    from emu.runtime import NodeRuntime

__all__ = [
    "CIRCUITPYTHON_VERSION",
    "SPIN_CALLS",
    "make_analogio_module",
    "make_board_module",
    "make_busio_module",
    "make_digitalio_module",
    "make_microcontroller_module",
    "make_micropython_module",
    "make_neopixel_module",
    "make_os_module",
    "make_rtc_module",
    "make_supervisor_module",
    "make_sys_module",
    "make_time_module",
    "read_setting",
]

#: The CircuitPython version the node claims (``sys.implementation.version``).
CIRCUITPYTHON_VERSION = (9, 2, 1)
#: ``monotonic()`` calls at one simulated instant before a simulated millisecond passes.
SPIN_CALLS = 100
#: Seconds from 1970-01-01 to 2000-01-01, where a board's clock starts.
EPOCH_2000 = 946_684_800
_POLL_NS = 1 * MS


def _module(name: str, doc: str, values: dict[str, Any]) -> ModuleType:
    mod = ModuleType(name, doc)
    for key, value in values.items():
        setattr(mod, key, value)
    return mod


def _poll(runtime: NodeRuntime) -> None:
    """A polled input was read: let simulated time advance when in the node's firmware."""
    thread = runtime.scheduler.current
    if thread is not None and thread.node is runtime:
        runtime.sleep_ns(_POLL_NS)


def _in_firmware(runtime: NodeRuntime) -> bool:
    thread = runtime.scheduler.current
    return thread is not None and thread.node is runtime


# -- time ----------------------------------------------------------------------------------


def make_time_module(runtime: NodeRuntime) -> ModuleType:
    """``time`` on simulated time."""
    spin = {"t": -1, "n": 0}

    def now_ns() -> int:
        now = runtime.now
        if now == spin["t"]:
            spin["n"] += 1
            if spin["n"] >= SPIN_CALLS and _in_firmware(runtime):
                spin["n"] = 0
                runtime.sleep_ns(_POLL_NS)
                now = runtime.now
        else:
            spin["n"] = 0
        spin["t"] = now
        return now

    def monotonic() -> float:
        return now_ns() / 1_000_000_000

    def monotonic_ns() -> int:
        return now_ns()

    def sleep(seconds: float) -> None:
        seconds = float(seconds)
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        runtime.sleep_ns(round(seconds * 1_000_000_000))

    def time() -> int:
        return EPOCH_2000 + runtime.now // 1_000_000_000

    def localtime(secs: float | None = None) -> _time.struct_time:
        return _time.gmtime(time() if secs is None else int(secs))

    def mktime(t: Any) -> int:
        return int(calendar.timegm(tuple(t)[:9]))

    return _module("time", "time stand-in: simulated time", {
        "monotonic": monotonic, "monotonic_ns": monotonic_ns, "sleep": sleep, "time": time,
        "localtime": localtime, "mktime": mktime, "struct_time": _time.struct_time,
    })


# -- pins, board, microcontroller --------------------------------------------------------------


class Pin:
    """A pin of the simulated board (``microcontroller.Pin``)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return f"board.{self._name}"

    def __hash__(self) -> int:
        return hash(self._name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pin) and other._name == self._name


class _Processor:
    def __init__(self, uid: bytes) -> None:
        self.uid = uid
        self.frequency = 64_000_000
        self.temperature = 25.0
        self.voltage = 3.3
        self.reset_reason = "POWER_ON"


def make_microcontroller_module(runtime: NodeRuntime) -> ModuleType:
    """``microcontroller``: cpu (uid from the node name), nvm, reset() reboots the firmware."""
    uid = hashlib.sha256(f"blesim/{runtime.name}".encode()).digest()[:8]
    cpu = _Processor(uid)
    pin_module = ModuleType("microcontroller.pin")
    pins: dict[str, Pin] = {}

    def pin_attr(name: str) -> Pin:
        if name.startswith("__"):
            raise AttributeError(name)
        return pins.setdefault(name, Pin(name))

    pin_module.__getattr__ = pin_attr  # type: ignore[method-assign]

    def reset() -> None:
        runtime.reboot()

    def delay_us(delay: int) -> None:
        if _in_firmware(runtime):
            runtime.sleep_ns(int(delay) * 1000)

    class RunMode:
        NORMAL = "NORMAL"
        SAFE_MODE = "SAFE_MODE"
        BOOTLOADER = "BOOTLOADER"
        UF2 = "UF2"

    return _module("microcontroller", "microcontroller stand-in", {
        "cpu": cpu, "cpus": (cpu,), "nvm": bytearray(8192), "Pin": Pin, "pin": pin_module,
        "reset": reset, "delay_us": delay_us, "RunMode": RunMode,
        "on_next_reset": lambda run_mode: None,
        "enable_interrupts": lambda: None, "disable_interrupts": lambda: None,
        "Processor": _Processor,
    })


def make_board_module(runtime: NodeRuntime, busio: Callable[[], ModuleType]) -> ModuleType:
    """``board``: any pin name is a :class:`Pin`; ``I2C()``/``SPI()``/``UART()`` singletons."""
    mod = ModuleType("board", "board stand-in: any pin name exists")
    pins: dict[str, Pin] = {}
    singletons: dict[str, Any] = {}

    def pin_attr(name: str) -> Pin:
        if name.startswith("__"):
            raise AttributeError(name)
        return pins.setdefault(name, Pin(name))

    def singleton(kind: str) -> Callable[[], Any]:
        def make() -> Any:
            if kind not in singletons:
                bus = busio()
                if kind == "I2C":
                    singletons[kind] = bus.I2C(pin_attr("SCL"), pin_attr("SDA"))
                elif kind == "SPI":
                    singletons[kind] = bus.SPI(pin_attr("SCK"), pin_attr("MOSI"), pin_attr("MISO"))
                else:
                    singletons[kind] = bus.UART(pin_attr("TX"), pin_attr("RX"))
            return singletons[kind]

        return make

    mod.__getattr__ = pin_attr  # type: ignore[method-assign]
    mod.board_id = "blesim_nrf52840"  # type: ignore[attr-defined]
    mod.I2C = singleton("I2C")  # type: ignore[attr-defined]
    mod.STEMMA_I2C = singleton("I2C")  # type: ignore[attr-defined]
    mod.SPI = singleton("SPI")  # type: ignore[attr-defined]
    mod.UART = singleton("UART")  # type: ignore[attr-defined]
    return mod


# -- digitalio, analogio -------------------------------------------------------------------------


class _Enum:
    def __init__(self, owner: str, name: str) -> None:
        self._text = f"{owner}.{name}"

    def __repr__(self) -> str:
        return self._text


def make_digitalio_module(runtime: NodeRuntime) -> ModuleType:
    """``digitalio``: pins keep what is written; inputs read their idle level."""

    class Direction:
        INPUT = _Enum("digitalio.Direction", "INPUT")
        OUTPUT = _Enum("digitalio.Direction", "OUTPUT")

    class Pull:
        UP = _Enum("digitalio.Pull", "UP")
        DOWN = _Enum("digitalio.Pull", "DOWN")

    class DriveMode:
        PUSH_PULL = _Enum("digitalio.DriveMode", "PUSH_PULL")
        OPEN_DRAIN = _Enum("digitalio.DriveMode", "OPEN_DRAIN")

    claimed: set[Any] = set()

    class DigitalInOut:
        def __init__(self, pin: Any) -> None:
            if pin in claimed:
                raise ValueError(f"{pin} in use")
            claimed.add(pin)
            self._pin: Any = pin
            self.direction = Direction.INPUT
            self.pull: _Enum | None = None
            self.drive_mode = DriveMode.PUSH_PULL
            self._value = False

        @property
        def value(self) -> bool:
            if self.direction is Direction.OUTPUT:
                return self._value
            _poll(runtime)
            return self.pull is Pull.UP

        @value.setter
        def value(self, value: bool) -> None:
            if self.direction is not Direction.OUTPUT:
                raise AttributeError("Cannot set value when direction is input.")
            self._value = bool(value)

        def switch_to_output(self, value: bool = False, drive_mode: _Enum = DriveMode.PUSH_PULL) -> None:
            self.direction = Direction.OUTPUT
            self.drive_mode = drive_mode
            self._value = bool(value)

        def switch_to_input(self, pull: _Enum | None = None) -> None:
            self.direction = Direction.INPUT
            self.pull = pull

        def deinit(self) -> None:
            claimed.discard(self._pin)

        def __enter__(self) -> Self:
            return self

        def __exit__(self, *exc: object) -> None:
            self.deinit()

    return _module("digitalio", "digitalio stand-in", {
        "DigitalInOut": DigitalInOut, "Direction": Direction, "Pull": Pull, "DriveMode": DriveMode,
    })


def make_analogio_module(runtime: NodeRuntime) -> ModuleType:
    """``analogio``: inputs read mid-scale, outputs keep their value."""

    class AnalogIn:
        def __init__(self, pin: Any) -> None:
            self.reference_voltage = 3.3

        @property
        def value(self) -> int:
            _poll(runtime)
            return 32768

        def deinit(self) -> None:
            return None

    class AnalogOut:
        def __init__(self, pin: Any) -> None:
            self.value = 0

        def deinit(self) -> None:
            return None

    return _module("analogio", "analogio stand-in", {"AnalogIn": AnalogIn, "AnalogOut": AnalogOut})


def make_busio_module(runtime: NodeRuntime) -> ModuleType:
    """``busio``: buses with nothing attached (scans find nothing, reads give zeros)."""

    class I2C:
        def __init__(self, scl: Any, sda: Any, *, frequency: int = 100_000, timeout: int = 255) -> None:
            self._locked = False

        def try_lock(self) -> bool:
            if self._locked:
                return False
            self._locked = True
            return True

        def unlock(self) -> None:
            self._locked = False

        def scan(self) -> list[int]:
            return []

        def readfrom_into(self, address: int, buffer: Any, *, start: int = 0, end: int | None = None) -> None:
            raise OSError(19, "No such device")

        def writeto(self, address: int, buffer: Any, *, start: int = 0, end: int | None = None) -> None:
            raise OSError(19, "No such device")

        def writeto_then_readfrom(self, address: int, out_buf: Any, in_buf: Any, **kwargs: Any) -> None:
            raise OSError(19, "No such device")

        def deinit(self) -> None:
            return None

        def __enter__(self) -> Self:
            return self

        def __exit__(self, *exc: object) -> None:
            self.deinit()

    class SPI(I2C):
        def __init__(self, clock: Any, MOSI: Any = None, MISO: Any = None) -> None:
            super().__init__(clock, MOSI)

        def configure(self, **kwargs: Any) -> None:
            return None

        def write(self, buffer: Any, **kwargs: Any) -> None:
            return None

        def readinto(self, buffer: Any, **kwargs: Any) -> None:
            view = memoryview(buffer).cast("B")
            view[:] = bytes(len(view))

        def write_readinto(self, out_buf: Any, in_buf: Any, **kwargs: Any) -> None:
            self.readinto(in_buf)

    class UART:
        def __init__(self, tx: Any = None, rx: Any = None, *, baudrate: int = 9600, timeout: float = 1,
                     **kwargs: Any) -> None:
            self.baudrate = baudrate
            self.timeout = timeout

        @property
        def in_waiting(self) -> int:
            _poll(runtime)
            return 0

        def read(self, nbytes: int | None = None) -> bytes | None:
            return None

        def readinto(self, buf: Any) -> int | None:
            return None

        def readline(self) -> bytes | None:
            return None

        def write(self, buf: Any) -> int:
            return len(bytes(buf))

        def reset_input_buffer(self) -> None:
            return None

        def deinit(self) -> None:
            return None

    return _module("busio", "busio stand-in", {"I2C": I2C, "SPI": SPI, "UART": UART})


# -- neopixel ----------------------------------------------------------------------------------


def make_neopixel_module(runtime: NodeRuntime) -> ModuleType:
    """``neopixel``: pixels keep the colours written (no light is emitted)."""

    class NeoPixel:
        def __init__(self, pin: Any, n: int, *, bpp: int = 3, brightness: float = 1.0,
                     auto_write: bool = True, pixel_order: Any = None) -> None:
            self.n = int(n)
            self.bpp = bpp
            self.brightness = float(brightness)
            self.auto_write = auto_write
            self._pixels: list[tuple[int, ...]] = [(0,) * bpp for _ in range(self.n)]

        def _colour(self, value: Any) -> tuple[int, ...]:
            if isinstance(value, int):
                rgb = ((value >> 16) & 0xFF, (value >> 8) & 0xFF, value & 0xFF)
                return rgb + (0,) * (self.bpp - 3)
            colour = tuple(int(c) for c in value)
            if len(colour) not in (3, 4):
                raise ValueError("Expected tuple of length 3 or 4")
            return colour

        def __len__(self) -> int:
            return self.n

        def __setitem__(self, index: Any, value: Any) -> None:
            if isinstance(index, slice):
                for i, v in zip(range(*index.indices(self.n)), value):
                    self._pixels[i] = self._colour(v)
            else:
                self._pixels[index] = self._colour(value)

        def __getitem__(self, index: Any) -> Any:
            return self._pixels[index]

        def fill(self, colour: Any) -> None:
            value = self._colour(colour)
            self._pixels = [value] * self.n

        def show(self) -> None:
            return None

        def deinit(self) -> None:
            return None

        def __enter__(self) -> Self:
            return self

        def __exit__(self, *exc: object) -> None:
            self.deinit()

    return _module("neopixel", "neopixel stand-in", {
        "NeoPixel": NeoPixel, "RGB": "RGB", "GRB": "GRB", "RGBW": "RGBW", "GRBW": "GRBW",
    })


# -- micropython, supervisor, rtc ----------------------------------------------------------------


def make_micropython_module(runtime: NodeRuntime | None = None) -> ModuleType:
    """``micropython``: ``const`` and the code-emitter decorators (all identity)."""

    def identity(value: Any) -> Any:
        return value

    return _module("micropython", "micropython stand-in", {
        "const": identity, "native": identity, "viper": identity, "asm_thumb": identity,
        "opt_level": lambda level=None: 0 if level is None else None,
        "mem_info": lambda verbose=None: None, "qstr_info": lambda verbose=None: None,
        "heap_lock": lambda: 0, "heap_unlock": lambda: 0,
        "alloc_emergency_exception_buf": lambda size: None,
    })


def make_supervisor_module(runtime: NodeRuntime) -> ModuleType:
    """``supervisor``: ticks on simulated time; ``reload()`` reboots the firmware."""

    class _Runtime:
        serial_connected = False
        usb_connected = False
        serial_bytes_available = 0
        autoreload = False

    def ticks_ms() -> int:
        return (runtime.now // 1_000_000) & ((1 << 29) - 1)

    return _module("supervisor", "supervisor stand-in", {
        "runtime": _Runtime(), "ticks_ms": ticks_ms, "reload": runtime.reboot,
        "disable_autoreload": lambda: None, "enable_autoreload": lambda: None,
        "set_next_code_file": lambda *args, **kwargs: None,
    })


def make_rtc_module(runtime: NodeRuntime) -> ModuleType:
    """``rtc``: an RTC whose ``datetime`` follows simulated time (settable)."""
    offset = {"s": 0}

    class RTC:
        @property
        def datetime(self) -> _time.struct_time:
            return _time.gmtime(EPOCH_2000 + runtime.now // 1_000_000_000 + offset["s"])

        @datetime.setter
        def datetime(self, value: Any) -> None:
            wanted = int(calendar.timegm(tuple(value)[:9]))
            offset["s"] = wanted - (EPOCH_2000 + runtime.now // 1_000_000_000)

    return _module("rtc", "rtc stand-in", {"RTC": RTC, "set_time_source": lambda source: None})


# -- sys, os -----------------------------------------------------------------------------------

_Implementation = collections.namedtuple("_Implementation", "name version mpy")
_UnameResult = collections.namedtuple("_UnameResult", "sysname nodename release version machine")


def make_sys_module(runtime: NodeRuntime) -> ModuleType:
    """``sys`` as a CircuitPython board reports it (nothing from the host leaks)."""
    version = ".".join(str(v) for v in CIRCUITPYTHON_VERSION)
    out = _console(runtime)

    def exit(code: Any = None) -> None:
        raise SystemExit(code)

    def print_exception(exc: BaseException, file: Any = None) -> None:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        (file or out).write(text)

    return _module("sys", "sys stand-in: a CircuitPython board", {
        "argv": [], "byteorder": "little", "maxsize": (1 << 31) - 1, "modules": {},
        "path": ["", "/", ".frozen", "/lib"], "platform": "nRF52840",
        "implementation": _Implementation("circuitpython", CIRCUITPYTHON_VERSION, 0x0A06),
        "version": f"3.4.0; CircuitPython {version} on blesim", "version_info": (3, 4, 0),
        "stdin": io.StringIO(), "stdout": out, "stderr": out, "exit": exit,
        "print_exception": print_exception, "exc_info": _sys.exc_info,
    })


def _console(runtime: NodeRuntime) -> Any:
    from emu.runtime import NodeConsole

    return NodeConsole(runtime.output)


def make_os_module(runtime: NodeRuntime) -> ModuleType:
    """The runtime's ``os`` (the node's filesystem) with a board ``uname`` and ``getenv``."""
    from emu.runtime import make_os_module as runtime_os

    importer = runtime.importer
    if importer is None:
        raise RuntimeError(f"node {runtime.name}: no importer (the firmware is not booted)")
    fs = importer.fs
    mod = runtime_os(fs, runtime.random, runtime.name, "os")
    version = ".".join(str(v) for v in CIRCUITPYTHON_VERSION)

    def uname() -> Any:
        return _UnameResult("nrf52", "nrf52", version, f"{version} on blesim",
                            "blesim simulated board with nRF52840")

    def getenv(key: str, default: Any = None) -> Any:
        try:
            with fs.open("/settings.toml", "r", encoding="utf-8") as handle:
                text = handle.read()
        except OSError:
            return default
        return _settings(text).get(key, default)

    mod.uname = uname  # type: ignore[attr-defined]
    mod.getenv = getenv  # type: ignore[attr-defined]
    return mod


def read_setting(runtime: NodeRuntime, key: str) -> Any:
    """The value of ``key`` in the node's ``/settings.toml`` (None when absent)."""
    importer = runtime.importer
    if importer is None:
        return None
    try:
        with importer.fs.open("/settings.toml", "r", encoding="utf-8") as handle:
            text = handle.read()
    except OSError:
        return None
    return _settings(text).get(key)


def _settings(text: str) -> dict[str, Any]:
    """The ``key = value`` lines of a settings.toml (strings and integers, as the board)."""
    out: dict[str, Any] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            out[key.strip()] = value[1:-1].replace('\\"', '"')
        else:
            try:
                out[key.strip()] = int(value, 0)
            except ValueError:
                continue
    return out
