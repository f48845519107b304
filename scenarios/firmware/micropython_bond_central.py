# A MicroPython central that pairs with bonding, reads a characteristic that needs an
# encrypted link, leaves, and comes back: the second time it asks for encryption with the
# bond (gap_pair on a bonded peer starts encryption with the stored LTK, no pairing), and
# the read is refused until the link is encrypted. It keeps its own secrets in RAM.

import time

import bluetooth
from micropython import const

_IRQ_PERIPHERAL_CONNECT = const(7)
_IRQ_PERIPHERAL_DISCONNECT = const(8)
_IRQ_GATTC_CHARACTERISTIC_RESULT = const(11)
_IRQ_GATTC_CHARACTERISTIC_DONE = const(12)
_IRQ_GATTC_READ_RESULT = const(15)
_IRQ_GATTC_READ_DONE = const(16)
_IRQ_ENCRYPTION_UPDATE = const(28)
_IRQ_GET_SECRET = const(29)
_IRQ_SET_SECRET = const(30)

_PERIPHERAL = b"\xc4\x00\x00\x00\xb0\x01"
_SECRET_UUID = bluetooth.UUID("6e400002-0b0b-4c1d-a2c3-1e5bd0f0b0d0")

secrets = {}
events = {}


def irq(event, data):
    if event == _IRQ_GET_SECRET:
        sec_type, index, key = data
        if key is None:
            found = [v for (t, _), v in sorted(secrets.items()) if t == sec_type]
            return found[index] if index < len(found) else None
        return secrets.get((sec_type, bytes(key)))
    if event == _IRQ_SET_SECRET:
        sec_type, key, value = data
        if value is None:
            secrets.pop((sec_type, bytes(key)), None)
        else:
            secrets[(sec_type, bytes(key))] = bytes(value)
        return True
    if event == _IRQ_GATTC_CHARACTERISTIC_RESULT:
        events["value_handle"] = data[2]
    elif event == _IRQ_GATTC_READ_RESULT:
        events["read"] = bytes(data[2])
    else:
        events[event] = data
    return None


def wait(event, timeout_ms=5000):
    deadline = time.ticks_add(time.ticks_ms(), timeout_ms)
    while event not in events:
        if time.ticks_diff(deadline, time.ticks_ms()) <= 0:
            raise RuntimeError("timed out waiting for IRQ %d" % event)
        time.sleep_ms(10)
    return events.pop(event)


def read(conn, handle):
    ble.gattc_read(conn, handle)
    status = wait(_IRQ_GATTC_READ_DONE)[2]
    return events.pop("read", None) if status == 0 else status


def visit(number):
    ble.gap_connect(0, _PERIPHERAL)
    conn = wait(_IRQ_PERIPHERAL_CONNECT)[0]
    print("visit", number, "connected")
    ble.gattc_discover_characteristics(conn, 1, 0xFFFF, _SECRET_UUID)
    wait(_IRQ_GATTC_CHARACTERISTIC_DONE)
    handle = events.pop("value_handle")
    print("read before encryption:", read(conn, handle))
    ble.gap_pair(conn)
    _, encrypted, authenticated, bonded, key_size = wait(_IRQ_ENCRYPTION_UPDATE)
    print("encrypted:", encrypted, "bonded:", bonded, "key size:", key_size)
    print("read after encryption:", read(conn, handle))
    ble.gap_disconnect(conn)
    wait(_IRQ_PERIPHERAL_DISCONNECT)


ble = bluetooth.BLE()
ble.irq(irq)
ble.active(True)
ble.config(bond=True, le_secure=True, mitm=False, io=3)
time.sleep_ms(200)
visit(1)
time.sleep_ms(1000)
visit(2)
print("done")
