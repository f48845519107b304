"""``_bleio`` value classes: ``UUID``, ``Address``, ``Attribute``, and argument checks.

Theory of operation
-------------------
These classes hold values only; none of them talks to the host.

* :class:`UUID` keeps what a CircuitPython board keeps: the 16-bit value and, for a
  128-bit UUID, its *base* (the 16 octets, little-endian, with octets 12-13 zeroed, as the
  SoftDevice registers vendor bases). Equality needs both UUIDs of the same size; the hash
  is the 16-bit value, or the sum of the eight little-endian 16-bit words of a 128-bit
  UUID; ``repr``/``str`` print ``UUID(0x180f)`` and ``UUID('6e400001-...')``. A 128-bit
  UUID created on a node registers its base with that node (:attr:`UUID._registry`, set
  on the node's subclass): discovery reports a 128-bit UUID whose base was never
  registered as ``None``, as Nordic boards do.
* :class:`Address` is six octets little-endian plus a type (``PUBLIC`` 0,
  ``RANDOM_STATIC`` 1, ``RANDOM_PRIVATE_RESOLVABLE`` 2, ``RANDOM_PRIVATE_NON_RESOLVABLE``
  3), printed ``<Address c8:1d:f5:ed:a8:35>``.
* :class:`Attribute` holds the security modes with their values in
  ``shared-module/_bleio/Attribute.h`` (``OPEN`` is 0x11, not an Enum member).

Argument errors use the messages of the cores' ``mp_arg_validate_*`` helpers.
"""

from __future__ import annotations

from typing import Any, ClassVar

from host.uuid import UUID as HostUUID
from linklayer.address import Address as LinkAddress

__all__ = [
    "SECURITY_MODES",
    "UUID",
    "Address",
    "Attribute",
    "buffer_bytes",
    "check_security_mode",
    "check_type",
    "int_min",
]


def buffer_bytes(value: object) -> bytes:
    """The bytes of any object with the buffer protocol (``mp_get_buffer_raise``)."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    try:
        return memoryview(value).tobytes()  # type: ignore[arg-type]
    except TypeError:
        raise TypeError("object with buffer protocol required") from None


def writable_buffer(value: object) -> memoryview:
    """A writable byte view of ``value`` (``mp_get_buffer_raise(..., MP_BUFFER_WRITE)``)."""
    try:
        view = memoryview(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError("object with buffer protocol required") from None
    if view.readonly:
        raise TypeError("object with buffer protocol required")
    return view.cast("B") if view.format != "B" or view.ndim != 1 else view


def check_type(value: object, cls: type, name: str) -> None:
    """``mp_arg_validate_type``."""
    if not isinstance(value, cls):
        raise TypeError(f"{name} must be of type {cls.__name__}, not {type(value).__name__}")


def int_min(value: int, minimum: int, name: str) -> int:
    """``mp_arg_validate_int_min``."""
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}")
    return value


class UUID:
    """A 16-bit or 128-bit UUID, as ``_bleio.UUID`` (see the module docstring)."""

    #: Registered 128-bit bases of the node (the node's subclass sets a set; None: none kept).
    _registry: ClassVar[set[bytes] | None] = None

    __slots__ = ("_base", "_uuid16")

    _uuid16: int
    _base: bytes | None

    def __init__(self, value: Any) -> None:
        if isinstance(value, int):
            if not 0 <= value <= 0xFFFF:
                raise ValueError("UUID integer value must be 0-0xffff")
            self._uuid16 = int(value)
            self._base = None
            return
        if isinstance(value, str):
            raw = _parse_uuid_string(value)
        else:
            try:
                raw = buffer_bytes(value)
            except TypeError:
                raise ValueError("UUID value is not str, int or byte buffer") from None
            if len(raw) != 16:
                raise ValueError("Byte buffer must be 16 bytes.")
        self._uuid16 = raw[12] | (raw[13] << 8)
        self._base = raw[:12] + b"\x00\x00" + raw[14:]
        registry = type(self)._registry
        if registry is not None:
            registry.add(self._base)

    # -- properties ----------------------------------------------------------------------

    @property
    def uuid16(self) -> int:
        """The 16-bit part of the UUID (octets 12-13 of a 128-bit UUID)."""
        return self._uuid16

    @property
    def uuid128(self) -> bytes:
        """The 128-bit value, little-endian; ``AttributeError`` for a 16-bit UUID."""
        if self._base is None:
            raise AttributeError("not a 128-bit UUID")
        return self._full()

    @property
    def size(self) -> int:
        """128 for a vendor 128-bit UUID, 16 for a Bluetooth SIG 16-bit UUID."""
        return 16 if self._base is None else 128

    def _full(self) -> bytes:
        assert self._base is not None
        return self._base[:12] + self._uuid16.to_bytes(2, "little") + self._base[14:]

    def pack_into(self, buffer: Any, *, offset: int = 0) -> None:
        """Pack the UUID (little-endian) into ``buffer`` at ``offset`` (keyword-only, as
        the board's ``MP_ARG_KW_ONLY``)."""
        view = writable_buffer(buffer)
        data = self._uuid16.to_bytes(2, "little") if self._base is None else self._full()
        if offset < 0 or offset + len(data) > len(view):
            raise ValueError("Buffer + offset too small")
        view[offset : offset + len(data)] = data

    # -- value semantics ------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, UUID):
            return False
        if self._base is None and other._base is None:
            return self._uuid16 == other._uuid16
        if self._base is None or other._base is None:
            return False
        return self._full() == other._full()

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        if self._base is None:
            return self._uuid16
        full = self._full()
        return sum(int.from_bytes(full[i : i + 2], "little") for i in range(0, 16, 2))

    def __repr__(self) -> str:
        if self._base is None:
            return f"UUID(0x{self._uuid16:04x})"
        h = self._full()[::-1].hex()
        return f"UUID('{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}')"

    __str__ = __repr__

    # -- host conversions (not part of the board API) -----------------------------------------

    def _to_host(self) -> HostUUID:
        if self._base is None:
            return HostUUID(self._uuid16)
        return HostUUID.from_128(int.from_bytes(self._full(), "little"))

    @classmethod
    def _from_host(cls, uuid: HostUUID) -> UUID | None:
        """The UUID as the node sees it in discovery: ``None`` for an unregistered 128-bit one."""
        if uuid.bits == 16:
            return cls(int(uuid))
        full = uuid.value.to_bytes(16, "little")
        base = full[:12] + b"\x00\x00" + full[14:]
        registry = cls._registry
        if registry is not None and base not in registry:
            return None
        out = cls.__new__(cls)
        out._uuid16 = full[12] | (full[13] << 8)
        out._base = base
        return out


def _parse_uuid_string(text: str) -> bytes:
    bad = ValueError("UUID string not 'xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx'")
    if len(text) != 36 or any(text[i] != "-" for i in (8, 13, 18, 23)):
        raise bad
    digits = "".join(c for c in text if c in "0123456789abcdefABCDEF")
    if len(digits) != 32:
        raise bad
    return bytes.fromhex(digits)[::-1]


class Address:
    """The address of a BLE device: six octets (least significant first) and a type."""

    PUBLIC = 0
    RANDOM_STATIC = 1
    RANDOM_PRIVATE_RESOLVABLE = 2
    RANDOM_PRIVATE_NON_RESOLVABLE = 3

    __slots__ = ("_bytes", "_type")

    def __init__(self, address: Any, address_type: int = PUBLIC) -> None:
        raw = buffer_bytes(address)
        if len(raw) != 6:
            raise ValueError("address must be 6 bytes long")
        if not isinstance(address_type, int) or not 0 <= address_type <= 3:
            raise ValueError("Invalid address_type")
        self._bytes = raw
        self._type = int(address_type)

    @property
    def address_bytes(self) -> bytes:
        """The six octets, least significant first (so they print reversed)."""
        return self._bytes

    @property
    def type(self) -> int:
        """``PUBLIC``, ``RANDOM_STATIC``, ``RANDOM_PRIVATE_RESOLVABLE`` or
        ``RANDOM_PRIVATE_NON_RESOLVABLE``."""
        return self._type

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Address):
            return False
        return self._bytes == other._bytes and self._type == other._type

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash(self._bytes) ^ self._type

    def __repr__(self) -> str:
        return "<Address " + ":".join(f"{b:02x}" for b in self._bytes[::-1]) + ">"

    __str__ = __repr__

    # -- host conversions ---------------------------------------------------------------------

    def _to_link(self) -> LinkAddress:
        return LinkAddress(self._bytes, self._type != Address.PUBLIC)

    @classmethod
    def _from_link(cls, address: LinkAddress) -> Address:
        if not address.random:
            kind = cls.PUBLIC
        else:
            top = address.value[5] >> 6
            kind = {0b11: cls.RANDOM_STATIC, 0b01: cls.RANDOM_PRIVATE_RESOLVABLE}.get(
                top, cls.RANDOM_PRIVATE_NON_RESOLVABLE
            )
        return cls(address.value, kind)


class Attribute:
    """Security modes of characteristics and descriptors (``shared-module/_bleio/Attribute.h``)."""

    NO_ACCESS = 0x00
    OPEN = 0x11
    ENCRYPT_NO_MITM = 0x21
    ENCRYPT_WITH_MITM = 0x31
    LESC_ENCRYPT_WITH_MITM = 0x41
    SIGNED_NO_MITM = 0x12
    SIGNED_WITH_MITM = 0x22

    def __init__(self) -> None:
        raise TypeError("cannot create 'Attribute' instances")


SECURITY_MODES = frozenset({
    Attribute.NO_ACCESS, Attribute.OPEN, Attribute.ENCRYPT_NO_MITM, Attribute.ENCRYPT_WITH_MITM,
    Attribute.LESC_ENCRYPT_WITH_MITM, Attribute.SIGNED_NO_MITM, Attribute.SIGNED_WITH_MITM,
})


def check_security_mode(mode: int) -> int:
    """``common_hal_bleio_attribute_security_mode_check_valid``."""
    if mode not in SECURITY_MODES:
        raise ValueError("Invalid security_mode")
    return mode
