"""The dashboard's REST API, mounted at `/api/v1`: start scans and follow them, fetch their
reports in every format, list targets, keep reports pushed by `middlebrick scan --upload`,
manage schedules and webhooks, read the delivery log and queue fleet files.

Every route needs an API token (`Authorization: Bearer mbk_…`), and a user sees only their own
scans and targets: anyone else's id answers 404, as an id that does not exist. Errors are RFC 9457
problem documents (`application/problem+json`) that quote neither a credential nor a traceback.
Credentials given for a scan go to the job runner's memory for that one scan: never stored, never
echoed. A schedule's credentials and a webhook's secret are kept sealed, and never sent back.

    routes      scans, reports, targets, pushed reports
    monitoring  schedules, webhooks, the delivery log, fleet files
    models      request and response bodies
    problems    problem documents, the route class that makes them, the body cap
"""

from fastapi import APIRouter

from middlebrick.web.api import monitoring, routes
from middlebrick.web.api.models import (
    ReportFormat,
    ScanCredentials,
    ScanOut,
    ScanRequest,
    TargetOut,
)
from middlebrick.web.api.problems import (
    MAX_BODY_BYTES,
    PROBLEM_MEDIA_TYPE,
    Problem,
    ProblemRoute,
    problem_response,
)

__all__ = [
    "MAX_BODY_BYTES",
    "PROBLEM_MEDIA_TYPE",
    "Problem",
    "ProblemRoute",
    "ReportFormat",
    "ScanCredentials",
    "ScanOut",
    "ScanRequest",
    "TargetOut",
    "problem_response",
    "router",
]

router = APIRouter()
router.include_router(routes.router)
router.include_router(monitoring.router)
