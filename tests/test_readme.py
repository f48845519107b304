"""The README's examples work as written."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from emu.cli import demo_scenario
from emu.scenario import loads_scenario

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _block(after_heading: str, lang: str) -> str:
    section = README.split(after_heading, 1)[1]
    match = re.search(rf"```{lang}\n(.*?)```", section, re.S)
    assert match, f"no {lang} block after {after_heading!r}"
    return match.group(1)


def test_the_scenario_example_is_valid() -> None:
    text = _block("## Running a scenario", "yaml")
    scenario = loads_scenario(text, file="README.md", base_dir=ROOT / "scenarios")
    assert [n.name for n in scenario.nodes] == ["sensor", "phone"]
    assert len(scenario.expect) == 5 and len(scenario.timeline) == 3


def test_the_testing_your_firmware_example_passes(pytester: pytest.Pytester) -> None:
    code = _block("## Testing your firmware", "python")
    pytester.makepyfile(test_sensor=code)
    (pytester.path / "firmware").mkdir()
    shutil.copy(demo_scenario().parent / "firmware" / "sensor.py", pytester.path / "firmware" / "sensor.py")
    shutil.copytree(ROOT / "scenarios", pytester.path / "scenarios")
    result = pytester.runpytest()
    result.assert_outcomes(passed=2)
