# Subscribing and unsubscribing through the CCCD: gatts_write(..., send_update=True)
# notifies or indicates only subscribed clients (as their CCCD says), CCCD writes raise
# no IRQ on the server, and gatts_notify sends regardless of subscription.
from micropython import const
import time, machine, bluetooth

TIMEOUT_MS = 5000

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_GATTS_WRITE = const(3)
_IRQ_PERIPHERAL_CONNECT = const(7)
_IRQ_PERIPHERAL_DISCONNECT = const(8)
_IRQ_GATTC_CHARACTERISTIC_RESULT = const(11)
_IRQ_GATTC_CHARACTERISTIC_DONE = const(12)
_IRQ_GATTC_DESCRIPTOR_RESULT = const(13)
_IRQ_GATTC_DESCRIPTOR_DONE = const(14)
_IRQ_GATTC_WRITE_DONE = const(17)
_IRQ_GATTC_NOTIFY = const(18)
_IRQ_GATTC_INDICATE = const(19)
_IRQ_GATTS_INDICATE_DONE = const(20)

_FLAG_READ = const(0x0002)
_FLAG_NOTIFY = const(0x0010)
_FLAG_INDICATE = const(0x0020)

HR_UUID = bluetooth.UUID(0x180D)
MEASUREMENT_UUID = bluetooth.UUID(0x2A37)
CCCD_UUID = bluetooth.UUID(0x2902)
SERVICE = (HR_UUID, ((MEASUREMENT_UUID, _FLAG_READ | _FLAG_NOTIFY | _FLAG_INDICATE),))

pending = {}


def irq(event, data):
    if event in (_IRQ_CENTRAL_CONNECT, _IRQ_CENTRAL_DISCONNECT, _IRQ_PERIPHERAL_CONNECT,
                 _IRQ_PERIPHERAL_DISCONNECT):
        pending[event] = data[0]
    elif event == _IRQ_GATTS_WRITE:
        print("_IRQ_GATTS_WRITE (unexpected)", data[1])
    elif event == _IRQ_GATTC_CHARACTERISTIC_RESULT:
        pending[event] = (data[1], data[2])
    elif event == _IRQ_GATTC_DESCRIPTOR_RESULT:
        if bluetooth.UUID(data[2]) == CCCD_UUID:
            pending[event] = data[1]
    elif event in (_IRQ_GATTC_NOTIFY, _IRQ_GATTC_INDICATE):
        print("_IRQ_GATTC_NOTIFY" if event == _IRQ_GATTC_NOTIFY else "_IRQ_GATTC_INDICATE", bytes(data[2]))
        pending[event] = True
    elif event == _IRQ_GATTS_INDICATE_DONE:
        print("_IRQ_GATTS_INDICATE_DONE", data[2])
        pending[event] = data[2]
    elif event in (_IRQ_GATTC_CHARACTERISTIC_DONE, _IRQ_GATTC_DESCRIPTOR_DONE, _IRQ_GATTC_WRITE_DONE):
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


# Server.
def instance0():
    ((hr,),) = ble.gatts_register_services((SERVICE,))
    multitest.globals(BDADDR=ble.config("mac"))
    ble.gap_advertise(20_000, b"\x02\x01\x06\x04\x09MPY")
    multitest.next()
    try:
        conn = wait_for_irq(_IRQ_CENTRAL_CONNECT)
        multitest.wait("not subscribed")
        print("gatts_write send_update: nobody subscribed")
        ble.gatts_write(hr, b"v0", True)
        time.sleep_ms(300)
        multitest.broadcast("sent")
        multitest.wait("notifications")
        print("gatts_write send_update: notify")
        ble.gatts_write(hr, b"v1", True)
        multitest.wait("indications")
        print("gatts_write send_update: indicate")
        ble.gatts_write(hr, b"v2", True)
        wait_for_irq(_IRQ_GATTS_INDICATE_DONE)
        multitest.wait("unsubscribed")
        print("gatts_write send_update: unsubscribed")
        ble.gatts_write(hr, b"v3", True)
        time.sleep_ms(300)
        print("gatts_notify regardless")
        ble.gatts_notify(conn, hr, b"forced")
        wait_for_irq(_IRQ_CENTRAL_DISCONNECT)
    finally:
        ble.active(0)


# Client.
def instance1():
    multitest.next()
    try:
        ble.gap_connect(BDADDR[0], BDADDR[1], 5000)
        conn = wait_for_irq(_IRQ_PERIPHERAL_CONNECT)
        ble.gattc_discover_characteristics(conn, 1, 0xFFFF, MEASUREMENT_UUID)
        end_handle, value_handle = wait_for_irq(_IRQ_GATTC_CHARACTERISTIC_RESULT)
        wait_for_irq(_IRQ_GATTC_CHARACTERISTIC_DONE)
        ble.gattc_discover_descriptors(conn, value_handle, end_handle)
        cccd = wait_for_irq(_IRQ_GATTC_DESCRIPTOR_RESULT)
        wait_for_irq(_IRQ_GATTC_DESCRIPTOR_DONE)
        multitest.broadcast("not subscribed")
        multitest.wait("sent")
        for value, message, event in ((b"\x01\x00", "notifications", _IRQ_GATTC_NOTIFY),
                                      (b"\x02\x00", "indications", _IRQ_GATTC_INDICATE),
                                      (b"\x00\x00", "unsubscribed", _IRQ_GATTC_NOTIFY)):
            print("write CCCD", value)
            ble.gattc_write(conn, cccd, value, 1)
            print("write done", wait_for_irq(_IRQ_GATTC_WRITE_DONE))
            multitest.broadcast(message)
            wait_for_irq(event)
        ble.gap_disconnect(conn)
        wait_for_irq(_IRQ_PERIPHERAL_DISCONNECT)
    finally:
        ble.active(0)
