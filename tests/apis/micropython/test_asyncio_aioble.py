"""An aioble-style asyncio firmware pair on two simulated MicroPython nodes.

The library (``scenarios/firmware/micropython_aiolite.py``) uses only the asyncio names
real aioble uses; the firmware advertises with ``async with await advertise()``, scans
with ``async for``, writes and notifies a characteristic, and hits timeouts
(advertising, connecting to an absent device, waiting for a write or a notification).
Needs the ``micropython`` personality's ``bluetooth``.
"""

from __future__ import annotations

from pathlib import Path

from emu.run import Runner, RunOptions
from emu.scenario import load_scenario
from emu.scenario_schema import NodeSpec, Scenario

ROOT = Path(__file__).resolve().parents[3]
FIRMWARE = Path(__file__).resolve().parent / "firmware"
LIB = ROOT / "scenarios" / "firmware" / "micropython_aiolite.py"
S = 1_000_000_000


def run_pair(seed: int = 1) -> Runner:
    nodes = (
        NodeSpec(name="sensor", personality="micropython", firmware=FIRMWARE / "aioble_sensor.py",
                 lib=(LIB,), position=(0.0, 0.0, 0.0)),
        NodeSpec(name="client", personality="micropython", firmware=FIRMWARE / "aioble_client.py",
                 lib=(LIB,), position=(1.0, 0.0, 0.0)),
    )
    runner = Runner(Scenario(name="aioble-style", nodes=nodes, seed=seed, duration_ns=8 * S), RunOptions())
    runner.run()
    return runner


def texts(runner: Runner, node: str) -> list[str]:
    return [line.text for line in runner.record.nodes[node].output]


def test_aioble_style_firmware_runs_on_the_asyncio_standin() -> None:
    runner = run_pair()
    assert not runner.failed_firmware(), [f.traceback for n in runner.record.nodes.values() for f in n.failures]
    assert texts(runner, "sensor") == [
        "advertise timed out at 200",
        "advertising as sensor at 500",
        "central connected: True",
        "no command within 100 ms",
        "command: b'notify 3'",
        "central disconnected",
        "sensor done",
    ]
    assert texts(runner, "client") == [
        "connect to absent device timed out",
        "found aio-sensor connectable: True",
        "connected: True",
        "initial temperature: 21.5",
        "notified temperature: 21.75",
        "notified temperature: 22.0",
        "notified temperature: 22.25",
        "no more notifications (timeout)",
        "disconnected: True",
    ]
    sensor = runner.record.nodes["sensor"].output
    client = runner.record.nodes["client"].output
    # Timeouts land at exact simulated instants.
    assert sensor[0].t_ns == 200_000_000 and client[0].t_ns == 300_000_000
    assert sensor[1].t_ns == 500_000_000
    assert sensor[3].t_ns - sensor[2].t_ns == 100_000_000
    assert client[7].t_ns - client[6].t_ns == 300_000_000
    assert len(runner.record.connections) == 1


def test_aioble_style_pair_is_deterministic() -> None:
    first, second = run_pair(seed=4), run_pair(seed=4)
    for node in ("sensor", "client"):
        assert first.record.nodes[node].output == second.record.nodes[node].output
    assert first.record.air == second.record.air


def test_bundled_aioble_scenario_runs_green() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "micropython_aioble.yaml")
    runner = Runner(scenario, RunOptions())
    runner.run()
    results = runner.results()
    assert not runner.failed_firmware()
    assert results and all(r.met for r in results), [(r.spec, r.detail) for r in results]
