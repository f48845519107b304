"""The errors of the Python device API (:mod:`emu.device`), and the translation of host errors.

Theory of operation
-------------------
The device API never lets a host exception out: every call into the host runs inside
:func:`host_errors`, which turns caller misuse reported by the host
(:class:`~host.hci.LocalError`, :class:`~host.att.AttLocalError`, ``ValueError``
subclasses such as a bad UUID or address) into :class:`DeviceUsageError`, and
:func:`from_att_error` turns the outcome of a failed GATT operation into
:class:`GattError` (an ATT Error Response from the peer, Vol 3 Part F 3.4.1.1),
:class:`DeviceTimeoutError` (the 30 s ATT transaction timeout, Vol 3 Part F 3.3.3) or
:class:`Disconnected` (the bearer closed with the link).

Every class derives from :class:`DeviceError`; timeouts also derive from the built-in
``TimeoutError`` and usage errors from ``ValueError``, so plain ``except`` clauses work.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from host.att import AttBearerClosedError, AttError, AttLocalError, AttTimeoutError
from host.att_pdu import AttErrorCode
from host.hci import LocalError

__all__ = [
    "ConnectTimeout",
    "ConnectionFailed",
    "DeviceError",
    "DeviceTimeoutError",
    "DeviceUsageError",
    "Disconnected",
    "GattError",
    "from_att_error",
    "host_errors",
]


class DeviceError(Exception):
    """Base class of every error the device API raises."""


class DeviceUsageError(DeviceError, ValueError):
    """The call was not valid here (bad argument, wrong state, not powered...)."""


class DeviceTimeoutError(DeviceError, TimeoutError):
    """What the call waited for did not happen within its (simulated) timeout."""


class GattError(DeviceError):
    """The peer answered a GATT operation with an ATT error (Vol 3 Part F 3.4.1.1).

    ``code`` is the ATT error code (``AttErrorCode`` or an application code 0x80-0x9F),
    ``handle`` the Attribute Handle In Error. Raised by an ``on_read`` hook, it denies
    the read with that code.
    """

    def __init__(self, code: int, handle: int = 0, message: str = "") -> None:
        self.code = int(code)
        self.handle = int(handle)
        name = AttErrorCode(code).name if code in AttErrorCode._value2member_map_ else f"0x{code:02X}"
        self.name = name
        super().__init__(message or f"ATT error {name} on handle 0x{handle:04X}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GattError):
            return NotImplemented
        return (self.code, self.handle) == (other.code, other.handle)

    def __hash__(self) -> int:
        return hash((self.code, self.handle))


class ConnectionFailed(DeviceError):
    """A connection could not be established; ``reason`` says why in words
    (``"timeout"``, ``"cancelled"``, ``"refused"``, ``"failed"``), ``status`` is the HCI
    error code (Vol 1 Part F)."""

    def __init__(self, message: str, reason: str = "failed", status: int = 0) -> None:
        super().__init__(message)
        self.reason = reason
        self.status = status


class ConnectTimeout(ConnectionFailed, DeviceTimeoutError):
    """No connection within the timeout (the attempt was cancelled)."""


class Disconnected(DeviceError):
    """The connection is gone (``reason``: the HCI reason code, Vol 1 Part F)."""

    def __init__(self, message: str, reason: int | None = None) -> None:
        super().__init__(message)
        self.reason = reason


def from_att_error(error: AttError, what: str = "") -> DeviceError:
    """The device error for a failed GATT operation."""
    prefix = f"{what}: " if what else ""
    if isinstance(error, AttTimeoutError):
        return DeviceTimeoutError(f"{prefix}ATT transaction timeout (30 s without a response)")
    if isinstance(error, AttBearerClosedError):
        return Disconnected(f"{prefix}the connection was closed")
    if error.code == 0:  # other local failures without an ATT code
        return DeviceError(f"{prefix}{error}")
    return GattError(error.code, error.handle, f"{prefix}{error}" if prefix else "")


@contextlib.contextmanager
def host_errors(what: str = "") -> Iterator[None]:
    """Turn host exceptions raised inside the block into device errors."""
    prefix = f"{what}: " if what else ""
    try:
        yield
    except DeviceError:
        raise
    except AttError as exc:
        raise from_att_error(exc, what) from exc
    except (LocalError, AttLocalError, ValueError) as exc:
        raise DeviceUsageError(f"{prefix}{exc}") from exc
