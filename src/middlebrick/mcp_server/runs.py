"""A scan or an audit as the MCP tools run them: the engine's events relayed as MCP progress, and
an audit of a spec fetched from a URL."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import anyio
from mcp.server.mcpserver import Context

from middlebrick import engine
from middlebrick.config import ScanConfig
from middlebrick.engine.events import CheckFinished, Event, Phase
from middlebrick.http.client import fetch_document, tls_context
from middlebrick.mcp_server.targets import AllowList
from middlebrick.model import Report

SPEC_FETCH_TIMEOUT = 30.0
_ENGINE_PHASES = 6  # recon, inventory, baseline, checks, analysis, report (+ spec when given)


async def scan(config: ScanConfig, ctx: Context) -> Report:
    """Run the engine, relaying its events as MCP progress (a no-op unless the client asked)."""
    total = len(engine.select_checks(config)) + _ENGINE_PHASES + (1 if config.spec else 0)
    send, receive = anyio.create_memory_object_stream[tuple[float, str]](math.inf)
    phases = checks_done = 0

    def on_event(event: Event) -> None:
        nonlocal phases, checks_done
        if isinstance(event, Phase):
            phases += 1
            message = f"{event.name} {event.detail}".strip()
        elif isinstance(event, CheckFinished):
            checks_done = event.done
            message = f"{event.check_id} {event.status} ({event.done}/{event.total} checks)"
        else:
            return
        send.send_nowait((float(min(phases + checks_done, total)), message))

    async def relay() -> None:
        async with receive:
            async for progress, message in receive:
                await ctx.report_progress(progress, total, message)

    report: Report | None = None
    failure: Exception | None = None
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(relay)
        try:
            report = await engine.scan(config, on_event)
        except Exception as exc:  # re-raised below: the task group would wrap it in a group
            failure = exc
        finally:
            send.close()
    if failure is not None:
        raise failure
    assert report is not None
    return report


async def audit_url(url: str, allow: AllowList) -> Report:
    """Fetch the document (allow-list first, then only from the admitted addresses), audit it
    from a temporary file, and name it by its URL in the report."""
    admitted = await allow.admit(url, what="spec URL")
    text = await fetch_document(
        url, verify=tls_context(None, False), seconds=SPEC_FETCH_TIMEOUT, pin=admitted.pin
    )
    suffix = PurePosixPath(urlsplit(url).path).suffix.lower()
    with tempfile.TemporaryDirectory(prefix="middlebrick-mcp-") as folder:
        path = Path(folder) / f"spec{suffix if suffix in ('.json', '.yaml', '.yml') else ''}"
        path.write_text(text, encoding="utf-8")
        report = await anyio.to_thread.run_sync(engine.audit, str(path))
    findings = [
        f.model_copy(
            update={"locations": [loc.model_copy(update={"file": url}) for loc in f.locations]}
        )
        for f in report.findings
    ]
    target = report.target.model_copy(update={"url": url, "origin": url, "scanned_origin": url})
    return report.model_copy(
        update={
            "target": target,
            "spec": url,
            "config": {**report.config, "spec": url},
            "findings": findings,
        }
    )
