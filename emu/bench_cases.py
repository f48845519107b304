"""The benchmark cases of ``blesim bench`` (see :mod:`emu.bench`)."""

from __future__ import annotations

import math

from phy.units import S

from . import hci_script as hs
from .bench import CaseResult, case
from .world import HciRecorder, add_controller_node, make_world

ADV_CROWD_DURATION_NS = 60 * S


def adv_crowd(n: int, duration_ns: int = ADV_CROWD_DURATION_NS, seed: int = 1) -> CaseResult:
    """N legacy advertisers (ADV_IND every 100 ms) and 5 continuous passive scanners.

    Advertisers stand on a square grid 2 m apart; the scanners stand in its middle. Every
    node is driven through HCI command bytes only.
    """
    world = make_world(seed)
    side = max(1, math.ceil(math.sqrt(n)))
    centre = (side - 1) * 1.0
    recorders = []
    for i in range(5):
        scanner = add_controller_node(world, f"scanner-{i}", (centre + 0.5 * i, centre))
        rec = HciRecorder()
        scanner.hci_sinks.append(rec)
        recorders.append(rec)
        hs.power_on(scanner)
        hs.scan_legacy(scanner, active=False, interval_slots=16, window_slots=16)
    for i in range(n):
        adv = add_controller_node(world, f"beacon-{i}", (2.0 * (i % side), 2.0 * (i // side)))
        hs.power_on(adv)
        hs.advertise_legacy(adv, interval_slots=160, data=bytes.fromhex("020106") + bytes([len(f"b{i}") + 1, 0x09]) + f"b{i}".encode())
    world.run(duration_ns)
    reports = sum(1 for rec in recorders for _, h, p in rec.packets if h == 4 and p[0] == 0x3E and p[2] == 0x02)
    stats = world.medium.stats
    return CaseResult(
        sim_ns=world.kernel.now,
        packets=world.transmissions,
        figures={
            "advertisers": n,
            "reports_per_scanner": round(reports / 5, 1),
            "lost_collision": stats.lost_collision,
        },
    )


@case("adv-crowd-10")
def adv_crowd_10() -> CaseResult:
    return adv_crowd(10)


@case("adv-crowd-100")
def adv_crowd_100() -> CaseResult:
    return adv_crowd(100)


@case("adv-crowd-1000")
def adv_crowd_1000() -> CaseResult:
    return adv_crowd(1000)
