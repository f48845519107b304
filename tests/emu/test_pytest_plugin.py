"""The blesim pytest plugin: worlds built in a test, scripted devices, failure reports."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

FIRMWARE = Path(__file__).resolve().parent.parent / "apis" / "native" / "firmware"


def test_a_firmware_node_and_a_scripted_phone(blesim) -> None:  # type: ignore[no-untyped-def]
    world = blesim.world(seed=3)
    server = world.node("server", personality="native", firmware=FIRMWARE / "server.py")
    phone = world.device("phone", position=(1.0, 0.0))
    assert world.run_until(lambda: server.printed(r"^advertising as"), timeout="1s")
    found = phone.find(name="native-srv", timeout_ms=3000)
    conn = phone.connect(found, timeout_ms=3000)
    battery = conn.characteristic(0x2A19)
    assert conn.read(battery) == bytes([99])
    values: list[int] = []
    conn.subscribe(battery, lambda v: values.append(v[0]))
    assert world.run_until(lambda: len(values) == 3, timeout="2s")
    assert values == [90, 80, 70]
    conn.disconnect()
    world.run("200ms")
    assert server.printed(r"disconnected reason 0x13")  # the peer reports the remote user termination
    assert world.air.count("ATT_HANDLE_VALUE_NTF", sender="server") == 3
    assert world.air.count("CONNECT_IND") == 1
    assert (world.out_dir / "air.pcap").stat().st_size > 24


def test_a_failing_test_shows_node_output_and_capture_paths(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(textwrap.dedent(f"""
        def test_fails(blesim):
            world = blesim.world(seed=1)
            server = world.node("server", personality="native", firmware={str(FIRMWARE / "server.py")!r})
            world.run("300ms")
            assert server.printed("this never happens")
    """))
    result = pytester.runpytest()  # the plugin comes from the installed entry point
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*blesim*", "*--- server (native, running) last output:*",
                                 "*advertising as*", "*air capture: *air.pcap*"])


def test_run_scenario_helper(blesim, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    scenario = tmp_path / "s.yaml"
    scenario.write_text(textwrap.dedent(f"""
        name: pair
        duration: 5s
        stop_when: expectations
        nodes:
          - {{name: server, personality: native, firmware: {FIRMWARE / 'server.py'}}}
          - {{name: client, personality: native, firmware: {FIRMWARE / 'client.py'}, position: [2, 0]}}
        expect:
          - {{node: client, output: "battery \\\\d+"}}
          - {{connected: [client, server], by: 3s}}
    """))
    run = blesim.run_scenario(scenario)
    assert run.ok, run.describe()
    assert any(line.startswith("battery ") for line in run.output("client"))
    assert run.record.stopped_early
