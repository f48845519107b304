"""Security events of the host beyond :mod:`host.events` (Vol 3 Part H).

Theory of operation
-------------------
Frozen :class:`~host.events.HostEvent` dataclasses the :class:`~host.host.Host` emits
for the Security Manager's user interaction that the core event list does not name:
a Just Works pairing waiting for the user's consent (:class:`JustWorksRequest`, only
with ``SmpConfig.confirm_just_works``; answered with
``Host.smp(handle).just_works_reply``).
"""

from __future__ import annotations

from dataclasses import dataclass

from host.events import HostEvent

__all__ = ["JustWorksRequest"]


@dataclass(frozen=True)
class JustWorksRequest(HostEvent):
    """A Just Works pairing waits for the user's Yes/No (``SmpConfig.confirm_just_works``)."""

    handle: int
