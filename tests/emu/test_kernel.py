"""The simulation kernel: integer nanoseconds, deterministic order, independent seed streams."""

from __future__ import annotations

import pytest

from emu import hci_script as hs
from emu.kernel import Kernel, SeedTree
from emu.world import add_controller_node, make_world
from phy import units
from phy.units import MS, S

from tests.linklayer.worlds import AirLog


def test_unit_helpers_are_exact_integers() -> None:
    assert units.slots_625us(1) == 625_000 and isinstance(units.slots_625us(3), int)
    assert units.units_1250us(6) == 7_500_000
    assert units.units_10ms(3) == 30_000_000
    assert units.us(150) == 150_000 and units.ms(1.5) == 1_500_000 and units.seconds(2) == 2 * S
    assert units.T_IFS == 150_000


def test_callbacks_run_at_their_instant_in_scheduling_order() -> None:
    k = Kernel()
    log: list[tuple[int, str]] = []
    k.call_at(5, lambda: log.append((k.now, "a")))
    k.call_at(3, lambda: log.append((k.now, "b")))
    k.call_at(5, lambda: log.append((k.now, "c")))
    t = k.call_at(4, lambda: log.append((k.now, "cancelled")))
    t.cancel()
    k.call_later(0, lambda: log.append((k.now, "now")))
    k.run(10)
    assert log == [(0, "now"), (3, "b"), (5, "a"), (5, "c")]
    assert k.now == 10 and isinstance(k.now, int)
    with pytest.raises(ValueError):
        k.call_at(9, lambda: None)


def test_uncancellable_callbacks_with_arguments_interleave_with_timers_and_simpy() -> None:
    """``schedule`` shares one ordering with ``call_at`` and simpy's own events; an
    instant equal to ``run``'s end is left for the next run."""
    k = Kernel()
    log: list[tuple[int, object]] = []

    def note(*what: object) -> None:
        log.append((k.now, what))

    k.schedule(7, note, "x", 1)
    k.call_at(7, lambda: note("timer"))
    k.schedule(7, note)
    k.schedule(2, note, "early")
    k.env.process(_simpy_process(k, log))
    k.run(7)
    assert log == [(2, ("early",)), (3, "simpy")]
    k.run(8)
    assert log[2:] == [(7, ("x", 1)), (7, ("timer",)), (7, ())]
    with pytest.raises(ValueError):
        k.schedule(5, note)


def _simpy_process(k: Kernel, log: list[tuple[int, object]]):  # type: ignore[no-untyped-def]
    yield k.env.timeout(3)
    log.append((k.now, "simpy"))


def test_seed_tree_streams_are_independent_and_reproducible() -> None:
    a, b = SeedTree(7), SeedTree(7)
    assert a.stream("node/x").random() == b.stream("node/x").random()
    assert a.stream("node/x").random() != a.stream("node/y").random()
    assert SeedTree(8).stream("node/x").random() != a.stream("node/x").random()
    assert a.child("node").derive("x") == SeedTree(a.derive("node")).derive("x")


def _adv_starts(extra_nodes: int) -> list[int]:
    world = make_world(seed=3)
    air = AirLog()
    world.air_taps.append(air)
    for i in range(extra_nodes):  # unrelated nodes, added before and far away
        other = add_controller_node(world, f"other-{i}", (1000.0 + i, 0.0))
        hs.power_on(other)
        hs.advertise_legacy(other, advertising_type=3, data=b"")
    adv = add_controller_node(world, "adv", (0.0, 0.0))
    hs.power_on(adv)
    hs.advertise_legacy(adv, advertising_type=3, interval_slots=32, data=b"")
    world.run(500 * MS)
    return [tx.start_ns for tx in air.by(world, "adv")]


def test_adding_a_node_does_not_change_another_nodes_stream() -> None:
    assert _adv_starts(0) == _adv_starts(3)
