"""Parsing the units people write in scenario files and on the command line.

Theory of operation
-------------------
Scenario files say ``30s``, ``250ms``, ``1.5s``, ``100us``, ``2min``; the simulator works in
integer nanoseconds (``phy.units``). :func:`parse_duration` turns the former into the latter
exactly: the number is read as a :class:`decimal.Decimal` (so ``0.1s`` is exactly
100 000 000 ns, never a binary-float neighbour) and rounded half-to-even to a whole
nanosecond. A plain number (``30``, ``1.5``, YAML ints and floats) means seconds.
:func:`format_duration` is the inverse for messages and reports (``12s``, ``250ms``).

:func:`parse_power` reads a transmit power or level in dBm (``0``, ``-4.5``, ``"8dBm"``).

Every failure raises :class:`UnitError` (a :class:`ValueError`) whose message says what
was expected and what was given, ready to show to a user.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from phy.units import MS, NS, S, US

__all__ = [
    "UnitError",
    "DURATION_UNITS",
    "parse_duration",
    "format_duration",
    "parse_power",
]


class UnitError(ValueError):
    """A value is not a valid quantity of the expected kind (duration, power)."""


#: Accepted duration suffixes and their length in nanoseconds. No suffix = seconds.
#: ``m`` alone is refused on purpose (minutes or metres?): write ``min``.
DURATION_UNITS: dict[str, int] = {
    "ns": NS,
    "us": US,
    "µs": US,
    "μs": US,
    "ms": MS,
    "s": S,
    "sec": S,
    "min": 60 * S,
    "h": 3600 * S,
}

_DURATION_RE = re.compile(
    r"^\s*(?P<number>[+-]?(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(?P<unit>[a-zA-Zµμ]*)\s*$"
)
_POWER_RE = re.compile(
    r"^\s*(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*(?P<unit>dBm|dbm|DBM)?\s*$"
)

_EXPECTED_DURATION = "expected a duration such as 30s or 250ms"


def _describe(value: object) -> str:
    if isinstance(value, str):
        return repr(value)
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return f"a {type(value).__name__}"


def parse_duration(value: object, *, allow_negative: bool = False) -> int:
    """A duration in integer nanoseconds from ``"30s"``, ``"250ms"``, ``1.5``, ``"2min"``...

    Units: ns, us (µs), ms, s (sec), min, h; a number without unit is seconds. Ints and
    floats (as YAML gives them) are seconds too. Negative durations are refused unless
    ``allow_negative``. Raises :class:`UnitError` with a user-facing message.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise UnitError(f"{_EXPECTED_DURATION}, got {_describe(value)}")
    if isinstance(value, int):
        number = Decimal(value)
        unit_ns = S
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise UnitError(f"{_EXPECTED_DURATION}, got {_describe(value)}")
        number = Decimal(repr(value))
        unit_ns = S
    else:
        match = _DURATION_RE.match(value)
        if match is None:
            raise UnitError(f"{_EXPECTED_DURATION}, got {value!r}")
        unit = match.group("unit") or "s"
        if unit not in DURATION_UNITS:
            known = ", ".join(k for k in DURATION_UNITS if k not in ("µs", "μs"))
            raise UnitError(
                f"{_EXPECTED_DURATION}, got {value!r} (unknown unit {unit!r}; use one of {known})"
            )
        unit_ns = DURATION_UNITS[unit]
        try:
            number = Decimal(match.group("number").replace("_", ""))
        except InvalidOperation as exc:  # pragma: no cover - the regex admits only numbers
            raise UnitError(f"{_EXPECTED_DURATION}, got {value!r}") from exc
    total = (number * unit_ns).to_integral_value(rounding=ROUND_HALF_EVEN)
    result = int(total)
    if result < 0 and not allow_negative:
        raise UnitError(f"expected a time of zero or more, got {_describe(value)}")
    return result


def format_duration(t_ns: int) -> str:
    """The shortest exact rendering of ``t_ns`` in one unit: ``12s``, ``250ms``, ``1.5s``."""
    if t_ns == 0:
        return "0s"
    sign = "-" if t_ns < 0 else ""
    magnitude = abs(t_ns)
    for unit, size in (("s", S), ("ms", MS), ("us", US)):
        if magnitude % size == 0 or (magnitude >= size and (magnitude * 1000) % size == 0):
            text = format(Decimal(magnitude) / Decimal(size), "f")
            if "." in text:
                text = text.rstrip("0").rstrip(".")
            return f"{sign}{text}{unit}"
    return f"{sign}{magnitude}ns"


def parse_power(value: object) -> float:
    """A power level in dBm from a number or a string such as ``"-4dBm"``."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise UnitError(f"expected a power in dBm such as 0 or -4.5, got {_describe(value)}")
    if isinstance(value, (int, float)):
        result = float(value)
    else:
        match = _POWER_RE.match(value)
        if match is None:
            raise UnitError(f"expected a power in dBm such as 0 or -4.5, got {value!r}")
        result = float(match.group("number"))
    if not math.isfinite(result):
        raise UnitError(f"expected a power in dBm such as 0 or -4.5, got {_describe(value)}")
    return result
