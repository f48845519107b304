"""The ``native`` personality: firmware written against blesim's Python device API.

Theory of operation
-------------------
A ``personality: native`` node runs a firmware file in blocking style on simulated time,
with two modules of its own (built per node and per boot by :mod:`.modules`):

* ``blesim`` — ``device``, the node's :class:`emu.device.Device` bound to its host and
  blocking through a :class:`~emu.device_wait.FirmwareWaiter` (the calling firmware
  thread parks while simulated time runs), plus the API classes (``Service``,
  ``Characteristic``, ``Descriptor``, ``UUID``, ``AdvertisingData``, ``Address``) and
  the errors (``DeviceError``, ``TimeoutError`` ...);
* ``time`` — ``sleep``, ``sleep_ms``, ``sleep_us``, ``time``, ``time_ns``, ``monotonic``,
  ``monotonic_ns``, ``perf_counter`` on simulated time counted from the scenario epoch.

Callbacks (notification handlers, ``on_write``, ``on_subscribe``, ``on_connection``)
run through ``NodeRuntime.run_callback(..., defer=True)``: each in its own firmware
thread at the instant of its event. The personality is an adapter only (STYLE 10): it
hands the device API to the firmware; every protocol rule is in the host.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from emu.personality import NodeContext, Personality

from .modules import make_blesim_module, make_time_module
from .starter import STARTER

__all__ = ["PERSONALITY", "NativePersonality", "STARTER"]


@dataclass
class NativePersonality:
    """What ``emu`` asks of the ``native`` personality (:class:`emu.personality.Personality`)."""

    name: str = "native"
    per_node_packages: tuple[str, ...] = ()

    def modules(self, ctx: NodeContext) -> dict[str, Any]:
        """``blesim`` and ``time``, each a factory called with the node runtime per boot."""
        return {
            "blesim": lambda runtime: make_blesim_module(ctx, runtime),
            "time": make_time_module,
        }


PERSONALITY: Personality = NativePersonality()
