# A MicroPython peripheral with the Battery service (0x180F, level 0x2A19 read | notify),
# named "Quectel_ble" like the QuecPython example server, so that the QuecPython example
# client finds it. It notifies the level every second while a central is connected.
import bluetooth
import time
from micropython import const

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)

NAME = b"Quectel_ble"
BATTERY = (
    bluetooth.UUID(0x180F),
    ((bluetooth.UUID(0x2A19), bluetooth.FLAG_READ | bluetooth.FLAG_NOTIFY),),
)

ble = bluetooth.BLE()
ble.active(True)
((level,),) = ble.gatts_register_services((BATTERY,))
ble.gatts_write(level, bytes([87]))
centrals = set()


def irq(event, data):
    if event == _IRQ_CENTRAL_CONNECT:
        conn_handle, addr_type, addr = data
        centrals.add(conn_handle)
        print("central connected")
    elif event == _IRQ_CENTRAL_DISCONNECT:
        conn_handle, addr_type, addr = data
        centrals.discard(conn_handle)
        print("central disconnected")


ble.irq(irq)
name = bytes([len(NAME) + 1, 0x09]) + NAME
ble.gap_advertise(100_000, adv_data=bytes([0x02, 0x01, 0x06]) + name, resp_data=name)
print("advertising", NAME.decode())
value = 87
while True:
    time.sleep(1)
    if centrals:
        value -= 1
        ble.gatts_write(level, bytes([value]))
        for conn_handle in centrals:
            ble.gatts_notify(conn_handle, level)
