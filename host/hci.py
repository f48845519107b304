"""The host side of the HCI: commands, events and LE ACL data (Vol 4 Part E 4, 5).

Theory of operation
-------------------
:class:`HciDriver` is a sans-IO object between the host layers and a controller. It is
driven by packets from the controller (:meth:`HciDriver.receive_packet`, H4 type and
packet bytes), by calls from above (:meth:`~HciDriver.send_command`,
:meth:`~HciDriver.send_acl`) and by its timer (:meth:`~HciDriver.handle_timer`); it
writes packets to the controller through the ``send_packet(h4_type, packet)`` callable
given at construction.

Commands (Vol 4 Part E 4.4). The host may send as many commands as the controller's
last Num_HCI_Command_Packets allows (1 after power-up); others wait in a FIFO queue.
A Command_Complete or Command_Status answers the oldest outstanding command with its
opcode and sets the allowance again. A command still unanswered after
``command_timeout_ns`` fails with :class:`HciTimeout` (its ``on_error`` callback and
the driver's ``on_command_error`` callback) and the allowance is restored to one so the
queue does not stall forever.

LE ACL data (Vol 4 Part E 4.1.1, 5.4.2). :meth:`~HciDriver.configure_acl` gives the
controller's LE_ACL_Data_Packet_Length and Total_Num_LE_ACL_Data_Packets. An L2CAP PDU
handed to :meth:`~HciDriver.send_acl` is cut into fragments of at most that length
(first fragment PB 0b00, the others 0b01) queued per connection handle; a fragment is
sent only while the controller has a free buffer, and Number_Of_Completed_Packets gives
buffers back. Handles are served round robin. When a connection disconnects, the
buffers its unacknowledged packets held are free again (4.3) and its queue is dropped.

"Sent" signal. A PDU may carry a completion marker ``on_sent(now)``: the ``on_sent``
argument of :meth:`~HciDriver.send_acl`, or a :class:`MarkedPdu` (bytes carrying the
marker, so that it passes unchanged through the plain ``send(bytes)`` callables between
ATT, L2CAP and this driver). The marker is attached to the PDU's last fragment and
called once, when Number_Of_Completed_Packets has covered every fragment of the PDU
(the controller completes a handle's packets in order, so counting them is enough);
:meth:`~HciDriver.when_sent` sets such a marker on everything queued so far. Markers of a
connection that disconnects (or of a controller that reports a hardware error) are
dropped without being called.
Fragments from the controller (first: PB 0b10 or 0b00; continuing: 0b01) are
reassembled per handle using the L2CAP length field and delivered whole through
``on_acl(handle, l2cap_pdu, now)``.

Events. Command_Complete, Command_Status and Number_Of_Completed_Packets are consumed
here; the driver also keeps the connection table (LE (Enhanced) Connection Complete,
Disconnection Complete); every decoded event then goes to ``on_event(event, now)``.
Nothing the controller sends raises: malformed packets, vendor (0xFF) and unknown
events, stray completions and ACL for unknown handles are counted in
:class:`HciStats`. On HCI_Hardware_Error the driver forgets every command and
connection, passes the event on (the host starts its power-on sequence again), then
fails the forgotten commands with :class:`HciAborted`.

Procedures. :class:`CommandChain` sends a list of :class:`Step` one after the other,
each command built when its turn comes, stopping at the first required step that
fails (status, timeout or abort); GAP runs every procedure, power-on included, as one.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from typing import Callable

from linklayer.hci.address import Address
from linklayer.hci import acl as hci_acl
from linklayer.hci.codec import HciCommand, HciDecodeError, HciEvent
from linklayer.hci.errors import error_name
from linklayer.hci.events import (
    HCI_Data_Buffer_Overflow_Event,
    HCI_Disconnection_Complete_Event,
    HCI_Hardware_Error_Event,
    HCI_Number_Of_Completed_Packets_Event,
)
from linklayer.hci.h4 import H4PacketType
from linklayer.hci.le_events import (
    HCI_LE_Connection_Complete_Event,
    HCI_LE_Enhanced_Connection_Complete_Event,
)
from linklayer.hci.registry import (
    COMMANDS,
    HCI_Command_Complete_Event,
    HCI_Command_Status_Event,
    UnknownEvent,
    parse_event,
)

H4_COMMAND = int(H4PacketType.COMMAND)
H4_ACL = int(H4PacketType.ACL)
H4_EVENT = int(H4PacketType.EVENT)

#: Default command timeout: 2 s of simulated time (Linux uses the same value).
DEFAULT_COMMAND_TIMEOUT_NS = 2_000_000_000
#: Vendor-specific event code (Vol 4 Part E 5.4.4).
VENDOR_EVENT_CODE = 0xFF
#: L2CAP basic header: Length (2 octets) and Channel ID (2 octets), Vol 3 Part A 3.1.
L2CAP_HEADER_SIZE = 4


class LocalError(Exception):
    """The caller misused a host API (bad arguments, wrong state). Raised to the caller."""


class HciCommandError(Exception):
    """A command did not complete (base of :class:`HciTimeout` and :class:`HciAborted`)."""

    def __init__(self, message: str, command: HciCommand) -> None:
        super().__init__(message)
        self.command = command

    @property
    def opcode(self) -> int:
        return self.command.OPCODE


class HciTimeout(HciCommandError):
    """The controller answered a command with neither Command_Complete nor
    Command_Status within the command timeout."""


class HciAborted(HciCommandError):
    """The command was outstanding or queued when the controller reported a hardware
    error (or the driver was reset); it will never be answered."""


def command_name(command: HciCommand | int) -> str:
    """The specification name of a command (or ``opcode 0x....`` if unknown)."""
    if isinstance(command, HciCommand):
        op = command.OPCODE
        name = type(command).__name__
        if name != "UnknownCommand":
            return name.removesuffix("_Command")
    else:
        op = command
        cls = COMMANDS.get(op)
        if cls is not None:
            return cls.__name__.removesuffix("_Command")
    return f"opcode 0x{op:04X}"


def completion_status(event: HciEvent) -> int:
    """The Status of a Command_Complete (first return parameter) or Command_Status."""
    if isinstance(event, HCI_Command_Status_Event):
        return event.status
    if isinstance(event, HCI_Command_Complete_Event):
        return event.return_parameters[0] if event.return_parameters else 0
    raise TypeError(f"{type(event).__name__} is not a command completion")


OnComplete = Callable[[HciEvent], None]
OnError = Callable[[HciCommandError], None]
#: ``on_sent(now)``: every ACL fragment of a PDU was completed by the controller.
OnSent = Callable[[int], None]


class MarkedPdu(bytes):
    """A PDU (ATT PDU, L2CAP frame) that carries a completion marker ``on_sent``.

    It is ``bytes`` for every layer it passes through; the layers that build a new PDU
    around it (L2CAP adds its header) carry the marker over, and :meth:`HciDriver.send_acl`
    calls it once the controller completed the PDU's last fragment.
    """

    on_sent: OnSent | None

    def __new__(cls, data: bytes, on_sent: OnSent | None) -> MarkedPdu:
        pdu = super().__new__(cls, data)
        pdu.on_sent = on_sent
        return pdu


def sent_marker(pdu: bytes) -> OnSent | None:
    """The completion marker ``pdu`` carries (None for plain bytes)."""
    return pdu.on_sent if isinstance(pdu, MarkedPdu) else None


def with_sent_marker(pdu: bytes, on_sent: OnSent | None) -> bytes:
    """``pdu`` carrying ``on_sent`` (``pdu`` itself when there is no marker)."""
    return pdu if on_sent is None else MarkedPdu(pdu, on_sent)


@dataclasses.dataclass
class HciStats:
    """Counters of what went through the driver (and what was ignored)."""

    commands_sent: int = 0
    events_received: int = 0
    acl_fragments_sent: int = 0
    acl_fragments_received: int = 0
    acl_pdus_received: int = 0
    vendor_events: int = 0
    unknown_events: int = 0
    malformed_packets: int = 0
    unexpected_packets: int = 0
    unexpected_completions: int = 0
    command_timeouts: int = 0
    hardware_errors: int = 0
    acl_unknown_handle: int = 0
    acl_reassembly_errors: int = 0
    completed_packets_excess: int = 0
    data_buffer_overflows: int = 0


@dataclasses.dataclass
class _Pending:
    command: HciCommand
    on_complete: OnComplete | None
    on_error: OnError | None
    deadline: int | None = None


@dataclasses.dataclass
class AclLink:
    """What the driver knows about one LE connection (its Connection_Handle)."""

    handle: int
    role: str  # "central" | "peripheral"
    peer_address: Address
    in_flight: int = 0  # fragments the controller has not completed yet
    queue: deque[bytes] = dataclasses.field(default_factory=deque)
    queued_total: int = 0  # fragments ever queued on this link
    completed_total: int = 0  # fragments ever completed by the controller
    #: Completion markers: (queued_total of the PDU's last fragment, on_sent), in order.
    markers: deque[tuple[int, OnSent]] = dataclasses.field(default_factory=deque)
    rx_buffer: bytearray = dataclasses.field(default_factory=bytearray)
    rx_expected: int | None = None  # whole PDU length once the L2CAP header is in


class HciDriver:
    """Sans-IO HCI host driver; see the module docstring."""

    def __init__(
        self,
        send_packet: Callable[[int, bytes], None],
        *,
        on_event: Callable[[HciEvent, int], None] | None = None,
        on_acl: Callable[[int, bytes, int], None] | None = None,
        on_command_error: Callable[[HciCommandError, int], None] | None = None,
        command_timeout_ns: int = DEFAULT_COMMAND_TIMEOUT_NS,
    ) -> None:
        self._send_packet = send_packet
        self.on_event = on_event
        self.on_acl = on_acl
        self.on_command_error = on_command_error
        self.command_timeout_ns = command_timeout_ns
        self.stats = HciStats()
        #: The latest instant the driver was given (for callbacks that need ``now``).
        self.now = 0
        self.connections: dict[int, AclLink] = {}
        #: Commands the host may send now (Num_HCI_Command_Packets).
        self.command_credits = 1
        self._queue: deque[_Pending] = deque()
        self._outstanding: list[_Pending] = []
        self.le_acl_data_packet_length = 0
        self.total_num_le_acl_data_packets = 0
        self.acl_credits = 0
        self._ready: deque[int] = deque()  # handles with queued fragments, round robin

    def tick(self, now: int) -> None:
        """Note the current time (callers that have ``now`` keep the driver's clock up)."""
        if now > self.now:
            self.now = now

    # -- commands ----------------------------------------------------------------------
    def send_command(
        self,
        cmd: HciCommand,
        now: int,
        on_complete: OnComplete | None = None,
        on_error: OnError | None = None,
    ) -> None:
        """Queue ``cmd``; ``on_complete`` gets its Command_Complete or Command_Status.

        ``on_error`` gets :class:`HciTimeout` or :class:`HciAborted` if it never
        completes (the driver's ``on_command_error`` callback is told as well).
        """
        self.tick(now)
        self._queue.append(_Pending(cmd, on_complete, on_error))
        self._pump_commands(now)

    @property
    def commands_pending(self) -> int:
        """Commands queued or sent and not yet answered."""
        return len(self._queue) + len(self._outstanding)

    def _pump_commands(self, now: int) -> None:
        while self._queue and self.command_credits > 0:
            pending = self._queue.popleft()
            self.command_credits -= 1
            pending.deadline = now + self.command_timeout_ns
            self._outstanding.append(pending)
            self.stats.commands_sent += 1
            self._send_packet(H4_COMMAND, pending.command.to_bytes())

    def _complete(self, opcode: int, credits: int, event: HciEvent, now: int) -> None:
        self.command_credits = credits
        if opcode != 0x0000:  # opcode 0: only a new allowance (7.7.14)
            for i, pending in enumerate(self._outstanding):
                if pending.command.OPCODE == opcode:
                    del self._outstanding[i]
                    if pending.on_complete is not None:
                        pending.on_complete(event)
                    break
            else:
                self.stats.unexpected_completions += 1
        self._pump_commands(now)

    # -- timer -------------------------------------------------------------------------
    def get_timer(self) -> int | None:
        """The earliest command deadline, if a command is outstanding."""
        deadlines = [p.deadline for p in self._outstanding if p.deadline is not None]
        return min(deadlines) if deadlines else None

    def handle_timer(self, now: int) -> None:
        """Fail the commands whose deadline has passed."""
        self.tick(now)
        expired = [p for p in self._outstanding if p.deadline is not None and p.deadline <= now]
        if not expired:
            return
        for pending in expired:
            self._outstanding.remove(pending)
            self.stats.command_timeouts += 1
            error = HciTimeout(
                f"HCI command {command_name(pending.command)} "
                f"(opcode 0x{pending.command.OPCODE:04X}) got no Command Complete or "
                f"Command Status within {self.command_timeout_ns / 1e9:.3f} s",
                pending.command,
            )
            self._fail(pending, error, now)
        # The controller's allowance is unknown after a lost reply: assume one command.
        self.command_credits = max(self.command_credits, 1)
        self._pump_commands(now)

    def _fail(self, pending: _Pending, error: HciCommandError, now: int) -> None:
        if self.on_command_error is not None:
            self.on_command_error(error, now)
        if pending.on_error is not None:
            pending.on_error(error)

    def abort_all(self, now: int, reason: str) -> None:
        """Forget every command, connection and queued fragment (hardware error, reset).

        Outstanding and queued commands fail with :class:`HciAborted`.
        """
        self._fail_all(self._take_all(), reason, now)

    def _take_all(self) -> list[_Pending]:
        aborted = self._outstanding + list(self._queue)
        self._outstanding = []
        self._queue.clear()
        self.command_credits = 1
        self.connections.clear()
        self._ready.clear()
        self.acl_credits = self.total_num_le_acl_data_packets
        return aborted

    def _fail_all(self, aborted: list[_Pending], reason: str, now: int) -> None:
        for pending in aborted:
            self._fail(
                pending,
                HciAborted(
                    f"HCI command {command_name(pending.command)} aborted: {reason}",
                    pending.command,
                ),
                now,
            )

    # -- ACL out -----------------------------------------------------------------------
    def configure_acl(self, packet_length: int, total_packets: int) -> None:
        """Set the controller's LE ACL buffers (LE_Read_Buffer_Size, 7.8.2)."""
        if packet_length <= 0 or total_packets <= 0:
            raise LocalError(
                f"LE ACL buffers must be positive (got {packet_length} x {total_packets})"
            )
        in_flight = sum(link.in_flight for link in self.connections.values())
        self.le_acl_data_packet_length = packet_length
        self.total_num_le_acl_data_packets = total_packets
        self.acl_credits = max(0, total_packets - in_flight)
        self._pump_acl()

    def send_acl(self, handle: int, l2cap_pdu: bytes, now: int, on_sent: OnSent | None = None) -> None:
        """Queue one L2CAP PDU for ``handle``, fragmented to the controller's buffers.

        ``on_sent(now)`` (or the marker of a :class:`MarkedPdu`) is called once the
        controller completed every fragment of this PDU; never if the link goes away first.
        """
        link = self.connections.get(handle)
        if link is None:
            raise LocalError(f"no connection with handle 0x{handle:03X}")
        if not l2cap_pdu:
            raise LocalError("an L2CAP PDU has at least its 4-octet header")
        size = self.le_acl_data_packet_length or 27
        data = bytes(l2cap_pdu)
        for start in range(0, len(data), size):
            pb = hci_acl.PB_FIRST_NON_FLUSHABLE if start == 0 else hci_acl.PB_CONTINUING_FRAGMENT
            fragment = hci_acl.HciAclData(handle, pb, hci_acl.BC_POINT_TO_POINT, data[start : start + size])
            link.queue.append(fragment.to_bytes())
            link.queued_total += 1
        marker = on_sent if on_sent is not None else sent_marker(l2cap_pdu)
        if marker is not None:
            link.markers.append((link.queued_total, marker))
        if handle not in self._ready:
            self._ready.append(handle)
        self._pump_acl()

    def acl_backlog(self, handle: int) -> int:
        """Fragments queued in the host for ``handle`` (not yet given to the controller)."""
        link = self.connections.get(handle)
        return len(link.queue) if link is not None else 0

    def acl_unsent(self, handle: int) -> int:
        """Fragments of ``handle`` queued here or not yet completed by the controller."""
        link = self.connections.get(handle)
        return link.queued_total - link.completed_total if link is not None else 0

    def when_sent(self, handle: int, on_sent: OnSent) -> bool:
        """Call ``on_sent(now)`` once every fragment queued so far for ``handle`` was
        completed (at once if none is outstanding). False (never called) if there is no
        such connection; dropped, uncalled, if it disconnects first."""
        link = self.connections.get(handle)
        if link is None:
            return False
        if link.completed_total >= link.queued_total:
            on_sent(self.now)
        else:
            link.markers.append((link.queued_total, on_sent))
        return True

    def _pump_acl(self) -> None:
        while self.acl_credits > 0 and self._ready:
            handle = self._ready.popleft()
            link = self.connections.get(handle)
            if link is None or not link.queue:
                continue
            packet = link.queue.popleft()
            self.acl_credits -= 1
            link.in_flight += 1
            self.stats.acl_fragments_sent += 1
            if link.queue:
                self._ready.append(handle)
            self._send_packet(H4_ACL, packet)

    def _completed_packets(self, event: HCI_Number_Of_Completed_Packets_Event) -> None:
        done: list[OnSent] = []
        for entry in event.handles:
            link = self.connections.get(entry.connection_handle)
            count = entry.num_completed_packets
            if link is None:
                self.stats.completed_packets_excess += count
                continue
            freed = min(count, link.in_flight)
            self.stats.completed_packets_excess += count - freed
            link.in_flight -= freed
            self.acl_credits += freed
            link.completed_total += freed
            while link.markers and link.markers[0][0] <= link.completed_total:
                done.append(link.markers.popleft()[1])
        self._pump_acl()
        for on_sent in done:  # after the bookkeeping: a marker may send the next PDU
            on_sent(self.now)

    # -- input -------------------------------------------------------------------------
    def receive_packet(self, h4_type: int, packet: bytes, now: int) -> None:
        """A packet from the controller (without its H4 type octet). Never raises."""
        self.tick(now)
        if h4_type == H4_EVENT:
            self._receive_event(bytes(packet), now)
        elif h4_type == H4_ACL:
            self._receive_acl(bytes(packet), now)
        else:
            self.stats.unexpected_packets += 1

    def _receive_event(self, packet: bytes, now: int) -> None:
        try:
            event = parse_event(packet)
        except HciDecodeError:
            self.stats.malformed_packets += 1
            return
        self.stats.events_received += 1
        if isinstance(event, UnknownEvent):
            if event.code == VENDOR_EVENT_CODE:
                self.stats.vendor_events += 1
            else:
                self.stats.unknown_events += 1
            return
        if isinstance(event, HCI_Command_Complete_Event):
            self._complete(event.command_opcode, event.num_hci_command_packets, event, now)
            return
        if isinstance(event, HCI_Command_Status_Event):
            self._complete(event.command_opcode, event.num_hci_command_packets, event, now)
            return
        if isinstance(event, HCI_Number_Of_Completed_Packets_Event):
            self._completed_packets(event)
            return
        if isinstance(
            event, (HCI_LE_Connection_Complete_Event, HCI_LE_Enhanced_Connection_Complete_Event)
        ):
            if event.status == 0:
                self.connections[event.connection_handle] = AclLink(
                    handle=event.connection_handle,
                    role="central" if event.role == 0 else "peripheral",
                    peer_address=Address(bytes(event.peer_address), bool(event.peer_address_type & 1)),
                )
        elif isinstance(event, HCI_Disconnection_Complete_Event):
            if event.status == 0:
                self._drop_link(event.connection_handle)
        elif isinstance(event, HCI_Data_Buffer_Overflow_Event):
            self.stats.data_buffer_overflows += 1
        elif isinstance(event, HCI_Hardware_Error_Event):
            # Forget everything first, tell the layer above (which starts again), and
            # only then fail the commands that will never be answered.
            self.stats.hardware_errors += 1
            aborted = self._take_all()
            if self.on_event is not None:
                self.on_event(event, now)
            self._fail_all(aborted, f"controller hardware error 0x{event.hardware_code:02X}", now)
            return
        if self.on_event is not None:
            self.on_event(event, now)

    def _drop_link(self, handle: int) -> None:
        link = self.connections.pop(handle, None)
        if link is None:
            return
        # The controller flushes the packets of a disconnected handle: their buffers
        # are free again without Number_Of_Completed_Packets (Vol 4 Part E 4.3).
        self.acl_credits += link.in_flight
        self._pump_acl()

    def _receive_acl(self, packet: bytes, now: int) -> None:
        try:
            data = hci_acl.HciAclData.from_bytes(packet)
        except HciDecodeError:
            self.stats.malformed_packets += 1
            return
        self.stats.acl_fragments_received += 1
        link = self.connections.get(data.handle)
        if link is None:
            self.stats.acl_unknown_handle += 1
            return
        if data.pb_flag in (hci_acl.PB_FIRST_FLUSHABLE, hci_acl.PB_FIRST_NON_FLUSHABLE):
            if link.rx_buffer:
                self.stats.acl_reassembly_errors += 1  # previous PDU never completed
            link.rx_buffer = bytearray(data.data)
            link.rx_expected = None
        elif data.pb_flag == hci_acl.PB_CONTINUING_FRAGMENT:
            if not link.rx_buffer:
                self.stats.acl_reassembly_errors += 1  # continuation without a start
                return
            link.rx_buffer += data.data
        else:
            self.stats.acl_reassembly_errors += 1
            return
        if link.rx_expected is None and len(link.rx_buffer) >= 2:
            link.rx_expected = L2CAP_HEADER_SIZE + int.from_bytes(link.rx_buffer[:2], "little")
        expected = link.rx_expected
        if expected is None or len(link.rx_buffer) < expected:
            return
        pdu = bytes(link.rx_buffer)
        link.rx_buffer = bytearray()
        link.rx_expected = None
        if len(pdu) != expected:
            self.stats.acl_reassembly_errors += 1  # more octets than the L2CAP length
            return
        self.stats.acl_pdus_received += 1
        if self.on_acl is not None:
            self.on_acl(data.handle, pdu, now)



# -- command chains ----------------------------------------------------------------------

#: Status reported for a step that timed out or was aborted (not a controller code).
STATUS_NO_REPLY = -1


@dataclasses.dataclass
class Step:
    """One command of a :class:`CommandChain`.

    ``build`` makes the command when the step's turn comes (so it can use what earlier
    steps returned) or returns ``None`` to skip the step; ``on_result`` gets the
    completion event when its status is 0. A failed ``required`` step stops the chain.
    """

    build: Callable[[], HciCommand | None]
    on_result: Callable[[HciEvent], None] | None = None
    required: bool = True


@dataclasses.dataclass(frozen=True)
class ChainFailure:
    """Why a chain stopped: the command, its status (or :data:`STATUS_NO_REPLY`)."""

    command: HciCommand
    status: int
    message: str

    @property
    def command_name(self) -> str:
        return command_name(self.command)


class CommandChain:
    """Commands sent one after the other through an :class:`HciDriver`."""

    def __init__(
        self,
        driver: HciDriver,
        steps: list[Step],
        on_done: Callable[[], None] | None = None,
        on_fail: Callable[[ChainFailure], None] | None = None,
    ) -> None:
        self.driver = driver
        self.steps = deque(steps)
        self.on_done = on_done
        self.on_fail = on_fail
        self.finished = False

    def start(self) -> None:
        self._next()

    def _next(self) -> None:
        while self.steps:
            step = self.steps.popleft()
            cmd = step.build()
            if cmd is None:
                continue
            self._send(step, cmd)
            return
        self.finished = True
        if self.on_done is not None:
            self.on_done()

    def _send(self, step: Step, cmd: HciCommand) -> None:
        def completed(event: HciEvent) -> None:
            self._completed(step, cmd, event)

        def errored(error: HciCommandError) -> None:
            self._errored(step, cmd, error)

        self.driver.send_command(cmd, self.driver.now, completed, errored)

    def _completed(self, step: Step, cmd: HciCommand, event: HciEvent) -> None:
        status = completion_status(event)
        if status == 0 and step.on_result is not None:
            try:
                step.on_result(event)
            except HciDecodeError:
                status = 0x12  # malformed return parameters: as good as a failure
        if status != 0 and step.required:
            self._stop(ChainFailure(cmd, status, f"{command_name(cmd)} failed: {error_name(status)}"))
            return
        self._next()

    def _errored(self, step: Step, cmd: HciCommand, error: HciCommandError) -> None:
        if step.required:
            self._stop(ChainFailure(cmd, STATUS_NO_REPLY, str(error)))
        else:
            self._next()

    def _stop(self, failure: ChainFailure) -> None:
        self.steps.clear()
        self.finished = True
        if self.on_fail is not None:
            self.on_fail(failure)


__all__ = [
    "H4_COMMAND",
    "H4_ACL",
    "H4_EVENT",
    "DEFAULT_COMMAND_TIMEOUT_NS",
    "LocalError",
    "HciCommandError",
    "HciTimeout",
    "HciAborted",
    "HciStats",
    "AclLink",
    "HciDriver",
    "MarkedPdu",
    "OnSent",
    "sent_marker",
    "with_sent_marker",
    "command_name",
    "completion_status",
    "error_name",
    "STATUS_NO_REPLY",
    "Step",
    "ChainFailure",
    "CommandChain",
]
