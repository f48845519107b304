"""What a run leaves behind: the data expectations, summaries and reports read.

A :class:`RunRecord` is filled while a world runs (by :mod:`emu.run`) and read afterwards
(by :mod:`emu.expect`, :mod:`emu.report`, the JSON summary). Everything is plain data with
simulated instants in integer nanoseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from phy.types import Phy


class OutputLine(NamedTuple):
    """A complete line a node's firmware printed, and when."""

    t_ns: int
    text: str


class FirmwareFailure(NamedTuple):
    """A firmware exception or watchdog stop: when, what, and the traceback text."""

    t_ns: int
    message: str
    traceback: str


class AirPacket(NamedTuple):
    """One transmission as the world saw it (ideal sniffer)."""

    start_ns: int
    end_ns: int
    node: str  # sender ("" for injected bytes)
    channel: int
    phy: Phy
    access_address: int
    pdu: bytes
    pdu_kind: int  # LE LL pseudo-header PDU type: 0 adv, 1 aux adv, 2 data C->P, 3 data P->C
    crc_ok: bool
    rssi_dbm: float  # at the capture's sniffer position


class RadioWindow(NamedTuple):
    """A receive window a node's controller opened (scanning, waiting for a response...)."""

    start_ns: int
    end_ns: int
    node: str
    channel: int


class LinkSample(NamedTuple):
    """A packet node ``receiver`` received from node ``sender`` with this RSSI."""

    t_ns: int
    sender: str
    receiver: str
    rssi_dbm: float


class ConnectionSpan(NamedTuple):
    """A connection between two nodes (central first); ``end_ns`` None while open."""

    start_ns: int
    end_ns: int | None
    central: str
    peripheral: str
    reason: int | None = None


@dataclass
class NodeRecord:
    name: str
    personality: str
    address: str
    address_type: str
    status: str = "not started"  # running / stopped / failed / rebooted / off
    output: list[OutputLine] = field(default_factory=list)
    failures: list[FirmwareFailure] = field(default_factory=list)
    tx_packets: int = 0
    rx_packets: int = 0
    rx_crc_errors: int = 0


@dataclass
class RunRecord:
    name: str
    seed: int
    duration_ns: int
    end_ns: int = 0
    stopped_early: bool = False
    interrupted: bool = False
    nodes: dict[str, NodeRecord] = field(default_factory=dict)
    air: list[AirPacket] = field(default_factory=list)
    windows: list[RadioWindow] = field(default_factory=list)
    links: list[LinkSample] = field(default_factory=list)
    connections: list[ConnectionSpan] = field(default_factory=list)
