"""The shipped Quectel scenarios, the starter, and the demo's Quectel node, run end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from emu.starters import write_starter
from tests.apis.quectel.world import REPO, SCENARIOS, assert_in_order, failures, lines, run_file


@pytest.mark.parametrize("name", ["quectel_mpy_client.yaml", "quectel_mpy_server.yaml"])
def test_cross_personality_scenarios_meet_their_expectations(name: str) -> None:
    runner, record = run_file(SCENARIOS / name)
    assert failures(record) == {}
    results = runner.results()
    assert results and all(r.met for r in results), [(r.spec, r.detail) for r in results if not r.met]


def test_micropython_central_against_the_seed_server() -> None:
    _, record = run_file(SCENARIOS / "quectel_mpy_server.yaml")
    assert_in_order(lines(record, "central"), [
        r"found Quectel_ble rssi -\d+",
        r"connected",
        r"notified 3 b'99999'",             # sent by the server from its event 16
        r"service UUID\(0x180f\) 1 4",      # BLE_GATT_SYS_SERVICE = 0: the table starts at 1
        r"characteristic UUID\(0x2a19\) 3 0x32",
        r"read 22 octets",                  # 244 octets cut to ATT_MTU - 1
    ])
    assert_in_order(lines(record, "server"), [r"\[ble_callback\]: event_id=16, status=0",
                                              r"\[ble_callback\]: event_id=22, status=0"])


def test_quectel_client_against_a_micropython_peripheral() -> None:
    _, record = run_file(SCENARIOS / "quectel_mpy_client.yaml")
    assert_in_order(lines(record, "client"), [
        r"event_id : BLE_GATT_START_DISCOVER_SERVICE_IND, status = 0",
        r"start_handle = 0x[0-9a-f]{4}, end_handle = 0x[0-9a-f]{4}, short_uuid = 0x1800",
        r"start_handle = 0x[0-9a-f]{4}, end_handle = 0x[0-9a-f]{4}, short_uuid = 0x1801",
        r"start_handle = 0x[0-9a-f]{4}, end_handle = 0x[0-9a-f]{4}, short_uuid = 0x180f",
        r"short_uuid:0x2a19",
        r"errcode = 0x000a",
        r"handle=0x[0-9a-f]{4}, uuid=0x2902",
        r"event_id : BLE_GATT_RECV_NOTIFICATION_IND, status = 0",
        r"len=3, data:b'\\x15\\x00V'",
    ])


def test_starter_runs_green(tmp_path: Path) -> None:
    path = write_starter(tmp_path / "hello", "hello", "quectel")
    runner, record = run_file(path)
    assert failures(record) == {}
    results = runner.results()
    assert results and all(r.met for r in results), [(r.spec, r.detail) for r in results if not r.met]
    assert "hello-srv" in (tmp_path / "hello" / "firmware" / "main.py").read_text()


def test_demo_gains_a_quectel_gateway(tmp_path: Path) -> None:
    demo = REPO / "emu" / "demo" / "demo.yaml"
    assert "personality: quectel" in demo.read_text(encoding="utf-8")
    runner, record = run_file(demo)
    assert failures(record) == {}
    results = runner.results()
    assert all(r.met for r in results), [(r.spec, r.detail) for r in results if not r.met]
    heard = [line for line in lines(record, "gateway") if line.startswith("gateway heard sensor")]
    assert len(heard) == 1  # one report per device with the default scan filter
