"""One Quectel node for one boot: its callback thread and its view of the host.

Theory of operation
-------------------
On the module, every C-side callback (a ``ble`` event, an ``osTimer`` expiry) builds its
argument and calls ``mp_sched_schedule``: the call is queued (64 deep, dropped when the
queue is full) and a single "cb_deal" thread runs the queued calls one after another.
:class:`QuectelBoard` is that machinery for one node and one boot: :meth:`schedule`
queues ``fn(arg)``; a firmware thread named ``cb_deal`` (started on first use) takes
them in order. Because the queue is a runtime primitive, a call queued from host
processing (plain code) runs later at the same simulated instant, and a call queued from
a firmware thread runs once that thread blocks: an event never arrives before the API
call that caused it has returned.

The board also hands the personality's modules their node: the host (``ctx.host``, which
a power cycle replaces), ``service()`` to flush the host's HCI output after an API call,
the kernel for timers, and the node's output for the messages the module itself prints.
Hooks registered with :meth:`on_stop` run when the firmware stops or reboots (the BLE
stack and timers are switched off, as a module reset does). The board's filesystem has
the module's user folder ``/usr``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from emu.kernel import Kernel
    from emu.personality import NodeContext
    from emu.runtime.node import NodeRuntime
    from emu.runtime.sync import Queue
    from host.host import Host

__all__ = ["CALLBACK_QUEUE_DEPTH", "QuectelBoard", "board_for"]

#: Depth of the scheduler queue (MICROPY_SCHEDULER_DEPTH on the EC600U/EC200U ports).
CALLBACK_QUEUE_DEPTH = 64

_BOARD_KEY = "quectel.board"


class QuectelBoard:
    """The per-node, per-boot state shared by the Quectel modules (see module docstring)."""

    def __init__(self, ctx: NodeContext, runtime: NodeRuntime) -> None:
        self.ctx = ctx
        self.runtime = runtime
        self.generation = runtime.generation
        self._queue: Queue[tuple[Callable[[Any], object], Any, str]] = runtime.queue(CALLBACK_QUEUE_DEPTH)
        self._started = False
        self._stop_hooks: list[Callable[[], None]] = []
        #: How many scheduled calls were dropped because the queue was full.
        self.dropped = 0
        self.stopped = False
        #: Per-node singletons of this boot (the ``ble`` stack, the time zone ...).
        self.objects: dict[str, Any] = {}
        runtime.on_stop(self._stop)
        if runtime.importer is not None:  # the module's user folder, where firmware keeps files
            runtime.importer.fs.makedirs("/usr", exist_ok=True)

    # -- the node --------------------------------------------------------------------------

    @property
    def host(self) -> Host:
        return self.ctx.host

    @property
    def now(self) -> int:
        return self.runtime.now

    @property
    def kernel(self) -> Kernel:
        return self.runtime.kernel

    def service(self) -> None:
        """Send what the host produced after an API call (HCI), deliver its events."""
        self.ctx.host_driver.service()

    def message(self, text: str) -> None:
        """A line the module itself prints on the node's console (as the firmware does)."""
        self.runtime.output(text + "\n")

    # -- the scheduler -----------------------------------------------------------------------

    def schedule(self, fn: Callable[[Any], object], arg: Any, what: str = "callback") -> bool:
        """Queue ``fn(arg)`` for the callback thread; False (and a console line) when the
        64-deep queue is full or the firmware is not running."""
        if self.stopped or not self.runtime.accepting:
            return False
        if not self._started:
            thread = self.runtime.run_callback(self._cb_deal, name="cb_deal", defer=True)
            if thread is None:
                return False
            self._started = True
        if not self._queue.put_nowait((fn, arg, what), raise_full=False):
            self.dropped += 1
            self.message(f"[blesim] callback queue full ({CALLBACK_QUEUE_DEPTH}): {what} dropped")
            return False
        return True

    @property
    def pending(self) -> int:
        """Scheduled calls not yet taken by the callback thread."""
        return self._queue.qsize()

    def _cb_deal(self) -> None:
        while True:
            fn, arg, _what = self._queue.get()
            fn(arg)

    # -- lifecycle ---------------------------------------------------------------------------

    def on_stop(self, hook: Callable[[], None]) -> None:
        """Run ``hook()`` when this boot's firmware stops (stop, reboot, failure)."""
        self._stop_hooks.append(hook)

    def _stop(self) -> None:
        self.stopped = True
        hooks, self._stop_hooks = self._stop_hooks, []
        for hook in hooks:
            hook()


def board_for(ctx: NodeContext, runtime: NodeRuntime) -> QuectelBoard:
    """The board of the node's current boot (created by the first module factory)."""
    board: QuectelBoard | None = ctx.objects.get(_BOARD_KEY)
    if board is None or board.generation != runtime.generation or board.runtime is not runtime:
        board = QuectelBoard(ctx, runtime)
        ctx.objects[_BOARD_KEY] = board
    return board
