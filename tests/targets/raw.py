"""Raw TCP servers on 127.0.0.1 for transport failures: not HTTP, silent, resetting."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress


@contextmanager
def tcp_server(handle: Callable[[socket.socket], None]) -> Iterator[int]:
    """Serve each connection with `handle(sock)` in a thread; yields the port."""

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            with suppress(OSError):
                handle(self.request)

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True
        block_on_close = False

    with Server(("127.0.0.1", 0), Handler) as server:
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.start()
        try:
            yield server.server_address[1]
        finally:
            server.shutdown()
            thread.join()


def speaks_ssh(sock: socket.socket) -> None:
    sock.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
    sock.recv(1024)


def silent(sock: socket.socket) -> None:
    sock.settimeout(5)
    try:
        while sock.recv(1024):
            pass
    except OSError:
        pass


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
