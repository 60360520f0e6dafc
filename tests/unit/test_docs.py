"""The generated docs (one page per check, the index, the report schema) match the code."""

from __future__ import annotations

import importlib.util
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_generated_docs_are_current() -> None:
    spec = importlib.util.spec_from_file_location("generate", DOCS / "generate.py")
    assert spec
    assert spec.loader
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    stale = [
        str(path.relative_to(DOCS))
        for path, text in generate.pages(DOCS).items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
    assert not stale, f"run `make docs`: {stale}"
    pages = {p.name for p in (DOCS / "checks").glob("MB-*.md")}
    expected = {path.name for path in generate.pages(DOCS) if path.name.startswith("MB-")}
    assert pages == expected, "pages of checks that no longer exist must be removed"
