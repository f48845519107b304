"""Data signing with the CSRK (Core Specification Vol 3 Part H 2.4.5; Vol 3 Part C 10.4).

Theory of operation
-------------------
A device that received its peer's Connection Signature Resolving Key can check data the
peer signed on an unencrypted link (ATT Signed Write Command, Vol 3 Part F 3.4.5.4).
The signer keeps a 32-bit SignCounter per CSRK, incremented for every signed message;
the signature is ``SignCounter || MAC`` where MAC is the 64 most significant bits of
AES-CMAC_CSRK(m || SignCounter) (2.4.5). On the air the message and the counter are
least significant octet first and so is the MAC; AES-CMAC consumes the reversed
(MSB-first) string, hence the two :func:`host.smp_pdu.swap` calls.

The verifier accepts a signature only if the MAC matches **and** its counter is not
below the smallest one it may still accept (one more than the last accepted), so a
replayed or reordered message is rejected (Vol 3 Part C 10.4.2).
:func:`verify_with_bonds` does both against a :class:`~host.bonds.BondStore` and
records the new counter there.
"""

from __future__ import annotations

from typing import Final

from host.bonds import BondStore
from host.smp_crypto import aes_cmac
from host.smp_pdu import swap
from linklayer.hci.address import Address

__all__ = [
    "SIGNATURE_LENGTH", "InvalidSignature", "ReplayedSignature", "SignatureError",
    "sign", "split_signed", "verify", "verify_with_bonds",
]

#: SignCounter (4) + MAC (8) appended to signed data (Vol 3 Part H 2.4.5).
SIGNATURE_LENGTH: Final = 12


class SignatureError(ValueError):
    """Signed data that must be rejected."""


class InvalidSignature(SignatureError):
    """The MAC does not match the data and counter (forged or corrupted)."""


class ReplayedSignature(SignatureError):
    """A correct signature whose SignCounter was already used (a replay)."""


def sign(csrk: bytes, counter: int, message: bytes) -> bytes:
    """The 12-octet signature of ``message`` (air order, e.g. the ATT opcode, handle and
    value) with ``csrk`` (16 octets, MSB-first) and SignCounter ``counter`` (Vol 3
    Part H 2.4.5): SignCounter (4 octets, LSO first) || MAC (8 octets, LSO first)."""
    if len(csrk) != 16:
        raise ValueError(f"a CSRK is 16 octets, not {len(csrk)}")
    if not 0 <= counter <= 0xFFFFFFFF:
        raise ValueError(f"SignCounter {counter} does not fit in 32 bits")
    counter_octets = counter.to_bytes(4, "little")
    mac = aes_cmac(csrk, swap(bytes(message) + counter_octets))[:8]
    return counter_octets + swap(mac)


def split_signed(signed: bytes) -> tuple[bytes, int, bytes]:
    """``(message, counter, signature)`` of data ending in a 12-octet signature."""
    if len(signed) < SIGNATURE_LENGTH:
        raise InvalidSignature(f"signed data has {len(signed)} octets, less than a signature")
    message = bytes(signed[:-SIGNATURE_LENGTH])
    signature = bytes(signed[-SIGNATURE_LENGTH:])
    return message, int.from_bytes(signature[:4], "little"), signature


def verify(csrk: bytes, signed: bytes, min_counter: int = 0) -> int:
    """Check ``signed`` (message || signature, as received) against ``csrk``; returns
    its SignCounter. Raises :class:`InvalidSignature` for a wrong MAC and
    :class:`ReplayedSignature` for a counter below ``min_counter``."""
    message, counter, signature = split_signed(signed)
    if sign(csrk, counter, message) != signature:
        raise InvalidSignature("the signature does not match the data")
    if counter < min_counter:
        raise ReplayedSignature(f"SignCounter {counter} below {min_counter}: replayed")
    return counter


def verify_with_bonds(bonds: BondStore, peer: Address, signed: bytes) -> bytes:
    """Verify data signed by the bonded ``peer`` (identity or RPA) and record its
    counter; returns the message without its signature. Raises
    :class:`SignatureError` if there is no CSRK for the peer, the MAC is wrong or the
    counter was already used."""
    bond = bonds.find(peer)
    if bond is None or bond.peer_csrk is None:
        raise InvalidSignature(f"no CSRK for {peer!r}")
    counter = verify(bond.peer_csrk, signed, bond.peer_sign_counter)
    if not bonds.accept_peer_sign_counter(bond.peer_address, counter):
        raise ReplayedSignature(f"SignCounter {counter} already used")  # pragma: no cover
    return split_signed(signed)[0]
