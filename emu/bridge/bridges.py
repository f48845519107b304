"""The bridges of one run: every transport attached to the world, and the pacer they need.

Theory of operation
-------------------
:class:`Bridges` is what :class:`emu.run.Runner` holds once a scenario has a node with a
real controller (``controller: usb:0``) or an ``hci`` node served to an outside host
(``transport: tcp-server:...``). It opens the transports while the world is built — so a
missing dongle, a busy adapter or a refused connection is a clear error before anything
runs — owns the :class:`~emu.bridge.pacing.Pacer` that then runs the kernel no faster than
the wall clock, keeps each transport's state for the summary, and closes everything at
the end of the run whatever ended it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal

from ..world import ControllerDriver, World
from .pacing import Pacer
from .real_controller import RealController, attach_real_controller
from .served import ServedController, serve_controller
from .transports import (
    HciTransport,
    Role,
    TransportError,
    TransportSpecError,
    open_transport,
    parse_transport,
)

Echo = Callable[[str], None]


class BridgeError(RuntimeError):
    """A transport of the scenario cannot be used (bad spec, missing hardware ...)."""


@dataclass
class Bridge:
    """One transport attached to one node."""

    node: str
    kind: Literal["controller", "host"]  # what is outside: a real controller, or a host
    transport: HciTransport
    lost_at_ns: int | None = None
    lost_reason: str | None = None

    @property
    def status(self) -> str:
        if self.lost_reason is not None:
            return "lost"
        return "attached" if self.transport.packets_in else "waiting"

    def describe(self) -> dict[str, object]:
        return {
            "transport": self.transport.description,
            "outside": self.kind,
            "status": self.status,
            "packets_in": self.transport.packets_in,
            "packets_out": self.transport.packets_out,
            "lost_at_s": None if self.lost_at_ns is None else self.lost_at_ns / 1e9,
            "lost_reason": self.lost_reason,
        }


class Bridges:
    """The transports of one run; see the module docstring."""

    def __init__(self, world: World, echo: Echo | None = None, pacer: Pacer | None = None) -> None:
        self.world = world
        self.echo = echo
        self.pacer = pacer if pacer is not None else Pacer(world.kernel, on_report=self._say)
        self.bridges: list[Bridge] = []
        self._closed = False

    def _say(self, text: str) -> None:
        if self.echo is not None:
            self.echo(text)

    def open(self, node: str, text: str, role: Role) -> HciTransport:
        """Open transport ``text`` for node ``node``; :class:`BridgeError` says why not."""
        try:
            spec = parse_transport(text)
            transport = open_transport(spec, role)
            for note in transport.notes:
                self._say(f"{node}: note: {note}")
            return transport
        except (TransportSpecError, TransportError) as exc:
            what = "controller" if role == "host" else "transport"
            message = str(exc)
            for prefix in (f"{text}: ", f"{text.strip()}: "):
                message = message.removeprefix(prefix)
            raise BridgeError(f"node {node!r}, {what} {text}: {message}") from None

    def add_real_controller(
        self, node: str, text: str, position: tuple[float, ...], on_lost: Callable[[str], None]
    ) -> ControllerDriver:
        """Node ``node``'s controller is the real one at ``text``."""
        transport = self.open(node, text, "host")
        bridge = Bridge(node, "controller", transport)
        self.bridges.append(bridge)
        return attach_real_controller(
            self.world, self.pacer, node, transport, position, self._lost(bridge, on_lost)
        )

    def serve(
        self, node: str, text: str, driver: ControllerDriver, on_lost: Callable[[str], None]
    ) -> ServedController:
        """Serve ``driver``'s controller to an outside host at ``text``."""
        transport = self.open(node, text, "controller")
        bridge = Bridge(node, "host", transport)
        self.bridges.append(bridge)
        return serve_controller(driver, transport, self.pacer, self._lost(bridge, on_lost))

    def _lost(self, bridge: Bridge, on_lost: Callable[[str], None]) -> Callable[[str], None]:
        def lost(reason: str) -> None:
            bridge.lost_at_ns = self.world.kernel.now
            bridge.lost_reason = reason
            on_lost(reason)

        return lost

    # -- running -------------------------------------------------------------------------
    def run_until(self, until_ns: int) -> None:
        self.pacer.run_until(until_ns)

    def of(self, node: str) -> list[Bridge]:
        return [b for b in self.bridges if b.node == node]

    def all_lost(self) -> bool:
        """Every attached transport is gone (nothing outside is left to serve)."""
        return bool(self.bridges) and all(b.lost_reason is not None for b in self.bridges)

    def close(self) -> None:
        """Close every transport; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        for bridge in self.bridges:
            bridge.transport.close()

    def summary(self) -> dict[str, object]:
        """The run summary's ``paced`` entry."""
        out = dict(self.pacer.describe())
        out["transports"] = [{"node": b.node, **b.describe()} for b in self.bridges]
        return out


def is_real(driver: ControllerDriver) -> bool:
    """Whether ``driver`` runs a real controller (not a simulated one)."""
    return isinstance(driver.controller, RealController)


__all__ = ["BridgeError", "Bridge", "Bridges", "is_real"]
