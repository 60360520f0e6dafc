"""The REST API (`/api/v1`) against a served dashboard: scans started and followed with a token,
reports in every format, per-user isolation, problem+json errors that echo no secret, the body
cap, pushed reports, the OpenAPI document, and middlebrick scanning the API itself."""

from __future__ import annotations

import asyncio
import base64
import json
import sqlite3
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from middlebrick.config import ScanConfig
from middlebrick.demo.server import serve
from middlebrick.engine import scan as engine_scan
from middlebrick.model import Report, Severity
from middlebrick.web.api import MAX_BODY_BYTES, PROBLEM_MEDIA_TYPE
from middlebrick.web.store import ScanStatus, UserRecord
from web.conftest import MONITORING_ROUTES, ONE_TIME_SECRET, Dashboard, ServeDashboard

from targets.headers import careful_flask
from targets.recording import Log, recording_app

FINISHED = {"done", "failed", "interrupted", "cancelled"}
SECRET_BASIC = "scanner:api-basic-password-5150"
SECRET_BEARER = "bearer-value-never-stored-8086"
SECRET_HEADER = "header-value-never-stored-6502"


@dataclass
class Api:
    """A client of the dashboard's API with one user's token."""

    http: httpx.Client
    token: str
    user: UserRecord

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(f"/api/v1{path}", **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.post(f"/api/v1{path}", **kwargs)

    def push(self, report: Report) -> httpx.Response:
        """What `middlebrick scan --upload` sends."""
        return self.post(
            "/reports",
            content=report.model_dump_json(),
            headers={"Content-Type": "application/json"},
        )

    def wait(self, scan_id: str, timeout: float = 90) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            scan = self.get(f"/scans/{scan_id}").json()
            if scan["status"] in FINISHED:
                return dict(scan)
            time.sleep(0.2)
        raise AssertionError(f"scan {scan_id} did not finish in {timeout} s")


def api_for(dashboard: Dashboard, user: UserRecord) -> Api:
    token = dashboard.store.create_api_token(user.id, "tests")
    client = dashboard.client(headers={"Authorization": f"Bearer {token}"})
    return Api(client, token, user)


@pytest.fixture
def alice_api(dashboard: Dashboard, users: dict[str, UserRecord]) -> Api:
    return api_for(dashboard, users["alice"])


@pytest.fixture
def bob_api(dashboard: Dashboard, users: dict[str, UserRecord]) -> Api:
    return api_for(dashboard, users["bob"])


@pytest.fixture(scope="module")
def careful() -> Iterator[str]:
    with serve(careful_flask()) as served:
        yield served.url


@pytest.fixture(scope="module")
def careful_report(careful: str) -> Report:
    """A real report, as `middlebrick scan --format json` would write it."""
    return asyncio.run(engine_scan(ScanConfig(target=careful, budget=30)))


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    problem = response.json()
    assert problem["status"] == status
    assert problem["type"] == "about:blank"
    assert problem["title"]
    assert problem["detail"]
    assert "Traceback" not in response.text
    return dict(problem)


# scans -------------------------------------------------------------------------------------------


def test_scan_runs_and_its_report_comes_in_every_format(alice_api: Api, careful: str) -> None:
    started = alice_api.post("/scans", json={"target": careful, "budget": 30})
    assert started.status_code == 202, started.text
    scan = started.json()
    assert started.headers["location"] == scan["url"]
    assert scan["url"].endswith(f"/api/v1/scans/{scan['id']}")
    assert scan["status"] in ("queued", "running")
    assert scan["report_url"] is None

    finished = alice_api.wait(scan["id"])
    assert finished["status"] == "done", finished
    assert finished["grade"] in ("A", "B", "C", "D", "F")
    assert 0 <= finished["score"] <= 100
    assert finished["progress"]["done"] == finished["progress"]["total"] > 0
    assert set(finished["counts"]) == {s.value for s in Severity}
    assert finished["report_url"] == f"{scan['url']}/report"

    answer = alice_api.get(f"/scans/{scan['id']}/report")
    assert answer.headers["content-type"] == "application/json"
    report = Report.model_validate_json(answer.text)
    assert report.target.url == careful
    assert (report.score.grade, report.score.score) == (finished["grade"], finished["score"])

    sarif = alice_api.get(f"/scans/{scan['id']}/report", params={"format": "sarif"})
    assert sarif.headers["content-type"] == "application/sarif+json"
    assert sarif.json()["version"] == "2.1.0"
    junit = alice_api.get(f"/scans/{scan['id']}/report", params={"format": "junit"})
    assert junit.headers["content-type"] == "application/xml"
    assert ET.fromstring(junit.text).tag in ("testsuites", "testsuite")
    html = alice_api.get(f"/scans/{scan['id']}/report", params={"format": "html"})
    assert html.headers["content-type"] == "text/html; charset=utf-8"
    assert html.headers["content-disposition"].startswith("attachment;")
    assert "<html" in html.text.lower()
    markdown = alice_api.get(f"/scans/{scan['id']}/report", params={"format": "markdown"})
    assert markdown.headers["content-type"] == "text/markdown; charset=utf-8"
    assert careful in markdown.text

    unknown = alice_api.get(f"/scans/{scan['id']}/report", params={"format": "pdf"})
    assert assert_problem(unknown, 422)["errors"][0]["parameter"] == "format"

    listed = alice_api.get("/scans").json()
    assert [s["id"] for s in listed] == [scan["id"]]
    targets = alice_api.get("/targets").json()
    assert [(t["url"], t["latest_grade"], t["scans"]) for t in targets] == [
        (careful, finished["grade"], 1)
    ]
    history = alice_api.http.get(targets[0]["scans_url"]).json()
    assert [s["id"] for s in history] == [scan["id"]]


def test_a_scan_reads_the_spec_given_as_text(alice_api: Api, careful: str) -> None:
    spec = {
        "openapi": "3.0.3",
        "info": {"title": "notes", "version": "1"},
        "components": {"securitySchemes": {"basic": {"type": "http", "scheme": "basic"}}},
        "paths": {
            "/api/me": {
                "get": {
                    "security": [{"basic": []}],
                    "responses": {"200": {"description": "me"}, "401": {"description": "no"}},
                }
            }
        },
    }
    started = alice_api.post(
        "/scans",
        json={"target": careful, "spec_text": json.dumps(spec), "spec_name": "notes.json"},
    )
    assert started.status_code == 202, started.text
    assert started.json()["settings"]["spec"] == "notes.json"
    finished = alice_api.wait(started.json()["id"])
    assert finished["status"] == "done", finished
    report = Report.model_validate_json(alice_api.get(f"/scans/{finished['id']}/report").text)
    assert report.spec == "notes.json"
    assert report.coverage.operations_declared == 1


def test_credentials_are_used_for_the_scan_and_never_stored_or_echoed(
    dashboard: Dashboard, alice_api: Api
) -> None:
    log = Log()
    with serve(recording_app(log)) as target:
        started = alice_api.post(
            "/scans",
            json={
                "target": target.url,
                "budget": 20,
                "checks": ["MB-AUTH-001"],
                "credentials": {
                    "basic": SECRET_BASIC,
                    "bearer": SECRET_BEARER,
                    "headers": {"X-Api-Key": SECRET_HEADER},
                },
            },
        )
        assert started.status_code == 202, started.text
        finished = alice_api.wait(started.json()["id"])
    assert finished["status"] == "done", finished
    assert finished["settings"]["credentials"] == ["basic", "bearer", "header:X-Api-Key"]

    sent = [headers for _, _, _, headers in log.entries]
    basic = "Basic " + base64.b64encode(SECRET_BASIC.encode()).decode()
    assert any(h.get("Authorization") in (basic, f"Bearer {SECRET_BEARER}") for h in sent)
    assert any(h.get("X-Api-Key") == SECRET_HEADER for h in sent)

    shown = [
        started.text,
        alice_api.get(f"/scans/{finished['id']}").text,
        alice_api.get("/scans").text,
        alice_api.get(f"/scans/{finished['id']}/report").text,
    ]
    stored = dashboard.database_bytes()
    password = SECRET_BASIC.split(":")[1]
    for secret in (password, SECRET_BEARER, SECRET_HEADER):
        assert all(secret not in text for text in shown), secret
        assert secret.encode() not in stored, secret


def test_a_scan_can_be_cancelled_once(alice_api: Api) -> None:
    log = Log()
    with serve(recording_app(log, delay=0.5)) as slow:
        scan = alice_api.post("/scans", json={"target": slow.url, "budget": 60}).json()
        cancelled = alice_api.post(f"/scans/{scan['id']}/cancel")
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "cancelled"
        assert cancelled.json()["error"]
        again = assert_problem(alice_api.post(f"/scans/{scan['id']}/cancel"), 409)
        assert "cancelled" in again["detail"]
        assert_problem(alice_api.get(f"/scans/{scan['id']}/report"), 409)


def test_another_users_scans_and_targets_are_not_found(
    alice_api: Api, bob_api: Api, careful_report: Report
) -> None:
    pushed = alice_api.push(careful_report).json()
    queued = alice_api.post("/scans", json={"target": "http://127.0.0.1:9/", "budget": 5}).json()
    target_id = pushed["target_id"]
    for scan_id in (pushed["id"], queued["id"]):
        assert_problem(bob_api.get(f"/scans/{scan_id}"), 404)
        assert_problem(bob_api.get(f"/scans/{scan_id}/report"), 404)
        assert_problem(bob_api.post(f"/scans/{scan_id}/cancel"), 404)
    assert_problem(bob_api.get(f"/targets/{target_id}/scans"), 404)
    assert bob_api.get("/scans").json() == []
    assert bob_api.get("/targets").json() == []
    assert alice_api.get(f"/scans/{pushed['id']}").status_code == 200
    assert_problem(alice_api.get("/scans/" + "0" * 32), 404)
    assert_problem(alice_api.get("/scans/not-a-scan-id"), 404)
    assert_problem(alice_api.get(f"/targets/{2**63}/scans"), 422)


# authentication ----------------------------------------------------------------------------------


def test_every_route_needs_a_valid_token(
    dashboard: Dashboard, alice_api: Api, users: dict[str, UserRecord]
) -> None:
    routes = [
        ("GET", "/scans"),
        ("POST", "/scans"),
        ("GET", "/scans/" + "a" * 32),
        ("GET", "/scans/" + "a" * 32 + "/report"),
        ("POST", "/scans/" + "a" * 32 + "/cancel"),
        ("GET", "/targets"),
        ("GET", "/targets/1/scans"),
        ("POST", "/reports"),
    ]
    session = dashboard.login("alice")  # a session cookie must not unlock the API (no CSRF)
    revoked = dashboard.store.create_api_token(users["alice"].id, "old")
    for token in dashboard.store.list_api_tokens(users["alice"].id):
        if token.name == "old":
            dashboard.store.revoke_api_token(users["alice"].id, token.id)
    anonymous = dashboard.client()
    attempts: list[tuple[httpx.Client, dict[str, str]]] = [
        (anonymous, {}),
        (anonymous, {"Authorization": "Bearer mbk_" + "x" * 43}),
        (anonymous, {"Authorization": f"Bearer {revoked}"}),
        (anonymous, {"Authorization": f"Basic {alice_api.token}"}),
        (anonymous, {"Authorization": alice_api.token}),
        (session.http, {}),
    ]
    for method, path in routes:
        for client, headers in attempts:
            answer = client.request(method, f"/api/v1{path}", headers=headers, json={})
            assert_problem(answer, 401)
            assert answer.headers["www-authenticate"].startswith("Bearer")
            assert answer.headers["cache-control"] == "no-store"


# errors ------------------------------------------------------------------------------------------


def test_invalid_scans_are_refused_without_quoting_secrets(alice_api: Api, careful: str) -> None:
    def refused(body: Any, status: int = 422, **kwargs: Any) -> dict[str, Any]:
        answer = alice_api.post("/scans", json=body, **kwargs)
        problem = assert_problem(answer, status)
        for secret in ("hunter2-not-echoed", SECRET_BEARER):
            assert secret not in answer.text
        return problem

    no_colon = refused({"target": careful, "credentials": {"basic": "hunter2-not-echoed"}})
    assert no_colon["errors"][0]["pointer"] == "#/credentials/basic"
    assert "USER:PASS" in no_colon["detail"]
    wrong_type = refused({"target": careful, "credentials": {"bearer": ["hunter2-not-echoed"]}})
    assert wrong_type["errors"][0]["pointer"] == "#/credentials/bearer"
    refused({"target": careful, "credentials": {"headers": {"Bad Name": SECRET_BEARER}}})
    in_url = refused({"target": "http://user:hunter2-not-echoed@127.0.0.1:99999/"})
    assert "credentials" in in_url["detail"]
    refused({"target": careful, "spec_url": f"{careful}/openapi.json", "spec_text": "{}"})
    assert "unknown check" in refused({"target": careful, "checks": ["MB-NOPE-999"]})["detail"]
    assert refused({"target": careful, "budget": 10_000})["errors"][0]["pointer"] == "#/budget"
    refused({"target": careful, "surprise": True})
    refused({"target": "ftp://127.0.0.1/"})
    metadata = refused({"target": "http://169.254.169.254/latest/meta-data/"})
    assert "169.254.169.254" in metadata["detail"]
    spec_at_metadata = refused({"target": careful, "spec_url": "http://169.254.169.254/o.json"})
    assert "169.254.169.254" in spec_at_metadata["detail"]
    not_json = alice_api.post(
        "/scans", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert assert_problem(not_json, 422)["errors"][0]["detail"] == "the body is not valid JSON"
    assert alice_api.get("/scans").json() == []


def test_bodies_over_the_cap_are_refused_before_parsing(alice_api: Api) -> None:
    chunk = b" " * (1 << 20)

    def chunks() -> Iterator[bytes]:  # no Content-Length: the cap counts what arrives
        for _ in range((MAX_BODY_BYTES >> 20) + 1):
            yield chunk

    streamed = alice_api.post(
        "/reports", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "larger than 10 MiB" in assert_problem(streamed, 413)["detail"]
    declared = alice_api.post(
        "/reports",
        content=b" " * (MAX_BODY_BYTES + 1),
        headers={"Content-Type": "application/json"},
    )
    assert_problem(declared, 413)


def test_an_unexpected_error_is_a_problem_without_details(
    serve_dashboard: ServeDashboard, users: dict[str, UserRecord], database: Path
) -> None:
    with serve_dashboard() as dashboard:
        api = api_for(dashboard, users["alice"])
        with sqlite3.connect(database) as db:  # a database broken under the running dashboard
            db.execute("DROP TABLE scans")
        answer = api.get("/scans")
    problem = assert_problem(answer, 500)
    assert problem["detail"] == "an unexpected error; the dashboard's log has it"
    assert "no such table" not in answer.text
    assert "sqlite" not in answer.text.lower()


# pushed reports ----------------------------------------------------------------------------------


def test_a_pushed_report_becomes_a_finished_scan_of_its_target(
    dashboard: Dashboard, alice_api: Api, careful_report: Report
) -> None:
    answer = alice_api.push(careful_report)
    assert answer.status_code == 201, answer.text
    scan = answer.json()
    assert answer.headers["location"] == scan["url"]
    assert scan["status"] == "done"
    assert scan["grade"] == careful_report.score.grade
    assert scan["score"] == careful_report.score.score
    assert scan["page_url"] == f"{dashboard.url}/scans/{scan['id']}"
    stored = Report.model_validate_json(alice_api.get(f"/scans/{scan['id']}/report").text)
    assert stored == careful_report
    targets = alice_api.get("/targets").json()
    assert [(t["url"], t["latest_scan_id"]) for t in targets] == [
        (careful_report.target.url, scan["id"])
    ]
    assert targets[0]["badge_url"].startswith(f"{dashboard.url}/badge/")


def test_a_pushed_report_that_is_not_a_report_is_refused(
    alice_api: Api, careful_report: Report
) -> None:
    document = json.loads(careful_report.model_dump_json())
    document["score"]["grade"] = "<script>"
    bad_grade = assert_problem(alice_api.post("/reports", json=document), 422)
    assert bad_grade["errors"][0]["pointer"] == "#/score/grade"
    del document["findings"]
    missing = assert_problem(alice_api.post("/reports", json=document), 422)
    assert {"pointer": "#/findings", "detail": "Field required"} in missing["errors"]
    nested = b"[" * 100_000 + b"]" * 100_000
    too_deep = alice_api.post(
        "/reports", content=nested, headers={"Content-Type": "application/json"}
    )
    assert too_deep.status_code in (400, 422)
    assert too_deep.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert alice_api.get("/scans").json() == []


# the OpenAPI document ----------------------------------------------------------------------------


def test_openapi_document_describes_the_api_and_its_security(dashboard: Dashboard) -> None:
    document = dashboard.client().get("/api/v1/openapi.json").json()
    assert document["components"]["securitySchemes"]["token"] == {
        "type": "http",
        "scheme": "bearer",
        "description": document["components"]["securitySchemes"]["token"]["description"],
    }
    expected = {
        ("post", "/api/v1/scans"),
        ("get", "/api/v1/scans"),
        ("get", "/api/v1/scans/{scan_id}"),
        ("get", "/api/v1/scans/{scan_id}/report"),
        ("post", "/api/v1/scans/{scan_id}/cancel"),
        ("get", "/api/v1/targets"),
        ("get", "/api/v1/targets/{target_id}/scans"),
        ("post", "/api/v1/reports"),
    } | MONITORING_ROUTES
    operations = {
        (method, path): operation
        for path, item in document["paths"].items()
        if path.startswith("/api/v1/")
        for method, operation in item.items()
    }
    assert set(operations) == expected
    for (method, path), operation in operations.items():
        assert operation["security"] == [{"token": []}], (method, path)
        assert {"200", "201", "202", "204"} & set(operation["responses"]), (method, path)
        for status, response in operation["responses"].items():
            if status.startswith("4"):
                assert list(response["content"]) == [PROBLEM_MEDIA_TYPE], (method, path, status)
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    start = operations[("post", "/api/v1/scans")]
    assert start["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ScanRequest"
    }
    credentials = schemas["ScanCredentials"]["properties"]
    assert credentials["bearer"]["anyOf"][0]["format"] == "password"
    assert credentials["bearer"]["anyOf"][0]["writeOnly"] is True
    assert "credentials" not in schemas["ScanOut"]["properties"]
    report = operations[("get", "/api/v1/scans/{scan_id}/report")]["responses"]["200"]
    assert report["content"]["application/json"]["schema"]["$ref"].startswith(
        "#/components/schemas/Report"
    )
    assert set(document["paths"]) == {path for _, path in expected}  # pages and badges: not API


# middlebrick on its own API ----------------------------------------------------------------------


def test_scanning_the_api_with_middlebrick_finds_nothing_at_or_above_low(
    serve_dashboard: ServeDashboard,
    users: dict[str, UserRecord],
    careful_report: Report,
    tmp_path: Path,
) -> None:
    """Over HTTPS, as a dashboard reachable by others is served (`secure_cookies`)."""
    with serve_dashboard(tls=True, secure_cookies=True) as dashboard:
        api = api_for(dashboard, users["alice"])
        pushed = api.push(careful_report).json()
        assert pushed["status"] == ScanStatus.DONE
        config = ScanConfig(
            target=f"{dashboard.url}/api/v1",
            spec=f"{dashboard.url}/api/v1/openapi.json",
            bearer=SecretStr(api.token),
            ca_bundle=tmp_path / "dashboard-ca.pem",
            budget=90,
            suppress=(ONE_TIME_SECRET,),
        )
        report = asyncio.run(engine_scan(config))
    assert report.target.tls
    assert report.coverage.operations_declared == 20
    assert report.coverage.operations_tested >= 6
    ours = ("/api/v1/", "/badge/")
    flagged = [
        (f.check_id, f.severity.value, f.detail, f.endpoints)
        for f in report.findings
        if f.severity.rank >= Severity.LOW.rank and any(p in e for e in f.endpoints for p in ours)
    ]
    assert flagged == []
    assert api.token not in report.model_dump_json()


def test_problem_documents_list_every_error_with_a_pointer(alice_api: Api) -> None:
    answer = alice_api.post("/scans", json={"budget": "soon", "rate": -1})
    problem = assert_problem(answer, 422)
    assert {e["pointer"] for e in problem["errors"]} == {"#/target", "#/budget", "#/rate"}
