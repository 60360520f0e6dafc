"""The dashboard's job runner: queued scans run as asyncio tasks in the server's own loop, a few
at a time, oldest first. The store is the queue's memory, so a restart loses nothing that was
submitted; credentials live only here, in memory, for the one scan they were given for."""

from __future__ import annotations

import asyncio
import logging
import math
import tempfile
import time
import traceback
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from pydantic import SecretStr, ValidationError
from sqlalchemy.exc import SQLAlchemyError

from middlebrick import engine
from middlebrick.config import ScanConfig
from middlebrick.engine.events import CheckFinished, Event, OnEvent
from middlebrick.errors import ConfigError, MiddlebrickError
from middlebrick.fleet import origin_of
from middlebrick.http.exchange import Masker
from middlebrick.model import Report
from middlebrick.web import monitoring
from middlebrick.web.sealing import Sealer
from middlebrick.web.store import STOPPED, Recovery, ScanRecord, ScanSettings, Store

CANCELLED = "cancelled by the user"
UNEXPECTED = "the scan stopped on an unexpected error (a bug); the dashboard's log has details"
UPLOADED = "uploaded spec"  # how a report names an uploaded spec that came without a file name
MISSING_CREDENTIALS = (
    "its credentials could not be read (MIDDLEBRICK_SECRET_KEY is not set, or not the key "
    "they were sealed with)"
)
ORIGIN_WAIT = 0.2  # seconds before a scan whose origin is busy is looked at again
TICK = 15.0  # seconds between looks at the schedules
PROGRESS_INTERVAL = 0.5  # seconds between progress writes; the last one is always written
_SPEC_SUFFIXES = (".json", ".yaml", ".yml")

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a scan authenticates with. Held in memory until its scan starts, never stored: a
    scan that needed them and had not started before a restart cannot run (it is interrupted)."""

    auth: SecretStr | None = None  # USER:PASS for HTTP Basic
    bearer: SecretStr | None = None
    headers: tuple[tuple[str, SecretStr], ...] = ()

    def kinds(self) -> list[str]:
        """What the store may know: which kinds were given, never their values."""
        return [
            *(["basic"] if self.auth else []),
            *(["bearer"] if self.bearer else []),
            *(f"header:{name}" for name, _ in self.headers),
        ]

    def to_secret(self) -> dict[str, Any]:
        """The values, for sealing (`sealing.Sealer`) — never for the store in the clear."""
        return {
            "auth": self.auth.get_secret_value() if self.auth else None,
            "bearer": self.bearer.get_secret_value() if self.bearer else None,
            "headers": [[name, value.get_secret_value()] for name, value in self.headers],
        }

    @classmethod
    def from_secret(cls, value: dict[str, Any]) -> Credentials:
        return cls(
            auth=SecretStr(value["auth"]) if value.get("auth") else None,
            bearer=SecretStr(value["bearer"]) if value.get("bearer") else None,
            headers=tuple((str(n), SecretStr(str(v))) for n, v in value.get("headers") or ()),
        )

    def masker(self) -> Masker:
        """Hides these credentials in text, as the engine hides them in reports."""
        masker = Masker()
        if self.auth is not None:
            masker.add_basic(self.auth.get_secret_value())
        if self.bearer is not None:
            masker.add(self.bearer.get_secret_value())
        masker.add(*(value.get_secret_value() for _, value in self.headers))
        return masker


class Admitted(Protocol):
    """What a target policy answers for a URL it lets through (`http.guard.Admission`)."""

    @property
    def host(self) -> str: ...

    @property
    def addresses(self) -> tuple[str, ...]: ...


class Policy(Protocol):
    """Which URLs the dashboard may scan (`http.guard.TargetPolicy`): `admit` returns the
    addresses the name resolved to, or raises a `MiddlebrickError` saying why not."""

    async def admit(self, url: str, *, what: str = "target") -> Admitted: ...


class JobRunner:
    """Runs the scans the dashboard queues, `workers` at a time, first queued first run."""

    def __init__(
        self,
        store: Store,
        policy: Policy,
        *,
        workers: int = 2,
        sealer: Sealer | None = None,
        tick: float = TICK,
        link_base: str | None = None,
    ) -> None:
        self.store = store
        self.policy = policy
        self.workers = workers
        self.sealer = sealer
        self.tick = tick
        self.link_base = link_base
        self._side: set[asyncio.Task[Any]] = set()  # the ticker, alert deliveries, requeues
        self._origins: set[str] = set()  # origins being scanned right now
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._pending: set[str] = set()
        self._credentials: dict[str, Credentials] = {}
        self._active: dict[str, asyncio.Task[None]] = {}
        self._workers: list[asyncio.Task[None]] = []
        self._stopping = False

    async def start(self) -> Recovery:
        """Settle what the last process left (`Store.recover`), queue what can run again and
        start the workers. Call it before the first `submit`."""
        recovery = self.store.recover()
        for scan_id in recovery.requeue:
            self.submit(scan_id)
        self._stopping = False
        self._workers = [
            asyncio.create_task(self._work(), name=f"middlebrick-worker-{n}")
            for n in range(self.workers)
        ]
        self._spawn(self._ticker())
        return recovery

    async def _ticker(self) -> None:
        """Fire due schedules every `tick` seconds (`monitoring.tick`)."""
        while not self._stopping:
            try:
                monitoring.tick(self.store, self.submit)
            except SQLAlchemyError as exc:
                logger.error("schedules not fired: %s", type(exc).__name__)
            await asyncio.sleep(self.tick)

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(work)
        self._side.add(task)
        task.add_done_callback(self._side.discard)

    def _alert(self, scan_id: str) -> None:
        """Record and send the alerts an ended scan calls for."""
        try:
            deliveries = monitoring.alerts_after(self.store, scan_id, link_base=self.link_base)
        except SQLAlchemyError as exc:
            logger.error("scan %s: alerts not recorded: %s", scan_id, type(exc).__name__)
            return
        for delivery_id in deliveries:
            self._spawn(monitoring.deliver(self.store, self.sealer, self.policy, delivery_id))

    async def stop(self) -> None:
        """End the running scans as interrupted and stop the workers; queued scans stay queued
        in the store for the next start (those that needed credentials will be interrupted)."""
        self._stopping = True
        running = dict(self._active)
        for scan_id, task in running.items():
            self.store.interrupt(scan_id, STOPPED)
            task.cancel()
        await asyncio.gather(*running.values(), return_exceptions=True)
        for side in list(self._side):  # the ticker; a pending delivery is retried by no one
            side.cancel()
        await asyncio.gather(*self._side, return_exceptions=True)
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []
        self._credentials.clear()
        self._pending.clear()
        self._queue = asyncio.Queue()  # what was waiting is still queued in the store

    def submit(self, scan_id: str, credentials: Credentials | None = None) -> None:
        """Queue a scan the store holds as queued; `credentials` stay in memory until it runs."""
        if credentials is not None:
            self._credentials[scan_id] = credentials
        self._pending.add(scan_id)
        self._queue.put_nowait(scan_id)

    def cancel(self, scan_id: str) -> bool:
        """Cancel a queued or running scan; False if it had ended already."""
        self._credentials.pop(scan_id, None)
        ended = self.store.cancel(scan_id, CANCELLED)
        task = self._active.get(scan_id)
        if task is not None:
            task.cancel()
        return ended

    def is_active(self, scan_id: str) -> bool:
        """Queued in or run by this runner right now."""
        return scan_id in self._pending or scan_id in self._active

    async def _work(self) -> None:
        while not self._stopping:
            scan_id = await self._queue.get()
            queued = self.store.peek(scan_id)
            origin = origin_of(queued.target_url) if queued is not None else ""
            if origin in self._origins:  # never two scans of one origin at once
                self._spawn(self._later(scan_id))
                continue
            self._pending.discard(scan_id)
            credentials = self._credentials.pop(scan_id, None) or self._sealed(scan_id)
            try:
                scan = self.store.mark_running(scan_id)  # None: cancelled, or run already
            except SQLAlchemyError as exc:  # left queued: the next start runs it
                logger.error("scan %s not started: %s", scan_id, type(exc).__name__)
                continue
            if scan is None:
                continue
            if scan.needs_credentials and credentials is None:
                self.store.fail(scan_id, MISSING_CREDENTIALS)
                continue
            task = asyncio.create_task(self._run(scan, credentials), name=f"scan-{scan_id}")
            self._active[scan_id] = task
            self._origins.add(origin)
            try:
                await asyncio.wait({task})  # never raises the task's error, nor cancels it
            finally:
                self._active.pop(scan_id, None)
                self._origins.discard(origin)
            if not task.cancelled() and (error := task.exception()) is not None:
                logger.error("scan %s: its end was not recorded: %s", scan_id, type(error).__name__)
            self.store.drop_secrets()
            if not self._stopping:
                self._alert(scan_id)

    async def _later(self, scan_id: str) -> None:
        """Back into the queue after a moment: its origin is being scanned."""
        await asyncio.sleep(ORIGIN_WAIT)
        if not self._stopping:
            self._queue.put_nowait(scan_id)

    def _sealed(self, scan_id: str) -> Credentials | None:
        """Credentials kept sealed in the store (a scheduled scan's); None if there are none or
        they cannot be opened."""
        sealed = self.store.secret(scan_id)
        if sealed is None or self.sealer is None:
            return None
        try:
            return Credentials.from_secret(self.sealer.open(sealed))
        except ConfigError as exc:
            logger.error("scan %s: %s", scan_id, exc)
            return None

    async def _run(self, scan: ScanRecord, credentials: Credentials | None) -> None:
        try:
            report = await self._scan(scan, credentials or Credentials())
        except asyncio.CancelledError:
            # cancel() and stop() have ended the scan in the store already; this catches the
            # event loop closing under it
            self.store.interrupt(scan.id, STOPPED)
            raise
        except MiddlebrickError as exc:
            masker = (credentials or Credentials()).masker()
            self.store.fail(scan.id, masker.mask(" ".join(str(exc).split())))
        except Exception as exc:  # the boundary: a bug must not take the dashboard down
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            logger.error(  # the type and place only: a message could quote a credential
                "scan %s: %s at %s:%s",
                scan.id,
                type(exc).__name__,
                Path(frame.filename).name,
                frame.lineno,
            )
            self.store.fail(scan.id, UNEXPECTED)
        else:
            self.store.finish(scan.id, report)  # a no-op if it was cancelled meanwhile

    async def _scan(self, scan: ScanRecord, credentials: Credentials) -> Report:
        return await run_scan(self.store, self.policy, scan, credentials, self._progress(scan.id))

    def _progress(self, scan_id: str) -> OnEvent:
        return progress_writer(self.store, scan_id)


async def run_scan(
    store: Store,
    policy: Policy,
    scan: ScanRecord,
    credentials: Credentials,
    on_event: OnEvent,
    *,
    max_rate: float | None = None,
) -> Report:
    """Admit the target (and a spec URL), then scan with the names pinned to the admitted
    addresses, so the engine connects exactly where the policy looked (no DNS rebinding).
    `max_rate` caps the scan's requests per second whatever its settings ask for."""
    settings = ScanSettings.model_validate(scan.settings)
    spec_text = store.spec_text(scan.id)
    admitted = [await policy.admit(scan.target_url, what="target")]
    spec_url = None
    if spec_text is None:
        spec_url = settings.spec_url or (
            settings.spec if (settings.spec or "").startswith(("http://", "https://")) else None
        )
        if spec_url:
            admitted.append(await policy.admit(spec_url, what="spec"))
    pin: dict[str, dict[str, None]] = {}
    for admission in admitted:
        pin.setdefault(admission.host, {}).update(dict.fromkeys(admission.addresses))
    uploaded = settings.spec or UPLOADED
    with tempfile.TemporaryDirectory(prefix="middlebrick-web-") as folder:
        spec = spec_url
        if spec_text is not None:
            suffix = PurePosixPath(uploaded).suffix.lower()
            path = Path(folder) / f"spec{suffix if suffix in _SPEC_SUFFIXES else ''}"
            path.write_text(spec_text, encoding="utf-8")
            spec = str(path)
        try:
            config = ScanConfig(
                target=scan.target_url,
                spec=spec,
                auth=credentials.auth,
                bearer=credentials.bearer,
                headers=credentials.headers,
                timeout=settings.timeout,
                concurrency=settings.concurrency,
                rate=capped(settings.rate, max_rate),
                budget=settings.budget,
                unsafe=settings.unsafe,
                insecure=settings.insecure,
                checks=settings.checks,
                skip_checks=settings.skip_checks,
                pin=tuple((host, tuple(addresses)) for host, addresses in pin.items()),
            )
        except ValidationError as exc:
            error = exc.errors()[0]  # its message never quotes the value
            raise ConfigError(f"scan setting {error['loc'][0]}: {error['msg']}") from None
        total = len(engine.select_checks(config))
        store.set_progress(scan.id, 0, total)
        try:
            report = await engine.scan(config, on_event)
        except MiddlebrickError as exc:
            if spec_text is not None:
                raise type(exc)(str(exc).replace(str(spec), uploaded)) from None
            raise
    return report if spec_text is None else _named_spec(report, uploaded)


def progress_writer(store: Store, scan_id: str) -> OnEvent:
    """The engine's listener: checks done / total into the store, at most every
    PROGRESS_INTERVAL seconds (and always the last)."""
    written = -math.inf

    def on_event(event: Event) -> None:
        nonlocal written
        if not isinstance(event, CheckFinished):
            return
        moment = time.monotonic()
        if event.done < event.total and moment - written < PROGRESS_INTERVAL:
            return
        written = moment
        try:
            store.set_progress(scan_id, event.done, event.total)
        except SQLAlchemyError as exc:  # progress is a courtesy; the scan goes on
            logger.warning("scan %s: progress not written: %s", scan_id, type(exc).__name__)

    return on_event


def capped(rate: float | None, limit: float | None) -> float | None:
    """The lower of two request rates, None meaning unlimited."""
    if limit is None:
        return rate
    return limit if rate is None else min(rate, limit)


def _named_spec(report: Report, name: str) -> Report:
    """An uploaded spec is scanned from a temporary file; the report names it as uploaded."""
    findings = [
        f.model_copy(
            update={"locations": [loc.model_copy(update={"file": name}) for loc in f.locations]}
        )
        for f in report.findings
    ]
    return report.model_copy(
        update={"spec": name, "config": {**report.config, "spec": name}, "findings": findings}
    )
