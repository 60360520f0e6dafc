"""The REST API's monitoring and fleet routes against a served dashboard: schedules and webhooks
made, read, paused and deleted with a token; secrets sealed, answered once (a webhook's) or never
(a schedule's credentials); the delivery log; fleet files queued as scans; another user's ids
404; every route behind a token; the OpenAPI document; and middlebrick scanning these routes."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from pydantic import SecretStr

from middlebrick.config import ScanConfig
from middlebrick.demo.apps import fixed_app, vulnerable_app
from middlebrick.demo.server import serve
from middlebrick.engine import scan as engine_scan
from middlebrick.model import Severity
from middlebrick.web.api import PROBLEM_MEDIA_TYPE
from middlebrick.web.sealing import ENV_VAR, Sealer, new_key
from middlebrick.web.store import UserRecord
from web.conftest import MONITORING_ROUTES, ONE_TIME_SECRET, Dashboard, ServeDashboard

BEARER = "api-sched-bearer-44c1e9a7"
HEADER_VALUE = "api-sched-header-0b5d3f"
CREDENTIALS = {"bearer": BEARER, "headers": {"X-Api-Key": HEADER_VALUE}}
CLOSED = "http://127.0.0.1:9"
ENDED = {"done", "failed", "interrupted", "cancelled"}


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    """The dashboard's sealing key, set before the dashboard starts (autouse runs first)."""
    value = new_key()
    monkeypatch.setenv(ENV_VAR, value)
    return value


def client_for(dashboard: Dashboard, user: UserRecord) -> httpx.Client:
    token = dashboard.store.create_api_token(user.id, "tests")
    client = httpx.Client(
        base_url=f"{dashboard.url}/api/v1",
        verify=dashboard.verify,
        timeout=30,
        headers={"Authorization": f"Bearer {token}"},
    )
    dashboard.clients.append(client)  # closed with the dashboard
    return client


@pytest.fixture
def alice_api(dashboard: Dashboard, users: dict[str, UserRecord]) -> httpx.Client:
    return client_for(dashboard, users["alice"])


@pytest.fixture
def bob_api(dashboard: Dashboard, users: dict[str, UserRecord]) -> httpx.Client:
    return client_for(dashboard, users["bob"])


def problem(answer: httpx.Response, status: int) -> str:
    """The detail of a problem document, after checking it is one."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = answer.json()
    assert body["status"] == status
    assert "Traceback" not in answer.text
    return str(body["detail"])


# schedules -------------------------------------------------------------------------------------


def test_a_schedule_is_made_read_paused_resumed_and_deleted(
    alice_api: httpx.Client, dashboard: Dashboard, users: dict[str, UserRecord]
) -> None:
    made = alice_api.post(
        "/schedules",
        json={"target": f"{CLOSED}/v2/", "interval_seconds": 3600, "checks": ["MB-CONF-001"]},
    )
    assert made.status_code == 201, made.text
    schedule = made.json()
    assert made.headers["location"] == schedule["url"]
    assert schedule["url"].endswith(f"/api/v1/schedules/{schedule['id']}")
    assert (schedule["target_url"], schedule["interval_seconds"], schedule["cron"]) == (
        f"{CLOSED}/v2",
        3600,
        None,
    )
    assert schedule["enabled"] is True
    assert schedule["settings"]["checks"] == ["MB-CONF-001"]
    assert schedule["settings"]["credentials"] == []
    assert schedule["last_scan_id"] is None
    assert alice_api.get("/schedules").json() == [schedule]
    assert alice_api.get(f"/schedules/{schedule['id']}").json() == schedule

    paused = alice_api.post(f"/schedules/{schedule['id']}/disable")
    assert paused.status_code == 200
    assert paused.json()["enabled"] is False
    assert not dashboard.store.list_schedules(users["alice"].id)[0].enabled
    assert alice_api.post(f"/schedules/{schedule['id']}/enable").json()["enabled"] is True

    cron = alice_api.post("/schedules", json={"target": CLOSED, "cron": "15 4 * * 0"}).json()
    assert (cron["cron"], cron["interval_seconds"]) == ("15 4 * * 0", None)
    assert cron["next_run_at"][11:16] == "04:15"

    gone = alice_api.delete(f"/schedules/{schedule['id']}")
    assert (gone.status_code, gone.content) == (204, b"")
    problem(alice_api.get(f"/schedules/{schedule['id']}"), 404)
    problem(alice_api.delete(f"/schedules/{schedule['id']}"), 404)
    assert [s["id"] for s in alice_api.get("/schedules").json()] == [cron["id"]]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"target": CLOSED}, 422, "cron or interval_seconds"),
        ({"target": CLOSED, "cron": "0 3 * * *", "interval_seconds": 60}, 422, "one of them"),
        ({"target": CLOSED, "interval_seconds": 30}, 422, "greater than or equal to 60"),
        ({"target": CLOSED, "cron": "nightly"}, 422, "not a cron expression"),
        ({"target": CLOSED, "cron": "* * * * *", "checks": ["MB-NOPE-1"]}, 422, "unknown check"),
        ({"target": "http://169.254.169.254", "cron": "0 3 * * *"}, 422, "cloud metadata"),
        ({"target": "http://u:pw-in-url@127.0.0.1:9", "cron": "0 3 * * *"}, 422, "credentials"),
        ({"target": CLOSED, "cron": "0 3 * * *", "budget": 1}, 422, "greater than or equal"),
    ],
)
def test_a_refused_schedule_is_a_problem_and_stores_nothing(
    alice_api: httpx.Client,
    dashboard: Dashboard,
    users: dict[str, UserRecord],
    body: dict[str, Any],
    status: int,
    message: str,
) -> None:
    detail = problem(alice_api.post("/schedules", json=body), status)
    assert message in detail
    assert "pw-in-url" not in detail
    assert dashboard.store.list_schedules(users["alice"].id) == []


def test_schedule_credentials_are_sealed_and_never_answered(
    alice_api: httpx.Client, dashboard: Dashboard, users: dict[str, UserRecord], key: str
) -> None:
    made = alice_api.post(
        "/schedules", json={"target": CLOSED, "cron": "0 3 * * *", "credentials": CREDENTIALS}
    )
    assert made.status_code == 201, made.text
    assert made.json()["settings"]["credentials"] == ["bearer", "header:X-Api-Key"]
    answers = [made.text, alice_api.get("/schedules").text]
    answers.append(alice_api.get(f"/schedules/{made.json()['id']}").text)
    answers.append(alice_api.post(f"/schedules/{made.json()['id']}/disable").text)
    answers.append(dashboard.client().get("/api/v1/openapi.json").text)
    on_disk = dashboard.database_bytes()
    for secret in (BEARER, HEADER_VALUE):
        assert all(secret not in text for text in answers)
        assert secret.encode() not in on_disk
    [schedule] = dashboard.store.list_schedules(users["alice"].id)
    assert schedule.has_credentials
    with sqlite3.connect(dashboard.database) as db:
        [(sealed,)] = db.execute("SELECT sealed_credentials FROM schedules").fetchall()
    opened = Sealer.from_keys(key).open(sealed)
    assert opened["bearer"] == BEARER
    assert opened["headers"] == [["X-Api-Key", HEADER_VALUE]]


def test_without_the_key_credentials_and_webhooks_are_refused(
    serve_dashboard: ServeDashboard, users: dict[str, UserRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_VAR)
    with serve_dashboard() as dashboard:
        api = client_for(dashboard, users["alice"])
        body = {"target": CLOSED, "cron": "0 3 * * *", "credentials": CREDENTIALS}
        detail = problem(api.post("/schedules", json=body), 422)
        assert detail.startswith("a schedule with credentials needs MIDDLEBRICK_SECRET_KEY")
        detail = problem(api.post("/webhooks", json={"url": f"{CLOSED}/hook"}), 422)
        assert "needs MIDDLEBRICK_SECRET_KEY" in detail
        assert dashboard.store.list_schedules(users["alice"].id) == []
        assert dashboard.store.list_webhooks(users["alice"].id) == []
        assert BEARER.encode() not in dashboard.database_bytes()
        body.pop("credentials")
        assert api.post("/schedules", json=body).status_code == 201


# webhooks and deliveries -----------------------------------------------------------------------


def test_a_webhook_answers_its_secret_once(
    alice_api: httpx.Client, dashboard: Dashboard, users: dict[str, UserRecord], key: str
) -> None:
    target = dashboard.store.target_for(users["alice"].id, f"{CLOSED}/t")
    made = alice_api.post(
        "/webhooks",
        json={
            "url": f"{CLOSED}/hook?x=1",
            "target_id": target.id,
            "events": ["new_finding"],
            "min_severity": "medium",
            "slack": True,
        },
    )
    assert made.status_code == 201, made.text
    hook = made.json()
    secret = hook.pop("secret")
    assert secret.startswith("whsec_")
    assert len(secret) == 38
    assert made.headers["location"] == hook["link"]
    assert hook | {"id": 0, "created_at": "", "link": ""} == {
        "id": 0,
        "url": f"{CLOSED}/hook?x=1",
        "target_id": target.id,
        "events": ["new_finding"],
        "min_severity": "medium",
        "slack": True,
        "enabled": True,
        "created_at": "",
        "link": "",
    }
    listed = alice_api.get("/webhooks")
    one = alice_api.get(f"/webhooks/{hook['id']}")
    assert listed.json() == [hook]
    assert one.json() == hook
    for text in (listed.text, one.text):
        assert secret not in text
        assert "secret" not in text
    assert secret.encode() not in dashboard.database_bytes()
    [(_, sealed)] = dashboard.store.webhooks_for(
        dashboard.store.create_scan(users["alice"].id, f"{CLOSED}/t", {})
    )
    assert Sealer.from_keys(key).open(sealed) == {"secret": secret}
    every = alice_api.post("/webhooks", json={"url": f"{CLOSED}/all"}).json()
    assert (every["target_id"], every["events"], every["min_severity"], every["slack"]) == (
        None,
        ["grade_drop", "new_finding", "scan_failed"],
        "high",
        False,
    )
    assert alice_api.get("/webhooks").json()[1]["id"] == every["id"]
    assert every["secret"] != secret
    assert alice_api.delete(f"/webhooks/{hook['id']}").status_code == 204
    problem(alice_api.get(f"/webhooks/{hook['id']}"), 404)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"url": "http://169.254.169.254/x"}, "cloud metadata"),
        ({"url": "file:///etc/passwd"}, "starts with https://"),
        ({"url": f"{CLOSED}/x", "events": []}, "at least 1 item"),
        ({"url": f"{CLOSED}/x", "events": ["everything"]}, "grade_drop"),
        ({"url": f"{CLOSED}/x", "min_severity": "dire"}, "critical"),
        ({"url": f"{CLOSED}/x", "target_id": 99}, "no such target"),
    ],
)
def test_a_refused_webhook_is_a_problem_and_stores_nothing(
    alice_api: httpx.Client,
    dashboard: Dashboard,
    users: dict[str, UserRecord],
    body: dict[str, Any],
    message: str,
) -> None:
    answer = alice_api.post("/webhooks", json=body)
    assert message in problem(answer, 422) or message in answer.text
    assert "whsec_" not in answer.text
    assert dashboard.store.list_webhooks(users["alice"].id) == []


def test_the_delivery_log_lists_the_users_own_deliveries(
    alice_api: httpx.Client, bob_api: httpx.Client
) -> None:
    receiver = Flask("receiver")
    receiver.post("/hook")(lambda: ("ok", 200))
    with serve(receiver) as hooks:
        made = alice_api.post("/webhooks", json={"url": f"{hooks.url}/hook"})
        hook = made.json()
        scan_id = alice_api.post("/scans", json={"target": CLOSED, "budget": 5}).json()["id"]
        deadline = time.monotonic() + 60
        while not (log := alice_api.get("/deliveries").json()) or log[0]["status"] == "pending":
            assert time.monotonic() < deadline
            time.sleep(0.2)
    [delivery] = log
    assert (delivery["webhook_id"], delivery["webhook_url"], delivery["scan_id"]) == (
        hook["id"],
        f"{hooks.url}/hook",
        scan_id,
    )
    assert (delivery["event"], delivery["status"], delivery["http_status"]) == (
        "scan_failed",
        "delivered",
        200,
    )
    assert (delivery["attempts"], delivery["log"]) == (1, ["attempt 1: HTTP 200"])
    assert hook["secret"] not in str(log)
    assert bob_api.get("/deliveries").json() == []
    problem(alice_api.get("/deliveries", params={"limit": 0}), 422)


# fleets ----------------------------------------------------------------------------------------


def test_a_fleet_file_becomes_scans_that_end_done(
    alice_api: httpx.Client, bob_api: httpx.Client
) -> None:
    with serve(vulnerable_app()) as bad, serve(fixed_app()) as good:
        text = f"defaults:\n  budget: 30\ntargets:\n  - name: legacy\n    target: {bad.url}\n"
        text += f"  - target: {good.url}\n"
        answer = alice_api.post("/fleet", json={"fleet": text})
        assert answer.status_code == 202, answer.text
        queued = answer.json()["scans"]
        assert [q["name"] for q in queued] == [
            "legacy",
            good.url.removeprefix("http://").replace(":", "-"),
        ]
        assert [q["scan"]["target_url"] for q in queued] == [bad.url, good.url]
        assert {q["scan"]["status"] for q in queued} <= {"queued", "running"}
        ended = []
        for q in queued:
            deadline = time.monotonic() + 90
            while (scan := alice_api.get(f"/scans/{q['scan']['id']}").json())[
                "status"
            ] not in ENDED:
                assert time.monotonic() < deadline
                time.sleep(0.2)
            ended.append(scan)
            problem(bob_api.get(f"/scans/{q['scan']['id']}"), 404)
    assert [s["status"] for s in ended] == ["done", "done"]
    assert ended[0]["grade"] == "F"


def test_a_fleet_file_with_credential_variables_is_refused(
    alice_api: httpx.Client, dashboard: Dashboard, users: dict[str, UserRecord]
) -> None:
    for key in ("auth_env: HOME", "bearer_env: HOME", "headers_env: {X-Key: HOME}"):
        text = f"targets:\n  - target: {CLOSED}\n    {key}\n"
        detail = problem(alice_api.post("/fleet", json={"fleet": text}), 422)
        assert f"`{key.split(':')[0]}` is refused in an upload" in detail
    too_many = "targets:\n" + "".join(f"  - target: {CLOSED}/{n}\n" for n in range(201))
    assert "at most 200" in problem(alice_api.post("/fleet", json={"fleet": too_many}), 422)
    assert "at least 1 character" in problem(alice_api.post("/fleet", json={"fleet": ""}), 422)
    assert dashboard.store.list_scans(users["alice"].id) == []


# isolation, tokens, the document ----------------------------------------------------------------


def test_another_users_schedules_and_webhooks_are_not_found(
    alice_api: httpx.Client, bob_api: httpx.Client, dashboard: Dashboard, users: dict[str, Any]
) -> None:
    schedule = alice_api.post("/schedules", json={"target": CLOSED, "cron": "0 3 * * *"}).json()
    hook = alice_api.post("/webhooks", json={"url": f"{CLOSED}/hook"}).json()
    for method, path in (
        ("GET", f"/schedules/{schedule['id']}"),
        ("POST", f"/schedules/{schedule['id']}/disable"),
        ("POST", f"/schedules/{schedule['id']}/enable"),
        ("DELETE", f"/schedules/{schedule['id']}"),
        ("GET", f"/webhooks/{hook['id']}"),
        ("DELETE", f"/webhooks/{hook['id']}"),
    ):
        detail = problem(bob_api.request(method, path), 404)
        assert detail.endswith("or it is not yours")
    assert bob_api.get("/schedules").json() == []
    assert bob_api.get("/webhooks").json() == []
    target_id = dashboard.store.list_targets(users["alice"].id)[0].id
    refused = bob_api.post("/webhooks", json={"url": f"{CLOSED}/b", "target_id": target_id})
    assert "no such target" in problem(refused, 422)
    assert alice_api.get(f"/schedules/{schedule['id']}").json()["enabled"] is True
    assert alice_api.get(f"/webhooks/{hook['id']}").status_code == 200
    problem(alice_api.get(f"/schedules/{2**63}"), 422)


def test_every_new_route_needs_a_valid_token(dashboard: Dashboard) -> None:
    anonymous = dashboard.client()
    session = dashboard.login("alice")  # a session cookie must not unlock the API (no CSRF)
    for method, path in MONITORING_ROUTES:
        url = path.replace("{schedule_id}", "1").replace("{webhook_id}", "1")
        for client, headers in ((anonymous, {}), (anonymous, {"Authorization": "Bearer mbk_x"}),
                                (session.http, {})):  # fmt: skip
            answer = client.request(method, url, headers=headers, json={})
            problem(answer, 401)
            assert answer.headers["www-authenticate"].startswith("Bearer")


def test_the_openapi_document_describes_the_new_routes(dashboard: Dashboard) -> None:
    document = dashboard.client().get("/api/v1/openapi.json").json()
    operations = {
        (method, path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    assert set(operations) >= MONITORING_ROUTES
    for route in MONITORING_ROUTES:
        operation = operations[route]
        assert operation["security"] == [{"token": []}], route
        for status, response in operation["responses"].items():
            if status.startswith("4"):
                assert list(response["content"]) == [PROBLEM_MEDIA_TYPE], (route, status)
    schemas = document["components"]["schemas"]
    assert "secret" in schemas["WebhookCreated"]["properties"]
    assert "secret" not in schemas["WebhookOut"]["properties"]
    assert "credentials" not in schemas["ScheduleOut"]["properties"]
    created = operations[("post", "/api/v1/webhooks")]["responses"]["201"]
    assert created["content"]["application/json"]["schema"]["$ref"].endswith("/WebhookCreated")
    request = operations[("post", "/api/v1/schedules")]["requestBody"]["content"]
    assert request["application/json"]["schema"]["$ref"].endswith("/ScheduleRequest")
    assert schemas["DeliveryOut"]["properties"]["status"]["enum"] == [
        "pending",
        "delivered",
        "failed",
    ]


def test_scanning_the_new_routes_with_middlebrick_finds_nothing_at_or_above_low(
    serve_dashboard: ServeDashboard, users: dict[str, UserRecord], tmp_path: Path
) -> None:
    """Over HTTPS, as a dashboard reachable by others is served, with something in each list.
    MB-DATA-006 rightly sees a secret in the answer to `POST /webhooks`: that is the one time
    it is shown, so it is suppressed, with its reason, as a user of middlebrick would."""
    with serve_dashboard(tls=True, secure_cookies=True, allow=("127.0.0.1",)) as dashboard:
        token = dashboard.store.create_api_token(users["alice"].id, "self-scan")
        api = client_for(dashboard, users["alice"])
        api.post("/schedules", json={"target": CLOSED, "cron": "0 3 * * *"})
        api.post("/webhooks", json={"url": f"{CLOSED}/hook"})
        config = ScanConfig(
            target=f"{dashboard.url}/api/v1",
            spec=f"{dashboard.url}/api/v1/openapi.json",
            bearer=SecretStr(token),
            ca_bundle=tmp_path / "dashboard-ca.pem",
            budget=90,
            suppress=(ONE_TIME_SECRET,),
        )
        report = asyncio.run(engine_scan(config))
    # the one accepted finding: the answer to a webhook's creation carries its secret, once
    assert [(f.check_id, f.endpoints) for f in report.suppressed] == [
        ("MB-DATA-006", ["POST /api/v1/webhooks"])
    ]
    tested = {f"/api/v1{p}" for p in ("/schedules", "/webhooks", "/deliveries")}
    assert report.coverage.operations_tested >= 6
    flagged = [
        (f.check_id, f.severity.value, f.detail, f.endpoints)
        for f in report.findings
        if f.severity.rank >= Severity.LOW.rank
        and any(t in e for e in f.endpoints for t in (*tested, "/fleet"))
    ]
    assert flagged == []
    assert token not in report.model_dump_json()
