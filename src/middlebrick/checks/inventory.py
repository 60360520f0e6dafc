"""Inventory: what the API exposes beyond what it documents, and its documentation itself."""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator, Iterator

from middlebrick.checks._check import check
from middlebrick.checks._context import Context, NotApplicable, ProbeContext, RawFinding
from middlebrick.http.exchange import Exchange
from middlebrick.model import Category, Confidence, Kind, Severity

SIBLINGS = ("/admin", "/internal", "/debug", "/private", "/management", "/api/admin")
_VERSION = re.compile(r"/v(\d+)(?=/|$)")
MAX_CANDIDATES = 30


@check(
    id="MB-INV-001",
    title="API description is publicly reachable",
    category=Category.INVENTORY,
    severity=Severity.INFO,
    cwe=(200,),
    owasp="API9:2023",
    kind=Kind.PASSIVE,
)
def public_api_description(ctx: Context) -> Iterator[RawFinding]:
    """The OpenAPI/Swagger document is served to anyone, without credentials.

    Often intended (public APIs publish it); for internal APIs it is a map of every operation,
    parameter and auth scheme for whoever finds it. Informational: decide whether it should be.
    """
    ex = ctx.spec_exchange
    if ex is not None and ex.ok and not ex.request.authenticated:
        yield ctx.finding(ex, f"the API description is served at {ex.request.url}", key="spec")


def _undocumented_candidates(ctx: ProbeContext) -> list[str]:
    assert ctx.spec is not None
    documented = {op.url for op in ctx.operations}
    base = ctx.target.origin.url + ctx.target.base_path
    candidates: list[str] = []
    for op in ctx.operations:
        if op.method != "GET":
            continue
        for match in _VERSION.finditer(op.url):
            current = int(match.group(1))
            for older in range(current - 1, max(current - 3, -1), -1):
                url = op.url[: match.start()] + f"/v{older}" + op.url[match.end() :]
                candidates.append(url)
    candidates += [base + path for path in SIBLINGS]
    unique = [u for u in dict.fromkeys(candidates) if u not in documented]
    return unique[:MAX_CANDIDATES]


def _same_page(a: Exchange, b: Exchange) -> bool:
    return (
        a.response is not None
        and b.response is not None
        and a.response.status == b.response.status
        and a.response.body == b.response.body
    )


@check(
    id="MB-INV-002",
    title="Undocumented endpoint is live",
    category=Category.INVENTORY,
    severity=Severity.MEDIUM,
    cwe=(1059, 912),
    owasp="API9:2023",
    kind=Kind.ACTIVE,
)
async def undocumented_endpoint(ctx: ProbeContext) -> AsyncIterator[RawFinding]:
    """An older version of a documented path (`/v1/...` beside `/v2/...`) or a common sibling
    (`/admin`, `/internal`, `/debug`) answers 2xx without credentials, yet the description does not
    document it.

    Old versions keep old bugs and old, weaker checks; unlisted admin and debug routes are rarely
    reviewed. A server that answers every path with the same page (soft 404) is recognised and not
    reported. High when the endpoint answers JSON.
    """
    if ctx.spec is None:
        raise NotApplicable("needs the API description to know what is documented")
    soft = await ctx.send(
        "GET", ctx.target.url_for(f"/middlebrick-{secrets.token_hex(6)}"), purpose="soft-404 probe"
    )
    for url in _undocumented_candidates(ctx):
        ex = await ctx.send("GET", url, purpose="undocumented endpoint")
        if not ex.ok or _same_page(ex, soft) or ex.response is None or not ex.response.body:
            continue
        json_answer = ex.response.is_json or ex.response.looks_like_json()
        yield ctx.finding(
            ex,
            f"{url.removeprefix(ctx.target.origin.url)} is live but not in the API description",
            key=url,
            severity=Severity.HIGH if json_answer else None,
            confidence=Confidence.FIRM if json_answer else Confidence.TENTATIVE,
        )
