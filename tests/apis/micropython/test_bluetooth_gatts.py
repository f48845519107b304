"""``BLE.gatts_*``: handle tuples and numbering of both stacks, value buffers (20-octet
default, growth by local writes, append mode), read-request IRQ return codes, local
reads for data-less notifications, notifications and indications."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.apis.micropython.test_bluetooth_rig import failures, lines, run_nodes

#: Firmware prelude: an IRQ log and a blocking wait for one event (simulated time).
PRELUDE = """
import bluetooth, struct, time
ble = bluetooth.BLE()
ble.active(True)
events = []
last = {}
def irq(event, data):
    last[event] = time.ticks_ms()
    events.append((event, tuple(bytes(x) if isinstance(x, memoryview) else x for x in data)))
    return HANDLER(event, data)
HANDLER = lambda event, data: None
ble.irq(irq)
def wait(code, timeout_ms=3000):
    t0 = time.ticks_ms()
    while time.ticks_diff(time.ticks_ms(), t0) < timeout_ms:
        for i, (e, d) in enumerate(events):
            if e == code:
                del events[i]
                return d
        time.sleep_ms(2)
    raise RuntimeError('timeout waiting for %d' % code)
def seen(code):
    return [d for e, d in events if e == code]
"""

SERVICE = """
S = bluetooth.UUID('a5a5a5a5-0000-1000-8000-00805f9b34fb')
C1 = bluetooth.UUID('a5a5a5a5-0001-1000-8000-00805f9b34fb')
C2 = bluetooth.UUID('a5a5a5a5-0002-1000-8000-00805f9b34fb')
D1 = bluetooth.UUID(0x2901)
"""

CONNECT = """
ble.gap_connect(0, b'\\x11"3DUf')
conn = wait(7)[0]
"""

ADVERTISE = """
ble.gap_advertise(20000, b'\\x02\\x01\\x06')
conn = wait(1)[0]
"""


def test_handle_tuples_follow_nimble_numbering(tmp_path: Path) -> None:
    record = run_nodes(tmp_path, {"a": PRELUDE + SERVICE + """
F = bluetooth.FLAG_READ | bluetooth.FLAG_NOTIFY
print(ble.gatts_register_services(((S, ((C1, F),)),)))
print(ble.gatts_register_services(((S, ((C1, F),)), (S, ((C2, F),)))))
print(ble.gatts_register_services(((S, ((C1, F), (C2, bluetooth.FLAG_WRITE, ((D1, 1),)))),)))
"""})
    # GAP+GATT take 9 handles at active(1) and again before each registration; the
    # counter never resets: (21,), then (34,), (38,), then (51, 54, 55).
    assert lines(record, "a") == ["((21,),)", "((34,), (38,))", "((51, 54, 55),)"]


def test_handle_tuples_on_a_fresh_boot_and_btstack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = PRELUDE + SERVICE + """
defn = ((S, ((C1, bluetooth.FLAG_READ | bluetooth.FLAG_NOTIFY), (C2, bluetooth.FLAG_WRITE, ((D1, 1),)))),)
print(ble.gatts_register_services(defn))
print(ble.gatts_register_services(defn))
"""
    record = run_nodes(tmp_path, {"a": src, "b": src}, stacks={"b": "btstack"}, monkeypatch=monkeypatch)
    assert lines(record, "a") == ["((21, 24, 25),)", "((37, 40, 41),)"]
    assert lines(record, "b") == ["((9, 12, 13),)", "((9, 12, 13),)"]


def test_definition_errors_and_busy(tmp_path: Path) -> None:
    record = run_nodes(tmp_path, {"a": PRELUDE + SERVICE + """
def attempt(what, fn):
    try:
        print(what, fn())
    except Exception as e:
        print(what, type(e).__name__, e.args)
attempt('service uuid', lambda: ble.gatts_register_services(((0x180F, ()),)))
attempt('service len', lambda: ble.gatts_register_services(((S,),)))
attempt('char tuple', lambda: ble.gatts_register_services(((S, ((C1,),)),)))
attempt('char uuid', lambda: ble.gatts_register_services(((S, (('x', 2),)),)))
attempt('desc uuid', lambda: ble.gatts_register_services(((S, ((C1, 2, ((5, 1),)),)),)))
attempt('flags masked', lambda: ble.gatts_register_services(((S, ((C1, 0x10000 | bluetooth.FLAG_WRITE),)),)))
ble.gap_advertise(100000, b'')
attempt('busy', lambda: ble.gatts_register_services(()))
"""})
    assert lines(record, "a") == [
        "service uuid ValueError ('invalid service UUID',)",
        "service len ValueError ('requested length 2 but object has length 1',)",
        "char tuple ValueError ('invalid characteristic tuple',)",
        "char uuid ValueError ('invalid characteristic UUID',)",
        "desc uuid ValueError ('invalid descriptor UUID',)",
        "flags masked ((21,),)",
        "busy OSError (16,)",
    ]


def test_local_values(tmp_path: Path) -> None:
    record = run_nodes(tmp_path, {"a": PRELUDE + SERVICE + """
((h,),) = ble.gatts_register_services(((S, ((C1, bluetooth.FLAG_READ),)),))
print(ble.gatts_read(h))
ble.gatts_write(h, b'x' * 30)
print(len(ble.gatts_read(h)))
ble.gatts_set_buffer(h, 5, True)
print(ble.gatts_read(h))
try:
    ble.gatts_read(999)
except OSError as e:
    print(e.args)
try:
    ble.gatts_write(999, b'')
except OSError as e:
    print(e.args)
"""})
    assert lines(record, "a") == ["b''", "30", "b''", "(22,)", "(22,)"]


def test_remote_writes_are_cut_to_the_buffer_and_appended(tmp_path: Path) -> None:
    server = PRELUDE + SERVICE + """
W = bluetooth.FLAG_READ | bluetooth.FLAG_WRITE | bluetooth.FLAG_WRITE_NO_RESPONSE
((h1, h2, h3),) = ble.gatts_register_services(((S, ((C1, W), (C2, W), (bluetooth.UUID(0x2A00 + 99), W))),))
ble.gatts_write(h2, bytes(100))
ble.gatts_set_buffer(h3, 10, True)
""" + ADVERTISE + """
for _ in range(5):
    print('write', wait(3))
print(len(ble.gatts_read(h1)), len(ble.gatts_read(h2)))
print(ble.gatts_read(h3), ble.gatts_read(h3))
"""
    client = PRELUDE + CONNECT + """
ble.config(mtu=100)
ble.gattc_exchange_mtu(conn)
print('mtu', wait(21))
ble.gattc_write(conn, 21, b'a' * 25, 1)
print('done', wait(17))
ble.gattc_write(conn, 23, b'b' * 30, 1)
print('done', wait(17))
ble.gattc_write(conn, 25, b'abcdef', 1)
print('done', wait(17))
ble.gattc_write(conn, 25, b'abcdef', 0)
ble.gattc_write(conn, 25, b'ghijkl', 1)
print('done', wait(17))
"""
    record = run_nodes(tmp_path, {"a": server, "b": client})
    assert failures(record) == []
    assert lines(record, "b") == [
        "mtu (0, 100)", "done (0, 21, 0)", "done (0, 23, 0)", "done (0, 25, 0)", "done (0, 25, 0)",
    ]
    assert lines(record, "a") == [
        "write (0, 21)", "write (0, 23)", "write (0, 25)", "write (0, 25)", "write (0, 25)",
        # 25 octets kept 20 (default buffer), 30 kept 30 (grown by a local write);
        # the append buffer holds at most 10 and gatts_read empties it.
        "20 30",
        "b'abcdefabcd' b''",
    ]


def test_read_request_return_value_denies_with_its_att_error(tmp_path: Path) -> None:
    server = PRELUDE + SERVICE + """
((h1, h2),) = ble.gatts_register_services(((S, ((C1, bluetooth.FLAG_READ), (C2, bluetooth.FLAG_READ))),))
ble.gatts_write(h1, b'open')
ble.gatts_write(h2, b'secret')
HANDLER = lambda event, data: 0x05 if event == 4 and data[1] == h2 else None
""" + ADVERTISE + """
print(wait(4))
print(wait(4))
"""
    client = PRELUDE + CONNECT + """
ble.gattc_read(conn, 21)
print(wait(15), wait(16))
ble.gattc_read(conn, 23)
print(wait(16), seen(15))
ble.gattc_read(conn, 0x99)
print(wait(16))
"""
    record = run_nodes(tmp_path, {"a": server, "b": client})
    assert lines(record, "a") == ["(0, 21)", "(0, 23)"]
    # Insufficient Authentication (0x05) as 0x100 + code; an unknown handle: 0x101.
    assert lines(record, "b") == ["(0, 21, b'open') (0, 21, 0)", "(0, 23, 261) []", "(0, 153, 257)"]


def test_notify_indicate_and_send_update(tmp_path: Path) -> None:
    server = PRELUDE + SERVICE + """
F = bluetooth.FLAG_READ | bluetooth.FLAG_NOTIFY | bluetooth.FLAG_INDICATE
((h,),) = ble.gatts_register_services(((S, ((C1, F),)),))
""" + ADVERTISE + """
ble.gatts_write(h, b'v1', True)           # nobody subscribed: nothing sent, no IRQ
time.sleep_ms(200)
ble.gatts_notify(conn, h)                 # sent anyway; NimBLE reads the local value
print('local read', wait(4))
ble.gatts_notify(conn, h, b'custom')
ble.gatts_indicate(conn, h, b'ind')
print('indicate done', wait(20))
time.sleep_ms(500)                        # the client subscribes: no IRQ for CCCD writes
print('events', [e for e, d in events])
ble.gatts_write(h, b'v2', True)
print('update read', wait(4))
time.sleep_ms(300)
"""
    client = PRELUDE + CONNECT + """
print('notify', wait(18))
print('notify', wait(18))
print('indicate', wait(19))
time.sleep_ms(100)
ble.gattc_write(conn, 22, b'\\x01\\x00', 1)
print('cccd', wait(17))
print('notify', wait(18))
print('pending', [e for e, d in events])
"""
    record = run_nodes(tmp_path, {"a": server, "b": client})
    assert lines(record, "a") == [
        "local read (65535, 21)", "indicate done (0, 21, 0)", "events []", "update read (65535, 21)",
    ]
    assert lines(record, "b") == [
        "notify (0, 21, b'v1')", "notify (0, 21, b'custom')", "indicate (0, 21, b'ind')",
        "cccd (0, 22, 0)", "notify (0, 21, b'v2')", "pending []",
    ]
