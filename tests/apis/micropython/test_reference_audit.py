"""Behaviours of ``/work/shared/reference/micropython.md`` that no other test pinned down.

Each test names the reference item it checks; each would fail if the personality
behaved otherwise: ``gap_scan()`` without arguments scanning until stopped, the 2 s
default ``gap_connect`` timeout and its connection parameters on the air, scan results
without duplicate filtering, advertising stopping on connection and ``adv_data=None``
reusing the data, notifications and indications cut to ATT_MTU-3, read requests for
user descriptors but not for CCCDs, ``_IRQ_MTU_EXCHANGED`` with the smaller MTU on both
sides, and ``config('mac')`` of a node without a public address.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from emu.records import AirPacket, RunRecord
from emu.run import Runner, RunOptions
from emu.scenario import loads_scenario
from tests.apis.micropython.test_bluetooth_gatts import ADVERTISE, CONNECT, PRELUDE, SERVICE
from tests.apis.micropython.test_bluetooth_rig import addr_bytes, failures, lines, run_nodes

#: Advertising channel access address (Vol 6 Part B 2.1.2).
ADV_ACCESS_ADDRESS = 0x8E89BED6
ADV_IND, CONNECT_IND = 0x0, 0x5
ADV_DATA = b"\x02\x01\x06\x05\xff\xa1\xa2\xa3\xa4"


def _adv_pdus(record: RunRecord, node: str, pdu_type: int) -> list[AirPacket]:
    return [
        p for p in record.air
        if p.node == node and p.access_address == ADV_ACCESS_ADDRESS and p.pdu and p.pdu[0] & 0x0F == pdu_type
    ]


def test_gap_scan_without_arguments_scans_until_stopped(tmp_path: Path) -> None:
    """Reference: ``gap_scan`` defaults are forever, 1.28 s / 11.25 ms, passive."""
    scanner = PRELUDE + """
ble.gap_scan()
time.sleep_ms(3000)
print('done before stop', seen(6))
n = len(seen(5))
ble.gap_scan(None)
print('done', wait(6), last[6])
print('results', n > 1)
"""
    advertiser = "import bluetooth\nble = bluetooth.BLE()\nble.active(1)\nble.gap_advertise(20000, %r)\n" % ADV_DATA
    record = run_nodes(tmp_path, {"a": scanner, "b": advertiser}, duration="5s")
    assert failures(record) == []
    assert lines(record, "a") == ["done before stop []", "done () 3000", "results True"]


def test_gap_connect_default_timeout_is_two_seconds(tmp_path: Path) -> None:
    """Reference: the default scan timeout is 2000 ms, then
    ``_IRQ_PERIPHERAL_DISCONNECT (65535, 255, b'\\x00'*6)``; ``gap_disconnect`` of a
    handle that is not connected returns False."""
    record = run_nodes(tmp_path, {"a": PRELUDE + """
print('not connected', ble.gap_disconnect(5))
ble.gap_connect(0, b'\\x01\\x02\\x03\\x04\\x05\\x06')
print('timeout', wait(8), last[8])
"""})
    assert lines(record, "a") == ["not connected False", f"timeout (65535, 255, {bytes(6)!r}) 2000"]


def test_gap_connect_default_parameters_on_the_air(tmp_path: Path) -> None:
    """Reference: default parameters interval 30-50 ms, latency 0, supervision 2.56 s."""
    server = PRELUDE + ADVERTISE + "time.sleep_ms(300)\n"
    client = PRELUDE + CONNECT + "time.sleep_ms(300)\n"
    record = run_nodes(tmp_path, {"a": server, "b": client}, duration="1s")
    assert failures(record) == []
    (pdu,) = {p.pdu for p in _adv_pdus(record, "b", CONNECT_IND)}
    # Header (2), InitA (6), AdvA (6), then LLData: AA 4, CRCInit 3, WinSize 1,
    # WinOffset 2, Interval 2, Latency 2, Timeout 2 (Vol 6 Part B 2.3.3.1).
    lldata = pdu[14:]
    interval = int.from_bytes(lldata[10:12], "little")
    latency = int.from_bytes(lldata[12:14], "little")
    timeout = int.from_bytes(lldata[14:16], "little")
    assert 24 <= interval <= 40  # 30-50 ms in 1.25 ms units
    assert (latency, timeout) == (0, 256)


def test_scan_results_are_not_filtered_for_duplicates(tmp_path: Path) -> None:
    """Reference: ``_IRQ_SCAN_RESULT`` without duplicate filtering."""
    scanner = PRELUDE + """
ble.gap_scan(1000, 30000, 30000)
wait(6, 2000)
print(len([d for d in seen(5) if d[1] == %r]) >= 5)
""" % addr_bytes("b")
    advertiser = "import bluetooth\nble = bluetooth.BLE()\nble.active(1)\nble.gap_advertise(50000, %r)\n" % ADV_DATA
    record = run_nodes(tmp_path, {"a": scanner, "b": advertiser}, duration="2s")
    assert lines(record, "a") == ["True"]


def test_advertising_stops_on_connection_and_none_reuses_the_data(tmp_path: Path) -> None:
    """Reference: advertising stops on connection, so programs re-advertise;
    ``adv_data=None`` keeps the previous data."""
    server = PRELUDE + """
ble.gap_advertise(20000, %r)
conn = wait(1)[0]
time.sleep_ms(500)
print('again at', time.ticks_ms())
ble.gap_advertise(20000)
time.sleep_ms(300)
""" % ADV_DATA
    client = PRELUDE + CONNECT + "time.sleep_ms(1500)\n"
    record = run_nodes(tmp_path, {"a": server, "b": client}, duration="2s")
    assert failures(record) == []
    (out,) = lines(record, "a")
    again_ns = int(out.split()[-1]) * 1_000_000
    (span,) = record.connections
    adv = _adv_pdus(record, "a", ADV_IND)
    before = [p for p in adv if p.start_ns < span.start_ns]
    between = [p for p in adv if span.start_ns <= p.start_ns < again_ns]
    after = [p for p in adv if p.start_ns >= again_ns]
    assert before and after
    assert between == []
    assert {p.pdu[8:] for p in after} == {ADV_DATA}


def test_notifications_and_indications_are_cut_to_mtu_minus_3(tmp_path: Path) -> None:
    """Reference: notifications are silently truncated to MTU-3 (ATT_MTU 23 here)."""
    server = PRELUDE + SERVICE + """
F = bluetooth.FLAG_READ | bluetooth.FLAG_NOTIFY | bluetooth.FLAG_INDICATE
((h,),) = ble.gatts_register_services(((S, ((C1, F),)),))
""" + ADVERTISE + """
time.sleep_ms(200)
ble.gatts_notify(conn, h, b'n' * 30)
ble.gatts_indicate(conn, h, b'i' * 30)
print('indicate done', wait(20))
"""
    client = PRELUDE + CONNECT + """
print('notify', wait(18))
print('indicate', wait(19))
"""
    record = run_nodes(tmp_path, {"a": server, "b": client})
    assert failures(record) == []
    assert lines(record, "b") == [f"notify (0, 21, {b'n' * 20!r})", f"indicate (0, 21, {b'i' * 20!r})"]
    assert lines(record, "a") == ["indicate done (0, 21, 0)"]


def test_read_request_fires_for_user_descriptors_but_not_cccds(tmp_path: Path) -> None:
    """Reference: ``_IRQ_GATTS_READ_REQUEST`` for every client read of a characteristic
    and of user descriptors, not for CCCDs."""
    server = PRELUDE + SERVICE + """
F = bluetooth.FLAG_READ | bluetooth.FLAG_NOTIFY
((h, d),) = ble.gatts_register_services(((S, ((C1, F, ((D1, 1),)),)),))
ble.gatts_write(d, b'about')
print('handles', h, d)
""" + ADVERTISE + """
time.sleep_ms(1000)
print('read requests', seen(4))
"""
    client = PRELUDE + CONNECT + """
ble.gattc_read(conn, 23)
print(wait(15), wait(16))
ble.gattc_read(conn, 22)
print(wait(15), wait(16))
"""
    record = run_nodes(tmp_path, {"a": server, "b": client})
    assert failures(record) == []
    # The CCCD (22) sits between the value (21) and the user descriptor (23).
    assert lines(record, "a") == ["handles 21 23", "read requests [(0, 23)]"]
    assert lines(record, "b") == ["(0, 23, b'about') (0, 23, 0)", "(0, 22, b'\\x00\\x00') (0, 22, 0)"]


@pytest.mark.parametrize(("server_mtu", "client_mtu", "expected"), [(100, 256, 100), (256, 64, 64)])
def test_mtu_exchanged_gives_the_smaller_mtu_on_both_sides(
    tmp_path: Path, server_mtu: int, client_mtu: int, expected: int
) -> None:
    """Reference: ``_IRQ_MTU_EXCHANGED (conn, mtu)`` fires on both sides with the minimum."""
    server = PRELUDE.replace("ble.active(True)", f"ble.active(True)\nble.config(mtu={server_mtu})", 1) + ADVERTISE + """
print('mtu', wait(21))
"""
    client = PRELUDE.replace("ble.active(True)", f"ble.active(True)\nble.config(mtu={client_mtu})", 1) + CONNECT + """
ble.gattc_exchange_mtu(conn)
print('mtu', wait(21))
"""
    record = run_nodes(tmp_path, {"a": server, "b": client})
    assert failures(record) == []
    assert lines(record, "a") == [f"mtu (0, {expected})"]
    assert lines(record, "b") == [f"mtu (0, {expected})"]


def test_mac_without_a_public_address_is_the_static_random_one(tmp_path: Path) -> None:
    """Reference: ``config('mac')`` is the public address if the controller has one,
    otherwise a static random address (top bits 0xC0)."""
    firmware = tmp_path / "a.py"
    firmware.write_text(textwrap.dedent("""
        import bluetooth
        ble = bluetooth.BLE()
        ble.active(1)
        t, mac = ble.config('mac')
        print(t, bytes(mac).hex(), hex(mac[0] & 0xC0))
    """), encoding="utf-8")
    text = (
        "name: rig\nseed: 1\nduration: 1s\nnodes:\n"
        "  - {name: a, personality: micropython, firmware: a.py, position: [0, 0], "
        "address: \"C1:22:33:44:55:66\", address_type: random}\n"
    )
    record = Runner(loads_scenario(text, base_dir=tmp_path), RunOptions(state_dir=tmp_path / "state")).run()
    assert failures(record) == []
    assert lines(record, "a") == ["1 c12233445566 0xc0"]


def test_full_service_discovery_ends_the_last_service_at_0xffff(tmp_path: Path) -> None:
    """Reference: the NimBLE server reports end handle 0xFFFF for the last service in Read
    By Group Type; discovery by UUID gives the real end."""
    server = PRELUDE + SERVICE + """
ble.gatts_register_services(((S, ((C1, bluetooth.FLAG_READ),)), (bluetooth.UUID(0x180F), ((bluetooth.UUID(0x2A19), bluetooth.FLAG_READ),))))
""" + ADVERTISE + "time.sleep_ms(2000)\n"
    client = PRELUDE + CONNECT + """
ble.gattc_discover_services(conn)
wait(10)
print([d[1:3] for d in seen(9)])
ble.gattc_discover_services(conn, bluetooth.UUID(0x180F))
wait(10)
print([d[1:3] for d in seen(9)][-1])
"""
    record = run_nodes(tmp_path, {"a": server, "b": client})
    assert failures(record) == []
    assert lines(record, "b") == ["[(10, 14), (15, 18), (19, 21), (22, 65535)]", "(22, 24)"]


def test_multitest_output_is_right_stripped_and_noise_lines_are_dropped(tmp_path: Path) -> None:
    """Reference (multitest format): lines are ``rstrip``ped and lines containing an
    ``IGNORE_OUTPUT_MATCHES`` string are dropped before the comparison."""
    from apis.micropython.multitest import IGNORE_OUTPUT_MATCHES, run_multitest

    path = tmp_path / "noise.py"
    path.write_text(textwrap.dedent("""
        def instance0():
            multitest.next()
            print("kept   ")
            print("x libusb: error -1 y")
            print("USB Path: 1.2")
            print("last\\t")
        def instance1():
            multitest.next()
    """).lstrip("\n"), encoding="utf-8")
    path.with_name("noise.py.exp").write_text("--- instance0 ---\nkept\nlast\n--- instance1 ---\n\n", encoding="utf-8")
    assert "libusb: error " in IGNORE_OUTPUT_MATCHES
    result = run_multitest(path)
    assert result.output == "--- instance0 ---\nkept\nlast\n--- instance1 ---\n\n"
    assert result.status == "pass"


def test_gap_advertise_while_advertising_restarts_with_the_new_data(tmp_path: Path) -> None:
    """NimBLE's ``mp_bluetooth_gap_advertise_start`` stops a running advertisement first,
    so calling ``gap_advertise`` again changes the data on the air (no error)."""
    other = b"\x02\x01\x06\x03\xff\xb1\xb2"
    advertiser = PRELUDE + """
ble.gap_advertise(30000, %r)
time.sleep_ms(500)
ble.gap_advertise(30000, %r)
print('again at', time.ticks_ms())
time.sleep_ms(500)
""" % (ADV_DATA, other)
    record = run_nodes(tmp_path, {"a": advertiser}, duration="1100ms")
    assert failures(record) == []
    (out,) = lines(record, "a")
    again_ns = int(out.split()[-1]) * 1_000_000
    adv = _adv_pdus(record, "a", ADV_IND)
    assert {p.pdu[8:] for p in adv if p.start_ns < again_ns} == {ADV_DATA}
    assert {p.pdu[8:] for p in adv if p.start_ns > again_ns} == {other}


@pytest.mark.parametrize(("stack", "handles", "result"), [
    # NimBLE: descriptor flags are ATT flags, 0x02 is write only: Read Not Permitted.
    ("nimble", "21 22", "[] (0, 22, 258)"),
    # BTstack: descriptor flags are characteristic flags, 0x02 is FLAG_READ.
    ("btstack", "9 10", "[(0, 10, b'desc')] (0, 10, 0)"),
])
def test_descriptor_flags_per_stack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stack: str, handles: str, result: str
) -> None:
    server = PRELUDE + SERVICE + """
((h, d),) = ble.gatts_register_services(((S, ((C1, bluetooth.FLAG_READ, ((D1, bluetooth.FLAG_READ),)),)),))
ble.gatts_write(d, b'desc')
print(h, d)
""" + ADVERTISE + "time.sleep_ms(1500)\n"
    handle = handles.split()[1]
    client = PRELUDE + CONNECT + f"""
ble.gattc_read(conn, {handle})
done = wait(16)
print(seen(15), done)
"""
    record = run_nodes(tmp_path, {"a": server, "b": client}, stacks={"a": stack}, monkeypatch=monkeypatch)
    assert failures(record) == []
    assert lines(record, "a") == [handles]
    assert lines(record, "b") == [result]
