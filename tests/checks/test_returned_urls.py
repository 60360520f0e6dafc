"""MB-DATA-017: credentials in the query strings of the URLs an API hands out."""

from __future__ import annotations

import json

import pytest

from middlebrick.checks.urls import credential_params
from middlebrick.demo.server import serve
from middlebrick.report import WRITERS

from checks.conftest import scan_now
from targets.links import ACCESS_TOKEN, API_KEY, RESET_TOKEN, links_api


@pytest.mark.check("MB-DATA-017")
def test_credentials_in_returned_urls_flags_reset_links_redirects_and_link_headers() -> None:
    with serve(links_api(leaky=True)) as served:
        report = scan_now(served.url, checks=("MB-DATA-017",))
    found = {f.detail.split("carries ")[1]: f for f in report.findings}
    assert set(found) == {
        "'token' in its query",
        "'access_token' in its query",
        "'api_key' in its query",
    }
    assert "Location header" in found["'access_token' in its query"].detail
    assert "Link header" in found["'api_key' in its query"].detail
    assert all(f.cwe == [598] for f in report.findings)
    written = WRITERS["json"].render(report) + WRITERS["text"].render(report)
    for planted in (RESET_TOKEN, ACCESS_TOKEN, API_KEY):
        assert planted not in written


@pytest.mark.check("MB-DATA-017")
def test_credentials_in_returned_urls_ignores_cursors_signed_urls_and_templates() -> None:
    with serve(links_api(leaky=False)) as served:
        report = scan_now(served.url, checks=("MB-DATA-017",))
    assert report.findings == []
    assert json.loads(WRITERS["json"].render(report))["checks"][0]["status"] == "completed"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/r?token=Zk3p9QwLx2Vb7Nc4", [("token", "Zk3p9QwLx2Vb7Nc4")]),
        ("/r?user=ann&password=hunter2hunter2", [("password", "hunter2hunter2")]),
        ("/r?client_secret=s3cr3t-v4lue-xyz", [("client_secret", "s3cr3t-v4lue-xyz")]),
        ("/r?page_token=Zk3p9QwLx2Vb7Nc4", []),
        ("/r?next_token=Zk3p9QwLx2Vb7Nc4", []),
        ("/r?token={token}", []),
        ("/r?api_key=YOUR_API_KEY_HERE", []),
        ("/r?token=short", []),
        ("/r?key=created_at", []),
        ("/r?password=changeme", []),
        ("/o?X-Amz-Credential=AKIDEXAMPLE&X-Amz-Signature=abcdef0123456789&token=abcdefgh12", []),
    ],
)
def test_credential_params(url: str, expected: list[tuple[str, str]]) -> None:
    assert credential_params(url) == expected
