"""HCI ACL data packets (Vol 4 Part E 5.4.2).

Theory of operation
-------------------
An ACL data packet is a 4-octet header and its data: a little-endian 16-bit word
holding the 12-bit Handle, the 2-bit Packet_Boundary_Flag (bits 12–13) and the 2-bit
Broadcast_Flag (bits 14–15), then a little-endian 16-bit Data_Total_Length. For LE the
host sends fragments with PB = 0b00 (first, non-flushable) and 0b01 (continuing); the
controller sends PB = 0b10 (first, automatically flushable) and 0b01. Reassembly of
L2CAP PDUs from fragments belongs to the host (``host/l2cap.py``).
"""

from __future__ import annotations

import dataclasses
import struct
from typing import Self

from .codec import HciDecodeError

#: Packet_Boundary_Flag values (Vol 4 Part E 5.4.2).
PB_FIRST_NON_FLUSHABLE = 0b00
PB_CONTINUING_FRAGMENT = 0b01
PB_FIRST_FLUSHABLE = 0b10
PB_COMPLETE_L2CAP_PDU = 0b11  # deprecated (AMP)

#: Broadcast_Flag values (Vol 4 Part E 5.4.2); LE uses point-to-point only.
BC_POINT_TO_POINT = 0b00
BC_BR_EDR_BROADCAST = 0b01

ACL_HEADER_SIZE = 4
MAX_HANDLE = 0x0FFF


class HciAclDecodeError(HciDecodeError):
    """The bytes do not form a valid HCI ACL data packet."""


@dataclasses.dataclass(frozen=True)
class HciAclData:
    """One HCI ACL data packet (Vol 4 Part E 5.4.2), without the H4 type octet."""

    handle: int
    pb_flag: int
    bc_flag: int
    data: bytes

    def __post_init__(self) -> None:
        if not 0 <= self.handle <= MAX_HANDLE:
            raise ValueError(f"handle 0x{self.handle:x} does not fit in 12 bits")
        if not 0 <= self.pb_flag <= 3 or not 0 <= self.bc_flag <= 3:
            raise ValueError("PB and BC flags are 2-bit values")
        if len(self.data) > 0xFFFF:
            raise ValueError("ACL data longer than 65535 octets")

    def to_bytes(self) -> bytes:
        word = self.handle | (self.pb_flag << 12) | (self.bc_flag << 14)
        return struct.pack("<HH", word, len(self.data)) + bytes(self.data)

    @classmethod
    def from_bytes(cls, packet: bytes) -> Self:
        """Decode a whole packet; raises :class:`HciAclDecodeError` when malformed."""
        if len(packet) < ACL_HEADER_SIZE:
            raise HciAclDecodeError(
                f"ACL packet of {len(packet)} octets is shorter than its 4-octet header"
            )
        word, length = struct.unpack_from("<HH", packet)
        if len(packet) != ACL_HEADER_SIZE + length:
            raise HciAclDecodeError(
                f"ACL length field says {length}, packet has {len(packet) - ACL_HEADER_SIZE}"
            )
        return cls(
            handle=word & MAX_HANDLE,
            pb_flag=(word >> 12) & 0b11,
            bc_flag=(word >> 14) & 0b11,
            data=bytes(packet[ACL_HEADER_SIZE:]),
        )


__all__ = [
    "PB_FIRST_NON_FLUSHABLE",
    "PB_CONTINUING_FRAGMENT",
    "PB_FIRST_FLUSHABLE",
    "PB_COMPLETE_L2CAP_PDU",
    "BC_POINT_TO_POINT",
    "BC_BR_EDR_BROADCAST",
    "ACL_HEADER_SIZE",
    "MAX_HANDLE",
    "HciAclDecodeError",
    "HciAclData",
]
