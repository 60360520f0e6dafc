"""A correct API in Starlette: HTTPS only (HTTP answers with a 301), HSTS, Basic auth on every data
route, no-store on authenticated answers, nosniff, JSON typed as JSON, no CORS, no version banner.
A scan of it must report nothing above low."""

from __future__ import annotations

import base64
import secrets

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

USER, PASSWORD = "carol", "a-long-random-passphrase-42"


def _authorised(request: Request) -> bool:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        user, _, password = base64.b64decode(token).decode().partition(":")
    except ValueError:
        return False
    return secrets.compare_digest(user, USER) and secrets.compare_digest(password, PASSWORD)


class Hardening(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        response.headers["X-Content-Type-Options"] = "nosniff"
        if "authorization" in request.headers or response.status_code == 401:
            response.headers["Cache-Control"] = "no-store"
        return response


def _challenge() -> JSONResponse:
    return JSONResponse(
        {"type": "about:blank", "title": "Unauthorized", "status": 401},
        status_code=401,
        headers={"WWW-Authenticate": 'Basic realm="orders"'},
        media_type="application/problem+json",
    )


async def index(request: Request) -> JSONResponse:
    return JSONResponse({"service": "orders", "links": {"orders": "/orders", "me": "/me"}})


async def orders(request: Request) -> JSONResponse:
    if not _authorised(request):
        return _challenge()
    return JSONResponse([{"id": 1, "total": 12.5}, {"id": 2, "total": 3.0}])


async def me(request: Request) -> JSONResponse:
    if not _authorised(request):
        return _challenge()
    return JSONResponse({"user": USER})


def clean_api() -> Starlette:
    return Starlette(
        routes=[Route("/", index), Route("/orders", orders), Route("/me", me)],
        middleware=[Middleware(Hardening)],
    )


def https_redirector(https_port: int) -> Starlette:
    async def upgrade(request: Request) -> RedirectResponse:
        url = request.url.replace(scheme="https", port=https_port)
        return RedirectResponse(str(url), status_code=301)

    return Starlette(routes=[Route("/{path:path}", upgrade)])
