"""Scenario files: load YAML keeping line/column marks, validate every key, build specs.

Theory of operation
-------------------
1. **Parse** (:func:`parse_yaml`, :mod:`emu.scenario_yaml`). A PyYAML ``SafeLoader`` subclass builds dicts and lists
   that remember the ``start_mark`` of every key and value (:class:`~emu.scenario_schema.MarkedMap`,
   :class:`~emu.scenario_schema.MarkedList`). Its scalar rules are YAML 1.2-like on purpose: only
   ``true``/``false`` are booleans (``on:`` in a ``power`` event stays the key ``"on"``),
   there are no base-60 numbers (an unquoted ``12:34:56:78:9A:BC`` stays text) and no
   dates. Duplicate keys are reported instead of silently keeping the last one.
2. **Validate** (:func:`validate_mapping`). A checker walks the tree section by section
   and records a :class:`Problem` (file, line, column, message) for every fault — unknown
   keys (with a "did you mean"), wrong types, bad units, missing files, duplicate names,
   bad addresses, negative times, references to undefined nodes — and keeps going, so
   one run reports them all. Only if nothing was wrong does it return a
   :class:`~emu.scenario_schema.Scenario`; otherwise it raises :class:`ScenarioError`.
3. **Overrides** (``--seed``, ``--duration``...) replace top-level keys before
   validation; their problems are reported against ``<command line>``. Text values are
   read like YAML scalars (``"7"`` is the integer 7, ``"5s"`` stays text).

Relative paths resolve against the YAML file's folder (command-line overrides: the
current folder). Times come out as integer nanoseconds (:mod:`emu.units_parse`).
This module holds the top-level check and the public API. Split for size: the YAML
reader is :mod:`emu.scenario_yaml`; the checks of the ``medium``, ``nodes`` and
``capture`` sections are :mod:`emu.scenario_validate_nodes`, those of ``expect`` and
``timeline`` :mod:`emu.scenario_validate_expect`; the dataclasses, defaults,
vocabularies and the value-checking primitives (:class:`~emu.scenario_schema.Checker`)
are in :mod:`emu.scenario_schema` (which re-exports its own split modules).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Mapping, Sequence, TypeVar

from emu import scenario_schema as S
from emu.scenario_schema import (
    CheckedMap,
    Checker,
    Invalid,
    MarkedList,
    MarkedMap,
    Problem,
    ScenarioError,
    Src,
    describe,
)
from emu.scenario_validate_expect import check_event, check_expectation
from emu.scenario_validate_nodes import check_capture, check_medium, check_node, check_node_names
from emu.scenario_yaml import parse_yaml, yaml_scalar

__all__ = [
    "Problem",
    "ScenarioError",
    "Scenario",
    "parse_yaml",
    "load_scenario",
    "loads_scenario",
    "validate_mapping",
]

Scenario = S.Scenario

T = TypeVar("T")


# ---------------------------------------------------------------------------- sections

_TOP_KEYS = ("name", "description", "seed", "duration", "stop_when", "medium", "nodes",
             "capture", "expect", "timeline")


def _each(ck: Checker, m: CheckedMap, key: str, what: str,
          build: Callable[[Checker, object, Src, int], T | None]) -> list[T]:
    out: list[T] = []
    if key not in m:
        return out
    try:
        for i, item, isrc in ck.items(m.data[key], m.value_src(key), what):
            try:
                built = build(ck, item, isrc, i)
            except Invalid:
                continue
            if built is not None:
                out.append(built)
    except Invalid:
        pass
    return out


def _scenario(ck: Checker, m: CheckedMap, default_name: str, source: Path | None) -> S.Scenario | None:
    name = m.get("name", lambda v, s: ck.text(v, s, "a scenario name"))
    description = m.get("description", lambda v, s: v if isinstance(v, str) else ck.text(v, s))
    seed = m.get("seed", lambda v, s: ck.integer(v, s, 0, None, "an integer seed"))
    duration = m.get("duration", lambda v, s: ck.duration(v, s, positive=True))
    stop_when = m.get("stop_when", lambda v, s: ck.choice(v, s, ("duration", "expectations"), "stop_when"))
    medium = S.MediumSpec()
    if "medium" in m:
        medium = m.get("medium", lambda v, s: check_medium(ck, v, s)) or medium
    if "nodes" in m:
        check_node_names(ck, m.data["nodes"], m.value_src("nodes"))
        if isinstance(m.data["nodes"], list) and not m.data["nodes"]:
            ck.error(m.value_src("nodes"), "a scenario needs at least one node")
    else:
        ck.error(m.src, "missing key 'nodes' at the top level (a scenario needs at least one node)")
    addresses: dict[bytes, tuple[str, int]] = {}
    nodes = _each(ck, m, "nodes", "nodes", lambda c, v, s, i: check_node(c, v, s, i, addresses))
    capture = S.CaptureSpec()
    if "capture" in m:
        capture = m.get("capture", lambda v, s: check_capture(ck, v, s)) or capture
    expect: list[S.ExpectSpec] = _each(ck, m, "expect", "expectations", check_expectation)
    if stop_when == "expectations" and "expect" in m and not m.data["expect"]:
        ck.error(m.value_src("stop_when"), "stop_when: expectations needs at least one expectation")
    elif stop_when == "expectations" and "expect" not in m:
        ck.error(m.value_src("stop_when"), "stop_when: expectations needs at least one expectation")
    timeline: list[S.TimelineEvent] = _each(ck, m, "timeline", "timeline events", check_event)
    if ck.problems:
        return None
    return S.Scenario(
        name=name or default_name,
        nodes=tuple(nodes),
        seed=S.DEFAULT_SEED if seed is None else seed,
        duration_ns=S.DEFAULT_DURATION_NS if duration is None else duration,
        medium=medium,
        capture=capture,
        expect=tuple(expect),
        timeline=tuple(sorted(timeline, key=lambda e: e.at_ns)),
        stop_when=stop_when or S.DEFAULT_STOP_WHEN,  # type: ignore[arg-type]
        description=description or "",
        source=source,
        base_dir=m.src.base_dir,
    )


# ---------------------------------------------------------------------------- public API


def validate_mapping(
    data: object,
    *,
    file: str = "<mapping>",
    base_dir: Path | str | None = None,
    overrides: Mapping[str, object] | None = None,
    source: Path | None = None,
    problems: Sequence[Problem] = (),
) -> S.Scenario:
    """Validate a scenario given as a mapping (from :func:`parse_yaml` or built in code).

    ``overrides`` (command-line ``--seed 7``, ``--duration 5s``: top-level keys without
    dashes) replace top-level keys; text values are read as YAML scalars and relative
    paths in them resolve against the current folder. ``problems`` already found (YAML
    duplicate keys) are reported together with the new ones. Raises
    :class:`ScenarioError` listing every problem.
    """
    base = Path(base_dir).resolve() if base_dir is not None else Path.cwd()
    ck = Checker()
    ck.problems.extend(problems)
    top = Src(file, 0, 0, base, "")
    if isinstance(data, (MarkedMap, MarkedList)) and data.mark is not None:
        top = top.child(data.mark, "")
    if data is None:
        ck.error(top, "the scenario is empty: expected a mapping with at least 'nodes'")
        raise ScenarioError(ck.problems)
    if not isinstance(data, dict):
        ck.error(top, f"expected a mapping at the top level, got {describe(data)}")
        raise ScenarioError(ck.problems)
    merged = data
    cli = Src("<command line>", 0, 0, Path.cwd(), "")
    if overrides:
        merged = MarkedMap()
        merged.update(data)
        if isinstance(data, MarkedMap):
            merged.mark = data.mark
            merged.key_marks = dict(data.key_marks)
            merged.value_marks = dict(data.value_marks)
        for key, value in overrides.items():
            merged[key] = yaml_scalar(value) if isinstance(value, str) else value
            merged.key_marks.pop(key, None)
            merged.value_marks.pop(key, None)
    try:
        m = ck.mapping(merged, top, "the top level", _TOP_KEYS, extension_prefix="x-")
    except Invalid:  # pragma: no cover - merged is a dict
        raise ScenarioError(ck.problems) from None
    for key in overrides or {}:
        m.overridden[key] = Src(cli.file, 0, 0, cli.base_dir, f"--{key.replace('_', '-')}")
    default_name = source.stem if source is not None else "scenario"
    scenario = _scenario(ck, m, default_name, source)
    if scenario is None:
        raise ScenarioError(ck.problems)
    return scenario


def loads_scenario(
    text: str,
    *,
    file: str = "<string>",
    base_dir: Path | str | None = None,
    overrides: Mapping[str, object] | None = None,
) -> S.Scenario:
    """Parse and validate scenario YAML text (paths relative to ``base_dir``, default cwd)."""
    data, problems = parse_yaml(text, file)
    if data is None and problems:
        raise ScenarioError(problems)
    return validate_mapping(data, file=file, base_dir=base_dir, overrides=overrides,
                            problems=problems)


def load_scenario(path: Path | str, overrides: Mapping[str, object] | None = None) -> S.Scenario:
    """Load, validate and return the scenario in ``path``; raise :class:`ScenarioError`
    (``str()`` is one ``error: FILE:LINE:COL: message`` line per problem)."""
    file = str(path)
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ScenarioError([Problem(file, 0, 0, "scenario file not found")]) from None
    except IsADirectoryError:
        raise ScenarioError([Problem(file, 0, 0, "is a folder, expected a scenario file")]) from None
    except OSError as exc:
        raise ScenarioError([Problem(file, 0, 0, f"cannot read the scenario file: {exc.strerror}")]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError([Problem(file, 0, 0, f"not UTF-8 text (byte {exc.start})")]) from None
    data, problems = parse_yaml(text, file)
    if data is None and problems:
        raise ScenarioError(problems)
    return validate_mapping(data, file=file, base_dir=p.resolve().parent, overrides=overrides,
                            source=p.resolve(), problems=problems)
