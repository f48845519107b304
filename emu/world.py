"""The world driver: controllers over the medium, on the simulation kernel.

Theory of operation
-------------------
Both the controller (``linklayer``) and the medium (``phy``) are sans-IO. This driver is
the only place they meet, and it is deliberately thin:

* a controller's radio operations become medium calls at their instants — a
  :class:`~linklayer.radio.RadioTx` starts a transmission at ``start_ns`` (scheduled on the
  kernel if in the future) and its end is scheduled at ``end_ns``; a
  :class:`~linklayer.radio.RadioRx` opens a window; :class:`~linklayer.radio.RadioIdle`
  closes it;
* when a transmission starts, every radio the medium synchronised gets ``radio_synced``;
  when it ends, every delivery becomes a :class:`~linklayer.radio.RadioPacket`;
* each controller's ``get_timer()`` is kept scheduled as one kernel timer;
* HCI packets from the controller go to the node's host sink (a host stack, a test, a
  capture) after an optional HCI latency; packets from the host reach the controller
  the same way.

Air taps (captures, reports, statistics) see every transmission as it starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Protocol

from linklayer.radio import RadioIdle, RadioPacket, RadioRx, RadioTx
from phy.medium import Delivery, Medium, Transmission

from .kernel import Kernel

if TYPE_CHECKING:
    from linklayer.address import Address


class ControllerLike(Protocol):
    """The sans-IO controller interface the driver runs."""

    def hci_from_host(self, h4_type: int, packet: bytes, now: int) -> None: ...

    def radio_synced(self, now: int) -> None: ...

    def radio_received(self, packet: RadioPacket, now: int) -> None: ...

    def radio_lost(self, now: int) -> None: ...

    def handle_timer(self, now: int) -> None: ...

    def get_timer(self) -> int | None: ...

    def take_hci(self) -> list[tuple[int, bytes]]: ...

    def has_output(self) -> bool: ...

    def take_radio(self) -> list[RadioTx | RadioRx | RadioIdle]: ...


HciSink = Callable[[int, int, bytes], None]  # (time ns, H4 type, packet)
#: (time ns, "host->controller" | "controller->host", H4 type, packet)
HciTap = Callable[[int, str, int, bytes], None]
AirTap = Callable[[Transmission, RadioTx], None]


#: Builds a named tuple without its Python-level ``__new__`` (a packet per delivery).
_new_tuple = tuple.__new__


@dataclass
class NodeStats:
    tx_packets: int = 0
    rx_packets: int = 0
    rx_crc_errors: int = 0
    hci_to_host: int = 0
    hci_from_host: int = 0


class ControllerDriver:
    """Runs one sans-IO controller on the kernel and the medium."""

    def __init__(
        self,
        world: "World",
        name: str,
        radio_id: int,
        controller: ControllerLike,
        hci_latency_ns: int = 0,
    ) -> None:
        self.world = world
        self.name = name
        self.radio_id = radio_id
        self.controller = controller
        self.hci_latency_ns = hci_latency_ns
        self.hci_sinks: list[HciSink] = []
        self.hci_taps: list[HciTap] = []
        self.stats = NodeStats()
        self._timer_at: int | None = None
        self._pending: set[int] = set()
        #: Builds a fresh controller for a cold start after power-off (None: reuse it).
        self.factory: Callable[[], ControllerLike] | None = None
        self.powered = True

    # -- host side ------------------------------------------------------------------
    def send_hci(self, h4_type: int, packet: bytes) -> None:
        """A packet from the host; reaches the controller after the HCI latency."""
        kernel = self.world.kernel
        now = kernel.now
        for tap in self.hci_taps:
            tap(now, "host->controller", h4_type, packet)
        self.stats.hci_from_host += 1
        if self.hci_latency_ns:
            kernel.call_at(now + self.hci_latency_ns, lambda: self._deliver_hci(h4_type, packet))
        else:
            self._deliver_hci(h4_type, packet)

    def _deliver_hci(self, h4_type: int, packet: bytes) -> None:
        if not self.powered:
            return
        self.controller.hci_from_host(h4_type, packet, self.world.kernel.now)
        self.service()

    # -- servicing ------------------------------------------------------------------
    def service(self) -> None:
        """Carry out everything the controller produced, and re-arm its timer."""
        kernel = self.world.kernel
        now = kernel.now
        c = self.controller
        out = c.take_hci()
        if out:
            self._deliver_to_host(out, now)
        ops = c.take_radio()
        if ops:
            medium = self.world.medium
            for op in ops:
                if type(op) is RadioRx:
                    for tap in self.world.radio_taps:
                        tap(self, op)
                    medium.open_window(
                        self.radio_id, op.start_ns, op.end_ns, op.channel, op.phy, op.access_address,
                        op.persistent,
                    )
                elif type(op) is RadioTx:
                    if op.start_ns <= now:
                        self.world._start_tx(self, op)
                    else:
                        kernel.schedule(op.start_ns, self.world._start_tx, self, op)
                else:
                    medium.close_window(self.radio_id)
        # The controller's deadline often moves back and forth (a window end, then a
        # packet end, then the window end again); a kernel event already pending for an
        # instant is reused rather than cancelled and scheduled anew.
        deadline = c.get_timer()
        self._timer_at = deadline
        if deadline is not None and deadline not in self._pending:
            at = deadline if deadline > now else now
            self._pending.add(at)
            kernel.schedule(at, self._on_timer, at)

    def _deliver_to_host(self, out: list[tuple[int, bytes]], now: int) -> None:
        kernel = self.world.kernel
        for h4_type, packet in out:
            self.stats.hci_to_host += 1
            for tap in self.hci_taps:
                tap(now, "controller->host", h4_type, packet)
            if self.hci_latency_ns:
                kernel.call_at(now + self.hci_latency_ns, _bind_sinks(self, h4_type, packet))
            else:
                for sink in self.hci_sinks:
                    sink(now, h4_type, packet)

    def after_sync(self) -> None:
        """After the radio locked onto a packet: usually only the deadline moved."""
        c = self.controller
        if c.has_output():
            self.service()
            return
        deadline = c.get_timer()
        self._timer_at = deadline
        if deadline is not None and deadline not in self._pending:
            now = self.world.kernel.now
            at = deadline if deadline > now else now
            self._pending.add(at)
            self.world.kernel.schedule(at, self._on_timer, at)

    def _on_timer(self, at: int) -> None:
        self._pending.discard(at)
        if self._timer_at is None or self._timer_at > at or not self.powered:
            return  # superseded
        self.controller.handle_timer(at)
        self.service()


def _bind_sinks(driver: ControllerDriver, h4_type: int, packet: bytes) -> Callable[[], None]:
    def deliver() -> None:
        now = driver.world.kernel.now
        for sink in driver.hci_sinks:
            sink(now, h4_type, packet)

    return deliver


class World:
    """A kernel, a medium and the controllers on it."""

    def __init__(self, kernel: Kernel, medium: Medium) -> None:
        self.kernel = kernel
        self.medium = medium
        self.drivers: dict[str, ControllerDriver] = {}
        self._by_radio: dict[int, ControllerDriver] = {}
        self.air_taps: list[AirTap] = []
        #: Called with (driver, RadioRx) for every receive window a controller opens.
        self.radio_taps: list[Callable[[ControllerDriver, RadioRx], None]] = []
        #: Called with (receiving driver, RadioPacket, sender radio id) for every delivery.
        self.rx_taps: list[Callable[[ControllerDriver, RadioPacket, int], None]] = []
        self.transmissions = 0
        self._injectors: dict[str, int] = {}

    def add_controller(
        self,
        name: str,
        controller: ControllerLike,
        position: tuple[float, ...],
        *,
        hci_latency_ns: int = 0,
        rx_gain_db: float = 0.0,
    ) -> ControllerDriver:
        if name in self.drivers:
            raise ValueError(f"duplicate node name {name!r}")
        radio_id = len(self._by_radio) + len(self._injectors)
        self.medium.add_radio(
            radio_id,
            position,  # type: ignore[arg-type]
            rng=self.kernel.seeds.stream(f"node/{name}/medium"),
            rx_gain_db=rx_gain_db,
        )
        driver = ControllerDriver(self, name, radio_id, controller, hci_latency_ns)
        self.drivers[name] = driver
        self._by_radio[radio_id] = driver
        return driver

    def add_injector(self, name: str, position: tuple[float, ...]) -> int:
        """A transmitter with no controller, for raw bytes on the air; returns its radio id."""
        radio_id = len(self._by_radio) + len(self._injectors)
        self.medium.add_radio(
            radio_id, position,  # type: ignore[arg-type]
            rng=self.kernel.seeds.stream(f"injector/{name}/medium"),
        )
        self._injectors[name] = radio_id
        return radio_id

    def inject(self, radio_id: int, at_ns: int, op: RadioTx) -> None:
        """Put ``op``'s bytes on the air from an injector at ``at_ns`` (CRC as given)."""

        def start() -> None:
            now = self.kernel.now
            tx, synced = self.medium.start_transmission(
                now, radio_id, op.channel, op.phy, op.access_address, op.pdu, op.crc, op.tx_power_dbm
            )
            self.transmissions += 1
            for tap in self.air_taps:
                tap(tx, op)
            if synced:
                self.kernel.schedule(tx.end_ns, self._end_tx, tx, synced)
                for rid in synced:
                    rx_driver = self._by_radio[rid]
                    rx_driver.controller.radio_synced(now)
                    rx_driver.after_sync()

        self.kernel.call_at(at_ns, start)

    # -- fault hooks ----------------------------------------------------------------
    def move(self, name: str, position: tuple[float, ...]) -> None:
        """Move a node (its path losses to everyone are recomputed)."""
        self.medium.move(self.drivers[name].radio_id, position)  # type: ignore[arg-type]

    def set_link_loss(self, sender: str, receiver: str, probability: float | None) -> None:
        """Extra loss probability on the link sender -> receiver (None or 0 clears it)."""
        self.medium.set_link_loss(self.drivers[sender].radio_id, self.drivers[receiver].radio_id, probability)

    def add_interferer(self, interferer: Any) -> None:
        """A named noise source (``phy.interference.Interferer``)."""
        self.medium.add_interferer(interferer)

    def set_interferer(self, name: str, enabled: bool) -> None:
        self.medium.set_interferer_enabled(name, enabled)

    def set_radio(self, name: str, on: bool) -> None:
        """Turn a node's radio off or on; its controller keeps running, deaf and mute."""
        self.medium.set_enabled(self.drivers[name].radio_id, on)

    def set_powered(self, name: str, on: bool) -> None:
        """Power a node off (controller stopped, radio silent) or on again.

        Powering on is a cold start: the controller comes back in its reset state, built
        afresh by the node's controller factory, and its host must bring it up again.
        """
        driver = self.drivers[name]
        if on == driver.powered:
            return
        driver.powered = on
        self.medium.set_enabled(driver.radio_id, on)
        if on:
            if driver.factory is not None:
                driver.controller = driver.factory()
            driver._timer_at = None
            driver.service()
        else:
            self.medium.close_window(driver.radio_id)

    def run(self, until_ns: int) -> None:
        self.kernel.run(until_ns)

    # -- transmissions --------------------------------------------------------------
    def _start_tx(self, driver: ControllerDriver, op: RadioTx) -> None:
        now = self.kernel.now
        if not driver.powered:
            return
        tx, synced = self.medium.start_transmission(
            now, driver.radio_id, op.channel, op.phy, op.access_address, op.pdu, op.crc,
            op.tx_power_dbm,
        )
        self.transmissions += 1
        driver.stats.tx_packets += 1
        for tap in self.air_taps:
            tap(tx, op)
        if not synced:
            return  # nobody is receiving it: its end needs no event
        self.kernel.schedule(tx.end_ns, self._end_tx, tx, synced)
        for radio_id in synced:
            rx_driver = self._by_radio[radio_id]
            rx_driver.controller.radio_synced(now)
            rx_driver.after_sync()

    def _end_tx(self, tx: Transmission, synced: list[int]) -> None:
        now = self.kernel.now
        deliveries: list[Delivery] = self.medium.end_transmission(now, tx)
        if len(deliveries) != len(synced):
            # Receivers that locked onto the packet but could not decode it (collision,
            # aborted): their radio still knows the packet ended.
            delivered = {d.radio_id for d in deliveries}
            for radio_id in synced:
                if radio_id not in delivered:
                    lost = self._by_radio[radio_id]
                    if lost.powered:
                        lost.stats.rx_crc_errors += 1
                        lost.controller.radio_lost(now)
                        lost.service()
        for d in deliveries:
            rx_driver = self._by_radio[d.radio_id]
            if not rx_driver.powered:
                continue
            rx_driver.stats.rx_packets += 1
            # RadioPacket(start_ns, end_ns, channel, phy, access_address, pdu, crc, rssi_dbm,
            # bit_errors), made as the tuple it is (a named tuple's __new__ is slow Python).
            packet = _new_tuple(RadioPacket, (
                tx.start_ns, tx.end_ns, tx.channel, tx.phy, tx.access_address,
                d.pdu, d.crc, d.rssi_dbm, d.bit_errors,
            ))
            if self.rx_taps:
                for rx_tap in self.rx_taps:
                    rx_tap(rx_driver, packet, tx.radio_id)
            rx_driver.controller.radio_received(packet, now)
            rx_driver.service()


@dataclass
class HciRecorder:
    """A test host: records every HCI packet a controller sends, with its instant."""

    packets: list[tuple[int, int, bytes]] = field(default_factory=list)

    def __call__(self, t_ns: int, h4_type: int, packet: bytes) -> None:
        self.packets.append((t_ns, h4_type, packet))

    def events(self) -> list[tuple[int, Any]]:
        from linklayer.hci.registry import parse_event

        return [(t, parse_event(p)) for t, h, p in self.packets if h == 4]


def make_world(
    seed: int = 0,
    channel_model: str = "log_distance",
    noise_floor_dbm: float = -100.0,
    **model_params: Any,
) -> World:
    """A kernel and a medium seeded from ``seed``, with a named channel model."""
    from phy.channel import make_channel_model

    kernel = Kernel(seed)
    model = make_channel_model(channel_model, **model_params)
    medium = Medium(model, noise_floor_dbm=noise_floor_dbm, seed=kernel.seeds.derive("medium"))
    return World(kernel, medium)


def generated_address(world: World, name: str) -> "Address":
    """A random static address drawn from the node's own stream (Vol 6 Part B 1.3.2.1)."""
    from linklayer.address import Address

    rng = world.kernel.seeds.stream(f"node/{name}/address")
    raw = bytearray(rng.getrandbits(48).to_bytes(6, "little"))
    raw[5] |= 0xC0  # the two most significant bits of a static address are 0b11
    if raw[:5] == b"\xff" * 5 and raw[5] == 0xFF or raw[:5] == bytes(5) and raw[5] == 0xC0:
        raw[0] ^= 0x01  # all ones / all zeros (random part) are not allowed
    return Address(bytes(raw), True)


def add_controller_node(
    world: World,
    name: str,
    position: tuple[float, ...] = (0.0, 0.0),
    *,
    public_address: "Address | None" = None,
    config: Any = None,
    hci_latency_ns: int = 0,
) -> ControllerDriver:
    """A node with a simulated controller; its streams are named after the node."""
    import dataclasses

    from linklayer.controller import Controller, ControllerConfig

    if public_address is None:
        rng = world.kernel.seeds.stream(f"node/{name}/public-address")
        public_address = _public_address(rng.getrandbits(24))
    cfg = config if config is not None else ControllerConfig()
    cfg = dataclasses.replace(cfg, public_address=public_address)
    seeds = world.kernel.seeds
    boots = [0]

    def build() -> Controller:
        # Each cold start draws from a fresh stream, so a reboot is not a replay.
        prefix = f"node/{name}/controller" + (f"/boot-{boots[0]}" if boots[0] else "")
        boots[0] += 1
        return Controller(
            cfg,
            seeds.stream(prefix),
            streams=lambda component: seeds.stream(f"{prefix}/{component}"),
        )

    driver = world.add_controller(name, build(), position, hci_latency_ns=hci_latency_ns)
    driver.factory = build
    return driver


def _public_address(nap: int) -> "Address":
    from linklayer.address import Address

    # A fixed company part (F0:00:00) and 24 node bits: generated public addresses are easy to spot.
    value = (0xF0_00_00 << 24) | (nap & 0xFFFFFF)
    return Address(value.to_bytes(6, "little"), False)
