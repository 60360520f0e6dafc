"""Data exposure: responses that let data out to caches, other origins, or curious readers."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator

from middlebrick.checks._check import check
from middlebrick.checks._context import Context, ProbeContext, RawFinding
from middlebrick.http.exchange import Exchange, Response
from middlebrick.model import Category, Kind, Severity

FOREIGN_ORIGIN = "https://attacker.middlebrick.invalid"
CORS_PROBES = 5


def cache_directives(response: Response) -> set[str]:
    """Cache-Control directive names, lower-case, from every Cache-Control field."""
    return {
        d.split("=", 1)[0].strip().lower()
        for value in response.headers.get_all("cache-control")
        for d in value.split(",")
        if d.strip()
    }


@check(
    id="MB-DATA-001",
    title="Authenticated response can be stored by caches",
    category=Category.DATA_EXPOSURE,
    severity=Severity.MEDIUM,
    cwe=(524, 525),
    owasp="API8:2023",
    kind=Kind.PASSIVE,
)
def cacheable_authenticated_response(ctx: Context) -> Iterator[RawFinding]:
    """A 2xx answer to a credentialed request lacks `Cache-Control: no-store`.

    A response counts as authenticated when the request carried credentials or the endpoint
    refuses anonymous requests; a response identical to the one given without credentials is
    public and is not reported.

    Browsers, proxies and CDNs may keep a copy of a response unless it says `no-store`; for an
    authenticated response that copy holds one user's data where the next user of the machine or
    the cache can read it. `no-store` alone is enough (`private, no-store` is fine too); `no-cache`
    only means "revalidate before use" and still lets the response be stored. `Pragma: no-cache`
    only matters to HTTP/1.0 caches and is not required.

    Severity is raised to high when the response says `public`, which invites shared caches to
    keep it.
    """
    public_bodies = {
        ex.request.url: ex.response.body
        for ex in ctx.exchanges(authenticated=False, success=True)
        if ex.response is not None
        and ex.request.method == "GET"
        and ex.request.url not in ctx.protected_urls
    }
    for ex in ctx.exchanges(success=True):
        if ex.request.method != "GET" or ex.response is None or not ex.response.body:
            continue
        if not (ex.request.authenticated or ex.request.url in ctx.protected_urls):
            continue
        if public_bodies.get(ex.request.url) == ex.response.body:
            continue  # the same answer is given to anyone: nothing private to cache
        directives = cache_directives(ex.response)
        if "no-store" in directives:
            continue
        shown = ", ".join(ex.response.headers.get_all("cache-control")) or "(absent)"
        yield ctx.finding(
            ex,
            f"authenticated {ex.response.status} response with Cache-Control: {shown}",
            key=shown,
            severity=Severity.HIGH if "public" in directives else None,
            headers=("cache-control",),
        )


def _cors_urls(ctx: ProbeContext) -> list[str]:
    """Where CORS matters most: endpoints that need credentials, then the other operations."""
    urls = list(
        dict.fromkeys(
            [*sorted(ctx.protected_urls), *(op.url for op in ctx.operations if op.method == "GET")]
        )
    )
    return urls[:CORS_PROBES]


async def _cors_probe(ctx: ProbeContext, origin: str) -> AsyncIterator[Exchange]:
    for url in _cors_urls(ctx):
        ex = await ctx.send(
            "GET",
            url,
            headers={"Origin": origin},
            credentials=True,
            purpose=f"CORS: Origin {origin}",
        )
        if ex.response is not None:
            yield ex


def _allows_credentials(ex: Exchange) -> bool:
    assert ex.response is not None
    return (ex.response.headers.get("access-control-allow-credentials") or "").strip().lower() == (
        "true"
    )


def _allowed_origin(ex: Exchange) -> str:
    assert ex.response is not None
    return (ex.response.headers.get("access-control-allow-origin") or "").strip()


_CORS_HEADERS = ("access-control-allow-origin", "access-control-allow-credentials")


@check(
    id="MB-DATA-002",
    title="CORS lets any website read responses with the user's credentials",
    category=Category.DATA_EXPOSURE,
    severity=Severity.HIGH,
    cwe=(942, 346),
    owasp="API8:2023",
    kind=Kind.ACTIVE,
)
async def cors_reflects_any_origin(ctx: ProbeContext) -> AsyncIterator[RawFinding]:
    """The API echoes an arbitrary `Origin` in `Access-Control-Allow-Origin` and allows credentials.

    Any web page a logged-in user visits can then call the API from their browser with their
    cookies or cached Basic credentials and read the answers. An origin is only trustworthy when
    it is compared against a fixed allow-list.
    """
    async for ex in _cors_probe(ctx, FOREIGN_ORIGIN):
        if _allowed_origin(ex) == FOREIGN_ORIGIN and _allows_credentials(ex):
            yield ctx.finding(
                ex,
                f"Origin {FOREIGN_ORIGIN} was reflected with credentials allowed",
                key="reflect",
                headers=_CORS_HEADERS,
            )


@check(
    id="MB-DATA-003",
    title="CORS trusts the 'null' origin",
    category=Category.DATA_EXPOSURE,
    severity=Severity.MEDIUM,
    cwe=(942,),
    owasp="API8:2023",
    kind=Kind.ACTIVE,
)
async def cors_allows_null_origin(ctx: ProbeContext) -> AsyncIterator[RawFinding]:
    """`Access-Control-Allow-Origin: null` is granted to a request with `Origin: null`.

    Sandboxed iframes, `data:` URLs and local files all send `Origin: null`, so any attacker can
    produce it; trusting it is the same as trusting everyone. High when credentials are allowed too.
    """
    async for ex in _cors_probe(ctx, "null"):
        if _allowed_origin(ex) == "null":
            creds = _allows_credentials(ex)
            yield ctx.finding(
                ex,
                "Origin: null is allowed" + (" with credentials" if creds else ""),
                key="null",
                severity=Severity.HIGH if creds else None,
                headers=_CORS_HEADERS,
            )


@check(
    id="MB-DATA-004",
    title="CORS combines a wildcard origin with credentials",
    category=Category.DATA_EXPOSURE,
    severity=Severity.LOW,
    cwe=(942,),
    owasp="API8:2023",
    kind=Kind.ACTIVE,
)
async def cors_wildcard_with_credentials(ctx: ProbeContext) -> AsyncIterator[RawFinding]:
    """`Access-Control-Allow-Origin: *` comes with `Access-Control-Allow-Credentials: true`.

    Browsers refuse this combination, so it does not leak data by itself, but it shows a CORS
    policy written to allow everything; the next "fix" that makes it work usually reflects the
    origin. A wildcard without credentials on public data is fine and is not reported.
    """
    async for ex in _cors_probe(ctx, FOREIGN_ORIGIN):
        if _allowed_origin(ex) == "*" and _allows_credentials(ex):
            yield ctx.finding(
                ex,
                "Access-Control-Allow-Origin: * with credentials allowed",
                key="wildcard",
                headers=_CORS_HEADERS,
            )


# Headers whose only purpose is to name the software; Server is judged by its version alone.
_ALWAYS_DISCLOSING = ("x-powered-by", "x-aspnet-version", "x-aspnetmvc-version", "x-generator")
_VERSION = re.compile(r"\d+\.\d+")


@check(
    id="MB-DATA-005",
    title="Response headers disclose server software versions",
    category=Category.DATA_EXPOSURE,
    severity=Severity.LOW,
    cwe=(200, 497),
    owasp="API8:2023",
    kind=Kind.PASSIVE,
)
def version_disclosure(ctx: Context) -> Iterator[RawFinding]:
    """`Server` names a version, or `X-Powered-By` (and kin) names the framework.

    Exact versions let an attacker look up known vulnerabilities without probing. A bare product
    name in `Server` (`nginx`, `uvicorn`) is not reported: it is near-universal and says little.
    """
    for ex in ctx.exchanges():
        assert ex.response is not None
        headers = ex.response.headers
        for value in headers.get_all("server"):
            if _VERSION.search(value):
                yield ctx.finding(ex, f"Server: {value}", headers=("server",))
        for name in _ALWAYS_DISCLOSING:
            for value in headers.get_all(name):
                yield ctx.finding(ex, f"{name}: {value}", headers=(name,))
