"""Transport: is the API reachable only over TLS, and does plain HTTP send callers there.

These checks compare the scanned HTTPS origin with the plain-HTTP listener on the same host
(recon found it when an `http://` target redirected, or assumes port 80 for an HTTPS target on
443)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urljoin, urlsplit

from middlebrick.checks._check import check
from middlebrick.checks._context import Context, NotApplicable, ProbeContext, RawFinding
from middlebrick.http.exchange import Exchange
from middlebrick.model import Category, Confidence, Kind, Severity

HTTP_PROBES = 20  # plain-HTTP URLs requested per check, at most
SPOOF_PROBES = 3  # redirecting URLs resent with each spoofed header
SPOOF_HEADERS = (
    ("X-Forwarded-Proto", "https"),
    ("X-Forwarded-Scheme", "https"),
    ("X-Forwarded-Ssl", "on"),
    ("Front-End-Https", "on"),
)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT = frozenset({301, 308})
_CLEAR_PASSWORD = frozenset({"basic", "digest"})
_SCHEME = re.compile(r"(?:^|,)\s*([A-Za-z][\w-]*)(?=\s|,|$)")
_HTTPS_HINT = re.compile(r"https|\bssl\b|\btls\b", re.I)


# plain HTTP --------------------------------------------------------------------------------------


def _challenge(ex: Exchange) -> str | None:
    """The scheme a 401 answer challenges for, preferring Basic/Digest when several are offered."""
    if ex.response is None or ex.response.status != 401:
        return None
    schemes = [
        m.group(1)
        for value in ex.response.headers.get_all("www-authenticate")
        for m in _SCHEME.finditer(value)
    ]
    clear = [s for s in schemes if s.lower() in _CLEAR_PASSWORD]
    return next(iter(clear or schemes), None)


def _upgrades(ex: Exchange) -> bool:
    """The answer redirects to an https:// URL."""
    resp = ex.response
    if resp is None or resp.status not in _REDIRECTS:
        return False
    location = resp.headers.get("location") or ""
    return urljoin(ex.request.url, location).startswith("https://")


def _refuses_plaintext(ex: Exchange) -> bool:
    """`426 Upgrade Required`, or a 400/403 saying HTTPS is required (nginx's answer to plain
    HTTP on its TLS port): the listener speaks HTTP only to turn the client away."""
    resp = ex.response
    if resp is None:
        return False
    if resp.status == 426:
        return True
    return resp.status in (400, 403) and bool(_HTTPS_HINT.search(resp.text(2_000)))


def _on_http(ctx: ProbeContext, url: str) -> str:
    """The same URL on the plain-HTTP listener."""
    assert ctx.target.http_origin is not None
    parts = urlsplit(url)
    return ctx.target.http_origin.url + parts.path + (f"?{parts.query}" if parts.query else "")


def _loopback(ctx: Context) -> bool:
    host = ctx.target.origin.host
    return host == "localhost" or host.startswith("127.") or host == "::1"


def _https_with_http_listener(ctx: ProbeContext) -> None:
    if not ctx.target.tls:
        raise NotApplicable("the API is not served over HTTPS (see MB-ENC-001)")
    if ctx.target.http_origin is None:
        raise NotApplicable(
            "no plain-HTTP listener is known for this origin (scan the http:// URL to test it)"
        )


def _http_urls(ctx: ProbeContext) -> list[tuple[str, str]]:
    """(HTTPS URL, its plain-HTTP twin) for the API's GET operations, at most HTTP_PROBES."""
    urls = dict.fromkeys(op.url for op in ctx.operations if op.method == "GET")
    return [(url, _on_http(ctx, url)) for url in urls][:HTTP_PROBES]


@check(
    id="MB-ENC-001",
    title="API is served over plain HTTP",
    category=Category.ENCRYPTION,
    severity=Severity.HIGH,
    cwe=(319, 523),
    owasp="API8:2023",
    kind=Kind.PASSIVE,
)
def plain_http_api(ctx: Context) -> Iterator[RawFinding]:
    """The API answers over `http://` and does not redirect to HTTPS.

    Everything it sends and receives — data, tokens, passwords — crosses the network readable and
    changeable by anyone on the path. Critical when the API challenges for Basic or Digest
    credentials over plain HTTP, or when an operation that refuses anonymous requests accepts the
    scanner's credentials there (CWE-522): the secret itself travels in clear on every request.
    Not reported when the HTTP listener only redirects to HTTPS (on any host), or only answers
    `426 Upgrade Required` or an "HTTPS required" 400/403.
    """
    if ctx.target.origin.scheme != "http":
        raise NotApplicable("the API is scanned over HTTPS")
    served = sorted(
        (
            ex
            for ex in ctx.exchanges(scheme="http")
            if not _upgrades(ex) and not _refuses_plaintext(ex)
        ),
        # by URL, not by id: ids follow the order concurrent requests happened to finish in,
        # and the same scan must list the same endpoints every time
        key=lambda ex: (
            ex.response is not None and ex.response.status in _REDIRECTS,
            ex.request.url,
            ex.request.method,
            ex.request.authenticated,
        ),
    )
    if not served:
        return
    where = " (a loopback address: this matters wherever it is deployed)" if _loopback(ctx) else ""
    challenged = [ex for ex in served if (_challenge(ex) or "").lower() in _CLEAR_PASSWORD]
    accepted = [
        ex
        for ex in served
        if ex.request.authenticated and ex.ok and ex.request.url in ctx.protected_urls
    ]
    if challenged:
        what = f"challenges for {_challenge(challenged[0])} credentials"
    elif accepted:
        what = "accepts the scanner's credentials on operations that refuse anonymous requests"
    else:
        yield ctx.finding(
            served[:3],
            "the API answers over plain HTTP without redirecting to HTTPS" + where,
            confidence=Confidence.CERTAIN,
            key="plain-http",
        )
        return
    yield ctx.finding(
        challenged[:2] + accepted[:1],
        f"the API {what} over plain HTTP: credentials cross the network in clear (CWE-522)" + where,
        severity=Severity.CRITICAL,
        confidence=Confidence.CERTAIN,
        key="plain-http",
        headers=("www-authenticate",),
    )


@check(
    id="MB-ENC-002",
    title="HTTP redirects to HTTPS with a temporary status",
    category=Category.ENCRYPTION,
    severity=Severity.LOW,
    cwe=(319,),
    owasp="API8:2023",
    kind=Kind.ACTIVE,
)
async def temporary_https_redirect(ctx: ProbeContext) -> AsyncIterator[RawFinding]:
    """The plain-HTTP listener sends clients to HTTPS with 302, 303 or 307 instead of 301 or 308.

    A temporary redirect is not cached, so clients keep starting every visit in clear text, where
    an attacker on the network can answer instead of the server. 301 and 308 are fine (308 also
    keeps the method and body). Judged on the listener's root; a listener that refuses plain HTTP
    (connection refused) is the best answer and is not reported.
    """
    _https_with_http_listener(ctx)
    root = ctx.target.url_for("/", ctx.target.http_origin)
    ex = await ctx.send("GET", root, purpose="HTTP to HTTPS redirect")
    if ex.response is not None and _upgrades(ex) and ex.response.status not in _PERMANENT:
        yield ctx.finding(
            ex,
            f"HTTP answers {ex.response.status} (temporary) instead of 301/308",
            key="temporary",
            headers=("location",),
        )


@check(
    id="MB-ENC-003",
    title="Plain-HTTP requests are answered before being redirected to HTTPS",
    category=Category.ENCRYPTION,
    severity=Severity.HIGH,
    cwe=(319, 523),
    owasp="API8:2023",
    kind=Kind.ACTIVE,
)
async def http_answered_before_redirect(ctx: ProbeContext) -> AsyncIterator[RawFinding]:
    """The plain-HTTP listener redirects to HTTPS, but some of the API's URLs are answered over
    HTTP instead: with data, or with an authentication challenge.

    A client pointed at an `http://` URL then works in clear text, or sends the user's
    credentials in clear before it is ever redirected — critical for Basic/Digest challenges. The
    usual cause is an auth layer that runs before the HTTPS redirect, or a redirect configured
    only for some paths. Judged only when the listener's root (or most of the URLs tried)
    redirects to HTTPS: a listener that never redirects is another service, or the whole API in
    clear (scan its `http://` URL: MB-ENC-001). Requests go without credentials, so the scan
    itself never sends them in clear; a refused connection and "HTTPS required" errors are not
    reported.
    """
    _https_with_http_listener(ctx)
    root = await ctx.send("GET", ctx.target.url_for("/", ctx.target.http_origin), purpose="HTTP")
    if root.response is None:
        return  # nothing listens: plain HTTP is refused, the best answer
    probes = await asyncio.gather(
        *(ctx.send("GET", url, purpose="plain-HTTP request") for _, url in _http_urls(ctx))
    )
    answered = [ex for ex in probes if ex.response is not None]
    if not _upgrades(root) and sum(map(_upgrades, answered)) * 2 <= len(answered):
        raise NotApplicable(
            f"{ctx.target.http_origin} does not redirect to HTTPS; scan it as its own target"
        )
    for ex in answered:
        scheme = _challenge(ex)
        if scheme is not None and scheme.lower() in _CLEAR_PASSWORD:
            yield ctx.finding(
                ex,
                f"over plain HTTP the API challenges for {scheme} credentials instead of "
                "redirecting: clients send the password in clear before reaching HTTPS",
                severity=Severity.CRITICAL,
                key=f"challenge:{scheme.lower()}",
                headers=("www-authenticate",),
            )
        elif scheme is not None:
            yield ctx.finding(
                ex,
                f"over plain HTTP the API answers a {scheme} challenge instead of redirecting: "
                "clients send their token in clear",
                key=f"challenge:{scheme.lower()}",
                headers=("www-authenticate",),
            )
        elif ex.ok:
            yield ctx.finding(ex, "the API serves responses over plain HTTP", key="served")


@check(
    id="MB-ENC-004",
    title="HTTPS redirect can be bypassed with a spoofed forwarding header",
    category=Category.ENCRYPTION,
    severity=Severity.MEDIUM,
    cwe=(348, 319),
    owasp="API8:2023",
    kind=Kind.ACTIVE,
)
async def spoofable_https_enforcement(ctx: ProbeContext) -> AsyncIterator[RawFinding]:
    """A plain-HTTP request that is normally redirected to HTTPS is served instead when it
    carries `X-Forwarded-Proto: https` (or `X-Forwarded-Scheme`, `X-Forwarded-Ssl`,
    `Front-End-Https`).

    The application decides whether a request was secure from a header any client can send —
    typically Werkzeug's `ProxyFix`, Flask-Talisman, or a framework "trust proxy" setting, with
    no proxy in front that overwrites the header. Its HTTPS enforcement is then a suggestion:
    clients (or a misconfigured proxy) talk to it in clear, and secure-only logic (cookies, HSTS)
    misfires. "Served" means a 2xx, or the same status the HTTPS URL gives; a header rejected
    with some other error is not reported.
    """
    _https_with_http_listener(ctx)
    over_https = {
        ex.request.url: ex.response.status
        for ex in ctx.exchanges(authenticated=False, scheme="https")
        if ex.response is not None
    }
    tried = 0
    for https_url, url in _http_urls(ctx):
        if tried == SPOOF_PROBES:
            break
        plain = await ctx.send("GET", url, purpose="plain-HTTP request")
        if not _upgrades(plain):
            continue
        tried += 1
        for name, value in SPOOF_HEADERS:
            ex = await ctx.send("GET", url, headers={name: value}, purpose=f"spoofed {name}")
            if ex.response is None or ex.response.status in _REDIRECTS:
                continue
            if ex.ok or ex.response.status == over_https.get(https_url):
                yield ctx.finding(
                    [plain, ex],
                    f"`{name}: {value}` turns the HTTPS redirect into a {ex.response.status}",
                    key=name,
                )
