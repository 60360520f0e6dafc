"""Turn findings into a 0-100 score and an A-F grade, per category and overall.

Each category starts at 100. Every distinct finding subtracts its severity's weight; a check that
fires again (another cause) weighs half as much each time, so one systemic defect reported on many
endpoints does not sink the grade by itself. The overall score is the mean of the category scores
weighted by how much each category matters to an API, and at most 30 points above the worst
category; any critical finding caps the score at 69, a D.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from middlebrick.model import Category, CategoryScore, Finding, Score, Severity

PENALTY: dict[Severity, float] = {
    Severity.CRITICAL: 40,
    Severity.HIGH: 20,
    Severity.MEDIUM: 8,
    Severity.LOW: 3,
    Severity.INFO: 0,
}
WEIGHT: dict[Category, float] = {
    Category.AUTHENTICATION: 3,
    Category.AUTHORIZATION: 3,
    Category.ENCRYPTION: 2,
    Category.DATA_EXPOSURE: 3,
    Category.INVENTORY: 1,
    Category.CONFIGURATION: 1,
}
GRADES = (("A", 90), ("B", 80), ("C", 70), ("D", 60))
REPEAT_FACTOR = 0.5
CRITICAL_CAP = 69  # the best score a D gets: a critical finding caps the grade at D


def grade_of(score: float) -> str:
    for letter, floor in GRADES:
        if score >= floor:
            return letter
    return "F"


def category_score(findings: Iterable[Finding]) -> int:
    seen: Counter[str] = Counter()
    total = 100.0
    for f in sorted(findings, key=lambda f: -f.severity.rank):
        total -= PENALTY[f.severity] * REPEAT_FACTOR ** seen[f.check_id]
        seen[f.check_id] += 1
    return max(0, round(total))


def score(findings: Iterable[Finding]) -> Score:
    by_category: defaultdict[Category, list[Finding]] = defaultdict(list)
    for f in findings:
        by_category[f.category].append(f)
    categories = []
    for cat in Category:
        s = category_score(by_category[cat])
        categories.append(
            CategoryScore(category=cat, score=s, grade=grade_of(s), findings=len(by_category[cat]))
        )
    overall = sum(WEIGHT[c.category] * c.score for c in categories) / sum(WEIGHT.values())
    # A category at F drags the whole API down: the weighted mean alone would hide it.
    overall = min(overall, min(c.score for c in categories) + 30)
    if any(f.severity is Severity.CRITICAL for fs in by_category.values() for f in fs):
        overall = min(overall, CRITICAL_CAP)
    return Score(score=round(overall), grade=grade_of(overall), categories=categories)
