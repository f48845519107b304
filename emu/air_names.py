"""Naming the packets on the air: which PDU each transmission of a run was.

Theory of operation
-------------------
An ``air`` expectation counts packets by spec name (``ATT_HANDLE_VALUE_NTF``,
``LL_VERSION_IND``, ``AUX_CHAIN_IND``...; the vocabulary is
:data:`emu.scenario_defaults.AIR_PDU_NAMES`). The bytes alone do not always say which
PDU a packet is, so an :class:`AirClassifier` is fed every :class:`AirPacket` of a run in
start order and keeps the little context an ideal sniffer needs:

* **Advertising channel PDUs** (advertising access address 0x8E89BED6): on a primary
  channel (37-39, PHDR PDU type 0) the 4-bit PDU type gives the name (Vol 6 Part B 2.3);
  type 0b0111 there is ADV_EXT_IND. On a secondary channel (PHDR PDU type 1, or the
  advertising access address on channels 0-36) 0b0011 is AUX_SCAN_REQ, 0b0101
  AUX_CONNECT_REQ and 0b1000 AUX_CONNECT_RSP.
* **Type 0b0111 on a secondary channel** (the AuxPtr rule). The structure is shared by
  AUX_ADV_IND, AUX_SCAN_RSP, AUX_CHAIN_IND and AUX_SYNC_IND (2.3.4), so, in this order:

  1. an AUX_SCAN_REQ on the same channel ended at most :data:`SCAN_RSP_WINDOW_NS`
     before it started and named this packet's AdvA: **AUX_SCAN_RSP**;
  2. an earlier packet of the same sender on the same access address carried an AuxPtr
     naming this channel and a start time within the pointer's window (offset, plus one
     offset unit, plus the clock accuracy the pointer declares, plus
     :data:`POINTER_SLACK_NS`): **AUX_ADV_IND** when the pointer was in an ADV_EXT_IND,
     **AUX_CHAIN_IND** otherwise (pointers whose ADI equals the packet's are tried
     first, then the earliest);
  3. its access address is not the advertising one (a periodic advertising train, whose
     address a SyncInfo announced or the PHDR PDU type 1 says): **AUX_SYNC_IND**;
  4. no context (the sniffer missed the pointer): AdvA or ADI present gives
     **AUX_ADV_IND** (an AUX_CHAIN_IND never carries AdvA), neither gives
     **AUX_CHAIN_IND** (an AUX_ADV_IND always carries ADI).

* **Data channel PDUs** (any other access address): the LLID and Length of the header
  (2.4) decide. LLID 0b01 with Length 0 is ``LL_EMPTY``; LLID 0b01 with a payload is a
  continuation fragment, ``LL_DATA``; LLID 0b11 is an LL Control PDU named by its
  opcode (2.4.2); LLID 0b10 is the start of an L2CAP PDU whose basic header (Vol 3 Part A
  3.1) gives the CID: 0x0004 ATT (named by its opcode, Vol 3 Part F 3.4), 0x0006 SMP
  (named by its code, Vol 3 Part H 3.3); other channels, and start fragments too short
  to hold the header and an opcode, are ``LL_DATA``. Every packet carrying L2CAP
  (LLID 0b01 or 0b10 with a payload) also counts as ``LL_DATA``
  (:meth:`AirName.counts_as`).
* **Retransmissions.** Per connection (access address) and direction (PHDR PDU type
  2 / 3) the classifier remembers the last SN (2.4, 4.5.9): a packet with the same SN
  as the previous one of that direction is the same PDU sent again and is flagged
  ``retransmission`` (it keeps its name). Packets of unknown direction (PHDR type 0 on a
  data channel) are never flagged. A CONNECT_IND / AUX_CONNECT_REQ naming an access
  address forgets what was known about it.
* **Encryption.** Records normally hold the plaintext (as the pcap does). If they hold
  ciphertext, the classifier notices it after a plaintext LL_START_ENC_REQ: the next
  two LL Control PDUs of Length 5 (opcode + MIC) are the LL_START_ENC_RSPs; if their
  first octet is not the plaintext opcode 0x06 they are encrypted, and from then on that connection's control PDUs are unnamed (None) and its L2CAP
  PDUs are just ``LL_DATA``. A pause of encryption is not seen through ciphertext.

Packets that are malformed (a header Length that disagrees with the octets, a reserved
type or LLID, an advertising payload of the wrong size) or whose PDU has no name in
the vocabulary get the name None; classification never raises. Packets with a bad CRC
(``crc_ok`` False: injected garbage) are named but update no context and count for
nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, NamedTuple

from emu.records import AirPacket
from emu.scenario_defaults import ADVERTISING_ACCESS_ADDRESS, AIR_PDU_NAMES
from host.att_constants import AttOpcode
from host.smp_pdu import SmpCode
from linklayer.control_pdu import CONTROL_PDU_CLASSES
from linklayer.pdu import (
    CONNECT_IND,
    AdvPduType,
    ExtendedAdvPdu,
    decode_adv_pdu,
)

__all__ = [
    "AirName",
    "AirClassifier",
    "pdu_name",
    "classify_packets",
    "count_pdus",
    "is_primary_advertising",
    "is_connection_packet",
    "SCAN_RSP_WINDOW_NS",
    "POINTER_SLACK_NS",
    "PHDR_ADV",
    "PHDR_AUX_ADV",
    "PHDR_DATA_C_TO_P",
    "PHDR_DATA_P_TO_C",
]

#: LE LL pseudo-header PDU types (``AirPacket.pdu_kind``), ../shared/reference/wireshark.md.
PHDR_ADV = 0
PHDR_AUX_ADV = 1
PHDR_DATA_C_TO_P = 2
PHDR_DATA_P_TO_C = 3

#: An AUX_SCAN_RSP starts T_IFS (150 µs) after its AUX_SCAN_REQ ends; accept up to this.
SCAN_RSP_WINDOW_NS = 500_000
#: Extra tolerance around an AuxPtr's window (packet start jitter, rounding).
POINTER_SLACK_NS = 50_000
_L2CAP_CID_ATT = 0x0004
_L2CAP_CID_SMP = 0x0006
_LL_START_ENC_REQ = 0x05
_LL_START_ENC_RSP = 0x06
_MIC_SIZE = 4
_PRIMARY_CHANNELS = (37, 38, 39)

_LEGACY_NAMES: dict[int, str] = {
    AdvPduType.ADV_IND: "ADV_IND",
    AdvPduType.ADV_DIRECT_IND: "ADV_DIRECT_IND",
    AdvPduType.ADV_NONCONN_IND: "ADV_NONCONN_IND",
    AdvPduType.SCAN_REQ: "SCAN_REQ",
    AdvPduType.SCAN_RSP: "SCAN_RSP",
    AdvPduType.CONNECT_IND: "CONNECT_IND",
    AdvPduType.ADV_SCAN_IND: "ADV_SCAN_IND",
    AdvPduType.ADV_EXT_IND: "ADV_EXT_IND",
}
_SECONDARY_NAMES: dict[int, str] = {
    AdvPduType.AUX_SCAN_REQ: "AUX_SCAN_REQ",
    AdvPduType.AUX_CONNECT_REQ: "AUX_CONNECT_REQ",
    AdvPduType.AUX_CONNECT_RSP: "AUX_CONNECT_RSP",
}


def _vocabulary(names: Iterable[tuple[int, str]]) -> dict[int, str]:
    return {code: name for code, name in names if name in AIR_PDU_NAMES}


_CONTROL_NAMES = _vocabulary((op, cls.__name__) for op, cls in CONTROL_PDU_CLASSES.items())
_ATT_NAMES = _vocabulary((int(op), op.name) for op in AttOpcode)
_SMP_NAMES = _vocabulary((int(code), f"SMP_{code.name}") for code in SmpCode)


class AirName(NamedTuple):
    """What one transmission was.

    ``name`` is a name of :data:`~emu.scenario_defaults.AIR_PDU_NAMES` or None
    (malformed, encrypted control, or a PDU outside the vocabulary); ``l2cap`` says the
    packet carries L2CAP and so also counts as ``LL_DATA``; ``retransmission`` that it
    repeats the previous PDU of its connection and direction; ``crc_ok`` is the packet's.
    """

    name: str | None
    l2cap: bool = False
    retransmission: bool = False
    crc_ok: bool = True

    def counts_as(self, pdu: str) -> bool:
        """Whether an ``air`` expectation for ``pdu`` counts this packet: a good CRC, not
        a retransmission, and ``pdu`` is its name (or ``LL_DATA`` and it carries L2CAP)."""
        if not self.crc_ok or self.retransmission:
            return False
        return pdu == self.name or (pdu == "LL_DATA" and self.l2cap)


@dataclass
class _Pointer:
    """An AuxPtr seen on air: where and when the packet it announces will be."""

    node: str
    access_address: int
    channel: int
    earliest_ns: int
    latest_ns: int
    target: str
    adi: bytes | None


@dataclass
class _ScanRequest:
    node: str
    channel: int
    end_ns: int
    adv_a: bytes


@dataclass
class _Link:
    """What is known of one connection (by access address)."""

    last_sn: dict[int, int] = field(default_factory=dict)
    start_enc_rsps_due: int = 0
    ciphertext: bool = False


def is_primary_advertising(packet: AirPacket) -> bool:
    """A packet on a primary advertising channel (37-39) with the advertising address."""
    return (
        packet.access_address == ADVERTISING_ACCESS_ADDRESS
        and packet.channel in _PRIMARY_CHANNELS
        and packet.pdu_kind != PHDR_AUX_ADV
    )


def is_connection_packet(packet: AirPacket) -> bool:
    """A data channel packet of a connection (PHDR type 2/3, or 0 off the adv address)."""
    if packet.pdu_kind in (PHDR_DATA_C_TO_P, PHDR_DATA_P_TO_C):
        return True
    return packet.pdu_kind == PHDR_ADV and packet.access_address != ADVERTISING_ACCESS_ADDRESS


class AirClassifier:
    """The reassembly state of :func:`pdu_name`: feed it a run's packets in start order."""

    def __init__(self) -> None:
        self._pointers: list[_Pointer] = []
        self._scan_requests: list[_ScanRequest] = []
        self._periodic: set[int] = set()
        self._links: dict[int, _Link] = {}

    # -- public ---------------------------------------------------------------------

    def classify(self, packet: AirPacket) -> AirName:
        """Name ``packet`` and update the context with it (see the module docstring)."""
        pdu = bytes(packet.pdu)
        aa = packet.access_address
        if aa == ADVERTISING_ACCESS_ADDRESS:
            secondary = packet.pdu_kind == PHDR_AUX_ADV or packet.channel not in _PRIMARY_CHANNELS
            name = self._advertising(packet, pdu, secondary)
            return AirName(name, crc_ok=packet.crc_ok)
        if packet.pdu_kind == PHDR_AUX_ADV or (
            aa in self._periodic and packet.pdu_kind not in (PHDR_DATA_C_TO_P, PHDR_DATA_P_TO_C)
        ):
            return AirName(self._advertising(packet, pdu, True), crc_ok=packet.crc_ok)
        return self._data(packet, pdu)

    # -- advertising ----------------------------------------------------------------

    def _advertising(self, packet: AirPacket, pdu: bytes, secondary: bool) -> str | None:
        self._expire(packet.start_ns)
        try:
            decoded = decode_adv_pdu(pdu, secondary=secondary)
        except ValueError:
            return None
        pdu_type = pdu[0] & 0x0F
        if not secondary:
            name = _LEGACY_NAMES.get(pdu_type)
        elif pdu_type == AdvPduType.AUX_ADV_IND:
            assert isinstance(decoded, ExtendedAdvPdu)
            name = self._aux_name(packet, decoded)
        else:
            name = _SECONDARY_NAMES.get(pdu_type)
        if packet.crc_ok:
            self._learn(packet, decoded, name)
        return name

    def _aux_name(self, packet: AirPacket, pdu: ExtendedAdvPdu) -> str:
        adv_a = pdu.adv_a.value if pdu.adv_a is not None else None
        for request in self._scan_requests:
            if (
                request.channel == packet.channel
                and request.adv_a == adv_a
                and 0 <= packet.start_ns - request.end_ns <= SCAN_RSP_WINDOW_NS
            ):
                if packet.crc_ok:
                    self._scan_requests.remove(request)
                return "AUX_SCAN_RSP"
        adi = pdu.adi.to_bytes() if pdu.adi is not None else None
        candidates = [
            p
            for p in self._pointers
            if p.node == packet.node
            and p.access_address == packet.access_address
            and p.channel == packet.channel
            and p.earliest_ns <= packet.start_ns <= p.latest_ns
        ]
        if candidates:
            candidates.sort(key=lambda p: (p.adi != adi, p.earliest_ns))
            chosen = candidates[0]
            if packet.crc_ok:
                self._pointers.remove(chosen)
            return chosen.target
        if packet.access_address != ADVERTISING_ACCESS_ADDRESS:
            return "AUX_SYNC_IND"
        if pdu.adv_a is not None or pdu.adi is not None:
            return "AUX_ADV_IND"
        return "AUX_CHAIN_IND"

    def _learn(self, packet: AirPacket, decoded: object, name: str | None) -> None:
        if isinstance(decoded, CONNECT_IND):  # also AUX_CONNECT_REQ
            self._links.pop(decoded.ll_data.aa, None)
            return
        if name == "AUX_SCAN_REQ":
            adv_a = _adv_a_octets(decoded)
            if adv_a is not None:
                self._scan_requests.append(
                    _ScanRequest(packet.node, packet.channel, packet.end_ns, adv_a)
                )
            return
        if not isinstance(decoded, ExtendedAdvPdu):
            return
        if decoded.sync_info is not None:
            self._periodic.add(decoded.sync_info.aa)
        ptr = decoded.aux_ptr
        if ptr is None:
            return
        offset = ptr.offset_ns()
        ppm = 50 if ptr.ca else 500
        drift = offset * ppm // 1_000_000
        start = packet.start_ns + offset
        self._pointers.append(
            _Pointer(
                node=packet.node,
                access_address=packet.access_address,
                channel=ptr.channel_index,
                earliest_ns=start - drift - POINTER_SLACK_NS,
                latest_ns=start + ptr.unit_ns() + drift + POINTER_SLACK_NS,
                target="AUX_ADV_IND" if name == "ADV_EXT_IND" else "AUX_CHAIN_IND",
                adi=decoded.adi.to_bytes() if decoded.adi is not None else None,
            )
        )

    def _expire(self, now_ns: int) -> None:
        if self._pointers:
            self._pointers = [p for p in self._pointers if p.latest_ns >= now_ns]
        if self._scan_requests:
            self._scan_requests = [
                r for r in self._scan_requests if now_ns - r.end_ns <= SCAN_RSP_WINDOW_NS
            ]

    # -- data channel ---------------------------------------------------------------

    def _data(self, packet: AirPacket, pdu: bytes) -> AirName:
        crc_ok = packet.crc_ok
        if len(pdu) < 2:
            return AirName(None, crc_ok=crc_ok)
        llid = pdu[0] & 0x03
        sn = (pdu[0] >> 3) & 1
        header_size = 3 if pdu[0] & 0x20 else 2
        length = pdu[1]
        payload = pdu[header_size:]
        if len(payload) != length or llid == 0:
            return AirName(None, crc_ok=crc_ok)
        link = self._links.get(packet.access_address)
        if link is None:
            link = self._links[packet.access_address] = _Link()
        retransmission = False
        direction = packet.pdu_kind
        if crc_ok and direction in (PHDR_DATA_C_TO_P, PHDR_DATA_P_TO_C):
            retransmission = link.last_sn.get(direction) == sn
            link.last_sn[direction] = sn
        if llid == 0b01:
            if length == 0:
                return AirName("LL_EMPTY", False, retransmission, crc_ok)
            return AirName("LL_DATA", True, retransmission, crc_ok)
        if llid == 0b10:
            if length == 0:
                return AirName(None, False, retransmission, crc_ok)
            return AirName(self._l2cap_name(link, payload), True, retransmission, crc_ok)
        name = self._control_name(link, payload, crc_ok and not retransmission)
        return AirName(name, False, retransmission, crc_ok)

    @staticmethod
    def _l2cap_name(link: _Link, payload: bytes) -> str:
        if link.ciphertext or len(payload) < 5:
            return "LL_DATA"
        cid = int.from_bytes(payload[2:4], "little")
        if cid == _L2CAP_CID_ATT:
            return _ATT_NAMES.get(payload[4], "LL_DATA")
        if cid == _L2CAP_CID_SMP:
            return _SMP_NAMES.get(payload[4], "LL_DATA")
        return "LL_DATA"

    @staticmethod
    def _control_name(link: _Link, payload: bytes, learn: bool) -> str | None:
        if not payload:
            return None
        if link.start_enc_rsps_due and len(payload) == 1 + _MIC_SIZE:
            # LL_START_ENC_RSP + MIC: plaintext with its MIC kept, or ciphertext.
            if learn:
                link.start_enc_rsps_due -= 1
                link.ciphertext = link.ciphertext or payload[0] != _LL_START_ENC_RSP
            return "LL_START_ENC_RSP"
        if link.ciphertext:
            return None
        opcode = payload[0]
        if learn and opcode == _LL_START_ENC_REQ and len(payload) == 1:
            link.start_enc_rsps_due = 2
        elif learn and opcode == _LL_START_ENC_RSP and link.start_enc_rsps_due:
            link.start_enc_rsps_due -= 1
        return _CONTROL_NAMES.get(opcode)


def _adv_a_octets(decoded: object) -> bytes | None:
    """The AdvA octets of a decoded (AUX_)SCAN_REQ or extended PDU, if it has one."""
    adv_a = getattr(decoded, "adv_a", None)
    value = getattr(adv_a, "value", None)
    return value if isinstance(value, bytes) else None


def pdu_name(packet: AirPacket, state: AirClassifier) -> str | None:
    """The spec name of ``packet`` (a name of ``AIR_PDU_NAMES``) or None; ``state`` is the
    run's :class:`AirClassifier`, fed every packet in start order."""
    return state.classify(packet).name


def classify_packets(packets: Iterable[AirPacket]) -> list[AirName]:
    """Classify a run's packets (in start order) with a fresh :class:`AirClassifier`."""
    state = AirClassifier()
    return [state.classify(packet) for packet in packets]


def count_pdus(packets: Iterable[AirPacket]) -> Counter[str]:
    """How many packets count as each name (as ``air`` expectations count them;
    ``LL_DATA`` includes every packet carrying L2CAP)."""
    counts: Counter[str] = Counter()
    for name in classify_packets(packets):
        if name.name is not None and name.counts_as(name.name):
            counts[name.name] += 1
        if name.l2cap and name.name != "LL_DATA" and name.counts_as("LL_DATA"):
            counts["LL_DATA"] += 1
    return counts
