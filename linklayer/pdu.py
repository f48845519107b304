"""Advertising physical channel PDUs (Core v5.x Vol 6 Part B 2.3).

Theory of operation
-------------------
A PDU on an advertising physical channel is a 2-octet :class:`AdvHeader` and a
payload; the access address, preamble and CRC are the radio's business
(:mod:`linklayer.radio`, :mod:`linklayer.crypto`). Each legacy PDU is a frozen
dataclass here — ADV_IND, ADV_DIRECT_IND, ADV_NONCONN_IND, ADV_SCAN_IND, SCAN_REQ,
SCAN_RSP, CONNECT_IND — plus AUX_SCAN_REQ and AUX_CONNECT_REQ, which reuse the
SCAN_REQ / CONNECT_IND payloads on the secondary channel. The extended PDUs are one
structure, :class:`ExtendedAdvPdu` (defined in :mod:`linklayer.pdu_ext`, re-exported
here with the header and field types).

Addresses are :class:`linklayer.address.Address` objects; their ``random`` flag *is*
the header's TxAdd / RxAdd bit, so it is never stored twice. ``to_bytes()`` gives header
and payload; :func:`decode_adv_pdu` is the one dispatcher. The PDU type alone is
ambiguous (0b0011 is SCAN_REQ on a primary channel and AUX_SCAN_REQ on a secondary
one), so the caller says which kind of channel the PDU came from. Malformed bytes raise
:class:`PduDecodeError`; bad constructor arguments raise :class:`PduFieldError`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable, ClassVar, Self, Union

from linklayer.address import Address
from linklayer.pdu_ext import (
    ADI,
    ADV_HEADER_SIZE,
    MAX_EXT_HEADER_LENGTH,
    MAX_EXT_PAYLOAD,
    MAX_LEGACY_ADV_DATA,
    OFFSET_UNITS_300US,
    OFFSET_UNITS_30US,
    SYNC_OFFSET_ADJUST_NS,
    AdvHeader,
    AdvMode,
    AdvPduType,
    AuxPhy,
    AuxPtr,
    CTEInfo,
    ExtAdvRole,
    ExtendedAdvPdu,
    PduDecodeError,
    PduFieldError,
    SyncInfo,
    choose_offset_units,
)
from phy.units import UNIT_10MS, UNIT_1250US

__all__ = [
    "ADI",
    "ADV_DIRECT_IND",
    "ADV_EXT_IND",
    "ADV_HEADER_SIZE",
    "ADV_IND",
    "ADV_NONCONN_IND",
    "ADV_SCAN_IND",
    "AUX_ADV_IND",
    "AUX_CHAIN_IND",
    "AUX_CONNECT_REQ",
    "AUX_CONNECT_RSP",
    "AUX_SCAN_REQ",
    "AUX_SCAN_RSP",
    "AUX_SYNC_IND",
    "AdvHeader",
    "AdvMode",
    "AdvPdu",
    "AdvPduType",
    "AuxPhy",
    "AuxPtr",
    "CONNECT_IND",
    "CTEInfo",
    "ExtAdvRole",
    "ExtendedAdvPdu",
    "LLData",
    "MAX_EXT_HEADER_LENGTH",
    "MAX_EXT_PAYLOAD",
    "MAX_LEGACY_ADV_DATA",
    "OFFSET_UNITS_300US",
    "OFFSET_UNITS_30US",
    "PduDecodeError",
    "PduFieldError",
    "SCAN_REQ",
    "SCAN_RSP",
    "SYNC_OFFSET_ADJUST_NS",
    "SyncInfo",
    "TRANSMIT_WINDOW_DELAY_NS",
    "choose_offset_units",
    "decode_adv_pdu",
]

#: transmitWindowDelay after a CONNECT_IND on LE 1M (Vol 6 Part B 4.5.3).
TRANSMIT_WINDOW_DELAY_NS = UNIT_1250US

#: Named constructors for the roles of the extended format (all build ExtendedAdvPdu).
ADV_EXT_IND = ExtendedAdvPdu.adv_ext_ind
AUX_ADV_IND = ExtendedAdvPdu.aux_adv_ind
AUX_SCAN_RSP = ExtendedAdvPdu.aux_scan_rsp
AUX_SYNC_IND = ExtendedAdvPdu.aux_sync_ind
AUX_CHAIN_IND = ExtendedAdvPdu.aux_chain_ind
AUX_CONNECT_RSP = ExtendedAdvPdu.aux_connect_rsp


def _address(data: bytes, random: bool) -> Address:
    return Address(bytes(data), random)


def _check_adv_data(name: str, data: bytes) -> None:
    if not isinstance(data, bytes):
        raise PduFieldError(f"{name} must be bytes")
    if len(data) > MAX_LEGACY_ADV_DATA:
        raise PduFieldError(f"{name} of {len(data)} octets exceeds {MAX_LEGACY_ADV_DATA}")


def _uint(name: str, value: int, bits: int) -> None:
    if not isinstance(value, int) or not 0 <= value < (1 << bits):
        raise PduFieldError(f"{name}={value!r} does not fit in {bits} unsigned bits")


@dataclass(frozen=True, slots=True)
class _LegacyPdu:
    """Shared codec of the legacy PDUs: header from the subclass's fields, then payload."""

    PDU_TYPE: ClassVar[AdvPduType]
    #: Which kind of advertising channel carries the PDU.
    SECONDARY: ClassVar[bool] = False

    def payload(self) -> bytes:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def header(self) -> AdvHeader:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def to_bytes(self) -> bytes:
        """Header and payload, as on air (without access address and CRC)."""
        return self.header().to_bytes() + self.payload()

    def _header(self, ch_sel: bool = False, tx: bool = False, rx: bool = False) -> AdvHeader:
        return AdvHeader(int(self.PDU_TYPE), len(self.payload()), ch_sel, tx, rx)

    @classmethod
    def from_payload(cls, header: AdvHeader, payload: bytes) -> Self:  # pragma: no cover
        raise NotImplementedError

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """Decode a whole PDU (header + payload) of this class's PDU type."""
        header, payload = AdvHeader.split(data)
        if header.pdu_type != cls.PDU_TYPE:
            raise PduDecodeError(f"PDU type {header.pdu_type:#06b} is not {cls.__name__}")
        return cls.from_payload(header, payload)


def _adv_a_and_data(name: str, payload: bytes, header: AdvHeader) -> tuple[Address, bytes]:
    if not 6 <= len(payload) <= 6 + MAX_LEGACY_ADV_DATA:
        raise PduDecodeError(f"{name} payload must be 6..37 octets, not {len(payload)}")
    return _address(payload[:6], header.tx_add), bytes(payload[6:])


def _fixed(name: str, payload: bytes, size: int) -> None:
    if len(payload) != size:
        raise PduDecodeError(f"{name} payload must be {size} octets, not {len(payload)}")


@dataclass(frozen=True, slots=True)
class ADV_IND(_LegacyPdu):
    """Connectable scannable undirected advertising (Vol 6 Part B 2.3.1.1)."""

    PDU_TYPE: ClassVar[AdvPduType] = AdvPduType.ADV_IND

    adv_a: Address
    adv_data: bytes = b""
    ch_sel: bool = False

    def __post_init__(self) -> None:
        _check_adv_data("adv_data", self.adv_data)

    def payload(self) -> bytes:
        return self.adv_a.value + self.adv_data

    def header(self) -> AdvHeader:
        return self._header(self.ch_sel, self.adv_a.random)

    @classmethod
    def from_payload(cls, header: AdvHeader, payload: bytes) -> Self:
        adv_a, data = _adv_a_and_data("ADV_IND", payload, header)
        return cls(adv_a, data, header.ch_sel)


@dataclass(frozen=True, slots=True)
class ADV_DIRECT_IND(_LegacyPdu):
    """Connectable directed advertising (Vol 6 Part B 2.3.1.2): AdvA, TargetA."""

    PDU_TYPE: ClassVar[AdvPduType] = AdvPduType.ADV_DIRECT_IND

    adv_a: Address
    target_a: Address
    ch_sel: bool = False

    def payload(self) -> bytes:
        return self.adv_a.value + self.target_a.value

    def header(self) -> AdvHeader:
        return self._header(self.ch_sel, self.adv_a.random, self.target_a.random)

    @classmethod
    def from_payload(cls, header: AdvHeader, payload: bytes) -> Self:
        _fixed("ADV_DIRECT_IND", payload, 12)
        return cls(
            _address(payload[:6], header.tx_add),
            _address(payload[6:], header.rx_add),
            header.ch_sel,
        )


@dataclass(frozen=True, slots=True)
class ADV_NONCONN_IND(_LegacyPdu):
    """Non-connectable non-scannable undirected advertising (Vol 6 Part B 2.3.1.3)."""

    PDU_TYPE: ClassVar[AdvPduType] = AdvPduType.ADV_NONCONN_IND

    adv_a: Address
    adv_data: bytes = b""

    def __post_init__(self) -> None:
        _check_adv_data("adv_data", self.adv_data)

    def payload(self) -> bytes:
        return self.adv_a.value + self.adv_data

    def header(self) -> AdvHeader:
        return self._header(tx=self.adv_a.random)

    @classmethod
    def from_payload(cls, header: AdvHeader, payload: bytes) -> Self:
        adv_a, data = _adv_a_and_data("ADV_NONCONN_IND", payload, header)
        return cls(adv_a, data)


@dataclass(frozen=True, slots=True)
class ADV_SCAN_IND(_LegacyPdu):
    """Scannable undirected advertising (Vol 6 Part B 2.3.1.4)."""

    PDU_TYPE: ClassVar[AdvPduType] = AdvPduType.ADV_SCAN_IND

    adv_a: Address
    adv_data: bytes = b""

    def __post_init__(self) -> None:
        _check_adv_data("adv_data", self.adv_data)

    def payload(self) -> bytes:
        return self.adv_a.value + self.adv_data

    def header(self) -> AdvHeader:
        return self._header(tx=self.adv_a.random)

    @classmethod
    def from_payload(cls, header: AdvHeader, payload: bytes) -> Self:
        adv_a, data = _adv_a_and_data("ADV_SCAN_IND", payload, header)
        return cls(adv_a, data)


@dataclass(frozen=True, slots=True)
class SCAN_REQ(_LegacyPdu):
    """SCAN_REQ (Vol 6 Part B 2.3.2.1): ScanA (TxAdd), AdvA (RxAdd)."""

    PDU_TYPE: ClassVar[AdvPduType] = AdvPduType.SCAN_REQ

    scan_a: Address
    adv_a: Address

    def payload(self) -> bytes:
        return self.scan_a.value + self.adv_a.value

    def header(self) -> AdvHeader:
        return self._header(tx=self.scan_a.random, rx=self.adv_a.random)

    @classmethod
    def from_payload(cls, header: AdvHeader, payload: bytes) -> Self:
        _fixed(cls.__name__, payload, 12)
        return cls(_address(payload[:6], header.tx_add), _address(payload[6:], header.rx_add))


@dataclass(frozen=True, slots=True)
class AUX_SCAN_REQ(SCAN_REQ):
    """AUX_SCAN_REQ (Vol 6 Part B 2.3.2.1): the SCAN_REQ payload on a secondary channel.

    A subclass, so ``isinstance(pdu, SCAN_REQ)`` holds for both; test for AUX_SCAN_REQ
    first where the difference matters.
    """

    SECONDARY: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class SCAN_RSP(_LegacyPdu):
    """SCAN_RSP (Vol 6 Part B 2.3.2.2): AdvA (TxAdd), ScanRspData."""

    PDU_TYPE: ClassVar[AdvPduType] = AdvPduType.SCAN_RSP

    adv_a: Address
    scan_rsp_data: bytes = b""

    def __post_init__(self) -> None:
        _check_adv_data("scan_rsp_data", self.scan_rsp_data)

    def payload(self) -> bytes:
        return self.adv_a.value + self.scan_rsp_data

    def header(self) -> AdvHeader:
        return self._header(tx=self.adv_a.random)

    @classmethod
    def from_payload(cls, header: AdvHeader, payload: bytes) -> Self:
        adv_a, data = _adv_a_and_data("SCAN_RSP", payload, header)
        return cls(adv_a, data)


@dataclass(frozen=True, slots=True)
class LLData:
    """The LLData of CONNECT_IND / AUX_CONNECT_REQ (Vol 6 Part B 2.3.3.1, Fig. 2.19).

    AA (4 octets), CRCInit (3), WinSize (1, 1.25 ms units), WinOffset (2, 1.25 ms),
    Interval (2, 1.25 ms), Latency (2), Timeout (2, 10 ms), ChM (5: bit n = data
    channel index n, bits 37-39 RFU), Hop (bits 0-4 of the last octet), SCA (bits 5-7).
    """

    aa: int
    crc_init: int
    win_size: int
    win_offset: int
    interval: int
    latency: int
    timeout: int
    ch_m: int
    hop: int
    sca: int

    SIZE: ClassVar[int] = 22

    def __post_init__(self) -> None:
        _uint("aa", self.aa, 32)
        _uint("crc_init", self.crc_init, 24)
        _uint("win_size", self.win_size, 8)
        for name in ("win_offset", "interval", "latency", "timeout"):
            _uint(name, getattr(self, name), 16)
        _uint("ch_m", self.ch_m, 37)
        _uint("hop", self.hop, 5)
        _uint("sca", self.sca, 3)

    @property
    def interval_ns(self) -> int:
        return self.interval * UNIT_1250US

    @property
    def timeout_ns(self) -> int:
        return self.timeout * UNIT_10MS

    @property
    def win_size_ns(self) -> int:
        return self.win_size * UNIT_1250US

    @property
    def win_offset_ns(self) -> int:
        return self.win_offset * UNIT_1250US

    def to_bytes(self) -> bytes:
        return (
            self.aa.to_bytes(4, "little")
            + self.crc_init.to_bytes(3, "little")
            + bytes((self.win_size,))
            + self.win_offset.to_bytes(2, "little")
            + self.interval.to_bytes(2, "little")
            + self.latency.to_bytes(2, "little")
            + self.timeout.to_bytes(2, "little")
            + self.ch_m.to_bytes(5, "little")
            + bytes((self.hop | (self.sca << 5),))
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> "LLData":
        if len(data) != cls.SIZE:
            raise PduDecodeError(f"LLData is {cls.SIZE} octets, not {len(data)}")
        u16 = [int.from_bytes(data[i : i + 2], "little") for i in (8, 10, 12, 14)]
        return cls(
            aa=int.from_bytes(data[0:4], "little"),
            crc_init=int.from_bytes(data[4:7], "little"),
            win_size=data[7],
            win_offset=u16[0],
            interval=u16[1],
            latency=u16[2],
            timeout=u16[3],
            ch_m=int.from_bytes(data[16:21], "little") & ((1 << 37) - 1),
            hop=data[21] & 0x1F,
            sca=data[21] >> 5,
        )


@dataclass(frozen=True, slots=True)
class CONNECT_IND(_LegacyPdu):
    """Connect indication (Vol 6 Part B 2.3.3.1): InitA (TxAdd), AdvA (RxAdd), LLData.

    ``ch_sel`` set means the initiator supports Channel Selection Algorithm #2.
    """

    PDU_TYPE: ClassVar[AdvPduType] = AdvPduType.CONNECT_IND

    init_a: Address
    adv_a: Address
    ll_data: LLData
    ch_sel: bool = False

    def payload(self) -> bytes:
        return self.init_a.value + self.adv_a.value + self.ll_data.to_bytes()

    def header(self) -> AdvHeader:
        return self._header(self.ch_sel, self.init_a.random, self.adv_a.random)

    @classmethod
    def from_payload(cls, header: AdvHeader, payload: bytes) -> Self:
        _fixed(cls.__name__, payload, 12 + LLData.SIZE)
        return cls(
            _address(payload[:6], header.tx_add),
            _address(payload[6:12], header.rx_add),
            LLData.from_bytes(payload[12:]),
            header.ch_sel,
        )


@dataclass(frozen=True, slots=True)
class AUX_CONNECT_REQ(CONNECT_IND):
    """AUX_CONNECT_REQ (Vol 6 Part B 2.3.3.1): the CONNECT_IND payload on a secondary
    channel. ChSel is RFU there (CSA #2 is always used); keep ``ch_sel`` False.
    A subclass of CONNECT_IND: test for AUX_CONNECT_REQ first where it matters.
    """

    SECONDARY: ClassVar[bool] = True


#: Any advertising physical channel PDU.
AdvPdu = Union[
    ADV_IND,
    ADV_DIRECT_IND,
    ADV_NONCONN_IND,
    ADV_SCAN_IND,
    SCAN_REQ,
    SCAN_RSP,
    CONNECT_IND,
    ExtendedAdvPdu,
]

_Decoder = Callable[[AdvHeader, bytes], AdvPdu]
_PRIMARY: dict[int, _Decoder] = {
    AdvPduType.ADV_IND: ADV_IND.from_payload,
    AdvPduType.ADV_DIRECT_IND: ADV_DIRECT_IND.from_payload,
    AdvPduType.ADV_NONCONN_IND: ADV_NONCONN_IND.from_payload,
    AdvPduType.SCAN_REQ: SCAN_REQ.from_payload,
    AdvPduType.SCAN_RSP: SCAN_RSP.from_payload,
    AdvPduType.CONNECT_IND: CONNECT_IND.from_payload,
    AdvPduType.ADV_SCAN_IND: ADV_SCAN_IND.from_payload,
    AdvPduType.ADV_EXT_IND: ExtendedAdvPdu.from_payload,
}
_SECONDARY: dict[int, _Decoder] = {
    AdvPduType.AUX_SCAN_REQ: AUX_SCAN_REQ.from_payload,
    AdvPduType.AUX_CONNECT_REQ: AUX_CONNECT_REQ.from_payload,
    AdvPduType.AUX_ADV_IND: ExtendedAdvPdu.from_payload,
    AdvPduType.AUX_CONNECT_RSP: ExtendedAdvPdu.from_payload,
}


def decode_adv_pdu(data: bytes, secondary: bool = False) -> AdvPdu:
    """Decode an advertising physical channel PDU; see :func:`_decode_adv_pdu`.

    PDUs are immutable, so decoding is memoised by their bytes (a scanner hears the
    same advertisement again and again).
    """
    return _decode_cached(bytes(data), secondary)


@functools.lru_cache(maxsize=4096)
def _decode_cached(data: bytes, secondary: bool) -> AdvPdu:
    return _decode_adv_pdu(data, secondary)


def _decode_adv_pdu(data: bytes, secondary: bool = False) -> AdvPdu:
    """Decode an advertising physical channel PDU (header + payload, no AA/CRC).

    ``secondary``: the PDU was received on a secondary advertising channel (data
    channel index 0-36 with the advertising access address), where legacy PDUs do not
    exist and types 0b0011 / 0b0101 mean AUX_SCAN_REQ / AUX_CONNECT_REQ (Vol 6 Part B
    2.3). Type 0b0111 gives an :class:`ExtendedAdvPdu` on either kind of
    channel; 0b1000 (AUX_CONNECT_RSP) only on a secondary one. Raises
    :class:`PduDecodeError` for anything else or a malformed payload.
    """
    header, payload = AdvHeader.split(bytes(data))
    decoder = (_SECONDARY if secondary else _PRIMARY).get(header.pdu_type)
    if decoder is None:
        where = "secondary" if secondary else "primary"
        raise PduDecodeError(
            f"PDU type {header.pdu_type:#06b} is not valid on a {where} advertising channel"
        )
    return decoder(header, payload)
