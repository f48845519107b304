"""Event tuple layouts of the ble module (the document's tables and the binding's formats)."""

from __future__ import annotations

import pytest

from apis.quectel import ble_events as ev
from host.uuid import UUID

# The seed server's advertising data: flags 0x05, complete local name "Quectel_ble".
SEED_ADV = bytes([0x02, 0x01, 0x05, 0x0C, 0x09]) + b"Quectel_ble"


def test_scan_report_layout_from_the_seed_advertising_data() -> None:
    addr = b"\xdb3\xf5\x1ek\xac"  # the document's getPublicAddr example, HCI order
    args = ev.scan_report(0, addr, False, -50, SEED_ADV)
    assert args == (19, 0, 0, "Quectel_ble", 0, addr, -50, 16, SEED_ADV)
    assert len(args) == 9 and isinstance(args[5], bytes) and isinstance(args[8], bytes)


def test_scan_report_without_a_name_gives_an_empty_string_and_random_type() -> None:
    args = ev.scan_report(3, bytes(6), True, -70, b"\x02\x01\x06")
    assert args[3] == "" and args[4] == 1 and args[7] == 3


def test_connect_and_disconnect_carry_cid_and_bytes_address() -> None:
    assert ev.connected(0, b"\x01\x02\x03\x04\x05\x06") == (16, 0, 0, b"\x01\x02\x03\x04\x05\x06")
    assert ev.disconnected(2, bytearray(6)) == (17, 0, 2, bytes(6))
    assert type(ev.disconnected(2, bytearray(6))[3]) is bytes


def test_update_conn_param_gives_max_before_min() -> None:
    assert ev.update_conn_param(0, 40, 24, 0, 400) == (18, 0, 0, 40, 24, 0, 400)


def test_notification_is_handle_little_endian_then_value() -> None:
    # The seed client decodes handle = (d[1] << 8) | d[0].
    assert ev.notification(0x0003, b"99999") == (23, 0, 7, b"\x03\x0099999")
    assert ev.indication(0x0112, b"\x01") == (24, 0, 3, b"\x12\x01\x01")


def test_discovery_payload_from_issue_131() -> None:
    data = b"\x07\x13\x00\x02\x14\x00\x19*"  # wiki#131: len=8, handle 0x13, props 2, value 0x14, 0x2A19
    assert ev.payload_event(28, data) == (28, 0, 8, data)


def test_server_access_events_have_seven_fields() -> None:
    assert ev.recv_write(b"\x01\x00", 0x0004, UUID(0x2902)) == (21, 0, 2, b"\x01\x00", 4, 0x2902, bytes(16))
    long_uuid = UUID("6E400002-B5A3-F393-E0A9-E50E24DCCA9E")
    args = ev.recv_read(b"x", 0x0010, long_uuid)
    assert args[:5] == (22, 0, 1, b"x", 0x10)
    assert args[5] == 0 and args[6] == bytes.fromhex("9ECADC240EE5A9E093F3A3B50200406E")


def test_uuid_pair() -> None:
    assert ev.uuid_pair(UUID(0x2A19)) == (0x2A19, bytes(16))
    assert ev.uuid_pair(UUID("6E400001-B5A3-F393-E0A9-E50E24DCCA9E"))[1][-2:] == b"\x40\x6e"


def test_discover_service_gives_a_short_uuid() -> None:
    assert ev.discover_service(1, 4, UUID(0x180F)) == (27, 0, 1, 4, 0x180F)
    assert ev.discover_service(16, 30, UUID("6E400001-B5A3-F393-E0A9-E50E24DCCA9E"))[4] == 0x0001


def test_att_error_has_status_zero_and_the_error_code() -> None:
    assert ev.att_error(0x0A) == (37, 0, 0x0A)


def test_status_only_and_user_confirm() -> None:
    assert ev.status_only(0) == (0, 0)
    assert ev.status_only(25, 1) == (25, 1)
    assert ev.user_confirm(0, 6, 123456) == (64, 0, 0, 6, 123456)
    assert ev.mtu(0, 247) == (20, 0, 0, 247)


@pytest.mark.parametrize("event_id", [0, 1, 16, 17, 18, 20, 63, 64])
def test_events_both_roles_get(event_id: int) -> None:
    assert ev.delivered_to(event_id, "server") and ev.delivered_to(event_id, "client")


@pytest.mark.parametrize("event_id", [21, 22, 25])
def test_server_only_events(event_id: int) -> None:
    assert ev.delivered_to(event_id, "server") and not ev.delivered_to(event_id, "client")


@pytest.mark.parametrize("event_id", [19, 23, 24, *range(26, 38)])
def test_client_only_events(event_id: int) -> None:
    assert ev.delivered_to(event_id, "client") and not ev.delivered_to(event_id, "server")


def test_no_role_gets_nothing() -> None:
    assert not ev.delivered_to(0, "none")


def test_error_codes_are_plain_ints() -> None:
    from host.att_constants import AttErrorCode

    args = ev.att_error(AttErrorCode.ATTRIBUTE_NOT_FOUND)
    assert args == (37, 0, 10) and type(args[2]) is int and repr(args) == "(37, 0, 10)"
