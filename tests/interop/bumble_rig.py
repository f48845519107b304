"""Bumble (an independent host stack and virtual controller) on its own asyncio thread.

:class:`BumbleThread` runs one asyncio loop in a daemon thread for the duration of a test
while blesim's paced world runs in the test's thread; ``submit(coro)`` starts a coroutine
there and returns a :class:`concurrent.futures.Future`, so the world can be advanced until
Bumble's side is done (``future.done``) and the result read with a bounded wait.

:func:`runner_for` builds a scenario's runner from YAML (nodes' firmware found under
``scenarios/``), :func:`run_until_done` advances it until Bumble's side is done or
``WALL_S`` wall seconds pass, :func:`served_port` gives a served controller's TCP port and
:func:`outputs` a node's printed lines.

:func:`temperature_peripheral` is a Bumble GATT server shaped like MicroPython's
temperature sensor example (Environmental Sensing 0x181A, Temperature 0x2A6E read +
notify, advertised as ``mpy-temp``), so the unmodified MicroPython central example finds
and reads it; once a central subscribes it sends one notification.
"""

from __future__ import annotations

import asyncio
import struct
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Coroutine, TypeVar

import pytest

from emu.run import Runner, RunOptions
from emu.scenario import loads_scenario

T = TypeVar("T")

bumble = pytest.importorskip("bumble", reason="Bumble (PyPI bumble) is the independent peer")

#: 21.50 °C and 22.33 °C as the Temperature characteristic encodes them (sint16, 0.01 °C).
READ_VALUE = struct.pack("<h", 2150)
NOTIFIED_VALUE = struct.pack("<h", 2233)


SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
WALL_S = 30.0


def runner_for(yaml: str, tmp_path: Path, lines: list[str]) -> Runner:
    text = yaml + f"capture: {{air: {tmp_path}/air.pcap, hci: {tmp_path}/hci/}}\n"
    return Runner(loads_scenario(text, base_dir=SCENARIOS), RunOptions(echo=lines.append))


def run_until_done(runner: Runner, done: Any) -> None:
    deadline = time.monotonic() + WALL_S
    try:
        runner.advance(runner.scenario.duration_ns, condition=lambda: done() or time.monotonic() > deadline)
    finally:
        runner.finish()


def served_port(runner: Runner, node: str) -> int:
    assert runner.bridges is not None
    (bridge,) = runner.bridges.of(node)
    return int(bridge.transport.address[1])  # type: ignore[attr-defined]


def outputs(runner: Runner, node: str) -> list[str]:
    return [o.text for o in runner.record.nodes[node].output]


class BumbleThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="bumble", daemon=True)
        self.thread.start()

    def submit(self, coro: Coroutine[Any, Any, T]) -> "Future[T]":
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def close(self) -> None:
        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(cancel_all(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def temperature_peripheral(device: Any) -> Any:
    """Add the temperature service to a Bumble ``Device``; returns its characteristic."""
    from bumble.core import AdvertisingData
    from bumble.gatt import Characteristic, Service

    char = Characteristic("2A6E", Characteristic.Properties.READ | Characteristic.Properties.NOTIFY,
                          Characteristic.READABLE, READ_VALUE)
    device.add_service(Service("181A", [char]))
    device.advertising_data = bytes(AdvertisingData([
        (AdvertisingData.FLAGS, bytes([0x06])),
        (AdvertisingData.COMPLETE_LOCAL_NAME, b"mpy-temp"),
        (AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS, bytes.fromhex("1a18")),
    ]))
    subscribed = asyncio.Event()

    def on_subscription(connection: Any, notify_enabled: bool, indicate_enabled: bool) -> None:
        if notify_enabled:
            subscribed.set()

    char.on("subscription", on_subscription)

    async def notify_once() -> None:
        await subscribed.wait()
        await device.notify_subscribers(char, NOTIFIED_VALUE)

    asyncio.get_running_loop().create_task(notify_once())
    return char
