"""Encryption checks against real HTTP and HTTPS servers on 127.0.0.1 (certificates by trustme)."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from middlebrick.checks import encryption as enc
from middlebrick.checks.encryption import hsts_problems
from middlebrick.demo.server import Served, serve
from middlebrick.demo.tls import local_ca, server_context
from middlebrick.model import CheckStatus, Report, Severity

from checks.conftest import exchange, ids, run_passive, scan_now, target
from targets.clean import PASSWORD, USER, clean_api, https_redirector
from targets.headers import leaky_flask, public_starlette
from targets.transport import hsts_app, http_listener, proxyfix_app

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


def status(report: Report, check_id: str) -> CheckStatus:
    return next(r.status for r in report.checks if r.check_id == check_id)


# the clean deployment: no encryption finding at all --------------------------------------------


def test_encryption_checks_ignores_a_correct_https_deployment(ca: tuple[Any, Path]) -> None:
    authority, pem = ca
    with deployment(clean_api(), https_redirector, server_context(authority), pem) as (_, http):
        assert http is not None
        report = scan_now(http.url, auth=CREDS, ca_bundle=pem, checks=ALL_ENC)
    assert report.findings == []
    assert status(report, "MB-ENC-001") is CheckStatus.NOT_APPLICABLE
    unfinished = {
        r.check_id: r.reason for r in report.checks if r.status is not CheckStatus.COMPLETED
    }
    assert unfinished == {"MB-ENC-001": "the API is scanned over HTTPS"}


# MB-ENC-001 ------------------------------------------------------------------------------------


@pytest.mark.check("MB-ENC-001")
def test_plain_http_api_flags_basic_challenge_as_critical() -> None:
    with serve(leaky_flask()) as served:
        report = scan_now(served.url, checks=("MB-ENC-001",))
    [finding] = report.findings
    assert finding.severity is Severity.CRITICAL
    assert "Basic credentials" in finding.detail
    assert "loopback" in finding.detail
    assert all(e.startswith(f"GET {served.url}/api/") for e in finding.endpoints)


@pytest.mark.check("MB-ENC-001")
def test_plain_http_api_flags_accepted_credentials_as_critical() -> None:
    with serve(leaky_flask()) as served:
        report = scan_now(served.url, auth=CREDS, checks=("MB-ENC-001",))
    assert [f.severity for f in report.findings] == [Severity.CRITICAL]


@pytest.mark.check("MB-ENC-001")
def test_plain_http_api_flags_public_api_as_high() -> None:
    with serve(public_starlette()) as served:
        report = scan_now(served.url, checks=("MB-ENC-001",))
    [finding] = report.findings
    assert finding.severity is Severity.HIGH


@pytest.mark.check("MB-ENC-001")
def test_plain_http_api_ignores_redirect_to_another_host() -> None:
    with serve(http_listener(443)) as served:  # redirects to https on 127.0.0.1:443, never asked
        report = scan_now(served.url.replace("127.0.0.1", "localhost"), checks=("MB-ENC-001",))
    assert report.findings == []


# MB-ENC-002 ------------------------------------------------------------------------------------


@pytest.mark.check("MB-ENC-002")
@pytest.mark.parametrize("code", [302, 307])
def test_temporary_https_redirect_flags_temporary_codes(ca: tuple[Any, Path], code: int) -> None:
    authority, pem = ca
    listener = lambda port: http_listener(port, status=code)  # noqa: E731
    with deployment(clean_api(), listener, server_context(authority), pem) as (_, http):
        assert http is not None
        report = scan_now(http.url, ca_bundle=pem, checks=("MB-ENC-002",))
    [finding] = report.findings
    assert f"answers {code}" in finding.detail


@pytest.mark.check("MB-ENC-002")
@pytest.mark.parametrize("code", [301, 308])
def test_temporary_https_redirect_ignores_permanent_codes(ca: tuple[Any, Path], code: int) -> None:
    authority, pem = ca
    listener = lambda port: http_listener(port, status=code)  # noqa: E731
    with deployment(clean_api(), listener, server_context(authority), pem) as (_, http):
        assert http is not None
        report = scan_now(http.url, ca_bundle=pem, checks=("MB-ENC-002",))
    assert report.findings == []


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
def test_http_answered_before_redirect_flags_challenge_first(ca: tuple[Any, Path]) -> None:
    authority, pem = ca
    listener = lambda port: http_listener(port, challenge_first=True)  # noqa: E731
    with deployment(clean_api(), listener, server_context(authority), pem) as (_, http):
        assert http is not None
        report = scan_now(http.url, auth=CREDS, ca_bundle=pem, checks=TRANSPORT)
    assert ids(report) == ["MB-ENC-003"]
    [finding] = report.findings
    assert finding.severity is Severity.CRITICAL
    assert {e.split()[-1] for e in finding.endpoints} == {f"{http.url}/orders", f"{http.url}/me"}


@pytest.mark.check("MB-ENC-003")
def test_http_answered_before_redirect_flags_data_over_http(ca: tuple[Any, Path]) -> None:
    authority, pem = ca
    listener = lambda port: http_listener(port, serve_data=True)  # noqa: E731
    with deployment(clean_api(), listener, server_context(authority), pem) as (_, http):
        assert http is not None
        report = scan_now(http.url, ca_bundle=pem, checks=("MB-ENC-003",))
    [finding] = report.findings
    assert (finding.severity, finding.detail) == (
        Severity.HIGH,
        "the API serves responses over plain HTTP",
    )


@pytest.mark.check("MB-ENC-003")
def test_http_answered_before_redirect_ignores_redirect_everywhere(ca: tuple[Any, Path]) -> None:
    authority, pem = ca
    with deployment(clean_api(), http_listener, server_context(authority), pem) as (_, http):
        assert http is not None
        report = scan_now(http.url, auth=CREDS, ca_bundle=pem, checks=("MB-ENC-003",))
    assert report.findings == []


# MB-ENC-004 ------------------------------------------------------------------------------------


@contextmanager
def proxyfix_deployment(authority: Any, pem: Path, *, trust: bool) -> Iterator[Served]:
    """The same Flask app on HTTPS and, for HTTP, on a second port: it redirects by itself."""
    with ExitStack() as stack:
        https = stack.enter_context(
            serve(proxyfix_app(0, trust_forwarded=trust), tls=server_context(authority))
        )
        http = stack.enter_context(serve(proxyfix_app(https.port, trust_forwarded=trust)))
        yield http


@pytest.mark.check("MB-ENC-004")
def test_spoofable_https_enforcement_flags_proxyfix_without_proxy(ca: tuple[Any, Path]) -> None:
    authority, pem = ca
    with proxyfix_deployment(authority, pem, trust=True) as http:
        report = scan_now(http.url, ca_bundle=pem, checks=("MB-ENC-004",))
    details = sorted(f.detail for f in report.findings)
    assert details == ["`X-Forwarded-Proto: https` turns the HTTPS redirect into a 200"]


@pytest.mark.check("MB-ENC-004")
def test_spoofable_https_enforcement_ignores_untrusted_forwarded_headers(
    ca: tuple[Any, Path],
) -> None:
    authority, pem = ca
    with proxyfix_deployment(authority, pem, trust=False) as http:
        report = scan_now(http.url, ca_bundle=pem, checks=("MB-ENC-004",))
    assert report.findings == []
    assert status(report, "MB-ENC-004") is CheckStatus.COMPLETED


# HSTS ------------------------------------------------------------------------------------------


def scan_hsts(authority: Any, pem: Path, app: Any) -> Report:
    with serve(app, tls=server_context(authority)) as https:
        return scan_now(https.url, auth=CREDS, ca_bundle=pem, checks=HSTS)


@pytest.mark.check("MB-ENC-005")
def test_missing_hsts_flags_https_api_without_it(ca: tuple[Any, Path]) -> None:
    report = scan_hsts(*ca, hsts_app(value=None))
    assert ids(report) == ["MB-ENC-005"]


@pytest.mark.check("MB-ENC-005")
@pytest.mark.check("MB-ENC-006")
@pytest.mark.check("MB-ENC-007")
def test_hsts_checks_ignores_a_year_long_policy_on_every_response(ca: tuple[Any, Path]) -> None:
    report = scan_hsts(*ca, hsts_app(value="max-age=31536000; includeSubDomains; preload"))
    assert report.findings == []


@pytest.mark.check("MB-ENC-005")
def test_missing_hsts_ignores_plain_http_targets() -> None:
    # HSTS over plain HTTP means nothing; MB-ENC-001 reports the real problem
    with serve(hsts_app(value=None)) as served:
        report = scan_now(served.url, checks=HSTS)
    assert report.findings == []
    assert {status(report, c) for c in HSTS} == {CheckStatus.NOT_APPLICABLE}


@pytest.mark.check("MB-ENC-006")
def test_weak_hsts_flags_short_max_age(ca: tuple[Any, Path]) -> None:
    report = scan_hsts(*ca, hsts_app(value="max-age=86400"))
    [finding] = report.findings
    assert finding.check_id == "MB-ENC-006"
    assert "shorter than one year" in finding.detail


@pytest.mark.check("MB-ENC-006")
@pytest.mark.parametrize(
    ("values", "severity", "fragment"),
    [
        (["max-age=0"], Severity.MEDIUM, "forget HSTS"),
        (["includeSubDomains"], Severity.LOW, "no max-age"),
        (["max-age=1y"], Severity.LOW, "not a number"),
        (["max-age=31536000; max-age=31536000"], Severity.LOW, "repeated"),
        (["max-age=31536000", "max-age=600"], Severity.LOW, "only the first counts"),
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
    "value",
    ['max-age="31536000"', "MAX-AGE=63072000 ; includeSubDomains", "max-age=31536000;preload;"],
)
def test_weak_hsts_ignores_valid_policies(value: str) -> None:
    assert hsts_problems([value]) is None
    ex = exchange(headers=[("Strict-Transport-Security", value)])
    assert run_passive(enc.weak_hsts, [ex], tgt=target()) == []


@pytest.mark.check("MB-ENC-007")
def test_inconsistent_hsts_flags_policy_missing_on_errors(ca: tuple[Any, Path]) -> None:
    with serve(hsts_app(value="max-age=31536000", on_errors=False), tls=server_context(ca[0])) as s:
        report = scan_now(s.url, ca_bundle=ca[1], checks=HSTS)  # anonymous: /orders answers 401
    [finding] = report.findings
    assert finding.check_id == "MB-ENC-007"
    assert finding.endpoints == [f"GET {s.url}/orders"]


# certificates ------------------------------------------------------------------------------------


def scan_certificate(context: ssl.SSLContext, **settings: Any) -> Report:
    with serve(clean_api(), tls=context) as https:
        return scan_now(https.url, checks=CERT, **settings)


@pytest.mark.check("MB-ENC-008")
def test_untrusted_certificate_flags_unknown_ca_with_insecure(ca: tuple[Any, Path]) -> None:
    report = scan_certificate(server_context(ca[0]), insecure=True)
    assert ids(report) == ["MB-ENC-008"]
    assert "issuer:" in report.findings[0].evidence[0].excerpt
    assert (report.findings[0].reproduce or "").startswith("openssl s_client -connect 127.0.0.1:")


@pytest.mark.check("MB-ENC-008")
@pytest.mark.check("MB-ENC-009")
@pytest.mark.check("MB-ENC-010")
def test_certificate_checks_ignores_a_valid_certificate(ca: tuple[Any, Path]) -> None:
    report = scan_certificate(server_context(ca[0]), ca_bundle=ca[1])
    assert report.findings == []
    assert {status(report, c) for c in CERT} == {CheckStatus.COMPLETED}


@pytest.mark.check("MB-ENC-009")
def test_expired_certificate_flags_past_not_after(ca: tuple[Any, Path]) -> None:
    past = datetime.now(UTC) - timedelta(days=10)
    context = server_context(ca[0], not_before=past - timedelta(days=90), not_after=past)
    report = scan_certificate(context, ca_bundle=ca[1], insecure=True)
    assert ids(report) == ["MB-ENC-009"]
    assert report.findings[0].detail == f"certificate expired on {past:%Y-%m-%d}"


@pytest.mark.check("MB-ENC-009")
def test_expired_certificate_flags_future_not_before(ca: tuple[Any, Path]) -> None:
    future = datetime.now(UTC) + timedelta(days=10)
    context = server_context(ca[0], not_before=future, not_after=future + timedelta(days=90))
    report = scan_certificate(context, ca_bundle=ca[1], insecure=True)
    assert ids(report) == ["MB-ENC-009"]


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


@pytest.mark.check("MB-ENC-011")
def test_legacy_tls_accepted_flags_tls10_and_tls11(ca: tuple[Any, Path]) -> None:
    with serve(clean_api(), tls=legacy_context(ca[0])) as https:
        report = scan_now(https.url, ca_bundle=ca[1], checks=("MB-ENC-011",))
    if status(report, "MB-ENC-011") is CheckStatus.NOT_APPLICABLE:
        pytest.skip("this OpenSSL cannot offer TLS 1.0/1.1")
    [finding] = report.findings
    assert finding.detail == "the server accepts TLSv1 and TLSv1.1"
    assert finding.reproduce is not None
    assert f"-connect 127.0.0.1:{https.port}" in finding.reproduce
    assert " -tls1 " in finding.reproduce


@pytest.mark.check("MB-ENC-011")
@pytest.mark.check("MB-ENC-012")
def test_protocol_checks_ignores_a_modern_server(ca: tuple[Any, Path]) -> None:
    with serve(clean_api(), tls=server_context(ca[0])) as https:
        report = scan_now(https.url, ca_bundle=ca[1], checks=("MB-ENC-011", "MB-ENC-012"))
    assert report.findings == []


@pytest.mark.check("MB-ENC-012")
def test_weak_ciphers_accepted_flags_anonymous_suites(ca: tuple[Any, Path]) -> None:
    with serve(clean_api(), tls=legacy_context(ca[0])) as https:
        report = scan_now(https.url, ca_bundle=ca[1], checks=("MB-ENC-012",))
    [finding] = report.findings
    assert finding.check_id == "MB-ENC-012"
    assert "negotiated" in finding.detail
