"""Alerts: a webhook when a monitored API gets worse — its grade drops, a new critical or high
finding appears, or its scan fails.

The body is JSON (or a Slack-compatible message), signed like Stripe's webhooks:

    X-Middlebrick-Signature: t=1764400000,v1=<hex HMAC-SHA256(secret, "1764400000." + body)>
    X-Middlebrick-Event: grade_drop | new_finding | scan_failed
    X-Middlebrick-Delivery: <uuid, the same on every retry of one delivery>

A receiver recomputes the HMAC over the raw body, compares in constant time (`verify` does) and
refuses timestamps older than its replay window (`REPLAY_WINDOW`, 5 minutes) — a captured request
replayed later fails, and the delivery id lets it drop a retry it already handled.

An alert carries no evidence: finding titles, severities, check ids and endpoints only, never
an excerpt (which may hold a masked secret) and never credentials.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import aiohttp

from middlebrick import triage
from middlebrick.model import BaselineState, Report, Severity

REPLAY_WINDOW = 300  # seconds a receiver should accept a signature's timestamp for
ATTEMPTS = 5
BACKOFF = (1.0, 4.0, 16.0, 64.0)  # seconds before the 2nd, 3rd, … attempt
TIMEOUT = 10.0
MAX_FINDINGS = 20  # listed per alert; the count says how many there were
_GRADES = "ABCDF"


class AlertKind(StrEnum):
    GRADE_DROP = "grade_drop"
    NEW_FINDING = "new_finding"
    SCAN_FAILED = "scan_failed"


@dataclass(frozen=True, slots=True)
class Alert:
    kind: AlertKind
    target: str
    scan_id: str
    grade: str | None = None
    previous_grade: str | None = None
    score: int | None = None
    previous_score: int | None = None
    findings: tuple[dict[str, Any], ...] = ()  # the new ones: check_id, title, severity, endpoint
    new_findings: int = 0
    error: str | None = None
    link: str | None = None  # the scan in the dashboard


def alerts_for(
    target: str,
    scan_id: str,
    report: Report | None,
    previous: Report | None,
    *,
    error: str | None = None,
    min_severity: Severity = Severity.HIGH,
    link: str | None = None,
) -> list[Alert]:
    """What to tell about a scan of `target` given the one before it: a failed scan, a grade that
    dropped, new findings at or above `min_severity` (by fingerprint, as `--baseline` compares).
    A first scan has nothing to compare with and alerts only on failure."""
    if report is None:
        return [Alert(AlertKind.SCAN_FAILED, target, scan_id, error=error or "failed", link=link)]
    if previous is None:
        return []
    alerts = []
    grade, before = report.score.grade, previous.score.grade
    if _GRADES.index(grade) > _GRADES.index(before):
        alerts.append(
            Alert(
                AlertKind.GRADE_DROP,
                target,
                scan_id,
                grade=grade,
                previous_grade=before,
                score=report.score.score,
                previous_score=previous.score.score,
                link=link,
            )
        )
    compared = triage.compare(report, previous)
    new = [
        f
        for f in compared.findings
        if f.baseline_state is BaselineState.NEW and f.severity.rank >= min_severity.rank
    ]
    if new:
        listed = tuple(
            {
                "check_id": f.check_id,
                "title": f.title,
                "severity": f.severity.value,
                "endpoint": f.endpoints[0] if f.endpoints else None,
            }
            for f in sorted(new, key=lambda f: -f.severity.rank)[:MAX_FINDINGS]
        )
        alerts.append(
            Alert(
                AlertKind.NEW_FINDING,
                target,
                scan_id,
                grade=grade,
                score=report.score.score,
                findings=listed,
                new_findings=len(new),
                link=link,
            )
        )
    return alerts


def payload(alert: Alert) -> dict[str, Any]:
    """The JSON body of a generic webhook."""
    return {
        "event": alert.kind.value,
        "target": alert.target,
        "scan_id": alert.scan_id,
        "grade": alert.grade,
        "previous_grade": alert.previous_grade,
        "score": alert.score,
        "previous_score": alert.previous_score,
        "new_findings": alert.new_findings,
        "findings": list(alert.findings),
        "error": alert.error,
        "link": alert.link,
        "summary": summary(alert),
    }


def slack_message(alert: Alert) -> dict[str, Any]:
    """A message Slack's incoming webhooks (and Mattermost's, Discord's /slack) accept."""
    lines = [f"*{_escape_slack(summary(alert))}*"]
    lines += [
        f"• {f['severity']}: {_escape_slack(f['title'])} ({f['check_id']})"
        + (f" — `{_escape_slack(f['endpoint'])}`" if f["endpoint"] else "")
        for f in alert.findings
    ]
    if alert.link:
        lines.append(f"<{alert.link}|Open the scan>")
    return {"text": "\n".join(lines)}


def _escape_slack(text: str) -> str:
    """Slack's three control characters; a hostile endpoint cannot make a link or a mention."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def summary(alert: Alert) -> str:
    match alert.kind:
        case AlertKind.GRADE_DROP:
            return (
                f"{alert.target}: grade dropped from {alert.previous_grade} to {alert.grade} "
                f"({alert.previous_score} → {alert.score})"
            )
        case AlertKind.NEW_FINDING:
            return f"{alert.target}: {alert.new_findings} new high or critical finding(s)"
        case AlertKind.SCAN_FAILED:
            return f"{alert.target}: the scan failed ({alert.error})"


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The `X-Middlebrick-Signature` value for `body`."""
    stamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={mac}"


def verify(
    header: str, body: bytes, secret: str, *, window: int = REPLAY_WINDOW, now: float | None = None
) -> bool:
    """Whether `header` signs `body` with `secret` within the replay window (for receivers)."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        stamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - stamp) > window:
        return False
    expected = sign(body, secret, stamp).partition(",v1=")[2]
    return hmac.compare_digest(expected, fields.get("v1", ""))


@dataclass(slots=True)
class Delivery:
    """One delivery's fate, for the delivery log."""

    id: str
    url: str
    event: str
    attempts: int = 0
    status: int | None = None
    error: str | None = None
    delivered: bool = False
    log: list[str] = field(default_factory=list)  # one line per attempt


def request_for(
    alert: Alert, secret: str, *, slack: bool = False, delivery_id: str | None = None
) -> tuple[bytes, dict[str, str], str]:
    """The body, the headers and the delivery id of one alert."""
    body = json.dumps(slack_message(alert) if slack else payload(alert)).encode()
    ident = delivery_id or uuid.uuid4().hex
    return body, signed_headers(body, secret, alert.kind.value, ident), ident


async def attempt(
    session: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str]
) -> tuple[int | None, str | None]:
    """One POST: its status, or why there was none. 2xx is delivered; anything else retries."""
    try:
        async with session.post(
            url,
            data=body,
            headers=headers,
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=TIMEOUT),
        ) as response:
            await response.read()
            return response.status, None
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        return None, (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def signed_headers(body: bytes, secret: str, event: str, delivery_id: str) -> dict[str, str]:
    """The headers of one attempt (signed now: each retry carries a fresh timestamp)."""
    return {
        "Content-Type": "application/json",
        "User-Agent": "middlebrick-alerts",
        "X-Middlebrick-Event": event,
        "X-Middlebrick-Delivery": delivery_id,
        "X-Middlebrick-Signature": sign(body, secret),
    }


def delay_before(attempt: int, backoff: tuple[float, ...] = BACKOFF) -> float:
    """Seconds to wait before attempt number `attempt` + 1."""
    return backoff[min(attempt - 1, len(backoff) - 1)]


async def deliver(
    url: str,
    alert: Alert,
    secret: str,
    *,
    slack: bool = False,
    attempts: int = ATTEMPTS,
    backoff: tuple[float, ...] = BACKOFF,
) -> Delivery:
    """Deliver `alert` in this process, retrying with backoff (Celery workers retry through the
    queue instead, `middlebrick.worker`). Each attempt is signed afresh (a new timestamp) and keeps
    the delivery id."""
    body, _, ident = request_for(alert, secret, slack=slack)
    record = Delivery(ident, url, alert.kind.value)
    async with aiohttp.ClientSession() as session:
        for number in range(1, attempts + 1):
            headers = signed_headers(body, secret, alert.kind.value, ident)
            status, error = await attempt(session, url, body, headers)
            record.attempts, record.status, record.error = number, status, error
            record.log.append(f"attempt {number}: " + (f"HTTP {status}" if status else f"{error}"))
            if status is not None and 200 <= status < 300:
                record.delivered = True
                break
            if number < attempts:
                await asyncio.sleep(delay_before(number, backoff))
    return record
