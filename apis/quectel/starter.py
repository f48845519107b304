"""The starter that ``blesim new NAME --personality quectel`` writes.

Theory of operation
-------------------
:data:`STARTER` maps relative paths to file contents (``{name}`` is the scenario name):
a two-node world where a QuecPython GATT server ("{name}-srv", a counter characteristic
that notifies) and a QuecPython client find each other, connect, discover the service
and read the value, written in the style of the QuecPython examples (callbacks posting
to a ``queue.Queue`` handled by a ``_thread``) so that it is a template for real
firmware. Its expectations hold when it runs. ``emu.starters`` replaces ``{name}``
literally (no ``str.format``), so other braces are written as they are.
"""

from __future__ import annotations

__all__ = ["STARTER"]

_SCENARIO = """\
# {name}: a QuecPython GATT server and client (blesim starter, personality quectel).
# The server advertises "{name}-srv" with a service 0xFFF0 whose characteristic 0xFFF1
# counts up and notifies; the client scans for that name, connects, discovers the
# service and its characteristic, reads the value and prints the notifications.
name: {name}
seed: 1
duration: 10s
nodes:
  - name: server
    personality: quectel
    firmware: firmware/server.py
    position: [0, 0]
  - name: client
    personality: quectel
    firmware: firmware/main.py
    position: [3, 0]
expect:
  - {node: client, output: "^connected, connect_id=0$"}
  - {node: client, output: "^service 0xfff0 at 0x0001..0x0004$"}
  - {node: client, output: "^read 0xfff1: 0x00000000$"}
  - {node: client, output: "^notified: count=\\\\d+$", min_count: 2}
  - {node: server, no_errors: true}
  - {node: client, no_errors: true}
"""

_SERVER = """\
# {name} server: a counter characteristic (0xFFF1) in service 0xFFF0, notified every second.
import ble
import utime

NAME = "{name}-srv"
connected = []


def on_event(args):
    event_id, status = args[0], args[1]
    if event_id == 0 and status == 0:  # BLE started: build the table, advertise
        ble.setLocalName(0, NAME)
        ble.setAdvParam(0x80, 0xA0, 0, 0, 7, 0, 2, 1, 1)
        adv = bytearray([0x02, 0x01, 0x06, len(NAME) + 1, 0x09]) + NAME.encode()
        ble.setAdvData(adv)
        zeros = bytearray(16)
        ble.addService(1, 1, 1, 0xFFF0, zeros)
        ble.addChara(1, 1, 0x02 | 0x10, 1, 0xFFF1, zeros)
        ble.addCharaValue(1, 1, 0x0001, 1, 0xFFF1, zeros, bytearray(4))
        ble.addCharaDesc(1, 1, 0x0001 | 0x0002, 1, 0x2902, zeros, bytearray(2))
        ble.addOrClearService(1, 0)
        ble.advStart()
        print("advertising as", NAME)
    elif event_id == 16 and status == 0:
        connected.append(args[2])
        print("client connected, connect_id={}".format(args[2]))
    elif event_id == 17:
        if args[2] in connected:
            connected.remove(args[2])
        ble.advStart()


ble.serverInit(on_event)
ble.gattStart()
count = 0
while True:
    utime.sleep(1)
    count += 1
    value = count.to_bytes(4, "little")
    ble.changeCharaValue(1, 1, value)
    for cid in connected:
        ble.sendNotification(cid, 3, value)  # service at 1, declaration 2, value 3
"""

_CLIENT = """\
# {name} client: find "{name}-srv", connect, discover 0xFFF0 / 0xFFF1, read, print notifications.
import ble
import utime
import _thread
from queue import Queue

TARGET = "{name}-srv"
events = Queue(50)
state = {"cid": 0, "start": 0, "end": 0, "value_handle": 0}


def handler():
    while True:
        args = events.get()
        event_id, status = args[0], args[1]
        if event_id == 0 and status == 0:
            ble.setScanParam(1, 0x60, 0x30, 0, 0)
            ble.scanStart()
        elif event_id == 19 and args[3] == TARGET:
            ble.scanStop()
            ble.connect(args[4], args[5])
        elif event_id == 16 and status == 0:
            state["cid"] = args[2]
            print("connected, connect_id={}".format(args[2]))
        elif event_id == 26:
            ble.discoverAllService(state["cid"])
        elif event_id == 27 and args[4] == 0xFFF0:
            state["start"], state["end"] = args[2], args[3]
            print("service 0x{:04x} at 0x{:04x}..0x{:04x}".format(args[4], args[2], args[3]))
            ble.discoverAllChara(state["cid"], args[2], args[3])
        elif event_id == 28:
            data = args[3]
            state["value_handle"] = data[4] | (data[5] << 8)
            ble.readCharaByHandle(state["cid"], state["value_handle"], 0, 0)
        elif event_id == 32:
            print("read 0xfff1: 0x{}".format(args[3].hex()))
        elif event_id == 23:
            data = args[3]
            print("notified: count={}".format(int.from_bytes(data[2:], "little")))


_thread.start_new_thread(handler, ())
ble.clientInit(events.put)
ble.gattStart()
while True:
    utime.sleep(1)
"""

#: Relative path -> contents (``{name}``: the scenario name).
STARTER: dict[str, str] = {
    "{name}.yaml": _SCENARIO,
    "firmware/server.py": _SERVER,
    "firmware/main.py": _CLIENT,
}
