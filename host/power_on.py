"""The host's power-on sequence as a list of HCI command steps (Vol 4 Part E 7.3, 7.4, 7.8).

Theory of operation
-------------------
:func:`power_on_steps` returns the :class:`~host.hci.Step` list that
:class:`~host.gap.Gap` runs as one :class:`~host.hci.CommandChain`. Each step builds its
command when its turn comes, so later steps adapt to what earlier ones returned, which
they record in a :class:`~host.gap_params.ControllerInfo`:

1. HCI_Reset; Read_Local_Version_Information; Read_Local_Supported_Commands (the
   bitmap decides every optional step below);
2. Read_Local_Supported_Features and Read_BD_ADDR when listed;
   LE_Read_Local_Supported_Features, which decides between the legacy and the
   extended advertising/scanning/connecting commands (LE Extended Advertising feature
   and the commands listed, unless configured otherwise);
3. LE_Read_Buffer_Size (version 2 when listed); when it reports no LE buffers, the LE
   traffic shares the ACL buffers of Read_Buffer_Size (7.8.2);
4. Set_Event_Mask (with the LE Meta bit 61), Set_Event_Mask_Page_2 when listed,
   LE_Set_Event_Mask (always with LE Data Length Change and LE PHY Update Complete),
   Write_LE_Host_Support when listed;
5. with extended commands: LE_Read_Maximum_Advertising_Data_Length and
   LE_Read_Number_of_Supported_Advertising_Sets;
6. LE_Write_Suggested_Default_Data_Length when configured; LE_Set_Random_Address
   when the host uses its random static address.

Steps marked optional may fail without stopping the sequence.
"""

from __future__ import annotations

from typing import Callable, TypeVar

from host.gap_params import ControllerInfo, event_masks
from host.hci import Step
from linklayer.hci.address import Address
from linklayer.hci import commands as hc
from linklayer.hci import le_commands as lc
from linklayer.hci import le_ext_commands as lx
from linklayer.hci.codec import HciCommand, HciDecodeError, HciEvent, ReturnParameters
from linklayer.hci.registry import HCI_Command_Complete_Event
from linklayer.hci.supported import LeFeature

Build = Callable[[], HciCommand | None]

#: LE_Set_Event_Mask bits (subevent code - 1, 7.8.1) of LE Data Length Change (0x07,
#: 7.7.65.7) and LE PHY Update Complete (0x0C, 7.7.65.12), always enabled.
PHY_AND_DATA_LENGTH_LE_EVENTS = (1 << (0x07 - 1)) | (1 << (0x0C - 1))
R = TypeVar("R", bound=ReturnParameters)


def _returns(event: HciEvent, cls: type[R]) -> R:
    """The decoded return parameters, or :class:`~linklayer.hci.codec.HciDecodeError`."""
    if isinstance(event, HCI_Command_Complete_Event):
        returns = event.decode_returns()
        if isinstance(returns, cls):
            return returns
    raise HciDecodeError(f"{type(event).__name__} does not carry {cls.__name__}")


def power_on_steps(
    info: ControllerInfo,
    *,
    hci_commands: str,
    suggested_data_length: tuple[int, int] | None,
    random_address: Callable[[], Address | None],
) -> list[Step]:
    """The power-on steps; results are written into ``info``."""
    has = info.supports

    def only(cls: type[HciCommand], make: Callable[[], HciCommand]) -> Build:
        return lambda: make() if has(cls) else None

    def when(condition: Callable[[], bool], make: Callable[[], HciCommand]) -> Build:
        return lambda: make() if condition() else None

    def fixed(cmd: HciCommand) -> Build:
        return lambda: cmd

    def on_version(e: HciEvent) -> None:
        r = _returns(e, hc.HCI_Read_Local_Version_Information_ReturnParameters)
        info.hci_version, info.hci_subversion = r.hci_version, r.hci_subversion
        info.company_identifier = r.company_identifier

    def on_commands(e: HciEvent) -> None:
        r = _returns(e, hc.HCI_Read_Local_Supported_Commands_ReturnParameters)
        info.supported_commands = r.supported_commands

    def on_features(e: HciEvent) -> None:
        r = _returns(e, hc.HCI_Read_Local_Supported_Features_ReturnParameters)
        info.lmp_features = r.lmp_features

    def on_bd_addr(e: HciEvent) -> None:
        r = _returns(e, hc.HCI_Read_BD_ADDR_ReturnParameters)
        info.public_address = Address(bytes(r.bd_addr), False)

    def on_le_features(e: HciEvent) -> None:
        r = _returns(e, lc.HCI_LE_Read_Local_Supported_Features_ReturnParameters)
        info.le_features = r.le_features
        capable = bool(r.le_features & LeFeature.LE_EXTENDED_ADVERTISING) and has(
            lx.HCI_LE_Set_Extended_Advertising_Parameters_Command
        )
        info.extended = hci_commands == "extended" or (hci_commands == "auto" and capable)

    def on_le_buffers(e: HciEvent) -> None:
        if has(lc.HCI_LE_Read_Buffer_Size_V2_Command):
            v2 = _returns(e, lc.HCI_LE_Read_Buffer_Size_V2_ReturnParameters)
            length, total = v2.le_acl_data_packet_length, v2.total_num_le_acl_data_packets
        else:
            v1 = _returns(e, lc.HCI_LE_Read_Buffer_Size_ReturnParameters)
            length, total = v1.le_acl_data_packet_length, v1.total_num_le_acl_data_packets
        info.le_acl_data_packet_length, info.total_num_le_acl_data_packets = length, total

    def on_buffers(e: HciEvent) -> None:
        r = _returns(e, hc.HCI_Read_Buffer_Size_ReturnParameters)
        info.le_acl_data_packet_length = r.acl_data_packet_length
        info.total_num_le_acl_data_packets = r.total_num_acl_data_packets

    def on_max_adv(e: HciEvent) -> None:
        r = _returns(e, lx.HCI_LE_Read_Maximum_Advertising_Data_Length_ReturnParameters)
        info.max_advertising_data_length = r.max_advertising_data_length

    def on_sets(e: HciEvent) -> None:
        r = _returns(e, lx.HCI_LE_Read_Number_of_Supported_Advertising_Sets_ReturnParameters)
        info.num_advertising_sets = r.num_supported_advertising_sets

    def buffer_size() -> HciCommand:
        if has(lc.HCI_LE_Read_Buffer_Size_V2_Command):
            return lc.HCI_LE_Read_Buffer_Size_V2_Command()
        return lc.HCI_LE_Read_Buffer_Size_Command()

    def set_random() -> HciCommand | None:
        address = random_address()
        return None if address is None else lc.HCI_LE_Set_Random_Address_Command(random_address=address.value)

    def extended_read(cls: type[HciCommand]) -> Build:
        return when(lambda: info.extended and has(cls), cls)

    page1, page2, le_mask = event_masks()
    le_mask |= PHY_AND_DATA_LENGTH_LE_EVENTS  # host.gap_phy needs them, whatever the defaults
    dl = suggested_data_length
    return [
        Step(fixed(hc.HCI_Reset_Command())),
        Step(fixed(hc.HCI_Read_Local_Version_Information_Command()), on_version, required=False),
        Step(fixed(hc.HCI_Read_Local_Supported_Commands_Command()), on_commands, required=False),
        Step(only(hc.HCI_Read_Local_Supported_Features_Command, hc.HCI_Read_Local_Supported_Features_Command),
             on_features, required=False),
        Step(only(hc.HCI_Read_BD_ADDR_Command, hc.HCI_Read_BD_ADDR_Command), on_bd_addr, required=False),
        Step(fixed(lc.HCI_LE_Read_Local_Supported_Features_Command()), on_le_features),
        Step(buffer_size, on_le_buffers),
        Step(when(lambda: not (info.le_acl_data_packet_length and info.total_num_le_acl_data_packets),
                  hc.HCI_Read_Buffer_Size_Command), on_buffers),
        Step(fixed(hc.HCI_Set_Event_Mask_Command(event_mask=page1))),
        Step(only(hc.HCI_Set_Event_Mask_Page_2_Command,
                  lambda: hc.HCI_Set_Event_Mask_Page_2_Command(event_mask_page_2=page2)), required=False),
        Step(only(lc.HCI_LE_Set_Event_Mask_Command, lambda: lc.HCI_LE_Set_Event_Mask_Command(le_event_mask=le_mask))),
        Step(only(hc.HCI_Write_LE_Host_Support_Command,
                  lambda: hc.HCI_Write_LE_Host_Support_Command(le_supported_host=1)), required=False),
        Step(extended_read(lx.HCI_LE_Read_Maximum_Advertising_Data_Length_Command), on_max_adv, required=False),
        Step(extended_read(lx.HCI_LE_Read_Number_of_Supported_Advertising_Sets_Command), on_sets, required=False),
        Step(when(lambda: dl is not None and has(lc.HCI_LE_Write_Suggested_Default_Data_Length_Command),
                  lambda: lc.HCI_LE_Write_Suggested_Default_Data_Length_Command(
                      suggested_max_tx_octets=dl[0] if dl else 27, suggested_max_tx_time=dl[1] if dl else 328)),
             required=False),
        Step(set_random),
    ]


__all__ = ["PHY_AND_DATA_LENGTH_LE_EVENTS", "power_on_steps"]
