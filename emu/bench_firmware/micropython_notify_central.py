# mpy-notify: a MicroPython central counting the peripheral's notifications.
import bluetooth
import time

ble = bluetooth.BLE()
state = {"count": 0, "conn": None, "addr": None}


def irq(event, data):
    if event == 5 and state["addr"] is None:  # _IRQ_SCAN_RESULT
        addr_type, addr, adv_type, rssi, adv_data = data
        if b"notify" in bytes(adv_data):
            state["addr"] = (addr_type, bytes(addr))
            ble.gap_scan(None)
    elif event == 7:  # _IRQ_PERIPHERAL_CONNECT
        state["conn"] = data[0]
    elif event == 18:  # _IRQ_GATTC_NOTIFY
        state["count"] += 1


ble.irq(irq)
ble.active(True)
ble.gap_scan(2000, 30_000, 30_000)
while state["addr"] is None:
    time.sleep_ms(10)
time.sleep_ms(50)
ble.gap_connect(state["addr"][0], state["addr"][1], 2000)
while state["count"] < 1000:
    time.sleep_ms(100)
print("received", state["count"])
