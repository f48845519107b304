"""H4 over a UART: ``serial:/dev/ttyACM0,1000000[,rtscts]`` (pyserial).

Theory of operation
-------------------
The port is opened 8N1 at the given rate, with RTS/CTS hardware flow control when asked
(most HCI UART firmwares — Zephyr's hci_uart, nRF and TI network processors — want it at
1 Mbaud and above). Reads wait at most a short while so that closing is noticed. A
device that disappears (USB-serial adapter unplugged) fails its next read or write:
the transport is lost. Garbage on the line, typically a wrong baud rate, is handled by
:class:`~emu.bridge.h4stream.H4StreamDecoder` (resynchronise, then fail clearly).
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from .h4stream import StreamTransport
from .transports import Role, SerialSpec, TransportError

POLL_S = 0.1


def _pyserial() -> Any:
    try:
        return importlib.import_module("serial")  # pyserial, not this module
    except ImportError:
        raise TransportError("serial transports need pyserial: pip install pyserial") from None


class SerialTransport(StreamTransport):
    """H4 on a serial port."""

    def __init__(self, spec: SerialSpec, role: Role, *, port: Any = None) -> None:
        super().__init__(spec, role)
        self.serial_spec = spec
        if port is None:
            serial = _pyserial()
            if not os.path.exists(spec.path):
                raise TransportError(f"{spec}: {spec.path} does not exist (is the board plugged in?)")
            try:
                port = serial.Serial(spec.path, spec.baudrate, rtscts=spec.rtscts, timeout=POLL_S)
            except (OSError, ValueError, serial.SerialException) as exc:
                raise TransportError(f"{spec}: cannot open {spec.path}: {exc}") from None
            try:
                port.reset_input_buffer()  # octets from before we came are not ours
            except Exception:
                pass
        self.port: Any = port

    def _read_chunk(self) -> bytes | None:
        port = self.port
        if port is None:
            return b""
        try:
            waiting = int(port.in_waiting)
            data = port.read(max(1, waiting))
        except OSError:
            raise
        except Exception as exc:  # pyserial's SerialException: the device went away
            raise OSError(str(exc)) from None
        return bytes(data) if data else None

    def _write(self, frame: bytes) -> None:
        port = self.port
        if port is None:
            raise OSError("serial port closed")
        try:
            port.write(frame)
        except OSError:
            raise
        except Exception as exc:
            raise OSError(str(exc)) from None

    def _eof_reason(self) -> str:
        return f"{self.serial_spec.path} closed"

    def _close(self) -> None:
        port, self.port = self.port, None
        if port is not None:
            try:
                port.close()
            except Exception:
                pass


__all__ = ["SerialTransport"]
