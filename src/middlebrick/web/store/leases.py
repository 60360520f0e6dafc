"""Scans run by Celery workers: who holds a scan (a lease: the attempt number and a heartbeat),
its sealed credentials, and the sweep that gives up scans whose worker vanished.

A task is acknowledged late, so a worker killed mid-scan leaves its message to be delivered
again. The new delivery may take the scan over only when the holder's heartbeat is stale; each
takeover counts an attempt, and every write of a result names the attempt it comes from, so a
worker that comes back from a pause cannot report a scan that another worker has taken over:
each scan ends exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, or_, select, update

from middlebrick.model import Report
from middlebrick.web.models import Scan, ScanSecret
from middlebrick.web.store.database import Database, now
from middlebrick.web.store.records import ScanRecord, ScanStatus
from middlebrick.web.store.scans import _OPEN, _results, _scan

GIVEN_UP = "the workers running it stopped {attempts} times; it was given up"
WORKER_GONE = "the worker running it stopped answering (no heartbeat for {seconds:.0f} s)"


@dataclass(frozen=True, slots=True)
class Lease:
    scan: ScanRecord
    attempt: int


class Leases(Database):
    def peek(self, scan_id: str) -> ScanRecord | None:
        """A scan by id alone, for the workers (which act for every user)."""
        with self._tx() as db:
            scan = db.get(Scan, scan_id)
            return _scan(scan) if scan else None

    def claim(
        self, scan_id: str, worker: str, *, stale_after: float, max_attempts: int = 2
    ) -> Lease | None:
        """Take a queued scan, or a running one whose heartbeat is older than `stale_after`
        seconds (its worker died); None when the scan is ended, or alive elsewhere. A scan taken
        over `max_attempts` times already is ended as interrupted instead."""
        moment = now()
        with self._tx() as db:
            moved = db.execute(
                update(Scan)
                .where(
                    Scan.id == scan_id,
                    or_(
                        Scan.status == ScanStatus.QUEUED,
                        (Scan.status == ScanStatus.RUNNING)
                        & (Scan.heartbeat_at < moment - timedelta(seconds=stale_after)),
                    ),
                )
                .values(
                    status=ScanStatus.RUNNING,
                    attempt=Scan.attempt + 1,
                    worker=worker[:255],
                    heartbeat_at=moment,
                    started_at=moment,
                    progress_done=0,
                )
            )
            if not moved.rowcount:  # type: ignore[attr-defined]
                return None
            scan = db.get_one(Scan, scan_id)
            if scan.attempt > max_attempts:
                scan.status = ScanStatus.INTERRUPTED
                scan.error = GIVEN_UP.format(attempts=scan.attempt - 1)
                scan.finished_at = moment
                db.execute(delete(ScanSecret).where(ScanSecret.scan_id == scan_id))
                return None
            return Lease(_scan(scan), scan.attempt)

    def beat(self, scan_id: str, attempt: int) -> ScanStatus | None:
        """Renew the lease of `attempt`; the scan's status now (cancelled: stop), or None when
        the scan is gone or another attempt holds it."""
        with self._tx() as db:
            db.execute(
                update(Scan)
                .where(
                    Scan.id == scan_id,
                    Scan.attempt == attempt,
                    Scan.status == ScanStatus.RUNNING,
                )
                .values(heartbeat_at=now())
            )
            row = db.execute(
                select(Scan.status, Scan.attempt).where(Scan.id == scan_id)
            ).one_or_none()
        if row is None or row.attempt != attempt:
            return None
        return ScanStatus(row.status)

    def finish_attempt(self, scan_id: str, attempt: int, report: Report) -> bool:
        """Store the report of `attempt` if it still holds the scan."""
        with self._tx() as db:
            done = db.execute(
                update(Scan)
                .where(
                    Scan.id == scan_id,
                    Scan.attempt == attempt,
                    Scan.status == ScanStatus.RUNNING,
                )
                .values(status=ScanStatus.DONE, finished_at=now(), **_results(report))
            )
            db.execute(delete(ScanSecret).where(ScanSecret.scan_id == scan_id))
            return bool(done.rowcount)  # type: ignore[attr-defined]

    def end_attempt(self, scan_id: str, attempt: int, status: ScanStatus, reason: str) -> bool:
        """End the scan as `status` if `attempt` still holds it."""
        with self._tx() as db:
            ended = db.execute(
                update(Scan)
                .where(Scan.id == scan_id, Scan.attempt == attempt, Scan.status.in_(_OPEN))
                .values(status=status, error=reason, finished_at=now())
            )
            db.execute(delete(ScanSecret).where(ScanSecret.scan_id == scan_id))
            return bool(ended.rowcount)  # type: ignore[attr-defined]

    def put_secret(self, scan_id: str, sealed: str) -> None:
        """Keep a scan's sealed credentials until it ends."""
        with self._tx() as db:
            db.merge(ScanSecret(scan_id=scan_id, sealed=sealed))

    def secret(self, scan_id: str) -> str | None:
        with self._tx() as db:
            return db.scalar(select(ScanSecret.sealed).where(ScanSecret.scan_id == scan_id))

    def drop_secrets(self) -> int:
        """Forget the sealed credentials of every ended scan (a cancel or a sweep may end a scan
        without its worker); the number dropped."""
        with self._tx() as db:
            ended = select(Scan.id).where(Scan.status.not_in(_OPEN))
            gone = db.execute(delete(ScanSecret).where(ScanSecret.scan_id.in_(ended)))
            return int(gone.rowcount)  # type: ignore[attr-defined]

    def sweep(self, *, stale_after: float) -> list[str]:
        """End as interrupted the running scans whose heartbeat is older than `stale_after`
        seconds — their worker died and no delivery of the task came back for them."""
        moment = now()
        with self._tx() as db:
            stale = list(
                db.scalars(
                    select(Scan.id).where(
                        Scan.status == ScanStatus.RUNNING,
                        Scan.heartbeat_at < moment - timedelta(seconds=stale_after),
                    )
                )
            )
            if stale:
                db.execute(
                    update(Scan)
                    .where(Scan.id.in_(stale), Scan.status == ScanStatus.RUNNING)
                    .values(
                        status=ScanStatus.INTERRUPTED,
                        error=WORKER_GONE.format(seconds=stale_after),
                        finished_at=moment,
                    )
                )
                db.execute(delete(ScanSecret).where(ScanSecret.scan_id.in_(stale)))
        return stale
