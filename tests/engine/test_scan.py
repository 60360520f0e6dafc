"""Whole scans through the CLI and the engine: a correct API stays clean, reports are written,
--fail-on sets the exit code."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from middlebrick.cli import app
from middlebrick.demo.server import Served, serve
from middlebrick.demo.tls import local_ca, server_context
from middlebrick.model import CheckStatus, Severity

from checks.conftest import scan_now
from targets.clean import PASSWORD, USER, clean_api, https_redirector
from targets.headers import leaky_flask


@pytest.fixture
def clean(tmp_path: Path) -> Iterator[tuple[Served, Served]]:
    """The clean API on HTTPS and its HTTP listener that redirects with 301."""
    ca = local_ca()
    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    with ExitStack() as stack:
        https = stack.enter_context(serve(clean_api(), tls=server_context(ca), ca_pem=pem))
        http = stack.enter_context(serve(https_redirector(https.port)))
        yield http, https


def test_a_correct_api_gets_no_finding_above_low(clean: tuple[Served, Served]) -> None:
    http, https = clean
    report = scan_now(http.url, auth=SecretStr(f"{USER}:{PASSWORD}"), ca_bundle=https.ca_pem)
    assert report.target.scanned_origin == https.url
    above_low = [f for f in report.findings if f.severity.rank > Severity.LOW.rank]
    assert above_low == [], [f"{f.check_id}: {f.detail}" for f in above_low]
    assert report.score.grade == "A"
    errors = [r for r in report.checks if r.status is CheckStatus.ERROR]
    assert errors == []
    assert report.coverage.operations_tested == 3


def test_json_report_is_written_to_a_file_and_fail_on_sets_exit_1(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    with serve(leaky_flask()) as served:
        result = CliRunner().invoke(
            app,
            ["scan", served.url, "-f", "json", "-o", str(out), "--fail-on", "high", "-q"],
        )
    assert result.exit_code == 1, result.output
    report = json.loads(out.read_text())
    assert report["schema_version"] == "1.0"
    assert any(f["severity"] in ("high", "critical") for f in report["findings"])
    referenced = {e["exchange_id"] for f in report["findings"] for e in f["evidence"]}
    assert referenced - {None} <= {ex["id"] for ex in report["exchanges"]}


def test_fail_on_above_the_worst_finding_exits_0() -> None:
    with serve(leaky_flask()) as served:
        result = CliRunner().invoke(
            app, ["scan", served.url, "--check", "MB-DATA-005", "--fail-on", "medium", "-q"]
        )
    assert result.exit_code == 0, result.output
    assert "MB-DATA-005" in result.output


def test_spec_paths_are_requested(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text(
        "openapi: 3.0.3\nsecurity: [{basic: []}]\npaths:\n"
        "  /api/me: {get: {}}\n  /api/export: {get: {}}\n  /api/remove: {delete: {}}\n"
    )
    with serve(leaky_flask()) as served:
        report = scan_now(served.url, spec=str(spec), checks=("MB-DATA-005",))
    assert report.coverage.operations_declared == 3
    assert report.coverage.operations_tested == 3  # two GETs and the root
    assert report.coverage.skipped == {"write method (needs --unsafe)": 1}


def test_scan_config_is_reported_without_secrets() -> None:
    with serve(leaky_flask()) as served:
        report = scan_now(served.url, auth=SecretStr("alice:hunter2-secret"))
    assert "hunter2" not in report.model_dump_json()
    assert report.config["credentials"] == ["basic"]
