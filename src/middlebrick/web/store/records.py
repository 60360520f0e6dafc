"""What the store hands out: frozen records (never ORM objects), the scan statuses and the
public settings a scan is stored with."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

STOPPED = "the dashboard stopped while this scan was running"
LOST_CREDENTIALS = (
    "its credentials were held in memory only and the dashboard restarted before it ran"
)
_CREDENTIAL_KIND = re.compile(r"basic|bearer|header:[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}")


class ScanStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    CANCELLED = "cancelled"


class ScanSettings(BaseModel):
    """What a dashboard scan is asked to do, as stored: public settings only. Credentials are
    named by kind (`basic`, `bearer`, `header:X-Api-Key`); their values never reach the store."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    spec: str | None = Field(
        default=None, description="What the spec is called: its URL or the uploaded file's name."
    )
    spec_url: str | None = Field(default=None, description="Where the spec is fetched from.")
    budget: float = Field(default=60.0, gt=0, le=3600)
    rate: float | None = Field(default=None, gt=0)
    timeout: float = Field(default=10.0, gt=0, le=300)
    concurrency: int = Field(default=8, ge=1, le=64)
    checks: tuple[str, ...] = ()
    skip_checks: tuple[str, ...] = ()
    unsafe: bool = False
    insecure: bool = False
    credentials: tuple[str, ...] = ()

    @field_validator("credentials")
    @classmethod
    def _kinds_only(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for kind in value:
            if not _CREDENTIAL_KIND.fullmatch(kind):
                raise ValueError("credentials lists kinds only: basic, bearer or header:NAME")
        return value


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    username: str
    is_admin: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ApiTokenRecord:
    id: int
    name: str
    prefix: str  # the token's first characters, to tell tokens apart; not enough to use one
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class TargetRecord:
    """A URL a user scans. `latest_*` describe its most recent finished (`done`) scan."""

    id: int
    user_id: int
    url: str
    badge_key: str
    created_at: datetime
    latest_scan_id: str | None
    latest_grade: str | None
    latest_score: int | None
    scans: int


@dataclass(frozen=True, slots=True)
class ScanRecord:
    """A scan; `settings` is `ScanSettings` as a dict, `counts` the findings per severity."""

    id: str
    user_id: int
    target_id: int
    target_url: str
    status: ScanStatus
    settings: dict[str, Any]
    needs_credentials: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    score: int | None
    grade: str | None
    error: str | None
    progress_done: int
    progress_total: int
    counts: dict[str, int]


@dataclass(frozen=True, slots=True)
class TrendPoint:
    scan_id: str
    finished_at: datetime
    score: int
    grade: str


@dataclass(frozen=True, slots=True)
class Recovery:
    requeue: list[str]  # oldest first
    interrupted: list[str]
