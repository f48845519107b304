"""The ``ble`` module of a Quectel node (EC200U / EC600U / EG915U / EG912U).

Theory of operation
-------------------
:func:`make_ble_module` builds, per node and per boot, a module whose functions are the
QuecPython ``ble`` API (``shared/seeds/000_987a66f08d70609f.txt`` and the later
additions in ``shared/reference/quecpython.md``). Each function first converts and checks
its arguments as the C binding does (:mod:`.ble_args`: ``TypeError`` for a wrong type,
``ValueError`` for a value outside the documented range), then asks the node's
:class:`~.ble_stack.BleStack`, which returns 0, or -1 when the stack refuses (wrong
role, not started, unknown ``connect_id``, a request the host rejects). Results that
are data are ``bytes`` (``getPublicAddr``), tuples (``smpGetConfig``) or lists.

Events reach the callback given to ``serverInit`` / ``clientInit`` asynchronously on
the node's callback thread (see :mod:`.board` and :mod:`.ble_events`).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, Callable

from . import ble_events as ev
from .ble_args import (
    as_buffer,
    as_int,
    as_str,
    check_address,
    check_in,
    check_range,
    check_u16,
    uuid_of,
)
from .ble_stack import AdvSettings, BleStack, ScanSettings
from .board import QuectelBoard

__all__ = ["BLE_FUNCTIONS", "make_ble_module"]

#: The largest value the stack stores for one attribute (ATT maximum).
_MAX_VALUE = 512


def _value(data: object, name: str = "value") -> bytes:
    return as_buffer(data, name)


def make_ble_module(board: QuectelBoard) -> ModuleType:
    """The ``ble`` module bound to ``board``'s node (one :class:`BleStack` per boot)."""
    stack: BleStack | None = board.objects.get("ble")
    if stack is None:
        stack = BleStack(board)
        board.objects["ble"] = stack
    api = _api(stack)
    module = ModuleType("ble", "QuecPython ble module (blesim personality)")
    for name, fn in api.items():
        fn.__name__ = name
        fn.__qualname__ = name
        setattr(module, name, fn)
    return module


def _api(s: BleStack) -> dict[str, Callable[..., Any]]:
    # -- initialization --------------------------------------------------------------------
    def gattStart() -> int:
        return s.gatt_start()

    def gattStop() -> int:
        return s.gatt_stop()

    def getStatus() -> int:
        return s.status()

    def getPublicAddr() -> bytes | int:
        return s.public_address()

    # -- server -----------------------------------------------------------------------------
    def serverInit(user_cb: Any) -> int:
        return s.init("server", user_cb)

    def serverRelease() -> int:
        return s.release("server")

    def setLocalName(code: object, name: object) -> int:
        encoding = "utf-8" if check_in(code, (0, 1), "code") == 0 else "gbk"
        text = as_str(name, "name")
        try:
            raw = text.encode(encoding)
        except UnicodeEncodeError:
            raise ValueError("name cannot be encoded") from None
        if not 1 <= len(raw) <= 29:
            raise ValueError(f"name length {len(raw)} is outside 1..29")
        return s.set_local_name(raw.decode(encoding))

    def setAdvParam(
        min_adv: object, max_adv: object, adv_type: object, addr_type: object, channel: object,
        filter_policy: object, discov_mode: object, no_br_edr: object, enable_adv: object,
    ) -> int:
        settings = AdvSettings(
            min_adv=check_range(min_adv, 0x20, 0x4000, "min_adv"),
            max_adv=check_range(max_adv, 0x20, 0x4000, "max_adv"),
            adv_type=check_range(adv_type, 0, 4, "adv_type"),
            addr_type=check_in(addr_type, (0, 1), "addr_type"),
            channel=check_in(channel, (1, 2, 4, 7), "channel"),
            filter_policy=check_range(filter_policy, 0, 3, "filter_policy"),
        )
        as_int(discov_mode, "discov_mode")
        as_int(no_br_edr, "no_br_edr")
        as_int(enable_adv, "enable_adv")
        return s.set_adv_param(settings)

    def _adv_payload(data: object) -> bytes:
        raw = as_buffer(data, "data")
        if not 1 <= len(raw) <= 31:
            raise ValueError(f"data length {len(raw)} is outside 1..31")
        return raw

    def setAdvData(data: object) -> int:
        return s.set_adv_data(_adv_payload(data), scan_response=False)

    def setAdvRspData(data: object) -> int:
        return s.set_adv_data(_adv_payload(data), scan_response=True)

    def addService(primary: object, server_id: object, uuid_type: object, uuid_s: object, uuid_l: object) -> int:
        is_primary = as_int(primary, "primary") == 1
        sid = as_int(server_id, "server_id")
        return s.add_service(sid, is_primary, uuid_of(uuid_type, uuid_s, uuid_l))

    def addChara(
        server_id: object, chara_id: object, chara_prop: object, uuid_type: object, uuid_s: object, uuid_l: object
    ) -> int:
        sid, cid = as_int(server_id, "server_id"), as_int(chara_id, "chara_id")
        props = check_range(chara_prop, 0, 0xFF, "chara_prop")
        return s.add_chara(sid, cid, props, uuid_of(uuid_type, uuid_s, uuid_l))

    def _attr_args(
        server_id: object, chara_id: object, permission: object, uuid_type: object, uuid_s: object,
        uuid_l: object, value: object,
    ) -> tuple[int, int, int, Any, bytes] | None:
        sid, cid = as_int(server_id, "server_id"), as_int(chara_id, "chara_id")
        perm = check_range(permission, 0, 0x0FFF, "permission")
        uuid = uuid_of(uuid_type, uuid_s, uuid_l)
        raw = _value(value)
        if len(raw) > _MAX_VALUE:
            return None
        return sid, cid, perm, uuid, raw

    def addCharaValue(
        server_id: object, chara_id: object, permission: object, uuid_type: object, uuid_s: object,
        uuid_l: object, value: object,
    ) -> int:
        args = _attr_args(server_id, chara_id, permission, uuid_type, uuid_s, uuid_l, value)
        return -1 if args is None else s.add_chara_value(*args)

    def addCharaDesc(
        server_id: object, chara_id: object, permission: object, uuid_type: object, uuid_s: object,
        uuid_l: object, value: object,
    ) -> int:
        args = _attr_args(server_id, chara_id, permission, uuid_type, uuid_s, uuid_l, value)
        return -1 if args is None else s.add_chara_desc(*args)

    def changeCharaValue(server_id: object, chara_id: object, value: object) -> int:
        sid, cid = as_int(server_id, "server_id"), as_int(chara_id, "chara_id")
        raw = _value(value)
        if len(raw) > _MAX_VALUE:
            return -1
        return s.change_chara_value(sid, cid, raw)

    def addOrClearService(option: object, mode: object) -> int:
        return s.add_or_clear(check_in(option, (0, 1), "option"), check_in(mode, (0, 1), "mode"))

    def sendNotification(connect_id: object, attr_handle: object, value: object) -> int:
        cid, handle = as_int(connect_id, "connect_id"), check_u16(attr_handle, "attr_handle")
        return s.send_notification(cid, handle, _value(value))

    def sendIndication(connect_id: object, attr_handle: object, value: object) -> int:
        cid, handle = as_int(connect_id, "connect_id"), check_u16(attr_handle, "attr_handle")
        return s.send_indication(cid, handle, _value(value))

    def advStart() -> int:
        return s.adv_start()

    def advStop() -> int:
        return s.adv_stop()

    # -- client -----------------------------------------------------------------------------
    def clientInit(user_cb: Any) -> int:
        return s.init("client", user_cb)

    def clientRelease() -> int:
        return s.release("client")

    def setScanParam(scan_mode: object, interval: object, scan_window: object, filter_policy: object,
                     addr_type: object) -> int:
        settings = ScanSettings(
            scan_mode=check_in(scan_mode, (0, 1), "scan_mode"),
            interval=check_range(interval, 0x0004, 0x4000, "interval"),
            window=check_range(scan_window, 0x0004, 0x4000, "scan_window"),
            filter_policy=check_range(filter_policy, 0, 3, "filter_policy"),
            addr_type=check_in(addr_type, (0, 1), "addr_type"),
        )
        return s.set_scan_param(settings)

    def scanStart() -> int:
        return s.scan_start()

    def scanStop() -> int:
        return s.scan_stop()

    def setScanFilter(act: object) -> int:
        s.scan_filter = check_in(act, (0, 1), "act") == 1
        return 0

    def connect(addr_type: object, addr: object) -> int:
        kind = check_in(addr_type, (0, 1), "addr_type")
        return s.connect(kind, check_address(addr))

    def cancelConnect(addr: object) -> int:
        check_address(addr)
        return s.cancel_connect()

    def disconnect(connect_id: object) -> int:
        return s.disconnect(as_int(connect_id, "connect_id"))

    def discoverAllService(connect_id: object) -> int:
        cid = as_int(connect_id, "connect_id")
        return s.gatt(cid, s.client.discover_all_services)

    def discoverByUUID(connect_id: object, uuid_type: object, uuid_s: object, uuid_l: object) -> int:
        cid, uuid = as_int(connect_id, "connect_id"), uuid_of(uuid_type, uuid_s, uuid_l)
        return s.gatt(cid, lambda bearer, now: s.client.discover_by_uuid(bearer, uuid, now))

    def _range(connect_id: object, start_handle: object, end_handle: object) -> tuple[int, int, int]:
        cid = as_int(connect_id, "connect_id")
        return cid, check_u16(start_handle, "start_handle"), check_u16(end_handle, "end_handle")

    def discoverAllIncludes(connect_id: object, start_handle: object, end_handle: object) -> int:
        cid, start, end = _range(connect_id, start_handle, end_handle)
        return s.gatt(cid, lambda bearer, now: s.client.discover_includes(bearer, start, end, now))

    def discoverAllChara(connect_id: object, start_handle: object, end_handle: object) -> int:
        cid, start, end = _range(connect_id, start_handle, end_handle)
        return s.gatt(cid, lambda bearer, now: s.client.discover_characteristics(bearer, start, end, now))

    def discoverAllCharaDesc(connect_id: object, start_handle: object, end_handle: object) -> int:
        cid, start, end = _range(connect_id, start_handle, end_handle)
        return s.gatt(cid, lambda bearer, now: s.client.discover_descriptors(bearer, start, end, now))

    def readCharaByUUID(connect_id: object, start_handle: object, end_handle: object, uuid_type: object,
                        uuid_s: object, uuid_l: object) -> int:
        cid, start, end = _range(connect_id, start_handle, end_handle)
        uuid = uuid_of(uuid_type, uuid_s, uuid_l)
        return s.gatt(cid, lambda bearer, now: s.client.read_by_uuid(bearer, start, end, uuid, now))

    def readCharaByHandle(connect_id: object, handle: object, offset: object, is_long: object) -> int:
        cid, h = as_int(connect_id, "connect_id"), check_u16(handle, "handle")
        at, long = check_u16(offset, "offset"), check_in(is_long, (0, 1), "is_long") == 1
        event = ev.BLE_GATT_CHARA_READ_IND
        return s.gatt(cid, lambda bearer, now: s.client.read(bearer, h, at, long, event, now))

    def readCharaDesc(connect_id: object, handle: object, is_long: object) -> int:
        cid, h = as_int(connect_id, "connect_id"), check_u16(handle, "handle")
        long = check_in(is_long, (0, 1), "is_long") == 1
        event = ev.BLE_GATT_DESC_READ_IND
        return s.gatt(cid, lambda bearer, now: s.client.read(bearer, h, 0, long, event, now))

    def readMultiChara(connect_id: object, handles: object) -> int:
        cid, raw = as_int(connect_id, "connect_id"), as_buffer(handles, "handles")
        if len(raw) < 4 or len(raw) % 2:
            raise ValueError("handles must be two or more 16-bit handles (little-endian)")
        hs = tuple(int.from_bytes(raw[i : i + 2], "little") for i in range(0, len(raw), 2))
        return s.gatt(cid, lambda bearer, now: s.client.read_multiple(bearer, hs, now))

    def writeChara(connect_id: object, handle: object, offset: object, is_long: object, data: object) -> int:
        cid, h = as_int(connect_id, "connect_id"), check_u16(handle, "handle")
        at, long = check_u16(offset, "offset"), check_in(is_long, (0, 1), "is_long") == 1
        raw = _value(data, "data")
        event = ev.BLE_GATT_CHARA_WRITE_WITH_RSP_IND
        return s.gatt(cid, lambda bearer, now: s.client.write(bearer, h, at, long, raw, event, now))

    def writeCharaNoRsp(connect_id: object, handle: object, data: object) -> int:
        cid, h = as_int(connect_id, "connect_id"), check_u16(handle, "handle")
        raw = _value(data, "data")

        def send(bearer: Any, _now: int) -> None:
            if not s.client.write_without_response(bearer, h, raw):
                raise ValueError("link closed")

        return s.gatt(cid, send)

    def writeCharaDesc(connect_id: object, handle: object, data: object) -> int:
        cid, h = as_int(connect_id, "connect_id"), check_u16(handle, "handle")
        raw = _value(data, "data")
        event = ev.BLE_GATT_DESC_WRITE_WITH_RSP_IND
        return s.gatt(cid, lambda bearer, now: s.client.write(bearer, h, 0, False, raw, event, now))

    def exchangeMtu(connect_id: object, mtu: object) -> int:
        cid = as_int(connect_id, "connect_id")
        return s.exchange_mtu(cid, check_range(mtu, 23, 517, "mtu"))

    # -- SMP ----------------------------------------------------------------------------------
    def smpSetConfig(io_cap: object, auth_req: object, passkey: object, timeout: object) -> int:
        return s.smp.set_config(
            check_range(io_cap, 0, 4, "io_cap"), check_range(auth_req, 0, 0xFF, "auth_req"),
            check_range(passkey, 0, 999999, "passkey"), check_range(timeout, 0, 0xFFFF, "timeout"),
        )

    def smpGetConfig() -> tuple[int, int, int, int] | int:
        return s.smp.get_config()

    def smpStartPair(connect_id: object) -> int:
        return s.smp.start_pair(as_int(connect_id, "connect_id"))

    def smpUserConfirm(connect_id: object, op: object, pin: object) -> int:
        cid, operation = as_int(connect_id, "connect_id"), check_in(op, (0, 1, 2), "op")
        return s.smp.user_confirm(cid, operation, check_range(pin, 0, 999999, "pin"))

    def smpGetPairedDevInfo() -> list[tuple[int, bytes]]:
        return s.smp.paired_devices()

    def smpRemovePairedDev(addr: object) -> int:
        return s.smp.remove_paired(check_address(addr))

    def smpCleanPairedDev() -> int:
        return s.smp.clean_paired()

    namespace = locals()
    return {name: namespace[name] for name in BLE_FUNCTIONS}


#: Every public function of the module, in the document's order of sections.
BLE_FUNCTIONS: tuple[str, ...] = (
    "gattStart", "gattStop", "getStatus", "getPublicAddr",
    "serverInit", "serverRelease", "setLocalName", "setAdvParam", "setAdvData", "setAdvRspData",
    "addService", "addChara", "addCharaValue", "changeCharaValue", "addCharaDesc", "addOrClearService",
    "sendNotification", "sendIndication", "advStart", "advStop",
    "clientInit", "clientRelease", "setScanParam", "scanStart", "scanStop", "setScanFilter", "connect",
    "cancelConnect", "disconnect", "discoverAllService", "discoverByUUID", "discoverAllIncludes",
    "discoverAllChara", "discoverAllCharaDesc", "readCharaByUUID", "readCharaByHandle", "readCharaDesc",
    "writeChara", "writeCharaNoRsp", "writeCharaDesc",
    "exchangeMtu", "readMultiChara",
    "smpSetConfig", "smpGetConfig", "smpStartPair", "smpUserConfirm", "smpGetPairedDevInfo",
    "smpRemovePairedDev", "smpCleanPairedDev",
)
