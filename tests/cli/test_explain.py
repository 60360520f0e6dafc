"""`middlebrick explain`: a check's documentation and fix per framework and scheme, the CWE table,
and one-line errors with suggestions for ids that do not exist."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from middlebrick.checks import ALL, BY_ID
from middlebrick.cli import app
from middlebrick.remediation import FRAMEWORKS, fix_for
from middlebrick.remediation.cwe import NAMES

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def test_explain_prints_metadata_doc_and_the_fix_for_framework_and_scheme() -> None:
    code, out, _ = run("explain", "MB-ENC-001", "--framework", "flask", "--auth", "basic")
    assert code == 0
    c = BY_ID["MB-ENC-001"]
    assert out.startswith(f"# MB-ENC-001: {c.title}\n")
    assert "**severity:** high" in out
    assert "CWE-319 Cleartext Transmission of Sensitive Information" in out
    assert "CWE-523 Unprotected Transport of Credentials" in out
    assert "API8:2023 Security Misconfiguration" in out
    assert "426 Upgrade Required" in out  # the whole docstring, not only its summary
    assert "## How to fix it (flask, Basic)" in out
    assert fix_for("MB-ENC-001", "flask", "basic")[0] in out
    assert "def enforce_https(app: Flask" in out
    assert "replayed" not in out  # the bearer sentence belongs to another scheme


def test_explain_without_auth_shows_every_scheme_and_says_so() -> None:
    code, out, err = run("explain", "mb-auth-003", "--framework", "express")
    assert code == 0
    assert "## How to fix it (express, per auth scheme)" in out
    for label in ("**Basic:**", "**Bearer:**", "**API key:**", "**Any scheme:**"):
        assert label in out
    assert "--auth" in err


def test_explain_defaults_to_the_generic_fix() -> None:
    code, out, err = run("explain", "MB-CONF-002")
    assert code == 0
    assert "## How to fix it (generic)" in out
    assert fix_for("MB-CONF-002", "generic")[0] in out
    assert err == ""


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_explain_works_for_every_check_and_framework(framework: str) -> None:
    for c in ALL:
        code, out, _ = run("explain", c.id, "--framework", framework)
        assert code == 0, (c.id, out)
        assert f"# {c.id}: {c.title}" in out


def test_explain_unknown_id_exits_2_with_suggestions() -> None:
    code, out, err = run("explain", "MB-AUHT-001")
    assert code == 2
    assert out == ""
    [line] = err.strip().splitlines()
    assert line.startswith("error: unknown check id 'MB-AUHT-001'; did you mean MB-AUTH-001")


def test_explain_far_off_id_points_at_the_list() -> None:
    code, _, err = run("explain", "XSS")
    assert code == 2
    assert "see `middlebrick checks`" in err


def test_explain_needs_an_id_or_cwe() -> None:
    code, _, err = run("explain")
    assert code == 2
    assert "give a check id" in err


def test_explain_rejects_unknown_framework_and_scheme() -> None:
    assert run("explain", "MB-ENC-001", "--framework", "rails")[0] == 2
    assert run("explain", "MB-ENC-001", "--auth", "digest")[0] == 2


def test_explain_cwe_prints_every_cwe_per_category_with_names() -> None:
    code, out, _ = run("explain", "--cwe")
    assert code == 0
    for category in {c.category for c in ALL}:
        assert f"## {category}\n" in out
    for c in ALL:
        for n in c.cwe:
            assert (
                f"[CWE-{n}](https://cwe.mitre.org/data/definitions/{n}.html) | {NAMES[n]} |" in out
            )
            assert c.id in out
    for n in (200, 209, 213, 215, 312, 359, 522, 532, 538, 540):
        assert f"CWE-{n}]" in out
    row = next(line for line in out.splitlines() if line.startswith("| [CWE-532]"))
    assert "MB-DATA-008" in row
    assert "high" in row
