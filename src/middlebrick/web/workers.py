"""Celery workers (`middlebrick worker`): the dashboard's scans, fleet scans and the periodic
tick, on a Redis broker, any number of workers on any number of machines sharing one broker and
one database.

Reliability, in the order things go wrong:
- A task carries a scan id (or a fleet target's public settings), never a credential: a
  dashboard scan's credentials are sealed in the database (`sealing`), a fleet target's are read
  from the worker's own environment by the variable names the fleet file gives.
- Tasks are acknowledged late and rejected when their worker is lost, so a worker killed
  mid-scan leaves the message to be delivered again. The new delivery takes the scan over only
  once its heartbeat is stale, and results are written for the attempt that holds the scan
  (`store.leases`): each scan ends once. A scan whose worker died twice is given up
  (interrupted, with the reason), and the tick ends scans whose worker vanished for good.
- Never two scans of one origin at once, whichever workers they land on: a Redis lock per
  origin, held for the scan (its expiry covers the scan's budget, so a dead holder frees it).
  Each scan keeps its own rate, so an origin's rate is bounded however many targets name it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from celery import Celery, Task

from middlebrick import alerts, engine, fleet, project
from middlebrick.errors import ConfigError, MiddlebrickError
from middlebrick.http.guard import dashboard_policy
from middlebrick.model import Report
from middlebrick.web import monitoring
from middlebrick.web.jobs import UNEXPECTED, Credentials, capped, progress_writer, run_scan
from middlebrick.web.sealing import Sealer
from middlebrick.web.settings import WebSettings
from middlebrick.web.store import ScanStatus, Store

HEARTBEAT_ENV = "MIDDLEBRICK_HEARTBEAT"
ORIGIN_RATE_ENV = "MIDDLEBRICK_ORIGIN_RATE"  # requests/s any one origin gets from the workers
LINK_ENV = "MIDDLEBRICK_DASHBOARD_URL"  # where alerts link to (the dashboard's public URL)
TICK_ENV = "MIDDLEBRICK_TICK"
VISIBILITY_ENV = "MIDDLEBRICK_VISIBILITY_TIMEOUT"
VISIBILITY = 3600.0  # seconds before Redis hands an unacknowledged message to another worker
HEARTBEAT = 5.0  # seconds between a running scan's heartbeats
STALE_BEATS = 3  # a scan is its worker's no longer after this many missed heartbeats
SWEEP_BEATS = 60  # ... and is given up as interrupted after this many
TICK = 15.0  # seconds between ticks (Celery beat)
LOCK_WAIT = 2.0  # seconds before a scan waiting for its origin's lock tries again
LOCK_GRACE = 120.0  # seconds an origin lock outlives its scan's budget, at most
NO_CREDENTIALS = "its credentials could not be read (sealed with a key the worker does not have)"

log = logging.getLogger("middlebrick.worker")

app = Celery("middlebrick", set_as_current=False)


@dataclass
class _Process:
    """What one worker process holds: its settings, its store and Redis connections (made after
    the fork, once per process)."""

    settings: WebSettings | None = None
    heartbeat: float = HEARTBEAT
    pid: int = 0
    store: Store | None = None
    redis: redis.Redis | None = None


_process = _Process()


def configure(settings: WebSettings, *, heartbeat: float | None = None) -> Celery:
    """Point the Celery app at `settings.broker_url` (results go to the same Redis)."""
    if not settings.broker_url:
        raise ConfigError("the workers need a broker: set MIDDLEBRICK_BROKER_URL=redis://…")
    _origin_rate()  # a wrong value stops the worker at start, not each scan
    beat = heartbeat or float(os.environ.get(HEARTBEAT_ENV) or HEARTBEAT)
    _process.settings, _process.heartbeat = settings, beat
    app.conf.update(
        broker_url=settings.broker_url,
        result_backend=settings.broker_url,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_expires=24 * 3600,
        # an unacknowledged message comes back after this long even if no worker saw its
        # holder die; the leases make a second delivery harmless
        broker_transport_options={
            "visibility_timeout": float(os.environ.get(VISIBILITY_ENV) or VISIBILITY)
        },
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        task_default_queue="middlebrick",
        beat_schedule={
            "tick": {
                "task": "middlebrick.tick",
                "schedule": float(os.environ.get(TICK_ENV) or TICK),
            }
        },
        timezone="UTC",
    )
    return app


def _store() -> Store:
    if _process.store is None or _process.pid != os.getpid():
        settings = _settings()
        _process.store = Store(settings.database_url, session_hours=settings.session_hours)
        _process.pid = os.getpid()
    return _process.store


def _redis() -> redis.Redis:
    if _process.redis is None or _process.pid != os.getpid():
        _process.redis = redis.Redis.from_url(_settings().broker_url or "")
    return _process.redis


def _settings() -> WebSettings:
    if _process.settings is None:  # a process started by Celery itself, not by `configure`
        configure(WebSettings.from_env())
    assert _process.settings is not None
    return _process.settings


# --- the origin lock ---------------------------------------------------------------------------
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


def _origin_key(url: str) -> str:
    return f"middlebrick:origin:{fleet.origin_of(url)}"


def _lock(url: str, holder: str, seconds: float) -> bool:
    """Take the origin's lock for `holder`; True also when `holder` has it already (a
    redelivered task of a scan whose worker died: the lease decides)."""
    client = _redis()
    key = _origin_key(url)
    if client.set(key, holder, nx=True, ex=max(1, int(seconds))):
        return True
    held = client.get(key)
    return held is not None and (held.decode() if isinstance(held, bytes) else held) == holder


def _unlock(url: str, holder: str) -> None:
    _redis().eval(_RELEASE, 1, _origin_key(url), holder)


# --- dashboard scans ---------------------------------------------------------------------------
@app.task(name="middlebrick.scan", bind=True, max_retries=None, ignore_result=True)
def scan_task(self: Task[Any, Any], scan_id: str) -> None:
    """Run one of the dashboard's scans (already queued in the store)."""
    store = _store()
    scan = store.peek(scan_id)
    if scan is None or scan.status not in (ScanStatus.QUEUED, ScanStatus.RUNNING):
        return  # cancelled, or done by an earlier delivery
    budget = float(scan.settings.get("budget") or 60.0)
    if not _lock(scan.target_url, scan_id, budget + LOCK_GRACE):
        raise self.retry(countdown=LOCK_WAIT)
    lease = None
    try:
        stale = _process.heartbeat * STALE_BEATS
        lease = store.claim(scan_id, _worker_name(self), stale_after=stale)
        if lease is not None:
            asyncio.run(_run_leased(store, lease.scan, lease.attempt))
    finally:
        _unlock(scan.target_url, scan_id)
    if lease is not None:
        for delivery_id in monitoring.alerts_after(store, scan_id, link_base=_link_base()):
            deliver_task.delay(delivery_id)


async def _run_leased(store: Store, scan: Any, attempt: int) -> None:
    credentials = Credentials()
    sealed = store.secret(scan.id)
    if sealed is not None:
        sealer = Sealer.from_env()
        try:
            if sealer is None:
                raise ConfigError(NO_CREDENTIALS)
            credentials = Credentials.from_secret(sealer.open(sealed))
        except ConfigError:
            store.end_attempt(scan.id, attempt, ScanStatus.FAILED, NO_CREDENTIALS)
            return
    elif scan.needs_credentials:
        store.end_attempt(scan.id, attempt, ScanStatus.FAILED, NO_CREDENTIALS)
        return
    settings = _settings()
    policy = dashboard_policy(settings.allow, loopback=False)
    running = asyncio.create_task(
        run_scan(
            store,
            policy,
            scan,
            credentials,
            progress_writer(store, scan.id),
            max_rate=_origin_rate(),
        )
    )
    while not running.done():
        await asyncio.wait({running}, timeout=_process.heartbeat)
        if running.done():
            break
        status = await asyncio.to_thread(store.beat, scan.id, attempt)
        if status is not ScanStatus.RUNNING:  # cancelled, or taken over: stop
            running.cancel()
    try:
        report = await running
    except asyncio.CancelledError:
        return  # whoever ended it has recorded why
    except MiddlebrickError as exc:
        reason = credentials.masker().mask(" ".join(str(exc).split()))
        store.end_attempt(scan.id, attempt, ScanStatus.FAILED, reason)
    except Exception as exc:  # a bug must not lose the scan's end
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        log.error(
            "scan %s: %s at %s:%s", scan.id, type(exc).__name__, Path(frame.filename).name,
            frame.lineno,
        )  # fmt: skip
        store.end_attempt(scan.id, attempt, ScanStatus.FAILED, UNEXPECTED)
    else:
        store.finish_attempt(scan.id, attempt, report)


def _worker_name(task: Task[Any, Any]) -> str:
    return f"{task.request.hostname or socket.gethostname()}/{os.getpid()}"


# --- fleet scans -------------------------------------------------------------------------------
@app.task(name="middlebrick.fleet_scan", bind=True, max_retries=None)
def fleet_scan_task(self: Task[Any, Any], name: str, settings: dict[str, Any]) -> dict[str, Any]:
    """One target of `middlebrick scan-many` on a worker: `settings` are the fleet file's public
    settings (credentials as variable names, read here from the worker's environment). The
    result is the report as JSON, or the error and its exit code."""
    target = fleet.FleetTarget(name, project.ProjectConfig.model_validate(settings))
    try:
        config = fleet.config_for(target)
    except MiddlebrickError as exc:
        return {"error": str(exc), "exit_code": exc.exit_code}
    if (limit := _origin_rate()) is not None:
        config = config.model_copy(update={"rate": capped(config.rate, limit)})
    holder = f"fleet:{self.request.id}"
    if not _lock(config.target, holder, config.budget + LOCK_GRACE):
        raise self.retry(countdown=LOCK_WAIT)
    try:
        report = asyncio.run(engine.scan(config))
    except MiddlebrickError as exc:
        return {"error": str(exc), "exit_code": exc.exit_code}
    finally:
        _unlock(config.target, holder)
    return {"report": report.model_dump(mode="json")}


def run_fleet(
    scans: list[tuple[str, project.ProjectConfig]],
    *,
    on_done: Any = None,
    poll: float = 0.2,
) -> list[fleet.Outcome]:
    """Fan `scans` out to the workers and collect one outcome per target, in order."""
    sent = [
        (name, fleet_scan_task.apply_async((name, s.model_dump(mode="json", by_alias=True))))
        for name, s in scans
    ]
    outcomes: dict[int, fleet.Outcome] = {}
    while len(outcomes) < len(sent):
        for index, (name, result) in enumerate(sent):
            if index in outcomes or not result.ready():
                continue
            target = scans[index][1].target or ""
            try:
                value = result.get(propagate=True)
            except Exception as exc:  # the task itself failed: a bug or a lost worker
                outcome = fleet.Outcome(name, target, error=f"worker error: {exc}", exit_code=3)
            else:
                if "report" in value:
                    report = Report.model_validate(value["report"])
                    outcome = fleet.Outcome(name, target, report=report)
                else:
                    outcome = fleet.Outcome(
                        name, target, error=value["error"], exit_code=value["exit_code"]
                    )
            outcomes[index] = outcome
            if on_done is not None:
                on_done(outcome)
        time.sleep(poll)
    return [outcomes[i] for i in range(len(sent))]


# --- alerts ------------------------------------------------------------------------------------
@app.task(name="middlebrick.deliver", bind=True, max_retries=None, ignore_result=True)
def deliver_task(self: Task[Any, Any], delivery_id: str) -> None:
    """One attempt at a webhook delivery; a failed one comes back after the backoff, through the
    queue, until `alerts.ATTEMPTS` attempts are spent."""
    number = self.request.retries + 1
    final = number >= alerts.ATTEMPTS
    settings = _settings()
    policy = dashboard_policy(settings.allow, loopback=False)
    outcome = asyncio.run(
        monitoring.attempt_delivery(_store(), Sealer.from_env(), policy, delivery_id, final=final)
    )
    if outcome is False and not final:
        raise self.retry(countdown=alerts.delay_before(number))


def _origin_rate() -> float | None:
    """The deployment's cap on requests per second to one origin: with one scan per origin at a
    time (the lock), a cap on each scan is a cap on the origin."""
    value = os.environ.get(ORIGIN_RATE_ENV, "").strip()
    if not value:
        return None
    try:
        rate = float(value)
    except ValueError:
        raise ConfigError(f"{ORIGIN_RATE_ENV} is requests per second, not {value!r}") from None
    if rate <= 0:
        raise ConfigError(f"{ORIGIN_RATE_ENV} must be above 0")
    return rate


def _link_base() -> str | None:
    return os.environ.get(LINK_ENV) or None


# --- the tick ----------------------------------------------------------------------------------
@app.task(name="middlebrick.tick", ignore_result=True)
def tick_task() -> None:
    """Every TICK seconds (Celery beat): queue the scans of due schedules, give up scans whose
    worker vanished, forget the sealed credentials of ended scans."""
    store = _store()
    monitoring.tick(store, scan_task.delay)
    gone = store.sweep(stale_after=_process.heartbeat * SWEEP_BEATS)
    if gone:
        log.warning("interrupted %d scan(s) whose worker stopped answering", len(gone))
    store.drop_secrets()
