"""The MCP server: scan_api, audit_spec, explain_check, list_checks and get_report over the same
engine as the CLI, recent reports as `middlebrick://reports/{id}` resources, and the boundary that
turns every expected failure into a tool error (`is_error`) the assistant reads in one line."""

from __future__ import annotations

import difflib
import inspect
import json
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from mcp_types import Resource as MCPResource
from pydantic import BaseModel, Field, SecretStr, ValidationError

from middlebrick import __version__, engine
from middlebrick.checks import ALL, BY_ID
from middlebrick.config import ScanConfig
from middlebrick.errors import ConfigError, MiddlebrickError
from middlebrick.http.guard import pin_of
from middlebrick.mcp_server import results, runs
from middlebrick.mcp_server.store import MAX_REPORTS, Reports
from middlebrick.mcp_server.targets import AllowList
from middlebrick.model import Report
from middlebrick.remediation import fix_for
from middlebrick.report import WRITERS

MAX_BUDGET_S = 300.0
MAX_CONCURRENT_SCANS = 2
URI_PREFIX = "middlebrick://reports"
# conventional environment variable names only: a token passed by mistake is refused, not echoed
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]{0,63}")
_MEDIA_TYPES = {
    "json": "application/json",
    "sarif": "application/sarif+json",
    "markdown": "text/markdown",
}

Framework = Literal["flask", "fastapi", "django", "express", "generic"]
Scheme = Literal["basic", "bearer", "apikey"]
Format = Literal["json", "sarif", "markdown"]


class _Server(MCPServer[Any]):
    """Lists each kept report as a resource besides the listing and the template."""

    def __init__(self, reports: Reports, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.reports = reports

    async def list_resources(self) -> list[MCPResource]:
        listed = await super().list_resources()
        return listed + [
            MCPResource(
                uri=f"{URI_PREFIX}/{report_id}",
                name=f"report-{report_id}",
                title=f"{report.target.url}: grade {report.score.grade}",
                mime_type="application/json",
            )
            for report_id, report in self.reports.newest_first()
        ]


def build(allow: AllowList) -> MCPServer[Any]:
    """The server with its tools and resources; `allow` bounds what it may send requests to."""
    reports = Reports()
    scans = anyio.Semaphore(MAX_CONCURRENT_SCANS)
    server = _Server(
        reports,
        name="middlebrick",
        version=__version__,
        instructions=(
            "middlebrick scans HTTP APIs for exposed data and credentials and grades them A-F "
            "with fixes. Credentials are named by environment variable (auth_env, bearer_env), "
            f"never passed as values. Targets allowed: {allow.describe()}. Only GET, HEAD and "
            "OPTIONS requests are sent."
        ),
        log_level="WARNING",
    )
    probe = ToolAnnotations(read_only_hint=True, open_world_hint=True)
    local = ToolAnnotations(read_only_hint=True, open_world_hint=False)

    @server.tool(title="Scan an API", annotations=probe)
    async def scan_api(
        url: Annotated[str, Field(description="Base URL of the API, e.g. http://127.0.0.1:5000")],
        ctx: Context,
        spec: Annotated[
            str | None,
            Field(description="OpenAPI document: a file on the server's machine, or a URL."),
        ] = None,
        auth_env: Annotated[
            str | None,
            Field(
                description="NAME of an environment variable of the MCP server that holds "
                "USER:PASS for HTTP Basic (e.g. API_BASIC); never the credential itself."
            ),
        ] = None,
        bearer_env: Annotated[
            str | None,
            Field(
                description="NAME of an environment variable of the MCP server that holds a "
                "bearer token (e.g. API_TOKEN); never the token itself."
            ),
        ] = None,
        budget_s: Annotated[
            float,
            Field(
                description=f"Seconds for the whole scan, at most {MAX_BUDGET_S:g}.",
                # checked in the tool, so a refusal is one line rather than a validation dump
                json_schema_extra={"exclusiveMinimum": 0, "maximum": MAX_BUDGET_S},
            ),
        ] = 60.0,
        checks: Annotated[
            list[str] | None, Field(description="Run only these check ids (see list_checks).")
        ] = None,
    ) -> Annotated[CallToolResult, results.ReportSummary]:
        """Scan a running HTTP API from outside (GET/HEAD/OPTIONS only, within its origin) and
        return its grade, per-category scores and findings with fixes. Targets must be loopback
        or on the server's allow-list. Takes up to budget_s seconds; sends progress."""
        with _tool_errors():
            if not 0 < budget_s <= MAX_BUDGET_S:
                raise ConfigError(
                    f"budget_s takes 0 < seconds <= {MAX_BUDGET_S:g}, not {budget_s:g}"
                )
            admitted = [await allow.admit(url)]
            if spec is not None and _is_url(spec):
                admitted.append(await allow.admit(spec, what="spec URL"))
            config = ScanConfig(
                pin=pin_of(*admitted),
                target=url,
                spec=spec,
                auth=_secret("auth_env", auth_env, basic=True),
                bearer=_secret("bearer_env", bearer_env),
                budget=budget_s,
                checks=tuple(c.strip().upper() for c in checks or ()),
            )
            async with scans:
                report = await runs.scan(config, ctx)
        return _summary(reports, report)

    @server.tool(title="Audit an OpenAPI document", annotations=local)
    async def audit_spec(
        path_or_url: Annotated[
            str,
            Field(description="An OpenAPI 3.x or Swagger 2.0 file (JSON or YAML), or its URL."),
        ],
    ) -> Annotated[CallToolResult, results.ReportSummary]:
        """Check an API description for security mistakes without calling the API (static
        rules only). A URL is fetched once, under the same allow-list as scans."""
        with _tool_errors():
            if _is_url(path_or_url):
                report = await runs.audit_url(path_or_url, allow)
            else:
                report = await anyio.to_thread.run_sync(engine.audit, path_or_url)
        return _summary(reports, report)

    @server.tool(title="Explain a check", annotations=local)
    def explain_check(
        check_id: Annotated[str, Field(description="A check id, e.g. MB-ENC-001.")],
        framework: Annotated[
            Framework, Field(description="Write the fix for this framework.")
        ] = "generic",
        auth: Annotated[
            Scheme | None, Field(description="The API's auth scheme, where it changes the fix.")
        ] = None,
    ) -> Annotated[CallToolResult, results.Explanation]:
        """What a check finds (severity, CWE, OWASP API Top 10, documentation) and how to fix
        it in the given framework."""
        wanted = check_id.strip().upper()
        if wanted not in BY_ID:
            near = difflib.get_close_matches(wanted, list(BY_ID), n=3, cutoff=0.6)
            hint = f"did you mean {', '.join(near)}?" if near else "list_checks lists them all"
            raise ToolError(f"unknown check id {check_id!r}; {hint}")
        check = BY_ID[wanted]
        text, written_for = _fix(wanted, framework, auth)
        out = results.Explanation(
            **results.check_info(check).model_dump(),
            documentation=results.documentation(check),
            framework=written_for,
            auth=auth,
            remediation=text,
        )
        page = (
            f"# {out.id}: {out.title}\nseverity {out.severity}, {out.category}, "
            f"CWE {', '.join(map(str, out.cwe))}, OWASP {out.owasp}\n\n{out.documentation}\n\n"
            f"## How to fix it ({written_for}{f', {auth}' if auth else ''})\n\n{text}"
        )
        return _result(out, page)

    @server.tool(title="List the checks", annotations=local)
    def list_checks() -> Annotated[CallToolResult, results.CheckList]:
        """Every check middlebrick runs: id, title, category, severity, CWE, OWASP id, kind."""
        out = results.CheckList(checks=[results.check_info(c) for c in ALL])
        lines = [f"{c.id} {c.severity} {c.category}: {c.title}" for c in out.checks]
        return _result(out, "\n".join(lines))

    @server.tool(title="Get a report", annotations=local)
    def get_report(
        report_id: Annotated[str, Field(description="From scan_api or audit_spec.")],
        format: Annotated[Format, Field(description="json, sarif (2.1.0) or markdown.")] = "json",
    ) -> Annotated[CallToolResult, results.ReportDocument]:
        """A kept report in full, rendered as JSON, SARIF or Markdown."""
        report = reports.get(report_id)
        if report is None:
            raise ToolError(reports.missing(report_id))
        text = WRITERS[format].render(report)
        out = results.ReportDocument(
            report_id=report_id.strip(),
            format=format,
            media_type=_MEDIA_TYPES[format],
            content=text,
        )
        return _result(out, text)

    @server.resource(
        URI_PREFIX,
        name="reports",
        title="Recent middlebrick reports",
        description=f"The last {MAX_REPORTS} reports of this server, newest first.",
        mime_type="application/json",
    )
    def report_index() -> str:
        return json.dumps(
            [
                {
                    "report_id": report_id,
                    "uri": f"{URI_PREFIX}/{report_id}",
                    "target": report.target.url,
                    "grade": report.score.grade,
                    "score": report.score.score,
                    "findings": len(report.findings),
                    "finished_at": report.finished_at.isoformat(),
                }
                for report_id, report in reports.newest_first()
            ],
            indent=2,
        )

    @server.resource(
        URI_PREFIX + "/{report_id}",
        name="report",
        title="A middlebrick report (JSON)",
        mime_type="application/json",
    )
    def report_resource(report_id: str) -> str:
        report = reports.get(report_id)
        if report is None:
            raise ResourceNotFoundError(reports.missing(report_id))
        return WRITERS["json"].render(report)

    return server


def run(allow: AllowList, *, http: bool = False, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve over stdio, or over streamable HTTP at http://HOST:PORT/mcp."""
    server = build(allow)
    if http:
        server.run("streamable-http", host=host, port=port)
    else:
        server.run("stdio")


@contextmanager
def _tool_errors() -> Iterator[None]:
    """Expected failures become one-line tool errors; the server goes on serving."""
    try:
        yield
    except MiddlebrickError as exc:
        raise ToolError(str(exc)) from None
    except ValidationError as exc:  # ScanConfig's: names the field, never echoes the value
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ToolError(f"invalid {field}: {first['msg']}") from None


def _secret(option: str, name: str | None, *, basic: bool = False) -> SecretStr | None:
    """The value of the environment variable `name`; the value is never put in a message."""
    if name is None or not name.strip():
        return None
    name = name.strip()
    if not _ENV_NAME.fullmatch(name):
        raise ConfigError(
            f"{option} takes the NAME of an environment variable set for the MCP server "
            "(upper-case letters, digits and _, e.g. API_TOKEN), not a credential"
        )
    value = os.environ.get(name)
    if not value:
        raise ConfigError(f"{option}: environment variable {name} is not set for the MCP server")
    if basic and ":" not in value:
        raise ConfigError(f"{option}: {name} must hold USER:PASS for HTTP Basic")
    return SecretStr(value)


def _is_url(text: str) -> bool:
    return text.strip().lower().startswith(("http://", "https://"))


def _fix(check_id: str, framework: str, auth: str | None) -> tuple[str, str]:
    """`fix_for` with the auth scheme when it takes one (it gained the argument recently;
    this works with either signature)."""
    call: Callable[..., tuple[str, str]] = fix_for
    if auth is not None and len(inspect.signature(call).parameters) >= 3:
        return call(check_id, framework, auth)
    return call(check_id, framework)


def _summary(reports: Reports, report: Report) -> CallToolResult:
    report_id = reports.add(report)
    summary = results.summarise(report, report_id, f"{URI_PREFIX}/{report_id}")
    return _result(summary, results.summary_text(summary))


def _result(structured: BaseModel, text: str) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(text=text)], structured_content=structured.model_dump(mode="json")
    )
