"""The device API's blocking rules, scanning, advertising, connecting and errors.

Everything runs on simulated time with the KernelWaiter: timeouts end at exact
instants, nested waits (a callback that blocks) work, and a blocking call inside an
enclosing ``world.run()`` is refused with a clear error.
"""

from __future__ import annotations

import pytest

from emu.device import (
    Characteristic,
    Connection,
    ConnectionFailed,
    ConnectTimeout,
    Device,
    DeviceError,
    DeviceTimeoutError,
    DeviceUsageError,
    GattError,
    ScanResult,
    Service,
    UUID,
)
from emu.device_wait import KernelWaiter
from emu.world import World, make_world
from host.advertising_data import AdType
from linklayer.address import Address, AddressKind
from phy.units import MS


def two(seed: int = 4) -> tuple[World, Device, Device]:
    world = make_world(seed)
    return world, Device.create(world, "a", (0.0, 0.0)), Device.create(world, "b", (3.0, 0.0))


# -- waiting ------------------------------------------------------------------------------


def test_sleep_and_timeouts_end_at_exact_simulated_instants() -> None:
    world, a, _ = two()
    start = world.kernel.now
    a.sleep_ms(12.5)
    assert world.kernel.now == start + 12_500_000
    a.sleep(0.25)
    assert world.kernel.now == start + 262_500_000
    with pytest.raises(DeviceTimeoutError) as err:
        a.wait_for_connection(timeout_ms=40)
    assert isinstance(err.value, TimeoutError)
    assert world.kernel.now == start + 302_500_000
    flag: list[int] = []
    world.kernel.call_at(world.kernel.now + 7 * MS, lambda: flag.append(1))
    a.wait_for(lambda: bool(flag), timeout_ms=100)
    assert world.kernel.now == start + 309_500_000  # stopped at the instant it held


def test_a_wait_with_nothing_left_to_simulate_is_an_error() -> None:
    world = make_world(1)
    waiter = KernelWaiter(world)
    with pytest.raises(DeviceTimeoutError, match="nothing left"):
        waiter.wait_until(lambda: False, None)


def test_blocking_inside_an_enclosing_world_run_is_refused() -> None:
    world, a, _ = two()
    world.kernel.call_at(world.kernel.now + 1 * MS, lambda: a.sleep_ms(100))
    with pytest.raises(DeviceUsageError, match="enclosing world.run"):
        world.run(world.kernel.now + 50 * MS)


def test_callbacks_may_block_inside_a_wait() -> None:
    world, a, b = two(5)
    level = Characteristic(0x2A19, read=True, notify=True, value=b"\x10")
    a.gatt.add_service(Service(0x180F, [level]))
    a.advertise(name="a", interval_ms=20)
    conn = b.connect(a.address)
    peer = a.wait_for_connection(10)
    char = conn.characteristic(0x2A19)
    seen: list[tuple[bytes, bytes]] = []

    def on_value(value: bytes) -> None:
        seen.append((value, conn.read(char)))  # a nested wait, inside the outer sleep

    conn.subscribe(char, on_value)
    a.notify(level, b"\x20")
    b.sleep_ms(500)
    assert seen == [(b"\x20", b"\x20")]
    assert peer.connected


# -- advertising and scanning --------------------------------------------------------------


def test_scan_yields_reports_as_they_come_and_stops_at_its_duration() -> None:
    world, a, b = two(6)
    a.advertise(name="beacon", services=[0x181A], manufacturer=(0xFFFF, b"\x01\x02"), interval_ms=50)
    start = world.kernel.now
    results = list(b.scan(duration_ms=300))
    assert world.kernel.now == start + 300 * MS
    assert results and all(isinstance(r, ScanResult) for r in results)
    adv = [r for r in results if not r.scan_response]
    assert adv[0].address == a.address and adv[0].name == "beacon" and adv[0].connectable
    assert adv[0].services == [UUID(0x181A)] and adv[0].manufacturer_data == [(0xFFFF, b"\x01\x02")]
    assert all(start <= r.time_ns <= start + 300 * MS for r in results)
    assert [r.time_ns for r in results] == sorted(r.time_ns for r in results)
    assert len(adv) >= 5  # every 50 ms (plus advDelay)
    assert len(list(b.scan(duration_ms=300, unique=True))) == 1
    assert list(b.scan(duration_ms=100, filter="nobody")) == []
    assert list(b.scan(duration_ms=100, filter=UUID(0x181A), unique=True))[0].address == a.address
    assert not b.host.gap.scanning


def test_leaving_a_scan_early_stops_it() -> None:
    world, a, b = two(7)
    a.advertise(name="x", interval_ms=20)
    for _ in b.scan(duration_ms=None):
        break
    b.sleep_ms(5)
    assert not b.host.gap.scanning
    with pytest.raises(DeviceTimeoutError):
        b.find(name="nobody", timeout_ms=200)


def test_a_name_that_does_not_fit_moves_to_the_scan_response() -> None:
    world, a, b = two(8)
    service = UUID("12345678-1234-5678-1234-56789abcdef0")
    a.advertise(name="a-rather-long-device-name", services=[service], interval_ms=30)
    found = b.find(name="a-rather-long-device-name", timeout_ms=500)
    assert found.scan_response and found.data.get(AdType.COMPLETE_LOCAL_NAME) == b"a-rather-long-device-name"
    adv = b.find(service=service, timeout_ms=500)
    assert not adv.scan_response and adv.name is None


def test_non_connectable_advertising_and_stop() -> None:
    world, a, b = two(9)
    a.advertise(name="beacon", connectable=False, interval_ms=100)
    assert a.advertising
    found = b.find(name="beacon", timeout_ms=500)
    assert not found.connectable
    a.stop_advertising()
    assert not a.advertising
    assert list(b.scan(duration_ms=300)) == []
    a.stop_advertising()  # already stopped: nothing happens


def test_random_static_address_and_lookup_by_text() -> None:
    world = make_world(10)
    a = Device.create(world, "a", (0.0, 0.0), address="C1:22:33:44:55:66", address_type="random")
    b = Device.create(world, "b", (1.0, 0.0))
    assert a.address == Address.parse("C1:22:33:44:55:66", True)
    assert a.address.kind is AddressKind.RANDOM_STATIC
    a.advertise(name="r", interval_ms=20)
    b.find(name="r", timeout_ms=500)
    conn = b.connect("C1:22:33:44:55:66")  # takes the type it was seen advertising with
    assert conn.peer_address == a.address and conn.role == "central"


# -- connecting ------------------------------------------------------------------------------


def test_connecting_to_nobody_times_out() -> None:
    world, a, _ = two(11)
    start = world.kernel.now
    with pytest.raises(ConnectTimeout) as err:
        a.connect(Address.parse("F0:00:00:00:00:99"), timeout_ms=200)
    assert isinstance(err.value, ConnectionFailed) and isinstance(err.value, TimeoutError)
    assert err.value.reason == "timeout"
    assert start + 200 * MS <= world.kernel.now < start + 1200 * MS
    assert not a.host.gap.connecting


def test_on_connection_and_on_subscribe_callbacks() -> None:
    world, a, b = two(12)
    events: list[str] = []
    level = Characteristic(0x2A19, read=True, notify=True, indicate=True,
                           on_subscribe=lambda conn, value: events.append(f"cccd {value}"))
    a.gatt.add_service(Service(0x180F, [level]))
    a.on_connection = lambda conn: events.append(f"connected {conn.role}")
    a.advertise(interval_ms=20)
    conn = b.connect(a.address)
    char = conn.characteristic(0x2A19)
    conn.subscribe(char, lambda v: None)
    conn.subscribe(char, lambda v: None, indicate=True)
    conn.unsubscribe(char)
    assert events == ["connected peripheral", "cccd 1", "cccd 2", "cccd 0"]


def test_hooks_deny_reads_and_errors_never_leak_host_exceptions() -> None:
    world, a, b = two(13)

    def deny(connection: Connection | None) -> bytes:
        raise GattError(0x80)

    def blocks(connection: Connection | None) -> bytes:
        a.sleep_ms(1)  # not allowed inside on_read
        return b""

    denied = Characteristic(0xFFF1, read=True, on_read=deny)
    blocking = Characteristic(0xFFF2, read=True, on_read=blocks)
    a.gatt.add_service(Service(0xFFF0, [denied, blocking]))
    a.advertise(interval_ms=20)
    conn = b.connect(a.address)
    with pytest.raises(GattError) as err:
        conn.read(conn.characteristic(0xFFF1))
    assert err.value.code == 0x80
    # the hook's own mistake answers UNLIKELY_ERROR and surfaces in the test
    with pytest.raises(DeviceUsageError, match="on_read"):
        conn.read(conn.characteristic(0xFFF2))
    # caller mistakes are DeviceUsageError (also ValueError), never host exceptions
    with pytest.raises(DeviceUsageError):
        conn.write(conn.characteristic(0xFFF1), bytes(300), response=False)
    with pytest.raises(ValueError):
        Characteristic("not-a-uuid")
    with pytest.raises(DeviceUsageError):
        a.gatt.add_service(Service(0x1234, [denied]))  # already added
    with pytest.raises(DeviceUsageError):
        conn.exchange_mtu(600)
    with pytest.raises(DeviceError):
        b.connect("nonsense")


def test_calls_before_power_on_are_usage_errors() -> None:
    world = make_world(14)
    a = Device.create(world, "a", power_on=False)
    with pytest.raises(DeviceUsageError, match="power_on"):
        a.advertise(name="x")
    a.power_on()
    assert a.powered and world.kernel.now == 0
    a.power_on()  # already on: nothing happens
