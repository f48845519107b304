"""Bond store (host.bonds): look-ups, RPA resolution against the spec's ah sample,
persistence hook and JSON round trip."""

from __future__ import annotations

import json
import random

import pytest

from host.bonds import (
    BOND_STORE_VERSION,
    Bond,
    BondStore,
    BondStoreError,
    LongTermKey,
    generate_rpa,
    resolve_rpa,
)
from linklayer.address import Address, AddressKind

# Vol 3 Part H Appendix D.7 (ah): IRK, prand 708194 -> hash 0dfbaa: RPA 70:81:94:0D:FB:AA.
SPEC_IRK = bytes.fromhex("ec0234a357c8ad05341010a60a397d9b")
SPEC_RPA = Address.parse("70:81:94:0D:FB:AA", random=True)

PEER = Address.parse("00:1B:DC:11:22:33")
OTHER = Address.parse("C1:22:33:44:55:66", random=True)


def ltk(fill: int, ediv: int = 0, rand: int = 0, sc: bool = False) -> LongTermKey:
    return LongTermKey(bytes([fill]) * 16, ediv, rand, 16, True, sc)


def test_resolve_rpa_with_spec_sample() -> None:
    assert SPEC_RPA.kind is AddressKind.RESOLVABLE_PRIVATE
    assert resolve_rpa(SPEC_IRK, SPEC_RPA)
    assert not resolve_rpa(SPEC_IRK, Address.parse("70:81:94:0D:FB:AB", random=True))
    assert not resolve_rpa(bytes(16), SPEC_RPA)
    assert not resolve_rpa(SPEC_IRK, Address.parse("70:81:94:0D:FB:AA"))  # public: not an RPA


def test_generate_rpa_resolves_and_varies() -> None:
    rng = random.Random(3)
    addresses = {generate_rpa(SPEC_IRK, rng) for _ in range(20)}
    assert len(addresses) == 20
    for address in addresses:
        assert address.kind is AddressKind.RESOLVABLE_PRIVATE
        assert resolve_rpa(SPEC_IRK, address)
        assert not resolve_rpa(bytes(range(16)), address)


def test_lookups() -> None:
    store = BondStore()
    bond = Bond(PEER, peer_irk=SPEC_IRK, local_ltk=ltk(1, 0x1234, 99), peer_ltk=ltk(2, 7, 8))
    store.add(bond)
    store.add(Bond(OTHER, local_ltk=ltk(3, sc=True), peer_ltk=ltk(3, sc=True)))
    assert len(store) == 2
    assert store.get(PEER) is bond
    assert store.find(PEER) is bond
    assert store.find(SPEC_RPA) is bond  # resolved through the IRK
    assert store.get(SPEC_RPA) is None  # exact identity only
    assert store.find(Address.parse("40:00:00:00:00:01", random=True)) is None
    assert store.find_by_ediv_rand(0x1234, 99) is bond
    assert store.find_by_ediv_rand(7, 8) is None  # the peer's key does not answer LTK requests
    assert store.find_by_ediv_rand(0, 0) is None  # SC keys are found by address
    assert bond.ltk_for(central=True) == ltk(2, 7, 8)
    assert bond.ltk_for(central=False) == ltk(1, 0x1234, 99)


def test_add_replaces_same_identity_or_irk() -> None:
    store = BondStore()
    store.add(Bond(PEER, peer_irk=SPEC_IRK, peer_ltk=ltk(1)))
    store.add(Bond(PEER, peer_irk=SPEC_IRK, peer_ltk=ltk(2)))
    assert len(store) == 1 and store.get(PEER) is not None
    assert store.get(PEER).peer_ltk == ltk(2)  # type: ignore[union-attr]
    moved = Address.parse("C0:00:00:00:00:09", random=True)
    store.add(Bond(moved, peer_irk=SPEC_IRK))  # same device, new identity
    assert [b.peer_address for b in store] == [moved]
    store.add(Bond(OTHER, peer_irk=bytes(16)))  # zero IRKs never match each other
    store.add(Bond(PEER, peer_irk=bytes(16)))
    assert len(store) == 3


def test_remove_and_clear_call_persist() -> None:
    written: list[str] = []
    store = BondStore(persist=written.append)
    store.add(Bond(PEER))
    store.add(Bond(OTHER))
    assert len(written) == 2
    assert store.remove(PEER)
    assert not store.remove(PEER)
    assert len(written) == 3
    store.clear()
    assert len(store) == 0 and len(written) == 4
    assert json.loads(written[-1])["bonds"] == []


def test_local_irk_is_drawn_once_and_survives_clear() -> None:
    written: list[str] = []
    store = BondStore(persist=written.append)
    irk = store.ensure_local_irk(random.Random(1))
    assert len(irk) == 16 and store.local_irk == irk
    assert store.ensure_local_irk(random.Random(2)) == irk
    assert len(written) == 1
    store.clear()
    assert store.local_irk == irk


def test_sign_counters() -> None:
    store = BondStore()
    store.add(Bond(PEER, peer_csrk=bytes(16), local_csrk=bytes(range(16))))
    assert [store.next_local_sign_counter(PEER) for _ in range(3)] == [0, 1, 2]
    assert store.accept_peer_sign_counter(PEER, 5)
    assert not store.accept_peer_sign_counter(PEER, 5)  # replay
    assert not store.accept_peer_sign_counter(PEER, 4)
    assert store.accept_peer_sign_counter(PEER, 6)
    with pytest.raises(KeyError):
        store.next_local_sign_counter(OTHER)


def test_json_round_trip_keeps_everything() -> None:
    store = BondStore()
    store.ensure_local_irk(random.Random(9))
    store.add(
        Bond(
            PEER, peer_irk=SPEC_IRK, local_ltk=ltk(1, 0xBEEF, 2**64 - 1),
            peer_ltk=LongTermKey(bytes(9) + bytes(range(7)), 5, 6, 7, False, False),
            peer_csrk=bytes(range(16)), local_csrk=bytes(range(16, 32)),
            peer_sign_counter=12, local_sign_counter=34,
        )
    )
    store.add(Bond(OTHER, local_ltk=ltk(4, sc=True), peer_ltk=ltk(4, sc=True)))
    text = store.to_json()
    written: list[str] = []
    again = BondStore.from_json(text, persist=written.append)
    assert list(again) == list(store)
    assert again.local_irk == store.local_irk
    assert again.to_json() == text
    assert written == []  # loading does not write
    assert json.loads(text)["version"] == BOND_STORE_VERSION
    again.remove(OTHER)
    assert len(written) == 1


def test_json_literal_document() -> None:
    """A document written by hand (not by to_json) loads."""
    text = json.dumps({
        "version": 1, "local_irk": None,
        "bonds": [{
            "peer_address": "00:1B:DC:11:22:33", "peer_address_random": False,
            "peer_irk": "ec0234a357c8ad05341010a60a397d9b",
            "local_ltk": None,
            "peer_ltk": {"key": "00" * 16, "ediv": 1, "rand": 2, "key_size": 16,
                         "authenticated": False, "secure_connections": False},
            "peer_csrk": None, "local_csrk": None,
            "peer_sign_counter": 0, "local_sign_counter": 0,
        }],
    })
    store = BondStore.from_json(text)
    assert store.find(SPEC_RPA) is not None
    assert store.get(PEER) == Bond(PEER, peer_irk=SPEC_IRK, peer_ltk=LongTermKey(bytes(16), 1, 2, 16, False, False))


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"version": 99, "bonds": []}',
        '{"version": 1}',
        '{"version": 1, "bonds": [{"peer_address": "zz"}]}',
        '{"version": 1, "bonds": [1]}',
        '{"version": 1, "local_irk": "abcd", "bonds": []}',
        '{"version": 1, "bonds": [{"peer_address": "00:00:00:00:00:01", "peer_address_random": false,'
        ' "peer_irk": "xyz", "local_ltk": null, "peer_ltk": null, "peer_csrk": null, "local_csrk": null,'
        ' "peer_sign_counter": 0, "local_sign_counter": 0}]}',
        '{"version": 1, "bonds": [{"peer_address": "00:00:00:00:00:01", "peer_address_random": false,'
        ' "peer_irk": null, "local_ltk": {"key": "00", "ediv": 0, "rand": 0, "key_size": 16,'
        ' "authenticated": true, "secure_connections": true}, "peer_ltk": null, "peer_csrk": null,'
        ' "local_csrk": null, "peer_sign_counter": 0, "local_sign_counter": 0}]}',
        '{"version": 1, "bonds": [{"peer_address": "00:00:00:00:00:01", "peer_address_random": 1,'
        ' "peer_irk": null, "local_ltk": null, "peer_ltk": null, "peer_csrk": null,'
        ' "local_csrk": null, "peer_sign_counter": 0, "local_sign_counter": 0}]}',
    ],
)
def test_malformed_json_is_refused(text: str) -> None:
    with pytest.raises(BondStoreError):
        BondStore.from_json(text)


def test_invalid_keys_are_refused() -> None:
    with pytest.raises(BondStoreError):
        LongTermKey(bytes(16), 0, 0, 6, False, False)
    with pytest.raises(BondStoreError):
        LongTermKey(bytes(15), 0, 0, 16, False, False)
    with pytest.raises(BondStoreError):
        LongTermKey(bytes(16), 0x10000, 0, 16, False, False)
    with pytest.raises(BondStoreError):
        Bond(PEER, peer_irk=bytes(3))
