"""``_IRQ_CONNECTION_UPDATE`` (27): ``(conn_handle, conn_interval, conn_latency,
supervision_timeout, status)`` when the peer changes the connection parameters.

A MicroPython node and a ``native`` node (the Python device API, which can ask for new
parameters in either role) run in one scenario on simulated time. NimBLE reports the
interval in 1.25 ms units and the supervision timeout in 10 ms units (the values of
LE Connection Update Complete), status 0 on success. Both roles are covered: the peer
as central (Connection Update procedure) and as peripheral (it asks the MicroPython
central, which accepts). The IRQ fires when the update is in force, at the connection
event where the peer's ``update_parameters`` returns.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from emu.records import RunRecord
from emu.run import Runner, RunOptions
from emu.scenario import loads_scenario
from tests.apis.micropython.test_bluetooth_gatts import ADVERTISE, PRELUDE
from tests.apis.micropython.test_bluetooth_rig import ADDR, failures, lines

#: The MicroPython side: print every ``_IRQ_CONNECTION_UPDATE`` with its instant (µs).
LOG_UPDATES = """
def on_irq(event, data):
    if event == 27:
        print('update', time.ticks_us(), data)
HANDLER = on_irq
"""

#: The native side: ask for 45 ms, latency 2, 2 s supervision timeout, then print the
#: instant (µs since the scenario epoch) at which the update was in force.
UPDATE = """
print('params', conn.interval_ms, conn.latency, conn.supervision_timeout_ms)
time.sleep_ms(300)
conn.update_parameters(interval_ms=45, latency=2, timeout_ms=2000)
print('updated', time.monotonic_ns() // 1000, conn.interval_ms, conn.latency, conn.supervision_timeout_ms)
time.sleep_ms(500)
"""


def run_pair(tmp_path: Path, mpy_source: str, native_source: str) -> RunRecord:
    (tmp_path / "a.py").write_text(textwrap.dedent(mpy_source), encoding="utf-8")
    (tmp_path / "b.py").write_text(textwrap.dedent(native_source), encoding="utf-8")
    text = (
        "name: conn-update\nseed: 5\nduration: 4s\nnodes:\n"
        f'  - {{name: a, personality: micropython, firmware: a.py, position: [0, 0], address: "{ADDR["a"]}"}}\n'
        f'  - {{name: b, personality: native, firmware: b.py, position: [2, 0], address: "{ADDR["b"]}"}}\n'
    )
    scenario = loads_scenario(text, base_dir=tmp_path)
    return Runner(scenario, RunOptions(state_dir=tmp_path / "state")).run()


def _update_lines(out: list[str]) -> list[tuple[int, str]]:
    """``[(ticks_us, payload), ...]`` of the MicroPython node's printed updates."""
    found = []
    for line in out:
        if line.startswith("update "):
            _, t, payload = line.split(" ", 2)
            found.append((int(t), payload))
    return found


def _updated_at(out: list[str]) -> tuple[int, str]:
    line = next(line for line in out if line.startswith("updated "))
    _, t, rest = line.split(" ", 2)
    return int(t), rest


def test_peripheral_gets_the_update_made_by_the_central(tmp_path: Path) -> None:
    mpy = PRELUDE + LOG_UPDATES + ADVERTISE + "time.sleep_ms(3000)\n"
    native = f"""
import time
from blesim import device
conn = device.connect("{ADDR['a']}", timeout_ms=2000, interval_ms=30, supervision_timeout_ms=4000)
""" + UPDATE
    record = run_pair(tmp_path, mpy, native)
    assert failures(record) == []
    assert lines(record, "b")[0] == "params 30.0 0 4000.0"
    updated_us, values = _updated_at(lines(record, "b"))
    assert values == "45.0 2 2000.0"
    updates = _update_lines(lines(record, "a"))
    # 45 ms = 36 x 1.25 ms; 2000 ms = 200 x 10 ms; status 0. Exactly one update.
    assert [payload for _, payload in updates] == ["(0, 36, 2, 200, 0)"]
    # The IRQ runs at the connection event where the new parameters apply (the
    # update's instant), the event where the peer's call returns too: each controller
    # reports it at its own point of that event, well under a millisecond apart.
    # ticks_us and the native clock count from the same epoch (both boot at t=0).
    assert abs(updates[0][0] - updated_us) < 1000


def test_central_gets_the_update_asked_by_the_peripheral(tmp_path: Path) -> None:
    mpy = PRELUDE + LOG_UPDATES + f"""
ble.gap_connect(0, bytes.fromhex('{ADDR["b"].replace(":", "")}'))
conn = wait(7)[0]
print('connected', conn)
time.sleep_ms(3000)
"""
    native = """
import time
from blesim import device
device.advertise(name="peer", interval_ms=20)
conn = device.wait_for_connection(timeout_ms=3000)
""" + UPDATE
    record = run_pair(tmp_path, mpy, native)
    assert failures(record) == []
    out_a = lines(record, "a")
    assert out_a[0] == "connected 0"
    updated_us, values = _updated_at(lines(record, "b"))
    assert values == "45.0 2 2000.0"
    updates = _update_lines(out_a)
    assert [payload for _, payload in updates] == ["(0, 36, 2, 200, 0)"]
    assert abs(updates[0][0] - updated_us) < 1000
