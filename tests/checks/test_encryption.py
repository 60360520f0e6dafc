"""Encryption checks against real HTTP and HTTPS servers on 127.0.0.1 (certificates by trustme).

A few honesty rules (what the check says when this machine's OpenSSL cannot test something, or a
plain-HTTP listener that is not the API) are shown on hand-built contexts: no server can make the
local OpenSSL lack a version.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from middlebrick.checks import ALL
from middlebrick.checks import encryption as enc
from middlebrick.checks._check import Check
from middlebrick.checks._context import NotApplicable, Origin, ProbeContext, RawFinding, Target
from middlebrick.checks.encryption import hsts_problems
from middlebrick.demo.server import Served, serve
from middlebrick.demo.tls import local_ca, server_context
from middlebrick.errors import TargetError
from middlebrick.http.exchange import Exchange
from middlebrick.http.tls import Handshake, handshake
from middlebrick.model import CheckStatus, Report, Severity
from middlebrick.spec.operations import Operation, Source

from checks.conftest import exchange, ids, run_passive, scan_now, target
from targets.clean import PASSWORD, USER, clean_api, https_redirector
from targets.headers import leaky_flask, public_starlette
from targets.transport import (
    TOKEN,
    forwarded_header_app,
    hsts_app,
    http_listener,
    proxyfix_app,
    refusing_listener,
    token_api,
)

CREDS = SecretStr(f"{USER}:{PASSWORD}")
TRANSPORT = ("MB-ENC-001", "MB-ENC-002", "MB-ENC-003", "MB-ENC-004")
HSTS = ("MB-ENC-005", "MB-ENC-006", "MB-ENC-007")
CERT = ("MB-ENC-008", "MB-ENC-009", "MB-ENC-010")
ALL_ENC = (*TRANSPORT, *HSTS, *CERT, "MB-ENC-011", "MB-ENC-012")


@pytest.fixture
def ca(tmp_path: Path) -> tuple[Any, Path]:
    authority = local_ca()
    pem = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(pem))
    return authority, pem


@contextmanager
def deployment(
    https_app: Any, http_app: Callable[[int], Any] | None, context: ssl.SSLContext, pem: Path
) -> Iterator[tuple[Served, Served | None]]:
    """An HTTPS server and, optionally, a plain-HTTP listener built knowing the HTTPS port."""
    with ExitStack() as stack:
        https = stack.enter_context(serve(https_app, tls=context, ca_pem=pem))
        http = stack.enter_context(serve(http_app(https.port))) if http_app else None
        yield https, http


def scan_listener(ca: tuple[Any, Path], listener: Callable[[int], Any], *checks: str) -> Report:
    """Scan the http:// URL of a listener in front of the clean HTTPS API."""
    authority, pem = ca
    with deployment(clean_api(), listener, server_context(authority), pem) as (_, http):
        assert http is not None
        return scan_now(http.url, auth=CREDS, ca_bundle=pem, checks=checks)


def status(report: Report, check_id: str) -> CheckStatus:
    return next(r.status for r in report.checks if r.check_id == check_id)


def run_active(c: Check, ctx: ProbeContext) -> list[RawFinding]:
    async def collect() -> list[RawFinding]:
        return [f async for f in c.fn(ctx)]

    return asyncio.run(collect())


def probe_context(
    c: Check,
    *,
    tgt: Target | None = None,
    handshakes: Callable[..., Handshake] | None = None,
    answers: Callable[[str], Exchange] | None = None,
    operations: tuple[Operation, ...] = (),
) -> ProbeContext:
    """An active check's context whose handshakes and requests are answered by functions."""

    async def shake(**options: Any) -> Handshake:
        assert handshakes is not None
        return handshakes(**options)

    async def send(method: str, url: str, **_: Any) -> Exchange:
        assert answers is not None
        return answers(url)

    return ProbeContext(c, tgt or target(), list(operations), [], _send=send, _handshake=shake)


# the clean deployment: no encryption finding at all --------------------------------------------


def test_encryption_checks_ignores_a_correct_https_deployment(ca: tuple[Any, Path]) -> None:
    """Valid certificate from the CA given as --ca-bundle, HSTS of two years on every answer, a 301
    from HTTP for every path whatever the headers say, TLS 1.2 and 1.3 only."""
    report = scan_listener(ca, https_redirector, *ALL_ENC)
    assert report.findings == []
    unfinished = {
        r.check_id: r.reason for r in report.checks if r.status is not CheckStatus.COMPLETED
    }
    assert unfinished.pop("MB-ENC-001") == "the API is scanned over HTTPS"
    # an OpenSSL without TLS 1.0/1.1 or weak suites must say so; this one (3.0) has them
    assert all("OpenSSL" in (reason or "") for reason in unfinished.values()), unfinished


# MB-ENC-001 ------------------------------------------------------------------------------------


@pytest.mark.check("MB-ENC-001")
def test_plain_http_api_flags_basic_challenge_as_critical() -> None:
    with serve(leaky_flask()) as served:
        report = scan_now(served.url, checks=("MB-ENC-001",))
    [finding] = report.findings
    assert finding.severity is Severity.CRITICAL
    assert "challenges for Basic credentials" in finding.detail
    assert "CWE-522" in finding.detail
    assert "loopback" in finding.detail
    assert all(e.startswith(f"GET {served.url}/api/") for e in finding.endpoints)


@pytest.mark.check("MB-ENC-001")
def test_plain_http_api_flags_accepted_token_as_critical() -> None:
    # no password prompt, but /orders refuses anonymous requests and takes the token in clear
    with serve(token_api()) as served:
        report = scan_now(served.url, bearer=SecretStr(TOKEN), checks=("MB-ENC-001",))
    [finding] = report.findings
    assert finding.severity is Severity.CRITICAL
    assert "accepts the scanner's credentials" in finding.detail
    assert finding.endpoints == [f"GET {served.url}/orders"]


@pytest.mark.check("MB-ENC-001")
def test_plain_http_api_flags_token_api_without_credentials_as_high() -> None:
    with serve(token_api()) as served:
        report = scan_now(served.url, checks=("MB-ENC-001",))
    assert [f.severity for f in report.findings] == [Severity.HIGH]


@pytest.mark.check("MB-ENC-001")
def test_plain_http_api_flags_public_api_as_high_even_with_credentials() -> None:
    # the credentials were sent, but nothing on this API needed them: no CWE-522 escalation
    with serve(public_starlette()) as served:
        report = scan_now(served.url, auth=CREDS, checks=("MB-ENC-001",))
    [finding] = report.findings
    assert finding.severity is Severity.HIGH
    assert finding.detail.startswith("the API answers over plain HTTP without redirecting")


@pytest.mark.check("MB-ENC-001")
def test_plain_http_api_ignores_redirect_to_another_host() -> None:
    with serve(http_listener(443)) as served:  # redirects to https on 127.0.0.1:443, never asked
        report = scan_now(served.url.replace("127.0.0.1", "localhost"), checks=("MB-ENC-001",))
    assert report.findings == []
    assert status(report, "MB-ENC-001") is CheckStatus.COMPLETED


@pytest.mark.check("MB-ENC-001")
@pytest.mark.parametrize("code", [426, 400])
def test_plain_http_api_ignores_listener_that_refuses_plain_http(code: int) -> None:
    with serve(refusing_listener(code)) as served:
        report = scan_now(served.url, auth=CREDS, checks=("MB-ENC-001",))
    assert report.findings == []
    assert status(report, "MB-ENC-001") is CheckStatus.COMPLETED


# MB-ENC-002 ------------------------------------------------------------------------------------


@pytest.mark.check("MB-ENC-002")
@pytest.mark.parametrize("code", [302, 303, 307])
def test_temporary_https_redirect_flags_temporary_codes(ca: tuple[Any, Path], code: int) -> None:
    report = scan_listener(ca, functools.partial(http_listener, status=code), "MB-ENC-002")
    [finding] = report.findings
    assert finding.detail == f"HTTP answers {code} (temporary) instead of 301/308"
    assert finding.severity is Severity.LOW


@pytest.mark.check("MB-ENC-002")
@pytest.mark.parametrize("code", [301, 308])
def test_temporary_https_redirect_ignores_permanent_codes(ca: tuple[Any, Path], code: int) -> None:
    report = scan_listener(ca, functools.partial(http_listener, status=code), "MB-ENC-002")
    assert report.findings == []
    assert status(report, "MB-ENC-002") is CheckStatus.COMPLETED


@pytest.mark.check("MB-ENC-002")
def test_temporary_https_redirect_ignores_https_target_without_known_listener(
    ca: tuple[Any, Path],
) -> None:
    authority, pem = ca
    with serve(clean_api(), tls=server_context(authority)) as https:
        report = scan_now(https.url, ca_bundle=pem, checks=TRANSPORT)
    assert report.findings == []
    assert {status(report, c) for c in TRANSPORT} == {CheckStatus.NOT_APPLICABLE}


# MB-ENC-003 ------------------------------------------------------------------------------------


@pytest.mark.check("MB-ENC-003")
def test_http_answered_before_redirect_flags_basic_challenge_first(ca: tuple[Any, Path]) -> None:
    listener = functools.partial(http_listener, challenge_first=True)
    with deployment(clean_api(), listener, server_context(ca[0]), ca[1]) as (_, http):
        assert http is not None
        report = scan_now(http.url, auth=CREDS, ca_bundle=ca[1], checks=TRANSPORT)
    assert ids(report) == ["MB-ENC-003"]  # the root redirects: not MB-ENC-001's plain-HTTP API
    [finding] = report.findings
    assert finding.severity is Severity.CRITICAL
    assert {e.split()[-1] for e in finding.endpoints} == {f"{http.url}/orders", f"{http.url}/me"}
    # the scanner never sent the user's credentials over plain HTTP to find it
    assert all("authorization" not in e.excerpt.lower() for e in finding.evidence)


@pytest.mark.check("MB-ENC-003")
def test_http_answered_before_redirect_flags_bearer_challenge_as_high(
    ca: tuple[Any, Path],
) -> None:
    listener = functools.partial(http_listener, challenge_first=True, scheme="Bearer")
    [finding] = scan_listener(ca, listener, "MB-ENC-003").findings
    assert finding.severity is Severity.HIGH
    assert "Bearer challenge" in finding.detail


@pytest.mark.check("MB-ENC-003")
def test_http_answered_before_redirect_flags_data_over_http(ca: tuple[Any, Path]) -> None:
    listener = functools.partial(http_listener, serve_data=True)
    [finding] = scan_listener(ca, listener, "MB-ENC-003").findings
    assert (finding.severity, finding.detail) == (
        Severity.HIGH,
        "the API serves responses over plain HTTP",
    )


@pytest.mark.check("MB-ENC-003")
def test_http_answered_before_redirect_ignores_redirect_everywhere(ca: tuple[Any, Path]) -> None:
    report = scan_listener(ca, http_listener, "MB-ENC-003")
    assert report.findings == []
    assert status(report, "MB-ENC-003") is CheckStatus.COMPLETED


@pytest.mark.check("MB-ENC-003")
def test_http_answered_before_redirect_ignores_listener_that_never_redirects() -> None:
    # an HTTPS API on 443 whose port 80 is some other site: not judged as the API
    https = Origin("https", "api.example.test", 443)
    tgt = replace(target(), http_origin=Origin("http", "api.example.test", 80))
    ops = tuple(Operation("GET", path, https.url + path, Source.ROOT) for path in ("/", "/orders"))
    ctx = probe_context(
        enc.http_answered_before_redirect,
        tgt=tgt,
        operations=ops,
        answers=lambda url: exchange(url, headers=[("Content-Type", "text/html")], body=b"nginx"),
    )
    with pytest.raises(NotApplicable, match="does not redirect to HTTPS"):
        run_active(enc.http_answered_before_redirect, ctx)


# MB-ENC-004 ------------------------------------------------------------------------------------


@contextmanager
def https_enforced_in_app(authority: Any, app: Callable[[int], Any]) -> Iterator[Served]:
    """The same Flask app on HTTPS and, for HTTP, on a second port: it redirects by itself."""
    with ExitStack() as stack:
        https = stack.enter_context(serve(app(0), tls=server_context(authority)))
        yield stack.enter_context(serve(app(https.port)))


@pytest.mark.check("MB-ENC-004")
def test_spoofable_https_enforcement_flags_proxyfix_without_proxy(ca: tuple[Any, Path]) -> None:
    app = functools.partial(proxyfix_app, trust_forwarded=True)
    with https_enforced_in_app(ca[0], app) as http:
        report = scan_now(http.url, ca_bundle=ca[1], checks=("MB-ENC-004",))
    [finding] = report.findings
    assert finding.detail == "`X-Forwarded-Proto: https` turns the HTTPS redirect into a 200"
    assert finding.severity is Severity.MEDIUM
    assert f"GET {http.url}/" in finding.endpoints


@pytest.mark.check("MB-ENC-004")
@pytest.mark.parametrize(
    ("header", "value"),
    [("X-Forwarded-Scheme", "https"), ("X-Forwarded-Ssl", "on"), ("Front-End-Https", "on")],
)
def test_spoofable_https_enforcement_flags_each_kin_header(
    ca: tuple[Any, Path], header: str, value: str
) -> None:
    app = functools.partial(forwarded_header_app, header=header, value=value)
    with https_enforced_in_app(ca[0], app) as http:
        report = scan_now(http.url, ca_bundle=ca[1], checks=("MB-ENC-004",))
    assert [f.detail for f in report.findings] == [
        f"`{header}: {value}` turns the HTTPS redirect into a 200"
    ]


@pytest.mark.check("MB-ENC-004")
def test_spoofable_https_enforcement_ignores_untrusted_forwarded_headers(
    ca: tuple[Any, Path],
) -> None:
    app = functools.partial(proxyfix_app, trust_forwarded=False)
    with https_enforced_in_app(ca[0], app) as http:
        report = scan_now(http.url, ca_bundle=ca[1], checks=("MB-ENC-004",))
    assert report.findings == []
    assert status(report, "MB-ENC-004") is CheckStatus.COMPLETED


@pytest.mark.check("MB-ENC-004")
def test_spoofable_https_enforcement_ignores_header_rejected_with_an_error(
    ca: tuple[Any, Path],
) -> None:
    # a 400 for the spoofed header is not the API served: only 2xx or the HTTPS status count
    listener = functools.partial(http_listener, reject_forwarded=True)
    report = scan_listener(ca, listener, "MB-ENC-004")
    assert report.findings == []
    assert status(report, "MB-ENC-004") is CheckStatus.COMPLETED


# HSTS ------------------------------------------------------------------------------------------


def scan_hsts(authority: Any, pem: Path, app: Any, **settings: Any) -> Report:
    with serve(app, tls=server_context(authority)) as https:
        return scan_now(https.url, ca_bundle=pem, checks=HSTS, **settings)


@pytest.mark.check("MB-ENC-005")
def test_missing_hsts_flags_https_api_without_it(ca: tuple[Any, Path]) -> None:
    report = scan_hsts(*ca, hsts_app(value=None), auth=CREDS)
    assert ids(report) == ["MB-ENC-005"]
    assert report.findings[0].severity is Severity.MEDIUM


@pytest.mark.check("MB-ENC-005")
def test_missing_hsts_ignores_plain_http_targets() -> None:
    # HSTS over plain HTTP means nothing; MB-ENC-001 reports the real problem
    with serve(hsts_app(value=None)) as served:
        report = scan_now(served.url, checks=HSTS)
    assert report.findings == []
    assert {status(report, c) for c in HSTS} == {CheckStatus.NOT_APPLICABLE}


@pytest.mark.check("MB-ENC-006")
def test_weak_hsts_flags_short_max_age(ca: tuple[Any, Path]) -> None:
    report = scan_hsts(*ca, hsts_app(value="max-age=86400"), auth=CREDS)
    [finding] = report.findings
    assert finding.check_id == "MB-ENC-006"
    assert "max-age=86400 is shorter than one year" in finding.detail
    assert finding.severity is Severity.LOW


@pytest.mark.check("MB-ENC-006")
def test_weak_hsts_flags_max_age_zero_as_medium(ca: tuple[Any, Path]) -> None:
    report = scan_hsts(*ca, hsts_app(value="max-age=0"), auth=CREDS)
    assert [(f.check_id, f.severity) for f in report.findings] == [("MB-ENC-006", Severity.MEDIUM)]


@pytest.mark.check("MB-ENC-006")
@pytest.mark.parametrize(
    ("values", "severity", "fragment"),
    [
        (["max-age=0"], Severity.MEDIUM, "forget HSTS"),
        (["includeSubDomains"], Severity.LOW, "no max-age"),
        (["max-age=1y"], Severity.LOW, "not a number"),
        (["max-age="], Severity.LOW, "not a number"),
        (["max-age=31536000, includeSubDomains"], Severity.LOW, "separated by ';', not ','"),
        (["max-age=31536000; max-age=31536000"], Severity.LOW, "repeated"),
        (["Max-Age=31536000; MAX-AGE=600"], Severity.LOW, "repeated"),
        (["max-age=31536000", "max-age=600"], Severity.LOW, "only the first counts"),
        (["max-age=0", "max-age=31536000"], Severity.MEDIUM, "first of 2 headers"),
    ],
)
def test_weak_hsts_flags_malformed_policies(
    values: list[str], severity: Severity, fragment: str
) -> None:
    problem = hsts_problems(values)
    assert problem is not None
    assert problem[0] is severity
    assert fragment in problem[1]


@pytest.mark.check("MB-ENC-006")
@pytest.mark.parametrize(
    "values",
    [
        ['max-age="31536000"'],
        ["MAX-AGE=63072000 ; includeSubDomains"],
        ["max-age=31536000;preload;"],
        ["max-age = 31536000; includeSubDomains; preload"],
        ["max-age=31536000", "max-age=31536000"],  # repeated as is: harmless
    ],
)
def test_weak_hsts_ignores_valid_policies(values: list[str]) -> None:
    assert hsts_problems(values) is None
    ex = exchange(headers=[("Strict-Transport-Security", v) for v in values])
    assert run_passive(enc.weak_hsts, [ex], tgt=target()) == []


@pytest.mark.check("MB-ENC-007")
def test_inconsistent_hsts_flags_policy_missing_on_errors(ca: tuple[Any, Path]) -> None:
    with serve(hsts_app(value="max-age=31536000", on_errors=False), tls=server_context(ca[0])) as s:
        report = scan_now(s.url, ca_bundle=ca[1], checks=HSTS)  # anonymous: /orders answers 401
    [finding] = report.findings
    assert finding.check_id == "MB-ENC-007"
    assert finding.endpoints == [f"GET {s.url}/orders"]
    assert "(status 401)" in finding.detail


@pytest.mark.check("MB-ENC-005")
@pytest.mark.check("MB-ENC-006")
@pytest.mark.check("MB-ENC-007")
def test_inconsistent_hsts_ignores_policy_on_every_response(ca: tuple[Any, Path]) -> None:
    report = scan_hsts(*ca, hsts_app(value="max-age=31536000; includeSubDomains"))
    assert report.findings == []
    assert {status(report, c) for c in HSTS} == {CheckStatus.COMPLETED}


# certificates ------------------------------------------------------------------------------------


def scan_certificate(context: ssl.SSLContext, **settings: Any) -> Report:
    with serve(clean_api(), tls=context) as https:
        return scan_now(https.url, checks=CERT, **settings)


def past(days: int) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


def test_untrusted_certificate_stops_the_scan_without_insecure(ca: tuple[Any, Path]) -> None:
    with pytest.raises(TargetError, match="--insecure"):
        scan_certificate(server_context(ca[0]))


@pytest.mark.check("MB-ENC-008")
def test_untrusted_certificate_flags_unknown_ca_with_insecure(ca: tuple[Any, Path]) -> None:
    report = scan_certificate(server_context(ca[0]), insecure=True)
    assert ids(report) == ["MB-ENC-008"]
    [finding] = report.findings
    assert finding.detail == "certificate not trusted: unable to get local issuer certificate"
    assert "issuer: OU=Testing CA" in finding.evidence[0].excerpt
    assert (finding.reproduce or "").startswith("openssl s_client -connect 127.0.0.1:")


@pytest.mark.check("MB-ENC-008")
@pytest.mark.check("MB-ENC-009")
@pytest.mark.check("MB-ENC-010")
def test_untrusted_certificate_ignores_private_ca_given_as_bundle(ca: tuple[Any, Path]) -> None:
    report = scan_certificate(server_context(ca[0]), ca_bundle=ca[1])
    assert report.findings == []
    assert {status(report, c) for c in CERT} == {CheckStatus.COMPLETED}


@pytest.mark.check("MB-ENC-009")
def test_expired_certificate_flags_past_not_after(ca: tuple[Any, Path]) -> None:
    expired_on = past(10)
    context = server_context(ca[0], not_before=past(100), not_after=expired_on)
    report = scan_certificate(context, ca_bundle=ca[1], insecure=True)
    assert ids(report) == ["MB-ENC-009"]  # trusted CA: the expiry is not also "untrusted"
    assert report.findings[0].detail == f"certificate expired on {expired_on:%Y-%m-%d}"


@pytest.mark.check("MB-ENC-009")
def test_expired_certificate_flags_future_not_before(ca: tuple[Any, Path]) -> None:
    context = server_context(ca[0], not_before=past(-10), not_after=past(-100))
    report = scan_certificate(context, ca_bundle=ca[1], insecure=True)
    assert ids(report) == ["MB-ENC-009"]
    assert report.findings[0].detail.startswith("certificate is not valid before ")


@pytest.mark.check("MB-ENC-009")
def test_expired_certificate_flags_expiry_of_an_untrusted_chain(ca: tuple[Any, Path]) -> None:
    context = server_context(ca[0], not_before=past(100), not_after=past(10))
    report = scan_certificate(context, insecure=True)  # unknown CA *and* expired
    assert sorted(ids(report)) == ["MB-ENC-008", "MB-ENC-009"]


@pytest.mark.check("MB-ENC-009")
def test_expired_certificate_ignores_current_certificate_of_an_untrusted_chain(
    ca: tuple[Any, Path],
) -> None:
    report = scan_certificate(server_context(ca[0]), insecure=True)
    assert "MB-ENC-009" not in ids(report)
    assert status(report, "MB-ENC-009") is CheckStatus.COMPLETED


@pytest.mark.check("MB-ENC-010")
def test_certificate_host_mismatch_flags_wrong_name(ca: tuple[Any, Path]) -> None:
    report = scan_certificate(
        server_context(ca[0], "api.example.test"), ca_bundle=ca[1], insecure=True
    )
    assert ids(report) == ["MB-ENC-010"]
    assert report.findings[0].detail == "certificate names api.example.test, not 127.0.0.1"


@pytest.mark.check("MB-ENC-010")
def test_certificate_host_mismatch_ignores_wildcard_and_ip_names() -> None:
    from middlebrick.http.tls import Certificate

    now = datetime.now(UTC)
    cert = Certificate("CN=x", "CN=ca", now, now, ("*.example.test", "10.0.0.1", "::1"))
    assert cert.matches("api.example.test")
    assert cert.matches("10.0.0.1")
    assert cert.matches("[::1]")
    assert not cert.matches("a.b.example.test")
    assert not cert.matches("example.test")


# protocol versions and ciphers -----------------------------------------------------------------


def legacy_context(authority: Any) -> ssl.SSLContext:
    return server_context(
        authority, minimum_version=ssl.TLSVersion.TLSv1, ciphers="ALL:@SECLEVEL=0", rsa=True
    )


def unofferable(**_: Any) -> Handshake:
    return Handshake(ok=False, error="this OpenSSL cannot offer that: no ciphers available")


@pytest.mark.check("MB-ENC-011")
def test_legacy_tls_accepted_flags_tls10_and_tls11(ca: tuple[Any, Path]) -> None:
    with serve(clean_api(), tls=legacy_context(ca[0])) as https:
        report = scan_now(https.url, ca_bundle=ca[1], checks=("MB-ENC-011",))
    if status(report, "MB-ENC-011") is CheckStatus.NOT_APPLICABLE:
        pytest.skip("this OpenSSL cannot offer TLS 1.0/1.1")
    [finding] = report.findings
    assert finding.detail == "the server accepts TLSv1 and TLSv1.1"
    assert finding.severity is Severity.MEDIUM
    assert finding.reproduce is not None
    assert f"-connect 127.0.0.1:{https.port}" in finding.reproduce
    assert " -tls1 " in finding.reproduce


@pytest.mark.check("MB-ENC-011")
def test_legacy_tls_accepted_flags_what_it_could_test_and_says_what_it_could_not() -> None:
    def shake(*, minimum: str, maximum: str) -> Handshake:
        if minimum == "TLSv1":
            return unofferable()
        return Handshake(ok=True, version="TLSv1.1", cipher="ECDHE-RSA-AES256-SHA")

    ctx = probe_context(enc.legacy_tls_accepted, handshakes=shake)
    [finding] = run_active(enc.legacy_tls_accepted, ctx)
    assert finding.detail == "the server accepts TLSv1.1"
    assert finding.excerpt is not None
    assert "not tested: TLSv1 (this machine's OpenSSL cannot offer it)" in finding.excerpt
    assert " -tls1_1 " in (finding.reproduce or "")


@pytest.mark.check("MB-ENC-011")
def test_legacy_tls_accepted_ignores_tls12_minimum(ca: tuple[Any, Path]) -> None:
    with serve(clean_api(), tls=server_context(ca[0])) as https:
        report = scan_now(https.url, ca_bundle=ca[1], checks=("MB-ENC-011",))
    assert report.findings == []
    assert status(report, "MB-ENC-011") is CheckStatus.COMPLETED


@pytest.mark.check("MB-ENC-011")
def test_legacy_tls_accepted_ignores_nothing_when_it_cannot_offer_the_versions(
    ca: tuple[Any, Path],
) -> None:
    """Not "clean" but "could not test": a real server, and a client whose only suite is TLS 1.2's
    (as on an OpenSSL built without TLS 1.0/1.1), which fails before sending anything."""
    with serve(clean_api(), tls=server_context(ca[0])) as https:

        def tls12_only_client(**options: Any) -> Handshake:
            options["ciphers"] = "ECDHE-ECDSA-AES128-GCM-SHA256"
            return handshake(https.host, https.port, timeout=5, **options)

        ctx = probe_context(enc.legacy_tls_accepted, handshakes=tls12_only_client)
        with pytest.raises(NotApplicable, match=r"could not test TLSv1 \(this machine's OpenSSL"):
            run_active(enc.legacy_tls_accepted, ctx)


@pytest.mark.check("MB-ENC-012")
def test_weak_ciphers_accepted_flags_anonymous_suites(ca: tuple[Any, Path]) -> None:
    with serve(clean_api(), tls=legacy_context(ca[0])) as https:
        report = scan_now(https.url, ca_bundle=ca[1], checks=("MB-ENC-012",))
    [finding] = report.findings
    assert finding.check_id == "MB-ENC-012"
    assert finding.detail.startswith("the server negotiated AECDH-")
    assert finding.detail.endswith("(anonymous key exchange: the server is not authenticated)")


@pytest.mark.check("MB-ENC-012")
def test_weak_ciphers_accepted_ignores_modern_server(ca: tuple[Any, Path]) -> None:
    with serve(clean_api(), tls=server_context(ca[0])) as https:
        report = scan_now(https.url, ca_bundle=ca[1], checks=("MB-ENC-012",))
    assert report.findings == []
    assert status(report, "MB-ENC-012") is CheckStatus.COMPLETED


@pytest.mark.check("MB-ENC-012")
def test_weak_ciphers_accepted_ignores_nothing_when_it_cannot_offer_them() -> None:
    ctx = probe_context(enc.weak_ciphers_accepted, handshakes=unofferable)
    with pytest.raises(NotApplicable, match="offers none of the weak cipher suites"):
        run_active(enc.weak_ciphers_accepted, ctx)


def test_the_registry_lists_the_runtime_encryption_checks_in_id_order() -> None:
    listed = [c.id for c in ALL if c.id.startswith("MB-ENC-") and c.id != "MB-ENC-013"]
    assert listed == [f"MB-ENC-{n:03}" for n in range(1, 13)]
