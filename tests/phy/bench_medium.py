"""Micro-benchmark of the medium (not collected by pytest).

N advertisers send ADV_NONCONN_IND (31-octet AdvData, 376 µs) on 37, 38, 39 every
100 ms + advDelay (30 tx/s each); 5 scanners listen continuously, switching channel
every 100 ms and reopening their window after each packet. A heapq loop plays the
driver. Run: ``python -m tests.phy.bench_medium [N ...]``.
"""

from __future__ import annotations

import heapq
import random
import sys
import time
from typing import Any

from phy.channel import LogDistanceModel
from phy.medium import Medium, Transmission
from phy.types import Phy
from phy.units import MS, US

AA = 0x8E89BED6
PDU = b"\x42\x25" + bytes(37)
CRC = b"\x00\x00\x00"


def run(n_adv: int, n_scan: int = 5, sim_s: float = 2.0, seed: int = 1) -> dict[str, Any]:
    rng = random.Random(seed)
    medium = Medium(LogDistanceModel(path_loss_exponent=2.5, shadowing_sigma_db=4.0), seed=seed)
    for i in range(n_adv + n_scan):
        medium.add_radio(i, (rng.uniform(0, 60), rng.uniform(0, 60)), rng=random.Random(f"{seed}/{i}"))
    scanners = list(range(n_adv, n_adv + n_scan))
    heap: list[tuple[int, int, int, int, Any]] = []
    n = 0
    end = int(sim_s * 1e9)

    def push(t: int, prio: int, kind: int, data: Any) -> None:
        nonlocal n
        heapq.heappush(heap, (t, prio, n, kind, data))
        n += 1

    for a in range(n_adv):
        push(rng.randrange(0, 100 * MS), 2, 0, (a, 0))
    for k, s in enumerate(scanners):
        push(0, 1, 1, (s, k % 3))
    medium_s = 0.0
    deliveries = 0
    scan_channel = {s: 37 for s in scanners}
    scan_until = {s: 0 for s in scanners}
    t0 = time.perf_counter()
    while heap:
        t, _, _, kind, data = heapq.heappop(heap)
        if t > end:
            break
        if kind == 0:  # advertiser (a, channel step)
            a, step = data
            c0 = time.perf_counter()
            tx, synced = medium.start_transmission(t, a, 37 + step, Phy.LE_1M, AA, PDU, CRC, 0.0)
            medium_s += time.perf_counter() - c0
            if synced:
                push(tx.end_ns, 0, 2, (tx, synced))
            if step < 2:
                push(t + 500 * US, 2, 0, (a, step + 1))
            else:
                push(t - 1000 * US + 100 * MS + rng.randrange(0, 10 * MS), 2, 0, (a, 0))
        elif kind == 1:  # scanner switches channel
            s, c = data
            scan_channel[s] = 37 + c
            scan_until[s] = t + 100 * MS
            medium.open_window(s, t, t + 100 * MS, 37 + c, Phy.LE_1M, AA)
            push(t + 100 * MS, 1, 1, (s, (c + 1) % 3))
        else:  # a packet with listeners ends
            txn: Transmission = data[0]
            c0 = time.perf_counter()
            got = medium.end_transmission(t, txn)
            for s in data[1]:  # every listener that was synced, delivered or not
                if t < scan_until[s]:
                    medium.open_window(s, t, scan_until[s], scan_channel[s], Phy.LE_1M, AA)
            medium_s += time.perf_counter() - c0
            deliveries += len(got)
    wall = time.perf_counter() - t0
    st = medium.stats
    return {"advertisers": n_adv, "tx": st.transmissions, "wall_s": wall, "medium_s": medium_s,
            "tx_per_wall_s": st.transmissions / wall, "medium_tx_per_s": st.transmissions / medium_s,
            "deliveries": deliveries, "collisions": st.lost_collision, "weak": st.lost_weak}


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [250, 500, 1000, 2000]
    for n_adv in sizes:
        r = run(n_adv)
        print(f"{r['advertisers']:5d} adv: {r['tx']:7d} tx in {r['wall_s']:.2f} s wall "
              f"({r['tx_per_wall_s']:,.0f} tx/s with driver, {r['medium_tx_per_s']:,.0f} tx/s in medium), "
              f"{r['deliveries']} delivered, {r['collisions']} collisions, {r['weak']} weak")


if __name__ == "__main__":
    main()
