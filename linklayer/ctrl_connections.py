"""Connections of the controller: creating them, ACL data, HCI events (Vol 4 Part E 7.8.12–13, 7.8.66).

Theory of operation
-------------------
A mixin of :class:`linklayer.controller.Controller` over the shared state of
:class:`linklayer.ctrl_base.ControllerBase`, like the advertising and scanning mixins.

*Creating.* LE_Create_Connection and LE_Extended_Create_Connection start one
:class:`linklayer.initiator.Initiator`; LE_Create_Connection_Cancel stops it and reports
a Connection Complete with Unknown Connection Identifier (0x02). When the initiator's
request went out (or, extended, its AUX_CONNECT_RSP came back) the Central's
:class:`linklayer.connection.Connection` is made; an advertiser that accepted a
CONNECT_IND / AUX_CONNECT_REQ makes the Peripheral's (:meth:`accept_connection`), and its
advertising set ends (legacy: advertising is disabled; extended:
LE Advertising Set Terminated with the new handle). Both report LE (Enhanced) Connection
Complete and, when unmasked, LE Channel Selection Algorithm. Handles 0x0000–0x0EFF are
given in order. The Central draws the access address, CRCInit, hop and a window offset
that keeps the first anchor away from its other connections' events.

*ACL.* Host packets go to the connection's queue; a buffer is counted from the moment
the host sends it until the peer acknowledged its last fragment, when
Number_Of_Completed_Packets returns it. A host that sends more than
``total_num_le_acl_data_packets`` without waiting gets Data_Buffer_Overflow and its
packet is dropped; packets for unknown handles, malformed or longer than the buffer are
dropped and counted (``acl_dropped``). Received LL Data PDUs go to the host one HCI ACL
packet each.

*Clock.* The node's sleep clock error is drawn once, at its first connection, from the
controller's random stream within ``sleep_clock_accuracy_ppm``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from phy.types import Phy
from phy.units import UNIT_1250US, slots_625us

from .address import Address
from .advertiser import Advertiser, AdvertisingSet
from .channels import ChannelMap
from .connection import Connection, ConnectionSetup
from .connection_data import pb_for_llid
from .connection_timing import (
    draw_clock_error_ppb,
    new_access_address,
    sca_field,
    transmit_window_delay,
)
from .control import IMPLEMENTED_FEATURES, LocalInfo, Proc, conn_params_valid
from .ctrl_advertising import AdvertisingCommands
from .ctrl_base import H4_ACL, H4_EVENT
from .ctrl_conn_commands import LinkCommands
from .hci import events as ev
from .hci import le_commands as lc
from .hci import le_events as le
from .hci import le_ext_commands as lx
from .hci.acl import PB_CONTINUING_FRAGMENT, HciAclData, HciAclDecodeError
from .hci.codec import HciEvent
from .hci.errors import ErrorCode
from .hci.events import command_complete
from .hci.supported import LeFeature
from .initiator import ConnRequest, Initiator, InitiatorConfig, InitiatorPhy
from .pdu import AUX_CONNECT_REQ, CONNECT_IND, LLData
from .radio import RadioPacket
from .scheduler import Priority

INVALID = int(ErrorCode.INVALID_HCI_COMMAND_PARAMETERS)
DISALLOWED = int(ErrorCode.COMMAND_DISALLOWED)
UNSUPPORTED = int(ErrorCode.UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE)
UNKNOWN_CONNECTION = int(ErrorCode.UNKNOWN_CONNECTION_IDENTIFIER)
ALREADY_EXISTS = int(ErrorCode.CONNECTION_ALREADY_EXISTS)
#: Connection handles the controller gives (Vol 4 Part E 5.4.2: 0x0000..0x0EFF).
MAX_HANDLES = 0x0F00
ENHANCED_CONNECTION_COMPLETE = 0x0A
CSA_SUBEVENT = 0x14
#: A first anchor keeps this far from another connection's events (both sides).
ANCHOR_SEPARATION_NS = 2 * UNIT_1250US


class ConnectionCommands(LinkCommands, AdvertisingCommands):
    """Mixin: initiating, connection creation, ACL data and the link's HCI events."""

    connections: dict[int, Connection]
    initiator: Initiator | None

    def _init_connections(self) -> None:
        self.connections = {}
        self.initiator = None
        self._initiator_extended = False
        self._initiator_peer: Address | None = None
        self._next_handle = 0
        self.acl_held = 0
        self.acl_dropped = 0
        self._clock_ppb: int | None = None
        self.default_tx_phys = self._supported_phys()
        self.default_rx_phys = self._supported_phys()
        self.host_channel_map = ChannelMap.all_channels()

    def _register_connections(self, h: dict[int, Callable[[Any, int], Any]]) -> None:
        h[lc.HCI_LE_Create_Connection_Command.OPCODE] = self._create_connection
        h[lc.HCI_LE_Create_Connection_Cancel_Command.OPCODE] = self._create_connection_cancel
        h[lx.HCI_LE_Extended_Create_Connection_Command.OPCODE] = self._ext_create_connection
        self._register_link_commands(h)

    # -- what this link layer is ---------------------------------------------------------
    def _supports(self, feature: int) -> bool:
        return bool(self.config.le_features & feature)

    def _local_info(self) -> LocalInfo:
        cfg = self.config
        return LocalInfo(
            features=cfg.le_features & IMPLEMENTED_FEATURES, version=cfg.hci_version,
            company=cfg.company_identifier, subversion=cfg.hci_subversion,
            default_tx_phys=self.default_tx_phys, default_rx_phys=self.default_rx_phys,
        )

    def _clock_error(self) -> int:
        if self._clock_ppb is None:
            self._clock_ppb = draw_clock_error_ppb(self.rng, self.config.sleep_clock_accuracy_ppm)
        return self._clock_ppb

    def _new_handle(self) -> int | None:
        for _ in range(MAX_HANDLES):
            handle = self._next_handle
            self._next_handle = (handle + 1) % MAX_HANDLES
            if handle not in self.connections:
                return handle
        return None

    # -- advertising sets advertise CSA #2 support ----------------------------------------
    def _start_advertiser(self, s: AdvertisingSet, now: int) -> None:
        super()._start_advertiser(replace(s, ch_sel=self._supports(LeFeature.CHANNEL_SELECTION_ALGORITHM_2)), now)

    def _store_set(self, s: AdvertisingSet) -> int:
        return super()._store_set(replace(s, ch_sel=self._supports(LeFeature.CHANNEL_SELECTION_ALGORITHM_2)))

    # -- LE_Create_Connection -------------------------------------------------------------
    def _create_connection(self, cmd: lc.HCI_LE_Create_Connection_Command, now: int) -> int:
        if not self._check_mode("legacy"):
            return DISALLOWED
        if self.initiator is not None:
            return DISALLOWED
        if not (4 <= cmd.le_scan_window <= cmd.le_scan_interval <= 0x4000):
            return INVALID
        if cmd.initiator_filter_policy > 1 or cmd.peer_address_type > 3 or cmd.own_address_type > 3:
            return INVALID
        request = ConnRequest(cmd.connection_interval_min, cmd.connection_interval_max, cmd.max_latency,
                              cmd.supervision_timeout, cmd.min_ce_length, cmd.max_ce_length)
        if not self._request_valid(request):
            return INVALID
        phys = (InitiatorPhy(Phy.LE_1M, slots_625us(cmd.le_scan_interval), slots_625us(cmd.le_scan_window),
                             request),)
        return self._start_initiator(cmd.initiator_filter_policy, cmd.own_address_type, cmd.peer_address_type,
                                     bytes(cmd.peer_address), phys, None, False, now)

    def _ext_create_connection(self, cmd: lx.HCI_LE_Extended_Create_Connection_Command, now: int) -> int:
        if not self._check_mode("extended"):
            return DISALLOWED
        if self.initiator is not None:
            return DISALLOWED
        bits = cmd.initiating_phys
        if cmd.initiator_filter_policy > 1 or cmd.peer_address_type > 3 or cmd.own_address_type > 3:
            return INVALID
        if bits & ~0x07:
            return UNSUPPORTED
        if not bits & 0x05:
            return INVALID  # something to scan on: LE 1M or LE Coded
        if bits & 0x02 and not self._supports(LeFeature.LE_2M_PHY):
            return UNSUPPORTED
        if bits & 0x04 and not self._supports(LeFeature.LE_CODED_PHY):
            return UNSUPPORTED
        scan: list[InitiatorPhy] = []
        request_2m: ConnRequest | None = None
        for bit, e in zip([b for b in (0x01, 0x02, 0x04) if bits & b], cmd.phys):
            request = ConnRequest(e.connection_interval_min, e.connection_interval_max, e.max_latency,
                                  e.supervision_timeout, e.min_ce_length, e.max_ce_length)
            if not self._request_valid(request) or not 4 <= e.scan_window <= e.scan_interval:
                return INVALID
            if bit == 0x02:
                request_2m = request
                continue
            phy = Phy.LE_1M if bit == 0x01 else Phy.LE_CODED_S8
            scan.append(InitiatorPhy(phy, slots_625us(e.scan_interval), slots_625us(e.scan_window), request))
        return self._start_initiator(cmd.initiator_filter_policy, cmd.own_address_type, cmd.peer_address_type,
                                     bytes(cmd.peer_address), tuple(scan), request_2m, True, now)

    def _request_valid(self, r: ConnRequest) -> bool:
        return conn_params_valid(r.interval_min, r.interval_max, r.latency, r.timeout) and (
            r.min_ce_length <= r.max_ce_length
        )

    def _start_initiator(self, policy: int, own_type: int, peer_type: int, peer: bytes,
                         phys: tuple[InitiatorPhy, ...], request_2m: ConnRequest | None, extended: bool,
                         now: int) -> int:
        own = self.own_address(own_type)
        if own is None:
            return INVALID
        peer_address = Address(peer, bool(peer_type & 1)) if policy == 0 else None
        if peer_address is not None and any(c.peer_address == peer_address for c in self.connections.values()):
            return ALREADY_EXISTS
        config = InitiatorConfig(phys, own, policy, peer_address, extended, request_2m)
        self.initiator = Initiator(config, self.scheduler.radio, self, now, self.scheduler.release)
        self._initiator_extended = extended
        self._initiator_peer = peer_address
        self.scheduler.add(self.initiator)
        return 0

    def _create_connection_cancel(self, cmd: Any, now: int) -> int | None:
        init = self.initiator
        if init is None:
            return DISALLOWED
        init.stop()
        self.scheduler.remove(init, now)
        self.initiator = None
        self._hci_out.append((H4_EVENT, command_complete(cmd.OPCODE, bytes([0])).to_bytes()))
        peer = self._initiator_peer or Address(bytes(6))
        self._emit_complete(UNKNOWN_CONNECTION, 0, 0, peer, 0, 0, 0, 0)
        return None

    # -- InitiatorHost ---------------------------------------------------------------------
    def foreground_horizon(self, activity: object) -> int | None:
        prio = getattr(activity, "priority", Priority.SCANNING)
        starts = [s for a in self.scheduler.activities
                  if a is not activity and a.priority > prio and (s := a.next_start()) is not None]
        return min(starts) if starts else None

    def connect_request(self, init: Initiator, adv_a: Address, ch_sel: bool, request: ConnRequest,
                        aux: bool, phy: Phy, end_ns: int) -> CONNECT_IND:
        interval = request.interval_min
        in_use = {c.access_address for c in self.connections.values()}
        aa = new_access_address(self.rng, in_use)
        crc_init = self.rng.getrandbits(24)
        hop = self.rng.randint(5, 16)
        win_offset = self._window_offset(end_ns + transmit_window_delay(aux, phy), interval)
        ll = LLData(aa=aa, crc_init=crc_init, win_size=1, win_offset=win_offset, interval=interval,
                    latency=request.latency, timeout=request.timeout, ch_m=self.host_channel_map.mask, hop=hop,
                    sca=sca_field(self.config.sleep_clock_accuracy_ppm))
        own = init.config.own_address
        if aux:
            return AUX_CONNECT_REQ(own, adv_a, ll)
        csa2 = ch_sel and self._supports(LeFeature.CHANNEL_SELECTION_ALGORITHM_2)
        return CONNECT_IND(own, adv_a, ll, ch_sel=csa2)

    def _window_offset(self, window_start: int, interval: int) -> int:
        """A WinOffset whose first anchor stays clear of our other connections' events."""
        others = [c.next_anchor() for c in self.connections.values() if c.next_anchor() is not None]
        candidates = list(range(interval))
        chosen = 0
        for attempt in range(16):
            off = candidates[self.rng.randrange(len(candidates))]
            chosen = off
            anchor = window_start + off * UNIT_1250US
            clear = True
            for other in others:
                assert other is not None
                t, period = other
                phase = (anchor - t) % period
                if phase < ANCHOR_SEPARATION_NS or period - phase < ANCHOR_SEPARATION_NS:
                    clear = False
                    break
            if clear:
                break
        return chosen

    def initiator_connected(self, init: Initiator, pdu: CONNECT_IND, phy: Phy, ref_end_ns: int, now: int) -> None:
        self.scheduler.remove(init, now)
        if self.initiator is init:
            self.initiator = None
        aux = isinstance(pdu, AUX_CONNECT_REQ)
        self._create(True, pdu, aux or pdu.ch_sel, phy, ref_end_ns, aux, pdu.init_a, pdu.adv_a, now)

    # -- Peripheral: an advertiser accepted a connect request ----------------------------------
    def accept_connection(self, adv: Advertiser, pdu: CONNECT_IND, packet: RadioPacket, now: int) -> bool:
        ll = pdu.ll_data
        aux = isinstance(pdu, AUX_CONNECT_REQ)
        if not conn_params_valid(ll.interval, ll.interval, ll.latency, ll.timeout):
            return False
        if not 1 <= ll.win_size <= min(8, ll.interval - 1) or ll.win_offset > ll.interval:
            return False
        if ChannelMap(ll.ch_m).count < 2 or any(c.access_address == ll.aa for c in self.connections.values()):
            return False
        csa2 = aux or (pdu.ch_sel and self._supports(LeFeature.CHANNEL_SELECTION_ALGORITHM_2))
        if not csa2 and not 5 <= ll.hop <= 16:
            return False
        if len(self.connections) >= MAX_HANDLES:
            return False
        handle_set = adv.set.handle
        conn = self._create(False, pdu, csa2, packet.phy, packet.end_ns, aux, adv.set.own_address, pdu.init_a, now)
        if conn is None:
            return False
        self.advertisers.pop(handle_set, None)
        self.scheduler.remove(adv, now)
        if self.hci_mode == "extended":
            self.emit(le.HCI_LE_Advertising_Set_Terminated_Event(
                status=0, advertising_handle=handle_set, connection_handle=conn.handle,
                num_completed_extended_advertising_events=min(adv.events, 255)))
        return True

    # -- connections ------------------------------------------------------------------------
    def _create(self, central: bool, pdu: CONNECT_IND, csa2: bool, phy: Phy, ref_end_ns: int, aux: bool,
                own: Address, peer: Address, now: int) -> Connection | None:
        handle = self._new_handle()
        if handle is None:
            return None
        setup = ConnectionSetup(
            handle=handle, central=central, ll=pdu.ll_data, own_address=own, peer_address=peer, csa2=csa2,
            phy=phy, ref_end_ns=ref_end_ns, aux=aux, clock_ppb=self._clock_error(),
            sca_ppm=self.config.sleep_clock_accuracy_ppm, tx_power_dbm=float(self.config.tx_power_dbm),
            info=self._local_info(), max_tx_octets=self.suggested_max_tx_octets,
            max_tx_time=self.suggested_max_tx_time,
        )
        conn = Connection(setup, self, self.scheduler.radio, self.scheduler.release, self.rng, now)
        self.connections[handle] = conn
        self.scheduler.add(conn)
        ll = pdu.ll_data
        self._emit_complete(0, handle, 0 if central else 1, peer, ll.interval, ll.latency, ll.timeout,
                            0 if central else ll.sca)
        if self.le_event_enabled(CSA_SUBEVENT):
            self.emit(le.HCI_LE_Channel_Selection_Algorithm_Event(
                connection_handle=handle, channel_selection_algorithm=int(csa2)))
        if (setup.max_tx_octets, setup.max_tx_time) != (27, 328) and self._supports(
            LeFeature.LE_DATA_PACKET_LENGTH_EXTENSION
        ):
            conn.control.request(Proc.DATA_LENGTH, now)
        return conn

    def _emit_complete(self, status: int, handle: int, role: int, peer: Address, interval: int, latency: int,
                       timeout: int, sca: int) -> None:
        event: HciEvent
        if self.le_event_enabled(ENHANCED_CONNECTION_COMPLETE):
            event = le.HCI_LE_Enhanced_Connection_Complete_Event(
                status=status, connection_handle=handle, role=role, peer_address_type=peer.address_type,
                peer_address=peer.value, local_resolvable_private_address=bytes(6),
                peer_resolvable_private_address=bytes(6), connection_interval=interval,
                peripheral_latency=latency, supervision_timeout=timeout, central_clock_accuracy=sca)
        else:
            event = le.HCI_LE_Connection_Complete_Event(
                status=status, connection_handle=handle, role=role, peer_address_type=peer.address_type,
                peer_address=peer.value, connection_interval=interval, peripheral_latency=latency,
                supervision_timeout=timeout, central_clock_accuracy=sca)
        self.emit(event)

    # -- ConnectionHost ----------------------------------------------------------------------
    def radio_horizon(self, conn: Connection) -> tuple[int, object] | None:
        best: tuple[int, object] | None = None
        for a in self.scheduler.activities:
            if a is conn or a.priority < Priority.CONNECTION:
                continue
            s = a.next_start()
            if s is not None and (best is None or s < best[0]):
                best = (s, a)
        return best

    def acl_to_host(self, conn: Connection, llid: int, data: bytes) -> None:
        packet = HciAclData(conn.handle, pb_for_llid(llid), 0, data)
        self._hci_out.append((H4_ACL, packet.to_bytes()))

    def acl_completed(self, conn: Connection, count: int) -> None:
        self.acl_held = max(0, self.acl_held - count)
        self.emit(ev.HCI_Number_Of_Completed_Packets_Event(
            handles=(ev.CompletedPackets(connection_handle=conn.handle, num_completed_packets=count),)))

    def connection_closed(self, conn: Connection, reason: int, now: int) -> None:
        self.connections.pop(conn.handle, None)
        self.scheduler.remove(conn, now)
        self.acl_held = max(0, self.acl_held - conn.release_buffers())
        self.emit(ev.HCI_Disconnection_Complete_Event(status=0, connection_handle=conn.handle, reason=reason))

    # -- ACL from the host -------------------------------------------------------------------
    def _connection_acl(self, packet: bytes, now: int) -> None:
        try:
            acl = HciAclData.from_bytes(packet)
        except (HciAclDecodeError, ValueError):
            self.acl_dropped += 1
            return
        conn = self.connections.get(acl.handle)
        if conn is None or len(acl.data) > self.config.le_acl_data_packet_length:
            self.acl_dropped += 1
            return
        if self.acl_held >= self.config.total_num_le_acl_data_packets:
            self.acl_dropped += 1
            self.emit(ev.HCI_Data_Buffer_Overflow_Event(link_type=0x01))
            return
        self.acl_held += 1
        if not conn.queue_acl(acl.pb_flag != PB_CONTINUING_FRAGMENT, acl.data, now):
            self.acl_completed(conn, 1)
        self.scheduler.poll(now)

    def _connections_stopped(self, now: int) -> None:
        """HCI_Reset: everything ends without events."""
        if self.initiator is not None:
            self.initiator.stop()
        self.initiator = None
        self.connections = {}

