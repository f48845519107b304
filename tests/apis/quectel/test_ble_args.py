"""Argument checks and misuse: ValueError/TypeError as the binding raises, -1 when the stack
refuses, and never a traceback from blesim itself."""

from __future__ import annotations

from pathlib import Path

from tests.apis.quectel.world import failures, lines, run_world

CHECKS = """
import ble
import utime

Z = bytearray(16)


def check(label, fn, *args):
    try:
        print("{}: {}".format(label, fn(*args)))
    except Exception as exc:
        print("{}: {}".format(label, type(exc).__name__))


def cb(args):
    print("event", args)


# -- before any init / before gattStart ------------------------------------------------
check("status before start", ble.getStatus)
check("addr before start", ble.getPublicAddr)
check("gattStart before init", ble.gattStart)
check("gattStop when stopped", ble.gattStop)
check("serverInit", ble.serverInit, cb)
check("clientInit after serverInit", ble.clientInit, cb)
check("advStart before gattStart", ble.advStart)
check("setLocalName before gattStart", ble.setLocalName, 0, "ok")

# -- argument checks (independent of the state) ----------------------------------------
check("name empty", ble.setLocalName, 0, "")
check("name 30", ble.setLocalName, 0, "x" * 30)
check("name code 2", ble.setLocalName, 2, "a")
check("name int", ble.setLocalName, 0, 5)
check("adv min 0x1f", ble.setAdvParam, 0x1F, 0x320, 0, 0, 7, 0, 2, 1, 1)
check("adv max 0x4001", ble.setAdvParam, 0x300, 0x4001, 0, 0, 7, 0, 2, 1, 1)
check("adv type 5", ble.setAdvParam, 0x300, 0x320, 5, 0, 7, 0, 2, 1, 1)
check("adv channel 3", ble.setAdvParam, 0x300, 0x320, 0, 0, 3, 0, 2, 1, 1)
check("adv data 32", ble.setAdvData, bytearray(32))
check("adv data empty", ble.setAdvData, b"")
check("rsp data 32", ble.setAdvRspData, bytearray(32))
check("adv data list", ble.setAdvData, [1, 2])
check("service uuid type 2", ble.addService, 1, 1, 2, 0x180F, Z)
check("service uuid_l 17", ble.addService, 1, 1, 0, 0, bytearray(17))
check("chara prop 0x100", ble.addChara, 1, 1, 0x100, 1, 0x2A19, Z)
check("value permission 0x1000", ble.addCharaValue, 1, 1, 0x1000, 1, 0x2A19, Z, b"")
check("desc permission 0x1000", ble.addCharaDesc, 1, 1, 0x1000, 1, 0x2902, Z, b"")
check("scan interval 3", ble.setScanParam, 1, 3, 0x50, 0, 0)
check("scan window 0x4001", ble.setScanParam, 1, 0x100, 0x4001, 0, 0)
check("scan mode 2", ble.setScanParam, 2, 0x100, 0x50, 0, 0)
check("connect addr 5", ble.connect, 0, b"12345")
check("connect addr type 2", ble.connect, 2, bytes(6))
check("cancel addr 7", ble.cancelConnect, bytes(7))
check("scan filter 2", ble.setScanFilter, 2)
check("notify handle 0x10000", ble.sendNotification, 0, 0x10000, b"x")
check("read offset -1", ble.readCharaByHandle, 0, 3, -1, 0)
check("mtu 22", ble.exchangeMtu, 0, 22)
check("smp io_cap 5", ble.smpSetConfig, 5, 0, 0, 30)
check("smp confirm op 3", ble.smpUserConfirm, 0, 3, 0)

# -- started, in the server role ----------------------------------------------------------
check("gattStart", ble.gattStart)
utime.sleep_ms(10)
check("gattStart again", ble.gattStart)
check("status", ble.getStatus)
check("setLocalName", ble.setLocalName, 0, "Quectel_ble")
check("addChara unknown service", ble.addChara, 9, 1, 0x02, 1, 0x2A19, Z)
check("addService", ble.addService, 1, 1, 1, 0x180F, Z)
check("addService same id", ble.addService, 1, 1, 1, 0x180F, Z)
check("addChara", ble.addChara, 1, 1, 0x02, 1, 0x2A19, Z)
check("addCharaValue unknown chara", ble.addCharaValue, 1, 7, 1, 1, 0x2A19, Z, b"\\x01")
check("addCharaValue", ble.addCharaValue, 1, 1, 1, 1, 0x2A19, Z, b"\\x01")
check("addOrClearService", ble.addOrClearService, 1, 0)
check("changeCharaValue", ble.changeCharaValue, 1, 1, b"\\x02")
check("changeCharaValue unknown", ble.changeCharaValue, 1, 5, b"\\x02")
check("notify no connection", ble.sendNotification, 0, 3, b"x")
check("indicate no connection", ble.sendIndication, 0, 3, b"x")
check("client call scanStart", ble.scanStart)
check("client call connect", ble.connect, 0, bytes(6))
check("client call discover", ble.discoverAllService, 0)
check("disconnect unknown", ble.disconnect, 3)
check("setScanFilter", ble.setScanFilter, 0)
check("adv directed", ble.setAdvParam, 0x300, 0x320, 1, 0, 7, 0, 2, 1, 1)
check("advStart directed", ble.advStart)
check("adv min > max", ble.setAdvParam, 0x320, 0x300, 0, 0, 7, 0, 2, 1, 1)
check("adv param", ble.setAdvParam, 0x300, 0x320, 0, 0, 7, 0, 2, 1, 1)
check("advStart", ble.advStart)
check("serverRelease as client", ble.clientRelease)
check("gattStop", ble.gattStop)
utime.sleep_ms(10)
check("status after stop", ble.getStatus)
check("serverRelease", ble.serverRelease)
check("clientInit after release", ble.clientInit, cb)
print("done")
"""


def test_argument_checks_and_refusals(tmp_path: Path) -> None:
    record = run_world(tmp_path, {"board": CHECKS}, duration="1s")
    assert failures(record) == {}
    out = lines(record, "board")
    results = dict(line.split(": ", 1) for line in out if ": " in line and not line.startswith("event"))
    assert results == {
        "status before start": "0",
        "addr before start": "-1",
        "gattStart before init": "-1",
        "gattStop when stopped": "-1",
        "serverInit": "0",
        "clientInit after serverInit": "-1",
        "advStart before gattStart": "-1",
        "setLocalName before gattStart": "-1",
        "name empty": "ValueError",
        "name 30": "ValueError",
        "name code 2": "ValueError",
        "name int": "TypeError",
        "adv min 0x1f": "ValueError",
        "adv max 0x4001": "ValueError",
        "adv type 5": "ValueError",
        "adv channel 3": "ValueError",
        "adv data 32": "ValueError",
        "adv data empty": "ValueError",
        "rsp data 32": "ValueError",
        "adv data list": "TypeError",
        "service uuid type 2": "ValueError",
        "service uuid_l 17": "ValueError",
        "chara prop 0x100": "ValueError",
        "value permission 0x1000": "ValueError",
        "desc permission 0x1000": "ValueError",
        "scan interval 3": "ValueError",
        "scan window 0x4001": "ValueError",
        "scan mode 2": "ValueError",
        "connect addr 5": "ValueError",
        "connect addr type 2": "ValueError",
        "cancel addr 7": "ValueError",
        "scan filter 2": "ValueError",
        "notify handle 0x10000": "ValueError",
        "read offset -1": "ValueError",
        "mtu 22": "ValueError",
        "smp io_cap 5": "ValueError",
        "smp confirm op 3": "ValueError",
        "gattStart": "0",
        "gattStart again": "-1",
        "status": "1",
        "setLocalName": "0",
        "addChara unknown service": "-1",
        "addService": "0",
        "addService same id": "-1",
        "addChara": "0",
        "addCharaValue unknown chara": "-1",
        "addCharaValue": "0",
        "addOrClearService": "0",
        "changeCharaValue": "0",
        "changeCharaValue unknown": "-1",
        "notify no connection": "-1",
        "indicate no connection": "-1",
        "client call scanStart": "-1",
        "client call connect": "-1",
        "client call discover": "-1",
        "disconnect unknown": "-1",
        "setScanFilter": "0",
        "adv directed": "0",
        "advStart directed": "-1",
        "adv min > max": "-1",
        "adv param": "0",
        "advStart": "0",
        "serverRelease as client": "-1",
        "gattStop": "0",
        "status after stop": "0",
        "serverRelease": "0",
        "clientInit after release": "0",
    }
    # Events 0 and 1 came asynchronously, each after the call that caused it returned.
    assert out.index("gattStart: 0") < out.index("event (0, 0)") < out.index("gattStart again: -1")
    assert out.index("gattStop: 0") < out.index("event (1, 0)") < out.index("status after stop: 0")
    assert out[-1] == "done"
