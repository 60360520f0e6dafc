"""JUnit XML for the test tabs of CI systems: one suite per category, one test case per check and
affected operation; a finding at or above `fail_on` fails its case.

The format is documented in docs/report-format.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from middlebrick.model import Category, CheckRun, CheckStatus, Finding, Report, Severity
from middlebrick.report.sarif import check_runs, operation

# Characters XML 1.0 cannot carry even escaped (C0 controls but tab/LF/CR, lone surrogates,
# U+FFFE/U+FFFF): ElementTree writes them as they are, and every parser then rejects the file.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
OTHER = "other"  # the suite of a check whose category the report does not say
MAX_OPERATION = 200  # characters of an operation in a test case name


@dataclass(frozen=True, slots=True)
class JUnitWriter:
    name: str = "junit"
    suffix: str = ".xml"
    fail_on: Severity = Severity.LOW
    """Findings of this severity or worse fail their test case; milder ones pass, reported in the
    case's system-out."""

    def render(self, report: Report) -> str:
        root = testsuites(report, self.fail_on)
        ET.indent(root)
        body = ET.tostring(root, encoding="unicode")
        return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


WRITER = JUnitWriter()


def testsuites(report: Report, fail_on: Severity) -> ET.Element:
    runs = check_runs(report)
    active = _by_check(report.findings)
    accepted = _by_check(report.suppressed)
    cases: dict[str, list[tuple[ET.Element, float]]] = {}
    for check_id in sorted(runs):
        run = runs[check_id]
        category = str(run.category) if run.category is not None else OTHER
        cases.setdefault(category, []).extend(
            _cases(run, active.get(check_id, []), accepted.get(check_id, []), fail_on)
        )
    order = [str(c) for c in Category] + [OTHER]
    suites = [_suite(report, c, cases[c], fail_on) for c in sorted(cases, key=order.index)]
    totals = {
        counter: str(sum(int(suite.get(counter, "0")) for suite in suites))
        for counter in ("tests", "failures", "errors", "skipped")
    }
    root = _element("testsuites", name="middlebrick", time=_seconds(report.duration_s), **totals)
    root.extend(suites)
    return root


def _by_check(findings: Iterable[Finding]) -> dict[str, list[Finding]]:
    """Check id -> its findings, worst first; the fingerprint breaks ties, as findings of one check
    arrive in the order concurrent probes finished."""
    grouped: dict[str, list[Finding]] = {}
    for f in sorted(findings, key=lambda f: (-f.severity.rank, f.fingerprint, f.detail)):
        grouped.setdefault(f.check_id, []).append(f)
    return grouped


def _by_operation(findings: Iterable[Finding]) -> dict[str, list[Finding]]:
    """Operation ('GET /users/1', host, port and query left out, so case names stay the same from
    run to run) -> the findings that affect it."""
    grouped: dict[str, list[Finding]] = {}
    for f in findings:
        for op in dict.fromkeys(_short(operation(e)) for e in f.endpoints) if f.endpoints else [""]:
            grouped.setdefault(op, []).append(f)
    return grouped


def _short(op: str) -> str:
    return op if len(op) <= MAX_OPERATION else op[: MAX_OPERATION - 1] + "…"


def _cases(
    run: CheckRun, active: list[Finding], accepted: list[Finding], fail_on: Severity
) -> list[tuple[ET.Element, float]]:
    category = str(run.category) if run.category is not None else OTHER
    title = run.title or next((f.title for f in (*active, *accepted)), run.check_id)

    def case(op: str = "") -> ET.Element:
        name = f"{run.check_id} {title}" + (f" — {op}" if op else "")
        return _element("testcase", classname=f"middlebrick.{category}", name=name)

    made: list[ET.Element] = []
    found, kept = _by_operation(active), _by_operation(accepted)
    for op in sorted(found.keys() | kept.keys()):
        element = case(op)
        failing = [f for f in found.get(op, []) if f.severity.rank >= fail_on.rank]
        passing = [f for f in found.get(op, []) if f.severity.rank < fail_on.rank]
        if failing:
            worst = max(failing, key=lambda f: f.severity.rank)
            failure = _element(
                "failure", message=f"{worst.severity.upper()}: {worst.detail}", type=run.check_id
            )
            failure.text = _clean("\n\n".join(_body(f) for f in failing))
            element.append(failure)
        elif not passing:  # only accepted findings on this operation
            reasons = "; ".join(dict.fromkeys(_accepted(f) for f in kept[op]))
            element.append(_element("skipped", message=reasons))
        out = [f"below --fail-on {fail_on}:\n{_body(f)}" for f in passing]
        out += [f"{_accepted(f)}\n{_body(f)}" for f in kept.get(op, []) if failing or passing]
        if out:
            _text(element, "system-out", "\n\n".join(out))
        made.append(element)
    if run.status is CheckStatus.ERROR:
        element = case()
        element.append(_element("error", message=run.reason or "the check failed", type="error"))
        made.append(element)
    elif not made:
        element = case()
        if run.status is CheckStatus.NOT_APPLICABLE:
            element.append(_element("skipped", message=run.reason or "not applicable"))
        elif run.status is CheckStatus.INCOMPLETE:
            element.append(_element("skipped", message=f"incomplete: {run.reason or 'budget'}"))
        made.append(element)
    share = run.duration_ms / 1000 / len(made)
    for element in made:
        element.set("time", _seconds(share))
    return [(element, share) for element in made]


def _suite(
    report: Report, category: str, cases: list[tuple[ET.Element, float]], fail_on: Severity
) -> ET.Element:
    elements = [element for element, _ in cases]

    def count(tag: str) -> str:
        return str(sum(element.find(tag) is not None for element in elements))

    suite = _element(
        "testsuite",
        name=category,
        tests=str(len(elements)),
        failures=count("failure"),
        errors=count("error"),
        skipped=count("skipped"),
        time=_seconds(sum(seconds for _, seconds in cases)),
        timestamp=_utc(report.started_at),
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("target", report.target.url),
        ("tool_version", report.tool_version),
        ("score", f"{report.score.score} ({report.score.grade})"),
        ("fail_on", str(fail_on)),
    ):
        properties.append(_element("property", name=name, value=value))
    suite.extend(elements)
    return suite


def _body(f: Finding) -> str:
    """What a reader of the CI log needs: what was seen, where, the proof, how to see it again, and
    the fix."""
    lines = [f"[{f.severity}] {f.check_id} {f.title}", f.detail, "", "Endpoints:"]
    lines += [f"  {endpoint}" for endpoint in f.endpoints]
    if f.evidence:
        lines += ["", "Evidence:", *(f"  {line}" for line in f.evidence[0].excerpt.splitlines())]
    if f.reproduce:
        lines += ["", "Reproduce:", f"  {f.reproduce}"]
    lines += ["", f"Fix ({f.framework}):", f.remediation]
    return "\n".join(lines)


def _accepted(f: Finding) -> str:
    if f.suppression is None:
        return "suppressed"
    until = f" (until {f.suppression.expires.isoformat()})" if f.suppression.expires else ""
    return f"suppressed: {f.suppression.reason}{until}"


def _element(tag: str, **attributes: str) -> ET.Element:
    return ET.Element(tag, {key: _clean(value) for key, value in attributes.items()})


def _text(parent: ET.Element, tag: str, text: str) -> None:
    ET.SubElement(parent, tag).text = _clean(text)


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def _seconds(value: float) -> str:
    return f"{max(value, 0.0):.3f}"


def _utc(moment: datetime) -> str:
    """JUnit's timestamp: ISO 8601 without a zone (the Ant schema's pattern), in UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
