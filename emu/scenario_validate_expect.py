"""Scenario checks of what happens over time: the ``expect`` and ``timeline`` sections.

Theory of operation
-------------------
An ``expect[]`` item or ``timeline[]`` event is a mapping with exactly one kind key
(``output``, ``no_errors``, ``connected``, ``air``; ``move``, ``link_loss``,
``interferer``, ``power``, ``reboot``, ``inject``). :func:`check_expectation` and
:func:`check_event` find that kind, check its keys and values (regular expressions,
time windows, PDU names, hex bytes, access addresses, references to nodes and
interferers already collected by the checker) recording every problem, and return the
dataclass of :mod:`emu.scenario_events` or None. :mod:`emu.scenario` calls them for
each item in file order.
"""

from __future__ import annotations

import re

from emu import scenario_schema as S
from emu.scenario_checker import Checker, Invalid, Src, describe, suggest

__all__ = ["check_expectation", "check_event"]

_EXPECT_KINDS: dict[str, tuple[str, ...]] = {
    "output": ("node", "output", "within", "count", "min_count"),
    "no_errors": ("node", "no_errors"),
    "connected": ("connected", "by", "value"),
    "air": ("air",),
}
_AIR_KEYS = ("pdu", "min", "max", "within")
_EVENT_KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # kind: (allowed keys, required keys)
    "move": (("node", "position"), ("node", "position")),
    "link_loss": (("from", "to", "probability"), ("from", "to", "probability")),
    "interferer": (("name", "enabled"), ("name", "enabled")),
    "power": (("node", "on"), ("node", "on")),
    "reboot": (("node",), ("node",)),
    "inject": (("channel", "bytes", "access_address", "phy", "position", "tx_power"),
               ("channel", "bytes")),
}


def _regex(ck: Checker, value: object, src: Src) -> str:
    pattern = ck.text(value, src, "a regular expression")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ck.error(src, f"bad regular expression {pattern!r}: {exc}") from None
    return pattern


def check_expectation(ck: Checker, value: object, src: Src, index: int) -> S.ExpectSpec | None:
    what = f"expectation #{index + 1}"
    if not isinstance(value, dict):
        raise ck.error(src, f"expected a mapping for {what}, got {describe(value)}")
    kinds = [k for k in _EXPECT_KINDS if k in value]
    if len(kinds) != 1:
        every = sorted({key for keys in _EXPECT_KINDS.values() for key in keys})
        ck.mapping(value, src, what, every)
        if not kinds:
            raise ck.error(src, f"{what} needs one of: {', '.join(_EXPECT_KINDS)}")
        raise ck.error(src, f"{what} has one kind; found {' and '.join(map(repr, kinds))}")
    kind = kinds[0]
    allowed = _EXPECT_KINDS[kind]
    required = ("node", "output") if kind == "output" else (kind,)
    m = ck.mapping(value, src, f"{kind!r} {what}", allowed, required)
    loc = src.location
    if kind == "output":
        node = m.get("node", ck.node_ref)
        pattern = m.get("output", lambda v, s: _regex(ck, v, s))
        within = m.get("within", ck.window)
        count = m.get("count", lambda v, s: ck.integer(v, s, 0, None, "a count"))
        min_count = m.get("min_count", lambda v, s: ck.integer(v, s, 0, None, "a count"))
        if "count" in m and "min_count" in m:
            ck.error(m.key_src("min_count"), "use either 'count' or 'min_count', not both")
        if node is None or pattern is None:
            return None
        return S.ExpectOutput(node, pattern, within, count,
                              S.DEFAULT_OUTPUT_MIN_COUNT if min_count is None else min_count, loc)
    if kind == "no_errors":
        flag = m.get("no_errors", lambda v, s: ck.boolean(v, s))
        if flag is False:
            ck.error(m.value_src("no_errors"), "no_errors: false checks nothing; write true or remove it")
        return S.ExpectNoErrors(m.get("node", ck.node_ref), loc)
    if kind == "connected":
        def pair(v: object, s: Src) -> tuple[str, str]:
            if not isinstance(v, list) or len(v) != 2:
                raise ck.error(s, f"expected two node names [a, b], got {describe(v)}")
            names: list[str] = []
            for _, item, isrc in ck.items(v, s, "node names"):
                try:
                    names.append(ck.node_ref(item, isrc))
                except Invalid:
                    pass
            if len(names) != 2:
                raise Invalid()
            if names[0] == names[1]:
                raise ck.error(s, f"a node cannot be connected to itself: {names[0]!r}")
            return (names[0], names[1])
        nodes = m.get("connected", pair)
        by = m.get("by", ck.duration)
        flag = m.get("value", lambda v, s: ck.boolean(v, s))
        if nodes is None:
            return None
        return S.ExpectConnected(nodes, by, True if flag is None else flag, loc)
    a = ck.mapping(m.data["air"], m.value_src("air"), f"'air' {what}", _AIR_KEYS, ("pdu",))
    pdu = a.get("pdu", lambda v, s: ck.choice(v, s, S.AIR_PDU_NAMES, "PDU name"))
    lo = a.get("min", lambda v, s: ck.integer(v, s, 0, None, "a packet count"))
    hi = a.get("max", lambda v, s: ck.integer(v, s, 0, None, "a packet count"))
    within = a.get("within", ck.window)
    if lo is not None and hi is not None and lo > hi:
        ck.error(a.value_src("min"), f"min {lo} is more than max {hi}")
    if "min" not in a and "max" not in a:
        lo = S.DEFAULT_AIR_MIN
    if pdu is None:
        return None
    return S.ExpectAir(pdu, lo, hi, within, loc)


def _hex_bytes(ck: Checker, value: object, src: Src) -> bytes:
    if not isinstance(value, str):
        raise ck.error(src, f"expected hex bytes in quotes such as \"42 06 ...\", got {describe(value)}")
    cleaned = re.sub(r"[\s:]", "", value)
    if cleaned.lower().startswith("0x"):
        cleaned = cleaned[2:]
    try:
        data = bytes.fromhex(cleaned)
    except ValueError:
        raise ck.error(src, f"expected hex bytes such as \"42 06 ...\", got {value!r}") from None
    if not 2 <= len(data) <= 257:
        raise ck.error(src, f"expected a PDU of 2 to 257 bytes, got {len(data)}")
    return data


def _access_address(ck: Checker, value: object, src: Src) -> int:
    if isinstance(value, str) and re.fullmatch(r"(?:0[xX])?[0-9A-Fa-f]{1,8}", value.strip()):
        return int(value.strip(), 16)
    what = "a 32-bit access address such as 0x8E89BED6"
    if isinstance(value, int) and not isinstance(value, bool) and not 0 <= value <= 0xFFFFFFFF:
        raise ck.error(src, f"expected {what}, got 0x{value:X}")
    return ck.integer(value, src, what=what)


def check_event(ck: Checker, value: object, src: Src, index: int) -> S.TimelineEvent | None:
    what = f"timeline event #{index + 1}"
    if not isinstance(value, dict):
        raise ck.error(src, f"expected a mapping for {what}, got {describe(value)}")
    kinds = [k for k in _EVENT_KINDS if k in value]
    m = ck.mapping(value, src, what, ("at",) + tuple(_EVENT_KINDS), ("at",))
    at = m.get("at", ck.duration)
    if len(kinds) != 1:
        if not kinds:
            raise ck.error(src, f"{what} needs one of: {', '.join(_EVENT_KINDS)}")
        raise ck.error(src, f"{what} has one action; found {' and '.join(map(repr, kinds))}")
    kind = kinds[0]
    allowed, required = _EVENT_KINDS[kind]
    b = ck.mapping(m.data[kind], m.value_src(kind), f"{kind!r} event", allowed, required)
    loc = src.location
    if kind == "move":
        node, pos = b.get("node", ck.node_ref), b.get("position", ck.position)
        return None if at is None or node is None or pos is None else S.MoveEvent(at, node, pos, loc)
    if kind == "link_loss":
        src_node, dst_node = b.get("from", ck.node_ref), b.get("to", ck.node_ref)
        p = b.get("probability", lambda v, s: ck.number(v, s, 0.0, 1.0, "a probability"))
        if src_node is not None and src_node == dst_node:
            ck.error(b.value_src("to"), f"link_loss from a node to itself: {src_node!r}")
        if at is None or src_node is None or dst_node is None or p is None:
            return None
        return S.LinkLossEvent(at, src_node, dst_node, p, loc)
    if kind == "interferer":
        def known(v: object, s: Src) -> str:
            name = ck.text(v, s, "an interferer name")
            if name not in ck.interferer_names:
                hint = (suggest(name, ck.interferer_names) if ck.interferer_names
                        else " (medium.interferers defines none)")
                raise ck.error(s, f"unknown interferer {name!r}{hint}")
            return name
        name, on = b.get("name", known), b.get("enabled", lambda v, s: ck.boolean(v, s))
        return None if at is None or name is None or on is None else S.InterfererEvent(at, name, on, loc)
    if kind == "power":
        node, on = b.get("node", ck.node_ref), b.get("on", lambda v, s: ck.boolean(v, s))
        return None if at is None or node is None or on is None else S.PowerEvent(at, node, on, loc)
    if kind == "reboot":
        node = b.get("node", ck.node_ref)
        return None if at is None or node is None else S.RebootEvent(at, node, loc)
    channel = b.get("channel", lambda v, s: ck.integer(v, s, 0, 39, "a BLE channel index"))
    data = b.get("bytes", lambda v, s: _hex_bytes(ck, v, s))
    aa = b.get("access_address", lambda v, s: _access_address(ck, v, s))
    phy = b.get("phy", lambda v, s: ck.choice(v if not isinstance(v, str) else v.upper(), s,
                                              S.PHY_NAMES, "PHY"))
    pos = b.get("position", ck.position)
    power = b.get("tx_power", ck.power)
    if at is None or channel is None or data is None:
        return None
    return S.InjectEvent(
        at, channel, data,
        S.ADVERTISING_ACCESS_ADDRESS if aa is None else aa,
        S.PHY_NAMES[phy or S.DEFAULT_INJECT_PHY],
        pos or S.DEFAULT_POSITION,
        S.DEFAULT_TX_POWER_DBM if power is None else power,
        loc,
    )
