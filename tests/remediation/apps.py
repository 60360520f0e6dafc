"""Small Flask APIs with one classic mistake each, built so that the mistake can be left out and a
fix from `middlebrick.remediation.flask_snippets` applied instead; and a reverse proxy.

Where a mistake is an addition that a fix can override (a missing header), the tests apply the fix
to the vulnerable app itself; where the mistake must be removed (a hand-written CORS handler that
echoes the Origin, a per-view redirect), `mistake=False` builds the same app without it.
"""

from __future__ import annotations

import http.client
import logging
from collections.abc import Callable, Iterable
from functools import wraps
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, redirect, request
from flask_httpauth import HTTPBasicAuth, HTTPTokenAuth

USER, PASSWORD = "erin", "a-long-and-random-passphrase-7"
API_KEY = "key-0c6f1d2e9b8a4f37"
ORIGIN = "https://app.example.test"


def _spec(scheme: dict[str, str], paths: Iterable[str]) -> dict[str, Any]:
    ok = {"responses": {"200": {"description": "OK"}, "401": {"description": "No credentials"}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "orders", "version": "1"},
        "components": {"securitySchemes": {"main": scheme}},
        "security": [{"main": []}],
        "paths": {path: {"get": ok} for path in paths},
    }


def orders_api(auth: Any, scheme: dict[str, str], *, forgotten: bool = False) -> Flask:
    """Orders and invoices behind `auth` (a Flask-HTTPAuth object), as the published description
    says; `forgotten`: the invoices view lacks its `@auth.login_required`."""
    app = Flask(f"orders-{id(auth)}")
    document = _spec(scheme, ["/orders", "/invoices"])

    @app.get("/")
    def index() -> Response:
        return jsonify(service="orders", links={"orders": "/orders", "invoices": "/invoices"})

    @app.get("/openapi.json")
    def openapi() -> Response:
        return jsonify(document)

    @app.get("/orders")
    @auth.login_required
    def orders() -> Response:
        return jsonify([{"id": 1, "total": 12.5}])

    def invoices() -> Response:
        return jsonify([{"id": 9, "amount": 99.0}])

    app.get("/invoices")(invoices if forgotten else auth.login_required(invoices))
    return app


BASIC = {"type": "http", "scheme": "basic"}
APIKEY = {"type": "apiKey", "in": "header", "name": "X-API-Key"}


def presence_only_basic() -> HTTPBasicAuth:
    """The mistake: credentials are only checked for presence (the check was never finished)."""
    auth = HTTPBasicAuth()
    auth.verify_password(lambda username, password: username if username and password else None)
    return auth


def presence_only_api_key() -> HTTPTokenAuth:
    """The mistake: any non-empty key opens the API."""
    auth = HTTPTokenAuth(scheme="ApiKey", header="X-API-Key")
    auth.verify_token(lambda key: "client" if key else None)
    return auth


def notes_api(*, cors: str | None = None) -> Flask:
    """A Basic-auth notes API (JSON typed as JSON); `cors`: a hand-written CORS handler that
    grants 'reflect' (any Origin), 'null', or 'wildcard' (`*`), always with credentials."""
    app = Flask(f"notes-{cors}")
    auth = HTTPBasicAuth()
    auth.verify_password(lambda u, p: u if (u, p) == (USER, PASSWORD) else None)

    @app.get("/")
    def index() -> Response:
        return jsonify(service="notes", links={"me": "/api/me", "notes": "/api/notes"})

    @app.get("/api/me")
    @auth.login_required
    def me() -> Response:
        return jsonify(id=7, name="Erin", email="erin@example.test")

    @app.get("/api/notes")
    @auth.login_required
    def notes() -> Response:
        return jsonify([{"id": 1, "text": "buy milk"}])

    if cors is not None:

        @app.after_request
        def add_cors(response: Response) -> Response:
            origin = request.headers.get("Origin")
            granted = {"reflect": origin, "null": "null", "wildcard": "*"}[cors]
            if origin and (cors != "null" or origin == "null"):
                response.headers["Access-Control-Allow-Origin"] = granted or ""
                response.headers["Access-Control-Allow-Credentials"] = "true"
            return response

    return app


def _https_url(https_port: int) -> str:
    return f"https://127.0.0.1:{https_port}{request.full_path.rstrip('?')}"


def redirecting_api(https_port: int, *, mistake: str | None) -> Flask:
    """The transport mistakes of a Flask app that serves both HTTP and HTTPS itself:
    'temporary' — its own HTTPS redirect with `redirect(url)`, i.e. 302;
    'login-first' — the redirect is a view decorator placed under `@auth.login_required`, so
    plain-HTTP requests to protected views get the Basic challenge before the redirect.
    `None`: no redirect at all (a fix adds one)."""
    app = Flask(f"redirecting-{mistake}-{https_port}")
    auth = HTTPBasicAuth()
    auth.verify_password(lambda u, p: u if (u, p) == (USER, PASSWORD) else None)

    def https_required(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if mistake == "login-first" and not request.is_secure:
                return redirect(_https_url(https_port), 301)
            return view(*args, **kwargs)

        return wrapper

    if mistake == "temporary":

        @app.before_request
        def force_https() -> Any:
            return None if request.is_secure else redirect(_https_url(https_port))

    @app.get("/")
    @https_required
    def index() -> Response:
        return jsonify(service="orders", links={"orders": "/orders"})

    @app.get("/orders")
    @auth.login_required  # runs first: a 401 over plain HTTP before any redirect
    @https_required
    def orders() -> Response:
        return jsonify([{"id": 1, "total": 12.5}])

    return app


def plain_orders_api() -> Flask:
    """No HTTPS enforcement of its own: the fix under test adds it."""
    app = Flask("plain-orders")

    @app.get("/")
    def index() -> Response:
        return jsonify(service="orders", links={"orders": "/orders"})

    @app.get("/orders")
    def orders() -> Response:
        return jsonify([{"id": 1}])

    return app


def header_logging_api(log_file: Path | None = None, *, name: str) -> Flask:
    """The CWE-532 mistake: requests are logged with their headers, Authorization included.
    With `log_file`, the log is written under the static folder too, served at /logs/app.log."""
    static = log_file.parent.parent if log_file else None
    app = Flask(name, static_folder=str(static) if static else None, static_url_path="")
    app.logger.setLevel(logging.INFO)
    if log_file is not None:
        handler = logging.FileHandler(log_file)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        app.logger.addHandler(handler)

    @app.before_request
    def log_request() -> None:
        # only credentialed requests: the log stays still while a scan without credentials reads it
        if "Authorization" in request.headers or "X-API-Key" in request.headers:
            app.logger.info("%s %s headers=%s", request.method, request.path, dict(request.headers))

    @app.get("/")
    def index() -> Response:
        return jsonify(service="notes")

    return app


def forwarding_proxy(backend_port: int, *, append: bool) -> Callable[..., Iterable[bytes]]:
    """A reverse proxy on plain HTTP, as nginx would be, to the app on `backend_port`: it passes
    the Host on, appends the client's address to X-Forwarded-For and reports its own scheme in
    X-Forwarded-Proto — `append=False` overwrites whatever the client sent (nginx
    `proxy_set_header X-Forwarded-Proto $scheme;`), `append=True` adds its value after the
    client's, as proxies that chain the header do."""
    hop_by_hop = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "trailer"}

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_") and key[5:].replace("_", "-").lower() not in hop_by_hop
        }
        sent_proto = headers.pop("X-Forwarded-Proto", None)
        headers["X-Forwarded-Proto"] = f"{sent_proto}, http" if append and sent_proto else "http"
        forwarded_for = headers.pop("X-Forwarded-For", None)
        client = environ["REMOTE_ADDR"]
        headers["X-Forwarded-For"] = f"{forwarded_for}, {client}" if forwarded_for else client
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else None
        path = environ.get("RAW_URI") or environ["PATH_INFO"]
        if environ.get("QUERY_STRING") and "?" not in path:
            path += "?" + environ["QUERY_STRING"]
        upstream = http.client.HTTPConnection("127.0.0.1", backend_port, timeout=10)
        try:
            upstream.request(environ["REQUEST_METHOD"], path, body=body, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
            kept = [(k, v) for k, v in answer.getheaders() if k.lower() not in hop_by_hop]
            start_response(f"{answer.status} {answer.reason}", kept)
            return [data]
        finally:
            upstream.close()

    return app
