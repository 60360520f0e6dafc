"""CI semantics end to end through the real CLI against real loopback servers: .middlebrick.yml,
--fail-on, --min-grade, suppressions, --baseline, diff, several formats, re-rendering."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from middlebrick.cli import app
from middlebrick.demo.server import serve

from targets.headers import careful_flask, leaky_flask

runner = CliRunner()


@pytest.fixture(scope="module")
def leaky() -> Iterator[str]:
    with serve(leaky_flask()) as served:
        yield served.url


@pytest.fixture(scope="module")
def careful() -> Iterator[str]:
    with serve(careful_flask()) as served:
        yield served.url


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return runner.invoke(app, list(args), env={"COLUMNS": "200", **(env or {})})


def saved(tmp_path: Path, url: str, name: str) -> Path:
    path = tmp_path / name
    result = run("scan", url, "-q", "-f", "json", "-o", str(path))
    assert result.exit_code == 0, result.output
    return path


def test_fail_on_and_min_grade_set_exit_code_1(leaky: str) -> None:
    failing = run("scan", leaky, "-q", "-f", "json", "--fail-on", "critical")
    assert failing.exit_code == 1
    assert "finding(s) at or above critical" in failing.stderr
    assert json.loads(failing.stdout)["score"]["grade"] == "D"
    assert run("scan", leaky, "-q", "--min-grade", "C").exit_code == 1
    assert run("scan", leaky, "-q", "--min-grade", "d").exit_code == 0
    bad = run("scan", leaky, "-q", "--min-grade", "Z")
    assert bad.exit_code == 2
    assert "--min-grade takes A, B, C, D or F" in bad.stderr


def test_config_file_supplies_target_credentials_and_gate(
    leaky: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".middlebrick.yml").write_text(
        f"target: {leaky}\nauth_env: API_BASIC\nfail-on: high\nformat: [json]\nbudget: 30\n"
    )
    monkeypatch.chdir(tmp_path)
    result = run("scan", "-q", env={"API_BASIC": "ann:correct-horse"})
    assert result.exit_code == 1  # CORS findings are high
    report = json.loads(result.stdout)
    assert report["config"]["credentials"] == ["basic"]
    assert report["config"]["budget"] == 30
    assert "correct-horse" not in result.output
    # an option on the command line wins over the file
    assert (
        run(
            "scan",
            "-q",
            "--fail-on",
            "critical",
            "--skip",
            "MB-ENC-001",
            env={"API_BASIC": "ann:correct-horse"},
        ).exit_code
        == 0
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("target: http://127.0.0.1:9\nauth: ann:secret\n", "`auth` would put a credential"),
        ("target: http://127.0.0.1:9\nfail_onn: high\n", "fail_onn: Extra inputs"),
        ("target: http://127.0.0.1:9\nauth_env: NOT_SET_ANYWHERE\n", "$NOT_SET_ANYWHERE"),
        ("target: [unclosed\n", "not valid YAML"),
        ("- a list\n", "expected a mapping"),
        ("suppress: [{check: MB-ENC-001}]\n", "suppress.0.reason: Field required"),
    ],
)
def test_bad_config_is_one_line_and_exit_2(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "mb.yml"
    path.write_text(text)
    result = run("scan", "--config", str(path), "-q")
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) <= 2  # one line, wrapped at most once


def test_suppressions_accept_findings_with_a_reason_until_they_expire(
    leaky: str, tmp_path: Path
) -> None:
    path = tmp_path / "mb.yml"
    path.write_text(
        "suppress:\n"
        "  - check: MB-DATA-005\n"
        "    reason: the version header is stripped by the edge proxy\n"
        "  - check: MB-CONF-001\n"
        "    endpoint: 'GET http://127.0.0.1:*/'\n"
        "    reason: fixed in the next release\n"
        "    expires: 2020-01-01\n"
        "  - check: MB-AUTH-001\n"
        "    reason: a typo that matches nothing\n"
    )
    result = run("scan", leaky, "-q", "-f", "json", "--config", str(path))
    report = json.loads(result.stdout)
    ids = {f["check_id"] for f in report["findings"]}
    assert "MB-DATA-005" not in ids
    assert [s["check_id"] for s in report["suppressed"]] == ["MB-DATA-005"]
    assert report["suppressed"][0]["suppression"]["reason"].startswith("the version header")
    assert "MB-CONF-001" in ids  # expired: reported again
    assert any("expired on 2020-01-01" in n for n in report["notes"])
    assert any("MB-AUTH-001" in n and "matched no finding" in n for n in report["notes"])
    plain = json.loads(run("scan", leaky, "-q", "-f", "json").stdout)
    assert report["score"]["score"] >= plain["score"]["score"]
    assert plain["suppressed"] == []


def test_baseline_gates_only_new_findings_and_lists_fixed_ones(
    leaky: str, careful: str, tmp_path: Path
) -> None:
    before = saved(tmp_path, leaky, "before.json")
    # the same API again: everything unchanged, so --fail-on passes
    again = run("scan", leaky, "-q", "-f", "json", "--baseline", str(before), "--fail-on", "low")
    assert again.exit_code == 0, again.stderr
    states = {f["baseline_state"] for f in json.loads(again.stdout)["findings"]}
    assert states == {"unchanged"}
    # the careful API against the leaky baseline: fixed findings are listed
    fixed = json.loads(run("scan", careful, "-q", "-f", "json", "--baseline", str(before)).stdout)
    assert {f["check_id"] for f in fixed["fixed"]} >= {"MB-DATA-002", "MB-DATA-003"}
    # the leaky API against a careful baseline: new findings fail the build
    clean = saved(tmp_path, careful, "clean.json")
    worse = run("scan", leaky, "-q", "-f", "json", "--baseline", str(clean), "--fail-on", "high")
    assert worse.exit_code == 1
    assert "new finding(s) at or above high" in worse.stderr
    # diff prints the same comparison
    after = saved(tmp_path, leaky, "after.json")
    shown = run("diff", str(clean), str(after), "-f", "json", "--fail-on", "high")
    assert shown.exit_code == 1
    groups = json.loads(shown.stdout)
    assert {f["check_id"] for f in groups["new"]} >= {"MB-DATA-002", "MB-DATA-003"}
    assert groups["fixed"] == []
    text = run("diff", str(before), str(after))
    assert text.exit_code == 0
    assert "0 new" in text.stdout


def test_a_missing_or_foreign_baseline_is_a_usage_error(leaky: str, tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text('{"not": "a report"}')
    for path in (tmp_path / "missing.json", tmp_path / "x.json"):
        result = run("scan", leaky, "-q", "--baseline", str(path))
        assert result.exit_code == 2
        assert str(path) in result.stderr


def test_several_formats_go_to_an_output_dir(leaky: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run("scan", leaky, "-q", "-f", "json", "-f", "text", "--output-dir", str(out))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["middlebrick.json", "middlebrick.txt"]
    assert json.loads((out / "middlebrick.json").read_text())["score"]["grade"] == "D"
    refused = run("scan", leaky, "-q", "-f", "json", "-f", "text")
    assert refused.exit_code == 2
    assert "--output-dir" in refused.stderr
    unknown = run("scan", leaky, "-q", "-f", "pdf")
    assert unknown.exit_code == 2
    assert "unknown format pdf" in unknown.stderr


def test_report_re_renders_a_saved_report_without_scanning(leaky: str, tmp_path: Path) -> None:
    path = saved(tmp_path, leaky, "r.json")
    text = run("report", str(path))
    assert text.exit_code == 0
    assert "MB-DATA-002" in text.stdout
    assert json.loads(run("report", str(path), "-f", "json").stdout) == json.loads(path.read_text())
    assert run("report", str(path), "--fail-on", "high").exit_code == 1
    assert run("report", str(tmp_path / "nope.json")).exit_code == 2
