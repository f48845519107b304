"""The hardware and system stand-ins of CircuitPython nodes (apis/circuitpython/standins.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from .rig import run_world
from .test_adapter import ATTEMPT

FIRMWARE = ATTEMPT + """
import analogio
import board
import busio
import digitalio
import microcontroller
import micropython
import neopixel
import os
import rtc
import supervisor
import sys
from micropython import const

_ANSWER = const(42)
print("const", _ANSWER, micropython.const(7))
print("sys", sys.implementation.name, sys.implementation.version[0] >= 9, sys.platform)
print("uname", os.uname().sysname, os.uname().release == ".".join(str(v) for v in sys.implementation.version))
t0 = time.monotonic()
time.sleep(0.25)
print("slept", round(time.monotonic() - t0, 3), type(time.monotonic_ns()).__name__)
print("clock", time.time() >= 946684800, time.localtime().tm_year)
attempt("negative sleep", lambda: time.sleep(-1))
led = digitalio.DigitalInOut(board.LED)
led.direction = digitalio.Direction.OUTPUT
led.value = True
switch = digitalio.DigitalInOut(board.SLIDE_SWITCH)
switch.switch_to_input(pull=digitalio.Pull.UP)
button = digitalio.DigitalInOut(board.BUTTON_A)
button.switch_to_input(pull=digitalio.Pull.DOWN)
t1 = time.monotonic_ns()
print("pins", led.value, switch.value, button.value, time.monotonic_ns() - t1)
attempt("in use", lambda: digitalio.DigitalInOut(board.LED))
attempt("write input", lambda: setattr(button, "value", True))
pixels = neopixel.NeoPixel(board.NEOPIXEL, 10, brightness=0.2, auto_write=False)
pixels.fill((255, 0, 0))
pixels[1] = 0x00FF00
pixels.show()
print("pixels", pixels[0], pixels[1], len(pixels))
print("uid", microcontroller.cpu.uid.hex(), board.D13, board.board_id)
i2c = board.I2C()
print("i2c", i2c is board.I2C(), i2c.try_lock(), i2c.scan())
print("analog", analogio.AnalogIn(board.A0).value)
print("ticks", supervisor.ticks_ms() >= 250)
print("rtc", rtc.RTC().datetime.tm_year)
with open("/settings.toml", "w") as f:
    f.write('CIRCUITPY_BLE_NAME = "from-settings"\\nCOUNT = 3\\n')
print("getenv", os.getenv("CIRCUITPY_BLE_NAME"), os.getenv("COUNT"), os.getenv("MISSING", "dflt"))
try:
    open("/rebooted").close()
    print("second boot")
except OSError:
    open("/rebooted", "w").close()
    print("resetting")
    microcontroller.reset()
"""


def test_standins(tmp_path: Path) -> None:
    world = run_world(tmp_path, {"board": FIRMWARE}, duration="2s")
    uid = hashlib.sha256(b"blesim/board").digest()[:8].hex()
    first = [
        "const 42 7",
        "sys circuitpython True nRF52840",
        "uname nrf52 True",
        "slept 0.25 int",
        "clock True 2000",
        "negative sleep ValueError sleep length must be non-negative",
        "pins True True False 2000000",
        "in use ValueError board.LED in use",
        "write input AttributeError Cannot set value when direction is input.",
        "pixels (255, 0, 0) (0, 255, 0) 10",
        f"uid {uid} board.D13 blesim_nrf52840",
        "i2c True True []",
        "analog 32768",
        "ticks True",
        "rtc 2000",
        "getenv from-settings 3 dflt",
    ]
    out = world.output("board")
    assert out[: len(first)] == first
    assert out[len(first)] == "resetting"
    # microcontroller.reset() ran the firmware again, with the same filesystem.
    assert out[len(first) + 1 :][-1] == "second boot"
    assert not world.failures("board")


def test_monotonic_spin_gets_simulated_time(tmp_path: Path) -> None:
    world = run_world(tmp_path, {"board": """
import time
calls = 0
end = time.monotonic() + 0.5
while time.monotonic() < end:
    calls += 1
print("calls", calls)
a = time.monotonic_ns()
b = time.monotonic_ns()
print("back to back", b - a)
"""}, duration="2s", watchdog_s=1.0)
    assert not world.failures("board")
    out = world.output("board")
    # One simulated millisecond every 100 calls at the same instant.
    assert out[0] == "calls 49999"  # the first call (setting end) counts too
    assert out[1] == "back to back 0"
