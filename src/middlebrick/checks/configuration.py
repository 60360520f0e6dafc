"""Configuration: response headers a JSON API should always send."""

from __future__ import annotations

from collections.abc import Iterator

from middlebrick.checks._check import check
from middlebrick.checks._context import Context, RawFinding
from middlebrick.model import Category, Kind, Severity


@check(
    id="MB-CONF-001",
    title="JSON response lacks X-Content-Type-Options: nosniff",
    category=Category.CONFIGURATION,
    severity=Severity.LOW,
    cwe=(693,),
    owasp="API8:2023",
    kind=Kind.PASSIVE,
)
def json_without_nosniff(ctx: Context) -> Iterator[RawFinding]:
    """A JSON response is served without `X-Content-Type-Options: nosniff`.

    Without it, old browsers may sniff an API response as HTML or script and run attacker-chosen
    values in it. It is the one browser-facing header worth demanding of a JSON API; CSP and
    X-Frame-Options protect documents, not data, and are not demanded.
    """
    for ex in ctx.exchanges():
        assert ex.response is not None
        if not ex.response.is_json:
            continue
        if (ex.response.headers.get("x-content-type-options") or "").strip().lower() != "nosniff":
            yield ctx.finding(
                ex,
                "JSON served without nosniff",
                key="nosniff",
                headers=("content-type", "x-content-type-options"),
            )


@check(
    id="MB-CONF-002",
    title="JSON is served with a non-JSON content type",
    category=Category.CONFIGURATION,
    severity=Severity.LOW,
    cwe=(436,),
    owasp="API8:2023",
    kind=Kind.PASSIVE,
)
def json_with_wrong_content_type(ctx: Context) -> Iterator[RawFinding]:
    """A response body is a JSON document but its `Content-Type` says HTML, text or nothing.

    Served as `text/html`, JSON holding user-controlled strings becomes a reflected XSS vector; as
    anything else, clients and security tooling misread it. JSON APIs should answer
    `application/json` (or a `+json` type).
    """
    for ex in ctx.exchanges():
        resp = ex.response
        assert resp is not None
        if resp.is_json or resp.status == 204 or not resp.body or resp.truncated:
            continue
        if resp.looks_like_json():
            shown = resp.headers.get("content-type") or "(absent)"
            yield ctx.finding(
                ex,
                f"JSON body served as Content-Type: {shown}",
                key=shown,
                headers=("content-type",),
            )
