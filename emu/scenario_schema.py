"""What a scenario is: the dataclasses of a validated scenario, and the names it uses.

Theory of operation
-------------------
:mod:`emu.scenario` reads a YAML file and checks every key; what comes out is a
:class:`Scenario` made of frozen dataclasses. Everything in them is already checked and
normalised, so the world builder never re-validates:

* every time is an ``int`` of nanoseconds (fields end in ``_ns``);
* every path is absolute, resolved against the folder of the YAML file;
* positions are ``(x, y, z)`` metres (a YAML ``[x, y]`` gets ``z = 0``);
* addresses are :class:`linklayer.address.Address`;
* node names referenced by expectations and timeline events exist.

This module holds :class:`Scenario` and the dataclasses of the world it describes (the
medium and its interferers, the nodes and their controllers, the captures). Split for
size, the rest lives next to it and is re-exported here, so ``from emu.scenario_schema
import X`` works for every name:

* :mod:`emu.scenario_defaults`: the ``DEFAULT_*`` constants (listed by YAML place in
  :data:`DEFAULTS`) and the vocabularies (personalities, channel models, interferer
  kinds, PHY names, ``air`` PDU names, LE feature names);
* :mod:`emu.scenario_events`: the ``expect`` and ``timeline`` dataclasses;
* :mod:`emu.scenario_checker`: :class:`Problem`, :class:`ScenarioError`, the marked
  containers the YAML reader builds (:class:`MarkedMap`, :class:`MarkedList`) and
  :class:`Checker`, whose conversions either return a checked value or record a
  :class:`Problem` at the value's :class:`Src` and raise :class:`Invalid`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Mapping

from emu.scenario_checker import (
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
from emu.scenario_defaults import (
    ADVERTISING_ACCESS_ADDRESS,
    AIR_PDU_NAMES,
    CHANNEL_MODELS,
    DEFAULTS,
    INTERFERER_KINDS,
    LE_FEATURE_BITS,
    NODE_NAME_RE,
    PERSONALITIES,
    PHY_NAMES,
    Position,
    ble_channel_mhz,
)
from emu.scenario_defaults import (
    DEFAULT_ADDRESS_TYPE as DEFAULT_ADDRESS_TYPE,
    DEFAULT_AIR_MIN as DEFAULT_AIR_MIN,
    DEFAULT_BOOT_TIME_NS as DEFAULT_BOOT_TIME_NS,
    DEFAULT_CHANNEL_MODEL as DEFAULT_CHANNEL_MODEL,
    DEFAULT_CLOCK_DRIFT_PPM as DEFAULT_CLOCK_DRIFT_PPM,
    DEFAULT_DURATION_NS as DEFAULT_DURATION_NS,
    DEFAULT_HCI_FORMAT as DEFAULT_HCI_FORMAT,
    DEFAULT_HCI_LATENCY_NS as DEFAULT_HCI_LATENCY_NS,
    DEFAULT_INJECT_PHY as DEFAULT_INJECT_PHY,
    DEFAULT_INTERFERER_BANDWIDTH_MHZ as DEFAULT_INTERFERER_BANDWIDTH_MHZ,
    DEFAULT_INTERFERER_DUTY_CYCLE as DEFAULT_INTERFERER_DUTY_CYCLE,
    DEFAULT_INTERFERER_KIND as DEFAULT_INTERFERER_KIND,
    DEFAULT_INTERFERER_PERIOD_NS as DEFAULT_INTERFERER_PERIOD_NS,
    DEFAULT_INTERFERER_POWER_DBM as DEFAULT_INTERFERER_POWER_DBM,
    DEFAULT_NOISE_FLOOR_DBM as DEFAULT_NOISE_FLOOR_DBM,
    DEFAULT_OUTPUT_MIN_COUNT as DEFAULT_OUTPUT_MIN_COUNT,
    DEFAULT_PATH_LOSS_EXPONENT as DEFAULT_PATH_LOSS_EXPONENT,
    DEFAULT_POSITION as DEFAULT_POSITION,
    DEFAULT_SEED as DEFAULT_SEED,
    DEFAULT_STOP_WHEN as DEFAULT_STOP_WHEN,
    DEFAULT_TX_POWER_DBM as DEFAULT_TX_POWER_DBM,
)
from emu.scenario_events import (
    ExpectAir,
    ExpectConnected,
    ExpectNoErrors,
    ExpectOutput,
    ExpectSpec,
    InjectEvent,
    InterfererEvent,
    LinkLossEvent,
    MoveEvent,
    PowerEvent,
    RebootEvent,
    TimelineEvent,
)
from linklayer.address import Address

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
    #: MicroPython nodes: which host stack's behaviour to follow (``None``: NimBLE).
    stack: Literal["nimble", "btstack"] | None = None


@dataclass(frozen=True)
class CaptureSpec:
    """Capture outputs (absolute paths; ``None`` = not captured)."""

    air: Path | None = None
    hci: Path | None = None
    hci_format: Literal["btsnoop", "pcap"] = DEFAULT_HCI_FORMAT
    logs: Path | None = None

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
