"""Run a real scan in a fresh process and hold it to the three promises: it ends within its budget,
it stays small, and it says what it could not judge.

Peak memory is the child's high-water RSS (`VmHWM`, see scan_child.py): the whole process
(interpreter, imports, every buffer aiohttp and zlib allocate outside Python's heap), which
tracemalloc would not see, and nothing of the servers, which run in the test's process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from middlebrick.model import CheckStatus, Report

CHILD = Path(__file__).with_name("scan_child.py")  # a script: run by path, never imported
BUDGET = 6.0  # seconds: long enough for a whole scan of a healthy loopback API on a busy machine
TIMEOUT = 2.0  # per request
GRACE = 2.0  # seconds a scan may end after its budget (passive analysis gets at most one)
MAX_RSS_MIB = 300


@dataclass(frozen=True)
class Outcome:
    report: Report | None
    error: str | None
    exit_code: int | None
    wall_s: float
    peak_rss_mib: float
    rss_before_mib: float

    def finished(self) -> Report:
        assert self.report is not None, f"expected a report, got {self.error}"
        return self.report


def scan_in_child(url: str, *, budget: float = BUDGET, **settings: Any) -> Outcome:
    """Scan `url` in a child process; assert it ended within `budget` + GRACE and under
    MAX_RSS_MIB."""
    settings = {"target": url, "budget": budget, "timeout": TIMEOUT, **settings}
    done = subprocess.run(
        [sys.executable, str(CHILD)],
        input=json.dumps(settings, default=str),
        capture_output=True,
        text=True,
        timeout=budget + 90,  # interpreter start-up on a busy machine; the assert below is exact
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    outcome = Outcome(
        report=Report.model_validate(out["report"]) if "report" in out else None,
        error=out.get("error"),
        exit_code=out.get("exit_code"),
        wall_s=out["wall_s"],
        peak_rss_mib=out["peak_rss_mib"],
        rss_before_mib=out["rss_before_mib"],
    )
    assert outcome.wall_s <= budget + GRACE, f"{outcome.wall_s:.1f}s for a {budget:g}s budget"
    assert outcome.peak_rss_mib < MAX_RSS_MIB, f"peak RSS {outcome.peak_rss_mib:.0f} MiB"
    if outcome.report is not None:
        assert_no_bugs(outcome.report)
    return outcome


def assert_no_bugs(report: Report) -> None:
    """A hostile target may leave checks incomplete, never crash one."""
    errors = [f"{r.check_id}: {r.reason}" for r in report.checks if r.status is CheckStatus.ERROR]
    assert errors == []


def incomplete(report: Report) -> dict[str, str]:
    return {r.check_id: r.reason or "" for r in report.checks if r.status is CheckStatus.INCOMPLETE}


def note_with(report: Report, fragment: str) -> str:
    matching = [n for n in report.notes if fragment in n]
    assert matching, f"no note with {fragment!r} in {report.notes}"
    return matching[0]
