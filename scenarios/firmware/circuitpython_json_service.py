# A custom sensor service with JSON characteristics, shared by
# circuitpython_json_peripheral.py and circuitpython_json_central.py (in the style of
# Adafruit's ble_json_service.py). Both sides import this file: the peripheral builds the
# service, the central gets the remote one with connection[SensorService].
from adafruit_ble.characteristics import Characteristic
from adafruit_ble.characteristics.json import JSONCharacteristic
from adafruit_ble.services import Service
from adafruit_ble.uuid import VendorUUID


class SensorService(Service):
    """Readings as JSON; the client may change the unit through ``settings``."""

    uuid = VendorUUID("4a7f0001-8c1d-4b5e-9a3c-2f6e5d4c3b2a")
    settings = JSONCharacteristic(
        uuid=VendorUUID("4a7f0002-8c1d-4b5e-9a3c-2f6e5d4c3b2a"),
        properties=Characteristic.READ | Characteristic.WRITE,
    )
    measurement = JSONCharacteristic(
        uuid=VendorUUID("4a7f0003-8c1d-4b5e-9a3c-2f6e5d4c3b2a"),
        properties=Characteristic.READ | Characteristic.NOTIFY,
    )

    def __init__(self, service=None):
        super().__init__(service=service)
        if service is None:
            # Only the server sets the initial values.
            self.settings = {"unit": "celsius"}
            self.measurement = {}
