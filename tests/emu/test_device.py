"""The Python device API over the simulated radio: the two-node GATT acceptance test.

Two devices in a ``make_world`` world, driven from pytest with the KernelWaiter: a GATT
server (16- and 128-bit UUIDs, a secondary service, includes, descriptors, a 512-octet
value) and a phone-like client that discovers everything, reads and writes every way,
subscribes, exchanges the MTU and sees the peripheral update the connection parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from emu.device import (
    Characteristic,
    Connection,
    Descriptor,
    Device,
    DeviceTimeoutError,
    DeviceUsageError,
    Disconnected,
    GattError,
    RemoteCharacteristic,
    RemoteService,
    Service,
    UUID,
)
from emu.world import make_world
from phy.units import MS

BATTERY = UUID(0x180F)
BATTERY_LEVEL = UUID(0x2A19)
PRESENTATION_FORMAT = UUID(0x2904)
CUSTOM = UUID("6e400001-b5a3-f393-e0a9-e50e24dcca9e")
BLOB = UUID("6e400002-b5a3-f393-e0a9-e50e24dcca9e")
ALARM = UUID("6e400003-b5a3-f393-e0a9-e50e24dcca9e")
SECRET = UUID("6e400004-b5a3-f393-e0a9-e50e24dcca9e")
STRING = UUID(0x2A3D)
SECONDARY = UUID(0x1234)
COUNTER = UUID(0x2A3F)

BLOB_VALUE = bytes(i * 7 % 251 for i in range(512))
# Presentation Format of a uint8 percentage (format 0x04, exponent 0, unit 0x27AD).
PERCENT_FORMAT = bytes.fromhex("0400ad27010000")


@dataclass
class Server:
    device: Device
    battery: Characteristic
    blob: Characteristic
    string: Characteristic
    alarm: Characteristic
    secret: Characteristic
    counter: Characteristic
    services: list[Service]
    writes: list[tuple[str, bytes]] = field(default_factory=list)
    reads: list[str] = field(default_factory=list)


def build_server(device: Device) -> Server:
    writes: list[tuple[str, bytes]] = []
    reads: list[str] = []

    def counter_value(connection: Connection | None) -> bytes:
        reads.append("counter" if connection is not None and connection.role == "peripheral" else "?")
        return bytes([len(reads)])

    battery = Characteristic(BATTERY_LEVEL, read=True, notify=True, value=b"\x64",
                             descriptors=[Descriptor(PRESENTATION_FORMAT, PERCENT_FORMAT)])
    blob = Characteristic(BLOB, read=True, write=True, value=BLOB_VALUE, reliable_write=True, description="blob")
    string = Characteristic(STRING, read=True, write=True, write_without_response=True, value=b"hi",
                            on_write=lambda conn, value: writes.append(("string", value)))
    alarm = Characteristic(ALARM, indicate=True, read=True, value=b"\x00")
    secret = Characteristic(SECRET, write=True, value=b"")
    counter = Characteristic(COUNTER, read=True, on_read=counter_value)
    battery_service = device.gatt.add_service(Service(BATTERY, [battery]))
    secondary = device.gatt.add_service(Service(SECONDARY, [counter], primary=False))
    custom = device.gatt.add_service(
        Service(CUSTOM, [blob, string, alarm, secret], includes=[battery_service, secondary]))
    server = Server(device, battery, blob, string, alarm, secret, counter, [battery_service, secondary, custom])
    server.writes = writes
    server.reads = reads
    return server


@pytest.fixture
def rig() -> tuple[Server, Device, Connection, Connection]:
    world = make_world(21)
    server = build_server(Device.create(world, "server", (0.0, 0.0)))
    phone = Device.create(world, "phone", (2.0, 0.0))
    server.device.advertise(name="sensor", services=[BATTERY], interval_ms=30)
    found = phone.find(name="sensor", timeout_ms=1000)
    conn = phone.connect(found, interval_ms=15)
    peer = server.device.wait_for_connection(timeout_ms=100)
    return server, phone, conn, peer


def test_the_discovered_view_equals_the_servers_definition(rig: tuple[Server, Device, Connection, Connection]) -> None:
    server, phone, conn, _ = rig
    services = conn.discover()
    # 1. exactly the server's own description of its database (GAP, GATT, ours)
    assert services == server.device.gatt.describe()
    assert [s.uuid for s in services] == [UUID(0x1800), UUID(0x1801), BATTERY, SECONDARY, CUSTOM]
    # 2. and what the test defined, checked independently of the server's bookkeeping
    by_uuid = {s.uuid: s for s in services}
    battery, secondary, custom = by_uuid[BATTERY], by_uuid[SECONDARY], by_uuid[CUSTOM]
    assert battery.primary and custom.primary and not secondary.primary
    assert [(i.uuid, i.start_handle, i.end_handle) for i in custom.includes] == [
        (BATTERY, battery.start_handle, battery.end_handle),
        (SECONDARY, secondary.start_handle, secondary.end_handle),
    ]

    def shape(c: RemoteCharacteristic) -> tuple[UUID, int, list[UUID]]:
        return c.uuid, c.properties, [d.uuid for d in c.descriptors]

    assert [shape(c) for c in battery.characteristics] == [(BATTERY_LEVEL, 0x12, [UUID(0x2902), PRESENTATION_FORMAT])]
    assert [shape(c) for c in secondary.characteristics] == [(COUNTER, 0x02, [])]
    assert [shape(c) for c in custom.characteristics] == [
        (BLOB, 0x8A, [UUID(0x2900), UUID(0x2901)]),  # read|write|extended, ext props + user description
        (STRING, 0x0E, []),  # read|write without response|write
        (ALARM, 0x22, [UUID(0x2902)]),  # read|indicate
        (SECRET, 0x08, []),
    ]
    # handles line up with the local objects, which learned them when added
    for local, remote in ((server.battery, battery.characteristics[0]), (server.blob, custom.characteristics[0])):
        assert (local.declaration_handle, local.value_handle, local.end_handle) == (
            remote.declaration_handle, remote.value_handle, remote.end_handle)
    # a service's handle range holds exactly its attributes
    assert custom.start_handle == server.services[2].start_handle
    assert custom.end_handle == custom.characteristics[-1].end_handle
    # descriptor values as defined
    blob = custom.characteristics[0]
    ext, user = blob.descriptors
    assert conn.read(ext) == b"\x01\x00"  # Reliable Write
    assert conn.read(user) == b"blob"
    assert conn.read(battery.characteristics[0].descriptors[1]) == PERCENT_FORMAT


def test_reads_every_way(rig: tuple[Server, Device, Connection, Connection]) -> None:
    server, phone, conn, _ = rig
    battery = conn.characteristic(BATTERY_LEVEL)
    blob = conn.characteristic(BLOB)
    string = conn.characteristic(STRING)
    assert conn.read(battery) == b"\x64"
    assert conn.read(blob) == BLOB_VALUE[:22]  # ATT_MTU 23: one Read Response
    assert conn.read_long(blob) == BLOB_VALUE  # Read then Read Blob
    assert conn.read_long(battery.value_handle) == b"\x64"
    assert conn.read_by_uuid(BATTERY_LEVEL) == [(battery.value_handle, b"\x64")]
    assert conn.read_multiple([battery, string]) == b"\x64hi"
    assert conn.read_multiple_variable([string, blob, battery]) == [b"hi", BLOB_VALUE, b"\x64"]
    # a read hook answers per request, on the server, with the connection
    counter = conn.characteristic(COUNTER)
    assert conn.read(counter) == b"\x01" and conn.read(counter) == b"\x02"
    assert server.reads == ["counter", "counter"]
    # errors come back as GattError with the ATT code and handle
    with pytest.raises(GattError) as err:
        conn.read(conn.characteristic(SECRET))
    assert (err.value.code, err.value.handle, err.value.name) == (0x02, server.secret.handle, "READ_NOT_PERMITTED")
    with pytest.raises(GattError) as err:
        conn.read(0x0FFF)
    assert (err.value.code, err.value.handle) == (0x01, 0x0FFF)


def test_writes_every_way(rig: tuple[Server, Device, Connection, Connection]) -> None:
    server, phone, conn, _ = rig
    string, blob = conn.characteristic(STRING), conn.characteristic(BLOB)
    conn.write(string, b"hello")
    assert server.string.value == b"hello"
    conn.write(string, b"quiet", response=False)
    phone.sleep_ms(100)
    assert server.string.value == b"quiet"
    new_blob = bytes(255 - (i % 256) for i in range(512))
    conn.write_long(blob, new_blob)
    assert server.blob.value == new_blob
    conn.write_long(blob, b"PATCH", offset=100)
    assert server.blob.value == new_blob[:100] + b"PATCH"
    conn.write(blob, BLOB_VALUE)  # too long for one request: a long write
    assert server.blob.value == BLOB_VALUE
    conn.reliable_write([(blob, b"R" * 300), (string, b"both")])
    assert server.blob.value == b"R" * 300 and server.string.value == b"both"
    # on_write ran for each accepted write of the string characteristic, in order
    assert server.writes == [("string", b"hello"), ("string", b"quiet"), ("string", b"both")]
    with pytest.raises(GattError) as err:
        conn.write(conn.characteristic(BATTERY_LEVEL), b"\x01")
    assert err.value.name == "WRITE_NOT_PERMITTED"
    # the server's own view of the value is what the client reads
    server.string.value = b"set locally"
    assert conn.read(string) == b"set locally"


def test_notifications_and_indications(rig: tuple[Server, Device, Connection, Connection]) -> None:
    server, phone, conn, peer = rig
    battery, alarm = conn.characteristic(BATTERY_LEVEL), conn.characteristic(ALARM)
    levels: list[bytes] = []
    conn.subscribe(battery, levels.append)
    assert server.battery.subscribers == [peer]
    assert server.device.notify(server.battery, b"\x63") == [peer]
    server.battery.notify(b"\x62")
    phone.sleep_ms(100)
    assert levels == [b"\x63", b"\x62"]
    assert conn.read(battery) == b"\x62"  # notify stored the value too
    conn.subscribe(alarm)  # no callback: values queue up for next_value
    start = server.device.now
    assert server.device.indicate(server.alarm, b"\x01") == [peer]
    assert server.device.now > start  # returned once the confirmation arrived
    assert conn.next_value(alarm) == b"\x01"
    with pytest.raises(DeviceTimeoutError):
        conn.next_value(alarm, timeout_ms=50)
    conn.unsubscribe(battery)
    assert server.battery.subscribers == []
    assert server.device.notify(server.battery, b"\x61") == []
    phone.sleep_ms(100)
    assert levels == [b"\x63", b"\x62"]


def test_mtu_exchange_and_parameter_update_from_the_peripheral(
    rig: tuple[Server, Device, Connection, Connection],
) -> None:
    server, phone, conn, peer = rig
    assert conn.mtu == 23 and peer.mtu == 23
    assert conn.exchange_mtu(185) == 185
    assert conn.mtu == 185 and peer.mtu == 185
    blob = conn.characteristic(BLOB)
    assert conn.read(blob) == BLOB_VALUE[:184]
    assert (conn.interval_ms, peer.interval_ms) == (15.0, 15.0)
    peer.update_parameters(interval_ms=45, latency=2, timeout_ms=2000)
    assert (peer.interval_ms, peer.latency, peer.supervision_timeout_ms) == (45.0, 2, 2000.0)
    phone.sleep_ms(10)
    assert (conn.interval_ms, conn.latency, conn.supervision_timeout_ms) == (45.0, 2, 2000.0)
    assert conn.read(conn.characteristic(BATTERY_LEVEL)) == b"\x64"  # the link still works
    with pytest.raises(DeviceUsageError):
        peer.update_parameters(interval_ms=3)  # below 7.5 ms


def test_disconnection_is_seen_on_both_sides(rig: tuple[Server, Device, Connection, Connection]) -> None:
    server, phone, conn, peer = rig
    reasons: list[int] = []
    peer.on_disconnect = reasons.append
    assert conn.disconnect(reason=0x13) == 0x16  # Connection Terminated By Local Host
    assert peer.wait_disconnected(timeout_ms=1000) == 0x13
    server.device.sleep_ms(1)
    assert reasons == [0x13]
    assert not conn.connected and not peer.connected
    assert phone.connections == {} and server.device.connections == {}
    with pytest.raises(Disconnected):
        conn.read(3)


def test_discovered_services_are_plain_values(rig: tuple[Server, Device, Connection, Connection]) -> None:
    _, _, conn, _ = rig
    services = conn.discover()
    assert all(isinstance(s, RemoteService) for s in services)
    assert conn.services is services
    assert conn.service(CUSTOM).characteristic(BLOB) == conn.characteristic(BLOB, service=CUSTOM)
    with pytest.raises(DeviceUsageError):
        conn.characteristic(UUID(0xFFF0))
