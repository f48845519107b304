"""The ``smp*`` functions of the ``ble`` module and events 63/64.

Theory of operation
-------------------
The later QuecPython firmware adds pairing on top of the security issue:
``smpSetConfig(io_cap, auth_req, passkey, timeout)`` sets the pairing features for the
links that follow (and the open ones), ``smpStartPair(connect_id)`` starts pairing
(central: Pairing Request; peripheral: Security Request), event 64
``(64, status, connect_id, pair_mode, pin)`` asks the application to act, which answers
with ``smpUserConfirm(connect_id, op, pin)`` (op 0 cancel, 1 confirm, 2 confirm with a
PIN), and event 63 ``(63, status)`` ends the pairing.

Everything is the host's Security Manager (:class:`host.smp.SmpSession`): this module
maps the Quectel settings onto :class:`host.smp_types.SmpConfig` and the host's pairing
events onto the Quectel pair modes (Helios ``Helios_BleSmpPairMode``; legacy/SC by the
configured SC bit):

==============================  ===========================================================
``smpSetConfig`` argument       ``SmpConfig``
==============================  ===========================================================
``io_cap``                      ``io_capability`` (the SMP IO Capability, 0..4)
``auth_req``                    bonding bit 0, MITM bit 2, SC bit 3, keypress bit 4
``passkey``                     ``passkey``: the PIN this device displays (0..999999)
``timeout`` (seconds)           ``timeout_ns``, the Security Manager Timer (0: 30 s)
==============================  ===========================================================

==========================================  ===============================================
host event                                  event 64 ``pair_mode``, answer
==========================================  ===============================================
``JustWorksRequest``                        1 / 5 (Just Works): op 1 accepts, op 0 refuses
``PasskeyDisplay``                          2 / 7 (PIN shown, in ``pin``): nothing to answer
``PasskeyRequest``                          3 / 8 (PIN to enter): op 2 with the PIN, op 0
                                            cancels
``NumericComparisonRequest``                6 (value in ``pin``): op 1 accepts, op 0 refuses
==========================================  ===============================================

As on the Unisoc stack of the QuecPython demos, a Just Works pairing waits for the
application's ``smpUserConfirm`` (``SmpConfig.confirm_just_works``): refused, it ends
with Pairing Not Supported (event 63 with status 5 on both sides). A pairing that fails
reports the Pairing Failed reason as the status of event 63 (1 when it timed out).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from host.events import HostEvent, NumericComparisonRequest, PairingComplete, PasskeyDisplay, PasskeyRequest
from host.smp_events import JustWorksRequest
from host.smp_pdu import IoCapability
from host.smp_types import SMP_TIMEOUT_NS, PairingResult, SmpConfig
from linklayer.address import Address

from . import ble_events as ev

if TYPE_CHECKING:
    from .ble_stack import BleStack

__all__ = ["SmpAdapter", "SmpSettings"]


@dataclasses.dataclass(frozen=True)
class SmpSettings:
    """What ``smpSetConfig`` was given."""

    io_cap: int
    auth_req: int
    passkey: int
    timeout: int


class SmpAdapter:
    """The SMP part of a :class:`~.ble_stack.BleStack`."""

    def __init__(self, stack: BleStack) -> None:
        self.stack = stack
        self.settings: SmpSettings | None = None

    # -- configuration -----------------------------------------------------------------

    def _config(self) -> SmpConfig:
        base = dataclasses.replace(self.stack.board.host.config.smp, confirm_just_works=True)
        s = self.settings
        if s is None:
            return base
        return dataclasses.replace(
            base, io_capability=IoCapability(s.io_cap), bonding=bool(s.auth_req & 0x01),
            mitm=bool(s.auth_req & 0x04), secure_connections=bool(s.auth_req & 0x08),
            keypress=bool(s.auth_req & 0x10), passkey=s.passkey,
            timeout_ns=s.timeout * 1_000_000_000 if s.timeout > 0 else SMP_TIMEOUT_NS,
        )

    def set_config(self, io_cap: int, auth_req: int, passkey: int, timeout: int) -> int:
        if not self.stack.ready():
            return -1
        self.settings = SmpSettings(io_cap, auth_req, passkey, timeout)
        config = self._config()
        host = self.stack.board.host
        for cid in self.stack.connection_ids:
            handle = self.stack.handle_of(cid)
            if handle is not None:
                host.smp(handle).config = config
        return 0

    def get_config(self) -> tuple[int, int, int, int] | int:
        if not self.stack.ready():
            return -1
        if self.settings is not None:
            s = self.settings
            return (s.io_cap, s.auth_req, s.passkey, s.timeout)
        c = self._config()
        return (int(c.io_capability), int(c.auth_req), c.passkey or 0, c.timeout_ns // 1_000_000_000)

    def on_connected(self, handle: int) -> None:
        self.stack.board.host.smp(handle).config = self._config()

    # -- pairing -------------------------------------------------------------------------

    def start_pair(self, cid: int) -> int:
        handle = self.stack.handle_of(cid)
        if not self.stack.ready() or handle is None:
            return -1
        host, now = self.stack.board.host, self.stack.now
        return self.stack.call(lambda: host.pair(handle, now))

    def user_confirm(self, cid: int, op: int, pin: int) -> int:
        handle = self.stack.handle_of(cid)
        if not self.stack.ready() or handle is None:
            return -1
        session = self.stack.board.host.smp(handle)
        now = self.stack.now
        if session.waiting_for_just_works:
            return self.stack.call(lambda: session.just_works_reply(op != 0, now))
        if session.waiting_for_passkey:
            if op == 1:
                return -1  # a PIN is needed
            return self.stack.call(lambda: session.passkey_reply(pin if op == 2 else None, now))
        if session.waiting_for_confirmation:
            return self.stack.call(lambda: session.numeric_comparison_reply(op != 0, now))
        return 0 if op == 1 else -1

    # -- bonds -----------------------------------------------------------------------------

    def paired_devices(self) -> list[tuple[int, bytes]]:
        """``smpGetPairedDevInfo``: ``[(addr_type, addr), ...]`` of the node's bonds."""
        bonds = self.stack.board.host.bonds
        if bonds is None:
            return []
        return [(b.peer_address.address_type, bytes(b.peer_address.value)) for b in bonds]

    def remove_paired(self, address: bytes) -> int:
        bonds = self.stack.board.host.bonds
        if bonds is None:
            return -1
        for random in (False, True):
            if bonds.remove(Address(address, random)):
                return 0
        return -1

    def clean_paired(self) -> int:
        bonds = self.stack.board.host.bonds
        if bonds is not None:
            bonds.clear()
        return 0

    # -- events ----------------------------------------------------------------------------

    def _sc(self) -> bool:
        return self._config().secure_connections

    def on_host_event(self, event: HostEvent) -> None:
        stack = self.stack
        if isinstance(event, PairingComplete):
            if stack.cid_of(event.handle) is None:
                return
            status = 0
            if not event.success:
                result = event.result
                reason = result.reason if isinstance(result, PairingResult) else None
                status = int(reason) if reason else 1
            stack.post(ev.status_only(ev.BLE_GATT_SMP_COMPLETE_IND, status))
        elif isinstance(event, PasskeyDisplay):
            cid = stack.cid_of(event.handle)
            if cid is not None:
                stack.post(ev.user_confirm(cid, 7 if self._sc() else 2, event.passkey))
        elif isinstance(event, PasskeyRequest):
            cid = stack.cid_of(event.handle)
            if cid is not None:
                stack.post(ev.user_confirm(cid, 8 if self._sc() else 3, 0))
        elif isinstance(event, NumericComparisonRequest):
            cid = stack.cid_of(event.handle)
            if cid is not None:
                stack.post(ev.user_confirm(cid, 6, event.value))
        elif isinstance(event, JustWorksRequest):
            cid = stack.cid_of(event.handle)
            if cid is not None:
                stack.post(ev.user_confirm(cid, 5 if self._sc() else 1, 0))
