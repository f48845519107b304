"""GATT client discovery results arrive as their ATT responses do, as on a board.

Over the simulated radio at the default ATT_MTU of 23, a MicroPython client discovers a
MicroPython server's services, characteristics and descriptors and stamps every IRQ with
``time.ticks_us()``. Each ``_IRQ_GATTC_*_RESULT`` must come at the instant of the
response that carries it (Read By Group Type, Read By Type, Find Information), so the
results of one procedure spread over several connection events, in handle order, with
``_DONE`` last. The characteristic result is one behind (its end handle is the next
declaration minus one), so the response carrying three declarations reports the
previous pending one and the first two; the last one is reported at the end.

The host half is checked directly too: ``GattClient``'s ``on_results`` batches, on the
in-memory two-bearer link of ``tests/host/test_gatt_client.py``.
"""

from __future__ import annotations

from itertools import groupby
from pathlib import Path
from typing import Any

from host.att import AttError, AttTimeoutError
from host.gatt_db import CharacteristicInfo, ServiceInfo
from host.uuid import UUID
from tests.apis.micropython.test_bluetooth_gatts import ADVERTISE, CONNECT, PRELUDE
from tests.apis.micropython.test_bluetooth_rig import failures, lines, run_nodes
from tests.host.test_gatt_client import Link, make_server

# -- over the simulated radio --------------------------------------------------------------

SERVER = PRELUDE + """
R, N = bluetooth.FLAG_READ, bluetooth.FLAG_NOTIFY
U = bluetooth.UUID
ble.gatts_register_services((
    (U(0x180F), ((U(0x2A19), R | N), (U(0x2A1A), R), (U(0x2A1B), R))),
    (U(0x180A), ((U(0x2A29), R), (U(0x2A24), R), (U(0x2A25), R), (U(0x2A26), R))),
    (U(0x181A), ((U(0x2A6E), R | N), (U(0x2A6F), R | N, ((U(0x2901), R),)))),
))
""" + ADVERTISE + """
time.sleep_ms(5000)
"""

CLIENT = PRELUDE + CONNECT + """
log = []
def timed(event, data):
    log.append((time.ticks_us(), event, data))
HANDLER = timed
def run(name, start, done_code):
    del log[:]
    start()
    while not any(e == done_code for _, e, _ in log):
        time.sleep_ms(1)
    for t, e, d in log:
        print(name, e, t, tuple(bytes(x) if isinstance(x, memoryview) else x for x in d))
run('svc', lambda: ble.gattc_discover_services(conn), 10)
run('chr', lambda: ble.gattc_discover_characteristics(conn, 1, 0xFFFF), 12)
run('uuid', lambda: ble.gattc_discover_characteristics(conn, 1, 0xFFFF, bluetooth.UUID(0x2A6E)), 12)
run('dsc', lambda: ble.gattc_discover_descriptors(conn, 1, 0xFFFF), 14)
"""

#: The results as they were before the change (and as NimBLE gives them): the same
#: payloads, in this order.
SERVICES = [
    "(0, 10, 14, UUID(0x1800))",
    "(0, 15, 18, UUID(0x1801))",
    "(0, 19, 26, UUID(0x180f))",
    "(0, 27, 35, UUID(0x180a))",
    "(0, 36, 65535, UUID(0x181a))",
]
CHARACTERISTICS = [
    "(0, 12, 12, 2, UUID(0x2a00))",
    "(0, 15, 14, 2, UUID(0x2a01))",
    "(0, 19, 17, 32, UUID(0x2a05))",
    "(0, 22, 21, 18, UUID(0x2a19))",
    "(0, 24, 24, 2, UUID(0x2a1a))",
    "(0, 27, 26, 2, UUID(0x2a1b))",
    "(0, 29, 29, 2, UUID(0x2a29))",
    "(0, 31, 31, 2, UUID(0x2a24))",
    "(0, 33, 33, 2, UUID(0x2a25))",
    "(0, 36, 35, 2, UUID(0x2a26))",
    "(0, 39, 38, 18, UUID(0x2a6e))",
    "(0, 65535, 41, 18, UUID(0x2a6f))",
]
DESCRIPTOR_UUIDS = (
    [0x2800, 0x2803, 0x2A00, 0x2803, 0x2A01]
    + [0x2800, 0x2803, 0x2A05, 0x2902]
    + [0x2800, 0x2803, 0x2A19, 0x2902, 0x2803, 0x2A1A, 0x2803, 0x2A1B]
    + [0x2800, 0x2803, 0x2A29, 0x2803, 0x2A24, 0x2803, 0x2A25, 0x2803, 0x2A26]
    + [0x2800, 0x2803, 0x2A6E, 0x2902, 0x2803, 0x2A6F, 0x2902, 0x2901]
)
DESCRIPTORS = [f"(0, {handle}, UUID(0x{uuid:04x}))" for handle, uuid in zip(range(10, 44), DESCRIPTOR_UUIDS)]


def _procedures(out: list[str]) -> dict[str, list[tuple[int, int, str]]]:
    """``{name: [(event, ticks_us, payload), ...]}`` from the client's printed log."""
    found: dict[str, list[tuple[int, int, str]]] = {}
    for line in out:
        name, event, t, payload = line.split(" ", 3)
        found.setdefault(name, []).append((int(event), int(t), payload))
    return found


def _check(log: list[tuple[int, int, str]], result: int, done: int) -> list[int]:
    """Results then ``(conn, 0)`` done, times never going back; the size of each group of
    results raised at one instant."""
    assert [e for e, _, _ in log] == [result] * (len(log) - 1) + [done]
    assert log[-1][2] == "(0, 0)"
    times = [t for _, t, _ in log]
    assert times == sorted(times)
    results = log[:-1]
    assert results[0][1] < log[-1][1]  # the first results come well before _DONE
    return [len(list(group)) for _, group in groupby(t for _, t, _ in results)]


def test_discovery_results_arrive_response_by_response(tmp_path: Path) -> None:
    record = run_nodes(tmp_path, {"a": SERVER, "b": CLIENT}, duration="6s")
    assert failures(record) == []
    logs = _procedures(lines(record, "b"))

    svc = logs["svc"]
    assert [p for _, _, p in svc[:-1]] == SERVICES
    # Read By Group Type with 16-bit UUIDs: three services per response at ATT_MTU 23;
    # the second response ends at 0xFFFF, which ends the procedure (no further request).
    assert _check(svc, 9, 10) == [3, 2]
    assert svc[-2][1] == svc[-1][1]

    chr_ = logs["chr"]
    assert [p for _, _, p in chr_[:-1]] == CHARACTERISTICS
    # Read By Type, three 16-bit declarations per response: the first response reports
    # two (the third waits for its end handle), the next three each report the pending
    # one and two more, the last (0x2A6F) comes with the ATTRIBUTE_NOT_FOUND at the end.
    assert _check(chr_, 11, 12) == [2, 3, 3, 3, 1]
    assert chr_[-2][1] == chr_[-1][1]

    # UUID filter: 0x2A6E is reported as soon as the next declaration (0x2A6F, in the
    # same response) gives its end handle, one response before _DONE.
    by_uuid = logs["uuid"]
    assert [p for _, _, p in by_uuid[:-1]] == ["(0, 39, 38, 18, UUID(0x2a6e))"]
    assert _check(by_uuid, 11, 12) == [1]

    dsc = logs["dsc"]
    assert [p for _, _, p in dsc[:-1]] == DESCRIPTORS
    # Find Information with 16-bit UUIDs: five per response; _DONE with the final
    # ATTRIBUTE_NOT_FOUND, one exchange after the last results.
    assert _check(dsc, 13, 14) == [5, 5, 5, 5, 5, 5, 4]
    assert dsc[-2][1] < dsc[-1][1]
    # Handle order throughout.
    handles = [int(p.split(", ")[1]) for _, _, p in dsc[:-1]]
    assert handles == sorted(handles)


# -- the host half: on_results -----------------------------------------------------------


def test_host_reports_each_batch_at_its_response_before_on_done() -> None:
    server, _ = make_server()
    link = Link(server)  # no MTU exchange: ATT_MTU 23
    for start in ("services", "characteristics", "descriptors"):
        batches: list[tuple[int, list[Any]]] = []
        done: list[tuple[int, Any]] = []

        def on_results(batch: list[Any]) -> None:
            batches.append((link.now, batch))

        def on_done(outcome: Any) -> None:
            done.append((link.now, outcome))

        client = link.client
        if start == "services":
            op: Any = client.discover_primary_services(link.now, on_done=on_done, on_results=on_results)
        elif start == "characteristics":
            op = client.discover_characteristics(ServiceInfo(1, 0xFFFF, UUID(0x2800)), link.now, None, on_done,
                                                 on_results=on_results)
        else:
            span = CharacteristicInfo(1, 1, 0xFFFF, UUID(0x2800), 0)
            op = client.discover_descriptors(span, link.now, on_done, on_results=on_results)
        link.run()
        assert op.error is None, start
        assert len(done) == 1
        flat = [item for _, batch in batches for item in batch]
        assert flat == op.result, start  # the batches are the result, in order
        instants = [t for t, _ in batches]
        assert len(set(instants)) >= 2 and instants == sorted(instants), start
        assert instants[-1] <= done[0][0]
        assert all(batch for _, batch in batches)


def test_host_characteristics_are_one_behind_and_flushed_before_an_error() -> None:
    server, _ = make_server()
    link = Link(server)
    responses = 0

    def drop_after_first(pdu: bytes) -> bytes | None:
        nonlocal responses
        if pdu[0] == 0x09:  # ATT_READ_BY_TYPE_RSP
            responses += 1
            return pdu if responses == 1 else None
        return pdu

    link.tamper = drop_after_first
    batches: list[list[CharacteristicInfo]] = []
    done: list[object] = []
    link.client.discover_characteristics(
        ServiceInfo(1, 0xFFFF, UUID(0x2800)), link.now, None, done.append, on_results=batches.append
    )
    link.run()
    # The first response carries three declarations; two are complete.
    assert [len(b) for b in batches] == [2] and done == []
    first = batches[0]
    assert first[0].end_handle == first[1].declaration_handle - 1
    deadline = link.client_bearer.get_timer()
    assert deadline is not None
    link.client_bearer.handle_timer(deadline)
    # The timeout reports the pending third one (end of range) before on_done's error.
    assert [len(b) for b in batches] == [2, 1]
    assert batches[1][0].end_handle == 0xFFFF
    assert len(done) == 1 and isinstance(done[0], AttTimeoutError) and isinstance(done[0], AttError)


def test_host_uuid_filter_and_without_observer_unchanged() -> None:
    server, _ = make_server()
    link = Link(server)
    batches: list[list[CharacteristicInfo]] = []
    svc = ServiceInfo(1, 0xFFFF, UUID(0x2800))
    op = link.client.discover_characteristics(svc, link.now, UUID(0x2A19), on_results=batches.append)
    link.run()
    assert [c.uuid for b in batches for c in b] == [UUID(0x2A19), UUID(0x2A19)]
    assert [c for b in batches for c in b] == op.result
    plain = link.client.discover_characteristics(svc, link.now, UUID(0x2A19))
    link.run()
    assert plain.result == op.result
