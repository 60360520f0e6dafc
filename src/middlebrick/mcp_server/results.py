"""What the MCP tools return: pydantic models (each tool publishes one as its output schema), built
from a `Report` or the check registry, and the short text an assistant reads first."""

from __future__ import annotations

import textwrap
from collections import Counter
from typing import Literal

from pydantic import BaseModel, Field

from middlebrick.checks._check import Check
from middlebrick.model import Category, CategoryScore, CheckStatus, Finding, Kind, Report, Severity

ENDPOINTS_SHOWN = 5
ENDPOINT_CHARS = 160
EVIDENCE_CHARS = 300
FIX_CHARS = 800
FINDINGS_SHOWN = 50
Grade = Literal["A", "B", "C", "D", "F"]


class FindingSummary(BaseModel):
    check_id: str
    title: str
    severity: Severity
    category: Category
    cwe: list[int]
    owasp: str = Field(description="OWASP API Security Top 10 (2023) id.")
    detail: str = Field(description="What was seen, in one sentence.")
    endpoints: list[str] = Field(
        description=f"The first {ENDPOINTS_SHOWN} affected 'METHOD url' (for an audit: "
        "'file:line METHOD /path')."
    )
    endpoints_total: int
    evidence: str = Field(description="A short excerpt showing the defect; secrets masked.")
    fix: str = Field(description="The first paragraph of the fix, for `framework`.")
    framework: str = Field(description="The framework the fix is written for.")


class ReportSummary(BaseModel):
    report_id: str = Field(description="For get_report and the middlebrick://reports/ resource.")
    report_uri: str
    target: str = Field(description="The scanned URL, or the audited spec.")
    framework: str = Field(description="The framework the scan detected (generic if none).")
    grade: Grade
    score: int = Field(description="0-100; each category starts at 100.")
    categories: list[CategoryScore]
    findings_total: int
    findings: list[FindingSummary] = Field(
        description=f"Worst first; at most {FINDINGS_SHOWN} (get_report has them all)."
    )
    requests_sent: int
    duration_s: float
    unfinished_checks: list[str] = Field(
        description="Checks that did not complete (budget, network or error), as 'ID: reason'."
    )
    notes: list[str] = Field(description="What to know about how the scan went.")


class CheckInfo(BaseModel):
    id: str
    title: str
    category: Category
    severity: Severity
    cwe: list[int]
    owasp: str
    kind: Kind = Field(description="active (sends probes), passive (reads responses) or static.")
    summary: str


class CheckList(BaseModel):
    checks: list[CheckInfo]


class Explanation(CheckInfo):
    documentation: str = Field(description="The check's full documentation (Markdown).")
    framework: str = Field(description="The framework the remediation is written for.")
    auth: str | None = Field(description="The auth scheme the remediation is written for.")
    remediation: str = Field(description="How to fix it (Markdown, with code where it helps).")


class ReportDocument(BaseModel):
    report_id: str
    format: Literal["json", "sarif", "markdown"]
    media_type: str
    content: str


def summarise(report: Report, report_id: str, uri: str) -> ReportSummary:
    worst_first = sorted(report.findings, key=lambda f: -f.severity.rank)
    return ReportSummary(
        report_id=report_id,
        report_uri=uri,
        target=report.target.url,
        framework=report.target.framework,
        grade=report.score.grade,
        score=report.score.score,
        categories=report.score.categories,
        findings_total=len(report.findings),
        findings=[_finding(f) for f in worst_first[:FINDINGS_SHOWN]],
        requests_sent=report.requests_sent,
        duration_s=report.duration_s,
        unfinished_checks=[
            f"{run.check_id}: {run.reason or run.status}"
            for run in report.checks
            if run.status in (CheckStatus.INCOMPLETE, CheckStatus.ERROR)
        ],
        notes=report.notes,
    )


def _finding(f: Finding) -> FindingSummary:
    where = f.endpoints or [f"{loc.file}:{loc.line} {loc.operation}" for loc in f.locations]
    evidence = f.evidence[0].excerpt if f.evidence else ""
    return FindingSummary(
        check_id=f.check_id,
        title=f.title,
        severity=f.severity,
        category=f.category,
        cwe=f.cwe,
        owasp=f.owasp,
        detail=f.detail,
        endpoints=[_cut(e, ENDPOINT_CHARS) for e in where[:ENDPOINTS_SHOWN]],
        endpoints_total=len(where),
        evidence=_cut(evidence, EVIDENCE_CHARS),
        fix=_cut(first_paragraph(f.remediation), FIX_CHARS),
        framework=f.framework,
    )


def first_paragraph(markdown: str) -> str:
    """The first paragraph of prose (headings and code blocks skipped), on one line."""
    for raw in markdown.strip().split("\n\n"):
        block = raw.strip()
        if block and not block.startswith(("#", "```")) and not raw.startswith("    "):
            return " ".join(block.split())
    return markdown.strip()


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def summary_text(s: ReportSummary) -> str:
    """A few lines for the assistant: the grade, each finding with where and how to fix it."""
    counts = Counter(f.severity for f in s.findings)
    tally = ", ".join(f"{counts[sev]} {sev}" for sev in reversed(Severity) if counts[sev])
    lines = [
        f"Grade {s.grade} ({s.score}/100) for {s.target}: {s.findings_total} finding"
        f"{'' if s.findings_total == 1 else 's'}{f' ({tally})' if tally else ''}. "
        f"report_id {s.report_id}."
    ]
    for f in s.findings:
        more = f" (+{f.endpoints_total - 1} more)" if f.endpoints_total > 1 else ""
        where = f" at {f.endpoints[0]}{more}" if f.endpoints else ""
        lines.append(f"- {f.severity.upper()} {f.check_id} {f.title}{where}")
        fix = f"{f.fix[:-1]} (code: explain_check)" if f.fix.endswith(":") else f.fix
        lines.append(f"  fix ({f.framework}): {_cut(fix, 240)}")
    if s.findings_total > len(s.findings):
        lines.append(f"({s.findings_total - len(s.findings)} more findings in the full report)")
    if s.unfinished_checks:
        lines.append(f"Unfinished checks: {'; '.join(s.unfinished_checks)}")
    lines.extend(f"Note: {note}" for note in s.notes)
    lines.append(
        "Full report: get_report(report_id, format=json|sarif|markdown); "
        "explain_check(check_id, framework) for a full fix."
    )
    return "\n".join(lines)


def check_info(c: Check) -> CheckInfo:
    return CheckInfo(
        id=c.id,
        title=c.title,
        category=c.category,
        severity=c.severity,
        cwe=list(c.cwe),
        owasp=c.owasp,
        kind=c.kind,
        summary=c.summary,
    )


def documentation(c: Check) -> str:
    first, _, rest = c.doc.partition("\n")
    return (first + "\n" + textwrap.dedent(rest)).strip()
