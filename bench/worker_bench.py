"""Scans per minute on Celery workers: 200 local APIs (one origin each) scanned as a fleet through
a real redis-server, by one `middlebrick worker` with 1, 2 and 4 processes.

    python -m bench.worker_bench [--targets 200] [--processes 1,2,4]

Everything runs on loopback: the broker, the workers, and one server process listening on a port
per target (a small Starlette API: an index, a list, a Basic-protected profile). Prints scans per
minute per worker count and the speed-up over one process; record them in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from middlebrick.project import ProjectConfig
from middlebrick.web import workers
from middlebrick.web.settings import WebSettings

TARGET_SERVER = r"""
import asyncio, socket, sys
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

async def index(request):
    return JSONResponse({"links": {"items": "/items", "me": "/me"}})

async def items(request):
    return JSONResponse([{"id": i, "name": f"item {i}"} for i in range(20)])

async def me(request):
    if request.headers.get("authorization") != "Basic YmVuY2g6YmVuY2g=":
        return Response("", 401, {"WWW-Authenticate": 'Basic realm="bench"'})
    return JSONResponse({"user": "bench"})

app = Starlette(routes=[Route("/", index), Route("/items", items), Route("/me", me)])
sockets = []
for port in map(int, sys.argv[1:]):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port)); s.listen(512); sockets.append(s)
config = uvicorn.Config(app, log_level="error", access_log=False, lifespan="off")
uvicorn.Server(config).run(sockets=sockets)
"""


def free_ports(n: int) -> list[int]:
    held = [socket.socket() for _ in range(n)]
    for s in held:
        s.bind(("127.0.0.1", 0))
    ports = [int(s.getsockname()[1]) for s in held]
    for s in held:
        s.close()
    return ports


def wait_for(port: int, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")


@contextmanager
def process(argv: list[str], **kwargs: object) -> Iterator[subprocess.Popen[bytes]]:
    child = subprocess.Popen(argv, start_new_session=True, **kwargs)  # type: ignore[call-overload]
    try:
        yield child
    finally:
        os.killpg(child.pid, signal.SIGTERM)
        try:
            child.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait(5)


def run(targets: int, counts: list[int]) -> None:
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")
    redis_port, *target_ports = free_ports(targets + 1)
    broker = f"redis://127.0.0.1:{redis_port}/0"
    folder = Path(tempfile.mkdtemp(prefix="middlebrick-bench-"))
    env = {
        **os.environ,
        "MIDDLEBRICK_BROKER_URL": broker,
        "MIDDLEBRICK_DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
        "BENCH_AUTH": "bench:bench",
    }
    redis_argv = ["redis-server", "--port", str(redis_port), "--save", "", "--appendonly", "no"]
    server_argv = [sys.executable, "-c", TARGET_SERVER, *map(str, target_ports)]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    with process(redis_argv, **quiet), process(server_argv, **quiet):
        wait_for(redis_port)
        for port in target_ports:
            wait_for(port)
        workers.configure(WebSettings(broker_url=broker))
        fleet = [
            (f"t{n}", ProjectConfig(target=f"http://127.0.0.1:{port}", auth_env="BENCH_AUTH"))
            for n, port in enumerate(target_ports)
        ]
        print(f"# {platform.machine()} · {os.cpu_count()} CPUs · Python {platform.python_version()}"
              f" · {time.strftime('%Y-%m-%d')} · {targets} targets")  # fmt: skip
        print(f"{'processes':>9} {'wall s':>8} {'scans/min':>10} {'speed-up':>9} {'failed':>7}")
        base = None
        for count in counts:
            log = (folder / f"worker-{count}.log").open("wb")
            argv = [sys.executable, "-m", "middlebrick", "worker", "--concurrency", str(count),
                    "--loglevel", "WARNING"]  # fmt: skip
            with process(argv, env=env, stdout=log, stderr=subprocess.STDOUT):
                time.sleep(3)  # the worker's processes start
                started = time.perf_counter()
                outcomes = workers.run_fleet(fleet, poll=0.05)
                wall = time.perf_counter() - started
            log.close()
            rate = len(outcomes) / wall * 60
            base = base or rate
            failed = sum(o.report is None for o in outcomes)
            print(f"{count:>9} {wall:>8.1f} {rate:>10.0f} {rate / base:>8.2f}x {failed:>7}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--targets", type=int, default=200)
    parser.add_argument("--processes", default="1,2,4")
    args = parser.parse_args()
    run(args.targets, [int(n) for n in args.processes.split(",")])


if __name__ == "__main__":
    main()
