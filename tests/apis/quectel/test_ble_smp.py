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


# -- smpSetConfig's passkey and timeout, Just Works confirmation (event 64, modes 1/5) ---------

GENERIC_SERVER = """
import ble

Z = bytearray(16)
IO, AUTH, PASSKEY, TIMEOUT, OP = {io}, {auth}, {passkey}, {timeout}, {op}


def cb(args):
    print("EV", repr(args))
    if args[0] == 0:
        print("config", ble.smpSetConfig(IO, AUTH, PASSKEY, TIMEOUT))
        ble.setAdvData(bytearray([2, 1, 6, 5, 9]) + b"qsmp")
        ble.addService(1, 1, 1, 0x180F, Z)
        ble.addChara(1, 1, 0x02, 1, 0x2A19, Z)
        ble.addCharaValue(1, 1, 0x0001, 1, 0x2A19, Z, b"\\x55")
        ble.addOrClearService(1, 0)
        ble.advStart()
    elif args[0] == 64 and OP is not None:
        print("confirm", ble.smpUserConfirm(args[2], OP, 0))


ble.serverInit(cb)
ble.gattStart()
"""

GENERIC_CLIENT = """
import ble

IO, AUTH, PASSKEY, TIMEOUT = {io}, {auth}, {passkey}, {timeout}
ANSWER = {answer}


def cb(args):
    if args[0] != 19:
        print("EV", repr(args))
    if args[0] == 0:
        print("config", ble.smpSetConfig(IO, AUTH, PASSKEY, TIMEOUT))
        ble.setScanParam(1, 0x40, 0x20, 0, 0)
        ble.scanStart()
    elif args[0] == 19 and args[3] == "qsmp":
        ble.scanStop()
        ble.connect(args[4], args[5])
    elif args[0] == 16:
        print("pair", ble.smpStartPair(args[2]))
    elif args[0] == 64 and ANSWER is not None:
        print("confirm", ble.smpUserConfirm(args[2], *ANSWER))


ble.clientInit(cb)
ble.gattStart()
"""


def _server(io: int, auth: int, passkey: int = 0, timeout: int = 30, op: int | None = 1) -> str:
    return GENERIC_SERVER.format(io=io, auth=auth, passkey=passkey, timeout=timeout, op=op)


def _client(io: int, auth: int, answer: tuple[int, int] | None, passkey: int = 0, timeout: int = 30) -> str:
    return GENERIC_CLIENT.format(io=io, auth=auth, passkey=passkey, timeout=timeout, answer=answer)


def test_passkey_entry_shows_the_configured_passkey(tmp_path: Path) -> None:
    # Server DisplayOnly with passkey 123456, client KeyboardOnly types it (op 2 + PIN).
    server = _server(io=0, auth=0x0D, passkey=123456, op=None)
    client = _client(io=2, auth=0x0D, answer=(2, 123456))
    record = run_world(tmp_path, {"server": server, "client": client}, duration="5s")
    assert failures(record) == {}
    assert_in_order(lines(record, "server"), [
        r"config 0",
        r"EV \(64, 0, 0, 7, 123456\)",   # SC passkey output, with the configured PIN
        r"EV \(63, 0\)",
    ])
    assert_in_order(lines(record, "client"), [
        r"pair 0",
        r"EV \(64, 0, 0, 8, 0\)",        # SC passkey input
        r"confirm 0",
        r"EV \(63, 0\)",
    ])


def test_legacy_passkey_entry_modes_and_a_wrong_pin(tmp_path: Path) -> None:
    # Legacy (no SC bit): modes 2 and 3; the client types a wrong PIN.
    server = _server(io=0, auth=0x05, passkey=111111, op=None)
    client = _client(io=2, auth=0x05, answer=(2, 222222))
    record = run_world(tmp_path, {"server": server, "client": client}, duration="5s")
    assert failures(record) == {}
    assert_in_order(lines(record, "server"), [r"EV \(64, 0, 0, 2, 111111\)", r"EV \(63, 4\)"])
    # Confirm Value Failed (0x04), sent by the client that checks the server's confirm.
    assert_in_order(lines(record, "client"), [r"EV \(64, 0, 0, 3, 0\)", r"confirm 0", r"EV \(63, 4\)"])


def test_just_works_waits_for_both_users_to_confirm(tmp_path: Path) -> None:
    server = _server(io=3, auth=0x09)
    client = _client(io=3, auth=0x09, answer=(1, 0))
    record = run_world(tmp_path, {"server": server, "client": client}, duration="5s")
    assert failures(record) == {}
    for node in ("server", "client"):
        assert_in_order(lines(record, node), [r"EV \(64, 0, 0, 5, 0\)", r"confirm 0", r"EV \(63, 0\)"])
    # Legacy Just Works is mode 1.
    record = run_world(tmp_path, {"server": _server(io=3, auth=0x01), "client": _client(io=3, auth=0x01, answer=(1, 0))})
    for node in ("server", "client"):
        assert_in_order(lines(record, node), [r"EV \(64, 0, 0, 1, 0\)", r"confirm 0", r"EV \(63, 0\)"])


def test_just_works_refused_ends_with_pairing_not_supported(tmp_path: Path) -> None:
    server = _server(io=3, auth=0x09, op=0)
    client = _client(io=3, auth=0x09, answer=(1, 0))
    record = run_world(tmp_path, {"server": server, "client": client}, duration="5s")
    assert failures(record) == {}
    # The server (responder) is asked first, before its Pairing Response, and refuses.
    assert_in_order(lines(record, "server"), [r"EV \(64, 0, 0, 5, 0\)", r"confirm 0", r"EV \(63, 5\)"])
    client_lines = lines(record, "client")
    assert_in_order(client_lines, [r"pair 0", r"EV \(63, 5\)"])
    assert not any(line.startswith("EV (64") for line in client_lines)


def test_the_configured_timeout_ends_an_unanswered_pairing(tmp_path: Path) -> None:
    # The client never types the PIN; its 3 s timeout ends the pairing long before 30 s.
    server = _server(io=0, auth=0x0D, passkey=123456, timeout=60, op=None)
    client = _client(io=2, auth=0x0D, answer=None, timeout=3)
    record = run_world(tmp_path, {"server": server, "client": client}, duration="8s")
    assert failures(record) == {}
    out = {line.text: line.t_ns for line in record.nodes["client"].output}
    assert "EV (63, 1)" in out
    waited = out["EV (63, 1)"] - out["pair 0"]
    assert 3_000_000_000 <= waited < 3_200_000_000


def test_get_config_reports_the_configuration(tmp_path: Path) -> None:
    probe = """
import ble


def cb(args):
    if args[0] == 0:
        print("default", ble.smpGetConfig())
        print("set", ble.smpSetConfig(1, 0x09, 42, 12))
        print("now", ble.smpGetConfig())


ble.serverInit(cb)
ble.gattStart()
"""
    record = run_world(tmp_path, {"node": probe}, duration="1s")
    assert failures(record) == {}
    # Default AuthReq 41: bonding, SC and CT2; the SMP timer's 30 s.
    assert lines(record, "node") == ["default (3, 41, 0, 30)", "set 0", "now (1, 9, 42, 12)"]
