"""Fixtures for the firmware runtime tests: a kernel, a scheduler and a node factory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from emu.kernel import Kernel
from emu.runtime import FirmwareScheduler, NodeRuntime
from tests.emu.runtime.helpers import STANDINS, Errors


@pytest.fixture
def kernel() -> Kernel:
    return Kernel(seed=7)


@pytest.fixture
def scheduler(kernel: Kernel) -> FirmwareScheduler:
    return FirmwareScheduler(kernel, watchdog_s=5.0)


@pytest.fixture
def errors() -> Errors:
    return Errors()


@pytest.fixture
def make_node(
    kernel: Kernel, scheduler: FirmwareScheduler, tmp_path: Path, errors: Errors
) -> Callable[..., NodeRuntime]:
    def factory(name: str, firmware: Path | None = None, **kwargs: Any) -> NodeRuntime:
        kwargs.setdefault("modules", STANDINS)
        kwargs.setdefault("on_error", errors)
        return NodeRuntime(name, kernel, scheduler, kernel.seeds, tmp_path / "state" / name, firmware=firmware, **kwargs)

    return factory
