"""What the LL control procedures need from a connection, and the types they share.

Theory of operation
-------------------
:class:`linklayer.control.ControlProcedures` is sans-IO and knows nothing of radios or
anchors. It talks to its connection only through :class:`Link`: it queues control PDUs
(or builders that make one when the PDU is first sent, so an Instant is counted from
the event that really carries it), schedules the changes that take effect at an
instant, switches encryption per direction, and emits HCI events. Tests drive the
procedures with a small fake :class:`Link`.

The procedure kinds (:class:`Proc`), the data length state (:class:`Lengths`), what a
side says about itself (:class:`LocalInfo`) and the parameter and PHY helpers live here
too, so that :mod:`linklayer.control` holds only the procedures.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, Union

from phy.types import Phy
from phy.units import UNIT_10MS, UNIT_1250US

from . import control_pdu as cp
from .channels import ChannelMap
from .connection_timing import (
    DEFAULT_OCTETS,
    DEFAULT_TIME_US,
    MAX_OCTETS,
    MAX_TIME_US,
    time_floor_us,
)
from .control_pdu import ControlPdu
from .crypto import LlCipher
from .hci.codec import HciEvent

F = cp.LLFeature
#: LL features this link layer implements (Vol 6 Part B 4.6).
IMPLEMENTED_FEATURES = int(
    F.LE_ENCRYPTION | F.CONNECTION_PARAMETERS_REQUEST_PROCEDURE | F.EXTENDED_REJECT_INDICATION
    | F.PERIPHERAL_INITIATED_FEATURES_EXCHANGE | F.LE_PING | F.LE_DATA_PACKET_LENGTH_EXTENSION
    | F.LE_2M_PHY | F.LE_CODED_PHY | F.LE_EXTENDED_ADVERTISING | F.CHANNEL_SELECTION_ALGORITHM_2
    | F.EXTENDED_SCANNER_FILTER_POLICIES | F.MINIMUM_NUMBER_OF_USED_CHANNELS_PROCEDURE
)

_HCI_PHY = {Phy.LE_1M: 1, Phy.LE_2M: 2, Phy.LE_CODED_S8: 3, Phy.LE_CODED_S2: 3}
_LL_PHY_BIT = {Phy.LE_1M: 1, Phy.LE_2M: 2, Phy.LE_CODED_S8: 4, Phy.LE_CODED_S2: 4}

def hci_phy(phy: Phy) -> int:
    """The HCI PHY number (1 LE 1M, 2 LE 2M, 3 LE Coded)."""
    return _HCI_PHY[phy]


def ll_phy_bit(phy: Phy) -> int:
    return _LL_PHY_BIT[phy]


def phy_from_bit(bit: int, coded: Phy = Phy.LE_CODED_S8) -> Phy:
    return {1: Phy.LE_1M, 2: Phy.LE_2M, 4: coded}[bit]


def choose_phy(mask: int) -> int:
    """The preferred single PHY bit in ``mask``: LE 2M, then LE 1M, then LE Coded."""
    for bit in (2, 1, 4):
        if mask & bit:
            return bit
    return 0


def conn_params_valid(interval_min: int, interval_max: int, latency: int, timeout: int) -> bool:
    """Vol 6 Part B 4.5.1 / Vol 4 Part E 7.8.12 ranges, and timeout > (1 + latency)·2·interval."""
    if not (6 <= interval_min <= interval_max <= 3200):
        return False
    if latency > 499 or not 10 <= timeout <= 3200:
        return False
    return timeout * UNIT_10MS > (1 + latency) * interval_max * UNIT_1250US * 2


class Proc(enum.Enum):
    """Local procedures (Vol 6 Part B 5.1)."""

    FEATURES = "feature exchange"
    VERSION = "version exchange"
    CONN_UPDATE = "connection update"
    CONN_PARAM = "connection parameters request"
    CHANNEL_MAP = "channel map update"
    DATA_LENGTH = "data length update"
    PHY = "PHY update"
    ENCRYPTION = "encryption"
    PING = "LE ping"
    TERMINATE = "termination"


#: Procedures that end at an instant (only one at a time on a link, 5.3).
INSTANT_PROCS = (Proc.CONN_UPDATE, Proc.CONN_PARAM, Proc.CHANNEL_MAP, Proc.PHY)


@dataclass
class Local:
    """A procedure started by our host, with what it needs."""

    kind: Proc
    args: dict[str, Any] = field(default_factory=dict)
    started: bool = False


@dataclass
class Lengths:
    """Data length state (Vol 6 Part B 4.5.10): ours, the peer's, the effective ones."""

    max_tx_octets: int = DEFAULT_OCTETS
    max_tx_time: int = DEFAULT_TIME_US
    max_rx_octets: int = MAX_OCTETS
    max_rx_time: int = MAX_TIME_US
    remote_rx_octets: int = DEFAULT_OCTETS
    remote_rx_time: int = DEFAULT_TIME_US
    remote_tx_octets: int = DEFAULT_OCTETS
    remote_tx_time: int = DEFAULT_TIME_US

    def effective(self, phy_tx: Phy, phy_rx: Phy) -> tuple[int, int, int, int]:
        """(tx octets, tx time, rx octets, rx time) in effect."""
        tx_o = max(DEFAULT_OCTETS, min(self.max_tx_octets, self.remote_rx_octets))
        rx_o = max(DEFAULT_OCTETS, min(self.max_rx_octets, self.remote_tx_octets))
        tx_t = max(time_floor_us(phy_tx), min(self.max_tx_time, self.remote_rx_time))
        rx_t = max(time_floor_us(phy_rx), min(self.max_rx_time, self.remote_tx_time))
        return tx_o, tx_t, rx_o, rx_t


@dataclass(frozen=True)
class LocalInfo:
    """What this side tells the peer about itself."""

    features: int = IMPLEMENTED_FEATURES
    version: int = 0x0C
    company: int = 0xFFFF
    subversion: int = 0x0001
    default_tx_phys: int = 0x07
    default_rx_phys: int = 0x07


#: A control PDU to send, or a builder called with the event counter of the event that
#: first carries it (None: nothing to send after all).
ControlItem = Union[ControlPdu, Callable[[int], ControlPdu | None]]


class Link(Protocol):
    """The connection as the control procedures see it."""

    handle: int
    is_central: bool
    #: Event counter of the current (or last) connection event.
    counter: int
    #: Current parameters in HCI units (1.25 ms, events, 10 ms).
    interval: int
    latency: int
    timeout: int
    channel_map: ChannelMap
    tx_phy: Phy
    rx_phy: Phy

    def send_control(self, item: ControlItem) -> None: ...

    def emit(self, event: HciEvent) -> None: ...

    def le_event_enabled(self, subevent: int) -> bool: ...

    def close(self, reason: int, now: int) -> None: ...

    def close_after_ack(self, reason: int) -> None:
        """The peer's LL_TERMINATE_IND: acknowledge it, then close with ``reason``."""

    def schedule_update(self, instant: int, win_size: int, win_offset: int, interval: int,
                        latency: int, timeout: int) -> None: ...

    def schedule_channel_map(self, instant: int, channel_map: ChannelMap) -> None: ...

    def schedule_phy(self, instant: int, c_to_p: Phy | None, p_to_c: Phy | None) -> None: ...

    def set_data_paused(self, paused: bool) -> None: ...

    def set_cipher(self, cipher: LlCipher | None) -> None: ...

    def set_rx_decrypt(self, on: bool) -> None: ...

    def set_tx_encrypt(self, on: bool) -> None: ...

    def lengths_changed(self) -> None:
        """The effective data lengths changed (the link re-reads them)."""
