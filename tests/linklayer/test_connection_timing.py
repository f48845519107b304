"""Connection timing helpers and the ACL fragmentation queue (pure functions)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linklayer.connection_data import (
    LLID_CONTINUE,
    LLID_START,
    AclTxQueue,
    pb_for_llid,
)
from linklayer.connection_timing import (
    SCA_PPM,
    AnchorClock,
    draw_clock_error_ppb,
    new_access_address,
    octets_for_time,
    sca_field,
    scaled,
    transmit_window_delay,
    valid_access_address,
    window_widening,
)
from linklayer.radio import ADVERTISING_ACCESS_ADDRESS
from phy.airtime import airtime_ns
from phy.types import Phy
from phy.units import MS, US


def test_sca_field_covers_the_accuracy() -> None:
    # Vol 6 Part B Table 2.19: 0 = 251..500 ppm ... 7 = 0..20 ppm.
    assert [sca_field(p) for p in (500, 251, 250, 151, 150, 100, 75, 51, 50, 31, 30, 21, 20, 0)] == [
        0, 0, 1, 1, 2, 3, 4, 4, 5, 5, 6, 6, 7, 7]
    assert SCA_PPM[sca_field(50)] >= 50


def test_window_widening_formula() -> None:
    # ((50 + 50) / 1e6) * 100 ms + 32 µs = 10 µs + 32 µs.
    assert window_widening(100 * MS, 50, 50, 7_500_000) == 42 * US
    assert window_widening(0, 500, 500, 7_500_000) == 32 * US
    # Capped at half the interval minus T_IFS.
    assert window_widening(10_000 * MS, 500, 500, 7_500_000) == 3_750_000 - 150_000


def test_transmit_window_delay() -> None:
    assert transmit_window_delay(False, Phy.LE_1M) == 1_250_000
    assert transmit_window_delay(True, Phy.LE_2M) == 2_500_000
    assert transmit_window_delay(True, Phy.LE_CODED_S8) == 3_750_000


def test_clock_error_within_sca() -> None:
    rng = random.Random(4)
    values = [draw_clock_error_ppb(rng, 50) for _ in range(200)]
    assert all(-50_000 <= v <= 50_000 for v in values)
    assert draw_clock_error_ppb(rng, 0) == 0
    assert scaled(1_000_000_000, 20_000) == 1_000_020_000
    assert scaled(7_500_000, -50_000) == 7_499_625


def test_anchor_clock_update_rebases_at_the_instant() -> None:
    clk = AnchorClock(base=1_000, counter=0, offset=2_500_000, interval=7_500_000, ppb=0)
    assert clk.time(0) == 2_501_000
    assert clk.time(4) == 2_501_000 + 4 * 7_500_000
    clk.rebase_update(10, 1_250_000, 50_000_000)
    # Event 10 is WinOffset after where it would have been, then the new interval.
    assert clk.time(10) == 2_501_000 + 10 * 7_500_000 + 1_250_000
    assert clk.time(12) == clk.time(10) + 2 * 50_000_000
    clk.observed(12, 900_000_000)
    assert clk.time(13) == 950_000_000


def test_access_address_rules() -> None:
    assert not valid_access_address(ADVERTISING_ACCESS_ADDRESS)
    assert not valid_access_address(ADVERTISING_ACCESS_ADDRESS ^ 0x10)  # one bit away
    assert not valid_access_address(0x11111111)  # four equal octets
    assert not valid_access_address(0x80000001 | 0x7F000000)  # seven ones in a row
    assert valid_access_address(0x50654AC3)  # the one of wireshark.md's sample capture


@given(st.integers(min_value=0, max_value=2**32))
def test_new_access_addresses_are_valid_and_unique(seed: int) -> None:
    rng = random.Random(seed)
    used: set[int] = set()
    for _ in range(5):
        aa = new_access_address(rng, used)
        assert valid_access_address(aa) and aa not in used
        used.add(aa)


def test_octets_for_time() -> None:
    # 328 µs is 27 octets and a MIC on LE 1M (Vol 6 Part B 4.5.10).
    assert octets_for_time(Phy.LE_1M, 328, 0) == 31
    assert octets_for_time(Phy.LE_1M, 328, 4) == 27
    assert octets_for_time(Phy.LE_1M, 2120, 4) == 251
    assert octets_for_time(Phy.LE_2M, 1064, 4) == 251
    for phy in (Phy.LE_1M, Phy.LE_2M, Phy.LE_CODED_S8):
        n = octets_for_time(phy, 2704, 0)
        assert airtime_ns(phy, 2 + n) <= 2704 * US < airtime_ns(phy, 3 + n) or n == 255


# -- ACL queue -----------------------------------------------------------------------------


def test_fragmentation_llids_and_completion() -> None:
    q = AclTxQueue()
    assert not q.push(True, b"")  # a zero-length packet completes at once
    assert q.push(True, bytes(range(60)))
    assert q.push(False, b"tail")
    out = []
    while q.has_data():
        out.append(q.pop(27))
    assert out == [
        (LLID_START, bytes(range(27)), 0),
        (LLID_CONTINUE, bytes(range(27, 54)), 0),
        (LLID_CONTINUE, bytes(range(54, 60)), 1),
        (LLID_CONTINUE, b"tail", 1),
    ]
    assert pb_for_llid(LLID_START) == 0b10 and pb_for_llid(LLID_CONTINUE) == 0b01


@given(st.lists(st.tuples(st.booleans(), st.binary(min_size=1, max_size=300)), max_size=8),
       st.lists(st.integers(min_value=1, max_value=251), min_size=1, max_size=5))
def test_fragments_reassemble_to_the_host_packets(packets: list[tuple[bool, bytes]], sizes: list[int]) -> None:
    q = AclTxQueue()
    for starts, data in packets:
        q.push(starts, data)
    assert len(q) == len(packets)
    got = b""
    completed = 0
    i = 0
    while q.has_data():
        size = sizes[i % len(sizes)]
        more = q.more_after_next(size)
        llid, chunk, done = q.pop(size)
        assert 1 <= len(chunk) <= size
        assert more == q.has_data()
        got += chunk
        completed += done
        i += 1
    assert got == b"".join(d for _, d in packets)
    assert completed == len(packets)


def test_flush_counts_held_packets() -> None:
    q = AclTxQueue()
    q.push(True, b"abc")
    q.push(True, b"def")
    q.pop(2)
    assert q.flush() == 2 and not q.has_data()


@pytest.mark.parametrize("llid", [LLID_START, LLID_CONTINUE])
def test_pb_flags(llid: int) -> None:
    assert pb_for_llid(llid) in (0b10, 0b01)


# -- the connection's state table ----------------------------------------------------------


class _Host:
    def __init__(self) -> None:
        self.closed: list[int] = []

    def emit(self, event: object) -> None:
        pass

    def le_event_enabled(self, subevent: int) -> bool:
        return True

    def acl_to_host(self, conn: object, llid: int, data: bytes) -> None:
        pass

    def acl_completed(self, conn: object, count: int) -> None:
        pass

    def connection_closed(self, conn: object, reason: int, now: int) -> None:
        self.closed.append(reason)

    def radio_horizon(self, conn: object) -> None:
        return None


def test_connection_ignores_inputs_its_state_does_not_take() -> None:
    from linklayer.address import Address
    from linklayer.connection import TRANSITIONS, Connection, ConnectionSetup, Input, State
    from linklayer.control import LocalInfo
    from linklayer.pdu import LLData
    from linklayer.radio import RadioPacket
    from linklayer.scheduler import Radio

    ll = LLData(aa=0x50654AC3, crc_init=0x123456, win_size=1, win_offset=0, interval=8, latency=0, timeout=100,
                ch_m=(1 << 37) - 1, hop=7, sca=5)
    setup = ConnectionSetup(handle=0, central=False, ll=ll, own_address=Address(bytes(6)),
                            peer_address=Address(bytes(5) + b"\x01"), csa2=False, phy=Phy.LE_1M, ref_end_ns=0,
                            aux=False, clock_ppb=0, sca_ppm=50, tx_power_dbm=0.0, info=LocalInfo())
    host = _Host()
    radio = Radio()
    conn = Connection(setup, host, radio, lambda a, t: None, random.Random(1), 0)
    packet = RadioPacket(0, 80_000, 0, Phy.LE_1M, ll.aa, b"\x01\x00", b"\x00\x00\x00", -40.0)
    for inp in (Input.TIMER, Input.SYNCED, Input.PACKET, Input.LOST):
        assert (State.IDLE, inp) not in TRANSITIONS
    conn.on_timer(0)
    conn.on_synced(0)
    conn.on_packet(packet, 0)
    conn.on_lost(0)
    assert conn.ignored == 4 and conn.state is State.IDLE
    # The first window opens at the transmit window minus the widening:
    # 1.25 ms + 0 − (32 µs + (50 + 50) ppm × 1.25 ms).
    start = conn.next_start()
    assert start == 1_250_000 - 32_000 - 125
    conn.begin(start)
    assert conn.state.name == "RX_WAIT"
    assert [type(op).__name__ for op in radio.take()] == ["RadioRx"]
    conn.begin(start)  # a second begin while listening: ignored
    assert conn.ignored == 5
    conn.on_timer(conn.deadline() or 0)  # nothing came in the window
    assert conn.state.name == "IDLE" and conn.next_counter == 1
    for _ in range(6):  # six events without a packet: not established
        t = conn.next_start()
        assert t is not None
        conn.skip(t)
    assert host.closed == [0x3E] and conn.state.name == "CLOSED"


def test_central_closes_the_event_after_two_crc_errors() -> None:
    from linklayer.address import Address
    from linklayer.connection import Connection, ConnectionSetup
    from linklayer.control import LocalInfo
    from linklayer.pdu import LLData
    from linklayer.radio import RadioPacket, RadioRx, RadioTx
    from linklayer.scheduler import Radio

    ll = LLData(aa=0x50654AC3, crc_init=0x123456, win_size=1, win_offset=0, interval=8, latency=0, timeout=100,
                ch_m=(1 << 37) - 1, hop=7, sca=5)
    setup = ConnectionSetup(handle=0, central=True, ll=ll, own_address=Address(bytes(6)),
                            peer_address=Address(bytes(5) + b"\x01"), csa2=True, phy=Phy.LE_1M, ref_end_ns=0,
                            aux=False, clock_ppb=0, sca_ppm=50, tx_power_dbm=0.0, info=LocalInfo())
    radio = Radio()
    conn = Connection(setup, _Host(), radio, lambda a, t: None, random.Random(1), 0)
    for i in range(3):
        conn.queue_acl(True, bytes([i]) * 20, 0)
    start = conn.next_start()
    assert start == 1_250_000  # the Central sends at the start of the transmit window
    conn.begin(start)
    tx, rx = radio.take()
    assert isinstance(tx, RadioTx) and isinstance(rx, RadioRx) and tx.pdu[0] & 0x10  # MD: more to come
    assert rx.start_ns == tx.start_ns + (1 + 4 + 22 + 3) * 8_000 + 150_000 - 2_000  # T_IFS - 2 µs
    bad = RadioPacket(rx.start_ns + 2_000, rx.start_ns + 82_000, tx.channel, Phy.LE_1M, ll.aa, b"\x01\x00",
                      b"\xde\xad\x00", -40.0)
    conn.on_synced(bad.start_ns)
    conn.on_packet(bad, bad.end_ns)  # one CRC error: the Central goes on (it resends)
    (tx2, rx2) = radio.take()
    assert isinstance(tx2, RadioTx) and tx2.pdu[2:] == tx.pdu[2:] and conn.retransmissions == 1
    assert isinstance(rx2, RadioRx)
    bad2 = RadioPacket(rx2.start_ns + 2_000, rx2.start_ns + 82_000, tx.channel, Phy.LE_1M, ll.aa, b"\x01\x00",
                       b"\xde\xad\x00", -40.0)
    conn.on_synced(bad2.start_ns)
    conn.on_packet(bad2, bad2.end_ns)  # two in a row: the event closes
    assert conn.state.name == "IDLE" and conn.crc_errors == 2 and conn.next_counter == 1
    assert conn.next_start() == start + 10_000_000
