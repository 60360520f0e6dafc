"""The dashboard's HTML pages: login, scans (new, live progress, report, downloads), targets
(trend, comparison), fleet uploads, monitoring (schedules, webhooks, deliveries) and API tokens.

Rendered on the server by Jinja2 with autoescaping; htmx only polls what is still running (a
scan's progress, a fleet's scans, pending deliveries) and swaps the filtered findings, and every
page also works without JavaScript. Every route below needs a
session (`auth.Session`), whose dependency also checks the CSRF token of unsafe requests, except
the login form, which has its own.

    base       rendering, the error page
    login      login, logout, the redirect to the login page
    scans      the scan list, new scan, progress, report, cancel, downloads (scan_form: its form)
    targets    targets, trend, comparison (views: filter, bars and trend geometry)
    fleet      fleet uploads (a `scan-many` file queued as scans) and their summary
    monitoring schedules, webhooks (secret shown once), the delivery log
    tokens     API tokens
"""

from __future__ import annotations

from fastapi import APIRouter

from middlebrick.web.pages import fleet, login, monitoring, scans, targets, tokens
from middlebrick.web.pages.base import error_page
from middlebrick.web.pages.login import login_redirect
from middlebrick.web.pages.scan_form import MAX_SPEC_BYTES

__all__ = ["MAX_SPEC_BYTES", "error_page", "login_redirect", "router"]

router = APIRouter(include_in_schema=False)
for part in (login, scans, targets, fleet, monitoring, tokens):
    router.routes.extend(part.router.routes)
