# A battery sensor: Battery service (0x180F) with a readable, notifiable level (0x2A19).
import time

from blesim import UUID, Characteristic, Service, device

level = Characteristic(UUID(0x2A19), read=True, notify=True, value=bytes([87]))
device.gatt.add_service(Service(UUID(0x180F), [level]))
device.advertise(name="sensor", services=[UUID(0x180F)], interval_ms=100)
print("advertising as", device.address)
conn = device.wait_for_connection(timeout_ms=5000)
print("connected to", conn.peer_address)
device.wait_for(lambda: level.subscribers, timeout_ms=5000)
for value in (86, 85, 84):
    time.sleep(0.5)
    level.value = bytes([value])
    device.notify(level, bytes([value]))
    print("notified", value)
conn.wait_disconnected(timeout_ms=5000)
print("phone left")
