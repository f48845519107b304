"""Interop through real HCI with Bumble, an independent host stack and controller.

1. Bumble's host, as a central, over ``tcp-server`` to a simulated controller (an ``hci``
   node) reaches a simulated node running MicroPython's Nordic UART peripheral example:
   discovers its services, reads, writes, and receives notifications.
2. Bumble's host, as a peripheral, over its own served controller, is found, read and
   notified by a simulated node running MicroPython's temperature central example.
3. blesim's own host under the MicroPython personality drives a Bumble virtual controller
   over TCP exactly as it would a dongle (``controller: tcp-client:...``), and completes a
   GATT session with a Bumble peripheral on Bumble's link.

Every run is paced to the wall clock; each test is bounded (``WALL_S``).
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from .bumble_rig import (
    BumbleThread,
    outputs,
    run_until_done,
    runner_for,
    served_port,
    temperature_peripheral,
)

pytest.importorskip("bumble")

UART_PERIPHERAL = "11:22:33:44:55:66"


def test_bumble_central_uses_a_micropython_peripheral(tmp_path: Path, bumble_thread: BumbleThread) -> None:
    lines: list[str] = []
    runner = runner_for(f"""
name: bumble-central
seed: 2
duration: 60s
nodes:
  - name: uart
    personality: micropython
    firmware: firmware/micropython_uart_peripheral.py
    lib: [lib/micropython]
    address: "{UART_PERIPHERAL}"
  - name: bumble
    personality: hci
    transport: tcp-server:127.0.0.1:0
    position: [1, 0]
""", tmp_path, lines)
    port = served_port(runner, "bumble")

    async def central() -> dict[str, Any]:
        import asyncio

        from bumble.core import UUID
        from bumble.device import Device, Peer
        from bumble.hci import Address
        from bumble.transport import open_transport

        out: dict[str, Any] = {}
        async with await open_transport(f"tcp-client:127.0.0.1:{port}") as t:
            device = Device.with_hci("bumble", Address("C0:98:E5:49:00:01"), t.source, t.sink)
            await device.power_on()
            connection = await asyncio.wait_for(
                device.connect(Address(UART_PERIPHERAL, Address.PUBLIC_DEVICE_ADDRESS)), 15)
            peer = Peer(connection)
            await peer.discover_services()
            await peer.discover_characteristics()
            out["services"] = sorted(str(s.uuid) for s in peer.services)
            (name,) = peer.get_characteristics_by_uuid(UUID.from_16_bits(0x2A00))
            out["name"] = bytes(await name.read_value())
            (tx,) = peer.get_characteristics_by_uuid(UUID("6E400003-B5A3-F393-E0A9-E50E24DCCA9E"))
            (rx,) = peer.get_characteristics_by_uuid(UUID("6E400002-B5A3-F393-E0A9-E50E24DCCA9E"))
            notified: asyncio.Queue[bytes] = asyncio.Queue()
            await tx.subscribe(lambda value: notified.put_nowait(bytes(value)))
            await rx.write_value(b"hello bumble\n", with_response=True)
            out["notified"] = await asyncio.wait_for(notified.get(), 10)
            await connection.disconnect()
        return out

    done = bumble_thread.submit(central())
    run_until_done(runner, done.done)
    result = done.result(timeout=5)
    assert any("6E400001-B5A3-F393-E0A9-E50E24DCCA9E" in s for s in result["services"])
    assert any("1800" in s for s in result["services"])
    assert result["name"] == b"MPY NIMBLE"
    assert result["notified"] == b"HELLO BUMBLE\n"
    assert outputs(runner, "uart")[:3] == ["uart ready", "central connected", "rx: hello bumble"]
    assert runner.record.connections and runner.record.connections[0].peripheral == "uart"
    summary = runner.summary(runner.results())
    assert summary["paced"]["real_time"] is True


def test_micropython_central_reads_a_bumble_peripheral(tmp_path: Path, bumble_thread: BumbleThread) -> None:
    lines: list[str] = []
    runner = runner_for("""
name: bumble-peripheral
seed: 2
duration: 60s
nodes:
  - name: central
    personality: micropython
    firmware: firmware/micropython_temp_central.py
    lib: [lib/micropython]
  - name: bumble
    personality: hci
    transport: tcp-server:127.0.0.1:0
    position: [2, 0]
""", tmp_path, lines)
    port = served_port(runner, "bumble")

    async def peripheral() -> None:
        import asyncio

        from bumble.device import Device
        from bumble.hci import Address
        from bumble.transport import open_transport

        async with await open_transport(f"tcp-client:127.0.0.1:{port}") as t:
            device = Device.with_hci("mpy-temp", Address("F0:F1:F2:F3:F4:F5"), t.source, t.sink)
            temperature_peripheral(device)
            await device.power_on()
            await device.start_advertising(auto_restart=False)
            while not central_done():
                await asyncio.sleep(0.05)

    def central_done() -> bool:
        out = outputs(runner, "central")
        return any(line.startswith("read:") for line in out) and any(line.startswith("notified:") for line in out)

    done = bumble_thread.submit(peripheral())
    run_until_done(runner, lambda: done.done())
    done.result(timeout=5)
    out = outputs(runner, "central")
    assert out[:3] == ["found sensor: mpy-temp", "connected, temperature handle found", "subscribed, status 0"]
    assert "read: 21.50 C" in out and "notified: 22.33 C" in out
    assert runner.record.nodes["central"].failures == []


def test_blesim_host_drives_a_bumble_controller_as_a_dongle(tmp_path: Path, bumble_thread: BumbleThread) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))  # an ephemeral port for Bumble's controller
    listener.listen(1)
    port = listener.getsockname()[1]

    async def bumble_side() -> Any:
        from bumble.controller import Controller
        from bumble.device import Device
        from bumble.hci import Address
        from bumble.host import Host
        from bumble.link import LocalLink
        from bumble.transport.common import AsyncPipeSink
        from bumble.transport.tcp_server import open_tcp_server_transport_with_socket

        link = LocalLink()  # type: ignore[no-untyped-call]
        served = await open_tcp_server_transport_with_socket(listener)
        # The "dongle": a Bumble virtual controller served by Bumble over TCP.
        Controller("dongle", host_source=served.source, host_sink=served.sink, link=link,
                   public_address="C0:00:00:00:00:01")
        # A Bumble peripheral on the same virtual link.
        peer_controller = Controller("peer", link=link, public_address="F0:F1:F2:F3:F4:F5")
        device = Device(address=Address("F0:F1:F2:F3:F4:F5"), host=Host(peer_controller, AsyncPipeSink(peer_controller)))
        temperature_peripheral(device)
        await device.power_on()
        await device.start_advertising(auto_restart=True)
        return served

    served = bumble_thread.submit(bumble_side()).result(timeout=10)
    lines: list[str] = []
    # address_type random: Bumble's virtual link routes LE data by the sender's random address.
    runner = runner_for(f"""
name: bumble-dongle
seed: 2
duration: 60s
nodes:
  - name: central
    personality: micropython
    firmware: firmware/micropython_temp_central.py
    lib: [lib/micropython]
    controller: tcp-client:127.0.0.1:{port}
    address_type: random
""", tmp_path, lines)

    def central_done() -> bool:
        out = outputs(runner, "central")
        return any(line.startswith("read:") for line in out) and any(line.startswith("notified:") for line in out)

    try:
        run_until_done(runner, central_done)
    finally:
        bumble_thread.submit(served.close()).result(timeout=10)
    out = outputs(runner, "central")
    assert out[:3] == ["found sensor: mpy-temp", "connected, temperature handle found", "subscribed, status 0"]
    assert "read: 21.50 C" in out and "notified: 22.33 C" in out
    record = runner.record.nodes["central"]
    assert record.failures == []
    assert record.address == str(runner.nodes["central"].host.address)
    summary = runner.summary(runner.results())
    (transport,) = summary["nodes"]["central"]["transports"]
    assert transport["outside"] == "controller" and transport["packets_in"] > 20
    # The real controller's traffic is in the node's HCI capture.
    assert (tmp_path / "hci" / "central.btsnoop").stat().st_size > 1000
