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
