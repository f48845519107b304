"""The host: HCI driver, GAP, L2CAP, ATT/GATT and SMP composed over one controller.

Theory of operation
-------------------
:class:`Host` is the sans-IO state object a driver runs next to a controller (the
simulated one in :mod:`emu.host_driver`, or a real dongle). Its inputs are HCI packets
from the controller (:meth:`Host.hci_from_controller`), API calls (each with ``now``)
and its timer (:meth:`Host.handle_timer`); its outputs are HCI packets for the
controller (:meth:`Host.take_hci`), :mod:`host.events` for the application
(:meth:`Host.take_events`) and its next deadline (:meth:`Host.get_timer`).

Composition (each a sans-IO layer):

* :class:`~host.hci.HciDriver` — command flow control, timeouts, LE ACL buffers,
  fragmentation/reassembly; events go to GAP first, then to the host's own handlers;
* :class:`~host.gap.Gap` — power-on, advertising, scanning, connecting, parameter
  updates, disconnecting, addresses;
* :class:`~host.l2cap.L2cap` — fixed channels and LE credit-based channels for every
  connection; its Connection Parameter Update requests are decided by GAP;
* one :class:`~host.att.AttBearer` per connection on CID 0x0004 serving the device's
  :class:`~host.gatt_server.GattServer`, with a :class:`~host.gatt_client.GattClient`;
* one :class:`~host.smp.SmpSession` per connection on CID 0x0006, whose outputs
  become LE_Enable_Encryption (central), LTK request replies (peripheral) and events;
  its link security feeds the GATT server's permission checks.

When GAP reports :class:`~host.events.Connected`, the host creates the connection's
L2CAP link, ATT bearer and SMP session before the application sees the event; on
:class:`~host.events.Disconnected` it tears them down.

Security wiring (Vol 3 Part H, Vol 3 Part C 10): SMP's ``start_encryption`` becomes
HCI_LE_Enable_Encryption and LE Long Term Key Request is answered from
``SmpSession.on_ltk_request`` — SMP keys are MSB-first, the HCI carries them least
significant octet first, so both are reversed here; Encryption Change / Key Refresh
Complete reach ``SmpSession.on_encryption_change``. The link's security (encrypted,
authenticated, key size, and whether an LTK exists for the peer) is the GATT server's
``SecurityInfo``; signed writes are checked against the bonded peer's CSRK and sign
counter and signed with ours (:meth:`Host.signed_write`). Bonds live in a
:class:`~host.bonds.BondStore` (in memory unless the driver gives one that persists);
:meth:`Host.encrypt` re-encrypts a reconnection from the stored LTK without pairing.
SMP works with the addresses the link was made with: when the controller resolved
private addresses (LE Enhanced Connection Complete), the RPAs on the air, and the
identity address is distributed as such. With :attr:`HostConfig.privacy` a
:class:`~host.privacy.PrivacyManager` keeps the controller's resolving list in step
with the bonds and makes activities use resolvable private addresses.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Literal, TypeVar

from host.att import NO_SECURITY, AttBearer, SecurityInfo
from host.bonds import BondStore
from host.events import (
    AttTimedOut,
    CommandTimedOut,
    Connected,
    Disconnected,
    EncryptionChanged,
    HostEvent,
    Indication,
    KeypressNotification,
    MtuChanged,
    MtuExchanged,
    Notification,
    NumericComparisonRequest,
    PairingComplete,
    PasskeyDisplay,
    PasskeyRequest,
    RemoteFeatures,
    RemoteVersion,
    SecurityRequested,
    SubscriptionChanged,
)
from host.gatt_client import GattClient, GattOperation
from host.gatt_server import GattServer, keep_bonded_clients
from host.privacy import PrivacyConfig, PrivacyManager
from host.smp import SmpSession
from host.smp_events import DisplayPasskeyRequest, JustWorksRequest
from host.smp_signing import SignatureError, sign, verify_with_bonds
from host.smp_pdu import AuthReq, KeypressNotificationType
from host.smp_types import PairingAttemptGuard, PairingResult, SmpConfig, SmpDelegate
from host.gap import Gap, GapConfig
from host.gap_params import AdvertisingParameters, ConnectionParameters, ScanParameters
from host.events import (
    AdvertisingReport,
    AdvertisingStopped,
    CommandFailed,
    ConnectionFailed,
    PoweredOn,
    ScanStopped,
)
from host.hci import (
    DEFAULT_COMMAND_TIMEOUT_NS,
    HciCommandError,
    HciDriver,
    HciTimeout,
    LocalError,
    command_name,
    completion_status,
)
from host.advertising_data import AdvertisingData
from host.l2cap import ConnectionParameters as L2capConnectionParameters
from host.l2cap import L2cap, L2capConfig, L2capRequestFailed
from host.l2cap_pdu import ConnectionParameterUpdateResult
from linklayer.hci.address import Address, AddressKind
from linklayer.hci.codec import HciCommand
from linklayer.hci import events as he
from linklayer.hci import le_commands as lc
from linklayer.hci import le_events as le
from linklayer.hci.codec import HciEvent
from phy.types import Rng

_T = TypeVar("_T")

#: Fixed channel identifiers (Vol 3 Part A 2.1).
ATT_CID = 0x0004
SMP_CID = 0x0006


@dataclasses.dataclass(frozen=True)
class HostConfig:
    """Configuration of a :class:`Host`."""

    gap: GapConfig = dataclasses.field(default_factory=GapConfig)
    l2cap: L2capConfig | None = None
    command_timeout_ns: int = DEFAULT_COMMAND_TIMEOUT_NS
    #: Our ATT Rx MTU (23..527) offered in MTU exchanges.
    att_mtu: int = 247
    #: The GAP service (Device Name, Appearance) and the GATT service in the database.
    gap_service: bool = True
    gatt_service: bool = True
    device_name: str = "blesim"
    appearance: int = 0
    smp: SmpConfig = dataclasses.field(default_factory=SmpConfig)
    #: LE privacy (resolving list, resolvable private addresses); ``None``: off.
    privacy: PrivacyConfig | None = None


class Host:
    """A BLE host stack over one controller; see the module docstring."""

    def __init__(self, rng: Rng, config: HostConfig | None = None, *, bonds: BondStore | None = None) -> None:
        self.rng = rng
        #: The node's bonds (keys from pairings; persisted by the caller through its hook).
        #: An in-memory store when none is given.
        self.bonds: BondStore | None = bonds if bonds is not None else BondStore()
        self.config = config if config is not None else HostConfig()
        self.now = 0
        self._hci_out: list[tuple[int, bytes]] = []
        self._events: list[HostEvent] = []
        #: Extra observers of every event, called as it is emitted (e.g. personalities).
        self.listeners: list[Callable[[HostEvent], None]] = []
        self.hci = HciDriver(
            self._send_packet,
            on_event=self._on_hci_event,
            on_acl=self._on_acl,
            on_command_error=self._on_command_error,
            command_timeout_ns=self.config.command_timeout_ns,
        )
        self.gap = Gap(self.hci, rng, self.config.gap, self._emit)
        self.l2cap = L2cap(
            self._send_l2cap,
            self.config.l2cap,
            on_connection_parameter_update_request=self._on_l2cap_parameter_request,
        )
        self.gap.l2cap_update_request = self._l2cap_update_request
        self._init_upper_layers()
        self.privacy: PrivacyManager | None = None
        if self.config.privacy is not None:
            self.privacy = PrivacyManager(
                self.config.privacy, self.hci, lambda: self.bonds, self.local_irk, self._privacy_failed)
        #: Per connection handle: (local RPA, peer RPA) the controller reported, if any.
        self._link_rpas: dict[int, tuple[Address | None, Address | None]] = {}
        # Bonded clients keep their CCCDs across connections and database rebuilds, and
        # hear Service Changed when the database changed while they were away.
        keep_bonded_clients(self)

    # -- driver interface ------------------------------------------------------------
    def hci_from_controller(self, h4_type: int, packet: bytes, now: int) -> None:
        """An HCI packet from the controller (without its H4 type octet)."""
        self._tick(now)
        self.hci.receive_packet(h4_type, packet, now)
        for session in list(self._smp.values()):  # keys waiting for Number_Of_Completed_Packets
            session.on_packets_completed(now)

    def take_hci(self) -> list[tuple[int, bytes]]:
        """HCI packets for the controller, ``(h4_type, packet)``, in order."""
        out, self._hci_out = self._hci_out, []
        return out

    def take_events(self) -> list[HostEvent]:
        """Events for the application since the last call, in order."""
        out, self._events = self._events, []
        return out

    def get_timer(self) -> int | None:
        """The earliest deadline of any layer, or ``None``."""
        times = [t for t in self._timers() if t is not None]
        return min(times) if times else None

    def _timers(self) -> list[int | None]:
        return [self.hci.get_timer(), self.gap.get_timer(), self.l2cap.get_timer(), *self._upper_timers()]

    def handle_timer(self, now: int) -> None:
        """Expire whatever is due at ``now``."""
        self._tick(now)
        self.hci.handle_timer(now)
        self.gap.handle_timer(now)
        self.l2cap.handle_timer(now)
        self._upper_handle_timer(now)

    def _tick(self, now: int) -> None:
        if now > self.now:
            self.now = now

    # -- application API (thin; see Gap for the details) ---------------------------------
    def power_on(self, now: int) -> None:
        """Start the power-on sequence; :class:`~host.events.PoweredOn` follows."""
        self._tick(now)
        self.gap.power_on(now)

    @property
    def powered(self) -> bool:
        return self.gap.powered

    @property
    def address(self) -> Address:
        return self.gap.address

    def start_advertising(
        self,
        now: int,
        data: bytes | AdvertisingData = b"",
        scan_response: bytes | AdvertisingData = b"",
        params: AdvertisingParameters | None = None,
        handle: int = 0,
    ) -> None:
        self._tick(now)
        if self.privacy is not None:
            p = params or AdvertisingParameters()
            own = self.privacy.own_address_type(self.gap.own_address_type, p.own_address_type)
            params = dataclasses.replace(p, own_address_type=own)
        self.gap.start_advertising(now, data, scan_response, params, handle)

    def stop_advertising(self, now: int, handle: int = 0) -> None:
        self._tick(now)
        self.gap.stop_advertising(now, handle)

    def start_scan(self, now: int, params: ScanParameters | None = None) -> None:
        self._tick(now)
        self.gap.start_scan(now, self._private_scan(params))

    def stop_scan(self, now: int) -> None:
        self._tick(now)
        self.gap.stop_scan(now)

    def connect(
        self,
        peer: Address,
        now: int,
        params: ConnectionParameters | None = None,
        scan: ScanParameters | None = None,
        timeout_ns: int | None = None,
    ) -> None:
        self._tick(now)
        if self.privacy is not None:
            peer = self.privacy.connect_target(peer)
        self.gap.connect(peer, now, params, self._private_scan(scan), timeout_ns)

    def _private_scan(self, scan: ScanParameters | None) -> ScanParameters | None:
        if self.privacy is None:
            return scan
        s = scan or ScanParameters()
        own = self.privacy.own_address_type(self.gap.own_address_type, s.own_address_type)
        return dataclasses.replace(s, own_address_type=own)

    def set_random_address(self, address: Address, now: int) -> None:
        """HCI_LE_Set_Random_Address (Vol 4 Part E 7.8.4), e.g. a private address the
        application made (:mod:`host.privacy`)."""
        self._tick(now)
        if not address.random:
            raise LocalError(f"{address} is not a random address")
        cmd = lc.HCI_LE_Set_Random_Address_Command(random_address=address.value)
        self.hci.send_command(cmd, now, self._report_failure(cmd))

    def local_irk(self) -> bytes:
        """This device's Identity Resolving Key (MSB-first): the configured one, else
        the bond store's (drawn once from the host's random stream)."""
        if self.config.smp.irk is not None:
            return self.config.smp.irk
        if self.bonds is None:
            self.bonds = BondStore()
        return self.bonds.ensure_local_irk(self.rng)

    def resolve_address(self, address: Address) -> Address | None:
        """The bonded identity behind ``address`` (a resolvable private address
        resolved with a bonded IRK, or the identity itself), else ``None``."""
        bond = self.bonds.find(address) if self.bonds is not None else None
        return None if bond is None else bond.peer_address

    def cancel_connect(self, now: int) -> None:
        self._tick(now)
        self.gap.cancel_connect(now)

    def disconnect(self, handle: int, now: int, reason: int = 0x13) -> None:
        self._tick(now)
        self.gap.disconnect(handle, now, reason)

    def update_connection(self, handle: int, params: ConnectionParameters, now: int) -> None:
        self._tick(now)
        self.gap.update_connection(handle, params, now)

    # -- outputs -----------------------------------------------------------------------
    def _send_packet(self, h4_type: int, packet: bytes) -> None:
        self._hci_out.append((h4_type, packet))

    def _send_l2cap(self, handle: int, frame: bytes) -> None:
        # ``frame`` may be a MarkedPdu whose "sent" callback the HCI driver calls when the
        # controller completed its last fragment: pass the object itself on, never a copy.
        self.hci.send_acl(handle, frame, self.now)

    def _emit(self, event: HostEvent) -> None:
        if isinstance(event, Connected):
            self._open_connection(event)
        elif isinstance(event, Disconnected):
            self._close_connection(event.handle)
        if self.privacy is not None:
            self._privacy_event(event)
        self._events.append(event)
        for listener in list(self.listeners):
            listener(event)

    # -- HCI ---------------------------------------------------------------------------
    def _on_hci_event(self, event: HciEvent, now: int) -> None:
        self._tick(now)
        if isinstance(event, le.HCI_LE_Enhanced_Connection_Complete_Event) and event.status == 0:
            self._link_rpas[event.connection_handle] = (
                _rpa(event.local_resolvable_private_address), _rpa(event.peer_resolvable_private_address))
        if self.gap.handle_event(event, now):
            return
        if isinstance(event, le.HCI_LE_Read_Remote_Features_Complete_Event):
            self._emit(RemoteFeatures(event.connection_handle, event.status, event.le_features))
        elif isinstance(event, he.HCI_Read_Remote_Version_Information_Complete_Event):
            self._emit(RemoteVersion(event.connection_handle, event.status, event.version,
                                     event.company_identifier, event.subversion))
        elif isinstance(event, (he.HCI_Encryption_Change_Event, he.HCI_Encryption_Change_V2_Event)):
            key_size = event.encryption_key_size if isinstance(event, he.HCI_Encryption_Change_V2_Event) else None
            self._encryption_changed(event.connection_handle, event.status, bool(event.encryption_enabled),
                                     key_size, now)
        elif isinstance(event, he.HCI_Encryption_Key_Refresh_Complete_Event):
            self._encryption_changed(event.connection_handle, event.status, True, None, now)
        elif isinstance(event, le.HCI_LE_Long_Term_Key_Request_Event):
            self._ltk_request(event, now)

    def _on_acl(self, handle: int, pdu: bytes, now: int) -> None:
        self._tick(now)
        self.l2cap.receive_acl(handle, pdu, now)

    def _on_command_error(self, error: HciCommandError, now: int) -> None:
        if isinstance(error, HciTimeout):
            self._emit(CommandTimedOut(error.opcode, command_name(error.command), self.hci.command_timeout_ns))

    # -- L2CAP <-> GAP -------------------------------------------------------------------
    def _on_l2cap_parameter_request(self, handle: int, p: L2capConnectionParameters, now: int) -> bool:
        params = ConnectionParameters.from_units(p.interval_min, p.interval_max, p.latency, p.timeout)
        return self.gap.on_l2cap_parameter_request(handle, params, now)

    def _l2cap_update_request(
        self, handle: int, params: ConnectionParameters, now: int, on_result: Callable[[bool], None]
    ) -> None:
        imin, imax, latency, timeout, _, _ = params.units()

        def result(r: ConnectionParameterUpdateResult | L2capRequestFailed) -> None:
            on_result(r == ConnectionParameterUpdateResult.CONNECTION_PARAMETERS_ACCEPTED)

        self.l2cap.request_connection_parameter_update(
            handle, L2capConnectionParameters(imin, imax, latency, timeout), now, result
        )

    # -- connections -------------------------------------------------------------------
    def _open_connection(self, event: Connected) -> None:
        if self.l2cap.has_connection(event.handle):  # a handle reused without Disconnection
            self._close_connection(event.handle)
        self.l2cap.add_connection(event.handle, "central" if event.role == "central" else "peripheral", self.now)
        self._open_upper_layers(event)

    def _close_connection(self, handle: int) -> None:
        self._close_upper_layers(handle)
        self._link_rpas.pop(handle, None)
        self.l2cap.remove_connection(handle, self.now)

    # -- privacy -------------------------------------------------------------------------
    def _privacy_event(self, event: HostEvent) -> None:
        privacy = self.privacy
        assert privacy is not None
        if isinstance(event, PoweredOn):
            privacy.on_powered(self.gap.info.supported_commands, self.now)
        elif isinstance(event, AdvertisingReport):
            if event.address is not None:
                privacy.on_advertiser(event.address)
        elif isinstance(event, (AdvertisingStopped, ScanStopped, Connected, ConnectionFailed, Disconnected)):
            privacy.poke(self.now)

    def _privacy_failed(self, cmd: HciCommand, status: int) -> None:
        self._emit(CommandFailed(cmd.OPCODE, command_name(cmd), status))

    def _report_failure(self, cmd: HciCommand) -> Callable[[HciEvent], None]:
        def check(event: HciEvent) -> None:
            status = completion_status(event)
            if status:
                self._emit(CommandFailed(cmd.OPCODE, command_name(cmd), status))

        return check

    # -- upper layers: ATT / GATT / SMP -------------------------------------------------
    def _init_upper_layers(self) -> None:
        """Create the device-wide GATT server and register the ATT and SMP channels."""
        cfg = self.config
        self.gatt_server = GattServer(
            security=self._security_info, signature_checker=self._check_signature,
            on_subscription_changed=self._subscribed,
        )
        if cfg.gap_service:
            self.gatt_server.add_gap_service(cfg.device_name, cfg.appearance)
        if cfg.gatt_service:
            self.gatt_server.add_gatt_service()
        self._bearers: dict[int, AttBearer] = {}
        self._clients: dict[int, GattClient] = {}
        self._smp: dict[int, SmpSession] = {}
        self.smp_guard = PairingAttemptGuard()
        self.l2cap.register_fixed_channel(ATT_CID, self._on_att)
        self.l2cap.register_fixed_channel(SMP_CID, self._on_smp)

    def _open_upper_layers(self, event: Connected) -> None:
        handle = event.handle
        l2cap = self.l2cap

        def send_att(pdu: bytes) -> None:
            l2cap.send_fixed(handle, ATT_CID, pdu)

        def send_smp(pdu: bytes) -> None:
            l2cap.send_fixed(handle, SMP_CID, pdu)

        bearer = AttBearer(
            handle, send_att, self.gatt_server, local_mtu=self.config.att_mtu,
            on_mtu_changed=lambda mtu, now: self._emit(MtuChanged(handle, mtu)),
            on_mtu_exchanged=lambda mtu, now: self._emit(MtuExchanged(handle, mtu)),
            on_timeout=lambda now: self._att_timed_out(handle, now),
        )
        self._bearers[handle] = bearer
        self._clients[handle] = GattClient(
            bearer,
            on_notification=lambda attr, value, now: self._emit(Notification(handle, attr, value)),
            on_indication=lambda attr, value, now: self._emit(Indication(handle, attr, value)),
        )
        role: Literal["central", "peripheral"] = "central" if event.role == "central" else "peripheral"
        # SMP uses the addresses of the connection on the air (c1, f5, f6): the RPAs the
        # controller reported when it resolved them, and distributes the identity.
        local_rpa, peer_rpa = self._link_rpas.get(handle, (None, None))
        local = local_rpa or event.local_address or self.gap.address
        config = self.config.smp
        if local.kind is AddressKind.RESOLVABLE_PRIVATE and config.identity_address is None:
            # Our identity, not the private address the link was made with.
            config = dataclasses.replace(config, identity_address=self.gap.address)
        self._smp[handle] = SmpSession(
            handle, role, send_smp, config, self.rng,
            local_address=local, peer_address=peer_rpa or event.peer_address,
            delegate=_SmpEvents(self), bonds=self.bonds, guard=self.smp_guard,
        )

    def _close_upper_layers(self, handle: int) -> None:
        bearer = self._bearers.pop(handle, None)
        if bearer is not None:
            bearer.close(self.now)
        self._clients.pop(handle, None)
        self._smp.pop(handle, None)

    def _upper_timers(self) -> list[int | None]:
        return [b.get_timer() for b in self._bearers.values()] + [s.get_timer() for s in self._smp.values()]

    def _upper_handle_timer(self, now: int) -> None:
        for bearer in list(self._bearers.values()):
            bearer.handle_timer(now)
        for session in list(self._smp.values()):
            session.handle_timer(now)

    def _on_att(self, handle: int, payload: bytes, now: int) -> None:
        bearer = self._bearers.get(handle)
        if bearer is not None:
            bearer.receive(payload, now)

    def _on_smp(self, handle: int, payload: bytes, now: int) -> None:
        session = self._smp.get(handle)
        if session is not None:
            session.receive(payload, now)

    def _att_timed_out(self, handle: int, now: int) -> None:
        self._emit(AttTimedOut(handle))
        if handle in self.gap.connections:
            self.gap.disconnect(handle, now)

    def _subscribed(self, handle: int, value_handle: int, cccd_value: int, now: int) -> None:
        self._emit(SubscriptionChanged(handle, value_handle, cccd_value))

    def _check_signature(self, handle: int, signed_data: bytes, signature: bytes) -> bool:
        """A Signed Write Command's signature against the bonded peer's CSRK and
        SignCounter (Vol 3 Part C 10.4.2); the counter is recorded when it passes."""
        session = self._smp.get(handle)
        if session is None or self.bonds is None:
            return False
        try:
            verify_with_bonds(self.bonds, session.peer_address, bytes(signed_data) + bytes(signature))
        except SignatureError:
            return False
        return True

    def signed_write(self, handle: int, value_handle: int, value: bytes, now: int) -> GattOperation[None]:
        """Signed Write Without Response (Vol 3 Part G 4.9.2) signed with our CSRK for the
        bonded peer of ``handle`` and its next SignCounter (Vol 3 Part H 2.4.5)."""
        self._tick(now)
        client = self.gatt_client(handle)
        session = self.smp(handle)
        bond = self.bonds.find(session.peer_address) if self.bonds is not None else None
        if bond is None or bond.local_csrk is None or self.bonds is None:
            raise LocalError(f"no CSRK distributed to {session.peer_address}: pair with SIGN_KEY first")
        bonds, identity, csrk = self.bonds, bond.peer_address, bond.local_csrk

        def signer(data: bytes) -> bytes:
            return sign(csrk, bonds.next_local_sign_counter(identity), data)

        return client.signed_write_without_response(value_handle, value, signer, now)

    def _security_info(self, handle: int) -> SecurityInfo:
        session = self._smp.get(handle)
        if session is None:
            return NO_SECURITY
        sec = session.security
        bonded = sec.bonded or (self.bonds is not None and self.bonds.find(session.peer_address) is not None)
        return SecurityInfo(sec.encrypted, sec.authenticated, sec.key_size, False, bonded)

    def _encryption_changed(self, handle: int, status: int, enabled: bool, key_size: int | None, now: int) -> None:
        session = self._smp.get(handle)
        if session is not None:
            session.on_encryption_change(status, enabled, now)
            if key_size is None and status == 0 and enabled and session.security.key_size:
                key_size = session.security.key_size
        self._emit(EncryptionChanged(handle, status, enabled, key_size))

    def _ltk_request(self, event: le.HCI_LE_Long_Term_Key_Request_Event, now: int) -> None:
        """Peripheral: answer LE Long Term Key Request from SMP (Vol 4 Part E 7.8.25/26)."""
        handle = event.connection_handle
        session = self._smp.get(handle)
        rand = int.from_bytes(event.random_number, "little")
        ltk = session.on_ltk_request(event.encrypted_diversifier, rand, now) if session else None
        if ltk is None:
            self.hci.send_command(lc.HCI_LE_Long_Term_Key_Request_Negative_Reply_Command(connection_handle=handle), now)
        else:  # SMP keys are MSB-first; the HCI carries them least significant octet first
            self.hci.send_command(
                lc.HCI_LE_Long_Term_Key_Request_Reply_Command(connection_handle=handle, long_term_key=ltk[::-1]), now
            )

    def start_encryption(self, handle: int, ltk: bytes, ediv: int, rand: int, key_size: int) -> None:
        """Central: LE_Enable_Encryption with an MSB-first ``ltk`` (Vol 4 Part E 7.8.24)."""
        self.hci.send_command(lc.HCI_LE_Enable_Encryption_Command(
            connection_handle=handle, random_number=rand.to_bytes(8, "little"),
            encrypted_diversifier=ediv, long_term_key=ltk[::-1]), self.now)

    # -- per-connection access -------------------------------------------------------------
    def gatt_client(self, handle: int) -> GattClient:
        """The GATT client of connection ``handle``."""
        return self._per_connection(self._clients, handle)

    def att_bearer(self, handle: int) -> AttBearer:
        return self._per_connection(self._bearers, handle)

    def smp(self, handle: int) -> SmpSession:
        """The Security Manager session of connection ``handle``."""
        return self._per_connection(self._smp, handle)

    def pair(self, handle: int, now: int, bonding: bool | None = None) -> None:
        """Start pairing (central) or send a Security Request (peripheral).
        ``bonding`` overrides ``SmpConfig.bonding`` for this pairing (False: No Bonding,
        no keys distributed or stored; None: the configuration's)."""
        self._tick(now)
        session = self.smp(handle)
        if session.is_central:
            session.pair(now, bonding)
        else:
            session.request_security(now, bonding)

    def encrypt(self, handle: int, now: int) -> bool:
        """Central: encrypt the link with the LTK bonded with its peer (no pairing,
        Vol 3 Part C 10.3.3); False if there is no such bond. EncryptionChanged follows."""
        self._tick(now)
        return self.smp(handle).encrypt(now)

    def _per_connection(self, table: dict[int, _T], handle: int) -> _T:
        try:
            return table[handle]
        except KeyError:
            raise LocalError(f"no connection with handle 0x{handle:03X}") from None


class _SmpEvents(SmpDelegate):
    """SMP's outputs to the host: HCI commands and application events."""

    def __init__(self, host: Host) -> None:
        self.host = host

    def start_encryption(self, handle: int, ltk: bytes, ediv: int, rand: int, key_size: int) -> None:
        self.host.start_encryption(handle, ltk, ediv, rand, key_size)

    def pdus_in_transit(self, handle: int) -> bool:
        hci = self.host.hci
        link = hci.connections.get(handle)
        return link is not None and (link.in_flight > 0 or hci.acl_backlog(handle) > 0)

    def on_pairing_complete(self, handle: int, result: PairingResult) -> None:
        host = self.host
        if result.success and result.bond is not None and host.privacy is not None:
            bond = host.bonds.get(result.bond.peer_address) if host.bonds is not None else None
            if bond is not None:
                host.privacy.on_bond(bond, host.now)
        host._emit(PairingComplete(handle, result.success, result))

    def on_passkey_display(self, handle: int, passkey: int) -> None:
        self.host._emit(PasskeyDisplay(handle, passkey))

    def on_passkey_request(self, handle: int) -> None:
        self.host._emit(PasskeyRequest(handle))

    def on_numeric_comparison(self, handle: int, value: int) -> None:
        self.host._emit(NumericComparisonRequest(handle, value))

    def on_keypress(self, handle: int, notification: KeypressNotificationType) -> None:
        self.host._emit(KeypressNotification(handle, int(notification)))

    def on_security_request(self, handle: int, auth_req: AuthReq) -> None:
        self.host._emit(SecurityRequested(handle, int(auth_req)))

    def on_just_works_request(self, handle: int) -> None:
        self.host._emit(JustWorksRequest(handle))

    def on_display_passkey_request(self, handle: int) -> None:
        self.host._emit(DisplayPasskeyRequest(handle))


def _rpa(value: bytes) -> Address | None:
    """A resolvable private address field of an HCI event (all zero: none)."""
    return Address(bytes(value), True) if any(value) else None


__all__ = ["ATT_CID", "SMP_CID", "HostConfig", "Host"]
