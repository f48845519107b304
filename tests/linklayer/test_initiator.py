"""Initiating (Vol 6 Part B 4.4.4): legacy and extended, filter policy, cancel."""

from __future__ import annotations

from linklayer.address import Address
from linklayer.hci import le_commands as lc
from linklayer.hci import le_ext_commands as lx
from linklayer.initiator import (
    TRANSITIONS,
    ConnRequest,
    Initiator,
    InitiatorConfig,
    InitiatorPhy,
    Input,
    State,
)
from linklayer.pdu import AUX_CONNECT_REQ, CONNECT_IND, ExtendedAdvPdu, decode_adv_pdu
from linklayer.radio import ADVERTISING_ACCESS_ADDRESS, RadioPacket
from linklayer.scheduler import Radio
from phy.types import Phy
from phy.units import MS, US, S
from tests.linklayer.test_connection_rig import AirRecord, Rig

T_IFS = 150 * US


def adv_packets(rig: Rig) -> list[AirRecord]:
    return [r for r in rig.air if r.aa == ADVERTISING_ACCESS_ADDRESS]


def test_connect_ind_t_ifs_after_the_peers_adv_ind() -> None:
    rig = Rig(seed=41)
    C = rig.add("c", (0.0, 0.0))
    P = rig.add("p", (2.0, 0.0))
    rig.connect(C, P)
    air = adv_packets(rig)
    (i,) = [n for n, r in enumerate(air) if r.pdu[0] & 0x0F == 0x05]
    req, adv = air[i], air[i - 1]
    assert adv.sender == P.driver.radio_id and adv.pdu[0] & 0x0F == 0x00  # ADV_IND
    assert adv.pdu[0] & 0x20  # ChSel: the advertiser supports CSA #2
    assert req.t == adv.end + T_IFS and req.channel == adv.channel
    pdu = decode_adv_pdu(req.pdu)
    assert isinstance(pdu, CONNECT_IND) and pdu.ch_sel
    assert pdu.init_a == C.address and pdu.adv_a == P.address
    ll = pdu.ll_data
    assert (ll.interval, ll.latency, ll.timeout, ll.win_size, ll.sca) == (24, 0, 100, 1, 5)
    assert 5 <= ll.hop <= 16 and ll.ch_m == (1 << 37) - 1
    # Both sides report the connection at the end of the CONNECT_IND.
    (tc, ec), = [(t, e) for t, e in C.events() if type(e).__name__ == "HCI_LE_Enhanced_Connection_Complete_Event"]
    (tp, ep), = [(t, e) for t, e in P.events() if type(e).__name__ == "HCI_LE_Enhanced_Connection_Complete_Event"]
    assert tc == tp == req.end
    assert (ec.role, ec.peer_address, ec.central_clock_accuracy) == (0, P.address.value, 0)
    assert (ep.role, ep.peer_address, ep.central_clock_accuracy) == (1, C.address.value, 5)
    assert P.controller.advertisers == {}  # legacy advertising ends with the connection
    csa = [e for _, e in C.events() if type(e).__name__ == "HCI_LE_Channel_Selection_Algorithm_Event"]
    assert [e.channel_selection_algorithm for e in csa] == [1]


def test_legacy_connection_complete_when_enhanced_is_masked() -> None:
    rig = Rig(seed=42)
    C = rig.add("c", (0.0, 0.0))
    P = rig.add("p", (2.0, 0.0))
    rig.cmd(C, lc.HCI_LE_Set_Event_Mask_Command(le_event_mask=0x1F))
    rig.advertise(P)
    rig.create(C, P)
    t, ev = rig.run_until(C, "HCI_LE_Connection_Complete_Event")
    assert ev.status == 0 and ev.role == 0
    assert "HCI_LE_Channel_Selection_Algorithm_Event" not in C.event_names()


def test_filter_accept_list_policy_picks_the_listed_advertiser() -> None:
    rig = Rig(seed=43)
    C = rig.add("c", (0.0, 0.0))
    near = rig.add("near", (0.5, 0.0))
    listed = rig.add("listed", (3.0, 0.0))
    rig.advertise(near)
    rig.advertise(listed)
    rig.cmd(C, lc.HCI_LE_Add_Device_To_Filter_Accept_List_Command(address_type=0, address=listed.address.value))
    rig.cmd(C, lc.HCI_LE_Create_Connection_Command(
        le_scan_interval=0x60, le_scan_window=0x60, initiator_filter_policy=1, peer_address_type=0,
        peer_address=bytes(6), own_address_type=0, connection_interval_min=24, connection_interval_max=24,
        max_latency=0, supervision_timeout=100, min_ce_length=0, max_ce_length=0))
    _, ev = rig.run_until(C, "HCI_LE_Enhanced_Connection_Complete_Event")
    assert ev.peer_address == listed.address.value
    assert not near.controller.connections


def test_directed_advertising_connects() -> None:
    rig = Rig(seed=44)
    C = rig.add("c", (0.0, 0.0))
    P = rig.add("p", (2.0, 0.0))
    rig.cmd(P, lc.HCI_LE_Set_Advertising_Parameters_Command(
        advertising_interval_min=0x20, advertising_interval_max=0x20, advertising_type=4, own_address_type=0,
        peer_address_type=0, peer_address=C.address.value, advertising_channel_map=7, advertising_filter_policy=0))
    rig.cmd(P, lc.HCI_LE_Set_Advertising_Enable_Command(advertising_enable=1))
    rig.create(C, P)
    _, ev = rig.run_until(C, "HCI_LE_Enhanced_Connection_Complete_Event")
    assert ev.status == 0
    (req,) = [r for r in adv_packets(rig) if r.pdu[0] & 0x0F == 0x05]
    (adv,) = [r for r in adv_packets(rig) if r.end + T_IFS == req.t]
    assert adv.pdu[0] & 0x0F == 0x01  # ADV_DIRECT_IND


def test_cancel_reports_unknown_connection_identifier() -> None:
    rig = Rig(seed=45)
    C = rig.add("c", (0.0, 0.0))
    absent = Address.parse("C0:11:22:33:44:55")
    rig.cmd(C, lc.HCI_LE_Create_Connection_Command(
        le_scan_interval=0x60, le_scan_window=0x30, initiator_filter_policy=0, peer_address_type=0,
        peer_address=absent.value, own_address_type=0, connection_interval_min=24, connection_interval_max=24,
        max_latency=0, supervision_timeout=100, min_ce_length=0, max_ce_length=0))
    rig.run(500 * MS)
    t0 = rig.now
    rig.cmd(C, lc.HCI_LE_Create_Connection_Cancel_Command())
    rig.cmd(C, lc.HCI_LE_Create_Connection_Cancel_Command())
    rig.run(1 * MS)
    evs = C.events(t0)
    assert [(t, type(e).__name__) for t, e in evs] == [
        (t0, "HCI_Command_Complete_Event"),
        (t0, "HCI_LE_Enhanced_Connection_Complete_Event"),
        (t0, "HCI_Command_Complete_Event"),
    ]
    assert evs[0][1].return_parameters == b"\x00"
    assert evs[1][1].status == 0x02 and evs[1][1].peer_address == absent.value
    assert evs[2][1].return_parameters == b"\x0c"  # nothing to cancel: Command Disallowed
    # Listening happened in windows on the three primary channels only.
    assert C.controller.initiator is None


def test_create_connection_parameter_checks() -> None:
    rig = Rig(seed=46)
    C = rig.add("c", (0.0, 0.0))

    def create(**kw: int) -> None:
        args = dict(le_scan_interval=0x60, le_scan_window=0x60, initiator_filter_policy=0, peer_address_type=0,
                    peer_address=bytes(6), own_address_type=0, connection_interval_min=24,
                    connection_interval_max=24, max_latency=0, supervision_timeout=100, min_ce_length=0,
                    max_ce_length=0)
        args.update(kw)
        rig.cmd(C, lc.HCI_LE_Create_Connection_Command(**args))  # type: ignore[arg-type]

    rig.run(1 * MS)
    t0 = rig.now
    create(le_scan_window=0x61)  # window > interval
    create(connection_interval_min=5, connection_interval_max=5)
    create(connection_interval_min=80, connection_interval_max=80, supervision_timeout=10)  # not > 2 · 100 ms
    create(max_latency=500)
    create(own_address_type=1)  # no random address set
    create()
    create()  # already initiating
    rig.cmd(C, lx.HCI_LE_Set_Extended_Scan_Enable_Command(enable=0, filter_duplicates=0, duration=0, period=0))
    rig.run(1 * MS)
    statuses = [e.status if hasattr(e, "status") else e.return_parameters[0] for _, e in C.events(t0)]
    assert statuses == [0x12, 0x12, 0x12, 0x12, 0x12, 0x00, 0x0C, 0x0C]


def test_extended_initiating_through_aux_connect_req_and_rsp() -> None:
    rig = Rig(seed=47)
    C = rig.add("c", (0.0, 0.0))
    P = rig.add("p", (2.0, 0.0))
    rig.cmd(P, lx.HCI_LE_Set_Extended_Advertising_Parameters_Command(
        advertising_handle=2, advertising_event_properties=0x01, primary_advertising_interval_min=0x40,
        primary_advertising_interval_max=0x40, primary_advertising_channel_map=7, own_address_type=0,
        peer_address_type=0, peer_address=bytes(6), advertising_filter_policy=0, advertising_tx_power=0,
        primary_advertising_phy=1, secondary_advertising_max_skip=0, secondary_advertising_phy=2,
        advertising_sid=3, scan_request_notification_enable=0))
    rig.cmd(P, lx.HCI_LE_Set_Extended_Advertising_Enable_Command(
        enable=1, sets=(lx.AdvertisingSetEnable(advertising_handle=2),)))
    params = lx.ExtendedCreateConnectionParameters(
        scan_interval=0x60, scan_window=0x60, connection_interval_min=24, connection_interval_max=24, max_latency=0,
        supervision_timeout=100, min_ce_length=0, max_ce_length=0)
    fast = lx.ExtendedCreateConnectionParameters(
        scan_interval=0x60, scan_window=0x60, connection_interval_min=8, connection_interval_max=8, max_latency=0,
        supervision_timeout=100, min_ce_length=0, max_ce_length=0)
    rig.cmd(C, lx.HCI_LE_Extended_Create_Connection_Command(
        initiator_filter_policy=0, own_address_type=0, peer_address_type=0, peer_address=P.address.value,
        initiating_phys=0x03, phys=(params, fast)))
    tc, ec = rig.run_until(C, "HCI_LE_Enhanced_Connection_Complete_Event")
    assert ec.status == 0 and ec.connection_interval == 8  # the LE 2M parameters: AUX_ADV_IND on 2M
    secondary = [r for r in adv_packets(rig) if r.channel < 37]
    (i,) = [n for n, r in enumerate(secondary) if r.pdu[0] & 0x0F == 0x05]
    aux_adv, req, rsp = secondary[i - 1], secondary[i], secondary[i + 1]
    assert req.t == aux_adv.end + T_IFS and rsp.t == req.end + T_IFS
    assert req.phy == rsp.phy == Phy.LE_2M and req.channel == rsp.channel == aux_adv.channel
    pdu = decode_adv_pdu(req.pdu, secondary=True)
    assert isinstance(pdu, AUX_CONNECT_REQ) and not pdu.ch_sel
    answer = decode_adv_pdu(rsp.pdu, secondary=True)
    assert isinstance(answer, ExtendedAdvPdu) and answer.adv_a == P.address and answer.target_a == C.address
    assert tc == rsp.end  # the Central's connection exists once AUX_CONNECT_RSP arrived
    names = P.event_names()
    i = names.index("HCI_LE_Enhanced_Connection_Complete_Event")
    assert names[i + 1:i + 3] == ["HCI_LE_Channel_Selection_Algorithm_Event", "HCI_LE_Advertising_Set_Terminated_Event"]
    terminated = [e for _, e in P.events() if type(e).__name__ == "HCI_LE_Advertising_Set_Terminated_Event"][0]
    assert (terminated.status, terminated.advertising_handle, terminated.connection_handle) == (0, 2, 0)
    csa = [e.channel_selection_algorithm for _, e in C.events()
           if type(e).__name__ == "HCI_LE_Channel_Selection_Algorithm_Event"]
    assert csa == [1]  # always CSA #2 after AUX_CONNECT_REQ
    rig.run(1 * S)
    conn = C.controller.connections[ec.connection_handle]
    assert conn.tx_phy == Phy.LE_2M and conn.established


# -- the state table --------------------------------------------------------------------------


class _Host:
    def filter_accepts(self, address: Address) -> bool:
        return False

    def is_own_address(self, address: Address) -> bool:
        return False

    def connect_request(self, *args: object) -> CONNECT_IND:  # pragma: no cover - never reached
        raise AssertionError

    def initiator_connected(self, *args: object) -> None:  # pragma: no cover - never reached
        raise AssertionError

    def foreground_horizon(self, activity: object) -> int | None:
        return None


def test_inputs_a_state_does_not_take_are_counted_not_acted_on() -> None:
    req = ConnRequest(24, 24, 0, 100)
    config = InitiatorConfig((InitiatorPhy(Phy.LE_1M, 60 * MS, 30 * MS, req),), Address(bytes(6)), 0,
                             Address(bytes(5) + b"\x01"))
    init = Initiator(config, Radio(), _Host(), 0, lambda a, t: None)
    packet = RadioPacket(0, 100, 37, Phy.LE_1M, ADVERTISING_ACCESS_ADDRESS, b"\x00\x00", b"\x00\x00\x00", -50.0)
    assert (State.IDLE, Input.PACKET) not in TRANSITIONS
    init.on_packet(packet, 0)
    init.on_synced(0)
    init.on_timer(0)
    init.on_lost(0)
    assert init.ignored == 4 and init.state is State.IDLE
    init.begin(0)
    assert init.state.name == "LISTENING"
    init.on_packet(packet, 1)  # not synced yet: ignored
    assert init.ignored == 5
    init.on_synced(10)
    init.on_packet(packet, 100)  # a bad CRC: back to listening
    assert init.state.name == "LISTENING"
    init.stop()
    init.begin(200)
    assert init.state.name == "DONE" and init.ignored == 6
