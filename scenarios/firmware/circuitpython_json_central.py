# CircuitPython JSON sensor central: find the sensor service by scanning, read the JSON
# measurement every second, and switch the sensor to Fahrenheit after three readings.
import time

from adafruit_ble import BLERadio
from adafruit_ble.advertising.standard import ProvideServicesAdvertisement

from circuitpython_json_service import SensorService

ble = BLERadio()
connection = None

while True:
    if not connection:
        print("scanning")
        for advertisement in ble.start_scan(ProvideServicesAdvertisement, timeout=5):
            if SensorService in advertisement.services:
                connection = ble.connect(advertisement)
                print("connected")
                break
        ble.stop_scan()

    if connection and connection.connected:
        sensor = connection[SensorService]
        readings = 0
        while connection.connected:
            measurement = sensor.measurement
            print("measurement", measurement)
            readings += 1
            if readings == 3:
                sensor.settings = {"unit": "fahrenheit"}
                print("asked for fahrenheit")
            time.sleep(1)
        connection = None
