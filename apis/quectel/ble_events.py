"""The ``ble`` callback events: their numbers, who gets them, and their argument tuples.

Theory of operation
-------------------
The module calls the registered callback with one tuple per event: ``args[0]`` is the
event id, ``args[1]`` the status (0 = success) and the rest depends on the id (the
tables of ``ble.serverInit`` / ``ble.clientInit`` in the QuecPython document, and the
binding's C source as recorded in ``shared/reference/quecpython.md``). This module builds
those tuples from plain values, so each layout is written (and tested) once:

* addresses are ``bytes`` in HCI order (least significant octet first, as
  ``ble.getPublicAddr()``);
* "data" events carry the ATT PDU without its opcode (``Helios_AttGeneralRsp.pay_load``)
  and its length;
* event 18 gives the maximum interval *before* the minimum.

A server callback gets only the server set of events and a client callback the client
set (the binding registers them separately); :func:`delivered_to` says which.
"""

from __future__ import annotations

from typing import Final

from host.advertising_data import AdvertisingData
from host.uuid import UUID

__all__ = [
    "CLIENT_EVENTS",
    "EventArgs",
    "SERVER_EVENTS",
    "att_error",
    "chara_write_done",
    "connected",
    "delivered_to",
    "disconnected",
    "discover_service",
    "indication",
    "mtu",
    "notification",
    "payload_event",
    "recv_read",
    "recv_write",
    "scan_report",
    "status_only",
    "update_conn_param",
    "user_confirm",
    "uuid_pair",
]

#: The tuple handed to a ``ble`` callback.
EventArgs = tuple[object, ...]

BLE_START_STATUS_IND: Final = 0
BLE_STOP_STATUS_IND: Final = 1
BLE_CONNECT_IND: Final = 16
BLE_DISCONNECT_IND: Final = 17
BLE_UPDATE_CONN_PARAM_IND: Final = 18
BLE_SCAN_REPORT_IND: Final = 19
BLE_GATT_MTU: Final = 20
BLE_GATT_RECV_WRITE_IND: Final = 21
BLE_GATT_RECV_READ_IND: Final = 22
BLE_GATT_RECV_NOTIFICATION_IND: Final = 23
BLE_GATT_RECV_INDICATION_IND: Final = 24
BLE_GATT_SEND_END: Final = 25
BLE_GATT_START_DISCOVER_SERVICE_IND: Final = 26
BLE_GATT_DISCOVER_SERVICE_IND: Final = 27
BLE_GATT_DISCOVER_CHARACTERISTIC_DATA_IND: Final = 28
BLE_GATT_DISCOVER_CHARA_DESC_IND: Final = 29
BLE_GATT_CHARA_WRITE_WITH_RSP_IND: Final = 30
BLE_GATT_CHARA_WRITE_WITHOUT_RSP_IND: Final = 31
BLE_GATT_CHARA_READ_IND: Final = 32
BLE_GATT_CHARA_READ_BY_UUID_IND: Final = 33
BLE_GATT_CHARA_MULTI_READ_IND: Final = 34
BLE_GATT_DESC_WRITE_WITH_RSP_IND: Final = 35
BLE_GATT_DESC_READ_IND: Final = 36
BLE_GATT_ATT_ERROR_IND: Final = 37
BLE_GATT_SMP_COMPLETE_IND: Final = 63
BLE_GATT_SMP_USER_CONFIRM_IND: Final = 64

#: Events the server callback receives (binding: 0, 1, 16, 17, 18, 20, 21, 22, 25; SMP).
SERVER_EVENTS: Final = frozenset({0, 1, 16, 17, 18, 20, 21, 22, 25, 63, 64})
#: Events the client callback receives (binding: 0, 1, 16-20, 23, 24, 26-37; SMP).
CLIENT_EVENTS: Final = frozenset({0, 1, 16, 17, 18, 19, 20, 23, 24, *range(26, 38), 63, 64})

#: ``uuid_l`` of an event about a 16-bit UUID.
ZERO_UUID_L: Final = bytes(16)


def delivered_to(event_id: int, role: str) -> bool:
    """Whether a callback registered by ``serverInit`` (``"server"``) or ``clientInit``
    (``"client"``) receives ``event_id``."""
    events = SERVER_EVENTS if role == "server" else CLIENT_EVENTS if role == "client" else frozenset()
    return event_id in events


def uuid_pair(uuid: UUID) -> tuple[int, bytes]:
    """``(uuid_s, uuid_l)`` as events carry a UUID: a 16-bit one in ``uuid_s`` with 16 zero
    octets, anything else as 16 octets little-endian with ``uuid_s`` 0."""
    if uuid.bits == 16:
        return int(uuid), ZERO_UUID_L
    return 0, uuid.to_bytes(128)


def status_only(event_id: int, status: int = 0) -> EventArgs:
    """Events 0, 1, 25, 26, 30, 31, 35 and 63: ``(id, status)``."""
    return (event_id, status)


def connected(cid: int, address: bytes | bytearray, status: int = 0) -> EventArgs:
    """Event 16: ``(16, status, connect_id, addr)``."""
    return (BLE_CONNECT_IND, status, cid, bytes(address))


def disconnected(cid: int, address: bytes | bytearray, status: int = 0) -> EventArgs:
    """Event 17: ``(17, status, connect_id, addr)``."""
    return (BLE_DISCONNECT_IND, status, cid, bytes(address))


def update_conn_param(
    cid: int, max_interval: int, min_interval: int, latency: int, timeout: int, status: int = 0
) -> EventArgs:
    """Event 18: ``(18, status, connect_id, max_interval, min_interval, latency, timeout)``;
    intervals in 1.25 ms units, timeout in 10 ms units. Max comes before min."""
    return (BLE_UPDATE_CONN_PARAM_IND, status, cid, max_interval, min_interval, latency, timeout)


def scan_report(event_type: int, address: bytes, random: bool, rssi: int, data: bytes) -> EventArgs:
    """Event 19: ``(19, status, event_type, name, addr_type, addr, rssi, data_len, data)``.

    ``name`` is the (complete, else shortened) local name found in ``data``, ``""`` when
    there is none; ``data`` is the raw advertising or scan response data (<= 31 octets).
    """
    name = AdvertisingData.from_bytes(data).local_name or ""
    raw = bytes(data)
    return (BLE_SCAN_REPORT_IND, 0, event_type, name, 1 if random else 0, bytes(address), rssi, len(raw), raw)


def mtu(handle: int, value: int, status: int = 0) -> EventArgs:
    """Event 20: ``(20, status, handle, mtu)``."""
    return (BLE_GATT_MTU, status, handle, value)


def _server_access(event_id: int, value: bytes, attr_handle: int, uuid: UUID) -> EventArgs:
    uuid_s, uuid_l = uuid_pair(uuid)
    data = bytes(value)
    return (event_id, 0, len(data), data, attr_handle, uuid_s, uuid_l)


def recv_write(value: bytes, attr_handle: int, uuid: UUID) -> EventArgs:
    """Event 21: ``(21, status, data_len, data, attr_handle, uuid_s, uuid_l)``."""
    return _server_access(BLE_GATT_RECV_WRITE_IND, value, attr_handle, uuid)


def recv_read(value: bytes, attr_handle: int, uuid: UUID) -> EventArgs:
    """Event 22: ``(22, status, data_len, data, attr_handle, uuid_s, uuid_l)``."""
    return _server_access(BLE_GATT_RECV_READ_IND, value, attr_handle, uuid)


def payload_event(event_id: int, payload: bytes) -> EventArgs:
    """The client "data" events 28, 29, 32, 33, 34, 36: ``(id, status, data_len, data)``
    where ``data`` is the ATT response without its opcode."""
    data = bytes(payload)
    return (event_id, 0, len(data), data)


def notification(attr_handle: int, value: bytes) -> EventArgs:
    """Event 23: ``(23, status, data_len, data)``, data = handle (2 octets LE) + value."""
    return payload_event(BLE_GATT_RECV_NOTIFICATION_IND, attr_handle.to_bytes(2, "little") + bytes(value))


def indication(attr_handle: int, value: bytes) -> EventArgs:
    """Event 24: ``(24, status, data_len, data)``, the same layout as event 23."""
    return payload_event(BLE_GATT_RECV_INDICATION_IND, attr_handle.to_bytes(2, "little") + bytes(value))


def discover_service(start_handle: int, end_handle: int, uuid: UUID) -> EventArgs:
    """Event 27: ``(27, status, start_handle, end_handle, uuid)``; a 128-bit service UUID
    is given by its octets 12-13 (the ``xxxx`` of ``0000xxxx-...``)."""
    short = int(uuid) if uuid.bits == 16 else (int(uuid) >> 96) & 0xFFFF
    return (BLE_GATT_DISCOVER_SERVICE_IND, 0, start_handle, end_handle, short)


def att_error(errcode: int) -> EventArgs:
    """Event 37: ``(37, 0, errcode)`` — status 0, the ATT error code; no opcode, no handle."""
    return (BLE_GATT_ATT_ERROR_IND, 0, int(errcode))


def chara_write_done(event_id: int, status: int = 0) -> EventArgs:
    """Events 30, 31, 35: ``(id, status)``."""
    return (event_id, status)


def user_confirm(cid: int, pair_mode: int, pin: int) -> EventArgs:
    """Event 64: ``(64, status, connect_id, pair_mode, pin)``."""
    return (BLE_GATT_SMP_USER_CONFIRM_IND, 0, cid, pair_mode, pin)
