"""``checkNet``, ``osTimer``, ``log``, ``misc``, ``modem`` and ``usys`` of a Quectel node.

Theory of operation
-------------------
These are stand-ins for the module's board services, enough for BLE firmware to run
without a cellular network:

* ``checkNet``: ``CheckNetwork(name, version).poweron_print_once()`` prints the banner
  (project, firmware version, power-on reason, SIM status) once per boot;
  ``wait_network_connected(timeout_s)`` (method and module function) and
  ``waitNetworkReady(timeout)`` return ``(3, 1)`` — network ready — at once, and raise
  ``OSError`` for a timeout outside 1..3600 s as the real one does.
* ``osTimer``: ``osTimer()`` with ``start(ms, cyclic, callback)``, ``stop()``,
  ``delete_timer()`` (each 0). Expiries are kernel timers at exact simulated instants;
  the callback gets ``None`` through the same 64-deep queue and callback thread as the
  ``ble`` events (:class:`~.board.QuectelBoard`).
* ``log``: ``basicConfig(level)``, ``getLogger(name)`` with ``debug`` ... ``critical(msg,
  *args)`` printing ``LEVEL:name:msg`` (CRIT, ERROR, WARN, INFO, DEBUG) on the node's
  console, ``set_output(stream)``.
* ``misc``: ``Power`` (``powerOnReason()`` 1, ``powerRestart()`` reboots the node's
  firmware, ``powerDown()`` stops it, ``getVbatt()`` 3800 mV), ``ADC`` reading 0, and any
  other name as a harmless object whose methods return 0.
* ``modem``: firmware version, model (EC600U), an IMEI and serial number derived from the
  node name (deterministic).
* ``usys`` (also ``sys``): ``stdout``/``stderr`` on the node's console, ``platform``,
  ``exit``, a per-node ``path`` list (firmware's ``sys.path.append('/usr')`` touches only
  its node; imports are resolved by the node's importer anyway).
"""

from __future__ import annotations

import hashlib
from types import ModuleType
from typing import Any, Callable

from emu.kernel import Timer
from emu.runtime.standins import NodeConsole
from phy.units import MS

from .board import QuectelBoard

__all__ = [
    "FIRMWARE_VERSION",
    "make_checknet_module",
    "make_log_module",
    "make_misc_module",
    "make_modem_module",
    "make_ostimer_module",
    "make_usys_module",
]

#: What ``modem.getDevFwVersion()`` and the checkNet banner report.
FIRMWARE_VERSION = "EC600UCNLBR03A01M08_BLESIM"
DEVICE_MODEL = "EC600U"


def _module(name: str, doc: str, values: dict[str, Any]) -> ModuleType:
    module = ModuleType(name, doc)
    for key, value in values.items():
        setattr(module, key, value)
    return module


# -- checkNet ---------------------------------------------------------------------------------


def _wait(timeout: object) -> tuple[int, int]:
    if not isinstance(timeout, (int, float)) or not 1 <= timeout <= 3600:
        raise OSError(f"invalid timeout {timeout!r}: 1..3600 s")
    return (3, 1)


def make_checknet_module(board: QuectelBoard) -> ModuleType:
    """``checkNet`` for ``board``'s node."""

    class CheckNetwork:
        """``checkNet.CheckNetwork(project_name, project_version)``."""

        def __init__(self, project_name: str, project_version: str) -> None:
            self.project_name = project_name
            self.project_version = project_version

        def poweron_print_once(self) -> None:
            if board.objects.get("checknet.printed"):
                return
            board.objects["checknet.printed"] = True
            rule = "=" * 50
            for line in (
                rule,
                f"PROJECT_NAME     : {self.project_name}",
                f"PROJECT_VERSION  : {self.project_version}",
                f"FIRMWARE_VERSION : {FIRMWARE_VERSION}",
                "POWERON_REASON   : 1",
                "SIM_CARD_STATUS  : 1",
                rule,
            ):
                board.message(line)

        def wait_network_connected(self, timeout_s: object = 60) -> tuple[int, int]:
            return _wait(timeout_s)

    values: dict[str, Any] = dict(
        CheckNetwork=CheckNetwork, wait_network_connected=lambda timeout_s=60: _wait(timeout_s),
        waitNetworkReady=lambda timeout=60: _wait(timeout),
    )
    return _module("checkNet", "QuecPython checkNet stand-in: the network is ready at once (blesim)", values)


# -- osTimer ----------------------------------------------------------------------------------


def make_ostimer_module(board: QuectelBoard) -> ModuleType:
    """``osTimer`` for ``board``'s node."""
    timers: list[Any] = []

    class osTimer:  # noqa: N801 - the module's own name for it
        """``osTimer.osTimer()``: a one-shot or cyclic timer calling ``cb(None)``."""

        def __init__(self) -> None:
            self._timer: Timer | None = None
            self._generation = 0
            timers.append(self)

        def start(self, ms: object, cyclic: object, callback: Callable[[Any], object]) -> int:
            if not isinstance(ms, int) or ms < 1:
                raise ValueError(f"invalid period {ms!r} ms")
            self.stop()
            period = ms * MS
            self._generation += 1
            generation = self._generation
            first = board.now + period

            def fire(at: int) -> None:
                if generation != self._generation or board.stopped:
                    return
                self._timer = None
                if cyclic:
                    self._timer = board.kernel.call_at(at + period, lambda: fire(at + period))
                board.schedule(callback, None, "osTimer callback")

            self._timer = board.kernel.call_at(first, lambda: fire(first))
            return 0

        def stop(self) -> int:
            self._generation += 1
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            return 0

        def delete_timer(self) -> int:
            return self.stop()

    def stop_all() -> None:
        for timer in timers:
            timer.stop()

    board.on_stop(stop_all)
    return _module("osTimer", "QuecPython osTimer on simulated time (blesim)", {"osTimer": osTimer})


# -- log --------------------------------------------------------------------------------------

CRITICAL, ERROR, WARNING, INFO, DEBUG, NOTSET = 50, 40, 30, 20, 10, 0
_LEVEL_NAMES = {CRITICAL: "CRIT", ERROR: "ERROR", WARNING: "WARN", INFO: "INFO", DEBUG: "DEBUG"}


def make_log_module(board: QuectelBoard) -> ModuleType:
    """``log`` for ``board``'s node (one level and one output for the whole module)."""
    state: dict[str, Any] = {"level": INFO, "output": None}

    def emit(line: str) -> None:
        out = state["output"]
        if out is not None and hasattr(out, "write"):
            out.write(line + "\n")
        else:
            board.message(line)

    class Logger:
        """``log.getLogger(name)``."""

        def __init__(self, name: str) -> None:
            self.name = name

        def log(self, level: int, msg: object, *args: object) -> None:
            if level < state["level"]:
                return
            text = str(msg) % args if args else str(msg)
            emit(f"{_LEVEL_NAMES.get(level, str(level))}:{self.name}:{text}")

        def debug(self, msg: object, *args: object) -> None:
            self.log(DEBUG, msg, *args)

        def info(self, msg: object, *args: object) -> None:
            self.log(INFO, msg, *args)

        def warning(self, msg: object, *args: object) -> None:
            self.log(WARNING, msg, *args)

        def error(self, msg: object, *args: object) -> None:
            self.log(ERROR, msg, *args)

        def critical(self, msg: object, *args: object) -> None:
            self.log(CRITICAL, msg, *args)

    loggers: dict[str, Logger] = {}

    def getLogger(name: str = "root") -> Logger:
        if name not in loggers:
            loggers[name] = Logger(name)
        return loggers[name]

    def basicConfig(level: int = INFO) -> None:
        state["level"] = int(level)

    def set_output(out: object) -> int:
        state["output"] = out
        return 0

    values: dict[str, Any] = dict(
        CRITICAL=CRITICAL, ERROR=ERROR, WARNING=WARNING, INFO=INFO, DEBUG=DEBUG, NOTSET=NOTSET,
        basicConfig=basicConfig, getLogger=getLogger, set_output=set_output, Logger=Logger,
    )
    return _module("log", "QuecPython log on the node's console (blesim)", values)


# -- misc, modem, usys --------------------------------------------------------------------------


class _StandIn:
    """Any other hardware object: constructible with anything, every method returns 0."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        self.args = args

    def __getattr__(self, name: str) -> Callable[..., int]:
        if name.startswith("__"):
            raise AttributeError(name)
        return lambda *args, **kwargs: 0


def make_misc_module(board: QuectelBoard) -> ModuleType:
    """``misc`` for ``board``'s node."""
    runtime = board.runtime

    class Power:
        """``misc.Power``: power-on reason, restart, power down, battery voltage."""

        @staticmethod
        def powerOnReason() -> int:
            return 1

        @staticmethod
        def powerRestart() -> None:
            runtime.reboot()

        @staticmethod
        def powerDown() -> None:
            runtime.stop()

        @staticmethod
        def getVbatt() -> int:
            return 3800

        @staticmethod
        def powerDownReason() -> int:
            return 0

    class ADC(_StandIn):
        """``misc.ADC``: every channel reads 0."""

        ADC0, ADC1, ADC2, ADC3 = 0, 1, 2, 3

        def read(self, channel: int) -> int:
            return 0

    module = _module("misc", "QuecPython misc stand-in (blesim)", {"Power": Power, "ADC": ADC})

    def __getattr__(name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return _StandIn

    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    return module


def _digits(seed: str, count: int) -> str:
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    return "".join(str(b % 10) for b in digest)[:count]


def make_modem_module(board: QuectelBoard) -> ModuleType:
    """``modem`` for ``board``'s node (identifiers derived from its name)."""
    name = board.ctx.name
    values: dict[str, Any] = dict(
        getDevFwVersion=lambda: FIRMWARE_VERSION,
        getDevModel=lambda: DEVICE_MODEL,
        getDevImei=lambda: "86" + _digits("imei/" + name, 13),
        getDevSN=lambda: "D1Q" + _digits("sn/" + name, 12),
        getDevProductId=lambda: "Quectel",
        getDevMAC=lambda: ":".join(f"{b:02x}" for b in bytes(board.host.address.value)[::-1]),
    )
    return _module("modem", "QuecPython modem stand-in (blesim)", values)


def make_usys_module(board: QuectelBoard) -> ModuleType:
    """``usys`` (and ``sys``, the same module): the node's console streams."""
    cached: ModuleType | None = board.objects.get("usys")
    if cached is not None:
        return cached
    console = NodeConsole(board.runtime.output)

    def exit(code: object = 0) -> None:
        raise SystemExit(code)

    def print_exception(exc: BaseException, file: Any = None) -> None:
        (file or console).write(f"{type(exc).__name__}: {exc}\n")

    values: dict[str, Any] = dict(
        stdout=console, stderr=console, platform="EC600U", byteorder="little", exit=exit,
        implementation=("micropython", (1, 13, 0)), maxsize=(1 << 31) - 1,
        path=["", "/usr"], argv=[], modules={}, version="3.4.0", print_exception=print_exception,
    )
    module = _module("usys", "QuecPython usys stand-in (blesim)", values)
    board.objects["usys"] = module
    return module
