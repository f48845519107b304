"""Delivering events to the firmware's ``BLE.irq`` handler, as MicroPython does.

Theory of operation
-------------------
The host reports events from inside its own processing (a kernel callback, or a host
call made by firmware); the firmware's handler must run in a firmware thread, at the
simulated instant of its event, one event at a time and in the order they happened.
:class:`IrqDispatcher` keeps a FIFO of pending ``(event, data)`` and a single
*delivery thread* per node (``NodeRuntime.run_callback(..., defer=True)``) that drains
it: events posted while a handler runs (a handler that calls ``gattc_*`` and gets the
next event) wait their turn, exactly like MicroPython's serialised IRQ delivery.

Payloads follow ``modbluetooth.c``: ``addr``, ``adv_data``, ``char_data`` and
``notify_data`` are read-only ``memoryview`` objects over a temporary copy that is
released when the handler returns (``bytes()`` them to keep them); ``uuid`` entries are
``bluetooth.UUID`` objects. Items posted as :class:`Buf` become those memoryviews.

The handler's return value goes to the ``on_result`` callback given with the event
(``_IRQ_GATTS_READ_REQUEST`` denial codes). :meth:`IrqDispatcher.call_now` runs the
handler in the calling firmware thread for the events MicroPython raises synchronously
from inside an API call (secrets at ``active(1)``, the local read of a data-less
``gatts_notify``). :meth:`IrqDispatcher.call_sync` is for the events NimBLE raises
synchronously from inside the stack and whose answer it waits for (``_IRQ_L2CAP_ACCEPT``;
``_IRQ_GET_SECRET`` / ``_IRQ_SET_SECRET``, its persistent store being the firmware):
always answered before it returns, in the calling firmware thread or, from plain code,
in a new IRQ thread that first delivers the events queued before it.

An exception escaping the handler prints ``Unhandled exception in IRQ callback
handler`` and the traceback on the node's output, and the handler is disabled
(``irq(None)``), as MicroPython does; the firmware itself keeps running.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from emu.runtime.threads import GreenletExit

from .asyncio_trace import format_exception

if TYPE_CHECKING:
    from emu.runtime import NodeRuntime

__all__ = ["Buf", "IrqDispatcher"]

Handler = Callable[[int, tuple[Any, ...]], Any]
OnResult = Callable[[Any], None]


@dataclass(frozen=True)
class Buf:
    """A payload item delivered as a read-only memoryview valid during the call."""

    data: bytes


class IrqDispatcher:
    """One node's IRQ delivery (see the module docstring)."""

    def __init__(self, runtime: NodeRuntime) -> None:
        self.runtime = runtime
        self.handler: Handler | None = None
        #: False while the radio is inactive: events are dropped, as on the board.
        self.enabled = True
        self._queue: deque[tuple[int, tuple[Any, ...], OnResult | None]] = deque()
        self._delivering = False
        self._closed = False

    def close(self) -> None:
        """The firmware stopped (or the radio went down): deliver nothing more; events
        waiting for an answer get ``None`` (a read is then answered with the value)."""
        self._closed = True
        self._fail_pending()

    @property
    def pending(self) -> int:
        return len(self._queue)

    def post(self, event: int, data: tuple[Any, ...], on_result: OnResult | None = None) -> None:
        """Queue one event for the handler (dropped without a handler; ``on_result``
        then gets ``None`` at once)."""
        if self._closed or not self.enabled or self.handler is None:
            if on_result is not None:
                on_result(None)
            return
        self._queue.append((event, data, on_result))
        if not self._delivering:
            self._delivering = True
            if self.runtime.run_callback(self._drain, name="irq", defer=True) is None:
                self._delivering = False
                self._fail_pending()

    def _fail_pending(self) -> None:
        while self._queue:
            _, _, on_result = self._queue.popleft()
            if on_result is not None:
                on_result(None)

    def _drain(self) -> None:
        try:
            while self._queue and not self._closed:
                event, data, on_result = self._queue.popleft()
                result = self.call_now(event, data)
                if on_result is not None:
                    on_result(result)
        finally:
            self._delivering = False
            if self._closed:
                self._fail_pending()

    def call_now(self, event: int, data: tuple[Any, ...]) -> Any:
        """Run the handler for one event in the calling thread; its return value, or
        ``None`` without a handler or when it raised."""
        handler = self.handler
        if handler is None or self._closed:
            return None
        views: list[memoryview] = []
        items = tuple(self._view(item, views) for item in data)
        try:
            return handler(event, items)
        except (GreenletExit, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - MicroPython reports and disables
            self.handler = None
            self.runtime.output("Unhandled exception in IRQ callback handler\n" + format_exception(exc))
            return None
        finally:
            for view in views:
                view.release()

    @staticmethod
    def _view(item: Any, views: list[memoryview]) -> Any:
        if isinstance(item, Buf):
            view = memoryview(bytes(item.data))
            views.append(view)
            return view
        return item

    def call_sync(self, event: int, data: tuple[Any, ...]) -> tuple[bool, Any]:
        """Run the handler for an event the stack needs answered before it goes on
        (NimBLE's store reads and writes): in the calling firmware thread (a nested call,
        as MicroPython makes it), else, from plain code, at once in a new IRQ thread that
        first delivers the events queued before this one, so the firmware sees them in
        order. ``(True, result)``; ``(True, None)`` without a handler; ``(False, None)``
        if a handler blocked (it then finishes later and its answer is lost)."""
        if self.handler is None or self._closed or not self.enabled:
            return True, None
        scheduler = self.runtime.scheduler
        if scheduler.current is not None:
            return True, self.call_now(event, data)
        if scheduler.dispatching:
            return False, None
        box: list[Any] = []

        def run() -> None:
            while self._queue and not self._closed:
                queued, queued_data, on_result = self._queue.popleft()
                result = self.call_now(queued, queued_data)
                if on_result is not None:
                    on_result(result)
            box.append(self.call_now(event, data))

        thread = self.runtime.run_callback(run, name="irq")
        if thread is None or not box:
            return False, None
        return True, box[0]
