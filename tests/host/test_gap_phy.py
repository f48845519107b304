"""GAP PHY update and data length over the simulated radio (host.gap_phy).

Two blesim nodes (SecurityRig): the host asks for LE 2M or 251-octet PDUs through
HCI_LE_Set_PHY / HCI_LE_Set_Data_Length; both hosts report the outcome, and the air shows
the change (LE 2M packets are shorter; LL data PDUs carry more than 27 octets).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from host.events import Connected, DataLengthChanged, HostEvent, PhyUpdated, PhyUpdateFailed
from host.hci import LocalError
from linklayer.ctrl_base import ControllerConfig
from linklayer.hci.supported import LeFeature
from linklayer.radio import ADVERTISING_ACCESS_ADDRESS
from phy.medium import Transmission
from phy.types import Phy
from phy.units import MS
from tests.host.test_security_rig import Node, SecurityRig


@dataclass(frozen=True)
class Air:
    start_ns: int
    phy: Phy
    length: int  # the LL data PDU header's Length field
    airtime_ns: int


def watch(rig: SecurityRig) -> tuple[list[Air], dict[str, list[bytes]]]:
    """Data-channel packets on the air, and the HCI commands each host sends."""
    air: list[Air] = []
    commands: dict[str, list[bytes]] = {"central": [], "peripheral": []}

    def tap(tx: Transmission, op: object) -> None:
        if tx.access_address != ADVERTISING_ACCESS_ADDRESS and len(tx.pdu) >= 2:
            air.append(Air(tx.start_ns, tx.phy, tx.pdu[1], tx.end_ns - tx.start_ns))

    rig.world.air_taps.append(tap)  # type: ignore[arg-type]
    for node in (rig.central, rig.peripheral):
        def hci(t: int, direction: str, h4_type: int, packet: bytes, name: str = node.name) -> None:
            if direction == "host->controller" and h4_type == 1:
                commands[name].append(bytes(packet))

        node.controller.hci_taps.append(hci)
    return air, commands


def events(node: Node, kind: type[HostEvent]) -> list[HostEvent]:
    return node.events(kind)


def connected_rig(**kw: object) -> tuple[SecurityRig, int, int]:
    rig = SecurityRig(**kw)  # type: ignore[arg-type]
    ch, ph = rig.connect()
    rig.run(50 * MS)
    return rig, ch, ph


@pytest.mark.parametrize("initiator", ["central", "peripheral"])
def test_set_phy_2m_reaches_both_hosts_and_the_air(initiator: str) -> None:
    rig, ch, ph = connected_rig()
    air, commands = watch(rig)
    c, p = rig.central, rig.peripheral
    node, handle = (c, ch) if initiator == "central" else (p, ph)
    before = rig.now
    assert [a.phy for a in air] == []
    node.host.gap.set_phy(handle, rig.now, tx_phys=0x02, rx_phys=0x02)
    node.driver.service()
    assert commands[initiator][-1] == bytes.fromhex("322007") + handle.to_bytes(2, "little") + bytes.fromhex(
        "0002020000")
    assert rig.run_until(lambda: bool(c.events(PhyUpdated)) and bool(p.events(PhyUpdated)), 1000 * MS)
    assert c.events(PhyUpdated) == [PhyUpdated(ch, 2, 2)]
    assert p.events(PhyUpdated) == [PhyUpdated(ph, 2, 2)]
    assert c.events(PhyUpdateFailed) == p.events(PhyUpdateFailed) == []
    assert (c.host.gap.connections[ch].tx_phy, c.host.gap.connections[ch].rx_phy) == (2, 2)
    assert (p.host.gap.connections[ph].tx_phy, p.host.gap.connections[ph].rx_phy) == (2, 2)
    updated = max(t for t, e in c.driver.events if isinstance(e, PhyUpdated))
    rig.run(200 * MS)
    early = [a for a in air if before <= a.start_ns < before + 20 * MS]
    late = [a for a in air if a.start_ns > updated + 10 * MS]
    assert early and late and before + 20 * MS < updated
    assert {a.phy for a in early} == {Phy.LE_1M}
    assert {a.phy for a in late} == {Phy.LE_2M}
    empty_1m = {a.airtime_ns for a in early if a.length == 0}
    empty_2m = {a.airtime_ns for a in late if a.length == 0}
    # An empty data PDU: 80 µs on LE 1M, 44 µs on LE 2M (Vol 6 Part B 2.1, 2.2).
    assert empty_1m == {80_000} and empty_2m == {44_000}


def test_read_phy_reports_the_current_phys() -> None:
    rig, ch, ph = connected_rig()
    air, commands = watch(rig)
    c = rig.central
    seen: list[tuple[int, int]] = []
    c.host.gap.read_phy(ch, rig.now, lambda tx, rx: seen.append((tx, rx)))
    c.driver.service()
    assert commands["central"][-1] == bytes.fromhex("302002") + ch.to_bytes(2, "little")
    rig.run(10 * MS)
    assert seen == [(1, 1)]
    c.host.gap.set_phy(ch, rig.now, tx_phys=0x02, rx_phys=0x02)
    c.driver.service()
    assert rig.run_until(lambda: bool(c.events(PhyUpdated)), 1000 * MS)
    c.host.gap.read_phy(ch, rig.now, lambda tx, rx: seen.append((tx, rx)))
    c.driver.service()
    rig.run(10 * MS)
    assert seen == [(1, 1), (2, 2)]


def test_set_data_length_251_reaches_both_hosts_and_long_pdus_flow() -> None:
    rig, ch, ph = connected_rig()
    air, commands = watch(rig)
    c, p = rig.central, rig.peripheral
    start = rig.now
    c.host.gap.set_data_length(ch, rig.now, 251, 2120)
    c.driver.service()
    # HCI_LE_Set_Data_Length (7.8.33): opcode 0x2022, length 6, handle, 0x00FB, 0x0848.
    assert commands["central"][-1] == bytes.fromhex("222006") + ch.to_bytes(2, "little") + bytes.fromhex("fb004808")
    assert rig.run_until(lambda: bool(c.events(DataLengthChanged)) and bool(p.events(DataLengthChanged)), 1000 * MS)
    assert c.events(DataLengthChanged) == [DataLengthChanged(ch, 251, 2_120_000, 27, 328_000)]
    assert p.events(DataLengthChanged) == [DataLengthChanged(ph, 27, 328_000, 251, 2_120_000)]
    conn = c.host.gap.connections[ch]
    assert (conn.max_tx_octets, conn.max_tx_time_ns, conn.max_rx_octets, conn.max_rx_time_ns) == (
        251, 2_120_000, 27, 328_000)
    assert max(a.length for a in air if a.start_ns >= start) <= 27
    # A 200-octet ATT Write Command after an MTU exchange: one LL PDU longer than 27 octets.
    client = c.host.gatt_client(ch)
    client.exchange_mtu(rig.now)
    c.driver.service()
    rig.run(100 * MS)
    mark = rig.now
    client.write_without_response(0x0003, bytes(200), rig.now)
    c.driver.service()
    rig.run(100 * MS)
    lengths = [a.length for a in air if a.start_ns >= mark]
    assert max(lengths) == 4 + 3 + 200  # L2CAP header + ATT opcode and handle + value


def test_peer_data_length_update_is_reported_too() -> None:
    rig, ch, ph = connected_rig()
    c, p = rig.central, rig.peripheral
    p.host.gap.set_data_length(ph, rig.now, 100, 912)
    p.driver.service()
    assert rig.run_until(lambda: bool(c.events(DataLengthChanged)) and bool(p.events(DataLengthChanged)), 1000 * MS)
    assert p.events(DataLengthChanged) == [DataLengthChanged(ph, 100, 912_000, 27, 328_000)]
    assert c.events(DataLengthChanged) == [DataLengthChanged(ch, 27, 328_000, 100, 912_000)]


def test_bad_parameters_raise_before_anything_is_sent() -> None:
    rig, ch, ph = connected_rig()
    air, commands = watch(rig)
    gap = rig.central.host.gap
    bad_phy = [
        dict(tx_phys=0x08, rx_phys=0x01), dict(tx_phys=0x01, rx_phys=0x10), dict(tx_phys=0, rx_phys=1),
        dict(tx_phys=1, rx_phys=0), dict(tx_phys=1, rx_phys=1, phy_options=3),
        dict(tx_phys=1, rx_phys=1, all_phys=4),
    ]
    for kw in bad_phy:
        with pytest.raises(LocalError):
            gap.set_phy(ch, rig.now, **kw)
    for octets, time_us in [(26, 328), (252, 2120), (251, 327), (27, 0x4291), (0, 0)]:
        with pytest.raises(LocalError):
            gap.set_data_length(ch, rig.now, octets, time_us)
    for call in (lambda: gap.set_phy(0x0EFF, rig.now, 1, 1), lambda: gap.set_data_length(0x0EFF, rig.now, 27, 328),
                 lambda: gap.read_phy(0x0EFF, rig.now)):
        with pytest.raises(LocalError):
            call()
    # The limits themselves are fine; ALL_PHYS waives an empty field.
    gap.set_data_length(ch, rig.now, 27, 0x4290)
    gap.set_phy(ch, rig.now, tx_phys=0, rx_phys=0, all_phys=3)
    rig.central.driver.service()
    rig.run(50 * MS)
    assert [cmd[:2] for cmd in commands["central"]] == [b"\x22\x20", b"\x32\x20"]


def test_power_on_enables_the_phy_and_data_length_le_events() -> None:
    rig = SecurityRig()
    air, commands = watch(rig)
    rig.peripheral.reboot()
    rig.run(100 * MS)
    masks = [cmd for cmd in commands["peripheral"] if cmd[:2] == b"\x01\x20"]  # LE_Set_Event_Mask 0x2001
    assert len(masks) == 1 and masks[0][2] == 8
    mask = int.from_bytes(masks[0][3:], "little")
    assert mask >> (0x07 - 1) & 1 and mask >> (0x0C - 1) & 1


def test_set_phy_refused_by_the_controller_is_a_failure_event() -> None:
    no_2m = ControllerConfig(le_features=int(ControllerConfig().le_features & ~LeFeature.LE_2M_PHY))
    rig, ch, ph = connected_rig(central_kw={"controller_config": no_2m})
    c = rig.central
    c.host.gap.set_phy(ch, rig.now, tx_phys=0x02, rx_phys=0x02)
    c.driver.service()
    rig.run(20 * MS)
    # Unsupported Feature or Parameter Value (0x11) in the Command Status (7.8.49).
    assert c.events(PhyUpdateFailed) == [PhyUpdateFailed(ch, 0x11)]
    assert c.events(PhyUpdated) == []


def test_set_phy_the_peer_cannot_do_fails_with_the_remote_status() -> None:
    no_phys = ControllerConfig(le_features=int(
        ControllerConfig().le_features & ~(LeFeature.LE_2M_PHY | LeFeature.LE_CODED_PHY)))
    rig, ch, ph = connected_rig(peripheral_kw={"controller_config": no_phys})
    c, p = rig.central, rig.peripheral
    c.host.gap.set_phy(ch, rig.now, tx_phys=0x02, rx_phys=0x02)
    c.driver.service()
    assert rig.run_until(lambda: bool(c.events(PhyUpdateFailed)), 1000 * MS)
    # Unsupported Remote Feature (0x1A): the peer answered LL_UNKNOWN_RSP (Vol 6 Part B 5.1.10).
    assert c.events(PhyUpdateFailed) == [PhyUpdateFailed(ch, 0x1A)]
    assert c.events(PhyUpdated) == p.events(PhyUpdated) == []
    assert isinstance(c.events(Connected)[0], Connected)


def test_a_parameter_update_that_loses_a_collision_is_tried_again() -> None:
    """The peripheral asks for new parameters (LL Connection Parameters Request) in the
    same instant the central starts a PHY update: one procedure with an instant loses
    (Vol 6 Part B 5.3, status 0x2A or 0x23) and the host starts it again once, so both
    the PHY and the parameters change."""
    from host.events import ConnectionUpdated, ConnectionUpdateFailed
    from host.gap_params import ConnectionParameters

    rig, ch, ph = connected_rig()
    c, p = rig.central, rig.peripheral
    c.host.gap.set_phy(ch, rig.now, tx_phys=0x02, rx_phys=0x02)
    p.host.gap.update_connection(ph, ConnectionParameters.from_units(40, 40, 0, 400), rig.now)
    hci_statuses: list[int] = []

    def status_tap(t: int, direction: str, h4_type: int, packet: bytes) -> None:
        # LE Connection Update Complete (0x3E, subevent 0x03): its status octet
        if direction == "controller->host" and h4_type == 4 and packet[0] == 0x3E and packet[2] == 0x03:
            hci_statuses.append(packet[3])

    p.controller.hci_taps.append(status_tap)
    c.driver.service()
    p.driver.service()
    assert rig.run_until(lambda: bool(p.events(ConnectionUpdated)) and bool(c.events(PhyUpdated)), 3000 * MS)
    assert hci_statuses[0] in (0x23, 0x2A)  # the first attempt lost the collision...
    assert hci_statuses[-1] == 0  # ...the second went through
    assert p.events(ConnectionUpdateFailed) == []
    assert p.host.gap.connections[ph].interval_ns == 40 * 1_250_000
    assert c.host.gap.connections[ch].tx_phy == 2
