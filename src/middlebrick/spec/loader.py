"""Load an OpenAPI (3.x) or Swagger (2.0) document from a file or URL into plain data.

Parsing is deliberately conservative: YAML is read with the safe loader and a size cap, and every
failure becomes a `SpecError` naming the file and, where the parser knows it, the line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import yaml

from middlebrick.errors import SpecError

MAX_SPEC_BYTES = 50 * 1024 * 1024


def load(source: str, *, verify: object = True, timeout: float = 10.0) -> dict[str, Any]:
    """The document as a dict; `source` is a path or an http(s) URL."""
    if source.startswith(("http://", "https://")):
        text = _fetch(source, verify=verify, timeout=timeout)
    else:
        path = Path(source)
        try:
            if path.stat().st_size > MAX_SPEC_BYTES:
                raise SpecError(f"{source}: larger than {MAX_SPEC_BYTES >> 20} MB")
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SpecError(f"cannot read spec {source}: {exc}") from None
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


def _fetch(url: str, *, verify: object, timeout: float) -> str:
    try:
        with (
            httpx.Client(verify=verify, timeout=timeout, follow_redirects=False) as client,  # type: ignore[arg-type]
            client.stream(
                "GET", url, headers={"Accept": "application/json, application/yaml"}
            ) as r,
        ):
            if r.status_code != 200:
                raise SpecError(f"spec URL {url} answered HTTP {r.status_code}")
            chunks, size = [], 0
            for chunk in r.iter_bytes():
                size += len(chunk)
                if size > MAX_SPEC_BYTES:
                    raise SpecError(f"spec URL {url}: larger than {MAX_SPEC_BYTES >> 20} MB")
                chunks.append(chunk)
            return b"".join(chunks).decode("utf-8", errors="replace")
    except httpx.HTTPError as exc:
        raise SpecError(f"cannot fetch spec {url}: {exc}") from None
