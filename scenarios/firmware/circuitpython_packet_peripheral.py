# CircuitPython PacketBuffer peripheral: answer every packet with the same bytes behind
# a b"re:" header (in the style of Adafruit's ble_packet_buffer_test.py).
from adafruit_ble import BLERadio
from adafruit_ble.advertising.standard import ProvideServicesAdvertisement

from circuitpython_packet_service import PacketBufferService

ble = BLERadio()
pbs = PacketBufferService()
advertisement = ProvideServicesAdvertisement(pbs)
buf = bytearray(128)

while True:
    ble.start_advertising(advertisement)
    while not ble.connected:
        pass
    while ble.connected:
        # readinto() returns 0 when no packet is waiting.
        packet_len = pbs.readinto(buf)
        if packet_len > 0:
            packet = bytes(buf[:packet_len])
            print("packet", packet)
            pbs.write(packet, header=b"re:")
