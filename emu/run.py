"""Running a scenario: build the world it describes, run it, and leave a complete record.

Theory of operation
-------------------
:class:`Runner` turns a validated :class:`~emu.scenario_schema.Scenario` into a world:
one simulated controller per node (``emu.world``), a host stack next to it
(``host.host.Host`` run by :class:`~emu.host_driver.HostDriver`), and the node's firmware
on the firmware runtime with its personality's modules. Timeline events are kernel
callbacks at their instants; captures and the :class:`~emu.records.RunRecord` are filled
by taps as the world runs.

The kernel runs in slices of simulated time so that a progress callback can report, an
early stop (``stop_when: expectations``) can be noticed, and Ctrl-C lands between two
slices.

Real HCI (:mod:`emu.bridge`, built by :mod:`emu.bridge.run_nodes`): a node with
``controller: usb:0`` (or any transport) runs its host and firmware over that real
controller; an ``hci`` node with ``transport:`` is a simulated controller served to an
outside host. Either makes the run *paced*: :attr:`Runner.bridges` runs the kernel no
faster than the wall clock, and the summary says so.

Whatever ends the run — its duration, its expectations, Ctrl-C or an error inside
blesim — :meth:`Runner.finish` closes every capture and log so they stay valid and
complete.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from host.events import Connected, Disconnected, HostEvent
from host.bonds import BondStore, BondStoreError
from host.gap import GapConfig
from host.host import Host, HostConfig
from linklayer.address import Address
from linklayer.controller import ControllerConfig
from linklayer.radio import ADVERTISING_ACCESS_ADDRESS, RadioPacket, RadioRx, RadioTx
from phy.interference import Interferer
from phy.medium import Transmission
from phy.units import MS

from .capture import AirCapture, HciCapture
from .capture_taps import AirTap, attach_hci_capture
from .host_driver import HostDriver
from .personality import NodeContext, load_personality
from .records import (
    AirPacket,
    ConnectionSpan,
    FirmwareFailure,
    LinkSample,
    NodeRecord,
    OutputLine,
    RadioWindow,
    RunRecord,
)
from .runtime import FirmwareScheduler, NodeRuntime, atomic_write_text
from .runtime.threads import format_sim_time
from .scenario_events import (
    InjectEvent,
    InterfererEvent,
    LinkLossEvent,
    MoveEvent,
    PowerEvent,
    RebootEvent,
)
from .scenario_schema import InterfererSpec, NodeSpec, Scenario
from .world import ControllerDriver, World, add_controller_node, generated_address, make_world

if TYPE_CHECKING:
    from .bridge.bridges import Bridges

#: How much simulated time runs between two looks at progress, early stop and Ctrl-C.
SLICE_NS = 100 * MS

Echo = Callable[[str], None]


@dataclass
class RunOptions:
    """Outputs and overrides of one run (the CLI's options)."""

    pcap: Path | None = None
    btsnoop_dir: Path | None = None
    logs_dir: Path | None = None
    json_path: Path | None = None
    report_path: Path | None = None
    state_dir: Path | None = None
    #: Console lines ("[  12.345678] node: text"); None: silent.
    echo: Echo | None = None
    #: Called after every slice with (simulated now, scenario duration).
    progress: Callable[[int, int], None] | None = None
    watchdog_s: float = 5.0


@dataclass
class SimNode:
    """One node of a running world."""

    spec: NodeSpec
    controller: ControllerDriver
    host: Host
    host_driver: HostDriver
    runtime: NodeRuntime
    context: NodeContext
    record: NodeRecord
    log_lines: list[str] = field(default_factory=list)


class Runner:
    """Builds and runs one scenario; see the module docstring."""

    def __init__(self, scenario: Scenario, options: RunOptions | None = None) -> None:
        self.scenario = scenario
        self.options = options or RunOptions()
        self.world: World = make_world(
            scenario.seed,
            scenario.medium.model,
            scenario.medium.noise_floor_dbm,
            **_model_params(scenario),
        )
        self.kernel = self.world.kernel
        self.scheduler = FirmwareScheduler(self.kernel, watchdog_s=self.options.watchdog_s)
        self.record = RunRecord(name=scenario.name, seed=scenario.seed, duration_ns=scenario.duration_ns)
        self.nodes: dict[str, SimNode] = {}
        self._by_radio: dict[int, str] = {}
        self._by_address: dict[bytes, str] = {}
        self._open: dict[tuple[str, int], ConnectionSpan] = {}
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._air_capture: AirCapture | None = None
        self._hci_captures: list[HciCapture] = []
        self._tracker: Any = None
        self._finished = False
        #: Transports to real controllers and outside hosts (None: a purely simulated run).
        self.bridges: Bridges | None = None
        #: ``hci`` nodes: controllers served to outside hosts, by node name.
        self.served: dict[str, ControllerDriver] = {}
        self.state_root = self._state_root()
        try:
            self._build()
        except BaseException:
            if self.bridges is not None:
                self.bridges.close()
            raise

    # -- building --------------------------------------------------------------------
    def _state_root(self) -> Path:
        if self.options.state_dir is not None:
            self.options.state_dir.mkdir(parents=True, exist_ok=True)
            return self.options.state_dir
        self._tmp = tempfile.TemporaryDirectory(prefix="blesim-state-")
        return Path(self._tmp.name)

    def _build(self) -> None:
        scenario = self.scenario
        for itf in scenario.medium.interferers:
            self.world.add_interferer(_interferer(itf))
        pcap = self.options.pcap or scenario.capture.air
        if pcap is not None:
            self._air_capture = AirCapture(pcap)
            self.world.air_taps.append(AirTap(self.world, self._air_capture))
        self.world.air_taps.append(self._on_air)
        self.world.radio_taps.append(self._on_window)
        self.world.rx_taps.append(self._on_rx)
        for spec in scenario.nodes:
            self._add_node(spec)
        btsnoop = self.options.btsnoop_dir or scenario.capture.hci
        if btsnoop is not None:
            Path(btsnoop).mkdir(parents=True, exist_ok=True)
            fmt = scenario.capture.hci_format
            suffix = ".btsnoop" if fmt == "btsnoop" else ".pcap"
            drivers = {name: node.controller for name, node in self.nodes.items()}
            drivers.update(self.served)
            for name, driver in drivers.items():
                self._hci_captures.append(attach_hci_capture(driver, Path(btsnoop) / f"{name}{suffix}", fmt))
        for event in scenario.timeline:
            self.kernel.call_at(event.at_ns, _bind(self._timeline, event))
        if scenario.stop_when == "expectations" or scenario.expect:
            from .expect import ExpectationTracker

            self._tracker = ExpectationTracker(list(scenario.expect))

    def _add_node(self, spec: NodeSpec) -> None:
        from .bridge import run_nodes

        if spec.personality == "hci":
            run_nodes.add_served_node(self, spec)
            return
        personality = load_personality(spec.personality)
        public, static = self._addresses(spec)
        driver = run_nodes.node_controller(self, spec, public)
        gap = GapConfig(address_type=spec.address_type, static_address=static)
        host_config = run_nodes.host_config_for(spec, HostConfig(gap=gap))
        # A personality may set the host up as its board's stack does (ATT MTU, ...).
        configure = getattr(personality, "host_config", None)
        if configure is not None:
            host_config = configure(spec, host_config)
        state_dir = self.state_root / spec.name
        host = Host(self.kernel.seeds.stream(f"node/{spec.name}/host"), host_config,
                    bonds=node_bond_store(state_dir))
        host_driver = HostDriver(self.world, driver, host, power_on=False)
        runtime = NodeRuntime(
            spec.name, self.kernel, self.scheduler, self.kernel.seeds, state_dir,
            firmware=spec.firmware, lib_paths=spec.lib,
            per_node_packages=personality.per_node_packages,
            on_output=self._on_output, on_error=self._on_error,
        )
        address = static if spec.address_type == "random" and static is not None else public
        record = NodeRecord(spec.name, spec.personality, str(address), spec.address_type)
        ctx = NodeContext(spec.name, spec, self.world, driver, host, host_driver, runtime, state_dir)
        modules = dict(personality.modules(ctx))
        # A personality may change builtins inside its nodes (QuecPython's bytearray(str)).
        builtins = modules.pop("__builtins__", None)
        if isinstance(builtins, dict):
            runtime.extra_builtins.update(builtins)
        runtime.modules.update(modules)
        node = SimNode(spec, driver, host, host_driver, runtime, ctx, record)
        self.nodes[spec.name] = node
        self.record.nodes[spec.name] = record
        self._by_radio[driver.radio_id] = spec.name
        self._by_address[public.value] = spec.name
        if static is not None:
            self._by_address[static.value] = spec.name
        host_driver.listeners.append(_bind_host(self._on_host_event, spec.name))
        if spec.controller_transport is not None:
            host_driver.listeners.append(run_nodes.address_listener(self, spec.name))
        self.kernel.call_at(spec.boot_time_ns, _bind(self._boot, node))

    def add_device(self, name: str, position: tuple[float, ...]) -> HostDriver:
        """A node with a controller and a host but no firmware, for a script to drive
        (the Python device API); returns its host driver, powered on at once."""
        if name in self.world.drivers:
            raise RunError(f"duplicate node name {name!r}")
        rng = self.kernel.seeds.stream(f"node/{name}/public-address")
        public = Address(((0xF0_00_00 << 24) | rng.getrandbits(24)).to_bytes(6, "little"))
        driver = add_controller_node(self.world, name, position, public_address=public)
        host = Host(self.kernel.seeds.stream(f"node/{name}/host"))
        host_driver = HostDriver(self.world, driver, host, power_on=True)
        self.record.nodes[name] = NodeRecord(name, "device", str(public), "public", status="running")
        self._by_radio[driver.radio_id] = name
        self._by_address[public.value] = name
        host_driver.listeners.append(_bind_host(self._on_host_event, name))
        return host_driver

    def _addresses(self, spec: NodeSpec) -> tuple[Address, Address | None]:
        """(the controller's public address, the random static address or None)."""
        rng = self.kernel.seeds.stream(f"node/{spec.name}/public-address")
        generated_public = Address(((0xF0_00_00 << 24) | rng.getrandbits(24)).to_bytes(6, "little"))
        if spec.address_type == "public":
            return (spec.address or generated_public), None
        static = spec.address or generated_address(self.world, spec.name)
        return generated_public, static

    def _boot(self, node: SimNode) -> None:
        node.record.status = "running"
        node.host.power_on(self.kernel.now)
        node.host_driver.service()
        node.runtime.boot()

    # -- taps --------------------------------------------------------------------------
    def _on_output(self, node: str, t_ns: int, line: str) -> None:
        out = OutputLine(t_ns, line)
        self.record.nodes[node].output.append(out)
        self.nodes[node].log_lines.append(line)
        echo = self.options.echo
        if echo is not None:
            echo(f"{format_sim_time(t_ns)} {node}: {line}")
        if self._tracker is not None:
            self._tracker.on_output(node, out)

    def _on_error(self, node: str, t_ns: int, exc: BaseException, formatted: str) -> None:
        failure = FirmwareFailure(t_ns, f"{type(exc).__name__}: {exc}", formatted)
        self.record.nodes[node].failures.append(failure)
        self.record.nodes[node].status = "failed"
        echo = self.options.echo
        if echo is not None:
            for line in formatted.rstrip("\n").splitlines():
                echo(f"{format_sim_time(t_ns)} {node}: {line}")
        if self._tracker is not None:
            self._tracker.on_failure(node, failure)

    def _on_air(self, tx: Transmission, op: RadioTx) -> None:
        sender = self._by_radio.get(tx.radio_id, "")
        info = op.capture
        if tx.access_address == ADVERTISING_ACCESS_ADDRESS:
            kind = 1 if tx.channel < 37 else 0
        else:
            kind = int(getattr(info, "pdu_kind", 0))
        pdu = tx.pdu
        plaintext = getattr(info, "plaintext", None)
        if plaintext is not None:
            pdu = plaintext
        packet = AirPacket(
            tx.start_ns, tx.end_ns, sender, tx.channel, tx.phy, tx.access_address, pdu, kind,
            True, self.world.medium.rssi_at(tx, (0.0, 0.0)),
        )
        self.record.air.append(packet)
        if sender:
            self.record.nodes[sender].tx_packets += 1
        if self._tracker is not None:
            self._tracker.on_air(packet)

    def _on_window(self, driver: ControllerDriver, op: RadioRx) -> None:
        self.record.windows.append(RadioWindow(op.start_ns, op.end_ns, driver.name, op.channel))

    def _on_rx(self, driver: ControllerDriver, packet: RadioPacket, sender_radio: int) -> None:
        sender = self._by_radio.get(sender_radio, "")
        self.record.nodes[driver.name].rx_packets += 1
        if packet.bit_errors:
            self.record.nodes[driver.name].rx_crc_errors += 1
        if sender:
            self.record.links.append(LinkSample(packet.end_ns, sender, driver.name, packet.rssi_dbm))

    def _on_host_event(self, node: str, t_ns: int, event: HostEvent) -> None:
        if isinstance(event, Connected):
            peer = self._by_address.get(event.peer_address.value, str(event.peer_address))
            central, peripheral = (node, peer) if event.role == "central" else (peer, node)
            key = (node, event.handle)
            span = ConnectionSpan(t_ns, None, central, peripheral)
            self._open[key] = span
            # Each connection is seen from both ends; record it once, from its central.
            if event.role == "central" or peer not in self.nodes:
                self.record.connections.append(span)
                if self._tracker is not None:
                    self._tracker.on_connection(span)
        elif isinstance(event, Disconnected):
            key = (node, event.handle)
            span_open = self._open.pop(key, None)
            if span_open is None:
                return
            for i, span in enumerate(self.record.connections):
                if span is span_open:
                    closed = span._replace(end_ns=t_ns, reason=event.reason)
                    self.record.connections[i] = closed
                    if self._tracker is not None:
                        self._tracker.on_connection(closed)

    # -- timeline --------------------------------------------------------------------------
    def _timeline(self, event: object) -> None:
        world = self.world
        if isinstance(event, MoveEvent):
            world.move(event.node, event.position)
        elif isinstance(event, LinkLossEvent):
            world.set_link_loss(event.from_node, event.to_node, event.probability)
        elif isinstance(event, InterfererEvent):
            world.set_interferer(event.name, event.enabled)
        elif isinstance(event, PowerEvent):
            self._power(event.node, event.on)
        elif isinstance(event, RebootEvent):
            if event.node not in self.nodes:  # an hci node runs no firmware
                return
            node = self.nodes[event.node]
            node.record.status = "running"
            node.runtime.reboot()
        elif isinstance(event, InjectEvent):
            self._inject(event)

    def _power(self, name: str, on: bool) -> None:
        if name in self.served:  # an hci node: its controller only (its host is outside)
            self.world.set_powered(name, on)
            return
        node = self.nodes[name]
        if on:
            self.world.set_powered(name, True)
            node.record.status = "running"
            node.host = node.context.host = Host(
                self.kernel.seeds.stream(f"node/{name}/host/power-{self.kernel.now}"), node.host.config,
                bonds=node_bond_store(node.context.state_dir),
            )
            node.host_driver.host = node.host
            node.host.power_on(self.kernel.now)
            node.host_driver.service()
            node.runtime.boot()
        else:
            node.runtime.stop()
            node.record.status = "off"
            self.world.set_powered(name, False)

    def _inject(self, event: InjectEvent) -> None:
        from linklayer.crypto import crc24_bytes
        from linklayer.radio import ADVERTISING_CRC_INIT

        key = f"inject-{event.at_ns}-{event.channel}"
        radio = self.world.add_injector(key, event.position)
        pdu = bytes(event.data)
        crc = crc24_bytes(ADVERTISING_CRC_INIT, pdu)
        op = RadioTx(self.kernel.now, event.channel, event.phy, event.access_address, pdu, crc, event.tx_power_dbm)
        self.world.inject(radio, self.kernel.now, op)

    # -- running -----------------------------------------------------------------------------
    def run(self) -> RunRecord:
        """Run to the end (duration, expectations or Ctrl-C) and finish; returns the record."""
        try:
            self.advance(self.scenario.duration_ns, early_stop=self.scenario.stop_when == "expectations")
        except KeyboardInterrupt:
            self.record.interrupted = True
            raise
        finally:
            self.finish()
        return self.record

    def advance(
        self, until_ns: int, *, early_stop: bool = False, condition: Callable[[], bool] | None = None
    ) -> bool:
        """Run the world to ``until_ns`` in slices; stop earlier when ``condition()`` holds
        (checked after every slice and at most every simulated millisecond when given) or,
        with ``early_stop``, when every expectation is decided. Returns True if it stopped
        early."""
        step = SLICE_NS if condition is None else MS
        bridges = self.bridges
        while self.kernel.now < until_ns:
            if bridges is not None:  # paced: never ahead of the wall clock
                bridges.run_until(min(until_ns, self.kernel.now + step))
            else:
                self.kernel.run(min(until_ns, self.kernel.now + step))
            if self.options.progress is not None:
                self.options.progress(self.kernel.now, self.scenario.duration_ns)
            if condition is not None and condition():
                return True
            if early_stop and self._tracker is not None and self._tracker.all_met(self.kernel.now):
                self.record.stopped_early = True
                return True
        return False

    def finish(self) -> None:
        """Close captures and write logs, summary and report; safe to call twice."""
        if self._finished:
            return
        self._finished = True
        self.record.end_ns = self.kernel.now
        for node in self.nodes.values():
            node.record.output.sort(key=lambda o: o.t_ns)  # stable: print order kept
            if node.record.status == "running":
                node.record.status = "stopped" if not node.record.failures else "failed"
        try:
            if self.bridges is not None:
                from .bridge.run_nodes import say_paced

                self.bridges.close()
                say_paced(self)
            self.scheduler.close()
        finally:
            if self._air_capture is not None:
                self._air_capture.close()
            for capture in self._hci_captures:
                capture.close()
            self._write_logs()
            if self._tmp is not None:
                self._tmp.cleanup()

    def results(self) -> list[Any]:
        from .expect import evaluate

        results: list[Any] = evaluate(list(self.scenario.expect), self.record)
        return results

    def _write_logs(self) -> None:
        logs = self.options.logs_dir or self.scenario.capture.logs
        if logs is None:
            return
        Path(logs).mkdir(parents=True, exist_ok=True)
        for name, node in self.nodes.items():
            text = "".join(line + "\n" for line in node.log_lines)
            (Path(logs) / f"{name}.log").write_text(text, encoding="utf-8")

    def summary(self, results: list[Any]) -> dict[str, Any]:
        """The machine-readable summary (``--json``); no wall-clock figures, so runs compare."""
        record = self.record
        from .bridge.run_nodes import add_summary, served_records

        nodes = {}
        for r in [node.record for node in self.nodes.values()] + served_records(self):
            name = r.name
            conns = [c for c in record.connections if name in (c.central, c.peripheral)]
            nodes[name] = {
                "personality": r.personality,
                "address": r.address,
                "address_type": r.address_type,
                "firmware_status": r.status,
                "errors": [f.message for f in r.failures],
                "packets_sent": r.tx_packets,
                "packets_received": r.rx_packets,
                "crc_errors": r.rx_crc_errors,
                "connections": len(conns),
                "output_lines": len(r.output),
            }
        summary: dict[str, Any] = {
            "scenario": record.name,
            "seed": record.seed,
            "duration_s": record.duration_ns / 1e9,
            "simulated_s": record.end_ns / 1e9,
            "stopped_early": record.stopped_early,
            "interrupted": record.interrupted,
            "nodes": nodes,
            "connections": [
                {"central": c.central, "peripheral": c.peripheral, "start_s": c.start_ns / 1e9,
                 "end_s": None if c.end_ns is None else c.end_ns / 1e9, "reason": c.reason}
                for c in record.connections
            ],
            "expectations": [
                {"expect": _describe_spec(res.spec), "met": res.met, "detail": res.detail} for res in results
            ],
        }
        add_summary(self, summary)
        return summary

    def write_json(self, path: Path, results: list[Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.summary(results), indent=2, sort_keys=True) + "\n", encoding="utf-8")

    def failed_firmware(self) -> bool:
        return any(n.record.failures for n in self.nodes.values())


class RunError(RuntimeError):
    """The scenario cannot be run here (not a validation error: those come earlier)."""


def node_bond_store(state_dir: Path) -> BondStore:
    """The node's bonds, loaded from ``<state_dir>/bonds.json`` and written back
    atomically on every change, so that they survive a firmware reboot and a power cycle
    (a file that is not a bond store starts an empty one)."""
    path = Path(state_dir) / "bonds.json"

    def persist(text: str) -> None:
        atomic_write_text(path, text + "\n")

    try:
        return BondStore.from_json(path.read_text(encoding="utf-8"), persist)
    except (FileNotFoundError, BondStoreError, UnicodeDecodeError):
        return BondStore(persist)


def _bind(fn: Callable[[Any], None], arg: Any) -> Callable[[], None]:
    return lambda: fn(arg)


def _bind_host(fn: Callable[[str, int, HostEvent], None], name: str) -> Callable[[int, HostEvent], None]:
    return lambda t, e: fn(name, t, e)


def _model_params(scenario: Scenario) -> dict[str, Any]:
    params = dict(scenario.medium.params)
    return params


def _controller_config(spec: NodeSpec) -> ControllerConfig:
    cfg = ControllerConfig(tx_power_dbm=int(round(spec.tx_power_dbm)))
    c = spec.controller
    changes: dict[str, Any] = {}
    for name in ("le_acl_data_packet_length", "total_num_le_acl_data_packets", "le_features",
                 "filter_accept_list_size", "resolving_list_size"):
        value = getattr(c, name, None)
        if value is not None and hasattr(cfg, name):
            changes[name] = value
    if hasattr(cfg, "clock_drift_ppm"):
        changes["clock_drift_ppm"] = spec.clock_drift_ppm
    return replace(cfg, **changes)


def _interferer(spec: InterfererSpec) -> Interferer:
    """Map a scenario interferer (centre frequency and bandwidth) onto RF channels."""
    low, high = spec.center_mhz - spec.bandwidth_mhz / 2, spec.center_mhz + spec.bandwidth_mhz / 2
    channels = frozenset(rf for rf in range(40) if low - 1 <= 2402 + 2 * rf <= high + 1)
    return Interferer(
        spec.name, spec.position, spec.power_dbm, channels=channels, period_ns=spec.period_ns,
        duty_cycle=spec.duty_cycle, enabled=spec.enabled,
    )


def _describe_spec(spec: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": spec.kind}
    for key, value in vars(spec).items():
        if key == "location":
            continue
        out[key] = list(value) if isinstance(value, tuple) else value
    return out


__all__ = ["Runner", "RunOptions", "RunError", "SLICE_NS"]
