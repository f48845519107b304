"""Bonded clients across a GATT database rebuild (Vol 3 Part G 3.3.3.3, 2.5.2, 7.1, 7.3):
CCCD values kept in the bond follow their characteristic to its new handle, CCCDs of
removed characteristics are dropped, and a bonded client that comes back after the
database changed is indicated Service Changed once the link is encrypted with the bond.

Two blesim nodes over the simulated radio (:class:`SecurityRig`): the peripheral's
GATT server serves, the central subscribes, pairs (Just Works, bonding), disconnects,
reconnects and encrypts from the stored LTK. Expected values are literal: Service
Changed is start handle || end handle little-endian (``0100 ffff``), a CCCD enabling
notifications is ``0100`` (Vol 3 Part G 3.3.3.3, Table 3.12).
"""

from __future__ import annotations

import json

from host.bonds import Bond, BondStore, StoredCccd
from host.events import Indication, Notification
from host.gatt_db import CharacteristicDef, CharacteristicProperties, ServiceDef
from host.gatt_server import GattServer
from host.uuid import UUID
from linklayer.hci.address import Address
from phy.units import MS

from .test_security_rig import Node, SecurityRig

P = CharacteristicProperties
HEART_MEASUREMENT = UUID(0x2A37)
BODY_SENSOR = UUID(0x2A38)
HEART = ServiceDef(UUID(0x180D), (
    CharacteristicDef(HEART_MEASUREMENT, P.READ | P.NOTIFY, b"\x00\x48"),
    CharacteristicDef(BODY_SENSOR, P.READ | P.NOTIFY, b"\x01"),
))
HEART_WITHOUT_MEASUREMENT = ServiceDef(UUID(0x180D), (CharacteristicDef(BODY_SENSOR, P.READ | P.NOTIFY, b"\x01"),))
BATTERY = ServiceDef(UUID(0x180F), (CharacteristicDef(UUID(0x2A19), P.READ | P.NOTIFY, b"\x64"),))
SC_ALL = bytes.fromhex("0100ffff")
NOTIFY = bytes.fromhex("0100")
INDICATE = bytes.fromhex("0200")


def server(rig: SecurityRig) -> GattServer:
    return rig.peripheral.host.gatt_server


def heart_handles(rig: SecurityRig) -> tuple[int, int]:
    """Value handles of Heart Rate Measurement and Body Sensor Location today."""
    svc = next(s for s in server(rig).db.services if s.uuid == UUID(0x180D))
    by_uuid = {c.uuid: c.value_handle for c in svc.characteristics}
    return by_uuid.get(HEART_MEASUREMENT, 0), by_uuid.get(BODY_SENSOR, 0)


def write(rig: SecurityRig, handle: int, value: bytes) -> None:
    c = rig.central
    assert c.handle is not None
    out: list[object] = []
    c.host.gatt_client(c.handle).write(handle, value, rig.now, out.append)
    c.driver.service()
    assert rig.run_until(lambda: bool(out), 500 * MS) and out == [None]


def cccd(rig: SecurityRig, value_handle: int) -> int:
    attr = server(rig).db.cccd_of(value_handle)
    assert attr is not None
    return attr.handle


def sc_handles(rig: SecurityRig) -> tuple[int, int]:
    handles = server(rig).gatt_handles
    assert handles is not None and handles.service_changed is not None and handles.service_changed_cccd is not None
    return handles.service_changed, handles.service_changed_cccd


def bonded_and_subscribed(*, service_changed: bool) -> SecurityRig:
    """Peripheral serves GAP, GATT and Heart Rate; the central pairs, enables
    notifications of both Heart Rate characteristics (and Service Changed
    indications), then disconnects."""
    rig = SecurityRig()
    assert rig.peripheral.host.gatt_server.uses_bonds  # every host keeps its bonded clients
    server(rig).add_service(HEART)
    rig.connect()
    assert rig.pair()[0].success
    for value_handle in heart_handles(rig):
        write(rig, cccd(rig, value_handle), NOTIFY)
    if service_changed:
        write(rig, sc_handles(rig)[1], INDICATE)
    rig.disconnect()
    return rig


def reconnect_and_encrypt(rig: SecurityRig) -> int:
    """Connect again and encrypt from the bond; returns the time encryption started."""
    c = rig.central
    rig.connect()
    assert c.handle is not None
    start = rig.now
    assert c.host.encrypt(c.handle, start)
    c.driver.service()
    assert rig.run_until(rig.encrypted, 500 * MS)
    rig.run(100 * MS)  # let an indication and its confirmation go by
    return start


def peripheral_bond(rig: SecurityRig) -> Bond:
    bonds = rig.peripheral.host.bonds
    assert bonds is not None
    bond = bonds.get(rig.central.host.address)
    assert bond is not None
    return bond


def notifications(node: Node, since: int) -> list[tuple[int, bytes]]:
    return [(e.attribute_handle, e.value) for e in node.events(Notification, since) if isinstance(e, Notification)]


def indications(node: Node, since: int) -> list[tuple[int, bytes]]:
    return [(e.attribute_handle, e.value) for e in node.events(Indication, since) if isinstance(e, Indication)]


# -- (a) a service inserted before: the subscription follows to the new handle ------------


def test_bonded_subscription_follows_its_characteristic_to_the_new_handle() -> None:
    rig = bonded_and_subscribed(service_changed=False)
    old_measurement, _ = heart_handles(rig)
    s = server(rig)
    s.reset(True, rig.now)
    s.add_service(BATTERY)  # inserted before Heart Rate: every Heart Rate handle shifts
    s.add_service(HEART)
    measurement, _ = heart_handles(rig)
    assert measurement == old_measurement + 4
    start = reconnect_and_encrypt(rig)
    p = rig.peripheral
    assert p.handle is not None and s.subscription(p.handle, measurement) == 1
    assert s.notify(measurement, b"\x00\x50") == [p.handle]
    p.driver.service()
    rig.run(50 * MS)
    assert notifications(rig.central, start) == [(measurement, b"\x00\x50")]
    battery = next(svc for svc in s.db.services if svc.uuid == UUID(0x180F)).characteristics[0].value_handle
    assert s.notify(battery, b"\x63") == []  # never subscribed


def test_subscription_is_restored_only_once_the_link_is_encrypted() -> None:
    rig = bonded_and_subscribed(service_changed=False)
    measurement, _ = heart_handles(rig)
    rig.connect()
    p = rig.peripheral
    assert p.handle is not None
    assert server(rig).subscription(p.handle, measurement) == 0  # not yet known to be the bonded client
    c = rig.central
    assert c.handle is not None and c.host.encrypt(c.handle, rig.now)
    c.driver.service()
    assert rig.run_until(rig.encrypted, 500 * MS)
    assert server(rig).subscription(p.handle, measurement) == 1


def test_connected_bonded_client_keeps_its_subscriptions_across_a_reset() -> None:
    rig = bonded_and_subscribed(service_changed=True)
    reconnect_and_encrypt(rig)
    s, p = server(rig), rig.peripheral
    start = rig.now
    s.reset(True, start)
    s.add_service(BATTERY)
    s.add_service(HEART)
    measurement, body = heart_handles(rig)
    assert p.handle is not None
    assert (s.subscription(p.handle, measurement), s.subscription(p.handle, body)) == (1, 1)
    p.driver.service()
    rig.run(100 * MS)
    assert indications(rig.central, start) == [(sc_handles(rig)[0], SC_ALL)]  # told at the reset
    # It was told: reconnecting to the same database indicates nothing more.
    rig.disconnect()
    again = reconnect_and_encrypt(rig)
    assert indications(rig.central, again) == []


def test_bonded_subscriptions_survive_a_reboot_of_the_server() -> None:
    rig = bonded_and_subscribed(service_changed=True)
    p = rig.peripheral
    p.reboot()  # bonds reloaded from their JSON; the firmware registers its services again
    server(rig).add_service(HEART)
    assert rig.run_until(lambda: p.host.powered, 100 * MS)
    measurement, _ = heart_handles(rig)
    start = reconnect_and_encrypt(rig)
    assert p.handle is not None and server(rig).notify(measurement, b"\x00\x51") == [p.handle]
    p.driver.service()
    rig.run(50 * MS)
    assert notifications(rig.central, start) == [(measurement, b"\x00\x51")]
    assert indications(rig.central, start) == []  # same database, same hash


# -- (b) a characteristic removed: its CCCD state is gone ----------------------------------


def test_cccd_of_a_removed_characteristic_is_dropped() -> None:
    rig = bonded_and_subscribed(service_changed=False)
    stored = {(c.characteristic, c.value) for c in peripheral_bond(rig).gatt_cccds}
    assert stored == {(HEART_MEASUREMENT, 1), (BODY_SENSOR, 1)}
    s = server(rig)
    s.reset(True, rig.now)
    s.add_service(HEART_WITHOUT_MEASUREMENT)  # Body Sensor Location takes the old measurement handles
    _, body = heart_handles(rig)
    reconnect_and_encrypt(rig)
    p = rig.peripheral
    assert p.handle is not None
    assert s.cccd_states(p.handle) == {body: 1}
    assert peripheral_bond(rig).gatt_cccds == (StoredCccd(UUID(0x180D), 0, BODY_SENSOR, 0, 1),)
    # It stays gone when the characteristic comes back later.
    rig.disconnect()
    s.reset(True, rig.now)
    s.add_service(HEART)
    measurement, body = heart_handles(rig)
    reconnect_and_encrypt(rig)
    assert p.handle is not None and s.cccd_states(p.handle) == {body: 1}
    assert s.subscription(p.handle, measurement) == 0


# -- (c) Service Changed on reconnection when the database changed --------------------------


def test_service_changed_is_indicated_after_encryption_when_the_database_changed() -> None:
    rig = bonded_and_subscribed(service_changed=True)
    s = server(rig)
    seen = peripheral_bond(rig).gatt_database_hash
    assert seen == s.db.database_hash()
    s.reset(True, rig.now)
    s.add_service(HEART)
    s.add_service(BATTERY)  # added after: the Heart Rate handles stay
    assert s.db.database_hash() != seen
    c = rig.central
    rig.connect()
    before = rig.now
    rig.run(100 * MS)
    assert indications(c, before) == []  # not before the link is encrypted with the bond
    assert c.handle is not None and c.host.encrypt(c.handle, rig.now)
    c.driver.service()
    assert rig.run_until(rig.encrypted, 500 * MS)
    rig.run(100 * MS)
    assert indications(c, before) == [(sc_handles(rig)[0], SC_ALL)]
    assert peripheral_bond(rig).gatt_database_hash == s.db.database_hash()
    # Told once: the next reconnection to the same database is quiet.
    rig.disconnect()
    again = reconnect_and_encrypt(rig)
    assert indications(c, again) == []


def test_no_service_changed_when_the_database_is_unchanged() -> None:
    rig = bonded_and_subscribed(service_changed=True)
    s = server(rig)
    s.reset(True, rig.now)  # rebuilt with the same definitions: the same Database Hash
    s.add_service(HEART)
    start = reconnect_and_encrypt(rig)
    assert indications(rig.central, start) == []
    p = rig.peripheral
    assert p.handle is not None and s.subscription(p.handle, sc_handles(rig)[0]) == 2


def test_no_service_changed_when_the_client_never_enabled_it() -> None:
    rig = bonded_and_subscribed(service_changed=False)
    s = server(rig)
    s.reset(True, rig.now)
    s.add_service(BATTERY)
    s.add_service(HEART)
    start = reconnect_and_encrypt(rig)
    assert indications(rig.central, start) == []


# -- the bond store format --------------------------------------------------------------


ADDRESS = Address.parse("C0:11:22:33:44:55", True)


def test_gatt_fields_round_trip_through_json_with_literal_keys() -> None:
    store = BondStore()
    store.add(Bond(ADDRESS))
    cccds = (StoredCccd(UUID(0x180D), 0, HEART_MEASUREMENT, 0, 1),
             StoredCccd(UUID("8d5f0000-1fb4-4a21-9a3b-0c2f3e4d5a6b"), 1, UUID(0x2A05), 2, 2))
    store.set_gatt_state(ADDRESS, cccds, bytes(range(16)))
    document = json.loads(store.to_json())
    bond = document["bonds"][0]
    assert bond["gatt_database_hash"] == "000102030405060708090a0b0c0d0e0f"
    assert bond["gatt_cccds"][0] == {"service": "0x180D", "service_index": 0, "characteristic": "0x2A37",
                                     "characteristic_index": 0, "value": 1}
    assert bond["gatt_cccds"][1]["service"] == "8D5F0000-1FB4-4A21-9A3B-0C2F3E4D5A6B"
    again = BondStore.from_json(store.to_json()).get(ADDRESS)
    assert again is not None and again.gatt_cccds == cccds and again.gatt_database_hash == bytes(range(16))


def test_a_bond_file_written_before_the_gatt_fields_loads_with_none() -> None:
    old = json.dumps({"version": 1, "local_irk": None, "bonds": [{
        "peer_address": "C0:11:22:33:44:55", "peer_address_random": True, "peer_irk": None,
        "local_ltk": None, "peer_ltk": None, "peer_csrk": None, "local_csrk": None,
        "peer_sign_counter": 0, "local_sign_counter": 0,
    }]})
    bond = BondStore.from_json(old).get(ADDRESS)
    assert bond is not None and bond.gatt_cccds == () and bond.gatt_database_hash is None


def test_set_gatt_state_persists_only_changes() -> None:
    written: list[str] = []
    store = BondStore(written.append)
    store.add(Bond(ADDRESS))
    cccds = (StoredCccd(UUID(0x180D), 0, HEART_MEASUREMENT, 0, 1),)
    store.set_gatt_state(ADDRESS, cccds, bytes(16))
    store.set_gatt_state(ADDRESS, cccds, bytes(16))
    assert len(written) == 2  # add, then one change
