"""The one HTTP client wrapper: every request of a scan goes through `HttpClient.send`.

It owns what must hold for every request whoever asks: a connection pool, bounded concurrency and
rate, the scan deadline, bodies streamed and capped, redirects never followed, identical requests
sent once, a target's rate limiting honoured, and a masked `Exchange` recorded for each.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import ssl
import time
import zlib
from collections import Counter, deque
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import aiohttp
from yarl import URL

from middlebrick.errors import SpecError
from middlebrick.http.exchange import (
    ErrorKind,
    Exchange,
    Headers,
    Masker,
    Request,
    Response,
    url_for_log,
)
from middlebrick.http.guard import NotPinned, Pin, PinnedResolver, Pins

USER_AGENT = "middlebrick/{version} (+API security scan)"
MAX_HEADER_LINE = 64 * 1024  # aiohttp's 8 KiB default refuses real-world cookie and CSP lines
CHUNK = 64 * 1024
MAX_DOCUMENT = 50 * 1024 * 1024
# Bodies are kept for the passive checks that run after the active ones. Identical bodies are kept
# once; past `RETAINED_BODIES` bytes of distinct ones, a new body keeps only its first
# `RETAINED_HEAD` bytes (marked truncated), so memory grows with the number of requests, not with
# the size of what a target chooses to send.
RETAINED_BODIES = 64 << 20
RETAINED_HEAD = 16 << 10
MAX_RETRY_AFTER = 10.0  # seconds a 429/503 may pause the scan for, at most
MIN_RATE = 0.5  # requests per second that halving on a 429 never goes below

log = logging.getLogger("middlebrick.http")


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

    With a `pin` (host -> addresses, see `http.guard`), it connects only to the pinned addresses
    and refuses any other host: names are not resolved again after a policy admitted them.

    A 429 (or a 503 with `Retry-After`) pauses every request for the time the target asks (at
    most `MAX_RETRY_AFTER`, never past the deadline), halves the request rate for the rest of the
    scan, and is retried once; `throttled` and `rate` tell the engine, which tells the user.
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
        pin: Pin = (),
    ) -> None:
        self._masker = masker
        self._pins = Pins.of(pin)
        self._timeout = timeout
        self._deadline = deadline
        self._body_cap = body_cap
        self._rate_interval = 1.0 / rate if rate else 0.0
        self._next_slot = 0.0
        self._resume_at = 0.0  # no request starts before this (a target's Retry-After)
        self._slowed_at = -1.0
        self._starts: deque[float] = deque(maxlen=256)
        self._rate_lock = asyncio.Lock()
        self._slots = asyncio.Semaphore(concurrency)
        self._sent: dict[tuple[object, ...], asyncio.Task[Exchange]] = {}
        self._bodies: dict[bytes, bytes] = {}
        self._retained = 0
        self._default_headers = {
            "User-Agent": user_agent,
            "Accept": "application/json, */*;q=0.5",
            "Accept-Encoding": "gzip, deflate",  # what `Decoder` can bound
        }
        self.exchanges: list[Exchange] = []
        self.throttled: Counter[int] = Counter()  # 429/503 answers that asked the scan to wait
        self.bodies_shortened = 0  # bodies kept to their first RETAINED_HEAD bytes
        self._session = aiohttp.ClientSession(
            connector=_connector(verify, self._pins, limit=concurrency),
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

    @property
    def rate(self) -> float | None:
        """Requests per second now allowed (None: no cap)."""
        return 1.0 / self._rate_interval if self._rate_interval else None

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
        exchange = await self._attempt(method, url, headers, purpose, authenticated, body)
        if exchange.response is None or not self._asked_to_wait(exchange.response):
            return exchange
        retry = f"{purpose} (retried after HTTP {exchange.response.status})"
        return await self._attempt(method, url, headers, retry, authenticated, body)

    async def _attempt(
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
            head: list[int] = []  # the status, once the response head has arrived
            try:
                async with asyncio.timeout(timeout):
                    response, sent = await self._exchange(method, url, headers, body, head)
            except TimeoutError:
                kind = ErrorKind.TIMEOUT
                error = (
                    f"the response body did not finish within {timeout:.1f}s (HTTP {head[0]})"
                    if head
                    else f"no response within {timeout:.1f}s"
                )
            except (aiohttp.ClientError, OSError, ValueError) as exc:
                kind, error = classify(exc, https=url.startswith("https:"))
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
            if log.isEnabledFor(logging.DEBUG):
                log.debug(
                    "%s %s -> %s (%.0f ms, %d bytes)",
                    method,
                    url_for_log(url),
                    response.status if response else f"error: {exchange.error}",
                    exchange.elapsed_ms,
                    len(response.body) if response else 0,
                )
            return exchange

    async def _exchange(
        self, method: str, url: str, headers: dict[str, str], body: bytes, head: list[int]
    ) -> tuple[Response, list[tuple[str, str]]]:
        target = URL(url, encoded=True)
        self._pins.addresses(target.raw_host or "")  # IP literals never reach the resolver
        async with self._session.request(
            method,
            target,
            headers=headers,
            data=body or None,
            allow_redirects=False,
        ) as resp:
            head.append(resp.status)
            content, truncated = b"", False
            if method != "HEAD":
                content, truncated = await self._read_capped(resp)
            content, truncated = self._retain(content, truncated)
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
                    body=content,
                    truncated=truncated,
                ),
                sent,
            )

    async def _read_capped(self, response: aiohttp.ClientResponse) -> tuple[bytes, bool]:
        """Read at most `body_cap` decoded bytes. Decoding is ours, so that a small compressed
        chunk can never expand past the cap in memory (a decompression bomb). Bytes on the wire
        are capped too (at twice `body_cap`), and nothing is read past the end of a compressed
        stream: input that decodes to nothing cannot be made to pile up either."""
        decoder = Decoder.for_encoding(response.headers.get("content-encoding", ""))
        chunks: list[bytes] = []
        room, wire = self._body_cap, 2 * self._body_cap
        async for raw in response.content.iter_chunked(CHUNK):
            if decoder.finished:  # bytes after the end of the compressed stream
                response.close()
                return b"".join(chunks), True
            data = decoder.feed(raw, room + 1)
            chunks.append(data)
            room -= len(data)
            wire -= len(raw)
            if room < 0 or wire < 0:
                response.close()  # do not drain the rest of an endless or huge body
                return b"".join(chunks)[: self._body_cap], True
        return b"".join(chunks), False

    def _retain(self, body: bytes, truncated: bool) -> tuple[bytes, bool]:
        """The body as the scan keeps it: one copy of identical bodies, and only the head of new
        large ones once `RETAINED_BODIES` bytes are kept."""
        if len(body) <= RETAINED_HEAD:
            return body, truncated
        kept = self._bodies.get(body)
        if kept is not None:
            return kept, truncated
        if self._retained + len(body) > RETAINED_BODIES:
            self.bodies_shortened += 1
            return body[:RETAINED_HEAD], True
        self._bodies[body] = body
        self._retained += len(body)
        return body, truncated

    async def _wait_for_rate_slot(self) -> None:
        async with self._rate_lock:
            now = time.monotonic()
            slot = max(now, self._next_slot, self._resume_at)
            if self._rate_interval:
                self._next_slot = slot + self._rate_interval
        if slot >= self._deadline:
            raise BudgetExhausted  # waiting for the slot would outlast the scan
        if slot > now:
            await asyncio.sleep(slot - now)
        self._starts.append(time.monotonic())

    def _asked_to_wait(self, resp: Response) -> bool:
        """On 429 (or 503 with Retry-After): pause every request, halve the rate once per
        episode, and say whether to retry. Raises `BudgetExhausted` if the wait would outlast
        the scan."""
        if resp.status not in (429, 503):
            return False
        asked = retry_after(resp.headers.get("retry-after"))
        if asked is None and resp.status == 503:
            return False  # an outage, not a request to slow down
        self.throttled[resp.status] += 1
        now = time.monotonic()
        wait = min(MAX_RETRY_AFTER, asked if asked is not None else 1.0)
        if now + wait >= self._deadline:
            raise BudgetExhausted
        if now >= self._resume_at and now - self._slowed_at >= 1.0:
            # the first 429 of a burst: the others were already in flight at the old rate
            self._slowed_at = now
            current = 1.0 / self._rate_interval if self._rate_interval else self._observed_rate()
            self._rate_interval = 1.0 / max(MIN_RATE, min(current, self._observed_rate()) / 2)
        self._resume_at = max(self._resume_at, now + wait)
        return True

    def _observed_rate(self) -> float:
        """Requests per second started over the last two seconds."""
        now = time.monotonic()
        recent = [t for t in self._starts if now - t <= 2.0]
        if len(recent) < 2:
            return 2 * MIN_RATE
        return len(recent) / max(now - recent[0], 0.05)


def retry_after(value: str | None) -> float | None:
    """Seconds a `Retry-After` value asks for (delay-seconds or an HTTP date); None if absent or
    unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class Decoder:
    """Incremental Content-Encoding decoder whose output per call is bounded.

    It decodes what the client asks for (`gzip`, `deflate`). Anything else — `br`, `zstd`, an
    unknown or stacked encoding — is kept as received, raw and capped like any body: no brotli
    package is a dependency, and a decoder without an output bound would be a bomb's fuse.
    """

    def __init__(self, wbits: int | None) -> None:
        self._zlib = None if wbits is None else zlib.decompressobj(wbits)
        # "deflate" is often sent raw (RFC 1951) rather than zlib-wrapped (RFC 1950): the first
        # two bytes tell, so they are held until both have arrived
        self._sniff: bytes | None = b"" if wbits == zlib.MAX_WBITS else None

    @classmethod
    def for_encoding(cls, header: str) -> Decoder:
        encoding = header.rsplit(",", maxsplit=1)[-1].strip().lower()
        if encoding in ("gzip", "x-gzip"):
            return cls(16 + zlib.MAX_WBITS)
        if encoding == "deflate":
            return cls(zlib.MAX_WBITS)
        return cls(None)  # identity, or an encoding we did not ask for: kept as received

    @property
    def finished(self) -> bool:
        """The compressed stream has ended: whatever follows is not part of the body."""
        return self._zlib is not None and self._zlib.eof

    def feed(self, data: bytes, limit: int) -> bytes:
        """Decode `data`; return at most `limit` (> 0) bytes. Input beyond what `limit` lets
        through, and input after the end of the stream, is dropped: callers stop there."""
        if self._sniff is not None:
            data = self._sniff + data
            if len(data) < 2:
                self._sniff = data
                return b""
            self._sniff = None
            if not _zlib_header(data):
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
        if self._zlib is None:
            return data[:limit]
        out: list[bytes] = []
        pending, room = data, limit
        try:
            while room > 0 and pending and not self._zlib.eof:
                chunk = self._zlib.decompress(pending, room)
                out.append(chunk)
                room -= len(chunk)
                pending = self._zlib.unconsumed_tail
        except zlib.error:
            self._zlib = None  # undecodable: keep the bytes as they came
            return data[:limit]
        return b"".join(out)


def _zlib_header(head: bytes) -> bool:
    """RFC 1950: compression method 8, and the two bytes a multiple of 31."""
    return head[0] & 0x0F == 8 and ((head[0] << 8) | head[1]) % 31 == 0


def _connector(verify: ssl.SSLContext, pins: Pins, *, limit: int = 100) -> aiohttp.TCPConnector:
    if not pins:
        return aiohttp.TCPConnector(limit=limit, ssl=verify)
    return aiohttp.TCPConnector(
        limit=limit, ssl=verify, resolver=PinnedResolver(pins), use_dns_cache=False
    )


async def fetch_document(url: str, *, verify: ssl.SSLContext, seconds: float, pin: Pin = ()) -> str:
    """GET a document the user named (an OpenAPI spec URL), capped at `MAX_DOCUMENT` bytes;
    with a `pin`, only from a pinned host and address."""
    pins = Pins.of(pin)
    try:
        target = URL(url, encoded=True)
        pins.addresses(target.raw_host or "")
        async with (
            asyncio.timeout(seconds),
            aiohttp.ClientSession(
                connector=_connector(verify, pins), auto_decompress=False, trust_env=False
            ) as session,
            session.get(target, allow_redirects=False) as resp,
        ):
            if resp.status != 200:
                raise SpecError(f"spec URL {url} answered HTTP {resp.status}")
            decoder = Decoder.for_encoding(resp.headers.get("content-encoding", ""))
            chunks, room = [], MAX_DOCUMENT
            async for raw in resp.content.iter_chunked(CHUNK):
                if decoder.finished:
                    break  # bytes after the end of the compressed stream
                data = decoder.feed(raw, room + 1)
                room -= len(data)
                if room < 0:
                    raise SpecError(f"spec URL {url}: larger than {MAX_DOCUMENT >> 20} MB")
                chunks.append(data)
    except TimeoutError:
        raise SpecError(f"cannot fetch spec {url}: no answer within {seconds:.0f}s") from None
    except (aiohttp.ClientError, OSError) as exc:
        reason = classify(exc, https=url.startswith("https:"))[1]
        raise SpecError(f"cannot fetch spec {url}: {reason}") from None
    return b"".join(chunks).decode("utf-8", errors="replace")


def classify(exc: BaseException, *, https: bool = False) -> tuple[ErrorKind, str]:
    """Name the network failure behind a client error in words a user can act on (`https`: the
    request was for an https URL, so a connection lost while connecting was lost in the TLS
    handshake)."""
    if isinstance(exc, NotPinned):
        return ErrorKind.DNS, str(exc)
    if isinstance(exc, aiohttp.ClientConnectorDNSError) and isinstance(exc.os_error, NotPinned):
        return ErrorKind.DNS, str(exc.os_error)
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
        if https and isinstance(exc.os_error, ConnectionError):
            return ErrorKind.TLS, "TLS handshake failed: the server closed the connection"
        return ErrorKind.NETWORK, f"could not connect ({exc.os_error.strerror or exc.os_error})"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return ErrorKind.PROTOCOL, "the server closed the connection without answering"
    if isinstance(exc, aiohttp.ClientResponseError):
        message = str(exc.message)
        if message.startswith("Got more than"):  # aiohttp's LineTooLong
            return (
                ErrorKind.PROTOCOL,
                f"the response head is too large: a line over {MAX_HEADER_LINE >> 10} KiB",
            )
        if message.startswith("Too many headers"):
            return ErrorKind.PROTOCOL, "the response head is too large: too many header fields"
        return ErrorKind.PROTOCOL, f"the server did not answer with HTTP ({_first_line(exc)})"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return (
            ErrorKind.PROTOCOL,
            f"the response body was cut off or malformed ({_first_line(exc)})",
        )
    if isinstance(exc, ssl.SSLError):
        return ErrorKind.TLS, f"TLS handshake failed: {_ssl_reason(exc)}"
    if isinstance(exc, OSError) and exc.errno in (errno.ECONNRESET, errno.EPIPE):
        return ErrorKind.NETWORK, "the server reset the connection"
    return ErrorKind.NETWORK, f"{type(exc).__name__}: {_first_line(exc)}"


def _ssl_reason(exc: BaseException) -> str:
    inner = getattr(exc, "os_error", None) or exc
    return str(getattr(inner, "reason", None) or _first_line(inner))


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
