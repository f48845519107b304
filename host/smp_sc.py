"""LE Secure Connections pairing, Phase 2 (Vol 3 Part H 2.3.5.6).

Theory of operation
-------------------
1. Public keys (2.3.5.6.1): the initiator sends PKa, the responder checks it and
   answers PKb; both compute DHKey = P-256 ECDH. A key that is not on the curve ends
   the pairing with DHKey Check Failed (the invalid-curve attack); the debug public key
   is refused unless ``allow_debug_keys``; a peer key equal to ours (a reflection) is
   refused with Authentication Requirements.
2. Authentication stage 1, by model:

   * Just Works / Numeric Comparison (2.3.5.6.2): the responder commits
     Cb = f4(PKbx, PKax, Nb, 0); the initiator reveals Na; the responder reveals Nb; the
     initiator checks Cb. For Numeric Comparison both users compare
     g2(PKax, PKbx, Na, Nb) mod 10^6 and confirm (No = Numeric Comparison Failed).
   * Passkey Entry (2.3.5.6.3): 20 rounds, one per passkey bit ri:
     Cai = f4(PKax, PKbx, Nai, 0x80|ri), Cbi = f4(PKbx, PKax, Nbi, 0x80|ri), then Nai,
     Nbi, each side checking the other's commitment (Confirm Value Failed on a wrong
     passkey). Na = Na20, Nb = Nb20, ra = rb = passkey.
   * OOB (2.3.5.6.4): a device that received the peer's (r, C) checks
     C = f4(PKx, PKx, r, 0) on the peer's public key; then Na and Nb are exchanged.

3. Authentication stage 2 (2.3.5.6.5): (MacKey, LTK) = f5(DHKey, Na, Nb, A, B);
   Ea = f6(MacKey, Na, Nb, rb, IOcapA, A, B) from the initiator, checked by the responder,
   which answers Eb = f6(MacKey, Nb, Na, ra, IOcapB, B, A). A mismatch is DHKey Check
   Failed. The LTK is the result (masked to the key size by the session).

States are explicit (:class:`ScState`); :data:`_ACCEPTS` lists what each role may
receive in each state. All values are MSB-first (see :mod:`host.smp_crypto`).
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Final

from host.smp_crypto import (
    DEBUG_PRIVATE_KEY,
    DEBUG_PUBLIC_KEY,
    InvalidPublicKey,
    dh_key,
    f4,
    f5,
    f6,
    g2,
    generate_keypair,
)
from host.smp_pdu import (
    OobDataFlag,
    PairingFailedReason,
    SMP_Pairing_Confirm,
    SMP_Pairing_DHKey_Check,
    SMP_Pairing_Public_Key,
    SMP_Pairing_Random,
    SmpCode,
    SmpPdu,
    swap,
)
from host.smp_types import (
    AssociationModel,
    PairingAbort,
    PairingContext,
    Phase2,
    ScOobData,
    random_128,
)
from linklayer.hci.address import Address
from phy.types import Rng

__all__ = ["PASSKEY_ROUNDS", "ScKeyPair", "ScPhase2", "ScState", "generate_sc_oob_data"]

#: Passkey Entry runs one commitment round per passkey bit (2.3.5.6.3).
PASSKEY_ROUNDS: Final = 20


@dataclasses.dataclass(frozen=True)
class ScKeyPair:
    """A P-256 key pair: private scalar and public X, Y (32 octets each, MSB-first)."""

    private: int
    x: bytes
    y: bytes

    @classmethod
    def generate(cls, rng: Rng) -> ScKeyPair:
        return cls(*generate_keypair(rng))

    @classmethod
    def debug(cls) -> ScKeyPair:
        """The debug key pair of Vol 3 Part H 2.3.5.6.1."""
        return cls(DEBUG_PRIVATE_KEY, *DEBUG_PUBLIC_KEY)


def generate_sc_oob_data(key_pair: ScKeyPair, address: Address, rng: Rng) -> ScOobData:
    """This device's OOB data for LE Secure Connections (2.3.5.6.4): a random r and
    C = f4(PKx, PKx, r, 0), to hand to the peer out of band."""
    r = random_128(rng)
    return ScOobData(address, r, f4(key_pair.x, key_pair.x, r, b"\x00"))


def _address7(address: Address) -> bytes:
    """A1/A2 of f5/f6: address type octet then the address as printed (2.2.7)."""
    return bytes([address.address_type]) + swap(address.value)


class ScState(enum.Enum):
    """Where LE Secure Connections Phase 2 stands."""

    WAIT_PUBLIC_KEY = "waits for the peer's public key"
    WAIT_CONFIRM = "waits for the peer's confirm value"
    WAIT_RANDOM = "waits for the peer's nonce"
    WAIT_USER = "initiator waits for the user's numeric comparison answer"
    WAIT_DHKEY_CHECK = "waits for the peer's DHKey check"
    DONE = "LTK computed"


_S = ScState
_C = SmpCode

#: ``(initiator?, state) -> codes accepted`` (anything else: Unspecified Reason).
_ACCEPTS: Final[dict[tuple[bool, ScState], frozenset[int]]] = {
    (True, _S.WAIT_PUBLIC_KEY): frozenset({_C.PAIRING_PUBLIC_KEY}),
    (True, _S.WAIT_CONFIRM): frozenset({_C.PAIRING_CONFIRM}),
    (True, _S.WAIT_RANDOM): frozenset({_C.PAIRING_RANDOM}),
    (True, _S.WAIT_USER): frozenset(),
    (True, _S.WAIT_DHKEY_CHECK): frozenset({_C.PAIRING_DHKEY_CHECK}),
    (False, _S.WAIT_PUBLIC_KEY): frozenset({_C.PAIRING_PUBLIC_KEY}),
    (False, _S.WAIT_CONFIRM): frozenset({_C.PAIRING_CONFIRM}),
    (False, _S.WAIT_RANDOM): frozenset({_C.PAIRING_RANDOM}),
    (False, _S.WAIT_DHKEY_CHECK): frozenset({_C.PAIRING_DHKEY_CHECK}),
}


class ScPhase2(Phase2):
    """LE Secure Connections Phase 2 for one pairing.

    ``local_oob``: this device's OOB data (needed when the peer says it has it);
    ``peer_oob``: the peer's OOB data received out of band (its presence is what this
    device's OOB data flag announced).
    """

    def __init__(
        self,
        ctx: PairingContext,
        key_pair: ScKeyPair,
        *,
        allow_debug_keys: bool = False,
        local_oob: ScOobData | None = None,
        peer_oob: ScOobData | None = None,
    ) -> None:
        super().__init__(ctx)
        self.state = _S.WAIT_PUBLIC_KEY
        self._keys = key_pair
        self._allow_debug = allow_debug_keys
        self._local_oob = local_oob
        self._peer_oob = peer_oob
        self._model = ctx.choice.model
        self._peer_x = b""
        self._dhkey = b""
        self._passkey: int | None = None
        self._round = 0
        self._local_nonce = b""
        self._peer_nonce = b""
        self._peer_confirm: bytes | None = None
        self._confirm_sent = False
        self._pending_check: bytes | None = None  # responder: Ea before the user's yes
        self._r_local = bytes(16)
        self._r_peer = bytes(16)

    # -- who is who ---------------------------------------------------------------------

    def _pk(self) -> tuple[bytes, bytes]:
        """(PKax, PKbx)."""
        if self.ctx.initiator:
            return self._keys.x, self._peer_x
        return self._peer_x, self._keys.x

    def _nonces(self) -> tuple[bytes, bytes]:
        """(Na, Nb)."""
        if self.ctx.initiator:
            return self._local_nonce, self._peer_nonce
        return self._peer_nonce, self._local_nonce

    def _passkey_bit(self) -> bytes:
        assert self._passkey is not None
        return bytes([0x80 | ((self._passkey >> self._round) & 1)])

    def _local_commitment(self, z: bytes) -> bytes:
        pka, pkb = self._pk()
        return f4(pka, pkb, self._local_nonce, z) if self.ctx.initiator else f4(
            pkb, pka, self._local_nonce, z
        )

    def _peer_commitment(self, z: bytes) -> bytes:
        pka, pkb = self._pk()
        return f4(pkb, pka, self._peer_nonce, z) if self.ctx.initiator else f4(
            pka, pkb, self._peer_nonce, z
        )

    def _check_values(self) -> tuple[bytes, bytes, bytes]:
        """(LTK, Ea, Eb)."""
        ctx = self.ctx
        na, nb = self._nonces()
        a = _address7(ctx.initiator_address)
        b = _address7(ctx.responder_address)
        mac_key, ltk = f5(self._dhkey, na, nb, a, b)
        ra, rb = (self._r_local, self._r_peer) if ctx.initiator else (self._r_peer, self._r_local)
        req, rsp = ctx.request, ctx.response
        io_a = bytes([int(req.auth_req), int(req.oob_data_flag), int(req.io_capability)])
        io_b = bytes([int(rsp.auth_req), int(rsp.oob_data_flag), int(rsp.io_capability)])
        ea = f6(mac_key, na, nb, rb, io_a, a, b)
        eb = f6(mac_key, nb, na, ra, io_b, b, a)
        return ltk, ea, eb

    # -- session interface --------------------------------------------------------------

    def start(self, now: int) -> None:
        ctx = self.ctx
        if self._model is AssociationModel.PASSKEY_ENTRY:
            self._passkey = self._start_passkey_entry()
        elif self._model is AssociationModel.OOB:
            self._prepare_oob()
        if ctx.initiator:
            ctx.send(SMP_Pairing_Public_Key(self._keys.x, self._keys.y))

    def _prepare_oob(self) -> None:
        ctx = self.ctx
        local_flag, peer_flag = ctx.request.oob_data_flag, ctx.response.oob_data_flag
        if not ctx.initiator:
            local_flag, peer_flag = peer_flag, local_flag
        if local_flag is OobDataFlag.PRESENT:
            if self._peer_oob is None:
                raise PairingAbort(PairingFailedReason.OOB_NOT_AVAILABLE, "no peer OOB data")
            self._r_peer = self._peer_oob.r
        if peer_flag is OobDataFlag.PRESENT:
            if self._local_oob is None:
                raise PairingAbort(PairingFailedReason.OOB_NOT_AVAILABLE, "no local OOB data")
            self._r_local = self._local_oob.r

    def accepts(self, code: int) -> bool:
        return code in _ACCEPTS.get((self.ctx.initiator, self.state), frozenset())

    def receive(self, pdu: SmpPdu, now: int) -> None:
        ctx = self.ctx
        if isinstance(pdu, SMP_Pairing_Public_Key):
            self._on_public_key(pdu)
        elif isinstance(pdu, SMP_Pairing_Confirm):
            self._on_confirm(pdu.confirm_value)
        elif isinstance(pdu, SMP_Pairing_Random):
            self._on_random(pdu.random_value)
        elif isinstance(pdu, SMP_Pairing_DHKey_Check):
            self._on_dhkey_check(pdu.dhkey_check)
        else:  # pragma: no cover - the session only passes accepted codes
            raise PairingAbort(PairingFailedReason.UNSPECIFIED_REASON, type(pdu).__name__)

    # -- public keys --------------------------------------------------------------------

    def _on_public_key(self, pdu: SMP_Pairing_Public_Key) -> None:
        ctx = self.ctx
        x, y = pdu.public_key_x, pdu.public_key_y
        if (x, y) == DEBUG_PUBLIC_KEY and not self._allow_debug:
            raise PairingAbort(PairingFailedReason.AUTHENTICATION_REQUIREMENTS, "debug key")
        if x == self._keys.x and (x, y) != DEBUG_PUBLIC_KEY:
            raise PairingAbort(PairingFailedReason.AUTHENTICATION_REQUIREMENTS, "own key reflected")
        try:
            self._dhkey = dh_key(self._keys.private, x, y)
        except InvalidPublicKey as exc:
            raise PairingAbort(PairingFailedReason.DHKEY_CHECK_FAILED, str(exc)) from None
        self._peer_x = x
        if not ctx.initiator:
            ctx.send(SMP_Pairing_Public_Key(self._keys.x, self._keys.y))
        if self._model is AssociationModel.OOB:
            self._oob_after_keys()
        elif self._model is AssociationModel.PASSKEY_ENTRY:
            self.state = _S.WAIT_CONFIRM
            self._passkey_round_start()
        elif ctx.initiator:
            self.state = _S.WAIT_CONFIRM
        else:
            self._local_nonce = random_128(ctx.rng)
            ctx.send(SMP_Pairing_Confirm(self._local_commitment(b"\x00")))
            self.state = _S.WAIT_RANDOM

    def _oob_after_keys(self) -> None:
        ctx = self.ctx
        local_flag = ctx.request.oob_data_flag if ctx.initiator else ctx.response.oob_data_flag
        if local_flag is OobDataFlag.PRESENT:
            peer_data = self._peer_oob
            assert peer_data is not None  # checked by _prepare_oob
            if f4(self._peer_x, self._peer_x, peer_data.r, b"\x00") != peer_data.c:
                raise PairingAbort(PairingFailedReason.CONFIRM_VALUE_FAILED, "OOB confirm")
        if ctx.initiator:
            self._local_nonce = random_128(ctx.rng)
            ctx.send(SMP_Pairing_Random(self._local_nonce))
        self.state = _S.WAIT_RANDOM

    # -- passkey rounds -----------------------------------------------------------------

    def _passkey_entered(self, passkey: int, now: int) -> None:
        self._passkey = passkey
        if self._peer_x:
            self._passkey_round_start()

    def _passkey_round_start(self) -> None:
        """Send this round's commitment when the passkey and the peer's turn allow."""
        if self._passkey is None or self._confirm_sent:
            return
        self._r_local = self._r_peer = self._passkey.to_bytes(16, "big")
        if self.ctx.initiator:
            self._local_nonce = random_128(self.ctx.rng)
            self.ctx.send(SMP_Pairing_Confirm(self._local_commitment(self._passkey_bit())))
            self._confirm_sent = True
        elif self._peer_confirm is not None:
            self._local_nonce = random_128(self.ctx.rng)
            self.ctx.send(SMP_Pairing_Confirm(self._local_commitment(self._passkey_bit())))
            self._confirm_sent = True
            self.state = _S.WAIT_RANDOM

    # -- confirm, random, check ---------------------------------------------------------

    def _on_confirm(self, value: bytes) -> None:
        ctx = self.ctx
        if self._peer_confirm is not None:
            raise PairingAbort(PairingFailedReason.UNSPECIFIED_REASON, "second confirm")
        if self._model is AssociationModel.PASSKEY_ENTRY and ctx.initiator and not self._confirm_sent:
            raise PairingAbort(PairingFailedReason.UNSPECIFIED_REASON, "confirm before ours")
        self._peer_confirm = value
        if ctx.initiator:
            if self._model is not AssociationModel.PASSKEY_ENTRY:
                self._local_nonce = random_128(ctx.rng)
            ctx.send(SMP_Pairing_Random(self._local_nonce))
            self.state = _S.WAIT_RANDOM
        else:
            self._passkey_round_start()

    def _on_random(self, nonce: bytes) -> None:
        ctx = self.ctx
        self._peer_nonce = nonce
        if self._model is AssociationModel.PASSKEY_ENTRY:
            if self._peer_commitment(self._passkey_bit()) != self._peer_confirm:
                raise PairingAbort(PairingFailedReason.CONFIRM_VALUE_FAILED, f"round {self._round}")
            if not ctx.initiator:
                ctx.send(SMP_Pairing_Random(self._local_nonce))
            self._round += 1
            self._peer_confirm = None
            self._confirm_sent = False
            if self._round < PASSKEY_ROUNDS:
                self.state = _S.WAIT_CONFIRM
                self._passkey_round_start()
                return
        elif self._model is AssociationModel.OOB:
            if not ctx.initiator:
                self._local_nonce = random_128(ctx.rng)
                ctx.send(SMP_Pairing_Random(self._local_nonce))
        elif ctx.initiator:
            if self._peer_commitment(b"\x00") != self._peer_confirm:
                raise PairingAbort(PairingFailedReason.CONFIRM_VALUE_FAILED)
        else:
            ctx.send(SMP_Pairing_Random(self._local_nonce))
        if self._model is AssociationModel.NUMERIC_COMPARISON:
            pka, pkb = self._pk()
            na, nb = self._nonces()
            self.waiting_for_confirmation = True
            if ctx.initiator:
                self.state = _S.WAIT_USER
            else:
                self.state = _S.WAIT_DHKEY_CHECK
            ctx.delegate.on_numeric_comparison(ctx.handle, g2(pka, pkb, na, nb) % 1_000_000)
            return
        self._after_stage1()

    def _after_stage1(self) -> None:
        if self.ctx.initiator:
            _, ea, _ = self._check_values()
            self.ctx.send(SMP_Pairing_DHKey_Check(ea))
        self.state = _S.WAIT_DHKEY_CHECK
        if self._pending_check is not None:
            self._on_dhkey_check(self._pending_check)

    def _confirmed(self, now: int) -> None:
        self._after_stage1()

    def _on_dhkey_check(self, value: bytes) -> None:
        ctx = self.ctx
        if self.waiting_for_confirmation:
            if self._pending_check is not None:
                raise PairingAbort(PairingFailedReason.UNSPECIFIED_REASON, "second DHKey check")
            self._pending_check = value
            return
        self._pending_check = None
        ltk, ea, eb = self._check_values()
        if value != (eb if ctx.initiator else ea):
            raise PairingAbort(PairingFailedReason.DHKEY_CHECK_FAILED)
        if not ctx.initiator:
            ctx.send(SMP_Pairing_DHKey_Check(eb))
        self.key = ltk
        self.state = _S.DONE
