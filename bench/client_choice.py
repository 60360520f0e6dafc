"""httpx vs aiohttp for the scanner's access pattern, measured on loopback.

1. Throughput: GETs to the synthetic API (uvicorn in its own process) over one pooled client
   instance, each body streamed in chunks and capped at 1 MiB, redirects not followed, a
   per-request timeout. Wall time, requests/s, client CPU (this process) and server CPU (the
   child), median of interleaved runs.
2. Behaviour that matters to a security scanner, checked against a raw asyncio TCP server that
   records exactly what it receives and sends exactly the bytes we choose: duplicate and mixed-case
   response headers, very long / very many header lines, compressed bodies (incl. a gzip bomb),
   a custom SSLContext, and whether non-normalised URL paths reach the wire as given.

    python -m bench.client_choice [--requests 3000] [--repeat 3] [--sniffio-shim]
                                  [--skip-throughput] [--skip-behaviour]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.util
import os
import platform
import ssl
import statistics
import sys
import time
import tracemalloc
import types
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

import aiohttp
import httpcore
import httpx
import trustme
import yarl

from bench.synthetic_api import AUTHORIZATION, BODY, ApiServer, start_api

N_OPS = 1000
CAP = 1 << 20  # the scanner's body cap
CHUNK = 64 * 1024
TIMEOUT = 10.0  # per request
CONCURRENCIES = (8, 32)

# --------------------------------------------------------------------------------------------
# 1. Throughput


@dataclass
class Tally:
    statuses: Counter[int] = field(default_factory=Counter)
    body_bytes: int = 0


Fetch = Callable[[str], Awaitable[None]]
Runner = Callable[[list[str], int], Awaitable[Tally]]


async def _drive(urls: list[str], concurrency: int, fetch: Fetch) -> None:
    """`concurrency` workers pulling from one queue of URLs: at most that many in flight."""
    pending = iter(urls)

    async def worker() -> None:
        for url in pending:
            await fetch(url)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def run_httpx(urls: list[str], concurrency: int) -> Tally:
    tally = Tally()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        limits=limits,
        timeout=httpx.Timeout(TIMEOUT),
        follow_redirects=False,
        headers={"Authorization": AUTHORIZATION},
    ) as client:

        async def fetch(url: str) -> None:
            async with client.stream("GET", url) as response:
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size >= CAP:
                        break
            tally.statuses[response.status_code] += 1
            tally.body_bytes += size

        await _drive(urls, concurrency, fetch)
    return tally


async def run_aiohttp(urls: list[str], concurrency: int) -> Tally:
    tally = Tally()
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=concurrency),
        timeout=aiohttp.ClientTimeout(total=TIMEOUT),
        headers={"Authorization": AUTHORIZATION},
    ) as session:

        async def fetch(url: str) -> None:
            async with session.get(url, allow_redirects=False) as response:
                size = 0
                async for chunk in response.content.iter_chunked(CHUNK):
                    size += len(chunk)
                    if size >= CAP:
                        break
            tally.statuses[response.status] += 1
            tally.body_bytes += size

        await _drive(urls, concurrency, fetch)
    return tally


@contextmanager
def sniffio_present() -> Iterator[None]:
    """httpcore runs `import sniffio` on every lock/semaphore setup; anyio >= 4.12 no longer
    depends on sniffio, so in this venv that import fails, and a failed import is not cached.
    Stand in a minimal module (what sniffio answers under asyncio) to price that."""
    if importlib.util.find_spec("sniffio") is not None:
        yield
        return
    shim = types.ModuleType("sniffio")

    def current_async_library() -> str:
        if asyncio.current_task() is None:
            raise RuntimeError("unknown async library, or not in async context")
        return "asyncio"

    shim.current_async_library = current_async_library  # type: ignore[attr-defined]
    sys.modules["sniffio"] = shim
    try:
        yield
    finally:
        del sys.modules["sniffio"]


async def run_httpx_sniffio(urls: list[str], concurrency: int) -> Tally:
    with sniffio_present():
        return await run_httpx(urls, concurrency)


@dataclass
class Run:
    wall: float
    cpu: float
    server_cpu: float
    tally: Tally


def measure(api: ApiServer, runner: Runner, urls: list[str], concurrency: int) -> Run:
    gc.collect()
    server0, cpu0, wall0 = api.cpu_seconds(), time.process_time(), time.perf_counter()
    tally = asyncio.run(runner(urls, concurrency))
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return Run(wall, cpu, api.cpu_seconds() - server0, tally)


def throughput(requests: int, repeat: int, with_shim: bool) -> None:
    clients: dict[str, Runner] = {"httpx": run_httpx, "aiohttp": run_aiohttp}
    if with_shim and importlib.util.find_spec("sniffio") is None:
        clients["httpx+sniffio*"] = run_httpx_sniffio
    with start_api(N_OPS) as api:
        urls = [f"{api.url}/api/v1/items{i % N_OPS}" for i in range(requests)]
        for runner in clients.values():  # warm-up: imports, server, first connections
            measure(api, runner, urls[:200], 8)
        print(
            f"\n### Throughput: {requests:,} GETs of a {len(BODY)}-byte JSON body, "
            f"{N_OPS} operations, median of {repeat} interleaved runs\n"
        )
        print(
            "| client | concurrency | wall s | req/s | client CPU s | client CPU ms/req "
            "| server CPU s | wall ÷ aiohttp | runs (wall s) |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
        for concurrency in CONCURRENCIES:
            runs: dict[str, list[Run]] = {name: [] for name in clients}
            for _ in range(repeat):
                for name, runner in clients.items():  # interleaved: drift hits all alike
                    runs[name].append(measure(api, runner, urls, concurrency))
            base = statistics.median(r.wall for r in runs["aiohttp"])
            for name, rs in runs.items():
                for r in rs:
                    expected = Counter({200: requests})
                    assert r.tally.statuses == expected, (name, r.tally.statuses)
                    assert r.tally.body_bytes == requests * len(BODY), name
                wall = statistics.median(r.wall for r in rs)
                cpu = statistics.median(r.cpu for r in rs)
                server = statistics.median(r.server_cpu for r in rs)
                print(
                    f"| {name} | {concurrency} | {wall:.2f} | {requests / wall:,.0f} | {cpu:.2f} "
                    f"| {1000 * cpu / requests:.2f} | {server:.2f} | {wall / base:.2f} "
                    f"| {', '.join(f'{r.wall:.2f}' for r in rs)} |"
                )
    if "httpx+sniffio*" in clients:
        print("\n\\* httpx with a stand-in `sniffio` module (not installed in this venv)")


# --------------------------------------------------------------------------------------------
# 2. Behaviour: a raw server that records the request line and answers with chosen bytes

BOMB_SIZE = 128 << 20  # decompressed size of the bombs: 128 MiB of zeros


def _compress(size: int, wbits: int) -> bytes:
    out = zlib.compressobj(9, zlib.DEFLATED, wbits)
    block = bytes(1 << 20)
    parts = [out.compress(block) for _ in range(size >> 20)]
    return b"".join([*parts, out.flush()])


def _response(status: str, headers: list[tuple[str, str]], body: bytes = b"") -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers)]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class RawServer:
    """Loopback HTTP/1.1 server on raw asyncio streams: records each request line and headers
    exactly as received; `/_/...` targets answer with canned responses, others 200 empty."""

    def __init__(self) -> None:
        self.requests: list[tuple[bytes, list[bytes]]] = []
        self.url = ""
        self._bombs = {
            "gzip": _compress(BOMB_SIZE, 31),
            "deflate": _compress(BOMB_SIZE, 15),
        }

    async def start(self, tls: ssl.SSLContext | None = None) -> RawServer:
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", 0, ssl=tls, limit=1 << 20
        )
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
        return self

    async def close(self) -> None:
        self._server.close()
        await self._server.wait_closed()

    def last_target(self) -> bytes:
        line = self.requests[-1][0]
        return b" ".join(line.split(b" ")[1:-1])  # a target may hold a literal space

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                line, *headers = head[:-4].split(b"\r\n")
                self.requests.append((line, headers))
                writer.write(self._answer(b" ".join(line.split(b" ")[1:-1])))
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        except asyncio.CancelledError:  # the server is closing with a client still connected
            pass
        finally:
            writer.close()

    def _answer(self, target: bytes) -> bytes:
        parts = target.decode("latin-1").split("/")
        kind, arg = (
            (parts[2], parts[3] if len(parts) > 3 else "") if target[:3] == b"/_/" else ("", "")
        )
        if kind == "dup":
            return _response(
                "200 OK",
                [
                    ("Set-Cookie", "a=1; Path=/"),
                    ("Set-Cookie", "b=2; Path=/"),
                    ("X-CaSe-TeSt", "MiXeD"),
                    ("X-Dup", "one"),
                    ("x-dup", "two"),
                ],
            )
        if kind == "long":  # one header value of `arg` bytes
            return _response("200 OK", [("X-Long", "a" * int(arg))])
        if kind == "many":
            return _response("200 OK", [(f"X-H{i}", "v") for i in range(int(arg))])
        if kind == "block":  # `arg` values of 6,000 bytes: each under 8,190, the block large
            return _response("200 OK", [(f"X-B{i}", "b" * 6000) for i in range(int(arg))])
        if kind == "body":
            return _response("200 OK", [("Content-Type", "text/plain")], b"x" * int(arg))
        if kind in self._bombs:
            return _response("200 OK", [("Content-Encoding", kind)], self._bombs[kind])
        if kind == "br":  # brotli-labelled (no brotli module is installed)
            return _response("200 OK", [("Content-Encoding", "br")], b"\x1b\x03\x00\xf8not-brotli")
        return _response("200 OK", [("Content-Type", "text/plain")])


def _err(exc: BaseException) -> str:
    text = str(exc).split("\n")[0]
    return f"{type(exc).__name__}: {text[:70]}" if text else type(exc).__name__


def _table(header: list[str], rows: list[list[str]]) -> None:
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |")


async def probe_headers(srv: RawServer) -> None:
    print("\n### (a) Duplicate and mixed-case response headers\n")
    rows: list[list[str]] = []
    async with httpx.AsyncClient() as hx:
        r = await hx.get(srv.url + "/_/dup")
        names = [k.decode() for k, _ in r.headers.raw if k.lower() != b"content-length"]
        rows.append(
            [
                "httpx",
                repr(r.headers["x-dup"]),
                repr(r.headers.get_list("x-dup")),
                repr(r.headers.get_list("set-cookie")),
                ", ".join(names),
            ]
        )
    jar = aiohttp.DummyCookieJar()
    async with aiohttp.ClientSession(cookie_jar=jar) as ah, ah.get(srv.url + "/_/dup") as resp:
        raw = [k.decode() for k, _ in resp.raw_headers if k.lower() != b"content-length"]
        rows.append(
            [
                "aiohttp",
                repr(resp.headers["x-dup"]),
                repr(resp.headers.getall("x-dup")),
                repr(resp.headers.getall("set-cookie")),
                ", ".join(raw),
            ]
        )
    _table(
        ["client", "h['x-dup']", "all x-dup", "all set-cookie", "raw names (order, casing)"], rows
    )


async def _status_httpx(url: str) -> str:
    try:
        async with httpx.AsyncClient() as client:
            r = await client.get(url)
            return f"ok ({len(r.headers)} headers)"
    except Exception as exc:
        return _err(exc)


async def _status_aiohttp(url: str, **limits: int) -> str:
    try:
        async with aiohttp.ClientSession(**limits) as session, session.get(url) as r:  # type: ignore[arg-type]
            await r.read()
            return f"ok ({len(r.raw_headers)} headers)"
    except Exception as exc:
        return _err(exc)


@contextmanager
def httpcore_event_limit(size: int) -> Iterator[None]:
    """The only knob for httpx's header limit: a class attribute of httpcore (not public API)."""
    cls = httpcore.AsyncHTTP11Connection
    saved = cls.MAX_INCOMPLETE_EVENT_SIZE
    cls.MAX_INCOMPLETE_EVENT_SIZE = size
    try:
        yield
    finally:
        cls.MAX_INCOMPLETE_EVENT_SIZE = saved


async def probe_header_limits(srv: RawServer) -> None:
    print("\n### (b) Long and many response header lines\n")
    big = {"max_line_size": 1 << 20, "max_field_size": 1 << 20, "max_headers": 1024}
    cases = [
        ("name + value = 8,190 bytes", "/_/long/8184"),  # "X-Long" is 6 bytes
        ("name + value = 8,191 bytes", "/_/long/8185"),
        ("a header value of 64 KiB", "/_/long/65536"),
        ("a header value of 1 MiB", "/_/long/1048576"),
        ("128 short headers (+ Content-Length)", "/_/many/127"),
        ("129 short headers (+ Content-Length)", "/_/many/128"),
        ("1,000 short headers", "/_/many/1000"),
        ("20 values of 6,000 bytes (117 KiB)", "/_/block/20"),
        ("60 values of 6,000 bytes (352 KiB)", "/_/block/60"),
    ]
    rows = []
    for label, path in cases:
        url = srv.url + path
        hx = await _status_httpx(url)
        with httpcore_event_limit(1 << 21):
            hx_big = await _status_httpx(url)
        rows.append(
            [label, hx, hx_big, await _status_aiohttp(url), await _status_aiohttp(url, **big)]
        )
    _table(
        [
            "response",
            "httpx default",
            "httpx, httpcore limit patched to 2 MiB",
            "aiohttp default",
            "aiohttp max_line/field 1 MiB, max_headers 1024",
        ],
        rows,
    )


async def _stream_capped(chunks: Any) -> tuple[int, int, int, float]:
    """Read chunks until the cap: (chunks, largest chunk, bytes seen, peak traced MiB)."""
    n = largest = total = 0
    async for chunk in chunks:
        n += 1
        largest = max(largest, len(chunk))
        total += len(chunk)
        if total >= CAP:
            break
    return n, largest, total, tracemalloc.get_traced_memory()[1] / 2**20


async def probe_compression(srv: RawServer) -> None:
    print(
        f"\n### (c) Compressed bodies: bombs of {BOMB_SIZE >> 20} MiB zeros "
        f"(gzip {len(srv._bombs['gzip']) // 1024} KiB on the wire), streamed with a "
        f"{CAP >> 20} MiB cap\n"
    )
    rows = []
    for encoding in ("gzip", "deflate"):
        url = f"{srv.url}/_/{encoding}"
        tracemalloc.start()
        try:
            async with httpx.AsyncClient() as hx, hx.stream("GET", url) as r:
                tracemalloc.reset_peak()
                res = await _stream_capped(r.aiter_bytes())
            rows.append(["httpx `aiter_bytes()`", encoding, *_fmt(res)])
        finally:
            tracemalloc.stop()
        tracemalloc.start()
        try:
            async with aiohttp.ClientSession() as ah, ah.get(url) as resp:
                tracemalloc.reset_peak()
                res = await _stream_capped(resp.content.iter_chunked(CHUNK))
            rows.append([f"aiohttp `iter_chunked({CHUNK})`", encoding, *_fmt(res)])
        finally:
            tracemalloc.stop()
    _table(["client", "encoding", "chunks", "largest chunk", "bytes before stop", "peak MiB"], rows)

    print("\nAccept-Encoding sent by default, and a `Content-Encoding: br` body (no brotli lib):\n")
    rows = []
    async with httpx.AsyncClient() as hx:
        try:
            r = await hx.get(srv.url + "/_/br")
            br = f"{r.status_code}, body passed through undecoded ({len(r.content)} bytes)"
        except Exception as exc:
            br = _err(exc)
        rows.append(["httpx", _sent_header(srv, b"accept-encoding"), br])
    async with aiohttp.ClientSession() as ah:
        try:
            async with ah.get(srv.url + "/_/br") as resp:
                br = f"{resp.status}, {len(await resp.read())} bytes"
        except Exception as exc:
            br = _err(exc)
        rows.append(["aiohttp", _sent_header(srv, b"accept-encoding"), br])
    _table(["client", "Accept-Encoding sent", "br response"], rows)


def _fmt(res: tuple[int, int, int, float]) -> list[str]:
    n, largest, total, peak = res
    return [str(n), f"{largest:,}", f"{total:,}", f"{peak:.1f}"]


def _sent_header(srv: RawServer, name: bytes) -> str:
    for line in srv.requests[-1][1]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip().decode("latin-1")
    return "(none)"


async def probe_tls() -> None:
    print("\n### (d) Custom SSLContext (a trustme CA the system store does not know)\n")
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_ctx)
    trusting = ssl.create_default_context()
    ca.configure_trust(trusting)
    srv = await RawServer().start(tls=server_ctx)
    url = srv.url + "/_/body/1048576"  # a body still in flight keeps aiohttp's connection held
    rows = []
    try:
        h: list[str] = ["httpx"]
        try:
            async with httpx.AsyncClient() as c:
                await c.get(url)
            h.append("accepted (!)")
        except Exception as exc:
            h.append(_err(exc))
        async with httpx.AsyncClient(verify=trusting) as c:
            r = await c.get(url)
            tls = r.extensions["network_stream"].get_extra_info("ssl_object")
            h.append(f"{r.status_code}; peer cert + {tls.version()} readable")
            try:
                await c.get(url, verify=trusting)  # type: ignore[call-arg]
                h.append("yes")
            except TypeError:
                h.append("no (client-wide `verify=` only)")
        a: list[str] = ["aiohttp"]
        try:
            async with aiohttp.ClientSession() as s, s.get(url) as resp:
                pass
            a.append("accepted (!)")
        except Exception as exc:
            a.append(_err(exc))
        connector = aiohttp.TCPConnector(ssl=trusting)
        async with aiohttp.ClientSession(connector=connector) as s, s.get(url) as resp:
            held = resp.connection  # None once the body is fully received (connection released)
            tls = held.transport.get_extra_info("ssl_object") if held and held.transport else None
            readable = f"peer cert + {tls.version()} readable" if tls else "TLS object gone"
            a.append(f"{resp.status}; {readable} while `resp.connection` is held")
            await resp.read()
        async with aiohttp.ClientSession() as s, s.get(url, ssl=trusting) as resp:
            a.append(f"yes (`ssl=` per request: {resp.status})")
        rows = [h, a]
    finally:
        await srv.close()
    _table(["client", "default context", "custom context", "per-request context"], rows)


PATHS = [
    "/api/%2e%2e/x",
    "/api/%2E%2E/x",
    "/api/../x",
    "/api/./x",
    "/api/.%2e/x",
    "/API/",
    "//x",
    "/api/%2fadmin",
    "/%61dmin",
    "/admin;/",
    "/admin..;/",
    "/admin/%252e%252e/",
    "/a b",
    "/é",
]


async def probe_paths(srv: RawServer) -> None:
    print("\n### (e) Request target received by the server (✓ = exactly as given)\n")

    def seen(path: str) -> str:
        target = srv.last_target().decode("utf-8", "replace")
        return "✓" if target == path else f"`{target}`"

    rows = []
    async with (
        httpx.AsyncClient() as hx,
        httpcore.AsyncConnectionPool() as pool,
        aiohttp.ClientSession() as ah,
    ):
        for path in PATHS:
            row = [f"`{path}`"]
            try:
                await hx.get(srv.url + path)
                row.append(seen(path))
            except Exception as exc:
                row.append(_err(exc))
            try:
                port = int(srv.url.rsplit(":", 1)[1])
                target = httpcore.URL(
                    scheme="http", host="127.0.0.1", port=port, target=path.encode()
                )
                await pool.request("GET", target)
                row.append(seen(path))
            except Exception as exc:
                row.append(_err(exc))
            for url in (srv.url + path, yarl.URL(srv.url + path, encoded=True)):
                try:
                    async with ah.get(url) as resp:
                        await resp.read()
                    row.append(seen(path))
                except Exception as exc:
                    row.append(_err(exc))
            rows.append(row)
    _table(
        [
            "path given",
            "httpx `get(str)`",
            "httpcore `URL(target=)`",
            "aiohttp `get(str)`",
            "aiohttp `yarl.URL(encoded=True)`",
        ],
        rows,
    )


async def behaviour() -> None:
    srv = await RawServer().start()
    try:
        await probe_headers(srv)
        await probe_header_limits(srv)
        await probe_compression(srv)
        await probe_tls()
        await probe_paths(srv)
    finally:
        await srv.close()


# --------------------------------------------------------------------------------------------


def machine() -> None:
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    libs = ["httpx", "httpcore", "h11", "anyio", "aiohttp", "yarl", "multidict"]
    libs += ["uvicorn", "starlette"]
    print(f"# HTTP client choice — {time.strftime('%Y-%m-%d %H:%M %Z')}")
    print(
        f"nproc {len(os.sched_getaffinity(0))} · {model} · {platform.system()} "
        f"{platform.release()} · {platform.python_implementation()} {platform.python_version()}"
    )
    print(" · ".join(f"{lib} {version(lib)}" for lib in libs))
    parser = aiohttp.http_parser.HttpResponseParser.__module__
    sniffio = "installed" if importlib.util.find_spec("sniffio") else "not installed"
    print(f"aiohttp response parser: {parser} · sniffio {sniffio}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--sniffio-shim", action="store_true", help="add httpx rows with a stand-in sniffio"
    )
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-behaviour", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    machine()
    if not args.skip_throughput:
        throughput(args.requests, args.repeat, with_shim=args.sniffio_shim)
    if not args.skip_behaviour:
        asyncio.run(behaviour())
    print(f"\n(total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
