"""Pairing: ``gap_pair``, ``_IRQ_ENCRYPTION_UPDATE`` payloads, numeric comparison through
``_IRQ_PASSKEY_ACTION`` / ``gap_passkey``, and the secret store IRQs of bonding."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.apis.micropython.test_bluetooth_gatts import ADVERTISE, CONNECT, PRELUDE
from tests.apis.micropython.test_bluetooth_rig import failures, lines, run_nodes


def test_just_works_legacy_pairing_without_bonding(tmp_path: Path) -> None:
    server = PRELUDE + ADVERTISE + "print('enc', wait(28))\n"
    client = PRELUDE + CONNECT + "ble.gap_pair(conn)\nprint('enc', wait(28))\n"
    record = run_nodes(tmp_path, {"a": server, "b": client})
    assert failures(record) == []
    # (conn, encrypted, authenticated, bonded, key_size): mitm without IO stays unauthenticated.
    assert lines(record, "a") == ["enc (0, 1, 0, 0, 16)"]
    assert lines(record, "b") == ["enc (0, 1, 0, 0, 16)"]


def test_numeric_comparison_with_le_secure_and_mitm(tmp_path: Path) -> None:
    setup = "ble.config(le_secure=True, mitm=True, io=1, bond=False)\n"
    answer = """
d = wait(31)
print('action', d[1], 0 <= d[2] <= 999999)
ble.gap_passkey(d[0], 4, 1)
print('enc', wait(28))
"""
    server = PRELUDE + setup + ADVERTISE + answer
    client = PRELUDE + setup + CONNECT + "ble.gap_pair(conn)\n" + answer
    record = run_nodes(tmp_path, {"a": server, "b": client})
    assert failures(record) == []
    for node in ("a", "b"):
        assert lines(record, node) == ["action 4 True", "enc (0, 1, 1, 0, 16)"]


def test_bonding_saves_secrets_through_the_irq(tmp_path: Path) -> None:
    store = """
secrets = {}
def handler(event, data):
    if event == 29:
        sec_type, index, key = data
        if key is None:
            values = [v for (t, k), v in sorted(secrets.items()) if t == sec_type]
            return values[index] if index < len(values) else None
        return secrets.get((sec_type, bytes(key)))
    if event == 30:
        sec_type, key, value = data
        secrets[(sec_type, bytes(key))] = value and bytes(value)
        return True
HANDLER = handler
ble.active(False)
ble.active(True)
print('startup', [(e, d[:2]) for e, d in events if e in (29, 30)])
del events[:]
ble.config(bond=True)
"""
    server = PRELUDE + store + ADVERTISE + "print('enc', wait(28))\ntime.sleep_ms(300)\nprint(sorted(k[0] for k in secrets))\n"
    client = PRELUDE + store + CONNECT + "ble.gap_pair(conn)\nprint('enc', wait(28))\ntime.sleep_ms(300)\nprint(sorted(k[0] for k in secrets))\n"
    record = run_nodes(tmp_path, {"a": server, "b": client})
    assert failures(record) == []
    for node in ("a", "b"):
        assert lines(record, node) == [
            # active(1) asks for stored bonds and for the IRK, then stores a new IRK.
            "startup [(29, (2, 0)), (29, (10, 0)), (30, (10, b'irk'))]",
            "enc (0, 1, 0, 1, 16)",
            "[2, 10]",
        ]


def test_btstack_has_no_pairing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    client = PRELUDE + CONNECT + "try:\n    ble.gap_pair(conn)\nexcept OSError as e:\n    print(e.args)\n"
    record = run_nodes(tmp_path, {"a": PRELUDE + ADVERTISE, "b": client}, stacks={"b": "btstack"},
                       monkeypatch=monkeypatch)
    assert lines(record, "b") == ["(95,)"]
