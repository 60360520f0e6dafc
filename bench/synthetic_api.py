"""A synthetic JSON API with N operations, served by uvicorn in its own process (so the server does
not share the scanner's interpreter), for the benchmarks.

    python -m bench.synthetic_api --n 100      # serve it on a free loopback port until Ctrl-C
"""

from __future__ import annotations

import argparse
import base64
import multiprocessing
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

USER, PASSWORD = "bench", "bench-pass"
_TOKEN = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
ITEMS = [{"id": i, "name": f"item {i}", "price": 1.5 * i, "tags": ["a", "b"]} for i in range(5)]


def spec(n: int) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for i in range(n):
        op: dict[str, Any] = {"responses": {"200": {"description": "items"}}}
        op["security"] = [{"basic": []}] if i % 2 else []
        paths[f"/api/v1/items{i}"] = {"get": op}
    return {
        "openapi": "3.0.3",
        "info": {"title": f"synthetic {n}", "version": "1"},
        "components": {"securitySchemes": {"basic": {"type": "http", "scheme": "basic"}}},
        "paths": paths,
    }


def make_app(n: int) -> Starlette:
    document = spec(n)

    async def item(request: Request) -> Response:
        i = int(request.path_params["i"])
        if i >= n:
            return JSONResponse({"detail": "not found"}, status_code=404)
        if i % 2 and request.headers.get("authorization") != _TOKEN:
            return Response(status_code=401, headers={"WWW-Authenticate": 'Basic realm="bench"'})
        return JSONResponse(ITEMS)

    async def openapi(request: Request) -> JSONResponse:
        return JSONResponse(document)

    async def index(request: Request) -> JSONResponse:
        return JSONResponse({"service": "synthetic", "operations": n})

    return Starlette(
        routes=[
            Route("/", index),
            Route("/openapi.json", openapi),
            Route("/api/v1/items{i:int}", item),
        ]
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(n: int, port: int) -> None:
    uvicorn.run(make_app(n), host="127.0.0.1", port=port, log_level="error", access_log=False)


@contextmanager
def running_api(n: int) -> Iterator[str]:
    """Serve the n-operation API in a child process; yields its base URL."""
    port = _free_port()
    process = multiprocessing.get_context("spawn").Process(target=_run, args=(n, port), daemon=True)
    process.start()
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or not process.is_alive():
                    raise RuntimeError("the synthetic API did not start") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.join(5)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100)
    args = parser.parse_args()
    with running_api(args.n) as url:
        print(f"serving {args.n} operations at {url} (Ctrl-C to stop)")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
