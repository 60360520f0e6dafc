"""What a scan costs in memory and time: peak RSS and wall time of

    (a) a scan of the 1,000-operation synthetic API (bench/synthetic_api.py),
    (b) `middlebrick audit` of a generated 20,000-operation description (bench/audit_bench.py's),
        capped at --audit-timeout seconds, and at 1,000/2,000/4,000 operations to show the growth,
    (c) scans of an API whose every response body is 1 KiB, then 1 MiB (distinct bodies), at two
        sizes: memory must grow with the number of requests, not with the size of the bodies.

Every measurement runs in a fresh child process (peak RSS is the scanner's own, servers run in
processes of their own).

    python -m bench.cost_bench [--ops-c 100,300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import resource
import selectors
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from middlebrick.config import ScanConfig
from middlebrick.engine import audit, scan

from bench.audit_bench import description
from bench.synthetic_api import running_api


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _scan(config: ScanConfig) -> dict[str, Any]:
    started = time.perf_counter()
    report = asyncio.run(scan(config))
    wall = time.perf_counter() - started
    incomplete = sum(r.status == "incomplete" for r in report.checks)
    return {
        "wall_s": wall,
        "peak_mib": _peak_mib(),
        "requests": report.requests_sent,
        "incomplete_checks": incomplete,
        "notes": report.notes,
    }


def scan_synthetic(n: int) -> dict[str, Any]:
    with running_api(n) as url:
        return _scan(
            ScanConfig(
                target=url,
                spec=f"{url}/openapi.json",
                auth=SecretStr("bench:bench-pass"),
                budget=600,
                concurrency=16,
            )
        )


def audit_generated(n: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"spec{n}.json"
        path.write_text(json.dumps(description(n)))
        started = time.perf_counter()
        report = audit(str(path))
        wall = time.perf_counter() - started
    return {"wall_s": wall, "peak_mib": _peak_mib(), "findings": len(report.findings)}


def scan_bodies(n: int, size: int) -> dict[str, Any]:
    with _body_api(n, size) as url:
        return _scan(ScanConfig(target=url, spec=f"{url}/openapi.json", budget=600, concurrency=16))


# an API of n operations whose bodies are `size` bytes, each different ----------------------------


def _body_app(n: int, size: int) -> Any:
    operation = {"get": {"responses": {"200": {"description": "a blob"}}}}
    paths = {f"/api/v1/blob{i}": operation for i in range(n)}
    document = {"openapi": "3.0.3", "info": {"title": "blobs", "version": "1"}, "paths": paths}

    async def blob(request: Request) -> Response:
        i = int(request.path_params["i"])
        head = f'{{"id": {i}, "data": "'.encode()
        filler = random.Random(i).randbytes(size // 2).hex().encode()
        body = (head + filler)[: size - 2] + b'"}'
        return Response(body, media_type="application/json")

    async def openapi(request: Request) -> JSONResponse:
        return JSONResponse(document)

    async def index(request: Request) -> JSONResponse:
        return JSONResponse({"service": "blobs", "operations": n})

    return Starlette(
        routes=[
            Route("/", index),
            Route("/openapi.json", openapi),
            Route("/api/v1/blob{i:int}", blob),
        ]
    )


def _serve_bodies(n: int, size: int) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(_body_app(n, size), log_level="warning", access_log=False)
    asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))


@contextmanager
def _body_api(n: int, size: int) -> Iterator[str]:
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.cost_bench", "--serve-bodies", f"{n},{size}"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        ready = selectors.DefaultSelector()
        ready.register(server.stdout, selectors.EVENT_READ)
        if not ready.select(30):
            raise RuntimeError("the body API did not start")
        port = int(server.stdout.readline().split()[1])
        time.sleep(0.5)  # uvicorn accepts once its loop runs
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(10)


# the parent: one child per measurement -----------------------------------------------------------


def _child(kind: str, *args: int, timeout: float | None = None) -> dict[str, Any] | None:
    """The child's measurement; None if it did not finish within `timeout` seconds."""
    try:
        out = subprocess.run(
            [sys.executable, "-m", "bench.cost_bench", "--child", kind, *map(str, args)],
            check=True,
            capture_output=True,
            text=True,
            timeout=timeout,
        ).stdout
    except subprocess.TimeoutExpired:
        return None
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ops-c", default="100,300", help="operations for the body-size scans")
    parser.add_argument("--audit-timeout", type=float, default=300.0)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--serve-bodies", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bodies:
        n, size = map(int, args.serve_bodies.split(","))
        _serve_bodies(n, size)
        return
    if args.child:
        kind, *numbers = args.child
        run = {"scan": scan_synthetic, "audit": audit_generated, "bodies": scan_bodies}[kind]
        print(json.dumps(run(*map(int, numbers))))
        return
    print(
        f"# {platform.machine()} · {os.cpu_count()} CPUs · Python {platform.python_version()} · "
        f"{time.strftime('%Y-%m-%d')}"
    )
    print(f"{'measurement':<44} {'wall s':>8} {'peak MiB':>9} {'requests':>9}")
    rows: list[tuple[str, str, tuple[int, ...]]] = [
        ("(a) scan, 1,000-operation synthetic API", "scan", (1000,)),
        *((f"(b) audit, {n:,}-operation description", "audit", (n,)) for n in (1000, 2000, 4000)),
        ("(b) audit, 20,000-operation description", "audit", (20_000,)),
    ]
    for n in (int(s) for s in args.ops_c.split(",")):
        for size, label in ((1 << 10, "1 KiB"), (1 << 20, "1 MiB")):
            rows.append((f"(c) scan, {n} operations, {label} bodies", "bodies", (n, size)))
    for label, kind, numbers in rows:
        result = _child(kind, *numbers, timeout=args.audit_timeout if kind == "audit" else None)
        if result is None:
            print(f"{label:<44} {'> ' + format(args.audit_timeout, 'g'):>8}  (did not finish)")
            continue
        requests = result.get("requests", "")
        print(f"{label:<44} {result['wall_s']:>8.2f} {result['peak_mib']:>9.1f} {requests:>9}")
        for note in result.get("notes", []):
            print(f"{'':<6}note: {note}")


if __name__ == "__main__":
    main()
