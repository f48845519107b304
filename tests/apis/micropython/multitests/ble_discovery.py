# Service and characteristic discovery with 16- and 128-bit UUIDs on NimBLE's handle
# layout: GAP and GATT first, the first user service at handle 19, end handle 0xFFFF for
# the last service when discovering all services but its real end when discovering by
# UUID, characteristic results with end handles (the next declaration minus one, even
# across a service boundary) and properties, and UUID filtering done locally.
from micropython import const
import time, machine, bluetooth

TIMEOUT_MS = 5000

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_PERIPHERAL_CONNECT = const(7)
_IRQ_PERIPHERAL_DISCONNECT = const(8)
_IRQ_GATTC_SERVICE_RESULT = const(9)
_IRQ_GATTC_SERVICE_DONE = const(10)
_IRQ_GATTC_CHARACTERISTIC_RESULT = const(11)
_IRQ_GATTC_CHARACTERISTIC_DONE = const(12)
_IRQ_GATTC_READ_RESULT = const(15)
_IRQ_GATTC_READ_DONE = const(16)

_FLAG_READ = const(0x0002)
_FLAG_WRITE = const(0x0008)
_FLAG_NOTIFY = const(0x0010)

BATTERY = (bluetooth.UUID(0x180F), ((bluetooth.UUID(0x2A19), _FLAG_READ | _FLAG_NOTIFY),))
CUSTOM_UUID = bluetooth.UUID("e3a1c0de-0001-4b5c-8d7e-112233445566")
CUSTOM = (CUSTOM_UUID, (
    (bluetooth.UUID("e3a1c0de-0002-4b5c-8d7e-112233445566"), _FLAG_READ | _FLAG_WRITE),
    (bluetooth.UUID(0x2A57), _FLAG_READ),
))
ENVIRONMENT = (bluetooth.UUID(0x181A), ((bluetooth.UUID(0x2A6E), _FLAG_READ),))

pending = {}


def irq(event, data):
    if event in (_IRQ_CENTRAL_CONNECT, _IRQ_CENTRAL_DISCONNECT, _IRQ_PERIPHERAL_CONNECT,
                 _IRQ_PERIPHERAL_DISCONNECT):
        pending[event] = data[0]
    elif event == _IRQ_GATTC_SERVICE_RESULT:
        conn_handle, start_handle, end_handle, uuid = data
        print("_IRQ_GATTC_SERVICE_RESULT", uuid, start_handle, end_handle)
    elif event == _IRQ_GATTC_CHARACTERISTIC_RESULT:
        conn_handle, end_handle, value_handle, properties, uuid = data
        print("_IRQ_GATTC_CHARACTERISTIC_RESULT", uuid, end_handle, value_handle, properties)
        pending[event] = value_handle
    elif event == _IRQ_GATTC_READ_RESULT:
        print("_IRQ_GATTC_READ_RESULT", bytes(data[-1]))
    elif event in (_IRQ_GATTC_SERVICE_DONE, _IRQ_GATTC_CHARACTERISTIC_DONE, _IRQ_GATTC_READ_DONE):
        print("done", data[-1])
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


# Server: three services.
def instance0():
    ((battery,), (custom, custom_16), (temperature,)) = ble.gatts_register_services(
        (BATTERY, CUSTOM, ENVIRONMENT))
    print("handles", battery, custom, custom_16, temperature)
    ble.gatts_write(battery, b"\x64")
    multitest.globals(BDADDR=ble.config("mac"))
    ble.gap_advertise(20_000, b"\x02\x01\x06\x04\x09MPY")
    multitest.next()
    try:
        wait_for_irq(_IRQ_CENTRAL_CONNECT)
        wait_for_irq(_IRQ_CENTRAL_DISCONNECT)
    finally:
        ble.active(0)


# Client.
def instance1():
    multitest.next()
    try:
        ble.gap_connect(BDADDR[0], BDADDR[1], 5000)
        conn = wait_for_irq(_IRQ_PERIPHERAL_CONNECT)
        print("all services")
        ble.gattc_discover_services(conn)
        wait_for_irq(_IRQ_GATTC_SERVICE_DONE)
        print("by 128-bit UUID")
        ble.gattc_discover_services(conn, CUSTOM_UUID)
        wait_for_irq(_IRQ_GATTC_SERVICE_DONE)
        print("by 16-bit UUID")
        ble.gattc_discover_services(conn, bluetooth.UUID(0x181A))
        wait_for_irq(_IRQ_GATTC_SERVICE_DONE)
        print("characteristics of the 128-bit service")
        ble.gattc_discover_characteristics(conn, 23, 27)
        wait_for_irq(_IRQ_GATTC_CHARACTERISTIC_DONE)
        print("characteristic 0x2A19 anywhere")
        ble.gattc_discover_characteristics(conn, 1, 0xFFFF, bluetooth.UUID(0x2A19))
        wait_for_irq(_IRQ_GATTC_CHARACTERISTIC_DONE)
        ble.gattc_read(conn, pending.pop(_IRQ_GATTC_CHARACTERISTIC_RESULT))
        wait_for_irq(_IRQ_GATTC_READ_DONE)
        ble.gap_disconnect(conn)
        wait_for_irq(_IRQ_PERIPHERAL_DISCONNECT)
    finally:
        ble.active(0)
