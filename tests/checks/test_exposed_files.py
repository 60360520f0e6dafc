"""Exposed files: found by content at the right path, secrets masked everywhere, and nothing
reported by servers that answer every path with the same (or an HTML) page."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from middlebrick.checks.analyzers.settings import credentials_in
from middlebrick.cli import app
from middlebrick.demo.server import serve
from middlebrick.model import Severity
from middlebrick.report import WRITERS

from checks.conftest import scan_now
from targets.files import (
    DB_PASSWORD,
    LOGGED_TOKEN,
    SECRET_KEY,
    everything_200,
    leaky_files,
    spa_shell,
)

CHECKS = ("MB-DATA-007", "MB-DATA-008")


@pytest.mark.check("MB-DATA-007")
@pytest.mark.check("MB-DATA-008")
def test_exposed_files_flags_each_planted_file_at_its_path() -> None:
    with serve(leaky_files()) as served:
        report = scan_now(served.url, checks=CHECKS)
    found = {
        (f.check_id, f.endpoints[0].removeprefix(f"GET {served.url}")): f.severity
        for f in report.findings
    }
    assert found == {
        ("MB-DATA-007", "/.env"): Severity.CRITICAL,
        ("MB-DATA-007", "/.git/config"): Severity.HIGH,
        ("MB-DATA-007", "/.git/HEAD"): Severity.HIGH,
        ("MB-DATA-007", "/app.py.bak"): Severity.CRITICAL,  # a hard-coded secret key
        ("MB-DATA-007", "/backup.sql"): Severity.HIGH,
        ("MB-DATA-008", "/logs/app.log"): Severity.CRITICAL,  # an Authorization header
        ("MB-DATA-008", "/error.log"): Severity.HIGH,
    }


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_found_secrets_never_appear_in_reports(fmt: str) -> None:
    with serve(leaky_files()) as served:
        result = CliRunner().invoke(
            app, ["scan", served.url, "-f", fmt, "--check", "MB-DATA-007", "--check", "MB-DATA-008"]
        )
    assert result.exit_code == 0, result.output
    for planted in (DB_PASSWORD, SECRET_KEY, LOGGED_TOKEN):
        assert planted not in result.output
    assert "plan…(" in result.output or "cGxh…(" in result.output  # masked, not dropped


@pytest.mark.check("MB-DATA-007")
@pytest.mark.check("MB-DATA-008")
@pytest.mark.parametrize(
    "server",
    [
        lambda: everything_200("<html><body>Not found</body></html>", "text/html"),
        lambda: everything_200("Not Found", "text/plain"),
        lambda: everything_200("A=1\nB=2\n2026-01-01 INFO x\n2026-01-01 ERROR y\n", "text/plain"),
        spa_shell,
    ],
    ids=["html-soft-404", "plain-soft-404", "same-page-everywhere", "spa-shell"],
)
def test_exposed_files_ignores_servers_that_answer_everything(server: object) -> None:
    with serve(server()) as served:  # type: ignore[operator]
        report = scan_now(served.url, checks=CHECKS)
    assert report.findings == []


@pytest.mark.check("MB-DATA-008")
def test_credentials_in_text() -> None:
    text = (
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc\n"
        "password=hunter22 retries=3\n"
        "password=\n2026-01-01 INFO next line\n"
        'token: "none"\n'
        'SECRET_KEY = os.environ["SECRET_KEY"]\n'
        "api_key = getenv('API_KEY')\n"
        "DB_PASSWORD=s3cr3t-value\n"
        "headers={'Authorization': 'Basic YWxhZGRpbjpvcGVu'}\n"
    )
    assert credentials_in(text) == [
        "eyJhbGciOiJIUzI1NiJ9.e30.abc",
        "hunter22",
        "s3cr3t-value",
        "YWxhZGRpbjpvcGVu",
    ]
