"""HCI transports: specs parsed from strings, and the packet interface every transport offers.

Theory of operation
-------------------
A transport is named by a short string, the same spelling other HCI tools use:

==========================================  =========================================  ======
``usb:0``, ``usb:2fe3:000b``, ``usb:…#1``   Bluetooth USB transport (pyusb)            real
``serial:/dev/ttyACM0,1000000[,rtscts]``    H4 over a UART (pyserial)                  both
``hci-socket:0``                            Linux HCI user channel (hci0)              real
``tcp-client:HOST:PORT``                    H4 over TCP, we connect                    both
``tcp-server:HOST:PORT`` (``tcp:PORT``)     H4 over TCP, we listen (port 0: any free)  both
``pty:PATH`` (``pty``)                      H4 over a pseudo-terminal linked at PATH   both
``vhci`` (``vhci:/dev/vhci``)               Linux virtual HCI: the kernel is the host  serve
==========================================  =========================================  ======

"real" transports reach a controller (blesim is the host, role ``"host"``); "serve"
transports reach a host (blesim serves a simulated controller, role ``"controller"``);
byte streams work both ways. :func:`parse_transport` turns the text into a frozen spec
(:class:`TransportSpecError`, a ValueError, says what the syntax is);
:func:`open_transport` opens it for a role (:class:`TransportError` says precisely what is
missing: no device, no permission, no kernel support, nothing listening).

Every open transport is an :class:`HciTransport`: :meth:`~HciTransport.start` hands it two
callbacks, ``on_packet(h4_type, packet)`` and ``on_lost(reason)``, which it calls from its
own reader thread(s); :meth:`~HciTransport.send` writes one packet (from the simulation's
thread); :meth:`~HciTransport.close` stops the threads. A transport reports ``on_lost`` at
most once and drops what is sent after it. It never touches the simulation: the
:mod:`emu.bridge.pacing` inbox carries its callbacks into simulated time.
"""

from __future__ import annotations

import re
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Callable, Literal, Union

Role = Literal["host", "controller"]
OnPacket = Callable[[int, bytes], None]
OnLost = Callable[[str], None]

#: H4 types blesim accepts from the other side, by blesim's role.
INBOUND_TYPES: dict[str, tuple[int, ...]] = {
    "host": (0x02, 0x03, 0x04, 0x05),  # ACL, SCO, event, ISO from a controller
    "controller": (0x01, 0x02, 0x03, 0x05),  # command, ACL, SCO, ISO from a host
}


class TransportSpecError(ValueError):
    """A transport string that does not parse; the message gives the expected syntax."""


class TransportError(RuntimeError):
    """A transport that cannot be opened; the message says precisely what is missing."""


# ----------------------------------------------------------------------------- specs
@dataclass(frozen=True)
class UsbSpec:
    """``usb:N`` (the N-th Bluetooth USB device) or ``usb:VVVV:PPPP[#N]``."""

    index: int = 0
    vendor: int | None = None
    product: int | None = None

    def __str__(self) -> str:
        if self.vendor is None or self.product is None:
            return f"usb:{self.index}"
        suffix = f"#{self.index}" if self.index else ""
        return f"usb:{self.vendor:04x}:{self.product:04x}{suffix}"


@dataclass(frozen=True)
class SerialSpec:
    """``serial:PATH[,BAUD][,rtscts]`` (H4 on a UART; 1000000 baud unless given)."""

    path: str
    baudrate: int = 1_000_000
    rtscts: bool = False

    def __str__(self) -> str:
        return f"serial:{self.path},{self.baudrate}" + (",rtscts" if self.rtscts else "")


@dataclass(frozen=True)
class HciSocketSpec:
    """``hci-socket:N``: the Linux HCI user channel of adapter hciN."""

    index: int = 0

    def __str__(self) -> str:
        return f"hci-socket:{self.index}"


@dataclass(frozen=True)
class TcpClientSpec:
    """``tcp-client:HOST:PORT``."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"tcp-client:{_host_text(self.host)}:{self.port}"


@dataclass(frozen=True)
class TcpServerSpec:
    """``tcp-server:HOST:PORT`` (``_`` or empty host: every interface; port 0: any free)."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"tcp-server:{_host_text(self.host)}:{self.port}"


@dataclass(frozen=True)
class PtySpec:
    """``pty:PATH``: a pseudo-terminal whose other end is linked at PATH (or none)."""

    path: str | None = None

    def __str__(self) -> str:
        return "pty" if self.path is None else f"pty:{self.path}"


@dataclass(frozen=True)
class VhciSpec:
    """``vhci[:PATH]``: a Linux virtual HCI controller (/dev/vhci)."""

    path: str = "/dev/vhci"

    def __str__(self) -> str:
        return "vhci" if self.path == "/dev/vhci" else f"vhci:{self.path}"


TransportSpec = Union[UsbSpec, SerialSpec, HciSocketSpec, TcpClientSpec, TcpServerSpec, PtySpec, VhciSpec]

SYNTAX = (
    "usb:N, usb:VVVV:PPPP[#N], serial:PATH[,BAUD][,rtscts], hci-socket:N, tcp-client:HOST:PORT, "
    "tcp-server:HOST:PORT, pty:PATH or vhci"
)


def _host_text(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _int(text: str, what: str, spec: str, base: int = 10, low: int = 0, high: int = 65535) -> int:
    try:
        value = int(text, base)
    except ValueError:
        raise TransportSpecError(f"transport {spec!r}: {what} {text!r} is not a number") from None
    if not low <= value <= high:
        raise TransportSpecError(f"transport {spec!r}: {what} {value} is not in {low}..{high}")
    return value


def _host_port(rest: str, spec: str) -> tuple[str, int]:
    m = re.fullmatch(r"\[([^\]]*)\]:(.*)", rest)
    if m is not None:
        host, port = m.group(1), m.group(2)
    elif ":" in rest:
        host, port = rest.rsplit(":", 1)
    else:
        raise TransportSpecError(f"transport {spec!r}: expected HOST:PORT after the kind")
    return host, _int(port, "port", spec)


def parse_transport(text: str) -> TransportSpec:
    """The spec for ``text``; :class:`TransportSpecError` names the accepted forms."""
    spec = text.strip()
    kind, _, rest = spec.partition(":")
    kind = kind.lower()
    if kind == "usb":
        m = re.fullmatch(r"([0-9a-fA-F]{4}):([0-9a-fA-F]{4})(?:#(\d+))?", rest)
        if m is not None:
            index = int(m.group(3)) if m.group(3) else 0
            return UsbSpec(index, int(m.group(1), 16), int(m.group(2), 16))
        if re.fullmatch(r"\d+", rest or "0"):
            return UsbSpec(int(rest or "0"))
        raise TransportSpecError(f"transport {spec!r}: expected usb:N or usb:VVVV:PPPP[#N] (hexadecimal ids)")
    if kind == "serial":
        parts = [p.strip() for p in rest.split(",")] if rest else []
        if not parts or not parts[0]:
            raise TransportSpecError(f"transport {spec!r}: expected serial:PATH[,BAUD][,rtscts]")
        baud, rtscts = 1_000_000, False
        for extra in parts[1:]:
            if extra.lower() == "rtscts":
                rtscts = True
            else:
                baud = _int(extra, "baud rate", spec, low=300, high=20_000_000)
        return SerialSpec(parts[0], baud, rtscts)
    if kind == "hci-socket":
        return HciSocketSpec(_int(rest or "0", "adapter index", spec))
    if kind == "tcp-client":
        host, port = _host_port(rest, spec)
        if port == 0 or not host:
            raise TransportSpecError(f"transport {spec!r}: tcp-client needs a host and a port other than 0")
        return TcpClientSpec(host, port)
    if kind in ("tcp-server", "tcp"):
        if kind == "tcp" and re.fullmatch(r"\d+", rest):
            return TcpServerSpec("127.0.0.1", _int(rest, "port", spec))
        host, port = _host_port(rest, spec)
        return TcpServerSpec("" if host == "_" else host, port)
    if kind == "pty":
        return PtySpec(rest or None)
    if kind == "vhci":
        return VhciSpec(rest or "/dev/vhci")
    raise TransportSpecError(f"unknown transport {spec!r}: expected one of {SYNTAX}")


def roles_of(spec: TransportSpec) -> tuple[Role, ...]:
    """The roles a transport can play: ``"host"`` (reach a real controller) and/or
    ``"controller"`` (serve a simulated controller to an outside host)."""
    if isinstance(spec, (UsbSpec, HciSocketSpec)):
        return ("host",)
    if isinstance(spec, VhciSpec):
        return ("controller",)
    return ("host", "controller")


def check_role(spec: TransportSpec, role: Role) -> None:
    """:class:`TransportSpecError` if ``spec`` cannot play ``role``."""
    if role in roles_of(spec):
        return
    if role == "host":
        raise TransportSpecError(
            f"{spec} serves a controller to the kernel's host; it cannot reach a real controller "
            "(use usb:, serial:, hci-socket:, tcp-client:, tcp-server: or pty:)"
        )
    raise TransportSpecError(
        f"{spec} reaches a real controller; it cannot serve a simulated controller to an outside host "
        "(use tcp-server:, tcp-client:, pty:, serial: or vhci)"
    )


# ------------------------------------------------------------------------- transports
class HciTransport(ABC):
    """An open transport carrying HCI packets; see the module docstring."""

    def __init__(self, spec: TransportSpec, role: Role) -> None:
        self.spec = spec
        self.role = role
        self._on_packet: OnPacket | None = None
        self._on_lost: OnLost | None = None
        self._lost_lock = threading.Lock()
        self.lost_reason: str | None = None
        self.closing = False
        self.packets_in = 0
        self.packets_out = 0
        #: Things the user should know about this device (firmware needs ...), said once opened.
        self.notes: list[str] = []
        self._threads: list[threading.Thread] = []

    @property
    def description(self) -> str:
        """How to reach this transport, once open (a bound port, a pty name ...)."""
        return str(self.spec)

    def start(self, on_packet: OnPacket, on_lost: OnLost) -> None:
        """Begin delivering packets (from reader threads) to ``on_packet``."""
        self._on_packet = on_packet
        self._on_lost = on_lost
        self._start_readers()

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=self._guard(target), name=f"blesim {self.spec} {name}", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _guard(self, target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except Exception as exc:  # a reader must never die silently
                self.lost(f"{type(exc).__name__}: {exc}")

        return run

    def deliver(self, h4_type: int, packet: bytes) -> None:
        """A packet from the other side (called by reader threads)."""
        if self.lost_reason is not None or self.closing:
            return
        self.packets_in += 1
        if self._on_packet is not None:
            self._on_packet(h4_type, packet)

    def lost(self, reason: str) -> None:
        """The other side is gone: report it once (unless we are closing)."""
        with self._lost_lock:
            if self.lost_reason is not None or self.closing:
                return
            self.lost_reason = reason
        if self._on_lost is not None:
            self._on_lost(reason)

    def send(self, h4_type: int, packet: bytes) -> None:
        """Write one packet; a write error reports the transport lost."""
        if self.lost_reason is not None or self.closing:
            return
        try:
            self._send(h4_type, bytes(packet))
        except OSError as exc:
            self.lost(f"write failed: {exc.strerror or exc}")
            return
        self.packets_out += 1

    def close(self) -> None:
        """Stop the reader threads and release the device; safe to call twice."""
        if self.closing:
            return
        self.closing = True
        try:
            self._close()
        finally:
            current = threading.current_thread()
            for thread in self._threads:
                if thread is not current:
                    thread.join(timeout=2.0)

    @abstractmethod
    def _start_readers(self) -> None: ...

    @abstractmethod
    def _send(self, h4_type: int, packet: bytes) -> None: ...

    @abstractmethod
    def _close(self) -> None: ...


def open_transport(spec: TransportSpec | str, role: Role) -> HciTransport:
    """Open ``spec`` for ``role`` (not yet started); :class:`TransportError` if impossible."""
    if isinstance(spec, str):
        spec = parse_transport(spec)
    check_role(spec, role)
    if isinstance(spec, UsbSpec):
        from .usb import UsbTransport

        return UsbTransport(spec)
    if isinstance(spec, SerialSpec):
        from .serial import SerialTransport

        return SerialTransport(spec, role)
    if isinstance(spec, HciSocketSpec):
        from .hci_socket import HciSocketTransport

        return HciSocketTransport(spec)
    if isinstance(spec, TcpClientSpec):
        from .tcp import TcpClientTransport

        return TcpClientTransport(spec, role)
    if isinstance(spec, TcpServerSpec):
        from .tcp import TcpServerTransport

        return TcpServerTransport(spec, role)
    if isinstance(spec, PtySpec):
        from .pty import PtyTransport

        return PtyTransport(spec, role)
    from .vhci import VhciTransport

    return VhciTransport(spec)


__all__ = [
    "Role",
    "OnPacket",
    "OnLost",
    "INBOUND_TYPES",
    "TransportSpecError",
    "TransportError",
    "UsbSpec",
    "SerialSpec",
    "HciSocketSpec",
    "TcpClientSpec",
    "TcpServerSpec",
    "PtySpec",
    "VhciSpec",
    "TransportSpec",
    "SYNTAX",
    "parse_transport",
    "roles_of",
    "check_role",
    "HciTransport",
    "open_transport",
]
