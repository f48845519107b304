"""GAP PHY update and data length of a connection (Vol 4 Part E 7.8.33, 7.8.47-7.8.49;
Vol 6 Part B 5.1.9, 5.1.10).

Theory of operation
-------------------
:class:`PhyAndDataLength` is the part of :class:`~host.gap.Gap` that changes the PHYs and
the data length of an established connection. Both procedures run in the controller; the
host only asks and listens:

* :meth:`~PhyAndDataLength.set_phy` sends HCI_LE_Set_PHY (7.8.49). The controller answers
  with Command Status, then runs the LL PHY Update procedure and reports
  LE PHY Update Complete (7.7.65.12). A refused command or a non-zero status becomes
  :class:`~host.events.PhyUpdateFailed` with the spec's status; success becomes
  :class:`~host.events.PhyUpdated`. The controller also reports updates the *peer*
  started when they changed a PHY (Vol 6 Part B 5.1.10): they become ``PhyUpdated`` too.
* :meth:`~PhyAndDataLength.read_phy` sends HCI_LE_Read_PHY (7.8.47) and records the answer.
* :meth:`~PhyAndDataLength.set_data_length` sends HCI_LE_Set_Data_Length (7.8.33). The
  controller then runs the LL Data Length Update procedure; LE Data Length Change
  (7.7.65.7) — :class:`~host.events.DataLengthChanged` — comes only when the *effective*
  maximum lengths change, from either side's procedure. A request that changes nothing
  (the values are already in effect, or the peer limits them) gets no event.

:class:`~host.gap.Connection` remembers the current PHYs (LE 1M until told otherwise) and
the effective data lengths (27 octets, 328 µs until told otherwise, Vol 6 Part B 4.5.10).
Parameters are checked before anything is sent (:class:`~host.hci.LocalError`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from host.events import DataLengthChanged, HostEvent, PhyUpdated, PhyUpdateFailed
from host.gap_params import ControllerInfo
from host.hci import ChainFailure, HciDriver, LocalError, Step
from linklayer.hci import le_commands as lc
from linklayer.hci import le_events as le
from linklayer.hci import le_ext_commands as lx
from linklayer.hci.codec import HciCommand, HciEvent
from linklayer.hci.registry import HCI_Command_Complete_Event
from phy.units import US

if TYPE_CHECKING:
    from host.gap import Connection

__all__ = [
    "PhyAndDataLength",
    "PHY_1M",
    "PHY_2M",
    "PHY_CODED",
    "PHY_BIT_1M",
    "PHY_BIT_2M",
    "PHY_BIT_CODED",
    "MIN_TX_OCTETS",
    "MAX_TX_OCTETS",
    "MIN_TX_TIME_US",
    "MAX_TX_TIME_US",
    "tx_time_for",
]

#: PHY values of LE PHY Update Complete and LE_Read_PHY (7.7.65.12, 7.8.47).
PHY_1M, PHY_2M, PHY_CODED = 1, 2, 3
#: PHY preference bits of LE_Set_PHY TX_PHYS / RX_PHYS (7.8.49).
PHY_BIT_1M, PHY_BIT_2M, PHY_BIT_CODED = 0x01, 0x02, 0x04
#: LE_Set_Data_Length ranges (7.8.33): TX_Octets 0x001B-0x00FB, TX_Time 0x0148-0x4290 µs.
MIN_TX_OCTETS, MAX_TX_OCTETS = 0x001B, 0x00FB
MIN_TX_TIME_US, MAX_TX_TIME_US = 0x0148, 0x4290


def tx_time_for(octets: int, phy: int = PHY_1M) -> int:
    """The TX_Time (µs) a data PDU of ``octets`` payload octets needs on ``phy``: on the
    uncoded PHYs the LE 1M time, ``(octets + 14) * 8`` µs (as the spec's defaults 27 ->
    328 and 251 -> 2120, Vol 6 Part B 4.5.10), on LE Coded the maximum 0x4290."""
    if phy == PHY_CODED:
        return MAX_TX_TIME_US
    return max(MIN_TX_TIME_US, min(MAX_TX_TIME_US, (octets + 14) * 8))


class PhyAndDataLength:
    """PHY and data length procedures, mixed into :class:`~host.gap.Gap`."""

    hci: HciDriver
    info: ControllerInfo
    connections: dict[int, Connection]
    _emit: Callable[[HostEvent], None]

    if TYPE_CHECKING:
        def _connection(self, handle: int) -> Connection: ...

        def _run(
            self,
            steps: list[Step],
            on_done: Callable[[], None] | None = None,
            on_fail: Callable[[ChainFailure], None] | None = None,
        ) -> None: ...

        def _step(self, cmd: HciCommand, on_result: Callable[[HciEvent], None] | None = None,
                  required: bool = True) -> Step: ...

    # -- PHY -------------------------------------------------------------------------------
    def set_phy(
        self, handle: int, now: int, tx_phys: int, rx_phys: int, phy_options: int = 0, all_phys: int = 0
    ) -> None:
        """HCI_LE_Set_PHY (Vol 4 Part E 7.8.49): ask for the PHYs in the ``tx_phys`` /
        ``rx_phys`` bit fields (bit 0 LE 1M, bit 1 LE 2M, bit 2 LE Coded; ``all_phys``
        bit 0/1: no preference for TX/RX); ``phy_options`` 0, 1 (S=2) or 2 (S=8) for LE
        Coded. :class:`PhyUpdated` or :class:`PhyUpdateFailed` follows."""
        self.hci.tick(now)
        conn = self._connection(handle)
        if all_phys & ~0x03 or not 0 <= all_phys:
            raise LocalError(f"ALL_PHYS 0x{all_phys:02X}: only bits 0 and 1 are defined")
        for name, phys, free in (("TX_PHYS", tx_phys, all_phys & 0x01), ("RX_PHYS", rx_phys, all_phys & 0x02)):
            if phys & ~0x07 or phys < 0:
                raise LocalError(f"{name} 0x{phys:02X}: only bits 0 (1M), 1 (2M) and 2 (Coded) are defined")
            if not phys and not free:
                raise LocalError(f"{name} names no PHY (and ALL_PHYS does not waive it)")
        if phy_options not in (0, 1, 2):
            raise LocalError(f"PHY_Options {phy_options}: 0 (no preference), 1 (S=2) or 2 (S=8)")
        if not self.info.supports(lx.HCI_LE_Set_PHY_Command):
            raise LocalError("the controller does not support HCI_LE_Set_PHY")
        cmd = lx.HCI_LE_Set_PHY_Command(connection_handle=handle, all_phys=all_phys, tx_phys=tx_phys,
                                        rx_phys=rx_phys, phy_options=phy_options)
        conn.phy_update_pending = True

        def fail(f: ChainFailure) -> None:
            conn.phy_update_pending = False
            self._emit(PhyUpdateFailed(handle, f.status))

        self._run([self._step(cmd)], None, fail)

    def read_phy(self, handle: int, now: int, on_result: Callable[[int, int], None] | None = None) -> None:
        """HCI_LE_Read_PHY (Vol 4 Part E 7.8.47): the current PHYs are recorded in the
        :class:`Connection` and given to ``on_result(tx_phy, rx_phy)``; a failure is a
        :class:`CommandFailed`."""
        self.hci.tick(now)
        conn = self._connection(handle)
        if not self.info.supports(lx.HCI_LE_Read_PHY_Command):
            raise LocalError("the controller does not support HCI_LE_Read_PHY")

        def done(event: HciEvent) -> None:
            if not isinstance(event, HCI_Command_Complete_Event):
                return
            r = event.decode_returns()
            if isinstance(r, lx.HCI_LE_Read_PHY_ReturnParameters) and r.status == 0:
                conn.tx_phy, conn.rx_phy = r.tx_phy, r.rx_phy
                if on_result is not None:
                    on_result(r.tx_phy, r.rx_phy)

        self._run([self._step(lx.HCI_LE_Read_PHY_Command(connection_handle=handle), done)])

    def _phy_update_complete(self, e: le.HCI_LE_PHY_Update_Complete_Event) -> None:
        conn = self.connections.get(e.connection_handle)
        if conn is None:
            return
        conn.phy_update_pending = False
        if e.status != 0:
            self._emit(PhyUpdateFailed(conn.handle, e.status))
            return
        conn.tx_phy, conn.rx_phy = e.tx_phy, e.rx_phy
        self._emit(PhyUpdated(conn.handle, e.tx_phy, e.rx_phy))

    # -- data length -----------------------------------------------------------------------
    def set_data_length(
        self, handle: int, now: int, tx_octets: int, tx_time: int, on_status: Callable[[int], None] | None = None
    ) -> None:
        """HCI_LE_Set_Data_Length (Vol 4 Part E 7.8.33): the largest payload (octets) and
        time (µs) this side would like to send. :class:`DataLengthChanged` follows if the
        effective lengths change. ``on_status`` gets the Command Complete status; without
        it a refused command is a :class:`CommandFailed`."""
        self.hci.tick(now)
        self._connection(handle)
        if not MIN_TX_OCTETS <= tx_octets <= MAX_TX_OCTETS:
            raise LocalError(f"TX_Octets {tx_octets}: 27..251 (0x001B-0x00FB)")
        if not MIN_TX_TIME_US <= tx_time <= MAX_TX_TIME_US:
            raise LocalError(f"TX_Time {tx_time} µs: 328..17040 (0x0148-0x4290)")
        if not self.info.supports(lc.HCI_LE_Set_Data_Length_Command):
            raise LocalError("the controller does not support HCI_LE_Set_Data_Length")
        cmd = lc.HCI_LE_Set_Data_Length_Command(connection_handle=handle, tx_octets=tx_octets, tx_time=tx_time)
        if on_status is None:
            self._run([self._step(cmd)])
        else:
            self._run([self._step(cmd)], lambda: on_status(0), lambda f: on_status(f.status))

    def _data_length_change(self, e: le.HCI_LE_Data_Length_Change_Event) -> None:
        conn = self.connections.get(e.connection_handle)
        if conn is None:
            return
        conn.max_tx_octets, conn.max_rx_octets = e.max_tx_octets, e.max_rx_octets
        conn.max_tx_time_ns, conn.max_rx_time_ns = e.max_tx_time * US, e.max_rx_time * US
        self._emit(DataLengthChanged(conn.handle, e.max_tx_octets, conn.max_tx_time_ns,
                                     e.max_rx_octets, conn.max_rx_time_ns))
