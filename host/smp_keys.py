"""SMP Phase 3: transport specific key distribution (Vol 3 Part H 3.6.1, 2.4).

Theory of operation
-------------------
Once the link is encrypted with the STK (legacy) or LTK (Secure Connections), the
devices send the keys the Pairing Request/Response agreed: the **responder** first,
then the initiator, each in the fixed order (3.6.1):

1. LTK (Encryption Information) + EDIV/Rand (Central Identification) — LE legacy
   pairing only (Secure Connections derives the LTK in Phase 2);
2. IRK (Identity Information) + identity address (Identity Address Information);
3. CSRK (Signing Information).

:class:`KeyDistributionPhase` runs this for one pairing: :meth:`~KeyDistributionPhase.start`
sends the responder's keys, :meth:`~KeyDistributionPhase.receive` takes the peer's
keys in order (any other PDU, or an identity that is no identity address, ends the
pairing through :class:`~host.smp_types.PairingAbort`), and once the last key arrived
the initiator sends its own. :attr:`~KeyDistributionPhase.done` then holds, and
:meth:`~KeyDistributionPhase.bond` builds the :class:`~host.bonds.Bond` to store;
:attr:`~KeyDistributionPhase.sent_pdus` tells the session whether this side has keys of
its own whose delivery it must see before the pairing completes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Final

from host.bonds import Bond, BondStore, LongTermKey
from host.smp_pdu import (
    KeyDistribution,
    PairingFailedReason,
    SMP_Central_Identification,
    SMP_Encryption_Information,
    SMP_Identity_Address_Information,
    SMP_Identity_Information,
    SMP_Signing_Information,
    SmpCode,
    SmpPdu,
)
from host.smp_types import PairingAbort, PairingContext, SmpConfig, random_128
from linklayer.hci.address import Address, AddressKind
from phy.types import Rng

__all__ = ["KEY_CODES", "KeyDistributionPhase", "mask_key"]

_C = SmpCode
#: The codes of Phase 3 PDUs.
KEY_CODES: Final = (
    _C.ENCRYPTION_INFORMATION, _C.CENTRAL_IDENTIFICATION, _C.IDENTITY_INFORMATION,
    _C.IDENTITY_ADDRESS_INFORMATION, _C.SIGNING_INFORMATION,
)


def mask_key(key: bytes, key_size: int) -> bytes:
    """The key shortened to ``key_size`` octets (Vol 3 Part H 2.3.4): its most
    significant ``16 - key_size`` octets zeroed. MSB-first in and out."""
    return bytes(16 - key_size) + bytes(key[16 - key_size :])


@dataclasses.dataclass
class _Keys:
    """Keys sent or received during Phase 3."""

    ltk: bytes | None = None
    ediv_rand: tuple[int, int] | None = None
    irk: bytes | None = None
    identity: Address | None = None
    csrk: bytes | None = None


class KeyDistributionPhase:
    """Phase 3 of one pairing (see the module docstring).

    ``identity`` is this device's identity address (required when it distributes its
    IRK); its IRK is ``config.irk``, else the bond store's (drawn once), else zeros.
    """

    def __init__(
        self,
        ctx: PairingContext,
        *,
        config: SmpConfig,
        identity: Address | None,
        bonds: BondStore | None,
        rng: Rng,
        send: Callable[[SmpPdu], None],
    ) -> None:
        self.ctx = ctx
        self.config = config
        self.identity = identity
        self.bonds = bonds
        self.rng = rng
        self._send_pdu = send
        response = ctx.response
        if ctx.initiator:
            self.local, self.peer = response.initiator_key_distribution, response.responder_key_distribution
        else:
            self.local, self.peer = response.responder_key_distribution, response.initiator_key_distribution
        expected: list[int] = []
        if KeyDistribution.ENC_KEY & self.peer and not ctx.secure_connections:
            expected += [_C.ENCRYPTION_INFORMATION, _C.CENTRAL_IDENTIFICATION]
        if KeyDistribution.ID_KEY & self.peer:
            expected += [_C.IDENTITY_INFORMATION, _C.IDENTITY_ADDRESS_INFORMATION]
        if KeyDistribution.SIGN_KEY & self.peer:
            expected.append(_C.SIGNING_INFORMATION)
        self.expected = expected
        self.received = _Keys()
        self.sent = _Keys()
        #: How many key PDUs this side sent (0: nothing of its own to deliver).
        self.sent_pdus = 0
        self.done = False

    def start(self) -> None:
        """The responder sends its keys first (3.6.1)."""
        if not self.ctx.initiator:
            self._send_keys()
        self._progress()

    def receive(self, message: SmpPdu) -> None:
        """One key PDU from the peer (PairingAbort if out of order or invalid)."""
        if not self.expected or self.expected[0] != message.CODE:
            raise PairingAbort(PairingFailedReason.UNSPECIFIED_REASON, f"{type(message).__name__} out of order")
        self.expected.pop(0)
        keys = self.received
        if isinstance(message, SMP_Encryption_Information):
            keys.ltk = message.long_term_key
        elif isinstance(message, SMP_Central_Identification):
            keys.ediv_rand = (message.ediv, message.rand)
        elif isinstance(message, SMP_Identity_Information):
            keys.irk = message.identity_resolving_key
        elif isinstance(message, SMP_Identity_Address_Information):
            if message.address.kind not in (AddressKind.PUBLIC, AddressKind.RANDOM_STATIC):
                raise PairingAbort(PairingFailedReason.KEY_REJECTED, f"{message.address!r} is no identity address")
            keys.identity = message.address
        elif isinstance(message, SMP_Signing_Information):
            keys.csrk = message.signature_key
        self._progress()

    def _progress(self) -> None:
        if self.expected or self.done:
            return
        if self.ctx.initiator:
            self._send_keys()
        self.done = True

    def _send(self, pdu: SmpPdu) -> None:
        self.sent_pdus += 1
        self._send_pdu(pdu)

    def _send_keys(self) -> None:
        ctx, local, rng = self.ctx, self.local, self.rng
        if KeyDistribution.ENC_KEY & local and not ctx.secure_connections:
            ltk = mask_key(random_128(rng), ctx.key_size)
            ediv, rand = rng.getrandbits(16), rng.getrandbits(64)
            self.sent.ltk, self.sent.ediv_rand = ltk, (ediv, rand)
            self._send(SMP_Encryption_Information(ltk))
            self._send(SMP_Central_Identification(ediv, rand))
        if KeyDistribution.ID_KEY & local:
            assert self.identity is not None  # ID_KEY is only offered with an identity
            irk = self.config.irk
            if irk is None:
                irk = self.bonds.ensure_local_irk(rng) if self.bonds is not None else bytes(16)
            self._send(SMP_Identity_Information(irk))
            self._send(SMP_Identity_Address_Information(self.identity))
        if KeyDistribution.SIGN_KEY & local:
            csrk = self.config.csrk if self.config.csrk is not None else random_128(rng)
            self.sent.csrk = csrk
            self._send(SMP_Signing_Information(csrk))

    def bond(self, key: bytes, peer_address: Address) -> Bond:
        """The bond of this pairing: ``key`` is the (masked) STK/LTK of Phase 2 and
        ``peer_address`` the peer's address on this link (kept when it sent no
        identity)."""
        ctx = self.ctx
        auth, size, sc = ctx.choice.authenticated, ctx.key_size, ctx.secure_connections
        peer_ltk = local_ltk = None
        if sc:
            peer_ltk = local_ltk = LongTermKey(key, 0, 0, size, auth, True)
        else:
            got, sent = self.received, self.sent
            if got.ltk is not None and got.ediv_rand is not None:
                peer_ltk = LongTermKey(got.ltk, *got.ediv_rand, size, auth, False)
            if sent.ltk is not None and sent.ediv_rand is not None:
                local_ltk = LongTermKey(sent.ltk, *sent.ediv_rand, size, auth, False)
        return Bond(
            peer_address=self.received.identity or peer_address,
            peer_irk=self.received.irk, local_ltk=local_ltk, peer_ltk=peer_ltk,
            peer_csrk=self.received.csrk, local_csrk=self.sent.csrk,
        )
