"""The multitest harness: MicroPython's run-multitests.py semantics on simulated time.

These multitests use no Bluetooth, so they run on the core MicroPython modules (the
``micropython`` personality when installed, else the fallback of test_multitest_helpers).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from apis.micropython.multitest import (
    MultitestOptions,
    count_instances,
    format_report,
    run_multitest,
    run_multitests,
)
from emu.multitest_cli import multitest_command
from tests.apis.micropython.test_multitest_helpers import micropython_personality  # noqa: F401 - a fixture

HERE = Path(__file__).parent / "multitests"
S = 1_000_000_000
NON_BLE = ["asyncio_pingpong", "harness_broadcast", "harness_globals", "harness_metrics", "harness_reboot"]

pytestmark = pytest.mark.usefixtures("micropython_personality")


def write_test(tmp_path: Path, name: str, source: str, exp: str | None = None) -> Path:
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(source).lstrip("\n"))
    if exp is not None:
        path.with_name(path.name + ".exp").write_text(textwrap.dedent(exp).lstrip("\n"))
    return path


def test_count_instances_follows_the_harness_regex() -> None:
    src = "def instance0():\n    pass\ndef instance3():\n  pass\n    def instance9():\n"
    assert count_instances(src) == 4  # indented definitions are not counted
    assert count_instances("x = 1\n") == 0


@pytest.mark.parametrize("name", NON_BLE)
def test_harness_multitests_match_their_exp(name: str) -> None:
    result = run_multitest(HERE / f"{name}.py")
    assert result.expected is not None
    assert result.output == result.expected
    assert (result.status, result.error) == ("pass", False)


def test_metrics_are_set_aside() -> None:
    result = run_multitest(HERE / "harness_metrics.py")
    assert result.metrics == ["rate=12.5 per s"]
    assert "OUTPUT_METRIC" not in result.output


def test_skip_before_next_skips_the_test() -> None:
    result = run_multitest(HERE / "harness_skip.py")
    assert result.status == "skip"
    assert result.output == "--- instance0 ---\nchecking for a feature\n--- instance1 ---\n\n"


def test_instance1_starts_when_instance0_prints_next(tmp_path: Path) -> None:
    path = write_test(tmp_path, "order", """
        import time
        def instance0():
            time.sleep_ms(1234)
            multitest.next()
            time.sleep_ms(1)
        def instance1():
            print("start", time.ticks_ms())
            multitest.next()
    """)
    result = run_multitest(path)
    assert result.output == "--- instance0 ---\n\n--- instance1 ---\nstart 1234\n"
    assert result.status == "pass"  # no .exp: nothing to compare, nothing went wrong
    assert result.expected is None


def test_a_different_output_fails_and_the_report_shows_the_diff(tmp_path: Path) -> None:
    path = write_test(tmp_path, "differs", """
        def instance0():
            multitest.next()
            print("actual")
        def instance1():
            multitest.next()
    """, exp="""
        --- instance0 ---
        expected
        --- instance1 ---

    """)
    result = run_multitest(path)
    assert result.status == "fail"
    report = format_report(result, "differs.py")
    assert report.startswith("differs.py on micropython|micropython: FAIL\n")
    assert "### TEST ###\n--- instance0 ---\nactual\n" in report
    assert "### TRUTH ###\n--- instance0 ---\nexpected\n" in report
    assert "-expected\n+actual\n" in report


def test_a_silent_instance_times_out_after_10_simulated_seconds(tmp_path: Path) -> None:
    path = write_test(tmp_path, "silent", """
        def instance0():
            multitest.next()
            multitest.wait("never sent")
        def instance1():
            multitest.next()
            print("instance1 ends")
    """)
    result = run_multitest(path)
    assert result.output == "--- instance0 ---\nTIMEOUT\n--- instance1 ---\ninstance1 ends\n"
    assert (result.status, result.error) == ("fail", True)
    assert result.record is not None
    assert 10 * S < result.record.end_ns <= 10 * S + 2_000_000


def test_timeout_in_the_start_phase(tmp_path: Path) -> None:
    path = write_test(tmp_path, "nonext", """
        import time
        def instance0():
            time.sleep(11)
            multitest.next()
        def instance1():
            print("never started")
    """)
    result = run_multitest(path)
    assert result.output == "--- instance0 ---\nTIMEOUT\n--- instance1 ---\n\n"
    assert result.error


def test_a_broadcast_before_next_is_output_not_delivered(tmp_path: Path) -> None:
    """The real harness only routes BROADCAST lines once every instance has started."""
    path = write_test(tmp_path, "early", """
        def instance0():
            multitest.broadcast("too early")
            multitest.next()
            multitest.broadcast("on time")
        def instance1():
            multitest.next()
            multitest.wait("on time")
            print("got it")
    """)
    result = run_multitest(path)
    assert result.output == "--- instance0 ---\nBROADCAST too early\n--- instance1 ---\ngot it\n"


def test_an_exception_prints_a_micropython_traceback(tmp_path: Path) -> None:
    path = write_test(tmp_path, "raises", """
        def helper():
            raise OSError(110)

        def instance0():
            multitest.next()
            print("before")
            helper()
        def instance1():
            multitest.next()
    """)
    result = run_multitest(path)
    assert result.output == (
        "--- instance0 ---\nbefore\nTraceback (most recent call last):\n"
        '  File "<stdin>", line 10, in instance0\n  File "<stdin>", line 5, in helper\n'
        "OSError: [Errno 110] ETIMEDOUT\n--- instance1 ---\n\n"
    )
    assert result.status == "fail"


def test_get_network_ip_uses_the_injected_host_ip(tmp_path: Path) -> None:
    path = write_test(tmp_path, "ip", """
        def instance0():
            multitest.next()
            print(multitest.get_network_ip())
    """)
    assert run_multitest(path).output == "--- instance0 ---\n127.0.0.1\n"


def test_lib_folders_are_importable(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "helper_mod.py").write_text("VALUE = 'from lib'\n")
    path = write_test(tmp_path, "uselib", """
        import helper_mod
        def instance0():
            print(helper_mod.VALUE)
    """)
    assert run_multitest(path, MultitestOptions(lib=[lib])).output == "--- instance0 ---\nfrom lib\n"


def test_same_test_twice_gives_identical_output_logs_and_captures(tmp_path: Path) -> None:
    outs = []
    for run in ("one", "two"):
        options = MultitestOptions(logs_dir=tmp_path / run / "logs", pcap=tmp_path / run / "air.pcap")
        result = run_multitest(HERE / "harness_broadcast.py", options)
        logs = {p.name: p.read_bytes() for p in sorted((tmp_path / run / "logs").iterdir())}
        outs.append((result.output, logs, (tmp_path / run / "air.pcap").read_bytes()))
    assert outs[0] == outs[1]
    assert sorted(outs[0][1]) == ["instance0.log", "instance1.log"]
    assert outs[0][1]["instance1.log"].startswith(b"NEXT\n")  # the log is exactly what it printed


def test_run_multitests_summary_line() -> None:
    lines: list[str] = []
    paths = [HERE / "harness_skip.py", HERE / "harness_globals.py"]
    results, summary = run_multitests(paths, echo=lines.append)
    assert summary == "1 passed, 0 failed, 1 skipped"
    assert lines[-1] == summary
    assert [r.path.name for r in results] == ["harness_globals.py", "harness_skip.py"]


def test_cli_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(multitest_command, [str(HERE / "harness_globals.py"), str(HERE / "harness_skip.py")])
    assert ok.exit_code == 0, ok.output
    assert ok.output.rstrip("\n").splitlines()[-1] == "1 passed, 0 failed, 1 skipped"
    bad = write_test(tmp_path, "bad", """
        def instance0():
            print("x")
    """, exp="--- instance0 ---\ny\n")
    failed = runner.invoke(multitest_command, [str(bad)])
    assert failed.exit_code == 1
    assert failed.output.rstrip("\n").splitlines()[-1] == "0 passed, 1 failed, 0 skipped"
    not_a_test = write_test(tmp_path, "plain", "print(1)\n")
    refused = runner.invoke(multitest_command, [str(not_a_test)])
    assert refused.exit_code == 2
    assert "error:" in refused.output and "plain.py" in refused.output
    missing = runner.invoke(multitest_command, [str(tmp_path / "nope.py")])
    assert missing.exit_code == 2


def test_cli_logs_option_writes_one_log_per_instance(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(multitest_command, [str(HERE / "harness_globals.py"), "--logs", str(tmp_path / "logs")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "logs" / "instance1.log").read_text() == (
        "instance1 starts at 250\nNEXT\nalpha (0, b'\\x11\"3') 3\nLATE is not defined\nBROADCAST done\n"
    )
