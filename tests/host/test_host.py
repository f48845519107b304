"""The Host over blesim's simulated controller, driven by emu.host_driver.HostDriver,
and two connected Hosts over a stand-in controller pair.

Nodes in a ``make_world`` world: hosts power on through HCI bytes, one advertises,
another scans and sees the reports; timelines are asserted with their simulated
instants. Connections use :class:`LinkedControllers` (below) until the simulated
controller has them: GATT, pairing, parameter updates and teardown through HCI bytes.
"""

from __future__ import annotations

import random

import pytest

from emu.host_driver import HostDriver
from emu.world import ControllerDriver, World, add_controller_node, make_world
from host.advertising_data import AdvertisingData
from host.events import (
    AdvertisingReport,
    AdvertisingStarted,
    AdvertisingStopped,
    CommandTimedOut,
    HardwareError,
    HostEvent,
    PoweredOn,
    PowerOnFailed,
    ScanStarted,
    ScanStopped,
)
from host.gap import GapConfig
from host.gap_params import AdvertisingParameters, ScanParameters
from host.hci import LocalError
from host.host import Host, HostConfig
from host.att_pdu import ATT_READ_REQ
from host.events import (
    AttTimedOut,
    Connected,
    ConnectionFailed,
    ConnectionParameterRequest,
    ConnectionUpdated,
    Disconnected,
    EncryptionChanged,
    MtuChanged,
    MtuExchanged,
    Notification,
    PairingComplete,
)
from host.gap_params import ConnectionParameters
from host.gatt_db import CharacteristicDef, CharacteristicProperties, ServiceDef
from host.uuid import UUID
from linklayer.address import Address, AddressKind
from linklayer.hci import commands as hc
from linklayer.hci import events as he
from linklayer.hci import le_commands as lc
from linklayer.hci import le_events as le
from linklayer.hci.codec import HciEvent, ReturnParameters
from linklayer.hci.events import (
    HCI_Disconnection_Complete_Event,
    HCI_Encryption_Change_Event,
    command_complete,
    command_status,
)
from linklayer.hci.registry import parse_command
from linklayer.hci.supported import SUPPORTED_COMMANDS, LeFeature, supported_commands_bitmap
from phy.units import MS


def node(world: World, name: str, position: tuple[float, float], config: HostConfig | None = None
         ) -> tuple[Host, HostDriver, ControllerDriver]:
    controller = add_controller_node(world, name, position)
    host = Host(world.kernel.seeds.stream(f"node/{name}/host"), config)
    return host, HostDriver(world, controller, host), controller


def kinds(events: list[tuple[int, HostEvent]]) -> list[str]:
    return [type(e).__name__ for _, e in events]


def test_powering_on_against_the_simulated_controller() -> None:
    world = make_world(3)
    host, driver, controller = node(world, "a", (0, 0))
    world.run(1 * MS)
    assert kinds(driver.events) == ["PoweredOn"]
    t, on = driver.events[0]
    assert isinstance(on, PoweredOn) and t == 0
    assert on.public_address == controller.controller.config.public_address  # type: ignore[attr-defined]
    assert on.extended_advertising and on.le_acl_data_packet_length == 251
    assert host.powered and host.hci.stats.unexpected_completions == 0


def test_advertiser_and_scanner() -> None:
    world = make_world(11)
    adv, adv_driver, _ = node(world, "adv", (0, 0))
    scn, scn_driver, _ = node(world, "scn", (3, 0), HostConfig(gap=GapConfig(address_type="random")))
    world.run(1 * MS)
    data = AdvertisingData.build(flags=0x06, name="blesim")
    adv.start_advertising(world.kernel.now, data, b"\x03\x19\x40\x02",  # Appearance 0x0240
                          AdvertisingParameters(interval_min_ns=40 * MS))
    adv_driver.service()
    scn.start_scan(world.kernel.now, ScanParameters(interval_ns=50 * MS, window_ns=50 * MS))
    scn_driver.service()
    world.run(200 * MS)
    assert adv_driver.events[1] == (1 * MS, AdvertisingStarted(0, extended_pdus=False))
    assert scn_driver.events[1] == (1 * MS, ScanStarted(active=True))
    reports = [e for _, e in scn_driver.events_of(AdvertisingReport)]
    assert isinstance(reports[0], AdvertisingReport)
    assert reports[0].address == adv.address and reports[0].advertising_data.local_name == "blesim"
    responses = [r for r in reports if isinstance(r, AdvertisingReport) and r.scan_response]
    assert responses and responses[0].advertising_data.appearance == 0x0240
    assert len(reports) >= 6  # 40 ms interval over ~200 ms, each with its scan response
    # the scanner used its random static address in SCAN_REQs: it was set at power-on
    assert scn.address.kind is AddressKind.RANDOM_STATIC


def test_extended_advertising_with_long_data_reaches_a_scanner_whole() -> None:
    world = make_world(12)
    adv, adv_driver, _ = node(world, "adv", (0, 0))
    scn, scn_driver, _ = node(world, "scn", (3, 0))
    world.run(1 * MS)
    data = AdvertisingData.build(flags=0x06, name="x" * 200, manufacturer=(0x0059, bytes(250)))
    assert len(data.to_bytes()) > 450
    adv.start_advertising(world.kernel.now, data, params=AdvertisingParameters(
        interval_min_ns=50 * MS, connectable=False, scannable=False))
    scn.start_scan(world.kernel.now, ScanParameters(active=False))
    adv_driver.service()
    scn_driver.service()
    world.run(150 * MS)
    assert adv_driver.events[1][1] == AdvertisingStarted(0, extended_pdus=True)
    reports = [e for _, e in scn_driver.events_of(AdvertisingReport)]
    assert reports and all(isinstance(r, AdvertisingReport) and r.data == data.to_bytes() for r in reports)
    first = reports[0]
    assert isinstance(first, AdvertisingReport) and not first.legacy and not first.truncated


def test_legacy_configured_hosts_interoperate() -> None:
    world = make_world(13)
    legacy = HostConfig(gap=GapConfig(hci_commands="legacy"))
    adv, adv_driver, _ = node(world, "adv", (0, 0), legacy)
    scn, scn_driver, _ = node(world, "scn", (2, 0), legacy)
    world.run(1 * MS)
    with pytest.raises(LocalError, match="extended advertising"):
        adv.start_advertising(world.kernel.now, bytes(40))
    adv.start_advertising(world.kernel.now, b"\x02\x01\x06", params=AdvertisingParameters(
        interval_min_ns=30 * MS, connectable=False, scannable=False))
    scn.start_scan(world.kernel.now, ScanParameters(active=False, duration_ns=100 * MS))
    adv_driver.service()
    scn_driver.service()
    world.run(300 * MS)
    reports = [e for _, e in scn_driver.events_of(AdvertisingReport)]
    assert reports and all(isinstance(r, AdvertisingReport) and r.legacy and r.event_type == 3 for r in reports)
    # the host timed the legacy scan: it stopped exactly 100 ms after it started
    assert scn_driver.events_of(ScanStopped) == [(101 * MS, ScanStopped(timeout=True))]
    adv.stop_advertising(world.kernel.now)
    adv_driver.service()
    assert adv_driver.events[-1] == (300 * MS, AdvertisingStopped(0, 0))


def test_a_silent_controller_times_out_with_a_clear_event() -> None:
    host = Host(random.Random(0))
    host.power_on(0)
    assert host.take_hci() == [(1, bytes.fromhex("030c00"))]
    assert host.get_timer() == 2_000_000_000
    host.handle_timer(2_000_000_000)
    events = host.take_events()
    assert events[0] == CommandTimedOut(0x0C03, "HCI_Reset", 2_000_000_000)
    assert isinstance(events[1], PowerOnFailed) and events[1].command == "HCI_Reset"


def test_hardware_error_reruns_power_on_over_the_simulated_controller() -> None:
    world = make_world(14)
    host, driver, controller = node(world, "a", (0, 0))
    world.run(1 * MS)
    host.start_advertising(world.kernel.now, b"\x02\x01\x06")
    driver.service()
    world.run(5 * MS)
    controller.controller.hardware_error(0x42)  # type: ignore[attr-defined]
    controller.service()
    world.run(10 * MS)
    assert kinds(driver.events) == [
        "PoweredOn", "AdvertisingStarted", "HardwareError", "AdvertisingStopped", "PoweredOn",
    ]
    assert driver.events[2] == (5 * MS, HardwareError(0x42))
    assert host.powered


def test_unknown_and_vendor_events_from_the_controller_are_counted() -> None:
    host = Host(random.Random(0))
    host.hci_from_controller(4, bytes.fromhex("ff 02 aa bb"), 0)
    host.hci_from_controller(4, he.HCI_Data_Buffer_Overflow_Event(link_type=1).to_bytes(), 0)
    host.hci_from_controller(4, bytes.fromhex("3e 03 99 00 00"), 0)
    stats = host.hci.stats
    assert (stats.vendor_events, stats.unknown_events, stats.data_buffer_overflows) == (1, 1, 1)
    assert host.take_events() == []


# -- two hosts over a stand-in controller pair (connections, ACL, encryption) -------------
#
# blesim's controller gains connections in another part of the work; until then this
# stand-in answers each host's commands like a 5.x controller and carries ACL data and
# the encryption handshake between the two hosts, so the host's composition (L2CAP,
# ATT/GATT, SMP over HCI bytes) is exercised end to end.

HANDLE = 0x0040


class LinkedControllers:
    """Two stand-in controllers joined by one connection (handle 0x0040 on both)."""

    def __init__(self, central: Host, peripheral: Host) -> None:
        self.hosts = [central, peripheral]
        self.addresses = [Address.parse("11:00:00:00:00:01"), Address.parse("22:00:00:00:00:02")]
        self.inbox: list[list[tuple[int, bytes]]] = [[], []]
        self.now = 0
        self.ltk: bytes | None = None
        self.log: list[tuple[int, str]] = []
        self.bitmap = supported_commands_bitmap(
            [op for op in SUPPORTED_COMMANDS if op != lc.HCI_LE_Read_Buffer_Size_V2_Command.OPCODE])

    def event(self, side: int, event: HciEvent) -> None:
        self.inbox[side].append((4, event.to_bytes()))

    def reply(self, side: int, packet: bytes) -> None:
        cmd = parse_command(packet)
        op = cmd.OPCODE
        other = 1 - side
        self.log.append((side, type(cmd).__name__))
        returns: ReturnParameters | None = None
        if isinstance(cmd, hc.HCI_Read_Local_Supported_Commands_Command):
            returns = hc.HCI_Read_Local_Supported_Commands_ReturnParameters(0, self.bitmap)
        elif isinstance(cmd, hc.HCI_Read_BD_ADDR_Command):
            returns = hc.HCI_Read_BD_ADDR_ReturnParameters(0, self.addresses[side].value)
        elif isinstance(cmd, lc.HCI_LE_Read_Local_Supported_Features_Command):
            returns = lc.HCI_LE_Read_Local_Supported_Features_ReturnParameters(0, int(LeFeature.LE_ENCRYPTION))
        elif isinstance(cmd, lc.HCI_LE_Read_Buffer_Size_Command):
            returns = lc.HCI_LE_Read_Buffer_Size_ReturnParameters(0, 27, 3)
        elif isinstance(cmd, lc.HCI_LE_Enable_Encryption_Command):
            self.ltk = bytes(cmd.long_term_key)
            self.event(side, command_status(op, 0))
            self.event(other, le.HCI_LE_Long_Term_Key_Request_Event(
                connection_handle=HANDLE, random_number=cmd.random_number,
                encrypted_diversifier=cmd.encrypted_diversifier))
            return
        elif isinstance(cmd, lc.HCI_LE_Long_Term_Key_Request_Reply_Command):
            self.event(side, command_complete(op, bytes([0]) + HANDLE.to_bytes(2, "little")))
            status = 0 if bytes(cmd.long_term_key) == self.ltk else 0x06
            for s in (0, 1):
                self.event(s, HCI_Encryption_Change_Event(status=status, connection_handle=HANDLE,
                                                          encryption_enabled=int(status == 0)))
            return
        elif isinstance(cmd, lc.HCI_LE_Connection_Update_Command):
            self.event(side, command_status(op, 0))
            for s in (0, 1):
                self.event(s, le.HCI_LE_Connection_Update_Complete_Event(
                    status=0, connection_handle=HANDLE, connection_interval=cmd.connection_interval_max,
                    peripheral_latency=cmd.max_latency, supervision_timeout=cmd.supervision_timeout))
            return
        elif isinstance(cmd, hc.HCI_Disconnect_Command):
            self.event(side, command_status(op, 0))
            self.event(side, HCI_Disconnection_Complete_Event(status=0, connection_handle=HANDLE, reason=0x16))
            self.event(other, HCI_Disconnection_Complete_Event(status=0, connection_handle=HANDLE,
                                                               reason=cmd.reason))
            return
        if type(cmd).RETURNS is None:
            self.event(side, command_status(op, 0))
        else:
            self.event(side, command_complete(op, returns if returns is not None else bytes([0])))

    def acl(self, side: int, packet: bytes) -> None:
        word = int.from_bytes(packet[:2], "little")
        pb = (word >> 12) & 0b11
        flags = 0b10 if pb == 0b00 else 0b01  # the controller marks first fragments 0b10
        out = (HANDLE | flags << 12).to_bytes(2, "little") + packet[2:]
        self.inbox[1 - side].append((2, out))
        self.inbox[side].append((4, bytes.fromhex("13 05 01 4000 0100")))  # its buffer is free

    def run(self, until: int | None = None) -> None:
        """Exchange packets until both sides are quiet, then fire timers up to ``until``."""
        while True:
            busy = False
            for side, host in enumerate(self.hosts):
                for h4_type, packet in host.take_hci():
                    busy = True
                    (self.reply if h4_type == 1 else self.acl)(side, packet)
                while self.inbox[side]:
                    busy = True
                    h4_type, packet = self.inbox[side].pop(0)
                    host.hci_from_controller(h4_type, packet, self.now)
            if busy:
                continue
            timers = [t for t in (h.get_timer() for h in self.hosts) if t is not None]
            if until is None or not timers or min(timers) > until:
                break
            self.now = max(self.now, min(timers))
            for host in self.hosts:
                host.handle_timer(self.now)

    def connect(self) -> None:
        for side in (0, 1):
            peer = self.addresses[1 - side]
            self.event(side, le.HCI_LE_Connection_Complete_Event(
                status=0, connection_handle=HANDLE, role=side, peer_address_type=0, peer_address=peer.value,
                connection_interval=24, peripheral_latency=0, supervision_timeout=400, central_clock_accuracy=0))
        self.run()


def connected_pair() -> tuple[Host, Host, LinkedControllers]:
    central = Host(random.Random(1), HostConfig(device_name="central"))
    peripheral = Host(random.Random(2), HostConfig(device_name="peripheral", appearance=0x0340))
    link = LinkedControllers(central, peripheral)
    central.power_on(0)
    peripheral.power_on(0)
    link.run()
    assert central.powered and peripheral.powered
    link.connect()
    return central, peripheral, link


def test_connected_hosts_run_gatt_over_hci() -> None:

    central, peripheral, link = connected_pair()
    svc = peripheral.gatt_server.add_service(ServiceDef(UUID(0x180F), (
        CharacteristicDef(UUID(0x2A19), CharacteristicProperties.READ | CharacteristicProperties.NOTIFY,
                          value=bytes([87])),
    )))
    ch = svc.characteristics[0]
    c_events = central.take_events()
    p_events = peripheral.take_events()
    assert [type(e).__name__ for e in c_events] == ["PoweredOn", "Connected"]
    assert isinstance(c_events[1], Connected) and c_events[1].role == "central"
    assert isinstance(p_events[1], Connected) and p_events[1].role == "peripheral"

    client = central.gatt_client(HANDLE)
    results: list[object] = []
    client.exchange_mtu(0, results.append)
    op = client.discover_all(0, results.append)
    link.run()
    assert results[0] == 247 and op.done
    assert results[1] == peripheral.gatt_server.describe()  # the client's view is the server's
    client.read(ch.value_handle, 0, results.append)
    link.run()
    assert results[2] == bytes([87])
    services = results[1]
    assert isinstance(services, list)
    info = [c for s in services for c in s.characteristics if c.value_handle == ch.value_handle][0]
    client.subscribe(info, 0, on_done=results.append)
    link.run()
    assert peripheral.gatt_server.notify(ch.value_handle, bytes([86])) == [HANDLE]
    link.run()
    c_events = central.take_events()
    assert Notification(HANDLE, ch.value_handle, bytes([86])) in c_events
    p_events = peripheral.take_events()
    assert MtuChanged(HANDLE, 247) in p_events
    # Both sides also hear that the exchange completed (once each).
    assert [e for e in c_events if isinstance(e, MtuExchanged)] == [MtuExchanged(HANDLE, 247)]
    assert [e for e in p_events if isinstance(e, MtuExchanged)] == [MtuExchanged(HANDLE, 247)]


def test_connected_hosts_pair_and_encrypt() -> None:

    central, peripheral, link = connected_pair()
    central.take_events()
    peripheral.take_events()
    central.pair(HANDLE, 0)
    link.run()
    c = central.take_events()
    p = peripheral.take_events()
    assert [type(e).__name__ for e in c] == ["EncryptionChanged", "PairingComplete"]
    assert c[0] == EncryptionChanged(HANDLE, 0, True, 16)
    done = [e for e in c + p if isinstance(e, PairingComplete)]
    assert len(done) == 2 and all(e.success for e in done)
    assert central.smp(HANDLE).security.encrypted and peripheral.smp(HANDLE).security.encrypted
    assert (1, "HCI_LE_Long_Term_Key_Request_Reply_Command") in link.log  # the peripheral gave the key
    assert (0, "HCI_LE_Enable_Encryption_Command") in link.log


def test_peripheral_asks_the_central_for_parameters_over_l2cap() -> None:

    central, peripheral, link = connected_pair()
    central.take_events()
    peripheral.take_events()
    fast = ConnectionParameters(interval_min_ns=7_500_000, interval_max_ns=15 * MS, supervision_timeout_ns=2000 * MS)
    peripheral.update_connection(HANDLE, fast, 0)
    link.run()
    assert central.take_events() == [
        ConnectionParameterRequest(HANDLE, 7_500_000, 15 * MS, 0, 2000 * MS, True),
        ConnectionUpdated(HANDLE, 15 * MS, 0, 2000 * MS),
    ]
    assert peripheral.take_events() == [ConnectionUpdated(HANDLE, 15 * MS, 0, 2000 * MS)]
    assert (1, "HCI_LE_Connection_Update_Command") not in link.log  # only the central sent it


def test_disconnect_tears_the_connection_down() -> None:

    central, peripheral, link = connected_pair()
    central.take_events()
    peripheral.take_events()
    central.disconnect(HANDLE, 0)
    link.run()
    assert central.take_events() == [Disconnected(HANDLE, 0x16)]
    assert peripheral.take_events() == [Disconnected(HANDLE, 0x13)]
    with pytest.raises(LocalError):
        central.gatt_client(HANDLE)
    assert not central.l2cap.has_connection(HANDLE) and central.get_timer() is None


def test_att_timeout_disconnects() -> None:

    central, peripheral, link = connected_pair()
    central.take_events()
    bearer = central.att_bearer(HANDLE)
    link.hosts = [central, Host(random.Random(9))]  # the peer goes silent
    bearer.request(ATT_READ_REQ(3), 0, lambda r, t: None)
    link.run(until=40_000_000_000)
    events = central.take_events()
    assert events[0] == AttTimedOut(HANDLE) and events[-1] == Disconnected(HANDLE, 0x16)


def test_a_reused_handle_without_disconnection_starts_afresh() -> None:
    central, peripheral, link = connected_pair()
    old = central.gatt_client(HANDLE)
    link.connect()  # the controller reports the handle again: the old link is dropped
    assert central.gatt_client(HANDLE) is not old and central.l2cap.has_connection(HANDLE)


# -- two hosts connected over the simulated radio -------------------------------------------


def test_two_hosts_connect_and_use_gatt_and_smp_over_the_simulated_radio() -> None:
    world = make_world(5)
    per, per_driver, _ = node(world, "per", (0, 0))
    cen, cen_driver, _ = node(world, "cen", (2, 0))
    svc = per.gatt_server.add_service(ServiceDef(UUID("12345678-1234-5678-1234-56789abcdef0"), (
        CharacteristicDef(UUID(0x2A19), CharacteristicProperties.READ | CharacteristicProperties.NOTIFY,
                          value=bytes(range(200))),
    )))
    value_handle = svc.characteristics[0].value_handle
    world.run(1 * MS)
    per.start_advertising(world.kernel.now, b"\x02\x01\x06", params=AdvertisingParameters(interval_min_ns=30 * MS))
    per_driver.service()
    cen.connect(per.address, world.kernel.now, ConnectionParameters(interval_min_ns=15 * MS, interval_max_ns=15 * MS),
                timeout_ns=2000 * MS)
    cen_driver.service()
    world.run(200 * MS)
    (t_c, connected), = cen_driver.events_of(Connected)
    (t_p, accepted), = per_driver.events_of(Connected)
    assert isinstance(connected, Connected) and isinstance(accepted, Connected)
    assert t_c == t_p and connected.role == "central" and accepted.role == "peripheral"
    assert connected.peer_address == per.address and accepted.peer_address == cen.address
    assert connected.interval_ns == 15 * MS
    assert per_driver.events_of(AdvertisingStopped)[0][1] == AdvertisingStopped(0, 0, accepted.handle)

    handle = connected.handle
    client = cen.gatt_client(handle)
    results: list[object] = []
    client.exchange_mtu(world.kernel.now, results.append)
    client.discover_all(world.kernel.now, results.append)
    client.read_long(value_handle, world.kernel.now, results.append)
    cen_driver.service()
    world.run(world.kernel.now + 1000 * MS)
    assert results == [247, per.gatt_server.describe(), bytes(range(200))]

    cen.pair(handle, world.kernel.now)
    cen_driver.service()
    world.run(world.kernel.now + 1000 * MS)
    for driver in (cen_driver, per_driver):
        (_, done), = driver.events_of(PairingComplete)
        assert isinstance(done, PairingComplete) and done.success
        assert isinstance(driver.events_of(EncryptionChanged)[0][1], EncryptionChanged)
    assert cen.smp(handle).security.encrypted and per.smp(accepted.handle).security.encrypted

    slow = ConnectionParameters(interval_min_ns=30 * MS, interval_max_ns=30 * MS, supervision_timeout_ns=2000 * MS)
    per.update_connection(accepted.handle, slow, world.kernel.now)
    per_driver.service()
    world.run(world.kernel.now + 1000 * MS)
    assert [e for _, e in per_driver.events_of(ConnectionUpdated)] == [
        ConnectionUpdated(accepted.handle, 30 * MS, 0, 2000 * MS)]
    assert [e for _, e in cen_driver.events_of(ConnectionUpdated)] == [ConnectionUpdated(handle, 30 * MS, 0, 2000 * MS)]

    cen.disconnect(handle, world.kernel.now)
    cen_driver.service()
    world.run(world.kernel.now + 500 * MS)
    assert [e for _, e in cen_driver.events_of(Disconnected)] == [Disconnected(handle, 0x16)]
    assert [e for _, e in per_driver.events_of(Disconnected)] == [Disconnected(accepted.handle, 0x13)]
    for host in (cen, per):
        assert host.hci.connections == {} and host.hci.acl_credits == host.hci.total_num_le_acl_data_packets
        assert host.hci.stats.malformed_packets == 0 and host.hci.stats.unexpected_completions == 0


def test_connect_timeout_over_the_simulated_radio() -> None:
    world = make_world(6)
    cen, cen_driver, _ = node(world, "cen", (0, 0))
    world.run(1 * MS)
    nobody = Address.parse("C0:00:00:00:00:01", random=True)
    cen.connect(nobody, world.kernel.now, timeout_ns=300 * MS)
    cen_driver.service()
    world.run(1000 * MS)
    (t, failed), = cen_driver.events_of(ConnectionFailed)
    assert failed == ConnectionFailed(nobody, 0x02, "timeout") and t == 301 * MS
    assert not cen.gap.connecting
