# mpy-notify: a MicroPython peripheral notifying a counter 1000 times, one every 8 ms.
import bluetooth
import struct
import time

ble = bluetooth.BLE()
ble.active(True)
connected = []


def irq(event, data):
    if event == 1:  # _IRQ_CENTRAL_CONNECT
        connected.append(data[0])


ble.irq(irq)
((counter,),) = ble.gatts_register_services(
    ((bluetooth.UUID(0x181C), ((bluetooth.UUID(0x2A6E), bluetooth.FLAG_READ | bluetooth.FLAG_NOTIFY),)),))
ble.gap_advertise(20_000, b"\x02\x01\x06\x07\x09notify")
while not connected:
    time.sleep_ms(5)
time.sleep_ms(500)
for i in range(1000):
    ble.gatts_notify(connected[0], counter, struct.pack("<I", i))
    time.sleep_ms(8)
print("sent 1000")
