"""A raw HTTP/1.1 server on 127.0.0.1 whose every answer is written by hand, one per connection.

It logs what it received (method, request target, headers, when) and each connection's life (when
it opened and closed, how many bytes were written to it), so tests can assert what the scanner
sent, how fast, and that it hung up.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

from targets.raw import tcp_server

MAX_HEAD = 64 * 1024
ROOT_LINKS = {"users": "/users", "orders": "/orders?page=1", "health": "/health"}


@dataclass
class Received:
    at: float  # time.monotonic() when the request head was complete
    method: str
    target: str
    headers: dict[str, str]


@dataclass
class Connection:
    opened: float
    closed: float | None = None
    sent: int = 0

    @property
    def lifetime(self) -> float:
        return (self.closed or time.monotonic()) - self.opened


@dataclass
class Log:
    requests: list[Received] = field(default_factory=list)
    connections: list[Connection] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def times(self) -> list[float]:
        with self.lock:
            return sorted(r.at for r in self.requests)


class Peer:
    """The accepted socket, counting what is written to it."""

    def __init__(self, sock: socket.socket, connection: Connection) -> None:
        self.sock = sock
        self._connection = connection

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)
        self._connection.sent += len(data)

    def trickle(self, data: bytes, every: float = 1.0, limit: float = 120.0) -> None:
        """Send `data` one byte per `every` seconds until the client hangs up (or `limit`)."""
        ends = time.monotonic() + limit
        for byte in data:
            if time.monotonic() > ends:
                return
            self.send(bytes([byte]))
            time.sleep(every)


Behaviour = Callable[[Received, Peer], None]


@dataclass
class Wire:
    url: str
    port: int
    log: Log


def read_head(sock: socket.socket, timeout: float = 10.0) -> Received | None:
    """The request line and headers; None if the client sent no complete head."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk or len(data) > MAX_HEAD:
            return None
        data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    line, *fields = head.split("\r\n")
    method, _, rest = line.partition(" ")
    target = rest.rsplit(" ", 1)[0]
    headers = {}
    for item in fields:
        name, _, value = item.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Received(time.monotonic(), method, target, headers)


def serve_connection(sock: socket.socket, behaviour: Behaviour, log: Log) -> None:
    connection = Connection(time.monotonic())
    with log.lock:
        log.connections.append(connection)
    try:
        request = read_head(sock)
        if request is None:
            return
        with log.lock:
            log.requests.append(request)
        behaviour(request, Peer(sock, connection))
    finally:
        connection.closed = time.monotonic()


@contextmanager
def http_server(behaviour: Behaviour) -> Iterator[Wire]:
    """Serve `behaviour` for every connection; yields the base URL and the log."""
    log = Log()
    with tcp_server(lambda sock: serve_connection(sock, behaviour, log)) as port:
        yield Wire(f"http://127.0.0.1:{port}", port, log)


def head(
    status: int = 200,
    headers: Iterable[tuple[str, str]] = (),
    *,
    length: int | None = None,
    reason: str | None = None,
) -> bytes:
    """A status line and header section, `Connection: close` included."""
    lines = [f"HTTP/1.1 {status} {reason if reason is not None else _REASONS.get(status, 'X')}"]
    lines += [f"{name}: {value}" for name, value in headers]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def respond(
    peer: Peer,
    status: int = 200,
    body: bytes = b"",
    headers: Iterable[tuple[str, str]] = (("Content-Type", "application/json"),),
) -> None:
    peer.send(head(status, headers, length=len(body)) + body)


def root_page(_: Received, peer: Peer) -> None:
    """A well-behaved JSON root that links to a few endpoints, for the crawl to follow."""
    respond(peer, 200, json.dumps({"service": "hostile", "links": ROOT_LINKS}).encode())


def beyond_root(behaviour: Behaviour) -> Behaviour:
    """Answer `/` like a healthy API, everything else with `behaviour`: recon succeeds, the rest
    of the scan meets the misbehaviour."""

    def serve(request: Received, peer: Peer) -> None:
        (root_page if request.target == "/" else behaviour)(request, peer)

    return serve


def hang_up_quietly(behaviour: Behaviour) -> Behaviour:
    """`behaviour`, where the client closing the connection is the expected end."""

    def serve(request: Received, peer: Peer) -> None:
        with suppress(OSError):
            behaviour(request, peer)

    return serve


_REASONS = {
    200: "OK",
    301: "Moved Permanently",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
