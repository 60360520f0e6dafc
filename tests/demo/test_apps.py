"""The demo API and its fixed twin, served for real: each documented mistake is visible from
outside in the vulnerable app and absent from the fixed one."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from middlebrick.demo.apps import DEMO_PASSWORD, DEMO_USER, fixed_app, vulnerable_app
from middlebrick.demo.server import serve
from middlebrick.demo.tls import server_context

ALICE = (DEMO_USER, DEMO_PASSWORD)
EVIL = {"Origin": "https://evil.example"}
PROTECTED = ["/api/v1/me", "/api/v1/notes", "/api/v1/export"]
SPEC_PATHS = {"/api/v1/me", "/api/v1/notes", "/api/v1/users/{user_id}/notes", "/api/v1/export"}


@pytest.fixture
def vulnerable(tmp_path: Path) -> Iterator[httpx.Client]:
    """The demo as `middlebrick demo` runs it: plain HTTP, Werkzeug's own Server header."""
    with serve(vulnerable_app(log_dir=tmp_path)) as api, httpx.Client(base_url=api.url) as http:
        yield http


@pytest.fixture
def fixed(ca: Any, client_context: Callable[[], ssl.SSLContext]) -> Iterator[httpx.Client]:
    """The fixed twin as `middlebrick demo` runs it: HTTPS, a versionless Server header."""
    with (
        serve(fixed_app(), tls=server_context(ca), server_header="api") as api,
        httpx.Client(base_url=api.url, verify=client_context()) as http,
    ):
        yield http


@pytest.fixture(params=["vulnerable", "fixed"])
def either(request: pytest.FixtureRequest) -> httpx.Client:
    client: httpx.Client = request.getfixturevalue(request.param)
    return client


# what both share --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PROTECTED)
def test_protected_routes_challenge_anonymous_callers(either: httpx.Client, path: str) -> None:
    response = either.get(path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic")


@pytest.mark.parametrize("path", PROTECTED)
def test_protected_routes_answer_alice(either: httpx.Client, path: str) -> None:
    assert either.get(path, auth=ALICE).status_code == 200


def test_a_wrong_password_is_refused(either: httpx.Client) -> None:
    assert either.get("/api/v1/me", auth=(DEMO_USER, "wrong")).status_code == 401
    assert either.get("/api/v1/me", auth=("bob", DEMO_PASSWORD)).status_code == 401


def test_me_is_the_callers_profile(either: httpx.Client) -> None:
    me = either.get("/api/v1/me", auth=ALICE).json()
    assert (me["name"], me["email"]) == ("Alice Liddell", "alice@example.test")


def test_the_spec_declares_basic_auth_on_every_route(either: httpx.Client) -> None:
    spec = either.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.0")
    assert spec["components"]["securitySchemes"]["basicAuth"] == {"type": "http", "scheme": "basic"}
    assert spec["security"] == [{"basicAuth": []}]
    assert set(spec["paths"]) == SPEC_PATHS
    assert all("security" not in op for item in spec["paths"].values() for op in item.values())


# the vulnerable app's mistakes ------------------------------------------------------------------


def test_vulnerable_app_sends_authenticated_data_without_protective_headers(
    vulnerable: httpx.Client,
) -> None:
    headers = vulnerable.get("/api/v1/notes", auth=ALICE).headers
    assert "cache-control" not in headers
    assert "strict-transport-security" not in headers
    assert "x-content-type-options" not in headers
    assert headers["server"].startswith("Werkzeug/")
    assert "Python/" in headers["server"]


def test_vulnerable_app_reflects_any_origin_with_credentials(vulnerable: httpx.Client) -> None:
    headers = vulnerable.get("/api/v1/me", auth=ALICE, headers=EVIL).headers
    assert headers["access-control-allow-origin"] == EVIL["Origin"]
    assert headers["access-control-allow-credentials"] == "true"


def test_vulnerable_app_sends_json_as_html(vulnerable: httpx.Client) -> None:
    export = vulnerable.get("/api/v1/export", auth=ALICE)
    assert export.headers["content-type"].startswith("text/html")
    assert export.json()[0]["title"] == "Launch checklist"


def test_vulnerable_app_forgot_auth_on_a_route_the_spec_says_is_secured(
    vulnerable: httpx.Client,
) -> None:
    anonymous = vulnerable.get("/api/v1/users/1/notes")
    assert anonymous.status_code == 200
    assert anonymous.json()[0]["body"] == "Rotate the staging keys"


def test_vulnerable_app_echoes_the_password_in_me(vulnerable: httpx.Client) -> None:
    assert vulnerable.get("/api/v1/me", auth=ALICE).json()["password"] == DEMO_PASSWORD


def test_vulnerable_app_logs_passwords_and_serves_the_log(
    vulnerable: httpx.Client, tmp_path: Path
) -> None:
    vulnerable.get("/api/v1/me", auth=ALICE)
    log = vulnerable.get("/logs/app.log")
    assert log.status_code == 200
    assert log.headers["content-type"].startswith("text/plain")
    assert f"user={DEMO_USER} password={DEMO_PASSWORD}" in log.text
    assert log.text == (tmp_path / "app.log").read_text()


def test_vulnerable_apps_keep_separate_logs(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    with serve(vulnerable_app(log_dir=first)) as a, serve(vulnerable_app(log_dir=second)) as b:
        httpx.get(f"{a.url}/api/v1/me", auth=ALICE)
        assert DEMO_PASSWORD in httpx.get(f"{a.url}/logs/app.log").text
        assert httpx.get(f"{b.url}/logs/app.log").text == ""


# the fixed twin has none of them ----------------------------------------------------------------


def test_fixed_app_sends_protective_headers(fixed: httpx.Client) -> None:
    for response in (fixed.get("/api/v1/notes", auth=ALICE), fixed.get("/api/v1/notes")):
        headers = response.headers
        assert headers["cache-control"] == "no-store"
        assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["server"] == "api"


def test_fixed_app_ignores_foreign_origins(fixed: httpx.Client) -> None:
    headers = fixed.get("/api/v1/me", auth=ALICE, headers=EVIL).headers
    assert "access-control-allow-origin" not in headers
    assert "access-control-allow-credentials" not in headers


def test_fixed_app_sends_json_as_json(fixed: httpx.Client) -> None:
    for path in PROTECTED:
        assert fixed.get(path, auth=ALICE).headers["content-type"] == "application/json"


def test_fixed_app_guards_every_data_route(fixed: httpx.Client) -> None:
    assert fixed.get("/api/v1/users/1/notes").status_code == 401
    assert fixed.get("/api/v1/users/1/notes", auth=ALICE).status_code == 200
    assert fixed.get("/api/v1/users/2/notes", auth=ALICE).status_code == 404  # bob's


def test_fixed_app_keeps_passwords_to_itself(fixed: httpx.Client) -> None:
    assert "password" not in fixed.get("/api/v1/me", auth=ALICE).json()
    assert fixed.get("/logs/app.log").status_code == 404
