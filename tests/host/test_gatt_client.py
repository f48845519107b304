"""Tests for host.gatt_client: the GATT acceptance with two bearers back to back in memory.

A server with several services (16- and 128-bit UUIDs, primary and secondary, includes
of both widths, descriptors, a 512-octet value) and a client that discovers everything,
reads and writes every way, subscribes, and exchanges MTU. The link delivers queued PDUs
one "connection event" (7.5 ms of simulated time) at a time; nothing sleeps.
"""

from __future__ import annotations

from typing import Any, Callable

import pytest

from host.att import (
    ATT_TRANSACTION_TIMEOUT_NS,
    AttBearer,
    AttBearerClosedError,
    AttError,
    AttLocalError,
    AttTimeoutError,
)
from host.att_pdu import (
    ATT_READ_BLOB_RSP,
    ATT_READ_RSP,
    AttErrorCode,
    decode_att_pdu,
    is_request,
)
from host.gatt_client import GattClient, GattOperation, GattVerifyError
from host.gatt_db import (
    CharacteristicDef,
    CharacteristicInfo,
    CharacteristicProperties,
    DescriptorDef,
    ExtendedProperties,
    ServiceDef,
    ServiceInfo,
)
from host.gatt_server import GattServer
from host.gatt_services import PeripheralPreferredConnectionParameters
from host.uuid import UUID

P = CharacteristicProperties
E = AttErrorCode
EVENT_NS = 7_500_000
BIG = bytes((i * 7 + 3) & 0xFF for i in range(512))
SENSOR = UUID("12345678-1234-5678-1234-56789ABCDEF0")
SENSOR_DATA = UUID("12345678-1234-5678-1234-56789ABCDEF1")
SENSOR_CTRL = UUID("12345678-1234-5678-1234-56789ABCDEF2")
CALIB = UUID("0000FEE0-0000-1000-8000-00805F9B34FB").to_128()  # a 16-bit-able UUID in 128-bit form
HIDDEN = UUID("AAAAAAAA-0000-4000-8000-000000000001")


def make_server() -> tuple[GattServer, dict[str, int]]:
    s = GattServer()
    s.add_gap_service("blesim-server", 0x0340, PeripheralPreferredConnectionParameters(6, 12, 0, 400))
    s.add_gatt_service()
    battery = s.add_service(
        ServiceDef(UUID(0x180F), (CharacteristicDef(UUID(0x2A19), P.READ | P.NOTIFY, b"\x64"),))
    )
    hidden = s.add_service(
        ServiceDef(HIDDEN, (CharacteristicDef(UUID(0x2A29), P.READ, b"secondary"),), primary=False)
    )
    sensor = s.add_service(
        ServiceDef(
            SENSOR,
            (
                CharacteristicDef(
                    SENSOR_DATA, P.READ | P.WRITE | P.NOTIFY | P.INDICATE, BIG,
                    extended_properties=ExtendedProperties.RELIABLE_WRITE | ExtendedProperties.WRITABLE_AUXILIARIES,
                    user_description="sensor data",
                    descriptors=(DescriptorDef(UUID(0x2904), bytes.fromhex("0400ad27010000")),),
                ),
                CharacteristicDef(SENSOR_CTRL, P.WRITE | P.WRITE_WITHOUT_RESPONSE | P.AUTHENTICATED_SIGNED_WRITES, b""),
                CharacteristicDef(CALIB, P.READ | P.WRITE, b"cal"),
                CharacteristicDef(UUID(0x2A19), P.READ, b"\x07"),
            ),
            includes=(battery, hidden),
        )
    )
    s.add_service(ServiceDef(UUID(0x180A), (CharacteristicDef(UUID(0x2A29), P.READ, b"blesim"),)))
    c = sensor.characteristics
    handles = {
        "battery_level": battery.characteristics[0].value_handle,
        "hidden": hidden.characteristics[0].value_handle,
        "data": c[0].value_handle,
        "data_cud": c[0].user_description_handle or 0,
        "ctrl": c[1].value_handle,
        "calib": c[2].value_handle,
        "level2": c[3].value_handle,
        "name": s.gap_handles.device_name if s.gap_handles else 0,
    }
    return s, handles


class Link:
    """Server and client bearers back to back; ``run`` delivers PDUs event by event."""

    def __init__(self, server: GattServer, *, server_mtu: int = 247, client_mtu: int = 247) -> None:
        self.server = server
        self.now = 0
        self.to_server: list[bytes] = []
        self.to_client: list[bytes] = []
        self.log: list[tuple[int, str, Any]] = []
        self.tamper: Callable[[bytes], bytes | None] | None = None
        self.max_requests_in_flight = 0
        #: every PDU the client sent, in order
        self.uplink: list[bytes] = []
        self.server_bearer = AttBearer(
            0x0040, self.to_client.append, server, local_mtu=server_mtu,
            on_mtu_changed=lambda mtu, now: self.log.append((now, "server", ("mtu", mtu))),
        )
        self.client_bearer = AttBearer(
            0x0041, self.to_server.append, GattServer(), local_mtu=client_mtu,
            on_mtu_changed=lambda mtu, now: self.log.append((now, "client", ("mtu", mtu))),
        )
        self.client = GattClient(self.client_bearer)

    def run(self, limit: int = 100_000) -> None:
        for _ in range(limit):
            if not (self.to_server or self.to_client):
                return
            self.now += EVENT_NS
            up, self.to_server[:] = list(self.to_server), []
            down, self.to_client[:] = list(self.to_client), []
            self.max_requests_in_flight = max(self.max_requests_in_flight, sum(is_request(p[0]) for p in up))
            self.uplink += up
            for pdu in up:
                self.server_bearer.receive(pdu, self.now)
            for pdu in down:
                if self.tamper is not None:
                    changed = self.tamper(pdu)
                    if changed is None:
                        continue
                    pdu = changed
                self.client_bearer.receive(pdu, self.now)
        raise AssertionError("link did not settle")

    def do(self, op: GattOperation[Any]) -> Any:
        self.run()
        assert op.done, op
        if op.error is not None:
            raise op.error
        return op.result


@pytest.fixture
def rig() -> tuple[Link, dict[str, int]]:
    server, handles = make_server()
    return Link(server), handles


# -- discovery -----------------------------------------------------------------------------


@pytest.mark.parametrize(("mtu", "exchange"), [(23, False), (247, True), (517, True), (64, True)])
def test_discovered_view_equals_server_definition(mtu: int, exchange: bool) -> None:
    server, _ = make_server()
    link = Link(server, server_mtu=max(mtu, 23), client_mtu=mtu)
    if exchange:
        assert link.do(link.client.exchange_mtu(link.now)) == mtu
    view = link.do(link.client.discover_all(link.now))
    assert view == server.describe()
    assert len(view) == 6
    assert link.max_requests_in_flight == 1


def test_discover_primary_services(rig: tuple[Link, dict[str, int]]) -> None:
    link, _ = rig
    full = link.server.describe()
    primaries = [ServiceInfo(s.start_handle, s.end_handle, s.uuid) for s in full if s.primary]
    assert link.do(link.client.discover_primary_services(link.now)) == primaries
    by_16 = link.do(link.client.discover_primary_services(link.now, UUID(0x180F)))
    assert by_16 == [p for p in primaries if p.uuid == UUID(0x180F)]
    by_128 = link.do(link.client.discover_primary_services(link.now, SENSOR))
    assert by_128 == [p for p in primaries if p.uuid == SENSOR]
    assert link.do(link.client.discover_primary_services(link.now, UUID(0x1234))) == []
    # secondary services are not primary ones
    assert link.do(link.client.discover_primary_services(link.now, HIDDEN)) == []
    secondaries = link.do(link.client.discover_secondary_services(link.now))
    assert [s.uuid for s in secondaries] == [HIDDEN] and not secondaries[0].primary


def test_included_services_both_widths(rig: tuple[Link, dict[str, int]]) -> None:
    link, _ = rig
    sensor = next(s for s in link.server.describe() if s.uuid == SENSOR)
    includes = link.do(link.client.find_included_services(sensor, link.now))
    assert [i.uuid for i in includes] == [UUID(0x180F), HIDDEN]  # the 128-bit one needs a Read
    assert tuple(includes) == sensor.includes


def test_characteristics_by_uuid_and_descriptors(rig: tuple[Link, dict[str, int]]) -> None:
    link, h = rig
    sensor = next(s for s in link.server.describe() if s.uuid == SENSOR)
    found = link.do(link.client.discover_characteristics(sensor, link.now, UUID(0x2A19)))
    assert [c.value_handle for c in found] == [h["level2"]]
    assert found[0].end_handle == sensor.characteristics[-1].end_handle
    calib = link.do(link.client.discover_characteristics(sensor, link.now, UUID(0xFEE0)))
    assert [c.value_handle for c in calib] == [h["calib"]]
    data = sensor.characteristics[0]
    bare = CharacteristicInfo(data.declaration_handle, data.value_handle, data.end_handle, data.uuid, data.properties)
    descriptors = link.do(link.client.discover_descriptors(bare, link.now))
    assert tuple(descriptors) == data.descriptors
    assert [d.uuid for d in descriptors] == [UUID(0x2900), UUID(0x2901), UUID(0x2902), UUID(0x2904)]
    ctrl = sensor.characteristics[1]
    assert link.do(link.client.discover_descriptors(ctrl, link.now)) == []


# -- reads ---------------------------------------------------------------------------------


def test_reads_every_way(rig: tuple[Link, dict[str, int]]) -> None:
    link, h = rig
    c = link.client
    assert link.do(c.read(h["data"], link.now)) == BIG[:22]  # ATT_MTU 23: one PDU
    assert link.do(c.read_long(h["data"], link.now)) == BIG
    assert link.do(c.read_long(h["calib"], link.now)) == b"cal"
    assert link.do(c.read_by_uuid(UUID(0x2A19), link.now)) == [(h["battery_level"], b"\x64"), (h["level2"], b"\x07")]
    assert link.do(c.read_by_uuid(UUID(0x2A19), link.now, start=h["battery_level"] + 1)) == [(h["level2"], b"\x07")]
    assert link.do(c.read_multiple([h["battery_level"], h["calib"], h["level2"]], link.now)) == b"\x64cal\x07"
    values = link.do(c.read_multiple_variable([h["calib"], h["data"], h["hidden"]], link.now))
    assert values == [b"cal", BIG, b"secondary"]  # the cut value and the missing one are completed
    assert link.do(c.read(h["name"], link.now)) == b"blesim-server"


def test_long_read_after_mtu_exchange(rig: tuple[Link, dict[str, int]]) -> None:
    link, h = rig
    link.do(link.client.exchange_mtu(link.now))
    start = link.now
    assert link.do(link.client.read_long(h["data"], link.now)) == BIG
    assert (link.now - start) // (2 * EVENT_NS) == 3  # 246 + 246 + 20 octets


def test_read_errors_complete_with_att_error(rig: tuple[Link, dict[str, int]]) -> None:
    link, h = rig
    results: list[object] = []
    op = link.client.read(h["ctrl"], link.now, on_done=results.append)
    link.run()
    assert op.error == AttError(E.READ_NOT_PERMITTED, h["ctrl"])
    assert results == [op.error]
    op2 = link.client.read_by_uuid(UUID(0x9999), link.now)
    link.run()
    assert op2.error == AttError(E.ATTRIBUTE_NOT_FOUND, 1)
    with pytest.raises(AttLocalError):
        link.client.read_by_uuid(UUID(0x2A19), link.now, start=5, end=4)


# -- writes --------------------------------------------------------------------------------


def test_writes_every_way(rig: tuple[Link, dict[str, int]]) -> None:
    link, h = rig
    c, s = link.client, link.server
    assert link.do(c.write(h["calib"], b"x" * 20, link.now)) is None
    assert s.get_value(h["calib"]) == b"x" * 20
    with pytest.raises(AttLocalError):
        c.write(h["calib"], b"x" * 21, link.now)  # ATT_MTU-3
    op = c.write_without_response(h["ctrl"], b"go", link.now)
    assert op.done and op.error is None
    link.run()
    assert s.get_value(h["ctrl"]) == b"go"
    new = bytes(reversed(BIG))
    assert link.do(c.write_long(h["data"], new, link.now)) is None
    assert s.get_value(h["data"]) == new
    assert link.do(c.write_long(h["data"], b"tail", link.now, offset=508)) is None
    assert s.get_value(h["data"]) == new[:508] + b"tail"
    assert link.do(c.reliable_write([(h["calib"], b"one"), (h["data"], BIG), (h["data_cud"], b"desc")], link.now)) is None
    assert (s.get_value(h["calib"]), s.get_value(h["data"]), s.get_value(h["data_cud"])) == (b"one", BIG, b"desc")
    assert link.do(c.read_long(h["data"], link.now)) == BIG
    with pytest.raises(AttLocalError):
        c.write_long(h["data"], bytes(513), link.now)


def test_write_errors(rig: tuple[Link, dict[str, int]]) -> None:
    link, h = rig
    op = link.client.write(h["level2"], b"\x01", link.now)
    link.run()
    assert op.error == AttError(E.WRITE_NOT_PERMITTED, h["level2"])
    op = link.client.write_long(h["level2"], b"\x01" * 40, link.now)
    link.run()
    assert op.error == AttError(E.WRITE_NOT_PERMITTED, h["level2"])
    # the failed prepare was followed by a cancel: the server queue is empty
    assert link.do(link.client.reliable_write([(h["calib"], b"ok")], link.now)) is None
    assert link.server.get_value(h["calib"]) == b"ok"


def test_reliable_write_echo_mismatch_cancels(rig: tuple[Link, dict[str, int]]) -> None:
    link, h = rig

    def corrupt(pdu: bytes) -> bytes:
        if pdu[0] == 0x17:  # ATT_PREPARE_WRITE_RSP: flip the last octet
            return pdu[:-1] + bytes((pdu[-1] ^ 0xFF,))
        return pdu

    link.tamper = corrupt
    op = link.client.reliable_write([(h["calib"], b"abc")], link.now)
    link.run()
    assert isinstance(op.error, GattVerifyError) and op.error.handle == h["calib"]
    assert link.uplink[-1] == bytes.fromhex("1800")  # Execute Write: cancel
    assert link.server.get_value(h["calib"]) == b"cal"


def test_signed_write(rig: tuple[Link, dict[str, int]]) -> None:
    link, h = rig
    seen: list[bytes] = []

    def checker(conn: int, data: bytes, sig: bytes) -> bool:
        seen.append(data)
        return sig == b"S" * 12

    link.server.signature_checker = checker
    op = link.client.signed_write_without_response(h["ctrl"], b"cmd", lambda data: b"S" * 12, link.now)
    assert op.done
    link.run()
    assert link.server.get_value(h["ctrl"]) == b"cmd"
    assert seen == [bytes((0xD2,)) + h["ctrl"].to_bytes(2, "little") + b"cmd"]
    with pytest.raises(AttLocalError):
        link.client.signed_write_without_response(h["ctrl"], b"cmd", lambda data: b"short", link.now)


# -- subscriptions -------------------------------------------------------------------------


def test_notifications_and_indications_timeline(rig: tuple[Link, dict[str, int]]) -> None:
    link, h = rig
    view = link.do(link.client.discover_all(link.now))
    data = next(c for s in view for c in s.characteristics if c.uuid == SENSOR_DATA)
    battery = next(c for s in view for c in s.characteristics if c.value_handle == h["battery_level"])
    got: list[tuple[int, str, Any]] = []
    link.do(link.client.subscribe(battery, link.now, on_value=lambda v, t: got.append((t, "battery", v))))
    link.do(link.client.subscribe(data, link.now, indicate=True, on_value=lambda v, t: got.append((t, "data", v))))
    assert link.server.subscription(0x0040, h["battery_level"]) == 1
    assert link.server.subscription(0x0040, h["data"]) == 2
    t0 = link.now
    assert link.server.notify(h["battery_level"], b"\x63") == [0x0040]
    confirmed: list[tuple[int, int, object]] = []
    link.server.indicate(h["data"], link.now, b"first", on_done=lambda c, e: confirmed.append((link.now, c, e)))
    link.server.indicate(h["data"], link.now, b"second", on_done=lambda c, e: confirmed.append((link.now, c, e)))
    link.run()
    e = EVENT_NS
    assert got == [(t0 + e, "battery", b"\x63"), (t0 + e, "data", b"first"), (t0 + 3 * e, "data", b"second")]
    assert confirmed == [(t0 + 2 * e, 0x40, None), (t0 + 4 * e, 0x40, None)]
    assert link.server.notify(h["data"], BIG) == []  # subscribed for indications only
    link.do(link.client.unsubscribe(battery, link.now))
    assert link.server.notify(h["battery_level"]) == []
    assert link.server.subscription(0x0040, h["battery_level"]) == 0


def test_general_notification_callback_and_truncation(rig: tuple[Link, dict[str, int]]) -> None:
    link, h = rig
    seen: list[tuple[int, bytes]] = []
    link.client.on_notification = lambda handle, value, now: seen.append((handle, value))
    view = link.do(link.client.discover_all(link.now))
    data = next(c for s in view for c in s.characteristics if c.uuid == SENSOR_DATA)
    link.do(link.client.subscribe(data, link.now))
    link.server.notify(h["data"], BIG)
    link.run()
    assert seen == [(h["data"], BIG[:20])]


def test_subscribe_needs_a_cccd(rig: tuple[Link, dict[str, int]]) -> None:
    link, h = rig
    with pytest.raises(AttLocalError):
        link.client.subscribe(CharacteristicInfo(1, 2, 2, UUID(0x2A19), 0x10), link.now)


# -- MTU, queueing, timeouts, misbehaving servers ------------------------------------------


def test_mtu_exchange(rig: tuple[Link, dict[str, int]]) -> None:
    link, _ = rig
    assert link.do(link.client.exchange_mtu(link.now)) == 247
    assert link.server_bearer.mtu == link.client_bearer.mtu == 247
    assert [entry[1:] for entry in link.log] == [("server", ("mtu", 247)), ("client", ("mtu", 247))]
    with pytest.raises(AttLocalError):
        link.client.exchange_mtu(link.now)  # only once


def test_operations_run_one_at_a_time_in_order(rig: tuple[Link, dict[str, int]]) -> None:
    link, h = rig
    order: list[str] = []
    c = link.client
    c.read_long(h["data"], link.now, on_done=lambda r: order.append("long"))
    c.write(h["calib"], b"w", link.now, on_done=lambda r: order.append("write"))
    c.read(h["calib"], link.now, on_done=lambda r: order.append(f"read:{r!r}"))
    assert c.busy
    link.run()
    assert order == ["long", "write", "read:b'w'"]
    assert link.max_requests_in_flight == 1
    assert not c.busy


def test_operation_started_from_a_callback(rig: tuple[Link, dict[str, int]]) -> None:
    link, h = rig
    results: list[object] = []

    def then(_: object) -> None:
        link.client.read(h["level2"], link.now, on_done=results.append)

    link.client.read(h["calib"], link.now, on_done=then)
    link.run()
    assert results == [b"\x07"]


def test_timeout_fails_the_operation_and_the_queue(rig: tuple[Link, dict[str, int]]) -> None:
    link, h = rig
    link.tamper = lambda pdu: None  # the server's answers are lost
    first = link.client.read(h["calib"], link.now)
    second = link.client.read_long(h["data"], link.now)
    link.run()
    deadline = link.client_bearer.get_timer()
    assert deadline == ATT_TRANSACTION_TIMEOUT_NS  # the read left at t=0
    link.client_bearer.handle_timer(deadline - 1)
    assert not first.done
    link.client_bearer.handle_timer(deadline)
    assert isinstance(first.error, AttTimeoutError) and isinstance(second.error, AttTimeoutError)
    late = link.client.read(h["calib"], deadline + 1)
    assert isinstance(late.error, AttTimeoutError)
    assert link.to_server == []


def test_close_fails_operations(rig: tuple[Link, dict[str, int]]) -> None:
    link, h = rig
    op = link.client.read(h["calib"], link.now)
    link.client_bearer.close(link.now)
    assert isinstance(op.error, AttBearerClosedError)


@pytest.mark.parametrize(
    "bad_response",
    [
        "11 08 0100 0700 01020304",  # Read By Group Type with a 4-octet UUID
        "11 06 0500 0200 0018",  # group end before its start
        "11 06 0000 0700 0018",  # handle going backwards
    ],
)
def test_malformed_discovery_response_fails_cleanly(rig: tuple[Link, dict[str, int]], bad_response: str) -> None:
    link, h = rig
    link.tamper = lambda pdu: bytes.fromhex(bad_response.replace(" ", "")) if pdu[0] == 0x11 else pdu
    op = link.client.discover_primary_services(link.now)
    link.run()
    assert op.error is not None and op.error.code == E.INVALID_PDU
    link.tamper = None
    assert link.do(link.client.read(h["calib"], link.now)) == b"cal"  # the client still works


def test_characteristic_declaration_of_bad_size_fails(rig: tuple[Link, dict[str, int]]) -> None:
    link, _ = rig
    link.tamper = lambda pdu: bytes.fromhex("09 06 0200 0203 0000".replace(" ", "")) if pdu[0] == 0x09 else pdu
    svc = ServiceInfo(1, 7, UUID(0x1800))
    op = link.client.discover_characteristics(svc, link.now)
    link.run()
    assert op.error is not None and op.error.code == E.INVALID_PDU


# -- per-response observers and the offered MTU --------------------------------------------


def recorder(into: list[bytes]) -> Callable[[bytes], bytes]:
    """A ``Link.tamper`` that records every server PDU and changes none."""

    def record(pdu: bytes) -> bytes:
        into.append(pdu)
        return pdu

    return record


def test_observer_sees_every_discovery_response_before_the_procedure(rig: tuple[Link, dict[str, int]]) -> None:
    link, _ = rig
    seen: list[object] = []
    log: list[str] = []

    def observe(rsp: object) -> None:
        seen.append(rsp)
        log.append("response")

    op = link.client.discover_primary_services(
        link.now, on_done=lambda r: log.append("done"), on_response=observe,
    )
    downlink: list[bytes] = []
    link.tamper = recorder(downlink)
    link.run()
    assert op.result is not None and len(op.result) == 5
    # exactly the responses the server sent, decoded, in order: Read By Group Type
    # responses, then the ATT_ERROR_RSP (Attribute Not Found) that ends the procedure
    assert seen[:-1] == [decode_att_pdu(pdu) for pdu in downlink[:-1]]
    assert downlink[-1][:2] == b"\x01\x10" and downlink[-1][4] == E.ATTRIBUTE_NOT_FOUND
    assert seen[-1] == AttError(E.ATTRIBUTE_NOT_FOUND, int.from_bytes(downlink[-1][2:4], "little"))
    assert len(seen) == len(downlink) >= 2
    assert log == ["response"] * len(seen) + ["done"]


def test_observer_on_reads(rig: tuple[Link, dict[str, int]]) -> None:
    link, h = rig
    seen: list[object] = []
    assert link.do(link.client.read(h["calib"], link.now, on_response=seen.append)) == b"cal"
    assert seen == [ATT_READ_RSP(b"cal")]
    seen.clear()
    assert link.do(link.client.read_long(h["data"], link.now, on_response=seen.append)) == BIG
    # ATT_MTU 23: one Read (22 octets) then Read Blobs of 22 octets up to 512
    assert seen[0] == ATT_READ_RSP(BIG[:22])
    assert seen[1:] == [ATT_READ_BLOB_RSP(BIG[i:i + 22]) for i in range(22, 512, 22)]
    seen.clear()
    bad = link.client.read(0x0999, link.now, on_response=seen.append)
    link.run()
    assert seen == [bad.error] == [AttError(E.INVALID_HANDLE, 0x0999)]
    seen.clear()
    got = link.do(link.client.read_by_uuid(UUID(0x2A19), link.now, on_response=seen.append))
    assert got == [(h["battery_level"], b"\x64"), (h["level2"], b"\x07")]
    assert [type(r).__name__ for r in seen][-1] == "AttError"


def test_observer_of_each_discovery_and_read_procedure(rig: tuple[Link, dict[str, int]]) -> None:
    link, h = rig
    c = link.client
    services = link.do(c.discover_all(link.now))
    sensor = next(s for s in services if s.uuid == SENSOR)
    data = next(ch for ch in sensor.characteristics if ch.uuid == SENSOR_DATA)
    calls: dict[str, Callable[[Callable[[object], None]], GattOperation[Any]]] = {
        "all": lambda obs: c.discover_all(link.now, on_response=obs),
        "primary_by_uuid": lambda obs: c.discover_primary_services(link.now, SENSOR, on_response=obs),
        "secondary": lambda obs: c.discover_secondary_services(link.now, on_response=obs),
        "includes": lambda obs: c.find_included_services(sensor, link.now, on_response=obs),
        "characteristics": lambda obs: c.discover_characteristics(sensor, link.now, on_response=obs),
        "descriptors": lambda obs: c.discover_descriptors(data, link.now, on_response=obs),
        "multiple": lambda obs: c.read_multiple([h["calib"], h["level2"]], link.now, on_response=obs),
        "multiple_variable": lambda obs: c.read_multiple_variable([h["calib"], h["data"]], link.now, on_response=obs),
    }
    for name, start in calls.items():
        seen: list[object] = []
        downlink: list[bytes] = []
        link.tamper = recorder(downlink)
        start(seen.append)
        link.run()
        expected = [
            decode_att_pdu(p) if p[0] != 0x01 else AttError(p[4], int.from_bytes(p[2:4], "little"))
            for p in downlink
        ]
        assert seen == expected and seen, name


def test_observer_does_not_see_the_timeout(rig: tuple[Link, dict[str, int]]) -> None:
    link, h = rig
    seen: list[object] = []
    link.tamper = lambda pdu: None
    op = link.client.read(h["calib"], link.now, on_response=seen.append)
    link.run()
    link.client_bearer.handle_timer(ATT_TRANSACTION_TIMEOUT_NS)
    assert isinstance(op.error, AttTimeoutError) and seen == []


def test_exchange_mtu_offers_the_given_mtu() -> None:
    server, _ = make_server()
    link = Link(server, server_mtu=247, client_mtu=247)
    assert link.do(link.client.exchange_mtu(link.now, mtu=100)) == 100
    assert link.uplink == [bytes.fromhex("026400")]  # Client Rx MTU 100
    assert link.client_bearer.mtu == link.server_bearer.mtu == 100
    assert link.client_bearer.local_mtu == 100
    # the peer's own exchange is answered with the same Rx MTU
    link.client_bearer.receive(bytes.fromhex("02f700"), link.now)
    assert link.to_server == [bytes.fromhex("036400")]


@pytest.mark.parametrize("mtu", [22, 528])
def test_exchange_mtu_out_of_range_is_a_local_error(mtu: int) -> None:
    server, _ = make_server()
    link = Link(server)
    with pytest.raises(AttLocalError):
        link.client.exchange_mtu(link.now, mtu=mtu)
    assert link.to_server == []
    assert link.do(link.client.exchange_mtu(link.now)) == 247  # a valid exchange still possible


def test_exchange_mtu_default_is_the_local_mtu() -> None:
    server, _ = make_server()
    link = Link(server, server_mtu=517, client_mtu=185)
    assert link.do(link.client.exchange_mtu(link.now)) == 185
    assert link.uplink == [bytes.fromhex("02b900")]
