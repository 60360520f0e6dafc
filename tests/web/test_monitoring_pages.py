"""The monitoring pages over real HTTP: schedules (made, paused, resumed, deleted; credentials
sealed and used by the scheduled scan), webhooks (the secret shown once and verified by a real
receiver with its own HMAC code), the delivery log with its polling, per-user isolation, CSRF on
every new form, and a schedule made in a real browser."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import sqlite3
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from fastapi.routing import APIRoute
from flask import Flask, Response, jsonify, request
from sqlalchemy import update

from middlebrick.demo.server import serve
from middlebrick.web.models import Schedule
from middlebrick.web.pages import fleet, monitoring
from middlebrick.web.sealing import ENV_VAR, Sealer, new_key
from middlebrick.web.store import ScanStatus, Store
from middlebrick.web.store.database import now
from web.conftest import PASSWORDS, Dashboard, ServeDashboard, Tab, User

BASIC = "monitor:sched-basic-pass-7d1e"
BEARER = "sched-bearer-3a9f0c5e8b"
HEADER_VALUE = "sched-header-6c2d7f1a4e"
SECRET_FIELDS = {"auth": BASIC, "bearer": BEARER, "header": f"X-Api-Key: {HEADER_VALUE}"}
SECRET_FORMS = ("sched-basic-pass-7d1e", BEARER, HEADER_VALUE, base64.b64encode(BASIC.encode()))
NEW_POST_ROUTES = {
    "/schedules",
    "/schedules/{schedule_id}/enable",
    "/schedules/{schedule_id}/disable",
    "/schedules/{schedule_id}/delete",
    "/webhooks",
    "/webhooks/{webhook_id}/delete",
    "/fleet",
}
NEW_PAGES = ("/schedules", "/webhooks", "/deliveries", "/fleet", "/fleet/scans")
CLOSED = "http://127.0.0.1:9"  # nothing listens: a scan of it fails at once


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    """The dashboard's sealing key, set before the dashboard starts (autouse runs first)."""
    value = new_key()
    monkeypatch.setenv(ENV_VAR, value)
    return value


def _as_text(secret: str | bytes) -> str:
    return secret.decode() if isinstance(secret, bytes) else secret


def _assert_nowhere(pages: list[str], dashboard: Dashboard, *secrets: str | bytes) -> None:
    on_disk = dashboard.database_bytes()
    for secret in secrets:
        text = _as_text(secret)
        for page in pages:
            assert text not in page
        assert text.encode() not in on_disk


def _due(store: Store, schedule_id: int) -> None:
    with store._tx() as db:
        db.execute(
            update(Schedule)
            .where(Schedule.id == schedule_id)
            .values(next_run_at=now() - timedelta(seconds=1))
        )


def _wait_for(condition: Any, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


# schedules -------------------------------------------------------------------------------------


def test_a_schedule_is_made_listed_paused_resumed_and_deleted(
    alice: User, dashboard: Dashboard
) -> None:
    assert "No schedules." in alice.get("/schedules").text
    made = alice.post(
        "/schedules",
        data={"target": f"{CLOSED}/v1/", "cron": " 0  3 * * * ", "budget": "30", "checks": []},
    )
    assert made.status_code == 400  # no check selected
    assert "select at least one check" in made.text
    uploaded = alice.post(
        "/schedules",
        data={"target": CLOSED, "cron": "0 3 * * *", "budget": "30", "checks": ["MB-CONF-001"]},
        files={"spec_file": ("api.yaml", b"openapi: 3.0.3\n")},
    )
    assert uploaded.status_code == 400
    assert "by URL, not as a file" in uploaded.text
    made = alice.post(
        "/schedules",
        data={
            "target": f"{CLOSED}/v1/",
            "cron": "0 3 * * *",
            "budget": "30",
            "checks": ["MB-CONF-001"],
        },
    )
    assert made.status_code == 303, made.text
    assert made.headers["location"] == "/schedules"
    [schedule] = dashboard.store.list_schedules(alice.user.id)
    assert (schedule.target_url, schedule.cron, schedule.enabled) == (
        f"{CLOSED}/v1",
        "0 3 * * *",
        True,
    )
    assert (schedule.next_run_at.hour, schedule.next_run_at.minute) == (3, 0)
    assert schedule.settings["checks"] == ["MB-CONF-001"]
    assert schedule.settings["budget"] == 30
    page = alice.get("/schedules").text
    assert f"<code>{CLOSED}/v1</code>" in page
    assert "cron <code>0 3 * * *</code>" in page
    assert schedule.next_run_at.strftime("%Y-%m-%d 03:00:00") in page
    assert "none yet" in page  # no scan has run

    assert alice.post(f"/schedules/{schedule.id}/disable").status_code == 303
    assert not dashboard.store.list_schedules(alice.user.id)[0].enabled
    assert f'action="/schedules/{schedule.id}/enable"' in alice.get("/schedules").text
    assert alice.post(f"/schedules/{schedule.id}/enable").status_code == 303
    assert dashboard.store.list_schedules(alice.user.id)[0].enabled

    every = alice.post(
        "/schedules",
        data={"target": CLOSED, "interval": "90", "budget": "30", "checks": ["MB-CONF-001"]},
    )
    assert every.status_code == 303
    assert "every 90 min" in alice.get("/schedules").text
    assert alice.post(f"/schedules/{schedule.id}/delete").status_code == 303
    assert [s.interval_seconds for s in dashboard.store.list_schedules(alice.user.id)] == [5400]
    assert alice.post(f"/schedules/{schedule.id}/delete").status_code == 404


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"cron": "0 3 * * *", "interval": "60"}, "a cron expression or an interval"),
        ({}, "a cron expression or an interval"),
        ({"cron": "every night"}, "not a cron expression"),
        ({"cron": "* * * * * *"}, "not a cron expression"),
        ({"interval": "0"}, "at least 1"),
        ({"interval": "1.5"}, "whole number of minutes"),
        ({"interval": "999999"}, "at most a year"),
        ({"cron": "0 3 * * *", "target": "http://169.254.169.254"}, "cloud metadata"),
        ({"cron": "0 3 * * *", "target": "ftp://example.com"}, "only http:// and https://"),
        ({"cron": "0 3 * * *", "budget": "5000"}, "the time budget must be"),
    ],
)
def test_a_refused_schedule_says_why_in_one_line_and_stores_nothing(
    alice: User, dashboard: Dashboard, fields: dict[str, str], message: str
) -> None:
    data = {"target": CLOSED, "budget": "30", "checks": ["MB-CONF-001"], **fields}
    answer = alice.post("/schedules", data=data)
    assert answer.status_code == 400
    error = re.search(r'<p class="error" role="alert">(.*?)</p>', answer.text, re.S)
    assert error is not None
    assert message in error.group(1)
    assert "\n" not in error.group(1)
    assert dashboard.store.list_schedules(alice.user.id) == []
    if "cron" in fields and "target" not in fields:
        assert f'value="{fields["cron"]}"' in answer.text  # shown again to be fixed


def test_schedule_credentials_are_sealed_shown_by_kind_and_used_by_the_scheduled_scan(
    alice: User, dashboard: Dashboard, key: str
) -> None:
    seen: list[str] = []
    api = Flask("scheduled")

    @api.get("/")
    def index() -> Response:
        seen.append(f"{request.headers.get('Authorization')} {request.headers.get('X-Api-Key')}")
        return jsonify(service="scheduled")

    with serve(api) as target:
        made = alice.post(
            "/schedules",
            data={
                "target": target.url,
                "interval": "60",
                "budget": "20",
                "checks": ["MB-CONF-001"],
                **SECRET_FIELDS,
            },
        )
        assert made.status_code == 303, made.text
        [schedule] = dashboard.store.list_schedules(alice.user.id)
        assert schedule.has_credentials
        assert schedule.settings["credentials"] == ["basic", "bearer", "header:X-Api-Key"]
        page = alice.get("/schedules").text
        assert 'basic, bearer, header:X-Api-Key <span class="muted">(sealed)</span>' in page

        # what is stored opens, with the dashboard's key only, to the credentials given
        with sqlite3.connect(dashboard.database) as db:
            [(sealed,)] = db.execute("SELECT sealed_credentials FROM schedules").fetchall()
        assert Sealer.from_keys(key).open(sealed)["bearer"] == BEARER

        # the runner's ticker fires the due schedule (it looks every 15 s) with them
        _due(dashboard.store, schedule.id)
        _wait_for(lambda: dashboard.store.list_schedules(alice.user.id)[0].last_scan_id, 40)
        scan_id = dashboard.store.list_schedules(alice.user.id)[0].last_scan_id
        assert scan_id is not None
        finished = alice.wait(scan_id)
    assert finished.status == ScanStatus.DONE, finished.error
    assert f"Bearer {BEARER} {HEADER_VALUE}" in seen  # (the bearer token wins over Basic)
    pages = [alice.get(p).text for p in ("/schedules", f"/scans/{scan_id}", "/")]
    pages.append(alice.get(f"/scans/{scan_id}/download/json").text)
    assert f'href="/scans/{scan_id}">last scan</a>' in pages[0]
    _assert_nowhere(pages, dashboard, *SECRET_FORMS)
    assert dashboard.store.secret(scan_id) is None  # the scan's copy is dropped when it ends


def test_without_the_key_credentials_are_refused_and_nothing_is_stored(
    serve_dashboard: ServeDashboard, users: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_VAR)
    with serve_dashboard() as dashboard:
        alice = dashboard.login("alice")
        form = alice.get("/schedules").text
        assert f"{ENV_VAR} is not set on this dashboard" in form
        data = {"target": CLOSED, "cron": "0 3 * * *", "budget": "30", "checks": ["MB-CONF-001"]}
        answer = alice.post("/schedules", data={**data, **SECRET_FIELDS})
        assert answer.status_code == 400
        error = re.search(r'<p class="error" role="alert">(.*?)</p>', answer.text, re.S)
        assert error is not None
        assert "a schedule with credentials needs MIDDLEBRICK_SECRET_KEY" in error.group(1)
        assert dashboard.store.list_schedules(alice.user.id) == []
        _assert_nowhere([answer.text], dashboard, *SECRET_FORMS)
        assert alice.post("/schedules", data=data).status_code == 303  # without: it is kept

        hooks = alice.get("/webhooks").text
        assert f"Webhooks need <code>{ENV_VAR}</code>" in hooks
        refused = alice.post(
            "/webhooks", data={"url": "http://127.0.0.1:9/hook", "events": "scan_failed"}
        )
        assert refused.status_code == 400
        assert "needs MIDDLEBRICK_SECRET_KEY" in refused.text
        assert dashboard.store.list_webhooks(alice.user.id) == []


# webhooks and the delivery log -----------------------------------------------------------------


def _receiver(secret_box: list[str]) -> tuple[Flask, list[dict[str, Any]]]:
    """A receiver that checks each signature with its own HMAC code and the secret the page
    showed (put in `secret_box` once known)."""
    received: list[dict[str, Any]] = []
    lock = threading.Lock()
    app = Flask("receiver")

    @app.post("/hook")
    def hook() -> Response:
        raw = request.get_data()
        stamp, _, mac = request.headers["X-Middlebrick-Signature"].partition(",v1=")
        expected = hmac.new(
            secret_box[0].encode(), stamp.removeprefix("t=").encode() + b"." + raw, hashlib.sha256
        ).hexdigest()
        with lock:
            received.append(
                {
                    "valid": hmac.compare_digest(expected, mac),
                    "event": request.headers["X-Middlebrick-Event"],
                    "body": json.loads(raw),
                }
            )
        return Response("ok", 200)

    return app, received


def test_a_webhook_secret_is_shown_once_and_signs_the_alerts_a_receiver_checks(
    alice: User, dashboard: Dashboard, key: str
) -> None:
    box: list[str] = []
    app, received = _receiver(box)
    with serve(app) as hooks:
        made = alice.post(
            "/webhooks",
            data={
                "url": f"{hooks.url}/hook#ignored",
                "events": ["scan_failed", "grade_drop"],
                "min_severity": "critical",
                "slack": "",
            },
        )
        assert made.status_code == 201, made.text
        shown = re.search(
            r'<code class="secret" id="new-secret">(whsec_[\w-]{32})</code>', made.text
        )
        assert shown is not None
        secret = shown.group(1)
        box.append(secret)
        assert "X-Middlebrick-Signature" in made.text  # how to verify
        [hook] = dashboard.store.list_webhooks(alice.user.id)
        assert (hook.url, hook.kinds, hook.min_severity, hook.slack, hook.target_id) == (
            f"{hooks.url}/hook",
            ("grade_drop", "scan_failed"),
            "critical",
            False,
            None,
        )
        listed = alice.get("/webhooks").text
        assert f"<code>{hooks.url}/hook</code>" in listed
        assert "all targets" in listed
        assert "grade drop, scan failed" in listed

        scan_id = alice.start_scan(CLOSED, checks=["MB-CONF-001"])
        assert alice.wait(scan_id).status == ScanStatus.FAILED
        _wait_for(lambda: received, 30)
        _wait_for(lambda: dashboard.store.list_deliveries(alice.user.id)[0].status != "pending")
    [alert] = received
    assert alert["valid"]
    assert (alert["event"], alert["body"]["scan_id"]) == ("scan_failed", scan_id)
    [delivery] = dashboard.store.list_deliveries(alice.user.id)
    log = alice.get("/deliveries").text
    assert f'data-delivery="{delivery.id}" data-status="delivered"' in log
    assert f'<a href="/scans/{scan_id}">scan</a>' in log
    assert "<li>attempt 1: HTTP 200</li>" in log
    assert 'data-pending="no"' in log
    assert "hx-get" not in log  # nothing pending: no polling
    pages = [listed, log, alice.get("/webhooks").text, alice.get(f"/scans/{scan_id}").text]
    _assert_nowhere(pages, dashboard, secret)
    with sqlite3.connect(dashboard.database) as db:
        [(sealed,)] = db.execute("SELECT sealed_secret FROM webhooks").fetchall()
    assert Sealer.from_keys(key).open(sealed) == {"secret": secret}


def test_a_webhook_for_one_target_in_slack_format(alice: User, dashboard: Dashboard) -> None:
    target = dashboard.store.target_for(alice.user.id, "http://127.0.0.1:9/one")
    made = alice.post(
        "/webhooks",
        data={
            "url": "http://127.0.0.1:9/slack?channel=x",
            "target_id": str(target.id),
            "events": "new_finding",
            "min_severity": "medium",
            "slack": "on",
        },
    )
    assert made.status_code == 201
    [hook] = dashboard.store.list_webhooks(alice.user.id)
    assert (hook.target_id, hook.kinds, hook.slack, hook.url) == (
        target.id,
        ("new_finding",),
        True,
        "http://127.0.0.1:9/slack?channel=x",
    )
    listed = alice.get("/webhooks").text
    assert "<code>http://127.0.0.1:9/one</code>" in listed
    assert "Slack-compatible" in listed
    assert alice.post(f"/webhooks/{hook.id}/delete").status_code == 303
    assert dashboard.store.list_webhooks(alice.user.id) == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"url": "http://169.254.169.254/latest/"}, "cloud metadata"),
        ({"url": "ftp://hooks.example.com/x"}, "starts with https://"),
        ({"url": "http://user:pw@127.0.0.1:9/x"}, "user name or password"),
        ({"url": "http://127.0.0.1:9/x", "events": []}, "webhook events are"),
        ({"url": "http://127.0.0.1:9/x", "min_severity": "dire"}, "unknown severity"),
        ({"url": "http://127.0.0.1:9/x", "target_id": "99"}, "no such target"),
        ({"url": "http://127.0.0.1:9/x", "target_id": "x"}, "no such target"),
    ],
)
def test_a_refused_webhook_says_why_and_stores_nothing(
    alice: User, dashboard: Dashboard, fields: dict[str, Any], message: str
) -> None:
    data = {"events": ["scan_failed"], "min_severity": "high", **fields}
    answer = alice.post("/webhooks", data=data)
    assert answer.status_code == 400
    assert message in answer.text
    assert "pw@" not in answer.text
    assert "whsec_" not in answer.text
    assert dashboard.store.list_webhooks(alice.user.id) == []


def test_the_delivery_log_polls_while_a_delivery_is_pending(
    alice: User, bob: User, dashboard: Dashboard, key: str
) -> None:
    sealer = Sealer.from_keys(key)
    store = dashboard.store
    hook = store.create_webhook(alice.user.id, "http://127.0.0.1:9/x", sealer.seal({"secret": "s"}))
    delivery = store.add_delivery(hook.id, None, "grade_drop", "{}")
    page = alice.get("/deliveries").text
    assert 'data-pending="yes" hx-get="/deliveries" hx-trigger="every 2s"' in page
    assert '<meta http-equiv="refresh" content="2">' in page  # without JavaScript too
    assert "not attempted yet" in page
    store.record_attempt(
        delivery, line="attempt 1: <b>refused</b>", http_status=None, error="x",
        delivered=False, final=True,
    )  # fmt: skip
    fragment = alice.get("/deliveries", headers={"HX-Request": "true"}).text
    assert fragment.startswith('<section id="deliveries"')
    assert "hx-get" not in fragment
    assert 'data-status="failed"' in fragment
    assert "attempt 1: &lt;b&gt;refused&lt;/b&gt;" in fragment  # text, never markup
    assert "No deliveries yet." in bob.get("/deliveries").text


# isolation, CSRF, headers ----------------------------------------------------------------------


def test_another_users_schedules_and_webhooks_are_not_found(
    alice: User, bob: User, dashboard: Dashboard, key: str
) -> None:
    store = dashboard.store
    schedule = store.create_schedule(
        alice.user.id, "http://127.0.0.1:9/alices", {}, cron="0 3 * * *"
    )
    hook = store.create_webhook(
        alice.user.id, "http://127.0.0.1:9/alices-hook", Sealer.from_keys(key).seal({"secret": "s"})
    )
    store.add_delivery(hook.id, None, "scan_failed", "{}")
    for path in (
        f"/schedules/{schedule.id}/disable",
        f"/schedules/{schedule.id}/enable",
        f"/schedules/{schedule.id}/delete",
        f"/webhooks/{hook.id}/delete",
    ):
        assert bob.post(path).status_code == 404, path
    for path in ("/schedules", "/webhooks", "/deliveries"):
        assert "alices" not in bob.get(path).text
        assert "alices" in alice.get(path).text
    target = store.list_targets(alice.user.id)[0]
    answer = bob.post(
        "/webhooks",
        data={"url": "http://127.0.0.1:9/b", "events": "scan_failed", "target_id": target.id},
    )
    assert answer.status_code == 400  # alice's target is no target of bob's
    assert store.list_webhooks(bob.user.id) == []
    assert [s.enabled for s in store.list_schedules(alice.user.id)] == [True]
    assert len(store.list_webhooks(alice.user.id)) == 1
    assert alice.post(f"/schedules/{2**63}/delete").status_code == 400  # not an id at all


def test_every_new_form_route_is_covered_by_the_csrf_test() -> None:
    posts = {
        route.path
        for part in (monitoring.router, fleet.router)
        for route in part.routes
        if isinstance(route, APIRoute) and "POST" in route.methods
    }
    assert posts == NEW_POST_ROUTES


@pytest.mark.parametrize("token", [None, "forged"], ids=["missing", "wrong"])
def test_new_forms_without_the_session_csrf_token_are_refused(
    alice: User, dashboard: Dashboard, key: str, token: str | None
) -> None:
    store = dashboard.store
    schedule = store.create_schedule(alice.user.id, CLOSED, {}, cron="0 3 * * *")
    hook = store.create_webhook(
        alice.user.id, f"{CLOSED}/h", Sealer.from_keys(key).seal({"secret": "s"})
    )
    forms = {
        "/schedules": {"target": CLOSED, "cron": "0 4 * * *", "checks": ["MB-CONF-001"]},
        f"/schedules/{schedule.id}/enable": {},
        f"/schedules/{schedule.id}/disable": {},
        f"/schedules/{schedule.id}/delete": {},
        "/webhooks": {"url": f"{CLOSED}/new", "events": "scan_failed"},
        f"/webhooks/{hook.id}/delete": {},
        "/fleet": {"fleet": f"targets:\n  - target: {CLOSED}\n"},
    }
    assert {re.sub(r"/\d+/", "/{id}/", p) for p in forms} == {
        re.sub(r"\{\w+\}", "{id}", p) for p in NEW_POST_ROUTES
    }
    for path, data in forms.items():
        fields = data if token is None else {**data, "csrf_token": token}
        answer = alice.http.post(path, data=fields)
        assert answer.status_code == 403, path
        assert "did not come from this dashboard" in answer.text
    [kept] = store.list_schedules(alice.user.id)
    assert (kept.id, kept.cron, kept.enabled) == (schedule.id, "0 3 * * *", True)
    assert [h.id for h in store.list_webhooks(alice.user.id)] == [hook.id]
    assert store.list_scans(alice.user.id) == []


def test_new_pages_carry_the_headers_and_no_inline_script_or_style(
    alice: User, dashboard: Dashboard
) -> None:
    anonymous = dashboard.client()
    for path in NEW_PAGES:
        answer = alice.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["content-security-policy"].startswith("default-src 'none'")
        assert "<style" not in answer.text
        assert " style=" not in answer.text
        assert re.findall(r"<script[^>]*>", answer.text) == [
            '<script src="/static/htmx.min.js" defer>'
        ]
        assert f'href="{path}" aria-current="page"' in answer.text or path == "/fleet/scans"
        login = anonymous.get(path)
        assert login.status_code == 303  # to the login page
        assert login.headers["location"].startswith("/login")


# in a browser ----------------------------------------------------------------------------------


def test_a_schedule_made_in_the_browser(tab: Tab, dashboard: Dashboard) -> None:
    from playwright.sync_api import expect

    page = tab.page
    page.set_default_timeout(30_000)
    page.goto("/login")
    page.fill("#username", "alice")
    page.fill("#password", PASSWORDS["alice"])
    page.click("button[type=submit]")
    page.click("nav >> text=Schedules")
    page.fill("#target", CLOSED)
    page.fill("#cron", "30 2 * * 1")
    page.fill("#bearer", BEARER)
    page.click("text=Create schedule")
    row = page.locator("table.schedules tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("cron 30 2 * * 1")
    expect(row).to_contain_text("bearer (sealed)")
    page.click("table.schedules >> text=Disable")
    expect(row).to_contain_text("Enable")
    assert BEARER not in page.content()
    assert tab.errors == []
