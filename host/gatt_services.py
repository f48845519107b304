"""Definitions of the two mandatory GATT services: GAP (0x1800) and GATT (0x1801).

Theory of operation
-------------------
These builders return plain :class:`~host.gatt_db.ServiceDef` objects;
:meth:`host.gatt_server.GattServer.add_gap_service` and
:meth:`~host.gatt_server.GattServer.add_gatt_service` add them and return the handles
(:class:`GapServiceHandles`, :class:`GattServiceHandles`). Values follow Core
Specification Vol 3 Part C 12 (Device Name, Appearance, Peripheral Preferred Connection
Parameters) and Vol 3 Part G 7 (Service Changed, Client Supported Features, Database
Hash, Server Supported Features).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from host.att import AttLocalError
from host.gatt_db import (
    APPEARANCE_UUID,
    CLIENT_SUPPORTED_FEATURES_UUID,
    DATABASE_HASH_UUID,
    DEVICE_NAME_UUID,
    GAP_SERVICE_UUID,
    GATT_SERVICE_UUID,
    PERIPHERAL_PREFERRED_CONNECTION_PARAMETERS_UUID,
    SERVER_SUPPORTED_FEATURES_UUID,
    SERVICE_CHANGED_UUID,
    CharacteristicDef,
    CharacteristicProperties,
    Permissions,
    ServiceDef,
)

__all__ = [
    "CLIENT_FEATURE_EATT", "CLIENT_FEATURE_MULTIPLE_HANDLE_VALUE_NOTIFICATIONS",
    "CLIENT_FEATURE_ROBUST_CACHING", "GapServiceHandles", "GattServiceHandles",
    "PeripheralPreferredConnectionParameters", "gap_service_def", "gatt_service_def",
]

#: Client Supported Features bits (Vol 3 Part G 7.2, Table 7.6).
CLIENT_FEATURE_ROBUST_CACHING: Final = 0x01
CLIENT_FEATURE_EATT: Final = 0x02
CLIENT_FEATURE_MULTIPLE_HANDLE_VALUE_NOTIFICATIONS: Final = 0x04
#: Longest Device Name (Vol 3 Part C 12.1).
MAX_DEVICE_NAME_LENGTH: Final = 248

_P = CharacteristicProperties


@dataclass(frozen=True)
class PeripheralPreferredConnectionParameters:
    """Vol 3 Part C 12.3: intervals in 1.25 ms units, timeout in 10 ms units
    (0xFFFF: no specific value)."""

    min_connection_interval: int
    max_connection_interval: int
    peripheral_latency: int
    connection_supervision_timeout: int

    def to_bytes(self) -> bytes:
        return b"".join(
            v.to_bytes(2, "little")
            for v in (
                self.min_connection_interval,
                self.max_connection_interval,
                self.peripheral_latency,
                self.connection_supervision_timeout,
            )
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> PeripheralPreferredConnectionParameters:
        if len(data) != 8:
            raise ValueError(f"PPCP is 8 octets, not {len(data)}")
        v = [int.from_bytes(data[i : i + 2], "little") for i in range(0, 8, 2)]
        return cls(v[0], v[1], v[2], v[3])


@dataclass(frozen=True)
class GapServiceHandles:
    service_start: int
    service_end: int
    device_name: int
    appearance: int
    peripheral_preferred_connection_parameters: int | None


@dataclass(frozen=True)
class GattServiceHandles:
    service_start: int
    service_end: int
    service_changed: int | None
    service_changed_cccd: int | None
    client_supported_features: int | None
    database_hash: int | None
    server_supported_features: int | None


def gap_service_def(
    device_name: str | bytes,
    appearance: int = 0,
    ppcp: PeripheralPreferredConnectionParameters | None = None,
    *,
    device_name_writable: bool = False,
) -> ServiceDef:
    """The GAP service (Vol 3 Part C 12): Device Name, Appearance, optional PPCP."""
    name = device_name.encode() if isinstance(device_name, str) else bytes(device_name)
    if len(name) > MAX_DEVICE_NAME_LENGTH:
        raise AttLocalError(f"a Device Name is at most {MAX_DEVICE_NAME_LENGTH} octets")
    name_props = _P.READ | (_P.WRITE if device_name_writable else _P(0))
    chars = [
        CharacteristicDef(DEVICE_NAME_UUID, name_props, name, max_length=MAX_DEVICE_NAME_LENGTH),
        CharacteristicDef(
            APPEARANCE_UUID, _P.READ, appearance.to_bytes(2, "little"), max_length=2, fixed_length=True
        ),
    ]
    if ppcp is not None:
        chars.append(
            CharacteristicDef(
                PERIPHERAL_PREFERRED_CONNECTION_PARAMETERS_UUID, _P.READ, ppcp.to_bytes(),
                max_length=8, fixed_length=True,
            )
        )
    return ServiceDef(GAP_SERVICE_UUID, tuple(chars))


def gatt_service_def(
    *,
    service_changed: bool = True,
    client_supported_features: bool = True,
    database_hash: bool = True,
    server_supported_features: bool = False,
) -> ServiceDef:
    """The GATT service (Vol 3 Part G 7): Service Changed (indicate) and the optional
    caching characteristics."""
    chars = []
    if service_changed:
        chars.append(
            CharacteristicDef(
                SERVICE_CHANGED_UUID, _P.INDICATE, bytes(4), permissions=Permissions(0),
                max_length=4, fixed_length=True,
            )
        )
    if client_supported_features:
        chars.append(
            CharacteristicDef(
                CLIENT_SUPPORTED_FEATURES_UUID, _P.READ | _P.WRITE, b"\x00", max_length=1
            )
        )
    if database_hash:
        chars.append(CharacteristicDef(DATABASE_HASH_UUID, _P.READ, bytes(16), max_length=16))
    if server_supported_features:
        chars.append(
            CharacteristicDef(SERVER_SUPPORTED_FEATURES_UUID, _P.READ, b"\x00", max_length=1)
        )
    return ServiceDef(GATT_SERVICE_UUID, tuple(chars))
