"""Exact on-air duration of LE packets, per PHY.

Theory of operation
-------------------
A packet on the LE Uncoded PHYs is preamble, access address, PDU and CRC, all sent at one
symbol rate (Vol 6 Part B 2.1): 1 preamble octet at 1 Msym/s (8 µs per octet), 2 preamble
octets at 2 Msym/s (4 µs per octet). On the LE Coded PHY (Vol 6 Part B 2.2) the preamble
(80 µs), the access address (256 µs), the coding indicator (16 µs) and TERM1 (24 µs) are
always sent with S=8 coding, 376 µs in all; the PDU and CRC then follow at 16 µs per
octet (S=2) or 64 µs per octet (S=8), closed by TERM2 (6 µs or 24 µs).

``pdu_len`` everywhere in this module is the PDU as the link layer sees it: header, payload
and MIC if any. Preamble, access address and CRC are added here. Results are integer
nanoseconds, so that no float ever enters a timing path.

Besides the total airtime the medium needs to know *where* each PDU bit sits in time (to
apply interference piecewise), so :func:`payload_start_ns` and :func:`bit_duration_ns`
describe that layout.
"""

from __future__ import annotations

import functools

from phy.types import Phy
from phy.units import US

#: CRC length in octets (Vol 6 Part B 2.1.4).
CRC_OCTETS = 3
#: Access address length in octets (Vol 6 Part B 2.1.2).
ACCESS_ADDRESS_OCTETS = 4

#: Coded PHY fixed fields (Vol 6 Part B 2.2): preamble, AA at S=8, CI, TERM1.
CODED_PREAMBLE_NS = 80 * US
CODED_ACCESS_ADDRESS_NS = 256 * US
CODED_CI_NS = 16 * US
CODED_TERM1_NS = 24 * US
#: Everything before the first PDU bit of an LE Coded packet: 376 µs.
CODED_HEADER_NS = CODED_PREAMBLE_NS + CODED_ACCESS_ADDRESS_NS + CODED_CI_NS + CODED_TERM1_NS

# Per PHY: (ns from packet start to first PDU bit, ns per PDU/CRC bit, ns of trailer).
_LAYOUT: dict[Phy, tuple[int, int, int]] = {
    Phy.LE_1M: ((1 + ACCESS_ADDRESS_OCTETS) * 8 * US, 1 * US, 0),
    Phy.LE_2M: ((2 + ACCESS_ADDRESS_OCTETS) * 4 * US, US // 2, 0),
    Phy.LE_CODED_S2: (CODED_HEADER_NS, 2 * US, 6 * US),
    Phy.LE_CODED_S8: (CODED_HEADER_NS, 8 * US, 24 * US),
}

_SYNC: dict[Phy, int] = {
    Phy.LE_1M: (1 + ACCESS_ADDRESS_OCTETS) * 8 * US,
    Phy.LE_2M: (2 + ACCESS_ADDRESS_OCTETS) * 4 * US,
    Phy.LE_CODED_S2: CODED_PREAMBLE_NS + CODED_ACCESS_ADDRESS_NS,
    Phy.LE_CODED_S8: CODED_PREAMBLE_NS + CODED_ACCESS_ADDRESS_NS,
}


def _layout(phy: Phy) -> tuple[int, int, int]:
    layout = _LAYOUT.get(phy)  # Phy is an IntEnum: its members and their ints hash alike
    if layout is None:
        raise ValueError(f"unknown PHY {phy!r}")
    return layout


@functools.lru_cache(maxsize=4096)  # a handful of (PHY, length) pairs recur millions of times
def airtime_ns(phy: Phy, pdu_len: int) -> int:
    """Duration in ns of a packet carrying a ``pdu_len``-octet PDU (Vol 6 Part B 2.1, 2.2).

    ``pdu_len`` counts header, payload and MIC; preamble, access address, CRC (and for
    the coded PHY the CI, TERM1 and TERM2 fields) are added here. Examples: an empty
    PDU (2 octets) takes 80 µs on LE 1M, 44 µs on LE 2M, 462 µs with S=2, 720 µs with S=8.
    """
    if pdu_len < 0:
        raise ValueError(f"pdu_len must be >= 0, got {pdu_len}")
    start, bit_ns, trailer = _layout(phy)
    return start + (pdu_len + CRC_OCTETS) * 8 * bit_ns + trailer


def preamble_and_aa_ns(phy: Phy) -> int:
    """Time from packet start to the end of the access address: the sync instant.

    LE 1M 40 µs, LE 2M 24 µs, LE Coded 336 µs (80 µs preamble + 256 µs access address).
    """
    try:
        return _SYNC[Phy(phy)]
    except (KeyError, ValueError):
        raise ValueError(f"unknown PHY {phy!r}") from None


def payload_start_ns(phy: Phy) -> int:
    """Offset from packet start to the first PDU bit (after CI and TERM1 on LE Coded)."""
    return _layout(phy)[0]


def bit_duration_ns(phy: Phy) -> int:
    """Duration of one PDU/CRC bit: 1000 ns (1M), 500 ns (2M), 2000 ns (S2), 8000 ns (S8)."""
    return _layout(phy)[1]
