"""Every Flask fix the remediation texts show is run here: a deliberately vulnerable app is served
on 127.0.0.1 and scanned for real, the fix from `flask_snippets` is applied, and the scan must then
miss the finding without reporting anything the vulnerable app did not have.

What each test proves is said in its docstring; where a fix only works under a condition (ProxyFix
behind a real proxy), the condition is tested both ways.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from pydantic import SecretStr
from werkzeug.security import generate_password_hash

from middlebrick.demo.server import Served, serve
from middlebrick.demo.tls import server_context
from middlebrick.model import Report, Severity
from middlebrick.remediation import flask_snippets as fix
from remediation.apps import (
    API_KEY,
    APIKEY,
    BASIC,
    ORIGIN,
    PASSWORD,
    USER,
    forwarding_proxy,
    header_logging_api,
    notes_api,
    orders_api,
    plain_orders_api,
    presence_only_api_key,
    presence_only_basic,
    redirecting_api,
)

from checks.conftest import ids, scan_now
from targets import clean, headers
from targets.errors import debug_mode_api, typed_params_api
from targets.transport import hsts_app, proxyfix_app

CREDS = SecretStr(f"{USER}:{PASSWORD}")
LEAKY_CREDS = SecretStr(f"{headers.USER}:{headers.PASSWORD}")
CLEAN_CREDS = SecretStr(f"{clean.USER}:{clean.PASSWORD}")
CA = tuple[Any, Path]


def assert_fixed(before: Report, after: Report, check_id: str) -> None:
    assert check_id in ids(before), f"the vulnerable app must show {check_id}: {ids(before)}"
    assert check_id not in ids(after), f"{check_id} survived the fix"
    new = set(ids(after)) - set(ids(before))
    assert not new, f"the fix introduced {new}"


@contextmanager
def deployment(ca: CA, build: Callable[[int], Any]) -> Iterator[Served]:
    """`build(https_port)` served twice, as a Flask app that terminates TLS itself runs: on HTTPS,
    and on plain HTTP, where it is expected to redirect. Yields the plain-HTTP server."""
    with ExitStack() as stack:
        https = stack.enter_context(serve(build(0), tls=server_context(ca[0])))
        yield stack.enter_context(serve(build(https.port)))


def scan_deployment(ca: CA, build: Callable[[int], Any], **settings: Any) -> Report:
    with deployment(ca, build) as http:
        return scan_now(http.url, ca_bundle=ca[1], **settings)


def scan_app(app: Any, **settings: Any) -> Report:
    with serve(app) as served:
        return scan_now(served.url, **settings)


def https_enforced(app: Flask, https_port: int, *, proxies: int = 0) -> Flask:
    fix.enforce_https(app, proxies=proxies, https_port=https_port)
    return app


def get(port: int, path: str, headers: dict[str, str]) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


# transport: enforce_https (ProxyFix + a redirect on request.is_secure) ------------------------


@pytest.mark.check("MB-ENC-001")
def test_enforce_https_and_hsts_fix_plain_http_api(ca: CA) -> None:
    """A Basic-auth API on plain HTTP (critical) is redirected to HTTPS everywhere once
    `enforce_https` and `hsts` are applied to it; the scan then runs over HTTPS."""
    before = scan_app(headers.leaky_flask(), auth=LEAKY_CREDS)

    def fixed(https_port: int) -> Flask:
        app = https_enforced(headers.leaky_flask(), https_port)
        fix.hsts(app)
        return app

    after = scan_deployment(ca, fixed, auth=LEAKY_CREDS)
    assert_fixed(before, after, "MB-ENC-001")
    assert after.target.scanned_origin.startswith("https://")


@pytest.mark.check("MB-ENC-002")
def test_enforce_https_fixes_temporary_redirect(ca: CA) -> None:
    """`redirect(url)` answers 302; the snippet's redirect is a permanent 308."""
    before = scan_deployment(ca, lambda port: redirecting_api(port, mistake="temporary"))
    after = scan_deployment(
        ca, lambda port: https_enforced(redirecting_api(port, mistake=None), port)
    )
    assert_fixed(before, after, "MB-ENC-002")


@pytest.mark.check("MB-ENC-003")
def test_enforce_https_fixes_challenge_before_redirect(ca: CA) -> None:
    """A redirect placed under `@auth.login_required` lets the Basic challenge out over plain
    HTTP; the snippet's `before_request` hook redirects before any view decorator runs."""
    before = scan_deployment(ca, lambda port: redirecting_api(port, mistake="login-first"))
    after = scan_deployment(
        ca, lambda port: https_enforced(redirecting_api(port, mistake=None), port)
    )
    assert_fixed(before, after, "MB-ENC-003")


@pytest.mark.check("MB-ENC-004")
def test_enforce_https_without_proxy_ignores_spoofed_forwarded_proto(ca: CA) -> None:
    """`ProxyFix(x_proto=1)` with no proxy in front believes a client's X-Forwarded-Proto (the
    vulnerable app); `enforce_https(proxies=0)` judges the connection only."""
    before = scan_deployment(ca, lambda port: proxyfix_app(port, trust_forwarded=True))
    after = scan_deployment(ca, lambda port: https_enforced(plain_orders_api(), port))
    assert_fixed(before, after, "MB-ENC-004")


@contextmanager
def behind_proxy(ca: CA, *, append: bool) -> Iterator[tuple[Served, Served]]:
    """HTTPS served by the app itself; plain HTTP through `forwarding_proxy` to an instance with
    `enforce_https(proxies=1)`. Yields (proxy, backend)."""
    with ExitStack() as stack:
        https_app = https_enforced(plain_orders_api(), 0)
        https = stack.enter_context(serve(https_app, tls=server_context(ca[0])))
        backend_app = https_enforced(plain_orders_api(), https.port, proxies=1)
        backend = stack.enter_context(serve(backend_app))
        proxy = stack.enter_context(serve(forwarding_proxy(backend.port, append=append)))
        yield proxy, backend


@pytest.mark.check("MB-ENC-004")
@pytest.mark.parametrize("append", [False, True], ids=["proxy-overwrites", "proxy-appends"])
def test_enforce_https_behind_one_proxy_ignores_spoofed_forwarded_proto(
    ca: CA, append: bool
) -> None:
    """With `proxies=1` and a real proxy in front, a client's `X-Forwarded-Proto: https` sent to
    the proxy over plain HTTP is still redirected: the proxy overwrites the header, or appends
    `http` after the client's value and ProxyFix reads only the last one. The scan of the proxy
    finds nothing — whereas the same backend reached directly, around the proxy, is bypassed:
    `proxies` must be the number of proxies every request really goes through."""
    spoof = {"X-Forwarded-Proto": "https"}
    with behind_proxy(ca, append=append) as (proxy, backend):
        via_proxy = get(proxy.port, "/orders", spoof)
        around_proxy = get(backend.port, "/orders", spoof)
        through = scan_now(proxy.url, ca_bundle=ca[1])
        direct = scan_now(backend.url, ca_bundle=ca[1])
    assert via_proxy.status == 308
    assert via_proxy.headers["Location"].startswith("https://127.0.0.1:")
    assert around_proxy.status == 200
    assert "MB-ENC-004" not in ids(through)
    assert "MB-ENC-004" in ids(direct)
    assert set(ids(through)) <= set(ids(direct))


# HSTS, caching, nosniff: after_request hooks -----------------------------------------------


def scan_tls(ca: CA, app: Any, **settings: Any) -> Report:
    with serve(app, tls=server_context(ca[0])) as https:
        return scan_now(https.url, ca_bundle=ca[1], **settings)


def with_hsts(app: Flask) -> Flask:
    fix.hsts(app)
    return app


@pytest.mark.check("MB-ENC-005")
@pytest.mark.check("MB-ENC-006")
@pytest.mark.check("MB-ENC-007")
@pytest.mark.parametrize(
    ("check_id", "value", "on_errors"),
    [
        ("MB-ENC-005", None, True),
        ("MB-ENC-006", "max-age=300", True),
        ("MB-ENC-007", "max-age=31536000", False),
    ],
)
def test_hsts_fixes_missing_weak_and_partial_policies(
    ca: CA, check_id: str, value: str | None, on_errors: bool
) -> None:
    """No HSTS, a five-minute one, or one set on successful answers only: the hook sends one
    year on every HTTPS response, the 401s included (after_request runs for them too)."""
    before = scan_tls(ca, hsts_app(value=value, on_errors=on_errors), auth=CLEAN_CREDS)
    after = scan_tls(ca, with_hsts(hsts_app(value=None)), auth=CLEAN_CREDS)
    assert_fixed(before, after, check_id)


@pytest.mark.check("MB-DATA-001")
def test_no_store_fixes_cacheable_authenticated_responses() -> None:
    before = scan_app(headers.leaky_flask(), auth=LEAKY_CREDS)
    app = headers.leaky_flask()
    fix.no_store(app)
    assert_fixed(before, scan_app(app, auth=LEAKY_CREDS), "MB-DATA-001")


@pytest.mark.check("MB-CONF-001")
def test_nosniff_fixes_json_without_nosniff() -> None:
    before = scan_app(headers.leaky_flask(), auth=LEAKY_CREDS)
    app = headers.leaky_flask()
    fix.nosniff(app)
    assert_fixed(before, scan_app(app, auth=LEAKY_CREDS), "MB-CONF-001")


# CORS ------------------------------------------------------------------------------------------


@pytest.mark.check("MB-DATA-002")
@pytest.mark.check("MB-DATA-003")
@pytest.mark.check("MB-DATA-004")
@pytest.mark.parametrize(
    ("check_id", "mistake"),
    [("MB-DATA-002", "reflect"), ("MB-DATA-003", "null"), ("MB-DATA-004", "wildcard")],
)
def test_cors_allow_list_replaces_permissive_handler(check_id: str, mistake: str) -> None:
    """The hand-written handler is removed (no hook can undo what a later one adds) and the
    allow-list put in its place; the listed origin still gets credentialed access."""
    before = scan_app(notes_api(cors=mistake), auth=CREDS)
    app = notes_api()
    fix.cors_allow_list(app, [ORIGIN])
    with serve(app) as served:
        after = scan_now(served.url, auth=CREDS)
        allowed = get(served.port, "/", {"Origin": ORIGIN})
        other = get(served.port, "/", {"Origin": "https://evil.example"})
    assert_fixed(before, after, check_id)
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert allowed.headers["Access-Control-Allow-Credentials"] == "true"
    assert "Origin" in allowed.headers["Vary"]
    assert other.headers.get("Access-Control-Allow-Origin") is None


def test_cors_allow_list_refuses_wildcard_and_null() -> None:
    for origin in ("*", "null"):
        with pytest.raises(ValueError, match="not origins you can trust"):
            fix.cors_allow_list(Flask("cors"), [origin])


# errors and debuggers --------------------------------------------------------------------------


@pytest.mark.check("MB-DATA-009")
def test_problem_errors_replaces_traceback_answers() -> None:
    """The vulnerable app's error handler returns the traceback; the snippet's handlers (the
    later registration for `Exception` wins) answer problem+json and log the details."""
    before = scan_app(typed_params_api(careful=False))
    app = typed_params_api(careful=False)
    fix.problem_errors(app)
    assert_fixed(before, scan_app(app), "MB-DATA-009")


@pytest.mark.check("MB-DATA-010")
def test_problem_errors_without_the_debugger_fixes_exposed_debugger() -> None:
    """`DebuggedApplication` (what `debug=True` wraps the app in) is removed — the app it wraps
    is served instead — and errors become problem+json."""
    debugged = debug_mode_api()
    before = scan_app(debugged)
    app = debug_mode_api().app
    fix.problem_errors(app)
    after = scan_app(app)
    assert_fixed(before, after, "MB-DATA-010")
    assert "MB-DATA-009" not in ids(after)


# authentication --------------------------------------------------------------------------------


def hashed_users() -> dict[str, str]:
    return {USER: generate_password_hash(PASSWORD)}


@pytest.mark.check("MB-AUTH-001")
def test_require_login_fixes_forgotten_login_required() -> None:
    """One view lacks `@auth.login_required`; the app-wide deny-by-default hook protects it
    without touching the view, and the public allow-list keeps `/` and the description open."""
    before = scan_app(orders_api(fix.basic_auth(hashed_users()), BASIC, forgotten=True), auth=CREDS)
    auth = fix.basic_auth(hashed_users())
    app = orders_api(auth, BASIC, forgotten=True)
    fix.require_login(app, auth, public={"index", "openapi"})
    with serve(app) as served:
        after = scan_now(served.url, auth=CREDS)
        assert get(served.port, "/invoices", {}).status == 401
        assert get(served.port, "/", {}).status == 200
    assert_fixed(before, after, "MB-AUTH-001")


@pytest.mark.check("MB-AUTH-003")
def test_basic_auth_with_hashes_fixes_any_password_accepted() -> None:
    before = scan_app(orders_api(presence_only_basic(), BASIC), auth=CREDS)
    after = scan_app(orders_api(fix.basic_auth(hashed_users()), BASIC), auth=CREDS)
    assert_fixed(before, after, "MB-AUTH-003")


def test_basic_auth_stores_and_accepts_only_hashes() -> None:
    users = hashed_users()
    assert PASSWORD not in users[USER]
    assert users[USER].startswith("scrypt:")  # Werkzeug 3's default method
    app = orders_api(fix.basic_auth(users), BASIC)
    client = app.test_client()

    def status(user: str, password: str) -> int:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        return client.get("/orders", headers={"Authorization": f"Basic {token}"}).status_code

    assert status(USER, PASSWORD) == 200
    assert status(USER, "wrong") == 401
    assert status("mallory", PASSWORD) == 401


@pytest.mark.check("MB-AUTH-003")
def test_api_key_auth_fixes_any_key_accepted() -> None:
    key = (("X-API-Key", SecretStr(API_KEY)),)
    before = scan_app(orders_api(presence_only_api_key(), APIKEY), headers=key)
    digests = {"client": hashlib.sha256(API_KEY.encode()).hexdigest()}
    after = scan_app(orders_api(fix.api_key_auth(digests), APIKEY), headers=key)
    assert_fixed(before, after, "MB-AUTH-003")


# logging ---------------------------------------------------------------------------------------


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(self.format(record))


@contextmanager
def captured(app: Flask) -> Iterator[Capture]:
    handler = Capture()
    app.logger.addHandler(handler)
    try:
        yield handler
    finally:
        for h in list(app.logger.handlers):
            if h is handler or isinstance(h, logging.FileHandler):
                app.logger.removeHandler(h)
                h.close()
        # mask_credentials_in_logs also filtered the root logger's handlers (pytest's among them)
        for h in (*logging.getLogger().handlers, *logging.getLogger("werkzeug").handlers):
            for f in [f for f in h.filters if isinstance(f, fix.CredentialMask)]:
                h.removeFilter(f)


BASIC_HEADER = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


@pytest.mark.parametrize(
    ("header", "value", "secret"),
    [
        ("Authorization", BASIC_HEADER, BASIC_HEADER.split()[1]),
        ("Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl", "eyJhbGciOiJIUzI1NiJ9"),
        ("X-API-Key", API_KEY, API_KEY),
    ],
    ids=["basic", "bearer", "apikey"],
)
def test_credential_mask_masks_real_request_logs(header: str, value: str, secret: str) -> None:
    """A real request through the server, logged with its headers by the app (the CWE-532
    mistake): the record as written holds the credential; with the mask on the handler it does
    not, and says where it was."""
    for masked in (False, True):
        app = header_logging_api(name=f"log-{header}-{secret[:4]}-{masked}")
        with captured(app) as capture:
            if masked:
                fix.mask_credentials_in_logs(app)
            with serve(app) as served:
                assert get(served.port, "/", {header: value}).status == 200
        [line] = [m for m in capture.messages if m.startswith("GET /")]
        assert (secret in line) is not masked, line
        assert (PASSWORD in line) is False  # Basic is base64 in the header, never decoded
        if masked:
            assert re.search(rf"'{header}': '(Basic |Bearer )?\[masked\]'", line, re.I), line


def test_credential_mask_masks_query_and_url_credentials() -> None:
    mask = fix.CredentialMask()
    record = logging.LogRecord(
        "t",
        logging.INFO,
        __file__,
        1,
        "fetch %s then %s",
        ("/login?user=a&password=hunter2", "https://bob:s3cret@db.internal/x"),
        None,
    )
    assert mask.filter(record)
    assert record.getMessage() == (
        "fetch /login?user=a&password=[masked] then https://bob:[masked]@db.internal/x"
    )


@pytest.mark.check("MB-DATA-008")
def test_credential_mask_takes_credentials_out_of_a_served_log(tmp_path: Path) -> None:
    """A log under the static folder, filled by requests with Basic credentials: critical while
    it holds them; with the mask it still is a served log (high) — the other half of the fix is
    to stop serving it, which no logging setting can do."""
    severities = {}
    for masked in (False, True):
        log_file = tmp_path / str(masked) / "static" / "logs" / "app.log"
        log_file.parent.mkdir(parents=True)
        app = header_logging_api(log_file, name=f"log-file-{masked}")
        with captured(app):
            if masked:
                fix.mask_credentials_in_logs(app)
            with serve(app) as served:
                for _ in range(2):
                    get(served.port, "/", {"Authorization": BASIC_HEADER})
                report = scan_now(served.url)
        [finding] = [f for f in report.findings if f.check_id == "MB-DATA-008"]
        severities[masked] = finding.severity
        assert (BASIC_HEADER.split()[1] in log_file.read_text()) is not masked
    assert severities == {False: Severity.CRITICAL, True: Severity.HIGH}


# everything at once ----------------------------------------------------------------------------


def test_harden_fixes_an_unprotected_plain_http_api(ca: CA) -> None:
    """A Basic-auth API on plain HTTP with a forgotten `login_required`: `harden` leaves only
    what code cannot fix — the development server's version banner (serve with gunicorn) — and
    the published description (informational)."""
    before = scan_app(orders_api(fix.basic_auth(hashed_users()), BASIC, forgotten=True), auth=CREDS)

    def hardened(https_port: int) -> Flask:
        auth = fix.basic_auth(hashed_users())
        app = orders_api(auth, BASIC, forgotten=True)
        fix.harden(
            app,
            auth,
            proxies=0,
            https_port=https_port,
            origins=[ORIGIN],
            public={"index", "openapi"},
        )
        return app

    after = scan_deployment(ca, hardened, auth=CREDS)
    assert {"MB-ENC-001", "MB-AUTH-001", "MB-DATA-001", "MB-CONF-001"} <= set(ids(before))
    assert set(ids(after)) <= {"MB-DATA-005", "MB-INV-001"}, ids(after)
    assert set(ids(after)) <= set(ids(before))
