"""The engine's safety rules, asserted at the server: methods, scope, rate, budget, masking."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from middlebrick.config import ScanConfig
from middlebrick.demo.server import serve
from middlebrick.engine import scan
from middlebrick.model import CheckStatus

from targets.recording import Log, recording_app

CANARY_PASSWORD = "canary-pw-7f3a9c2e"
CANARY_TOKEN = "canary-hdr-91b2d4e6f8"


def test_only_safe_methods_reach_the_target_by_default() -> None:
    log = Log()
    with serve(recording_app(log)) as served:
        asyncio.run(scan(ScanConfig(target=served.url, auth=SecretStr(f"u:{CANARY_PASSWORD}"))))
    assert log.methods <= {"GET", "HEAD", "OPTIONS"}
    assert len(log.entries) > 5


def test_links_and_redirects_off_origin_are_never_followed() -> None:
    log = Log()
    with serve(recording_app(log)) as served:
        report = asyncio.run(scan(ScanConfig(target=served.url)))
    requested = {ex.request.url for ex in report.exchanges}
    assert all(url.startswith(served.url) for url in requested)
    # the same-origin links were followed, the foreign ones were not
    assert {"/items", "/me", "/away"} <= set(log.paths)
    assert not any("steal" in p or "landing" in p for p in log.paths)


def test_rate_limit_is_held_at_the_server() -> None:
    log = Log()
    with serve(recording_app(log)) as served:
        asyncio.run(scan(ScanConfig(target=served.url, rate=10, auth=SecretStr("u:p"))))
    times = sorted(t for t, *_ in log.entries)
    assert len(times) >= 10
    # at 10 requests/s the whole scan averages at least 0.1 s between requests, and no window of
    # 10 consecutive requests is a burst (0.9 s ideal; arrival times at the server jitter by a
    # thread's scheduling delay, so allow 0.2 s of it on a busy two-core machine)
    assert (times[-1] - times[0]) / (len(times) - 1) >= 0.095
    spans = [times[i + 9] - times[i] for i in range(len(times) - 9)]
    assert min(spans) >= 0.7, spans


def test_budget_ends_the_scan_with_partial_results() -> None:
    log = Log()
    with serve(recording_app(log, delay=0.4)) as served:
        started = time.monotonic()
        report = asyncio.run(
            scan(ScanConfig(target=served.url, budget=1.5, concurrency=2, timeout=5))
        )
        elapsed = time.monotonic() - started
    assert elapsed < 1.5 + 1.5  # the budget plus a small grace
    statuses = {run.status for run in report.checks}
    assert CheckStatus.INCOMPLETE in statuses
    assert any("budget" in note for note in report.notes)


def test_identical_requests_are_sent_once() -> None:
    log = Log()
    with serve(recording_app(log)) as served:
        # Python's http.server turns the bypass probe's `//me` into `/me` before the app sees
        # it, which would look like a duplicate here; that check's paths are tested elsewhere.
        asyncio.run(scan(ScanConfig(target=served.url, skip_checks=("MB-AUTH-004",))))
    plain = [
        (path, tuple(sorted((k, v) for k, v in headers.items() if k != "Host")))
        for _, method, path, headers in log.entries
        if method == "GET"
    ]
    assert len(plain) == len(set(plain))


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_credentials_never_appear_in_reports(fmt: str, tmp_path: object) -> None:
    from middlebrick.cli import app

    log = Log()
    with serve(recording_app(log)) as served:
        result = CliRunner().invoke(
            app,
            ["scan", served.url, "--format", fmt, "--header", f"X-Api-Key: {CANARY_TOKEN}"],
            env={"MIDDLEBRICK_AUTH": f"alice:{CANARY_PASSWORD}", "COLUMNS": "200"},
        )
    assert result.exit_code == 0, result.output
    assert CANARY_PASSWORD not in result.output
    assert CANARY_TOKEN not in result.output
    import base64

    assert base64.b64encode(f"alice:{CANARY_PASSWORD}".encode()).decode() not in result.output
    # ...and yet the credentials were really sent
    assert any(h.get("X-Api-Key") == CANARY_TOKEN for *_, h in log.entries)
    if fmt == "json":
        report = json.loads(result.output)
        assert report["config"]["credentials"] == ["basic", "header:X-Api-Key"]


def test_nothing_the_spec_names_elsewhere_is_contacted(tmp_path: object) -> None:
    """`servers`, OAuth URLs, `externalDocs`, remote `$ref`s and links in answers all name a
    second real server; only the target is scanned."""
    from pathlib import Path

    target_log, other_log = Log(), Log()
    with (
        serve(recording_app(other_log)) as other,
        serve(recording_app(target_log, foreign=other.url)) as served,
    ):
        spec = {
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "externalDocs": {"url": f"{other.url}/docs"},
            "servers": [{"url": f"{other.url}/"}, {"url": "http://169.254.169.254/latest"}],
            "paths": {
                "/items": {
                    "get": {
                        "responses": {"200": {"$ref": f"{other.url}/remote.json#/ok"}},
                    }
                },
                "/me": {
                    "get": {
                        "security": [{"oauth": []}],
                        "responses": {"200": {"description": "ok"}},
                    }
                },
            },
            "components": {
                "securitySchemes": {
                    "oauth": {
                        "type": "oauth2",
                        "flows": {
                            "authorizationCode": {
                                "authorizationUrl": f"{other.url}/authorize",
                                "tokenUrl": f"{other.url}/token",
                                "scopes": {},
                            }
                        },
                    }
                }
            },
        }
        path = Path(str(tmp_path)) / "openapi.json"
        path.write_text(json.dumps(spec))
        report = asyncio.run(
            scan(ScanConfig(target=served.url, spec=str(path), auth=SecretStr("u:p")))
        )
    assert other_log.entries == []
    assert {"/items", "/me"} <= set(target_log.paths)
    assert all(ex.request.url.startswith(served.url) for ex in report.exchanges)
