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
# Nodes the document would have with every YAML alias expanded. Aliases are cheap to write and
# expensive to walk: nine levels of nine aliases ("billion laughs") are a 10^9-node document.
MAX_EXPANDED_NODES = 2_000_000


def _safe_yaml(text: str, source: str) -> Any:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node) > MAX_EXPANDED_NODES:
            raise SpecError(
                f"{source}: YAML aliases expand to more than {MAX_EXPANDED_NODES:,} nodes "
                "(an alias bomb?)"
            )
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _expanded_size(root: yaml.Node) -> int:
    """Node count with aliases expanded, computed over the shared graph without expanding it."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            on_path.discard(key)
            kids = _children(node)
            sizes[key] = min(MAX_EXPANDED_NODES + 1, 1 + sum(sizes[id(k)] for k in kids))
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise yaml.YAMLError("a YAML alias refers to itself")
        on_path.add(key)
        stack.append((node, True))
        stack.extend((k, False) for k in _children(node) if id(k) not in sizes)
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


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


def parse_any(path: Path) -> Any:
    """A JSON or YAML file beside a spec (for external `$ref`s): any document, size-capped."""
    try:
        if path.stat().st_size > MAX_SPEC_BYTES:
            raise SpecError(f"{path}: larger than {MAX_SPEC_BYTES >> 20} MB")
        text = path.read_text(encoding="utf-8")
        return (
            json.loads(text)
            if text.lstrip().startswith(("{", "["))
            else _safe_yaml(text, str(path))
        )
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError, RecursionError) as exc:
        raise SpecError(f"{path}: {exc}") from None


def parse(text: str, source: str) -> dict[str, Any]:
    """Parse JSON or YAML text into an OpenAPI/Swagger document, or raise `SpecError`."""
    if len(text) > MAX_SPEC_BYTES:
        raise SpecError(f"{source}: larger than {MAX_SPEC_BYTES >> 20} MB")
    try:
        doc = json.loads(text) if text.lstrip().startswith("{") else _safe_yaml(text, source)
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
