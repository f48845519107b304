"""The gatt-vs-bumble benchmark's workloads at small sizes: each side really does the work,
and the figures are consistent with the measurements (no timing is asserted)."""

from __future__ import annotations

import pytest

from emu.bench import CASES, DEFAULT_CASES, expand
from emu.bench_gatt import (
    INTERVAL_MS,
    PAYLOAD,
    READ_VALUE,
    WWR_BYTES,
    BenchIncomplete,
    SideResult,
    WorkloadResult,
    blesim_workloads,
    bumble_workloads,
    figures,
    gatt_vs_bumble,
    median_side,
    notification_value,
    verify,
    wwr_payload,
)
from phy.units import MS

READS, NOTES, WWR = 5, 5, 1024
WRITES = -(-WWR // PAYLOAD)  # 52: 51 full writes and a 4-octet one


@pytest.fixture(scope="module")
def blesim_small() -> SideResult:
    return blesim_workloads(READS, NOTES, WWR)


@pytest.fixture(scope="module")
def bumble_small() -> SideResult:
    pytest.importorskip("bumble")
    return bumble_workloads(READS, NOTES, WWR)


def test_blesim_side_does_every_operation_in_simulated_time(blesim_small: SideResult) -> None:
    r = blesim_small
    assert (r.reads.operations, r.notify.operations, r.wwr.operations) == (READS, NOTES, WRITES)
    # Each read is a request and a response on a 7.5 ms link: at least one interval each.
    assert r.reads.sim_ns >= (READS - 1) * round(INTERVAL_MS * MS)
    # Notifications and writes fill connection events but still take simulated time.
    assert r.notify.sim_ns > 0 and r.wwr.sim_ns > 0
    # 52 writes of 27 LL octets do not fit one connection event.
    assert r.wwr.sim_ns >= round(INTERVAL_MS * MS)
    # Both directions used the air: at least one packet per operation and an answer per read.
    assert r.packets >= 2 * READS + NOTES + WRITES
    assert all(w.wall_s > 0 for w in (r.reads, r.notify, r.wwr))


def test_blesim_side_is_deterministic(blesim_small: SideResult) -> None:
    again = blesim_workloads(READS, NOTES, WWR)
    assert (again.reads.sim_ns, again.notify.sim_ns, again.wwr.sim_ns, again.packets) == (
        blesim_small.reads.sim_ns, blesim_small.notify.sim_ns, blesim_small.wwr.sim_ns, blesim_small.packets)


def test_bumble_side_does_every_operation(bumble_small: SideResult) -> None:
    r = bumble_small
    assert (r.reads.operations, r.notify.operations, r.wwr.operations) == (READS, NOTES, WRITES)
    assert (r.reads.sim_ns, r.notify.sim_ns, r.wwr.sim_ns, r.packets) == (0, 0, 0, 0)
    assert all(w.wall_s > 0 for w in (r.reads, r.notify, r.wwr))


def test_figures_are_the_ratios_of_the_measurements(blesim_small: SideResult, bumble_small: SideResult) -> None:
    out = figures(blesim_small, bumble_small)
    for key, ours, theirs in (("reads", blesim_small.reads, bumble_small.reads),
                              ("notify", blesim_small.notify, bumble_small.notify),
                              ("wwr", blesim_small.wwr, bumble_small.wwr)):
        assert out[f"{key}_us_blesim"] == pytest.approx(ours.wall_s / ours.operations * 1e6, abs=0.06)
        assert out[f"{key}_us_bumble"] == pytest.approx(theirs.wall_s / theirs.operations * 1e6, abs=0.06)
        assert out[f"{key}_ratio"] == pytest.approx(ours.us_per_op / theirs.us_per_op, abs=0.006)
        assert out[f"{key}_sim_s"] == pytest.approx(ours.sim_ns / 1e9, abs=0.0006)
    assert out["ratio_vs_bumble"] == max(out["reads_ratio"], out["notify_ratio"], out["wwr_ratio"])


def test_the_case_end_to_end_at_small_sizes() -> None:
    pytest.importorskip("bumble")
    result = gatt_vs_bumble(READS, NOTES, WWR, repeat=2)
    f = result.figures
    assert f["repeat"] == 2
    # every run is counted: two runs of the same simulated time and packets
    assert abs(result.sim_ns / 1e9 - 2 * (f["reads_sim_s"] + f["notify_sim_s"] + f["wwr_sim_s"])) < 0.004
    assert result.packets % 2 == 0 and result.packets // 2 >= 2 * READS + NOTES + WRITES
    assert set(f) >= {
        "reads_us_blesim", "reads_us_bumble", "reads_ratio", "notify_us_blesim", "notify_us_bumble",
        "notify_ratio", "wwr_us_blesim", "wwr_us_bumble", "wwr_ratio", "ratio_vs_bumble",
        "reads_sim_s", "notify_sim_s", "wwr_sim_s",
    }


def test_the_case_is_registered() -> None:
    assert expand(["gatt-vs-bumble"]) == ["gatt-vs-bumble"]
    assert "gatt-vs-bumble" in CASES and "gatt-vs-bumble" in DEFAULT_CASES


def test_median_side_takes_the_median_run_per_workload() -> None:
    def side(reads: float, notify: float, wwr: float) -> SideResult:
        return SideResult(WorkloadResult(10, reads, 1), WorkloadResult(10, notify, 2), WorkloadResult(10, wwr, 3))

    m = median_side([side(3.0, 1.0, 2.0), side(1.0, 2.0, 3.0), side(2.0, 3.0, 1.0)])
    assert (m.reads.wall_s, m.notify.wall_s, m.wwr.wall_s) == (2.0, 2.0, 2.0)
    assert m.reads.us_per_op == pytest.approx(200_000.0)


# -- the checks that keep the benchmark honest ---------------------------------------------


def test_values_are_distinguishable() -> None:
    assert len(READ_VALUE) == PAYLOAD
    assert [notification_value(i)[:4] for i in (0, 1, 258)] == [
        b"\x00\x00\x00\x00", b"\x01\x00\x00\x00", b"\x02\x01\x00\x00"]
    assert all(len(notification_value(i)) == PAYLOAD for i in range(3))
    payload = wwr_payload(WWR_BYTES)
    chunks = [payload[i:i + PAYLOAD] for i in range(0, WWR_BYTES, PAYLOAD)]
    # every 20-octet write differs from every other: a lost, doubled or swapped write shows
    assert len(payload) == WWR_BYTES and len(set(chunks)) == len(chunks) == 5120


def _good() -> tuple[list[bytes], list[bytes], bytes]:
    return [READ_VALUE] * 3, [notification_value(i) for i in range(4)], wwr_payload(100)


def test_verify_accepts_a_complete_run() -> None:
    reads, notes, payload = _good()
    verify("x", reads, 3, notes, 4, payload, payload)


@pytest.mark.parametrize("fault", [
    "read missing", "read wrong", "notification missing", "notifications swapped",
    "write missing", "writes swapped", "write truncated",
])
def test_verify_refuses_incomplete_or_wrong_work(fault: str) -> None:
    reads, notes, payload = _good()
    written = payload
    if fault == "read missing":
        reads = reads[:-1]
    elif fault == "read wrong":
        reads[1] = bytes(PAYLOAD)
    elif fault == "notification missing":
        notes = notes[:-1]
    elif fault == "notifications swapped":
        notes[1], notes[2] = notes[2], notes[1]
    elif fault == "write missing":
        written = payload[:40] + payload[60:]
    elif fault == "writes swapped":
        written = payload[20:40] + payload[:20] + payload[40:]
    else:
        written = payload[:-1]
    with pytest.raises(BenchIncomplete):
        verify("x", reads, 3, notes, 4, written, payload)
