"""GAP over HCI: power-on, addresses, advertising, scanning, connections (Vol 3 Part C).

Theory of operation
-------------------
:class:`Gap` turns application requests into HCI command sequences and HCI events into
:mod:`host.events`. It is sans-IO: it sends commands through an
:class:`~host.hci.HciDriver`, reports events through the ``emit`` callable it is
given, and keeps one timer (:meth:`Gap.get_timer` / :meth:`Gap.handle_timer`) for
connection attempt timeouts and the duration of legacy scans.

Procedures are :class:`~host.hci.CommandChain` objects run one at a time in request
order, so that "advertise, then scan" never interleaves its commands. A hardware error
starts a new *generation*: callbacks of chains from before it are ignored.

Power-on (:meth:`Gap.power_on`): Reset, Read_Local_Version_Information,
Read_Local_Supported_Commands, then only what that bitmap lists: Read_Local_Supported_
Features, Read_BD_ADDR, LE_Read_Local_Supported_Features, LE_Read_Buffer_Size [v2]
(falling back to Read_Buffer_Size when the LE buffers are shared, 7.8.2),
Set_Event_Mask (LE Meta bit 61 and the events handled here), Set_Event_Mask_Page_2,
LE_Set_Event_Mask, Write_LE_Host_Support, the extended advertising limits,
LE_Write_Suggested_Default_Data_Length (if configured) and LE_Set_Random_Address.

Legacy or extended commands: a controller refuses a mix of the two until reset
(Vol 4 Part E 3.1.1), so the choice is made once at power-on — extended commands when
the controller has the LE Extended Advertising feature and lists the commands (or when
configured), legacy otherwise. With extended commands, an advertising set still uses
legacy PDUs whenever its data fits in 31 octets, unless told otherwise
(:attr:`AdvertisingParameters.legacy`); data longer than 31 octets needs extended PDUs.

Connection parameter updates are :mod:`host.gap_updates`, PHY and data length updates
:mod:`host.gap_phy` (both mixed into :class:`Gap`). Own
private addresses (:meth:`Gap.set_private_address`) replace the static address for
Own_Address_Type 1; advertising and scanning that use it are paused around
LE_Set_Random_Address, which the controller refuses while they run.
"""

from __future__ import annotations

import dataclasses
import enum
from collections import deque
from typing import Callable

from host.advertising_data import AdvertisingData
from host.events import (
    AdvertisingStarted,
    AdvertisingStartFailed,
    AdvertisingStopped,
    CommandFailed,
    Connected,
    ConnectionFailed,
    Disconnected,
    HardwareError,
    HostEvent,
    PoweredOn,
    PowerOnFailed,
    ScanRequestReceived,
    ScanStarted,
    ScanStopped,
)
from host.events import report_from_directed, report_from_extended, report_from_legacy
from host.gap_updates import ConnectionUpdates, L2capUpdateRequest, ParameterPolicy
from host.gap_phy import PhyAndDataLength
from host.gap_params import (
    AdvertisingParameters,
    ConnectionParameters,
    ControllerInfo,
    ScanParameters,
    extended_advertising_commands,
    legacy_advertising_commands,
    random_static_address,
)
from host.power_on import power_on_steps
from host.hci import (
    ChainFailure,
    CommandChain,
    HciDriver,
    LocalError,
    Step,
    command_name,
    completion_status,
)
from linklayer.hci.address import Address
from linklayer.hci import commands as hc
from linklayer.hci import le_commands as lc
from linklayer.hci import le_events as le
from linklayer.hci import le_ext_commands as lx
from linklayer.hci.codec import HciCommand, HciEvent
from linklayer.hci.errors import ErrorCode
from linklayer.hci.events import HCI_Disconnection_Complete_Event, HCI_Hardware_Error_Event
from phy.types import Rng
from phy.units import UNIT_10MS, UNIT_1250US

#: Reasons HCI_Disconnect accepts (Vol 4 Part E 7.1.6).
DISCONNECT_REASONS = frozenset({0x05, 0x13, 0x14, 0x15, 0x1A, 0x29, 0x3B})


@dataclasses.dataclass(frozen=True)
class GapConfig:
    """How GAP uses its controller.

    ``address_type``: ``"public"`` or ``"random"`` (the random static address, drawn
    from the rng unless ``static_address`` is given). A controller without a public
    address makes the host use the random one. ``hci_commands``: ``"auto"``,
    ``"legacy"`` or ``"extended"`` advertising/scanning/connecting commands.
    ``suggested_data_length``: (octets, µs) for LE_Write_Suggested_Default_Data_Length.
    """

    address_type: str = "public"
    static_address: Address | None = None
    hci_commands: str = "auto"
    suggested_data_length: tuple[int, int] | None = None


class ConnectState(enum.Enum):
    IDLE = "idle"
    CONNECTING = "connecting"
    CANCELLING = "cancelling"


@dataclasses.dataclass
class Connection:
    """GAP's view of one connection."""

    handle: int
    role: str
    peer_address: Address
    interval_ns: int
    latency: int
    supervision_timeout_ns: int
    local_address: Address | None = None
    update_in_progress: str | None = None  # "ll" | "l2cap" | "central"
    pending_update: ConnectionParameters | None = None
    update_retries: int = 0  # times the pending update was started again after a collision
    update_retry_at: int | None = None  # when it starts again (after the colliding procedure)
    remote_features: int | None = None
    #: PHYs (1 LE 1M, 2 LE 2M, 3 LE Coded) and effective data lengths (:mod:`host.gap_phy`).
    tx_phy: int = 1
    rx_phy: int = 1
    phy_update_pending: bool = False
    max_tx_octets: int = 27
    max_tx_time_ns: int = 328_000
    max_rx_octets: int = 27
    max_rx_time_ns: int = 328_000


@dataclasses.dataclass
class _Connect:
    peer: Address
    state: ConnectState = ConnectState.CONNECTING
    sent: bool = False
    deadline: int | None = None
    timeout_ns: int | None = None
    why: str = "failed"
    own: int = 0  # Own_Address_Type




class Gap(ConnectionUpdates, PhyAndDataLength):
    """The GAP procedures of one host; see the module docstring."""

    def __init__(
        self,
        hci: HciDriver,
        rng: Rng,
        config: GapConfig,
        emit: Callable[[HostEvent], None],
    ) -> None:
        if config.address_type not in ("public", "random"):
            raise LocalError(f"address_type must be 'public' or 'random', not {config.address_type!r}")
        if config.hci_commands not in ("auto", "legacy", "extended"):
            raise LocalError(f"hci_commands must be auto, legacy or extended, not {config.hci_commands!r}")
        self.hci = hci
        self.config = config
        self._emit = emit
        self.static_address = config.static_address or random_static_address(rng)
        if self.static_address.kind.value != "random static":
            raise LocalError(f"{self.static_address} is not a random static address")
        self.info = ControllerInfo()
        self.powered = False
        self.connections: dict[int, Connection] = {}
        #: Hook deciding a peer's parameter request (default: accept valid parameters).
        self.parameter_policy: ParameterPolicy | None = None
        #: Installed by the host: sends an L2CAP Connection Parameter Update Request.
        self.l2cap_update_request: L2capUpdateRequest | None = None
        self._generation = 0
        self._chains: deque[CommandChain] = deque()
        self._running: CommandChain | None = None
        self._advertising: dict[int, bool] = {}  # handle -> enabled
        self._adv_extended_pdus: dict[int, bool] = {}
        self._scanning = False
        self._scan_deadline: int | None = None
        self._connect: _Connect | None = None
        self._fragments: dict[tuple[int, bytes, int, bool], bytearray] = {}
        #: A private address the application uses instead of the static address for
        #: Own_Address_Type 1 (:meth:`set_private_address`); ``None``: the static one.
        self.private_address: Address | None = None
        self._random_pending = False  # the controller refused it: set at the next start
        self._controller_random: Address | None = None  # what LE_Set_Random_Address last set
        self._adv_own: dict[int, tuple[int, Address | None, HciCommand]] = {}  # handle -> own type, address, enable
        self._scan_params = ScanParameters()

    # -- addresses -------------------------------------------------------------------
    @property
    def uses_random_address(self) -> bool:
        return self.config.address_type == "random" or self.info.public_address.value == bytes(6)

    @property
    def own_address_type(self) -> int:
        """Own_Address_Type for advertising, scanning and connecting (0 or 1)."""
        return 1 if self.uses_random_address else 0

    @property
    def address(self) -> Address:
        """The identity address this host advertises and connects with."""
        return self.static_address if self.uses_random_address else self.info.public_address

    @property
    def random_address(self) -> Address:
        """The random address of Own_Address_Type 1 activities (Vol 4 Part E 7.8.4)."""
        return self.private_address or self.static_address

    def set_private_address(self, address: Address | None, now: int) -> None:
        """Use ``address`` (``None``: the static address again) as the random address.

        Legacy advertising and scanning that use it are stopped around
        HCI_LE_Set_Random_Address (which the controller refuses while they run, 7.8.4)
        and started again; extended advertising sets get it with
        LE_Set_Advertising_Set_Random_Address while disabled. While initiating the
        command may be refused: the address is then set when the next procedure starts.
        """
        self.hci.tick(now)
        self._require_power()
        self.private_address = address
        adv_off = [h for h, on in self._advertising.items() if on and self._adv_own.get(h, (0,))[0] == 1]
        scan_off = self._scanning and self._scan_params.own_address_type == 1
        steps = [self._adv_step(h, "off") for h in adv_off]
        if scan_off:
            steps.append(self._scan_step(False))
        steps.append(self._random_step(always=True))
        steps += [self._adv_step(h, "move") for h in adv_off if self.extended]
        steps += [self._adv_step(h, "on") for h in adv_off]
        if scan_off:
            steps.append(self._scan_step(True))
        self._run(steps)

    def _scan_step(self, enable: bool) -> Step:
        return Step(lambda: self._scan_enable(enable, self._scan_params) if self._scanning else None, required=False)

    def _adv_step(self, handle: int, what: str) -> Step:
        """Disable (``off``), re-enable (``on``) or give the new random address (``move``)
        to advertising set ``handle``, if it still advertises."""
        def build() -> HciCommand | None:
            if not self._advertising.get(handle):
                return None
            if what == "move":
                return lx.HCI_LE_Set_Advertising_Set_Random_Address_Command(
                    advertising_handle=handle, random_address=self.random_address.value)
            return self._adv_enable(handle, what == "on")

        def moved(event: HciEvent) -> None:
            if what == "move":
                own, _, enable = self._adv_own[handle]
                self._adv_own[handle] = (own, self.random_address, enable)

        return Step(build, moved, required=False)

    def _random_step(self, always: bool = False) -> Step:
        """HCI_LE_Set_Random_Address of :attr:`random_address`, if it changed or ``always``."""
        address = self.random_address

        def build() -> HciCommand | None:
            if not (always or self._random_pending):
                return None
            self._random_pending = True
            return lc.HCI_LE_Set_Random_Address_Command(random_address=address.value)

        def done(event: HciEvent) -> None:
            self._random_pending = self.random_address != address
            self._controller_random = address

        return Step(build, done, required=False)

    def _adv_enable(self, handle: int, enable: bool) -> HciCommand:
        if not self.extended:
            return lc.HCI_LE_Set_Advertising_Enable_Command(advertising_enable=int(enable))
        if enable:
            return self._adv_own[handle][2]
        return lx.HCI_LE_Set_Extended_Advertising_Enable_Command(
            enable=0, sets=(lx.AdvertisingSetEnable(advertising_handle=handle),))

    def _own_on_air(self, own: int) -> Address | None:
        """The address of an activity with Own_Address_Type ``own`` (``None``: the
        controller makes it)."""
        if own == 0:
            return self.info.public_address
        return (self._controller_random or self.random_address) if own == 1 else None

    # -- chains ----------------------------------------------------------------------
    def _run(
        self,
        steps: list[Step],
        on_done: Callable[[], None] | None = None,
        on_fail: Callable[[ChainFailure], None] | None = None,
    ) -> None:
        generation = self._generation

        def done() -> None:
            if generation == self._generation:
                if on_done is not None:
                    on_done()
                self._chain_finished()

        def fail(failure: ChainFailure) -> None:
            if generation == self._generation:
                if on_fail is not None:
                    on_fail(failure)
                else:
                    self._emit(CommandFailed(failure.command.OPCODE, failure.command_name, failure.status))
                self._chain_finished()

        self._chains.append(CommandChain(self.hci, steps, done, fail))
        if self._running is None:
            self._chain_finished()

    def _chain_finished(self) -> None:
        self._running = None
        if self._chains:
            self._running = self._chains.popleft()
            self._running.start()

    def _step(self, cmd: HciCommand, on_result: Callable[[HciEvent], None] | None = None,
              required: bool = True) -> Step:
        return Step(lambda: cmd, on_result, required)

    # -- power-on ------------------------------------------------------------------------
    def power_on(self, now: int) -> None:
        """Run the power-on sequence; :class:`PoweredOn` (or :class:`PowerOnFailed`) follows."""
        self.hci.tick(now)
        self.powered = False
        self._controller_random = None
        self._random_pending = self.private_address is not None
        info = self.info = ControllerInfo()
        steps = power_on_steps(
            info,
            hci_commands=self.config.hci_commands,
            suggested_data_length=self.config.suggested_data_length,
            random_address=lambda: self.static_address if self.uses_random_address else None,
        )

        def done() -> None:
            self.hci.configure_acl(info.le_acl_data_packet_length or 27, info.total_num_le_acl_data_packets or 1)
            self.powered = True
            self._controller_random = self.static_address if self.uses_random_address else None
            self._emit(PoweredOn(
                public_address=info.public_address,
                random_address=self.static_address if self.uses_random_address else None,
                address=self.address,
                hci_version=info.hci_version,
                le_features=info.le_features,
                extended_advertising=self.extended,
                le_acl_data_packet_length=self.hci.le_acl_data_packet_length,
                total_num_le_acl_data_packets=self.hci.total_num_le_acl_data_packets,
            ))

        def fail(f: ChainFailure) -> None:
            self._emit(PowerOnFailed(f.command_name, f.status, f.message))

        self._run(steps, done, fail)

    @property
    def extended(self) -> bool:
        """Whether the extended advertising/scanning/connecting commands are in use."""
        return self.info.extended

    def _require_power(self) -> None:
        if not self.powered:
            raise LocalError("the host is not powered on (wait for PoweredOn)")

    # -- advertising -----------------------------------------------------------------
    def start_advertising(
        self,
        now: int,
        data: bytes | AdvertisingData = b"",
        scan_response: bytes | AdvertisingData = b"",
        params: AdvertisingParameters | None = None,
        handle: int = 0,
    ) -> None:
        """Advertise ``data`` (replacing what set ``handle`` advertised before)."""
        self.hci.tick(now)
        self._require_power()
        p = params or AdvertisingParameters()
        adv, rsp = bytes(data), bytes(scan_response)
        fits = len(adv) <= 31 and len(rsp) <= 31
        if not self.extended:
            if handle != 0:
                raise LocalError("advertising set handles other than 0 need extended advertising")
            if not fits or p.legacy is False:
                raise LocalError(
                    f"{max(len(adv), len(rsp))}-octet advertising data needs extended advertising,"
                    " which this controller does not support"
                )
            cmds = legacy_advertising_commands(p, adv, rsp, self._own(p.own_address_type), self._advertising.get(0, False))
            extended_pdus = False
            on_air: Address | None = None  # the controller's random address
        else:
            extended_pdus = p.legacy is False or (p.legacy is None and not fits)
            if p.legacy and not fits:
                raise LocalError("legacy advertising PDUs carry at most 31 octets of data")
            limit = self.info.max_advertising_data_length
            if extended_pdus and max(len(adv), len(rsp)) > limit:
                raise LocalError(f"advertising data of {max(len(adv), len(rsp))} octets exceeds the controller's {limit}")
            cmds = extended_advertising_commands(
                p, adv, rsp, handle, extended_pdus, self._own(p.own_address_type), self.random_address,
                self._advertising.get(handle, False))
            on_air = self.random_address if self._own(p.own_address_type) == 1 else None
        steps = [self._random_step(), *(self._step(c) for c in cmds)]

        def done() -> None:
            self._adv_own[handle] = (self._own(p.own_address_type), on_air, cmds[-1])
            self._advertising[handle] = True
            self._adv_extended_pdus[handle] = extended_pdus
            self._emit(AdvertisingStarted(handle, extended_pdus))

        def fail(f: ChainFailure) -> None:
            self._emit(AdvertisingStartFailed(handle, f.command_name, f.status))

        self._run(steps, done, fail)

    def stop_advertising(self, now: int, handle: int = 0) -> None:
        """Disable advertising set ``handle``; :class:`AdvertisingStopped` follows."""
        self.hci.tick(now)
        self._require_power()
        if self.extended:
            cmd: HciCommand = lx.HCI_LE_Set_Extended_Advertising_Enable_Command(
                enable=0, sets=(lx.AdvertisingSetEnable(advertising_handle=handle),))
        else:
            cmd = lc.HCI_LE_Set_Advertising_Enable_Command(advertising_enable=0)

        def done() -> None:
            if self._advertising.pop(handle, False):
                self._emit(AdvertisingStopped(handle, 0))

        self._run([Step(lambda: cmd if self._advertising.get(handle) else None)], done)

    def is_advertising(self, handle: int = 0) -> bool:
        return self._advertising.get(handle, False)

    def _own(self, requested: int | None) -> int:
        return self.own_address_type if requested is None else requested

    # -- scanning --------------------------------------------------------------------
    def start_scan(self, now: int, params: ScanParameters | None = None) -> None:
        """Scan; every report becomes an :class:`AdvertisingReport` event."""
        self.hci.tick(now)
        self._require_power()
        p = params or ScanParameters()
        interval, window = p.units()
        own = self._own(p.own_address_type)
        self._scan_params = dataclasses.replace(p, own_address_type=own)
        steps: list[Step] = [self._random_step()]
        if self._scanning:
            steps.append(self._step(self._scan_enable(False, p)))
        if self.extended:
            phys = [lx.ExtendedScanParameters(scan_type=int(p.active), scan_interval=interval, scan_window=window)]
            if p.coded:
                phys.append(phys[0])
            steps.append(self._step(lx.HCI_LE_Set_Extended_Scan_Parameters_Command(
                own_address_type=own, scanning_filter_policy=p.filter_policy,
                scanning_phys=0x05 if p.coded else 0x01, phys=tuple(phys))))
        else:
            if p.coded:
                raise LocalError("scanning on LE Coded needs the extended scanning commands")
            steps.append(self._step(lc.HCI_LE_Set_Scan_Parameters_Command(
                le_scan_type=int(p.active), le_scan_interval=interval, le_scan_window=window,
                own_address_type=own, scanning_filter_policy=p.filter_policy)))
        steps.append(self._step(self._scan_enable(True, p)))

        def done() -> None:
            self._scanning = True
            self._fragments.clear()
            if not self.extended and p.duration_ns:
                self._scan_deadline = self.hci.now + p.duration_ns
            self._emit(ScanStarted(p.active))

        self._run(steps, done)

    def _scan_enable(self, enable: bool, p: ScanParameters) -> HciCommand:
        if self.extended:
            return lx.HCI_LE_Set_Extended_Scan_Enable_Command(
                enable=int(enable), filter_duplicates=int(p.filter_duplicates) if enable else 0,
                duration=p.duration_units() if enable else 0, period=0)
        return lc.HCI_LE_Set_Scan_Enable_Command(
            le_scan_enable=int(enable), filter_duplicates=int(p.filter_duplicates) if enable else 0)

    def stop_scan(self, now: int) -> None:
        """Stop scanning; :class:`ScanStopped` follows."""
        self.hci.tick(now)
        self._require_power()
        self._scan_deadline = None
        cmd = self._scan_enable(False, ScanParameters())

        def done() -> None:
            if self._scanning:
                self._scanning = False
                self._emit(ScanStopped(timeout=False))

        self._run([Step(lambda: cmd if self._scanning else None)], done)

    @property
    def scanning(self) -> bool:
        return self._scanning

    # -- connecting ------------------------------------------------------------------
    def connect(
        self,
        peer: Address,
        now: int,
        params: ConnectionParameters | None = None,
        scan: ScanParameters | None = None,
        timeout_ns: int | None = None,
    ) -> None:
        """Connect to ``peer`` as central: :class:`Connected` or :class:`ConnectionFailed`.

        ``timeout_ns`` (counted from when the controller accepts the command) cancels the
        attempt with LE_Create_Connection_Cancel.
        """
        self.hci.tick(now)
        self._require_power()
        if self._connect is not None:
            raise LocalError(f"a connection attempt to {self._connect.peer} is already in progress")
        p = params or ConnectionParameters()
        p.validate()
        s = scan or ScanParameters()
        interval, window = s.units()
        own = self._own(s.own_address_type)
        attempt = self._connect = _Connect(peer=peer, timeout_ns=timeout_ns, own=own)
        imin, imax, lat, tmo, cmin, cmax = p.units()
        if self.extended:
            phy = lx.ExtendedCreateConnectionParameters(
                scan_interval=interval, scan_window=window, connection_interval_min=imin,
                connection_interval_max=imax, max_latency=lat, supervision_timeout=tmo,
                min_ce_length=cmin, max_ce_length=cmax)
            cmd: HciCommand = lx.HCI_LE_Extended_Create_Connection_Command(
                initiator_filter_policy=0, own_address_type=own, peer_address_type=peer.address_type,
                peer_address=peer.value, initiating_phys=0x05 if s.coded else 0x01,
                phys=(phy, phy) if s.coded else (phy,))
        else:
            cmd = lc.HCI_LE_Create_Connection_Command(
                le_scan_interval=interval, le_scan_window=window, initiator_filter_policy=0,
                peer_address_type=peer.address_type, peer_address=peer.value, own_address_type=own,
                connection_interval_min=imin, connection_interval_max=imax, max_latency=lat,
                supervision_timeout=tmo, min_ce_length=cmin, max_ce_length=cmax)

        def build() -> HciCommand | None:
            if attempt.state is not ConnectState.CONNECTING:
                self._connect_failed(attempt, int(ErrorCode.UNKNOWN_CONNECTION_IDENTIFIER), "cancelled")
                return None
            attempt.sent = True
            return cmd

        def accepted(event: HciEvent) -> None:
            if attempt.timeout_ns is not None:
                attempt.deadline = self.hci.now + attempt.timeout_ns

        def fail(f: ChainFailure) -> None:
            self._connect_failed(attempt, f.status, "refused")

        self._run([self._random_step(), Step(build, accepted)], None, fail)

    def cancel_connect(self, now: int) -> None:
        """Cancel the connection attempt in progress (:class:`ConnectionFailed` follows)."""
        self.hci.tick(now)
        attempt = self._connect
        if attempt is None:
            raise LocalError("no connection attempt in progress")
        self._cancel(attempt, "cancelled")

    def _cancel(self, attempt: _Connect, why: str) -> None:
        if attempt.state is not ConnectState.CONNECTING:
            return
        attempt.state = ConnectState.CANCELLING
        attempt.why = why
        attempt.deadline = None
        if attempt.sent:
            self.hci.send_command(lc.HCI_LE_Create_Connection_Cancel_Command(), self.hci.now)

    def _connect_failed(self, attempt: _Connect, status: int, reason: str) -> None:
        if self._connect is attempt:
            self._connect = None
            self._emit(ConnectionFailed(attempt.peer, status, reason))

    @property
    def connecting(self) -> bool:
        return self._connect is not None

    # -- disconnecting ---------------------------------------------------------------
    def disconnect(self, handle: int, now: int, reason: int = 0x13) -> None:
        """Disconnect (HCI_Disconnect); :class:`Disconnected` follows."""
        self.hci.tick(now)
        self._connection(handle)
        if reason not in DISCONNECT_REASONS:
            raise LocalError(f"0x{reason:02X} is not a reason HCI_Disconnect accepts")
        self._run([self._step(hc.HCI_Disconnect_Command(connection_handle=handle, reason=reason))])

    def _connection(self, handle: int) -> Connection:
        conn = self.connections.get(handle)
        if conn is None:
            raise LocalError(f"no connection with handle 0x{handle:03X}")
        return conn

    # -- timer -------------------------------------------------------------------------
    def get_timer(self) -> int | None:
        times = [t for t in (self._scan_deadline, self._connect.deadline if self._connect else None,
                             self._update_retry_deadline()) if t is not None]
        return min(times) if times else None

    def handle_timer(self, now: int) -> None:
        self.hci.tick(now)
        if self._scan_deadline is not None and self._scan_deadline <= now:
            self._scan_deadline = None
            cmd = self._scan_enable(False, ScanParameters())

            def done() -> None:
                if self._scanning:
                    self._scanning = False
                    self._emit(ScanStopped(timeout=True))

            self._run([Step(lambda: cmd if self._scanning else None)], done)
        attempt = self._connect
        if attempt is not None and attempt.deadline is not None and attempt.deadline <= now:
            self._cancel(attempt, "timeout")
        self._retry_updates(now)

    # -- events ------------------------------------------------------------------------
    def handle_event(self, event: HciEvent, now: int) -> bool:
        """Handle a GAP event; ``False`` if the event is not GAP's."""
        self.hci.tick(now)
        if isinstance(event, (le.HCI_LE_Connection_Complete_Event, le.HCI_LE_Enhanced_Connection_Complete_Event)):
            self._connection_complete(event)
        elif isinstance(event, HCI_Disconnection_Complete_Event):
            if event.status == 0 and self.connections.pop(event.connection_handle, None) is not None:
                self._emit(Disconnected(event.connection_handle, event.reason))
            elif event.status != 0:
                self._emit(CommandFailed(hc.HCI_Disconnect_Command.OPCODE, "HCI_Disconnect", event.status))
        elif isinstance(event, le.HCI_LE_Connection_Update_Complete_Event):
            self._update_complete(event)
        elif isinstance(event, le.HCI_LE_Remote_Connection_Parameter_Request_Event):
            self._remote_parameter_request(event)
        elif isinstance(event, le.HCI_LE_PHY_Update_Complete_Event):
            self._phy_update_complete(event)
        elif isinstance(event, le.HCI_LE_Data_Length_Change_Event):
            self._data_length_change(event)
        elif isinstance(event, le.HCI_LE_Read_Remote_Features_Complete_Event):
            conn = self.connections.get(event.connection_handle)
            if conn is not None and event.status == 0:
                conn.remote_features = event.le_features
            return False  # the host reports it
        elif isinstance(event, le.HCI_LE_Advertising_Report_Event):
            for r in event.reports:
                self._emit(report_from_legacy(r))
        elif isinstance(event, le.HCI_LE_Directed_Advertising_Report_Event):
            for d in event.reports:
                self._emit(report_from_directed(d))
        elif isinstance(event, le.HCI_LE_Extended_Advertising_Report_Event):
            for x in event.reports:
                self._extended_report(x)
        elif isinstance(event, le.HCI_LE_Scan_Timeout_Event):
            self._scanning = False
            self._emit(ScanStopped(timeout=True))
        elif isinstance(event, le.HCI_LE_Advertising_Set_Terminated_Event):
            if self._advertising.pop(event.advertising_handle, False):
                conn_handle = event.connection_handle if event.status == 0 else None
                self._emit(AdvertisingStopped(event.advertising_handle, event.status, conn_handle))
        elif isinstance(event, le.HCI_LE_Scan_Request_Received_Event):
            self._emit(ScanRequestReceived(
                event.advertising_handle, Address(bytes(event.scanner_address), bool(event.scanner_address_type & 1))))
        elif isinstance(event, HCI_Hardware_Error_Event):
            self._hardware_error(event, now)
        else:
            return False
        return True

    def _connection_complete(
        self, e: le.HCI_LE_Connection_Complete_Event | le.HCI_LE_Enhanced_Connection_Complete_Event
    ) -> None:
        role = "central" if e.role == 0 else "peripheral"
        peer = Address(bytes(e.peer_address), bool(e.peer_address_type & 1))
        attempt = self._connect
        if e.status != 0:
            if role == "central" and attempt is not None:
                reason = attempt.why if attempt.state is ConnectState.CANCELLING else "failed"
                self._connect_failed(attempt, e.status, reason)
            elif role == "peripheral" and not self.extended and self._advertising.pop(0, False):
                self._emit(AdvertisingStopped(0, e.status))  # high duty directed advertising ended
            return
        local = self._local_address(role, attempt)
        if role == "central" and attempt is not None:
            self._connect = None
        if role == "peripheral" and not self.extended and self._advertising.pop(0, False):
            self._emit(AdvertisingStopped(0, 0, e.connection_handle))
        conn = Connection(
            handle=e.connection_handle, role=role, peer_address=peer,
            interval_ns=e.connection_interval * UNIT_1250US, latency=e.peripheral_latency,
            supervision_timeout_ns=e.supervision_timeout * UNIT_10MS, local_address=local,
        )
        self.connections[conn.handle] = conn
        self._emit(Connected(conn.handle, role, peer, conn.interval_ns, conn.latency,
                             conn.supervision_timeout_ns, conn.local_address))

    def _local_address(self, role: str, attempt: _Connect | None) -> Address:
        """Our address on a new link: the one its advertising or initiating used."""
        on_air: Address | None = None
        if role == "central" and attempt is not None:
            on_air = self._own_on_air(attempt.own)
        elif role == "peripheral":
            sets = {self._adv_own[h][1] or self._own_on_air(self._adv_own[h][0])
                    for h, on in self._advertising.items() if on and h in self._adv_own}
            on_air = sets.pop() if len(sets) == 1 else None
        return on_air or self.address

    def _report_failure(self, cmd: HciCommand) -> Callable[[HciEvent], None]:
        def check(event: HciEvent) -> None:
            status = completion_status(event)
            if status:
                self._emit(CommandFailed(cmd.OPCODE, command_name(cmd), status))

        return check

    def _extended_report(self, r: le.ExtendedAdvertisingReport) -> None:
        status = (r.event_type >> 5) & 0b11
        key = (r.address_type, bytes(r.address), r.advertising_sid, bool(r.event_type & 0x08))
        if status == 0b01:
            self._fragments.setdefault(key, bytearray()).extend(r.data)
            return
        data = bytes(self._fragments.pop(key, bytearray())) + bytes(r.data)
        self._emit(report_from_extended(r, data, truncated=status == 0b10))

    def _hardware_error(self, e: HCI_Hardware_Error_Event, now: int) -> None:
        self._generation += 1
        self._chains.clear()
        self._running = None
        self._emit(HardwareError(e.hardware_code))
        for handle in list(self.connections):
            self._emit(Disconnected(handle, int(ErrorCode.HARDWARE_FAILURE)))
        self.connections.clear()
        for handle in [h for h, on in self._advertising.items() if on]:
            self._emit(AdvertisingStopped(handle, int(ErrorCode.HARDWARE_FAILURE)))
        self._advertising.clear()
        if self._scanning:
            self._emit(ScanStopped(timeout=False))
        self._scanning = False
        self._scan_deadline = None
        attempt = self._connect
        if attempt is not None:
            self._connect_failed(attempt, int(ErrorCode.HARDWARE_FAILURE), "failed")
        self.power_on(now)


__all__ = [
    "DISCONNECT_REASONS",
    "GapConfig",
    "ConnectState",
    "Connection",
    "Gap",
    "AdvertisingParameters",
    "ConnectionParameters",
    "ScanParameters",
    "ControllerInfo",
    "random_static_address",
]
