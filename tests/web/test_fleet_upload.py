"""Fleet uploads on the dashboard: a `scan-many` file, pasted or uploaded, becomes one queued scan
per target and a summary page follows them to their grades. What would read the server's own
environment or disk (credential variables, spec files) is refused before anything is sent, as
is anything the target policy refuses; uploads are capped; another user's scans are 404."""

from __future__ import annotations

import html
import re
import time
import uuid

import pytest
from flask import Flask, jsonify, request

from middlebrick.demo.apps import fixed_app, vulnerable_app
from middlebrick.demo.server import serve
from middlebrick.web.pages.fleet import MAX_FLEET_BYTES, MAX_FLEET_TARGETS
from middlebrick.web.store import ScanStatus
from web.conftest import Dashboard, User

SERVER_SECRET = "server-env-secret-91f3b7c2"
_ERROR = re.compile(r'<p class="error" role="alert">(.*?)</p>', re.S)


def _upload(user: User, text: str) -> tuple[int, str, str]:
    """The status, location and error line of a pasted fleet file."""
    answer = user.post("/fleet", data={"fleet": text}, files={"fleet_file": ("", b"")})
    error = _ERROR.search(answer.text)
    return (
        answer.status_code,
        answer.headers.get("location", ""),
        html.unescape(error.group(1)) if error else "",
    )


def _ids(location: str) -> list[str]:
    assert location.startswith("/fleet/scans?ids=")
    return location.removeprefix("/fleet/scans?ids=").split(",")


def test_a_fleet_of_two_real_apis_ends_with_two_done_scans(
    alice: User, dashboard: Dashboard
) -> None:
    with serve(vulnerable_app()) as bad, serve(fixed_app()) as good:
        status, location, error = _upload(
            alice,
            f"""
defaults:
  budget: 30
  fail-on: high          # a CLI gate: ignored here
targets:
  - name: legacy
    target: {bad.url}
    skip: [MB-ENC-001]
  - target: {good.url}/
    spec: {good.url}/openapi.json
    rate: 200
""",
        )
        assert (status, error) == (303, "")
        ids = _ids(location)
        assert len(ids) == 2
        legacy, fixed = (dashboard.store.get_scan(alice.user.id, i) for i in ids)
        assert legacy is not None
        assert fixed is not None
        assert (legacy.target_url, fixed.target_url) == (bad.url, good.url)
        assert legacy.settings["budget"] == 30
        assert legacy.settings["skip_checks"] == ["MB-ENC-001"]
        assert fixed.settings["spec_url"] == f"{good.url}/openapi.json"
        assert fixed.settings["rate"] == 200

        first = alice.get(location).text
        shown = re.search(r'data-finished="(\d)" data-total="2"', first)
        assert shown is not None
        if shown.group(1) != "2":  # still running: the list polls itself
            assert f'hx-get="/fleet/scans?ids={ids[0]},{ids[1]}" hx-trigger="every 2s"' in first
            assert '<meta http-equiv="refresh" content="2">' in first
        ended = [alice.wait(i, timeout=90) for i in ids]
    assert [s.status for s in ended] == [ScanStatus.DONE, ScanStatus.DONE]
    assert ended[0].grade == "F"
    fragment = alice.get(location, headers={"HX-Request": "true"}).text
    assert fragment.startswith('<section id="fleet-scans"')
    assert "hx-get" not in fragment  # all finished: polling stops
    assert "2 of 2 scans finished" in fragment
    for scan in ended:
        assert f'<a href="/scans/{scan.id}">report</a>' in fragment
        assert f'<span class="grade-chip grade-{scan.grade}"' in fragment


def test_a_fleet_file_can_be_uploaded_as_a_file(alice: User, dashboard: Dashboard) -> None:
    text = b"\xef\xbb\xbftargets:\n  - target: http://127.0.0.1:9\n    budget: 5\n"
    answer = alice.post(
        "/fleet",
        data={"fleet": ""},
        files={"fleet_file": ("targets.yml", text, "application/yaml")},
    )
    assert answer.status_code == 303, answer.text
    [scan_id] = _ids(answer.headers["location"])
    assert alice.wait(scan_id).status == ScanStatus.FAILED  # nothing listens on port 9
    page = alice.get(answer.headers["location"]).text
    assert "refused" in page


def test_credential_variables_are_refused_before_anything_is_sent(
    alice: User, dashboard: Dashboard, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the server these names would read the server's environment: an uploader could send
    its secrets to a host they control."""
    monkeypatch.setenv("FLEET_SERVER_SECRET", SERVER_SECRET)
    hits: list[str] = []
    api = Flask("collector")

    @api.before_request
    def record() -> None:
        hits.append(f"{request.path} {dict(request.headers)}")

    @api.get("/")
    def index() -> object:
        return jsonify(ok=True)

    with serve(api) as collector:
        one = f"targets:\n  - target: {collector.url}/fine\n  - target: {collector.url}\n"
        variable = "FLEET_SERVER_SECRET"
        cases = {
            "auth_env": f"{one}    auth_env: {variable}\n",
            "bearer_env": f"{one}    bearer_env: {variable}\n",
            "headers_env": f"{one}    headers_env: {{X-Api-Key: {variable}}}\n",
            "auth_env in the defaults": f"defaults:\n  auth_env: {variable}\n{one}",
        }
        for case, text in cases.items():
            status, location, error = _upload(alice, text)
            assert status == 400, case
            assert "is refused in an upload" in error, case
            assert "server's environment" in error, case
            assert location == ""
            key = case.split()[0]
            assert f"`{key}`" in error
        time.sleep(0.5)  # a scan queued by mistake would have started by now
    assert hits == []
    assert dashboard.store.list_scans(alice.user.id) == []
    assert SERVER_SECRET.encode() not in dashboard.database_bytes()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "targets:\n  - target: http://127.0.0.1:9\n    spec: specs/api.yaml\n",
            "`spec` must be a URL",
        ),
        ("targets:\n  - target: http://127.0.0.1:9\n    unsafe: true\n", "`unsafe` is refused"),
        ("targets:\n  - target: http://127.0.0.1:9\n    budget: 5000\n", "budget must be 5-900"),
        ("targets:\n  - target: http://127.0.0.1:9\n    checks: [MB-NOPE-001]\n", "unknown check"),
        ("targets:\n  - target: http://127.0.0.1:9\n    budjet: 5\n", "budjet"),
        ("targets:\n  - target: http://127.0.0.1:9\n    password: hunter2-fleet\n", "credential"),
        ("targets:\n  - target: http://u:hunter2-fleet@127.0.0.1:9\n", "user name or password"),
        (
            "targets:\n  - target: http://127.0.0.1:9\n  - target: http://127.0.0.1:9/\n",
            "already used",
        ),
        ("targets: []\n", "targets"),
        ("targets: [\n", "not valid YAML"),
        ("   \n", "is empty"),
        (
            "targets:\n  - target: http://127.0.0.1:9\n  - target: http://169.254.169.254\n",
            "targets[1] (169.254.169.254): target 169.254.169.254 is a cloud metadata",
        ),
        (
            "targets:\n  - target: http://127.0.0.1:9\n    spec: http://169.254.169.254/x.json\n",
            "spec 169.254.169.254 is a cloud metadata",
        ),
    ],
)
def test_a_refused_fleet_file_says_why_in_one_line_and_queues_nothing(
    alice: User, dashboard: Dashboard, text: str, message: str
) -> None:
    status, _, error = _upload(alice, text)
    assert status == 400
    assert message in error
    assert "\n" not in error
    assert error.startswith("the fleet file")
    assert dashboard.store.list_scans(alice.user.id) == []
    page = alice.post("/fleet", data={"fleet": text}).text
    assert "hunter2-fleet" not in page  # a refused file is never shown again
    assert b"hunter2-fleet" not in dashboard.database_bytes()


def test_uploads_are_capped_in_targets_and_size(alice: User, dashboard: Dashboard) -> None:
    many = "targets:\n" + "".join(
        f"  - target: http://127.0.0.1:9/{n}\n" for n in range(MAX_FLEET_TARGETS + 1)
    )
    status, _, error = _upload(alice, many)
    assert (status, error) == (400, "the fleet file lists 201 targets; an upload takes at most 200")
    large = "targets:\n  - target: http://127.0.0.1:9\n" + "#" * MAX_FLEET_BYTES
    assert "is larger than 256 KiB" in _upload(alice, large)[2]
    answer = alice.post(
        "/fleet", files={"fleet_file": ("big.yml", large.encode(), "application/yaml")}
    )
    assert answer.status_code == 400
    assert "is larger than 256 KiB" in answer.text
    both = alice.post(
        "/fleet",
        data={"fleet": "targets: []"},
        files={"fleet_file": ("f.yml", b"targets: []", "application/yaml")},
    )
    assert "upload the fleet file or paste it, not both" in both.text
    assert dashboard.store.list_scans(alice.user.id) == []


def test_a_file_of_nested_aliases_is_refused_at_once(alice: User, dashboard: Dashboard) -> None:
    """A few hundred bytes of YAML aliases name a list of 10**9 items: never expanded."""
    anchors = ['&a0 ["x","x","x","x","x","x","x","x","x","x"]']
    anchors += [f"&a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    text = f"targets:\n  - target: http://127.0.0.1:9\n    name: [{', '.join(anchors)}]\n"
    started = time.monotonic()
    status, _, error = _upload(alice, text)
    assert time.monotonic() - started < 5
    assert (status, error) == (400, "the fleet file: targets[0]: name: a target's name is text")


def test_a_fleet_summary_shows_only_the_users_own_scans(
    alice: User, bob: User, dashboard: Dashboard
) -> None:
    mine = dashboard.store.create_scan(alice.user.id, "http://127.0.0.1:9/alices", {})
    other = dashboard.store.create_scan(bob.user.id, "http://127.0.0.1:9/bobs", {})
    queued = alice.get(f"/fleet/scans?ids={mine.id}").text  # queued, never run: it polls
    assert "alices" in queued
    assert f'hx-get="/fleet/scans?ids={mine.id}" hx-trigger="every 2s"' in queued
    assert "0 of 1 scans finished" in queued
    too_many = ",".join(uuid.uuid4().hex for _ in range(201))
    for ids in (mine.id, f"{other.id},{mine.id}", "not-an-id", too_many):
        answer = bob.get(f"/fleet/scans?ids={ids}")
        assert answer.status_code == 404, ids
        assert "alices" not in answer.text
    assert "No scans here." in bob.get("/fleet/scans").text
