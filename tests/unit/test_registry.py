"""The registry is the single list of checks: unique ids, complete metadata, and tests for each."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

from middlebrick import checks
from middlebrick.checks import ALL, BY_ID
from middlebrick.checks._check import Check, check
from middlebrick.model import Category, Kind, Severity

TESTS = Path(__file__).resolve().parents[1]


def test_every_check_is_listed_once_with_a_unique_id() -> None:
    ids = [c.id for c in ALL]
    assert len(ids) == len(set(ids))
    assert set(BY_ID) == set(ids)
    assert all(isinstance(c, Check) for c in ALL)


def test_every_check_module_function_is_registered() -> None:
    registered = {c.fn for c in ALL}
    modules = [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(checks.__path__, prefix="middlebrick.checks.")
    ]
    assert len(modules) > 10
    for module in modules:
        declared = {v.fn for v in vars(module).values() if isinstance(v, Check)}
        assert declared <= registered, f"{module.__name__} has checks missing from ALL"


@pytest.mark.parametrize("c", ALL, ids=lambda c: c.id)
def test_check_metadata_is_complete(c: Check) -> None:
    assert re.fullmatch(r"MB-[A-Z]+-\d{3}", c.id)
    assert c.title
    assert c.title[0].isupper() or c.title[0].isdigit()
    assert not c.title.endswith(".")
    assert c.cwe
    assert all(isinstance(n, int) and n > 0 for n in c.cwe)
    assert re.fullmatch(r"API\d{1,2}:2023", c.owasp)
    assert len(c.summary) > 20, "the docstring's first paragraph is the check's summary"
    assert c.kind in (Kind.PASSIVE, Kind.ACTIVE, Kind.STATIC)


def _tests_by_check() -> dict[str, set[str]]:
    """check id -> names of test functions marked with it (read from the source, not run)."""
    found: dict[str, set[str]] = {}
    for path in TESTS.rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for deco in node.decorator_list:
                if (
                    isinstance(deco, ast.Call)
                    and ast.unparse(deco.func).endswith("mark.check")
                    and deco.args
                    and isinstance(deco.args[0], ast.Constant)
                ):
                    found.setdefault(str(deco.args[0].value), set()).add(node.name)
    return found


@pytest.mark.parametrize("c", ALL, ids=lambda c: c.id)
def test_every_check_has_a_flagging_and_a_clean_test(c: Check) -> None:
    names = _tests_by_check().get(c.id, set())
    assert any("_flags_" in n for n in names), f"{c.id}: no test_<check>_flags_<case>"
    assert any("_ignores_" in n for n in names), f"{c.id}: no test_<check>_ignores_<case>"


def test_check_decorator_refuses_an_id_from_another_category() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        check(
            id="MB-ENC-999",
            title="x",
            category=Category.DATA_EXPOSURE,
            severity=Severity.LOW,
            cwe=(1,),
            owasp="API8:2023",
            kind=Kind.PASSIVE,
        )


def test_check_decorator_requires_a_docstring() -> None:
    register = check(
        id="MB-DATA-999",
        title="x",
        category=Category.DATA_EXPOSURE,
        severity=Severity.LOW,
        cwe=(1,),
        owasp="API8:2023",
        kind=Kind.PASSIVE,
    )
    with pytest.raises(ValueError, match="docstring"):
        register(lambda ctx: iter(()))
