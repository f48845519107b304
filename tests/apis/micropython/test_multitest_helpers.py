"""Helpers of the multitest/asyncio tests: a core MicroPython personality to fall back on.

The multitest harness and the asyncio stand-in need only ``time``, ``machine``,
``micropython`` and ``asyncio`` for their non-BLE tests. When the ``micropython``
personality (``apis/micropython/__init__.py``, with ``bluetooth``) is installed, tests
use it; until then :func:`micropython_personality` registers :data:`PERSONALITY` below
(no ``bluetooth``: BLE multitests then fail, they are never skipped).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from apis.micropython.asyncio_mod import ASYNCIO_MODULES
from emu import personality as personality_registry
from emu.personality import NodeContext, PersonalityUnavailable, load_personality
from emu.runtime import NodeRuntime

MS = 1_000_000
US = 1_000
TICKS_PERIOD = 1 << 30


def make_time(node: NodeRuntime) -> ModuleType:
    """MicroPython's ``time`` on simulated time (ticks wrap at 2**30)."""
    mod = ModuleType("time")
    setattr(mod, "sleep", lambda s: node.sleep_ns(round(s * 1_000_000_000)))
    setattr(mod, "sleep_ms", lambda ms: node.sleep_ns(int(ms) * MS))
    setattr(mod, "sleep_us", lambda us: node.sleep_ns(int(us) * US))
    setattr(mod, "ticks_ms", lambda: (node.now // MS) % TICKS_PERIOD)
    setattr(mod, "ticks_us", lambda: (node.now // US) % TICKS_PERIOD)
    setattr(mod, "ticks_add", lambda t, d: (t + d) % TICKS_PERIOD)
    setattr(
        mod, "ticks_diff",
        lambda a, b: ((a - b + TICKS_PERIOD // 2) % TICKS_PERIOD) - TICKS_PERIOD // 2,
    )
    setattr(mod, "time", lambda: node.now // 1_000_000_000)
    return mod


def make_machine(node: NodeRuntime) -> ModuleType:
    mod = ModuleType("machine")
    setattr(mod, "reset", node.reboot)
    return mod


def make_micropython(node: NodeRuntime) -> ModuleType:
    mod = ModuleType("micropython")
    setattr(mod, "const", lambda x: x)
    setattr(mod, "schedule", lambda fn, arg: node.run_callback(fn, arg))
    return mod


class CorePersonality:
    """The fallback: MicroPython's core modules, no ``bluetooth``."""

    name = "micropython"
    per_node_packages: tuple[str, ...] = ()

    def modules(self, ctx: NodeContext) -> dict[str, Any]:
        table: dict[str, Any] = {
            "time": make_time,
            "utime": lambda rt: rt.importer.import_module("time"),
            "machine": make_machine,
            "micropython": make_micropython,
        }
        table.update(ASYNCIO_MODULES)
        return table


PERSONALITY = CorePersonality()


def real_personality_available() -> bool:
    try:
        load_personality("micropython")
    except PersonalityUnavailable:
        return False
    return True


@pytest.fixture
def micropython_personality(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The name to use in scenarios: the real personality, or the core fallback."""
    if not real_personality_available():
        monkeypatch.setitem(personality_registry.PERSONALITY_PACKAGES, "micropython", __name__)
    yield "micropython"


def test_fallback_time_module_wraps_ticks_as_micropython(tmp_path: Path) -> None:
    from emu.kernel import Kernel
    from emu.runtime import FirmwareScheduler

    kernel = Kernel(1)
    node = NodeRuntime("n", kernel, FirmwareScheduler(kernel), kernel.seeds, tmp_path)
    mod = make_time(node)
    diff = getattr(mod, "ticks_diff")
    assert diff(5, TICKS_PERIOD - 5) == 10
    assert diff(TICKS_PERIOD - 5, 5) == -10
    assert getattr(mod, "ticks_add")(TICKS_PERIOD - 1, 2) == 1
