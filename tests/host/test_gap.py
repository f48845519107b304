"""GAP over HCI: power-on adapting to the controller, advertising, scanning, connecting,
parameter updates from both roles, disconnecting, addresses, hardware errors.

The controller here is a script that answers every command (Command_Complete with
canned return parameters, or Command_Status) and lets a test inject events; it checks
the commands GAP sends, in order and parameter by parameter.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from host.events import (
    AdvertisingReport,
    AdvertisingStarted,
    AdvertisingStartFailed,
    AdvertisingStopped,
    CommandFailed,
    Connected,
    ConnectionFailed,
    ConnectionParameterRequest,
    ConnectionUpdated,
    ConnectionUpdateFailed,
    Disconnected,
    HardwareError,
    HostEvent,
    PoweredOn,
    PowerOnFailed,
    ScanStarted,
    ScanStopped,
)
from host.gap import Gap, GapConfig
from host.gap_params import (
    AdvertisingParameters,
    ConnectionParameters,
    ScanParameters,
    event_masks,
    random_static_address,
)
from host.hci import HciDriver, LocalError
from linklayer.address import Address, AddressKind
from linklayer.hci import commands as hc
from linklayer.hci import le_commands as lc
from linklayer.hci import le_events as le
from linklayer.hci import le_ext_commands as lx
from linklayer.hci.codec import HciCommand, HciEvent, ReturnParameters
from linklayer.hci.events import HCI_Disconnection_Complete_Event, HCI_Hardware_Error_Event
from linklayer.hci.events import command_complete, command_status
from linklayer.hci.registry import parse_command
from linklayer.hci.supported import LeFeature, supported_commands_bitmap
from phy.units import MS

PEER = Address.parse("C0:11:22:33:44:55", random=True)
PUBLIC = Address.parse("11:22:33:44:55:66")

LEGACY_OPCODES = [
    cls.OPCODE for cls in (
        hc.HCI_Disconnect_Command, hc.HCI_Set_Event_Mask_Command, hc.HCI_Reset_Command,
        hc.HCI_Read_Local_Version_Information_Command, hc.HCI_Read_Local_Supported_Features_Command,
        hc.HCI_Read_Buffer_Size_Command, hc.HCI_Read_BD_ADDR_Command,
        lc.HCI_LE_Set_Event_Mask_Command, lc.HCI_LE_Read_Buffer_Size_Command,
        lc.HCI_LE_Read_Local_Supported_Features_Command, lc.HCI_LE_Set_Random_Address_Command,
        lc.HCI_LE_Set_Advertising_Parameters_Command, lc.HCI_LE_Set_Advertising_Data_Command,
        lc.HCI_LE_Set_Scan_Response_Data_Command, lc.HCI_LE_Set_Advertising_Enable_Command,
        lc.HCI_LE_Set_Scan_Parameters_Command, lc.HCI_LE_Set_Scan_Enable_Command,
        lc.HCI_LE_Create_Connection_Command, lc.HCI_LE_Create_Connection_Cancel_Command,
        lc.HCI_LE_Connection_Update_Command,
        lc.HCI_LE_Remote_Connection_Parameter_Request_Reply_Command,
        lc.HCI_LE_Remote_Connection_Parameter_Request_Negative_Reply_Command,
    )
]
EXTENDED_OPCODES = LEGACY_OPCODES + [
    cls.OPCODE for cls in (
        hc.HCI_Set_Event_Mask_Page_2_Command, hc.HCI_Write_LE_Host_Support_Command,
        lc.HCI_LE_Read_Buffer_Size_V2_Command, lc.HCI_LE_Write_Suggested_Default_Data_Length_Command,
        lx.HCI_LE_Set_Advertising_Set_Random_Address_Command,
        lx.HCI_LE_Set_Extended_Advertising_Parameters_Command, lx.HCI_LE_Set_Extended_Advertising_Data_Command,
        lx.HCI_LE_Set_Extended_Scan_Response_Data_Command, lx.HCI_LE_Set_Extended_Advertising_Enable_Command,
        lx.HCI_LE_Read_Maximum_Advertising_Data_Length_Command,
        lx.HCI_LE_Read_Number_of_Supported_Advertising_Sets_Command,
        lx.HCI_LE_Set_Extended_Scan_Parameters_Command, lx.HCI_LE_Set_Extended_Scan_Enable_Command,
        lx.HCI_LE_Extended_Create_Connection_Command,
    )
]


class ScriptedController:
    """Answers every command GAP sends; records them."""

    def __init__(self, opcodes: list[int], le_features: int, le_buffers: tuple[int, int] = (27, 4),
                 bd_addr: Address = PUBLIC) -> None:
        self.commands: list[HciCommand] = []
        self.status: dict[int, int] = {}  # opcode -> status to answer with
        self.silent: set[int] = set()  # opcodes left unanswered
        self.returns: dict[int, ReturnParameters] = {
            hc.HCI_Read_Local_Version_Information_Command.OPCODE:
                hc.HCI_Read_Local_Version_Information_ReturnParameters(0, 0x0C, 1, 0x0C, 0xFFFF, 1),
            hc.HCI_Read_Local_Supported_Commands_Command.OPCODE:
                hc.HCI_Read_Local_Supported_Commands_ReturnParameters(0, supported_commands_bitmap(opcodes)),
            hc.HCI_Read_Local_Supported_Features_Command.OPCODE:
                hc.HCI_Read_Local_Supported_Features_ReturnParameters(0, 0x60 << 32),
            hc.HCI_Read_BD_ADDR_Command.OPCODE: hc.HCI_Read_BD_ADDR_ReturnParameters(0, bd_addr.value),
            hc.HCI_Read_Buffer_Size_Command.OPCODE: hc.HCI_Read_Buffer_Size_ReturnParameters(0, 1021, 0, 6, 0),
            lc.HCI_LE_Read_Local_Supported_Features_Command.OPCODE:
                lc.HCI_LE_Read_Local_Supported_Features_ReturnParameters(0, le_features),
            lc.HCI_LE_Read_Buffer_Size_Command.OPCODE:
                lc.HCI_LE_Read_Buffer_Size_ReturnParameters(0, *le_buffers),
            lc.HCI_LE_Read_Buffer_Size_V2_Command.OPCODE:
                lc.HCI_LE_Read_Buffer_Size_V2_ReturnParameters(0, *le_buffers, 0, 0),
            lx.HCI_LE_Read_Maximum_Advertising_Data_Length_Command.OPCODE:
                lx.HCI_LE_Read_Maximum_Advertising_Data_Length_ReturnParameters(0, 1650),
            lx.HCI_LE_Read_Number_of_Supported_Advertising_Sets_Command.OPCODE:
                lx.HCI_LE_Read_Number_of_Supported_Advertising_Sets_ReturnParameters(0, 4),
            lx.HCI_LE_Set_Extended_Advertising_Parameters_Command.OPCODE:
                lx.HCI_LE_Set_Extended_Advertising_Parameters_ReturnParameters(0, 0),
        }

    def answer(self, cmd: HciCommand) -> HciEvent | None:
        self.commands.append(cmd)
        op = cmd.OPCODE
        if op in self.silent:
            return None
        status = self.status.get(op, 0)
        if type(cmd).RETURNS is None:
            return command_status(op, status)
        if status:
            return command_complete(op, bytes([status]))
        returns = self.returns.get(op)
        return command_complete(op, returns if returns is not None else bytes([0]))


class GapRig:
    def __init__(self, extended: bool = False, config: GapConfig | None = None, le_features: int | None = None,
                 **kw: Any) -> None:
        features = le_features if le_features is not None else (
            int(LeFeature.LE_EXTENDED_ADVERTISING | LeFeature.LE_2M_PHY) if extended else 0)
        self.ctrl = ScriptedController(EXTENDED_OPCODES if extended else LEGACY_OPCODES, features, **kw)
        self.events: list[HostEvent] = []
        self.now = 0
        self.driver = HciDriver(self._to_controller)
        self._inbox: list[HciEvent] = []
        self.gap: Gap = Gap(self.driver, random.Random(5), config or GapConfig(), self.events.append)
        self.driver.on_event = self._on_event

    def _on_event(self, event: HciEvent, now: int) -> None:
        self.gap.handle_event(event, now)

    def _to_controller(self, h4_type: int, packet: bytes) -> None:
        assert h4_type == 1
        reply = self.ctrl.answer(parse_command(packet))
        if reply is not None:
            self._inbox.append(reply)

    def pump(self) -> None:
        while self._inbox:
            self.driver.receive_packet(4, self._inbox.pop(0).to_bytes(), self.now)

    def inject(self, event: HciEvent) -> None:
        self.driver.receive_packet(4, event.to_bytes(), self.now)
        self.pump()

    def power_on(self) -> PoweredOn:
        self.gap.power_on(self.now)
        self.pump()
        on = self.events[-1]
        assert isinstance(on, PoweredOn)
        self.clear()
        return on

    def clear(self) -> None:
        self.ctrl.commands.clear()
        self.events.clear()

    def sent(self) -> list[type[HciCommand]]:
        return [type(c) for c in self.ctrl.commands]

    def connect_event(self, role: int = 0, handle: int = 0x40, status: int = 0) -> None:
        self.inject(le.HCI_LE_Connection_Complete_Event(
            status=status, connection_handle=handle, role=role, peer_address_type=1, peer_address=PEER.value,
            connection_interval=24, peripheral_latency=0, supervision_timeout=400, central_clock_accuracy=0))


# -- power-on -------------------------------------------------------------------------------


def test_power_on_against_a_legacy_controller() -> None:
    rig = GapRig()
    rig.gap.power_on(0)
    rig.pump()
    assert rig.sent() == [
        hc.HCI_Reset_Command, hc.HCI_Read_Local_Version_Information_Command,
        hc.HCI_Read_Local_Supported_Commands_Command, hc.HCI_Read_Local_Supported_Features_Command,
        hc.HCI_Read_BD_ADDR_Command, lc.HCI_LE_Read_Local_Supported_Features_Command,
        lc.HCI_LE_Read_Buffer_Size_Command, hc.HCI_Set_Event_Mask_Command, lc.HCI_LE_Set_Event_Mask_Command,
    ]
    assert rig.events == [PoweredOn(PUBLIC, None, PUBLIC, 0x0C, 0, False, 27, 4)]
    assert (rig.driver.le_acl_data_packet_length, rig.driver.total_num_le_acl_data_packets) == (27, 4)
    mask = rig.ctrl.commands[7]
    assert isinstance(mask, hc.HCI_Set_Event_Mask_Command) and mask.event_mask >> 61 & 1


def test_power_on_against_an_extended_controller_uses_what_it_lists() -> None:
    rig = GapRig(extended=True, config=GapConfig(suggested_data_length=(251, 2120)), le_buffers=(251, 8))
    rig.gap.power_on(0)
    rig.pump()
    assert rig.sent() == [
        hc.HCI_Reset_Command, hc.HCI_Read_Local_Version_Information_Command,
        hc.HCI_Read_Local_Supported_Commands_Command, hc.HCI_Read_Local_Supported_Features_Command,
        hc.HCI_Read_BD_ADDR_Command, lc.HCI_LE_Read_Local_Supported_Features_Command,
        lc.HCI_LE_Read_Buffer_Size_V2_Command, hc.HCI_Set_Event_Mask_Command,
        hc.HCI_Set_Event_Mask_Page_2_Command, lc.HCI_LE_Set_Event_Mask_Command,
        hc.HCI_Write_LE_Host_Support_Command, lx.HCI_LE_Read_Maximum_Advertising_Data_Length_Command,
        lx.HCI_LE_Read_Number_of_Supported_Advertising_Sets_Command,
        lc.HCI_LE_Write_Suggested_Default_Data_Length_Command,
    ]
    on = rig.events[-1]
    assert isinstance(on, PoweredOn) and on.extended_advertising and on.le_acl_data_packet_length == 251
    assert rig.gap.info.max_advertising_data_length == 1650 and rig.gap.info.num_advertising_sets == 4


def test_shared_buffers_when_the_le_buffer_size_is_zero() -> None:
    rig = GapRig(le_buffers=(0, 0))
    rig.gap.power_on(0)
    rig.pump()
    assert hc.HCI_Read_Buffer_Size_Command in rig.sent()
    assert (rig.driver.le_acl_data_packet_length, rig.driver.total_num_le_acl_data_packets) == (1021, 6)


def test_random_address_mode_sets_a_static_address() -> None:
    rig = GapRig(config=GapConfig(address_type="random"))
    rig.gap.power_on(0)
    rig.pump()
    cmd = rig.ctrl.commands[-1]
    assert isinstance(cmd, lc.HCI_LE_Set_Random_Address_Command)
    address = Address(bytes(cmd.random_address), True)
    assert address.kind is AddressKind.RANDOM_STATIC and address == rig.gap.address
    assert isinstance(rig.events[-1], PoweredOn) and rig.events[-1].random_address == address


def test_a_controller_without_public_address_makes_the_host_use_its_static_one() -> None:
    rig = GapRig(bd_addr=Address(bytes(6)))
    rig.power_on()
    assert rig.gap.own_address_type == 1 and rig.gap.address.kind is AddressKind.RANDOM_STATIC


def test_power_on_fails_clearly_when_a_mandatory_command_fails() -> None:
    rig = GapRig()
    rig.ctrl.status[lc.HCI_LE_Read_Buffer_Size_Command.OPCODE] = 0x01
    rig.gap.power_on(0)
    rig.pump()
    assert rig.events == [PowerOnFailed("HCI_LE_Read_Buffer_Size", 1,
                                        "HCI_LE_Read_Buffer_Size failed: UNKNOWN_HCI_COMMAND (0x01)")]
    assert not rig.gap.powered


def test_optional_commands_may_fail() -> None:
    rig = GapRig()
    rig.ctrl.status[hc.HCI_Read_Local_Version_Information_Command.OPCODE] = 0x01
    rig.power_on()
    assert rig.gap.powered


def test_power_on_timeout_reports_failure() -> None:
    rig = GapRig()
    rig.ctrl.silent.add(hc.HCI_Reset_Command.OPCODE)
    rig.gap.power_on(0)
    rig.pump()
    rig.driver.handle_timer(2_000_000_000)
    assert len(rig.events) == 1 and isinstance(rig.events[0], PowerOnFailed) and rig.events[0].status == -1
    assert "got no Command Complete" in rig.events[0].message


def test_event_masks() -> None:
    page1, page2, le_mask = event_masks()
    assert page1 == 0x2000_8000_0204_E890  # bits 4, 7, 11, (13, 14,) 15, (18,) 25, 47 and 61
    assert page2 == (1 << 23) | (1 << 25)
    assert le_mask == 0xF1E7F


@given(st.integers(min_value=0, max_value=2**32))
def test_random_static_addresses_follow_the_rules(seed: int) -> None:
    a = random_static_address(random.Random(seed))
    assert a.random and a.kind is AddressKind.RANDOM_STATIC
    random_part = int.from_bytes(a.value, "little") & ((1 << 46) - 1)
    assert random_part not in (0, (1 << 46) - 1)


def test_calls_before_power_on_are_local_errors() -> None:
    rig = GapRig()
    with pytest.raises(LocalError, match="not powered on"):
        rig.gap.start_advertising(0, b"")


# -- advertising ------------------------------------------------------------------------------


def test_legacy_advertising_commands() -> None:
    rig = GapRig()
    rig.power_on()
    rig.gap.start_advertising(0, b"\x02\x01\x06", b"\x03\xff\x59\x00",
                              AdvertisingParameters(interval_min_ns=100 * MS, connectable=True))
    rig.pump()
    params, data, rsp, enable = rig.ctrl.commands
    assert params == lc.HCI_LE_Set_Advertising_Parameters_Command(
        advertising_interval_min=160, advertising_interval_max=160, advertising_type=0, own_address_type=0,
        peer_address_type=0, peer_address=bytes(6), advertising_channel_map=7, advertising_filter_policy=0)
    assert data == lc.HCI_LE_Set_Advertising_Data_Command(advertising_data=b"\x02\x01\x06")
    assert rsp == lc.HCI_LE_Set_Scan_Response_Data_Command(scan_response_data=b"\x03\xff\x59\x00")
    assert enable == lc.HCI_LE_Set_Advertising_Enable_Command(advertising_enable=1)
    assert rig.events == [AdvertisingStarted(0, False)] and rig.gap.is_advertising()
    rig.clear()
    rig.gap.start_advertising(0, b"", params=AdvertisingParameters(connectable=False, scannable=False))
    rig.pump()
    assert rig.sent()[0] is lc.HCI_LE_Set_Advertising_Enable_Command  # disabled first
    assert rig.ctrl.commands[1].advertising_type == 3  # type: ignore[attr-defined]
    rig.clear()
    rig.gap.stop_advertising(0)
    rig.pump()
    assert rig.ctrl.commands == [lc.HCI_LE_Set_Advertising_Enable_Command(advertising_enable=0)]
    assert rig.events == [AdvertisingStopped(0, 0)]


@pytest.mark.parametrize("params, expected", [
    (AdvertisingParameters(), 0),
    (AdvertisingParameters(connectable=False), 2),
    (AdvertisingParameters(connectable=False, scannable=False), 3),
    (AdvertisingParameters(directed_to=PEER), 4),
    (AdvertisingParameters(directed_to=PEER, high_duty=True), 1),
])
def test_legacy_advertising_types(params: AdvertisingParameters, expected: int) -> None:
    assert params.legacy_advertising_type() == expected


def test_legacy_controller_refuses_long_data() -> None:
    rig = GapRig()
    rig.power_on()
    with pytest.raises(LocalError, match="needs extended advertising"):
        rig.gap.start_advertising(0, bytes(32))
    with pytest.raises(LocalError, match="not a multiple"):
        rig.gap.start_advertising(0, b"", params=AdvertisingParameters(interval_min_ns=100 * MS + 1))
    with pytest.raises(LocalError, match="outside"):
        rig.gap.start_advertising(0, b"", params=AdvertisingParameters(interval_min_ns=10 * MS))


def test_extended_commands_with_legacy_pdus_when_the_data_fits() -> None:
    rig = GapRig(extended=True)
    rig.power_on()
    rig.gap.start_advertising(0, b"\x02\x01\x06", b"\x02\x0a\x00")
    rig.pump()
    assert rig.sent() == [
        lx.HCI_LE_Set_Extended_Advertising_Parameters_Command, lx.HCI_LE_Set_Extended_Advertising_Data_Command,
        lx.HCI_LE_Set_Extended_Scan_Response_Data_Command, lx.HCI_LE_Set_Extended_Advertising_Enable_Command,
    ]
    params = rig.ctrl.commands[0]
    assert isinstance(params, lx.HCI_LE_Set_Extended_Advertising_Parameters_Command)
    assert params.advertising_event_properties == 0x13  # legacy ADV_IND
    assert rig.ctrl.commands[1] == lx.HCI_LE_Set_Extended_Advertising_Data_Command(
        advertising_handle=0, operation=3, fragment_preference=1, advertising_data=b"\x02\x01\x06")
    assert rig.events == [AdvertisingStarted(0, False)]


def test_long_data_uses_extended_pdus_in_fragments() -> None:
    rig = GapRig(extended=True, config=GapConfig(address_type="random"))
    rig.power_on()
    data = bytes(range(256)) * 2 + bytes(100)  # 612 octets: 251 + 251 + 110
    rig.gap.start_advertising(0, data, params=AdvertisingParameters(connectable=False, scannable=False), handle=2)
    rig.pump()
    cmds = rig.ctrl.commands
    assert isinstance(cmds[0], lx.HCI_LE_Set_Extended_Advertising_Parameters_Command)
    assert cmds[0].advertising_event_properties == 0x00 and cmds[0].own_address_type == 1
    assert cmds[1] == lx.HCI_LE_Set_Advertising_Set_Random_Address_Command(
        advertising_handle=2, random_address=rig.gap.static_address.value)
    frags = [c for c in cmds if isinstance(c, lx.HCI_LE_Set_Extended_Advertising_Data_Command)]
    assert [(f.operation, len(f.advertising_data)) for f in frags] == [(1, 251), (0, 251), (2, 110)]
    assert b"".join(f.advertising_data for f in frags) == data
    assert rig.events == [AdvertisingStarted(2, True)]


def test_extended_pdu_rules_are_local_errors() -> None:
    rig = GapRig(extended=True)
    rig.power_on()
    with pytest.raises(LocalError, match="scan response"):
        rig.gap.start_advertising(0, bytes(40), b"\x02\x0a\x00")
    with pytest.raises(LocalError, match="at most 31"):
        rig.gap.start_advertising(0, bytes(40), params=AdvertisingParameters(legacy=True))
    with pytest.raises(LocalError, match="exceeds"):
        rig.gap.start_advertising(0, bytes(1651), params=AdvertisingParameters(connectable=False))


def test_refused_advertising_reports_the_failing_command() -> None:
    rig = GapRig()
    rig.power_on()
    rig.ctrl.status[lc.HCI_LE_Set_Advertising_Parameters_Command.OPCODE] = 0x12
    rig.gap.start_advertising(0, b"")
    rig.pump()
    assert rig.events == [AdvertisingStartFailed(0, "HCI_LE_Set_Advertising_Parameters", 0x12)]
    assert rig.sent() == [lc.HCI_LE_Set_Advertising_Parameters_Command]  # stopped there


def test_advertising_set_terminated_and_legacy_connection_stop_advertising() -> None:
    rig = GapRig(extended=True)
    rig.power_on()
    rig.gap.start_advertising(0, b"", handle=1)
    rig.pump()
    rig.clear()
    rig.inject(le.HCI_LE_Advertising_Set_Terminated_Event(status=0, advertising_handle=1, connection_handle=0x40,
                                                           num_completed_extended_advertising_events=3))
    assert rig.events == [AdvertisingStopped(1, 0, 0x40)]
    legacy = GapRig()
    legacy.power_on()
    legacy.gap.start_advertising(0, b"")
    legacy.pump()
    legacy.clear()
    legacy.connect_event(role=1)
    assert legacy.events[0] == AdvertisingStopped(0, 0, 0x40) and isinstance(legacy.events[1], Connected)


def test_procedures_run_one_after_the_other() -> None:
    rig = GapRig()
    rig.power_on()
    rig.ctrl.silent.add(lc.HCI_LE_Set_Advertising_Enable_Command.OPCODE)
    rig.gap.start_advertising(0, b"")
    rig.gap.start_scan(0)
    rig.pump()
    assert rig.sent()[-1] is lc.HCI_LE_Set_Advertising_Enable_Command  # scan waits its turn
    rig.ctrl.silent.clear()
    rig.inject(command_complete(lc.HCI_LE_Set_Advertising_Enable_Command.OPCODE, bytes([0])))
    assert rig.sent()[-2:] == [lc.HCI_LE_Set_Scan_Parameters_Command, lc.HCI_LE_Set_Scan_Enable_Command]


# -- scanning -------------------------------------------------------------------------------


def test_legacy_scan_with_duration_stops_at_the_exact_instant() -> None:
    rig = GapRig()
    rig.power_on()
    rig.gap.start_scan(1000, ScanParameters(active=False, interval_ns=60 * MS, window_ns=30 * MS,
                                            duration_ns=500 * MS, filter_duplicates=True))
    rig.pump()
    assert rig.ctrl.commands == [
        lc.HCI_LE_Set_Scan_Parameters_Command(le_scan_type=0, le_scan_interval=96, le_scan_window=48,
                                              own_address_type=0, scanning_filter_policy=0),
        lc.HCI_LE_Set_Scan_Enable_Command(le_scan_enable=1, filter_duplicates=1),
    ]
    assert rig.events == [ScanStarted(active=False)]
    assert rig.gap.get_timer() == 1000 + 500 * MS
    rig.gap.handle_timer(1000 + 500 * MS)
    rig.pump()
    assert rig.ctrl.commands[-1] == lc.HCI_LE_Set_Scan_Enable_Command(le_scan_enable=0, filter_duplicates=0)
    assert rig.events[-1] == ScanStopped(timeout=True) and not rig.gap.scanning


def test_extended_scan_duration_is_the_controller_s() -> None:
    rig = GapRig(extended=True)
    rig.power_on()
    rig.gap.start_scan(0, ScanParameters(duration_ns=1000 * MS, coded=True))
    rig.pump()
    params, enable = rig.ctrl.commands
    assert isinstance(params, lx.HCI_LE_Set_Extended_Scan_Parameters_Command) and params.scanning_phys == 0x05
    assert enable == lx.HCI_LE_Set_Extended_Scan_Enable_Command(enable=1, filter_duplicates=0, duration=100, period=0)
    assert rig.gap.get_timer() is None
    rig.inject(le.HCI_LE_Scan_Timeout_Event())
    assert rig.events[-1] == ScanStopped(timeout=True)


def test_scan_parameter_errors() -> None:
    with pytest.raises(LocalError, match="window is longer"):
        ScanParameters(interval_ns=10 * MS, window_ns=20 * MS).units()
    rig = GapRig()
    rig.power_on()
    with pytest.raises(LocalError, match="Coded"):
        rig.gap.start_scan(0, ScanParameters(coded=True))


def test_reports_are_decoded() -> None:
    rig = GapRig()
    rig.power_on()
    rig.inject(le.HCI_LE_Advertising_Report_Event(reports=(
        le.AdvertisingReport(event_type=2, address_type=1, address=PEER.value, data=b"\x02\x01\x06", rssi=-60),
    )))
    r = rig.events[-1]
    assert isinstance(r, AdvertisingReport)
    assert (r.address, r.connectable, r.scannable, r.rssi, r.legacy) == (PEER, False, True, -60, True)
    assert r.advertising_data.flags == 6
    rig.inject(le.HCI_LE_Directed_Advertising_Report_Event(reports=(
        le.DirectedAdvertisingReport(event_type=1, address_type=1, address=PEER.value, direct_address_type=1,
                                     direct_address=bytes.fromhex("010203040506"), rssi=-40),
    )))
    d = rig.events[-1]
    assert isinstance(d, AdvertisingReport) and d.directed and d.direct_address is not None


def ext_report(event_type: int, data: bytes, sid: int = 3, address_type: int = 1) -> le.ExtendedAdvertisingReport:
    return le.ExtendedAdvertisingReport(
        event_type=event_type, address_type=address_type, address=PEER.value, primary_phy=1, secondary_phy=2,
        advertising_sid=sid, tx_power=-4, rssi=-70, periodic_advertising_interval=0, direct_address_type=0,
        direct_address=bytes(6), data=data)


def test_extended_report_fragments_are_reassembled() -> None:
    rig = GapRig(extended=True)
    rig.power_on()
    rig.inject(le.HCI_LE_Extended_Advertising_Report_Event(reports=(ext_report(0x21, b"A" * 229),)))
    rig.inject(le.HCI_LE_Extended_Advertising_Report_Event(reports=(ext_report(0x21, b"B" * 229),)))
    assert rig.events == []
    rig.inject(le.HCI_LE_Extended_Advertising_Report_Event(reports=(ext_report(0x01, b"C" * 10),)))
    r = rig.events[-1]
    assert isinstance(r, AdvertisingReport)
    assert r.data == b"A" * 229 + b"B" * 229 + b"C" * 10 and r.connectable and not r.legacy
    assert (r.sid, r.tx_power, r.secondary_phy, r.truncated) == (3, -4, 2, False)
    rig.inject(le.HCI_LE_Extended_Advertising_Report_Event(reports=(ext_report(0x21, b"x"),)))
    rig.inject(le.HCI_LE_Extended_Advertising_Report_Event(reports=(ext_report(0x41, b"y"),)))
    t = rig.events[-1]
    assert isinstance(t, AdvertisingReport) and t.truncated and t.data == b"xy"
    rig.inject(le.HCI_LE_Extended_Advertising_Report_Event(reports=(ext_report(0x00, b"", address_type=0xFF),)))
    anonymous = rig.events[-1]
    assert isinstance(anonymous, AdvertisingReport) and anonymous.address is None


# -- connecting -------------------------------------------------------------------------------


def test_connect_success() -> None:
    rig = GapRig()
    rig.power_on()
    rig.gap.connect(PEER, 0, ConnectionParameters(interval_min_ns=30 * MS, interval_max_ns=30 * MS))
    rig.pump()
    cmd = rig.ctrl.commands[0]
    assert isinstance(cmd, lc.HCI_LE_Create_Connection_Command)
    assert (cmd.peer_address_type, cmd.peer_address, cmd.connection_interval_min, cmd.supervision_timeout) == (
        1, PEER.value, 24, 400)
    with pytest.raises(LocalError, match="already in progress"):
        rig.gap.connect(PEER, 0)
    rig.connect_event()
    assert rig.events == [Connected(0x40, "central", PEER, 30 * MS, 0, 4000 * MS, PUBLIC)]
    assert not rig.gap.connecting and 0x40 in rig.gap.connections


def test_connect_timeout_cancels_at_the_exact_instant() -> None:
    rig = GapRig()
    rig.power_on()
    rig.now = 7
    rig.gap.connect(PEER, 7, timeout_ns=3000 * MS)
    rig.pump()
    assert rig.gap.get_timer() == 7 + 3000 * MS
    rig.gap.handle_timer(7 + 3000 * MS - 1)
    assert rig.sent() == [lc.HCI_LE_Create_Connection_Command]
    rig.gap.handle_timer(7 + 3000 * MS)
    rig.pump()
    assert rig.sent()[-1] is lc.HCI_LE_Create_Connection_Cancel_Command
    rig.connect_event(status=0x02)  # what the controller sends after a cancel (7.8.13)
    assert rig.events == [ConnectionFailed(PEER, 0x02, "timeout")]
    rig.gap.connect(PEER, 0)  # free again


def test_connect_cancel_by_the_application() -> None:
    rig = GapRig(extended=True)
    rig.power_on()
    rig.gap.connect(PEER, 0)
    rig.pump()
    assert rig.sent() == [lx.HCI_LE_Extended_Create_Connection_Command]
    rig.gap.cancel_connect(0)
    rig.pump()
    rig.inject(le.HCI_LE_Enhanced_Connection_Complete_Event(
        status=0x02, connection_handle=0, role=0, peer_address_type=1, peer_address=PEER.value,
        local_resolvable_private_address=bytes(6), peer_resolvable_private_address=bytes(6),
        connection_interval=0, peripheral_latency=0, supervision_timeout=0, central_clock_accuracy=0))
    assert rig.events == [ConnectionFailed(PEER, 0x02, "cancelled")]
    with pytest.raises(LocalError):
        rig.gap.cancel_connect(0)


def test_connect_refused_by_the_controller() -> None:
    rig = GapRig()
    rig.power_on()
    rig.ctrl.status[lc.HCI_LE_Create_Connection_Command.OPCODE] = 0x0C
    rig.gap.connect(PEER, 0)
    rig.pump()
    assert rig.events == [ConnectionFailed(PEER, 0x0C, "refused")]


def test_connection_parameter_ranges() -> None:
    with pytest.raises(LocalError, match="outside"):
        ConnectionParameters(interval_min_ns=5 * MS).validate()
    with pytest.raises(LocalError, match="exceed"):
        ConnectionParameters(interval_max_ns=100 * MS, latency=4, supervision_timeout_ns=1000 * MS).validate()
    with pytest.raises(LocalError, match="latency"):
        ConnectionParameters(latency=500).validate()
    assert ConnectionParameters().units() == (24, 40, 0, 400, 0, 0)


# -- parameter updates ------------------------------------------------------------------------

FAST = ConnectionParameters(interval_min_ns=7_500_000, interval_max_ns=15 * MS, supervision_timeout_ns=2000 * MS)


def test_central_updates_with_le_connection_update() -> None:
    rig = GapRig()
    rig.power_on()
    rig.connect_event()
    rig.clear()
    rig.gap.update_connection(0x40, FAST, 0)
    rig.pump()
    assert rig.ctrl.commands == [lc.HCI_LE_Connection_Update_Command(
        connection_handle=0x40, connection_interval_min=6, connection_interval_max=12, max_latency=0,
        supervision_timeout=200, min_ce_length=0, max_ce_length=0)]
    rig.inject(le.HCI_LE_Connection_Update_Complete_Event(status=0, connection_handle=0x40, connection_interval=12,
                                                          peripheral_latency=0, supervision_timeout=200))
    assert rig.events == [ConnectionUpdated(0x40, 15 * MS, 0, 2000 * MS)]
    assert rig.gap.connections[0x40].interval_ns == 15 * MS


def test_peripheral_without_the_ll_procedure_uses_l2cap() -> None:
    rig = GapRig()
    rig.power_on()
    asked: list[tuple[int, ConnectionParameters]] = []
    answers: list[Any] = []

    def request(handle: int, params: ConnectionParameters, now: int, on_result: Any) -> None:
        asked.append((handle, params))
        answers.append(on_result)

    rig.gap.l2cap_update_request = request
    rig.connect_event(role=1)
    rig.clear()
    rig.gap.update_connection(0x40, FAST, 0)
    rig.pump()
    assert asked == [(0x40, FAST)] and rig.ctrl.commands == []
    answers[0](False)
    assert rig.events == [ConnectionUpdateFailed(0x40, 0x3B, "rejected by the central")]


def test_peripheral_with_the_ll_procedure_falls_back_to_l2cap_if_the_peer_lacks_it() -> None:
    rig = GapRig(le_features=int(LeFeature.CONNECTION_PARAMETERS_REQUEST_PROCEDURE))
    rig.power_on()
    asked: list[int] = []
    rig.gap.l2cap_update_request = lambda h, p, now, cb: asked.append(h)
    rig.connect_event(role=1)
    rig.clear()
    rig.gap.update_connection(0x40, FAST, 0)
    rig.pump()
    assert rig.sent() == [lc.HCI_LE_Connection_Update_Command] and asked == []
    rig.inject(le.HCI_LE_Connection_Update_Complete_Event(status=0x1A, connection_handle=0x40, connection_interval=0,
                                                          peripheral_latency=0, supervision_timeout=0))
    assert asked == [0x40] and rig.events == []
    rig.gap.update_connection(0x40, FAST, 0)  # now known: straight to L2CAP
    assert asked == [0x40, 0x40]


def test_update_without_any_way_is_a_local_error() -> None:
    rig = GapRig()
    rig.power_on()
    rig.connect_event(role=1)
    with pytest.raises(LocalError, match="L2CAP"):
        rig.gap.update_connection(0x40, FAST, 0)
    with pytest.raises(LocalError, match="no connection"):
        rig.gap.update_connection(0x99, FAST, 0)


def test_central_decides_l2cap_requests_with_the_policy() -> None:
    rig = GapRig()
    rig.power_on()
    rig.connect_event()
    rig.clear()
    assert rig.gap.on_l2cap_parameter_request(0x40, FAST, 0)
    rig.pump()
    assert rig.sent() == [lc.HCI_LE_Connection_Update_Command]
    rig.gap.parameter_policy = lambda handle, p: p.interval_min_ns >= 10 * MS
    assert not rig.gap.on_l2cap_parameter_request(0x40, FAST, 0)
    bad = ConnectionParameters.from_units(6, 6, 0, 5)  # timeout below 100 ms
    rig.gap.parameter_policy = None
    assert not rig.gap.on_l2cap_parameter_request(0x40, bad, 0)
    assert [e.accepted for e in rig.events if isinstance(e, ConnectionParameterRequest)] == [True, False, False]


def test_remote_parameter_request_is_replied() -> None:
    rig = GapRig()
    rig.power_on()
    rig.connect_event(role=1)
    rig.clear()
    rig.inject(le.HCI_LE_Remote_Connection_Parameter_Request_Event(
        connection_handle=0x40, interval_min=6, interval_max=12, max_latency=0, timeout=200))
    assert rig.ctrl.commands == [lc.HCI_LE_Remote_Connection_Parameter_Request_Reply_Command(
        connection_handle=0x40, interval_min=6, interval_max=12, max_latency=0, timeout=200,
        min_ce_length=0, max_ce_length=0)]
    rig.gap.parameter_policy = lambda h, p: False
    rig.inject(le.HCI_LE_Remote_Connection_Parameter_Request_Event(
        connection_handle=0x40, interval_min=6, interval_max=12, max_latency=0, timeout=200))
    assert rig.ctrl.commands[-1] == lc.HCI_LE_Remote_Connection_Parameter_Request_Negative_Reply_Command(
        connection_handle=0x40, reason=0x3B)
    assert [e.accepted for e in rig.events if isinstance(e, ConnectionParameterRequest)] == [True, False]


# -- disconnecting, hardware error ------------------------------------------------------------


def test_disconnect() -> None:
    rig = GapRig()
    rig.power_on()
    rig.connect_event()
    rig.clear()
    with pytest.raises(LocalError, match="reason"):
        rig.gap.disconnect(0x40, 0, reason=0x16)
    rig.gap.disconnect(0x40, 0, reason=0x15)
    rig.pump()
    assert rig.ctrl.commands == [hc.HCI_Disconnect_Command(connection_handle=0x40, reason=0x15)]
    rig.inject(HCI_Disconnection_Complete_Event(status=0, connection_handle=0x40, reason=0x16))
    assert rig.events == [Disconnected(0x40, 0x16)] and rig.gap.connections == {}


def test_disconnect_refused() -> None:
    rig = GapRig()
    rig.power_on()
    rig.connect_event()
    rig.clear()
    rig.ctrl.status[hc.HCI_Disconnect_Command.OPCODE] = 0x0C
    rig.gap.disconnect(0x40, 0)
    rig.pump()
    assert rig.events == [CommandFailed(hc.HCI_Disconnect_Command.OPCODE, "HCI_Disconnect", 0x0C)]


def test_hardware_error_drops_everything_and_powers_on_again() -> None:
    rig = GapRig()
    rig.power_on()
    rig.connect_event()
    rig.gap.start_advertising(0, b"")
    rig.gap.start_scan(0)
    rig.pump()
    rig.ctrl.silent.add(lc.HCI_LE_Create_Connection_Command.OPCODE)
    rig.gap.connect(PEER, 0)
    rig.pump()
    rig.ctrl.silent.clear()
    rig.clear()
    rig.inject(HCI_Hardware_Error_Event(hardware_code=0x2A))
    assert rig.events[:5] == [
        HardwareError(0x2A), Disconnected(0x40, 0x03), AdvertisingStopped(0, 0x03), ScanStopped(timeout=False),
        ConnectionFailed(PEER, 0x03, "failed"),
    ]
    assert isinstance(rig.events[-1], PoweredOn) and len(rig.events) == 6
    assert rig.sent()[0] is hc.HCI_Reset_Command
    assert rig.gap.connections == {} and rig.gap.powered
