# A custom service whose characteristic can only be read over an encrypted link
# (read_perm=Attribute.ENCRYPT_NO_MITM), shared by circuitpython_secret_peripheral.py and
# circuitpython_secret_central.py.
from adafruit_ble.attributes import Attribute
from adafruit_ble.characteristics import Characteristic
from adafruit_ble.services import Service
from adafruit_ble.uuid import VendorUUID


class SecretService(Service):
    """One characteristic readable only after pairing."""

    uuid = VendorUUID("9e3c0001-7d2a-4f61-b0c4-5a8e1f2d3c4b")
    secret = Characteristic(
        uuid=VendorUUID("9e3c0002-7d2a-4f61-b0c4-5a8e1f2d3c4b"),
        properties=Characteristic.READ,
        read_perm=Attribute.ENCRYPT_NO_MITM,
        write_perm=Attribute.NO_ACCESS,
        initial_value=b"open sesame",
    )
