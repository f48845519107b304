"""How :class:`emu.run.Runner` builds bridged nodes (kept here so ``run.py`` stays small).

Theory of operation
-------------------
Two kinds of node involve a transport:

* a node with ``controller: <transport>`` — its host and firmware run as usual, but
  :func:`node_controller` gives it the real controller at that transport instead of a
  simulated one, and :func:`host_config_for` gives its host a command timeout fit for
  real hardware. When that controller is lost, :func:`controller_lost` ends the node
  (firmware stopped, a failure recorded with the reason) and the world runs on;
* an ``hci`` node — :func:`add_served_node` builds its controller (simulated; or real,
  which makes the node a capturing HCI relay) and serves it over ``transport:`` to an
  outside host. When that host goes away, :func:`host_lost` powers the controller off so
  that its peers see it vanish, as with a real device.

The first such node creates the runner's :class:`~emu.bridge.bridges.Bridges`, which
makes the whole run paced to the wall clock.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Callable

from host.events import HostEvent, PoweredOn
from host.host import HostConfig
from linklayer.address import Address

from ..records import FirmwareFailure, NodeRecord
from ..runtime.threads import format_sim_time
from ..world import ControllerDriver, add_controller_node
from .bridges import BridgeError, Bridges
from .real_controller import REAL_COMMAND_TIMEOUT_NS

if TYPE_CHECKING:
    from ..run import Runner
    from ..scenario_schema import NodeSpec


def bridges_of(runner: "Runner") -> Bridges:
    """The runner's bridges, created on first use."""
    if runner.bridges is None:
        runner.bridges = Bridges(runner.world, runner.options.echo)
    return runner.bridges


def _run_error(runner: "Runner", message: str) -> Exception:
    from ..run import RunError

    return RunError(message)


def node_controller(runner: "Runner", spec: "NodeSpec", public: Address) -> ControllerDriver:
    """The node's controller: simulated, or the real one its ``controller:`` names."""
    from ..run import _controller_config

    if spec.controller_transport is None:
        return add_controller_node(
            runner.world, spec.name, spec.position, public_address=public, config=_controller_config(spec),
            hci_latency_ns=spec.hci_latency_ns,
        )
    if spec.address is not None and spec.address_type == "public":
        raise _run_error(runner, f"node {spec.name!r}: a real controller has its own public address; "
                                 "use address_type: random to choose the node's address")
    transport = spec.controller_transport
    name = spec.name
    try:
        driver = bridges_of(runner).add_real_controller(
            name, transport, spec.position, lambda reason: controller_lost(runner, name, transport, reason)
        )
    except BridgeError as exc:
        raise _run_error(runner, str(exc)) from None
    return driver


def address_listener(runner: "Runner", name: str) -> Callable[[int, HostEvent], None]:
    """A host listener that records the node's address once its real controller is up."""

    def powered(t_ns: int, event: HostEvent) -> None:
        if isinstance(event, PoweredOn) and name in runner.record.nodes:
            runner.record.nodes[name].address = str(event.address)

    return powered


def host_config_for(spec: "NodeSpec", config: HostConfig) -> HostConfig:
    """The host configuration of a node over a real controller (slow resets allowed)."""
    if spec.controller_transport is None:
        return config
    return dataclasses.replace(config, command_timeout_ns=max(config.command_timeout_ns, REAL_COMMAND_TIMEOUT_NS))


def add_served_node(runner: "Runner", spec: "NodeSpec") -> None:
    """An ``hci`` node: its controller served to an outside host over ``spec.transport``."""
    if spec.transport is None:
        raise _run_error(runner, f"hci node {spec.name!r} needs 'transport': where its outside host connects")
    public, _ = runner._addresses(spec)
    driver = node_controller(runner, spec, public)
    name, transport = spec.name, spec.transport
    try:
        served = bridges_of(runner).serve(name, transport, driver,
                                          lambda reason: host_lost(runner, name, transport, reason))
    except BridgeError as exc:
        raise _run_error(runner, str(exc)) from None
    address = "(real controller's)" if spec.controller_transport is not None else str(public)
    what = (f"real controller {spec.controller_transport}" if spec.controller_transport is not None
            else f"simulated controller {public}")
    echo = runner.options.echo
    if echo is not None:
        echo(f"{name}: {what} served on {served.transport.description}")
    runner.record.nodes[name] = NodeRecord(name, "hci", address, "public", status="running")
    runner.served[name] = driver
    runner._by_radio[driver.radio_id] = name
    runner._by_address[public.value] = name


def controller_lost(runner: "Runner", name: str, transport: str, reason: str) -> None:
    """The real controller of a node is gone: that node ends, the world continues."""
    now = runner.kernel.now
    message = f"controller {transport} lost: {reason}"
    node = runner.nodes.get(name)
    if node is not None:
        node.runtime.stop()
        failure = FirmwareFailure(now, f"ControllerLost: {message}", message + "\n")
        node.record.failures.append(failure)
        node.record.status = "failed"
        tracker = runner._tracker
        if tracker is not None:
            tracker.on_failure(name, failure)
    elif name in runner.record.nodes:
        runner.record.nodes[name].status = "controller lost"
    runner.world.set_powered(name, False)
    _say(runner, now, name, f"{message}; the node stops, the rest of the world continues")


def host_lost(runner: "Runner", name: str, transport: str, reason: str) -> None:
    """The outside host of an ``hci`` node is gone: its controller powers off."""
    now = runner.kernel.now
    runner.record.nodes[name].status = "host gone"
    runner.world.set_powered(name, False)
    _say(runner, now, name, f"outside host on {transport} gone: {reason}; its controller is off, "
                            "the rest of the world continues")


def _say(runner: "Runner", now: int, name: str, text: str) -> None:
    echo = runner.options.echo
    if echo is not None:
        echo(f"{format_sim_time(now)} {name}: {text}")


def say_paced(runner: "Runner") -> None:
    """The console line that says the run was paced, and whether it kept up."""
    echo = runner.options.echo
    if echo is None or runner.bridges is None:
        return
    pacer = runner.bridges.pacer
    behind = (f"it fell behind the wall clock by up to {pacer.max_lag_ns / 1e6:.1f} ms"
              if pacer.late_steps else "it kept up with the wall clock")
    echo(f"this run was paced to real time (a real controller or an outside host was attached); {behind}")


def served_records(runner: "Runner") -> list[NodeRecord]:
    """The records of the ``hci`` nodes, for the summary."""
    return [runner.record.nodes[name] for name in runner.served]


def add_summary(runner: "Runner", summary: dict[str, object]) -> None:
    """Add the ``paced`` entry and each bridged node's transports to a run summary."""
    bridges = runner.bridges
    if bridges is None:
        return
    nodes = summary.get("nodes")
    if isinstance(nodes, dict):
        for name, entry in nodes.items():
            own = bridges.of(name)
            if own and isinstance(entry, dict):
                entry["transports"] = [b.describe() for b in own]
    summary["paced"] = bridges.summary()


__all__ = [
    "bridges_of",
    "node_controller",
    "address_listener",
    "host_config_for",
    "add_served_node",
    "controller_lost",
    "host_lost",
    "say_paced",
    "served_records",
    "add_summary",
]
