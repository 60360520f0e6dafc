"""A synthetic JSON API with N GET operations, served by uvicorn in its own process (so the server
does not share the client's core or GIL), for the benchmarks.

Operations are `/api/v1/items{i}` for i in range(n); every odd i needs HTTP Basic `bench:bench-pass`
and answers 401 with `WWW-Authenticate: Basic realm="bench"` otherwise. `/openapi.json` describes
them all (OpenAPI 3.0, scheme `basicAuth` on the secured ones).

    with running_api(100) as url: ...           # in-process use: a base URL, stopped on exit
    python -m bench.synthetic_api --n 100       # serve on a free loopback port until Ctrl-C
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import selectors
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

__all__ = [
    "AUTHORIZATION",
    "BODY",
    "ITEMS",
    "PASSWORD",
    "USER",
    "ApiServer",
    "is_secured",
    "make_app",
    "running_api",
    "serve",
    "spec",
    "start_api",
]

HOST = "127.0.0.1"
USER, PASSWORD = "bench", "bench-pass"
AUTHORIZATION = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
CHALLENGE = {"WWW-Authenticate": 'Basic realm="bench"'}
ITEMS: list[dict[str, Any]] = [
    {
        "id": i,
        "sku": f"SKU-{i:06d}",
        "name": f"Item {i}",
        "price": round(9.99 + 1.5 * i, 2),
        "currency": "EUR",
        "tags": ["bench"],
        "updated": "2026-01-01T00:00:00Z",
    }
    for i in range(5)
]
BODY = json.dumps(ITEMS, separators=(",", ":")).encode()  # ~600 bytes, served as is
_ITEM_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "sku": {"type": "string"},
        "name": {"type": "string"},
        "price": {"type": "number"},
        "currency": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "updated": {"type": "string", "format": "date-time"},
    },
}


def is_secured(i: int) -> bool:
    """Whether operation i requires Basic credentials (every odd one: half of them)."""
    return i % 2 == 1


def spec(n: int) -> dict[str, Any]:
    """The OpenAPI 3.0 description of the n-operation API."""
    paths: dict[str, Any] = {}
    for i in range(n):
        op: dict[str, Any] = {
            "operationId": f"listItems{i}",
            "responses": {
                "200": {
                    "description": "items",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Items"}}
                    },
                }
            },
        }
        if is_secured(i):
            op["security"] = [{"basicAuth": []}]
            op["responses"]["401"] = {"description": "credentials missing or wrong"}
        paths[f"/api/v1/items{i}"] = {"get": op}
    return {
        "openapi": "3.0.3",
        "info": {"title": f"synthetic API, {n} operations", "version": "1.0.0"},
        "components": {
            "securitySchemes": {"basicAuth": {"type": "http", "scheme": "basic"}},
            "schemas": {"Items": {"type": "array", "items": _ITEM_SCHEMA}},
        },
        "paths": paths,
    }


def make_app(n: int) -> Starlette:
    """The ASGI app: `/api/v1/items{i}` for i in range(n), `/openapi.json`, and `/`."""
    document = json.dumps(spec(n)).encode()

    async def item(request: Request) -> Response:
        i = int(request.path_params["i"])
        if i >= n:
            return JSONResponse({"detail": "not found"}, status_code=404)
        if is_secured(i) and request.headers.get("authorization") != AUTHORIZATION:
            return JSONResponse({"detail": "unauthorized"}, status_code=401, headers=CHALLENGE)
        return Response(BODY, media_type="application/json")

    async def openapi(request: Request) -> Response:
        return Response(document, media_type="application/json")

    async def index(request: Request) -> JSONResponse:
        return JSONResponse({"service": "synthetic", "operations": n})

    return Starlette(
        routes=[
            Route("/", index),
            Route("/openapi.json", openapi),
            Route("/api/v1/items{i:int}", item),
        ]
    )


def serve(n: int, port: int = 0, *, announce: bool = False) -> None:
    """Serve in this process until SIGTERM/SIGINT (uvicorn's graceful shutdown). Port 0 = a free
    one; with `announce`, print `PORT <port>` on stdout once requests are accepted."""
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on sockets whose proto says TCP,
    # and accepted sockets inherit it; with proto 0, Nagle + delayed ACK stall every response
    # that uvicorn writes as two segments (head, body) by ~40 ms.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    config = uvicorn.Config(
        make_app(n),
        log_level="warning",
        access_log=False,
        lifespan="off",
        backlog=1024,
        timeout_graceful_shutdown=2,
    )

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started:
                bound = sock.getsockname()[1]
                print(
                    f"PORT {bound}"
                    if announce
                    else f"serving {n} operations at http://{HOST}:{bound} (Ctrl-C to stop)",
                    flush=True,
                )

    asyncio.run(Server(config).serve(sockets=[sock]))


class ApiServer:
    """The synthetic API running in a child process (a fresh interpreter running this file, so
    callers need no `if __name__ == "__main__"` guard). `url` is its base URL; `stop()` shuts it
    down (SIGTERM: graceful; SIGKILL if still alive after `timeout`). A context manager too."""

    def __init__(self, n: int, *, startup_timeout: float = 30.0) -> None:
        self.n = n
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--n", str(n), "--announce"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            self.port = self._await_port(startup_timeout)
        except BaseException:
            self.stop()
            raise
        self.url = f"http://{HOST}:{self.port}"

    def _await_port(self, timeout: float) -> int:
        assert self.process.stdout is not None
        ready = selectors.DefaultSelector()
        ready.register(self.process.stdout, selectors.EVENT_READ)
        if not ready.select(timeout):
            raise RuntimeError(f"the synthetic API did not start in {timeout} s")
        line = self.process.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError(f"the synthetic API did not start (exit {self.process.poll()})")
        return int(line.split()[1])

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far (Linux /proc)."""
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self, timeout: float = 5.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def __enter__(self) -> ApiServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_api(n: int) -> ApiServer:
    """Start the n-operation API on a free loopback port in a child process; returns once it
    accepts requests. Call `.stop()` (or use it as a context manager) to shut it down."""
    return ApiServer(n)


@contextmanager
def running_api(n: int) -> Iterator[str]:
    """Serve the n-operation API in a child process; yields its base URL, stops it on exit."""
    with start_api(n) as server:
        yield server.url


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Serve the synthetic API on loopback.")
    parser.add_argument("--n", type=int, default=100, help="number of operations")
    parser.add_argument("--port", type=int, default=0, help="0 = a free one")
    parser.add_argument("--announce", action="store_true", help="print PORT <n> when ready")
    args = parser.parse_args()
    with suppress(KeyboardInterrupt):  # uvicorn shuts down gracefully, then re-raises SIGINT
        serve(args.n, args.port, announce=args.announce)
