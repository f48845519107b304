"""Building one node's ``_bleio`` module.

Theory of operation
-------------------
:func:`make_bleio_module` is called once per node and per boot (when the firmware, or a
library such as adafruit_ble, first imports ``_bleio``). It makes the node's
:class:`~.node.BleioNode`, the node's subclasses of the two classes whose constructors
need to know their node (``UUID``, which registers 128-bit bases with the node, and
``Service``, which registers itself in the node's GATT server), the ``adapter``
singleton, and a module holding exactly the names of CircuitPython's ``_bleio``.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

from .adapter import Adapter, ScanEntry, ScanResults
from .buffers import CharacteristicBuffer, PacketBuffer
from .connection import Connection
from .errors import BluetoothError, ConnectionError, RoleError, SecurityError
from .gatt import Characteristic, Descriptor, Service
from .node import BleioNode
from .values import UUID, Address, Attribute

if TYPE_CHECKING:
    from emu.personality import NodeContext
    from emu.runtime import NodeRuntime

__all__ = ["NODE_KEY", "make_bleio_module"]

#: Key of the node's :class:`BleioNode` in ``NodeContext.objects`` (for tests and tools).
NODE_KEY = "circuitpython.bleio"

_DOC = """Bluetooth Low Energy (BLE) communication (blesim's CircuitPython ``_bleio``).

The '_' prefix indicates this module is meant for internal use by libraries such as
adafruit_ble."""

for _cls in (Adapter, Address, Attribute, Characteristic, CharacteristicBuffer, Connection, Descriptor,
             PacketBuffer, ScanEntry, ScanResults, Service, UUID):
    _cls.__module__ = "_bleio"


def _set_adapter(adapter: Any) -> None:
    raise NotImplementedError("Read-only")


def make_bleio_module(ctx: NodeContext, runtime: NodeRuntime) -> ModuleType:
    """The ``_bleio`` module of ``ctx``'s node for this boot."""
    node = BleioNode(ctx, runtime)
    uuid_cls = type("UUID", (UUID,), {"__slots__": (), "_registry": set(), "__module__": "_bleio",
                                      "__qualname__": "UUID"})
    service_cls = type("Service", (Service,), {"_node_of_class": node, "__module__": "_bleio",
                                               "__qualname__": "Service"})
    node.classes.update(UUID=uuid_cls, Service=service_cls)
    try:
        node.ensure_ready()
    except BluetoothError:
        pass  # the host is still powering on; calls that need it wait or raise then
    ctx.objects[NODE_KEY] = node
    mod = ModuleType("_bleio", _DOC)
    values: dict[str, Any] = {
        "adapter": Adapter._make(node),
        "set_adapter": _set_adapter,
        "Adapter": Adapter,
        "Address": Address,
        "Attribute": Attribute,
        "Characteristic": Characteristic,
        "CharacteristicBuffer": CharacteristicBuffer,
        "Connection": Connection,
        "Descriptor": Descriptor,
        "PacketBuffer": PacketBuffer,
        "ScanEntry": ScanEntry,
        "ScanResults": ScanResults,
        "Service": service_cls,
        "UUID": uuid_cls,
        "BluetoothError": BluetoothError,
        "ConnectionError": ConnectionError,
        "RoleError": RoleError,
        "SecurityError": SecurityError,
    }
    for key, value in values.items():
        setattr(mod, key, value)
    return mod
