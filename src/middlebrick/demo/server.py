"""Serve a WSGI or ASGI app on 127.0.0.1 in a background thread: for `middlebrick demo` and for the
test suite, which scans real servers on loopback."""

from __future__ import annotations

import asyncio
import inspect
import logging
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


@dataclass(frozen=True, slots=True)
class Served:
    url: str  # e.g. "http://127.0.0.1:54321", no trailing slash
    host: str
    port: int
    ca_pem: Path | None  # the CA that signed the server's certificate, for --ca-bundle


def is_asgi(app: Any) -> bool:
    call = app if inspect.isfunction(app) else getattr(app, "__call__", None)  # noqa: B004
    return inspect.iscoroutinefunction(call)


@contextmanager
def serve(
    app: Any,
    *,
    tls: ssl.SSLContext | None = None,
    ca_pem: Path | None = None,
    server_header: str | None = None,
    host: str = "127.0.0.1",
) -> Iterator[Served]:
    """Run `app` until the block ends. `server_header` replaces the `Server` header of WSGI
    servers (`""` omits it); `None` keeps the server's default."""
    runner = _serve_asgi if is_asgi(app) else _serve_wsgi
    with runner(app, tls, host, server_header) as port:
        scheme = "https" if tls else "http"
        yield Served(f"{scheme}://{host}:{port}", host, port, ca_pem)


class _QuietHandler(WSGIRequestHandler):
    server_header: str | None = None

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass

    def log(self, *args: Any, **kwargs: Any) -> None:
        pass

    def version_string(self) -> str:
        return super().version_string() if self.server_header is None else self.server_header

    def send_header(self, keyword: str, value: str) -> None:
        if keyword.lower() == "server" and self.server_header == "":
            return
        super().send_header(keyword, value)


@contextmanager
def _serve_wsgi(
    app: Callable[..., Any], tls: ssl.SSLContext | None, host: str, server_header: str | None
) -> Iterator[int]:
    handler = type("Handler", (_QuietHandler,), {"server_header": server_header})
    server: BaseWSGIServer = make_server(
        host, 0, app, threaded=True, request_handler=handler, ssl_context=tls
    )
    server.daemon_threads = True  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server.port
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def _serve_asgi(
    app: Any, tls: ssl.SSLContext | None, host: str, server_header: str | None
) -> Iterator[int]:
    import uvicorn  # noqa: PLC0415 - a test-only dependency, needed only for ASGI apps

    config = uvicorn.Config(
        app,
        host=host,
        port=0,
        log_level="error",
        access_log=False,
        lifespan="off",
        server_header=server_header is None,
    )
    config.load()
    config.ssl = tls  # uvicorn builds contexts from files; hand it the one we were given
    server = uvicorn.Server(config)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(),))
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the ASGI server did not start")
            threading.Event().wait(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield int(port)
    finally:
        server.should_exit = True
        thread.join()
        loop.close()


logging.getLogger("werkzeug").disabled = True
