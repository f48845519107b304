# Connecting and disconnecting from both sides: the peripheral ends the first link, the
# central the second; gap_disconnect returns False on a link that is gone; a gap_connect to
# a peer that no longer advertises times out with _IRQ_PERIPHERAL_DISCONNECT
# (65535, 255, zero address) as NimBLE reports it.
from micropython import const
import time, machine, bluetooth

TIMEOUT_MS = 5000

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_PERIPHERAL_CONNECT = const(7)
_IRQ_PERIPHERAL_DISCONNECT = const(8)

pending = {}


def is_peer(addr_type, addr):
    return addr_type == BDADDR[0] and bytes(addr) == BDADDR[1]


def irq(event, data):
    if event == _IRQ_CENTRAL_CONNECT:
        conn_handle, addr_type, addr = data
        print("_IRQ_CENTRAL_CONNECT", addr_type)
        pending[event] = conn_handle
    elif event == _IRQ_CENTRAL_DISCONNECT:
        conn_handle, addr_type, addr = data
        print("_IRQ_CENTRAL_DISCONNECT", addr_type)
        pending[event] = conn_handle
    elif event == _IRQ_PERIPHERAL_CONNECT:
        conn_handle, addr_type, addr = data
        print("_IRQ_PERIPHERAL_CONNECT", is_peer(addr_type, addr))
        pending[event] = conn_handle
    elif event == _IRQ_PERIPHERAL_DISCONNECT:
        conn_handle, addr_type, addr = data
        if conn_handle == 0xFFFF:
            print("_IRQ_PERIPHERAL_DISCONNECT", conn_handle, addr_type, bytes(addr))
        else:
            print("_IRQ_PERIPHERAL_DISCONNECT", is_peer(addr_type, addr))
        pending[event] = conn_handle


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


# Peripheral.
def instance0():
    multitest.globals(BDADDR=ble.config("mac"))
    ble.gap_advertise(20_000, b"\x02\x01\x06\x04\x09MPY")
    multitest.next()
    try:
        conn_handle = wait_for_irq(_IRQ_CENTRAL_CONNECT)
        time.sleep_ms(200)
        print("gap_disconnect:", ble.gap_disconnect(conn_handle))
        wait_for_irq(_IRQ_CENTRAL_DISCONNECT)
        print("gap_disconnect:", ble.gap_disconnect(conn_handle))
        ble.gap_advertise(20_000)
        multitest.broadcast("advertising again")
        wait_for_irq(_IRQ_CENTRAL_CONNECT)
        wait_for_irq(_IRQ_CENTRAL_DISCONNECT)
        multitest.broadcast("not advertising")
    finally:
        ble.active(0)


# Central.
def instance1():
    multitest.next()
    try:
        print("gap_connect")
        ble.gap_connect(BDADDR[0], BDADDR[1], 5000)
        wait_for_irq(_IRQ_PERIPHERAL_CONNECT)
        wait_for_irq(_IRQ_PERIPHERAL_DISCONNECT)
        multitest.wait("advertising again")
        print("gap_connect")
        ble.gap_connect(*BDADDR)
        conn_handle = wait_for_irq(_IRQ_PERIPHERAL_CONNECT)
        time.sleep_ms(200)
        print("gap_disconnect:", ble.gap_disconnect(conn_handle))
        wait_for_irq(_IRQ_PERIPHERAL_DISCONNECT)
        multitest.wait("not advertising")
        print("gap_connect")
        t0 = time.ticks_ms()
        ble.gap_connect(BDADDR[0], BDADDR[1], 500)
        wait_for_irq(_IRQ_PERIPHERAL_DISCONNECT)
        print("gave up after 500 ms:", time.ticks_diff(time.ticks_ms(), t0) >= 500)
    finally:
        ble.active(0)
