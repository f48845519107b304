# mpy-notify, the same workload through the Python device API (native personality).
import time

from blesim import UUID, device

result = None
for report in device.scan(duration_ms=2000, filter="notify"):
    result = report
    break
conn = device.connect(result, timeout_ms=3000)
got = []
conn.subscribe(conn.characteristic(UUID(0x2A6E)), lambda value: got.append(value))
while len(got) < 1000:
    time.sleep_ms(100)
print("received", len(got))
