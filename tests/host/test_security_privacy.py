"""Privacy between blesim nodes: a peripheral that advertises with resolvable private
addresses, a bonded central that reconnects to its identity through the controller's
resolving list (or, without one, through the host), and a stranger that cannot link
the RPAs. Plus the host-side pieces of :mod:`host.privacy` on their own."""

from __future__ import annotations

import random

import pytest

from emu.world import HciRecorder
from host.bonds import resolve_rpa
from host.events import AdvertisingReport, Connected
from host.gap_params import ScanParameters
from host.privacy import PrivacyConfig, PrivacyError, RpaRotator, generate_nrpa
from host.smp_types import SmpConfig
from linklayer.address import Address, AddressKind
from linklayer.ctrl_base import ControllerConfig
from linklayer.hci import le_events as le
from phy.units import MS, S

from .test_security_rig import Node, SecurityRig

PRIVATE = PrivacyConfig(rpa_timeout_ns=2 * S)


def scan_for(rig: SecurityRig, node: Node, duration_ns: int) -> list[Address]:
    """The addresses ``node`` saw advertising during ``duration_ns`` (in order, unique)."""
    start = rig.now
    node.host.start_scan(rig.now, ScanParameters(active=False, interval_ns=50 * MS, window_ns=50 * MS))
    node.driver.service()
    rig.run(duration_ns)
    node.host.stop_scan(rig.now)
    node.driver.service()
    rig.run(10 * MS)
    seen = [e.address for e in node.events(AdvertisingReport, since=start)
            if isinstance(e, AdvertisingReport) and e.address is not None]
    return list(dict.fromkeys(seen))


def pair_over_rpas(rig: SecurityRig) -> Address:
    """Find the peripheral's RPA by scanning, connect to it, pair; returns the RPA."""
    rig.advertise()
    (rpa,) = [a for a in scan_for(rig, rig.central, 200 * MS) if a.kind is AddressKind.RESOLVABLE_PRIVATE]
    rig.connect(target=rpa)
    c_res, p_res = rig.pair()
    assert c_res.success and p_res.success  # SMP used the RPAs of the link (c1/f5/f6 agree)
    return rpa


def test_a_bonded_central_reconnects_to_a_private_peripheral_through_the_resolving_list() -> None:
    rig = SecurityRig(SmpConfig(), SmpConfig(), seed=11,
                      central_kw={"privacy": PRIVATE}, peripheral_kw={"privacy": PRIVATE})
    c, p = rig.central, rig.peripheral
    hci = HciRecorder()
    c.controller.hci_sinks.append(hci)
    first = pair_over_rpas(rig)
    assert c.host.bonds is not None and p.host.bonds is not None
    bond = c.host.bonds.get(p.host.address)  # stored under the identity it distributed
    assert bond is not None and bond.peer_irk == p.host.local_irk() and resolve_rpa(bond.peer_irk, first)
    assert p.host.bonds.get(c.host.address) is not None
    rig.disconnect()
    rig.run(2500 * MS)  # the peripheral's RPA timeout passes

    start = rig.now
    c_handle, _ = rig.connect(target=p.host.address)  # the identity: the controller resolves
    (_, done), = [(t, e) for t, e in hci.events() if t >= start
                  and isinstance(e, le.HCI_LE_Enhanced_Connection_Complete_Event)]
    assert (done.peer_address_type, bytes(done.peer_address)) == (2, p.host.address.value)  # Public Identity
    second = Address(bytes(done.peer_resolvable_private_address), True)
    assert second != first and resolve_rpa(p.host.local_irk(), second)
    assert rpa_local(done) and resolve_rpa(c.host.local_irk(), rpa_local(done))  # the central's own RPA
    (connected,) = [e for e in c.events(Connected, since=start) if isinstance(e, Connected)]
    assert connected.peer_address == p.host.address
    assert c.host.encrypt(c_handle, rig.now)
    c.driver.service()
    assert rig.run_until(rig.encrypted, 500 * MS)
    assert rig.smp_codes(start) == []


def rpa_local(event: le.HCI_LE_Enhanced_Connection_Complete_Event) -> Address:
    return Address(bytes(event.local_resolvable_private_address), True)


def test_a_stranger_sees_unlinkable_rpas_that_rotate() -> None:
    rig = SecurityRig(SmpConfig(), SmpConfig(), seed=12, peripheral_kw={"privacy": PRIVATE})
    stranger = Node(rig, "stranger", (1.0, 1.0), SmpConfig())
    rig.run_until(lambda: stranger.host.powered, 100 * MS)
    rig.advertise()
    seen = scan_for(rig, stranger, 5 * S)
    identity, irk = rig.peripheral.host.address, rig.peripheral.host.local_irk()
    assert len(seen) >= 3 and identity not in seen
    assert all(a.kind is AddressKind.RESOLVABLE_PRIVATE for a in seen)
    assert len({a.value[3:] for a in seen}) == len(seen)  # no common part to link them by
    assert all(resolve_rpa(irk, a) for a in seen)  # only the IRK links them
    assert stranger.host.resolve_address(seen[0]) is None


def test_host_resolution_when_the_controller_has_no_resolving_list() -> None:
    rig = SecurityRig(SmpConfig(), SmpConfig(), seed=13,
                      central_kw={"privacy": PRIVATE, "controller_config": ControllerConfig(resolving_list_size=0)},
                      peripheral_kw={"privacy": PRIVATE})
    c, p = rig.central, rig.peripheral
    assert c.host.privacy is not None and c.host.privacy.mode == "host"
    first = pair_over_rpas(rig)
    rig.disconnect()
    rig.run(2500 * MS)
    rig.advertise()
    rpas = [a for a in scan_for(rig, c, 300 * MS) if a.kind is AddressKind.RESOLVABLE_PRIVATE]
    assert rpas and first not in rpas
    assert c.host.resolve_address(rpas[-1]) == p.host.address
    start = rig.now
    c_handle, _ = rig.connect(target=p.host.address)  # the host connects to the last RPA seen
    (connected,) = [e for e in c.events(Connected, since=start) if isinstance(e, Connected)]
    assert connected.peer_address == rpas[-1]
    assert c.host.encrypt(c_handle, rig.now)
    c.driver.service()
    assert rig.run_until(rig.encrypted, 500 * MS)


# -- host/privacy.py on its own --------------------------------------------------------------


def test_rpa_rotator_renews_at_the_timeout() -> None:
    irk = bytes(range(16))
    rot = RpaRotator(irk, random.Random(1), timeout_ns=10 * S)
    assert rot.get_timer() is None
    a = rot.address(5)
    assert rot.get_timer() == 10 * S + 5 and rot.address(7) == a and resolve_rpa(irk, a)
    assert rot.handle_timer(10 * S) is None
    b = rot.handle_timer(10 * S + 5)
    assert b is not None and b != a and resolve_rpa(irk, b) and rot.get_timer() == 20 * S + 5
    with pytest.raises(PrivacyError):
        RpaRotator(bytes(15), random.Random(1))


def test_nrpa() -> None:
    rng = random.Random(2)
    for _ in range(50):
        a = generate_nrpa(rng)
        assert a.random and a.kind is AddressKind.NON_RESOLVABLE_PRIVATE and a.value not in (bytes(6),)


@pytest.mark.parametrize("kwargs", [{"rpa_timeout_ns": 0}, {"rpa_timeout_ns": 1_500_000_000},
                                    {"resolution": "maybe"}, {"own_address": "random"}])
def test_privacy_config_is_checked(kwargs: dict[str, object]) -> None:
    with pytest.raises(PrivacyError):
        PrivacyConfig(**kwargs)  # type: ignore[arg-type]
