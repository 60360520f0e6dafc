"""Monitoring: schedules that scan a target again and again, webhooks that hear when it gets
worse, and the log of every delivery.

A schedule fires by compare-and-set on its `next_run_at`, so however many schedulers tick at
once (two beats by mistake, a dashboard and a beat), each due run makes one scan. Secrets
(a schedule's credentials, a webhook's signing secret) arrive sealed and stay sealed here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from croniter import croniter
from sqlalchemy import delete, select, update

from middlebrick.checks import BY_ID
from middlebrick.errors import ConfigError
from middlebrick.model import Report, Severity
from middlebrick.web.models import Delivery, Scan, ScanSecret, Schedule, Target, Webhook
from middlebrick.web.store.database import Database, now
from middlebrick.web.store.records import ScanRecord, ScanStatus
from middlebrick.web.store.scans import Scans, _scan, _settings

MIN_INTERVAL = 60  # seconds: a schedule cannot fire more often than once a minute
KINDS = ("grade_drop", "new_finding", "scan_failed")


@dataclass(frozen=True, slots=True)
class ScheduleRecord:
    id: int
    user_id: int
    target_id: int
    target_url: str
    cron: str | None
    interval_seconds: int | None
    settings: dict[str, Any]
    has_credentials: bool
    enabled: bool
    next_run_at: datetime
    last_scan_id: str | None
    created_at: datetime

    @property
    def every(self) -> str:
        """`cron 0 3 * * *` or `every 3600 s`, for pages and the API."""
        return f"cron {self.cron}" if self.cron else f"every {self.interval_seconds} s"


@dataclass(frozen=True, slots=True)
class WebhookRecord:
    id: int
    user_id: int
    target_id: int | None  # None: every target of the user
    url: str
    kinds: tuple[str, ...]
    min_severity: str
    slack: bool
    enabled: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    id: str
    webhook_id: int
    webhook_url: str
    scan_id: str | None
    event: str
    status: str  # pending, delivered, failed
    attempts: int
    http_status: int | None
    error: str | None
    log: tuple[str, ...]
    created_at: datetime
    updated_at: datetime


def next_run(cron: str | None, interval: int | None, after: datetime) -> datetime:
    """When a schedule fires next after `after` (UTC)."""
    if cron:
        upcoming: datetime = croniter(cron, after.astimezone(UTC)).get_next(datetime)
        return upcoming.astimezone(UTC)
    assert interval is not None
    return after + timedelta(seconds=interval)


def _check_timing(cron: str | None, interval: int | None) -> None:
    if (cron is None) == (interval is None):
        raise ConfigError("a schedule needs a cron expression or an interval, not both")
    if cron is not None:
        if not croniter.is_valid(cron) or len(cron.split()) != 5:
            raise ConfigError(
                f"not a cron expression: {cron!r} (five fields: minute hour day month weekday)"
            )
        first = croniter(cron, now()).get_next(datetime)
        second = croniter(cron, first).get_next(datetime)
        if (second - first).total_seconds() < MIN_INTERVAL:
            raise ConfigError("a schedule fires at most once a minute")
    elif interval is not None and interval < MIN_INTERVAL:
        raise ConfigError(f"the interval must be at least {MIN_INTERVAL} seconds")


class Monitoring(Scans, Database):
    # --- schedules -----------------------------------------------------------------------------
    def create_schedule(
        self,
        user_id: int,
        url: str,
        settings: dict[str, Any],
        *,
        cron: str | None = None,
        interval_seconds: int | None = None,
        sealed_credentials: str | None = None,
    ) -> ScheduleRecord:
        _check_timing(cron, interval_seconds)
        chosen = _settings(settings)
        unknown = [c for c in (*chosen.checks, *chosen.skip_checks) if c not in BY_ID]
        if unknown:
            raise ConfigError(f"unknown check id: {', '.join(unknown)}")
        target = self.target_for(user_id, url)
        moment = now()
        schedule = Schedule(
            user_id=user_id,
            target_id=target.id,
            cron=cron,
            interval_seconds=interval_seconds,
            settings=chosen.model_dump(mode="json"),
            sealed_credentials=sealed_credentials,
            enabled=True,
            next_run_at=next_run(cron, interval_seconds, moment),
            created_at=moment,
        )
        with self._tx() as db:
            db.add(schedule)
            db.flush()
            return _schedule(schedule, target.url)

    def list_schedules(self, user_id: int) -> list[ScheduleRecord]:
        with self._tx() as db:
            rows = db.execute(
                select(Schedule, Target.url)
                .join(Target, Target.id == Schedule.target_id)
                .where(Schedule.user_id == user_id)
                .order_by(Target.url, Schedule.id)
            )
            return [_schedule(s, url) for s, url in rows]

    def set_schedule_enabled(self, user_id: int, schedule_id: int, enabled: bool) -> bool:
        with self._tx() as db:
            changed = db.execute(
                update(Schedule)
                .where(Schedule.id == schedule_id, Schedule.user_id == user_id)
                .values(enabled=enabled)
            )
            return bool(changed.rowcount)  # type: ignore[attr-defined]

    def delete_schedule(self, user_id: int, schedule_id: int) -> bool:
        with self._tx() as db:
            gone = db.execute(
                delete(Schedule).where(Schedule.id == schedule_id, Schedule.user_id == user_id)
            )
            return bool(gone.rowcount)  # type: ignore[attr-defined]

    def due_schedules(self, moment: datetime | None = None) -> list[ScheduleRecord]:
        """Enabled schedules whose next run is at or before `moment` (now)."""
        with self._tx() as db:
            rows = db.execute(
                select(Schedule, Target.url)
                .join(Target, Target.id == Schedule.target_id)
                .where(Schedule.enabled.is_(True), Schedule.next_run_at <= (moment or now()))
                .order_by(Schedule.next_run_at, Schedule.id)
            )
            return [_schedule(s, url) for s, url in rows]

    def fire(self, schedule: ScheduleRecord, moment: datetime | None = None) -> ScanRecord | None:
        """Queue the scan of a due schedule and move its next run on — unless another scheduler
        fired it first (None). The schedule's sealed credentials go with the scan."""
        moment = moment or now()
        upcoming = next_run(schedule.cron, schedule.interval_seconds, moment)
        scan_id = uuid.uuid4().hex
        with self._tx() as db:
            won = db.execute(
                update(Schedule)
                .where(
                    Schedule.id == schedule.id,
                    Schedule.enabled.is_(True),
                    Schedule.next_run_at == schedule.next_run_at,
                )
                .values(next_run_at=upcoming, last_scan_id=scan_id)
            )
            if not won.rowcount:  # type: ignore[attr-defined]
                return None
            sealed = db.scalar(
                select(Schedule.sealed_credentials).where(Schedule.id == schedule.id)
            )
            scan = Scan(
                id=scan_id,
                user_id=schedule.user_id,
                target_id=schedule.target_id,
                target_url=schedule.target_url,
                status=ScanStatus.QUEUED,
                settings=dict(schedule.settings),
                needs_credentials=sealed is not None,
                created_at=moment,
                progress_done=0,
                progress_total=0,
                counts={},
                schedule_id=schedule.id,
            )
            db.add(scan)
            if sealed is not None:
                db.flush()
                db.add(ScanSecret(scan_id=scan_id, sealed=sealed))
            db.flush()
            return _scan(scan)

    # --- webhooks ------------------------------------------------------------------------------
    def create_webhook(
        self,
        user_id: int,
        url: str,
        sealed_secret: str,
        *,
        target_id: int | None = None,
        kinds: tuple[str, ...] = KINDS,
        min_severity: str = "high",
        slack: bool = False,
    ) -> WebhookRecord:
        unknown = [k for k in kinds if k not in KINDS]
        if unknown or not kinds:
            raise ConfigError(f"webhook events are {', '.join(KINDS)}")
        if min_severity not in {s.value for s in Severity}:
            raise ConfigError(f"unknown severity {min_severity!r}")
        if not url.startswith(("https://", "http://")):
            raise ConfigError("a webhook URL starts with https:// (or http://)")
        if target_id is not None and self.get_target(user_id, target_id) is None:
            raise ConfigError("no such target")
        hook = Webhook(
            user_id=user_id,
            target_id=target_id,
            url=url,
            sealed_secret=sealed_secret,
            events={"kinds": list(kinds), "min_severity": min_severity},
            slack=slack,
            enabled=True,
            created_at=now(),
        )
        with self._tx() as db:
            db.add(hook)
            db.flush()
            return _webhook(hook)

    def list_webhooks(self, user_id: int) -> list[WebhookRecord]:
        with self._tx() as db:
            rows = db.scalars(
                select(Webhook).where(Webhook.user_id == user_id).order_by(Webhook.id)
            )
            return [_webhook(h) for h in rows]

    def delete_webhook(self, user_id: int, webhook_id: int) -> bool:
        with self._tx() as db:
            gone = db.execute(
                delete(Webhook).where(Webhook.id == webhook_id, Webhook.user_id == user_id)
            )
            return bool(gone.rowcount)  # type: ignore[attr-defined]

    def webhooks_for(self, scan: ScanRecord) -> list[tuple[WebhookRecord, str]]:
        """The enabled webhooks that hear about `scan`, each with its sealed secret."""
        with self._tx() as db:
            rows = db.scalars(
                select(Webhook).where(
                    Webhook.user_id == scan.user_id,
                    Webhook.enabled.is_(True),
                    (Webhook.target_id.is_(None)) | (Webhook.target_id == scan.target_id),
                )
            )
            return [(_webhook(h), h.sealed_secret) for h in rows]

    def previous_report(self, scan: ScanRecord) -> Report | None:
        """The report of the target's last done scan before `scan`."""
        with self._tx() as db:
            text = db.scalar(
                select(Scan.report_json)
                .where(
                    Scan.target_id == scan.target_id,
                    Scan.status == ScanStatus.DONE,
                    Scan.id != scan.id,
                    Scan.created_at <= scan.created_at,
                )
                .order_by(Scan.finished_at.desc(), Scan.id)
                .limit(1)
            )
        return Report.model_validate_json(text) if text else None

    def scan_report(self, scan_id: str) -> Report | None:
        with self._tx() as db:
            text = db.scalar(select(Scan.report_json).where(Scan.id == scan_id))
        return Report.model_validate_json(text) if text else None

    # --- deliveries ----------------------------------------------------------------------------
    def add_delivery(self, webhook_id: int, scan_id: str | None, event: str, body: str) -> str:
        moment = now()
        delivery = Delivery(
            id=uuid.uuid4().hex,
            webhook_id=webhook_id,
            scan_id=scan_id,
            event=event,
            body=body,
            status="pending",
            attempts=0,
            log={"attempts": []},
            created_at=moment,
            updated_at=moment,
        )
        with self._tx() as db:
            db.add(delivery)
        return delivery.id

    def delivery(self, delivery_id: str) -> tuple[DeliveryRecord, Webhook] | None:
        """A delivery and its webhook (detached: url, sealed secret, slack)."""
        with self._tx() as db:
            row = db.execute(
                select(Delivery, Webhook)
                .join(Webhook, Webhook.id == Delivery.webhook_id)
                .where(Delivery.id == delivery_id)
            ).one_or_none()
            if row is None:
                return None
            delivery, hook = row
            return _delivery(delivery, hook.url), hook

    def delivery_body(self, delivery_id: str) -> str | None:
        with self._tx() as db:
            return db.scalar(select(Delivery.body).where(Delivery.id == delivery_id))

    def record_attempt(
        self,
        delivery_id: str,
        *,
        line: str,
        http_status: int | None,
        error: str | None,
        delivered: bool,
        final: bool,
    ) -> None:
        """One attempt's outcome; `final` without `delivered`: given up (failed)."""
        with self._tx() as db:
            delivery = db.get(Delivery, delivery_id)
            if delivery is None:
                return
            delivery.attempts += 1
            delivery.http_status = http_status
            delivery.error = error
            delivery.log = {"attempts": [*delivery.log.get("attempts", []), line]}
            delivery.status = "delivered" if delivered else ("failed" if final else "pending")
            delivery.updated_at = now()

    def list_deliveries(self, user_id: int, limit: int = 50) -> list[DeliveryRecord]:
        """The user's deliveries, newest first (the dashboard's delivery log)."""
        with self._tx() as db:
            rows = db.execute(
                select(Delivery, Webhook.url)
                .join(Webhook, Webhook.id == Delivery.webhook_id)
                .where(Webhook.user_id == user_id)
                .order_by(Delivery.created_at.desc(), Delivery.id)
                .limit(limit)
            )
            return [_delivery(d, url) for d, url in rows]


def _schedule(s: Schedule, url: str) -> ScheduleRecord:
    return ScheduleRecord(
        id=s.id,
        user_id=s.user_id,
        target_id=s.target_id,
        target_url=url,
        cron=s.cron,
        interval_seconds=s.interval_seconds,
        settings=dict(s.settings),
        has_credentials=s.sealed_credentials is not None,
        enabled=s.enabled,
        next_run_at=s.next_run_at,
        last_scan_id=s.last_scan_id,
        created_at=s.created_at,
    )


def _webhook(h: Webhook) -> WebhookRecord:
    return WebhookRecord(
        id=h.id,
        user_id=h.user_id,
        target_id=h.target_id,
        url=h.url,
        kinds=tuple(h.events.get("kinds", KINDS)),
        min_severity=str(h.events.get("min_severity", "high")),
        slack=h.slack,
        enabled=h.enabled,
        created_at=h.created_at,
    )


def _delivery(d: Delivery, url: str) -> DeliveryRecord:
    return DeliveryRecord(
        id=d.id,
        webhook_id=d.webhook_id,
        webhook_url=url,
        scan_id=d.scan_id,
        event=d.event,
        status=d.status,
        attempts=d.attempts,
        http_status=d.http_status,
        error=d.error,
        log=tuple(d.log.get("attempts", [])),
        created_at=d.created_at,
        updated_at=d.updated_at,
    )
