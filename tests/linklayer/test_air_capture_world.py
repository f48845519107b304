"""Air captures of simulated worlds: determinism, and tshark decodes them cleanly."""

from __future__ import annotations

import pathlib

from emu import hci_script as hs
from emu.capture_taps import attach_air_capture
from phy.units import MS
from tests.tshark import assert_clean_capture, require_tshark, tshark_expert, tshark_fields

from .worlds import node, world_with_air


#: 360 octets of well-formed AD: 12 Manufacturer Specific Data structures (company 0xFFFF).
LONG_AD = b"".join(bytes([29, 0xFF, 0xFF, 0xFF]) + bytes([i]) * 26 for i in range(12))


def _world_capture(path: pathlib.Path, seed: int) -> list[int]:
    """A busy little world; returns the start instants of the advertiser's channel-37 PDUs."""
    world, air = world_with_air(seed=seed)
    capture = attach_air_capture(world, path, sniffer_position=(0.5, 0.5))
    legacy = node(world, "legacy", (1.0, 0.0))
    ext = node(world, "ext", (0.0, 1.0))
    scanner = node(world, "scanner", (0.0, 0.0))
    ext_scanner = node(world, "ext-scanner", (1.0, 1.0))
    hs.advertise_legacy(legacy.driver, advertising_type=0, data=bytes.fromhex("0201060b09456d7550657269706832"),
                        scan_response=b"\x02\x0a\x00", interval_slots=48)
    hs.advertise_extended(ext.driver, properties=0x02, scan_response=LONG_AD, interval_slots=64)
    hs.scan_legacy(scanner.driver, active=True)
    hs.scan_extended(ext_scanner.driver, active=True)
    world.run(1500 * MS)
    capture.close()
    return [tx.start_ns for tx in air.by(world, "legacy") if tx.channel == 37]


def test_same_seed_gives_identical_pcap_and_other_seed_other_adv_delays(tmp_path: pathlib.Path) -> None:
    a, b, c = tmp_path / "a.pcap", tmp_path / "b.pcap", tmp_path / "c.pcap"
    starts_a = _world_capture(a, seed=21)
    starts_b = _world_capture(b, seed=21)
    starts_c = _world_capture(c, seed=22)
    assert a.read_bytes() == b.read_bytes()
    assert starts_a == starts_b
    delays = lambda s: [y - x for x, y in zip(s, s[1:])]  # noqa: E731
    assert delays(starts_a) != delays(starts_c)
    assert a.read_bytes() != c.read_bytes()


def test_tshark_decodes_advertising_scanning_and_extended_advertising(tmp_path: pathlib.Path) -> None:
    require_tshark()
    path = tmp_path / "air.pcap"
    _world_capture(path, seed=5)
    assert_clean_capture(path)
    expert = tshark_expert(path)
    assert expert["malformed"] == 0 and expert["warning"] == 0 and expert["error"] == 0
    rows = tshark_fields(path, ["btle.advertising_header.pdu_type", "btle_rf.channel"])
    pdu_types = {int(r[0], 16) for r in rows if r[0]}
    # ADV_IND 0, SCAN_REQ 3, SCAN_RSP 4, ADV_EXT_IND/AUX_* 7
    assert {0, 3, 4, 7} <= pdu_types
    names = {r[0] for r in tshark_fields(path, ["btcommon.eir_ad.entry.device_name"]) if r[0]}
    assert "EmuPeriph2" in names
    rf_channels = {int(r[1]) for r in rows if r[1]}
    assert {0, 12, 39} <= rf_channels and any(ch not in (0, 12, 39) for ch in rf_channels)
