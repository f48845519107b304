"""Reception quality: sensitivity, capture threshold, bit error rate, bit errors.

Theory of operation
-------------------
A receiver hears a packet when the packet's power at its antenna reaches the PHY's
*sensitivity*; the defaults (1M −97 dBm, 2M −93, Coded S=2 −100, S=8 −103) are typical
datasheet figures of current LE radios, far better than the spec's −70 dBm floor
(Vol 6 Part A 4.1). While it receives, other signals on the same channel interfere:
if the carrier-to-interference ratio drops below the *co-channel rejection* the spec
requires (C/I 21 dB for 1M and 2M, 17 dB for S=2, 12 dB for S=8; Vol 6 Part A 4.2) the packet is lost (see :mod:`phy.medium` for how that test is applied).

Otherwise bits are flipped at random with the bit error rate of non-coherent GFSK,

    BER(γ) = ½·exp(−γ/2),   γ = 10^((SINR_dB + G_phy)/10),

where G_phy is a per-PHY demodulation gain (:data:`DEFAULT_BER_GAIN_DB`). The medium's
SINR counts power against the *medium* noise floor (default −100 dBm), not against the
receiver's real thermal noise, so the gains are calibrated such that a signal exactly at
each PHY's sensitivity over the default floor yields γ = 11 dB, i.e. BER = 9.2·10⁻⁴: the
spec defines sensitivity as the level giving BER 0.1 % (Vol 6 Part A 4.1). That gives
1M +8 dB, 2M +4 dB, and for the coded PHYs the same +8 dB plus the FEC coding gain
their sensitivities imply: +3 dB for S=2 (11 dB) and +6 dB for S=8 (14 dB).
Everything is overridable with a :class:`RadioProfile`.

:func:`draw_bit_errors` draws the exact positions of independent bit errors with
geometric gaps, so a clean link (BER 10⁻³⁰) costs one random number per packet.
Bit positions are in air order: bit 0 is the least significant bit of octet 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from phy.types import Phy, Rng

#: Typical datasheet sensitivities (dBm) at BER 0.1 % (Vol 6 Part A 4.1 defines the level).
DEFAULT_SENSITIVITY_DBM: Mapping[Phy, float] = {
    Phy.LE_1M: -97.0,
    Phy.LE_2M: -93.0,
    Phy.LE_CODED_S2: -100.0,
    Phy.LE_CODED_S8: -103.0,
}

#: Co-channel C/I requirements (dB), Vol 6 Part A 4.2 (interference performance).
DEFAULT_CAPTURE_THRESHOLD_DB: Mapping[Phy, float] = {
    Phy.LE_1M: 21.0,
    Phy.LE_2M: 21.0,
    Phy.LE_CODED_S2: 17.0,
    Phy.LE_CODED_S8: 12.0,
}

#: Demodulation (+ coding) gain G_phy added to the SINR before the GFSK BER formula.
#: Chosen so that sensitivity over a −100 dBm floor gives γ = 11 dB (BER 9.2e-4).
DEFAULT_BER_GAIN_DB: Mapping[Phy, float] = {
    Phy.LE_1M: 8.0,
    Phy.LE_2M: 4.0,
    Phy.LE_CODED_S2: 11.0,
    Phy.LE_CODED_S8: 14.0,
}


def _phy_table(name: str, table: Mapping[Phy, float], defaults: Mapping[Phy, float]) -> dict[Phy, float]:
    out = dict(defaults)
    for key, value in table.items():
        try:
            phy = Phy(key)
        except ValueError:
            raise ValueError(f"RadioProfile.{name}: unknown PHY {key!r}") from None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"RadioProfile.{name}[{phy.name}] must be a finite number, got {value!r}")
        out[phy] = float(value)
    return out


@dataclass(frozen=True, slots=True)
class RadioProfile:
    """Receiver figures per PHY; any PHY left out keeps its default.

    Attributes:
        sensitivity_dbm: weakest signal the receiver syncs to (dBm).
        capture_threshold_db: co-channel C/I below which a packet is lost (dB).
        ber_gain_db: G_phy of the BER model (dB); see the module docstring.
    """

    sensitivity_dbm: Mapping[Phy, float] = field(default_factory=dict)
    capture_threshold_db: Mapping[Phy, float] = field(default_factory=dict)
    ber_gain_db: Mapping[Phy, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sensitivity_dbm",
                           _phy_table("sensitivity_dbm", self.sensitivity_dbm, DEFAULT_SENSITIVITY_DBM))
        object.__setattr__(self, "capture_threshold_db",
                           _phy_table("capture_threshold_db", self.capture_threshold_db,
                                      DEFAULT_CAPTURE_THRESHOLD_DB))
        object.__setattr__(self, "ber_gain_db",
                           _phy_table("ber_gain_db", self.ber_gain_db, DEFAULT_BER_GAIN_DB))


DEFAULT_PROFILE = RadioProfile()


def sensitivity_dbm(phy: Phy, profile: RadioProfile | None = None) -> float:
    """Receiver sensitivity (dBm) for ``phy`` (typical datasheet figures by default)."""
    return (profile or DEFAULT_PROFILE).sensitivity_dbm[phy]


def capture_threshold_db(phy: Phy, profile: RadioProfile | None = None) -> float:
    """Co-channel rejection C/I (dB) for ``phy`` (Vol 6 Part A 4.2 by default)."""
    return (profile or DEFAULT_PROFILE).capture_threshold_db[phy]


def ber(phy: Phy, sinr_db: float, profile: RadioProfile | None = None) -> float:
    """Bit error rate at ``sinr_db``: ½·exp(−γ/2), γ = 10^((SINR + G_phy)/10).

    Non-coherent GFSK detection; G_phy from the profile (module docstring).
    """
    g_db = sinr_db + (profile or DEFAULT_PROFILE).ber_gain_db[phy]
    if g_db > 30.0:  # γ > 1000: BER < 1e-217, and avoid overflow for huge SINRs
        return 0.0
    return 0.5 * math.exp(-0.5 * 10.0 ** (g_db / 10.0))


def draw_bit_errors(rng: Rng, n_bits: int, ber: float) -> list[int]:
    """Sorted positions (0..n_bits-1) of independent bit errors with probability ``ber``.

    Gaps between errors are geometric: next = previous + 1 + floor(log(U)/log(1−p)),
    U uniform in (0, 1]. Exact, and costs one draw per error plus one.
    """
    if n_bits <= 0 or ber <= 0.0:
        return []
    if ber >= 1.0:
        return list(range(n_bits))
    log_q = math.log1p(-ber)
    positions: list[int] = []
    pos = -1
    while True:
        u = 1.0 - rng.random()  # (0, 1]
        gap = math.log(u) / log_q
        if gap >= n_bits:  # also guards float overflow of int()
            return positions
        pos += 1 + int(gap)
        if pos >= n_bits:
            return positions
        positions.append(pos)


def flip_bits(data: bytes, positions: Iterable[int]) -> bytes:
    """``data`` with the given bits inverted; bit 0 is the LSB of octet 0 (air order)."""
    out = bytearray(data)
    n = len(out) * 8
    for p in positions:
        if not 0 <= p < n:
            raise ValueError(f"bit position {p} outside 0..{n - 1}")
        out[p >> 3] ^= 1 << (p & 7)
    return bytes(out)
