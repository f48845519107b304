"""The host's "sent" signal: ``on_sent(now)`` of ATT notifications and Write Commands.

A real :class:`~host.host.Host` runs against a controller written out by hand (the
power-on replies of ``test_hci_driver.CENTRAL_SESSION``, but LE_Read_Buffer_Size answers
11-octet buffers x 2, so a 27-octet L2CAP frame goes out as 3 fragments). The callback
must fire once per PDU, only when Number_Of_Completed_Packets covered its last
fragment, and never after a disconnection.
"""

from __future__ import annotations

import random
from typing import Callable

from host.hci import HciDriver, MarkedPdu, sent_marker
from host.host import Host
from host.l2cap import L2cap
from linklayer.address import Address

from .test_hci_driver import CENTRAL_SESSION

HANDLE = 0x0040
BUFFER_SIZE_REPLY = "04 0e 07 01 0220 00 0b00 02"  # LE_Read_Buffer_Size: 11 octets x 2
CONNECTION_COMPLETE = "04 3e 13 01 00 4000 00 01 554433 2211c0 2800 0000 9001 00"


def nocp(count: int, handle: int = HANDLE) -> bytes:
    """Number_Of_Completed_Packets (Vol 4 Part E 7.7.19) for one handle."""
    return bytes([0x13, 5, 1]) + handle.to_bytes(2, "little") + count.to_bytes(2, "little")


class Rig:
    """A host connected (as central, handle 0x0040) to a hand-written controller."""

    def __init__(self) -> None:
        self.host = Host(random.Random(1))
        self.acl: list[bytes] = []
        self.sent: list[tuple[str, int]] = []
        self.host.power_on(0)
        replies = [h for d, h in CENTRAL_SESSION if d == "C"]
        create = next(i for i, h in enumerate(replies) if h.replace(" ", "").startswith("040f0400010d20"))
        replies = [BUFFER_SIZE_REPLY if "0220" in h[:20] else h for h in replies[:create]]
        for reply in replies:
            self.controller(reply)
        self.host.connect(Address.parse("C0:11:22:33:44:55", random=True), 0)
        self.controller("04 0f 04 00 01 0d20")
        self.controller(CONNECTION_COMPLETE)
        self.take_acl()
        assert self.host.hci.le_acl_data_packet_length == 11
        assert HANDLE in self.host.hci.connections

    def controller(self, hex_packet: str | bytes, now: int = 0) -> None:
        raw = bytes.fromhex(hex_packet.replace(" ", "")) if isinstance(hex_packet, str) else bytes([4]) + hex_packet
        self.host.hci_from_controller(raw[0], raw[1:], now)
        self.drain()

    def drain(self) -> None:
        for h4_type, packet in self.host.take_hci():
            if h4_type == 2:
                self.acl.append(packet)

    def take_acl(self) -> list[str]:
        self.drain()
        out, self.acl = self.acl, []
        return [p.hex() for p in out]

    def on_sent(self, label: str) -> Callable[[int], None]:
        return lambda now: self.sent.append((label, now))

#: ATT_HANDLE_VALUE_NTF of handle 0x002A with 20 value octets, in a basic frame on CID
#: 0x0004: 27 octets, cut into ACL fragments of 11, 11 and 5 octets (Vol 4 Part E 5.4.2:
#: handle 0x040 + PB 0b00 first, 0b01 continuing).
VALUE = bytes(range(20))
FRAME = bytes.fromhex("1700 0400" + "1b 2a00") + VALUE
FRAGMENTS = [
    "4000 0b00" + FRAME[:11].hex(),
    "4010 0b00" + FRAME[11:22].hex(),
    "4010 0500" + FRAME[22:].hex(),
]


def fragments() -> list[str]:
    return [f.replace(" ", "") for f in FRAGMENTS]


def test_notification_on_sent_fires_after_its_last_fragment_completed() -> None:
    rig = Rig()
    assert rig.host.att_bearer(HANDLE).notify(0x002A, VALUE, on_sent=rig.on_sent("ntf"))
    assert rig.take_acl() == fragments()[:2]  # two buffers: the third fragment waits
    rig.controller(nocp(1), 10)
    assert rig.take_acl() == fragments()[2:] and rig.sent == []
    rig.controller(nocp(1), 20)
    assert rig.sent == []  # one fragment still in the controller
    rig.controller(nocp(1), 30)
    assert rig.sent == [("ntf", 30)]
    rig.controller(nocp(1), 40)  # a stray completion does not fire it again
    assert rig.sent == [("ntf", 30)]


def test_write_command_on_sent_and_one_callback_per_pdu_in_order() -> None:
    rig = Rig()
    bearer = rig.host.att_bearer(HANDLE)
    assert bearer.notify(0x002A, VALUE, on_sent=rig.on_sent("first"))
    assert bearer.write_without_response(0x002B, b"\x01\x02", on_sent=rig.on_sent("second"))
    assert bearer.notify(0x002A, b"x")  # no callback: nothing fires for it
    assert len(rig.take_acl()) == 2
    rig.controller(nocp(2), 5)
    # The notification's last fragment, then the Write Command (ATT 0x52, handle 0x002B,
    # 2 octets: a 9-octet frame in one fragment).
    assert rig.take_acl() == [fragments()[2], "40000900" + "05000400" + "522b000102"]
    assert rig.sent == []
    rig.controller(nocp(1), 6)  # the notification's last fragment
    assert rig.sent == [("first", 6)]
    rig.controller(nocp(2), 7)  # the Write Command and the third PDU together
    assert rig.sent == [("first", 6), ("second", 7)]


def test_no_callback_after_a_disconnection() -> None:
    rig = Rig()
    assert rig.host.att_bearer(HANDLE).notify(0x002A, VALUE, on_sent=rig.on_sent("ntf"))
    rig.controller(nocp(2), 10)
    rig.controller("04 05 04 00 4000 13", 20)  # Disconnection_Complete, remote user
    rig.controller(nocp(1), 30)  # late completions for the gone handle
    rig.controller(nocp(3), 40)
    assert rig.sent == []
    assert HANDLE not in rig.host.hci.connections


def test_closed_bearer_sends_nothing_and_never_calls_back() -> None:
    rig = Rig()
    bearer = rig.host.att_bearer(HANDLE)
    bearer.close(0)
    assert not bearer.notify(0x002A, b"x", on_sent=rig.on_sent("ntf"))
    assert not bearer.write_without_response(0x002B, b"x", on_sent=rig.on_sent("cmd"))
    assert rig.take_acl() == []
    rig.controller(nocp(1), 10)
    assert rig.sent == []


# -- the layers on their own -------------------------------------------------------------------


def driver_with_link() -> tuple[HciDriver, list[tuple[int, bytes]]]:
    out: list[tuple[int, bytes]] = []
    driver = HciDriver(lambda t, p: out.append((t, p)))
    driver.receive_packet(4, bytes.fromhex(CONNECTION_COMPLETE.replace(" ", ""))[1:], 0)
    driver.configure_acl(11, 8)
    return driver, out


def test_driver_on_sent_argument_and_when_sent_barrier() -> None:
    driver, out = driver_with_link()
    calls: list[tuple[str, int]] = []
    driver.send_acl(HANDLE, FRAME, 0, on_sent=lambda now: calls.append(("pdu", now)))
    assert driver.acl_unsent(HANDLE) == 3 and len(out) == 3
    assert driver.when_sent(HANDLE, lambda now: calls.append(("barrier", now)))
    assert not driver.when_sent(0x0041, lambda now: calls.append(("nobody", now)))
    driver.receive_packet(4, nocp(2), 50)
    assert calls == []
    driver.receive_packet(4, nocp(1), 60)
    assert calls == [("pdu", 60), ("barrier", 60)]
    assert driver.acl_unsent(HANDLE) == 0
    assert driver.when_sent(HANDLE, lambda now: calls.append(("idle", now)))  # nothing left
    assert calls[-1] == ("idle", 60)


def test_marker_rides_through_l2cap_send_fixed() -> None:
    frames: list[bytes] = []
    l2cap = L2cap(lambda handle, frame: frames.append(frame))
    l2cap.add_connection(HANDLE, "central", 0)
    calls: list[int] = []
    l2cap.send_fixed(HANDLE, 0x0004, MarkedPdu(b"\x1b\x2a\x00", calls.append))
    l2cap.send_fixed(HANDLE, 0x0004, b"\x1b\x2a\x00")
    assert frames == [bytes.fromhex("0300 0400 1b2a00")] * 2
    marker = sent_marker(frames[0])
    assert marker is not None and sent_marker(frames[1]) is None
    marker(7)
    assert calls == [7]
