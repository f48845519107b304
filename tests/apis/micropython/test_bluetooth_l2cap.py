"""``BLE.l2cap_*``: channel set-up from both IRQ sides, credit-based flow control through
``l2cap_recvinto``, stalls and ``_IRQ_L2CAP_SEND_READY``, refusal by the accept IRQ,
disconnection, one channel at a time, and BTstack's lack of L2CAP."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.apis.micropython.test_bluetooth_gatts import ADVERTISE, CONNECT, PRELUDE, SERVICE
from tests.apis.micropython.test_bluetooth_rig import failures, lines, run_nodes

PSM = 0x80


def test_channel_with_flow_control(tmp_path: Path) -> None:
    server = PRELUDE + f"""
ble.l2cap_listen({PSM}, 256)
try:
    ble.l2cap_listen({PSM}, 256)
except OSError as e:
    print('listen again', e.args)
""" + ADVERTISE + """
print('accept', wait(22))
print('connect', wait(23))
conn, cid = seen(23) or (conn, None), None
buf = bytearray(64)
received = bytearray()
while len(received) < 600:
    d = wait(25)
    time.sleep_ms(100)              # the application is slow: the peer must wait
    n = ble.l2cap_recvinto(d[0], d[1], None)
    while n:
        got = ble.l2cap_recvinto(d[0], d[1], buf)
        received += buf[:got]
        n = ble.l2cap_recvinto(d[0], d[1], None)
print('received', len(received), bytes(received[::100]))
print('disconnect', wait(24))
"""
    client = PRELUDE + CONNECT + f"""
ble.l2cap_connect(conn, {PSM}, 256)
d = wait(23)
print('connect', d)
cid = d[1]
sent = [ble.l2cap_send(conn, cid, bytes([65 + i]) * 200) for i in range(2)]
print('sent', sent)
try:
    ble.l2cap_send(conn, cid, b'x' * 300)
except OSError as e:
    print('too long', e.args)
ok = ble.l2cap_send(conn, cid, b'C' * 200)
print('third', ok)
if not ok:
    print('ready', wait(26))
time.sleep_ms(800)
ble.l2cap_disconnect(conn, cid)
print('disconnect', wait(24))
"""
    record = run_nodes(tmp_path, {"a": server, "b": client}, duration="5s")
    assert failures(record) == []
    a, b = lines(record, "a"), lines(record, "b")
    assert a[0] == "listen again (114,)"
    assert a[1].startswith("accept (0, ") and a[1].endswith(f", {PSM}, 256, 256)")
    assert a[2].startswith("connect (0, ") and a[2].endswith(f", {PSM}, 256, 256)")
    assert a[3:] == ["received 600 b'AABBCC'", a[4]]
    assert a[4].startswith("disconnect (0, ") and a[4].endswith(f", {PSM}, 0)")
    assert b[0].startswith("connect (0, ") and b[0].endswith(f", {PSM}, 256, 256)")
    # Credits for one 256-octet SDU (two K-frames): two 200-octet SDUs leave, the third
    # waits until the server has read the first one.
    assert b[1:4] == ["sent [True, True]", "too long (22,)", "third False"]
    assert b[4].startswith("ready (0, ") and b[4].endswith(", 0)")
    assert b[5].startswith("disconnect (0, ") and b[5].endswith(f", {PSM}, 0)")


def test_refused_and_unknown_psm(tmp_path: Path) -> None:
    server = PRELUDE + f"""
HANDLER = lambda event, data: 1 if event == 22 else None
ble.l2cap_listen({PSM}, 128)
""" + ADVERTISE + """
print('accept', wait(22)[2:])
time.sleep_ms(500)
print('connects', seen(23))
"""
    client = PRELUDE + CONNECT + f"""
ble.l2cap_connect(conn, {PSM}, 128)
print('refused', wait(24)[2:])
ble.l2cap_connect(conn, {PSM + 1}, 128)
print('unknown psm', wait(24)[2:])
try:
    ble.l2cap_send(conn, 0x40, b'x')
except OSError as e:
    print('no channel', e.args)
"""
    record = run_nodes(tmp_path, {"a": server, "b": client})
    # NimBLE statuses: a refusal is BLE_HS_ENOMEM (6), an unknown PSM BLE_HS_ENOTSUP (8).
    assert lines(record, "b") == [f"refused ({PSM}, 6)", f"unknown psm ({PSM + 1}, 8)", "no channel (107,)"]
    assert lines(record, "a") == [f"accept ({PSM}, 128, 128)", "connects []"]


def test_btstack_has_no_l2cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record = run_nodes(
        tmp_path,
        {"a": PRELUDE + "try:\n    ble.l2cap_listen(0x80, 100)\nexcept OSError as e:\n    print(e.args)\n"},
        stacks={"a": "btstack"},
        monkeypatch=monkeypatch,
    )
    assert lines(record, "a") == ["(95,)"]


def test_a_refusal_counts_while_another_irq_is_being_handled(tmp_path: Path) -> None:
    # NimBLE asks the accept IRQ from inside the stack and waits for its answer, even when
    # the handler is still busy with an earlier event (here a slow _IRQ_GATTS_WRITE):
    # the refusal is honoured, the channel never opens.
    server = PRELUDE + SERVICE + f"""
def handler(event, data):
    if event == 3:
        time.sleep_ms(30)
        return None
    return 1 if event == 22 else None
HANDLER = handler
((value,),) = ble.gatts_register_services(((S, ((C1, bluetooth.FLAG_WRITE_NO_RESPONSE),)),))
ble.l2cap_listen({PSM}, 128)
""" + ADVERTISE + """
print('write', wait(3)[1] == value)
print('accept', wait(22)[2:])
time.sleep_ms(500)
print('connects', seen(23))
"""
    client = PRELUDE + CONNECT + f"""
time.sleep_ms(200)
ble.gattc_write(conn, 21, b'x', 0)
ble.l2cap_connect(conn, {PSM}, 128)
print('result', wait(24)[2:])
"""
    record = run_nodes(tmp_path, {"a": server, "b": client})
    assert failures(record) == []
    assert lines(record, "a") == ["write True", f"accept ({PSM}, 128, 128)", "connects []"]
    assert lines(record, "b") == [f"result ({PSM}, 6)"]
