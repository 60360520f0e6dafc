"""Scheduled scans and alerts, the same for both runners: the dashboard's own loop
(`jobs.JobRunner`) and Celery workers (`workers`).

- `tick` fires the schedules that are due (each due run makes one scan, however many
  schedulers tick) and hands the scans to the runner.
- `alerts_after` compares an ended scan with the target's previous one and records a delivery
  per alert per webhook; `deliver` sends one delivery, signed (`middlebrick.alerts`), through the
  SSRF guard with the webhook's address pinned, and logs every attempt.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

import aiohttp

from middlebrick import alerts
from middlebrick.errors import MiddlebrickError
from middlebrick.http.guard import PinnedResolver, Pins
from middlebrick.model import Severity
from middlebrick.web.sealing import Sealer
from middlebrick.web.store import ScanStatus, Store

if TYPE_CHECKING:
    from middlebrick.web.jobs import Policy

log = logging.getLogger("middlebrick.web")
NO_KEY = "the webhook's secret cannot be opened (MIDDLEBRICK_SECRET_KEY is not set or changed)"


def tick(store: Store, submit: Callable[[str], None], moment: datetime | None = None) -> list[str]:
    """Queue a scan for every schedule that is due; the ids of the scans queued."""
    fired = []
    for schedule in store.due_schedules(moment):
        scan = store.fire(schedule, moment)
        if scan is not None:
            submit(scan.id)
            fired.append(scan.id)
    return fired


def alerts_after(store: Store, scan_id: str, *, link_base: str | None = None) -> list[str]:
    """Record the deliveries an ended scan calls for; their ids. A cancelled scan alerts no one;
    a failed or interrupted one alerts `scan_failed`."""
    scan = store.peek(scan_id)
    if scan is None or scan.status not in (
        ScanStatus.DONE,
        ScanStatus.FAILED,
        ScanStatus.INTERRUPTED,
    ):
        return []
    hooks = store.webhooks_for(scan)
    if not hooks:
        return []
    report = store.scan_report(scan_id) if scan.status is ScanStatus.DONE else None
    previous = store.previous_report(scan) if report is not None else None
    link = f"{link_base.rstrip('/')}/scans/{scan_id}" if link_base else None
    created = []
    for hook, _ in hooks:
        found = alerts.alerts_for(
            scan.target_url,
            scan.id,
            report,
            previous,
            error=scan.error,
            min_severity=Severity(hook.min_severity),
            link=link,
        )
        for alert in found:
            if alert.kind.value not in hook.kinds:
                continue
            body = alerts.slack_message(alert) if hook.slack else alerts.payload(alert)
            created.append(store.add_delivery(hook.id, scan.id, alert.kind.value, json.dumps(body)))
    return created


async def attempt_delivery(
    store: Store,
    sealer: Sealer | None,
    policy: Policy,
    delivery_id: str,
    *,
    final: bool,
) -> bool | None:
    """One attempt at a delivery, logged; True delivered, False failed (retry unless `final`),
    None when it cannot be attempted at all (unknown delivery, no key, refused address: logged
    as failed)."""
    found = store.delivery(delivery_id)
    body = store.delivery_body(delivery_id)
    if found is None or body is None:
        return None
    record, hook = found
    try:
        if sealer is None:
            raise MiddlebrickError(NO_KEY)
        secret = str(sealer.open(hook.sealed_secret)["secret"])
        admission = await policy.admit(hook.url, what="webhook")
    except MiddlebrickError as exc:
        line = f"attempt {record.attempts + 1}: not sent: {exc}"
        store.record_attempt(
            delivery_id, line=line, http_status=None, error=str(exc), delivered=False, final=True
        )
        return None
    pins = Pins.of(((admission.host, admission.addresses),))
    connector = aiohttp.TCPConnector(resolver=PinnedResolver(pins))
    async with aiohttp.ClientSession(connector=connector) as session:
        headers = alerts.signed_headers(body.encode(), secret, record.event, record.id)
        status, error = await alerts.attempt(session, hook.url, body.encode(), headers)
    delivered = status is not None and 200 <= status < 300
    line = f"attempt {record.attempts + 1}: " + (f"HTTP {status}" if status else f"{error}")
    store.record_attempt(
        delivery_id,
        line=line,
        http_status=status,
        error=None if delivered else (error or f"HTTP {status}"),
        delivered=delivered,
        final=final or delivered,
    )
    return delivered


async def deliver(
    store: Store,
    sealer: Sealer | None,
    policy: Policy,
    delivery_id: str,
    *,
    attempts: int = alerts.ATTEMPTS,
    backoff: tuple[float, ...] = alerts.BACKOFF,
) -> bool:
    """Deliver in this process, retrying with backoff (Celery retries through the queue)."""
    for number in range(1, attempts + 1):
        outcome = await attempt_delivery(
            store, sealer, policy, delivery_id, final=number == attempts
        )
        if outcome is None:
            return False
        if outcome:
            return True
        if number < attempts:
            await asyncio.sleep(alerts.delay_before(number, backoff))
    return False
