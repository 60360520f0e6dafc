"""Runnable Flask fixes: each function applies one fix to an app, `harden` applies them all.

The flask remediation texts show these functions exactly as written here (`_snippet` reads this
file; only `# type: ignore` pragmas are dropped), and tests/remediation scans a vulnerable app
before and after applying each one, so the advice cannot drift from code that works.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
from collections.abc import Collection, Mapping
from urllib.parse import urlsplit, urlunsplit

from flask import Flask, Response, redirect, request
from flask.typing import ResponseReturnValue
from flask_httpauth import HTTPAuth, HTTPBasicAuth, HTTPTokenAuth
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.security import check_password_hash, generate_password_hash


def enforce_https(app: Flask, *, proxies: int, https_port: int = 443) -> None:
    """Redirect every plain-HTTP request to HTTPS (308) before anything else can answer it.

    `proxies`: how many reverse proxies you run in front of the app, each appending to
    X-Forwarded-For and setting X-Forwarded-Proto (nginx: `proxy_set_header X-Forwarded-Proto
    $scheme;`); 0 when clients connect to the app itself. ProxyFix believes exactly that many
    values from the right, so a value a client adds is never the one read — as long as the app
    cannot be reached around the proxy: bind it to 127.0.0.1 or a private network.
    Register this before anything that can answer a request (authentication included).
    """
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]

    @app.before_request
    def https_only() -> ResponseReturnValue | None:
        if request.is_secure:  # the connection's scheme, or the one your proxy reported
            return None
        url = urlsplit(request.url)
        host = f"[{url.hostname}]" if ":" in (url.hostname or "") else url.hostname
        netloc = host if https_port == 443 else f"{host}:{https_port}"
        return redirect(urlunsplit(("https", netloc, url.path, url.query, "")), 308)


def hsts(app: Flask, *, max_age: int = 31_536_000) -> None:
    """Send one HSTS policy on every HTTPS response, errors and redirects included."""
    policy = f"max-age={max_age}; includeSubDomains"

    @app.after_request
    def strict_transport_security(response: Response) -> Response:
        if request.is_secure:  # browsers ignore HSTS received over plain HTTP
            response.headers["Strict-Transport-Security"] = policy
        return response


def no_store(app: Flask, *, credential_headers: Collection[str] = ("Authorization",)) -> None:
    """Forbid caches to keep any response to a request that carried credentials."""

    @app.after_request
    def private(response: Response) -> Response:
        if any(name in request.headers for name in credential_headers):
            response.headers["Cache-Control"] = "no-store"  # `no-cache` would still store it
        return response


def nosniff(app: Flask) -> None:
    """Tell browsers to believe the Content-Type instead of guessing from the body."""

    @app.after_request
    def no_sniffing(response: Response) -> Response:
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def cors_allow_list(app: Flask, origins: Collection[str], *, credentials: bool = True) -> None:
    """Let only these exact origins (`https://app.example.com`) read responses cross-origin."""
    allowed = frozenset(origins)
    if allowed & {"*", "null"}:
        raise ValueError("'*' and 'null' are not origins you can trust; list your front ends")

    @app.after_request
    def cross_origin(response: Response) -> Response:
        response.vary.add("Origin")  # caches must not serve one origin's answer to another
        origin = request.headers.get("Origin")
        if origin in allowed:
            response.headers["Access-Control-Allow-Origin"] = origin
            if credentials:
                response.headers["Access-Control-Allow-Credentials"] = "true"
            if request.method == "OPTIONS":
                response.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, PATCH, DELETE"
                response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
        return response


def basic_auth(users: Mapping[str, str]) -> HTTPBasicAuth:
    """HTTP Basic against stored hashes: `users` maps a name to generate_password_hash(password)
    (scrypt in Werkzeug 3), never to the password itself."""
    auth = HTTPBasicAuth()
    decoy = generate_password_hash(secrets.token_urlsafe())  # unknown names cost the same time

    def verify(username: str, password: str) -> str | None:
        stored = users.get(username)
        matches = check_password_hash(stored or decoy, password)
        return username if stored is not None and matches else None

    auth.verify_password(verify)
    return auth


def api_key_auth(key_digests: Mapping[str, str], *, header: str = "X-API-Key") -> HTTPTokenAuth:
    """API keys in a header, checked against stored SHA-256 digests: `key_digests` maps a client
    to hashlib.sha256(key).hexdigest() (random keys need no slow hash; passwords do)."""
    auth = HTTPTokenAuth(scheme="ApiKey", header=header)

    def verify(key: str) -> str | None:
        digest = hashlib.sha256(key.encode()).hexdigest()
        for client, stored in key_digests.items():
            if hmac.compare_digest(digest, stored):
                return client
        return None

    auth.verify_token(verify)
    return auth


def require_login(app: Flask, auth: HTTPAuth, *, public: Collection[str] = ()) -> None:
    """Deny by default: every view needs valid credentials, except the endpoints named in
    `public` (e.g. {"index", "health", "static"}). A view added later is protected unless
    someone decides otherwise, instead of open until someone remembers the decorator."""
    open_endpoints = frozenset(public)

    @app.before_request
    def login_unless_public() -> ResponseReturnValue | None:
        if request.endpoint is None or request.endpoint in open_endpoints:
            return None  # no view matched (404/405), or public on purpose
        # Flask-HTTPAuth answers 401 with its WWW-Authenticate challenge (and lets CORS
        # preflight OPTIONS through); None lets the request go on to its view
        return auth.login_required(lambda: None)()  # type: ignore[no-any-return]


def problem_errors(app: Flask) -> None:
    """Answer every error as application/problem+json (RFC 9457), never with a traceback."""

    @app.errorhandler(HTTPException)
    def http_problem(exc: HTTPException) -> ResponseReturnValue:
        response = exc.get_response()  # keeps the status and headers such as Allow
        body = {"type": "about:blank", "title": exc.name, "status": exc.code}
        response.set_data(json.dumps(body))
        response.mimetype = "application/problem+json"
        return response

    @app.errorhandler(Exception)
    def internal_problem(exc: Exception) -> ResponseReturnValue:
        app.logger.exception("unhandled error")  # the details go to your logs, not the client
        body = {"type": "about:blank", "title": "Internal Server Error", "status": 500}
        return Response(json.dumps(body), 500, mimetype="application/problem+json")


class CredentialMask(logging.Filter):
    """Masks credentials in log records: Authorization and API-key header values (Basic, Bearer
    or bare), passwords and tokens in query strings, and user:password@ in URLs."""

    HEADER = re.compile(
        r"(?i)((?:proxy-)?authorization|x-api-key|api-key|cookie)(['\"]?\s*[:=]\s*['\"]?)"
        r"((?:basic|bearer|digest|token)\s+)?[^'\"\s,;}]+"
    )
    SCHEME = re.compile(r"(?i)\b(basic|bearer)\s+[A-Za-z0-9+/=._~-]{8,}")
    QUERY = re.compile(r"(?i)([?&](?:password|passwd|pwd|token|access_token|api_key|key)=)[^&\s]+")
    USERINFO = re.compile(r"(//[^/@\s:]+:)[^/@\s]+@")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = self.HEADER.sub(lambda m: f"{m[1]}{m[2]}{m[3] or ''}[masked]", message)
        masked = self.SCHEME.sub(r"\1 [masked]", masked)
        masked = self.QUERY.sub(r"\1[masked]", masked)
        masked = self.USERINFO.sub(r"\1[masked]@", masked)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


def mask_credentials_in_logs(app: Flask) -> None:
    """Put the mask on every handler of the app's logger, Werkzeug's and the root logger: a filter
    on a handler sees every record it writes, a filter on a logger only that logger's own."""
    for name in (app.logger.name, "werkzeug", None):
        for handler in logging.getLogger(name).handlers:
            handler.addFilter(CredentialMask())


def harden(
    app: Flask,
    auth: HTTPAuth | None = None,
    *,
    proxies: int,
    https_port: int = 443,
    origins: Collection[str] = (),
    public: Collection[str] = (),
) -> None:
    """All of the above, in the order that matters: the HTTPS redirect before authentication."""
    enforce_https(app, proxies=proxies, https_port=https_port)
    if auth is not None:
        require_login(app, auth, public=public)
    hsts(app)
    no_store(app)
    nosniff(app)
    if origins:
        cors_allow_list(app, origins)
    problem_errors(app)
    mask_credentials_in_logs(app)
