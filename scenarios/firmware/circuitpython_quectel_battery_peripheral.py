# A CircuitPython Battery Service peripheral advertising as "Quectel_ble", the name the
# QuecPython example client looks for (used by circuitpython_quectel_client.yaml).
from adafruit_ble import BLERadio
from adafruit_ble.advertising.standard import ProvideServicesAdvertisement
from adafruit_ble.services.standard import BatteryService

ble = BLERadio()
battery = BatteryService()
battery.level = 64
advertisement = ProvideServicesAdvertisement(battery)
advertisement.complete_name = "Quectel_ble"

while True:
    ble.start_advertising(advertisement)
    while not ble.connected:
        pass
    print("connected")
    while ble.connected:
        pass
    print("disconnected")
