# Central of native_range.yaml: connect with a 2 s supervision timeout and wait.
from blesim import device

found = device.find(name="walker", timeout_ms=3000)
conn = device.connect(found, timeout_ms=3000, interval_ms=50, supervision_timeout_ms=2000)
print("connected")
reason = conn.wait_disconnected(timeout_ms=20_000)
print("lost the sensor: reason 0x%02X" % reason)
