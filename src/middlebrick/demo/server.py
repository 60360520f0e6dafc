"""Serve a WSGI or ASGI app on 127.0.0.1 in a background thread: for `middlebrick demo` and for the
test suite, which scans real servers on loopback.

WSGI apps (Flask, plain callables) run on Werkzeug's threaded server; ASGI apps (Starlette,
FastAPI) on uvicorn, which only the tests need. `serve()` tells them apart by whether the app's
`__call__` is a coroutine function; pass `asgi=` when that guess is wrong (`asgi=True` means ASGI
3, e.g. a wrapper whose synchronous `__call__` returns the wrapped app's coroutine).
"""

from __future__ import annotations

import contextlib
import inspect
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

HOST = "127.0.0.1"
_STARTUP_TIMEOUT = 10.0  # seconds for uvicorn to bind; Werkzeug binds before serve() yields
_DRAIN_TIMEOUT = 2  # seconds to wait for request threads once their connections are cut


@dataclass(frozen=True, slots=True)
class Served:
    url: str  # e.g. "http://127.0.0.1:54321", no trailing slash
    host: str
    port: int
    ca_pem: Path | None  # the CA that signed the server's certificate, for --ca-bundle


def is_asgi(app: Any) -> bool:
    """Whether `app` looks like an ASGI application (its call is a coroutine function)."""
    call = app if inspect.isfunction(app) else getattr(app, "__call__", None)  # noqa: B004
    return inspect.iscoroutinefunction(call)


@contextmanager
def serve(
    app: Any,
    *,
    tls: ssl.SSLContext | None = None,
    ca_pem: Path | None = None,
    server_header: str | None = None,
    asgi: bool | None = None,
    host: str = HOST,
) -> Iterator[Served]:
    """Run `app` on a free port of `host` until the block ends; then close every connection and
    join every thread the server started.

    `tls` makes it HTTPS (see `demo.tls.server_context`); `ca_pem` is only passed through to
    `Served` so callers can hand it to the scanner. `server_header` replaces the `Server` header
    (`""` omits it); `None` keeps the server's own (`Werkzeug/x Python/y`, `uvicorn`).
    """
    run = _serve_asgi if (is_asgi(app) if asgi is None else asgi) else _serve_wsgi
    with run(app, tls, host, server_header) as port:
        scheme = "https" if tls else "http"
        netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        yield Served(f"{scheme}://{netloc}", host, port, ca_pem)


# WSGI: Werkzeug ---------------------------------------------------------------------------------


class _Handler(WSGIRequestHandler):
    """Werkzeug's request handler, silent, with the chosen `Server` header, and doing the TLS
    handshake in the request thread (see `_Server`)."""

    server_header: ClassVar[str | None] = None

    def handle(self) -> None:
        if isinstance(self.connection, ssl.SSLSocket):
            try:
                self.connection.do_handshake()
            except OSError:  # SSLError included: a refused client is the client's business
                return
        super().handle()

    def version_string(self) -> str:
        return super().version_string() if self.server_header is None else self.server_header

    def send_header(self, keyword: str, value: str) -> None:
        if self.server_header == "" and keyword.lower() == "server":
            return
        super().send_header(keyword, value)

    def log(self, type: str, message: str, *args: Any) -> None:
        """Nothing: request lines and TLS errors would litter the demo's output and test logs."""


class _Server(ThreadedWSGIServer):
    """Werkzeug's threaded server, made safe to stop at any moment.

    Werkzeug wraps the listening socket for TLS, so every handshake runs in the accept loop: one
    client that connects and stays silent blocks all other clients and `shutdown()`. Here the
    handshake is deferred to the request thread. On close, connections still open (a silent or
    idle client) are cut, so their threads end and can be joined.
    """

    def __init__(
        self, host: str, app: Any, handler: type[_Handler], tls: ssl.SSLContext | None
    ) -> None:
        super().__init__(host, 0, app, handler)
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._workers: list[threading.Thread] = []
        if tls is not None:
            self.socket = tls.wrap_socket(
                self.socket, server_side=True, do_handshake_on_connect=False
            )
            self.ssl_context = tls  # Werkzeug reads it for wsgi.url_scheme

    def process_request(self, request: Any, client_address: Any) -> None:
        worker = threading.Thread(
            target=self.process_request_thread, args=(request, client_address), daemon=True
        )
        with self._lock:
            self._workers = [w for w in self._workers if w.is_alive()]
            self._workers.append(worker)
            self._connections.add(request)
        worker.start()

    def shutdown_request(self, request: Any) -> None:
        with self._lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def log(self, type: str, message: str, *args: Any) -> None:
        """Nothing: Werkzeug logs app tracebacks here; the app's 500 answer is what tests see."""

    def server_close(self) -> None:
        """Idempotent: Werkzeug's `serve_forever` calls it too, from the server thread."""
        super().server_close()
        with self._lock:
            connections, workers = list(self._connections), list(self._workers)
        for connection in connections:
            # the plain socket's shutdown: SSLSocket.shutdown would unwrap it under the reader
            with contextlib.suppress(OSError):
                socket.socket.shutdown(connection, socket.SHUT_RDWR)
        deadline = time.monotonic() + _DRAIN_TIMEOUT
        for worker in workers:
            if worker is not threading.current_thread():
                worker.join(max(0.0, deadline - time.monotonic()))


@contextmanager
def _serve_wsgi(
    app: Any, tls: ssl.SSLContext | None, host: str, server_header: str | None
) -> Iterator[int]:
    class Handler(_Handler):
        pass

    Handler.server_header = server_header  # a class per server: each keeps its own header
    server = _Server(host, app, Handler, tls)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"wsgi:{server.port}"
    )
    thread.start()
    try:
        yield server.port
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


# ASGI: uvicorn ----------------------------------------------------------------------------------


@contextmanager
def _serve_asgi(
    app: Any, tls: ssl.SSLContext | None, host: str, server_header: str | None
) -> Iterator[int]:
    import uvicorn  # noqa: PLC0415 - a test-only dependency, needed only for ASGI apps

    config = uvicorn.Config(
        app,
        host=host,
        port=0,
        interface="asgi3",  # what is_asgi() recognises; uvicorn's guess says ASGI 2 for sync calls
        log_config=None,  # uvicorn's default dictConfig would rewire the process's logging
        log_level="error",
        access_log=False,
        server_header=server_header is None,
        headers=[("server", server_header)] if server_header else [],
        timeout_graceful_shutdown=_DRAIN_TIMEOUT,
    )
    config.load()
    config.ssl = tls  # uvicorn builds contexts from files; hand it the one we were given
    server = uvicorn.Server(config)
    # run() in a thread other than the main one installs no signal handlers
    thread = threading.Thread(target=server.run, name="asgi")
    thread.start()
    try:
        deadline = time.monotonic() + _STARTUP_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the ASGI server did not start")
            time.sleep(0.01)
        yield int(server.servers[0].sockets[0].getsockname()[1])
    finally:
        server.should_exit = True
        thread.join()
