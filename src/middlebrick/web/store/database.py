"""The connection to the dashboard's database: the SQLAlchemy engine, its transactions and the
Alembic migrations, for SQLite (the default) and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from middlebrick.errors import ConfigError

MIGRATIONS = "middlebrick.web:migrations"


def now() -> datetime:
    return datetime.now(UTC)


class Database:
    """An open database. `url` is a SQLAlchemy URL; a SQLite file's folder is created."""

    def __init__(self, url: str) -> None:
        self._url = _parse(url)
        self._engine = _engine(self._url)
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)

    def migrate(self) -> None:
        """Bring the schema to the newest migration (a no-op when it is there already)."""
        config = Config()
        config.set_main_option("script_location", MIGRATIONS)
        try:
            with self._engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except SQLAlchemyError as exc:
            raise ConfigError(f"cannot prepare the database {self}: {_reason(exc)}") from None

    def close(self) -> None:
        self._engine.dispose()

    def __str__(self) -> str:
        return self._url.render_as_string(hide_password=True)

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        with self._sessions() as db, db.begin():
            yield db


def _parse(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError:
        raise ConfigError("the database URL is not a SQLAlchemy URL (sqlite:///FILE)") from None


def _engine(url: URL) -> Engine:
    sqlite = url.get_backend_name() == "sqlite"
    if sqlite and url.database and url.database != ":memory:" and not url.query.get("mode"):
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(url, pool_pre_ping=not sqlite)
    except (NoSuchModuleError, ImportError) as exc:
        safe = url.render_as_string(hide_password=True)
        raise ConfigError(f"no database driver for {safe}: {exc}") from None
    if sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(connection: Any, _: Any) -> None:
    """WAL lets the pages read while a scan writes; SQLite enforces foreign keys only if asked."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _reason(exc: SQLAlchemyError) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.splitlines()[0] if text else type(exc).__name__
