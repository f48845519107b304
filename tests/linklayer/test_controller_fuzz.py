"""Malformed HCI bytes and random bytes on the air never raise out of the controller."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emu import hci_script as hs
from linklayer.controller import Controller, ControllerConfig
from linklayer.crypto import crc24_bytes
from linklayer.hci.registry import COMMANDS, parse_event
from linklayer.radio import ADVERTISING_ACCESS_ADDRESS, ADVERTISING_CRC_INIT, RadioPacket, RadioTx
from phy.types import Phy
from phy.units import MS, US

from .worlds import node, world_with_air

import random

known_opcodes = st.sampled_from(sorted(COMMANDS))


@st.composite
def hci_packets(draw: st.DrawFn) -> tuple[int, bytes]:
    kind = draw(st.sampled_from(["known-random", "known-truncated", "raw", "acl", "other-type"]))
    if kind == "known-random":
        op = draw(known_opcodes)
        params = draw(st.binary(max_size=64))
        return 1, op.to_bytes(2, "little") + bytes([len(params)]) + params
    if kind == "known-truncated":
        op = draw(known_opcodes)
        params = draw(st.binary(max_size=40))
        wrong = draw(st.integers(0, 255))
        return 1, op.to_bytes(2, "little") + bytes([wrong]) + params
    if kind == "raw":
        return 1, draw(st.binary(max_size=40))
    if kind == "acl":
        return 2, draw(st.binary(max_size=40))
    return draw(st.sampled_from([0, 3, 4, 5, 0xFF])), draw(st.binary(max_size=20))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(hci_packets(), min_size=1, max_size=20))
def test_malformed_hci_never_raises_and_every_command_is_answered(packets: list[tuple[int, bytes]]) -> None:
    ctrl = Controller(ControllerConfig(), random.Random(0))
    commands = 0
    for h4_type, packet in packets:
        ctrl.hci_from_host(h4_type, packet, 0)
        if h4_type == 1 and len(packet) >= 2:
            commands += 1
        ctrl.handle_timer(0)
    out = ctrl.take_hci()
    answers = [parse_event(p) for _, p in out]
    replies = [e for e in answers if type(e).__name__ in ("HCI_Command_Complete_Event", "HCI_Command_Status_Event")]
    assert len(replies) == commands


@st.composite
def air_packets(draw: st.DrawFn) -> RadioTx:
    body = draw(st.binary(min_size=0, max_size=60))
    header = draw(st.binary(min_size=2, max_size=2))
    if draw(st.booleans()):  # a length field that agrees with the payload
        header = bytes([header[0], len(body)])
    pdu = header + body
    good_crc = draw(st.booleans())
    crc = crc24_bytes(ADVERTISING_CRC_INIT, pdu) if good_crc else draw(st.binary(min_size=3, max_size=3))
    channel = draw(st.sampled_from([37, 38, 39, 0, 5, 36]))
    phy = draw(st.sampled_from([Phy.LE_1M, Phy.LE_2M, Phy.LE_CODED_S8]))
    return RadioTx(0, channel, phy, ADVERTISING_ACCESS_ADDRESS, pdu, crc, 0.0)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 400), air_packets()), min_size=1, max_size=25))
def test_random_bytes_on_the_air_never_raise(injections: list[tuple[int, RadioTx]]) -> None:
    world, _ = world_with_air(seed=1)
    adv = node(world, "adv", (1.0, 0.0))
    ext = node(world, "ext", (1.0, 1.0))
    scanner = node(world, "scanner", (0.0, 0.0))
    ext_scanner = node(world, "ext-scanner", (0.0, 1.0))
    hs.advertise_legacy(adv.driver, advertising_type=0, data=b"\x02\x01\x06", scan_response=b"\x02\x0a\x00",
                        interval_slots=32)
    hs.advertise_extended(ext.driver, properties=0x02, scan_response=b"\x02\x0a\x00", interval_slots=32)
    hs.scan_legacy(scanner.driver, active=True)
    hs.scan_extended(ext_scanner.driver, active=True)
    jammer = world.add_injector("jammer", (0.5, 0.5))
    for at_us, op in injections:
        world.inject(jammer, at_us * 100 * US, op)
    world.run(60 * MS)


def test_direct_radio_packets_in_every_state_never_raise() -> None:
    rng = random.Random(5)
    world, _ = world_with_air(seed=2)
    adv = node(world, "adv", (1.0, 0.0))
    scanner = node(world, "scanner", (0.0, 0.0))
    hs.advertise_legacy(adv.driver, advertising_type=0, data=b"\x02\x01\x06", interval_slots=32)
    hs.scan_legacy(scanner.driver, active=True)
    for step in range(400):
        world.run(world.kernel.now + rng.randrange(1, 500) * US)
        for n in (adv, scanner):
            c = n.driver.controller
            pdu = rng.randbytes(rng.randrange(0, 50))
            now = world.kernel.now
            packet = RadioPacket(now, now, rng.choice([37, 38, 39, 7]), Phy.LE_1M, ADVERTISING_ACCESS_ADDRESS,
                                 pdu, crc24_bytes(ADVERTISING_CRC_INIT, pdu), -50.0)
            choice = step % 3
            if choice == 0:
                c.radio_synced(now)
            elif choice == 1:
                c.radio_received(packet, now)
            else:
                c.radio_lost(now)
            n.driver.service()
    world.run(world.kernel.now + 50 * MS)
