"""The sans-IO medium: sync rules, collisions, capture, bit errors, link loss, interferers."""

import random

import pytest

from phy.airtime import bit_duration_ns, payload_start_ns
from phy.channel import FixedModel, LogDistanceModel
from phy.errors import RadioProfile
from phy.interference import Interferer
from phy.medium import Medium, MediumError
from phy.types import Phy
from phy.units import MS, US
from tests.phy.rig import ADV_AA, CRC, Rig, make_medium

OTHER_AA = 0x12345678
PDU = b"\x00\x06\xaa\xbb\xcc\xdd\xee\xff"


def one_packet(medium: Medium, *, start: int = 100 * US, window: tuple[int, int] = (0, MS),
               tx_kw: dict[str, object] | None = None, rx_kw: dict[str, object] | None = None,
               sender: int = 0, listener: int = 1) -> Rig:
    rig = Rig(medium)
    rig.listen(0, listener, *window, **(rx_kw or {}))  # type: ignore[arg-type]
    rig.transmit(start, sender, **(tx_kw or {}))  # type: ignore[arg-type]
    rig.run()
    return rig


# ----------------------------------------------------------------------- delivery
def test_clean_delivery() -> None:
    m = make_medium(2)
    rig = one_packet(m, tx_kw={"pdu": PDU})
    tx = rig.txs[0]
    assert rig.synced[tx.seq] == [1]
    assert tx.end_ns == 100 * US + 128 * US  # (1+4+8+3)*8 µs
    [d] = rig.deliveries
    assert (d.radio_id, d.pdu, d.crc, d.bit_errors, d.rssi_dbm) == (1, PDU, CRC, 0, -60.0)
    assert d.sinr_db == pytest.approx(40.0)
    assert m.stats.deliveries == 1 and m.stats.transmissions == 1
    assert m.window(1) is None  # consumed
    assert m.transmissions_on(37) == []  # pruned


@pytest.mark.parametrize("start,expected", [
    (1000 * US - 1, False), (1000 * US, True), (1500 * US, True), (2000 * US, True), (2000 * US + 1, False)])
def test_window_edges_inclusive(start: int, expected: bool) -> None:
    rig = one_packet(make_medium(2), start=start, window=(1000 * US, 2000 * US))
    assert bool(rig.deliveries) is expected


@pytest.mark.parametrize("tx_kw,rx_kw", [
    ({"aa": OTHER_AA}, {}),
    ({"channel": 38}, {}),
    ({"phy": Phy.LE_2M}, {}),
    ({"phy": Phy.LE_CODED_S8}, {}),
    ({}, {"phy": Phy.LE_CODED_S2}),
])
def test_mismatch_does_not_sync(tx_kw: dict[str, object], rx_kw: dict[str, object]) -> None:
    m = make_medium(2)
    rig = one_packet(m, tx_kw=tx_kw, rx_kw=rx_kw)
    assert rig.deliveries == [] and rig.synced[rig.txs[0].seq] == []
    assert m.window(1) is not None  # not consumed


@pytest.mark.parametrize("tx_phy", [Phy.LE_CODED_S2, Phy.LE_CODED_S8])
@pytest.mark.parametrize("rx_phy", [Phy.LE_CODED_S2, Phy.LE_CODED_S8])
def test_coded_listener_accepts_either_coding(tx_phy: Phy, rx_phy: Phy) -> None:
    rig = one_packet(make_medium(2), tx_kw={"phy": tx_phy}, rx_kw={"phy": rx_phy}, window=(0, 10 * MS))
    [d] = rig.deliveries
    assert d.tx.phy is tx_phy and d.bit_errors == 0


def test_own_transmission_not_heard() -> None:
    m = make_medium(2)
    rig = Rig(m)
    rig.listen(0, 0, 0, MS)
    rig.listen(0, 1, 0, MS)
    rig.transmit(10 * US, 0)
    rig.run()
    assert rig.synced[0] == [1]
    assert m.window(0) is None  # the sender's window was closed by its transmission


def test_window_armed_for_after_a_transmission_survives_it() -> None:
    # A radio may arm its receiver for T_IFS after its own packet (an advertiser waiting
    # for a SCAN_REQ): the window opens later than the transmission starts, so it stays.
    m = make_medium(2)
    rig = Rig(m)
    rig.listen(0, 0, 300 * US, 400 * US)  # armed: opens after the packet below ends
    rig.transmit(10 * US, 0)
    rig.transmit(350 * US, 1)
    rig.run()
    assert rig.synced[1] == [0]


def test_already_synced_listener_ignores_second_packet() -> None:
    m = make_medium(3)
    rig = Rig(m)
    rig.listen(0, 2, 0, MS)
    rig.transmit(10 * US, 0, pdu=PDU)
    rig.listen(20 * US, 2, 0, MS)  # reopened while receiving
    rig.transmit(30 * US, 1, power=-100.0)  # far too weak to disturb; later start
    rig.run()
    assert rig.synced == {0: [2], 1: []}
    assert [d.tx.seq for d in rig.deliveries] == [0]


def test_listener_busy_transmitting_cannot_sync() -> None:
    m = make_medium(3)
    rig = Rig(m)
    rig.transmit(0, 2, channel=38, pdu=b"\x00\x00")  # 80 µs on another channel
    rig.listen(1 * US, 2, 0, MS)
    rig.transmit(40 * US, 0)  # starts while 2 is still transmitting
    rig.transmit(80 * US, 1, aa=ADV_AA)  # starts exactly when 2 is done
    rig.run()
    assert rig.synced[1] == [] and rig.synced[2] == [2]


@pytest.mark.parametrize("loss,heard", [(97.0, True), (97.01, False)])
def test_sensitivity(loss: float, heard: bool) -> None:
    m = make_medium(2, loss_db=loss)
    rig = one_packet(m)
    assert bool(rig.synced[0]) is heard
    assert m.stats.lost_weak == (0 if heard else 1)


def test_sensitivity_from_profile_and_rx_gain() -> None:
    m = make_medium(2, loss_db=95.0, profile=RadioProfile(sensitivity_dbm={Phy.LE_1M: -90.0}))
    assert one_packet(m).synced[0] == []
    m2 = Medium(FixedModel(95.0), profile=RadioProfile(sensitivity_dbm={Phy.LE_1M: -90.0}))
    m2.add_radio(0, (0, 0), rng=random.Random(0))
    m2.add_radio(1, (1, 0), rng=random.Random(1), rx_gain_db=5.0)
    assert one_packet(m2).synced[0] == [1]


def test_disabled_listener_and_sender() -> None:
    m = make_medium(2)
    m.set_enabled(1, False)
    assert one_packet(m).synced[0] == []
    m.set_enabled(1, True)
    m.set_enabled(0, False)
    m2_rig = one_packet(m, start=2 * MS, window=(2 * MS, 3 * MS))
    assert m2_rig.synced[m2_rig.txs[0].seq] == [] and m.stats.transmissions == 1


def test_disabled_sender_is_not_on_air() -> None:
    m = make_medium(4)
    m.set_enabled(2, False)
    rig = Rig(m)
    rig.listen(0, 1, 0, MS)
    rig.transmit(10 * US, 0)
    rig.transmit(20 * US, 2, aa=OTHER_AA, power=20.0)  # would kill radio 0's packet if on air
    rig.run()
    assert [d.radio_id for d in rig.deliveries] == [1]


def test_disabling_during_reception_aborts() -> None:
    m = make_medium(2)
    rig = Rig(m)
    rig.listen(0, 1, 0, MS)
    rig.transmit(10 * US, 0)
    rig.at(30 * US, 1, lambda now: m.set_enabled(1, False))
    rig.run()
    assert rig.synced[0] == [1] and rig.deliveries == [] and m.stats.aborted == 1


# ---------------------------------------------------------------------- collisions
def two_pairs(power_a: float, power_b: float, start_b: int) -> tuple[Rig, Medium]:
    """0 -> 2 on ADV_AA and 1 -> 3 on OTHER_AA, same channel, fixed 60 dB everywhere."""
    m = make_medium(4)
    rig = Rig(m)
    rig.listen(0, 2, 0, 10 * MS)
    rig.listen(0, 3, 0, 10 * MS, aa=OTHER_AA)
    rig.transmit(100 * US, 0, power=power_a, pdu=bytes(40))
    rig.transmit(start_b, 1, power=power_b, aa=OTHER_AA, pdu=bytes(40))
    rig.run()
    return rig, m


def test_equal_power_overlap_both_lost() -> None:
    rig, m = two_pairs(0.0, 0.0, 150 * US)
    assert rig.synced == {0: [2], 1: [3]}
    assert rig.deliveries == []
    assert m.stats.lost_collision == 2


def test_thirty_db_stronger_survives() -> None:
    rig, m = two_pairs(0.0, -30.0, 150 * US)
    assert [(d.radio_id, d.bit_errors) for d in rig.deliveries] == [(2, 0)]
    # S = -60 dBm against N + I = -100 dBm + -90 dBm
    assert rig.deliveries[0].sinr_db == pytest.approx(29.586, abs=0.001)
    assert m.stats.lost_collision == 1


def test_late_stronger_interferer_kills() -> None:
    rig, _ = two_pairs(0.0, 30.0, 350 * US)  # starts near the end of packet 0
    assert [d.radio_id for d in rig.deliveries] == [3]


def test_touching_packets_do_not_collide() -> None:
    # Packet 0 lasts (1+4+40+3)*8 = 384 µs: 100..484 µs. Packet 1 starts at 484 µs.
    rig, m = two_pairs(0.0, 0.0, 484 * US)
    assert sorted(d.radio_id for d in rig.deliveries) == [2, 3]
    assert m.stats.lost_collision == 0


def test_other_phy_on_same_channel_interferes() -> None:
    m = make_medium(3)
    rig = Rig(m)
    rig.listen(0, 2, 0, MS)
    rig.transmit(100 * US, 0)
    rig.transmit(120 * US, 1, phy=Phy.LE_CODED_S8)
    rig.run()
    assert rig.deliveries == []


def test_weak_interferer_only_in_its_piece() -> None:
    """With capture disabled, a strong overlap flips bits only where it overlaps."""
    m = make_medium(3, profile=RadioProfile(capture_threshold_db={Phy.LE_1M: -200.0}))
    rig = Rig(m)
    rig.listen(0, 2, 0, MS)
    rig.transmit(0, 0, pdu=bytes(100))  # 0 .. 864 µs
    rig.transmit(300 * US, 1, power=10.0, aa=OTHER_AA, pdu=b"\x00\x00")  # 300 .. 380 µs, +10 dB
    rig.run()
    [d] = rig.deliveries
    got = int.from_bytes(d.pdu + d.crc, "little") ^ int.from_bytes(bytes(100) + CRC, "little")
    positions = [i for i in range(103 * 8) if got >> i & 1]
    assert len(positions) == d.bit_errors > 10
    p0, bit = payload_start_ns(Phy.LE_1M), bit_duration_ns(Phy.LE_1M)
    assert all(300 * US <= p0 + i * bit < 380 * US for i in positions)
    assert d.sinr_db == pytest.approx(-10.0, abs=0.01)


def test_interference_below_noise_floor_does_not_capture() -> None:
    # Interferer arrives at -101 dBm (< -100 noise): C/I 20 dB < 21, but no capture loss.
    m = make_medium(3)
    rig = Rig(m)
    rig.listen(0, 2, 0, MS)
    rig.transmit(0, 0, power=-21.0)  # -81 dBm at 2
    rig.transmit(10 * US, 1, power=-41.0, aa=OTHER_AA)  # -101 dBm at 2
    rig.run()
    assert [d.radio_id for d in rig.deliveries] == [2]


# --------------------------------------------------------------------- bit errors
def per_at(loss: float, n: int = 400) -> float:
    m = make_medium(2, loss_db=loss, seed=3)
    rig = Rig(m)
    pdu = b"\x02\x25" + bytes(37)  # 37-octet payload as in the spec's sensitivity test
    for k in range(n):
        t = k * MS
        rig.listen(t, 1, t, t + 10 * US)
        rig.transmit(t + 5 * US, 0, pdu=pdu)
    rig.run()
    assert len(rig.deliveries) == n
    return sum(d.bit_errors > 0 for d in rig.deliveries) / n


def test_per_rises_towards_sensitivity() -> None:
    losses = [88.0, 94.0, 95.0, 96.0, 97.0]  # RSSI -88 .. -97 dBm, sensitivity -97
    pers = [per_at(x) for x in losses]
    assert pers[0] == 0.0
    assert all(a < b for a, b in zip(pers[1:], pers[2:]))
    assert 0.15 < pers[-1] < 0.45  # spec's sensitivity test: PER 30.8 % at BER 0.1 %


# ---------------------------------------------------------------------- link loss
def link_loss_fraction(p: float | None, n: int = 1000, *, a: int = 0, b: int = 1) -> tuple[int, int]:
    m = make_medium(2, seed=11)
    m.set_link_loss(0, 1, 0.3)
    m.set_link_loss(0, 1, p)
    rig = Rig(m)
    for k in range(n):
        t = k * MS
        rig.listen(t, b, t, t + 10 * US)
        rig.transmit(t + 5 * US, a)
    rig.run()
    return len(rig.deliveries), m.stats.lost_link


def test_link_loss_always() -> None:
    assert link_loss_fraction(1.0) == (0, 1000)


def test_link_loss_half() -> None:
    delivered, lost = link_loss_fraction(0.5)
    assert delivered + lost == 1000
    assert 450 <= delivered <= 550


def test_link_loss_is_directional_and_clearable() -> None:
    assert link_loss_fraction(1.0, a=1, b=0) == (1000, 0)
    assert link_loss_fraction(None) == (1000, 0)
    assert link_loss_fraction(0.0) == (1000, 0)
    with pytest.raises(MediumError):
        make_medium(2).set_link_loss(0, 1, 1.5)


# -------------------------------------------------------------------- interferers
def with_interferer(itf: Interferer, start: int) -> Rig:
    m = make_medium(2)
    m.add_interferer(itf)
    return one_packet(m, start=start, window=(0, 10 * MS))


def test_continuous_interferer_on_its_channel_kills() -> None:
    itf = Interferer("oven", (0.0, 0.0), 0.0, channels=frozenset({0}))  # RF 0 = index 37
    assert with_interferer(itf, 100 * US).deliveries == []
    other = Interferer("oven", (0.0, 0.0), 0.0, channels=frozenset({12}))
    assert len(with_interferer(other, 100 * US).deliveries) == 1


def test_interferer_switching() -> None:
    m = make_medium(2)
    m.add_interferer(Interferer("jam", (0.0, 0.0), 0.0))
    rig = one_packet(m)
    assert rig.deliveries == [] and m.stats.lost_collision == 1
    m.set_interferer_enabled("jam", False)
    rig = one_packet(m, start=2 * MS, window=(2 * MS, 3 * MS))
    assert len(rig.deliveries) == 1
    with pytest.raises(MediumError):
        m.set_interferer_enabled("nope", True)


def test_periodic_interferer_windows_matter() -> None:
    # On for 200 µs every 1 ms, from 0: packet (80 µs) at 500 µs is clear, at 150 µs is hit.
    itf = Interferer("wifi", (0.0, 0.0), 0.0, period_ns=MS, duty_cycle=0.2)
    assert len(with_interferer(itf, 500 * US).deliveries) == 1
    assert with_interferer(itf, 150 * US).deliveries == []
    assert with_interferer(itf, 1150 * US).deliveries == []
    assert len(with_interferer(itf, 1200 * US).deliveries) == 1  # off edge exclusive


def test_far_interferer_harmless() -> None:
    m = Medium(LogDistanceModel())
    m.add_radio(0, (0, 0), rng=random.Random(0))
    m.add_radio(1, (1, 0), rng=random.Random(1))
    m.add_interferer(Interferer("far", (10_000.0, 0.0), 0.0))  # -120 dBm at radio 1
    assert len(one_packet(m).deliveries) == 1


# ------------------------------------------------------------------ geometry, rng
def test_move_changes_rssi() -> None:
    m = Medium(LogDistanceModel())
    m.add_radio(0, (0, 0), rng=random.Random(0))
    m.add_radio(1, (1, 0), rng=random.Random(1))
    assert one_packet(m).deliveries[0].rssi_dbm == pytest.approx(-40.05)
    m.move(1, (0, 10, 0))
    assert m.path_loss_db(0, 1) == pytest.approx(60.05)
    rig = one_packet(m, start=2 * MS, window=(2 * MS, 3 * MS))
    assert rig.deliveries[0].rssi_dbm == pytest.approx(-60.05)
    m.move(0, (0, 1000))  # 990 m: -100 dBm, below sensitivity
    assert one_packet(m, start=4 * MS, window=(4 * MS, 5 * MS)).deliveries == []


def test_shadowing_per_pair_symmetric_and_seeded() -> None:
    def medium(seed: int) -> Medium:
        m = Medium(LogDistanceModel(shadowing_sigma_db=6.0), seed=seed)
        for i in range(4):
            m.add_radio(i, (float(i), 0.0), rng=random.Random(i))
        return m
    a, b, c = medium(5), medium(5), medium(6)
    pairs = [(0, 1), (0, 2), (1, 3), (2, 3)]
    assert [a.path_loss_db(x, y) for x, y in pairs] == [b.path_loss_db(y, x) for x, y in pairs]
    assert [a.path_loss_db(x, y) for x, y in pairs] != [c.path_loss_db(x, y) for x, y in pairs]
    assert len({round(a.path_loss_db(x, y) - LogDistanceModel().path_loss_db(abs(x - y), 0), 9)
                for x, y in pairs}) == 4  # each link has its own offset


def test_rssi_at_sniffer() -> None:
    m = Medium(LogDistanceModel())
    m.add_radio(0, (3, 4), rng=random.Random(0))
    tx, _ = m.start_transmission(0, 0, 37, Phy.LE_1M, ADV_AA, b"\x00\x00", CRC, 4.0)
    assert tx.position == (3.0, 4.0, 0.0)
    assert m.rssi_at(tx, (3.0, 14.0)) == pytest.approx(4.0 - 60.05)


def busy_world(seed: int) -> list[tuple[int, int, bytes, int]]:
    m = make_medium(6, loss_db=94.0, seed=seed)
    m.add_interferer(Interferer("wifi", (0.0, 0.0), -40.0, period_ns=700 * US, duty_cycle=0.3))
    m.set_link_loss(0, 5, 0.2)
    rig = Rig(m)
    r = random.Random(99)  # the schedule is fixed; only the medium seed varies
    for k in range(300):
        t = k * 200 * US
        rig.listen(t, 4 + k % 2, t, t + 150 * US, channel=37 + k % 2)
        rig.transmit(t + r.randrange(0, 160) * US, r.randrange(0, 4), channel=37 + r.randrange(0, 2),
                     pdu=bytes(r.randrange(2, 40)), power=r.choice([-3.0, 0.0]))
    rig.run()
    return [(d.tx.seq, d.radio_id, d.pdu, d.bit_errors) for d in rig.deliveries]


def test_determinism() -> None:
    first = busy_world(1)
    assert first == busy_world(1)
    assert any(e for *_, e in first)  # the scenario does exercise bit errors
    assert first != busy_world(2)


# -------------------------------------------------------------------------- misuse
def test_misuse_raises_medium_error() -> None:
    m = make_medium(2)
    with pytest.raises(MediumError):
        m.add_radio(0, (0, 0), rng=random.Random())
    with pytest.raises(MediumError):
        m.open_window(7, 0, 1, 37, Phy.LE_1M, ADV_AA)
    with pytest.raises(MediumError):
        m.open_window(0, 10, 5, 37, Phy.LE_1M, ADV_AA)
    with pytest.raises(MediumError):
        m.open_window(0, 0, 5, 40, Phy.LE_1M, ADV_AA)
    with pytest.raises(MediumError):
        m.start_transmission(0, 0, 37, Phy.LE_1M, ADV_AA, b"\x00\x00", b"\x00", 0.0)
    tx, _ = m.start_transmission(100, 0, 37, Phy.LE_1M, ADV_AA, b"\x00\x00", CRC, 0.0)
    with pytest.raises(MediumError):
        m.start_transmission(50, 1, 37, Phy.LE_1M, ADV_AA, b"\x00\x00", CRC, 0.0)
    with pytest.raises(MediumError):
        m.end_transmission(tx.end_ns - 1, tx)
    assert issubclass(MediumError, ValueError)


def test_pruning_keeps_only_what_can_overlap() -> None:
    m = make_medium(3)
    long_tx, _ = m.start_transmission(0, 0, 37, Phy.LE_CODED_S8, ADV_AA, bytes(40), CRC, 0.0)
    short = []
    for k in range(5):
        t = (100 + 200 * k) * US
        tx, _ = m.start_transmission(t, 1, 37, Phy.LE_1M, ADV_AA, b"\x00\x00", CRC, 0.0)
        m.end_transmission(tx.end_ns, tx)
        short.append(tx)
    assert len(m.transmissions_on(37)) == 6  # all overlap the S8 packet still in flight
    m.end_transmission(long_tx.end_ns, long_tx)
    assert m.transmissions_on(37) == []


def test_numpy_interference_sweep_equals_the_plain_loop() -> None:
    from phy.medium import NUMPY_SOURCES, _pieces_numpy, _pieces_python, interference_pieces

    rng = random.Random(9)
    for _ in range(300):
        t0, t1 = 0, rng.randrange(100, 5000)
        sources = []
        for _ in range(rng.randrange(1, 40)):
            a = rng.randrange(t0, t1)
            b = rng.randrange(a + 1, t1 + 1)
            sources.append((a, b, 10 ** rng.uniform(-12, -6)))
        slow = _pieces_python(t0, t1, sources)
        fast = _pieces_numpy(t0, t1, sources)
        assert [(a, b) for a, b, _ in slow] == [(a, b) for a, b, _ in fast]
        for (_, _, x), (_, _, y) in zip(slow, fast):
            assert y == pytest.approx(x, rel=1e-9, abs=1e-21)
        chosen = interference_pieces(t0, t1, sources)
        assert chosen == (fast if len(sources) >= NUMPY_SOURCES else slow)



def test_persistent_window_stays_open_after_a_packet() -> None:
    m = make_medium(3)
    rig = Rig(m)
    rig.listen(0, 2, 0, MS, persistent=True)
    rig.transmit(10 * US, 0, pdu=PDU)
    rig.transmit(15 * US, 1, power=-100.0)  # while receiving: the radio is locked on packet 0
    rig.transmit(300 * US, 1, pdu=PDU)  # after packet 0 ended: heard in the same window
    rig.run()
    assert rig.synced == {0: [2], 1: [], 2: [2]}
    assert m.window(2) is not None  # still open until its end
    ordinary = make_medium(3)
    rig2 = Rig(ordinary)
    rig2.listen(0, 2, 0, MS)
    rig2.transmit(10 * US, 0, pdu=PDU)
    rig2.transmit(300 * US, 1, pdu=PDU)
    rig2.run()
    assert rig2.synced == {0: [2], 1: []}  # an ordinary window is used up by its packet
