"""APIs that get their response headers wrong (and twins that get them right).

Each mistake is a common one in real Flask and Starlette code: a hand-written CORS handler that
echoes the Origin, no Cache-Control on authenticated data, JSON built with json.dumps and returned
as the default text/html.
"""

from __future__ import annotations

import json

from flask import Flask, Response, jsonify, request
from flask_httpauth import HTTPBasicAuth
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

USER, PASSWORD = "alice", "correct-horse-battery-9"
PROFILE = {"id": 7, "name": "Alice", "email": "alice@example.test"}


def _basic_auth() -> HTTPBasicAuth:
    auth = HTTPBasicAuth()

    @auth.verify_password
    def verify(username: str, password: str) -> str | None:
        return username if (username, password) == (USER, PASSWORD) else None

    return auth


def leaky_flask(*, cors: str = "reflect") -> Flask:
    """CORS policy `cors`: 'reflect' (echo any Origin), 'null', 'wildcard' (with credentials)."""
    app = Flask("leaky")
    auth = _basic_auth()

    @app.get("/")
    def index() -> Response:
        return jsonify(service="notes", links={"me": "/api/me", "export": "/api/export"})

    @app.get("/api/me")
    @auth.login_required
    def me() -> Response:
        return jsonify(PROFILE)

    @app.get("/api/export")
    @auth.login_required
    def export() -> str:
        return json.dumps([PROFILE])  # Flask's default type for a str: text/html

    @app.after_request
    def add_cors(response: Response) -> Response:
        origin = request.headers.get("Origin")
        if origin and cors == "reflect":
            response.headers["Access-Control-Allow-Origin"] = origin
        elif origin == "null" and cors == "null":
            response.headers["Access-Control-Allow-Origin"] = "null"
        elif origin and cors == "wildcard":
            response.headers["Access-Control-Allow-Origin"] = "*"
        if origin:
            response.headers["Access-Control-Allow-Credentials"] = "true"
        return response

    return app


def careful_flask() -> Flask:
    """The same API done right: no-store, nosniff, JSON typed as JSON, CORS from an allow-list."""
    app = Flask("careful")
    auth = _basic_auth()
    allowed = {"https://app.example.test"}

    @app.get("/")
    def index() -> Response:
        return jsonify(service="notes", links={"me": "/api/me", "export": "/api/export"})

    @app.get("/api/me")
    @auth.login_required
    def me() -> Response:
        return jsonify(PROFILE)

    @app.get("/api/export")
    @auth.login_required
    def export() -> Response:
        return jsonify([PROFILE])

    @app.after_request
    def harden(response: Response) -> Response:
        response.headers["X-Content-Type-Options"] = "nosniff"
        if request.authorization is not None or response.status_code == 401:
            response.headers["Cache-Control"] = "private, no-store"
        origin = request.headers.get("Origin")
        if origin in allowed:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Credentials"] = "true"
            response.headers["Vary"] = "Origin"
        return response

    return app


def public_starlette() -> Starlette:
    """A public, read-only API: wildcard CORS without credentials and caching are both fine."""

    async def catalogue(request: Request) -> JSONResponse:
        return JSONResponse(
            [{"sku": "A-1", "price": 3.5}],
            headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
        )

    return Starlette(
        routes=[Route("/", catalogue), Route("/catalogue", catalogue)],
        middleware=[Middleware(CORSMiddleware, allow_origins=["*"])],
    )
