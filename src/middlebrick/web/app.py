"""The dashboard as one ASGI app: pages, the REST API (`/api/v1`) and badges over one store and
one job runner, behind the security headers every response carries.

`create_app(settings)` builds it; `middlebrick serve` runs it with uvicorn. The job runner starts
and stops with the app's lifespan, so a test that serves the app gets the whole dashboard."""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from middlebrick import __version__
from middlebrick.http.guard import dashboard_policy
from middlebrick.web import pages
from middlebrick.web.api import router as api_router
from middlebrick.web.auth import LoginRequired, LoginThrottle
from middlebrick.web.badge import router as badge_router
from middlebrick.web.jobs import JobRunner
from middlebrick.web.sealing import Sealer
from middlebrick.web.settings import WebSettings
from middlebrick.web.store import Store

if TYPE_CHECKING:
    from middlebrick.web.queue import CeleryRunner

__all__ = ["CSP", "create_app", "is_loopback"]

API_PREFIX = "/api/v1"
LINK_ENV = "MIDDLEBRICK_DASHBOARD_URL"  # the dashboard's public URL, for links in alerts
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
MAX_BODY = pages.MAX_SPEC_BYTES + (1 << 20)  # an uploaded description and the rest of its form
_TITLES = {400: "Bad request", 403: "Forbidden", 404: "Not found", 405: "Method not allowed"}

log = logging.getLogger("middlebrick.web")


def create_app(settings: WebSettings, *, store: Store | None = None) -> FastAPI:
    """The dashboard for `settings`. Without `store`, it opens (and migrates) the database of
    `settings.database_url` and closes it at shutdown; a given store stays the caller's."""
    owned = store is None
    if store is None:
        store = Store(settings.database_url, session_hours=settings.session_hours)
        store.migrate()
    # Reachable from this machine alone: bound to loopback and not published by a TLS proxy
    # (`secure_cookies`). Only then may it scan loopback targets and refuse other host names.
    local = is_loopback(settings.host) and not settings.secure_cookies
    policy = dashboard_policy(settings.allow, loopback=local)
    sealer = Sealer.from_env()
    runner: JobRunner | CeleryRunner
    if settings.broker_url:  # scans, schedules and alerts run on Celery workers
        from middlebrick.web.queue import CeleryRunner  # noqa: PLC0415 (Celery: the worker extra)

        runner = CeleryRunner(store, settings, sealer)
    else:
        runner = JobRunner(
            store,
            policy,
            workers=settings.workers,
            sealer=sealer,
            link_base=os.environ.get(LINK_ENV) or None,
        )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runner.start()
        try:
            yield
        finally:
            await runner.stop()
            if owned:
                store.close()

    app = FastAPI(
        title="middlebrick dashboard",
        version=__version__,
        summary="Scan HTTP APIs, keep their reports and follow their grades.",
        docs_url=None,  # Swagger UI and ReDoc load scripts from CDNs; the document is enough
        redoc_url=None,
        openapi_url=f"{API_PREFIX}/openapi.json",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.runner = runner
    app.state.policy = policy
    app.state.throttle = LoginThrottle()
    app.add_middleware(
        SecurityHeaders,
        hsts=settings.secure_cookies,
        loopback_only=local,
        max_body=MAX_BODY,
    )
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.mount("/static", StaticFiles(packages=[("middlebrick.web", "static")]), name="static")
    app.include_router(api_router, prefix=API_PREFIX)
    app.include_router(badge_router)
    app.include_router(pages.router)
    return app


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(f"{API_PREFIX}/")


async def _login_required(request: Request, _: Exception) -> Response:
    return pages.login_redirect(request)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if _is_api(request):
        return JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)
    title = _TITLES.get(exc.status_code, "Error")
    response = pages.error_page(request, exc.status_code, title, str(exc.detail))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _invalid_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if _is_api(request):
        return await request_validation_exception_handler(request, exc)
    fields = sorted({str(e["loc"][-1]) for e in exc.errors() if e.get("loc")})
    message = "Some fields are missing or not valid: " + ", ".join(fields) if fields else ""
    return pages.error_page(request, 400, "Bad request", message or "The request is not valid.")


class BodyTooLarge(Exception):
    pass


class SecurityHeaders:
    """The headers every response carries, and the last line of defence: an unexpected error
    becomes a plain 500 page (the traceback goes to the log only), an oversized body a 413, and
    a loopback-bound dashboard answers only to loopback host names (no DNS rebinding)."""

    def __init__(self, app: ASGIApp, *, hsts: bool, loopback_only: bool, max_body: int) -> None:
        self.app = app
        self.loopback_only = loopback_only
        self.max_body = max_body
        self.headers = {
            "Content-Security-Policy": CSP,
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",
            "Cross-Origin-Opener-Policy": "same-origin",
        }
        if hsts:
            self.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_headers = Headers(scope=scope)
        if self.loopback_only and not is_loopback(_hostname(request_headers.get("host", ""))):
            await self._plain(scope, receive, send, 400, "unknown host")
            return
        length = request_headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_body:
            await self._plain(scope, receive, send, 413, "the request body is too large")
            return
        static = scope["path"].startswith("/static/")
        started = False
        received = 0

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers[name] = value
                if "cache-control" not in headers:
                    # pages hold one user's data: no cache keeps them; static files revalidate
                    headers["Cache-Control"] = "no-cache" if static else "no-store"
            await send(message)

        async def receive_limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, receive_limited, send_with_headers)
        except BodyTooLarge:
            if started:
                raise
            await self._plain(
                scope, receive, send_with_headers, 413, "the request body is too large"
            )
        except Exception:
            log.exception("unexpected error answering %s %s", scope["method"], scope["path"])
            if started:
                raise
            request = Request(scope)
            response = pages.error_page(
                request, 500, "Something went wrong", "The error was logged; please try again."
            )
            await response(scope, receive, send_with_headers)

    async def _plain(
        self, scope: Scope, receive: Receive, send: Send, status: int, text: str
    ) -> None:
        response = Response(text, status, media_type="text/plain; charset=utf-8")
        response.headers.update(self.headers)
        response.headers["Cache-Control"] = "no-store"
        await response(scope, receive, send)


def _hostname(host: str) -> str:
    """The name of a Host header value, without its port."""
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host
