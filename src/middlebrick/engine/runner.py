"""Run checks: active ones concurrently under the scan deadline, then passive ones over everything
recorded. A check's failure is data (a `CheckRun` with status and reason), never a crash."""

from __future__ import annotations

import asyncio
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from middlebrick.checks._check import Check
from middlebrick.checks._context import Context, NotApplicable, ProbeContext, RawFinding
from middlebrick.engine.events import CheckFinished, OnEvent
from middlebrick.errors import ScopeViolation
from middlebrick.http.client import BudgetExhausted
from middlebrick.model import CheckRun, CheckStatus


class Progress:
    def __init__(self, total: int, on_event: OnEvent) -> None:
        self.total, self.done, self._on_event = total, 0, on_event

    def finished(self, run: CheckRun) -> None:
        self.done += 1
        self._on_event(CheckFinished(run.check_id, run.status, self.done, self.total))


async def run_active(
    checks: Sequence[Check],
    context_for: Callable[[Check], ProbeContext],
    remaining: Callable[[], float],
    progress: Progress,
) -> tuple[list[CheckRun], list[RawFinding]]:
    runs: dict[str, CheckRun] = {}
    findings: list[RawFinding] = []

    async def run_one(check: Check) -> None:
        started = time.perf_counter()
        found: list[RawFinding] = []
        status, reason = CheckStatus.COMPLETED, None
        try:
            async for finding in check.fn(context_for(check)):
                found.append(finding)
        except NotApplicable as exc:
            status, reason = CheckStatus.NOT_APPLICABLE, str(exc)
        except (BudgetExhausted, asyncio.CancelledError):
            status, reason = CheckStatus.INCOMPLETE, "the scan budget ran out before it finished"
        except ScopeViolation as exc:
            status, reason = CheckStatus.ERROR, f"bug: {exc}"
        except Exception as exc:
            status, reason = CheckStatus.ERROR, _describe(exc)
        findings.extend(found)
        run = CheckRun(
            check_id=check.id,
            **_described(check),
            status=status,
            reason=reason,
            findings=len(found),
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        runs[check.id] = run
        progress.finished(run)

    tasks = [asyncio.ensure_future(run_one(c)) for c in checks]
    if tasks:
        _, pending = await asyncio.wait(tasks, timeout=max(0.0, remaining()))
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    return [runs[c.id] for c in checks], findings


def run_passive(
    checks: Sequence[Check], context_for: Callable[[Check], Context], progress: Progress
) -> tuple[list[CheckRun], list[RawFinding]]:
    runs: list[CheckRun] = []
    findings: list[RawFinding] = []
    for check in checks:
        started = time.perf_counter()
        found: list[RawFinding] = []
        status, reason = CheckStatus.COMPLETED, None
        try:
            found.extend(check.fn(context_for(check)))
        except NotApplicable as exc:
            status, reason = CheckStatus.NOT_APPLICABLE, str(exc)
        except Exception as exc:
            status, reason = CheckStatus.ERROR, _describe(exc)
        findings.extend(found)
        run = CheckRun(
            check_id=check.id,
            **_described(check),
            status=status,
            reason=reason,
            findings=len(found),
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        runs.append(run)
        progress.finished(run)
    return runs, findings


def _described(check: Check) -> dict[str, Any]:
    """What a report needs to describe the check without the registry (SARIF rules, HTML)."""
    return {
        "title": check.title,
        "category": check.category,
        "severity": check.severity,
        "cwe": list(check.cwe),
        "owasp": check.owasp,
        "summary": check.summary,
    }


def _describe(exc: Exception) -> str:
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" at {frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}" if frame else ""
    return f"bug: {type(exc).__name__}: {exc}{where}"
