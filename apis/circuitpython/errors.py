"""``_bleio`` exceptions, and how host outcomes become the errors a CircuitPython board raises.

Theory of operation
-------------------
CircuitPython defines ``_bleio.BluetoothError(Exception)`` with the subclasses
``RoleError`` and ``SecurityError``; they print with a ``_bleio.`` prefix, which
``__module__ = "_bleio"`` reproduces. The cores raise the *builtin* ``ConnectionError``
("Not connected") while the documentation lists ``_bleio.ConnectionError`` under
``BluetoothError``: the class here derives from both, so ``except ConnectionError``,
``except OSError`` (as ``ble_demo_central.py`` does) and ``except _bleio.BluetoothError``
all catch it.

The messages are the Nordic port's (``check_nrf_error``, ``check_gatt_status``,
``check_sec_status``): a GATT error becomes ``SecurityError("Insufficient
authentication")`` / ``("Insufficient encryption")`` or ``BluetoothError("Unknown gatt
error: 0x01xx")`` (the SoftDevice's GATT status is 0x0100 + the ATT error code); a
failed pairing becomes ``SecurityError`` with the SoftDevice's security status (0x80 +
the SMP Pairing Failed reason, 0x01 for a timeout).
"""

from __future__ import annotations

import builtins

__all__ = [
    "DEINITED_MESSAGE",
    "DISCONNECTED_CONNECTION",
    "NOT_CONNECTED",
    "BluetoothError",
    "ConnectionError",
    "RoleError",
    "SecurityError",
    "firmware_error",
    "gatt_error",
    "security_error",
]

#: ``raise_deinited_error()`` of the cores.
DEINITED_MESSAGE = "Object has been deinitialized and can no longer be used. Create a new object."
#: ``bleio_check_connected`` / ``check_nrf_error(BLE_ERROR_INVALID_CONN_HANDLE)``.
NOT_CONNECTED = "Not connected"
#: ``bleio_connection_ensure_connected`` (shared-bindings/_bleio/Connection.c).
DISCONNECTED_CONNECTION = "Connection has been disconnected and can no longer be used. Create a new connection."

#: SoftDevice ``BLE_GATT_STATUS_ATTERR_*`` = 0x0100 + ATT error code (Vol 3 Part F 3.4.1.1).
_GATT_STATUS_BASE = 0x0100
_INSUFFICIENT_AUTHENTICATION = 0x05
_INSUFFICIENT_ENCRYPTION = 0x0F
#: ``BLE_GAP_SEC_STATUS_*``: 0x80 + SMP Pairing Failed reason (Vol 3 Part H 3.5.5); 0x88 unspecified.
_SEC_STATUS_BASE = 0x80
_SEC_STATUS_TIMEOUT = 0x01
_SMP_UNSPECIFIED_REASON = 0x08


class BluetoothError(Exception):
    """Catchall exception for Bluetooth related errors."""


class RoleError(BluetoothError):
    """A resource used in the wrong role (for example a CCCD set on a local Characteristic)."""


class SecurityError(BluetoothError):
    """A security related error (insufficient encryption or authentication, failed pairing)."""


class ConnectionError(BluetoothError, builtins.ConnectionError):
    """Not connected, or the connection is gone (also the builtin ``ConnectionError``)."""


for _cls in (BluetoothError, RoleError, SecurityError, ConnectionError):
    _cls.__module__ = "_bleio"


def firmware_error(code: int) -> BluetoothError:
    """``check_nrf_error`` for codes without a dedicated message."""
    return BluetoothError(f"Unknown system firmware error: {code:04x}")


def gatt_error(att_code: int) -> BluetoothError:
    """``check_gatt_status`` for an ATT error code answered by the peer."""
    if att_code == _INSUFFICIENT_AUTHENTICATION:
        return SecurityError("Insufficient authentication")
    if att_code == _INSUFFICIENT_ENCRYPTION:
        return SecurityError("Insufficient encryption")
    return BluetoothError(f"Unknown gatt error: 0x{_GATT_STATUS_BASE + att_code:04x}")


def security_error(reason: int | None, timed_out: bool = False) -> SecurityError:
    """``check_sec_status`` for a failed pairing (SMP reason, or a timeout)."""
    if timed_out or reason is None:
        status = _SEC_STATUS_TIMEOUT
    else:
        status = _SEC_STATUS_BASE + reason
    if status == _SEC_STATUS_BASE + _SMP_UNSPECIFIED_REASON:
        return SecurityError(
            "Unspecified issue. Can be that the pairing prompt on the other device was declined or ignored."
        )
    return SecurityError(f"Unknown security error: 0x{status:04x}")
