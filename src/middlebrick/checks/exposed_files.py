"""Exposed files: configuration, source, repository metadata, backups and logs served by the API.

Each candidate is judged by its content, never by its status code alone: a server that answers
every path with the same page (soft 404) or an HTML error page served with 200 must not become a
finding. Values found in the files are registered as secrets, so every report masks them.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from middlebrick.checks._check import check
from middlebrick.checks._context import ProbeContext, RawFinding
from middlebrick.checks.analyzers.settings import credentials_in
from middlebrick.http.exchange import Exchange, mask_value
from middlebrick.model import Category, Confidence, Kind, Severity

_HTML = re.compile(rb"^\s*(?:<!doctype html|<html|<head|<body)", re.I)
_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Z][A-Z0-9_]{1,63})\s*=\s*(.*)$", re.M)
_PY_SOURCE = re.compile(r"^(?:import \w|from [\w.]+ import |def \w+\(|class \w+)", re.M)
_LOG_LINE = re.compile(
    r"^.*(?:\d{4}-\d\d-\d\d[T ]\d\d:\d\d|\b(?:INFO|WARNING|WARN|ERROR|DEBUG|CRITICAL)\b).*$", re.M
)
_PRIVATE_KEY = re.compile(r"-----BEGIN (?:RSA |EC |OPENSSH |DSA |ENCRYPTED )?PRIVATE KEY-----")


@dataclass(frozen=True, slots=True)
class Candidate:
    path: str
    kind: str  # what the file is, in the finding's words
    looks_right: Callable[[bytes], bool]


def _text(body: bytes) -> str:
    return body[:200_000].decode("utf-8", errors="replace")


def _not_html(body: bytes) -> bool:
    return not _HTML.match(body[:512])


def _env(body: bytes) -> bool:
    return _not_html(body) and len(_ENV_LINE.findall(_text(body))) >= 2


def _git_config(body: bytes) -> bool:
    return b"[core]" in body and b"repositoryformatversion" in body


def _git_head(body: bytes) -> bool:
    return re.match(rb"^(?:ref: refs/|[0-9a-f]{40}\s*$)", body.strip()) is not None


def _python(body: bytes) -> bool:
    return _not_html(body) and len(_PY_SOURCE.findall(_text(body))) >= 2


def _compose(body: bytes) -> bool:
    return _not_html(body) and re.search(rb"^services:\s*$", body, re.M) is not None


def _sql(body: bytes) -> bool:
    return (
        _not_html(body) and re.search(rb"\b(?:CREATE TABLE|INSERT INTO)\b", body, re.I) is not None
    )


def _log(body: bytes) -> bool:
    if not _not_html(body):
        return False
    text = _text(body)
    lines = [line for line in text.splitlines() if line.strip()]
    return len(_LOG_LINE.findall(text)) >= 2 or (len(lines) >= 2 and bool(credentials_in(text)))


def _starts(magic: bytes) -> Callable[[bytes], bool]:
    return lambda body: body.startswith(magic)


def _private_key(body: bytes) -> bool:
    return _PRIVATE_KEY.search(_text(body)) is not None


FILES = (
    *(
        Candidate(p, "environment file", _env)
        for p in (
            "/.env",
            "/.env.local",
            "/.env.production",
            "/.env.prod",
            "/.env.dev",
            "/.env.bak",
        )
    ),
    Candidate("/.git/config", "Git repository metadata", _git_config),
    Candidate("/.git/HEAD", "Git repository metadata", _git_head),
    *(
        Candidate(p, "application source", _python)
        for p in (
            "/config.py",
            "/settings.py",
            "/app.py",
            "/wsgi.py",
            "/main.py",
            "/app.py.bak",
            "/config.py.bak",
            "/settings.py.old",
            "/app.py~",
        )
    ),
    Candidate("/.app.py.swp", "editor swap file of the source", _starts(b"b0VIM")),
    Candidate("/docker-compose.yml", "Docker Compose file", _compose),
    Candidate("/.DS_Store", "macOS folder index", _starts(b"\x00\x00\x00\x01Bud1")),
    *(Candidate(p, "database dump", _sql) for p in ("/backup.sql", "/dump.sql", "/db.sql")),
    *(Candidate(p, "backup archive", _starts(b"PK\x03\x04")) for p in ("/backup.zip", "/site.zip")),
    *(Candidate(p, "private key", _private_key) for p in ("/id_rsa", "/server.key", "/key.pem")),
)
LOGS = tuple(
    Candidate(p, "log file", _log)
    for p in (
        "/app.log",
        "/error.log",
        "/debug.log",
        "/access.log",
        "/logs/app.log",
        "/logs/error.log",
        "/log/app.log",
        "/npm-debug.log",
    )
)


async def _served(
    ctx: ProbeContext, candidates: tuple[Candidate, ...]
) -> AsyncIterator[tuple[Candidate, Exchange]]:
    """Candidates whose answer is a 2xx with the right content and not the soft-404 page."""
    bases = list(dict.fromkeys([ctx.target.base_path, ""]))
    soft = await ctx.send(
        "GET", ctx.target.url_for(f"/middlebrick-{secrets.token_hex(6)}.txt"), purpose="soft-404"
    )
    soft_body = soft.response.body if soft.ok and soft.response else None
    for base in bases:
        for candidate in candidates:
            url = ctx.target.origin.url + base + candidate.path
            ex = await ctx.send("GET", url, purpose=f"exposed file: {candidate.kind}")
            resp = ex.response
            if not ex.ok or resp is None or not resp.body or resp.body == soft_body:
                continue
            if candidate.looks_right(resp.body):
                yield candidate, ex


def _redacted_lines(text: str, values: list[str], limit: int = 4) -> str:
    lines = [line for line in text.splitlines() if any(v in line for v in values)][:limit]
    shown = "\n".join(lines)
    for value in sorted(set(values), key=len, reverse=True):
        shown = shown.replace(value, mask_value(value))
    return shown[:800]


@check(
    id="MB-DATA-007",
    title="Configuration, source or repository file is publicly served",
    category=Category.DATA_EXPOSURE,
    severity=Severity.HIGH,
    cwe=(538, 540),
    owasp="API8:2023",
    kind=Kind.ACTIVE,
)
async def exposed_sensitive_file(ctx: ProbeContext) -> AsyncIterator[RawFinding]:
    """A file that should never leave the server is downloadable: `.env` files, `.git/config` or
    `.git/HEAD`, application source (`app.py`, `settings.py`, `wsgi.py` and their `.bak`, `.old`,
    `~` and swap copies), `docker-compose.yml`, database dumps, backup archives, private keys.

    These carry database passwords, secret keys and API tokens, or the code to find the next
    hole. A curated list for Flask, Django, FastAPI and Node deployments; every candidate is
    validated by content (a `.env` must hold `NAME=value` lines, a dump SQL statements), so a
    server that answers every path with 200 is not reported. Critical for `.env` files, private
    keys and anything that contains credentials.
    """
    async for candidate, ex in _served(ctx, FILES):
        assert ex.response is not None
        text = _text(ex.response.body)
        values = credentials_in(text)
        if candidate.kind == "environment file":
            values += [v.strip().strip("'\"") for _, v in _ENV_LINE.findall(text)]
        values = [v for v in values if len(v) >= 4]
        critical = bool(values) or candidate.kind in ("environment file", "private key")
        excerpt = (
            _redacted_lines(text, values)
            if values
            else f"{candidate.kind}: {len(ex.response.body)} bytes"
        )
        yield ctx.finding(
            ex,
            f"{candidate.kind} served at {candidate.path}"
            + (f" with {len(set(values))} secret value(s)" if values else ""),
            key=candidate.path,
            severity=Severity.CRITICAL if critical else None,
            confidence=Confidence.CERTAIN,
            excerpt=excerpt,
            secrets=values,
        )


@check(
    id="MB-DATA-008",
    title="Log file is publicly served",
    category=Category.DATA_EXPOSURE,
    severity=Severity.HIGH,
    cwe=(532, 538),
    owasp="API8:2023",
    kind=Kind.ACTIVE,
)
async def exposed_log_file(ctx: ProbeContext) -> AsyncIterator[RawFinding]:
    """An application log (`app.log`, `error.log`, `logs/…`) is downloadable.

    Logs hold request details, stack traces and internal addresses; critical when they hold
    credentials — `Authorization` headers, Basic or bearer tokens, `password=` values — which is
    how a Flask app that logs its login attempts hands out every user's password (CWE-532).
    Validated by content: at least two lines with timestamps or log levels, not an HTML page.
    """
    async for candidate, ex in _served(ctx, LOGS):
        assert ex.response is not None
        text = _text(ex.response.body)
        values = credentials_in(text)
        yield ctx.finding(
            ex,
            f"log file served at {candidate.path}"
            + (f", containing {len(set(values))} credential value(s)" if values else ""),
            key=candidate.path,
            severity=Severity.CRITICAL if values else None,
            confidence=Confidence.CERTAIN,
            excerpt=_redacted_lines(text, values) if values else None,
            secrets=values,
        )
