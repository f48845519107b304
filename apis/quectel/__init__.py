"""The ``quectel`` personality: QuecPython firmware (``ble`` and friends) on simulated nodes.

Theory of operation
-------------------
A ``personality: quectel`` node runs unmodified QuecPython firmware for the EC200U,
EC600U, EG915U and EG912U modules. Its firmware imports, per node and per boot:

* ``ble`` (:mod:`.ble`) — the GATT server/client API of the QuecPython document, an
  adapter over the node's :class:`host.host.Host` (:mod:`.ble_stack`, :mod:`.ble_client`,
  :mod:`.ble_gatt_table`, :mod:`.ble_smp`); events go to the firmware's callback
  asynchronously, one at a time, on the node's single callback thread, through a
  64-deep queue that drops when full (:mod:`.board`);
* ``utime``/``time``, ``_thread``, ``queue`` (:mod:`.sysmods`) on simulated time and
  firmware threads;
* ``checkNet``, ``osTimer``, ``log``, ``misc``, ``modem``, ``usys``/``sys`` (:mod:`.boardmods`),
  harmless stand-ins for the board's services;
* builtins with QuecPython's quirks (:mod:`.builtins_quirks`), given to Quectel nodes
  only (``"__builtins__"`` in the module table, also set on the node runtime).

The node's host driver reports every host event to :func:`_forward`, which hands it to
the ``ble`` stack of the current boot (if the firmware has imported ``ble``). No protocol
rule lives here (STYLE 10): the host does the Bluetooth work; this package translates.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable

from emu.personality import NodeContext
from emu.runtime.node import NodeRuntime
from host.events import HostEvent

from .ble import make_ble_module
from .ble_stack import BleStack
from .board import QuectelBoard, board_for
from .boardmods import (
    make_checknet_module,
    make_log_module,
    make_misc_module,
    make_modem_module,
    make_ostimer_module,
    make_usys_module,
)
from .builtins_quirks import QUECTEL_BUILTINS
from .starter import STARTER
from .sysmods import make_queue_module, make_thread_module, make_utime_module

__all__ = ["PERSONALITY", "QuectelPersonality", "STARTER"]

_LISTENER_KEY = "quectel.listener"

Factory = Callable[[QuectelBoard], ModuleType]

#: Module name -> factory of the module for one board (node and boot).
_MODULES: dict[str, Factory] = {
    "ble": make_ble_module,
    "utime": make_utime_module,
    "time": make_utime_module,
    "_thread": make_thread_module,
    "queue": make_queue_module,
    "checkNet": make_checknet_module,
    "osTimer": make_ostimer_module,
    "log": make_log_module,
    "misc": make_misc_module,
    "modem": make_modem_module,
    "usys": make_usys_module,
    "sys": make_usys_module,
}


def _forward(ctx: NodeContext) -> Callable[[int, HostEvent], None]:
    def listener(t_ns: int, event: HostEvent) -> None:
        board: QuectelBoard | None = ctx.objects.get("quectel.board")
        if board is None or board.stopped:
            return
        stack: BleStack | None = board.objects.get("ble")
        if stack is not None:
            stack.on_host_event(t_ns, event)

    return listener


def _factory(ctx: NodeContext, make: Factory) -> Callable[[NodeRuntime], ModuleType]:
    return lambda runtime: make(board_for(ctx, runtime))


@dataclass(frozen=True)
class QuectelPersonality:
    """What ``emu`` asks of the ``quectel`` personality (:class:`emu.personality.Personality`)."""

    name: str = "quectel"
    per_node_packages: tuple[str, ...] = ()

    def modules(self, ctx: NodeContext) -> dict[str, Any]:
        """The node's module table: each module a factory called per boot, plus
        ``"__builtins__"``: the builtin overrides of Quectel firmware."""
        if _LISTENER_KEY not in ctx.objects:
            listener = _forward(ctx)
            ctx.objects[_LISTENER_KEY] = listener
            ctx.host_driver.listeners.append(listener)
        # Until the runner applies "__builtins__" itself, set them on the runtime (read at boot).
        ctx.runtime.extra_builtins.update(QUECTEL_BUILTINS)
        table: dict[str, Any] = {name: _factory(ctx, make) for name, make in _MODULES.items()}
        table["__builtins__"] = dict(QUECTEL_BUILTINS)
        return table


PERSONALITY = QuectelPersonality()
