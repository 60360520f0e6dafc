"""What the templates draw beyond the records: the findings filter (from query parameters, so a
filtered view is a link), the score bars per category, and a target's trend chart as SVG
coordinates (no JavaScript chart library)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from middlebrick.model import Category, CheckStatus, Finding, Report, Severity
from middlebrick.web.pages.base import SEVERITIES, label, when
from middlebrick.web.store import TrendPoint

OPEN_FINDINGS = 5  # the most severe findings start expanded; the rest are one line each
DOWNLOADS = (  # format (`report.WRITERS`), label, media type
    ("json", "JSON", "application/json"),
    ("sarif", "SARIF", "application/sarif+json"),
    ("html", "HTML", "text/html; charset=utf-8"),
    ("junit", "JUnit", "application/xml"),
    ("markdown", "Markdown", "text/markdown; charset=utf-8"),
)


@dataclass(frozen=True, slots=True)
class Filters:
    """The findings filter, from query parameters (so a filtered view is a link)."""

    severities: frozenset[str] = frozenset()
    category: str = ""
    endpoint: str = ""

    @classmethod
    def parse(cls, severities: Sequence[str], category: str, endpoint: str) -> Filters:
        known = {s.value for s in Severity}
        return cls(
            frozenset(s for s in severities if s in known),
            category if category in {c.value for c in Category} else "",
            endpoint.strip()[:200],
        )

    @property
    def active(self) -> bool:
        return bool(self.severities or self.category or self.endpoint)

    def matches(self, finding: Finding) -> bool:
        if self.severities and finding.severity.value not in self.severities:
            return False
        if self.category and finding.category.value != self.category:
            return False
        needle = self.endpoint.lower()
        return not needle or any(needle in e.lower() for e in finding.endpoints)


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    score: int
    grade: str
    findings: int
    y: int
    width: int


@dataclass(frozen=True, slots=True)
class BarChart:
    bars: list[Bar]
    left: int = 130
    span: int = 200
    width: int = 390

    @property
    def height(self) -> int:
        return max(len(self.bars) * 26, 26)


def report_view(report: Report, filters: Filters) -> dict[str, Any]:
    by_severity = Counter(f.severity for f in report.findings)
    by_category = Counter(f.category for f in report.findings)
    chart = BarChart(
        [
            Bar(
                label(c.category),
                c.score,
                c.grade,
                c.findings,
                y=i * 26 + 4,
                width=round(200 * max(0, min(c.score, 100)) / 100),
            )
            for i, c in enumerate(report.score.categories)
        ]
    )
    return {
        "chart": chart,
        "severity_counts": [(s.value, by_severity[s]) for s in SEVERITIES],
        "category_counts": [(c.value, n) for c, n in by_category.most_common()],
        "filters": filters,
        "shown": [f for f in report.findings if filters.matches(f)],
        "open_findings": OPEN_FINDINGS,
        "downloads": [(fmt, name) for fmt, name, _ in DOWNLOADS],
        "unfinished": [
            run
            for run in report.checks
            if run.status in (CheckStatus.ERROR, CheckStatus.INCOMPLETE)
        ],
    }


@dataclass(frozen=True, slots=True)
class ChartPoint:
    scan_id: str
    x: float
    y: float
    score: int
    grade: str
    when: str


@dataclass(frozen=True, slots=True)
class GridLine:
    y: float
    label: str


@dataclass(frozen=True, slots=True)
class TrendChart:
    """The score of each finished scan over time, as SVG coordinates (drawn by the template)."""

    points: list[ChartPoint]
    grid: list[GridLine]
    width: int = 640
    height: int = 220
    left: int = 48
    right: int = 624

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)

    @property
    def first(self) -> str:
        return self.points[0].when[:10] if self.points else ""

    @property
    def last(self) -> str:
        return self.points[-1].when[:10] if self.points else ""


_GRID = ((100, "100"), (90, "A 90"), (80, "B 80"), (70, "C 70"), (60, "D 60"), (0, "0"))


def trend_chart(points: Sequence[TrendPoint], *, limit: int = 60) -> TrendChart:
    """Scans are spaced evenly rather than by date: a burst of scans in one afternoon stays
    readable. Only the latest `limit` are drawn."""
    chart = TrendChart([], [])
    top, bottom = 12.0, chart.height - 28.0
    shown = list(points)[-limit:]

    def y_of(score: float) -> float:
        return top + (100 - max(0.0, min(score, 100.0))) * (bottom - top) / 100

    step = (chart.right - chart.left) / (len(shown) - 1) if len(shown) > 1 else 0.0
    middle = (chart.left + chart.right) / 2
    drawn = [
        ChartPoint(
            p.scan_id,
            chart.left + i * step if len(shown) > 1 else middle,
            y_of(p.score),
            p.score,
            p.grade,
            when(p.finished_at),
        )
        for i, p in enumerate(shown)
    ]
    return TrendChart(drawn, [GridLine(y_of(v), text) for v, text in _GRID])
