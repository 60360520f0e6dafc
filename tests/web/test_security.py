"""The dashboard's security properties, each with a test that fails when it breaks: CSRF on every
state-changing page request, headers, cookies, sessions, the login throttle, per-user isolation,
credentials that never persist, hostile scan output, and the scanner's own verdict on it."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from middlebrick.config import ScanConfig
from middlebrick.demo.apps import DEMO_PASSWORD, DEMO_USER, vulnerable_app
from middlebrick.demo.server import serve
from middlebrick.engine import scan
from middlebrick.model import Report, Severity
from middlebrick.web import pages
from middlebrick.web.app import CSP
from middlebrick.web.store import ScanStatus
from web.conftest import (
    ONE_TIME_SECRET,
    PASSWORDS,
    Dashboard,
    ServeDashboard,
    User,
    csrf_of,
)

from targets.hostile_html import ATTRIBUTE, BREAKOUT, SCRIPT, hostile_api

STATE_CHANGING = {
    ("POST", "/login"),
    ("POST", "/logout"),
    ("POST", "/scans"),
    ("POST", "/scans/{scan_id}/cancel"),
    ("POST", "/tokens"),
    ("POST", "/tokens/{token_id}/revoke"),
    # monitoring and fleets: their CSRF refusals are tested in test_monitoring_pages.py
    ("POST", "/fleet"),
    ("POST", "/schedules"),
    ("POST", "/schedules/{schedule_id}/delete"),
    ("POST", "/schedules/{schedule_id}/disable"),
    ("POST", "/schedules/{schedule_id}/enable"),
    ("POST", "/webhooks"),
    ("POST", "/webhooks/{webhook_id}/delete"),
}


@pytest.fixture(scope="module")
def report() -> Report:
    with serve(vulnerable_app()) as served:
        return asyncio.run(scan(ScanConfig(target=served.url, budget=30)))


def page_routes(method: str) -> set[tuple[str, str]]:
    return {
        (method, route.path)
        for route in pages.router.routes
        if isinstance(route, APIRoute) and method in route.methods
    }


# CSRF --------------------------------------------------------------------------------------------


def test_every_state_changing_page_route_is_covered_here() -> None:
    """A new POST route must be added to STATE_CHANGING (and so to the CSRF test below)."""
    assert page_routes("POST") == STATE_CHANGING
    for method in ("PUT", "PATCH", "DELETE"):
        assert page_routes(method) == set()


@pytest.mark.parametrize("token", [None, "", "forged-token"], ids=["missing", "empty", "wrong"])
@pytest.mark.parametrize("where", ["form", "header"])
def test_state_changing_requests_without_the_session_csrf_token_are_refused(
    alice: User, dashboard: Dashboard, report: Report, token: str | None, where: str
) -> None:
    store, user_id = dashboard.store, alice.user.id
    queued = store.create_scan(user_id, "http://127.0.0.1:9", {"budget": 30})
    store.create_api_token(user_id, "kept")
    token_id = store.list_api_tokens(user_id)[0].id
    schedule = store.create_schedule(user_id, "http://127.0.0.1:9", {}, interval_seconds=3600)
    hook = store.create_webhook(user_id, "https://hooks.test/x", "sealed-elsewhere")
    forms = {
        "/logout": {},
        "/scans": {"target": "http://127.0.0.1:9", "budget": "30", "checks": ["MB-CONF-001"]},
        f"/scans/{queued.id}/cancel": {},
        "/tokens": {"name": "forged"},
        f"/tokens/{token_id}/revoke": {},
        "/fleet": {"fleet": "targets:\n  - target: http://127.0.0.1:9\n"},
        "/schedules": {"target": "http://127.0.0.1:9", "interval_minutes": "60"},
        f"/schedules/{schedule.id}/delete": {},
        f"/schedules/{schedule.id}/disable": {},
        f"/schedules/{schedule.id}/enable": {},
        "/webhooks": {"url": "https://hooks.test/y", "kinds": ["scan_failed"]},
        f"/webhooks/{hook.id}/delete": {},
    }
    assert len(forms) == len(STATE_CHANGING) - 1  # /login: its own test below
    for path, data in forms.items():
        if where == "form":
            fields = data if token is None else {**data, "csrf_token": token}
            answer = alice.http.post(path, data=fields)
        else:
            headers = {} if token is None else {"X-CSRF-Token": token}
            answer = alice.http.post(path, data=data, headers={"HX-Request": "true", **headers})
        assert answer.status_code == 403, (path, answer.status_code)
        assert "did not come from this dashboard" in answer.text
    # nothing changed: still logged in, no new scan or token, the scan still queued
    assert alice.get("/").status_code == 200
    assert [s.id for s in store.list_scans(user_id)] == [queued.id]
    assert store.get_scan(user_id, queued.id).status == ScanStatus.QUEUED
    assert [t.name for t in store.list_api_tokens(user_id)] == ["kept"]
    assert store.list_schedules(user_id) == [schedule]
    assert store.list_webhooks(user_id) == [hook]


def test_the_session_csrf_token_in_the_htmx_header_is_accepted(alice: User) -> None:
    alice.dashboard.store.create_api_token(alice.user.id, "to revoke")
    token_id = alice.dashboard.store.list_api_tokens(alice.user.id)[0].id
    answer = alice.http.post(
        f"/tokens/{token_id}/revoke", headers={"X-CSRF-Token": alice.csrf, "HX-Request": "true"}
    )
    assert answer.status_code == 303
    assert alice.dashboard.store.list_api_tokens(alice.user.id) == []


def test_another_sessions_csrf_token_is_refused(dashboard: Dashboard) -> None:
    first, second = dashboard.login("alice"), dashboard.login("alice")
    assert first.csrf != second.csrf
    assert (
        first.http.post("/tokens", data={"name": "x", "csrf_token": second.csrf}).status_code == 403
    )


def test_a_login_without_the_login_forms_token_is_refused(dashboard: Dashboard) -> None:
    client = dashboard.client()
    fields = {"username": "alice", "password": PASSWORDS["alice"]}
    assert client.post("/login", data=fields).status_code == 403  # no cookie, no field
    form = client.get("/login")
    assert client.post("/login", data={**fields, "csrf_token": "forged"}).status_code == 403
    other = dashboard.client()  # the token of another browser's form
    answer = other.post("/login", data={**fields, "csrf_token": csrf_of(form.text)})
    assert answer.status_code == 403
    assert "mb_session" not in client.cookies
    assert "mb_session" not in other.cookies


def test_the_api_does_not_accept_the_session_cookie(alice: User) -> None:
    """The API has no CSRF token, so a cookie alone must not unlock it."""
    assert alice.get("/api/v1/targets").status_code == 401
    answer = alice.http.post("/api/v1/scans", json={"target": "http://127.0.0.1:9"})
    assert answer.status_code == 401
    assert alice.dashboard.store.list_scans(alice.user.id) == []


# headers and cookies -----------------------------------------------------------------------------


def assert_security_headers(answer: httpx.Response, *, hsts: bool = False) -> None:
    headers = answer.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-security-policy"] == CSP
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert "server" not in headers
    assert ("strict-transport-security" in headers) is hsts


def test_every_page_carries_the_security_headers_and_is_never_cached(
    alice: User, dashboard: Dashboard, report: Report
) -> None:
    stored = dashboard.store.store_report(alice.user.id, report)
    paths = [
        "/",
        "/scans/new",
        "/targets",
        f"/targets/{stored.target_id}",
        f"/scans/{stored.id}",
        f"/scans/{stored.id}/progress",
        f"/scans/{stored.id}/download/json",
        "/tokens",
        "/no/such/page",
    ]
    for path in paths:
        answer = alice.get(path)
        assert_security_headers(answer)
        assert answer.headers["cache-control"] == "no-store", path
    anonymous = dashboard.client()
    for path in ("/login", "/", "/nope", "/api/v1/targets"):
        answer = anonymous.get(path)
        assert_security_headers(answer)
        assert answer.headers["cache-control"] == "no-store", path


def test_the_csp_admits_no_inline_script_or_style(alice: User, dashboard: Dashboard) -> None:
    for path in ("/", "/scans/new", "/tokens"):
        page = alice.get(path).text
        assert "<style" not in page
        assert " style=" not in page
        assert re.findall(r"<script[^>]*>", page) == ['<script src="/static/htmx.min.js" defer>']
    assert "'unsafe-inline'" not in CSP
    assert "'unsafe-eval'" not in CSP


def test_static_files_revalidate_and_carry_the_headers(dashboard: Dashboard) -> None:
    client = dashboard.client()
    for path, kind in (("/static/htmx.min.js", "javascript"), ("/static/app.css", "text/css")):
        answer = client.get(path)
        assert answer.status_code == 200
        assert kind in answer.headers["content-type"]
        assert answer.headers["cache-control"] == "no-cache"
        assert_security_headers(answer)
    assert client.get("/static/../app.py").status_code == 404


def test_the_session_cookie_is_httponly_samesite_lax_and_not_secure_over_http(
    dashboard: Dashboard,
) -> None:
    client = dashboard.client()
    form = client.get("/login")
    answer = client.post(
        "/login",
        data={
            "username": "alice",
            "password": PASSWORDS["alice"],
            "csrf_token": csrf_of(form.text),
        },
    )
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("mb_session="))
    attributes = {a.strip().split("=")[0].lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "path", "max-age"} <= attributes
    assert "samesite=lax" in cookie.lower()
    assert "secure" not in attributes


def test_over_tls_cookies_are_secure_and_hsts_is_sent(
    serve_dashboard: ServeDashboard, users: Any
) -> None:
    with serve_dashboard(tls=True, secure_cookies=True) as dashboard:
        client = dashboard.client()
        form = client.get("/login")
        assert_security_headers(form, hsts=True)
        assert "secure" in form.headers["set-cookie"].lower()
        answer = client.post(
            "/login",
            data={
                "username": "alice",
                "password": PASSWORDS["alice"],
                "csrf_token": csrf_of(form.text),
            },
        )
        cookie = next(
            c for c in answer.headers.get_list("set-cookie") if c.startswith("mb_session=")
        )
        assert "; secure" in cookie.lower()
        assert "httponly" in cookie.lower()
        assert_security_headers(answer, hsts=True)


def test_a_loopback_dashboard_answers_only_to_loopback_host_names(dashboard: Dashboard) -> None:
    """A web page whose name was rebound to 127.0.0.1 (DNS rebinding) is turned away."""
    client = dashboard.client()
    assert client.get("/login", headers={"Host": "attacker.example"}).status_code == 400
    assert client.get("/login", headers={"Host": "localhost:8000"}).status_code == 200


def test_behind_a_tls_proxy_any_host_name_is_served_but_loopback_is_not_scanned(
    serve_dashboard: ServeDashboard, users: Any
) -> None:
    """With --secure-cookies a proxy publishes the dashboard: its users are not on this machine,
    so its loopback services are off limits unless --allow names them."""
    with serve_dashboard(tls=True, secure_cookies=True) as dashboard:
        client = dashboard.client()
        assert client.get("/login", headers={"Host": "dashboard.example.com"}).status_code == 200
        alice = dashboard.login("alice")
        answer = alice.post(
            "/scans",
            data={"target": "http://127.0.0.1:9", "budget": "30", "checks": ["MB-CONF-001"]},
            files={"spec_file": ("", b"")},
        )
        assert answer.status_code == 400
        assert "127.0.0.1 is a non-public (loopback) address" in answer.text
        assert dashboard.store.list_scans(alice.user.id) == []
    with serve_dashboard(tls=True, secure_cookies=True, allow=("127.0.0.1",)) as dashboard:
        alice = dashboard.login("alice")
        scan_id = alice.start_scan("http://127.0.0.1:9", checks=["MB-CONF-001"])
        assert scan_id


def test_an_oversized_body_is_refused_before_it_is_read(alice: User) -> None:
    answer = alice.http.post(
        "/scans",
        content=b"x" * (pages.MAX_SPEC_BYTES + (2 << 20)),
        headers={"Content-Type": "application/octet-stream"},
    )
    assert answer.status_code == 413


# sessions and login ------------------------------------------------------------------------------


def test_logout_ends_the_session_on_the_server(alice: User, dashboard: Dashboard) -> None:
    token = alice.session_token
    assert alice.get("/logout").status_code == 405  # a link or an image cannot log anyone out
    assert dashboard.store.session_user(token) is not None
    assert alice.post("/logout").status_code == 303
    assert dashboard.store.session_user(token) is None
    replay = dashboard.client(cookies={"mb_session": token})
    assert replay.get("/").status_code == 303  # to the login page


def test_a_login_issues_a_new_session_and_ends_the_one_the_browser_had(
    dashboard: Dashboard,
) -> None:
    old = dashboard.login("alice").session_token
    client = dashboard.client()
    form = client.get("/login")
    client.cookies.set("mb_session", old)  # an earlier session, or one planted by someone else
    answer = client.post(
        "/login",
        data={"username": "bob", "password": PASSWORDS["bob"], "csrf_token": csrf_of(form.text)},
    )
    assert answer.status_code == 303
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("mb_session="))
    new = cookie.split(";")[0].removeprefix("mb_session=")
    assert new != old
    assert dashboard.store.session_user(old) is None
    found = dashboard.store.session_user(new)
    assert found is not None
    assert found[0].username == "bob"


def test_repeated_wrong_passwords_lock_out_that_name_from_that_address(
    dashboard: Dashboard,
) -> None:
    client = dashboard.client()
    form = client.get("/login")
    token = csrf_of(form.text)
    for _ in range(5):
        answer = client.post(
            "/login", data={"username": "alice", "password": "guess", "csrf_token": token}
        )
        assert answer.status_code == 200
    locked = client.post(
        "/login",
        data={"username": "ALICE", "password": PASSWORDS["alice"], "csrf_token": token},
    )
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0
    assert "mb_session" not in client.cookies
    dashboard.login("bob")  # another name from the same address is not locked out


def test_login_never_redirects_to_another_site(dashboard: Dashboard) -> None:
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:x"):
        client = dashboard.client()
        form = client.get("/login")
        answer = client.post(
            "/login",
            data={
                "username": "alice",
                "password": PASSWORDS["alice"],
                "csrf_token": csrf_of(form.text),
                "next": target,
            },
        )
        assert answer.headers["location"] == "/", target


# isolation between users -------------------------------------------------------------------------


def test_a_user_cannot_see_or_touch_another_users_scans_targets_or_reports(
    alice: User, bob: User, dashboard: Dashboard, report: Report
) -> None:
    done = dashboard.store.store_report(alice.user.id, report)
    queued = dashboard.store.create_scan(alice.user.id, report.target.url, {"budget": 30})
    for path in (
        f"/scans/{done.id}",
        f"/scans/{done.id}/progress",
        f"/scans/{done.id}/download/json",
        f"/scans/{done.id}/download/sarif",
        f"/targets/{done.target_id}",
        f"/targets/{done.target_id}/compare?base={done.id}&head={done.id}",
        f"/api/v1/scans/{done.id}",
    ):
        answer = bob.get(path)
        assert answer.status_code in (404, 401), path
        assert report.target.url not in answer.text, path
    assert bob.post(f"/scans/{queued.id}/cancel").status_code == 404
    assert dashboard.store.get_scan(alice.user.id, queued.id).status == ScanStatus.QUEUED
    for path in ("/", "/targets"):
        assert report.target.url not in bob.get(path).text
        assert report.target.url in alice.get(path).text
    alice.post("/tokens", data={"name": "alices"})
    token_id = dashboard.store.list_api_tokens(alice.user.id)[0].id
    bob.post(f"/tokens/{token_id}/revoke")
    assert [t.name for t in dashboard.store.list_api_tokens(alice.user.id)] == ["alices"]
    # a scan of bob's cannot be compared with one of alice's through bob's target
    own = dashboard.store.store_report(bob.user.id, report)
    answer = bob.get(f"/targets/{own.target_id}/compare?base={own.id}&head={done.id}")
    assert answer.status_code == 404


# credentials -------------------------------------------------------------------------------------

SECRETS = {
    "auth": f"{DEMO_USER}:{DEMO_PASSWORD}",
    "bearer": "bearer-7f3c0a9e5d2b4c1f8e6a",
    "header": "X-Api-Key: header-2b8d4e6f1a3c5e7b9d0f",
}


def secret_forms() -> list[str]:
    forms = [DEMO_PASSWORD, "bearer-7f3c0a9e5d2b4c1f8e6a", "header-2b8d4e6f1a3c5e7b9d0f"]
    forms.append(base64.b64encode(SECRETS["auth"].encode()).decode())
    return forms


def test_scan_credentials_are_used_but_never_shown_or_stored(
    alice: User, dashboard: Dashboard, caplog: pytest.LogCaptureFixture
) -> None:
    with serve(vulnerable_app()) as target:
        scan_id = alice.start_scan(target.url, **SECRETS)
        running = alice.get(f"/scans/{scan_id}").text
        finished = alice.wait(scan_id)
    assert finished.status == ScanStatus.DONE, finished.error
    report = dashboard.store.report(alice.user.id, scan_id)
    assert report is not None
    assert report.config["credentials"] == ["basic", "bearer", "header:X-Api-Key"]
    assert any(ex.request.headers and ex.response for ex in report.exchanges)
    seen = [running, json.dumps(finished.settings)]
    for path in ("/", "/targets", f"/scans/{scan_id}", f"/scans/{scan_id}/progress"):
        seen.append(alice.get(path).text)
    for fmt in ("json", "sarif", "html", "junit", "markdown"):
        seen.append(alice.get(f"/scans/{scan_id}/download/{fmt}").text)
    on_disk = dashboard.database_bytes()
    for secret in secret_forms():
        for text in seen:
            assert secret not in text
        assert secret.encode() not in on_disk
        assert secret not in caplog.text
    assert b"header:X-Api-Key" in on_disk  # the kind is kept, so the page can say what was used


def test_a_refused_scan_form_never_echoes_the_credentials(alice: User) -> None:
    answer = alice.post(
        "/scans",
        data={
            "target": "http://127.0.0.1:9",
            "budget": "nope",
            "checks": ["MB-CONF-001"],
            **SECRETS,
        },
        files={"spec_file": ("", b"")},
    )
    assert answer.status_code == 400
    for secret in secret_forms():
        assert secret not in answer.text
    assert b"bearer-7f3c" not in alice.dashboard.database_bytes()


# hostile scan output -----------------------------------------------------------------------------


def test_markup_from_a_scanned_server_is_shown_as_text(alice: User) -> None:
    with serve(hostile_api()) as target:
        scan_id = alice.start_scan(target.url)
        finished = alice.wait(scan_id)
    assert finished.status == ScanStatus.DONE, finished.error
    report = alice.dashboard.store.report(alice.user.id, scan_id)
    assert report is not None
    assert report.findings
    views = [
        alice.get(f"/scans/{scan_id}").text,
        alice.get(f"/scans/{scan_id}", params={"severity": "low"}).text,
        alice.get(
            f"/scans/{scan_id}",
            params={"endpoint": "items"},
            headers={"HX-Request": "true", "HX-Target": "findings"},
        ).text,
        alice.get(
            f"/targets/{finished.target_id}/compare", params={"base": scan_id, "head": scan_id}
        ).text,
    ]
    for page in views:
        for payload in (SCRIPT, ATTRIBUTE, BREAKOUT, "<img src=x"):
            assert payload not in page
    report_page = views[0]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in report_page  # shown, as text
    assert re.findall(r"<script[^>]*>", report_page) == ['<script src="/static/htmx.min.js" defer>']


# the scanner's verdict on the dashboard ----------------------------------------------------------


@pytest.fixture
def tls_dashboard(serve_dashboard: ServeDashboard, users: Any) -> Iterator[Dashboard]:
    """Served as deployed for a team: over HTTPS (a TLS proxy in production) with secure
    cookies. Over plain HTTP the scanner rightly reports the transport (MB-ENC-001)."""
    with serve_dashboard(tls=True, secure_cookies=True) as served:
        yield served


def pages_description(dashboard: Dashboard, scan_id: str, target_id: int, path: Path) -> Path:
    """An OpenAPI description of every page a GET reaches, secured by the session cookie, so
    the scanner requests each one with and without the cookie (the pages are not in the API's
    published description)."""
    examples = {"scan_id": scan_id, "target_id": target_id, "fmt": "json"}
    paths: dict[str, Any] = {}
    for route in pages.router.routes:
        if not isinstance(route, APIRoute) or "GET" not in route.methods:
            continue
        parameters = [
            {
                "name": n,
                "in": "path",
                "required": True,
                "schema": {"type": "string"},
                "example": examples[n],
            }
            for n in route.param_convertors
        ]
        if route.name == "compare_scans":
            parameters += [
                {
                    "name": n,
                    "in": "query",
                    "required": True,
                    "schema": {"type": "string"},
                    "example": scan_id,
                }
                for n in ("base", "head")
            ]
        paths[route.path] = {
            "get": {
                "summary": route.name,
                "parameters": parameters,
                "security": [] if route.path == "/login" else [{"session": []}],
                "responses": {"200": {"description": "the page"}},
            }
        }
    document = {
        "openapi": "3.0.3",
        "info": {"title": "middlebrick dashboard pages", "version": "1"},
        "components": {
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "mb_session"}}
        },
        "paths": paths,
    }
    path.write_text(json.dumps(document))
    return path


def graded(report: Report) -> list[str]:
    return [
        f"{f.check_id} {f.severity}: {f.detail} {f.endpoints[:2]}"
        for f in report.findings
        if f.severity != Severity.INFO
    ]


def test_the_scanner_grades_its_own_dashboard_a(
    tls_dashboard: Dashboard, report: Report, tmp_path: Path
) -> None:
    dashboard = tls_dashboard
    alice = dashboard.login("alice")
    stored = dashboard.store.store_report(alice.user.id, report)
    assert isinstance(dashboard.verify, ssl.SSLContext)
    ca = tmp_path / "dashboard-ca.pem"
    cookie = (("Cookie", f"mb_session={alice.session_token}"),)
    described = pages_description(dashboard, stored.id, stored.target_id, tmp_path / "pages.json")
    api = f"{dashboard.url}/api/v1/openapi.json"
    scans = {
        "anonymous, the published API description": {"spec": api},
        "with a session cookie, the API": {"spec": api, "headers": cookie},
        "with a session cookie, every page": {"spec": str(described), "headers": cookie},
        "anonymous, every page": {"spec": str(described)},
    }
    for name, settings in scans.items():
        verdict = asyncio.run(
            scan(
                ScanConfig(
                    target=dashboard.url,
                    ca_bundle=ca,
                    budget=60,
                    suppress=(ONE_TIME_SECRET,),
                    **settings,
                )
            )
        )
        assert verdict.coverage.operations_tested >= 5, name
        assert verdict.score.grade == "A", (name, graded(verdict))
        assert graded(verdict) == [], name
        assert alice.get("/").status_code == 200  # the scan did not end the session
