"""The dashboard's store on a real SQLite file: schema and migrations, accounts, sessions, API
tokens, targets, scans, reports and restart recovery; and the dashboard's settings."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

import platformdirs
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, text

from middlebrick.config import ScanConfig
from middlebrick.demo.server import serve
from middlebrick.engine import scan
from middlebrick.errors import ConfigError
from middlebrick.model import Report
from middlebrick.web.models import Base
from middlebrick.web.settings import WebSettings
from middlebrick.web.store import (
    LOST_CREDENTIALS,
    STOPPED,
    ScanStatus,
    Store,
    UserRecord,
)

from targets.recording import Log, recording_app

TABLES = {
    *("users", "sessions", "api_tokens", "targets", "scans", "alembic_version"),
    *("schedules", "scan_secrets", "webhooks", "deliveries"),  # 0002: scale-out
}
HEAD = "0002"


@pytest.fixture(scope="module")
def report() -> Report:
    """A real report: the recording API scanned on loopback."""
    with serve(recording_app(Log())) as served:
        return asyncio.run(scan(ScanConfig(target=served.url)))


@pytest.fixture
def alice(store: Store) -> UserRecord:
    return store.create_user("alice", "alice-password-1")


@pytest.fixture
def bob(store: Store) -> UserRecord:
    return store.create_user("bob", "bob-password-2")


def on_disk(database: Path) -> bytes:
    """The database file with its WAL and shared-memory companions."""
    return b"".join(p.read_bytes() for p in sorted(database.parent.glob(database.name + "*")))


# schema -------------------------------------------------------------------------------------------


def test_migrate_creates_the_schema_in_an_empty_file(tmp_path: Path) -> None:
    database = tmp_path / "new" / "folder" / "mb.db"
    store = Store(f"sqlite:///{database}")
    store.migrate()
    store.close()
    with sqlite3.connect(database) as db:
        tables = {
            name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        version = db.execute("SELECT version_num FROM alembic_version").fetchall()
        journal = db.execute("PRAGMA journal_mode").fetchone()
    assert tables == TABLES
    assert version == [(HEAD,)]
    assert journal == ("wal",)


def test_migrating_twice_changes_nothing(store: Store, database: Path, alice: UserRecord) -> None:
    store.migrate()
    again = Store(f"sqlite:///{database}")
    again.migrate()
    assert again.authenticate("alice", "alice-password-1") == alice
    with again._engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).all() == [
            (HEAD,)
        ]
    again.close()


def test_the_models_and_the_migrations_agree(store: Store) -> None:
    with store._engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, Base.metadata) == []
        # the comparison does see a difference when there is one
        drifted = MetaData()
        for table in Base.metadata.sorted_tables:
            table.to_metadata(drifted)
        drifted.tables["users"].append_column(Column("shoe_size", Integer))
        assert compare_metadata(context, drifted) != []


def test_foreign_keys_are_enforced(store: Store) -> None:
    with store._engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_a_bad_database_url_is_one_line_without_its_password(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a SQLAlchemy URL"):
        Store("no database here")

    def open_postgres() -> None:
        Store("postgresql://mb:hunter2-db-secret@127.0.0.1:1/mb").migrate()

    with pytest.raises(ConfigError) as caught:
        open_postgres()
    assert "hunter2-db-secret" not in str(caught.value)
    assert "\n" not in str(caught.value)


# accounts -----------------------------------------------------------------------------------------


def test_passwords_are_argon2_hashes_and_authenticate(
    store: Store, database: Path, alice: UserRecord
) -> None:
    assert store.authenticate("alice", "alice-password-1") == alice
    assert store.authenticate("alice", "wrong") is None
    assert store.authenticate("nobody", "alice-password-1") is None
    with store._engine.connect() as connection:
        stored = connection.execute(text("SELECT password_hash FROM users")).scalar_one()
    assert stored.startswith("$argon2id$")
    assert b"alice-password-1" not in on_disk(database)


def test_an_unknown_user_costs_a_hash_verification_too(store: Store, alice: UserRecord) -> None:
    def fastest(username: str) -> float:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            assert store.authenticate(username, "not-the-password") is None
            times.append(time.perf_counter() - started)
        return min(times)

    wrong_password, unknown_user = fastest("alice"), fastest("mallory")
    # an early return for an unknown name would take microseconds, argon2 takes milliseconds
    assert unknown_user > 0.3 * wrong_password, (unknown_user, wrong_password)


def test_user_names_are_unique(store: Store, alice: UserRecord) -> None:
    with pytest.raises(ConfigError, match="exists already"):
        store.create_user("alice", "another-password")
    assert store.count_users() == 1


def test_ensure_admin_creates_one_admin_once(store: Store) -> None:
    password = store.ensure_admin()
    assert password
    assert len(password) >= 20
    admin = store.authenticate("admin", password)
    assert admin is not None
    assert admin.is_admin
    assert store.ensure_admin() is None
    assert store.count_users() == 1


def test_sessions_are_stored_as_hashes_only(
    store: Store, database: Path, alice: UserRecord
) -> None:
    token, csrf = store.create_session(alice.id)
    assert store.session_user(token) == (alice, csrf)
    assert token != csrf
    assert len(token) >= 40
    assert len(csrf) >= 40
    assert token.encode() not in on_disk(database)
    assert hashlib.sha256(token.encode()).hexdigest().encode() in on_disk(database)
    store.delete_session(token)
    assert store.session_user(token) is None
    assert store.session_user("") is None


def test_an_expired_session_is_refused(database: Path, alice: UserRecord) -> None:
    short = Store(f"sqlite:///{database}", session_hours=0.5 / 3600)
    token, _ = short.create_session(alice.id)
    assert short.session_user(token) is not None
    time.sleep(0.6)
    assert short.session_user(token) is None
    short.close()


def test_api_tokens_are_shown_once_and_stored_as_hashes(
    store: Store, database: Path, alice: UserRecord, bob: UserRecord
) -> None:
    token = store.create_api_token(alice.id, "ci")
    assert token.startswith("mbk_")
    assert len(token) >= 40
    assert store.token_user(token) == alice
    assert store.token_user(token[:-1]) is None
    assert store.token_user("not-a-token") is None
    [listed] = store.list_api_tokens(alice.id)
    assert listed.name == "ci"
    assert token.startswith(listed.prefix)
    assert len(listed.prefix) <= 10
    assert listed.last_used_at is not None
    assert token.encode() not in on_disk(database)
    assert token[4:].encode() not in on_disk(database)
    assert store.list_api_tokens(bob.id) == []
    assert not store.revoke_api_token(bob.id, listed.id)  # not bob's to revoke
    assert store.token_user(token) == alice
    assert store.revoke_api_token(alice.id, listed.id)
    assert store.token_user(token) is None


# targets and scans --------------------------------------------------------------------------------


def test_targets_are_per_user_normalised_and_have_random_badge_keys(
    store: Store, alice: UserRecord, bob: UserRecord
) -> None:
    first = store.target_for(alice.id, "127.0.0.1:8080/")
    assert first.url == "http://127.0.0.1:8080"
    assert store.target_for(alice.id, "http://127.0.0.1:8080") == first
    theirs = store.target_for(bob.id, "http://127.0.0.1:8080")
    assert theirs.id != first.id
    other = store.target_for(alice.id, "http://127.0.0.1:8081")
    keys = {first.badge_key, theirs.badge_key, other.badge_key}
    assert len(keys) == 3
    assert all(len(k) >= 32 for k in keys)
    assert store.target_by_badge(first.badge_key) == first
    assert store.target_by_badge("") is None
    assert store.target_by_badge(first.badge_key[:-1]) is None
    assert store.get_target(alice.id, first.id) == first
    assert store.get_target(bob.id, first.id) is None
    assert [t.url for t in store.list_targets(alice.id)] == [first.url, other.url]


def test_scan_settings_hold_public_settings_only(store: Store, alice: UserRecord) -> None:
    queued = store.create_scan(
        alice.id, "http://127.0.0.1:9", {"budget": 30, "credentials": ["basic", "header:X-Key"]}
    )
    assert queued.status is ScanStatus.QUEUED
    assert queued.settings["budget"] == 30
    assert queued.settings["credentials"] == [
        "basic",
        "header:X-Key",
    ]
    with pytest.raises(ConfigError, match="auth"):
        store.create_scan(alice.id, "http://127.0.0.1:9", {"auth": "u:secret"})
    with pytest.raises(ConfigError, match="kinds only"):
        store.create_scan(alice.id, "http://127.0.0.1:9", {"credentials": ["basic u:secret"]})
    with pytest.raises(ConfigError, match="MB-NOPE-001"):
        store.create_scan(alice.id, "http://127.0.0.1:9", {"checks": ["MB-NOPE-001"]})
    with pytest.raises(ConfigError, match="budget"):
        store.create_scan(alice.id, "http://127.0.0.1:9", {"budget": -1})


def test_scans_are_per_user_and_listed_newest_first(
    store: Store, alice: UserRecord, bob: UserRecord
) -> None:
    ids = [store.create_scan(alice.id, f"http://127.0.0.1:{p}", {}).id for p in (1, 2, 1)]
    theirs = store.create_scan(bob.id, "http://127.0.0.1:1", {})
    assert [s.id for s in store.list_scans(alice.id)] == ids[::-1]
    assert [s.id for s in store.list_scans(alice.id, limit=2)] == ids[:0:-1]
    target = store.target_for(alice.id, "http://127.0.0.1:1")
    assert [s.id for s in store.list_scans(alice.id, target_id=target.id)] == [ids[2], ids[0]]
    assert store.get_scan(alice.id, theirs.id) is None
    assert store.get_scan(bob.id, theirs.id) == theirs
    assert store.target_for(alice.id, "http://127.0.0.1:1").scans == 2


def test_a_scan_runs_once_and_its_report_round_trips(
    store: Store, alice: UserRecord, bob: UserRecord, report: Report
) -> None:
    queued = store.create_scan(alice.id, report.target.url, {}, spec_text="openapi: 3.0.0")
    assert store.spec_text(queued.id) == "openapi: 3.0.0"
    running = store.mark_running(queued.id)
    assert running is not None
    assert running.status is ScanStatus.RUNNING
    assert running.started_at
    assert store.mark_running(queued.id) is None  # taken: it cannot start a second time
    store.set_progress(queued.id, 3, 47)
    progress = store.get_scan(alice.id, queued.id)
    assert progress is not None
    assert (progress.progress_done, progress.progress_total) == (3, 47)
    assert store.finish(queued.id, report)
    done = store.get_scan(alice.id, queued.id)
    assert done is not None
    assert done.status is ScanStatus.DONE
    assert done.finished_at
    assert (done.score, done.grade) == (report.score.score, report.score.grade)
    assert sum(done.counts.values()) == len(report.findings)
    assert set(done.counts) == {"info", "low", "medium", "high", "critical"}
    assert store.report(alice.id, queued.id) == report
    assert store.report(bob.id, queued.id) is None
    target = store.target_for(alice.id, report.target.url)
    assert (target.latest_scan_id, target.latest_grade) == (queued.id, report.score.grade)
    assert store.trend(alice.id, target.id)[0].scan_id == queued.id
    assert store.trend(bob.id, target.id) == []


def test_an_ended_scan_stays_ended(store: Store, alice: UserRecord, report: Report) -> None:
    queued = store.create_scan(alice.id, "http://127.0.0.1:1", {})
    assert store.cancel(queued.id, "cancelled by the user")
    assert store.mark_running(queued.id) is None
    assert not store.finish(queued.id, report)
    assert not store.fail(queued.id, "too late")
    ended = store.get_scan(alice.id, queued.id)
    assert ended is not None
    assert ended.status is ScanStatus.CANCELLED
    assert ended.error == "cancelled by the user"
    assert store.report(alice.id, queued.id) is None


def test_a_pushed_report_is_a_done_scan_and_the_trend_is_oldest_first(
    store: Store, alice: UserRecord, report: Report
) -> None:
    older = report.model_copy(update={"finished_at": datetime(2025, 1, 1, tzinfo=UTC)})
    newer = store.store_report(alice.id, report)
    old = store.store_report(alice.id, older)
    assert newer.status is ScanStatus.DONE
    assert newer.settings["budget"] == report.config["budget"]
    assert store.report(alice.id, old.id) == older
    target = store.target_for(alice.id, report.target.url)
    assert [p.scan_id for p in store.trend(alice.id, target.id)] == [old.id, newer.id]
    assert target.latest_scan_id == newer.id
    assert target.scans == 2


def test_recover_sorts_out_what_a_stopped_dashboard_left(
    database: Path, store: Store, alice: UserRecord, report: Report
) -> None:
    running = store.create_scan(alice.id, "http://127.0.0.1:1", {})
    store.mark_running(running.id)
    first = store.create_scan(alice.id, "http://127.0.0.1:2", {})
    with_credentials = store.create_scan(
        alice.id, "http://127.0.0.1:3", {"credentials": ["bearer"]}, needs_credentials=True
    )
    second = store.create_scan(alice.id, "http://127.0.0.1:4", {})
    done = store.store_report(alice.id, report)
    store.close()  # the process is gone; a new one opens the same file

    restarted = Store(f"sqlite:///{database}")
    recovery = restarted.recover()
    assert recovery.requeue == [first.id, second.id]
    assert set(recovery.interrupted) == {running.id, with_credentials.id}

    def state(scan_id: str) -> tuple[ScanStatus, str | None]:
        record = restarted.get_scan(alice.id, scan_id)
        assert record is not None
        return record.status, record.error

    assert state(running.id) == (ScanStatus.INTERRUPTED, STOPPED)
    assert state(with_credentials.id) == (ScanStatus.INTERRUPTED, LOST_CREDENTIALS)
    assert state(first.id) == (ScanStatus.QUEUED, None)
    assert state(done.id) == (ScanStatus.DONE, None)
    assert restarted.recover().requeue == [first.id, second.id]  # nothing else changed
    restarted.close()


# settings -----------------------------------------------------------------------------------------


def test_settings_defaults() -> None:
    settings = WebSettings.from_env({})
    folder = Path(platformdirs.user_data_dir("middlebrick", appauthor=False))
    assert settings.database_url == f"sqlite:///{folder / 'middlebrick.db'}"
    assert (settings.host, settings.port, settings.workers) == ("127.0.0.1", 8000, 2)
    assert settings.allow == ()
    assert not settings.secure_cookies
    assert settings.session_hours == 12


def test_settings_from_the_environment_and_options() -> None:
    environ = {
        "MIDDLEBRICK_DATABASE_URL": "postgresql+psycopg://mb@db.internal/mb",
        "MIDDLEBRICK_WEB_ALLOW": "10.0.0.0/8, staging.internal ,",
    }
    settings = WebSettings.from_env(environ, port=9000, host=None, allow=("192.168.1.5",))
    assert settings.database_url == "postgresql+psycopg://mb@db.internal/mb"
    assert settings.allow == ("10.0.0.0/8", "staging.internal", "192.168.1.5")
    assert (settings.host, settings.port) == ("127.0.0.1", 9000)
    with pytest.raises(ConfigError, match="port"):
        WebSettings.from_env({}, port=70000)
    with pytest.raises(ConfigError, match="database_url"):
        WebSettings.from_env({"MIDDLEBRICK_DATABASE_URL": "not a url"})


def test_a_basic_credential_is_not_kept_by_the_settings_or_scans(
    store: Store, database: Path, alice: UserRecord
) -> None:
    canary = "u:store-canary-5d1e"
    with pytest.raises(ConfigError) as caught:
        store.create_scan(alice.id, "http://127.0.0.1:1", {"credentials": [f"basic {canary}"]})
    assert canary not in str(caught.value)
    store.close()
    data = on_disk(database)
    assert canary.encode() not in data
    assert base64.b64encode(canary.encode()) not in data
