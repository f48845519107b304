"""One registry from opcode / event code / LE subevent code to codec class.

Codec modules register their classes with the decorators here; the parsers turn packet
bytes into instances, raising :class:`HciDecodeError` for malformed packets and
returning :class:`UnknownCommand` / :class:`UnknownEvent` for codes nobody registered.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar, TypeVar

from .codec import (
    HCI_LE_META_EVENT,
    HciCommand,
    HciDecodeError,
    HciEvent,
    HciLeMetaEvent,
    rest,
    u8,
    u16,
)

COMMANDS: dict[int, type[HciCommand]] = {}
EVENTS: dict[int, type[HciEvent]] = {}
LE_SUBEVENTS: dict[int, type[HciLeMetaEvent]] = {}

C = TypeVar("C", bound=type[HciCommand])
E = TypeVar("E", bound=type[HciEvent])


def command(cls: C) -> C:
    """Class decorator: register an HCI command class by its OPCODE."""
    if cls.OPCODE in COMMANDS:
        raise ValueError(f"opcode 0x{cls.OPCODE:04x} registered twice")
    COMMANDS[cls.OPCODE] = cls
    return cls


def event(cls: E) -> E:
    """Class decorator: register an event class by code (LE Meta: by subevent code)."""
    if issubclass(cls, HciLeMetaEvent):
        if cls.SUBEVENT_CODE in LE_SUBEVENTS:
            raise ValueError(f"LE subevent 0x{cls.SUBEVENT_CODE:02x} registered twice")
        LE_SUBEVENTS[cls.SUBEVENT_CODE] = cls
    else:
        if cls.EVENT_CODE in EVENTS:
            raise ValueError(f"event 0x{cls.EVENT_CODE:02x} registered twice")
        EVENTS[cls.EVENT_CODE] = cls
    return cls


@dataclasses.dataclass(frozen=True)
class UnknownCommand(HciCommand):
    """A well-framed command whose opcode blesim does not implement."""

    opcode: int = 0
    payload: bytes = b""

    def to_bytes(self) -> bytes:
        return self.opcode.to_bytes(2, "little") + bytes([len(self.payload)]) + self.payload


@dataclasses.dataclass(frozen=True)
class UnknownEvent(HciEvent):
    """A well-framed event whose code (or LE subevent code) is not registered."""

    code: int = 0
    payload: bytes = b""

    def to_bytes(self) -> bytes:
        return bytes([self.code, len(self.payload)]) + self.payload


def parse_command(packet: bytes) -> HciCommand:
    """Decode an HCI command packet (no H4 type octet)."""
    if len(packet) < 3:
        raise HciDecodeError("command packet shorter than its 3-octet header")
    op = int.from_bytes(packet[0:2], "little")
    length = packet[2]
    if len(packet) != 3 + length:
        raise HciDecodeError(
            f"command 0x{op:04x}: length field says {length}, packet has {len(packet) - 3}"
        )
    cls = COMMANDS.get(op)
    if cls is None:
        return UnknownCommand(opcode=op, payload=bytes(packet[3:]))
    return cls.from_parameters(bytes(packet[3:]))


def parse_event(packet: bytes) -> HciEvent:
    """Decode an HCI event packet (no H4 type octet)."""
    if len(packet) < 2:
        raise HciDecodeError("event packet shorter than its 2-octet header")
    code, length = packet[0], packet[1]
    if len(packet) != 2 + length:
        raise HciDecodeError(
            f"event 0x{code:02x}: length field says {length}, packet has {len(packet) - 2}"
        )
    params = bytes(packet[2:])
    if code == HCI_LE_META_EVENT:
        if not params:
            raise HciDecodeError("LE Meta event without a subevent code")
        sub = LE_SUBEVENTS.get(params[0])
        if sub is None:
            return UnknownEvent(code=code, payload=params)
        return sub.from_parameters(params[1:])
    cls = EVENTS.get(code)
    if cls is None:
        return UnknownEvent(code=code, payload=params)
    return cls.from_parameters(params)


@event
@dataclasses.dataclass(frozen=True)
class HCI_Command_Complete_Event(HciEvent):
    """Vol 4 Part E 7.7.14."""

    EVENT_CODE: ClassVar[int] = 0x0E
    num_hci_command_packets: int = u8()
    command_opcode: int = u16()
    return_parameters: bytes = rest()

    def decode_returns(self) -> object:
        """The return parameters decoded with the command's RETURNS class, if known."""
        cls = COMMANDS.get(self.command_opcode)
        if cls is None or cls.RETURNS is None:
            return self.return_parameters
        return cls.RETURNS.from_parameters(self.return_parameters)


@event
@dataclasses.dataclass(frozen=True)
class HCI_Command_Status_Event(HciEvent):
    """Vol 4 Part E 7.7.15."""

    EVENT_CODE: ClassVar[int] = 0x0F
    status: int = u8()
    num_hci_command_packets: int = u8()
    command_opcode: int = u16()


