"""``BLE.gattc_*``: discovery payloads (end handles as NimBLE gives them, descriptor range,
UUID filters), read/write results and statuses, truncation to ATT_MTU-3, MTU exchange
on both sides, and the BTstack differences."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.apis.micropython.test_bluetooth_gatts import ADVERTISE, CONNECT, PRELUDE, SERVICE
from tests.apis.micropython.test_bluetooth_rig import failures, lines, run_nodes

SERVER = PRELUDE + SERVICE + """
F = bluetooth.FLAG_READ | bluetooth.FLAG_NOTIFY
((h1, h2, d1), (h3,)) = ble.gatts_register_services((
    (S, ((C1, F), (C2, bluetooth.FLAG_READ | bluetooth.FLAG_WRITE, ((D1, 1),)))),
    (bluetooth.UUID(0x180F), ((bluetooth.UUID(0x2A19), bluetooth.FLAG_READ),)),
))
ble.gatts_write(h1, b'x' * 40)
""" + ADVERTISE + """
time.sleep_ms(3000)
"""


def test_discovery_payloads(tmp_path: Path) -> None:
    client = PRELUDE + CONNECT + """
def collect(result, done):
    out = []
    while True:
        for i, (e, d) in enumerate(events):
            if e in (result, done):
                del events[i]
                break
        else:
            time.sleep_ms(2)
            continue
        out.append(d)
        if e == done:
            return out
ble.gattc_discover_services(conn)
for d in collect(9, 10):
    print('svc', d)
ble.gattc_discover_services(conn, bluetooth.UUID(0x180F))
for d in collect(9, 10):
    print('svc by uuid', d)
ble.gattc_discover_characteristics(conn, 19, 25)
for d in collect(11, 12):
    print('chr', d)
ble.gattc_discover_characteristics(conn, 1, 0xFFFF, bluetooth.UUID(0x2A19))
for d in collect(11, 12):
    print('chr by uuid', d)
ble.gattc_discover_descriptors(conn, 19, 25)
for d in collect(13, 14):
    print('dsc', d)
"""
    record = run_nodes(tmp_path, {"a": SERVER, "b": client})
    assert failures(record) == []
    a5 = "UUID('a5a5a5a5-0000-1000-8000-00805f9b34fb')"
    c1 = "UUID('a5a5a5a5-0001-1000-8000-00805f9b34fb')"
    c2 = "UUID('a5a5a5a5-0002-1000-8000-00805f9b34fb')"
    out = lines(record, "b")
    assert out[:4] == [
        "svc (0, 10, 14, UUID(0x1800))",
        "svc (0, 15, 18, UUID(0x1801))",
        f"svc (0, 19, 25, {a5})",
    ] + out[3:4]
    assert out[3] in ("svc (0, 26, 28, UUID(0x180f))", "svc (0, 26, 65535, UUID(0x180f))")
    assert out[4:] == [
        "svc (0, 0)",
        "svc by uuid (0, 26, 28, UUID(0x180f))",
        "svc by uuid (0, 0)",
        # (conn, end_handle, value_handle, properties, uuid): the end is the next
        # declaration minus one, or the end of the range.
        f"chr (0, 22, 21, 18, {c1})",
        f"chr (0, 25, 24, 10, {c2})",
        "chr (0, 0)",
        "chr by uuid (0, 65535, 28, 2, UUID(0x2a19))",
        "chr by uuid (0, 0)",
        # Every attribute in (19, 25]: declarations and values included.
        "dsc (0, 20, UUID(0x2803))",
        f"dsc (0, 21, {c1})",
        "dsc (0, 22, UUID(0x2902))",
        "dsc (0, 23, UUID(0x2803))",
        f"dsc (0, 24, {c2})",
        "dsc (0, 25, UUID(0x2901))",
        "dsc (0, 0)",
    ]


def test_reads_writes_truncation_and_mtu_on_both_sides(tmp_path: Path) -> None:
    client = PRELUDE + CONNECT + """
ble.gattc_read(conn, 21)
print(len(wait(15)[2]), wait(16))
ble.gattc_write(conn, 24, b'y' * 30, 1)
print(wait(17))
ble.gattc_exchange_mtu(conn)
print('mtu', wait(21))
ble.gattc_read(conn, 21)
print(len(wait(15)[2]), wait(16))
try:
    ble.gattc_exchange_mtu(conn)
except OSError as e:
    print('again', e.args)
try:
    ble.gattc_read(5, 21)
except OSError as e:
    print('bad conn', e.args)
try:
    ble.gattc_write(conn, 21, b'', 2)
except OSError as e:
    print('bad mode', e.args)
"""
    server = SERVER.replace("time.sleep_ms(3000)", """
print('write', wait(3), len(ble.gatts_read(h2)))
print('mtu', wait(21))
""")
    record = run_nodes(tmp_path, {"a": server, "b": client})
    # A read is one Read Request: ATT_MTU-1 octets (22 at the default MTU, all 40 after
    # the exchange); writes are cut to ATT_MTU-3 = 20 octets (and to the value buffer).
    assert lines(record, "b") == [
        "22 (0, 21, 0)", "(0, 24, 0)", "mtu (0, 256)", "40 (0, 21, 0)",
        "again (114,)", "bad conn (107,)", "bad mode (22,)",
    ]
    assert lines(record, "a") == ["write (0, 24) 20", "mtu (0, 256)"]


def test_an_exchange_that_leaves_the_mtu_at_23_is_still_reported_on_both_sides(tmp_path: Path) -> None:
    """NimBLE raises BLE_GAP_EVENT_MTU at every completed exchange, so ``_IRQ_MTU_EXCHANGED``
    comes once per side with the (unchanged) ATT_MTU."""
    client = PRELUDE + CONNECT + """
ble.gattc_exchange_mtu(conn)
print('mtu', wait(21))
time.sleep_ms(200)
print('more', [e for e, _ in events if e == 21])
"""
    server = SERVER.replace("time.sleep_ms(3000)", """
print('mtu', wait(21))
time.sleep_ms(500)
print('more', [e for e, _ in events if e == 21])
""").replace("ble.active(True)", "ble.active(True)\nble.config(mtu=23)", 1)
    assert "config(mtu=23)" in server
    record = run_nodes(tmp_path, {"a": server, "b": client})
    assert failures(record) == []
    assert lines(record, "b") == ["mtu (0, 23)", "more []"]
    assert lines(record, "a") == ["mtu (0, 23)", "more []"]


def test_btstack_reports_zero_value_handles_and_raw_att_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = PRELUDE + CONNECT + """
ble.gattc_read(conn, 0x99)
print(wait(16))
ble.gattc_write(conn, 0x99, b'z', 1)
print(wait(17))
"""
    record = run_nodes(tmp_path, {"a": SERVER, "b": client}, stacks={"b": "btstack"}, monkeypatch=monkeypatch)
    assert lines(record, "b") == ["(0, 0, 1)", "(0, 0, 1)"]


def test_characteristic_discovery_is_one_at_a_time(tmp_path: Path) -> None:
    client = PRELUDE + CONNECT + """
ble.gattc_discover_characteristics(conn, 1, 0xFFFF)
try:
    ble.gattc_discover_characteristics(conn, 1, 0xFFFF)
except OSError as e:
    print(e.args)
print(wait(12))
"""
    record = run_nodes(tmp_path, {"a": SERVER, "b": client})
    assert lines(record, "b") == ["(16,)", "(0, 0)"]
