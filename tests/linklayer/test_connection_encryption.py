"""Link-layer encryption on the air: the CCM sample data, MIC failure, LE ping, tshark."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from emu.capture_taps import attach_air_capture
from linklayer.address import Address
from linklayer.connection import State
from linklayer.controller import Controller, ControllerConfig
from linklayer.crypto import crc24_bytes
from linklayer.hci import commands as c
from linklayer.hci import le_commands as lc
from linklayer.radio import RadioPacket
from phy.airtime import airtime_ns
from phy.units import MS, S
from tests.linklayer.test_connection_rig import Node, Rig
from tests.linklayer.test_control import ScriptedRng
from tests.tshark import assert_clean_capture, require_tshark, tshark_fields

VECTORS = json.loads((Path("/work/shared/vectors") / "ll_ccm.json").read_text())
INP = VECTORS["inputs"]
LTK_HCI = bytes.fromhex(INP["LTK"])[::-1]  # HCI carries the LTK least significant octet first


def encrypt(rig: Rig, C: Node, P: Node, hc: int, hp: int, ltk: bytes = LTK_HCI) -> None:
    t0 = rig.now
    rig.cmd(C, lc.HCI_LE_Enable_Encryption_Command(connection_handle=hc, random_number=bytes.fromhex(INP["Rand"])[::-1],
                                                   encrypted_diversifier=int(INP["EDIV"], 16), long_term_key=ltk))
    rig.run_until(P, "HCI_LE_Long_Term_Key_Request_Event", since=t0)
    rig.cmd(P, lc.HCI_LE_Long_Term_Key_Request_Reply_Command(connection_handle=hp, long_term_key=ltk))
    rig.run_until(C, "HCI_Encryption_Change_Event", since=t0)
    rig.run_until(P, "HCI_Encryption_Change_Event", since=t0)


def test_ccm_sample_packets_reproduced_on_air() -> None:
    """Vol 6 Part C 1 sample data: SKDm/IVm and SKDs/IVs come from the nodes' random streams."""
    skdm_ivm = bytes.fromhex(INP["SKDm"])[::-1] + bytes.fromhex(INP["IVm"])[::-1]
    skds_ivs = bytes.fromhex(INP["SKDs"])[::-1] + bytes.fromhex(INP["IVs"])[::-1]
    rig = Rig(seed=51)
    cfg = ControllerConfig()
    C = rig.add_controller("c", Controller(dataclasses.replace(cfg, public_address=Address.parse("F0:00:00:00:00:01")),
                                           ScriptedRng([int.from_bytes(skdm_ivm, "little")], 1)), (0.0, 0.0))
    P = rig.add_controller("p", Controller(dataclasses.replace(cfg, public_address=Address.parse("F0:00:00:00:00:02")),
                                           ScriptedRng([int.from_bytes(skds_ivs, "little")], 2)), (2.0, 0.0))
    hc, hp = rig.connect(C, P, interval=8)
    encrypt(rig, C, P, hc, hp)
    pkts = {p["name"]: p for p in VECTORS["packets"]}
    rig.acl(C, hc, bytes.fromhex(pkts["LL_DATA1"]["plaintext_payload"]))
    rig.acl(P, hp, bytes.fromhex(pkts["LL_DATA2"]["plaintext_payload"]))
    rig.run(100 * MS)
    aa = C.controller.connections[hc].access_address
    sealed = [r for r in rig.data_packets(aa) if r.info is not None and r.info.plaintext is not None]
    by_dir = {2: [r for r in sealed if r.info.pdu_kind == 2], 3: [r for r in sealed if r.info.pdu_kind == 3]}
    for kind, names in ((2, ("LL_START_ENC_RSP1", "LL_DATA1")), (3, ("LL_START_ENC_RSP2", "LL_DATA2"))):
        first, second = (pkts[n] for n in names)
        got = [r.pdu for r in by_dir[kind]][:2]
        for pdu, pkt in zip(got, (first, second)):
            want = bytes.fromhex(pkt["encrypted_pdu_on_air"])
            assert pdu[0] & 0xE3 == want[0] & 0xE3  # LLID/CP: NESN, SN, MD may differ
            assert pdu[1:] == want[1:], pkt["name"]
    # And what the hosts got is the plaintext.
    assert [a.data.hex() for _, a in P.acl_in()] == [pkts["LL_DATA1"]["plaintext_payload"]]
    assert [a.data.hex() for _, a in C.acl_in()] == [pkts["LL_DATA2"]["plaintext_payload"]]


def _wait_listening(rig: Rig, node: Node, handle: int) -> bool:
    """Run until the connection listens; False if the link ended meanwhile."""
    for _ in range(200):
        conn = node.controller.connections.get(handle)
        if conn is None:
            return False
        if conn.state is State.RX_WAIT:
            return True
        start = conn.next_start()
        rig.world.run((start if start is not None and start > rig.now else rig.now + 1 * MS) + 1_000)
    raise AssertionError("the connection never listened")


def feed(rig: Rig, node: Node, handle: int, pdu: bytes) -> bool:
    """Hand the listening connection a packet with a valid CRC, through the controller's radio
    input; False if the link had ended."""
    if not _wait_listening(rig, node, handle):
        return False
    conn = node.controller.connections[handle]
    now = rig.now
    start = now - airtime_ns(conn.rx_phy, len(pdu))
    packet = RadioPacket(start, now, 0, conn.rx_phy, conn.access_address, pdu, crc24_bytes(conn.crc_init, pdu), -40.0)
    node.controller.radio_synced(start if start > 0 else now)
    node.controller.radio_received(packet, now)
    node.driver.service()
    return True


def test_mic_failure_ends_the_link_with_0x3d() -> None:
    rig = Rig(seed=52)
    C = rig.add("c", (0.0, 0.0))
    P = rig.add("p", (2.0, 0.0))
    hc, hp = rig.connect(C, P, interval=8)
    encrypt(rig, C, P, hc, hp)
    conn = P.controller.connections[hp]
    t0 = rig.now
    _wait_listening(rig, P, hp)
    # A new PDU (the SN the Peripheral expects) whose MIC is wrong.
    hdr0 = 0x02 | (conn.tx_sn << 2) | (conn.rx_nesn << 3)
    feed(rig, P, hp, bytes([hdr0, 9]) + b"\x01\x00\x04\x00\x0a" + b"BAD!")
    _, ev = rig.run_until(P, "HCI_Disconnection_Complete_Event", since=t0)
    assert ev.reason == 0x3D
    _, ev = rig.run_until(C, "HCI_Disconnection_Complete_Event", since=t0, limit_ns=3 * S)
    assert ev.reason == 0x08  # the Central just loses the Peripheral


def test_le_ping_keeps_the_authenticated_payload_timer_alive() -> None:
    rig = Rig(seed=53)
    C = rig.add("c", (0.0, 0.0))
    P = rig.add("p", (2.0, 0.0))
    hc, hp = rig.connect(C, P, interval=8)
    encrypt(rig, C, P, hc, hp)
    rig.cmd(C, c.HCI_Write_Authenticated_Payload_Timeout_Command(connection_handle=hc, authenticated_payload_timeout=50))
    t0 = rig.now
    rig.run(2 * S)
    aa = C.controller.connections[hc].access_address
    pings = [r for r in rig.data_packets(aa) if r.t > t0 and r.info.plaintext is not None
             and r.info.plaintext[0] & 3 == 3 and r.info.plaintext[2] in (0x12, 0x13)]
    assert len(pings) >= 2 * 3  # a ping exchange every 250 ms or so, never 500 ms of silence
    assert "HCI_Authenticated_Payload_Timeout_Expired_Event" not in C.event_names(t0)
    # A Peripheral that stops answering: the timer expires (before the supervision timeout).
    rig.world.medium.set_link_loss(P.driver.radio_id, C.driver.radio_id, 1.0)
    t1 = rig.now
    t, _ = rig.run_until(C, "HCI_Authenticated_Payload_Timeout_Expired_Event", since=t1)
    assert t - t1 <= 500 * MS + 20 * MS


def test_tshark_decodes_an_encrypted_connection_cleanly(tmp_path: Path) -> None:
    require_tshark()
    rig = Rig(seed=54)
    path = tmp_path / "air.pcap"
    capture = attach_air_capture(rig.world, path)
    C = rig.add("c", (0.0, 0.0))
    P = rig.add("p", (2.0, 0.0))
    hc, hp = rig.connect(C, P, interval=8)
    read_req = bytes.fromhex("03000400" "0a0300")  # L2CAP (3 octets, ATT) ATT_READ_REQ handle 3
    read_rsp = bytes.fromhex("06000400" "0b" "456d7550") + b"e"
    rig.acl(C, hc, read_req)
    rig.run(50 * MS)
    rig.acl(P, hp, read_rsp)
    rig.run(50 * MS)
    rig.cmd(C, lc.HCI_LE_Read_Remote_Features_Command(connection_handle=hc))
    rig.run(50 * MS)
    encrypt(rig, C, P, hc, hp)
    rig.acl(C, hc, read_req)
    rig.run(50 * MS)
    rig.acl(P, hp, read_rsp)
    rig.run(50 * MS)
    rig.cmd(C, c.HCI_Disconnect_Command(connection_handle=hc, reason=0x13))
    rig.run(100 * MS)
    capture.close()
    assert_clean_capture(path)
    rows = tshark_fields(path, ["btatt.opcode", "btle.control_opcode"])
    att = [r[0] for r in rows if r[0]]
    assert att == ["0x0a", "0x0b", "0x0a", "0x0b"]  # clear, then decrypted (written as plaintext)
    ctl = [r[1] for r in rows if r[1]]
    for opcode in ("0x08", "0x09", "0x03", "0x04", "0x05", "0x06", "0x02"):
        assert opcode in ctl


def test_key_refresh_end_to_end() -> None:
    rig = Rig(seed=55)
    C = rig.add("c", (0.0, 0.0))
    P = rig.add("p", (2.0, 0.0))
    hc, hp = rig.connect(C, P, interval=8)
    encrypt(rig, C, P, hc, hp)
    t0 = rig.now
    new_ltk = bytes(range(16, 32))
    encrypt_again = lc.HCI_LE_Enable_Encryption_Command(connection_handle=hc, random_number=bytes(8),
                                                        encrypted_diversifier=7, long_term_key=new_ltk)
    rig.cmd(C, encrypt_again)
    rig.run_until(P, "HCI_LE_Long_Term_Key_Request_Event", since=t0)
    rig.cmd(P, lc.HCI_LE_Long_Term_Key_Request_Reply_Command(connection_handle=hp, long_term_key=new_ltk))
    rig.run_until(C, "HCI_Encryption_Key_Refresh_Complete_Event", since=t0)
    rig.run_until(P, "HCI_Encryption_Key_Refresh_Complete_Event", since=t0)
    aa = C.controller.connections[hc].access_address
    opcodes = [r.info.plaintext[2] if r.info.plaintext is not None else r.pdu[2]
               for r in rig.data_packets(aa) if r.t > t0 and r.pdu[0] & 3 == 3]
    assert opcodes == [0x0A, 0x0B, 0x0B, 0x03, 0x04, 0x05, 0x06, 0x06]  # pause, then start again
    rig.acl(C, hc, b"after refresh")
    rig.run(50 * MS)
    assert [a.data for _, a in P.acl_in()] == [b"after refresh"]


def test_missing_key_is_reported_to_the_central() -> None:
    rig = Rig(seed=56)
    C = rig.add("c", (0.0, 0.0))
    P = rig.add("p", (2.0, 0.0))
    hc, hp = rig.connect(C, P, interval=8)
    t0 = rig.now
    rig.cmd(C, lc.HCI_LE_Enable_Encryption_Command(connection_handle=hc, random_number=bytes(8),
                                                   encrypted_diversifier=0, long_term_key=bytes(16)))
    rig.run_until(P, "HCI_LE_Long_Term_Key_Request_Event", since=t0)
    rig.cmd(P, lc.HCI_LE_Long_Term_Key_Request_Negative_Reply_Command(connection_handle=hp))
    _, ev = rig.run_until(C, "HCI_Encryption_Change_Event", since=t0)
    assert (ev.status, ev.encryption_enabled) == (0x06, 0)
    rig.acl(C, hc, b"still in the clear")
    rig.run(50 * MS)
    assert [a.data for _, a in P.acl_in()] == [b"still in the clear"]


def test_a_parameters_request_crossing_the_encryption_start_waits_for_it() -> None:
    """The Peripheral asks for new parameters (LL_CONNECTION_PARAM_REQ) in the very event
    the Central starts encryption (LL_ENC_REQ). The Central answers it only once the
    encryption procedure is over (5.1.3.1: nothing else goes between LL_ENC_REQ and
    LL_START_ENC_RSP), so its LL_CONNECTION_UPDATE_IND goes out encrypted and the link
    survives (before: sent in the clear to a Peripheral already decrypting, MIC failure)."""
    rig = Rig(seed=54)
    C = rig.add("c", (0.0, 0.0))
    P = rig.add("p", (2.0, 0.0))
    hc, hp = rig.connect(C, P, interval=8)
    t0 = rig.now
    rig.cmd(P, lc.HCI_LE_Connection_Update_Command(
        connection_handle=hp, connection_interval_min=24, connection_interval_max=24, max_latency=0,
        supervision_timeout=400, min_ce_length=0, max_ce_length=0))
    rig.cmd(C, lc.HCI_LE_Enable_Encryption_Command(
        connection_handle=hc, random_number=bytes.fromhex(INP["Rand"])[::-1],
        encrypted_diversifier=int(INP["EDIV"], 16), long_term_key=LTK_HCI))
    reply = lc.HCI_LE_Remote_Connection_Parameter_Request_Reply_Command(
        connection_handle=hc, interval_min=24, interval_max=24, max_latency=0, timeout=400,
        min_ce_length=0, max_ce_length=0)
    # The Central's host answers the request the moment it hears of it; the Peripheral's
    # host takes a while to give its LTK.
    rig.run_until(P, "HCI_LE_Long_Term_Key_Request_Event", since=t0)
    rig.run(20 * MS)
    early = "HCI_LE_Remote_Connection_Parameter_Request_Event" in C.event_names(t0)
    if early:
        rig.cmd(C, reply)
        rig.run(20 * MS)
    rig.cmd(P, lc.HCI_LE_Long_Term_Key_Request_Reply_Command(connection_handle=hp, long_term_key=LTK_HCI))
    rig.run_until(C, "HCI_Encryption_Change_Event", since=t0)
    if not early:
        rig.run_until(C, "HCI_LE_Remote_Connection_Parameter_Request_Event", since=t0)
        rig.cmd(C, reply)
    _, done = rig.run_until(P, "HCI_LE_Connection_Update_Complete_Event", since=t0)
    assert done.status == 0 and done.connection_interval == 24
    assert "HCI_Disconnection_Complete_Event" not in C.event_names(t0) + P.event_names(t0)
    # Every control PDU between LL_ENC_REQ and the Central's LL_START_ENC_RSP belongs to the
    # encryption procedure; the update comes after it, encrypted.
    aa = C.controller.connections[hc].access_address
    control = [(r.t, r.info.plaintext[2] if r.info.plaintext is not None else r.pdu[2])
               for r in rig.data_packets(aa) if r.t > t0 and r.pdu[0] & 3 == 3 and r.pdu[1] > 0]
    opcodes = [op for _, op in control]
    enc_req, start_rsp = opcodes.index(0x03), opcodes.index(0x06)
    assert set(opcodes[enc_req:start_rsp + 1]) <= {0x03, 0x04, 0x05, 0x06, 0x0F}  # 0x0F: the request itself
    update = opcodes.index(0x00)  # LL_CONNECTION_UPDATE_IND
    assert update > start_rsp
