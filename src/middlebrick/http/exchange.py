"""`Exchange`: the one record of a request and its response that every piece of evidence points to.

Exchanges are frozen and hold request headers already masked: the user's credentials never reach a
check, a report or a log in full. `Masker` is the one place secrets are hidden.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit

from middlebrick.model import ExchangeRecord, Header, RecordedRequest, RecordedResponse

EXCERPT_BYTES = 2048
MASK_MARGIN = 16 * 1024  # read past the cut so that a long secret across it is masked whole
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key"}
)


@dataclass(frozen=True, slots=True)
class Headers:
    """An ordered, case-insensitive multi-map of header fields, as received."""

    items: tuple[tuple[str, str], ...] = ()

    def get(self, name: str, default: str | None = None) -> str | None:
        """The field's value; repeated fields are joined with ', ' as RFC 9110 allows."""
        values = self.get_all(name)
        return ", ".join(values) if values else default

    def get_all(self, name: str) -> list[str]:
        lname = name.lower()
        return [v for k, v in self.items if k.lower() == lname]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and any(k.lower() == name.lower() for k, _ in self.items)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.items)


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    url: str
    headers: Headers
    authenticated: bool = False
    body: bytes = b""  # only error-induction probes under --unsafe send one

    @property
    def path(self) -> str:
        parts = urlsplit(self.url)
        return parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    reason: str
    http_version: str
    headers: Headers
    body: bytes
    truncated: bool = False

    @property
    def content_type(self) -> str:
        """The media type, lower-case, without parameters ('' when absent)."""
        return (self.headers.get("content-type") or "").split(";")[0].strip().lower()

    @property
    def is_json(self) -> bool:
        ct = self.content_type
        return ct == "application/json" or ct.endswith("+json")

    def text(self, limit: int | None = None) -> str:
        body = self.body if limit is None else self.body[:limit]
        return body.decode("utf-8", errors="replace")

    def looks_like_json(self) -> bool:
        """The body parses as a JSON object or array, whatever the content type says."""
        head = self.body.lstrip()[:1]
        if head not in (b"{", b"["):
            return False
        try:
            json.loads(self.body)
        except ValueError:
            return False
        return True


class ErrorKind(StrEnum):
    """Why a request got no response."""

    DNS = "dns"
    REFUSED = "refused"
    TLS = "tls"
    TIMEOUT = "timeout"
    PROTOCOL = "protocol"
    NETWORK = "network"


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request sent by the scanner and its response (or the error that replaced it)."""

    id: int
    purpose: str
    request: Request
    response: Response | None
    error: str | None = None
    error_kind: ErrorKind | None = None
    elapsed_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.response is not None and 200 <= self.response.status < 300

    @property
    def endpoint(self) -> str:
        return f"{self.request.method} {self.request.url}"


@dataclass(slots=True)
class Masker:
    """Hides the user's credentials (and secrets registered later) in any text it is given."""

    secrets: set[str] = field(default_factory=set)
    _pattern: re.Pattern[str] | None = None

    def add(self, *values: str) -> None:
        for value in values:
            if len(value) >= 4:
                self.secrets.add(value)
        self._pattern = None

    def add_basic(self, user_pass: str) -> None:
        _, _, password = user_pass.partition(":")
        token = base64.b64encode(user_pass.encode()).decode()
        self.add(user_pass, token, password)

    def mask(self, text: str) -> str:
        if not self.secrets:
            return text
        if self._pattern is None:
            longest_first = sorted(self.secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in longest_first))
        return self._pattern.sub(lambda m: mask_value(m.group(0)), text)

    def mask_header(self, name: str, value: str) -> str:
        lname = name.lower()
        if lname in ("set-cookie", "cookie"):
            return _mask_cookies(value)
        if lname in SECRET_HEADERS or value in self.secrets:
            scheme, sep, token = value.partition(" ")
            if sep and scheme.isalpha() and token:
                return f"{scheme} {mask_value(token)}"
            return mask_value(value)
        return self.mask(value)


def mask_value(secret: str) -> str:
    """`YWxpY2U6d29uZGVy` -> `YWxp…(16)`: enough to recognise, not enough to use."""
    keep = 4 if len(secret) >= 12 else 0
    return f"{secret[:keep]}…({len(secret)})"


def _mask_cookies(value: str) -> str:
    """Mask each cookie's value but keep names and attributes (`sid=abcd…(32); HttpOnly`)."""
    return re.sub(
        r"(^|;\s*|,\s*)([^=;,\s]+)=([^;,]*)",
        lambda m: m.group(1) + m.group(2) + "=" + _cookie_value(m.group(2), m.group(3)),
        value,
    )


_COOKIE_ATTRIBUTES = frozenset({"path", "domain", "expires", "max-age", "samesite", "priority"})


def _cookie_value(name: str, value: str) -> str:
    return value if name.lower() in _COOKIE_ATTRIBUTES or not value else mask_value(value)


def to_record(ex: Exchange, masker: Masker) -> ExchangeRecord:
    """The masked form of an exchange that reports carry."""
    req = ex.request
    resp = ex.response
    return ExchangeRecord(
        id=ex.id,
        purpose=ex.purpose,
        request=RecordedRequest(
            method=req.method,
            url=masker.mask(req.url),
            # request headers were masked when the exchange was recorded
            headers=[Header(name=k, value=masker.mask(v)) for k, v in req.headers],
            body=_excerpt(masker, req.body.decode("utf-8", "replace")) if req.body else None,
        ),
        response=None
        if resp is None
        else RecordedResponse(
            status=resp.status,
            reason=resp.reason,
            http_version=resp.http_version,
            headers=_record_headers(resp.headers, masker),
            body_excerpt=_excerpt(masker, resp.text(EXCERPT_BYTES + MASK_MARGIN)),
            body_size=len(resp.body),
            truncated=resp.truncated,
        ),
        error=None if ex.error is None else masker.mask(ex.error),
        elapsed_ms=round(ex.elapsed_ms, 1),
    )


def _excerpt(masker: Masker, text: str) -> str:
    """Mask, then cut: a secret that straddles the cut must not show its first half."""
    return masker.mask(text[: EXCERPT_BYTES + MASK_MARGIN])[:EXCERPT_BYTES]


def _record_headers(headers: Iterable[tuple[str, str]], masker: Masker) -> list[Header]:
    return [Header(name=k, value=masker.mask_header(k, v)) for k, v in headers]


def url_for_log(url: str) -> str:
    """`url` with every query value masked and no user info: what a log line may show of a URL
    whose query could carry a token nobody has identified yet."""
    parts = urlsplit(url)
    if not parts.query and "@" not in parts.netloc:
        return url
    query = "&".join(
        f"{name}={mask_value(value)}" if sep else name
        for name, sep, value in (pair.partition("=") for pair in parts.query.split("&") if pair)
    )
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))
