"""Acceptance: the two examples of the QuecPython ble document, verbatim, on two nodes."""

from __future__ import annotations

import re

from tests.apis.quectel.world import SCENARIOS, assert_in_order, lines, run_file

SEED = "/work/shared/seeds/000_987a66f08d70609f.txt"


def test_firmware_files_are_the_seed_examples_verbatim() -> None:
    text = open(SEED, encoding="utf-8").read()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    server = (SCENARIOS / "firmware" / "quectel_battery_server.py").read_text(encoding="utf-8")
    client = (SCENARIOS / "firmware" / "quectel_battery_client.py").read_text(encoding="utf-8")
    assert server == blocks[0] and server.startswith("#BLE Server")
    assert client == blocks[1] and client.startswith("#BLE Client")


def test_battery_server_and_client_find_connect_discover_and_read() -> None:
    runner, record = run_file(SCENARIOS / "quectel_battery.yaml")
    assert not runner.failed_firmware(), {n: r.failures for n, r in record.nodes.items()}
    assert all(result.met for result in runner.results()), [r.detail for r in runner.results()]
    assert_in_order(lines(record, "server"), [
        r"ble_gatt_server_init success\.",
        r"ble_gatt_open success\.",
        r"\[ble_callback\]: event_id=0, status=0",
        r"\[callback\] BLE start success\.",
        r"BLE public addr : ac:6b:1e:f5:33:db",
        r"ble_gatt_add_service_complete success\.",
        r"ble_adv_start success\.",
        r"\[ble_callback\]: event_id=16, status=0",
        r"\[callback\] ble connect successful\.",
        # connect_id 0, and the peer's address in HCI order (least significant octet first)
        r"\[callback\] connect_id = 0, addr = 01:44:f5:1e:6b:ac",
        r"ble_gatt_send_notification success\.",
        r"\[callback\] ble_gatt_send_notification successful\.",
        r"\[ble_callback\]: event_id=25, status=0",
        r"\[callback\] ble send data successful\.",
        r"\[ble_callback\]: event_id=22, status=0",  # the client's read by UUID
        r"attr_handle = 0x0003",
        r"short uuid = 0x2a19",
    ])
    assert_in_order(lines(record, "client"), [
        r"ble client initialize successful\.",
        r"PROJECT_NAME     : QuecPython_BLE_Client_Example",
        r"ble open successful\.",
        r"event_id : BLE_START_STATUS_IND, status = 0",
        r"BLE Status : started\.",
        r"ble client scan successful\.",
        r"name: Quectel_ble, addr: db:33:f5:1e:6b:ac, rssi: -\d+, addr_type: 0",
        r"raw_data: b'\\x02\\x01\\x05\\x0c\\tQuectel_ble'",
        r"ble client scan stopped successfully\.",
        r"ble client connect successful\.",
        r"event_id : BLE_CONNECT_IND, status = 0",
        r"connect_id : 0x0, connect_addr : db:33:f5:1e:6b:ac",
        r"event_id : BLE_GATT_START_DISCOVER_SERVICE_IND, status = 0",
        r"execute the function discover_all_service\.",
        r"event_id : BLE_GATT_DISCOVER_SERVICE_IND, status = 0",
        r"start_handle = 0x0001, end_handle = 0x0004, short_uuid = 0x180f",
        r"execute the function discover_all_characteristic\.",
        r"event_id : BLE_GATT_DISCOVER_CHARACTERISTIC_DATA_IND, status = 0",
        r"pair_len=7, len=8, data:b'\\x07\\x02\\x002\\x03\\x00\\x19\*'",
        r"handle=0x0002, properties=0x32, value_handle=0x0003",
        r"short_uuid:0x2a19",
        r"event_id : BLE_GATT_ATT_ERROR_IND, status = 0",
        r"errcode = 0x000a",
        r"execute the function discover_all_characteristic_descriptor\.",
        r"\[1\]start_handle = 0x0003, end_handle = 0x0004",
        r"event_id : BLE_GATT_DISCOVER_CHARA_DESC_IND, status = 0",
        r"fmt=1, len=5, data:b'\\x01\\x04\\x00\\x02\)'",
        r"handle=0x0004, uuid=0x2902",
        r"execute the function read_characteristic_by_uuid\.",
        r"event_id : BLE_GATT_CHARA_READ_BY_UUID_IND, status = 0",
        # Read By Type response at the default ATT_MTU 23: length 21, handle 3, 19 value octets
        r"data_len = 22, data : b'\\x15\\x03\\x00(\\x00){19}'",
        r"handle = 0x0003",
        r"\[00:00:05\] BLE Client running, count = 5\.\.\.\.\.\.",
    ])
    # The server notified at once on its connection (cid 0, value handle 1 + 2): the client got it.
    assert_in_order(lines(record, "client"), [
        r"event_id : BLE_GATT_RECV_NOTIFICATION_IND, status = 0",
        r"len=7, data:b'\\x03\\x0099999'",
        r"handle = 0x0003",
    ])


def test_battery_run_is_deterministic() -> None:
    _, first = run_file(SCENARIOS / "quectel_battery.yaml")
    _, second = run_file(SCENARIOS / "quectel_battery.yaml")
    assert first.nodes["client"].output == second.nodes["client"].output
    assert first.nodes["server"].output == second.nodes["server"].output
