"""``blesim controller``: simulated controllers of a world, served to outside hosts.

Theory of operation
-------------------
``blesim controller --transport tcp-server:127.0.0.1:9000 [--transport pty:/tmp/ble1 ...]
[SCENARIO]`` adds one ``hci`` node per ``--transport`` (named ``hci0``, ``hci1``, ... and
placed a metre apart from the origin) to SCENARIO's world — or to an empty world — and
runs it paced to the wall clock, so that BlueZ (``vhci``), Bumble, a Zephyr native build
or an Android emulator can join the simulated world through a simulated controller. It
says where each controller is served, echoes what the scenario's firmware prints, and
stops at the scenario's duration (``--duration``; without a scenario: until Ctrl-C), or
once every outside host has gone. Captures (``--pcap``, ``--btsnoop``) hold the outside
hosts' traffic like any node's.

Exit codes as ``blesim run``: 0, 1 (an expectation failed or a firmware raised), 2 (bad
input, missing hardware: one ``error:`` line), 130 (Ctrl-C).
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Callable

import click

# The exit codes of ``blesim run`` (emu.cli), repeated to keep the import one-way.
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

#: Without a scenario or --duration: serve until Ctrl-C (or every host has gone).
FOREVER_NS = 10 * 365 * 24 * 3600 * 1_000_000_000


@click.command("controller")
@click.argument("scenario", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--transport", "-t", "transports", multiple=True, metavar="TRANSPORT",
              help="Where an outside host connects: tcp-server:HOST:PORT, tcp-client:HOST:PORT, pty:PATH, "
                   "serial:PATH[,BAUD][,rtscts] or vhci. Repeat for several controllers.")
@click.option("--seed", type=str, help="Override the scenario's seed.")
@click.option("--duration", type=str, help="Stop after this long (default: the scenario's duration; "
                                            "without a scenario, until Ctrl-C).")
@click.option("--pcap", type=click.Path(dir_okay=False, path_type=Path), help="Air capture (pcap, link type 256).")
@click.option("--btsnoop", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for one HCI btsnoop file per node (the outside hosts' traffic included).")
@click.option("--logs", type=click.Path(file_okay=False, path_type=Path), help="Folder for one log per firmware node.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Machine-readable summary.")
def controller_command(
    scenario: Path | None, transports: tuple[str, ...], seed: str | None, duration: str | None,
    pcap: Path | None, btsnoop: Path | None, logs: Path | None, json_path: Path | None,
) -> None:
    """Serve simulated controllers of SCENARIO's world (or of an empty world) to outside hosts."""
    sys.exit(serve(scenario, transports, seed=seed, duration=duration, pcap=pcap, btsnoop=btsnoop,
                   logs=logs, json_path=json_path))


def serve(
    scenario: Path | None, transports: tuple[str, ...] | list[str], *, seed: str | None = None,
    duration: str | None = None, pcap: Path | None = None, btsnoop: Path | None = None,
    logs: Path | None = None, json_path: Path | None = None, echo: Callable[[str], None] | None = None,
) -> int:
    """The body of ``blesim controller``; returns the exit code."""
    from .bridge.transports import TransportSpecError, check_role, parse_transport
    from .run import RunError, RunOptions, Runner
    from .scenario import load_scenario
    from .scenario_checker import ScenarioError
    from .scenario_schema import NodeSpec, Scenario
    from .units_parse import UnitError, parse_duration

    say = echo if echo is not None else click.echo

    def bad(message: str) -> int:
        click.echo(f"error: {message}", err=True)
        return EXIT_BAD_INPUT

    for text in transports:
        try:
            check_role(parse_transport(text), "controller")
        except TransportSpecError as exc:
            return bad(f"--transport {text}: {exc}")
    if scenario is not None:
        overrides: dict[str, object] = {}
        if seed is not None:
            overrides["seed"] = seed
        if duration is not None:
            overrides["duration"] = duration
        try:
            world = load_scenario(scenario, overrides=overrides or None)
        except ScenarioError as exc:
            click.echo(str(exc), err=True)
            return EXIT_BAD_INPUT
    else:
        try:
            length = parse_duration(duration) if duration is not None else FOREVER_NS
            number = int(seed, 0) if seed is not None else 1
        except (UnitError, ValueError) as exc:
            return bad(f"--duration/--seed: {exc}")
        world = Scenario(name="blesim-controller", nodes=(), seed=number, duration_ns=length)
    taken = {n.name for n in world.nodes}
    added: list[NodeSpec] = []
    for text in transports:
        index = 0
        while f"hci{index}" in taken:
            index += 1
        name = f"hci{index}"
        taken.add(name)
        added.append(NodeSpec(name=name, personality="hci", transport=text, position=(float(len(added)), 0.0, 0.0)))
    world = dataclasses.replace(world, nodes=world.nodes + tuple(added))
    if not any(n.personality == "hci" for n in world.nodes):
        return bad("nothing to serve: give --transport, or a scenario with an hci node")
    where = scenario if scenario is not None else Path("--transport")
    options = RunOptions(pcap=pcap, btsnoop_dir=btsnoop, logs_dir=logs, json_path=json_path, echo=say)
    try:
        runner = Runner(world, options)
    except RunError as exc:
        return bad(f"{where}: {exc}" if scenario is not None else str(exc))
    bridges = runner.bridges
    assert bridges is not None
    say("serving; stop with Ctrl-C")
    try:
        runner.advance(world.duration_ns, condition=bridges.all_lost)
    except KeyboardInterrupt:
        runner.record.interrupted = True
        runner.finish()
        click.echo("interrupted: the captures and logs written so far are complete", err=True)
        return EXIT_INTERRUPTED
    finally:
        runner.finish()
    if bridges.all_lost():
        say("every outside host has gone: stopping")
    results = runner.results()
    if json_path is not None:
        runner.write_json(json_path, results)
    from .cli import _say_outputs, _summary

    _summary(runner, results)
    _say_outputs(runner, options)
    failed = runner.failed_firmware() or not all(r.met for r in results)
    return EXIT_FAILED if failed else EXIT_OK


__all__ = ["controller_command", "serve", "FOREVER_NS"]
