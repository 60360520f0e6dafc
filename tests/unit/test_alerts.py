"""Alerts: what a scan's change says, and webhook delivery to a real receiver that checks the
signature with its own HMAC code."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time

import pytest
from flask import Flask, Response, request

from middlebrick import alerts
from middlebrick.config import ScanConfig
from middlebrick.demo.apps import fixed_app, vulnerable_app
from middlebrick.demo.server import serve
from middlebrick.engine import scan
from middlebrick.model import Report

SECRET = "whsec-test-3f9a1c"


@pytest.fixture(scope="module")
def reports() -> tuple[Report, Report]:
    """A scan of the fixed demo API, then one of the vulnerable one: the API got worse."""
    found = []
    for app in (fixed_app(), vulnerable_app()):
        with serve(app) as served:
            found.append(asyncio.run(scan(ScanConfig(target=served.url, budget=30))))
    return found[0], found[1]


def test_a_worse_scan_alerts_on_the_grade_and_the_new_findings(reports: tuple) -> None:
    good, bad = reports
    found = alerts.alerts_for("orders", "s2", bad, good, link="http://dash/scans/s2")
    kinds = [a.kind for a in found]
    assert kinds == [alerts.AlertKind.GRADE_DROP, alerts.AlertKind.NEW_FINDING]
    drop, new = found
    assert (drop.previous_grade, drop.grade) == (good.score.grade, bad.score.grade)
    assert new.new_findings == len(new.findings) >= 2
    assert {f["severity"] for f in new.findings} <= {"critical", "high"}
    body = json.dumps(alerts.payload(new))
    assert "evidence" not in body  # titles and endpoints only, never excerpts


def test_no_alert_when_nothing_got_worse(reports: tuple) -> None:
    good, bad = reports
    assert alerts.alerts_for("orders", "s3", good, bad) == []  # better: no alert
    assert alerts.alerts_for("orders", "s3", bad, bad) == []  # unchanged
    assert alerts.alerts_for("orders", "s1", bad, None) == []  # a first scan


def test_a_failed_scan_alerts() -> None:
    [alert] = alerts.alerts_for("orders", "s4", None, None, error="the host does not resolve")
    assert alert.kind is alerts.AlertKind.SCAN_FAILED
    assert "does not resolve" in alerts.summary(alert)


def _receiver(fail_first: int) -> tuple[Flask, list[dict]]:
    """Answers 503 to the first `fail_first` deliveries; checks each signature independently."""
    received: list[dict] = []
    lock = threading.Lock()
    app = Flask("receiver")

    @app.post("/hook")
    def hook() -> Response:
        raw = request.get_data()
        stamp, _, mac = request.headers["X-Middlebrick-Signature"].partition(",v1=")
        stamp = stamp.removeprefix("t=")
        expected = hmac.new(SECRET.encode(), stamp.encode() + b"." + raw, hashlib.sha256)
        with lock:
            received.append(
                {
                    "valid": hmac.compare_digest(expected.hexdigest(), mac),
                    "fresh": abs(time.time() - int(stamp)) < 60,
                    "delivery": request.headers["X-Middlebrick-Delivery"],
                    "event": request.headers["X-Middlebrick-Event"],
                    "body": json.loads(raw),
                }
            )
            failing = len(received) <= fail_first
        return Response("busy" if failing else "ok", 503 if failing else 200)

    return app, received


def test_delivery_retries_with_backoff_and_signs_every_attempt() -> None:
    app, received = _receiver(fail_first=2)
    alert = alerts.Alert(alerts.AlertKind.SCAN_FAILED, "orders", "s9", error="refused")
    with serve(app) as served:
        started = time.monotonic()
        record = asyncio.run(
            alerts.deliver(f"{served.url}/hook", alert, SECRET, backoff=(0.2, 0.4))
        )
        elapsed = time.monotonic() - started
    assert record.delivered
    assert (record.attempts, record.status) == (3, 200)
    assert record.log == ["attempt 1: HTTP 503", "attempt 2: HTTP 503", "attempt 3: HTTP 200"]
    assert elapsed >= 0.6  # the backoff was waited for
    assert all(r["valid"] and r["fresh"] for r in received)
    assert {r["delivery"] for r in received} == {record.id}  # one delivery, three attempts
    assert received[0]["body"]["event"] == "scan_failed"


def test_delivery_gives_up_and_says_why() -> None:
    app, received = _receiver(fail_first=99)
    alert = alerts.Alert(alerts.AlertKind.SCAN_FAILED, "orders", "s9", error="refused")
    with serve(app) as served:
        record = asyncio.run(
            alerts.deliver(f"{served.url}/hook", alert, SECRET, attempts=2, backoff=(0.05,))
        )
        unreachable = asyncio.run(
            alerts.deliver("http://127.0.0.1:9/hook", alert, SECRET, attempts=1)
        )
    assert not record.delivered
    assert (record.attempts, record.status) == (2, 503)
    assert len(received) == 2
    assert not unreachable.delivered
    assert unreachable.status is None
    assert unreachable.error


def test_verify_refuses_tampering_replay_and_the_wrong_secret() -> None:
    body = b'{"event":"grade_drop"}'
    now = time.time()
    header = alerts.sign(body, SECRET, int(now))
    assert alerts.verify(header, body, SECRET, now=now)
    assert not alerts.verify(header, body + b" ", SECRET, now=now)
    assert not alerts.verify(header, body, "another-secret", now=now)
    assert not alerts.verify(header, body, SECRET, now=now + alerts.REPLAY_WINDOW + 1)
    assert not alerts.verify("t=abc,v1=00", body, SECRET, now=now)
    assert not alerts.verify("", body, SECRET, now=now)


def test_slack_messages_cannot_be_given_links_or_mentions_by_a_target() -> None:
    alert = alerts.Alert(
        alerts.AlertKind.NEW_FINDING,
        "orders",
        "s5",
        grade="F",
        findings=(
            {
                "check_id": "MB-DATA-012",
                "title": "Response contains secrets",
                "severity": "high",
                "endpoint": "GET http://api.test/<http://evil.test|click> <!channel>",
            },
        ),
        new_findings=1,
    )
    text = alerts.slack_message(alert)["text"]
    assert "<http://evil" not in text
    assert "<!channel>" not in text
    assert "&lt;!channel&gt;" in text
