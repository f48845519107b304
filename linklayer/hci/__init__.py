"""The Host Controller Interface: blesim's controller speaks it, its host drives it.

Theory of operation
-------------------
Host and controller exchange HCI packets as bytes (Vol 4 Part E 5.4): commands, events
and ACL data, framed on a transport by an H4 type octet. This package turns those bytes
into frozen dataclasses and back, and nothing else: it keeps no state and makes no
decisions, so the same codecs serve the simulated controller, the host over a real
dongle, and the capture writers.

* :mod:`.codec` — the declarative framework: a class lists its parameters in spec
  order with their wire types; :class:`Packed` encodes and decodes them.
* :mod:`.registry` — opcode / event code / LE subevent code → class;
  :func:`parse_command` and :func:`parse_event` decode packets, returning
  :class:`UnknownCommand` / :class:`UnknownEvent` for codes nobody registered and
  raising :class:`HciDecodeError` (a ``ValueError``) for malformed ones.
* :mod:`.commands`, :mod:`.le_commands`, :mod:`.le_ext_commands` — the commands, each
  with ``OPCODE`` and ``RETURNS`` (its Command_Complete return parameters, or ``None``
  when it is answered by Command_Status).
* :mod:`.events`, :mod:`.le_events` — the events and LE Meta subevents, and the
  :func:`command_complete` / :func:`command_status` reply helpers.
* :mod:`.acl` — :class:`HciAclData`; :mod:`.h4` — H4 framing and the sans-IO
  :class:`H4Parser`; :mod:`.errors` — :class:`ErrorCode`; :mod:`.supported` — the
  Supported_Commands bitmap and :class:`LeFeature` bits.

Class and field names are the specification's (``HCI_LE_Set_Scan_Parameters_Command``,
``le_scan_interval``). Importing this package registers every codec.
"""

from __future__ import annotations

from . import (
    acl,
    commands,
    errors,
    events,
    h4,
    le_commands,
    le_events,
    le_ext_commands,
    supported,
)
from .acl import *  # noqa: F403
from .codec import (
    HciCommand,
    HciDecodeError,
    HciEvent,
    HciLeMetaEvent,
    Packed,
    ReturnParameters,
    StatusReturn,
    opcode,
)
from .commands import *  # noqa: F403
from .errors import *  # noqa: F403
from .events import *  # noqa: F403
from .h4 import *  # noqa: F403
from .le_commands import *  # noqa: F403
from .le_events import *  # noqa: F403
from .le_ext_commands import *  # noqa: F403
from .registry import (
    COMMANDS,
    EVENTS,
    LE_SUBEVENTS,
    HCI_Command_Complete_Event,
    HCI_Command_Status_Event,
    UnknownCommand,
    UnknownEvent,
    parse_command,
    parse_event,
)
from .supported import *  # noqa: F403

__all__ = [
    "HciCommand",
    "HciDecodeError",
    "HciEvent",
    "HciLeMetaEvent",
    "Packed",
    "ReturnParameters",
    "StatusReturn",
    "opcode",
    "COMMANDS",
    "EVENTS",
    "LE_SUBEVENTS",
    "HCI_Command_Complete_Event",
    "HCI_Command_Status_Event",
    "UnknownCommand",
    "UnknownEvent",
    "parse_command",
    "parse_event",
]
__all__ += acl.__all__
__all__ += commands.__all__
__all__ += errors.__all__
__all__ += events.__all__
__all__ += h4.__all__
__all__ += le_commands.__all__
__all__ += le_events.__all__
__all__ += le_ext_commands.__all__
__all__ += supported.__all__
