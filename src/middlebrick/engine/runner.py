"""Run checks: active ones concurrently under the scan deadline, then passive ones over everything
recorded. A check's failure is data (a `CheckRun` with status and reason), never a crash; so is a
check that could not judge because none of its requests was answered."""

from __future__ import annotations

import asyncio
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Any, overload

from middlebrick.checks._check import Check
from middlebrick.checks._context import Context, NotApplicable, ProbeContext, RawFinding
from middlebrick.engine.events import CheckFinished, OnEvent
from middlebrick.errors import ScopeViolation
from middlebrick.http.client import BudgetExhausted
from middlebrick.http.exchange import ErrorKind, Exchange
from middlebrick.model import CheckRun, CheckStatus

OUT_OF_BUDGET = "the scan budget ran out before it finished"
PASSIVE_SLOT = 0.05  # seconds of analysis kept for each passive check still to run


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
        ctx = context_for(check)
        ctx.recorded = _Deadlined(ctx.recorded, remaining)  # CPU-bound loops stop on time too
        answers = _Answers(ctx)
        try:
            async for finding in check.fn(ctx):
                found.append(finding)
        except NotApplicable as exc:
            status, reason = CheckStatus.NOT_APPLICABLE, str(exc)
        except (BudgetExhausted, asyncio.CancelledError):
            status, reason = CheckStatus.INCOMPLETE, OUT_OF_BUDGET
        except ScopeViolation as exc:
            status, reason = CheckStatus.ERROR, f"bug: {exc}"
        except Exception as exc:
            status, reason = CheckStatus.ERROR, _describe(exc)
        if status is CheckStatus.COMPLETED and not found and answers.none_answered:
            # nothing to judge is not a pass
            status, reason = CheckStatus.INCOMPLETE, answers.why()
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
    checks: Sequence[Check],
    context_for: Callable[[Check], Context],
    progress: Progress,
    remaining: Callable[[], float] | None = None,
) -> tuple[list[CheckRun], list[RawFinding]]:
    """Run passive and static checks in order. With `remaining`, a check still reading recorded
    exchanges when its time is up stops there and is `incomplete`; its time is what remains less
    a slot kept for each check after it, so one slow analysis cannot starve the cheap ones."""
    runs: list[CheckRun] = []
    findings: list[RawFinding] = []
    ends = time.monotonic() + (remaining() if remaining else 0.0)
    slot = min(PASSIVE_SLOT, (ends - time.monotonic()) / (2 * len(checks) or 1))
    for index, check in enumerate(checks):
        started = time.perf_counter()
        found: list[RawFinding] = []
        status, reason = CheckStatus.COMPLETED, None
        ctx = context_for(check)
        if remaining is not None:
            ctx.recorded = _Deadlined(ctx.recorded, _until(ends - slot * (len(checks) - index - 1)))
        try:
            found.extend(check.fn(ctx))
        except NotApplicable as exc:
            status, reason = CheckStatus.NOT_APPLICABLE, str(exc)
        except BudgetExhausted:
            status, reason = CheckStatus.INCOMPLETE, OUT_OF_BUDGET
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


def _until(moment: float) -> Callable[[], float]:
    return lambda: moment - time.monotonic()


def unanswered(ex: Exchange, origin: str) -> bool:
    """The request got no answer to judge. A refused connection to another origin than the
    scanned one (the plain-HTTP sibling of an HTTPS API) is an answer: nothing listens there."""
    if ex.response is not None:
        return False
    elsewhere = not (ex.request.url == origin or ex.request.url.startswith(origin + "/"))
    return not (ex.error_kind is ErrorKind.REFUSED and elsewhere)


class _Answers:
    """Wraps a probe context's sender to see whether any of the check's requests was answered."""

    def __init__(self, ctx: ProbeContext) -> None:
        self.sent = 0
        self._origin = ctx.target.origin.url
        self._failures: Counter[str] = Counter()
        inner = ctx._send
        if inner is None:
            return

        async def send(method: str, url: str, **kwargs: Any) -> Exchange:
            ex = await inner(method, url, **kwargs)
            self.sent += 1
            if unanswered(ex, self._origin):
                self._failures[ex.error or "no response"] += 1
            return ex

        ctx._send = send

    @property
    def none_answered(self) -> bool:
        return self.sent > 0 and self._failures.total() == self.sent

    def why(self) -> str:
        error, _ = self._failures.most_common(1)[0]
        return f"none of its {self.sent} requests got an answer to judge ({error})"


class _Deadlined(Sequence[Exchange]):
    """A live view of the recorded exchanges that stops a check reading them once the time is
    up: a check busy analysing large bodies cannot hold the scan past its budget."""

    def __init__(self, exchanges: Sequence[Exchange], remaining: Callable[[], float]) -> None:
        self._exchanges, self._remaining = exchanges, remaining

    def __len__(self) -> int:
        return len(self._exchanges)

    @overload
    def __getitem__(self, index: int) -> Exchange: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Exchange]: ...
    def __getitem__(self, index: int | slice) -> Exchange | Sequence[Exchange]:
        self._check()
        return self._exchanges[index]

    def __iter__(self) -> Iterator[Exchange]:
        for ex in list(self._exchanges):  # checks send (and so record) while they read
            self._check()
            yield ex

    def _check(self) -> None:
        if self._remaining() <= 0:
            raise BudgetExhausted


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
