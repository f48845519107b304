# A MicroPython board in the bundled demo: it scans passively and reports the sensor once.
import bluetooth
import time

_IRQ_SCAN_RESULT = 5
_IRQ_SCAN_DONE = 6

ble = bluetooth.BLE()
heard = []


def name_of(adv_data):
    i = 0
    while i + 1 < len(adv_data):
        length, kind = adv_data[i], adv_data[i + 1]
        if kind == 0x09:
            return bytes(adv_data[i + 2:i + 1 + length]).decode()
        i += 1 + length
    return None


def irq(event, data):
    if event == _IRQ_SCAN_RESULT:
        addr_type, addr, adv_type, rssi, adv_data = data
        if name_of(adv_data) == "sensor" and not heard:
            heard.append(rssi)
            print("micropython heard sensor rssi", rssi)
    elif event == _IRQ_SCAN_DONE:
        print("scan done")


ble.irq(irq)
ble.active(True)
ble.gap_scan(2000, 30000, 30000)
time.sleep(3)
