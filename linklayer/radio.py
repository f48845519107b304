"""What a controller asks of its radio, and what the radio gives back.

The controller is sans-IO: it never touches the medium. It emits radio operations
(:class:`RadioTx`, :class:`RadioRx`, :class:`RadioIdle`) that its driver carries out on
the medium at the requested instants, and the driver feeds back :class:`RadioPacket`
when a packet it synchronised to has ended, and calls ``radio_synced`` when the radio
locked onto a preamble (the "address matched" moment of a real radio).

One radio per controller: opening a receive window replaces any open one, and a
transmission closes the window that is open (a window armed to open after the packet, for
T_IFS, stays). Radio operations are immutable named tuples: a busy world makes millions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from phy.types import Phy

#: Access address of every advertising channel PDU (Vol 6 Part B 2.1.2).
ADVERTISING_ACCESS_ADDRESS = 0x8E89BED6
#: CRC initialisation value on the primary and secondary advertising channels.
ADVERTISING_CRC_INIT = 0x555555


@dataclass(frozen=True, slots=True)
class AirInfo:
    """Annotations of a transmission for the air capture (the medium ignores them).

    ``pdu_kind`` is the LE LL pseudo-header PDU type (0 advertising, 1 auxiliary
    advertising, 2 data central->peripheral, 3 data peripheral->central); ``aux_type``
    which auxiliary PDU (0 AUX_ADV_IND, 1 AUX_CHAIN_IND, 2 AUX_SYNC_IND, 3 AUX_SCAN_RSP);
    ``plaintext`` the decrypted PDU of an encrypted packet (Length without the MIC);
    ``crc_init`` the CRCInit the sender used.
    """

    pdu_kind: int = 0
    aux_type: int | None = None
    plaintext: bytes | None = None
    mic_valid: bool | None = None
    crc_init: int | None = None


class RadioTx(NamedTuple):
    """Put a packet on the air at ``start_ns`` (>= now).

    ``pdu`` is the link-layer PDU as it goes on air (header, payload and MIC if any),
    without preamble, access address or CRC; ``crc`` is its 3 CRC octets in air order.
    ``capture`` carries annotations for the air capture (for example the plaintext of
    an encrypted PDU and its direction); the medium ignores it.
    """

    start_ns: int
    channel: int
    phy: Phy
    access_address: int
    pdu: bytes
    crc: bytes
    tx_power_dbm: float
    capture: Any = None


class RadioRx(NamedTuple):
    """Listen: lock onto the first packet whose preamble starts in [start_ns, end_ns].

    A packet locked onto is received whole even if it ends after ``end_ns``. For the
    coded PHY either coding (S=2 or S=8) is accepted, as a real receiver does. An ordinary
    window is used up by the packet it locks onto; a ``persistent`` one stays open.
    """

    start_ns: int
    end_ns: int
    channel: int
    phy: Phy
    access_address: int
    #: Keep listening after a packet (until ``end_ns``), as a scanner does.
    persistent: bool = False


@dataclass(frozen=True, slots=True)
class RadioIdle:
    """Close any open receive window now."""


RadioOp = RadioTx | RadioRx | RadioIdle


class RadioPacket(NamedTuple):
    """A packet the radio received, delivered at its end instant.

    ``pdu`` and ``crc`` are the bytes as received, with any bit errors the channel put
    into them; ``bit_errors`` is how many (0 means the bytes are exactly those sent).
    The link layer checks the CRC itself with its CRCInit.
    """

    start_ns: int
    end_ns: int
    channel: int
    phy: Phy
    access_address: int
    pdu: bytes
    crc: bytes
    rssi_dbm: float
    bit_errors: int = 0
