"""A node whose controller is real: blesim's host runs over a transport to a dongle.

Theory of operation
-------------------
:class:`RealController` satisfies the simulation's controller interface
(:class:`emu.world.ControllerLike`) with no radio of its own: packets the host sends are
written to the transport, packets the transport receives are handed out by
:meth:`~RealController.take_hci`. Its node gets an ordinary
:class:`~emu.world.ControllerDriver` — so the unchanged :class:`~emu.host_driver.HostDriver`
runs the node's :class:`~host.host.Host` over it ("a driver that feeds
``Host.hci_from_controller`` and sends ``take_hci``"), HCI captures tap it, and timeline
events find it — plus a silent placeholder radio on the medium (it never opens a
window, so simulated nodes neither hear nor disturb it: the real radio is on the real air).

Transport threads never touch the world: :func:`attach_real_controller` routes each
received packet through the pacer's inbox to a kernel callback that queues it and
services the driver at the packet's (paced) arrival instant. A transport lost (dongle
unplugged, socket closed, framing garbage) reaches ``on_lost`` the same way, once; after
it the controller is ``lost``: packets to it are dropped and none come from it.

Host quirks of real controllers are the host's business (``host/power_on.py``): vendor
events are counted and ignored, optional commands follow the Supported Commands bitmap,
LE-only controllers share ACL buffers. :data:`REAL_COMMAND_TIMEOUT_NS` gives slow resets
(USB dongles re-enumerating, firmware patches applied on reset) room before a command
counts as lost.
"""

from __future__ import annotations

from typing import Callable

from linklayer.radio import RadioIdle, RadioPacket, RadioRx, RadioTx
from phy.units import S

from ..world import ControllerDriver, World
from .pacing import Pacer
from .transports import HciTransport

#: Command timeout for hosts over real controllers (Linux allows 10 s for init commands).
REAL_COMMAND_TIMEOUT_NS = 10 * S


class RealController:
    """The controller interface of the world, implemented by a transport; see the module docstring."""

    def __init__(self, transport: HciTransport) -> None:
        self.transport = transport
        self._out: list[tuple[int, bytes]] = []
        #: Why the transport was lost, once it is.
        self.lost: str | None = None

    # -- host side -------------------------------------------------------------------
    def hci_from_host(self, h4_type: int, packet: bytes, now: int) -> None:
        if self.lost is None:
            self.transport.send(h4_type, packet)

    def take_hci(self) -> list[tuple[int, bytes]]:
        out, self._out = self._out, []
        return out

    def has_output(self) -> bool:
        return bool(self._out)

    def received(self, h4_type: int, packet: bytes) -> None:
        """A packet from the real controller (in the simulation's thread)."""
        if self.lost is None:
            self._out.append((h4_type, packet))

    # -- no simulated radio --------------------------------------------------------------
    def radio_synced(self, now: int) -> None:
        return None

    def radio_received(self, packet: RadioPacket, now: int) -> None:
        return None

    def radio_lost(self, now: int) -> None:
        return None

    def handle_timer(self, now: int) -> None:
        return None

    def get_timer(self) -> int | None:
        return None

    def take_radio(self) -> list[RadioTx | RadioRx | RadioIdle]:
        return []


def attach_real_controller(
    world: World,
    pacer: Pacer,
    name: str,
    transport: HciTransport,
    position: tuple[float, ...],
    on_lost: Callable[[str], None],
) -> ControllerDriver:
    """Add node ``name`` to ``world`` with ``transport``'s controller; returns its driver.

    The transport is started here; ``on_lost(reason)`` runs in the simulation when it is lost.
    """
    controller = RealController(transport)
    driver = world.add_controller(name, controller, position)

    def arrived(h4_type: int, packet: bytes) -> None:
        def deliver() -> None:
            controller.received(h4_type, packet)
            driver.service()

        pacer.inbox.put(deliver)

    def lost(reason: str) -> None:
        def report() -> None:
            if controller.lost is None:
                controller.lost = reason
                on_lost(reason)

        pacer.inbox.put(report)

    transport.start(arrived, lost)
    return driver


__all__ = ["REAL_COMMAND_TIMEOUT_NS", "RealController", "attach_real_controller"]
