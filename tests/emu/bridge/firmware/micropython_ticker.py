# Advertises as "ticker" and prints a tick every 100 ms: shows that the world runs on.
import time

import bluetooth

ble = bluetooth.BLE()
ble.active(True)
ble.gap_advertise(100_000, adv_data=b"\x02\x01\x06\x07\x09ticker")
n = 0
while True:
    n += 1
    print("tick", n)
    time.sleep_ms(100)
