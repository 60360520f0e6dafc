"""The bundled demo: its apps behave as documented, and `middlebrick demo` tells them apart."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from middlebrick.cli import app as cli
from middlebrick.demo.apps import DEMO_PASSWORD, DEMO_USER, fixed_app, vulnerable_app
from middlebrick.demo.server import serve
from middlebrick.demo.tls import local_ca, server_context

CREDS = (DEMO_USER, DEMO_PASSWORD)


def test_vulnerable_app_makes_its_documented_mistakes(tmp_path: Path) -> None:
    with serve(vulnerable_app(log_dir=tmp_path)) as api, httpx.Client(base_url=api.url) as http:
        assert http.get("/api/v1/me").status_code == 401
        assert http.get("/api/v1/me").headers["www-authenticate"].startswith("Basic")
        me = http.get("/api/v1/me", auth=CREDS)
        assert me.status_code == 200
        assert "cache-control" not in me.headers
        assert me.json()["password"] == DEMO_PASSWORD
        assert http.get("/api/v1/users/2/notes").status_code == 200  # forgot login_required
        assert (
            http.get("/api/v1/export", auth=CREDS).headers["content-type"].startswith("text/html")
        )
        cors = http.get("/api/v1/me", auth=CREDS, headers={"Origin": "https://evil.test"})
        assert cors.headers["access-control-allow-origin"] == "https://evil.test"
        assert DEMO_PASSWORD in http.get("/logs/app.log").text
        assert me.headers["server"].startswith("Werkzeug/")


def test_fixed_app_makes_none_of_them(tmp_path: Path) -> None:
    ca = local_ca()
    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    verify = ssl.create_default_context(cafile=str(pem))
    with (
        serve(fixed_app(), tls=server_context(ca), ca_pem=pem, server_header="api") as api,
        httpx.Client(base_url=api.url, verify=verify) as http,
    ):
        assert api.url.startswith("https://")
        assert http.get("/api/v1/me").status_code == 401
        me = http.get("/api/v1/me", auth=CREDS)
        assert me.status_code == 200
        assert me.headers["cache-control"] == "no-store"
        assert me.headers["strict-transport-security"].startswith("max-age=31536000")
        assert me.headers["x-content-type-options"] == "nosniff"
        assert me.headers["server"] == "api"
        assert "password" not in me.json()
        assert http.get("/api/v1/users/2/notes").status_code == 401
        assert http.get("/api/v1/export", auth=CREDS).headers["content-type"] == "application/json"
        assert (
            "access-control-allow-origin"
            not in http.get(
                "/api/v1/me", auth=CREDS, headers={"Origin": "https://evil.test"}
            ).headers
        )
        assert http.get("/logs/app.log").status_code == 404


def test_an_expired_certificate_is_refused_by_a_verifying_client(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    ca = local_ca()
    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    past = datetime.now(UTC) - timedelta(days=30)
    context = server_context(ca, not_before=past - timedelta(days=365), not_after=past)
    with (
        serve(fixed_app(), tls=context) as api,
        httpx.Client(verify=ssl.create_default_context(cafile=str(pem))) as http,
        pytest.raises(httpx.ConnectError, match="certificate has expired"),
    ):
        http.get(api.url)


def test_demo_command_scans_both_twins_and_the_fixed_one_gets_an_a() -> None:
    result = CliRunner().invoke(cli, ["demo"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    summary = result.output.split("summary")[-1]
    vulnerable = next(line for line in summary.splitlines() if "vulnerable" in line)
    fixed = next(line for line in summary.splitlines() if "fixed" in line)
    assert "grade A" in fixed
    assert "score 100/100" in fixed
    assert "grade A" not in vulnerable
    for check_id in (
        "MB-AUTH-001",  # the route that forgot @auth.login_required
        "MB-ENC-001",  # Basic auth over plain HTTP
        "MB-DATA-001",  # no Cache-Control: no-store
        "MB-DATA-002",  # CORS reflecting any origin
        "MB-DATA-005",  # the Werkzeug version
        "MB-DATA-008",  # the served log file with passwords in it
        "MB-DATA-013",  # the plaintext password in /me
        "MB-DATA-014",  # ... which is the caller's own
        "MB-CONF-002",  # JSON sent as text/html
    ):
        assert check_id in result.output
    assert DEMO_PASSWORD not in result.output
