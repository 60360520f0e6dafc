"""The fix texts: every check has one per framework (and per scheme where the scheme matters), the
Flask texts show the very code the Flask tests execute, every CWE a check maps to has its name,
and a real scan hands out the text for the API's framework and scheme."""

from __future__ import annotations

import inspect
import re

import pytest
from pydantic import SecretStr

from middlebrick.checks import ALL
from middlebrick.demo.server import serve
from middlebrick.remediation import (
    FIXES,
    FRAMEWORKS,
    fix_for,
    fixes,
    flask_snippets,
    scheme_of,
    schemes_markdown,
)
from middlebrick.remediation.cwe import NAMES, REQUIRED, cwe_table

from checks.conftest import scan_now
from targets import headers, transport

SCHEME_KEYS = {"basic", "bearer", "apikey", "any"}


@pytest.mark.parametrize("c", ALL, ids=lambda c: c.id)
def test_every_check_has_a_fix_for_every_framework(c: object) -> None:
    entry = FIXES[c.id]  # type: ignore[attr-defined]
    assert set(entry) == set(FRAMEWORKS)
    for framework, fix in entry.items():
        texts = fix.values() if isinstance(fix, dict) else [fix]
        if isinstance(fix, dict):
            assert set(fix) == SCHEME_KEYS, (framework, set(fix))
        for text in texts:
            assert len(text) > 40, (framework, text)
            assert text.count("```") % 2 == 0, "unbalanced code fence"


def test_no_check_is_fixed_in_two_modules() -> None:
    seen: dict[str, str] = {}
    for module in fixes.MODULES:
        for check_id in module.FIXES:
            assert check_id not in seen, f"{check_id} in {seen.get(check_id)} and {module}"
            seen[check_id] = module.__name__
    assert set(seen) == {c.id for c in ALL}


def test_scheme_dependent_fixes_are_scheme_dependent_in_every_framework() -> None:
    by_scheme = {c for c, entry in FIXES.items() for fix in entry.values() if isinstance(fix, dict)}
    assert {"MB-AUTH-003", "MB-AUTH-005", "MB-AUTH-006", "MB-ENC-001", "MB-ENC-003"} <= by_scheme
    assert {"MB-DATA-008", "MB-DATA-014"} <= by_scheme
    for check_id in by_scheme:
        assert all(isinstance(fix, dict) for fix in FIXES[check_id].values()), check_id


def test_fix_for_picks_framework_and_scheme() -> None:
    basic, framework = fix_for("MB-ENC-001", "flask", "basic")
    assert framework == "flask"
    assert "password itself" in basic
    bearer, _ = fix_for("MB-ENC-001", "flask", "bearer")
    assert "replayed" in bearer
    assert fix_for("MB-ENC-001", "flask") == fix_for("MB-ENC-001", "flask", "digest")
    assert fix_for("MB-ENC-001", "flask")[0] == FIXES["MB-ENC-001"]["flask"]["any"]  # type: ignore[index]
    # two-argument calls, unknown frameworks and unknown checks keep working
    assert fix_for("MB-CONF-002", "django")[1] == "django"
    assert fix_for("MB-CONF-002", "php")[1] == "generic"
    assert fix_for("MB-NOPE-001", "flask")[1] == "generic"


def test_scheme_of_prefers_given_credentials_then_challenges() -> None:
    assert scheme_of(["header:X-API-Key", "basic"]) == "apikey"
    assert scheme_of(["Bearer"]) == "bearer"
    assert scheme_of(["digest", "negotiate", "basic"]) == "basic"
    assert scheme_of(["digest"]) is None
    assert scheme_of([]) is None


def test_schemes_markdown_shows_the_shared_part_once() -> None:
    text = schemes_markdown(FIXES["MB-ENC-001"]["django"])
    assert text.count("SECURE_SSL_REDIRECT") == 1
    for label in ("- **Basic:**", "- **Bearer:**", "- **API key:**", "- **Any scheme:**"):
        assert label in text
    with_code = schemes_markdown(FIXES["MB-AUTH-003"]["flask"])
    assert "#### Basic" in with_code
    assert "#### API key" in with_code


def _source(obj: object) -> str:
    return re.sub(r"[ \t]+# type: ignore\[[\w,-]+\]$", "", inspect.getsource(obj), flags=re.M)


# where each snippet that the Flask tests execute is shown
SHOWN_IN = {
    "enforce_https": [("MB-ENC-001", "basic"), ("MB-ENC-002", None), ("MB-ENC-003", "any")],
    "hsts": [("MB-ENC-001", "any"), ("MB-ENC-005", None), ("MB-ENC-006", None)],
    "no_store": [("MB-DATA-001", None)],
    "nosniff": [("MB-CONF-001", None)],
    "cors_allow_list": [("MB-DATA-002", None), ("MB-DATA-003", None), ("MB-DATA-004", None)],
    "basic_auth": [("MB-AUTH-003", "basic")],
    "api_key_auth": [("MB-AUTH-003", "apikey")],
    "require_login": [("MB-AUTH-001", None), ("MB-AUTH-004", None)],
    "problem_errors": [("MB-DATA-009", None)],
    "CredentialMask": [("MB-DATA-008", "basic")],
    "mask_credentials_in_logs": [("MB-DATA-008", "bearer")],
}


@pytest.mark.parametrize("name", sorted(SHOWN_IN))
def test_flask_texts_show_the_executed_code(name: str) -> None:
    source = _source(getattr(flask_snippets, name))
    for check_id, auth in SHOWN_IN[name]:
        text, framework = fix_for(check_id, "flask", auth)
        assert framework == "flask"
        assert source in text, f"{check_id} does not show flask_snippets.{name}"


def test_every_flask_snippet_is_shown_somewhere() -> None:
    public = {
        name
        for name, obj in vars(flask_snippets).items()
        if (inspect.isfunction(obj) or inspect.isclass(obj))
        and obj.__module__ == flask_snippets.__name__
    }
    assert public - {"harden"} == set(SHOWN_IN)


def test_shown_flask_code_compiles_with_its_imports() -> None:
    """A snippet as shown (imports included) runs on its own: no name it needs is left out."""
    for name in SHOWN_IN:
        check_id, auth = SHOWN_IN[name][0]
        text = fix_for(check_id, "flask", auth)[0]
        for block in re.findall(r"```python\n(.*?)```", text, re.S):
            namespace: dict[str, object] = {}
            exec(compile(block, f"<{check_id}>", "exec"), namespace)
            assert all(
                callable(namespace[n]) for n in re.findall(r"^(?:def|class) (\w+)", block, re.M)
            )


def test_every_cwe_of_every_check_has_its_name() -> None:
    referenced = {n for c in ALL for n in c.cwe}
    assert referenced <= set(NAMES), referenced - set(NAMES)
    assert set(REQUIRED) <= set(NAMES)
    assert NAMES[532] == "Insertion of Sensitive Information into Log File"
    assert NAMES[215] == "Insertion of Sensitive Information Into Debugging Code"


def test_cwe_table_lists_each_check_under_its_category() -> None:
    table = cwe_table(ALL)
    rows = {(cat, r.number): r for cat, uses in table.items() for r in uses}
    assert {(c.category, n) for c in ALL for n in c.cwe} == set(rows)
    enc = rows[("encryption", 319)]
    assert "MB-ENC-001" in enc.checks
    assert enc.severities[0] == "high"


def test_scan_hands_out_the_fix_for_the_framework_and_scheme() -> None:
    """The engine passes the scheme the scan used: Basic for the notes API, Bearer for the token
    API, both Flask apps on plain HTTP."""
    creds = SecretStr(f"{headers.USER}:{headers.PASSWORD}")
    with serve(headers.leaky_flask()) as served:
        basic = scan_now(served.url, auth=creds, checks=("MB-ENC-001",))
    with serve(transport.token_api()) as served:
        bearer = scan_now(served.url, bearer=SecretStr(transport.TOKEN), checks=("MB-ENC-001",))
    [b] = basic.findings
    [t] = bearer.findings
    assert (b.framework, t.framework) == ("flask", "flask")
    assert b.remediation == fix_for("MB-ENC-001", "flask", "basic")[0]
    assert t.remediation == fix_for("MB-ENC-001", "flask", "bearer")[0]
