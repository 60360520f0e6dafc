"""No artefact of a run shows a secret in full: the user's credentials and the secrets found in
responses are planted as unique canaries and searched for in stdout, stderr, the log file at
every level, and every report file written."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from middlebrick.cli import app
from middlebrick.demo.server import serve
from middlebrick.report import WRITERS

from targets.leaks import AWS_KEY, CARD, IBAN, SESSION_JWT, SSN, leaky_api

PASSWORD = "canary-pw-5d81c3f7e2"
TOKEN = "canary-hdr-0b6e94a1c7d3"
FOUND = (AWS_KEY, SESSION_JWT, CARD, SSN, IBAN)


@pytest.mark.parametrize("level", ["error", "warning", "info", "debug"])
def test_no_artefact_holds_a_secret_at_any_log_level(level: str, tmp_path: Path) -> None:
    log_file, out = tmp_path / "run.log", tmp_path / "reports"
    with serve(leaky_api()) as served:
        result = CliRunner().invoke(
            app,
            [
                "--log-level", level, "--log-file", str(log_file),
                "scan", served.url, "--output-dir", str(out),
                "--header", f"X-Api-Key: {TOKEN}",
                *(a for fmt in WRITERS for a in ("-f", fmt)),
            ],
            env={"MIDDLEBRICK_AUTH": f"alice:{PASSWORD}", "COLUMNS": "200"},
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    artefacts = {
        "stdout": result.stdout,
        "stderr": result.stderr,
        "log": log_file.read_text(),
        **{p.name: p.read_text() for p in out.iterdir()},
    }
    assert len(artefacts) == 3 + len(WRITERS)
    basic = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    for name, text in artefacts.items():
        for canary in (PASSWORD, basic, TOKEN, *FOUND, CARD.replace(" ", "")):
            assert canary not in text, f"{canary[:6]}… in {name}"
    # the canaries were there to leak: sent, echoed back, found
    report = json.loads((out / "middlebrick.json").read_text())
    found = {f["check_id"] for f in report["findings"]}
    assert {"MB-DATA-011", "MB-DATA-012", "MB-DATA-013", "MB-DATA-014"} <= found
    lines = artefacts["log"].splitlines()
    if level == "debug":  # one line per request, with its method and path
        assert sum(" -> " in line for line in lines) >= len(report["exchanges"]) > 10
        assert any("GET http" in line and "/me ->" in line for line in lines)
    if level in ("info", "debug"):
        assert any("phase recon" in line for line in lines)
    else:
        assert lines == []


def test_query_values_are_masked_in_request_lines() -> None:
    from middlebrick.http.exchange import url_for_log

    assert url_for_log("https://api.test/a?token=eyJhbGciOiJIUzI1NiJ9xyz&x=1&flag") == (
        "https://api.test/a?token=eyJh…(23)&x=…(1)&flag"
    )
    assert url_for_log("https://u:p@api.test/a") == "https://api.test/a"
    assert url_for_log("https://api.test/a/b") == "https://api.test/a/b"


def test_a_bad_log_level_is_one_line() -> None:
    result = CliRunner().invoke(app, ["--log-level", "loud", "checks"])
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("error: --log-level takes one of")
