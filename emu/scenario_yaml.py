"""Scenario YAML reader: one document into containers that remember line/column marks.

Theory of operation
-------------------
A PyYAML ``SafeLoader`` subclass builds dicts and lists that remember the
``start_mark`` of every key and value (:class:`~emu.scenario_checker.MarkedMap`,
:class:`~emu.scenario_checker.MarkedList`), so every problem found later can name its
line and column. Its scalar rules are YAML 1.2-like on purpose: only ``true``/``false``
are booleans (``on:`` in a ``power`` event stays the key ``"on"``), there are no base-60
numbers (an unquoted ``12:34:56:78:9A:BC`` stays text) and no dates. Duplicate keys are
reported as problems instead of silently keeping the last one, and syntax errors become
located :class:`~emu.scenario_checker.Problem` s rather than exceptions.
:func:`yaml_scalar` reads one command-line value the same way (``"7"`` is the integer 7).
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml
from yaml.error import Mark, MarkedYAMLError
from yaml.nodes import MappingNode, ScalarNode, SequenceNode
from yaml.parser import ParserError
from yaml.reader import ReaderError
from yaml.scanner import ScannerError

from emu.scenario_checker import MarkedList, MarkedMap, Problem

__all__ = ["parse_yaml", "yaml_scalar"]


_INT_RE = re.compile(r"^[-+]?(?:0b[01_]+|0o[0-7_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*)$")
_FLOAT_RE = re.compile(
    r"^(?:[-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)


class _Loader(yaml.SafeLoader):
    """SafeLoader with marked containers, YAML-1.2-like scalars, duplicate-key notes."""

    yaml_implicit_resolvers: dict[Any, Any] = {}

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        #: (key, first mark, duplicate mark)
        self.duplicates: list[tuple[object, Mark, Mark]] = []


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver("tag:yaml.org,2002:int", _INT_RE, list("-+0123456789"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_RE, list("-+0123456789."))
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)
_Loader.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])


def _construct_int(loader: _Loader, node: ScalarNode) -> int:
    text = str(loader.construct_scalar(node)).replace("_", "")
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    for prefix, base in (("0b", 2), ("0o", 8), ("0x", 16)):
        if digits.startswith(prefix):
            return sign * int(digits[2:], base)
    return sign * int(digits, 10)


def _construct_float(loader: _Loader, node: ScalarNode) -> float:
    text = str(loader.construct_scalar(node)).replace("_", "").lower()
    if text.endswith(".inf"):
        return -math.inf if text.startswith("-") else math.inf
    if text == ".nan":
        return math.nan
    return float(text)


def _construct_map(loader: _Loader, node: MappingNode) -> MarkedMap:
    seen: dict[object, Mark] = {}
    for key_node, _ in node.value:
        if isinstance(key_node, ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
            key = loader.construct_object(key_node)
            if key in seen:
                loader.duplicates.append((key, seen[key], key_node.start_mark))
            else:
                seen[key] = key_node.start_mark
    loader.flatten_mapping(node)
    result = MarkedMap()
    result.mark = node.start_mark
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, (list, dict)):
            raise yaml.constructor.ConstructorError(
                "while reading a mapping", node.start_mark,
                "a key cannot be a list or a mapping", key_node.start_mark,
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_marks[key] = key_node.start_mark
        result.value_marks[key] = value_node.start_mark
    return result


def _construct_seq(loader: _Loader, node: SequenceNode) -> MarkedList:
    result = MarkedList()
    result.mark = node.start_mark
    for child in node.value:
        result.append(loader.construct_object(child, deep=True))
        result.item_marks.append(child.start_mark)
    return result


_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def parse_yaml(text: str, file: str) -> tuple[object, list[Problem]]:
    """Parse one YAML document into marked containers; syntax errors become problems."""
    loader: _Loader | None = None
    try:
        loader = _Loader(text)
        data: object = loader.get_single_data()
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "not valid YAML"
        if exc.context and exc.problem:
            started = exc.context_mark
            where = f" started at line {started.line + 1}" if (
                started is not None and mark is not None and started.line != mark.line) else ""
            what = f"{exc.problem} ({exc.context}{where})"
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
        kind = "YAML syntax error" if isinstance(exc, (ScannerError, ParserError)) else "bad YAML"
        return None, [Problem(file, line, col, f"{kind}: {what}")]
    except ReaderError as exc:
        pos = exc.position
        line, col = text.count("\n", 0, pos) + 1, pos - text.rfind("\n", 0, pos)
        char = chr(exc.character) if isinstance(exc.character, int) else exc.character
        return None, [Problem(file, line, col, f"bad YAML: character {char!r} is not allowed")]
    except yaml.YAMLError as exc:  # pragma: no cover - every PyYAML error is one of the above
        return None, [Problem(file, 0, 0, f"bad YAML: {exc}")]
    finally:
        if loader is not None:
            loader.dispose()
    problems = [
        Problem(file, dup.line + 1, dup.column + 1,
                f"duplicate key {key!r} (first at line {first.line + 1})")
        for key, first, dup in loader.duplicates
    ]
    return data, problems


def yaml_scalar(text: str) -> object:
    """A command-line value read like a YAML scalar (``"7"`` -> 7); else the text."""
    value, problems = parse_yaml(text, "<command line>")
    if problems or isinstance(value, (dict, list)):
        return text
    return value
