"""A rig for connection tests: controllers in a world, driven only by HCI bytes.

``Rig`` wraps :func:`emu.world.make_world`: every node's HCI output is recorded with its
instant; ``cmd`` sends a command as bytes; ``acl`` sends host data; ``air`` collects
every transmission (the air capture as a list). Helpers return decoded events with their
times, and the ``connect`` helper brings up one legacy connection. The tests at the end
check the rig itself.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from emu.world import ControllerDriver, World, add_controller_node, make_world
from linklayer.address import Address
from linklayer.controller import Controller, ControllerConfig
from linklayer.hci import commands as c
from linklayer.hci import le_commands as lc
from linklayer.hci.acl import HciAclData
from linklayer.hci.codec import HciCommand
from linklayer.hci.registry import parse_event
from linklayer.radio import RadioTx
from phy.medium import Transmission
from phy.types import Phy
from phy.units import MS

ALL_EVENTS = 0x3FFFFFFFFFFFFFFF
ALL_LE_EVENTS = 0xFFFFF
#: Page 2: Authenticated Payload Timeout Expired (bit 23).
PAGE_2_EVENTS = 1 << 23


@dataclass
class AirRecord:
    """One transmission as the air capture sees it."""

    t: int
    end: int
    sender: int
    channel: int
    aa: int
    pdu: bytes
    crc: bytes
    info: Any
    phy: Phy = Phy.LE_1M


@dataclass
class Node:
    name: str
    driver: ControllerDriver
    hci: list[tuple[int, int, bytes]] = field(default_factory=list)

    @property
    def controller(self) -> Controller:
        ctl = self.driver.controller
        assert isinstance(ctl, Controller)
        return ctl

    @property
    def address(self) -> Address:
        return self.controller.config.public_address

    def record(self, t: int, h4_type: int, packet: bytes) -> None:
        self.hci.append((t, h4_type, packet))

    def events(self, since: int = 0) -> list[tuple[int, Any]]:
        return [(t, parse_event(p)) for t, h, p in self.hci if h == 4 and t >= since]

    def event_names(self, since: int = 0) -> list[str]:
        return [type(e).__name__ for _, e in self.events(since)]

    def acl_in(self) -> list[tuple[int, HciAclData]]:
        return [(t, HciAclData.from_bytes(p)) for t, h, p in self.hci if h == 2]


class Rig:
    """Several controllers on one medium, driven by HCI bytes."""

    def __init__(self, seed: int = 1, **world_args: Any) -> None:
        self.world: World = make_world(seed, **world_args)
        self.nodes: dict[str, Node] = {}
        self.air: list[AirRecord] = []
        self.world.air_taps.append(self._tap)

    def _tap(self, tx: Transmission, op: RadioTx) -> None:
        self.air.append(AirRecord(tx.start_ns, tx.end_ns, tx.radio_id, tx.channel, tx.access_address,
                                  tx.pdu, tx.crc, op.capture, tx.phy))

    def add(self, name: str, position: tuple[float, float] = (0.0, 0.0), *, masks: bool = True,
            **config: Any) -> Node:
        cfg = dataclasses.replace(ControllerConfig(), **config) if config else None
        driver = add_controller_node(self.world, name, position, config=cfg)
        node = Node(name, driver)
        driver.hci_sinks.append(node.record)
        self.nodes[name] = node
        if masks:
            self.cmd(node, c.HCI_Set_Event_Mask_Command(event_mask=ALL_EVENTS))
            self.cmd(node, lc.HCI_LE_Set_Event_Mask_Command(le_event_mask=ALL_LE_EVENTS))
            self.cmd(node, c.HCI_Set_Event_Mask_Page_2_Command(event_mask_page_2=PAGE_2_EVENTS))
        return node

    def add_controller(self, name: str, controller: Controller, position: tuple[float, float] = (0.0, 0.0),
                       *, masks: bool = True) -> Node:
        """A node around a controller built by the test (for example with a scripted rng)."""
        driver = self.world.add_controller(name, controller, position)
        node = Node(name, driver)
        driver.hci_sinks.append(node.record)
        self.nodes[name] = node
        if masks:
            self.cmd(node, c.HCI_Set_Event_Mask_Command(event_mask=ALL_EVENTS))
            self.cmd(node, lc.HCI_LE_Set_Event_Mask_Command(le_event_mask=ALL_LE_EVENTS))
            self.cmd(node, c.HCI_Set_Event_Mask_Page_2_Command(event_mask_page_2=PAGE_2_EVENTS))
        return node

    @property
    def now(self) -> int:
        return self.world.kernel.now

    def cmd(self, node: Node, command: HciCommand) -> None:
        node.driver.send_hci(1, command.to_bytes())

    def acl(self, node: Node, handle: int, data: bytes, pb: int = 0b00) -> None:
        node.driver.send_hci(2, HciAclData(handle, pb, 0, data).to_bytes())

    def run(self, duration_ns: int) -> None:
        self.world.run(self.now + duration_ns)

    def run_until(self, node: Node, name: str, limit_ns: int = 5_000 * MS, since: int | None = None) -> tuple[int, Any]:
        """Run until ``node`` reports an event named ``name`` (after ``since``)."""
        start = self.now if since is None else since
        end = self.now + limit_ns
        step = 5 * MS
        while True:
            for t, e in node.events(start):
                if type(e).__name__ == name:
                    return t, e
            if self.now >= end:
                raise AssertionError(f"{node.name}: no {name} within {limit_ns} ns; got {node.event_names(start)}")
            self.world.run(min(end, self.now + step))

    # -- common procedures -------------------------------------------------------------------
    def advertise(self, node: Node, interval: int = 0x20, adv_type: int = 0) -> None:
        self.cmd(node, lc.HCI_LE_Set_Advertising_Parameters_Command(
            advertising_interval_min=interval, advertising_interval_max=interval, advertising_type=adv_type,
            own_address_type=0, peer_address_type=0, peer_address=bytes(6), advertising_channel_map=7,
            advertising_filter_policy=0))
        self.cmd(node, lc.HCI_LE_Set_Advertising_Enable_Command(advertising_enable=1))

    def create(self, central: Node, peer: Node, interval: int = 24, latency: int = 0,
               timeout: int = 100, scan: int = 0x60) -> None:
        self.cmd(central, lc.HCI_LE_Create_Connection_Command(
            le_scan_interval=scan, le_scan_window=scan, initiator_filter_policy=0, peer_address_type=0,
            peer_address=peer.address.value, own_address_type=0, connection_interval_min=interval,
            connection_interval_max=interval, max_latency=latency, supervision_timeout=timeout,
            min_ce_length=0, max_ce_length=0))

    def connect(self, central: Node, peripheral: Node, **kw: Any) -> tuple[int, int]:
        """A legacy connection; returns (central handle, peripheral handle)."""
        t0 = self.now
        self.advertise(peripheral)
        self.create(central, peripheral, **kw)
        _, ec = self.run_until(central, "HCI_LE_Enhanced_Connection_Complete_Event", since=t0)
        _, ep = self.run_until(peripheral, "HCI_LE_Enhanced_Connection_Complete_Event", since=t0)
        assert ec.status == 0 and ep.status == 0
        return ec.connection_handle, ep.connection_handle

    def data_packets(self, aa: int) -> list[AirRecord]:
        return [r for r in self.air if r.aa == aa]


# -- checks of the rig itself -------------------------------------------------------------------


def test_rig_connects_and_records() -> None:
    rig = Rig(seed=3)
    a = rig.add("a", (0.0, 0.0))
    b = rig.add("b", (2.0, 0.0))
    hc, hp = rig.connect(a, b)
    assert (hc, hp) == (0, 0)
    rig.run(100 * MS)
    conn = a.controller.connections[hc]
    assert rig.data_packets(conn.access_address)
    assert conn.established and b.controller.connections[hp].established
