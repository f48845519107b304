"""Scenario loader and validator: good files into dataclasses, bad files into located problems."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emu.scenario import Problem, ScenarioError, load_scenario, loads_scenario, validate_mapping
from emu.scenario_schema import (
    DEFAULT_CLOCK_DRIFT_PPM,
    AIR_PDU_NAMES,
    CaptureSpec,
    ControllerSpec,
    ExpectAir,
    ExpectConnected,
    ExpectNoErrors,
    ExpectOutput,
    InjectEvent,
    InterfererEvent,
    InterfererSpec,
    LinkLossEvent,
    MediumSpec,
    MoveEvent,
    NodeSpec,
    PowerEvent,
    RebootEvent,
    Scenario,
)
from emu.units_parse import UnitError, format_duration, parse_duration, parse_power
from linklayer.address import Address
from phy.types import Phy

DATA = Path(__file__).parent / "data"
MS = 1_000_000
S = 1_000_000_000


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "firmware").mkdir(exist_ok=True)
    (tmp_path / "firmware" / "app.py").write_text("print('hi')\n")
    path = tmp_path / "scenario.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def errors(tmp_path: Path, text: str, **overrides: object) -> list[str]:
    """``LINE:COL: message`` of every problem of ``text`` (which must be refused)."""
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides=overrides or None)
    for problem in info.value.problems:
        assert problem.file in (str(path), "<command line>")
    return [f"{p.line}:{p.column}: {p.message}" for p in info.value.problems]


ONE_NODE = """
    nodes:
      - name: a
        personality: micropython
        firmware: firmware/app.py
"""

TWO_NODES = """
    nodes:
      - name: a
        personality: micropython
        firmware: firmware/app.py
      - name: b
        personality: circuitpython
        firmware: firmware/app.py
"""


# ---------------------------------------------------------------------------- units


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("30s", 30 * S),
        ("250ms", 250 * MS),
        ("1.5s", 1_500 * MS),
        ("100us", 100_000),
        ("100µs", 100_000),
        ("2min", 120 * S),
        ("1h", 3600 * S),
        ("5ns", 5),
        ("10 ms", 10 * MS),
        ("0.1s", 100 * MS),
        (".5s", 500 * MS),
        ("1_000ms", S),
        ("1e-3s", MS),
        ("30", 30 * S),
        (" 2.5 ", 2_500 * MS),
        (30, 30 * S),
        (1.5, 1_500 * MS),
        (0.1, 100 * MS),
        (0, 0),
        ("0s", 0),
        ("7.5sec", 7_500 * MS),
    ],
)
def test_parse_duration_table(text: object, ns: int) -> None:
    assert parse_duration(text) == ns
    assert isinstance(parse_duration(text), int)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("3 parsecs", "expected a duration such as 30s or 250ms, got '3 parsecs'"),
        ("5m", "expected a duration such as 30s or 250ms, got '5m'"),
        ("", "expected a duration such as 30s or 250ms, got ''"),
        ("s", "expected a duration such as 30s or 250ms, got 's'"),
        ("1.5.2s", "expected a duration such as 30s or 250ms, got '1.5.2s'"),
        ("-1s", "expected a time of zero or more, got '-1s'"),
        (-3, "expected a time of zero or more, got -3"),
        (True, "expected a duration such as 30s or 250ms, got true"),
        (None, "expected a duration such as 30s or 250ms, got nothing"),
        ([1], "expected a duration such as 30s or 250ms, got a list"),
        (float("nan"), "expected a duration such as 30s or 250ms, got nan"),
    ],
)
def test_parse_duration_refuses(text: object, message: str) -> None:
    with pytest.raises(UnitError) as info:
        parse_duration(text)
    assert str(info.value).startswith(message)
    assert isinstance(info.value, ValueError)


def test_parse_duration_negative_when_allowed() -> None:
    assert parse_duration("-250ms", allow_negative=True) == -250 * MS


@pytest.mark.parametrize(
    ("ns", "text"),
    [(0, "0s"), (12 * S, "12s"), (250 * MS, "250ms"), (1_500 * MS, "1.5s"),
     (100_000, "100us"), (7, "7ns"), (-2 * S, "-2s"), (1_000_500 * 1000, "1000.5ms")],
)
def test_format_duration_table(ns: int, text: str) -> None:
    assert format_duration(ns) == text


@given(st.integers(min_value=0, max_value=10**15))
def test_format_then_parse_is_identity(ns: int) -> None:
    assert parse_duration(format_duration(ns)) == ns


@given(st.integers(min_value=0, max_value=10**9),
       st.sampled_from([("ns", 1), ("us", 1_000), ("ms", MS), ("s", S), ("min", 60 * S)]))
def test_integer_with_unit(k: int, unit: tuple[str, int]) -> None:
    assert parse_duration(f"{k}{unit[0]}") == k * unit[1]


@pytest.mark.parametrize(("text", "dbm"), [(0, 0.0), (-4.5, -4.5), ("8dBm", 8.0), ("-20 dBm", -20.0)])
def test_parse_power(text: object, dbm: float) -> None:
    assert parse_power(text) == dbm


@pytest.mark.parametrize("text", ["loud", "4W", True, None])
def test_parse_power_refuses(text: object) -> None:
    with pytest.raises(UnitError, match="expected a power in dBm"):
        parse_power(text)


# ---------------------------------------------------------------------------- good files


def test_full_scenario_parses_into_dataclasses() -> None:
    sc = load_scenario(DATA / "full.yaml")
    fw = DATA.resolve() / "firmware"
    assert sc.name == "battery-demo"
    assert sc.description == "server notifies battery level; client moves away"
    assert (sc.seed, sc.duration_ns, sc.stop_when) == (7, 30 * S, "expectations")
    assert sc.source == (DATA / "full.yaml").resolve()
    assert sc.medium == MediumSpec(
        model="log_distance",
        path_loss_exponent=2.5,
        noise_floor_dbm=-95.0,
        params={"reference_distance_m": 1.0, "reference_loss_db": 40.0, "shadowing_sigma_db": 4.0},
        interferers=(
            InterfererSpec("wifi", "wifi", center_mhz=2437.0, bandwidth_mhz=20.0,
                           position=(5.0, 5.0, 0.0), power_dbm=15.0, duty_cycle=0.5,
                           period_ns=20 * MS, enabled=True),
            InterfererSpec("hum", "tone", center_mhz=2402.0, bandwidth_mhz=0.0, enabled=False),
        ),
    )
    assert sc.nodes == (
        NodeSpec(
            name="server", personality="quectel", firmware=fw / "server.py",
            address=Address(bytes.fromhex("DB33F51E6BAC"), False), tx_power_dbm=-4.0,
            boot_time_ns=250 * MS, hci_latency_ns=100_000,
            controller=ControllerSpec(le_acl_data_packet_length=251,
                                      total_num_le_acl_data_packets=4,
                                      le_features=(1 << 0) | (1 << 8)),
        ),
        NodeSpec(
            name="client", personality="quectel", firmware=fw / "client.py",
            lib=(DATA.resolve() / "lib",), position=(2.0, 0.0, 1.5),
            address=Address(bytes.fromhex("554433221 1C0".replace(" ", "")), True),
            address_type="random",
        ),
        NodeSpec(  # from the x-sensor anchor; an unquoted address stays text (no base 60)
            name="sensor-1", personality="micropython", firmware=fw / "client.py",
            clock_drift_ppm=50.0, address=Address(bytes.fromhex("332211563412"), False),
        ),
        NodeSpec(name="dongle", personality="hci", transport="tcp:9000"),
        NodeSpec(name="real", personality="native", firmware=fw / "server.py",
                 controller_transport="usb:0"),
    )
    assert sc.capture == CaptureSpec(
        air=DATA.resolve() / "out" / "air.pcap", hci=DATA.resolve() / "out" / "hci",
        hci_format="pcap", logs=DATA.resolve() / "out" / "logs",
    )
    assert sc.expect == (
        ExpectOutput("client", r"data_len = \d+", within_ns=(1 * S, 20 * S), count=2),
        ExpectNoErrors("server"),
        ExpectNoErrors(None),
        ExpectConnected(("client", "server"), by_ns=10 * S, value=True),
        ExpectConnected(("dongle", "server"), by_ns=None, value=False),
        ExpectAir("ATT_HANDLE_VALUE_NTF", min=3, max=100),
        ExpectAir("CONNECT_IND", min=1, max=None),
    )
    assert sc.expect[0].location == f"{DATA / 'full.yaml'}:48"
    # sorted by time; equal times keep file order
    assert sc.timeline == (
        PowerEvent(1_500 * MS, "server", False),
        PowerEvent(2 * S, "server", True),
        InjectEvent(2 * S, 37, bytes.fromhex("4206112233445566"), 0x8E89BED6, Phy.LE_1M,
                    (1.0, 1.0, 0.0), 4.0),
        InjectEvent(2 * S, 12, b"\x03\x00", 0x50654A3B, Phy.LE_CODED_S8),
        RebootEvent(3 * S, "sensor-1"),
        LinkLossEvent(4 * S, "client", "server", 0.25),
        InterfererEvent(5 * S, "hum", True),
        MoveEvent(12 * S, "client", (40.0, 0.0, 0.0)),
    )
    assert sc.node("dongle").firmware is None


def test_defaults(tmp_path: Path) -> None:
    sc = load_scenario(write(tmp_path, ONE_NODE))
    assert sc == Scenario(
        name="scenario",
        nodes=(NodeSpec("a", "micropython", firmware=(tmp_path / "firmware" / "app.py").resolve()),),
    )
    assert (sc.seed, sc.duration_ns, sc.stop_when) == (0, 10 * S, "duration")
    assert sc.medium.model == "log_distance"
    assert sc.medium.path_loss_exponent == 2.0
    assert sc.medium.noise_floor_dbm == -100.0
    node = sc.nodes[0]
    assert node.position == (0.0, 0.0, 0.0)
    assert node.tx_power_dbm == 0.0
    assert node.clock_drift_ppm == DEFAULT_CLOCK_DRIFT_PPM == 20.0
    assert node.boot_time_ns == 0
    assert node.address is None and node.address_type == "public"
    assert sc.capture == CaptureSpec()
    assert sc.expect == () and sc.timeline == ()


def test_power_event_key_on_is_not_a_boolean(tmp_path: Path) -> None:
    sc = load_scenario(write(tmp_path, ONE_NODE + """
    timeline:
      - {at: 1s, power: {node: a, on: false}}
    """))
    assert sc.timeline == (PowerEvent(S, "a", False),)


def test_overrides_replace_top_level_keys(tmp_path: Path) -> None:
    path = write(tmp_path, "seed: 3\nduration: 30s\n" + textwrap.dedent(ONE_NODE))
    sc = load_scenario(path, overrides={"seed": "11", "duration": "250ms"})
    assert (sc.seed, sc.duration_ns) == (11, 250 * MS)
    sc = load_scenario(path, overrides={"seed": 12})
    assert (sc.seed, sc.duration_ns) == (12, 30 * S)


def test_bad_override_names_the_option(tmp_path: Path) -> None:
    path = write(tmp_path, ONE_NODE)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides={"duration": "3 parsecs", "seed": "-1"})
    lines = str(info.value).splitlines()
    assert lines == [
        "error: <command line>: --seed: expected an integer seed of 0 or more, got -1",
        "error: <command line>: --duration: expected a duration such as 30s or 250ms, got "
        "'3 parsecs' (unknown unit 'parsecs'; use one of ns, us, ms, s, sec, min, h)",
    ]


def test_validate_mapping_plain_dict(tmp_path: Path) -> None:
    write(tmp_path, ONE_NODE)
    data = {"seed": 5, "nodes": [{"name": "a", "personality": "micropython",
                                  "firmware": "firmware/app.py"}]}
    sc = validate_mapping(data, base_dir=tmp_path)
    assert sc.seed == 5 and sc.nodes[0].firmware == (tmp_path / "firmware/app.py").resolve()
    data["nodes"][0]["position"] = "here"  # type: ignore[index]
    with pytest.raises(ScenarioError) as info:
        validate_mapping(data, file="inline", base_dir=tmp_path)
    assert str(info.value) == (
        "error: inline: nodes[0].position: expected a position [x, y] or [x, y, z] in metres, "
        "got 'here'"
    )


def test_loads_scenario_from_text(tmp_path: Path) -> None:
    write(tmp_path, ONE_NODE)
    sc = loads_scenario(textwrap.dedent(ONE_NODE), base_dir=tmp_path)
    assert sc.nodes[0].name == "a"


# ---------------------------------------------------------------------------- bad files


def test_bad_units(tmp_path: Path) -> None:
    assert errors(tmp_path, "duration: 3 parsecs\n" + textwrap.dedent(ONE_NODE)) == [
        "1:11: expected a duration such as 30s or 250ms, got '3 parsecs' "
        "(unknown unit 'parsecs'; use one of ns, us, ms, s, sec, min, h)"
    ]


def test_zero_duration(tmp_path: Path) -> None:
    assert errors(tmp_path, "duration: 0s\n" + textwrap.dedent(ONE_NODE)) == [
        "1:11: expected a duration of more than zero, got '0s'"
    ]


def test_unknown_key_in_node_with_suggestion(tmp_path: Path) -> None:
    assert errors(tmp_path, """
        nodes:
          - name: client
            personality: micropython
            firmware: firmware/app.py
            positon: [1, 2]
        """) == ["5:5: unknown key 'positon' in node 'client' (did you mean 'position'?)"]


def test_unknown_keys_everywhere(tmp_path: Path) -> None:
    assert errors(tmp_path, """
        sede: 4
        medium: {noise_floor: -90}
        nodes:
          - name: a
            personality: micropython
            firmware: firmware/app.py
            controller: {acl_buffers: 4}
        capture: {pcap: x.pcap}
        expect:
          - {node: a, output: x, windw: [0s, 1s]}
          - {air: {pdu: SCAN_REQ, mn: 1}}
        timeline:
          - {at: 1s, move: {node: a, positio: [1, 1]}}
          - {at: 1s, reboot: {node: a}, comment: x}
        """) == [
        "1:1: unknown key 'sede' in the top level (did you mean 'seed'?)",
        "2:10: unknown key 'noise_floor' in medium (did you mean 'noise_floor_dbm'?)",
        "7:18: unknown key 'acl_buffers' in controller options of node 'a' (expected one of: "
        "features, filter_accept_list_size, le_acl_data_packet_length, max_connections, "
        "resolving_list_size, total_num_le_acl_data_packets)",
        "8:11: unknown key 'pcap' in capture (expected one of: air, hci, hci_format, logs)",
        "10:26: unknown key 'windw' in 'output' expectation #1 (expected one of: count, "
        "min_count, node, output, within)",
        "11:27: unknown key 'mn' in 'air' expectation #2 (did you mean 'min'?)",
        "13:20: missing key 'position' in 'move' event",
        "13:30: unknown key 'positio' in 'move' event (did you mean 'position'?)",
        "14:33: unknown key 'comment' in timeline event #2 (expected one of: at, inject, "
        "interferer, link_loss, move, power, reboot)",
    ]


def test_wrong_types(tmp_path: Path) -> None:
    assert errors(tmp_path, """
        name: [x]
        seed: seven
        nodes:
          - name: a
            personality: micropython
            firmware: firmware/app.py
            position: here
            tx_power: 99
            clock_drift_ppm: fast
          - just a string
        """) == [
        "1:7: expected a scenario name, got a list",
        "2:7: expected an integer seed, got 'seven'",
        "7:15: expected a position [x, y] or [x, y, z] in metres, got 'here'",
        "8:15: expected a TX power between -127 and 20 dBm, got 99",
        "9:22: expected a clock drift in ppm, got 'fast'",
        "10:5: expected a mapping for node #2, got 'just a string'",
    ]


def test_nodes_missing_or_not_a_list(tmp_path: Path) -> None:
    assert errors(tmp_path, "seed: 1\n") == [
        "1:1: missing key 'nodes' at the top level (a scenario needs at least one node)"
    ]
    assert errors(tmp_path, "nodes: {a: 1}\n") == ["1:8: expected a list of nodes, got a mapping"]
    assert errors(tmp_path, "nodes: []\n") == ["1:8: a scenario needs at least one node"]


def test_empty_and_non_mapping_files(tmp_path: Path) -> None:
    assert errors(tmp_path, "# nothing\n") == [
        "0:0: the scenario is empty: expected a mapping with at least 'nodes'"
    ]
    assert errors(tmp_path, "- a\n- b\n") == ["1:1: expected a mapping at the top level, got a list"]


def test_missing_firmware_file(tmp_path: Path) -> None:
    assert errors(tmp_path, """
        nodes:
          - name: a
            personality: micropython
            firmware: firmware/x.py
            lib: [lib/, firmware]
          - name: b
            personality: quectel
        """) == [
        "4:15: firmware file not found: firmware/x.py",
        "5:11: lib folder not found: lib/",
        "6:5: missing key 'firmware' in node 'b' (personality quectel runs a firmware file)",
    ]


def test_firmware_is_a_folder(tmp_path: Path) -> None:
    assert errors(tmp_path, """
        nodes:
          - {name: a, personality: native, firmware: firmware}
        """) == ["2:46: firmware file is not a file: firmware"]


def test_duplicate_node_names(tmp_path: Path) -> None:
    assert errors(tmp_path, """
        nodes:
          - name: server
            personality: micropython
            firmware: firmware/app.py
          - name: server
            personality: quectel
            firmware: firmware/app.py
        """) == ["5:11: duplicate node name 'server' (first defined at line 2)"]


def test_bad_node_name(tmp_path: Path) -> None:
    assert errors(tmp_path, """
        nodes:
          - {name: "a b", personality: native, firmware: firmware/app.py}
        """) == ["2:12: bad node name 'a b': use letters, digits, '_', '-' and '.'"]


def test_bad_addresses(tmp_path: Path) -> None:
    assert errors(tmp_path, """
        nodes:
          - {name: a, personality: native, firmware: firmware/app.py, address: "ZZ:6B:1E:F5:33:DB"}
          - {name: b, personality: native, firmware: firmware/app.py, address: "AC:6B:1E:F5:33"}
          - {name: c, personality: native, firmware: firmware/app.py, address: 42}
          - {name: d, personality: native, firmware: firmware/app.py, address: "12:34:56:78:9A:BC",
             address_type: random}
          - {name: e, personality: native, firmware: firmware/app.py, address: "C0:00:00:00:00:01",
             address_type: static}
          - {name: f, personality: native, firmware: firmware/app.py, address: "c0-00-00-00-00-01"}
        """) == [
        "2:72: bad address 'ZZ:6B:1E:F5:33:DB': expected six hex octets like AC:6B:1E:F5:33:DB",
        "3:72: bad address 'AC:6B:1E:F5:33': expected six hex octets like AC:6B:1E:F5:33:DB",
        "4:72: bad address 42: expected six hex octets like AC:6B:1E:F5:33:DB",
        "5:72: random static address '12:34:56:78:9A:BC' must have its two most significant "
        "bits set (first octet C0 to FF)",
        "8:20: unknown address type 'static' (expected one of: public, random)",
        "9:72: duplicate address 'C0:00:00:00:00:01' (also used by node 'e' at line 7)",
    ]


def test_negative_times(tmp_path: Path) -> None:
    assert errors(tmp_path, """
        nodes:
          - {name: a, personality: native, firmware: firmware/app.py, boot_time: -1s, hci_latency: -5us}
        expect:
          - {node: a, output: x, within: [-1s, 2s]}
          - {connected: [a, a], by: -3s}
        timeline:
          - {at: -2s, reboot: {node: a}}
        """) == [
        "2:74: expected a time of zero or more, got '-1s'",
        "2:92: expected a time of zero or more, got '-5us'",
        "4:34: expected a time of zero or more, got '-1s'",
        "5:17: a node cannot be connected to itself: 'a'",
        "5:29: expected a time of zero or more, got '-3s'",
        "7:10: expected a time of zero or more, got '-2s'",
    ]


def test_yaml_syntax_error_location(tmp_path: Path) -> None:
    path = DATA / "syntax_error.yaml"
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.problems == [
        Problem(str(path), 6, 9, "YAML syntax error: expected ',' or ']', but got ':' "
                                 "(while parsing a flow sequence started at line 5)")
    ]
    assert errors(tmp_path, "nodes:\n  - name: a\n   personality: x\n") == [
        "3:4: YAML syntax error: expected <block end>, but found '<block mapping start>' "
        "(while parsing a block collection started at line 2)"
    ]
    assert errors(tmp_path, "nodes: !custom [1]\n") == [
        "1:8: bad YAML: could not determine a constructor for the tag '!custom'"
    ]
    assert errors(tmp_path, "nodes:\n  - name: a\x00\n") == [
        "2:12: bad YAML: character '\\x00' is not allowed"
    ]
    assert errors(tmp_path, "nodes: &x [*x]\n") == [
        "1:8: bad YAML: found unconstructable recursive node"
    ]
    assert errors(tmp_path, "a: &x [*x]\nnodes: *y\n") == [
        "2:8: bad YAML: found undefined alias 'y'"
    ]


def test_duplicate_yaml_keys(tmp_path: Path) -> None:
    assert errors(tmp_path, "seed: 1\n" + textwrap.dedent(ONE_NODE) + "seed: 2\n") == [
        "7:1: duplicate key 'seed' (first at line 1)"
    ]


def test_all_problems_collected_in_one_error() -> None:
    path = DATA / "many_problems.yaml"
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert [(p.line, p.column) for p in info.value.problems] == [
        (2, 7), (3, 11), (10, 15), (11, 5), (12, 14), (13, 11), (16, 16), (18, 12), (20, 10)
    ]
    lines = str(info.value).splitlines()
    assert len(lines) == 9
    assert all(line.startswith(f"error: {path}:") for line in lines)
    assert lines[2] == f"error: {path}:10:15: firmware file not found: firmware/x.py"
    assert lines[3] == (f"error: {path}:11:5: unknown key 'positon' in node 'client' "
                        "(did you mean 'position'?)")
    assert lines[4] == (f"error: {path}:12:14: bad address 'ZZ:6B:1E:F5:33:DB': expected six "
                        "hex octets like AC:6B:1E:F5:33:DB")
    assert lines[5] == f"error: {path}:13:11: duplicate node name 'server' (first defined at line 5)"
    assert lines[7] == f"error: {path}:18:12: unknown node 'clinet' (did you mean 'client'?)"


def test_scenario_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "nope.yaml")
    assert str(info.value) == f"error: {tmp_path / 'nope.yaml'}: scenario file not found"


def test_personality_rules(tmp_path: Path) -> None:
    assert errors(tmp_path, """
        nodes:
          - {name: a, personality: quectl, firmware: firmware/app.py}
          - {name: b, personality: hci}
          - {name: c, personality: hci, firmware: firmware/app.py, transport: pty}
          - {name: d, personality: native, firmware: firmware/app.py, transport: pty}
          - {name: e, personality: hci, controller: 5}
        """) == [
        "2:28: unknown personality 'quectl' (did you mean 'quectel'?)",
        "3:5: hci node 'b' needs 'transport' (where its host connects) or 'controller' "
        "(a real controller such as \"usb:0\")",
        "4:33: 'firmware' is not used by hci node 'c': an hci node runs no firmware "
        "(it has 'transport' or 'controller' instead)",
        "5:63: 'transport' applies only to hci nodes, not native",
        "6:5: hci node 'e' needs 'transport' (where its host connects) or 'controller' "
        "(a real controller such as \"usb:0\")",
        "6:45: expected controller options (a mapping) or a real controller such as \"usb:0\", "
        "got 5",
    ]


def test_controller_options(tmp_path: Path) -> None:
    assert errors(tmp_path, """
        nodes:
          - name: a
            personality: native
            firmware: firmware/app.py
            controller: {le_acl_data_packet_length: 300, features: [le_2m, le_coded_phy]}
        """) == [
        "5:45: expected an integer from 27 to 251, got 300",
        "5:61: unknown LE feature 'le_2m' (did you mean 'le_2m_phy'?)",
    ]
    sc = load_scenario(write(tmp_path, """
        nodes:
          - {name: a, personality: native, firmware: firmware/app.py, controller: {features: 0x1FF}}
        """))
    assert sc.nodes[0].controller == ControllerSpec(le_features=0x1FF)


def test_unknown_node_references(tmp_path: Path) -> None:
    assert errors(tmp_path, TWO_NODES + """
    expect:
      - {node: c, no_errors: true}
      - {connected: [a, bb]}
    timeline:
      - {at: 1s, link_loss: {from: a, to: x, probability: 0.5}}
      - {at: 1s, power: {node: zz, on: true}}
    """) == [
        "10:12: unknown node 'c' (expected one of: a, b)",
        "11:21: unknown node 'bb' (did you mean 'b'?)",
        "13:39: unknown node 'x' (expected one of: a, b)",
        "14:28: unknown node 'zz' (expected one of: a, b)",
    ]


def test_expectation_shapes(tmp_path: Path) -> None:
    assert errors(tmp_path, ONE_NODE + """
    expect:
      - {node: a}
      - {node: a, output: x, air: {pdu: ADV_IND}}
      - {node: a, output: "x(", count: 1, min_count: 2}
      - {node: a, no_errors: false}
      - {air: {pdu: ADV_INDD, min: 5, max: 2}}
      - {air: {min: 1}}
      - {connected: a, value: maybe}
    """) == [
        "7:5: expectation #1 needs one of: output, no_errors, connected, air",
        "8:5: expectation #2 has one kind; found 'output' and 'air'",
        "9:23: bad regular expression 'x(': missing ), unterminated subpattern at position 1",
        "9:39: use either 'count' or 'min_count', not both",
        "10:26: no_errors: false checks nothing; write true or remove it",
        "11:17: unknown PDU name 'ADV_INDD' (did you mean 'ADV_IND'?)",
        "11:32: min 5 is more than max 2",
        "12:11: missing key 'pdu' in 'air' expectation #6",
        "13:17: expected two node names [a, b], got 'a'",
        "13:27: expected true or false, got 'maybe'",
    ]


def test_stop_when_needs_expectations(tmp_path: Path) -> None:
    assert errors(tmp_path, "stop_when: expectations\n" + textwrap.dedent(ONE_NODE)) == [
        "1:12: stop_when: expectations needs at least one expectation"
    ]
    assert errors(tmp_path, "stop_when: never\n" + textwrap.dedent(ONE_NODE)) == [
        "1:12: unknown stop_when 'never' (expected one of: duration, expectations)"
    ]


def test_timeline_shapes(tmp_path: Path) -> None:
    assert errors(tmp_path, ONE_NODE + """
    timeline:
      - {move: {node: a, position: [1, 1]}}
      - {at: 1s}
      - {at: 1s, reboot: {node: a}, power: {node: a, on: true}}
      - {at: 1s, power: {node: a, on: yes}}
      - {at: 1s, interferer: {name: wifi, enabled: true}}
      - {at: 1s, link_loss: {from: a, to: a, probability: 1.5}}
      - {at: 1s, inject: {channel: 40, bytes: "4g", phy: 3M, access_address: 0x1FFFFFFFF}}
      - {at: 1s, inject: {channel: 37, bytes: 4006}}
    """) == [
        "7:5: missing key 'at' in timeline event #1",
        "8:5: timeline event #2 needs one of: move, link_loss, interferer, power, reboot, inject",
        "9:5: timeline event #3 has one action; found 'power' and 'reboot'",
        "10:35: expected true or false, got 'yes' (only true and false are booleans here)",
        "11:33: unknown interferer 'wifi' (medium.interferers defines none)",
        "12:39: link_loss from a node to itself: 'a'",
        "12:55: expected a probability from 0 to 1, got 1.5",
        "13:32: expected a BLE channel index from 0 to 39, got 40",
        "13:43: expected hex bytes such as \"42 06 ...\", got '4g'",
        "13:54: unknown PHY '3M' (expected one of: 1M, 2M, S2, S8)",
        "13:74: expected a 32-bit access address such as 0x8E89BED6, got 0x1FFFFFFFF",
        "14:43: expected hex bytes in quotes such as \"42 06 ...\", got 4006",
    ]


def test_medium_rules(tmp_path: Path) -> None:
    assert errors(tmp_path, ONE_NODE + """
    medium:
      model: free_space
      path_loss_exponent: 3
      params: {loss_db: 3}
      interferers:
        - {name: w, kind: wifi}
        - {name: w, kind: tone, frequency_mhz: 2450, ble_channel: 3}
        - {name: n, kind: noise, frequency_mhz: 2300, duty_cycle: 0}
        - {name: m, kind: laser}
    """) == [
        "8:3: path_loss_exponent only applies to model 'log_distance', not 'free_space'",
        "9:12: unknown key 'loss_db' in params of channel model 'free_space' "
        "(nothing is allowed here)",
        "11:7: missing key 'wifi_channel' in interferer 'w'",
        "12:7: interferer 'w' needs exactly one of 'frequency_mhz' or 'ble_channel'",
        "12:14: duplicate interferer name 'w'",
        "13:45: expected a frequency in MHz from 2400 to 2500, got 2300",
        "13:63: a duty cycle of 0 never transmits; use enabled: false",
        "14:23: unknown interferer kind 'laser' (expected one of: noise, tone, wifi)",
    ]


def test_air_pdu_vocabulary() -> None:
    for name in ("ADV_IND", "SCAN_REQ", "CONNECT_IND", "LL_CONNECTION_UPDATE_IND",
                 "ATT_HANDLE_VALUE_NTF", "ATT_READ_BY_TYPE_REQ", "SMP_PAIRING_REQUEST"):
        assert name in AIR_PDU_NAMES


def test_problem_str() -> None:
    assert str(Problem("s.yaml", 3, 7, "boom")) == "error: s.yaml:3:7: boom"
    assert str(Problem("s.yaml", 0, 0, "boom")) == "error: s.yaml: boom"
    err = ScenarioError([Problem("s.yaml", 9, 1, "second"), Problem("s.yaml", 2, 5, "first")])
    assert str(err) == "error: s.yaml:2:5: first\nerror: s.yaml:9:1: second"
    assert isinstance(err, ValueError)


# ---------------------------------------------------------------------------- robustness

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
    | st.sampled_from(["a", "nodes", "name", "micropython", "hci", "1s", "-1s", "at", "move",
                       "output", "air", "connected", "node", "position", "controller", "usb:0"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["name", "seed", "duration", "nodes", "personality", "firmware",
                         "position", "address", "expect", "timeline", "medium", "capture",
                         "interferers", "at", "move", "node", "output", "air", "pdu",
                         "connected", "controller", "transport", "inject", "bytes", "x"]),
        inner, max_size=5),
    max_leaves=20,
)


@given(_json)
def test_any_mapping_gives_a_scenario_or_scenario_error(data: object) -> None:
    try:
        validate_mapping(data, base_dir=DATA)
    except ScenarioError as exc:
        assert exc.problems and all(isinstance(p, Problem) for p in exc.problems)


@given(st.text(alphabet=st.sampled_from(list("ab:-[]{}&*!#|>'\" \n\t12s,.")), max_size=60))
def test_any_text_gives_a_scenario_or_scenario_error(text: str) -> None:
    try:
        loads_scenario(text, base_dir=DATA)
    except ScenarioError as exc:
        assert exc.problems


def test_micropython_stack_option(tmp_path: Path) -> None:
    from emu.scenario import loads_scenario
    from emu.scenario_checker import ScenarioError

    (tmp_path / "fw.py").write_text("pass\n")
    ok = loads_scenario(
        "name: s\nnodes:\n  - {name: a, personality: micropython, firmware: fw.py, stack: btstack}\n",
        file="s.yaml", base_dir=tmp_path,
    )
    assert ok.nodes[0].stack == "btstack"
    for bad, message in (
        ("{name: a, personality: micropython, firmware: fw.py, stack: zephyr}", "MicroPython host stack"),
        ("{name: a, personality: native, firmware: fw.py, stack: nimble}", "applies only to micropython"),
    ):
        with pytest.raises(ScenarioError) as err:
            loads_scenario(f"name: s\nnodes:\n  - {bad}\n", file="s.yaml", base_dir=tmp_path)
        assert message in str(err.value) and "s.yaml:3:" in str(err.value)
