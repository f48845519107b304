"""The world: simulation kernel, drivers, nodes, scenarios, CLI, captures and reports.

Theory of operation
-------------------
:mod:`emu.kernel` is simpy on integer nanoseconds plus the seed tree. Drivers are thin:
:mod:`emu.world` runs each node's sans-IO controller over the kernel and the sans-IO
medium (``phy``), carrying radio operations to the medium at their instants and packets
and timer expiries back. Only this package does I/O (files, sockets, the wall clock).

Where things are
----------------
* Kernel and drivers: :mod:`emu.kernel`, :mod:`emu.world` (controllers over the medium),
  :mod:`emu.host_driver` (a host over its controller), :mod:`emu.hci_script`.
* Firmware: ``emu.runtime`` (greenlet threads, per-node importer, state folder,
  watchdog), :mod:`emu.personality`; the Python device API in ``emu.device*``.
* Scenarios: :mod:`emu.scenario` (loading, ``scenario_*`` validation and schema),
  :mod:`emu.run` (building and running a world), :mod:`emu.expect`, :mod:`emu.records`.
* Output: :mod:`emu.capture` and :mod:`emu.capture_taps` (pcap, btsnoop),
  :mod:`emu.air_names`, :mod:`emu.report`.
* Commands: :mod:`emu.cli`, :mod:`emu.cli_controller`, :mod:`emu.multitest_cli`,
  :mod:`emu.starters`, ``emu.bench*``, :mod:`emu.pytest_plugin`; ``emu.bridge`` puts
  real HCI controllers and outside hosts in the world; ``emu.demo`` is the bundled demo.
"""
