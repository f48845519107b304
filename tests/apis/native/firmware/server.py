# A battery service peripheral written against the native device API.
import time

from blesim import UUID, Characteristic, Service, device

reads = []


def on_read(connection):
    reads.append(connection)
    return bytes([100 - len(reads)])


def on_write(connection, value):
    print("written", value.decode(), "as", connection.role)


battery = Characteristic(UUID(0x2A19), read=True, notify=True, value=b"\x64", on_read=on_read)
label = Characteristic("a1b2c3d4-0000-4000-8000-00805f9b34fb", write=True, read=True, on_write=on_write)
device.gatt.add_service(Service(0x180F, [battery, label]))
device.advertise(name="native-srv", services=[0x180F], interval_ms=40)
print("advertising as", device.address)
conn = device.wait_for_connection(timeout_ms=5000)
print("connected to", conn.peer_address, "as", conn.role)
device.wait_for(lambda: battery.subscribers, timeout_ms=5000)
for level in (90, 80, 70):
    device.notify(battery, bytes([level]))
    time.sleep_ms(100)
reason = conn.wait_disconnected(timeout_ms=10_000)
print("disconnected reason 0x%02X at %.3f" % (reason, time.monotonic()))
