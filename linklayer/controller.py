"""The controller's front: HCI in, HCI out (Vol 4 Part E).

Theory of operation
-------------------
:class:`Controller` is the sans-IO state object a driver runs. Its inputs are HCI
packets from the host (:meth:`hci_from_host`), the radio (:meth:`radio_synced`,
:meth:`radio_received`) and its timer (:meth:`handle_timer`); its outputs are HCI packets
for the host (:meth:`take_hci`), radio operations (:meth:`take_radio`) and its next
deadline (:meth:`get_timer`).

Every command is decoded with :mod:`linklayer.hci`. A handler validates the parameters
and returns either return parameters (sent in Command_Complete) or, for commands the
specification answers with Command_Status, a status. A command that cannot be decoded
is answered with Invalid HCI Command Parameters (0x12); an unknown opcode with Unknown HCI
Command (0x01); a command not allowed in the current state with Command Disallowed
(0x0C). Nothing a host sends raises out of the controller.

The advertising and scanning command handlers live in :mod:`linklayer.ctrl_advertising`
and :mod:`linklayer.ctrl_scanning` (mixins over the shared state kept here), the
resolving list in :mod:`linklayer.ctrl_privacy`; the radio is shared through
:class:`linklayer.scheduler.Scheduler`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from phy.types import Rng

from .address import Address
from .crypto import aes128
from .hci import acl as _acl  # noqa: F401  (registers codecs)
from .hci import commands as c
from .hci import le_commands as lc
from .hci import le_ext_commands as lx
from .hci.codec import HciCommand, HciDecodeError, HciEvent, ReturnParameters
from .hci.errors import ErrorCode
from .hci.events import HCI_Hardware_Error_Event, command_complete, command_status
from .ctrl_base import (
    DEFAULT_EVENT_MASK,
    DEFAULT_LE_EVENT_MASK,
    H4_ACL,
    H4_COMMAND,
    H4_EVENT,
    ControllerConfig,
)
from .hci.registry import COMMANDS, UnknownCommand, parse_command
from .hci.supported import supported_commands_bitmap
from .radio import RadioOp, RadioPacket
from .scheduler import Scheduler
from .ctrl_advertising import AdvertisingCommands
from .ctrl_scanning import ScanningCommands
from .ctrl_connections import ConnectionCommands
from .ctrl_privacy import PrivacyCommands

Handler = Callable[[Any, int], "ReturnParameters | int | None"]

class Controller(PrivacyCommands, ConnectionCommands, AdvertisingCommands, ScanningCommands):
    """A BLE controller: see the module docstring."""

    def __init__(
        self, config: ControllerConfig, rng: Rng, streams: Callable[[str], Rng] | None = None
    ) -> None:
        """``rng`` is the controller's own stream; ``streams(name)`` gives each component
        (an advertising set, the scanner, ...) an independent named stream, so that one
        component's draws never shift another's."""
        self.config = config
        self.rng = rng
        self.streams: Callable[[str], Rng] = streams if streams is not None else (lambda _name: rng)
        self._hci_out: list[tuple[int, bytes]] = []
        self.malformed = 0
        self.handlers: dict[int, Handler] = {}
        self._register_handlers()
        self._reset_state(0)

    # -- inputs ------------------------------------------------------------------------
    def hci_from_host(self, h4_type: int, packet: bytes, now: int) -> None:
        """A packet from the host (without its H4 type octet)."""
        if h4_type == H4_COMMAND:
            self._command(bytes(packet), now)
        elif h4_type == H4_ACL:
            self._acl(bytes(packet), now)
        else:
            self.malformed += 1

    def radio_synced(self, now: int) -> None:
        # Locking onto a packet changes only the receiver's own deadline: nothing new is due.
        self.scheduler.on_synced(now)

    def radio_received(self, packet: RadioPacket, now: int) -> None:
        self.scheduler.on_packet(packet, now)
        self.scheduler.poll(now)

    def radio_lost(self, now: int) -> None:
        """The packet the radio locked onto ended undecodable (collision, CRC failure)."""
        self.scheduler.on_lost(now)
        self.scheduler.poll(now)

    def handle_timer(self, now: int) -> None:
        self.privacy_timer(now)
        self.scheduler.poll(now)

    # -- outputs -----------------------------------------------------------------------
    def get_timer(self) -> int | None:
        deadline, rpa = self.scheduler.deadline(), self._rpa_deadline  # = privacy_deadline()
        if rpa is None or (deadline is not None and deadline <= rpa):
            return deadline
        return rpa

    def has_output(self) -> bool:
        """Whether HCI packets or radio operations are waiting to be taken."""
        return bool(self._hci_out or self.scheduler.radio.ops)

    def take_hci(self) -> list[tuple[int, bytes]]:
        out, self._hci_out = self._hci_out, []
        return out

    def take_radio(self) -> list[RadioOp]:
        return self.scheduler.radio.take()

    # -- state -----------------------------------------------------------------------
    def _reset_state(self, now: int) -> None:
        old = getattr(self, "scheduler", None)
        if old is not None:
            old.radio.idle()
            pending = old.radio.take()
        else:
            pending = []
        self.scheduler = Scheduler()
        self.scheduler.radio.ops.extend(pending)
        self.event_mask = DEFAULT_EVENT_MASK
        self.event_mask_page_2 = 0
        self.le_event_mask = DEFAULT_LE_EVENT_MASK
        self.random_address: Address | None = None
        self.filter_accept_list: set[tuple[int, bytes]] = set()
        self.hci_mode: str | None = None  # "legacy" or "extended" advertising/scanning commands
        self.suggested_max_tx_octets = 27
        self.suggested_max_tx_time = 328
        self._init_advertising()
        self._init_scanning()
        self._init_connections()
        self._init_privacy(now)

    # -- commands ----------------------------------------------------------------------
    def _command(self, packet: bytes, now: int) -> None:
        if len(packet) < 2:
            self.malformed += 1
            return
        opcode = int.from_bytes(packet[:2], "little")
        cls = COMMANDS.get(opcode)
        handler = self.handlers.get(opcode)
        if handler is None:
            # Not implemented: Unknown HCI Command, whatever its parameters (Vol 4 Part E 4.5).
            self._hci_out.append(
                (H4_EVENT, command_status(opcode, int(ErrorCode.UNKNOWN_HCI_COMMAND)).to_bytes())
            )
            return
        try:
            cmd = parse_command(packet)
        except HciDecodeError:
            self.malformed += 1
            self._reply(opcode, cls, int(ErrorCode.INVALID_HCI_COMMAND_PARAMETERS))
            return
        if isinstance(cmd, UnknownCommand):
            self._hci_out.append(
                (H4_EVENT, command_status(opcode, int(ErrorCode.UNKNOWN_HCI_COMMAND)).to_bytes())
            )
            return
        try:
            result = handler(cmd, now)
        except (ValueError, OverflowError):
            result = int(ErrorCode.INVALID_HCI_COMMAND_PARAMETERS)
        self._reply(opcode, cls, result)
        self._after_command(now)

    def _after_command(self, now: int) -> None:
        self.scheduler.poll(now)

    def _reply(self, opcode: int, cls: type[HciCommand] | None, result: ReturnParameters | int | None) -> None:
        if result is None:
            return  # the handler queued its own reply
        if cls is not None and cls.RETURNS is None:
            status = result if isinstance(result, int) else 0
            ev: HciEvent = command_status(opcode, status)
        elif isinstance(result, int):
            ev = command_complete(opcode, _error_returns(cls, result))
        else:
            ev = command_complete(opcode, result)
        self._hci_out.append((H4_EVENT, ev.to_bytes()))

    def _acl(self, packet: bytes, now: int) -> None:
        self._connection_acl(packet, now)

    def supported_opcodes(self) -> list[int]:
        return sorted(self.handlers)

    def _register_handlers(self) -> None:
        h = self.handlers
        h[c.HCI_Reset_Command.OPCODE] = self._reset
        h[c.HCI_Set_Event_Mask_Command.OPCODE] = self._set_event_mask
        h[c.HCI_Set_Event_Mask_Page_2_Command.OPCODE] = self._set_event_mask_page_2
        h[c.HCI_Read_Local_Version_Information_Command.OPCODE] = self._read_local_version
        h[c.HCI_Read_Local_Supported_Commands_Command.OPCODE] = self._read_supported_commands
        h[c.HCI_Read_Local_Supported_Features_Command.OPCODE] = self._read_supported_features
        h[c.HCI_Read_Buffer_Size_Command.OPCODE] = self._read_buffer_size
        h[c.HCI_Read_BD_ADDR_Command.OPCODE] = self._read_bd_addr
        h[c.HCI_Read_LE_Host_Support_Command.OPCODE] = self._read_le_host_support
        h[c.HCI_Write_LE_Host_Support_Command.OPCODE] = self._ok
        h[c.HCI_Set_Controller_To_Host_Flow_Control_Command.OPCODE] = self._ok
        h[c.HCI_Host_Buffer_Size_Command.OPCODE] = self._ok
        h[lc.HCI_LE_Set_Event_Mask_Command.OPCODE] = self._le_set_event_mask
        h[lc.HCI_LE_Read_Buffer_Size_Command.OPCODE] = self._le_read_buffer_size
        h[lc.HCI_LE_Read_Buffer_Size_V2_Command.OPCODE] = self._le_read_buffer_size_v2
        h[lc.HCI_LE_Read_Local_Supported_Features_Command.OPCODE] = self._le_read_features
        h[lc.HCI_LE_Set_Random_Address_Command.OPCODE] = self._le_set_random_address
        h[lc.HCI_LE_Read_Filter_Accept_List_Size_Command.OPCODE] = self._fal_size
        h[lc.HCI_LE_Clear_Filter_Accept_List_Command.OPCODE] = self._fal_clear
        h[lc.HCI_LE_Add_Device_To_Filter_Accept_List_Command.OPCODE] = self._fal_add
        h[lc.HCI_LE_Remove_Device_From_Filter_Accept_List_Command.OPCODE] = self._fal_remove
        h[lc.HCI_LE_Encrypt_Command.OPCODE] = self._le_encrypt
        h[lc.HCI_LE_Rand_Command.OPCODE] = self._le_rand
        h[lc.HCI_LE_Read_Supported_States_Command.OPCODE] = self._le_read_supported_states
        h[lc.HCI_LE_Read_Suggested_Default_Data_Length_Command.OPCODE] = self._le_read_suggested_dl
        h[lc.HCI_LE_Write_Suggested_Default_Data_Length_Command.OPCODE] = self._le_write_suggested_dl
        h[lx.HCI_LE_Read_Maximum_Data_Length_Command.OPCODE] = self._le_read_max_dl
        h[lx.HCI_LE_Read_Transmit_Power_Command.OPCODE] = self._le_read_transmit_power
        self._register_advertising(h)
        self._register_scanning(h)
        self._register_connections(h)
        self._register_privacy(h)

    # -- generic handlers --------------------------------------------------------------
    def _ok(self, cmd: Any, now: int) -> int:
        return 0

    def _reset(self, cmd: c.HCI_Reset_Command, now: int) -> int:
        for adv in list(self.advertisers.values()):
            adv.stop()
        if self.scanner is not None:
            self.scanner.stop()
        self._connections_stopped(now)
        self._reset_state(now)
        return 0

    def _set_event_mask(self, cmd: c.HCI_Set_Event_Mask_Command, now: int) -> int:
        self.event_mask = cmd.event_mask
        return 0

    def _set_event_mask_page_2(self, cmd: c.HCI_Set_Event_Mask_Page_2_Command, now: int) -> int:
        self.event_mask_page_2 = cmd.event_mask_page_2
        return 0

    def _le_set_event_mask(self, cmd: lc.HCI_LE_Set_Event_Mask_Command, now: int) -> int:
        self.le_event_mask = cmd.le_event_mask
        return 0

    def _read_local_version(self, cmd: Any, now: int) -> ReturnParameters:
        cfg = self.config
        return c.HCI_Read_Local_Version_Information_ReturnParameters(
            status=0, hci_version=cfg.hci_version, hci_subversion=cfg.hci_subversion,
            lmp_version=cfg.hci_version, company_identifier=cfg.company_identifier,
            lmp_subversion=cfg.hci_subversion,
        )

    def _read_supported_commands(self, cmd: Any, now: int) -> ReturnParameters:
        return c.HCI_Read_Local_Supported_Commands_ReturnParameters(
            status=0, supported_commands=supported_commands_bitmap(self.supported_opcodes())
        )

    def _read_supported_features(self, cmd: Any, now: int) -> ReturnParameters:
        # LMP features page 0: bit 38 "LE Supported (Controller)", bit 37 "BR/EDR Not Supported".
        features = (1 << 38) | (1 << 37)
        return c.HCI_Read_Local_Supported_Features_ReturnParameters(
            status=0, lmp_features=features
        )

    def _read_buffer_size(self, cmd: Any, now: int) -> ReturnParameters:
        # An LE-only controller shares no BR/EDR buffers: the host uses LE_Read_Buffer_Size.
        return c.HCI_Read_Buffer_Size_ReturnParameters(
            status=0, acl_data_packet_length=0, synchronous_data_packet_length=0,
            total_num_acl_data_packets=0, total_num_synchronous_data_packets=0,
        )

    def _read_bd_addr(self, cmd: Any, now: int) -> ReturnParameters:
        return c.HCI_Read_BD_ADDR_ReturnParameters(status=0, bd_addr=self.config.public_address.value)

    def _read_le_host_support(self, cmd: Any, now: int) -> ReturnParameters:
        return c.HCI_Read_LE_Host_Support_ReturnParameters(status=0, le_supported_host=1, unused=0)

    def _le_read_buffer_size(self, cmd: Any, now: int) -> ReturnParameters:
        return lc.HCI_LE_Read_Buffer_Size_ReturnParameters(
            status=0, le_acl_data_packet_length=self.config.le_acl_data_packet_length,
            total_num_le_acl_data_packets=self.config.total_num_le_acl_data_packets,
        )

    def _le_read_buffer_size_v2(self, cmd: Any, now: int) -> ReturnParameters:
        return lc.HCI_LE_Read_Buffer_Size_V2_ReturnParameters(
            status=0, le_acl_data_packet_length=self.config.le_acl_data_packet_length,
            total_num_le_acl_data_packets=self.config.total_num_le_acl_data_packets,
            iso_data_packet_length=0, total_num_iso_data_packets=0,
        )

    def _le_read_features(self, cmd: Any, now: int) -> ReturnParameters:
        return lc.HCI_LE_Read_Local_Supported_Features_ReturnParameters(
            status=0, le_features=self.config.le_features
        )

    def _le_set_random_address(self, cmd: lc.HCI_LE_Set_Random_Address_Command, now: int) -> int:
        # Allowed while advertising/scanning in 5.x only for changes the host is allowed;
        # legacy advertising or scanning in progress makes it disallowed (7.8.4).
        busy = self._legacy_adv_enabled() or self.scanner is not None or self.initiator is not None
        if self.hci_mode == "legacy" and busy:
            return int(ErrorCode.COMMAND_DISALLOWED)
        self.random_address = Address(cmd.random_address, True)
        return 0

    def _fal_in_use(self) -> bool:
        if any(a.set.filter_policy for a in self.advertisers.values()):
            return True
        if self.initiator is not None and self.initiator.config.filter_policy == 1:
            return True  # initiating from the filter accept list (Vol 4 Part E 7.8.15)
        return self.scanner is not None and self.scanner.config.filter_policy in (1, 3)

    def _fal_size(self, cmd: Any, now: int) -> ReturnParameters:
        return lc.HCI_LE_Read_Filter_Accept_List_Size_ReturnParameters(
            status=0, filter_accept_list_size=self.config.filter_accept_list_size
        )

    def _fal_clear(self, cmd: Any, now: int) -> int:
        if self._fal_in_use():
            return int(ErrorCode.COMMAND_DISALLOWED)
        self.filter_accept_list.clear()
        return 0

    def _fal_add(self, cmd: lc.HCI_LE_Add_Device_To_Filter_Accept_List_Command, now: int) -> int:
        if cmd.address_type not in (0, 1, 0xFF):
            return int(ErrorCode.INVALID_HCI_COMMAND_PARAMETERS)
        if self._fal_in_use():
            return int(ErrorCode.COMMAND_DISALLOWED)
        entry = (cmd.address_type, bytes(cmd.address))
        if entry not in self.filter_accept_list and len(self.filter_accept_list) >= self.config.filter_accept_list_size:
            return int(ErrorCode.MEMORY_CAPACITY_EXCEEDED)
        self.filter_accept_list.add(entry)
        return 0

    def _fal_remove(self, cmd: lc.HCI_LE_Remove_Device_From_Filter_Accept_List_Command, now: int) -> int:
        if cmd.address_type not in (0, 1, 0xFF):
            return int(ErrorCode.INVALID_HCI_COMMAND_PARAMETERS)
        if self._fal_in_use():
            return int(ErrorCode.COMMAND_DISALLOWED)
        self.filter_accept_list.discard((cmd.address_type, bytes(cmd.address)))
        return 0

    def _le_encrypt(self, cmd: lc.HCI_LE_Encrypt_Command, now: int) -> ReturnParameters:
        # HCI carries Key and Plaintext least significant octet first; e() is MSB first.
        enc = aes128(bytes(cmd.key)[::-1], bytes(cmd.plaintext_data)[::-1])[::-1]
        return lc.HCI_LE_Encrypt_ReturnParameters(status=0, encrypted_data=enc)

    def _le_rand(self, cmd: Any, now: int) -> ReturnParameters:
        return lc.HCI_LE_Rand_ReturnParameters(status=0, random_number=self.rng.getrandbits(64).to_bytes(8, "little"))

    def _le_read_supported_states(self, cmd: Any, now: int) -> ReturnParameters:
        return lc.HCI_LE_Read_Supported_States_ReturnParameters(status=0, le_states=(1 << 42) - 1)

    def _le_read_suggested_dl(self, cmd: Any, now: int) -> ReturnParameters:
        return lc.HCI_LE_Read_Suggested_Default_Data_Length_ReturnParameters(
            status=0, suggested_max_tx_octets=self.suggested_max_tx_octets,
            suggested_max_tx_time=self.suggested_max_tx_time,
        )

    def _le_write_suggested_dl(self, cmd: lc.HCI_LE_Write_Suggested_Default_Data_Length_Command, now: int) -> int:
        if not (27 <= cmd.suggested_max_tx_octets <= 251 and 328 <= cmd.suggested_max_tx_time <= 17040):
            return int(ErrorCode.INVALID_HCI_COMMAND_PARAMETERS)
        self.suggested_max_tx_octets = cmd.suggested_max_tx_octets
        self.suggested_max_tx_time = cmd.suggested_max_tx_time
        return 0

    def _le_read_max_dl(self, cmd: Any, now: int) -> ReturnParameters:
        return lx.HCI_LE_Read_Maximum_Data_Length_ReturnParameters(
            status=0, supported_max_tx_octets=251, supported_max_tx_time=17040,
            supported_max_rx_octets=251, supported_max_rx_time=17040,
        )

    def _le_read_transmit_power(self, cmd: Any, now: int) -> ReturnParameters:
        return lx.HCI_LE_Read_Transmit_Power_ReturnParameters(
            status=0, min_tx_power=self.config.min_tx_power_dbm, max_tx_power=self.config.max_tx_power_dbm
        )

    def hardware_error(self, code: int) -> None:
        self.emit(HCI_Hardware_Error_Event(hardware_code=code))


def _error_returns(cls: type[HciCommand] | None, status: int) -> ReturnParameters | bytes:
    """Return parameters carrying an error status, other fields zero (Vol 4 Part E 4.5)."""
    if cls is None or cls.RETURNS is None:
        return bytes([status])
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls.RETURNS):
        if f.name == "status":
            values[f.name] = status
            continue
        wire = f.metadata.get("hci")
        size = getattr(wire, "size", None)
        if f.type in ("bytes", bytes):
            values[f.name] = bytes(size or 0)
        else:
            values[f.name] = 0
    try:
        return cls.RETURNS(**values)
    except (TypeError, ValueError):
        return bytes([status])


__all__ = ["Controller", "ControllerConfig"]
