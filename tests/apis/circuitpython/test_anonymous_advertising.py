"""``start_advertising(..., anonymous=True)``: a fresh non-resolvable private address.

The advertiser advertises anonymously twice, then normally, one second each; a scanning
node's host reports show which address each phase used on the air.
"""

from __future__ import annotations

from pathlib import Path

from host.events import AdvertisingReport
from linklayer.address import Address
from tests.apis.circuitpython.rig import run_world

ADVERTISER = """
import _bleio, time
a = _bleio.adapter
print('id', bytes(a.address.address_bytes).hex(), a.address.type)
data = b'\\x02\\x01\\x06\\x05\\x09ANON'
for phase, anonymous in (('one', True), ('two', True), ('three', False)):
    print('phase', phase)
    a.start_advertising(data, anonymous=anonymous, interval=0.1)
    time.sleep(1)
    a.stop_advertising()
print('done')
"""

SCANNER = """
import _bleio
for entry in _bleio.adapter.start_scan(timeout=4, minimum_rssi=-120):
    pass
"""


def test_anonymous_advertising_uses_a_fresh_nrpa_and_normal_advertising_the_identity(tmp_path: Path) -> None:
    world = run_world(tmp_path, {"adv": ADVERTISER, "scan": SCANNER}, duration="5s")
    assert world.failures("adv") == [] and world.failures("scan") == []
    out = world.timed_output("adv")
    identity_hex, identity_type = next(text.split()[1:] for _, text in out if text.startswith("id "))
    starts = {text.split()[1]: t for t, text in out if text.startswith("phase ")}
    end = next(t for t, text in out if text == "done")
    bounds = {"one": (starts["one"], starts["two"]), "two": (starts["two"], starts["three"]),
              "three": (starts["three"], end)}
    seen: dict[str, set[Address]] = {phase: set() for phase in bounds}
    for t, report in world.events_of("scan", AdvertisingReport):
        if report.address is None or b"ANON" not in report.data:
            continue
        for phase, (low, high) in bounds.items():
            if low <= t < high:
                seen[phase].add(report.address)
    one, two, three = (seen[p] for p in ("one", "two", "three"))
    assert len(one) == 1 and len(two) == 1 and len(three) == 1
    (first,), (second,), (normal,) = one, two, three
    for address in (first, second):
        assert address.random and address.value[5] >> 6 == 0b00  # non-resolvable private
    assert first != second
    assert normal.value.hex() == identity_hex and normal.address_type == (0 if identity_type == "0" else 1)
