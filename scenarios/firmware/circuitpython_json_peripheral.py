# CircuitPython JSON sensor peripheral: publish a reading every second in the unit the
# client chose through the settings characteristic.
import time

from adafruit_ble import BLERadio
from adafruit_ble.advertising.standard import ProvideServicesAdvertisement

from circuitpython_json_service import SensorService

ble = BLERadio()
sensor = SensorService()
advertisement = ProvideServicesAdvertisement(sensor)
celsius = 20.0

while True:
    ble.start_advertising(advertisement)
    while not ble.connected:
        pass
    print("connected")
    while ble.connected:
        unit = sensor.settings["unit"]
        celsius += 0.5
        value = celsius if unit == "celsius" else celsius * 9 / 5 + 32
        sensor.measurement = {"temperature": value, "unit": unit}
        print("published", value, unit)
        time.sleep(1)
    print("disconnected")
