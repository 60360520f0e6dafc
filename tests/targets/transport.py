"""APIs that get transport security wrong, each beside the clean API in targets.clean.

The mistakes are the ones found in real deployments: an auth layer that answers before the HTTPS
redirect, a 302 where a 301 belongs, Werkzeug's ProxyFix (or a hand-written check) trusting a
client's X-Forwarded-Proto, HSTS set in one view only or with a short max-age, a token API on plain
HTTP. And the right answers that must not be mistaken for them: 426 or "HTTPS required" refusals.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify, redirect, request
from werkzeug.middleware.proxy_fix import ProxyFix

from targets.clean import PASSWORD, USER


def _authorised() -> bool:
    auth = request.authorization
    return auth is not None and (auth.username, auth.password) == (USER, PASSWORD)


TOKEN = "tok-3f1c9a7e52d04b8e"


def _challenge(scheme: str = "Basic") -> Response:
    return Response("", 401, {"WWW-Authenticate": f'{scheme} realm="api"'})


def http_listener(
    https_port: int,
    *,
    status: int = 301,
    challenge_first: bool = False,
    scheme: str = "Basic",
    serve_data: bool = False,
    reject_forwarded: bool = False,
) -> Flask:
    """The plain-HTTP side of a deployment: redirects to HTTPS, except where it must not.
    `reject_forwarded`: a front end that turns away forwarding headers sent by clients."""
    app = Flask("http-listener")

    @app.route("/", defaults={"path": ""})
    @app.route("/<path:path>")
    def upgrade(path: str) -> Response:
        forwarded = (
            "X-Forwarded-Proto",
            "X-Forwarded-Scheme",
            "X-Forwarded-Ssl",
            "Front-End-Https",
        )
        if reject_forwarded and any(h in request.headers for h in forwarded):
            return Response("forwarding headers are not accepted from clients", 400)
        if path and challenge_first and not _authorised():
            return _challenge(scheme)  # the auth layer runs before the redirect
        if path and serve_data:
            return jsonify([{"id": 1, "total": 12.5}])
        target = f"https://127.0.0.1:{https_port}/{path}"
        return redirect(target, status)  # type: ignore[return-value]

    return app


def proxyfix_app(https_port: int, *, trust_forwarded: bool) -> Flask:
    """HTTPS enforced in the app, the way many Flask tutorials do it."""
    app = Flask("proxyfix")
    if trust_forwarded:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1)  # type: ignore[method-assign]

    @app.before_request
    def force_https() -> Response | None:
        if not request.is_secure:
            url = f"https://127.0.0.1:{https_port}{request.full_path.rstrip('?')}"
            return redirect(url, 301)  # type: ignore[return-value]
        return None

    @app.get("/")
    def index() -> Response:
        return jsonify(service="orders", links={"orders": "/orders"})

    @app.get("/orders")
    def orders() -> Response:
        return jsonify([{"id": 1}])

    return app


def forwarded_header_app(https_port: int, header: str, value: str) -> Flask:
    """HTTPS enforced in the app, skipped when a client says `header: value` (hand-written, the
    way Flask-Talisman and Flask-SSLify read X-Forwarded-Proto)."""
    app = Flask("naive-forwarded")

    @app.before_request
    def force_https() -> Response | None:
        if request.is_secure or request.headers.get(header, "").lower() == value:
            return None
        return redirect(f"https://127.0.0.1:{https_port}{request.path}", 301)  # type: ignore[return-value]

    @app.get("/")
    def index() -> Response:
        return jsonify(service="orders")

    return app


def refusing_listener(status: int) -> Flask:
    """Plain HTTP turned away with a 426 or an "HTTPS required" 400/403, never served."""
    app = Flask("refusing")

    @app.route("/", defaults={"path": ""})
    @app.route("/<path:path>")
    def refuse(path: str) -> Response:
        if status == 426:
            return Response("Use HTTPS", 426, {"Upgrade": "TLS/1.2, HTTP/1.1"})
        return Response("The plain HTTP request was sent to HTTPS port", status)

    return app


def token_api() -> Flask:
    """A bearer-token API on plain HTTP: no password prompt, but the token travels in clear."""
    app = Flask("token-api")

    @app.get("/")
    def index() -> Response:
        return jsonify(service="orders", links={"orders": "/orders"})

    @app.get("/orders")
    def orders() -> Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return _challenge("Bearer")
        return jsonify([{"id": 1, "total": 12.5}])

    return app


def hsts_app(*, value: str | None, on_errors: bool = True) -> Flask:
    """An HTTPS API whose HSTS header is `value` (None: absent), optionally missing on 401s."""
    app = Flask("hsts")

    @app.get("/")
    def index() -> Response:
        return jsonify(service="orders", links={"orders": "/orders"})

    @app.get("/orders")
    def orders() -> Response:
        if not _authorised():
            return _challenge()
        return jsonify([{"id": 1}])

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        if value is not None and (on_errors or response.status_code < 400):
            response.headers["Strict-Transport-Security"] = value
        return response

    return app
