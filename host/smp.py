"""The Security Manager of one LE connection (Core Specification Vol 3 Part H 2.3, 3).

Theory of operation
-------------------
:class:`SmpSession` is a sans-IO state object for the SMP fixed channel (CID 0x0006) of
one connection. Inputs: SMP PDUs (``receive(pdu, now)``), the controller's encryption
events as the host sees them (``on_ltk_request``, ``on_encryption_change``), API calls
(``pair``, ``request_security``, ``encrypt``, the user's answers) and
``handle_timer(now)``. Outputs: PDUs through the ``send`` callable, and calls on an
:class:`~host.smp_types.SmpDelegate` (``start_encryption``, user interaction,
``on_pairing_complete``); :meth:`SmpSession.get_timer` is the Security Manager Timer.

A pairing runs in three phases (2.1):

1. Feature exchange (:attr:`SmpState.WAIT_PAIRING_RESPONSE`): the central's Pairing
   Request, the peripheral's Pairing Response; key size negotiation (7..16, a
   configurable minimum, else Encryption Key Size 0x06), LE Secure Connections when both
   set SC, the association model from the IO capability matrix
   (:func:`~host.smp_types.choose_association_model`), MITM and bonding flags, and the
   keys each side will distribute.
2. :attr:`SmpState.PHASE2`: an engine (:mod:`host.smp_legacy` or :mod:`host.smp_sc`)
   produces the STK or the LTK; then :attr:`SmpState.WAIT_ENCRYPTION`: the central asks
   its host to encrypt with it (EDIV = Rand = 0), the peripheral answers the LTK
   request with it.
3. :attr:`SmpState.KEY_DISTRIBUTION`, on the encrypted link: the responder sends its
   keys, then the initiator (3.6.1): LTK + EDIV/Rand (legacy only), IRK + identity
   address, CSRK (:class:`~host.smp_keys.KeyDistributionPhase`). The pairing
   completes when the last expected key has arrived and this side's own keys have left
   the host and the controller (:meth:`SmpDelegate.pdus_in_transit`, re-checked on
   :meth:`SmpSession.on_packets_completed`): an application that disconnects when it is
   told the pairing is complete must not cut the peer off from keys still queued. With
   bonding on both sides the keys then go to the :class:`~host.bonds.BondStore` as a
   :class:`~host.bonds.Bond`; a link lost before that stores nothing.

``pair(now, bonding=...)`` / ``request_security(now, bonding=...)`` override
:attr:`~host.smp_types.SmpConfig.bonding` for one procedure: without bonding the AuthReq
carries Bonding_Flags 00 and neither side distributes keys (both Key Distribution fields
0), so the link is encrypted with the STK/LTK and nothing is stored (3.5.1, 3.6.1).

With :attr:`~host.smp_types.SmpConfig.confirm_just_works`, a pairing that chose Just
Works waits in :attr:`SmpState.WAIT_CONSENT` (before the responder's Pairing Response
or the initiator's first Phase 2 PDU) for :meth:`SmpSession.just_works_reply`.

Which PDU each state accepts is the table :data:`_TABLE` (plus the engine's own table
in Phase 2); any other PDU ends the pairing with Unspecified Reason, a PDU the role
never receives with Command Not Supported, a malformed one with Invalid Parameters.
With no procedure running, unexpected PDUs are dropped (late PDUs of an ended pairing
must not start an echo of Pairing Failed).
The Security Manager Timer (3.4) runs from a Pairing/Security Request and restarts on
every PDU sent; after 30 s the procedure fails and the session enters
:attr:`SmpState.TIMED_OUT`, where it neither sends nor processes SMP PDUs until a new
connection (a new session). Failed authentications feed a shared
:class:`~host.smp_types.PairingAttemptGuard` (repeated attempts, 2.3.6).

On reconnection the central encrypts from its bond (:meth:`SmpSession.encrypt`, or in
answer to a Security Request) and the peripheral finds the key by EDIV/Rand (legacy) or
by the peer's address (Secure Connections) in :meth:`SmpSession.on_ltk_request`.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from typing import Final, Literal

from host.bonds import Bond, BondStore, LongTermKey
from host.smp_keys import KEY_CODES, KeyDistributionPhase, mask_key
from host.smp_legacy import LegacyPhase2
from host.smp_pdu import (
    SMP_MAX_ENCRYPTION_KEY_SIZE,
    SMP_MIN_ENCRYPTION_KEY_SIZE,
    AuthReq,
    KeyDistribution,
    KeypressNotificationType,
    OobDataFlag,
    PairingFailedReason,
    SMP_Pairing_Failed,
    SMP_Pairing_Keypress_Notification,
    SMP_Pairing_Request,
    SMP_Pairing_Response,
    SMP_Security_Request,
    SmpCode,
    SmpDecodeError,
    SmpPdu,
    decode_smp,
)
from host.smp_sc import ScKeyPair, ScPhase2, generate_sc_oob_data
from host.smp_types import (
    AssociationModel,
    LinkSecurity,
    PairingAbort,
    PairingAttemptGuard,
    PairingContext,
    PairingResult,
    Phase2,
    ScOobData,
    SmpConfig,
    SmpDelegate,
    SmpLocalError,
    choose_association_model,
)
from linklayer.hci.address import Address, AddressKind
from phy.types import Rng

__all__ = ["SmpSession", "SmpState", "mask_key"]

_R = PairingFailedReason
_C = SmpCode
_AUTH_FAILURES: Final = frozenset({_R.CONFIRM_VALUE_FAILED, _R.DHKEY_CHECK_FAILED})
#: Codes only a central receives / only a peripheral receives (else Command Not Supported).
_CENTRAL_RECEIVES: Final = frozenset({_C.PAIRING_RESPONSE, _C.SECURITY_REQUEST})
_PERIPHERAL_RECEIVES: Final = frozenset({_C.PAIRING_REQUEST})


class SmpState(enum.Enum):
    """Where the Security Manager of a connection stands."""

    IDLE = "no pairing in progress"
    WAIT_PAIRING_RESPONSE = "central sent Pairing Request"
    PHASE2 = "STK/LTK generation"
    WAIT_ENCRYPTION = "link being encrypted with the STK/LTK"
    KEY_DISTRIBUTION = "transport-specific key distribution"
    WAIT_CONSENT = "Just Works chosen: waiting for the user to accept"
    TIMED_OUT = "SMP timed out: no further SMP on this link"


class SmpSession:
    """The Security Manager of one connection (see the module docstring).

    ``local_address``/``peer_address`` are the addresses the connection was made with
    (the initiator/responder addresses of c1, f5, f6). ``bonds`` (optional) stores
    bonds and answers reconnections; ``guard`` is the device's repeated-attempts state
    (one per device; a private one if omitted); ``key_pair`` the device's P-256 pair
    (generated from ``rng`` when first needed if omitted).
    """

    def __init__(
        self,
        handle: int,
        role: Literal["central", "peripheral"],
        send: Callable[[bytes], None],
        config: SmpConfig,
        rng: Rng,
        *,
        local_address: Address,
        peer_address: Address,
        delegate: SmpDelegate | None = None,
        bonds: BondStore | None = None,
        guard: PairingAttemptGuard | None = None,
        key_pair: ScKeyPair | None = None,
    ) -> None:
        if role not in ("central", "peripheral"):
            raise SmpLocalError(f"role is 'central' or 'peripheral', not {role!r}")
        self.handle = handle
        self.role = role
        self.config = config
        self.local_address = local_address
        self.peer_address = peer_address
        self.delegate = delegate if delegate is not None else SmpDelegate()
        self.bonds = bonds
        self.guard = guard if guard is not None else PairingAttemptGuard()
        self._send_bytes = send
        self._rng = rng
        self._key_pair = ScKeyPair.debug() if config.use_debug_keys else key_pair
        self._legacy_oob_tk: bytes | None = None
        self._local_sc_oob: ScOobData | None = None
        self._peer_sc_oob: ScOobData | None = None
        self.state = SmpState.IDLE
        self._now = 0
        self._deadline: int | None = None
        self._active = False  # a pairing or Security Request procedure is running
        self._ctx: PairingContext | None = None
        self._engine: Phase2 | None = None
        self._key: bytes | None = None  # masked STK/LTK of the pairing
        self._phase3: KeyDistributionPhase | None = None
        self._pending_ltk: LongTermKey | None = None
        self._pair_if_encryption_fails = False
        self._security = LinkSecurity()
        self._request: SMP_Pairing_Request | None = None
        self._bonding_override: bool | None = None  # this procedure's bonding, if not config's
        self._delivering = False  # Phase 3 done, this side's keys still in transit
        self._consent: tuple[SMP_Pairing_Request, SMP_Pairing_Response, int, bool] | None = None

    # -- properties ---------------------------------------------------------------------

    @property
    def is_central(self) -> bool:
        return self.role == "central"

    @property
    def security(self) -> LinkSecurity:
        """What the link's encryption is worth (for GATT permission checks)."""
        return self._security

    @property
    def pairing_in_progress(self) -> bool:
        return self.state not in (SmpState.IDLE, SmpState.TIMED_OUT)

    @property
    def waiting_for_passkey(self) -> bool:
        return self._engine is not None and self._engine.waiting_for_passkey

    @property
    def waiting_for_confirmation(self) -> bool:
        return self._engine is not None and self._engine.waiting_for_confirmation

    @property
    def waiting_for_just_works(self) -> bool:
        """Whether a Just Works pairing waits for the user's consent."""
        return self.state is SmpState.WAIT_CONSENT

    # -- timer --------------------------------------------------------------------------

    def get_timer(self) -> int | None:
        """The Security Manager Timer's deadline (3.4), if running."""
        return self._deadline

    def handle_timer(self, now: int) -> None:
        """Fail the procedure if the Security Manager Timer expired (3.4): no further
        SMP PDU is sent or processed on this link."""
        self._now = now
        if self._deadline is None or now < self._deadline:
            return
        was_active = self._active
        result = self._failure_result(None, remote=False, timed_out=True)
        self._reset()
        self.state = SmpState.TIMED_OUT
        if was_active:
            self.delegate.on_pairing_complete(self.handle, result)

    def _restart_timer(self) -> None:
        self._deadline = self._now + self.config.timeout_ns

    # -- sending ------------------------------------------------------------------------

    def _send(self, pdu: SmpPdu) -> None:
        if self.state is SmpState.TIMED_OUT:  # pragma: no cover - guarded by callers
            return
        self._send_bytes(pdu.to_bytes())
        if self._active:
            self._restart_timer()

    # -- receiving ----------------------------------------------------------------------

    def receive(self, pdu: bytes, now: int) -> None:
        """One SMP PDU from the peer (the payload of a frame on CID 0x0006)."""
        self._now = now
        if self.state is SmpState.TIMED_OUT:
            return
        try:
            try:
                message = decode_smp(pdu)
            except SmpDecodeError as exc:
                raise PairingAbort(exc.reason, str(exc)) from None
            self._dispatch(message, now)
        except PairingAbort as abort:
            self._fail(abort.reason)

    def _dispatch(self, message: SmpPdu, now: int) -> None:
        code = message.CODE
        if (code in _CENTRAL_RECEIVES and not self.is_central) or (
            code in _PERIPHERAL_RECEIVES and self.is_central
        ):
            raise PairingAbort(_R.COMMAND_NOT_SUPPORTED, f"{self.role} does not take code {code}")
        handler = _TABLE[self.state].get(code)
        if handler is None and self._engine is not None and self.state is SmpState.PHASE2:
            if self._engine.accepts(code):
                handler = SmpSession._on_phase2
        if handler is None and self.state is SmpState.IDLE and not self._active:
            return  # nothing is being paired: a late PDU of an ended pairing is dropped
        if handler is None:
            raise PairingAbort(_R.UNSPECIFIED_REASON, f"{type(message).__name__} in {self.state.name}")
        handler(self, message, now)

    def _on_pairing_failed(self, message: SmpPdu, now: int) -> None:
        assert isinstance(message, SMP_Pairing_Failed)
        if self._active:
            self._fail(message.reason, send=False, remote=True)

    def _on_security_request(self, message: SmpPdu, now: int) -> None:
        assert isinstance(message, SMP_Security_Request)
        if self.state is not SmpState.IDLE:
            return  # already pairing: ignore (3.6.7)
        self.delegate.on_security_request(self.handle, message.auth_req)
        if not self.guard.allowed(self.peer_address, now):
            self._send_bytes(SMP_Pairing_Failed(_R.REPEATED_ATTEMPTS).to_bytes())
            return
        if not self.config.respond_to_security_request:
            return
        bond = self.bonds.find(self.peer_address) if self.bonds is not None else None
        ltk = bond.peer_ltk if bond is not None else None
        if ltk is not None and self._good_enough(ltk, message.auth_req):
            self._start_bond_encryption(ltk)
            self._pair_if_encryption_fails = True
        else:
            self.pair(now)

    def _good_enough(self, ltk: LongTermKey, auth_req: AuthReq) -> bool:
        if AuthReq.MITM & auth_req and not ltk.authenticated:
            return False
        wants_sc = bool(AuthReq.SC & auth_req) and self.config.secure_connections
        return not (wants_sc and not ltk.secure_connections)

    # -- API ----------------------------------------------------------------------------

    def _check_usable(self) -> None:
        if self.state is SmpState.TIMED_OUT:
            raise SmpLocalError("SMP timed out on this link; a new connection is needed")
        if self.pairing_in_progress:
            raise SmpLocalError("a pairing is already in progress")

    def set_oob_data(
        self,
        *,
        legacy_tk: bytes | None = None,
        peer_sc: ScOobData | None = None,
        local_sc: ScOobData | None = None,
    ) -> None:
        """OOB data for the next pairing: the legacy TK (16 octets, MSB-first), the
        peer's LE SC OOB data, and/or this device's (from :meth:`local_sc_oob_data` or
        made with the same key pair before the connection). Having the legacy TK or the
        peer's SC data sets the OOB data flag."""
        if legacy_tk is not None and len(legacy_tk) != 16:
            raise SmpLocalError("the OOB TK is 16 octets")
        self._legacy_oob_tk = legacy_tk
        self._peer_sc_oob = peer_sc
        if local_sc is not None:
            self._local_sc_oob = local_sc

    def local_sc_oob_data(self) -> ScOobData:
        """This device's LE SC OOB data (r, C) for the peer (2.3.5.6.4)."""
        if self._local_sc_oob is None:
            self._local_sc_oob = generate_sc_oob_data(self._keys(), self.local_address, self._rng)
        return self._local_sc_oob

    def pair(self, now: int, bonding: bool | None = None) -> None:
        """Central: start pairing with a Pairing Request (3.5.1). If the peer is still
        in its repeated-attempts waiting interval, the pairing fails at once with
        Repeated Attempts (reported, nothing sent). ``bonding`` overrides
        :attr:`SmpConfig.bonding` for this pairing: False sends Bonding_Flags 00 (No
        Bonding) with no keys to distribute, and nothing is stored (3.5.1, 3.6.1)."""
        self._now = now
        if not self.is_central:
            raise SmpLocalError("only the central pairs; a peripheral sends request_security()")
        self._check_usable()
        self._active = True
        self._bonding_override = bonding
        if not self.guard.allowed(self.peer_address, now):
            self._fail(_R.REPEATED_ATTEMPTS, send=False)
            return
        config = self.config
        local, peer = self._distribution(config.local_keys, config.peer_keys)
        request = SMP_Pairing_Request(
            config.io_capability, self._oob_flag(), self._auth_req(), config.max_key_size, local, peer
        )
        self._request = request
        self._restart_timer()
        self.state = SmpState.WAIT_PAIRING_RESPONSE
        self._send(request)

    def request_security(self, now: int, bonding: bool | None = None) -> None:
        """Peripheral: ask the central for security with a Security Request (3.6.7).
        ``bonding`` overrides :attr:`SmpConfig.bonding` for the Security Request and the
        pairing that answers it (False: No Bonding in both, no keys distributed)."""
        self._now = now
        if self.is_central:
            raise SmpLocalError("only a peripheral sends a Security Request")
        self._check_usable()
        self._active = True
        self._bonding_override = bonding
        self._restart_timer()
        self._send(SMP_Security_Request(self._auth_req()))

    def encrypt(self, now: int) -> bool:
        """Central: encrypt with the bond's LTK (reconnection, no new pairing). False if
        there is no bond key for this peer."""
        self._now = now
        if not self.is_central:
            raise SmpLocalError("only the central starts encryption")
        if self.pairing_in_progress:
            raise SmpLocalError("a pairing is in progress")
        bond = self.bonds.find(self.peer_address) if self.bonds is not None else None
        if bond is None or bond.peer_ltk is None:
            return False
        self._start_bond_encryption(bond.peer_ltk)
        return True

    def _start_bond_encryption(self, ltk: LongTermKey) -> None:
        self._pending_ltk = ltk
        self.delegate.start_encryption(self.handle, ltk.key, ltk.ediv, ltk.rand, ltk.key_size)

    def passkey_reply(self, passkey: int | None, now: int) -> None:
        """The user's passkey (``None``: cancelled, Passkey Entry Failed 0x01)."""
        self._now = now
        self._engine_call(lambda engine: engine.passkey_reply(passkey, now))

    def numeric_comparison_reply(self, accept: bool, now: int) -> None:
        """The user's answer to the numeric comparison (No: 0x0C)."""
        self._now = now
        self._engine_call(lambda engine: engine.numeric_comparison_reply(accept, now))

    def send_keypress(self, notification: KeypressNotificationType, now: int) -> None:
        """Send a Keypress Notification (3.5.8) while this device's user types the
        passkey; both devices must have set the Keypress flag."""
        self._now = now
        ctx = self._ctx
        if (
            ctx is None
            or self.state is not SmpState.PHASE2
            or not ctx.keypress
            or ctx.choice.model is not AssociationModel.PASSKEY_ENTRY
            or not ctx.local_inputs
        ):
            raise SmpLocalError("keypress notifications need a Passkey Entry typed here, with keypress")
        self._send(SMP_Pairing_Keypress_Notification(notification))

    def _engine_call(self, call: Callable[[Phase2], None]) -> None:
        if self._engine is None or self.state is not SmpState.PHASE2:
            raise SmpLocalError("no pairing is waiting for the user")
        try:
            call(self._engine)
            self._phase2_progress()
        except PairingAbort as abort:
            self._fail(abort.reason)

    # -- controller events --------------------------------------------------------------

    def on_ltk_request(self, ediv: int, rand: int, now: int | None = None) -> bytes | None:
        """Peripheral: the key for an HCI LE Long Term Key Request (Vol 4 Part E
        7.7.65.5), MSB-first (reverse it with :func:`host.smp_pdu.swap` for
        HCI_LE_Long_Term_Key_Request_Reply), or ``None`` for a negative reply. During a
        pairing it is the STK/LTK just generated (EDIV = Rand = 0); otherwise the bond's
        key, found by EDIV/Rand (legacy) or by the peer's address (Secure Connections)."""
        if now is not None:
            self._now = now
        self._pending_ltk = None
        if self.state is SmpState.WAIT_ENCRYPTION and not self.is_central:
            return self._key if ediv == 0 and rand == 0 else None
        if self.pairing_in_progress or self.bonds is None:
            return None
        if ediv == 0 and rand == 0:
            bond = self.bonds.find(self.peer_address)
            ltk = bond.local_ltk if bond is not None else None
            if ltk is None or not ltk.secure_connections:
                return None
        else:
            bond = self.bonds.find_by_ediv_rand(ediv, rand)
            ltk = bond.local_ltk if bond is not None else None
            if ltk is None:
                return None
        self._pending_ltk = ltk
        return ltk.key

    def on_encryption_change(self, status: int, enabled: bool, now: int) -> None:
        """HCI Encryption Change (or Encryption Key Refresh Complete, ``enabled`` True)
        for this connection (Vol 4 Part E 7.7.8, 7.7.39)."""
        self._now = now
        pending, self._pending_ltk = self._pending_ltk, None
        if self.state is SmpState.WAIT_ENCRYPTION:
            if status != 0 or not enabled:
                self._fail(_R.UNSPECIFIED_REASON)
                return
            ctx = self._ctx
            assert ctx is not None
            self._security = LinkSecurity(
                True, ctx.choice.authenticated, ctx.key_size, ctx.secure_connections, False
            )
            self._start_key_distribution()
            return
        fallback, self._pair_if_encryption_fails = self._pair_if_encryption_fails, False
        if status != 0:
            self._security = LinkSecurity()
            if fallback and self.is_central and self.state is SmpState.IDLE:
                self.pair(now)
            return
        if not enabled:
            self._security = LinkSecurity()
            return
        if pending is None:
            self._security = dataclasses.replace(self._security, encrypted=True)
            return
        self._security = LinkSecurity(
            True, pending.authenticated, pending.key_size, pending.secure_connections, True
        )
        if self._active and self.state is SmpState.IDLE:
            self._reset()
            self.delegate.on_pairing_complete(
                self.handle,
                PairingResult(
                    True, secure_connections=pending.secure_connections,
                    authenticated=pending.authenticated, key_size=pending.key_size,
                    bonded=True, reused_keys=True,
                ),
            )

    # -- Phase 1 ------------------------------------------------------------------------

    def _identity_address(self) -> Address | None:
        if self.config.identity_address is not None:
            return self.config.identity_address
        kind = self.local_address.kind
        if kind in (AddressKind.PUBLIC, AddressKind.RANDOM_STATIC):
            return self.local_address
        return None

    def _bonding(self) -> bool:
        """Whether this device asks for bonding in the running procedure."""
        override = self._bonding_override
        return self.config.bonding if override is None else override

    def _auth_req(self) -> AuthReq:
        """The AuthReq this device sends now (Bonding_Flags from :meth:`_bonding`)."""
        return self.config.auth_req_for(self._bonding())

    def _distribution(
        self, local: KeyDistribution, peer: KeyDistribution
    ) -> tuple[KeyDistribution, KeyDistribution]:
        """(keys this device sends, keys it takes), limited to what it can do. Without
        bonding none: the STK/LTK of Phase 2 encrypts this link and nothing is kept, so
        the Initiator/Responder Key Distribution fields are 0 (3.5.1, 3.6.1)."""
        if not self._bonding():
            return KeyDistribution(0), KeyDistribution(0)
        local &= ~KeyDistribution.LINK_KEY
        peer &= ~KeyDistribution.LINK_KEY
        if self._identity_address() is None:
            local &= ~KeyDistribution.ID_KEY
        return local, peer

    def _oob_flag(self) -> OobDataFlag:
        has = self._legacy_oob_tk is not None or self._peer_sc_oob is not None
        return OobDataFlag.PRESENT if has else OobDataFlag.NOT_PRESENT

    def _check_key_size(self, size: int) -> None:
        if not SMP_MIN_ENCRYPTION_KEY_SIZE <= size <= SMP_MAX_ENCRYPTION_KEY_SIZE:
            raise PairingAbort(_R.INVALID_PARAMETERS, f"maximum key size {size}")

    def _on_pairing_request(self, message: SmpPdu, now: int) -> None:
        assert isinstance(message, SMP_Pairing_Request)
        self._active = True
        self._restart_timer()
        config = self.config
        if not self.guard.allowed(self.peer_address, now):
            raise PairingAbort(_R.REPEATED_ATTEMPTS)
        if not config.pairable:
            raise PairingAbort(_R.PAIRING_NOT_SUPPORTED)
        self._check_key_size(message.max_encryption_key_size)
        key_size = min(message.max_encryption_key_size, config.max_key_size)
        local, peer = self._distribution(config.local_keys, config.peer_keys)
        response = SMP_Pairing_Response(
            config.io_capability, self._oob_flag(), self._auth_req(), config.max_key_size,
            message.initiator_key_distribution & peer, message.responder_key_distribution & local,
        )
        self._request = message
        self._begin_phase2(message, response, key_size, send_response=True)

    def _on_pairing_response(self, message: SmpPdu, now: int) -> None:
        assert isinstance(message, SMP_Pairing_Response)
        request = self._request
        assert request is not None
        self._check_key_size(message.max_encryption_key_size)
        if message.initiator_key_distribution & ~request.initiator_key_distribution or (
            message.responder_key_distribution & ~request.responder_key_distribution
        ):
            raise PairingAbort(_R.INVALID_PARAMETERS, "response distributes keys not offered")
        key_size = min(request.max_encryption_key_size, message.max_encryption_key_size)
        self._begin_phase2(request, message, key_size, send_response=False)

    def _begin_phase2(
        self,
        request: SMP_Pairing_Request,
        response: SMP_Pairing_Response,
        key_size: int,
        *,
        send_response: bool,
    ) -> None:
        config = self.config
        if key_size < config.min_key_size or (config.sc_only and key_size < SMP_MAX_ENCRYPTION_KEY_SIZE):
            raise PairingAbort(_R.ENCRYPTION_KEY_SIZE, f"key size {key_size}")
        sc = bool(AuthReq.SC & request.auth_req and AuthReq.SC & response.auth_req)
        choice = choose_association_model(request, response, sc)
        if config.sc_only and (not sc or not choice.authenticated):
            raise PairingAbort(_R.AUTHENTICATION_REQUIREMENTS, "Secure Connections Only mode")
        if config.mitm and config.enforce_mitm and not choice.authenticated:
            raise PairingAbort(_R.AUTHENTICATION_REQUIREMENTS, "MITM required, Just Works chosen")
        if config.confirm_just_works and not choice.authenticated and choice.model is AssociationModel.JUST_WORKS:
            self._consent = (request, response, key_size, send_response)
            self.state = SmpState.WAIT_CONSENT
            self.delegate.on_just_works_request(self.handle)
            return
        self._start_phase2(request, response, key_size, send_response=send_response)

    def just_works_reply(self, accept: bool, now: int) -> None:
        """The user's answer to :meth:`SmpDelegate.on_just_works_request`: go on with
        the pairing, or end it with Pairing Not Supported (0x05)."""
        self._now = now
        if self.state is not SmpState.WAIT_CONSENT or self._consent is None:
            raise SmpLocalError("no Just Works pairing is waiting for the user")
        request, response, key_size, send_response = self._consent
        self._consent = None
        if not accept:
            self._fail(_R.PAIRING_NOT_SUPPORTED)
            return
        try:
            self._start_phase2(request, response, key_size, send_response=send_response)
        except PairingAbort as abort:
            self._fail(abort.reason)

    def _start_phase2(
        self,
        request: SMP_Pairing_Request,
        response: SMP_Pairing_Response,
        key_size: int,
        *,
        send_response: bool,
    ) -> None:
        config = self.config
        sc = bool(AuthReq.SC & request.auth_req and AuthReq.SC & response.auth_req)
        choice = choose_association_model(request, response, sc)
        if send_response:
            self._send(response)
        central, peripheral = (
            (self.local_address, self.peer_address) if self.is_central
            else (self.peer_address, self.local_address)
        )
        ctx = PairingContext(
            handle=self.handle, initiator=self.is_central, request=request, response=response,
            secure_connections=sc, choice=choice, key_size=key_size,
            keypress=bool(AuthReq.KEYPRESS & request.auth_req and AuthReq.KEYPRESS & response.auth_req),
            initiator_address=central, responder_address=peripheral, rng=self._rng,
            delegate=self.delegate, send=self._send, fixed_passkey=config.passkey,
            application_passkey=config.application_passkey,
        )
        self._ctx = ctx
        self._phase3 = None
        if sc:
            self._engine = ScPhase2(
                ctx, self._keys(), allow_debug_keys=config.allow_debug_keys,
                local_oob=self._local_sc_oob, peer_oob=self._peer_sc_oob,
            )
        else:
            self._engine = LegacyPhase2(ctx, self._legacy_oob_tk)
        self.state = SmpState.PHASE2
        self._engine.start(self._now)
        self._phase2_progress()

    def _keys(self) -> ScKeyPair:
        if self._key_pair is None:
            self._key_pair = ScKeyPair.generate(self._rng)
        return self._key_pair

    # -- Phase 2 ------------------------------------------------------------------------

    def _on_keypress(self, message: SmpPdu, now: int) -> None:
        """Keypress Notification (3.5.8): accepted during all of Phase 2, passed to the
        delegate when both devices set Keypress and the model is Passkey Entry."""
        assert isinstance(message, SMP_Pairing_Keypress_Notification)
        ctx = self._ctx
        if ctx is not None and ctx.keypress and ctx.choice.model is AssociationModel.PASSKEY_ENTRY:
            self.delegate.on_keypress(self.handle, message.notification_type)

    def _on_phase2(self, message: SmpPdu, now: int) -> None:
        assert self._engine is not None
        self._engine.receive(message, now)
        self._phase2_progress()

    def _phase2_progress(self) -> None:
        engine, ctx = self._engine, self._ctx
        if engine is None or ctx is None or engine.key is None:
            return
        self._key = mask_key(engine.key, ctx.key_size)
        self.state = SmpState.WAIT_ENCRYPTION
        if self.is_central:
            self.delegate.start_encryption(self.handle, self._key, 0, 0, ctx.key_size)

    # -- Phase 3 ------------------------------------------------------------------------

    def _start_key_distribution(self) -> None:
        ctx = self._ctx
        assert ctx is not None
        self._phase3 = KeyDistributionPhase(
            ctx, config=self.config, identity=self._identity_address(), bonds=self.bonds, rng=self._rng,
            send=self._send,
        )
        self.state = SmpState.KEY_DISTRIBUTION
        self._phase3.start()
        self._phase3_progress()

    def _on_key(self, message: SmpPdu, now: int) -> None:
        assert self._phase3 is not None
        if self._delivering:
            raise PairingAbort(_R.UNSPECIFIED_REASON, f"{type(message).__name__} after the last key")
        self._phase3.receive(message)
        self._phase3_progress()

    def _phase3_progress(self) -> None:
        """Complete once every key is exchanged: the peer's all received, and this
        side's own keys delivered. A side whose keys are still in the host's or the
        controller's buffers waits for them (:meth:`on_packets_completed`): a link
        terminated now would lose them (the controller sends LL_TERMINATE_IND ahead of
        queued data), leaving the peer without the keys it expects and so without a
        bond, while this side would report a bond and keep one."""
        phase3 = self._phase3
        if phase3 is None or not phase3.done:
            return
        if phase3.sent_pdus and self.delegate.pdus_in_transit(self.handle):
            self._delivering = True
            return
        self._complete()

    def on_packets_completed(self, now: int) -> None:
        """The controller completed ACL packets (HCI Number_Of_Completed_Packets, Vol 4
        Part E 7.7.19), or anything else that may have emptied this link's buffers: a
        pairing whose last keys were in transit completes once they are delivered."""
        if not self._delivering or self.state is not SmpState.KEY_DISTRIBUTION:
            return
        self._now = now
        if not self.delegate.pdus_in_transit(self.handle):
            self._complete()

    def _complete(self) -> None:
        ctx, phase3 = self._ctx, self._phase3
        assert ctx is not None and self._key is not None and phase3 is not None
        bonding = ctx.request.bonding and ctx.response.bonding
        auth, size, sc = ctx.choice.authenticated, ctx.key_size, ctx.secure_connections
        bond: Bond | None = None
        if bonding:
            bond = phase3.bond(self._key, self.peer_address)
            if self.bonds is not None:
                self.bonds.add(bond)
        self._security = dataclasses.replace(self._security, bonded=bonding)
        self.guard.record_success(self.peer_address)
        result = PairingResult(
            True, model=ctx.choice.model, secure_connections=sc, authenticated=auth,
            key_size=size, bonded=bonding, bond=bond,
        )
        self._reset()
        self.delegate.on_pairing_complete(self.handle, result)

    # -- ending -------------------------------------------------------------------------

    def _failure_result(self, reason: int | None, *, remote: bool, timed_out: bool) -> PairingResult:
        ctx = self._ctx
        return PairingResult(
            False, reason=reason, remote=remote, timed_out=timed_out,
            model=ctx.choice.model if ctx is not None else None,
            secure_connections=ctx.secure_connections if ctx is not None else False,
        )

    def _fail(self, reason: int, *, send: bool = True, remote: bool = False) -> None:
        """End the procedure: send Pairing Failed (unless it came from the peer) and
        report it if a procedure was running."""
        if send:
            self._send(SMP_Pairing_Failed(reason))
        if reason in _AUTH_FAILURES and not remote:
            self.guard.record_failure(self.peer_address, self._now)
        was_active = self._active
        result = self._failure_result(reason, remote=remote, timed_out=False)
        self._reset()
        if was_active:
            self.delegate.on_pairing_complete(self.handle, result)

    def _reset(self) -> None:
        self.state = SmpState.IDLE
        self._deadline = None
        self._active = False
        self._engine = None
        self._ctx = None
        self._key = None
        self._phase3 = None
        self._consent = None
        self._bonding_override = None
        self._delivering = False


_Handler = Callable[[SmpSession, SmpPdu, int], None]
_ALWAYS: Final[dict[int, _Handler]] = {
    _C.PAIRING_FAILED: SmpSession._on_pairing_failed,
    _C.SECURITY_REQUEST: SmpSession._on_security_request,
}

#: ``state -> {code: handler}``: the PDUs each state accepts (Phase 2 adds the engine's).
_TABLE: Final[dict[SmpState, dict[int, _Handler]]] = {
    SmpState.IDLE: {**_ALWAYS, _C.PAIRING_REQUEST: SmpSession._on_pairing_request},
    SmpState.WAIT_PAIRING_RESPONSE: {**_ALWAYS, _C.PAIRING_RESPONSE: SmpSession._on_pairing_response},
    SmpState.PHASE2: {**_ALWAYS, _C.PAIRING_KEYPRESS_NOTIFICATION: SmpSession._on_keypress},
    SmpState.WAIT_ENCRYPTION: dict(_ALWAYS),
    SmpState.KEY_DISTRIBUTION: {**_ALWAYS, **{code: SmpSession._on_key for code in KEY_CODES}},
    SmpState.WAIT_CONSENT: dict(_ALWAYS),
    SmpState.TIMED_OUT: {},
}
