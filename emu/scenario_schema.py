"""What a scenario is: the dataclasses, defaults and vocabularies, and how values are checked.

Theory of operation
-------------------
:mod:`emu.scenario` reads a YAML file and checks every key; what comes out is a
:class:`Scenario` made of the frozen dataclasses below. Everything in them is already
checked and normalised, so the world builder never re-validates:

* every time is an ``int`` of nanoseconds (fields end in ``_ns``);
* every path is absolute, resolved against the folder of the YAML file;
* positions are ``(x, y, z)`` metres (a YAML ``[x, y]`` gets ``z = 0``);
* addresses are :class:`linklayer.address.Address`;
* node names referenced by expectations and timeline events exist.

All defaults live in the ``DEFAULT_*`` constants (listed by YAML place in
:data:`DEFAULTS`); the dataclass fields and the loader both read them, so the
documentation, the loader and the dataclasses cannot disagree. The vocabularies a
scenario may use (personalities, channel models, interferer kinds, PDU names for
``air`` expectations, LE feature names) are also here, in one place, for the modules
that implement them to check against.

The second half is the checking machinery :mod:`emu.scenario` uses: :class:`Problem` and
:class:`ScenarioError`, the marked containers the YAML reader builds
(:class:`MarkedMap`, :class:`MarkedList`), and :class:`Checker`, whose conversions
(duration, position, path, choice...) either return a checked value or record a
:class:`Problem` at the value's :class:`Src` and raise :class:`Invalid`.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import (
    Any,
    Callable,
    ClassVar,
    Collection,
    Iterator,
    Literal,
    Mapping,
    Sequence,
    TypeVar,
    Union,
)

from yaml.error import Mark

from emu.units_parse import UnitError, format_duration, parse_duration, parse_power
from linklayer.address import Address
from phy.types import Phy
from phy.units import MS, S

__all__ = [
    "DEFAULTS",
    "NODE_NAME_RE",
    "PERSONALITIES",
    "CHANNEL_MODELS",
    "INTERFERER_KINDS",
    "AIR_PDU_NAMES",
    "LE_FEATURE_BITS",
    "PHY_NAMES",
    "ADVERTISING_ACCESS_ADDRESS",
    "Position",
    "InterfererSpec",
    "MediumSpec",
    "ControllerSpec",
    "NodeSpec",
    "CaptureSpec",
    "ExpectOutput",
    "ExpectNoErrors",
    "ExpectConnected",
    "ExpectAir",
    "ExpectSpec",
    "MoveEvent",
    "LinkLossEvent",
    "InterfererEvent",
    "PowerEvent",
    "RebootEvent",
    "InjectEvent",
    "TimelineEvent",
    "Scenario",
    "ble_channel_mhz",
    "Problem",
    "ScenarioError",
    "MarkedMap",
    "MarkedList",
    "Src",
    "Invalid",
    "Checker",
    "CheckedMap",
    "describe",
    "suggest",
]

T = TypeVar("T")

Position = tuple[float, float, float]

# Every default of a scenario file, in one place (times in nanoseconds). The dataclass
# fields below and the loader use these names; DEFAULTS lists them for documentation.
DEFAULT_SEED = 0
DEFAULT_DURATION_NS = 10 * S
DEFAULT_STOP_WHEN: Literal["duration", "expectations"] = "duration"
DEFAULT_CHANNEL_MODEL = "log_distance"
DEFAULT_PATH_LOSS_EXPONENT = 2.0
DEFAULT_NOISE_FLOOR_DBM = -100.0
DEFAULT_POSITION: tuple[float, float, float] = (0.0, 0.0, 0.0)
DEFAULT_ADDRESS_TYPE: Literal["public", "random"] = "public"
DEFAULT_TX_POWER_DBM = 0.0
DEFAULT_CLOCK_DRIFT_PPM = 20.0
DEFAULT_BOOT_TIME_NS = 0
DEFAULT_HCI_LATENCY_NS = 0
DEFAULT_HCI_FORMAT: Literal["btsnoop", "pcap"] = "btsnoop"
DEFAULT_INTERFERER_KIND: Literal["wifi", "tone", "noise"] = "noise"
DEFAULT_INTERFERER_POWER_DBM = 0.0
DEFAULT_INTERFERER_BANDWIDTH_MHZ: Mapping[str, float] = MappingProxyType(
    {"wifi": 20.0, "tone": 0.0, "noise": 2.0}
)
DEFAULT_INTERFERER_DUTY_CYCLE = 1.0
DEFAULT_INTERFERER_PERIOD_NS = 10 * MS
DEFAULT_OUTPUT_MIN_COUNT = 1
DEFAULT_AIR_MIN = 1
#: The advertising channel access address (Vol 6 Part B 2.1.2), default of ``inject``.
ADVERTISING_ACCESS_ADDRESS = 0x8E89BED6
DEFAULT_INJECT_PHY = "1M"

#: The defaults above by their YAML place, for ``blesim validate`` and the docs.
DEFAULTS: Mapping[str, object] = MappingProxyType(
    {
        "seed": DEFAULT_SEED,
        "duration": "10s",
        "stop_when": DEFAULT_STOP_WHEN,
        "medium.model": DEFAULT_CHANNEL_MODEL,
        "medium.path_loss_exponent": DEFAULT_PATH_LOSS_EXPONENT,
        "medium.noise_floor_dbm": DEFAULT_NOISE_FLOOR_DBM,
        "medium.interferers[].kind": DEFAULT_INTERFERER_KIND,
        "medium.interferers[].power_dbm": DEFAULT_INTERFERER_POWER_DBM,
        "medium.interferers[].bandwidth_mhz": dict(DEFAULT_INTERFERER_BANDWIDTH_MHZ),
        "medium.interferers[].duty_cycle": DEFAULT_INTERFERER_DUTY_CYCLE,
        "medium.interferers[].period": "10ms",
        "medium.interferers[].enabled": True,
        "nodes[].position": [0, 0],
        "nodes[].address": "assigned from the seed",
        "nodes[].address_type": DEFAULT_ADDRESS_TYPE,
        "nodes[].tx_power": DEFAULT_TX_POWER_DBM,
        "nodes[].clock_drift_ppm": DEFAULT_CLOCK_DRIFT_PPM,
        "nodes[].boot_time": "0s",
        "nodes[].hci_latency": "0s",
        "nodes[].controller.*": "the simulated controller's own default",
        "capture.hci_format": DEFAULT_HCI_FORMAT,
        "expect[].min_count": DEFAULT_OUTPUT_MIN_COUNT,
        "expect[].by": "the end of the run",
        "expect[].value": True,
        "expect[].air.min": "1 when neither min nor max is given",
        "timeline[].inject.access_address": "0x8E89BED6",
        "timeline[].inject.phy": DEFAULT_INJECT_PHY,
        "timeline[].inject.position": [0, 0],
        "timeline[].inject.tx_power": 0.0,
    }
)

#: Node personalities. ``hci`` nodes run no firmware: their host is outside
#: (``transport:``) or their controller is a real one (``controller: "usb:0"``).
PERSONALITIES: tuple[str, ...] = ("micropython", "quectel", "circuitpython", "native", "hci")

#: Channel models by name, with the parameters each accepts (``medium.params``) and their
#: defaults. ``path_loss_exponent`` is a field of :class:`MediumSpec`, used by
#: ``log_distance``. The medium's model registry must know these names.
CHANNEL_MODELS: Mapping[str, Mapping[str, float]] = MappingProxyType(
    {
        "log_distance": MappingProxyType(
            {"reference_distance_m": 1.0, "reference_loss_db": 40.0, "shadowing_sigma_db": 0.0}
        ),
        "free_space": MappingProxyType({}),
        "fixed": MappingProxyType({"loss_db": 0.0}),
    }
)

#: Interferer kinds: ``wifi`` (a Wi-Fi channel, 20 MHz wide), ``tone`` (a carrier on one
#: frequency) and ``noise`` (a band of noise around a frequency).
INTERFERER_KINDS: tuple[str, ...] = ("wifi", "tone", "noise")

#: The PHY names an ``inject`` event may use.
PHY_NAMES: Mapping[str, Phy] = MappingProxyType(
    {"1M": Phy.LE_1M, "2M": Phy.LE_2M, "S2": Phy.LE_CODED_S2, "S8": Phy.LE_CODED_S8}
)

_ADV_PDUS = (
    # Vol 6 Part B 2.3 (advertising physical channel PDUs)
    "ADV_IND", "ADV_DIRECT_IND", "ADV_NONCONN_IND", "ADV_SCAN_IND", "SCAN_REQ", "SCAN_RSP",
    "CONNECT_IND", "ADV_EXT_IND", "AUX_ADV_IND", "AUX_SCAN_REQ", "AUX_SCAN_RSP",
    "AUX_CONNECT_REQ", "AUX_CONNECT_RSP", "AUX_CHAIN_IND", "AUX_SYNC_IND",
)
_LL_CONTROL_PDUS = (
    # Vol 6 Part B 2.4.2 (LL control PDUs)
    "LL_CONNECTION_UPDATE_IND", "LL_CHANNEL_MAP_IND", "LL_TERMINATE_IND", "LL_ENC_REQ",
    "LL_ENC_RSP", "LL_START_ENC_REQ", "LL_START_ENC_RSP", "LL_UNKNOWN_RSP", "LL_FEATURE_REQ",
    "LL_FEATURE_RSP", "LL_PAUSE_ENC_REQ", "LL_PAUSE_ENC_RSP", "LL_VERSION_IND",
    "LL_REJECT_IND", "LL_PERIPHERAL_FEATURE_REQ", "LL_CONNECTION_PARAM_REQ",
    "LL_CONNECTION_PARAM_RSP", "LL_REJECT_EXT_IND", "LL_PING_REQ", "LL_PING_RSP",
    "LL_LENGTH_REQ", "LL_LENGTH_RSP", "LL_PHY_REQ", "LL_PHY_RSP", "LL_PHY_UPDATE_IND",
    "LL_MIN_USED_CHANNELS_IND",
)
_ATT_PDUS = (
    # Vol 3 Part F 3.4
    "ATT_ERROR_RSP", "ATT_EXCHANGE_MTU_REQ", "ATT_EXCHANGE_MTU_RSP",
    "ATT_FIND_INFORMATION_REQ", "ATT_FIND_INFORMATION_RSP", "ATT_FIND_BY_TYPE_VALUE_REQ",
    "ATT_FIND_BY_TYPE_VALUE_RSP", "ATT_READ_BY_TYPE_REQ", "ATT_READ_BY_TYPE_RSP",
    "ATT_READ_REQ", "ATT_READ_RSP", "ATT_READ_BLOB_REQ", "ATT_READ_BLOB_RSP",
    "ATT_READ_MULTIPLE_REQ", "ATT_READ_MULTIPLE_RSP", "ATT_READ_BY_GROUP_TYPE_REQ",
    "ATT_READ_BY_GROUP_TYPE_RSP", "ATT_READ_MULTIPLE_VARIABLE_REQ",
    "ATT_READ_MULTIPLE_VARIABLE_RSP", "ATT_WRITE_REQ", "ATT_WRITE_RSP", "ATT_WRITE_CMD",
    "ATT_SIGNED_WRITE_CMD", "ATT_PREPARE_WRITE_REQ", "ATT_PREPARE_WRITE_RSP",
    "ATT_EXECUTE_WRITE_REQ", "ATT_EXECUTE_WRITE_RSP", "ATT_HANDLE_VALUE_NTF",
    "ATT_HANDLE_VALUE_IND", "ATT_HANDLE_VALUE_CFM", "ATT_MULTIPLE_HANDLE_VALUE_NTF",
)
_SMP_PDUS = (
    # Vol 3 Part H 3.3 (codes 0x01-0x0E)
    "SMP_PAIRING_REQUEST", "SMP_PAIRING_RESPONSE", "SMP_PAIRING_CONFIRM",
    "SMP_PAIRING_RANDOM", "SMP_PAIRING_FAILED", "SMP_ENCRYPTION_INFORMATION",
    "SMP_CENTRAL_IDENTIFICATION", "SMP_IDENTITY_INFORMATION",
    "SMP_IDENTITY_ADDRESS_INFORMATION", "SMP_SIGNING_INFORMATION", "SMP_SECURITY_REQUEST",
    "SMP_PAIRING_PUBLIC_KEY", "SMP_PAIRING_DHKEY_CHECK", "SMP_PAIRING_KEYPRESS_NOTIFICATION",
)

#: PDU names an ``air`` expectation may count: advertising PDUs, LL control PDUs, ATT
#: and SMP PDUs (spec names), plus ``LL_EMPTY`` (empty data PDU) and ``LL_DATA`` (any
#: data-channel PDU carrying L2CAP).
AIR_PDU_NAMES: frozenset[str] = frozenset(
    _ADV_PDUS + _LL_CONTROL_PDUS + _ATT_PDUS + _SMP_PDUS + ("LL_EMPTY", "LL_DATA")
)

#: LE feature names for ``controller: {features: [...]}`` -> bit number in the
#: FeatureSet (Vol 6 Part B 4.6).
LE_FEATURE_BITS: Mapping[str, int] = MappingProxyType(
    {
        "le_encryption": 0,
        "connection_parameters_request": 1,
        "extended_reject_indication": 2,
        "peripheral_initiated_features_exchange": 3,
        "le_ping": 4,
        "le_data_packet_length_extension": 5,
        "ll_privacy": 6,
        "extended_scanner_filter_policies": 7,
        "le_2m_phy": 8,
        "stable_modulation_index_transmitter": 9,
        "stable_modulation_index_receiver": 10,
        "le_coded_phy": 11,
        "le_extended_advertising": 12,
        "le_periodic_advertising": 13,
        "channel_selection_algorithm_2": 14,
        "le_power_class_1": 15,
        "minimum_number_of_used_channels_procedure": 16,
    }
)

NODE_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def ble_channel_mhz(channel: int) -> float:
    """Centre frequency of BLE channel index 0-39 (Vol 6 Part B 1.4.1)."""
    if channel == 37:
        return 2402.0
    if channel == 38:
        return 2426.0
    if channel == 39:
        return 2480.0
    if 0 <= channel <= 10:
        return 2404.0 + 2 * channel
    if 11 <= channel <= 36:
        return 2428.0 + 2 * (channel - 11)
    raise ValueError(f"BLE channel index out of range: {channel}")


# ---------------------------------------------------------------------------- medium


@dataclass(frozen=True)
class InterfererSpec:
    """A non-BLE transmitter on the medium (``medium.interferers[]``)."""

    name: str
    kind: Literal["wifi", "tone", "noise"]
    center_mhz: float
    bandwidth_mhz: float
    position: Position = DEFAULT_POSITION
    power_dbm: float = DEFAULT_INTERFERER_POWER_DBM
    #: Fraction of each period the interferer is on (1.0 = always).
    duty_cycle: float = DEFAULT_INTERFERER_DUTY_CYCLE
    period_ns: int = DEFAULT_INTERFERER_PERIOD_NS
    enabled: bool = True


@dataclass(frozen=True)
class MediumSpec:
    """The radio medium: channel model by name, its parameters, noise, interferers."""

    model: str = DEFAULT_CHANNEL_MODEL
    path_loss_exponent: float = DEFAULT_PATH_LOSS_EXPONENT
    noise_floor_dbm: float = DEFAULT_NOISE_FLOOR_DBM
    #: The model's parameters (:data:`CHANNEL_MODELS`), defaults filled in.
    params: Mapping[str, float] = field(
        default_factory=lambda: dict(CHANNEL_MODELS[DEFAULT_CHANNEL_MODEL])
    )
    interferers: tuple[InterfererSpec, ...] = ()


# ---------------------------------------------------------------------------- nodes


@dataclass(frozen=True)
class ControllerSpec:
    """Options of a node's simulated controller; ``None`` = the controller's default.

    Names follow HCI_LE_Read_Buffer_Size (Vol 4 Part E 7.8.2) and the LE FeatureSet
    (Vol 6 Part B 4.6).
    """

    le_acl_data_packet_length: int | None = None
    total_num_le_acl_data_packets: int | None = None
    #: LE FeatureSet bit mask (from names in :data:`LE_FEATURE_BITS` or an integer).
    le_features: int | None = None
    max_connections: int | None = None
    filter_accept_list_size: int | None = None
    resolving_list_size: int | None = None


@dataclass(frozen=True)
class NodeSpec:
    """One device of the world (``nodes[]``)."""

    name: str
    personality: Literal["micropython", "quectel", "circuitpython", "native", "hci"]
    #: Absolute path of the firmware file; ``None`` only for ``hci`` nodes.
    firmware: Path | None = None
    #: Extra import folders/files for the firmware, absolute, in order.
    lib: tuple[Path, ...] = ()
    position: Position = DEFAULT_POSITION
    #: ``None``: the world assigns one from the seed.
    address: Address | None = None
    address_type: Literal["public", "random"] = DEFAULT_ADDRESS_TYPE
    tx_power_dbm: float = DEFAULT_TX_POWER_DBM
    clock_drift_ppm: float = DEFAULT_CLOCK_DRIFT_PPM
    boot_time_ns: int = DEFAULT_BOOT_TIME_NS
    #: Extra delay of each HCI packet between host and controller.
    hci_latency_ns: int = DEFAULT_HCI_LATENCY_NS
    controller: ControllerSpec = field(default_factory=ControllerSpec)
    #: ``controller: "usb:0"``: use this real controller instead of a simulated one.
    controller_transport: str | None = None
    #: ``hci`` nodes: where the outside host connects (``tcp:...``, ``pty``, ...).
    transport: str | None = None


@dataclass(frozen=True)
class CaptureSpec:
    """Capture outputs (absolute paths; ``None`` = not captured)."""

    air: Path | None = None
    hci: Path | None = None
    hci_format: Literal["btsnoop", "pcap"] = DEFAULT_HCI_FORMAT
    logs: Path | None = None


# ---------------------------------------------------------------------------- expect


@dataclass(frozen=True)
class ExpectOutput:
    """``{node, output: REGEX, within: [t0, t1], count: N | min_count: N}``.

    Passes when the number of lines printed by ``node`` matching ``pattern`` (re.search)
    in the window is exactly ``count`` or, when ``count`` is None, at least ``min_count``.
    """

    kind: ClassVar[str] = "output"
    node: str
    pattern: str
    within_ns: tuple[int, int] | None = None
    count: int | None = None
    min_count: int = DEFAULT_OUTPUT_MIN_COUNT
    location: str = field(default="", compare=False)


@dataclass(frozen=True)
class ExpectNoErrors:
    """``{node, no_errors: true}``: the firmware raised nothing (``node`` None = all)."""

    kind: ClassVar[str] = "no_errors"
    node: str | None = None
    location: str = field(default="", compare=False)


@dataclass(frozen=True)
class ExpectConnected:
    """``{connected: [a, b], by: T, value: bool}``: whether a and b are connected at
    ``by_ns`` (``None`` = the end of the run)."""

    kind: ClassVar[str] = "connected"
    nodes: tuple[str, str]
    by_ns: int | None = None
    value: bool = True
    location: str = field(default="", compare=False)


@dataclass(frozen=True)
class ExpectAir:
    """``{air: {pdu: NAME, min: N, max: N, within: [t0, t1]}}``: packets on the air.

    ``min`` defaults to 1 when neither ``min`` nor ``max`` is given.
    """

    kind: ClassVar[str] = "air"
    pdu: str
    min: int | None = DEFAULT_AIR_MIN
    max: int | None = None
    within_ns: tuple[int, int] | None = None
    location: str = field(default="", compare=False)


ExpectSpec = Union[ExpectOutput, ExpectNoErrors, ExpectConnected, ExpectAir]


# ---------------------------------------------------------------------------- timeline


@dataclass(frozen=True)
class MoveEvent:
    """``{at, move: {node, position}}``."""

    kind: ClassVar[str] = "move"
    at_ns: int
    node: str
    position: Position
    location: str = field(default="", compare=False)


@dataclass(frozen=True)
class LinkLossEvent:
    """``{at, link_loss: {from, to, probability}}``: packets from -> to are lost with
    this probability from now on (0 restores the link)."""

    kind: ClassVar[str] = "link_loss"
    at_ns: int
    from_node: str
    to_node: str
    probability: float
    location: str = field(default="", compare=False)


@dataclass(frozen=True)
class InterfererEvent:
    """``{at, interferer: {name, enabled}}``."""

    kind: ClassVar[str] = "interferer"
    at_ns: int
    name: str
    enabled: bool
    location: str = field(default="", compare=False)


@dataclass(frozen=True)
class PowerEvent:
    """``{at, power: {node, on}}``."""

    kind: ClassVar[str] = "power"
    at_ns: int
    node: str
    on: bool
    location: str = field(default="", compare=False)


@dataclass(frozen=True)
class RebootEvent:
    """``{at, reboot: {node}}``: power cycle, firmware restarts from the top."""

    kind: ClassVar[str] = "reboot"
    at_ns: int
    node: str
    location: str = field(default="", compare=False)


@dataclass(frozen=True)
class InjectEvent:
    """``{at, inject: {channel, bytes, access_address, phy, position, tx_power}}``:
    transmit raw PDU bytes on a channel, from no node."""

    kind: ClassVar[str] = "inject"
    at_ns: int
    channel: int
    data: bytes
    access_address: int = ADVERTISING_ACCESS_ADDRESS
    phy: Phy = Phy.LE_1M
    position: Position = DEFAULT_POSITION
    tx_power_dbm: float = DEFAULT_TX_POWER_DBM
    location: str = field(default="", compare=False)


TimelineEvent = Union[
    MoveEvent, LinkLossEvent, InterfererEvent, PowerEvent, RebootEvent, InjectEvent
]


# ---------------------------------------------------------------------------- scenario


@dataclass(frozen=True)
class Scenario:
    """A whole validated scenario file."""

    name: str
    nodes: tuple[NodeSpec, ...]
    seed: int = DEFAULT_SEED
    duration_ns: int = DEFAULT_DURATION_NS
    medium: MediumSpec = field(default_factory=MediumSpec)
    capture: CaptureSpec = field(default_factory=CaptureSpec)
    expect: tuple[ExpectSpec, ...] = ()
    #: Sorted by ``at_ns``; events at the same instant keep their file order.
    timeline: tuple[TimelineEvent, ...] = ()
    #: ``"duration"``: run until ``duration_ns``; ``"expectations"``: stop as soon as
    #: every expectation is decided (still at most ``duration_ns``).
    stop_when: Literal["duration", "expectations"] = DEFAULT_STOP_WHEN
    description: str = ""
    #: The YAML file (absolute) or None when built from a mapping.
    source: Path | None = field(default=None, compare=False)
    #: Folder relative paths were resolved against.
    base_dir: Path = field(default=Path("."), compare=False)

    def node(self, name: str) -> NodeSpec:
        """The node called ``name`` (KeyError if none)."""
        for spec in self.nodes:
            if spec.name == name:
                return spec
        raise KeyError(name)


# ---------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem:
    """One fault of a scenario: where (1-based line and column; 0 = unknown) and what."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        if self.line > 0:
            return f"error: {self.file}:{self.line}:{self.column}: {self.message}"
        return f"error: {self.file}: {self.message}"


class ScenarioError(ValueError):
    """A scenario was refused; :attr:`problems` lists every fault, in file order."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        files: dict[str, int] = {}
        for p in problems:
            files.setdefault(p.file, len(files))
        self.problems: list[Problem] = sorted(
            problems, key=lambda p: (files[p.file], p.line, p.column)
        )
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


# ---------------------------------------------------------------------------- YAML with marks


class MarkedMap(dict[Any, Any]):
    """A YAML mapping that remembers where each key and value starts."""

    def __init__(self) -> None:
        super().__init__()
        self.mark: Mark | None = None
        self.key_marks: dict[Any, Mark] = {}
        self.value_marks: dict[Any, Mark] = {}


class MarkedList(list[Any]):
    """A YAML sequence that remembers where each item starts."""

    def __init__(self) -> None:
        super().__init__()
        self.mark: Mark | None = None
        self.item_marks: list[Mark] = []


# ---------------------------------------------------------------------------- the checker


@dataclass(frozen=True)
class Src:
    """Where a value came from. ``path`` (``nodes[2].position``) names values that have
    no line (command-line overrides, plain mappings)."""

    file: str
    line: int
    column: int
    base_dir: Path
    path: str

    def child(self, mark: Mark | None, path: str) -> Src:
        if mark is None:
            return Src(self.file, 0, 0, self.base_dir, path)
        return Src(self.file, mark.line + 1, mark.column + 1, self.base_dir, path)

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.line else f"{self.file}: {self.path}"


class Invalid(Exception):
    """A problem was recorded; abandon this value."""


def describe(value: object) -> str:
    """A value as a user wrote it, for "got ..." in messages."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def suggest(word: str, options: Collection[str]) -> str:
    if not options:
        return " (nothing is allowed here)"
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (expected one of: {', '.join(sorted(options))})"


class Checker:
    """Records problems; converts and checks values (each conversion raises Invalid)."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.node_names: dict[str, int] = {}
        self.interferer_names: set[str] = set()

    def error(self, src: Src, message: str) -> Invalid:
        if src.line > 0:
            self.problems.append(Problem(src.file, src.line, src.column, message))
        else:
            prefix = f"{src.path}: " if src.path else ""
            self.problems.append(Problem(src.file, 0, 0, prefix + message))
        return Invalid()

    # -- containers ------------------------------------------------------------------
    def mapping(
        self,
        value: object,
        src: Src,
        what: str,
        allowed: Collection[str],
        required: Collection[str] = (),
        *,
        extension_prefix: str | None = None,
    ) -> CheckedMap:
        if not isinstance(value, dict):
            raise self.error(src, f"expected a mapping for {what}, got {describe(value)}")
        result = CheckedMap(self, value, src, what)
        for key in value:
            if not isinstance(key, str):
                self.error(result.key_src(key), f"expected a text key in {what}, got {describe(key)}")
            elif key not in allowed and not (extension_prefix and key.startswith(extension_prefix)):
                self.error(result.key_src(key), f"unknown key {key!r} in {what}" + suggest(key, allowed))
        for key in required:
            if key not in value:
                self.error(src, f"missing key {key!r} in {what}")
        return result

    def items(self, value: object, src: Src, what: str) -> Iterator[tuple[int, object, Src]]:
        if not isinstance(value, list):
            raise self.error(src, f"expected a list of {what}, got {describe(value)}")
        marks = value.item_marks if isinstance(value, MarkedList) else []
        for i, item in enumerate(value):
            yield i, item, src.child(marks[i] if i < len(marks) else None, f"{src.path}[{i}]")

    # -- scalars ---------------------------------------------------------------------
    def text(self, value: object, src: Src, what: str = "a text") -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.error(src, f"expected {what}, got {describe(value)}")
        return value

    def boolean(self, value: object, src: Src) -> bool:
        if not isinstance(value, bool):
            hint = ""
            if isinstance(value, str) and value.lower() in ("yes", "no", "on", "off", "y", "n"):
                hint = " (only true and false are booleans here)"
            raise self.error(src, f"expected true or false, got {describe(value)}{hint}")
        return value

    def integer(self, value: object, src: Src, lo: int | None = None, hi: int | None = None,
                what: str = "an integer") -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(src, f"expected {what}, got {describe(value)}")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise self.error(src, f"expected {what} {_range_text(lo, hi)}, got {value}")
        return value

    def number(self, value: object, src: Src, lo: float | None = None, hi: float | None = None,
               what: str = "a number") -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.error(src, f"expected {what}, got {describe(value)}")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise self.error(src, f"expected {what} {_range_text(lo, hi)}, got {value}")
        return float(value)

    def power(self, value: object, src: Src) -> float:
        try:
            dbm = parse_power(value)
        except UnitError as exc:
            raise self.error(src, str(exc)) from None
        if not -127 <= dbm <= 20:
            raise self.error(src, f"expected a TX power between -127 and 20 dBm, got {describe(value)}")
        return dbm

    def duration(self, value: object, src: Src, positive: bool = False) -> int:
        try:
            t_ns = parse_duration(value)
        except UnitError as exc:
            raise self.error(src, str(exc)) from None
        if positive and t_ns <= 0:
            raise self.error(src, f"expected a duration of more than zero, got {describe(value)}")
        return t_ns

    def choice(self, value: object, src: Src, options: Collection[str], what: str) -> str:
        if not isinstance(value, str) or value not in options:
            hint = suggest(value, options) if isinstance(value, str) else (
                f" (expected one of: {', '.join(options)})")
            raise self.error(src, f"unknown {what} {describe(value)}{hint}")
        return value

    def position(self, value: object, src: Src) -> tuple[float, float, float]:
        if (not isinstance(value, list) or len(value) not in (2, 3) or any(
                isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)
                for v in value)):
            raise self.error(src, f"expected a position [x, y] or [x, y, z] in metres, got {describe(value)}")
        z = float(value[2]) if len(value) == 3 else 0.0
        return (float(value[0]), float(value[1]), z)

    def window(self, value: object, src: Src) -> tuple[int, int]:
        if not isinstance(value, list) or len(value) != 2:
            raise self.error(src, f"expected a time window [t0, t1] such as [0s, 5s], got {describe(value)}")
        start = self.duration(value[0], src)
        end = self.duration(value[1], src)
        if start > end:
            raise self.error(src, f"time window starts after it ends: "
                                  f"{format_duration(start)} > {format_duration(end)}")
        return (start, end)

    def path(self, value: object, src: Src, what: str, must_be: str | None) -> Path:
        """A path resolved against the source's folder; ``must_be`` 'file', 'dir',
        'any' (must exist) or None (an output, need not exist)."""
        text = self.text(value, src, f"a path for {what}")
        resolved = (src.base_dir / text).resolve()
        if must_be is not None and not resolved.exists():
            raise self.error(src, f"{what} not found: {text}")
        if must_be == "file" and not resolved.is_file():
            raise self.error(src, f"{what} is not a file: {text}")
        if must_be == "dir" and not resolved.is_dir():
            raise self.error(src, f"{what} is not a folder: {text}")
        return resolved

    def node_ref(self, value: object, src: Src) -> str:
        name = self.text(value, src, "a node name")
        if name not in self.node_names:
            hint = suggest(name, self.node_names) if self.node_names else " (no nodes are defined)"
            raise self.error(src, f"unknown node {name!r}{hint}")
        return name


def _num(x: float) -> str:
    return str(x) if isinstance(x, int) else f"{x:g}"


def _range_text(lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f"from {_num(lo)} to {_num(hi)}"
    if lo is not None:
        return f"of {_num(lo)} or more"
    return f"of {_num(hi or 0)} or less"


class CheckedMap:
    """A checked mapping with the marks of its keys and values."""

    def __init__(self, ck: Checker, data: dict[Any, Any], src: Src, what: str) -> None:
        self.ck = ck
        self.data = data
        self.src = src
        self.what = what
        self.overridden: dict[str, Src] = {}

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def value_src(self, key: str) -> Src:
        if key in self.overridden:
            return self.overridden[key]
        marks = self.data.value_marks if isinstance(self.data, MarkedMap) else {}
        return self.src.child(marks.get(key), f"{self.src.path}.{key}".lstrip("."))

    def key_src(self, key: object) -> Src:
        if isinstance(key, str) and key in self.overridden:
            return self.overridden[key]
        marks = self.data.key_marks if isinstance(self.data, MarkedMap) else {}
        return self.src.child(marks.get(key), f"{self.src.path}.{key}".lstrip("."))

    def get(self, key: str, conv: Callable[[object, Src], T]) -> T | None:
        """The converted value, or None if absent or bad (a bad one is recorded)."""
        if key not in self.data:
            return None
        try:
            return conv(self.data[key], self.value_src(key))
        except Invalid:
            return None
