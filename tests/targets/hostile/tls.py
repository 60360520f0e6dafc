"""TLS listeners that fail the handshake or never finish it."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable

from targets.hostile.wire import Log, root_page, serve_connection

Handler = Callable[[socket.socket], None]


def hello_then_close(sock: socket.socket) -> None:
    """Read the first bytes of the ClientHello, then close: a handshake that fails at once."""
    sock.settimeout(10)
    sock.recv(16)


def stall(sock: socket.socket, *, limit: float = 120.0) -> None:
    """Read the ClientHello and never answer (until the client leaves, or `limit`)."""
    sock.settimeout(limit)
    ends = time.monotonic() + limit
    while time.monotonic() < ends and sock.recv(4096):
        pass


def healthy_then_stalled(context: ssl.SSLContext, log: Log, healthy: int = 1) -> Handler:
    """Real TLS and a healthy root for the first `healthy` connections (so recon succeeds), then
    every later handshake stalls."""
    count = 0
    lock = threading.Lock()

    def handle(sock: socket.socket) -> None:
        nonlocal count
        with lock:
            count += 1
            mine = count
        if mine > healthy:
            stall(sock)
            return
        with context.wrap_socket(sock, server_side=True) as tls:
            serve_connection(tls, root_page, log)

    return handle
