"""The simulation driver of a :class:`host.host.Host` (STYLE 2: thin and interchangeable).

Theory of operation
-------------------
A :class:`HostDriver` connects one sans-IO host to the
:class:`~emu.world.ControllerDriver` of its node: packets the controller sends reach
``host.hci_from_controller`` (the driver registers itself in ``hci_sinks``), packets the
host produces go to ``ControllerDriver.send_hci``, and ``host.get_timer()`` is kept
scheduled as one kernel timer. Events the host emits are stamped with the simulated
time, kept in :attr:`HostDriver.events` and handed to every listener.

A controller with no HCI latency answers synchronously, from inside ``send_hci``. So
that the host never sees a packet while it is still handing out the previous ones
(which would reorder its output), packets arriving during :meth:`HostDriver.service`
wait in an inbox that the same loop drains.
"""

from __future__ import annotations

from collections import deque
from typing import Callable

from host.events import HostEvent
from host.host import Host

from .kernel import Timer
from .world import ControllerDriver, World

Listener = Callable[[int, HostEvent], None]


class HostDriver:
    """Runs one host next to one simulated controller."""

    def __init__(
        self, world: World, controller_driver: ControllerDriver, host: Host, *, power_on: bool = True
    ) -> None:
        self.world = world
        self.controller_driver = controller_driver
        self.host = host
        #: Every event the host emitted, with its simulated time.
        self.events: list[tuple[int, HostEvent]] = []
        self.listeners: list[Listener] = []
        self._inbox: deque[tuple[int, bytes]] = deque()
        self._busy = False
        self._timer: Timer | None = None
        self._timer_at: int | None = None
        controller_driver.hci_sinks.append(self._from_controller)
        if power_on:
            host.power_on(world.kernel.now)
            self.service()

    @property
    def now(self) -> int:
        return self.world.kernel.now

    def _from_controller(self, t_ns: int, h4_type: int, packet: bytes) -> None:
        self._inbox.append((h4_type, packet))
        if not self._busy:
            self.service()

    def service(self) -> None:
        """Deliver what arrived, send what the host produced, report events, re-arm."""
        if self._busy:
            return
        self._busy = True
        try:
            host = self.host
            while True:
                while self._inbox:
                    h4_type, packet = self._inbox.popleft()
                    host.hci_from_controller(h4_type, packet, self.now)
                out = host.take_hci()
                for h4_type, packet in out:
                    self.controller_driver.send_hci(h4_type, packet)
                events = host.take_events()
                self._dispatch(events)  # listeners may call the host: loop again
                if not out and not events and not self._inbox:
                    break
        finally:
            self._busy = False
        self._arm()

    def _dispatch(self, events: list[HostEvent]) -> None:
        now = self.now
        for event in events:
            self.events.append((now, event))
            for listener in list(self.listeners):
                listener(now, event)

    def _arm(self) -> None:
        deadline = self.host.get_timer()
        if deadline == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_at = deadline
        if deadline is not None:
            self._timer = self.world.kernel.call_at(max(deadline, self.now), self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = None
        self.host.handle_timer(self.now)
        self.service()

    def events_of(self, kind: type[HostEvent]) -> list[tuple[int, HostEvent]]:
        """The recorded events of one class, with their times."""
        return [(t, e) for t, e in self.events if isinstance(e, kind)]


__all__ = ["HostDriver"]
