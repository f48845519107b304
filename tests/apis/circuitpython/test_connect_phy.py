"""CircuitPython ``Adapter.connect`` asks for LE 2M and 251-octet PDUs, as the Nordic
port does after connecting (../shared/reference/circuitpython.md, "connect"), without
blocking ``connect()`` on either procedure (Vol 4 Part E 7.8.49, 7.8.33)."""

from __future__ import annotations

from pathlib import Path

from host.events import Connected, ConnectionUpdated, DataLengthChanged, PhyUpdated
from tests.apis.circuitpython.rig import run_world

PERIPHERAL = """
import _bleio
import time

adapter = _bleio.adapter
adapter.start_advertising(b"\\x02\\x01\\x06\\x07\\x09periph")
while not adapter.connected:
    pass
print("connected")
while adapter.connected:
    time.sleep(0.1)
"""

CENTRAL = """
import _bleio
import time

adapter = _bleio.adapter
target = None
for entry in adapter.start_scan(prefixes=b"\\x07\\x09periph", timeout=2):
    target = entry.address
    break
adapter.stop_scan()
connection = adapter.connect(target, timeout=5)
print("connected", connection.connected)
time.sleep(1)
print("still connected", connection.connected)
"""


def test_connect_brings_the_link_to_le_2m_and_251_octets(tmp_path: Path) -> None:
    world = run_world(tmp_path, {"periph": PERIPHERAL, "central": CENTRAL}, duration="3s")
    assert world.failures("central") == [] and world.failures("periph") == []
    assert world.output("central") == ["connected True", "still connected True"]
    (t_conn, conn), = world.events_of("central", Connected)
    handle = conn.handle
    (t_printed, _), _ = world.timed_output("central")
    phy = [(t, e) for t, e in world.events_of("central", PhyUpdated)]
    assert [e for _, e in phy] == [PhyUpdated(handle, 2, 2)]
    assert [e.tx_phy for _, e in world.events_of("periph", PhyUpdated)] == [2]
    lengths = [e for _, e in world.events_of("central", DataLengthChanged)]
    assert lengths and (lengths[-1].max_tx_octets, lengths[-1].max_tx_time_ns) == (251, 2_120_000)
    peer_lengths = [e for _, e in world.events_of("periph", DataLengthChanged)]
    assert peer_lengths and peer_lengths[-1].max_rx_octets == 251
    # connect() returned before the PHY update completed: it did not wait for it.
    assert t_conn <= t_printed < phy[0][0]
    # The peripheral's own request for a 30 ms interval still succeeds (no collision).
    assert [e.interval_ns for _, e in world.events_of("central", ConnectionUpdated)] == [30_000_000]
    gap_conn = world.host("central").gap.connections[handle]
    assert (gap_conn.tx_phy, gap_conn.rx_phy, gap_conn.max_tx_octets) == (2, 2, 251)
