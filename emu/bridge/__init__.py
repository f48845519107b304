"""Real HCI: a hardware controller as a node, and simulated controllers for outside hosts.

Theory of operation
-------------------
blesim's host and controller already talk HCI packets as bytes, so real hardware plugs in
at that seam, with no change to either (DESIGN.md: "two thin drivers of the same sans-IO
objects"):

* **A real controller as a node** (``controller: usb:0`` in a scenario). The node's
  firmware, personality and :class:`~host.host.Host` are the usual ones; its controller is
  :class:`~emu.bridge.real_controller.RealController`, which forwards the host's packets to
  a transport and hands back what the transport receives. A real phone can then see,
  connect to and pair with the firmware under test.
* **A simulated controller for an outside host** (an ``hci`` node with ``transport:``,
  or ``blesim controller --transport ...``). The controller is an ordinary simulated one
  on the simulated medium; :mod:`~emu.bridge.served` carries its HCI to BlueZ, Bumble, a
  Zephyr native build or an Android emulator over TCP, a pty or /dev/vhci.

Transports (:mod:`~emu.bridge.transports`: the spec strings and the packet interface;
:mod:`~emu.bridge.h4stream`: H4 over any byte stream, resynchronising on garbage;
:mod:`~emu.bridge.usb`, :mod:`~emu.bridge.serial`, :mod:`~emu.bridge.hci_socket`,
:mod:`~emu.bridge.tcp`, :mod:`~emu.bridge.pty`, :mod:`~emu.bridge.vhci`) run their own
reader threads and never touch the simulation. What they receive enters the world
through the :class:`~emu.bridge.pacing.Pacer`'s inbox, at the simulated instant that
matches its wall-clock arrival; the pacer runs the kernel no faster than the wall clock
while anything outside is attached (and reports when the simulation falls behind).

Captures stay complete: both directions pass through the node's
:class:`~emu.world.ControllerDriver`, whose taps write the HCI capture, and a simulated
controller's packets are on the air capture. A transport that is lost (dongle unplugged,
socket closed, garbage instead of H4) ends its node with a clear message; the rest of the
world runs on. :mod:`~emu.bridge.run_nodes` is how the runner builds such nodes,
:mod:`~emu.bridge.bridges` what it keeps of them, and :mod:`emu.cli_controller` the
``blesim controller`` command.
"""

from .transports import (
    HciTransport,
    TransportError,
    TransportSpec,
    TransportSpecError,
    open_transport,
    parse_transport,
)

__all__ = [
    "HciTransport",
    "TransportError",
    "TransportSpec",
    "TransportSpecError",
    "open_transport",
    "parse_transport",
]
