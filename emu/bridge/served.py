"""A simulated controller of the world, served over a transport to an outside host.

Theory of operation
-------------------
The controller is an ordinary node controller (:func:`emu.world.add_controller_node`),
driven by the kernel and the medium like any other; only its host is elsewhere — BlueZ
over /dev/vhci, Bumble or a Zephyr native build over TCP or a pty. :func:`serve_controller`
adds one sink to the node's :class:`~emu.world.ControllerDriver` that writes everything
the controller sends (events, ACL) to the transport, and routes everything the transport
receives (commands, ACL) through the pacer's inbox to ``ControllerDriver.send_hci`` at
its paced arrival instant. Because both directions go through the driver, the node's
HCI capture (its ``hci_taps``) holds the outside host's traffic, and the air capture its
controller's packets.

When the outside host goes away, ``on_lost`` runs once in the simulation; the caller
powers the node off so that its peers see a supervision timeout, as with a real device.
"""

from __future__ import annotations

from typing import Callable

from ..world import ControllerDriver
from .pacing import Pacer
from .transports import HciTransport


class ServedController:
    """One simulated controller served over one transport."""

    def __init__(self, driver: ControllerDriver, transport: HciTransport) -> None:
        self.driver = driver
        self.transport = transport
        self.lost: str | None = None

    def to_host(self, t_ns: int, h4_type: int, packet: bytes) -> None:
        """The driver's sink: a packet from the simulated controller to the outside host."""
        if self.lost is None:
            self.transport.send(h4_type, packet)

    def from_host(self, h4_type: int, packet: bytes) -> None:
        """A packet from the outside host (in the simulation's thread)."""
        if self.lost is None:
            self.driver.send_hci(h4_type, packet)


def serve_controller(
    driver: ControllerDriver,
    transport: HciTransport,
    pacer: Pacer,
    on_lost: Callable[[str], None],
) -> ServedController:
    """Serve ``driver``'s controller over ``transport`` (started here)."""
    served = ServedController(driver, transport)
    driver.hci_sinks.append(served.to_host)

    def arrived(h4_type: int, packet: bytes) -> None:
        pacer.inbox.put(lambda: served.from_host(h4_type, packet))

    def lost(reason: str) -> None:
        def report() -> None:
            if served.lost is None:
                served.lost = reason
                on_lost(reason)

        pacer.inbox.put(report)

    transport.start(arrived, lost)
    return served


__all__ = ["ServedController", "serve_controller"]
