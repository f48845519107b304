# mpy-notify, the same workload through the Python device API (native personality).
import struct
import time

from blesim import UUID, Characteristic, Service, device

counter = Characteristic(UUID(0x2A6E), read=True, notify=True, value=b"\x00\x00\x00\x00")
device.gatt.add_service(Service(0x181C, [counter]))
device.advertise(name="notify", interval_ms=20)
conn = device.wait_for_connection(timeout_ms=10_000)
device.wait_for(lambda: counter.subscribers, timeout_ms=10_000)
for i in range(1000):
    device.notify(counter, struct.pack("<I", i), conn)
    time.sleep_ms(8)
print("sent 1000")
