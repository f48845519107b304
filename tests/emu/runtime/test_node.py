"""Node lifecycle: failures with tracebacks, watchdog, reboot, output, callbacks, seeds."""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from emu.kernel import Kernel
from emu.runtime import (
    FirmwareHung,
    FirmwareScheduler,
    FirmwareStatus,
    NodeRuntime,
    default_error_hook,
)
from tests.emu.runtime.helpers import STANDINS, Errors, soon, write

MakeNode = Callable[..., NodeRuntime]

TICKER = """
import time
n = 0
while True:
    print("tick", n)
    n += 1
    time.sleep_ms(100)
"""


def test_exception_is_reported_and_other_nodes_go_on(
    tmp_path: Path, kernel: Kernel, scheduler: FirmwareScheduler, errors: Errors, make_node: MakeNode
) -> None:
    bad = write(
        tmp_path / "a" / "main.py",
        """
        import time

        def compute(x):
            return 10 // x

        time.sleep_ms(250)
        print("about to fail")
        compute(0)
        print("never")
        """,
    )
    a = make_node("a", bad)
    b = make_node("b", write(tmp_path / "b" / "main.py", TICKER))
    kernel.call_at(0, a.boot)
    kernel.call_at(0, b.boot)
    kernel.run(450_000_000)

    assert len(errors.calls) == 1
    node, t_ns, exc, formatted = errors.calls[0]
    assert (node, t_ns) == ("a", 250_000_000)
    assert isinstance(exc, ZeroDivisionError)
    lines = [line for line in formatted.splitlines() if line.strip(" ~^")]  # carets vary by version
    assert lines == [
        "Traceback (most recent call last):",
        f'  File "{bad}", line 8, in <module>',
        "    compute(0)",
        f'  File "{bad}", line 4, in compute',
        "    return 10 // x",
        "ZeroDivisionError: integer division or modulo by zero",
    ]
    assert a.status is FirmwareStatus.FAILED
    assert a.threads == []
    assert [f.message for f in scheduler.failures] == ["ZeroDivisionError: integer division or modulo by zero"]
    assert scheduler.failures[0].kind == "exception" and scheduler.failures[0].thread == "main"
    assert a.output_lines == [(250_000_000, "about to fail")]
    assert b.status is FirmwareStatus.RUNNING
    assert b.output_lines[-1] == (400_000_000, "tick 4")


def test_default_error_hook_prefixes_time_and_node(capsys: pytest.CaptureFixture[str]) -> None:
    default_error_hook("server", 12_345_678_901, ValueError("x"), "Traceback (most recent call last):\nValueError: x\n")
    assert capsys.readouterr().err == (
        "[  12.345678] server: Traceback (most recent call last):\n[  12.345678] server: ValueError: x\n"
    )


def test_a_failing_callback_stops_the_node_threads(kernel: Kernel, errors: Errors, make_node: MakeNode) -> None:
    node = make_node("n")
    log: list[str] = []

    def worker() -> None:
        try:
            node.sleep_ns(10**9)
        finally:
            log.append(f"worker killed at {node.now}")

    def irq(value: int) -> None:
        log.append(f"irq {value} at {node.now}")
        raise RuntimeError("bad irq")

    node.start_thread(worker)
    kernel.call_at(3_000, soon(lambda: node.run_callback(irq, 7)))
    kernel.run()
    assert log == ["irq 7 at 3000", "worker killed at 3000"]
    assert [(c[0], c[1], str(c[2])) for c in errors.calls] == [("n", 3_000, "bad irq")]
    assert node.failures[0].thread == "callback:irq"
    assert node.run_callback(irq, 8) is None  # a failed node takes no more callbacks
    with pytest.raises(RuntimeError):
        node.start_thread(worker)


def test_callback_from_a_firmware_thread_runs_after_it_blocks(kernel: Kernel, make_node: MakeNode) -> None:
    node = make_node("n")
    log: list[str] = []

    def main() -> None:
        node.run_callback(lambda: log.append("callback"))
        log.append("api call returned")
        node.sleep_ns(1)

    node.start_thread(main)
    assert log == ["api call returned", "callback"]


def test_watchdog_stops_firmware_that_never_yields(
    tmp_path: Path, kernel: Kernel, errors: Errors, make_node: MakeNode
) -> None:
    kernel_scheduler = FirmwareScheduler(kernel, watchdog_s=0.2)
    spin = write(tmp_path / "a" / "main.py", "print('spinning')\nwhile True:\n    pass\n")
    a = NodeRuntime("a", kernel, kernel_scheduler, kernel.seeds, tmp_path / "sa", firmware=spin, on_error=errors)
    b = NodeRuntime(
        "b", kernel, kernel_scheduler, kernel.seeds, tmp_path / "sb",
        firmware=write(tmp_path / "b" / "main.py", TICKER), modules=STANDINS, on_error=errors,
    )
    kernel.call_at(0, b.boot)
    kernel.call_at(1_500_000_000, a.boot)
    kernel.run(2_000_000_000)
    assert len(errors.calls) == 1
    node, t_ns, exc, formatted = errors.calls[0]
    assert (node, t_ns) == ("a", 1_500_000_000)
    assert isinstance(exc, FirmwareHung)
    assert str(exc) == "node a: firmware did not yield for 0.2 s of wall time at t=1.500000 s (watchdog)"
    assert f'File "{spin}", line ' in formatted
    assert a.status is FirmwareStatus.FAILED and a.failures[0].kind == "watchdog"
    assert b.output_lines[-1] == (1_900_000_000, "tick 19")
    assert sys.gettrace() is None or "coverage" in repr(sys.gettrace())


def test_watchdog_gets_through_a_bare_except(tmp_path: Path, kernel: Kernel, errors: Errors) -> None:
    scheduler = FirmwareScheduler(kernel, watchdog_s=0.2)
    fw = write(
        tmp_path / "a" / "main.py",
        """
        swallowed = 0
        while True:
            try:
                pass
            except:
                swallowed += 1
        """,
    )
    node = NodeRuntime("a", kernel, scheduler, kernel.seeds, tmp_path / "s", firmware=fw, on_error=errors)
    node.boot()
    assert len(errors.calls) == 1 and isinstance(errors.calls[0][2], FirmwareHung)
    assert node.status is FirmwareStatus.FAILED


def test_reboot_reruns_main_with_fresh_modules_and_keeps_the_state_folder(
    tmp_path: Path, kernel: Kernel, make_node: MakeNode
) -> None:
    folder = tmp_path / "fw"
    write(folder / "helper.py", "count = 0\n")
    fw = write(
        folder / "main.py",
        """
        import helper, os, time
        helper.count += 1
        boots = int(open("boots.txt").read()) + 1 if "boots.txt" in os.listdir() else 1
        with open("boots.txt", "w") as f:
            f.write(str(boots))
        print("boot", boots, "helper", helper.count)
        time.sleep_ms(1000)
        print("not reached before the reboot")
        """,
    )
    node = make_node("n", fw)
    kernel.call_at(0, node.boot)
    kernel.call_at(500_000_000, node.reboot)
    kernel.run()
    assert node.output_lines == [
        (0, "boot 1 helper 1"),
        (500_000_000, "boot 2 helper 1"),
        (1_500_000_000, "not reached before the reboot"),
    ]
    assert node.state.read_file("/boots.txt") == b"2"
    assert node.generation == 2


def test_firmware_can_reset_itself(tmp_path: Path, kernel: Kernel, make_node: MakeNode) -> None:
    fw = write(
        tmp_path / "fw" / "main.py",
        """
        import machine, os, time
        boots = len(os.listdir("/"))
        open("boot%d" % boots, "w").close()
        print("boot", boots)
        time.sleep_ms(10)
        if boots < 2:
            machine.reset()
            print("never")
        """,
    )
    node = make_node("n", fw)
    node.boot()
    kernel.run()
    assert node.output_lines == [(0, "boot 0"), (10_000_000, "boot 1"), (20_000_000, "boot 2")]
    assert node.status is FirmwareStatus.RUNNING and node.failures == []


def test_stop_kills_threads_runs_hooks_and_flushes_output(kernel: Kernel, make_node: MakeNode) -> None:
    node = make_node("n")
    hooks: list[int] = []

    def body() -> None:
        node.output("partial")
        node.sleep_ns(1_000)

    node.start_thread(body)
    node.on_stop(lambda: hooks.append(node.now))
    kernel.run(400)
    node.stop()
    assert node.status is FirmwareStatus.STOPPED and node.threads == []
    assert hooks == [400]
    assert node.output_lines == [(400, "partial")]
    assert node.run_callback(lambda: None) is None
    kernel.run()


def test_print_lines_carry_the_instant_they_complete(tmp_path: Path, kernel: Kernel, make_node: MakeNode) -> None:
    fw = write(
        tmp_path / "fw" / "main.py",
        """
        import time
        print("hello")
        print("part", end="")
        time.sleep_ms(5)
        print(" done\\nsecond")
        """,
    )
    node = make_node("n", fw)
    seen: list[tuple[str, int, str]] = []
    node.on_output = lambda name, t, line: seen.append((name, t, line))
    kernel.call_at(1_000_000, node.boot)
    kernel.run()
    assert node.output_lines == [(1_000_000, "hello"), (6_000_000, "part done"), (6_000_000, "second")]
    assert seen == [("n", t, line) for t, line in node.output_lines]
    assert node.output_text == "hello\npart done\nsecond\n"


def test_threads_started_by_firmware(tmp_path: Path, kernel: Kernel, make_node: MakeNode) -> None:
    fw = write(
        tmp_path / "fw" / "main.py",
        """
        import _thread, time
        lock = _thread.allocate_lock()

        def worker(tag, period):
            for i in range(3):
                with lock:
                    print(tag, i, time.ticks_ms(), _thread.get_ident())
                time.sleep_ms(period)

        _thread.start_new_thread(worker, ("w1", 30))
        _thread.start_new_thread(worker, ("w2", 20))
        print("main", _thread.get_ident())
        """,
    )
    node = make_node("n", fw)
    node.boot()
    kernel.run()
    assert [line for _, line in node.output_lines] == [
        "main 1",
        "w1 0 0 2",
        "w2 0 0 3",
        "w2 1 20 3",
        "w1 1 30 2",
        "w2 2 40 3",
        "w1 2 60 2",
    ]


def test_random_is_seeded_per_node(tmp_path: Path, make_node: MakeNode) -> None:
    fw = write(tmp_path / "fw" / "main.py", "import random, os\nprint(random.getrandbits(32), os.urandom(4).hex())\n")
    a, b = make_node("a", fw), make_node("b", fw)
    a.boot()
    b.boot()
    assert a.output_lines != b.output_lines
    expected = random.Random(Kernel(seed=7).seeds.derive("node/a/firmware"))
    first = expected.getrandbits(32)
    assert a.output_lines == [(0, f"{first} {expected.randbytes(4).hex()}")]


def _run_world(tmp_path: Path) -> list[tuple[int, str]]:
    kernel = Kernel(seed=3)
    scheduler = FirmwareScheduler(kernel)
    fw = write(
        tmp_path / "fw" / "main.py",
        """
        import random, time, _thread

        def chatter(tag):
            for _ in range(5):
                time.sleep_ms(random.randint(1, 30))
                print(tag, time.ticks_ms())

        for tag in ("x", "y", "z"):
            _thread.start_new_thread(chatter, (tag,))
        """,
    )
    nodes = [
        NodeRuntime(name, kernel, scheduler, kernel.seeds, tmp_path / name, firmware=fw, modules=STANDINS)
        for name in ("n1", "n2")
    ]
    for node in nodes:
        kernel.call_at(0, node.boot)
    kernel.run()
    return [(t, f"{node.name} {line}") for node in nodes for t, line in node.output_lines]


def test_same_seed_same_run(tmp_path: Path) -> None:
    first = _run_world(tmp_path / "one")
    assert len(first) == 30
    assert first == _run_world(tmp_path / "two")


def test_traceback_through_a_helper_import_shows_only_firmware_frames(
    tmp_path: Path, errors: Errors, make_node: MakeNode
) -> None:
    helper = write(tmp_path / "fw" / "broken.py", "X = 1\nraise ValueError('bad helper')\n")
    fw = write(tmp_path / "fw" / "main.py", "print('boot')\nimport broken\n")
    node = make_node("n", fw)
    node.boot()
    assert errors.calls[0][3].splitlines() == [
        "Traceback (most recent call last):",
        f'  File "{fw}", line 2, in <module>',
        "    import broken",
        f'  File "{helper}", line 2, in <module>',
        "    raise ValueError('bad helper')",
        "ValueError: bad helper",
    ]
    assert node.failures[0].message == "ValueError: bad helper"


def test_error_hook_failure_falls_back_to_the_default(
    tmp_path: Path, kernel: Kernel, scheduler: FirmwareScheduler, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken_hook(node: str, t_ns: int, exc: BaseException, formatted: str) -> None:
        raise KeyError("hook")

    fw = write(tmp_path / "fw" / "main.py", "1 / 0\n")
    node = NodeRuntime("n", kernel, scheduler, kernel.seeds, tmp_path / "s", firmware=fw, on_error=broken_hook)
    node.boot()
    err = capsys.readouterr().err
    assert err.startswith("[   0.000000] n: Traceback (most recent call last):\n")
    assert err.endswith("[   0.000000] n: ZeroDivisionError: division by zero\n")
    assert node.status is FirmwareStatus.FAILED


def test_deferred_callback_runs_after_the_caller_returns(kernel: Kernel, make_node: MakeNode) -> None:
    node = make_node("n")
    log: list[tuple[int, str]] = []

    def host_event() -> None:
        node.run_callback(lambda: log.append((node.now, "irq")), defer=True)
        log.append((kernel.now, "host done"))
        node.run_callback(lambda: log.append((node.now, "immediate")))

    kernel.call_at(42, host_event)
    kernel.run()
    assert log == [(42, "host done"), (42, "immediate"), (42, "irq")]
