# CircuitPython central: read a characteristic that needs encryption, first without
# pairing (the board raises _bleio.SecurityError), then after Connection.pair().
import _bleio

from adafruit_ble import BLERadio
from adafruit_ble.advertising.standard import ProvideServicesAdvertisement

from circuitpython_secret_service import SecretService

ble = BLERadio()
connection = None
while connection is None:
    for advertisement in ble.start_scan(ProvideServicesAdvertisement, timeout=5):
        if SecretService in advertisement.services:
            connection = ble.connect(advertisement)
            break
    ble.stop_scan()
print("connected, paired:", connection.paired)

vault = connection[SecretService]
try:
    print("secret:", bytes(vault.secret))
except _bleio.SecurityError as error:
    print("before pairing:", type(error).__name__, error)

connection.pair()
print("paired:", connection.paired)
print("secret:", bytes(vault.secret))
connection.disconnect()
