"""The host's power-on over a real controller's quirks, through the real-controller path
(transport -> pacer inbox -> RealController -> HostDriver -> Host), on a hand-cranked wall clock.

The "dongle" is our own simulated controller behind a fake transport that adds what real
controllers do: vendor events, a Supported Commands bitmap with holes (and "Unknown HCI
Command" for what it leaves out), a reset that takes seconds, a stale completion from a
previous session, no command credit after reset, LE traffic sharing the ACL buffers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from emu.bridge.pacing import Pacer
from emu.bridge.real_controller import REAL_COMMAND_TIMEOUT_NS, attach_real_controller
from emu.bridge.transports import HciTransport, UsbSpec
from emu.host_driver import HostDriver
from emu.world import make_world
from host.events import HostEvent, PoweredOn, PowerOnFailed
from host.host import Host, HostConfig
from linklayer.address import Address
from linklayer.controller import Controller, ControllerConfig
from linklayer.hci import commands as hc
from linklayer.hci import le_commands as lc
from linklayer.hci.supported import SUPPORTED_COMMANDS
from phy.units import MS, S

ADDRESS = Address(bytes.fromhex("665544332211"))
VENDOR_EVENT = bytes.fromhex("ff03") + b"\x01\x02\x03"  # event code 0xFF, 3 octets


def complete(opcode: int, params: bytes, credits: int = 1) -> bytes:
    """An HCI_Command_Complete event (Vol 4 Part E 7.7.14)."""
    body = bytes([credits]) + opcode.to_bytes(2, "little") + params
    return bytes([0x0E, len(body)]) + body


@dataclass
class Quirks:
    vendor_events: bool = False
    missing: frozenset[int] = frozenset()
    reset_delay_ns: int = 0
    stale_completion: bool = False
    no_credit_after_reset_ns: int = 0
    shared_buffers: bool = False


class QuirkyDongle(HciTransport):
    """Our simulated controller behind the quirks (see the module docstring)."""

    def __init__(self, quirks: Quirks, wall: "Wall") -> None:
        super().__init__(UsbSpec(0), "host")
        self.quirks = quirks
        self.wall = wall
        self.firmware = Controller(ControllerConfig(public_address=ADDRESS), random.Random(5))
        self.commands: list[int] = []
        self._due: list[tuple[int, int, bytes]] = []
        wall.dongles.append(self)

    def _start_readers(self) -> None:
        if self.quirks.stale_completion:  # the answer to a command of a previous session
            self._later(0, 0x04, complete(lc.HCI_LE_Set_Scan_Enable_Command.OPCODE, b"\x00"))
        if self.quirks.vendor_events:
            self._later(0, 0x04, VENDOR_EVENT)

    def _later(self, delay: int, h4_type: int, packet: bytes) -> None:
        self._due.append((self.wall.ns + delay, h4_type, packet))
        self.release()

    def release(self) -> None:
        due = [d for d in self._due if d[0] <= self.wall.ns]
        self._due = [d for d in self._due if d[0] > self.wall.ns]
        for _, h4_type, packet in sorted(due, key=lambda d: d[0]):
            self.deliver(h4_type, packet)

    def _send(self, h4_type: int, packet: bytes) -> None:
        q = self.quirks
        if h4_type != 0x01:
            self.firmware.hci_from_host(h4_type, packet, self.wall.ns)
            return
        opcode = int.from_bytes(packet[:2], "little")
        self.commands.append(opcode)
        if opcode in q.missing:
            out = [(0x04, complete(opcode, b"\x01"))]  # Unknown HCI Command
        else:
            self.firmware.hci_from_host(h4_type, packet, self.wall.ns)
            out = self.firmware.take_hci()
        reset = opcode == hc.HCI_Reset_Command.OPCODE
        delay = q.reset_delay_ns if reset else 0
        for kind, event in out:
            if q.vendor_events:
                self._later(delay, 0x04, VENDOR_EVENT)
            event = self._edit(opcode, event)
            if reset and q.no_credit_after_reset_ns:  # Num_HCI_Command_Packets 0 (7.7.14)
                event = event[:2] + b"\x00" + event[3:]
            self._later(delay, kind, event)
        if reset and q.no_credit_after_reset_ns:  # later, an opcode-0 NOP gives a credit
            self._later(delay + q.no_credit_after_reset_ns, 0x04, complete(0x0000, b""))

    def _edit(self, opcode: int, event: bytes) -> bytes:
        q = self.quirks
        if opcode == hc.HCI_Read_Local_Supported_Commands_Command.OPCODE and q.missing:
            bitmap = bytearray(event[6:70])
            for op in q.missing:
                octet, bit = SUPPORTED_COMMANDS[op]
                bitmap[octet] &= ~(1 << bit)
            return event[:6] + bytes(bitmap) + event[70:]
        if q.shared_buffers and opcode == lc.HCI_LE_Read_Buffer_Size_Command.OPCODE:
            return complete(opcode, b"\x00" + bytes(3))  # no LE buffers: shared with ACL
        if q.shared_buffers and opcode == hc.HCI_Read_Buffer_Size_Command.OPCODE:
            return complete(opcode, b"\x00" + (1021).to_bytes(2, "little") + b"\x40" + (6).to_bytes(2, "little")
                            + bytes(2))
        return event

    def _close(self) -> None:
        return None


@dataclass
class Wall:
    """A hand-cranked wall clock; waiting releases what the dongles have due."""

    ns: int = 10**12
    dongles: list[QuirkyDongle] = field(default_factory=list)

    def clock(self) -> int:
        return self.ns

    def wait(self, seconds: float) -> None:
        self.ns += max(1, round(seconds * S))
        for dongle in self.dongles:
            dongle.release()


def power_on(quirks: Quirks, *, command_timeout_ns: int = REAL_COMMAND_TIMEOUT_NS,
             address_type: str = "public") -> tuple[list[tuple[int, HostEvent]], QuirkyDongle, Host]:
    from host.gap import GapConfig

    wall = Wall()
    world = make_world(seed=1)
    pacer = Pacer(world.kernel, clock=wall.clock, wait=wall.wait)
    dongle = QuirkyDongle(quirks, wall)
    driver = attach_real_controller(world, pacer, "dongle", dongle, (0.0, 0.0), lambda reason: None)
    host = Host(random.Random(2), HostConfig(gap=GapConfig(address_type=address_type),
                                             command_timeout_ns=command_timeout_ns))
    host_driver = HostDriver(world, driver, host, power_on=False)
    host.power_on(0)
    host_driver.service()
    pacer.run_until(20 * S)
    return [(t, e) for t, e in host_driver.events if isinstance(e, (PoweredOn, PowerOnFailed))], dongle, host


def test_a_well_behaved_dongle_powers_on() -> None:
    events, dongle, host = power_on(Quirks())
    assert len(events) == 1 and isinstance(events[0][1], PoweredOn)
    assert events[0][1].public_address == ADDRESS and events[0][1].address == ADDRESS
    assert events[0][0] < 10 * MS


def test_vendor_events_and_a_stale_completion_are_ignored() -> None:
    events, dongle, host = power_on(Quirks(vendor_events=True, stale_completion=True))
    assert [type(e).__name__ for _, e in events] == ["PoweredOn"]
    assert host.hci.stats.vendor_events == len(dongle.commands) + 1
    assert host.hci.stats.unexpected_completions == 1


def test_commands_missing_from_the_bitmap_are_not_sent() -> None:
    missing = frozenset({
        hc.HCI_Read_BD_ADDR_Command.OPCODE,
        hc.HCI_Set_Event_Mask_Page_2_Command.OPCODE,
        lc.HCI_LE_Read_Buffer_Size_V2_Command.OPCODE,
        hc.HCI_Write_LE_Host_Support_Command.OPCODE,
    })
    events, dongle, host = power_on(Quirks(missing=missing))
    assert [type(e).__name__ for _, e in events] == ["PoweredOn"]
    assert not missing & set(dongle.commands)
    assert lc.HCI_LE_Read_Buffer_Size_Command.OPCODE in dongle.commands  # version 1 instead
    powered = events[0][1]
    assert isinstance(powered, PoweredOn)
    # No BD_ADDR read: no public address known, so the host uses its random static one.
    assert powered.public_address == Address(bytes(6))
    assert powered.address.random and powered.address == powered.random_address


def test_a_slow_reset_is_waited_for() -> None:
    events, dongle, host = power_on(Quirks(reset_delay_ns=3_500 * MS))
    assert [type(e).__name__ for _, e in events] == ["PoweredOn"]
    assert 3_500 * MS <= events[0][0] < 3_600 * MS
    # With the 2 s timeout of a simulated controller's host, the same dongle would fail.
    events, dongle, host = power_on(Quirks(reset_delay_ns=3_500 * MS), command_timeout_ns=2 * S)
    failed = events[0][1]
    assert isinstance(failed, PowerOnFailed) and failed.command == "HCI_Reset"


def test_no_credit_after_reset_waits_for_the_nop() -> None:
    events, dongle, host = power_on(Quirks(no_credit_after_reset_ns=40 * MS))
    assert [type(e).__name__ for _, e in events] == ["PoweredOn"]
    assert events[0][0] >= 40 * MS


def test_le_traffic_shares_the_acl_buffers_of_a_dual_mode_controller() -> None:
    missing = frozenset({lc.HCI_LE_Read_Buffer_Size_V2_Command.OPCODE})
    events, dongle, host = power_on(Quirks(missing=missing, shared_buffers=True))
    powered = events[0][1]
    assert isinstance(powered, PoweredOn)
    assert hc.HCI_Read_Buffer_Size_Command.OPCODE in dongle.commands
    assert (powered.le_acl_data_packet_length, powered.total_num_le_acl_data_packets) == (1021, 6)
