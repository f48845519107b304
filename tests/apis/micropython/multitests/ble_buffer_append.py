# Value buffers: gatts_set_buffer in append mode collects several remote writes until
# gatts_read, which returns them and clears the value (as the Nordic UART examples use
# it); without append a write replaces the value and is cut at the buffer size; a local
# gatts_write grows the buffer.
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
_IRQ_GATTC_WRITE_DONE = const(17)

_FLAG_WRITE = const(0x0008)

UART_UUID = bluetooth.UUID("6E400001-B5A3-F393-E0A9-E50E24DCCA9E")
RX_UUID = bluetooth.UUID("6E400002-B5A3-F393-E0A9-E50E24DCCA9E")
SMALL_UUID = bluetooth.UUID("6E400009-B5A3-F393-E0A9-E50E24DCCA9E")
SERVICE = (UART_UUID, ((RX_UUID, _FLAG_WRITE), (SMALL_UUID, _FLAG_WRITE)))

pending = {}
found = {}
writes = []


def irq(event, data):
    if event in (_IRQ_CENTRAL_CONNECT, _IRQ_CENTRAL_DISCONNECT, _IRQ_PERIPHERAL_CONNECT,
                 _IRQ_PERIPHERAL_DISCONNECT):
        pending[event] = data[0]
    elif event == _IRQ_GATTS_WRITE:
        writes.append(data[1])
        pending[event] = data[1]
    elif event == _IRQ_GATTC_CHARACTERISTIC_RESULT:
        found[bluetooth.UUID(data[4])] = data[2]
    elif event in (_IRQ_GATTC_CHARACTERISTIC_DONE, _IRQ_GATTC_WRITE_DONE):
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
    ((rx, small),) = ble.gatts_register_services((SERVICE,))
    ble.gatts_set_buffer(rx, 64, True)
    ble.gatts_write(small, b"0123456789" * 3)
    print("small after local write", len(ble.gatts_read(small)))
    ble.gatts_set_buffer(small, 8)
    print("small after set_buffer", ble.gatts_read(small))
    multitest.globals(BDADDR=ble.config("mac"))
    ble.gap_advertise(20_000, b"\x02\x01\x06\x04\x09MPY")
    multitest.next()
    try:
        wait_for_irq(_IRQ_CENTRAL_CONNECT)
        multitest.wait("written")
        print("writes", len(writes))
        print("rx", ble.gatts_read(rx))
        print("rx again", ble.gatts_read(rx))
        print("small", ble.gatts_read(small))
        print("small again", ble.gatts_read(small))
        multitest.broadcast("read")
        wait_for_irq(_IRQ_CENTRAL_DISCONNECT)
    finally:
        ble.active(0)


# Client: three writes to rx, two to small, then tells the server.
def instance1():
    multitest.next()
    try:
        ble.gap_connect(BDADDR[0], BDADDR[1], 5000)
        conn = wait_for_irq(_IRQ_PERIPHERAL_CONNECT)
        ble.gattc_discover_characteristics(conn, 1, 0xFFFF)
        wait_for_irq(_IRQ_GATTC_CHARACTERISTIC_DONE)
        for value_handle, data in ((found[RX_UUID], b"hello "), (found[RX_UUID], b"nordic "),
                                   (found[RX_UUID], b"uart"), (found[SMALL_UUID], b"first write"),
                                   (found[SMALL_UUID], b"second")):
            ble.gattc_write(conn, value_handle, data, 1)
            print("write done", wait_for_irq(_IRQ_GATTC_WRITE_DONE))
        multitest.broadcast("written")
        multitest.wait("read")
        ble.gap_disconnect(conn)
        wait_for_irq(_IRQ_PERIPHERAL_DISCONNECT)
    finally:
        ble.active(0)
