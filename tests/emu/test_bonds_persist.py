"""A node's bonds live in ``<state_dir>/bonds.json``, written atomically, loaded at boot:
they survive a firmware reboot and a power cycle within a run."""

from __future__ import annotations

import json
from pathlib import Path

from emu.run import RunOptions, Runner, node_bond_store
from emu.scenario import loads_scenario
from host.bonds import Bond, LongTermKey
from linklayer.address import Address

PEER = Address.parse("C0:11:22:33:44:55", random=True)
LTK = LongTermKey(bytes(range(16)), 0, 0, 16, True, True)


def test_the_store_is_written_atomically_and_loaded_back(tmp_path: Path) -> None:
    store = node_bond_store(tmp_path / "node")
    assert len(store) == 0 and not (tmp_path / "node" / "bonds.json").exists()
    store.add(Bond(PEER, peer_irk=bytes(16), local_ltk=LTK, peer_ltk=LTK))
    path = tmp_path / "node" / "bonds.json"
    document = json.loads(path.read_text())
    assert document["version"] == 1 and document["bonds"][0]["peer_address"] == "C0:11:22:33:44:55"
    assert sorted(p.name for p in path.parent.iterdir()) == ["bonds.json"]  # no temporary file left
    again = node_bond_store(tmp_path / "node")
    assert again.get(PEER) == store.get(PEER)
    again.remove(PEER)
    assert len(node_bond_store(tmp_path / "node")) == 0


def test_a_file_that_is_not_a_bond_store_starts_an_empty_one(tmp_path: Path) -> None:
    (tmp_path / "bonds.json").write_text("{not json")
    store = node_bond_store(tmp_path)
    assert len(store) == 0
    store.add(Bond(PEER))
    assert len(node_bond_store(tmp_path)) == 1


CENTRAL = """\
from blesim import device

bonds = device.host.bonds
found = device.find(name="per", timeout_ms=3000)
conn = device.connect(found)
if bonds.find(found.address) is not None:
    device.host.encrypt(conn.handle, device.now)
    device.driver.service()
    device.wait_for(lambda: device.host.smp(conn.handle).security.encrypted, 3000)
    print("encrypted from the bond", device.host.smp(conn.handle).security.bonded)
else:
    conn.pair()
    print("paired", len(bonds))
device.sleep(0.5)  # let the last keys reach the peer before the link goes
conn.disconnect()
"""

PERIPHERAL = """\
from blesim import device

while True:
    device.advertise(name="per", interval_ms=50)
    conn = device.wait_for_connection()
    conn.wait_disconnected()
"""


def test_bonds_survive_a_power_cycle_and_a_reboot(tmp_path: Path) -> None:
    (tmp_path / "central.py").write_text(CENTRAL)
    (tmp_path / "per.py").write_text(PERIPHERAL)
    scenario = loads_scenario(
        "# pairing, then power cycles and a reboot: the bond is still there\n"
        "name: bonds\nduration: 12s\nnodes:\n"
        "  - {name: central, personality: native, firmware: central.py, position: [0, 0]}\n"
        "  - {name: per, personality: native, firmware: per.py, position: [2, 0]}\n"
        "timeline:\n"
        "  - {at: 3s, power: {node: central, on: false}}\n"
        "  - {at: 4s, power: {node: central, on: true}}\n"
        "  - {at: 6s, power: {node: per, on: false}}\n"
        "  - {at: 7s, power: {node: per, on: true}}\n"
        "  - {at: 9s, reboot: {node: central}}\n",
        file="bonds.yaml", base_dir=tmp_path,
    )
    state = tmp_path / "state"
    runner = Runner(scenario, RunOptions(state_dir=state))
    runner.run()
    errors = {n: [f.message for f in r.failures] for n, r in runner.record.nodes.items() if r.failures}
    assert not errors, errors
    lines = [o.text for o in runner.record.nodes["central"].output]
    assert lines == ["paired 1", "encrypted from the bond True", "encrypted from the bond True"]
    for name in ("central", "per"):
        stored = json.loads((state / name / "bonds.json").read_text())
        assert len(stored["bonds"]) == 1 and stored["local_irk"] is not None
