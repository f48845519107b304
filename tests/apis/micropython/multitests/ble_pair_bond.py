# Pairing and bonding (LE Secure Connections, Just Works): gap_pair from the central,
# _IRQ_ENCRYPTION_UPDATE on both sides (encrypted, not authenticated: with the default
# NoInputNoOutput io, mitm=True cannot be met; bonded; 16-byte key), a characteristic that
# needs encryption readable afterwards, keys kept through _IRQ_GET_SECRET/_IRQ_SET_SECRET,
# and a second connection encrypted again from the bond.
from micropython import const
import time, machine, bluetooth

TIMEOUT_MS = 5000

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_PERIPHERAL_CONNECT = const(7)
_IRQ_PERIPHERAL_DISCONNECT = const(8)
_IRQ_GATTC_CHARACTERISTIC_RESULT = const(11)
_IRQ_GATTC_CHARACTERISTIC_DONE = const(12)
_IRQ_GATTC_READ_RESULT = const(15)
_IRQ_GATTC_READ_DONE = const(16)
_IRQ_ENCRYPTION_UPDATE = const(28)
_IRQ_GET_SECRET = const(29)
_IRQ_SET_SECRET = const(30)

_FLAG_READ = const(0x0002)
_FLAG_READ_ENCRYPTED = const(0x0200)

SECRET_UUID = bluetooth.UUID("2f1e0002-7a6b-4c5d-9e8f-0a1b2c3d4e5f")
SERVICE = (bluetooth.UUID("2f1e0001-7a6b-4c5d-9e8f-0a1b2c3d4e5f"),
           ((SECRET_UUID, _FLAG_READ | _FLAG_READ_ENCRYPTED),))

pending = {}
secrets = {}


def irq(event, data):
    if event in (_IRQ_CENTRAL_CONNECT, _IRQ_CENTRAL_DISCONNECT, _IRQ_PERIPHERAL_CONNECT,
                 _IRQ_PERIPHERAL_DISCONNECT):
        pending[event] = data[0]
    elif event == _IRQ_ENCRYPTION_UPDATE:
        conn_handle, encrypted, authenticated, bonded, key_size = data
        print("_IRQ_ENCRYPTION_UPDATE", encrypted, authenticated, bonded, key_size)
        pending[event] = encrypted
    elif event == _IRQ_GET_SECRET:
        sec_type, index, key = data
        if key is None:
            matches = [v for (t, _), v in sorted(secrets.items()) if t == sec_type]
            return matches[index] if index < len(matches) else None
        return secrets.get((sec_type, bytes(key)))
    elif event == _IRQ_SET_SECRET:
        sec_type, key, value = data
        if value is None:
            secrets.pop((sec_type, bytes(key)), None)
        else:
            secrets[(sec_type, bytes(key))] = bytes(value)
        return True
    elif event == _IRQ_GATTC_CHARACTERISTIC_RESULT:
        pending[event] = data[2]
    elif event == _IRQ_GATTC_READ_RESULT:
        print("_IRQ_GATTC_READ_RESULT", bytes(data[2]))
    elif event in (_IRQ_GATTC_CHARACTERISTIC_DONE, _IRQ_GATTC_READ_DONE):
        pending[event] = data[-1]


def wait_for_irq(event, timeout_ms=TIMEOUT_MS):
    t0 = time.ticks_ms()
    while time.ticks_diff(time.ticks_ms(), t0) < timeout_ms:
        if event in pending:
            return pending.pop(event)
        machine.idle()
    raise ValueError("no event {} within {} ms".format(event, timeout_ms))


ble = bluetooth.BLE()
ble.config(bond=True, le_secure=True, mitm=True)
ble.active(1)
ble.irq(irq)


# Server.
def instance0():
    ((secret,),) = ble.gatts_register_services((SERVICE,))
    ble.gatts_write(secret, b"encrypted only")
    multitest.globals(BDADDR=ble.config("mac"))
    ble.gap_advertise(20_000, b"\x02\x01\x06\x04\x09MPY")
    multitest.next()
    try:
        for _ in range(2):
            wait_for_irq(_IRQ_CENTRAL_CONNECT)
            wait_for_irq(_IRQ_ENCRYPTION_UPDATE)
            wait_for_irq(_IRQ_CENTRAL_DISCONNECT)
            ble.gap_advertise(20_000)
            multitest.broadcast("advertising")
        print("keys stored:", len(secrets) > 0)
    finally:
        ble.active(0)


# Client.
def instance1():
    multitest.next()
    try:
        for round in range(2):
            print("connection", round + 1)
            ble.gap_connect(BDADDR[0], BDADDR[1], 5000)
            conn = wait_for_irq(_IRQ_PERIPHERAL_CONNECT)
            print("gap_pair")
            ble.gap_pair(conn)
            wait_for_irq(_IRQ_ENCRYPTION_UPDATE)
            ble.gattc_discover_characteristics(conn, 1, 0xFFFF, SECRET_UUID)
            value_handle = wait_for_irq(_IRQ_GATTC_CHARACTERISTIC_RESULT)
            wait_for_irq(_IRQ_GATTC_CHARACTERISTIC_DONE)
            ble.gattc_read(conn, value_handle)
            print("read done", wait_for_irq(_IRQ_GATTC_READ_DONE))
            ble.gap_disconnect(conn)
            wait_for_irq(_IRQ_PERIPHERAL_DISCONNECT)
            multitest.wait("advertising")
        print("keys stored:", len(secrets) > 0)
    finally:
        ble.active(0)
