"""``blesim bench``: named benchmark cases, each run in its own process.

A case is a function that builds and runs a world and returns a :class:`CaseResult`
(simulated seconds, packets simulated, and its own named figures). The runner forks a
child per case so that the peak resident memory reported belongs to that case alone,
times it on the wall clock (benchmarks are the one place the wall clock is read), and
prints a table or writes JSON: a list of objects with ``case``, ``sim_s``, ``wall_s``,
``speed_x``, ``packets_per_wall_s``, ``peak_rss_mb`` and the case's own figures.
"""

from __future__ import annotations

import json
import multiprocessing
import resource
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

CaseFn = Callable[[], "CaseResult"]


class CaseUnavailable(RuntimeError):
    """A case cannot run here (a package it compares against is not installed)."""


@dataclass
class CaseResult:
    sim_ns: int
    packets: int
    figures: dict[str, Any] = field(default_factory=dict)
    #: Wall time of the part ``sim_ns`` counts, when the case times it itself (setup such
    #: as connecting excluded); speed is then computed from it and the whole case's wall
    #: time is reported as ``total_wall_s``.
    measured_wall_s: float | None = None


CASES: dict[str, CaseFn] = {}
#: Cases run when ``blesim bench`` is given no names.
DEFAULT_CASES: list[str] = []


def case(name: str, default: bool = True) -> Callable[[CaseFn], CaseFn]:
    def register(fn: CaseFn) -> CaseFn:
        CASES[name] = fn
        if default:
            DEFAULT_CASES.append(name)
        return fn

    return register


#: Modules whose import registers bench cases.
BENCH_MODULES = ["emu.bench_cases", "emu.bench_gatt"]


def _load_cases() -> None:
    # Case modules register themselves on import.
    import importlib

    for module in BENCH_MODULES:
        importlib.import_module(module)


def _child(name: str, conn: Any) -> None:
    try:
        fn = CASES[name]
        t0 = time.perf_counter()
        result = fn()
        wall = time.perf_counter() - t0
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        figures = dict(result.figures)
        if result.measured_wall_s is not None:
            figures["total_wall_s"] = round(wall, 3)
            wall = result.measured_wall_s
        conn.send(("ok", result.sim_ns, result.packets, figures, wall, peak_kb))
    except CaseUnavailable as exc:
        conn.send(("unavailable", str(exc)))
    except BaseException:  # report any failure of the case to the parent
        conn.send(("error", traceback.format_exc()))
    finally:
        conn.close()


def run_case(name: str) -> dict[str, Any]:
    """Run one case in a forked child and return its row."""
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(name, child))
    proc.start()
    child.close()
    msg = parent.recv()
    proc.join()
    if msg[0] == "unavailable":
        raise CaseUnavailable(f"{name}: {msg[1]}")
    if msg[0] != "ok":
        raise RuntimeError(f"bench case {name} failed:\n{msg[1]}")
    _, sim_ns, packets, figures, wall, peak_kb = msg
    sim_s = sim_ns / 1e9
    row: dict[str, Any] = {
        "case": name,
        "sim_s": round(sim_s, 6),
        "wall_s": round(wall, 3),
        "speed_x": round(sim_s / wall, 2) if wall > 0 else None,
        "packets": packets,
        "packets_per_wall_s": round(packets / wall, 1) if wall > 0 else None,
        "peak_rss_mb": round(peak_kb / 1024, 1),
    }
    row.update(figures)
    return row


def expand(names: list[str]) -> list[str]:
    _load_cases()
    if not names:
        return list(DEFAULT_CASES)
    out: list[str] = []
    for n in names:
        if n in CASES:
            out.append(n)
            continue
        matches = [c for c in CASES if c.startswith(n)]
        if not matches:
            raise KeyError(n)
        out += matches
    return out


def print_table(rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="blesim bench")
    base = ["case", "sim_s", "wall_s", "speed_x", "packets_per_wall_s", "peak_rss_mb"]
    for col in base + ["figures"]:
        table.add_column(col, justify="left" if col in ("case", "figures") else "right")
    for row in rows:
        extra = ", ".join(f"{k}={v}" for k, v in row.items() if k not in base and k != "packets")
        table.add_row(*(str(row.get(c, "")) for c in base), extra)
    Console(file=sys.stdout, width=160).print(table)


def write_json(rows: list[dict[str, Any]], path: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(rows, fh, indent=2)
        fh.write("\n")
