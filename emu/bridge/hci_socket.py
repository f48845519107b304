"""The Linux HCI user channel: ``hci-socket:N`` gives blesim exclusive use of adapter hciN.

Theory of operation
-------------------
A raw Bluetooth socket (``AF_BLUETOOTH``, ``BTPROTO_HCI``) bound to ``(N,
HCI_CHANNEL_USER)`` bypasses the kernel's host stack: every ``recv`` returns one H4
packet from the controller, every ``send`` hands it one. Python's socket module binds
HCI sockets to the raw channel only, so the bind is done with libc through ctypes
(``struct sockaddr_hci``: family, device, channel — three unsigned shorts).

The kernel only grants the user channel to a process with CAP_NET_ADMIN and to an adapter
that is down and not managed by BlueZ; each refusal gets a message saying what to do
(:func:`bind_error_message`). When the adapter disappears (dongle unplugged) the socket
reports an error or end of file: the transport is lost.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import select
import socket
from typing import Any

from .h4stream import StreamTransport
from .transports import HciSocketSpec, TransportError

AF_BLUETOOTH = 31
BTPROTO_HCI = 1
HCI_CHANNEL_USER = 1
POLL_S = 0.1


class _SockaddrHci(ctypes.Structure):
    _fields_ = [("hci_family", ctypes.c_ushort), ("hci_dev", ctypes.c_ushort), ("hci_channel", ctypes.c_ushort)]


def socket_error_message(spec: HciSocketSpec, err: int) -> str:
    """Why ``socket(AF_BLUETOOTH, ...)`` failed, and what to do."""
    if err in (errno.EAFNOSUPPORT, errno.EPROTONOSUPPORT):
        return (f"{spec}: this system has no Bluetooth sockets (AF_BLUETOOTH is not supported: "
                "no Bluetooth in the kernel, or a container without it); use usb: or serial: instead")
    if err in (errno.EPERM, errno.EACCES):
        return f"{spec}: not allowed to open a raw Bluetooth socket (needs CAP_NET_RAW/CAP_NET_ADMIN: run as root)"
    return f"{spec}: cannot open a Bluetooth socket: {os.strerror(err)}"


def bind_error_message(spec: HciSocketSpec, err: int) -> str:
    """Why binding the user channel of hciN failed, and what to do."""
    n = spec.index
    if err == errno.ENODEV:
        return f"{spec}: there is no adapter hci{n} (see ls /sys/class/bluetooth or btmgmt info)"
    if err in (errno.EPERM, errno.EACCES):
        return (f"{spec}: this process lacks CAP_NET_ADMIN, which the HCI user channel needs: run as root, or "
                "sudo setcap cap_net_admin+eip \"$(readlink -f \"$(which python3)\")\"")
    if err in (errno.EBUSY, errno.EALREADY):
        return (f"{spec}: adapter hci{n} is up or in use by BlueZ: take it down first "
                f"(sudo btmgmt --index {n} power off, or sudo hciconfig hci{n} down), "
                "and stop bluetoothd if it keeps bringing it up")
    if err == errno.EINVAL:
        return f"{spec}: this kernel has no HCI user channel (Linux 3.13 or later is needed)"
    return f"{spec}: cannot bind the user channel of hci{n}: {os.strerror(err)}"


def open_user_channel(spec: HciSocketSpec) -> socket.socket:
    """A socket bound to the user channel of adapter ``spec.index`` (TransportError if not)."""
    try:
        sock = socket.socket(AF_BLUETOOTH, socket.SOCK_RAW, BTPROTO_HCI)
    except OSError as exc:
        raise TransportError(socket_error_message(spec, exc.errno or 0)) from None
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    addr = _SockaddrHci(AF_BLUETOOTH, spec.index, HCI_CHANNEL_USER)
    if libc.bind(sock.fileno(), ctypes.byref(addr), ctypes.sizeof(addr)) != 0:
        err = ctypes.get_errno()
        sock.close()
        raise TransportError(bind_error_message(spec, err))
    return sock


class HciSocketTransport(StreamTransport):
    """H4 packets on an HCI user channel socket (one packet per recv/send)."""

    def __init__(self, spec: HciSocketSpec, *, sock: Any = None) -> None:
        super().__init__(spec, "host")
        self.hci_spec = spec
        self.sock: Any = sock if sock is not None else open_user_channel(spec)

    def _read_chunk(self) -> bytes | None:
        sock = self.sock
        if sock is None:
            return b""
        ready, _, _ = select.select([sock], [], [], POLL_S)
        if not ready:
            return None
        return bytes(sock.recv(4096))

    def _write(self, frame: bytes) -> None:
        if self.sock is None:
            raise OSError("socket closed")
        self.sock.send(frame)

    def _eof_reason(self) -> str:
        return f"adapter hci{self.hci_spec.index} went away"

    def _close(self) -> None:
        sock, self.sock = self.sock, None
        if sock is not None:
            sock.close()


__all__ = [
    "AF_BLUETOOTH",
    "BTPROTO_HCI",
    "HCI_CHANNEL_USER",
    "socket_error_message",
    "bind_error_message",
    "open_user_channel",
    "HciSocketTransport",
]
