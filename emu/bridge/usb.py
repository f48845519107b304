"""The Bluetooth USB transport (pyusb): ``usb:0``, ``usb:VVVV:PPPP[#N]``.

Theory of operation
-------------------
A Bluetooth USB controller (Vol 4 Part B) has device or interface class E0/01/01
(Wireless Controller, RF, Bluetooth) and three endpoints on interface 0:

* commands go host→controller as class control transfers (bmRequestType 0x20,
  bRequest 0, wIndex the interface number), one command per transfer;
* events come on the interrupt IN endpoint and ACL data on the bulk IN endpoint; a packet
  may span several transfers (an interrupt endpoint often carries 16 or 64 octets at a
  time), so each stream goes through a :class:`PacketSplitter` that cuts packets by
  their header's length;
* ACL data goes out on the bulk OUT endpoint.

Events and ACL data arrive on different pipes, read by two threads, so the first data of
a new connection may be read before the event announcing it; :class:`AclOrdering` holds
such data until that event has been delivered.

Interface 1 (isochronous, SCO) is not used. :func:`find_devices` lists the Bluetooth
devices (by device class, or by interface class for composite devices),
:func:`select_device` picks the one a spec names — with a message listing what is there
when none matches — and :class:`UsbTransport` claims it, detaching the kernel's btusb
driver if it holds the interface. Two reader threads poll the IN endpoints with short
timeouts; a device that goes away (``ENODEV``, ``EIO``, ``EPIPE``) is the transport lost.

Controllers of some vendors (Intel, Realtek, Broadcom, MediaTek ...) need a firmware
patch loaded by the host before they work; blesim does not load firmware. Opening such a
device adds a note (:attr:`UsbTransport.notes`) that says so and how to get around it.

``device=`` (and ``backend=``) let tests run the transport against a fake device.
"""

from __future__ import annotations

import errno
import importlib
import os
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from .transports import HciTransport, TransportError, UsbSpec

#: Wireless Controller / RF / Bluetooth (the Bluetooth USB class code triple).
BLUETOOTH_CLASS = (0xE0, 0x01, 0x01)
#: bmRequestType of an HCI command: host to device, class, interface.
COMMAND_REQUEST_TYPE = 0x20
READ_TIMEOUT_MS = 100
WRITE_TIMEOUT_MS = 1000
#: Vendors whose controllers usually need a firmware patch from the host.
FIRMWARE_VENDORS = {
    0x8087: "Intel",
    0x0BDA: "Realtek",
    0x0A5C: "Broadcom",
    0x0E8D: "MediaTek",
    0x0489: "Foxconn (Broadcom or MediaTek inside)",
    0x13D3: "IMC Networks (Realtek or MediaTek inside)",
    0x0CF3: "Qualcomm Atheros",
}
#: errno values meaning the device is gone.
_GONE = {errno.ENODEV, errno.EIO, errno.EPIPE, errno.ESHUTDOWN, errno.ENOENT}
_TIMEOUT = {errno.ETIMEDOUT, errno.EAGAIN}


class PacketSplitter:
    """Octets of one IN endpoint in, whole HCI packets out (length from the header)."""

    def __init__(self, header_size: int, length_of: Callable[[bytes], int]) -> None:
        self.header_size = header_size
        self.length_of = length_of
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        out: list[bytes] = []
        buf = self._buffer
        while len(buf) >= self.header_size:
            end = self.header_size + self.length_of(bytes(buf[: self.header_size]))
            if len(buf) < end:
                break
            out.append(bytes(buf[:end]))
            del buf[:end]
        return out


def event_splitter() -> PacketSplitter:
    """Events: code, parameter length (Vol 4 Part E 5.4.4)."""
    return PacketSplitter(2, lambda h: h[1])


def acl_splitter() -> PacketSplitter:
    """ACL data: handle and flags, data length (Vol 4 Part E 5.4.2)."""
    return PacketSplitter(4, lambda h: int.from_bytes(h[2:4], "little"))


class AclOrdering:
    """Keeps ACL data behind the event that announces its connection.

    Events (interrupt endpoint) and ACL data (bulk endpoint) travel on different pipes,
    so the first ACL packet of a new connection can be read before the LE Connection
    Complete event — a host would drop it as data for an unknown handle. ACL data for a
    handle not yet announced is held until its Connection Complete (LE, LE Enhanced or
    BR/EDR) is delivered, or for at most ``hold_ns``. Sans-IO: times are given.
    """

    def __init__(self, hold_ns: int = 200_000_000) -> None:
        self.hold_ns = hold_ns
        self.handles: set[int] = set()
        self._held: list[tuple[int, int, bytes]] = []  # (since, handle, packet)
        self.reordered = 0

    def event(self, packet: bytes) -> list[bytes]:
        """An event was read: the ACL packets it releases (deliver them after it)."""
        handle = self._announced(packet)
        if handle is None:
            return []
        released = [p for _, h, p in self._held if h == handle]
        self._held = [x for x in self._held if x[1] != handle]
        self.reordered += len(released)
        return released

    def _announced(self, packet: bytes) -> int | None:
        if len(packet) >= 6 and packet[0] == 0x3E and packet[2] in (0x01, 0x0A, 0x29) and packet[3] == 0:
            handle = int.from_bytes(packet[4:6], "little") & 0x0FFF
        elif len(packet) >= 5 and packet[0] == 0x03 and packet[2] == 0:
            handle = int.from_bytes(packet[3:5], "little") & 0x0FFF
        elif len(packet) >= 5 and packet[0] == 0x05 and packet[2] == 0:
            self.handles.discard(int.from_bytes(packet[3:5], "little") & 0x0FFF)
            return None
        else:
            return None
        self.handles.add(handle)
        return handle

    def acl(self, packet: bytes, now: int) -> list[bytes]:
        """An ACL packet was read: the packets to deliver now (it may be held)."""
        handle = int.from_bytes(packet[0:2], "little") & 0x0FFF
        if handle in self.handles:
            return [packet]
        self._held.append((now, handle, packet))
        return []

    def expire(self, now: int) -> list[bytes]:
        """Held packets past ``hold_ns``: deliver them anyway (the host will judge)."""
        late = [p for since, _, p in self._held if now - since >= self.hold_ns]
        self._held = [x for x in self._held if now - x[0] < self.hold_ns]
        return late


# ---------------------------------------------------------------------------- discovery
def _module(name: str) -> Any:
    """A pyusb module (untyped, hence Any); :class:`TransportError` without pyusb."""
    try:
        return importlib.import_module(name)
    except ImportError:
        raise TransportError("USB transports need pyusb: pip install pyusb") from None


def _usb_core() -> Any:
    return _module("usb.core")


def default_backend() -> Any:
    """A pyusb backend, or :class:`TransportError` saying that libusb is missing."""
    backend = _module("usb.backend.libusb1").get_backend()
    if backend is None:
        try:
            backend = importlib.import_module("libusb_package").get_libusb1_backend()
        except Exception:
            backend = None
    if backend is None:
        raise TransportError(
            "no libusb-1.0 library was found, which USB transports need: install it "
            "(apt-get install libusb-1.0-0, brew install libusb) or pip install libusb-package"
        )
    return backend


def _is_bluetooth(device: Any) -> bool:
    triple = (device.bDeviceClass, device.bDeviceSubClass, device.bDeviceProtocol)
    if triple == BLUETOOTH_CLASS:
        return True
    try:
        for config in device:
            for intf in config:
                if (intf.bInterfaceClass, intf.bInterfaceSubClass, intf.bInterfaceProtocol) == BLUETOOTH_CLASS:
                    return True
    except Exception:  # descriptors unreadable: not ours to judge
        return False
    return False


def _name(device: Any) -> str:
    where = ""
    if getattr(device, "bus", None) is not None:
        where = f" (bus {device.bus} address {device.address})"
    return f"{device.idVendor:04x}:{device.idProduct:04x}{where}"


def find_devices(backend: Any = None) -> tuple[list[Any], list[Any]]:
    """(Bluetooth USB devices, all USB devices) visible to this process."""
    core = _usb_core()
    if backend is None:
        backend = default_backend()
    try:
        devices = list(core.find(find_all=True, backend=backend))
    except core.USBError as exc:
        raise TransportError(f"cannot list USB devices: {exc}") from None
    return [d for d in devices if _is_bluetooth(d)], devices


def select_device(spec: UsbSpec, bluetooth: list[Any], everything: list[Any]) -> Any:
    """The device ``spec`` names, or :class:`TransportError` listing what is there."""
    if spec.vendor is not None and spec.product is not None:
        matching = [d for d in everything if (d.idVendor, d.idProduct) == (spec.vendor, spec.product)]
        wanted = f"{spec.vendor:04x}:{spec.product:04x}"
    else:
        matching = bluetooth
        wanted = "a Bluetooth USB device (class E0/01/01)"
    if spec.index < len(matching):
        return matching[spec.index]
    if not everything:
        hint = (" and /dev/bus/usb does not exist (a container without USB passthrough?)"
                if not os.path.exists("/dev/bus/usb") else "")
        raise TransportError(f"{spec}: no USB devices are visible to this process{hint}; "
                             f"{wanted} is needed")
    found = ", ".join(_name(d) for d in bluetooth) or "none"
    if matching:
        raise TransportError(f"{spec}: only {len(matching)} device(s) match {wanted} "
                             f"(index {spec.index} asked); Bluetooth USB devices here: {found}")
    raise TransportError(f"{spec}: no {wanted} is plugged in; Bluetooth USB devices here: {found}")


@dataclass(frozen=True)
class UsbEndpoints:
    interface: int
    interrupt_in: int
    bulk_in: int
    bulk_out: int


def find_endpoints(device: Any) -> UsbEndpoints:
    """The HCI endpoints of ``device`` (interface 0 alternate 0, or the first Bluetooth one)."""
    config = device.get_active_configuration()
    for intf in config:
        if intf.bAlternateSetting != 0:
            continue
        triple = (intf.bInterfaceClass, intf.bInterfaceSubClass, intf.bInterfaceProtocol)
        if triple != BLUETOOTH_CLASS and intf.bInterfaceNumber != 0:
            continue
        interrupt_in = bulk_in = bulk_out = None
        for ep in intf:
            kind, inbound = ep.bmAttributes & 0x03, bool(ep.bEndpointAddress & 0x80)
            if kind == 0x03 and inbound:
                interrupt_in = ep.bEndpointAddress
            elif kind == 0x02 and inbound:
                bulk_in = ep.bEndpointAddress
            elif kind == 0x02:
                bulk_out = ep.bEndpointAddress
        if interrupt_in is not None and bulk_in is not None and bulk_out is not None:
            return UsbEndpoints(intf.bInterfaceNumber, interrupt_in, bulk_in, bulk_out)
    raise TransportError(f"USB device {_name(device)} has no interface with the HCI endpoints "
                         "(interrupt IN, bulk IN, bulk OUT): is it a Bluetooth controller?")


def _errno_of(exc: BaseException) -> int | None:
    value = getattr(exc, "errno", None)
    if value is None:
        value = getattr(exc, "backend_error_code", None)
        mapping = {-4: errno.ENODEV, -7: errno.ETIMEDOUT, -1: errno.EIO, -9: errno.EPIPE, -3: errno.EACCES}
        return mapping.get(value) if isinstance(value, int) else None
    return int(value)


def _interface_call(device: Any, name: str, number: int | None) -> None:
    """``usb.util.<name>(device[, number])``; a fake device may offer the method itself."""
    own = getattr(device, name, None)
    if own is not None:
        own() if number is None else own(number)
        return
    function = getattr(_module("usb.util"), name)
    function(device) if number is None else function(device, number)


# ---------------------------------------------------------------------------- transport
class UsbTransport(HciTransport):
    """HCI over the Bluetooth USB transport; see the module docstring."""

    def __init__(self, spec: UsbSpec, *, device: Any = None, backend: Any = None) -> None:
        super().__init__(spec, "host")
        self.usb_spec = spec
        if device is None:
            bluetooth, everything = find_devices(backend)
            device = select_device(spec, bluetooth, everything)
        self.device: Any = device
        self._detached: list[int] = []
        self._claimed = False
        vendor = FIRMWARE_VENDORS.get(device.idVendor)
        if vendor is not None:
            self.notes.append(
                f"{spec}: {vendor} controllers usually need a firmware patch loaded by the host before they "
                "work, and blesim does not load firmware; if power-on fails, let the Linux btusb driver load "
                "it, then use hci-socket:N, or use a controller that needs none (Nordic, Zephyr hci_usb)"
            )
        self._open()
        self._write_lock = threading.Lock()
        self._order_lock = threading.Lock()
        self.ordering = AclOrdering()

    def _open(self) -> None:
        device = self.device
        core = _usb_core()
        try:
            try:
                device.get_active_configuration()
            except core.USBError:
                device.set_configuration()
            self.endpoints = find_endpoints(device)
            for number in (self.endpoints.interface, self.endpoints.interface + 1):
                try:
                    if device.is_kernel_driver_active(number):
                        device.detach_kernel_driver(number)
                        self._detached.append(number)
                except NotImplementedError:
                    pass
                except core.USBError as exc:
                    if number == self.endpoints.interface:
                        raise TransportError(
                            f"{self.spec}: the kernel's btusb driver holds {_name(device)} and could not be "
                            f"detached ({exc}): run as root, or use hci-socket:N with the adapter down"
                        ) from None
            _interface_call(device, "claim_interface", self.endpoints.interface)
            self._claimed = True
        except core.USBError as exc:
            code = _errno_of(exc)
            if code in (errno.EACCES, errno.EPERM):
                raise TransportError(
                    f"{self.spec}: no permission to use USB device {_name(device)}: run as root or add a udev "
                    f"rule, e.g. SUBSYSTEM==\"usb\", ATTR{{idVendor}}==\"{device.idVendor:04x}\", MODE=\"0666\""
                ) from None
            if code == errno.EBUSY:
                raise TransportError(f"{self.spec}: USB device {_name(device)} is in use by another program") from None
            raise TransportError(f"{self.spec}: cannot open USB device {_name(device)}: {exc}") from None

    @property
    def description(self) -> str:
        return f"{self.spec} ({_name(self.device)})"

    # -- reading ------------------------------------------------------------------------
    def _start_readers(self) -> None:
        ep = self.endpoints
        self._spawn(lambda: self._reader(ep.interrupt_in, 0x04, event_splitter(), 1024), "events")
        self._spawn(lambda: self._reader(ep.bulk_in, 0x02, acl_splitter(), 4096), "acl")

    def _reader(self, endpoint: int, h4_type: int, splitter: PacketSplitter, size: int) -> None:
        core = _usb_core()
        while not self.closing and self.lost_reason is None:
            try:
                data = self.device.read(endpoint, size, timeout=READ_TIMEOUT_MS)
            except core.USBTimeoutError:
                self._deliver_ordered(h4_type, [])
                continue
            except (core.USBError, OSError) as exc:
                if self.closing:
                    return
                code = _errno_of(exc)
                if code in _TIMEOUT:
                    continue
                if code in _GONE:
                    self.lost(f"the USB device {_name(self.device)} went away (unplugged?)")
                else:
                    self.lost(f"USB read failed: {exc}")
                return
            self._deliver_ordered(h4_type, splitter.feed(bytes(data)))

    def _deliver_ordered(self, h4_type: int, packets: list[bytes]) -> None:
        """Deliver what a reader read, ACL data behind the events of its connection."""
        with self._order_lock:
            now = time.monotonic_ns()
            out: list[tuple[int, bytes]] = [(0x02, p) for p in self.ordering.expire(now)]
            for packet in packets:
                if h4_type == 0x04:
                    out.append((0x04, packet))
                    out += [(0x02, p) for p in self.ordering.event(packet)]
                else:
                    out += [(0x02, p) for p in self.ordering.acl(packet, now)]
            for kind, packet in out:
                self.deliver(kind, packet)

    # -- writing ------------------------------------------------------------------------
    def _send(self, h4_type: int, packet: bytes) -> None:
        ep = self.endpoints
        with self._write_lock:
            if h4_type == 0x01:
                self.device.ctrl_transfer(COMMAND_REQUEST_TYPE, 0, 0, ep.interface, packet, timeout=WRITE_TIMEOUT_MS)
            elif h4_type == 0x02:
                self.device.write(ep.bulk_out, packet, timeout=WRITE_TIMEOUT_MS)
            # SCO and ISO over USB need other interfaces: not carried.

    def _close(self) -> None:
        device = self.device
        try:
            if self._claimed:
                _interface_call(device, "release_interface", self.endpoints.interface)
            for number in self._detached:
                try:
                    device.attach_kernel_driver(number)
                except Exception:
                    pass
            _interface_call(device, "dispose_resources", None)
        except Exception:
            pass


__all__ = [
    "BLUETOOTH_CLASS",
    "FIRMWARE_VENDORS",
    "PacketSplitter",
    "AclOrdering",
    "event_splitter",
    "acl_splitter",
    "default_backend",
    "find_devices",
    "select_device",
    "UsbEndpoints",
    "find_endpoints",
    "UsbTransport",
]
