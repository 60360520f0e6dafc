"""The dashboard's pages over real HTTP: login, the scan form, live progress, the report with its
filters and downloads, targets with their trend and comparison, API tokens, error pages, and
`middlebrick serve`."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from flask import Flask
from typer.testing import CliRunner

from middlebrick.checks import ALL, BY_ID
from middlebrick.cli import app as cli
from middlebrick.config import ScanConfig
from middlebrick.demo.apps import openapi, vulnerable_app
from middlebrick.demo.server import serve
from middlebrick.engine import scan
from middlebrick.model import Evidence, Finding, Report, Severity
from middlebrick.score import score
from middlebrick.web.store import ScanStatus, Store
from web.conftest import PASSWORDS, Dashboard, User, csrf_of

PERF_BUDGET_MS = 100  # the brief: a 200-finding report renders in well under this


@pytest.fixture(scope="module")
def report() -> Report:
    """A real report of the demo's vulnerable API (scanned once for the module)."""
    with serve(vulnerable_app()) as served:
        return asyncio.run(scan(ScanConfig(target=served.url, budget=30)))


def rescored(report: Report, findings: list[Finding]) -> Report:
    return report.model_copy(update={"findings": findings, "score": score(findings)})


def _finding(report: Report, n: int, severity: Severity) -> Finding:
    base = report.findings[n % len(report.findings)]
    return base.model_copy(
        update={
            "severity": severity,
            "fingerprint": f"synthetic-{n:04d}",
            "detail": f"synthetic finding {n}",
            "endpoints": [f"GET {report.target.url}/api/v1/items/{n}"],
            "evidence": [Evidence(exchange_id=None, excerpt=f"HTTP/1.1 200 OK\n\nitem {n}")],
        }
    )


# login -------------------------------------------------------------------------------------------


def test_pages_ask_for_a_login_first_then_return_where_they_were_asked(
    dashboard: Dashboard,
) -> None:
    client = dashboard.client()
    asked = client.get("/targets?x=1")
    assert asked.status_code == 303
    assert asked.headers["location"] == "/login?next=/targets%3Fx%3D1"
    form = client.get(asked.headers["location"])
    assert 'name="next" value="/targets?x=1"' in form.text
    answer = client.post(
        "/login",
        data={
            "username": "alice",
            "password": PASSWORDS["alice"],
            "csrf_token": csrf_of(form.text),
            "next": "/targets?x=1",
        },
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/targets?x=1"
    assert client.get("/targets?x=1").status_code == 200


def test_a_wrong_password_is_refused_without_telling_which_part_was_wrong(
    dashboard: Dashboard,
) -> None:
    client = dashboard.client()
    for username in ("alice", "nobody"):
        form = client.get("/login")
        answer = client.post(
            "/login",
            data={"username": username, "password": "wrong", "csrf_token": csrf_of(form.text)},
        )
        assert answer.status_code == 200
        assert "Wrong username or password." in answer.text
        assert "mb_session" not in answer.headers.get("set-cookie", "")


def test_the_login_page_sends_a_logged_in_user_home(alice: User) -> None:
    assert alice.get("/login").headers["location"] == "/"


# new scan, progress, report ----------------------------------------------------------------------


def test_the_scan_form_offers_every_check_grouped_by_category(alice: User) -> None:
    page = alice.get("/scans/new").text
    offered = re.findall(r'name="checks" value="([^"]+)" checked', page)
    assert offered == [c.id for c in ALL] or sorted(offered) == sorted(BY_ID)
    assert len(offered) == len(ALL)
    legends = re.findall(r"<legend>([a-z ]+)</legend>", page)
    for category in {c.category for c in ALL}:
        assert category.value.replace("_", " ") in legends


def test_a_scan_runs_from_the_form_to_its_report(alice: User) -> None:
    with serve(vulnerable_app()) as target:
        scan_id = alice.start_scan(target.url, budget="20")
        page = alice.get(f"/scans/{scan_id}")
        assert page.status_code == 200
        assert target.url in page.text
        finished = alice.wait(scan_id)
    assert finished.status == ScanStatus.DONE, finished.error
    progress = alice.get(f"/scans/{scan_id}/progress")
    assert progress.headers["hx-refresh"] == "true"  # the browser reloads into the report
    assert "hx-trigger" not in progress.text  # and stops polling
    page = alice.get(f"/scans/{scan_id}").text
    report = alice.dashboard.store.report(alice.user.id, scan_id)
    assert report is not None
    assert f"<b>{report.score.grade}</b><span>{report.score.score}/100</span>" in page
    assert page.count('<article class="finding') == len(report.findings)
    for finding in report.findings:
        assert finding.check_id in page
    assert "Fix (flask)" in page  # the framework-aware fix
    assert "curl " in page  # a reproduction


def test_a_running_scan_shows_polling_progress_and_can_be_cancelled(alice: User) -> None:
    release = threading.Event()
    slow = Flask("slow")

    @slow.get("/")
    def hold() -> str:
        release.wait(20)
        return "ok"

    try:
        with serve(slow) as target:
            scan_id = alice.start_scan(target.url)
            deadline = time.monotonic() + 10
            while alice.dashboard.store.get_scan(alice.user.id, scan_id).status != "running":
                assert time.monotonic() < deadline
                time.sleep(0.05)
            fragment = alice.get(f"/scans/{scan_id}/progress")
            assert 'hx-trigger="every 1s"' in fragment.text
            assert "hx-refresh" not in fragment.headers
            assert 'action="/scans/' + scan_id + '/cancel"' in fragment.text
            cancelled = alice.post(f"/scans/{scan_id}/cancel")
            assert cancelled.status_code == 303
            finished = alice.wait(scan_id, timeout=10)
    finally:
        release.set()
    assert finished.status == ScanStatus.CANCELLED
    assert "cancelled" in alice.get(f"/scans/{scan_id}").text


def test_an_uploaded_description_is_scanned_and_named(alice: User) -> None:
    spec = json.dumps(openapi(title="Team notes")).encode()
    with serve(vulnerable_app()) as target:
        answer = alice.post(
            "/scans",
            data={"target": target.url, "budget": "20", "checks": list(BY_ID)},
            files={"spec_file": ("notes.json", spec, "application/json")},
        )
        assert answer.status_code == 303, answer.text
        scan_id = answer.headers["location"].removeprefix("/scans/")
        finished = alice.wait(scan_id)
    assert finished.status == ScanStatus.DONE, finished.error
    assert finished.settings["spec"] == "notes.json"
    assert "<code>notes.json</code>" in alice.get(f"/scans/{scan_id}").text


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"target": "ftp://example.com"}, "only http:// and https://"),
        ({"target": "https://u:p@example.com"}, "not in the target URL"),
        ({"budget": "abc"}, "the time budget must be a number"),
        ({"budget": "100000"}, "the time budget must be"),
        ({"rate": "-1"}, "the request rate must be above 0"),
        ({"checks": []}, "select at least one check"),
        ({"checks": ["MB-NOPE-001"]}, "unknown check"),
        ({"auth": "no-colon-secret"}, "user:password"),
        ({"header": "no colon secret"}, "Name: value"),
        ({"target": "http://169.254.169.254"}, "link-local"),
    ],
)
def test_the_scan_form_explains_what_is_wrong_and_starts_nothing(
    alice: User, fields: dict[str, object], message: str
) -> None:
    data = {"target": "http://127.0.0.1:9", "budget": "30", "checks": list(BY_ID), **fields}
    answer = alice.post("/scans", data=data, files={"spec_file": ("", b"")})
    assert answer.status_code == 400
    assert message in answer.text
    assert "no-colon-secret" not in answer.text
    assert "no colon secret" not in answer.text
    assert 'value="https://u:p@example.com"' not in answer.text
    assert alice.dashboard.store.list_scans(alice.user.id) == []


def test_findings_filter_by_severity_category_and_endpoint(
    alice: User, dashboard: Dashboard, report: Report
) -> None:
    stored = dashboard.store.store_report(alice.user.id, report)
    url = f"/scans/{stored.id}"
    severity = report.findings[0].severity
    expected = [f for f in report.findings if f.severity == severity]
    page = alice.get(url, params={"severity": severity.value}).text
    shown = re.findall(r'data-severity="([a-z]+)"', page)
    assert shown == [severity.value] * len(expected)
    assert f"{len(expected)} of {len(report.findings)} findings match." in page

    category = report.findings[-1].category
    page = alice.get(url, params={"category": category.value}).text
    assert set(re.findall(r'data-category="([a-z_]+)"', page)) == {category.value}

    endpoint = report.findings[0].endpoints[0].split(" ", 1)[1]
    page = alice.get(url, params={"endpoint": endpoint}).text
    assert page.count('<article class="finding') == sum(
        any(endpoint.lower() in e.lower() for e in f.endpoints) for f in report.findings
    )

    # htmx asks for the findings only: the fragment, without the page around it
    fragment = alice.get(
        url,
        params={"severity": severity.value},
        headers={"HX-Request": "true", "HX-Target": "findings"},
    ).text
    assert fragment.startswith('<section id="findings"')
    assert "<html" not in fragment
    assert fragment.count('<article class="finding') == len(expected)


def test_reports_download_in_every_format(
    alice: User, dashboard: Dashboard, report: Report
) -> None:
    stored = dashboard.store.store_report(alice.user.id, report)
    host = f"127.0.0.1_{report.target.url.rsplit(':', 1)[1]}"
    suffixes = {"json": ".json", "sarif": ".sarif", "html": ".html", "junit": ".xml"}
    for fmt in ("json", "sarif", "html", "junit", "markdown"):
        answer = alice.get(f"/scans/{stored.id}/download/{fmt}")
        assert answer.status_code == 200, fmt
        disposition = answer.headers["content-disposition"]
        assert re.fullmatch(
            rf'attachment; filename="middlebrick-{host}-\d{{8}}-\d{{6}}'
            rf'{re.escape(suffixes.get(fmt, ".md"))}"',
            disposition,
        ), disposition
    assert Report.model_validate_json(alice.get(f"/scans/{stored.id}/download/json").text)
    sarif = alice.get(f"/scans/{stored.id}/download/sarif").json()
    assert sarif["version"] == "2.1.0"
    ET.fromstring(alice.get(f"/scans/{stored.id}/download/junit").content)
    assert alice.get(f"/scans/{stored.id}/download/text").status_code == 404
    assert alice.get(f"/scans/{stored.id}/download/..%2Fjson").status_code == 404


def test_a_200_finding_report_renders_fast(
    alice: User, dashboard: Dashboard, report: Report
) -> None:
    severities = list(Severity)
    findings = [_finding(report, n, severities[n % len(severities)]) for n in range(200)]
    stored = dashboard.store.store_report(alice.user.id, rescored(report, findings))
    url = f"/scans/{stored.id}"
    alice.get(url)  # templates compiled, fixes rendered once
    timings = []
    for _ in range(5):
        answer = alice.get(url)
        assert answer.status_code == 200
        timings.append(answer.elapsed.total_seconds() * 1000)
    assert answer.text.count('<article class="finding') == 200
    best = min(timings)
    print(f"200-finding report page: best {best:.1f} ms, all {[round(t) for t in timings]}")
    assert best < PERF_BUDGET_MS


# targets, trend, comparison ----------------------------------------------------------------------


def test_targets_list_their_latest_grade_and_the_trend_draws_each_scan(
    alice: User, dashboard: Dashboard, report: Report
) -> None:
    worse = rescored(report, [*report.findings, *report.findings[:1]])
    better = rescored(report, report.findings[1:])
    first = dashboard.store.store_report(alice.user.id, worse)
    latest = dashboard.store.store_report(alice.user.id, better)
    listing = alice.get("/targets").text
    assert report.target.url in listing
    target_id = int(re.search(r'href="/targets/(\d+)"', listing).group(1))
    assert f'grade-chip grade-{better.score.grade}" title="{better.score.score}/100"' in listing
    page = alice.get(f"/targets/{target_id}").text
    points = re.findall(r'<circle class="point grade-([A-F])" cx="[\d.]+" cy="([\d.]+)"', page)
    assert [grade for grade, _ in points] == [worse.score.grade, better.score.grade]
    assert f'href="/scans/{first.id}"' in page
    assert f'href="/scans/{latest.id}"' in page
    assert "<polyline" in page
    target = dashboard.store.get_target(alice.user.id, target_id)
    assert f"/badge/{target.badge_key}.svg" in page


def test_two_scans_of_a_target_compare_as_new_fixed_and_unchanged(
    alice: User, dashboard: Dashboard, report: Report
) -> None:
    gone, *kept = report.findings
    added = _finding(report, 999, Severity.HIGH)
    base = dashboard.store.store_report(alice.user.id, report)
    head = dashboard.store.store_report(alice.user.id, rescored(report, [*kept, added]))
    page = alice.get(
        f"/targets/{base.target_id}/compare", params={"base": base.id, "head": head.id}
    ).text
    sections = dict(re.findall(r'<h2 id="(new|fixed|unchanged)">[^(]*\((\d+)\)', page))
    assert sections == {"new": "1", "fixed": "1", "unchanged": str(len(kept))}
    new_part = page.split('id="new"')[1].split('id="fixed"')[0]
    assert "synthetic finding 999" in new_part
    fixed_part = page.split('id="fixed"')[1].split('id="unchanged"')[0]
    assert gone.detail in fixed_part


# API tokens --------------------------------------------------------------------------------------


def test_an_api_token_is_shown_once_and_revoking_it_stops_it(alice: User) -> None:
    created = alice.post("/tokens", data={"name": "release-bot"})
    assert created.status_code == 201
    token = re.search(r'id="new-token">(mbk_[A-Za-z0-9_-]+)<', created.text).group(1)
    api = alice.dashboard.client()
    bearer = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/v1/targets", headers=bearer).status_code == 200
    listing = alice.get("/tokens").text
    assert token not in listing  # never shown again
    assert "release-bot" in listing
    token_id = re.search(r'action="/tokens/(\d+)/revoke"', listing).group(1)
    assert alice.post(f"/tokens/{token_id}/revoke").status_code == 303
    assert "release-bot" not in alice.get("/tokens").text
    assert api.get("/api/v1/targets", headers=bearer).status_code == 401


# errors ------------------------------------------------------------------------------------------


def test_unknown_pages_get_a_plain_404_page(alice: User) -> None:
    for path in ("/no/such/page", "/scans/0123456789abcdef0123456789abcdef", "/targets/999"):
        answer = alice.get(path)
        assert answer.status_code == 404
        assert answer.headers["content-type"].startswith("text/html")
        assert "Not found" in answer.text


def test_an_unexpected_error_is_a_plain_500_page_without_traceback(
    alice: User, dashboard: Dashboard, report: Report, database: Path
) -> None:
    stored = dashboard.store.store_report(alice.user.id, report)
    with sqlite3.connect(database) as db:
        db.execute("UPDATE scans SET report_json = '{broken' WHERE id = ?", (stored.id,))
    answer = alice.get(f"/scans/{stored.id}")
    assert answer.status_code == 500
    assert "Something went wrong" in answer.text
    assert "Traceback" not in answer.text
    assert "pydantic" not in answer.text
    assert answer.headers["x-content-type-options"] == "nosniff"


# middlebrick serve -------------------------------------------------------------------------------


def test_serve_init_creates_the_admin_and_prints_its_password_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    runner = CliRunner()
    first = runner.invoke(cli, ["serve", "--init", "--database-url", url])
    assert first.exit_code == 0, first.output
    password = re.search(r"admin, password (\S+) ", first.output).group(1)
    second = runner.invoke(cli, ["serve", "--init", "--database-url", url])
    assert second.exit_code == 0
    assert password not in second.output
    assert "already has users" in second.output
    store = Store(url)
    try:
        user = store.authenticate("admin", password)
        assert user is not None
        assert user.is_admin
    finally:
        store.close()


def test_serve_adds_users_and_new_keys(tmp_path: Path) -> None:
    from middlebrick.web.sealing import Sealer

    url = f"sqlite:///{tmp_path / 'serve.db'}"
    runner = CliRunner()
    added = runner.invoke(cli, ["serve", "--add-user", "dana", "--database-url", url])
    assert added.exit_code == 0, added.output
    password = re.search(r"dana, password (\S+) ", added.output).group(1)
    again = runner.invoke(cli, ["serve", "--add-user", "dana", "--database-url", url])
    assert again.exit_code == 2
    assert "exists already" in again.stderr
    store = Store(url)
    try:
        dana = store.authenticate("dana", password)
        assert dana is not None
        assert not dana.is_admin
    finally:
        store.close()
    key = runner.invoke(cli, ["serve", "--new-key"]).stdout.strip()
    sealer = Sealer.from_keys(key)
    assert sealer.open(sealer.seal({"a": 1})) == {"a": 1}


def test_serve_refuses_bad_options_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["serve", "--port", "0", "--database-url", "nope"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


@pytest.fixture
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served_cli(tmp_path: Path, free_port: int) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    env = {**os.environ, "MIDDLEBRICK_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    process = subprocess.Popen(
        [sys.executable, "-m", "middlebrick", "serve", "--port", str(free_port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield f"http://127.0.0.1:{free_port}", process
    finally:
        process.terminate()
        process.wait(10)
        if process.stdout:
            process.stdout.close()


def test_serve_runs_the_dashboard_and_prints_the_first_password(
    served_cli: tuple[str, subprocess.Popen[str]],
) -> None:
    url, process = served_cli
    deadline = time.monotonic() + 30
    while True:
        try:
            answer = httpx.get(f"{url}/login")
            break
        except httpx.TransportError:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline
            time.sleep(0.1)
    assert answer.status_code == 200
    assert "server" not in answer.headers  # no name or version to read
    process.terminate()
    output, _ = process.communicate(10)
    assert re.search(r"admin, password \S+ \(shown once", output)
    assert "middlebrick dashboard: http://127.0.0.1:" in output
