# A custom service whose single characteristic is used through _bleio.PacketBuffer,
# shared by circuitpython_packet_peripheral.py and circuitpython_packet_central.py (in the
# style of Adafruit's ble_packet_buffer_service.py).
import _bleio

from adafruit_ble.attributes import Attribute
from adafruit_ble.characteristics import Characteristic, ComplexCharacteristic
from adafruit_ble.services import Service
from adafruit_ble.uuid import VendorUUID


def packet_uuid(uuid16):
    """A vendor UUID on this example's base, with ``uuid16`` in octets 12-13."""
    return VendorUUID("0000%04x-6b6e-4c2e-a8f1-3d9c2b7e5a10" % uuid16)


class PacketBufferCharacteristic(ComplexCharacteristic):
    """Binds to a _bleio.PacketBuffer on both the server and the client side."""

    def __init__(self, *, uuid=None, buffer_size=4, max_packet_size=128):
        self.buffer_size = buffer_size
        self.max_packet_size = max_packet_size
        super().__init__(
            uuid=uuid,
            properties=Characteristic.WRITE_NO_RESPONSE | Characteristic.NOTIFY,
            read_perm=Attribute.OPEN,
            write_perm=Attribute.OPEN,
            max_length=max_packet_size,
        )

    def bind(self, service):
        bound_characteristic = super().bind(service)
        return _bleio.PacketBuffer(
            bound_characteristic, buffer_size=self.buffer_size, max_packet_size=self.max_packet_size
        )


class PacketBufferService(Service):
    """Packets in both directions over one characteristic."""

    uuid = packet_uuid(0x0001)
    packets = PacketBufferCharacteristic(uuid=packet_uuid(0x0101))

    def readinto(self, buf):
        """One waiting packet into ``buf``: its length, or 0 when none is waiting."""
        return self.packets.readinto(buf)

    def write(self, buf, *, header=None):
        """Send ``buf`` (after ``header``) as one packet."""
        return self.packets.write(buf, header=header)
