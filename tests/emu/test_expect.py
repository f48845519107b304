"""Tests of emu.expect: every kind of expectation, its verdict sentence, and when
``stop_when: expectations`` may stop a run (ExpectationTracker.all_met)."""

from __future__ import annotations

import pytest

from emu.expect import (
    ExpectationTracker,
    ExpectResult,
    describe_expectation,
    evaluate,
    format_instant,
    format_limit,
)
from emu.records import (
    AirPacket,
    ConnectionSpan,
    FirmwareFailure,
    NodeRecord,
    OutputLine,
    RunRecord,
)
from emu.scenario_events import (
    ExpectAir,
    ExpectConnected,
    ExpectNoErrors,
    ExpectOutput,
    ExpectSpec,
)
from phy.types import Phy
from phy.units import MS, S

CONN_AA = 0x50654AC3
NTF_SN0 = bytes.fromhex("0209" "05000400" "1b0300" "6869")
NTF_SN1 = bytes([NTF_SN0[0] | 0x08]) + NTF_SN0[1:]


def record(end_ns: int = 30 * S) -> RunRecord:
    r = RunRecord(name="t", seed=1, duration_ns=30 * S, end_ns=end_ns)
    for name in ("client", "server"):
        r.nodes[name] = NodeRecord(name, "native", "C0:00:00:00:00:01", "random")
    return r


def lines(r: RunRecord, node: str, *items: tuple[int, str]) -> None:
    r.nodes[node].output.extend(OutputLine(t, text) for t, text in items)


def ntf(t: int, sn: int, kind: int = 3) -> AirPacket:
    pdu = NTF_SN1 if sn else NTF_SN0
    return AirPacket(t, t + 100_000, "server", 5, Phy.LE_1M, CONN_AA, pdu, kind, True, -40.0)


def one(spec: ExpectSpec, r: RunRecord) -> ExpectResult:
    [result] = evaluate([spec], r)
    assert result.spec == spec
    return result


# ------------------------------------------------------------------ formatting


def test_time_formats() -> None:
    assert format_instant(12_345_678_901) == "12.345678 s"
    assert format_instant(0) == "0.000000 s"
    assert format_limit(30 * S) == "30 s"
    assert format_limit(1500 * MS) == "1.5 s"
    assert format_limit(125_000) == "0.000125 s"
    assert format_limit(0) == "0 s"


# ------------------------------------------------------------------ output


def test_output_min_count_met_and_detail() -> None:
    r = record()
    lines(r, "client", (12_345_678_000, "data_len = 20"), (13 * S, "data_len = 21"),
          (14 * S, "nothing"), (15 * S, "x data_len = 3 y"))
    result = one(ExpectOutput("client", r"data_len = \d+"), r)
    assert result == ExpectResult(result.spec, True, "matched 3 times, first at 12.345678 s")


def test_output_uses_search_not_match() -> None:
    r = record()
    lines(r, "client", (1 * S, "prefix data_len = 5"))
    assert one(ExpectOutput("client", r"data_len = \d+"), r).met
    assert not one(ExpectOutput("client", r"^data_len"), r).met


def test_output_never_matched() -> None:
    r = record()
    lines(r, "client", (1 * S, "hello"))
    lines(r, "server", (1 * S, "data_len = 1"))  # another node's line does not count
    result = one(ExpectOutput("client", r"data_len = \d+"), r)
    assert not result.met
    assert result.detail == r"no line of client matched 'data_len = \d+' within [0 s, 30 s]"


def test_output_min_count_not_reached() -> None:
    r = record()
    lines(r, "client", (1 * S, "ok"), (2 * S, "ok"))
    result = one(ExpectOutput("client", "ok", min_count=5), r)
    assert not result.met
    assert result.detail == "lines of client matched 'ok' 2 times within [0 s, 30 s], wanted at least 5"


def test_output_exact_count() -> None:
    r = record()
    lines(r, "client", (1 * S, "ok"), (2 * S, "ok"), (3 * S, "ok"))
    assert one(ExpectOutput("client", "ok", count=3), r) == ExpectResult(
        ExpectOutput("client", "ok", count=3), True, "matched 3 times, first at 1.000000 s"
    )
    two = one(ExpectOutput("client", "ok", count=2), r)
    assert not two.met
    assert two.detail == "lines of client matched 'ok' 3 times within [0 s, 30 s], wanted exactly 2"
    zero = one(ExpectOutput("client", "bad", count=0), r)
    assert zero.met
    assert zero.detail == "no line of client matched 'bad' within [0 s, 30 s], as wanted"
    assert not one(ExpectOutput("client", "ok", count=0), r).met


def test_output_window_is_inclusive() -> None:
    r = record()
    lines(r, "client", (2 * S - 1, "x"), (2 * S, "x"), (5 * S, "x"), (5 * S + 1, "x"))
    spec = ExpectOutput("client", "x", within_ns=(2 * S, 5 * S), count=2)
    assert one(spec, r) == ExpectResult(spec, True, "matched 2 times, first at 2.000000 s")
    spec3 = ExpectOutput("client", "x", within_ns=(2 * S, 5 * S), min_count=3)
    result = one(spec3, r)
    assert not result.met
    assert result.detail == "lines of client matched 'x' 2 times within [2 s, 5 s], wanted at least 3"


def test_output_window_default_is_the_run_end() -> None:
    r = record(end_ns=12_500 * MS)
    result = one(ExpectOutput("client", "x"), r)
    assert result.detail == "no line of client matched 'x' within [0 s, 12.5 s]"
    r.end_ns = 0  # unset: the planned duration
    assert one(ExpectOutput("client", "x"), r).detail.endswith("within [0 s, 30 s]")


# ------------------------------------------------------------------ no_errors


def test_no_errors() -> None:
    r = record()
    assert one(ExpectNoErrors("client"), r).detail == "client raised no firmware errors"
    assert one(ExpectNoErrors(), r).detail == "no firmware errors on any node"
    r.nodes["server"].failures.append(
        FirmwareFailure(4 * S, "ZeroDivisionError: division by zero\nmore", "Traceback...")
    )
    assert one(ExpectNoErrors("client"), r).met
    server = one(ExpectNoErrors("server"), r)
    assert not server.met
    assert server.detail == (
        "1 firmware failure, first on server at 4.000000 s: ZeroDivisionError: division by zero"
    )
    r.nodes["client"].failures.append(FirmwareFailure(3 * S, "watchdog: never yielded", ""))
    anyone = one(ExpectNoErrors(), r)
    assert not anyone.met
    assert anyone.detail == (
        "2 firmware failures, first on client at 3.000000 s: watchdog: never yielded"
    )


# ------------------------------------------------------------------ connected


def test_connected_by() -> None:
    r = record()
    spec = ExpectConnected(("client", "server"), by_ns=10 * S)
    result = one(spec, r)
    assert not result.met
    assert result.detail == "client and server were never connected by 10 s"
    r.connections.append(ConnectionSpan(11 * S, None, "client", "server"))  # too late
    assert not one(spec, r).met
    r.connections.append(ConnectionSpan(2_500 * MS, 5 * S, "server", "client", 0x13))
    assert one(spec, r) == ExpectResult(spec, True, "client and server connected at 2.500000 s")
    # Connected earlier and dropped still counts as "connected by".
    assert one(ExpectConnected(("server", "client")), r).met


def test_connected_other_pair_does_not_count() -> None:
    r = record()
    r.nodes["third"] = NodeRecord("third", "native", "x", "public")
    r.connections.append(ConnectionSpan(1 * S, None, "client", "third"))
    result = one(ExpectConnected(("client", "server")), r)
    assert result.detail == "client and server were never connected by 30 s"


def test_not_connected() -> None:
    r = record()
    spec = ExpectConnected(("client", "server"), by_ns=10 * S, value=False)
    assert one(spec, r) == ExpectResult(
        spec, True, "client and server were never connected by 10 s, as wanted"
    )
    r.connections.append(ConnectionSpan(12 * S, None, "client", "server"))
    assert one(spec, r).met
    r.connections.append(ConnectionSpan(10 * S, 11 * S, "client", "server"))  # at "by": counts
    result = one(spec, r)
    assert not result.met
    assert result.detail == (
        "client and server connected at 10.000000 s, wanted no connection by 10 s"
    )


# ------------------------------------------------------------------ air


def test_air_min() -> None:
    r = record()
    r.air += [ntf(1 * S, 0), ntf(2 * S, 1)]
    spec = ExpectAir("ATT_HANDLE_VALUE_NTF", min=5)
    result = one(spec, r)
    assert not result.met
    assert result.detail == "saw 2 ATT_HANDLE_VALUE_NTF, wanted at least 5"
    ok = ExpectAir("ATT_HANDLE_VALUE_NTF", min=2)
    assert one(ok, r) == ExpectResult(ok, True, "saw 2 ATT_HANDLE_VALUE_NTF, first at 1.000000 s")


def test_air_excludes_retransmissions_and_counts_ll_data() -> None:
    r = record()
    r.air += [ntf(1 * S, 0), ntf(2 * S, 0), ntf(3 * S, 1)]  # the second repeats the first
    assert one(ExpectAir("ATT_HANDLE_VALUE_NTF", min=3), r).detail == (
        "saw 2 ATT_HANDLE_VALUE_NTF, wanted at least 3"
    )
    assert one(ExpectAir("LL_DATA", min=2, max=2), r).met
    assert one(ExpectAir("LL_EMPTY", min=None, max=0), r) == ExpectResult(
        ExpectAir("LL_EMPTY", min=None, max=0), True, "saw 0 LL_EMPTY, as wanted"
    )


def test_air_max_and_between_and_window() -> None:
    r = record()
    r.air += [ntf(t * S, t % 2) for t in range(1, 8)]
    too_many = ExpectAir("ATT_HANDLE_VALUE_NTF", min=None, max=5)
    assert one(too_many, r).detail == "saw 7 ATT_HANDLE_VALUE_NTF, wanted at most 5"
    between = ExpectAir("ATT_HANDLE_VALUE_NTF", min=2, max=5)
    assert one(between, r).detail == "saw 7 ATT_HANDLE_VALUE_NTF, wanted between 2 and 5"
    windowed = ExpectAir("ATT_HANDLE_VALUE_NTF", min=2, max=5, within_ns=(2 * S, 4 * S))
    assert one(windowed, r) == ExpectResult(
        windowed, True, "saw 3 ATT_HANDLE_VALUE_NTF within [2 s, 4 s], first at 2.000000 s"
    )
    narrow = ExpectAir("ATT_HANDLE_VALUE_NTF", min=4, within_ns=(2 * S, 4 * S))
    assert one(narrow, r).detail == (
        "saw 3 ATT_HANDLE_VALUE_NTF within [2 s, 4 s], wanted at least 4"
    )


def test_evaluate_keeps_order_and_describes() -> None:
    r = record()
    specs: list[ExpectSpec] = [
        ExpectNoErrors("server"),
        ExpectOutput("client", "x", within_ns=(0, 2 * S), count=2),
        ExpectConnected(("client", "server"), by_ns=10 * S, value=False),
        ExpectAir("ATT_HANDLE_VALUE_NTF", min=5),
        ExpectAir("LL_EMPTY", min=1, max=3, within_ns=(0, 1500 * MS)),
        ExpectOutput("server", "y", min_count=3),
        ExpectNoErrors(),
    ]
    assert [res.spec for res in evaluate(specs, r)] == specs
    assert [describe_expectation(s) for s in specs] == [
        "no firmware errors on server",
        "client prints 'x' exactly 2 times within [0 s, 2 s]",
        "client and server never connected by 10 s",
        "at least 5 ATT_HANDLE_VALUE_NTF on the air",
        "at least 1 and at most 3 LL_EMPTY on the air within [0 s, 1.5 s]",
        "server prints 'y' at least 3 times",
        "no firmware errors",
    ]


# ------------------------------------------------------------------ tracker


def test_tracker_positive_expectations_settle_when_met() -> None:
    tracker = ExpectationTracker([
        ExpectOutput("client", "ready"),
        ExpectConnected(("client", "server"), by_ns=10 * S),
        ExpectAir("ATT_HANDLE_VALUE_NTF", min=2),
    ])
    assert not tracker.all_met(0)
    tracker.on_output("client", OutputLine(1 * S, "ready"))
    tracker.on_connection(ConnectionSpan(2 * S, None, "server", "client"))
    tracker.on_air(ntf(3 * S, 0))
    assert not tracker.all_met(3 * S)
    tracker.on_air(ntf(3 * S + MS, 0))  # a retransmission does not count
    assert not tracker.all_met(3 * S + MS)
    tracker.on_air(ntf(3 * S + 2 * MS, 1))
    assert tracker.all_met(3 * S + 2 * MS)
    assert all(res.met for res in tracker.results(3 * S + 2 * MS))


def test_tracker_safety_parts_judged_at_the_end_do_not_hold_up() -> None:
    tracker = ExpectationTracker([
        ExpectOutput("client", "ready"),
        ExpectNoErrors(),
        ExpectAir("LL_EMPTY", min=None, max=3),
        ExpectConnected(("client", "server"), value=False),
        ExpectOutput("client", "boot", count=1),
    ])
    tracker.on_output("client", OutputLine(1 * S, "boot"))
    assert not tracker.all_met(1 * S)
    tracker.on_output("client", OutputLine(2 * S, "ready"))
    assert tracker.all_met(2 * S)
    results = tracker.results(2 * S)
    assert [res.met for res in results] == [True] * 5
    assert results[3].detail == "client and server were never connected by 2 s, as wanted"


@pytest.mark.parametrize("event", ["failure", "connection", "second boot"])
def test_tracker_broken_safety_part_never_met(event: str) -> None:
    tracker = ExpectationTracker([
        ExpectNoErrors("client"),
        ExpectConnected(("client", "server"), value=False),
        ExpectOutput("client", "boot", count=1),
    ])
    tracker.on_output("client", OutputLine(1 * S, "boot"))
    assert tracker.all_met(1 * S)
    if event == "failure":
        tracker.on_failure("client", FirmwareFailure(2 * S, "boom", ""))
    elif event == "connection":
        tracker.on_connection(ConnectionSpan(2 * S, None, "client", "server"))
    else:
        tracker.on_output("client", OutputLine(2 * S, "boot again"))
    assert not tracker.all_met(2 * S)
    assert not tracker.all_met(100 * S)
    assert [res.met for res in tracker.results(100 * S)].count(False) == 1


def test_tracker_waits_for_explicit_horizons() -> None:
    tracker = ExpectationTracker([
        ExpectOutput("client", "x", within_ns=(0, 5 * S), count=1),
        ExpectConnected(("client", "server"), by_ns=8 * S, value=False),
        ExpectAir("LL_EMPTY", min=None, max=2, within_ns=(0, 6 * S)),
    ])
    tracker.on_output("client", OutputLine(1 * S, "x"))
    assert not tracker.all_met(5 * S)  # a line at exactly 5 s could still come
    assert not tracker.all_met(8 * S)
    assert tracker.all_met(8 * S + 1)
    # A line after the window's end does not count against the exact count.
    tracker.on_output("client", OutputLine(8 * S + 1, "x"))
    assert tracker.all_met(9 * S)


def test_tracker_air_min_and_windowed_max() -> None:
    tracker = ExpectationTracker([ExpectAir("ATT_HANDLE_VALUE_NTF", min=1, max=1,
                                            within_ns=(0, 2 * S))])
    tracker.on_air(ntf(1 * S, 0))
    assert not tracker.all_met(2 * S)
    assert tracker.all_met(2 * S + 1)
    tracker2 = ExpectationTracker([ExpectAir("ATT_HANDLE_VALUE_NTF", min=1, max=1,
                                             within_ns=(0, 2 * S))])
    tracker2.on_air(ntf(1 * S, 0))
    tracker2.on_air(ntf(1500 * MS, 1))
    assert not tracker2.all_met(3 * S)


def test_tracker_fed_live_agrees_with_evaluate() -> None:
    r = record(end_ns=20 * S)
    lines(r, "client", (1 * S, "boot"), (3 * S, "data_len = 4"), (4 * S, "data_len = 9"))
    lines(r, "server", (1 * S, "advertising"))
    r.nodes["server"].failures.append(FirmwareFailure(9 * S, "KeyError: 'x'", "tb"))
    r.connections.append(ConnectionSpan(2 * S, 15 * S, "client", "server", 0x13))
    r.air += [ntf(t * S, t % 2) for t in range(3, 9)]
    specs: list[ExpectSpec] = [
        ExpectOutput("client", r"data_len = \d+", min_count=2),
        ExpectOutput("server", "advertising", count=1),
        ExpectNoErrors(),
        ExpectConnected(("client", "server"), by_ns=5 * S),
        ExpectAir("ATT_HANDLE_VALUE_NTF", min=3, max=10),
    ]
    live = ExpectationTracker(specs)
    events: list[tuple[int, int, object]] = []
    for name, node in r.nodes.items():
        events += [(line.t_ns, 0, (name, line)) for line in node.output]
        events += [(f.t_ns, 1, (name, f)) for f in node.failures]
    events += [(span.start_ns, 2, span) for span in r.connections]
    events += [(p.start_ns, 3, p) for p in r.air]
    for _, kind, item in sorted(events, key=lambda e: (e[0], e[1])):
        if kind == 0:
            live.on_output(*item)  # type: ignore[misc]
        elif kind == 1:
            live.on_failure(*item)  # type: ignore[misc]
        elif kind == 2:
            live.on_connection(item)  # type: ignore[arg-type]
        else:
            live.on_air(item)  # type: ignore[arg-type]
    assert live.results(20 * S) == evaluate(specs, r)
    assert [res.met for res in evaluate(specs, r)] == [True, True, False, True, True]
