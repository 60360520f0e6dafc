"""`middlebrick mcp` as an assistant meets it: a real server subprocess (`python -m middlebrick
mcp`), driven by the MCP SDK's own client over stdio and over streamable HTTP, scanning the demo
API on loopback with a credential the server reads from its environment."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
import yaml
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult, TextContent, TextResourceContents

from audit.specs import careless
from middlebrick.demo.apps import DEMO_PASSWORD, DEMO_USER, vulnerable_app
from middlebrick.demo.server import Served, serve

from targets.raw import closed_port

pytestmark = pytest.mark.anyio

CREDENTIAL = f"{DEMO_USER}:{DEMO_PASSWORD}"
SECRETS = (CREDENTIAL, DEMO_PASSWORD, base64.b64encode(CREDENTIAL.encode()).decode())
SERVER_ENV = {"API_BASIC": CREDENTIAL, "PYTHONIOENCODING": "utf-8"}
TOOLS = {"scan_api", "audit_spec", "explain_check", "list_checks", "get_report"}


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The vulnerable demo API, which also serves a log holding the password it was sent."""
    with serve(vulnerable_app(tmp_path_factory.mktemp("demo-log"))) as served:
        yield served


@pytest.fixture(scope="module")
def server_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mcp") / "stderr.log"


@pytest.fixture(scope="module")
async def stdio(server_log: Path) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "middlebrick", "mcp"], env=SERVER_ENV
    )
    with server_log.open("w") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield session


@pytest.fixture(scope="module")
def http_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = closed_port()
    log = tmp_path_factory.mktemp("mcp-http") / "stderr.log"
    with log.open("w") as errlog:
        process = subprocess.Popen(
            [sys.executable, "-m", "middlebrick", "mcp", "--http", "--port", str(port)],
            env={**os.environ, **SERVER_ENV},
            stdin=subprocess.DEVNULL,
            stdout=errlog,
            stderr=errlog,
        )
        try:
            _wait_until_listening(port, process)
            yield f"http://127.0.0.1:{port}/mcp"
        finally:
            process.terminate()
            process.wait(timeout=10)
    assert not any(secret in log.read_text() for secret in SECRETS)


@pytest.fixture(scope="module")
async def http(http_url: str) -> AsyncIterator[ClientSession]:
    async with (
        streamable_http_client(http_url) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


def _wait_until_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "the MCP server exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on port {port}")


def text_of(result: CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, TextContent))


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


async def scan(session: ClientSession, api: Served) -> tuple[CallToolResult, list[Any]]:
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total, message))

    result = await session.call_tool(
        "scan_api",
        {"url": api.url, "auth_env": "API_BASIC", "budget_s": 60},
        progress_callback=on_progress,
    )
    return result, progress


async def assert_tool_error(
    session: ClientSession, tool: str, args: dict[str, Any], *say: str
) -> None:
    result = await session.call_tool(tool, args)
    assert result.is_error, text_of(result)
    message = text_of(result)
    assert len(message.splitlines()) == 1, message
    for fragment in say:
        assert fragment in message
    # and the server goes on serving
    after = await session.call_tool("list_checks", {})
    assert not after.is_error


# stdio --------------------------------------------------------------------------------------------


async def test_tools_publish_input_and_output_schemas(stdio: ClientSession) -> None:
    tools = {t.name: t for t in (await stdio.list_tools()).tools}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.description
        assert tool.input_schema["type"] == "object"
        assert tool.output_schema is not None
        assert tool.output_schema["type"] == "object"
    scan_args = tools["scan_api"].input_schema["properties"]
    assert set(scan_args) == {"url", "spec", "auth_env", "bearer_env", "budget_s", "checks"}
    assert "unsafe" not in json.dumps(tools["scan_api"].input_schema)
    assert scan_args["budget_s"]["maximum"] == 300
    assert {"grade", "score", "categories", "findings", "report_id"} <= set(
        tools["scan_api"].output_schema["properties"]  # type: ignore[index]
    )


async def test_scan_api_grades_finds_and_fixes_without_echoing_the_credential(
    stdio: ClientSession, api: Served, server_log: Path
) -> None:
    result, progress = await scan(stdio, api)

    assert not result.is_error, text_of(result)
    out = result.structured_content
    assert out is not None
    assert out["grade"] in "DF"  # plain HTTP with a Basic challenge: a critical finding
    assert out["score"] < 70
    assert {c["category"] for c in out["categories"]} >= {"encryption", "data_exposure"}
    ids = {f["check_id"] for f in out["findings"]}
    assert {"MB-ENC-001", "MB-DATA-001"} <= ids
    for finding in out["findings"]:
        assert finding["fix"]
        assert finding["framework"] == "flask"
        assert 1 <= len(finding["endpoints"]) <= 5
    text = text_of(result)
    assert f"Grade {out['grade']}" in text
    assert out["report_id"] in text
    assert "fix (flask)" in text
    # the demo serves its log, where the password was written: the report shows it masked
    assert_no_secret(text, json.dumps(out), await anyio.Path(server_log).read_text())

    assert progress, "no progress notification during the scan"
    steps = [done for done, _, _ in progress]
    assert steps == sorted(set(steps))  # strictly increasing
    assert all(total is not None and done <= total for done, total, _ in progress)
    assert any("checks)" in (message or "") for _, _, message in progress)


async def test_scan_api_takes_a_spec_url(stdio: ClientSession, api: Served) -> None:
    result = await stdio.call_tool(
        "scan_api", {"url": api.url, "spec": f"{api.url}/openapi.json", "checks": ["mb-auth-001"]}
    )

    assert not result.is_error, text_of(result)
    out = result.structured_content
    assert out is not None
    assert [f["check_id"] for f in out["findings"]] == ["MB-AUTH-001"]  # the unguarded route


async def test_get_report_renders_json_sarif_and_markdown(
    stdio: ClientSession, api: Served
) -> None:
    result, _ = await scan(stdio, api)
    report_id = result.structured_content["report_id"]  # type: ignore[index]

    rendered = {}
    for fmt in ("json", "sarif", "markdown"):
        got = await stdio.call_tool("get_report", {"report_id": report_id, "format": fmt})
        assert not got.is_error, text_of(got)
        assert got.structured_content["format"] == fmt  # type: ignore[index]
        rendered[fmt] = text_of(got)
        assert rendered[fmt] == got.structured_content["content"]  # type: ignore[index]
    report = json.loads(rendered["json"])
    assert report["score"]["grade"] == result.structured_content["grade"]  # type: ignore[index]
    assert report["findings"][0]["remediation"]
    assert json.loads(rendered["sarif"])["version"] == "2.1.0"
    assert rendered["markdown"].lstrip().startswith("#")
    assert_no_secret(*rendered.values())

    default = await stdio.call_tool("get_report", {"report_id": report_id})
    assert json.loads(text_of(default)) == report


async def test_reports_are_resources(stdio: ClientSession, api: Served) -> None:
    result, _ = await scan(stdio, api)
    report_id = result.structured_content["report_id"]  # type: ignore[index]
    uri = f"middlebrick://reports/{report_id}"

    listed = {str(r.uri) for r in (await stdio.list_resources()).resources}
    assert {"middlebrick://reports", uri} <= listed
    templates = (await stdio.list_resource_templates()).resource_templates
    assert [t.uri_template for t in templates] == ["middlebrick://reports/{report_id}"]

    content = (await stdio.read_resource(uri)).contents[0]
    assert isinstance(content, TextResourceContents)
    assert content.mime_type == "application/json"
    assert json.loads(content.text)["target"]["url"] == api.url
    assert_no_secret(content.text)

    index = (await stdio.read_resource("middlebrick://reports")).contents[0]
    assert isinstance(index, TextResourceContents)
    assert json.loads(index.text)[0]["report_id"] == report_id  # newest first


async def test_explain_check_gives_the_fix_for_a_framework(stdio: ClientSession) -> None:
    result = await stdio.call_tool(
        "explain_check", {"check_id": "mb-enc-001", "framework": "flask", "auth": "basic"}
    )
    assert not result.is_error, text_of(result)
    out = result.structured_content
    assert out is not None
    assert (out["id"], out["framework"], out["auth"]) == ("MB-ENC-001", "flask", "basic")
    assert out["cwe"]
    assert out["owasp"].startswith("API")
    assert out["severity"] == "high"
    assert out["documentation"]
    assert out["remediation"]
    assert out["remediation"] in text_of(result)


async def test_list_checks_lists_the_registry(stdio: ClientSession) -> None:
    from middlebrick.checks import ALL

    result = await stdio.call_tool("list_checks", {})
    checks = result.structured_content["checks"]  # type: ignore[index]
    assert [c["id"] for c in checks] == [c.id for c in ALL]
    assert set(checks[0]) >= {"id", "title", "category", "severity", "cwe", "owasp"}
    assert len(text_of(result).splitlines()) == len(ALL)


async def test_audit_spec_reads_a_file(stdio: ClientSession, tmp_path: Path) -> None:
    path = tmp_path / "openapi.yaml"
    path.write_text(yaml.safe_dump(careless()))

    result = await stdio.call_tool("audit_spec", {"path_or_url": str(path)})

    assert not result.is_error, text_of(result)
    out = result.structured_content
    assert out is not None
    assert out["findings_total"] > 0
    assert out["requests_sent"] == 0
    assert "MB-AUTH-007" in {f["check_id"] for f in out["findings"]}


async def test_audit_spec_fetches_an_allowed_url(stdio: ClientSession) -> None:
    body = json.dumps(careless()).encode()

    def spec_app(environ: Any, start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]

    with serve(spec_app) as served:
        url = f"{served.url}/openapi.json"
        result = await stdio.call_tool("audit_spec", {"path_or_url": url})

    assert not result.is_error, text_of(result)
    out = result.structured_content
    assert out is not None
    assert out["target"] == url
    assert "MB-AUTH-007" in {f["check_id"] for f in out["findings"]}
    report = await stdio.call_tool("get_report", {"report_id": out["report_id"]})
    locations = [loc for f in json.loads(text_of(report))["findings"] for loc in f["locations"]]
    assert locations
    assert {loc["file"] for loc in locations} == {url}  # named by its URL, not the temporary file


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ({"url": "http://exa mple.com:x/"}, "not a valid URL"),
        ({"url": "ftp://127.0.0.1/"}, "only http:// and https://"),
        ({"url": "http://example.com"}, "example.com:80 is not on this MCP server's allow-list"),
        ({"url": "http://10.0.0.1"}, "10.0.0.1:80 (a non-public address) is not on"),
        ({"url": "http://169.254.169.254/latest"}, "(a non-public address) is not on"),
        ({"url": "http://[::ffff:10.0.0.1]"}, "a non-public address"),
        ({"url": "http://127.0.0.1", "spec": "http://example.com/openapi.json"}, "spec URL"),
        ({"url": "http://127.0.0.1", "auth_env": "MB_NOT_SET"}, "MB_NOT_SET is not set"),
        ({"url": "http://127.0.0.1", "bearer_env": "sk-live-123"}, "NAME of an environment"),
        ({"url": "http://127.0.0.1", "checks": ["MB-NOPE-001"]}, "unknown check id"),
        ({"url": "http://127.0.0.1", "budget_s": 3600}, "budget_s takes 0 < seconds <= 300"),
        ({"url": "http://127.0.0.1", "budget_s": 0}, "budget_s takes"),
    ],
)
async def test_bad_scan_requests_are_tool_errors(
    stdio: ClientSession, args: dict[str, Any], says: str
) -> None:
    await assert_tool_error(stdio, "scan_api", args, says)


async def test_an_unreachable_target_is_a_tool_error(stdio: ClientSession) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    await assert_tool_error(stdio, "scan_api", {"url": url}, "connection refused")


async def test_a_refused_token_name_is_not_echoed(stdio: ClientSession) -> None:
    result = await stdio.call_tool("scan_api", {"url": "http://127.0.0.1", "bearer_env": "tok3n"})
    assert result.is_error
    assert "tok3n" not in text_of(result)


async def test_other_tool_errors(stdio: ClientSession, tmp_path: Path) -> None:
    await assert_tool_error(
        stdio, "explain_check", {"check_id": "MB-ENC-01"}, "did you mean MB-ENC-0"
    )
    await assert_tool_error(stdio, "get_report", {"report_id": "feedface"}, "no report")
    await assert_tool_error(
        stdio, "audit_spec", {"path_or_url": str(tmp_path / "none.yaml")}, "cannot read spec"
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text("openapi: [unclosed\n")
    await assert_tool_error(stdio, "audit_spec", {"path_or_url": str(bad)}, "bad.yaml")
    await assert_tool_error(
        stdio, "audit_spec", {"path_or_url": "http://example.com/openapi.json"}, "allow-list"
    )


# streamable HTTP ----------------------------------------------------------------------------------


async def test_streamable_http_serves_the_same_tools(http: ClientSession, api: Served) -> None:
    tools = (await http.list_tools()).tools
    assert {t.name for t in tools} == TOOLS

    result, progress = await scan(http, api)

    assert not result.is_error, text_of(result)
    assert result.structured_content["grade"] in "DF"  # type: ignore[index]
    assert progress
    assert_no_secret(text_of(result), json.dumps(result.structured_content))
    await assert_tool_error(http, "scan_api", {"url": "http://10.0.0.1"}, "allow-list")
