"""`middlebrick audit`: the static rules on a careless and a careful description."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from audit.specs import careful, careless
from middlebrick.cli import app
from middlebrick.engine import audit
from middlebrick.model import Report, Severity


def write(tmp_path: Path, doc: dict[str, object], name: str = "openapi.yaml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc) if name.endswith(".yaml") else json.dumps(doc))
    return str(path)


@pytest.fixture
def careless_report(tmp_path: Path) -> Report:
    return audit(write(tmp_path, careless()))


def details(report: Report, check_id: str) -> list[str]:
    return [f.detail for f in report.findings if f.check_id == check_id]


@pytest.mark.check("MB-AUTH-007")
def test_unevenly_applied_security_flags_forgotten_operation(careless_report: Report) -> None:
    assert details(careless_report, "MB-AUTH-007") == [
        "GET /accounts/export declares no security; 2 of 5 operations do"
    ]


@pytest.mark.check("MB-AUTH-008")
def test_undefined_security_scheme_flags_unknown_name(careless_report: Report) -> None:
    assert details(careless_report, "MB-AUTH-008") == [
        "GET /search requires scheme 'oauth', which is not defined"
    ]


@pytest.mark.check("MB-AUTH-009")
def test_unused_security_scheme_flags_orphan(careless_report: Report) -> None:
    assert details(careless_report, "MB-AUTH-009") == [
        "scheme 'unused' is defined but no operation requires it"
    ]


@pytest.mark.check("MB-AUTH-010")
def test_undocumented_auth_failure_flags_missing_401(careless_report: Report) -> None:
    assert details(careless_report, "MB-AUTH-010") == ["GET /accounts documents no 401/403"]


@pytest.mark.check("MB-AUTH-011")
def test_credentials_in_url_flags_query_key_and_password_param(careless_report: Report) -> None:
    assert sorted(details(careless_report, "MB-AUTH-011")) == [
        "API key scheme 'key' is sent as query parameter 'api_key'",
        "GET /search takes 'password' in the query",
    ]


@pytest.mark.check("MB-AUTH-013")
def test_public_admin_operation_flags_open_role_endpoint(careless_report: Report) -> None:
    assert details(careless_report, "MB-AUTH-013") == [
        "GET /admin/users/{id}/roles looks administrative and declares `security: []`"
    ]


@pytest.mark.check("MB-ENC-013")
def test_plain_http_servers_flags_http_with_basic(careless_report: Report) -> None:
    [finding] = [f for f in careless_report.findings if f.check_id == "MB-ENC-013"]
    assert finding.severity is Severity.HIGH
    assert finding.detail.startswith("server http://api.example.test is plain HTTP")


@pytest.mark.check("MB-DATA-006")
def test_secret_fields_in_responses_flags_hash_through_ref(careless_report: Report) -> None:
    assert details(careless_report, "MB-DATA-006") == ["GET /accounts returns password_hash"]


@pytest.mark.check("MB-AUTH-007")
@pytest.mark.check("MB-AUTH-008")
@pytest.mark.check("MB-AUTH-009")
@pytest.mark.check("MB-AUTH-010")
@pytest.mark.check("MB-AUTH-011")
@pytest.mark.check("MB-AUTH-013")
@pytest.mark.check("MB-ENC-013")
@pytest.mark.check("MB-DATA-006")
def test_static_rules_ignores_a_careful_description(tmp_path: Path) -> None:
    # global security, explicit public health check, write-only password, a recursive schema,
    # an http://localhost development server
    report = audit(write(tmp_path, careful(), "openapi.json"))
    assert report.findings == []
    assert report.requests_sent == 0
    assert report.score.grade == "A"


def test_audit_cli_exit_codes_and_json(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = write(tmp_path, careless())
    result = runner.invoke(app, ["audit", bad, "-f", "json", "--fail-on", "high"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["config"]["mode"] == "audit"
    good = write(tmp_path, careful(), "good.json")
    assert runner.invoke(app, ["audit", good, "--fail-on", "low"]).exit_code == 0
    broken = tmp_path / "broken.yaml"
    broken.write_text("openapi: 3.0.0\npaths: {a: [\n")
    result = runner.invoke(app, ["audit", str(broken)])
    assert result.exit_code == 3
    assert "invalid YAML" in result.output


def test_audit_reports_every_uneven_operation_of_a_large_spec(tmp_path: Path) -> None:
    doc = careless()
    for i in range(1000):  # speed is measured in bench/audit_bench.py, not here
        doc["paths"][f"/items/{i}"] = {"get": {"responses": {"200": {"description": "ok"}}}}
    report = audit(write(tmp_path, doc, "big.json"))
    assert report.coverage.operations_declared == 1005
    uneven = [f for f in report.findings if f.check_id == "MB-AUTH-007"]
    assert len(uneven) == 1001  # each forgotten operation is its own cause
