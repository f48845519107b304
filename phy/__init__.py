"""The medium: the 2.4 GHz band as blesim simulates it.

Theory of operation
-------------------
The band has 40 RF channels (0..39, 2402 + 2·n MHz); link-layer code speaks of channel
*indices* (37, 38, 39 for primary advertising, 0..36 for data), and
:func:`phy.channels.rf_channel` maps one to the other.

A :class:`phy.medium.Transmission` is a packet on the air: a start and end instant in
integer nanoseconds (the airtime is computed exactly per PHY by :mod:`phy.airtime`), a
channel, a PHY, a transmit power, the sender's position, an access address and bytes.
Receivers open :class:`phy.medium.Listener` windows on a channel/PHY/access address. A
listener synchronises to the first transmission whose preamble starts inside its window
and whose signal at the listener clears the PHY's sensitivity; it then stays on that
packet until its end even if the window closes meanwhile.

When a packet ends, the medium decides its fate at each synchronised listener: the
signal (path loss from the named channel model in :mod:`phy.channel`) against noise plus
every overlapping transmission on the same channel and any active interferer, taken
piecewise over the packet's duration. Below the capture threshold the packet is lost;
otherwise bit errors are drawn from the PHY's BER(SINR) curve (:mod:`phy.errors`) and
flipped into the delivered bytes, where the link layer sees them as CRC failures.

This package is sans-IO: it never reads a clock and never calls the global random
generator. The simulation driver in ``emu`` tells it what time it is and hands it
seeded random streams.
"""
