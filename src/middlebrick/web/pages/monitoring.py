"""Monitoring pages: schedules (scan a target again and again), webhooks (hear when it gets
worse) and the delivery log. The actions that create schedules and webhooks (admit the URL, seal
what must stay secret, store) are shared with the REST API (`api/monitoring.py`).

A schedule's credentials and a webhook's signing secret are sealed with MIDDLEBRICK_SECRET_KEY
(`sealing.py`) before they reach the store; without the key nothing is stored and the form says
so. A webhook's secret is made here and shown once, in the answer to its creation."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from middlebrick.checks import BY_ID
from middlebrick.errors import ConfigError, MiddlebrickError
from middlebrick.model import Severity
from middlebrick.web.auth import PageSession, Session, store_of
from middlebrick.web.jobs import Credentials
from middlebrick.web.pages.base import SEVERITIES, not_found, render, runner_of, see_other
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
from middlebrick.web.sealing import ENV_VAR, Sealer, required
from middlebrick.web.store import KINDS, ScheduleRecord, WebhookRecord

MAX_INTERVAL = 366 * 24 * 3600  # seconds: a schedule runs at least once a year
MAX_URL = 2048
SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of the secrets made below
DELIVERIES_SHOWN = 100
POLL = "every 2s"
_SQLITE_MAX_INT = (1 << 63) - 1

router = APIRouter(include_in_schema=False)
ObjectId = Annotated[int, Path(ge=1, le=_SQLITE_MAX_INT)]


# --- the actions, shared with the API ---------------------------------------------------------
def sealer_of(request: Request) -> Sealer | None:
    """The runner's sealer: the one that will open what is sealed here."""
    return runner_of(request).sealer


async def add_schedule(
    request: Request,
    user_id: int,
    target: str,
    settings: dict[str, Any],
    *,
    cron: str | None,
    interval_seconds: int | None,
    credentials: Credentials | None,
) -> ScheduleRecord:
    """A schedule of scans of `target` (normalised), admitted by the target policy now as each
    of its scans will be again; its credentials sealed, or a `ConfigError` without the key."""
    sealer = required(sealer_of(request), "a schedule with credentials") if credentials else None
    if interval_seconds is not None and interval_seconds > MAX_INTERVAL:
        raise ConfigError("the interval must be at most a year")
    policy = request.app.state.policy
    await policy.admit(target, what="target")
    if spec_url := settings.get("spec_url") or settings.get("spec"):
        await policy.admit(spec_url, what="spec")
    sealed = sealer.seal(credentials.to_secret()) if sealer and credentials else None
    return await run_in_threadpool(
        store_of(request).create_schedule,
        user_id,
        target,
        settings,
        cron=cron,
        interval_seconds=interval_seconds,
        sealed_credentials=sealed,
    )


async def add_webhook(
    request: Request,
    user_id: int,
    url: str,
    *,
    target_id: int | None,
    kinds: tuple[str, ...],
    min_severity: str,
    slack: bool,
) -> tuple[WebhookRecord, str]:
    """A webhook and its signing secret, made here; the secret is stored sealed only and the
    caller shows it once."""
    sealer = required(sealer_of(request), "a webhook (its signing secret is kept sealed)")
    url = webhook_url(url)
    await request.app.state.policy.admit(url, what="webhook")
    secret = SECRET_PREFIX + secrets.token_urlsafe(24)
    hook = await run_in_threadpool(
        store_of(request).create_webhook,
        user_id,
        url,
        sealer.seal({"secret": secret}),
        target_id=target_id,
        kinds=kinds,
        min_severity=min_severity,
        slack=slack,
    )
    return hook, secret


def webhook_url(value: str) -> str:
    """A webhook URL as it will be called: http(s), a host, no user name or password, no
    fragment. Its path and query stay (a Slack URL's path is its key)."""
    value = value.strip()
    if len(value) > MAX_URL:
        raise ConfigError(f"the webhook URL is longer than {MAX_URL} characters")
    try:
        parts = urlsplit(value)
        hostname = parts.hostname
    except ValueError:
        raise ConfigError("the webhook URL is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not hostname:
        raise ConfigError("a webhook URL starts with https:// (or http://) and names a host")
    if parts.username or parts.password:
        raise ConfigError("a webhook URL may not carry a user name or password")
    return parts._replace(fragment="").geturl()


# --- schedules --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ScheduleForm:
    """What the schedule form shows again after an error: never a credential."""

    scan: ScanForm = field(default_factory=ScanForm)
    cron: str = ""
    interval: str = ""


def _timing(form: FormData) -> tuple[str | None, int | None]:
    cron, interval = text_of(form, "cron"), text_of(form, "interval")
    if bool(cron) == bool(interval):
        raise ConfigError("give a cron expression or an interval in minutes (one of them)")
    if cron:
        return " ".join(cron.split()), None
    if not interval.isdigit() or int(interval) < 1:
        raise ConfigError("the interval is a whole number of minutes, at least 1")
    return None, int(interval) * 60


def _schedules_page(
    request: Request,
    session: PageSession,
    form: ScheduleForm | None = None,
    error: str | None = None,
) -> HTMLResponse:
    return render(
        request,
        "schedules.html.j2",
        session,
        status=400 if error else 200,
        schedules=store_of(request).list_schedules(session.user.id),
        form=form or ScheduleForm(),
        error=error,
        has_key=sealer_of(request) is not None,
        key_var=ENV_VAR,
        check_groups=check_groups(),
        check_count=len(BY_ID),
        limits={"min_budget": MIN_BUDGET, "max_budget": MAX_BUDGET, "max_rate": MAX_RATE},
        nav="schedules",
    )


@router.get("/schedules")
def schedules(request: Request, session: Session) -> Response:
    return _schedules_page(request, session)


@router.post("/schedules")
async def create_schedule(request: Request, session: Session) -> Response:
    form = await request.form()
    shown = ScheduleForm(
        ScanForm(
            target=shown_url(text_of(form, "target")),
            spec_url=shown_url(text_of(form, "spec_url")),
            budget=text_of(form, "budget"),
            rate=text_of(form, "rate"),
            checks=frozenset(v for v in form.getlist("checks") if isinstance(v, str)),
        ),
        cron=text_of(form, "cron")[:100],
        interval=text_of(form, "interval")[:20],
    )
    try:
        submission = await parse_submission(form)
        if submission.spec_text is not None:
            raise ConfigError("a schedule takes its API description by URL, not as a file")
        cron, interval = _timing(form)
        await add_schedule(
            request,
            session.user.id,
            submission.target,
            submission.settings,
            cron=cron,
            interval_seconds=interval,
            credentials=submission.credentials,
        )
    except MiddlebrickError as exc:
        page = _schedules_page
        return await run_in_threadpool(page, request, session, shown, " ".join(str(exc).split()))
    return see_other("/schedules")


def _set_enabled(request: Request, session: PageSession, schedule_id: int, on: bool) -> Response:
    if not store_of(request).set_schedule_enabled(session.user.id, schedule_id, on):
        raise not_found("schedule")
    return see_other("/schedules")


@router.post("/schedules/{schedule_id}/enable")
def enable_schedule(request: Request, session: Session, schedule_id: ObjectId) -> Response:
    return _set_enabled(request, session, schedule_id, True)


@router.post("/schedules/{schedule_id}/disable")
def disable_schedule(request: Request, session: Session, schedule_id: ObjectId) -> Response:
    return _set_enabled(request, session, schedule_id, False)


@router.post("/schedules/{schedule_id}/delete")
def delete_schedule(request: Request, session: Session, schedule_id: ObjectId) -> Response:
    if not store_of(request).delete_schedule(session.user.id, schedule_id):
        raise not_found("schedule")
    return see_other("/schedules")


# --- webhooks ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class WebhookForm:
    """What the webhook form shows again after an error."""

    url: str = ""
    target_id: str = ""
    kinds: frozenset[str] = frozenset(KINDS)
    min_severity: str = Severity.HIGH.value
    slack: bool = False


def _webhooks_page(
    request: Request,
    session: PageSession,
    *,
    form: WebhookForm | None = None,
    error: str | None = None,
    created: tuple[WebhookRecord, str] | None = None,
) -> HTMLResponse:
    store = store_of(request)
    targets = store.list_targets(session.user.id)
    return render(
        request,
        "webhooks.html.j2",
        session,
        status=400 if error else (201 if created else 200),
        webhooks=store.list_webhooks(session.user.id),
        target_urls={t.id: t.url for t in targets},
        targets=targets,
        form=form or WebhookForm(),
        error=error,
        created=created,
        has_key=sealer_of(request) is not None,
        key_var=ENV_VAR,
        kinds=KINDS,
        severity_names=[s.value for s in SEVERITIES],
        nav="webhooks",
    )


@router.get("/webhooks")
def webhooks(request: Request, session: Session) -> Response:
    return _webhooks_page(request, session)


@router.post("/webhooks")
async def create_webhook(request: Request, session: Session) -> Response:
    form = await request.form()
    shown = WebhookForm(
        url=shown_url(text_of(form, "url"))[:MAX_URL],
        target_id=text_of(form, "target_id")[:20],
        kinds=frozenset(v for v in form.getlist("events") if isinstance(v, str)),
        min_severity=text_of(form, "min_severity")[:20],
        slack=bool(text_of(form, "slack")),
    )
    try:
        if shown.target_id and not shown.target_id.isdigit():
            raise ConfigError("no such target")
        created = await add_webhook(
            request,
            session.user.id,
            text_of(form, "url"),
            target_id=int(shown.target_id) if shown.target_id else None,
            kinds=tuple(k for k in KINDS if k in shown.kinds),
            min_severity=shown.min_severity or Severity.HIGH.value,
            slack=shown.slack,
        )
    except MiddlebrickError as exc:
        error = " ".join(str(exc).split())
        return await run_in_threadpool(
            lambda: _webhooks_page(request, session, form=shown, error=error)
        )
    return await run_in_threadpool(lambda: _webhooks_page(request, session, created=created))


@router.post("/webhooks/{webhook_id}/delete")
def delete_webhook(request: Request, session: Session, webhook_id: ObjectId) -> Response:
    if not store_of(request).delete_webhook(session.user.id, webhook_id):
        raise not_found("webhook")
    return see_other("/webhooks")


# --- the delivery log -------------------------------------------------------------------------
@router.get("/deliveries")
def deliveries(request: Request, session: Session) -> Response:
    shown = store_of(request).list_deliveries(session.user.id, DELIVERIES_SHOWN)
    context: dict[str, Any] = {
        "deliveries": shown,
        "pending": any(d.status == "pending" for d in shown),
        "poll": POLL,
        "nav": "deliveries",
    }
    template = "_deliveries.html.j2" if request.headers.get("HX-Request") else "deliveries.html.j2"
    return render(request, template, session, **context)
