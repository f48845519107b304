"""Interferer on/off windows."""

import pytest

from phy.interference import Interferer


def make(**kw: object) -> Interferer:
    base: dict[str, object] = dict(name="wifi", position=(0.0, 0.0), power_dbm=10.0)
    base.update(kw)
    return Interferer(**base)  # type: ignore[arg-type]


def test_continuous() -> None:
    itf = make()
    assert itf.power_windows(100, 500) == [(100, 500)]
    assert itf.power_windows(500, 500) == []
    assert itf.is_on(12345)
    assert itf.position == (0.0, 0.0, 0.0)


def test_periodic_windows() -> None:
    # on during [phase + k*1000, phase + k*1000 + 250)
    itf = make(period_ns=1000, duty_cycle=0.25, phase_ns=100)
    assert itf.power_windows(0, 2500) == [(100, 350), (1100, 1350), (2100, 2350)]
    assert itf.power_windows(200, 1200) == [(200, 350), (1100, 1200)]
    assert itf.power_windows(350, 1100) == []  # exactly the off gap
    assert itf.power_windows(-1000, -700) == [(-900, -700)]
    assert itf.is_on(100) and itf.is_on(349) and not itf.is_on(350) and not itf.is_on(99)


def test_disabled_and_zero_duty() -> None:
    assert make(enabled=False).power_windows(0, 10) == []
    assert make(period_ns=100, duty_cycle=0.0).power_windows(0, 1000) == []
    assert not make(enabled=False).is_on(0)


def test_channels() -> None:
    itf = make(channels=[0, 1, 2])
    assert itf.channels == frozenset({0, 1, 2})
    assert itf.covers(1) and not itf.covers(12)
    assert make().covers(39)
    with pytest.raises(ValueError):
        make(channels=[40])
    with pytest.raises(ValueError):
        make(duty_cycle=1.5)
    with pytest.raises(ValueError):
        make(period_ns=-1)
