"""Helpers for HCI parameters that are arrays of entries.

Several commands and events carry a count followed by that many entries (Vol 4 Part E
5.2: the parameters of one array element follow each other, element after element).
Each entry is a small :class:`~linklayer.hci.codec.Packed` dataclass whose fields carry
their wire types; these helpers encode a sequence of entries and decode ``count`` of
them from an offset, raising :class:`~linklayer.hci.codec.HciDecodeError` (never
``IndexError``) when the octets run out.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterable, TypeVar

from .codec import HciDecodeError, Packed, _wire_fields

P = TypeVar("P", bound=Packed)


def decode_entry(cls: type[P], data: bytes, offset: int) -> tuple[P, int]:
    """Decode one ``cls`` entry starting at ``offset``; return it and the next offset."""
    values: dict[str, Any] = {}
    for name, wire in _wire_fields(cls):
        values[name], offset = wire.decode(data, offset)
    return cls(**values), offset


def decode_entries(
    cls: type[P], data: bytes, offset: int, count: int
) -> tuple[tuple[P, ...], int]:
    """Decode ``count`` consecutive ``cls`` entries starting at ``offset``."""
    out: list[P] = []
    for _ in range(count):
        entry, offset = decode_entry(cls, data, offset)
        out.append(entry)
    return tuple(out), offset


def encode_entries(entries: Iterable[Packed]) -> bytes:
    """The octets of the entries, one after the other."""
    return b"".join(e.parameters() for e in entries)


def count_octet(entries: tuple[Packed, ...], what: str) -> bytes:
    """The one-octet count of an array, refusing arrays longer than 255 entries."""
    if len(entries) > 255:
        raise ValueError(f"{what}: {len(entries)} entries do not fit in a count octet")
    return bytes([len(entries)])


def read_u8(data: bytes, offset: int, what: str) -> tuple[int, int]:
    """One octet at ``offset`` (and the next offset), or :class:`HciDecodeError`."""
    if offset >= len(data):
        raise HciDecodeError(f"{what}: packet ends before this parameter")
    return data[offset], offset + 1


def expect_end(owner: type, data: bytes, offset: int) -> None:
    """Raise :class:`HciDecodeError` if octets remain after the last parameter."""
    if offset != len(data):
        raise HciDecodeError(
            f"{owner.__name__}: {len(data) - offset} unexpected trailing octet(s)"
        )


def bit_count(value: int) -> int:
    """Number of bits set (the array length selected by a PHYs bit field)."""
    return bin(value).count("1")
