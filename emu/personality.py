"""Personalities by name: what a node's firmware sees when it imports its platform's modules.

Theory of operation
-------------------
A personality is an adapter package under ``apis/`` (``apis.micropython``,
``apis.quectel``, ``apis.circuitpython``, ``apis.native``). ``emu`` finds it by name with a
lazy import — the one place ``emu`` reaches "up" into ``apis`` (../shared/DESIGN.md) — and
asks it for the node's module table: the modules the firmware's ``import`` statements
resolve to (``bluetooth``, ``ble``, ``_bleio``, ``time`` ...), each built for that node from
a :class:`NodeContext`.

Every personality package exposes a module-level ``PERSONALITY`` object satisfying
:class:`Personality`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol

if TYPE_CHECKING:
    from host.host import Host

    from .host_driver import HostDriver
    from .runtime import NodeRuntime
    from .scenario_schema import NodeSpec
    from .world import ControllerDriver, World

#: Personality name (as in scenario files) -> package under ``apis``.
PERSONALITY_PACKAGES = {
    "native": "apis.native",
    "micropython": "apis.micropython",
    "quectel": "apis.quectel",
    "circuitpython": "apis.circuitpython",
}


class PersonalityUnavailable(LookupError):
    """The named personality is not part of this installation."""


@dataclass
class NodeContext:
    """Everything a personality may use to build a node's modules."""

    name: str
    spec: "NodeSpec"
    world: "World"
    controller: "ControllerDriver"
    host: "Host"
    host_driver: "HostDriver"
    runtime: "NodeRuntime"
    state_dir: Path
    #: Per-node objects a personality keeps (its BLE singleton, ...), by key.
    objects: dict[str, Any] = field(default_factory=dict)
    #: Hooks run when the node's firmware stops or reboots.
    on_stop: list[Callable[[], None]] = field(default_factory=list)


class Personality(Protocol):
    """What ``emu`` asks of a personality package."""

    name: str
    #: Installed packages loaded once per node against the node's modules (adafruit_ble).
    per_node_packages: tuple[str, ...]

    def modules(self, ctx: NodeContext) -> dict[str, Any]:
        """The node's module table: name -> module, or factory called with the runtime."""


# A personality may also define ``host_config(spec: NodeSpec, config: HostConfig) ->
# HostConfig``: the runner calls it before building the node's host, so the host can be
# set up as the board's stack is (its ATT MTU, for instance).


def load_personality(name: str) -> Personality:
    """The personality called ``name`` (lazy import of its ``apis`` package)."""
    package = PERSONALITY_PACKAGES.get(name)
    if package is None:
        raise PersonalityUnavailable(f"unknown personality {name!r}")
    try:
        module = importlib.import_module(package)
    except ModuleNotFoundError as exc:
        if exc.name is not None and package.startswith(exc.name):
            raise PersonalityUnavailable(
                f"personality {name!r} is not available in this installation ({package} is missing)"
            ) from exc
        raise
    personality: Personality | None = getattr(module, "PERSONALITY", None)
    if personality is None:
        raise PersonalityUnavailable(f"{package} does not define PERSONALITY")
    return personality
