"""HSTS: are browsers and clients told to stay on HTTPS, and is the policy well formed."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from middlebrick.checks._check import check
from middlebrick.checks._context import Context, NotApplicable, RawFinding
from middlebrick.http.exchange import Exchange
from middlebrick.model import Category, Kind, Severity

ONE_YEAR = 31_536_000


def _origin_https(ctx: Context) -> list[Exchange]:
    """Responses of the scanned HTTPS origin (HSTS sent anywhere else means nothing here)."""
    if not ctx.target.tls:
        raise NotApplicable("the API is not served over HTTPS; HSTS over plain HTTP is ignored")
    origin = ctx.target.origin.url
    return [
        ex
        for ex in ctx.exchanges(scheme="https")
        if ex.request.url == origin or ex.request.url.startswith(origin + "/")
    ]


def _hsts(ex: Exchange) -> list[str]:
    assert ex.response is not None
    return ex.response.headers.get_all("strict-transport-security")


@check(
    id="MB-ENC-005",
    title="HTTPS responses lack Strict-Transport-Security",
    category=Category.ENCRYPTION,
    severity=Severity.MEDIUM,
    cwe=(319, 523),
    owasp="API8:2023",
    kind=Kind.PASSIVE,
)
def missing_hsts(ctx: Context) -> Iterator[RawFinding]:
    """No HTTPS response of the API carries a `Strict-Transport-Security` header.

    Without HSTS a client that once typed or followed an `http://` link can be kept on plain HTTP
    by an attacker on the network (SSL stripping), with every request after it readable. Judged
    on the scanned HTTPS origin's responses, whatever their status; HSTS sent over plain HTTP is
    ignored by clients and does not count. When only some responses lack it, MB-ENC-007 reports
    that instead.
    """
    exchanges = _origin_https(ctx)
    if exchanges and not any(_hsts(ex) for ex in exchanges):
        yield ctx.finding(
            exchanges[:3],
            "no HTTPS response sends Strict-Transport-Security",
            key="missing",
            headers=("strict-transport-security",),
        )


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def _policy_problem(value: str) -> tuple[Severity, str] | None:
    """RFC 6797 §6.1: `;`-separated directives, names case-insensitive, each at most once,
    values tokens or quoted strings; `max-age` required, in seconds."""
    comma = " (directives are separated by ';', not ',')" if "," in value else ""
    directives: dict[str, str | None] = {}
    for part in value.split(";"):
        if not part.strip():
            continue
        name, sep, raw = part.partition("=")
        key = name.strip().lower()
        if key in directives:
            return Severity.LOW, f"directive {key!r} repeated (the header is invalid and ignored)"
        directives[key] = _unquote(raw.strip()) if sep else None
    if "max-age" not in directives:
        return Severity.LOW, "no max-age (the header is invalid and ignored)" + comma
    raw = directives["max-age"] or ""
    if not re.fullmatch(r"[0-9]+", raw):
        return Severity.LOW, f"max-age={raw!r} is not a number (the header is ignored){comma}"
    max_age = int(raw)
    if max_age == 0:
        return Severity.MEDIUM, "max-age=0 tells clients to forget HSTS"
    if max_age < ONE_YEAR:
        return Severity.LOW, f"max-age={max_age} is shorter than one year ({ONE_YEAR})"
    return None


def hsts_problems(values: Sequence[str]) -> tuple[Severity, str] | None:
    """What is wrong with one response's HSTS header(s), or None. Clients obey only the first
    header (RFC 6797 §8.1), so that one is judged; differing repeats are a smell of their own."""
    problem = _policy_problem(values[0])
    if problem is not None:
        note = (
            f" (first of {len(values)} headers; only the first counts)" if len(values) > 1 else ""
        )
        return problem[0], problem[1] + note
    if len({v.strip() for v in values}) > 1:
        return (
            Severity.LOW,
            f"{len(values)} different Strict-Transport-Security headers (only the first counts)",
        )
    return None


@check(
    id="MB-ENC-006",
    title="HSTS policy is weak or malformed",
    category=Category.ENCRYPTION,
    severity=Severity.LOW,
    cwe=(319, 523),
    owasp="API8:2023",
    kind=Kind.PASSIVE,
)
def weak_hsts(ctx: Context) -> Iterator[RawFinding]:
    """`Strict-Transport-Security` is sent but protects little: `max-age` below one year, missing
    or not a number, repeated directives, or several differing headers.

    A short `max-age` lets the protection lapse between visits; a malformed header is ignored by
    clients altogether. `max-age=0` (which switches HSTS off) is medium. `includeSubDomains` and
    `preload` are recommended but not required, and not reported.
    """
    for ex in _origin_https(ctx):
        values = _hsts(ex)
        problem = hsts_problems(values) if values else None
        if problem is not None:
            severity, detail = problem
            yield ctx.finding(
                ex,
                f"Strict-Transport-Security: {' | '.join(values)} — {detail}",
                severity=severity if severity is not Severity.LOW else None,
                key=" | ".join(values),
                headers=("strict-transport-security",),
            )


@check(
    id="MB-ENC-007",
    title="HSTS is sent on some HTTPS responses but not others",
    category=Category.ENCRYPTION,
    severity=Severity.LOW,
    cwe=(319,),
    owasp="API8:2023",
    kind=Kind.PASSIVE,
)
def inconsistent_hsts(ctx: Context) -> Iterator[RawFinding]:
    """Some HTTPS responses of the API's operations carry `Strict-Transport-Security` and others
    (often 401/404 error answers, or routes served by another component) do not.

    A client that only ever meets the responses without it is never protected; the usual cause is
    a header set in one view, blueprint or success path instead of once for the whole application
    or proxy. Judged on the API's operations, not on the scanner's probes of paths that do not
    exist. When no response has HSTS at all, MB-ENC-005 reports it instead.
    """
    documented = {op.url for op in ctx.operations}
    exchanges = [ex for ex in _origin_https(ctx) if ex.request.url in documented]
    lacking = [ex for ex in exchanges if not _hsts(ex)]
    if lacking and len(lacking) < len(exchanges):
        statuses = sorted({str(ex.response.status) for ex in lacking if ex.response})
        yield ctx.finding(
            lacking,
            f"{len(lacking)} of {len(exchanges)} HTTPS responses of the API's operations lack "
            f"Strict-Transport-Security (status {', '.join(statuses)})",
            key="inconsistent",
            headers=("strict-transport-security",),
        )
