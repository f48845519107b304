# A CircuitPython peripheral providing the standard Battery Service, advertised under the
# name "battery" with a ProvideServicesAdvertisement.
from adafruit_ble import BLERadio
from adafruit_ble.advertising.standard import ProvideServicesAdvertisement
from adafruit_ble.services.standard import BatteryService

ble = BLERadio()
battery = BatteryService()
battery.level = 87
advertisement = ProvideServicesAdvertisement(battery)
advertisement.complete_name = "battery"

while True:
    ble.start_advertising(advertisement)
    while not ble.connected:
        pass
    print("connected")
    while ble.connected:
        pass
    print("disconnected")
