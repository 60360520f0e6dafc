"""The SARIF writer: real scans of the demo API and audits of spec files give logs that validate
against the SARIF 2.1.0 schema and meet GitHub code scanning's ingestion rules.

sarif-schema-2.1.0.json is `package/sarif-2.1.0.json` of the npm package
@microsoft/sarif-multitool-linux 5.7.0 (the SARIF SDK's copy of the OASIS SARIF 2.1.0 schema; sha256
1c49a0f2b60444c71bb14878e21e0d882198eff4c539861b133093ad89ed798c), fetched with
`npm pack @microsoft/sarif-multitool-linux@5.7.0` because the OASIS site was not reachable here.
"""

from __future__ import annotations

import base64
import json
import shlex
import shutil
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from pydantic import SecretStr

from audit.specs import careless
from middlebrick.demo.apps import DEMO_PASSWORD, DEMO_USER, openapi, vulnerable_app
from middlebrick.demo.server import serve
from middlebrick.engine import audit
from middlebrick.model import BaselineState, CheckStatus, Report, Severity, Suppression
from middlebrick.report import WRITERS
from middlebrick.report.sarif import SarifWriter

from checks.conftest import scan_now

SCHEMA = json.loads((Path(__file__).parent / "sarif-schema-2.1.0.json").read_text())
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
MULTITOOL = "@microsoft/sarif-multitool@5.7.0"


def demo_scan(log_dir: Path, spec: str | None = None) -> Report:
    with serve(vulnerable_app(log_dir=log_dir)) as api:
        return scan_now(api.url, auth=SecretStr(f"{DEMO_USER}:{DEMO_PASSWORD}"), spec=spec)


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> tuple[Report, Report]:
    """Two scans of the demo API, each on a port of its own, with the demo user's credentials."""
    first = demo_scan(tmp_path_factory.mktemp("first"))
    second = demo_scan(tmp_path_factory.mktemp("second"))
    assert first.target.origin != second.target.origin
    return first, second


@pytest.fixture
def in_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checkout: the working directory, with the careless description at api/openapi.yaml."""
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "openapi.yaml").write_text(yaml.safe_dump(careless()))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def spec_scan(in_repo: Path) -> Report:
    """A scan of the demo API given its description as a file of the checkout."""
    (in_repo / "openapi.json").write_text(json.dumps(openapi(title="demo"), indent=2))
    logs = in_repo / "logs"
    logs.mkdir()
    return demo_scan(logs, spec="openapi.json")


def sarif(report: Report) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(WRITERS["sarif"].render(report))
    jsonschema.validate(document, SCHEMA)
    return document


def results(document: dict[str, Any]) -> list[dict[str, Any]]:
    [run] = document["runs"]
    found: list[dict[str, Any]] = run["results"]
    return found


def uri(result: dict[str, Any]) -> str:
    value: str = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    return value


def assert_github_accepts_locations(document: dict[str, Any]) -> None:
    """What GitHub's upload rejects a whole file for: a result without a location, a location
    without a file URI and a start line, a URI that is not a file path."""
    for result in results(document):
        assert result["locations"], result["ruleId"]
        for location in result["locations"]:
            physical = location["physicalLocation"]
            assert physical["artifactLocation"]["uri"]
            assert "://" not in physical["artifactLocation"]["uri"]
            assert physical["region"]["startLine"] >= 1


def test_sarif_of_a_demo_scan_is_valid_and_lists_every_check(scans: tuple[Report, Report]) -> None:
    report = scans[0]
    document = sarif(report)
    assert document["version"] == "2.1.0"
    [run] = document["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == sorted(c.check_id for c in report.checks)
    assert len(results(document)) == len(report.findings) > 5
    assert_github_accepts_locations(document)
    assert run["invocations"][0]["executionSuccessful"] is True
    assert run["invocations"][0]["startTimeUtc"].endswith("Z")


def test_sarif_results_have_their_checks_rule_and_level(scans: tuple[Report, Report]) -> None:
    report = scans[0]
    document = sarif(report)
    rules = document["runs"][0]["tool"]["driver"]["rules"]
    got = sorted(
        (r["ruleId"], r["level"], r["partialFingerprints"]["middlebrick/v1"])
        for r in results(document)
    )
    want = sorted((f.check_id, LEVELS[f.severity], f.fingerprint) for f in report.findings)
    assert got == want
    for result in results(document):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    severities = {f.check_id: f.severity for f in report.findings}
    assert severities["MB-ENC-001"] is Severity.CRITICAL  # plain HTTP with Basic: an error
    assert {r["level"] for r in results(document) if r["ruleId"] == "MB-ENC-001"} == {"error"}
    assert {r["level"] for r in results(document) if r["ruleId"] == "MB-DATA-001"} == {"warning"}
    assert {r["level"] for r in results(document) if r["ruleId"] == "MB-CONF-001"} == {"note"}
    assert {r["level"] for r in results(document) if r["ruleId"] == "MB-INV-001"} == {"note"}


def test_sarif_rules_carry_what_github_shows(scans: tuple[Report, Report]) -> None:
    document = sarif(scans[0])
    rules = {rule["id"]: rule for rule in document["runs"][0]["tool"]["driver"]["rules"]}
    cache = rules["MB-DATA-001"]
    assert cache["shortDescription"]["text"] == "Authenticated response can be stored by caches"
    assert cache["name"] == "AuthenticatedResponseCanBeStoredByCaches"
    assert cache["fullDescription"]["text"]
    assert cache["defaultConfiguration"]["level"] == "warning"
    assert cache["properties"]["security-severity"] == "5.5"
    assert {
        "security",
        "CWE-524",
        "external/cwe/cwe-524",
        "OWASP-API8:2023",
        "data_exposure",
    } <= set(cache["properties"]["tags"])
    assert "no-store" in cache["help"]["markdown"]  # the fix for Flask, detected on the demo
    assert "](" not in cache["help"]["markdown"]  # no links
    assert rules["MB-AUTH-003"]["properties"]["security-severity"] == "9.5"
    assert rules["MB-ENC-002"]["properties"]["security-severity"] == "3.0"
    assert "security-severity" not in rules["MB-INV-001"]["properties"]  # info


def test_sarif_fingerprints_and_locations_are_the_same_on_another_port(
    scans: tuple[Report, Report],
) -> None:
    first, second = (sarif(report) for report in scans)

    def identity(document: dict[str, Any]) -> list[tuple[str, str, str, str]]:
        return sorted(
            (
                r["ruleId"],
                r["partialFingerprints"]["middlebrick/v1"],
                r["partialFingerprints"]["primaryLocationLineHash"],
                uri(r),
            )
            for r in results(document)
        )

    assert identity(first) == identity(second)
    assert first["runs"][0]["automationDetails"] == second["runs"][0]["automationDetails"]
    assert first["runs"][0]["automationDetails"]["id"] == "middlebrick/127.0.0.1/"


def test_sarif_of_a_url_only_scan_points_at_a_stable_pseudo_file(
    scans: tuple[Report, Report],
) -> None:
    report = scans[0]
    assert report.spec is not None
    assert report.spec.startswith("http://")  # found by discovery, not given
    document = sarif(report)
    assert_github_accepts_locations(document)
    assert {uri(r) for r in results(document)} == {".middlebrick/127.0.0.1"}
    cache = next(r for r in results(document) if r["ruleId"] == "MB-DATA-001")
    [logical] = cache["locations"][0]["logicalLocations"]
    assert logical["fullyQualifiedName"].startswith("GET /")
    assert "127.0.0.1" not in logical["fullyQualifiedName"]
    assert "Affected:\n- GET http://127.0.0.1:" in cache["message"]["text"]


def test_sarif_never_contains_the_scan_credentials(scans: tuple[Report, Report]) -> None:
    # The demo API echoes the password in /api/v1/me and writes it to a log it serves: the
    # report has it, masked, in several findings.
    rendered = WRITERS["sarif"].render(scans[0])
    basic = base64.b64encode(f"{DEMO_USER}:{DEMO_PASSWORD}".encode()).decode()
    for secret in (DEMO_PASSWORD, f"{DEMO_USER}:{DEMO_PASSWORD}", basic):
        assert secret not in rendered
    assert "MB-DATA-014" in rendered  # the echo was found and reported, just masked


def test_sarif_locates_audit_findings_on_their_spec_line(in_repo: Path) -> None:
    report = audit("api/openapi.yaml")
    document = sarif(report)
    assert_github_accepts_locations(document)
    lines = (in_repo / "api" / "openapi.yaml").read_text().splitlines()
    export_get = lines.index("  /accounts/export:") + 2  # 1-based line of its `get:`
    assert lines[export_get - 1] == "    get:"
    [forgotten] = [r for r in results(document) if r["ruleId"] == "MB-AUTH-007"]
    location = forgotten["locations"][0]
    assert location["physicalLocation"] == {
        "artifactLocation": {"uri": "api/openapi.yaml", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": export_get},
    }
    assert location["logicalLocations"] == [
        {"fullyQualifiedName": "GET /accounts/export", "kind": "resource"}
    ]
    # a finding about the description as a whole sits on its first line
    [unused] = [r for r in results(document) if r["ruleId"] == "MB-AUTH-009"]
    assert unused["locations"][0]["physicalLocation"]["region"] == {"startLine": 1}
    assert uri(unused) == "api/openapi.yaml"
    assert document["runs"][0]["automationDetails"]["id"] == "middlebrick/audit/api/openapi.yaml/"


def test_sarif_locates_scan_findings_on_their_spec_line(in_repo: Path, spec_scan: Report) -> None:
    document = sarif(spec_scan)
    assert_github_accepts_locations(document)
    lines = (in_repo / "openapi.json").read_text().splitlines()
    path_line = lines.index('    "/api/v1/users/{user_id}/notes": {')
    assert lines[path_line + 1] == '      "get": {'
    [unprotected] = [r for r in results(document) if r["ruleId"] == "MB-AUTH-001"]
    assert unprotected["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "openapi.json", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": path_line + 2},
    }
    assert unprotected["locations"][0]["logicalLocations"] == [
        {"fullyQualifiedName": "GET /api/v1/users/{user_id}/notes", "kind": "resource"}
    ]
    # a finding on several operations: the first is the location, the others related ones
    several = next(r for r in results(document) if len(r.get("relatedLocations", [])) > 0)
    related = several["relatedLocations"]
    assert [place["id"] for place in related] == list(range(1, len(related) + 1))
    assert all(
        place["physicalLocation"]["artifactLocation"]["uri"] == "openapi.json" for place in related
    )
    # findings with no operation of the description (the TLS of the host) sit on its first line
    assert {uri(r) for r in results(document)} == {"openapi.json"}


def test_sarif_of_a_spec_outside_the_checkout_uses_a_file_uri(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = tmp_path / "elsewhere" / "openapi.yaml"
    spec.parent.mkdir()
    spec.write_text(yaml.safe_dump(careless()))
    (tmp_path / "checkout").mkdir()
    monkeypatch.chdir(tmp_path / "checkout")
    document = sarif(audit(str(spec)))
    assert {uri(r) for r in results(document)} == {spec.resolve().as_uri()}
    # an explicit root makes it repository-relative again
    rooted = json.loads(SarifWriter(root=tmp_path).render(audit(str(spec))))
    assert {uri(r) for r in results(rooted)} == {"elsewhere/openapi.yaml"}


def test_sarif_marks_suppressed_and_baseline_findings(scans: tuple[Report, Report]) -> None:
    report = scans[0]
    [accepted, *rest] = report.findings
    report = report.model_copy(
        update={
            "findings": [
                rest[0].model_copy(update={"baseline_state": BaselineState.NEW}),
                *(
                    f.model_copy(update={"baseline_state": BaselineState.UNCHANGED})
                    for f in rest[1:]
                ),
            ],
            "suppressed": [
                accepted.model_copy(
                    update={
                        "suppression": Suppression(
                            reason="tracked in JIRA-1", expires=date(2031, 1, 1)
                        )
                    }
                )
            ],
        }
    )
    document = sarif(report)
    states = [r.get("baselineState") for r in results(document) if "suppressions" not in r]
    assert sorted(states, key=str) == sorted(["new"] + ["unchanged"] * (len(rest) - 1))
    [suppressed] = [r for r in results(document) if "suppressions" in r]
    assert suppressed["partialFingerprints"]["middlebrick/v1"] == accepted.fingerprint
    assert suppressed["suppressions"] == [
        {
            "kind": "external",
            "status": "accepted",
            "justification": "tracked in JIRA-1",
            "properties": {"expires": "2031-01-01"},
        }
    ]


def test_sarif_is_deterministic(scans: tuple[Report, Report]) -> None:
    report = scans[0]
    shuffled = report.model_copy(
        update={"findings": report.findings[::-1], "checks": report.checks[::-1]}
    )
    assert WRITERS["sarif"].render(report) == WRITERS["sarif"].render(shuffled)


def test_sarif_reports_checks_that_did_not_finish(scans: tuple[Report, Report]) -> None:
    report = scans[0]
    broken = report.checks[0].model_copy(update={"status": CheckStatus.ERROR, "reason": "boom"})
    document = sarif(report.model_copy(update={"checks": [broken, *report.checks[1:]]}))
    invocation = document["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    [error] = [n for n in invocation["toolExecutionNotifications"] if n["level"] == "error"]
    assert error["message"]["text"] == f"{broken.check_id} error: boom"
    assert error["associatedRule"]["id"] == broken.check_id


@pytest.mark.timeout(900)
def test_sarif_passes_the_sarif_multitool_with_github_rules(
    scans: tuple[Report, Report], in_repo: Path, spec_scan: Report
) -> None:
    """Microsoft's SARIF validator, with the rules GitHub's ingestion applies (`--rule-kind Gh`).
    The first run downloads the tool (~100 MB) from the npm registry."""
    npx = shutil.which("npx")
    if npx is None:
        pytest.skip("npx (Node.js) is not installed: the SARIF multitool runs through it")
    files = {
        "scan.sarif": WRITERS["sarif"].render(scans[0]),
        "spec-scan.sarif": WRITERS["sarif"].render(spec_scan),
        "audit.sarif": WRITERS["sarif"].render(audit("api/openapi.yaml")),
    }
    for name, text in files.items():
        (in_repo / name).write_text(text)
    out = in_repo / "validation.sarif"
    # The package's launcher hands its arguments to a shell: quote them for it.
    args = ["validate", "--rule-kind", "Sarif;Gh", "--level", "Error;Warning", "-o", str(out)]
    command = [npx, "--yes", MULTITOOL, *(shlex.quote(a) for a in [*args, *files])]
    ran = subprocess.run(
        command, cwd=in_repo, capture_output=True, text=True, timeout=840, check=False
    )
    if not out.exists():
        pytest.skip(f"the SARIF multitool did not run (npm unreachable?): {ran.stderr[-500:]}")
    [run] = json.loads(out.read_text())["runs"]
    problems = [
        (r["ruleId"], r.get("level", "warning"), r["message"].get("arguments"))
        for r in run.get("results", [])
    ]
    # SARIF2005 asks for an informationUri; middlebrick has no project page to point at yet.
    assert [p for p in problems if p[0] != "SARIF2005"] == [], ran.stdout
