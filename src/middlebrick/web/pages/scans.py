"""Scans: the list, the new-scan form, a scan's live progress and its report, cancelling, and
the report downloads. The two routes that hand work to the job runner are coroutines (the runner
lives on the event loop); the others run in the thread pool (store calls block)."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from middlebrick.errors import MiddlebrickError
from middlebrick.report import WRITERS
from middlebrick.web.auth import PageSession, Session, store_of
from middlebrick.web.pages.base import not_found, render, report_of, runner_of, see_other
from middlebrick.web.pages.scan_form import (
    MAX_BUDGET,
    MAX_RATE,
    MIN_BUDGET,
    ScanForm,
    check_groups,
    parse_submission,
    shown_url,
    text_of,
)
from middlebrick.web.pages.views import DOWNLOADS, Filters, report_view
from middlebrick.web.store import ScanRecord, ScanStatus

router = APIRouter(include_in_schema=False)

MEDIA_TYPES = {fmt: media for fmt, _, media in DOWNLOADS}
ACTIVE = frozenset({ScanStatus.QUEUED, ScanStatus.RUNNING})
_SAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


@router.get("/")
def home(request: Request, session: Session) -> Response:
    scans = store_of(request).list_scans(session.user.id, limit=50)
    base_url = str(request.base_url).rstrip("/")
    return render(request, "home.html.j2", session, scans=scans, base_url=base_url, nav="scans")


def _new_scan_page(
    request: Request, session: PageSession, form: ScanForm, error: str | None = None
) -> HTMLResponse:
    return render(
        request,
        "new_scan.html.j2",
        session,
        status=400 if error else 200,
        form=form,
        error=error,
        check_groups=check_groups(),
        limits={"min_budget": MIN_BUDGET, "max_budget": MAX_BUDGET, "max_rate": MAX_RATE},
        nav="new",
    )


@router.get("/scans/new")
def new_scan(request: Request, session: Session, target: str = "") -> Response:
    return _new_scan_page(request, session, ScanForm(target=shown_url(target)))


@router.post("/scans")
async def create_scan(request: Request, session: Session) -> Response:
    form = await request.form()
    shown = ScanForm(
        target=shown_url(text_of(form, "target")),
        spec_url=shown_url(text_of(form, "spec_url")),
        budget=text_of(form, "budget"),
        rate=text_of(form, "rate"),
        checks=frozenset(v for v in form.getlist("checks") if isinstance(v, str)),
    )
    try:
        submission = await parse_submission(form)
        policy = request.app.state.policy
        await policy.admit(submission.target, what="target")
        if submission.spec_text is None and (spec_url := submission.settings["spec"]):
            await policy.admit(spec_url, what="spec")
        scan = await run_in_threadpool(
            store_of(request).create_scan,
            session.user.id,
            submission.target,
            submission.settings,
            spec_text=submission.spec_text,
            needs_credentials=submission.credentials is not None,
        )
    except MiddlebrickError as exc:
        return _new_scan_page(request, session, shown, str(exc))
    runner_of(request).submit(scan.id, submission.credentials)
    return see_other(f"/scans/{scan.id}")


def _scan_of(request: Request, session: PageSession, scan_id: str) -> ScanRecord:
    scan = store_of(request).get_scan(session.user.id, scan_id)
    if scan is None:
        raise not_found("scan")
    return scan


@router.get("/scans/{scan_id}")
def scan_page(
    request: Request,
    session: Session,
    scan_id: str,
    severity: Annotated[list[str] | None, Query()] = None,
    category: str = "",
    endpoint: str = "",
) -> Response:
    scan = _scan_of(request, session, scan_id)
    active = scan.status in ACTIVE
    report = None
    if scan.status == ScanStatus.DONE:
        report = report_of(request, session.user.id, scan_id)
    filters = Filters.parse(severity or [], category, endpoint)
    context: dict[str, Any] = {"scan": scan, "active": active, "report": report, "nav": "scans"}
    if report is not None:
        context.update(report_view(report, filters))
        if request.headers.get("HX-Target") == "findings":
            return render(request, "_findings.html.j2", session, **context)
    return render(request, "scan.html.j2", session, **context)


@router.get("/scans/{scan_id}/progress")
def scan_progress(request: Request, session: Session, scan_id: str) -> Response:
    scan = _scan_of(request, session, scan_id)
    active = scan.status in ACTIVE
    response = render(request, "_progress.html.j2", session, scan=scan, active=active)
    if not active:
        response.headers["HX-Refresh"] = "true"  # the finished page shows the report
    return response


@router.post("/scans/{scan_id}/cancel")
async def cancel_scan(request: Request, session: Session, scan_id: str) -> Response:
    scan = await run_in_threadpool(_scan_of, request, session, scan_id)
    if scan.status in ACTIVE:
        runner_of(request).cancel(scan_id)
    return see_other(f"/scans/{scan_id}")


@router.get("/scans/{scan_id}/download/{fmt}")
def download(request: Request, session: Session, scan_id: str, fmt: str) -> Response:
    if fmt not in MEDIA_TYPES:
        raise not_found("report format")
    report = report_of(request, session.user.id, scan_id)
    if report is None:
        raise not_found("report")
    writer = WRITERS[fmt]
    host = urlsplit(report.target.url).netloc
    name = _SAFE_FILENAME.sub("_", f"middlebrick-{host}-{report.finished_at:%Y%m%d-%H%M%S}")
    return Response(
        writer.render(report),
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}{writer.suffix}"'},
    )
