"""Pairing as NimBLE does it (../shared/reference/micropython.md): ``mitm=True`` only asks
for MITM protection, the displaying side's application picks the passkey with
``gap_passkey(conn, 3, passkey)``, and every pairing or re-encryption gives exactly one
``_IRQ_ENCRYPTION_UPDATE`` on each side."""

from __future__ import annotations

from pathlib import Path

from tests.apis.micropython.test_bluetooth_gatts import ADVERTISE, CONNECT, PRELUDE
from tests.apis.micropython.test_bluetooth_rig import failures, lines, run_nodes

#: Print every _IRQ_ENCRYPTION_UPDATE once things have settled.
REPORT = "time.sleep_ms(500)\nprint('updates', [d for e, d in events if e == 28])\n"


def test_mitm_without_io_pairs_unauthenticated_with_one_update_per_side(tmp_path: Path) -> None:
    setup = "ble.config(mitm=True, le_secure=True)\n"
    server = PRELUDE + setup + ADVERTISE + "print('enc', wait(28))\n" + REPORT
    client = PRELUDE + setup + CONNECT + "ble.gap_pair(conn)\nprint('enc', wait(28))\n" + REPORT
    record = run_nodes(tmp_path, {"a": server, "b": client})
    assert failures(record) == []
    for node in ("a", "b"):
        # No bonding: no keys to distribute, so the pairing ends with the Encryption
        # Change itself; still one update.
        assert lines(record, node) == ["enc (0, 1, 0, 0, 16)", "updates []"]


PASSKEY_SERVER = """
ble.config(mitm=True, le_secure={sc}, io=0)
ble.gap_advertise(20000, b'\\x02\\x01\\x06')
conn = wait(1)[0]
d = wait(31)
print('action', d[1:])
ble.gap_passkey(conn, 3, 777777)
print('enc', wait(28))
"""

PASSKEY_CLIENT = """
ble.config(mitm=True, le_secure={sc}, io=2)
ble.gap_connect(0, b'\\x11"3DUf')
conn = wait(7)[0]
ble.gap_pair(conn)
d = wait(31)
print('action', d[1:])
time.sleep_ms(200)
ble.gap_passkey(conn, 2, {typed})
print('enc', wait(28))
"""


def _passkey_run(tmp_path: Path, sc: bool, typed: int) -> tuple[list[str], list[str]]:
    server = PRELUDE + PASSKEY_SERVER.format(sc=sc) + REPORT
    client = PRELUDE + PASSKEY_CLIENT.format(sc=sc, typed=typed) + REPORT
    record = run_nodes(tmp_path, {"a": server, "b": client})
    assert failures(record) == []
    return lines(record, "a"), lines(record, "b")


def test_the_displaying_application_chooses_the_passkey(tmp_path: Path) -> None:
    for sc in (True, False):
        server, client = _passkey_run(tmp_path, sc, 777777)
        # Display (3) and input (2) both come with passkey 0: the application supplies it.
        assert server == ["action (3, 0)", "enc (0, 1, 1, 0, 16)", "updates []"], sc
        assert client == ["action (2, 0)", "enc (0, 1, 1, 0, 16)", "updates []"], sc


def test_a_passkey_typed_wrong_fails_the_pairing(tmp_path: Path) -> None:
    server, client = _passkey_run(tmp_path, True, 777778)
    assert server == ["action (3, 0)", "enc (0, 0, 0, 0, 0)", "updates []"]
    assert client == ["action (2, 0)", "enc (0, 0, 0, 0, 0)", "updates []"]


def test_gap_passkey_without_a_pending_action_raises_einval(tmp_path: Path) -> None:
    client = PRELUDE + CONNECT + """
try:
    ble.gap_passkey(conn, 3, 123456)
except OSError as e:
    print('error', e.args)
"""
    record = run_nodes(tmp_path, {"a": PRELUDE + ADVERTISE, "b": client})
    assert lines(record, "b") == ["error (22,)"]


def test_security_request_on_a_bonded_reconnection_gives_one_update(tmp_path: Path) -> None:
    # Second connection: the peripheral asks for security, the central encrypts from the
    # bond (no pairing); each side still sees a single _IRQ_ENCRYPTION_UPDATE.
    server = PRELUDE + "ble.config(bond=True)\n" + ADVERTISE + """
print('first', wait(28))
wait(2)
ble.gap_advertise(20000, b'\\x02\\x01\\x06')
conn = wait(1)[0]
time.sleep_ms(100)
ble.gap_pair(conn)
print('second', wait(28)[1:])
""" + REPORT
    client = PRELUDE + "ble.config(bond=True)\n" + CONNECT + """
ble.gap_pair(conn)
print('first', wait(28))
time.sleep_ms(300)
ble.gap_disconnect(conn)
wait(8)
time.sleep_ms(100)
ble.gap_connect(0, b'\\x11"3DUf')
conn = wait(7)[0]
print('second', wait(28)[1:])
""" + REPORT
    record = run_nodes(tmp_path, {"a": server, "b": client}, duration="6s")
    assert failures(record) == []
    for node in ("a", "b"):
        assert lines(record, node) == ["first (0, 1, 0, 1, 16)", "second (1, 0, 1, 16)", "updates []"]
