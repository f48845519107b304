"""The MicroPython example scenarios (``scenarios/micropython_*.yaml``) and the
``blesim new --personality micropython`` starter run green, and twice the same."""

from __future__ import annotations

from pathlib import Path

import pytest

from emu.expect import evaluate
from emu.records import RunRecord
from emu.run import Runner, RunOptions
from emu.scenario import load_scenario
from emu.starters import write_starter

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"
EXAMPLES = ["micropython_temperature.yaml", "micropython_uart.yaml"]


def run(path: Path, state: Path) -> tuple[list[str], RunRecord]:
    scenario = load_scenario(path)
    record = Runner(scenario, RunOptions(state_dir=state)).run()
    unmet = [f"{r.spec}: {r.detail}" for r in evaluate(scenario.expect, record) if not r.met]
    return unmet, record


def transcript(record: RunRecord) -> list[tuple[str, int, str]]:
    return [(name, line.t_ns, line.text) for name, node in record.nodes.items() for line in node.output]


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_scenario_meets_its_expectations(name: str, tmp_path: Path) -> None:
    unmet, record = run(SCENARIOS / name, tmp_path / "state")
    assert unmet == []
    assert all(not node.failures for node in record.nodes.values())
    assert record.connections, "the example connects its two nodes"


def test_examples_are_deterministic(tmp_path: Path) -> None:
    path = SCENARIOS / "micropython_temperature.yaml"
    _, first = run(path, tmp_path / "one")
    _, second = run(path, tmp_path / "two")
    assert transcript(first) == transcript(second)
    assert [(p.start_ns, p.pdu) for p in first.air] == [(p.start_ns, p.pdu) for p in second.air]


def test_starter_runs_green(tmp_path: Path) -> None:
    path = write_starter(tmp_path / "demo", "demo", "micropython")
    assert path.name == "demo.yaml"
    assert "demo" in (tmp_path / "demo" / "firmware" / "peripheral.py").read_text()
    unmet, record = run(path, tmp_path / "state")
    assert unmet == []
    assert any(line.text.startswith("notified: counter=") for line in record.nodes["central"].output)
