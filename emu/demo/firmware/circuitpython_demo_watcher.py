# A CircuitPython watcher for the bundled demo: it scans with adafruit_ble for devices that
# provide the Battery Service and reports each one once, with its name and signal strength.
# It scans passively (no scan requests), so it never gets in the way of the phone.
from adafruit_ble import BLERadio
from adafruit_ble.advertising.standard import ProvideServicesAdvertisement
from adafruit_ble.services.standard import BatteryService

ble = BLERadio()
heard = set()
while True:
    for advertisement in ble.start_scan(ProvideServicesAdvertisement, active=False, timeout=1):
        if BatteryService in advertisement.services and advertisement.address not in heard:
            heard.add(advertisement.address)
            print("circuitpython heard", advertisement.complete_name, "rssi", advertisement.rssi)
    ble.stop_scan()
