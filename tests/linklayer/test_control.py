"""LL control procedures, driven through a fake link (no radio): Vol 6 Part B 5.1.

``Pair`` wires a Central and a Peripheral engine back to back: every PDU one queues is
delivered to the other (and acknowledged to the sender) by ``pump()``; instants are
applied by ``reach()``. Tests go through the engines' public inputs only.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from linklayer import control_pdu as cp
from linklayer.channels import ChannelMap
from linklayer.control import (
    PROCEDURE_RESPONSE_TIMEOUT_NS,
    ControlProcedures,
    Lengths,
    LocalInfo,
    Proc,
    choose_phy,
    conn_params_valid,
)
from linklayer.control_link import ControlItem
from linklayer.crypto import LlCipher
from linklayer.hci import events as ev
from linklayer.hci import le_events as le
from linklayer.hci.codec import HciEvent
from phy.types import Phy
from phy.units import S

VECTORS = json.loads((Path("/work/shared/vectors") / "ll_ccm.json").read_text())


class ScriptedRng(random.Random):
    """A random stream whose 96-bit draws (SKD and IV halves) are given in advance."""

    def __init__(self, draws96: list[int], seed: int = 0) -> None:
        super().__init__(seed)
        self.draws96 = list(draws96)

    def getrandbits(self, k: int) -> int:
        if k == 96 and self.draws96:
            return self.draws96.pop(0)
        return super().getrandbits(k)


class FakeLink:
    """Records what the engine asks of its connection."""

    def __init__(self, central: bool) -> None:
        self.handle = 7
        self.is_central = central
        self.counter = 100
        self.interval = 24
        self.latency = 0
        self.timeout = 100
        self.channel_map = ChannelMap.all_channels()
        self.tx_phy = Phy.LE_1M
        self.rx_phy = Phy.LE_1M
        self.queue: list[ControlItem] = []
        self.events: list[HciEvent] = []
        self.closed: int | None = None
        self.close_after: int | None = None
        self.updates: list[tuple[int, ...]] = []
        self.maps: list[tuple[int, ChannelMap]] = []
        self.phys: list[tuple[int, Phy | None, Phy | None]] = []
        self.paused = False
        self.cipher: LlCipher | None = None
        self.rx_dec = False
        self.tx_enc = False
        self.masked: set[int] = set()
        self.lengths_seen = 0

    def send_control(self, item: ControlItem) -> None:
        self.queue.append(item)

    def take(self) -> list[tuple[cp.ControlPdu, bool]]:
        """Queued PDUs (builders run now), with whether encryption was on for them."""
        out = []
        while self.queue:
            item = self.queue.pop(0)
            pdu = item if isinstance(item, cp.ControlPdu) else item(self.counter)
            if pdu is not None:
                out.append((pdu, self.tx_enc))
        return out

    def emit(self, event: HciEvent) -> None:
        self.events.append(event)

    def le_event_enabled(self, subevent: int) -> bool:
        return subevent not in self.masked

    def close(self, reason: int, now: int) -> None:
        self.closed = reason

    def close_after_ack(self, reason: int) -> None:
        self.close_after = reason

    def schedule_update(self, instant: int, win_size: int, win_offset: int, interval: int, latency: int,
                        timeout: int) -> None:
        self.updates.append((instant, win_size, win_offset, interval, latency, timeout))

    def schedule_channel_map(self, instant: int, channel_map: ChannelMap) -> None:
        self.maps.append((instant, channel_map))

    def schedule_phy(self, instant: int, c_to_p: Phy | None, p_to_c: Phy | None) -> None:
        self.phys.append((instant, c_to_p, p_to_c))

    def set_data_paused(self, paused: bool) -> None:
        self.paused = paused

    def set_cipher(self, cipher: LlCipher | None) -> None:
        self.cipher = cipher

    def set_rx_decrypt(self, on: bool) -> None:
        self.rx_dec = on

    def set_tx_encrypt(self, on: bool) -> None:
        self.tx_enc = on

    def lengths_changed(self) -> None:
        self.lengths_seen += 1

    def names(self) -> list[str]:
        return [type(e).__name__ for e in self.events]


def engine(link: FakeLink, rng: random.Random | None = None, **info: Any) -> ControlProcedures:
    return ControlProcedures(link, LocalInfo(**info), rng or random.Random(1), Lengths(), 0)


class Pair:
    def __init__(self, c_rng: random.Random | None = None, p_rng: random.Random | None = None,
                 c_info: dict[str, Any] | None = None, p_info: dict[str, Any] | None = None) -> None:
        self.cl = FakeLink(True)
        self.pl = FakeLink(False)
        self.c = engine(self.cl, c_rng, **(c_info or {}))
        self.p = engine(self.pl, p_rng, **(p_info or {}))
        self.log: list[tuple[str, str]] = []

    def pump(self, now: int = 0, rounds: int = 20) -> None:
        for _ in range(rounds):
            moved = False
            for src_link, src, dst_link, dst, tag in ((self.cl, self.c, self.pl, self.p, "C>P"),
                                                     (self.pl, self.p, self.cl, self.c, "P>C")):
                for pdu, encrypted in src_link.take():
                    moved = True
                    self.log.append((tag, type(pdu).__name__))
                    assert encrypted == dst_link.rx_dec, f"{tag} {type(pdu).__name__}: encryption mismatch"
                    dst.on_control_pdu(pdu.to_bytes(), now)
                    src.on_acked(pdu, now)
            if not moved:
                return

    def reach(self, kind: Proc, now: int = 0, changed: bool = True) -> None:
        self.c.on_instant(kind, changed, now)
        self.p.on_instant(kind, changed, now)


# -- helpers ------------------------------------------------------------------------------


def test_choose_phy_and_param_ranges() -> None:
    assert choose_phy(0x07) == 2 and choose_phy(0x05) == 1 and choose_phy(0x04) == 4 and choose_phy(0) == 0
    assert conn_params_valid(6, 6, 0, 10)
    assert not conn_params_valid(6, 6, 0, 9)
    assert not conn_params_valid(40, 40, 4, 40)  # timeout must exceed (1 + 4) * 50 ms * 2
    assert not conn_params_valid(7, 6, 0, 100)
    assert not conn_params_valid(6, 6, 500, 3200)


# -- feature and version exchange ---------------------------------------------------------------


def test_feature_exchange_central_initiated() -> None:
    pair = Pair()
    pair.c.request(Proc.FEATURES, 0)
    pair.pump()
    assert pair.log == [("C>P", "LL_FEATURE_REQ"), ("P>C", "LL_FEATURE_RSP")]
    (event,) = pair.cl.events
    assert isinstance(event, le.HCI_LE_Read_Remote_Features_Complete_Event) and event.status == 0
    assert event.le_features == pair.p.info.features
    assert pair.pl.events == [] and pair.c.local is None


def test_feature_exchange_peripheral_initiated_and_unsupported() -> None:
    pair = Pair()
    pair.p.request(Proc.FEATURES, 0)
    pair.pump()
    assert pair.log == [("P>C", "LL_PERIPHERAL_FEATURE_REQ"), ("C>P", "LL_FEATURE_RSP")]
    assert pair.pl.names() == ["HCI_LE_Read_Remote_Features_Complete_Event"]
    # A Central that does not do it answers LL_UNKNOWN_RSP: the host gets 0x1A.
    pair = Pair(c_info={"features": int(cp.LLFeature.LE_ENCRYPTION)})
    pair.p.request(Proc.FEATURES, 0)
    pair.pump()
    assert pair.log == [("P>C", "LL_PERIPHERAL_FEATURE_REQ"), ("C>P", "LL_UNKNOWN_RSP")]
    (event,) = pair.pl.events
    assert isinstance(event, le.HCI_LE_Read_Remote_Features_Complete_Event) and event.status == 0x1A


def test_version_exchange_once_per_connection() -> None:
    pair = Pair()
    pair.p.request(Proc.VERSION, 0)
    pair.pump()
    assert pair.log == [("P>C", "LL_VERSION_IND"), ("C>P", "LL_VERSION_IND")]
    assert pair.pl.names() == ["HCI_Read_Remote_Version_Information_Complete_Event"]
    # The Central already knows the Peripheral's version: no PDU at all.
    pair.c.request(Proc.VERSION, 0)
    pair.pump()
    assert len(pair.log) == 2
    (event,) = pair.cl.events
    assert isinstance(event, ev.HCI_Read_Remote_Version_Information_Complete_Event)
    assert (event.version, event.company_identifier, event.subversion) == (0x0C, 0xFFFF, 0x0001)


# -- connection update and parameters request -----------------------------------------------------


def test_connection_parameters_request_with_host_replies() -> None:
    pair = Pair()
    pair.c.request(Proc.CONN_PARAM, 0, interval_min=40, interval_max=48, latency=1, timeout=300)
    pair.pump()
    (req_event,) = pair.pl.events
    assert isinstance(req_event, le.HCI_LE_Remote_Connection_Parameter_Request_Event)
    assert (req_event.interval_min, req_event.interval_max, req_event.max_latency, req_event.timeout) == (40, 48, 1, 300)
    assert pair.p.cpr_reply(44, 44, 1, 300, 0)
    pair.pump()
    assert [n for _, n in pair.log] == ["LL_CONNECTION_PARAM_REQ", "LL_CONNECTION_PARAM_RSP",
                                        "LL_CONNECTION_UPDATE_IND"]
    # Instant = counter + latency + 6, the same on both sides.
    assert pair.cl.updates == [(106, 1, 0, 44, 1, 300)] and pair.pl.updates == [(106, 1, 0, 44, 1, 300)]
    pair.cl.interval, pair.cl.latency, pair.cl.timeout = 44, 1, 300
    pair.pl.interval, pair.pl.latency, pair.pl.timeout = 44, 1, 300
    pair.reach(Proc.CONN_UPDATE)
    for link in (pair.cl, pair.pl):
        (done,) = [e for e in link.events if isinstance(e, le.HCI_LE_Connection_Update_Complete_Event)]
        assert (done.status, done.connection_interval, done.peripheral_latency, done.supervision_timeout) == (0, 44, 1, 300)
    assert pair.c.local is None


def test_parameters_request_rejected_by_host() -> None:
    pair = Pair()
    pair.p.request(Proc.CONN_PARAM, 0, interval_min=6, interval_max=6, latency=0, timeout=100)
    pair.pump()
    assert pair.cl.names() == ["HCI_LE_Remote_Connection_Parameter_Request_Event"]
    assert pair.c.cpr_negative_reply(0x3B, 0)
    assert not pair.c.cpr_negative_reply(0x3B, 0)  # nothing pending any more
    pair.pump()
    assert pair.log[-1] == ("C>P", "LL_REJECT_EXT_IND")
    (done,) = pair.pl.events
    assert isinstance(done, le.HCI_LE_Connection_Update_Complete_Event) and done.status == 0x3B


def test_parameters_request_masked_event_and_fallback() -> None:
    # The Peripheral's host masked the request event: the controller rejects with 0x1A and the
    # Central falls back to LL_CONNECTION_UPDATE_IND (5.1.7.1).
    pair = Pair()
    pair.pl.masked.add(0x06)
    pair.c.request(Proc.CONN_PARAM, 0, interval_min=40, interval_max=40, latency=0, timeout=200)
    pair.pump()
    assert [n for _, n in pair.log] == ["LL_CONNECTION_PARAM_REQ", "LL_REJECT_EXT_IND", "LL_CONNECTION_UPDATE_IND"]
    assert pair.cl.updates == pair.pl.updates == [(106, 1, 0, 40, 0, 200)]


def test_parameters_request_unknown_to_peer_falls_back() -> None:
    pair = Pair(p_info={"features": int(cp.LLFeature.LE_ENCRYPTION)})
    pair.c.request(Proc.CONN_PARAM, 0, interval_min=40, interval_max=40, latency=0, timeout=200)
    pair.pump()
    # LL_UNKNOWN_RSP to 0x0F: the Central falls back to the connection update procedure.
    assert [n for _, n in pair.log] == ["LL_CONNECTION_PARAM_REQ", "LL_UNKNOWN_RSP", "LL_CONNECTION_UPDATE_IND"]
    assert pair.cl.updates == pair.pl.updates == [(106, 1, 0, 40, 0, 200)]
    # And a Peripheral whose Central does not know it reports 0x1A to its host.
    pair = Pair(c_info={"features": int(cp.LLFeature.LE_ENCRYPTION)})
    pair.p.request(Proc.CONN_PARAM, 0, interval_min=40, interval_max=40, latency=0, timeout=200)
    pair.pump()
    (done,) = pair.pl.events
    assert isinstance(done, le.HCI_LE_Connection_Update_Complete_Event) and done.status == 0x1A


def test_invalid_parameters_rejected_with_0x1e() -> None:
    pair = Pair()
    bad = cp.LL_CONNECTION_PARAM_REQ(interval_min=50, interval_max=40, latency=0, timeout=100,
                                     preferred_periodicity=0, reference_conn_event_count=0, offset0=0,
                                     offset1=0, offset2=0, offset3=0, offset4=0, offset5=0)
    pair.c.on_control_pdu(bad.to_bytes(), 0)
    ((pdu, _),) = pair.cl.take()
    assert pdu == cp.LL_REJECT_EXT_IND(reject_opcode=0x0F, error_code=0x1E)


def test_collision_central_rejects_peripheral_request() -> None:
    pair = Pair()
    pair.c.request(Proc.PHY, 0, tx_phys=2, rx_phys=2)
    pair.p.request(Proc.CONN_PARAM, 0, interval_min=40, interval_max=40, latency=0, timeout=200)
    pair.pump()
    rejects = [e for e in pair.pl.events if isinstance(e, le.HCI_LE_Connection_Update_Complete_Event)]
    assert [e.status for e in rejects] == [0x2A]  # Different Transaction Collision
    assert ("C>P", "LL_REJECT_EXT_IND") in pair.log
    pair2 = Pair()
    pair2.c.request(Proc.PHY, 0, tx_phys=2, rx_phys=2)
    pair2.p.request(Proc.PHY, 0, tx_phys=6, rx_phys=6)
    pair2.pump()
    (phy_fail,) = [e for e in pair2.pl.events if isinstance(e, le.HCI_LE_PHY_Update_Complete_Event)]
    assert phy_fail.status == 0x23  # LL Procedure Collision
    assert pair2.cl.phys == pair2.pl.phys == [(106, Phy.LE_2M, Phy.LE_2M)]


def test_instant_in_the_past_loses_the_link() -> None:
    link = FakeLink(False)
    eng = engine(link)
    past = cp.LL_CONNECTION_UPDATE_IND(win_size=1, win_offset=0, interval=24, latency=0, timeout=100,
                                       instant=(link.counter - 1) & 0xFFFF)
    eng.on_control_pdu(past.to_bytes(), 0)
    assert link.closed == 0x28
    link = FakeLink(False)
    eng = engine(link)
    eng.on_control_pdu(cp.LL_CHANNEL_MAP_IND(ch_m=0x1F, instant=link.counter & 0xFFFF).to_bytes(), 0)
    assert link.closed == 0x28
    link = FakeLink(False)
    eng = engine(link)
    eng.on_control_pdu(cp.LL_PHY_UPDATE_IND(phy_c_to_p=2, phy_p_to_c=2, instant=(link.counter - 5) & 0xFFFF).to_bytes(), 0)
    assert link.closed == 0x28


def test_instant_wraps_the_16_bit_counter() -> None:
    link = FakeLink(False)
    link.counter = 0x1FFFE
    eng = engine(link)
    eng.on_control_pdu(cp.LL_CHANNEL_MAP_IND(ch_m=0x1F, instant=0x0004).to_bytes(), 0)
    assert link.closed is None and link.maps == [(0x20004, ChannelMap(0x1F))]


# -- channel map, PHY, data length ---------------------------------------------------------------


def test_channel_map_update() -> None:
    pair = Pair()
    pair.cl.latency = 3
    cmap = ChannelMap.from_channels([1, 5, 9])
    pair.c.request(Proc.CHANNEL_MAP, 0, channel_map=cmap)
    pair.pump()
    assert pair.cl.maps == pair.pl.maps == [(109, cmap)]
    pair.reach(Proc.CHANNEL_MAP)
    assert pair.cl.events == [] and pair.c.local is None


def test_phy_update_both_directions() -> None:
    pair = Pair()
    pair.p.request(Proc.PHY, 0, tx_phys=2, rx_phys=2)
    pair.pump()
    assert [n for _, n in pair.log] == ["LL_PHY_REQ", "LL_PHY_UPDATE_IND"]
    assert pair.pl.phys == [(106, Phy.LE_2M, Phy.LE_2M)]
    pair.cl.tx_phy = pair.cl.rx_phy = pair.pl.tx_phy = pair.pl.rx_phy = Phy.LE_2M
    pair.reach(Proc.PHY)
    for link in (pair.cl, pair.pl):
        (done,) = link.events
        assert isinstance(done, le.HCI_LE_PHY_Update_Complete_Event)
        assert (done.status, done.tx_phy, done.rx_phy) == (0, 2, 2)


def test_phy_update_without_change_completes_at_once() -> None:
    pair = Pair()
    pair.c.request(Proc.PHY, 0, tx_phys=1, rx_phys=1)
    pair.pump()
    assert [n for _, n in pair.log] == ["LL_PHY_REQ", "LL_PHY_RSP", "LL_PHY_UPDATE_IND"]
    assert pair.cl.phys == [] and pair.pl.phys == []
    assert pair.cl.names() == ["HCI_LE_PHY_Update_Complete_Event"] and pair.pl.events == []


def test_data_length_update() -> None:
    pair = Pair()
    pair.c.set_max_tx(251, 2120, 0)
    pair.pump()
    assert [n for _, n in pair.log] == ["LL_LENGTH_REQ", "LL_LENGTH_RSP"]
    assert pair.c.effective_lengths() == (251, 2120, 27, 328)
    assert pair.p.effective_lengths() == (27, 328, 251, 2120)
    (c_ev,) = pair.cl.events
    assert isinstance(c_ev, le.HCI_LE_Data_Length_Change_Event)
    assert (c_ev.max_tx_octets, c_ev.max_tx_time, c_ev.max_rx_octets, c_ev.max_rx_time) == (251, 2120, 27, 328)
    assert pair.pl.names() == ["HCI_LE_Data_Length_Change_Event"]
    assert pair.cl.lengths_seen == 1


# -- ping, timers, termination, misbehaviour ----------------------------------------------------


def test_response_timeout_is_40_seconds() -> None:
    link = FakeLink(True)
    eng = engine(link)
    eng.request(Proc.FEATURES, 1_000)
    eng.on_event_start(1_000 + PROCEDURE_RESPONSE_TIMEOUT_NS - 1)
    assert link.closed is None
    eng.on_event_start(1_000 + PROCEDURE_RESPONSE_TIMEOUT_NS)
    assert link.closed == 0x22


def test_termination_local_and_remote() -> None:
    pair = Pair()
    pair.c.request_terminate(0x13, 0)
    pair.pump()
    assert pair.log == [("C>P", "LL_TERMINATE_IND")]
    assert pair.pl.close_after == 0x13  # the Peripheral acknowledges, then closes
    assert pair.cl.closed == 0x16  # acknowledged: Connection Terminated by Local Host
    # Nothing else starts once terminating.
    pair.c.request(Proc.FEATURES, 0)
    assert pair.cl.take() == []


def test_termination_times_out_after_supervision_timeout() -> None:
    link = FakeLink(True)
    eng = engine(link)
    eng.request_terminate(0x13, 0)
    eng.on_event_start(link.timeout * 10_000_000)
    assert link.closed == 0x16


def test_ping_and_authenticated_payload_timeout() -> None:
    pair = Pair()
    pair.c.encrypted = pair.p.encrypted = True
    pair.c.apto_ns = 2 * S
    pair.c.on_event_start(1 * S)  # half the timeout: a ping goes out
    pair.pump()
    assert pair.log == [("C>P", "LL_PING_REQ"), ("P>C", "LL_PING_RSP")]
    pair.c.on_event_start(2 * S)
    assert pair.cl.names() == ["HCI_Authenticated_Payload_Timeout_Expired_Event"]
    pair.c.authenticated(2 * S + 1)
    pair.c.on_event_start(3 * S)
    assert pair.cl.names() == ["HCI_Authenticated_Payload_Timeout_Expired_Event"]


@pytest.mark.parametrize("payload, expected", [
    (bytes([0xFE]), 0xFE),  # unknown opcode
    (bytes([0x0C, 1, 2]), 0x0C),  # LL_VERSION_IND with a bad length
    (bytes([0x2A, 0]), 0x2A),
    (cp.LL_CIS_TERMINATE_IND(cig_id=0, cis_id=0, error_code=0x13).to_bytes(), 0x22),  # not implemented
    (cp.LL_CONNECTION_UPDATE_IND(win_size=1, win_offset=0, interval=6, latency=0, timeout=10,
                                 instant=0).to_bytes(), 0x00),  # a Central never receives it
])
def test_unknown_rsp(payload: bytes, expected: int) -> None:
    link = FakeLink(True)
    eng = engine(link)
    eng.on_control_pdu(payload, 0)
    assert [p for p, _ in link.take()] == [cp.LL_UNKNOWN_RSP(unknown_type=expected)]
    assert link.closed is None


def test_encryption_start_reproduces_the_ccm_sample_data() -> None:
    """Vol 6 Part C 1: the SKD/IV halves and LTK of ll_ccm.json give its packets byte for byte."""
    inp = VECTORS["inputs"]
    skdm_air = bytes.fromhex(inp["SKDm"])[::-1]
    ivm_air = bytes.fromhex(inp["IVm"])[::-1]
    skds_air = bytes.fromhex(inp["SKDs"])[::-1]
    ivs_air = bytes.fromhex(inp["IVs"])[::-1]
    ltk_hci = bytes.fromhex(inp["LTK"])[::-1]
    c_rng = ScriptedRng([int.from_bytes(skdm_air + ivm_air, "little")])
    p_rng = ScriptedRng([int.from_bytes(skds_air + ivs_air, "little")])
    pair = Pair(c_rng, p_rng)
    pair.c.request(Proc.ENCRYPTION, 0, rand=bytes.fromhex(inp["Rand"])[::-1], ediv=int(inp["EDIV"], 16), ltk=ltk_hci)
    pair.pump()
    (ltk_req,) = pair.pl.events
    assert isinstance(ltk_req, le.HCI_LE_Long_Term_Key_Request_Event)
    assert ltk_req.encrypted_diversifier == 0x2474 and ltk_req.random_number == bytes.fromhex("9078563412efcdab")
    assert pair.cl.paused and pair.pl.paused
    assert pair.p.ltk_reply(ltk_hci, 0)
    pair.pump()
    assert [n for _, n in pair.log] == ["LL_ENC_REQ", "LL_ENC_RSP", "LL_START_ENC_REQ", "LL_START_ENC_RSP",
                                        "LL_START_ENC_RSP"]
    assert pair.cl.names() == ["HCI_Encryption_Change_Event"] and pair.pl.names()[-1] == "HCI_Encryption_Change_Event"
    assert not pair.cl.paused and not pair.pl.paused
    assert pair.cl.cipher is not None and pair.pl.cipher is not None
    pkts = {p["name"]: p for p in VECTORS["packets"]}
    for name, cipher, central in (("LL_START_ENC_RSP1", pair.cl.cipher, True),
                                  ("LL_START_ENC_RSP2", pair.pl.cipher, False),
                                  ("LL_DATA1", pair.cl.cipher, True),
                                  ("LL_DATA2", pair.pl.cipher, False)):
        pkt = pkts[name]
        hdr = int(pkt["header_octet0"], 16)
        got = cipher.encrypt(hdr, bytes.fromhex(pkt["plaintext_payload"]), central, pkt["packet_counter"])
        assert got.hex() == pkt["encrypted_payload_and_mic"], name


def test_encryption_rejected_without_key() -> None:
    pair = Pair()
    pair.c.request(Proc.ENCRYPTION, 0, rand=bytes(8), ediv=0, ltk=bytes(16))
    pair.pump()
    assert pair.p.ltk_negative_reply(0)
    pair.pump()
    assert pair.log[-1] == ("P>C", "LL_REJECT_EXT_IND")
    (change,) = pair.cl.events
    assert isinstance(change, ev.HCI_Encryption_Change_Event)
    assert (change.status, change.encryption_enabled) == (0x06, 0)
    assert not pair.cl.paused and not pair.pl.paused and not pair.cl.tx_enc


def test_key_refresh_pauses_then_restarts() -> None:
    pair = Pair()
    for _ in range(2):
        pair.c.request(Proc.ENCRYPTION, 0, rand=bytes(8), ediv=0, ltk=bytes(16))
        pair.pump()
        assert pair.p.ltk_reply(bytes(16), 0)
        pair.pump()
    names = [n for _, n in pair.log]
    assert names[5:9] == ["LL_PAUSE_ENC_REQ", "LL_PAUSE_ENC_RSP", "LL_PAUSE_ENC_RSP", "LL_ENC_REQ"]
    assert pair.cl.names() == ["HCI_Encryption_Change_Event", "HCI_Encryption_Key_Refresh_Complete_Event"]
    assert pair.pl.names()[-1] == "HCI_Encryption_Key_Refresh_Complete_Event"
    assert pair.cl.tx_enc and pair.cl.rx_dec and pair.pl.tx_enc and pair.pl.rx_dec


def test_encryption_unsupported_by_peer() -> None:
    pair = Pair(p_info={"features": 0})
    pair.c.request(Proc.ENCRYPTION, 0, rand=bytes(8), ediv=0, ltk=bytes(16))
    pair.pump()
    assert pair.log == [("C>P", "LL_ENC_REQ"), ("P>C", "LL_UNKNOWN_RSP")]
    (change,) = pair.cl.events
    assert isinstance(change, ev.HCI_Encryption_Change_Event) and change.status == 0x1A


def test_min_used_channels_makes_the_central_widen_its_map() -> None:
    pair = Pair(c_info={"features": 0x1FFFFF}, p_info={"features": 0x1FFFFF})
    pair.cl.channel_map = ChannelMap.from_channels([3, 4, 5])
    pair.c.on_control_pdu(cp.LL_MIN_USED_CHANNELS_IND(phys=1, min_used_channels=8).to_bytes(), 0)
    ((pdu, _),) = pair.cl.take()
    assert isinstance(pdu, cp.LL_CHANNEL_MAP_IND) and pdu.ch_m == (1 << 37) - 1
    assert pair.cl.maps == [(106, ChannelMap.all_channels())]
    # A Central that does not implement it answers LL_UNKNOWN_RSP.
    link = FakeLink(True)
    engine(link, features=0).on_control_pdu(cp.LL_MIN_USED_CHANNELS_IND(phys=1, min_used_channels=8).to_bytes(), 0)
    assert [p for p, _ in link.take()] == [cp.LL_UNKNOWN_RSP(unknown_type=0x19)]
