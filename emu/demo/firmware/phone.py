# A phone app: find the sensor by its Battery service, read and subscribe.
from blesim import UUID, device

found = device.find(service=UUID(0x180F), timeout_ms=3000)
print("found", found.name, "at", found.address, "rssi", found.rssi)
conn = device.connect(found, timeout_ms=3000)
level = conn.characteristic(UUID(0x2A19))
print("battery level %d%%" % conn.read(level)[0])
values = []
conn.subscribe(level, lambda value: values.append(value[0]) or print("notified %d%%" % value[0]))
device.wait_for(lambda: len(values) >= 3, timeout_ms=5000)
conn.disconnect()
print("done")
