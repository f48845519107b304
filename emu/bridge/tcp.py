"""H4 over TCP: ``tcp-client:HOST:PORT`` connects, ``tcp-server:HOST:PORT`` listens.

Theory of operation
-------------------
Plain H4 on the socket, no extra framing (what Bumble, Zephyr's and Android's virtual
controllers speak). The client connects when opened, so a refused connection is an
error at once ("nothing is listening on ..."). The server binds and listens when opened
(port 0 picks a free port: :attr:`TcpServerTransport.address` tells which) and its reader
thread accepts one client; packets sent before the client arrives are kept and written
when it does. The peer closing the connection is the transport lost.
"""

from __future__ import annotations

import select
import socket

from .h4stream import StreamTransport
from .transports import Role, TcpClientSpec, TcpServerSpec, TransportError

#: How long a reader waits in one call, so that closing is noticed.
POLL_S = 0.1
CONNECT_TIMEOUT_S = 5.0


def _nodelay(sock: socket.socket) -> None:
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:  # pragma: no cover - not every socket family has it
        pass


class _SocketStream(StreamTransport):
    sock: socket.socket | None = None

    def _read_chunk(self) -> bytes | None:
        sock = self.sock
        if sock is None:
            return b""
        ready, _, _ = select.select([sock], [], [], POLL_S)
        if not ready:
            return None
        return sock.recv(65536)

    def _write(self, frame: bytes) -> None:
        if self.sock is None:
            raise OSError("not connected")
        self.sock.sendall(frame)

    def _close_socket(self) -> None:
        sock, self.sock = self.sock, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


class TcpClientTransport(_SocketStream):
    """H4 over a TCP connection blesim opens."""

    def __init__(self, spec: TcpClientSpec, role: Role, *, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
        super().__init__(spec, role)
        self.tcp_spec = spec
        try:
            self.sock = socket.create_connection((spec.host, spec.port), timeout=timeout_s)
        except ConnectionRefusedError:
            raise TransportError(f"{spec}: connection refused: nothing is listening on {spec.host} port {spec.port}") from None
        except socket.timeout:
            raise TransportError(f"{spec}: no answer from {spec.host} port {spec.port} within {timeout_s:g} s") from None
        except OSError as exc:
            raise TransportError(f"{spec}: cannot connect: {exc.strerror or exc}") from None
        self.sock.settimeout(None)
        _nodelay(self.sock)

    def _eof_reason(self) -> str:
        return f"the other side closed the TCP connection to {self.tcp_spec.host} port {self.tcp_spec.port}"

    def _close(self) -> None:
        self._close_socket()


class TcpServerTransport(_SocketStream):
    """H4 over the first TCP connection accepted on a listening socket."""

    def __init__(self, spec: TcpServerSpec, role: Role) -> None:
        super().__init__(spec, role)
        self.tcp_spec = spec
        self.connected = False
        self.peer: str | None = None
        try:
            infos = socket.getaddrinfo(spec.host or None, spec.port, type=socket.SOCK_STREAM,
                                       flags=socket.AI_PASSIVE)
        except socket.gaierror as exc:
            raise TransportError(f"{spec}: unknown host {spec.host!r}: {exc.strerror}") from None
        family, kind, proto, _, address = infos[0]
        listener = socket.socket(family, kind, proto)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(address)
            listener.listen(1)
        except OSError as exc:
            listener.close()
            raise TransportError(f"{spec}: cannot listen: {exc.strerror or exc}") from None
        self.listener: socket.socket | None = listener
        name = listener.getsockname()
        #: The (host, port) actually bound (port 0 in the spec: the one picked).
        self.address: tuple[str, int] = (str(name[0]), int(name[1]))

    @property
    def description(self) -> str:
        host, port = self.address
        return f"tcp-server:{host if ':' not in host else f'[{host}]'}:{port}"

    def _wait_connected(self) -> bool:
        while not self.closing:
            listener = self.listener
            if listener is None:
                return False
            try:
                ready, _, _ = select.select([listener], [], [], POLL_S)
                if not ready:
                    continue
                sock, peer = listener.accept()
            except (OSError, ValueError):
                if self.closing:
                    return False
                raise
            _nodelay(sock)
            self.sock = sock
            self.peer = f"{peer[0]}:{peer[1]}"
            listener.close()  # one client per served controller
            self.listener = None
            self._set_connected()
            return True
        return False

    def _eof_reason(self) -> str:
        return f"the client {self.peer} closed its TCP connection"

    def _close(self) -> None:
        listener, self.listener = self.listener, None
        if listener is not None:
            listener.close()
        self._close_socket()


__all__ = ["TcpClientTransport", "TcpServerTransport"]
