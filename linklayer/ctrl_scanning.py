"""Scanning commands of the controller (Vol 4 Part E 7.8.10–7.8.11, 7.8.64–7.8.65).

The legacy and extended scan commands configure one :class:`linklayer.scanner.Scanner`;
its reports are formatted here as LE Advertising Report, LE Directed Advertising Report
or LE Extended Advertising Report events. Extended reports longer than one event are
split into fragments with data status "incomplete, more data to come" (7.7.65.13).
"""

from __future__ import annotations

from typing import Any, Callable

from phy.types import Phy
from phy.units import UNIT_10MS, slots_625us

from .hci import le_commands as lc
from .hci import le_events as le
from .hci import le_ext_commands as lx
from .ctrl_base import H4_EVENT, ControllerBase
from .hci.errors import ErrorCode
from .hci.supported import LeFeature
from .scanner import DATA_INCOMPLETE_MORE, ScanConfig, Scanner, ScanPhy, ScanReport

INVALID = int(ErrorCode.INVALID_HCI_COMMAND_PARAMETERS)
DISALLOWED = int(ErrorCode.COMMAND_DISALLOWED)
UNSUPPORTED = int(ErrorCode.UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE)

#: Most AdvData one LE Extended Advertising Report event carries (255 - 2 - 24).
MAX_EXT_REPORT_DATA = 229
#: Extended scan period unit (Vol 4 Part E 7.8.65): 1.28 s.
PERIOD_UNIT_NS = 1_280_000_000
_HCI_PHY_NUMBER = {Phy.LE_1M: 1, Phy.LE_2M: 2, Phy.LE_CODED_S8: 3, Phy.LE_CODED_S2: 3}


class ScanningCommands(ControllerBase):
    """Mixin: scanning state and HCI handlers of :class:`Controller`."""

    scanner: Scanner | None
    _scan_config: ScanConfig

    def _init_scanning(self) -> None:
        self.scanner = None
        self._scan_config = ScanConfig()
        self._scan_own_type = 0

    def _register_scanning(self, h: dict[int, Callable[[Any, int], Any]]) -> None:
        h[lc.HCI_LE_Set_Scan_Parameters_Command.OPCODE] = self._set_scan_params
        h[lc.HCI_LE_Set_Scan_Enable_Command.OPCODE] = self._set_scan_enable
        h[lx.HCI_LE_Set_Extended_Scan_Parameters_Command.OPCODE] = self._set_ext_scan_params
        h[lx.HCI_LE_Set_Extended_Scan_Enable_Command.OPCODE] = self._set_ext_scan_enable

    # -- legacy --------------------------------------------------------------------------
    def _set_scan_params(self, cmd: lc.HCI_LE_Set_Scan_Parameters_Command, now: int) -> int:
        if not self._check_mode("legacy"):
            return DISALLOWED
        if self.scanner is not None:
            return DISALLOWED
        if cmd.le_scan_type > 1 or cmd.own_address_type > 3 or cmd.scanning_filter_policy > 3:
            return INVALID
        if not (0x0004 <= cmd.le_scan_window <= cmd.le_scan_interval <= 0x4000):
            return INVALID
        self._scan_config = ScanConfig(
            phys=(ScanPhy(Phy.LE_1M, bool(cmd.le_scan_type), slots_625us(cmd.le_scan_interval),
                          slots_625us(cmd.le_scan_window)),),
            filter_policy=cmd.scanning_filter_policy,
            extended=False,
        )
        self._scan_own_type = cmd.own_address_type
        return 0

    def _set_scan_enable(self, cmd: lc.HCI_LE_Set_Scan_Enable_Command, now: int) -> int:
        if not self._check_mode("legacy"):
            return DISALLOWED
        if cmd.le_scan_enable > 1 or cmd.filter_duplicates > 1:
            return INVALID
        if not cmd.le_scan_enable:
            self._stop_scanner()
            return 0
        if self.scanner is not None:
            # Enabling again only updates duplicate filtering (7.8.11).
            return 0
        return self._start_scanner(self._scan_config, cmd.filter_duplicates, 0, 0, now)

    # -- extended ------------------------------------------------------------------------
    def _set_ext_scan_params(
        self, cmd: lx.HCI_LE_Set_Extended_Scan_Parameters_Command, now: int
    ) -> int:
        if not self._check_mode("extended"):
            return DISALLOWED
        if self.scanner is not None:
            return DISALLOWED
        if cmd.own_address_type > 3 or cmd.scanning_filter_policy > 3:
            return INVALID
        if cmd.scanning_phys == 0 or cmd.scanning_phys & ~0x05:
            return UNSUPPORTED if cmd.scanning_phys & ~0x07 == 0 else INVALID
        if cmd.scanning_phys & 0x04 and not self.config.le_features & LeFeature.LE_CODED_PHY:
            return UNSUPPORTED
        phys_order = [p for bit, p in ((0x01, Phy.LE_1M), (0x04, Phy.LE_CODED_S8)) if cmd.scanning_phys & bit]
        params = []
        for phy, e in zip(phys_order, cmd.phys):
            if e.scan_type > 1 or not (0x0004 <= e.scan_window <= e.scan_interval):
                return INVALID
            params.append(ScanPhy(phy, bool(e.scan_type), slots_625us(e.scan_interval), slots_625us(e.scan_window)))
        self._scan_config = ScanConfig(
            phys=tuple(params), filter_policy=cmd.scanning_filter_policy, extended=True
        )
        self._scan_own_type = cmd.own_address_type
        return 0

    def _set_ext_scan_enable(self, cmd: lx.HCI_LE_Set_Extended_Scan_Enable_Command, now: int) -> int:
        if not self._check_mode("extended"):
            return DISALLOWED
        if cmd.enable > 1 or cmd.filter_duplicates > 2:
            return INVALID
        if not cmd.enable:
            self._stop_scanner()
            return 0
        duration = cmd.duration * UNIT_10MS
        period = cmd.period * PERIOD_UNIT_NS
        if period and (not duration or duration >= period):
            return INVALID
        if cmd.filter_duplicates == 2 and not period:
            return INVALID
        if self.scanner is not None:
            self._stop_scanner()
        return self._start_scanner(self._scan_config, cmd.filter_duplicates, duration, period, now)

    # -- activity ------------------------------------------------------------------------
    def _start_scanner(
        self, config: ScanConfig, filter_duplicates: int, duration: int, period: int, now: int
    ) -> int:
        own = self.own_address(self._scan_own_type)
        if own is None:
            return INVALID
        cfg = ScanConfig(
            phys=config.phys, own_address=own, filter_policy=config.filter_policy,
            filter_duplicates=filter_duplicates, extended=config.extended,
            duration_ns=duration, period_ns=period,
        )
        self.scanner = Scanner(cfg, self.scheduler.radio, self.scan_rng(), self, now)
        self.scheduler.set_background(self.scanner)
        return 0

    def scan_rng(self) -> Any:
        return self.streams("scanner")

    def _stop_scanner(self) -> None:
        if self.scanner is not None:
            self.scanner.stop()
        self.scanner = None
        self.scheduler.set_background(None)

    # -- ScannerHost -----------------------------------------------------------------------
    def scan_timeout(self, now: int) -> None:
        self.scanner = None
        self.scheduler.set_background(None)
        self.emit(le.HCI_LE_Scan_Timeout_Event())

    def report(self, report: ScanReport, now: int) -> None:
        extended = self.scanner is not None and self.scanner.config.extended
        if not extended:
            self._legacy_report(report)
        else:
            self._extended_report(report)

    def _legacy_report(self, r: ScanReport) -> None:
        if r.legacy_event_type is None or r.address is None:
            return
        if (
            r.direct_address is not None
            and not self.is_own_address(r.direct_address)
            and self.le_event_enabled(0x0B)
        ):
            self.emit(le.HCI_LE_Directed_Advertising_Report_Event(reports=(
                le.DirectedAdvertisingReport(
                    event_type=r.legacy_event_type, address_type=r.address.address_type,
                    address=r.address.value, direct_address_type=r.direct_address.address_type,
                    direct_address=r.direct_address.value, rssi=r.rssi,
                ),
            )))
            return
        # le_event_enabled(0x02), inline (one call per report): LE Meta Event bit 61 of the
        # event mask and the LE Advertising Report bit 1 of the LE event mask.
        if (self.event_mask >> 61) & 1 and (self.le_event_mask >> 1) & 1:
            address = r.address
            self._hci_out.append((H4_EVENT, le.advertising_report_packet(
                r.legacy_event_type, 1 if address.random else 0, address.value, r.data, r.rssi,
            )))

    def _extended_report(self, r: ScanReport) -> None:
        addr = r.address
        address_type = addr.address_type if addr is not None else 0xFF
        address = addr.value if addr is not None else bytes(6)
        direct = r.direct_address
        data = r.data
        chunks = [data[i:i + MAX_EXT_REPORT_DATA] for i in range(0, len(data), MAX_EXT_REPORT_DATA)] or [b""]
        for i, chunk in enumerate(chunks):
            status = DATA_INCOMPLETE_MORE if i + 1 < len(chunks) else r.data_status
            self.emit(le.HCI_LE_Extended_Advertising_Report_Event(reports=(
                le.ExtendedAdvertisingReport(
                    event_type=r.event_type | (status << 5),
                    address_type=address_type,
                    address=address,
                    primary_phy=_HCI_PHY_NUMBER[r.primary_phy],
                    secondary_phy=_HCI_PHY_NUMBER[r.secondary_phy] if r.secondary_phy else 0,
                    advertising_sid=r.sid if r.sid is not None else 0xFF,
                    tx_power=r.tx_power if r.tx_power is not None else 127,
                    rssi=r.rssi,
                    periodic_advertising_interval=0,
                    direct_address_type=direct.address_type if direct is not None else 0,
                    direct_address=direct.value if direct is not None else bytes(6),
                    data=chunk,
                ),
            )))
