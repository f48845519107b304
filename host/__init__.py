"""The host stack: HCI driver, L2CAP, ATT/GATT, SMP, GAP.

Theory of operation
-------------------
The host talks to its controller only through HCI packets (bytes) and an injected clock,
so the same objects run over a simulated controller, a real USB/UART dongle or a TCP
link. Each layer is a sans-IO object: it takes PDUs and the current time and gives back
PDUs to send, events for the layer above and its next deadline.
"""
