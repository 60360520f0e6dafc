"""Scheduled scans and alerts: schedules fire once per due run, an API that gets worse sends
signed webhooks to a real receiver (which checks them with its own HMAC code), and every attempt
is in the delivery log. In the dashboard's own runner and on Celery workers alike."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from middlebrick.demo.apps import fixed_app, vulnerable_app
from middlebrick.demo.server import serve
from middlebrick.errors import ConfigError
from middlebrick.http.guard import dashboard_policy
from middlebrick.web import monitoring
from middlebrick.web.jobs import Credentials, JobRunner
from middlebrick.web.models import Schedule
from middlebrick.web.sealing import Sealer, new_key
from middlebrick.web.store import ScanStatus, Store, UserRecord
from middlebrick.web.store.database import now

from targets.webhooks import SECRET, receiver

ENDED = {ScanStatus.DONE, ScanStatus.FAILED, ScanStatus.INTERRUPTED, ScanStatus.CANCELLED}


class Switchable:
    """One origin whose API is the fixed demo until `worse()`, then the vulnerable one."""

    def __init__(self) -> None:
        self.apps = {False: fixed_app(), True: vulnerable_app()}
        self.vulnerable = False

    def worse(self) -> None:
        self.vulnerable = True

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.apps[self.vulnerable](environ, start_response)


def _due(store: Store, schedule_id: int) -> None:
    """Make a schedule due now (instead of waiting for its time)."""
    with store._tx() as db:
        db.execute(
            update(Schedule)
            .where(Schedule.id == schedule_id)
            .values(next_run_at=now() - timedelta(seconds=1))
        )


def _ended(store: Store, user: UserRecord, count: int, seconds: float = 60) -> list:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        scans = store.list_scans(user.id)
        if len(scans) >= count and all(s.status in ENDED for s in scans):
            return list(reversed(scans))  # oldest first
        time.sleep(0.1)
    pytest.fail(f"scans did not end: {[(s.id, s.status) for s in store.list_scans(user.id)]}")


def _wait_for(condition: Any, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


# --- the store ---------------------------------------------------------------------------------
def test_schedules_are_validated(store: Store, users: dict[str, UserRecord]) -> None:
    alice = users["alice"]
    url = "http://127.0.0.1:9"
    for bad, message in [
        ({"cron": "every day"}, "not a cron expression"),
        ({"cron": "* * * * * *"}, "not a cron expression"),
        ({"interval_seconds": 5}, "at least 60"),
        ({}, "a cron expression or an interval"),
        ({"cron": "0 3 * * *", "interval_seconds": 3600}, "not both"),
    ]:
        with pytest.raises(ConfigError, match=message):
            store.create_schedule(alice.id, url, {}, **bad)
    daily = store.create_schedule(alice.id, url, {"budget": 30}, cron="0 3 * * *")
    assert (daily.next_run_at.hour, daily.next_run_at.minute) == (3, 0)
    hourly = store.create_schedule(alice.id, url, {}, interval_seconds=3600)
    assert timedelta(minutes=59) < hourly.next_run_at - now() <= timedelta(hours=1)
    assert [s.id for s in store.list_schedules(users["bob"].id)] == []


def test_a_due_schedule_fires_once_however_many_schedulers_tick(
    store: Store, users: dict[str, UserRecord]
) -> None:
    alice = users["alice"]
    sealer = Sealer.from_keys(new_key())
    sealed = sealer.seal(Credentials.from_secret({"bearer": "sched-token-9f"}).to_secret())
    schedule = store.create_schedule(
        alice.id, "http://127.0.0.1:9", {}, interval_seconds=600, sealed_credentials=sealed
    )
    _due(store, schedule.id)
    [due] = store.due_schedules()
    queued: list[str] = []
    # three schedulers see the same due run at once
    threads = [threading.Thread(target=monitoring.tick, args=(store, queued.append)) for _ in "abc"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(queued) == 1
    scan = store.peek(queued[0])
    assert scan is not None
    assert scan.needs_credentials
    assert store.secret(scan.id) == sealed  # the schedule's credentials go with its scan
    assert store.due_schedules() == []
    [after] = store.list_schedules(alice.id)
    assert after.next_run_at > due.next_run_at
    assert after.last_scan_id == scan.id


# --- the dashboard's own runner ----------------------------------------------------------------
def test_a_schedule_runs_and_a_worse_api_alerts_the_webhook(
    store: Store, users: dict[str, UserRecord]
) -> None:
    alice = users["alice"]
    sealer = Sealer.from_keys(new_key())
    api, (hook_app, received) = Switchable(), receiver(fail_first=1)
    with serve(api) as target, serve(hook_app) as hooks:
        store.create_webhook(
            alice.id, f"{hooks.url}/hook", sealer.seal({"secret": SECRET}), min_severity="high"
        )
        schedule = store.create_schedule(
            alice.id, target.url, {"budget": 20}, interval_seconds=3600
        )

        async def run() -> None:
            policy = dashboard_policy((), loopback=True)
            runner = JobRunner(store, policy, sealer=sealer, tick=0.1, link_base="http://dash.test")
            await runner.start()
            try:
                _due(store, schedule.id)
                await asyncio.to_thread(_ended, store, alice, 1)
                api.worse()
                _due(store, schedule.id)
                await asyncio.to_thread(_ended, store, alice, 2)
                await asyncio.to_thread(
                    _wait_for, lambda: sum(r["valid"] for r in received) >= 3, 30
                )
            finally:
                await runner.stop()

        # retries wait 1 s, 4 s, ...: the receiver fails only the first attempt
        asyncio.run(run())
    first, second = _ended(store, alice, 2)
    assert (first.grade, second.grade) == ("D", "F")  # plain HTTP costs the fixed API its A
    assert all(r["valid"] for r in received)
    events = sorted({r["event"] for r in received})
    assert events == ["grade_drop", "new_finding"]
    drop = next(r["body"] for r in received if r["event"] == "grade_drop")
    assert (drop["previous_grade"], drop["grade"]) == ("D", "F")
    assert drop["link"] == f"http://dash.test/scans/{second.id}"
    log = store.list_deliveries(alice.id)
    assert {d.status for d in log} == {"delivered"}
    retried = [d for d in log if d.attempts == 2]
    assert len(retried) == 1
    assert retried[0].log == ("attempt 1: HTTP 503", "attempt 2: HTTP 200")
    # a retry is the same delivery: its id repeats, its signature is fresh
    assert len({r["delivery"] for r in received}) == len(log)
    assert store.list_deliveries(users["bob"].id) == []


def test_webhooks_to_forbidden_addresses_are_never_sent(
    store: Store, users: dict[str, UserRecord]
) -> None:
    alice = users["alice"]
    sealer = Sealer.from_keys(new_key())
    hook = store.create_webhook(
        alice.id, "http://169.254.169.254/latest/meta-data/", sealer.seal({"secret": SECRET})
    )
    delivery_id = store.add_delivery(hook.id, None, "scan_failed", json.dumps({"event": "x"}))
    policy = dashboard_policy(("169.254.0.0/16",), loopback=True)  # even when "allowed"
    sent = asyncio.run(monitoring.deliver(store, sealer, policy, delivery_id, backoff=(0.01,)))
    assert not sent
    [record] = store.list_deliveries(alice.id)
    assert record.status == "failed"
    assert "not sent" in record.log[0]
    assert "169.254.169.254" in (record.error or "")


def test_the_signing_secret_is_sealed_in_the_database(
    store: Store, users: dict[str, UserRecord], database: Path
) -> None:
    sealer = Sealer.from_keys(new_key())
    store.create_webhook(users["alice"].id, "https://hooks.test/x", sealer.seal({"secret": SECRET}))
    assert SECRET.encode() not in database.read_bytes()
    other = Sealer.from_keys(new_key())
    [(_, sealed)] = store.webhooks_for(
        store.create_scan(users["alice"].id, "http://127.0.0.1:9", {})
    )
    with pytest.raises(ConfigError, match="cannot be opened"):
        other.open(sealed)
