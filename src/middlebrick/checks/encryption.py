"""Encryption: is the API reachable only over TLS, told to stay there, and is its TLS sound.

Transport checks compare the scanned HTTPS origin with the plain-HTTP listener on the same host
(recon found it when an `http://` target redirected, or assumes port 80 for an HTTPS target on
443). TLS checks handshake with the target directly; they can only test what this machine's
OpenSSL can offer, and say so instead of passing silently.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

from middlebrick.checks._check import check
from middlebrick.checks._context import Context, NotApplicable, ProbeContext, RawFinding
from middlebrick.http.exchange import Exchange
from middlebrick.http.tls import (
    CERT_HAS_EXPIRED,
    CERT_NOT_YET_VALID,
    HOSTNAME_MISMATCH,
    WEAK_CIPHERS,
    Handshake,
)
from middlebrick.model import Category, Confidence, Kind, Severity

ONE_YEAR = 31_536_000
HTTP_PROBES = 20  # plain-HTTP URLs requested per check, at most
SPOOF_PROBES = 3  # redirecting URLs resent with each spoofed header
SPOOF_HEADERS = (
    ("X-Forwarded-Proto", "https"),
    ("X-Forwarded-Scheme", "https"),
    ("X-Forwarded-Ssl", "on"),
    ("Front-End-Https", "on"),
)
LEGACY_VERSIONS = {"TLSv1": "-tls1", "TLSv1.1": "-tls1_1"}  # version -> openssl s_client flag
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT = frozenset({301, 308})
_CLEAR_PASSWORD = frozenset({"basic", "digest"})
_SCHEME = re.compile(r"(?:^|,)\s*([A-Za-z][\w-]*)(?=\s|,|$)")
_HTTPS_HINT = re.compile(r"https|\bssl\b|\btls\b", re.I)
_UNOFFERABLE = "this OpenSSL cannot offer that"
# a handshake that failed before the server could say yes or no
_UNREACHED = ("ConnectionRefusedError", "TimeoutError", "gaierror", "OSError")


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
        key=lambda ex: (ex.response is not None and ex.response.status in _REDIRECTS, ex.id),
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


# HSTS --------------------------------------------------------------------------------------------


def _origin_https(ctx: Context) -> list[Exchange]:
    """Responses of the scanned HTTPS origin (HSTS sent anywhere else means nothing here)."""
    if not ctx.target.tls:
        raise NotApplicable("the API is not served over HTTPS; HSTS over plain HTTP is ignored")
    origin = ctx.target.origin.url
    return [
        ex
        for ex in ctx.exchanges(scheme="https")
        if ex.request.url == origin or ex.request.url.startswith(origin + "/")
    ]


def _hsts(ex: Exchange) -> list[str]:
    assert ex.response is not None
    return ex.response.headers.get_all("strict-transport-security")


@check(
    id="MB-ENC-005",
    title="HTTPS responses lack Strict-Transport-Security",
    category=Category.ENCRYPTION,
    severity=Severity.MEDIUM,
    cwe=(319, 523),
    owasp="API8:2023",
    kind=Kind.PASSIVE,
)
def missing_hsts(ctx: Context) -> Iterator[RawFinding]:
    """No HTTPS response of the API carries a `Strict-Transport-Security` header.

    Without HSTS a client that once typed or followed an `http://` link can be kept on plain HTTP
    by an attacker on the network (SSL stripping), with every request after it readable. Judged
    on the scanned HTTPS origin's responses, whatever their status; HSTS sent over plain HTTP is
    ignored by clients and does not count. When only some responses lack it, MB-ENC-007 reports
    that instead.
    """
    exchanges = _origin_https(ctx)
    if exchanges and not any(_hsts(ex) for ex in exchanges):
        yield ctx.finding(
            exchanges[:3],
            "no HTTPS response sends Strict-Transport-Security",
            key="missing",
            headers=("strict-transport-security",),
        )


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def _policy_problem(value: str) -> tuple[Severity, str] | None:
    """RFC 6797 §6.1: `;`-separated directives, names case-insensitive, each at most once,
    values tokens or quoted strings; `max-age` required, in seconds."""
    comma = " (directives are separated by ';', not ',')" if "," in value else ""
    directives: dict[str, str | None] = {}
    for part in value.split(";"):
        if not part.strip():
            continue
        name, sep, raw = part.partition("=")
        key = name.strip().lower()
        if key in directives:
            return Severity.LOW, f"directive {key!r} repeated (the header is invalid and ignored)"
        directives[key] = _unquote(raw.strip()) if sep else None
    if "max-age" not in directives:
        return Severity.LOW, "no max-age (the header is invalid and ignored)" + comma
    raw = directives["max-age"] or ""
    if not re.fullmatch(r"[0-9]+", raw):
        return Severity.LOW, f"max-age={raw!r} is not a number (the header is ignored){comma}"
    max_age = int(raw)
    if max_age == 0:
        return Severity.MEDIUM, "max-age=0 tells clients to forget HSTS"
    if max_age < ONE_YEAR:
        return Severity.LOW, f"max-age={max_age} is shorter than one year ({ONE_YEAR})"
    return None


def hsts_problems(values: Sequence[str]) -> tuple[Severity, str] | None:
    """What is wrong with one response's HSTS header(s), or None. Clients obey only the first
    header (RFC 6797 §8.1), so that one is judged; differing repeats are a smell of their own."""
    problem = _policy_problem(values[0])
    if problem is not None:
        note = (
            f" (first of {len(values)} headers; only the first counts)" if len(values) > 1 else ""
        )
        return problem[0], problem[1] + note
    if len({v.strip() for v in values}) > 1:
        return (
            Severity.LOW,
            f"{len(values)} different Strict-Transport-Security headers (only the first counts)",
        )
    return None


@check(
    id="MB-ENC-006",
    title="HSTS policy is weak or malformed",
    category=Category.ENCRYPTION,
    severity=Severity.LOW,
    cwe=(319, 523),
    owasp="API8:2023",
    kind=Kind.PASSIVE,
)
def weak_hsts(ctx: Context) -> Iterator[RawFinding]:
    """`Strict-Transport-Security` is sent but protects little: `max-age` below one year, missing
    or not a number, repeated directives, or several differing headers.

    A short `max-age` lets the protection lapse between visits; a malformed header is ignored by
    clients altogether. `max-age=0` (which switches HSTS off) is medium. `includeSubDomains` and
    `preload` are recommended but not required, and not reported.
    """
    for ex in _origin_https(ctx):
        values = _hsts(ex)
        problem = hsts_problems(values) if values else None
        if problem is not None:
            severity, detail = problem
            yield ctx.finding(
                ex,
                f"Strict-Transport-Security: {' | '.join(values)} — {detail}",
                severity=severity if severity is not Severity.LOW else None,
                key=" | ".join(values),
                headers=("strict-transport-security",),
            )


@check(
    id="MB-ENC-007",
    title="HSTS is sent on some HTTPS responses but not others",
    category=Category.ENCRYPTION,
    severity=Severity.LOW,
    cwe=(319,),
    owasp="API8:2023",
    kind=Kind.PASSIVE,
)
def inconsistent_hsts(ctx: Context) -> Iterator[RawFinding]:
    """Some HTTPS responses of the API's operations carry `Strict-Transport-Security` and others
    (often 401/404 error answers, or routes served by another component) do not.

    A client that only ever meets the responses without it is never protected; the usual cause is
    a header set in one view, blueprint or success path instead of once for the whole application
    or proxy. Judged on the API's operations, not on the scanner's probes of paths that do not
    exist. When no response has HSTS at all, MB-ENC-005 reports it instead.
    """
    documented = {op.url for op in ctx.operations}
    exchanges = [ex for ex in _origin_https(ctx) if ex.request.url in documented]
    lacking = [ex for ex in exchanges if not _hsts(ex)]
    if lacking and len(lacking) < len(exchanges):
        statuses = sorted({str(ex.response.status) for ex in lacking if ex.response})
        yield ctx.finding(
            lacking,
            f"{len(lacking)} of {len(exchanges)} HTTPS responses of the API's operations lack "
            f"Strict-Transport-Security (status {', '.join(statuses)})",
            key="inconsistent",
            headers=("strict-transport-security",),
        )


# TLS ---------------------------------------------------------------------------------------------


def _tls_only(ctx: ProbeContext) -> None:
    if not ctx.target.tls:
        raise NotApplicable("the API is not served over HTTPS")


def _cannot_offer(hs: Handshake) -> bool:
    return (hs.error or "").startswith(_UNOFFERABLE)


def _unreached(hs: Handshake) -> bool:
    """The handshake failed before the server could accept or refuse (a reset counts as no)."""
    return (hs.error or "").startswith(_UNREACHED)


def _openssl(ctx: ProbeContext, *options: str) -> str:
    """An `openssl s_client` line that repeats a handshake."""
    origin = ctx.target.origin
    host = f"[{origin.host}]" if ":" in origin.host else origin.host
    connect = f"openssl s_client -connect {host}:{origin.port} -servername {origin.host}"
    return " ".join([connect, *options]) + " </dev/null"


def _tls_finding(
    ctx: ProbeContext, detail: str, *, key: str, excerpt: str, reproduce: str
) -> RawFinding:
    """A finding about the TLS endpoint itself: no HTTP exchange, certain, one per origin."""
    return ctx.finding(
        None,
        detail,
        confidence=Confidence.CERTAIN,
        key=key,
        endpoint=ctx.target.origin.url,
        excerpt=excerpt,
        reproduce=reproduce,
    )


def _certificate_excerpt(hs: Handshake) -> str:
    cert = hs.certificate
    if cert is None:
        return f"TLS handshake with the target: {hs.error or 'no certificate'}"
    return (
        f"subject: {cert.subject}\nissuer: {cert.issuer}\n"
        f"valid: {cert.not_before:%Y-%m-%d} to {cert.not_after:%Y-%m-%d}\n"
        f"names: {', '.join(cert.names) or '(none)'}"
        + (f"\nverification: {hs.verify_message}" if hs.verify_message else "")
    )


async def _certificate(ctx: ProbeContext) -> Handshake:
    """A handshake without verification, which carries the parsed certificate whatever it is."""
    _tls_only(ctx)
    seen = await ctx.handshake(verify=False)
    if seen.certificate is None:
        raise NotApplicable(f"could not read the certificate: {seen.error or 'none was sent'}")
    return seen


@check(
    id="MB-ENC-008",
    title="TLS certificate is not trusted",
    category=Category.ENCRYPTION,
    severity=Severity.HIGH,
    cwe=(295,),
    owasp="API8:2023",
    kind=Kind.ACTIVE,
)
async def untrusted_certificate(ctx: ProbeContext) -> AsyncIterator[RawFinding]:
    """The certificate chain does not lead to a trusted CA: self-signed, issued by an unknown CA,
    or missing its intermediate certificates.

    Clients either fail or are told to skip verification, and a client that skips it accepts an
    attacker's certificate just as well. Trust is judged against `--ca-bundle` when given, else
    the system store. Without `--insecure` such a target stops the scan before any check runs;
    with it, the scan goes on and this reports why. Expiry and host-name problems are MB-ENC-009
    and MB-ENC-010.
    """
    seen = await _certificate(ctx)
    verified = await ctx.handshake(verify=True)
    code = verified.verify_code
    if verified.ok or code in (CERT_HAS_EXPIRED, CERT_NOT_YET_VALID, HOSTNAME_MISMATCH):
        return
    if code is None:
        raise NotApplicable(f"the verifying handshake failed otherwise: {verified.error}")
    yield _tls_finding(
        ctx,
        f"certificate not trusted: {verified.verify_message}",
        key="untrusted",
        excerpt=_certificate_excerpt(replace(seen, verify_message=verified.verify_message)),
        reproduce=_openssl(ctx, "-showcerts", "-verify_return_error"),
    )


@check(
    id="MB-ENC-009",
    title="TLS certificate has expired or is not yet valid",
    category=Category.ENCRYPTION,
    severity=Severity.HIGH,
    cwe=(298,),
    owasp="API8:2023",
    kind=Kind.ACTIVE,
)
async def expired_certificate(ctx: ProbeContext) -> AsyncIterator[RawFinding]:
    """Today is outside the certificate's validity period.

    Clients refuse the connection, and users learn to click through or disable verification. The
    dates are read from the certificate itself, so this is reported even when the chain is also
    untrusted.
    """
    seen = await _certificate(ctx)
    assert seen.certificate is not None
    cert, now = seen.certificate, datetime.now(UTC)
    if cert.not_after < now:
        detail = f"certificate expired on {cert.not_after:%Y-%m-%d}"
    elif cert.not_before > now:
        detail = f"certificate is not valid before {cert.not_before:%Y-%m-%d}"
    else:
        return
    yield _tls_finding(
        ctx,
        detail,
        key="validity",
        excerpt=_certificate_excerpt(seen),
        reproduce=_openssl(ctx) + " | openssl x509 -noout -dates",
    )


@check(
    id="MB-ENC-010",
    title="TLS certificate does not match the host name",
    category=Category.ENCRYPTION,
    severity=Severity.HIGH,
    cwe=(297,),
    owasp="API8:2023",
    kind=Kind.ACTIVE,
)
async def certificate_host_mismatch(ctx: ProbeContext) -> AsyncIterator[RawFinding]:
    """None of the certificate's names match the host that was scanned.

    Verifying clients refuse it; clients that connect anyway cannot tell the API from an
    impostor. Matching follows RFC 6125: exact names, one left-most `*` label, exact IP
    addresses; the subject's common name counts only when the certificate has no
    subjectAltName (so a few certificates browsers reject are not reported).
    """
    seen = await _certificate(ctx)
    assert seen.certificate is not None
    host = ctx.target.origin.host
    if not seen.certificate.matches(host):
        yield _tls_finding(
            ctx,
            f"certificate names {', '.join(seen.certificate.names) or '(none)'}, not {host}",
            key="mismatch",
            excerpt=_certificate_excerpt(seen),
            reproduce=_openssl(ctx) + " | openssl x509 -noout -ext subjectAltName",
        )


@check(
    id="MB-ENC-011",
    title="Server accepts legacy TLS versions",
    category=Category.ENCRYPTION,
    severity=Severity.MEDIUM,
    cwe=(326, 327),
    owasp="API8:2023",
    kind=Kind.ACTIVE,
)
async def legacy_tls_accepted(ctx: ProbeContext) -> AsyncIterator[RawFinding]:
    """The server completes a handshake limited to TLS 1.0 or TLS 1.1.

    Both versions are deprecated (RFC 8996): they rely on SHA-1 and CBC constructions with known
    attacks, and no current client needs them. The scanner offers its OpenSSL's default suites at
    security level 0; a server that would accept only suites this OpenSSL has compiled out (3DES,
    RC4 on OpenSSL 3) is missed. When a version cannot be offered at all, or the handshake never
    reached the server, the check says it could not test it rather than passing.
    """
    _tls_only(ctx)
    accepted: list[Handshake] = []
    untested: list[str] = []
    for version in LEGACY_VERSIONS:
        hs = await ctx.handshake(minimum=version, maximum=version)
        if hs.ok:
            accepted.append(hs)
        elif _cannot_offer(hs):
            untested.append(f"{version} (this machine's OpenSSL cannot offer it)")
        elif _unreached(hs):
            untested.append(f"{version} ({hs.error})")
    if not accepted:
        if untested:
            raise NotApplicable("could not test " + "; ".join(untested))
        return
    versions = [hs.version or "?" for hs in accepted]
    excerpt = "negotiated: " + "; ".join(f"{hs.version} with {hs.cipher}" for hs in accepted)
    if untested:
        excerpt += "\nnot tested: " + "; ".join(untested)
    yield _tls_finding(
        ctx,
        f"the server accepts {' and '.join(versions)}",
        key="legacy",
        excerpt=excerpt,
        reproduce=_openssl(
            ctx, LEGACY_VERSIONS.get(versions[0], "-tls1"), "-cipher", "'DEFAULT:@SECLEVEL=0'"
        ),
    )


def _weakness(cipher: str) -> str:
    name = cipher.upper()
    if name.startswith(("ADH", "AECDH")) or "ANON" in name:
        return "anonymous key exchange: the server is not authenticated"
    if "NULL" in name:
        return "no encryption"
    if "RC4" in name or "DES" in name or "EXP" in name:
        return "a broken cipher"
    return "a weak suite"


@check(
    id="MB-ENC-012",
    title="Server accepts weak cipher suites",
    category=Category.ENCRYPTION,
    severity=Severity.MEDIUM,
    cwe=(327,),
    owasp="API8:2023",
    kind=Kind.ACTIVE,
)
async def weak_ciphers_accepted(ctx: ProbeContext) -> AsyncIterator[RawFinding]:
    """The server agrees to a cipher suite without encryption (NULL), without authentication
    (anonymous DH/ECDH), or with a broken cipher (RC4, DES, 3DES, EXPORT, MD5).

    Such a connection is readable or impersonable no matter how good the certificate is. The
    client offers only weak suites (TLS 1.2 and below), so any completed handshake is a finding.
    Suites this machine's OpenSSL has compiled out (on OpenSSL 3: RC4, DES, 3DES, EXPORT) cannot
    be offered, so servers accepting only those are not detected here; when none can be offered,
    or the handshake never reached the server, the check says so instead of passing.
    """
    _tls_only(ctx)
    hs = await ctx.handshake(maximum="TLSv1.2", ciphers=WEAK_CIPHERS)
    if _cannot_offer(hs):
        raise NotApplicable("this machine's OpenSSL offers none of the weak cipher suites")
    if _unreached(hs):
        raise NotApplicable(f"could not test: {hs.error}")
    if hs.ok and hs.cipher:
        yield _tls_finding(
            ctx,
            f"the server negotiated {hs.cipher} over {hs.version} ({_weakness(hs.cipher)})",
            key=hs.cipher,
            excerpt=f"offered only weak suites; the server chose {hs.cipher} ({hs.version})",
            reproduce=_openssl(ctx, "-tls1_2", "-cipher", f"'{hs.cipher}:@SECLEVEL=0'"),
        )


CHECKS = (
    plain_http_api,
    temporary_https_redirect,
    http_answered_before_redirect,
    spoofable_https_enforcement,
    missing_hsts,
    weak_hsts,
    inconsistent_hsts,
    untrusted_certificate,
    expired_certificate,
    certificate_host_mismatch,
    legacy_tls_accepted,
    weak_ciphers_accepted,
)
