"""The ``bluetooth`` (``ubluetooth``) module of a MicroPython node.

Theory of operation
-------------------
:class:`BLE` puts the parts together (GAP, GATT server, GATT client, L2CAP, pairing: one
mixin each over :class:`~apis.micropython.ble_core.BleCore`). ``bluetooth.BLE()`` returns
the node's singleton for the current boot, as MicroPython's ``make_new`` does, so
``aioble`` can call it at import and the firmware later gets the same object. The module
is built per node and per boot by :func:`make_bluetooth_module`; the BLE object goes
away with the firmware (``machine.reset``, a reboot, a failure): its radio activity is
stopped and the next boot starts inactive, as a board does after a reset.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

from host.events import SubscriptionChanged

from .ble_core import ConnInfo
from .gap import GapMixin
from .gattc import GattcMixin
from .gatts import GattsMixin
from .l2cap import L2capMixin
from .pairing import PairingMixin
from .uuid import UUID

if TYPE_CHECKING:
    from emu.personality import NodeContext
    from emu.runtime import NodeRuntime

__all__ = ["BLE", "FLAGS", "make_bluetooth_module"]

#: The ``FLAG_*`` constants the ``bluetooth`` module carries.
FLAGS = {
    "FLAG_BROADCAST": 0x0001,
    "FLAG_READ": 0x0002,
    "FLAG_WRITE_NO_RESPONSE": 0x0004,
    "FLAG_WRITE": 0x0008,
    "FLAG_NOTIFY": 0x0010,
    "FLAG_INDICATE": 0x0020,
    "FLAG_AUTHENTICATED_SIGNED_WRITE": 0x0040,
    "FLAG_AUX_WRITE": 0x0100,
    "FLAG_READ_ENCRYPTED": 0x0200,
    "FLAG_READ_AUTHENTICATED": 0x0400,
    "FLAG_READ_AUTHORIZED": 0x0800,
    "FLAG_WRITE_ENCRYPTED": 0x1000,
    "FLAG_WRITE_AUTHENTICATED": 0x2000,
    "FLAG_WRITE_AUTHORIZED": 0x4000,
}


class BLE(GapMixin, GattsMixin, GattcMixin, L2capMixin, PairingMixin):
    """MicroPython's ``bluetooth.BLE`` for one node and one boot."""

    def __init__(self, ctx: NodeContext, runtime: NodeRuntime, stack: str = "nimble") -> None:
        super().__init__(ctx, runtime, stack)
        self._init_gap()
        self._init_gatts()
        self._init_gattc()
        self._init_l2cap()
        self._init_pairing()
        self._on(SubscriptionChanged, self._ignore)

    def __repr__(self) -> str:
        return "<BLE>"

    def _on_activate(self) -> None:
        self._gatts_activate()
        self._pairing_activate()

    def _on_deactivate(self) -> None:
        self._gap_deactivate()
        self._l2cap_deactivate()

    def _connection_closed(self, info: ConnInfo) -> None:
        self._gattc_closed(info)
        self._l2cap_closed(info)


def make_bluetooth_module(ctx: NodeContext, runtime: NodeRuntime, stack: str = "nimble") -> ModuleType:
    """The node's ``bluetooth`` module for this boot (``BLE()`` is its singleton)."""
    mod = ModuleType("bluetooth", "bluetooth: MicroPython's low-level Bluetooth module (blesim)")
    singleton: list[BLE] = []

    class NodeBLE(BLE):
        """``bluetooth.BLE()``: returns the singleton BLE object of this node."""

        def __new__(cls, *args: Any) -> NodeBLE:
            if args:
                raise TypeError(f"function takes 0 positional arguments but {len(args)} were given")
            if not singleton:
                obj = object.__new__(cls)
                BLE.__init__(obj, ctx, runtime, stack)
                singleton.append(obj)
                ctx.objects["ble"] = obj
            found = singleton[0]
            assert isinstance(found, NodeBLE)
            return found

        def __init__(self, *args: Any) -> None:  # built once, in __new__
            pass

    NodeBLE.__name__ = NodeBLE.__qualname__ = "BLE"
    NodeBLE.__module__ = "bluetooth"
    setattr(mod, "BLE", NodeBLE)
    setattr(mod, "UUID", UUID)
    for name, value in FLAGS.items():
        setattr(mod, name, value)
    return mod

