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
        LeFeature.LE_2M_PHY
        | LeFeature.LE_CODED_PHY
        | LeFeature.LE_EXTENDED_ADVERTISING
        | LeFeature.EXTENDED_SCANNER_FILTER_POLICIES
        | LeFeature.CHANNEL_SELECTION_ALGORITHM_2
    )
    hci_version: int = HCI_VERSION_5_3
    hci_subversion: int = 0x0001
    company_identifier: int = COMPANY_ID_TESTING


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

    def emit(self, event: HciEvent) -> None:
        """Queue an event for the host, honouring the event masks."""
        if isinstance(event, HciLeMetaEvent):
            if not (self.event_mask >> LE_META_EVENT_BIT) & 1:
                return
            if not (self.le_event_mask >> (event.SUBEVENT_CODE - 1)) & 1:
                return
        else:
            code = event.EVENT_CODE
            if code not in (0x0E, 0x0F) and 1 <= code <= 64 and not (self.event_mask >> (code - 1)) & 1:
                return
        self._hci_out.append((H4_EVENT, event.to_bytes()))

    def le_event_enabled(self, subevent: int) -> bool:
        return bool((self.event_mask >> LE_META_EVENT_BIT) & 1 and (self.le_event_mask >> (subevent - 1)) & 1)

    def _check_mode(self, mode: str) -> bool:
        """Legacy and extended advertising/scanning commands may not be mixed (4.2 / 7.8)."""
        if self.hci_mode is None:
            self.hci_mode = mode
            return True
        return self.hci_mode == mode

