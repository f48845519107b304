"""Connections end to end: two or more controllers driven only by HCI bytes (issue 3).

The literal timeline test derives every instant by hand from the specification: with
sleep clocks of 0 ppm the Central's anchors are exactly ``A(k) = A0 + k·connInterval``
(A0 = CONNECT_IND end + 1.25 ms + WinOffset), every answer starts T_IFS = 150 µs after the
end of the packet it answers, and packet airtimes are (1 + 4 + PDU + 3)·8 µs on LE 1M and
24 µs + (PDU + 3)·4 µs on LE 2M. Commands are sent half way between two events, so each
procedure starts at the next event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from linklayer.channels import ChannelMap, Csa1, channel_identifier, csa2_channel
from linklayer.hci import commands as c
from linklayer.hci import le_commands as lc
from linklayer.hci import le_ext_commands as lx
from linklayer.pdu import CONNECT_IND, decode_adv_pdu
from linklayer.radio import ADVERTISING_ACCESS_ADDRESS
from phy.types import Phy
from phy.units import MS, US, S
from tests.linklayer.test_connection_rig import AirRecord, Node, Rig

US_ = US


def connect_ind(rig: Rig) -> tuple[AirRecord, CONNECT_IND]:
    for r in rig.air:
        if r.aa == ADVERTISING_ACCESS_ADDRESS and r.pdu[0] & 0x0F == 0x05 and r.channel >= 37:
            pdu = decode_adv_pdu(r.pdu)
            assert isinstance(pdu, CONNECT_IND)
            return r, pdu
    raise AssertionError("no CONNECT_IND on the air")


def at(rig: Rig, t: int, action: Callable[[], None]) -> None:
    rig.world.kernel.call_at(t, action)


def first_packets(rig: Rig, aa: int, kind: int) -> list[AirRecord]:
    """The first packet of each connection event sent in one direction (2: C->P, 3: P->C)."""
    out: list[AirRecord] = []
    for r in rig.data_packets(aa):
        if r.info is not None and r.info.pdu_kind == kind:
            if not out or r.t - out[-1].t > 5 * MS:
                out.append(r)
    return out


def test_literal_hci_timeline_of_a_whole_connection() -> None:
    rig = Rig(seed=11)
    C = rig.add("central", (0.0, 0.0), sleep_clock_accuracy_ppm=0)
    P = rig.add("peripheral", (3.0, 0.0), sleep_clock_accuracy_ppm=0)
    hc, hp = rig.connect(C, P, interval=24, latency=0, timeout=100)
    rec, req = connect_ind(rig)
    t_c = rec.end
    I = 30 * MS
    A0 = t_c + 1250 * US + req.ll_data.win_offset * 1250 * US

    def A(k: int) -> int:  # before the connection update
        return A0 + k * I

    def A2(k: int) -> int:  # after it: 50 ms from event 25
        return A(25) + (k - 25) * 50 * MS

    def H(k: int) -> int:
        return A(k) + 15 * MS

    ltk = bytes(range(16))
    script: list[tuple[int, Node, Any]] = [
        (H(2), C, lc.HCI_LE_Read_Remote_Features_Command(connection_handle=hc)),
        (H(4), P, c.HCI_Read_Remote_Version_Information_Command(connection_handle=hp)),
        (H(6), C, lc.HCI_LE_Set_Data_Length_Command(connection_handle=hc, tx_octets=251, tx_time=2120)),
        (H(8), C, lx.HCI_LE_Set_PHY_Command(connection_handle=hc, all_phys=0, tx_phys=2, rx_phys=2, phy_options=0)),
        (H(16), C, lc.HCI_LE_Connection_Update_Command(
            connection_handle=hc, connection_interval_min=40, connection_interval_max=40, max_latency=0,
            supervision_timeout=200, min_ce_length=0, max_ce_length=0)),
        (H(17), P, lc.HCI_LE_Remote_Connection_Parameter_Request_Reply_Command(
            connection_handle=hp, interval_min=40, interval_max=40, max_latency=0, timeout=200,
            min_ce_length=0, max_ce_length=0)),
        (A2(26) + 25 * MS, C, lc.HCI_LE_Enable_Encryption_Command(
            connection_handle=hc, random_number=bytes(8), encrypted_diversifier=0x1234, long_term_key=ltk)),
        (A2(27) + 25 * MS, P, lc.HCI_LE_Long_Term_Key_Request_Reply_Command(connection_handle=hp, long_term_key=ltk)),
        (A2(31) + 25 * MS, C, c.HCI_Disconnect_Command(connection_handle=hc, reason=0x13)),
    ]
    def sender(n: Node, cmd: Any) -> Callable[[], None]:
        return lambda: rig.cmd(n, cmd)

    for t, node, command in script:
        at(rig, t, sender(node, command))
    at(rig, A2(29) + 25 * MS, lambda: rig.acl(C, hc, b"central->p"))
    at(rig, A2(29) + 25 * MS, lambda: rig.acl(P, hp, b"periph->c!"))
    rig.run(A2(33) - rig.now)

    got = sorted(
        [(t, "C", type(e).__name__) for t, e in C.events(t_c + 1)]
        + [(t, "P", type(e).__name__) for t, e in P.events(t_c + 1)]
        + [(t, "C", "ACL") for t, _ in C.acl_in()]
        + [(t, "P", "ACL") for t, _ in P.acl_in()]
    )
    # When both last MD bits were 0 the Central closes the event (Vol 6 Part B 4.5.6): a
    # PDU queued on receipt goes out at the next event.
    expected = sorted([
        (H(2), "C", "HCI_Command_Status_Event"),
        (A(3) + 454 * US, "C", "HCI_LE_Read_Remote_Features_Complete_Event"),  # REQ 152 + 150 + RSP 152
        (H(4), "P", "HCI_Command_Status_Event"),
        # Event 5: the Peripheral's LL_VERSION_IND; event 6: the Central's (128 µs).
        (A(6) + 128 * US, "P", "HCI_Read_Remote_Version_Information_Complete_Event"),
        (H(6), "C", "HCI_Command_Complete_Event"),
        (A(7) + 152 * US, "P", "HCI_LE_Data_Length_Change_Event"),
        (A(7) + 454 * US, "C", "HCI_LE_Data_Length_Change_Event"),
        (H(8), "C", "HCI_Command_Status_Event"),
        # Event 9: LL_PHY_REQ / LL_PHY_RSP; event 10: LL_PHY_UPDATE_IND, instant 10 + 6.
        (A(16), "C", "HCI_LE_PHY_Update_Complete_Event"),
        (A(16) + 44 * US, "P", "HCI_LE_PHY_Update_Complete_Event"),  # first 2M packet received
        (H(16), "C", "HCI_Command_Status_Event"),
        (A(17) + 140 * US, "P", "HCI_LE_Remote_Connection_Parameter_Request_Event"),
        (H(17), "P", "HCI_Command_Complete_Event"),
        # Event 18: LL_CONNECTION_PARAM_RSP; event 19: LL_CONNECTION_UPDATE_IND, instant 19 + 6.
        (A(25), "C", "HCI_LE_Connection_Update_Complete_Event"),
        (A(25) + 44 * US, "P", "HCI_LE_Connection_Update_Complete_Event"),
        (A2(26) + 25 * MS, "C", "HCI_Command_Status_Event"),
        (A2(27) + 136 * US, "P", "HCI_LE_Long_Term_Key_Request_Event"),  # LL_ENC_REQ: 136 µs on 2M
        (A2(27) + 25 * MS, "P", "HCI_Command_Complete_Event"),
        # Event 28: empty, LL_START_ENC_REQ; event 29: LL_START_ENC_RSP both ways (64 µs each).
        (A2(29) + 64 * US, "P", "HCI_Encryption_Change_Event"),
        (A2(29) + 278 * US, "C", "HCI_Encryption_Change_Event"),
        # Event 30: 10 octets + MIC each way (100 µs each); P's is acknowledged at event 31.
        (A2(30) + 100 * US, "P", "ACL"),
        (A2(30) + 350 * US, "C", "ACL"),
        (A2(30) + 350 * US, "C", "HCI_Number_Of_Completed_Packets_Event"),
        (A2(31) + 44 * US, "P", "HCI_Number_Of_Completed_Packets_Event"),
        (A2(31) + 25 * MS, "C", "HCI_Command_Status_Event"),
        # Event 32: LL_TERMINATE_IND (68 µs), the Peripheral's acknowledgement (44 µs).
        (A2(32) + 262 * US, "P", "HCI_Disconnection_Complete_Event"),
        (A2(32) + 262 * US, "C", "HCI_Disconnection_Complete_Event"),
    ])
    assert got == expected

    # The contents of the events that carry results.
    ev_c = {type(e).__name__: e for _, e in C.events(t_c + 1)}
    ev_p = {type(e).__name__: e for _, e in P.events(t_c + 1)}
    assert ev_c["HCI_LE_Read_Remote_Features_Complete_Event"].le_features == P.controller.config.le_features & 0x1FFFF
    assert ev_p["HCI_Read_Remote_Version_Information_Complete_Event"].version == 0x0C
    dl = ev_c["HCI_LE_Data_Length_Change_Event"]
    assert (dl.max_tx_octets, dl.max_tx_time, dl.max_rx_octets, dl.max_rx_time) == (251, 2120, 27, 328)
    for ev in (ev_c, ev_p):
        phy = ev["HCI_LE_PHY_Update_Complete_Event"]
        assert (phy.status, phy.tx_phy, phy.rx_phy) == (0, 2, 2)
        upd = ev["HCI_LE_Connection_Update_Complete_Event"]
        assert (upd.status, upd.connection_interval, upd.peripheral_latency, upd.supervision_timeout) == (0, 40, 0, 200)
        assert ev["HCI_Encryption_Change_Event"].encryption_enabled == 1
    assert ev_p["HCI_LE_Long_Term_Key_Request_Event"].encrypted_diversifier == 0x1234
    assert ev_p["HCI_Disconnection_Complete_Event"].reason == 0x13
    assert ev_c["HCI_Disconnection_Complete_Event"].reason == 0x16
    assert [(a.pb_flag, a.data) for _, a in P.acl_in()] == [(0b10, b"central->p")]
    assert [(a.pb_flag, a.data) for _, a in C.acl_in()] == [(0b10, b"periph->c!")]
    assert not C.controller.connections and not P.controller.connections


# -- measured from the air ---------------------------------------------------------------------


def _hop_and_events(rig: Rig, C: Node, hc: int) -> tuple[int, list[AirRecord]]:
    conn = C.controller.connections[hc]
    return conn.access_address, first_packets(rig, conn.access_address, 2)


def test_events_at_the_interval_on_csa1_channels() -> None:
    rig = Rig(seed=21)
    C = rig.add("c", (0.0, 0.0), sleep_clock_accuracy_ppm=0)
    # Without CSA #2 support on the Peripheral, the CONNECT_IND ChSel stays 0: CSA #1.
    P = rig.add("p", (2.0, 0.0), le_features=0x1 | 0x20 | 0x100)
    hc, _ = rig.connect(C, P, interval=8)
    _, req = connect_ind(rig)
    assert not req.ch_sel
    rig.run(500 * MS)
    aa, events = _hop_and_events(rig, C, hc)
    starts = [r.t for r in events]
    assert {b - a for a, b in zip(starts, starts[1:])} == {10 * MS}
    csa = Csa1(req.ll_data.hop, ChannelMap(req.ll_data.ch_m))
    assert [r.channel for r in events] == [csa.channel_for_event(k) for k in range(len(events))]
    assert C.events()[-1][1].channel_selection_algorithm == 0


def test_events_on_csa2_channels_with_drifting_clocks() -> None:
    rig = Rig(seed=22)
    C = rig.add("c", (0.0, 0.0), sleep_clock_accuracy_ppm=250)
    P = rig.add("p", (2.0, 0.0), sleep_clock_accuracy_ppm=250)
    hc, hp = rig.connect(C, P, interval=6)
    _, req = connect_ind(rig)
    assert req.ch_sel
    rig.run(2 * S)
    aa, events = _hop_and_events(rig, C, hc)
    chan_id = channel_identifier(aa)
    cmap = ChannelMap(req.ll_data.ch_m)
    assert [r.channel for r in events] == [csa2_channel(k, chan_id, cmap) for k in range(len(events))]
    gaps = [b.t - a.t for a, b in zip(events, events[1:])]
    # The Central's clock is off by at most 250 ppm: 7.5 ms ± 1.875 µs, always the same.
    assert len(set(gaps)) <= 2 and all(abs(g - 7_500_000) <= 1_875 for g in gaps)
    # The Peripheral answers every event though its own clock drifts the other way.
    answers = first_packets(rig, aa, 3)
    assert len(answers) == len(events)
    assert P.controller.connections[hp].crc_errors == 0


def test_connection_update_new_interval_starts_at_the_instant() -> None:
    rig = Rig(seed=23)
    C = rig.add("c", (0.0, 0.0), sleep_clock_accuracy_ppm=0)
    P = rig.add("p", (2.0, 0.0), sleep_clock_accuracy_ppm=0, le_features=0x1)  # no CPR: direct update
    hc, _ = rig.connect(C, P, interval=8)
    t0 = rig.now
    rig.cmd(C, lc.HCI_LE_Connection_Update_Command(
        connection_handle=hc, connection_interval_min=16, connection_interval_max=16, max_latency=0,
        supervision_timeout=100, min_ce_length=0, max_ce_length=0))
    rig.run_until(C, "HCI_LE_Connection_Update_Complete_Event", since=t0)
    rig.run(300 * MS)
    aa, events = _hop_and_events(rig, C, hc)
    upd = [r for r in rig.data_packets(aa) if r.pdu[0] & 3 == 3 and len(r.pdu) > 2 and r.pdu[2] in (0x00, 0x0F)]
    ind = [r for r in upd if r.pdu[2] == 0x00]
    assert ind, "an LL_CONNECTION_UPDATE_IND was sent"
    instant = int.from_bytes(ind[0].pdu[2 + 10:2 + 12], "little")
    starts = [r.t for r in events]
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert gaps[:instant] == [10 * MS] * instant  # old interval up to the instant (WinOffset 0)
    assert set(gaps[instant:]) == {20 * MS}


def test_peripheral_latency_skips_events() -> None:
    rig = Rig(seed=24)
    C = rig.add("c", (0.0, 0.0), sleep_clock_accuracy_ppm=20)
    P = rig.add("p", (2.0, 0.0), sleep_clock_accuracy_ppm=20)
    hc, hp = rig.connect(C, P, interval=8, latency=3, timeout=200)
    rig.run(2 * S)
    aa = C.controller.connections[hc].access_address
    central = first_packets(rig, aa, 2)
    answers = first_packets(rig, aa, 3)
    # Once established, the idle Peripheral listens at one event in four.
    late = [r.t for r in answers[3:]]
    gaps = {round((b - a) / (10 * MS)) for a, b in zip(late, late[1:])}
    assert gaps == {4}
    assert len(central) > 3 * len(answers) - 6
    # Data from the Peripheral's host wakes it up at the next event.
    t0 = rig.now
    rig.acl(P, hp, b"wake up")
    rig.run(30 * MS)
    ((t, acl),) = C.acl_in()
    assert acl.data == b"wake up" and t - t0 <= 10 * MS + 1 * MS


# -- supervision and loss ---------------------------------------------------------------------


def test_supervision_timeout_when_the_peer_moves_away() -> None:
    rig = Rig(seed=25)
    C = rig.add("c", (0.0, 0.0))
    P = rig.add("p", (2.0, 0.0))
    hc, hp = rig.connect(C, P, interval=16, timeout=100)  # 20 ms, 1 s
    rig.run(200 * MS)
    aa = C.controller.connections[hc].access_address
    rig.world.medium.move(P.driver.radio_id, (5000.0, 0.0))
    t_move = rig.now
    tc, ec = rig.run_until(C, "HCI_Disconnection_Complete_Event", since=t_move)
    tp, ep = rig.run_until(P, "HCI_Disconnection_Complete_Event", since=t_move)
    assert ec.reason == ep.reason == 0x08
    last_c = max(r.end for r in rig.data_packets(aa) if r.sender == P.driver.radio_id and r.t < t_move)
    last_p = max(r.end for r in rig.data_packets(aa) if r.sender == C.driver.radio_id and r.t < t_move)
    for t, last in ((tc, last_c), (tp, last_p)):
        assert 1 * S <= t - last <= 1 * S + 20 * MS
    assert not C.controller.connections and not P.controller.connections


def test_lossy_link_delivers_every_byte_once_and_in_order() -> None:
    rig = Rig(seed=26)
    C = rig.add("c", (0.0, 0.0))
    P = rig.add("p", (2.0, 0.0))
    hc, hp = rig.connect(C, P, interval=6, timeout=300)
    world = rig.world
    world.medium.set_link_loss(C.driver.radio_id, P.driver.radio_id, 0.3)
    world.medium.set_link_loss(P.driver.radio_id, C.driver.radio_id, 0.3)
    sent_c = [bytes([i]) * (20 + i) for i in range(40)]
    sent_p = [bytes([0x80 + i]) * (5 + i) for i in range(40)]
    credits = {"c": 8, "p": 8}
    queues = {"c": list(sent_c), "p": list(sent_p)}

    def pump() -> None:
        for name, node, handle in (("c", C, hc), ("p", P, hp)):
            while credits[name] and queues[name]:
                credits[name] -= 1
                rig.acl(node, handle, queues[name].pop(0))

    def on_hci(name: str) -> Callable[[int, int, bytes], None]:
        def sink(t: int, h4: int, packet: bytes) -> None:
            if h4 == 4 and packet[0] == 0x13:
                credits[name] += int.from_bytes(packet[5:7], "little")  # code, length, Num_Handles, handle
                world.kernel.call_at(t, pump)
        return sink

    C.driver.hci_sinks.append(on_hci("c"))
    P.driver.hci_sinks.append(on_hci("p"))
    pump()
    rig.run(4 * S)
    assert b"".join(a.data for _, a in P.acl_in()) == b"".join(sent_c)
    assert b"".join(a.data for _, a in C.acl_in()) == b"".join(sent_p)
    assert credits == {"c": 8, "p": 8} and not queues["c"] and not queues["p"]
    assert C.controller.connections[hc].retransmissions > 0


def test_establishment_failure_after_six_intervals() -> None:
    rig = Rig(seed=27)
    C = rig.add("c", (0.0, 0.0))
    P = rig.add("p", (2.0, 0.0))
    rig.advertise(P)
    rig.create(C, P, interval=8)
    t, _ = rig.run_until(C, "HCI_LE_Enhanced_Connection_Complete_Event")
    rig.world.set_powered("p", False)  # gone right after the CONNECT_IND
    td, ev = rig.run_until(C, "HCI_Disconnection_Complete_Event", since=t)
    assert ev.reason == 0x3E
    _, req = connect_ind(rig)
    first = t + 1250 * US + req.ll_data.win_offset * 1250 * US
    assert td - first == 6 * 10 * MS or abs(td - first - 60 * MS) <= 10 * US


def test_three_peripheral_connections_and_active_scanning() -> None:
    rig = Rig(seed=28)
    P = rig.add("p", (0.0, 0.0))
    centrals = [rig.add(f"c{i}", (1.0 + i, 1.0)) for i in range(3)]
    beacon = rig.add("beacon", (0.0, 2.0))
    rig.cmd(beacon, lc.HCI_LE_Set_Advertising_Parameters_Command(
        advertising_interval_min=0x40, advertising_interval_max=0x40, advertising_type=2, own_address_type=0,
        peer_address_type=0, peer_address=bytes(6), advertising_channel_map=7, advertising_filter_policy=0))
    rig.cmd(beacon, lc.HCI_LE_Set_Advertising_Enable_Command(advertising_enable=1))
    handles = []
    for i, cen in enumerate(centrals):
        handles.append(rig.connect(cen, P, interval=24 + 8 * i, timeout=100)[1])
    assert handles == [0, 1, 2]
    rig.cmd(P, lc.HCI_LE_Set_Scan_Parameters_Command(le_scan_type=1, le_scan_interval=0x40, le_scan_window=0x30,
                                                     own_address_type=0, scanning_filter_policy=0))
    rig.cmd(P, lc.HCI_LE_Set_Scan_Enable_Command(le_scan_enable=1, filter_duplicates=0))
    t0 = rig.now
    rig.run(10 * S)
    assert len(P.controller.connections) == 3
    assert all(len(cen.controller.connections) == 1 for cen in centrals)
    assert "HCI_Disconnection_Complete_Event" not in P.event_names(t0)
    reports = [e for _, e in P.events(t0) if type(e).__name__ == "HCI_LE_Advertising_Report_Event"]
    assert any(r.event_type == 4 for e in reports for r in e.reports)  # scan responses: active scanning
    for conn in P.controller.connections.values():
        assert rig.now - conn.last_rx_ns < 200 * MS


def test_phy_and_channel_map_updates_seen_on_air() -> None:
    rig = Rig(seed=29)
    C = rig.add("c", (0.0, 0.0))
    P = rig.add("p", (2.0, 0.0))
    hc, hp = rig.connect(C, P, interval=8)
    t0 = rig.now
    rig.cmd(P, lx.HCI_LE_Set_PHY_Command(connection_handle=hp, all_phys=0, tx_phys=2, rx_phys=2, phy_options=0))
    t1, _ = rig.run_until(C, "HCI_LE_PHY_Update_Complete_Event", since=t0)
    rig.run(100 * MS)
    aa = C.controller.connections[hc].access_address
    # The Central reports the update at the instant's anchor: LE 1M before it, LE 2M from it.
    before = [r for r in rig.data_packets(aa) if r.t < t1]
    after = [r for r in rig.data_packets(aa) if r.t >= t1]
    assert before and {r.phy for r in before} == {Phy.LE_1M}
    assert after and {r.phy for r in after} == {Phy.LE_2M}
    assert {r.end - r.t for r in after if len(r.pdu) == 2} == {44 * US}  # an Empty PDU on LE 2M
    cmap = bytes.fromhex("ff00000000")  # channels 0..7
    rig.cmd(C, lc.HCI_LE_Set_Host_Channel_Classification_Command(channel_map=cmap))
    rig.run(300 * MS)
    t2 = rig.now
    rig.cmd(C, lc.HCI_LE_Read_Channel_Map_Command(connection_handle=hc))
    rig.cmd(P, lc.HCI_LE_Read_Channel_Map_Command(connection_handle=hp))
    rig.run(1 * MS)
    assert {r.channel for r in rig.data_packets(aa) if r.t > t2 - 100 * MS} <= set(range(8))
    for node in (C, P):
        (t, ev), = [(t, e) for t, e in node.events(t2) if type(e).__name__ == "HCI_Command_Complete_Event"]
        assert ev.return_parameters[3:] == cmap


def test_several_connections_in_both_roles() -> None:
    rig = Rig(seed=30)
    hub = rig.add("hub", (0.0, 0.0))
    a = rig.add("a", (1.0, 0.0))
    b = rig.add("b", (0.0, 1.0))
    d = rig.add("d", (1.0, 1.0))
    h_hub_a, _ = rig.connect(hub, a, interval=12)  # hub is Central to a
    _, h_hub_b = rig.connect(b, hub, interval=16)  # Peripheral to b
    h_hub_d, _ = rig.connect(hub, d, interval=12)  # and Central to d as well
    assert (h_hub_a, h_hub_b, h_hub_d) == (0, 1, 2)
    roles = sorted((conn.handle, conn.is_central) for conn in hub.controller.connections.values())
    assert roles == [(0, True), (1, False), (2, True)]
    # The second Central link's first anchor keeps clear of the first one's events.
    (t0, p0), (t2, _) = (hub.controller.connections[h].next_anchor() or (0, 0) for h in (0, 2))
    assert min((t2 - t0) % p0, (t0 - t2) % p0) >= 2_500_000
    for handle, text in ((0, b"to a"), (1, b"to b"), (2, b"to d")):
        rig.acl(hub, handle, text)
    rig.run(3 * S)
    assert [x.data for _, x in a.acl_in()] == [b"to a"] and [x.data for _, x in b.acl_in()] == [b"to b"]
    assert [x.data for _, x in d.acl_in()] == [b"to d"]
    assert len(hub.controller.connections) == 3
    # Events of the three links collide now and then (one radio): the loser skips, as on
    # hardware, but every link keeps most of its events.
    for conn in hub.controller.connections.values():
        expected = (rig.now - conn.created_at) // conn.interval_ns
        assert conn.events >= 0.8 * expected, (conn.handle, conn.events, expected)


# -- ACL flow control ---------------------------------------------------------------------------


def test_acl_fragmentation_flow_control_and_overflow() -> None:
    rig = Rig(seed=31)
    C = rig.add("c", (0.0, 0.0))
    P = rig.add("p", (2.0, 0.0))
    hc, hp = rig.connect(C, P, interval=8)
    t0 = rig.now
    big = bytes(range(251))
    for _ in range(8):
        rig.acl(C, hc, big)
    rig.acl(C, hc, b"one too many")  # no credit left: Data_Buffer_Overflow, dropped
    rig.acl(C, 0x0123, b"no such handle")  # dropped
    rig.acl(C, hc, bytes(300))  # longer than LE_ACL_Data_Packet_Length: dropped
    rig.run(2 * S)
    names = C.event_names(t0)
    assert names.count("HCI_Data_Buffer_Overflow_Event") == 1
    completed = sum(h.num_completed_packets for _, e in C.events(t0)
                    if type(e).__name__ == "HCI_Number_Of_Completed_Packets_Event" for h in e.handles)
    assert completed == 8
    pieces = P.acl_in()
    assert [len(a.data) for _, a in pieces][:10] == [27] * 9 + [8]  # 251 = 9 × 27 + 8 (no DLE)
    assert [a.pb_flag for _, a in pieces][:10] == [0b10] + [0b01] * 9
    assert b"".join(a.data for _, a in pieces) == big * 8
    assert C.controller.acl_dropped == 3 and C.controller.acl_held == 0


def test_commands_on_unknown_handles_and_bad_parameters() -> None:
    rig = Rig(seed=32)
    C = rig.add("c", (0.0, 0.0))
    P = rig.add("p", (2.0, 0.0))
    hc, hp = rig.connect(C, P, interval=16)  # an authenticated payload timeout of 10 ms is too short
    rig.run(100 * MS)
    t0 = rig.now
    rig.cmd(C, c.HCI_Disconnect_Command(connection_handle=0x0E00, reason=0x13))
    rig.cmd(C, c.HCI_Disconnect_Command(connection_handle=hc, reason=0x01))
    rig.cmd(C, lc.HCI_LE_Connection_Update_Command(
        connection_handle=hc, connection_interval_min=10, connection_interval_max=8, max_latency=0,
        supervision_timeout=100, min_ce_length=0, max_ce_length=0))
    rig.cmd(P, lc.HCI_LE_Enable_Encryption_Command(connection_handle=hp, random_number=bytes(8),
                                                   encrypted_diversifier=0, long_term_key=bytes(16)))
    rig.cmd(C, lc.HCI_LE_Long_Term_Key_Request_Reply_Command(connection_handle=hc, long_term_key=bytes(16)))
    rig.cmd(C, c.HCI_Read_RSSI_Command(handle=hc))
    rig.cmd(C, c.HCI_Read_Transmit_Power_Level_Command(connection_handle=hc, type=1))
    rig.cmd(C, lx.HCI_LE_Read_PHY_Command(connection_handle=hc))
    rig.cmd(C, c.HCI_Write_Authenticated_Payload_Timeout_Command(connection_handle=hc,
                                                                 authenticated_payload_timeout=1))
    rig.cmd(C, c.HCI_Read_Authenticated_Payload_Timeout_Command(connection_handle=hc))
    rig.cmd(C, lc.HCI_LE_Set_Host_Channel_Classification_Command(channel_map=bytes.fromhex("0100000000")))
    rig.run(1 * MS)
    evs = [e for _, e in C.events(t0)]
    statuses = [getattr(e, "status", None) if type(e).__name__ == "HCI_Command_Status_Event"
                else e.return_parameters[0] for e in evs]
    assert statuses == [0x02, 0x12, 0x12, 0x0C, 0x00, 0x00, 0x00, 0x12, 0x00, 0x12]
    (enc_status,) = [e.status for _, e in P.events(t0)]
    assert enc_status == 0x0C  # only the Central starts encryption
    rssi = evs[4].return_parameters
    assert int.from_bytes(rssi[1:3], "little") == hc and -100 < int.from_bytes(rssi[3:4], "little", signed=True) < 0
    assert evs[5].return_parameters[3] == C.controller.config.max_tx_power_dbm
    assert evs[6].return_parameters[3:] == bytes([1, 1])
    assert int.from_bytes(evs[8].return_parameters[3:5], "little") == 3000  # 30 s default
