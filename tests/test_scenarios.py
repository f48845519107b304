"""Every example scenario is valid, says what it shows, runs green, and renders a report;
the bundled demo runs from `blesim run`; runs are byte-for-byte reproducible."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from emu.cli import cli, demo_scenario
from emu.report import write_report
from emu.run import RunOptions, Runner
from emu.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml")) + [demo_scenario()]


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_scenario_runs_green_and_renders(path: Path, tmp_path: Path) -> None:
    first = path.read_text(encoding="utf-8").lstrip().splitlines()[0]
    assert first.startswith("#") and len(first) > 20, "a scenario starts with a comment saying what it shows"
    scenario = load_scenario(path)
    runner = Runner(scenario, RunOptions(pcap=tmp_path / "air.pcap", logs_dir=tmp_path / "logs"))
    runner.run()
    results = runner.results()
    failed = [r.detail for r in results if not r.met]
    errors = {n: [f.message for f in r.failures] for n, r in runner.record.nodes.items() if r.failures}
    assert not failed and not errors, (failed, errors)
    write_report(runner.record, tmp_path / "report.html", results=results)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<svg" in html and "http://" not in html.replace("http://www.w3.org", "")
    for name in runner.record.nodes:
        assert name in html


def test_blesim_run_without_arguments_runs_the_demo(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["run", "--quiet", "--json", str(tmp_path / "s.json")])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["scenario"] == "battery-demo" and all(e["met"] for e in summary["expectations"])
    assert "[   0.000000] sensor: advertising as" in result.stdout


def _run(out: Path, seed: str | None = None) -> int:
    args = ["run", str(demo_scenario()), "--quiet", "--pcap", str(out / "air.pcap"), "--btsnoop", str(out / "hci"),
            "--logs", str(out / "logs"), "--json", str(out / "summary.json")]
    if seed is not None:
        args += ["--seed", seed]
    return CliRunner().invoke(cli, args).exit_code


def test_same_scenario_and_seed_give_identical_outputs(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    assert _run(a) == 0 and _run(b) == 0 and _run(c, seed="8") == 0
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert {str(f) for f in files} >= {"air.pcap", "hci/sensor.btsnoop", "hci/phone.btsnoop", "logs/sensor.log",
                                        "logs/phone.log", "summary.json"}
    for f in files:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
    assert (a / "air.pcap").read_bytes() != (c / "air.pcap").read_bytes()


def test_interrupted_run_leaves_complete_captures_and_exits_130(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from emu import run as run_module
    from emu.capture import read_air_pcap

    calls = {"n": 0}
    original = run_module.Runner.advance

    def interrupted(self: Runner, until_ns: int, **kw: object) -> bool:
        def progress(now: int, end: int) -> None:
            calls["n"] += 1
            if calls["n"] == 5:
                raise KeyboardInterrupt

        self.options.progress = progress
        return original(self, until_ns, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(run_module.Runner, "advance", interrupted)
    result = CliRunner().invoke(cli, ["run", "--quiet", "--pcap", str(tmp_path / "air.pcap"),
                                      "--logs", str(tmp_path / "logs")])
    assert result.exit_code == 130
    assert "interrupted" in result.stderr and str(tmp_path / "air.pcap") in result.stdout
    records = read_air_pcap(tmp_path / "air.pcap")
    assert records and records[-1].t_ns <= 500_000_000
    log = (tmp_path / "logs" / "sensor.log").read_text()
    assert log.endswith("\n") and log.startswith("advertising as")


def test_the_installed_console_script_runs_the_packaged_demo(tmp_path: Path) -> None:
    import shutil
    import subprocess

    exe = shutil.which("blesim")
    assert exe is not None, "the blesim console script is installed by `pip install .`"
    done = subprocess.run([exe, "run", "--quiet"], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "sensor: advertising as" in done.stdout


def test_reboot_and_power_events_keep_the_state_folder(tmp_path: Path) -> None:
    from emu.scenario import loads_scenario

    (tmp_path / "fw.py").write_text(
        "import time\n"
        "from blesim import device\n"
        "try:\n"
        "    n = int(open('boots').read())\n"
        "except OSError:\n"
        "    n = 0\n"
        "open('boots', 'w').write(str(n + 1))\n"
        "print('boot', n + 1, 'at', round(time.monotonic(), 3))\n"
        "device.advertise(name='b', interval_ms=100)\n"
    )
    scenario = loads_scenario(
        "# boots\nname: boots\nduration: 5s\nnodes:\n  - {name: a, personality: native, firmware: fw.py}\n"
        "timeline:\n  - {at: 1s, reboot: {node: a}}\n  - {at: 2s, power: {node: a, on: false}}\n"
        "  - {at: 3s, power: {node: a, on: true}}\n",
        file="boots.yaml", base_dir=tmp_path,
    )
    runner = Runner(scenario, RunOptions(pcap=tmp_path / "air.pcap"))
    runner.run()
    lines = [o.text for o in runner.record.nodes["a"].output]
    assert [line.split(" at ")[0] for line in lines] == ["boot 1", "boot 2", "boot 3"]
    from emu.capture import read_air_pcap

    starts = [r.t_ns for r in read_air_pcap(tmp_path / "air.pcap")]
    assert not any(2_000_000_000 < t < 3_000_000_000 for t in starts)  # off: silent
    assert any(t > 3_000_000_000 for t in starts)  # on again: advertising after the cold start
