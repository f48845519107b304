"""Channel indices and RF channels (Vol 6 Part B 1.4.1).

Theory of operation
-------------------
The band holds 40 RF channels, RF channel k centred on 2402 + 2·k MHz. The link layer
numbers them differently: channel indices 0..36 are the general-purpose (data and
secondary advertising) channels and 37, 38, 39 the primary advertising channels, which
sit at RF channels 0, 12 and 39 (2402, 2426, 2480 MHz) to stay clear of the common
Wi-Fi channels. The medium works in channel indices (what a :class:`phy.medium.Transmission`
carries); interferers and captures speak RF channels; these helpers translate.
"""

from __future__ import annotations

#: Primary advertising channel indices.
ADVERTISING_CHANNELS: tuple[int, int, int] = (37, 38, 39)
#: Number of channels (indices and RF channels alike).
NUM_CHANNELS = 40


def _build() -> tuple[tuple[int, ...], tuple[int, ...]]:
    to_rf = [0] * NUM_CHANNELS
    for index in range(NUM_CHANNELS):
        if index == 37:
            rf = 0
        elif index == 38:
            rf = 12
        elif index == 39:
            rf = 39
        elif index <= 10:
            rf = index + 1
        else:
            rf = index + 2
        to_rf[index] = rf
    to_index = [0] * NUM_CHANNELS
    for index, rf in enumerate(to_rf):
        to_index[rf] = index
    return tuple(to_rf), tuple(to_index)


#: ``RF_CHANNEL[channel_index]`` is its RF channel.
RF_CHANNEL: tuple[int, ...]
#: ``CHANNEL_INDEX[rf_channel]`` is its channel index.
CHANNEL_INDEX: tuple[int, ...]
RF_CHANNEL, CHANNEL_INDEX = _build()


def _check(value: int, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < NUM_CHANNELS:
        raise ValueError(f"{what} must be an integer in 0..39, got {value!r}")
    return value


def rf_channel(channel_index: int) -> int:
    """RF channel (0..39) of a link-layer channel index (Vol 6 Part B 1.4.1, Table 1.2).

    37 -> 0, 38 -> 12, 39 -> 39, 0..10 -> index + 1, 11..36 -> index + 2.
    """
    return RF_CHANNEL[_check(channel_index, "channel index")]


def channel_index(rf: int) -> int:
    """Link-layer channel index of an RF channel: the inverse of :func:`rf_channel`."""
    return CHANNEL_INDEX[_check(rf, "RF channel")]


def frequency_mhz(rf: int) -> int:
    """Centre frequency of RF channel ``rf``: 2402 + 2·rf MHz (Vol 6 Part A 2)."""
    return 2402 + 2 * _check(rf, "RF channel")
