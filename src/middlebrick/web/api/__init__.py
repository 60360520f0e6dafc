"""The dashboard's REST API, mounted at `/api/v1`: start scans and follow them, fetch their
reports in every format, list targets, and keep reports pushed by `middlebrick scan --upload`.

Every route needs an API token (`Authorization: Bearer mbk_…`), and a user sees only their own
scans and targets: anyone else's id answers 404, as an id that does not exist. Errors are RFC 9457
problem documents (`application/problem+json`) that quote neither a credential nor a traceback.
Credentials given for a scan go to the job runner's memory for that one scan: never stored, never
echoed.

    routes    the router and its endpoints
    models    request and response bodies
    problems  problem documents, the route class that makes them, the body cap
"""

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
from middlebrick.web.api.routes import router

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
