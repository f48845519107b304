"""The ``blesim`` command line (click).

Exit codes (../shared/DESIGN.md): 0 every expectation met and no firmware failed; 1 an
expectation failed or a firmware raised; 2 bad input (the message starts with ``error:``
and names the file); 130 interrupted by Ctrl-C.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Any

import click

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("blesim")
    except Exception:  # not installed (running from a checkout)
        return "0+unknown"


def demo_scenario() -> Path:
    """The bundled demo scenario (package data of ``emu``, present after any install)."""
    return Path(__file__).resolve().parent / "demo" / "demo.yaml"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(_version(), prog_name="blesim")
def cli() -> None:
    """blesim — a Bluetooth Low Energy world in one Python process."""


# --------------------------------------------------------------------------- run
@cli.command()
@click.argument("scenario", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--seed", type=str, help="Override the scenario's seed.")
@click.option("--duration", type=str, help="Override the simulated duration (30s, 250ms, ...).")
@click.option("--pcap", type=click.Path(dir_okay=False, path_type=Path), help="Air capture (pcap, link type 256).")
@click.option("--btsnoop", type=click.Path(file_okay=False, path_type=Path), help="Folder for one HCI btsnoop file per node.")
@click.option("--logs", type=click.Path(file_okay=False, path_type=Path), help="Folder for one log per node (exactly what it printed).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Machine-readable summary.")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), help="A picture of the run (.html or .png).")
@click.option("--state", type=click.Path(file_okay=False, path_type=Path), help="Keep the nodes' state folders here.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def run(
    scenario: Path | None, seed: str | None, duration: str | None, pcap: Path | None,
    btsnoop: Path | None, logs: Path | None, json_path: Path | None, report: Path | None,
    state: Path | None, quiet: bool,
) -> None:
    """Run SCENARIO (the bundled demo when none is given)."""
    sys.exit(run_scenario(scenario, seed=seed, duration=duration, pcap=pcap, btsnoop=btsnoop, logs=logs,
                          json_path=json_path, report=report, state=state, quiet=quiet))


def run_scenario(
    scenario: Path | None, *, seed: str | None = None, duration: str | None = None,
    pcap: Path | None = None, btsnoop: Path | None = None, logs: Path | None = None,
    json_path: Path | None = None, report: Path | None = None, state: Path | None = None,
    quiet: bool = False,
) -> int:
    """The body of ``blesim run``; returns the exit code."""
    from .run import RunError, RunOptions, Runner
    from .scenario import load_scenario
    from .scenario_checker import ScenarioError

    path = scenario if scenario is not None else demo_scenario()
    overrides: dict[str, object] = {}
    if seed is not None:
        overrides["seed"] = seed
    if duration is not None:
        overrides["duration"] = duration
    if report is not None and report.suffix.lower() not in (".html", ".htm", ".png"):
        click.echo(f"error: {report}: a report is an .html or .png file", err=True)
        return EXIT_BAD_INPUT
    try:
        loaded = load_scenario(path, overrides=overrides or None)
    except ScenarioError as exc:
        click.echo(str(exc), err=True)
        return EXIT_BAD_INPUT
    progress, stop_progress = _progress(quiet, loaded.duration_ns)
    options = RunOptions(
        pcap=pcap, btsnoop_dir=btsnoop, logs_dir=logs, json_path=json_path, report_path=report,
        state_dir=state, echo=click.echo, progress=progress,
    )
    try:
        runner = Runner(loaded, options)
    except RunError as exc:
        stop_progress()
        click.echo(f"error: {path}: {exc}", err=True)
        return EXIT_BAD_INPUT
    try:
        runner.run()
    except KeyboardInterrupt:
        stop_progress()
        click.echo("interrupted: the captures and logs written so far are complete", err=True)
        _say_outputs(runner, options)
        return EXIT_INTERRUPTED
    except Exception:
        stop_progress()
        click.echo("error: blesim failed inside the simulation (a bug in blesim, not in your firmware):", err=True)
        click.echo(traceback.format_exc(), err=True)
        _say_outputs(runner, options)
        return EXIT_FAILED
    stop_progress()
    results = runner.results()
    if json_path is not None:
        runner.write_json(json_path, results)
    if report is not None:
        from .report import write_report

        write_report(runner.record, report, results=results)
    _summary(runner, results)
    _say_outputs(runner, options)
    failed = runner.failed_firmware() or not all(r.met for r in results)
    return EXIT_FAILED if failed else EXIT_OK


def _progress(quiet: bool, duration_ns: int) -> tuple[Any, Any]:
    """A rich progress bar on a terminal (simulated time and × real time), else nothing."""
    if quiet or not sys.stdout.isatty():
        return None, lambda: None
    import time

    from rich.progress import BarColumn, Progress, TextColumn

    bar = Progress(
        TextColumn("simulated {task.fields[sim]:>9}"), BarColumn(), TextColumn("{task.fields[speed]}"),
        transient=True,
    )
    task = bar.add_task("run", total=duration_ns, sim="0.000 s", speed="")
    start = time.perf_counter()
    bar.start()

    def update(now_ns: int, end_ns: int) -> None:
        wall = time.perf_counter() - start
        speed = f"{now_ns / 1e9 / wall:8.1f}× real time" if wall > 0 else ""
        bar.update(task, completed=now_ns, sim=f"{now_ns / 1e9:.3f} s", speed=speed)

    return update, bar.stop


def _summary(runner: Any, results: list[Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=sys.stdout, width=120)
    table = Table(title=f"{runner.record.name}: {runner.record.end_ns / 1e9:.3f} s simulated")
    for col in ("node", "personality", "address", "state", "sent", "received", "connections", "errors"):
        table.add_column(col)
    summary = runner.summary(results)
    for name, node in summary["nodes"].items():
        table.add_row(name, node["personality"], node["address"], node["firmware_status"],
                      str(node["packets_sent"]), str(node["packets_received"]),
                      str(node["connections"]), str(len(node["errors"])))
    console.print(table)
    if results:
        exp = Table(title="expectations")
        exp.add_column("expectation")
        exp.add_column("result")
        exp.add_column("why")
        for r in results:
            exp.add_row(getattr(r.spec, "location", "") or r.spec.kind, "met" if r.met else "NOT MET", r.detail)
        console.print(exp)


def _say_outputs(runner: Any, options: Any) -> None:
    scenario = runner.scenario
    where = {
        "air capture": options.pcap or scenario.capture.air,
        "HCI captures": options.btsnoop_dir or scenario.capture.hci,
        "logs": options.logs_dir or scenario.capture.logs,
        "summary": options.json_path,
        "report": options.report_path,
    }
    for what, path in where.items():
        if path is not None:
            click.echo(f"{what}: {path}")


# --------------------------------------------------------------------------- validate
@cli.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
def validate(scenario: Path) -> None:
    """Check SCENARIO without running it."""
    from .scenario import load_scenario
    from .scenario_checker import ScenarioError

    try:
        loaded = load_scenario(scenario)
    except ScenarioError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_BAD_INPUT)
    click.echo(
        f"ok: {scenario}: {len(loaded.nodes)} nodes, {loaded.duration_ns / 1e9:g} s, "
        f"{len(loaded.expect)} expectations, {len(loaded.timeline)} timeline events"
    )


# --------------------------------------------------------------------------- new
@cli.command()
@click.argument("name")
@click.option("--personality", "-p", default="native", show_default=True,
              help="micropython, quectel, circuitpython or native.")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Where to create the NAME folder.")
def new(name: str, personality: str, directory: Path) -> None:
    """Write a starter scenario NAME/NAME.yaml with firmware for PERSONALITY."""
    from .starters import StarterError, write_starter

    try:
        path = write_starter(directory / name, name, personality)
    except StarterError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    click.echo(f"wrote {path}; run it with: blesim run {path}")


# --------------------------------------------------------------------------- bench
@cli.command()
@click.argument("cases", nargs=-1)
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Write the rows as JSON.")
@click.option("--list", "list_only", is_flag=True, help="List the cases and exit.")
def bench(cases: tuple[str, ...], json_path: str | None, list_only: bool) -> None:
    """Run benchmark CASES (all default cases when none is named)."""
    from . import bench as b

    try:
        names = b.expand(list(cases))
    except KeyError as exc:
        click.echo(f"error: unknown bench case {exc.args[0]!r}; known: {', '.join(b.CASES)}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    if list_only:
        for n in names:
            click.echo(n)
        return
    rows = []
    for name in names:
        click.echo(f"running {name} ...", err=True)
        try:
            rows.append(b.run_case(name))
        except b.CaseUnavailable as exc:
            click.echo(f"skipped {exc}", err=True)
    b.print_table(rows)
    if json_path:
        b.write_json(rows, json_path)


def _register_extensions() -> None:
    from .multitest_cli import multitest_command

    cli.add_command(multitest_command)
    from .cli_controller import controller_command

    cli.add_command(controller_command)


_register_extensions()


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
