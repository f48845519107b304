"""Connection timing arithmetic: clocks, anchors, window widening, access addresses.

Theory of operation
-------------------
Pure functions and small value objects used by :mod:`linklayer.connection` and
:mod:`linklayer.initiator`; nothing here keeps state between calls.

*Clocks.* Every node's sleep clock runs at a fixed error drawn once within its declared
sleep clock accuracy (SCA), in parts per billion (:func:`draw_clock_error_ppb`). A node
that waits a nominal duration ``d`` really waits ``d·(1 + ppb/1e9)``
(:func:`scaled`). The Central times its anchor points with its clock; the Peripheral
predicts them with its own, and opens its receive window early and closes it late by
the *window widening* of Vol 6 Part B 4.5.7::

    windowWidening = ((centralSCA + peripheralSCA) / 1 000 000) · timeSinceLastAnchor + 32 µs

where both SCAs are the *declared* worst cases (the CONNECT_IND SCA field for the
Central, the Peripheral's own configuration), so the true offset always falls inside.

*Anchors.* :class:`AnchorClock` gives the nominal-to-true mapping of one role's view:
``time(c) = base + scaled(offset + (c − counter)·interval)``. A connection update
rebases it at the instant (offset grows by the old intervals and WinOffset).

*Access addresses* follow the rules of Vol 6 Part B 2.1.2 (:func:`valid_access_address`,
:func:`new_access_address`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from phy.airtime import airtime_ns
from phy.types import Phy, Rng
from phy.units import T_IFS, UNIT_1250US, US

from .radio import ADVERTISING_ACCESS_ADDRESS

#: SCA field value -> the upper bound of its range in ppm (Vol 6 Part B 2.3.3.1, Table 2.19).
SCA_PPM: tuple[int, ...] = (500, 250, 150, 100, 75, 50, 30, 20)
#: Fixed part of the window widening (Vol 6 Part B 4.5.7): 16 µs each side's jitter.
WINDOW_WIDENING_FIXED_NS = 32 * US
#: transmitWindowDelay (Vol 6 Part B 4.5.3): after CONNECT_IND, after AUX_CONNECT_REQ
#: on LE 1M/2M, on LE Coded.
TW_DELAY_CONNECT_IND_NS = UNIT_1250US
TW_DELAY_AUX_NS = 2 * UNIT_1250US
TW_DELAY_AUX_CODED_NS = 3 * UNIT_1250US
#: Receive window tolerance around T_IFS (Vol 6 Part B 4.1.1: ±2 µs).
T_IFS_TOLERANCE_NS = 2 * US
#: connMaxTxTime/connMaxRxTime floor on LE Coded (Vol 6 Part B 4.5.10).
CODED_MIN_TIME_US = 2704
#: The legacy 27-octet, 328 µs data channel PDU (Vol 6 Part B 4.5.10).
DEFAULT_OCTETS = 27
DEFAULT_TIME_US = 328
MAX_OCTETS = 251
MAX_TIME_US = 17040
_PPB = 1_000_000_000


def sca_field(ppm: int) -> int:
    """The SCA field value (0..7) whose range covers an accuracy of ``ppm``."""
    for value in range(7, -1, -1):
        if ppm <= SCA_PPM[value]:
            return value
    return 0


def draw_clock_error_ppb(rng: Rng, sca_ppm: int) -> int:
    """A node's fixed clock error in ppb, uniform within ±``sca_ppm``."""
    bound = max(0, sca_ppm) * 1000
    return rng.randint(-bound, bound)


def scaled(nominal_ns: int, ppb: int) -> int:
    """How long ``nominal_ns`` of a clock with error ``ppb`` really lasts."""
    return nominal_ns + (nominal_ns * ppb) // _PPB


def window_widening(elapsed_ns: int, central_sca_ppm: int, peripheral_sca_ppm: int,
                    interval_ns: int) -> int:
    """Vol 6 Part B 4.5.7, capped below half the interval minus T_IFS."""
    ww = ((central_sca_ppm + peripheral_sca_ppm) * max(0, elapsed_ns)) // 1_000_000
    ww += WINDOW_WIDENING_FIXED_NS
    cap = interval_ns // 2 - T_IFS
    return min(ww, cap) if cap > 0 else ww


def transmit_window_delay(aux: bool, phy: Phy) -> int:
    """transmitWindowDelay for a CONNECT_IND (``aux`` False) or AUX_CONNECT_REQ."""
    if not aux:
        return TW_DELAY_CONNECT_IND_NS
    return TW_DELAY_AUX_CODED_NS if phy.is_coded else TW_DELAY_AUX_NS


@dataclass
class AnchorClock:
    """One role's view of the anchor points: ``time(c)`` for event counter ``c``.

    ``base`` is a true instant (a CONNECT_IND end or an observed anchor); the offset
    and the intervals after it are nominal and run on a clock with error ``ppb``.
    """

    base: int
    counter: int
    offset: int
    interval: int
    ppb: int

    def nominal(self, c: int) -> int:
        return self.offset + (c - self.counter) * self.interval

    def time(self, c: int) -> int:
        return self.base + scaled(self.nominal(c), self.ppb)

    def rebase_update(self, instant: int, win_offset_ns: int, new_interval: int) -> None:
        """A connection update: event ``instant`` is WinOffset after its old anchor."""
        self.offset = self.nominal(instant) + win_offset_ns
        self.counter = instant
        self.interval = new_interval

    def observed(self, c: int, t: int) -> None:
        """Event ``c`` was seen to start at ``t`` (the Peripheral's resynchronisation)."""
        self.base = t
        self.counter = c
        self.offset = 0


# -- access addresses (Vol 6 Part B 2.1.2) ------------------------------------------------


def _transitions(value: int, bits: int) -> int:
    return bin((value ^ (value >> 1)) & ((1 << (bits - 1)) - 1)).count("1")


def valid_access_address(aa: int) -> bool:
    """Whether ``aa`` may be a connection's access address (Vol 6 Part B 2.1.2)."""
    if not 0 <= aa <= 0xFFFFFFFF or aa == ADVERTISING_ACCESS_ADDRESS:
        return False
    if bin(aa ^ ADVERTISING_ACCESS_ADDRESS).count("1") == 1:
        return False
    octets = aa.to_bytes(4, "little")
    if octets[0] == octets[1] == octets[2] == octets[3]:
        return False
    text = f"{aa:032b}"
    if "0000000" in text or "1111111" in text:
        return False
    if _transitions(aa, 32) > 24:
        return False
    if _transitions(aa >> 26, 6) < 2:
        return False
    # LE Coded additions: at least three ones in the least significant octet and no more
    # than eleven transitions in the least significant 16 bits.
    if bin(aa & 0xFF).count("1") < 3 or _transitions(aa & 0xFFFF, 16) > 11:
        return False
    return True


def new_access_address(rng: Rng, in_use: set[int] | frozenset[int] = frozenset()) -> int:
    """A random valid access address not in ``in_use``."""
    while True:
        aa = rng.getrandbits(32)
        if aa not in in_use and valid_access_address(aa):
            return aa


# -- data length (Vol 6 Part B 4.5.10) ----------------------------------------------------


@functools.lru_cache(maxsize=256)
def octets_for_time(phy: Phy, time_us: int, mic: int) -> int:
    """The largest payload (without ``mic`` octets) a packet of ``time_us`` can carry."""
    best = 0
    lo, hi = 0, 255
    while lo <= hi:
        mid = (lo + hi) // 2
        if airtime_ns(phy, 2 + mid + mic) <= time_us * US:
            best = mid
            lo = mid + 1
        else:
            hi = mid - 1
    return best


def time_floor_us(phy: Phy) -> int:
    return CODED_MIN_TIME_US if phy.is_coded else DEFAULT_TIME_US

