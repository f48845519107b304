# A MicroPython central for the QuecPython example server: it scans for "Quectel_ble",
# connects, discovers the Battery service (0x180F) and its level characteristic (0x2A19),
# reads it, and prints what the server notifies.
import bluetooth
import time
from micropython import const

_IRQ_SCAN_RESULT = const(5)
_IRQ_PERIPHERAL_CONNECT = const(7)
_IRQ_PERIPHERAL_DISCONNECT = const(8)
_IRQ_GATTC_SERVICE_RESULT = const(9)
_IRQ_GATTC_SERVICE_DONE = const(10)
_IRQ_GATTC_CHARACTERISTIC_RESULT = const(11)
_IRQ_GATTC_CHARACTERISTIC_DONE = const(12)
_IRQ_GATTC_READ_RESULT = const(15)
_IRQ_GATTC_NOTIFY = const(18)

TARGET = b"Quectel_ble"
BATTERY = bluetooth.UUID(0x180F)
LEVEL = bluetooth.UUID(0x2A19)
state = {"conn": None, "range": None, "value": None}


def adv_name(adv):
    i = 0
    while i + 1 < len(adv):
        length = adv[i]
        if length == 0:
            break
        if adv[i + 1] == 0x09:
            return bytes(adv[i + 2 : i + 1 + length])
        i += 1 + length
    return None


def irq(event, data):
    if event == _IRQ_SCAN_RESULT:
        addr_type, addr, adv_type, rssi, adv_data = data
        if state["conn"] is None and adv_name(adv_data) == TARGET:
            print("found", TARGET.decode(), "rssi", rssi)
            ble.gap_scan(None)
            ble.gap_connect(addr_type, bytes(addr))
            state["conn"] = "connecting"
    elif event == _IRQ_PERIPHERAL_CONNECT:
        conn_handle, addr_type, addr = data
        state["conn"] = conn_handle
        print("connected")
        ble.gattc_discover_services(conn_handle)
    elif event == _IRQ_GATTC_SERVICE_RESULT:
        conn_handle, start, end, uuid = data
        print("service", uuid, start, end)
        if uuid == BATTERY:
            state["range"] = (start, end)
    elif event == _IRQ_GATTC_SERVICE_DONE:
        start, end = state["range"]
        ble.gattc_discover_characteristics(state["conn"], start, end)
    elif event == _IRQ_GATTC_CHARACTERISTIC_RESULT:
        conn_handle, end_handle, value_handle, properties, uuid = data
        print("characteristic", uuid, value_handle, hex(properties))
        if uuid == LEVEL:
            state["value"] = value_handle
    elif event == _IRQ_GATTC_CHARACTERISTIC_DONE:
        ble.gattc_read(state["conn"], state["value"])
    elif event == _IRQ_GATTC_READ_RESULT:
        conn_handle, value_handle, char_data = data
        print("read", len(char_data), "octets")
    elif event == _IRQ_GATTC_NOTIFY:
        conn_handle, value_handle, notify_data = data
        print("notified", value_handle, bytes(notify_data))
    elif event == _IRQ_PERIPHERAL_DISCONNECT:
        print("disconnected")


ble = bluetooth.BLE()
ble.active(True)
ble.irq(irq)
ble.gap_scan(5000, 30000, 30000, True)
while True:
    time.sleep(1)
