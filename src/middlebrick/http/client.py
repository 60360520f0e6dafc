"""The one HTTP client wrapper: every request of a scan goes through `HttpClient.send`.

It owns what must hold for every request whoever asks: a connection pool, bounded concurrency and
rate, the scan deadline, bodies streamed and capped, redirects never followed, identical requests
sent once, and a masked `Exchange` recorded for each.
"""

from __future__ import annotations

import asyncio
import errno
import ssl
import time
import zlib
from collections.abc import Mapping
from pathlib import Path

import httpx

from middlebrick.http.exchange import ErrorKind, Exchange, Headers, Masker, Request, Response

USER_AGENT = "middlebrick/{version} (+API security scan)"


class BudgetExhausted(Exception):
    """The scan's deadline has passed: no more requests are sent."""


def tls_context(ca_bundle: Path | None, insecure: bool) -> ssl.SSLContext:
    if insecure:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    return ssl.create_default_context(cafile=str(ca_bundle) if ca_bundle else None)


class HttpClient:
    """Async client with the scan's limits. Use as `async with HttpClient(...) as client`."""

    def __init__(
        self,
        *,
        masker: Masker,
        user_agent: str,
        timeout: float,
        concurrency: int,
        rate: float | None,
        deadline: float,
        body_cap: int,
        verify: ssl.SSLContext,
    ) -> None:
        self._masker = masker
        self._timeout = timeout
        self._deadline = deadline
        self._body_cap = body_cap
        self._rate_interval = 1.0 / rate if rate else 0.0
        self._next_slot = 0.0
        self._rate_lock = asyncio.Lock()
        self._slots = asyncio.Semaphore(concurrency)
        self._sent: dict[tuple[object, ...], asyncio.Task[Exchange]] = {}
        self.exchanges: list[Exchange] = []
        self._client = httpx.AsyncClient(
            verify=verify,
            follow_redirects=False,
            trust_env=False,
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
            headers={
                "User-Agent": user_agent,
                "Accept": "application/json, */*;q=0.5",
                "Accept-Encoding": "gzip, deflate",  # what `Decoder` can bound
            },
        )

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        # requests whose checks were cancelled at the deadline may still be in flight
        pending = [t for t in self._sent.values() if not t.done()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*self._sent.values(), return_exceptions=True)
        await self._client.aclose()

    @property
    def requests_sent(self) -> int:
        return len(self.exchanges)

    @property
    def remaining(self) -> float:
        return self._deadline - time.monotonic()

    def extend_deadline(self, seconds: float) -> None:
        self._deadline = time.monotonic() + seconds

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None = None,
        *,
        purpose: str,
        authenticated: bool = False,
    ) -> Exchange:
        """Send once; an identical request already sent returns the same exchange."""
        headers = dict(headers or {})
        key = (method, url, tuple(sorted((k.lower(), v) for k, v in headers.items())))
        task = self._sent.get(key)
        if task is None:
            task = asyncio.ensure_future(self._send(method, url, headers, purpose, authenticated))
            self._sent[key] = task
        return await asyncio.shield(task)

    async def _send(
        self, method: str, url: str, headers: dict[str, str], purpose: str, authenticated: bool
    ) -> Exchange:
        async with self._slots:
            await self._wait_for_rate_slot()
            if self.remaining <= 0:
                raise BudgetExhausted
            timeout = min(self._timeout, self.remaining)
            request = self._client.build_request(
                method, url, headers=headers, timeout=httpx.Timeout(timeout)
            )
            recorded = Request(
                method=method,
                url=url,
                headers=Headers(
                    tuple(
                        (
                            k.decode("latin-1"),
                            self._masker.mask_header(k.decode("latin-1"), v.decode("latin-1")),
                        )
                        for k, v in request.headers.raw
                    )
                ),
                authenticated=authenticated,
            )
            started = time.perf_counter()
            response: Response | None = None
            error: str | None = None
            kind: ErrorKind | None = None
            try:
                response = await asyncio.wait_for(self._receive(request), timeout + 1)
            except (httpx.TimeoutException, TimeoutError):
                kind, error = ErrorKind.TIMEOUT, f"no response within {timeout:.1f}s"
            except httpx.HTTPError as exc:
                kind, error = classify(exc)
            elapsed = (time.perf_counter() - started) * 1000
            exchange = Exchange(
                id=len(self.exchanges) + 1,
                purpose=purpose,
                request=recorded,
                response=response,
                error=None if error is None else self._masker.mask(error),
                error_kind=kind,
                elapsed_ms=elapsed,
            )
            self.exchanges.append(exchange)
            return exchange

    async def _receive(self, request: httpx.Request) -> Response:
        response = await self._client.send(request, stream=True)
        try:
            body, truncated = b"", False
            if request.method != "HEAD":
                body, truncated = await self._read_capped(response)
        finally:
            await response.aclose()
        return Response(
            status=response.status_code,
            reason=response.reason_phrase,
            http_version=response.http_version,
            headers=Headers(
                tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw)
            ),
            body=body,
            truncated=truncated,
        )

    async def _read_capped(self, response: httpx.Response) -> tuple[bytes, bool]:
        """Read at most `body_cap` decoded bytes. Decoding is ours, not httpx's, so that a small
        compressed chunk can never expand past the cap in memory (a decompression bomb)."""
        decoder = Decoder.for_encoding(response.headers.get("content-encoding", ""))
        chunks: list[bytes] = []
        room = self._body_cap
        async for raw in response.aiter_raw():
            data = decoder.feed(raw, room + 1)
            chunks.append(data)
            room -= len(data)
            if room < 0:
                return b"".join(chunks)[: self._body_cap], True
        return b"".join(chunks), False

    async def _wait_for_rate_slot(self) -> None:
        if not self._rate_interval:
            return
        async with self._rate_lock:
            now = time.monotonic()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self._rate_interval
        if slot > now:
            await asyncio.sleep(slot - now)


class Decoder:
    """Incremental Content-Encoding decoder whose output per call is bounded."""

    def __init__(self, wbits: int | None) -> None:
        self._zlib = None if wbits is None else zlib.decompressobj(wbits)
        self._may_be_raw_deflate = wbits == zlib.MAX_WBITS
        self._started = False

    @classmethod
    def for_encoding(cls, header: str) -> Decoder:
        encoding = header.rsplit(",", maxsplit=1)[-1].strip().lower()
        if encoding in ("gzip", "x-gzip"):
            return cls(16 + zlib.MAX_WBITS)
        if encoding == "deflate":
            return cls(zlib.MAX_WBITS)
        return cls(None)  # identity, or an encoding we did not ask for: kept as received

    def feed(self, data: bytes, limit: int) -> bytes:
        """Decode `data`; return at most `limit` (> 0) bytes, keeping the rest of the input."""
        if self._zlib is None:
            return data[:limit]
        out: list[bytes] = []
        pending = data
        try:
            while limit > 0:
                chunk = self._zlib.decompress(pending, limit)
                out.append(chunk)
                limit -= len(chunk)
                pending = self._zlib.unconsumed_tail
                if not pending:
                    break
        except zlib.error:
            if self._may_be_raw_deflate and not self._started:
                # "deflate" is often sent raw (RFC 1951) rather than zlib-wrapped (RFC 1950)
                self._zlib, self._may_be_raw_deflate = zlib.decompressobj(-zlib.MAX_WBITS), False
                return self.feed(data, limit)
            self._zlib = None  # undecodable: keep the bytes as they came
            return data[:limit]
        self._started = True
        return b"".join(out)


def classify(exc: httpx.HTTPError) -> tuple[ErrorKind, str]:
    """Name the network failure behind an httpx error in words a user can act on."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return ErrorKind.TLS, f"TLS certificate rejected: {cause.verify_message}"
        if isinstance(cause, ssl.SSLError):
            return ErrorKind.TLS, f"TLS handshake failed: {cause.reason or cause}"
        if isinstance(cause, OSError) and cause.errno == errno.ECONNREFUSED:
            return ErrorKind.REFUSED, "connection refused"
        if (
            "Name or service not known" in str(cause)
            or "nodename nor servname" in str(cause)
            or ("getaddrinfo" in str(cause) or "Temporary failure in name resolution" in str(cause))
        ):
            return ErrorKind.DNS, "the host name does not resolve"
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, httpx.ConnectError) and "refused" in str(exc).lower():
        return ErrorKind.REFUSED, "connection refused"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.LocalProtocolError):
        return ErrorKind.PROTOCOL, f"the server did not answer with HTTP ({exc})"
    if isinstance(exc, httpx.ConnectError):
        return ErrorKind.NETWORK, f"could not connect ({exc})"
    return ErrorKind.NETWORK, f"{type(exc).__name__}: {exc}"
