"""`middlebrick report` re-renders a saved JSON report; `middlebrick diff` compares two."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console

from middlebrick import triage
from middlebrick.cli import app, boundary, escape, stderr
from middlebrick.cli.outputs import emit, load_report
from middlebrick.cli.scanning import (
    FailOnOption,
    FormatOption,
    MinGradeOption,
    OutputDirOption,
    OutputOption,
    gate,
    grade_option,
)
from middlebrick.model import BaselineState, Finding, Report


@app.command()
def report(
    saved: Annotated[Path, typer.Argument(help="A JSON report (scan -f json).")],
    fmt: FormatOption = None,
    output: OutputOption = None,
    output_dir: OutputDirOption = None,
    fail_on: FailOnOption = None,
    min_grade: MinGradeOption = None,
) -> None:
    """Render a saved report in other formats, without scanning again."""
    with boundary():
        loaded = load_report(saved)
        grade = grade_option(min_grade)
        emit(
            loaded,
            fmt or ["text"],
            output=output,
            output_dir=output_dir,
            fail_on=fail_on,
            stderr=stderr,
        )
    gate(loaded, fail_on, grade)


@app.command()
def diff(
    old: Annotated[Path, typer.Argument(help="The earlier JSON report (the baseline).")],
    new: Annotated[Path, typer.Argument(help="The later JSON report.")],
    fmt: Annotated[
        Literal["text", "json"], typer.Option("--format", "-f", help="text or json.")
    ] = "text",
    fail_on: FailOnOption = None,
) -> None:
    """What changed between two reports: new, unchanged and fixed findings."""
    with boundary():
        compared = triage.compare(load_report(new), load_report(old))
    if fmt == "json":
        sys.stdout.write(_as_json(compared) + "\n")
    else:
        _show(compared, Console(highlight=False))
    gate(compared, fail_on, None)


def _groups(report: Report) -> dict[str, list[Finding]]:
    return {
        "new": [f for f in report.findings if f.baseline_state is BaselineState.NEW],
        "unchanged": [f for f in report.findings if f.baseline_state is BaselineState.UNCHANGED],
        "fixed": report.fixed,
    }


def _as_json(report: Report) -> str:
    import json

    return json.dumps(
        {
            name: [
                {
                    "check_id": f.check_id,
                    "severity": f.severity,
                    "title": f.title,
                    "detail": f.detail,
                    "fingerprint": f.fingerprint,
                }
                for f in group
            ]
            for name, group in _groups(report).items()
        },
        indent=2,
    )


def _show(report: Report, console: Console) -> None:
    groups = _groups(report)
    console.print(
        f"[bold]{len(groups['new'])} new[/], {len(groups['unchanged'])} unchanged, "
        f"[green]{len(groups['fixed'])} fixed[/]  (grade now {report.score.grade}, "
        f"{report.score.score}/100)"
    )
    for name, mark in (("new", "+"), ("fixed", "-"), ("unchanged", " ")):
        for f in groups[name]:
            console.print(f"{mark} {f.severity.upper():<8} {f.check_id}  {escape(f.detail)}")
