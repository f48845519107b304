"""GattServer.reset: the attribute table rebuilt from handle 1, with or without the GAP
and GATT services, CCCDs cleared, Service Changed indicated (Vol 3 Part G 7.1).

Expected PDUs are literal bytes written from the spec's layouts (ATT_HANDLE_VALUE_IND
0x1D, Service Changed value = start handle || end handle, little-endian).
"""

from __future__ import annotations

from typing import Any

from host.att import AttBearer, SecurityInfo
from host.gatt_client import GattClient
from host.gatt_db import (
    CCCD_UUID,
    CharacteristicDef,
    CharacteristicProperties,
    ServiceDef,
)
from host.gatt_server import GattServer
from host.uuid import UUID

P = CharacteristicProperties
HEART = ServiceDef(UUID(0x180D), (CharacteristicDef(UUID(0x2A37), P.READ | P.NOTIFY, b"\x00\x48"),))
BATTERY = ServiceDef(UUID(0x180F), (CharacteristicDef(UUID(0x2A19), P.READ | P.NOTIFY, b"\x64"),))


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def build(**kw: Any) -> GattServer:
    """GAP 1-5 (2/3 writable Device Name, 4/5 Appearance); GATT 6-13 (7/8/9 Service Changed with
    its CCCD at 9, 10/11 Client Supported Features, 12/13 Database Hash); Heart Rate
    14-17 (15/16 measurement, 17 CCCD)."""
    s = GattServer(**kw)
    s.add_gap_service("before", device_name_writable=True)
    s.add_gatt_service()
    s.add_service(HEART)
    return s


class Peer:
    def __init__(self, server: GattServer, handle: int) -> None:
        self.out: list[bytes] = []
        self.bearer = AttBearer(handle, self.out.append, server, local_mtu=517)

    def ask(self, hexstr: str | bytes) -> bytes | None:
        raw = h(hexstr) if isinstance(hexstr, str) else hexstr
        self.out.clear()
        self.bearer.receive(raw, 0)
        return self.out.pop() if self.out else None


def test_handle_map_before_reset() -> None:
    s = build()
    assert s.gatt_handles is not None and s.gatt_handles.service_changed_cccd == 9
    assert [(svc.start_handle, svc.end_handle) for svc in s.db.services] == [(1, 5), (6, 13), (14, 17)]


def test_reset_without_gap_gatt_starts_the_next_service_at_handle_1() -> None:
    s = build()
    assert s.reset(False, now=0) == []
    assert len(s.db) == 0 and s.gap_handles is None and s.gatt_handles is None
    svc = s.add_service(BATTERY)
    assert (svc.start_handle, svc.characteristics[0].value_handle) == (1, 3)
    peer = Peer(s, 1)
    # Read By Group Type over primary services: only 0x180F at 1-4
    assert peer.ask("10 0100 ffff 0028") == h("11 06 0100 0400 0f18")


def test_reset_keeping_gap_gatt_restarts_after_them_with_current_values() -> None:
    s = build()
    assert s.gap_handles is not None
    s.set_value(s.gap_handles.device_name, b"renamed")
    s.reset(True, now=0)
    svc = s.add_service(BATTERY)
    assert svc.start_handle == 14  # GAP 1-5, GATT 6-13 as before
    assert s.gap_handles is not None and s.gap_handles.device_name == 3
    assert s.gatt_handles is not None and s.gatt_handles.service_changed_cccd == 9
    peer = Peer(s, 1)
    assert peer.ask("0a 0300") == b"\x0b" + b"renamed"
    assert peer.ask("10 0100 ffff 0028") == h("11 06 0100 0500 0018 0600 0d00 0118 0e00 1100 0f18")
    # computed attributes still computed: Database Hash is 16 octets, CSF per connection
    assert len(peer.ask("0a 0d00") or b"") == 17
    assert peer.ask("12 0b00 01") == h("13")
    assert peer.ask("0a 0b00") == h("0b 01")


def test_reset_clears_cccds_and_indicates_service_changed_to_subscribers() -> None:
    s = build(security=lambda conn: SecurityInfo(encrypted=True, key_size=16, bonded=conn == 1))
    bonded, other, quiet = Peer(s, 1), Peer(s, 2), Peer(s, 3)
    for peer in (bonded, other):
        assert peer.ask("12 0900 0200") == h("13")  # indications of Service Changed
        assert peer.ask("12 1100 0100") == h("13")  # notifications of Heart Rate
    assert quiet.ask("12 1100 0100") == h("13")
    assert s.reset(True, now=5) == [1, 2]
    indication = h("1d 0800 0100 ffff")  # Service Changed 0x0001-0xFFFF on handle 8
    assert bonded.out == [indication] and other.out == [indication] and quiet.out == []
    # the Service Changed subscription stays, every other CCCD is gone
    assert s.cccd_states(1) == {8: 2} and s.cccd_states(2) == {8: 2} and s.cccd_states(3) == {}
    heart = s.add_service(HEART)
    assert s.notify(heart.characteristics[0].value_handle) == []
    assert bonded.ask("1e") is None  # the confirmation completes the indication
    assert not bonded.bearer.indication_outstanding


def test_reset_without_gatt_sends_nothing_and_clears_prepared_writes() -> None:
    s = build()
    peer = Peer(s, 1)
    assert peer.ask("12 0900 0200") == h("13")
    assert peer.ask("16 0300 0000 6e6577") == h("17 0300 0000 6e6577")
    assert s.reset(False, now=0) == []
    assert peer.out == []
    s.add_gap_service("again")
    assert peer.ask("18 01") == h("19")  # the queue was emptied: nothing written
    assert peer.ask("0a 0300") == b"\x0b" + b"again"
    assert s.cccd_states(1) == {}


def test_reset_twice_and_after_remove_service() -> None:
    s = build()
    s.reset(True, now=0)
    s.reset(True, now=0)
    assert [(svc.start_handle, svc.end_handle) for svc in s.db.services] == [(1, 5), (6, 13)]
    assert s.gap_handles is not None
    s.remove_service(s.db.services[0])  # GAP gone: only GATT is kept, from handle 1
    s.reset(True, now=0)
    assert [(svc.uuid, svc.start_handle) for svc in s.db.services] == [(UUID(0x1801), 1)]
    assert s.gap_handles is None and s.gatt_handles is not None


def test_client_rediscovers_the_new_table_after_service_changed() -> None:
    s = build()
    to_server: list[bytes] = []
    to_client: list[bytes] = []
    server_bearer = AttBearer(1, to_client.append, s)
    client = GattClient(AttBearer(2, to_server.append, GattServer()))
    changed: list[bytes] = []
    client.on_indication = lambda handle, value, now: changed.append(value)

    def run() -> None:
        while to_server or to_client:
            up, to_server[:] = list(to_server), []
            down, to_client[:] = list(to_client), []
            for pdu in up:
                server_bearer.receive(pdu, 0)
            for pdu in down:
                client.bearer.receive(pdu, 0)

    op = client.discover_all(0)
    run()
    assert op.result == s.describe()
    sc = next(c for svc in op.result or [] for c in svc.characteristics if c.uuid == UUID(0x2A05))
    assert [d.uuid for d in sc.descriptors] == [CCCD_UUID]
    client.subscribe(sc, 0, indicate=True)
    run()
    s.reset(True, now=0)
    s.add_service(BATTERY)
    run()
    assert changed == [h("0100 ffff")]
    op = client.discover_all(0)
    run()
    assert op.result == s.describe()
    assert [svc.uuid for svc in op.result or []] == [UUID(0x1800), UUID(0x1801), UUID(0x180F)]
