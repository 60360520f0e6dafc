"""From raw findings to report findings: merge repeats, attach masked evidence, a curl line that
reproduces the defect, and the fix for the detected framework."""

from __future__ import annotations

import hashlib
import re
import shlex
from collections.abc import Iterable

from middlebrick.checks._context import RawFinding
from middlebrick.http.exchange import Exchange, Masker
from middlebrick.model import Evidence, Finding, SpecLocation
from middlebrick.remediation import fix_for
from middlebrick.spec.operations import ApiSpec

MAX_EVIDENCE = 3
MAX_ENDPOINTS = 50
_IMPLICIT_HEADERS = frozenset(
    {"host", "user-agent", "accept", "accept-encoding", "connection", "content-length"}
)


def merge(
    raw: Iterable[RawFinding],
    framework: str,
    masker: Masker,
    ca_hint: str,
    spec: ApiSpec | None = None,
    auth: str | None = None,
) -> list[Finding]:
    """One finding per check and cause; later occurrences add their endpoints and evidence.
    With a spec file, each finding points at the lines of the operations it affects. `auth`
    (basic, bearer, apikey) picks the fix written for the API's scheme, where that matters."""
    where = _spec_lines(spec)
    groups: dict[tuple[str, str], list[RawFinding]] = {}
    for f in raw:
        groups.setdefault((f.check.id, f.key), []).append(f)
    findings = []
    for items in groups.values():
        first = items[0]
        # sorted, not in arrival order: concurrent requests finish in any order, reports must not
        endpoints = sorted({e for f in items for e in f.endpoints})[:MAX_ENDPOINTS]
        exchanges = sorted(
            {ex.id: ex for f in items for ex in f.exchanges}.values(),
            key=lambda ex: (ex.request.url, ex.request.method, ex.id),
        )
        evidence = [
            Evidence(exchange_id=ex.id, excerpt=masker.mask(excerpt(ex, first.headers)))
            for ex in exchanges[:MAX_EVIDENCE]
        ]
        if first.excerpt:
            evidence.insert(0, Evidence(exchange_id=None, excerpt=masker.mask(first.excerpt)))
        fix, fix_framework = fix_for(first.check.id, framework, auth)
        worst = max(items, key=lambda f: f.severity.rank)
        findings.append(
            Finding(
                check_id=first.check.id,
                title=first.check.title,
                category=first.check.category,
                severity=worst.severity,
                confidence=max(f.confidence for f in items),
                cwe=list(first.check.cwe),
                owasp=first.check.owasp,
                detail=masker.mask(worst.detail),
                endpoints=[_short(masker.mask(e)) for e in endpoints],
                evidence=evidence,
                reproduce=_masked_or_none(
                    masker, first.reproduce or (curl(exchanges[0], ca_hint) if exchanges else None)
                ),
                remediation=fix,
                framework=fix_framework,
                locations=[where[e] for e in endpoints if e in where][:MAX_ENDPOINTS],
                fingerprint=fingerprint(first.check.id, first.key),
            )
        )
    findings.sort(key=lambda f: (-f.severity.rank, f.check_id))
    return findings


_ORIGIN = re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s]+", re.I)


def fingerprint(check_id: str, key: str) -> str:
    """The same defect on the same operation gets the same fingerprint in every run, on every
    host and port (CI scans a fresh server each time): the origin is left out."""
    stable = _ORIGIN.sub("", key)
    return hashlib.sha256(f"{check_id}\0{stable}".encode()).hexdigest()[:24]


def _spec_lines(spec: ApiSpec | None) -> dict[str, SpecLocation]:
    """Endpoint strings as checks write them (`GET https://host/users/1` at runtime, `GET
    /users/{id}` from the description) -> the operation's place in the spec file."""
    if spec is None or "://" in spec.source:
        return {}
    where = {}
    for op in spec.operations:
        if op.spec_line is not None:
            place = SpecLocation(
                file=spec.source, line=op.spec_line, operation=f"{op.method} {op.path}"
            )
            where[op.endpoint] = where[f"{op.method} {op.path}"] = place
    return where


def _short(endpoint: str, limit: int = 200) -> str:
    """An endpoint as reports list it: an overlong probe URL is cut, saying how long it was."""
    return (
        endpoint if len(endpoint) <= limit else f"{endpoint[: limit - 20]}…({len(endpoint)} chars)"
    )


def _masked_or_none(masker: Masker, text: str | None) -> str | None:
    return None if text is None else masker.mask(text)


def excerpt(ex: Exchange, headers: Iterable[str] = ()) -> str:
    """Request line, status line, and the response headers the check points at."""
    lines = [f"{ex.request.method} {ex.request.url}"]
    lines += [f"> {k}: {v}" for k, v in ex.request.headers if k.lower() not in _IMPLICIT_HEADERS]
    if ex.response is None:
        lines.append(f"< (no response: {ex.error})")
        return "\n".join(lines)
    resp = ex.response
    lines.append(f"< {resp.http_version} {resp.status} {resp.reason}".rstrip())
    for name in headers:
        values = resp.headers.get_all(name)
        lines += [f"< {name}: {v}" for v in values] or [f"< {name}: (absent)"]
    return "\n".join(lines)


def curl(ex: Exchange, ca_hint: str = "") -> str:
    """A curl command that repeats the request, with credentials read from the environment."""
    args = ["curl -i"] + ([ca_hint] if ca_hint else [])
    if ex.request.method == "HEAD":
        args.append("--head")
    elif ex.request.method != "GET":
        args.append(f"-X {ex.request.method}")
    for name, value in ex.request.headers:
        lname = name.lower()
        if lname in _IMPLICIT_HEADERS:
            continue
        if lname == "authorization" and value.lower().startswith("basic "):
            args.append('-u "$MIDDLEBRICK_AUTH"')
        elif lname == "authorization" and value.lower().startswith("bearer "):
            args.append('-H "Authorization: Bearer $MIDDLEBRICK_BEARER"')
        elif "…(" in value:
            args.append(f"-H {shlex.quote(f'{name}: <redacted>')}")
        else:
            args.append(f"-H {shlex.quote(f'{name}: {value}')}")
    if ex.request.body:
        args.append(f"--data-binary {shlex.quote(ex.request.body.decode('utf-8', 'replace'))}")
    args.append(shlex.quote(ex.request.url))
    return " ".join(args)
