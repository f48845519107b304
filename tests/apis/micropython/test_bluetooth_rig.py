"""A two-node rig for the ``bluetooth`` tests, and the tests of the rig itself.

:func:`run_nodes` writes each node's MicroPython firmware into a temporary folder, runs
them as a scenario (``emu.run.Runner``) on simulated time and returns the run record;
:func:`lines` gives one node's printed lines. Nodes get fixed public addresses
(``ADDR[name]``) so firmware can connect without a scan. ``stacks`` picks the BTstack
build for some nodes (the ``stack`` node object the personality reads).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import apis.micropython as mpy
from emu.records import RunRecord
from emu.run import Runner, RunOptions
from emu.scenario import loads_scenario

#: Printed (MSB-first) public addresses of the rig's nodes.
ADDR = {
    "a": "11:22:33:44:55:66",
    "b": "11:22:33:44:55:77",
    "c": "11:22:33:44:55:88",
}


def addr_bytes(name: str) -> bytes:
    """The address as ``config('mac')`` and IRQ payloads give it (MSB first)."""
    return bytes.fromhex(ADDR[name].replace(":", ""))


def run_nodes(
    tmp_path: Path,
    firmware: dict[str, str],
    *,
    duration: str = "4s",
    seed: int = 1,
    stacks: dict[str, str] | None = None,
    monkeypatch: pytest.MonkeyPatch | None = None,
) -> RunRecord:
    """Run one MicroPython node per ``firmware`` entry (name -> source) and return the record."""
    nodes = []
    for i, (name, source) in enumerate(firmware.items()):
        path = tmp_path / f"{name}.py"
        path.write_text(textwrap.dedent(source), encoding="utf-8")
        nodes.append(
            f"  - {{name: {name}, personality: micropython, firmware: {name}.py, "
            f"position: [{i * 2}, 0], address: \"{ADDR[name]}\"}}\n"
        )
    text = f"name: rig\nseed: {seed}\nduration: {duration}\nnodes:\n" + "".join(nodes)
    if stacks:
        if monkeypatch is None:
            raise ValueError("stacks needs monkeypatch")
        chosen = dict(stacks)
        monkeypatch.setattr(mpy, "node_stack", lambda ctx: chosen.get(ctx.name, "nimble"))
    scenario = loads_scenario(text, base_dir=tmp_path)
    runner = Runner(scenario, RunOptions(state_dir=tmp_path / "state"))
    return runner.run()


def lines(record: RunRecord, node: str) -> list[str]:
    """What ``node`` printed, line by line."""
    return [line.text for line in record.nodes[node].output]


def failures(record: RunRecord) -> list[str]:
    return [f.message for node in record.nodes.values() for f in node.failures]


# -- the rig itself --------------------------------------------------------------------------


def test_rig_runs_firmware_and_collects_output(tmp_path: Path) -> None:
    record = run_nodes(tmp_path, {"a": "print('hello')\nimport bluetooth\nprint(bluetooth.BLE().active())\n"})
    assert lines(record, "a") == ["hello", "False"]
    assert failures(record) == []


def test_ble_is_a_singleton_shared_by_bluetooth_and_ubluetooth(tmp_path: Path) -> None:
    record = run_nodes(tmp_path, {"a": """
        import bluetooth, ubluetooth
        print(bluetooth.BLE() is bluetooth.BLE(), bluetooth.BLE() is ubluetooth.BLE())
        print(isinstance(bluetooth.BLE(), bluetooth.BLE), bluetooth is ubluetooth)
    """})
    assert lines(record, "a") == ["True True", "True True"]


def test_each_node_has_its_own_ble(tmp_path: Path) -> None:
    src = """
        import bluetooth
        ble = bluetooth.BLE()
        ble.active(True)
        print(ble.config('mac'))
    """
    record = run_nodes(tmp_path, {"a": src, "b": src})
    assert lines(record, "a") == [repr((0, addr_bytes("a")))]
    assert lines(record, "b") == [repr((0, addr_bytes("b")))]
