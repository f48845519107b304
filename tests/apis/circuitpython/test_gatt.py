"""``_bleio.Service``, ``Characteristic``, ``Descriptor`` and ``Connection`` in real worlds."""

from __future__ import annotations

from pathlib import Path

from apis.circuitpython.gatt import (
    permissions,
    properties_from_wire,
    properties_to_wire,
)
from apis.circuitpython.values import Attribute
from host.events import Indication, Notification
from host.gatt_db import CCCD_UUID, Permissions
from host.uuid import UUID as HostUUID

from .rig import run_world
from .test_adapter import ATTEMPT

C = "_bleio.Characteristic"


def test_property_bits_are_not_the_wire_bits() -> None:
    # CircuitPython's bits (shared-module/_bleio/Characteristic.h) -> GATT (Vol 3 Part G 3.3.1.1).
    assert properties_to_wire(0x01) == 0x01  # BROADCAST
    assert properties_to_wire(0x02) == 0x20  # INDICATE
    assert properties_to_wire(0x04) == 0x10  # NOTIFY
    assert properties_to_wire(0x08) == 0x02  # READ
    assert properties_to_wire(0x10) == 0x08  # WRITE
    assert properties_to_wire(0x20) == 0x04  # WRITE_NO_RESPONSE
    assert properties_from_wire(0x3F) == 0x3F
    assert properties_from_wire(0x16) == 0x08 | 0x04 | 0x20


def test_security_modes_to_permissions() -> None:
    P = Permissions
    assert permissions(Attribute.OPEN, Attribute.NO_ACCESS) == P.READ
    assert permissions(Attribute.NO_ACCESS, Attribute.OPEN) == P.WRITE
    assert permissions(Attribute.ENCRYPT_NO_MITM, Attribute.ENCRYPT_WITH_MITM) == (
        P.READ | P.READ_ENCRYPTED | P.WRITE | P.WRITE_AUTHENTICATED)
    assert permissions(Attribute.LESC_ENCRYPT_WITH_MITM, Attribute.SIGNED_NO_MITM) == (
        P.READ | P.READ_AUTHENTICATED | P.WRITE | P.WRITE_ENCRYPTED)


LOCAL = ATTEMPT + f"""
svc = _bleio.Service(_bleio.UUID(0x1234))
print("constants", {C}.BROADCAST, {C}.INDICATE, {C}.NOTIFY, {C}.READ, {C}.WRITE, {C}.WRITE_NO_RESPONSE)
add = {C}.add_to_service
attempt("props", lambda: add(svc, _bleio.UUID(1), properties=0x40))
attempt("perm", lambda: add(svc, _bleio.UUID(1), read_perm=0x99))
attempt("negative", lambda: add(svc, _bleio.UUID(1), max_length=-1))
attempt("fixed max", lambda: add(svc, _bleio.UUID(1), max_length=511, fixed_length=True))
attempt("var max", lambda: add(svc, _bleio.UUID(1), max_length=513))
attempt("initial long", lambda: add(svc, _bleio.UUID(1), max_length=2, initial_value=b"abc"))
attempt("initial fixed", lambda: add(svc, _bleio.UUID(1), max_length=3, fixed_length=True, initial_value=b"ab"))
attempt("service type", lambda: add(5, _bleio.UUID(1)))
attempt("uuid type", lambda: add(svc, 0x2A19))
attempt("service uuid", lambda: _bleio.Service(0x180F))
attempt("new char", lambda: _bleio.Characteristic())
fixed = add(svc, _bleio.UUID(0x2A01), properties={C}.READ | {C}.NOTIFY, max_length=4, fixed_length=True)
free = add(svc, _bleio.UUID(0x2A02), properties={C}.READ | {C}.WRITE_NO_RESPONSE | {C}.INDICATE,
           read_perm=_bleio.Attribute.ENCRYPT_NO_MITM, initial_value=b"hi", user_description="free")
print("initial", fixed.value, free.value, type(free.value).__name__, free.value is not free.value)
attempt("fixed set", lambda: setattr(fixed, "value", b"123"))
attempt("max set", lambda: setattr(free, "value", bytes(21)))
fixed.value = b"\\x01\\x02\\x03\\x04"
free.value = bytearray(b"twenty bytes exactly")
print("values", fixed.value, free.value)
print("props", fixed.properties, free.properties, free.max_length, free.uuid, free.service is svc)
print("service", svc, svc.uuid, svc.remote, svc.secondary, len(svc.characteristics))
attempt("cccd local", lambda: fixed.set_cccd(notify=True))
plain = add(svc, _bleio.UUID(0x2A03), properties={C}.READ)
attempt("no cccd", lambda: plain.set_cccd(notify=True))
d = _bleio.Descriptor.add_to_characteristic(plain, _bleio.UUID(0x2904), initial_value=b"\\x01\\x02",
                                             max_length=7, fixed_length=False)
d.value = b"\\x03"
print("descriptor", d, d.uuid, d.characteristic is plain, d.value, plain.descriptors == (d,))
attempt("descriptor long", lambda: setattr(d, "value", bytes(8)))
attempt("new descriptor", lambda: _bleio.Descriptor())
print("values kept", fixed.value, free.value)
second = _bleio.Service(_bleio.UUID("12345678-1234-5678-1234-56789abcdef0"), secondary=True)
print("second", second, second.secondary)
adapter.start_advertising(b"\\x02\\x01\\x06")  # registers every local service
"""


def test_local_service_rules_and_database(tmp_path: Path) -> None:
    world = run_world(tmp_path, {"board": LOCAL}, duration="1s")
    assert world.output("board") == [
        "constants 1 2 4 8 16 32",
        "props ValueError Invalid properties",
        "perm ValueError Invalid security_mode",
        "negative ValueError max_length must be >= 0",
        "fixed max ValueError max_length must be 0-510 when fixed_length is True",
        "var max ValueError max_length must be 0-512 when fixed_length is False",
        "initial long ValueError initial_value length is wrong",
        "initial fixed ValueError initial_value length is wrong",
        "service type TypeError service must be of type Service, not int",
        "uuid type TypeError uuid must be of type UUID, not int",
        "service uuid TypeError uuid must be of type UUID, not int",
        "new char TypeError cannot create 'Characteristic' instances",
        "initial bytearray(b'\\x00\\x00\\x00\\x00') bytearray(b'hi') bytearray True",
        "fixed set ValueError Value length != required fixed length",
        "max set ValueError Value length > max_length",
        "values bytearray(b'\\x01\\x02\\x03\\x04') bytearray(b'twenty bytes exactly')",
        "props 12 42 20 UUID(0x2a02) True",
        "service Service(UUID(0x1234)) UUID(0x1234) False False 2",
        "cccd local RoleError Can't set CCCD on local Characteristic",
        "no cccd BluetoothError No CCCD for this Characteristic",
        "descriptor Descriptor(UUID(0x2904)) UUID(0x2904) True bytearray(b'\\x03') True",
        "descriptor long ValueError Value length > max_length",
        "new descriptor TypeError cannot create 'Descriptor' instances",
        "values kept bytearray(b'\\x01\\x02\\x03\\x04') bytearray(b'twenty bytes exactly')",
        "second Service(UUID('12345678-1234-5678-1234-56789abcdef0')) True",
    ]
    # The host database holds the service once (re-registered as it grew), with wire bits.
    services = {s.uuid: s for s in world.host("board").gatt_server.describe()}
    svc = services[HostUUID(0x1234)]
    chars = {c.uuid: c for c in svc.characteristics}
    assert chars[HostUUID(0x2A01)].properties == 0x02 | 0x10
    assert chars[HostUUID(0x2A02)].properties == 0x02 | 0x04 | 0x20
    assert [d.uuid for d in chars[HostUUID(0x2A02)].descriptors] == [HostUUID(0x2901), CCCD_UUID]
    assert [d.uuid for d in chars[HostUUID(0x2A03)].descriptors] == [HostUUID(0x2904)]
    db = world.host("board").gatt_server.db
    free = chars[HostUUID(0x2A02)]
    assert db[free.value_handle].permissions == Permissions.READ | Permissions.READ_ENCRYPTED | Permissions.WRITE
    cccd = next(d for d in free.descriptors if d.uuid == CCCD_UUID)
    assert db[cccd.handle].permissions == Permissions.READ | Permissions.WRITE | Permissions.WRITE_ENCRYPTED
    assert not services[HostUUID("12345678-1234-5678-1234-56789abcdef0")].primary
    assert len([s for s in services if s == HostUUID(0x1234)]) == 1


SERVER = ATTEMPT + f"""
svc = _bleio.Service(_bleio.UUID("aa110001-0000-1000-8000-00805f9b34fb"))
rw = {C}.add_to_service(svc, _bleio.UUID("aa110002-0000-1000-8000-00805f9b34fb"),
        properties={C}.READ | {C}.WRITE | {C}.NOTIFY, initial_value=b"start")
nr = {C}.add_to_service(svc, _bleio.UUID("aa110003-0000-1000-8000-00805f9b34fb"),
        properties={C}.WRITE_NO_RESPONSE | {C}.INDICATE)
_bleio.Descriptor.add_to_characteristic(rw, _bleio.UUID(0x2901), initial_value=b"rw")
hidden = _bleio.Service(_bleio.UUID("bb220001-0000-1000-8000-00805f9b34fb"))
{C}.add_to_service(hidden, _bleio.UUID("bb220002-0000-1000-8000-00805f9b34fb"), properties={C}.READ)
received = _bleio.CharacteristicBuffer(nr, buffer_size=32)
adapter.start_advertising(b"\\x02\\x01\\x06\\x05\\x09serv")
while not adapter.connected:
    pass
conn = adapter.connections[0]
time.sleep(0.5)
print("server interval", conn.connection_interval)
print("got", received.read(4))
rw.value = b"notified"
nr.value = b"indicated"
print("written", rw.value)
while adapter.connected:
    pass
print("gone", conn.connected)
"""

CLIENT = ATTEMPT + """
time.sleep(0.1)
for entry in adapter.start_scan(prefixes=b"\\x01\\x09", timeout=2):
    break
adapter.stop_scan()
conn = adapter.connect(entry.address, timeout=3)
known = _bleio.UUID("aa110001-0000-1000-8000-00805f9b34fb")
everything = conn.discover_remote_services()
print("all", [s.uuid for s in everything])
print("hidden chars", [len(s.characteristics) for s in everything if s.uuid is None])
(svc,) = conn.discover_remote_services((known,))
print("whitelist", svc, svc.remote, svc.connection is conn)
rw, nr = svc.characteristics
print("chars", rw.uuid, rw.properties, nr.properties, rw.service is svc)
print("descriptors", [d.uuid for d in rw.descriptors], rw.descriptors[0].value, rw.descriptors[1].value)
print("read", rw.value)
rw.value = b"changed"
print("reread", rw.value)
buf = _bleio.CharacteristicBuffer(rw, timeout=2)
rw.set_cccd(notify=True)
nr.set_cccd(indicate=True)
nr.value = b"wxyz"
print("notification", buf.read(8))
print("mtu payload", conn.max_packet_length)
time.sleep(0.5)
print("interval", conn.connection_interval)
conn.connection_interval = 45
time.sleep(1)
print("interval now", conn.connection_interval)
attempt("whitelist type", lambda: conn.discover_remote_services([0x180F]))
conn.disconnect()
time.sleep(0.5)
print("connected", conn.connected, conn.paired, adapter.connected)
attempt("pair", lambda: conn.pair())
attempt("discover", lambda: conn.discover_remote_services())
attempt("interval", lambda: conn.connection_interval)
attempt("read", lambda: rw.value)
attempt("buffer", lambda: buf.read(1))
attempt("new connection", lambda: _bleio.Connection())
print("repr", repr(conn))
"""


def test_remote_services_and_connection(tmp_path: Path) -> None:
    world = run_world(tmp_path, {"server": SERVER, "client": CLIENT}, duration="6s")
    assert world.output("client") == [
        "all [UUID(0x1800), UUID(0x1801), UUID('aa110001-0000-1000-8000-00805f9b34fb'), None]",
        "hidden chars [0]",
        "whitelist Service(UUID('aa110001-0000-1000-8000-00805f9b34fb')) True True",
        "chars UUID('aa110002-0000-1000-8000-00805f9b34fb') 28 34 True",
        "descriptors [UUID(0x2902), UUID(0x2901)] bytearray(b'\\x00\\x00') bytearray(b'rw')",
        "read bytearray(b'start')",
        "reread bytearray(b'changed')",
        "notification b'notified'",
        "mtu payload 509",
        "interval 30.0",
        "interval now 45.0",
        "whitelist type TypeError non-UUID found in service_uuids_whitelist",
        "connected False False False",
        "pair ConnectionError Connection has been disconnected and can no longer be used. Create a new connection.",
        "discover ConnectionError Connection has been disconnected and can no longer be used. Create a new connection.",
        "interval ConnectionError Connection has been disconnected and can no longer be used. Create a new connection.",
        "read ConnectionError Not connected",
        "buffer ConnectionError Not connected",
        "new connection TypeError cannot create 'Connection' instances",
        "repr <Connection>",
    ]
    assert world.output("server") == [
        "server interval 30.0",
        "got b'wxyz'",
        "written bytearray(b'notified')",
        "gone False",
    ]
    assert [e.value for _, e in world.events_of("client", Notification)] == [b"notified"]
    assert [e.value for _, e in world.events_of("client", Indication)] == [b"indicated"]


def test_peripheral_initiated_pairing(tmp_path: Path) -> None:
    server = ATTEMPT + """
adapter.start_advertising(b"\\x02\\x01\\x06\\x05\\x09serv")
while not adapter.connected:
    pass
conn = adapter.connections[0]
print("before", conn.paired)
conn.pair(bond=False)
print("after", conn.paired)
conn.pair()
print("again", conn.paired)
"""
    client = ATTEMPT + """
for entry in adapter.start_scan(prefixes=b"\\x01\\x09", timeout=2):
    break
adapter.stop_scan()
conn = adapter.connect(entry.address, timeout=3)
while not conn.paired:
    time.sleep(0.1)
print("client sees paired", conn.paired)
"""
    world = run_world(tmp_path, {"serv": server, "cli": client}, duration="4s")
    assert world.output("serv") == ["before False", "after True", "again True"]
    assert world.output("cli") == ["client sees paired True"]
