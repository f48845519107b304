"""The blesim command line: exit codes and one-line errors for bad input."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from emu.cli import cli

DATA = Path(__file__).parent / "data"


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_version() -> None:
    code, out, _ = invoke("--version")
    assert code == 0 and out.startswith("blesim, version ")


def test_validate_good_and_bad(tmp_path: Path) -> None:
    code, out, err = invoke("validate", str(DATA / "full.yaml"))
    assert code == 0 and out.startswith("ok: ") and not err
    code, out, err = invoke("validate", str(DATA / "many_problems.yaml"))
    assert code == 2
    lines = err.strip().splitlines()
    assert lines and all(line.startswith("error: ") and "many_problems.yaml:" in line for line in lines)
    assert "Traceback" not in err


def test_bad_inputs_exit_2_with_one_line_error_and_no_traceback(tmp_path: Path) -> None:
    cases = {
        "syntax.yaml": "name: x\nnodes: [\n",
        "unknown_key.yaml": "name: x\nnodes:\n  - name: a\n    personality: native\n    firmware: fw.py\n    positon: [0, 0]\n",
        "bad_units.yaml": "name: x\nduration: 3 parsecs\nnodes: []\n",
        "missing_fw.yaml": "name: x\nnodes:\n  - name: a\n    personality: native\n    firmware: nope.py\n",
        "dup.yaml": "name: x\nnodes:\n  - {name: a, personality: native, firmware: fw.py}\n  - {name: a, personality: native, firmware: fw.py}\n",
        "address.yaml": "name: x\nnodes:\n  - {name: a, personality: native, firmware: fw.py, address: 'ZZ:00'}\n",
        "negative.yaml": "name: x\nnodes:\n  - {name: a, personality: native, firmware: fw.py, boot_time: -1s}\n",
    }
    (tmp_path / "fw.py").write_text("print('hi')\n")
    for file, text in cases.items():
        path = tmp_path / file
        path.write_text(text)
        for command in ("run", "validate"):
            code, out, err = invoke(command, str(path))
            assert code == 2, (file, command, out, err)
            assert err.startswith("error: ") and file in err.splitlines()[0], (file, err)
            assert "Traceback" not in err + out
    code, _, err = invoke("run", str(tmp_path / "absent.yaml"))
    assert code == 2 and err.startswith("error: ") and "absent.yaml" in err
    code, _, err = invoke("run", str(tmp_path / "dup.yaml"), "--duration", "-3s")
    assert code == 2 and "error: " in err


def test_report_must_be_html_or_png(tmp_path: Path) -> None:
    code, _, err = invoke("run", "--report", str(tmp_path / "r.txt"))
    assert code == 2 and err.startswith("error: ")


def test_bench_lists_cases_and_refuses_unknown_ones() -> None:
    code, out, _ = invoke("bench", "--list")
    assert code == 0 and "adv-crowd-100" in out.split()
    code, _, err = invoke("bench", "no-such-case")
    assert code == 2 and err.startswith("error: unknown bench case")


def test_new_writes_a_starter_that_runs_green_for_each_personality(tmp_path: Path) -> None:
    import importlib

    from emu.personality import PERSONALITY_PACKAGES

    available = []
    for name, package in PERSONALITY_PACKAGES.items():
        try:
            module = importlib.import_module(package)
        except ModuleNotFoundError:
            continue
        if getattr(module, "STARTER", None):
            available.append(name)
    assert "native" in available
    for personality in available:
        code, out, err = invoke("new", f"demo-{personality}", "--personality", personality, "--dir", str(tmp_path))
        assert code == 0, err
        scenario = tmp_path / f"demo-{personality}" / f"demo-{personality}.yaml"
        assert scenario.is_file()
        code, out, err = invoke("run", str(scenario), "--quiet")
        assert code == 0, (personality, out, err)
    code, _, err = invoke("new", "x", "--personality", "cobol", "--dir", str(tmp_path))
    assert code == 2 and err.startswith("error: ")
    code, _, err = invoke("new", "demo-native", "--dir", str(tmp_path))
    assert code == 2 and "already exists" in err


def test_bench_skips_a_case_whose_comparison_package_is_missing(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "bumble" else real(name, *a))
    code, out, err = invoke("bench", "gatt-vs-bumble")
    assert code == 0
    assert "skipped gatt-vs-bumble: needs Bumble: pip install 'blesim[bench]'" in err
