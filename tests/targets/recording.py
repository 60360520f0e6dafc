"""A Flask API that records every request it receives, for asserting what the scanner sent."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from flask import Flask, Response, jsonify, redirect, request


@dataclass
class Log:
    entries: list[tuple[float, str, str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self) -> None:
        with self.lock:
            self.entries.append(
                (
                    time.monotonic(),
                    request.method,
                    # the raw request target: /a/%62 and /a/b are different requests
                    request.environ.get("REQUEST_URI") or request.full_path.rstrip("?"),
                    dict(request.headers),
                )
            )

    @property
    def methods(self) -> set[str]:
        return {method for _, method, _, _ in self.entries}

    @property
    def paths(self) -> list[str]:
        return [path for _, _, path, _ in self.entries]


def recording_app(log: Log, *, delay: float = 0.0, foreign: str = "http://203.0.113.9") -> Flask:
    """Links to itself and to a foreign origin; one route redirects off-origin."""
    app = Flask("recording")

    @app.before_request
    def record() -> None:
        log.add()
        if delay:
            time.sleep(delay)

    @app.get("/")
    def index() -> Response:
        return jsonify(
            links={
                "items": "/items",
                "me": "/me",
                "away": "/away",
                "elsewhere": f"{foreign}/steal",
                "protocol_relative": "//203.0.113.9/x",
            }
        )

    @app.get("/items")
    def items() -> Response:
        return jsonify([{"id": i} for i in range(3)])

    @app.get("/me")
    def me() -> Response:
        if request.authorization is None:
            return Response("", 401, {"WWW-Authenticate": 'Basic realm="rec"'})
        return jsonify(user=request.authorization.username)

    @app.get("/away")
    def away() -> Response:
        return redirect(f"{foreign}/landing", 302)  # type: ignore[return-value]

    return app
