"""Taps that connect a running world to capture files.

:func:`attach_air_capture` writes every transmission on the medium to a pcap with link
type 256, as an ideal sniffer at a chosen position sees it: RF channel, RSSI at the
sniffer, PHY, the access address and the bytes with their CRC. The CRC flags say whether
the transmitted CRC is right for the packet (it is wrong only for injected garbage).
Data-channel packets carry their direction (PHDR PDU type 2/3) and, when the link layer
encrypted them, are written as decrypted plaintext with the Decrypted and MIC flags set,
unless ciphertext was asked for (``../shared/reference/wireshark.md`` §7). The
annotations come from the sender's :class:`linklayer.radio.AirInfo`.

:func:`attach_hci_capture` writes one btsnoop (or pcap 201) file per node with both
directions of its HCI traffic.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from linklayer.crypto import crc24_bytes
from linklayer.radio import ADVERTISING_ACCESS_ADDRESS, ADVERTISING_CRC_INIT, RadioTx
from phy.medium import Transmission

from .capture import AirCapture, HciCapture, PhdrPduType
from .world import ControllerDriver, World


def _crc_valid(tx: Transmission, info: Any) -> bool:
    """Whether the CRC on air is right for the PDU and the sender's CRCInit."""
    crc_init = getattr(info, "crc_init", None)
    if crc_init is None:
        if tx.access_address != ADVERTISING_ACCESS_ADDRESS:
            return True  # a data packet whose CRCInit the sender did not annotate
        crc_init = ADVERTISING_CRC_INIT
    return crc24_bytes(crc_init, tx.pdu) == tx.crc


class AirTap:
    """Writes the world's transmissions to an :class:`AirCapture`."""

    def __init__(
        self,
        world: World,
        capture: AirCapture,
        sniffer_position: tuple[float, ...] = (0.0, 0.0),
        ciphertext: bool = False,
    ) -> None:
        self.world = world
        self.capture = capture
        self.sniffer_position = sniffer_position
        self.ciphertext = ciphertext

    def __call__(self, tx: Transmission, op: RadioTx) -> None:
        info: Any = op.capture
        pdu = tx.pdu
        decrypted = False
        mic_valid: bool | None = None
        aux_type: int | None = None
        if tx.access_address == ADVERTISING_ACCESS_ADDRESS:
            kind = PhdrPduType.AUX_ADV if tx.channel < 37 else PhdrPduType.ADV_OR_UNSPECIFIED
            if kind is PhdrPduType.AUX_ADV:
                aux_type = getattr(info, "aux_type", None)
                aux_type = 0 if aux_type is None else aux_type
        else:
            kind = PhdrPduType(int(getattr(info, "pdu_kind", 0)))
            plaintext = getattr(info, "plaintext", None)
            if plaintext is not None and not self.ciphertext:
                pdu = plaintext
                decrypted = True
                mic_valid = bool(getattr(info, "mic_valid", True))
        rssi = self.world.medium.rssi_at(tx, self.sniffer_position)  # type: ignore[arg-type]
        self.capture.write(
            tx.start_ns,
            tx.channel,
            tx.phy,
            tx.access_address,
            pdu,
            tx.crc,
            rssi_dbm=rssi,
            crc_valid=_crc_valid(tx, info),
            pdu_kind=int(kind),
            decrypted=decrypted,
            mic_valid=mic_valid,
            aux_type=aux_type,
        )


def attach_air_capture(
    world: World,
    path: str | os.PathLike[str],
    *,
    sniffer_position: tuple[float, ...] = (0.0, 0.0),
    ciphertext: bool = False,
) -> AirCapture:
    """Capture every transmission of ``world`` into ``path`` (pcap, link type 256)."""
    capture = AirCapture(path)
    world.air_taps.append(AirTap(world, capture, sniffer_position, ciphertext))
    return capture


def attach_hci_capture(
    driver: ControllerDriver,
    path: str | os.PathLike[str],
    fmt: Literal["btsnoop", "pcap"] = "btsnoop",
) -> HciCapture:
    """Capture both directions of one node's HCI traffic (btsnoop 1002 or pcap 201)."""
    capture = HciCapture(path, format=fmt)

    def tap(t_ns: int, direction: str, h4_type: int, packet: bytes) -> None:
        capture.write(t_ns, direction, h4_type, packet)  # type: ignore[arg-type]

    driver.hci_taps.append(tap)
    return capture
