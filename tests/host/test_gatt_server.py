"""Tests for host.gatt_server / host.gatt_db / host.gatt_services: the attribute database
and every request answered from raw bytes (Vol 3 Part F 3.4, Part G 3-7).

Requests and expected responses are literal bytes written from the spec's PDU layouts
(or built and decoded with scapy); the database layout they rely on is spelled out in
``build()``'s handle map.
"""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import algorithms
from scapy.layers import bluetooth as sb

from host.att import AttBearer, AttError, AttLocalError, SecurityInfo
from host.att_pdu import AttErrorCode
from host.gatt_db import (
    AccessMethod,
    AttributeAccess,
    CharacteristicDef,
    CharacteristicInfo,
    CharacteristicProperties,
    Deferred,
    DescriptorDef,
    DescriptorInfo,
    ExtendedProperties,
    IncludeInfo,
    Permissions,
    ServiceDef,
    ServiceInfo,
)
from host.gatt_server import GattServer
from host.gatt_services import PeripheralPreferredConnectionParameters
from host.uuid import UUID

P = CharacteristicProperties
E = AttErrorCode
CUSTOM = UUID("6E400001-B5A3-F393-E0A9-E50E24DCCA9E")
CUSTOM_RX = UUID("6E400002-B5A3-F393-E0A9-E50E24DCCA9E")
CUSTOM_LE = "9ecadc240ee5a9e093f3a3b50100406e"
RX_LE = "9ecadc240ee5a9e093f3a3b50200406e"
BIG = bytes(range(256)) * 2


def build(**kw: Any) -> GattServer:
    """Handle map:
    GAP 1-7: 1 service, 2/3 Device Name, 4/5 Appearance, 6/7 PPCP.
    GATT 8-15: 9/10/11 Service Changed (+CCCD), 12/13 Client Supported Features,
    14/15 Database Hash.
    Battery 16-19: 17/18 Level (read, notify), 19 CCCD.
    Custom (128-bit) 20-29: 21 include of Battery; 22/23 RX (512 octets, read, write,
    indicate, reliable write) with 24 Extended Properties, 25 User Description, 26 CCCD;
    27/28 0x2A37 (read, write without response) with 29 Presentation Format.
    """
    s = GattServer(**kw)
    s.add_gap_service("blesim", 0x0340, PeripheralPreferredConnectionParameters(6, 12, 0, 400))
    s.add_gatt_service()
    bat = s.add_service(ServiceDef(UUID(0x180F), (CharacteristicDef(UUID(0x2A19), P.READ | P.NOTIFY, b"\x64"),)))
    s.add_service(
        ServiceDef(
            CUSTOM,
            (
                CharacteristicDef(
                    CUSTOM_RX, P.READ | P.WRITE | P.INDICATE, BIG,
                    extended_properties=ExtendedProperties.RELIABLE_WRITE, user_description="big",
                ),
                CharacteristicDef(
                    UUID(0x2A37), P.READ | P.WRITE_WITHOUT_RESPONSE, b"abc",
                    descriptors=(DescriptorDef(UUID(0x2904), bytes.fromhex("0400ad27010000")),),
                ),
            ),
            includes=(bat,),
        )
    )
    return s


class Peer:
    """A raw client talking to one server bearer."""

    def __init__(self, server: GattServer, handle: int = 0x40, local_mtu: int = 517) -> None:
        self.out: list[bytes] = []
        self.bearer = AttBearer(handle, self.out.append, server, local_mtu=local_mtu)

    def ask(self, hexstr: str | bytes, now: int = 0) -> bytes | None:
        raw = bytes.fromhex(hexstr.replace(" ", "")) if isinstance(hexstr, str) else hexstr
        self.out.clear()
        self.bearer.receive(raw, now)
        assert len(self.out) <= 1
        return self.out[0] if self.out else None

    def ask_some(self, hexstr: str | bytes) -> bytes:
        answer = self.ask(hexstr)
        assert answer is not None
        return answer

    def mtu(self, value: int) -> None:
        self.ask(bytes((0x02,)) + value.to_bytes(2, "little"))


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


@pytest.fixture
def server() -> GattServer:
    return build()


@pytest.fixture
def peer(server: GattServer) -> Peer:
    return Peer(server)


# -- database layout ---------------------------------------------------------------------


def test_handles_are_contiguous_and_stable(server: GattServer) -> None:
    starts = [(s.start_handle, s.end_handle) for s in server.db.services]
    assert starts == [(1, 7), (8, 15), (16, 19), (20, 29)]
    assert [a.handle for a in server.db] == list(range(1, 30))
    custom = server.db.services[3]
    rx = custom.characteristics[0]
    assert (rx.declaration_handle, rx.value_handle, rx.extended_properties_handle,
            rx.user_description_handle, rx.cccd_handle, rx.end_handle) == (22, 23, 24, 25, 26, 26)
    assert custom.characteristics[1].descriptor_handles == (29,)
    assert custom.include_handles == (21,)
    # Removing a service leaves a gap; new services go after the highest handle used.
    server.remove_service(server.db.services[2])
    assert server.db.get(17) is None
    svc = server.add_service(ServiceDef(UUID(0x1234)))
    assert (svc.start_handle, svc.end_handle) == (30, 30)
    assert server.db.services[2].start_handle == 20


def test_declaration_values_literal(server: GattServer) -> None:
    assert server.get_value(1) == h("0018")
    assert server.get_value(17) == h("12 1200 192a")
    assert server.get_value(20) == h(CUSTOM_LE)
    assert server.get_value(21) == h("1000 1300 0f18")
    assert server.get_value(22) == h("aa 1700") + h(RX_LE)
    assert server.get_value(24) == h("0100")
    assert server.get_value(25) == b"big"
    assert server.get_value(7) == h("0600 0c00 0000 9001")


def test_include_of_128_bit_service_has_no_uuid() -> None:
    s = GattServer()
    inner = s.add_service(ServiceDef(CUSTOM, primary=False))
    s.add_service(ServiceDef(UUID(0x180A), includes=(inner,)))
    assert s.get_value(1) == h(CUSTOM_LE)
    assert s.db[1].type == UUID(0x2801)
    assert s.get_value(3) == h("0100 0100")


def test_definition_errors_are_local() -> None:
    s = GattServer()
    with pytest.raises(AttLocalError):
        s.add_service(ServiceDef(UUID(0x180F), (CharacteristicDef(UUID(0x2A19), P.READ, bytes(513)),)))
    other = GattServer().add_service(ServiceDef(UUID(0x180F)))
    with pytest.raises(AttLocalError):
        s.add_service(ServiceDef(UUID(0x180A), includes=(other,)))
    assert len(s.db) == 0  # nothing half-added
    with pytest.raises(AttLocalError):
        s.set_value(99, b"")
    with pytest.raises(AttLocalError):
        s.add_gap_service("x" * 249)


def test_describe(server: GattServer) -> None:
    view = server.describe()
    assert view[2] == ServiceInfo(
        16, 19, UUID(0x180F), True, (),
        (CharacteristicInfo(17, 18, 19, UUID(0x2A19), 0x12, (DescriptorInfo(19, UUID(0x2902)),)),),
    )
    assert view[3].includes == (IncludeInfo(21, 16, 19, UUID(0x180F)),)
    assert [d.uuid for d in view[3].characteristics[0].descriptors] == [UUID(0x2900), UUID(0x2901), UUID(0x2902)]


# -- discovery requests --------------------------------------------------------------------


def test_read_by_group_type_walk(peer: Peer) -> None:
    assert peer.ask("10 0100 ffff 0028") == h("11 06 0100 0700 0018 0800 0f00 0118 1000 1300 0f18")
    assert peer.ask("10 1400 ffff 0028") == h("11 14 1400 1d00" + CUSTOM_LE)
    assert peer.ask("10 1e00 ffff 0028") == h("01 10 1e00 0a")
    decoded = sb.ATT_Hdr(peer.ask_some("10 0100 ffff 0028"))
    groups = decoded[sb.ATT_Read_By_Group_Type_Response].handles
    assert [(g.handle, g.group_end_handle, g.value) for g in groups][0] == (1, 7, h("0018"))


def test_read_by_group_type_errors(peer: Peer) -> None:
    assert peer.ask("10 0000 ffff 0028") == h("01 10 0000 01")
    assert peer.ask("10 0500 0400 0028") == h("01 10 0500 01")
    assert peer.ask("10 0100 ffff 0328") == h("01 10 0100 10")  # not a grouping type
    assert peer.ask("10 0100 ffff 0128") == h("01 10 0100 0a")  # no secondary services


def test_find_information(peer: Peer) -> None:
    assert peer.ask("04 0100 0500") == h("05 01 0100 0028 0200 0328 0300 002a 0400 0328 0500 012a")
    # A 128-bit type starts a format-2 response, alone at ATT_MTU 23.
    assert peer.ask("04 1700 ffff") == h("05 02 1700" + RX_LE)
    assert peer.ask("04 1800 ffff") == h("05 01 1800 0029 1900 0129 1a00 0229 1b00 0328 1c00 372a")
    assert peer.ask("04 1e00 ffff") == h("01 04 1e00 0a")
    assert peer.ask("04 0000 0100") == h("01 04 0000 01")
    assert peer.ask("04 0300 0200") == h("01 04 0300 01")


def test_find_by_type_value(peer: Peer) -> None:
    assert peer.ask("06 0100 ffff 0028 0f18") == h("07 1000 1300")
    long_form = UUID(0x180F).to_bytes(128).hex()
    assert peer.ask("06 0100 ffff 0028" + long_form) == h("07 1000 1300")
    assert peer.ask("06 0100 ffff 0028" + CUSTOM_LE) == h("07 1400 1d00")
    assert peer.ask("06 1100 ffff 0028 0f18") == h("01 06 1100 0a")
    # non-grouping types: group end = found handle; CCCD values are this connection's
    assert peer.ask("06 0100 ffff 0229 0000") == h("07 0b00 0b00 1300 1300 1a00 1a00")
    assert peer.ask("06 0100 ffff 0429 0400ad27010000") == h("07 1d00 1d00")
    peer.ask("12 1300 0100")
    assert peer.ask("06 0100 ffff 0229 0100") == h("07 1300 1300")
    assert peer.ask("06 0000 ffff 0028 0f18") == h("01 06 0000 01")


def test_read_by_type(peer: Peer) -> None:
    assert peer.ask("08 0100 ffff 0328") == h("09 07 0200 020300002a 0400 020500012a 0600 020700042a")
    assert peer.ask("08 1400 1d00 0328") == h("09 15 1600 aa 1700" + RX_LE)
    assert peer.ask("08 1700 1d00 0328") == h("09 07 1b00 06 1c00 372a")
    assert peer.ask("08 1c00 1d00 0328") == h("01 08 1c00 0a")
    # 128-bit attribute type, value cut to ATT_MTU-4 = 19 octets
    assert peer.ask("08 0100 ffff" + RX_LE) == h("09 15 1700") + BIG[:19]
    assert peer.ask("08 0000 ffff 0328") == h("01 08 0000 01")


def test_read_by_type_permission_errors(peer: Peer) -> None:
    # Service Changed (handle 10) is not readable: an error when it is the first match...
    assert peer.ask("08 0100 ffff 052a") == h("01 08 0a00 02")


def test_read_by_type_stops_before_unreadable() -> None:
    s = GattServer()
    s.add_service(
        ServiceDef(
            UUID(0x1234),
            (
                CharacteristicDef(UUID(0xAAAA), P.READ, b"x"),
                CharacteristicDef(UUID(0xAAAA), P.WRITE, b"y"),
                CharacteristicDef(UUID(0xAAAA), P.READ, b"z"),
            ),
        )
    )
    peer = Peer(s)
    assert peer.ask("08 0100 ffff aaaa") == h("09 03 0300 78")
    assert peer.ask("08 0400 ffff aaaa") == h("01 08 0500 02")
    assert peer.ask("08 0600 ffff aaaa") == h("09 03 0700 7a")


# -- reads ---------------------------------------------------------------------------------


def test_read(peer: Peer) -> None:
    assert peer.ask("0a 0300") == b"\x0b" + b"blesim"
    assert peer.ask("0a 0000") == h("01 0a 0000 01")
    assert peer.ask("0a 3412") == h("01 0a 3412 01")
    assert peer.ask("0a 0a00") == h("01 0a 0a00 02")
    assert peer.ask("0a 1700") == b"\x0b" + BIG[:22]  # cut to ATT_MTU-1
    peer.mtu(517)
    assert peer.ask("0a 1700") == b"\x0b" + BIG


def test_read_blob(peer: Peer) -> None:
    assert peer.ask("0c 1700 1600") == b"\x0d" + BIG[22:44]
    assert peer.ask("0c 1700 f401") == b"\x0d" + BIG[500:512]
    assert peer.ask("0c 1700 0002") == h("0d")  # offset == length: empty
    assert peer.ask("0c 1700 0102") == h("01 0c 1700 07")
    assert peer.ask("0c 0300 0300") == b"\x0d" + b"sim"
    assert peer.ask("0c 0a00 0000") == h("01 0c 0a00 02")
    got = sb.ATT_Hdr(peer.ask_some(bytes(sb.ATT_Hdr() / sb.ATT_Read_Blob_Request(gatt_handle=0x17, offset=100))))
    assert got[sb.ATT_Read_Blob_Response].value == BIG[100:122]


def test_read_multiple(peer: Peer) -> None:
    assert peer.ask("0e 0300 0500") == b"\x0f" + b"blesim" + h("4003")
    assert peer.ask("0e 0300 3412") == h("01 0e 3412 01")
    assert peer.ask("0e 0a00 0300") == h("01 0e 0a00 02")
    assert peer.ask("0e 0300 1700") == b"\x0f" + (b"blesim" + BIG)[:22]


def test_read_multiple_variable(peer: Peer) -> None:
    assert peer.ask("20 0300 0500") == h("21 0600") + b"blesim" + h("0200 4003")
    # cut at ATT_MTU-1: the 512-octet value keeps its full length field
    assert peer.ask("20 0300 1700 0500") == h("21 0600") + b"blesim" + h("0002") + BIG[:12]
    assert peer.ask("20 0300 0000") == h("01 20 0000 01")


# -- writes --------------------------------------------------------------------------------


def test_write_request(server: GattServer, peer: Peer) -> None:
    assert peer.ask("12 1c00 78797a") == h("13")
    assert server.get_value(28) == b"xyz"
    assert peer.ask("12 0300 41") == h("01 12 0300 03")
    assert peer.ask("12 0000 41") == h("01 12 0000 01")
    assert peer.ask("12 9999 41") == h("01 12 9999 01")
    assert server.get_value(3) == b"blesim"


def test_write_too_long_and_fixed_length() -> None:
    s = GattServer()
    s.add_service(
        ServiceDef(
            UUID(0x1234),
            (
                CharacteristicDef(UUID(0xAAAA), P.WRITE, b""),
                CharacteristicDef(UUID(0xBBBB), P.WRITE, b"\x00\x00", fixed_length=True),
                CharacteristicDef(UUID(0xCCCC), P.WRITE, b"", max_length=4),
            ),
        )
    )
    peer = Peer(s)
    peer.mtu(517)
    assert peer.ask(h("12 0300") + bytes(512)) == h("13")
    assert peer.ask(h("12 0300") + bytes(513)) == h("01 12 0300 0d")
    assert peer.ask("12 0500 0102") == h("13")
    assert peer.ask("12 0500 01") == h("01 12 0500 0d")
    assert peer.ask("12 0700 0102030405") == h("01 12 0700 0d")
    assert s.get_value(5) == h("0102")


def test_write_command(server: GattServer, peer: Peer) -> None:
    assert peer.ask("52 1c00 3132") is None
    assert server.get_value(28) == b"12"
    assert peer.ask("52 0300 3132") is None  # not writable: silently ignored
    assert server.get_value(3) == b"blesim"


def test_long_write(server: GattServer, peer: Peer) -> None:
    new = bytes(reversed(BIG))
    for offset in range(0, 512, 18):
        part = new[offset : offset + 18]
        req = h("16 1700") + offset.to_bytes(2, "little") + part
        assert peer.ask(req) == b"\x17" + req[1:]
    assert server.get_value(23) == BIG  # nothing written yet
    assert peer.ask("18 01") == h("19")
    assert server.get_value(23) == new


def test_prepare_then_cancel(server: GattServer, peer: Peer) -> None:
    peer.ask("16 1c00 0000 6e6f")
    assert peer.ask("18 00") == h("19")
    assert server.get_value(28) == b"abc"
    assert peer.ask("18 01") == h("19")  # empty queue: nothing to do
    assert server.get_value(28) == b"abc"


def test_prepare_errors(server: GattServer) -> None:
    peer = Peer(server)
    assert peer.ask("16 0300 0000 41") == h("01 16 0300 03")
    assert peer.ask("16 0000 0000 41") == h("01 16 0000 01")
    # offset past the end: found at execute time (Vol 3 Part F 3.4.6.3)
    assert peer.ask("16 1c00 0400 41") == h("17 1c00 0400 41")
    assert peer.ask("18 01") == h("01 18 1c00 07")
    assert server.get_value(28) == b"abc"
    # resulting value longer than 512 octets
    assert peer.ask("16 1700 f401" + "00" * 18) is not None
    assert peer.ask("18 01") == h("01 18 1700 0d")
    assert server.get_value(23) == BIG
    # the queue was cleared by the failed execute
    assert peer.ask("18 01") == h("19")


def test_execute_is_all_or_nothing() -> None:
    s = build()
    peer = Peer(s)
    peer.ask("16 1c00 0000 5a")
    peer.ask("16 1700 f401" + "00" * 18)  # makes 23 longer than 512
    assert peer.ask("18 01") == h("01 18 1700 0d")
    assert s.get_value(28) == b"abc"


def test_prepare_queue_full() -> None:
    s = build(max_prepare_writes=2)
    peer = Peer(s)
    peer.ask("16 1c00 0000 41")
    peer.ask("16 1c00 0100 42")
    assert peer.ask("16 1c00 0200 43") == h("01 16 1c00 09")
    assert peer.ask("18 01") == h("19")
    assert s.get_value(28) == b"AB"


def test_prepare_queue_is_per_connection() -> None:
    s = build()
    a, b = Peer(s, 1), Peer(s, 2)
    a.ask("16 1c00 0000 41")
    b.ask("16 1c00 0000 42")
    assert a.ask("18 01") == h("19")
    assert s.get_value(28) == b"A"
    assert b.ask("18 01") == h("19")
    assert s.get_value(28) == b"B"


# -- CCCD, notifications, indications -------------------------------------------------------


def test_cccd_per_connection_and_notify(server: GattServer) -> None:
    changes: list[tuple[int, int, int, int]] = []
    server.on_subscription_changed = lambda *a: changes.append(a)
    a, b = Peer(server, 1), Peer(server, 2)
    assert a.ask("12 1300 0100", now=5) == h("13")
    assert changes == [(1, 18, 1, 5)]
    assert a.ask("0a 1300") == h("0b 0100")
    assert b.ask("0a 1300") == h("0b 0000")
    assert server.subscription(1, 18) == 1 and server.subscription(2, 18) == 0
    a.out.clear()
    b.out.clear()
    assert server.notify(18) == [1]
    assert a.out == [h("1b 1200 64")] and b.out == []
    assert server.notify(18, b"\x32", connection=2) == []
    assert a.ask("12 1300 0100") == h("13")
    assert len(changes) == 1  # unchanged value: no new event


def test_cccd_write_validation(peer: Peer) -> None:
    assert peer.ask("12 1300 0200") == h("01 12 1300 13")  # indicate on a notify-only char
    assert peer.ask("12 1300 0001") == h("01 12 1300 13")  # reserved bits
    assert peer.ask("12 1300 01") == h("01 12 1300 0d")
    assert peer.ask("12 1300 010000") == h("01 12 1300 0d")
    assert peer.ask("12 1a00 0200") == h("13")


def test_cccd_persistence(server: GattServer) -> None:
    a = Peer(server, 1)
    a.ask("12 1300 0100")
    a.ask("12 1a00 0200")
    saved = server.cccd_states(1)
    assert saved == {18: 1, 23: 2}
    a.bearer.close(0)
    again = Peer(server, 1)
    assert again.ask("0a 1300") == h("0b 0000")
    server.load_cccd_states(1, saved)
    assert again.ask("0a 1300") == h("0b 0100")
    assert again.ask("0a 1a00") == h("0b 0200")


def test_indicate_tracks_confirmation(server: GattServer) -> None:
    a = Peer(server, 1)
    a.ask("12 1a00 0200")
    a.out.clear()
    done: list[tuple[int, object]] = []
    assert server.indicate(23, 0, b"one", on_done=lambda c, e: done.append((c, e))) == [1]
    assert server.indicate(23, 0, b"two", on_done=lambda c, e: done.append((c, e))) == [1]
    assert a.out == [h("1d 1700") + b"one"]
    assert a.ask("1e") == h("1d 1700") + b"two"
    a.ask("1e")
    assert done == [(1, None), (1, None)]
    assert server.notify(23) == []  # indications only


def test_notify_multiple() -> None:
    s = build()
    a = Peer(s, 1)
    a.ask("12 1300 0100")
    s.add_service(ServiceDef(UUID(0x1111), (CharacteristicDef(UUID(0x2222), P.NOTIFY, b"q"),)))  # 30-33
    a.ask("12 2100 0100")
    a.out.clear()
    s.notify_multiple(1, [(18, None), (32, b"zz")])
    assert a.out == [h("1b 1200 64"), h("1b 2000 7a7a")]  # client did not enable the feature
    assert a.ask("12 0d00 04") == h("13")  # Client Supported Features: multiple notifications
    a.out.clear()
    s.notify_multiple(1, [(18, None), (32, b"zz"), (28, b"not subscribed")])
    assert a.out == [h("23 1200 0100 64 2000 0200 7a7a")]


def test_service_changed(server: GattServer) -> None:
    a, b = Peer(server, 1), Peer(server, 2)
    assert a.ask("12 0b00 0200") == h("13")
    a.out.clear()
    assert server.service_changed(0x0001, 0xFFFF, 0) == [1]
    assert a.out == [h("1d 0a00 0100 ffff")]
    assert b.out == []


def test_client_supported_features_cannot_be_cleared(server: GattServer, peer: Peer) -> None:
    assert peer.ask("0a 0d00") == h("0b 00")
    assert peer.ask("12 0d00 05") == h("13")
    assert peer.ask("0a 0d00") == h("0b 05")
    assert peer.ask("12 0d00 01") == h("01 12 0d00 13")
    assert peer.ask("12 0d00") == h("01 12 0d00 0d")
    assert server.client_features(peer.bearer.handle) == 5


def test_database_hash_against_independent_cmac() -> None:
    s = GattServer()
    s.add_service(ServiceDef(UUID(0x180F), (CharacteristicDef(UUID(0x2A19), P.READ | P.NOTIFY, b"\x64"),)))
    s.add_service(
        ServiceDef(UUID(0x1234), (CharacteristicDef(UUID(0xAAAA), P.READ, extended_properties=ExtendedProperties.RELIABLE_WRITE, user_description="u"),))
    )
    # handle||type||value for declarations and Extended Properties, handle||type for
    # CCCD/User Description (Vol 3 Part G 7.3.1); characteristic values excluded.
    m = h(
        "0100 0028 0f18"
        "0200 0328 12 0300 192a"
        "0400 0229"
        "0500 0028 3412"
        "0600 0328 82 0700 aaaa"
        "0800 0029 0100"
        "0900 0129"
    )
    mac = cmac.CMAC(algorithms.AES(bytes(16)))
    mac.update(m)
    assert s.db.database_hash() == mac.finalize()[::-1]
    gatt = s.add_gatt_service()
    assert gatt.database_hash is not None
    peer = Peer(s)
    rsp = peer.ask(h("0a") + gatt.database_hash.to_bytes(2, "little"))
    assert rsp == b"\x0b" + s.db.database_hash()


# -- security ------------------------------------------------------------------------------


def secured() -> GattServer:
    s = GattServer()
    s.add_service(
        ServiceDef(
            UUID(0x5EC0),
            (
                CharacteristicDef(UUID(0x0001), P.READ | P.WRITE, b"e",
                                  permissions=Permissions.READ | Permissions.WRITE | Permissions.READ_ENCRYPTED | Permissions.WRITE_ENCRYPTED),
                CharacteristicDef(UUID(0x0002), P.READ, b"a", permissions=Permissions.READ | Permissions.READ_AUTHENTICATED),
                CharacteristicDef(UUID(0x0003), P.READ, b"z", permissions=Permissions.READ | Permissions.READ_AUTHORIZED),
                CharacteristicDef(UUID(0x0004), P.READ, b"k", permissions=Permissions.READ | Permissions.READ_ENCRYPTED, min_key_size=16),
            ),
        )
    )
    return s  # values at 3, 5, 7, 9


PLAIN = SecurityInfo()
BONDED = SecurityInfo(bonded=True)
ENC7 = SecurityInfo(encrypted=True, key_size=7)
ENC16 = SecurityInfo(encrypted=True, key_size=16)
AUTH16 = SecurityInfo(encrypted=True, authenticated=True, key_size=16, authorized=True)


@pytest.mark.parametrize(
    ("security", "handle", "expected"),
    [
        (PLAIN, 3, E.INSUFFICIENT_AUTHENTICATION),
        (BONDED, 3, E.INSUFFICIENT_ENCRYPTION),
        (ENC7, 3, None),
        (PLAIN, 5, E.INSUFFICIENT_AUTHENTICATION),
        (BONDED, 5, E.INSUFFICIENT_ENCRYPTION),
        (ENC16, 5, E.INSUFFICIENT_AUTHENTICATION),
        (AUTH16, 5, None),
        (PLAIN, 7, E.INSUFFICIENT_AUTHORIZATION),
        (AUTH16, 7, None),
        (ENC7, 9, E.ENCRYPTION_KEY_SIZE_TOO_SHORT),
        (ENC16, 9, None),
        (PLAIN, 9, E.INSUFFICIENT_AUTHENTICATION),
    ],
)
def test_read_security(security: SecurityInfo, handle: int, expected: int | None) -> None:
    s = secured()
    s.security = lambda conn: security
    peer = Peer(s)
    rsp = peer.ask(h("0a") + handle.to_bytes(2, "little"))
    if expected is None:
        assert rsp is not None and rsp[0] == 0x0B
    else:
        assert rsp == h("01 0a") + handle.to_bytes(2, "little") + bytes((expected,))


def test_write_security_and_signed_write() -> None:
    checked: list[tuple[int, bytes, bytes]] = []

    def checker(conn: int, data: bytes, signature: bytes) -> bool:
        checked.append((conn, data, signature))
        return signature == b"\x01" * 12

    s = secured()
    s.signature_checker = checker
    peer = Peer(s)
    assert peer.ask("12 0300 58") == h("01 12 0300 05")
    assert peer.ask("52 0300 58") is None
    assert peer.ask("d2 0300 58" + "02" * 12) is None  # bad signature: ignored
    assert s.get_value(3) == b"e"
    signed = bytes(sb.ATT_Hdr() / sb.ATT_Signed_Write_Command(handle=3, value=b"S", sign_counter=0x01010101, signature=b"\x01" * 8))
    assert peer.ask(signed) is None
    assert s.get_value(3) == b"S"  # data signing satisfies the encryption requirement
    assert checked[-1] == (peer.bearer.handle, h("d2 0300 53"), b"\x01" * 12)


def test_signed_write_without_checker_is_ignored(server: GattServer, peer: Peer) -> None:
    assert peer.ask("d2 1c00 5a" + "00" * 12) is None
    assert server.get_value(28) == b"abc"


# -- hooks ---------------------------------------------------------------------------------


def hooked(read: Any = None, write: Any = None) -> GattServer:
    s = GattServer()
    s.add_service(ServiceDef(UUID(0x1234), (CharacteristicDef(UUID(0xAAAA), P.READ | P.WRITE | P.WRITE_WITHOUT_RESPONSE, b"stored", read_hook=read, write_hook=write),)))
    return s  # value handle 3


def test_read_hook_answers_and_denies() -> None:
    seen: list[AttributeAccess] = []

    def read(access: AttributeAccess) -> bytes | None:
        seen.append(access)
        if access.connection == 2:
            raise AttError(0x80)
        return b"dynamic-value-longer-than-twenty-two" if access.offset < 100 else None

    s = hooked(read=read)
    peer = Peer(s, 1)
    assert peer.ask("0a 0300", now=9) == b"\x0b" + b"dynamic-value-longer-t"
    assert peer.ask("0c 0300 1600") == b"\x0d" + b"han-twenty-two"
    assert peer.ask("08 0100 ffff aaaa") == h("09 15 0300") + b"dynamic-value-longer"[:19]
    assert seen[0] == AttributeAccess(1, 3, UUID(0xAAAA), AccessMethod.READ, 0, b"", 9)
    assert seen[1].offset == 0x16
    assert Peer(s, 2).ask("0a 0300") == h("01 0a 0300 80")


def test_write_hook_denies_and_sees_method() -> None:
    seen: list[AttributeAccess] = []

    def write(access: AttributeAccess) -> None:
        seen.append(access)
        if access.value == b"no":
            raise AttError(E.VALUE_NOT_ALLOWED)

    s = hooked(write=write)
    peer = Peer(s)
    assert peer.ask("12 0300 6e6f") == h("01 12 0300 13")
    assert s.get_value(3) == b"stored"
    assert peer.ask("12 0300 6f6b") == h("13")
    assert peer.ask("52 0300 6e6f") is None
    peer.ask("16 0300 0000 7878")
    assert peer.ask("18 01") == h("19")
    assert [a.method for a in seen] == [
        AccessMethod.WRITE_REQUEST, AccessMethod.WRITE_REQUEST, AccessMethod.WRITE_COMMAND, AccessMethod.EXECUTE_WRITE,
    ]
    assert s.get_value(3) == b"xx"


def test_deferred_read_and_write() -> None:
    pending: list[Deferred] = []

    def defer(access: AttributeAccess) -> Deferred:
        d = Deferred()
        pending.append(d)
        return d

    s = hooked(read=defer, write=defer)
    peer = Peer(s)
    assert peer.ask("0a 0300") is None
    pending[0].complete()
    assert peer.out == [b"\x0bstored"]
    assert peer.ask("12 0300 6e6577") is None
    assert s.get_value(3) == b"stored"
    pending[1].complete()
    assert peer.out == [h("13")]
    assert s.get_value(3) == b"new"
    assert peer.ask("12 0300 626164") is None
    pending[2].fail(AttError(E.WRITE_REQUEST_REJECTED))
    assert peer.out == [h("01 12 0300 fc")]
    assert s.get_value(3) == b"new"
    with pytest.raises(AttLocalError):
        pending[2].complete()
    # a multi-attribute request waits for the Deferred too
    assert peer.ask("08 0100 ffff aaaa") is None
    pending[3].complete(b"late")
    assert peer.out == [h("09 06 0300") + b"late"]


def test_deferred_completed_inside_the_hook() -> None:
    def now_done(access: AttributeAccess) -> Deferred:
        d = Deferred()
        d.complete(b"early")
        return d

    peer = Peer(hooked(read=now_done))
    assert peer.ask("0a 0300") == b"\x0bearly"


# -- GAP service -------------------------------------------------------------------------


def test_gap_service_values() -> None:
    s = GattServer()
    gap = s.add_gap_service("dev", 0x00C1, device_name_writable=True)
    peer = Peer(s)
    assert peer.ask(h("0a") + gap.device_name.to_bytes(2, "little")) == b"\x0bdev"
    assert peer.ask(h("0a") + gap.appearance.to_bytes(2, "little")) == h("0b c100")
    assert gap.peripheral_preferred_connection_parameters is None
    assert peer.ask(h("12") + gap.device_name.to_bytes(2, "little") + b"new") == h("13")
    assert s.get_value(gap.device_name) == b"new"
    ppcp = PeripheralPreferredConnectionParameters.from_bytes(h("0600 0c00 0000 9001"))
    assert ppcp == PeripheralPreferredConnectionParameters(6, 12, 0, 400)


def test_open_ended_last_group_as_nimble_reports_it() -> None:
    s = build()
    p = Peer(s)
    # Read By Group Type, primary services from 0x0010: Battery 16-19 (16-bit value).
    plain = p.ask_some("10 1000 ffff 0028")
    assert plain == h("11 06 1000 1300 0f18")
    # Custom service 20-29 is the last one: its 128-bit group answers separately.
    assert p.ask_some("10 1400 ffff 0028") == h("11 14 1400 1d00") + bytes.fromhex(CUSTOM_LE)
    s.open_ended_last_group = True
    assert p.ask_some("10 1000 ffff 0028") == plain  # not the last group: unchanged
    assert p.ask_some("10 1400 ffff 0028") == h("11 14 1400 ffff") + bytes.fromhex(CUSTOM_LE)
    # Find By Type Value keeps the real end (discovery by UUID).
    found = p.ask_some("06 0100 ffff 0028" + CUSTOM_LE)
    assert found == h("07 1400 1d00")


def test_cccd_placed_among_declared_descriptors() -> None:
    """``cccd_after``: the CCCD comes after that many declared descriptors (a stack laying
    them out in declaration order); by default it comes before them."""
    from host.gatt_db import CCCD_UUID, DescriptorDef

    def layout(cccd_after: int | None) -> list[tuple[int, UUID]]:
        server = GattServer()
        chr_def = CharacteristicDef(
            UUID(0xFEE2), CharacteristicProperties.NOTIFY,
            descriptors=(DescriptorDef(UUID(0x2901), b"a"), DescriptorDef(UUID(0x2904), bytes(7))),
            cccd_after=cccd_after,
        )
        server.add_service(ServiceDef(UUID(0xFEE0), (chr_def,)))
        (svc,) = server.describe()
        return [(d.handle, d.uuid) for d in svc.characteristics[0].descriptors]

    assert layout(None) == [(4, CCCD_UUID), (5, UUID(0x2901)), (6, UUID(0x2904))]
    assert layout(1) == [(4, UUID(0x2901)), (5, CCCD_UUID), (6, UUID(0x2904))]
    assert layout(2) == [(4, UUID(0x2901)), (5, UUID(0x2904)), (6, CCCD_UUID)]
    server = GattServer()
    server.add_service(ServiceDef(UUID(0xFEE0), (CharacteristicDef(
        UUID(0xFEE2), CharacteristicProperties.NOTIFY, descriptors=(DescriptorDef(UUID(0x2901), b"a"),),
        cccd_after=1),)))
    assert server.db.cccd_of(3) is not None and server.db.cccd_of(3).handle == 5  # notifications still find it
