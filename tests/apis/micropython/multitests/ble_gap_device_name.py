# The GAP device name: the NimBLE default b'MPY NIMBLE', then a name set with
# config(gap_name=...), each read by the central from characteristic 0x2A00 (found by
# UUID over the whole handle range).
from micropython import const
import time, machine, bluetooth

TIMEOUT_MS = 5000

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_PERIPHERAL_CONNECT = const(7)
_IRQ_PERIPHERAL_DISCONNECT = const(8)
_IRQ_GATTC_CHARACTERISTIC_RESULT = const(11)
_IRQ_GATTC_CHARACTERISTIC_DONE = const(12)
_IRQ_GATTC_READ_RESULT = const(15)
_IRQ_GATTC_READ_DONE = const(16)

GAP_DEVICE_NAME_UUID = bluetooth.UUID(0x2A00)

pending = {}


def irq(event, data):
    if event == _IRQ_CENTRAL_CONNECT:
        print("_IRQ_CENTRAL_CONNECT")
        pending[event] = data[0]
    elif event == _IRQ_CENTRAL_DISCONNECT:
        print("_IRQ_CENTRAL_DISCONNECT")
        pending[event] = data[0]
    elif event == _IRQ_PERIPHERAL_CONNECT:
        print("_IRQ_PERIPHERAL_CONNECT")
        pending[event] = data[0]
    elif event == _IRQ_PERIPHERAL_DISCONNECT:
        print("_IRQ_PERIPHERAL_DISCONNECT")
        pending[event] = data[0]
    elif event == _IRQ_GATTC_CHARACTERISTIC_RESULT:
        conn_handle, def_handle, value_handle, properties, uuid = data
        print("_IRQ_GATTC_CHARACTERISTIC_RESULT", uuid)
        pending[event] = value_handle
    elif event == _IRQ_GATTC_CHARACTERISTIC_DONE:
        print("_IRQ_GATTC_CHARACTERISTIC_DONE", data[-1])
        pending[event] = data[-1]
    elif event == _IRQ_GATTC_READ_RESULT:
        conn_handle, value_handle, char_data = data
        print("_IRQ_GATTC_READ_RESULT", bytes(char_data))
    elif event == _IRQ_GATTC_READ_DONE:
        print("_IRQ_GATTC_READ_DONE", data[-1])
        pending[event] = data[-1]


def wait_for_irq(event, timeout_ms=TIMEOUT_MS):
    t0 = time.ticks_ms()
    while time.ticks_diff(time.ticks_ms(), t0) < timeout_ms:
        if event in pending:
            return pending.pop(event)
        machine.idle()
    raise ValueError("no event {} within {} ms".format(event, timeout_ms))


ble = bluetooth.BLE()
ble.active(1)
ble.irq(irq)


# Peripheral: advertises twice, with the default name and then a new one.
def instance0():
    multitest.globals(BDADDR=ble.config("mac"))
    print(ble.config("gap_name"))
    ble.gap_advertise(20_000)
    multitest.next()
    try:
        wait_for_irq(_IRQ_CENTRAL_CONNECT)
        wait_for_irq(_IRQ_CENTRAL_DISCONNECT)
        ble.config(gap_name="blesim GAP name")
        print(ble.config("gap_name"))
        ble.gap_advertise(20_000)
        multitest.broadcast("renamed")
        wait_for_irq(_IRQ_CENTRAL_CONNECT)
        wait_for_irq(_IRQ_CENTRAL_DISCONNECT)
    finally:
        ble.active(0)


# Central: reads the device name on two connections.
def instance1():
    multitest.next()
    try:
        for round in range(2):
            if round:
                multitest.wait("renamed")
            print("gap_connect")
            ble.gap_connect(BDADDR[0], BDADDR[1], 5000)
            conn_handle = wait_for_irq(_IRQ_PERIPHERAL_CONNECT)
            ble.gattc_discover_characteristics(conn_handle, 1, 65535, GAP_DEVICE_NAME_UUID)
            value_handle = wait_for_irq(_IRQ_GATTC_CHARACTERISTIC_RESULT)
            wait_for_irq(_IRQ_GATTC_CHARACTERISTIC_DONE)
            ble.gattc_read(conn_handle, value_handle)
            wait_for_irq(_IRQ_GATTC_READ_DONE)
            print("gap_disconnect:", ble.gap_disconnect(conn_handle))
            wait_for_irq(_IRQ_PERIPHERAL_DISCONNECT)
    finally:
        ble.active(0)
