"""The blesim pytest plugin (registered through the ``pytest11`` entry point).

Fixtures:

* ``blesim`` — a :class:`Blesim` helper for the test: ``blesim.world(...)`` builds a world
  node by node (firmware with a personality, or a scripted device on the Python device
  API), ``blesim.run_scenario(path)`` runs a scenario file. Captures and logs go to the
  test's temporary folder.

When a test that used the fixture fails, its report gains a section with the last lines
each node printed and the paths of the captures.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from .records import AirPacket, RunRecord
from .run import RunOptions, Runner
from .units_parse import parse_duration

#: How many lines of each node's output a failing test shows.
TAIL_LINES = 15


class SimNodeHandle:
    """A node of a :class:`SimWorld`: its output, and its objects once the world is built."""

    def __init__(self, world: "SimWorld", name: str) -> None:
        self._world = world
        self.name = name

    @property
    def output(self) -> list[str]:
        """Every line the node's firmware printed so far."""
        return [line.text for line in self._world.record.nodes[self.name].output]

    @property
    def output_text(self) -> str:
        return "".join(line + "\n" for line in self.output)

    def printed(self, pattern: str) -> bool:
        """Whether some printed line matches the regular expression ``pattern``."""
        rx = re.compile(pattern)
        return any(rx.search(line) for line in self.output)

    @property
    def failures(self) -> list[str]:
        return [f.traceback for f in self._world.record.nodes[self.name].failures]

    @property
    def address(self) -> str:
        return self._world.record.nodes[self.name].address


class _DeviceProxy:
    """Stands for a :class:`emu.device.Device` until its world is built."""

    def __init__(self, world: "SimWorld") -> None:
        self._world = world
        self._device: Any = None

    def __getattr__(self, attr: str) -> Any:
        if self._device is None:
            self._world.start()
        return getattr(self._device, attr)


class AirView:
    """The packets on the air so far, with counting by PDU name (``ADV_IND``, ``ATT_READ_REQ``...)."""

    def __init__(self, record: RunRecord) -> None:
        self._record = record

    @property
    def packets(self) -> list[AirPacket]:
        return list(self._record.air)

    def count(self, pdu_name: str, sender: str | None = None) -> int:
        from .air_names import classify_packets

        names = classify_packets(self._record.air)
        return sum(
            1 for packet, name in zip(self._record.air, names)
            if name.counts_as(pdu_name) and (sender is None or packet.node == sender)
        )


class SimWorld:
    """A world a test builds node by node, then runs in steps."""

    def __init__(self, out_dir: Path, *, name: str, seed: int, duration: str, medium: dict[str, Any] | None) -> None:
        self.out_dir = out_dir
        self._mapping: dict[str, Any] = {"name": name, "seed": seed, "duration": duration, "nodes": []}
        if medium:
            self._mapping["medium"] = medium
        self._handles: dict[str, SimNodeHandle] = {}
        self._devices: list[tuple[str, tuple[float, ...], Any]] = []
        self.runner: Runner | None = None
        self.pcap = out_dir / "air.pcap"
        self.logs = out_dir / "logs"

    # -- building --------------------------------------------------------------------
    def node(
        self, name: str, *, personality: str, firmware: str | Path, position: tuple[float, ...] = (0.0, 0.0),
        **options: Any,
    ) -> SimNodeHandle:
        """A node running ``firmware`` with ``personality`` (options as in scenario files)."""
        self._check_not_started()
        spec: dict[str, Any] = {"name": name, "personality": personality, "firmware": str(firmware),
                                "position": list(position)}
        spec.update(options)
        self._mapping["nodes"].append(spec)
        handle = SimNodeHandle(self, name)
        self._handles[name] = handle
        return handle

    def device(self, name: str, position: tuple[float, ...] = (0.0, 0.0)) -> Any:
        """A scripted device on the Python device API (:class:`emu.device.Device`): its
        calls run the world until they complete. The world starts when it is first used."""
        self._check_not_started()
        proxy = _DeviceProxy(self)
        self._devices.append((name, position, proxy))
        return proxy

    def _check_not_started(self) -> None:
        if self.runner is not None:
            raise RuntimeError("add nodes before the world starts running")

    def start(self) -> Runner:
        if self.runner is None:
            from .scenario import validate_mapping

            scenario = validate_mapping(self._mapping, file="<test>", base_dir=Path.cwd())
            options = RunOptions(pcap=self.pcap, logs_dir=self.logs)
            runner = Runner(scenario, options)
            from .device import Device
            from .device_wait import KernelWaiter

            for name, position, proxy in self._devices:
                proxy._device = Device(runner.add_device(name, position), KernelWaiter(runner.world), name=name)
            self.runner = runner
        return self.runner

    # -- running -----------------------------------------------------------------------
    @property
    def record(self) -> RunRecord:
        return self.start().record

    @property
    def now_ns(self) -> int:
        return self.start().kernel.now

    def run(self, duration: str | int) -> None:
        """Advance simulated time by ``duration`` ("2s", "250ms" or nanoseconds)."""
        runner = self.start()
        step = parse_duration(duration) if isinstance(duration, str) else int(duration)
        runner.advance(runner.kernel.now + step)

    def run_until(self, condition: Callable[[], bool], timeout: str | int = "10s") -> bool:
        """Advance until ``condition()`` holds (checked every simulated millisecond) or the
        timeout passes; returns whether it held."""
        runner = self.start()
        limit = parse_duration(timeout) if isinstance(timeout, str) else int(timeout)
        if condition():
            return True
        return runner.advance(runner.kernel.now + limit, condition=condition)

    @property
    def air(self) -> AirView:
        return AirView(self.record)

    def finish(self) -> None:
        if self.runner is not None:
            self.runner.finish()

    def describe(self) -> str:
        """Tails of every node's output and where the captures are (for failing tests)."""
        if self.runner is None:
            return "the world never ran"
        lines = [f"simulated time: {self.runner.kernel.now / 1e9:.6f} s"]
        for name, node in self.runner.record.nodes.items():
            lines.append(f"--- {name} ({node.personality}, {node.status}) last output:")
            lines += [f"  [{o.t_ns / 1e9:12.6f}] {o.text}" for o in node.output[-TAIL_LINES:]]
            for failure in node.failures:
                lines.append(f"  FAILED at {failure.t_ns / 1e9:.6f} s: {failure.message}")
        lines.append(f"air capture: {self.pcap}")
        lines.append(f"logs: {self.logs}")
        return "\n".join(lines)


class ScenarioRun:
    """A finished scenario run: its record, expectation results and outputs."""

    def __init__(self, runner: Runner, results: list[Any], out_dir: Path) -> None:
        self.runner = runner
        self.record = runner.record
        self.results = results
        self.out_dir = out_dir

    @property
    def ok(self) -> bool:
        return not self.runner.failed_firmware() and all(r.met for r in self.results)

    def output(self, node: str) -> list[str]:
        return [o.text for o in self.record.nodes[node].output]

    def describe(self) -> str:
        lines = [f"scenario {self.record.name}: {'ok' if self.ok else 'FAILED'}"]
        for r in self.results:
            lines.append(f"  {'met' if r.met else 'NOT MET'}: {r.detail}")
        for name, node in self.record.nodes.items():
            lines.append(f"--- {name} last output:")
            lines += [f"  [{o.t_ns / 1e9:12.6f}] {o.text}" for o in node.output[-TAIL_LINES:]]
        lines.append(f"captures and logs: {self.out_dir}")
        return "\n".join(lines)


class Blesim:
    """The ``blesim`` fixture."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.worlds: list[SimWorld] = []
        self.runs: list[ScenarioRun] = []

    def world(
        self, *, name: str = "test", seed: int = 0, duration: str = "600s", medium: dict[str, Any] | None = None
    ) -> SimWorld:
        out = self.tmp_path / f"world-{len(self.worlds)}"
        out.mkdir(parents=True, exist_ok=True)
        w = SimWorld(out, name=name, seed=seed, duration=duration, medium=medium)
        self.worlds.append(w)
        return w

    def run_scenario(self, path: str | Path, **overrides: Any) -> ScenarioRun:
        """Load and run a scenario file (overrides such as ``seed=3, duration="5s"``)."""
        from .scenario import load_scenario

        out = self.tmp_path / f"scenario-{len(self.runs)}"
        out.mkdir(parents=True, exist_ok=True)
        scenario = load_scenario(Path(path), overrides={k: str(v) for k, v in overrides.items()} or None)
        runner = Runner(scenario, RunOptions(pcap=out / "air.pcap", logs_dir=out / "logs", btsnoop_dir=out / "hci"))
        runner.run()
        run = ScenarioRun(runner, runner.results(), out)
        self.runs.append(run)
        return run

    def describe(self) -> str:
        return "\n\n".join([w.describe() for w in self.worlds] + [r.describe() for r in self.runs])


@pytest.fixture
def blesim(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Blesim]:
    """Build and run blesim worlds in a test (see :class:`Blesim`)."""
    helper = Blesim(tmp_path)
    request.node._blesim = helper  # for the failure report below
    try:
        yield helper
    finally:
        for w in helper.worlds:
            w.finish()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    outcome: Any = yield
    report = outcome.get_result()
    helper = getattr(item, "_blesim", None)
    if helper is not None and report.failed and call.when == "call":
        report.sections.append(("blesim", helper.describe()))
