"""The demo API — a small team-notes service in Flask with HTTP Basic Auth (Flask-HTTPAuth) — as a
newcomer often first writes it, and its fixed twin.

Every mistake in `vulnerable_app` is one a scanner can see from outside: plain HTTP with a Basic
challenge, plaintext passwords, no `Cache-Control: no-store` on authenticated data, no HSTS or
nosniff, a CORS hook that echoes any Origin with credentials, JSON returned as `text/html`, a route
that forgot `@auth.login_required`, the Werkzeug version in `Server`, and credentials written to a
log file that the app also serves.
"""

from __future__ import annotations

import copy
import json
import logging
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request
from flask_httpauth import HTTPBasicAuth
from werkzeug.security import check_password_hash, generate_password_hash

DEMO_USER = "alice"
DEMO_PASSWORD = "wonderland-demo-2024"

_USERS = {
    "alice": {"id": 1, "name": "Alice Liddell", "email": "alice@example.test", "role": "admin"},
    "bob": {"id": 2, "name": "Bob Builder", "email": "bob@example.test", "role": "member"},
}
_PASSWORDS = {"alice": DEMO_PASSWORD, "bob": "can-we-fix-it-2024"}
_NOTES = [
    {"id": 1, "owner": 1, "title": "Launch checklist", "body": "Rotate the staging keys"},
    {"id": 2, "owner": 2, "title": "Groceries", "body": "Milk, bread"},
]


def openapi(*, title: str) -> dict[str, Any]:
    """The API's OpenAPI 3.0 document: every route declared as secured by HTTP Basic."""

    def op(summary: str, *, params: bool = False) -> dict[str, Any]:
        operation: dict[str, Any] = {
            "summary": summary,
            "responses": {"200": {"description": "OK"}, "401": {"description": "No credentials"}},
        }
        if params:
            operation["parameters"] = [
                {"name": "user_id", "in": "path", "required": True, "schema": {"type": "integer"}}
            ]
        return {"get": operation}

    return {
        "openapi": "3.0.3",
        "info": {"title": title, "version": "1.0.0"},
        "components": {"securitySchemes": {"basicAuth": {"type": "http", "scheme": "basic"}}},
        "security": [{"basicAuth": []}],
        "paths": {
            "/api/v1/me": op("The caller's profile"),
            "/api/v1/notes": op("The caller's notes"),
            "/api/v1/users/{user_id}/notes": op("A user's notes", params=True),
            "/api/v1/export": op("Export all notes"),
        },
    }


def vulnerable_app(log_dir: Path | None = None) -> Flask:
    """The demo API with its mistakes; its log goes to `log_dir/app.log` (default: a temp dir)."""
    app = Flask("middlebrick-demo")
    auth = HTTPBasicAuth()
    logger, log_file = _file_logger(app, log_dir)
    spec = openapi(title="Team notes (vulnerable)")

    @auth.verify_password
    def verify(username: str, password: str) -> str | None:
        # MISTAKE: plaintext passwords, compared with ==, and the attempt logged in full
        logger.info("login user=%s password=%s", username, password)
        return username if _PASSWORDS.get(username) == password else None

    @app.get("/")
    def index() -> Response:
        return jsonify(service="team-notes", version="1.0.0", docs="/openapi.json")

    @app.get("/openapi.json")
    def spec_document() -> Response:
        return jsonify(spec)

    @app.get("/api/v1/me")
    @auth.login_required
    def me() -> Response:
        user = dict(_USERS[auth.current_user()])
        user["password"] = _PASSWORDS[auth.current_user()]  # MISTAKE: echoes the password
        return jsonify(user)

    @app.get("/api/v1/notes")
    @auth.login_required
    def notes() -> Response:
        owner = _USERS[auth.current_user()]["id"]
        return jsonify([n for n in _NOTES if n["owner"] == owner])

    @app.get("/api/v1/users/<int:user_id>/notes")  # MISTAKE: forgot @auth.login_required
    def user_notes(user_id: int) -> Response:
        return jsonify([n for n in _NOTES if n["owner"] == user_id])

    @app.get("/api/v1/export")
    @auth.login_required
    def export() -> str:
        return json.dumps(copy.deepcopy(_NOTES))  # MISTAKE: a str is sent as text/html

    @app.get("/logs/app.log")
    def logs() -> Response:  # MISTAKE: the log, with credentials in it, is public
        # read at once: send_file's Content-Length would go stale while the log grows
        return Response(log_file.read_bytes(), mimetype="text/plain")

    @app.after_request
    def cors(response: Response) -> Response:
        origin = request.headers.get("Origin")
        if origin:  # MISTAKE: any origin, with credentials
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Credentials"] = "true"
        return response

    return app


def fixed_app() -> Flask:
    """The same API done right; serve it over HTTPS with a versionless `Server` header."""
    app = Flask("middlebrick-demo-fixed")
    auth = HTTPBasicAuth()
    hashes = {user: generate_password_hash(pw) for user, pw in _PASSWORDS.items()}
    spec = openapi(title="Team notes (fixed)")

    @auth.verify_password
    def verify(username: str, password: str) -> str | None:
        stored = hashes.get(username)
        return username if stored and check_password_hash(stored, password) else None

    @app.get("/")
    def index() -> Response:
        return jsonify(service="team-notes", version="1.0.0", docs="/openapi.json")

    @app.get("/openapi.json")
    def spec_document() -> Response:
        return jsonify(spec)

    @app.get("/api/v1/me")
    @auth.login_required
    def me() -> Response:
        return jsonify(_USERS[auth.current_user()])

    @app.get("/api/v1/notes")
    @auth.login_required
    def notes() -> Response:
        owner = _USERS[auth.current_user()]["id"]
        return jsonify([n for n in _NOTES if n["owner"] == owner])

    @app.get("/api/v1/users/<int:user_id>/notes")
    @auth.login_required
    def user_notes(user_id: int) -> Response:
        if _USERS[auth.current_user()]["id"] != user_id:
            return Response(status=404)
        return jsonify([n for n in _NOTES if n["owner"] == user_id])

    @app.get("/api/v1/export")
    @auth.login_required
    def export() -> Response:
        return jsonify(_NOTES)

    @app.after_request
    def harden(response: Response) -> Response:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        response.headers["X-Content-Type-Options"] = "nosniff"
        if request.authorization is not None or response.status_code == 401:
            response.headers["Cache-Control"] = "no-store"
        return response

    return app


def _file_logger(app: Flask, log_dir: Path | None) -> tuple[logging.Logger, Path]:
    """A logger writing to `app.log`, private to `app`: not registered with `logging` (two apps
    never share a file) and closed, its temp dir removed, when the app is collected or at exit."""
    directory = log_dir or Path(tempfile.mkdtemp(prefix="middlebrick-demo-"))
    log_file = directory / "app.log"
    handler = logging.FileHandler(log_file)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.Logger("team-notes", logging.INFO)
    logger.addHandler(handler)
    weakref.finalize(app, _close_log, handler, None if log_dir else directory)
    return logger, log_file


def _close_log(handler: logging.Handler, owned: Path | None) -> None:
    handler.close()
    if owned:
        shutil.rmtree(owned, ignore_errors=True)
