"""``FirmwareBondStore`` on its own: every look-up and change of the MicroPython node's
bond store is a ``_IRQ_GET_SECRET`` / ``_IRQ_SET_SECRET`` call to the firmware, with the
key layout the personality documents, and the firmware's answers decide what is kept.
The firmware here is a dict behind a recording call, as a handler would be."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import pytest

from apis.micropython.irq import Buf
from apis.micropython.pairing import SEC_TYPE_IRK, SEC_TYPE_PEER, FirmwareBondStore
from host.bonds import Bond, BondStore, LongTermKey, generate_rpa
from linklayer.hci.address import Address

GET, SET = 29, 30
ALICE = Address(bytes.fromhex("0102030405c0"), random=True)  # static random, LSB first
BOB = Address(bytes.fromhex("112233445566"), random=False)
IRK_A = bytes(range(16))
IRK_B = bytes(range(16, 32))
LTK = LongTermKey(bytes(16), ediv=0x1234, rand=0x55AA, key_size=16, authenticated=False, secure_connections=False)


def _plain(item: Any) -> Any:
    return bytes(item.data) if isinstance(item, Buf) else item


class Firmware:
    """A handler keeping secrets in a dict, recording each call."""

    def __init__(self, accept_writes: bool = True) -> None:
        self.secrets: dict[tuple[int, bytes], bytes] = {}
        self.calls: list[tuple[Any, ...]] = []
        self.accept_writes = accept_writes

    def __call__(self, event: int, data: tuple[Any, ...]) -> Any:
        data = tuple(_plain(x) for x in data)
        self.calls.append((event, *data))
        if event == GET:
            sec_type, index, key = data
            if key is None:
                found = [v for (t, _), v in sorted(self.secrets.items()) if t == sec_type]
                return found[index] if index < len(found) else None
            return self.secrets.get((sec_type, key))
        sec_type, key, value = data
        if not self.accept_writes:
            return False
        if value is None:
            self.secrets.pop((sec_type, key), None)
        else:
            self.secrets[(sec_type, key)] = value
        return True


def _store(firmware: Firmware, peers: list[Address] | None = None) -> FirmwareBondStore:
    store = FirmwareBondStore(firmware, lambda: list(peers or []))
    store.restore()
    return store


def test_keys_are_the_identity_type_octet_and_address_lsb_first() -> None:
    fw = Firmware()
    store = _store(fw)
    store.add(Bond(ALICE, peer_irk=IRK_A))
    store.add(Bond(BOB))
    assert sorted(fw.secrets) == [(SEC_TYPE_PEER, b"\x00" + BOB.value), (SEC_TYPE_PEER, b"\x01" + ALICE.value)]
    fw.calls.clear()
    assert store.get(BOB) == Bond(BOB)
    assert fw.calls == [(GET, SEC_TYPE_PEER, 0, b"\x00" + BOB.value)]


def test_a_refused_write_keeps_nothing() -> None:
    fw = Firmware(accept_writes=False)
    store = _store(fw)
    store.add(Bond(ALICE, peer_irk=IRK_A, local_ltk=LTK))
    assert (SET, SEC_TYPE_PEER, b"\x01" + ALICE.value) == fw.calls[-1][:3]
    assert store.get(ALICE) is None and len(store) == 0
    # Nor is the refused bond's IRK used to resolve the peer's private addresses.
    assert store.find(generate_rpa(IRK_A, random.Random(1))) is None


def test_restore_rebuilds_the_resolving_list_and_reads_the_node_irk() -> None:
    fw = Firmware()
    first = _store(fw)
    first.add(Bond(ALICE, peer_irk=IRK_A))
    local = first.ensure_local_irk(random.Random(5))
    assert fw.secrets[(SEC_TYPE_IRK, b"irk")] == local
    fw.calls.clear()
    again = _store(fw)  # a reboot: only the firmware's dict survives
    assert fw.calls == [
        (GET, SEC_TYPE_PEER, 0, None),
        (GET, SEC_TYPE_PEER, 1, None),
        (GET, SEC_TYPE_IRK, 0, b"irk"),
    ]
    assert again.local_irk == local
    assert again.ensure_local_irk(random.Random(6)) == local  # not drawn again
    fw.calls.clear()
    rpa = generate_rpa(IRK_A, random.Random(2))
    found = again.find(rpa)
    assert found is not None and found.peer_address == ALICE
    # Resolved in RAM; the firmware is asked for that one identity only.
    assert fw.calls == [(GET, SEC_TYPE_PEER, 0, b"\x01" + ALICE.value)]


def test_a_new_identity_with_a_known_irk_replaces_the_old_bond() -> None:
    fw = Firmware()
    store = _store(fw)
    store.add(Bond(ALICE, peer_irk=IRK_A))
    store.add(Bond(BOB, peer_irk=IRK_A))
    assert [b.peer_address for b in store] == [BOB]
    assert (SET, SEC_TYPE_PEER, b"\x01" + ALICE.value, None) in fw.calls


def test_ltk_request_by_ediv_and_rand_asks_for_the_connected_peers_only() -> None:
    fw = Firmware()
    store = _store(fw, peers=[BOB])
    store.add(Bond(ALICE, local_ltk=LTK))
    fw.calls.clear()
    assert store.find_by_ediv_rand(LTK.ediv, LTK.rand) is None  # Alice is not connected
    assert fw.calls == [(GET, SEC_TYPE_PEER, 0, b"\x00" + BOB.value)]
    store = _store(fw, peers=[BOB, ALICE])
    found = store.find_by_ediv_rand(LTK.ediv, LTK.rand)
    assert found is not None and found.peer_address == ALICE
    assert store.find_by_ediv_rand(0, 0) is None


def test_counters_gatt_state_remove_and_clear_are_firmware_writes() -> None:
    fw = Firmware()
    store = _store(fw)
    store.add(Bond(ALICE, peer_csrk=IRK_B, local_csrk=IRK_B))
    store.add(Bond(BOB))
    assert store.next_local_sign_counter(ALICE) == 0
    assert store.next_local_sign_counter(ALICE) == 1
    assert store.accept_peer_sign_counter(ALICE, 7) and not store.accept_peer_sign_counter(ALICE, 3)
    alice = store.get(ALICE)
    assert alice is not None and (alice.local_sign_counter, alice.peer_sign_counter) == (2, 8)
    writes = len([c for c in fw.calls if c[0] == SET])
    store.set_gatt_state(ALICE, (), bytes(16))
    store.set_gatt_state(ALICE, (), bytes(16))  # unchanged: not written again
    assert len([c for c in fw.calls if c[0] == SET]) == writes + 1
    with pytest.raises(KeyError):
        store.next_local_sign_counter(Address(bytes(5) + b"\xc0", random=True))
    assert store.remove(BOB) and not store.remove(BOB)
    store.clear()
    assert fw.secrets == {} and len(store) == 0


def test_to_json_is_a_snapshot_of_the_firmware_store() -> None:
    fw = Firmware()
    store = _store(fw)
    store.ensure_local_irk(random.Random(3))
    bond = dataclasses.replace(Bond(ALICE, peer_irk=IRK_A), local_ltk=LTK)
    store.add(bond)
    copy = BondStore.from_json(store.to_json())
    assert list(copy) == [bond] and copy.local_irk == store.local_irk
