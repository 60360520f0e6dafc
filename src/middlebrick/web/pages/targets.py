"""Targets: the list with each one's latest grade, a target's trend and scans, and the comparison
of two of its scans (new, fixed and unchanged findings, by `triage.compare`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from middlebrick.model import BaselineState
from middlebrick.triage import compare
from middlebrick.web.auth import Session, store_of
from middlebrick.web.pages.base import not_found, render, report_of
from middlebrick.web.pages.views import trend_chart
from middlebrick.web.store import ScanStatus

router = APIRouter(include_in_schema=False)


@router.get("/targets")
def targets(request: Request, session: Session) -> Response:
    listed = store_of(request).list_targets(session.user.id)
    return render(request, "targets.html.j2", session, targets=listed, nav="targets")


@router.get("/targets/{target_id}")
def target_page(request: Request, session: Session, target_id: int) -> Response:
    store = store_of(request)
    target = store.get_target(session.user.id, target_id)
    if target is None:
        raise not_found("target")
    scans = store.list_scans(session.user.id, target_id=target_id, limit=100)
    base_url = str(request.base_url).rstrip("/")
    return render(
        request,
        "target.html.j2",
        session,
        target=target,
        scans=scans,
        done_scans=[s for s in scans if s.status == ScanStatus.DONE and s.finished_at],
        trend=trend_chart(store.trend(session.user.id, target_id)),
        badge_url=f"{base_url}/badge/{target.badge_key}.svg",
        nav="targets",
    )


@router.get("/targets/{target_id}/compare")
def compare_scans(
    request: Request, session: Session, target_id: int, base: str, head: str
) -> Response:
    store = store_of(request)
    target = store.get_target(session.user.id, target_id)
    if target is None:
        raise not_found("target")
    scans, reports = [], []
    for scan_id in (base, head):
        scan = store.get_scan(session.user.id, scan_id)
        report = report_of(request, session.user.id, scan_id) if scan else None
        if scan is None or scan.target_id != target_id or report is None:
            raise not_found("finished scan of this target")
        scans.append(scan)
        reports.append(report)
    compared = compare(reports[1], reports[0])
    return render(
        request,
        "compare.html.j2",
        session,
        target=target,
        base=scans[0],
        head=scans[1],
        new=[f for f in compared.findings if f.baseline_state == BaselineState.NEW],
        unchanged=[f for f in compared.findings if f.baseline_state == BaselineState.UNCHANGED],
        fixed=compared.fixed,
        nav="targets",
    )
