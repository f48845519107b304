"""``BLE.active``, ``BLE.config`` and ``BLE.irq``: defaults, keys and errors as the NimBLE
build gives them (and the BTstack differences)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.apis.micropython.test_bluetooth_rig import addr_bytes, failures, lines, run_nodes

TRY = """
def attempt(what, fn):
    try:
        print(what, repr(fn()))
    except Exception as e:
        print(what, type(e).__name__, e.args)
"""


def test_inactive_calls_raise_enodev_and_active_toggles(tmp_path: Path) -> None:
    record = run_nodes(tmp_path, {"a": TRY + """
import bluetooth
ble = bluetooth.BLE()
print(ble.active())
attempt('mac', lambda: ble.config('mac'))
attempt('mtu', lambda: ble.config('mtu'))
attempt('adv', lambda: ble.gap_advertise(100000))
attempt('scan', lambda: ble.gap_scan(100))
attempt('reg', lambda: ble.gatts_register_services(()))
print(ble.active(1), ble.active(), ble.active(0), ble.active())
"""})
    assert lines(record, "a") == [
        "False",
        "mac OSError (19,)",
        "mtu OSError (19,)",
        "adv OSError (19,)",
        "scan OSError (19,)",
        "reg OSError (19,)",
        "True True False False",
    ]


def test_defaults_of_the_nimble_build(tmp_path: Path) -> None:
    record = run_nodes(tmp_path, {"a": """
import bluetooth
ble = bluetooth.BLE()
ble.active(True)
print(ble.config('gap_name'))
print(ble.config('mtu'))
print(ble.config('mac'))
"""})
    # config('mac') is the public address, most significant octet first.
    assert lines(record, "a") == ["b'MPY NIMBLE'", "256", repr((0, addr_bytes("a")))]


def test_btstack_build_has_its_own_default_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record = run_nodes(
        tmp_path,
        {"a": "import bluetooth\nble = bluetooth.BLE()\nble.active(1)\nprint(ble.config('gap_name'))\n"},
        stacks={"a": "btstack"},
        monkeypatch=monkeypatch,
    )
    assert lines(record, "a") == ["b'MPY BTSTACK'"]


def test_config_errors(tmp_path: Path) -> None:
    record = run_nodes(tmp_path, {"a": TRY + """
import bluetooth
ble = bluetooth.BLE()
ble.active(True)
attempt('unknown', lambda: ble.config('nope'))
attempt('rxbuf get', lambda: ble.config('rxbuf'))
attempt('rxbuf set', lambda: ble.config(rxbuf=200))
attempt('two', lambda: ble.config('mac', 'mtu'))
attempt('none', lambda: ble.config())
attempt('mixed', lambda: ble.config('mac', mtu=100))
attempt('long name', lambda: ble.config(gap_name='x' * 32))
attempt('mtu small', lambda: ble.config(mtu=22))
attempt('mtu large', lambda: ble.config(mtu=528))
attempt('mtu largest', lambda: ble.config(mtu=527))
attempt('addr_mode get', lambda: ble.config('addr_mode'))
attempt('addr_mode bad', lambda: ble.config(addr_mode=7))
"""})
    assert lines(record, "a") == [
        "unknown ValueError ('unknown config param',)",
        "rxbuf get ValueError ('unknown config param',)",
        "rxbuf set ValueError ('unknown config param',)",
        "two TypeError ('must query one param',)",
        "none TypeError ('must query one param',)",
        "mixed TypeError (\"can't specify pos and kw args\",)",
        "long name OSError (22,)",
        "mtu small OSError (22,)",
        "mtu large OSError (22,)",
        "mtu largest None",
        "addr_mode get ValueError ('unknown config param',)",
        "addr_mode bad OSError (22,)",
    ]


def test_setting_keys(tmp_path: Path) -> None:
    record = run_nodes(tmp_path, {"a": """
import bluetooth
ble = bluetooth.BLE()
print(ble.config(gap_name='before'))
print(ble.config('gap_name'))
ble.active(True)
print(ble.config('gap_name'))
ble.config(gap_name='sensor', mtu=185, bond=True, mitm=True, io=4, le_secure=True)
print(ble.config('gap_name'), ble.config('mtu'))
ble.config(addr_mode=1)
t, mac = ble.config('mac')
print(t, hex(mac[0] & 0xC0))
ble.config(addr_mode=3)
t, mac = ble.config('mac')
print(t, hex(mac[0] & 0xC0))
ble.config(addr_mode=2)
try:
    ble.config('mac')
except OSError as e:
    print('rpa', e.args)
ble.config(addr_mode=0)
print(ble.config('mac')[0])
"""})
    # active(1) resets the name to the build's default (NimBLE's sync callback).
    assert lines(record, "a") == [
        "None", "b'before'", "b'MPY NIMBLE'", "b'sensor' 185", "1 0xc0", "1 0x0", "rpa (22,)", "0",
    ]
    assert failures(record) == []


def test_pairing_keys_are_unknown_on_btstack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record = run_nodes(
        tmp_path,
        {"a": "import bluetooth\nble = bluetooth.BLE()\nble.active(1)\ntry:\n  ble.config(bond=True)\n"
              "except ValueError as e:\n  print(e)\n"},
        stacks={"a": "btstack"},
        monkeypatch=monkeypatch,
    )
    assert lines(record, "a") == ["unknown config param"]


def test_exception_in_handler_is_reported_and_disables_it(tmp_path: Path) -> None:
    record = run_nodes(tmp_path, {
        "a": """
import bluetooth, time
ble = bluetooth.BLE()
ble.active(True)
calls = []
def irq(event, data):
    calls.append(event)
    raise ValueError('boom')
ble.irq(irq)
ble.gap_scan(300, 30000, 30000)
time.sleep_ms(500)
print('calls', calls)
print('still running')
""",
        "b": "import bluetooth\nble = bluetooth.BLE()\nble.active(1)\nble.gap_advertise(20000, b'\\x02\\x01\\x06')\n",
    }, duration="1s")
    out = lines(record, "a")
    assert out[0] == "Unhandled exception in IRQ callback handler"
    assert out[1] == "Traceback (most recent call last):"
    assert out[2].startswith('  File "a.py", line ') and out[2].endswith(", in irq")
    assert out[3] == "ValueError: boom"
    # Disabled after the first exception: neither more results nor _IRQ_SCAN_DONE.
    assert out[4:] == ["calls [5]", "still running"]
    assert failures(record) == []


def test_irq_memoryviews_are_only_valid_during_the_call(tmp_path: Path) -> None:
    record = run_nodes(tmp_path, {
        "a": """
import bluetooth, time
ble = bluetooth.BLE()
ble.active(True)
kept = []
def irq(event, data):
    if event == 5 and not kept:
        addr_type, addr, adv_type, rssi, adv_data = data
        print(type(addr).__name__, addr.readonly, bytes(addr) == bytes(b'\\x11"3DUw'))
        kept.append(addr)
        kept.append(bytes(adv_data))
ble.irq(irq)
ble.gap_scan(300, 30000, 30000)
time.sleep_ms(400)
try:
    bytes(kept[0])
except ValueError:
    print('released')
print(kept[1])
""",
        "b": "import bluetooth\nble = bluetooth.BLE()\nble.active(1)\nble.gap_advertise(20000, b'\\x02\\x01\\x06')\n",
    }, duration="1s")
    assert lines(record, "a") == ["memoryview True True", "released", "b'\\x02\\x01\\x06'"]
