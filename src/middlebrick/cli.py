"""The `middlebrick` command. The only module of the CLI that prints errors and chooses exit codes:
0 clean, 1 findings at or above --fail-on, 2 usage or configuration error, 3 the scan could not run.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from pydantic import SecretStr, ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

from middlebrick import __version__
from middlebrick.config import ScanConfig, parse_header
from middlebrick.errors import ConfigError, MiddlebrickError
from middlebrick.model import Report, Severity

app = typer.Typer(
    name="middlebrick",
    help="Scan an HTTP API for exposed data and credentials; get a graded report with fixes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
stderr = Console(stderr=True, highlight=False)


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"


def _version(value: bool) -> None:
    if value:
        print(f"middlebrick {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """middlebrick: API security scanner."""


def die(message: str, code: int) -> NoReturn:
    stderr.print(f"[bold red]error:[/] {message}", soft_wrap=True, markup=True, highlight=False)
    raise typer.Exit(code)


@contextmanager
def boundary() -> Iterator[None]:
    """Turn every expected failure into one line on stderr and its exit code."""
    try:
        yield
    except MiddlebrickError as exc:
        die(_escape(str(exc)), exc.exit_code)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        die(_escape(f"invalid {field}: {first['msg']}"), ConfigError.exit_code)
    except KeyboardInterrupt:
        die("interrupted", 130)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


@app.command()
def scan(
    url: Annotated[
        str, typer.Argument(help="Base URL of the API, e.g. https://api.example.com/v1")
    ],
    spec: Annotated[str | None, typer.Option(help="OpenAPI document: a file or URL.")] = None,
    auth: Annotated[
        str | None,
        typer.Option(
            help="USER:PASS for HTTP Basic (or env MIDDLEBRICK_AUTH).",
            envvar="MIDDLEBRICK_AUTH",
            show_envvar=True,
        ),
    ] = None,
    bearer: Annotated[
        str | None,
        typer.Option(
            help="Bearer token (or env MIDDLEBRICK_BEARER).",
            envvar="MIDDLEBRICK_BEARER",
            show_envvar=True,
        ),
    ] = None,
    header: Annotated[
        list[str] | None,
        typer.Option("--header", "-H", help='Extra header "Name: value"; repeatable.'),
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Report format.")] = Format.TEXT,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report here.")
    ] = None,
    ca_bundle: Annotated[
        Path | None, typer.Option(help="PEM file of CAs to trust for the target.")
    ] = None,
    insecure: Annotated[
        bool, typer.Option(help="Do not verify the target's TLS certificate.")
    ] = False,
    timeout: Annotated[float, typer.Option(help="Seconds per request.")] = 10.0,
    concurrency: Annotated[int, typer.Option(help="Requests in flight at once.")] = 8,
    rate: Annotated[float | None, typer.Option(help="Requests per second at most.")] = None,
    budget: Annotated[float, typer.Option(help="Seconds for the whole scan.")] = 60.0,
    fail_on: Annotated[
        Severity | None, typer.Option(help="Exit 1 if any finding is at or above this severity.")
    ] = None,
    unsafe: Annotated[
        bool, typer.Option(help="Allow methods other than GET/HEAD/OPTIONS.")
    ] = False,
    check: Annotated[
        list[str] | None, typer.Option("--check", help="Run only this check id; repeatable.")
    ] = None,
    skip: Annotated[
        list[str] | None, typer.Option("--skip", help="Skip this check id; repeatable.")
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress display or notes.")
    ] = False,
) -> None:
    """Scan a running API and report what it exposes."""
    with boundary():
        if ca_bundle is not None and not ca_bundle.is_file():
            raise ConfigError(f"--ca-bundle {ca_bundle}: no such file")
        config = ScanConfig(
            target=url,
            spec=spec,
            auth=SecretStr(auth) if auth else None,
            bearer=SecretStr(bearer) if bearer else None,
            headers=tuple(parse_header(h) for h in header or ()),
            ca_bundle=ca_bundle,
            insecure=insecure,
            timeout=timeout,
            concurrency=concurrency,
            rate=rate,
            budget=budget,
            fail_on=fail_on,
            unsafe=unsafe,
            checks=tuple(check or ()),
            skip_checks=tuple(skip or ()),
        )
        report = run_scan(config, quiet=quiet)
        emit(report, fmt, output)
    if fail_on is not None and report.findings_at_or_above(fail_on):
        raise typer.Exit(1)


def run_scan(config: ScanConfig, *, quiet: bool) -> Report:
    from middlebrick.engine import scan as engine_scan
    from middlebrick.engine.events import CheckFinished, Event, Phase

    if quiet or not stderr.is_terminal:
        return asyncio.run(engine_scan(config))
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=stderr,
        transient=True,
    ) as progress:
        task = progress.add_task("recon", total=None)

        def on_event(event: Event) -> None:
            if isinstance(event, Phase):
                progress.update(task, description=f"{event.name} {event.detail}".strip())
            elif isinstance(event, CheckFinished):
                progress.update(task, completed=event.done, total=event.total)

        return asyncio.run(engine_scan(config, on_event))


def emit(report: Report, fmt: Format, output: Path | None) -> None:
    from middlebrick.report import WRITERS
    from middlebrick.report.text import show

    if output is not None:
        try:
            output.write_text(WRITERS[fmt].render(report), encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot write {output}: {exc.strerror}") from None
        stderr.print(f"report written to {output} (grade {report.score.grade})")
    elif fmt is Format.TEXT:
        show(report, Console(highlight=False))
    else:
        sys.stdout.write(WRITERS[fmt].render(report))


@app.command()
def audit(
    spec: Annotated[Path, typer.Argument(help="OpenAPI 3.x or Swagger 2.0 file (JSON or YAML).")],
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Report format.")] = Format.TEXT,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report here.")
    ] = None,
    fail_on: Annotated[
        Severity | None, typer.Option(help="Exit 1 if any finding is at or above this severity.")
    ] = None,
    check: Annotated[
        list[str] | None, typer.Option("--check", help="Run only this rule; repeatable.")
    ] = None,
    skip: Annotated[
        list[str] | None, typer.Option("--skip", help="Skip this rule; repeatable.")
    ] = None,
) -> None:
    """Check an API description for security mistakes, without sending any request."""
    from middlebrick.engine import audit as run_audit

    with boundary():
        report = run_audit(str(spec), checks=tuple(check or ()), skip=tuple(skip or ()))
        emit(report, fmt, output)
    if fail_on is not None and report.findings_at_or_above(fail_on):
        raise typer.Exit(1)


@app.command("checks")
def list_checks(
    fmt: Annotated[Format, typer.Option("--format", "-f", help="text or json.")] = Format.TEXT,
) -> None:
    """List every check: id, title, category, severity, CWE and OWASP API Top 10 (2023) id."""
    from rich.table import Table

    from middlebrick.checks import ALL

    if fmt is Format.JSON:
        import json

        rows = [
            {
                "id": c.id,
                "title": c.title,
                "category": c.category,
                "severity": c.severity,
                "cwe": list(c.cwe),
                "owasp": c.owasp,
                "kind": c.kind,
                "summary": c.summary,
            }
            for c in ALL
        ]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    table = Table("id", "title", "category", "severity", "CWE", "OWASP", box=None, highlight=False)
    for c in ALL:
        table.add_row(c.id, c.title, c.category, c.severity, ",".join(map(str, c.cwe)), c.owasp)
    Console(highlight=False).print(table)


@app.command()
def demo(
    fixed_only: Annotated[bool, typer.Option(help="Scan only the fixed twin.")] = False,
) -> None:
    """Start the bundled vulnerable demo API on loopback, scan it, then scan its fixed twin."""
    from middlebrick.demo.run import run_demo

    with boundary():
        run_demo(
            lambda config: run_scan(config, quiet=False),
            Console(highlight=False),
            fixed_only=fixed_only,
        )


def main() -> None:
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    app()
