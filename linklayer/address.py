"""Device addresses: see :mod:`linklayer.hci.address` (a BD_ADDR is an HCI type, shared by
the host and the link layer)."""

from .hci.address import Address, AddressError, AddressKind

__all__ = ["Address", "AddressError", "AddressKind"]
