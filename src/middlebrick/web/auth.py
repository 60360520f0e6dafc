"""Who is asking: the session cookie for pages (with the CSRF token every unsafe request must
carry), `Authorization: Bearer mbk_…` for the REST API, and the login throttle."""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from middlebrick.web.store import TOKEN_PREFIX, Store, UserRecord

SESSION_COOKIE = "mb_session"
LOGIN_COOKIE = "mb_login"  # the login form's CSRF token, before there is a session
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginRequired(Exception):
    """A page was asked for without a valid session; the app answers with the login page."""


@dataclass(frozen=True, slots=True)
class PageSession:
    user: UserRecord
    token: str
    csrf: str


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


async def page_session(request: Request) -> AsyncIterator[PageSession]:
    """The logged-in user of a page request. Unsafe methods must also carry the session's CSRF
    token, in the form field or (htmx) the header: a cross-site form cannot know it."""
    token = request.cookies.get(SESSION_COOKIE, "")
    found = await run_in_threadpool(store_of(request).session_user, token) if token else None
    if found is None:
        raise LoginRequired
    user, csrf = found
    try:
        if request.method not in SAFE_METHODS:
            await require_token(request, csrf)
        yield PageSession(user, token, csrf)
    finally:
        await request.close()  # the form read here: an uploaded file is spooled until closed


async def require_token(request: Request, expected: str) -> None:
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else ""
    if not expected or not secrets.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(403, "the form has expired or did not come from this dashboard")


async def login_form_token(request: Request) -> AsyncIterator[None]:
    """The login form's CSRF check (a double-submit cookie): without it, another site could log
    the browser into an account of its choosing."""
    try:
        await require_token(request, request.cookies.get(LOGIN_COOKIE, ""))
        yield
    finally:
        await request.close()


Session = Annotated[PageSession, Depends(page_session)]

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="An API token from the dashboard's API tokens page: `Authorization: Bearer mbk_…`",
)


def api_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> UserRecord:
    """The owner of the API token the request carries; 401 without a valid one. The session
    cookie is not accepted here: the API has no CSRF token, so a cookie must not unlock it."""
    token = credentials.credentials if credentials is not None else ""
    user = store_of(request).token_user(token) if token.startswith(TOKEN_PREFIX) else None
    if user is None:
        raise HTTPException(
            401,
            "a valid API token is required: Authorization: Bearer mbk_…",
            headers={"WWW-Authenticate": 'Bearer realm="middlebrick"'},
        )
    return user


ApiUser = Annotated[UserRecord, Depends(api_user)]


class LoginThrottle:
    """Failed logins per (username, client address): after `limit` failures within `window`
    seconds, further attempts are refused until the oldest failure ages out. In memory: a
    restart forgets, which is acceptable for a throttle whose job is to slow guessing down."""

    def __init__(self, limit: int = 5, window: float = 900.0, max_keys: int = 10_000) -> None:
        self.limit, self.window, self.max_keys = limit, window, max_keys
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, username: str, address: str) -> int:
        """Seconds until another attempt is allowed; 0 when it is allowed now."""
        now = time.monotonic()
        with self._lock:
            failures = self._recent(self._key(username, address), now)
            if len(failures) < self.limit:
                return 0
            return max(1, int(failures[0] + self.window - now + 0.5))

    def failed(self, username: str, address: str) -> None:
        now = time.monotonic()
        with self._lock:
            key = self._key(username, address)
            if key not in self._failures and len(self._failures) >= self.max_keys:
                self._forget_stale(now)
                if len(self._failures) >= self.max_keys:  # still full: drop the oldest key
                    del self._failures[next(iter(self._failures))]
            self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, username: str, address: str) -> None:
        with self._lock:
            self._failures.pop(self._key(username, address), None)

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        failures = self._failures.get(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def _forget_stale(self, now: float) -> None:
        for key in [k for k, v in self._failures.items() if not v or v[-1] <= now - self.window]:
            del self._failures[key]

    @staticmethod
    def _key(username: str, address: str) -> tuple[str, str]:
        return username.strip().lower(), address
