"""``blesim multitest``: MicroPython's two-device tests on simulated nodes.

Registered by :mod:`emu.cli` (``cli.add_command(multitest_command)``). Runs each
``TEST.py`` on as many simulated MicroPython nodes as it has ``instanceN`` functions
(:mod:`apis.micropython.multitest`, reached by a lazy import as every personality is),
prints each test's result as MicroPython's ``run-multitests.py`` does (``pass``/``FAIL``
with both outputs and their diff/``skip``), then ``N passed, N failed, N skipped``.

Exit codes: 0 every test passed or was skipped; 1 a test failed; 2 bad input (a file that
does not exist or has no ``instanceN`` function, a personality that is not installed).
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

import click

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


@click.command("multitest")
@click.argument("tests", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--lib", "libs", multiple=True, type=click.Path(file_okay=True, path_type=Path),
              help="Extra import folder for every instance (aioble ...); repeatable.")
@click.option("--pcap", type=click.Path(dir_okay=False, path_type=Path),
              help="Air capture (pcap, link type 256); one file per test when several run.")
@click.option("--btsnoop", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for one HCI btsnoop file per instance.")
@click.option("--logs", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for one log per instance (exactly what it printed).")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the simulated world.")
@click.option("-s", "--show-output", is_flag=True, help="Show every test's output, not only on failure.")
@click.option("-c", "--trace-output", is_flag=True, help="Trace the instances' lines as they print them.")
def multitest_command(
    tests: tuple[Path, ...], libs: tuple[Path, ...], pcap: Path | None, btsnoop: Path | None,
    logs: Path | None, seed: int, show_output: bool, trace_output: bool,
) -> None:
    """Run MicroPython multitest files TESTS (compared with TEST.py.exp when present)."""
    sys.exit(run_multitest_files(
        list(tests), libs=list(libs), pcap=pcap, btsnoop=btsnoop, logs=logs, seed=seed,
        show_output=show_output, trace_output=trace_output,
    ))


def run_multitest_files(
    tests: list[Path], *, libs: list[Path] | None = None, pcap: Path | None = None,
    btsnoop: Path | None = None, logs: Path | None = None, seed: int = 1,
    show_output: bool = False, trace_output: bool = False,
) -> int:
    """The body of ``blesim multitest``; returns the exit code."""
    from apis.micropython.multitest import (
        MultitestOptions,
        count_instances,
        run_multitests,
    )
    from emu.personality import PersonalityUnavailable, load_personality

    for test in tests:
        if not test.is_file():
            click.echo(f"error: {test}: no such file", err=True)
            return EXIT_BAD_INPUT
        if count_instances(test.read_text(encoding="utf-8")) == 0:
            click.echo(f"error: {test}: no 'def instanceN():' function: not a multitest", err=True)
            return EXIT_BAD_INPUT
    for lib in libs or []:
        if not lib.exists():
            click.echo(f"error: {lib}: --lib folder does not exist", err=True)
            return EXIT_BAD_INPUT
    try:
        load_personality("micropython")
    except PersonalityUnavailable as exc:
        click.echo(f"error: {exc}", err=True)
        return EXIT_BAD_INPUT
    options = MultitestOptions(
        lib=list(libs or []), pcap=pcap, btsnoop_dir=btsnoop, logs_dir=logs, seed=seed,
        trace=click.echo if trace_output else None,
    )
    try:
        results, _summary = run_multitests(tests, options, echo=click.echo, show_output=show_output)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    except Exception:  # noqa: BLE001 - a bug in blesim, reported as blesim run does
        click.echo("error: blesim failed inside the simulation (a bug in blesim, not in your test):", err=True)
        click.echo(traceback.format_exc(), err=True)
        return EXIT_FAILED
    return EXIT_FAILED if any(r.status == "fail" for r in results) else EXIT_OK
