"""The device API's PHY and data length calls (emu.device_connection over host.gap_phy).

Two devices in a ``make_world`` world, driven from pytest with the KernelWaiter: the
phone asks for LE 2M / LE Coded and for 251-octet PDUs, and both sides see the change.
"""

from __future__ import annotations

import pytest

from emu.device import Connection, Device, DeviceError, DeviceUsageError
from emu.world import make_world
from linklayer.ctrl_base import ControllerConfig
from linklayer.hci.supported import LeFeature

Rig = tuple[Device, Device, Connection, Connection]


def make_rig(server_config: ControllerConfig | None = None) -> Rig:
    world = make_world(5)
    server = Device.create(world, "server", (0.0, 0.0), controller_config=server_config)
    phone = Device.create(world, "phone", (2.0, 0.0))
    server.advertise(name="sensor", interval_ms=30)
    conn = phone.connect(phone.find(name="sensor", timeout_ms=1000), interval_ms=15)
    peer = server.wait_for_connection(timeout_ms=100)
    return server, phone, conn, peer


@pytest.fixture
def rig() -> Rig:
    return make_rig()


def test_set_phy_2m_from_either_side(rig: Rig) -> None:
    server, phone, conn, peer = rig
    assert conn.phy == ("1M", "1M") and peer.phy == ("1M", "1M")
    t0 = phone.time_ms
    assert conn.set_phy(tx="2M", rx="2M") == ("2M", "2M")
    assert phone.time_ms > t0  # it blocked on simulated time
    server.sleep_ms(1)
    assert peer.phy == ("2M", "2M")
    # The central's controller keeps the preferences of its last LE_Set_PHY (7.8.49):
    # LE 2M only, so the peripheral's wish for LE 1M changes nothing.
    assert peer.set_phy(tx="1M", rx=["1M", "2M"]) == ("2M", "2M")


def test_set_phy_from_the_peripheral() -> None:
    server, phone, conn, peer = make_rig()
    assert peer.set_phy(tx="1M", rx=["1M", "2M"]) == ("1M", "2M")
    phone.sleep_ms(1)
    assert conn.phy == ("2M", "1M")  # the central sends on what the peripheral receives on


def test_set_phy_coded_and_unchanged(rig: Rig) -> None:
    server, phone, conn, peer = rig
    assert conn.set_phy("coded", "coded") == ("coded", "coded")
    assert conn.set_phy("coded", "coded") == ("coded", "coded")  # nothing to change: completes too
    assert conn.read(0x0003)  # the link still carries data (the Device Name)


def test_set_phy_refusals(rig: Rig) -> None:
    server, phone, conn, peer = rig
    for tx in ("3M", [], ["2M", "fast"], 2):
        with pytest.raises(DeviceUsageError):
            conn.set_phy(tx=tx)  # type: ignore[arg-type]
    assert conn.phy == ("1M", "1M")


def test_set_phy_the_peer_cannot_do_is_a_device_error() -> None:
    no_phys = ControllerConfig(le_features=int(
        ControllerConfig().le_features & ~(LeFeature.LE_2M_PHY | LeFeature.LE_CODED_PHY)))
    server, phone, conn, peer = make_rig(no_phys)
    with pytest.raises(DeviceError, match="0x1A"):
        conn.set_phy("2M", "2M")
    assert conn.phy == ("1M", "1M") and conn.connected


def test_set_data_length(rig: Rig) -> None:
    server, phone, conn, peer = rig
    assert conn.data_length == (27, 328, 27, 328)
    assert conn.set_data_length(251) == (251, 2120, 27, 328)
    server.sleep_ms(1)
    assert peer.data_length == (27, 328, 251, 2120)
    # Already in effect: no LE Data Length Change will come; returns at once.
    t = phone.time_ms
    assert conn.set_data_length(251) == (251, 2120, 27, 328)
    assert phone.time_ms == t
    # The peer answers too: both directions 251 octets.
    assert peer.set_data_length(251, time_us=2120) == (251, 2120, 251, 2120)
    phone.sleep_ms(1)
    assert conn.data_length == (251, 2120, 251, 2120)
    assert conn.exchange_mtu(247) == 247
    assert conn.read(0x0003)  # the link still carries data (the Device Name)
    with pytest.raises(DeviceUsageError):
        conn.set_data_length(252)
    with pytest.raises(DeviceUsageError):
        conn.set_data_length(100, time_us=300)


def test_set_data_length_the_peer_cannot_do_returns_the_unchanged_lengths() -> None:
    no_dle = ControllerConfig(le_features=int(
        ControllerConfig().le_features & ~LeFeature.LE_DATA_PACKET_LENGTH_EXTENSION))
    server, phone, conn, peer = make_rig(no_dle)
    # The controller accepts the command, the peer answers LL_UNKNOWN_RSP, the effective
    # lengths stay: no LE Data Length Change (7.7.65.7), the call returns after its wait.
    t = phone.time_ms
    assert conn.set_data_length(251, timeout_ms=300) == (27, 328, 27, 328)
    assert 300 <= phone.time_ms - t < 400
    assert conn.connected
