"""Extended advertising and scanning, filter policies, duplicates, terminations, HCI errors."""

from __future__ import annotations

from emu import hci_script as hs
from linklayer.hci import commands as c
from linklayer.hci import le_commands as lc
from linklayer.hci import le_events as le
from linklayer.hci import le_ext_commands as lx
from linklayer.hci.errors import ErrorCode
from linklayer.hci.registry import HCI_Command_Complete_Event, HCI_Command_Status_Event
from linklayer.pdu import decode_adv_pdu
from linklayer.pdu_ext import ExtendedAdvPdu
from phy.types import Phy
from phy.units import MS, S

from .worlds import Node, node, world_with_air

BIG = bytes((i * 7) & 0xFF for i in range(1000))


def _ext_reports(n: Node) -> list[tuple[int, le.ExtendedAdvertisingReport]]:
    return [(t, r) for t, e in n.le_events(le.HCI_LE_Extended_Advertising_Report_Event) for r in e.reports]


def _reassemble(reports: list[le.ExtendedAdvertisingReport]) -> list[tuple[int, bytes]]:
    """Join fragments: (event type without status, data) per complete advertisement."""
    out, buf = [], b""
    for r in reports:
        buf += r.data
        status = (r.event_type >> 5) & 3
        if status != 1:
            out.append((r.event_type & 0x1F | (status << 5), buf))
            buf = b""
    return out


def test_long_extended_advertising_data_arrives_whole_through_aux_chain() -> None:
    world, air = world_with_air(seed=7)
    adv = node(world, "adv", (1.0, 0.0))
    scanner = node(world, "scanner", (0.0, 0.0))
    hs.advertise_extended(adv.driver, properties=0x00, data=BIG, sid=5, secondary_phy=2)
    hs.scan_extended(scanner.driver, active=False)
    world.run(3 * S)
    reports = [r for _, r in _ext_reports(scanner)]
    whole = _reassemble(reports)
    assert whole and all(data == BIG for _, data in whole)
    assert all(r.advertising_sid == 5 and r.secondary_phy == 2 and r.primary_phy == 1 for r in reports)
    # On air: ADV_EXT_IND on 37/38/39 and AUX_* on data channel indices with the 2M PHY.
    aux = [tx for tx, _ in air.records if tx.channel < 37]
    assert aux and {tx.phy for tx in aux} == {Phy.LE_2M}
    chained = [decode_adv_pdu(tx.pdu, secondary=True) for tx in aux]
    assert sum(1 for p in chained if isinstance(p, ExtendedAdvPdu) and p.aux_ptr is not None) >= 4
    # Every AuxPtr points exactly at the next packet's start.
    txs = sorted(air.records, key=lambda r: r[0].start_ns)
    starts = {(tx.channel, tx.start_ns) for tx, _ in txs}
    for tx, _ in txs:
        pdu = decode_adv_pdu(tx.pdu, secondary=tx.channel < 37)
        if isinstance(pdu, ExtendedAdvPdu) and pdu.aux_ptr is not None:
            assert (pdu.aux_ptr.channel_index, tx.start_ns + pdu.aux_ptr.offset_ns()) in starts


def test_scannable_extended_advertising_answers_aux_scan_req_and_notifies() -> None:
    world, _ = world_with_air(seed=8)
    adv = node(world, "adv", (1.0, 0.0))
    scanner = node(world, "scanner", (0.0, 0.0))
    rsp = bytes(range(200)) + bytes(range(200))
    hs.advertise_extended(adv.driver, properties=0x02, scan_response=rsp, scan_request_notification=True)
    hs.scan_extended(scanner.driver, active=True)
    world.run(3 * S)
    whole = _reassemble([r for _, r in _ext_reports(scanner)])
    assert (0x02 | 0x08, rsp) in whole  # scannable + scan response, complete
    notes = adv.le_events(le.HCI_LE_Scan_Request_Received_Event)
    scanner_addr = scanner.driver.controller.config.public_address.value
    assert notes and all(e.scanner_address == scanner_addr for _, e in notes)


def test_legacy_pdus_reported_through_extended_scanning_and_coded_phy() -> None:
    world, _ = world_with_air(seed=9)
    legacy = node(world, "legacy", (1.0, 0.0))
    coded = node(world, "coded", (2.0, 0.0))
    scanner = node(world, "scanner", (0.0, 0.0))
    hs.advertise_extended(legacy.driver, properties=0x13, data=b"\x02\x01\x06")  # legacy ADV_IND
    hs.advertise_extended(coded.driver, properties=0x00, data=b"\x03\x09hi", primary_phy=3, secondary_phy=3)
    hs.scan_extended(scanner.driver, coded=True)
    world.run(4 * S)
    reports = [r for _, r in _ext_reports(scanner)]
    legacy_addr = legacy.driver.controller.config.public_address.value
    coded_addr = coded.driver.controller.config.public_address.value
    assert {r.event_type for r in reports if r.address == legacy_addr} == {0x13}
    coded_reports = [r for r in reports if r.address == coded_addr]
    assert coded_reports and {(r.primary_phy, r.secondary_phy) for r in coded_reports} == {(3, 3)}


def test_several_sets_per_controller() -> None:
    world, _ = world_with_air(seed=10)
    adv = node(world, "adv", (1.0, 0.0))
    scanner = node(world, "scanner", (0.0, 0.0))
    for handle in (0, 1, 2):
        hs.advertise_extended(adv.driver, handle=handle, properties=0x00, sid=handle,
                              data=bytes([2, 0xFF, handle]), own_address_type=1,
                              random_address=bytes([handle + 1, 0, 0, 0, 0, 0xC0]))
    hs.scan_extended(scanner.driver)
    world.run(3 * S)
    seen = {(r.advertising_sid, r.address, r.data) for _, r in _ext_reports(scanner)}
    for handle in (0, 1, 2):
        assert (handle, bytes([handle + 1, 0, 0, 0, 0, 0xC0]), bytes([2, 0xFF, handle])) in seen


def test_duration_and_max_events_terminate_sets() -> None:
    world, _ = world_with_air()
    adv = node(world, "adv")
    hs.advertise_extended(adv.driver, handle=1, properties=0x00, data=b"\x02\x01\x06", duration_10ms=50)
    hs.advertise_extended(adv.driver, handle=2, properties=0x00, data=b"\x02\x01\x06", max_events=3,
                          interval_slots=32)
    world.run(2 * S)
    ended = {e.advertising_handle: (t, e) for t, e in adv.le_events(le.HCI_LE_Advertising_Set_Terminated_Event)}
    t1, e1 = ended[1]
    assert e1.status == ErrorCode.ADVERTISING_TIMEOUT and 500 * MS <= t1 <= 700 * MS
    t2, e2 = ended[2]
    assert e2.status == ErrorCode.LIMIT_REACHED and e2.num_completed_extended_advertising_events == 3


def test_high_duty_directed_stops_after_1_28_s_with_advertising_timeout() -> None:
    world, air = world_with_air()
    adv = node(world, "adv")
    hs.advertise_legacy(adv.driver, advertising_type=1, peer=(0, bytes.fromhex("112233445566")))
    world.run(2 * S)
    done = adv.le_events(le.HCI_LE_Connection_Complete_Event)
    assert len(done) == 1
    t, e = done[0]
    assert e.status == ErrorCode.ADVERTISING_TIMEOUT
    assert 1280 * MS <= t <= 1280 * MS + 4 * MS
    last = max(tx.start_ns for tx in air.by(world, "adv"))
    assert last < t
    # events at most 3.75 ms apart
    starts = [tx.start_ns for tx in air.by(world, "adv") if tx.channel == 37]
    assert max(b - a for a, b in zip(starts, starts[1:])) <= 3_750_000


def test_scanner_filter_policy_and_duplicate_filtering() -> None:
    world, _ = world_with_air(seed=12)
    a = node(world, "a", (1.0, 0.0))
    b = node(world, "b", (1.0, 1.0))
    filt = node(world, "filt", (0.0, 0.0))
    dups = node(world, "dups", (0.0, 0.5))
    for n in (a, b):
        hs.advertise_legacy(n.driver, advertising_type=3, data=b"\x02\x01\x04", interval_slots=32)
    a_addr = a.driver.controller.config.public_address
    hs.send(filt.driver, lc.HCI_LE_Add_Device_To_Filter_Accept_List_Command(0, a_addr.value))
    hs.scan_legacy(filt.driver, filter_policy=1)
    hs.scan_legacy(dups.driver, filter_duplicates=True)
    world.run(2 * S)
    filt_addrs = [r.address for _, e in filt.le_events(le.HCI_LE_Advertising_Report_Event) for r in e.reports]
    assert filt_addrs and set(filt_addrs) == {a_addr.value}
    dup_addrs = [r.address for _, e in dups.le_events(le.HCI_LE_Advertising_Report_Event) for r in e.reports]
    assert sorted(dup_addrs) == sorted({a_addr.value, b.driver.controller.config.public_address.value})


def test_advertiser_filter_policy_ignores_scan_requests_from_others() -> None:
    world, _ = world_with_air(seed=13)
    adv = node(world, "adv", (1.0, 0.0))
    allowed = node(world, "allowed", (0.0, 0.0))
    other = node(world, "other", (0.0, 1.0))
    hs.send(adv.driver, lc.HCI_LE_Add_Device_To_Filter_Accept_List_Command(
        0, allowed.driver.controller.config.public_address.value))
    hs.advertise_legacy(adv.driver, advertising_type=0, data=b"\x02\x01\x06", scan_response=b"\x02\x0a\x00",
                        filter_policy=1)
    hs.scan_legacy(allowed.driver, active=True)
    hs.scan_legacy(other.driver, active=True)
    world.run(3 * S)

    def rsp_count(n: Node) -> int:
        return sum(1 for _, e in n.le_events(le.HCI_LE_Advertising_Report_Event) for r in e.reports if r.event_type == 4)

    assert rsp_count(allowed) > 0 and rsp_count(other) == 0


def _statuses(n: Node) -> list[tuple[int, int]]:
    out = []
    for _, e in n.events():
        if isinstance(e, HCI_Command_Complete_Event):
            out.append((e.command_opcode, e.return_parameters[0]))
        elif isinstance(e, HCI_Command_Status_Event):
            out.append((e.command_opcode, e.status))
    return out


def test_hci_errors_use_the_spec_codes() -> None:
    world, _ = world_with_air()
    n = node(world, "n")
    n.hci.packets.clear()
    n.driver.send_hci(1, bytes([0x99, 0xFC, 0x00]))  # vendor opcode nobody implements
    hs.send(n.driver, lc.HCI_LE_Set_Advertising_Parameters_Command(0x10, 0x20, 0, 0, 0, bytes(6), 7, 0))
    hs.send(n.driver, lc.HCI_LE_Set_Advertising_Parameters_Command(0x20, 0x20, 0, 0, 0, bytes(6), 0, 0))
    hs.advertise_legacy(n.driver, data=b"")
    hs.send(n.driver, lc.HCI_LE_Set_Advertising_Parameters_Command(0x20, 0x20, 0, 0, 0, bytes(6), 7, 0))
    hs.send(n.driver, lx.HCI_LE_Set_Extended_Advertising_Enable_Command(enable=0, sets=()))
    n.driver.send_hci(1, bytes([0x06, 0x20, 0x02, 0x20, 0x00]))  # truncated parameters
    hs.send(n.driver, lc.HCI_LE_Set_Advertising_Enable_Command(advertising_enable=1))  # own random unset
    st = _statuses(n)
    adv_params = lc.HCI_LE_Set_Advertising_Parameters_Command.OPCODE
    assert st[0] == (0xFC99, ErrorCode.UNKNOWN_HCI_COMMAND)
    assert st[1] == (adv_params, ErrorCode.INVALID_HCI_COMMAND_PARAMETERS)  # interval below 20 ms
    assert st[2] == (adv_params, ErrorCode.INVALID_HCI_COMMAND_PARAMETERS)  # empty channel map
    assert (adv_params, ErrorCode.COMMAND_DISALLOWED) in st[3:]  # changed while advertising
    ext_enable = lx.HCI_LE_Set_Extended_Advertising_Enable_Command.OPCODE
    assert (ext_enable, ErrorCode.COMMAND_DISALLOWED) in st  # legacy and extended mixed
    assert (adv_params, ErrorCode.INVALID_HCI_COMMAND_PARAMETERS) in st[-3:]


def test_reset_really_resets() -> None:
    world, air = world_with_air()
    n = node(world, "n")
    hs.advertise_legacy(n.driver, advertising_type=3, data=b"")
    world.run(200 * MS)
    sent = len(air.records)
    assert sent > 0
    hs.send(n.driver, c.HCI_Reset_Command())
    world.run(1 * S)
    assert len(air.records) == sent
    # After reset, extended commands are allowed again (the legacy/extended choice is forgotten).
    n.hci.packets.clear()
    hs.send(n.driver, lx.HCI_LE_Read_Number_of_Supported_Advertising_Sets_Command())
    hs.send(n.driver, lx.HCI_LE_Clear_Advertising_Sets_Command())
    assert [s for _, s in _statuses(n)] == [0, 0]


def test_supported_commands_bitmap_is_true_to_the_implementation() -> None:
    from linklayer.hci.registry import COMMANDS
    from linklayer.hci.supported import SUPPORTED_COMMANDS, is_supported

    world, _ = world_with_air()
    n = node(world, "n")
    n.hci.packets.clear()
    hs.send(n.driver, c.HCI_Read_Local_Supported_Commands_Command())
    (_, ev), = n.events()
    bitmap = ev.decode_returns().supported_commands
    for opcode in SUPPORTED_COMMANDS:
        n.hci.packets.clear()
        cls = COMMANDS[opcode]
        n.driver.send_hci(1, opcode.to_bytes(2, "little") + b"\x00")  # parameters may be wrong
        (_, reply), = n.events()
        unknown = (isinstance(reply, HCI_Command_Status_Event) and reply.status == ErrorCode.UNKNOWN_HCI_COMMAND)
        assert is_supported(bitmap, opcode) == (not unknown), cls.__name__


def test_event_masks_follow_the_spec_pages_and_never_hide_flow_control() -> None:
    import random

    from linklayer.controller import Controller, ControllerConfig

    ctrl = Controller(ControllerConfig(), random.Random(0))
    ctrl.event_mask = 0  # everything on page 1 masked
    ctrl.event_mask_page_2 = 0
    assert ctrl.event_enabled(0x0E) and ctrl.event_enabled(0x0F)
    assert ctrl.event_enabled(0x13)  # Number_Of_Completed_Packets: its old bit 18 is reserved
    assert not ctrl.event_enabled(0x05)  # Disconnection Complete: bit 4
    assert not ctrl.event_enabled(0x57)  # Authenticated Payload Timeout Expired: page 2 bit 23
    ctrl.event_mask_page_2 = 1 << 23
    assert ctrl.event_enabled(0x57)
    ctrl.event_mask = 1 << 4
    assert ctrl.event_enabled(0x05) and not ctrl.event_enabled(0x08)


def test_initiating_locks_the_filter_accept_list_and_the_random_address() -> None:
    world, _ = world_with_air()
    n = node(world, "n")
    hs.send(n.driver, lc.HCI_LE_Add_Device_To_Filter_Accept_List_Command(0, bytes.fromhex("112233445566")))
    hs.send(n.driver, lc.HCI_LE_Create_Connection_Command(
        le_scan_interval=16, le_scan_window=16, initiator_filter_policy=1, peer_address_type=0,
        peer_address=bytes(6), own_address_type=0, connection_interval_min=6, connection_interval_max=6,
        max_latency=0, supervision_timeout=100, min_ce_length=0, max_ce_length=0,
    ))
    n.hci.packets.clear()
    hs.send(n.driver, lc.HCI_LE_Add_Device_To_Filter_Accept_List_Command(0, bytes.fromhex("665544332211")))
    hs.send(n.driver, lc.HCI_LE_Set_Random_Address_Command(random_address=bytes.fromhex("0102030405C6")))
    assert [s for _, s in _statuses(n)] == [ErrorCode.COMMAND_DISALLOWED, ErrorCode.COMMAND_DISALLOWED]
    hs.send(n.driver, lc.HCI_LE_Create_Connection_Cancel_Command())
    n.hci.packets.clear()
    hs.send(n.driver, lc.HCI_LE_Add_Device_To_Filter_Accept_List_Command(0, bytes.fromhex("665544332211")))
    assert [s for _, s in _statuses(n)] == [0]


def test_reset_forgets_advertising_set_random_addresses() -> None:
    world, air = world_with_air()
    n = node(world, "n")
    hs.advertise_extended(n.driver, handle=1, properties=0x00, data=b"\x02\x01\x06", own_address_type=1,
                          random_address=bytes([1, 2, 3, 4, 5, 0xC0]))
    world.run(200 * MS)
    assert air.records
    hs.send(n.driver, c.HCI_Reset_Command())
    n.hci.packets.clear()
    # A new set 1 with own address type random but no random address given since the reset.
    hs.advertise_extended(n.driver, handle=1, properties=0x00, data=b"\x02\x01\x06", own_address_type=1)
    enable = lx.HCI_LE_Set_Extended_Advertising_Enable_Command.OPCODE
    assert (enable, ErrorCode.INVALID_HCI_COMMAND_PARAMETERS) in _statuses(n)
