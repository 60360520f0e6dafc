"""The JUnit writer: counts that add up to the report, a --fail-on threshold that works both ways,
test case names that stay the same from run to run, and well-formed XML whatever a finding says."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import pytest
import yaml
from pydantic import SecretStr

from audit.specs import careless
from middlebrick.demo.apps import DEMO_PASSWORD, DEMO_USER, vulnerable_app
from middlebrick.demo.server import serve
from middlebrick.engine import audit
from middlebrick.model import CheckStatus, Report, Severity, Suppression
from middlebrick.report import WRITERS
from middlebrick.report.junit import JUnitWriter

from checks.conftest import scan_now

COUNTERS = ("tests", "failures", "errors", "skipped")
HOSTILE = "]]><script>alert(1)</script>\x00\x1b[31m&amp;\"'\x0b\ud800\ufffe"
HOSTILE_CLEAN = "]]><script>alert(1)</script>[31m&amp;\"'"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Report:
    """A scan of the demo API with the demo user's credentials."""
    with serve(vulnerable_app(log_dir=tmp_path_factory.mktemp("logs"))) as api:
        return scan_now(api.url, auth=SecretStr(f"{DEMO_USER}:{DEMO_PASSWORD}"))


@pytest.fixture
def careless_audit(tmp_path: Path) -> Report:
    spec = tmp_path / "openapi.yaml"
    spec.write_text(yaml.safe_dump(careless()))
    return audit(str(spec))


def junit(report: Report, fail_on: Severity = Severity.LOW) -> ET.Element:
    rendered = JUnitWriter(fail_on=fail_on).render(report)
    assert rendered.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    return ET.fromstring(rendered.encode("utf-8"))


def cases(root: ET.Element) -> dict[str, ET.Element]:
    found = {case.get("name", ""): case for case in root.iter("testcase")}
    assert len(found) == len(list(root.iter("testcase"))), "test case names are unique"
    return found


def failing(root: ET.Element) -> set[str]:
    return {name for name, case in cases(root).items() if case.find("failure") is not None}


def operation(endpoint: str) -> str:
    method, _, url = endpoint.partition(" ")
    return f"{method} {urlsplit(url).path or '/'}"


def test_junit_counts_add_up_to_the_report(demo: Report) -> None:
    report = demo
    root = junit(report)
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == sorted(
        {str(c.category) for c in report.checks},
        key=[
            "authentication",
            "authorization",
            "encryption",
            "data_exposure",
            "inventory",
            "configuration",
        ].index,
    )
    for suite in suites:
        inside = suite.findall("testcase")
        assert int(suite.get("tests", "")) == len(inside)
        for counter, tag in (("failures", "failure"), ("errors", "error"), ("skipped", "skipped")):
            assert int(suite.get(counter, "")) == sum(c.find(tag) is not None for c in inside)
        assert {c.get("classname") for c in inside} == {f"middlebrick.{suite.get('name')}"}
        float(suite.get("time", ""))
    for counter in COUNTERS:
        assert int(root.get(counter, "")) == sum(int(s.get(counter, "")) for s in suites)
    # every check is there; one failing case per check and affected operation at or above low
    assert {name.split()[0] for name in cases(root)} == {c.check_id for c in report.checks}
    expected = {
        (f.check_id, operation(e))
        for f in report.findings
        if f.severity.rank >= Severity.LOW.rank
        for e in f.endpoints
    }
    assert {(n.split()[0], n.rsplit(" — ", 1)[1]) for n in failing(root)} == expected
    assert int(root.get("failures", "")) == len(expected)
    not_applicable = [c for c in report.checks if c.status is CheckStatus.NOT_APPLICABLE]
    assert int(root.get("skipped", "")) == len(not_applicable) > 0
    for run in not_applicable:
        [case] = [c for n, c in cases(root).items() if n.startswith(f"{run.check_id} ")]
        skipped = case.find("skipped")
        assert skipped is not None
        assert skipped.get("message") == run.reason


def test_junit_case_names_stay_the_same_on_another_port(demo: Report) -> None:
    # The same report as if the API had been served on another port: the scanner's own run-to-run
    # differences (which of several endpoints a finding lists first) stay out of this test.
    report = demo
    port = urlsplit(report.target.origin).port
    moved = Report.model_validate_json(report.model_dump_json().replace(f":{port}", ":1"))
    assert moved.target.origin != report.target.origin
    names = set(cases(junit(report)))
    assert names == set(cases(junit(moved)))
    assert not any("127.0.0.1" in name for name in names)


def test_junit_failure_says_severity_and_detail_and_carries_the_proof(
    demo: Report,
) -> None:
    report = demo
    [echo] = [f for f in report.findings if f.check_id == "MB-DATA-014"]
    case = cases(junit(report))[f"MB-DATA-014 {echo.title} — GET /api/v1/me"]
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message") == f"HIGH: {echo.detail}"
    assert failure.get("type") == "MB-DATA-014"
    body = failure.text or ""
    assert echo.evidence[0].excerpt.splitlines()[0] in body
    assert f"Reproduce:\n  {echo.reproduce}" in body
    assert f"Fix ({echo.framework}):\n{echo.remediation}" in body
    assert DEMO_PASSWORD not in WRITERS["junit"].render(report)


def test_junit_fail_on_high_passes_milder_findings(careless_audit: Report) -> None:
    root = junit(careless_audit, Severity.HIGH)
    assert failing(root) == {
        "MB-AUTH-007 Operation has no security while its siblings do — GET /accounts/export",
        "MB-AUTH-013 Admin operation is as open as the public ones — GET /admin/users/{id}/roles",
        "MB-ENC-013 API description lists plain-HTTP servers — http://api.example.test",
    }
    undefined = cases(root)[
        "MB-AUTH-008 Security requirement names an undefined scheme — GET /search"
    ]
    out = undefined.findtext("system-out") or ""
    assert out.startswith("below --fail-on high:\n[medium] MB-AUTH-008")
    assert "GET /search requires scheme 'oauth', which is not defined" in out


def test_junit_fail_on_info_fails_every_finding(careless_audit: Report) -> None:
    root = junit(careless_audit, Severity.INFO)
    assert len(failing(root)) == 9  # 9 findings, MB-AUTH-011 on two places
    assert "MB-AUTH-010 Secured operation does not document 401 or 403 — GET /accounts" in failing(
        root
    )
    assert int(root.get("failures", "")) == 9


def test_junit_default_fail_on_low_passes_info_findings(careless_audit: Report) -> None:
    root = junit(careless_audit)
    assert WRITERS["junit"].render(careless_audit) == JUnitWriter().render(careless_audit)
    info = cases(root)["MB-AUTH-010 Secured operation does not document 401 or 403 — GET /accounts"]
    assert info.find("failure") is None
    assert "GET /accounts documents no 401/403" in (info.findtext("system-out") or "")
    assert len(failing(root)) == 8


def test_junit_shows_errored_incomplete_and_suppressed(demo: Report) -> None:
    report = demo
    quiet = [c for c in report.checks if c.status is CheckStatus.COMPLETED and not c.findings]
    broken, unfinished = quiet[0], quiet[1]
    [accepted, *findings] = report.findings
    expires = date(2031, 1, 1)
    changed = {
        broken.check_id: broken.model_copy(update={"status": CheckStatus.ERROR, "reason": "boom"}),
        unfinished.check_id: unfinished.model_copy(
            update={"status": CheckStatus.INCOMPLETE, "reason": "budget"}
        ),
    }
    root = junit(
        report.model_copy(
            update={
                "checks": [changed.get(c.check_id, c) for c in report.checks],
                "findings": findings,
                "suppressed": [
                    accepted.model_copy(
                        update={"suppression": Suppression(reason="known", expires=expires)}
                    )
                ],
            }
        )
    )

    def only(check_id: str) -> ET.Element:
        [case] = [c for n, c in cases(root).items() if n.startswith(f"{check_id} ")]
        return case

    error = only(broken.check_id).find("error")
    assert error is not None
    assert error.get("message") == "boom"
    assert root.get("errors") == "1"
    incomplete = only(unfinished.check_id).find("skipped")
    assert incomplete is not None
    assert incomplete.get("message") == "incomplete: budget"
    suppressed = only(accepted.check_id).find("skipped")
    assert suppressed is not None
    assert suppressed.get("message") == "suppressed: known (until 2031-01-01)"


def test_junit_is_well_formed_whatever_the_target_and_findings_say(careless_audit: Report) -> None:
    report = careless_audit
    [first, *rest] = report.findings
    hostile = report.model_copy(
        update={
            "target": report.target.model_copy(update={"url": f"http://x.test/{HOSTILE}"}),
            "findings": [
                first.model_copy(
                    update={
                        "detail": HOSTILE,
                        "remediation": f"```\n{HOSTILE}\n```",
                        "endpoints": [f"GET /{HOSTILE}"],
                    }
                ),
                *rest,
            ],
        }
    )
    rendered = WRITERS["junit"].render(hostile)
    root = ET.fromstring(rendered.encode("utf-8"))  # expat: any XML 1.0 error raises
    assert "<script>" not in rendered
    assert "\x00" not in rendered
    assert "\x1b" not in rendered
    failure = next(
        f
        for f in root.iter("failure")
        if (f.get("message") or "").startswith(first.severity.upper())
    )
    assert failure.get("message") == f"{first.severity.upper()}: {HOSTILE_CLEAN}"
    assert HOSTILE_CLEAN in (failure.text or "")
    targets = {p.get("value") for p in root.iter("property") if p.get("name") == "target"}
    assert targets == {f"http://x.test/{HOSTILE_CLEAN}"}


def test_junit_is_deterministic(demo: Report) -> None:
    report = demo
    shuffled = report.model_copy(
        update={"findings": report.findings[::-1], "checks": report.checks[::-1]}
    )
    assert WRITERS["junit"].render(report) == WRITERS["junit"].render(shuffled)
