"""Error pages: stack traces and framework debug pages in responses (CWE-209), and interactive
debuggers left on (CWE-215) — the Werkzeug debugger is remote code execution."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from urllib.parse import quote, urlsplit, urlunsplit

from middlebrick.checks._check import check
from middlebrick.checks._context import Context, ProbeContext, RawFinding
from middlebrick.checks.analyzers.traces import find_trace
from middlebrick.model import Category, Confidence, Kind, Severity

DEBUG_PATHS = ("/console", "/debug", "/_debug_toolbar/", "/__debug__/", "/debug/default/view")
ODD_VALUES = ("middlebrick'\"<>", "-1e999", "9" * 40, "%00", "[]")
MAX_INDUCED = 12


def _odd_urls(url: str) -> list[str]:
    """The URL with its last path segment and then its query replaced by wrong-typed values."""
    parts = urlsplit(url)
    segments = parts.path.rstrip("/").split("/")
    variants = []
    if len(segments) > 1 and segments[-1]:
        for value in ODD_VALUES[:3]:
            replaced = "/".join([*segments[:-1], quote(value, safe="")])
            variants.append(urlunsplit(parts._replace(path=replaced)))
    variants.append(urlunsplit(parts._replace(query="id=" + quote(ODD_VALUES[0], safe=""))))
    return variants


async def _induce_errors(ctx: ProbeContext) -> None:
    """Send the wrong-typed and overlong values that make careless handlers raise (GET only)."""
    urls: list[str] = []
    for op in ctx.operations:
        if op.method == "GET" and op.url != ctx.target.url_for("/"):
            urls += _odd_urls(op.url)
    urls += [ctx.target.url_for("/") + "?" + "x" * 8000]  # an overlong query
    for url in list(dict.fromkeys(urls))[:MAX_INDUCED]:
        await ctx.send("GET", url, purpose="error induction")
    if ctx.operations:
        await ctx.send(
            "GET",
            ctx.operations[0].url,
            headers={"Accept": "application/xml"},
            purpose="error induction: unexpected Accept",
        )


@check(
    id="MB-DATA-010",
    title="Interactive debugger is exposed",
    category=Category.DATA_EXPOSURE,
    severity=Severity.CRITICAL,
    cwe=(215, 94),
    owasp="API8:2023",
    kind=Kind.ACTIVE,
)
async def exposed_debugger(ctx: ProbeContext) -> AsyncIterator[RawFinding]:
    """The Werkzeug debugger answers — on an error page or at `/console` — or a debug toolbar is
    reachable.

    The Werkzeug debugger (`app.run(debug=True)`, `FLASK_DEBUG=1`) executes Python typed into the
    page: whoever reaches it runs code on the server (its PIN is guessable from public facts).
    To find it the check provokes errors within the safe-method policy — wrong-typed and overlong
    path and query values, an unexpected `Accept` — which also feeds MB-DATA-009.
    """
    await _induce_errors(ctx)
    for path in DEBUG_PATHS:
        await ctx.send("GET", ctx.target.url_for(path), purpose="debug endpoint")
    for ex in list(ctx.recorded):
        if ex.response is None or ex.request.authenticated:
            continue
        trace = find_trace(ex.response.text(512 * 1024))
        if trace is not None and trace.debugger:
            yield ctx.finding(
                ex,
                f"{trace.kind} at {urlsplit(ex.request.url).path}",
                key="werkzeug",
                confidence=Confidence.CERTAIN,
                excerpt=trace.excerpt,
            )


@check(
    id="MB-DATA-009",
    title="Response reveals a stack trace or framework error page",
    category=Category.DATA_EXPOSURE,
    severity=Severity.MEDIUM,
    cwe=(209, 497),
    owasp="API8:2023",
    kind=Kind.PASSIVE,
)
def stack_trace_in_response(ctx: Context) -> Iterator[RawFinding]:
    """A response carries a stack trace (Python, Java, .NET, Node.js, PHP, Ruby, Go), a framework
    debug page (Django `DEBUG = True`) or a database driver error.

    Traces name files, libraries, versions and queries — a map for the next attack; SQL errors
    often mean injectable input. A structured error (`application/problem+json` with a short
    `detail`) is the right answer and is not reported: a signature needs a header line and frame
    lines both. Interactive debuggers are MB-DATA-010.
    """
    for ex in ctx.exchanges():
        assert ex.response is not None
        trace = find_trace(ex.response.text(512 * 1024))
        if trace is None or trace.debugger:
            continue
        yield ctx.finding(
            ex,
            f"{trace.kind} in the answer to {ex.request.method} {urlsplit(ex.request.url).path}",
            key=trace.kind,
            severity=Severity.HIGH
            if trace.kind in ("database error", "Django debug page")
            else None,
            excerpt=trace.excerpt,
        )
