"""The ``micropython`` personality: unmodified MicroPython BLE firmware on simulated nodes.

Theory of operation
-------------------
A ``personality: micropython`` node runs its firmware with MicroPython's modules, built
per node and per boot from the node's :class:`~emu.personality.NodeContext`:

* ``bluetooth`` / ``ubluetooth`` (:mod:`.bluetooth_mod`): the ``BLE`` singleton over the
  node's host (:mod:`.ble_core`, :mod:`.gap`, :mod:`.gatts`, :mod:`.gattc`,
  :mod:`.l2cap`, :mod:`.pairing`), ``UUID`` (:mod:`.uuid`) and the ``FLAG_*``
  constants. API calls become host calls; host events become IRQs delivered in order,
  each in a firmware thread at the instant of its event (:mod:`.irq`). The behaviour is
  the NimBLE build's (handle numbering, payloads, errors, truncation); the node object
  ``stack`` (``ctx.objects["stack"]``, or a ``stack`` field of the node spec when the
  scenario schema gains one) set to ``"btstack"`` switches to the BTstack build's
  documented differences.
* ``time`` / ``utime`` (:mod:`.time_mod`), ``machine`` (:mod:`.machine_mod`),
  ``micropython``, ``sys``, ``_thread``, ``gc`` and the ``u``-aliases of standard
  modules (:mod:`.micropython_mod`); ``os``/``uos`` and ``random``/``urandom`` are the
  firmware runtime's (the node's state folder, its seeded stream);
* ``asyncio`` / ``uasyncio`` from :mod:`.asyncio_mod` (written separately; included when
  present).

The personality is an adapter (STYLE 10): every protocol rule lives in ``host``; what is
here is MicroPython's API surface and the board's observable behaviour.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .bluetooth_mod import make_bluetooth_module
from .machine_mod import make_machine_module
from .micropython_mod import (
    alias,
    make_gc_module,
    make_micropython_module,
    make_sys_module,
    make_thread_module,
    stdlib_aliases,
)
from .starter import STARTER
from .time_mod import make_time_module

if TYPE_CHECKING:
    from emu.personality import NodeContext

__all__ = ["PERSONALITY", "STACKS", "STARTER", "MicroPythonPersonality", "node_stack"]

#: The host stacks a MicroPython build may use.
STACKS = ("nimble", "btstack")


def node_stack(ctx: NodeContext) -> str:
    """``"nimble"`` (default) or ``"btstack"`` for this node."""
    stack = getattr(ctx.spec, "stack", None) or ctx.objects.get("stack", "nimble")
    if stack not in STACKS:
        raise ValueError(f"node {ctx.name!r}: unknown MicroPython stack {stack!r} (nimble or btstack)")
    return str(stack)


def _asyncio_modules() -> dict[str, Any]:
    try:
        mod = importlib.import_module("apis.micropython.asyncio_mod")
    except ModuleNotFoundError as exc:
        if exc.name is not None and exc.name.startswith("apis.micropython"):
            return {}
        raise
    table = getattr(mod, "ASYNCIO_MODULES", None)
    return dict(table) if table else {}


@dataclass(frozen=True)
class MicroPythonPersonality:
    """What ``emu`` asks of the ``micropython`` personality."""

    name: str = "micropython"
    per_node_packages: tuple[str, ...] = ()

    def modules(self, ctx: NodeContext) -> dict[str, Any]:
        """The module table of a MicroPython node (factories called per boot)."""
        stack = node_stack(ctx)
        table: dict[str, Any] = {
            "bluetooth": lambda rt: make_bluetooth_module(ctx, rt, stack),
            "ubluetooth": alias("bluetooth"),
            "time": make_time_module,
            "utime": alias("time"),
            "machine": lambda rt: make_machine_module(ctx, rt),
            "umachine": alias("machine"),
            "micropython": make_micropython_module,
            "sys": make_sys_module,
            "usys": alias("sys"),
            "_thread": make_thread_module,
            "gc": make_gc_module,
        }
        table.update(stdlib_aliases())
        table.update(_asyncio_modules())
        return table


PERSONALITY = MicroPythonPersonality()
