"""Behaviours of /work/shared/reference/circuitpython.md that no other test pinned down.

Each test names the reference item it checks; each runs real CircuitPython firmware on
simulated nodes and would fail if the behaviour were missing or different.
"""

from __future__ import annotations

from pathlib import Path

from host.events import Connected

from .rig import run_world
from .test_adapter import ATTEMPT

C = "_bleio.Characteristic"


def test_set_cccd_on_a_fresh_local_characteristic_is_a_role_error(tmp_path: Path) -> None:
    # shared-bindings set_cccd: "No CCCD" first, then RoleError for a local characteristic;
    # a NOTIFY/INDICATE characteristic has its CCCD from add_to_service on, before any
    # value access or advertising registers the service.
    world = run_world(tmp_path, {"board": ATTEMPT + f"""
svc = _bleio.Service(_bleio.UUID(0x1234))
notify = {C}.add_to_service(svc, _bleio.UUID(0x2A01), properties={C}.NOTIFY)
indicate = {C}.add_to_service(svc, _bleio.UUID(0x2A02), properties={C}.INDICATE)
plain = {C}.add_to_service(svc, _bleio.UUID(0x2A03), properties={C}.READ)
attempt("notify", lambda: notify.set_cccd(notify=True))
attempt("indicate", lambda: indicate.set_cccd(indicate=True))
attempt("plain", lambda: plain.set_cccd(notify=True))
"""}, duration="1s")
    assert world.output("board") == [
        "notify RoleError Can't set CCCD on local Characteristic",
        "indicate RoleError Can't set CCCD on local Characteristic",
        "plain BluetoothError No CCCD for this Characteristic",
    ]


def test_initial_value_none_is_empty_unless_fixed(tmp_path: Path) -> None:
    # add_to_service: zeros only when fixed_length and max_length > 0, otherwise b"".
    world = run_world(tmp_path, {"board": ATTEMPT + f"""
svc = _bleio.Service(_bleio.UUID(0x1234))
free = {C}.add_to_service(svc, _bleio.UUID(0x2A01), properties={C}.READ, max_length=8)
fixed0 = {C}.add_to_service(svc, _bleio.UUID(0x2A02), properties={C}.READ, max_length=0, fixed_length=True)
fixed3 = {C}.add_to_service(svc, _bleio.UUID(0x2A03), properties={C}.READ, max_length=3, fixed_length=True)
print(free.value, fixed0.value, fixed3.value)
"""}, duration="1s")
    assert world.output("board") == ["bytearray(b'') bytearray(b'') bytearray(b'\\x00\\x00\\x00')"]


def test_ble_name_from_settings_toml(tmp_path: Path) -> None:
    # bleio_adapter_reset_name: CIRCUITPY_BLE_NAME (a string read into a 32-octet buffer)
    # when the adapter is enabled at boot or again; otherwise CIRCUITPY + 4 hex digits.
    world = run_world(tmp_path, {"board": ATTEMPT + """
import os
import microcontroller

def settings(text):
    with open("/settings.toml", "w") as handle:
        handle.write(text)

def toggle():
    adapter.enabled = False
    adapter.enabled = True
    return adapter.name

if "marker" not in os.listdir("/"):
    print("first boot", adapter.name)
    settings('CIRCUITPY_BLE_NAME = "from-settings"\\n')
    print("toggled", toggle())
    settings('CIRCUITPY_BLE_NAME = "' + "x" * 32 + '"\\n')
    print("too long", toggle())
    settings('CIRCUITPY_BLE_NAME = 42\\n')
    print("not a string", toggle())
    settings('CIRCUITPY_BLE_NAME = "' + "y" * 31 + '"\\n')
    with open("/marker", "w") as handle:
        handle.write("1")
    microcontroller.reset()
print("second boot", adapter.name)
"""}, duration="2s")
    value = world.host("board").address.value
    default = f"CIRCUITPY{value[1]:02x}{value[0]:02x}"
    assert world.output("board") == [
        f"first boot {default}",
        "toggled from-settings",
        f"too long {default}",
        f"not a string {default}",
        "second boot " + "y" * 31,
    ]
    server = world.host("board").gatt_server
    assert server.get_value(server.gap_handles.device_name) == b"y" * 31


def test_scan_timeout_limit(tmp_path: Path) -> None:
    # Nordic start_scan: the timeout in 10 ms units must fit 16 bits.
    world = run_world(tmp_path, {"scanner": ATTEMPT + """
attempt("656", lambda: adapter.start_scan(timeout=656))
attempt("655.35", lambda: adapter.start_scan(timeout=655.35))
adapter.stop_scan()
"""}, duration="1s")
    assert world.output("scanner") == ["656 ValueError timeout must be < 655.35 secs", "655.35 ok"]


ADVERTISER = ATTEMPT + """
adapter.start_advertising(b"\\x02\\x01\\x06\\x05\\x09beep", interval=0.02, connectable=False)
while True:
    time.sleep(1)
"""


def test_no_duplicate_filtering(tmp_path: Path) -> None:
    # CircuitPython re-arms the SoftDevice scan after every report: one advertiser is seen
    # again and again (about once per advertising event on the scanned channel).
    world = run_world(tmp_path, {"adv": ADVERTISER, "scanner": ATTEMPT + """
time.sleep(0.1)
entries = [e for e in adapter.start_scan(timeout=1, buffer_size=4096) if e.matches(b"\\x01\\x09")]
print("entries", len(entries), len(set(e.address for e in entries)))
"""}, duration="2s")
    count, addresses = world.output("scanner")[0].split()[1:]
    assert addresses == "1"
    assert int(count) >= 10


def test_connect_stops_a_scan_in_progress(tmp_path: Path) -> None:
    # README: connecting stops a scan in progress (the SoftDevice does), so the iterator
    # ends and a new scan may start without stop_scan.
    world = run_world(tmp_path, {"adv": ATTEMPT + """
adapter.start_advertising(b"\\x02\\x01\\x06\\x05\\x09beep")
while True:
    time.sleep(1)
""", "central": ATTEMPT + """
time.sleep(0.1)
results = adapter.start_scan(prefixes=b"\\x01\\x09")
entry = next(results)
connection = adapter.connect(entry.address, timeout=2)
print("connected", connection.connected)
print("left over", len(list(results)))
attempt("scan again", lambda: adapter.start_scan(timeout=0.1))
"""}, duration="3s")
    out = world.output("central")
    assert out[0] == "connected True"
    assert out[1].startswith("left over ")
    assert out[2] == "scan again ok"


def test_remote_write_waits_only_for_the_previous_request(tmp_path: Path) -> None:
    # bleio_gattc_write: a Write Request is sent without waiting for its response; the
    # next write waits while that request is still busy.
    server = ATTEMPT + f"""
svc = _bleio.Service(_bleio.UUID(0x1111))
char = {C}.add_to_service(svc, _bleio.UUID(0x2222), properties={C}.READ | {C}.WRITE)
adapter.start_advertising(b"\\x02\\x01\\x06\\x05\\x09serv")
while True:
    time.sleep(1)
"""
    client = ATTEMPT + """
time.sleep(0.05)
for entry in adapter.start_scan(prefixes=b"\\x01\\x09", timeout=2):
    break
adapter.stop_scan()
conn = adapter.connect(entry.address, timeout=3)
(svc,) = conn.discover_remote_services((_bleio.UUID(0x1111),))
(char,) = svc.characteristics
t0 = time.monotonic_ns()
char.value = b"one"
t1 = time.monotonic_ns()
char.value = b"two"
t2 = time.monotonic_ns()
print("first returned after", t1 - t0)
print("second waited", t2 - t1 > 0)
print("value", char.value)
"""
    world = run_world(tmp_path, {"serv": server, "cli": client}, duration="3s")
    assert world.output("cli") == [
        "first returned after 0",
        "second waited True",
        "value bytearray(b'two')",
    ]


def test_polled_state_properties_cost_simulated_time(tmp_path: Path) -> None:
    # Busy loops read adapter.advertising and Connection.connected too: each read must
    # let simulated time advance (1 ms), as adapter.connected and in_waiting do.
    world = run_world(tmp_path, {"periph": ATTEMPT + """
adapter.start_advertising(b"\\x02\\x01\\x06\\x05\\x09serv")
t0 = time.monotonic_ns()
adapter.advertising
print("advertising costs", time.monotonic_ns() - t0)
while not adapter.connected:
    pass
conn = adapter.connections[0]
t0 = time.monotonic_ns()
conn.connected
print("connected costs", time.monotonic_ns() - t0)
""", "central": ATTEMPT + """
for entry in adapter.start_scan(prefixes=b"\\x01\\x09", timeout=2):
    break
adapter.stop_scan()
adapter.connect(entry.address, timeout=2)
while True:
    time.sleep(1)
"""}, duration="2s")
    assert world.output("periph") == ["advertising costs 1000000", "connected costs 1000000"]
    assert [e.role for _, e in world.events_of("periph", Connected)] == ["peripheral"]


def test_peripheral_asks_for_its_preferred_parameters(tmp_path: Path) -> None:
    # adapter_on_ble_evt (BLE_GAP_EVT_CONNECTED): when the central's interval is not the
    # preferred one, the peripheral sends its ppcp as they are: 30 ms, latency 0, 4 s
    # supervision timeout (not the central's 6 s).
    from host.events import ConnectionParameterRequest

    world = run_world(tmp_path, {
        "periph": ATTEMPT + """
adapter.start_advertising(b"\\x02\\x01\\x06\\x05\\x09serv")
while True:
    time.sleep(1)
""",
        "phone": """
from blesim import device
found = device.find(name="serv", timeout_ms=3000)
conn = device.connect(found, interval_ms=50, supervision_timeout_ms=6000)
device.sleep(1)
""",
    }, duration="2s", personalities={"phone": "native"})
    requests = [e for _, e in world.events_of("phone", ConnectionParameterRequest)]
    assert requests, "the CircuitPython peripheral asked for nothing"
    first = requests[0]
    assert (first.interval_min_ns, first.interval_max_ns, first.latency, first.supervision_timeout_ns) == (
        30_000_000, 30_000_000, 0, 4_000_000_000)
