"""``_bleio.CharacteristicBuffer`` and ``_bleio.PacketBuffer`` in real worlds."""

from __future__ import annotations

from pathlib import Path

from .rig import run_world
from .test_adapter import ATTEMPT

C = "_bleio.Characteristic"

SERVER_HEAD = ATTEMPT + f"""
svc = _bleio.Service(_bleio.UUID(0x1111))
stream = {C}.add_to_service(svc, _bleio.UUID(0x2222), properties={C}.WRITE_NO_RESPONSE, max_length=20)
packets = {C}.add_to_service(svc, _bleio.UUID(0x3333), properties={C}.WRITE_NO_RESPONSE | {C}.NOTIFY,
                             max_length=16)
inbound = {C}.add_to_service(svc, _bleio.UUID(0x4444), properties={C}.WRITE_NO_RESPONSE, max_length=8)

def advertise_and_wait():
    adapter.start_advertising(b"\\x02\\x01\\x06\\x05\\x09serv")
    while not adapter.connected:
        pass
"""


def client(script: str) -> str:
    """A client that connects to "serv", finds service 0x1111 and runs ``script``."""
    return ATTEMPT + """
time.sleep(0.05)
for entry in adapter.start_scan(prefixes=b"\\x01\\x09", timeout=2):
    break
adapter.stop_scan()
conn = adapter.connect(entry.address, timeout=3)
(svc,) = conn.discover_remote_services((_bleio.UUID(0x1111),))
chars = dict((c.uuid.uuid16, c) for c in svc.characteristics)
""" + script


def test_characteristic_buffer_reads(tmp_path: Path) -> None:
    server = SERVER_HEAD + """
attempt("timeout", lambda: _bleio.CharacteristicBuffer(stream, timeout=-1))
attempt("size", lambda: _bleio.CharacteristicBuffer(stream, buffer_size=0))
attempt("type", lambda: _bleio.CharacteristicBuffer(5))
cb = _bleio.CharacteristicBuffer(stream, timeout=1, buffer_size=12)
advertise_and_wait()

def until(t):
    time.sleep(t - time.monotonic())

until(2)
print("waiting", cb.in_waiting)
t0 = time.monotonic()
print("read", cb.read(10), round(time.monotonic() - t0, 1))
print("read", cb.read(10), round(time.monotonic() - t0, 1))
until(6)
print("line", cb.readline())
t0 = time.monotonic()
print("line", cb.readline(), round(time.monotonic() - t0, 1))
until(10)
print("lines", list(cb))
until(13)
into = bytearray(8)
print("readinto", cb.readinto(into, 3), into)
cb.reset_input_buffer()
print("after reset", cb.in_waiting)
t1 = time.monotonic_ns()
cb.in_waiting
print("poll costs", time.monotonic_ns() - t1)
until(15)
print("read all", cb.read())
cb.deinit()
attempt("deinit read", lambda: cb.read(1))
attempt("deinit waiting", lambda: cb.in_waiting)
"""
    script = """
def until(t):
    time.sleep(t - time.monotonic())

s = chars[0x2222]
until(1)
s.value = b"abcd"
s.value = b"0123456789ABCDEF"
until(5)
s.value = b"line one\\nline two"
until(9)
s.value = b"a\\nb\\n"
until(12)
s.value = b"wxyz"
until(14)
s.value = b"12345"
s.value = b"6789"
"""
    world = run_world(tmp_path, {"serv": server, "cli": client(script)}, duration="20s")
    assert world.output("serv") == [
        "timeout ValueError timeout must be >= 0.0",
        "size ValueError buffer_size must be >= 1",
        "type TypeError characteristic must be of type Characteristic, not int",
        "waiting 12",
        "read b'abcd012345' 0.0",
        "read b'67' 2.0",
        "line b'line one\\n'",
        "line b'lin' 1.0",  # the 12-byte buffer dropped the rest
        "lines [b'a\\n', b'b\\n']",
        "readinto 3 bytearray(b'wxy\\x00\\x00\\x00\\x00\\x00')",
        "after reset 0",
        "poll costs 1000000",
        "read all b'123456789'",
        "deinit read ValueError Object has been deinitialized and can no longer be used. Create a new object.",
        "deinit waiting ValueError Object has been deinitialized and can no longer be used. Create a new object.",
    ]


def test_packet_buffer_both_ways(tmp_path: Path) -> None:
    server = SERVER_HEAD + """
attempt("size", lambda: _bleio.PacketBuffer(packets, buffer_size=0))
pb = _bleio.PacketBuffer(packets, buffer_size=2)
ro = _bleio.PacketBuffer(inbound, buffer_size=1)
print("unconnected write", pb.write(b"x"))
attempt("out length", lambda: pb.outgoing_packet_length)
print("in length", pb.incoming_packet_length, ro.incoming_packet_length, ro.outgoing_packet_length)
attempt("read-only write", lambda: ro.write(b"x"))
advertise_and_wait()
time.sleep(1)
buf = bytearray(16)
small = bytearray(2)
print("first", pb.readinto(buf), bytes(buf[:5]))
attempt("short", lambda: pb.readinto(small))
print("empty", pb.readinto(buf))
print("lengths", pb.outgoing_packet_length, pb.incoming_packet_length, pb.packet_size)
print("sent", pb.write(b"pong", header=b"H:"))
attempt("too long", lambda: pb.write(bytes(17)))
pb.deinit()
attempt("deinit", lambda: pb.readinto(buf))
"""
    script = """
p = chars[0x3333]
pb = _bleio.PacketBuffer(p, buffer_size=4, max_packet_size=16)
p.value = b"one".ljust(16, b".")
p.value = b"two".ljust(16, b".")
p.value = b"three".ljust(16, b".")
time.sleep(2)
buf = bytearray(16)
n = 0
while n == 0:
    n = pb.readinto(buf)
print("answer", bytes(buf[:n]))
print("client lengths", pb.incoming_packet_length, pb.outgoing_packet_length)
print("client sent", pb.write(b"hello"))
"""
    world = run_world(tmp_path, {"serv": server, "cli": client(script)}, duration="5s")
    assert world.output("serv") == [
        "size ValueError buffer_size must be >= 1",
        "unconnected write 0",
        "out length ValueError No connection: length cannot be determined",
        "in length 16 8 8",
        "read-only write BluetoothError Writes not supported on Characteristic",
        # buffer_size=2 packets of 16: "one" was dropped to make room for "three".
        "first 16 b'two..'",
        "short ValueError Buffer too short by 14 bytes",
        "empty 0",
        "lengths 16 16 16",
        "sent 6",
        "too long ValueError Total data to write is larger than outgoing_packet_length",
        "deinit ValueError Object has been deinitialized and can no longer be used. Create a new object.",
    ]
    assert world.output("cli") == ["answer b'H:pong'", "client lengths 509 16", "client sent 5"]
