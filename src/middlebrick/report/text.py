"""The terminal report: grade first, then findings by severity, each with its evidence, a curl
line that reproduces it, and the fix."""

from __future__ import annotations

import io
from dataclasses import dataclass

from rich.console import Console, Group
from rich.markdown import Markdown
from rich.markup import escape
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from middlebrick.model import CheckStatus, Finding, Report, Severity

SEVERITY_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}
GRADE_STYLE = {
    "A": "bold green",
    "B": "green",
    "C": "yellow",
    "D": "bold red",
    "F": "bold white on red",
}
MAX_ENDPOINTS_SHOWN = 5


def show(report: Report, console: Console) -> None:
    """Print the report to a Rich console (colours when it is a terminal)."""
    console.print(_summary(report))
    if not report.findings:
        console.print("[green]No findings.[/]")
    for severity in sorted(Severity, key=lambda s: -s.rank):
        group = [f for f in report.findings if f.severity is severity]
        if not group:
            continue
        console.rule(Text(f"{severity.upper()} ({len(group)})", style=SEVERITY_STYLE[severity]))
        for finding in group:
            console.print(_finding(finding))
    unfinished = [
        c for c in report.checks if c.status in (CheckStatus.ERROR, CheckStatus.INCOMPLETE)
    ]
    if unfinished:
        console.rule("checks that did not finish")
        for run in unfinished:
            console.print(f"  {run.check_id}  {run.status}: {escape(run.reason or '')}")
    for note in report.notes:
        console.print(f"[dim]note:[/] {escape(note)}")


def _summary(report: Report) -> Panel:
    score = report.score
    table = Table.grid(padding=(0, 2))
    table.add_column(justify="left")
    table.add_column(justify="right")
    table.add_column(justify="left")
    for cat in score.categories:
        table.add_row(
            cat.category.replace("_", " "),
            f"{cat.score}",
            Text(cat.grade, style=GRADE_STYLE[cat.grade]),
        )
    counts = {s: sum(f.severity is s for f in report.findings) for s in Severity}
    tally = "  ".join(
        f"[{SEVERITY_STYLE[s]}]{counts[s]} {s}[/]" for s in sorted(Severity, key=lambda s: -s.rank)
    )
    target = report.target
    head = Text.assemble(
        ("Grade ", "bold"),
        (score.grade, GRADE_STYLE[score.grade]),
        (f"   score {score.score}/100", "bold"),
    )
    facts = (
        f"{escape(target.scanned_origin)}  framework: {target.framework}"
        f"  auth: {', '.join(target.auth_schemes) or 'none seen'}\n"
        f"{report.requests_sent} requests in {report.duration_s:.1f}s  ·  "
        f"{report.coverage.operations_tested} operations tested\n{tally}"
    )
    return Panel(
        Group(head, Text.from_markup(facts), table),
        title=f"middlebrick {report.tool_version}",
        expand=False,
    )


def _finding(f: Finding) -> Group:
    title = Text.assemble(
        (f"[{f.severity.upper()}] ", SEVERITY_STYLE[f.severity]),
        (f.title, "bold"),
        (f"  {f.check_id}  CWE-{', CWE-'.join(map(str, f.cwe))}  {f.owasp}", "dim"),
    )
    parts: list[object] = [title, Text(f"  {f.detail}")]
    shown = f.endpoints[:MAX_ENDPOINTS_SHOWN]
    more = len(f.endpoints) - len(shown)
    for endpoint in shown:
        parts.append(Text(f"  → {endpoint}", style="blue"))
    if more > 0:
        parts.append(Text(f"  … and {more} more endpoints", style="dim"))
    if f.evidence:
        excerpt = "\n".join("    " + line for line in f.evidence[0].excerpt.splitlines()[:8])
        parts.append(Text(excerpt, style="dim"))
    if f.reproduce:
        parts.append(Text.assemble(("  reproduce: ", "bold"), (f.reproduce, "")))
    parts.append(Text(f"  fix ({f.framework}):", style="bold"))
    parts.append(Padding(Markdown(f.remediation, code_theme="ansi_dark"), (0, 0, 1, 4)))
    return Group(*parts)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class TextWriter:
    name: str = "text"
    suffix: str = ".txt"
    width: int = 100

    def render(self, report: Report) -> str:
        buffer = io.StringIO()
        show(report, Console(file=buffer, width=self.width, color_system=None, highlight=False))
        return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


WRITER = TextWriter()
