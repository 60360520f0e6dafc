"""APIs that declare Basic, Bearer (JWT) and API-key security: one enforcing everything, one with
each classic mistake. Both publish their OpenAPI document at /openapi.json."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, jsonify, request

USER, PASSWORD = "dana", "s3cure-and-long-passphrase"
API_KEY = "key-5f2b9c0e7a1d4e8f"
SECRET = b"server-side-hmac-secret"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def issue_token(sub: str = "dana", exp: int = 4_102_444_800) -> str:
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps({"sub": sub, "exp": exp}).encode())
    sig = b64url(hmac.new(SECRET, f"{head}.{body}".encode(), hashlib.sha256).digest())
    return f"{head}.{body}.{sig}"


TOKEN = issue_token()


def verify_token(token: str, *, check_signature: bool = True) -> dict[str, Any] | None:
    try:
        head, body, sig = token.split(".")
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except ValueError:
        return None
    if not check_signature:  # the mistake: decode and trust
        return claims if isinstance(claims, dict) else None
    expected = b64url(hmac.new(SECRET, f"{head}.{body}".encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(sig, expected) or claims.get("exp", 0) < 1_700_000_000:
        return None
    return claims


def spec() -> dict[str, Any]:
    def op(security: list[dict[str, list[str]]] | None = None) -> dict[str, Any]:
        operation: dict[str, Any] = {
            "responses": {"200": {"description": "OK"}, "401": {"description": "No credentials"}}
        }
        if security is not None:
            operation["security"] = security
        return {"get": operation}

    return {
        "openapi": "3.0.3",
        "info": {"title": "orders", "version": "2"},
        "components": {
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic"},
                "jwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "key": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            }
        },
        "security": [{"basic": []}],
        "paths": {
            "/v2/orders": op(),
            "/v2/status": op([]),
            "/v2/profile": op([{"jwt": []}]),
            "/v2/keys": op([{"key": []}]),
            "/v2/admin/users": op(),
            "/v2/reports": op(),
            "/v2/directory": op([]),
        },
    }


def _basic_ok() -> bool:
    auth = request.authorization
    return auth is not None and (auth.username, auth.password) == (USER, PASSWORD)


def _challenge(scheme: str = "Basic") -> Response:
    return Response("", 401, {"WWW-Authenticate": f'{scheme} realm="orders"'})


def _headers(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def correct_api() -> Flask:
    app = Flask("auth-correct")
    document = spec()
    app.after_request(_headers)

    @app.get("/")
    def index() -> Response:
        return jsonify(service="orders")

    @app.get("/openapi.json")
    def openapi() -> Response:
        return jsonify(document)

    @app.get("/v2/status")
    def status() -> Response:
        return jsonify(ok=True)

    @app.get("/v2/directory")  # public on purpose: names only
    def directory() -> Response:
        return jsonify([{"name": "Dana"}, {"name": "Eli"}])

    @app.get("/v2/orders")
    @app.get("/v2/admin/users")
    @app.get("/v2/reports")
    def basic_only() -> Response:
        if not _basic_ok():
            return _challenge()
        return jsonify([{"id": 1}])

    @app.get("/v2/profile")
    def profile() -> Response:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or verify_token(token) is None:
            return _challenge("Bearer")
        return jsonify(user=USER)

    @app.get("/v2/keys")
    def keys() -> Response:
        if not hmac.compare_digest(request.headers.get("X-API-Key", ""), API_KEY):
            return Response(
                json.dumps({"error": "invalid api key"}),
                401,
                {"WWW-Authenticate": "ApiKey"},
                mimetype="application/json",
            )
        return jsonify(keys=["k1"])

    return app


def broken_api() -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    """Each mistake once; auth for /v2/admin/users lives in a WSGI layer (like a proxy rule)."""
    app = Flask("auth-broken")
    document = spec()
    app.after_request(_headers)

    @app.get("/")
    def index() -> Response:
        return jsonify(service="orders")

    @app.get("/openapi.json")
    def openapi() -> Response:
        return jsonify(document)

    @app.get("/v2/status")  # declared public, demands credentials (and forgets the challenge)
    def status() -> Response:
        if not _basic_ok():
            return Response("", 401)
        return jsonify(ok=True)

    @app.get("/v2/orders")  # declared secured, forgot the check
    def orders() -> Response:
        return jsonify([{"id": 1, "total": 12.5}])

    @app.get("/v2/directory")  # documented as public, and it hands out everyone's details
    def directory() -> Response:
        return jsonify(
            [
                {"name": "Dana", "email": "dana@example.test", "phone": "+1 202 555 0143"},
                {"name": "Eli", "email": "eli@example.test", "phone": "+1 202 555 0199"},
            ]
        )

    @app.get("/v1/orders")  # the old version, still live and still open
    def old_orders() -> Response:
        return jsonify([{"id": 1, "total": 12.5}])

    @app.get("/v2/reports")  # also accepts credentials in the query string
    def reports() -> Response:
        query_ok = (request.args.get("username"), request.args.get("password")) == (USER, PASSWORD)
        if not (_basic_ok() or query_ok):
            return _challenge()
        return jsonify(reports=[1, 2])

    @app.get("/v2/profile")  # decodes the JWT without verifying it; challenges the wrong scheme
    def profile() -> Response:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or verify_token(token, check_signature=False) is None:
            return _challenge("Basic")
        return jsonify(user=USER)

    @app.get("/v2/keys")  # challenges with Basic where the description declares an API key
    def keys() -> Response:
        if request.headers.get("X-API-Key") != API_KEY:
            return _challenge("Basic")
        return jsonify(keys=["k1"])

    @app.get("/v2/admin/users")
    def admin_users() -> Response:
        return jsonify([{"id": 1, "name": "Dana", "role": "admin"}])

    def rewrite(environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        original = environ.get("HTTP_X_ORIGINAL_URL")
        if original:  # the app honours a rewrite header its front layer never checked
            environ["PATH_INFO"] = original
        return app.wsgi_app(environ, start)

    def guard(environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        # the "proxy rule": an exact, case-sensitive match on the raw path
        if environ.get("PATH_INFO") == "/v2/admin/users" and "HTTP_AUTHORIZATION" not in environ:
            start("401 Unauthorized", [("WWW-Authenticate", 'Basic realm="admin"')])
            return [b""]
        return rewrite(environ, start)

    return guard
