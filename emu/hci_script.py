"""Drive a simulated controller with HCI command bytes, as a minimal host would.

These helpers send real HCI packets through :meth:`ControllerDriver.send_hci`; nothing
reaches into the controller's state. Tests and benchmarks use them to build worlds of
advertisers and scanners "driven only through HCI".
"""

from __future__ import annotations

from linklayer.hci import commands as c
from linklayer.hci import le_commands as lc
from linklayer.hci import le_ext_commands as lx
from linklayer.hci.codec import HciCommand
from linklayer.hci.h4 import H4PacketType

from .world import ControllerDriver

ALL_EVENTS = 0x3FFF_FFFF_FFFF_FFFF  # every event, LE Meta (bit 61) included
ALL_LE_EVENTS = 0x0000_0000_000F_FFFF


def send(driver: ControllerDriver, cmd: HciCommand) -> None:
    driver.send_hci(int(H4PacketType.COMMAND), cmd.to_bytes())


def power_on(driver: ControllerDriver) -> None:
    """Reset and unmask every event, as a host's power-on does."""
    send(driver, c.HCI_Reset_Command())
    send(driver, c.HCI_Set_Event_Mask_Command(event_mask=ALL_EVENTS))
    send(driver, lc.HCI_LE_Set_Event_Mask_Command(le_event_mask=ALL_LE_EVENTS))


def advertise_legacy(
    driver: ControllerDriver,
    *,
    interval_slots: int = 160,
    advertising_type: int = 0,
    data: bytes = b"",
    scan_response: bytes = b"",
    own_address_type: int = 0,
    peer: tuple[int, bytes] = (0, bytes(6)),
    channel_map: int = 7,
    filter_policy: int = 0,
) -> None:
    """Legacy advertising (LE_Set_Advertising_Parameters/Data/Scan_Response_Data/Enable)."""
    send(driver, lc.HCI_LE_Set_Advertising_Parameters_Command(
        advertising_interval_min=interval_slots, advertising_interval_max=interval_slots,
        advertising_type=advertising_type, own_address_type=own_address_type,
        peer_address_type=peer[0], peer_address=peer[1], advertising_channel_map=channel_map,
        advertising_filter_policy=filter_policy,
    ))
    send(driver, lc.HCI_LE_Set_Advertising_Data_Command(advertising_data=data))
    send(driver, lc.HCI_LE_Set_Scan_Response_Data_Command(scan_response_data=scan_response))
    send(driver, lc.HCI_LE_Set_Advertising_Enable_Command(advertising_enable=1))


def scan_legacy(
    driver: ControllerDriver,
    *,
    active: bool = False,
    interval_slots: int = 16,
    window_slots: int = 16,
    filter_policy: int = 0,
    filter_duplicates: bool = False,
    own_address_type: int = 0,
) -> None:
    """Legacy scanning (LE_Set_Scan_Parameters/Enable)."""
    send(driver, lc.HCI_LE_Set_Scan_Parameters_Command(
        le_scan_type=int(active), le_scan_interval=interval_slots, le_scan_window=window_slots,
        own_address_type=own_address_type, scanning_filter_policy=filter_policy,
    ))
    send(driver, lc.HCI_LE_Set_Scan_Enable_Command(
        le_scan_enable=1, filter_duplicates=int(filter_duplicates)
    ))


def advertise_extended(
    driver: ControllerDriver,
    *,
    handle: int = 0,
    properties: int = 0x00,
    interval_slots: int = 160,
    data: bytes = b"",
    scan_response: bytes = b"",
    primary_phy: int = 1,
    secondary_phy: int = 1,
    sid: int = 0,
    own_address_type: int = 0,
    scan_request_notification: bool = False,
    duration_10ms: int = 0,
    max_events: int = 0,
    random_address: bytes | None = None,
) -> None:
    """Extended advertising: parameters, data in fragments of 251, scan response, enable."""
    send(driver, lx.HCI_LE_Set_Extended_Advertising_Parameters_Command(
        advertising_handle=handle, advertising_event_properties=properties,
        primary_advertising_interval_min=interval_slots, primary_advertising_interval_max=interval_slots,
        primary_advertising_channel_map=7, own_address_type=own_address_type, peer_address_type=0,
        peer_address=bytes(6), advertising_filter_policy=0, advertising_tx_power=127,
        primary_advertising_phy=primary_phy, secondary_advertising_max_skip=0,
        secondary_advertising_phy=secondary_phy, advertising_sid=sid,
        scan_request_notification_enable=int(scan_request_notification),
    ))
    if random_address is not None:
        send(driver, lx.HCI_LE_Set_Advertising_Set_Random_Address_Command(
            advertising_handle=handle, random_address=random_address))
    for cls, payload in ((lx.HCI_LE_Set_Extended_Advertising_Data_Command, data),
                         (lx.HCI_LE_Set_Extended_Scan_Response_Data_Command, scan_response)):
        if not payload:
            continue
        chunks = [payload[i:i + 251] for i in range(0, len(payload), 251)]
        for i, chunk in enumerate(chunks):
            op = 3 if len(chunks) == 1 else (1 if i == 0 else (2 if i == len(chunks) - 1 else 0))
            send(driver, cls(handle, op, 1, chunk))
    send(driver, lx.HCI_LE_Set_Extended_Advertising_Enable_Command(
        enable=1, sets=(lx.AdvertisingSetEnable(handle, duration_10ms, max_events),)
    ))


def scan_extended(
    driver: ControllerDriver,
    *,
    active: bool = False,
    interval_slots: int = 16,
    window_slots: int = 16,
    coded: bool = False,
    filter_duplicates: int = 0,
    duration_10ms: int = 0,
    period_1280ms: int = 0,
) -> None:
    """Extended scanning on LE 1M (and LE Coded)."""
    phys = [lx.ExtendedScanParameters(int(active), interval_slots, window_slots)]
    if coded:
        phys.append(lx.ExtendedScanParameters(int(active), interval_slots, window_slots))
    send(driver, lx.HCI_LE_Set_Extended_Scan_Parameters_Command(
        own_address_type=0, scanning_filter_policy=0, scanning_phys=0x05 if coded else 0x01,
        phys=tuple(phys),
    ))
    send(driver, lx.HCI_LE_Set_Extended_Scan_Enable_Command(
        enable=1, filter_duplicates=filter_duplicates, duration=duration_10ms, period=period_1280ms,
    ))


def connect_legacy(
    driver: ControllerDriver,
    peer: tuple[int, bytes],
    *,
    interval_1250us: int = 6,
    latency: int = 0,
    timeout_10ms: int = 100,
    scan_interval_slots: int = 16,
    scan_window_slots: int = 16,
) -> None:
    """LE_Create_Connection to ``peer`` (address type, address) with a fixed interval."""
    send(driver, lc.HCI_LE_Create_Connection_Command(
        le_scan_interval=scan_interval_slots, le_scan_window=scan_window_slots,
        initiator_filter_policy=0, peer_address_type=peer[0], peer_address=peer[1],
        own_address_type=0, connection_interval_min=interval_1250us,
        connection_interval_max=interval_1250us, max_latency=latency,
        supervision_timeout=timeout_10ms, min_ce_length=0, max_ce_length=0,
    ))


def set_data_length(driver: ControllerDriver, handle: int, octets: int = 251, time_us: int = 2120) -> None:
    send(driver, lc.HCI_LE_Set_Data_Length_Command(connection_handle=handle, tx_octets=octets, tx_time=time_us))


def set_phy(driver: ControllerDriver, handle: int, phys: int) -> None:
    """LE_Set_PHY with the same preference both ways (bit 0 1M, bit 1 2M, bit 2 Coded)."""
    send(driver, lx.HCI_LE_Set_PHY_Command(
        connection_handle=handle, all_phys=0, tx_phys=phys, rx_phys=phys, phy_options=0,
    ))


class AclFlooder:
    """A host that keeps a connection's controller buffers full of ACL data.

    It learns the buffer count from LE_Read_Buffer_Size and sends one packet per free
    buffer, refilling on Number_Of_Completed_Packets — the flow control a real host does.
    Install it as an HCI sink of the sending node; call :meth:`start` once connected.
    """

    def __init__(self, driver: ControllerDriver, handle: int, payload: bytes, buffers: int) -> None:
        self.driver = driver
        self.handle = handle
        self.payload = payload
        self.credits = buffers
        self.sent = 0
        self.running = False

    def start(self) -> None:
        self.running = True
        self._fill()

    def _fill(self) -> None:
        from linklayer.hci.acl import HciAclData

        packet = HciAclData(self.handle, 0b10, 0, self.payload).to_bytes()
        while self.running and self.credits > 0:
            self.credits -= 1
            self.sent += 1
            self.driver.send_hci(int(H4PacketType.ACL), packet)

    def __call__(self, t_ns: int, h4_type: int, packet: bytes) -> None:
        if h4_type == int(H4PacketType.EVENT) and packet[0] == 0x13:  # Number_Of_Completed_Packets
            count = packet[2]
            for i in range(count):
                handle = int.from_bytes(packet[3 + 4 * i: 5 + 4 * i], "little") & 0x0FFF
                done = int.from_bytes(packet[5 + 4 * i: 7 + 4 * i], "little")
                if handle == self.handle:
                    self.credits += done
            self._fill()
