# CircuitPython PacketBuffer central: connect to the packet service, send numbered
# packets and print every answer (in the style of Adafruit's ble_packet_buffer_client.py).
import time

from adafruit_ble import BLERadio
from adafruit_ble.advertising.standard import ProvideServicesAdvertisement

from circuitpython_packet_service import PacketBufferService

ble = BLERadio()
buf = bytearray(128)
sent = 0

while True:
    while ble.connected and any(PacketBufferService in connection for connection in ble.connections):
        for connection in ble.connections:
            if PacketBufferService not in connection:
                continue
            pbs = connection[PacketBufferService]
            sent += 1
            pbs.write(b"ping %d" % sent)
            deadline = time.monotonic() + 1
            while time.monotonic() < deadline:
                packet_len = pbs.readinto(buf)
                if packet_len > 0:
                    print("answer", bytes(buf[:packet_len]))
                    break
        time.sleep(0.5)

    print("scanning")
    for advertisement in ble.start_scan(ProvideServicesAdvertisement, timeout=1):
        if PacketBufferService not in advertisement.services:
            continue
        ble.connect(advertisement)
        print("connected")
        break
    ble.stop_scan()
