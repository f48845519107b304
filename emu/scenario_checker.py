"""How scenario values are checked: located problems, marked YAML containers, the checker.

Theory of operation
-------------------
The YAML reader of :mod:`emu.scenario` builds :class:`MarkedMap` and :class:`MarkedList`,
which remember where each key, value and item starts. The section checks walk them with
a :class:`Checker`: every conversion (duration, position, path, choice, node
reference...) either returns a checked value or records a :class:`Problem` at the
value's :class:`Src` (file, line, column, or a ``nodes[2].position`` path for values
without a line) and raises :class:`Invalid`, so the caller abandons that one value and
goes on. :class:`CheckedMap` wraps one mapping: ``get(key, conv)`` converts a value or
gives None. When checking ends with problems, :class:`ScenarioError` carries them all,
in file order. :mod:`emu.scenario_schema` re-exports every name.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Collection, Iterator, Sequence, TypeVar

from yaml.error import Mark

from emu.units_parse import UnitError, format_duration, parse_duration, parse_power

__all__ = [
    "Problem",
    "ScenarioError",
    "MarkedMap",
    "MarkedList",
    "Src",
    "Invalid",
    "Checker",
    "CheckedMap",
    "describe",
    "suggest",
]

T = TypeVar("T")


# ---------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem:
    """One fault of a scenario: where (1-based line and column; 0 = unknown) and what."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        if self.line > 0:
            return f"error: {self.file}:{self.line}:{self.column}: {self.message}"
        return f"error: {self.file}: {self.message}"


class ScenarioError(ValueError):
    """A scenario was refused; :attr:`problems` lists every fault, in file order."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        files: dict[str, int] = {}
        for p in problems:
            files.setdefault(p.file, len(files))
        self.problems: list[Problem] = sorted(
            problems, key=lambda p: (files[p.file], p.line, p.column)
        )
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


# ---------------------------------------------------------------------------- YAML with marks


class MarkedMap(dict[Any, Any]):
    """A YAML mapping that remembers where each key and value starts."""

    def __init__(self) -> None:
        super().__init__()
        self.mark: Mark | None = None
        self.key_marks: dict[Any, Mark] = {}
        self.value_marks: dict[Any, Mark] = {}


class MarkedList(list[Any]):
    """A YAML sequence that remembers where each item starts."""

    def __init__(self) -> None:
        super().__init__()
        self.mark: Mark | None = None
        self.item_marks: list[Mark] = []


# ---------------------------------------------------------------------------- the checker


@dataclass(frozen=True)
class Src:
    """Where a value came from. ``path`` (``nodes[2].position``) names values that have
    no line (command-line overrides, plain mappings)."""

    file: str
    line: int
    column: int
    base_dir: Path
    path: str

    def child(self, mark: Mark | None, path: str) -> Src:
        if mark is None:
            return Src(self.file, 0, 0, self.base_dir, path)
        return Src(self.file, mark.line + 1, mark.column + 1, self.base_dir, path)

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.line else f"{self.file}: {self.path}"


class Invalid(Exception):
    """A problem was recorded; abandon this value."""


def describe(value: object) -> str:
    """A value as a user wrote it, for "got ..." in messages."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def suggest(word: str, options: Collection[str]) -> str:
    if not options:
        return " (nothing is allowed here)"
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (expected one of: {', '.join(sorted(options))})"


class Checker:
    """Records problems; converts and checks values (each conversion raises Invalid)."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.node_names: dict[str, int] = {}
        self.interferer_names: set[str] = set()

    def error(self, src: Src, message: str) -> Invalid:
        if src.line > 0:
            self.problems.append(Problem(src.file, src.line, src.column, message))
        else:
            prefix = f"{src.path}: " if src.path else ""
            self.problems.append(Problem(src.file, 0, 0, prefix + message))
        return Invalid()

    # -- containers ------------------------------------------------------------------
    def mapping(
        self,
        value: object,
        src: Src,
        what: str,
        allowed: Collection[str],
        required: Collection[str] = (),
        *,
        extension_prefix: str | None = None,
    ) -> CheckedMap:
        if not isinstance(value, dict):
            raise self.error(src, f"expected a mapping for {what}, got {describe(value)}")
        result = CheckedMap(self, value, src, what)
        for key in value:
            if not isinstance(key, str):
                self.error(result.key_src(key), f"expected a text key in {what}, got {describe(key)}")
            elif key not in allowed and not (extension_prefix and key.startswith(extension_prefix)):
                self.error(result.key_src(key), f"unknown key {key!r} in {what}" + suggest(key, allowed))
        for key in required:
            if key not in value:
                self.error(src, f"missing key {key!r} in {what}")
        return result

    def items(self, value: object, src: Src, what: str) -> Iterator[tuple[int, object, Src]]:
        if not isinstance(value, list):
            raise self.error(src, f"expected a list of {what}, got {describe(value)}")
        marks = value.item_marks if isinstance(value, MarkedList) else []
        for i, item in enumerate(value):
            yield i, item, src.child(marks[i] if i < len(marks) else None, f"{src.path}[{i}]")

    # -- scalars ---------------------------------------------------------------------
    def text(self, value: object, src: Src, what: str = "a text") -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.error(src, f"expected {what}, got {describe(value)}")
        return value

    def boolean(self, value: object, src: Src) -> bool:
        if not isinstance(value, bool):
            hint = ""
            if isinstance(value, str) and value.lower() in ("yes", "no", "on", "off", "y", "n"):
                hint = " (only true and false are booleans here)"
            raise self.error(src, f"expected true or false, got {describe(value)}{hint}")
        return value

    def integer(self, value: object, src: Src, lo: int | None = None, hi: int | None = None,
                what: str = "an integer") -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(src, f"expected {what}, got {describe(value)}")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise self.error(src, f"expected {what} {_range_text(lo, hi)}, got {value}")
        return value

    def number(self, value: object, src: Src, lo: float | None = None, hi: float | None = None,
               what: str = "a number") -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.error(src, f"expected {what}, got {describe(value)}")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise self.error(src, f"expected {what} {_range_text(lo, hi)}, got {value}")
        return float(value)

    def power(self, value: object, src: Src) -> float:
        try:
            dbm = parse_power(value)
        except UnitError as exc:
            raise self.error(src, str(exc)) from None
        if not -127 <= dbm <= 20:
            raise self.error(src, f"expected a TX power between -127 and 20 dBm, got {describe(value)}")
        return dbm

    def duration(self, value: object, src: Src, positive: bool = False) -> int:
        try:
            t_ns = parse_duration(value)
        except UnitError as exc:
            raise self.error(src, str(exc)) from None
        if positive and t_ns <= 0:
            raise self.error(src, f"expected a duration of more than zero, got {describe(value)}")
        return t_ns

    def choice(self, value: object, src: Src, options: Collection[str], what: str) -> str:
        if not isinstance(value, str) or value not in options:
            hint = suggest(value, options) if isinstance(value, str) else (
                f" (expected one of: {', '.join(options)})")
            raise self.error(src, f"unknown {what} {describe(value)}{hint}")
        return value

    def position(self, value: object, src: Src) -> tuple[float, float, float]:
        if (not isinstance(value, list) or len(value) not in (2, 3) or any(
                isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)
                for v in value)):
            raise self.error(src, f"expected a position [x, y] or [x, y, z] in metres, got {describe(value)}")
        z = float(value[2]) if len(value) == 3 else 0.0
        return (float(value[0]), float(value[1]), z)

    def window(self, value: object, src: Src) -> tuple[int, int]:
        if not isinstance(value, list) or len(value) != 2:
            raise self.error(src, f"expected a time window [t0, t1] such as [0s, 5s], got {describe(value)}")
        start = self.duration(value[0], src)
        end = self.duration(value[1], src)
        if start > end:
            raise self.error(src, f"time window starts after it ends: "
                                  f"{format_duration(start)} > {format_duration(end)}")
        return (start, end)

    def path(self, value: object, src: Src, what: str, must_be: str | None) -> Path:
        """A path resolved against the source's folder; ``must_be`` 'file', 'dir',
        'any' (must exist) or None (an output, need not exist)."""
        text = self.text(value, src, f"a path for {what}")
        resolved = (src.base_dir / text).resolve()
        if must_be is not None and not resolved.exists():
            raise self.error(src, f"{what} not found: {text}")
        if must_be == "file" and not resolved.is_file():
            raise self.error(src, f"{what} is not a file: {text}")
        if must_be == "dir" and not resolved.is_dir():
            raise self.error(src, f"{what} is not a folder: {text}")
        return resolved

    def node_ref(self, value: object, src: Src) -> str:
        name = self.text(value, src, "a node name")
        if name not in self.node_names:
            hint = suggest(name, self.node_names) if self.node_names else " (no nodes are defined)"
            raise self.error(src, f"unknown node {name!r}{hint}")
        return name


def _num(x: float) -> str:
    return str(x) if isinstance(x, int) else f"{x:g}"


def _range_text(lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f"from {_num(lo)} to {_num(hi)}"
    if lo is not None:
        return f"of {_num(lo)} or more"
    return f"of {_num(hi or 0)} or less"


class CheckedMap:
    """A checked mapping with the marks of its keys and values."""

    def __init__(self, ck: Checker, data: dict[Any, Any], src: Src, what: str) -> None:
        self.ck = ck
        self.data = data
        self.src = src
        self.what = what
        self.overridden: dict[str, Src] = {}

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def value_src(self, key: str) -> Src:
        if key in self.overridden:
            return self.overridden[key]
        marks = self.data.value_marks if isinstance(self.data, MarkedMap) else {}
        return self.src.child(marks.get(key), f"{self.src.path}.{key}".lstrip("."))

    def key_src(self, key: object) -> Src:
        if isinstance(key, str) and key in self.overridden:
            return self.overridden[key]
        marks = self.data.key_marks if isinstance(self.data, MarkedMap) else {}
        return self.src.child(marks.get(key), f"{self.src.path}.{key}".lstrip("."))

    def get(self, key: str, conv: Callable[[object, Src], T]) -> T | None:
        """The converted value, or None if absent or bad (a bad one is recorded)."""
        if key not in self.data:
            return None
        try:
            return conv(self.data[key], self.value_src(key))
        except Invalid:
            return None
