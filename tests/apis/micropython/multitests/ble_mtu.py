# ATT MTU exchange from both roles (NimBLE answers either way): _IRQ_MTU_EXCHANGED on both
# sides with the smaller of the two config('mtu') values; then notifications and writes
# are cut to MTU-3 bytes and a read returns at most MTU-1 bytes.
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
_IRQ_GATTC_READ_RESULT = const(15)
_IRQ_GATTC_READ_DONE = const(16)
_IRQ_GATTC_WRITE_DONE = const(17)
_IRQ_GATTC_NOTIFY = const(18)
_IRQ_MTU_EXCHANGED = const(21)

_FLAG_READ = const(0x0002)
_FLAG_WRITE_NO_RESPONSE = const(0x0004)
_FLAG_WRITE = const(0x0008)
_FLAG_NOTIFY = const(0x0010)

CHAR_UUID = bluetooth.UUID("9a4f0002-3c2b-4d1e-8f70-a1b2c3d4e5f6")
SERVICE = (bluetooth.UUID("9a4f0001-3c2b-4d1e-8f70-a1b2c3d4e5f6"),
           ((CHAR_UUID, _FLAG_READ | _FLAG_WRITE | _FLAG_WRITE_NO_RESPONSE | _FLAG_NOTIFY),))

pending = {}


def irq(event, data):
    if event in (_IRQ_CENTRAL_CONNECT, _IRQ_CENTRAL_DISCONNECT, _IRQ_PERIPHERAL_CONNECT,
                 _IRQ_PERIPHERAL_DISCONNECT):
        pending[event] = data[0]
    elif event == _IRQ_MTU_EXCHANGED:
        print("_IRQ_MTU_EXCHANGED", data[1])
        pending[event] = data[1]
    elif event == _IRQ_GATTS_WRITE:
        print("_IRQ_GATTS_WRITE", len(ble.gatts_read(data[1])))
        pending[event] = data[1]
    elif event == _IRQ_GATTC_CHARACTERISTIC_RESULT:
        pending[event] = data[2]
    elif event == _IRQ_GATTC_READ_RESULT:
        print("_IRQ_GATTC_READ_RESULT", len(data[2]))
    elif event == _IRQ_GATTC_NOTIFY:
        print("_IRQ_GATTC_NOTIFY", len(data[2]))
        pending[event] = True
    elif event in (_IRQ_GATTC_CHARACTERISTIC_DONE, _IRQ_GATTC_READ_DONE, _IRQ_GATTC_WRITE_DONE):
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


# Server (peripheral).
def instance0():
    ((char,),) = ble.gatts_register_services((SERVICE,))
    ble.gatts_write(char, bytes(range(240)))  # a local write grows the value buffer
    multitest.globals(BDADDR=ble.config("mac"))
    print("default mtu", ble.config("mtu"))
    try:
        # 1: the central starts the exchange.
        ble.config(mtu=200)
        ble.gap_advertise(20_000, b"\x02\x01\x06\x04\x09MPY")
        multitest.next()
        conn = wait_for_irq(_IRQ_CENTRAL_CONNECT)
        wait_for_irq(_IRQ_MTU_EXCHANGED)
        multitest.wait("ready")
        print("gatts_notify")
        ble.gatts_notify(conn, char)
        wait_for_irq(_IRQ_GATTS_WRITE)
        wait_for_irq(_IRQ_CENTRAL_DISCONNECT)
        # 2: the peripheral starts the exchange.
        ble.config(mtu=150)
        ble.gap_advertise(20_000)
        multitest.broadcast("advertising")
        conn = wait_for_irq(_IRQ_CENTRAL_CONNECT)
        multitest.wait("connected")
        print("gattc_exchange_mtu")
        ble.gattc_exchange_mtu(conn)
        wait_for_irq(_IRQ_MTU_EXCHANGED)
        wait_for_irq(_IRQ_GATTS_WRITE)
        wait_for_irq(_IRQ_CENTRAL_DISCONNECT)
    finally:
        ble.active(0)


# Client (central).
def instance1():
    multitest.next()
    try:
        ble.config(mtu=100)
        ble.gap_connect(BDADDR[0], BDADDR[1], 5000)
        conn = wait_for_irq(_IRQ_PERIPHERAL_CONNECT)
        ble.gattc_discover_characteristics(conn, 1, 0xFFFF, CHAR_UUID)
        value_handle = wait_for_irq(_IRQ_GATTC_CHARACTERISTIC_RESULT)
        wait_for_irq(_IRQ_GATTC_CHARACTERISTIC_DONE)
        print("gattc_exchange_mtu")
        ble.gattc_exchange_mtu(conn)
        wait_for_irq(_IRQ_MTU_EXCHANGED)
        multitest.broadcast("ready")
        wait_for_irq(_IRQ_GATTC_NOTIFY)
        print("gattc_read")
        ble.gattc_read(conn, value_handle)
        wait_for_irq(_IRQ_GATTC_READ_DONE)
        print("gattc_write 120 bytes")
        ble.gattc_write(conn, value_handle, bytes(120), 1)
        wait_for_irq(_IRQ_GATTC_WRITE_DONE)
        ble.gap_disconnect(conn)
        wait_for_irq(_IRQ_PERIPHERAL_DISCONNECT)
        multitest.wait("advertising")
        ble.config(mtu=300)
        ble.gap_connect(BDADDR[0], BDADDR[1], 5000)
        conn = wait_for_irq(_IRQ_PERIPHERAL_CONNECT)
        multitest.broadcast("connected")
        wait_for_irq(_IRQ_MTU_EXCHANGED)
        print("gattc_write 200 bytes without response")
        ble.gattc_write(conn, value_handle, bytes(200))
        time.sleep_ms(300)
        ble.gap_disconnect(conn)
        wait_for_irq(_IRQ_PERIPHERAL_DISCONNECT)
    finally:
        ble.active(0)
