"""The benchmark cases of ``blesim bench`` (see :mod:`emu.bench`)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from phy.units import MS, S

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


# ----------------------------------------------------------------------------- connections
#: Ideal one-way throughput of 244 application octets per 251-octet LL PDU with empty
#: acknowledgements (../shared/reference/timing.md), in kbps, by (PHY, interval in ms).
IDEAL_KBPS = {("1M", 7.5): 780.8, ("1M", 50.0): 780.8, ("2M", 7.5): 1301.3, ("2M", 50.0): 1366.4}


def _connected_pair(seed: int, interval_1250us: int) -> tuple[Any, Any, Any, HciRecorder, HciRecorder]:
    """A central and a peripheral connected at the given interval, via HCI bytes only."""
    from linklayer.hci import le_events as le
    from linklayer.hci.registry import parse_event

    world = make_world(seed)
    central = add_controller_node(world, "central", (0.0, 0.0))
    peripheral = add_controller_node(world, "peripheral", (1.0, 0.0))
    rec_c, rec_p = HciRecorder(), HciRecorder()
    central.hci_sinks.append(rec_c)
    peripheral.hci_sinks.append(rec_p)
    for node in (central, peripheral):
        hs.power_on(node)
    hs.advertise_legacy(peripheral, advertising_type=0, interval_slots=32, data=bytes.fromhex("020106"))
    peer = (0, getattr(peripheral.controller, "config").public_address.value)
    hs.connect_legacy(central, peer, interval_1250us=interval_1250us, timeout_10ms=400)
    deadline = world.kernel.now + 2 * S
    while world.kernel.now < deadline:
        world.run(world.kernel.now + 10 * MS)
        done = [parse_event(p) for _, h, p in rec_c.packets if h == 4 and p[0] == 0x3E]
        if any(isinstance(e, (le.HCI_LE_Connection_Complete_Event, le.HCI_LE_Enhanced_Connection_Complete_Event))
               and e.status == 0 for e in done):
            return world, central, peripheral, rec_c, rec_p
    raise RuntimeError("the bench pair did not connect")


@case("conn-idle")
def conn_idle() -> CaseResult:
    """Two nodes connected at 7.5 ms for 60 s of simulated time, nothing to send."""
    import time

    world, *_ = _connected_pair(seed=1, interval_1250us=6)
    start_tx = world.transmissions
    start = world.kernel.now
    t0 = time.perf_counter()
    world.run(start + 60 * S)
    wall = time.perf_counter() - t0
    events = (world.transmissions - start_tx) // 2
    return CaseResult(
        sim_ns=world.kernel.now - start,
        packets=world.transmissions - start_tx,
        figures={"connection_events": events, "expected_events": (60 * S) // 7_500_000},
        measured_wall_s=wall,
    )


def ll_throughput(phy: str, interval_ms: float, seconds: int = 10) -> CaseResult:
    """One-way ACL flood with 251-octet LL PDUs; throughput of application octets."""
    world, central, peripheral, rec_c, rec_p = _connected_pair(seed=2, interval_1250us=int(interval_ms / 1.25))
    handle = 0
    for node in (central, peripheral):
        hs.set_data_length(node, handle)
    if phy == "2M":
        hs.set_phy(central, handle, 0b010)
    world.run(world.kernel.now + 500 * MS)
    l2cap = (247).to_bytes(2, "little") + (0x0004).to_bytes(2, "little")
    att_write_cmd = bytes([0x52]) + (0x0003).to_bytes(2, "little") + bytes(244)
    buffers = int(getattr(central.controller, "config").total_num_le_acl_data_packets)
    flooder = hs.AclFlooder(central, handle, l2cap + att_write_cmd, buffers)
    received: list[int] = []

    def count(t_ns: int, h4_type: int, packet: bytes) -> None:
        if h4_type == 2:
            received.append(len(packet) - 4)

    peripheral.hci_sinks.append(count)
    central.hci_sinks.append(flooder)
    import time

    start_tx = world.transmissions
    start = world.kernel.now
    t0 = time.perf_counter()
    flooder.start()
    world.run(start + seconds * S)
    wall = time.perf_counter() - t0
    pdus = sum(received) // 251
    kbps = pdus * 244 * 8 / seconds / 1000
    return CaseResult(
        sim_ns=world.kernel.now - start,
        packets=world.transmissions - start_tx,
        figures={"throughput_kbps": round(kbps, 1), "ideal_kbps": IDEAL_KBPS[(phy, interval_ms)],
                 "ratio_of_ideal": round(kbps / IDEAL_KBPS[(phy, interval_ms)], 3)},
        measured_wall_s=wall,
    )



@case("ll-throughput-1M-7.5ms")
def ll_1m_7() -> CaseResult:
    return ll_throughput("1M", 7.5)


@case("ll-throughput-1M-50ms")
def ll_1m_50() -> CaseResult:
    return ll_throughput("1M", 50.0)


@case("ll-throughput-2M-7.5ms")
def ll_2m_7() -> CaseResult:
    return ll_throughput("2M", 7.5)


@case("ll-throughput-2M-50ms")
def ll_2m_50() -> CaseResult:
    return ll_throughput("2M", 50.0)


# ----------------------------------------------------------------------------- scenarios
BENCH_FIRMWARE = Path(__file__).resolve().parent / "bench_firmware"


def scenario_crowd(personality: str, beacon: str, scanner: str, beacons: int = 50, duration: str = "60s") -> CaseResult:
    """``beacons`` beacon nodes and 2 scanners that print what they see, through the same
    code path as ``blesim run`` (scenario validation, runner, firmware runtime, host)."""
    import resource

    from .run import RunOptions, Runner
    from .scenario import validate_mapping

    side = 8
    nodes = [
        {"name": f"beacon-{i}", "personality": personality, "firmware": str(BENCH_FIRMWARE / beacon),
         "position": [2.0 * (i % side), 2.0 * (i // side)]}
        for i in range(beacons)
    ]
    nodes += [
        {"name": f"scanner-{i}", "personality": personality, "firmware": str(BENCH_FIRMWARE / scanner),
         "position": [7.0 + i, 6.0]}
        for i in range(2)
    ]
    scenario = validate_mapping({"name": "scenario-crowd", "seed": 1, "duration": duration, "nodes": nodes},
                                file="<bench>", base_dir=BENCH_FIRMWARE)
    before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    runner = Runner(scenario, RunOptions())
    runner.run()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    lines = sum(len(n.output) for n in runner.record.nodes.values())
    failures = sum(len(n.failures) for n in runner.record.nodes.values())
    if failures:
        raise RuntimeError(f"scenario-crowd: {failures} firmware failures")
    return CaseResult(
        sim_ns=runner.record.end_ns,
        packets=runner.world.transmissions,
        figures={"nodes": beacons + 2, "lines_printed": lines,
                 "peak_kb_per_node": round(peak_kb / (beacons + 2), 1),
                 "growth_kb_per_node": round((peak_kb - before_kb) / (beacons + 2), 1)},
    )


@case("scenario-crowd")
def scenario_crowd_native() -> CaseResult:
    return scenario_crowd("native", "native_beacon.py", "native_scanner.py")


@case("scenario-crowd-micropython")
def scenario_crowd_micropython() -> CaseResult:
    return scenario_crowd("micropython", "micropython_beacon.py", "micropython_scanner.py")


def _notify_pair(personality: str) -> tuple[Any, float]:
    import time

    from .run import RunOptions, Runner
    from .scenario import validate_mapping

    nodes = [
        {"name": "peripheral", "personality": personality,
         "firmware": str(BENCH_FIRMWARE / f"{personality}_notify_peripheral.py"), "position": [0, 0]},
        {"name": "central", "personality": personality,
         "firmware": str(BENCH_FIRMWARE / f"{personality}_notify_central.py"), "position": [1, 0]},
    ]
    scenario = validate_mapping(
        {"name": f"notify-{personality}", "seed": 1, "duration": "30s", "stop_when": "expectations",
         "nodes": nodes, "expect": [{"node": "central", "output": "received 1000"}]},
        file="<bench>", base_dir=BENCH_FIRMWARE)
    t0 = time.perf_counter()
    runner = Runner(scenario, RunOptions())
    runner.run()
    wall = time.perf_counter() - t0
    if runner.failed_firmware() or not all(r.met for r in runner.results()):
        raise RuntimeError(f"mpy-notify ({personality}): the 1000 notifications did not arrive")
    return runner, wall


@case("mpy-notify")
def mpy_notify() -> CaseResult:
    """A MicroPython peripheral notifying 1000 times to a MicroPython central, and the
    ratio of its wall time to the same workload through the Python device API."""
    runner, wall = _notify_pair("micropython")
    _native, native_wall = _notify_pair("native")
    return CaseResult(
        sim_ns=runner.record.end_ns, packets=runner.world.transmissions,
        figures={"wall_us_per_notification": round(wall / 1000 * 1e6, 1),
                 "overhead_ratio": round(wall / native_wall, 3)},
    )
