"""`middlebrick scan --upload URL` against a real served dashboard: the report lands as a
finished scan; a missing token or an unsafe URL stops before scanning (exit 2); a failed upload
is one line and exit 3 after the local report was written; the token goes nowhere else."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask, Response, redirect
from typer.testing import CliRunner, Result

from middlebrick.cli import app
from middlebrick.cli.upload import destination
from middlebrick.demo.server import serve
from middlebrick.errors import ConfigError
from middlebrick.model import Report
from middlebrick.web.app import create_app
from middlebrick.web.settings import WebSettings
from middlebrick.web.store import ScanStatus, Store, UserRecord

from targets.headers import careful_flask, leaky_flask
from targets.raw import closed_port
from targets.recording import Log, recording_app

runner = CliRunner()


@dataclass(frozen=True)
class Served:
    url: str
    store: Store
    user: UserRecord
    token: str


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    database = f"sqlite:///{tmp_path_factory.mktemp('dashboard') / 'dashboard.db'}"
    store = Store(database)
    store.migrate()
    user = store.create_user("ci", "ci-password-not-used-1")
    token = store.create_api_token(user.id, "ci")
    try:
        with serve(create_app(WebSettings(database_url=database), store=store), asgi=True) as s:
            yield Served(s.url, store, user, token)
    finally:
        store.close()


@pytest.fixture(scope="module")
def careful() -> Iterator[str]:
    with serve(careful_flask()) as served:
        yield served.url


def run(*args: str, token: str | None) -> Result:
    return runner.invoke(
        app, list(args), env={"COLUMNS": "200", "MIDDLEBRICK_TOKEN": token}, catch_exceptions=False
    )


def test_upload_keeps_the_report_as_a_finished_scan(
    dashboard: Served, careful: str, tmp_path: Path
) -> None:
    saved = tmp_path / "report.json"
    result = run(
        "scan", careful, "-q", "-f", "json", "-o", str(saved), "--upload", dashboard.url,
        token=dashboard.token,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    local = Report.model_validate_json(saved.read_text())
    scans = [s for s in dashboard.store.list_scans(dashboard.user.id) if s.target_url == careful]
    assert len(scans) == 1
    assert scans[0].status == ScanStatus.DONE
    assert (scans[0].grade, scans[0].score) == (local.score.grade, local.score.score)
    assert dashboard.store.report(dashboard.user.id, scans[0].id) == local
    assert f"report uploaded: {dashboard.url}/scans/{scans[0].id}" in result.stderr
    assert dashboard.token not in result.output + result.stderr


def test_the_ci_gate_still_decides_after_an_upload(dashboard: Served) -> None:
    with serve(leaky_flask()) as leaky:
        result = run(
            "scan", leaky.url, "-q", "-f", "json", "--fail-on", "high", "--upload", dashboard.url,
            token=dashboard.token,
        )  # fmt: skip
        assert result.exit_code == 1, result.stderr
        assert "report uploaded:" in result.stderr
        uploaded = [
            s for s in dashboard.store.list_scans(dashboard.user.id) if s.target_url == leaky.url
        ]
        assert [s.grade for s in uploaded] == [json.loads(result.stdout)["score"]["grade"]]


@pytest.mark.parametrize(
    ("upload", "token", "message"),
    [
        ("http://127.0.0.1:8000", None, "MIDDLEBRICK_TOKEN"),
        ("http://127.0.0.1:8000", "  ", "MIDDLEBRICK_TOKEN"),
        ("http://dashboard.example.test", "mbk_x", "use https://"),
        ("http://10.0.0.7:8000", "mbk_x", "use https://"),
        ("https://ci:hunter2-in-url@dashboard.example.test", "mbk_x", "not in the URL"),
        ("ftp://dashboard.example.test", "mbk_x", "only http:// and https://"),
        ("https://dashboard.example.test/?token=abc", "mbk_x", "without a query"),
    ],
)
def test_unusable_upload_settings_stop_before_scanning(
    upload: str, token: str | None, message: str
) -> None:
    log = Log()
    with serve(recording_app(log)) as target:
        result = run("scan", target.url, "-q", "-f", "json", "--upload", upload, token=token)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "hunter2" not in result.stderr
    assert log.entries == []  # nothing was scanned
    assert result.stdout == ""


def test_a_refused_token_is_exit_3_after_the_report_was_written(
    dashboard: Served, careful: str, tmp_path: Path
) -> None:
    saved = tmp_path / "report.json"
    wrong = "mbk_" + "w" * 43
    result = run(
        "scan", careful, "-q", "-f", "json", "-o", str(saved), "--upload", dashboard.url,
        token=wrong,
    )  # fmt: skip
    assert result.exit_code == 3
    assert Report.model_validate_json(saved.read_text()).target.url == careful
    error = result.stderr.strip().splitlines()[-1]
    assert error == (
        f"error: upload to {dashboard.url}/api/v1/reports failed: the dashboard refused the token "
        "in $MIDDLEBRICK_TOKEN (401)"
    )
    assert wrong not in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_an_unreachable_dashboard_is_exit_3_and_keeps_stdout(careful: str) -> None:
    port = closed_port()
    result = run(
        "scan", careful, "-q", "-f", "json", "--upload", f"http://127.0.0.1:{port}",
        token="mbk_x",
    )  # fmt: skip
    assert result.exit_code == 3
    assert Report.model_validate_json(result.stdout).target.url == careful
    assert "cannot connect" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_redirect_does_not_carry_the_token_elsewhere(careful: str) -> None:
    elsewhere = Log()
    with serve(recording_app(elsewhere)) as sink:
        mover = Flask("mover")

        @mover.post("/api/v1/reports")
        def moved() -> Response:
            return redirect(f"{sink.url}/api/v1/reports", 307)  # type: ignore[return-value]

        with serve(mover) as moving:
            result = run(
                "scan", careful, "-q", "-f", "json", "--upload", moving.url, token="mbk_secret1",
            )  # fmt: skip
    assert result.exit_code == 3
    assert "redirected (307)" in result.stderr
    assert elsewhere.entries == []


def test_a_dashboard_that_refuses_the_report_is_quoted_in_one_line(careful: str) -> None:
    refusing = Flask("refusing")

    @refusing.post("/api/v1/reports")
    def refuse() -> Response:
        problem = {"title": "Content Too Large", "status": 413, "detail": "too\nbig  for us"}
        return Response(json.dumps(problem), 413, mimetype="application/problem+json")

    with serve(refusing) as served:
        result = run("scan", careful, "-q", "-f", "json", "--upload", served.url, token="mbk_x")
    assert result.exit_code == 3
    assert result.stderr.strip().endswith("the dashboard answered 413: too big for us")


def test_destination_accepts_loopback_http_and_any_https() -> None:
    env = {"MIDDLEBRICK_TOKEN": "mbk_token"}
    assert destination("localhost:8000", env).endpoint == "http://localhost:8000/api/v1/reports"
    assert destination("http://[::1]:8000/", env).endpoint == "http://[::1]:8000/api/v1/reports"
    assert (
        destination("https://ci.example.test/middlebrick/", env).endpoint
        == "https://ci.example.test/middlebrick/api/v1/reports"
    )
    assert destination("https://ci.example.test", env).token.get_secret_value() == "mbk_token"
    with pytest.raises(ConfigError, match="MIDDLEBRICK_TOKEN"):
        destination("https://ci.example.test", {})
