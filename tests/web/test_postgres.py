"""The store on a real PostgreSQL server (the deployment the workers share): the schema
migrates and matches the models, and the operations that must be atomic across processes are —
a scan is claimed once, a due schedule fires once, a report round-trips."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import update

from middlebrick.config import ScanConfig
from middlebrick.demo.apps import vulnerable_app
from middlebrick.demo.server import serve
from middlebrick.engine import scan
from middlebrick.web.models import Base, Schedule
from middlebrick.web.store import ScanStatus, Store
from middlebrick.web.store.database import now

from targets.postgres import binaries, postgres_server

pytestmark = pytest.mark.skipif(
    binaries() is None, reason="PostgreSQL is not installed (.ci/run installs it)"
)


@pytest.fixture(scope="module")
def pg_store() -> Iterator[Store]:
    with postgres_server() as url:
        store = Store(url)
        store.migrate()
        store.migrate()  # twice: a no-op
        yield store
        store.close()


def test_the_schema_matches_the_models(pg_store: Store) -> None:
    with pg_store._engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_accounts_scans_and_reports(pg_store: Store) -> None:
    import asyncio

    user = pg_store.create_user("pat", "pat-password-123")
    assert pg_store.authenticate("pat", "pat-password-123") == user
    assert pg_store.authenticate("pat", "wrong") is None
    with serve(vulnerable_app()) as served:
        report = asyncio.run(scan(ScanConfig(target=served.url, budget=30)))
    queued = pg_store.create_scan(user.id, served.url, {"budget": 30})
    lease = pg_store.claim(queued.id, "w1", stale_after=5)
    assert lease is not None
    assert pg_store.finish_attempt(queued.id, lease.attempt, report)
    stored = pg_store.report(user.id, queued.id)
    assert stored is not None
    assert stored.score == report.score
    assert [f.fingerprint for f in stored.findings] == [f.fingerprint for f in report.findings]
    [target] = pg_store.list_targets(user.id)
    assert (target.latest_grade, target.scans) == (report.score.grade, 1)


def test_a_scan_is_claimed_by_one_worker_among_many(pg_store: Store) -> None:
    user = pg_store.create_user("quinn", "quinn-password-123")
    queued = pg_store.create_scan(user.id, "http://127.0.0.1:9", {})
    won: list[object] = []
    barrier = threading.Barrier(8)

    def claim(n: int) -> None:
        barrier.wait()
        if (lease := pg_store.claim(queued.id, f"w{n}", stale_after=60)) is not None:
            won.append(lease)

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1
    peeked = pg_store.peek(queued.id)
    assert peeked is not None
    assert peeked.status is ScanStatus.RUNNING


def test_a_due_schedule_fires_once_among_many_schedulers(pg_store: Store) -> None:
    user = pg_store.create_user("rae", "rae-password-123")
    schedule = pg_store.create_schedule(user.id, "http://127.0.0.1:9", {}, interval_seconds=600)
    with pg_store._tx() as db:
        db.execute(
            update(Schedule)
            .where(Schedule.id == schedule.id)
            .values(next_run_at=now() - timedelta(seconds=1))
        )
    [due] = pg_store.due_schedules()
    fired: list[object] = []
    barrier = threading.Barrier(6)

    def fire() -> None:
        barrier.wait()
        if (scan_record := pg_store.fire(due)) is not None:
            fired.append(scan_record)

    threads = [threading.Thread(target=fire) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(fired) == 1
    assert pg_store.due_schedules() == []
