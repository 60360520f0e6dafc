"""Report writers: the JSON report validates against the committed schema and round-trips; the
terminal report matches its snapshot (UPDATE_SNAPSHOTS=1 rewrites it after a deliberate change)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import jsonschema

from middlebrick import score
from middlebrick.model import (
    Category,
    CheckRun,
    CheckStatus,
    Confidence,
    Coverage,
    Evidence,
    ExchangeRecord,
    Finding,
    Header,
    RecordedRequest,
    RecordedResponse,
    Report,
    Severity,
    TargetInfo,
)
from middlebrick.report import WRITERS
from middlebrick.report.json_writer import load

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOTS = Path(__file__).parent / "snapshots"


def sample_report() -> Report:
    findings = [
        Finding(
            check_id="MB-ENC-001",
            title="API is served over plain HTTP",
            category=Category.ENCRYPTION,
            severity=Severity.CRITICAL,
            confidence=Confidence.CERTAIN,
            cwe=[319, 523],
            owasp="API8:2023",
            detail="the API challenges for Basic credentials over plain HTTP",
            endpoints=["GET http://api.test/me", "GET http://api.test/users"],
            evidence=[Evidence(exchange_id=2, excerpt="GET http://api.test/me\n< HTTP/1.1 401")],
            reproduce="curl -i http://api.test/me",
            remediation="Serve the API over HTTPS only.",
            framework="flask",
        ),
        Finding(
            check_id="MB-DATA-001",
            title="Authenticated response can be stored by caches",
            category=Category.DATA_EXPOSURE,
            severity=Severity.MEDIUM,
            confidence=Confidence.FIRM,
            cwe=[524, 525],
            owasp="API8:2023",
            detail="authenticated 200 response with Cache-Control: (absent)",
            endpoints=["GET http://api.test/me"],
            evidence=[Evidence(exchange_id=2, excerpt="GET http://api.test/me")],
            reproduce='curl -i -u "$MIDDLEBRICK_AUTH" http://api.test/me',
            remediation="Send `Cache-Control: no-store`.",
            framework="flask",
        ),
    ]
    return Report(
        tool_version="0.0.0",
        target=TargetInfo(
            url="http://api.test",
            origin="http://api.test",
            scanned_origin="http://api.test",
            server="Werkzeug/3.1.3 Python/3.11.7",
            framework="flask",
            auth_schemes=["basic"],
            tls=False,
        ),
        spec=None,
        config={"target": "http://api.test", "credentials": ["basic"]},
        started_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        finished_at=datetime(2026, 1, 2, 3, 4, 6, tzinfo=UTC),
        duration_s=1.25,
        requests_sent=17,
        score=score.score(findings),
        findings=findings,
        checks=[
            CheckRun(check_id="MB-ENC-001", status=CheckStatus.COMPLETED, findings=1),
            CheckRun(check_id="MB-ENC-008", status=CheckStatus.NOT_APPLICABLE, reason="no TLS"),
            CheckRun(check_id="MB-DATA-002", status=CheckStatus.INCOMPLETE, reason="budget"),
        ],
        coverage=Coverage(operations_declared=3, operations_tested=3),
        notes=["a note"],
        exchanges=[
            ExchangeRecord(
                id=2,
                purpose="baseline",
                request=RecordedRequest(
                    method="GET",
                    url="http://api.test/me",
                    headers=[Header(name="Authorization", value="Basic YWxp…(28)")],
                ),
                response=RecordedResponse(
                    status=200,
                    reason="OK",
                    http_version="HTTP/1.1",
                    headers=[Header(name="Content-Type", value="application/json")],
                    body_excerpt='{"id": 7}',
                    body_size=9,
                    truncated=False,
                ),
                error=None,
                elapsed_ms=3.2,
            )
        ],
    )


def test_json_report_validates_against_the_committed_schema() -> None:
    schema = json.loads((ROOT / "docs" / "report.schema.json").read_text())
    document = json.loads(WRITERS["json"].render(sample_report()))
    jsonschema.validate(document, schema)
    assert document["schema_version"] == "1.0"


def test_json_report_round_trips() -> None:
    report = sample_report()
    assert load(WRITERS["json"].render(report)) == report


def test_text_report_matches_snapshot() -> None:
    rendered = WRITERS["text"].render(sample_report())
    snapshot = SNAPSHOTS / "report.txt"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        snapshot.write_text(rendered, encoding="utf-8")
    assert rendered == snapshot.read_text(encoding="utf-8")


def test_text_report_shows_what_a_reader_needs() -> None:
    rendered = WRITERS["text"].render(sample_report())
    for fragment in (
        "Grade D",
        "CRITICAL (1)",
        "MB-ENC-001",
        "CWE-319",
        "API8:2023",
        "→ GET http://api.test/me",
        "reproduce:",
        "fix (flask):",
        "MB-DATA-002  incomplete: budget",
    ):
        assert fragment in rendered, fragment
