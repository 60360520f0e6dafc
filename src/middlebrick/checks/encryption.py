"""Encryption: is the API reachable only over TLS, told to stay there, and is its TLS sound.

Transport checks compare the scanned HTTPS origin with the plain-HTTP listener on the same host
(recon found it when an `http://` target redirected, or assumes port 80 for an HTTPS target on
443). TLS checks handshake with the target directly; they can only test what this machine's
OpenSSL can offer, and say so instead of passing silently.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
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
HTTP_PROBES = 20
SPOOF_HEADERS = (
    ("X-Forwarded-Proto", "https"),
    ("X-Forwarded-Scheme", "https"),
    ("X-Forwarded-Ssl", "on"),
    ("Front-End-Https", "on"),
)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT = frozenset({301, 308})
_UNOFFERABLE = "this OpenSSL cannot offer that"


def _challenge(ex: Exchange) -> str | None:
    """The credential scheme a 401 asks for in clear text (basic/digest), if any."""
    if ex.response is None or ex.response.status != 401:
        return None
    for value in ex.response.headers.get_all("www-authenticate"):
        match = re.match(r"\s*(basic|digest)\b", value, re.I)
        if match:
            return match.group(1).capitalize()
    return None


def _upgrades(ex: Exchange) -> bool:
    """The answer redirects to an https:// URL."""
    resp = ex.response
    if resp is None or resp.status not in _REDIRECTS:
        return False
    location = resp.headers.get("location") or ""
    return urljoin(ex.request.url, location).startswith("https://")


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


def _http_urls(ctx: ProbeContext) -> list[str]:
    urls = [op.url for op in ctx.operations if op.method == "GET"]
    return list(dict.fromkeys(_on_http(ctx, u) for u in urls))[:HTTP_PROBES]


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
    changeable by anyone on the path. Critical when the API asks for Basic or Digest credentials
    over plain HTTP or accepts the scanner's credentials there (CWE-522): the password itself is
    exposed on every request. Not reported when the HTTP listener only redirects to HTTPS.
    """
    if ctx.target.origin.scheme != "http":
        raise NotApplicable("the API is scanned over HTTPS")
    where = " (a loopback address: this matters wherever it is deployed)" if _loopback(ctx) else ""
    served = [
        ex for ex in ctx.exchanges(scheme="http") if ex.response is not None and not _upgrades(ex)
    ]
    if not served:
        return
    challenged = [ex for ex in served if _challenge(ex)]
    accepted = [ex for ex in served if ex.request.authenticated and ex.ok]
    if challenged or accepted:
        scheme = _challenge(challenged[0]) if challenged else "the scanner's"
        what = (
            f"challenges for {scheme} credentials"
            if challenged
            else "accepts the scanner's credentials"
        )
        yield ctx.finding(
            (challenged[:2] + accepted[:1]) or served[:1],
            f"the API {what} over plain HTTP: passwords cross the network in clear (CWE-522)"
            + where,
            severity=Severity.CRITICAL,
            confidence=Confidence.CERTAIN,
            key="plain-http",
            headers=("www-authenticate",),
        )
    else:
        yield ctx.finding(
            served[:3],
            "the API answers over plain HTTP without redirecting to HTTPS" + where,
            confidence=Confidence.CERTAIN,
            key="plain-http",
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
    keeps the method and body).
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
    title="Plain-HTTP requests are answered instead of redirected to HTTPS",
    category=Category.ENCRYPTION,
    severity=Severity.HIGH,
    cwe=(319, 523),
    owasp="API8:2023",
    kind=Kind.ACTIVE,
)
async def http_answered_before_redirect(ctx: ProbeContext) -> AsyncIterator[RawFinding]:
    """An API served over HTTPS also answers some requests over plain HTTP.

    Either it serves data over HTTP, or it answers with an authentication challenge before (or
    instead of) redirecting — a client then sends the user's credentials in clear text first and
    is only redirected afterwards. Critical for Basic/Digest challenges. The usual cause is an
    auth layer that runs before the HTTPS redirect, or a redirect configured only for some paths.
    Connection refused on port 80 is the best answer and is never reported.
    """
    _https_with_http_listener(ctx)
    for url in _http_urls(ctx):
        ex = await ctx.send("GET", url, purpose="plain-HTTP request")
        if ex.response is None or ex.response.status in _REDIRECTS:
            continue
        scheme = _challenge(ex)
        if scheme:
            yield ctx.finding(
                ex,
                f"over plain HTTP the API challenges for {scheme} credentials before redirecting",
                severity=Severity.CRITICAL,
                key="challenge",
                headers=("www-authenticate",),
            )
        elif ex.ok:
            yield ctx.finding(ex, "the API serves responses over plain HTTP", key="served")


@check(
    id="MB-ENC-004",
    title="HTTPS redirect can be skipped with a spoofed forwarding header",
    category=Category.ENCRYPTION,
    severity=Severity.MEDIUM,
    cwe=(348, 319),
    owasp="API8:2023",
    kind=Kind.ACTIVE,
)
async def spoofable_https_enforcement(ctx: ProbeContext) -> AsyncIterator[RawFinding]:
    """A plain-HTTP request carrying `X-Forwarded-Proto: https` (or a kin header) is served.

    The application decides whether a request was secure from a header any client can send,
    typically Werkzeug's `ProxyFix` or a framework "trust proxy" setting enabled where no proxy
    strips the header. Its HTTPS enforcement is then a suggestion: a client (or a misconfigured
    proxy) can talk to it in clear text, and secure-only logic (cookies, HSTS) misfires.
    """
    _https_with_http_listener(ctx)
    for url in _http_urls(ctx)[:3]:
        plain = await ctx.send("GET", url, purpose="plain-HTTP request")
        if plain.response is None or not _upgrades(plain):
            continue
        for name, value in SPOOF_HEADERS:
            ex = await ctx.send("GET", url, headers={name: value}, purpose=f"spoofed {name}")
            if ex.response is not None and ex.response.status not in _REDIRECTS:
                yield ctx.finding(
                    [plain, ex],
                    f"`{name}: {value}` turns the HTTPS redirect into a {ex.response.status}",
                    key=name,
                )


def _origin_https(ctx: Context) -> list[Exchange]:
    if not ctx.target.tls:
        raise NotApplicable("the API is not served over HTTPS")
    prefix = ctx.target.origin.url + "/"
    return [
        ex
        for ex in ctx.exchanges(scheme="https")
        if (ex.request.url + "/").startswith(prefix) or ex.request.url == ctx.target.origin.url
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
    on HTTPS responses only: browsers ignore HSTS sent over plain HTTP.
    """
    exchanges = _origin_https(ctx)
    if exchanges and not any(_hsts(ex) for ex in exchanges):
        yield ctx.finding(
            exchanges[:3],
            "no HTTPS response sends Strict-Transport-Security",
            key="missing",
            headers=("strict-transport-security",),
        )


def hsts_problems(values: list[str]) -> tuple[Severity, str] | None:
    """What is wrong with a response's HSTS header(s) per RFC 6797, or None."""
    if len(values) > 1:
        return (
            Severity.LOW,
            f"{len(values)} Strict-Transport-Security headers (only the first counts)",
        )
    directives: dict[str, str | None] = {}
    for part in values[0].split(";"):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        key = name.strip().lower()
        if key in directives:
            return Severity.LOW, f"directive {key!r} repeated (the header is invalid)"
        directives[key] = value.strip().strip('"') if sep else None
    if "max-age" not in directives:
        return Severity.LOW, "no max-age (the header is invalid and ignored)"
    raw = directives["max-age"] or ""
    if not raw.isdigit():
        return Severity.LOW, f"max-age={raw!r} is not a number (the header is ignored)"
    max_age = int(raw)
    if max_age == 0:
        return Severity.MEDIUM, "max-age=0 tells clients to forget HSTS"
    if max_age < ONE_YEAR:
        return Severity.LOW, f"max-age={max_age} is shorter than one year ({ONE_YEAR})"
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
    or not a number, repeated directives, or several headers.

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
                f"Strict-Transport-Security: {'; '.join(values)} — {detail}",
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
    """Some HTTPS responses carry `Strict-Transport-Security` and others (often error pages or
    routes served by another component) do not.

    A client that only ever meets the responses without it is never protected; the usual cause is
    a header set in one view or blueprint instead of once for the whole application or proxy.
    Judged on the API's operations (not on the scanner's probes of paths that do not exist).
    When no response has HSTS at all, MB-ENC-005 reports it instead.
    """
    documented = {op.url for op in ctx.operations}
    exchanges = [ex for ex in _origin_https(ctx) if ex.request.url in documented]
    lacking = [ex for ex in exchanges if not _hsts(ex)]
    if lacking and len(lacking) < len(exchanges):
        yield ctx.finding(
            lacking,
            f"{len(lacking)} of {len(exchanges)} HTTPS responses lack Strict-Transport-Security",
            key="inconsistent",
            headers=("strict-transport-security",),
        )


def _tls_only(ctx: ProbeContext) -> None:
    if not ctx.target.tls:
        raise NotApplicable("the API is not served over HTTPS")


def _openssl(ctx: ProbeContext, *options: str) -> str:
    """An `openssl s_client` line that repeats a handshake."""
    origin = ctx.target.origin
    host = f"[{origin.host}]" if ":" in origin.host else origin.host
    return (
        " ".join(
            [
                "openssl s_client -connect",
                f"{host}:{origin.port}",
                "-servername",
                origin.host,
                *options,
            ]
        )
        + " </dev/null"
    )


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


async def _certificate(ctx: ProbeContext) -> tuple[Handshake, Handshake]:
    """(verifying handshake, non-verifying handshake that carries the certificate)."""
    _tls_only(ctx)
    verified = await ctx.handshake(verify=True)
    seen = await ctx.handshake(verify=False)
    if seen.certificate is None:
        raise RuntimeError(f"no certificate could be read: {seen.error or verified.error}")
    return verified, seen


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
    attacker's certificate just as well. Trust is judged against the system store, or against
    `--ca-bundle` when given. Expiry and host-name problems are reported by MB-ENC-009/010.
    """
    verified, seen = await _certificate(ctx)
    code = verified.verify_code
    if code is not None and code not in (CERT_HAS_EXPIRED, CERT_NOT_YET_VALID, HOSTNAME_MISMATCH):
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
    _, seen = await _certificate(ctx)
    assert seen.certificate is not None
    now = datetime.now(UTC)
    cert = seen.certificate
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
    """None of the certificate's subject alternative names match the host that was scanned.

    Verifying clients refuse it; clients that connect anyway cannot tell the API from an
    impostor. Matching follows RFC 6125: exact names, one left-most `*` label, exact IP
    addresses.
    """
    _, seen = await _certificate(ctx)
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
    attacks, and no current client needs them. When this machine's OpenSSL cannot offer a
    version at all, the check says it could not test it rather than passing.
    """
    _tls_only(ctx)
    accepted, untestable = [], []
    for version in ("TLSv1", "TLSv1.1"):
        hs = await ctx.handshake(minimum=version, maximum=version)
        if hs.ok:
            accepted.append(f"{hs.version} ({hs.cipher})")
        elif (hs.error or "").startswith(_UNOFFERABLE):
            untestable.append(version)
    if len(untestable) == 2:
        raise NotApplicable("this machine's OpenSSL cannot offer TLS 1.0 or 1.1 to test them")
    if accepted:
        yield _tls_finding(
            ctx,
            f"the server accepts {' and '.join(a.split()[0] for a in accepted)}",
            key="legacy",
            excerpt="negotiated: " + "; ".join(accepted),
            reproduce=_openssl(ctx, "-tls1", "-cipher", "'DEFAULT:@SECLEVEL=0'"),
        )


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
    be offered, so servers accepting only those are not detected here.
    """
    _tls_only(ctx)
    hs = await ctx.handshake(maximum="TLSv1.2", ciphers=WEAK_CIPHERS)
    if (hs.error or "").startswith(_UNOFFERABLE):
        raise NotApplicable("this machine's OpenSSL offers none of the weak cipher suites")
    if hs.ok:
        yield _tls_finding(
            ctx,
            f"the server negotiated {hs.cipher} over {hs.version}",
            key=hs.cipher or "weak",
            excerpt=f"offered only weak suites; server chose {hs.cipher} ({hs.version})",
            reproduce=_openssl(ctx, "-tls1_2", "-cipher", f"'{hs.cipher}:@SECLEVEL=0'"),
        )
