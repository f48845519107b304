"""One radio per controller, shared by every role that wants it.

Theory of operation
-------------------
Roles are *activities*. A foreground activity (an advertising event, an initiator's
scan window, a connection event) asks for the radio at an instant for at most a
reserved duration; the background activity (the scanner) takes the radio whenever no
foreground activity holds it and gives it up when one is due.

At each instant the scheduler grants the radio to the due activity with the highest
:class:`Priority` (ties: the earlier request, then registration order). A due activity
that cannot have the radio is *deferred* if it says it may be (advertising events may
slip a little, Vol 6 Part B 4.4.2.2) or *skipped* otherwise (a connection event that
loses the radio is skipped, as on hardware). Before granting, the scheduler looks ahead:
an activity whose reservation would overlap the start of a higher-priority one is
deferred or skipped instead, so a connection anchor is never missed for an advertising
event.

The scheduler is sans-IO like the rest of the controller: it owns the
:class:`Radio` facade through which activities emit :mod:`linklayer.radio` operations, and
it routes radio callbacks (sync, packet) to the activity that opened the receive window.
"""

from __future__ import annotations

import enum
from typing import Protocol

from .radio import RadioIdle, RadioOp, RadioPacket, RadioRx, RadioTx


class Priority(enum.IntEnum):
    SCANNING = 0
    ADVERTISING = 1
    INITIATING = 2
    CONNECTION = 3


class Activity(Protocol):
    """What the scheduler needs from a role."""

    priority: Priority
    #: Whether a due event that cannot get the radio may start later (True) or is skipped.
    deferrable: bool

    def next_start(self) -> int | None:
        """When the next event wants the radio (None: not now)."""

    def reservation_ns(self) -> int:
        """The longest the next event may hold the radio."""

    def begin(self, now: int) -> None:
        """The radio is granted for the event due now."""

    def defer(self, now: int, until: int) -> None:
        """The event due now must wait until ``until`` (may reschedule or give up)."""

    def skip(self, now: int) -> None:
        """The event due now is lost; schedule the next one."""

    def deadline(self) -> int | None:
        """The activity's own timer while it runs (None: none)."""

    def on_timer(self, now: int) -> None: ...

    def on_synced(self, now: int) -> None: ...

    def on_packet(self, packet: RadioPacket, now: int) -> None: ...


class Background(Protocol):
    """The scanner: uses the radio when nobody else does."""

    def wants_radio(self) -> bool: ...

    def resume(self, now: int, until: int | None) -> None:
        """The radio is free from now until ``until`` (None: no foreground due)."""

    def suspend(self, now: int) -> None:
        """Give the radio up now."""

    def deadline(self) -> int | None: ...

    def on_timer(self, now: int) -> None: ...

    def on_synced(self, now: int) -> None: ...

    def on_packet(self, packet: RadioPacket, now: int) -> None: ...


class Radio:
    """The controller's single radio: queues operations and remembers who listens."""

    def __init__(self) -> None:
        self.ops: list[RadioOp] = []
        self.listener: object | None = None
        self.busy_until = 0

    def transmit(self, owner: object, op: RadioTx, end_ns: int) -> None:
        self.listener = None
        self.busy_until = max(self.busy_until, end_ns)
        self.ops.append(op)

    def listen(self, owner: object, op: RadioRx) -> None:
        self.listener = owner
        self.ops.append(op)

    def resume(self, owner: object) -> None:
        """``owner`` goes on listening in the persistent window it already has open."""
        self.listener = owner

    def idle(self, owner: object | None = None) -> None:
        if owner is None or self.listener is owner:
            if self.listener is not None:
                self.ops.append(RadioIdle())
            self.listener = None

    def take(self) -> list[RadioOp]:
        ops, self.ops = self.ops, []
        return ops


#: Gap kept between the end of one activity and the start of the next (radio ramp-up).
GUARD_NS = 150_000
#: How far an advertising event may be deferred before it is skipped.
MAX_DEFER_NS = 10_000_000


class Scheduler:
    """Grants the radio to activities; see the module docstring."""

    def __init__(self) -> None:
        self.radio = Radio()
        self.activities: list[Activity] = []
        self.background: Background | None = None
        self.current: Activity | None = None
        self.current_end = 0
        self.background_running = False
        self.skipped = 0
        self.deferred = 0

    # -- registration -------------------------------------------------------------
    def add(self, activity: Activity) -> None:
        if activity not in self.activities:
            self.activities.append(activity)

    def remove(self, activity: Activity, now: int) -> None:
        if activity in self.activities:
            self.activities.remove(activity)
        if self.current is activity:
            self.radio.idle(activity)
            self.current = None

    def set_background(self, background: Background | None) -> None:
        self.background = background
        self.background_running = False

    # -- owner callbacks ------------------------------------------------------------
    def release(self, activity: object, now: int) -> None:
        """A foreground activity ends its event."""
        if self.current is activity:
            self.radio.idle(activity)
            self.current = None

    # -- timer ----------------------------------------------------------------------
    def deadline(self) -> int | None:
        activities = self.activities
        if not activities:  # a scanner-only controller: the common fast path
            bg = self.background
            return bg.deadline() if bg is not None and self.background_running else None
        if len(activities) == 1 and not self.background_running:
            # One activity and no scanner (an advertiser): its own timer or its next start.
            act = activities[0]
            current = self.current
            if current is act:
                return act.deadline()
            if current is None:
                return act.next_start()
        candidates: list[int] = []
        if self.current is not None:
            d = self.current.deadline()
            if d is not None:
                candidates.append(d)
        for act in self.activities:
            if act is self.current:
                continue
            s = act.next_start()
            if s is not None:
                candidates.append(s)
        if self.background is not None and self.background_running:
            d = self.background.deadline()
            if d is not None:
                candidates.append(d)
        return min(candidates) if candidates else None

    def poll(self, now: int) -> None:
        """Run everything due at ``now``, then hand the idle radio to the background."""
        if not self.activities and self.current is None:
            # Only the scanner (the common case in crowded worlds): its timer, then its radio.
            bg = self.background
            if bg is not None and self.background_running:
                for _ in range(64):
                    d = bg.deadline()
                    if d is None or d > now:
                        break
                    bg.on_timer(now)
            self._background(now)
            return
        for _ in range(64):  # bounded: each pass makes progress or stops
            if not self._step(now):
                break
        self._background(now)

    def _step(self, now: int) -> bool:
        current = self.current
        if current is not None:
            d = current.deadline()
            if d is not None and d <= now:
                current.on_timer(now)
                return True
        if self.background is not None and self.background_running:
            d = self.background.deadline()
            if d is not None and d <= now:
                self.background.on_timer(now)
                return True
        activities = self.activities
        if not activities:
            return False
        if len(activities) == 1:
            winner = activities[0]
            if winner is current or not _due(winner, now):
                return False
        else:
            due = [a for a in activities if a is not current and _due(a, now)]
            if not due:
                return False
            due.sort(key=_precedence)
            winner = due[0]
        if self.current is not None:
            busy_end = max(self.current_end, now)
            self._lose(winner, now, busy_end + GUARD_NS)
            return True
        if self.radio.busy_until > now:
            # The last activity released the radio while its final packet is still going out.
            self._lose(winner, now, self.radio.busy_until + GUARD_NS)
            return True
        # Look ahead: does a higher-priority activity start inside our reservation?
        end = now + winner.reservation_ns()
        for other in self.activities:
            if other is winner or other.priority <= winner.priority:
                continue
            s = other.next_start()
            if s is not None and now <= s < end + GUARD_NS:
                self._lose(winner, now, s + other.reservation_ns() + GUARD_NS)
                return True
        if self.background_running and self.background is not None:
            self.background.suspend(now)
            self.background_running = False
        self.current = winner
        self.current_end = end
        winner.begin(now)
        return True

    def _lose(self, activity: Activity, now: int, until: int) -> None:
        if activity.deferrable and until - now <= MAX_DEFER_NS:
            self.deferred += 1
            activity.defer(now, until)
        else:
            self.skipped += 1
            activity.skip(now)

    def _background(self, now: int) -> None:
        bg = self.background
        if bg is None:
            return
        if self.current is not None or not bg.wants_radio():
            if self.background_running and not bg.wants_radio():
                bg.suspend(now)
                self.background_running = False
            return
        until: int | None = None
        if self.activities:
            nxt = [s for a in self.activities if (s := a.next_start()) is not None]
            until = (min(nxt) - GUARD_NS) if nxt else None
            if until is not None and until <= now:
                return
        if not self.background_running:
            self.background_running = True
        bg.resume(now, until)

    # -- radio callbacks ------------------------------------------------------------
    def on_synced(self, now: int) -> None:
        owner = self.radio.listener
        if owner is None:
            return
        if owner is self.current and self.current is not None:
            self.current.on_synced(now)
        elif owner is self.background and self.background is not None:
            self.background.on_synced(now)

    def on_lost(self, now: int) -> None:
        """The packet being received ended undecodable: tell its receiver, if it cares."""
        owner = self.radio.listener
        if owner is None:
            return
        self.radio.listener = None
        handler = getattr(owner, "on_lost", None)
        if handler is not None and owner in (self.current, self.background):
            handler(now)

    def on_packet(self, packet: RadioPacket, now: int) -> None:
        owner = self.radio.listener
        if owner is None:
            return
        self.radio.listener = None
        if owner is self.current and self.current is not None:
            self.current.on_packet(packet, now)
        elif owner is self.background and self.background is not None:
            self.background.on_packet(packet, now)


def _precedence(activity: Activity) -> tuple[int, int]:
    """Sort key among due activities: higher priority first, then the earlier request."""
    return (-int(activity.priority), activity.next_start() or 0)


def _due(activity: Activity, now: int) -> bool:
    s = activity.next_start()
    return s is not None and s <= now
