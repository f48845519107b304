"""The ``blesim`` command line (click)."""

from __future__ import annotations

import sys

import click



def _version() -> str:
    try:
        from importlib.metadata import version

        return version("blesim")
    except Exception:
        return "0+unknown"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(_version(), prog_name="blesim")
def cli() -> None:
    """blesim — a Bluetooth Low Energy world in one Python process."""


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
        b._load_cases()
        click.echo(f"error: unknown bench case {exc.args[0]!r}; known: {', '.join(b.CASES)}", err=True)
        sys.exit(2)
    if list_only:
        for n in names:
            click.echo(n)
        return
    rows = []
    for name in names:
        click.echo(f"running {name} ...", err=True)
        rows.append(b.run_case(name))
    b.print_table(rows)
    if json_path:
        b.write_json(rows, json_path)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
