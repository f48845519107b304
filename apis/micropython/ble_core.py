"""The core of ``bluetooth.BLE``: radio state, ``config``, ``irq`` and host event routing.

Theory of operation
-------------------
:class:`BleCore` is the base of the :class:`~apis.micropython.bluetooth_mod.BLE` singleton
of one node for one boot. It owns what every part of the API shares:

* the node's host, reached through the :class:`~emu.personality.NodeContext` at each call
  (a power cycle gives the node a new host), and ``_service()``, which lets the host
  driver send what an API call produced;
* the ``active`` state (every other call raises ``OSError(ENODEV)`` while inactive, as
  ``ERRNO_BLUETOOTH_NOT_ACTIVE``) and the per-boot configuration read by ``config``;
* the :class:`~apis.micropython.irq.IrqDispatcher` that runs the firmware's handler;
* one host-driver listener that routes each :mod:`host.events` event to the handler
  method registered for its class by the mixins (GAP, GATT server and client, L2CAP,
  pairing).

``stack`` is ``"nimble"`` (default) or ``"btstack"``; the differences between the two
MicroPython builds are flags read here (default ``gap_name``, handle numbering, statuses).

Addresses (``config(addr_mode=...)``): mode 1 uses the static random address; mode 2
resolvable private addresses made from the node's IRK (the bond store's local IRK, the
one SMP distributes), mode 3 non-resolvable ones, each replaced every
:data:`RPA_TIMEOUT_NS` (NimBLE's default ``BLE_RPA_TIMEOUT``, 300 s) by a
:class:`~host.privacy.RpaRotator` / :class:`~host.privacy.NrpaRotator` on a simulated-time
timer. Each new address goes to :meth:`host.gap.Gap.set_private_address`, which stops
and restarts advertising and scanning around HCI_LE_Set_Random_Address as the controller
requires (or sets it when the next procedure starts while initiating). SMP keeps
distributing the identity address.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from host.events import HostEvent, PoweredOn
from host.privacy import NrpaRotator, RpaRotator
from linklayer.address import Address

from .errors import EINVAL, ENODEV, ETIMEDOUT, raise_errno
from .irq import IrqDispatcher

if TYPE_CHECKING:
    from emu.kernel import Timer
    from emu.personality import NodeContext
    from emu.runtime import NodeRuntime
    from host.host import Host

__all__ = [
    "ADDR_MODE_NRPA",
    "ADDR_MODE_PUBLIC",
    "ADDR_MODE_RANDOM",
    "ADDR_MODE_RPA",
    "BleCore",
    "ConnInfo",
    "DEFAULT_MTU",
    "RPA_TIMEOUT_NS",
    "buffer_bytes",
    "to_msb",
]

#: ``config('mtu')`` before any change (NimBLE's preferred ATT MTU in MicroPython).
DEFAULT_MTU = 256
#: Longest ``gap_name`` (``BLE_SVC_GAP_DEVICE_NAME_MAX_LENGTH``).
MAX_GAP_NAME = 31
ADDR_MODE_PUBLIC = 0
ADDR_MODE_RANDOM = 1
ADDR_MODE_RPA = 2
ADDR_MODE_NRPA = 3
#: How often addr_mode 2/3 renew the private address (NimBLE's BLE_RPA_TIMEOUT: 300 s).
RPA_TIMEOUT_NS = 300 * 1_000_000_000
#: How long ``active(True)`` waits for the host's power-on sequence.
POWER_ON_TIMEOUT_NS = 2_000_000_000

EventHandler = Callable[[Any], None]


def buffer_bytes(value: Any) -> bytes:
    """The octets of a buffer-protocol argument (``str`` included, as on MicroPython);
    ``TypeError`` otherwise."""
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raw = getattr(value, "__bytes__", None)
    if raw is not None and not isinstance(value, int):
        return bytes(value)
    raise TypeError(f"object with buffer protocol required, not {type(value).__name__}")


def to_msb(address: Address) -> bytes:
    """An address as MicroPython gives it: most significant octet first."""
    return address.value[::-1]


@dataclass
class ConnInfo:
    """What the personality remembers of one connection."""

    handle: int
    central: bool  # this node is the central
    addr_type: int
    addr: bytes  # MSB first

    @property
    def address(self) -> Address:
        """The peer's address as the host names it."""
        return Address(self.addr[::-1], self.addr_type == 1)


class BleCore:
    """Shared state of the ``BLE`` singleton (see the module docstring)."""

    def __init__(self, ctx: NodeContext, runtime: NodeRuntime, stack: str = "nimble") -> None:
        if stack not in ("nimble", "btstack"):
            raise ValueError(f"unknown MicroPython BLE stack {stack!r} (nimble or btstack)")
        self._ctx = ctx
        self._rt = runtime
        self._stack = stack
        self._irq = IrqDispatcher(runtime)
        self._irq.enabled = False
        self._active = False
        self._closed = False
        self._mtu = DEFAULT_MTU
        self._gap_name = self._default_gap_name()
        self._addr_mode: int | None = None  # None: public if available, else random
        self._own_address: Address | None = None  # random address set for modes 1-3
        self._rotator: RpaRotator | None = None  # modes 2/3
        self._rotation_timer: Timer | None = None
        self._conns: dict[int, ConnInfo] = {}
        self._event_handlers: dict[type, EventHandler] = {}
        self._listener = self._on_host_event
        ctx.host_driver.listeners.append(self._listener)
        runtime.on_stop(self._shutdown)

    # -- plumbing -----------------------------------------------------------------------

    @property
    def _nimble(self) -> bool:
        return self._stack == "nimble"

    @property
    def _host(self) -> Host:
        return self._ctx.host

    @property
    def _now(self) -> int:
        return self._rt.now

    def _service(self) -> None:
        """Let the host driver send what the last host call produced."""
        self._ctx.host_driver.service()

    def _check_active(self) -> None:
        if not self._active:
            raise_errno(ENODEV)

    def _on(self, kind: type, handler: EventHandler) -> None:
        self._event_handlers[kind] = handler

    def _on_host_event(self, t_ns: int, event: HostEvent) -> None:
        if self._closed or not self._active:
            return
        handler = self._event_handlers.get(type(event))
        if handler is not None:
            handler(event)

    def _default_gap_name(self) -> bytes:
        return b"MPY NIMBLE" if self._nimble else b"MPY BTSTACK"

    # -- hooks the mixins fill in -------------------------------------------------------

    def _on_activate(self) -> None:
        """Called once the radio is active (services, secrets ...)."""

    def _on_deactivate(self) -> None:
        """Called when the radio goes inactive or the firmware stops."""

    # -- BLE.active / BLE.irq -----------------------------------------------------------

    def active(self, *args: Any) -> bool:
        """``BLE.active([active])``: change and/or return the active state."""
        if len(args) > 1:
            raise TypeError("function takes at most 2 positional arguments")
        if args:
            want = bool(args[0])
            if want and not self._active:
                self._activate()
            elif not want and self._active:
                self._deactivate()
        return self._active

    def _activate(self) -> None:
        host = self._host
        if not host.powered:
            self._wait_powered()
        self._active = True
        self._irq.enabled = True
        self._gap_name = self._default_gap_name()
        self._on_activate()
        if self._addr_mode in (ADDR_MODE_RPA, ADDR_MODE_NRPA):
            self._set_addr_mode(self._addr_mode)  # a new private address and timer
        self._service()

    def _wait_powered(self) -> None:
        event = self._rt.event()

        def listener(t_ns: int, e: HostEvent) -> None:
            if isinstance(e, PoweredOn):
                event.set()

        listeners = self._ctx.host_driver.listeners
        listeners.append(listener)
        try:
            if not event.wait(POWER_ON_TIMEOUT_NS) and not self._host.powered:
                raise_errno(ETIMEDOUT)
        finally:
            listeners.remove(listener)

    def _deactivate(self) -> None:
        self._halt_radio()
        self._active = False
        self._irq.enabled = False
        self._irq_flush()

    def _irq_flush(self) -> None:
        self._irq.close()
        handler = self._irq.handler
        self._irq = IrqDispatcher(self._rt)
        self._irq.handler = handler
        self._irq.enabled = self._active

    def _halt_radio(self) -> None:
        """Stop everything the radio does for this firmware (``active(0)``, reboot)."""
        self._on_deactivate()
        self._cancel_rotation_timer()
        host = self._host
        now = self._now
        if host.powered:
            gap = host.gap
            stops: list[Callable[[], None]] = []
            if gap.is_advertising():
                stops.append(lambda: host.stop_advertising(now))
            if gap.scanning:
                stops.append(lambda: host.stop_scan(now))
            if gap.connecting:
                stops.append(lambda: host.cancel_connect(now))
            for stop in stops:
                try:
                    stop()
                except Exception:  # noqa: BLE001 - best effort, like a stack being torn down
                    pass
            for handle in list(gap.connections):
                try:
                    host.disconnect(handle, now)
                except Exception:  # noqa: BLE001
                    pass
        self._conns.clear()
        self._service()

    def _shutdown(self) -> None:
        """The firmware stops or reboots: the stack goes down with it."""
        if self._closed:
            return
        if self._active:
            self._halt_radio()
        self._active = False
        self._closed = True
        self._irq.close()
        try:
            self._ctx.host_driver.listeners.remove(self._listener)
        except ValueError:
            pass

    def irq(self, handler: Any) -> None:
        """``BLE.irq(handler)``: the event handler (``None`` removes it)."""
        if handler is not None and not callable(handler):
            raise ValueError("invalid handler")
        self._irq.handler = handler

    # -- BLE.config -----------------------------------------------------------------------

    def config(self, *args: Any, **kwargs: Any) -> Any:
        """``BLE.config('param')`` or ``BLE.config(param=value, ...)``."""
        if not kwargs:
            if len(args) != 1:
                raise TypeError("must query one param")
            return self._config_get(args[0])
        if args:
            raise TypeError("can't specify pos and kw args")
        for key, value in kwargs.items():
            self._config_set(key, value)
        return None

    def _config_get(self, name: Any) -> Any:
        if not isinstance(name, str):
            raise TypeError(f"can't convert {type(name).__name__} to str")
        if name == "gap_name":
            return self._gap_name
        if name == "mac":
            self._check_active()
            return self._current_address()
        if name == "mtu":
            self._check_active()
            return self._mtu
        raise ValueError("unknown config param")

    def _config_set(self, name: str, value: Any) -> None:
        if name == "gap_name":
            data = buffer_bytes(value)
            if len(data) > MAX_GAP_NAME:
                raise_errno(EINVAL)
            self._gap_name = data
            self._gap_name_changed()
        elif name == "mtu":
            self._check_active()
            mtu = int(value)
            if not 23 <= mtu <= 527:  # NimBLE's BLE_ATT_MTU_MAX
                raise_errno(EINVAL)
            self._mtu = mtu
            self._mtu_changed()
        elif name == "addr_mode":
            self._check_active()
            self._set_addr_mode(int(value))
        elif not self._config_set_extra(name, value):
            raise ValueError("unknown config param")

    def _config_set_extra(self, name: str, value: Any) -> bool:
        """Keys of the mixins (pairing); False if unknown."""
        return False

    def _gap_name_changed(self) -> None:
        """The GATT server shows the new name (filled in by the GATT server mixin)."""

    def _mtu_changed(self) -> None:
        host = self._host
        host.config = dataclasses.replace(host.config, att_mtu=self._mtu)
        for handle in list(self._conns):
            try:
                bearer = host.att_bearer(handle)
            except Exception:  # noqa: BLE001 - the link is going away
                continue
            if not bearer.mtu_exchange_requested:
                bearer.local_mtu = self._mtu

    # -- addresses --------------------------------------------------------------------------

    def _has_public(self) -> bool:
        return self._host.gap.info.public_address.value != bytes(6)

    def _own_address_type(self) -> int:
        """Own_Address_Type for advertising, scanning and connecting."""
        if self._addr_mode is None:
            return self._host.gap.own_address_type
        return 0 if self._addr_mode == ADDR_MODE_PUBLIC else 1

    def _current_address(self) -> tuple[int, bytes]:
        gap = self._host.gap
        mode = self._addr_mode
        if mode is None:
            return (1, to_msb(gap.static_address)) if gap.uses_random_address else (0, to_msb(gap.address))
        if mode == ADDR_MODE_PUBLIC:
            return 0, to_msb(gap.info.public_address)
        if mode == ADDR_MODE_RPA or self._own_address is None:
            raise_errno(EINVAL)
        return 1, to_msb(self._own_address)

    def _set_addr_mode(self, mode: int) -> None:
        """``config(addr_mode=...)`` (``mp_bluetooth_set_address_mode`` of the NimBLE build)."""
        host = self._host
        gap = host.gap
        if mode == ADDR_MODE_PUBLIC and not self._has_public():
            raise_errno(EINVAL)
        if mode not in (ADDR_MODE_PUBLIC, ADDR_MODE_RANDOM, ADDR_MODE_RPA, ADDR_MODE_NRPA):
            raise_errno(EINVAL)
        self._stop_rotation()
        rng, now = self._rt.stack_random, self._now
        if mode == ADDR_MODE_RPA:
            self._rotator = RpaRotator(host.local_irk(), rng, RPA_TIMEOUT_NS)
        elif mode == ADDR_MODE_NRPA:
            public = gap.info.public_address
            self._rotator = NrpaRotator(rng, RPA_TIMEOUT_NS, public if self._has_public() else None)
        private = self._rotator.address(now) if self._rotator is not None else None
        self._addr_mode = mode
        self._own_address = private or (gap.static_address if mode == ADDR_MODE_RANDOM else None)
        # SMP distributes the identity address, never a private one.
        identity = gap.address if private is not None else None
        host.config = dataclasses.replace(host.config, smp=dataclasses.replace(host.config.smp, identity_address=identity))
        gap.set_private_address(private, now)
        self._service()
        self._schedule_rotation()

    def _schedule_rotation(self) -> None:
        deadline = self._rotator.get_timer() if self._rotator is not None else None
        if deadline is not None:
            self._rotation_timer = self._rt.kernel.call_at(deadline, self._rotate)

    def _rotate(self) -> None:
        """The RPA timeout expired: a new private address (``ble_hs_pvcy`` renewal)."""
        self._rotation_timer = None
        rotator = self._rotator
        if rotator is None or self._closed or not self._active or not self._host.powered:
            return
        address = rotator.handle_timer(self._now)
        if address is not None:
            self._own_address = address
            self._host.gap.set_private_address(address, self._now)
            self._service()
        self._schedule_rotation()

    def _stop_rotation(self) -> None:
        self._cancel_rotation_timer()
        self._rotator = None

    def _cancel_rotation_timer(self) -> None:
        if self._rotation_timer is not None:
            self._rotation_timer.cancel()
            self._rotation_timer = None

    # -- connections ----------------------------------------------------------------------

    def _conn(self, handle: int) -> ConnInfo | None:
        return self._conns.get(handle)
