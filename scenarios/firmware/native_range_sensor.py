# Peripheral of native_range.yaml: advertise, accept one connection, report its loss.
from blesim import device

device.advertise(name="walker", interval_ms=50)
conn = device.wait_for_connection(timeout_ms=5000)
print("connected")
reason = conn.wait_disconnected(timeout_ms=20_000)
print("lost the phone: reason 0x%02X" % reason)
