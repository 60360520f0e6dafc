"""Load an OpenAPI (3.x) or Swagger (2.0) document from a file or URL into plain data.

Parsing is deliberately conservative: YAML is read with the safe loader and a size cap, and every
failure becomes a `SpecError` naming the file and, where the parser knows it, the line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from middlebrick.errors import SpecError

MAX_SPEC_BYTES = 50 * 1024 * 1024


def load(source: str) -> dict[str, Any]:
    """The document in file `source` as a dict (URLs are fetched by the engine, then `parse`d)."""
    path = Path(source)
    try:
        if path.stat().st_size > MAX_SPEC_BYTES:
            raise SpecError(f"{source}: larger than {MAX_SPEC_BYTES >> 20} MB")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(
            f"cannot read spec {source}: {getattr(exc, 'strerror', None) or exc}"
        ) from None
    return parse(text, source)


def parse(text: str, source: str) -> dict[str, Any]:
    try:
        doc = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise SpecError(f"{source}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(f"{source}{where}: invalid YAML: {problem}") from None
    except RecursionError:
        raise SpecError(f"{source}: nested too deeply to parse") from None
    if not isinstance(doc, dict) or not ("openapi" in doc or "swagger" in doc):
        raise SpecError(f"{source}: not an OpenAPI or Swagger document (no 'openapi' field)")
    if not isinstance(doc.get("paths", {}), dict):
        raise SpecError(f"{source}: 'paths' must be a mapping")
    return doc
