"""`middlebrick scan` and `middlebrick audit`: settings from the options and .middlebrick.yml,
the run, the outputs, and the CI gate."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Literal, TypeVar

import typer
from pydantic import SecretStr
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

from middlebrick import project, triage
from middlebrick.cli import app, boundary, escape, logs, stderr
from middlebrick.cli.outputs import check_formats, emit, load_report
from middlebrick.config import ScanConfig, parse_header
from middlebrick.errors import ConfigError
from middlebrick.model import Report, Severity

Grade = Literal["A", "B", "C", "D", "F"]
T = TypeVar("T")

FormatOption = Annotated[
    list[str] | None,
    typer.Option(
        "--format",
        "-f",
        help="text, json, sarif, junit, html or markdown; repeat for several (with --output-dir).",
    ),
]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write the report to this file.")
]
OutputDirOption = Annotated[
    Path | None,
    typer.Option(help="Write one file per format here (middlebrick.json, middlebrick.sarif, …)."),
]
FailOnOption = Annotated[
    Severity | None,
    typer.Option(help="Exit 1 if a finding (a new one, with --baseline) is at or above this."),
]
MinGradeOption = Annotated[
    str | None, typer.Option(help="Exit 1 if the grade is worse than this (A-F).")
]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="Settings file (default: ./.middlebrick.yml if present)."),
]
BaselineOption = Annotated[
    Path | None,
    typer.Option(help="A previous JSON report: mark findings new/unchanged/fixed; gate on new."),
]


def project_config(path: Path | None) -> project.ProjectConfig:
    if path is not None:
        return project.load(path)
    found = project.find(Path.cwd())
    return project.load(found) if found is not None else project.ProjectConfig()


def grade_option(value: str | None) -> Grade | None:
    if value is None:
        return None
    grade = value.strip().upper()
    if grade not in ("A", "B", "C", "D", "F"):
        raise ConfigError(f"--min-grade takes A, B, C, D or F, not {value!r}")
    return grade  # type: ignore[return-value]


@app.command()
def scan(
    url: Annotated[
        str | None,
        typer.Argument(
            help="Base URL of the API, e.g. https://api.example.com/v1", show_default=False
        ),
    ] = None,
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
    fmt: FormatOption = None,
    output: OutputOption = None,
    output_dir: OutputDirOption = None,
    ca_bundle: Annotated[
        Path | None, typer.Option(help="PEM file of CAs to trust for the target.")
    ] = None,
    insecure: Annotated[
        bool, typer.Option(help="Do not verify the target's TLS certificate.")
    ] = False,
    timeout: Annotated[float | None, typer.Option(help="Seconds per request [10].")] = None,
    concurrency: Annotated[int | None, typer.Option(help="Requests in flight at once [8].")] = None,
    rate: Annotated[float | None, typer.Option(help="Requests per second at most.")] = None,
    budget: Annotated[float | None, typer.Option(help="Seconds for the whole scan [60].")] = None,
    fail_on: FailOnOption = None,
    min_grade: MinGradeOption = None,
    baseline: BaselineOption = None,
    unsafe: Annotated[
        bool, typer.Option(help="Allow methods other than GET/HEAD/OPTIONS.")
    ] = False,
    check: Annotated[
        list[str] | None, typer.Option("--check", help="Run only this check id; repeatable.")
    ] = None,
    skip: Annotated[
        list[str] | None, typer.Option("--skip", help="Skip this check id; repeatable.")
    ] = None,
    config: ConfigOption = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress display or notes.")
    ] = False,
    upload: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            help="Also push the JSON report to this middlebrick dashboard "
            "(API token in env MIDDLEBRICK_TOKEN).",
        ),
    ] = None,
) -> None:
    """Scan a running API and report what it exposes."""
    from middlebrick.cli.upload import destination, push

    with boundary():
        settings = project_config(config)
        target = url or settings.target
        if not target:
            raise ConfigError("give the API's URL, or `target:` in .middlebrick.yml")
        dashboard = destination(upload) if upload is not None else None
        if ca_bundle is not None and not ca_bundle.is_file():
            raise ConfigError(f"--ca-bundle {ca_bundle}: no such file")
        formats = check_formats(fmt or list(settings.format) or ["text"])
        fail_on = fail_on or settings.fail_on
        grade = grade_option(min_grade) or settings.min_grade
        old = _baseline(baseline, settings)
        defaults = ScanConfig.model_fields
        scan_config = ScanConfig(
            target=target,
            spec=spec or settings.spec,
            auth=SecretStr(auth) if auth else settings.secret(settings.auth_env, "auth_env"),
            bearer=SecretStr(bearer)
            if bearer
            else settings.secret(settings.bearer_env, "bearer_env"),
            headers=tuple(parse_header(h) for h in header or ()) or settings.header_values(),
            ca_bundle=ca_bundle,
            insecure=insecure,
            timeout=_first(timeout, settings.timeout, defaults["timeout"].default),
            concurrency=_first(concurrency, settings.concurrency, defaults["concurrency"].default),
            rate=rate if rate is not None else settings.rate,
            budget=_first(budget, settings.budget, defaults["budget"].default),
            fail_on=fail_on,
            unsafe=unsafe or bool(settings.unsafe),
            checks=tuple(check or settings.checks),
            skip_checks=tuple(skip or settings.skip),
            suppress=settings.suppress,
        )
        logs.protect(scan_config)
        report = run_scan(scan_config, quiet=quiet)
        report = finish(
            report, old, formats, output, output_dir or _path(settings.output_dir), fail_on
        )
        if dashboard is not None:
            stderr.print(f"report uploaded: {escape(push(report, dashboard))}")
    gate(report, fail_on, grade)


@app.command()
def audit(
    spec: Annotated[
        Path | None,
        typer.Argument(help="OpenAPI 3.x or Swagger 2.0 file (JSON or YAML).", show_default=False),
    ] = None,
    fmt: FormatOption = None,
    output: OutputOption = None,
    output_dir: OutputDirOption = None,
    fail_on: FailOnOption = None,
    min_grade: MinGradeOption = None,
    baseline: BaselineOption = None,
    check: Annotated[
        list[str] | None, typer.Option("--check", help="Run only this rule; repeatable.")
    ] = None,
    skip: Annotated[
        list[str] | None, typer.Option("--skip", help="Skip this rule; repeatable.")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Check an API description for security mistakes, without sending any request."""
    from middlebrick.engine import audit as run_audit

    with boundary():
        settings = project_config(config)
        source = spec or _path(settings.spec)
        if source is None:
            raise ConfigError("give the spec file, or `spec:` in .middlebrick.yml")
        formats = check_formats(fmt or list(settings.format) or ["text"])
        fail_on = fail_on or settings.fail_on
        grade = grade_option(min_grade) or settings.min_grade
        old = _baseline(baseline, settings)
        report = run_audit(
            str(source),
            checks=tuple(check or settings.checks),
            skip=tuple(skip or settings.skip),
            suppress=settings.suppress,
        )
        report = finish(
            report, old, formats, output, output_dir or _path(settings.output_dir), fail_on
        )
    gate(report, fail_on, grade)


def finish(
    report: Report,
    baseline: Report | None,
    formats: list[str],
    output: Path | None,
    output_dir: Path | None,
    fail_on: Severity | None,
) -> Report:
    """Compare with the baseline, if any, and write the report in every format asked for."""
    if baseline is not None:
        report = triage.compare(report, baseline)
    emit(report, formats, output=output, output_dir=output_dir, fail_on=fail_on, stderr=stderr)
    return report


def gate(report: Report, fail_on: Severity | None, min_grade: Grade | None) -> None:
    """Exit 1, saying why, when the report fails the CI settings."""
    reasons = triage.verdict(report, fail_on=fail_on, min_grade=min_grade)
    if reasons:
        stderr.print(f"[bold]failing:[/] {escape('; '.join(reasons))}")
        raise typer.Exit(1)


def _baseline(path: Path | None, settings: project.ProjectConfig) -> Report | None:
    chosen = path or _path(settings.baseline)
    return load_report(chosen) if chosen is not None else None


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def _first(*values: T | None) -> T:
    return next(v for v in values if v is not None)


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
