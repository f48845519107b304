"""State shared by the controller's command groups (see :mod:`linklayer.controller`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

from phy.types import Rng

from .address import Address
from .advertiser import Advertiser
from .hci.codec import HciEvent, HciLeMetaEvent
from .hci.h4 import H4PacketType
from .hci.supported import LeFeature
from .scanner import Scanner
from .scheduler import Scheduler

H4_COMMAND = int(H4PacketType.COMMAND)
H4_ACL = int(H4PacketType.ACL)
H4_EVENT = int(H4PacketType.EVENT)

#: Default event masks after reset (Vol 4 Part E 7.3.1 and 7.8.1).
DEFAULT_EVENT_MASK = 0x00001FFFFFFFFFFF
DEFAULT_LE_EVENT_MASK = 0x000000000000001F
LE_META_EVENT_BIT = 61

#: Core Specification version numbers (Assigned Numbers): 0x0C = 5.3.
HCI_VERSION_5_3 = 0x0C
#: Company identifier 0xFFFF is reserved for tests and internal use.
COMPANY_ID_TESTING = 0xFFFF


@dataclass(frozen=True)
class ControllerConfig:
    """What a controller is: its address, buffers, sizes and capabilities."""

    public_address: Address = dataclasses.field(default_factory=lambda: Address(bytes(6)))
    le_acl_data_packet_length: int = 251
    total_num_le_acl_data_packets: int = 8
    num_advertising_sets: int = 4
    max_advertising_data_length: int = 1650
    filter_accept_list_size: int = 16
    resolving_list_size: int = 16
    tx_power_dbm: int = 0
    min_tx_power_dbm: int = -20
    max_tx_power_dbm: int = 10
    sleep_clock_accuracy_ppm: int = 50
    le_features: int = int(
        LeFeature.LE_ENCRYPTION
        | LeFeature.CONNECTION_PARAMETERS_REQUEST_PROCEDURE
        | LeFeature.EXTENDED_REJECT_INDICATION
        | LeFeature.PERIPHERAL_INITIATED_FEATURES_EXCHANGE
        | LeFeature.LE_PING
        | LeFeature.LE_DATA_PACKET_LENGTH_EXTENSION
        | LeFeature.LE_2M_PHY
        | LeFeature.LE_CODED_PHY
        | LeFeature.LE_EXTENDED_ADVERTISING
        | LeFeature.EXTENDED_SCANNER_FILTER_POLICIES
        | LeFeature.CHANNEL_SELECTION_ALGORITHM_2
    )
    hci_version: int = HCI_VERSION_5_3
    hci_subversion: int = 0x0001
    company_identifier: int = COMPANY_ID_TESTING


#: Events the masks never suppress (Vol 4 Part E 7.3.1: bits 13, 14 and 18 are reserved).
UNMASKABLE_EVENTS = frozenset({0x0E, 0x0F, 0x13})
#: Event code -> bit of Event_Mask_Page_2 (Vol 4 Part E 7.3.69).
PAGE_2_EVENT_BITS = {0x57: 23, 0x59: 25}


class ControllerBase:
    """The controller state every command group reads and writes."""

    config: ControllerConfig
    rng: Rng
    streams: Callable[[str], Rng]
    scheduler: Scheduler
    event_mask: int
    event_mask_page_2: int
    le_event_mask: int
    random_address: Address | None
    filter_accept_list: set[tuple[int, bytes]]
    hci_mode: str | None
    advertisers: dict[int, Advertiser]
    scanner: Scanner | None
    suggested_max_tx_octets: int
    suggested_max_tx_time: int
    _hci_out: list[tuple[int, bytes]]

    def own_address(self, own_address_type: int, set_random: Address | None = None) -> Address | None:
        """The address for Own_Address_Type 0 (public) or 1 (random); None if unset."""
        if own_address_type in (0, 2):
            return self.config.public_address
        random = set_random if set_random is not None else self.random_address
        return random

    def is_own_address(self, address: Address) -> bool:
        if address == self.config.public_address:
            return True
        if self.random_address is not None and address == self.random_address:
            return True
        return any(a.set.own_address == address for a in self.advertisers.values())

    def filter_accepts(self, address: Address) -> bool:
        return (address.address_type, address.value) in self.filter_accept_list

    def resolve_peer(self, address: Address) -> Address | None:
        """The identity behind a peer's resolvable private address, through the resolving
        list (:mod:`linklayer.ctrl_privacy`); ``None`` without one."""
        return None

    def privacy_blocks(self, address: Address) -> bool:
        """Whether network privacy mode makes the link layer ignore ``address``."""
        return False

    def emit(self, event: HciEvent) -> None:
        """Queue an event for the host, honouring the event masks."""
        if isinstance(event, HciLeMetaEvent):
            if not (self.event_mask >> LE_META_EVENT_BIT) & 1:
                return
            if not (self.le_event_mask >> (event.SUBEVENT_CODE - 1)) & 1:
                return
        elif not self.event_enabled(event.EVENT_CODE):
            return
        self._hci_out.append((H4_EVENT, event.to_bytes()))

    def event_enabled(self, code: int) -> bool:
        """Whether the event masks let event ``code`` through (Vol 4 Part E 7.3.1, 7.3.69).

        Command Complete, Command Status and Number Of Completed Packets cannot be masked
        (their old mask bits 13, 14 and 18 are reserved). Other codes up to 0x40 use bit
        code-1 of the first page; later events use their bit on page 2.
        """
        if code in UNMASKABLE_EVENTS:
            return True
        if code <= 64:
            return bool((self.event_mask >> (code - 1)) & 1)
        bit = PAGE_2_EVENT_BITS.get(code)
        return bit is None or bool((self.event_mask_page_2 >> bit) & 1)

    def le_event_enabled(self, subevent: int) -> bool:
        return bool((self.event_mask >> LE_META_EVENT_BIT) & 1 and (self.le_event_mask >> (subevent - 1)) & 1)

    def _check_mode(self, mode: str) -> bool:
        """Legacy and extended advertising/scanning commands may not be mixed (4.2 / 7.8)."""
        if self.hci_mode is None:
            self.hci_mode = mode
            return True
        return self.hci_mode == mode

