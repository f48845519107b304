"""The bond store: keys kept from LE pairings (Core Specification Vol 3 Part H 2.4, 3.6).

Theory of operation
-------------------
Pairing with bonding leaves each device a set of keys about its peer (Vol 3 Part H 2.4,
key distribution 3.6): a Long Term Key with its EDIV/Rand and security properties, the
peer's Identity Resolving Key with its identity address, and Connection Signature
Resolving Keys with their sign counters. A :class:`Bond` holds them for one peer,
indexed by the peer's **identity address**; :class:`BondStore` holds a node's bonds and
answers the three look-ups the host needs:

* :meth:`BondStore.find` - by an address seen on the air: the identity itself, or a
  resolvable private address resolved through each bonded IRK with ``ah`` (2.2.2);
* :meth:`BondStore.find_by_ediv_rand` - a peripheral answering an LE legacy LTK request
  (the EDIV and Rand it distributed identify the key);
* :meth:`BondStore.get` - exact identity.

Legacy pairing distributes one LTK per direction: the one the *peer* distributed
(``peer_ltk``) is what this device uses when it is the central and starts encryption;
the one *this* device distributed (``local_ltk``) is what it answers with as a
peripheral. LE Secure Connections derives a single LTK used in both roles (EDIV = Rand =
0), stored in both fields.

A bond also carries what this device's GATT server keeps for the peer as a client
(Vol 3 Part G 3.3.3.3, 2.5.2.1): its CCCD values (:class:`StoredCccd`, keyed by the
characteristic's position, not its handle) and the Database Hash it last saw;
:meth:`BondStore.set_gatt_state` replaces them. Files written before these fields
existed load with none.

The store is plain data (the host is sans-IO): :meth:`BondStore.to_json` /
:meth:`BondStore.from_json` serialise it, and every change calls the ``persist`` hook
with the new JSON text, so the driver that owns the node's state folder writes it
atomically (temp file + ``os.replace``) and a crash never leaves half a bond.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from typing import Any, Final

from host.smp_crypto import ah
from host.smp_pdu import swap
from host.uuid import UUID, UUIDError
from linklayer.hci.address import Address, AddressError, AddressKind
from phy.types import Rng

__all__ = [
    "BOND_STORE_VERSION", "Bond", "BondStore", "BondStoreError", "LongTermKey", "StoredCccd",
    "generate_rpa", "resolve_rpa",
]

#: Version of the JSON layout written by :meth:`BondStore.to_json`.
BOND_STORE_VERSION: Final = 1


class BondStoreError(ValueError):
    """JSON text that is not a bond store, or a bond with invalid keys."""


# ---------------------------------------------------------------------------------------
# Resolvable private addresses (Vol 6 Part B 1.3.2.2, Vol 3 Part H 2.2.2)
# ---------------------------------------------------------------------------------------


def resolve_rpa(irk: bytes, address: Address) -> bool:
    """True if ``address`` is a resolvable private address generated from ``irk``
    (MSB-first, 16 octets): hash == ah(IRK, prand) (Vol 6 Part B 1.3.2.3)."""
    if address.kind is not AddressKind.RESOLVABLE_PRIVATE:
        return False
    prand = swap(address.value[3:6])
    return ah(irk, prand) == swap(address.value[0:3])


def generate_rpa(irk: bytes, rng: Rng) -> Address:
    """A fresh resolvable private address for ``irk`` (Vol 6 Part B 1.3.2.2): prand's
    two most significant bits 0b01, the rest random and not all 0 or all 1."""
    while True:
        random_part = rng.getrandbits(22)
        if random_part not in (0, (1 << 22) - 1):
            break
    prand = ((0b01 << 22) | random_part).to_bytes(3, "big")
    return Address(swap(prand + ah(irk, prand)), random=True)


# ---------------------------------------------------------------------------------------
# Keys and bonds
# ---------------------------------------------------------------------------------------


def _key(name: str, value: bytes | None) -> None:
    if value is not None and len(value) != 16:
        raise BondStoreError(f"{name} must be 16 octets, not {len(value)}")


@dataclasses.dataclass(frozen=True)
class LongTermKey:
    """An LTK (MSB-first, already masked to ``key_size``) with the EDIV and Rand that
    identify it (Vol 3 Part H 2.4.2; both 0 for LE Secure Connections) and the
    properties of the pairing that produced it (2.3.1, 2.4.1)."""

    key: bytes
    ediv: int
    rand: int
    key_size: int
    authenticated: bool
    secure_connections: bool

    def __post_init__(self) -> None:
        _key("LTK", self.key)
        if not 7 <= self.key_size <= 16:
            raise BondStoreError(f"key size {self.key_size} is outside 7..16")
        if not 0 <= self.ediv <= 0xFFFF or not 0 <= self.rand < 1 << 64:
            raise BondStoreError("EDIV is 16 bits and Rand 64 bits")


@dataclasses.dataclass(frozen=True)
class StoredCccd:
    """One CCCD value kept for a bonded client (Vol 3 Part G 3.3.3.3), keyed by where
    its characteristic sits rather than by handle, so that it survives a rebuilt
    database: the service UUID and the index of that service among the services with
    the same UUID (handle order), the characteristic UUID and its index among the
    characteristics with the same UUID in that service. ``value``: bit 0 notify, bit 1
    indicate."""

    service: UUID
    service_index: int
    characteristic: UUID
    characteristic_index: int
    value: int


@dataclasses.dataclass(frozen=True)
class Bond:
    """What a device keeps about one bonded peer (Vol 3 Part H 2.4).

    ``peer_address`` is the peer's identity address (the one it distributed, else the
    address it used when pairing). ``peer_sign_counter`` is the smallest SignCounter
    still acceptable from the peer; ``local_sign_counter`` the next one this device
    signs with (Vol 3 Part H 2.4.5).
    """

    peer_address: Address
    peer_irk: bytes | None = None
    local_ltk: LongTermKey | None = None
    peer_ltk: LongTermKey | None = None
    peer_csrk: bytes | None = None
    local_csrk: bytes | None = None
    peer_sign_counter: int = 0
    local_sign_counter: int = 0
    #: GATT server state kept for this bonded client (Vol 3 Part G 3.3.3.3, 2.5.2.1):
    #: its CCCD values by characteristic position, and the Database Hash it last saw
    #: (``None``: unknown, e.g. a bond stored before these fields existed).
    gatt_cccds: tuple[StoredCccd, ...] = ()
    gatt_database_hash: bytes | None = None

    def __post_init__(self) -> None:
        _key("peer IRK", self.peer_irk)
        _key("Database Hash", self.gatt_database_hash)
        _key("peer CSRK", self.peer_csrk)
        _key("local CSRK", self.local_csrk)

    def ltk_for(self, central: bool) -> LongTermKey | None:
        """The key to start encryption with as central, or to answer an LTK request
        with as peripheral."""
        return self.peer_ltk if central else self.local_ltk

    def matches(self, address: Address) -> bool:
        """The peer's identity, or a resolvable private address from its IRK."""
        if address == self.peer_address:
            return True
        return self.peer_irk is not None and resolve_rpa(self.peer_irk, address)


# ---------------------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------------------


def _hex(value: bytes | None) -> str | None:
    return None if value is None else value.hex()


def _ltk_json(ltk: LongTermKey | None) -> dict[str, Any] | None:
    if ltk is None:
        return None
    return {
        "key": ltk.key.hex(), "ediv": ltk.ediv, "rand": ltk.rand, "key_size": ltk.key_size,
        "authenticated": ltk.authenticated, "secure_connections": ltk.secure_connections,
    }


def _bond_json(bond: Bond) -> dict[str, Any]:
    return {
        "peer_address": str(bond.peer_address),
        "peer_address_random": bond.peer_address.random,
        "peer_irk": _hex(bond.peer_irk),
        "local_ltk": _ltk_json(bond.local_ltk),
        "peer_ltk": _ltk_json(bond.peer_ltk),
        "peer_csrk": _hex(bond.peer_csrk),
        "local_csrk": _hex(bond.local_csrk),
        "peer_sign_counter": bond.peer_sign_counter,
        "local_sign_counter": bond.local_sign_counter,
        **_gatt_json(bond),
    }


def _gatt_json(bond: Bond) -> dict[str, Any]:
    """The GATT server fields of a bond (absent from files written before them)."""
    return {
        "gatt_cccds": [
            {
                "service": str(c.service), "service_index": c.service_index,
                "characteristic": str(c.characteristic),
                "characteristic_index": c.characteristic_index, "value": c.value,
            }
            for c in bond.gatt_cccds
        ],
        "gatt_database_hash": _hex(bond.gatt_database_hash),
    }


def _unhex(value: Any) -> bytes | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BondStoreError(f"expected a hex string, got {value!r}")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise BondStoreError(f"not hex: {value!r}") from None


def _int(obj: dict[str, Any], name: str) -> int:
    value = obj[name]
    if not isinstance(value, int) or isinstance(value, bool):
        raise BondStoreError(f"{name} must be an integer, got {value!r}")
    return value


def _bool(obj: dict[str, Any], name: str) -> bool:
    value = obj[name]
    if not isinstance(value, bool):
        raise BondStoreError(f"{name} must be true or false, got {value!r}")
    return value


def _ltk_from(obj: Any) -> LongTermKey | None:
    if obj is None:
        return None
    if not isinstance(obj, dict):
        raise BondStoreError(f"an LTK is an object, got {obj!r}")
    key = _unhex(obj["key"])
    assert key is not None
    return LongTermKey(
        key, _int(obj, "ediv"), _int(obj, "rand"), _int(obj, "key_size"),
        _bool(obj, "authenticated"), _bool(obj, "secure_connections"),
    )


def _uuid(obj: dict[str, Any], name: str) -> UUID:
    value = obj[name]
    if not isinstance(value, str):
        raise BondStoreError(f"{name} must be a UUID string, got {value!r}")
    try:
        return UUID(value)
    except UUIDError as exc:
        raise BondStoreError(str(exc)) from None


def _gatt_from(obj: dict[str, Any]) -> dict[str, Any]:
    """The GATT server fields of a bond; a bond written before they existed has none
    (no CCCDs, hash unknown)."""
    cccds = obj.get("gatt_cccds", [])
    if not isinstance(cccds, list) or not all(isinstance(c, dict) for c in cccds):
        raise BondStoreError(f"gatt_cccds must be a list of objects, got {cccds!r}")
    return {
        "gatt_cccds": tuple(
            StoredCccd(
                _uuid(c, "service"), _int(c, "service_index"), _uuid(c, "characteristic"),
                _int(c, "characteristic_index"), _int(c, "value"),
            )
            for c in cccds
        ),
        "gatt_database_hash": _unhex(obj.get("gatt_database_hash")),
    }


def _bond_from(obj: Any) -> Bond:
    if not isinstance(obj, dict):
        raise BondStoreError(f"a bond is an object, got {obj!r}")
    try:
        address = Address.parse(str(obj["peer_address"]), _bool(obj, "peer_address_random"))
        return Bond(
            peer_address=address,
            peer_irk=_unhex(obj["peer_irk"]),
            local_ltk=_ltk_from(obj["local_ltk"]),
            peer_ltk=_ltk_from(obj["peer_ltk"]),
            peer_csrk=_unhex(obj["peer_csrk"]),
            local_csrk=_unhex(obj["local_csrk"]),
            peer_sign_counter=_int(obj, "peer_sign_counter"),
            local_sign_counter=_int(obj, "local_sign_counter"),
            **_gatt_from(obj),
        )
    except KeyError as exc:
        raise BondStoreError(f"bond lacks {exc.args[0]!r}") from None
    except AddressError as exc:
        raise BondStoreError(str(exc)) from None


# ---------------------------------------------------------------------------------------
# The store
# ---------------------------------------------------------------------------------------


class BondStore:
    """A node's bonds, keyed by peer identity address, plus the node's own IRK.

    ``persist`` (optional) receives the whole store as JSON text after every change.
    """

    def __init__(self, persist: Callable[[str], None] | None = None) -> None:
        self.persist = persist
        self._bonds: dict[Address, Bond] = {}
        self._local_irk: bytes | None = None

    # -- persistence ----------------------------------------------------------------

    def _changed(self) -> None:
        if self.persist is not None:
            self.persist(self.to_json())

    def to_json(self) -> str:
        """The store as JSON text (stable key order, so equal stores give equal text)."""
        document = {
            "version": BOND_STORE_VERSION,
            "local_irk": _hex(self._local_irk),
            "bonds": [_bond_json(b) for b in self._bonds.values()],
        }
        return json.dumps(document, indent=1, sort_keys=True)

    @classmethod
    def from_json(
        cls, text: str, persist: Callable[[str], None] | None = None
    ) -> BondStore:
        """Rebuild a store written by :meth:`to_json`; :class:`BondStoreError` if the
        text is not one."""
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BondStoreError(f"bond store is not JSON: {exc}") from None
        if not isinstance(document, dict) or document.get("version") != BOND_STORE_VERSION:
            raise BondStoreError("not a bond store (missing or unknown version)")
        bonds = document.get("bonds")
        if not isinstance(bonds, list):
            raise BondStoreError("bond store lacks its list of bonds")
        store = cls(persist=None)
        irk = _unhex(document.get("local_irk"))
        _key("local IRK", irk)
        store._local_irk = irk
        for obj in bonds:
            bond = _bond_from(obj)
            store._bonds[bond.peer_address] = bond
        store.persist = persist
        return store

    # -- the node's own identity ----------------------------------------------------

    @property
    def local_irk(self) -> bytes | None:
        """This node's IRK (MSB-first), kept so that bonded peers still resolve its
        private addresses after a reboot."""
        return self._local_irk

    def ensure_local_irk(self, rng: Rng) -> bytes:
        """This node's IRK, drawn from ``rng`` (and persisted) the first time."""
        if self._local_irk is None:
            self._local_irk = rng.getrandbits(128).to_bytes(16, "big")
            self._changed()
        return self._local_irk

    # -- bonds ----------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._bonds)

    def __iter__(self) -> Iterator[Bond]:
        return iter(list(self._bonds.values()))

    def add(self, bond: Bond) -> None:
        """Store ``bond``, replacing any bond with the same identity address or the
        same (non-zero) IRK: a peer that paired again replaces its old keys."""
        stale = [
            address for address, old in self._bonds.items()
            if address == bond.peer_address
            or (bond.peer_irk is not None and any(bond.peer_irk) and old.peer_irk == bond.peer_irk)
        ]
        for address in stale:
            del self._bonds[address]
        self._bonds[bond.peer_address] = bond
        self._changed()

    def get(self, identity: Address) -> Bond | None:
        """The bond whose identity address is exactly ``identity``."""
        return self._bonds.get(identity)

    def find(self, address: Address) -> Bond | None:
        """The bond for an address seen on the air: the identity itself, else a
        resolvable private address resolved with a bonded IRK."""
        exact = self._bonds.get(address)
        if exact is not None:
            return exact
        for bond in self._bonds.values():
            if bond.matches(address):
                return bond
        return None

    def find_by_ediv_rand(self, ediv: int, rand: int) -> Bond | None:
        """The bond whose locally distributed legacy LTK has this EDIV and Rand (an LTK
        request to a peripheral, Vol 3 Part H 2.4.2). EDIV = Rand = 0 names no legacy
        key and finds nothing."""
        if ediv == 0 and rand == 0:
            return None
        for bond in self._bonds.values():
            ltk = bond.local_ltk
            if ltk is not None and ltk.ediv == ediv and ltk.rand == rand:
                return bond
        return None

    def remove(self, identity: Address) -> bool:
        """Forget one peer; True if it was bonded."""
        if self._bonds.pop(identity, None) is None:
            return False
        self._changed()
        return True

    def clear(self) -> None:
        """Erase every bond (the node's IRK stays: erase_bonding keeps the identity)."""
        self._bonds.clear()
        self._changed()

    # -- sign counters (Vol 3 Part H 2.4.5) ------------------------------------------

    def next_local_sign_counter(self, identity: Address) -> int:
        """The SignCounter to sign the next message to this peer with, and advance it."""
        bond = self._need(identity)
        counter = bond.local_sign_counter
        self._bonds[identity] = dataclasses.replace(bond, local_sign_counter=counter + 1)
        self._changed()
        return counter

    def accept_peer_sign_counter(self, identity: Address, counter: int) -> bool:
        """Record a verified peer SignCounter; False (and nothing changes) if it is not
        above every counter already accepted (a replay)."""
        bond = self._need(identity)
        if counter < bond.peer_sign_counter:
            return False
        self._bonds[identity] = dataclasses.replace(bond, peer_sign_counter=counter + 1)
        self._changed()
        return True

    # -- GATT server state of a bonded client (Vol 3 Part G 3.3.3.3, 2.5.2.1) --------

    def set_gatt_state(
        self, identity: Address, cccds: tuple[StoredCccd, ...], database_hash: bytes | None
    ) -> None:
        """Replace the CCCD values and the Database Hash kept for a bonded client
        (persisted only when they changed)."""
        bond = self._need(identity)
        if bond.gatt_cccds == cccds and bond.gatt_database_hash == database_hash:
            return
        self._bonds[identity] = dataclasses.replace(
            bond, gatt_cccds=cccds, gatt_database_hash=database_hash
        )
        self._changed()

    def _need(self, identity: Address) -> Bond:
        bond = self._bonds.get(identity)
        if bond is None:
            raise KeyError(f"no bond with {identity!r}")
        return bond
