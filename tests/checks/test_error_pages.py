"""Error pages and debuggers, provoked within the safe-method policy on real Flask servers."""

from __future__ import annotations

import pytest

from middlebrick.checks.analyzers.traces import find_trace
from middlebrick.demo.server import serve
from middlebrick.model import Report, Severity

from checks.conftest import scan_now
from targets.errors import (
    careful_errors_api,
    debug_mode_api,
    leaky_errors_api,
    typed_params_api,
)

CHECKS = ("MB-DATA-009", "MB-DATA-010")


@pytest.mark.check("MB-DATA-010")
def test_exposed_debugger_flags_werkzeug_debugger() -> None:
    with serve(debug_mode_api()) as served:
        report = scan_now(served.url, checks=CHECKS)
    debugger = [f for f in report.findings if f.check_id == "MB-DATA-010"]
    assert len(debugger) == 1
    assert debugger[0].severity is Severity.CRITICAL
    assert "Werkzeug interactive debugger" in debugger[0].detail


@pytest.mark.check("MB-DATA-009")
def test_stack_trace_in_response_flags_traceback_and_sql_error() -> None:
    with serve(leaky_errors_api()) as served:
        report = scan_now(served.url, checks=CHECKS)
    found = {f.detail.split(" in the answer")[0]: f.severity for f in report.findings}
    assert found == {"Python traceback": Severity.MEDIUM, "database error": Severity.HIGH}
    assert all(f.check_id == "MB-DATA-009" for f in report.findings)


@pytest.mark.check("MB-DATA-009")
@pytest.mark.check("MB-DATA-010")
def test_error_checks_ignores_structured_problem_json() -> None:
    with serve(careful_errors_api()) as served:
        report = scan_now(served.url, checks=CHECKS)
    assert report.findings == []


@pytest.mark.check("MB-DATA-009")
@pytest.mark.parametrize(
    "text",
    [
        "We log every Traceback (most recent call last): to our tracker.",  # prose, no frames
        '{"type": "about:blank", "title": "Internal Server Error", "status": 500}',
        "NullPointerException is a common Java bug; see our blog.",
        "at the end of the day, Error: nothing",
    ],
)
def test_stack_trace_in_response_ignores_prose_and_problem_json(text: str) -> None:
    assert find_trace(text) is None


@pytest.mark.check("MB-DATA-009")
@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (
            "java.lang.IllegalStateException: boom\n\tat com.acme.Api.get(Api.java:42)\n",
            "Java stack trace",
        ),
        (
            "TypeError: x is undefined\n    at Object.<anonymous> (/srv/app/index.js:3:9)\n",
            "Node.js stack trace",
        ),
        ("panic: runtime error\n\ngoroutine 1 [running]:\nmain.main()\n", "Go panic"),
        (
            "<b>Fatal error</b>: Uncaught Error in <b>/var/www/x.php</b> on line <b>3</b>",
            "PHP error",
        ),
        ("You have an error in your SQL syntax; check the manual", "database error"),
    ],
)
def test_stack_trace_in_response_flags_other_stacks(text: str, kind: str) -> None:
    trace = find_trace(text)
    assert trace is not None
    assert trace.kind == kind


def _traced(report: Report) -> set[str]:
    return {e for f in report.findings if f.check_id == "MB-DATA-009" for e in f.endpoints}


@pytest.mark.check("MB-DATA-009")
def test_stack_trace_in_response_flags_errors_induced_from_the_described_types() -> None:
    with serve(typed_params_api(careful=False)) as served:
        spec = served.url + "/openapi.json"
        safe = scan_now(served.url, spec=spec, checks=CHECKS)
        unsafe = scan_now(served.url, spec=spec, checks=CHECKS, unsafe=True)
    # a word for the integer query parameter and for the integer in the middle of the path
    assert any("/reports?limit=middlebrick" in e for e in _traced(safe))
    assert any("/accounts/middlebrick" in e for e in _traced(safe))
    assert not any(e.startswith("POST") for e in _traced(safe))
    # with --unsafe, malformed JSON to the write operation
    post = [e for e in _traced(unsafe) if e.startswith("POST")]
    assert post == [f"POST {served.url}/reports"]
    traced = next(f for f in unsafe.findings if f.check_id == "MB-DATA-009")
    assert traced.severity is Severity.MEDIUM


@pytest.mark.check("MB-DATA-009")
def test_stack_trace_in_response_ignores_validated_parameters_and_bodies() -> None:
    log: list[tuple[str, str, int]] = []
    with serve(typed_params_api(careful=True, log=log)) as served:
        spec = served.url + "/openapi.json"
        report = scan_now(served.url, spec=spec, checks=CHECKS, unsafe=True)
    assert report.findings == []
    # the same probes as against the leaky twin were sent, and refused cleanly
    assert ("POST", "/reports?", 400) in log
    assert any(path.startswith("/reports?limit=middlebrick") and s == 400 for _, path, s in log)
    assert any(path.startswith("/accounts/middlebrick") and s == 400 for _, path, s in log)
