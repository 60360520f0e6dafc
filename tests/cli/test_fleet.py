"""`middlebrick scan-many`: a scan per target of a fleet file, against real loopback APIs."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

from flask import Flask, Response, jsonify, request
from typer.testing import CliRunner

from middlebrick.cli import app
from middlebrick.demo.apps import fixed_app, vulnerable_app
from middlebrick.demo.server import serve

from targets.clean import PASSWORD, USER, clean_api


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(tmp_path: Path, text: str, *args: str, env: dict[str, str] | None = None):
    fleet = tmp_path / "targets.yml"
    fleet.write_text(text)
    return CliRunner().invoke(
        app, ["scan-many", str(fleet), *args], env={"COLUMNS": "200", **(env or {})}
    )


def test_a_grade_per_target_and_one_that_cannot_be_scanned(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with serve(vulnerable_app()) as bad, serve(clean_api()) as good:
        result = _run(
            tmp_path,
            f"""
defaults:
  budget: 30
targets:
  - name: legacy
    target: {bad.url}
  - name: clean
    target: {good.url}
    auth_env: CLEAN_AUTH
  - target: http://127.0.0.1:{_closed_port()}
""",
            "--output-dir", str(out), "-f", "json", "-f", "sarif", "--summary", "json",
            env={"CLEAN_AUTH": f"{USER}:{PASSWORD}"},
        )  # fmt: skip
    assert result.exit_code == 3, result.output  # one target could not be scanned
    rows = json.loads(result.stdout)
    legacy, clean, down = rows
    assert (legacy["name"], clean["name"]) == ("legacy", "clean")
    assert down["name"].startswith("127.0.0.1-")  # named after its host and port
    assert legacy["grade"] == "F"
    assert legacy["findings"]["critical"] >= 3
    # plain HTTP with Basic credentials is its one (critical) finding
    assert (clean["grade"], clean["findings"], clean["error"]) == ("D", {"critical": 1}, None)
    assert down["grade"] is None
    assert "refused" in down["error"]
    assert json.loads((out / "summary.json").read_text()) == rows
    for name in ("legacy", "clean"):
        report = json.loads((out / name / "middlebrick.json").read_text())
        assert report["target"]["url"].startswith("http://127.0.0.1")
        assert (out / name / "middlebrick.sarif").is_file()
    assert not (out / down["name"]).exists()
    assert PASSWORD not in result.output


def test_the_gate_of_the_file_and_of_the_options(tmp_path: Path) -> None:
    with serve(vulnerable_app()) as bad, serve(fixed_app()) as good:
        text = (
            "defaults:\n  fail-on: high\n  skip: [MB-ENC-001]\n"
            f"targets:\n  - target: {bad.url}\n  - target: {good.url}\n"
        )
        failing = _run(tmp_path, text)
        passing = _run(tmp_path, text.replace(f"  - target: {bad.url}\n", ""))
    assert failing.exit_code == 1, failing.output
    assert "failing:" in failing.stdout
    assert "ok" in failing.stdout
    assert passing.exit_code == 0, passing.output


def test_two_targets_of_one_origin_are_never_scanned_at_once(tmp_path: Path) -> None:
    spans: list[tuple[str, float, float]] = []
    lock = threading.Lock()
    api = Flask("shared-origin")

    @api.before_request
    def started() -> None:
        request.environ["started"] = time.monotonic()

    @api.after_request
    def finished(response: Response) -> Response:
        base = request.path.strip("/").split("/")[0]
        with lock:
            spans.append((base, request.environ["started"], time.monotonic()))
        return response

    @api.get("/<base>/")
    @api.get("/<base>/<path:rest>")
    def anything(base: str, rest: str = "") -> Response:
        time.sleep(0.01)
        return jsonify(base=base, items=[1, 2, 3])

    with serve(api) as served:
        result = _run(
            tmp_path,
            f"targets:\n  - target: {served.url}/a\n  - target: {served.url}/b\n",
            "--concurrency", "4", "--summary", "json",
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    a = [(s, e) for base, s, e in spans if base == "a"]
    b = [(s, e) for base, s, e in spans if base == "b"]
    assert len(a) > 5
    assert len(b) > 5
    # one scan's requests all end before the other's begin
    assert max(e for _, e in a) < min(s for s, _ in b) or max(e for _, e in b) < min(
        s for s, _ in a
    )


def test_a_bad_file_stops_before_anything_is_sent(tmp_path: Path) -> None:
    hits: list[str] = []
    api = Flask("untouched")

    @api.before_request
    def record() -> None:
        hits.append(request.path)

    with serve(api) as served:
        cases = {
            f"targets:\n  - target: {served.url}\n    auth_env: NOT_SET_ANYWHERE\n": "NOT_SET",
            f"targets:\n  - target: {served.url}\n  - target: {served.url}/\n": "already used",
            f"targets:\n  - target: {served.url}\n    budjet: 5\n": "budjet",
            f"targets:\n  - target: {served.url}\n    password: hunter2\n": "credential",
            "targets: []\n": "targets",
            "targets:\n  - spec: x.yaml\n": "`target`",
            "- just\n- a list\n": "top level",
        }
        for text, expected in cases.items():
            result = _run(tmp_path, text)
            assert result.exit_code == 2, (text, result.output)
            assert expected in result.stderr, (text, result.stderr)
            assert result.stderr.count("\n") == 1
    assert hits == []
