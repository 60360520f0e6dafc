"""Logging in and out: the login form (with its own CSRF token, before there is a session), the
throttle, a new session id at every login, and where a request without a session is sent."""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from middlebrick.web.auth import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    LoginThrottle,
    Session,
    login_form_token,
    store_of,
)
from middlebrick.web.pages.base import render, see_other

router = APIRouter(include_in_schema=False)


def safe_next(value: str) -> str:
    """Where to go after logging in: a path on this site, never another origin."""
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    parts = urlsplit(value)
    return "/" if parts.scheme or parts.netloc else value


def _login_page(
    request: Request, token: str, *, next_url: str, username: str = "", error: str | None = None
) -> HTMLResponse:
    response = render(
        request,
        "login.html.j2",
        None,
        login_token=token,
        next=safe_next(next_url),
        username=username,
        error=error,
    )
    set_cookie(request, response, LOGIN_COOKIE, token, path="/login", samesite="strict")
    return response


def set_cookie(
    request: Request,
    response: Response,
    name: str,
    value: str,
    *,
    path: str = "/",
    samesite: str = "lax",
    max_age: int | None = None,
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        secure=request.app.state.settings.secure_cookies,
        httponly=True,
        samesite=samesite,  # type: ignore[arg-type]
    )


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    token = request.cookies.get(SESSION_COOKIE, "")
    if token and store_of(request).session_user(token) is not None:
        return see_other(safe_next(next))
    return _login_page(request, secrets.token_urlsafe(32), next_url=next)


@router.post("/login", dependencies=[Depends(login_form_token)])
def login(
    request: Request,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form(max_length=2048)] = "/",
) -> Response:
    throttle: LoginThrottle = request.app.state.throttle
    address = request.client.host if request.client else ""
    store = store_of(request)
    form_token = request.cookies.get(LOGIN_COOKIE, "")
    wait = throttle.retry_after(username, address)
    if wait:
        refused = _login_page(
            request,
            form_token,
            next_url=next,
            username=username,
            error=f"Too many failed attempts: try again in {max(1, round(wait / 60))} min.",
        )
        refused.status_code = 429
        refused.headers["Retry-After"] = str(wait)
        return refused
    user = store.authenticate(username, password)
    if user is None:
        throttle.failed(username, address)
        return _login_page(
            request,
            form_token,
            next_url=next,
            username=username,
            error="Wrong username or password.",
        )
    throttle.succeeded(username, address)
    if old := request.cookies.get(SESSION_COOKIE):
        store.delete_session(old)  # a new session id at every login: no session fixation
    token, _ = store.create_session(user.id)
    response = see_other(safe_next(next))
    hours = request.app.state.settings.session_hours
    set_cookie(request, response, SESSION_COOKIE, token, max_age=int(hours * 3600))
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, session: Session) -> Response:
    store_of(request).delete_session(session.token)
    response = see_other("/login")
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        secure=request.app.state.settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )
    return response


def login_redirect(request: Request) -> Response:
    """Where a request without a valid session goes: the login page, then back here."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = "/login" if request.method != "GET" else f"/login?next={quote(target, safe='/')}"
    if request.headers.get("HX-Request"):
        return Response(status_code=204, headers={"HX-Redirect": location})
    return see_other(location)
