"""Deferred read hooks inside multi-attribute reads (host.gatt_requests): Read By Type,
Read Multiple and Read Multiple Variable answer once the Deferreds they need complete,
in any order, with the spec's error rules (Vol 3 Part F 3.4.4.1, 3.4.4.7, 3.4.4.11).

Requests and responses are literal bytes written from the spec's PDU layouts; the
database is spelled out in ``build()``.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from host.att import AttBearer, AttError
from host.att_pdu import AttErrorCode
from host.gatt_db import (
    AttributeAccess,
    CharacteristicDef,
    CharacteristicProperties,
    Deferred,
    ServiceDef,
)
from host.gatt_server import GattServer
from host.uuid import UUID

P = CharacteristicProperties
E = AttErrorCode
T = UUID(0xAAAA)


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


class Rig:
    """A server whose characteristics of type 0xAAAA answer through hooks that defer
    (``deferred`` names the value handles whose hook returns a Deferred; ``failing``
    those whose hook denies the read, at once or through the Deferred).

    Handle map: 1 service 0x1234; then per characteristic i (0-based) a declaration at
    2+2i and its value at 3+2i (stored value ``stored[i]``); the last characteristic is
    write-only when ``unreadable_last``.
    """

    def __init__(
        self, stored: list[bytes], deferred: set[int], unreadable_last: bool = False,
        failing: frozenset[int] | set[int] = frozenset(),
    ) -> None:
        self.pending: dict[int, Deferred] = {}
        self.asked: list[int] = []

        def hook(access: AttributeAccess) -> bytes | None | Deferred:
            self.asked.append(access.handle)
            if access.handle in failing and access.handle not in deferred:
                raise AttError(0x80)
            if access.handle in deferred:
                d = Deferred()
                self.pending[access.handle] = d
                return d
            return None

        chars = []
        for i, value in enumerate(stored):
            props = P.WRITE if unreadable_last and i == len(stored) - 1 else P.READ
            chars.append(CharacteristicDef(T, props, value, read_hook=hook))
        self.server = GattServer()
        self.server.add_service(ServiceDef(UUID(0x1234), tuple(chars)))
        self.out: list[bytes] = []
        self.bearer = AttBearer(0x40, self.out.append, self.server)

    def ask(self, hexstr: str) -> bytes | None:
        self.out.clear()
        self.bearer.receive(h(hexstr), 0)
        assert len(self.out) <= 1
        return self.out.pop() if self.out else None


# -- Read By Type ---------------------------------------------------------------------------


@pytest.mark.parametrize("order", list(itertools.permutations([3, 5, 7])))
def test_read_by_type_waits_for_every_deferred_in_any_order(order: tuple[int, ...]) -> None:
    rig = Rig([b"aa", b"bb", b"cc"], {3, 5, 7})
    assert rig.ask("08 0100 ffff aaaa") is None
    assert sorted(rig.pending) == [3, 5, 7]  # all asked at once
    for i, handle in enumerate(order):
        assert rig.out == []  # nothing before the last one completes
        rig.pending[handle].complete(b"%02d" % handle)
    assert rig.out == [h("09 04 0300 3033 0500 3035 0700 3037")]


def test_read_by_type_mixes_immediate_and_deferred_values() -> None:
    rig = Rig([b"x1", b"x2", b"x3"], {5})
    assert rig.ask("08 0100 ffff aaaa") is None
    rig.pending[5].complete()  # None: the stored value
    assert rig.out == [h("09 04 0300") + b"x1" + h("0500") + b"x2" + h("0700") + b"x3"]


def test_read_by_type_deferred_of_another_length_ends_the_list() -> None:
    rig = Rig([b"ab", b"cd", b"ef"], {5})
    assert rig.ask("08 0100 ffff aaaa") is None
    rig.pending[5].complete(b"longer")
    assert rig.out == [h("09 04 0300") + b"ab"]


def test_read_by_type_error_of_the_first_deferred_is_the_answer() -> None:
    rig = Rig([b"ab", b"cd"], {3, 5})
    assert rig.ask("08 0100 ffff aaaa") is None
    rig.pending[5].complete(b"zz")
    assert rig.out == []
    rig.pending[3].fail(AttError(0x81))
    assert rig.out == [h("01 08 0300 81")]


def test_read_by_type_error_after_an_entry_ends_the_list_at_once() -> None:
    rig = Rig([b"ab", b"cd", b"ef"], {3, 5, 7})
    assert rig.ask("08 0100 ffff aaaa") is None
    rig.pending[5].fail(AttError(E.INSUFFICIENT_AUTHORIZATION))
    rig.pending[3].complete()
    # decided without the third value: the list stops before the failing attribute
    assert rig.out == [h("09 04 0300") + b"ab"]
    rig.pending[7].complete(b"late")  # a late completion sends nothing more
    assert rig.out == [h("09 04 0300") + b"ab"]


def test_read_by_type_unreadable_attribute_after_a_deferred() -> None:
    rig = Rig([b"ab", b"cd"], {3}, unreadable_last=True)
    assert rig.ask("08 0100 ffff aaaa") is None
    rig.pending[3].complete()
    assert rig.out == [h("09 04 0300") + b"ab"]
    rig2 = Rig([b"ab", b"cd"], {3}, unreadable_last=True)
    rig2.ask("08 0100 ffff aaaa")
    rig2.pending[3].fail(AttError(E.READ_NOT_PERMITTED))
    assert rig2.out == [h("01 08 0300 02")]


def test_read_by_type_stops_asking_once_the_list_is_full() -> None:
    # ATT_MTU 23: 2 + n * (2 + 4) <= 23 -> 3 entries of 4 octets; the fourth is never asked
    rig = Rig([b"abcd"] * 6, {3})
    assert rig.ask("08 0100 ffff aaaa") is None
    assert rig.asked == [3, 5, 7]
    rig.pending[3].complete(b"wxyz")
    assert rig.out == [h("09 06 0300") + b"wxyz" + h("0500") + b"abcd" + h("0700") + b"abcd"]


def test_read_by_type_completed_inside_the_hook_answers_at_once() -> None:
    def early(access: AttributeAccess) -> Deferred:
        d = Deferred()
        d.complete(b"now")
        return d

    s = GattServer()
    s.add_service(ServiceDef(UUID(0x1234), (CharacteristicDef(T, P.READ, read_hook=early),)))
    out: list[bytes] = []
    AttBearer(1, out.append, s).receive(h("08 0100 ffff aaaa"), 0)
    assert out == [h("09 05 0300") + b"now"]


def test_a_second_request_while_deferred_is_ignored() -> None:
    rig = Rig([b"ab", b"cd"], {3})
    assert rig.ask("08 0100 ffff aaaa") is None
    assert rig.bearer.server_response_pending
    assert rig.ask("0a 0500") is None  # the peer broke the sequential protocol: no answer
    rig.pending[3].complete()
    assert rig.out == [h("09 04 0300") + b"ab" + h("0500") + b"cd"]
    assert not rig.bearer.server_response_pending


# -- Read Multiple ------------------------------------------------------------------------


@pytest.mark.parametrize("order", list(itertools.permutations([3, 5, 7])))
def test_read_multiple_in_any_order(order: tuple[int, ...]) -> None:
    rig = Rig([b"a", b"b", b"c"], {3, 5, 7})
    assert rig.ask("0e 0700 0300 0500") is None
    for handle in order:
        assert rig.out == []
        rig.pending[handle].complete(bytes((0x30 + handle,)))
    assert rig.out == [h("0f 37 33 35")]  # request order, not completion order


def test_read_multiple_first_error_in_request_order_wins() -> None:
    rig = Rig([b"a", b"b", b"c"], {3, 5, 7})
    assert rig.ask("0e 0300 0500 0700") is None
    rig.pending[7].fail(AttError(0x83))
    rig.pending[5].fail(AttError(0x82))
    assert rig.out == []  # handle 3 could still fail first
    rig.pending[3].complete()
    assert rig.out == [h("01 0e 0500 82")]


def test_read_multiple_error_decided_before_later_values() -> None:
    rig = Rig([b"a", b"b", b"c"], {3, 5, 7})
    rig.ask("0e 0300 0500 0700")
    rig.pending[3].fail(AttError(E.INSUFFICIENT_AUTHORIZATION))
    assert rig.out == [h("01 0e 0300 08")]


def test_read_multiple_invalid_handle_after_a_deferred() -> None:
    rig = Rig([b"a", b"b"], {3})
    assert rig.ask("0e 0300 0900 0500") is None
    assert rig.asked == [3]  # nothing asked after the invalid handle
    rig.pending[3].complete()
    assert rig.out == [h("01 0e 0900 01")]
    rig2 = Rig([b"a", b"b"], {3})
    rig2.ask("0e 0300 0900 0500")
    rig2.pending[3].fail(AttError(0x90))
    assert rig2.out == [h("01 0e 0300 90")]


def test_read_multiple_with_immediate_values_stays_synchronous() -> None:
    rig = Rig([b"a", b"b"], set())
    assert rig.ask("0e 0500 0300") == h("0f 62 61")


# -- Read Multiple Variable ----------------------------------------------------------------


@pytest.mark.parametrize("order", list(itertools.permutations([3, 5])))
def test_read_multiple_variable_in_any_order(order: tuple[int, ...]) -> None:
    rig = Rig([b"", b""], {3, 5})
    assert rig.ask("20 0300 0500") is None
    values = {3: b"one", 5: b"three"}
    for handle in order:
        assert rig.out == []
        rig.pending[handle].complete(values[handle])
    assert rig.out == [h("21 0300") + b"one" + h("0500") + b"three"]


def test_read_multiple_variable_error_and_cut() -> None:
    rig = Rig([b"", b""], {3, 5})
    rig.ask("20 0300 0500")
    rig.pending[5].fail(AttError(E.INSUFFICIENT_ENCRYPTION))
    assert rig.out == []
    rig.pending[3].complete(b"ok")
    assert rig.out == [h("01 20 0500 0f")]
    rig2 = Rig([b"", b""], {5})
    rig2.ask("20 0300 0500")
    rig2.pending[5].complete(bytes(range(30)))  # cut at ATT_MTU-1, length field whole
    assert rig2.out == [h("21 0000 1e00") + bytes(range(18))]


# -- property: any completion order gives the answer of immediate values ------------------


@settings(max_examples=150, deadline=None)
@given(st.lists(st.binary(max_size=6), min_size=2, max_size=5), st.data())
def test_any_completion_order_equals_the_immediate_answer(values: list[bytes], data: st.DataObject) -> None:
    handles = [3 + 2 * i for i in range(len(values))]
    deferred = set(data.draw(st.lists(st.sampled_from(handles), unique=True)))
    failing = data.draw(st.sets(st.sampled_from(handles), max_size=2))
    listed = " ".join(x.to_bytes(2, "little").hex() for x in handles)
    for request in ("08 0100 ffff aaaa", "0e " + listed, "20 " + listed):
        expected = Rig(values, set(), failing=failing).ask(request)  # every hook answers at once
        rig = Rig(values, deferred, failing=failing)
        got = rig.ask(request)
        for handle in data.draw(st.permutations(sorted(rig.pending))):
            if handle in failing:
                rig.pending[handle].fail(AttError(0x80))
            else:
                rig.pending[handle].complete()
            if got is None and rig.out:
                got = rig.out[0]
        assert got == expected, request
