"""Peer misbehaviour never raises: random LL data and control PDUs into a connected controller.

Packets are handed to the controller's radio input (``radio_synced`` / ``radio_received``)
while its connection listens, with a valid CRC so that they reach the link layer.
Afterwards the world keeps running and the controller still answers its host.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linklayer import control_pdu as cp
from linklayer.hci import commands as c
from phy.units import MS
from tests.linklayer.test_connection_encryption import feed
from tests.linklayer.test_connection_rig import Rig

_OPCODES = sorted(cp.CONTROL_PDU_CLASSES)


def _control(bits: int, opcode: int, data: bytes) -> bytes:
    payload = bytes([opcode]) + data
    return bytes([0x03 | (bits & 0x1C), len(payload)]) + payload


def _sized_control(bits: int, opcode: int, seed: bytes) -> bytes:
    size = cp.CONTROL_PDU_CLASSES[opcode].CTR_DATA_SIZE
    data = (seed * (size // max(1, len(seed)) + 1))[:size] if seed else bytes(size)
    return _control(bits, opcode, data)


PDUS = st.one_of(
    # Any header, a payload whose Length matches.
    st.tuples(st.integers(0, 255), st.binary(max_size=60)).map(lambda t: bytes([t[0], len(t[1])]) + t[1]),
    # Any header and Length, any payload (bad lengths).
    st.tuples(st.integers(0, 255), st.integers(0, 255), st.binary(max_size=60)).map(
        lambda t: bytes([t[0], t[1]]) + t[2]),
    # Control PDUs with any opcode and any CtrData.
    st.builds(_control, st.integers(0, 255), st.integers(0, 255), st.binary(max_size=40)),
    # Control PDUs of every known opcode with the right size and arbitrary field values
    # (instants in the past or the future, invalid parameters, unknown PHYs...).
    st.builds(_sized_control, st.integers(0, 255), st.sampled_from(_OPCODES), st.binary(min_size=1, max_size=8)),
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(PDUS, min_size=1, max_size=12), st.booleans(), st.integers(0, 2**16))
def test_random_pdus_never_raise(pdus: list[bytes], to_central: bool, seed: int) -> None:
    rig = Rig(seed=seed)
    C = rig.add("c", (0.0, 0.0))
    P = rig.add("p", (2.0, 0.0))
    hc, hp = rig.connect(C, P, interval=8, timeout=50)
    node, handle = (C, hc) if to_central else (P, hp)
    for pdu in pdus:
        if not feed(rig, node, handle, pdu):
            break  # the link ended (terminated, instant passed, invalid parameters...): fine
    rig.run(300 * MS)
    t0 = rig.now
    rig.cmd(node, c.HCI_Read_RSSI_Command(handle=handle))
    rig.run(1 * MS)
    ((_, answer),) = [(t, e) for t, e in node.events(t0) if type(e).__name__ == "HCI_Command_Complete_Event"]
    assert answer.return_parameters[0] == (0 if handle in node.controller.connections else 0x02)
    for n in (C, P):
        for conn in n.controller.connections.values():
            assert conn.ignored >= 0


def test_unknown_opcode_gets_ll_unknown_rsp_on_air() -> None:
    rig = Rig(seed=61)
    C = rig.add("c", (0.0, 0.0))
    P = rig.add("p", (2.0, 0.0))
    hc, hp = rig.connect(C, P, interval=8)
    conn = P.controller.connections[hp]
    feed(rig, P, hp, _control((conn.rx_nesn << 3) | (conn.tx_sn << 2), 0xF0, b"\x01\x02"))
    rig.run(50 * MS)
    aa = conn.access_address
    answers = [r.pdu for r in rig.data_packets(aa) if r.sender == P.driver.radio_id and len(r.pdu) == 4]
    assert bytes([0x07, 0xF0]) in [pdu[2:] for pdu in answers if pdu[0] & 3 == 3]  # LL_UNKNOWN_RSP(0xF0)
    assert hp in P.controller.connections


def test_instant_in_the_past_ends_the_link_with_0x28() -> None:
    rig = Rig(seed=62)
    C = rig.add("c", (0.0, 0.0))
    P = rig.add("p", (2.0, 0.0))
    hc, hp = rig.connect(C, P, interval=8)
    rig.run(100 * MS)
    conn = P.controller.connections[hp]
    t0 = rig.now
    pdu = cp.LL_CHANNEL_MAP_IND(ch_m=0x1F, instant=(conn.counter - 2) & 0xFFFF).to_bytes()
    feed(rig, P, hp, bytes([0x03 | (conn.rx_nesn << 3) | (conn.tx_sn << 2), len(pdu)]) + pdu)
    _, ev = rig.run_until(P, "HCI_Disconnection_Complete_Event", since=t0)
    assert ev.reason == 0x28
