"""Fixtures of the interop tests."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def bumble_thread() -> Any:
    """Bumble's asyncio loop on its own thread for one test (see :mod:`.bumble_rig`)."""
    from .bumble_rig import BumbleThread

    thread = BumbleThread()
    yield thread
    thread.close()
