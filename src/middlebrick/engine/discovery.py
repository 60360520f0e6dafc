"""Inventory: the operations a scan tests — from the OpenAPI document (given, or found at the
well-known places an API publishes it), else the root and the same-origin links the API's own
responses point to (bounded)."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
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
CRAWL_DEPTH = 2
PER_PAGE = 20
MAX_PAGE = 512 * 1024
_HREF = re.compile(r"""\bhref\s*=\s*["']([^"'#]+)["']""", re.I)
_ROBOTS = re.compile(r"^\s*(?:dis)?allow\s*:\s*(/\S*)", re.I | re.M)
_ASSET = re.compile(r"\.(?:css|js|mjs|map|png|jpe?g|gif|svg|ico|woff2?|ttf|eot|webp)$", re.I)
_DJANGO_PATTERN = re.compile(r"<li>\s*(.*?)\s*(?:\[name=|</li>)", re.S)


def _django_routes(page: str) -> list[str]:
    """Plain route prefixes from Django's debug 404 ("Django tried these URL patterns")."""
    routes = []
    for match in _DJANGO_PATTERN.finditer(page):
        pattern = re.sub(r"<[^>]+>", "", match.group(1))  # nested tags around parts
        pattern = (
            pattern.replace("&lt;", "<").replace("&gt;", ">").replace("^", "").replace("$", "")
        )
        parts = pattern.split()
        path = "".join(parts)
        if path and not any(c in path for c in "<>()[]?*+\\|"):
            routes.append(path)
    return routes[:MAX_LINKS]


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
    target: Target, spec: ApiSpec | None, crawled: list[str] | None = None
) -> list[Operation]:
    ops = list(spec.operations) if spec is not None else []
    ops.append(Operation("GET", "/", target.origin.url + (target.base_path or "/"), Source.ROOT))
    for url in crawled or ():
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


async def crawl(target: Target, root: Exchange, scope: Scope, send: Sender) -> list[str]:
    """Without a description: follow what the API shows, breadth first and bounded — links in
    JSON and HTML answers, `robots.txt`, and the route list of a framework debug 404 page."""
    base = target.origin.url + target.base_path
    extra = await asyncio.gather(
        send("GET", target.origin.url + "/robots.txt", purpose="inventory: robots.txt"),
        send("GET", f"{base}/middlebrick-{secrets.token_hex(6)}", purpose="inventory: 404 page"),
    )
    found: dict[str, None] = {}
    frontier = [*extra, root]  # robots.txt and route lists name more than one page's links
    for _ in range(CRAWL_DEPTH):
        # no single page may fill the inventory: a list of 500 items is not 500 operations
        per_page = [links(ex, scope)[:PER_PAGE] for ex in frontier]
        fresh = list(dict.fromkeys(u for page in per_page for u in page if u not in found))
        for url in fresh[: MAX_LINKS - len(found)]:
            found[url] = None
        if not fresh or len(found) >= MAX_LINKS:
            break
        frontier = list(
            await asyncio.gather(*(send("GET", u, purpose="inventory: link") for u in fresh))
        )
    return [u for u in found if u != root.request.url]


def links(ex: Exchange, scope: Scope) -> list[str]:
    """Same-origin URLs an answer points to: string values of JSON (API roots, HAL, JSON:API),
    `href`s of HTML (browsable APIs), `robots.txt` rules, Django's debug 404 route list."""
    resp = ex.response
    if resp is None or not resp.body or resp.status >= 500:
        return []
    if resp.looks_like_json():
        candidates = list(_strings(json.loads(resp.body)))
    else:
        text = resp.text(MAX_PAGE)
        candidates = [m.group(1) for m in _HREF.finditer(text)]
        if ex.request.url.endswith("/robots.txt"):
            candidates += [m.group(1) for m in _ROBOTS.finditer(text)]
        if "Django tried these URL patterns" in text:
            candidates += ["/" + p for p in _django_routes(text)]
    found: dict[str, None] = {}
    for value in candidates:
        if not value.startswith(("/", "http://", "https://")) or value.startswith("//"):
            continue
        if any(c.isspace() for c in value) or "{" in value or "*" in value:
            continue
        if _ASSET.search(urlsplit(value).path):
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
