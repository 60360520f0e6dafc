"""What a check sees: the target's facts, the recorded exchanges, and (for active checks) a sender.

The engine builds these contexts; checks only read them and yield `RawFinding`s through
`ctx.finding(...)`, which fills in everything the `@check` decorator already knows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlencode

from middlebrick.checks._check import Check
from middlebrick.http.exchange import Exchange
from middlebrick.http.tls import Handshake
from middlebrick.model import Confidence, Severity
from middlebrick.spec.operations import ApiSpec, Operation


class NotApplicable(Exception):
    """Raised by a check that has nothing to judge on this target; the reason is reported."""


@dataclass(frozen=True, slots=True)
class Origin:
    scheme: str
    host: str
    port: int

    @property
    def url(self) -> str:
        default = {"http": 80, "https": 443}[self.scheme]
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}" + ("" if self.port == default else f":{self.port}")

    def __str__(self) -> str:
        return self.url


@dataclass(frozen=True, slots=True)
class Target:
    """What recon learnt about the target before any check ran."""

    url: str  # as given, normalised
    origin: Origin  # the origin scanned (an http target that upgrades is scanned over https)
    base_path: str  # "" or "/api"
    given_origin: Origin
    http_origin: Origin | None  # the plain-HTTP listener for this host, if one is known
    server: str | None
    framework: str  # flask, fastapi, django, express, generic, ...
    auth_schemes: tuple[str, ...]  # lower-case schemes from WWW-Authenticate, e.g. ("basic",)
    has_credentials: bool
    credential_kinds: tuple[str, ...]  # "basic", "bearer", "header:X-Api-Key"

    @property
    def tls(self) -> bool:
        return self.origin.scheme == "https"

    def url_for(self, path: str, origin: Origin | None = None) -> str:
        return f"{(origin or self.origin).url}{self.base_path}{path}"


@dataclass(frozen=True, slots=True)
class RawFinding:
    """A finding as a check reports it; the engine deduplicates and dresses it for the report."""

    check: Check
    detail: str
    exchanges: tuple[Exchange, ...]
    severity: Severity
    confidence: Confidence
    key: str  # findings of one check with the same key merge into one (endpoints are unioned)
    endpoints: tuple[str, ...]
    excerpt: str | None
    headers: tuple[str, ...]  # response header names the evidence excerpt shows
    reproduce: str | None = None  # a command line, when a curl of the exchange would not show it
    secrets: tuple[str, ...] = ()  # values found in the target's answers: masked in every output


class Sender(Protocol):
    def __call__(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = ...,
        credentials: bool = ...,
        purpose: str,
        body: bytes = ...,
    ) -> Awaitable[Exchange]: ...


Handshaker = Callable[..., Awaitable[Handshake]]


@dataclass(slots=True)
class Context:
    """The view a passive check has of the scan."""

    check: Check
    target: Target
    operations: Sequence[Operation]
    recorded: Sequence[Exchange]
    protected_urls: frozenset[str] = frozenset()  # answered 401/403 without credentials
    spec: ApiSpec | None = None
    spec_exchange: Exchange | None = None  # where the scan found the API description, if it did
    # (method, url) -> answered exchanges, built on first use and extended as requests are recorded
    _by_request: dict[tuple[str, str], list[Exchange]] = field(
        default_factory=dict, init=False, repr=False
    )
    _indexed: int = field(default=0, init=False, repr=False)

    def at(self, url: str, method: str = "GET") -> list[Exchange]:
        """The recorded exchanges of `method url` that got a response, in order. A check that
        looks up each operation's exchanges would otherwise read every exchange per operation."""
        if self._indexed < len(self.recorded):
            for ex in self.recorded[self._indexed :]:
                if ex.response is not None:
                    key = (ex.request.method, ex.request.url)
                    self._by_request.setdefault(key, []).append(ex)
            self._indexed = len(self.recorded)
        return self._by_request.get((method, url), [])

    def exchanges(
        self,
        *,
        authenticated: bool | None = None,
        success: bool | None = None,
        scheme: str | None = None,
    ) -> Iterator[Exchange]:
        """Recorded exchanges that got a response, filtered."""
        for ex in self.recorded:
            if ex.response is None:
                continue
            if authenticated is not None and ex.request.authenticated != authenticated:
                continue
            if success is not None and ex.ok != success:
                continue
            if scheme is not None and not ex.request.url.startswith(f"{scheme}://"):
                continue
            yield ex

    def finding(
        self,
        evidence: Exchange | Sequence[Exchange] | None,
        detail: str,
        *,
        severity: Severity | None = None,
        confidence: Confidence = Confidence.FIRM,
        key: str | None = None,
        endpoint: str | None = None,
        excerpt: str | None = None,
        headers: Sequence[str] = (),
        reproduce: str | None = None,
        secrets: Sequence[str] = (),
    ) -> RawFinding:
        """A finding of this check. `severity` may only raise the declared one."""
        exchanges = (
            ()
            if evidence is None
            else (evidence,)
            if isinstance(evidence, Exchange)
            else tuple(evidence)
        )
        declared = self.check.severity
        if severity is not None and severity.rank < declared.rank:
            raise ValueError(f"{self.check.id}: severity may only escalate, not lower")
        endpoints = (endpoint,) if endpoint else tuple(dict.fromkeys(e.endpoint for e in exchanges))
        return RawFinding(
            check=self.check,
            detail=detail,
            exchanges=exchanges,
            severity=severity or declared,
            confidence=confidence,
            key=key if key is not None else detail,
            endpoints=endpoints,
            excerpt=excerpt,
            headers=tuple(headers),
            reproduce=reproduce,
            secrets=tuple(secrets),
        )


@dataclass(slots=True)
class ProbeContext(Context):
    """The view an active check has: a passive view plus a way to send requests."""

    unsafe: bool = False
    _send: Sender | None = field(default=None, repr=False)
    _handshake: Handshaker | None = field(default=None, repr=False)
    # the user's credentials, for the few checks that must present them differently
    _basic: tuple[str, str] | None = field(default=None, repr=False)
    _bearer: str | None = field(default=None, repr=False)
    _header_credentials: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    @property
    def bearer_token(self) -> str | None:
        return self._bearer

    def credential_values(self) -> dict[str, str]:
        """What the user gave the scan, by what it is (only values long enough to be telling)."""
        values: dict[str, str] = {}
        if self._basic is not None:
            values["password"] = self._basic[1]
        if self._bearer is not None:
            values["bearer token"] = self._bearer
        for name, value in self._header_credentials:
            values[f"{name} value"] = value
        return {name: value for name, value in values.items() if len(value) >= 6}

    def credential_params(self) -> dict[str, str]:
        """The user's credentials as query strings, by what they are named there."""
        params: dict[str, str] = {}
        if self._basic is not None:
            user, password = self._basic
            params["username and password"] = urlencode({"username": user, "password": password})
        if self._bearer is not None:
            params["access_token"] = urlencode({"access_token": self._bearer})
        for name, value in self._header_credentials:
            params[f"{name} value as api_key"] = urlencode({"api_key": value})
            params[f"{name} value as {name.lower()}"] = urlencode({name.lower(): value})
        return params

    async def send(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        credentials: bool = False,
        purpose: str | None = None,
        body: bytes = b"",
    ) -> Exchange:
        """Send through the engine: scope, safe methods, rate and budget are enforced there."""
        assert self._send is not None, "the engine sets the sender"
        return await self._send(
            method,
            url,
            headers=headers,
            credentials=credentials,
            purpose=purpose or self.check.id,
            body=body,
        )

    async def handshake(self, **options: object) -> Handshake:
        """A TLS handshake with the target; see `middlebrick.http.tls.handshake`."""
        assert self._handshake is not None, "the engine sets the handshaker"
        return await self._handshake(**options)
