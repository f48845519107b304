"""Data physical channel PDU header and PDU (Core v5.x Vol 6 Part B 2.4).

Theory of operation
-------------------
A PDU on a connection's data channels is a 16-bit header — LLID (bits 0-1), NESN (2),
SN (3), MD (4), CP (5), RFU (6-7), Length (8-15) — then, when CP is set, one CTEInfo
octet, then Length octets of payload (which include the 4-octet MIC on an encrypted
link). :class:`DataHeader` is that header; :class:`DataPdu` is header + payload.

The header never refuses a value it can carry: LLID 0b00 (reserved) decodes as
:attr:`LLID.RESERVED` so that the link layer can still do its SN/NESN bookkeeping and
then ignore the payload. The payload of an LL Control PDU (LLID 0b11) is decoded by
:mod:`linklayer.control_pdu`; of an LL Data PDU by L2CAP in the host.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from typing import ClassVar

from linklayer.pdu import CTEInfo, PduDecodeError, PduFieldError

#: Largest payload of an unencrypted data channel PDU (Vol 6 Part B 2.4).
MAX_DATA_PAYLOAD = 251
#: MIC octets appended to the payload of an encrypted non-empty PDU (Vol 6 Part B 2.4).
MIC_SIZE = 4


class LLID(enum.IntEnum):
    """LLID field of the data channel PDU header (Vol 6 Part B 2.4)."""

    RESERVED = 0b00
    #: LL Data PDU: continuation fragment of an L2CAP message, or an Empty PDU.
    DATA_CONTINUE = 0b01
    #: LL Data PDU: start of an L2CAP message, or a complete one without fragmentation.
    DATA_START = 0b10
    #: LL Control PDU.
    CONTROL = 0b11


def _bit(name: str, value: int) -> None:
    if value not in (0, 1):
        raise PduFieldError(f"{name} must be 0 or 1, not {value!r}")


@dataclass(frozen=True, slots=True)
class DataHeader:
    """Data channel PDU header (Vol 6 Part B 2.4), 2 octets or 3 with CTEInfo.

    ``cte_info`` present means CP = 1 and the CTEInfo octet follows the Length octet.
    """

    llid: LLID
    length: int
    nesn: int = 0
    sn: int = 0
    md: bool = False
    cte_info: CTEInfo | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.llid, LLID):
            raise PduFieldError(f"llid must be an LLID, not {self.llid!r}")
        if not isinstance(self.length, int) or not 0 <= self.length <= 255:
            raise PduFieldError(f"length {self.length!r} does not fit in 8 bits")
        _bit("nesn", self.nesn)
        _bit("sn", self.sn)

    @property
    def cp(self) -> bool:
        """The CP bit: a CTEInfo octet follows and a CTE is appended to the packet."""
        return self.cte_info is not None

    @property
    def size(self) -> int:
        """Octets this header takes on air (2, or 3 with CTEInfo)."""
        return 3 if self.cte_info is not None else 2

    def to_bytes(self) -> bytes:
        octet0 = (
            int(self.llid)
            | (self.nesn << 2)
            | (self.sn << 3)
            | (int(self.md) << 4)
            | (int(self.cp) << 5)
        )
        out = bytes((octet0, self.length))
        if self.cte_info is not None:
            out += self.cte_info.to_bytes()
        return out

    @classmethod
    def from_bytes(cls, data: bytes) -> "DataHeader":
        """Decode the header at the start of ``data`` (trailing octets are ignored)."""
        if len(data) < 2:
            raise PduDecodeError("data channel PDU shorter than its 2-octet header")
        octet0 = data[0]
        cte_info = None
        if octet0 & 0x20:
            if len(data) < 3:
                raise PduDecodeError("CP is set but the CTEInfo octet is missing")
            cte_info = CTEInfo.from_bytes(data[2:3])
        return cls(
            llid=LLID(octet0 & 0x03),
            length=data[1],
            nesn=(octet0 >> 2) & 1,
            sn=(octet0 >> 3) & 1,
            md=bool(octet0 & 0x10),
            cte_info=cte_info,
        )


@dataclass(frozen=True, slots=True)
class DataPdu:
    """A data channel PDU (Vol 6 Part B 2.4): header and payload (MIC included, if any).

    ``header.length`` must equal ``len(payload)``; :meth:`make` fills it in.
    """

    header: DataHeader
    payload: bytes = b""

    EMPTY_LLID: ClassVar[LLID] = LLID.DATA_CONTINUE

    def __post_init__(self) -> None:
        if not isinstance(self.payload, bytes):
            raise PduFieldError("payload must be bytes")
        if self.header.length != len(self.payload):
            raise PduFieldError(
                f"header length {self.header.length} != payload length {len(self.payload)}"
            )

    @classmethod
    def make(
        cls,
        llid: LLID,
        payload: bytes = b"",
        *,
        nesn: int = 0,
        sn: int = 0,
        md: bool = False,
        cte_info: CTEInfo | None = None,
    ) -> "DataPdu":
        """A PDU whose header Length is taken from ``payload``."""
        payload = bytes(payload)
        return cls(DataHeader(llid, len(payload), nesn, sn, md, cte_info), payload)

    @classmethod
    def empty(cls, nesn: int = 0, sn: int = 0, md: bool = False) -> "DataPdu":
        """The Empty PDU: LLID 0b01 with Length 0 (Vol 6 Part B 2.4)."""
        return cls.make(LLID.DATA_CONTINUE, b"", nesn=nesn, sn=sn, md=md)

    @property
    def llid(self) -> LLID:
        return self.header.llid

    @property
    def is_empty(self) -> bool:
        """True for an Empty PDU (LLID 0b01, Length 0)."""
        return self.header.llid is LLID.DATA_CONTINUE and self.header.length == 0

    @property
    def is_control(self) -> bool:
        return self.header.llid is LLID.CONTROL

    def with_flags(self, *, nesn: int, sn: int, md: bool) -> "DataPdu":
        """The same PDU with new NESN / SN / MD bits (what a retransmission changes)."""
        return replace(self, header=replace(self.header, nesn=nesn, sn=sn, md=md))

    def with_payload(self, payload: bytes) -> "DataPdu":
        """The same header bits around another payload, Length updated (e.g. + MIC)."""
        payload = bytes(payload)
        return DataPdu(replace(self.header, length=len(payload)), payload)

    def to_bytes(self) -> bytes:
        """Header (2 or 3 octets) and payload, as on air (without AA and CRC)."""
        return self.header.to_bytes() + self.payload

    @classmethod
    def from_bytes(cls, data: bytes) -> "DataPdu":
        """Decode a whole PDU; the header Length must match the octets given."""
        data = bytes(data)
        header = DataHeader.from_bytes(data)
        payload = data[header.size :]
        if len(payload) != header.length:
            raise PduDecodeError(
                f"header Length {header.length} but {len(payload)} payload octets"
            )
        return cls(header, payload)
