"""Channel index <-> RF channel mapping, all 40 (Vol 6 Part B 1.4.1)."""

import pytest

from phy.channels import ADVERTISING_CHANNELS, channel_index, frequency_mhz, rf_channel

# Written out by hand from the spec's table, not computed.
EXPECTED_RF = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,  # indices 0..10
               13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
               31, 32, 33, 34, 35, 36, 37, 38,  # indices 11..36
               0, 12, 39]  # 37, 38, 39


def test_all_forty() -> None:
    assert [rf_channel(i) for i in range(40)] == EXPECTED_RF
    assert sorted(EXPECTED_RF) == list(range(40))


def test_inverse() -> None:
    for i in range(40):
        assert channel_index(rf_channel(i)) == i
    for rf in range(40):
        assert rf_channel(channel_index(rf)) == rf


def test_advertising_frequencies() -> None:
    assert ADVERTISING_CHANNELS == (37, 38, 39)
    assert [frequency_mhz(rf_channel(c)) for c in ADVERTISING_CHANNELS] == [2402, 2426, 2480]
    assert frequency_mhz(1) == 2404
    assert frequency_mhz(38) == 2478


@pytest.mark.parametrize("bad", [-1, 40, 100])
def test_out_of_range(bad: int) -> None:
    with pytest.raises(ValueError):
        rf_channel(bad)
    with pytest.raises(ValueError):
        channel_index(bad)
    with pytest.raises(ValueError):
        frequency_mhz(bad)
