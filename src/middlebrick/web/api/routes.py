"""The REST API's routes (`/api/v1/...`): scans, their reports, targets and pushed reports."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from middlebrick.model import Report
from middlebrick.report import WRITERS
from middlebrick.web.api.models import (
    MEDIA_TYPES,
    Progress,
    ReportFormat,
    ScanOut,
    ScanRequest,
    TargetOut,
)
from middlebrick.web.api.problems import ProblemRoute, problems
from middlebrick.web.auth import ApiUser
from middlebrick.web.jobs import JobRunner
from middlebrick.web.store import ScanRecord, ScanSettings, ScanStatus, Store, TargetRecord
from middlebrick.web.targets import target_url

_SCAN_ID = re.compile(r"[0-9a-f]{32}")
_SAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")
_ACTIVE = frozenset({ScanStatus.QUEUED, ScanStatus.RUNNING})
_SQLITE_MAX_INT = (1 << 63) - 1

router = APIRouter(route_class=ProblemRoute, tags=["api"])


def _not_found(what: str) -> HTTPException:
    return HTTPException(404, f"there is no such {what}, or it is not yours")


def _scan_out(request: Request, scan: ScanRecord) -> ScanOut:
    url = str(request.url_for("get_scan", scan_id=scan.id))
    return ScanOut(
        id=scan.id,
        status=scan.status,
        target_id=scan.target_id,
        target_url=scan.target_url,
        settings=ScanSettings.model_validate(scan.settings),
        created_at=scan.created_at,
        started_at=scan.started_at,
        finished_at=scan.finished_at,
        progress=Progress(done=scan.progress_done, total=scan.progress_total),
        score=scan.score,
        grade=scan.grade,
        counts=scan.counts,
        error=scan.error,
        url=url,
        report_url=f"{url}/report" if scan.status == ScanStatus.DONE else None,
        page_url=f"{str(request.base_url).rstrip('/')}/scans/{scan.id}",
    )


def _target_out(request: Request, target: TargetRecord) -> TargetOut:
    return TargetOut(
        id=target.id,
        url=target.url,
        created_at=target.created_at,
        scans=target.scans,
        latest_scan_id=target.latest_scan_id,
        latest_grade=target.latest_grade,
        latest_score=target.latest_score,
        badge_url=str(request.url_for("badge", badge_key=target.badge_key)),
        scans_url=str(request.url_for("list_target_scans", target_id=target.id)),
    )


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _runner(request: Request) -> JobRunner:
    runner: JobRunner = request.app.state.runner
    return runner


def _scan_of(request: Request, user_id: int, scan_id: str) -> ScanRecord:
    scan = _store(request).get_scan(user_id, scan_id) if _SCAN_ID.fullmatch(scan_id) else None
    if scan is None:
        raise _not_found("scan")
    return scan


ScanId = Annotated[str, Path(max_length=64, description="The scan's id (32 hex digits).")]
TargetId = Annotated[int, Path(ge=1, le=_SQLITE_MAX_INT)]
Limit = Annotated[int, Query(ge=1, le=200, description="At most this many, newest first.")]


@router.post(
    "/scans",
    status_code=202,
    name="create_scan",
    summary="Start a scan",
    responses=problems(413, 422),
)
async def create_scan(
    request: Request, response: Response, user: ApiUser, body: ScanRequest
) -> ScanOut:
    """Queue a scan; it runs in the dashboard's job runner. Follow it at `Location` (`url`).
    The target and the spec URL must pass the dashboard's target policy (no link-local or cloud
    metadata addresses; private ranges only when allowed)."""
    target = target_url(body.target, "target")
    spec_url = target_url(body.spec_url, "spec_url") if body.spec_url is not None else None
    policy = request.app.state.policy
    await policy.admit(target, what="target")
    if spec_url is not None:
        await policy.admit(spec_url, what="spec")
    credentials = body.credentials.for_runner() if body.credentials else None
    spec_name = None
    if body.spec_text is not None:
        spec_name = _SAFE_FILENAME.sub("_", body.spec_name or "spec")[:100] or "spec"
    settings = {
        "spec": spec_url or spec_name,
        "spec_url": spec_url,
        "budget": body.budget,
        "rate": body.rate,
        "checks": body.checks,
        "credentials": credentials.kinds() if credentials else [],
    }
    scan = await run_in_threadpool(
        _store(request).create_scan,
        user.id,
        target,
        settings,
        spec_text=body.spec_text,
        needs_credentials=credentials is not None,
    )
    _runner(request).submit(scan.id, credentials)
    out = _scan_out(request, scan)
    response.headers["Location"] = out.url
    return out


@router.get("/scans", name="list_scans", summary="The caller's scans", responses=problems(422))
def list_scans(request: Request, user: ApiUser, limit: Limit = 50) -> list[ScanOut]:
    return [_scan_out(request, s) for s in _store(request).list_scans(user.id, limit=limit)]


@router.get("/scans/{scan_id}", name="get_scan", summary="A scan", responses=problems(404, 422))
def get_scan(request: Request, user: ApiUser, scan_id: ScanId) -> ScanOut:
    return _scan_out(request, _scan_of(request, user.id, scan_id))


@router.get(
    "/scans/{scan_id}/report",
    name="get_report",
    summary="A finished scan's report",
    response_class=Response,
    responses={
        200: {
            "model": Report,
            "description": "The report in the format asked for (`json` is the `Report` schema).",
            "content": {
                MEDIA_TYPES[ReportFormat.SARIF]: {"schema": {"type": "object"}},
                **{
                    MEDIA_TYPES[f]: {"schema": {"type": "string"}}
                    for f in (ReportFormat.HTML, ReportFormat.JUNIT, ReportFormat.MARKDOWN)
                },
            },
        },
        **problems(404, 409, 422),
    },
)
def get_report(
    request: Request,
    user: ApiUser,
    scan_id: ScanId,
    format: Annotated[ReportFormat, Query(description="The report's format.")] = (
        ReportFormat.JSON
    ),
) -> Response:
    scan = _scan_of(request, user.id, scan_id)
    report = _store(request).report(user.id, scan_id)
    if report is None:
        raise HTTPException(409, f"the scan has no report: it is {scan.status.value}")
    writer = WRITERS[format.value]
    host = urlsplit(report.target.url).netloc
    name = _SAFE_FILENAME.sub("_", f"middlebrick-{host}-{report.finished_at:%Y%m%d-%H%M%S}")
    return Response(
        writer.render(report),
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{name}{writer.suffix}"'},
    )


@router.post(
    "/scans/{scan_id}/cancel",
    name="cancel_scan",
    summary="Cancel a queued or running scan",
    responses=problems(404, 409, 422),
)
async def cancel_scan(request: Request, user: ApiUser, scan_id: ScanId) -> ScanOut:
    scan = await run_in_threadpool(_scan_of, request, user.id, scan_id)
    if scan.status not in _ACTIVE or not _runner(request).cancel(scan_id):
        ended = await run_in_threadpool(_scan_of, request, user.id, scan_id)
        raise HTTPException(409, f"the scan has ended already: it is {ended.status.value}")
    return _scan_out(request, await run_in_threadpool(_scan_of, request, user.id, scan_id))


@router.get("/targets", name="list_targets", summary="The caller's targets", responses=problems())
def list_targets(request: Request, user: ApiUser) -> list[TargetOut]:
    return [_target_out(request, t) for t in _store(request).list_targets(user.id)]


@router.get(
    "/targets/{target_id}/scans",
    name="list_target_scans",
    summary="A target's scans",
    responses=problems(404, 422),
)
def list_target_scans(
    request: Request, user: ApiUser, target_id: TargetId, limit: Limit = 50
) -> list[ScanOut]:
    store = _store(request)
    if store.get_target(user.id, target_id) is None:
        raise _not_found("target")
    scans = store.list_scans(user.id, target_id=target_id, limit=limit)
    return [_scan_out(request, s) for s in scans]


@router.post(
    "/reports",
    status_code=201,
    name="upload_report",
    summary="Keep a report made elsewhere",
    responses=problems(413, 422),
)
def upload_report(request: Request, response: Response, user: ApiUser, report: Report) -> ScanOut:
    """A JSON report as `middlebrick scan --format json` writes it (`scan --upload` sends it):
    kept as a finished scan of its target, in the target's history and trend."""
    out = _scan_out(request, _store(request).store_report(user.id, report))
    response.headers["Location"] = out.url
    return out
