"""``_bleio.PacketBuffer`` outgoing packets as on the nRF port, over the simulated radio.

One packet is in flight at a time; writes made meanwhile merge into one pending packet
(the header only when it is empty: the first write's packet leaves at once, so the second
write starts a new pending packet with its header); a write that does not fit the
pending packet blocks until it left; ``flush()`` waits until everything went out.
"""

from __future__ import annotations

from pathlib import Path

from host.events import Notification

from .rig import run_world
from .test_adapter import ATTEMPT
from .test_buffers import client

C = "_bleio.Characteristic"


def server(max_length: int, script: str) -> str:
    """A server with characteristic 0x3333 (NOTIFY | WRITE_NO_RESPONSE) whose PacketBuffer
    ``pb`` is ready (a client subscribed) when ``script`` runs."""
    return ATTEMPT + f"""
svc = _bleio.Service(_bleio.UUID(0x1111))
chara = {C}.add_to_service(svc, _bleio.UUID(0x3333), properties={C}.NOTIFY | {C}.WRITE_NO_RESPONSE,
                           max_length={max_length})
pb = _bleio.PacketBuffer(chara, buffer_size=8)
adapter.start_advertising(b"\\x02\\x01\\x06\\x05\\x09serv")
while True:
    try:
        pb.outgoing_packet_length
        break
    except ValueError:
        time.sleep(0.01)
""" + script


#: A client that subscribes through a PacketBuffer and prints every packet it receives.
READER = client("""
pb = _bleio.PacketBuffer(chars[0x3333], buffer_size=16)
buf = bytearray(64)
end = time.monotonic() + 3
while time.monotonic() < end:
    n = pb.readinto(buf)
    if n:
        print("got", bytes(buf[:n]))
""")


def test_tight_writes_merge_into_the_pending_packet_spaced_writes_do_not(tmp_path: Path) -> None:
    script = """
print("returns", [pb.write(d, header=b"H:") for d in (b"a1", b"b2", b"c3", b"d4", b"e5")])
time.sleep(0.5)
for d in (b"f6", b"g7"):
    print("spaced", pb.write(d, header=b"H:"))
    time.sleep(0.5)
"""
    world = run_world(tmp_path, {"serv": server(20, script), "cli": READER}, duration="5s")
    assert world.failures("serv") == [] and world.failures("cli") == []
    # The first write goes out at once with its header; the second starts the (empty)
    # pending packet with the header, the next three join it without one, and they all
    # leave together when the first packet was sent.
    assert world.output("serv") == ["returns [4, 4, 2, 2, 2]", "spaced 4", "spaced 4"]
    assert world.output("cli") == [
        "got b'H:a1'",
        "got b'H:b2c3d4e5'",
        "got b'H:f6'",
        "got b'H:g7'",
    ]


def test_a_write_that_does_not_fit_blocks_until_the_pending_packet_left(tmp_path: Path) -> None:
    script = """
print("w1", pb.write(b"aaaa", header=b"H"))
print("w2", pb.write(b"bb", header=b"H"))
print("w3", pb.write(b"cc", header=b"H"))
print("before")
print("w4", pb.write(b"dddd", header=b"H"))
print("after")
"""
    world = run_world(tmp_path, {"serv": server(8, script), "cli": READER}, duration="5s")
    assert world.output("serv") == ["w1 5", "w2 3", "w3 2", "before", "w4 5", "after"]
    # 8 octets of pending packet: "Hbbcc" leaves no room for "dddd", which waits for it to
    # leave and then starts a new pending packet with the header.
    assert world.output("cli") == ["got b'Haaaa'", "got b'Hbbcc'", "got b'Hdddd'"]
    times = dict((text, t) for t, text in world.timed_output("serv"))
    assert times["w1 5"] == times["w3 2"] == times["before"]  # no wait while it fits
    got = [t for t, e in world.events_of("cli", Notification)]
    # w4 returned after the first packet went out (its pending one left), which the
    # client saw; the client got "Hdddd" afterwards.
    assert times["before"] < got[0] <= times["w4 5"] < got[2]


def test_flush_returns_once_everything_went_out(tmp_path: Path) -> None:
    script = """
pb.write(b"one", header=b"#")
pb.write(b"two", header=b"#")
print("written")
pb.flush()
print("flushed")
pb.flush()
print("flushed again")
"""
    world = run_world(tmp_path, {"serv": server(20, script), "cli": READER}, duration="5s")
    assert world.output("cli") == ["got b'#one'", "got b'#two'"]
    times = dict((text, t) for t, text in world.timed_output("serv"))
    received = [t for t, e in world.events_of("cli", Notification)]
    assert times["written"] < received[0] < received[1] < times["flushed"]
    assert times["flushed again"] == times["flushed"]  # nothing left: no wait


def test_client_write_commands_merge_the_same_way(tmp_path: Path) -> None:
    script = """
buf = bytearray(64)
end = time.monotonic() + 3
while time.monotonic() < end:
    n = pb.readinto(buf)
    if n:
        print("got", bytes(buf[:n]))
"""
    writer = client("""
pb = _bleio.PacketBuffer(chars[0x3333], buffer_size=4)
print("returns", [pb.write(d, header=b">") for d in (b"1", b"2", b"3")])
pb.flush()
print("flushed")
""")
    world = run_world(tmp_path, {"serv": server(20, script), "cli": writer}, duration="5s")
    assert world.output("cli") == ["returns [2, 2, 1]", "flushed"]
    assert world.output("serv") == ["got b'>1'", "got b'>23'"]
