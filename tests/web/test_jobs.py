"""The job runner against real APIs on loopback and a real SQLite file: scans run, report progress,
end cancelled, failed or interrupted as they should, survive a restart without running twice,
and never write the credentials they were given."""

from __future__ import annotations

import asyncio
import base64
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask, Response, request
from pydantic import SecretStr

from middlebrick.demo.server import Served, serve
from middlebrick.errors import ConfigError
from middlebrick.web.jobs import CANCELLED, UNEXPECTED, Credentials, JobRunner
from middlebrick.web.store import (
    LOST_CREDENTIALS,
    STOPPED,
    ScanRecord,
    ScanStatus,
    Store,
    UserRecord,
)

from targets.raw import closed_port
from targets.recording import Log, recording_app

ENDED = frozenset(
    {ScanStatus.DONE, ScanStatus.FAILED, ScanStatus.CANCELLED, ScanStatus.INTERRUPTED}
)
CANARY_PASSWORD = "jobs-canary-pw-3c8e1a"
CANARY_BEARER = "jobs-canary-bearer-7b2f90"
CANARY_HEADER = "jobs-canary-header-d41e6c"
SPEC = """
openapi: 3.0.3
info: {title: recording, version: "1"}
paths:
  /items:
    get:
      responses: {"200": {description: the items}}
  /me:
    get:
      security: [{basic: []}]
      responses: {"200": {description: who is asking}, "401": {description: nobody}}
components:
  securitySchemes:
    basic: {type: http, scheme: basic}
"""


@dataclass(frozen=True, slots=True)
class Admission:
    url: str
    host: str
    port: int
    addresses: tuple[str, ...]


@dataclass
class LoopbackPolicy:
    """A target policy for the tests: loopback literals are admitted as they are, and `names`
    maps made-up host names to 127.0.0.1 (nothing is ever resolved); anything else is refused."""

    names: frozenset[str] = frozenset()
    admitted: list[tuple[str, str]] = field(default_factory=list)

    async def admit(self, url: str, *, what: str = "target") -> Admission:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if host != "127.0.0.1" and host not in self.names:
            raise ConfigError(f"{what} {host} is not allowed by this policy")
        self.admitted.append((what, url))
        return Admission(url, host, parts.port or 80, ("127.0.0.1",))


class RefusingPolicy:
    async def admit(self, url: str, *, what: str = "target") -> Admission:
        raise ConfigError(f"{what} {urlsplit(url).hostname} resolves to a private address")


class BrokenPolicy:
    """A policy with a bug whose message quotes a credential."""

    async def admit(self, url: str, *, what: str = "target") -> Admission:
        raise RuntimeError(f"boom {CANARY_PASSWORD}")


@pytest.fixture
def user(store: Store) -> UserRecord:
    return store.create_user("alice", "alice-password-1")


@pytest.fixture
def servers() -> Iterator[Callable[..., tuple[Served, Log]]]:
    """`servers(delay=...)`: a recording API on loopback and its request log, closed at the end."""
    with ExitStack() as stack:

        def start(delay: float = 0.0) -> tuple[Served, Log]:
            log = Log()
            return stack.enter_context(serve(recording_app(log, delay=delay))), log

        yield start


async def until(condition: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


def status(store: Store, user: UserRecord, scan_id: str) -> ScanRecord:
    record = store.get_scan(user.id, scan_id)
    assert record is not None
    return record


async def finished(store: Store, user: UserRecord, scan_id: str) -> ScanRecord:
    await until(lambda: status(store, user, scan_id).status in ENDED)
    return status(store, user, scan_id)


def on_disk(database: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(database.parent.glob(database.name + "*")))


def test_a_scan_runs_to_done_with_its_report_and_progress(
    store: Store, user: UserRecord, servers: Callable[..., tuple[Served, Log]]
) -> None:
    served, log = servers(delay=0.05)

    async def main() -> tuple[ScanRecord, list[tuple[int, int]]]:
        runner = JobRunner(store, LoopbackPolicy())
        await runner.start()
        scan = store.create_scan(user.id, served.url, {"budget": 60})
        runner.submit(scan.id)
        seen: list[tuple[int, int]] = []
        while (now := status(store, user, scan.id)).status not in ENDED:
            seen.append((now.progress_done, now.progress_total))
            await asyncio.sleep(0.05)
        assert not runner.is_active(scan.id)
        await runner.stop()
        return now, seen

    done, seen = asyncio.run(main())
    assert done.status is ScanStatus.DONE, done.error
    report = store.report(user.id, done.id)
    assert report is not None
    assert report.target.url == served.url
    assert (done.score, done.grade) == (report.score.score, report.score.grade)
    assert done.progress_done == done.progress_total == len(report.checks)
    # progress was written while the scan ran, not only at the end
    assert any(0 < d < t for d, t in seen), seen
    assert log.entries


def test_credentials_are_used_and_never_written(
    store: Store, database: Path, user: UserRecord, servers: Callable[..., tuple[Served, Log]]
) -> None:
    served, log = servers()
    credentials = Credentials(
        auth=SecretStr(f"u:{CANARY_PASSWORD}"),
        bearer=SecretStr(CANARY_BEARER),
        headers=(("X-Api-Key", SecretStr(CANARY_HEADER)),),
    )

    async def main() -> ScanRecord:
        runner = JobRunner(store, LoopbackPolicy())
        await runner.start()
        scan = store.create_scan(
            user.id, served.url, {"credentials": credentials.kinds()}, needs_credentials=True
        )
        runner.submit(scan.id, credentials)
        done = await finished(store, user, scan.id)
        await runner.stop()
        return done

    done = asyncio.run(main())
    assert done.status is ScanStatus.DONE, done.error
    assert done.settings["credentials"] == ["basic", "bearer", "header:X-Api-Key"]
    sent = [headers for *_, headers in log.entries]
    assert any(h.get("X-Api-Key") == CANARY_HEADER for h in sent)  # they were used
    basic = base64.b64encode(f"u:{CANARY_PASSWORD}".encode())
    for data in (on_disk(database), (store.close(), on_disk(database))[1]):
        for secret in (CANARY_PASSWORD.encode(), CANARY_BEARER.encode(), CANARY_HEADER.encode()):
            assert secret not in data
        assert basic not in data


def test_a_target_the_policy_refuses_fails_with_its_reason_and_is_never_contacted(
    store: Store, user: UserRecord, servers: Callable[..., tuple[Served, Log]]
) -> None:
    served, log = servers()

    async def main() -> ScanRecord:
        runner = JobRunner(store, RefusingPolicy())
        await runner.start()
        scan = store.create_scan(user.id, served.url, {})
        runner.submit(scan.id)
        done = await finished(store, user, scan.id)
        await runner.stop()
        return done

    done = asyncio.run(main())
    assert done.status is ScanStatus.FAILED
    assert done.error == "target 127.0.0.1 resolves to a private address"
    assert log.entries == []


def test_an_unreachable_target_fails_in_one_line(store: Store, user: UserRecord) -> None:
    url = f"http://127.0.0.1:{closed_port()}"

    async def main() -> ScanRecord:
        runner = JobRunner(store, LoopbackPolicy())
        await runner.start()
        scan = store.create_scan(user.id, url, {"credentials": ["basic"]})
        runner.submit(scan.id, Credentials(auth=SecretStr(f"u:{CANARY_PASSWORD}")))
        done = await finished(store, user, scan.id)
        await runner.stop()
        return done

    done = asyncio.run(main())
    assert done.status is ScanStatus.FAILED
    assert done.error
    assert "\n" not in done.error
    assert "127.0.0.1" in done.error
    assert CANARY_PASSWORD not in done.error


def test_an_unexpected_error_fails_with_a_generic_line(
    store: Store, database: Path, user: UserRecord, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> ScanRecord:
        runner = JobRunner(store, BrokenPolicy())
        await runner.start()
        scan = store.create_scan(user.id, "http://127.0.0.1:1", {"credentials": ["basic"]})
        runner.submit(scan.id, Credentials(auth=SecretStr(f"u:{CANARY_PASSWORD}")))
        done = await finished(store, user, scan.id)
        await runner.stop()
        return done

    done = asyncio.run(main())
    assert (done.status, done.error) == (ScanStatus.FAILED, UNEXPECTED)
    assert "RuntimeError" in caplog.text
    assert CANARY_PASSWORD not in caplog.text
    assert CANARY_PASSWORD.encode() not in on_disk(database)


def test_cancelling_a_running_scan_ends_it_cancelled(
    store: Store, user: UserRecord, servers: Callable[..., tuple[Served, Log]]
) -> None:
    served, log = servers(delay=0.3)

    async def main() -> tuple[bool, ScanRecord, int]:
        runner = JobRunner(store, LoopbackPolicy())
        await runner.start()
        scan = store.create_scan(user.id, served.url, {})
        runner.submit(scan.id)
        await until(lambda: len(log.entries) >= 3)
        cancelled = runner.cancel(scan.id)
        done = await finished(store, user, scan.id)
        await until(lambda: not runner.is_active(scan.id), seconds=10)
        await asyncio.sleep(0.5)  # requests in flight when it was cancelled may still arrive
        sent = len(log.entries)
        await asyncio.sleep(1.0)
        await runner.stop()
        return cancelled, done, len(log.entries) - sent

    cancelled, done, later = asyncio.run(main())
    assert cancelled
    assert (done.status, done.error) == (ScanStatus.CANCELLED, CANCELLED)
    assert later == 0  # the scan sends nothing once it is cancelled
    assert store.report(user.id, done.id) is None


def test_a_cancelled_queued_scan_never_runs(
    store: Store, user: UserRecord, servers: Callable[..., tuple[Served, Log]]
) -> None:
    slow, _ = servers(delay=0.1)
    other, other_log = servers()

    async def main() -> tuple[ScanRecord, ScanRecord]:
        runner = JobRunner(store, LoopbackPolicy(), workers=1)
        await runner.start()
        first = store.create_scan(user.id, slow.url, {})
        second = store.create_scan(user.id, other.url, {})
        runner.submit(first.id)
        runner.submit(second.id)
        await until(lambda: status(store, user, first.id).status is ScanStatus.RUNNING)
        assert runner.is_active(second.id)
        assert runner.cancel(second.id)
        assert not runner.cancel(second.id)  # ended already
        done = await finished(store, user, first.id)
        await asyncio.sleep(0.3)
        await runner.stop()
        return done, status(store, user, second.id)

    first, second = asyncio.run(main())
    assert first.status is ScanStatus.DONE
    assert (second.status, second.started_at) == (ScanStatus.CANCELLED, None)
    assert other_log.entries == []


def test_at_most_workers_scans_run_at_once_first_queued_first(
    store: Store, user: UserRecord, servers: Callable[..., tuple[Served, Log]]
) -> None:
    urls = [servers(delay=0.02)[0].url for _ in range(4)]

    async def main() -> tuple[list[ScanRecord], int]:
        runner = JobRunner(store, LoopbackPolicy(), workers=2)
        await runner.start()
        scans = [store.create_scan(user.id, url, {}) for url in urls]
        for scan in scans:
            runner.submit(scan.id)
        most = 0
        while not all(status(store, user, s.id).status in ENDED for s in scans):
            running = [s for s in scans if status(store, user, s.id).status is ScanStatus.RUNNING]
            most = max(most, len(running))
            await asyncio.sleep(0.02)
        await runner.stop()
        return [status(store, user, s.id) for s in scans], most

    scans, most = asyncio.run(main())
    assert all(s.status is ScanStatus.DONE for s in scans)
    assert most == 2
    started = [s.started_at for s in scans]
    assert started == sorted(started)  # type: ignore[type-var]


def test_two_scans_of_one_origin_never_run_at_once(
    store: Store, user: UserRecord, servers: Callable[..., tuple[Served, Log]]
) -> None:
    """Two targets on one origin wait for each other; a third origin runs beside them."""
    shared, _ = servers(delay=0.01)
    other, _ = servers(delay=0.01)
    urls = [f"{shared.url}/tenant-a", f"{shared.url}/tenant-b", other.url]

    async def main() -> list[ScanRecord]:
        runner = JobRunner(store, LoopbackPolicy(), workers=3)
        await runner.start()
        scans = [store.create_scan(user.id, url, {}) for url in urls]
        for scan in scans:
            runner.submit(scan.id)
        together: set[frozenset[str]] = set()
        while not all(status(store, user, s.id).status in ENDED for s in scans):
            records = [status(store, user, s.id) for s in scans]
            running = {r.target_url for r in records if r.status is ScanStatus.RUNNING}
            together.add(frozenset(running))
            await asyncio.sleep(0.01)
        await runner.stop()
        assert not any({urls[0], urls[1]} <= group for group in together)
        assert any(urls[2] in group and len(group) == 2 for group in together)
        return [status(store, user, s.id) for s in scans]

    assert all(s.status is ScanStatus.DONE for s in asyncio.run(main()))


def test_a_scan_submitted_twice_runs_once(
    store: Store, user: UserRecord, servers: Callable[..., tuple[Served, Log]]
) -> None:
    (twice, twice_log), (once, once_log) = servers(), servers()

    async def main() -> None:
        runner = JobRunner(store, LoopbackPolicy(), workers=2)
        await runner.start()
        for url, times in ((twice.url, 2), (once.url, 1)):
            scan = store.create_scan(user.id, url, {})
            for _ in range(times):
                runner.submit(scan.id)
            assert (await finished(store, user, scan.id)).status is ScanStatus.DONE
        await runner.stop()

    asyncio.run(main())
    assert len(twice_log.entries) == len(once_log.entries) > 0


def test_a_restart_loses_no_scan_and_runs_none_twice(
    database: Path, store: Store, user: UserRecord, servers: Callable[..., tuple[Served, Log]]
) -> None:
    (slow, slow_log), (queued_api, queued_log), (secret_api, secret_log) = (
        servers(delay=0.3),
        servers(),
        servers(),
    )

    async def before() -> tuple[str, str, str]:
        runner = JobRunner(store, LoopbackPolicy(), workers=1)
        await runner.start()
        running = store.create_scan(user.id, slow.url, {})
        queued = store.create_scan(user.id, queued_api.url, {})
        with_credentials = store.create_scan(
            user.id, secret_api.url, {"credentials": ["bearer"]}, needs_credentials=True
        )
        runner.submit(running.id)
        runner.submit(queued.id)
        runner.submit(with_credentials.id, Credentials(bearer=SecretStr(CANARY_BEARER)))
        await until(lambda: len(slow_log.entries) >= 3)
        await runner.stop()
        return running.id, queued.id, with_credentials.id

    running, queued, with_credentials = asyncio.run(before())
    assert status(store, user, running).status is ScanStatus.INTERRUPTED
    assert status(store, user, queued).status is ScanStatus.QUEUED
    assert queued_log.entries == []
    assert secret_log.entries == []
    store.close()
    slow_requests = len(slow_log.entries)

    restarted = Store(f"sqlite:///{database}")

    async def after() -> list[str]:
        runner = JobRunner(restarted, LoopbackPolicy(), workers=1)
        recovery = await runner.start()
        await finished(restarted, user, queued)
        await runner.stop()
        return recovery.requeue

    assert asyncio.run(after()) == [queued]
    assert (status(restarted, user, running).status, status(restarted, user, running).error) == (
        ScanStatus.INTERRUPTED,
        STOPPED,
    )
    assert status(restarted, user, queued).status is ScanStatus.DONE
    assert status(restarted, user, with_credentials).status is ScanStatus.INTERRUPTED
    assert status(restarted, user, with_credentials).error == LOST_CREDENTIALS
    assert len(slow_log.entries) == slow_requests  # the interrupted scan did not run again
    assert secret_log.entries == []
    assert queued_log.entries
    restarted.close()
    assert CANARY_BEARER.encode() not in on_disk(database)


def test_a_scan_left_running_by_a_crash_is_interrupted_at_start(
    store: Store, user: UserRecord
) -> None:
    crashed = store.create_scan(user.id, "http://127.0.0.1:1", {})
    store.mark_running(crashed.id)

    async def main() -> list[str]:
        runner = JobRunner(store, LoopbackPolicy())
        recovery = await runner.start()
        await runner.stop()
        return recovery.interrupted

    assert asyncio.run(main()) == [crashed.id]
    record = status(store, user, crashed.id)
    assert (record.status, record.error) == (ScanStatus.INTERRUPTED, STOPPED)


def test_an_uploaded_spec_is_scanned_from_a_temporary_file_then_deleted(
    store: Store,
    user: UserRecord,
    servers: Callable[..., tuple[Served, Log]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served, log = servers()
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))

    async def main() -> ScanRecord:
        runner = JobRunner(store, LoopbackPolicy())
        await runner.start()
        scan = store.create_scan(user.id, served.url, {"spec": "recording.yaml"}, spec_text=SPEC)
        runner.submit(scan.id)
        done = await finished(store, user, scan.id)
        await runner.stop()
        return done

    done = asyncio.run(main())
    assert done.status is ScanStatus.DONE, done.error
    report = store.report(user.id, done.id)
    assert report is not None
    assert report.spec == "recording.yaml"
    assert report.config["spec"] == "recording.yaml"
    assert report.coverage.operations_declared == 2
    assert str(temporary) not in report.model_dump_json()
    assert list(temporary.iterdir()) == []
    assert "/items" in log.paths


def test_a_broken_uploaded_spec_fails_naming_the_upload(
    store: Store, user: UserRecord, servers: Callable[..., tuple[Served, Log]]
) -> None:
    served, _ = servers()

    async def main() -> ScanRecord:
        runner = JobRunner(store, LoopbackPolicy())
        await runner.start()
        scan = store.create_scan(
            user.id, served.url, {"spec": "broken.json"}, spec_text='{"openapi": '
        )
        runner.submit(scan.id)
        done = await finished(store, user, scan.id)
        await runner.stop()
        return done

    done = asyncio.run(main())
    assert done.status is ScanStatus.FAILED
    assert done.error
    assert done.error.startswith("broken.json")
    assert "middlebrick-web" not in done.error


def spec_app(hits: list[str]) -> Flask:
    app = Flask("specs")

    @app.get("/openapi.yaml")
    def document() -> Response:
        hits.append(request.host)
        return Response(SPEC, mimetype="application/yaml")

    return app


def test_the_engine_connects_only_where_the_policy_admitted(
    store: Store, user: UserRecord, servers: Callable[..., tuple[Served, Log]]
) -> None:
    """The names are made up (`.invalid` never resolves): the scan reaches the API and its spec
    only because the runner pins each admitted name to the address the policy gave."""
    served, log = servers()
    hits: list[str] = []
    policy = LoopbackPolicy(names=frozenset({"api.invalid", "specs.invalid"}))
    with serve(spec_app(hits)) as specs:
        target = f"http://api.invalid:{served.port}"
        spec_url = f"http://specs.invalid:{specs.port}/openapi.yaml"

        async def main() -> ScanRecord:
            runner = JobRunner(store, policy)
            await runner.start()
            scan = store.create_scan(user.id, target, {"spec": spec_url, "spec_url": spec_url})
            runner.submit(scan.id)
            done = await finished(store, user, scan.id)
            await runner.stop()
            return done

        done = asyncio.run(main())
    assert done.status is ScanStatus.DONE, done.error
    assert policy.admitted == [("target", target), ("spec", spec_url)]
    assert hits == [f"specs.invalid:{specs.port}"]
    assert {headers["Host"] for *_, headers in log.entries} == {f"api.invalid:{served.port}"}
    report = store.report(user.id, done.id)
    assert report is not None
    assert report.spec == spec_url
    assert report.coverage.operations_declared == 2


def test_a_name_the_policy_did_not_admit_is_never_contacted(
    store: Store, user: UserRecord, servers: Callable[..., tuple[Served, Log]]
) -> None:
    served, log = servers()

    async def main() -> ScanRecord:
        runner = JobRunner(store, LoopbackPolicy())
        await runner.start()
        scan = store.create_scan(user.id, f"http://localhost:{served.port}", {})
        runner.submit(scan.id)
        done = await finished(store, user, scan.id)
        await runner.stop()
        return done

    done = asyncio.run(main())
    assert (done.status, done.error) == (
        ScanStatus.FAILED,
        "target localhost is not allowed by this policy",
    )
    assert log.entries == []
