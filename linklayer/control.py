"""LL control procedures of one connection (Vol 6 Part B 5.1).

Theory of operation
-------------------
:class:`ControlProcedures` is a sans-IO engine driven by its connection through three
inputs — a received control PDU (:meth:`~ControlProcedures.on_control_pdu`), the
acknowledgement of one it sent (:meth:`~ControlProcedures.on_acked`) and the start of
each connection event (:meth:`~ControlProcedures.on_event_start`, which runs the timers)
— plus the host's requests (``request_*`` methods and the replies to LE events). Its
outputs go through :class:`linklayer.control_link.Link`: control PDUs to queue, changes
to apply at an instant, encryption switches and HCI events.

*One local procedure at a time.* Requests from the host queue up in
:attr:`~ControlProcedures.pending`; the one in :attr:`~ControlProcedures.local` runs
until its response (or instant) arrives. Its response timer is the 40 s procedure
response timeout (Vol 6 Part B 5.2): when it expires the link is lost with LL Response
Timeout (0x22). Procedures the peer starts are answered at once, interleaved with ours.

*Instants* (connection update, channel map, PHY update) are counted from the event that
first carries the PDU: the Central queues a builder that picks ``Instant = counter +
latency + 6`` when the PDU is sent. A Peripheral that receives an instant already past
(``(Instant − counter) mod 65536 >= 32767``) loses the link with Instant Passed (0x28).

*Collisions* (5.3): the Central rejects a Peripheral's LL_CONNECTION_PARAM_REQ or
LL_PHY_REQ that arrives while an instant procedure of its own runs, with
LL_REJECT_EXT_IND and LL Procedure Collision (0x23, same procedure) or Different
Transaction Collision (0x2A); the Peripheral always answers the Central's procedure and
reports its own as failed with that code.

*What the peer does not know*: an unknown opcode or a known one with a wrong CtrData
size gets LL_UNKNOWN_RSP; a parameter out of range gets LL_REJECT_EXT_IND with Invalid LL
Parameters (0x1E). Our own request answered with LL_UNKNOWN_RSP completes with
Unsupported Remote Feature (0x1A) (a connection parameters request falls back to
LL_CONNECTION_UPDATE_IND).

Encryption is in :mod:`linklayer.control_enc`.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from phy.airtime import airtime_ns
from phy.types import Phy, Rng
from phy.units import UNIT_10MS, US, S

from . import control_pdu as cp
from .channels import ChannelMap
from .connection_timing import (
    MAX_OCTETS,
    MAX_TIME_US,
)
from .control_enc import EncryptionProcedures, EncState
from .control_link import (
    IMPLEMENTED_FEATURES,
    INSTANT_PROCS,
    Lengths,
    Link,
    Local,
    LocalInfo,
    Proc,
    choose_phy,
    conn_params_valid,
    hci_phy,
    ll_phy_bit,
    phy_from_bit,
)
from .hci import events as ev
from .hci import le_events as le
from .hci.errors import ErrorCode

#: Procedure response timeout (Vol 6 Part B 5.2).
PROCEDURE_RESPONSE_TIMEOUT_NS = 40 * S
#: Events between the PDU that carries an instant and the instant, on top of latency.
INSTANT_MARGIN = 6

SUCCESS = 0
UNSUPPORTED_REMOTE_FEATURE = int(ErrorCode.UNSUPPORTED_REMOTE_FEATURE)
INVALID_LL_PARAMETERS = int(ErrorCode.INVALID_LL_PARAMETERS)
LL_RESPONSE_TIMEOUT = int(ErrorCode.LL_RESPONSE_TIMEOUT)
LL_PROCEDURE_COLLISION = int(ErrorCode.LL_PROCEDURE_COLLISION)
DIFFERENT_TRANSACTION_COLLISION = int(ErrorCode.DIFFERENT_TRANSACTION_COLLISION)
INSTANT_PASSED = int(ErrorCode.INSTANT_PASSED)
LOCAL_HOST = int(ErrorCode.CONNECTION_TERMINATED_BY_LOCAL_HOST)
UNSUPPORTED_PARAMETER = int(ErrorCode.UNSUPPORTED_LL_PARAMETER_VALUE)

F = cp.LLFeature

#: Opcodes this link layer does not implement (answered with LL_UNKNOWN_RSP).
_UNSUPPORTED = (
    cp.LL_CTE_REQ, cp.LL_CTE_RSP, cp.LL_PERIODIC_SYNC_IND, cp.LL_CLOCK_ACCURACY_REQ,
    cp.LL_CLOCK_ACCURACY_RSP, cp.LL_CIS_REQ, cp.LL_CIS_RSP, cp.LL_CIS_IND,
    cp.LL_CIS_TERMINATE_IND, cp.LL_POWER_CONTROL_REQ, cp.LL_POWER_CONTROL_RSP,
    cp.LL_POWER_CHANGE_IND, cp.LL_SUBRATE_REQ, cp.LL_SUBRATE_IND,
    cp.LL_CHANNEL_REPORTING_IND, cp.LL_CHANNEL_STATUS_IND,
)
_ENCRYPTION_PDUS = (
    cp.LL_ENC_REQ, cp.LL_ENC_RSP, cp.LL_START_ENC_REQ, cp.LL_START_ENC_RSP,
    cp.LL_PAUSE_ENC_REQ, cp.LL_PAUSE_ENC_RSP,
)
#: Received PDUs of optional procedures, and the feature bit they need (Vol 6 Part B 4.6).
_FEATURE_OF: dict[type, int] = {
    cp.LL_CONNECTION_PARAM_REQ: int(F.CONNECTION_PARAMETERS_REQUEST_PROCEDURE),
    cp.LL_CONNECTION_PARAM_RSP: int(F.CONNECTION_PARAMETERS_REQUEST_PROCEDURE),
    cp.LL_PING_REQ: int(F.LE_PING),
    cp.LL_LENGTH_REQ: int(F.LE_DATA_PACKET_LENGTH_EXTENSION),
    cp.LL_LENGTH_RSP: int(F.LE_DATA_PACKET_LENGTH_EXTENSION),
    cp.LL_PHY_REQ: int(F.LE_2M_PHY | F.LE_CODED_PHY),
    cp.LL_PHY_RSP: int(F.LE_2M_PHY | F.LE_CODED_PHY),
    cp.LL_PHY_UPDATE_IND: int(F.LE_2M_PHY | F.LE_CODED_PHY),
    cp.LL_MIN_USED_CHANNELS_IND: int(F.MINIMUM_NUMBER_OF_USED_CHANNELS_PROCEDURE),
}
#: What may be handled while an encryption procedure runs; any other control PDU waits
#: until it ends (5.1.3.1: only the procedure's own PDUs go between LL_ENC_REQ and the
#: last LL_START_ENC_RSP, so a procedure the peer started just before is answered after).
_DURING_ENCRYPTION = (*_ENCRYPTION_PDUS, cp.LL_TERMINATE_IND, cp.LL_REJECT_IND, cp.LL_REJECT_EXT_IND,
                      cp.LL_UNKNOWN_RSP)
#: At most this many held PDUs (a well-behaved peer sends one or two).
_MAX_HELD = 8
REMOTE_CPR_SUBEVENT = 0x06
DATA_LENGTH_SUBEVENT = 0x07


class ControlProcedures(EncryptionProcedures):
    """The LL control procedures of one connection; see the module docstring."""

    def __init__(self, link: Link, info: LocalInfo, rng: Rng, lengths: Lengths, now: int) -> None:
        self.link = link
        self.info = info
        self.rng = rng
        self.lengths = lengths
        self.pending: deque[Local] = deque()
        self.local: Local | None = None
        self.peer_features: int | None = None
        self.peer_version: tuple[int, int, int] | None = None
        self.version_sent = False
        self.enc: EncState | None = None
        self.encrypted = False
        self.remote_cpr: cp.LL_CONNECTION_PARAM_REQ | None = None
        self.remote_instant = False  # the Central runs an instant procedure the peer asked for
        self.apto_ns = 3000 * UNIT_10MS
        self.last_authenticated = now
        self.response_deadline: int | None = None
        self.unknown_received = 0
        #: Control PDUs received during an encryption procedure, handled when it ends.
        self.held: list[bytes] = []
        self.terminating = False
        self.tx_phy_pref = info.default_tx_phys
        self.rx_phy_pref = info.default_rx_phys
        self.coded_option = Phy.LE_CODED_S8
        self._effective = lengths.effective(link.tx_phy, link.rx_phy)

    # ---------------------------------------------------------------- host requests
    def request(self, kind: Proc, now: int, **args: Any) -> None:
        """Queue a local procedure (it starts when the one running ends)."""
        if self.terminating:
            return
        self.pending.append(Local(kind, dict(args)))
        self._next_local(now)

    def request_terminate(self, reason: int, now: int) -> None:
        """HCI_Disconnect: LL_TERMINATE_IND goes before anything else (5.1.6)."""
        if self.terminating:
            return
        self.terminating = True
        self.pending.clear()
        self.local = Local(Proc.TERMINATE, {"reason": reason}, started=True)
        self.link.send_control(cp.LL_TERMINATE_IND(error_code=reason))
        # The termination procedure times out after the supervision timeout (5.1.6).
        self.response_deadline = now + self.link.timeout * UNIT_10MS

    def busy_with(self, kind: Proc) -> bool:
        return (self.local is not None and self.local.kind is kind) or any(p.kind is kind for p in self.pending)

    def _peer_supports(self, feature: int) -> bool:
        return self.peer_features is None or bool(self.peer_features & feature)

    def _next_local(self, now: int) -> None:
        if self.enc is not None and (self.local is None or self.local.kind is not Proc.ENCRYPTION):
            return  # the peer's encryption procedure runs: ours start when it ends
        while self.local is None and self.pending:
            if self.pending[0].kind in INSTANT_PROCS and (self.remote_instant or self.remote_cpr is not None):
                return  # one instant procedure at a time on a link (5.3)
            proc = self.pending.popleft()
            self.local = proc
            proc.started = True
            self._start(proc, now)

    def _start(self, proc: Local, now: int) -> None:
        link = self.link
        kind = proc.kind
        a = proc.args
        if kind is Proc.FEATURES:
            feats = self.info.features
            if link.is_central:
                self._send(cp.LL_FEATURE_REQ(feature_set=feats))
            else:
                self._send(cp.LL_PERIPHERAL_FEATURE_REQ(feature_set=feats))
            self._awaiting(now)
        elif kind is Proc.VERSION:
            if self.peer_version is not None:
                self._version_complete()
                return
            self._send_version()
            self._awaiting(now)
        elif kind is Proc.CONN_UPDATE:
            self._send_update(a["interval"], a["latency"], a["timeout"])
        elif kind is Proc.CONN_PARAM:
            if not self._peer_supports(int(F.CONNECTION_PARAMETERS_REQUEST_PROCEDURE)):
                self._cpr_unsupported(now)
                return
            self._send(cp.LL_CONNECTION_PARAM_REQ(
                interval_min=a["interval_min"], interval_max=a["interval_max"], latency=a["latency"],
                timeout=a["timeout"], preferred_periodicity=0,
                reference_conn_event_count=link.counter & 0xFFFF,
                offset0=0xFFFF, offset1=0xFFFF, offset2=0xFFFF, offset3=0xFFFF, offset4=0xFFFF,
                offset5=0xFFFF,
            ))
            self._awaiting(now)
        elif kind is Proc.CHANNEL_MAP:
            cmap: ChannelMap = a["channel_map"]

            def build(counter: int) -> cp.ControlPdu:
                instant = counter + self.link.latency + INSTANT_MARGIN
                self.link.schedule_channel_map(instant, cmap)
                return cp.LL_CHANNEL_MAP_IND(ch_m=cmap.mask, instant=instant & 0xFFFF)

            self.link.send_control(build)
        elif kind is Proc.DATA_LENGTH:
            le_ = self.lengths
            self._send(cp.LL_LENGTH_REQ(max_rx_octets=le_.max_rx_octets, max_rx_time=le_.max_rx_time,
                                        max_tx_octets=le_.max_tx_octets, max_tx_time=le_.max_tx_time))
            self._awaiting(now)
        elif kind is Proc.PHY:
            self.tx_phy_pref = a["tx_phys"]
            self.rx_phy_pref = a["rx_phys"]
            self.coded_option = a.get("coded", Phy.LE_CODED_S8)
            self._send(cp.LL_PHY_REQ(tx_phys=self.tx_phy_pref, rx_phys=self.rx_phy_pref))
            self._awaiting(now)
        elif kind is Proc.ENCRYPTION:
            if not self._peer_supports(int(F.LE_ENCRYPTION)):
                self._enc_failed(UNSUPPORTED_REMOTE_FEATURE)
                return
            self._enc_start_local(a["rand"], a["ediv"], a["ltk"], now)
        elif kind is Proc.PING:
            if not self._peer_supports(int(F.LE_PING)):
                self._finish_local("ping")
                return
            self._send(cp.LL_PING_REQ())
            self._awaiting(now)

    def _finish_local(self, kind: str) -> None:
        self.local = None
        self.response_deadline = None

    def complete_next(self, now: int) -> None:
        """Start the next queued procedure if none runs."""
        self._next_local(now)

    # ------------------------------------------------------------------ helpers
    def _send(self, pdu: cp.ControlPdu) -> None:
        self.link.send_control(pdu)

    def _awaiting(self, now: int | None) -> None:
        self.response_deadline = None if now is None else now + PROCEDURE_RESPONSE_TIMEOUT_NS

    def _random96(self) -> bytes:
        return self.rng.getrandbits(96).to_bytes(12, "little")

    def _reject(self, opcode: int, error: int) -> None:
        if self._peer_supports(int(F.EXTENDED_REJECT_INDICATION)):
            self._send(cp.LL_REJECT_EXT_IND(reject_opcode=opcode, error_code=error))
        else:
            self._send(cp.LL_REJECT_IND(error_code=error))

    def _send_version(self) -> None:
        self.version_sent = True
        i = self.info
        self._send(cp.LL_VERSION_IND(vers_nr=i.version, comp_id=i.company, sub_vers_nr=i.subversion))

    def _version_complete(self) -> None:
        assert self.peer_version is not None
        v, c, s = self.peer_version
        self.link.emit(ev.HCI_Read_Remote_Version_Information_Complete_Event(
            status=0, connection_handle=self.link.handle, version=v, company_identifier=c, subversion=s))
        self._finish_local("version")

    def _send_update(self, interval: int, latency: int, timeout: int) -> None:
        """The Central's LL_CONNECTION_UPDATE_IND, its instant chosen when it is sent."""

        def build(counter: int) -> cp.ControlPdu:
            link = self.link
            instant = counter + link.latency + INSTANT_MARGIN
            link.schedule_update(instant, 1, 0, interval, latency, timeout)
            return cp.LL_CONNECTION_UPDATE_IND(win_size=1, win_offset=0, interval=interval,
                                               latency=latency, timeout=timeout, instant=instant & 0xFFFF)

        self.link.send_control(build)

    def _instant(self, instant16: int) -> int | None:
        """The absolute event counter of a received 16-bit instant; None if it passed."""
        counter = self.link.counter
        delta = (instant16 - counter) & 0xFFFF
        if delta == 0 or delta >= 32767:
            return None
        return counter + delta

    def _update_complete(self, status: int, link: Link) -> None:
        self.link.emit(le.HCI_LE_Connection_Update_Complete_Event(
            status=status, connection_handle=link.handle, connection_interval=link.interval,
            peripheral_latency=link.latency, supervision_timeout=link.timeout))

    def _cpr_unsupported(self, now: int) -> None:
        """Our LL_CONNECTION_PARAM_REQ is not known to the peer."""
        local = self.local
        assert local is not None
        if self.link.is_central:
            # Fall back to the connection update procedure (5.1.7.1).
            a = local.args
            local.kind = Proc.CONN_UPDATE
            self.response_deadline = None
            self._send_update(a["interval_min"], a["latency"], a["timeout"])
        else:
            self._update_complete(UNSUPPORTED_REMOTE_FEATURE, self.link)
            self._finish_local("cpr")
            self._next_local(now)

    # ------------------------------------------------------------------ timers
    def on_event_start(self, now: int) -> None:
        """Run the procedure response timer, LE ping and the authenticated payload timer."""
        if self.response_deadline is None and not self.encrypted and not self.pending:
            return
        if self.response_deadline is not None and now >= self.response_deadline:
            self.response_deadline = None
            terminating = self.local is not None and self.local.kind is Proc.TERMINATE
            self.link.close(LOCAL_HOST if terminating else LL_RESPONSE_TIMEOUT, now)
            return
        if self.encrypted and self.apto_ns:
            idle = now - self.last_authenticated
            if idle >= self.apto_ns:
                self.last_authenticated = now
                self.link.emit(ev.HCI_Authenticated_Payload_Timeout_Expired_Event(
                    connection_handle=self.link.handle))
            elif idle >= self.apto_ns // 2 and not self.busy_with(Proc.PING) and self.local is None:
                self.request(Proc.PING, now)
        self._next_local(now)

    def authenticated(self, now: int) -> None:
        """A packet with a valid MIC arrived (the authenticated payload timer restarts)."""
        self.last_authenticated = now

    # ------------------------------------------------------------------ acknowledgements
    def on_acked(self, pdu: cp.ControlPdu, now: int) -> None:
        if isinstance(pdu, cp.LL_TERMINATE_IND) and self.local is not None and self.local.kind is Proc.TERMINATE:
            self.link.close(LOCAL_HOST, now)

    # ------------------------------------------------------------------ instants
    def on_instant(self, kind: Proc, changed: bool, now: int) -> None:
        """The link applied the change of a procedure at its instant."""
        local = self.local
        mine = local is not None and (
            local.kind is kind or (kind is Proc.CONN_UPDATE and local.kind is Proc.CONN_PARAM)
        )
        if kind is Proc.CONN_UPDATE:
            if mine or changed or self.remote_instant:
                self._update_complete(SUCCESS, self.link)
        elif kind is Proc.PHY:
            if mine or changed:
                self._phy_complete(SUCCESS)
        if kind is Proc.CONN_UPDATE or kind is Proc.PHY:
            self._effective_check()
        self.remote_instant = False
        if mine:
            self._finish_local(kind.value)
            self._next_local(now)

    def _phy_complete(self, status: int) -> None:
        link = self.link
        link.emit(le.HCI_LE_PHY_Update_Complete_Event(
            status=status, connection_handle=link.handle, tx_phy=hci_phy(link.tx_phy),
            rx_phy=hci_phy(link.rx_phy)))

    # ------------------------------------------------------------------ data length
    def effective_lengths(self) -> tuple[int, int, int, int]:
        return self._effective

    def _effective_check(self) -> None:
        link = self.link
        eff = self.lengths.effective(link.tx_phy, link.rx_phy)
        if eff != self._effective:
            self._effective = eff
            link.lengths_changed()
            if link.le_event_enabled(DATA_LENGTH_SUBEVENT):
                tx_o, tx_t, rx_o, rx_t = eff
                link.emit(le.HCI_LE_Data_Length_Change_Event(
                    connection_handle=link.handle, max_tx_octets=tx_o, max_tx_time=tx_t,
                    max_rx_octets=rx_o, max_rx_time=rx_t))

    def _peer_lengths(self, pdu: cp.LL_LENGTH_REQ | cp.LL_LENGTH_RSP) -> bool:
        if pdu.max_rx_octets < 27 or pdu.max_tx_octets < 27 or pdu.max_rx_time < 328 or pdu.max_tx_time < 328:
            return False
        le_ = self.lengths
        le_.remote_rx_octets = min(pdu.max_rx_octets, MAX_OCTETS)
        le_.remote_rx_time = min(pdu.max_rx_time, MAX_TIME_US)
        le_.remote_tx_octets = min(pdu.max_tx_octets, MAX_OCTETS)
        le_.remote_tx_time = min(pdu.max_tx_time, MAX_TIME_US)
        return True

    def set_max_tx(self, octets: int, time_us: int, now: int) -> None:
        """HCI_LE_Set_Data_Length: new local maxima, then the update procedure."""
        self.lengths.max_tx_octets = octets
        self.lengths.max_tx_time = time_us
        if self._peer_supports(int(F.LE_DATA_PACKET_LENGTH_EXTENSION)):
            self.request(Proc.DATA_LENGTH, now)

    # ------------------------------------------------------------------ received PDUs
    def on_control_pdu(self, payload: bytes, now: int) -> None:
        """A received LL Control PDU payload (Opcode + CtrData), already decrypted."""
        if not payload:
            return
        try:
            pdu = cp.decode_control_pdu(payload)
        except cp.UnknownControlOpcode as exc:
            self._unknown(exc.opcode)
            return
        except ValueError:
            self._unknown(payload[0])
            return
        if self.terminating and not isinstance(pdu, cp.LL_TERMINATE_IND):
            return
        if self.enc is not None and not isinstance(pdu, _DURING_ENCRYPTION):
            if len(self.held) < _MAX_HELD:
                self.held.append(payload)
            return
        if isinstance(pdu, _ENCRYPTION_PDUS):
            if not self.info.features & F.LE_ENCRYPTION or not self._rx_enc(pdu, now):
                self._unknown(pdu.OPCODE)
            self.release_held(now)
            return
        needs = _FEATURE_OF.get(type(pdu))
        if needs is not None and not self.info.features & needs:
            self._unknown(pdu.OPCODE)  # a procedure this side does not implement
            return
        if not self._dispatch(pdu, now):
            self._unknown(pdu.OPCODE)
        self.release_held(now)

    def release_held(self, now: int) -> None:
        """Once no encryption procedure runs: handle the control PDUs that waited for it,
        then start a local procedure that waited too."""
        if self.enc is not None:
            return
        while self.held and self.enc is None:
            self.on_control_pdu(self.held.pop(0), now)
        self._next_local(now)

    def _unknown(self, opcode: int) -> None:
        self.unknown_received += 1
        self._send(cp.LL_UNKNOWN_RSP(unknown_type=opcode))

    def _dispatch(self, pdu: cp.ControlPdu, now: int) -> bool:
        link = self.link
        central = link.is_central
        local = self.local
        if isinstance(pdu, cp.LL_TERMINATE_IND):
            self.terminating = True
            link.close_after_ack(pdu.error_code)
            return True
        if isinstance(pdu, cp.LL_UNKNOWN_RSP):
            self._on_unknown_rsp(pdu.unknown_type, now)
            return True
        if isinstance(pdu, (cp.LL_REJECT_IND, cp.LL_REJECT_EXT_IND)):
            opcode = pdu.reject_opcode if isinstance(pdu, cp.LL_REJECT_EXT_IND) else None
            self._on_reject(opcode, pdu.error_code, now)
            return True
        if isinstance(pdu, cp.LL_FEATURE_REQ) and not central or (
            isinstance(pdu, cp.LL_PERIPHERAL_FEATURE_REQ) and central
            and self.info.features & F.PERIPHERAL_INITIATED_FEATURES_EXCHANGE
        ):
            assert isinstance(pdu, (cp.LL_FEATURE_REQ, cp.LL_PERIPHERAL_FEATURE_REQ))
            self.peer_features = pdu.feature_set
            own = self.info.features
            used = (own & pdu.feature_set & 0xFF) | (own & ~0xFF)
            self._send(cp.LL_FEATURE_RSP(feature_set=used))
            return True
        if isinstance(pdu, cp.LL_FEATURE_RSP):
            self.peer_features = pdu.feature_set
            if local is not None and local.kind is Proc.FEATURES:
                link.emit(le.HCI_LE_Read_Remote_Features_Complete_Event(
                    status=0, connection_handle=link.handle, le_features=pdu.feature_set))
                self._finish_local("features")
                self._next_local(now)
            return True
        if isinstance(pdu, cp.LL_VERSION_IND):
            if self.peer_version is not None:
                return True  # only one per connection (5.1.5): ignore a repeat
            self.peer_version = (pdu.vers_nr, pdu.comp_id, pdu.sub_vers_nr)
            if not self.version_sent:
                self._send_version()
            if local is not None and local.kind is Proc.VERSION:
                self._version_complete()
                self._next_local(now)
            return True
        if isinstance(pdu, cp.LL_CONNECTION_UPDATE_IND) and not central:
            return self._rx_update_ind(pdu, now)
        if isinstance(pdu, cp.LL_CHANNEL_MAP_IND) and not central:
            instant = self._instant(pdu.instant)
            if instant is None:
                link.close(INSTANT_PASSED, now)
                return True
            try:
                cmap = ChannelMap(pdu.ch_m & ((1 << 37) - 1)).validate()
            except ValueError:
                link.close(INVALID_LL_PARAMETERS, now)
                return True
            link.schedule_channel_map(instant, cmap)
            return True
        if isinstance(pdu, cp.LL_CONNECTION_PARAM_REQ):
            return self._rx_cpr(pdu, now)
        if isinstance(pdu, cp.LL_CONNECTION_PARAM_RSP) and central:
            if local is not None and local.kind is Proc.CONN_PARAM:
                if not conn_params_valid(pdu.interval_min, pdu.interval_max, pdu.latency, pdu.timeout):
                    self._reject(cp.LL_CONNECTION_PARAM_RSP.OPCODE, INVALID_LL_PARAMETERS)
                    return True
                self.response_deadline = None
                self._send_update(pdu.interval_min, pdu.latency, pdu.timeout)
            return True
        if isinstance(pdu, (cp.LL_LENGTH_REQ, cp.LL_LENGTH_RSP)):
            if not self._peer_lengths(pdu):
                if isinstance(pdu, cp.LL_LENGTH_REQ):
                    self._reject(pdu.OPCODE, INVALID_LL_PARAMETERS)
                return True
            if isinstance(pdu, cp.LL_LENGTH_REQ):
                le_ = self.lengths
                self._send(cp.LL_LENGTH_RSP(max_rx_octets=le_.max_rx_octets, max_rx_time=le_.max_rx_time,
                                            max_tx_octets=le_.max_tx_octets, max_tx_time=le_.max_tx_time))
            self._effective_check()
            if isinstance(pdu, cp.LL_LENGTH_RSP) and local is not None and local.kind is Proc.DATA_LENGTH:
                self._finish_local("dle")
                self._next_local(now)
            return True
        if isinstance(pdu, cp.LL_PHY_REQ):
            return self._rx_phy_req(pdu, now)
        if isinstance(pdu, cp.LL_PHY_RSP) and central:
            if local is not None and local.kind is Proc.PHY:
                self.response_deadline = None
                self._send_phy_update(self.tx_phy_pref & pdu.rx_phys, pdu.tx_phys & self.rx_phy_pref, now)
            return True
        if isinstance(pdu, cp.LL_PHY_UPDATE_IND) and not central:
            return self._rx_phy_update(pdu, now)
        if isinstance(pdu, cp.LL_PING_REQ):
            self._send(cp.LL_PING_RSP())
            return True
        if isinstance(pdu, cp.LL_PING_RSP):
            if local is not None and local.kind is Proc.PING:
                self._finish_local("ping")
                self._next_local(now)
            return True
        if isinstance(pdu, cp.LL_MIN_USED_CHANNELS_IND) and central:
            if link.channel_map.count < pdu.min_used_channels and not self.busy_with(Proc.CHANNEL_MAP):
                self.request(Proc.CHANNEL_MAP, now, channel_map=ChannelMap.all_channels())
            return True
        if isinstance(pdu, _UNSUPPORTED):
            return False
        return False

    # -- connection update / parameters request -----------------------------------------
    def _rx_update_ind(self, pdu: cp.LL_CONNECTION_UPDATE_IND, now: int) -> bool:
        link = self.link
        instant = self._instant(pdu.instant)
        if instant is None:
            link.close(INSTANT_PASSED, now)
            return True
        if not conn_params_valid(pdu.interval, pdu.interval, pdu.latency, pdu.timeout) or not (
            1 <= pdu.win_size <= min(8, pdu.interval - 1) and pdu.win_offset <= pdu.interval
        ):
            link.close(INVALID_LL_PARAMETERS, now)
            return True
        link.schedule_update(instant, pdu.win_size, pdu.win_offset, pdu.interval, pdu.latency, pdu.timeout)
        local = self.local
        if local is not None and local.kind is Proc.CONN_PARAM:
            self.response_deadline = None  # the answer to our request: wait for the instant
        return True

    def _collision(self, incoming: Proc) -> int | None:
        """On the Central: the error for a peer procedure colliding with ours, if any."""
        local = self.local
        if local is None or local.kind not in INSTANT_PROCS:
            if self.remote_instant or self.remote_cpr is not None:
                return DIFFERENT_TRANSACTION_COLLISION
            return None
        same = local.kind is incoming or {local.kind, incoming} <= {Proc.CONN_UPDATE, Proc.CONN_PARAM}
        return LL_PROCEDURE_COLLISION if same else DIFFERENT_TRANSACTION_COLLISION

    def _rx_cpr(self, pdu: cp.LL_CONNECTION_PARAM_REQ, now: int) -> bool:
        link = self.link
        opcode = pdu.OPCODE
        if not conn_params_valid(pdu.interval_min, pdu.interval_max, pdu.latency, pdu.timeout):
            self._reject(opcode, INVALID_LL_PARAMETERS)
            return True
        if link.is_central:
            err = self._collision(Proc.CONN_PARAM)
            if err is not None:
                self._reject(opcode, err)
                return True
        if self.remote_cpr is not None:
            self._reject(opcode, LL_PROCEDURE_COLLISION)
            return True
        if not link.le_event_enabled(REMOTE_CPR_SUBEVENT):
            self._reject(opcode, UNSUPPORTED_REMOTE_FEATURE)
            return True
        self.remote_cpr = pdu
        link.emit(le.HCI_LE_Remote_Connection_Parameter_Request_Event(
            connection_handle=link.handle, interval_min=pdu.interval_min, interval_max=pdu.interval_max,
            max_latency=pdu.latency, timeout=pdu.timeout))
        return True

    def cpr_reply(self, interval_min: int, interval_max: int, latency: int, timeout: int, now: int) -> bool:
        """HCI_LE_Remote_Connection_Parameter_Request_Reply; False if none is pending."""
        req = self.remote_cpr
        if req is None:
            return False
        self.remote_cpr = None
        if self.link.is_central:
            self.remote_instant = True
            self._send_update(interval_min, latency, timeout)
        else:
            self._send(cp.LL_CONNECTION_PARAM_RSP(
                interval_min=interval_min, interval_max=interval_max, latency=latency, timeout=timeout,
                preferred_periodicity=0, reference_conn_event_count=req.reference_conn_event_count,
                offset0=0xFFFF, offset1=0xFFFF, offset2=0xFFFF, offset3=0xFFFF, offset4=0xFFFF,
                offset5=0xFFFF))
        return True

    def cpr_negative_reply(self, reason: int, now: int) -> bool:
        if self.remote_cpr is None:
            return False
        self.remote_cpr = None
        self._reject(cp.LL_CONNECTION_PARAM_REQ.OPCODE, reason)
        return True

    # -- PHY update -----------------------------------------------------------------------
    def _rx_phy_req(self, pdu: cp.LL_PHY_REQ, now: int) -> bool:
        link = self.link
        if link.is_central:
            err = self._collision(Proc.PHY)
            if err is not None:
                self._reject(pdu.OPCODE, err)
                return True
            self.remote_instant = True
            self._send_phy_update(self.tx_phy_pref & pdu.rx_phys, pdu.tx_phys & self.rx_phy_pref, now)
        else:
            self._send(cp.LL_PHY_RSP(tx_phys=self.tx_phy_pref, rx_phys=self.rx_phy_pref))
        return True

    def _send_phy_update(self, c_to_p_mask: int, p_to_c_mask: int, now: int) -> None:
        """The Central picks the PHYs and sends LL_PHY_UPDATE_IND (5.1.10)."""
        link = self.link
        c_to_p = choose_phy(c_to_p_mask)
        p_to_c = choose_phy(p_to_c_mask)
        if c_to_p == ll_phy_bit(link.tx_phy):
            c_to_p = 0
        if p_to_c == ll_phy_bit(link.rx_phy):
            p_to_c = 0
        if not c_to_p and not p_to_c:
            self._send(cp.LL_PHY_UPDATE_IND(phy_c_to_p=0, phy_p_to_c=0, instant=0))
            local = self.local
            self.remote_instant = False
            if local is not None and local.kind is Proc.PHY:
                self._phy_complete(SUCCESS)
                self._finish_local("phy")
                self._next_local(now)
            return
        coded = self.coded_option

        def build(counter: int) -> cp.ControlPdu:
            instant = counter + self.link.latency + INSTANT_MARGIN
            self.link.schedule_phy(instant, phy_from_bit(c_to_p, coded) if c_to_p else None,
                                   phy_from_bit(p_to_c, coded) if p_to_c else None)
            return cp.LL_PHY_UPDATE_IND(phy_c_to_p=c_to_p, phy_p_to_c=p_to_c, instant=instant & 0xFFFF)

        link.send_control(build)

    def _rx_phy_update(self, pdu: cp.LL_PHY_UPDATE_IND, now: int) -> bool:
        link = self.link
        local = self.local
        valid = {0, 1, 2, 4}
        if pdu.phy_c_to_p not in valid or pdu.phy_p_to_c not in valid:
            link.close(INVALID_LL_PARAMETERS, now)
            return True
        if not pdu.phy_c_to_p and not pdu.phy_p_to_c:
            if local is not None and local.kind is Proc.PHY:
                self._phy_complete(SUCCESS)
                self._finish_local("phy")
                self._next_local(now)
            return True
        instant = self._instant(pdu.instant)
        if instant is None:
            link.close(INSTANT_PASSED, now)
            return True
        coded = self.coded_option
        # The Peripheral receives on the Central's transmit PHY and vice versa.
        link.schedule_phy(instant, phy_from_bit(pdu.phy_c_to_p, coded) if pdu.phy_c_to_p else None,
                          phy_from_bit(pdu.phy_p_to_c, coded) if pdu.phy_p_to_c else None)
        if local is not None and local.kind is Proc.PHY:
            self.response_deadline = None
        return True

    # -- failures ---------------------------------------------------------------------------
    def _on_unknown_rsp(self, opcode: int, now: int) -> None:
        local = self.local
        if local is None:
            return
        kind = local.kind
        if opcode in (cp.LL_FEATURE_REQ.OPCODE, cp.LL_PERIPHERAL_FEATURE_REQ.OPCODE) and kind is Proc.FEATURES:
            self.link.emit(le.HCI_LE_Read_Remote_Features_Complete_Event(
                status=UNSUPPORTED_REMOTE_FEATURE, connection_handle=self.link.handle, le_features=0))
        elif opcode == cp.LL_CONNECTION_PARAM_REQ.OPCODE and kind is Proc.CONN_PARAM:
            self._note_unsupported(int(F.CONNECTION_PARAMETERS_REQUEST_PROCEDURE))
            self._cpr_unsupported(now)
            return
        elif opcode == cp.LL_LENGTH_REQ.OPCODE and kind is Proc.DATA_LENGTH:
            self._note_unsupported(int(F.LE_DATA_PACKET_LENGTH_EXTENSION))
        elif opcode == cp.LL_PHY_REQ.OPCODE and kind is Proc.PHY:
            self._note_unsupported(int(F.LE_2M_PHY | F.LE_CODED_PHY))
            self._phy_complete(UNSUPPORTED_REMOTE_FEATURE)
        elif opcode == cp.LL_PING_REQ.OPCODE and kind is Proc.PING:
            self._note_unsupported(int(F.LE_PING))
        elif opcode in (cp.LL_ENC_REQ.OPCODE, cp.LL_PAUSE_ENC_REQ.OPCODE) and kind is Proc.ENCRYPTION:
            self._note_unsupported(int(F.LE_ENCRYPTION))
            self._enc_rejected(UNSUPPORTED_REMOTE_FEATURE)
            self._next_local(now)
            return
        else:
            return
        self._finish_local(kind.value)
        self._next_local(now)

    def _note_unsupported(self, feature: int) -> None:
        known = self.peer_features if self.peer_features is not None else self.info.features
        self.peer_features = known & ~feature

    def _on_reject(self, opcode: int | None, error: int, now: int) -> None:
        local = self.local
        if local is None:
            return
        kind = local.kind
        if kind is Proc.ENCRYPTION and opcode in (None, cp.LL_ENC_REQ.OPCODE, cp.LL_PAUSE_ENC_REQ.OPCODE):
            self._enc_rejected(error)
            self._next_local(now)
            return
        if kind is Proc.CONN_PARAM and opcode in (None, cp.LL_CONNECTION_PARAM_REQ.OPCODE,
                                                   cp.LL_CONNECTION_PARAM_RSP.OPCODE):
            if self.link.is_central and error == UNSUPPORTED_REMOTE_FEATURE:
                self._cpr_unsupported(now)
                return
            self._update_complete(error, self.link)
        elif kind is Proc.PHY and opcode in (None, cp.LL_PHY_REQ.OPCODE):
            self._phy_complete(error)
        elif kind is Proc.DATA_LENGTH and opcode in (None, cp.LL_LENGTH_REQ.OPCODE):
            pass
        else:
            return
        self._finish_local(kind.value)
        self._next_local(now)

    # -- connection lifetime ---------------------------------------------------------------
    def link_closed(self) -> None:
        """The link is gone: nothing more happens (pending host requests die with it)."""
        self.pending.clear()
        self.local = None
        self.response_deadline = None
        self.terminating = True

    def request_airtime_ns(self, phy: Phy) -> int:
        """Airtime of the longest control PDU (used by the link to budget events)."""
        return airtime_ns(phy, 2 + 1 + 34) + US


__all__ = [
    "IMPLEMENTED_FEATURES",
    "INSTANT_PROCS",
    "PROCEDURE_RESPONSE_TIMEOUT_NS",
    "ControlProcedures",
    "Lengths",
    "Local",
    "LocalInfo",
    "Proc",
    "choose_phy",
    "conn_params_valid",
    "hci_phy",
    "ll_phy_bit",
    "phy_from_bit",
]
