"""Channel maps and CSA #1 / #2 against /work/shared/vectors/csa2.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers.bluetooth4LE import BTLE_CONNECT_REQ

from linklayer.channels import (
    ChannelMap,
    ChannelMapError,
    Csa1,
    channel_identifier,
    check_min_used_channels,
    csa1_next,
    csa2_channel,
    csa2_prn_e,
    csa2_select,
    csa2_subevents,
)

DATA: dict[str, Any] = json.loads(Path("/work/shared/vectors/csa2.json").read_text())
CSA2: dict[str, Any] = DATA["csa2"]
CSA2_CASES: list[dict[str, Any]] = CSA2["cases"]
CSA1_CASES: list[dict[str, Any]] = DATA["csa1"]["cases"]
CHAN_ID = int(CSA2["channelIdentifier"], 16)


def case_id(case: dict[str, Any]) -> str:
    return f"{case['channel_map']}-ctr{case['counter']}"


# --- channel map ----------------------------------------------------------------------


def test_chm_literal_bytes() -> None:
    # On air the ChM is the 37-bit integer's 5 octets LSO first (vector file convention).
    cmap = ChannelMap.from_bytes(bytes.fromhex("0006e0001e"))
    assert cmap.used_channels == (9, 10, 21, 22, 23, 33, 34, 35, 36)
    assert cmap.count == 9
    assert cmap.to_bytes() == bytes.fromhex("0006e0001e")
    assert ChannelMap.all_channels().to_bytes() == bytes.fromhex("ffffffff1f")


def test_chm_matches_scapy_connect_req() -> None:
    # scapy's CONNECT_REQ encodes chM as a little-endian 40-bit field.
    raw = bytes(BTLE_CONNECT_REQ(chM=0x1E00E00600))
    chm = raw[-6:-1]  # ChM precedes the final Hop/SCA octet
    assert ChannelMap.from_bytes(chm) == ChannelMap(0x1E00E00600)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, (1 << 37) - 1))
def test_chm_round_trip(mask: int) -> None:
    cmap = ChannelMap(mask)
    assert ChannelMap.from_bytes(cmap.to_bytes()) == cmap
    assert ChannelMap.from_channels(cmap.used_channels) == cmap
    assert cmap.count == bin(mask).count("1")
    assert all(cmap.is_used(n) == bool(mask >> n & 1) for n in range(37))


def test_chm_reserved_bits_ignored_and_bad_length_refused() -> None:
    assert ChannelMap.from_bytes(bytes.fromhex("ffffffffff")) == ChannelMap.all_channels()
    with pytest.raises(ChannelMapError):
        ChannelMap.from_bytes(b"\xff" * 4)
    with pytest.raises(ChannelMapError):
        ChannelMap(1 << 37)
    with pytest.raises(ChannelMapError):
        ChannelMap.from_channels([37])


def test_min_used_channels() -> None:
    ChannelMap.from_channels([3, 4]).validate()
    with pytest.raises(ChannelMapError):
        ChannelMap.from_channels([3]).validate()
    with pytest.raises(ChannelMapError):
        ChannelMap.from_channels([1, 2, 3]).validate(min_used_channels=8)
    check_min_used_channels(ChannelMap.all_channels(), 37)
    with pytest.raises(ChannelMapError):
        check_min_used_channels(ChannelMap.all_channels(), 1)


def test_no_used_channel_is_refused_by_selection() -> None:
    with pytest.raises(ChannelMapError):
        csa2_channel(0, CHAN_ID, ChannelMap(0))
    with pytest.raises(ChannelMapError):
        csa1_next(0, 7, ChannelMap(0))


# --- CSA #2 ---------------------------------------------------------------------------


def test_channel_identifier() -> None:
    assert channel_identifier(int(CSA2["access_address"], 16)) == CHAN_ID == 0x305F
    with pytest.raises(ChannelMapError):
        channel_identifier(1 << 32)


@pytest.mark.parametrize("case", CSA2_CASES, ids=[case_id(c) for c in CSA2_CASES])
def test_csa2_vectors(case: dict[str, Any]) -> None:
    cmap = ChannelMap(int(case["channel_map"], 16))
    assert list(cmap.used_channels) == case["used_channels"]
    expected = case["expected"]
    counter = case["counter"]
    assert csa2_prn_e(counter, CHAN_ID) == expected["prn_e"]
    assert csa2_channel(counter, CHAN_ID, cmap) == expected["channel"]
    sel = csa2_select(counter, CHAN_ID, cmap)
    assert sel.prn == expected["prn_e"]
    assert sel.channel_index == expected["remapping_index"]
    assert sel.unmapped_channel == case["computed_extra"]["unmappedChannel"]
    assert sel.remapped == case["computed_extra"]["remapped"]


@pytest.mark.parametrize("case", CSA2_CASES, ids=[case_id(c) for c in CSA2_CASES])
def test_csa2_iso_subevent_vectors(case: dict[str, Any]) -> None:
    cmap = ChannelMap(int(case["channel_map"], 16))
    subs = csa2_subevents(case["counter"], CHAN_ID, cmap, len(case["expected"]["subevents"]))
    got = [(s.prn, s.channel, s.channel_index) for s in subs]
    want = [
        (e["prnSubEvent_se"], e["channel"], e["remapping_index"])
        for e in case["expected"]["subevents"]
    ]
    assert got == want


def test_csa2_counter_is_16_bits() -> None:
    assert csa2_prn_e(0x10000 + 3, CHAN_ID) == csa2_prn_e(3, CHAN_ID)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 0xFFFF), st.integers(0, 0xFFFF), st.integers(1, (1 << 37) - 1))
def test_csa2_always_picks_a_used_channel(counter: int, chan_id: int, mask: int) -> None:
    cmap = ChannelMap(mask)
    sel = csa2_select(counter, chan_id, cmap)
    assert cmap.is_used(sel.channel)
    assert cmap.used_channels[sel.channel_index] == sel.channel
    for sub in csa2_subevents(counter, chan_id, cmap, 4):
        assert cmap.used_channels[sub.channel_index] == sub.channel


# --- CSA #1 ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", CSA1_CASES, ids=[c["channel_map"] for c in CSA1_CASES])
def test_csa1_sequences(case: dict[str, Any]) -> None:
    cmap = ChannelMap(int(case["channel_map"], 16))
    hop = case["hopIncrement"]
    last = case["lastUnmappedChannel_initial"]
    csa1 = Csa1(hop, cmap)
    for event in case["events"]:
        unmapped, channel = csa1_next(last, hop, cmap)
        assert unmapped == event["unmappedChannel"]
        assert channel == event["channel"]
        if event["remappingIndex"] is not None:
            assert cmap.used_channels[event["remappingIndex"]] == channel
        assert csa1.unmapped_for_event(event["event"]) == unmapped
        assert csa1.channel_for_event(event["event"]) == channel
        last = unmapped


def test_csa1_hand_computed_remap() -> None:
    # Channels {0, 1}: unmapped 5 (hop 5, event 0) is unused -> index 5 mod 2 = 1 -> 1.
    cmap = ChannelMap.from_channels([0, 1])
    assert csa1_next(0, 5, cmap) == (5, 1)
    assert Csa1(5, cmap).channel_for_event(0) == 1


@settings(max_examples=100, deadline=None)
@given(st.integers(5, 16), st.integers(1, (1 << 37) - 1), st.integers(0, 200))
def test_csa1_random_access_matches_walk(hop: int, mask: int, events: int) -> None:
    cmap = ChannelMap(mask)
    csa1 = Csa1(hop, cmap)
    last = 0
    for k in range(events):
        last, channel = csa1_next(last, hop, cmap)
        assert cmap.is_used(channel)
    assert csa1.channel_for_event(events) == csa1_next(last, hop, cmap)[1]


def test_csa1_map_update() -> None:
    full = ChannelMap.all_channels()
    reduced = ChannelMap.from_channels([0, 1])
    csa1 = Csa1(7, full)
    assert csa1.channel_for_event(2) == 21
    assert csa1.channel_for_event(2, reduced) == 21 % 2


def test_csa1_hop_range() -> None:
    with pytest.raises(ChannelMapError):
        Csa1(4, ChannelMap.all_channels())
    with pytest.raises(ChannelMapError):
        Csa1(17, ChannelMap.all_channels())
