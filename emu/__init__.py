"""The world: simulation kernel, drivers, nodes, scenarios, CLI, captures and reports.

Theory of operation
-------------------
:mod:`emu.kernel` is simpy on integer nanoseconds plus the seed tree. Drivers are thin:
:mod:`emu.world` runs each node's sans-IO controller over the kernel and the sans-IO
medium (``phy``), carrying radio operations to the medium at their instants and packets
and timer expiries back. Only this package does I/O (files, sockets, the wall clock).
"""
