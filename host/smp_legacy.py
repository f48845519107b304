"""LE legacy pairing, Phase 2: TK, confirm/random exchange, STK (Vol 3 Part H 2.3.5.2-2.3.5.5).

Theory of operation
-------------------
Both devices agree a Temporary Key: 0 for Just Works, the 6-digit passkey for Passkey
Entry (one device displays a random passkey and the other's user types it, or both
users type the same one), or 128 bits exchanged out of band. Then (2.3.5.5):

1. the initiator sends Mconfirm = c1(TK, Mrand, preq, pres, iat, rat, ia, ra);
2. the responder answers Sconfirm = c1(TK, Srand, ...) once it has the TK;
3. the initiator reveals Mrand; the responder checks Mconfirm and reveals Srand;
4. the initiator checks Sconfirm. A mismatch either way is Confirm Value Failed (0x04).

STK = s1(TK, Srand, Mrand); the session masks it to the negotiated key size and
encrypts the link with it (EDIV = Rand = 0). Keypress notifications are the session's
business (accepted throughout Phase 2).

States are explicit: :class:`LegacyState`, and :data:`_ACCEPTS` says which PDU each
role may receive in each state.
"""

from __future__ import annotations

import enum
from typing import Final

from host.smp_crypto import c1, s1
from host.smp_pdu import (
    PairingFailedReason,
    SMP_Pairing_Confirm,
    SMP_Pairing_Random,
    SmpCode,
    SmpPdu,
    swap,
)
from host.smp_types import AssociationModel, PairingAbort, PairingContext, Phase2, random_128

__all__ = ["LegacyPhase2", "LegacyState"]


class LegacyState(enum.Enum):
    """Where LE legacy Phase 2 stands."""

    WAIT_TK = "initiator waits for its TK (user input)"
    WAIT_CONFIRM = "waits for the peer's confirm value"
    WAIT_TK_AFTER_CONFIRM = "responder holds Mconfirm and waits for its TK"
    WAIT_RANDOM = "waits for the peer's random value"
    DONE = "STK computed"


_S = LegacyState
_C = SmpCode

#: ``(initiator?, state) -> codes accepted`` (anything else: Unspecified Reason).
_ACCEPTS: Final[dict[tuple[bool, LegacyState], frozenset[int]]] = {
    (True, _S.WAIT_TK): frozenset(),
    (True, _S.WAIT_CONFIRM): frozenset({_C.PAIRING_CONFIRM}),
    (True, _S.WAIT_RANDOM): frozenset({_C.PAIRING_RANDOM}),
    (False, _S.WAIT_CONFIRM): frozenset({_C.PAIRING_CONFIRM}),
    (False, _S.WAIT_TK_AFTER_CONFIRM): frozenset(),
    (False, _S.WAIT_RANDOM): frozenset({_C.PAIRING_RANDOM}),
}


class LegacyPhase2(Phase2):
    """LE legacy Phase 2 for one pairing. ``oob_tk``: the 16-octet TK (MSB-first)
    exchanged out of band, required for the OOB model."""

    def __init__(self, ctx: PairingContext, oob_tk: bytes | None = None) -> None:
        super().__init__(ctx)
        self.state = _S.WAIT_TK if ctx.initiator else _S.WAIT_CONFIRM
        self._oob_tk = oob_tk
        self._tk: bytes | None = None
        self._local_random = random_128(ctx.rng)
        self._peer_confirm: bytes | None = None

    # -- helpers ------------------------------------------------------------------------

    def _c1(self, r: bytes) -> bytes:
        ctx = self.ctx
        assert self._tk is not None
        return c1(
            self._tk, r, swap(ctx.request.to_bytes()), swap(ctx.response.to_bytes()),
            ctx.initiator_address.address_type, ctx.responder_address.address_type,
            swap(ctx.initiator_address.value), swap(ctx.responder_address.value),
        )

    def _send_confirm(self) -> None:
        self.ctx.send(SMP_Pairing_Confirm(self._c1(self._local_random)))

    # -- session interface --------------------------------------------------------------

    def start(self, now: int) -> None:
        ctx = self.ctx
        model = ctx.choice.model
        if model is AssociationModel.JUST_WORKS:
            self._tk = bytes(16)
        elif model is AssociationModel.OOB:
            if self._oob_tk is None or len(self._oob_tk) != 16:
                raise PairingAbort(PairingFailedReason.OOB_NOT_AVAILABLE, "no OOB TK")
            self._tk = bytes(self._oob_tk)
        else:
            passkey = self._start_passkey_entry()
            if passkey is None:
                return  # typed by the user or chosen by the application
            self._tk = passkey.to_bytes(16, "big")
        self._tk_ready()

    def _passkey_entered(self, passkey: int, now: int) -> None:
        self._tk = passkey.to_bytes(16, "big")
        self._tk_ready()

    def _tk_ready(self) -> None:
        if self.ctx.initiator:
            self._send_confirm()
            self.state = _S.WAIT_CONFIRM
        elif self.state is _S.WAIT_TK_AFTER_CONFIRM:
            self._send_confirm()
            self.state = _S.WAIT_RANDOM

    def accepts(self, code: int) -> bool:
        return code in _ACCEPTS.get((self.ctx.initiator, self.state), frozenset())

    def receive(self, pdu: SmpPdu, now: int) -> None:
        ctx = self.ctx
        if isinstance(pdu, SMP_Pairing_Confirm):
            self._peer_confirm = pdu.confirm_value
            if ctx.initiator:
                ctx.send(SMP_Pairing_Random(self._local_random))
                self.state = _S.WAIT_RANDOM
            elif self._tk is None:
                self.state = _S.WAIT_TK_AFTER_CONFIRM
            else:
                self._send_confirm()
                self.state = _S.WAIT_RANDOM
        elif isinstance(pdu, SMP_Pairing_Random):
            if self._c1(pdu.random_value) != self._peer_confirm:
                raise PairingAbort(PairingFailedReason.CONFIRM_VALUE_FAILED)
            assert self._tk is not None
            if ctx.initiator:
                self.key = s1(self._tk, pdu.random_value, self._local_random)
            else:
                ctx.send(SMP_Pairing_Random(self._local_random))
                self.key = s1(self._tk, self._local_random, pdu.random_value)
            self.state = _S.DONE
        else:  # pragma: no cover - the session only passes accepted codes
            raise PairingAbort(PairingFailedReason.UNSPECIFIED_REASON, type(pdu).__name__)

    def _confirmed(self, now: int) -> None:  # pragma: no cover - no confirmation in legacy
        raise PairingAbort(PairingFailedReason.UNSPECIFIED_REASON)
