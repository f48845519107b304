"""Sample instances and hypothesis strategies for every registered HCI codec.

Flat classes (every field has a wire type) are generated from their field metadata;
classes holding arrays get their entries from the entry class named in the type hint.
The few cross-field constraints (a PHYs bit field selects the number of elements,
legacy advertising data is at most 31 octets, a packet carries at most 255 parameter
octets) are handled here, once.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from hypothesis import strategies as st

import linklayer.hci as hci
from linklayer.hci import codec

_INT_WIRES = {
    id(codec.U8): (1, False),
    id(codec.U16): (2, False),
    id(codec.U24): (3, False),
    id(codec.U32): (4, False),
    id(codec.U40): (5, False),
    id(codec.U64): (8, False),
    id(codec.I8): (1, True),
}

#: Array lengths selected by a PHYs bit field: (field name, bits that may be set).
_PHY_BITFIELD = {
    hci.HCI_LE_Set_Extended_Scan_Parameters_Command: ("scanning_phys", 0b101),
    hci.HCI_LE_Extended_Create_Connection_Command: ("initiating_phys", 0b111),
}
_LEGACY_DATA = {
    hci.HCI_LE_Set_Advertising_Data_Command: "advertising_data",
    hci.HCI_LE_Set_Scan_Response_Data_Command: "scan_response_data",
}


def _wire(f: dataclasses.Field[Any]) -> Any:
    return f.metadata.get("hci")


def _entry_class(cls: type, name: str) -> type[hci.Packed] | None:
    hint = typing.get_type_hints(cls)[name]
    if typing.get_origin(hint) is tuple:
        entry: type[hci.Packed] = typing.get_args(hint)[0]
        assert issubclass(entry, hci.Packed)
        return entry
    return None


# --- deterministic samples ------------------------------------------------------------


def _sample_value(wire: Any, i: int) -> Any:
    if id(wire) in _INT_WIRES:
        size, signed = _INT_WIRES[id(wire)]
        if signed:
            return -40 - i
        return int.from_bytes(bytes((0x5A + 0x1F * i + 0x11 * k) & 0xFF for k in range(size)), "little")
    if isinstance(wire, codec._Fixed):
        return bytes((0x30 + 7 * i + k) & 0xFF for k in range(wire.size or 0))
    if isinstance(wire, (codec._Rest, codec._LengthPrefixed)):
        return bytes([0x02, 0x01, 0x06, 0x40 + i])
    raise AssertionError(f"no sample for wire type {wire!r}")


def sample(cls: type[hci.Packed], salt: int = 0) -> Any:
    """A deterministic instance of ``cls`` with distinct, non-zero field values."""
    values: dict[str, Any] = {}
    for i, f in enumerate(dataclasses.fields(cls)):
        wire = _wire(f)
        if wire is not None:
            values[f.name] = _sample_value(wire, i + salt)
            continue
        entry = _entry_class(cls, f.name)
        if entry is not None:
            count = 2
            if cls in _PHY_BITFIELD:
                bits_name, bits = _PHY_BITFIELD[cls]
                values[bits_name] = bits
                count = bin(bits).count("1")
            values[f.name] = tuple(sample(entry, salt + 3 * k) for k in range(count))
        elif cls in _LEGACY_DATA:
            values[f.name] = bytes.fromhex("0201061109") + b"blesim"
        else:
            raise AssertionError(f"{cls.__name__}.{f.name}: no sample rule")
    return cls(**values)


# --- hypothesis strategies ------------------------------------------------------------


def _wire_strategy(wire: Any) -> st.SearchStrategy[Any]:
    if id(wire) in _INT_WIRES:
        size, signed = _INT_WIRES[id(wire)]
        if signed:
            return st.integers(-(2 ** (8 * size - 1)), 2 ** (8 * size - 1) - 1)
        return st.integers(0, 2 ** (8 * size) - 1)
    if isinstance(wire, codec._Fixed):
        return st.binary(min_size=wire.size or 0, max_size=wire.size or 0)
    if isinstance(wire, codec._LengthPrefixed):
        return st.binary(max_size=30)
    if isinstance(wire, codec._Rest):
        return st.binary(max_size=30)
    raise AssertionError(f"no strategy for wire type {wire!r}")


def strategy(cls: type[hci.Packed]) -> st.SearchStrategy[Any]:
    """Instances of ``cls`` that fit in one HCI packet."""
    if cls in _PHY_BITFIELD:
        bits_name, allowed = _PHY_BITFIELD[cls]

        def with_bits(bits: int) -> st.SearchStrategy[Any]:
            base = _fields_strategy(cls, {bits_name: st.just(bits)}, entries=bin(bits).count("1"))
            return base

        subsets = [b for b in range(8) if b & ~allowed == 0]
        return st.sampled_from(subsets).flatmap(with_bits)
    if cls in _LEGACY_DATA:
        return st.builds(cls, **{_LEGACY_DATA[cls]: st.binary(max_size=31)})
    return _fields_strategy(cls, {}, entries=None).filter(_fits)


def _fields_strategy(
    cls: type[hci.Packed], fixed: dict[str, st.SearchStrategy[Any]], entries: int | None
) -> st.SearchStrategy[Any]:
    kwargs: dict[str, st.SearchStrategy[Any]] = dict(fixed)
    for f in dataclasses.fields(cls):
        if f.name in kwargs:
            continue
        wire = _wire(f)
        if wire is not None:
            kwargs[f.name] = _wire_strategy(wire)
            continue
        entry = _entry_class(cls, f.name)
        assert entry is not None, f"{cls.__name__}.{f.name}: no strategy rule"
        if entries is None:
            kwargs[f.name] = st.lists(strategy(entry), max_size=4).map(tuple)
        else:
            kwargs[f.name] = st.lists(
                strategy(entry), min_size=entries, max_size=entries
            ).map(tuple)
    return st.builds(cls, **kwargs)


def _fits(obj: Any) -> bool:
    extra = 1 if isinstance(obj, hci.HciLeMetaEvent) else 0
    return len(obj.parameters()) + extra <= 255


def registered_classes() -> list[type[hci.Packed]]:
    """Every registered command and event class."""
    out: list[type[hci.Packed]] = []
    out += hci.COMMANDS.values()
    out += hci.EVENTS.values()
    out += hci.LE_SUBEVENTS.values()
    return out


def return_parameter_classes() -> list[type[hci.ReturnParameters]]:
    """The distinct RETURNS classes of the registered commands."""
    seen: dict[type[hci.ReturnParameters], None] = {}
    for cmd in hci.COMMANDS.values():
        if cmd.RETURNS is not None:
            seen[cmd.RETURNS] = None
    return list(seen)
