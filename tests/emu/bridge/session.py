"""A recorded HCI session of blesim's simulated controller, and a fake that replays it.

``record_session()`` runs two simulated nodes on the simulated medium: the *dongle*
(powers on, advertises) and a *phone* (connects to it and discovers its services). It
returns every HCI packet of the dongle's node, both directions, in order — real bytes
from our own controller, as a USB or HCI-socket capture of a dongle would show them.
Tests record it afresh (it takes milliseconds), so the replay follows the host as it
evolves; ``python -m tests.emu.bridge.session`` prints one.

:class:`ReplayController` plays the controller's side back: each host packet must be the
next one recorded (a mismatch is kept in :attr:`ReplayController.mismatches`), and the
controller packets recorded after it are answered. :func:`drive_dongle_host` is the host
side of the session (the same API calls as the recording), so that a host over a fake
transport replaying the session produces the same bytes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable

from host.advertising_data import AdStructure, AdvertisingData
from host.events import Connected, HostEvent, PoweredOn
from host.gap_params import AdvertisingParameters
from host.host import Host, HostConfig
from linklayer.address import Address

DONGLE_ADDRESS = Address(bytes.fromhex("a1b2c3d4e5f0")[::-1])
PHONE_ADDRESS = Address(bytes.fromhex("f0e5d4c3b2a1")[::-1])

Packet = tuple[str, int, bytes]  # ("host" | "ctrl", H4 type, packet)


def dongle_host(seed: int = 7) -> Host:
    """The dongle's host, configured as in the recording."""
    import random

    return Host(random.Random(seed), HostConfig(device_name="blesim-dongle"))


def drive_dongle_host(host: Host, events: list[HostEvent], now: int) -> None:
    """The application of the recording: advertise once powered on."""
    for event in events:
        if isinstance(event, PoweredOn):
            data = AdvertisingData.of(AdStructure.flags(0x06), AdStructure.complete_local_name("blesim-dongle"))
            host.start_advertising(now, data, params=AdvertisingParameters(interval_min_ns=20_000_000,
                                                                          interval_max_ns=20_000_000))


def record_session(duration_ns: int = 3_000_000_000) -> list[Packet]:
    """The dongle node's HCI traffic (see the module docstring)."""
    import random

    from emu.host_driver import HostDriver
    from emu.world import add_controller_node, make_world

    world = make_world(seed=11)
    dongle = add_controller_node(world, "dongle", (0.0, 0.0), public_address=DONGLE_ADDRESS)
    phone = add_controller_node(world, "phone", (1.0, 0.0), public_address=PHONE_ADDRESS)
    packets: list[Packet] = []

    def tap(t_ns: int, direction: str, h4_type: int, packet: bytes) -> None:
        packets.append(("host" if direction == "host->controller" else "ctrl", h4_type, bytes(packet)))

    dongle.hci_taps.append(tap)
    d_host = dongle_host()
    d_driver = HostDriver(world, dongle, d_host, power_on=False)
    d_driver.listeners.append(lambda t, e: drive_dongle_host(d_host, [e], t))
    p_host = Host(random.Random(3))
    p_driver = HostDriver(world, phone, p_host, power_on=False)

    def phone_app(t: int, event: HostEvent) -> None:
        if isinstance(event, PoweredOn):
            p_host.connect(DONGLE_ADDRESS, t)
        elif isinstance(event, Connected):
            p_host.gatt_client(event.handle).discover_primary_services(t)
        p_driver.service()

    p_driver.listeners.append(phone_app)
    d_host.power_on(0)
    d_driver.service()
    p_host.power_on(0)
    p_driver.service()
    world.run(duration_ns)
    return packets


@dataclass
class ReplayController:
    """The controller's side of a recorded session; see the module docstring."""

    script: list[Packet]
    emit: Callable[[int, bytes], None]
    position: int = 0
    mismatches: list[str] = field(default_factory=list)
    host_packets: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        with self.lock:
            self._answer()

    def from_host(self, h4_type: int, packet: bytes) -> None:
        with self.lock:
            self.host_packets += 1
            if self.position >= len(self.script):
                self.mismatches.append(f"extra host packet {h4_type:02x} {packet.hex(' ')}")
                return
            who, want_type, want = self.script[self.position]
            if who != "host" or (want_type, want) != (h4_type, packet):
                self.mismatches.append(
                    f"#{self.position}: host sent {h4_type:02x} {packet.hex(' ')}, recorded {who} "
                    f"{want_type:02x} {want.hex(' ')}")
                return
            self.position += 1
            self._answer()

    def _answer(self) -> None:
        while self.position < len(self.script) and self.script[self.position][0] == "ctrl":
            _, h4_type, packet = self.script[self.position]
            self.position += 1
            self.emit(h4_type, packet)

    @property
    def finished(self) -> bool:
        return self.position >= len(self.script)


if __name__ == "__main__":
    for who, h4, pkt in record_session():
        print(f"{'>' if who == 'host' else '<'} {h4:02x} {pkt.hex(' ')}")
