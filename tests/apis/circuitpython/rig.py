"""A small rig for CircuitPython personality tests: real worlds run from YAML text.

``run_world(tmp_path, {"node": firmware_source, ...})`` writes each firmware next to a
generated scenario, runs it with :class:`emu.run.Runner`, and returns a :class:`World`
with each node's printed lines, firmware failures and host events (with their
simulated times). Nodes are CircuitPython nodes 2 m apart unless told otherwise.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emu.run import Runner, RunOptions
from emu.scenario import loads_scenario
from host.events import HostEvent


@dataclass
class World:
    runner: Runner
    events: dict[str, list[tuple[int, HostEvent]]] = field(default_factory=dict)

    def output(self, node: str) -> list[str]:
        return [line.text for line in self.runner.record.nodes[node].output]

    def timed_output(self, node: str) -> list[tuple[int, str]]:
        return [(line.t_ns, line.text) for line in self.runner.record.nodes[node].output]

    def failures(self, node: str) -> list[Any]:
        return list(self.runner.record.nodes[node].failures)

    def events_of(self, node: str, kind: type) -> list[tuple[int, Any]]:
        return [(t, e) for t, e in self.events[node] if isinstance(e, kind)]

    def host(self, node: str) -> Any:
        return self.runner.nodes[node].host


def _recorder(events: list[tuple[int, HostEvent]]) -> Callable[[int, HostEvent], None]:
    return lambda t, e: events.append((t, e))


def run_world(
    tmp_path: Path,
    firmwares: dict[str, str],
    *,
    duration: str = "5s",
    seed: int = 1,
    positions: dict[str, tuple[float, float]] | None = None,
    personalities: dict[str, str] | None = None,
    node_extra: dict[str, str] | None = None,
    watchdog_s: float = 5.0,
) -> World:
    """Run the firmwares (sources, dedented) as one world; see the module docstring."""
    lines = ["name: cp-test", f"seed: {seed}", f"duration: {duration}", "nodes:"]
    for index, (name, source) in enumerate(firmwares.items()):
        path = tmp_path / f"{name.replace('-', '_')}_fw.py"
        path.write_text(textwrap.dedent(source), encoding="utf-8")
        x, y = (positions or {}).get(name, (2.0 * index, 0.0))
        personality = (personalities or {}).get(name, "circuitpython")
        lines += [
            f"  - name: {name}",
            f"    personality: {personality}",
            f"    firmware: {path.name}",
            f"    position: [{x}, {y}]",
        ]
        extra = (node_extra or {}).get(name)
        if extra:
            lines += ["    " + line for line in extra.splitlines()]
    scenario = loads_scenario("\n".join(lines) + "\n", file=str(tmp_path / "test.yaml"), base_dir=tmp_path)
    runner = Runner(scenario, RunOptions(watchdog_s=watchdog_s))
    world = World(runner)
    for name, node in runner.nodes.items():
        events: list[tuple[int, HostEvent]] = []
        world.events[name] = events
        node.host_driver.listeners.append(_recorder(events))
    runner.run()
    return world


#: A peripheral firmware: a UART service advertised as "periph", echoing bytes, forever.
UART_PERIPHERAL = """
from adafruit_ble import BLERadio
from adafruit_ble.advertising.standard import ProvideServicesAdvertisement
from adafruit_ble.services.nordic import UARTService

ble = BLERadio()
uart = UARTService()
advertisement = ProvideServicesAdvertisement(uart)
advertisement.complete_name = "periph"
while True:
    ble.start_advertising(advertisement)
    while not ble.connected:
        pass
    while ble.connected:
        data = uart.read(1)
        if data:
            uart.write(data)
"""
