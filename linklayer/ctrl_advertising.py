"""Advertising commands of the controller (Vol 4 Part E 7.8.5–7.8.10, 7.8.52–7.8.61).

Legacy commands drive advertising set 0 (the "legacy set"); extended commands drive
numbered sets. Both end in the same :class:`linklayer.advertiser.AdvertisingSet` and the
same :class:`linklayer.advertiser.Advertiser` activity. Parameters are checked against
the ranges of the specification and refused with its error codes: 0x12 for values out of
range, 0x0C for changes not allowed while advertising, 0x42 for unknown sets, 0x07 when
no more sets (or data) fit, 0x11 for unsupported features.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

from phy.types import Phy
from phy.units import MS, UNIT_10MS, slots_625us

from .address import Address
from .advertiser import AdvertisingSet, Advertiser
from .hci import le_commands as lc
from .hci import le_ext_commands as lx
from .hci import le_events as le
from .hci.codec import ReturnParameters
from .ctrl_base import ControllerBase
from .hci.errors import ErrorCode
from .hci.supported import LeFeature
from .pdu import CONNECT_IND
from .radio import RadioPacket

INVALID = int(ErrorCode.INVALID_HCI_COMMAND_PARAMETERS)
DISALLOWED = int(ErrorCode.COMMAND_DISALLOWED)
UNKNOWN_SET = int(ErrorCode.UNKNOWN_ADVERTISING_IDENTIFIER)
MEMORY = int(ErrorCode.MEMORY_CAPACITY_EXCEEDED)
UNSUPPORTED = int(ErrorCode.UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE)

LEGACY_HANDLE = 0
#: Allowed legacy event properties for extended commands (Vol 4 Part E 7.8.53, Table 7.2).
LEGACY_PROPERTIES = {0x13, 0x15, 0x1D, 0x12, 0x10}
_HCI_PHY = {1: Phy.LE_1M, 2: Phy.LE_2M, 3: Phy.LE_CODED_S8}


def _channels(channel_map: int) -> tuple[int, ...]:
    return tuple(ch for bit, ch in enumerate((37, 38, 39)) if channel_map >> bit & 1)


class AdvertisingCommands(ControllerBase):
    """Mixin: advertising state and HCI handlers of :class:`Controller`."""

    advertisers: dict[int, Advertiser]
    adv_sets: dict[int, AdvertisingSet]
    _adv_partial: dict[tuple[int, str], bytes]
    _adv_enabled_legacy: bool

    def _init_advertising(self) -> None:
        self.advertisers = {}
        self.adv_sets = {}
        self._adv_partial = {}
        self._adv_enabled_legacy = False
        self._legacy_params: lc.HCI_LE_Set_Advertising_Parameters_Command | None = None
        self._legacy_own_type = 0
        #: Per extended set: the random address given to it, and its Own_Address_Type.
        self._random_for_set: dict[int, Address] = {}
        self._own_type_for_set: dict[int, int] = {}

    def _register_advertising(self, h: dict[int, Callable[[Any, int], Any]]) -> None:
        h[lc.HCI_LE_Set_Advertising_Parameters_Command.OPCODE] = self._set_adv_params
        h[lc.HCI_LE_Read_Advertising_Physical_Channel_Tx_Power_Command.OPCODE] = self._read_adv_tx_power
        h[lc.HCI_LE_Set_Advertising_Data_Command.OPCODE] = self._set_adv_data
        h[lc.HCI_LE_Set_Scan_Response_Data_Command.OPCODE] = self._set_scan_rsp_data
        h[lc.HCI_LE_Set_Advertising_Enable_Command.OPCODE] = self._set_adv_enable
        h[lx.HCI_LE_Set_Advertising_Set_Random_Address_Command.OPCODE] = self._set_set_random_address
        h[lx.HCI_LE_Set_Extended_Advertising_Parameters_Command.OPCODE] = self._set_ext_adv_params
        h[lx.HCI_LE_Set_Extended_Advertising_Data_Command.OPCODE] = self._set_ext_adv_data
        h[lx.HCI_LE_Set_Extended_Scan_Response_Data_Command.OPCODE] = self._set_ext_scan_rsp_data
        h[lx.HCI_LE_Set_Extended_Advertising_Enable_Command.OPCODE] = self._set_ext_adv_enable
        h[lx.HCI_LE_Read_Maximum_Advertising_Data_Length_Command.OPCODE] = self._read_max_adv_len
        h[lx.HCI_LE_Read_Number_of_Supported_Advertising_Sets_Command.OPCODE] = self._read_num_sets
        h[lx.HCI_LE_Remove_Advertising_Set_Command.OPCODE] = self._remove_adv_set
        h[lx.HCI_LE_Clear_Advertising_Sets_Command.OPCODE] = self._clear_adv_sets

    def _legacy_adv_enabled(self) -> bool:
        return LEGACY_HANDLE in self.advertisers and self.hci_mode == "legacy"

    # -- legacy --------------------------------------------------------------------------
    def _set_adv_params(self, cmd: lc.HCI_LE_Set_Advertising_Parameters_Command, now: int) -> int:
        if not self._check_mode("legacy"):
            return DISALLOWED
        if self._legacy_adv_enabled():
            return DISALLOWED
        high_duty = cmd.advertising_type == 1
        if cmd.advertising_type > 4 or cmd.own_address_type > 3 or cmd.peer_address_type > 1:
            return INVALID
        if not high_duty and not (
            0x20 <= cmd.advertising_interval_min <= cmd.advertising_interval_max <= 0x4000
        ):
            return INVALID
        if not 1 <= cmd.advertising_channel_map <= 7 or cmd.advertising_filter_policy > 3:
            return INVALID
        self._legacy_params = cmd
        base = self.adv_sets.get(LEGACY_HANDLE, AdvertisingSet(handle=LEGACY_HANDLE))
        t = cmd.advertising_type
        self.adv_sets[LEGACY_HANDLE] = replace(
            base,
            legacy=True,
            connectable=t in (0, 1, 4),
            scannable=t in (0, 2),
            directed=t in (1, 4),
            high_duty=high_duty,
            interval_ns=slots_625us(cmd.advertising_interval_min),
            channels=_channels(cmd.advertising_channel_map),
            peer_address=Address(cmd.peer_address, bool(cmd.peer_address_type)) if t in (1, 4) else None,
            filter_policy=cmd.advertising_filter_policy if t not in (1, 4) else 0,
            tx_power_dbm=self.config.tx_power_dbm,
        )
        self._legacy_own_type = cmd.own_address_type
        return 0

    def _read_adv_tx_power(self, cmd: Any, now: int) -> ReturnParameters:
        return lc.HCI_LE_Read_Advertising_Physical_Channel_Tx_Power_ReturnParameters(
            status=0, tx_power_level=self.config.tx_power_dbm
        )

    def _set_adv_data(self, cmd: lc.HCI_LE_Set_Advertising_Data_Command, now: int) -> int:
        if not self._check_mode("legacy"):
            return DISALLOWED
        if len(cmd.advertising_data) > 31:
            return INVALID
        base = self.adv_sets.get(LEGACY_HANDLE, AdvertisingSet(handle=LEGACY_HANDLE))
        self._store_set(replace(base, adv_data=bytes(cmd.advertising_data), did=(base.did + 1) & 0xFFF))
        return 0

    def _set_scan_rsp_data(self, cmd: lc.HCI_LE_Set_Scan_Response_Data_Command, now: int) -> int:
        if not self._check_mode("legacy"):
            return DISALLOWED
        if len(cmd.scan_response_data) > 31:
            return INVALID
        base = self.adv_sets.get(LEGACY_HANDLE, AdvertisingSet(handle=LEGACY_HANDLE))
        self._store_set(replace(base, scan_rsp_data=bytes(cmd.scan_response_data)))
        return 0

    def _set_adv_enable(self, cmd: lc.HCI_LE_Set_Advertising_Enable_Command, now: int) -> int:
        if not self._check_mode("legacy"):
            return DISALLOWED
        if cmd.advertising_enable > 1:
            return INVALID
        if not cmd.advertising_enable:
            self._stop_advertiser(LEGACY_HANDLE)
            return 0
        if LEGACY_HANDLE in self.advertisers:
            return 0  # enabling while enabled has no effect (7.8.9)
        adv_set = self.adv_sets.get(LEGACY_HANDLE, AdvertisingSet(handle=LEGACY_HANDLE))
        own = self.own_address(self._legacy_own_type)
        if own is None:
            return INVALID
        if adv_set.directed and adv_set.peer_address is None:
            return INVALID
        self._start_advertiser(replace(adv_set, own_address=own), now)
        return 0

    # -- extended ------------------------------------------------------------------------
    def _set_set_random_address(
        self, cmd: lx.HCI_LE_Set_Advertising_Set_Random_Address_Command, now: int
    ) -> int:
        if not self._check_mode("extended"):
            return DISALLOWED
        s = self.adv_sets.get(cmd.advertising_handle)
        if s is None:
            return UNKNOWN_SET
        addr = Address(bytes(cmd.random_address), True)
        self._random_for_set[cmd.advertising_handle] = addr
        if cmd.advertising_handle in self.advertisers:
            self.advertisers[cmd.advertising_handle].update(replace(s, own_address=addr))
        return 0

    def _set_ext_adv_params(
        self, cmd: lx.HCI_LE_Set_Extended_Advertising_Parameters_Command, now: int
    ) -> ReturnParameters | int:
        if not self._check_mode("extended"):
            return DISALLOWED
        handle = cmd.advertising_handle
        props = cmd.advertising_event_properties
        if handle > 0xEF or cmd.advertising_sid > 0x0F or cmd.own_address_type > 3:
            return INVALID
        if handle in self.advertisers:
            return DISALLOWED
        if handle not in self.adv_sets and len(self.adv_sets) >= self.config.num_advertising_sets:
            return MEMORY
        legacy = bool(props & 0x10)
        if legacy and props & 0x7F not in LEGACY_PROPERTIES:
            return INVALID
        if not legacy and props & 0x03 == 0x03:
            return INVALID  # extended advertising cannot be connectable and scannable
        high_duty = bool(props & 0x08)
        if not high_duty and not (
            0x20 <= cmd.primary_advertising_interval_min <= cmd.primary_advertising_interval_max
        ):
            return INVALID
        if not 1 <= cmd.primary_advertising_channel_map <= 7 or cmd.advertising_filter_policy > 3:
            return INVALID
        if cmd.primary_advertising_phy not in (1, 3) or cmd.secondary_advertising_phy not in (1, 2, 3):
            return INVALID
        features = self.config.le_features
        if cmd.secondary_advertising_phy == 2 and not features & LeFeature.LE_2M_PHY:
            return UNSUPPORTED
        if 3 in (cmd.primary_advertising_phy, cmd.secondary_advertising_phy) and not features & LeFeature.LE_CODED_PHY:
            return UNSUPPORTED
        base = self.adv_sets.get(handle, AdvertisingSet(handle=handle))
        if legacy and (len(base.adv_data) > 31 or len(base.scan_rsp_data) > 31):
            return INVALID
        tx = cmd.advertising_tx_power
        if tx == 127 or tx > 127:
            selected = self.config.tx_power_dbm
        else:
            tx = tx - 256 if tx > 127 else tx
            selected = max(self.config.min_tx_power_dbm, min(self.config.max_tx_power_dbm, tx))
        directed = bool(props & 0x04)
        self.adv_sets[handle] = replace(
            base,
            legacy=legacy,
            connectable=bool(props & 0x01),
            scannable=bool(props & 0x02),
            directed=directed,
            high_duty=high_duty,
            anonymous=bool(props & 0x20),
            include_tx_power=bool(props & 0x40),
            interval_ns=slots_625us(cmd.primary_advertising_interval_min),
            channels=_channels(cmd.primary_advertising_channel_map),
            peer_address=Address(bytes(cmd.peer_address), bool(cmd.peer_address_type)) if directed else None,
            filter_policy=cmd.advertising_filter_policy,
            tx_power_dbm=selected,
            primary_phy=_HCI_PHY[cmd.primary_advertising_phy],
            secondary_phy=_HCI_PHY[cmd.secondary_advertising_phy],
            sid=cmd.advertising_sid,
            scan_request_notification=bool(cmd.scan_request_notification_enable),
        )
        self._own_type_for_set[handle] = cmd.own_address_type
        return lx.HCI_LE_Set_Extended_Advertising_Parameters_ReturnParameters(status=0, selected_tx_power=selected)

    def _ext_data(self, handle: int, operation: int, data: bytes, scan_rsp: bool) -> int:
        if not self._check_mode("extended"):
            return DISALLOWED
        s = self.adv_sets.get(handle)
        if s is None:
            return UNKNOWN_SET
        if operation > 4 or len(data) > 251:
            return INVALID
        key = (handle, "scan" if scan_rsp else "adv")
        if s.legacy:
            if operation != 3 or len(data) > 31:
                return INVALID
        if operation == 4:
            if data or scan_rsp:
                return INVALID
            return self._store_set(replace(s, did=(s.did + 1) & 0xFFF))
        if scan_rsp and not s.scannable and data:
            return INVALID
        if not scan_rsp and s.scannable and not s.legacy and data:
            return INVALID  # scannable extended advertising carries no AdvData
        enabled = handle in self.advertisers
        if enabled and operation != 3:
            return DISALLOWED  # fragmented updates only while disabled (7.8.54)
        if operation in (1, 3):
            buffer = b""
        else:
            if key not in self._adv_partial:
                return INVALID
            buffer = self._adv_partial[key]
        buffer += bytes(data)
        if len(buffer) > self.config.max_advertising_data_length:
            self._adv_partial.pop(key, None)
            return MEMORY
        if operation in (0, 1):
            self._adv_partial[key] = buffer
            return 0
        self._adv_partial.pop(key, None)
        if scan_rsp:
            return self._store_set(replace(s, scan_rsp_data=buffer))
        return self._store_set(replace(s, adv_data=buffer, did=(s.did + 1) & 0xFFF))

    def _set_ext_adv_data(self, cmd: lx.HCI_LE_Set_Extended_Advertising_Data_Command, now: int) -> int:
        return self._ext_data(cmd.advertising_handle, cmd.operation, cmd.advertising_data, False)

    def _set_ext_scan_rsp_data(
        self, cmd: lx.HCI_LE_Set_Extended_Scan_Response_Data_Command, now: int
    ) -> int:
        return self._ext_data(cmd.advertising_handle, cmd.operation, cmd.scan_response_data, True)

    def _set_ext_adv_enable(
        self, cmd: lx.HCI_LE_Set_Extended_Advertising_Enable_Command, now: int
    ) -> int:
        if not self._check_mode("extended"):
            return DISALLOWED
        if cmd.enable > 1:
            return INVALID
        if not cmd.enable:
            if not cmd.sets:
                for handle in list(self.advertisers):
                    self._stop_advertiser(handle)
                return 0
            if any(e.advertising_handle not in self.adv_sets for e in cmd.sets):
                return UNKNOWN_SET
            for e in cmd.sets:
                self._stop_advertiser(e.advertising_handle)
            return 0
        if not cmd.sets:
            return INVALID
        handles = [e.advertising_handle for e in cmd.sets]
        if len(set(handles)) != len(handles):
            return INVALID
        starts: list[AdvertisingSet] = []
        for e in cmd.sets:
            s = self.adv_sets.get(e.advertising_handle)
            if s is None:
                return UNKNOWN_SET
            own_type = self._own_type_for_set.get(s.handle, 0)
            own = self.own_address(own_type, self._random_for_set.get(s.handle))
            if own is None:
                return INVALID
            if s.high_duty and (e.duration == 0 or e.duration * UNIT_10MS > 1280 * MS):
                return INVALID
            if s.scannable and not s.legacy and not s.scan_rsp_data:
                pass  # allowed: an empty scan response
            starts.append(
                replace(s, own_address=own, duration_ns=e.duration * UNIT_10MS,
                        max_events=e.max_extended_advertising_events)
            )
        for s in starts:
            if s.handle in self.advertisers:
                self._stop_advertiser(s.handle)
            self._start_advertiser(s, now)
        return 0

    def _read_max_adv_len(self, cmd: Any, now: int) -> ReturnParameters:
        return lx.HCI_LE_Read_Maximum_Advertising_Data_Length_ReturnParameters(
            status=0, max_advertising_data_length=self.config.max_advertising_data_length
        )

    def _read_num_sets(self, cmd: Any, now: int) -> ReturnParameters:
        return lx.HCI_LE_Read_Number_of_Supported_Advertising_Sets_ReturnParameters(
            status=0, num_supported_advertising_sets=self.config.num_advertising_sets
        )

    def _remove_adv_set(self, cmd: lx.HCI_LE_Remove_Advertising_Set_Command, now: int) -> int:
        if not self._check_mode("extended"):
            return DISALLOWED
        handle = cmd.advertising_handle
        if handle not in self.adv_sets:
            return UNKNOWN_SET
        if handle in self.advertisers:
            return DISALLOWED
        del self.adv_sets[handle]
        return 0

    def _clear_adv_sets(self, cmd: Any, now: int) -> int:
        if not self._check_mode("extended"):
            return DISALLOWED
        if self.advertisers:
            return DISALLOWED
        self.adv_sets.clear()
        return 0

    # -- activity management -------------------------------------------------------------
    def _store_set(self, s: AdvertisingSet) -> int:
        self.adv_sets[s.handle] = s
        adv = self.advertisers.get(s.handle)
        if adv is not None:
            adv.update(replace(s, own_address=adv.set.own_address, duration_ns=adv.set.duration_ns,
                               max_events=adv.set.max_events))
        return 0

    def _start_advertiser(self, s: AdvertisingSet, now: int) -> None:
        rng = self.adv_rng(s.handle)
        adv = Advertiser(s, self.scheduler.radio, rng, self, now, self.scheduler.release)
        self.advertisers[s.handle] = adv
        self.scheduler.add(adv)

    def adv_rng(self, handle: int) -> Any:
        """The random stream advDelay and channel choices of a set draw from."""
        return self.streams(f"adv-set-{handle}")

    def _stop_advertiser(self, handle: int) -> None:
        adv = self.advertisers.pop(handle, None)
        if adv is not None:
            adv.stop()
            self.scheduler.remove(adv, 0)

    # -- AdvertiserHost ------------------------------------------------------------------
    def scan_request_received(self, adv: Advertiser, scanner: Address, now: int) -> None:
        if not adv.set.legacy or self.hci_mode == "extended":
            if adv.set.scan_request_notification:
                self.emit(le.HCI_LE_Scan_Request_Received_Event(
                    advertising_handle=adv.set.handle, scanner_address_type=scanner.address_type,
                    scanner_address=scanner.value,
                ))

    def connect_request_received(
        self, adv: Advertiser, pdu: CONNECT_IND, packet: RadioPacket, now: int
    ) -> bool:
        return self.accept_connection(adv, pdu, packet, now)

    def accept_connection(
        self, adv: Advertiser, pdu: CONNECT_IND, packet: RadioPacket, now: int
    ) -> bool:
        """Connections are the connection layer's: without it a CONNECT_IND is not taken."""
        return False

    def advertising_ended(self, adv: Advertiser, status: int, now: int) -> None:
        handle = adv.set.handle
        self.advertisers.pop(handle, None)
        self.scheduler.remove(adv, now)
        if self.hci_mode == "extended":
            self.emit(le.HCI_LE_Advertising_Set_Terminated_Event(
                status=status, advertising_handle=handle, connection_handle=0,
                num_completed_extended_advertising_events=min(adv.events, 255),
            ))
        elif adv.set.directed and adv.set.high_duty:
            peer = adv.set.peer_address or Address(bytes(6))
            self.emit(le.HCI_LE_Connection_Complete_Event(
                status=status, connection_handle=0, role=1, peer_address_type=peer.address_type,
                peer_address=peer.value, connection_interval=0, peripheral_latency=0,
                supervision_timeout=0, central_clock_accuracy=0,
            ))
