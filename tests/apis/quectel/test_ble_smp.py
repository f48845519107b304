"""Pairing through the smp* functions: events 64 (user confirm) and 63 (complete)."""

from __future__ import annotations

from pathlib import Path

from tests.apis.quectel.world import assert_in_order, failures, lines, run_world

SERVER = """
import ble

Z = bytearray(16)


def cb(args):
    print("EV", repr(args))
    if args[0] == 0:
        ble.setAdvData(bytearray([2, 1, 6, 5, 9]) + b"qsmp")
        ble.addService(1, 1, 1, 0x180F, Z)
        ble.addChara(1, 1, 0x02, 1, 0x2A19, Z)
        ble.addCharaValue(1, 1, 0x0001, 1, 0x2A19, Z, b"\\x55")
        ble.addOrClearService(1, 0)
        ble.advStart()
    elif args[0] == 16:
        print("config", ble.smpSetConfig(4, 0x0D, 123456, 60), ble.smpGetConfig())
    elif args[0] == 64:
        print("confirm", ble.smpUserConfirm(args[2], 1, 0))


ble.serverInit(cb)
ble.gattStart()
"""

CLIENT = """
import ble
import utime

cid = [None]


def cb(args):
    print("EV", repr(args) if args[0] != 19 else args[3])
    if args[0] == 0:
        print("config", ble.smpSetConfig(4, 0x0D, 0, 60))
        ble.setScanParam(1, 0x40, 0x20, 0, 0)
        ble.scanStart()
    elif args[0] == 19 and args[3] == "qsmp":
        ble.scanStop()
        ble.connect(args[4], args[5])
    elif args[0] == 16:
        cid[0] = args[2]
        print("pair", ble.smpStartPair(args[2]))
    elif args[0] == 64:
        print("confirm", ble.smpUserConfirm(args[2], 1, 0))
    elif args[0] == 63:
        print("paired", ble.smpGetPairedDevInfo() is not None)


ble.clientInit(cb)
ble.gattStart()
print("before", ble.smpStartPair(0))
utime.sleep(4)
print("done")
"""


def test_numeric_comparison_pairing(tmp_path: Path) -> None:
    record = run_world(tmp_path, {"server": SERVER, "client": CLIENT}, duration="5s")
    assert failures(record) == {}
    assert_in_order(lines(record, "client"), [
        r"before -1",
        r"config 0",
        r"EV \(16, 0, 0, b'.*'\)",
        r"pair 0",
        r"EV \(64, 0, 0, 6, \d{1,6}\)",   # SC numeric comparison, with the value to compare
        r"confirm 0",
        r"EV \(63, 0\)",
        r"paired True",
    ])
    assert_in_order(lines(record, "server"), [
        r"EV \(16, 0, 0, b'.*'\)",
        r"config 0 \(4, 13, 123456, 60\)",
        r"EV \(64, 0, 0, 6, \d{1,6}\)",
        r"confirm 0",
        r"EV \(63, 0\)",
    ])
    client_value = [l for l in lines(record, "client") if l.startswith("EV (64")][0].split(", ")[-1]
    server_value = [l for l in lines(record, "server") if l.startswith("EV (64")][0].split(", ")[-1]
    assert client_value == server_value  # both sides show the same number
