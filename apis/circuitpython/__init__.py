"""The ``circuitpython`` personality: ``_bleio``, and adafruit_ble unmodified on top.

Theory of operation
-------------------
A ``personality: circuitpython`` node runs a CircuitPython program (``code.py`` style) on
simulated time. Its module table (:meth:`CircuitPythonPersonality.modules`, one factory
per module, called per node and per boot) serves:

* ``_bleio`` (:mod:`.module`): the board API over the node's host — :mod:`.adapter`
  (GAP: advertising, scanning, connecting), :mod:`.gatt` (services, characteristics,
  descriptors, connections), :mod:`.buffers` (``CharacteristicBuffer``,
  ``PacketBuffer``), :mod:`.values` (``UUID``, ``Address``, ``Attribute``) and
  :mod:`.errors`; :mod:`.node` is the only part that talks to the host and blocks;
* stand-ins (:mod:`.standins`): ``time``, ``board``, ``digitalio``, ``analogio``,
  ``busio``, ``neopixel``, ``microcontroller``, ``micropython``, ``supervisor``, ``rtc``,
  ``sys`` and ``os``.

adafruit_ble (PyPI ``adafruit-circuitpython-ble``) is a *per-node package*: the node's
importer loads it from site-packages once per node with the node's builtins, so its
``import _bleio`` gets this node's module (never Blinka's ``_bleio``) and two nodes never
share its module state. The personality is an adapter (STYLE 10): protocol rules live in
the host; what is here is CircuitPython's own behaviour (argument checks, messages,
blocking, what its Nordic core does on its own).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .starter import STARTER

if TYPE_CHECKING:
    from emu.personality import NodeContext
    from emu.runtime import NodeRuntime

__all__ = ["PERSONALITY", "PER_NODE_PACKAGES", "STARTER", "CircuitPythonPersonality"]

#: Installed packages loaded per node against the node's modules (they import ``_bleio``).
PER_NODE_PACKAGES: tuple[str, ...] = ("adafruit_ble", "adafruit_bluefruit_connect")


@dataclass(frozen=True)
class CircuitPythonPersonality:
    """What ``emu`` asks of the ``circuitpython`` personality (:class:`emu.personality.Personality`)."""

    name: str = "circuitpython"
    per_node_packages: tuple[str, ...] = PER_NODE_PACKAGES

    def host_config(self, spec: Any, config: Any) -> Any:
        """Nordic CircuitPython cores offer an ATT MTU of 512 (reference/circuitpython.md)."""
        import dataclasses

        return dataclasses.replace(config, att_mtu=512)

    def modules(self, ctx: NodeContext) -> dict[str, Any]:
        """The node's module table: name -> factory called with the node runtime per boot."""
        from . import standins
        from .module import make_bleio_module

        def bleio(runtime: NodeRuntime) -> Any:
            return make_bleio_module(ctx, runtime)

        def board(runtime: NodeRuntime) -> Any:
            importer = runtime.importer
            assert importer is not None
            return standins.make_board_module(runtime, lambda: importer.import_module("busio"))

        return {
            "_bleio": bleio,
            "time": standins.make_time_module,
            "board": board,
            "digitalio": standins.make_digitalio_module,
            "analogio": standins.make_analogio_module,
            "busio": standins.make_busio_module,
            "neopixel": standins.make_neopixel_module,
            "microcontroller": standins.make_microcontroller_module,
            "micropython": standins.make_micropython_module,
            "supervisor": standins.make_supervisor_module,
            "rtc": standins.make_rtc_module,
            "sys": standins.make_sys_module,
            "os": standins.make_os_module,
        }


PERSONALITY = CircuitPythonPersonality()
