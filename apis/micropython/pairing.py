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

Bonds live in a :class:`~host.bonds.BondStore` given to the host at ``active(1)``; the
firmware's secret store is MicroPython's ``_IRQ_GET_SECRET`` / ``_IRQ_SET_SECRET``:
``active(1)`` asks for stored bonds ``(2, index, None)`` until ``None`` and for the
node's IRK ``(10, 0, b'irk')`` (storing a new one with ``_IRQ_SET_SECRET (10, b'irk',
irk)``), and every change of the store is saved as ``_IRQ_SET_SECRET (2, key, value)``
(``value`` ``None`` deletes). Values are opaque to the firmware, as NimBLE's are.
The BTstack build has no pairing: its calls raise ``OSError(EOPNOTSUPP)`` and its
``config`` does not know the keys.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from host.bonds import BOND_STORE_VERSION, BondStore, BondStoreError
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

from .ble_core import BleCore
from .errors import EALREADY, EINVAL, ENOTCONN, EOPNOTSUPP, raise_errno
from .gap import IRQ
from .irq import Buf

__all__ = ["PASSKEY_ACTION", "PairingMixin", "SEC_TYPE_IRK", "SEC_TYPE_PEER"]


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


class PairingMixin(BleCore):
    """The pairing part of ``BLE`` (see the module docstring)."""

    _io: int
    _bond: bool
    _mitm: bool
    _le_secure: bool
    _saved: dict[bytes, bytes]
    _reported_at: dict[int, int]

    def _init_pairing(self) -> None:
        self._io, self._bond, self._mitm, self._le_secure = 3, False, False, False
        self._saved = {}
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
        irk = None
        bonds = []
        if self._irq.handler is not None:
            for index in range(_MAX_STORED):
                value = self._irq.call_now(IRQ.GET_SECRET, (SEC_TYPE_PEER, index, None))
                if value is None:
                    break
                bonds.extend(_decode_bonds(value))
            stored = self._irq.call_now(IRQ.GET_SECRET, (SEC_TYPE_IRK, 0, Buf(_IRK_KEY)))
            if stored is not None and len(bytes(stored)) == 16:
                irk = bytes(stored)
        document: dict[str, Any] = {"version": BOND_STORE_VERSION, "local_irk": irk.hex() if irk else None, "bonds": []}
        store = BondStore.from_json(json.dumps(document))
        for bond in bonds:
            store.add(bond)
        if irk is None:
            irk = store.ensure_local_irk(self._rt.stack_random)
            if self._irq.handler is not None:
                self._irq.call_now(IRQ.SET_SECRET, (SEC_TYPE_IRK, Buf(_IRK_KEY), Buf(irk)))
        self._saved = {_bond_key(b.peer_address.address_type, b.peer_address.value): _encode_bond(b) for b in store}
        store.persist = self._persist
        self._host.bonds = store

    def _persist(self, text: str) -> None:
        """The host's bond store changed: save what changed with ``_IRQ_SET_SECRET``."""
        try:
            store = BondStore.from_json(text)
        except BondStoreError:
            return
        current = {_bond_key(b.peer_address.address_type, b.peer_address.value): _encode_bond(b) for b in store}
        for key in sorted(set(self._saved) - set(current)):
            self._irq.post(IRQ.SET_SECRET, (SEC_TYPE_PEER, Buf(key), None))
        for key, value in current.items():
            if self._saved.get(key) != value:
                self._irq.post(IRQ.SET_SECRET, (SEC_TYPE_PEER, Buf(key), Buf(value)))
        self._saved = current

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
            from linklayer.address import Address

            bonded = sec.encrypted and bonds.find(Address(info.addr[::-1], info.addr_type == 1)) is not None
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


def _bond_key(address_type: int, value: bytes) -> bytes:
    return bytes((address_type,)) + value


def _encode_bond(bond: Any) -> bytes:
    store = BondStore()
    store.add(bond)
    return store.to_json().encode()


def _decode_bonds(value: Any) -> list[Any]:
    try:
        return list(BondStore.from_json(bytes(value).decode()))
    except (BondStoreError, UnicodeDecodeError, TypeError, ValueError):
        return []
