"""Advertising PDU header and the extended advertising PDUs (Vol 6 Part B 2.3, 2.3.4).

Theory of operation
-------------------
Every advertising physical channel PDU starts with the 2-octet :class:`AdvHeader`
(PDU Type, ChSel, TxAdd, RxAdd, Length). The legacy PDUs (ADV_IND ... CONNECT_IND) live
in :mod:`linklayer.pdu`, which also holds the single dispatcher ``decode_adv_pdu`` and
re-exports everything defined here; import from :mod:`linklayer.pdu`.

The extended PDUs ADV_EXT_IND, AUX_ADV_IND, AUX_SCAN_RSP, AUX_SYNC_IND, AUX_CHAIN_IND
(all PDU type 0b0111) and AUX_CONNECT_RSP (0b1000) share the Common Extended
Advertising Payload Format (2.3.4): one octet of Extended Header Length (6 bits) and
AdvMode (2 bits), the extended header (a flags octet, then AdvA, TargetA, CTEInfo,
ADI, AuxPtr, SyncInfo, TxPower in that order when flagged, then ACAD), then AdvData.
The bytes alone do not tell AUX_ADV_IND from AUX_SCAN_RSP, AUX_SYNC_IND or
AUX_CHAIN_IND — the receiver knows which one it is waiting for — so they are one
structure, :class:`ExtendedAdvPdu`, with a named constructor per role and
:meth:`ExtendedAdvPdu.problems_as` to check a received PDU against the field table of
the role the receiver expects.

Malformed bytes raise :class:`PduDecodeError`; out-of-range field values given to a
constructor raise :class:`PduFieldError`. Both are ``ValueError`` subclasses.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar, Iterator

from linklayer.address import Address
from phy.types import Phy
from phy.units import US

#: Maximum AdvData (and ScanRspData) of a legacy advertising PDU (2.3.1).
MAX_LEGACY_ADV_DATA = 31
#: Maximum payload of an extended advertising PDU (2.3.4).
MAX_EXT_PAYLOAD = 255
#: Maximum Extended Header Length (6-bit field, 2.3.4).
MAX_EXT_HEADER_LENGTH = 63
#: Size of the advertising PDU header.
ADV_HEADER_SIZE = 2

#: AuxPtr / SyncInfo Offset Units (2.3.4.5, 2.3.4.6).
OFFSET_UNITS_30US = 0
OFFSET_UNITS_300US = 1
_OFFSET_UNIT_NS = (30 * US, 300 * US)
_AUX_OFFSET_MAX = (1 << 13) - 1
#: SyncInfo Offset Adjust adds this much to the sync packet offset (2.3.4.6).
SYNC_OFFSET_ADJUST_NS = 2_457_600 * US


class PduDecodeError(ValueError):
    """The octets are not a valid link-layer PDU (the peer broke the spec, or noise)."""


class PduFieldError(ValueError):
    """A PDU was constructed with a field value that does not fit (caller misuse)."""


class AdvPduType(enum.IntEnum):
    """PDU Type of the advertising header (Vol 6 Part B 2.3). Equal values are aliases."""

    ADV_IND = 0b0000
    ADV_DIRECT_IND = 0b0001
    ADV_NONCONN_IND = 0b0010
    SCAN_REQ = 0b0011
    AUX_SCAN_REQ = 0b0011
    SCAN_RSP = 0b0100
    CONNECT_IND = 0b0101
    AUX_CONNECT_REQ = 0b0101
    ADV_SCAN_IND = 0b0110
    ADV_EXT_IND = 0b0111
    AUX_ADV_IND = 0b0111
    AUX_SCAN_RSP = 0b0111
    AUX_SYNC_IND = 0b0111
    AUX_CHAIN_IND = 0b0111
    AUX_CONNECT_RSP = 0b1000


class AdvMode(enum.IntEnum):
    """AdvMode of the Common Extended Advertising Payload Format (Vol 6 Part B 2.3.4)."""

    NON_CONNECTABLE_NON_SCANNABLE = 0
    CONNECTABLE = 1
    SCANNABLE = 2


class AuxPhy(enum.IntEnum):
    """AUX PHY field of AuxPtr (Vol 6 Part B 2.3.4.5)."""

    LE_1M = 0
    LE_2M = 1
    LE_CODED = 2

    @classmethod
    def from_phy(cls, phy: Phy) -> "AuxPhy":
        """The AuxPtr encoding of a PHY (both Coded schemes map to LE_CODED)."""
        if phy is Phy.LE_1M:
            return cls.LE_1M
        if phy is Phy.LE_2M:
            return cls.LE_2M
        return cls.LE_CODED


def _check_uint(name: str, value: int, bits: int) -> None:
    if not isinstance(value, int) or not 0 <= value < (1 << bits):
        raise PduFieldError(f"{name}={value!r} does not fit in {bits} unsigned bits")


@dataclass(frozen=True, slots=True)
class AdvHeader:
    """The 2-octet advertising physical channel PDU header (Vol 6 Part B 2.3).

    Octet 0: PDU Type (bits 0-3), RFU (4), ChSel (5), TxAdd (6), RxAdd (7); octet 1:
    Length of the payload. ``pdu_type`` is the raw 4-bit value (reserved values decode
    here; the dispatcher rejects them). The RFU bit is ignored on receipt.
    """

    pdu_type: int
    length: int
    ch_sel: bool = False
    tx_add: bool = False
    rx_add: bool = False

    def __post_init__(self) -> None:
        _check_uint("pdu_type", self.pdu_type, 4)
        _check_uint("length", self.length, 8)

    def to_bytes(self) -> bytes:
        octet0 = (
            self.pdu_type
            | (int(self.ch_sel) << 5)
            | (int(self.tx_add) << 6)
            | (int(self.rx_add) << 7)
        )
        return bytes((octet0, self.length))

    @classmethod
    def from_bytes(cls, data: bytes) -> "AdvHeader":
        """Decode the first two octets of ``data``."""
        if len(data) < ADV_HEADER_SIZE:
            raise PduDecodeError("advertising PDU shorter than its 2-octet header")
        octet0 = data[0]
        return cls(
            pdu_type=octet0 & 0x0F,
            length=data[1],
            ch_sel=bool(octet0 & 0x20),
            tx_add=bool(octet0 & 0x40),
            rx_add=bool(octet0 & 0x80),
        )

    @classmethod
    def split(cls, data: bytes) -> tuple["AdvHeader", bytes]:
        """Header and payload of a whole PDU; Length must match the octets given."""
        header = cls.from_bytes(data)
        payload = bytes(data[ADV_HEADER_SIZE:])
        if len(payload) != header.length:
            raise PduDecodeError(
                f"header Length {header.length} but {len(payload)} payload octets"
            )
        return header, payload


@dataclass(frozen=True, slots=True)
class CTEInfo:
    """CTEInfo field (Vol 6 Part B 2.3.4.3, also the data header's CTEInfo, 2.4.1).

    CTETime (bits 0-4, units of 8 µs), RFU (bit 5), CTEType (bits 6-7: 0 AoA,
    1 AoD 1 µs slots, 2 AoD 2 µs slots).
    """

    cte_time: int
    cte_type: int = 0

    def __post_init__(self) -> None:
        _check_uint("cte_time", self.cte_time, 5)
        _check_uint("cte_type", self.cte_type, 2)

    def to_bytes(self) -> bytes:
        return bytes((self.cte_time | (self.cte_type << 6),))

    @classmethod
    def from_bytes(cls, data: bytes) -> "CTEInfo":
        if len(data) != 1:
            raise PduDecodeError("CTEInfo is 1 octet")
        return cls(cte_time=data[0] & 0x1F, cte_type=data[0] >> 6)


@dataclass(frozen=True, slots=True)
class ADI:
    """AdvDataInfo (Vol 6 Part B 2.3.4.4): DID (bits 0-11), SID (12-15)."""

    did: int
    sid: int

    def __post_init__(self) -> None:
        _check_uint("did", self.did, 12)
        _check_uint("sid", self.sid, 4)

    def to_bytes(self) -> bytes:
        return (self.did | (self.sid << 12)).to_bytes(2, "little")

    @classmethod
    def from_bytes(cls, data: bytes) -> "ADI":
        if len(data) != 2:
            raise PduDecodeError("ADI is 2 octets")
        value = int.from_bytes(data, "little")
        return cls(did=value & 0x0FFF, sid=value >> 12)


def choose_offset_units(offset_ns: int) -> tuple[int, int]:
    """``(offset_units, aux_offset)`` for an offset in ns (Vol 6 Part B 2.3.4.5).

    30 µs units are used whenever the offset fits in 13 bits of them (< 245.76 ms),
    300 µs units otherwise. The offset is rounded down to a whole unit, as the spec
    requires: the auxiliary packet starts no earlier than the offset given and less
    than one unit later. Raises :class:`PduFieldError` past 8191 × 300 µs.
    """
    if offset_ns < 0:
        raise PduFieldError("an aux offset cannot be negative")
    for units, unit_ns in enumerate(_OFFSET_UNIT_NS):
        value = offset_ns // unit_ns
        if value <= _AUX_OFFSET_MAX:
            return units, value
    raise PduFieldError(f"aux offset {offset_ns} ns exceeds 8191 x 300 us")


@dataclass(frozen=True, slots=True)
class AuxPtr:
    """AuxPtr (Vol 6 Part B 2.3.4.5), 3 octets little-endian.

    Channel Index (bits 0-5), CA (6: 0 = 51-500 ppm, 1 = 0-50 ppm), Offset Units
    (7: 0 = 30 µs, 1 = 300 µs), AUX Offset (8-20), AUX PHY (21-23).
    """

    channel_index: int
    aux_offset: int
    offset_units: int = OFFSET_UNITS_30US
    aux_phy: AuxPhy = AuxPhy.LE_1M
    ca: int = 0

    def __post_init__(self) -> None:
        _check_uint("channel_index", self.channel_index, 6)
        _check_uint("aux_offset", self.aux_offset, 13)
        _check_uint("offset_units", self.offset_units, 1)
        _check_uint("ca", self.ca, 1)
        if not isinstance(self.aux_phy, AuxPhy):
            raise PduFieldError(f"aux_phy must be an AuxPhy, not {self.aux_phy!r}")

    @classmethod
    def from_offset_ns(
        cls, channel_index: int, offset_ns: int, aux_phy: AuxPhy = AuxPhy.LE_1M, ca: int = 0
    ) -> "AuxPtr":
        """An AuxPtr whose offset is ``offset_ns`` rounded down (see choose_offset_units)."""
        units, value = choose_offset_units(offset_ns)
        return cls(channel_index, value, units, aux_phy, ca)

    def offset_ns(self) -> int:
        """Time from the start of the PDU carrying this AuxPtr to the aux packet, in ns."""
        return self.aux_offset * _OFFSET_UNIT_NS[self.offset_units]

    def unit_ns(self) -> int:
        """The offset unit in ns (the aux packet may start up to one unit late)."""
        return _OFFSET_UNIT_NS[self.offset_units]

    def to_bytes(self) -> bytes:
        value = (
            self.channel_index
            | (self.ca << 6)
            | (self.offset_units << 7)
            | (self.aux_offset << 8)
            | (int(self.aux_phy) << 21)
        )
        return value.to_bytes(3, "little")

    @classmethod
    def from_bytes(cls, data: bytes) -> "AuxPtr":
        if len(data) != 3:
            raise PduDecodeError("AuxPtr is 3 octets")
        value = int.from_bytes(data, "little")
        try:
            phy = AuxPhy(value >> 21)
        except ValueError:
            raise PduDecodeError(f"AuxPtr AUX PHY {value >> 21} is reserved") from None
        return cls(
            channel_index=value & 0x3F,
            ca=(value >> 6) & 1,
            offset_units=(value >> 7) & 1,
            aux_offset=(value >> 8) & 0x1FFF,
            aux_phy=phy,
        )


@dataclass(frozen=True, slots=True)
class SyncInfo:
    """SyncInfo (Vol 6 Part B 2.3.4.6), 18 octets.

    Sync Packet Offset (13 bits), Offset Units (1), Offset Adjust (1), RFU (1);
    Interval (2 octets, 1.25 ms units); ChM (37 bits) and SCA (3 bits) in 5 octets;
    AA (4); CRCInit (3); Event Counter (2).
    """

    sync_packet_offset: int
    interval: int
    ch_m: int
    aa: int
    crc_init: int
    event_counter: int
    offset_units: int = OFFSET_UNITS_30US
    offset_adjust: int = 0
    sca: int = 0

    SIZE: ClassVar[int] = 18

    def __post_init__(self) -> None:
        _check_uint("sync_packet_offset", self.sync_packet_offset, 13)
        _check_uint("offset_units", self.offset_units, 1)
        _check_uint("offset_adjust", self.offset_adjust, 1)
        _check_uint("interval", self.interval, 16)
        _check_uint("ch_m", self.ch_m, 37)
        _check_uint("sca", self.sca, 3)
        _check_uint("aa", self.aa, 32)
        _check_uint("crc_init", self.crc_init, 24)
        _check_uint("event_counter", self.event_counter, 16)

    def offset_ns(self) -> int:
        """Time from the start of the AUX_ADV_IND to the AUX_SYNC_IND, in ns."""
        base = self.sync_packet_offset * _OFFSET_UNIT_NS[self.offset_units]
        return base + (SYNC_OFFSET_ADJUST_NS if self.offset_adjust else 0)

    def to_bytes(self) -> bytes:
        first = self.sync_packet_offset | (self.offset_units << 13) | (self.offset_adjust << 14)
        return (
            first.to_bytes(2, "little")
            + self.interval.to_bytes(2, "little")
            + (self.ch_m | (self.sca << 37)).to_bytes(5, "little")
            + self.aa.to_bytes(4, "little")
            + self.crc_init.to_bytes(3, "little")
            + self.event_counter.to_bytes(2, "little")
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> "SyncInfo":
        if len(data) != cls.SIZE:
            raise PduDecodeError("SyncInfo is 18 octets")
        first = int.from_bytes(data[0:2], "little")
        chm_sca = int.from_bytes(data[4:9], "little")
        return cls(
            sync_packet_offset=first & 0x1FFF,
            offset_units=(first >> 13) & 1,
            offset_adjust=(first >> 14) & 1,
            interval=int.from_bytes(data[2:4], "little"),
            ch_m=chm_sca & ((1 << 37) - 1),
            sca=chm_sca >> 37,
            aa=int.from_bytes(data[9:13], "little"),
            crc_init=int.from_bytes(data[13:16], "little"),
            event_counter=int.from_bytes(data[16:18], "little"),
        )


class ExtAdvRole(enum.Enum):
    """Which PDU an :class:`ExtendedAdvPdu` plays.

    Vol 6 Part B 2.3.1.5-2.3.1.8 (ADV_EXT_IND, AUX_ADV_IND, AUX_SYNC_IND, AUX_CHAIN_IND),
    2.3.2.3 (AUX_SCAN_RSP) and 2.3.3.2 (AUX_CONNECT_RSP).
    """

    ADV_EXT_IND = "ADV_EXT_IND"
    AUX_ADV_IND = "AUX_ADV_IND"
    AUX_SCAN_RSP = "AUX_SCAN_RSP"
    AUX_SYNC_IND = "AUX_SYNC_IND"
    AUX_CHAIN_IND = "AUX_CHAIN_IND"
    AUX_CONNECT_RSP = "AUX_CONNECT_RSP"


_NCNS = AdvMode.NON_CONNECTABLE_NON_SCANNABLE
# (role, AdvMode) -> (fields allowed (M, O or C in the spec's tables), fields mandatory)
_ROLE_TABLE: dict[tuple[ExtAdvRole, AdvMode], tuple[frozenset[str], frozenset[str]]] = {
    (ExtAdvRole.ADV_EXT_IND, _NCNS): (
        frozenset({"adv_a", "target_a", "adi", "aux_ptr", "tx_power"}),
        frozenset(),
    ),
    (ExtAdvRole.ADV_EXT_IND, AdvMode.CONNECTABLE): (
        frozenset({"adi", "aux_ptr", "tx_power"}),
        frozenset({"adi", "aux_ptr"}),
    ),
    (ExtAdvRole.ADV_EXT_IND, AdvMode.SCANNABLE): (
        frozenset({"adi", "aux_ptr", "tx_power"}),
        frozenset({"adi", "aux_ptr"}),
    ),
    (ExtAdvRole.AUX_ADV_IND, _NCNS): (
        frozenset(
            {"adv_a", "target_a", "adi", "aux_ptr", "sync_info", "tx_power", "acad", "adv_data"}
        ),
        frozenset({"adi"}),
    ),
    (ExtAdvRole.AUX_ADV_IND, AdvMode.CONNECTABLE): (
        frozenset({"adv_a", "target_a", "adi", "tx_power", "acad", "adv_data"}),
        frozenset({"adv_a", "adi"}),
    ),
    (ExtAdvRole.AUX_ADV_IND, AdvMode.SCANNABLE): (
        frozenset({"adv_a", "target_a", "adi", "tx_power", "acad"}),
        frozenset({"adv_a", "adi"}),
    ),
    (ExtAdvRole.AUX_SCAN_RSP, _NCNS): (
        frozenset({"adv_a", "adi", "aux_ptr", "tx_power", "acad", "adv_data"}),
        frozenset({"adv_a"}),
    ),
    (ExtAdvRole.AUX_SYNC_IND, _NCNS): (
        frozenset({"cte_info", "adi", "aux_ptr", "tx_power", "acad", "adv_data"}),
        frozenset(),
    ),
    (ExtAdvRole.AUX_CHAIN_IND, _NCNS): (
        frozenset({"cte_info", "adi", "aux_ptr", "tx_power", "adv_data"}),
        frozenset(),
    ),
    (ExtAdvRole.AUX_CONNECT_RSP, _NCNS): (
        frozenset({"adv_a", "target_a"}),
        frozenset({"adv_a", "target_a"}),
    ),
}


@dataclass(frozen=True, slots=True)
class ExtendedAdvPdu:
    """A PDU in the Common Extended Advertising Payload Format (Vol 6 Part B 2.3.4).

    ``pdu_type`` is ADV_EXT_IND (0b0111, which is also AUX_ADV_IND, AUX_SCAN_RSP,
    AUX_SYNC_IND and AUX_CHAIN_IND) or AUX_CONNECT_RSP (0b1000). Header TxAdd/RxAdd come
    from ``adv_a`` / ``target_a``. ``tx_power`` is int8 dBm (127: not available).
    Use the named constructors (:meth:`adv_ext_ind`, :meth:`aux_adv_ind`, ...).
    """

    pdu_type: AdvPduType = AdvPduType.ADV_EXT_IND
    adv_mode: AdvMode = AdvMode.NON_CONNECTABLE_NON_SCANNABLE
    adv_a: Address | None = None
    target_a: Address | None = None
    cte_info: CTEInfo | None = None
    adi: ADI | None = None
    aux_ptr: AuxPtr | None = None
    sync_info: SyncInfo | None = None
    tx_power: int | None = None
    acad: bytes = b""
    adv_data: bytes = b""

    def __post_init__(self) -> None:
        if self.pdu_type not in (AdvPduType.ADV_EXT_IND, AdvPduType.AUX_CONNECT_RSP):
            raise PduFieldError(f"PDU type {self.pdu_type!r} is not an extended PDU")
        if not isinstance(self.adv_mode, AdvMode):
            raise PduFieldError(f"adv_mode must be an AdvMode, not {self.adv_mode!r}")
        if self.tx_power is not None and not -128 <= self.tx_power <= 127:
            raise PduFieldError(f"tx_power {self.tx_power} is not an int8")
        ext_len = self.extended_header_length()
        if ext_len > MAX_EXT_HEADER_LENGTH:
            raise PduFieldError(f"extended header of {ext_len} octets exceeds 63")
        if 1 + ext_len + len(self.adv_data) > MAX_EXT_PAYLOAD:
            raise PduFieldError(
                f"payload of {1 + ext_len + len(self.adv_data)} octets exceeds 255"
            )

    # -- named constructors, one per role ---------------------------------------------

    @classmethod
    def adv_ext_ind(
        cls,
        adv_mode: AdvMode = AdvMode.NON_CONNECTABLE_NON_SCANNABLE,
        *,
        adi: ADI | None = None,
        aux_ptr: AuxPtr | None = None,
        adv_a: Address | None = None,
        target_a: Address | None = None,
        tx_power: int | None = None,
    ) -> "ExtendedAdvPdu":
        """ADV_EXT_IND on the primary advertising channels (Vol 6 Part B 2.3.1.5)."""
        return cls._checked(
            ExtAdvRole.ADV_EXT_IND, AdvPduType.ADV_EXT_IND, adv_mode, adv_a=adv_a,
            target_a=target_a, adi=adi, aux_ptr=aux_ptr, tx_power=tx_power,
        )

    @classmethod
    def aux_adv_ind(
        cls,
        adv_mode: AdvMode,
        adi: ADI,
        *,
        adv_a: Address | None = None,
        target_a: Address | None = None,
        aux_ptr: AuxPtr | None = None,
        sync_info: SyncInfo | None = None,
        tx_power: int | None = None,
        acad: bytes = b"",
        adv_data: bytes = b"",
    ) -> "ExtendedAdvPdu":
        """AUX_ADV_IND on the secondary advertising channels (Vol 6 Part B 2.3.1.6)."""
        return cls._checked(
            ExtAdvRole.AUX_ADV_IND, AdvPduType.AUX_ADV_IND, adv_mode, adv_a=adv_a,
            target_a=target_a, adi=adi, aux_ptr=aux_ptr, sync_info=sync_info,
            tx_power=tx_power, acad=acad, adv_data=adv_data,
        )

    @classmethod
    def aux_scan_rsp(
        cls,
        adv_a: Address,
        adv_data: bytes,
        *,
        adi: ADI | None = None,
        aux_ptr: AuxPtr | None = None,
        tx_power: int | None = None,
        acad: bytes = b"",
    ) -> "ExtendedAdvPdu":
        """AUX_SCAN_RSP, the answer to an AUX_SCAN_REQ (Vol 6 Part B 2.3.2.3)."""
        return cls._checked(
            ExtAdvRole.AUX_SCAN_RSP, AdvPduType.AUX_SCAN_RSP, _NCNS, adv_a=adv_a,
            adi=adi, aux_ptr=aux_ptr, tx_power=tx_power, acad=acad, adv_data=adv_data,
        )

    @classmethod
    def aux_sync_ind(
        cls,
        adv_data: bytes = b"",
        *,
        cte_info: CTEInfo | None = None,
        adi: ADI | None = None,
        aux_ptr: AuxPtr | None = None,
        tx_power: int | None = None,
        acad: bytes = b"",
    ) -> "ExtendedAdvPdu":
        """AUX_SYNC_IND, a periodic advertising event (Vol 6 Part B 2.3.1.7)."""
        return cls._checked(
            ExtAdvRole.AUX_SYNC_IND, AdvPduType.AUX_SYNC_IND, _NCNS, cte_info=cte_info,
            adi=adi, aux_ptr=aux_ptr, tx_power=tx_power, acad=acad, adv_data=adv_data,
        )

    @classmethod
    def aux_chain_ind(
        cls,
        adv_data: bytes = b"",
        *,
        cte_info: CTEInfo | None = None,
        adi: ADI | None = None,
        aux_ptr: AuxPtr | None = None,
        tx_power: int | None = None,
    ) -> "ExtendedAdvPdu":
        """AUX_CHAIN_IND, a continuation of advertising data (Vol 6 Part B 2.3.1.8)."""
        return cls._checked(
            ExtAdvRole.AUX_CHAIN_IND, AdvPduType.AUX_CHAIN_IND, _NCNS, cte_info=cte_info,
            adi=adi, aux_ptr=aux_ptr, tx_power=tx_power, adv_data=adv_data,
        )

    @classmethod
    def aux_connect_rsp(cls, adv_a: Address, target_a: Address) -> "ExtendedAdvPdu":
        """AUX_CONNECT_RSP, the answer to an AUX_CONNECT_REQ (Vol 6 Part B 2.3.3.2)."""
        return cls._checked(
            ExtAdvRole.AUX_CONNECT_RSP, AdvPduType.AUX_CONNECT_RSP, _NCNS,
            adv_a=adv_a, target_a=target_a,
        )

    @classmethod
    def _checked(
        cls,
        role: ExtAdvRole,
        pdu_type: AdvPduType,
        adv_mode: AdvMode,
        *,
        adv_a: Address | None = None,
        target_a: Address | None = None,
        cte_info: CTEInfo | None = None,
        adi: ADI | None = None,
        aux_ptr: AuxPtr | None = None,
        sync_info: SyncInfo | None = None,
        tx_power: int | None = None,
        acad: bytes = b"",
        adv_data: bytes = b"",
    ) -> "ExtendedAdvPdu":
        pdu = cls(
            pdu_type, adv_mode, adv_a, target_a, cte_info, adi, aux_ptr, sync_info,
            tx_power, bytes(acad), bytes(adv_data),
        )
        problems = pdu.problems_as(role)
        if problems:
            raise PduFieldError(f"{role.value}: " + "; ".join(problems))
        return pdu

    # -- role check -------------------------------------------------------------------

    def present_fields(self) -> frozenset[str]:
        """Names of the optional fields present (``acad``/``adv_data`` when non-empty)."""
        return frozenset(name for name, _ in self._present())

    def _present(self) -> Iterator[tuple[str, object]]:
        for name in ("adv_a", "target_a", "cte_info", "adi", "aux_ptr", "sync_info", "tx_power"):
            value = getattr(self, name)
            if value is not None:
                yield name, value
        if self.acad:
            yield "acad", self.acad
        if self.adv_data:
            yield "adv_data", self.adv_data

    def problems_as(self, role: ExtAdvRole) -> list[str]:
        """Why this PDU is not a valid ``role`` PDU (empty list: it is).

        Checks the PDU type, the AdvMode and which extended header fields are present
        against the field tables of Vol 6 Part B 2.3.1.5-2.3.1.8, 2.3.2.3 and 2.3.3.2
        (fields the spec marks conditional are accepted).
        """
        expected_type = (
            AdvPduType.AUX_CONNECT_RSP
            if role is ExtAdvRole.AUX_CONNECT_RSP
            else AdvPduType.ADV_EXT_IND
        )
        if self.pdu_type != expected_type:
            return [f"PDU type {int(self.pdu_type):#06b} is not {role.value}"]
        entry = _ROLE_TABLE.get((role, self.adv_mode))
        if entry is None:
            return [f"AdvMode {self.adv_mode.name} is not allowed in {role.value}"]
        allowed, mandatory = entry
        present = self.present_fields()
        problems = [f"{name} not allowed" for name in sorted(present - allowed)]
        problems += [f"{name} missing" for name in sorted(mandatory - present)]
        return problems

    # -- codec ------------------------------------------------------------------------

    def _extended_header(self) -> bytes:
        flags = 0
        body = bytearray()
        if self.adv_a is not None:
            flags |= 0x01
            body += self.adv_a.value
        if self.target_a is not None:
            flags |= 0x02
            body += self.target_a.value
        if self.cte_info is not None:
            flags |= 0x04
            body += self.cte_info.to_bytes()
        if self.adi is not None:
            flags |= 0x08
            body += self.adi.to_bytes()
        if self.aux_ptr is not None:
            flags |= 0x10
            body += self.aux_ptr.to_bytes()
        if self.sync_info is not None:
            flags |= 0x20
            body += self.sync_info.to_bytes()
        if self.tx_power is not None:
            flags |= 0x40
            body += self.tx_power.to_bytes(1, "little", signed=True)
        if flags == 0 and not self.acad:
            return b""
        return bytes((flags,)) + bytes(body) + self.acad

    def extended_header_length(self) -> int:
        """The Extended Header Length this PDU is encoded with (0..63)."""
        size = 6 * (self.adv_a is not None) + 6 * (self.target_a is not None)
        size += (self.cte_info is not None) + 2 * (self.adi is not None)
        size += 3 * (self.aux_ptr is not None) + SyncInfo.SIZE * (self.sync_info is not None)
        size += (self.tx_power is not None) + len(self.acad)
        return 0 if size == 0 else size + 1

    def max_adv_data(self) -> int:
        """How many AdvData octets fit with this extended header (255 - 1 - header)."""
        return MAX_EXT_PAYLOAD - 1 - self.extended_header_length()

    def header(self) -> AdvHeader:
        return AdvHeader(
            pdu_type=int(self.pdu_type),
            length=1 + self.extended_header_length() + len(self.adv_data),
            tx_add=self.adv_a is not None and self.adv_a.random,
            rx_add=self.target_a is not None and self.target_a.random,
        )

    def to_bytes(self) -> bytes:
        """Header and payload, as on air (without access address and CRC)."""
        ext = self._extended_header()
        payload = bytes((len(ext) | (int(self.adv_mode) << 6),)) + ext + self.adv_data
        return self.header().to_bytes() + payload

    @classmethod
    def from_bytes(cls, data: bytes) -> "ExtendedAdvPdu":
        """Decode a whole PDU whose type is 0b0111 or 0b1000."""
        header, payload = AdvHeader.split(data)
        if header.pdu_type not in (AdvPduType.ADV_EXT_IND, AdvPduType.AUX_CONNECT_RSP):
            raise PduDecodeError(f"PDU type {header.pdu_type:#06b} is not extended")
        return cls.from_payload(header, payload)

    @classmethod
    def from_payload(cls, header: AdvHeader, payload: bytes) -> "ExtendedAdvPdu":
        """Decode the payload of a PDU whose header was already read."""
        if not payload:
            raise PduDecodeError("extended advertising payload is empty")
        ext_len = payload[0] & 0x3F
        try:
            adv_mode = AdvMode(payload[0] >> 6)
        except ValueError:
            raise PduDecodeError("AdvMode 0b11 is reserved") from None
        if 1 + ext_len > len(payload):
            raise PduDecodeError("Extended Header Length runs past the payload")
        ext = payload[1 : 1 + ext_len]
        adv_a: Address | None = None
        target_a: Address | None = None
        cte_info: CTEInfo | None = None
        adi: ADI | None = None
        aux_ptr: AuxPtr | None = None
        sync_info: SyncInfo | None = None
        tx_power: int | None = None
        acad = b""
        if ext_len:
            flags = ext[0]
            pos = 1

            def take(size: int) -> bytes:
                nonlocal pos
                if pos + size > len(ext):
                    raise PduDecodeError("extended header fields overrun its length")
                chunk = ext[pos : pos + size]
                pos += size
                return chunk

            if flags & 0x01:
                adv_a = Address(take(6), header.tx_add)
            if flags & 0x02:
                target_a = Address(take(6), header.rx_add)
            if flags & 0x04:
                cte_info = CTEInfo.from_bytes(take(1))
            if flags & 0x08:
                adi = ADI.from_bytes(take(2))
            if flags & 0x10:
                aux_ptr = AuxPtr.from_bytes(take(3))
            if flags & 0x20:
                sync_info = SyncInfo.from_bytes(take(SyncInfo.SIZE))
            if flags & 0x40:
                tx_power = int.from_bytes(take(1), "little", signed=True)
            acad = bytes(ext[pos:])
        try:
            return cls(
                AdvPduType(header.pdu_type), adv_mode, adv_a, target_a, cte_info, adi,
                aux_ptr, sync_info, tx_power, acad, bytes(payload[1 + ext_len :]),
            )
        except ValueError as exc:
            raise PduDecodeError(str(exc)) from exc
