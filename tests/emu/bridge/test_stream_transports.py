"""H4 over TCP, a pty and a serial port, against plain sockets and file descriptors."""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest

from emu.bridge.pty import PtyTransport
from emu.bridge.serial import SerialTransport
from emu.bridge.tcp import TcpClientTransport, TcpServerTransport
from emu.bridge.transports import (
    HciTransport,
    PtySpec,
    SerialSpec,
    TcpClientSpec,
    TcpServerSpec,
    TransportError,
)

RESET = bytes.fromhex("01030c00")
RESET_COMPLETE = bytes.fromhex("040e0401030c00")


class Collector:
    """The two callbacks of a started transport, thread-safe, with bounded waits."""

    def __init__(self, transport: HciTransport) -> None:
        self.packets: list[tuple[int, bytes]] = []
        self.lost: list[str] = []
        self.changed = threading.Condition()
        transport.start(self._packet, self._lost)

    def _packet(self, h4_type: int, packet: bytes) -> None:
        with self.changed:
            self.packets.append((h4_type, packet))
            self.changed.notify_all()

    def _lost(self, reason: str) -> None:
        with self.changed:
            self.lost.append(reason)
            self.changed.notify_all()

    def wait(self, predicate: object, timeout: float = 5.0) -> bool:
        with self.changed:
            return self.changed.wait_for(predicate, timeout)  # type: ignore[arg-type]


def recv_exactly(sock: socket.socket, n: int) -> bytes:
    sock.settimeout(5)
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        assert chunk
        data += chunk
    return data


def test_server_serves_a_controller_to_a_tcp_host() -> None:
    server = TcpServerTransport(TcpServerSpec("127.0.0.1", 0), "controller")
    host, port = server.address
    assert port != 0 and server.description == f"tcp-server:127.0.0.1:{port}"
    got = Collector(server)
    # An event sent before the host connects is kept and written on connection.
    server.send(0x04, RESET_COMPLETE[1:])
    client = socket.create_connection((host, port))
    try:
        assert recv_exactly(client, len(RESET_COMPLETE)) == RESET_COMPLETE
        # Commands whole, then split in two sends, then with garbage in between.
        client.sendall(RESET)
        client.sendall(RESET[:2])
        client.sendall(RESET[2:] + b"\x00\x77" + RESET)
        assert got.wait(lambda: len(got.packets) == 3)
        assert got.packets == [(0x01, RESET[1:])] * 3
        assert server.decoder.discarded == 2
        client.close()
        assert got.wait(lambda: got.lost)
        assert got.lost[0].startswith("the client 127.0.0.1:") and "closed its TCP connection" in got.lost[0]
        server.send(0x04, RESET_COMPLETE[1:])  # after the loss: dropped, not raised
    finally:
        server.close()


def test_client_reaches_a_controller_and_notices_it_closing() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    client = TcpClientTransport(TcpClientSpec("127.0.0.1", port), "host")
    peer, _ = listener.accept()
    got = Collector(client)
    try:
        client.send(0x01, RESET[1:])
        assert recv_exactly(peer, 4) == RESET
        for octet in RESET_COMPLETE:  # the controller answers one octet at a time
            peer.sendall(bytes([octet]))
        assert got.wait(lambda: got.packets == [(0x04, RESET_COMPLETE[1:])])
        peer.close()
        assert got.wait(lambda: got.lost)
        assert got.lost == [f"the other side closed the TCP connection to 127.0.0.1 port {port}"]
    finally:
        client.close()
        listener.close()


def test_garbage_instead_of_h4_loses_the_transport_clearly() -> None:
    server = TcpServerTransport(TcpServerSpec("127.0.0.1", 0), "host")
    got = Collector(server)
    client = socket.create_connection(server.address)
    try:
        client.sendall(b"AT+VERSION?\r\n" * 100)  # a modem, not a Bluetooth controller
        assert got.wait(lambda: got.lost)
        assert got.lost[0].startswith("H4 framing lost: ") and "not H4 packets in a row" in got.lost[0]
    finally:
        client.close()
        server.close()


def test_client_refused_says_nothing_listens() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # a port nobody listens on
    with pytest.raises(TransportError, match=f"connection refused: nothing is listening on 127.0.0.1 port {port}"):
        TcpClientTransport(TcpClientSpec("127.0.0.1", port), "host")


def test_server_port_in_use_is_an_error() -> None:
    taken = TcpServerTransport(TcpServerSpec("127.0.0.1", 0), "controller")
    try:
        with pytest.raises(TransportError, match="cannot listen"):
            TcpServerTransport(TcpServerSpec("127.0.0.1", taken.address[1]), "controller")
    finally:
        taken.close()


def test_pty_links_a_raw_terminal(tmp_path: object) -> None:
    link = os.path.join(str(tmp_path), "ble0")
    transport = PtyTransport(PtySpec(link), "controller")
    got = Collector(transport)
    assert os.path.islink(link) and transport.description.startswith(f"pty:{link} (-> /dev/pts/")
    fd = os.open(link, os.O_RDWR | os.O_NOCTTY)
    try:
        # Raw mode: 0x0d, 0x0a, 0x03 (^C), 0x11 (XON) pass unchanged in both directions.
        command = bytes.fromhex("01 0d0c 04 0a031100")
        os.write(fd, command[:3])
        os.write(fd, command[3:])
        assert got.wait(lambda: got.packets == [(0x01, command[1:])])
        event = bytes.fromhex("04 0e 06 01 0d 0c 00 0a 03")
        transport.send(0x04, event[1:])
        data = b""
        deadline = time.monotonic() + 5
        while len(data) < len(event) and time.monotonic() < deadline:
            data += os.read(fd, 64)
        assert data == event
    finally:
        os.close(fd)
        transport.close()
    assert not os.path.lexists(link)  # the link goes with the transport
    assert got.lost == []  # the other side closing a pty is not a loss


def test_serial_port_speaks_h4_and_notices_the_device_going() -> None:
    # A pty stands in for a USB-serial board: pyserial opens its secondary end as a tty.
    primary, secondary = os.openpty()
    path = os.ttyname(secondary)
    transport = SerialTransport(SerialSpec(path, 1_000_000, rtscts=False), "host")
    os.close(secondary)
    got = Collector(transport)
    try:
        transport.send(0x01, RESET[1:])
        data = b""
        deadline = time.monotonic() + 5
        while len(data) < len(RESET) and time.monotonic() < deadline:
            data += os.read(primary, 64)
        assert data == RESET
        os.write(primary, b"\x00" + RESET_COMPLETE)  # a stray octet first (line noise at open)
        assert got.wait(lambda: got.packets == [(0x04, RESET_COMPLETE[1:])])
        os.close(primary)  # the board is unplugged
        primary = -1
        assert got.wait(lambda: got.lost)
        assert got.lost[0].startswith("read failed: ")
    finally:
        if primary >= 0:
            os.close(primary)
        transport.close()


def test_vhci_registers_a_controller_and_carries_h4() -> None:
    import termios
    import tty

    from emu.bridge.transports import VhciSpec
    from emu.bridge.vhci import VhciTransport

    # A pty in raw mode plays /dev/vhci: the "kernel" reads the create request and answers
    # with the new adapter's index (hci3), then sends a command.
    kernel, device = os.openpty()
    tty.setraw(device, termios.TCSANOW)
    tty.setraw(kernel, termios.TCSANOW)
    requests: list[bytes] = []

    def kernel_side() -> None:
        requests.append(os.read(kernel, 2))
        os.write(kernel, bytes.fromhex("ff000300"))

    thread = threading.Thread(target=kernel_side, daemon=True)
    thread.start()
    transport = VhciTransport(VhciSpec(os.ttyname(device)))
    thread.join(5)
    try:
        assert requests == [bytes.fromhex("ff00")]
        assert transport.index == 3 and transport.description == "vhci (hci3)"
        got = Collector(transport)
        os.write(kernel, RESET)
        assert got.wait(lambda: got.packets == [(0x01, RESET[1:])])
        transport.send(0x04, RESET_COMPLETE[1:])
        assert os.read(kernel, 64) == RESET_COMPLETE
    finally:
        transport.close()
        os.close(kernel)
        os.close(device)


def test_vhci_missing_says_how_to_get_it() -> None:
    from emu.bridge.transports import VhciSpec
    from emu.bridge.vhci import VhciTransport

    with pytest.raises(TransportError, match="does not exist: this kernel offers no virtual HCI "
                                             r"\(load it with: sudo modprobe hci_vhci"):
        VhciTransport(VhciSpec("/dev/blesim-no-vhci"))
