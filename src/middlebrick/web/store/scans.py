"""Targets and scans: the queue the job runner works from, the stored reports and the trend."""

from __future__ import annotations

import secrets
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from middlebrick.checks import BY_ID
from middlebrick.config import normalise_target
from middlebrick.errors import ConfigError
from middlebrick.model import Report, Severity
from middlebrick.web.models import Scan, ScanSecret, Target
from middlebrick.web.store.database import Database, now
from middlebrick.web.store.records import (
    LOST_CREDENTIALS,
    STOPPED,
    Recovery,
    ScanRecord,
    ScanSettings,
    ScanStatus,
    TargetRecord,
    TrendPoint,
)

_OPEN = (ScanStatus.QUEUED, ScanStatus.RUNNING)


class Scans(Database):
    # targets ----------------------------------------------------------------------------------

    def target_for(self, user_id: int, url: str) -> TargetRecord:
        """The user's target for `url` (normalised), created on first use with a random badge
        key: the badge is public, so its key must not be guessable from the target."""
        url = normalise_target(url)
        query = select(Target).where(Target.user_id == user_id, Target.url == url)
        with self._tx() as db:
            found = db.scalar(query)
            if found is not None:
                return _targets(db, [found])[0]
        try:
            with self._tx() as db:
                target = Target(user_id=user_id, url=url, badge_key=_badge_key(), created_at=now())
                db.add(target)
                db.flush()
                return _targets(db, [target])[0]
        except IntegrityError:  # created by a concurrent request
            with self._tx() as db:
                return _targets(db, [db.scalars(query).one()])[0]

    def list_targets(self, user_id: int) -> list[TargetRecord]:
        """By URL."""
        with self._tx() as db:
            rows = db.scalars(select(Target).where(Target.user_id == user_id).order_by(Target.url))
            return _targets(db, list(rows))

    def get_target(self, user_id: int, target_id: int) -> TargetRecord | None:
        with self._tx() as db:
            target = db.scalar(
                select(Target).where(Target.id == target_id, Target.user_id == user_id)
            )
            return _targets(db, [target])[0] if target else None

    def target_by_badge(self, badge_key: str) -> TargetRecord | None:
        if not badge_key:
            return None
        with self._tx() as db:
            target = db.scalar(select(Target).where(Target.badge_key == badge_key))
            return _targets(db, [target])[0] if target else None

    # scans ------------------------------------------------------------------------------------

    def create_scan(
        self,
        user_id: int,
        url: str,
        settings: ScanSettings | Mapping[str, Any],
        *,
        spec_text: str | None = None,
        needs_credentials: bool = False,
    ) -> ScanRecord:
        """Queue a scan of `url`. `settings` must validate as `ScanSettings` (`ConfigError`
        otherwise); `spec_text` is an uploaded spec, kept so the scan can run after a restart."""
        chosen = _settings(settings)
        unknown = [c for c in (*chosen.checks, *chosen.skip_checks) if c not in BY_ID]
        if unknown:
            raise ConfigError(f"unknown check id: {', '.join(unknown)}")
        target = self.target_for(user_id, url)
        scan = Scan(
            id=uuid.uuid4().hex,
            user_id=user_id,
            target_id=target.id,
            target_url=target.url,
            status=ScanStatus.QUEUED,
            settings=chosen.model_dump(mode="json"),
            needs_credentials=needs_credentials,
            created_at=now(),
            progress_done=0,
            progress_total=0,
            counts={},
            spec_text=spec_text,
        )
        with self._tx() as db:
            db.add(scan)
        return _scan(scan)

    def get_scan(self, user_id: int, scan_id: str) -> ScanRecord | None:
        with self._tx() as db:
            scan = db.scalar(select(Scan).where(Scan.id == scan_id, Scan.user_id == user_id))
            return _scan(scan) if scan else None

    def list_scans(
        self, user_id: int, *, target_id: int | None = None, limit: int = 50
    ) -> list[ScanRecord]:
        """Newest first."""
        query = select(Scan).where(Scan.user_id == user_id)
        if target_id is not None:
            query = query.where(Scan.target_id == target_id)
        with self._tx() as db:
            rows = db.scalars(query.order_by(Scan.created_at.desc(), Scan.id).limit(limit))
            return [_scan(s) for s in rows]

    def spec_text(self, scan_id: str) -> str | None:
        with self._tx() as db:
            return db.scalar(select(Scan.spec_text).where(Scan.id == scan_id))

    def mark_running(self, scan_id: str) -> ScanRecord | None:
        """Move a queued scan to running and return it; None when it is not queued (cancelled,
        or taken already): one conditional update, so a scan never runs twice."""
        with self._tx() as db:
            moved = db.execute(
                update(Scan)
                .where(Scan.id == scan_id, Scan.status == ScanStatus.QUEUED)
                .values(status=ScanStatus.RUNNING, started_at=now())
            )
            if not moved.rowcount:  # type: ignore[attr-defined]
                return None
            return _scan(db.get_one(Scan, scan_id))

    def set_progress(self, scan_id: str, done: int, total: int) -> None:
        with self._tx() as db:
            db.execute(
                update(Scan)
                .where(Scan.id == scan_id, Scan.status == ScanStatus.RUNNING)
                .values(progress_done=done, progress_total=total)
            )

    def finish(self, scan_id: str, report: Report) -> bool:
        """Store the report of a running scan; False if the scan was no longer running."""
        with self._tx() as db:
            done = db.execute(
                update(Scan)
                .where(Scan.id == scan_id, Scan.status == ScanStatus.RUNNING)
                .values(status=ScanStatus.DONE, finished_at=now(), **_results(report))
            )
            return bool(done.rowcount)  # type: ignore[attr-defined]

    def fail(self, scan_id: str, reason: str) -> bool:
        return self._end(scan_id, ScanStatus.FAILED, reason)

    def cancel(self, scan_id: str, reason: str) -> bool:
        return self._end(scan_id, ScanStatus.CANCELLED, reason)

    def interrupt(self, scan_id: str, reason: str = STOPPED) -> bool:
        return self._end(scan_id, ScanStatus.INTERRUPTED, reason)

    def _end(self, scan_id: str, status: ScanStatus, reason: str) -> bool:
        """End a queued or running scan with `reason`; False when it had ended already."""
        with self._tx() as db:
            ended = db.execute(
                update(Scan)
                .where(Scan.id == scan_id, Scan.status.in_(_OPEN))
                .values(status=status, error=reason, finished_at=now())
            )
            return bool(ended.rowcount)  # type: ignore[attr-defined]

    def report(self, user_id: int, scan_id: str) -> Report | None:
        with self._tx() as db:
            text = db.scalar(
                select(Scan.report_json).where(Scan.id == scan_id, Scan.user_id == user_id)
            )
        return Report.model_validate_json(text) if text else None

    def store_report(self, user_id: int, report: Report) -> ScanRecord:
        """Keep a report made elsewhere (`middlebrick scan --upload`) as a done scan of its
        target; the report's config gives the scan's public settings."""
        target = self.target_for(user_id, report.target.url)
        known = {
            k: v
            for k, v in report.config.items()
            if k in ScanSettings.model_fields and v is not None
        }
        scan = Scan(
            id=uuid.uuid4().hex,
            user_id=user_id,
            target_id=target.id,
            target_url=target.url,
            status=ScanStatus.DONE,
            settings=_settings(known).model_dump(mode="json"),
            needs_credentials=False,
            created_at=now(),
            started_at=report.started_at,
            finished_at=report.finished_at,
            **_results(report),
        )
        with self._tx() as db:
            db.add(scan)
        return _scan(scan)

    def trend(self, user_id: int, target_id: int) -> list[TrendPoint]:
        """Score and grade of the target's done scans, oldest first."""
        with self._tx() as db:
            rows = db.execute(
                select(Scan.id, Scan.finished_at, Scan.score, Scan.grade)
                .where(
                    Scan.user_id == user_id,
                    Scan.target_id == target_id,
                    Scan.status == ScanStatus.DONE,
                )
                .order_by(Scan.finished_at, Scan.id)
            )
            return [
                TrendPoint(scan_id, finished, score, grade)
                for scan_id, finished, score, grade in rows
                if finished is not None and score is not None and grade is not None
            ]

    def recover(self) -> Recovery:
        """At start-up: a scan left running was cut off (interrupted); a queued scan runs again,
        unless it needed credentials, which were in the memory of the process that stopped."""
        moment = now()
        with self._tx() as db:
            running = list(db.scalars(select(Scan.id).where(Scan.status == ScanStatus.RUNNING)))
            queued = db.execute(
                select(Scan.id, Scan.needs_credentials, ScanSecret.scan_id)
                .outerjoin(ScanSecret, ScanSecret.scan_id == Scan.id)
                .where(Scan.status == ScanStatus.QUEUED)
                .order_by(Scan.created_at, Scan.id)
            )
            requeue: list[str] = []
            lost: list[str] = []
            for scan_id, needs, sealed in queued:  # sealed credentials survive a restart
                (lost if needs and sealed is None else requeue).append(scan_id)
            for ids, reason in ((running, STOPPED), (lost, LOST_CREDENTIALS)):
                if ids:
                    db.execute(
                        update(Scan)
                        .where(Scan.id.in_(ids))
                        .values(status=ScanStatus.INTERRUPTED, error=reason, finished_at=moment)
                    )
        return Recovery(requeue=requeue, interrupted=[*running, *lost])


def _badge_key() -> str:
    return secrets.token_urlsafe(24)


def _settings(settings: ScanSettings | Mapping[str, Any]) -> ScanSettings:
    if isinstance(settings, ScanSettings):
        return settings
    try:
        return ScanSettings.model_validate(dict(settings))
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"]) or "settings"
        raise ConfigError(f"scan setting {where}: {error['msg']}") from None


def _results(report: Report) -> dict[str, Any]:
    found = Counter(f.severity.value for f in report.findings)
    return {
        "score": report.score.score,
        "grade": report.score.grade,
        "counts": {s.value: found[s.value] for s in Severity},
        "progress_done": len(report.checks),
        "progress_total": len(report.checks),
        "report_json": report.model_dump_json(),
    }


def _scan(scan: Scan) -> ScanRecord:
    return ScanRecord(
        id=scan.id,
        user_id=scan.user_id,
        target_id=scan.target_id,
        target_url=scan.target_url,
        status=ScanStatus(scan.status),
        settings=dict(scan.settings),
        needs_credentials=scan.needs_credentials,
        created_at=scan.created_at,
        started_at=scan.started_at,
        finished_at=scan.finished_at,
        score=scan.score,
        grade=scan.grade,
        error=scan.error,
        progress_done=scan.progress_done,
        progress_total=scan.progress_total,
        counts={str(k): int(v) for k, v in scan.counts.items()},
    )


def _targets(db: Session, targets: Sequence[Target]) -> list[TargetRecord]:
    """Records for `targets` with their scan counts and latest done scan, in two queries."""
    ids = [t.id for t in targets]
    counts: dict[int, int] = {
        target_id: count
        for target_id, count in db.execute(
            select(Scan.target_id, func.count())
            .where(Scan.target_id.in_(ids))
            .group_by(Scan.target_id)
        )
    }
    latest: dict[int, tuple[str, str | None, int | None]] = {}
    for target_id, scan_id, grade, score in db.execute(
        select(Scan.target_id, Scan.id, Scan.grade, Scan.score)
        .where(Scan.target_id.in_(ids), Scan.status == ScanStatus.DONE)
        .order_by(Scan.finished_at.desc(), Scan.id)
    ):
        latest.setdefault(target_id, (scan_id, grade, score))
    return [
        TargetRecord(
            id=t.id,
            user_id=t.user_id,
            url=t.url,
            badge_key=t.badge_key,
            created_at=t.created_at,
            latest_scan_id=latest.get(t.id, (None, None, None))[0],
            latest_grade=latest.get(t.id, (None, None, None))[1],
            latest_score=latest.get(t.id, (None, None, None))[2],
            scans=counts.get(t.id, 0),
        )
        for t in targets
    ]
