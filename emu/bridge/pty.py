"""H4 over a pseudo-terminal: ``pty:PATH`` links PATH to a fresh pty for the other side.

Theory of operation
-------------------
blesim opens a pty pair, puts it in raw mode (no echo, no line discipline: every octet
passes unchanged), links PATH to the secondary end (``/dev/pts/N``) and speaks H4 on the
primary end. The other program opens PATH as if it were a UART (a Zephyr native build's
``--bt-dev``, ``btattach -B PATH``, Bumble's ``serial:PATH``). blesim keeps the secondary
end open too, so the other side may close and reopen PATH; a pty therefore never reports
its peer gone. The link is removed when the transport closes.
"""

from __future__ import annotations

import errno
import os
import select
import termios
import tty

from .h4stream import StreamTransport
from .transports import PtySpec, Role, TransportError

POLL_S = 0.1


class PtyTransport(StreamTransport):
    """H4 on the primary end of a pty whose secondary end is linked at the spec's path."""

    def __init__(self, spec: PtySpec, role: Role) -> None:
        super().__init__(spec, role)
        self.pty_spec = spec
        primary, secondary = os.openpty()
        self.primary: int | None = primary
        self.secondary: int | None = secondary
        self.secondary_name = os.ttyname(secondary)
        self.link: str | None = None
        tty.setraw(secondary, termios.TCSANOW)
        if spec.path is not None:
            try:
                if os.path.islink(spec.path):
                    os.unlink(spec.path)
                os.symlink(self.secondary_name, spec.path)
            except OSError as exc:
                self._close()
                raise TransportError(f"{spec}: cannot create the link {spec.path}: {exc.strerror or exc}") from None
            self.link = spec.path

    @property
    def description(self) -> str:
        if self.link is None:
            return f"pty:{self.secondary_name}"
        return f"pty:{self.link} (-> {self.secondary_name})"

    def _read_chunk(self) -> bytes | None:
        fd = self.primary
        if fd is None:
            return b""
        ready, _, _ = select.select([fd], [], [], POLL_S)
        if not ready:
            return None
        try:
            return os.read(fd, 65536)
        except OSError as exc:
            if exc.errno == errno.EIO:  # no one has the secondary end open: wait
                return None
            raise

    def _write(self, frame: bytes) -> None:
        fd = self.primary
        if fd is None:
            raise OSError("pty closed")
        view = memoryview(frame)
        while view:
            written = os.write(fd, view)
            view = view[written:]

    def _close(self) -> None:
        if self.link is not None:
            try:
                if os.path.islink(self.link):
                    os.unlink(self.link)
            except OSError:
                pass
            self.link = None
        for attr in ("primary", "secondary"):
            fd = getattr(self, attr)
            setattr(self, attr, None)
            if fd is not None:
                os.close(fd)


__all__ = ["PtyTransport"]
