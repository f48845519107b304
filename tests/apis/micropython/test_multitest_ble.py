"""BLE multitests on the ``micropython`` personality: each ``.exp`` is what real
MicroPython (NimBLE build) prints, per ../shared/reference/micropython.md.

Every area of the ``bluetooth`` API has a multitest under ``multitests/``; they need the
personality's ``bluetooth`` module (and, for pairing, the controller's LL encryption and
the host's Security Manager).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from apis.micropython.multitest import MultitestOptions, run_multitest
from emu.multitest_cli import multitest_command

HERE = Path(__file__).parent / "multitests"
LIB = Path(__file__).resolve().parents[3] / "scenarios" / "firmware" / "micropython_aiolite.py"

BLE_TESTS = sorted(p.stem for p in HERE.glob("ble_*.py"))


def test_every_area_has_a_multitest() -> None:
    assert set(BLE_TESTS) >= {
        "ble_advertise_scan", "ble_gap_connect", "ble_gap_device_name", "ble_characteristic",
        "ble_descriptors", "ble_buffer_append", "ble_discovery", "ble_irq_chain", "ble_l2cap",
        "ble_mtu", "ble_subscribe", "ble_pair_bond", "ble_passkey",
    }
    for name in BLE_TESTS + ["aioble_style"]:
        assert (HERE / f"{name}.py.exp").is_file(), name


@pytest.mark.parametrize("name", BLE_TESTS + ["aioble_style"])
def test_ble_multitest_matches_real_micropython(name: str) -> None:
    result = run_multitest(HERE / f"{name}.py", MultitestOptions(lib=[LIB]))
    assert result.expected is not None
    assert result.output == result.expected
    assert result.status == "pass"
    assert not result.failures


def test_same_ble_multitest_twice_gives_identical_output_and_captures(tmp_path: Path) -> None:
    runs = []
    for run in ("a", "b"):
        out = tmp_path / run
        options = MultitestOptions(pcap=out / "air.pcap", btsnoop_dir=out / "hci", logs_dir=out / "logs")
        result = run_multitest(HERE / "ble_characteristic.py", options)
        files = {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
        runs.append((result.output, files))
    assert runs[0] == runs[1]
    assert set(runs[0][1]) == {
        "air.pcap", "hci/instance0.btsnoop", "hci/instance1.btsnoop", "logs/instance0.log", "logs/instance1.log",
    }
    assert len(runs[0][1]["air.pcap"]) > 1000  # advertising, the connection and its ATT traffic


def test_cli_runs_ble_multitests_with_a_lib(tmp_path: Path) -> None:
    res = CliRunner().invoke(multitest_command, [
        str(HERE / "aioble_style.py"), str(HERE / "ble_gap_connect.py"), "--lib", str(LIB),
        "--pcap", str(tmp_path / "air.pcap"),
    ])
    assert res.exit_code == 0, res.output
    assert res.output.rstrip("\n").splitlines()[-1] == "2 passed, 0 failed, 0 skipped"
    # Several tests: one capture per test.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["air_aioble_style.pcap", "air_ble_gap_connect.pcap"]
