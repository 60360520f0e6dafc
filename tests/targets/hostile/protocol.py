"""Answers that break HTTP itself or abuse its rules: oversized heads, resets, half-closed
sockets, other protocols, redirect loops and escapes, errors everywhere, rate limiting."""

from __future__ import annotations

import json
import os
import socket
import struct
import threading
import time
from email.utils import formatdate

from targets.hostile.wire import Behaviour, Peer, Received, head, respond, root_page

OK_BODY = b'{"ok": true}'


def huge_header_line(_: Received, peer: Peer) -> None:
    """One 100 KiB header line (aiohttp's limit here is 64 KiB)."""
    peer.send(head(200, [("X-Huge", "a" * 100 * 1024)], length=len(OK_BODY)) + OK_BODY)


def many_headers(_: Received, peer: Peer) -> None:
    """10,000 small header fields."""
    fields = [(f"X-Field-{i}", "v") for i in range(10_000)]
    peer.send(
        head(200, [("Content-Type", "application/json"), *fields], length=len(OK_BODY)) + OK_BODY
    )


def reset(_: Received, peer: Peer) -> None:
    """Read the request, then abort the connection with a TCP RST (SO_LINGER 0)."""
    peer.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    peer.sock.close()


def half_close(_: Received, peer: Peer) -> None:
    """Shut the write side without a byte of answer, keep reading until the client leaves."""
    peer.sock.shutdown(socket.SHUT_WR)
    peer.sock.settimeout(60)
    while peer.sock.recv(4096):
        pass


def ssh_banner(sock: socket.socket) -> None:
    """A raw-socket handler: an SSH server's greeting, whatever the client says."""
    sock.sendall(b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n")
    sock.settimeout(10)
    sock.recv(4096)


def random_bytes(sock: socket.socket) -> None:
    """A raw-socket handler: 64 KiB of noise after the client's first bytes."""
    sock.settimeout(10)
    sock.recv(4096)
    sock.sendall(os.urandom(64 * 1024))


def redirect_loop(request: Received, peer: Peer) -> None:
    """Every URL answers 301 to itself."""
    respond(peer, 301, b"", [("Location", request.target)])


def redirect_to(url: str) -> Behaviour:
    """Every URL answers 301 to the same path on `url` (another origin)."""

    def serve(request: Received, peer: Peer) -> None:
        respond(peer, 301, b"", [("Location", url + request.target)])

    return serve


def server_error(_: Received, peer: Peer) -> None:
    respond(peer, 500, b'{"error": "internal"}')


class RateLimited:
    """Answers like a healthy API, but the `trigger`-th request (and only it) gets 429 with
    `Retry-After: seconds` (or an HTTP date with `http_date`). Records nothing itself: the
    server's log has every request's arrival time."""

    def __init__(self, trigger: int = 40, seconds: int = 1, *, http_date: bool = False) -> None:
        self.trigger, self.seconds, self.http_date = trigger, seconds, http_date
        self.count = 0
        self.limited_at: float | None = None
        self._lock = threading.Lock()

    def __call__(self, request: Received, peer: Peer) -> None:
        with self._lock:
            self.count += 1
            limit = self.count == self.trigger
            if limit:
                self.limited_at = time.monotonic()
        if limit:
            after = (
                formatdate(time.time() + self.seconds + 1, usegmt=True)
                if self.http_date
                else str(self.seconds)
            )
            respond(peer, 429, b'{"error": "slow down"}', [("Retry-After", after)])
        elif request.target == "/":
            root_page(request, peer)
        else:
            respond(peer, 200, json.dumps({"path": request.target}).encode())
