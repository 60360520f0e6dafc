"""Inventory: the operations a scan tests — from the OpenAPI document (given, or found at the
well-known places an API publishes it), else the root and the same-origin links the API's own
responses point to (bounded)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

from middlebrick.checks._context import Sender, Target
from middlebrick.engine.scope import Scope
from middlebrick.errors import SpecError
from middlebrick.http.exchange import Exchange
from middlebrick.spec import loader
from middlebrick.spec.operations import ApiSpec, Operation, Source

MAX_LINKS = 40
SPEC_PATHS = (
    "/openapi.json",
    "/openapi.yaml",
    "/swagger.json",
    "/v3/api-docs",
    "/v2/api-docs",
    "/apispec_1.json",
    "/api/openapi.json",
    "/docs/openapi.json",
    "/api-docs",
    "/swagger/v1/swagger.json",
    "/openapi/v1.json",
)
DOC_PAGES = ("/docs", "/redoc", "/swagger-ui.html", "/swagger-ui/", "/apidocs/", "/api/docs")
# Swagger UI's `url: "..."` / `urls: [{url: ...}]`, ReDoc's `spec-url="..."`
_PAGE_SPEC_URL = re.compile(
    r"""(?:\burl\s*:\s*|spec-url\s*=\s*|"url"\s*:\s*)["']([^"'\s]+\.(?:json|ya?ml)|[^"'\s]*api-docs[^"'\s]*)["']""",
    re.I,
)


def inventory(
    target: Target, spec: ApiSpec | None, root: Exchange, scope: Scope
) -> list[Operation]:
    ops = list(spec.operations) if spec is not None else []
    ops.append(Operation("GET", "/", target.origin.url + (target.base_path or "/"), Source.ROOT))
    if spec is None:
        for url in links(root, scope):
            ops.append(Operation("GET", urlsplit(url).path, url, Source.LINK))
    unique: dict[tuple[str, str], Operation] = {}
    for op in ops:
        unique.setdefault((op.method, op.url), op)
    return list(unique.values())


async def discover_spec(target: Target, send: Sender) -> tuple[dict[str, Any], Exchange] | None:
    """The API description published at a well-known path or linked from a docs page."""
    bases = list(dict.fromkeys([target.base_path, ""]))
    candidates = [target.origin.url + base + path for base in bases for path in SPEC_PATHS]
    found = await _first_spec(candidates, send)
    if found is not None:
        return found
    pages = [target.origin.url + base + path for base in bases for path in DOC_PAGES]
    exchanges = await asyncio.gather(*(send("GET", u, purpose="API docs page") for u in pages))
    linked: list[str] = []
    for ex in exchanges:
        if ex.response is None or ex.response.status != 200:
            continue
        for match in _PAGE_SPEC_URL.finditer(ex.response.text(200_000)):
            linked.append(urljoin(ex.request.url, match.group(1)))
    same_origin = [u for u in dict.fromkeys(linked) if u.startswith(target.origin.url + "/")]
    return await _first_spec(same_origin[:5], send)


async def _first_spec(urls: list[str], send: Sender) -> tuple[dict[str, Any], Exchange] | None:
    exchanges = await asyncio.gather(*(send("GET", u, purpose="API description") for u in urls))
    for ex in exchanges:  # in the order of the list: the most specific places first
        resp = ex.response
        if resp is None or resp.status != 200 or not resp.body or resp.truncated:
            continue
        try:
            return loader.parse(resp.text(), ex.request.url), ex
        except SpecError:
            continue
    return None


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
