"""Helpers for the firmware runtime tests: stand-in modules, file writing, an error recorder."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from emu.runtime import NodeImporter, NodeRuntime

MS = 1_000_000


def make_time(node: NodeRuntime) -> ModuleType:
    """A minimal ``time`` stand-in such as personalities build (for firmware under test)."""
    mod = ModuleType("time")
    setattr(mod, "sleep_ms", lambda ms: node.sleep_ns(int(ms) * MS))
    setattr(mod, "sleep", lambda s: node.sleep_ns(int(s * 1_000_000_000)))
    setattr(mod, "ticks_ms", lambda: node.now // MS)
    return mod


def make_thread(node: NodeRuntime) -> ModuleType:
    """A minimal ``_thread`` stand-in."""
    mod = ModuleType("_thread")
    setattr(mod, "start_new_thread", lambda fn, args: node.start_thread(fn, args))
    setattr(mod, "get_ident", node.get_ident)
    setattr(mod, "allocate_lock", node.lock)
    return mod


def make_machine(node: NodeRuntime) -> ModuleType:
    mod = ModuleType("machine")
    setattr(mod, "reset", node.reboot)
    return mod


STANDINS: dict[str, Any] = {"time": make_time, "_thread": make_thread, "machine": make_machine}


def write(path: Path, source: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source).lstrip("\n"))
    return path


class Errors:
    """An ``on_error`` hook that records its calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, BaseException, str]] = []

    def __call__(self, node: str, t_ns: int, exc: BaseException, formatted: str) -> None:
        self.calls.append((node, t_ns, exc, formatted))


def soon(fn: Callable[[], object]) -> Callable[[], None]:
    """``fn`` as a kernel callback (the kernel wants callbacks returning None)."""

    def callback() -> None:
        fn()

    return callback


def importer_of(node: NodeRuntime) -> NodeImporter:
    assert node.importer is not None, "node not booted"
    return node.importer
