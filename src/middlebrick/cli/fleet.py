"""`middlebrick scan-many FILE`: a scan per target of a fleet file, and a table of grades.

Exit code: 3 when some target could not be scanned, else 1 when some report fails `--fail-on`
or `--min-grade` (the file's `defaults` count too), else 0.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from middlebrick import fleet, project, triage
from middlebrick.cli import app, boundary, escape, stderr
from middlebrick.cli.outputs import check_formats, emit
from middlebrick.cli.scanning import FailOnOption, MinGradeOption, grade_option
from middlebrick.config import ScanConfig
from middlebrick.errors import ConfigError
from middlebrick.model import Severity

_SUMMARY = "summary.json"


@app.command("scan-many")
def scan_many(
    file: Annotated[Path, typer.Argument(help="YAML file listing the targets (see docs/cli.md).")],
    concurrency: Annotated[
        int, typer.Option(min=1, max=64, help="Scans at once (never two of one origin).")
    ] = 4,
    fmt: Annotated[
        list[str] | None,
        typer.Option("--format", "-f", help="Report formats per target (with --output-dir)."),
    ] = None,
    output_dir: Annotated[
        Path | None,
        typer.Option(help="Write each target's reports to DIR/<name>/ and DIR/summary.json."),
    ] = None,
    summary: Annotated[
        str, typer.Option(help="The summary on stdout: text (a table) or json.")
    ] = "text",
    fail_on: FailOnOption = None,
    min_grade: MinGradeOption = None,
    broker: Annotated[
        str | None,
        typer.Option(
            envvar="MIDDLEBRICK_BROKER_URL",
            help="Send the scans to Celery workers through this Redis broker (credentials are "
            "then read from the workers' environment, by the names in FILE).",
            show_default=False,
        ),
    ] = None,
    local: Annotated[
        bool, typer.Option("--local", help="Scan in this process even if a broker is set.")
    ] = False,
) -> None:
    """Scan every API listed in FILE and print a grade per target."""
    with boundary():
        targets = fleet.load(file)
        remote = bool(broker) and not local
        # every target's settings are checked before anything is sent; credentials too, unless
        # the workers read them from their own environment
        scans = [(t.name, t.settings if remote else fleet.config_for(t)) for t in targets]
        formats = check_formats(fmt or ["json"])
        grade = grade_option(min_grade)
        if summary not in ("text", "json"):
            raise ConfigError(f"--summary takes text or json, not {summary!r}")
        gates = {t.name: fail_on or t.settings.fail_on for t in targets}
        minimums = {t.name: grade or t.settings.min_grade for t in targets}

        def done(outcome: fleet.Outcome) -> None:
            state = outcome.report.score.grade if outcome.report else "not scanned"
            stderr.print(f"{escape(outcome.name)}: {state}", highlight=False)
            if outcome.report is not None and output_dir is not None:
                emit(
                    outcome.report,
                    formats,
                    output=None,
                    output_dir=output_dir / outcome.name,
                    fail_on=gates[outcome.name],
                    stderr=Console(quiet=True),
                )

        if remote:
            outcomes = _on_workers(broker or "", [(t.name, t.settings) for t in targets], done)
        else:
            configs = [(name, c) for name, c in scans if isinstance(c, ScanConfig)]
            outcomes = asyncio.run(fleet.run_local(configs, concurrency=concurrency, on_done=done))
        rows = [_row(o, gates[o.name], minimums[o.name]) for o in outcomes]
        if output_dir is not None:
            (output_dir / _SUMMARY).write_text(json.dumps(rows, indent=2) + "\n")
        if summary == "json":
            print(json.dumps(rows, indent=2))
        else:
            _table(rows)
    if any(o.error for o in outcomes):
        raise typer.Exit(3)
    if any(row["failing"] for row in rows):
        raise typer.Exit(1)


def _on_workers(
    broker: str,
    scans: list[tuple[str, project.ProjectConfig]],
    done: Callable[[fleet.Outcome], None],
) -> list[fleet.Outcome]:
    try:
        from middlebrick.web import workers
        from middlebrick.web.settings import WebSettings
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"scans on workers need the web and worker extras ({exc.name} is missing)"
        ) from None
    workers.configure(WebSettings(broker_url=broker))
    return workers.run_fleet(scans, on_done=done)


def _row(outcome: fleet.Outcome, fail_on: Severity | None, min_grade: str | None) -> dict[str, Any]:
    report = outcome.report
    if report is None:
        return {
            "name": outcome.name,
            "target": outcome.target,
            "grade": None,
            "score": None,
            "findings": None,
            "error": outcome.error,
            "failing": [],
        }
    return {
        "name": outcome.name,
        "target": outcome.target,
        "grade": report.score.grade,
        "score": report.score.score,
        "findings": {
            s.value: n for s in Severity if (n := sum(f.severity is s for f in report.findings))
        },
        "error": None,
        "failing": triage.verdict(report, fail_on=fail_on, min_grade=min_grade),
    }


def _table(rows: list[dict[str, Any]]) -> None:
    table = Table(title=f"{len(rows)} targets", title_justify="left")
    for column in ("name", "target", "grade", "score", "critical", "high", "status"):
        table.add_column(
            column, justify="right" if column in ("score", "critical", "high") else "left"
        )
    for row in rows:
        counts = row["findings"] or {}
        status = (
            f"not scanned: {row['error']}"
            if row["error"]
            else ("failing: " + "; ".join(row["failing"]) if row["failing"] else "ok")
        )
        table.add_row(
            escape(row["name"]),
            escape(row["target"]),
            row["grade"] or "-",
            "-" if row["score"] is None else str(row["score"]),
            str(counts.get("critical", 0)) if row["findings"] is not None else "-",
            str(counts.get("high", 0)) if row["findings"] is not None else "-",
            escape(status),
        )
    Console(soft_wrap=True).print(table)
