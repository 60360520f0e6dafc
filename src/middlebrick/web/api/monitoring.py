"""The REST API's monitoring and fleet routes (`/api/v1/...`): schedules, webhooks, the delivery
log, and fleet files queued as scans. They act through the same functions as the pages
(`pages/monitoring.py`, `pages/fleet.py`), so the target policy, the sealing of secrets and the
refusals of a fleet upload are the same at both doors.

A webhook's signing secret is in the answer to its creation and nowhere else, ever; a schedule's
credentials are never sent back (its settings name their kinds)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from starlette.exceptions import HTTPException

from middlebrick.checks import ALL
from middlebrick.model import Severity
from middlebrick.web.api.models import (
    DEFAULT_BUDGET,
    MAX_BUDGET,
    MAX_RATE,
    MIN_BUDGET,
    ScanCredentials,
    ScanOut,
    known_checks,
)
from middlebrick.web.api.problems import ProblemRoute, problems
from middlebrick.web.api.routes import _scan_out
from middlebrick.web.auth import ApiUser, store_of
from middlebrick.web.pages.fleet import MAX_FLEET_BYTES, MAX_FLEET_TARGETS, queue_fleet
from middlebrick.web.pages.monitoring import (
    MAX_INTERVAL,
    MAX_URL,
    add_schedule,
    add_webhook,
)
from middlebrick.web.store import (
    KINDS,
    DeliveryRecord,
    ScanSettings,
    ScheduleRecord,
    Store,
    WebhookRecord,
)
from middlebrick.web.store.monitoring import MIN_INTERVAL
from middlebrick.web.targets import target_url

_SQLITE_MAX_INT = (1 << 63) - 1

router = APIRouter(route_class=ProblemRoute, tags=["monitoring"])

Event = Literal["grade_drop", "new_finding", "scan_failed"]
ObjectId = Annotated[int, Path(ge=1, le=_SQLITE_MAX_INT)]


# --- bodies -----------------------------------------------------------------------------------
class ScheduleRequest(BaseModel):
    """A target to scan again and again: on a cron expression (UTC) or every `interval_seconds`,
    one of the two. Credentials are sealed with the dashboard's key (without it they are
    refused) and used by every run; they are never sent back."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    target: str = Field(max_length=2048, examples=["https://api.example.com/v1"])
    cron: str | None = Field(
        default=None,
        max_length=100,
        description="Five fields, UTC: minute hour day month weekday.",
        examples=["0 3 * * *"],
    )
    interval_seconds: int | None = Field(default=None, ge=MIN_INTERVAL, le=MAX_INTERVAL)
    spec_url: str | None = Field(default=None, max_length=2048)
    budget: float = Field(
        default=DEFAULT_BUDGET, ge=MIN_BUDGET, le=MAX_BUDGET, description="Seconds per scan."
    )
    rate: float | None = Field(default=None, gt=0, le=MAX_RATE)
    checks: list[str] = Field(
        default_factory=list, max_length=len(ALL), description="Only these check ids; empty: all."
    )
    credentials: ScanCredentials | None = None

    @field_validator("checks")
    @classmethod
    def _known_checks(cls, value: list[str]) -> list[str]:
        return known_checks(value)

    @model_validator(mode="after")
    def _one_timing(self) -> ScheduleRequest:
        if (self.cron is None) == (self.interval_seconds is None):
            raise ValueError("give cron or interval_seconds, one of them")
        return self


class ScheduleOut(BaseModel):
    id: int
    target_id: int
    target_url: str
    cron: str | None
    interval_seconds: int | None
    settings: ScanSettings = Field(description="Public settings; credentials by kind only.")
    enabled: bool
    next_run_at: datetime = Field(description="UTC.")
    last_scan_id: str | None
    created_at: datetime
    url: str


class WebhookRequest(BaseModel):
    """Where to send alerts. The URL passes the dashboard's target policy."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=MAX_URL, examples=["https://hooks.example.com/middlebrick"])
    target_id: int | None = Field(
        default=None, ge=1, le=_SQLITE_MAX_INT, description="One target; none: every target."
    )
    events: list[Event] = Field(
        default_factory=lambda: list(KINDS),  # type: ignore[arg-type]
        min_length=1,
        max_length=3,
    )
    min_severity: Severity = Field(
        default=Severity.HIGH, description="`new_finding` alerts on findings from this severity."
    )
    slack: bool = Field(default=False, description='A Slack-compatible `{"text": ...}` body.')


class WebhookOut(BaseModel):
    id: int
    url: str
    target_id: int | None = Field(description="None: every target.")
    events: list[Event]
    min_severity: Severity
    slack: bool
    enabled: bool
    created_at: datetime
    link: str = Field(description="This webhook in the API.")


class WebhookCreated(WebhookOut):
    secret: str = Field(
        description="The signing secret (`whsec_…`): in this answer only, never again."
    )


class DeliveryOut(BaseModel):
    id: str = Field(description="Sent as `X-Middlebrick-Delivery`.")
    webhook_id: int
    webhook_url: str
    scan_id: str | None
    event: Event
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    http_status: int | None = Field(description="Of the last attempt.")
    error: str | None
    log: list[str] = Field(description="One line per attempt.")
    created_at: datetime
    updated_at: datetime


class FleetRequest(BaseModel):
    """A fleet file, as `middlebrick scan-many` reads it, without credential variables
    (`auth_env`, `bearer_env`, `headers_env`), spec files or `unsafe`."""

    model_config = ConfigDict(extra="forbid")

    fleet: str = Field(
        min_length=1,
        max_length=MAX_FLEET_BYTES,
        description=f"The YAML text; at most {MAX_FLEET_TARGETS} targets.",
        examples=["targets:\n  - target: https://orders.example.com\n"],
    )


class FleetScan(BaseModel):
    name: str = Field(description="The target's `name`, or one made of its host.")
    scan: ScanOut


class FleetOut(BaseModel):
    scans: list[FleetScan]


# --- answers ----------------------------------------------------------------------------------
def _schedule_out(request: Request, s: ScheduleRecord) -> ScheduleOut:
    return ScheduleOut(
        id=s.id,
        target_id=s.target_id,
        target_url=s.target_url,
        cron=s.cron,
        interval_seconds=s.interval_seconds,
        settings=ScanSettings.model_validate(s.settings),
        enabled=s.enabled,
        next_run_at=s.next_run_at,
        last_scan_id=s.last_scan_id,
        created_at=s.created_at,
        url=str(request.url_for("get_schedule", schedule_id=s.id)),
    )


def _webhook_fields(request: Request, h: WebhookRecord) -> dict[str, object]:
    return {
        "id": h.id,
        "url": h.url,
        "target_id": h.target_id,
        "events": list(h.kinds),
        "min_severity": Severity(h.min_severity),
        "slack": h.slack,
        "enabled": h.enabled,
        "created_at": h.created_at,
        "link": str(request.url_for("get_webhook", webhook_id=h.id)),
    }


def _delivery_out(d: DeliveryRecord) -> DeliveryOut:
    return DeliveryOut.model_validate(
        {
            "id": d.id,
            "webhook_id": d.webhook_id,
            "webhook_url": d.webhook_url,
            "scan_id": d.scan_id,
            "event": d.event,
            "status": d.status,
            "attempts": d.attempts,
            "http_status": d.http_status,
            "error": d.error,
            "log": list(d.log),
            "created_at": d.created_at,
            "updated_at": d.updated_at,
        }
    )


def _not_found(what: str) -> HTTPException:
    return HTTPException(404, f"there is no such {what}, or it is not yours")


def _schedule_of(store: Store, user_id: int, schedule_id: int) -> ScheduleRecord:
    found = next((s for s in store.list_schedules(user_id) if s.id == schedule_id), None)
    if found is None:
        raise _not_found("schedule")
    return found


def _webhook_of(store: Store, user_id: int, webhook_id: int) -> WebhookRecord:
    found = next((h for h in store.list_webhooks(user_id) if h.id == webhook_id), None)
    if found is None:
        raise _not_found("webhook")
    return found


# --- schedules --------------------------------------------------------------------------------
@router.get(
    "/schedules", name="list_schedules", summary="The caller's schedules", responses=problems()
)
def list_schedules(request: Request, user: ApiUser) -> list[ScheduleOut]:
    return [_schedule_out(request, s) for s in store_of(request).list_schedules(user.id)]


@router.post(
    "/schedules",
    status_code=201,
    name="create_schedule",
    summary="Scan a target on a schedule",
    responses=problems(413, 422),
)
async def create_schedule(
    request: Request, response: Response, user: ApiUser, body: ScheduleRequest
) -> ScheduleOut:
    """The target (and spec URL) must pass the target policy; credentials need
    `MIDDLEBRICK_SECRET_KEY` on the dashboard (422 without it, and nothing is stored)."""
    target = target_url(body.target, "target")
    spec_url = target_url(body.spec_url, "spec_url") if body.spec_url is not None else None
    credentials = body.credentials.for_runner() if body.credentials else None
    settings = {
        "spec": spec_url,
        "spec_url": spec_url,
        "budget": body.budget,
        "rate": body.rate,
        "checks": body.checks,
        "credentials": credentials.kinds() if credentials else [],
    }
    schedule = await add_schedule(
        request,
        user.id,
        target,
        settings,
        cron=" ".join(body.cron.split()) if body.cron is not None else None,
        interval_seconds=body.interval_seconds,
        credentials=credentials,
    )
    out = _schedule_out(request, schedule)
    response.headers["Location"] = out.url
    return out


@router.get(
    "/schedules/{schedule_id}",
    name="get_schedule",
    summary="A schedule",
    responses=problems(404, 422),
)
def get_schedule(request: Request, user: ApiUser, schedule_id: ObjectId) -> ScheduleOut:
    return _schedule_out(request, _schedule_of(store_of(request), user.id, schedule_id))


def _set_enabled(request: Request, user_id: int, schedule_id: int, on: bool) -> ScheduleOut:
    store = store_of(request)
    if not store.set_schedule_enabled(user_id, schedule_id, on):
        raise _not_found("schedule")
    return _schedule_out(request, _schedule_of(store, user_id, schedule_id))


@router.post(
    "/schedules/{schedule_id}/enable",
    name="enable_schedule",
    summary="Run a schedule again",
    responses=problems(404, 422),
)
def enable_schedule(request: Request, user: ApiUser, schedule_id: ObjectId) -> ScheduleOut:
    return _set_enabled(request, user.id, schedule_id, True)


@router.post(
    "/schedules/{schedule_id}/disable",
    name="disable_schedule",
    summary="Pause a schedule",
    responses=problems(404, 422),
)
def disable_schedule(request: Request, user: ApiUser, schedule_id: ObjectId) -> ScheduleOut:
    return _set_enabled(request, user.id, schedule_id, False)


@router.delete(
    "/schedules/{schedule_id}",
    status_code=204,
    name="delete_schedule",
    summary="Delete a schedule (its scans stay)",
    response_class=Response,
    responses=problems(404, 422),
)
def delete_schedule(request: Request, user: ApiUser, schedule_id: ObjectId) -> Response:
    if not store_of(request).delete_schedule(user.id, schedule_id):
        raise _not_found("schedule")
    return Response(status_code=204)


# --- webhooks ---------------------------------------------------------------------------------
@router.get(
    "/webhooks", name="list_webhooks", summary="The caller's webhooks", responses=problems()
)
def list_webhooks(request: Request, user: ApiUser) -> list[WebhookOut]:
    hooks = store_of(request).list_webhooks(user.id)
    return [WebhookOut.model_validate(_webhook_fields(request, h)) for h in hooks]


@router.post(
    "/webhooks",
    status_code=201,
    name="create_webhook",
    summary="Send alerts to a URL",
    responses=problems(413, 422),
)
async def create_webhook(
    request: Request, response: Response, user: ApiUser, body: WebhookRequest
) -> WebhookCreated:
    """The answer carries the signing secret, once: keep it, it is never shown again. Needs
    `MIDDLEBRICK_SECRET_KEY` on the dashboard (422 without it)."""
    chosen = set(body.events)
    hook, secret = await add_webhook(
        request,
        user.id,
        body.url,
        target_id=body.target_id,
        kinds=tuple(k for k in KINDS if k in chosen),
        min_severity=body.min_severity.value,
        slack=body.slack,
    )
    out = WebhookCreated.model_validate({**_webhook_fields(request, hook), "secret": secret})
    response.headers["Location"] = out.link
    return out


@router.get(
    "/webhooks/{webhook_id}",
    name="get_webhook",
    summary="A webhook (without its secret)",
    responses=problems(404, 422),
)
def get_webhook(request: Request, user: ApiUser, webhook_id: ObjectId) -> WebhookOut:
    hook = _webhook_of(store_of(request), user.id, webhook_id)
    return WebhookOut.model_validate(_webhook_fields(request, hook))


@router.delete(
    "/webhooks/{webhook_id}",
    status_code=204,
    name="delete_webhook",
    summary="Delete a webhook",
    response_class=Response,
    responses=problems(404, 422),
)
def delete_webhook(request: Request, user: ApiUser, webhook_id: ObjectId) -> Response:
    if not store_of(request).delete_webhook(user.id, webhook_id):
        raise _not_found("webhook")
    return Response(status_code=204)


@router.get(
    "/deliveries",
    name="list_deliveries",
    summary="The delivery log, newest first",
    responses=problems(422),
)
def list_deliveries(
    request: Request,
    user: ApiUser,
    limit: Annotated[int, Query(ge=1, le=200, description="At most this many.")] = 50,
) -> list[DeliveryOut]:
    return [_delivery_out(d) for d in store_of(request).list_deliveries(user.id, limit)]


# --- fleets -----------------------------------------------------------------------------------
@router.post(
    "/fleet",
    status_code=202,
    name="queue_fleet",
    summary="Queue a scan per target of a fleet file",
    responses=problems(413, 422),
)
async def create_fleet(request: Request, user: ApiUser, body: FleetRequest) -> FleetOut:
    """The whole file is checked and every URL admitted before anything is queued: one refusal
    (422, naming the place in the file) and no scan is made."""
    queued = await queue_fleet(request, user.id, body.fleet)
    return FleetOut(
        scans=[FleetScan(name=p.name, scan=_scan_out(request, scan)) for p, scan in queued]
    )
