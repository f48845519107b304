"""A malicious peer against the ATT bearer and GATT server/client, scripted and fuzzed.

The scripted acceptance sends raw bytes (malformed PDUs, unknown opcodes, invalid
handles and offsets, over-long values, requests while one is outstanding) and checks the
spec's answers. Hypothesis then feeds random bytes and random well-formed requests:
nothing may raise out of the bearer, every request gets exactly one answer that names
it, commands and notifications none, nothing exceeds ATT_MTU, and no stored value ever
exceeds 512 octets.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from host.att import AttBearer
from host.att_pdu import (
    ATT_ERROR_RSP,
    ATT_EXCHANGE_MTU_REQ,
    ATT_EXECUTE_WRITE_REQ,
    ATT_FIND_BY_TYPE_VALUE_REQ,
    ATT_FIND_INFORMATION_REQ,
    ATT_HANDLE_VALUE_CFM,
    ATT_PREPARE_WRITE_REQ,
    ATT_READ_BLOB_REQ,
    ATT_READ_BY_GROUP_TYPE_REQ,
    ATT_READ_BY_TYPE_REQ,
    ATT_READ_MULTIPLE_REQ,
    ATT_READ_MULTIPLE_VARIABLE_REQ,
    ATT_READ_REQ,
    ATT_SIGNED_WRITE_CMD,
    ATT_WRITE_CMD,
    ATT_WRITE_REQ,
    decode_att_pdu,
    is_command,
    is_request,
    method_type,
    response_opcode,
)
from host.gatt_client import GattClient, GattOperation
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


def build() -> GattServer:
    s = GattServer(max_prepare_writes=8)
    s.add_gap_service("fuzz", 0x0000)  # 1-5
    s.add_gatt_service()  # 6-13
    s.add_service(
        ServiceDef(
            UUID("6E400001-B5A3-F393-E0A9-E50E24DCCA9E"),
            (
                CharacteristicDef(UUID(0x2A19), P.READ | P.WRITE | P.NOTIFY | P.INDICATE, bytes(512)),
                CharacteristicDef(UUID("6E400002-B5A3-F393-E0A9-E50E24DCCA9E"), P.WRITE_WITHOUT_RESPONSE | P.READ, b"x", max_length=20),
                CharacteristicDef(UUID(0x2A00), P.READ, b"ro", fixed_length=True),
            ),
        )
    )
    return s


class Peer:
    def __init__(self, server: GattServer | None = None) -> None:
        self.server = server or build()
        self.out: list[bytes] = []
        self.bearer = AttBearer(0x40, self.out.append, self.server, local_mtu=517)

    def ask(self, data: bytes | str) -> list[bytes]:
        raw = bytes.fromhex(data.replace(" ", "")) if isinstance(data, str) else data
        self.out.clear()
        self.bearer.receive(raw, 0)
        sent = list(self.out)
        self.out.clear()
        return sent


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


# -- scripted acceptance ----------------------------------------------------------------


def test_malicious_peer_acceptance() -> None:
    """Value handle 16 holds 512 octets, 19 takes 20 octets at most, 21 is read-only."""
    peer = Peer()
    assert peer.ask("12 1000" + "00" * 21) == [h("01 12 0000 04")]  # 24 octets > ATT_MTU 23
    script = [
        ("02 0502", ["03 0502"]),  # ATT_MTU 517
        # malformed PDUs -> Invalid PDU naming the request; malformed commands ignored
        ("0a 10", ["01 0a 0000 04"]),
        ("04 0100", ["01 04 0000 04"]),
        ("10 0100 ffff 00", ["01 10 0000 04"]),
        ("0e 1000", ["01 0e 0000 04"]),  # Read Multiple with one handle
        ("18 02", ["01 18 0000 04"]),  # reserved Execute Write flags
        ("52 10", []),
        ("d2 1000 41", []),
        # unknown opcodes: requests -> Request Not Supported, commands ignored
        ("30 0102", ["01 30 0000 06"]),
        ("3f", ["01 3f 0000 06"]),
        ("7e 0102", []),
        ("fa", []),
        # invalid handles and ranges
        ("0a 0000", ["01 0a 0000 01"]),
        ("0a ffff", ["01 0a ffff 01"]),
        ("08 0000 ffff 0328", ["01 08 0000 01"]),
        ("08 0900 0800 0328", ["01 08 0900 01"]),
        ("12 eeee 00", ["01 12 eeee 01"]),
        # invalid offsets
        ("0c 1000 0102", ["01 0c 1000 07"]),
        ("16 1300 1400 41", ["17 1300 1400 41"]),
        ("18 01", ["01 18 1300 07"]),
        # over-long values, and a PDU longer than ATT_MTU
        ("12 1300" + "00" * 21, ["01 12 1300 0d"]),
        ("12 1000" + "00" * 509, ["13"]),
        ("12 1000" + "00" * 513, ["01 12 1000 0d"]),  # 516 octets: fits ATT_MTU, not 512
        ("12 1000" + "00" * 515, ["01 12 0000 04"]),  # 518 octets > ATT_MTU 517
        ("12 1500 0000", ["01 12 1500 03"]),
        # responses, confirmations and notifications nobody asked for are ignored
        ("0b 4142", []),
        ("01 0a 0100 0a", []),
        ("1e", []),
        ("1b 1000 41", []),
        # an indication is confirmed
        ("1d 1000 41", ["1e"]),
    ]
    for request, expected in script:
        assert peer.ask(request) == [h(e) for e in expected], request
    assert peer.server.get_value(16) == bytes(509)
    assert peer.server.get_value(19) == b"x"


def test_requests_while_one_is_outstanding() -> None:
    pending: list[Deferred] = []

    def defer(access: AttributeAccess) -> Deferred:
        pending.append(Deferred())
        return pending[-1]

    s = GattServer()
    s.add_service(ServiceDef(UUID(0x1234), (CharacteristicDef(UUID(0xAAAA), P.READ | P.WRITE, b"v", write_hook=defer),)))
    peer = Peer(s)
    assert peer.ask("12 0300 41") == []  # the application answers later
    for extra in ("0a 0300", "12 0300 42", "02 1700", "30"):
        assert peer.ask(extra) == []  # ignored: the peer broke the sequential protocol
    pending[0].complete()
    assert peer.out == [h("13")]
    assert s.get_value(3) == b"A"
    assert peer.ask("0a 0300") == [h("0b 41")]  # normal service resumes


# -- fuzzing ----------------------------------------------------------------------------


def check_answer(request: bytes, sent: list[bytes], mtu: int) -> None:
    """The bearer's rules for one received PDU."""
    opcode = request[0] if request else None
    for pdu in sent:
        assert len(pdu) <= max(mtu, 23)
        decode_att_pdu(pdu)  # everything we send decodes
    if opcode is None:
        assert sent == []
        return
    kind = method_type(opcode)
    request_like = is_request(opcode) or (kind is None and not is_command(opcode))
    if request_like:
        assert len(sent) == 1
        answer = decode_att_pdu(sent[0])
        if isinstance(answer, ATT_ERROR_RSP):
            assert answer.request_opcode_in_error == opcode
        else:
            assert answer.opcode == response_opcode(opcode)
    elif opcode == 0x1D and len(sent) == 1:
        assert isinstance(decode_att_pdu(sent[0]), ATT_HANDLE_VALUE_CFM)
    else:
        assert sent == []


def check_database(server: GattServer) -> None:
    for attr in server.db:
        assert len(attr.value) <= 512


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(min_size=0, max_size=80), max_size=6), st.binary(max_size=600))
def test_random_bytes_into_a_server_bearer(prefix: list[bytes], data: bytes) -> None:
    peer = Peer()
    for pdu in prefix + [data]:
        mtu_before = peer.bearer.mtu
        sent = peer.ask(pdu)
        check_answer(pdu, sent, mtu_before)
    check_database(peer.server)


@st.composite
def opcode_led(draw: Any) -> bytes:
    """Bytes after a valid opcode, so most inputs get past the first check."""
    opcode = draw(st.sampled_from([0x02, 0x04, 0x06, 0x08, 0x0A, 0x0C, 0x0E, 0x10, 0x12, 0x16, 0x18, 0x20, 0x52, 0xD2, 0x1D, 0x1E, 0x1B, 0x23]))
    return bytes((opcode,)) + bytes(draw(st.binary(max_size=40)))


handles = st.one_of(st.integers(0, 24), st.just(0xFFFF), st.integers(0, 0xFFFF))
values = st.binary(max_size=600)
uuids = st.sampled_from([UUID(0x2800), UUID(0x2801), UUID(0x2803), UUID(0x2902), UUID(0x2A19), UUID("6E400002-B5A3-F393-E0A9-E50E24DCCA9E")])

requests = st.one_of(
    st.builds(ATT_EXCHANGE_MTU_REQ, st.integers(0, 0xFFFF)),
    st.builds(ATT_FIND_INFORMATION_REQ, handles, handles),
    st.builds(ATT_FIND_BY_TYPE_VALUE_REQ, handles, handles, st.sampled_from([UUID(0x2800), UUID(0x2902)]), st.binary(max_size=18)),
    st.builds(ATT_READ_BY_TYPE_REQ, handles, handles, uuids),
    st.builds(ATT_READ_REQ, handles),
    st.builds(ATT_READ_BLOB_REQ, handles, st.integers(0, 700)),
    st.builds(ATT_READ_MULTIPLE_REQ, st.lists(handles, min_size=2, max_size=6).map(tuple)),
    st.builds(ATT_READ_MULTIPLE_VARIABLE_REQ, st.lists(handles, min_size=2, max_size=6).map(tuple)),
    st.builds(ATT_READ_BY_GROUP_TYPE_REQ, handles, handles, uuids),
    st.builds(ATT_WRITE_REQ, handles, values),
    st.builds(ATT_WRITE_CMD, handles, values),
    st.builds(ATT_SIGNED_WRITE_CMD, handles, st.binary(max_size=20), st.binary(min_size=12, max_size=12)),
    st.builds(ATT_PREPARE_WRITE_REQ, handles, st.integers(0, 600), st.binary(max_size=40)),
    st.builds(ATT_EXECUTE_WRITE_REQ, st.sampled_from([0, 1])),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(requests.map(lambda p: p.to_bytes()), opcode_led()), min_size=1, max_size=25))
def test_random_requests_into_a_server_bearer(pdus: list[bytes]) -> None:
    peer = Peer()
    peer.server.signature_checker = lambda conn, data, sig: sig[0] & 1 == 1
    for pdu in pdus:
        mtu_before = peer.bearer.mtu
        sent = peer.ask(pdu)
        check_answer(pdu, sent, mtu_before)
    check_database(peer.server)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.binary(max_size=60), opcode_led().map(lambda b: bytes((b[0] | 1,)) + b[1:])), max_size=12))
def test_random_bytes_into_a_client_with_operations_pending(pdus: list[bytes]) -> None:
    """A hostile server: random responses while discovery, reads and writes wait."""
    out: list[bytes] = []
    bearer = AttBearer(0x41, out.append, GattServer())
    client = GattClient(bearer)
    ops: list[GattOperation[Any]] = [
        client.discover_all(0),
        client.read_long(3, 0),
        client.read_multiple_variable([1, 2], 0),
        client.reliable_write([(3, b"abc")], 0),
    ]
    for i, pdu in enumerate(pdus):
        bearer.receive(pdu, i)
        for sent in out:
            decode_att_pdu(sent)
            assert len(sent) <= bearer.mtu
        out.clear()
    bearer.handle_timer(10**13)
    assert all(op.done for op in ops)  # completed or failed; nothing hangs, nothing raised
