"""The public status badge: the grade of a target's latest finished scan as an SVG that GitHub's
camo proxy revalidates, reachable only by its random key, escaped and script-free."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from middlebrick import __version__
from middlebrick.model import Coverage, Report, Score, TargetInfo
from middlebrick.web.badge import COLOURS, GREY, Badge, badge_for, render
from middlebrick.web.store import Store, TargetRecord, UserRecord
from web.conftest import Dashboard

SVG = "{http://www.w3.org/2000/svg}"
TARGET = "https://api.example.test"


def report(grade: str, score: int, *, minutes: int = 0) -> Report:
    started = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    return Report(
        tool_version=__version__,
        target=TargetInfo(
            url=TARGET,
            origin=TARGET,
            scanned_origin=TARGET,
            server=None,
            framework="generic",
            auth_schemes=[],
            tls=True,
        ),
        spec=None,
        config={},
        started_at=started,
        finished_at=started + timedelta(seconds=5),
        duration_s=5.0,
        requests_sent=10,
        score=Score(score=score, grade=grade, categories=[]),  # type: ignore[arg-type]
        findings=[],
        checks=[],
        coverage=Coverage(operations_declared=0, operations_tested=0),
        exchanges=[],
    )


def target_of(store: Store, user: UserRecord) -> TargetRecord:
    return store.target_for(user.id, TARGET)


def texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def fill_of_message_box(svg: str) -> str:
    rects = list(ET.fromstring(svg).iter(f"{SVG}rect"))
    return rects[2].attrib["fill"]  # clip rect, label box, message box


def test_badge_shows_the_latest_grade_in_its_colour(
    dashboard: Dashboard, store: Store, users: dict[str, UserRecord]
) -> None:
    alice = users["alice"]
    key = target_of(store, alice).badge_key
    anonymous = dashboard.client()

    empty = anonymous.get(f"/badge/{key}.svg")
    assert empty.status_code == 200
    assert "no scan" in texts(empty.text)
    assert fill_of_message_box(empty.text) == GREY

    for minutes, (grade, score) in enumerate([("F", 41), ("C", 74), ("A", 96)]):
        store.store_report(alice.id, report(grade, score, minutes=minutes))
        answer = anonymous.get(f"/badge/{key}.svg")
        assert answer.status_code == 200
        assert texts(answer.text) == ["middlebrick"] * 2 + [f"{grade} · {score}"] * 2
        assert fill_of_message_box(answer.text) == COLOURS[grade]
    assert not answer.cookies
    assert TARGET not in answer.text  # the grade only: nothing about the target


def test_badge_headers_suit_camo(
    dashboard: Dashboard, store: Store, users: dict[str, UserRecord]
) -> None:
    """camo needs an image type and keeps its copy unless told to revalidate: no-cache with an
    ETag makes every view ask, and an unchanged badge costs a 304."""
    alice = users["alice"]
    key = target_of(store, alice).badge_key
    client = dashboard.client()
    first = client.get(f"/badge/{key}.svg")
    assert first.headers["content-type"] == "image/svg+xml; charset=utf-8"
    assert first.headers["cache-control"] == "no-cache"
    assert first.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in first.headers["content-security-policy"]
    etag = first.headers["etag"]

    unchanged = client.get(f"/badge/{key}.svg", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged.headers["etag"] == etag

    store.store_report(alice.id, report("B", 85))
    changed = client.get(f"/badge/{key}.svg", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert "B · 85" in texts(changed.text)


@pytest.mark.parametrize(
    "key",
    ["unknown-but-well-formed-key-000000", "short", "not+a+key", "a" * 65, "%00"],
)
def test_unknown_badge_keys_get_a_not_found_badge(dashboard: Dashboard, key: str) -> None:
    answer = dashboard.client().get(f"/badge/{key}.svg")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "image/svg+xml; charset=utf-8"
    assert texts(answer.text)[-1] == "not found"


def test_a_badge_key_is_random_and_only_the_key_finds_it(
    dashboard: Dashboard, store: Store, users: dict[str, UserRecord]
) -> None:
    alice, bob = users["alice"], users["bob"]
    keys = {target_of(store, alice).badge_key, target_of(store, bob).badge_key}
    keys.add(store.target_for(alice.id, "https://other.example.test").badge_key)
    assert len(keys) == 3
    assert all(len(k) >= 32 and re.fullmatch(r"[A-Za-z0-9_-]+", k) for k in keys)
    target = target_of(store, alice)
    store.store_report(alice.id, report("A", 99))
    client = dashboard.client()
    assert client.get(f"/badge/{target.badge_key}.svg").status_code == 200
    for guess in (str(target.id), target.badge_key[:-1], target.badge_key.upper()):
        if guess != target.badge_key:
            assert client.get(f"/badge/{guess}.svg").status_code == 404


def test_the_svg_escapes_its_text_and_carries_nothing_active() -> None:
    hostile = Badge('<script>alert(1)</script>" onload="x" &amp;', '"/><script>x</script>')
    svg = render(hostile, label="<a href='javascript:x'>")
    root = ET.fromstring(svg)  # well-formed: nothing broke out of its attribute or element
    tags = {element.tag.removeprefix(SVG) for element in root.iter()}
    assert tags <= {"svg", "title", "linearGradient", "stop", "clipPath", "rect", "g", "text"}
    attributes = {name for element in root.iter() for name in element.attrib}
    assert not {a for a in attributes if a.lower().startswith("on") or "href" in a.lower()}
    assert "<script" not in svg
    assert hostile.message in texts(svg)
    assert root.find(f"{SVG}title").text == f"<a href='javascript:x'>: {hostile.message}"


@pytest.mark.parametrize(
    ("grade", "score", "message", "colour"),
    [
        ("A", 100, "A · 100", "#4c1"),
        ("B", 80, "B · 80", "#97ca00"),
        ("C", 70, "C · 70", "#dfb317"),
        ("D", 60, "D · 60", "#fe7d37"),
        ("F", 0, "F · 0", "#e05d44"),
        (None, None, "no scan", GREY),
        ("<x>", 50, "no scan", GREY),
    ],
)
def test_badge_for_each_grade(
    grade: str | None, score: int | None, message: str, colour: str
) -> None:
    assert badge_for(grade, score) == Badge(message, colour)


def test_the_badge_needs_no_login_but_the_api_does(
    dashboard: Dashboard, store: Store, users: dict[str, UserRecord]
) -> None:
    key = target_of(store, users["alice"]).badge_key
    with httpx.Client(base_url=dashboard.url, follow_redirects=False) as anonymous:
        assert anonymous.get(f"/badge/{key}.svg").status_code == 200
        assert anonymous.get("/api/v1/targets").status_code == 401
