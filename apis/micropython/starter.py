"""The starter ``blesim new NAME --personality micropython`` writes.

:data:`STARTER` maps relative paths to file contents (``{name}`` is the scenario name): a
two-node world in the style of MicroPython's ``examples/bluetooth`` — a peripheral that
advertises "{name}", serves a counter characteristic (read + notify) and notifies it
every second, and a central that scans for the name, connects, discovers the
characteristic by UUID, reads it and subscribes. ``emu.starters`` replaces ``{name}``
literally, so other braces are written as they are. Its expectations hold when it runs.
"""

from __future__ import annotations

__all__ = ["STARTER"]

_SCENARIO = """\
# {name}: a MicroPython peripheral and central (blesim starter, personality micropython).
# The peripheral advertises "{name}" with a counter characteristic it notifies every
# second; the central scans for the name, connects, finds the characteristic, reads it
# and subscribes to its notifications.
name: {name}
seed: 1
duration: 8s
nodes:
  - name: peripheral
    personality: micropython
    firmware: firmware/peripheral.py
    position: [0, 0]
  - name: central
    personality: micropython
    firmware: firmware/central.py
    position: [2, 0]
expect:
  - {node: central, output: "read: counter=\\\\d+"}
  - {node: central, output: "notified: counter=\\\\d+"}
  - {node: peripheral, no_errors: true}
  - {node: central, no_errors: true}
"""

_PERIPHERAL = """\
# A MicroPython GATT server: one service with a counter characteristic (read + notify).
import struct
import time

import bluetooth
from micropython import const

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)

_SERVICE = bluetooth.UUID("9f0a0001-5a3e-4c58-9a57-2b5b6c1d0001")
_COUNTER = (bluetooth.UUID("9f0a0002-5a3e-4c58-9a57-2b5b6c1d0001"),
            bluetooth.FLAG_READ | bluetooth.FLAG_NOTIFY)

NAME = b"{name}"
ADV = bytes((2, 0x01, 0x06, len(NAME) + 1, 0x09)) + NAME

ble = bluetooth.BLE()
ble.active(True)
((counter_handle,),) = ble.gatts_register_services(((_SERVICE, (_COUNTER,)),))
connections = set()


def irq(event, data):
    if event == _IRQ_CENTRAL_CONNECT:
        conn_handle, _, _ = data
        connections.add(conn_handle)
        print("central connected")
    elif event == _IRQ_CENTRAL_DISCONNECT:
        conn_handle, _, _ = data
        connections.discard(conn_handle)
        print("central disconnected")
        ble.gap_advertise(100_000, ADV)


ble.irq(irq)
ble.gap_advertise(100_000, ADV)
print("advertising as", NAME.decode())

count = 0
while True:
    count += 1
    ble.gatts_write(counter_handle, struct.pack("<I", count))
    for conn_handle in connections:
        ble.gatts_notify(conn_handle, counter_handle)
    time.sleep_ms(1000)
"""

_CENTRAL = """\
# A MicroPython GATT client: scan for the peripheral by name, connect, find the counter
# characteristic, read it and subscribe to its notifications.
import struct

import bluetooth
from micropython import const

_IRQ_SCAN_RESULT = const(5)
_IRQ_SCAN_DONE = const(6)
_IRQ_PERIPHERAL_CONNECT = const(7)
_IRQ_PERIPHERAL_DISCONNECT = const(8)
_IRQ_GATTC_CHARACTERISTIC_RESULT = const(11)
_IRQ_GATTC_CHARACTERISTIC_DONE = const(12)
_IRQ_GATTC_READ_RESULT = const(15)
_IRQ_GATTC_WRITE_DONE = const(17)
_IRQ_GATTC_NOTIFY = const(18)

_COUNTER = bluetooth.UUID("9f0a0002-5a3e-4c58-9a57-2b5b6c1d0001")
NAME = b"{name}"

ble = bluetooth.BLE()
ble.active(True)
found = []
value_handle = None


def irq(event, data):
    global value_handle
    if event == _IRQ_SCAN_RESULT:
        addr_type, addr, adv_type, rssi, adv_data = data
        if NAME in bytes(adv_data) and not found:
            found.append((addr_type, bytes(addr)))
            ble.gap_scan(None)
    elif event == _IRQ_SCAN_DONE:
        if found:
            ble.gap_connect(*found[0])
        else:
            print("peripheral not found")
    elif event == _IRQ_PERIPHERAL_CONNECT:
        conn_handle, _, _ = data
        print("connected")
        ble.gattc_discover_characteristics(conn_handle, 1, 0xFFFF, _COUNTER)
    elif event == _IRQ_GATTC_CHARACTERISTIC_RESULT:
        conn_handle, end_handle, handle, properties, uuid = data
        value_handle = handle
    elif event == _IRQ_GATTC_CHARACTERISTIC_DONE:
        conn_handle, status = data
        if value_handle is not None:
            ble.gattc_read(conn_handle, value_handle)
    elif event == _IRQ_GATTC_READ_RESULT:
        conn_handle, handle, char_data = data
        print("read: counter=%d" % struct.unpack("<I", char_data)[0])
        # The CCCD follows the value handle; writing 1 enables notifications.
        ble.gattc_write(conn_handle, value_handle + 1, struct.pack("<H", 1), 1)
    elif event == _IRQ_GATTC_WRITE_DONE:
        print("subscribed")
    elif event == _IRQ_GATTC_NOTIFY:
        conn_handle, handle, notify_data = data
        print("notified: counter=%d" % struct.unpack("<I", notify_data)[0])
    elif event == _IRQ_PERIPHERAL_DISCONNECT:
        print("disconnected")


ble.irq(irq)
ble.gap_scan(5000, 30000, 30000, True)
"""

STARTER: dict[str, str] = {
    "{name}.yaml": _SCENARIO,
    "firmware/peripheral.py": _PERIPHERAL,
    "firmware/central.py": _CENTRAL,
}
