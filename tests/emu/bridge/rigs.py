"""A host over a transport, in a small world paced to the wall clock (bounded waits)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from emu.bridge.pacing import Pacer
from emu.bridge.real_controller import attach_real_controller
from emu.bridge.transports import HciTransport
from emu.host_driver import HostDriver
from emu.world import ControllerDriver, World, make_world
from host.events import HostEvent
from host.host import Host
from phy.units import MS

from .session import dongle_host, drive_dongle_host


@dataclass
class HostOverTransport:
    world: World
    pacer: Pacer
    driver: ControllerDriver
    host: Host
    host_driver: HostDriver
    lost: list[tuple[int, str]] = field(default_factory=list)

    def run_until(self, condition: Callable[[], bool], wall_s: float = 10.0) -> bool:
        """Run (paced) until ``condition()`` or ``wall_s`` of wall time; True if it held."""
        deadline = time.monotonic() + wall_s
        while time.monotonic() < deadline:
            self.pacer.run_until(self.world.kernel.now + 5 * MS)
            if condition():
                return True
        return False

    @property
    def events(self) -> list[HostEvent]:
        return [e for _, e in self.host_driver.events]


def host_over(transport: HciTransport, host: Host | None = None, *, app: bool = True) -> HostOverTransport:
    """The recording's dongle host (or ``host``) over ``transport``, powered on."""
    world = make_world(seed=1)
    pacer = Pacer(world.kernel)
    lost: list[tuple[int, str]] = []
    driver = attach_real_controller(world, pacer, "dongle", transport, (0.0, 0.0),
                                    lambda reason: lost.append((world.kernel.now, reason)))
    the_host = host if host is not None else dongle_host()
    host_driver = HostDriver(world, driver, the_host, power_on=False)
    if app:
        host_driver.listeners.append(lambda t, e: drive_dongle_host(the_host, [e], t))
    the_host.power_on(0)
    host_driver.service()
    return HostOverTransport(world, pacer, driver, the_host, host_driver, lost)
