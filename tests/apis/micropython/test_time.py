"""MicroPython's ``time``/``utime`` on simulated time: exact sleeps, ticks that wrap at
2**30, ``ticks_diff``/``ticks_add``, the 2000 epoch of ``time``/``localtime``/``mktime``,
and MicroPython's argument errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apis.micropython.time_mod import TICKS_PERIOD, localtime, make_time_module, mktime, ticks_add, ticks_diff
from tests.apis.micropython.test_bluetooth_rig import failures, lines, run_nodes


class _Clock:
    """The two things ``time`` needs of a runtime: ``now`` and ``sleep_ns``."""

    def __init__(self, now: int) -> None:
        self.now = now
        self.slept: list[int] = []

    def sleep_ns(self, ns: int) -> None:
        self.slept.append(ns)
        self.now += ns


def test_sleeps_resume_at_exact_simulated_instants(tmp_path: Path) -> None:
    record = run_nodes(tmp_path, {"a": """
import time, utime
print(time is utime, time.ticks_ms(), time.ticks_us())
time.sleep_ms(5)
print(time.ticks_ms(), time.ticks_us())
time.sleep_us(250)
print(time.ticks_us())
time.sleep(0.5)
print(time.ticks_ms(), time.time_ns())
time.sleep(2)
print(time.time(), time.localtime())
"""})
    assert failures(record) == []
    assert lines(record, "a") == [
        "True 0 0",
        "5 5000",
        "5250",
        "505 505250000",
        "2 (2000, 1, 1, 0, 0, 2, 5, 1)",
    ]
    assert [t for t, _ in [(o.t_ns, o.text) for o in record.nodes["a"].output]] == [
        0, 5_000_000, 5_250_000, 505_250_000, 2_505_250_000,
    ]


def test_ticks_wrap_at_2_to_the_30() -> None:
    clock = _Clock(TICKS_PERIOD * 1_000_000 + 7_000_000)
    mod: Any = make_time_module(clock)  # type: ignore[arg-type]
    assert mod.ticks_ms() == 7
    assert mod.ticks_diff(5, TICKS_PERIOD - 5) == 10
    assert mod.ticks_diff(TICKS_PERIOD - 5, 5) == -10
    assert mod.ticks_add(TICKS_PERIOD - 1, 2) == 1
    assert mod.ticks_add(0, -1) == TICKS_PERIOD - 1
    with pytest.raises(OverflowError, match="ticks interval overflow"):
        ticks_add(0, TICKS_PERIOD // 2)


def test_argument_errors_and_negative_sleeps() -> None:
    clock = _Clock(0)
    mod: Any = make_time_module(clock)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="can't convert float to int"):
        mod.sleep_ms(1.5)
    with pytest.raises(TypeError):
        mod.ticks_diff(1.0, 0)
    with pytest.raises(TypeError):
        mod.sleep("1")
    mod.sleep_ms(-5)
    assert clock.slept == [0]


def test_calendar_from_the_2000_epoch() -> None:
    assert localtime(0) == (2000, 1, 1, 0, 0, 0, 5, 1)
    assert localtime(86400 * 366) == (2001, 1, 1, 0, 0, 0, 0, 1)
    assert mktime((2000, 1, 1, 0, 0, 0, 5, 1)) == 0
    assert mktime((2024, 2, 29, 12, 30, 15, 0, 0)) == 762_525_015
    # Out-of-range fields are normalised.
    assert mktime((2000, 13, 1, 0, 0, 0, 0, 0)) == mktime((2001, 1, 1, 0, 0, 0, 0, 0))
    assert mktime((2000, 1, 1, 0, 0, 60, 0, 0)) == 60
    with pytest.raises(TypeError):
        mktime((2000, 1, 1))


@given(st.integers(min_value=0, max_value=2**31))
def test_mktime_inverts_localtime(secs: int) -> None:
    assert mktime(localtime(secs)) == secs


@given(st.integers(0, TICKS_PERIOD - 1), st.integers(-(TICKS_PERIOD // 2), TICKS_PERIOD // 2 - 1))
def test_ticks_diff_inverts_ticks_add(t: int, delta: int) -> None:
    assert ticks_diff(ticks_add(t, delta), t) == delta
