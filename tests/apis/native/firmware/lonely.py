# Blocking calls that time out, the time module, and an error the firmware does not catch.
import time

import blesim
from blesim import device

print("epoch", time.time(), time.monotonic_ns())
time.sleep(0.25)
print("after sleep", time.monotonic())
time.sleep_ms(5)
time.sleep_us(500)
print("ticks", time.ticks_ms(), time.ticks_us(), time.time_ns())
try:
    device.connect("F0:00:00:00:00:99", timeout_ms=200)
except TimeoutError as exc:
    print("timeout", type(exc).__name__, isinstance(exc, blesim.ConnectionFailed))
print("now", time.monotonic_ns())
try:
    device.wait_for_connection(timeout_ms=100)
except blesim.TimeoutError:
    print("nobody came at", time.monotonic_ns())
device.wait_for_connection(timeout_ms=50)
print("never printed")
