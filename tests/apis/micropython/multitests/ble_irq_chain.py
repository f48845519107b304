# Chained calls inside the IRQ handler: the central's handler drives a whole session
# (connect -> discover service -> discover characteristics -> read -> write -> disconnect),
# each step started from the IRQ of the previous one, as MicroPython programs do.
from micropython import const
import time, machine, bluetooth

TIMEOUT_MS = 5000

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_GATTS_WRITE = const(3)
_IRQ_PERIPHERAL_CONNECT = const(7)
_IRQ_PERIPHERAL_DISCONNECT = const(8)
_IRQ_GATTC_SERVICE_RESULT = const(9)
_IRQ_GATTC_SERVICE_DONE = const(10)
_IRQ_GATTC_CHARACTERISTIC_RESULT = const(11)
_IRQ_GATTC_CHARACTERISTIC_DONE = const(12)
_IRQ_GATTC_READ_RESULT = const(15)
_IRQ_GATTC_READ_DONE = const(16)
_IRQ_GATTC_WRITE_DONE = const(17)

_FLAG_READ = const(0x0002)
_FLAG_WRITE = const(0x0008)

SERVICE_UUID = bluetooth.UUID(0x1815)
STATE_UUID = bluetooth.UUID(0x2A56)
OTHER_UUID = bluetooth.UUID(0x2A58)
SERVICE = (SERVICE_UUID, ((OTHER_UUID, _FLAG_READ), (STATE_UUID, _FLAG_READ | _FLAG_WRITE)))

session = {"done": False}


def central_irq(event, data):
    if event == _IRQ_PERIPHERAL_CONNECT:
        print("_IRQ_PERIPHERAL_CONNECT")
        session["conn"] = data[0]
        ble.gattc_discover_services(data[0], SERVICE_UUID)
    elif event == _IRQ_GATTC_SERVICE_RESULT:
        conn_handle, start_handle, end_handle, uuid = data
        print("_IRQ_GATTC_SERVICE_RESULT", uuid)
        session["range"] = (start_handle, end_handle)
    elif event == _IRQ_GATTC_SERVICE_DONE:
        print("_IRQ_GATTC_SERVICE_DONE", data[1])
        start_handle, end_handle = session["range"]
        ble.gattc_discover_characteristics(data[0], start_handle, end_handle)
    elif event == _IRQ_GATTC_CHARACTERISTIC_RESULT:
        conn_handle, end_handle, value_handle, properties, uuid = data
        print("_IRQ_GATTC_CHARACTERISTIC_RESULT", uuid)
        if uuid == STATE_UUID:
            session["value"] = value_handle
    elif event == _IRQ_GATTC_CHARACTERISTIC_DONE:
        print("_IRQ_GATTC_CHARACTERISTIC_DONE", data[1])
        ble.gattc_read(data[0], session["value"])
    elif event == _IRQ_GATTC_READ_RESULT:
        print("_IRQ_GATTC_READ_RESULT", bytes(data[2]))
    elif event == _IRQ_GATTC_READ_DONE:
        print("_IRQ_GATTC_READ_DONE", data[2])
        ble.gattc_write(data[0], session["value"], b"written from an IRQ", 1)
    elif event == _IRQ_GATTC_WRITE_DONE:
        print("_IRQ_GATTC_WRITE_DONE", data[2])
        print("gap_disconnect:", ble.gap_disconnect(data[0]))
    elif event == _IRQ_PERIPHERAL_DISCONNECT:
        print("_IRQ_PERIPHERAL_DISCONNECT")
        session["done"] = True


def peripheral_irq(event, data):
    if event == _IRQ_CENTRAL_CONNECT:
        print("_IRQ_CENTRAL_CONNECT")
    elif event == _IRQ_GATTS_WRITE:
        print("_IRQ_GATTS_WRITE", ble.gatts_read(data[1]))
    elif event == _IRQ_CENTRAL_DISCONNECT:
        print("_IRQ_CENTRAL_DISCONNECT")
        session["done"] = True


def wait_until_done(timeout_ms=TIMEOUT_MS):
    t0 = time.ticks_ms()
    while not session["done"]:
        if time.ticks_diff(time.ticks_ms(), t0) > timeout_ms:
            raise ValueError("session did not finish")
        machine.idle()


ble = bluetooth.BLE()
ble.active(1)


# Peripheral.
def instance0():
    ble.irq(peripheral_irq)
    ((other, state),) = ble.gatts_register_services((SERVICE,))
    ble.gatts_write(state, b"state0")
    multitest.globals(BDADDR=ble.config("mac"))
    ble.gap_advertise(20_000, b"\x02\x01\x06\x04\x09MPY")
    multitest.next()
    try:
        wait_until_done()
    finally:
        ble.active(0)


# Central: one gap_connect; the IRQ handler does the rest.
def instance1():
    ble.irq(central_irq)
    multitest.next()
    try:
        print("gap_connect")
        ble.gap_connect(BDADDR[0], BDADDR[1], 5000)
        wait_until_done()
    finally:
        ble.active(0)
