"""``BLE.gap_pair`` / ``gap_passkey``, the pairing ``config`` keys and the secret store.

Theory of operation
-------------------
``config(bond=, mitm=, io=, le_secure=)`` become the host's
:class:`~host.smp_types.SmpConfig` (NimBLE's ``sm_bonding``, ``sm_mitm``, ``sm_io_cap``
and ``sm_sc``: with ``le_secure`` False, the default, pairing is LE legacy), applied to
new connections and to the sessions of open ones. As in NimBLE, ``mitm`` only asks for
MITM protection (``enforce_mitm=False``: without IO the pairing is Just Works,
unauthenticated) and the displaying side's application picks the passkey
(``application_passkey=True``). ``gap_pair`` starts pairing as central (encrypting with
the bond's key when there is one) or sends a Security Request as peripheral. The host's
security events become IRQs:

* ``PasskeyRequest`` / ``DisplayPasskeyRequest`` / ``NumericComparisonRequest`` ->
  ``_IRQ_PASSKEY_ACTION (conn, action, passkey)`` with action 2 (input, passkey 0),
  3 (display, passkey 0) or 4 (numeric comparison, passkey = the number);
  ``gap_passkey(conn, action, passkey)`` answers: the passkey typed (2), the passkey
  this side shows (3; the pairing waits for it), accept or not (4);
* the end of a pairing, or an encryption change outside one (re-encryption from a
  bond) -> one ``_IRQ_ENCRYPTION_UPDATE (conn, encrypted, authenticated, bonded,
  key_size)``, as NimBLE's single ``BLE_GAP_EVENT_ENC_CHANGE`` per procedure (a pairing
  without keys to distribute ends with the Encryption Change itself: reported once).

Bonds live in the firmware, as on the board, where NimBLE's persistent store is
MicroPython's ``_IRQ_GET_SECRET`` / ``_IRQ_SET_SECRET``: the host's bond store is a
:class:`FirmwareBondStore` whose every read and write calls the handler synchronously
(:meth:`~apis.micropython.irq.IrqDispatcher.call_sync`), at the moment the stack needs
it. Encoding (opaque bytes to the firmware, as NimBLE's structures are):

* a peer's bond: ``sec_type`` 2, ``key`` = the address type octet (0 public, 1
  random) followed by the 6 address octets least significant first, of the peer's
  identity address; ``value`` = the UTF-8 JSON text of a one-bond
  :class:`~host.bonds.BondStore` (LTKs both ways, IRK, CSRKs, sign counters);
* the node's IRK: ``sec_type`` 10, ``key`` ``b'irk'``, ``value`` its 16 octets.

Reads: ``(2, 0, key)`` when the stack looks a peer up: the central encrypting from a
bond (``gap_pair``, a Security Request), the peripheral answering an LTK request (by the
key of each connected peer whose legacy EDIV/Rand match, or by the peer's key for LE
Secure Connections), the GATT server restoring or saving a bonded client's CCCDs;
``(2, index, None)`` from 0 until ``None`` when iterating
(``active(1)``, which also asks ``(10, 0, b'irk')``). Writes: ``(2, key, value)`` when a
pairing with bonding ends (and when a sign counter or a bonded client's CCCDs change), ``(2, key, None)`` to delete,
``(10, b'irk', irk)`` when the node draws its IRK. A falsy answer to a write is a failed
write: the bond is not kept, so a firmware that never stores secrets cannot re-encrypt
with the peer later, as on the board. Only the node's IRK and the bonded peers' IRKs
(NimBLE's resolving list, rebuilt at ``active(1)``) stay in RAM, to resolve private
addresses to the identity whose key is asked for.
The BTstack build has no pairing: its calls raise ``OSError(EOPNOTSUPP)`` and its
``config`` does not know the keys.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

from host.bonds import Bond, BondStore, BondStoreError, StoredCccd, resolve_rpa
from host.events import (
    EncryptionChanged,
    NumericComparisonRequest,
    PairingComplete,
    PasskeyDisplay,
    PasskeyRequest,
)
from host.hci import LocalError
from host.smp_events import DisplayPasskeyRequest
from host.smp_pdu import IoCapability
from host.smp_types import SmpConfig, SmpLocalError
from linklayer.hci.address import Address, AddressKind
from phy.types import Rng

from .ble_core import BleCore
from .errors import EALREADY, EINVAL, ENOTCONN, EOPNOTSUPP, raise_errno
from .gap import IRQ
from .irq import Buf

__all__ = ["FirmwareBondStore", "PASSKEY_ACTION", "PairingMixin", "SEC_TYPE_IRK", "SEC_TYPE_PEER"]


class PASSKEY_ACTION:
    """``_PASSKEY_ACTION_*`` values."""

    NONE = 0
    INPUT = 2
    DISPLAY = 3
    NUMERIC_COMPARISON = 4


#: Secret types used with the firmware's store (NimBLE's peer security, the node's IRK).
SEC_TYPE_PEER = 2
SEC_TYPE_IRK = 10
_IRK_KEY = b"irk"
_MAX_STORED = 64

#: ``call(event, data)``: run the IRQ handler synchronously, give its answer.
SecretCall = Callable[[int, tuple[Any, ...]], Any]


class PairingMixin(BleCore):
    """The pairing part of ``BLE`` (see the module docstring)."""

    _io: int
    _bond: bool
    _mitm: bool
    _le_secure: bool
    _reported_at: dict[int, int]

    def _init_pairing(self) -> None:
        self._io, self._bond, self._mitm, self._le_secure = 3, False, False, False
        self._reported_at = {}  # conn handle -> instant of its last pairing's report
        self._on(PasskeyRequest, self._ev_passkey_request)
        self._on(PasskeyDisplay, self._ev_passkey_display)
        self._on(DisplayPasskeyRequest, self._ev_passkey_display)
        self._on(NumericComparisonRequest, self._ev_numeric_comparison)
        self._on(EncryptionChanged, self._ev_encryption)
        self._on(PairingComplete, self._ev_pairing_complete)

    # -- configuration --------------------------------------------------------------------

    def _config_set_extra(self, name: str, value: Any) -> bool:
        if not self._nimble or name not in ("bond", "mitm", "io", "le_secure"):
            return False
        if name == "io":
            self._io = int(value)
        else:
            setattr(self, "_" + name, bool(value))
        self._apply_smp_config()
        return True

    def _smp_config(self, base: SmpConfig) -> SmpConfig:
        try:
            io = IoCapability(self._io)
        except ValueError:
            io = IoCapability.NO_INPUT_NO_OUTPUT
        # NimBLE: sm_mitm only asks for MITM protection (an unauthenticated key is
        # accepted), and the displaying side's application picks the passkey.
        return dataclasses.replace(
            base, io_capability=io, bonding=self._bond, mitm=self._mitm, secure_connections=self._le_secure,
            sc_only=False, enforce_mitm=False, application_passkey=True,
        )

    def _apply_smp_config(self) -> None:
        host = self._host
        smp = self._smp_config(host.config.smp)
        host.config = dataclasses.replace(host.config, smp=smp)
        for handle in list(self._conns):
            try:
                host.smp(handle).config = smp
            except LocalError:
                continue

    # -- the secret store -------------------------------------------------------------------

    def _pairing_activate(self) -> None:
        if not self._nimble:
            return
        self._apply_smp_config()
        store = FirmwareBondStore(self._secret_irq, self._connected_peers)
        store.restore()
        store.ensure_local_irk(self._rt.stack_random)
        self._host.bonds = store

    def _secret_irq(self, event: int, data: tuple[Any, ...]) -> Any:
        """Ask the firmware now (NimBLE calls the handler from inside the stack)."""
        done, result = self._irq.call_sync(event, data)
        return result if done else None

    def _connected_peers(self) -> list[Address]:
        return [info.address for _, info in sorted(self._conns.items())]

    # -- API ----------------------------------------------------------------------------------

    def _check_pairing(self, conn_handle: Any) -> int:
        self._check_active()
        if not self._nimble:
            raise_errno(EOPNOTSUPP)
        conn = int(conn_handle)
        if conn not in self._conns:
            raise_errno(ENOTCONN)
        return conn

    def gap_pair(self, conn_handle: int) -> None:
        """``BLE.gap_pair(conn_handle)``: pair (or re-encrypt with a bond) as central,
        ask for security as peripheral; ``_IRQ_ENCRYPTION_UPDATE`` follows."""
        conn = self._check_pairing(conn_handle)
        host = self._host
        try:
            session = host.smp(conn)
            if session.is_central and not session.pairing_in_progress and session.encrypt(self._now):
                pass
            else:
                host.pair(conn, self._now)
        except (SmpLocalError, LocalError):
            raise_errno(EALREADY)
        self._service()

    def gap_passkey(self, conn_handle: int, action: int, passkey: int) -> None:
        """``BLE.gap_passkey(conn_handle, action, passkey)``: answer ``_IRQ_PASSKEY_ACTION``."""
        conn = self._check_pairing(conn_handle)
        session = self._host.smp(conn)
        action = int(action)
        try:
            if action in (PASSKEY_ACTION.INPUT, PASSKEY_ACTION.DISPLAY):
                # INPUT: the passkey typed; DISPLAY: the passkey this side shows.
                session.passkey_reply(int(passkey), self._now)
            elif action == PASSKEY_ACTION.NUMERIC_COMPARISON:
                session.numeric_comparison_reply(bool(passkey), self._now)
            else:
                raise_errno(EINVAL)
        except SmpLocalError:
            raise_errno(EINVAL)
        self._service()

    # -- host events ------------------------------------------------------------------------

    def _ev_passkey_request(self, e: PasskeyRequest) -> None:
        self._irq.post(IRQ.PASSKEY_ACTION, (e.handle, PASSKEY_ACTION.INPUT, 0))

    def _ev_passkey_display(self, e: PasskeyDisplay | DisplayPasskeyRequest) -> None:
        self._irq.post(IRQ.PASSKEY_ACTION, (e.handle, PASSKEY_ACTION.DISPLAY, 0))

    def _ev_numeric_comparison(self, e: NumericComparisonRequest) -> None:
        self._irq.post(IRQ.PASSKEY_ACTION, (e.handle, PASSKEY_ACTION.NUMERIC_COMPARISON, e.value))

    def _encryption_update(self, handle: int) -> None:
        try:
            sec = self._host.smp(handle).security
        except LocalError:
            return
        bonds = self._host.bonds
        info = self._conns.get(handle)
        bonded = sec.bonded
        if not bonded and bonds is not None and info is not None:
            bonded = sec.encrypted and bonds.find(info.address) is not None
        self._irq.post(
            IRQ.ENCRYPTION_UPDATE, (handle, int(bool(sec.encrypted)), int(bool(sec.authenticated)), int(bool(bonded)), sec.key_size)
        )

    def _ev_encryption(self, e: EncryptionChanged) -> None:
        if e.handle not in self._conns:
            return
        try:
            session = self._host.smp(e.handle)
        except LocalError:
            return
        if session.pairing_in_progress or self._reported_at.get(e.handle) == self._now:
            return  # part of a pairing: reported once, when it completes (as NimBLE does)
        self._encryption_update(e.handle)

    def _ev_pairing_complete(self, e: PairingComplete) -> None:
        if e.handle in self._conns:
            # The Encryption Change that ends a pairing without keys to distribute
            # comes right after, at the same instant: it is the same update.
            self._reported_at[e.handle] = self._now
            self._encryption_update(e.handle)


class FirmwareBondStore(BondStore):
    """The bond store of a NimBLE build: the firmware's ``_IRQ_GET_SECRET`` /
    ``_IRQ_SET_SECRET`` (see the module docstring). ``call(event, data)`` runs the IRQ
    handler synchronously and gives its answer; ``peers()`` gives the addresses of the
    open connections (an LTK request names its key by EDIV/Rand, NimBLE by the peer)."""

    def __init__(self, call: SecretCall, peers: Callable[[], list[Address]]) -> None:
        super().__init__(persist=None)
        self._call = call
        self._peers = peers
        #: identity -> IRK of the bonded peers: the resolving list NimBLE keeps in RAM.
        self._irks: dict[Address, bytes] = {}

    # -- the firmware's store ------------------------------------------------------------

    def _read(self, identity: Address) -> Bond | None:
        key = _address_key(identity)
        value = self._call(IRQ.GET_SECRET, (SEC_TYPE_PEER, 0, Buf(key)))
        if value is None:
            return None
        return next((b for b in _decode_bonds(value) if b.peer_address == identity), None)

    def _write(self, identity: Address, bond: Bond | None) -> bool:
        value = None if bond is None else Buf(_encode_bond(bond))
        ok = bool(self._call(IRQ.SET_SECRET, (SEC_TYPE_PEER, Buf(_address_key(identity)), value)))
        if ok and bond is not None and bond.peer_irk is not None:
            self._irks[identity] = bond.peer_irk
        elif ok:
            self._irks.pop(identity, None)
        return ok

    def restore(self) -> None:
        """``active(1)``: every stored bond by index (rebuilding the resolving list),
        then the node's IRK."""
        self._irks = {b.peer_address: b.peer_irk for b in self if b.peer_irk is not None}
        stored = self._call(IRQ.GET_SECRET, (SEC_TYPE_IRK, 0, Buf(_IRK_KEY)))
        try:
            irk = bytes(stored) if stored is not None else None
        except TypeError:
            irk = None
        if irk is not None and len(irk) == 16:
            self._local_irk = irk

    def ensure_local_irk(self, rng: Rng) -> bytes:
        """This node's IRK; drawn from ``rng`` and stored with ``_IRQ_SET_SECRET (10,
        b'irk', irk)`` the first time (kept in RAM even if the firmware fails to store it)."""
        if self._local_irk is None:
            self._local_irk = rng.getrandbits(128).to_bytes(16, "big")
            self._call(IRQ.SET_SECRET, (SEC_TYPE_IRK, Buf(_IRK_KEY), Buf(self._local_irk)))
        return self._local_irk

    # -- BondStore ---------------------------------------------------------------------

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __iter__(self) -> Iterator[Bond]:
        bonds: list[Bond] = []
        for index in range(_MAX_STORED):
            value = self._call(IRQ.GET_SECRET, (SEC_TYPE_PEER, index, None))
            if value is None:
                break
            bonds.extend(_decode_bonds(value))
        return iter(bonds)

    def to_json(self) -> str:
        snapshot = BondStore()
        snapshot._local_irk = self._local_irk
        for bond in self:
            snapshot.add(bond)
        return snapshot.to_json()

    def add(self, bond: Bond) -> None:
        """Store ``bond`` with ``_IRQ_SET_SECRET``; a falsy answer: it is not kept. An
        older bond with the same IRK under another identity is deleted first."""
        irk = bond.peer_irk
        if irk is not None and any(irk):
            for identity, old in list(self._irks.items()):
                if old == irk and identity != bond.peer_address:
                    self._write(identity, None)
        self._write(bond.peer_address, bond)

    def get(self, identity: Address) -> Bond | None:
        return self._read(identity)

    def find(self, address: Address) -> Bond | None:
        """A resolvable private address is resolved with the bonded IRKs kept in RAM;
        the firmware is then asked by the identity's key."""
        if address.kind is AddressKind.RESOLVABLE_PRIVATE:
            for identity, irk in list(self._irks.items()):
                if resolve_rpa(irk, address):
                    return self._read(identity)
        return self._read(address)

    def find_by_ediv_rand(self, ediv: int, rand: int) -> Bond | None:
        """The connected peer whose bond holds the legacy LTK with this EDIV and Rand
        (each connected peer asked by its key, as NimBLE asks for the requesting peer)."""
        if ediv == 0 and rand == 0:
            return None
        for peer in self._peers():
            bond = self.find(peer)
            ltk = bond.local_ltk if bond is not None else None
            if bond is not None and ltk is not None and ltk.ediv == ediv and ltk.rand == rand:
                return bond
        return None

    def remove(self, identity: Address) -> bool:
        if self._read(identity) is None:
            return False
        self._write(identity, None)
        return True

    def clear(self) -> None:
        for bond in list(self):
            self._write(bond.peer_address, None)
        self._irks.clear()

    def next_local_sign_counter(self, identity: Address) -> int:
        bond = self._need(identity)
        counter = bond.local_sign_counter
        self._write(identity, dataclasses.replace(bond, local_sign_counter=counter + 1))
        return counter

    def accept_peer_sign_counter(self, identity: Address, counter: int) -> bool:
        bond = self._need(identity)
        if counter < bond.peer_sign_counter:
            return False
        self._write(identity, dataclasses.replace(bond, peer_sign_counter=counter + 1))
        return True

    def set_gatt_state(
        self, identity: Address, cccds: tuple[StoredCccd, ...], database_hash: bytes | None
    ) -> None:
        bond = self._need(identity)
        if bond.gatt_cccds == cccds and bond.gatt_database_hash == database_hash:
            return
        self._write(identity, dataclasses.replace(bond, gatt_cccds=cccds, gatt_database_hash=database_hash))

    def _need(self, identity: Address) -> Bond:
        bond = self._read(identity)
        if bond is None:
            raise KeyError(f"no bond with {identity!r}")
        return bond


def _address_key(address: Address) -> bytes:
    return bytes((address.address_type,)) + address.value


def _encode_bond(bond: Bond) -> bytes:
    store = BondStore()
    store.add(bond)
    return store.to_json().encode()


def _decode_bonds(value: Any) -> list[Bond]:
    try:
        return list(BondStore.from_json(bytes(value).decode()))
    except (BondStoreError, UnicodeDecodeError, TypeError, ValueError):
        return []
