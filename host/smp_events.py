"""Security events of the host beyond :mod:`host.events` (Vol 3 Part H).

Theory of operation
-------------------
Frozen :class:`~host.events.HostEvent` dataclasses the :class:`~host.host.Host` emits
for the Security Manager's user interaction that the core event list does not name:
a Just Works pairing waiting for the user's consent (:class:`JustWorksRequest`, only
with ``SmpConfig.confirm_just_works``; answered with
``Host.smp(handle).just_works_reply``) and the display side of Passkey Entry asking the
application for the passkey to show (:class:`DisplayPasskeyRequest`, only with
``SmpConfig.application_passkey``; answered with ``Host.smp(handle).passkey_reply``).
"""

from __future__ import annotations

from dataclasses import dataclass

from host.events import HostEvent

__all__ = ["DisplayPasskeyRequest", "JustWorksRequest"]


@dataclass(frozen=True)
class JustWorksRequest(HostEvent):
    """A Just Works pairing waits for the user's Yes/No (``SmpConfig.confirm_just_works``)."""

    handle: int


@dataclass(frozen=True)
class DisplayPasskeyRequest(HostEvent):
    """Passkey Entry, display side: the application chooses the passkey to show
    (``SmpConfig.application_passkey``) and gives it with ``passkey_reply``."""

    handle: int
