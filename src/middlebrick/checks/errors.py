"""Error pages: stack traces and framework debug pages in responses (CWE-209), and interactive
debuggers left on (CWE-215) — the Werkzeug debugger is remote code execution."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from middlebrick.checks._check import check
from middlebrick.checks._context import Context, ProbeContext, RawFinding
from middlebrick.checks.analyzers.traces import find_trace
from middlebrick.model import Category, Confidence, Kind, Severity
from middlebrick.spec.operations import Operation
from middlebrick.spec.samples import fill_path

DEBUG_PATHS = ("/console", "/debug", "/_debug_toolbar/", "/__debug__/", "/debug/default/view")
ODD_VALUES = ("middlebrick'\"<>", "-1e999", "9" * 40, "%00", "[]")
WRONG_TYPE = ODD_VALUES[0]  # not a number, uuid, date or enum member, and quotes for SQL
MALFORMED_JSON = b'{"middlebrick": [1, 2'
MAX_INDUCED = 16
MAX_BODY_PROBES = 4
_STRICT_FORMATS = frozenset({"uuid", "date", "date-time", "int32", "int64", "email", "uri"})
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})


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


def _strict(param: dict[str, Any]) -> bool:
    """The parameter's schema rejects an arbitrary string: a number, boolean, enum or format."""
    schema = param.get("schema", param)
    if not isinstance(schema, dict):
        return False
    return (
        schema.get("type") in ("integer", "number", "boolean")
        or schema.get("format") in _STRICT_FORMATS
        or isinstance(schema.get("enum"), list)
    )


def _typed_urls(op: Operation) -> list[str]:
    """The operation's URL with one typed path or query parameter at a time given a value of the
    wrong type — what the description says the handler never sees, so careless code raises."""
    params = [p for p in op.parameters if isinstance(p, dict) and _strict(p)]
    if not params:
        return []
    every = [p for p in op.parameters if isinstance(p, dict)]
    filled = fill_path(op.path, every)
    urls = []
    for param in params:
        if param.get("in") == "path" and op.url.endswith(filled):
            wrong = {"name": param.get("name"), "in": "path", "example": quote(WRONG_TYPE, safe="")}
            swapped = [wrong if p is param else p for p in every]
            urls.append(op.url[: len(op.url) - len(filled)] + fill_path(op.path, swapped))
        elif param.get("in") == "query":
            query = urlencode({str(param.get("name")): WRONG_TYPE})
            urls.append(op.url + ("&" if "?" in op.url else "?") + query)
    return urls


async def _induce_errors(ctx: ProbeContext) -> None:
    """Send what makes careless handlers raise, within the method policy: wrong-typed and
    overlong path and query values and an unexpected `Accept` or `Content-Type` (GET only); with
    `--unsafe`, malformed JSON and a foreign content type to the write operations."""
    urls: list[str] = []
    for op in ctx.operations:
        if op.method == "GET":
            urls += _typed_urls(op)
    for op in ctx.operations:
        if op.method == "GET" and op.url != ctx.target.url_for("/"):
            urls += _odd_urls(op.url)
    urls += [ctx.target.url_for("/") + "?" + "x" * 8000]  # an overlong query
    for url in list(dict.fromkeys(urls))[:MAX_INDUCED]:
        await ctx.send("GET", url, credentials=True, purpose="error induction")
    reads = [op for op in ctx.operations if op.method == "GET"]
    if reads:
        for headers in ({"Accept": "application/xml"}, {"Content-Type": "application/json"}):
            await ctx.send(
                "GET",
                reads[0].url,
                headers=headers,
                credentials=True,
                purpose=f"error induction: unexpected {next(iter(headers))}",
            )
    if ctx.unsafe:
        await _induce_with_bodies(ctx)


async def _induce_with_bodies(ctx: ProbeContext) -> None:
    """Malformed JSON, then XML where JSON is expected, to the write operations (--unsafe).

    A body that cannot be parsed cannot create or change anything, so these carry the user's
    credentials: anonymous ones would stop at the authentication layer and prove nothing.
    """
    writes = [op for op in ctx.operations if op.method in _WRITE_METHODS]
    for op in writes[:MAX_BODY_PROBES]:
        for content_type, body, what in (
            ("application/json", MALFORMED_JSON, "malformed JSON"),
            ("application/xml", b"<middlebrick/>", "unexpected Content-Type"),
        ):
            await ctx.send(
                op.method,
                op.url,
                headers={"Content-Type": content_type},
                body=body,
                credentials=True,
                purpose=f"error induction: {what}",
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
    To find it the check provokes errors within the method policy — values of the wrong type for
    the parameters the description types (an integer, a UUID, an enum), wrong-typed and overlong
    path and query values, an unexpected `Accept` or `Content-Type`; with `--unsafe`, malformed
    JSON and XML bodies to the write operations — which also feeds MB-DATA-009.
    """
    await _induce_errors(ctx)
    for path in DEBUG_PATHS:
        await ctx.send("GET", ctx.target.url_for(path), purpose="debug endpoint")
    for ex in list(ctx.recorded):
        if ex.response is None:
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
