"""A webhook receiver that checks every signature with its own HMAC code (not middlebrick's)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from typing import Any

from flask import Flask, Response, request

SECRET = "whsec-monitoring-5be1"


def receiver(fail_first: int = 0) -> tuple[Flask, list[dict[str, Any]]]:
    """Answers 503 to the first `fail_first` deliveries, 200 after; records each one."""
    received: list[dict[str, Any]] = []
    lock = threading.Lock()
    app = Flask("receiver")

    @app.post("/hook")
    def hook() -> Response:
        raw = request.get_data()
        stamp, _, mac = request.headers["X-Middlebrick-Signature"].partition(",v1=")
        expected = hmac.new(
            SECRET.encode(), stamp.removeprefix("t=").encode() + b"." + raw, hashlib.sha256
        ).hexdigest()
        with lock:
            received.append(
                {
                    "valid": hmac.compare_digest(expected, mac),
                    "event": request.headers["X-Middlebrick-Event"],
                    "delivery": request.headers["X-Middlebrick-Delivery"],
                    "body": json.loads(raw),
                }
            )
            failing = len(received) <= fail_first
        return Response("no" if failing else "ok", 503 if failing else 200)

    return app, received
