# A CircuitPython central that scans with ProvideServicesAdvertisement, reports every
# advertiser it sees, picks the one that provides the Battery Service, connects and
# reads the battery level.
from adafruit_ble import BLERadio
from adafruit_ble.advertising.standard import ProvideServicesAdvertisement
from adafruit_ble.services.nordic import UARTService
from adafruit_ble.services.standard import BatteryService

ble = BLERadio()
found = None
seen = set()
for advertisement in ble.start_scan(ProvideServicesAdvertisement, timeout=10):
    if advertisement.address not in seen:
        seen.add(advertisement.address)
        kinds = []
        if UARTService in advertisement.services:
            kinds.append("uart")
        if BatteryService in advertisement.services:
            kinds.append("battery")
        print("saw", advertisement.complete_name, "providing", ",".join(kinds))
    if BatteryService in advertisement.services:
        found = advertisement
        break
ble.stop_scan()

print("found", found.complete_name)
connection = ble.connect(found)
battery = connection[BatteryService]
print("battery level", battery.level)
connection.disconnect()
