"""ACL data of one connection: host packets in, LL Data PDUs out (Vol 6 Part B 2.4, 4.5.9).

Theory of operation
-------------------
The host hands the controller HCI ACL data packets (Vol 4 Part E 5.4.2). Each is kept
whole in :class:`AclTxQueue` until the connection is ready to send, and cut into LL Data
PDUs *when* each PDU is sent, so that a data length update between two fragments takes
effect at once. The first PDU of a packet whose Packet_Boundary_Flag starts an L2CAP PDU
(0b00 or 0b10) gets LLID 0b10 (start); every other fragment LLID 0b01 (continuation).

A packet's buffer is returned to the host (Number_Of_Completed_Packets) when the peer
acknowledged its last fragment: :class:`TxPdu` carries how many host packets its
acknowledgement completes. A zero-length host packet completes at once.

Received LL Data PDUs go to the host one HCI ACL packet each, with PB 0b10 for a start
fragment and 0b01 for a continuation (the host's L2CAP reassembles them).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from .control_pdu import ControlPdu
from .hci.acl import PB_CONTINUING_FRAGMENT, PB_FIRST_FLUSHABLE

LLID_CONTINUE = 0b01
LLID_START = 0b10
LLID_CONTROL = 0b11


@dataclass(slots=True)
class TxPdu:
    """A data channel PDU waiting for its acknowledgement (Vol 6 Part B 4.5.9).

    ``payload`` is the plaintext; ``air`` what goes on air (ciphertext and MIC on an
    encrypted link, else ``payload``). A retransmission resends ``air`` unchanged, so it
    keeps its packet counter.
    """

    llid: int
    payload: bytes
    air: bytes
    control: ControlPdu | None = None
    completes: int = 0
    sealed: bool = False


EMPTY_PDU = TxPdu(LLID_CONTINUE, b"", b"")


class AclTxQueue:
    """Host ACL packets of one connection still (partly) to send."""

    def __init__(self) -> None:
        # [starts an L2CAP PDU, data, offset already sent]
        self._packets: deque[list[object]] = deque()

    def __len__(self) -> int:
        return len(self._packets)

    def has_data(self) -> bool:
        return bool(self._packets)

    def push(self, starts: bool, data: bytes) -> bool:
        """Queue one host packet; False if it is empty (complete it at once)."""
        if not data:
            return False
        self._packets.append([starts, bytes(data), 0])
        return True

    def pop(self, max_octets: int) -> tuple[int, bytes, int]:
        """The next fragment: (LLID, payload, host packets its acknowledgement completes)."""
        entry = self._packets[0]
        starts, data, offset = entry
        assert isinstance(data, bytes) and isinstance(offset, int)
        chunk = data[offset : offset + max(1, max_octets)]
        llid = LLID_START if starts and offset == 0 else LLID_CONTINUE
        offset += len(chunk)
        if offset >= len(data):
            self._packets.popleft()
            return llid, chunk, 1
        entry[2] = offset
        return llid, chunk, 0

    def more_after_next(self, max_octets: int) -> bool:
        """Whether anything is left after the next :meth:`pop` of ``max_octets``."""
        if len(self._packets) > 1:
            return True
        if not self._packets:
            return False
        _, data, offset = self._packets[0]
        assert isinstance(data, bytes) and isinstance(offset, int)
        return len(data) - offset > max(1, max_octets)

    def flush(self) -> int:
        """Drop everything; returns how many host packets were held."""
        n = len(self._packets)
        self._packets.clear()
        return n


def pb_for_llid(llid: int) -> int:
    """The Packet_Boundary_Flag of the HCI packet carrying a received LL Data PDU."""
    return PB_FIRST_FLUSHABLE if llid == LLID_START else PB_CONTINUING_FRAGMENT
