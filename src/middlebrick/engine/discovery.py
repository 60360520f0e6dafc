"""Inventory: the operations a scan tests — from the OpenAPI document when given, else the root and
the same-origin links the API's own responses point to (bounded)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

from middlebrick.checks._context import Target
from middlebrick.engine.scope import Scope
from middlebrick.http.exchange import Exchange
from middlebrick.spec.operations import Operation, Source, operations_from

MAX_LINKS = 40


def inventory(
    target: Target, doc: dict[str, Any] | None, root: Exchange, scope: Scope
) -> list[Operation]:
    ops = operations_from(doc, target.origin.url) if doc is not None else []
    ops.append(Operation("GET", "/", target.origin.url + (target.base_path or "/"), Source.ROOT))
    if doc is None:
        for url in links(root, scope):
            ops.append(Operation("GET", urlsplit(url).path, url, Source.LINK))
    unique: dict[tuple[str, str], Operation] = {}
    for op in ops:
        unique.setdefault((op.method, op.url), op)
    return list(unique.values())


def links(ex: Exchange, scope: Scope) -> list[str]:
    """Same-origin URLs named in a JSON response's string values (API roots, HAL, JSON:API)."""
    resp = ex.response
    if resp is None or not resp.body or not resp.looks_like_json():
        return []
    found: dict[str, None] = {}
    for value in _strings(json.loads(resp.body)):
        if not value.startswith(("/", "http://", "https://")) or value.startswith("//"):
            continue
        if any(c.isspace() for c in value) or "{" in value:
            continue
        url = urljoin(ex.request.url, value).split("#")[0]
        if scope.contains(url) and url != ex.request.url:
            found[url] = None
        if len(found) >= MAX_LINKS:
            break
    return list(found)


def _strings(node: object, depth: int = 0) -> Iterator[str]:
    if depth > 20:
        return
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value, depth + 1)
    elif isinstance(node, list):
        for value in node[:200]:
            yield from _strings(value, depth + 1)
