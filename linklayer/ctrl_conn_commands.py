"""HCI commands on an existing connection (Vol 4 Part E 7.1.6, 7.3, 7.5, 7.8).

Theory of operation
-------------------
A mixin of the controller (see :mod:`linklayer.ctrl_connections`, which owns the
connections). Each handler checks the Connection_Handle (Unknown Connection Identifier,
0x02) and its parameters (0x12), then hands the request to the connection's
:class:`linklayer.control.ControlProcedures`; the outcome reaches the host later as an
event (Disconnection_Complete, LE Connection Update Complete, Encryption Change...).
Commands answered by Command_Complete carry the handle back even on error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from phy.types import Phy
from phy.units import UNIT_10MS, UNIT_1250US

from .channels import ALL_DATA_CHANNELS, ChannelMap
from .connection import Connection
from .control import Proc, conn_params_valid, hci_phy
from .control_pdu import LLFeature
from .ctrl_base import H4_EVENT, ControllerBase
from .hci import commands as c
from .hci import le_commands as lc
from .hci import le_ext_commands as lx
from .hci.codec import ReturnParameters
from .hci.errors import ErrorCode
from .hci.events import command_status

INVALID = int(ErrorCode.INVALID_HCI_COMMAND_PARAMETERS)
DISALLOWED = int(ErrorCode.COMMAND_DISALLOWED)
UNKNOWN_CONNECTION = int(ErrorCode.UNKNOWN_CONNECTION_IDENTIFIER)
UNSUPPORTED = int(ErrorCode.UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE)
#: Reasons HCI_Disconnect accepts (Vol 4 Part E 7.1.6).
DISCONNECT_REASONS = frozenset({0x05, 0x13, 0x14, 0x15, 0x1A, 0x29, 0x3B})


class LinkCommands(ControllerBase):
    """Mixin: the HCI commands that act on one connection."""

    connections: dict[int, Connection]
    default_tx_phys: int
    default_rx_phys: int
    host_channel_map: ChannelMap

    def _register_link_commands(self, h: dict[int, Callable[[Any, int], Any]]) -> None:
        h[c.HCI_Disconnect_Command.OPCODE] = self._disconnect
        h[c.HCI_Read_Remote_Version_Information_Command.OPCODE] = self._read_remote_version
        h[c.HCI_Read_RSSI_Command.OPCODE] = self._read_rssi
        h[c.HCI_Read_Transmit_Power_Level_Command.OPCODE] = self._read_tx_power_level
        h[c.HCI_Read_Authenticated_Payload_Timeout_Command.OPCODE] = self._read_apto
        h[c.HCI_Write_Authenticated_Payload_Timeout_Command.OPCODE] = self._write_apto
        h[lc.HCI_LE_Connection_Update_Command.OPCODE] = self._connection_update
        h[lc.HCI_LE_Remote_Connection_Parameter_Request_Reply_Command.OPCODE] = self._cpr_reply
        h[lc.HCI_LE_Remote_Connection_Parameter_Request_Negative_Reply_Command.OPCODE] = self._cpr_negative
        h[lc.HCI_LE_Set_Host_Channel_Classification_Command.OPCODE] = self._set_host_channel_classification
        h[lc.HCI_LE_Read_Channel_Map_Command.OPCODE] = self._read_channel_map
        h[lc.HCI_LE_Read_Remote_Features_Command.OPCODE] = self._read_remote_features
        h[lc.HCI_LE_Set_Data_Length_Command.OPCODE] = self._set_data_length
        h[lc.HCI_LE_Enable_Encryption_Command.OPCODE] = self._enable_encryption
        h[lc.HCI_LE_Long_Term_Key_Request_Reply_Command.OPCODE] = self._ltk_reply
        h[lc.HCI_LE_Long_Term_Key_Request_Negative_Reply_Command.OPCODE] = self._ltk_negative
        h[lx.HCI_LE_Read_PHY_Command.OPCODE] = self._read_phy
        h[lx.HCI_LE_Set_Default_PHY_Command.OPCODE] = self._set_default_phy
        h[lx.HCI_LE_Set_PHY_Command.OPCODE] = self._set_phy

    def _supported_phys(self) -> int:
        from .hci.supported import LeFeature

        mask = 0x01
        if self.config.le_features & LeFeature.LE_2M_PHY:
            mask |= 0x02
        if self.config.le_features & LeFeature.LE_CODED_PHY:
            mask |= 0x04
        return mask

    def _phy_prefs(self, all_phys: int, tx_phys: int, rx_phys: int) -> tuple[int, int] | int:
        """(tx, rx) preference masks from the HCI fields, or an error status."""
        supported = self._supported_phys()
        if all_phys & ~0x03 or tx_phys & ~0x07 or rx_phys & ~0x07:
            return INVALID
        tx = supported if all_phys & 0x01 else tx_phys
        rx = supported if all_phys & 0x02 else rx_phys
        if not tx or not rx:
            return INVALID
        if tx & ~supported or rx & ~supported:
            return UNSUPPORTED
        return tx, rx

    # -- termination and parameters ----------------------------------------------------
    def _disconnect(self, cmd: c.HCI_Disconnect_Command, now: int) -> int:
        conn = self.connections.get(cmd.connection_handle)
        if conn is None:
            return UNKNOWN_CONNECTION
        if cmd.reason not in DISCONNECT_REASONS:
            return INVALID
        if conn.control.terminating:
            return DISALLOWED
        conn.control.request_terminate(cmd.reason, now)
        conn.wake(now)
        return 0

    def _connection_update(self, cmd: lc.HCI_LE_Connection_Update_Command, now: int) -> int:
        conn = self.connections.get(cmd.connection_handle)
        if conn is None:
            return UNKNOWN_CONNECTION
        if not conn_params_valid(cmd.connection_interval_min, cmd.connection_interval_max,
                                 cmd.max_latency, cmd.supervision_timeout) or cmd.min_ce_length > cmd.max_ce_length:
            return INVALID
        ctl = conn.control
        if ctl.busy_with(Proc.CONN_PARAM) or ctl.busy_with(Proc.CONN_UPDATE) or ctl.terminating:
            return DISALLOWED
        if not conn.is_central and not ctl.info.features & LLFeature.CONNECTION_PARAMETERS_REQUEST_PROCEDURE:
            return int(ErrorCode.UNSUPPORTED_REMOTE_FEATURE)
        ctl.request(Proc.CONN_PARAM, now, interval_min=cmd.connection_interval_min,
                    interval_max=cmd.connection_interval_max, latency=cmd.max_latency,
                    timeout=cmd.supervision_timeout)
        conn.wake(now)
        return 0

    def _cpr_reply(self, cmd: lc.HCI_LE_Remote_Connection_Parameter_Request_Reply_Command,
                   now: int) -> ReturnParameters:
        handle = cmd.connection_handle
        ret = lc.HCI_LE_Remote_Connection_Parameter_Request_Reply_ReturnParameters
        conn = self.connections.get(handle)
        if conn is None:
            return ret(status=UNKNOWN_CONNECTION, connection_handle=handle)
        if not conn_params_valid(cmd.interval_min, cmd.interval_max, cmd.max_latency, cmd.timeout):
            return ret(status=INVALID, connection_handle=handle)
        if not conn.control.cpr_reply(cmd.interval_min, cmd.interval_max, cmd.max_latency, cmd.timeout, now):
            return ret(status=DISALLOWED, connection_handle=handle)
        conn.wake(now)
        return ret(status=0, connection_handle=handle)

    def _cpr_negative(self, cmd: lc.HCI_LE_Remote_Connection_Parameter_Request_Negative_Reply_Command,
                      now: int) -> ReturnParameters:
        handle = cmd.connection_handle
        ret = lc.HCI_LE_Remote_Connection_Parameter_Request_Negative_Reply_ReturnParameters
        conn = self.connections.get(handle)
        if conn is None:
            return ret(status=UNKNOWN_CONNECTION, connection_handle=handle)
        if not conn.control.cpr_negative_reply(cmd.reason, now):
            return ret(status=DISALLOWED, connection_handle=handle)
        conn.wake(now)
        return ret(status=0, connection_handle=handle)

    def _set_host_channel_classification(
        self, cmd: lc.HCI_LE_Set_Host_Channel_Classification_Command, now: int
    ) -> int:
        mask = int.from_bytes(cmd.channel_map, "little")
        if mask & ~ALL_DATA_CHANNELS:
            return INVALID
        cmap = ChannelMap(mask)
        if cmap.count < 2:
            return INVALID
        self.host_channel_map = cmap
        for conn in self.connections.values():
            if conn.is_central and not conn.control.terminating and conn.channel_map != cmap:
                conn.control.request(Proc.CHANNEL_MAP, now, channel_map=cmap)
                conn.wake(now)
        return 0

    def _read_channel_map(self, cmd: lc.HCI_LE_Read_Channel_Map_Command, now: int) -> ReturnParameters:
        conn = self.connections.get(cmd.connection_handle)
        if conn is None:
            return lc.HCI_LE_Read_Channel_Map_ReturnParameters(
                status=UNKNOWN_CONNECTION, connection_handle=cmd.connection_handle, channel_map=bytes(5))
        return lc.HCI_LE_Read_Channel_Map_ReturnParameters(
            status=0, connection_handle=cmd.connection_handle, channel_map=conn.channel_map.to_bytes())

    # -- information -------------------------------------------------------------------------
    def _read_remote_features(self, cmd: lc.HCI_LE_Read_Remote_Features_Command, now: int) -> int:
        conn = self.connections.get(cmd.connection_handle)
        if conn is None:
            return UNKNOWN_CONNECTION
        ctl = conn.control
        if ctl.busy_with(Proc.FEATURES) or ctl.terminating:
            return DISALLOWED
        if not conn.is_central and not ctl.info.features & LLFeature.PERIPHERAL_INITIATED_FEATURES_EXCHANGE:
            return int(ErrorCode.UNSUPPORTED_REMOTE_FEATURE)
        ctl.request(Proc.FEATURES, now)
        conn.wake(now)
        return 0

    def _read_remote_version(self, cmd: c.HCI_Read_Remote_Version_Information_Command,
                             now: int) -> int | None:
        conn = self.connections.get(cmd.connection_handle)
        if conn is None:
            return UNKNOWN_CONNECTION
        ctl = conn.control
        if ctl.busy_with(Proc.VERSION) or ctl.terminating:
            return DISALLOWED
        if ctl.peer_version is not None:
            # Known already (one LL_VERSION_IND per connection): answer at once.
            self._hci_out.append((H4_EVENT, command_status(cmd.OPCODE, 0).to_bytes()))
            ctl.request(Proc.VERSION, now)
            return None
        ctl.request(Proc.VERSION, now)
        conn.wake(now)
        return 0

    def _read_rssi(self, cmd: c.HCI_Read_RSSI_Command, now: int) -> ReturnParameters:
        conn = self.connections.get(cmd.handle)
        if conn is None:
            return c.HCI_Read_RSSI_ReturnParameters(status=UNKNOWN_CONNECTION, handle=cmd.handle, rssi=127)
        return c.HCI_Read_RSSI_ReturnParameters(status=0, handle=cmd.handle, rssi=conn.rssi)

    def _read_tx_power_level(self, cmd: c.HCI_Read_Transmit_Power_Level_Command, now: int) -> ReturnParameters:
        ret = c.HCI_Read_Transmit_Power_Level_ReturnParameters
        conn = self.connections.get(cmd.connection_handle)
        if conn is None:
            return ret(status=UNKNOWN_CONNECTION, connection_handle=cmd.connection_handle, tx_power_level=0)
        if cmd.type > 1:
            return ret(status=INVALID, connection_handle=cmd.connection_handle, tx_power_level=0)
        level = self.config.tx_power_dbm if cmd.type == 0 else self.config.max_tx_power_dbm
        return ret(status=0, connection_handle=cmd.connection_handle, tx_power_level=max(-128, min(127, level)))

    def _read_apto(self, cmd: c.HCI_Read_Authenticated_Payload_Timeout_Command, now: int) -> ReturnParameters:
        ret = c.HCI_Read_Authenticated_Payload_Timeout_ReturnParameters
        conn = self.connections.get(cmd.connection_handle)
        if conn is None:
            return ret(status=UNKNOWN_CONNECTION, connection_handle=cmd.connection_handle,
                       authenticated_payload_timeout=0)
        return ret(status=0, connection_handle=cmd.connection_handle,
                   authenticated_payload_timeout=conn.control.apto_ns // UNIT_10MS)

    def _write_apto(self, cmd: c.HCI_Write_Authenticated_Payload_Timeout_Command, now: int) -> ReturnParameters:
        ret = c.HCI_Write_Authenticated_Payload_Timeout_ReturnParameters
        handle = cmd.connection_handle
        conn = self.connections.get(handle)
        if conn is None:
            return ret(status=UNKNOWN_CONNECTION, connection_handle=handle)
        value = cmd.authenticated_payload_timeout
        if value == 0 or value * UNIT_10MS < conn.interval * UNIT_1250US * (1 + conn.latency):
            return ret(status=INVALID, connection_handle=handle)
        conn.control.apto_ns = value * UNIT_10MS
        conn.control.last_authenticated = now
        return ret(status=0, connection_handle=handle)

    # -- data length and PHY --------------------------------------------------------------
    def _set_data_length(self, cmd: lc.HCI_LE_Set_Data_Length_Command, now: int) -> ReturnParameters:
        ret = lc.HCI_LE_Set_Data_Length_ReturnParameters
        handle = cmd.connection_handle
        conn = self.connections.get(handle)
        if conn is None:
            return ret(status=UNKNOWN_CONNECTION, connection_handle=handle)
        if not (27 <= cmd.tx_octets <= 251 and 328 <= cmd.tx_time <= 17040):
            return ret(status=INVALID, connection_handle=handle)
        conn.control.set_max_tx(cmd.tx_octets, cmd.tx_time, now)
        conn.wake(now)
        return ret(status=0, connection_handle=handle)

    def _read_phy(self, cmd: lx.HCI_LE_Read_PHY_Command, now: int) -> ReturnParameters:
        conn = self.connections.get(cmd.connection_handle)
        if conn is None:
            return lx.HCI_LE_Read_PHY_ReturnParameters(
                status=UNKNOWN_CONNECTION, connection_handle=cmd.connection_handle, tx_phy=0, rx_phy=0)
        return lx.HCI_LE_Read_PHY_ReturnParameters(
            status=0, connection_handle=cmd.connection_handle, tx_phy=hci_phy(conn.tx_phy),
            rx_phy=hci_phy(conn.rx_phy))

    def _set_default_phy(self, cmd: lx.HCI_LE_Set_Default_PHY_Command, now: int) -> int:
        prefs = self._phy_prefs(cmd.all_phys, cmd.tx_phys, cmd.rx_phys)
        if isinstance(prefs, int):
            return prefs
        self.default_tx_phys, self.default_rx_phys = prefs
        return 0

    def _set_phy(self, cmd: lx.HCI_LE_Set_PHY_Command, now: int) -> int:
        conn = self.connections.get(cmd.connection_handle)
        if conn is None:
            return UNKNOWN_CONNECTION
        prefs = self._phy_prefs(cmd.all_phys, cmd.tx_phys, cmd.rx_phys)
        if isinstance(prefs, int):
            return prefs
        if cmd.phy_options > 2:
            return INVALID
        ctl = conn.control
        if ctl.busy_with(Proc.PHY) or ctl.terminating:
            return DISALLOWED
        coded = Phy.LE_CODED_S2 if cmd.phy_options == 1 else Phy.LE_CODED_S8
        ctl.request(Proc.PHY, now, tx_phys=prefs[0], rx_phys=prefs[1], coded=coded)
        conn.wake(now)
        return 0

    # -- encryption ----------------------------------------------------------------------
    def _enable_encryption(self, cmd: lc.HCI_LE_Enable_Encryption_Command, now: int) -> int:
        conn = self.connections.get(cmd.connection_handle)
        if conn is None:
            return UNKNOWN_CONNECTION
        if not conn.is_central:
            return DISALLOWED
        ctl = conn.control
        if not ctl.info.features & LLFeature.LE_ENCRYPTION:
            return int(ErrorCode.UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE)
        if ctl.busy_with(Proc.ENCRYPTION) or ctl.enc is not None or ctl.terminating:
            return DISALLOWED
        ctl.request(Proc.ENCRYPTION, now, rand=bytes(cmd.random_number), ediv=cmd.encrypted_diversifier,
                    ltk=bytes(cmd.long_term_key))
        conn.wake(now)
        return 0

    def _ltk_reply(self, cmd: lc.HCI_LE_Long_Term_Key_Request_Reply_Command, now: int) -> ReturnParameters:
        ret = lc.HCI_LE_Long_Term_Key_Request_Reply_ReturnParameters
        handle = cmd.connection_handle
        conn = self.connections.get(handle)
        if conn is None:
            return ret(status=UNKNOWN_CONNECTION, connection_handle=handle)
        if conn.is_central or not conn.control.ltk_reply(bytes(cmd.long_term_key), now):
            return ret(status=DISALLOWED, connection_handle=handle)
        conn.wake(now)
        return ret(status=0, connection_handle=handle)

    def _ltk_negative(self, cmd: lc.HCI_LE_Long_Term_Key_Request_Negative_Reply_Command,
                      now: int) -> ReturnParameters:
        ret = lc.HCI_LE_Long_Term_Key_Request_Negative_Reply_ReturnParameters
        handle = cmd.connection_handle
        conn = self.connections.get(handle)
        if conn is None:
            return ret(status=UNKNOWN_CONNECTION, connection_handle=handle)
        if conn.is_central or not conn.control.ltk_negative_reply(now):
            return ret(status=DISALLOWED, connection_handle=handle)
        conn.wake(now)
        return ret(status=0, connection_handle=handle)
