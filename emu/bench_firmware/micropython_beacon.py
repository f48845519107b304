# scenario-crowd: a MicroPython beacon (gap_advertise, non-connectable, 100 ms).
import bluetooth
import machine

ble = bluetooth.BLE()
ble.active(True)
name = ble.config("mac")[1][-2:].hex()
payload = b"\x02\x01\x06" + bytes([len(name) + 1, 0x09]) + name.encode()
ble.gap_advertise(100_000, payload, connectable=False)
while True:
    machine.lightsleep(3_600_000)
