"""Issue acceptance: advertisers and scanners driven only by HCI bytes, in a simulated world."""

from __future__ import annotations

import statistics

from emu import hci_script as hs
from linklayer.address import Address
from linklayer.hci import le_commands as lc
from linklayer.hci import le_events as le
from linklayer.pdu import SCAN_REQ, decode_adv_pdu
from linklayer.radio import ADVERTISING_ACCESS_ADDRESS
from phy.units import MS, S, US

from .worlds import node, world_with_air

NAME = bytes.fromhex("0201060509") + b"beac"


def test_reports_carry_data_rssi_types_and_instants() -> None:
    world, air = world_with_air(seed=3)
    ind = node(world, "ind", (1.0, 0.0))
    scan_ind = node(world, "scan_ind", (0.0, 3.0))
    nonconn = node(world, "nonconn", (10.0, 0.0))
    rand = node(world, "rand", (0.0, -2.0))
    active = node(world, "active", (0.0, 0.0))
    passive = node(world, "passive", (0.5, 0.0))

    hs.advertise_legacy(ind.driver, advertising_type=0, data=NAME, scan_response=b"\x03\xff\x59\x00")
    hs.advertise_legacy(scan_ind.driver, advertising_type=2, data=b"\x02\x01\x04", scan_response=b"\x02\x0a\x00")
    hs.advertise_legacy(nonconn.driver, advertising_type=3, data=b"\x02\x01\x04")
    random_address = Address.parse("C4:01:02:03:04:05", random=True)
    hs.send(rand.driver, lc.HCI_LE_Set_Random_Address_Command(random_address=random_address.value))
    hs.advertise_legacy(rand.driver, advertising_type=3, own_address_type=1, data=b"")
    hs.scan_legacy(active.driver, active=True)
    hs.scan_legacy(passive.driver, active=False)
    world.run(2 * S)

    def reports(n: object) -> list[tuple[int, le.AdvertisingReport]]:
        return [(t, r) for t, e in n.le_events(le.HCI_LE_Advertising_Report_Event) for r in e.reports]  # type: ignore[attr-defined]

    got_active = reports(active)
    got_passive = reports(passive)
    by_addr: dict[bytes, set[int]] = {}
    for _, r in got_active:
        by_addr.setdefault(r.address, set()).add(r.event_type)
    ind_addr = ind.driver.controller.config.public_address.value
    scan_addr = scan_ind.driver.controller.config.public_address.value
    nonconn_addr = nonconn.driver.controller.config.public_address.value
    # Active scanner: ADV_IND (0) + SCAN_RSP (4); ADV_SCAN_IND (2) + SCAN_RSP; ADV_NONCONN_IND (3)
    assert by_addr[ind_addr] == {0, 4}
    assert by_addr[scan_addr] == {2, 4}
    assert by_addr[nonconn_addr] == {3}
    assert by_addr[random_address.value] == {3}
    # Passive scanner never gets scan responses and never sends SCAN_REQ.
    assert {r.event_type for _, r in got_passive} <= {0, 2, 3}
    passive_id = passive.driver.radio_id
    assert not any(tx.radio_id == passive_id for tx, _ in air.records)
    # Address types, data.
    for _, r in got_active:
        assert r.address_type == (1 if r.address == random_address.value else 0)
        if r.address == ind_addr:
            assert r.data == (NAME if r.event_type == 0 else b"\x03\xff\x59\x00")
    # RSSI per the log-distance model: 0 dBm - (40.05 + 20 log10 d).
    rssi = {r.address: r.rssi for _, r in got_active}
    assert rssi[ind_addr] == -40
    assert rssi[nonconn_addr] == -60
    assert rssi[scan_addr] == round(-40.05 - 20 * 0.47712125472)  # 3 m
    # Each report is emitted at the end of the packet it reports.
    ends = {tx.end_ns for tx, _ in air.records}
    assert all(t in ends for t, _ in got_active)


def test_scan_request_is_sent_t_ifs_after_the_advertisement() -> None:
    world, air = world_with_air(seed=5)
    adv = node(world, "adv", (1.0, 0.0))
    scanner = node(world, "scanner", (0.0, 0.0))
    hs.advertise_legacy(adv.driver, advertising_type=0, data=NAME, scan_response=b"\x02\x0a\x00")
    hs.scan_legacy(scanner.driver, active=True)
    world.run(1 * S)
    recs = sorted(air.records, key=lambda r: r[0].start_ns)
    pairs = 0
    for i, (tx, _) in enumerate(recs):
        pdu = decode_adv_pdu(tx.pdu)
        if isinstance(pdu, SCAN_REQ):
            before = recs[i - 1][0]
            after = recs[i + 1][0]
            assert tx.start_ns - before.end_ns == 150 * US
            assert after.start_ns - tx.end_ns == 150 * US
            pairs += 1
    assert pairs >= 5


def test_advertising_event_spacing_is_interval_plus_adv_delay() -> None:
    world, air = world_with_air(seed=11)
    adv = node(world, "adv", (0.0, 0.0))
    hs.advertise_legacy(adv.driver, advertising_type=3, interval_slots=32, data=b"\x02\x01\x04")  # 20 ms
    world.run(30 * S)
    txs = air.by(world, "adv")
    starts = [tx.start_ns for tx in txs if tx.channel == 37]
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert len(gaps) > 900
    interval = 20 * MS
    assert all(interval <= g <= interval + 10 * MS for g in gaps)
    mean = statistics.mean(gaps)
    assert abs(mean - (interval + 5 * MS)) < 0.4 * MS
    # The three PDUs of an event go out on 37, 38, 39 in order, less than 10 ms apart.
    for a, b, c in zip(txs[0::3], txs[1::3], txs[2::3]):
        assert (a.channel, b.channel, c.channel) == (37, 38, 39)
        assert b.start_ns - a.start_ns < 10 * MS and c.start_ns - b.start_ns < 10 * MS


def _directed_pair(far_distance: float) -> tuple[int, int]:
    """Two high-duty directed advertisers on one schedule toward one scanner."""
    world, air = world_with_air(seed=2)
    scanner = node(world, "scanner", (0.0, 0.0))
    near = node(world, "near", (1.0, 0.0))
    far = node(world, "far", (far_distance, 0.0))
    target = (0, scanner.driver.controller.config.public_address.value)
    hs.scan_legacy(scanner.driver, active=False)
    for n in (near, far):
        hs.advertise_legacy(n.driver, advertising_type=1, peer=target)
    world.run(300 * MS)
    got = [r.address for _, e in scanner.le_events(le.HCI_LE_Advertising_Report_Event) for r in e.reports]
    near_addr = near.driver.controller.config.public_address.value
    far_addr = far.driver.controller.config.public_address.value
    return got.count(near_addr), got.count(far_addr)


def test_same_schedule_collides_unless_one_is_much_stronger() -> None:
    # Equal distance: every PDU overlaps another of equal power; nothing survives.
    assert _directed_pair(far_distance=1.0) == (0, 0)
    # 40 dB weaker (100 m vs 1 m): the near one is captured, the far one is lost.
    near, far = _directed_pair(far_distance=100.0)
    assert near > 20 and far == 0


def test_out_of_range_scanner_hears_nothing_and_rssi_falls_with_distance() -> None:
    world, _ = world_with_air(seed=4)
    adv = node(world, "adv", (0.0, 0.0))
    scanners = {d: node(world, f"s{d}", (float(d), 0.0)) for d in (1, 10, 100, 1000)}
    hs.advertise_legacy(adv.driver, advertising_type=3, data=b"\x02\x01\x04")
    for s in scanners.values():
        hs.scan_legacy(s.driver)
    world.run(2 * S)
    rssi = {}
    for d, s in scanners.items():
        reports = [r for _, e in s.le_events(le.HCI_LE_Advertising_Report_Event) for r in e.reports]
        rssi[d] = {r.rssi for r in reports}
    assert rssi[1] == {-40} and rssi[10] == {-60} and rssi[100] == {-80}
    assert rssi[1000] == set()  # -100 dBm is below the -97 dBm sensitivity


def test_advertising_access_address_and_channels() -> None:
    world, air = world_with_air()
    adv = node(world, "adv")
    hs.advertise_legacy(adv.driver, advertising_type=3, channel_map=0b101, data=b"")
    world.run(1 * S)
    txs = air.by(world, "adv")
    assert {tx.channel for tx in txs} == {37, 39}
    assert {tx.access_address for tx in txs} == {ADVERTISING_ACCESS_ADDRESS}


def test_fault_hooks_move_loss_power_and_interferer() -> None:
    from phy.interference import Interferer

    world, _ = world_with_air(seed=6)
    adv = node(world, "adv", (1.0, 0.0))
    scanner = node(world, "scanner", (0.0, 0.0))
    hs.advertise_legacy(adv.driver, advertising_type=3, data=b"\x02\x01\x04", interval_slots=32)
    hs.scan_legacy(scanner.driver)

    def count() -> int:
        return sum(len(e.reports) for _, e in scanner.le_events(le.HCI_LE_Advertising_Report_Event))

    world.run(1 * S)
    base = count()
    assert base > 10
    world.set_link_loss("adv", "scanner", 1.0)
    world.run(2 * S)
    assert count() == base
    world.set_link_loss("adv", "scanner", None)
    world.move("adv", (10.0, 0.0))
    world.run(3 * S)
    after_move = count()
    assert after_move > base
    rssi = [r.rssi for _, e in scanner.le_events(le.HCI_LE_Advertising_Report_Event) for r in e.reports]
    assert rssi[-1] == -60
    world.set_radio("adv", False)
    world.run(4 * S)
    assert count() == after_move
    world.set_radio("adv", True)
    world.add_interferer(Interferer("wifi", (0.0, 0.5), 10.0, channels=None, period_ns=0, duty_cycle=1.0))
    world.run(5 * S)
    assert count() == after_move  # drowned by a strong, always-on interferer
    world.set_interferer("wifi", False)
    world.run(6 * S)
    assert count() > after_move


def test_power_cycle_is_a_cold_start() -> None:
    world, air = world_with_air(seed=7)
    adv = node(world, "adv", (1.0, 0.0))
    hs.advertise_legacy(adv.driver, advertising_type=3, data=b"", interval_slots=32)
    world.run(1 * S)
    world.set_powered("adv", False)
    sent = len(air.records)
    world.run(2 * S)
    assert len(air.records) == sent  # off: nothing on the air
    world.set_powered("adv", True)
    world.run(3 * S)
    assert len(air.records) == sent  # back in reset state: not advertising until told
    hs.power_on(adv.driver)
    hs.advertise_legacy(adv.driver, advertising_type=3, data=b"", interval_slots=32)
    world.run(4 * S)
    assert len(air.records) > sent
