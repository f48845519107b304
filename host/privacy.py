"""Host side of LE privacy: private addresses and address resolution (Vol 3 Part C 10.7;
Vol 6 Part B 1.3.2; Vol 4 Part E 7.8.38-7.8.45).

Theory of operation
-------------------
A device keeps its identity (public or random static address) private by using
**resolvable private addresses** (RPAs): ``prand || ah(IRK, prand)`` from its Identity
Resolving Key, replaced every RPA timeout, so that only bonded peers (which received the
IRK in SMP key distribution) can tell that two RPAs are the same device.
**Non-resolvable private addresses** (NRPAs) are random and link to nothing.

:func:`generate_nrpa` and :class:`RpaRotator` (an RPA plus its rotation timer, sans-IO:
``address(now)``, ``get_timer()``, ``handle_timer(now)``) make addresses in the host;
:class:`NrpaRotator` does the same with NRPAs. An application that uses them gives each
new address to :meth:`host.gap.Gap.set_private_address`, which sets it in the controller
as the spec allows (Vol 4 Part E 7.8.4).

:class:`PrivacyManager` is what the :class:`~host.host.Host` runs when
:attr:`~host.host.HostConfig.privacy` is set. After power-on it chooses:

* **controller** resolution when the controller lists the resolving-list commands: it
  programs the list — every bond (peer identity, peer IRK or zeros, our IRK), device
  privacy mode for each (so peers that keep using their identity address are still
  accepted, Vol 4 Part E 7.8.77), one "any peer" entry (identity 00:00:00:00:00:00) whose
  local IRK lets the controller generate our RPAs for undirected activities — sets the
  RPA timeout and enables resolution. New bonds are added as pairings finish; while the
  controller refuses list changes (advertising, scanning or initiating with resolution
  on: Command Disallowed) the change waits and is retried when the host reports an
  activity ended (:meth:`PrivacyManager.poke`). Activities then use Own_Address_Type
  0x02/0x03 (:meth:`PrivacyManager.own_address_type`), the controller resolves peers and
  reports identities.
* **host** resolution otherwise: peers' RPAs are resolved with the bonded IRKs
  (:meth:`PrivacyManager.resolve`); the last RPA each bonded identity advertised with is
  remembered so that connecting to an identity reaches its current RPA
  (:meth:`PrivacyManager.connect_target`).

Errors: :class:`PrivacyError` (a :class:`~host.hci.LocalError`) for a bad configuration.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Final, Literal

from host.bonds import Bond, BondStore, generate_rpa
from host.hci import HciDriver, LocalError, completion_status
from linklayer.hci.address import Address, AddressKind
from linklayer.hci import le_ext_commands as lx
from linklayer.hci.codec import HciCommand, HciEvent
from linklayer.hci.errors import ErrorCode
from linklayer.hci.supported import is_supported
from phy.types import Rng

__all__ = [
    "DEFAULT_RPA_TIMEOUT_NS", "NrpaRotator", "PrivacyConfig", "PrivacyError", "PrivacyManager", "RpaRotator",
    "generate_nrpa",
]

#: The RPA timeout the specification recommends (Vol 3 Part C Appendix A: 15 minutes).
DEFAULT_RPA_TIMEOUT_NS: Final = 900 * 1_000_000_000
_S: Final = 1_000_000_000
_ANY: Final = Address(bytes(6))
_DISALLOWED: Final = int(ErrorCode.COMMAND_DISALLOWED)


class PrivacyError(LocalError):
    """A privacy setting the host cannot use."""


def generate_nrpa(rng: Rng, avoid: Address | None = None) -> Address:
    """A non-resolvable private address (Vol 6 Part B 1.3.2.2): 46 random bits under the
    sub-type 0b00, neither all 0 nor all 1, and not equal to ``avoid`` (the public
    address)."""
    while True:
        bits = rng.getrandbits(46)
        if bits in (0, (1 << 46) - 1):
            continue
        address = Address(bits.to_bytes(6, "little"), True)
        if avoid is None or address.value != avoid.value:
            return address


class RpaRotator:
    """This device's current RPA for ``irk`` (MSB-first) and when it changes.

    The first :meth:`address` call generates one; :meth:`handle_timer` at or after
    :meth:`get_timer` replaces it (every ``timeout_ns``) and returns the new one.
    """

    def __init__(self, irk: bytes, rng: Rng, timeout_ns: int = DEFAULT_RPA_TIMEOUT_NS) -> None:
        if len(irk) != 16:
            raise PrivacyError("an IRK is 16 octets")
        if timeout_ns <= 0:
            raise PrivacyError("the RPA timeout must be positive")
        self.irk = bytes(irk)
        self.rng = rng
        self.timeout_ns = timeout_ns
        self._current: Address | None = None
        self._deadline: int | None = None

    def address(self, now: int) -> Address:
        """The RPA in use (generated on first use, or when the timer is overdue)."""
        if self._current is None or (self._deadline is not None and now >= self._deadline):
            self._renew(now)
        assert self._current is not None
        return self._current

    def _renew(self, now: int) -> None:
        self._current = self._generate()
        self._deadline = now + self.timeout_ns

    def _generate(self) -> Address:
        return generate_rpa(self.irk, self.rng)

    def get_timer(self) -> int | None:
        return self._deadline

    def handle_timer(self, now: int) -> Address | None:
        """The new RPA if the timeout expired, else ``None``."""
        if self._deadline is None or now < self._deadline:
            return None
        self._renew(now)
        return self._current


class NrpaRotator(RpaRotator):
    """Like :class:`RpaRotator`, with non-resolvable private addresses (never ``avoid``,
    the public address)."""

    def __init__(self, rng: Rng, timeout_ns: int = DEFAULT_RPA_TIMEOUT_NS, avoid: Address | None = None) -> None:
        super().__init__(bytes(16), rng, timeout_ns)
        self.avoid = avoid

    def _generate(self) -> Address:
        previous = self._current
        while True:
            address = generate_nrpa(self.rng, self.avoid)
            if address != previous:
                return address


@dataclasses.dataclass(frozen=True)
class PrivacyConfig:
    """How the host uses privacy.

    ``resolution``: ``"auto"`` or ``"controller"`` (the controller's resolving list when
    it has one, else the host) or ``"host"``. ``own_address``: ``"rpa"`` makes
    advertising, scanning and connecting use RPAs (controller resolution only; the host
    then passes Own_Address_Type 0x02/0x03 unless the application gave one),
    ``"identity"`` only resolves peers. ``device_privacy_mode`` sets device privacy mode
    for every bonded peer (else network privacy mode; Vol 4 Part E 7.8.77).
    """

    rpa_timeout_ns: int = DEFAULT_RPA_TIMEOUT_NS
    resolution: Literal["auto", "controller", "host"] = "auto"
    own_address: Literal["rpa", "identity"] = "rpa"
    device_privacy_mode: bool = True

    def __post_init__(self) -> None:
        seconds, rest = divmod(self.rpa_timeout_ns, _S)
        if rest or not 1 <= seconds <= 0xA1B8:
            raise PrivacyError("rpa_timeout_ns is a whole number of seconds, 1 s .. 0xA1B8 s (7.8.45)")
        if self.resolution not in ("auto", "controller", "host"):
            raise PrivacyError(f"resolution is auto, controller or host, not {self.resolution!r}")
        if self.own_address not in ("rpa", "identity"):
            raise PrivacyError(f"own_address is rpa or identity, not {self.own_address!r}")


SendCommand = Callable[[HciCommand, int, Callable[[HciEvent], None] | None], None]


class PrivacyManager:
    """The host's privacy procedures (see the module docstring).

    ``bonds`` is a callable giving the current bond store (a personality may replace the
    host's store), ``local_irk`` one giving this device's IRK (MSB-first).
    """

    def __init__(
        self,
        config: PrivacyConfig,
        hci: HciDriver,
        bonds: Callable[[], BondStore | None],
        local_irk: Callable[[], bytes],
        on_failure: Callable[[HciCommand, int], None] | None = None,
    ) -> None:
        self.config = config
        self.hci = hci
        self._bonds = bonds
        self._local_irk = local_irk
        self._on_failure = on_failure
        #: ``"controller"`` or ``"host"`` once powered on; ``None`` before.
        self.mode: str | None = None
        self._pending: dict[Address, Bond | None] = {}  # identities to (re)write, None: remove
        self._in_flight = 0
        self._seen: dict[Address, Address] = {}  # identity -> last RPA seen (host mode)

    # -- state ----------------------------------------------------------------------------
    @property
    def controller_resolution(self) -> bool:
        return self.mode == "controller"

    @property
    def uses_rpa(self) -> bool:
        """Whether activities use Own_Address_Type 0x02/0x03 (controller-made RPAs)."""
        return self.controller_resolution and self.config.own_address == "rpa"

    def own_address_type(self, identity_type: int, requested: int | None) -> int | None:
        """Own_Address_Type for an activity: ``requested`` if given, else 0x02 + the
        identity's type when RPAs are in use, else ``None`` (GAP's default)."""
        if requested is not None or not self.uses_rpa:
            return requested
        return 2 + identity_type

    # -- power-on --------------------------------------------------------------------------
    def on_powered(self, supported_commands: bytes | None, now: int) -> None:
        """Choose controller or host resolution and program the controller's list."""
        bitmap = supported_commands or b""
        has_list = all(is_supported(bitmap, c.OPCODE) for c in (
            lx.HCI_LE_Add_Device_To_Resolving_List_Command, lx.HCI_LE_Set_Address_Resolution_Enable_Command,
            lx.HCI_LE_Clear_Resolving_List_Command, lx.HCI_LE_Set_Resolvable_Private_Address_Timeout_Command,
        ))
        # "controller" on a controller without a resolving list falls back to the host.
        self.mode = "controller" if has_list and self.config.resolution != "host" else "host"
        self._pending.clear()
        self._seen.clear()
        if self.mode != "controller":
            return
        send = self._send
        send(lx.HCI_LE_Set_Address_Resolution_Enable_Command(address_resolution_enable=0), now)
        send(lx.HCI_LE_Clear_Resolving_List_Command(), now)
        store = self._bonds()
        for bond in store if store is not None else []:
            self._write_entry(bond, now, remove_first=False)
        if self.config.own_address == "rpa":
            send(self._add(_ANY, None), now)
        send(lx.HCI_LE_Set_Resolvable_Private_Address_Timeout_Command(
            rpa_timeout=self.config.rpa_timeout_ns // _S), now)
        send(lx.HCI_LE_Set_Address_Resolution_Enable_Command(address_resolution_enable=1), now)

    def _add(self, identity: Address, peer_irk: bytes | None) -> HciCommand:
        # HCI carries IRKs least significant octet first.
        return lx.HCI_LE_Add_Device_To_Resolving_List_Command(
            peer_identity_address_type=identity.address_type, peer_identity_address=identity.value,
            peer_irk=(peer_irk or bytes(16))[::-1], local_irk=self._local_irk()[::-1])

    def _write_entry(self, bond: Bond, now: int, *, remove_first: bool) -> None:
        identity = bond.peer_address
        if remove_first:
            self._send(lx.HCI_LE_Remove_Device_From_Resolving_List_Command(
                peer_identity_address_type=identity.address_type, peer_identity_address=identity.value),
                now, retry=bond, ignore=True)
        self._send(self._add(identity, bond.peer_irk), now, retry=bond)
        if self.config.device_privacy_mode:
            self._send(lx.HCI_LE_Set_Privacy_Mode_Command(
                peer_identity_address_type=identity.address_type, peer_identity_address=identity.value,
                privacy_mode=1), now, retry=bond)

    def _send(self, cmd: HciCommand, now: int, *, retry: Bond | None = None, ignore: bool = False) -> None:
        self._in_flight += 1

        def done(event: HciEvent) -> None:
            self._in_flight -= 1
            status = completion_status(event)
            if status == 0 or ignore:
                return
            if status == _DISALLOWED and retry is not None:
                self._pending[retry.peer_address] = retry  # busy: try again later
            elif self._on_failure is not None:
                self._on_failure(cmd, status)

        self.hci.send_command(cmd, now, done)

    # -- bonds -----------------------------------------------------------------------------
    def on_bond(self, bond: Bond, now: int) -> None:
        """A pairing stored ``bond``: put its identity (and IRK) on the resolving list."""
        if self.mode != "controller":
            return
        self._pending[bond.peer_address] = bond
        self.poke(now)

    def poke(self, now: int) -> None:
        """Retry list changes the controller refused (call when an activity ended)."""
        if self.mode != "controller" or not self._pending:
            return
        pending, self._pending = self._pending, {}
        for bond in pending.values():
            if bond is not None:
                self._write_entry(bond, now, remove_first=True)

    @property
    def pending(self) -> bool:
        """Whether resolving-list changes wait for the controller."""
        return bool(self._pending) or self._in_flight > 0

    # -- host resolution ------------------------------------------------------------------
    def resolve(self, address: Address) -> Address | None:
        """The bonded identity behind ``address`` (an RPA resolved with a bonded IRK, or
        the identity itself), else ``None``."""
        store = self._bonds()
        if store is None:
            return None
        if address.kind is AddressKind.RESOLVABLE_PRIVATE:
            # The store resolves with the IRKs it holds (a firmware-backed store keeps
            # them in RAM and reads only the matching peer's bond).
            found = store.find(address)
            return None if found is None else found.peer_address
        known = store.get(address)
        return None if known is None else known.peer_address

    def on_advertiser(self, address: Address) -> None:
        """Host resolution: remember the RPA a bonded peer advertises with."""
        if self.mode == "host" and address.kind is AddressKind.RESOLVABLE_PRIVATE:
            identity = self.resolve(address)
            if identity is not None:
                self._seen[identity] = address

    def connect_target(self, peer: Address) -> Address:
        """Host resolution: the address to connect to for ``peer`` (its last RPA seen
        when ``peer`` is a bonded identity, else ``peer``)."""
        if self.mode == "host":
            return self._seen.get(peer, peer)
        return peer
