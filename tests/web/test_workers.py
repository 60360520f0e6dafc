"""Celery workers against a real redis-server and real worker processes (`middlebrick worker`):
scans end exactly once with the right result, also when a worker is killed mid-scan; never two
scans of one origin at once; credentials reach the worker sealed and are gone afterwards."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response, jsonify, request

from middlebrick.demo.server import serve
from middlebrick.web.jobs import Credentials
from middlebrick.web.sealing import new_key
from middlebrick.web.settings import WebSettings
from middlebrick.web.store import ScanStatus, Store, UserRecord

from targets.webhooks import SECRET, receiver

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="redis-server is not installed (.ci/run does it)"
)
HEARTBEAT = 0.5
ENDED = {ScanStatus.DONE, ScanStatus.FAILED, ScanStatus.INTERRUPTED, ScanStatus.CANCELLED}
PASSWORD = "worker-canary-pw-71c0"
BASES = ("tenant-alpha", "tenant-beta")
ORIGIN_RATE = 60.0  # requests per second one origin gets from all the workers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A redis-server of our own on a free port, no persistence; stopped afterwards."""
    port = _free_port()
    folder = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    break
        except OSError:
            time.sleep(0.05)
    else:
        process.kill()
        pytest.fail("redis-server did not start")
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(10)


@dataclass
class Deployment:
    """A broker, a database and worker processes started by `middlebrick worker`."""

    redis_url: str
    database: Path
    key: str
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "MIDDLEBRICK_BROKER_URL": self.redis_url,
            "MIDDLEBRICK_DATABASE_URL": f"sqlite:///{self.database}",
            "MIDDLEBRICK_WEB_ALLOW": "127.0.0.1",
            "MIDDLEBRICK_SECRET_KEY": self.key,
            "MIDDLEBRICK_HEARTBEAT": str(HEARTBEAT),
            "MIDDLEBRICK_VISIBILITY_TIMEOUT": "4",
            "MIDDLEBRICK_ORIGIN_RATE": str(ORIGIN_RATE),
        }

    def start_worker(self, *, beat: bool = False) -> subprocess.Popen[bytes]:
        log = self.database.parent / f"worker-{len(self.workers)}.log"
        with log.open("wb") as out:  # the child keeps its own copy of the descriptor
            process = subprocess.Popen(
                [sys.executable, "-m", "middlebrick", "worker", "--concurrency", "1",
                 *(["--beat"] if beat else [])],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killed whole, children too
            )  # fmt: skip
        self.workers.append(process)
        self.logs.append(log)
        deadline = time.monotonic() + 30
        while b"ready." not in log.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the worker did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        return process

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def stop(self) -> None:
        for process in self.workers:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.workers:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)


@pytest.fixture
def deployment(redis_url: str, tmp_path: Path) -> Iterator[Deployment]:
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    found = Deployment(redis_url, tmp_path / "dashboard.db", new_key())
    store = Store(f"sqlite:///{found.database}")
    store.migrate()
    store.close()
    yield found
    found.stop()


@contextmanager
def runner_for(deployment: Deployment) -> Iterator[tuple[Store, object, UserRecord]]:
    """The dashboard's side: a store and a CeleryRunner, as `create_app` builds them."""
    from middlebrick.web.queue import CeleryRunner
    from middlebrick.web.sealing import Sealer

    settings = WebSettings(
        database_url=f"sqlite:///{deployment.database}", broker_url=deployment.redis_url
    )
    store = Store(settings.database_url)
    user = store.create_user(f"ops{time.monotonic_ns()}", "ops-password-123")
    try:
        yield store, CeleryRunner(store, settings, Sealer.from_keys(deployment.key)), user
    finally:
        store.close()


def _wait(store: Store, user: UserRecord, ids: list[str], seconds: float = 90) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        scans = {i: store.get_scan(user.id, i) for i in ids}
        if all(s is not None and s.status in ENDED for s in scans.values()):
            return scans
        time.sleep(0.1)
    pytest.fail(f"scans did not end: {[(i, s.status if s else None) for i, s in scans.items()]}")


def _api(name: str, *, delay: float = 0.0, password: str | None = None) -> tuple[Flask, list]:
    """A small API that records (path, start, end) of every request; optionally slow, and with
    a Basic-protected /me."""
    spans: list[tuple[str, float, float]] = []
    lock = threading.Lock()
    app = Flask(name)

    @app.before_request
    def started() -> None:
        request.environ["t0"] = time.monotonic()
        if delay:
            time.sleep(delay)

    @app.after_request
    def finished(response: Response) -> Response:
        with lock:
            spans.append((request.path, request.environ["t0"], time.monotonic()))
        return response

    @app.get("/")
    def index() -> Response:
        return jsonify(links={"items": "/items", "me": "/me"})

    @app.get("/items")
    def items() -> Response:
        return jsonify([{"id": 1}, {"id": 2}])

    @app.get("/me")
    def me() -> Response:
        auth = request.authorization
        if password is None or auth is None or auth.password != password:
            return Response("", 401, {"WWW-Authenticate": 'Basic realm="w"'})
        return jsonify(user=auth.username)

    return app, spans


def test_two_workers_run_every_scan_once(deployment: Deployment) -> None:
    deployment.start_worker()
    deployment.start_worker()
    (a, _), (b, _), (c, _) = _api("a"), _api("b", password=PASSWORD), _api("c")
    with serve(a) as sa, serve(b) as sb, serve(c) as sc, runner_for(deployment) as (s, r, u):
        ids = [
            s.create_scan(u.id, sa.url, {"budget": 20}).id,
            s.create_scan(
                u.id, sb.url, {"budget": 20, "credentials": ["basic"]}, needs_credentials=True
            ).id,
            s.create_scan(u.id, sc.url, {"budget": 20}).id,
            s.create_scan(u.id, sa.url + "/", {"budget": 20}).id,  # a second scan of a
        ]
        r.submit(ids[0])  # type: ignore[attr-defined]
        r.submit(ids[1], Credentials.from_secret({"auth": f"ops:{PASSWORD}"}))  # type: ignore[attr-defined]
        r.submit(ids[2])  # type: ignore[attr-defined]
        r.submit(ids[3])  # type: ignore[attr-defined]
        scans = _wait(s, u, ids)
        assert {i: x.status for i, x in scans.items()} == dict.fromkeys(ids, ScanStatus.DONE)
        report = s.report(u.id, ids[1])
        assert report is not None
        assert report.config["credentials"] == ["basic"]
        # the credentials reached the worker: /me answered 200 to it
        assert any(
            ex.request.url.endswith("/me") and ex.response and ex.response.status == 200
            for ex in report.exchanges
        )
        assert s.secret(ids[1]) is None  # the sealed credentials are gone with the scan
    assert PASSWORD.encode() not in deployment.database.read_bytes()
    for log in deployment.logs:
        assert PASSWORD not in log.read_text()
    # both workers took part, and each scan ran in one attempt
    ran = {line.split("Task middlebrick.scan[")[1][:36] for log in deployment.logs
           for line in log.read_text().splitlines() if "succeeded" in line}  # fmt: skip
    assert len(ran) == 4


def test_a_worker_killed_mid_scan_loses_nothing(deployment: Deployment) -> None:
    first = deployment.start_worker()
    slow, spans = _api("slow", delay=0.15)
    quick, _ = _api("quick")
    with serve(slow) as ss, serve(quick) as sq, runner_for(deployment) as (s, r, u):
        victim = s.create_scan(u.id, ss.url, {"budget": 60, "concurrency": 1}).id
        r.submit(victim)  # type: ignore[attr-defined]
        deadline = time.monotonic() + 30
        while (x := s.peek(victim)) is None or x.status is not ScanStatus.RUNNING:
            assert time.monotonic() < deadline, "the scan never started"
            time.sleep(0.05)
        time.sleep(1.0)  # well into the scan
        deployment.kill(first)
        sent_before = len(spans)
        other = s.create_scan(u.id, sq.url, {"budget": 20}).id
        r.submit(other)  # type: ignore[attr-defined]
        deployment.start_worker()
        scans = _wait(s, u, [victim, other], seconds=100)
    assert scans[other].status is ScanStatus.DONE
    assert scans[victim].status is ScanStatus.DONE, scans[victim].error
    assert sent_before > 0
    report = s.report(u.id, victim)
    assert report is not None
    assert report.score.grade  # the report of the second attempt, stored once
    with s._engine.connect() as connection:  # the lease counted two attempts
        from sqlalchemy import text

        attempt = connection.execute(
            text("SELECT attempt FROM scans WHERE id = :i"), {"i": victim}
        ).scalar()
    assert attempt == 2


def test_a_scan_cancelled_on_the_dashboard_stops_on_the_worker(deployment: Deployment) -> None:
    deployment.start_worker()
    slow, spans = _api("slow", delay=0.1)
    with serve(slow) as ss, runner_for(deployment) as (s, r, u):
        scan_id = s.create_scan(u.id, ss.url, {"budget": 60, "concurrency": 1}).id
        r.submit(scan_id)  # type: ignore[attr-defined]
        while (x := s.peek(scan_id)) is None or x.status is not ScanStatus.RUNNING:
            time.sleep(0.05)
        time.sleep(0.5)
        assert r.cancel(scan_id)  # type: ignore[attr-defined]
        cancelled_at = time.monotonic()
        time.sleep(HEARTBEAT * 3 + 1)
        scans = _wait(s, u, [scan_id])
    assert scans[scan_id].status is ScanStatus.CANCELLED
    late = [path for path, t0, _ in spans if t0 > cancelled_at + HEARTBEAT + 0.5]
    assert late == []  # the worker stopped within a heartbeat (plus one request in flight)


def test_scans_of_one_origin_never_overlap_across_workers(deployment: Deployment) -> None:
    deployment.start_worker()
    deployment.start_worker()
    api, spans = _api("shared", delay=0.01)
    with serve(api) as served, runner_for(deployment) as (s, r, u):
        # base paths no probe of the other scan can hit (`/v2/api-docs` is a well-known one)
        ids = [s.create_scan(u.id, f"{served.url}/{b}", {"budget": 20}).id for b in BASES]
        for scan_id in ids:
            r.submit(scan_id)  # type: ignore[attr-defined]
        _wait(s, u, ids)
    by_base = {
        base: [(t0, t1) for path, t0, t1 in spans if path.startswith(f"/{base}")] for base in BASES
    }
    first, second = sorted(by_base.values(), key=min)
    assert len(first) > 3
    assert len(second) > 3
    assert max(t1 for _, t1 in first) <= min(t0 for t0, _ in second)
    # and the origin's rate cap held, measured at the server over each scan's time
    for scan_spans in (first, second):
        begin, end = min(t0 for t0, _ in scan_spans), max(t1 for _, t1 in scan_spans)
        starts = [t0 for _, t0, _ in spans if begin <= t0 <= end]
        assert len(starts) > 50
        assert (len(starts) - 1) / (end - begin) <= ORIGIN_RATE * 1.05


def test_scan_many_fans_out_to_the_workers(deployment: Deployment, tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from middlebrick.cli import app

    deployment.start_worker()
    deployment.start_worker()
    (a, a_spans), (b, _) = _api("a"), _api("b", password=PASSWORD)
    with serve(a) as sa, serve(b) as sb:
        fleet = tmp_path / "targets.yml"
        fleet.write_text(
            f"targets:\n  - name: a\n    target: {sa.url}\n"
            f"  - name: b\n    target: {sb.url}\n    auth_env: B_AUTH\n"
            f"  - name: down\n    target: http://127.0.0.1:{_free_port()}\n"
        )
        env = {k: v for k, v in deployment.env.items() if k.startswith("MIDDLEBRICK_")}
        result = CliRunner().invoke(
            app, ["scan-many", str(fleet), "--summary", "json"], env={**env, "B_AUTH": ""}
        )
    assert result.exit_code == 3, result.output  # one target is down
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["a"]["grade"] is not None
    assert rows["down"]["error"]
    # B_AUTH is not set on the workers: the worker says so for that target alone
    assert "B_AUTH" in rows["b"]["error"]
    assert len(a_spans) > 3


def test_beat_fires_schedules_and_workers_deliver_alerts_with_retries(
    deployment: Deployment,
) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from middlebrick.web.models import Schedule
    from middlebrick.web.sealing import Sealer
    from middlebrick.web.store.database import now

    deployment.start_worker(beat=True)
    api, _ = _api("scheduled")
    hook_app, received = receiver(fail_first=1)
    with serve(api) as up, serve(hook_app) as hooks, runner_for(deployment) as (s, _, u):
        s.create_webhook(
            u.id,
            f"{hooks.url}/hook",
            Sealer.from_keys(deployment.key).seal({"secret": SECRET}),
            kinds=("scan_failed",),
        )
        ids = [
            s.create_schedule(u.id, url, {"budget": 10}, interval_seconds=3600).id
            for url in (up.url, f"http://127.0.0.1:{_free_port()}")
        ]
        with s._tx() as db:  # due now
            db.execute(
                update(Schedule)
                .where(Schedule.id.in_(ids))
                .values(next_run_at=now() - timedelta(seconds=1))
            )
        deadline = time.monotonic() + 90
        while len(received) < 2:  # the first attempt fails, the retry comes through the queue
            assert time.monotonic() < deadline, (received, s.list_deliveries(u.id))
            time.sleep(0.2)
        scans = _wait(s, u, [x.id for x in s.list_scans(u.id)])
    statuses = sorted(x.status for x in scans.values())
    assert statuses == [ScanStatus.DONE, ScanStatus.FAILED]
    assert all(r["valid"] for r in received)
    assert {r["event"] for r in received} == {"scan_failed"}
    [delivery] = s.list_deliveries(u.id)
    assert delivery.status == "delivered"
    assert delivery.log == ("attempt 1: HTTP 503", "attempt 2: HTTP 200")


def test_the_dashboard_sends_its_scans_to_the_workers(
    deployment: Deployment,
    serve_dashboard: Any,
    users: dict[str, UserRecord],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same form and pages, the scan run by a worker, its credentials sealed on the way."""
    monkeypatch.setenv("MIDDLEBRICK_SECRET_KEY", deployment.key)
    deployment.start_worker()
    api, _ = _api("behind-dashboard", password=PASSWORD)
    with (
        serve(api) as target,
        serve_dashboard(broker_url=deployment.redis_url, allow=("127.0.0.1",)) as dashboard,
    ):
        alice = dashboard.login("alice")
        scan_id = alice.start_scan(target.url, auth=f"ops:{PASSWORD}")
        scan = alice.wait(scan_id, timeout=90)
        page = alice.get(f"/scans/{scan_id}").text
    assert scan.status is ScanStatus.DONE, scan.error
    report = dashboard.store.report(users["alice"].id, scan_id)
    assert report is not None
    assert any(
        ex.request.url.endswith("/me") and ex.response and ex.response.status == 200
        for ex in report.exchanges
    )  # the worker had the credentials
    assert f"ops:{PASSWORD}" not in page
    assert PASSWORD.encode() not in deployment.database.read_bytes()
    assert dashboard.store.secret(scan_id) is None
    assert any("middlebrick.scan" in log.read_text() for log in deployment.logs)
