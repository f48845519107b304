"""``Connection.pair(bond=...)`` between two CircuitPython nodes: ``bond=False`` pairs
(link encrypted, ``paired`` True) with Bonding_Flags "No Bonding", so no bond is kept on
either side (host bond store, ``bonds.json`` in the state folder) and a new connection is
unencrypted until paired again; ``bond=True`` stores the bond on both sides, and the next
connection is encrypted with it as soon as it is made."""

from __future__ import annotations

import json
from pathlib import Path

from host.events import EncryptionChanged, PairingComplete

from emu.run import Runner, RunOptions
from emu.scenario import loads_scenario

from .rig import World, _recorder
from .test_adapter import ATTEMPT

PERIPHERAL = ATTEMPT + """
while True:
    adapter.start_advertising(b"\\x02\\x01\\x06\\x05\\x09serv")
    while not adapter.connected:
        time.sleep(0.01)
    while adapter.connected:
        time.sleep(0.01)
"""

CENTRAL = ATTEMPT + """
def connect():
    for entry in adapter.start_scan(prefixes=b"\\x01\\x09", timeout=2):
        break
    adapter.stop_scan()
    return adapter.connect(entry.address, timeout=3)

def drop(conn):
    conn.disconnect()
    while conn.connected:
        time.sleep(0.01)
    time.sleep(0.1)

conn = connect()
print("fresh", conn.paired)
conn.pair(bond=BOND)
print("paired", conn.paired)
drop(conn)
conn = connect()
time.sleep(0.5)
print("reconnected", conn.paired)
conn.pair(bond=BOND)
print("paired again", conn.paired)
drop(conn)
print("done")
"""


def _run(tmp_path: Path, bond: bool) -> World:
    """Like ``rig.run_world``, with the state folders kept in ``tmp_path/state``."""
    (tmp_path / "serv_fw.py").write_text(PERIPHERAL, encoding="utf-8")
    (tmp_path / "cli_fw.py").write_text(CENTRAL.replace("BOND", repr(bond)), encoding="utf-8")
    text = "name: pair-bond\nseed: 1\nduration: 8s\nnodes:\n" + "".join(
        f"  - {{name: {name}, personality: circuitpython, firmware: {name}_fw.py, position: [{x}, 0]}}\n"
        for name, x in (("serv", 0), ("cli", 2))
    )
    scenario = loads_scenario(text, file=str(tmp_path / "test.yaml"), base_dir=tmp_path)
    runner = Runner(scenario, RunOptions(watchdog_s=5.0, state_dir=tmp_path / "state"))
    world = World(runner)
    for name, node in runner.nodes.items():
        world.events[name] = []
        node.host_driver.listeners.append(_recorder(world.events[name]))
    runner.run()
    return world


def _stored_bonds(world: World, node: str) -> list[object]:
    path = world.runner.state_root / node / "bonds.json"
    assert path.parent.is_dir()  # the state folder is kept
    if not path.exists():
        return []
    bonds = json.loads(path.read_text(encoding="utf-8")).get("bonds", [])
    assert isinstance(bonds, list)
    return bonds


def test_pair_without_bond_encrypts_but_keeps_nothing(tmp_path: Path) -> None:
    world = _run(tmp_path, bond=False)
    assert world.output("cli") == [
        "fresh False", "paired True", "reconnected False", "paired again True", "done",
    ]
    assert not world.failures("cli") and not world.failures("serv")
    for node in ("cli", "serv"):
        completes = [e for _, e in world.events_of(node, PairingComplete)]
        assert len(completes) == 2 and all(e.success and not e.result.bonded for e in completes)
        # Encrypted twice: by each pairing, never by a stored key on reconnection.
        assert [e.enabled for _, e in world.events_of(node, EncryptionChanged)] == [True, True]
        bonds = world.host(node).bonds
        assert bonds is None or list(bonds) == []
        assert _stored_bonds(world, node) == []


def test_pair_with_bond_stores_it_on_both_sides(tmp_path: Path) -> None:
    world = _run(tmp_path, bond=True)
    # Reconnecting to a bonded peer, the central encrypts with the bond's key on its own
    # (the Nordic port's connect() calls sd_ble_gap_encrypt), so the link is paired
    # without a second pairing and pair() has nothing left to do.
    assert world.output("cli") == [
        "fresh False", "paired True", "reconnected True", "paired again True", "done",
    ]
    for node in ("cli", "serv"):
        completes = [e for _, e in world.events_of(node, PairingComplete)]
        assert len(completes) == 1 and all(e.success and e.result.bonded for e in completes)
        assert [e.enabled for _, e in world.events_of(node, EncryptionChanged)] == [True, True]
        bonds = world.host(node).bonds
        assert bonds is not None and len(list(bonds)) == 1
        assert len(_stored_bonds(world, node)) == 1
