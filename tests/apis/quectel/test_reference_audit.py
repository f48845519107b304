"""Behaviours of ``shared/reference/quecpython.md`` that the other tests did not show.

Each test names the reference item it pins down; expected tuples and bytes are written
from the reference and the Core Specification (ATT PDU layouts), not copied from a run.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from apis.quectel import ble_events as ev
from apis.quectel.ble_gatt_table import Hooks, ServerTable, install
from apis.quectel.ble_stack import BleStack, GattState
from host.events import Connected, ConnectionUpdated, Disconnected
from host.gatt_db import CCCD_UUID, USER_DESCRIPTION_UUID
from host.gatt_server import GattServer
from host.smp_types import SmpConfig
from host.uuid import UUID
from linklayer.address import Address
from phy.units import UNIT_10MS, UNIT_1250US
from tests.apis.quectel.world import assert_in_order, failures, lines, run_world

# -- the event plumbing of BleStack, on a stand-in board --------------------------------------


class _Board:
    """Just enough of :class:`~apis.quectel.board.QuectelBoard` for host events."""

    def __init__(self) -> None:
        self.objects: dict[str, Any] = {}
        self.posted: list[tuple[object, ...]] = []
        self.host = SimpleNamespace(config=SimpleNamespace(smp=SmpConfig()), smp=lambda handle: SimpleNamespace())

    def on_stop(self, hook: object) -> None:
        pass

    def schedule(self, fn: object, arg: tuple[object, ...], what: str = "") -> bool:
        self.posted.append(arg)
        return True


def _started(role: str) -> tuple[BleStack, _Board]:
    board = _Board()
    stack = BleStack(board)  # type: ignore[arg-type]
    stack.init(role, lambda args: None)
    stack.state = GattState.STARTED
    return stack, board


PEER = Address(bytes.fromhex("db33f51e6bac"), False)


def _connect(stack: BleStack, handle: int, role: str = "peripheral") -> None:
    stack.on_host_event(0, Connected(handle, role, PEER, 30 * UNIT_1250US, 0, 400 * UNIT_10MS))


def test_event_18_gives_max_then_min_interval_in_1_25_ms_and_timeout_in_10_ms() -> None:
    """Reference 2, argument layouts: ``(18, st, cid, max_interval, min_interval, latency, timeout)``."""
    stack, board = _started("server")
    _connect(stack, 0x40)
    stack.on_host_event(0, ConnectionUpdated(0x40, 24 * UNIT_1250US, 3, 500 * UNIT_10MS))
    assert board.posted[-1] == (18, 0, 0, 24, 24, 3, 500)


def test_connect_ids_are_the_lowest_free_number_from_0() -> None:
    """Reference 2, connect_id: the first link is 0 (the examples notify on 0); a freed id is reused."""
    stack, board = _started("server")
    _connect(stack, 0x40)
    _connect(stack, 0x41)
    _connect(stack, 0x42)
    assert [a[2] for a in board.posted if a[0] == 16] == [0, 1, 2]
    stack.on_host_event(0, Disconnected(0x41, 0x13))
    assert board.posted[-1] == (17, 0, 1, PEER.value)
    _connect(stack, 0x43)
    assert board.posted[-1] == (16, 0, 1, PEER.value)
    assert stack.handle_of(1) == 0x43 and stack.cid_of(0x42) == 2


def test_a_server_connection_does_not_start_discovery_a_client_one_does() -> None:
    """Reference 4: event 26 comes by itself after a client's connection, never to a server."""
    server, s_board = _started("server")
    _connect(server, 1, role="peripheral")
    assert [a[0] for a in s_board.posted] == [16]
    client, c_board = _started("client")
    _connect(client, 1, role="central")
    assert [a[0] for a in c_board.posted] == [16, 26]
    assert c_board.posted[1] == (26, 0)


def test_events_of_the_other_role_are_not_delivered() -> None:
    """Reference 2: a client callback never gets 21/22/25; a server callback never 19/23/26-37."""
    stack, board = _started("client")
    stack.post(ev.recv_write(b"x", 3, UUID(0x2A19)))
    stack.post(ev.status_only(ev.BLE_GATT_SEND_END))
    stack.post(ev.notification(3, b"x"))
    assert [a[0] for a in board.posted] == [23]
    stack, board = _started("server")
    stack.post(ev.notification(3, b"x"))
    stack.post(ev.att_error(10))
    stack.post(ev.status_only(ev.BLE_GATT_SEND_END))
    assert [a[0] for a in board.posted] == [25]


# -- the attribute table -------------------------------------------------------------------------

NO_HOOKS = Hooks(read=lambda uuid: (lambda access: None), write=lambda uuid: (lambda access: None))


def test_app_note_cccd_of_four_bytes_is_accepted_as_the_cccd() -> None:
    """Reference 1: the app note declares the CCCD with the 4-byte value [0, 0, 0, 0]."""
    t = ServerTable()
    t.add_service(1, True, UUID(0x180F))
    t.add_chara(1, 1, 0x02 | 0x10 | 0x20, UUID(0x2A19))
    t.add_value(1, 1, 0x0003, UUID(0x2A19), bytes(244))
    t.add_desc(1, 1, 0x0003, UUID(0x2902), bytes(4))
    server = GattServer()
    install(server, t, NO_HOOKS, keep_system=True, device_name="Quectel_ble", now=0)
    (_, _, info) = server.describe()
    assert (info.start_handle, info.end_handle) == (16, 19)
    assert [(d.handle, d.uuid) for d in info.characteristics[0].descriptors] == [(19, CCCD_UUID)]


def test_secondary_service_is_declared_secondary() -> None:
    """Seed, addService: ``primary`` 1 is a primary service, any other value a secondary one."""
    t = ServerTable()
    t.add_service(1, False, UUID(0xAAAA))
    t.add_service(2, True, UUID(0x180F))
    server = GattServer()
    install(server, t, NO_HOOKS, keep_system=False, device_name="x", now=0)
    assert [(s.start_handle, s.uuid, s.primary) for s in server.describe()] == [
        (1, UUID(0xAAAA), False), (2, UUID(0x180F), True),
    ]


def test_descriptors_follow_addCharaDesc_order_even_for_the_cccd() -> None:
    """Reference 2, BLE_SERVER_HANDLE: descriptors come after the value in declaration order.
    A 0x2902 declared after another descriptor should come after it too."""
    t = ServerTable()
    t.add_service(1, True, UUID(0xFEE0))
    t.add_chara(1, 1, 0x10, UUID(0xFEE2))
    t.add_value(1, 1, 0x0001, UUID(0xFEE2), b"")
    t.add_desc(1, 1, 0x0001, UUID(0x2901), b"notify")
    t.add_desc(1, 1, 0x0003, UUID(0x2902), b"\x00\x00")
    server = GattServer()
    install(server, t, NO_HOOKS, keep_system=False, device_name="x", now=0)
    (info,) = server.describe()
    assert [(d.handle, d.uuid) for d in info.characteristics[0].descriptors] == [
        (4, USER_DESCRIPTION_UUID), (5, CCCD_UUID),
    ]


# -- over the air: 128-bit UUIDs, a secondary service, changeCharaValue, discoverByUUID ------------

#: 6E400001-B5A3-F393-E0A9-E50E24DCCA9E and friends, as ``uuid_l`` (least significant octet first).
NUS = bytes.fromhex("6E400001B5A3F393E0A9E50E24DCCA9E")[::-1]
NUS_TX = bytes.fromhex("6E400003B5A3F393E0A9E50E24DCCA9E")[::-1]
NUS_DESC = bytes.fromhex("6E400009B5A3F393E0A9E50E24DCCA9E")[::-1]

LONG_SERVER = f"""
import ble

Z = bytearray(16)
NUS = {NUS!r}
NUS_TX = {NUS_TX!r}
NUS_DESC = {NUS_DESC!r}


def cb(args):
    print("EV", repr(args))
    if args[0] == 0:
        ble.setAdvData(bytearray([2, 1, 6, 5, 9]) + b"qlng")
        ble.addService(1, 1, 0, 0, NUS)                      # handle 1
        ble.addChara(1, 1, 0x1A, 0, 0, NUS_TX)               # read|write|notify: 2, 3
        ble.addCharaValue(1, 1, 0x0003, 0, 0, NUS_TX, b"old")
        ble.addCharaDesc(1, 1, 0x0003, 1, 0x2902, Z, b"\\x00\\x00")  # 4
        ble.addCharaDesc(1, 1, 0x0001, 0, 0, NUS_DESC, b"d")   # 5
        ble.addService(0, 2, 1, 0xAAAA, Z)                   # secondary: 6
        ble.addService(1, 3, 1, 0x180F, Z)                   # 7
        ble.addChara(3, 1, 0x02, 1, 0x2A19, Z)               # 8, 9
        ble.addCharaValue(3, 1, 0x0001, 1, 0x2A19, Z, b"\\x64")
        print("table", ble.addOrClearService(1, 0))
        print("adv", ble.advStart())
    elif args[0] == 16:
        print("change", ble.changeCharaValue(1, 1, b"new!"))


ble.serverInit(cb)
ble.gattStart()
"""

LONG_CLIENT = f"""
import ble
import utime

NUS = {NUS!r}
NUS_TX = {NUS_TX!r}
found = []
ready = []


def cb(args):
    if args[0] == 19:
        if args[3] == "qlng" and not found:
            found.append(args)
        return
    print("EV", repr(args))
    if args[0] == 26:
        ready.append(args)


def step(name, ret):
    print("CALL", name, ret)
    utime.sleep_ms(300)


ble.clientInit(cb)
ble.gattStart()
utime.sleep_ms(10)
ble.setScanParam(1, 0x40, 0x20, 0, 0)
ble.scanStart()
while not found:
    utime.sleep_ms(10)
ble.scanStop()
print("CALL connect", ble.connect(found[0][4], found[0][5]))
while not ready:
    utime.sleep_ms(10)
cid = 0
step("services", ble.discoverAllService(cid))
step("by uuid 16", ble.discoverByUUID(cid, 1, 0x180F, bytearray(16)))
step("by uuid 128", ble.discoverByUUID(cid, 0, 0, NUS))
step("includes", ble.discoverAllIncludes(cid, 1, 5))
step("charas", ble.discoverAllChara(cid, 1, 5))
step("descs", ble.discoverAllCharaDesc(cid, 4, 5))
step("read", ble.readCharaByHandle(cid, 3, 0, 0))
step("read by uuid 128", ble.readCharaByUUID(cid, 1, 5, 0, 0, NUS_TX))
step("write", ble.writeChara(cid, 3, 0, 0, b"w"))
print("done")
"""


@pytest.fixture(scope="module")
def long_record(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return run_world(tmp_path_factory.mktemp("long"), {"server": LONG_SERVER, "client": LONG_CLIENT}, duration="6s")


def test_long_uuid_world_runs(long_record: Any) -> None:
    assert failures(long_record) == {}
    assert lines(long_record, "client")[-1] == "done"


def test_long_uuid_events_carry_the_att_payloads(long_record: Any) -> None:
    """Reference 2, raw data formats, with 128-bit UUIDs: 27 gives octets 12-13, 28 has
    pair_len 21, 29 has format 2, 33 is length + handle + value; only primary services
    are found; changeCharaValue is what the client reads; includes end with (37, 0, 10)."""
    def b(data: bytes) -> str:
        return re.escape(repr(data))

    chara_entry = bytes([21, 0x02, 0x00, 0x1A, 0x03, 0x00]) + NUS_TX
    assert_in_order(lines(long_record, "client"), [
        r"EV \(26, 0\)",
        r"CALL services 0",
        r"EV \(27, 0, 1, 5, 1\)",            # 6E40[0001]-...: octets 12-13
        r"EV \(27, 0, 7, 9, 6159\)",         # 0x180F; the secondary service (6) is not listed
        r"CALL by uuid 16 0",
        r"EV \(27, 0, 7, 9, 6159\)",
        r"CALL by uuid 128 0",
        r"EV \(27, 0, 1, 5, 1\)",
        r"CALL includes 0",
        r"EV \(37, 0, 10\)",
        r"CALL charas 0",
        rf"EV \(28, 0, 22, {b(chara_entry)}\)",
        r"EV \(37, 0, 10\)",
        r"CALL descs 0",
        rf"EV \(29, 0, 5, {b(bytes([1, 4, 0, 0x02, 0x29]))}\)",
        rf"EV \(29, 0, 19, {b(bytes([2, 5, 0]) + NUS_DESC)}\)",
        r"CALL read 0",
        r"EV \(32, 0, 4, b'new!'\)",
        r"CALL read by uuid 128 0",
        rf"EV \(33, 0, 7, {b(bytes([6, 3, 0]) + b'new!')}\)",
        r"CALL write 0",
        r"EV \(30, 0\)",
        r"done",
    ])
    client_ids = {line.split("(")[1].split(",")[0] for line in lines(long_record, "client") if line.startswith("EV (")}
    assert not {"21", "22", "25"} & client_ids


def test_long_uuid_server_events_give_uuid_s_0_and_uuid_l(long_record: Any) -> None:
    """Seed, events 21/22: ``short_uuid`` 0 and the 16-octet ``long_uuid`` for a 128-bit attribute."""
    out = lines(long_record, "server")
    assert "change 0" in out
    assert f"EV (22, 0, 4, b'new!', 3, 0, {NUS_TX!r})" in out
    assert f"EV (21, 0, 1, b'w', 3, 0, {NUS_TX!r})" in out


# -- over the air: scan filter, scan response, advStop, cancelConnect ------------------------------

RSP = bytes([3, 0xFF, 0x34, 0x12])

ADV_SERVER = f"""
import ble
import utime


def cb(args):
    if args[0] == 0:
        ble.setAdvParam(0x40, 0x40, 0, 0, 7, 0, 2, 1, 1)   # 40 ms
        ble.setAdvData(bytearray([2, 1, 6, 5, 9]) + b"qadv")
        ble.setAdvRspData({RSP!r})
        print("adv", ble.advStart())


ble.serverInit(cb)
ble.gattStart()
utime.sleep_ms(1500)
print("advStop", ble.advStop())
"""

ADV_CLIENT = """
import ble
import utime

reports = []
others = []


def cb(args):
    if args[0] == 19:
        if args[3] == "qadv" or args[2] == 4:
            reports.append((utime.ticks_ms(), args))
    elif args[0] != 0:
        others.append(args)


def window(label, ms):
    before = len(reports)
    utime.sleep_ms(ms)
    got = [a for _, a in reports[before:]]
    print(label, len(got), sorted(set(a[2] for a in got)))
    return got


ble.clientInit(cb)
ble.gattStart()
utime.sleep_ms(10)
ble.setScanParam(1, 0x40, 0x20, 0, 0)
print("filter off", ble.setScanFilter(0))
ble.scanStart()
got = window("unfiltered", 900)
rsp = [a for a in got if a[2] == 4]
print("rsp", rsp[0][3], rsp[0][7], rsp[0][8], rsp[0][5] == got[0][5])
ble.scanStop()
print("filter on", ble.setScanFilter(1))
ble.scanStart()
window("filtered", 400)
ble.scanStop()
ble.setScanFilter(0)
utime.sleep_ms(300)                      # the server stops advertising at 1.5 s
ble.scanStart()
window("after advStop", 600)
ble.scanStop()
print("connect", ble.connect(0, bytes([1, 2, 3, 4, 5, 6])))
utime.sleep_ms(100)
print("cancel", ble.cancelConnect(bytes([1, 2, 3, 4, 5, 6])))
utime.sleep_ms(200)
print("connected", [a for a in others if a[0] == 16 and a[1] == 0])
print("done")
"""


def test_scan_filter_scan_response_adv_stop_and_cancel_connect(tmp_path: Path) -> None:
    """Seed setScanFilter (0: every packet, 1: one per device), event 19 ``event_type`` 4
    for a scan response carrying the setAdvRspData bytes, advStop, cancelConnect."""
    record = run_world(tmp_path, {"server": ADV_SERVER, "client": ADV_CLIENT}, duration="4s")
    assert failures(record) == {}
    assert lines(record, "server") == ["adv 0", "advStop 0"]
    out = lines(record, "client")
    unfiltered = next(line for line in out if line.startswith("unfiltered "))
    count = int(unfiltered.split()[1])
    assert count >= 20 and unfiltered.endswith("[0, 4]"), unfiltered  # ~22 events of 2 packets each
    assert_in_order(out, [
        r"filter off 0",
        r"rsp  4 b'\\x03\\xff4\\x12' True",   # no name in the scan response; same address
        r"filter on 0",
        r"filtered 1 \[0\]",
        r"after advStop 0 \[\]",
        r"connect 0",
        r"cancel 0",
        r"connected \[\]",
        r"done",
    ])


# -- companion modules: the parts the other tests leave out -----------------------------------------

COMPANION_GAPS = """
import _thread
import checkNet
import log
import osTimer
import utime
from queue import Queue


def check(label, fn, *args):
    try:
        print("{}: {}".format(label, fn(*args)))
    except Exception as exc:
        print("{}: {}".format(label, type(exc).__name__))


t0 = utime.ticks_us()
utime.sleep_us(1500)
print("sleep_us", utime.ticks_diff(utime.ticks_us(), t0))
c0 = utime.ticks_cpu()
utime.sleep_ms(2)
print("ticks_cpu", utime.ticks_diff(utime.ticks_cpu(), c0) > 0)

q = Queue()
print("default", [q.put(i) for i in range(102)].count(True), q.size(), q.empty())
q.clear()
print("cleared", q.size(), q.empty())

steps = []


def suicide():
    steps.append(1)
    _thread.stop_thread(0)
    steps.append(2)


tid = _thread.start_new_thread(suicide, ())
utime.sleep_ms(10)
print("stop self", steps, _thread.threadIsRunning(tid))
print("stop main", _thread.stop_thread(_thread.get_ident()))
sem = _thread.allocate_semphore(1)
print("sem", sem.acquire(), sem.acquire(0), sem.getCnt())

check("module wait", checkNet.wait_network_connected, 30)
check("wait 3601", checkNet.wait_network_connected, 3601)

log.basicConfig(level=log.DEBUG)
lg = log.getLogger("gap")
lg.debug("d %s", "x")
lg.error("e")

fired = []
t = osTimer.osTimer()
t.start(50, 1, fired.append)
utime.sleep_ms(120)
print("delete", t.delete_timer(), len(fired))
utime.sleep_ms(200)
print("after delete", len(fired), fired[0])
print("done")
"""


def test_companion_module_gaps(tmp_path: Path) -> None:
    """Reference 3: sleep_us, ticks_cpu, Queue() holds 101 by default, empty/clear,
    stop_thread(0) stops the caller (never main), the module-level checkNet function and
    its 1..3600 bound, log DEBUG/ERROR lines, osTimer.delete_timer."""
    record = run_world(tmp_path, {"board": COMPANION_GAPS}, duration="2s")
    assert failures(record) == {}
    assert lines(record, "board") == [
        "sleep_us 1500",
        "ticks_cpu True",
        "default 101 101 False",
        "cleared 0 True",
        "stop self [1] False",
        "stop main -1",
        "sem True False (1, 0)",
        "module wait: (3, 1)",
        "wait 3601: OSError",
        "DEBUG:gap:d x",
        "ERROR:gap:e",
        "delete 0 2",
        "after delete 2 None",
        "done",
    ]


# -- SMP bonds: smpGetPairedDevInfo, smpRemovePairedDev, smpCleanPairedDev ----------------------


def test_paired_device_list_remove_and_clean(tmp_path: Path) -> None:
    """Reference 2 (2025 stubs): after a bonding pairing the peer is listed; removing it by
    address empties the list (a second removal is -1); cleaning always succeeds."""
    from tests.apis.quectel.test_ble_smp import CLIENT, SERVER

    client = CLIENT.replace(
        '        print("paired", ble.smpGetPairedDevInfo() is not None)',
        '        bonds = ble.smpGetPairedDevInfo()\n'
        '        print("bonds", [(t, bytes(a)) for t, a in bonds], len(bonds))\n'
        '        print("remove", ble.smpRemovePairedDev(bonds[0][1]), ble.smpGetPairedDevInfo())\n'
        '        print("again", ble.smpRemovePairedDev(bonds[0][1]))\n'
        '        print("clean", ble.smpCleanPairedDev(), ble.smpGetPairedDevInfo())\n'
        '        print("peer", bonds[0][1] == peer[0])',
    ).replace(
        "    elif args[0] == 16:\n",
        "    elif args[0] == 16:\n        peer.append(bytes(args[3]))\n",
    ).replace("cid = [None]\n", "cid = [None]\npeer = []\n")
    assert client != CLIENT
    record = run_world(tmp_path, {"server": SERVER, "client": client}, duration="5s")
    assert failures(record) == {}
    assert_in_order(lines(record, "client"), [
        r"EV \(63, 0\)",
        r"bonds \[\(0, b'.{6,24}'\)\] 1",
        r"remove 0 \[\]",
        r"again -1",
        r"clean 0 \[\]",
        r"peer True",
    ])
