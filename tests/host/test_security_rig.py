"""Two blesim nodes (simulated controller + Host) over the simulated radio, for the
security tests (STYLE 8): a central and a peripheral with scripted users.

:class:`SecurityRig` builds both nodes in one world, connects them (the peripheral
advertises, the central connects), pairs, disconnects, reconnects and reboots a node
(a new Host over the same controller, its bonds reloaded from JSON). Each node's
:class:`User` answers the host's questions a little later in simulated time, as a
person would: it types the passkey the peer displays (or a fixed one, or a wrong one),
answers numeric comparisons and Just Works consent. Every SMP PDU a host sends is
recorded from its HCI traffic (:attr:`SecurityRig.smp_log`: time, sender, PDU).

The module also tests the rig itself (so pytest collects it harmlessly).
"""

from __future__ import annotations

import dataclasses
from typing import Callable

from emu.host_driver import HostDriver
from emu.world import ControllerDriver, World, add_controller_node, make_world
from host.bonds import BondStore
from host.events import (
    AdvertisingStarted,
    Connected,
    Disconnected,
    EncryptionChanged,
    HostEvent,
    NumericComparisonRequest,
    PairingComplete,
    PasskeyDisplay,
    PasskeyRequest,
)
from host.gap import GapConfig
from host.gap_params import AdvertisingParameters, ConnectionParameters
from host.host import Host, HostConfig
from host.privacy import PrivacyConfig
from host.smp_events import JustWorksRequest
from host.smp_types import PairingResult, SmpConfig
from linklayer.address import Address
from linklayer.ctrl_base import ControllerConfig
from phy.units import MS

USER_DELAY_NS = 20 * MS
FAST = ConnectionParameters(interval_min_ns=7_500_000, interval_max_ns=7_500_000, supervision_timeout_ns=1000 * MS)


@dataclasses.dataclass
class User:
    """What a node's user does: type ``passkey`` (None: what the peer shows) plus
    ``passkey_offset`` (a typo), ``cancel`` the entry, ``accept`` numeric comparisons,
    ``consent`` to Just Works, or never ``respond``."""

    passkey: int | None = None
    passkey_offset: int = 0
    cancel: bool = False
    accept: bool = True
    consent: bool = True
    respond: bool = True


class Node:
    """One blesim node: a simulated controller, a Host and its driver."""

    def __init__(
        self,
        rig: SecurityRig,
        name: str,
        position: tuple[float, float],
        smp: SmpConfig,
        *,
        bonds: BondStore | None = None,
        privacy: PrivacyConfig | None = None,
        address_type: str = "public",
        controller_config: ControllerConfig | None = None,
    ) -> None:
        self.rig = rig
        self.name = name
        world = rig.world
        self.controller: ControllerDriver = add_controller_node(world, name, position, config=controller_config)
        self.config = HostConfig(smp=smp, privacy=privacy, gap=GapConfig(address_type=address_type),
                                 device_name=name)
        self.host = Host(world.kernel.seeds.stream(f"node/{name}/host"), self.config, bonds=bonds)
        self.driver = HostDriver(world, self.controller, self.host)
        self.driver.listeners.append(self._on_event)
        self.user = User()
        self.displayed: int | None = None
        self.handle: int | None = None
        self._boot = 0
        self._watch_smp()

    # -- recording -----------------------------------------------------------------------
    def _watch_smp(self) -> None:
        """Record the SMP PDUs this node's host sends (HCI ACL, L2CAP CID 0x0006)."""
        rig, name = self.rig, self.name

        def tap(t: int, direction: str, h4_type: int, packet: bytes) -> None:
            if direction != "host->controller" or h4_type != 2 or len(packet) < 8:
                return
            if (int.from_bytes(packet[:2], "little") >> 12) & 0b11 != 0b00:
                return  # a continuation fragment (SMP PDUs fit in one)
            length, cid = int.from_bytes(packet[4:6], "little"), int.from_bytes(packet[6:8], "little")
            if cid == 0x0006:
                rig.smp_log.append((t, name, bytes(packet[8 : 8 + length])))

        self.controller.hci_taps.append(tap)

    def events(self, kind: type[HostEvent] | None = None, since: int = 0) -> list[HostEvent]:
        return [e for t, e in self.driver.events if t >= since and (kind is None or isinstance(e, kind))]

    def results(self) -> list[PairingResult]:
        out = []
        for e in self.events(PairingComplete):
            assert isinstance(e, PairingComplete) and isinstance(e.result, PairingResult)
            out.append(e.result)
        return out

    # -- the user ------------------------------------------------------------------------
    def _later(self, action: Callable[[], None]) -> None:
        kernel = self.rig.world.kernel

        def run() -> None:
            action()
            self.driver.service()

        kernel.call_at(kernel.now + USER_DELAY_NS, run)

    def _on_event(self, t: int, event: HostEvent) -> None:
        if isinstance(event, Connected):
            self.handle = event.handle
        elif isinstance(event, PasskeyDisplay):
            self.displayed = event.passkey
        elif isinstance(event, PasskeyRequest) and self.user.respond:
            self._later(lambda: self._type_passkey(event.handle))
        elif isinstance(event, NumericComparisonRequest) and self.user.respond:
            self._later(lambda: self.host.smp(event.handle).numeric_comparison_reply(self.user.accept, self.now))
        elif isinstance(event, JustWorksRequest) and self.user.respond:
            self._later(lambda: self.host.smp(event.handle).just_works_reply(self.user.consent, self.now))

    def _type_passkey(self, handle: int) -> None:
        session = self.host.smp(handle)
        if not session.waiting_for_passkey:
            return
        if self.user.cancel:
            session.passkey_reply(None, self.now)
            return
        passkey = self.user.passkey
        if passkey is None:
            passkey = self.rig.peer_of(self).displayed
        if passkey is None:  # the peer has not shown it yet: look again later
            self._later(lambda: self._type_passkey(handle))
            return
        session.passkey_reply((passkey + self.user.passkey_offset) % 1_000_000, self.now)

    # -- actions ---------------------------------------------------------------------------
    @property
    def now(self) -> int:
        return self.rig.world.kernel.now

    def reboot(self) -> None:
        """Power-cycle the host: a new Host (same configuration, bonds reloaded from the
        store's JSON) runs the power-on sequence, which resets the controller."""
        self._boot += 1
        assert self.host.bonds is not None
        bonds = BondStore.from_json(self.host.bonds.to_json())
        self.host = Host(self.rig.world.kernel.seeds.stream(f"node/{self.name}/host/{self._boot}"), self.config,
                         bonds=bonds)
        self.driver.host = self.host
        self.handle = None
        self.displayed = None
        self.host.power_on(self.now)
        self.driver.service()


class SecurityRig:
    """A central and a peripheral in one world; see the module docstring."""

    def __init__(
        self,
        central: SmpConfig | None = None,
        peripheral: SmpConfig | None = None,
        *,
        seed: int = 1,
        central_kw: dict[str, object] | None = None,
        peripheral_kw: dict[str, object] | None = None,
    ) -> None:
        self.world: World = make_world(seed)
        self.smp_log: list[tuple[int, str, bytes]] = []
        self.central = Node(self, "central", (0.0, 0.0), central or SmpConfig(), **(central_kw or {}))  # type: ignore[arg-type]
        self.peripheral = Node(self, "peripheral", (2.0, 0.0), peripheral or SmpConfig(),
                               **(peripheral_kw or {}))  # type: ignore[arg-type]
        self.run_until(lambda: self.central.host.powered and self.peripheral.host.powered, 100 * MS)

    def peer_of(self, node: Node) -> Node:
        return self.peripheral if node is self.central else self.central

    @property
    def now(self) -> int:
        return self.world.kernel.now

    def run(self, duration_ns: int) -> None:
        self.world.run(self.now + duration_ns)

    def run_until(self, condition: Callable[[], bool], timeout_ns: int, step_ns: int = 5 * MS) -> bool:
        deadline = self.now + timeout_ns
        while not condition():
            if self.now >= deadline:
                return False
            self.world.run(min(deadline, self.now + step_ns))
        return True

    def advertise(self, params: AdvertisingParameters | None = None) -> None:
        p = self.peripheral
        seen = len(p.events(AdvertisingStarted))
        p.host.start_advertising(self.now, b"\x02\x01\x06",
                                 params=params or AdvertisingParameters(interval_min_ns=20 * MS))
        p.driver.service()
        assert self.run_until(lambda: len(p.events(AdvertisingStarted)) > seen, 100 * MS)

    def connect(self, target: Address | None = None, timeout_ns: int = 2000 * MS) -> tuple[int, int]:
        """The peripheral advertises and the central connects to ``target`` (default:
        the peripheral's identity address); returns (central handle, peripheral handle)."""
        c, p = self.central, self.peripheral
        c.handle = p.handle = None
        self.advertise()
        c.host.connect(target or p.host.address, self.now, FAST, timeout_ns=timeout_ns)
        c.driver.service()
        assert self.run_until(lambda: c.handle is not None and p.handle is not None, timeout_ns), "no connection"
        assert c.handle is not None and p.handle is not None
        return c.handle, p.handle

    def pair(self, timeout_ns: int = 40_000 * MS) -> tuple[PairingResult, PairingResult]:
        """The central pairs; returns each side's result of this pairing."""
        c, p = self.central, self.peripheral
        before = (len(c.results()), len(p.results()))
        assert c.handle is not None
        c.host.pair(c.handle, self.now)
        c.driver.service()
        self.run_until(lambda: len(c.results()) > before[0] and len(p.results()) > before[1], timeout_ns)
        self.run(50 * MS)  # let the last PDUs and events settle
        return c.results()[before[0]], p.results()[before[1]]

    def disconnect(self) -> None:
        c, p = self.central, self.peripheral
        seen = (len(c.events(Disconnected)), len(p.events(Disconnected)))
        assert c.handle is not None
        c.host.disconnect(c.handle, self.now)
        c.driver.service()
        assert self.run_until(lambda: len(c.events(Disconnected)) > seen[0] and len(p.events(Disconnected)) > seen[1],
                              1000 * MS)
        c.handle = p.handle = None

    def encrypted(self) -> bool:
        c, p = self.central, self.peripheral
        if c.handle is None or p.handle is None:
            return False
        return c.host.smp(c.handle).security.encrypted and p.host.smp(p.handle).security.encrypted

    def smp_codes(self, since: int = 0) -> list[tuple[str, int]]:
        return [(name, pdu[0]) for t, name, pdu in self.smp_log if t >= since and pdu]


# -- the rig itself --------------------------------------------------------------------------


def test_the_rig_connects_pairs_just_works_and_records_smp() -> None:
    rig = SecurityRig()
    rig.connect()
    c, p = rig.pair()
    assert c.success and p.success and rig.encrypted()
    codes = rig.smp_codes()
    assert codes[0] == ("central", 0x01) and codes[1] == ("peripheral", 0x02)  # Pairing Request, Response
    assert len(rig.central.events(EncryptionChanged)) == 1
