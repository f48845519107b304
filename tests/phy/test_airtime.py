"""Airtime per PHY: the whole table of /work/shared/reference/timing.md, exactly."""

import pytest

from phy.airtime import airtime_ns, bit_duration_ns, payload_start_ns, preamble_and_aa_ns
from phy.types import Phy
from phy.units import US

# (PHY, PDU octets = 2 header + payload [+ 4 MIC], airtime in µs) from timing.md.
TABLE = [
    (Phy.LE_1M, 2, 80), (Phy.LE_1M, 29, 296), (Phy.LE_1M, 253, 2088), (Phy.LE_1M, 257, 2120),
    (Phy.LE_2M, 2, 44), (Phy.LE_2M, 29, 152), (Phy.LE_2M, 253, 1048), (Phy.LE_2M, 257, 1064),
    (Phy.LE_CODED_S2, 2, 462), (Phy.LE_CODED_S2, 29, 894), (Phy.LE_CODED_S2, 253, 4478),
    (Phy.LE_CODED_S2, 257, 4542),
    (Phy.LE_CODED_S8, 2, 720), (Phy.LE_CODED_S8, 29, 2448), (Phy.LE_CODED_S8, 253, 16784),
    (Phy.LE_CODED_S8, 257, 17040),
]


@pytest.mark.parametrize("phy,pdu_len,expected_us", TABLE)
def test_timing_table(phy: Phy, pdu_len: int, expected_us: int) -> None:
    assert airtime_ns(phy, pdu_len) == expected_us * US


def test_adv_ind_31_bytes() -> None:
    # ADV_IND with AdvA + 31 octets of AdvData: 2 + 37 octets -> 376 µs on LE 1M.
    assert airtime_ns(Phy.LE_1M, 39) == 376 * US


def test_result_is_int_ns() -> None:
    for phy in Phy:
        assert isinstance(airtime_ns(phy, 10), int)


@pytest.mark.parametrize("phy,sync_us", [
    (Phy.LE_1M, 40), (Phy.LE_2M, 24), (Phy.LE_CODED_S2, 336), (Phy.LE_CODED_S8, 336)])
def test_preamble_and_aa(phy: Phy, sync_us: int) -> None:
    assert preamble_and_aa_ns(phy) == sync_us * US


def test_bit_layout_consistent_with_airtime() -> None:
    trailer = {Phy.LE_1M: 0, Phy.LE_2M: 0, Phy.LE_CODED_S2: 6 * US, Phy.LE_CODED_S8: 24 * US}
    for phy in Phy:
        for n in (0, 2, 37, 257):
            assert airtime_ns(phy, n) == payload_start_ns(phy) + (n + 3) * 8 * bit_duration_ns(phy) + trailer[phy]
    assert payload_start_ns(Phy.LE_CODED_S8) == 376 * US


def test_negative_length_refused() -> None:
    with pytest.raises(ValueError):
        airtime_ns(Phy.LE_1M, -1)
