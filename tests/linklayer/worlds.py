"""Helpers for world-level link-layer tests: nodes driven by HCI bytes, air records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from emu import hci_script as hs
from emu.world import ControllerDriver, HciRecorder, World, add_controller_node, make_world
from linklayer.hci.registry import parse_event
from linklayer.radio import RadioTx
from phy.medium import Transmission


@dataclass
class AirLog:
    """Every transmission of a world: (tx, op)."""

    records: list[tuple[Transmission, RadioTx]] = field(default_factory=list)

    def __call__(self, tx: Transmission, op: RadioTx) -> None:
        self.records.append((tx, op))

    def by(self, world: World, name: str) -> list[Transmission]:
        rid = world.drivers[name].radio_id
        return [tx for tx, _ in self.records if tx.radio_id == rid]


@dataclass
class Node:
    driver: ControllerDriver
    hci: HciRecorder

    def events(self) -> list[tuple[int, Any]]:
        return [(t, parse_event(p)) for t, h, p in self.hci.packets if h == 4]

    def le_events(self, cls: type) -> list[tuple[int, Any]]:
        return [(t, e) for t, e in self.events() if isinstance(e, cls)]


def node(world: World, name: str, position: tuple[float, ...] = (0.0, 0.0), **kw: Any) -> Node:
    driver = add_controller_node(world, name, position, **kw)
    rec = HciRecorder()
    driver.hci_sinks.append(rec)
    hs.power_on(driver)
    return Node(driver, rec)


def world_with_air(seed: int = 1, **kw: Any) -> tuple[World, AirLog]:
    world = make_world(seed, **kw)
    air = AirLog()
    world.air_taps.append(air)
    return world, air
