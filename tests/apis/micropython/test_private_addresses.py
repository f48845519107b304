"""``config(addr_mode=2/3)``: private addresses renewed every RPA timeout, as NimBLE does.

A peripheral advertises in RPA (or NRPA) mode with a 1 s interval; a central scans in
short bursts before and after the 300 s RPA timeout and prints the address each burst
saw. The RPAs must resolve with the IRK the peripheral stored (``_IRQ_SET_SECRET`` type
10), change at each timeout, and a central bonded before the change must find the
peripheral at its new address and re-encrypt the link from the bond.
"""

from __future__ import annotations

from pathlib import Path

from host.bonds import resolve_rpa
from linklayer.address import Address
from tests.apis.micropython.test_bluetooth_rig import failures, lines, run_nodes

PERIPHERAL = """
import bluetooth
ble = bluetooth.BLE()
secrets = {}

def advertise():
    ble.gap_advertise(1_000_000, b'\\x02\\x01\\x06\\x05\\x09PRIV')

def irq(event, data):
    if event == 2:  # _IRQ_CENTRAL_DISCONNECT
        advertise()
    elif event == 29:  # _IRQ_GET_SECRET
        sec_type, index, key = data
        if key is None:
            found = [v for (t, k), v in sorted(secrets.items()) if t == sec_type]
            return found[index] if index < len(found) else None
        return secrets.get((sec_type, bytes(key)))
    elif event == 30:  # _IRQ_SET_SECRET
        sec_type, key, value = data
        if sec_type == 10:
            print('irk', bytes(value).hex())
        if value is None:
            secrets.pop((sec_type, bytes(key)), None)
        else:
            secrets[(sec_type, bytes(key))] = bytes(value)
        return True

ble.irq(irq)
ble.active(True)
ble.config(bond=True, addr_mode=MODE)
advertise()
"""

CENTRAL = """
import bluetooth, time
ble = bluetooth.BLE()
secrets = {}
state = {}

def irq(event, data):
    if event == 5:  # _IRQ_SCAN_RESULT
        addr_type, addr, adv_type, rssi, adv = data
        if b'PRIV' in bytes(adv) and 'found' not in state:
            state['found'] = (addr_type, bytes(addr))
    elif event == 7:  # _IRQ_PERIPHERAL_CONNECT
        state['conn'] = data[0]
    elif event == 8:  # _IRQ_PERIPHERAL_DISCONNECT
        state['gone'] = True
    elif event == 28:  # _IRQ_ENCRYPTION_UPDATE
        state['enc'] = tuple(data[1:4])
    elif event == 29:
        sec_type, index, key = data
        if key is None:
            found = [v for (t, k), v in sorted(secrets.items()) if t == sec_type]
            return found[index] if index < len(found) else None
        return secrets.get((sec_type, bytes(key)))
    elif event == 30:
        sec_type, key, value = data
        if sec_type == 2 and value is not None:
            print('saved bond')
        if value is None:
            secrets.pop((sec_type, bytes(key)), None)
        else:
            secrets[(sec_type, bytes(key))] = bytes(value)
        return True

def wait(key):
    for _ in range(3000):
        if key in state:
            return state.pop(key)
        time.sleep_ms(10)
    raise RuntimeError('no ' + key)

def find(label):
    state.pop('found', None)
    ble.gap_scan(5000, 30000, 30000)
    addr_type, addr = wait('found')
    ble.gap_scan(None)
    time.sleep_ms(50)
    print(label, addr_type, addr.hex(), time.ticks_ms() // 1000)
    return addr_type, addr

def visit(label):
    addr_type, addr = find(label)
    ble.gap_connect(addr_type, addr, 10000)
    conn = wait('conn')
    ble.gap_pair(conn)
    print(label, 'enc', wait('enc'))
    ble.gap_disconnect(conn)
    wait('gone')

ble.irq(irq)
ble.active(True)
ble.config(bond=True)
time.sleep(1)
start = time.ticks_ms()
ACTIONS
"""


def _run(tmp_path: Path, mode: int, actions: str, duration: str) -> tuple[list[str], list[str]]:
    record = run_nodes(
        tmp_path,
        {"a": PERIPHERAL.replace("MODE", str(mode)), "b": CENTRAL.replace("ACTIONS", actions)},
        duration=duration,
    )
    assert failures(record) == []
    return lines(record, "a"), lines(record, "b")


def _seen(out: list[str], label: str) -> Address:
    """The (LSB-first) address the central printed for ``label``."""
    words = next(line.split() for line in out if line.startswith(label + " ") and "enc" not in line)
    assert words[1] == "1"  # a random address type
    return Address(bytes.fromhex(words[2])[::-1], True)


def test_rpa_mode_renews_resolvable_addresses_and_bonded_central_reconnects(tmp_path: Path) -> None:
    actions = """
visit('first')
time.sleep_ms(330_000 - time.ticks_diff(time.ticks_ms(), start))
visit('second')
time.sleep_ms(640_000 - time.ticks_diff(time.ticks_ms(), start))
find('third')
"""
    periph, central = _run(tmp_path, 2, actions, "700s")
    irk = bytes.fromhex(next(line.split()[1] for line in periph if line.startswith("irk ")))
    first, second, third = (_seen(central, label) for label in ("first", "second", "third"))
    for address in (first, second, third):
        assert address.value[5] >> 6 == 0b01  # an RPA
        assert resolve_rpa(irk, address)
    assert len({first.value, second.value, third.value}) == 3
    # Both visits end encrypted and bonded: the second from the bond made in the first
    # (found for the new RPA with the peripheral's IRK), without pairing again.
    assert "first enc (1, 0, 1)" in central
    assert "second enc (1, 0, 1)" in central
    second_visit = central[next(i for i, line in enumerate(central) if line.startswith("second ")):]
    assert "saved bond" in central and "saved bond" not in second_visit


def test_nrpa_mode_renews_non_resolvable_addresses(tmp_path: Path) -> None:
    actions = """
find('first')
time.sleep_ms(330_000 - time.ticks_diff(time.ticks_ms(), start))
find('second')
"""
    _, central = _run(tmp_path, 3, actions, "340s")
    first, second = _seen(central, "first"), _seen(central, "second")
    for address in (first, second):
        assert address.value[5] >> 6 == 0b00  # an NRPA
    assert first.value != second.value


def test_nrpa_mac_follows_the_renewal(tmp_path: Path) -> None:
    record = run_nodes(tmp_path, {"a": """
import bluetooth, time
ble = bluetooth.BLE()
ble.active(True)
ble.config(addr_mode=3)
before = ble.config('mac')
time.sleep(301)
after = ble.config('mac')
print(before[0], after[0], before[1] != after[1], after[1][0] & 0xC0)
"""}, duration="310s")
    assert lines(record, "a") == ["1 1 True 0"]
