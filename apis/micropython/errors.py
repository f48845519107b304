"""Error values as MicroPython's ``bluetooth`` module raises and reports them.

Theory of operation
-------------------
MicroPython raises ``OSError(errno)`` with the board's errno numbers (``MP_E*``, the
same numbers as Linux) and reports stack statuses in IRQ payloads. The NimBLE build
maps its host error codes (``BLE_HS_E*``) to errno for raised errors
(``ble_hs_err_to_errno``) and passes them unchanged in IRQ ``status`` fields, where ATT
errors appear as ``0x100 + ATT error code``. This module holds those numbers and the
two helpers the personality uses; nothing here knows about the host.
"""

from __future__ import annotations

from typing import Final, NoReturn

# -- errno values of MicroPython (py/mperrno.h) -------------------------------------------
EPERM: Final = 1
ENOENT: Final = 2
EIO: Final = 5
EAGAIN: Final = 11
ENOMEM: Final = 12
EBUSY: Final = 16
ENODEV: Final = 19
EINVAL: Final = 22
EOPNOTSUPP: Final = 95
ENOTCONN: Final = 107
ETIMEDOUT: Final = 110
EALREADY: Final = 114

#: The error of every call made while the radio is not active.
ERRNO_BLUETOOTH_NOT_ACTIVE: Final = ENODEV

# -- NimBLE host status codes (nimble/host/include/host/ble_hs.h) -----------------------------
BLE_HS_EAGAIN: Final = 1
BLE_HS_EALREADY: Final = 2
BLE_HS_EINVAL: Final = 3
BLE_HS_ENOENT: Final = 5
BLE_HS_ENOMEM: Final = 6
BLE_HS_ENOTCONN: Final = 7
BLE_HS_ENOTSUP: Final = 8
BLE_HS_ETIMEOUT: Final = 13
BLE_HS_EDONE: Final = 14
BLE_HS_EBUSY: Final = 15
BLE_HS_EREJECT: Final = 16
BLE_HS_EUNKNOWN: Final = 17
BLE_HS_EAUTHEN: Final = 23
BLE_HS_EAUTHOR: Final = 24
BLE_HS_EENCRYPT: Final = 25
BLE_HS_EENCRYPT_KEY_SZ: Final = 26
#: ATT errors reported by NimBLE: ``BLE_HS_ERR_ATT_BASE + code``.
BLE_HS_ERR_ATT_BASE: Final = 0x100

#: ``ble_hs_err_to_errno`` of MicroPython's NimBLE binding; other codes become EIO.
_HS_TO_ERRNO: Final = {
    BLE_HS_EAGAIN: EAGAIN,
    BLE_HS_EALREADY: EALREADY,
    BLE_HS_EINVAL: EINVAL,
    BLE_HS_ENOENT: ENOENT,
    BLE_HS_ENOMEM: ENOMEM,
    BLE_HS_ENOTCONN: ENOTCONN,
    BLE_HS_ENOTSUP: EOPNOTSUPP,
    BLE_HS_ETIMEOUT: ETIMEDOUT,
    BLE_HS_EDONE: EIO,
    BLE_HS_EBUSY: EBUSY,
}


def hs_to_errno(code: int) -> int:
    """The errno MicroPython raises for a NimBLE status ``code`` (0 stays 0)."""
    if code == 0:
        return 0
    return _HS_TO_ERRNO.get(code, EIO)


def raise_errno(errno: int) -> NoReturn:
    """Raise ``OSError(errno)`` as MicroPython does (``mp_raise_OSError``)."""
    raise OSError(errno)


__all__ = [
    "BLE_HS_EAGAIN", "BLE_HS_EALREADY", "BLE_HS_EAUTHEN", "BLE_HS_EAUTHOR", "BLE_HS_EBUSY",
    "BLE_HS_EDONE", "BLE_HS_EENCRYPT", "BLE_HS_EENCRYPT_KEY_SZ", "BLE_HS_EINVAL",
    "BLE_HS_ENOENT", "BLE_HS_ENOMEM", "BLE_HS_ENOTCONN", "BLE_HS_ENOTSUP", "BLE_HS_EREJECT",
    "BLE_HS_ERR_ATT_BASE", "BLE_HS_ETIMEOUT", "BLE_HS_EUNKNOWN", "EAGAIN", "EALREADY",
    "EBUSY", "EINVAL", "EIO", "ENODEV", "ENOENT", "ENOMEM", "ENOTCONN", "EOPNOTSUPP",
    "EPERM", "ERRNO_BLUETOOTH_NOT_ACTIVE", "ETIMEDOUT", "hs_to_errno", "raise_errno",
]
