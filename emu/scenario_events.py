"""What a scenario checks and does over time: the ``expect`` and ``timeline`` dataclasses.

Theory of operation
-------------------
Each ``expect[]`` item becomes one of :class:`ExpectOutput`, :class:`ExpectNoErrors`,
:class:`ExpectConnected` or :class:`ExpectAir` (together :data:`ExpectSpec`); each
``timeline[]`` item becomes one event (together :data:`TimelineEvent`), with its time in
``at_ns``. Every class names its YAML kind in the class variable ``kind`` and keeps the
``location`` (``file:line``) it was read from for messages; ``location`` takes no part
in equality. Values are already checked and normalised by :mod:`emu.scenario`; defaults
come from :mod:`emu.scenario_defaults`. :mod:`emu.scenario_schema` re-exports every name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Union

from emu.scenario_defaults import (
    ADVERTISING_ACCESS_ADDRESS,
    DEFAULT_AIR_MIN,
    DEFAULT_OUTPUT_MIN_COUNT,
    DEFAULT_POSITION,
    DEFAULT_TX_POWER_DBM,
    Position,
)
from phy.types import Phy

__all__ = [
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
]


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
    """``{connected: [a, b], by: T, value: bool}``: whether a connection between a and b
    (either role) started at or before ``by_ns`` (``None`` = the end of the run)."""

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
