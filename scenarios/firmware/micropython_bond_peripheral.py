# A MicroPython peripheral that bonds and keeps its bond secrets in a file, as
# MicroPython's examples/bluetooth/ble_bonding_peripheral.py does: NimBLE's persistent
# store is the firmware, so the stack asks the IRQ handler for a peer's keys when it needs
# them (_IRQ_GET_SECRET) and hands it every change (_IRQ_SET_SECRET). Its characteristic
# can be read only over an encrypted link. When its first central leaves it reboots
# (machine.reset(): RAM and the BLE stack are gone, the filesystem stays); the bond comes
# back from secrets.json, so the returning central re-encrypts without pairing again.

import binascii
import json
import os

import bluetooth
import machine
from micropython import const

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_ENCRYPTION_UPDATE = const(28)
_IRQ_GET_SECRET = const(29)
_IRQ_SET_SECRET = const(30)

_FLAG_READ = const(0x0002)
_FLAG_READ_ENCRYPTED = const(0x0200)

_SECRET_TYPE_PEER = const(2)
_SECRETS_FILE = "secrets.json"
_REBOOTED_FILE = "rebooted"

_SERVICE_UUID = bluetooth.UUID("6e400001-0b0b-4c1d-a2c3-1e5bd0f0b0d0")
_SECRET_UUID = bluetooth.UUID("6e400002-0b0b-4c1d-a2c3-1e5bd0f0b0d0")
_SERVICE = (_SERVICE_UUID, ((_SECRET_UUID, _FLAG_READ | _FLAG_READ_ENCRYPTED),))

# (sec_type, key bytes) -> value bytes
secrets = {}


def load_secrets():
    try:
        with open(_SECRETS_FILE, "r") as f:
            entries = json.load(f)
    except OSError:
        return
    for sec_type, key, value in entries:
        secrets[(sec_type, binascii.a2b_base64(key))] = binascii.a2b_base64(value)


def save_secrets():
    with open(_SECRETS_FILE, "w") as f:
        json.dump(
            [(t, binascii.b2a_base64(k).decode(), binascii.b2a_base64(v).decode()) for (t, k), v in secrets.items()],
            f,
        )


def rebooted_before():
    return _REBOOTED_FILE in os.listdir()


def irq(event, data):
    if event == _IRQ_CENTRAL_CONNECT:
        print("central connected")
    elif event == _IRQ_CENTRAL_DISCONNECT:
        print("central disconnected")
        if not rebooted_before():
            with open(_REBOOTED_FILE, "w") as f:
                f.write("1")
            print("rebooting")
            machine.reset()
        else:
            advertise()
    elif event == _IRQ_ENCRYPTION_UPDATE:
        _, encrypted, authenticated, bonded, key_size = data
        print("encrypted:", encrypted, "bonded:", bonded, "key size:", key_size)
    elif event == _IRQ_GET_SECRET:
        sec_type, index, key = data
        if key is None:
            found = [v for (t, _), v in sorted(secrets.items()) if t == sec_type]
            return found[index] if index < len(found) else None
        return secrets.get((sec_type, bytes(key)))
    elif event == _IRQ_SET_SECRET:
        sec_type, key, value = data
        key = bytes(key)
        if value is None:
            secrets.pop((sec_type, key), None)
        else:
            secrets[(sec_type, key)] = bytes(value)
            if sec_type == _SECRET_TYPE_PEER:
                print("peer bond saved")
        save_secrets()
        return True
    return None


def advertise():
    name = b"mpy-bond"
    ble.gap_advertise(100_000, b"\x02\x01\x06" + bytes((len(name) + 1, 0x09)) + name)


load_secrets()
print("secrets loaded:", len(secrets))
ble = bluetooth.BLE()
ble.irq(irq)
ble.active(True)
ble.config(bond=True, le_secure=True, mitm=False, io=3)
((secret_handle,),) = ble.gatts_register_services((_SERVICE,))
ble.gatts_write(secret_handle, b"encrypted only")
advertise()
