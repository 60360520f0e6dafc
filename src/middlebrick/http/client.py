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

import aiohttp
from yarl import URL

from middlebrick.errors import SpecError
from middlebrick.http.exchange import ErrorKind, Exchange, Headers, Masker, Request, Response

USER_AGENT = "middlebrick/{version} (+API security scan)"
MAX_HEADER_LINE = 64 * 1024  # aiohttp's 8 KiB default refuses real-world cookie and CSP lines
CHUNK = 64 * 1024
MAX_DOCUMENT = 50 * 1024 * 1024


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
    """Async client with the scan's limits. Use as `async with HttpClient(...) as client`.

    Built on aiohttp (chosen by measurement, see bench/RESULTS.md): it decodes nothing itself
    (`auto_decompress=False`, our `Decoder` bounds decompressed size), keeps no cookies (every
    request carries exactly the credentials a check asked for), and sends URLs as given.
    """

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
        self._default_headers = {
            "User-Agent": user_agent,
            "Accept": "application/json, */*;q=0.5",
            "Accept-Encoding": "gzip, deflate",  # what `Decoder` can bound
        }
        self.exchanges: list[Exchange] = []
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=concurrency, ssl=verify),
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            trust_env=False,
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
            max_line_size=MAX_HEADER_LINE,
            max_field_size=MAX_HEADER_LINE,
        )

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        # requests whose checks were cancelled at the deadline may still be in flight
        for task in self._sent.values():
            if not task.done():
                task.cancel()
        await asyncio.gather(*self._sent.values(), return_exceptions=True)
        await self._session.close()

    @property
    def requests_sent(self) -> int:
        return len(self.exchanges)

    @property
    def remaining(self) -> float:
        return self._deadline - time.monotonic()

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None = None,
        *,
        purpose: str,
        authenticated: bool = False,
        body: bytes = b"",
    ) -> Exchange:
        """Send once; an identical request already sent returns the same exchange."""
        merged = {**self._default_headers, **(headers or {})}
        key = (method, url, tuple(sorted((k.lower(), v) for k, v in merged.items())), body)
        task = self._sent.get(key)
        if task is None:
            task = asyncio.ensure_future(
                self._send(method, url, merged, purpose, authenticated, body)
            )
            self._sent[key] = task
        return await asyncio.shield(task)

    async def _send(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        purpose: str,
        authenticated: bool,
        body: bytes,
    ) -> Exchange:
        async with self._slots:
            await self._wait_for_rate_slot()
            if self.remaining <= 0:
                raise BudgetExhausted
            timeout = min(self._timeout, self.remaining)
            sent: list[tuple[str, str]] = list(headers.items())
            started = time.perf_counter()
            response: Response | None = None
            error: str | None = None
            kind: ErrorKind | None = None
            try:
                async with asyncio.timeout(timeout):
                    response, sent = await self._exchange(method, url, headers, body)
            except TimeoutError:
                kind, error = ErrorKind.TIMEOUT, f"no response within {timeout:.1f}s"
            except (aiohttp.ClientError, OSError, ValueError) as exc:
                kind, error = classify(exc)
            exchange = Exchange(
                id=len(self.exchanges) + 1,
                purpose=purpose,
                request=Request(
                    method=method,
                    url=url,
                    headers=Headers(tuple((k, self._masker.mask_header(k, v)) for k, v in sent)),
                    authenticated=authenticated,
                    body=body,
                ),
                response=response,
                error=None if error is None else self._masker.mask(error),
                error_kind=kind,
                elapsed_ms=(time.perf_counter() - started) * 1000,
            )
            self.exchanges.append(exchange)
            return exchange

    async def _exchange(
        self, method: str, url: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[Response, list[tuple[str, str]]]:
        async with self._session.request(
            method,
            URL(url, encoded=True),
            headers=headers,
            data=body or None,
            allow_redirects=False,
        ) as resp:
            body, truncated = b"", False
            if method != "HEAD":
                body, truncated = await self._read_capped(resp)
            sent = list(resp.request_info.headers.items())
            version = f"HTTP/{resp.version.major}.{resp.version.minor}" if resp.version else ""
            return (
                Response(
                    status=resp.status,
                    reason=resp.reason or "",
                    http_version=version,
                    headers=Headers(
                        tuple(
                            (k.decode("latin-1"), v.decode("latin-1")) for k, v in resp.raw_headers
                        )
                    ),
                    body=body,
                    truncated=truncated,
                ),
                sent,
            )

    async def _read_capped(self, response: aiohttp.ClientResponse) -> tuple[bytes, bool]:
        """Read at most `body_cap` decoded bytes. Decoding is ours, so that a small compressed
        chunk can never expand past the cap in memory (a decompression bomb)."""
        decoder = Decoder.for_encoding(response.headers.get("content-encoding", ""))
        chunks: list[bytes] = []
        room = self._body_cap
        async for raw in response.content.iter_chunked(CHUNK):
            data = decoder.feed(raw, room + 1)
            chunks.append(data)
            room -= len(data)
            if room < 0:
                response.close()  # do not drain the rest of an endless or huge body
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


async def fetch_document(url: str, *, verify: ssl.SSLContext, seconds: float) -> str:
    """GET a document the user named (an OpenAPI spec URL), capped at `MAX_DOCUMENT` bytes."""
    try:
        async with (
            asyncio.timeout(seconds),
            aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=verify), auto_decompress=False
            ) as session,
            session.get(URL(url, encoded=True), allow_redirects=False) as resp,
        ):
            if resp.status != 200:
                raise SpecError(f"spec URL {url} answered HTTP {resp.status}")
            decoder = Decoder.for_encoding(resp.headers.get("content-encoding", ""))
            chunks, room = [], MAX_DOCUMENT
            async for raw in resp.content.iter_chunked(CHUNK):
                data = decoder.feed(raw, room + 1)
                room -= len(data)
                if room < 0:
                    raise SpecError(f"spec URL {url}: larger than {MAX_DOCUMENT >> 20} MB")
                chunks.append(data)
    except TimeoutError:
        raise SpecError(f"cannot fetch spec {url}: no answer within {seconds:.0f}s") from None
    except (aiohttp.ClientError, OSError) as exc:
        raise SpecError(f"cannot fetch spec {url}: {classify(exc)[1]}") from None
    return b"".join(chunks).decode("utf-8", errors="replace")


def classify(exc: BaseException) -> tuple[ErrorKind, str]:
    """Name the network failure behind a client error in words a user can act on."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        cert = exc.certificate_error
        message = getattr(cert, "verify_message", None) or str(cert)
        return ErrorKind.TLS, f"TLS certificate rejected: {message}"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return ErrorKind.DNS, "the host name does not resolve"
    if isinstance(exc, aiohttp.ClientConnectorSSLError | aiohttp.ClientSSLError):
        return ErrorKind.TLS, f"TLS handshake failed: {_ssl_reason(exc)}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        if exc.os_error.errno == errno.ECONNREFUSED:
            return ErrorKind.REFUSED, "connection refused"
        if isinstance(exc.os_error, ssl.SSLError):
            return ErrorKind.TLS, f"TLS handshake failed: {_ssl_reason(exc.os_error)}"
        return ErrorKind.NETWORK, f"could not connect ({exc.os_error.strerror or exc.os_error})"
    if isinstance(exc, aiohttp.ClientResponseError | aiohttp.ServerDisconnectedError):
        return ErrorKind.PROTOCOL, f"the server did not answer with HTTP ({_first_line(exc)})"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return (
            ErrorKind.PROTOCOL,
            f"the response body was cut off or malformed ({_first_line(exc)})",
        )
    if isinstance(exc, ssl.SSLError):
        return ErrorKind.TLS, f"TLS handshake failed: {_ssl_reason(exc)}"
    return ErrorKind.NETWORK, f"{type(exc).__name__}: {_first_line(exc)}"


def _ssl_reason(exc: BaseException) -> str:
    inner = getattr(exc, "os_error", None) or exc
    return str(getattr(inner, "reason", None) or _first_line(inner))


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
