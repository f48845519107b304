"""LL Control PDUs (Core v5.x Vol 6 Part B 2.4.2).

Theory of operation
-------------------
The payload of a data channel PDU with LLID 0b11 is one Opcode octet and a CtrData
field whose size is fixed by the opcode. Every PDU is a frozen dataclass; its fields
list CtrData in specification order and carry their wire format in metadata
(``u8()``, ``u16()``, ``s8()``, ``octets(n)``, ``bits(n)`` and anonymous ``rfu(n)``
padding). Consecutive ``bits``/``rfu`` fields are packed least significant bit first
into whole octets, little-endian, as the spec's figures draw them. The ``@_control``
decorator computes each class's layout and CtrData size and registers it by opcode in
:data:`CONTROL_PDU_CLASSES`.

:func:`decode_control_pdu` separates the two failures a link layer answers
differently: an opcode nobody defines raises :class:`UnknownControlOpcode` (answer
LL_UNKNOWN_RSP), a known opcode with the wrong CtrData size raises
:class:`ControlPduLengthError`, a :class:`PduDecodeError` carrying the opcode.

Byte strings (Rand, SKDm, IVm, SKDs, IVs, SyncInfo, AdvA) are kept in air order, least
significant octet first, as the HCI carries them. Integers are plain ``int``; the
feature and PHY bit masks have :class:`LLFeature` / :class:`LLPhys` flags to build them.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any, Callable, ClassVar, Self, TypeVar

from linklayer.address import Address
from linklayer.pdu import PduDecodeError, PduFieldError, SyncInfo

from .hci.supported import LeFeature


class UnknownControlOpcode(ValueError):
    """The opcode is not an LL Control PDU this link layer knows (answer LL_UNKNOWN_RSP)."""

    def __init__(self, opcode: int) -> None:
        super().__init__(f"unknown LL control opcode 0x{opcode:02x}")
        self.opcode = opcode


class ControlPduLengthError(PduDecodeError):
    """A known opcode arrived with a CtrData of the wrong size."""

    def __init__(self, opcode: int, name: str, expected: int, actual: int) -> None:
        super().__init__(f"{name} (0x{opcode:02x}) has {expected} CtrData octets, not {actual}")
        self.opcode = opcode
        self.expected = expected
        self.actual = actual


class LLPhys(enum.IntFlag):
    """PHY bit masks of LL_PHY_REQ/RSP/UPDATE_IND and others (Vol 6 Part B 2.4.2.22)."""

    LE_1M = 0x01
    LE_2M = 0x02
    LE_CODED = 0x04


#: The FeatureSet bits (Vol 6 Part B 4.6): the same flags the HCI reports.
LLFeature = LeFeature


# -- declarative wire format ---------------------------------------------------------

_KEY = "ll"


def _f(kind: str, size: int, **kw: Any) -> Any:
    return dataclasses.field(metadata={_KEY: (kind, size)}, **kw)


def u8() -> Any:
    return _f("u", 1)


def u16() -> Any:
    return _f("u", 2)


def u24() -> Any:
    return _f("u", 3)


def u32() -> Any:
    return _f("u", 4)


def u40() -> Any:
    return _f("u", 5)


def u64() -> Any:
    return _f("u", 8)


def u80() -> Any:
    return _f("u", 10)


def s8() -> Any:
    return _f("s", 1)


def octets(size: int) -> Any:
    return _f("b", size)


def bits(width: int) -> Any:
    return _f("bits", width)


def rfu(width: int) -> Any:
    """Reserved bits: sent as 0, ignored on receipt; not an argument of the class."""
    return _f("rfu", width, default=0, init=False, repr=False, compare=False)


# A layout item: ("u"|"s"|"b", name, octets) or ("bits", ((name | None, width), ...), octets)
_Item = tuple[str, Any, int]


def _layout(cls: type) -> tuple[tuple[_Item, ...], int]:
    items: list[_Item] = []
    group: list[tuple[str | None, int]] = []

    def close() -> None:
        width = sum(w for _, w in group)
        if width % 8:
            raise TypeError(f"{cls.__name__}: bit fields do not fill whole octets")
        items.append(("bits", tuple(group), width // 8))
        group.clear()

    for f in dataclasses.fields(cls):
        kind, size = f.metadata[_KEY]
        if kind in ("bits", "rfu"):
            group.append((f.name if kind == "bits" else None, size))
            continue
        if group:
            close()
        items.append((kind, f.name, size))
    if group:
        close()
    return tuple(items), sum(item[2] for item in items)


@dataclasses.dataclass(frozen=True, slots=True)
class ControlPdu:
    """Base of the LL Control PDUs: ``to_bytes()`` is Opcode + CtrData (2.4.2)."""

    OPCODE: ClassVar[int] = -1
    CTR_DATA_SIZE: ClassVar[int] = 0
    _LAYOUT: ClassVar[tuple[_Item, ...]] = ()

    def __post_init__(self) -> None:
        for kind, name, size in self._LAYOUT:
            if kind == "bits":
                for bit_name, width in name:
                    if bit_name is not None:
                        _check_int(self, bit_name, getattr(self, bit_name), 0, 1 << width)
            elif kind == "u":
                _check_int(self, name, getattr(self, name), 0, 1 << (8 * size))
            elif kind == "s":
                half = 1 << (8 * size - 1)
                _check_int(self, name, getattr(self, name), -half, half)
            else:
                value = getattr(self, name)
                if not isinstance(value, bytes) or len(value) != size:
                    raise PduFieldError(f"{type(self).__name__}.{name} must be {size} bytes")

    def ctr_data(self) -> bytes:
        """The CtrData field."""
        out = bytearray()
        for kind, name, size in self._LAYOUT:
            if kind == "bits":
                acc = shift = 0
                for bit_name, width in name:
                    if bit_name is not None:
                        acc |= getattr(self, bit_name) << shift
                    shift += width
                out += acc.to_bytes(size, "little")
            elif kind == "b":
                out += getattr(self, name)
            else:
                out += getattr(self, name).to_bytes(size, "little", signed=kind == "s")
        return bytes(out)

    def to_bytes(self) -> bytes:
        """Opcode and CtrData: the payload of the data channel PDU (LLID 0b11)."""
        return bytes((self.OPCODE,)) + self.ctr_data()

    @classmethod
    def from_ctr_data(cls, data: bytes) -> Self:
        """Decode CtrData; raises :class:`ControlPduLengthError` on a size mismatch."""
        if len(data) != cls.CTR_DATA_SIZE:
            raise ControlPduLengthError(cls.OPCODE, cls.__name__, cls.CTR_DATA_SIZE, len(data))
        values: dict[str, Any] = {}
        pos = 0
        for kind, name, size in cls._LAYOUT:
            chunk = bytes(data[pos : pos + size])
            pos += size
            if kind == "bits":
                acc = int.from_bytes(chunk, "little")
                for bit_name, width in name:
                    if bit_name is not None:
                        values[bit_name] = acc & ((1 << width) - 1)
                    acc >>= width
            elif kind == "b":
                values[name] = chunk
            else:
                values[name] = int.from_bytes(chunk, "little", signed=kind == "s")
        return cls(**values)

    @classmethod
    def from_bytes(cls, payload: bytes) -> Self:
        """Decode Opcode + CtrData, which must carry this class's opcode."""
        if not payload:
            raise PduDecodeError("an LL Control PDU has at least an opcode")
        if payload[0] != cls.OPCODE:
            raise PduDecodeError(f"opcode 0x{payload[0]:02x} is not {cls.__name__}")
        return cls.from_ctr_data(payload[1:])


def _check_int(pdu: ControlPdu, name: str, value: Any, low: int, high: int) -> None:
    if not isinstance(value, int) or not low <= value < high:
        raise PduFieldError(f"{type(pdu).__name__}.{name}={value!r} is out of range")


#: Opcode -> LL Control PDU class.
CONTROL_PDU_CLASSES: dict[int, type[ControlPdu]] = {}

_C = TypeVar("_C", bound=type[ControlPdu])


def _control(opcode: int) -> Callable[[_C], _C]:
    """Class decorator: set OPCODE, compute the layout, register by opcode."""
    def register(cls: _C) -> _C:
        if opcode in CONTROL_PDU_CLASSES:
            raise ValueError(f"LL control opcode 0x{opcode:02x} registered twice")
        cls.OPCODE = opcode
        cls._LAYOUT, cls.CTR_DATA_SIZE = _layout(cls)
        CONTROL_PDU_CLASSES[opcode] = cls
        return cls

    return register


def decode_control_pdu(payload: bytes) -> ControlPdu:
    """Decode the payload of an LL Control PDU (Opcode + CtrData, Vol 6 Part B 2.4.2).

    Raises :class:`UnknownControlOpcode` for an opcode not in
    :data:`CONTROL_PDU_CLASSES`, :class:`ControlPduLengthError` (a
    :class:`PduDecodeError`) when CtrData has the wrong size for the opcode, and
    :class:`PduDecodeError` for an empty payload.
    """
    if not payload:
        raise PduDecodeError("an LL Control PDU has at least an opcode")
    cls = CONTROL_PDU_CLASSES.get(payload[0])
    if cls is None:
        raise UnknownControlOpcode(payload[0])
    return cls.from_ctr_data(bytes(payload[1:]))


# -- the PDUs, in opcode order ---------------------------------------------------------


@_control(0x00)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_CONNECTION_UPDATE_IND(ControlPdu):
    """Vol 6 Part B 2.4.2.1: new connection parameters from the Central at Instant."""

    win_size: int = u8()
    win_offset: int = u16()
    interval: int = u16()
    latency: int = u16()
    timeout: int = u16()
    instant: int = u16()


@_control(0x01)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_CHANNEL_MAP_IND(ControlPdu):
    """Vol 6 Part B 2.4.2.2: ChM (5 octets, bit n = channel index n) from Instant."""

    ch_m: int = u40()
    instant: int = u16()


@_control(0x02)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_TERMINATE_IND(ControlPdu):
    """Vol 6 Part B 2.4.2.3: the connection ends with this error code."""

    error_code: int = u8()


@_control(0x03)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_ENC_REQ(ControlPdu):
    """Vol 6 Part B 2.4.2.4: Rand (8), EDIV (2), SKDm (8), IVm (4), air order."""

    rand: bytes = octets(8)
    ediv: int = u16()
    skd_m: bytes = octets(8)
    iv_m: bytes = octets(4)


@_control(0x04)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_ENC_RSP(ControlPdu):
    """Vol 6 Part B 2.4.2.5: SKDs (8), IVs (4), air order."""

    skd_s: bytes = octets(8)
    iv_s: bytes = octets(4)


@_control(0x05)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_START_ENC_REQ(ControlPdu):
    """Vol 6 Part B 2.4.2.6 (no CtrData)."""


@_control(0x06)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_START_ENC_RSP(ControlPdu):
    """Vol 6 Part B 2.4.2.7 (no CtrData)."""


@_control(0x07)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_UNKNOWN_RSP(ControlPdu):
    """Vol 6 Part B 2.4.2.8: the opcode of the PDU that was not understood."""

    unknown_type: int = u8()


@_control(0x08)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_FEATURE_REQ(ControlPdu):
    """Vol 6 Part B 2.4.2.9: the Central's FeatureSet (8 octets, see LLFeature)."""

    feature_set: int = u64()


@_control(0x09)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_FEATURE_RSP(ControlPdu):
    """Vol 6 Part B 2.4.2.10: the FeatureSet used on the connection (see LLFeature)."""

    feature_set: int = u64()


@_control(0x0A)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_PAUSE_ENC_REQ(ControlPdu):
    """Vol 6 Part B 2.4.2.11 (no CtrData)."""


@_control(0x0B)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_PAUSE_ENC_RSP(ControlPdu):
    """Vol 6 Part B 2.4.2.12 (no CtrData)."""


@_control(0x0C)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_VERSION_IND(ControlPdu):
    """Vol 6 Part B 2.4.2.13: VersNr, CompId, SubVersNr."""

    vers_nr: int = u8()
    comp_id: int = u16()
    sub_vers_nr: int = u16()


@_control(0x0D)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_REJECT_IND(ControlPdu):
    """Vol 6 Part B 2.4.2.14: reject with an error code."""

    error_code: int = u8()


@_control(0x0E)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_PERIPHERAL_FEATURE_REQ(ControlPdu):
    """Vol 6 Part B 2.4.2.15 (formerly LL_SLAVE_FEATURE_REQ): the Peripheral's FeatureSet."""

    feature_set: int = u64()


@_control(0x0F)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_CONNECTION_PARAM_REQ(ControlPdu):
    """Vol 6 Part B 2.4.2.16: requested connection parameters and anchor offsets."""

    interval_min: int = u16()
    interval_max: int = u16()
    latency: int = u16()
    timeout: int = u16()
    preferred_periodicity: int = u8()
    reference_conn_event_count: int = u16()
    offset0: int = u16()
    offset1: int = u16()
    offset2: int = u16()
    offset3: int = u16()
    offset4: int = u16()
    offset5: int = u16()


@_control(0x10)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_CONNECTION_PARAM_RSP(ControlPdu):
    """Vol 6 Part B 2.4.2.17: same CtrData as LL_CONNECTION_PARAM_REQ."""

    interval_min: int = u16()
    interval_max: int = u16()
    latency: int = u16()
    timeout: int = u16()
    preferred_periodicity: int = u8()
    reference_conn_event_count: int = u16()
    offset0: int = u16()
    offset1: int = u16()
    offset2: int = u16()
    offset3: int = u16()
    offset4: int = u16()
    offset5: int = u16()


@_control(0x11)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_REJECT_EXT_IND(ControlPdu):
    """Vol 6 Part B 2.4.2.18: RejectOpcode, ErrorCode."""

    reject_opcode: int = u8()
    error_code: int = u8()


@_control(0x12)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_PING_REQ(ControlPdu):
    """Vol 6 Part B 2.4.2.19 (no CtrData)."""


@_control(0x13)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_PING_RSP(ControlPdu):
    """Vol 6 Part B 2.4.2.20 (no CtrData)."""


@_control(0x14)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_LENGTH_REQ(ControlPdu):
    """Vol 6 Part B 2.4.2.21: MaxRxOctets, MaxRxTime (µs), MaxTxOctets, MaxTxTime (µs)."""

    max_rx_octets: int = u16()
    max_rx_time: int = u16()
    max_tx_octets: int = u16()
    max_tx_time: int = u16()


@_control(0x15)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_LENGTH_RSP(ControlPdu):
    """Vol 6 Part B 2.4.2.21: same CtrData as LL_LENGTH_REQ."""

    max_rx_octets: int = u16()
    max_rx_time: int = u16()
    max_tx_octets: int = u16()
    max_tx_time: int = u16()


@_control(0x16)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_PHY_REQ(ControlPdu):
    """Vol 6 Part B 2.4.2.22: TX_PHYS, RX_PHYS (LLPhys bit masks)."""

    tx_phys: int = u8()
    rx_phys: int = u8()


@_control(0x17)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_PHY_RSP(ControlPdu):
    """Vol 6 Part B 2.4.2.22: TX_PHYS, RX_PHYS (LLPhys bit masks)."""

    tx_phys: int = u8()
    rx_phys: int = u8()


@_control(0x18)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_PHY_UPDATE_IND(ControlPdu):
    """Vol 6 Part B 2.4.2.23: PHY_C_TO_P, PHY_P_TO_C (one bit or 0 each), Instant."""

    phy_c_to_p: int = u8()
    phy_p_to_c: int = u8()
    instant: int = u16()


@_control(0x19)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_MIN_USED_CHANNELS_IND(ControlPdu):
    """Vol 6 Part B 2.4.2.24: PHYS (LLPhys mask), MinUsedChannels."""

    phys: int = u8()
    min_used_channels: int = u8()


@_control(0x1A)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_CTE_REQ(ControlPdu):
    """Vol 6 Part B 2.4.2.25: MinCTELenReq (5 bits), RFU (1), CTETypeReq (2)."""

    min_cte_len_req: int = bits(5)
    _rfu0: int = rfu(1)
    cte_type_req: int = bits(2)


@_control(0x1B)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_CTE_RSP(ControlPdu):
    """Vol 6 Part B 2.4.2.26 (no CtrData; the CTE follows the PDU)."""


@_control(0x1C)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_PERIODIC_SYNC_IND(ControlPdu):
    """Vol 6 Part B 2.4.2.27: periodic advertising sync transfer (34 octets).

    ID, SyncInfo (18), connEventCount, lastPaEventCounter, SID (4 bits), A_Type (1),
    SCA (3), PHY, AdvA (6, air order), syncConnEventCount.
    """

    id: int = u16()
    sync_info: bytes = octets(18)
    conn_event_count: int = u16()
    last_pa_event_counter: int = u16()
    sid: int = bits(4)
    a_type: int = bits(1)
    sca: int = bits(3)
    phy: int = u8()
    adv_a: bytes = octets(6)
    sync_conn_event_count: int = u16()

    def decoded_sync_info(self) -> SyncInfo:
        """The SyncInfo octets as a :class:`linklayer.pdu.SyncInfo`."""
        return SyncInfo.from_bytes(self.sync_info)

    def advertiser_address(self) -> Address:
        return Address(self.adv_a, bool(self.a_type))


@_control(0x1D)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_CLOCK_ACCURACY_REQ(ControlPdu):
    """Vol 6 Part B 2.4.2.28: the sender's SCA."""

    sca: int = u8()


@_control(0x1E)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_CLOCK_ACCURACY_RSP(ControlPdu):
    """Vol 6 Part B 2.4.2.29: the sender's SCA."""

    sca: int = u8()


@_control(0x1F)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_CIS_REQ(ControlPdu):
    """Vol 6 Part B 2.4.2.30: request to create a CIS (36 octets)."""

    cig_id: int = u8()
    cis_id: int = u8()
    phy_c_to_p: int = u8()
    phy_p_to_c: int = u8()
    max_sdu_c_to_p: int = bits(12)
    _rfu0: int = rfu(3)
    framed: int = bits(1)
    max_sdu_p_to_c: int = bits(12)
    _rfu1: int = rfu(4)
    sdu_interval_c_to_p: int = bits(20)
    _rfu2: int = rfu(4)
    sdu_interval_p_to_c: int = bits(20)
    _rfu3: int = rfu(4)
    max_pdu_c_to_p: int = u16()
    max_pdu_p_to_c: int = u16()
    nse: int = u8()
    sub_interval: int = u24()
    bn_c_to_p: int = bits(4)
    bn_p_to_c: int = bits(4)
    ft_c_to_p: int = u8()
    ft_p_to_c: int = u8()
    iso_interval: int = u16()
    cis_offset_min: int = u24()
    cis_offset_max: int = u24()
    conn_event_count: int = u16()


@_control(0x20)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_CIS_RSP(ControlPdu):
    """Vol 6 Part B 2.4.2.31: CIS_Offset_Min, CIS_Offset_Max (3 octets, µs), connEventCount."""

    cis_offset_min: int = u24()
    cis_offset_max: int = u24()
    conn_event_count: int = u16()


@_control(0x21)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_CIS_IND(ControlPdu):
    """Vol 6 Part B 2.4.2.32: AA, CIS_Offset, CIG_Sync_Delay, CIS_Sync_Delay, connEventCount."""

    aa: int = u32()
    cis_offset: int = u24()
    cig_sync_delay: int = u24()
    cis_sync_delay: int = u24()
    conn_event_count: int = u16()


@_control(0x22)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_CIS_TERMINATE_IND(ControlPdu):
    """Vol 6 Part B 2.4.2.33: CIG_ID, CIS_ID, ErrorCode."""

    cig_id: int = u8()
    cis_id: int = u8()
    error_code: int = u8()


@_control(0x23)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_POWER_CONTROL_REQ(ControlPdu):
    """Vol 6 Part B 2.4.2.34: PHY, Delta (int8 dB), TxPower (int8 dBm)."""

    phy: int = u8()
    delta: int = s8()
    tx_power: int = s8()


@_control(0x24)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_POWER_CONTROL_RSP(ControlPdu):
    """Vol 6 Part B 2.4.2.35: Min (1 bit), Max (1 bit), RFU (6), Delta, TxPower, APR."""

    min: int = bits(1)
    max: int = bits(1)
    _rfu0: int = rfu(6)
    delta: int = s8()
    tx_power: int = s8()
    apr: int = u8()


@_control(0x25)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_POWER_CHANGE_IND(ControlPdu):
    """Vol 6 Part B 2.4.2.36: PHY, Min (1 bit), Max (1 bit), RFU (6), Delta, TxPower."""

    phy: int = u8()
    min: int = bits(1)
    max: int = bits(1)
    _rfu0: int = rfu(6)
    delta: int = s8()
    tx_power: int = s8()


@_control(0x26)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_SUBRATE_REQ(ControlPdu):
    """Core 5.3 Vol 6 Part B 2.4.2.37: connection subrating request."""

    subrate_factor_min: int = u16()
    subrate_factor_max: int = u16()
    max_latency: int = u16()
    continuation_number: int = u16()
    timeout: int = u16()


@_control(0x27)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_SUBRATE_IND(ControlPdu):
    """Core 5.3 Vol 6 Part B 2.4.2.38: new subrating parameters."""

    subrate_factor: int = u16()
    subrate_base_event: int = u16()
    latency: int = u16()
    continuation_number: int = u16()
    timeout: int = u16()


@_control(0x28)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_CHANNEL_REPORTING_IND(ControlPdu):
    """Core 5.3 Vol 6 Part B 2.4.2.39: Enable, Min_Spacing, Max_Delay."""

    enable: int = u8()
    min_spacing: int = u8()
    max_delay: int = u8()


@_control(0x29)
@dataclasses.dataclass(frozen=True, slots=True)
class LL_CHANNEL_STATUS_IND(ControlPdu):
    """Core 5.3 Vol 6 Part B 2.4.2.40: Channel_Classification, 2 bits per channel."""

    channel_classification: int = u80()
