"""``_bleio.adapter``, ``ScanEntry``, ``ScanResults`` in real worlds (and prefix matching)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apis.circuitpython.adapter import data_matches
from host.events import AdvertisingStarted, AdvertisingStopped, Connected

from .rig import UART_PERIPHERAL, run_world

ATTEMPT = """
import _bleio
import time

def attempt(label, fn):
    try:
        fn()
        print(label, "ok")
    except Exception as error:
        print(label, type(error).__name__, error)

adapter = _bleio.adapter
"""


# -- prefix matching (shared-module/_bleio/ScanEntry.c) ----------------------------------------

FLAGS = bytes.fromhex("020106")
NAME = bytes.fromhex("0509") + b"test"
#: AdafruitColor's manufacturer data (company 0x0822), as adafruit_ble builds it.
COLOR = bytes.fromhex("0aff2208060000") + bytes.fromhex("00ff0000")


def test_empty_prefixes_match_everything() -> None:
    assert data_matches(b"", b"", True) and data_matches(FLAGS, b"", False)


def test_prefixes_never_match_empty_data() -> None:
    assert not data_matches(b"", b"\x01\x09", True)


def test_prefix_compared_at_the_type_octet() -> None:
    data = FLAGS + NAME + COLOR
    assert data_matches(data, b"\x01\x09", True)
    assert data_matches(data, b"\x03\xff\x22\x08", True)
    assert not data_matches(data, b"\x03\xff\x23\x08", True)
    assert not data_matches(data, b"\x01\x07", True)


def test_any_versus_all() -> None:
    data = FLAGS + NAME
    prefixes = b"\x01\x09" + b"\x01\x07"
    assert data_matches(data, prefixes, True)
    assert not data_matches(data, prefixes, False)
    assert data_matches(data, b"\x01\x09\x01\x01", False)


def test_structure_shorter_than_prefix_does_not_match() -> None:
    assert not data_matches(b"\x02\xff\x22" + NAME, b"\x03\xff\x22\x08", True)
    assert data_matches(b"\x04\xff\x22\x08\x06", b"\x03\xff\x22\x08", True)


def test_zero_length_structure_ends_parsing() -> None:
    assert not data_matches(b"\x00" + FLAGS, b"\x01\x01", True)


# -- adapter state ---------------------------------------------------------------------------------


def test_default_name_address_and_singleton(tmp_path: Path) -> None:
    world = run_world(tmp_path, {"board": ATTEMPT + """
print("name", adapter.name)
print("address", adapter.address, adapter.address.type)
print("enabled", adapter.enabled)
print("same", _bleio.adapter is adapter, isinstance(adapter, _bleio.Adapter))
attempt("new adapter", lambda: _bleio.Adapter())
attempt("set_adapter", lambda: _bleio.set_adapter(None))
attempt("scan entry", lambda: _bleio.ScanEntry())
adapter.name = "renamed"
print("renamed", adapter.name)
adapter.erase_bonding()
"""}, duration="1s")
    value = world.host("board").address.value
    printed = ":".join(f"{b:02x}" for b in value[::-1])
    assert world.output("board") == [
        f"name CIRCUITPY{value[1]:02x}{value[0]:02x}",
        f"address <Address {printed}> 0",
        "enabled True",
        "same True True",
        "new adapter NotImplementedError Cannot create a new Adapter; use _bleio.adapter;",
        "set_adapter NotImplementedError Read-only",
        "scan entry TypeError cannot create 'ScanEntry' instances",
        "renamed renamed",
    ]
    server = world.host("board").gatt_server
    assert server.get_value(server.gap_handles.device_name) == b"renamed"


def test_advertising_argument_checks(tmp_path: Path) -> None:
    world = run_world(tmp_path, {"board": ATTEMPT + """
data = b"\\x02\\x01\\x06"
attempt("interval", lambda: adapter.start_advertising(data, interval=0.01))
attempt("interval high", lambda: adapter.start_advertising(data, interval=10.25))
attempt("ext rsp", lambda: adapter.start_advertising(bytes(32), scan_response=b"\\x02\\x01\\x06"))
attempt("directed", lambda: adapter.start_advertising(b"", connectable=False, directed_to=adapter.address))
attempt("too long", lambda: adapter.start_advertising(data, timeout=181))
attempt("too big", lambda: adapter.start_advertising(bytes(239)))
attempt("start", lambda: adapter.start_advertising(data))
print("advertising", adapter.advertising)
attempt("again", lambda: adapter.start_advertising(data))
attempt("scan", lambda: adapter.start_scan())
adapter.stop_advertising()
print("advertising", adapter.advertising)
adapter.stop_advertising()
"""}, duration="1s")
    assert world.output("board") == [
        "interval ValueError interval must be in range 0.02-10.24",
        "interval high ValueError interval must be in range 0.02-10.24",
        "ext rsp BluetoothError Cannot have scan responses for extended, connectable advertisements.",
        "directed BluetoothError Only connectable advertisements can be directed",
        "too long BluetoothError Timeout is too long: Maximum timeout length is 180 seconds",
        "too big ValueError Data too large for advertisement packet",
        "start ok",
        "advertising True",
        "again BluetoothError Already advertising.",
        "scan BluetoothError Unknown system firmware error: 0011",
        "advertising False",
    ]
    assert not world.failures("board")


def test_data_over_31_octets_goes_out_extended(tmp_path: Path) -> None:
    long_data = "b'\\x1f\\xff' + bytes(range(30)) + b'\\x05\\x09long'"
    world = run_world(tmp_path, {
        "adv": ATTEMPT + f"""
adapter.start_advertising({long_data}, connectable=False)
while True:
    time.sleep(1)
""",
        "scanner": ATTEMPT + """
time.sleep(0.2)
for extended in (False, True):
    sizes = set()
    for entry in adapter.start_scan(extended=extended, timeout=1, minimum_rssi=-120):
        sizes.add(len(entry.advertisement_bytes))
    print("extended", extended, sorted(sizes))
""",
    }, duration="3s")
    started = world.events_of("adv", AdvertisingStarted)
    assert [e.extended_pdus for _, e in started] == [True]
    assert world.output("scanner") == ["extended False []", "extended True [38]"]


def test_advertising_timeout_and_connection_stop_advertising(tmp_path: Path) -> None:
    world = run_world(tmp_path, {
        "periph": ATTEMPT + """
adapter.start_advertising(b"\\x02\\x01\\x06", timeout=1)
time.sleep(0.5)
print("at 0.5", adapter.advertising)
time.sleep(1)
print("at 1.5", adapter.advertising)
adapter.start_advertising(b"\\x02\\x01\\x06\\x05\\x09peer")
while not adapter.connected:
    pass
print("connected, advertising", adapter.advertising)
c = adapter.connections
print("same objects", c[0] is adapter.connections[0], len(c))
""",
        "central": ATTEMPT + """
time.sleep(2)
target = None
for entry in adapter.start_scan(prefixes=b"\\x01\\x09", timeout=2):
    target = entry.address
    break
adapter.stop_scan()
connection = adapter.connect(target, timeout=5)
print("connected", connection.connected, connection in adapter.connections)
print("same object", adapter.connections[0] is connection)
""",
    }, duration="5s")
    assert world.output("periph") == [
        "at 0.5 True",
        "at 1.5 False",
        "connected, advertising False",
        "same objects True 1",
    ]
    assert world.output("central") == ["connected True True", "same object True"]
    stopped = [e for _, e in world.events_of("periph", AdvertisingStopped)]
    assert stopped[-1].connection_handle is not None


def test_connect_timeout(tmp_path: Path) -> None:
    world = run_world(tmp_path, {"central": ATTEMPT + """
missing = _bleio.Address(b"\\x01\\x02\\x03\\x04\\x05\\xc6", _bleio.Address.RANDOM_STATIC)
start = time.monotonic()
attempt("connect", lambda: adapter.connect(missing, timeout=1.5))
print("after", round(time.monotonic() - start, 1))
attempt("bad address", lambda: adapter.connect("AA:BB", timeout=1))
"""}, duration="4s")
    assert world.output("central") == [
        "connect BluetoothError Failed to connect: timeout",
        "after 1.5",
        "bad address TypeError address must be of type Address, not str",
    ]


# -- scanning --------------------------------------------------------------------------------

ADVERTISER = ATTEMPT + """
adapter.start_advertising(b"\\x02\\x01\\x06\\x05\\x09beep", scan_response=b"\\x04\\xff\\x22\\x08\\x01", interval=0.05)
while True:
    time.sleep(1)
"""


def test_scan_entries_filters_and_matches(tmp_path: Path) -> None:
    world = run_world(tmp_path, {"adv": ADVERTISER, "scanner": ATTEMPT + """
time.sleep(0.1)
kinds = set()
for entry in adapter.start_scan(timeout=0.5):
    kinds.add((entry.scan_response, entry.connectable, bytes(entry.advertisement_bytes)))
    if len(kinds) == 2:
        break
attempt("again", lambda: adapter.start_scan())
adapter.stop_scan()
for kind in sorted(kinds):
    print("entry", kind)
entries = list(adapter.start_scan(prefixes=b"\\x03\\xff\\x22\\x08", timeout=0.5))
print("by prefix", len(entries) > 0, all(e.scan_response for e in entries))
entry = entries[0]
print("matches", entry.matches(b"\\x01\\xff"), entry.matches(b"\\x01\\xff\\x01\\x09"),
      entry.matches(b"\\x01\\xff\\x01\\x09", match_all=False), entry.matches(b"\\x01\\x09\\x01\\xff", all=False))
print("rssi", isinstance(entry.rssi, int), -100 < entry.rssi < 0, type(entry.address).__name__)
print("strong only", len(list(adapter.start_scan(minimum_rssi=-1, timeout=0.5))))
print("no room", len(list(adapter.start_scan(buffer_size=20, timeout=0.5))))
print("repr", repr(entry), repr(adapter.start_scan(timeout=0.1)))
attempt("scan interval", lambda: adapter.start_scan(interval=0.002))
attempt("window", lambda: adapter.start_scan(interval=0.1, window=0.2))
attempt("timeout", lambda: adapter.start_scan(timeout=0.05))
attempt("positional", lambda: adapter.start_scan(b""))
"""}, duration="5s")
    assert world.output("scanner") == [
        "again BluetoothError Scan already in progress. Stop with stop_scan.",
        "entry (False, True, b'\\x02\\x01\\x06\\x05\\tbeep')",
        "entry (True, True, b'\\x04\\xff\"\\x08\\x01')",
        "by prefix True True",
        "matches True False True True",
        "rssi True True Address",
        "strong only 0",
        "no room 0",
        "repr <ScanEntry> <ScanResults>",
        "scan interval ValueError interval must be in range 0.0025-40.959375",
        "window ValueError window must be <= interval",
        "timeout ValueError non-zero timeout must be >= interval",
        "positional TypeError " + world.output("scanner")[-1].split("TypeError ", 1)[1],
    ]
    assert not world.failures("scanner")


def test_scan_iterator_blocks_until_its_timeout(tmp_path: Path) -> None:
    world = run_world(tmp_path, {"scanner": ATTEMPT + """
start = time.monotonic_ns()
print("entries", len(list(adapter.start_scan(timeout=1.5))))
print("ended after", (time.monotonic_ns() - start) // 1000000, "ms")
"""}, duration="3s")
    out = world.output("scanner")
    assert out[0] == "entries 0"
    assert out[1] in ("ended after 1500 ms", "ended after 1501 ms")


def test_busy_loops_advance_simulated_time(tmp_path: Path) -> None:
    world = run_world(tmp_path, {"lonely": ATTEMPT + """
start = time.monotonic()
polls = 0
while not adapter.connected and time.monotonic() - start < 2:
    polls += 1
print("polls", polls)
while time.monotonic() - start < 3:
    pass
print("spun until", round(time.monotonic() - start, 2))
"""}, duration="4s", watchdog_s=1.0)
    assert not world.failures("lonely")
    out = world.output("lonely")
    assert 1500 < int(out[0].split()[1]) <= 2000
    assert out[1] == "spun until 3.0"


def test_two_adapters_connected_both_ways(tmp_path: Path) -> None:
    world = run_world(tmp_path, {"periph": UART_PERIPHERAL, "central": ATTEMPT + """
from adafruit_ble import BLERadio
from adafruit_ble.advertising.standard import ProvideServicesAdvertisement
ble = BLERadio()
for adv in ble.start_scan(ProvideServicesAdvertisement, timeout=3):
    connection = ble.connect(adv)
    break
ble.stop_scan()
print("names", adv.complete_name, ble.connected, len(ble.connections))
"""}, duration="2s")
    assert world.output("central") == ["names periph True 1"]
    assert [e.role for _, e in world.events_of("periph", Connected)] == ["peripheral"]


@pytest.mark.parametrize("bad", ["prefixes=5", "buffer_size='x'"])
def test_scan_bad_argument_types(tmp_path: Path, bad: str) -> None:
    world = run_world(tmp_path, {"scanner": ATTEMPT + f"""
attempt("scan", lambda: adapter.start_scan({bad}, timeout=0.1))
"""}, duration="1s")
    assert world.output("scanner")[0].startswith(("scan TypeError", "scan ValueError"))


_AD = st.lists(st.binary(min_size=1, max_size=8), max_size=4).map(
    lambda parts: b"".join(bytes([len(p)]) + p for p in parts))


@given(_AD, _AD)
def test_all_prefixes_implies_any_prefix(data: bytes, prefixes: bytes) -> None:
    if prefixes and data_matches(data, prefixes, False):
        assert data_matches(data, prefixes, True)


@given(_AD)
def test_each_structure_matches_itself_as_a_prefix(data: bytes) -> None:
    i = 0
    while i < len(data):
        length = data[i]
        assert data_matches(data, data[i : i + 1 + length], True)
        i += 1 + length
