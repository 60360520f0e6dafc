from __future__ import annotations

from middlebrick.model import Category, Confidence, Finding, Severity
from middlebrick.score import category_score, grade_of, score


def finding(
    check_id: str, severity: Severity, category: Category = Category.DATA_EXPOSURE
) -> Finding:
    return Finding(
        check_id=check_id,
        title="t",
        category=category,
        severity=severity,
        confidence=Confidence.FIRM,
        cwe=[200],
        owasp="API8:2023",
        detail="d",
        endpoints=[],
        evidence=[],
        reproduce=None,
        remediation="r",
        framework="generic",
    )


def test_no_findings_is_a_perfect_a() -> None:
    s = score([])
    assert (s.score, s.grade) == (100, "A")
    assert all(c.score == 100 for c in s.categories)


def test_grade_boundaries() -> None:
    assert [grade_of(x) for x in (100, 90, 89.9, 80, 70, 60, 59)] == [
        "A",
        "A",
        "B",
        "B",
        "C",
        "D",
        "F",
    ]


def test_repeats_of_one_check_weigh_less_than_distinct_checks() -> None:
    repeated = category_score([finding("MB-DATA-001", Severity.MEDIUM)] * 3)
    distinct = category_score([finding(f"MB-DATA-00{i}", Severity.MEDIUM) for i in (1, 2, 3)])
    assert repeated == 100 - 8 - 4 - 2
    assert distinct == 100 - 24


def test_a_critical_finding_caps_the_grade_at_d() -> None:
    s = score([finding("MB-ENC-001", Severity.CRITICAL, Category.ENCRYPTION)])
    assert (s.score, s.grade) == (69, "D")  # without the cap the number would have said A


def test_low_findings_keep_an_a() -> None:
    s = score([finding("MB-CONF-001", Severity.LOW, Category.CONFIGURATION)])
    assert s.grade == "A"


def test_score_never_goes_below_zero() -> None:
    many = [finding(f"MB-DATA-{i:03}", Severity.CRITICAL) for i in range(10)]
    assert category_score(many) == 0
