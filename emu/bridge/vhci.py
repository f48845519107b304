"""Linux virtual HCI: ``vhci`` makes a simulated controller an adapter of the kernel (hciN).

Theory of operation
-------------------
Opening ``/dev/vhci`` and writing the vendor packet ``FF 00`` (HCI_VENDOR_PKT, "create a
primary controller") makes the kernel register a new adapter; it answers ``FF 00 idx_lo
idx_hi`` with the adapter index. From then on every read returns one H4 packet the
kernel's host sends (commands, ACL) and every write delivers one packet to it (events,
ACL): BlueZ (``bluetoothctl``, ``btmgmt --index N``) drives the simulated controller.
Closing the file removes the adapter. Needs the ``hci_vhci`` module and root (or write
access to /dev/vhci).
"""

from __future__ import annotations

import errno
import os
import select

from .h4stream import StreamTransport
from .transports import TransportError, VhciSpec

POLL_S = 0.1
#: HCI_VENDOR_PKT and the "primary controller" device type of the create request.
VENDOR_PACKET = 0xFF
CREATE_PRIMARY = bytes([VENDOR_PACKET, 0x00])
ANSWER_TIMEOUT_S = 2.0


def _missing(spec: VhciSpec) -> str:
    return (f"{spec}: {spec.path} does not exist: this kernel offers no virtual HCI "
            "(load it with: sudo modprobe hci_vhci; containers need the device passed in)")


class VhciTransport(StreamTransport):
    """A simulated controller registered with the kernel through /dev/vhci."""

    def __init__(self, spec: VhciSpec) -> None:
        super().__init__(spec, "controller")
        self.vhci_spec = spec
        if not os.path.exists(spec.path):
            raise TransportError(_missing(spec))
        try:
            fd = os.open(spec.path, os.O_RDWR)
        except PermissionError:
            raise TransportError(f"{spec}: no permission to open {spec.path} (run as root)") from None
        except OSError as exc:
            raise TransportError(f"{spec}: cannot open {spec.path}: {exc.strerror or exc}") from None
        self.fd: int | None = fd
        try:
            os.write(fd, CREATE_PRIMARY)
            ready, _, _ = select.select([fd], [], [], ANSWER_TIMEOUT_S)
            answer = os.read(fd, 4) if ready else b""
        except OSError as exc:
            self._close()
            raise TransportError(f"{spec}: the kernel refused a new controller: {exc.strerror or exc}") from None
        if len(answer) != 4 or answer[0] != VENDOR_PACKET:
            self._close()
            raise TransportError(f"{spec}: unexpected answer {answer.hex(' ')!r} to the create request")
        #: The kernel's adapter index (hciN).
        self.index = int.from_bytes(answer[2:4], "little")

    @property
    def description(self) -> str:
        return f"vhci (hci{self.index})"

    def _read_chunk(self) -> bytes | None:
        fd = self.fd
        if fd is None:
            return b""
        ready, _, _ = select.select([fd], [], [], POLL_S)
        if not ready:
            return None
        try:
            return os.read(fd, 65536)
        except OSError as exc:
            if exc.errno == errno.EAGAIN:
                return None
            raise

    def _write(self, frame: bytes) -> None:
        if self.fd is None:
            raise OSError("vhci closed")
        os.write(self.fd, frame)  # one packet per write

    def _close(self) -> None:
        fd, self.fd = self.fd, None
        if fd is not None:
            os.close(fd)


__all__ = ["VhciTransport"]
