# A central that finds the server, reads its battery level and takes notifications.
import time

import blesim
from blesim import UUID, device

result = None
for report in device.scan(duration_ms=3000, filter="native-srv"):
    result = report
    break
print("found", result.name, "services", [str(u) for u in result.services])
conn = device.connect(result, timeout_ms=3000)
print("connected as", conn.role)
battery = conn.characteristic(UUID(0x2A19))
print("battery", conn.read(battery)[0])
conn.write(conn.characteristic("a1b2c3d4-0000-4000-8000-00805f9b34fb"), b"kitchen")
got = []


def on_value(value):
    got.append(value[0])
    print("notified", value[0])


conn.subscribe(battery, on_value)
while len(got) < 3:
    time.sleep_ms(50)
try:
    conn.read(0x7777)
except blesim.GattError as exc:
    print("error", exc.name)
conn.disconnect()
print("done", got)
