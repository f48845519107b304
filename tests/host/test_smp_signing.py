"""CSRK data signing (host.smp_signing, Vol 3 Part H 2.4.5).

The literal vector is BlueZ's unit/test-crypto.c "sign_att_5": an ATT Signed Write
Command (opcode 0xD2, handle 0x0012, value 13 37) signed with counter 1; BlueZ holds
the CSRK least significant octet first (50 5E 42 ... 1B 61), so MSB-first it is the
reverse. Expected signature: 01 00 00 00 F1 87 1E 93 3C 90 0F F2.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from host.bonds import Bond, BondStore
from host.smp_signing import (
    SIGNATURE_LENGTH,
    InvalidSignature,
    ReplayedSignature,
    sign,
    split_signed,
    verify,
    verify_with_bonds,
)
from linklayer.address import Address

CSRK_LSO_FIRST = bytes.fromhex("505e42df9691ec72d31fcdfbeb641b61")
CSRK = CSRK_LSO_FIRST[::-1]
MESSAGE = bytes.fromhex("d212001337")
SIGNATURE = bytes.fromhex("01000000f1871e933c900ff2")
PEER = Address.parse("00:1B:DC:11:22:33")


def test_bluez_sample_signature() -> None:
    assert sign(CSRK, 1, MESSAGE) == SIGNATURE
    assert len(SIGNATURE) == SIGNATURE_LENGTH


def test_verify_accepts_the_sample_and_returns_its_counter() -> None:
    assert verify(CSRK, MESSAGE + SIGNATURE) == 1
    assert split_signed(MESSAGE + SIGNATURE) == (MESSAGE, 1, SIGNATURE)


@pytest.mark.parametrize("flip", [0, 3, 5, 8, 16])
def test_forged_or_corrupted_data_is_rejected(flip: int) -> None:
    signed = bytearray(MESSAGE + SIGNATURE)
    signed[flip] ^= 0x01
    with pytest.raises(InvalidSignature):
        verify(CSRK, bytes(signed))


def test_wrong_key_and_short_data_are_rejected() -> None:
    with pytest.raises(InvalidSignature):
        verify(CSRK_LSO_FIRST, MESSAGE + SIGNATURE)
    with pytest.raises(InvalidSignature):
        verify(CSRK, SIGNATURE[:11])


def test_counter_below_minimum_is_a_replay() -> None:
    with pytest.raises(ReplayedSignature):
        verify(CSRK, MESSAGE + SIGNATURE, min_counter=2)
    assert verify(CSRK, MESSAGE + SIGNATURE, min_counter=1) == 1


def test_sign_checks_arguments() -> None:
    with pytest.raises(ValueError):
        sign(CSRK[:15], 0, MESSAGE)
    with pytest.raises(ValueError):
        sign(CSRK, 2**32, MESSAGE)


@given(st.binary(max_size=64), st.integers(0, 2**32 - 1), st.binary(min_size=16, max_size=16))
def test_sign_verify_round_trip(message: bytes, counter: int, csrk: bytes) -> None:
    signed = message + sign(csrk, counter, message)
    assert verify(csrk, signed, counter) == counter


def test_verify_with_bonds_records_counters_and_rejects_replays() -> None:
    written: list[str] = []
    store = BondStore(persist=written.append)
    store.add(Bond(PEER, peer_csrk=CSRK))
    first = MESSAGE + SIGNATURE
    assert verify_with_bonds(store, PEER, first) == MESSAGE
    assert store.get(PEER).peer_sign_counter == 2  # type: ignore[union-attr]
    with pytest.raises(ReplayedSignature):
        verify_with_bonds(store, PEER, first)
    second = MESSAGE + sign(CSRK, 2, MESSAGE)
    assert verify_with_bonds(store, PEER, second) == MESSAGE
    assert len(written) == 3  # add + two accepted counters
    with pytest.raises(InvalidSignature):
        verify_with_bonds(store, Address.parse("00:00:00:00:00:01"), second)
