"""The ``native`` personality: firmware on the Python device API, run by the scenario runner.

Each test builds a tiny scenario (``emu.scenario.loads_scenario``) whose nodes run the
firmware files next to this test, runs it with ``emu.run.Runner`` and asserts what the
firmware printed, with the simulated instants.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from apis.native import PERSONALITY
from emu.device import Device, DeviceTimeoutError
from emu.personality import load_personality
from emu.records import OutputLine, RunRecord
from emu.run import Runner
from emu.scenario import loads_scenario
from phy.units import MS

HERE = Path(__file__).parent


def run(text: str) -> tuple[Runner, RunRecord]:
    scenario = loads_scenario(text, base_dir=HERE)
    runner = Runner(scenario)
    return runner, runner.run()


def lines(runner: Runner, node: str) -> list[str]:
    """What the node printed, in the order it printed it."""
    return runner.nodes[node].log_lines


def timed(runner: Runner, node: str) -> list[OutputLine]:
    """The printed lines with their instants, in the order printed."""
    return [OutputLine(t, text) for t, text in runner.nodes[node].runtime.output_lines]


def test_the_personality_is_found_by_name() -> None:
    assert load_personality("native") is PERSONALITY
    assert PERSONALITY.name == "native" and PERSONALITY.per_node_packages == ()


def test_two_native_nodes_advertise_connect_read_write_and_notify() -> None:
    runner, record = run("""
name: native-pair
seed: 3
duration: 4s
nodes:
  - {name: server, personality: native, firmware: firmware/server.py, position: [0, 0]}
  - {name: client, personality: native, firmware: firmware/client.py, position: [3, 0]}
""")
    server, client = runner.nodes["server"], runner.nodes["client"]
    assert lines(runner, "server") == [
        f"advertising as {server.host.address}",
        f"connected to {client.host.address} as peripheral",
        "written kitchen as peripheral",
        "disconnected reason 0x13 at " + lines(runner, "server")[-1].rsplit(" ", 1)[1],
    ]
    assert lines(runner, "client") == [
        "found native-srv services ['0x180F']",
        "connected as central",
        "battery 99",
        "notified 90",
        "notified 80",
        "notified 70",
        "error INVALID_HANDLE",
        "done [90, 80, 70]",
    ]
    out = {n: timed(runner, n) for n in ("server", "client")}
    # both ends saw the connection at the same instant; notifications sent 100 ms apart
    # arrive at connection events (30-50 ms apart) close to that
    assert out["server"][1].t_ns == out["client"][1].t_ns
    notified = [o.t_ns for o in out["client"] if o.text.startswith("notified")]
    assert all(50 * MS <= b - a <= 150 * MS for a, b in zip(notified, notified[1:]))
    # the server printed the instant of the disconnection from its simulated clock
    last = out["server"][-1]
    assert last.text.endswith(f"{last.t_ns / 1e9:.3f}")
    assert all(r.status == "stopped" and not r.failures for r in record.nodes.values())
    assert [(c.central, c.peripheral, c.reason) for c in record.connections] == [("client", "server", 0x16)]


def test_same_seed_same_output() -> None:
    text = """
name: native-pair
seed: 9
duration: 3s
nodes:
  - {name: server, personality: native, firmware: firmware/server.py, position: [0, 0]}
  - {name: client, personality: native, firmware: firmware/client.py, position: [2, 0]}
"""
    first = run(text)[1]
    second = run(text)[1]
    assert first.nodes["client"].output == second.nodes["client"].output
    assert first.nodes["server"].output == second.nodes["server"].output


def test_time_timeouts_and_an_uncaught_device_error() -> None:
    runner, record = run("""
name: lonely
duration: 2s
nodes:
  - {name: lonely, personality: native, firmware: firmware/lonely.py}
""")
    node = record.nodes["lonely"]
    out = timed(runner, "lonely")
    assert out[0] == OutputLine(0, "epoch 0.0 0")
    assert out[1] == OutputLine(250 * MS, "after sleep 0.25")
    assert out[2] == OutputLine(255_500_000, "ticks 255 255500 255500000")
    assert out[3].text == "timeout ConnectTimeout True"
    connect_ended = int(out[4].text.split()[1])
    assert out[4].t_ns == connect_ended and 455_500_000 <= connect_ended < 1_455_500_000
    assert out[5] == OutputLine(connect_ended + 100 * MS, f"nobody came at {connect_ended + 100 * MS}")
    assert len(out) == 6
    # the uncaught timeout stops the firmware and is reported with where and when
    assert node.status == "failed"
    [failure] = node.failures
    assert failure.t_ns == connect_ended + 150 * MS
    assert "DeviceTimeoutError" in failure.message and "wait_for_connection" in failure.message
    assert "lonely.py" in failure.traceback


def test_reboot_gives_the_firmware_a_fresh_device_over_the_same_host() -> None:
    runner, record = run("""
name: reboots
duration: 1s
nodes:
  - {name: board, personality: native, firmware: firmware/reboot.py}
  - {name: watcher, personality: native, firmware: firmware/watcher.py, position: [1, 0]}
timeline:
  - {at: 400ms, reboot: {node: board}}
""")
    assert lines(runner, "board") == [
        "boot 1 powered True advertising False",
        "advertising True",
        "boot 2 powered True advertising True",
        "advertising True",
    ]
    assert lines(runner, "watcher") == ["saw boot1", "saw boot2"]
    board = runner.nodes["board"].context
    device = board.objects["device"]
    assert isinstance(device, Device)
    # one listener: the device of the first boot was closed when it rebooted
    assert runner.nodes["board"].host_driver.listeners.count(device._listener) == 1
    devices = [fn for fn in runner.nodes["board"].host_driver.listeners
               if isinstance(getattr(fn, "__self__", None), Device)]
    assert len(devices) == 1


def test_the_blesim_module_exports_the_api() -> None:
    runner, _ = run("""
name: one
duration: 10ms
nodes:
  - {name: n, personality: native, firmware: firmware/reboot.py}
""")
    ctx = runner.nodes["n"].context
    modules = PERSONALITY.modules(ctx)
    assert set(modules) == {"blesim", "time"}
    blesim = modules["blesim"](ctx.runtime)
    assert isinstance(blesim, ModuleType)
    for name in ("device", "Service", "Characteristic", "Descriptor", "UUID", "AdvertisingData", "Address",
                 "DeviceError", "GattError", "ConnectionFailed", "Disconnected", "TimeoutError", "ScanResult"):
        assert hasattr(blesim, name), name
    assert blesim.TimeoutError is DeviceTimeoutError and issubclass(blesim.TimeoutError, TimeoutError)
    # outside a firmware thread the device cannot block
    with pytest.raises(blesim.DeviceUsageError, match="firmware thread"):
        blesim.device.wait_for_connection(timeout_ms=10)
