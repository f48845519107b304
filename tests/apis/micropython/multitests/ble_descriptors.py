# Descriptors: NimBLE's handle layout (auto-CCCD right after a NOTIFY characteristic's
# value, not in the returned handles; user descriptors after it), characteristic results
# carrying each characteristic's end handle, descriptor discovery returning every
# attribute in (start, end] (so a declaration and a value too), reading and writing user
# descriptors (NimBLE takes ATT permission flags for descriptors: 1 read, 2 write, as
# aioble's _FLAG_DESC_READ/_FLAG_DESC_WRITE), and a CCCD write that raises no IRQ.
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
_IRQ_GATTC_DESCRIPTOR_RESULT = const(13)
_IRQ_GATTC_DESCRIPTOR_DONE = const(14)
_IRQ_GATTC_READ_RESULT = const(15)
_IRQ_GATTC_READ_DONE = const(16)
_IRQ_GATTC_WRITE_DONE = const(17)
_IRQ_GATTC_NOTIFY = const(18)

_FLAG_READ = const(0x0002)
_FLAG_WRITE = const(0x0008)
_FLAG_NOTIFY = const(0x0010)
_FLAG_DESC_READ = const(0x0001)
_FLAG_DESC_WRITE = const(0x0002)

SERVICE_UUID = bluetooth.UUID("5c6d0001-8f2e-4a1b-b3c4-d5e6f7a8b9c0")
CHAR_A_UUID = bluetooth.UUID("5c6d0002-8f2e-4a1b-b3c4-d5e6f7a8b9c0")
CHAR_B_UUID = bluetooth.UUID("5c6d0003-8f2e-4a1b-b3c4-d5e6f7a8b9c0")
USER_DESC_UUID = bluetooth.UUID(0x2901)
CUSTOM_DESC_UUID = bluetooth.UUID("5c6d0004-8f2e-4a1b-b3c4-d5e6f7a8b9c0")
CCCD_UUID = bluetooth.UUID(0x2902)
CHAR_A = (CHAR_A_UUID, _FLAG_READ | _FLAG_NOTIFY)
CHAR_B = (CHAR_B_UUID, _FLAG_READ | _FLAG_WRITE,
          ((USER_DESC_UUID, _FLAG_DESC_READ), (CUSTOM_DESC_UUID, _FLAG_DESC_READ | _FLAG_DESC_WRITE)))
SERVICE = (SERVICE_UUID, (CHAR_A, CHAR_B))

pending = {}
results = []
names = {}


def irq(event, data):
    if event in (_IRQ_CENTRAL_CONNECT, _IRQ_CENTRAL_DISCONNECT, _IRQ_PERIPHERAL_CONNECT,
                 _IRQ_PERIPHERAL_DISCONNECT):
        pending[event] = data[0]
    elif event == _IRQ_GATTS_WRITE:
        conn_handle, attr_handle = data
        print("_IRQ_GATTS_WRITE", names.get(attr_handle), ble.gatts_read(attr_handle))
        pending[event] = attr_handle
    elif event == _IRQ_GATTC_SERVICE_RESULT:
        pending[event] = (data[1], data[2])
    elif event == _IRQ_GATTC_CHARACTERISTIC_RESULT:
        conn_handle, end_handle, value_handle, properties, uuid = data
        results.append((end_handle, value_handle, bluetooth.UUID(uuid)))
    elif event == _IRQ_GATTC_DESCRIPTOR_RESULT:
        conn_handle, dsc_handle, uuid = data
        results.append((dsc_handle, bluetooth.UUID(uuid)))
    elif event == _IRQ_GATTC_READ_RESULT:
        print("_IRQ_GATTC_READ_RESULT", bytes(data[-1]))
    elif event == _IRQ_GATTC_NOTIFY:
        print("_IRQ_GATTC_NOTIFY", bytes(data[-1]))
        pending[event] = True
    elif event in (_IRQ_GATTC_SERVICE_DONE, _IRQ_GATTC_CHARACTERISTIC_DONE, _IRQ_GATTC_DESCRIPTOR_DONE,
                   _IRQ_GATTC_READ_DONE, _IRQ_GATTC_WRITE_DONE):
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
    ((char_a, char_b, user_desc, custom_desc),) = ble.gatts_register_services((SERVICE,))
    print("handles", char_a, char_b, user_desc, custom_desc)
    names.update({char_a: "A", char_b: "B", user_desc: "user", custom_desc: "custom"})
    ble.gatts_write(char_a, b"A0")
    ble.gatts_write(user_desc, b"B's description")
    ble.gatts_write(custom_desc, b"custom0")
    multitest.globals(BDADDR=ble.config("mac"))
    ble.gap_advertise(20_000, b"\x02\x01\x06\x04\x09MPY")
    multitest.next()
    try:
        wait_for_irq(_IRQ_CENTRAL_CONNECT)
        wait_for_irq(_IRQ_GATTS_WRITE)
        multitest.wait("subscribed")
        print("gatts_write A with send_update")
        ble.gatts_write(char_a, b"A1", True)
        wait_for_irq(_IRQ_CENTRAL_DISCONNECT)
    finally:
        ble.active(0)


# Client.
def instance1():
    multitest.next()
    try:
        ble.gap_connect(BDADDR[0], BDADDR[1], 5000)
        conn = wait_for_irq(_IRQ_PERIPHERAL_CONNECT)
        ble.gattc_discover_services(conn, SERVICE_UUID)
        start, end = wait_for_irq(_IRQ_GATTC_SERVICE_RESULT)
        wait_for_irq(_IRQ_GATTC_SERVICE_DONE)
        ble.gattc_discover_characteristics(conn, start, end)
        print("characteristics done:", wait_for_irq(_IRQ_GATTC_CHARACTERISTIC_DONE))
        (end_a, value_a, uuid_a), (end_b, value_b, uuid_b) = results
        print("A", uuid_a == CHAR_A_UUID, end_a - value_a, "B", uuid_b == CHAR_B_UUID, end_b - value_b)
        results.clear()
        # From A's value up to B's value: A's CCCD, B's declaration, B's value.
        ble.gattc_discover_descriptors(conn, value_a, value_b)
        print("descriptors done:", wait_for_irq(_IRQ_GATTC_DESCRIPTOR_DONE))
        for handle, uuid in results:
            print(" +{}".format(handle - value_a), uuid)
        cccd = [h for h, u in results if u == CCCD_UUID][0]
        results.clear()
        # After B's value: its two user descriptors.
        ble.gattc_discover_descriptors(conn, value_b, end)
        print("descriptors done:", wait_for_irq(_IRQ_GATTC_DESCRIPTOR_DONE))
        for handle, uuid in results:
            print(" +{}".format(handle - value_b), uuid)
        (user, _), (custom, _) = results
        ble.gattc_read(conn, user)
        print("read done:", wait_for_irq(_IRQ_GATTC_READ_DONE))
        ble.gattc_read(conn, custom)
        print("read done:", wait_for_irq(_IRQ_GATTC_READ_DONE))
        ble.gattc_write(conn, custom, b"custom1", 1)
        print("write done:", wait_for_irq(_IRQ_GATTC_WRITE_DONE))
        ble.gattc_write(conn, cccd, b"\x01\x00", 1)
        print("cccd write done:", wait_for_irq(_IRQ_GATTC_WRITE_DONE))
        multitest.broadcast("subscribed")
        wait_for_irq(_IRQ_GATTC_NOTIFY)
        ble.gap_disconnect(conn)
        wait_for_irq(_IRQ_PERIPHERAL_DISCONNECT)
    finally:
        ble.active(0)
