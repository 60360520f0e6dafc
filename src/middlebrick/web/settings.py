"""The dashboard's settings: where its database lives, where it listens, what it may scan.

Read once at start-up from the environment and the `middlebrick serve` options, then frozen."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from middlebrick.errors import ConfigError

DATABASE_ENV = "MIDDLEBRICK_DATABASE_URL"
ALLOW_ENV = "MIDDLEBRICK_WEB_ALLOW"
BROKER_ENV = "MIDDLEBRICK_BROKER_URL"


def default_database_url() -> str:
    """A SQLite file in the user's data directory (created on first use by the store)."""
    folder = Path(platformdirs.user_data_dir("middlebrick", appauthor=False))
    return f"sqlite:///{folder / 'middlebrick.db'}"


class WebSettings(BaseModel):
    """Settings of one dashboard process. `database_url` is any SQLAlchemy URL: SQLite by
    default, `postgresql+psycopg://...` to share one database between several processes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    database_url: str = Field(default_factory=default_database_url)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    allow: tuple[str, ...] = Field(
        default=(), description="Private or reserved hosts/networks the dashboard may scan."
    )
    workers: int = Field(default=2, ge=1, le=64, description="Scans run at once.")
    secure_cookies: bool = Field(default=False, description="True when served over TLS.")
    session_hours: float = Field(default=12.0, gt=0, le=24 * 90)
    broker_url: str | None = Field(
        default=None,
        description="A Redis URL: scans go to Celery workers (`middlebrick worker`) through it; "
        "without one they run in the dashboard's own process.",
    )

    @field_validator("database_url")
    @classmethod
    def _parses(cls, value: str) -> str:
        try:
            make_url(value)
        except ArgumentError:
            raise ValueError("not a database URL (e.g. sqlite:///path/to/file.db)") from None
        return value

    @field_validator("broker_url")
    @classmethod
    def _redis(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("the broker is Redis: redis://host:6379/0 (or rediss://, unix://)")
        return value

    @field_validator("allow")
    @classmethod
    def _entries(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(e.strip() for e in value if e.strip()))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> WebSettings:
        """Settings from `$MIDDLEBRICK_DATABASE_URL` and `$MIDDLEBRICK_WEB_ALLOW` (comma-separated),
        then `overrides` (the command-line options; `None` means not given). Allow-list entries
        from both are kept, as `middlebrick mcp --allow` does. Invalid values: `ConfigError`."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        if database_url := environ.get(DATABASE_ENV, "").strip():
            values["database_url"] = database_url
        if broker_url := environ.get(BROKER_ENV, "").strip():
            values["broker_url"] = broker_url
        given = {k: v for k, v in overrides.items() if v is not None}
        allow = [*environ.get(ALLOW_ENV, "").split(","), *given.pop("allow", ())]
        values.update(given, allow=tuple(allow))
        try:
            return cls(**values)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error["loc"]) or "settings"
            raise ConfigError(f"dashboard setting {where}: {error['msg']}") from None
