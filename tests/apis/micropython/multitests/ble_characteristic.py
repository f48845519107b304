# A characteristic read, written (with and without response), notified and indicated;
# _IRQ_GATTS_READ_REQUEST for every remote read (its return value denies one, seen as
# ATT error 0x100+2), and for the local read of a data-less gatts_indicate (conn 65535);
# a 25-byte write stored as 20 bytes (the default value buffer).
from micropython import const
import time, machine, bluetooth

TIMEOUT_MS = 5000

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_GATTS_WRITE = const(3)
_IRQ_GATTS_READ_REQUEST = const(4)
_IRQ_PERIPHERAL_CONNECT = const(7)
_IRQ_PERIPHERAL_DISCONNECT = const(8)
_IRQ_GATTC_SERVICE_RESULT = const(9)
_IRQ_GATTC_SERVICE_DONE = const(10)
_IRQ_GATTC_CHARACTERISTIC_RESULT = const(11)
_IRQ_GATTC_CHARACTERISTIC_DONE = const(12)
_IRQ_GATTC_READ_RESULT = const(15)
_IRQ_GATTC_READ_DONE = const(16)
_IRQ_GATTC_WRITE_DONE = const(17)
_IRQ_GATTC_NOTIFY = const(18)
_IRQ_GATTC_INDICATE = const(19)
_IRQ_GATTS_INDICATE_DONE = const(20)

_FLAG_READ = const(0x0002)
_FLAG_WRITE = const(0x0008)
_FLAG_NOTIFY = const(0x0010)
_FLAG_INDICATE = const(0x0020)
_GATTS_ERROR_READ_NOT_PERMITTED = const(0x02)

SERVICE_UUID = bluetooth.UUID("0b5e7c2a-1d4f-4e8a-9c3b-7f6d5e4c3b2a")
CHAR_UUID = bluetooth.UUID("0b5e7c2b-1d4f-4e8a-9c3b-7f6d5e4c3b2a")
CHAR = (CHAR_UUID, _FLAG_READ | _FLAG_WRITE | _FLAG_NOTIFY | _FLAG_INDICATE)
SERVICE = (SERVICE_UUID, (CHAR,))

pending = {}
deny_reads = 0


def irq(event, data):
    if event == _IRQ_CENTRAL_CONNECT:
        print("_IRQ_CENTRAL_CONNECT")
        pending[event] = data[0]
    elif event == _IRQ_CENTRAL_DISCONNECT:
        print("_IRQ_CENTRAL_DISCONNECT")
        pending[event] = data[0]
    elif event == _IRQ_GATTS_WRITE:
        conn_handle, attr_handle = data
        print("_IRQ_GATTS_WRITE", ble.gatts_read(attr_handle))
        pending[event] = attr_handle
    elif event == _IRQ_GATTS_READ_REQUEST:
        conn_handle, attr_handle = data
        print("_IRQ_GATTS_READ_REQUEST", "local" if conn_handle == 0xFFFF else "remote")
        return deny_reads
    elif event == _IRQ_PERIPHERAL_CONNECT:
        print("_IRQ_PERIPHERAL_CONNECT")
        pending[event] = data[0]
    elif event == _IRQ_PERIPHERAL_DISCONNECT:
        print("_IRQ_PERIPHERAL_DISCONNECT")
        pending[event] = data[0]
    elif event == _IRQ_GATTC_SERVICE_RESULT:
        conn_handle, start_handle, end_handle, uuid = data
        print("_IRQ_GATTC_SERVICE_RESULT", uuid)
        pending[event] = (start_handle, end_handle)
    elif event == _IRQ_GATTC_CHARACTERISTIC_RESULT:
        conn_handle, end_handle, value_handle, properties, uuid = data
        print("_IRQ_GATTC_CHARACTERISTIC_RESULT", uuid, properties)
        pending[event] = value_handle
    elif event in (_IRQ_GATTC_SERVICE_DONE, _IRQ_GATTC_CHARACTERISTIC_DONE):
        print("_IRQ_GATTC_SERVICE_DONE" if event == _IRQ_GATTC_SERVICE_DONE else "_IRQ_GATTC_CHARACTERISTIC_DONE",
              data[-1])
        pending[event] = data[-1]
    elif event == _IRQ_GATTC_READ_RESULT:
        print("_IRQ_GATTC_READ_RESULT", bytes(data[-1]))
    elif event == _IRQ_GATTC_READ_DONE:
        print("_IRQ_GATTC_READ_DONE", data[-1])
        pending[event] = data[-1]
    elif event == _IRQ_GATTC_WRITE_DONE:
        print("_IRQ_GATTC_WRITE_DONE", data[-1])
        pending[event] = data[-1]
    elif event == _IRQ_GATTC_NOTIFY:
        print("_IRQ_GATTC_NOTIFY", bytes(data[-1]))
        pending[event] = True
    elif event == _IRQ_GATTC_INDICATE:
        print("_IRQ_GATTC_INDICATE", bytes(data[-1]))
        pending[event] = True
    elif event == _IRQ_GATTS_INDICATE_DONE:
        print("_IRQ_GATTS_INDICATE_DONE", data[-1])
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
    global deny_reads
    ((char_handle,),) = ble.gatts_register_services((SERVICE,))
    print("value handle", char_handle)
    ble.gatts_write(char_handle, b"periph0")
    multitest.globals(BDADDR=ble.config("mac"))
    ble.gap_advertise(20_000, b"\x02\x01\x06\x04\x09MPY")
    multitest.next()
    try:
        conn_handle = wait_for_irq(_IRQ_CENTRAL_CONNECT)
        wait_for_irq(_IRQ_GATTS_WRITE)
        multitest.wait("client ready")
        print("gatts_notify")
        ble.gatts_notify(conn_handle, char_handle, b"periph1")
        multitest.wait("got notify")
        print("gatts_read", ble.gatts_read(char_handle))
        ble.gatts_write(char_handle, b"periph2")
        print("gatts_indicate")
        ble.gatts_indicate(conn_handle, char_handle)
        wait_for_irq(_IRQ_GATTS_INDICATE_DONE)
        multitest.broadcast("indicated")
        wait_for_irq(_IRQ_GATTS_WRITE)
        deny_reads = _GATTS_ERROR_READ_NOT_PERMITTED
        multitest.broadcast("reads denied")
        wait_for_irq(_IRQ_GATTS_WRITE)
        wait_for_irq(_IRQ_CENTRAL_DISCONNECT)
    finally:
        ble.active(0)


# Client.
def instance1():
    multitest.next()
    try:
        print("gap_connect")
        ble.gap_connect(BDADDR[0], BDADDR[1], 5000)
        conn_handle = wait_for_irq(_IRQ_PERIPHERAL_CONNECT)
        ble.gattc_discover_services(conn_handle, SERVICE_UUID)
        start_handle, end_handle = wait_for_irq(_IRQ_GATTC_SERVICE_RESULT)
        wait_for_irq(_IRQ_GATTC_SERVICE_DONE)
        ble.gattc_discover_characteristics(conn_handle, start_handle, end_handle)
        value_handle = wait_for_irq(_IRQ_GATTC_CHARACTERISTIC_RESULT)
        wait_for_irq(_IRQ_GATTC_CHARACTERISTIC_DONE)
        print("gattc_read")
        ble.gattc_read(conn_handle, value_handle)
        wait_for_irq(_IRQ_GATTC_READ_DONE)
        print("gattc_write")
        ble.gattc_write(conn_handle, value_handle, b"central0", 1)
        wait_for_irq(_IRQ_GATTC_WRITE_DONE)
        multitest.broadcast("client ready")
        wait_for_irq(_IRQ_GATTC_NOTIFY)
        multitest.broadcast("got notify")
        wait_for_irq(_IRQ_GATTC_INDICATE)
        multitest.wait("indicated")
        print("gattc_write without response")
        ble.gattc_write(conn_handle, value_handle, b"central1")
        multitest.wait("reads denied")
        print("gattc_read")
        ble.gattc_read(conn_handle, value_handle)
        wait_for_irq(_IRQ_GATTC_READ_DONE)
        print("gattc_write 25 bytes")
        ble.gattc_write(conn_handle, value_handle, b"abcdefghijklmnopqrstuvwxy", 1)
        wait_for_irq(_IRQ_GATTC_WRITE_DONE)
        print("gap_disconnect:", ble.gap_disconnect(conn_handle))
        wait_for_irq(_IRQ_PERIPHERAL_DISCONNECT)
    finally:
        ble.active(0)
