"""HCI driver: command flow control, timeouts, LE ACL flow control, fragmentation,
reassembly, robustness, and byte-level replays of recorded controller traffic.

Byte literals are written from the packet layouts of Vol 4 Part E 5.4 and 7.7, or come
from recordings (``tests/host/data``: made with blesim's simulated controller, see
``record_sessions`` at the bottom) and from the shared independent capture
``/work/shared/vectors/captures/hci_h4_1002.btsnoop``.
"""

from __future__ import annotations

import pathlib
import struct
from typing import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from host.events import (
    AdvertisingReport,
    Connected,
    ConnectionUpdated,
    Disconnected,
    HostEvent,
    PoweredOn,
    ScanStarted,
)
from host.gap import GapConfig
from host.gap_params import ConnectionParameters, ScanParameters
from host.hci import (
    HciAborted,
    HciCommandError,
    HciDriver,
    HciTimeout,
    LocalError,
)
from host.host import Host, HostConfig
from linklayer.address import Address
from linklayer.hci import commands as hc
from linklayer.hci import le_commands as lc
from linklayer.hci.codec import HciEvent
from linklayer.hci.h4 import H4PacketType, H4Parser
from phy.units import MS

DATA = pathlib.Path(__file__).parent / "data"
SHARED_BTSNOOP = pathlib.Path("/work/shared/vectors/captures/hci_h4_1002.btsnoop")

# Events, written out from the layouts (code, length, parameters).
CC_RESET = bytes.fromhex("0e 04 01 030c 00")  # Command_Complete, 1 credit, Reset, success
#: LE Connection Complete: success, handle 0x0040, central, peer random C0:11:22:33:44:55,
#: interval 40 x 1.25 ms, latency 0, timeout 400 x 10 ms.
CONN_COMPLETE_0040 = bytes.fromhex("3e 13 01 00 4000 00 01 5544332211c0 2800 0000 9001 00")
CONN_COMPLETE_0041 = bytes.fromhex("3e 13 01 00 4100 00 01 665544332211 2800 0000 9001 00")


class Rig:
    """An HciDriver with everything it outputs recorded."""

    def __init__(self, timeout_ns: int = 2_000_000_000) -> None:
        self.sent: list[tuple[int, bytes]] = []
        self.events: list[HciEvent] = []
        self.acl: list[tuple[int, bytes]] = []
        self.errors: list[HciCommandError] = []
        self.driver = HciDriver(
            lambda t, p: self.sent.append((t, p)),
            on_event=lambda e, now: self.events.append(e),
            on_acl=lambda h, pdu, now: self.acl.append((h, pdu)),
            on_command_error=lambda e, now: self.errors.append(e),
            command_timeout_ns=timeout_ns,
        )

    def event(self, hex_or_bytes: str | bytes, now: int = 0) -> None:
        raw = bytes.fromhex(hex_or_bytes) if isinstance(hex_or_bytes, str) else hex_or_bytes
        self.driver.receive_packet(4, raw, now)

    def take(self) -> list[tuple[int, bytes]]:
        out, self.sent = self.sent, []
        return out


# -- command flow control ---------------------------------------------------------------


def test_one_command_at_a_time_until_the_controller_allows_more() -> None:
    rig = Rig()
    done: list[HciEvent] = []
    for _ in range(3):
        rig.driver.send_command(hc.HCI_Reset_Command(), 0, done.append)
    assert rig.take() == [(1, bytes.fromhex("03 0c 00"))]
    rig.event("0e 04 02 03 0c 00")  # Num_HCI_Command_Packets = 2
    assert rig.take() == [(1, bytes.fromhex("030c00"))] * 2
    assert len(done) == 1 and rig.driver.commands_pending == 2
    rig.event(CC_RESET)
    rig.event(CC_RESET)
    assert len(done) == 3 and rig.driver.commands_pending == 0


def test_zero_allowance_stalls_until_a_no_op_command_complete() -> None:
    rig = Rig()
    rig.driver.send_command(hc.HCI_Reset_Command(), 0)
    rig.driver.send_command(hc.HCI_Read_BD_ADDR_Command(), 0)
    rig.take()
    rig.event("0e 04 00 03 0c 00")  # answered, but 0 further commands allowed
    assert rig.take() == []
    rig.event("0e 03 01 00 00")  # opcode 0x0000: only a new allowance (7.7.14)
    assert rig.take() == [(1, bytes.fromhex("09 10 00"))]
    assert rig.driver.stats.unexpected_completions == 0


def test_command_status_completes_a_command_answered_by_status() -> None:
    rig = Rig()
    got: list[HciEvent] = []
    rig.driver.send_command(hc.HCI_Disconnect_Command(connection_handle=0x40, reason=0x13), 0, got.append)
    assert rig.take() == [(1, bytes.fromhex("06 04 03 4000 13"))]
    rig.event("0f 04 00 01 0604")  # Command_Status: success, 1 credit, HCI_Disconnect
    assert len(got) == 1 and got[0].to_bytes() == bytes.fromhex("0f0400010604")


def test_responses_match_the_oldest_outstanding_command_of_that_opcode() -> None:
    rig = Rig()
    order: list[str] = []
    rig.event("0e 03 03 00 00")  # allow 3 at once
    rig.driver.send_command(hc.HCI_Reset_Command(), 0, lambda e: order.append("reset"))
    rig.driver.send_command(hc.HCI_Read_BD_ADDR_Command(), 0, lambda e: order.append("addr"))
    rig.event("0e 0a 01 0910 00 665544332211")
    rig.event(CC_RESET)
    assert order == ["addr", "reset"]


def test_a_stray_completion_is_counted_not_raised() -> None:
    rig = Rig()
    rig.event("0e 04 01 05 10 00")  # Read_Buffer_Size complete nobody asked for
    assert rig.driver.stats.unexpected_completions == 1


# -- command timeout ----------------------------------------------------------------------


def test_command_timeout_fails_with_a_clear_error_at_the_exact_instant() -> None:
    rig = Rig()
    errors: list[HciCommandError] = []
    rig.driver.send_command(lc.HCI_LE_Set_Scan_Enable_Command(le_scan_enable=1, filter_duplicates=0),
                            5_000, on_error=errors.append)
    rig.driver.send_command(hc.HCI_Reset_Command(), 5_000)
    assert rig.driver.get_timer() == 5_000 + 2_000_000_000
    rig.take()
    rig.driver.handle_timer(2_000_004_999)
    assert errors == []
    rig.driver.handle_timer(2_000_005_000)
    assert len(errors) == 1 and isinstance(errors[0], HciTimeout)
    assert str(errors[0]) == (
        "HCI command HCI_LE_Set_Scan_Enable (opcode 0x200C) got no Command Complete or "
        "Command Status within 2.000 s"
    )
    assert rig.errors == errors and rig.driver.stats.command_timeouts == 1
    # the queue moves on: the next command goes out with a fresh deadline
    assert rig.take() == [(1, bytes.fromhex("030c00"))]
    assert rig.driver.get_timer() == 2_000_005_000 + 2_000_000_000
    rig.event("0e 04 01 0c 20 00", now=2_100_000_000)  # the late reply: counted, ignored
    assert rig.driver.stats.unexpected_completions == 1


def test_hardware_error_aborts_outstanding_commands_after_telling_the_host() -> None:
    rig = Rig()
    order: list[str] = []
    rig.driver.on_event = lambda e, now: order.append(type(e).__name__)
    rig.driver.send_command(hc.HCI_Reset_Command(), 0, on_error=lambda e: order.append(type(e).__name__))
    rig.driver.send_command(hc.HCI_Reset_Command(), 0, on_error=lambda e: order.append(type(e).__name__))
    rig.event(CONN_COMPLETE_0040)
    rig.event("10 01 2a")  # Hardware_Error, code 0x2A
    assert order == ["HCI_LE_Connection_Complete_Event", "HCI_Hardware_Error_Event", "HciAborted", "HciAborted"]
    assert rig.driver.connections == {} and rig.driver.commands_pending == 0
    assert all(isinstance(e, HciAborted) for e in rig.errors)
    assert rig.driver.get_timer() is None


# -- robustness -------------------------------------------------------------------------------


def test_vendor_unknown_and_malformed_events_are_counted_never_raised() -> None:
    rig = Rig()
    rig.event("ff 03 01 02 03")  # vendor specific
    rig.event("50 00")  # an event code nobody registered
    rig.event("3e 02 7f 00")  # LE Meta with an unknown subevent
    rig.event("0e 05 01 03 0c")  # length says 5, 3 follow
    rig.event("13 05 01 4000")  # Number_Of_Completed_Packets cut short
    rig.driver.receive_packet(2, bytes.fromhex("4000 0500 01"), 0)  # ACL length lie
    rig.driver.receive_packet(3, bytes.fromhex("400000"), 0)  # SCO: not for an LE host
    s = rig.driver.stats
    assert (s.vendor_events, s.unknown_events, s.malformed_packets, s.unexpected_packets) == (1, 2, 3, 1)
    assert rig.events == []


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([2, 3, 4, 5, 1, 0]), st.binary(max_size=80))
def test_random_packets_never_raise(h4_type: int, packet: bytes) -> None:
    rig = Rig()
    rig.driver.configure_acl(27, 4)
    rig.event(CONN_COMPLETE_0040)
    rig.driver.send_command(hc.HCI_Reset_Command(), 0)
    rig.driver.receive_packet(h4_type, packet, 1)
    rig.driver.handle_timer(3_000_000_000)


# -- LE ACL out: fragmentation and flow control --------------------------------------------


def pdu(length: int, cid: int = 0x0040) -> bytes:
    return struct.pack("<HH", length, cid) + bytes(i & 0xFF for i in range(length))


def test_fragments_to_the_le_buffer_size_with_the_le_packet_boundary_flags() -> None:
    rig = Rig()
    rig.driver.configure_acl(27, 8)
    rig.event(CONN_COMPLETE_0040)
    frame = pdu(56)  # 60 octets: 27 + 27 + 6
    rig.driver.send_acl(0x40, frame, 0)
    assert rig.take() == [
        (2, bytes.fromhex("4000 1b00") + frame[:27]),  # PB 0b00: first, non-flushable
        (2, bytes.fromhex("4010 1b00") + frame[27:54]),  # PB 0b01: continuing
        (2, bytes.fromhex("4010 0600") + frame[54:]),
    ]


def test_flow_control_stalls_at_zero_buffers_and_resumes_on_completed_packets() -> None:
    rig = Rig()
    rig.driver.configure_acl(27, 2)
    rig.event(CONN_COMPLETE_0040)
    rig.driver.send_acl(0x40, pdu(56), 0)  # 3 fragments, 2 buffers
    assert len(rig.take()) == 2 and rig.driver.acl_backlog(0x40) == 1
    rig.driver.send_acl(0x40, pdu(10), 0)
    assert rig.take() == [] and rig.driver.acl_credits == 0
    rig.event("13 05 01 4000 0100")  # Number_Of_Completed_Packets: handle 0x40, 1
    assert [p[:2] for _, p in rig.take()] == [bytes.fromhex("4010")]
    rig.event("13 05 01 4000 0200")
    out = rig.take()
    assert out == [(2, bytes.fromhex("4000 0e00") + pdu(10))]
    assert rig.driver.acl_backlog(0x40) == 0 and rig.driver.acl_credits == 1


def test_completed_packets_beyond_what_is_in_flight_are_counted_not_credited() -> None:
    rig = Rig()
    rig.driver.configure_acl(27, 2)
    rig.event(CONN_COMPLETE_0040)
    rig.event("13 05 01 4000 0500")
    assert rig.driver.acl_credits == 2 and rig.driver.stats.completed_packets_excess == 5


def test_handles_share_the_buffers_round_robin() -> None:
    rig = Rig()
    rig.driver.configure_acl(27, 1)
    rig.event(CONN_COMPLETE_0040)
    rig.event(CONN_COMPLETE_0041)
    rig.driver.send_acl(0x40, pdu(60), 0)  # 3 fragments each
    rig.driver.send_acl(0x41, pdu(60), 0)
    handles = [p[0] for _, p in rig.take()]
    for _ in range(5):
        # Number_Of_Completed_Packets: the last fragment sent is done
        rig.event(bytes([0x13, 0x05, 0x01, handles[-1], 0x00, 0x01, 0x00]))
        handles += [p[0] for _, p in rig.take()]
    assert handles == [0x40, 0x40, 0x41, 0x40, 0x41, 0x41]


def test_disconnection_frees_the_buffers_of_the_link_and_drops_its_queue() -> None:
    rig = Rig()
    rig.driver.configure_acl(27, 2)
    rig.event(CONN_COMPLETE_0040)
    rig.event(CONN_COMPLETE_0041)
    rig.driver.send_acl(0x40, pdu(100), 0)
    rig.driver.send_acl(0x41, pdu(10), 0)
    assert [p[0] for _, p in rig.take()] == [0x40, 0x40]
    rig.event("05 04 00 4000 13")  # Disconnection_Complete handle 0x40
    assert [p[0] for _, p in rig.take()] == [0x41]
    assert 0x40 not in rig.driver.connections and rig.driver.acl_credits == 1
    with pytest.raises(LocalError):
        rig.driver.send_acl(0x40, pdu(4), 0)


def test_acl_before_buffers_are_known_waits() -> None:
    rig = Rig()
    rig.event(CONN_COMPLETE_0040)
    rig.driver.send_acl(0x40, pdu(4), 0)
    assert rig.take() == []
    rig.driver.configure_acl(251, 4)
    assert len(rig.take()) == 1


# -- LE ACL in: reassembly ----------------------------------------------------------------


def test_reassembles_fragments_by_the_l2cap_length() -> None:
    rig = Rig()
    rig.event(CONN_COMPLETE_0040)
    # The ATT Read Response of the shared capture, cut in three: 1 + 7 + 6 octets.
    rig.driver.receive_packet(2, bytes.fromhex("4020 0100 0a"), 0)  # PB 0b10 first, flushable
    rig.driver.receive_packet(2, bytes.fromhex("4010 0700 0004000b456d75"), 0)
    assert rig.acl == []
    rig.driver.receive_packet(2, bytes.fromhex("4010 0600 506572697068"), 0)
    assert rig.acl == [(0x40, bytes.fromhex("0a0004000b456d755065726970 68".replace(" ", "")))]


@pytest.mark.parametrize(
    "fragments, counter",
    [
        (["4010 0300 010203"], "acl_reassembly_errors"),  # continuation without a start
        (["4020 0600 0100 0400 0aff"], "acl_reassembly_errors"),  # longer than its L2CAP length
        (["4030 0500 0100 0400 0a"], "acl_reassembly_errors"),  # PB 0b11 is not LE
        (["4100 0500 0100 0400 0a"], "acl_unknown_handle"),
    ],
)
def test_broken_incoming_acl_is_counted(fragments: list[str], counter: str) -> None:
    rig = Rig()
    rig.event(CONN_COMPLETE_0040)
    for f in fragments:
        rig.driver.receive_packet(2, bytes.fromhex(f), 0)
    assert rig.acl == [] and getattr(rig.driver.stats, counter) == 1


def test_a_new_start_drops_an_unfinished_pdu() -> None:
    rig = Rig()
    rig.event(CONN_COMPLETE_0040)
    rig.driver.receive_packet(2, bytes.fromhex("4020 0400 0500 0400"), 0)
    rig.driver.receive_packet(2, bytes.fromhex("4020 0500 0100 0400 0a"), 0)
    assert rig.acl == [(0x40, bytes.fromhex("010004000a"))]
    assert rig.driver.stats.acl_reassembly_errors == 1


def read_btsnoop(path: pathlib.Path) -> list[tuple[bool, bytes]]:
    """(from controller?, H4 packet) for each record of a btsnoop (H4, 1002) file."""
    raw = path.read_bytes()
    assert raw[:8] == b"btsnoop\0" and struct.unpack(">II", raw[8:16]) == (1, 1002)
    out, offset = [], 16
    while offset < len(raw):
        _, length, flags, _, _ = struct.unpack(">IIIIq", raw[offset : offset + 24])
        out.append((bool(flags & 1), raw[offset + 24 : offset + 24 + length]))
        offset += 24 + length
    return out


@pytest.mark.skipif(not SHARED_BTSNOOP.exists(), reason="shared capture not available")
def test_the_independent_btsnoop_capture_drives_the_driver() -> None:
    """Replay a capture written by someone else: our driver, given the host's requests,
    must send exactly the host packets it holds and understand the controller's."""
    from linklayer.hci.registry import parse_command

    rig = Rig()
    rig.driver.configure_acl(27, 4)
    expected_out: list[bytes] = []
    for from_controller, h4 in read_btsnoop(SHARED_BTSNOOP):
        if from_controller:
            rig.driver.receive_packet(h4[0], h4[1:], 0)
            continue
        expected_out.append(h4)
        if h4[0] == 1:
            rig.driver.send_command(parse_command(h4[1:]), 0)
        else:  # an ACL packet holding one whole L2CAP frame
            rig.driver.send_acl(int.from_bytes(h4[1:3], "little") & 0xFFF, h4[5:], 0)
    assert [bytes([t]) + p for t, p in rig.take()] == expected_out
    assert list(rig.driver.connections) == [0x0040]
    assert rig.driver.connections[0x40].peer_address == Address.parse("C0:11:22:33:44:55", random=True)
    assert rig.acl == [(0x40, bytes.fromhex("0a00 0400 0b 456d755065726970 68"))]  # ATT_READ_RSP
    assert rig.driver.acl_credits == 4  # its Number_Of_Completed_Packets came back
    s = rig.driver.stats
    assert (s.malformed_packets, s.unexpected_completions, s.completed_packets_excess) == (0, 0, 0)


# -- recorded sessions: whole, byte by byte, with garbage between packets ------------------

Session = list[tuple[int, str, bytes]]
GARBAGE = bytes([0x00, 0xFF, 0x07, 0x01, 0x03, 0x55, 0x10])  # none starts an event/ACL packet


def load_session(name: str) -> Session:
    out: Session = []
    for line in (DATA / name).read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        t, direction, hexdata = line.split()
        out.append((int(t), direction, bytes.fromhex(hexdata)))
    return out


def replay(session: Session, host: Host, mode: str) -> tuple[list[bytes], list[HostEvent], H4Parser]:
    """Feed the controller's side of ``session`` to ``host``; return what it sent."""
    sent: list[bytes] = []

    def collect() -> None:
        sent.extend(bytes([t]) + p for t, p in host.take_hci())

    parser = H4Parser(accept=(H4PacketType.EVENT, H4PacketType.ACL))
    incoming = [(t, b) for t, d, b in session if d == "C"]
    host.power_on(0)
    collect()
    chunks: list[tuple[int, bytes]]
    if mode == "whole":
        chunks = [(0, b"".join(b for _, b in incoming))]
    elif mode == "bytes":
        chunks = [(t, b[i : i + 1]) for t, b in incoming for i in range(len(b))]
    else:
        chunks = [(t, GARBAGE + b) for t, b in incoming] + [(0, GARBAGE)]
    for t, chunk in chunks:
        for h4_type, packet in parser.feed(chunk):
            host.hci_from_controller(h4_type, packet, t)
            collect()
    return sent, host.take_events(), parser


def scanning_host(commands: str) -> Host:
    import random

    host = Host(random.Random(1), HostConfig(gap=GapConfig(hci_commands=commands)))

    def script(e: HostEvent) -> None:
        if isinstance(e, PoweredOn):
            host.start_scan(host.now, ScanParameters(active=True, interval_ns=100 * MS, window_ns=100 * MS))

    host.listeners.append(script)
    return host


MODES = ["whole", "bytes", "garbage"]
LEGACY_ADV = bytes.fromhex("0201060809626c6573696d21")
LEGACY_RSP = bytes.fromhex("05ff5900abcd")


def ext_data() -> bytes:
    out = bytes.fromhex("020106")
    for i in range(2):
        out += bytes([143, 0xFF, 0xFF, 0xFF]) + bytes((i * 7 + k) & 0xFF for k in range(140))
    return out


def report_summary(events: list[HostEvent]) -> list[tuple[str, bool, bool, bytes]]:
    return [
        (str(e.address), e.scan_response, e.legacy, e.data)
        for e in events
        if isinstance(e, AdvertisingReport)
    ]


@pytest.mark.parametrize("mode", MODES)
def test_recorded_extended_scanning_session(mode: str) -> None:
    session = load_session("hci_ext_scan_session.txt")
    sent, events, parser = replay(session, scanning_host("auto"), mode)
    assert sent == [b for _, d, b in session if d == "H"]
    assert isinstance(events[0], PoweredOn) and events[0].extended_advertising
    assert events[1] == ScanStarted(active=True)
    legacy = [("F0:00:00:AA:7A:CF", False, True, LEGACY_ADV), ("F0:00:00:AA:7A:CF", True, True, LEGACY_RSP)]
    extended = [("F0:00:00:1B:A9:28", False, False, ext_data())]
    assert report_summary(events) == (legacy + extended) * 4 + legacy
    assert len(events) == 2 + 14
    assert (parser.discarded > 0) == (mode == "garbage")


@pytest.mark.parametrize("mode", MODES)
def test_recorded_legacy_scanning_session(mode: str) -> None:
    session = load_session("hci_legacy_scan_session.txt")
    sent, events, _ = replay(session, scanning_host("legacy"), mode)
    assert sent == [b for _, d, b in session if d == "H"]
    assert isinstance(events[0], PoweredOn) and not events[0].extended_advertising
    legacy = [("F0:00:00:AA:7A:CF", False, True, LEGACY_ADV), ("F0:00:00:AA:7A:CF", True, True, LEGACY_RSP)]
    assert report_summary(events) == legacy * 5
    scan_rsp = [e for e in events if isinstance(e, AdvertisingReport) and e.scan_response]
    assert scan_rsp[0].advertising_data.manufacturer_specific_data == [(0x0059, bytes.fromhex("abcd"))]


# A Bluetooth 4.2 controller (LE only, 27-octet LE buffers x 4) and a central session,
# written out by hand from the layouts of Vol 4 Part E 7.3, 7.4, 7.7 and 7.8.
SUPPORTED = bytearray(64)
for octet, bits in {0: 0x20, 2: 0x80, 5: 0xC0, 14: 0xA8, 15: 0x02, 24: 0x60, 25: 0xF7, 26: 0xFF,
                    27: 0xFF, 28: 0x0F, 33: 0xF0, 34: 0x01}.items():
    SUPPORTED[octet] = bits
PAYLOAD = bytes(range(56))
PDU_60 = bytes.fromhex("3800 4000") + PAYLOAD  # an L2CAP basic frame of 60 octets
CENTRAL_SESSION: list[tuple[str, str]] = [
    ("H", "01 030c 00"),  # HCI_Reset
    ("C", "04 0e 04 01 030c 00"),
    ("H", "01 0110 00"),  # Read_Local_Version_Information
    ("C", "04 0e 0c 01 0110 00 08 3412 08 5f00 7856"),  # 4.2, company 0x005F
    ("H", "01 0210 00"),  # Read_Local_Supported_Commands
    ("C", "04 0e 44 01 0210 00" + SUPPORTED.hex()),
    ("H", "01 0310 00"),  # Read_Local_Supported_Features
    ("C", "04 0e 0c 01 0310 00 0000000060000000"),  # LE supported, BR/EDR not supported
    ("H", "01 0910 00"),  # Read_BD_ADDR
    ("C", "04 0e 0a 01 0910 00 665544332211"),
    ("H", "01 0320 00"),  # LE_Read_Local_Supported_Features
    ("C", "04 0e 0c 01 0320 00 0100000000000000"),  # LE Encryption only
    ("H", "01 0220 00"),  # LE_Read_Buffer_Size (no v2 in the bitmap)
    ("C", "04 0e 07 01 0220 00 1b00 04"),
    ("H", "01 010c 08 90e8040200800020"),  # Set_Event_Mask incl. LE Meta (bit 61)
    ("C", "04 0e 04 01 010c 00"),
    ("H", "01 0120 08 7f1e0f0000000000"),  # LE_Set_Event_Mask
    ("C", "04 0e 04 01 0120 00"),
    ("H", "01 6d0c 02 01 00"),  # Write_LE_Host_Support
    ("C", "04 0e 04 01 6d0c 00"),
    # LE_Create_Connection: scan 100/100 ms, peer random C0:11:22:33:44:55, 30-50 ms, 4 s
    ("H", "01 0d20 19 a000 a000 00 01 554433 2211c0 00 1800 2800 0000 9001 0000 0000"),
    ("C", "04 0f 04 00 01 0d20"),
    ("C", "04 3e 13 01 00 4000 00 01 554433 2211c0 2800 0000 9001 00"),
    # two L2CAP frames of 60 octets on 4 buffers: 4 fragments, the rest after NOCP;
    # meanwhile LE_Connection_Update to 7.5-7.5 ms, latency 0, 1 s
    ("H", "02 4000 1b00" + PDU_60[:27].hex()),
    ("H", "02 4010 1b00" + PDU_60[27:54].hex()),
    ("H", "02 4010 0600" + PDU_60[54:].hex()),
    ("H", "02 4000 1b00" + PDU_60[:27].hex()),
    ("H", "01 1320 0e 4000 0600 0600 0000 6400 0000 0000"),
    ("C", "04 13 05 01 4000 0400"),
    ("H", "02 4010 1b00" + PDU_60[27:54].hex()),
    ("H", "02 4010 0600" + PDU_60[54:].hex()),
    ("C", "04 0f 04 00 01 1320"),
    ("C", "04 13 05 01 4000 0200"),
    ("C", "04 3e 0a 03 00 4000 0600 0000 6400"),
    ("H", "01 0604 03 4000 13"),  # HCI_Disconnect, Remote User Terminated Connection
    ("C", "04 0f 04 00 01 0604"),
    ("C", "04 05 04 00 4000 16"),  # Disconnection_Complete, Connection Terminated by Local Host
]


def central_host() -> Host:
    import random

    host = Host(random.Random(1))
    peer = Address.parse("C0:11:22:33:44:55", random=True)

    def script(e: HostEvent) -> None:
        if isinstance(e, PoweredOn):
            host.connect(peer, host.now)
        elif isinstance(e, Connected):
            host.hci.send_acl(e.handle, PDU_60, host.now)
            host.hci.send_acl(e.handle, PDU_60, host.now)
            host.update_connection(e.handle, ConnectionParameters(
                interval_min_ns=7_500_000, interval_max_ns=7_500_000, supervision_timeout_ns=1000 * MS), host.now)
        elif isinstance(e, ConnectionUpdated):
            host.disconnect(e.handle, host.now)

    host.listeners.append(script)
    return host


@pytest.mark.parametrize("mode", MODES)
def test_handwritten_central_session(mode: str) -> None:
    session: Session = [(0, d, bytes.fromhex(h.replace(" ", ""))) for d, h in CENTRAL_SESSION]
    host = central_host()
    sent, events, _ = replay(session, host, mode)
    assert [s.hex() for s in sent] == [b.hex() for _, d, b in session if d == "H"]
    peer = Address.parse("C0:11:22:33:44:55", random=True)
    assert events == [
        PoweredOn(public_address=Address.parse("11:22:33:44:55:66"), random_address=None,
                  address=Address.parse("11:22:33:44:55:66"), hci_version=8, le_features=1,
                  extended_advertising=False, le_acl_data_packet_length=27, total_num_le_acl_data_packets=4),
        Connected(0x40, "central", peer, 50 * MS, 0, 4000 * MS, Address.parse("11:22:33:44:55:66")),
        ConnectionUpdated(0x40, 7_500_000, 0, 1000 * MS),
        Disconnected(0x40, 0x16),
    ]
    assert host.hci.stats.unexpected_completions == 0 and host.hci.acl_credits == 4


def test_a_partial_packet_at_the_end_is_held_back() -> None:
    import random

    host = Host(random.Random(1))
    parser = H4Parser(accept=(H4PacketType.EVENT, H4PacketType.ACL))
    host.power_on(0)
    host.take_hci()
    assert parser.feed(bytes.fromhex("040e0401030c")) == []
    assert parser.pending == 6


def record_sessions() -> None:  # pragma: no cover - run by hand: python -m tests.host.test_hci_driver
    """Regenerate ``tests/host/data/hci_*_scan_session.txt`` from the simulated controller."""
    from emu.host_driver import HostDriver
    from emu.world import add_controller_node, make_world
    from host.gap_params import AdvertisingParameters

    for commands, name in (("auto", "hci_ext_scan_session.txt"), ("legacy", "hci_legacy_scan_session.txt")):
        w = make_world(7)
        nodes = {n: add_controller_node(w, n, pos) for n, pos in
                 (("legacy-adv", (0, 0)), ("ext-adv", (2, 0)), ("scanner", (1, 1)))}
        log: list[tuple[int, str, bytes]] = []
        scanner = scanning_host(commands)
        real_take: Callable[[], list[tuple[int, bytes]]] = scanner.take_hci

        def take(real: Callable[[], list[tuple[int, bytes]]] = real_take) -> list[tuple[int, bytes]]:
            out = real()
            log.extend((w.kernel.now, "H", bytes([t]) + p) for t, p in out)
            return out

        scanner.take_hci = take  # type: ignore[method-assign]
        nodes["scanner"].hci_sinks.append(lambda t, h, p: log.append((t, "C", bytes([h]) + p)))
        adv = Host(w.kernel.seeds.stream("node/legacy-adv/host"))
        ext = Host(w.kernel.seeds.stream("node/ext-adv/host"))

        def advertise_legacy(e: HostEvent) -> None:
            if isinstance(e, PoweredOn):
                adv.start_advertising(adv.now, LEGACY_ADV, LEGACY_RSP, AdvertisingParameters(interval_min_ns=50 * MS))

        def advertise_extended(e: HostEvent) -> None:
            if isinstance(e, PoweredOn):
                ext.start_advertising(ext.now, ext_data(), b"", AdvertisingParameters(
                    interval_min_ns=60 * MS, connectable=False, scannable=False))

        adv.listeners.append(advertise_legacy)
        ext.listeners.append(advertise_extended)
        HostDriver(w, nodes["legacy-adv"], adv)
        HostDriver(w, nodes["ext-adv"], ext)
        HostDriver(w, nodes["scanner"], scanner)
        w.run(250 * MS)
        lines = [f"{t} {d} {b.hex()}" for t, d, b in log]
        (DATA / name).write_text(
            "# HCI traffic of the 'scanner' node recorded from blesim's simulated controller\n"
            f"# (world seed 7, scanner hci_commands={commands!r}); one packet per line:\n"
            "# <time ns> <C: controller->host | H: host->controller> <H4 type octet + packet, hex>\n"
            + "\n".join(lines) + "\n"
        )


if __name__ == "__main__":  # pragma: no cover
    record_sessions()
