"""The Bluetooth USB transport against a fake dongle replaying our simulated controller."""

from __future__ import annotations

import pytest

from emu.bridge.usb import (
    AclOrdering,
    PacketSplitter,
    UsbTransport,
    acl_splitter,
    event_splitter,
    find_endpoints,
    select_device,
)
from emu.bridge.transports import TransportError, UsbSpec
from host.events import AdvertisingStarted, Connected, PoweredOn

from .fakes import BULK_IN, BULK_OUT, INTERRUPT_IN, FakeUsbDevice
from .rigs import host_over
from .session import DONGLE_ADDRESS, record_session


def test_host_powers_on_advertises_and_serves_gatt_over_usb() -> None:
    script = record_session()
    device = FakeUsbDevice(script)
    transport = UsbTransport(UsbSpec(0), device=device)
    # The kernel's btusb driver held both interfaces: detached, interface 0 claimed.
    assert device.kernel_driver == {0: False, 1: False}
    assert device.claimed == {0}
    rig = host_over(transport)
    try:
        assert rig.run_until(lambda: device.replay.finished), device.replay.mismatches
        assert device.replay.mismatches == []
        events = rig.events
        powered = [e for e in events if isinstance(e, PoweredOn)]
        assert powered and powered[0].public_address == DONGLE_ADDRESS
        assert any(isinstance(e, AdvertisingStarted) for e in events)
        assert any(isinstance(e, Connected) and e.role == "peripheral" for e in events)
        # Commands went as class control transfers to interface 0, one per transfer.
        commands = [p for who, t, p in script if who == "host" and t == 0x01]
        assert [c[4] for c in device.control] == commands
        assert all(c[:4] == (0x20, 0, 0, 0) for c in device.control)
        # Every packet of the session crossed the transport, both ways.
        assert transport.packets_out == sum(1 for who, _, _ in script if who == "host")
        assert transport.packets_in == sum(1 for who, _, _ in script if who == "ctrl")
    finally:
        transport.close()
    assert device.claimed == set() and device.disposed
    assert device.kernel_driver == {0: True, 1: True}  # given back to the kernel


def test_unplugging_the_dongle_loses_the_transport() -> None:
    device = FakeUsbDevice(record_session())
    transport = UsbTransport(UsbSpec(0), device=device)
    rig = host_over(transport)
    try:
        assert rig.run_until(lambda: any(isinstance(e, PoweredOn) for e in rig.events))
        device.unplug()
        assert rig.run_until(lambda: bool(rig.lost))
        assert "the USB device 2fe3:000b (bus 1 address 4) went away (unplugged?)" in rig.lost[0][1]
        # After the loss, what the host sends is dropped, not raised.
        rig.host.start_scan(rig.world.kernel.now)
        rig.host_driver.service()
    finally:
        transport.close()


def test_splitters_reassemble_transfers() -> None:
    events = event_splitter()
    complete = bytes.fromhex("0e0401030c00")
    assert events.feed(complete[:3]) == []
    assert events.feed(complete[3:] + complete[:1]) == [complete]
    assert events.feed(complete[1:]) == [complete]
    acl = acl_splitter()
    packet = bytes.fromhex("0020 0b00 0700 0400 10 0100 ffff 0028")
    assert [p for i in range(len(packet)) for p in acl.feed(packet[i : i + 1])] == [packet]
    assert isinstance(acl, PacketSplitter)


def test_endpoints_are_found_from_descriptors() -> None:
    device = FakeUsbDevice()
    device.set_configuration()
    ep = find_endpoints(device)
    assert (ep.interface, ep.interrupt_in, ep.bulk_in, ep.bulk_out) == (0, INTERRUPT_IN, BULK_IN, BULK_OUT)
    other = FakeUsbDevice(bluetooth=False)
    other.set_configuration()
    with pytest.raises(TransportError, match="has no interface with the HCI endpoints"):
        find_endpoints(other)


def test_device_selection_and_what_is_missing() -> None:
    dongle = FakeUsbDevice(vendor=0x2FE3, product=0x000B)
    second = FakeUsbDevice(vendor=0x0A12, product=0x0001)
    keyboard = FakeUsbDevice(vendor=0x046D, product=0xC31C, bluetooth=False)
    bt, everything = [dongle, second], [keyboard, dongle, second]
    assert select_device(UsbSpec(0), bt, everything) is dongle
    assert select_device(UsbSpec(1), bt, everything) is second
    assert select_device(UsbSpec(0, 0x0A12, 0x0001), bt, everything) is second
    with pytest.raises(TransportError, match=r"only 2 device\(s\) match .* \(index 2 asked\).*2fe3:000b"):
        select_device(UsbSpec(2), bt, everything)
    with pytest.raises(TransportError, match=r"no 1915:521f is plugged in; Bluetooth USB devices here: "
                                             r"2fe3:000b \(bus 1 address 4\), 0a12:0001 \(bus 1 address 4\)"):
        select_device(UsbSpec(0, 0x1915, 0x521F), bt, everything)
    with pytest.raises(TransportError, match="no USB devices are visible to this process"):
        select_device(UsbSpec(0), [], [])


def test_firmware_needs_are_reported() -> None:
    realtek = FakeUsbDevice(vendor=0x0BDA, product=0x8771)
    transport = UsbTransport(UsbSpec(0), device=realtek)
    try:
        assert len(transport.notes) == 1
        assert "Realtek controllers usually need a firmware patch" in transport.notes[0]
        assert "blesim does not load firmware" in transport.notes[0]
    finally:
        transport.close()
    plain = UsbTransport(UsbSpec(0), device=FakeUsbDevice())
    assert plain.notes == []
    plain.close()


def test_acl_waits_for_the_event_announcing_its_connection() -> None:
    ordering = AclOrdering(hold_ns=100)
    # LE Connection Complete, handle 0x0040 (Vol 4 Part E 7.7.65.1).
    complete = bytes.fromhex("3e13" "01" "00" "4000" "01" "00a1b2c3d4e5f0" "28000000480100")
    data = bytes.fromhex("4020" "0700" "0300" "0400" "0a0300")  # ATT Read Request on handle 0x0040
    assert ordering.acl(data, now=0) == []  # read before its event: held
    assert ordering.event(complete) == [data]  # released right after the event
    assert ordering.acl(data, now=5) == [data]  # known handle: passes
    assert ordering.reordered == 1
    # Disconnection Complete forgets the handle; data for an unknown handle is let go late.
    assert ordering.event(bytes.fromhex("0504" "00" "4000" "13")) == []
    assert ordering.acl(data, now=10) == []
    assert ordering.expire(now=50) == []
    assert ordering.expire(now=110) == [data]
