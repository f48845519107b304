"""Fake hardware for the USB and HCI-socket transports, replaying recorded traffic.

:class:`FakeUsbDevice` looks like a pyusb device of a Bluetooth dongle (class E0/01/01,
interrupt IN 0x81, bulk IN 0x82, bulk OUT 0x02) — descriptors, kernel driver, control
and bulk transfers — and answers as a :class:`~tests.emu.bridge.session.ReplayController`
says, cutting events into 16-octet and ACL into 64-octet USB transfers as real dongles'
endpoints do. :class:`FakeHciSocket` is the kernel's side of an HCI user channel: a
``SOCK_SEQPACKET`` socket pair, one H4 packet per message.
"""

from __future__ import annotations

import queue
import socket
import threading
from dataclasses import dataclass, field
from typing import Any, Iterator

import usb.core  # type: ignore[import-untyped]

from .session import Packet, ReplayController

INTERRUPT_IN, BULK_IN, BULK_OUT = 0x81, 0x82, 0x02


@dataclass
class FakeEndpoint:
    bEndpointAddress: int
    bmAttributes: int


@dataclass
class FakeInterface:
    bInterfaceNumber: int
    bInterfaceClass: int
    bInterfaceSubClass: int
    bInterfaceProtocol: int
    bAlternateSetting: int
    endpoints: list[FakeEndpoint] = field(default_factory=list)

    def __iter__(self) -> Iterator[FakeEndpoint]:
        return iter(self.endpoints)


@dataclass
class FakeConfiguration:
    interfaces: list[FakeInterface]

    def __iter__(self) -> Iterator[FakeInterface]:
        return iter(self.interfaces)


def bluetooth_configuration() -> FakeConfiguration:
    return FakeConfiguration([
        FakeInterface(0, 0xE0, 0x01, 0x01, 0, [
            FakeEndpoint(INTERRUPT_IN, 0x03), FakeEndpoint(BULK_IN, 0x02), FakeEndpoint(BULK_OUT, 0x02)]),
        FakeInterface(1, 0xE0, 0x01, 0x01, 0, [FakeEndpoint(0x83, 0x01), FakeEndpoint(0x03, 0x01)]),
    ])


class FakeUsbDevice:
    """A Bluetooth USB dongle replaying ``script``; see the module docstring."""

    def __init__(self, script: list[Packet] | None = None, *, vendor: int = 0x2FE3, product: int = 0x000B,
                 bluetooth: bool = True, kernel_driver: bool = True) -> None:
        self.idVendor, self.idProduct = vendor, product
        self.bDeviceClass, self.bDeviceSubClass, self.bDeviceProtocol = (0xE0, 0x01, 0x01) if bluetooth else (0, 0, 0)
        self.bus, self.address = 1, 4
        self.config = bluetooth_configuration() if bluetooth else FakeConfiguration([
            FakeInterface(0, 0x03, 0x00, 0x00, 0, [FakeEndpoint(0x81, 0x03)])])
        self.configured = False
        self.kernel_driver = {0: kernel_driver, 1: kernel_driver}
        self.claimed: set[int] = set()
        self.disposed = False
        self.gone = False
        self.control: list[tuple[int, int, int, int, bytes]] = []
        self.queues: dict[int, queue.Queue[bytes]] = {INTERRUPT_IN: queue.Queue(), BULK_IN: queue.Queue()}
        self.replay = ReplayController(script or [], self._emit)
        self.replay.start()

    # -- descriptors and management ------------------------------------------------------
    def __iter__(self) -> Iterator[FakeConfiguration]:
        return iter([self.config])

    def get_active_configuration(self) -> FakeConfiguration:
        if not self.configured:
            raise usb.core.USBError("Configuration not set", errno=None)
        return self.config

    def set_configuration(self) -> None:
        self.configured = True

    def is_kernel_driver_active(self, number: int) -> bool:
        return self.kernel_driver.get(number, False)

    def detach_kernel_driver(self, number: int) -> None:
        self.kernel_driver[number] = False

    def attach_kernel_driver(self, number: int) -> None:
        self.kernel_driver[number] = True

    def claim_interface(self, number: int) -> None:
        self.claimed.add(number)

    def release_interface(self, number: int) -> None:
        self.claimed.discard(number)

    def dispose_resources(self) -> None:
        self.disposed = True

    # -- transfers -----------------------------------------------------------------------
    def _check(self) -> None:
        if self.gone:
            raise usb.core.USBError("No such device (it may have been disconnected)", errno=19)

    def ctrl_transfer(self, bm_request_type: int, b_request: int, w_value: int = 0, w_index: int = 0,
                      data: Any = None, timeout: int | None = None) -> int:
        self._check()
        payload = bytes(data)
        self.control.append((bm_request_type, b_request, w_value, w_index, payload))
        if (bm_request_type, b_request, w_index) == (0x20, 0, 0):
            self.replay.from_host(0x01, payload)
        return len(payload)

    def write(self, endpoint: int, data: Any, timeout: int | None = None) -> int:
        self._check()
        assert endpoint == BULK_OUT, endpoint
        self.replay.from_host(0x02, bytes(data))
        return len(data)

    def read(self, endpoint: int, size: int, timeout: int | None = None) -> bytes:
        self._check()
        try:
            chunk = self.queues[endpoint].get(timeout=(timeout or 100) / 1000)
        except queue.Empty:
            self._check()
            raise usb.core.USBTimeoutError("Operation timed out", errno=110) from None
        if not chunk:
            self._check()
        return chunk

    def _emit(self, h4_type: int, packet: bytes) -> None:
        endpoint, size = (INTERRUPT_IN, 16) if h4_type == 0x04 else (BULK_IN, 64)
        for i in range(0, len(packet), size):
            self.queues[endpoint].put(packet[i : i + size])

    def unplug(self) -> None:
        self.gone = True
        for q in self.queues.values():
            q.put(b"")  # wake the readers


class FakeHciSocket:
    """The kernel's end of an HCI user channel socket, replaying ``script``."""

    def __init__(self, script: list[Packet]) -> None:
        self.ours, self.kernel = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.replay = ReplayController(script, self._emit)
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _emit(self, h4_type: int, packet: bytes) -> None:
        self.kernel.send(bytes([h4_type]) + packet)  # one H4 packet per message

    def _serve(self) -> None:
        self.replay.start()
        while not self._stop:
            try:
                message = self.kernel.recv(4096)
            except OSError:
                return
            if not message:
                return
            self.replay.from_host(message[0], message[1:])

    def adapter_removed(self) -> None:
        """The dongle is unplugged: the kernel closes the channel."""
        self._stop = True
        self.kernel.shutdown(socket.SHUT_RDWR)  # wakes our reader with end of file
        self.kernel.close()
