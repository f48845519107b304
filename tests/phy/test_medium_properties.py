"""Property test: random windows and packets never raise, and a packet is only ever
delivered to a listener whose window (as the test opened it) contained the packet start."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, event, given, settings, strategies as st

from phy.channel import LogDistanceModel
from phy.interference import Interferer
from phy.medium import Medium, Transmission
from phy.types import Phy
from phy.units import US
from tests.phy.rig import CRC, Rig

AAS = (0x8E89BED6, 0x8E89BED6, 0x50654321)
FAMILY = {Phy.LE_1M: 1, Phy.LE_2M: 2, Phy.LE_CODED_S2: 3, Phy.LE_CODED_S8: 3}
N_RADIOS = 4
PHYS = [Phy.LE_1M, Phy.LE_1M, Phy.LE_1M, Phy.LE_2M, Phy.LE_CODED_S2, Phy.LE_CODED_S8]

listen_op = st.tuples(st.just("listen"), st.integers(0, N_RADIOS - 1), st.integers(0, 2).map(lambda k: k * 50),
                      st.integers(0, 10).map(lambda k: k * 100), st.sampled_from([37, 37, 38]), st.sampled_from(PHYS),
                      st.sampled_from(AAS))
tx_op = st.tuples(st.just("tx"), st.integers(0, N_RADIOS - 1), st.sampled_from([37, 37, 38]),
                  st.sampled_from(PHYS), st.sampled_from(AAS), st.integers(2, 40),
                  st.floats(-30.0, 10.0), st.one_of(st.none(), st.integers(0, N_RADIOS - 1)))
close_op = st.tuples(st.just("close"), st.integers(0, N_RADIOS - 1))
enable_op = st.tuples(st.just("enable"), st.integers(0, N_RADIOS - 1), st.booleans())
ops = st.lists(st.tuples(st.integers(0, 20).map(lambda k: k * 50),
                         st.one_of(listen_op, listen_op, listen_op, tx_op, tx_op, close_op, enable_op)),
               min_size=5, max_size=40)


def check_schedule(schedule: list[tuple[int, tuple[object, ...]]], seed: int,
                   link_loss: float, interferer: bool) -> tuple[int, int, int]:
    """Run ``schedule`` and check the invariants; return (synced, delivered, collisions)."""
    medium = Medium(LogDistanceModel(path_loss_exponent=3.0, shadowing_sigma_db=4.0), seed=seed)
    for rid in range(N_RADIOS):
        medium.add_radio(rid, (float(rid * 7), 0.0), rng=random.Random(seed + rid))
    medium.set_link_loss(0, 1, link_loss)
    if interferer:
        medium.add_interferer(Interferer("w", (5.0, 5.0), -20.0, channels=frozenset({0}),
                                         period_ns=400 * US, duty_cycle=0.5))
    rig = Rig(medium)
    model: dict[int, tuple[int, int, int, Phy, int] | None] = {r: None for r in range(N_RADIOS)}
    enabled = {r: True for r in range(N_RADIOS)}
    synced_pairs: set[tuple[int, int]] = set()

    def end(now: int, tx: Transmission) -> None:
        for d in medium.end_transmission(now, tx):
            assert (d.radio_id, tx.seq) in synced_pairs
            assert d.tx is tx and len(d.pdu) == len(tx.pdu) and len(d.crc) == 3
            rig.deliveries.append(d)

    def apply(now: int, op: tuple[object, ...]) -> None:
        kind = op[0]
        if kind == "listen":
            _, r, off, length, ch, phy, aa = op
            assert isinstance(r, int) and isinstance(off, int) and isinstance(length, int)
            start = now + off * US
            medium.open_window(r, start, start + length * US, ch, phy, aa)  # type: ignore[arg-type]
            model[r] = (start, start + length * US, ch, phy, aa)  # type: ignore[assignment]
        elif kind == "tx":
            _, r, ch, phy, aa, n, power, copy = op
            assert isinstance(r, int) and isinstance(n, int)
            if isinstance(copy, int) and model[copy] is not None:  # aim at that radio's window
                _, _, ch, wphy, aa = model[copy]  # type: ignore[misc]
                phy = {Phy.LE_CODED_S2: Phy.LE_CODED_S8, Phy.LE_CODED_S8: Phy.LE_CODED_S2}.get(wphy, wphy) \
                    if n % 2 else wphy
            tx, synced = medium.start_transmission(now, r, ch, phy, aa, bytes(n), CRC, power)  # type: ignore[arg-type]
            if enabled[r]:
                w = model[r]
                if w is not None and w[0] <= now:  # an open window closes; an armed one stays
                    model[r] = None
            else:
                assert synced == []
            assert synced == sorted(synced) and r not in synced
            for lr in synced:
                w = model[lr]
                assert w is not None, "synced without an open window"
                start, stop, wch, wphy, waa = w
                assert start <= tx.start_ns <= stop
                assert (wch, waa, FAMILY[wphy]) == (tx.channel, tx.access_address, FAMILY[tx.phy])
                assert enabled[lr]
                model[lr] = None
                synced_pairs.add((lr, tx.seq))
            rig.at(tx.end_ns, 0, lambda t: end(t, tx))
        elif kind == "close":
            medium.close_window(op[1])  # type: ignore[arg-type]
            model[op[1]] = None  # type: ignore[index]
        else:
            medium.set_enabled(op[1], op[2])  # type: ignore[arg-type]
            enabled[op[1]] = bool(op[2])  # type: ignore[index]

    for t_us, op in schedule:
        rig.at(t_us * US, 1, lambda now, op=op: apply(now, op))  # type: ignore[misc]
    rig.run()
    s = medium.stats
    assert s.deliveries == len(rig.deliveries)
    assert s.deliveries + s.lost_collision + s.aborted == len(synced_pairs)
    for ch in (37, 38):
        assert all(t.end_ns <= medium.now_ns for t in medium.transmissions_on(ch))
    return len(synced_pairs), s.deliveries, s.lost_collision


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops, st.integers(0, 2**32), st.floats(0.0, 1.0), st.booleans())
def test_random_schedules(schedule: list[tuple[int, tuple[object, ...]]], seed: int,
                          link_loss: float, interferer: bool) -> None:
    synced, delivered, collisions = check_schedule(schedule, seed, link_loss, interferer)
    event(f"synced: {bool(synced)}, delivered: {bool(delivered)}, collisions: {bool(collisions)}")


def test_dense_random_schedules() -> None:
    """Seeded fuzzing with busy schedules, where syncs and collisions are common."""
    totals = [0, 0, 0]
    for i in range(150):
        r = random.Random(i)
        schedule: list[tuple[int, tuple[object, ...]]] = []
        for _ in range(60):
            t = r.randrange(0, 3000)
            radio = r.randrange(N_RADIOS)
            kind = r.choices(["listen", "tx", "close", "enable"], [6, 5, 1, 1])[0]
            if kind == "listen":
                op: tuple[object, ...] = ("listen", radio, r.randrange(0, 100), r.randrange(0, 1500),
                                          r.choice([37, 38]), r.choice(PHYS), r.choice(AAS))
            elif kind == "tx":
                op = ("tx", radio, r.choice([37, 38]), r.choice(PHYS), r.choice(AAS), r.randrange(2, 40),
                      r.uniform(-30.0, 10.0), r.choice([None, r.randrange(N_RADIOS)]))
            elif kind == "close":
                op = ("close", radio)
            else:
                op = ("enable", radio, r.random() < 0.7)
            schedule.append((t, op))
        for k, v in enumerate(check_schedule(schedule, i, r.random(), r.random() < 0.5)):
            totals[k] += v
    synced, delivered, collisions = totals
    assert synced > 200 and delivered > 20 and collisions > 50, totals  # (284, 33, 117) when written
