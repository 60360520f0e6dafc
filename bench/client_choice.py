"""httpx vs aiohttp for the scanner's access pattern: many small GETs over one pooled client,
bodies streamed and capped, redirects not followed. Prints wall time, requests/s and client CPU.

    python -m bench.client_choice [--requests 3000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

import aiohttp
import httpx

from bench.synthetic_api import running_api

CAP = 1 << 20
Fetch = Callable[[str], Awaitable[int]]


async def with_httpx(urls: list[str], concurrency: int) -> None:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, follow_redirects=False, timeout=10) as client:

        async def fetch(url: str) -> int:
            async with client.stream("GET", url) as response:
                size = 0
                async for chunk in response.aiter_raw():
                    size += len(chunk)
                    if size > CAP:
                        break
            return size

        await _drive(urls, concurrency, fetch)


async def with_aiohttp(urls: list[str], concurrency: int) -> None:
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, auto_decompress=False
    ) as session:

        async def fetch(url: str) -> int:
            async with session.get(url, allow_redirects=False) as response:
                size = 0
                async for chunk in response.content.iter_chunked(65536):
                    size += len(chunk)
                    if size > CAP:
                        break
            return size

        await _drive(urls, concurrency, fetch)


async def _drive(urls: list[str], concurrency: int, fetch: Fetch) -> None:
    slots = asyncio.Semaphore(concurrency)

    async def one(url: str) -> int:
        async with slots:
            return await fetch(url)

    await asyncio.gather(*(one(u) for u in urls))


def measure(
    runner: Callable[[list[str], int], Awaitable[None]], urls: list[str], c: int
) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    asyncio.run(runner(urls, c))
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    clients = {"httpx": with_httpx, "aiohttp": with_aiohttp}
    with running_api(1000) as base:
        urls = [f"{base}/api/v1/items{i % 1000 * 2}" for i in range(args.requests)]  # public ones
        print(f"{'client':>8} {'conc':>5} {'wall s':>7} {'req/s':>7} {'cpu s':>6}")
        for concurrency in (8, 32):
            results: dict[str, list[tuple[float, float]]] = {name: [] for name in clients}
            for _ in range(args.repeat):  # interleaved, so drift hits both alike
                for name, runner in clients.items():
                    results[name].append(measure(runner, urls, concurrency))
            for name, runs in results.items():
                wall = statistics.median(w for w, _ in runs)
                cpu = statistics.median(c for _, c in runs)
                print(
                    f"{name:>8} {concurrency:>5} {wall:>7.2f} "
                    f"{args.requests / wall:>7.0f} {cpu:>6.2f}"
                )
            ratio = statistics.median(w for w, _ in results["httpx"]) / statistics.median(
                w for w, _ in results["aiohttp"]
            )
            print(f"{'':>8} {concurrency:>5} httpx/aiohttp wall ratio: {ratio:.2f}")


if __name__ == "__main__":
    main()
