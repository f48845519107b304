"""Simulated time: integer nanoseconds, and the Core Specification's units.

All timing paths in blesim use ``int`` nanoseconds. These helpers convert from the units
the specification uses for its parameters (Vol 4 Part E 7.8 and Vol 6 Part B 4):
0.625 ms advertising/scanning slots, 1.25 ms connection-interval units, 10 ms
supervision-timeout units and plain microseconds.
"""

from __future__ import annotations

NS = 1
US = 1_000
MS = 1_000_000
S = 1_000_000_000

#: One advertising/scanning slot (Time = N × 0.625 ms).
SLOT_625US = 625 * US
#: One connection-interval unit (Time = N × 1.25 ms).
UNIT_1250US = 1_250 * US
#: One supervision-timeout unit (Time = N × 10 ms).
UNIT_10MS = 10 * MS

#: Inter Frame Space (Vol 6 Part B 4.1.1).
T_IFS = 150 * US
#: Minimum AUX Frame Space (Vol 6 Part B 4.1.1).
T_MAFS = 300 * US


def us(value: int | float) -> int:
    """Microseconds to nanoseconds (rounded to the nearest nanosecond)."""
    return int(round(value * US))


def ms(value: int | float) -> int:
    """Milliseconds to nanoseconds (rounded to the nearest nanosecond)."""
    return int(round(value * MS))


def seconds(value: int | float) -> int:
    """Seconds to nanoseconds (rounded to the nearest nanosecond)."""
    return int(round(value * S))


def slots_625us(n: int) -> int:
    """N × 0.625 ms (advertising and scan intervals/windows) in nanoseconds."""
    return n * SLOT_625US


def units_1250us(n: int) -> int:
    """N × 1.25 ms (connection interval) in nanoseconds."""
    return n * UNIT_1250US


def units_10ms(n: int) -> int:
    """N × 10 ms (supervision timeout, scan duration) in nanoseconds."""
    return n * UNIT_10MS


def to_seconds(t_ns: int) -> float:
    """Nanoseconds to float seconds, for display only (never for timing decisions)."""
    return t_ns / S
