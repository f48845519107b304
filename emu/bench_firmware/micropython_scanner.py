# scenario-crowd: a MicroPython scanner printing every advertisement it receives.
import bluetooth
import time

ble = bluetooth.BLE()


def irq(event, data):
    if event == 5:  # _IRQ_SCAN_RESULT
        addr_type, addr, adv_type, rssi, adv_data = data
        print(bytes(addr).hex(), rssi)


ble.irq(irq)
ble.active(True)
ble.gap_scan(0, 30_000, 30_000)
while True:
    time.sleep(3600)
