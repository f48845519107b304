"""A central that disconnects the instant its pairing is reported complete (Vol 3 Part H
3.6.1: the responder's keys, then the initiator's, over the encrypted link).

The controller sends LL_TERMINATE_IND ahead of ACL data still queued, so keys the
central had only handed to its controller were lost: the peripheral never got them and
stored no bond while the central had one. The Security Manager now reports completion
only once its own keys are delivered (Number_Of_Completed_Packets), and a side stores a
bond only when every key it expected arrived.
"""

from __future__ import annotations

import pytest

from host.bonds import Bond, BondStore
from host.events import Disconnected, HostEvent, PairingComplete
from host.smp_types import SmpConfig
from phy.units import MS

from .test_security_rig import SecurityRig


def _disconnect_on_complete(rig: SecurityRig) -> list[tuple[str, int]]:
    """Pair; the central disconnects from inside its PairingComplete listener. Returns
    when each side reported completion."""
    c, p = rig.central, rig.peripheral
    reported: list[tuple[str, int]] = []

    def central(t: int, e: HostEvent) -> None:
        if isinstance(e, PairingComplete):
            reported.append(("central", t))
            if c.handle is not None:
                c.host.disconnect(c.handle, t)

    def peripheral(t: int, e: HostEvent) -> None:
        if isinstance(e, PairingComplete):
            reported.append(("peripheral", t))

    c.driver.listeners.append(central)
    p.driver.listeners.append(peripheral)
    assert c.handle is not None
    c.host.pair(c.handle, rig.now)
    c.driver.service()
    assert rig.run_until(lambda: bool(c.events(Disconnected) and p.events(Disconnected)), 5000 * MS)
    c.handle = p.handle = None
    return reported


def _only_bond(store: BondStore) -> Bond:
    bonds = list(store)
    assert len(bonds) == 1
    bond = bonds[0]
    assert isinstance(bond, Bond)
    return bond


@pytest.mark.parametrize("secure_connections", [True, False], ids=["sc", "legacy"])
def test_disconnect_at_pairing_complete_keeps_every_key(secure_connections: bool) -> None:
    config = SmpConfig(secure_connections=secure_connections)
    rig = SecurityRig(config, config)
    rig.connect()
    reported = _disconnect_on_complete(rig)
    c, p = rig.central, rig.peripheral
    (cr,), (pr,) = c.results(), p.results()
    assert cr.success and cr.bonded and pr.success and pr.bonded
    # The peripheral had every key of the central before the central said "complete".
    assert [who for who, _ in reported] == ["peripheral", "central"]
    assert c.host.bonds is not None and p.host.bonds is not None
    cb, pb = _only_bond(c.host.bonds), _only_bond(p.host.bonds)
    assert cb.peer_address == p.host.address and pb.peer_address == c.host.address
    # What each stored of the peer is what the peer distributed (3.6.1 order: LTK+EDIV/Rand
    # in legacy, IRK + identity address, CSRK).
    assert cb.peer_irk == p.host.local_irk() and pb.peer_irk == c.host.local_irk()
    assert cb.peer_csrk is not None and cb.peer_csrk == pb.local_csrk
    assert pb.peer_csrk is not None and pb.peer_csrk == cb.local_csrk
    assert cb.peer_ltk is not None and pb.local_ltk is not None and cb.peer_ltk == pb.local_ltk
    if not secure_connections:
        assert pb.peer_ltk is not None and cb.local_ltk is not None and pb.peer_ltk == cb.local_ltk
        assert (cb.peer_ltk.ediv, cb.peer_ltk.rand) != (0, 0)
    # And the bond works: the reconnection is encrypted from it, with no new pairing.
    rig.connect()
    assert c.handle is not None
    assert c.host.encrypt(c.handle, rig.now)
    c.driver.service()
    assert rig.run_until(rig.encrypted, 500 * MS)
    assert len(c.results()) == 1 and len(p.results()) == 1


def test_link_lost_with_the_last_keys_in_transit_stores_nothing() -> None:
    """The link ends while the central's keys are still queued: the peripheral lacks
    keys it expected and the central never saw them delivered, so neither side keeps a
    bond (nor reports a bonded pairing)."""
    rig = SecurityRig()
    rig.connect()
    c, p = rig.central, rig.peripheral
    kernel = rig.world.kernel
    cut: list[int] = []

    def tap(t: int, direction: str, h4_type: int, packet: bytes) -> None:
        # The central's host hands over its Signing Information (code 0x0A), its last key.
        if direction == "host->controller" and h4_type == 2 and packet[8:9] == b"\x0a" and not cut:
            cut.append(t)
            kernel.call_at(t, cut_link)

    def cut_link() -> None:
        assert c.handle is not None
        c.host.disconnect(c.handle, kernel.now)
        c.driver.service()

    c.controller.hci_taps.append(tap)
    assert c.handle is not None
    c.host.pair(c.handle, rig.now)
    c.driver.service()
    assert rig.run_until(lambda: bool(c.events(Disconnected) and p.events(Disconnected)), 5000 * MS)
    assert cut
    assert not [r for r in c.results() + p.results() if r.success]
    assert c.host.bonds is not None and p.host.bonds is not None
    assert list(c.host.bonds) == [] and list(p.host.bonds) == []
