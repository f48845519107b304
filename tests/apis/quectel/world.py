"""Small worlds of Quectel nodes for the personality's tests (firmware given as text)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from emu.records import RunRecord
from emu.run import Runner, RunOptions
from emu.scenario import load_scenario, loads_scenario

REPO = Path(__file__).resolve().parents[3]
SCENARIOS = REPO / "scenarios"


def run_world(
    tmp_path: Path,
    firmware: dict[str, str],
    duration: str = "5s",
    personalities: dict[str, str] | None = None,
    extra: str = "",
) -> RunRecord:
    """Run one node per ``firmware`` entry (name -> source), 2 m apart, and return the record."""
    nodes = []
    for i, (name, source) in enumerate(firmware.items()):
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        personality = (personalities or {}).get(name, "quectel")
        nodes.append(
            f"  - {{name: {name}, personality: {personality}, firmware: {name}.py, position: [{2 * i}, 0]}}"
        )
    text = f"name: t\nseed: 3\nduration: {duration}\nnodes:\n" + "\n".join(nodes) + "\n" + extra
    scenario = loads_scenario(text, file=str(tmp_path / "t.yaml"), base_dir=tmp_path)
    return Runner(scenario, RunOptions()).run()


def run_file(path: Path) -> tuple[Runner, RunRecord]:
    runner = Runner(load_scenario(path), RunOptions())
    return runner, runner.run()


def lines(record: RunRecord, node: str) -> list[str]:
    return [line.text for line in record.nodes[node].output]


def failures(record: RunRecord) -> dict[str, list[str]]:
    return {name: [f.message for f in n.failures] for name, n in record.nodes.items() if n.failures}


def assert_in_order(got: list[str], expected: list[str]) -> None:
    """Each expected line (a full-line regular expression) appears, in this order."""
    position = 0
    for pattern in expected:
        regex = re.compile(pattern)
        while position < len(got) and not regex.fullmatch(got[position]):
            position += 1
        assert position < len(got), f"missing (in order): {pattern!r}\n--- output:\n" + "\n".join(got)
        position += 1
