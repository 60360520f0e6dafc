"""After the scan: accepted findings (suppressions), comparison with a baseline report, and the
CI verdict. Pure functions over `Report`, shared by the CLI, the Action and the other interfaces.
"""

from __future__ import annotations

from datetime import date
from fnmatch import fnmatchcase

from pydantic import BaseModel, ConfigDict, Field

from middlebrick.model import BaselineState, Finding, Report, Severity, Suppression
from middlebrick.score import score

GRADE_ORDER = "ABCDF"


class SuppressRule(BaseModel):
    """One `suppress:` entry of .middlebrick.yml: accept a finding, with a reason."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    check: str = Field(description="The check id, e.g. MB-DATA-016.")
    endpoint: str | None = Field(
        default=None, description="Glob over the finding's 'METHOD url' endpoints; any matches."
    )
    fingerprint: str | None = Field(default=None, description="Exactly this finding.")
    reason: str = Field(min_length=3, description="Why the finding is accepted (required).")
    expires: date | None = Field(default=None, description="Stop suppressing after this day.")

    def matches(self, finding: Finding) -> bool:
        if finding.check_id != self.check:
            return False
        if self.fingerprint is not None and finding.fingerprint != self.fingerprint:
            return False
        return self.endpoint is None or any(
            fnmatchcase(e, self.endpoint) for e in finding.endpoints
        )


def suppress(report: Report, rules: tuple[SuppressRule, ...], today: date) -> Report:
    """Move findings that a live rule accepts to `report.suppressed` and score the rest.

    An expired rule stops suppressing and says so in the notes, as does a rule that matched
    nothing (a fixed finding, or a typo that would otherwise hide nothing silently)."""
    if not rules:
        return report
    kept: list[Finding] = []
    accepted: list[Finding] = []
    notes = list(report.notes)
    used: set[SuppressRule] = set()
    for finding in report.findings:
        rule = next((r for r in rules if r.matches(finding)), None)
        if rule is None:
            kept.append(finding)
            continue
        used.add(rule)
        if rule.expires is not None and rule.expires < today:
            notes.append(
                f"the suppression of {rule.check} ({rule.reason}) expired on "
                f"{rule.expires.isoformat()}: reported again"
            )
            kept.append(finding)
            continue
        accepted.append(
            finding.model_copy(
                update={"suppression": Suppression(reason=rule.reason, expires=rule.expires)}
            )
        )
    for rule in rules:
        if rule not in used:
            notes.append(f"the suppression of {rule.check} ({rule.reason}) matched no finding")
    return report.model_copy(
        update={
            "findings": kept,
            "suppressed": [*report.suppressed, *accepted],
            "score": score(kept),
            "notes": notes,
        }
    )


def compare(report: Report, baseline: Report) -> Report:
    """Mark each finding new or unchanged against `baseline`, and list the baseline's findings
    that are gone as `fixed`. Findings are matched by fingerprint (stable across hosts)."""
    before = {_identity(f) for f in (*baseline.findings, *baseline.suppressed)}
    now = {_identity(f) for f in (*report.findings, *report.suppressed)}
    marked = [
        f.model_copy(
            update={
                "baseline_state": BaselineState.UNCHANGED
                if _identity(f) in before
                else BaselineState.NEW
            }
        )
        for f in report.findings
    ]
    fixed = [
        f.model_copy(update={"baseline_state": BaselineState.FIXED})
        for f in baseline.findings
        if _identity(f) not in now
    ]
    return report.model_copy(update={"findings": marked, "fixed": fixed})


def _identity(finding: Finding) -> str:
    """The fingerprint; reports written before fingerprints existed fall back to check + detail."""
    return finding.fingerprint or f"{finding.check_id}\0{finding.detail}"


def verdict(
    report: Report, *, fail_on: Severity | None = None, min_grade: str | None = None
) -> list[str]:
    """Why the build should fail (empty: it passes). With a baseline, only new findings count
    against `fail_on`; `min_grade` always judges the whole API."""
    reasons = []
    if fail_on is not None:
        counted = [
            f
            for f in report.findings_at_or_above(fail_on)
            if f.baseline_state in (None, BaselineState.NEW)
        ]
        if counted:
            new = " new" if any(f.baseline_state is not None for f in counted) else ""
            reasons.append(f"{len(counted)}{new} finding(s) at or above {fail_on}")
    if min_grade is not None and GRADE_ORDER.index(report.score.grade) > GRADE_ORDER.index(
        min_grade
    ):
        reasons.append(f"grade {report.score.grade} is below the minimum {min_grade}")
    return reasons
