"""HCI ACL data packets (Vol 4 Part E 5.4.2)."""

from __future__ import annotations

import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linklayer.hci import HciDecodeError
from linklayer.hci.acl import (
    PB_CONTINUING_FRAGMENT,
    PB_FIRST_FLUSHABLE,
    PB_FIRST_NON_FLUSHABLE,
    HciAclData,
    HciAclDecodeError,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from scapy.layers.bluetooth import HCI_ACL_Hdr
    from scapy.packet import Raw


def test_pb_flag_values() -> None:
    assert (PB_FIRST_NON_FLUSHABLE, PB_CONTINUING_FRAGMENT, PB_FIRST_FLUSHABLE) == (0, 1, 2)


@pytest.mark.parametrize(
    "handle,pb,bc,data",
    [(0x0123, 2, 1, b"abc"), (0x0FFF, 3, 3, b""), (0x0040, 0, 0, bytes(range(200)))],
)
def test_matches_scapy(handle: int, pb: int, bc: int, data: bytes) -> None:
    expected = bytes(HCI_ACL_Hdr(connection_handle=handle, PB=pb, BC=bc) / Raw(data))
    ours = HciAclData(handle=handle, pb_flag=pb, bc_flag=bc, data=data)
    assert ours.to_bytes() == expected
    assert HciAclData.from_bytes(expected) == ours


def test_spec_literal() -> None:
    # Handle 0x040, PB 0b10, BC 0b00, 5 octets: header word 0x2040, length 0x0005.
    raw = bytes.fromhex("4020" "0500") + b"hello"
    assert HciAclData.from_bytes(raw) == HciAclData(0x040, PB_FIRST_FLUSHABLE, 0, b"hello")
    assert HciAclData(0x040, PB_FIRST_FLUSHABLE, 0, b"hello").to_bytes() == raw


@given(
    st.integers(0, 0x0FFF),
    st.integers(0, 3),
    st.integers(0, 3),
    st.binary(max_size=300),
)
def test_round_trip(handle: int, pb: int, bc: int, data: bytes) -> None:
    packet = HciAclData(handle, pb, bc, data)
    raw = packet.to_bytes()
    assert len(raw) == 4 + len(data)
    assert HciAclData.from_bytes(raw) == packet


@pytest.mark.parametrize(
    "raw",
    [b"", b"\x40", b"\x40\x20\x05", b"\x40\x20\x05\x00hell", b"\x40\x20\x05\x00hello!"],
    ids=["empty", "1 octet", "3 octets", "truncated data", "trailing octet"],
)
def test_malformed(raw: bytes) -> None:
    with pytest.raises(HciAclDecodeError):
        HciAclData.from_bytes(raw)
    assert issubclass(HciAclDecodeError, HciDecodeError)
    assert issubclass(HciAclDecodeError, ValueError)


def test_invalid_fields_refused() -> None:
    with pytest.raises(ValueError):
        HciAclData(0x1000, 0, 0, b"")
    with pytest.raises(ValueError):
        HciAclData(1, 4, 0, b"")
    with pytest.raises(ValueError):
        HciAclData(1, 0, -1, b"")
    with pytest.raises(ValueError):
        HciAclData(1, 0, 0, bytes(0x10000))


@given(st.binary(max_size=64))
def test_random_bytes_never_leak_other_exceptions(raw: bytes) -> None:
    try:
        packet = HciAclData.from_bytes(raw)
    except HciAclDecodeError:
        return
    assert packet.to_bytes() == raw
