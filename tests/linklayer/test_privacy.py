"""Link-layer privacy: the resolving list, RPA generation and rotation in the controller,
resolution for filter policies, reports and connections — controllers driven only
through HCI bytes over the simulated radio."""

from __future__ import annotations

from typing import Any

import pytest

from emu import hci_script as hs
from host.bonds import resolve_rpa
from linklayer.address import Address, AddressKind
from linklayer.ctrl_base import ControllerConfig
from linklayer.ctrl_privacy import ah, make_rpa, rpa_matches
from linklayer.hci import le_commands as lc
from linklayer.hci import le_events as le
from linklayer.hci import le_ext_commands as lx
from linklayer.hci.registry import HCI_Command_Complete_Event, HCI_Command_Status_Event
from phy.units import MS, S

from .worlds import Node, node, world_with_air

#: Core Vol 3 Part H Appendix D.7 (MSB-first).
D7_IRK = bytes.fromhex("ec0234a357c8ad05341010a60a397d9b")
IRK_A = bytes.fromhex("000102030405060708090a0b0c0d0e0f")  # the advertiser's local IRK (MSB-first)
IRK_C = bytes.fromhex("f0e0d0c0b0a090807060504030201000")
ANY = (0, bytes(6))


def test_ah_and_rpa_from_the_spec_sample_data() -> None:
    assert ah(D7_IRK, bytes.fromhex("708194")) == bytes.fromhex("0dfbaa")
    rpa = make_rpa(D7_IRK, 0x708194 & 0x3FFFFF)
    assert str(rpa) == "70:81:94:0D:FB:AA" and rpa.kind is AddressKind.RESOLVABLE_PRIVATE
    assert rpa_matches(D7_IRK, rpa) and resolve_rpa(D7_IRK, rpa)  # the host's ah agrees
    assert not rpa_matches(IRK_A, rpa) and not rpa_matches(bytes(16), rpa)
    assert not rpa_matches(D7_IRK, Address(rpa.value, False))  # a public address is no RPA


# -- helpers ---------------------------------------------------------------------------------


def add(n: Node, identity: tuple[int, bytes], peer_irk: bytes, local_irk: bytes) -> None:
    """LE_Add_Device_To_Resolving_List (IRKs given MSB-first, sent LSO first)."""
    hs.send(n.driver, lx.HCI_LE_Add_Device_To_Resolving_List_Command(
        peer_identity_address_type=identity[0], peer_identity_address=identity[1],
        peer_irk=peer_irk[::-1], local_irk=local_irk[::-1]))


def enable(n: Node, on: bool = True, timeout_s: int | None = None) -> None:
    if timeout_s is not None:
        hs.send(n.driver, lx.HCI_LE_Set_Resolvable_Private_Address_Timeout_Command(rpa_timeout=timeout_s))
    hs.send(n.driver, lx.HCI_LE_Set_Address_Resolution_Enable_Command(address_resolution_enable=int(on)))


def status_of(n: Node, opcode: int) -> int:
    """The status of the last completion of ``opcode``."""
    for _, e in reversed(n.events()):
        if isinstance(e, HCI_Command_Complete_Event) and e.command_opcode == opcode:
            return int(e.return_parameters[0])
        if isinstance(e, HCI_Command_Status_Event) and e.command_opcode == opcode:
            return int(e.status)
    raise AssertionError(f"no completion for 0x{opcode:04X}")


def returns(n: Node, opcode: int) -> bytes:
    for _, e in reversed(n.events()):
        if isinstance(e, HCI_Command_Complete_Event) and e.command_opcode == opcode:
            return bytes(e.return_parameters)
    raise AssertionError(f"no completion for 0x{opcode:04X}")


def public(n: Node) -> Address:
    address: Address = n.driver.controller.config.public_address  # type: ignore[attr-defined]
    return address


def reports(n: Node) -> list[Any]:
    return [r for _, e in n.le_events(le.HCI_LE_Advertising_Report_Event) for r in e.reports]


# -- the HCI commands ------------------------------------------------------------------------


def test_resolving_list_commands_and_their_errors() -> None:
    world, _ = world_with_air(seed=3)
    n = node(world, "n", config=ControllerConfig(resolving_list_size=2))
    op = lx.HCI_LE_Add_Device_To_Resolving_List_Command.OPCODE
    hs.send(n.driver, lx.HCI_LE_Read_Resolving_List_Size_Command())
    assert returns(n, lx.HCI_LE_Read_Resolving_List_Size_Command.OPCODE) == bytes([0, 2])
    peer1, peer2, peer3 = (0, bytes([1, 0, 0, 0, 0, 0])), (1, bytes([2, 0, 0, 0, 0, 0xC0])), (0, bytes([3] * 6))
    add(n, peer1, IRK_C, IRK_A)
    assert status_of(n, op) == 0
    add(n, peer1, IRK_C, IRK_A)
    assert status_of(n, op) == 0x12  # already on the list
    add(n, peer2, bytes(16), IRK_A)
    assert status_of(n, op) == 0
    add(n, peer3, IRK_C, IRK_A)
    assert status_of(n, op) == 0x07  # full
    hs.send(n.driver, lx.HCI_LE_Remove_Device_From_Resolving_List_Command(
        peer_identity_address_type=0, peer_identity_address=bytes([9] * 6)))
    assert status_of(n, lx.HCI_LE_Remove_Device_From_Resolving_List_Command.OPCODE) == 0x02
    hs.send(n.driver, lx.HCI_LE_Read_Local_Resolvable_Address_Command(
        peer_identity_address_type=0, peer_identity_address=peer1[1]))
    assert status_of(n, lx.HCI_LE_Read_Local_Resolvable_Address_Command.OPCODE) == 0x02  # resolution off: none
    hs.send(n.driver, lx.HCI_LE_Set_Resolvable_Private_Address_Timeout_Command(rpa_timeout=0))
    assert status_of(n, lx.HCI_LE_Set_Resolvable_Private_Address_Timeout_Command.OPCODE) == 0x12
    hs.send(n.driver, lx.HCI_LE_Set_Privacy_Mode_Command(
        peer_identity_address_type=0, peer_identity_address=bytes([9] * 6), privacy_mode=1))
    assert status_of(n, lx.HCI_LE_Set_Privacy_Mode_Command.OPCODE) == 0x02
    # With resolution on, the list is locked while scanning; enabling is refused while scanning.
    enable(n)
    hs.scan_legacy(n.driver)
    hs.send(n.driver, lx.HCI_LE_Clear_Resolving_List_Command())
    assert status_of(n, lx.HCI_LE_Clear_Resolving_List_Command.OPCODE) == 0x0C
    enable(n, False)
    assert status_of(n, lx.HCI_LE_Set_Address_Resolution_Enable_Command.OPCODE) == 0x0C
    hs.send(n.driver, lc.HCI_LE_Set_Scan_Enable_Command(le_scan_enable=0, filter_duplicates=0))
    hs.send(n.driver, lx.HCI_LE_Read_Local_Resolvable_Address_Command(
        peer_identity_address_type=0, peer_identity_address=peer1[1]))
    local = returns(n, lx.HCI_LE_Read_Local_Resolvable_Address_Command.OPCODE)
    assert local[0] == 0 and rpa_matches(IRK_A, Address(local[1:], True))
    hs.send(n.driver, lx.HCI_LE_Clear_Resolving_List_Command())
    assert status_of(n, lx.HCI_LE_Clear_Resolving_List_Command.OPCODE) == 0
    add(n, peer3, IRK_C, IRK_A)
    assert status_of(n, op) == 0  # room again


def test_a_controller_without_a_resolving_list_does_not_know_the_commands() -> None:
    world, _ = world_with_air(seed=3)
    n = node(world, "n", config=ControllerConfig(resolving_list_size=0))
    add(n, ANY, bytes(16), IRK_A)
    assert status_of(n, lx.HCI_LE_Add_Device_To_Resolving_List_Command.OPCODE) == 0x01  # Unknown HCI Command


# -- RPAs on the air ---------------------------------------------------------------------------


def rpa_advertiser(world: Any, name: str = "adv", timeout_s: int = 1) -> Node:
    """A controller advertising (ADV_IND) with Own_Address_Type 0x02: an RPA from its
    "any peer" entry, renewed every ``timeout_s``."""
    n = node(world, name, (0.0, 0.0))
    add(n, ANY, bytes(16), IRK_A)
    enable(n, timeout_s=timeout_s)
    hs.advertise_legacy(n.driver, interval_slots=32, own_address_type=2, data=b"\x02\x01\x06")
    return n


def test_rpas_rotate_with_the_timeout_and_unbonded_scanners_cannot_link_them() -> None:
    world, air = world_with_air(seed=4)
    adv = rpa_advertiser(world)
    stranger = node(world, "stranger", (1.0, 0.0))
    hs.scan_legacy(stranger.driver)
    world.run(3500 * MS)
    seen = [Address(bytes(r.address), bool(r.address_type)) for r in reports(stranger)]
    distinct = list(dict.fromkeys(seen))
    assert len(distinct) == 4  # 0-1 s, 1-2 s, 2-3 s, 3-3.5 s
    assert all(a.kind is AddressKind.RESOLVABLE_PRIVATE and a.random for a in distinct)
    assert public(adv) not in seen
    # Nothing links them without the IRK: different prand and hash every time ...
    assert len({a.value[3:] for a in distinct}) == 4 and len({a.value[:3] for a in distinct}) == 4
    assert not any(rpa_matches(IRK_C, a) for a in distinct)
    # ... while the IRK resolves every one of them.
    assert all(rpa_matches(IRK_A, a) for a in distinct)
    # The air carries exactly those AdvAs, changing at the 1 s instants.
    firsts: dict[bytes, int] = {}
    for tx in air.by(world, "adv"):
        firsts.setdefault(tx.pdu[2:8], tx.start_ns)
    assert [a.value for a in distinct] == list(firsts)
    assert [t // S for t in firsts.values()] == [0, 1, 2, 3]
    hs.send(adv.driver, lx.HCI_LE_Read_Local_Resolvable_Address_Command(
        peer_identity_address_type=0, peer_identity_address=bytes(6)))
    assert returns(adv, lx.HCI_LE_Read_Local_Resolvable_Address_Command.OPCODE)[1:] == distinct[-1].value


def test_a_scanner_with_the_irk_reports_the_identity() -> None:
    world, _ = world_with_air(seed=5)
    adv = rpa_advertiser(world)
    friend = node(world, "friend", (1.0, 0.0))
    identity = public(adv)
    add(friend, (0, identity.value), IRK_A, IRK_C)
    enable(friend)
    hs.scan_legacy(friend.driver)
    world.run(1500 * MS)
    got = reports(friend)
    assert got and {(r.address_type, bytes(r.address)) for r in got} == {(2, identity.value)}  # Public Identity
    hs.send(friend.driver, lc.HCI_LE_Set_Scan_Enable_Command(le_scan_enable=0, filter_duplicates=0))
    hs.send(friend.driver, lx.HCI_LE_Read_Peer_Resolvable_Address_Command(
        peer_identity_address_type=0, peer_identity_address=identity.value))
    peer_rpa = returns(friend, lx.HCI_LE_Read_Peer_Resolvable_Address_Command.OPCODE)
    assert peer_rpa[0] == 0 and rpa_matches(IRK_A, Address(peer_rpa[1:], True))


def test_extended_reports_carry_the_identity_too() -> None:
    world, _ = world_with_air(seed=5)
    adv = rpa_advertiser(world)
    friend = node(world, "friend", (1.0, 0.0))
    add(friend, (0, public(adv).value), IRK_A, IRK_C)
    enable(friend)
    hs.scan_extended(friend.driver)
    world.run(500 * MS)
    got = [r for _, e in friend.le_events(le.HCI_LE_Extended_Advertising_Report_Event) for r in e.reports]
    assert got and {(r.address_type, bytes(r.address)) for r in got} == {(2, public(adv).value)}
    assert all(r.event_type & 0x10 for r in got)  # legacy ADV_IND, reported through the extended event


def test_the_filter_accept_list_holds_identities() -> None:
    world, _ = world_with_air(seed=6)
    adv = rpa_advertiser(world)
    friend = node(world, "friend", (1.0, 0.0))
    add(friend, (0, public(adv).value), IRK_A, IRK_C)
    hs.send(friend.driver, lc.HCI_LE_Add_Device_To_Filter_Accept_List_Command(
        address_type=0, address=public(adv).value))
    enable(friend)
    hs.scan_legacy(friend.driver, filter_policy=1)
    world.run(500 * MS)
    assert reports(friend)


def test_network_privacy_mode_ignores_a_bonded_peer_using_its_identity() -> None:
    world, _ = world_with_air(seed=7)
    adv = node(world, "adv", (0.0, 0.0))
    hs.advertise_legacy(adv.driver, interval_slots=32, data=b"\x02\x01\x06")  # its public address
    friend = node(world, "friend", (1.0, 0.0))
    add(friend, (0, public(adv).value), IRK_A, IRK_C)
    enable(friend)
    hs.scan_legacy(friend.driver)
    world.run(500 * MS)
    assert reports(friend) == []  # network privacy: an identity with an IRK is not accepted
    hs.send(friend.driver, lc.HCI_LE_Set_Scan_Enable_Command(le_scan_enable=0, filter_duplicates=0))
    hs.send(friend.driver, lx.HCI_LE_Set_Privacy_Mode_Command(
        peer_identity_address_type=0, peer_identity_address=public(adv).value, privacy_mode=1))
    assert status_of(friend, lx.HCI_LE_Set_Privacy_Mode_Command.OPCODE) == 0
    hs.scan_legacy(friend.driver)
    world.run(1000 * MS)
    assert {(r.address_type, bytes(r.address)) for r in reports(friend)} == {(0, public(adv).value)}


@pytest.mark.parametrize("peer_type,policy", [(0, 0), (2, 0), (0, 1)],
                         ids=["public", "public-identity", "filter-accept-list"])
def test_initiating_to_an_identity_connects_to_its_rpa(peer_type: int, policy: int) -> None:
    world, _ = world_with_air(seed=8)
    adv = rpa_advertiser(world, timeout_s=900)
    central = node(world, "central", (1.0, 0.0))
    identity = public(adv)
    add(central, (0, identity.value), IRK_A, IRK_C)
    if policy == 1:  # the filter accept list holds the identity, not an RPA
        hs.send(central.driver, lc.HCI_LE_Add_Device_To_Filter_Accept_List_Command(
            address_type=0, address=identity.value))
    enable(central)
    hs.send(central.driver, lc.HCI_LE_Create_Connection_Command(
        le_scan_interval=16, le_scan_window=16, initiator_filter_policy=policy, peer_address_type=peer_type,
        peer_address=identity.value if policy == 0 else bytes(6), own_address_type=2, connection_interval_min=6,
        connection_interval_max=6, max_latency=0, supervision_timeout=100, min_ce_length=0, max_ce_length=0))
    world.run(500 * MS)
    (_, c_done), = central.le_events(le.HCI_LE_Enhanced_Connection_Complete_Event)
    (_, p_done), = adv.le_events(le.HCI_LE_Enhanced_Connection_Complete_Event)
    assert c_done.status == 0 and p_done.status == 0
    adv_rpa = Address(bytes(c_done.peer_resolvable_private_address), True)
    assert (c_done.peer_address_type, bytes(c_done.peer_address)) == (2, identity.value)
    assert rpa_matches(IRK_A, adv_rpa) and bytes(p_done.local_resolvable_private_address) == adv_rpa.value
    # The central used an RPA of its own (its entry's local IRK); the advertiser, with no
    # list entry for it, reports that RPA as a plain random address.
    central_rpa = Address(bytes(c_done.local_resolvable_private_address), True)
    assert rpa_matches(IRK_C, central_rpa)  # from the entry of the advertiser it connected to
    assert (p_done.peer_address_type, bytes(p_done.peer_address)) == (1, central_rpa.value)
    assert bytes(p_done.peer_resolvable_private_address) == bytes(6)


def test_reset_clears_the_resolving_list() -> None:
    world, _ = world_with_air(seed=9)
    n = node(world, "n")
    add(n, ANY, bytes(16), IRK_A)
    enable(n)
    hs.power_on(n.driver)
    hs.advertise_legacy(n.driver, interval_slots=32, own_address_type=2, data=b"\x02\x01\x06")
    stranger = node(world, "stranger", (1.0, 0.0))
    hs.scan_legacy(stranger.driver)
    world.run(300 * MS)
    assert {bytes(r.address) for r in reports(stranger)} == {public(n).value}  # no entry: own type 2 is public
