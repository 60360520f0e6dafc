"""TLS: certificate and protocol checks by direct handshake.

They can only test what this machine's OpenSSL can offer, and say so instead of passing silently.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

from middlebrick.checks._check import check
from middlebrick.checks._context import NotApplicable, ProbeContext, RawFinding
from middlebrick.http.tls import (
    CERT_HAS_EXPIRED,
    CERT_NOT_YET_VALID,
    HOSTNAME_MISMATCH,
    WEAK_CIPHERS,
    Handshake,
)
from middlebrick.model import Category, Confidence, Kind, Severity

LEGACY_VERSIONS = {"TLSv1": "-tls1", "TLSv1.1": "-tls1_1"}  # version -> openssl s_client flag
_UNOFFERABLE = "this OpenSSL cannot offer that"
# a handshake that failed before the server could say yes or no
_UNREACHED = ("ConnectionRefusedError", "TimeoutError", "gaierror", "OSError")


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
