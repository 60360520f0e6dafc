"""What the fix modules share: the type of a fix, and the Flask snippets read from the code that the
tests execute (`flask_snippets.py`), so the texts cannot drift from it.

The file is parsed, not imported: rendering a report must not load Flask.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from importlib.resources import files

# one text for every scheme, or one per scheme: {"basic", "bearer", "apikey", "any"}
Fix = str | dict[str, str]

_PRAGMA = re.compile(r"[ \t]+# type: ignore\[[\w,-]+\]$", re.M)


@cache
def _module() -> tuple[str, ast.Module]:
    source = files("middlebrick.remediation").joinpath("flask_snippets.py").read_text("utf-8")
    return source, ast.parse(source)


def source_of(name: str) -> str:
    """The source of one top-level function or class of flask_snippets, as the texts show it."""
    source, tree = _module()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name == name:
            segment = ast.get_source_segment(source, node)
            assert segment is not None
            return _PRAGMA.sub("", segment)
    raise KeyError(f"flask_snippets has no {name!r}")


def _imports_for(names: set[str]) -> list[str]:
    """The module's import lines, cut down to the names the snippet uses."""
    _, tree = _module()
    lines = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            used = [a.name for a in node.names if a.name.split(".")[0] in names]
            lines += [f"import {n}" for n in used]
        elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
            used = [a.name for a in node.names if (a.asname or a.name) in names]
            if used:
                lines.append(f"from {node.module} import {', '.join(used)}")
    return lines


def flask_code(*names: str) -> str:
    """A fenced Python block: the imports the named snippets need, then the snippets."""
    _, tree = _module()
    nodes = [n for n in tree.body if getattr(n, "name", None) in names]
    used = {n.id for node in nodes for n in ast.walk(node) if isinstance(n, ast.Name)}
    body = "\n\n\n".join(source_of(name) for name in names)
    return "```python\n" + "\n".join(_imports_for(used)) + "\n\n\n" + body + "\n```"


SCHEMES = ("basic", "bearer", "apikey", "any")


def per_scheme(text: str, **sentences: str) -> dict[str, str]:
    """One text per auth scheme: `text`, then the scheme's own sentence (basic, bearer, apikey,
    any); a scheme without a sentence gets `text` alone."""
    return {s: f"{text} {sentences[s]}" if sentences.get(s) else text for s in SCHEMES}
