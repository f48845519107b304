"""Capture files: every packet on the air, and every HCI packet of a node.

Theory of operation
-------------------
Two writers, both of which leave a complete, readable file after every packet (each
record is written in one piece and flushed at once, so a run that crashes or is killed
leaves a capture that Wireshark reads up to the last packet):

* :class:`AirCapture` writes a pcap file of link type 256,
  ``LINKTYPE_BLUETOOTH_LE_LL_WITH_PHDR``: a 10-octet pseudo-header (:class:`LePhdr`:
  RF channel, signal power, flags for CRC/MIC/decryption, the PHDR PDU type that tells
  Wireshark the direction of a data packet, and the PHY), then the link-layer packet
  without its preamble: access address, for the Coded PHY a 1-octet coding indicator
  (Vol 6 Part B 2.2), the PDU and its CRC (Vol 6 Part B 2.1). Every frame carries
  "CRC checked" (0x0400) so that Wireshark trusts our CRC-valid flag instead of
  recomputing data-channel CRCs it cannot check (it never learns CRCInit).
* :class:`HciCapture` writes one node's HCI traffic as btsnoop (datalink 1002, H4) or
  as pcap of link type 201 (``LINKTYPE_BLUETOOTH_HCI_H4_WITH_PHDR``), host→controller
  and controller→host.

The pcap files are written by hand with :mod:`struct` rather than with scapy's
``PcapWriter``: a pcap file is a 24-octet header plus a 16-octet header per record, and
writing it directly gives nanosecond timestamps (magic ``0xA1B23C4D``, read by
tshark 4.0), avoids ``PcapWriter``'s deferred global header (a file that is not yet
closed would not be a capture at all), and keeps the bytes entirely ours.

Timestamps are simulated time: ``epoch_unix_ns`` (by default 2026-01-01T00:00:00Z, the
same for air and HCI files so that they line up when merged) plus ``t_ns``. Nothing
depends on the wall clock, so the same run gives byte-identical files.

:func:`read_air_pcap` reads such air files back (for tests and reports).
"""

from __future__ import annotations

import dataclasses
import enum
import math
import os
import struct
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, ClassVar, Literal, Self

from phy import channels
from phy.types import Phy

__all__ = [
    "ADVERTISING_ACCESS_ADDRESS",
    "CAPTURE_EPOCH_UNIX_NS",
    "LINKTYPE_BLUETOOTH_LE_LL_WITH_PHDR",
    "LINKTYPE_BLUETOOTH_HCI_H4_WITH_PHDR",
    "BTSNOOP_DATALINK_H4",
    "PhdrFlag",
    "PhdrPduType",
    "AuxType",
    "H4Type",
    "HciDirection",
    "LePhdr",
    "AirRecord",
    "AirCapture",
    "HciCapture",
    "CaptureFormatError",
    "read_air_pcap",
    "build_air_packet",
]

ADVERTISING_ACCESS_ADDRESS = 0x8E89BED6
LINKTYPE_BLUETOOTH_LE_LL_WITH_PHDR = 256
LINKTYPE_BLUETOOTH_HCI_H4_WITH_PHDR = 201
BTSNOOP_DATALINK_H4 = 1002

#: 2026-01-01T00:00:00Z in Unix nanoseconds: simulated time 0 in every capture file.
CAPTURE_EPOCH_UNIX_NS = 1_767_225_600 * 1_000_000_000

_PCAP_MAGIC_US = 0xA1B2C3D4
_PCAP_MAGIC_NS = 0xA1B23C4D
_PCAP_SNAPLEN = 0x0000FFFF
_PCAP_GLOBAL = struct.Struct("<IHHiIII")
_PCAP_RECORD = struct.Struct("<IIII")

#: btsnoop timestamps count microseconds from 0000-01-01 (nominal Gregorian).
_BTSNOOP_UNIX_OFFSET_US = 0x00DCDDB30F2F8000
_BTSNOOP_HEADER = b"btsnoop\x00" + struct.pack(">II", 1, BTSNOOP_DATALINK_H4)
_BTSNOOP_RECORD = struct.Struct(">IIIIq")

_PHDR = struct.Struct("<BbbBIH")


class CaptureFormatError(ValueError):
    """A capture file being read is not a well-formed file of the expected kind."""


class PhdrFlag(enum.IntFlag):
    """Flag bits of the LE pseudo-header (link type 256)."""

    DEWHITENED = 0x0001
    SIGNAL_POWER_VALID = 0x0002
    NOISE_POWER_VALID = 0x0004
    DECRYPTED = 0x0008
    REFERENCE_AA_VALID = 0x0010
    AA_OFFENSES_VALID = 0x0020
    CHANNEL_ALIASED = 0x0040
    CRC_CHECKED = 0x0400
    CRC_VALID = 0x0800
    MIC_CHECKED = 0x1000
    MIC_VALID = 0x2000


_PDU_TYPE_SHIFT = 7
_PDU_TYPE_MASK = 0x0380
_AUX_TYPE_SHIFT = 12
_AUX_TYPE_MASK = 0x3000
_PHY_SHIFT = 14
_PHY_MASK = 0xC000


class PhdrPduType(enum.IntEnum):
    """The PHDR "PDU type" field: what the packet is and, for data, its direction."""

    ADV_OR_UNSPECIFIED = 0
    AUX_ADV = 1
    DATA_C_TO_P = 2
    DATA_P_TO_C = 3
    CIS_C_TO_P = 4
    CIS_P_TO_C = 5
    BIS = 6


class AuxType(enum.IntEnum):
    """For PHDR PDU type 1, which secondary-channel PDU (Vol 6 Part B 2.3) it is."""

    AUX_ADV_IND = 0
    AUX_CHAIN_IND = 1
    AUX_SYNC_IND = 2
    AUX_SCAN_RSP = 3


class H4Type(enum.IntEnum):
    """HCI UART packet indicators (Vol 4 Part A 2)."""

    COMMAND = 0x01
    ACL = 0x02
    SCO = 0x03
    EVENT = 0x04
    ISO = 0x05


HciDirection = Literal["host->controller", "controller->host"]

_PHY_BITS = {Phy.LE_1M: 0, Phy.LE_2M: 1, Phy.LE_CODED_S8: 2, Phy.LE_CODED_S2: 2}
#: Coding indicator (Vol 6 Part B 2.2): 0 = S=8, 1 = S=2.
_DEFAULT_CI = {Phy.LE_CODED_S8: 0, Phy.LE_CODED_S2: 1}


def _int8(dbm: float) -> int:
    if math.isnan(dbm):
        raise ValueError("signal power is NaN")
    if math.isinf(dbm):
        return 127 if dbm > 0 else -128
    return max(-128, min(127, int(round(dbm))))


@dataclasses.dataclass(frozen=True)
class LePhdr:
    """The 10-octet pseudo-header of ``LINKTYPE_BLUETOOTH_LE_LL_WITH_PHDR`` (256).

    Not a Core Specification structure: it is the tcpdump.org link-type definition that
    Wireshark's ``btle_rf`` dissector reads. ``rf_channel`` is the RF channel
    (2402 + 2·n MHz), not the channel index; ``signal_dbm`` and ``noise_dbm`` are int8.
    """

    rf_channel: int
    signal_dbm: int
    noise_dbm: int
    aa_offenses: int
    reference_access_address: int
    flags: int

    SIZE: ClassVar[int] = _PHDR.size

    def to_bytes(self) -> bytes:
        try:
            return _PHDR.pack(
                self.rf_channel,
                self.signal_dbm,
                self.noise_dbm,
                self.aa_offenses,
                self.reference_access_address,
                self.flags,
            )
        except struct.error as exc:
            raise ValueError(f"pseudo-header field out of range: {exc}") from exc

    @classmethod
    def from_bytes(cls, data: bytes) -> LePhdr:
        if len(data) < _PHDR.size:
            raise CaptureFormatError(f"LE pseudo-header needs {_PHDR.size} octets, got {len(data)}")
        return cls(*_PHDR.unpack_from(data, 0))

    @property
    def pdu_type(self) -> int:
        return (self.flags & _PDU_TYPE_MASK) >> _PDU_TYPE_SHIFT

    @property
    def phy_bits(self) -> int:
        return (self.flags & _PHY_MASK) >> _PHY_SHIFT


def build_air_packet(
    channel_index: int,
    phy: Phy,
    access_address: int,
    pdu: bytes,
    crc: bytes,
    *,
    rssi_dbm: float | None,
    crc_valid: bool = True,
    pdu_kind: int = PhdrPduType.ADV_OR_UNSPECIFIED,
    decrypted: bool = False,
    mic_valid: bool | None = None,
    aux_type: int | None = None,
    coding_indicator: int | None = None,
) -> bytes:
    """One link-type-256 frame: pseudo-header, AA, [coding indicator], PDU, CRC.

    The packet layout is Vol 6 Part B 2.1 (uncoded) and 2.2 (Coded PHY) without the
    preamble. Raises :class:`ValueError` for arguments that cannot be represented.
    """
    if not 0 <= access_address <= 0xFFFFFFFF:
        raise ValueError(f"access address {access_address:#x} is not 32 bits")
    if len(crc) != 3:
        raise ValueError(f"CRC must be 3 octets, got {len(crc)}")
    if len(pdu) < 2:
        raise ValueError("a PDU has at least its 2-octet header")
    if not 0 <= pdu_kind <= 6:
        raise ValueError(f"PHDR PDU type {pdu_kind} is not in 0..6")
    phy = Phy(phy)
    flags = PhdrFlag.DEWHITENED | PhdrFlag.CRC_CHECKED
    if crc_valid:
        flags |= PhdrFlag.CRC_VALID
    if rssi_dbm is not None:
        flags |= PhdrFlag.SIGNAL_POWER_VALID
        signal = _int8(rssi_dbm)
    else:
        signal = -128
    if decrypted:
        flags |= PhdrFlag.DECRYPTED
    value = int(flags) | (pdu_kind << _PDU_TYPE_SHIFT) | (_PHY_BITS[phy] << _PHY_SHIFT)
    if pdu_kind == PhdrPduType.AUX_ADV:
        if mic_valid is not None:
            raise ValueError("auxiliary advertising PDUs carry the aux type, not MIC flags")
        aux = AuxType.AUX_ADV_IND if aux_type is None else AuxType(aux_type)
        value |= aux << _AUX_TYPE_SHIFT
    else:
        if aux_type is not None:
            raise ValueError("aux_type is only meaningful with pdu_kind 1 (aux advertising)")
        if mic_valid is not None:
            value |= PhdrFlag.MIC_CHECKED | (PhdrFlag.MIC_VALID if mic_valid else 0)
    head = LePhdr(
        rf_channel=channels.rf_channel(channel_index),
        signal_dbm=signal,
        noise_dbm=-128,
        aa_offenses=0,
        reference_access_address=access_address,
        flags=value,
    ).to_bytes()
    ci = b""
    if phy.is_coded:
        if coding_indicator is None:
            coding_indicator = _DEFAULT_CI[phy]
        if not 0 <= coding_indicator <= 3:
            raise ValueError(f"coding indicator {coding_indicator} is not 2 bits")
        ci = bytes([coding_indicator])
    elif coding_indicator is not None:
        raise ValueError("a coding indicator exists only on the Coded PHY")
    return head + access_address.to_bytes(4, "little") + ci + bytes(pdu) + bytes(crc)


def _open_for_write(path: str | os.PathLike[str]) -> BinaryIO:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    return open(target, "wb")


class _CaptureFile:
    """A file written record by record, flushed after each one."""

    def __init__(self, path: str | os.PathLike[str], header: bytes, epoch_unix_ns: int) -> None:
        if epoch_unix_ns < 0:
            raise ValueError("epoch_unix_ns must not be negative")
        self.path = Path(path)
        self.epoch_unix_ns = epoch_unix_ns
        self._packets = 0
        self._file: BinaryIO | None = _open_for_write(path)
        self._emit(header)

    def _emit(self, data: bytes) -> None:
        if self._file is None:
            raise ValueError(f"capture {self.path} is closed")
        self._file.write(data)
        self._file.flush()

    def _unix_ns(self, t_ns: int) -> int:
        if t_ns < 0:
            raise ValueError(f"time {t_ns} ns is before the start of the simulation")
        return self.epoch_unix_ns + t_ns

    @property
    def packets_written(self) -> int:
        return self._packets

    @property
    def closed(self) -> bool:
        return self._file is None

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _pcap_header(linktype: int) -> bytes:
    return _PCAP_GLOBAL.pack(_PCAP_MAGIC_NS, 2, 4, 0, 0, _PCAP_SNAPLEN, linktype)


def _pcap_record(unix_ns: int, data: bytes) -> bytes:
    sec, nsec = divmod(unix_ns, 1_000_000_000)
    if sec > 0xFFFFFFFF:
        raise ValueError("timestamp beyond the pcap range (year 2106)")
    return _PCAP_RECORD.pack(sec, nsec, len(data), len(data)) + data


class AirCapture(_CaptureFile):
    """Every packet on the air, as pcap with link type 256 (see the module docstring)."""

    def __init__(
        self, path: str | os.PathLike[str], *, epoch_unix_ns: int = CAPTURE_EPOCH_UNIX_NS
    ) -> None:
        super().__init__(path, _pcap_header(LINKTYPE_BLUETOOTH_LE_LL_WITH_PHDR), epoch_unix_ns)

    def write(
        self,
        t_ns: int,
        channel_index: int,
        phy: Phy,
        access_address: int,
        pdu: bytes,
        crc: bytes,
        *,
        rssi_dbm: float | None,
        crc_valid: bool = True,
        pdu_kind: int = 0,
        decrypted: bool = False,
        mic_valid: bool | None = None,
        aux_type: int | None = None,
        coding_indicator: int | None = None,
    ) -> None:
        """Append one packet that started (its access address) at simulated ``t_ns``.

        ``pdu_kind`` is the PHDR PDU type (:class:`PhdrPduType`): 0 advertising or
        unspecified, 1 auxiliary advertising (then ``aux_type``), 2 data
        Central→Peripheral, 3 data Peripheral→Central. ``mic_valid`` None means "MIC
        not checked". For a decrypted packet pass the plaintext PDU (header Length
        without the MIC) with ``decrypted=True, mic_valid=True``.
        """
        frame = build_air_packet(
            channel_index,
            phy,
            access_address,
            pdu,
            crc,
            rssi_dbm=rssi_dbm,
            crc_valid=crc_valid,
            pdu_kind=pdu_kind,
            decrypted=decrypted,
            mic_valid=mic_valid,
            aux_type=aux_type,
            coding_indicator=coding_indicator,
        )
        self._emit(_pcap_record(self._unix_ns(t_ns), frame))
        self._packets += 1


class HciCapture(_CaptureFile):
    """One node's HCI packets as btsnoop (datalink 1002) or pcap (link type 201)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        format: Literal["btsnoop", "pcap"] = "btsnoop",
        *,
        epoch_unix_ns: int = CAPTURE_EPOCH_UNIX_NS,
    ) -> None:
        if format not in ("btsnoop", "pcap"):
            raise ValueError(f"unknown HCI capture format {format!r}")
        self.format = format
        if format == "btsnoop":
            header = _BTSNOOP_HEADER
        else:
            header = _pcap_header(LINKTYPE_BLUETOOTH_HCI_H4_WITH_PHDR)
        super().__init__(path, header, epoch_unix_ns)

    def write(self, t_ns: int, direction: HciDirection, h4_type: int, packet: bytes) -> None:
        """Append one HCI packet (without its H4 type octet) seen at simulated ``t_ns``."""
        if direction == "host->controller":
            received = 0
        elif direction == "controller->host":
            received = 1
        else:
            raise ValueError(f"unknown HCI direction {direction!r}")
        kind = H4Type(h4_type)
        data = bytes([kind]) + bytes(packet)
        unix_ns = self._unix_ns(t_ns)
        if self.format == "btsnoop":
            command_or_event = kind in (H4Type.COMMAND, H4Type.EVENT)
            flags = received | (2 if command_or_event else 0)
            stamp = unix_ns // 1_000 + _BTSNOOP_UNIX_OFFSET_US
            record = _BTSNOOP_RECORD.pack(len(data), len(data), flags, 0, stamp) + data
        else:
            record = _pcap_record(unix_ns, struct.pack(">I", received) + data)
        self._emit(record)
        self._packets += 1


@dataclasses.dataclass(frozen=True)
class AirRecord:
    """One packet read back from a link-type-256 capture."""

    t_ns: int
    channel_index: int
    rf_channel: int
    rssi_dbm: int | None
    flags: int
    phy: Phy
    pdu_kind: int
    access_address: int
    coding_indicator: int | None
    pdu: bytes
    crc: bytes

    @property
    def crc_checked(self) -> bool:
        return bool(self.flags & PhdrFlag.CRC_CHECKED)

    @property
    def crc_valid(self) -> bool:
        return bool(self.flags & PhdrFlag.CRC_VALID)

    @property
    def decrypted(self) -> bool:
        return bool(self.flags & PhdrFlag.DECRYPTED)

    @property
    def mic_valid(self) -> bool | None:
        """None when the MIC was not checked (and always for aux advertising)."""
        if self.pdu_kind == PhdrPduType.AUX_ADV or not self.flags & PhdrFlag.MIC_CHECKED:
            return None
        return bool(self.flags & PhdrFlag.MIC_VALID)

    @property
    def aux_type(self) -> int | None:
        if self.pdu_kind != PhdrPduType.AUX_ADV:
            return None
        return (self.flags & _AUX_TYPE_MASK) >> _AUX_TYPE_SHIFT


def _decode_air_frame(t_ns: int, frame: bytes) -> AirRecord:
    head = LePhdr.from_bytes(frame)
    offset = LePhdr.SIZE
    if len(frame) < offset + 4:
        raise CaptureFormatError("frame ends inside the access address")
    access_address = int.from_bytes(frame[offset : offset + 4], "little")
    offset += 4
    phy_bits = head.phy_bits
    coding_indicator: int | None = None
    if phy_bits == 0:
        phy = Phy.LE_1M
    elif phy_bits == 1:
        phy = Phy.LE_2M
    elif phy_bits == 2:
        if len(frame) <= offset:
            raise CaptureFormatError("Coded PHY frame ends before its coding indicator")
        coding_indicator = frame[offset]
        offset += 1
        if coding_indicator & 0x03 == 0:
            phy = Phy.LE_CODED_S8
        elif coding_indicator & 0x03 == 1:
            phy = Phy.LE_CODED_S2
        else:
            raise CaptureFormatError(f"reserved coding indicator {coding_indicator}")
    else:
        raise CaptureFormatError("reserved PHY value 3 in the pseudo-header")
    if len(frame) < offset + 2 + 3:
        raise CaptureFormatError("frame too short for a PDU header and a CRC")
    if head.rf_channel > 39:
        raise CaptureFormatError(f"RF channel {head.rf_channel} is not in 0..39")
    rssi = head.signal_dbm if head.flags & PhdrFlag.SIGNAL_POWER_VALID else None
    return AirRecord(
        t_ns=t_ns,
        channel_index=channels.channel_index(head.rf_channel),
        rf_channel=head.rf_channel,
        rssi_dbm=rssi,
        flags=head.flags,
        phy=phy,
        pdu_kind=head.pdu_type,
        access_address=access_address,
        coding_indicator=coding_indicator,
        pdu=frame[offset:-3],
        crc=frame[-3:],
    )


def read_air_pcap(
    path: str | os.PathLike[str],
    *,
    epoch_unix_ns: int = CAPTURE_EPOCH_UNIX_NS,
    strict: bool = True,
) -> list[AirRecord]:
    """Read a link-type-256 pcap (ours, or any µs/ns pcap of that link type).

    ``t_ns`` of each record is its timestamp minus ``epoch_unix_ns`` (it may be negative
    for a file written with another epoch). With ``strict=False`` a final record cut
    short (a writer killed mid-write) is dropped instead of raising
    :class:`CaptureFormatError`.
    """
    data = Path(path).read_bytes()
    if len(data) < _PCAP_GLOBAL.size:
        raise CaptureFormatError("file too short for a pcap header")
    endian = ""
    magic = 0
    for candidate in ("<", ">"):
        magic = struct.unpack_from(candidate + "I", data, 0)[0]
        if magic in (_PCAP_MAGIC_US, _PCAP_MAGIC_NS):
            endian = candidate
            break
    if not endian:
        raise CaptureFormatError("not a pcap file (bad magic number)")
    scale = 1 if magic == _PCAP_MAGIC_NS else 1_000
    glob = struct.Struct(endian + "IHHiIII")
    linktype = glob.unpack_from(data, 0)[6] & 0x0FFFFFFF
    if linktype != LINKTYPE_BLUETOOTH_LE_LL_WITH_PHDR:
        raise CaptureFormatError(f"link type {linktype}, expected 256")
    rec = struct.Struct(endian + "IIII")
    records: list[AirRecord] = []
    offset = glob.size
    while offset < len(data):
        if offset + rec.size > len(data):
            if strict:
                raise CaptureFormatError("file ends inside a record header")
            break
        sec, frac, incl_len, _orig_len = rec.unpack_from(data, offset)
        offset += rec.size
        if offset + incl_len > len(data):
            if strict:
                raise CaptureFormatError("file ends inside a packet")
            break
        frame = data[offset : offset + incl_len]
        offset += incl_len
        t_ns = sec * 1_000_000_000 + frac * scale - epoch_unix_ns
        records.append(_decode_air_frame(t_ns, frame))
    return records
