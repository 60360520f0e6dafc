"""Fleet uploads: a fleet file (the format of `middlebrick scan-many`, `middlebrick.fleet`),
uploaded or pasted, becomes one queued scan per target, followed on a summary page. The REST
API's `POST /fleet` queues through `queue_fleet` too.

What the CLI reads from its user's machine is refused here, because the dashboard would read it
from its own: credential variables (`auth_env`, `bearer_env`, `headers_env` would put the
server's environment in requests to hosts the uploader chooses) and spec files (a path would
read the server's disk). Every target and spec URL passes the target policy before anything is
queued, and an upload is capped in size and targets."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from middlebrick import fleet
from middlebrick.checks import BY_ID
from middlebrick.errors import ConfigError, MiddlebrickError
from middlebrick.web.auth import PageSession, Session, store_of
from middlebrick.web.pages.base import not_found, render, runner_of, see_other
from middlebrick.web.pages.scan_form import DEFAULT_BUDGET, MAX_BUDGET, MAX_RATE, MIN_BUDGET
from middlebrick.web.store import ScanRecord, ScanSettings, ScanStatus
from middlebrick.web.targets import target_url

MAX_FLEET_TARGETS = 200
MAX_FLEET_BYTES = 256 << 10
ADMITTED_AT_ONCE = 16  # DNS lookups of one upload's names in flight
POLL, SLOW_POLL, MANY = "every 2s", "every 5s", 50  # a long list is read less often
WHERE = "the fleet file"
ENV_KEYS = ("auth_env", "bearer_env", "headers_env")
ACTIVE = frozenset({ScanStatus.QUEUED, ScanStatus.RUNNING})
_SCAN_ID = re.compile(r"[0-9a-f]{32}")

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True, slots=True)
class PlannedScan:
    """One target of an upload, as the dashboard will scan it."""

    name: str
    target: str
    settings: dict[str, Any]


def plan(text: str) -> list[PlannedScan]:
    """The scans a fleet file asks for, or one `ConfigError` naming the place in the file."""
    if len(text.encode()) > MAX_FLEET_BYTES:
        raise ConfigError(f"{WHERE} is larger than {MAX_FLEET_BYTES >> 10} KiB")
    if not text.strip():
        raise ConfigError(f"{WHERE} is empty")
    targets = fleet.parse(text, WHERE)
    if len(targets) > MAX_FLEET_TARGETS:
        raise ConfigError(
            f"{WHERE} lists {len(targets)} targets; an upload takes at most {MAX_FLEET_TARGETS}"
        )
    return [_planned(index, target) for index, target in enumerate(targets)]


def _planned(index: int, target: fleet.FleetTarget) -> PlannedScan:
    s = target.settings
    place = f"{WHERE}: targets[{index}] ({target.name})"
    for key in ENV_KEYS:
        if getattr(s, key):
            raise ConfigError(
                f"{place}: `{key}` is refused in an upload: the dashboard would read that "
                "variable from its own server's environment; scan with credentials from the "
                "New scan page or the API instead"
            )
    if s.unsafe:
        raise ConfigError(
            f"{place}: `unsafe` is refused: dashboard scans send GET, HEAD and OPTIONS"
        )
    spec_url = None
    if s.spec:
        if "://" not in s.spec:
            raise ConfigError(
                f"{place}: `spec` must be a URL in an upload (the dashboard reads no file of its "
                "own disk)"
            )
        spec_url = target_url(s.spec, f"{place}: spec")
    budget = s.budget if s.budget is not None else float(DEFAULT_BUDGET)
    if not MIN_BUDGET <= budget <= MAX_BUDGET:
        raise ConfigError(f"{place}: budget must be {MIN_BUDGET}-{MAX_BUDGET} seconds here")
    if s.rate is not None and not 0 < s.rate <= MAX_RATE:
        raise ConfigError(f"{place}: rate must be above 0 and at most {MAX_RATE:g} per second")
    unknown = [c for c in (*s.checks, *s.skip) if c not in BY_ID]
    if unknown:
        raise ConfigError(f"{place}: unknown check id {unknown[0][:40]!r}")
    settings: dict[str, Any] = {
        "spec": spec_url,
        "spec_url": spec_url,
        "budget": budget,
        "rate": s.rate,
        "checks": list(s.checks),
        "skip_checks": list(s.skip),
        "credentials": [],
    }
    if s.timeout is not None:
        settings["timeout"] = s.timeout
    if s.concurrency is not None:
        settings["concurrency"] = s.concurrency
    try:
        ScanSettings.model_validate(settings)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise ConfigError(f"{place}: {error['loc'][0]}: {error['msg']}") from None
    return PlannedScan(target.name, target_url(s.target or "", f"{place}: target"), settings)


async def _admit(request: Request, planned: list[PlannedScan]) -> None:
    """Every target and spec URL through the target policy, a few lookups at a time; the first
    refusal in the file's order is the error."""
    policy = request.app.state.policy
    slots = asyncio.Semaphore(ADMITTED_AT_ONCE)

    async def one(scan: PlannedScan) -> None:
        async with slots:
            await policy.admit(scan.target, what="target")
            if scan.settings["spec_url"]:
                await policy.admit(scan.settings["spec_url"], what="spec")

    outcomes = await asyncio.gather(*(one(p) for p in planned), return_exceptions=True)
    for index, (scan, outcome) in enumerate(zip(planned, outcomes, strict=True)):
        if isinstance(outcome, MiddlebrickError):
            raise ConfigError(f"{WHERE}: targets[{index}] ({scan.name}): {outcome}") from None
        if isinstance(outcome, BaseException):
            raise outcome


async def queue_fleet(
    request: Request, user_id: int, text: str
) -> list[tuple[PlannedScan, ScanRecord]]:
    """Check the whole file, admit every URL, then queue a scan per target through the runner
    (as the new-scan form does); nothing is queued if anything is refused."""
    planned = plan(text)
    await _admit(request, planned)
    store = store_of(request)

    def create() -> list[ScanRecord]:
        return [store.create_scan(user_id, p.target, p.settings) for p in planned]

    scans = await run_in_threadpool(create)
    runner = runner_of(request)
    for scan in scans:
        runner.submit(scan.id)
    return list(zip(planned, scans, strict=True))


def _fleet_page(request: Request, session: PageSession, error: str | None = None) -> HTMLResponse:
    return render(
        request,
        "fleet.html.j2",
        session,
        status=400 if error else 200,
        error=error,
        limits={"targets": MAX_FLEET_TARGETS, "kib": MAX_FLEET_BYTES >> 10},
        nav="fleet",
    )


@router.get("/fleet")
def fleet_form(request: Request, session: Session) -> Response:
    return _fleet_page(request, session)


@router.post("/fleet")
async def upload_fleet(request: Request, session: Session) -> Response:
    form = await request.form()
    pasted = form.get("fleet")
    text = pasted if isinstance(pasted, str) else ""
    try:  # the text is never shown again: a refused file may hold a credential
        uploaded = await _uploaded(form.get("fleet_file"))
        if uploaded is not None and text.strip():
            raise ConfigError("upload the fleet file or paste it, not both")
        queued = await queue_fleet(request, session.user.id, uploaded or text)
    except MiddlebrickError as exc:
        return _fleet_page(request, session, " ".join(str(exc).split()))
    return see_other(f"/fleet/scans?ids={','.join(scan.id for _, scan in queued)}")


async def _uploaded(upload: object) -> str | None:
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    data = await upload.read(MAX_FLEET_BYTES + 1)
    if not data:
        return None
    if len(data) > MAX_FLEET_BYTES:
        raise ConfigError(f"{WHERE} is larger than {MAX_FLEET_BYTES >> 10} KiB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"{WHERE} must be UTF-8 text (YAML)") from None


@router.get("/fleet/scans")
def fleet_scans(request: Request, session: Session, ids: str = "") -> Response:
    """The scans of one upload, by the ids in the link the upload answered with: no batch is
    stored, and an id that is not the user's is a 404 like any other."""
    wanted = list(dict.fromkeys(i for i in ids.split(",") if i))
    if len(wanted) > MAX_FLEET_TARGETS or not all(_SCAN_ID.fullmatch(i) for i in wanted):
        raise not_found("scan")
    store = store_of(request)
    scans = []
    for scan_id in wanted:
        scan = store.get_scan(session.user.id, scan_id)
        if scan is None:
            raise not_found("scan")
        scans.append(scan)
    context: dict[str, Any] = {
        "scans": scans,
        "ids": ",".join(wanted),
        "active": any(s.status in ACTIVE for s in scans),
        "finished": sum(s.status not in ACTIVE for s in scans),
        "poll": POLL if len(scans) <= MANY else SLOW_POLL,
        "nav": "fleet",
    }
    template = (
        "_fleet_scans.html.j2" if request.headers.get("HX-Request") else "fleet_scans.html.j2"
    )
    return render(request, template, session, **context)
