"""Link-layer privacy of the controller: the resolving list (Vol 6 Part B 6; Vol 4 Part E
7.8.38-7.8.45, 7.8.77).

Theory of operation
-------------------
A mixin of :class:`linklayer.controller.Controller` over the advertising, scanning and
connection mixins. The host fills the **resolving list** with one entry per peer: the
peer's identity address, its IRK (all zero when the peer has none) and the local IRK
this device uses towards it. With address resolution enabled
(LE_Set_Address_Resolution_Enable):

* *Resolving* (Vol 6 Part B 1.3.2.3, 6.4): an address on the air that is a resolvable
  private address (RPA) is checked against every entry's peer IRK with ``ah``; a match
  is the peer's identity. Filter policies compare identities (the filter accept list
  holds identity addresses), an initiator whose Peer_Address is an identity connects to
  that peer's RPAs, advertising reports and LE Enhanced Connection Complete carry the
  identity with Address_Type 0x02 / 0x03 (public / random identity) and the RPA beside
  it. A TargetA that resolves with one of our local IRKs is addressed to us.
* *Privacy modes* (Vol 4 Part E 7.8.77): in network privacy mode (the default) a peer whose
  entry has a non-zero IRK is ignored when it uses its identity address; device privacy
  mode accepts both.
* *Generating* (1.3.2.2): an activity started with Own_Address_Type 0x02 / 0x03 uses an
  RPA made from the local IRK of the entry matching its peer (advertising: Peer_Address;
  initiating: the advertiser answered, once resolved; otherwise the entry whose identity
  is all zero, the host's "any peer" entry), else the public (0x02) or random (0x03)
  address. Every local RPA
  is replaced when the RPA timeout (LE_Set_Resolvable_Private_Address_Timeout, default
  900 s) expires: running advertisers, the scanner and the initiator take the new one.
  :meth:`PrivacyCommands.privacy_deadline` is that instant for the controller's timer.

Resolving-list changes are refused (Command Disallowed) while address resolution is
enabled and advertising, scanning or initiating runs; enabling or disabling resolution
is refused while any of them runs (7.8.38-7.8.40, 7.8.44). A controller configured with
``resolving_list_size`` 0 has none of these commands (the host then resolves itself).
IRKs cross the HCI least significant octet first; entries keep them MSB-first, as ``ah``
takes them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Final

from .address import Address, AddressKind
from .advertiser import AdvertisingSet
from .connection import Connection
from .crypto import aes128
from .initiator import ConnRequest, Initiator
from .ctrl_connections import ConnectionCommands
from .ctrl_scanning import MAX_EXT_REPORT_DATA, ScanningCommands
from .hci import le_events as le
from .hci import le_ext_commands as lx
from .hci.codec import HciEvent, ReturnParameters
from .hci.errors import ErrorCode
from .pdu import CONNECT_IND
from .scanner import DATA_INCOMPLETE_MORE, ScanReport
from phy.types import Phy, Rng

__all__ = ["DEFAULT_RPA_TIMEOUT_NS", "PrivacyCommands", "ResolvingListEntry", "ah", "make_rpa", "rpa_matches"]

INVALID = int(ErrorCode.INVALID_HCI_COMMAND_PARAMETERS)
DISALLOWED = int(ErrorCode.COMMAND_DISALLOWED)
UNKNOWN = int(ErrorCode.UNKNOWN_CONNECTION_IDENTIFIER)
MEMORY = int(ErrorCode.MEMORY_CAPACITY_EXCEEDED)
#: RPA_Timeout after reset: 0x0384 s = 15 minutes (Vol 4 Part E 7.8.45).
DEFAULT_RPA_TIMEOUT_NS: Final = 900 * 1_000_000_000
_RPA_TIMEOUT_MAX_S: Final = 0xA1B8
_ZERO_IRK: Final = bytes(16)
_ANY: Final = Address(bytes(6))
_ENHANCED_CONNECTION_COMPLETE: Final = 0x0A
_DIRECTED_REPORT: Final = 0x0B
_HCI_PHY: Final = {Phy.LE_1M: 1, Phy.LE_2M: 2, Phy.LE_CODED_S8: 3, Phy.LE_CODED_S2: 3}


def ah(irk: bytes, prand: bytes) -> bytes:
    """The random address hash function ah(k, r) = e(k, padding || r) mod 2^24
    (Vol 3 Part H 2.2.2): ``irk`` 16 octets and ``prand`` 3 octets, MSB-first."""
    return aes128(irk, bytes(13) + bytes(prand))[13:]


def rpa_matches(irk: bytes, address: Address) -> bool:
    """Whether ``address`` is an RPA generated from ``irk`` (Vol 6 Part B 1.3.2.3)."""
    if address.kind is not AddressKind.RESOLVABLE_PRIVATE or not any(irk):
        return False
    return ah(irk, address.value[5:2:-1]) == address.value[2::-1]


def make_rpa(irk: bytes, random_bits: int) -> Address:
    """The RPA for ``irk`` whose prand carries the 22 bits ``random_bits`` (0b01 on top;
    Vol 6 Part B 1.3.2.2). The caller draws bits that are neither all 0 nor all 1."""
    prand = ((0b01 << 22) | (random_bits & ((1 << 22) - 1))).to_bytes(3, "big")
    return Address((prand + ah(irk, prand))[::-1], True)


@dataclass
class ResolvingListEntry:
    """One resolving list entry (Vol 4 Part E 7.8.38); IRKs MSB-first."""

    identity: Address
    peer_irk: bytes
    local_irk: bytes
    privacy_mode: int = 0  # 0 network, 1 device (7.8.77)
    local_rpa: Address | None = None
    peer_rpa: Address | None = None


class PrivacyCommands(ConnectionCommands, ScanningCommands):
    """Mixin: the resolving list, address resolution and RPA generation."""

    resolving_list: list[ResolvingListEntry]
    address_resolution_enabled: bool
    rpa_timeout_ns: int

    def _init_privacy(self, now: int = 0) -> None:
        self.resolving_list = []
        self.address_resolution_enabled = False
        self.rpa_timeout_ns = DEFAULT_RPA_TIMEOUT_NS
        self._rpa_deadline: int | None = None
        self._rpa_users: dict[str, Address | None] = {}  # activity -> peer identity
        self._resolved: dict[Address, Address | None] = {}
        self._creating: tuple[Address, Address] | None = None
        self._init_own_type = 0

    def _register_privacy(self, h: dict[int, Callable[[Any, int], Any]]) -> None:
        if self.config.resolving_list_size <= 0:
            return  # no resolving list: the host resolves addresses itself
        h[lx.HCI_LE_Add_Device_To_Resolving_List_Command.OPCODE] = self._rl_add
        h[lx.HCI_LE_Remove_Device_From_Resolving_List_Command.OPCODE] = self._rl_remove
        h[lx.HCI_LE_Clear_Resolving_List_Command.OPCODE] = self._rl_clear
        h[lx.HCI_LE_Read_Resolving_List_Size_Command.OPCODE] = self._rl_size
        h[lx.HCI_LE_Read_Peer_Resolvable_Address_Command.OPCODE] = self._rl_read_peer
        h[lx.HCI_LE_Read_Local_Resolvable_Address_Command.OPCODE] = self._rl_read_local
        h[lx.HCI_LE_Set_Address_Resolution_Enable_Command.OPCODE] = self._rl_enable
        h[lx.HCI_LE_Set_Resolvable_Private_Address_Timeout_Command.OPCODE] = self._rl_timeout
        h[lx.HCI_LE_Set_Privacy_Mode_Command.OPCODE] = self._rl_privacy_mode

    # -- HCI commands -----------------------------------------------------------------------
    def _activity_running(self) -> bool:
        return bool(self.advertisers) or self.scanner is not None or self.initiator is not None

    def _list_locked(self) -> bool:
        return self.address_resolution_enabled and self._activity_running()

    def _entry(self, address_type: int, address: bytes) -> ResolvingListEntry | None:
        identity = Address(bytes(address), bool(address_type & 1))
        return next((e for e in self.resolving_list if e.identity == identity), None)

    def _changed(self) -> None:
        self._resolved.clear()

    def _rl_add(self, cmd: lx.HCI_LE_Add_Device_To_Resolving_List_Command, now: int) -> int:
        if cmd.peer_identity_address_type > 1:
            return INVALID
        if self._list_locked():
            return DISALLOWED
        if self._entry(cmd.peer_identity_address_type, cmd.peer_identity_address) is not None:
            return INVALID  # the identity is already on the list (7.8.38)
        if len(self.resolving_list) >= self.config.resolving_list_size:
            return MEMORY
        identity = Address(bytes(cmd.peer_identity_address), bool(cmd.peer_identity_address_type))
        entry = ResolvingListEntry(identity, bytes(cmd.peer_irk)[::-1], bytes(cmd.local_irk)[::-1])
        self.resolving_list.append(entry)
        if self.address_resolution_enabled and any(entry.local_irk):
            entry.local_rpa = self._new_rpa(entry.local_irk)
            self._arm_rpa_timer(now)
        self._changed()
        return 0

    def _rl_remove(self, cmd: lx.HCI_LE_Remove_Device_From_Resolving_List_Command, now: int) -> int:
        if cmd.peer_identity_address_type > 1:
            return INVALID
        if self._list_locked():
            return DISALLOWED
        entry = self._entry(cmd.peer_identity_address_type, cmd.peer_identity_address)
        if entry is None:
            return UNKNOWN
        self.resolving_list.remove(entry)
        self._changed()
        return 0

    def _rl_clear(self, cmd: Any, now: int) -> int:
        if self._list_locked():
            return DISALLOWED
        self.resolving_list.clear()
        self._changed()
        return 0

    def _rl_size(self, cmd: Any, now: int) -> ReturnParameters:
        return lx.HCI_LE_Read_Resolving_List_Size_ReturnParameters(
            status=0, resolving_list_size=self.config.resolving_list_size)

    def _rl_read_peer(self, cmd: lx.HCI_LE_Read_Peer_Resolvable_Address_Command, now: int) -> ReturnParameters | int:
        entry = self._entry(cmd.peer_identity_address_type, cmd.peer_identity_address)
        if entry is None or entry.peer_rpa is None:
            return UNKNOWN
        return lx.HCI_LE_Read_Peer_Resolvable_Address_ReturnParameters(
            status=0, peer_resolvable_address=entry.peer_rpa.value)

    def _rl_read_local(self, cmd: lx.HCI_LE_Read_Local_Resolvable_Address_Command, now: int) -> ReturnParameters | int:
        entry = self._entry(cmd.peer_identity_address_type, cmd.peer_identity_address)
        if entry is None or entry.local_rpa is None:
            return UNKNOWN
        return lx.HCI_LE_Read_Local_Resolvable_Address_ReturnParameters(
            status=0, local_resolvable_address=entry.local_rpa.value)

    def _rl_enable(self, cmd: lx.HCI_LE_Set_Address_Resolution_Enable_Command, now: int) -> int:
        if cmd.address_resolution_enable > 1:
            return INVALID
        if self._activity_running():
            return DISALLOWED
        enable = bool(cmd.address_resolution_enable)
        if enable and not self.address_resolution_enabled:
            self.address_resolution_enabled = True
            self._rotate(now)
        elif not enable:
            self.address_resolution_enabled = False
            self._rpa_deadline = None
        self._changed()
        return 0

    def _rl_timeout(self, cmd: lx.HCI_LE_Set_Resolvable_Private_Address_Timeout_Command, now: int) -> int:
        if not 1 <= cmd.rpa_timeout <= _RPA_TIMEOUT_MAX_S:
            return INVALID
        self.rpa_timeout_ns = cmd.rpa_timeout * 1_000_000_000
        if self._rpa_deadline is not None:
            self._rpa_deadline = now + self.rpa_timeout_ns
        return 0

    def _rl_privacy_mode(self, cmd: lx.HCI_LE_Set_Privacy_Mode_Command, now: int) -> int:
        if cmd.peer_identity_address_type > 1 or cmd.privacy_mode > 1:
            return INVALID
        if self._list_locked():
            return DISALLOWED
        entry = self._entry(cmd.peer_identity_address_type, cmd.peer_identity_address)
        if entry is None:
            return UNKNOWN
        entry.privacy_mode = cmd.privacy_mode
        self._changed()
        return 0

    # -- RPA generation ----------------------------------------------------------------------
    def _new_rpa(self, irk: bytes) -> Address:
        rng: Rng | None = getattr(self, "_privacy_rng", None)
        if rng is None:  # one stream for the controller's life (a reset must not replay it)
            rng = self._privacy_rng = self.streams("privacy")
        while True:
            bits = rng.getrandbits(22)
            if bits not in (0, (1 << 22) - 1):
                return make_rpa(irk, bits)

    def _arm_rpa_timer(self, now: int) -> None:
        if self._rpa_deadline is None:
            self._rpa_deadline = now + self.rpa_timeout_ns

    def privacy_deadline(self) -> int | None:
        """When the local RPAs are renewed next (the RPA timeout), if any are in use."""
        return self._rpa_deadline

    def privacy_timer(self, now: int) -> None:
        """Renew every local RPA when the RPA timeout expired (Vol 6 Part B 1.3.2.2)."""
        if self._rpa_deadline is not None and now >= self._rpa_deadline:
            self._rotate(now)

    def _rotate(self, now: int) -> None:
        generated = False
        for entry in self.resolving_list:
            if any(entry.local_irk):
                entry.local_rpa = self._new_rpa(entry.local_irk)
                generated = True
        self._rpa_deadline = now + self.rpa_timeout_ns if generated else None
        for key, peer in self._rpa_users.items():
            rpa = self._local_rpa(peer)
            if rpa is None:
                continue
            if key.startswith("adv-"):
                adv = self.advertisers.get(int(key[4:]))
                if adv is not None:
                    adv.update(replace(adv.set, own_address=rpa))
            elif key == "scan" and self.scanner is not None:
                self.scanner.config = replace(self.scanner.config, own_address=rpa)
            elif key == "init" and self.initiator is not None:
                self.initiator.config = replace(self.initiator.config, own_address=rpa)

    def _local_rpa(self, peer: Address | None) -> Address | None:
        """The local RPA towards ``peer`` (its entry, else the "any peer" entry)."""
        if not self.address_resolution_enabled:
            return None
        candidates = [peer, _ANY] if peer is not None else [_ANY]
        for identity in candidates:
            for entry in self.resolving_list:
                if entry.identity == identity and any(entry.local_irk):
                    if entry.local_rpa is None:
                        entry.local_rpa = self._new_rpa(entry.local_irk)
                    return entry.local_rpa
        return None

    # -- resolving -----------------------------------------------------------------------------
    def resolve_peer(self, address: Address) -> Address | None:
        """The identity behind ``address`` if it is an RPA of a peer on the resolving list
        (address resolution enabled); the entry remembers the RPA."""
        if not self.address_resolution_enabled or address.kind is not AddressKind.RESOLVABLE_PRIVATE:
            return None
        if address in self._resolved:
            return self._resolved[address]
        found: Address | None = None
        for entry in self.resolving_list:
            if rpa_matches(entry.peer_irk, address):
                entry.peer_rpa = address
                found = entry.identity
                break
        if len(self._resolved) > 256:
            self._resolved.clear()
        self._resolved[address] = found
        return found

    def privacy_blocks(self, address: Address) -> bool:
        """Network privacy mode: a peer with an IRK that uses its identity is ignored."""
        if not self.address_resolution_enabled or address.kind is AddressKind.RESOLVABLE_PRIVATE:
            return False
        entry = next((e for e in self.resolving_list if e.identity == address), None)
        return entry is not None and any(entry.peer_irk) and entry.privacy_mode == 0

    def filter_accepts(self, address: Address) -> bool:
        if self.privacy_blocks(address):
            return False
        identity = self.resolve_peer(address)
        return super().filter_accepts(identity if identity is not None else address)

    def is_own_address(self, address: Address) -> bool:
        if super().is_own_address(address):
            return True
        if not self.address_resolution_enabled or address.kind is not AddressKind.RESOLVABLE_PRIVATE:
            return False
        return any(e.local_rpa == address or rpa_matches(e.local_irk, address) for e in self.resolving_list)

    # -- activities with Own_Address_Type 0x02 / 0x03 -----------------------------------------
    def _own_type_of(self, handle: int) -> tuple[int, Address | None]:
        if self.hci_mode == "legacy":
            params = getattr(self, "_legacy_params", None)
            peer = None if params is None else Address(bytes(params.peer_address), bool(params.peer_address_type & 1))
            return getattr(self, "_legacy_own_type", 0), peer
        own_type = self._own_type_for_set.get(handle, 0)
        s = self.adv_sets.get(handle)
        return own_type, None if s is None else s.peer_address

    def _start_advertiser(self, s: AdvertisingSet, now: int) -> None:
        own_type, peer = self._own_type_of(s.handle)
        key = f"adv-{s.handle}"
        self._rpa_users.pop(key, None)
        if own_type in (2, 3):
            rpa = self._local_rpa(peer)
            if rpa is not None:
                s = replace(s, own_address=rpa)
                self._rpa_users[key] = peer
        super()._start_advertiser(s, now)

    def _start_scanner(self, config: Any, filter_duplicates: int, duration: int, period: int, now: int) -> int:
        status = super()._start_scanner(config, filter_duplicates, duration, period, now)
        self._rpa_users.pop("scan", None)
        if status == 0 and self.scanner is not None and self._scan_own_type in (2, 3):
            rpa = self._local_rpa(None)
            if rpa is not None:
                self.scanner.config = replace(self.scanner.config, own_address=rpa)
                self._rpa_users["scan"] = None
        return status

    def _start_initiator(self, policy: int, own_type: int, peer_type: int, peer: bytes,
                         phys: Any, request_2m: Any, extended: bool, now: int) -> int:
        status = super()._start_initiator(policy, own_type, peer_type, peer, phys, request_2m, extended, now)
        self._rpa_users.pop("init", None)
        self._init_own_type = own_type
        if status == 0 and self.initiator is not None and own_type in (2, 3):
            identity = Address(bytes(peer), bool(peer_type & 1)) if policy == 0 else None
            rpa = self._local_rpa(identity)
            if rpa is not None:
                self.initiator.config = replace(self.initiator.config, own_address=rpa)
                self._rpa_users["init"] = identity
        return status

    def connect_request(self, init: Initiator, adv_a: Address, ch_sel: bool, request: ConnRequest,
                        aux: bool, phy: Phy, end_ns: int) -> CONNECT_IND:
        """InitA with Own_Address_Type 0x02/0x03: an RPA from the local IRK of the entry
        of the advertiser actually answered (its identity once resolved)."""
        if self._init_own_type in (2, 3):
            identity = self.resolve_peer(adv_a) or adv_a
            rpa = self._local_rpa(identity)
            if rpa is not None and rpa != init.config.own_address:
                init.config = replace(init.config, own_address=rpa)
        return super().connect_request(init, adv_a, ch_sel, request, aux, phy, end_ns)

    # -- connection complete with identities ------------------------------------------------------
    def _create(self, central: bool, pdu: CONNECT_IND, csa2: bool, phy: Phy, ref_end_ns: int, aux: bool,
                own: Address, peer: Address, now: int) -> Connection | None:
        self._creating = (own, peer)
        try:
            return super()._create(central, pdu, csa2, phy, ref_end_ns, aux, own, peer, now)
        finally:
            self._creating = None

    def _emit_complete(self, status: int, handle: int, role: int, peer: Address, interval: int, latency: int,
                       timeout: int, sca: int) -> None:
        creating = self._creating
        if status != 0 or creating is None or not self.le_event_enabled(_ENHANCED_CONNECTION_COMPLETE):
            super()._emit_complete(status, handle, role, peer, interval, latency, timeout, sca)
            return
        own, air_peer = creating
        identity = self.resolve_peer(air_peer)
        local_rpa = own.value if own.kind is AddressKind.RESOLVABLE_PRIVATE and self.address_resolution_enabled else bytes(6)
        if identity is not None:
            peer_type, peer_value, peer_rpa = identity.address_type + 2, identity.value, air_peer.value
        else:
            peer_type, peer_value, peer_rpa = air_peer.address_type, air_peer.value, bytes(6)
        self.emit(le.HCI_LE_Enhanced_Connection_Complete_Event(
            status=0, connection_handle=handle, role=role, peer_address_type=peer_type, peer_address=peer_value,
            local_resolvable_private_address=local_rpa, peer_resolvable_private_address=peer_rpa,
            connection_interval=interval, peripheral_latency=latency, supervision_timeout=timeout,
            central_clock_accuracy=sca))

    # -- advertising reports with identities ------------------------------------------------------
    def _legacy_report(self, r: ScanReport) -> None:
        if not self.address_resolution_enabled:  # resolve_peer() would find nothing
            super()._legacy_report(r)
            return
        identity = self.resolve_peer(r.address) if r.address is not None else None
        if identity is None or r.legacy_event_type is None:
            super()._legacy_report(r)
            return
        address_type = identity.address_type + 2
        direct = r.direct_address
        event: HciEvent
        if direct is not None and not self.is_own_address(direct) and self.le_event_enabled(_DIRECTED_REPORT):
            event = le.HCI_LE_Directed_Advertising_Report_Event(reports=(le.DirectedAdvertisingReport(
                event_type=r.legacy_event_type, address_type=address_type, address=identity.value,
                direct_address_type=direct.address_type, direct_address=direct.value, rssi=r.rssi),))
        else:
            event = le.HCI_LE_Advertising_Report_Event(reports=(le.AdvertisingReport(
                event_type=r.legacy_event_type, address_type=address_type, address=identity.value,
                data=r.data, rssi=r.rssi),))
        self.emit(event)

    def _extended_report(self, r: ScanReport) -> None:
        identity = self.resolve_peer(r.address) if r.address is not None else None
        if identity is None:
            super()._extended_report(r)
            return
        direct = r.direct_address
        data = r.data
        chunks = [data[i:i + MAX_EXT_REPORT_DATA] for i in range(0, len(data), MAX_EXT_REPORT_DATA)] or [b""]
        for i, chunk in enumerate(chunks):
            status = DATA_INCOMPLETE_MORE if i + 1 < len(chunks) else r.data_status
            self.emit(le.HCI_LE_Extended_Advertising_Report_Event(reports=(le.ExtendedAdvertisingReport(
                event_type=r.event_type | (status << 5), address_type=identity.address_type + 2,
                address=identity.value, primary_phy=_HCI_PHY[r.primary_phy],
                secondary_phy=_HCI_PHY[r.secondary_phy] if r.secondary_phy else 0,
                advertising_sid=r.sid if r.sid is not None else 0xFF,
                tx_power=r.tx_power if r.tx_power is not None else 127, rssi=r.rssi,
                periodic_advertising_interval=0,
                direct_address_type=direct.address_type if direct is not None else 0,
                direct_address=direct.value if direct is not None else bytes(6), data=chunk),)))
