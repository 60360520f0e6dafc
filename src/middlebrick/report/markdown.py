"""The Markdown report: a compact summary for `$GITHUB_STEP_SUMMARY` and pull-request comments.

GitHub renders it with HTML allowed, so every value taken from the target is escaped (`<`, `|`,
emphasis, mentions), code goes in spans and fences longer than any backtick run it holds, and the
whole stays under a size limit: the findings table and each finding's evidence are capped, and
findings are detailed, most severe first, only while they fit. Every cap says so in the text.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import dataclass

from middlebrick.model import CheckStatus, Finding, Report, Severity

STEP_SUMMARY_BYTES = 1_000_000  # GitHub refuses a step summary over 1 MiB
PR_COMMENT_BYTES = 65_000  # and a comment over 65,536 characters
MAX_TABLE_ROWS = 100
MAX_LISTED = 50  # fixed and suppressed findings, notes
MAX_ENDPOINTS = 10
MAX_EXCERPT = 1_500  # characters of one evidence excerpt
_RESERVE = 512  # bytes kept for the line that says findings were left out

EMOJI = {
    Severity.CRITICAL: "🔴",
    Severity.HIGH: "🟠",
    Severity.MEDIUM: "🟡",
    Severity.LOW: "🔵",
    Severity.INFO: "⚪",
}
_SEVERITIES = sorted(Severity, key=lambda s: -s.rank)


@dataclass(frozen=True, slots=True)
class MarkdownWriter:
    name: str = "markdown"
    suffix: str = ".md"
    max_bytes: int = STEP_SUMMARY_BYTES

    def render(self, report: Report) -> str:
        head, tail = _head(report), _tail(report)
        budget = self.max_bytes - _size(head) - _size(tail) - _RESERVE
        details: list[str] = []
        for finding in report.findings:
            block = _details(finding)
            if _size(block) > budget:
                break
            details.append(block)
            budget -= _size(block)
        left_out = len(report.findings) - len(details)
        if left_out:
            details.append(
                f"_{left_out} more finding{'s' if left_out != 1 else ''} not detailed here: "
                f"this summary is kept under {self.max_bytes:,} bytes. "
                "The JSON or HTML report has every finding._\n"
            )
        return "\n".join([head, *details, tail])


WRITER = MarkdownWriter()


def _size(text: str) -> int:
    return len(text.encode()) + 1  # and the newline that joins it


# escaping ----------------------------------------------------------------------------------------

_MARKUP = re.compile(r"([\\`*_\[\]|~#])")
_LIST_START = re.compile(r"^(\d+)([.)])|^([-+=])")


def text(value: str) -> str:
    """A value from the target as inline text: one line, no HTML, no emphasis, no link syntax,
    no table cell break, no @mention (a word joiner after `@`)."""
    value = " ".join(value.split())
    value = _MARKUP.sub(r"\\\1", html.escape(value, quote=False))
    value = value.replace("@", "@\u2060")
    return _LIST_START.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[3]}", value)


def code(value: str, *, cell: bool = False) -> str:
    """A value as an inline code span: delimited by more backticks than it holds in a row. In a
    table `cell`, `|` is escaped too (GitHub splits cells before it sees code spans)."""
    value = " ".join(value.split())
    if not value:
        return "_(empty)_"
    if cell:
        value = value.replace("|", "\\|")
    ticks = "`" * (max(map(len, re.findall(r"`+", value)), default=0) + 1)
    pad = " " if value[0] == "`" or value[-1] == "`" else ""
    return f"{ticks}{pad}{value}{pad}{ticks}"


def fenced(value: str, info: str = "") -> str:
    """A fenced code block whose fence is longer than any backtick run in `value`."""
    value = value.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")
    ticks = "`" * max(3, max(map(len, re.findall(r"`+", value)), default=0) + 1)
    return f"{ticks}{info}\n{value}\n{ticks}"


def _clip(value: str, limit: int) -> str:
    if len(value) <= limit:
        return value
    return f"{value[:limit]}\n… ({len(value) - limit:,} more characters not shown)"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _label(value: object) -> str:
    return str(value).replace("_", " ")


# sections ----------------------------------------------------------------------------------------


def _head(report: Report) -> str:
    score, target = report.score, report.target
    counts = Counter(f.severity for f in report.findings)
    lines = [
        f"## middlebrick: grade {score.grade} ({score.score}/100) for {code(target.url)}",
        "",
        f"{_plural(len(report.findings), 'finding')}: "
        + " · ".join(f"{EMOJI[s]} {counts[s]} {s}" for s in _SEVERITIES)
        + (f" · ✅ {len(report.fixed)} fixed" if report.fixed else "")
        + (f" · 🔕 {len(report.suppressed)} suppressed" if report.suppressed else ""),
        "",
        "| category | score | grade | findings |",
        "|:--|:--|:-:|--:|",
    ]
    for cat in score.categories:
        filled = round(max(0, min(cat.score, 100)) / 10)
        bar = "█" * filled + "░" * (10 - filled)
        lines.append(
            f"| {_label(cat.category)} | `{bar}` {cat.score} | {cat.grade} | {cat.findings} |"
        )
    lines.append("")
    if not report.findings:
        lines.append("No findings. ✅")
        return "\n".join(lines) + "\n"
    baseline = any(f.baseline_state for f in report.findings)
    lines += [
        "| severity | check | title | endpoints |" + (" baseline |" if baseline else ""),
        "|:--|:--|:--|--:|" + (":--|" if baseline else ""),
    ]
    for f in report.findings[:MAX_TABLE_ROWS]:
        row = (
            f"| {EMOJI[f.severity]} {f.severity} | {f.check_id} | {text(f.title)} "
            f"| {len(f.endpoints)} |"
        )
        if baseline:
            row += f" {f.baseline_state or ''} |"
        lines.append(row)
    if len(report.findings) > MAX_TABLE_ROWS:
        lines += [
            "",
            f"_The table shows the {MAX_TABLE_ROWS} most severe of {len(report.findings)} "
            "findings._",
        ]
    lines += ["", "### Findings", ""]
    return "\n".join(lines)


def _details(f: Finding) -> str:
    summary = (
        f"{EMOJI[f.severity]} {f.severity} · {f.check_id} · {f.title} "
        f"({_plural(len(f.endpoints), 'endpoint')})"
        + (f" · {f.baseline_state}" if f.baseline_state else "")
    )
    cwe = ", ".join(f"CWE-{c}" for c in f.cwe)
    parts = [
        "<details>",
        f"<summary>{html.escape(' '.join(summary.split()))}</summary>",
        "",
        text(f.detail),
        "",
        f"{_label(f.category)} · {cwe} · {f.owasp} · confidence {f.confidence.name.lower()}",
        "",
        "**Endpoints**",
        "",
        *(f"- {code(endpoint)}" for endpoint in f.endpoints[:MAX_ENDPOINTS]),
    ]
    if len(f.endpoints) > MAX_ENDPOINTS:
        parts.append(f"- … and {len(f.endpoints) - MAX_ENDPOINTS} more")
    if f.locations:
        parts += ["", "**In the description**", ""]
        parts += [
            f"- {code(f'{loc.file}:{loc.line}')} {text(loc.operation)}" for loc in f.locations
        ]
    if f.evidence:
        parts += ["", "**Evidence**", ""]
        parts.append("\n\n".join(fenced(_clip(e.excerpt, MAX_EXCERPT), "text") for e in f.evidence))
    if f.reproduce:
        parts += ["", "**Reproduce**", "", fenced(f.reproduce, "sh")]
    parts += ["", f"**Fix** ({f.framework})", "", f.remediation.strip(), "", "</details>", ""]
    return "\n".join(parts)


def _tail(report: Report) -> str:
    lines: list[str] = []
    if report.fixed:
        lines += ["### ✅ Fixed since the baseline", ""]
        lines += [
            f"- {EMOJI[f.severity]} {f.check_id} {text(f.title)}: {text(f.detail)}"
            for f in report.fixed[:MAX_LISTED]
        ]
        lines += _more(len(report.fixed), "fixed findings")
    if report.suppressed:
        lines += ["### 🔕 Suppressed", "", "| severity | check | title | reason | expires |"]
        lines.append("|:--|:--|:--|:--|:--|")
        for f in report.suppressed[:MAX_LISTED]:
            reason = f.suppression.reason if f.suppression else ""
            expires = f.suppression.expires if f.suppression and f.suppression.expires else "never"
            lines.append(
                f"| {EMOJI[f.severity]} {f.severity} | {f.check_id} | {text(f.title)} "
                f"| {text(reason)} | {expires} |"
            )
        lines += _more(len(report.suppressed), "suppressed findings")
    unfinished = [
        c for c in report.checks if c.status in (CheckStatus.ERROR, CheckStatus.INCOMPLETE)
    ]
    notes = [text(note) for note in report.notes] + [
        f"⚠️ {c.check_id} {c.status}: {text(c.reason or 'no reason given')}" for c in unfinished
    ]
    if notes:
        lines += ["### Notes", ""]
        lines += [f"- {note}" for note in notes[:MAX_LISTED]]
        lines += _more(len(notes), "notes")
    coverage = report.coverage
    lines += [
        "",
        "---",
        f"<sub>middlebrick {html.escape(report.tool_version)} · "
        f"{_plural(len(report.checks), 'check')} · "
        f"{coverage.operations_tested} of {coverage.operations_declared} operations tested · "
        f"{_plural(report.requests_sent, 'request')} in {report.duration_s:.1f} s · "
        f"started {report.started_at:%Y-%m-%d %H:%M} UTC</sub>",
        "",
    ]
    return "\n".join(lines)


def _more(total: int, what: str) -> list[str]:
    if total > MAX_LISTED:
        return ["", f"_… and {total - MAX_LISTED} more {what}._", ""]
    return [""]
