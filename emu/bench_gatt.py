"""The ``gatt-vs-bumble`` benchmark: blesim's GATT over the simulated radio against Bumble.

Theory of operation
-------------------
Three GATT workloads run twice in one process (issue 4, "Benchmark"):

* (a) ``reads`` sequential reads of a 20-octet characteristic (Read Characteristic Value,
  Core Specification Vol 3 Part G 4.8.1), each one waiting for its response;
* (b) ``notifications`` notifications of 20 octets (Vol 3 Part G 4.10.1), sent back to
  back by the server until the client has received them all;
* (c) ``wwr_bytes`` octets written without response in 20-octet writes (Vol 3 Part G
  4.9.1), until the server has received them all.

*blesim side:* two :class:`~emu.device.Device` nodes in a :func:`~emu.world.make_world`
world, connected at a 7.5 ms connection interval over the simulated radio (the whole
stack runs: host, HCI bytes, link layer, air). The device API's waiters step the
simulation kernel while they wait, so the wall time measured includes simulating the
radio; the simulated time each workload took is measured too.

*Bumble side:* two Bumble ``Device`` objects, each on its own Bumble ``Controller``,
both on one Bumble ``LocalLink`` (zero-time, lossless, in memory) in one asyncio loop;
Bumble's own GATT server and client do the same three workloads.

Each workload is timed with :func:`time.perf_counter` around the workload alone (set-up,
connection and discovery excluded). Every side checks its work: each read returned the
value, every notification arrived in order with its content, and the written octets
arrived complete and in order. A side that did not finish raises
:class:`BenchIncomplete` rather than report a figure that measured nothing.

Figures (microseconds per operation; ratio = blesim / Bumble): ``reads_us_blesim``,
``reads_us_bumble``, ``reads_ratio``, ``notify_us_*``, ``notify_ratio``, ``wwr_us_*``
(per 20-octet write), ``wwr_ratio``, ``ratio_vs_bumble`` (the largest ratio) and the
simulated seconds of each blesim workload (``reads_sim_s``, ``notify_sim_s``,
``wwr_sim_s``).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass
from typing import Any, Callable

from .bench import CaseResult, case

__all__ = [
    "BenchIncomplete",
    "PAYLOAD",
    "READ_VALUE",
    "SideResult",
    "WorkloadResult",
    "blesim_workloads",
    "bumble_workloads",
    "figures",
    "gatt_vs_bumble",
    "median_side",
    "notification_value",
    "verify",
    "wwr_payload",
]

#: Octets per read value, notification and write (ATT_MTU 23 minus the 3-octet header).
PAYLOAD = 20
#: The value of the read characteristic.
READ_VALUE = bytes(range(0x41, 0x41 + PAYLOAD))
#: Workload sizes of the benchmark case.
READS = 1000
NOTIFICATIONS = 1000
WWR_BYTES = 100 * 1024
#: Runs of each side; each workload's figure is the median run (the machine is shared).
REPEAT = 3
#: Connection interval of the blesim pair (Vol 6 Part B 4.5.1: the smallest, 7.5 ms).
INTERVAL_MS = 7.5

SERVICE_UUID = "7d2e0001-5c2f-4a61-9a31-3c5b0b6a0e10"
READ_UUID = "7d2e0002-5c2f-4a61-9a31-3c5b0b6a0e10"
NOTIFY_UUID = "7d2e0003-5c2f-4a61-9a31-3c5b0b6a0e10"
WWR_UUID = "7d2e0004-5c2f-4a61-9a31-3c5b0b6a0e10"

#: Simulated-time budget of each blesim workload before it is declared incomplete.
SIM_BUDGET_MS = 600_000.0
#: Wall-clock budget of each Bumble workload (it has no simulated time).
BUMBLE_BUDGET_S = 120.0


class BenchIncomplete(RuntimeError):
    """A side of the benchmark did not complete its workload (or received wrong data)."""


@dataclass(frozen=True)
class WorkloadResult:
    """One workload on one side: operations done, wall seconds, simulated nanoseconds."""

    operations: int
    wall_s: float
    sim_ns: int = 0

    @property
    def us_per_op(self) -> float:
        return self.wall_s / self.operations * 1e6 if self.operations else 0.0


@dataclass(frozen=True)
class SideResult:
    """The three workloads of one side (``packets``: air transmissions, blesim only)."""

    reads: WorkloadResult
    notify: WorkloadResult
    wwr: WorkloadResult
    packets: int = 0


def notification_value(i: int) -> bytes:
    """The ``i``-th notified value: its index, then filler, 20 octets (order is checkable)."""
    return i.to_bytes(4, "little") + bytes((i + k) & 0xFF for k in range(PAYLOAD - 4))


def wwr_payload(size: int) -> bytes:
    """``size`` octets with no period shorter than the whole (a shifted or dropped write
    shows up): SHA-256 in counter mode."""
    out = bytearray()
    block = 0
    while len(out) < size:
        out += hashlib.sha256(block.to_bytes(8, "little")).digest()
        block += 1
    return bytes(out[:size])


def _chunks(data: bytes) -> list[bytes]:
    return [data[i:i + PAYLOAD] for i in range(0, len(data), PAYLOAD)]


def verify(side: str, reads: list[bytes], expected_reads: int, notes: list[bytes], expected_notes: int,
           written: bytes, payload: bytes) -> None:
    """Raise :class:`BenchIncomplete` unless every read returned :data:`READ_VALUE`, the
    notifications are exactly ``notification_value(0..expected_notes-1)`` in order, and
    ``written`` is ``payload``."""
    if len(reads) != expected_reads or any(v != READ_VALUE for v in reads):
        bad = sum(1 for v in reads if v != READ_VALUE)
        raise BenchIncomplete(f"{side}: {len(reads)}/{expected_reads} reads, {bad} with a wrong value")
    if notes != [notification_value(i) for i in range(expected_notes)]:
        raise BenchIncomplete(f"{side}: {len(notes)}/{expected_notes} notifications, or out of order")
    if written != payload:
        raise BenchIncomplete(f"{side}: {len(written)}/{len(payload)} octets written, or not in order")


# ------------------------------------------------------------------------------------- blesim


def _wait_or_fail(device: Any, condition: Callable[[], bool], progress: Callable[[], str]) -> None:
    from emu.device import DeviceTimeoutError

    try:
        device.wait_for(condition, SIM_BUDGET_MS)
    except DeviceTimeoutError:
        raise BenchIncomplete(f"{progress()} within {SIM_BUDGET_MS / 1000:g} s of simulated time") from None


def blesim_workloads(
    reads: int = READS, notifications: int = NOTIFICATIONS, wwr_bytes: int = WWR_BYTES, seed: int = 4,
) -> SideResult:
    """The three workloads between two blesim nodes over the simulated radio at 7.5 ms."""
    from emu.device import Characteristic, Device, Service
    from emu.world import make_world

    world = make_world(seed)
    server = Device.create(world, "bench-server", (0.0, 0.0))
    client = Device.create(world, "bench-client", (1.0, 0.0))
    received: list[bytes] = []
    got = 0

    def on_write(_conn: object, value: bytes) -> None:
        nonlocal got
        received.append(value)
        got += len(value)

    read_char = Characteristic(READ_UUID, read=True, value=READ_VALUE)
    notify_char = Characteristic(NOTIFY_UUID, notify=True, value=bytes(PAYLOAD))
    wwr_char = Characteristic(WWR_UUID, write_without_response=True, on_write=on_write)
    server.gatt.add_service(Service(SERVICE_UUID, [read_char, notify_char, wwr_char]))
    server.advertise(name="bench", interval_ms=20)
    conn = client.connect(client.find(name="bench", timeout_ms=2000), interval_ms=INTERVAL_MS)
    server.wait_for_connection(timeout_ms=1000)
    if conn.interval_ms != INTERVAL_MS:
        raise BenchIncomplete(f"blesim: connected at {conn.interval_ms} ms, not {INTERVAL_MS} ms")
    conn.discover()
    remote_read = conn.characteristic(READ_UUID)
    remote_notify = conn.characteristic(NOTIFY_UUID)
    remote_wwr = conn.characteristic(WWR_UUID)
    notes: list[bytes] = []
    conn.subscribe(remote_notify, notes.append)
    tx0 = world.transmissions

    # (a) reads
    values: list[bytes] = []
    sim0, t0 = world.kernel.now, time.perf_counter()
    for _ in range(reads):
        values.append(conn.read(remote_read))
    reads_result = WorkloadResult(reads, time.perf_counter() - t0, world.kernel.now - sim0)

    # (b) notifications
    sim0, t0 = world.kernel.now, time.perf_counter()
    for i in range(notifications):
        server.notify(notify_char, notification_value(i))
    _wait_or_fail(client, lambda: len(notes) >= notifications,
                  lambda: f"blesim: {len(notes)}/{notifications} notifications arrived")
    notify_result = WorkloadResult(notifications, time.perf_counter() - t0, world.kernel.now - sim0)

    # (c) writes without response
    payload = wwr_payload(wwr_bytes)
    chunks = _chunks(payload)
    sim0, t0 = world.kernel.now, time.perf_counter()
    for chunk in chunks:
        conn.write(remote_wwr, chunk, response=False)
    _wait_or_fail(server, lambda: got >= wwr_bytes, lambda: f"blesim: {got}/{wwr_bytes} octets arrived")
    wwr_result = WorkloadResult(len(chunks), time.perf_counter() - t0, world.kernel.now - sim0)

    verify("blesim", values, reads, notes, notifications, b"".join(received), payload)
    return SideResult(reads_result, notify_result, wwr_result, world.transmissions - tx0)


# ------------------------------------------------------------------------------------- Bumble


def bumble_workloads(reads: int = READS, notifications: int = NOTIFICATIONS, wwr_bytes: int = WWR_BYTES) -> SideResult:
    """The three workloads between two Bumble devices on Bumble's in-memory ``LocalLink``."""
    try:
        import bumble  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise BenchIncomplete("the gatt-vs-bumble bench needs Bumble: pip install 'blesim[bench]'") from exc
    return asyncio.run(_bumble_main(reads, notifications, wwr_bytes))


async def _bumble_main(reads: int, notifications: int, wwr_bytes: int) -> SideResult:
    from bumble.controller import Controller
    from bumble.core import UUID as BumbleUUID
    from bumble.device import Device as BumbleDevice
    from bumble.device import Peer
    from bumble.gatt import Characteristic, CharacteristicValue, Service
    from bumble.hci import Address
    from bumble.host import Host
    from bumble.link import LocalLink
    from bumble.transport.common import AsyncPipeSink

    link = LocalLink()  # type: ignore[no-untyped-call]  # Bumble leaves it unannotated
    devices = []
    for name, address in (("server", "F0:F1:F2:F3:F4:01"), ("client", "F0:F1:F2:F3:F4:02")):
        controller = Controller(name, link=link)
        host = Host(controller, AsyncPipeSink(controller))
        devices.append(BumbleDevice(name=name, address=Address(address), host=host))
    server, client = devices

    payload = wwr_payload(wwr_bytes)
    received: list[bytes] = []
    got = 0
    all_written = asyncio.Event()

    def on_write(_conn: Any, value: bytes) -> None:
        nonlocal got
        received.append(bytes(value))
        got += len(value)
        if got >= wwr_bytes:
            all_written.set()

    props = Characteristic.Properties
    read_char: Characteristic[bytes] = Characteristic(READ_UUID, props.READ, Characteristic.READABLE, READ_VALUE)
    notify_char: Characteristic[bytes] = Characteristic(NOTIFY_UUID, props.NOTIFY, Characteristic.READABLE, bytes(PAYLOAD))
    wwr_char: Characteristic[bytes] = Characteristic(WWR_UUID, props.WRITE_WITHOUT_RESPONSE, Characteristic.WRITEABLE,
                              CharacteristicValue(write=on_write))
    server.add_service(Service(SERVICE_UUID, [read_char, notify_char, wwr_char]))

    await server.power_on()
    await client.power_on()
    await server.start_advertising(auto_restart=False)
    connection = await asyncio.wait_for(client.connect(Address("F0:F1:F2:F3:F4:01")), 10)
    peer = Peer(connection)
    await peer.discover_services([BumbleUUID(SERVICE_UUID)])
    ours = [s for s in peer.services if s.uuid == BumbleUUID(SERVICE_UUID)]
    if not ours:
        raise BenchIncomplete("bumble: the benchmark service was not discovered")
    service = ours[0]
    await service.discover_characteristics()
    def remote(uuid: str) -> Any:
        found = [c for c in service.characteristics if c.uuid == BumbleUUID(uuid)]
        if not found:
            raise BenchIncomplete(f"bumble: characteristic {uuid} was not discovered")
        return found[0]

    remote_read, remote_notify, remote_wwr = remote(READ_UUID), remote(NOTIFY_UUID), remote(WWR_UUID)

    notes: list[bytes] = []
    all_notified = asyncio.Event()

    def on_value(value: bytes) -> None:
        notes.append(bytes(value))
        if len(notes) >= notifications:
            all_notified.set()

    await remote_notify.discover_descriptors()
    await remote_notify.subscribe(on_value)
    await asyncio.sleep(0)  # let the CCCD write settle on the server side

    # (a) reads
    values: list[bytes] = []
    t0 = time.perf_counter()
    for _ in range(reads):
        values.append(bytes(await remote_read.read_value()))
    reads_result = WorkloadResult(reads, time.perf_counter() - t0)

    # (b) notifications
    t0 = time.perf_counter()
    for i in range(notifications):
        await server.notify_subscribers(notify_char, notification_value(i))
    if notifications:
        await asyncio.wait_for(all_notified.wait(), BUMBLE_BUDGET_S)
    notify_result = WorkloadResult(notifications, time.perf_counter() - t0)

    # (c) writes without response
    chunks = _chunks(payload)
    t0 = time.perf_counter()
    for chunk in chunks:
        await remote_wwr.write_value(chunk, with_response=False)
    if wwr_bytes:
        await asyncio.wait_for(all_written.wait(), BUMBLE_BUDGET_S)
    wwr_result = WorkloadResult(len(chunks), time.perf_counter() - t0)

    verify("bumble", values, reads, notes, notifications, b"".join(received), payload)
    return SideResult(reads_result, notify_result, wwr_result)


# ------------------------------------------------------------------------------------- figures


def _ratio(ours: WorkloadResult, theirs: WorkloadResult) -> float:
    return round(ours.us_per_op / theirs.us_per_op, 2) if theirs.us_per_op > 0 else float("inf")


def figures(blesim: SideResult, bumble: SideResult) -> dict[str, Any]:
    """The case's named figures (see the module docstring)."""
    out: dict[str, Any] = {}
    ratios = []
    for key, ours, theirs in (
        ("reads", blesim.reads, bumble.reads),
        ("notify", blesim.notify, bumble.notify),
        ("wwr", blesim.wwr, bumble.wwr),
    ):
        ratio = _ratio(ours, theirs)
        ratios.append(ratio)
        out[f"{key}_us_blesim"] = round(ours.us_per_op, 1)
        out[f"{key}_us_bumble"] = round(theirs.us_per_op, 1)
        out[f"{key}_ratio"] = ratio
        out[f"{key}_sim_s"] = round(ours.sim_ns / 1e9, 3)
    out["ratio_vs_bumble"] = max(ratios)
    return out


def median_side(runs: list[SideResult]) -> SideResult:
    """Per workload, the run with the median wall time (runs of one side, same sizes)."""
    if not runs:
        raise ValueError("no runs")

    def pick(results: list[WorkloadResult]) -> WorkloadResult:
        return sorted(results, key=lambda r: r.wall_s)[(len(results) - 1) // 2]

    return SideResult(
        pick([r.reads for r in runs]), pick([r.notify for r in runs]), pick([r.wwr for r in runs]),
        runs[0].packets,
    )


def gatt_vs_bumble(
    reads: int = READS, notifications: int = NOTIFICATIONS, wwr_bytes: int = WWR_BYTES, repeat: int = REPEAT,
) -> CaseResult:
    """Both sides ``repeat`` times, alternately, then the figures of the median runs.

    ``sim_ns`` and ``packets`` add up every blesim run (each run simulates the same
    time and packets: the world is deterministic, and that is checked), so the harness's
    ``speed_x`` and ``packets_per_wall_s`` compare them with the wall time of the case."""
    ours: list[SideResult] = []
    theirs: list[SideResult] = []
    for _ in range(repeat):
        ours.append(blesim_workloads(reads, notifications, wwr_bytes))
        theirs.append(bumble_workloads(reads, notifications, wwr_bytes))
    sims = {(r.reads.sim_ns, r.notify.sim_ns, r.wwr.sim_ns, r.packets) for r in ours}
    if len(sims) != 1:
        raise BenchIncomplete(f"blesim: repeated runs of one seed took different simulated times: {sims}")
    blesim, bumble = median_side(ours), median_side(theirs)
    out = figures(blesim, bumble)
    out["repeat"] = repeat
    return CaseResult(
        sim_ns=repeat * (blesim.reads.sim_ns + blesim.notify.sim_ns + blesim.wwr.sim_ns),
        packets=repeat * blesim.packets,
        figures=out,
    )


@case("gatt-vs-bumble")
def gatt_vs_bumble_case() -> CaseResult:
    import importlib.util

    from .bench import CaseUnavailable

    if importlib.util.find_spec("bumble") is None:
        raise CaseUnavailable("needs Bumble: pip install 'blesim[bench]'")
    return gatt_vs_bumble()
