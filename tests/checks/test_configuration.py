"""Configuration checks: nosniff on JSON, JSON served as JSON."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from middlebrick.checks import configuration as conf
from middlebrick.demo.server import serve

from checks.conftest import exchange, ids, run_passive, scan_now
from targets.headers import PASSWORD, USER, careful_flask, leaky_flask

CREDS = SecretStr(f"{USER}:{PASSWORD}")


@pytest.mark.check("MB-CONF-001")
@pytest.mark.parametrize("ctype", ["application/json", "application/problem+json; charset=utf-8"])
def test_json_without_nosniff_flags_json(ctype: str) -> None:
    found = run_passive(conf.json_without_nosniff, [exchange(headers=[("Content-Type", ctype)])])
    assert len(found) == 1


@pytest.mark.check("MB-CONF-001")
def test_json_without_nosniff_ignores_nosniff_and_non_json() -> None:
    ok = exchange(
        headers=[("Content-Type", "application/json"), ("X-Content-Type-Options", "nosniff")]
    )
    image = exchange(headers=[("Content-Type", "image/png")], body=b"\x89PNG")
    assert run_passive(conf.json_without_nosniff, [ok, image]) == []


@pytest.mark.check("MB-CONF-002")
@pytest.mark.parametrize("ctype", [("Content-Type", "text/html; charset=utf-8"), ("X-Other", "1")])
def test_json_with_wrong_content_type_flags_json_body(ctype: tuple[str, str]) -> None:
    ex = exchange(headers=[ctype], body=b'[{"id": 1, "name": "<b>x</b>"}]')
    assert len(run_passive(conf.json_with_wrong_content_type, [ex])) == 1


@pytest.mark.check("MB-CONF-002")
@pytest.mark.parametrize(
    "body",
    [b"<html><body>[1]</body></html>", b"[not json", b"", b"{} trailing", b"plain words"],
)
def test_json_with_wrong_content_type_ignores_non_json_bodies(body: bytes) -> None:
    ex = exchange(headers=[("Content-Type", "text/html")], body=body)
    assert run_passive(conf.json_with_wrong_content_type, [ex]) == []


@pytest.mark.check("MB-CONF-001")
@pytest.mark.check("MB-CONF-002")
def test_configuration_checks_flags_leaky_flask_api() -> None:
    with serve(leaky_flask()) as served:
        report = scan_now(served.url, auth=CREDS, checks=("MB-CONF-001", "MB-CONF-002"))
    assert sorted(ids(report)) == ["MB-CONF-001", "MB-CONF-002"]
    wrong_type = next(f for f in report.findings if f.check_id == "MB-CONF-002")
    assert wrong_type.endpoints == [f"GET {served.url}/api/export"]


@pytest.mark.check("MB-CONF-001")
@pytest.mark.check("MB-CONF-002")
def test_configuration_checks_ignores_careful_flask_api() -> None:
    with serve(careful_flask()) as served:
        report = scan_now(served.url, auth=CREDS, checks=("MB-CONF-001", "MB-CONF-002"))
    assert report.findings == []
