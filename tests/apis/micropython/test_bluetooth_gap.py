"""``BLE.gap_*``: scan results and advertising types, scan duration and stop, connect with
timeout and cancel, disconnect from both sides, argument errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.apis.micropython.test_bluetooth_gatts import ADVERTISE, CONNECT, PRELUDE
from tests.apis.micropython.test_bluetooth_rig import addr_bytes, failures, lines, run_nodes

ADV_B = b"\x02\x01\x06\x03\xff\xbb\xbb"
ADV_C = b"\x02\x01\x06\x03\xff\xcc\xcc"

SCANNER = PRELUDE + """
ble.gap_scan(1000, 20000, 20000, True)
d = wait(6, 2000)
t = last[6]
kinds = sorted({(bytes(r[1])[-1], r[2], r[4]) for r in seen(5)})
for k in kinds:
    print(k)
print('done at', t)
"""


def test_scan_results_report_advertising_types(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    b = "import bluetooth\nble = bluetooth.BLE()\nble.active(1)\nble.gap_advertise(50000, %r, connectable=False)\n" % ADV_B
    c = "import bluetooth\nble = bluetooth.BLE()\nble.active(1)\nble.gap_advertise(50000, %r, resp_data=b'\\x03\\x09hi')\n" % ADV_C
    record = run_nodes(tmp_path, {"a": SCANNER, "b": b, "c": c}, duration="2s")
    # NimBLE: connectable=False still answers scans (ADV_SCAN_IND, type 2); active
    # scanning gets SCAN_RSP (type 4) from both.
    assert lines(record, "a") == [
        f"(119, 2, {ADV_B!r})",
        f"(119, 4, b'')",
        f"(136, 0, {ADV_C!r})",
        "(136, 4, b'\\x03\\thi')",
        "done at 1000",
    ]
    (tmp_path / "bt").mkdir()
    record = run_nodes(tmp_path / "bt", {"a": SCANNER, "b": b}, duration="2s", stacks={"b": "btstack"},
                       monkeypatch=monkeypatch)
    # BTstack: a non-connectable advertiser without scan response is ADV_NONCONN_IND.
    assert lines(record, "a") == [f"(119, 3, {ADV_B!r})", "done at 1000"]


def test_scan_stop_restart_and_errors(tmp_path: Path) -> None:
    record = run_nodes(tmp_path, {"a": PRELUDE + """
ble.gap_scan(None)                       # not scanning: nothing happens
ble.gap_scan(0)
try:
    ble.gap_scan(100)
except OSError as e:
    print('again', e.args)
time.sleep_ms(50)
ble.gap_scan(None)
print('done', wait(6), last[6])
try:
    ble.gap_scan(100, 10000, 20000)
except OSError as e:
    print('window', e.args)
time.sleep_ms(100)
print('events', [e for e, d in events if e != 5])
"""})
    assert lines(record, "a") == ["again (114,)", "done () 50", "window (22,)", "events []"]


def test_connect_timeout_and_cancel_raise_peripheral_disconnect(tmp_path: Path) -> None:
    record = run_nodes(tmp_path, {"a": PRELUDE + """
ble.gap_connect(0, b'\\x01\\x02\\x03\\x04\\x05\\x06', 500)
try:
    ble.gap_connect(0, b'\\x01\\x02\\x03\\x04\\x05\\x06')
except OSError as e:
    print('busy', e.args)
print('timeout', wait(8), last[8])
t0 = time.ticks_ms()
ble.gap_connect(0, b'\\x01\\x02\\x03\\x04\\x05\\x06')
time.sleep_ms(100)
ble.gap_connect(None)
print('cancel', wait(8), last[8] - t0)
try:
    ble.gap_connect(None)
except OSError as e:
    print('idle', e.args)
try:
    ble.gap_connect(0, b'\\x01\\x02')
except ValueError as e:
    print(e)
"""})
    zeros = repr(bytes(6))
    assert lines(record, "a") == [
        "busy (114,)",
        f"timeout (65535, 255, {zeros}) 500",
        f"cancel (65535, 255, {zeros}) 100",
        "idle (114,)",
        "invalid addr",
    ]


def test_connect_and_disconnect_from_both_sides(tmp_path: Path) -> None:
    server = PRELUDE + ADVERTISE + """
print('connected', conn, seen(1))
print('central', wait(2))
ble.gap_advertise(20000, None)           # the previous data is kept
conn = wait(1)[0]
time.sleep_ms(200)
print('disconnect', ble.gap_disconnect(conn))
try:
    ble.gap_disconnect(conn)
except OSError as e:
    print('terminating', e.args)
print('central', wait(2))
"""
    client = PRELUDE + """
ble.gap_connect(0, b'\\x11"3DUf')
d = wait(7)
print('peripheral', d)
time.sleep_ms(200)
print('disconnect', ble.gap_disconnect(d[0]))
print('peripheral', wait(8))
ble.gap_connect(0, b'\\x11"3DUf')
print('peripheral', wait(7))
print('peripheral', wait(8))
"""
    record = run_nodes(tmp_path, {"a": server, "b": client})
    a, b = addr_bytes("a"), addr_bytes("b")
    assert failures(record) == []
    assert lines(record, "b") == [
        f"peripheral (0, 0, {a!r})",
        "disconnect True",
        f"peripheral (0, 0, {a!r})",
        # The controller gives the second connection a new handle.
        f"peripheral (1, 0, {a!r})",
        f"peripheral (1, 0, {a!r})",
    ]
    assert lines(record, "a") == [
        "connected 0 []",
        f"central (0, 0, {b!r})",
        "disconnect True",
        "terminating (114,)",
        f"central (1, 0, {b!r})",
    ]


def test_advertising_argument_errors(tmp_path: Path) -> None:
    record = run_nodes(tmp_path, {"a": PRELUDE + """
for args, kw in (((10000,), {}), ((100000, b'x' * 32), {}), ((100000,), {'resp_data': b'y' * 32})):
    try:
        ble.gap_advertise(*args, **kw)
    except OSError as e:
        print(e.args)
ble.gap_advertise(100000, 'text is a buffer')
ble.gap_advertise(None)
ble.gap_advertise(None)
print('ok')
"""})
    assert lines(record, "a") == ["(22,)", "(22,)", "(22,)", "ok"]


def test_advertising_interval_is_rounded_down_to_625_us(tmp_path: Path) -> None:
    record = run_nodes(tmp_path, {"a": "import bluetooth\nble = bluetooth.BLE()\nble.active(1)\n"
                                        "ble.gap_advertise(100_600, b'\\x02\\x01\\x06')\n"}, duration="3s")
    starts = sorted({p.start_ns for p in record.air if p.node == "a" and p.channel == 37})
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    # 100.6 ms -> 160 units = 100 ms, plus the advDelay of 0-10 ms per event.
    assert gaps and all(100_000_000 <= g <= 110_000_000 for g in gaps)
