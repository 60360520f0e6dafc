"""`middlebrick mcp`: the scanner as a Model Context Protocol server, for AI assistants."""

from __future__ import annotations

import ipaddress
import os
from typing import Annotated

import typer

from middlebrick.cli import app, boundary, stderr
from middlebrick.errors import ConfigError


@app.command("mcp")
def mcp_server(
    http: Annotated[
        bool, typer.Option("--http", help="Serve streamable HTTP at /mcp instead of stdio.")
    ] = False,
    host: Annotated[
        str,
        typer.Option(help="With --http: the address to bind (no authentication: keep it local)."),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="With --http: the port.")] = 8765,
    allow: Annotated[
        list[str] | None,
        typer.Option(
            "--allow",
            help="Also allow scanning HOST[:PORT] (glob on the host, e.g. '*.staging.example.com',"
            " an IP or a CIDR); repeatable. Loopback is always allowed. Env: MIDDLEBRICK_MCP_ALLOW"
            " (comma-separated).",
        ),
    ] = None,
) -> None:
    """Run an MCP server (stdio by default) whose tools scan APIs, audit specs and explain fixes."""
    with boundary():
        try:
            from middlebrick.mcp_server import server
        except ModuleNotFoundError as exc:
            if exc.name is None or not exc.name.startswith("mcp"):
                raise
            raise ConfigError(
                "the MCP server needs the mcp extra: pip install 'middlebrick[mcp]'"
            ) from None
        from middlebrick.mcp_server.targets import ENV_VAR, AllowList

        allowed = AllowList.from_options(allow or [], os.environ)
        if http:
            if not 0 < port < 65536:
                raise ConfigError(f"--port takes 1-65535, not {port}")
            if not _loopback(host):
                stderr.print(
                    f"warning: {host} is not a loopback address; the MCP endpoint has no "
                    "authentication, so anyone who reaches it can scan what you allow"
                )
            stderr.print(
                f"middlebrick MCP server: http://{_netloc(host, port)}/mcp "
                f"(targets: {allowed.describe()}; {ENV_VAR} and --allow add more)"
            )
        server.run(allowed, http=http, host=host, port=port)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _netloc(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
