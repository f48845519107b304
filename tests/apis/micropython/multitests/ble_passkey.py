# Pairing with MITM protection: passkey entry (the server displays, the client types the
# passkey the server chose, given through a broadcast) and numeric comparison (both sides
# show the same number and accept), each ending in an authenticated, unbonded link.
from micropython import const
import time, machine, bluetooth

TIMEOUT_MS = 5000

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_PERIPHERAL_CONNECT = const(7)
_IRQ_PERIPHERAL_DISCONNECT = const(8)
_IRQ_ENCRYPTION_UPDATE = const(28)
_IRQ_PASSKEY_ACTION = const(31)

_IO_CAPABILITY_DISPLAY_ONLY = const(0)
_IO_CAPABILITY_DISPLAY_YESNO = const(1)
_IO_CAPABILITY_KEYBOARD_ONLY = const(2)

_PASSKEY_ACTION_INPUT = const(2)
_PASSKEY_ACTION_DISPLAY = const(3)
_PASSKEY_ACTION_NUMERIC_COMPARISON = const(4)

PASSKEY = const(123456)

pending = {}


def irq(event, data):
    if event in (_IRQ_CENTRAL_CONNECT, _IRQ_CENTRAL_DISCONNECT, _IRQ_PERIPHERAL_CONNECT,
                 _IRQ_PERIPHERAL_DISCONNECT):
        pending[event] = data[0]
    elif event == _IRQ_PASSKEY_ACTION:
        conn_handle, action, passkey = data
        print("_IRQ_PASSKEY_ACTION", action, passkey if action != _PASSKEY_ACTION_NUMERIC_COMPARISON else "n")
        pending[event] = (conn_handle, action, passkey)
    elif event == _IRQ_ENCRYPTION_UPDATE:
        conn_handle, encrypted, authenticated, bonded, key_size = data
        print("_IRQ_ENCRYPTION_UPDATE", encrypted, authenticated, bonded, key_size)
        pending[event] = authenticated


def wait_for_irq(event, timeout_ms=TIMEOUT_MS):
    t0 = time.ticks_ms()
    while time.ticks_diff(time.ticks_ms(), t0) < timeout_ms:
        if event in pending:
            return pending.pop(event)
        machine.idle()
    raise ValueError("no event {} within {} ms".format(event, timeout_ms))


ble = bluetooth.BLE()
ble.config(bond=False, le_secure=True, mitm=True)
ble.active(1)
ble.irq(irq)


# Server (responder).
def instance0():
    multitest.globals(BDADDR=ble.config("mac"))
    ble.config(io=_IO_CAPABILITY_DISPLAY_ONLY)
    ble.gap_advertise(20_000, b"\x02\x01\x06\x04\x09MPY")
    multitest.next()
    try:
        wait_for_irq(_IRQ_CENTRAL_CONNECT)
        conn, action, _ = wait_for_irq(_IRQ_PASSKEY_ACTION)
        print("showing passkey", PASSKEY)
        ble.gap_passkey(conn, action, PASSKEY)
        multitest.broadcast("passkey {}".format(PASSKEY))
        wait_for_irq(_IRQ_ENCRYPTION_UPDATE)
        wait_for_irq(_IRQ_CENTRAL_DISCONNECT)
        ble.config(io=_IO_CAPABILITY_DISPLAY_YESNO)
        ble.gap_advertise(20_000)
        multitest.broadcast("advertising")
        wait_for_irq(_IRQ_CENTRAL_CONNECT)
        conn, action, number = wait_for_irq(_IRQ_PASSKEY_ACTION)
        multitest.broadcast("number {}".format(number))
        ble.gap_passkey(conn, action, 1)
        wait_for_irq(_IRQ_ENCRYPTION_UPDATE)
        wait_for_irq(_IRQ_CENTRAL_DISCONNECT)
    finally:
        ble.active(0)


# Client (initiator).
def instance1():
    multitest.next()
    try:
        ble.config(io=_IO_CAPABILITY_KEYBOARD_ONLY)
        ble.gap_connect(BDADDR[0], BDADDR[1], 5000)
        conn = wait_for_irq(_IRQ_PERIPHERAL_CONNECT)
        ble.gap_pair(conn)
        _, action, _ = wait_for_irq(_IRQ_PASSKEY_ACTION)
        multitest.wait("passkey {}".format(PASSKEY))
        print("typing passkey", PASSKEY)
        ble.gap_passkey(conn, action, PASSKEY)
        wait_for_irq(_IRQ_ENCRYPTION_UPDATE)
        ble.gap_disconnect(conn)
        wait_for_irq(_IRQ_PERIPHERAL_DISCONNECT)
        ble.config(io=_IO_CAPABILITY_DISPLAY_YESNO)
        multitest.wait("advertising")
        ble.gap_connect(BDADDR[0], BDADDR[1], 5000)
        conn = wait_for_irq(_IRQ_PERIPHERAL_CONNECT)
        ble.gap_pair(conn)
        _, action, number = wait_for_irq(_IRQ_PASSKEY_ACTION)
        multitest.wait("number {}".format(number))
        print("same number on both sides:", 0 <= number <= 999999)
        ble.gap_passkey(conn, action, 1)
        wait_for_irq(_IRQ_ENCRYPTION_UPDATE)
        ble.gap_disconnect(conn)
        wait_for_irq(_IRQ_PERIPHERAL_DISCONNECT)
    finally:
        ble.active(0)
