"""Data channel maps and the channel selection algorithms #1 and #2.

Theory of operation
-------------------
A connection hops over the 37 data channels (indices 0..36) on the channels its
:class:`ChannelMap` marks *used*. The map travels as the 5-octet ChM field (CONNECT_IND,
LL_CHANNEL_MAP_IND): bit n is data channel n, least significant octet first, the three
top bits reserved (Vol 6 Part B 2.3.3.1, 4.5.8.1).

Each connection event picks one channel (Vol 6 Part B 4.5.8):

* **CSA #1** (4.5.8.2) walks ``unmapped = (last + hopIncrement) mod 37`` from
  ``last = 0``; an unused ``unmapped`` channel is replaced by the used channel at
  ``unmapped mod numUsedChannels`` in ascending order. Event k therefore uses
  ``unmapped = (k + 1) · hop mod 37``, which lets :class:`Csa1` answer for any event
  counter without replaying the walk (the unmapped sequence ignores map updates).
* **CSA #2** (4.5.8.3) is a pure function of the 16-bit event counter and the
  channelIdentifier (the two halves of the access address XORed): three rounds of PERM
  (bit reversal within each octet) and MAM (``17·a + b mod 2^16``) give ``prn_e``;
  ``prn_e mod 37`` is used directly when it is a used channel, otherwise the used channel
  at ``floor(N · prn_e / 2^16)``. Isochronous subevents continue from the same generator
  (4.5.8.3.4/5, Core 5.2): :func:`csa2_subevents`.

All functions are pure; the caller tracks event counters and map instants.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "ALL_DATA_CHANNELS",
    "ChannelMap",
    "ChannelMapError",
    "Csa1",
    "Csa2Selection",
    "MIN_USED_CHANNELS",
    "NUM_DATA_CHANNELS",
    "channel_identifier",
    "check_min_used_channels",
    "csa1_next",
    "csa2_channel",
    "csa2_prn_e",
    "csa2_select",
    "csa2_subevents",
]

#: Data channels 0..36 (Vol 6 Part B 1.4.1).
NUM_DATA_CHANNELS = 37
#: Bit mask of every data channel.
ALL_DATA_CHANNELS = (1 << NUM_DATA_CHANNELS) - 1
#: A channel map shall mark at least two channels used (Vol 6 Part B 4.5.8.1).
MIN_USED_CHANNELS = 2
_CHM_LENGTH = 5


class ChannelMapError(ValueError):
    """A ChM field or channel map is malformed or has too few used channels."""


@dataclass(frozen=True, slots=True)
class ChannelMap:
    """The set of used data channels (Vol 6 Part B 2.3.3.1 ChM, 4.5.8.1).

    ``mask`` has bit n set when data channel n is used (bits 37 and up must be clear).
    """

    mask: int
    used_channels: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not 0 <= self.mask <= ALL_DATA_CHANNELS:
            raise ChannelMapError(f"channel map {self.mask:#x} has bits beyond channel 36")
        used = tuple(n for n in range(NUM_DATA_CHANNELS) if self.mask >> n & 1)
        object.__setattr__(self, "used_channels", used)

    @classmethod
    def all_channels(cls) -> ChannelMap:
        """Every data channel used."""
        return cls(ALL_DATA_CHANNELS)

    @classmethod
    def from_channels(cls, channels: list[int] | tuple[int, ...] | set[int]) -> ChannelMap:
        """A map using exactly ``channels`` (data channel indices 0..36)."""
        mask = 0
        for n in channels:
            if not 0 <= n < NUM_DATA_CHANNELS:
                raise ChannelMapError(f"{n} is not a data channel index")
            mask |= 1 << n
        return cls(mask)

    @classmethod
    def from_bytes(cls, chm: bytes) -> ChannelMap:
        """Decode the 5-octet ChM field (air order, LSO first).

        The three reserved bits (37..39) are ignored on receipt; a field of the wrong
        length raises :class:`ChannelMapError`.
        """
        if len(chm) != _CHM_LENGTH:
            raise ChannelMapError(f"ChM is {_CHM_LENGTH} octets, not {len(chm)}")
        return cls(int.from_bytes(chm, "little") & ALL_DATA_CHANNELS)

    def to_bytes(self) -> bytes:
        """The 5-octet ChM field in air order."""
        return self.mask.to_bytes(_CHM_LENGTH, "little")

    @property
    def count(self) -> int:
        """numUsedChannels."""
        return len(self.used_channels)

    def is_used(self, channel: int) -> bool:
        """Whether data channel ``channel`` is marked used."""
        return 0 <= channel < NUM_DATA_CHANNELS and bool(self.mask >> channel & 1)

    def validate(self, min_used_channels: int = MIN_USED_CHANNELS) -> ChannelMap:
        """Return self, or raise :class:`ChannelMapError` if fewer than
        ``min_used_channels`` are used (2 per Vol 6 Part B 4.5.8.1; a peer's
        LL_MIN_USED_CHANNELS_IND may ask for more, 4.5.8.4/5.1.11)."""
        check_min_used_channels(self, min_used_channels)
        return self


def check_min_used_channels(channel_map: ChannelMap, minimum: int = MIN_USED_CHANNELS) -> None:
    """Raise :class:`ChannelMapError` if ``channel_map`` uses fewer than ``minimum``
    channels (``minimum`` is at least 2 and at most 37)."""
    if not MIN_USED_CHANNELS <= minimum <= NUM_DATA_CHANNELS:
        raise ChannelMapError(f"minimum used channels must be 2..37, not {minimum}")
    if channel_map.count < minimum:
        raise ChannelMapError(
            f"channel map uses {channel_map.count} channels, at least {minimum} required"
        )


def _require_channels(channel_map: ChannelMap) -> tuple[int, ...]:
    used = channel_map.used_channels
    if not used:
        raise ChannelMapError("channel map has no used channel")
    return used


# ---------------------------------------------------------------------------------------
# Channel Selection Algorithm #1 (Vol 6 Part B 4.5.8.2)
# ---------------------------------------------------------------------------------------


def csa1_next(last_unmapped: int, hop: int, channel_map: ChannelMap) -> tuple[int, int]:
    """One CSA #1 step: returns ``(unmappedChannel, channel)``.

    ``last_unmapped`` is lastUnmappedChannel (0 before the first connection event);
    ``hop`` is hopIncrement from the CONNECT_IND (5..16). Feed the returned
    unmappedChannel back as ``last_unmapped`` for the next event.
    """
    used = _require_channels(channel_map)
    unmapped = (last_unmapped + hop) % NUM_DATA_CHANNELS
    if channel_map.mask >> unmapped & 1:
        return unmapped, unmapped
    return unmapped, used[unmapped % len(used)]


class Csa1:
    """CSA #1 for one connection: the channel of any connection event counter.

    Since lastUnmappedChannel starts at 0 and advances by ``hop`` each event, event k
    has unmappedChannel = (k + 1)·hop mod 37. Pass ``channel_map`` to
    :meth:`channel_for_event` after an LL_CHANNEL_MAP_IND instant.
    """

    def __init__(self, hop: int, channel_map: ChannelMap) -> None:
        if not 5 <= hop <= 16:
            raise ChannelMapError(f"hopIncrement must be 5..16, not {hop}")
        _require_channels(channel_map)
        self.hop = hop
        self.channel_map = channel_map

    def unmapped_for_event(self, counter: int) -> int:
        """unmappedChannel of connection event ``counter`` (counted from 0)."""
        return ((counter + 1) * self.hop) % NUM_DATA_CHANNELS

    def channel_for_event(self, counter: int, channel_map: ChannelMap | None = None) -> int:
        """Data channel of connection event ``counter``, under ``channel_map`` if given
        (the map in force at that event), else the map given at construction."""
        cmap = self.channel_map if channel_map is None else channel_map
        last = (counter * self.hop) % NUM_DATA_CHANNELS
        return csa1_next(last, self.hop, cmap)[1]


# ---------------------------------------------------------------------------------------
# Channel Selection Algorithm #2 (Vol 6 Part B 4.5.8.3)
# ---------------------------------------------------------------------------------------


def channel_identifier(access_address: int) -> int:
    """channelIdentifier = AA[31:16] XOR AA[15:0] (Vol 6 Part B 4.5.8.3.1).

    ``access_address`` is the 32-bit integer (as printed, e.g. 0x8E89BED6).
    """
    if not 0 <= access_address <= 0xFFFFFFFF:
        raise ChannelMapError(f"access address must be 32 bits, not {access_address:#x}")
    return (access_address >> 16) ^ (access_address & 0xFFFF)


def _rev8(value: int) -> int:
    out = 0
    for _ in range(8):
        out = (out << 1) | (value & 1)
        value >>= 1
    return out


_REV8 = tuple(_rev8(i) for i in range(256))


def _perm(value: int) -> int:
    """PERM: reverse the bit order within each octet of a 16-bit value (4.5.8.3.2)."""
    return (_REV8[value >> 8] << 8) | _REV8[value & 0xFF]


def _mam(a: int, b: int) -> int:
    """MAM: multiply, add and modulo, (17·a + b) mod 2^16 (4.5.8.3.2)."""
    return (17 * a + b) & 0xFFFF


def _prn_s(counter: int, chan_id: int) -> int:
    value = (counter ^ chan_id) & 0xFFFF
    for _ in range(3):
        value = _mam(_perm(value), chan_id)
    return value


def csa2_prn_e(counter: int, chan_id: int) -> int:
    """The event pseudo-random number prn_e for a 16-bit event counter (4.5.8.3.3)."""
    if not 0 <= chan_id <= 0xFFFF:
        raise ChannelMapError(f"channelIdentifier must be 16 bits, not {chan_id:#x}")
    return _prn_s(counter & 0xFFFF, chan_id) ^ chan_id


@dataclass(frozen=True, slots=True)
class Csa2Selection:
    """The outcome of CSA #2 for one event or subevent.

    ``prn`` is prn_e (event) or prnSubEvent_se (subevent); ``unmapped_channel`` is
    prn_e mod 37 (None for subevents, which always map through the used list);
    ``channel_index`` is the position of ``channel`` in the ascending list of used
    channels (for a remapped event, the spec's remappingIndex; for a subevent,
    subEventIndex).
    """

    prn: int
    unmapped_channel: int | None
    channel: int
    channel_index: int
    remapped: bool


def csa2_select(counter: int, chan_id: int, channel_map: ChannelMap) -> Csa2Selection:
    """CSA #2 for connection/periodic event ``counter`` (Vol 6 Part B 4.5.8.3)."""
    used = _require_channels(channel_map)
    prn_e = csa2_prn_e(counter, chan_id)
    unmapped = prn_e % NUM_DATA_CHANNELS
    if channel_map.mask >> unmapped & 1:
        return Csa2Selection(prn_e, unmapped, unmapped, used.index(unmapped), False)
    index = (len(used) * prn_e) >> 16
    return Csa2Selection(prn_e, unmapped, used[index], index, True)


def csa2_channel(counter: int, chan_id: int, channel_map: ChannelMap) -> int:
    """The data channel of event ``counter`` under CSA #2."""
    return csa2_select(counter, chan_id, channel_map).channel


def csa2_subevents(
    counter: int, chan_id: int, channel_map: ChannelMap, count: int
) -> list[Csa2Selection]:
    """Channels of subevents 1..``count`` of an isochronous event (Core 5.2 Vol 6 Part B
    4.5.8.3.4 subevent pseudo-random numbers, 4.5.8.3.5 subevent mapping).

    Subevent 0 is the event itself (:func:`csa2_select`). Each further subevent draws
    prnSubEvent_se from the same generator and moves at least ``d`` used channels away
    from the previous one, d = max(1, max(min(3, N−5), min(11, (N−10)/2))).
    """
    used = _require_channels(channel_map)
    n = len(used)
    last_index = csa2_select(counter, chan_id, channel_map).channel_index
    d = max(1, max(min(3, n - 5), min(11, (n - 10) // 2)))
    lu = _prn_s(counter & 0xFFFF, chan_id)
    out: list[Csa2Selection] = []
    for _ in range(count):
        lu = _mam(_perm(lu), chan_id)
        prn_se = lu ^ chan_id
        index = (last_index + d + ((prn_se * (n - 2 * d + 1)) >> 16)) % n
        channel = used[index]
        out.append(Csa2Selection(prn_se, None, channel, index, True))
        last_index = index
    return out
