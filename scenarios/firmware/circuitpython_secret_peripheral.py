# CircuitPython peripheral with an ENCRYPT_NO_MITM characteristic: it waits for a
# central, reports when the link gets paired, and advertises again after a disconnect.
from adafruit_ble import BLERadio
from adafruit_ble.advertising.standard import ProvideServicesAdvertisement

from circuitpython_secret_service import SecretService

ble = BLERadio()
vault = SecretService()
advertisement = ProvideServicesAdvertisement(vault)

while True:
    ble.start_advertising(advertisement)
    while not ble.connected:
        pass
    print("connected")
    reported = False
    while ble.connected:
        connections = ble.connections
        if not reported and connections and connections[0].paired:
            print("link paired")
            reported = True
    print("disconnected")
