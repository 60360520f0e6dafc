"""Data exposure checks: caching of authenticated responses, CORS, version disclosure."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from middlebrick.checks import data_exposure as de
from middlebrick.demo.server import serve
from middlebrick.model import Severity

from checks.conftest import exchange, ids, run_passive, scan_now
from targets.headers import PASSWORD, USER, careful_flask, leaky_flask, public_starlette

CREDS = SecretStr(f"{USER}:{PASSWORD}")
CORS_CHECKS = ("MB-DATA-002", "MB-DATA-003", "MB-DATA-004")


# MB-DATA-001 ---------------------------------------------------------------------------------


@pytest.mark.check("MB-DATA-001")
def test_cacheable_authenticated_response_flags_missing_cache_control() -> None:
    found = run_passive(de.cacheable_authenticated_response, [exchange(authenticated=True)])
    assert [f.detail for f in found] == ["authenticated 200 response with Cache-Control: (absent)"]


@pytest.mark.check("MB-DATA-001")
def test_cacheable_authenticated_response_flags_no_cache_without_no_store() -> None:
    ex = exchange(authenticated=True, headers=[("Cache-Control", "no-cache, must-revalidate")])
    assert len(run_passive(de.cacheable_authenticated_response, [ex])) == 1


@pytest.mark.check("MB-DATA-001")
def test_cacheable_authenticated_response_flags_public_as_high() -> None:
    ex = exchange(authenticated=True, headers=[("Cache-Control", "public, max-age=600")])
    [f] = run_passive(de.cacheable_authenticated_response, [ex])
    assert f.severity is Severity.HIGH


@pytest.mark.check("MB-DATA-001")
def test_cacheable_authenticated_response_flags_protected_endpoint_answer() -> None:
    url = "https://api.example.test/users"
    found = run_passive(de.cacheable_authenticated_response, [exchange(url)], protected=[url])
    assert len(found) == 1


@pytest.mark.check("MB-DATA-001")
@pytest.mark.parametrize("value", ["no-store", "private, no-store", "No-Store, max-age=0"])
def test_cacheable_authenticated_response_ignores_no_store(value: str) -> None:
    ex = exchange(authenticated=True, headers=[("Cache-Control", value)])
    assert run_passive(de.cacheable_authenticated_response, [ex]) == []


@pytest.mark.check("MB-DATA-001")
def test_cacheable_authenticated_response_ignores_public_answers() -> None:
    anonymous = exchange(id=1)
    authenticated = exchange(id=2, authenticated=True)  # same body: credentials change nothing
    failed = exchange(id=3, authenticated=True, status=401, url="https://api.example.test/x")
    assert (
        run_passive(de.cacheable_authenticated_response, [anonymous, authenticated, failed]) == []
    )


@pytest.mark.check("MB-DATA-001")
def test_cacheable_authenticated_response_flags_leaky_flask_api() -> None:
    with serve(leaky_flask()) as served:
        report = scan_now(served.url, auth=CREDS, checks=("MB-DATA-001",))
    [finding] = report.findings
    assert finding.check_id == "MB-DATA-001"
    assert {e.split()[-1] for e in finding.endpoints} == {
        f"{served.url}/api/me",
        f"{served.url}/api/export",
    }
    assert finding.reproduce == f'curl -i -u "$MIDDLEBRICK_AUTH" {served.url}/api/export'


@pytest.mark.check("MB-DATA-001")
def test_cacheable_authenticated_response_ignores_careful_flask_api() -> None:
    with serve(careful_flask()) as served:
        report = scan_now(served.url, auth=CREDS, checks=("MB-DATA-001",))
    assert report.findings == []


# CORS ----------------------------------------------------------------------------------------


@pytest.mark.check("MB-DATA-002")
def test_cors_reflects_any_origin_flags_echoing_handler() -> None:
    with serve(leaky_flask(cors="reflect")) as served:
        report = scan_now(served.url, auth=CREDS, checks=CORS_CHECKS)
    assert "MB-DATA-002" in ids(report)
    finding = next(f for f in report.findings if f.check_id == "MB-DATA-002")
    assert "access-control-allow-credentials: true" in finding.evidence[0].excerpt


@pytest.mark.check("MB-DATA-002")
def test_cors_reflects_any_origin_flags_without_user_credentials() -> None:
    # the policy is visible on the 401 answers too; the scanner needs no credentials to see it
    with serve(leaky_flask(cors="reflect")) as served:
        report = scan_now(served.url, checks=("MB-DATA-002",))
    assert ids(report) == ["MB-DATA-002"]


@pytest.mark.check("MB-DATA-002")
@pytest.mark.check("MB-DATA-003")
@pytest.mark.check("MB-DATA-004")
def test_cors_checks_ignores_allow_list_policy() -> None:
    with serve(careful_flask()) as served:
        report = scan_now(served.url, auth=CREDS, checks=CORS_CHECKS)
    assert report.findings == []


@pytest.mark.check("MB-DATA-002")
@pytest.mark.check("MB-DATA-004")
def test_cors_wildcard_ignores_public_data_without_credentials() -> None:
    with serve(public_starlette()) as served:
        report = scan_now(served.url, checks=CORS_CHECKS)
    assert report.findings == []


@pytest.mark.check("MB-DATA-003")
def test_cors_allows_null_origin_flags_null_with_credentials() -> None:
    with serve(leaky_flask(cors="null")) as served:
        report = scan_now(served.url, auth=CREDS, checks=CORS_CHECKS)
    [finding] = report.findings
    assert (finding.check_id, finding.severity) == ("MB-DATA-003", Severity.HIGH)


@pytest.mark.check("MB-DATA-004")
def test_cors_wildcard_with_credentials_flags_star_and_credentials() -> None:
    with serve(leaky_flask(cors="wildcard")) as served:
        report = scan_now(served.url, auth=CREDS, checks=CORS_CHECKS)
    assert ids(report) == ["MB-DATA-004"]


# MB-DATA-005 ---------------------------------------------------------------------------------


@pytest.mark.check("MB-DATA-005")
@pytest.mark.parametrize(
    "header",
    [
        ("Server", "Werkzeug/3.1.3 Python/3.11.7"),
        ("Server", "Apache/2.4.41 (Ubuntu)"),
        ("X-Powered-By", "Express"),
        ("X-AspNet-Version", "4.0.30319"),
    ],
)
def test_version_disclosure_flags_versions(header: tuple[str, str]) -> None:
    [finding] = run_passive(de.version_disclosure, [exchange(headers=[header])])
    assert finding.detail == f"{header[0].lower()}: {header[1]}" or header[1] in finding.detail


@pytest.mark.check("MB-DATA-005")
@pytest.mark.parametrize("server", ["nginx", "uvicorn", "cloudflare", "api"])
def test_version_disclosure_ignores_bare_product_names(server: str) -> None:
    assert run_passive(de.version_disclosure, [exchange(headers=[("Server", server)])]) == []


@pytest.mark.check("MB-DATA-005")
def test_version_disclosure_flags_werkzeug_once_for_all_endpoints() -> None:
    with serve(leaky_flask()) as served:
        report = scan_now(served.url, checks=("MB-DATA-005",))
    [finding] = report.findings
    assert finding.detail.startswith("Server: Werkzeug/")
    assert len(finding.endpoints) >= 3


@pytest.mark.check("MB-DATA-005")
def test_version_disclosure_ignores_server_without_version() -> None:
    with serve(careful_flask(), server_header="api") as served:
        report = scan_now(served.url, checks=("MB-DATA-005",))
    assert report.findings == []
