"""APIs that fail loudly — the Werkzeug debugger left on, tracebacks and SQL errors in 500s — and
a twin that fails with structured problem+json answers."""

from __future__ import annotations

import sqlite3
import traceback
from typing import Any

from flask import Flask, Response, jsonify
from werkzeug.debug import DebuggedApplication


def _routes(app: Flask) -> None:
    @app.get("/")
    def index() -> Response:
        return jsonify(links={"item": "/items/1", "search": "/search/1"})

    @app.get("/openapi.json")
    def spec() -> Response:
        return jsonify(
            {
                "openapi": "3.0.3",
                "paths": {
                    "/items/{item_id}": {"get": {"security": []}},
                    "/search/{term}": {"get": {"security": []}},
                },
            }
        )


def debug_mode_api() -> Any:
    """`app.run(debug=True)` in production: a ValueError becomes the interactive debugger."""
    app = Flask("debug-mode")
    _routes(app)

    @app.get("/items/<item_id>")
    def item(item_id: str) -> Response:
        return jsonify(id=int(item_id))  # ValueError on anything but digits

    @app.get("/search/<term>")
    def search(term: str) -> Response:
        return jsonify(term=term)

    return DebuggedApplication(app, evalex=True, console_path="/console")


def leaky_errors_api() -> Flask:
    """A hand-written error handler that returns the traceback; raw SQL errors."""
    app = Flask("leaky-errors")
    _routes(app)
    db = sqlite3.connect(":memory:", check_same_thread=False)
    db.execute("CREATE TABLE items (id INTEGER, name TEXT)")

    @app.get("/items/<item_id>")
    def item(item_id: str) -> Response:
        return jsonify(id=int(item_id))

    @app.get("/search/<term>")
    def search(term: str) -> Response:
        try:
            rows = db.execute(f"SELECT * FROM items WHERE name = '{term}'").fetchall()
        except sqlite3.Error as exc:
            return Response(f"sqlite3.OperationalError: {exc}", 500, mimetype="text/plain")
        return jsonify(rows)

    @app.errorhandler(Exception)
    def crash(exc: Exception) -> Response:
        return Response(traceback.format_exc(), 500, mimetype="text/plain")

    return app


def careful_errors_api() -> Flask:
    app = Flask("careful-errors")
    _routes(app)

    @app.get("/items/<int:item_id>")
    def item(item_id: int) -> Response:
        return jsonify(id=item_id)

    @app.get("/search/<term>")
    def search(term: str) -> Response:
        return jsonify(term=term, results=[])

    @app.errorhandler(404)
    @app.errorhandler(500)
    def problem(exc: Exception) -> Response:
        code = getattr(exc, "code", 500)
        body = {"type": "about:blank", "title": "Error", "status": code, "detail": "Not found"}
        return Response(jsonify(body).get_data(), code, mimetype="application/problem+json")

    return app


def _typed_spec() -> dict[str, Any]:
    integer = {"type": "integer"}
    return {
        "openapi": "3.0.3",
        "info": {"title": "reports", "version": "1"},
        "paths": {
            "/reports": {
                "get": {
                    "security": [],
                    "parameters": [{"name": "limit", "in": "query", "schema": integer}],
                },
                "post": {
                    "security": [],
                    "requestBody": {"content": {"application/json": {"schema": {}}}},
                },
            },
            "/accounts/{account_id}/statements": {
                "get": {
                    "security": [],
                    "parameters": [
                        {"name": "account_id", "in": "path", "required": True, "schema": integer}
                    ],
                }
            },
        },
    }


def typed_params_api(*, careful: bool, log: list[tuple[str, str, int]] | None = None) -> Flask:
    """Handlers that trust the description's types: a word where an integer belongs, or a body
    that is not JSON, raises — and the error handler returns the traceback. The careful twin
    validates and answers problem+json 400."""
    import json

    from flask import request

    app = Flask("typed-careful" if careful else "typed-leaky")

    @app.after_request
    def record(response: Response) -> Response:
        if log is not None:
            log.append((request.method, request.full_path, response.status_code))
        return response

    def problem(detail: str) -> Response:
        return Response(
            json.dumps({"title": "Bad Request", "status": 400, "detail": detail}),
            400,
            mimetype="application/problem+json",
        )

    @app.get("/openapi.json")
    def spec() -> Response:
        return jsonify(_typed_spec())

    @app.get("/reports")
    def reports() -> Response:
        raw = request.args.get("limit", "10")
        if careful and not raw.isdigit():
            return problem("limit must be an integer")
        return jsonify(reports=[], limit=int(raw))

    @app.post("/reports")
    def create_report() -> Response:
        if careful and not request.is_json:
            return problem("send application/json")
        try:
            document = json.loads(request.get_data())
        except ValueError:
            if careful:
                return problem("the body is not valid JSON")
            raise
        return jsonify(document), 201

    @app.get("/accounts/<account_id>/statements")
    def statements(account_id: str) -> Response:
        if careful and not account_id.isdigit():
            return problem("account_id must be an integer")
        return jsonify(account=int(account_id), statements=[])

    if not careful:

        @app.errorhandler(Exception)
        def crash(exc: Exception) -> Response:
            return Response(traceback.format_exc(), 500, mimetype="text/plain")

    return app
