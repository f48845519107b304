"""Shared pieces of the Security Manager: configuration, results, the application
delegate, the association-model matrix and repeated-attempts protection.

Theory of operation
-------------------
:class:`~host.smp.SmpSession` (one per connection) runs Phase 1 (feature exchange) and
Phase 3 (key distribution) itself and hands Phase 2 to an engine:
:class:`~host.smp_legacy.LegacyPhase2` (STK) or :class:`~host.smp_sc.ScPhase2` (LTK).
Both engines subclass :class:`Phase2`: they are driven by the Phase 2 PDUs and by the
user's answers, report a key through :attr:`Phase2.key` when done, and stop the
pairing by raising :class:`PairingAbort` with the Pairing Failed reason to send.

The association model comes from Vol 3 Part H 2.3.5.1: OOB when both devices (legacy)
or either device (LE Secure Connections) set the OOB data flag, Just Works when neither
device sets MITM, otherwise the IO capability tables (Tables 2.7/2.8), encoded in
:data:`IO_CAPABILITY_MATRIX` from the point of view of the initiator and responder.

:class:`PairingAttemptGuard` keeps, per peer, the waiting interval that doubles after
every failed authentication (Vol 3 Part H 2.3.6), shared by the sessions of a device.
Errors: :class:`SmpLocalError` is misuse by the caller (raised);
anything the peer does wrong is answered with Pairing Failed and reported through
:meth:`SmpDelegate.on_pairing_complete`, never raised.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from host.smp_pdu import (
    SMP_MAX_ENCRYPTION_KEY_SIZE,
    SMP_MIN_ENCRYPTION_KEY_SIZE,
    AuthReq,
    IoCapability,
    KeyDistribution,
    KeypressNotificationType,
    OobDataFlag,
    PairingFailedReason,
    SMP_Pairing_Request,
    SMP_Pairing_Response,
    SmpPdu,
)
from linklayer.hci.address import Address
from phy.types import Rng

if TYPE_CHECKING:
    from host.bonds import Bond

__all__ = [
    "IO_CAPABILITY_MATRIX", "SMP_TIMEOUT_NS", "AssociationModel", "LinkSecurity",
    "ModelChoice", "PairingAbort", "PairingAttemptGuard", "PairingContext",
    "PairingResult", "Phase2", "ScOobData", "SmpConfig", "SmpDelegate", "SmpLocalError",
    "choose_association_model", "random_128",
]

#: The Security Manager Timer (Vol 3 Part H 3.4): 30 s.
SMP_TIMEOUT_NS: Final = 30_000_000_000


class SmpLocalError(Exception):
    """The caller used the Security Manager wrongly (wrong role, no pairing waiting for
    that answer, SMP disabled on the link after a timeout...)."""


class PairingAbort(Exception):
    """Raised inside the Security Manager to end a pairing with Pairing Failed."""

    def __init__(self, reason: PairingFailedReason, detail: str = "") -> None:
        self.reason = reason
        super().__init__(f"{reason.name}: {detail}" if detail else reason.name)


def random_128(rng: Rng) -> bytes:
    """A 128-bit random value (nonce, key) from the injected stream, MSB-first."""
    return rng.getrandbits(128).to_bytes(16, "big")


# ---------------------------------------------------------------------------------------
# Association model (Vol 3 Part H 2.3.5.1)
# ---------------------------------------------------------------------------------------


class AssociationModel(enum.Enum):
    """How the devices authenticate each other (Vol 3 Part H 2.3.5.1)."""

    JUST_WORKS = "just works"
    NUMERIC_COMPARISON = "numeric comparison"
    PASSKEY_ENTRY = "passkey entry"
    OOB = "out of band"


@dataclasses.dataclass(frozen=True)
class ModelChoice:
    """The model and, for Passkey Entry, who types the passkey (the other displays
    it; both type in the keyboard-only/keyboard-only case)."""

    model: AssociationModel
    initiator_inputs: bool = False
    responder_inputs: bool = False

    @property
    def authenticated(self) -> bool:
        """Keys from Just Works are unauthenticated (no MITM protection, 2.3.5.1)."""
        return self.model is not AssociationModel.JUST_WORKS


_IO = IoCapability
_JW = ModelChoice(AssociationModel.JUST_WORKS)
_NC = ModelChoice(AssociationModel.NUMERIC_COMPARISON)
_I_IN = ModelChoice(AssociationModel.PASSKEY_ENTRY, initiator_inputs=True)  # R displays
_R_IN = ModelChoice(AssociationModel.PASSKEY_ENTRY, responder_inputs=True)  # I displays
_BOTH = ModelChoice(AssociationModel.PASSKEY_ENTRY, True, True)

#: ``(initiator IO, responder IO) -> (legacy choice, Secure Connections choice)``
#: (Vol 3 Part H 2.3.5.1, Table 2.8).
IO_CAPABILITY_MATRIX: Final[dict[tuple[IoCapability, IoCapability], tuple[ModelChoice, ModelChoice]]] = {
    (_IO.DISPLAY_ONLY, _IO.DISPLAY_ONLY): (_JW, _JW),
    (_IO.DISPLAY_YES_NO, _IO.DISPLAY_ONLY): (_JW, _JW),
    (_IO.KEYBOARD_ONLY, _IO.DISPLAY_ONLY): (_I_IN, _I_IN),
    (_IO.NO_INPUT_NO_OUTPUT, _IO.DISPLAY_ONLY): (_JW, _JW),
    (_IO.KEYBOARD_DISPLAY, _IO.DISPLAY_ONLY): (_I_IN, _I_IN),
    (_IO.DISPLAY_ONLY, _IO.DISPLAY_YES_NO): (_JW, _JW),
    (_IO.DISPLAY_YES_NO, _IO.DISPLAY_YES_NO): (_JW, _NC),
    (_IO.KEYBOARD_ONLY, _IO.DISPLAY_YES_NO): (_I_IN, _I_IN),
    (_IO.NO_INPUT_NO_OUTPUT, _IO.DISPLAY_YES_NO): (_JW, _JW),
    (_IO.KEYBOARD_DISPLAY, _IO.DISPLAY_YES_NO): (_I_IN, _NC),
    (_IO.DISPLAY_ONLY, _IO.KEYBOARD_ONLY): (_R_IN, _R_IN),
    (_IO.DISPLAY_YES_NO, _IO.KEYBOARD_ONLY): (_R_IN, _R_IN),
    (_IO.KEYBOARD_ONLY, _IO.KEYBOARD_ONLY): (_BOTH, _BOTH),
    (_IO.NO_INPUT_NO_OUTPUT, _IO.KEYBOARD_ONLY): (_JW, _JW),
    (_IO.KEYBOARD_DISPLAY, _IO.KEYBOARD_ONLY): (_R_IN, _R_IN),
    **{(io, _IO.NO_INPUT_NO_OUTPUT): (_JW, _JW) for io in _IO},
    (_IO.DISPLAY_ONLY, _IO.KEYBOARD_DISPLAY): (_R_IN, _R_IN),
    (_IO.DISPLAY_YES_NO, _IO.KEYBOARD_DISPLAY): (_R_IN, _NC),
    (_IO.KEYBOARD_ONLY, _IO.KEYBOARD_DISPLAY): (_I_IN, _I_IN),
    (_IO.NO_INPUT_NO_OUTPUT, _IO.KEYBOARD_DISPLAY): (_JW, _JW),
    (_IO.KEYBOARD_DISPLAY, _IO.KEYBOARD_DISPLAY): (_R_IN, _NC),
}


def choose_association_model(
    request: SMP_Pairing_Request, response: SMP_Pairing_Response, secure_connections: bool
) -> ModelChoice:
    """The association model of a pairing (Vol 3 Part H 2.3.5.1)."""
    init_oob = request.oob_data_flag is OobDataFlag.PRESENT
    resp_oob = response.oob_data_flag is OobDataFlag.PRESENT
    if (init_oob or resp_oob) if secure_connections else (init_oob and resp_oob):
        return ModelChoice(AssociationModel.OOB)
    if not (AuthReq.MITM & request.auth_req or AuthReq.MITM & response.auth_req):
        return _JW
    legacy, sc = IO_CAPABILITY_MATRIX[(request.io_capability, response.io_capability)]
    return sc if secure_connections else legacy


# ---------------------------------------------------------------------------------------
# Configuration, OOB data, results
# ---------------------------------------------------------------------------------------

_ALL_KEYS = KeyDistribution.ENC_KEY | KeyDistribution.ID_KEY | KeyDistribution.SIGN_KEY


@dataclasses.dataclass(frozen=True)
class SmpConfig:
    """A device's Security Manager settings (Vol 3 Part H 2.3, 3.5.1).

    ``local_keys`` are the keys this device offers to distribute, ``peer_keys`` those it
    asks from (or accepts from) the peer. ``identity_address``/``irk``/``csrk`` are
    what it distributes for ID_KEY/SIGN_KEY (the IRK defaults to the bond store's, the
    CSRK to a fresh random key per pairing). ``sc_only`` is Secure Connections Only mode
    (LE SC and 16-octet keys, else Authentication Requirements / Encryption Key Size).
    """

    io_capability: IoCapability = IoCapability.NO_INPUT_NO_OUTPUT
    bonding: bool = True
    mitm: bool = False
    secure_connections: bool = True
    keypress: bool = False
    sc_only: bool = False
    pairable: bool = True
    min_key_size: int = SMP_MIN_ENCRYPTION_KEY_SIZE
    max_key_size: int = SMP_MAX_ENCRYPTION_KEY_SIZE
    local_keys: KeyDistribution = _ALL_KEYS
    peer_keys: KeyDistribution = _ALL_KEYS
    identity_address: Address | None = None
    irk: bytes | None = None
    csrk: bytes | None = None
    allow_debug_keys: bool = False
    use_debug_keys: bool = False
    timeout_ns: int = SMP_TIMEOUT_NS
    #: A central answers a peripheral's Security Request by encrypting with a bond's key
    #: (if good enough) or by pairing.
    respond_to_security_request: bool = True
    #: A fixed passkey (0..999999) this device displays in Passkey Entry instead of a
    #: random one (QuecPython ``smpSetConfig``, NimBLE's application passkey).
    passkey: int | None = None
    #: Ask the user to accept a Just Works pairing
    #: (:meth:`SmpDelegate.on_just_works_request`, answered with
    #: :meth:`~host.smp.SmpSession.just_works_reply`; No is Pairing Not Supported).
    confirm_just_works: bool = False
    #: With :attr:`mitm`, refuse a pairing whose association model gives no MITM
    #: protection (Authentication Requirements). False: MITM is only asked for in
    #: AuthReq and an unauthenticated key is accepted, as NimBLE's ``sm_mitm`` does
    #: (attribute permissions then decide what the link may access).
    enforce_mitm: bool = True
    #: Passkey Entry, display side: ask the application for the passkey to show
    #: (:meth:`SmpDelegate.on_display_passkey_request`) and wait for it
    #: (:meth:`~host.smp.SmpSession.passkey_reply`) instead of drawing one, as NimBLE
    #: waits for ``ble_sm_inject_io`` after ``BLE_SM_IOACT_DISP``. A fixed
    #: :attr:`passkey` takes precedence.
    application_passkey: bool = False

    def __post_init__(self) -> None:
        lo, hi = SMP_MIN_ENCRYPTION_KEY_SIZE, SMP_MAX_ENCRYPTION_KEY_SIZE
        if not lo <= self.min_key_size <= self.max_key_size <= hi:
            raise SmpLocalError(
                f"key sizes need {lo} <= min ({self.min_key_size}) <= max "
                f"({self.max_key_size}) <= {hi}"
            )
        for name in ("irk", "csrk"):
            value = getattr(self, name)
            if value is not None and len(value) != 16:
                raise SmpLocalError(f"{name} must be 16 octets")
        if self.timeout_ns <= 0:
            raise SmpLocalError("timeout_ns must be positive")
        if self.passkey is not None and not 0 <= self.passkey <= 999_999:
            raise SmpLocalError(f"a passkey is 0..999999, not {self.passkey}")

    @property
    def auth_req(self) -> AuthReq:
        """The AuthReq octet this device sends (Vol 3 Part H 3.5.1)."""
        return self.auth_req_for(self.bonding)

    def auth_req_for(self, bonding: bool) -> AuthReq:
        """The AuthReq octet with Bonding_Flags ``01`` (Bonding) or ``00`` (No Bonding)
        as ``bonding`` says, the other bits from this configuration (Vol 3 Part H 3.5.1)."""
        value = AuthReq(0)
        if bonding:
            value |= AuthReq.BONDING
        if self.mitm:
            value |= AuthReq.MITM
        if self.secure_connections:
            value |= AuthReq.SC | AuthReq.CT2
        if self.keypress:
            value |= AuthReq.KEYPRESS
        return value


@dataclasses.dataclass(frozen=True)
class ScOobData:
    """LE Secure Connections OOB data of one device (Vol 3 Part H 2.3.5.6.4): its
    address, the random ``r`` and the confirm ``c = f4(PKx, PKx, r, 0)``, MSB-first."""

    address: Address
    r: bytes
    c: bytes


@dataclasses.dataclass(frozen=True)
class LinkSecurity:
    """The security of a link as the Security Manager knows it (for GATT checks)."""

    encrypted: bool = False
    authenticated: bool = False
    key_size: int = 0
    secure_connections: bool = False
    bonded: bool = False


@dataclasses.dataclass(frozen=True)
class PairingResult:
    """How a pairing ended. On failure ``reason`` is the Pairing Failed reason (sent,
    or received when ``remote``), or ``None`` with ``timed_out`` (3.4). ``reused_keys``:
    a Security Request was answered by encrypting with a bond's key, not by pairing."""

    success: bool
    reason: int | None = None
    remote: bool = False
    timed_out: bool = False
    model: AssociationModel | None = None
    secure_connections: bool = False
    authenticated: bool = False
    key_size: int = 0
    bonded: bool = False
    bond: Bond | None = None
    reused_keys: bool = False


class SmpDelegate:
    """The host and application side of a session. Override what you need; every
    method gets the connection handle first. User answers go back through
    :meth:`~host.smp.SmpSession.passkey_reply` and
    :meth:`~host.smp.SmpSession.numeric_comparison_reply`."""

    def start_encryption(self, handle: int, ltk: bytes, ediv: int, rand: int, key_size: int) -> None:
        """Central: send HCI_LE_Enable_Encryption (Vol 4 Part E 7.8.24). ``ltk`` is
        MSB-first (reverse it for HCI) and already masked to ``key_size``."""

    def on_pairing_complete(self, handle: int, result: PairingResult) -> None:
        """The pairing (or Security Request) procedure ended."""

    def on_passkey_display(self, handle: int, passkey: int) -> None:
        """Show this 6-digit passkey to the user (Passkey Entry, display side)."""

    def on_passkey_request(self, handle: int) -> None:
        """Ask the user for the passkey shown by the peer."""

    def on_numeric_comparison(self, handle: int, value: int) -> None:
        """Show this 6-digit value and ask the user whether it matches the peer's."""

    def on_keypress(self, handle: int, notification: KeypressNotificationType) -> None:
        """The peer's user pressed a key while typing the passkey."""

    def on_security_request(self, handle: int, auth_req: AuthReq) -> None:
        """Central: the peripheral sent a Security Request (3.6.7)."""

    def on_just_works_request(self, handle: int) -> None:
        """Ask the user whether to accept a Just Works pairing (only with
        :attr:`SmpConfig.confirm_just_works`)."""

    def on_display_passkey_request(self, handle: int) -> None:
        """Passkey Entry, display side with :attr:`SmpConfig.application_passkey`: ask
        the application for the passkey it shows; the pairing waits for
        :meth:`~host.smp.SmpSession.passkey_reply`."""

    def pdus_in_transit(self, handle: int) -> bool:
        """Whether data this host sent on ``handle`` may still be on its way: queued in
        the host or in the controller, not yet reported by Number_Of_Completed_Packets
        (Vol 4 Part E 7.7.19). A pairing whose own keys are still in transit completes
        only when they are not (:meth:`~host.smp.SmpSession.on_packets_completed`).
        The default (False) takes data as delivered once handed over."""
        return False


# ---------------------------------------------------------------------------------------
# Repeated attempts (Vol 3 Part H 2.3.6)
# ---------------------------------------------------------------------------------------


class PairingAttemptGuard:
    """Per-peer waiting intervals after failed authentication (Vol 3 Part H 2.3.6).

    After the n-th consecutive failure with a peer, pairing with it is refused until
    ``base_interval_ns * 2**(n-1)`` (at most ``max_interval_ns``) has passed; a
    successful pairing clears the peer's record.
    """

    def __init__(
        self, base_interval_ns: int = 2_000_000_000, max_interval_ns: int = 128_000_000_000
    ) -> None:
        if not 0 < base_interval_ns <= max_interval_ns:
            raise SmpLocalError("need 0 < base_interval_ns <= max_interval_ns")
        self.base_interval_ns = base_interval_ns
        self.max_interval_ns = max_interval_ns
        self._failures: dict[Address, tuple[int, int]] = {}  # peer -> (count, until)

    def blocked_until(self, peer: Address) -> int | None:
        """When pairing with ``peer`` is allowed again, if it has failed before."""
        record = self._failures.get(peer)
        return None if record is None else record[1]

    def allowed(self, peer: Address, now: int) -> bool:
        until = self.blocked_until(peer)
        return until is None or now >= until

    def record_failure(self, peer: Address, now: int) -> None:
        count = self._failures.get(peer, (0, 0))[0] + 1
        interval = min(self.base_interval_ns << min(count - 1, 62), self.max_interval_ns)
        self._failures[peer] = (count, now + interval)

    def record_success(self, peer: Address) -> None:
        self._failures.pop(peer, None)


# ---------------------------------------------------------------------------------------
# Phase 2 engines
# ---------------------------------------------------------------------------------------


@dataclasses.dataclass
class PairingContext:
    """What a Phase 2 engine needs about its pairing (fixed after Phase 1)."""

    handle: int
    initiator: bool
    request: SMP_Pairing_Request
    response: SMP_Pairing_Response
    secure_connections: bool
    choice: ModelChoice
    key_size: int
    keypress: bool
    initiator_address: Address
    responder_address: Address
    rng: Rng
    delegate: SmpDelegate
    send: Callable[[SmpPdu], None]
    #: :attr:`SmpConfig.passkey`: displayed instead of a random passkey.
    fixed_passkey: int | None = None
    #: :attr:`SmpConfig.application_passkey`: the display side waits for the application.
    application_passkey: bool = False

    @property
    def local_inputs(self) -> bool:
        """This device types the passkey (Passkey Entry)."""
        c = self.choice
        return c.initiator_inputs if self.initiator else c.responder_inputs

    def new_passkey(self) -> int:
        """A passkey for the display side: 000000..999999 (2.3.5.3), or the configured
        fixed one."""
        if self.fixed_passkey is not None:
            return self.fixed_passkey
        return self.rng.randrange(0, 1_000_000)


class Phase2:
    """Base of the Phase 2 engines: what the session may call on them."""

    def __init__(self, ctx: PairingContext) -> None:
        self.ctx = ctx
        #: The STK (legacy) or LTK (Secure Connections), MSB-first, unmasked, once done.
        self.key: bytes | None = None
        self.waiting_for_passkey = False
        self.waiting_for_confirmation = False

    def start(self, now: int) -> None:
        raise NotImplementedError

    def _start_passkey_entry(self) -> int | None:
        """Passkey Entry (2.3.5.3): the passkey this device uses, when known now. The
        typing side asks the user (:meth:`SmpDelegate.on_passkey_request`); the display
        side draws one (or takes the fixed one) and shows it, or, with
        :attr:`SmpConfig.application_passkey`, asks the application for it. ``None``:
        the engine waits for :meth:`passkey_reply`."""
        ctx = self.ctx
        if ctx.local_inputs:
            self.waiting_for_passkey = True
            ctx.delegate.on_passkey_request(ctx.handle)
            return None
        if ctx.application_passkey and ctx.fixed_passkey is None:
            self.waiting_for_passkey = True
            ctx.delegate.on_display_passkey_request(ctx.handle)
            return None
        passkey = ctx.new_passkey()
        ctx.delegate.on_passkey_display(ctx.handle, passkey)
        return passkey

    def accepts(self, code: int) -> bool:
        """Whether a PDU with this code is expected now (else Unspecified Reason)."""
        raise NotImplementedError

    def receive(self, pdu: SmpPdu, now: int) -> None:
        raise NotImplementedError

    def passkey_reply(self, passkey: int | None, now: int) -> None:
        if not self.waiting_for_passkey:
            raise SmpLocalError("no passkey is being asked for")
        if passkey is None:
            raise PairingAbort(PairingFailedReason.PASSKEY_ENTRY_FAILED, "entry cancelled")
        if not 0 <= passkey <= 999_999:
            raise SmpLocalError(f"a passkey is 0..999999, not {passkey}")
        self.waiting_for_passkey = False
        self._passkey_entered(passkey, now)

    def _passkey_entered(self, passkey: int, now: int) -> None:
        raise NotImplementedError

    def numeric_comparison_reply(self, accept: bool, now: int) -> None:
        if not self.waiting_for_confirmation:
            raise SmpLocalError("no numeric comparison is waiting for an answer")
        if not accept:
            raise PairingAbort(PairingFailedReason.NUMERIC_COMPARISON_FAILED, "user rejected")
        self.waiting_for_confirmation = False
        self._confirmed(now)

    def _confirmed(self, now: int) -> None:
        raise NotImplementedError
