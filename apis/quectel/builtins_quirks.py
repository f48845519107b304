"""Builtins that behave as on QuecPython (MicroPython) inside Quectel nodes only.

Theory of operation
-------------------
Real QuecPython firmware relies on a few MicroPython builtins that CPython does not
accept. They are given to Quectel nodes only, through the node's own builtins (the
firmware runtime executes firmware with a per-node ``__builtins__``), so other nodes and
blesim itself keep CPython's:

* ``bytearray(str)`` without an encoding: MicroPython encodes the text as UTF-8
  (CPython raises ``TypeError``). Firmware sends ``bytearray("Hello, Client!")`` this way.

The replacement is a subclass of ``bytearray`` named ``bytearray``: its instances *are*
bytearrays, ``repr`` is unchanged, and ``isinstance(x, bytearray)`` stays true for every
bytearray (a metaclass keeps the check on the real type).
"""

from __future__ import annotations

import builtins
from typing import Any

__all__ = ["QUECTEL_BUILTINS", "QuecBytearray"]

_BYTEARRAY = builtins.bytearray


class _BytearrayMeta(type):
    def __instancecheck__(cls, obj: object) -> bool:
        return isinstance(obj, _BYTEARRAY)

    def __subclasscheck__(cls, sub: type) -> bool:
        return issubclass(sub, _BYTEARRAY)


class QuecBytearray(_BYTEARRAY, metaclass=_BytearrayMeta):
    """``bytearray`` with MicroPython's ``bytearray(str)`` (UTF-8 when no encoding)."""

    def __init__(self, source: Any = b"", encoding: str | None = None, errors: str | None = None) -> None:
        if isinstance(source, str) and encoding is None:
            super().__init__(source, "utf-8")
        elif encoding is None:
            super().__init__(source)
        elif errors is None:
            super().__init__(source, encoding)
        else:
            super().__init__(source, encoding, errors)


QuecBytearray.__name__ = "bytearray"
QuecBytearray.__qualname__ = "bytearray"

#: The builtins a Quectel node's firmware sees instead of CPython's.
QUECTEL_BUILTINS: dict[str, object] = {"bytearray": QuecBytearray}
