"""The dashboard in a real browser (headless Chromium): log in, scan a local API and watch the
progress, read and filter the report, download SARIF, scan again and see the trend. Any console
error fails the test, and a Content-Security-Policy violation is one."""

from __future__ import annotations

import json
import re
from pathlib import Path

from middlebrick.demo.apps import vulnerable_app
from middlebrick.demo.server import serve
from web.conftest import PASSWORDS, Dashboard, Tab

SCAN_PAGE = re.compile(r".*/scans/[0-9a-f]{32}$")
TIMEOUT_MS = 60_000


def test_a_scan_from_login_to_trend_in_the_browser(
    tab: Tab, dashboard: Dashboard, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page = tab.page
    page.set_default_timeout(TIMEOUT_MS)
    with serve(vulnerable_app()) as target:
        page.goto("/")
        expect(page).to_have_url(re.compile(r".*/login\?next=/$"))
        page.fill("#username", "alice")
        page.fill("#password", PASSWORDS["alice"])
        page.click("button[type=submit]")
        expect(page).to_have_url(f"{dashboard.url}/")

        page.click("nav >> text=New scan")
        page.fill("#target", target.url)
        page.fill("#rate", "40")  # slow enough to watch it run: ~150 requests
        with page.expect_response(re.compile(r".*/scans/[0-9a-f]{32}/progress$")) as polled:
            page.click("text=Start scan")
            expect(page).to_have_url(SCAN_PAGE)
            progress = page.locator("#progress")
            expect(progress).to_have_attribute("data-status", re.compile("queued|running"))
        assert polled.value.ok  # htmx polls the progress fragment while the scan runs
        scan_url = page.url
        expect(page.locator("#grade")).to_be_visible()  # the finished page replaced the progress
        expect(progress).to_have_count(0)

        scan_id = scan_url.rsplit("/", 1)[1]
        alice = dashboard.store.authenticate("alice", PASSWORDS["alice"])
        assert alice is not None
        report = dashboard.store.report(alice.id, scan_id)
        assert report is not None
        expect(page.locator("#grade b")).to_have_text(report.score.grade)
        findings = page.locator("article.finding")
        expect(findings).to_have_count(len(report.findings))

        severity = report.findings[0].severity.value
        wanted = sum(f.severity.value == severity for f in report.findings)
        page.check(f"#filters input[name=severity][value={severity}]")
        expect(page).to_have_url(re.compile(rf".*severity={severity}.*"))  # a link to this view
        expect(findings).to_have_count(wanted)
        for shown in findings.all():
            expect(shown).to_have_attribute("data-severity", severity)
        expect(page.locator("#shown")).to_have_text(
            f"{wanted} of {len(report.findings)} findings match."
        )

        with page.expect_download() as download:
            page.click("a.button >> text=SARIF")
        saved = tmp_path / download.value.suggested_filename
        download.value.save_as(saved)
        assert saved.suffix == ".sarif"
        sarif = json.loads(saved.read_text("utf-8"))
        assert sarif["version"] == "2.1.0"
        assert len(sarif["runs"][0]["results"]) == len(report.findings)

        page.click("text=all scans of this target")
        page.click("text=Scan again")
        expect(page.locator("#target")).to_have_value(target.url)
        page.click("text=Start scan")
        expect(page).to_have_url(SCAN_PAGE)
        expect(page.locator("#grade")).to_be_visible()

        page.click("text=all scans of this target")
        expect(page.locator("#trend circle.point")).to_have_count(2)
        expect(page.locator("table.scans tbody tr")).to_have_count(2)

    page.click("text=Log out")
    expect(page).to_have_url(re.compile(r".*/login$"))
    assert tab.errors == []
