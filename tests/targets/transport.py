"""APIs that get transport security wrong, each beside the clean API in targets.clean.

The mistakes are the ones found in real deployments: an auth layer that answers before the HTTPS
redirect, a 302 where a 301 belongs, Werkzeug's ProxyFix trusting a client's X-Forwarded-Proto,
HSTS set in one view only or with a short max-age.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify, redirect, request
from werkzeug.middleware.proxy_fix import ProxyFix

from targets.clean import PASSWORD, USER


def _authorised() -> bool:
    auth = request.authorization
    return auth is not None and (auth.username, auth.password) == (USER, PASSWORD)


def _challenge() -> Response:
    return Response("", 401, {"WWW-Authenticate": 'Basic realm="api"'})


def http_listener(
    https_port: int, *, status: int = 301, challenge_first: bool = False, serve_data: bool = False
) -> Flask:
    """The plain-HTTP side of a deployment: redirects to HTTPS, except where it must not."""
    app = Flask("http-listener")

    @app.route("/", defaults={"path": ""})
    @app.route("/<path:path>")
    def upgrade(path: str) -> Response:
        if path and challenge_first and not _authorised():
            return _challenge()  # the auth layer runs before the redirect
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
