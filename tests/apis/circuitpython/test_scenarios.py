"""The shipped CircuitPython scenarios, the starter, determinism, per-node adafruit_ble,
and what a soft reload does."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from apis.circuitpython import PERSONALITY, STARTER
from emu.run import Runner, RunOptions
from emu.scenario import load_scenario, loads_scenario
from host.uuid import UUID as HostUUID

from .rig import UART_PERIPHERAL, run_world

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"
SHIPPED = sorted(SCENARIOS.glob("circuitpython_*.yaml"))


def _run(runner: Runner) -> Runner:
    runner.run()
    return runner


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_scenario_meets_its_expectations(path: Path) -> None:
    assert path.read_text(encoding="utf-8").startswith("# ")  # each says what it shows
    runner = _run(Runner(load_scenario(path), RunOptions()))
    results = runner.results()
    assert results and all(r.met for r in results), [r.detail for r in results if not r.met]
    assert not runner.failed_firmware()


def test_the_acceptance_scenarios_are_shipped() -> None:
    names = {p.stem for p in SHIPPED}
    assert {"circuitpython_uart_echo", "circuitpython_json", "circuitpython_service_scan",
            "circuitpython_packet_buffer", "circuitpython_pairing", "circuitpython_mpy_uart",
            "circuitpython_quectel_client"} <= names


def test_starter_runs_green(tmp_path: Path) -> None:
    for relative, text in STARTER.items():
        assert text.replace("{name}", "") == text.format(name="")  # no other braces
        target = tmp_path / relative.replace("{name}", "mystarter")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text.replace("{name}", "mystarter"), encoding="utf-8")
    runner = _run(Runner(load_scenario(tmp_path / "mystarter.yaml"), RunOptions()))
    assert all(r.met for r in runner.results())
    assert ("echo: hello from mystarter") in [line.text for line in runner.record.nodes["central"].output]


def test_same_seed_same_run() -> None:
    path = SCENARIOS / "circuitpython_uart_echo.yaml"
    first = _run(Runner(load_scenario(path), RunOptions())).record
    second = _run(Runner(load_scenario(path), RunOptions())).record
    for name in first.nodes:
        assert first.nodes[name].output == second.nodes[name].output
    assert first.air == second.air


def test_personality_declares_adafruit_ble_per_node() -> None:
    assert PERSONALITY.name == "circuitpython"
    assert "adafruit_ble" in PERSONALITY.per_node_packages


def test_adafruit_ble_is_loaded_per_node_against_the_nodes_bleio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A Blinka-like _bleio in site-packages must never be what a node gets.
    site = tmp_path / "site"
    (site / "_bleio").mkdir(parents=True)
    (site / "_bleio" / "__init__.py").write_text("BLINKA = True\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    probe = """
    import time
    import _bleio
    import adafruit_ble
    print("blinka", hasattr(_bleio, "BLINKA"), adafruit_ble._bleio is _bleio)
    print("mark before", getattr(adafruit_ble, "MARK", None))
    adafruit_ble.MARK = "%s"
    time.sleep(0.5)
    print("mark after", adafruit_ble.MARK)
    """
    world = run_world(tmp_path, {"a": probe % "a", "b": probe % "b"}, duration="1s")
    for name in ("a", "b"):
        assert world.output(name) == ["blinka False True", "mark before None", f"mark after {name}"]
    importers = [world.runner.nodes[n].runtime.importer for n in ("a", "b")]
    assert importers[0] is not None and importers[1] is not None
    modules = [importers[0].modules, importers[1].modules]
    assert modules[0]["adafruit_ble"] is not modules[1]["adafruit_ble"]
    assert modules[0]["_bleio"] is not modules[1]["_bleio"]


def test_services_get_contiguous_handles(tmp_path: Path) -> None:
    world = run_world(tmp_path, {"p": UART_PERIPHERAL}, duration="1s")
    services = world.host("p").gatt_server.describe()
    nus = [s for s in services if s.uuid == HostUUID("6E400001-B5A3-F393-E0A9-E50E24DCCA9E")]
    assert len(nus) == 1
    before = [s for s in services if s.start_handle < nus[0].start_handle]
    assert nus[0].start_handle == max(s.end_handle for s in before) + 1


def test_soft_reload_stops_everything_and_services_are_not_duplicated(tmp_path: Path) -> None:
    (tmp_path / "periph.py").write_text(textwrap.dedent(UART_PERIPHERAL), encoding="utf-8")
    (tmp_path / "central.py").write_text(textwrap.dedent("""
        import time
        from adafruit_ble import BLERadio
        from adafruit_ble.advertising.standard import ProvideServicesAdvertisement
        from adafruit_ble.services.nordic import UARTService
        ble = BLERadio()
        while True:
            for adv in ble.start_scan(ProvideServicesAdvertisement, timeout=2):
                if UARTService in adv.services:
                    connection = ble.connect(adv)
                    print("connected at", int(time.monotonic()))
                    break
            ble.stop_scan()
            while ble.connected:
                pass
            print("disconnected at", int(time.monotonic()))
    """), encoding="utf-8")
    text = """
name: reload
duration: 5s
nodes:
  - {name: periph, personality: circuitpython, firmware: periph.py, position: [0, 0]}
  - {name: central, personality: circuitpython, firmware: central.py, position: [2, 0]}
timeline:
  - {at: 2s, reboot: {node: periph}}
"""
    runner = _run(Runner(loads_scenario(text, base_dir=tmp_path), RunOptions()))
    out = [line.text for line in runner.record.nodes["central"].output]
    assert out == ["connected at 0", "disconnected at 2", "connected at 2"]
    services = runner.nodes["periph"].host.gatt_server.describe()
    assert len([s for s in services if s.uuid == HostUUID("6E400001-B5A3-F393-E0A9-E50E24DCCA9E")]) == 1
    assert not runner.failed_firmware()


def test_bundled_demo_with_a_circuitpython_watcher(tmp_path: Path) -> None:
    """The node the bundled demo gains (firmware/circuitpython_demo_watcher.py)."""
    yaml_path = Path(__file__).resolve().parents[3] / "emu" / "demo" / "demo.yaml"
    assert "personality: circuitpython" in yaml_path.read_text(encoding="utf-8")
    runner = _run(Runner(load_scenario(yaml_path), RunOptions()))
    assert all(r.met for r in runner.results()), [r.detail for r in runner.results() if not r.met]
