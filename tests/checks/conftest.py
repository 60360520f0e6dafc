"""Helpers for check tests: hand-built exchanges for passive checks, real scans for active ones."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

from middlebrick.checks._check import Check
from middlebrick.checks._context import Context, Origin, RawFinding, Target
from middlebrick.config import ScanConfig
from middlebrick.engine import scan
from middlebrick.http.exchange import Exchange, Headers, Request, Response
from middlebrick.model import Report


def exchange(
    url: str = "https://api.example.test/users",
    *,
    status: int = 200,
    headers: Iterable[tuple[str, str]] = (("Content-Type", "application/json"),),
    body: bytes = b'{"id": 1}',
    authenticated: bool = False,
    method: str = "GET",
    id: int = 1,
) -> Exchange:
    request_headers = (("Authorization", "Basic YWxp…(16)"),) if authenticated else ()
    return Exchange(
        id=id,
        purpose="test",
        request=Request(method, url, Headers(request_headers), authenticated=authenticated),
        response=Response(status, "OK", "HTTP/1.1", Headers(tuple(headers)), body),
    )


def target(scheme: str = "https", host: str = "api.example.test", port: int = 443) -> Target:
    origin = Origin(scheme, host, port)
    return Target(
        url=origin.url,
        origin=origin,
        base_path="",
        given_origin=origin,
        http_origin=None,
        server=None,
        framework="generic",
        auth_schemes=(),
        has_credentials=True,
        credential_kinds=("basic",),
    )


def run_passive(
    check: Check,
    exchanges: Sequence[Exchange],
    *,
    protected: Iterable[str] = (),
    tgt: Target | None = None,
) -> list[RawFinding]:
    ctx = Context(check, tgt or target(), [], exchanges, frozenset(protected))
    return list(check.fn(ctx))


def scan_now(url: str, **settings: Any) -> Report:
    """A real scan through the engine, as every interface runs it."""
    return asyncio.run(scan(ScanConfig(target=url, **settings)))


def ids(report: Report) -> list[str]:
    return [f.check_id for f in report.findings]
