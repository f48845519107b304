"""Path-loss models and their registry."""

import math

import pytest
from hypothesis import given, strategies as st

from phy.channel import (CHANNEL_MODELS, ChannelModel, ChannelModelError, FixedModel, FreeSpaceModel,
                         LogDistanceModel, make_channel_model, standard_normal)


def test_registry_names() -> None:
    assert {"log_distance", "free_space", "fixed"} <= set(CHANNEL_MODELS)
    assert isinstance(make_channel_model(), LogDistanceModel)
    assert isinstance(make_channel_model("free_space"), ChannelModel)


def test_log_distance_values() -> None:
    m = make_channel_model("log_distance")
    assert m.path_loss_db(1.0, 0) == pytest.approx(40.05)
    assert m.path_loss_db(10.0, 0) == pytest.approx(60.05)
    assert m.path_loss_db(100.0, 0) == pytest.approx(80.05)
    assert m.path_loss_db(0.0, 0) == pytest.approx(40.05)  # clamped at d0
    m3 = make_channel_model("log_distance", path_loss_exponent=3.0, reference_loss_db=45.0,
                            reference_distance_m=2.0)
    assert m3.path_loss_db(20.0, 0) == pytest.approx(75.0)


def test_free_space_values() -> None:
    # Friis by hand: 20 log10(4 pi d f / c).
    assert FreeSpaceModel().path_loss_db(1.0, 1) == pytest.approx(40.05, abs=0.01)
    m = make_channel_model("free_space", frequency_mhz=2440.0)
    assert m.path_loss_db(10.0, 0) == pytest.approx(60.19, abs=0.01)


def test_fixed() -> None:
    m = make_channel_model("fixed", loss_db=73.5)
    assert m.path_loss_db(0.0, 1) == m.path_loss_db(1e6, 2) == 73.5
    assert FixedModel().loss_db == 60.0


@given(st.floats(0, 1e4), st.floats(0, 1e4), st.integers(0, 2**64 - 1))
def test_monotonic_with_distance(d1: float, d2: float, seed: int) -> None:
    lo, hi = sorted((d1, d2))
    for m in (LogDistanceModel(path_loss_exponent=2.7, shadowing_sigma_db=6.0), FreeSpaceModel()):
        assert m.path_loss_db(lo, seed) <= m.path_loss_db(hi, seed)


def test_shadowing_deterministic_per_pair_seed() -> None:
    m = make_channel_model("log_distance", shadowing_sigma_db=8.0)
    a = [m.path_loss_db(10.0, s) for s in range(2000)]
    b = [make_channel_model("log_distance", shadowing_sigma_db=8.0).path_loss_db(10.0, s) for s in range(2000)]
    assert a == b
    assert len(set(a)) > 1900
    offsets = [x - 60.05 for x in a]
    mean = sum(offsets) / len(offsets)
    sd = math.sqrt(sum((x - mean) ** 2 for x in offsets) / len(offsets))
    assert abs(mean) < 0.6 and 7.4 < sd < 8.6


def test_standard_normal_moments() -> None:
    xs = [standard_normal(s) for s in range(20000)]
    mean = sum(xs) / len(xs)
    var = sum(x * x for x in xs) / len(xs) - mean * mean
    assert abs(mean) < 0.03 and 0.95 < var < 1.05


def test_unknown_name_and_params() -> None:
    with pytest.raises(ChannelModelError, match="known models: .*log_distance"):
        make_channel_model("rayleigh")
    with pytest.raises(ChannelModelError, match="path_loss_exponent"):
        make_channel_model("log_distance", exponent=2.0)
    with pytest.raises(ValueError, match="must be a finite number"):
        make_channel_model("log_distance", path_loss_exponent="2")
    with pytest.raises(ValueError, match="> 0"):
        make_channel_model("log_distance", reference_distance_m=0)
    with pytest.raises(ValueError, match=">= 0"):
        make_channel_model("log_distance", shadowing_sigma_db=-1)
