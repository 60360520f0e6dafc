"""Fixtures for the dashboard tests: a store on a SQLite file in tmp_path, the whole app served
by uvicorn on a loopback port (job runner included), logged-in HTTP clients and a headless
Chromium driven by Playwright."""

from __future__ import annotations

import re
import shutil
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from middlebrick.demo.server import serve
from middlebrick.demo.tls import local_ca, server_context, write_ca_pem
from middlebrick.triage import SuppressRule
from middlebrick.web.app import create_app
from middlebrick.web.settings import WebSettings
from middlebrick.web.store import ScanRecord, ScanStatus, Store, UserRecord

# The one finding the dashboard accepts about itself, as a user would in .middlebrick.yml: a new
# webhook's signing secret is answered once, on purpose (it is never shown again)
ONE_TIME_SECRET = SuppressRule(
    check="MB-DATA-006",
    endpoint="POST */api/v1/webhooks",
    reason="the signing secret of a new webhook is shown once, by design",
)
# the REST API's monitoring and fleet operations (api/monitoring.py)
MONITORING_ROUTES = {
    ("get", "/api/v1/schedules"),
    ("post", "/api/v1/schedules"),
    ("get", "/api/v1/schedules/{schedule_id}"),
    ("delete", "/api/v1/schedules/{schedule_id}"),
    ("post", "/api/v1/schedules/{schedule_id}/enable"),
    ("post", "/api/v1/schedules/{schedule_id}/disable"),
    ("get", "/api/v1/webhooks"),
    ("post", "/api/v1/webhooks"),
    ("get", "/api/v1/webhooks/{webhook_id}"),
    ("delete", "/api/v1/webhooks/{webhook_id}"),
    ("get", "/api/v1/deliveries"),
    ("post", "/api/v1/fleet"),
}

PASSWORDS = {"alice": "alice-correct-horse-1", "bob": "bob-battery-staple-2"}
FINISHED = frozenset(
    {ScanStatus.DONE, ScanStatus.FAILED, ScanStatus.INTERRUPTED, ScanStatus.CANCELLED}
)
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Dashboard:
    """A served dashboard: its URL, its store and app, the database file."""

    url: str
    store: Store
    app: FastAPI
    database: Path
    verify: ssl.SSLContext | bool = True
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self, **kwargs: Any) -> httpx.Client:
        """An anonymous client, closed with the dashboard."""
        client = httpx.Client(base_url=self.url, verify=self.verify, timeout=30, **kwargs)
        self.clients.append(client)
        return client

    def login(self, username: str, password: str | None = None) -> User:
        client = self.client()
        form = client.get("/login")
        assert form.status_code == 200, form.text
        answer = client.post(
            "/login",
            data={
                "username": username,
                "password": PASSWORDS[username] if password is None else password,
                "csrf_token": csrf_of(form.text),
                "next": "/",
            },
        )
        assert answer.status_code == 303, answer.text
        home = client.get("/")
        assert home.status_code == 200, home.text
        return User(client, csrf_of(home.text), self)

    def database_bytes(self) -> bytes:
        """The database file and its WAL/journal companions, as they are on disk."""
        return b"".join(
            p.read_bytes() for p in sorted(self.database.parent.glob(self.database.name + "*"))
        )


@dataclass
class User:
    """A logged-in client: posts carry the session's CSRF token unless told otherwise."""

    http: httpx.Client
    csrf: str
    dashboard: Dashboard

    @property
    def session_token(self) -> str:
        token = self.http.cookies.get("mb_session")
        assert token
        return token

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, **kwargs)

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> httpx.Response:
        return self.http.post(path, data={"csrf_token": self.csrf, **(data or {})}, **kwargs)

    def start_scan(self, target: str, **fields: Any) -> str:
        """Submit the new-scan form (all checks unless `checks` is given); the scan's id."""
        from middlebrick.checks import BY_ID

        data = {"target": target, "budget": "30", "checks": list(BY_ID), **fields}
        answer = self.post("/scans", data=data, files={"spec_file": ("", b"")})
        assert answer.status_code == 303, answer.text
        location = answer.headers["location"]
        assert location.startswith("/scans/")
        return location.removeprefix("/scans/")

    def wait(self, scan_id: str, timeout: float = 60) -> ScanRecord:
        """Poll the store until the scan has finished; the finished record."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            scan = self.dashboard.store.get_scan(self.user.id, scan_id)
            if scan is not None and scan.status in FINISHED:
                return scan
            time.sleep(0.1)
        raise AssertionError(f"scan {scan_id} did not finish within {timeout} s")

    @property
    def user(self) -> UserRecord:
        found = self.dashboard.store.session_user(self.session_token)
        assert found is not None
        return found[0]


def csrf_of(page: str) -> str:
    match = _CSRF.search(page)
    assert match, "no CSRF field on the page"
    return match.group(1)


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "dashboard.db"


@pytest.fixture
def store(database: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{database}")
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def users(store: Store) -> dict[str, UserRecord]:
    return {
        "alice": store.create_user("alice", PASSWORDS["alice"], is_admin=True),
        "bob": store.create_user("bob", PASSWORDS["bob"]),
    }


ServeDashboard = Callable[..., Any]


@pytest.fixture
def serve_dashboard(store: Store, database: Path, tmp_path: Path) -> Callable[..., Any]:
    """`with serve_dashboard(tls=False, **settings) as dashboard:`: the app on a loopback port,
    over HTTPS from a throwaway CA with `tls=True`."""

    @contextmanager
    def run(*, tls: bool = False, **settings: Any) -> Iterator[Dashboard]:
        config = WebSettings(database_url=f"sqlite:///{database}", **settings)
        app = create_app(config, store=store)
        context, verify = None, True
        if tls:
            ca = local_ca()
            context = server_context(ca)
            pem = write_ca_pem(ca, tmp_path / "dashboard-ca.pem")
            verify = ssl.create_default_context(cafile=str(pem))
        with serve(app, asgi=True, server_header="", tls=context, ca_pem=None) as served:
            dashboard = Dashboard(served.url, store, app, database, verify)
            try:
                yield dashboard
            finally:
                for client in dashboard.clients:
                    client.close()

    return run


@pytest.fixture
def dashboard(serve_dashboard: ServeDashboard, users: dict[str, UserRecord]) -> Iterator[Dashboard]:
    with serve_dashboard() as served:
        yield served


@pytest.fixture
def alice(dashboard: Dashboard) -> User:
    return dashboard.login("alice")


@pytest.fixture
def bob(dashboard: Dashboard) -> User:
    return dashboard.login("bob")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (no browser download); skipped without it.
    Module-scoped: Playwright's sync API keeps an event loop running in this thread, and a later
    test's `asyncio.run()` would refuse to start beside it."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox"], headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Tab:
    """A page of a fresh browser context (no cookies), and the errors its console showed (a
    Content-Security-Policy violation is one)."""

    page: Any
    errors: list[str]


@pytest.fixture
def tab(chromium: Any, dashboard: Dashboard) -> Iterator[Tab]:
    context = chromium.new_context(accept_downloads=True, base_url=dashboard.url)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield Tab(page, errors)
    finally:
        context.close()
