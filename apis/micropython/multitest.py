"""MicroPython's two-device "multitests" run on simulated nodes (``blesim multitest``).

Theory of operation
-------------------
A multitest is one Python file with functions ``instance0()``, ``instance1()`` ... run on
as many devices; MicroPython's ``tests/run-multitests.py`` drives them by reading each
device's output line by line, and the test passes when every instance's output equals the
``.exp`` file (``--- instanceN ---`` blocks, lines right-stripped). This module gives the
same harness semantics on simulated time:

* **One scenario per test.** Each instance is a ``micropython`` node (named
  ``instance<N>``, 1 m apart) of a generated scenario run by :class:`emu.run.Runner`. Its
  firmware is a two-line wrapper that hands over to :class:`Harness`: wait for the
  instance's turn, execute the test file (module code first), define ``multitest``, add the
  ``SET`` globals collected so far, and call ``instance<N>()``, as the real harness's
  appended code does. Every node boots (its BLE host powered on) at 0 s; an instance's
  code starts when its turn comes.
* **The harness reads printed lines**, exactly as the real one parses a device's stdout.
  The ``multitest`` object only prints (``NEXT``, ``SET k = repr``, ``BROADCAST msg``,
  ``SKIP``, ``OUTPUT_METRIC``, ``WAIT_FOR_REBOOT``), and the harness reacts to the line:

  - *start phase*: instance k runs alone until it prints ``NEXT`` (or ends); ``SET``
    lines become source for the instances started later, ``SKIP`` ends the test as
    skipped, other lines are output. Then instance k+1 starts, at the same simulated
    instant. Lines of instances already started are held until every instance has
    started (the real harness does not read them meanwhile);
  - *run phase*: ``BROADCAST`` lines go to every other instance's input (where
    ``multitest.wait`` reads, discarding lines that do not match; unread lines stay
    queued), ``OUTPUT_METRIC`` lines are set aside, everything else is output
    (``WAIT_FOR_REBOOT`` too: the next reboot of that node, ``machine.reset()``, re-runs
    the file and calls the resume function);
  - an instance silent for 10 s of simulated time gets a ``TIMEOUT`` line and ends the
    test with an error; the test ends when every instance has ended.

  ``multitest.wait`` parks only the instance's main thread: its BLE stack, IRQ handlers
  and other threads go on, as on a board.
* **Output** is what the instance printed, minus the harness's ignore list; an exception
  escaping the instance's code is printed as MicroPython prints it (the test file shows
  as ``<stdin>``, as with ``micropython -c``). Nothing is masked.

:func:`run_multitest` runs one file and returns a :class:`MultitestResult`;
:func:`run_multitests` runs several and prints the harness's report (used by
``blesim multitest``).
"""

from __future__ import annotations

import difflib
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

from apis.micropython.asyncio_trace import format_exception
from emu.runtime import GreenletExit

if TYPE_CHECKING:
    from emu.records import RunRecord
    from emu.runtime import Event, NodeRuntime, Queue

__all__ = [
    "HARNESS_MODULE",
    "IGNORE_OUTPUT_MATCHES",
    "INSTANCE_TIMEOUT_NS",
    "Harness",
    "Multitest",
    "MultitestOptions",
    "MultitestResult",
    "count_instances",
    "format_report",
    "run_multitest",
    "run_multitests",
]

#: Silence after which the harness gives an instance up (``INSTANCE_READ_TIMEOUT_S``).
INSTANCE_TIMEOUT_NS = 10_000_000_000
#: Default cap on a test's simulated duration (the real harness has none: it has TIMEOUT).
MAX_DURATION_NS = 600_000_000_000
#: Lines containing one of these are dropped (stack and port noise the real harness skips).
IGNORE_OUTPUT_MATCHES = (
    "libusb: error ",
    "hci_transport_h2_libusb.c",
    "USB Path: ",
    "hci_number_completed_packet",
    "lld_pdu_get_tx_flush_nb HCI packet count mismatch (",
    " ets_task(",
)
#: The per-node module the wrapper firmware imports.
HARNESS_MODULE = "_blesim_multitest"
#: The address injected for ``multitest.get_network_ip()`` (no network on simulated nodes).
HOST_IP = "127.0.0.1"
#: Lines the real harness puts before the test file (``import sys; sys.path.remove('')``).
_PREPENDED_LINES = 3

_WRAPPER = f"import {HARNESS_MODULE}\n{HARNESS_MODULE}.main()\n"
_INSTANCE_RE = re.compile(r"def instance([0-9]+)\(\):")

Status = Literal["pass", "fail", "skip"]


def count_instances(source: str) -> int:
    """1 + the largest N of a line starting ``def instanceN():`` (0 if there is none)."""
    count = 0
    for line in source.splitlines():
        m = _INSTANCE_RE.match(line)
        if m:
            count = max(count, int(m.group(1)) + 1)
    return count


@dataclass
class MultitestOptions:
    """How to run multitests (the ``blesim multitest`` options)."""

    lib: Sequence[Path] = ()
    pcap: Path | None = None
    btsnoop_dir: Path | None = None
    logs_dir: Path | None = None
    seed: int = 1
    personality: str = "micropython"
    instance_timeout_ns: int = INSTANCE_TIMEOUT_NS
    max_duration_ns: int = MAX_DURATION_NS
    watchdog_s: float = 5.0
    #: Console lines as the instances print them (``[  1.234567] instance0: ...``).
    trace: Callable[[str], None] | None = None


@dataclass
class MultitestResult:
    """The outcome of one multitest file."""

    path: Path
    instances: int
    status: Status
    #: The harness-format output (``--- instance0 ---`` blocks).
    output: str
    #: The ``.exp`` text, or None when there is no ``.exp`` file.
    expected: str | None
    #: True when the harness gave up (TIMEOUT, bad WAIT_FOR_REBOOT, ...).
    error: bool
    metrics: list[str] = field(default_factory=list)
    #: Firmware failures outside the instances' main code (IRQ threads, watchdog).
    failures: list[str] = field(default_factory=list)
    record: RunRecord | None = None


# --------------------------------------------------------------------------- the harness


@dataclass
class _Instance:
    index: int
    runtime: NodeRuntime
    stdin: Queue[str]
    gate: Event
    lines: list[str] = field(default_factory=list)
    started: bool = False
    finished: bool = False
    globals_text: str = ""
    resume: str | None = None
    last_io_ns: int = 0
    raised: bool = False


class Multitest:
    """The ``multitest`` object an instance's code sees (it prints; the harness reacts)."""

    def __init__(self, harness: Harness, instance: _Instance, namespace: dict[str, Any]) -> None:
        self._harness = harness
        self._instance = instance
        self._namespace = namespace

    def _print(self, text: str) -> None:
        self._instance.runtime.output(text + "\n")

    def flush(self) -> None:
        """Nothing to flush: every printed line reaches the harness at once."""

    def skip(self) -> None:
        self._print("SKIP")
        raise SystemExit

    def next(self) -> None:
        self._print("NEXT")

    def broadcast(self, msg: object) -> None:
        self._print(f"BROADCAST {msg}")

    def wait(self, msg: str) -> None:
        """Block (simulated time) until another instance broadcasts ``msg``."""
        target = "BROADCAST " + msg
        while self._instance.stdin.get().rstrip() != target:
            pass

    def globals(self, **gs: Any) -> None:
        for name, value in gs.items():
            self._print(f"SET {name} = {value!r}")

    def get_network_ip(self) -> str:
        nic = self._namespace.get("nic")
        if nic is not None:
            try:
                return str(nic.ifconfig()[0])
            except Exception:
                pass
        return str(self._namespace.get("HOST_IP", HOST_IP))

    def expect_reboot(self, resume: str, delay_ms: int = 0) -> None:
        self._print(f"WAIT_FOR_REBOOT {resume} {delay_ms}")

    def output_metric(self, data: object) -> None:
        self._print(f"OUTPUT_METRIC {data}")


class Harness:
    """The harness of one multitest run (see the module docstring)."""

    def __init__(self, path: Path, source: str, instance_timeout_ns: int = INSTANCE_TIMEOUT_NS) -> None:
        self.path = path
        self.source = source
        self.code = compile(source, str(path), "exec", dont_inherit=True)
        self.count = count_instances(source)
        self.instance_timeout_ns = instance_timeout_ns
        self.instances: list[_Instance] = []
        self.phase: Literal["start", "run", "done"] = "start"
        self.starting = 0
        self.injected = f"HOST_IP = '{HOST_IP}'\n" if "get_network_ip" in source else ""
        self.held: list[tuple[int, str]] = []
        self.metrics: list[str] = []
        self.error = False
        self.skip = False
        self.problems: list[str] = []

    # -- wiring ----------------------------------------------------------------------------

    def attach(self, runtime: NodeRuntime) -> None:
        """Make ``runtime`` the next instance: its harness module and its output hook."""
        index = len(self.instances)
        inst = _Instance(index, runtime, runtime.queue(), runtime.event())
        self.instances.append(inst)
        runtime.modules[HARNESS_MODULE] = lambda rt: self._module(inst)
        downstream = runtime.on_output

        def on_output(node: str, t_ns: int, line: str) -> None:
            if downstream is not None:
                downstream(node, t_ns, line)
            self._line(inst, t_ns, line)

        runtime.on_output = on_output
        if index == 0:
            self._start(inst)

    def _module(self, inst: _Instance) -> ModuleType:
        mod = ModuleType(HARNESS_MODULE)
        setattr(mod, "main", lambda: self._main(inst))
        return mod

    # -- an instance's life ----------------------------------------------------------------

    def _start(self, inst: _Instance) -> None:
        inst.started = True
        inst.globals_text = self.injected
        inst.last_io_ns = inst.runtime.now
        inst.gate.set()

    def _main(self, inst: _Instance) -> None:
        """The body of the wrapper firmware (runs in the node's main thread)."""
        resume, inst.resume = inst.resume, None
        if resume is None:
            if inst.gate.is_set() and inst.finished:
                return  # rebooted with no WAIT_FOR_REBOOT: the real device goes to its REPL
            inst.gate.wait()
            function, globals_text = f"instance{inst.index}", inst.globals_text
        else:
            function, globals_text = resume, self.injected
            inst.finished = False
        killed = False
        try:
            self._run_code(inst, function, globals_text)
        except SystemExit:
            pass
        except GreenletExit:
            killed = True
            raise
        except Exception as exc:
            inst.raised = True
            inst.runtime.output(format_exception(exc, self._rename))
        finally:
            if not (killed and inst.resume is not None):
                inst.resume = None
                self._finished(inst)

    def _run_code(self, inst: _Instance, function: str, globals_text: str) -> None:
        importer = inst.runtime.importer
        if importer is None:
            raise RuntimeError("instance not booted")
        namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": importer.builtins}
        exec(self.code, namespace)
        namespace["multitest"] = Multitest(self, inst, namespace)
        if globals_text:
            exec(compile(globals_text, "<multitest globals>", "exec", dont_inherit=True), namespace)
        target = namespace.get(function)
        if not callable(target):
            raise NameError(f"name '{function}' isn't defined")
        target()

    def _rename(self, filename: str) -> tuple[str, int] | None:
        if filename == str(self.path):
            return "<stdin>", _PREPENDED_LINES
        if filename == "<multitest globals>":
            return "<stdin>", _PREPENDED_LINES + len(self.source.splitlines()) + 1
        return None

    def _finished(self, inst: _Instance) -> None:
        if inst.finished:
            return
        inst.finished = True
        if self.phase == "start" and inst.index == self.starting:
            self._advance()
        elif self.phase == "run" and all(i.finished for i in self.instances):
            self.phase = "done"

    # -- reading lines -------------------------------------------------------------------

    def _line(self, inst: _Instance, t_ns: int, line: str) -> None:
        if self.phase == "done":
            return
        inst.last_io_ns = t_ns
        out = line.rstrip()
        if self.phase == "start" and inst.index != self.starting:
            self.held.append((inst.index, out))
            return
        if any(m in out for m in IGNORE_OUTPUT_MATCHES):
            return
        if self.phase == "start":
            self._start_line(inst, out)
        else:
            self._run_line(inst, out)

    def _start_line(self, inst: _Instance, out: str) -> None:
        if out.startswith("SET "):
            self.injected += out[4:] + "\n"
        elif out == "SKIP":
            self.skip = True
            self.phase = "done"
        elif out == "NEXT":
            self._advance()
        else:
            inst.lines.append(out)

    def _advance(self) -> None:
        self.starting += 1
        if self.starting < len(self.instances):
            self._start(self.instances[self.starting])
            return
        self.phase = "run"
        now = self.instances[0].runtime.now
        for inst in self.instances:
            inst.last_io_ns = now
        held, self.held = self.held, []
        for index, out in held:
            if self.phase != "run":
                break
            if not any(m in out for m in IGNORE_OUTPUT_MATCHES):
                self._run_line(self.instances[index], out)
        if self.phase == "run" and all(i.finished for i in self.instances):
            self.phase = "done"

    def _run_line(self, inst: _Instance, out: str) -> None:
        if out.startswith("WAIT_FOR_REBOOT"):
            parts = out.split(" ")
            if len(parts) != 3 or not parts[1].startswith(f"instance{inst.index}"):
                self.problems.append(
                    f'ERROR: resume function must start with "instance{inst.index}": {out!r}'
                )
                self.error = True
                self.phase = "done"
            else:
                inst.resume = parts[1]
        if out.startswith("BROADCAST "):
            for other in self.instances:
                if other is not inst:
                    other.stdin.put_nowait(out)
        elif out.startswith("OUTPUT_METRIC "):
            self.metrics.append(out.split(" ", 1)[1])
        else:
            inst.lines.append(out)

    # -- the clock -----------------------------------------------------------------------

    def check(self, now: int) -> bool:
        """Called as simulated time passes: apply TIMEOUT; True once the test is over."""
        if self.phase == "start":
            inst = self.instances[self.starting]
            if not inst.finished and now - inst.last_io_ns > self.instance_timeout_ns:
                inst.lines.append("TIMEOUT")
                self.error = True
                self.phase = "done"
        elif self.phase == "run":
            for inst in self.instances:
                if not inst.finished and now - inst.last_io_ns > self.instance_timeout_ns:
                    inst.lines.append("TIMEOUT")
                    self.error = True
            if self.error:
                self.phase = "done"
        return self.phase == "done"

    def give_up(self) -> None:
        """The simulated-time cap was reached: every unfinished instance times out."""
        if self.phase == "done":
            return
        for inst in self.instances:
            if not inst.finished:
                inst.lines.append("TIMEOUT")
        self.error = True
        self.phase = "done"

    def output(self) -> str:
        """The harness-format output of every instance."""
        return "".join(
            f"--- instance{inst.index} ---\n" + "\n".join(inst.lines) + "\n" for inst in self.instances
        )


# --------------------------------------------------------------------------- running


def _capture_path(base: Path | None, test: Path, many: bool, suffix_dir: bool) -> Path | None:
    if base is None or not many:
        return base
    if suffix_dir:
        return base / test.stem
    return base.with_name(f"{base.stem}_{test.stem}{base.suffix}")


def run_multitest(path: Path, options: MultitestOptions | None = None, *, many: bool = False) -> MultitestResult:
    """Run one multitest file on simulated nodes; ``many``: captures get per-test names."""
    from emu.run import Runner, RunOptions
    from emu.scenario_schema import NodeSpec, Scenario

    options = options or MultitestOptions()
    path = Path(path).resolve()
    source = path.read_text(encoding="utf-8")
    harness = Harness(path, source, options.instance_timeout_ns)
    exp_path = path.with_name(path.name + ".exp")
    expected = exp_path.read_text(encoding="utf-8") if exp_path.is_file() else None
    if harness.count == 0:
        return MultitestResult(path, 0, "fail", "", expected, True, failures=["no instanceN() function"])
    logs = _capture_path(options.logs_dir, path, many, suffix_dir=True)
    pcap = _capture_path(options.pcap, path, many, suffix_dir=False)
    btsnoop = _capture_path(options.btsnoop_dir, path, many, suffix_dir=True)
    with tempfile.TemporaryDirectory(prefix="blesim-multitest-") as tmp:
        wrapper = Path(tmp) / "multitest_main.py"
        wrapper.write_text(_WRAPPER, encoding="utf-8")
        nodes = tuple(
            NodeSpec(
                name=f"instance{i}", personality=options.personality,  # type: ignore[arg-type]
                firmware=wrapper, lib=tuple(Path(p).resolve() for p in options.lib),
                position=(float(i), 0.0, 0.0),
            )
            for i in range(harness.count)
        )
        scenario = Scenario(
            name=path.stem, nodes=nodes, seed=options.seed, duration_ns=options.max_duration_ns,
            source=path, base_dir=path.parent,
        )
        run_options = RunOptions(
            pcap=pcap, btsnoop_dir=btsnoop, logs_dir=logs, echo=options.trace, watchdog_s=options.watchdog_s,
            state_dir=Path(tmp) / "state",
        )
        runner = Runner(scenario, run_options)
        try:
            for node in runner.nodes.values():
                harness.attach(node.runtime)
            kernel = runner.kernel
            stopped = runner.advance(options.max_duration_ns, condition=lambda: harness.check(kernel.now))
            if not stopped:
                harness.give_up()
        finally:
            runner.finish()
    output = harness.output()
    failures = [
        f"{name}: {f.message}" for name, rec in runner.record.nodes.items() for f in rec.failures
    ]
    error = harness.error or any("FirmwareHung" in f or "watchdog" in f for f in failures)
    status: Status
    if harness.skip:
        status = "skip"
    elif expected is not None:
        status = "pass" if output == expected else "fail"  # as the real harness: output decides
    else:
        raised = any(inst.raised for inst in harness.instances)
        status = "fail" if error or raised or failures else "pass"
    return MultitestResult(
        path, harness.count, status, output, expected, error, harness.metrics,
        failures + harness.problems, runner.record,
    )


def format_report(result: MultitestResult, shown_path: str, *, show_output: bool = False) -> str:
    """What the harness prints for one test: the result line, and on failure both outputs
    and their diff."""
    names = "|".join(["micropython"] * result.instances)
    word = {"pass": "pass", "fail": "FAIL", "skip": "skip"}[result.status]
    if result.status == "pass" and result.expected is None:
        word = "pass (no .exp: output not compared)"
    text = [f"{shown_path} on {names}: {word}\n"]
    truth = result.expected
    if show_output or result.status == "fail" or (result.expected is None and result.status != "skip"):
        text.append("### TEST ###\n" + result.output)
        if truth is not None and result.status != "skip":
            text.append("### TRUTH ###\n" + truth)
    if result.status == "fail" and truth is not None:
        diff = difflib.unified_diff(
            truth.splitlines(keepends=True), result.output.splitlines(keepends=True), "truth", "test"
        )
        text.append("### DIFF ###\n" + "".join(diff))
    for failure in result.failures:
        text.append(f"{shown_path}: firmware error: {failure}\n")
    for metric in result.metrics:
        text.append(f"{shown_path}: {metric}\n")
    return "".join(text)


def run_multitests(
    paths: Sequence[Path], options: MultitestOptions | None = None, *,
    echo: Callable[[str], None] = print, show_output: bool = False,
) -> tuple[list[MultitestResult], str]:
    """Run every file (sorted, as the real harness does), printing each report through
    ``echo``; returns the results and the summary line ``N passed, N failed, N skipped``."""
    options = options or MultitestOptions()
    many = len(paths) > 1
    results = []
    for shown in sorted(paths, key=str):
        result = run_multitest(Path(shown), options, many=many)
        results.append(result)
        echo(format_report(result, str(shown), show_output=show_output).rstrip("\n"))
    passed = sum(r.status == "pass" for r in results)
    failed = sum(r.status == "fail" for r in results)
    skipped = sum(r.status == "skip" for r in results)
    summary = f"{passed} passed, {failed} failed, {skipped} skipped"
    echo(summary)
    return results, summary
