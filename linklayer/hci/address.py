"""Bluetooth device addresses (Vol 6 Part B 1.3).

An :class:`Address` holds the 6 octets in air/HCI order (least significant octet first)
and whether it is random. Printed form is most significant octet first,
``"C0:11:22:33:44:55"``. The two most significant bits of a random address give its
sub-type: 0b11 static, 0b01 resolvable private, 0b00 non-resolvable private.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class AddressError(ValueError):
    """A string or byte sequence is not a valid device address."""


class AddressKind(enum.Enum):
    PUBLIC = "public"
    RANDOM_STATIC = "random static"
    RESOLVABLE_PRIVATE = "resolvable private"
    NON_RESOLVABLE_PRIVATE = "non-resolvable private"
    RANDOM_RESERVED = "random reserved"


@dataclass(frozen=True, slots=True)
class Address:
    """A device address: 6 octets in air order plus the TxAdd/RxAdd bit."""

    value: bytes
    random: bool = False

    def __post_init__(self) -> None:
        if len(self.value) != 6:
            raise AddressError(f"an address has 6 octets, not {len(self.value)}")

    @classmethod
    def parse(cls, text: str, random: bool = False) -> "Address":
        """Parse ``"AA:BB:CC:DD:EE:FF"`` (printed order, ':' or '-' separated, or bare hex)."""
        cleaned = text.strip().replace(":", "").replace("-", "")
        if len(cleaned) != 12:
            raise AddressError(f"not a device address: {text!r}")
        try:
            raw = bytes.fromhex(cleaned)
        except ValueError as exc:
            raise AddressError(f"not a device address: {text!r}") from exc
        return cls(raw[::-1], random)

    @property
    def address_type(self) -> int:
        """0 for public, 1 for random (the HCI Address_Type / PDU TxAdd value)."""
        return 1 if self.random else 0

    @property
    def kind(self) -> AddressKind:
        if not self.random:
            return AddressKind.PUBLIC
        top = self.value[5] >> 6
        return {
            0b11: AddressKind.RANDOM_STATIC,
            0b01: AddressKind.RESOLVABLE_PRIVATE,
            0b00: AddressKind.NON_RESOLVABLE_PRIVATE,
        }.get(top, AddressKind.RANDOM_RESERVED)

    def __str__(self) -> str:
        return ":".join(f"{b:02X}" for b in self.value[::-1])

    def __repr__(self) -> str:
        return f"Address({str(self)!r}{', random' if self.random else ''})"
