"""The dashboard's storage: users, sessions, API tokens, targets, scans and their reports, on
SQLite (the default) or PostgreSQL through SQLAlchemy 2, with Alembic's schema (`migrate()`).

Every method is one short synchronous transaction that returns frozen records, never ORM objects.
The dashboard may call them straight from its asyncio loop (the job runner does): on SQLite in
WAL mode a call takes well under a millisecond, less than a hop to a worker thread costs; the
pages may also call them from threads (the engine's pool serves both). One dashboard process per
database: `recover()` assumes no other job runner is live.
"""

from __future__ import annotations

from middlebrick.web.store.accounts import TOKEN_PREFIX, Accounts
from middlebrick.web.store.leases import GIVEN_UP, WORKER_GONE, Lease, Leases
from middlebrick.web.store.monitoring import (
    KINDS,
    DeliveryRecord,
    Monitoring,
    ScheduleRecord,
    WebhookRecord,
    next_run,
)
from middlebrick.web.store.records import (
    LOST_CREDENTIALS,
    STOPPED,
    ApiTokenRecord,
    Recovery,
    ScanRecord,
    ScanSettings,
    ScanStatus,
    TargetRecord,
    TrendPoint,
    UserRecord,
)

__all__ = [
    "GIVEN_UP",
    "KINDS",
    "LOST_CREDENTIALS",
    "STOPPED",
    "TOKEN_PREFIX",
    "WORKER_GONE",
    "ApiTokenRecord",
    "DeliveryRecord",
    "Lease",
    "Recovery",
    "ScanRecord",
    "ScanSettings",
    "ScanStatus",
    "ScheduleRecord",
    "Store",
    "TargetRecord",
    "TrendPoint",
    "UserRecord",
    "WebhookRecord",
    "next_run",
]


class Store(Accounts, Monitoring, Leases):
    """`Store(url, *, session_hours=12)`: accounts (`accounts.py`), scans (`scans.py`),
    schedules, webhooks and deliveries (`monitoring.py`) and the leases of scans run by Celery
    workers (`leases.py`) over one database (`database.py`).
    Call `migrate()` once before use and `close()` at the end."""
