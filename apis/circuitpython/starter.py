"""The starter ``blesim new NAME --personality circuitpython`` writes.

A two-node scenario in the style of Adafruit's UART echo examples: a peripheral that
echoes what it receives over the Nordic UART Service and a central that finds it with a
``ProvideServicesAdvertisement`` scan, sends a line and prints the echo. Paths are
relative to the new folder; ``{name}`` is the scenario name (the files hold no other
braces, so ``str.replace`` or ``str.format`` both work).
"""

from __future__ import annotations

__all__ = ["STARTER"]

_SCENARIO = """\
# {name}: a CircuitPython UART echo pair (adafruit_ble).
# The peripheral advertises the Nordic UART Service and echoes what it receives;
# the central scans for it, connects, sends a line and prints what comes back.
name: {name}
seed: 1
duration: 20s
stop_when: expectations
nodes:
  - name: peripheral
    personality: circuitpython
    firmware: firmware/peripheral.py
    position: [0, 0]
  - name: central
    personality: circuitpython
    firmware: firmware/central.py
    position: [2, 0]
expect:
  - node: central
    output: "echo: hello from {name}"
  - no_errors: true
"""

_PERIPHERAL = """\
# {name} peripheral: echo everything received over the Nordic UART Service.
from adafruit_ble import BLERadio
from adafruit_ble.advertising.standard import ProvideServicesAdvertisement
from adafruit_ble.services.nordic import UARTService

ble = BLERadio()
uart = UARTService()
advertisement = ProvideServicesAdvertisement(uart)

while True:
    ble.start_advertising(advertisement)
    print("advertising as", ble.name)
    while not ble.connected:
        pass
    print("connected")
    while ble.connected:
        if uart.in_waiting:
            data = uart.read(uart.in_waiting)
            uart.write(data)
    print("disconnected")
"""

_CENTRAL = """\
# {name} central: find the UART peripheral, send a line, print the echo.
import time

from adafruit_ble import BLERadio
from adafruit_ble.advertising.standard import ProvideServicesAdvertisement
from adafruit_ble.services.nordic import UARTService

ble = BLERadio()
connection = None
while connection is None:
    for advertisement in ble.start_scan(ProvideServicesAdvertisement, timeout=5):
        if UARTService in advertisement.services:
            connection = ble.connect(advertisement)
            break
    ble.stop_scan()

uart = connection[UARTService]
message = b"hello from {name}\\n"
uart.write(message)
line = uart.readline()
print("echo:", line.decode().strip())
connection.disconnect()
time.sleep(1)
"""

STARTER: dict[str, str] = {
    "{name}.yaml": _SCENARIO,
    "firmware/peripheral.py": _PERIPHERAL,
    "firmware/central.py": _CENTRAL,
}
