"""The ``blesim new --personality native`` starter: a peripheral and a central."""

STARTER: dict[str, str] = {
    "{name}.yaml": """\
# {name}: a native peripheral with a counter characteristic and a central that reads it.
name: {name}
seed: 1
duration: 5s
stop_when: expectations
nodes:
  - {name: peripheral, personality: native, firmware: firmware/peripheral.py, position: [0, 0]}
  - {name: central, personality: native, firmware: firmware/central.py, position: [2, 0]}
expect:
  - {node: central, output: "counter = \\\\d+"}
  - {no_errors: true}
""",
    "firmware/peripheral.py": """\
# A peripheral with one readable counter characteristic.
from blesim import Characteristic, Service, device

COUNTER = "12345678-1234-5678-1234-56789abcdef1"
reads = [0]


def on_read(connection):
    reads[0] += 1
    return reads[0].to_bytes(4, "little")


device.gatt.add_service(Service("12345678-1234-5678-1234-56789abcdef0",
                                [Characteristic(COUNTER, read=True, on_read=on_read)]))
device.advertise(name="{name}", interval_ms=100)
print("advertising as", device.address)
connection = device.wait_for_connection(timeout_ms=5000)
connection.wait_disconnected(timeout_ms=5000)
""",
    "firmware/central.py": """\
# A central that finds the peripheral by name and reads the counter three times.
from blesim import device

found = device.find(name="{name}", timeout_ms=3000)
connection = device.connect(found, timeout_ms=3000)
counter = connection.characteristic("12345678-1234-5678-1234-56789abcdef1")
for _ in range(3):
    print("counter =", int.from_bytes(connection.read(counter), "little"))
connection.disconnect()
""",
}
