"""The HTML report: one self-contained file to open in a browser, attach to a ticket or print.

No network at all: CSS and script are inline, the chart is inline SVG, and a Content-Security-Policy
admits only the script whose hash it names. Jinja2 escapes every value; the only markup not written
by the template is the fix, rendered from Markdown with raw HTML, links and images turned off.
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib.resources import files
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, Template
from markdown_it import MarkdownIt
from markupsafe import Markup

from middlebrick.model import BaselineState, CheckStatus, Report, Severity

OPEN_FINDINGS = 5  # the most severe findings start expanded; the rest are one line each
ENDPOINTS_OPEN = 5  # longer endpoint lists start collapsed
_CHART_LEFT, _CHART_SPAN, _ROW = 130, 200, 26


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    score: int
    grade: str
    findings: int
    y: int
    width: int


@dataclass(frozen=True, slots=True)
class Chart:
    bars: list[Bar]
    left: int = _CHART_LEFT
    span: int = _CHART_SPAN
    width: int = _CHART_LEFT + _CHART_SPAN + 60

    @property
    def height(self) -> int:
        return max(len(self.bars) * _ROW, _ROW)


@dataclass(frozen=True, slots=True)
class HtmlWriter:
    name: str = "html"
    suffix: str = ".html"

    def render(self, report: Report) -> str:
        script, csp = _script()
        return _template().render(report=report, script=script, csp=csp, **_view(report))


WRITER = HtmlWriter()


def _view(report: Report) -> dict[str, Any]:
    """What the template shows beyond the report itself: counts, chart geometry, lookups."""
    severities = sorted(Severity, key=lambda s: -s.rank)
    by_severity = Counter(f.severity for f in report.findings)
    by_category = Counter(f.category for f in report.findings)
    by_baseline = Counter(f.baseline_state for f in report.findings if f.baseline_state)
    by_status = Counter(run.status for run in report.checks)
    bars = [
        Bar(
            label=_label(cat.category),
            score=cat.score,
            grade=cat.grade,
            findings=cat.findings,
            y=i * _ROW + 4,
            width=round(_CHART_SPAN * max(0, min(cat.score, 100)) / 100),
        )
        for i, cat in enumerate(report.score.categories)
    ]
    return {
        "started": _when(report.started_at),
        "finished": _when(report.finished_at),
        "severity_counts": [(s, by_severity[s]) for s in severities],
        "category_counts": sorted(by_category.items(), key=lambda item: -item[1]),
        "baseline_counts": [
            (state, by_baseline[state])
            for state in (BaselineState.NEW, BaselineState.UNCHANGED)
            if by_baseline[state]
        ],
        "status_counts": [
            (status, by_status[status]) for status in CheckStatus if by_status[status]
        ],
        "unfinished": by_status[CheckStatus.ERROR] + by_status[CheckStatus.INCOMPLETE],
        "chart": Chart(bars),
        "exchange_ids": {ex.id for ex in report.exchanges},
        "excerpted": {
            ex.id
            for ex in report.exchanges
            if ex.response is not None
            and (
                ex.response.truncated
                or ex.response.body_size > len(ex.response.body_excerpt.encode())
            )
        },
        "open_findings": OPEN_FINDINGS,
        "endpoints_open": ENDPOINTS_OPEN,
    }


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _label(value: object) -> str:
    """`data_exposure` → `data exposure`: enum values as a reader writes them."""
    return str(value).replace("_", " ")


_MARKDOWN = MarkdownIt("commonmark", {"html": False}).disable(
    ["html_inline", "html_block", "link", "image", "autolink"]
)


def _markdown(text: str) -> Markup:
    """The fix, as HTML: raw HTML is shown as text and links and images stay text, so nothing in it
    can run or fetch."""
    return Markup(_MARKDOWN.render(text))  # noqa: S704 - markdown-it escapes; html is off


@cache
def _template() -> Template:
    env = Environment(
        loader=PackageLoader("middlebrick.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["markdown"] = _markdown
    env.filters["label"] = _label
    return env.get_template("report.html.j2")


@cache
def _script() -> tuple[Markup, str]:
    """The inline script and the CSP that admits it, by the SHA-256 of its exact text."""
    source = (files("middlebrick.report") / "templates" / "report.js").read_text("utf-8")
    assert "</" not in source, "an inline script must not contain '</'"
    digest = base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()
    csp = (
        "default-src 'none'; style-src 'unsafe-inline'; "
        f"script-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"
    )
    return Markup(source), csp  # noqa: S704 - our own file, not data
