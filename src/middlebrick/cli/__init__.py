"""The `middlebrick` command. The only package that prints errors and chooses exit codes:
0 clean, 1 the CI gate failed (--fail-on, --min-grade), 2 usage or configuration error, 3 the
scan could not run.

    __init__   the Typer app, the error boundary
    scanning   scan, audit: settings from options and .middlebrick.yml, outputs, the CI gate
    fleet      scan-many (a scan per target of a fleet file, a table of grades)
    reports    report (re-render a saved report), diff (compare two)
    info       checks, demo
    explain    explain (a check's fix per framework and scheme, the CWE table)
    mcp_command  mcp (the MCP server in middlebrick.mcp_server, over stdio or HTTP)
    worker     worker (a Celery worker running the dashboard's and fleet scans)
    serve      serve (the dashboard in middlebrick.web, on uvicorn)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console

from middlebrick import __version__
from middlebrick.errors import ConfigError, MiddlebrickError

app = typer.Typer(
    name="middlebrick",
    help="Scan an HTTP API for exposed data and credentials; get a graded report with fixes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
stderr = Console(stderr=True, highlight=False)


def _version(value: bool) -> None:
    if value:
        print(f"middlebrick {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
    log_level: Annotated[
        str | None,
        typer.Option(
            "--log-level",
            envvar="MIDDLEBRICK_LOG_LEVEL",
            metavar="LEVEL",
            help="Diagnostic log on stderr: error, warning, info or debug (one line per request).",
        ),
    ] = None,
    log_file: Annotated[
        Path | None,
        typer.Option("--log-file", help="Write the diagnostic log to this file (level: info)."),
    ] = None,
) -> None:
    """middlebrick: API security scanner."""
    from middlebrick.cli import logs

    with boundary():
        logs.configure(log_level, log_file)


def die(message: str, code: int) -> NoReturn:
    stderr.print(f"[bold red]error:[/] {message}", soft_wrap=True, markup=True, highlight=False)
    raise typer.Exit(code)


@contextmanager
def boundary() -> Iterator[None]:
    """Turn every expected failure into one line on stderr and its exit code."""
    try:
        yield
    except MiddlebrickError as exc:
        die(escape(str(exc)), exc.exit_code)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        die(escape(f"invalid {field}: {first['msg']}"), ConfigError.exit_code)
    except KeyboardInterrupt:
        die("interrupted", 130)


def escape(text: str) -> str:
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def main() -> None:
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    app()


# the commands register themselves on `app`
from middlebrick.cli import (  # noqa: E402
    explain,
    fleet,
    info,
    mcp_command,
    reports,
    scanning,
    serve,
    worker,
)

__all__ = [
    "app",
    "explain",
    "fleet",
    "info",
    "main",
    "mcp_command",
    "reports",
    "scanning",
    "serve",
    "worker",
]
