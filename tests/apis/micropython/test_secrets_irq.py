"""Bond secrets live in the firmware, as with MicroPython's NimBLE binding: every store
read is ``_IRQ_GET_SECRET`` at the moment the stack needs it, every write is
``_IRQ_SET_SECRET`` and its answer counts (apis/micropython/pairing.py).

A MicroPython central (which keeps its secrets in a dict) pairs with bonding with a
MicroPython peripheral, disconnects, reconnects and asks for encryption again
(``gap_pair`` with a bond: LE_Enable_Encryption with the stored LTK). Whether that
re-encryption works depends only on what the *peripheral's* firmware does with its
secrets: a dict that keeps them (works), a handler that refuses to store them (fails
with PIN or Key Missing, 0x06), a dict cleared between the connections (fails). The
peripheral prints each IRQ from inside its handler, so the printed lines carry the
simulated instant the handler ran; the central's and the peripheral's HCI traffic is
read back from their btsnoop captures.
"""

from __future__ import annotations

import struct
import textwrap
from pathlib import Path

import pytest

from emu.capture import CAPTURE_EPOCH_UNIX_NS
from emu.records import RunRecord
from emu.run import Runner, RunOptions
from emu.scenario import loads_scenario
from tests.apis.micropython.test_bluetooth_rig import ADDR, failures, lines

#: btsnoop timestamps count microseconds from 0000-01-01 (0x00DCDDB30F2F8000 to 1970).
_BTSNOOP_UNIX_OFFSET_US = 0x00DCDDB30F2F8000
_PIN_OR_KEY_MISSING = 0x06

STORE = """
    elif event == 29:  # _IRQ_GET_SECRET
        sec_type, index, key = data
        key = None if key is None else bytes(key)
        LOG('get', sec_type, index, key)
        if MODE == 'refuse':
            return None
        if key is None:
            found = [v for (t, k), v in sorted(secrets.items()) if t == sec_type]
            return found[index] if index < len(found) else None
        return secrets.get((sec_type, key))
    elif event == 30:  # _IRQ_SET_SECRET
        sec_type, key, value = data
        LOG('set', sec_type, bytes(key), value is not None)
        if MODE == 'refuse':
            return False
        if value is None:
            secrets.pop((sec_type, bytes(key)), None)
        else:
            secrets[(sec_type, bytes(key))] = bytes(value)
        return True
"""

COMMON = """
import bluetooth, time
ble = bluetooth.BLE()
secrets = {}
state = {}

def wait(name, timeout_ms=5000):
    for _ in range(timeout_ms // 5):
        if name in state:
            return state.pop(name)
        time.sleep_ms(5)
    raise RuntimeError('no ' + name)
"""

PERIPHERAL = COMMON + """
MODE = 'MODE_VALUE'
LOG = print

def irq(event, data):
    if event == 1:  # _IRQ_CENTRAL_CONNECT
        print('connect')
        state['conn'] = data[0]
    elif event == 2:  # _IRQ_CENTRAL_DISCONNECT
        print('disconnect')
        state['gone'] = True
    elif event == 28:  # _IRQ_ENCRYPTION_UPDATE
        print('enc', tuple(data[1:4]))
""" + STORE + """
ble.irq(irq)
ble.active(True)
ble.config(bond=True, le_secure=LE_SECURE)
for visit in range(2):
    ble.gap_advertise(20000, b'\\x02\\x01\\x06')
    wait('conn')
    wait('gone')
    if MODE == 'forget':
        secrets.clear()
"""

CENTRAL = COMMON + """
MODE = 'dict'
LOG = lambda *args: None

def irq(event, data):
    if event == 7:  # _IRQ_PERIPHERAL_CONNECT
        state['conn'] = data[0]
    elif event == 8:  # _IRQ_PERIPHERAL_DISCONNECT
        state['gone'] = True
    elif event == 28:  # _IRQ_ENCRYPTION_UPDATE
        state['enc'] = tuple(data[1:4])
""" + STORE + """
ble.irq(irq)
ble.active(True)
ble.config(bond=True, le_secure=LE_SECURE)
for visit in ('first', 'second'):
    ble.gap_connect(0, b'\\x11"3DUf')
    conn = wait('conn')
    time.sleep_ms(50)
    ble.gap_pair(conn)
    print(visit, 'enc', wait('enc'))
    time.sleep_ms(100)
    ble.gap_disconnect(conn)
    wait('gone')
    time.sleep_ms(100)
"""

#: The key the peripheral's firmware is asked for: the central's identity address
#: (type octet, then the address least significant octet first).
CENTRAL_KEY = b"\x00" + bytes.fromhex(ADDR["b"].replace(":", ""))[::-1]


def _run(tmp_path: Path, mode: str, le_secure: bool = False) -> RunRecord:
    sources = {
        "a": PERIPHERAL.replace("MODE_VALUE", mode).replace("LE_SECURE", str(le_secure)),
        "b": CENTRAL.replace("LE_SECURE", str(le_secure)),
    }
    nodes = []
    for i, (name, source) in enumerate(sources.items()):
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        nodes.append(
            f"  - {{name: {name}, personality: micropython, firmware: {name}.py, "
            f"position: [{i * 2}, 0], address: \"{ADDR[name]}\"}}\n"
        )
    scenario = loads_scenario("name: secrets\nseed: 3\nduration: 4s\nnodes:\n" + "".join(nodes), base_dir=tmp_path)
    options = RunOptions(state_dir=tmp_path / "state", btsnoop_dir=tmp_path / "hci")
    record = Runner(scenario, options).run()
    assert failures(record) == []
    return record


def _hci_events(path: Path) -> list[tuple[int, bytes]]:
    """(simulated ns, event packet without its H4 octet) of each HCI event in a btsnoop file."""
    data = path.read_bytes()
    assert data[:8] == b"btsnoop\x00"
    pos, events = 16, []
    while pos < len(data):
        _, length, _, _, stamp = struct.unpack_from(">IIIIq", data, pos)
        packet = data[pos + 24 : pos + 24 + length]
        pos += 24 + length
        if packet[0] == 0x04:
            events.append(((stamp - _BTSNOOP_UNIX_OFFSET_US) * 1000 - CAPTURE_EPOCH_UNIX_NS, packet[1:]))
    return events


def _encryption_changes(tmp_path: Path, node: str) -> list[int]:
    """The status of each HCI Encryption Change event (0x08) the node's host received."""
    return [packet[2] for _, packet in _hci_events(tmp_path / "hci" / f"{node}.btsnoop") if packet[0] == 0x08]


def _ltk_requests(tmp_path: Path, node: str) -> list[int]:
    """Instants (ns) of the HCI LE Long Term Key Request events (LE Meta 0x3E, 0x05)."""
    return [
        t for t, packet in _hci_events(tmp_path / "hci" / f"{node}.btsnoop") if packet[0] == 0x3E and packet[2] == 0x05
    ]


def _second_visit(record: RunRecord, node: str) -> list[str]:
    out = lines(record, node)
    starts = [i for i, line in enumerate(out) if line == "connect"]
    assert len(starts) == 2, out
    return out[starts[1] :]


@pytest.mark.parametrize("le_secure", [False, True])
def test_a_firmware_that_keeps_its_secrets_re_encrypts_from_the_bond(tmp_path: Path, le_secure: bool) -> None:
    record = _run(tmp_path, "dict", le_secure)
    assert lines(record, "b") == ["first enc (1, 0, 1)", "second enc (1, 0, 1)"]
    second = _second_visit(record, "a")
    # The bond was read back from the firmware, by the central's key, when the
    # central asked for encryption (the GATT server reads it again for its bonded
    # client state), and used: no pairing, hence nothing written, on the second visit.
    get = f"get 2 0 {CENTRAL_KEY!r}"
    assert second[:2] == ["connect", get]
    assert [line for line in second if line not in ("connect", get, "disconnect")] == ["enc (1, 0, 1)"]
    assert _encryption_changes(tmp_path, "b") == [0, 0]


@pytest.mark.parametrize("mode", ["refuse", "forget"])
def test_a_firmware_that_does_not_keep_its_secrets_cannot_re_encrypt(tmp_path: Path, mode: str) -> None:
    record = _run(tmp_path, mode)
    central = lines(record, "b")
    assert central[0] == "first enc (1, 0, 1)"
    # The central still has its bond and asks for encryption with it; the peripheral
    # has no key for it: negative LTK reply, the central's encryption fails.
    assert central[1] == "second enc (0, 0, 0)"
    assert _encryption_changes(tmp_path, "b") == [0, _PIN_OR_KEY_MISSING]
    second = _second_visit(record, "a")
    assert second[:2] == ["connect", f"get 2 0 {CENTRAL_KEY!r}"]
    assert not any(line.startswith("enc (1") for line in second)
    first = lines(record, "a")[: -len(second)]
    # The first pairing did ask the firmware to store the bond.
    assert f"set 2 {CENTRAL_KEY!r} True" in first


@pytest.mark.parametrize("le_secure", [False, True])
def test_the_bond_is_read_when_the_ltk_is_requested(tmp_path: Path, le_secure: bool) -> None:
    record = _run(tmp_path, "dict", le_secure)
    out = record.nodes["a"].output
    connects = [line.t_ns for line in out if line.text == "connect"]
    gets = [line.t_ns for line in out if line.text == f"get 2 0 {CENTRAL_KEY!r}"]
    encs = [line.t_ns for line in out if line.text == "enc (1, 0, 1)"]
    ltk_requests = _ltk_requests(tmp_path, "a")
    # Two connections; the second encrypts from the bond: one LTK request, and the
    # firmware is asked for the central's bond at that very instant (to the µs of the
    # capture), after the connection and before the encryption is reported.
    assert len(connects) == 2 and len(encs) == 2
    assert len(ltk_requests) == 2  # the pairing's (STK/LTK, EDIV = Rand = 0) and the bond's
    asked = [t for t in gets if t > connects[1]]
    assert asked and connects[1] < asked[0] < encs[1]
    assert asked[0] // 1000 == ltk_requests[1] // 1000
    # Before the LTK request nothing asked for the central's bond on that connection.
    assert not [t for t in gets if connects[1] < t < ltk_requests[1] // 1000 * 1000]
