"""Checking a run against the scenario's ``expect`` list.

Theory of operation
-------------------
Every expectation (:data:`emu.scenario_events.ExpectSpec`) is judged by one small
*judge* that is fed what the run produced, in time order: firmware output lines,
firmware failures, connection spans and air packets. :class:`ExpectationTracker` holds
one judge per expectation and is fed live by the runner (for ``stop_when:
expectations``); :func:`evaluate` feeds a fresh tracker a finished
:class:`~emu.records.RunRecord`, so the two can never disagree. Each judge gives an
:class:`ExpectResult` (met or not, and a sentence saying why).

Semantics (all windows inclusive; a missing window is the whole run, ``[0, end]``):

* ``output``: lines of ``node`` in the window that ``re.search`` matches; met when
  their number is exactly ``count`` or, with no ``count``, at least ``min_count``.
* ``no_errors``: no :class:`~emu.records.FirmwareFailure` on ``node`` (on any node when
  ``node`` is omitted).
* ``connected [a, b]``: with ``value: true`` a connection between a and b (either role)
  started at or before ``by`` (the end of the run when omitted); with ``value: false``
  none did. It asks "were they ever connected by then", not "still at that instant".
* ``air``: packets that count as ``pdu`` (:meth:`emu.air_names.AirName.counts_as`:
  good CRC, retransmissions excluded, ``LL_DATA`` = any packet carrying L2CAP) starting
  in the window; met when at least ``min`` and at most ``max``.

When :meth:`ExpectationTracker.all_met` is True (the rule for ``stop_when:
expectations``). Each expectation has a *positive* part, satisfied once enough has
happened (``min_count`` / ``count`` lines seen, ``min`` packets seen, the connection
seen), and may have a *safety* part, which later events can still break
(``no_errors``, an exact ``count``, ``max``, ``value: false``). ``all_met(now)`` is
True when, for every expectation, the positive part is already satisfied and the
safety part is not yet broken, and moreover every safety part whose horizon is an
explicit time (``within: [t0, t1]`` -> t1, ``by: T`` -> T) has been passed
(``now > t1``, so events at t1 itself were seen). Safety parts whose horizon is the end
of the run (``no_errors``, ``max`` / ``count`` without ``within``, ``value: false``
without ``by``) do not hold the run up: stopping now makes now the end of the run, and
:func:`evaluate` then judges them on the record as it stands. An expectation already
broken keeps ``all_met`` False for good.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence, Union

from emu.air_names import AirClassifier
from emu.records import AirPacket, ConnectionSpan, FirmwareFailure, OutputLine, RunRecord
from emu.scenario_events import (
    ExpectAir,
    ExpectConnected,
    ExpectNoErrors,
    ExpectOutput,
    ExpectSpec,
)

__all__ = [
    "ExpectResult",
    "ExpectationTracker",
    "evaluate",
    "describe_expectation",
    "format_instant",
    "format_limit",
    "run_end_ns",
    "feed_record",
]

_NS_PER_S = 1_000_000_000


def format_instant(t_ns: int) -> str:
    """An instant with microseconds, as the console prints it: ``"12.345678 s"``."""
    sign = "-" if t_ns < 0 else ""
    seconds, rest = divmod(abs(t_ns), _NS_PER_S)
    return f"{sign}{seconds}.{rest // 1000:06d} s"


def format_limit(t_ns: int) -> str:
    """A limit as a user writes it: ``"30 s"``, ``"1.5 s"``, ``"0.000125 s"``."""
    sign = "-" if t_ns < 0 else ""
    seconds, rest = divmod(abs(t_ns), _NS_PER_S)
    if rest == 0:
        return f"{sign}{seconds} s"
    frac = f"{rest:09d}".rstrip("0")
    return f"{sign}{seconds}.{frac} s"


def run_end_ns(record: RunRecord) -> int:
    """Where the run ended (``end_ns``, or its planned duration if that is unset)."""
    return record.end_ns if record.end_ns > 0 else record.duration_ns


def _times(n: int) -> str:
    return "1 time" if n == 1 else f"{n} times"


def _window(within_ns: tuple[int, int] | None, end_ns: int) -> str:
    t0, t1 = within_ns if within_ns is not None else (0, end_ns)
    return f"[{format_limit(t0)}, {format_limit(t1)}]"


def describe_expectation(spec: ExpectSpec) -> str:
    """A one-line description of an expectation, for tables and reports."""
    if isinstance(spec, ExpectOutput):
        text = f"{spec.node} prints '{spec.pattern}'"
        if spec.count is not None:
            text += f" exactly {_times(spec.count)}"
        elif spec.min_count != 1:
            text += f" at least {_times(spec.min_count)}"
        if spec.within_ns is not None:
            text += f" within {_window(spec.within_ns, 0)}"
        return text
    if isinstance(spec, ExpectNoErrors):
        return f"no firmware errors on {spec.node}" if spec.node else "no firmware errors"
    if isinstance(spec, ExpectConnected):
        a, b = spec.nodes
        verb = "connected" if spec.value else "never connected"
        when = f" by {format_limit(spec.by_ns)}" if spec.by_ns is not None else ""
        return f"{a} and {b} {verb}{when}"
    bounds = []
    if spec.min is not None:
        bounds.append(f"at least {spec.min}")
    if spec.max is not None:
        bounds.append(f"at most {spec.max}")
    text = f"{' and '.join(bounds) or 'any number of'} {spec.pdu} on the air"
    if spec.within_ns is not None:
        text += f" within {_window(spec.within_ns, 0)}"
    return text


@dataclass(frozen=True)
class ExpectResult:
    """The verdict on one expectation and why (``detail`` is one sentence)."""

    spec: ExpectSpec
    met: bool
    detail: str


def _in(t_ns: int, window: tuple[int, int] | None) -> bool:
    return window is None or window[0] <= t_ns <= window[1]


def _horizon_passed(horizon_ns: int | None, now_ns: int) -> bool:
    return horizon_ns is None or now_ns > horizon_ns


# ------------------------------------------------------------------------------ judges


class _OutputJudge:
    def __init__(self, spec: ExpectOutput) -> None:
        self.spec = spec
        self.regex = re.compile(spec.pattern)
        self.matches = 0
        self.first_ns: int | None = None

    def on_output(self, node: str, line: OutputLine) -> None:
        if node == self.spec.node and _in(line.t_ns, self.spec.within_ns):
            if self.regex.search(line.text):
                self.matches += 1
                if self.first_ns is None:
                    self.first_ns = line.t_ns

    def settled(self, now_ns: int) -> bool:
        spec = self.spec
        if spec.count is None:
            return self.matches >= spec.min_count
        if self.matches != spec.count:
            return False
        return spec.within_ns is None or _horizon_passed(spec.within_ns[1], now_ns)

    def result(self, end_ns: int) -> ExpectResult:
        spec = self.spec
        n = self.matches
        where = f"within {_window(spec.within_ns, end_ns)}"
        if spec.count is not None:
            met = n == spec.count
            wanted = f"exactly {spec.count}"
        else:
            met = n >= spec.min_count
            wanted = f"at least {spec.min_count}"
        if n == 0:
            detail = f"no line of {spec.node} matched '{spec.pattern}' {where}"
            if met:
                detail += ", as wanted"
        elif met:
            assert self.first_ns is not None
            detail = f"matched {_times(n)}, first at {format_instant(self.first_ns)}"
        else:
            detail = (
                f"lines of {spec.node} matched '{spec.pattern}' {_times(n)} {where}, "
                f"wanted {wanted}"
            )
        return ExpectResult(spec, met, detail)


class _NoErrorsJudge:
    def __init__(self, spec: ExpectNoErrors) -> None:
        self.spec = spec
        self.failures: list[tuple[str, FirmwareFailure]] = []

    def on_failure(self, node: str, failure: FirmwareFailure) -> None:
        if self.spec.node is None or node == self.spec.node:
            self.failures.append((node, failure))

    def settled(self, now_ns: int) -> bool:
        return not self.failures

    def result(self, end_ns: int) -> ExpectResult:
        who = self.spec.node
        if not self.failures:
            text = f"{who} raised no firmware errors" if who else "no firmware errors on any node"
            return ExpectResult(self.spec, True, text)
        node, first = min(self.failures, key=lambda item: item[1].t_ns)
        count = len(self.failures)
        head = "1 firmware failure" if count == 1 else f"{count} firmware failures"
        message = first.message.strip().splitlines()[0] if first.message.strip() else "?"
        detail = f"{head}, first on {node} at {format_instant(first.t_ns)}: {message}"
        return ExpectResult(self.spec, False, detail)


class _ConnectedJudge:
    def __init__(self, spec: ExpectConnected) -> None:
        self.spec = spec
        self.pair = frozenset(spec.nodes)
        self.first_ns: int | None = None

    def on_connection(self, span: ConnectionSpan) -> None:
        if frozenset((span.central, span.peripheral)) != self.pair:
            return
        if self.spec.by_ns is not None and span.start_ns > self.spec.by_ns:
            return
        if self.first_ns is None or span.start_ns < self.first_ns:
            self.first_ns = span.start_ns

    def settled(self, now_ns: int) -> bool:
        if self.spec.value:
            return self.first_ns is not None
        return self.first_ns is None and _horizon_passed(self.spec.by_ns, now_ns)

    def result(self, end_ns: int) -> ExpectResult:
        spec = self.spec
        a, b = spec.nodes
        by = format_limit(spec.by_ns if spec.by_ns is not None else end_ns)
        if self.first_ns is None:
            detail = f"{a} and {b} were never connected by {by}"
            return ExpectResult(spec, not spec.value, detail if spec.value else detail + ", as wanted")
        at = format_instant(self.first_ns)
        if spec.value:
            return ExpectResult(spec, True, f"{a} and {b} connected at {at}")
        return ExpectResult(
            spec, False, f"{a} and {b} connected at {at}, wanted no connection by {by}"
        )


class _AirJudge:
    def __init__(self, spec: ExpectAir) -> None:
        self.spec = spec
        self.count = 0
        self.first_ns: int | None = None

    def on_packet(self, packet: AirPacket, counts: bool) -> None:
        if counts and _in(packet.start_ns, self.spec.within_ns):
            self.count += 1
            if self.first_ns is None:
                self.first_ns = packet.start_ns

    def settled(self, now_ns: int) -> bool:
        spec = self.spec
        if spec.min is not None and self.count < spec.min:
            return False
        if spec.max is None:
            return True
        if self.count > spec.max:
            return False
        return spec.within_ns is None or _horizon_passed(spec.within_ns[1], now_ns)

    def result(self, end_ns: int) -> ExpectResult:
        spec = self.spec
        n = self.count
        low_ok = spec.min is None or n >= spec.min
        high_ok = spec.max is None or n <= spec.max
        where = f" within {_window(spec.within_ns, end_ns)}" if spec.within_ns else ""
        saw = f"saw {n} {spec.pdu}{where}"
        if low_ok and high_ok:
            if self.first_ns is not None:
                return ExpectResult(spec, True, f"{saw}, first at {format_instant(self.first_ns)}")
            return ExpectResult(spec, True, f"{saw}, as wanted")
        if spec.min is not None and spec.max is not None:
            wanted = f"between {spec.min} and {spec.max}"
        elif not low_ok:
            wanted = f"at least {spec.min}"
        else:
            wanted = f"at most {spec.max}"
        return ExpectResult(spec, False, f"{saw}, wanted {wanted}")


_Judge = Union[_OutputJudge, _NoErrorsJudge, _ConnectedJudge, _AirJudge]


def _judge(spec: ExpectSpec) -> _Judge:
    if isinstance(spec, ExpectOutput):
        return _OutputJudge(spec)
    if isinstance(spec, ExpectNoErrors):
        return _NoErrorsJudge(spec)
    if isinstance(spec, ExpectConnected):
        return _ConnectedJudge(spec)
    if isinstance(spec, ExpectAir):
        return _AirJudge(spec)
    raise TypeError(f"not an expectation: {spec!r}")


# ----------------------------------------------------------------------------- tracker


class ExpectationTracker:
    """Judges expectations incrementally while a world runs.

    Feed it in time order: :meth:`on_output`, :meth:`on_failure`, :meth:`on_connection`
    (when a connection starts; calling it again when it ends is harmless) and
    :meth:`on_air` (every transmission, in start order). :meth:`all_met` answers
    ``stop_when: expectations`` (see the module docstring); :meth:`results` gives the
    verdicts when the run ends.
    """

    def __init__(self, expectations: Sequence[ExpectSpec]) -> None:
        self.expectations: tuple[ExpectSpec, ...] = tuple(expectations)
        self._judges: list[_Judge] = [_judge(spec) for spec in self.expectations]
        self._output = [j for j in self._judges if isinstance(j, _OutputJudge)]
        self._errors = [j for j in self._judges if isinstance(j, _NoErrorsJudge)]
        self._connected = [j for j in self._judges if isinstance(j, _ConnectedJudge)]
        self._air = [j for j in self._judges if isinstance(j, _AirJudge)]
        self._classifier = AirClassifier() if self._air else None

    def on_output(self, node: str, line: OutputLine) -> None:
        for judge in self._output:
            judge.on_output(node, line)

    def on_failure(self, node: str, failure: FirmwareFailure) -> None:
        for judge in self._errors:
            judge.on_failure(node, failure)

    def on_connection(self, span: ConnectionSpan) -> None:
        for judge in self._connected:
            judge.on_connection(span)

    def on_air(self, packet: AirPacket) -> None:
        if self._classifier is None:
            return
        name = self._classifier.classify(packet)
        for judge in self._air:
            judge.on_packet(packet, name.counts_as(judge.spec.pdu))

    def all_met(self, now_ns: int) -> bool:
        """True when every expectation is settled as met at ``now_ns`` (module docstring)."""
        return all(judge.settled(now_ns) for judge in self._judges)

    def results(self, end_ns: int) -> list[ExpectResult]:
        """The verdicts if the run ends at ``end_ns``, in expectation order."""
        return [judge.result(end_ns) for judge in self._judges]


def feed_record(tracker: ExpectationTracker, record: RunRecord) -> None:
    """Feed everything ``record`` holds into ``tracker``."""
    for name, node in record.nodes.items():
        for line in node.output:
            tracker.on_output(name, line)
        for failure in node.failures:
            tracker.on_failure(name, failure)
    for span in record.connections:
        tracker.on_connection(span)
    for packet in sorted(record.air, key=lambda p: p.start_ns):
        tracker.on_air(packet)


def evaluate(expectations: Iterable[ExpectSpec], record: RunRecord) -> list[ExpectResult]:
    """Judge ``expectations`` on a finished run, in their order."""
    tracker = ExpectationTracker(list(expectations))
    feed_record(tracker, record)
    return tracker.results(run_end_ns(record))
