"""Scenario files: load YAML keeping line/column marks, validate every key, build specs.

Theory of operation
-------------------
1. **Parse** (:func:`parse_yaml`). A PyYAML ``SafeLoader`` subclass builds dicts and lists
   that remember the ``start_mark`` of every key and value (:class:`~emu.scenario_schema.MarkedMap`,
   :class:`~emu.scenario_schema.MarkedList`). Its scalar rules are YAML 1.2-like on purpose: only
   ``true``/``false`` are booleans (``on:`` in a ``power`` event stays the key ``"on"``),
   there are no base-60 numbers (an unquoted ``12:34:56:78:9A:BC`` stays text) and no
   dates. Duplicate keys are reported instead of silently keeping the last one.
2. **Validate** (:func:`validate_mapping`). A checker walks the tree section by section
   and records a :class:`Problem` (file, line, column, message) for every fault — unknown
   keys (with a "did you mean"), wrong types, bad units, missing files, duplicate names,
   bad addresses, negative times, references to undefined nodes — and keeps going, so
   one run reports them all. Only if nothing was wrong does it return a
   :class:`~emu.scenario_schema.Scenario`; otherwise it raises :class:`ScenarioError`.
3. **Overrides** (``--seed``, ``--duration``...) replace top-level keys before
   validation; their problems are reported against ``<command line>``. Text values are
   read like YAML scalars (``"7"`` is the integer 7, ``"5s"`` stays text).

Relative paths resolve against the YAML file's folder (command-line overrides: the
current folder). Times come out as integer nanoseconds (:mod:`emu.units_parse`).
This module holds the YAML reader, the checks of each section (in the file's order) and
the public API; the dataclasses, defaults, vocabularies and the value-checking
primitives (:class:`~emu.scenario_schema.Checker`) are in :mod:`emu.scenario_schema`.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence, TypeVar

import yaml
from yaml.error import Mark, MarkedYAMLError
from yaml.nodes import MappingNode, ScalarNode, SequenceNode
from yaml.parser import ParserError
from yaml.reader import ReaderError
from yaml.scanner import ScannerError

from emu import scenario_schema as S
from emu.scenario_schema import (
    CheckedMap,
    Checker,
    Invalid,
    MarkedList,
    MarkedMap,
    Problem,
    ScenarioError,
    Src,
    describe,
    suggest,
)
from linklayer.address import Address

__all__ = [
    "Problem",
    "ScenarioError",
    "Scenario",
    "parse_yaml",
    "load_scenario",
    "loads_scenario",
    "validate_mapping",
]

Scenario = S.Scenario

T = TypeVar("T")


# ---------------------------------------------------------------------------- YAML with marks


_INT_RE = re.compile(r"^[-+]?(?:0b[01_]+|0o[0-7_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*)$")
_FLOAT_RE = re.compile(
    r"^(?:[-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)


class _Loader(yaml.SafeLoader):
    """SafeLoader with marked containers, YAML-1.2-like scalars, duplicate-key notes."""

    yaml_implicit_resolvers: dict[Any, Any] = {}

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        #: (key, first mark, duplicate mark)
        self.duplicates: list[tuple[object, Mark, Mark]] = []


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver("tag:yaml.org,2002:int", _INT_RE, list("-+0123456789"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_RE, list("-+0123456789."))
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)
_Loader.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])


def _construct_int(loader: _Loader, node: ScalarNode) -> int:
    text = str(loader.construct_scalar(node)).replace("_", "")
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    for prefix, base in (("0b", 2), ("0o", 8), ("0x", 16)):
        if digits.startswith(prefix):
            return sign * int(digits[2:], base)
    return sign * int(digits, 10)


def _construct_float(loader: _Loader, node: ScalarNode) -> float:
    text = str(loader.construct_scalar(node)).replace("_", "").lower()
    if text.endswith(".inf"):
        return -math.inf if text.startswith("-") else math.inf
    if text == ".nan":
        return math.nan
    return float(text)


def _construct_map(loader: _Loader, node: MappingNode) -> MarkedMap:
    seen: dict[object, Mark] = {}
    for key_node, _ in node.value:
        if isinstance(key_node, ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
            key = loader.construct_object(key_node)
            if key in seen:
                loader.duplicates.append((key, seen[key], key_node.start_mark))
            else:
                seen[key] = key_node.start_mark
    loader.flatten_mapping(node)
    result = MarkedMap()
    result.mark = node.start_mark
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, (list, dict)):
            raise yaml.constructor.ConstructorError(
                "while reading a mapping", node.start_mark,
                "a key cannot be a list or a mapping", key_node.start_mark,
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_marks[key] = key_node.start_mark
        result.value_marks[key] = value_node.start_mark
    return result


def _construct_seq(loader: _Loader, node: SequenceNode) -> MarkedList:
    result = MarkedList()
    result.mark = node.start_mark
    for child in node.value:
        result.append(loader.construct_object(child, deep=True))
        result.item_marks.append(child.start_mark)
    return result


_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def parse_yaml(text: str, file: str) -> tuple[object, list[Problem]]:
    """Parse one YAML document into marked containers; syntax errors become problems."""
    loader: _Loader | None = None
    try:
        loader = _Loader(text)
        data: object = loader.get_single_data()
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "not valid YAML"
        if exc.context and exc.problem:
            started = exc.context_mark
            where = f" started at line {started.line + 1}" if (
                started is not None and mark is not None and started.line != mark.line) else ""
            what = f"{exc.problem} ({exc.context}{where})"
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
        kind = "YAML syntax error" if isinstance(exc, (ScannerError, ParserError)) else "bad YAML"
        return None, [Problem(file, line, col, f"{kind}: {what}")]
    except ReaderError as exc:
        pos = exc.position
        line, col = text.count("\n", 0, pos) + 1, pos - text.rfind("\n", 0, pos)
        char = chr(exc.character) if isinstance(exc.character, int) else exc.character
        return None, [Problem(file, line, col, f"bad YAML: character {char!r} is not allowed")]
    except yaml.YAMLError as exc:  # pragma: no cover - every PyYAML error is one of the above
        return None, [Problem(file, 0, 0, f"bad YAML: {exc}")]
    finally:
        if loader is not None:
            loader.dispose()
    problems = [
        Problem(file, dup.line + 1, dup.column + 1,
                f"duplicate key {key!r} (first at line {first.line + 1})")
        for key, first, dup in loader.duplicates
    ]
    return data, problems


def _yaml_scalar(text: str) -> object:
    """A command-line value read like a YAML scalar (``"7"`` -> 7); else the text."""
    value, problems = parse_yaml(text, "<command line>")
    if problems or isinstance(value, (dict, list)):
        return text
    return value


# ---------------------------------------------------------------------------- sections

_TOP_KEYS = ("name", "description", "seed", "duration", "stop_when", "medium", "nodes",
             "capture", "expect", "timeline")
_MEDIUM_KEYS = ("model", "path_loss_exponent", "noise_floor_dbm", "params", "interferers")
_INTERFERER_KEYS = ("name", "kind", "position", "tx_power", "wifi_channel", "frequency_mhz",
                    "ble_channel", "bandwidth_mhz", "duty_cycle", "period", "enabled")
_NODE_KEYS = ("name", "personality", "firmware", "lib", "position", "address", "address_type",
              "tx_power", "clock_drift_ppm", "boot_time", "hci_latency", "controller",
              "transport")
_CONTROLLER_KEYS = ("le_acl_data_packet_length", "total_num_le_acl_data_packets", "features",
                    "max_connections", "filter_accept_list_size", "resolving_list_size")
_CAPTURE_KEYS = ("air", "hci", "hci_format", "logs")
_EXPECT_KINDS: dict[str, tuple[str, ...]] = {
    "output": ("node", "output", "within", "count", "min_count"),
    "no_errors": ("node", "no_errors"),
    "connected": ("connected", "by", "value"),
    "air": ("air",),
}
_AIR_KEYS = ("pdu", "min", "max", "within")
_EVENT_KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # kind: (allowed keys, required keys)
    "move": (("node", "position"), ("node", "position")),
    "link_loss": (("from", "to", "probability"), ("from", "to", "probability")),
    "interferer": (("name", "enabled"), ("name", "enabled")),
    "power": (("node", "on"), ("node", "on")),
    "reboot": (("node",), ("node",)),
    "inject": (("channel", "bytes", "access_address", "phy", "position", "tx_power"),
               ("channel", "bytes")),
}
_ADDRESS_RE = re.compile(r"^[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}$")


def _medium(ck: Checker, value: object, src: Src) -> S.MediumSpec:
    m = ck.mapping(value, src, "medium", _MEDIUM_KEYS)
    model = m.get("model", lambda v, s: ck.choice(v, s, S.CHANNEL_MODELS, "channel model"))
    exponent = m.get("path_loss_exponent",
                     lambda v, s: ck.number(v, s, 1.0, 10.0, "a path loss exponent"))
    if "path_loss_exponent" in m and model not in (None, "log_distance"):
        ck.error(m.key_src("path_loss_exponent"),
                 f"path_loss_exponent only applies to model 'log_distance', not {model!r}")
    noise = m.get("noise_floor_dbm", lambda v, s: ck.number(v, s, -200.0, 0.0, "a noise floor in dBm"))
    model_name = model or S.DEFAULT_CHANNEL_MODEL
    params = dict(S.CHANNEL_MODELS[model_name])
    if "params" in m and (model is not None or "model" not in m):
        try:
            pm = ck.mapping(m.data["params"], m.value_src("params"),
                            f"params of channel model {model_name!r}", params)
            for key in list(params):
                got = pm.get(key, lambda v, s: ck.number(v, s, what=f"a number for {key}"))
                if got is not None:
                    params[key] = got
        except Invalid:
            pass
    interferers: list[S.InterfererSpec] = []
    if "interferers" in m:
        try:
            for i, item, isrc in ck.items(m.data["interferers"], m.value_src("interferers"),
                                          "interferers"):
                try:
                    spec = _interferer(ck, item, isrc, i)
                except Invalid:
                    continue
                if spec is not None:
                    interferers.append(spec)
        except Invalid:
            pass
    return S.MediumSpec(
        model=model_name,
        path_loss_exponent=S.DEFAULT_PATH_LOSS_EXPONENT if exponent is None else exponent,
        noise_floor_dbm=S.DEFAULT_NOISE_FLOOR_DBM if noise is None else noise,
        params=params,
        interferers=tuple(interferers),
    )


def _label(value: object, fallback: str) -> str:
    if isinstance(value, dict) and isinstance(value.get("name"), str):
        return f"{fallback.split(' #')[0]} {value['name']!r}"
    return fallback


def _interferer(ck: Checker, value: object, src: Src, index: int) -> S.InterfererSpec | None:
    what = _label(value, f"interferer #{index + 1}")
    m = ck.mapping(value, src, what, _INTERFERER_KEYS, ("name",))
    name = m.get("name", lambda v, s: ck.text(v, s, "an interferer name"))
    if name is not None:
        if name in ck.interferer_names:
            ck.error(m.value_src("name"), f"duplicate interferer name {name!r}")
        ck.interferer_names.add(name)
    kind = m.get("kind", lambda v, s: ck.choice(v, s, S.INTERFERER_KINDS, "interferer kind"))
    kind = kind or (None if "kind" in m else S.DEFAULT_INTERFERER_KIND)
    wifi = m.get("wifi_channel", lambda v, s: ck.integer(v, s, 1, 14, "a Wi-Fi channel"))
    freq = m.get("frequency_mhz", lambda v, s: ck.number(v, s, 2400.0, 2500.0, "a frequency in MHz"))
    ble = m.get("ble_channel", lambda v, s: ck.integer(v, s, 0, 39, "a BLE channel index"))
    center: float | None = None
    if kind == "wifi":
        for key in ("frequency_mhz", "ble_channel"):
            if key in m:
                ck.error(m.key_src(key), f"{key} does not apply to a wifi interferer (use wifi_channel)")
        if "wifi_channel" not in m:
            ck.error(src, f"missing key 'wifi_channel' in {what}")
        elif wifi is not None:
            center = 2484.0 if wifi == 14 else 2412.0 + 5 * (wifi - 1)
    elif kind is not None:
        if "wifi_channel" in m:
            ck.error(m.key_src("wifi_channel"), f"wifi_channel applies only to kind 'wifi', not {kind!r}")
        if ("frequency_mhz" in m) == ("ble_channel" in m):
            ck.error(src, f"{what} needs exactly one of 'frequency_mhz' or 'ble_channel'")
        center = freq if freq is not None else (S.ble_channel_mhz(ble) if ble is not None else None)
        if kind == "tone" and "bandwidth_mhz" in m:
            ck.error(m.key_src("bandwidth_mhz"), "a tone has no bandwidth")
    bandwidth = m.get("bandwidth_mhz", lambda v, s: ck.number(v, s, 0.001, 100.0, "a bandwidth in MHz"))
    position = m.get("position", ck.position)
    power = m.get("tx_power", ck.power)
    duty = m.get("duty_cycle", lambda v, s: ck.number(v, s, 0.0, 1.0, "a duty cycle"))
    if duty == 0.0:
        ck.error(m.value_src("duty_cycle"), "a duty cycle of 0 never transmits; use enabled: false")
    period = m.get("period", lambda v, s: ck.duration(v, s, positive=True))
    enabled = m.get("enabled", lambda v, s: ck.boolean(v, s))
    if name is None or kind is None or center is None:
        return None
    return S.InterfererSpec(
        name=name,
        kind=kind,  # type: ignore[arg-type]
        center_mhz=center,
        bandwidth_mhz=bandwidth if bandwidth is not None else S.DEFAULT_INTERFERER_BANDWIDTH_MHZ[kind],
        position=position or S.DEFAULT_POSITION,
        power_dbm=S.DEFAULT_INTERFERER_POWER_DBM if power is None else power,
        duty_cycle=S.DEFAULT_INTERFERER_DUTY_CYCLE if duty is None else duty,
        period_ns=S.DEFAULT_INTERFERER_PERIOD_NS if period is None else period,
        enabled=True if enabled is None else enabled,
    )


def _node_names(ck: Checker, value: object, src: Src) -> None:
    """First pass over nodes: their names (for references) and duplicate names."""
    if not isinstance(value, list):
        return
    for _, item, isrc in ck.items(value, src, "nodes"):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        name = item["name"]
        marks = item.value_marks if isinstance(item, MarkedMap) else {}
        nsrc = isrc.child(marks.get("name"), f"{isrc.path}.name")
        if name in ck.node_names:
            first = ck.node_names[name]
            where = f" (first defined at line {first})" if first else ""
            ck.error(nsrc, f"duplicate node name {name!r}{where}")
        else:
            ck.node_names[name] = nsrc.line


def _address(ck: Checker, value: object, src: Src) -> bytes:
    if not isinstance(value, str) or not _ADDRESS_RE.match(value.strip()):
        shown = value if isinstance(value, str) else describe(value)
        raise ck.error(src, f"bad address {shown!r}: expected six hex octets like AC:6B:1E:F5:33:DB"
                       if isinstance(value, str) else
                       f"bad address {shown}: expected six hex octets like AC:6B:1E:F5:33:DB")
    return bytes.fromhex(re.sub(r"[:-]", "", value.strip()))[::-1]


def _features(ck: Checker, value: object, src: Src) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return ck.integer(value, src, 0, 2**64 - 1, "an LE feature mask")
    mask = 0
    bad = False
    for _, item, isrc in ck.items(value, src, "LE feature names"):
        try:
            mask |= 1 << S.LE_FEATURE_BITS[ck.choice(item, isrc, S.LE_FEATURE_BITS, "LE feature")]
        except Invalid:
            bad = True
    if bad:
        raise Invalid()
    return mask


def _controller(ck: Checker, value: object, src: Src, node: str) -> S.ControllerSpec:
    m = ck.mapping(value, src, f"controller options of node {node!r}", _CONTROLLER_KEYS)

    def rng(lo: int, hi: int) -> Callable[[object, Src], int]:
        return lambda v, s: ck.integer(v, s, lo, hi)

    return S.ControllerSpec(
        le_acl_data_packet_length=m.get("le_acl_data_packet_length", rng(27, 251)),
        total_num_le_acl_data_packets=m.get("total_num_le_acl_data_packets", rng(1, 255)),
        le_features=m.get("features", lambda v, s: _features(ck, v, s)),
        max_connections=m.get("max_connections", rng(1, 64)),
        filter_accept_list_size=m.get("filter_accept_list_size", rng(0, 255)),
        resolving_list_size=m.get("resolving_list_size", rng(0, 255)),
    )


def _node(ck: Checker, value: object, src: Src, index: int,
          addresses: dict[bytes, tuple[str, int]]) -> S.NodeSpec | None:
    what = _label(value, f"node #{index + 1}")
    m = ck.mapping(value, src, what, _NODE_KEYS, ("name", "personality"))
    name = m.get("name", lambda v, s: ck.text(v, s, "a node name"))
    if name is not None and not S.NODE_NAME_RE.match(name):
        ck.error(m.value_src("name"),
                 f"bad node name {name!r}: use letters, digits, '_', '-' and '.'")
    personality = m.get("personality", lambda v, s: ck.choice(v, s, S.PERSONALITIES, "personality"))
    firmware: Path | None = None
    if personality == "hci":
        for key, why in (("firmware", "runs no firmware"), ("lib", "runs no firmware")):
            if key in m:
                ck.error(m.key_src(key), f"{key!r} is not used by hci node {name!r}: an hci node {why} "
                                         "(it has 'transport' or 'controller' instead)")
    elif "firmware" in m:
        firmware = m.get("firmware", lambda v, s: ck.path(v, s, "firmware file", "file"))
    elif personality is not None:
        ck.error(src, f"missing key 'firmware' in {what} (personality {personality} runs a firmware file)")
    lib: tuple[Path, ...] = ()
    if "lib" in m and personality != "hci":
        def libs(v: object, s: Src) -> tuple[Path, ...]:
            if isinstance(v, str):
                return (ck.path(v, s, "lib folder", "any"),)
            out: list[Path] = []
            for _, item, isrc in ck.items(v, s, "lib folders"):
                try:
                    out.append(ck.path(item, isrc, "lib folder", "any"))
                except Invalid:
                    pass
            return tuple(out)
        lib = m.get("lib", libs) or ()
    address_type = m.get("address_type", lambda v, s: ck.choice(v, s, ("public", "random"), "address type"))
    raw = m.get("address", lambda v, s: _address(ck, v, s))
    address: Address | None = None
    if raw is not None:
        address = Address(raw, address_type == "random")
        asrc = m.value_src("address")
        if address_type == "random" and raw[5] >> 6 != 0b11:
            ck.error(asrc, f"random static address {str(address)!r} must have its two most "
                           "significant bits set (first octet C0 to FF)")
        if raw in addresses:
            other, line = addresses[raw]
            ck.error(asrc, f"duplicate address {str(address)!r} (also used by node {other!r}"
                           + (f" at line {line})" if line else ")"))
        else:
            addresses[raw] = (name or "?", asrc.line)
    position = m.get("position", ck.position)
    tx_power = m.get("tx_power", ck.power)
    drift = m.get("clock_drift_ppm", lambda v, s: ck.number(v, s, -500.0, 500.0, "a clock drift in ppm"))
    boot = m.get("boot_time", ck.duration)
    latency = m.get("hci_latency", ck.duration)
    controller = S.ControllerSpec()
    controller_transport: str | None = None
    if "controller" in m:
        cv = m.data["controller"]
        if isinstance(cv, str):
            controller_transport = m.get("controller", lambda v, s: ck.text(v, s, "a controller"))
        elif isinstance(cv, dict):
            try:
                controller = _controller(ck, cv, m.value_src("controller"), name or "?")
            except Invalid:  # pragma: no cover - a dict always maps
                pass
        else:
            ck.error(m.value_src("controller"), "expected controller options (a mapping) or a real "
                                                f"controller such as \"usb:0\", got {describe(cv)}")
    transport = m.get("transport", lambda v, s: ck.text(v, s, "a transport such as \"tcp:9000\""))
    if "transport" in m and personality not in (None, "hci"):
        ck.error(m.key_src("transport"), f"'transport' applies only to hci nodes, not {personality}")
    if personality == "hci" and "transport" not in m and not isinstance(m.data.get("controller"), str):
        ck.error(src, f"hci node {name!r} needs 'transport' (where its host connects) or "
                      "'controller' (a real controller such as \"usb:0\")")
    if name is None or personality is None:
        return None
    return S.NodeSpec(
        name=name,
        personality=personality,  # type: ignore[arg-type]
        firmware=firmware,
        lib=lib,
        position=position or S.DEFAULT_POSITION,
        address=address,
        address_type=address_type or S.DEFAULT_ADDRESS_TYPE,  # type: ignore[arg-type]
        tx_power_dbm=S.DEFAULT_TX_POWER_DBM if tx_power is None else tx_power,
        clock_drift_ppm=S.DEFAULT_CLOCK_DRIFT_PPM if drift is None else drift,
        boot_time_ns=S.DEFAULT_BOOT_TIME_NS if boot is None else boot,
        hci_latency_ns=S.DEFAULT_HCI_LATENCY_NS if latency is None else latency,
        controller=controller,
        controller_transport=controller_transport,
        transport=transport,
    )


def _capture(ck: Checker, value: object, src: Src) -> S.CaptureSpec:
    m = ck.mapping(value, src, "capture", _CAPTURE_KEYS)
    fmt = m.get("hci_format", lambda v, s: ck.choice(v, s, ("btsnoop", "pcap"), "HCI capture format"))
    return S.CaptureSpec(
        air=m.get("air", lambda v, s: ck.path(v, s, "air capture file", None)),
        hci=m.get("hci", lambda v, s: ck.path(v, s, "HCI capture folder", None)),
        hci_format=fmt or S.DEFAULT_HCI_FORMAT,  # type: ignore[arg-type]
        logs=m.get("logs", lambda v, s: ck.path(v, s, "log folder", None)),
    )


def _regex(ck: Checker, value: object, src: Src) -> str:
    pattern = ck.text(value, src, "a regular expression")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ck.error(src, f"bad regular expression {pattern!r}: {exc}") from None
    return pattern


def _expectation(ck: Checker, value: object, src: Src, index: int) -> S.ExpectSpec | None:
    what = f"expectation #{index + 1}"
    if not isinstance(value, dict):
        raise ck.error(src, f"expected a mapping for {what}, got {describe(value)}")
    kinds = [k for k in _EXPECT_KINDS if k in value]
    if len(kinds) != 1:
        every = sorted({key for keys in _EXPECT_KINDS.values() for key in keys})
        ck.mapping(value, src, what, every)
        if not kinds:
            raise ck.error(src, f"{what} needs one of: {', '.join(_EXPECT_KINDS)}")
        raise ck.error(src, f"{what} has one kind; found {' and '.join(map(repr, kinds))}")
    kind = kinds[0]
    allowed = _EXPECT_KINDS[kind]
    required = ("node", "output") if kind == "output" else (kind,)
    m = ck.mapping(value, src, f"{kind!r} {what}", allowed, required)
    loc = src.location
    if kind == "output":
        node = m.get("node", ck.node_ref)
        pattern = m.get("output", lambda v, s: _regex(ck, v, s))
        within = m.get("within", ck.window)
        count = m.get("count", lambda v, s: ck.integer(v, s, 0, None, "a count"))
        min_count = m.get("min_count", lambda v, s: ck.integer(v, s, 0, None, "a count"))
        if "count" in m and "min_count" in m:
            ck.error(m.key_src("min_count"), "use either 'count' or 'min_count', not both")
        if node is None or pattern is None:
            return None
        return S.ExpectOutput(node, pattern, within, count,
                              S.DEFAULT_OUTPUT_MIN_COUNT if min_count is None else min_count, loc)
    if kind == "no_errors":
        flag = m.get("no_errors", lambda v, s: ck.boolean(v, s))
        if flag is False:
            ck.error(m.value_src("no_errors"), "no_errors: false checks nothing; write true or remove it")
        return S.ExpectNoErrors(m.get("node", ck.node_ref), loc)
    if kind == "connected":
        def pair(v: object, s: Src) -> tuple[str, str]:
            if not isinstance(v, list) or len(v) != 2:
                raise ck.error(s, f"expected two node names [a, b], got {describe(v)}")
            names: list[str] = []
            for _, item, isrc in ck.items(v, s, "node names"):
                try:
                    names.append(ck.node_ref(item, isrc))
                except Invalid:
                    pass
            if len(names) != 2:
                raise Invalid()
            if names[0] == names[1]:
                raise ck.error(s, f"a node cannot be connected to itself: {names[0]!r}")
            return (names[0], names[1])
        nodes = m.get("connected", pair)
        by = m.get("by", ck.duration)
        flag = m.get("value", lambda v, s: ck.boolean(v, s))
        if nodes is None:
            return None
        return S.ExpectConnected(nodes, by, True if flag is None else flag, loc)
    a = ck.mapping(m.data["air"], m.value_src("air"), f"'air' {what}", _AIR_KEYS, ("pdu",))
    pdu = a.get("pdu", lambda v, s: ck.choice(v, s, S.AIR_PDU_NAMES, "PDU name"))
    lo = a.get("min", lambda v, s: ck.integer(v, s, 0, None, "a packet count"))
    hi = a.get("max", lambda v, s: ck.integer(v, s, 0, None, "a packet count"))
    within = a.get("within", ck.window)
    if lo is not None and hi is not None and lo > hi:
        ck.error(a.value_src("min"), f"min {lo} is more than max {hi}")
    if "min" not in a and "max" not in a:
        lo = S.DEFAULT_AIR_MIN
    if pdu is None:
        return None
    return S.ExpectAir(pdu, lo, hi, within, loc)


def _hex_bytes(ck: Checker, value: object, src: Src) -> bytes:
    if not isinstance(value, str):
        raise ck.error(src, f"expected hex bytes in quotes such as \"42 06 ...\", got {describe(value)}")
    cleaned = re.sub(r"[\s:]", "", value)
    if cleaned.lower().startswith("0x"):
        cleaned = cleaned[2:]
    try:
        data = bytes.fromhex(cleaned)
    except ValueError:
        raise ck.error(src, f"expected hex bytes such as \"42 06 ...\", got {value!r}") from None
    if not 2 <= len(data) <= 257:
        raise ck.error(src, f"expected a PDU of 2 to 257 bytes, got {len(data)}")
    return data


def _access_address(ck: Checker, value: object, src: Src) -> int:
    if isinstance(value, str) and re.fullmatch(r"(?:0[xX])?[0-9A-Fa-f]{1,8}", value.strip()):
        return int(value.strip(), 16)
    what = "a 32-bit access address such as 0x8E89BED6"
    if isinstance(value, int) and not isinstance(value, bool) and not 0 <= value <= 0xFFFFFFFF:
        raise ck.error(src, f"expected {what}, got 0x{value:X}")
    return ck.integer(value, src, what=what)


def _event(ck: Checker, value: object, src: Src, index: int) -> S.TimelineEvent | None:
    what = f"timeline event #{index + 1}"
    if not isinstance(value, dict):
        raise ck.error(src, f"expected a mapping for {what}, got {describe(value)}")
    kinds = [k for k in _EVENT_KINDS if k in value]
    m = ck.mapping(value, src, what, ("at",) + tuple(_EVENT_KINDS), ("at",))
    at = m.get("at", ck.duration)
    if len(kinds) != 1:
        if not kinds:
            raise ck.error(src, f"{what} needs one of: {', '.join(_EVENT_KINDS)}")
        raise ck.error(src, f"{what} has one action; found {' and '.join(map(repr, kinds))}")
    kind = kinds[0]
    allowed, required = _EVENT_KINDS[kind]
    b = ck.mapping(m.data[kind], m.value_src(kind), f"{kind!r} event", allowed, required)
    loc = src.location
    if kind == "move":
        node, pos = b.get("node", ck.node_ref), b.get("position", ck.position)
        return None if at is None or node is None or pos is None else S.MoveEvent(at, node, pos, loc)
    if kind == "link_loss":
        src_node, dst_node = b.get("from", ck.node_ref), b.get("to", ck.node_ref)
        p = b.get("probability", lambda v, s: ck.number(v, s, 0.0, 1.0, "a probability"))
        if src_node is not None and src_node == dst_node:
            ck.error(b.value_src("to"), f"link_loss from a node to itself: {src_node!r}")
        if at is None or src_node is None or dst_node is None or p is None:
            return None
        return S.LinkLossEvent(at, src_node, dst_node, p, loc)
    if kind == "interferer":
        def known(v: object, s: Src) -> str:
            name = ck.text(v, s, "an interferer name")
            if name not in ck.interferer_names:
                hint = (suggest(name, ck.interferer_names) if ck.interferer_names
                        else " (medium.interferers defines none)")
                raise ck.error(s, f"unknown interferer {name!r}{hint}")
            return name
        name, on = b.get("name", known), b.get("enabled", lambda v, s: ck.boolean(v, s))
        return None if at is None or name is None or on is None else S.InterfererEvent(at, name, on, loc)
    if kind == "power":
        node, on = b.get("node", ck.node_ref), b.get("on", lambda v, s: ck.boolean(v, s))
        return None if at is None or node is None or on is None else S.PowerEvent(at, node, on, loc)
    if kind == "reboot":
        node = b.get("node", ck.node_ref)
        return None if at is None or node is None else S.RebootEvent(at, node, loc)
    channel = b.get("channel", lambda v, s: ck.integer(v, s, 0, 39, "a BLE channel index"))
    data = b.get("bytes", lambda v, s: _hex_bytes(ck, v, s))
    aa = b.get("access_address", lambda v, s: _access_address(ck, v, s))
    phy = b.get("phy", lambda v, s: ck.choice(v if not isinstance(v, str) else v.upper(), s,
                                              S.PHY_NAMES, "PHY"))
    pos = b.get("position", ck.position)
    power = b.get("tx_power", ck.power)
    if at is None or channel is None or data is None:
        return None
    return S.InjectEvent(
        at, channel, data,
        S.ADVERTISING_ACCESS_ADDRESS if aa is None else aa,
        S.PHY_NAMES[phy or S.DEFAULT_INJECT_PHY],
        pos or S.DEFAULT_POSITION,
        S.DEFAULT_TX_POWER_DBM if power is None else power,
        loc,
    )


def _each(ck: Checker, m: CheckedMap, key: str, what: str,
          build: Callable[[Checker, object, Src, int], T | None]) -> list[T]:
    out: list[T] = []
    if key not in m:
        return out
    try:
        for i, item, isrc in ck.items(m.data[key], m.value_src(key), what):
            try:
                built = build(ck, item, isrc, i)
            except Invalid:
                continue
            if built is not None:
                out.append(built)
    except Invalid:
        pass
    return out


def _scenario(ck: Checker, m: CheckedMap, default_name: str, source: Path | None) -> S.Scenario | None:
    name = m.get("name", lambda v, s: ck.text(v, s, "a scenario name"))
    description = m.get("description", lambda v, s: v if isinstance(v, str) else ck.text(v, s))
    seed = m.get("seed", lambda v, s: ck.integer(v, s, 0, None, "an integer seed"))
    duration = m.get("duration", lambda v, s: ck.duration(v, s, positive=True))
    stop_when = m.get("stop_when", lambda v, s: ck.choice(v, s, ("duration", "expectations"), "stop_when"))
    medium = S.MediumSpec()
    if "medium" in m:
        medium = m.get("medium", lambda v, s: _medium(ck, v, s)) or medium
    if "nodes" in m:
        _node_names(ck, m.data["nodes"], m.value_src("nodes"))
        if isinstance(m.data["nodes"], list) and not m.data["nodes"]:
            ck.error(m.value_src("nodes"), "a scenario needs at least one node")
    else:
        ck.error(m.src, "missing key 'nodes' at the top level (a scenario needs at least one node)")
    addresses: dict[bytes, tuple[str, int]] = {}
    nodes = _each(ck, m, "nodes", "nodes", lambda c, v, s, i: _node(c, v, s, i, addresses))
    capture = S.CaptureSpec()
    if "capture" in m:
        capture = m.get("capture", lambda v, s: _capture(ck, v, s)) or capture
    expect: list[S.ExpectSpec] = _each(ck, m, "expect", "expectations", _expectation)
    if stop_when == "expectations" and "expect" in m and not m.data["expect"]:
        ck.error(m.value_src("stop_when"), "stop_when: expectations needs at least one expectation")
    elif stop_when == "expectations" and "expect" not in m:
        ck.error(m.value_src("stop_when"), "stop_when: expectations needs at least one expectation")
    timeline: list[S.TimelineEvent] = _each(ck, m, "timeline", "timeline events", _event)
    if ck.problems:
        return None
    return S.Scenario(
        name=name or default_name,
        nodes=tuple(nodes),
        seed=S.DEFAULT_SEED if seed is None else seed,
        duration_ns=S.DEFAULT_DURATION_NS if duration is None else duration,
        medium=medium,
        capture=capture,
        expect=tuple(expect),
        timeline=tuple(sorted(timeline, key=lambda e: e.at_ns)),
        stop_when=stop_when or S.DEFAULT_STOP_WHEN,  # type: ignore[arg-type]
        description=description or "",
        source=source,
        base_dir=m.src.base_dir,
    )


# ---------------------------------------------------------------------------- public API


def validate_mapping(
    data: object,
    *,
    file: str = "<mapping>",
    base_dir: Path | str | None = None,
    overrides: Mapping[str, object] | None = None,
    source: Path | None = None,
    problems: Sequence[Problem] = (),
) -> S.Scenario:
    """Validate a scenario given as a mapping (from :func:`parse_yaml` or built in code).

    ``overrides`` (command-line ``--seed 7``, ``--duration 5s``: top-level keys without
    dashes) replace top-level keys; text values are read as YAML scalars and relative
    paths in them resolve against the current folder. ``problems`` already found (YAML
    duplicate keys) are reported together with the new ones. Raises
    :class:`ScenarioError` listing every problem.
    """
    base = Path(base_dir).resolve() if base_dir is not None else Path.cwd()
    ck = Checker()
    ck.problems.extend(problems)
    top = Src(file, 0, 0, base, "")
    if isinstance(data, (MarkedMap, MarkedList)) and data.mark is not None:
        top = top.child(data.mark, "")
    if data is None:
        ck.error(top, "the scenario is empty: expected a mapping with at least 'nodes'")
        raise ScenarioError(ck.problems)
    if not isinstance(data, dict):
        ck.error(top, f"expected a mapping at the top level, got {describe(data)}")
        raise ScenarioError(ck.problems)
    merged = data
    cli = Src("<command line>", 0, 0, Path.cwd(), "")
    if overrides:
        merged = MarkedMap()
        merged.update(data)
        if isinstance(data, MarkedMap):
            merged.mark = data.mark
            merged.key_marks = dict(data.key_marks)
            merged.value_marks = dict(data.value_marks)
        for key, value in overrides.items():
            merged[key] = _yaml_scalar(value) if isinstance(value, str) else value
            merged.key_marks.pop(key, None)
            merged.value_marks.pop(key, None)
    try:
        m = ck.mapping(merged, top, "the top level", _TOP_KEYS, extension_prefix="x-")
    except Invalid:  # pragma: no cover - merged is a dict
        raise ScenarioError(ck.problems) from None
    for key in overrides or {}:
        m.overridden[key] = Src(cli.file, 0, 0, cli.base_dir, f"--{key.replace('_', '-')}")
    default_name = source.stem if source is not None else "scenario"
    scenario = _scenario(ck, m, default_name, source)
    if scenario is None:
        raise ScenarioError(ck.problems)
    return scenario


def loads_scenario(
    text: str,
    *,
    file: str = "<string>",
    base_dir: Path | str | None = None,
    overrides: Mapping[str, object] | None = None,
) -> S.Scenario:
    """Parse and validate scenario YAML text (paths relative to ``base_dir``, default cwd)."""
    data, problems = parse_yaml(text, file)
    if data is None and problems:
        raise ScenarioError(problems)
    return validate_mapping(data, file=file, base_dir=base_dir, overrides=overrides,
                            problems=problems)


def load_scenario(path: Path | str, overrides: Mapping[str, object] | None = None) -> S.Scenario:
    """Load, validate and return the scenario in ``path``; raise :class:`ScenarioError`
    (``str()`` is one ``error: FILE:LINE:COL: message`` line per problem)."""
    file = str(path)
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ScenarioError([Problem(file, 0, 0, "scenario file not found")]) from None
    except IsADirectoryError:
        raise ScenarioError([Problem(file, 0, 0, "is a folder, expected a scenario file")]) from None
    except OSError as exc:
        raise ScenarioError([Problem(file, 0, 0, f"cannot read the scenario file: {exc.strerror}")]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError([Problem(file, 0, 0, f"not UTF-8 text (byte {exc.start})")]) from None
    data, problems = parse_yaml(text, file)
    if data is None and problems:
        raise ScenarioError(problems)
    return validate_mapping(data, file=file, base_dir=p.resolve().parent, overrides=overrides,
                            source=p.resolve(), problems=problems)
