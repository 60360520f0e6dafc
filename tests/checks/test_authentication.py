"""Authentication and inventory checks against real APIs declaring Basic, Bearer and API-key
security: the broken one must show each mistake once at the right endpoint, the correct one none."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from middlebrick.checks import authentication as auth
from middlebrick.checks.analyzers import jwt
from middlebrick.demo.server import Served, serve
from middlebrick.model import Finding, Report, Severity

from checks.conftest import exchange, run_passive, scan_now
from targets.auth import PASSWORD, TOKEN, USER, broken_api, correct_api

CREDS = SecretStr(f"{USER}:{PASSWORD}")
AUTH_CHECKS = (*(f"MB-AUTH-00{i}" for i in range(1, 7)), "MB-AUTH-012", "MB-INV-001", "MB-INV-002")


@pytest.fixture(scope="module")
def broken() -> Iterator[tuple[Served, Report]]:
    with serve(broken_api()) as served:
        yield served, scan_now(served.url, auth=CREDS, checks=AUTH_CHECKS)


@pytest.fixture(scope="module")
def correct() -> Iterator[tuple[Served, Report]]:
    with serve(correct_api()) as served:
        yield served, scan_now(served.url, auth=CREDS, checks=AUTH_CHECKS)


def only(report: Report, check_id: str) -> list[Finding]:
    return [f for f in report.findings if f.check_id == check_id]


def paths(finding: Finding, url: str) -> list[str]:
    return [e.split(" ", 1)[1].removeprefix(url) for e in finding.endpoints]


def test_auth_checks_ignores_the_correct_api(correct: tuple[Served, Report]) -> None:
    _, report = correct
    assert [f.check_id for f in report.findings] == ["MB-INV-001"]  # it publishes its spec: info
    assert report.coverage.operations_declared == 7


@pytest.mark.check("MB-AUTH-001")
def test_secured_operation_open_flags_forgotten_check(broken: tuple[Served, Report]) -> None:
    served, report = broken
    [finding] = only(report, "MB-AUTH-001")
    assert paths(finding, served.url) == ["/v2/orders"]
    assert finding.severity is Severity.CRITICAL


@pytest.mark.check("MB-AUTH-001")
@pytest.mark.parametrize(
    ("status", "body"),
    [(404, b"{}"), (405, b""), (200, b'{"error": "Unauthorized"}'), (403, b"")],
)
def test_secured_operation_open_ignores_inconclusive_answers(status: int, body: bytes) -> None:
    from middlebrick.checks._context import Context
    from middlebrick.spec.operations import Operation, Source, api_spec

    url = "https://api.example.test/v2/orders"
    doc = {"openapi": "3.0.0", "security": [{"b": []}], "paths": {"/v2/orders": {"get": {}}}}
    spec = api_spec(doc, "spec.json", "https://api.example.test")
    ops = [Operation("GET", "/v2/orders", url, Source.SPEC, secured=True, security=(("b",),))]
    from checks.conftest import target

    ctx = Context(
        auth.secured_operation_open,
        target(),
        ops,
        [exchange(url, status=status, body=body)],
        spec=spec,
    )
    assert list(auth.secured_operation_open.fn(ctx)) == []


@pytest.mark.check("MB-AUTH-002")
def test_public_operation_demands_credentials_flags_drift(broken: tuple[Served, Report]) -> None:
    served, report = broken
    [finding] = only(report, "MB-AUTH-002")
    assert paths(finding, served.url) == ["/v2/status"]
    assert finding.severity is Severity.INFO


@pytest.mark.check("MB-AUTH-002")
def test_public_operation_demands_credentials_ignores_public_answer(
    correct: tuple[Served, Report],
) -> None:
    assert only(correct[1], "MB-AUTH-002") == []


@pytest.mark.check("MB-AUTH-003")
def test_bogus_credentials_accepted_flags_each_forged_jwt(broken: tuple[Served, Report]) -> None:
    served, report = broken
    findings = only(report, "MB-AUTH-003")
    by_detail = {f.detail.split(" accepted")[0]: paths(f, served.url) for f in findings}
    assert by_detail == {
        "forged JWT (alg-none)": ["/v2/profile"],
        "forged JWT (wrong-key)": ["/v2/profile"],
        "forged JWT (expired)": ["/v2/profile"],
        "forged JWT (signature-stripped)": ["/v2/profile"],
        # the WSGI guard only checks that *some* Authorization header is present
        "wrong Basic password": ["/v2/admin/users"],
    }


@pytest.mark.check("MB-AUTH-003")
def test_bogus_credentials_accepted_ignores_verifying_api(correct: tuple[Served, Report]) -> None:
    assert only(correct[1], "MB-AUTH-003") == []


def test_forged_jwts_reuse_the_users_claims() -> None:
    forged = jwt.forgeries(TOKEN)
    assert set(forged) == {"alg-none", "wrong-key", "expired", "signature-stripped"}
    header, claims = jwt.decode(forged["alg-none"]) or ({}, {})
    assert header["alg"] == "none"
    assert claims["sub"] == "dana"
    assert forged["signature-stripped"].endswith(".")
    assert TOKEN not in forged.values()


@pytest.mark.check("MB-AUTH-004")
def test_authentication_bypass_flags_rewrite_header(broken: tuple[Served, Report]) -> None:
    _served, report = broken
    [finding] = only(report, "MB-AUTH-004")
    assert finding.detail.startswith("X-Original-URL: GET / answered 200 where /v2/admin/users")
    assert "X-Original-URL: /v2/admin/users" in finding.reproduce  # type: ignore[operator]


@pytest.mark.check("MB-AUTH-004")
def test_authentication_bypass_ignores_the_correct_api(correct: tuple[Served, Report]) -> None:
    assert only(correct[1], "MB-AUTH-004") == []


def test_bypass_variants_spell_the_same_route() -> None:
    variants = auth._variants("https://api.test/v2/admin/users")
    spelled = {name: url.removeprefix("https://api.test") for name, (url, _, _) in variants.items()}
    assert spelled["trailing slash"] == "/v2/admin/users/"
    assert spelled["double slash"] == "//v2/admin/users"
    assert spelled["upper case"] == "/V2/ADMIN/USERS"
    assert spelled["percent-encoding"] == "/v2/admin/%75sers"
    assert spelled["semicolon suffix"] == "/v2/admin/users;"
    assert spelled["dot segment"] == "/v2/admin/users/."


@pytest.mark.check("MB-AUTH-005")
def test_nonconforming_challenge_flags_missing_and_wrong_scheme(
    broken: tuple[Served, Report],
) -> None:
    served, report = broken
    found = {f.detail: paths(f, served.url) for f in only(report, "MB-AUTH-005")}
    assert found == {
        "401 without WWW-Authenticate": ["/v2/status"],
        "challenges with basic but the description declares bearer": ["/v2/profile"],
    }


@pytest.mark.check("MB-AUTH-005")
def test_nonconforming_challenge_ignores_matching_challenges(
    correct: tuple[Served, Report],
) -> None:
    assert only(correct[1], "MB-AUTH-005") == []
    ex = exchange(status=401, headers=[("WWW-Authenticate", 'Basic realm="x"')])
    assert run_passive(auth.nonconforming_challenge, [ex]) == []


@pytest.mark.check("MB-AUTH-006")
def test_credentials_in_query_accepted_flags_query_login(broken: tuple[Served, Report]) -> None:
    served, report = broken
    [finding] = only(report, "MB-AUTH-006")
    assert finding.detail == "username and password in the query string were accepted"
    assert paths(finding, served.url)[0].startswith("/v2/reports?username=")
    assert PASSWORD not in finding.model_dump_json()  # masked even inside the URL


@pytest.mark.check("MB-AUTH-006")
def test_credentials_in_query_accepted_ignores_header_only_api(
    correct: tuple[Served, Report],
) -> None:
    assert only(correct[1], "MB-AUTH-006") == []


@pytest.mark.check("MB-INV-001")
def test_public_api_description_flags_discovered_spec(broken: tuple[Served, Report]) -> None:
    served, report = broken
    [finding] = only(report, "MB-INV-001")
    assert finding.detail == f"the API description is served at {served.url}/openapi.json"
    assert report.spec == f"{served.url}/openapi.json"


@pytest.mark.check("MB-INV-001")
def test_public_api_description_ignores_spec_given_as_file(tmp_path: object) -> None:
    import json
    from pathlib import Path

    from targets.auth import spec

    path = Path(str(tmp_path)) / "openapi.json"
    path.write_text(json.dumps(spec()))
    with serve(correct_api()) as served:
        report = scan_now(served.url, spec=str(path), checks=("MB-INV-001",))
    assert report.findings == []


@pytest.mark.check("MB-INV-002")
def test_undocumented_endpoint_flags_old_version(broken: tuple[Served, Report]) -> None:
    served, report = broken
    [finding] = only(report, "MB-INV-002")
    assert paths(finding, served.url) == ["/v1/orders"]
    assert finding.severity is Severity.HIGH


@pytest.mark.check("MB-INV-002")
def test_undocumented_endpoint_ignores_soft_404_servers() -> None:
    from flask import Flask

    app = Flask("soft404")

    @app.get("/", defaults={"path": ""})
    @app.get("/<path:path>")
    def everything(path: str) -> str:
        return "<html>Welcome</html>"

    @app.get("/openapi.json")
    def openapi() -> dict[str, object]:
        return {"openapi": "3.0.0", "paths": {"/v2/items": {"get": {}}}}

    with serve(app) as served:
        report = scan_now(served.url, checks=("MB-INV-002",))
    assert report.findings == []


@pytest.mark.check("MB-AUTH-001")
def test_secured_operation_open_flags_write_method_only_with_unsafe(tmp_path: object) -> None:
    from pathlib import Path

    from flask import Flask

    app = Flask("unsafe")
    received: list[tuple[str, bool]] = []

    @app.delete("/items/<item>")
    def remove(item: str) -> tuple[str, int]:
        from flask import request

        received.append((request.method, "Authorization" in request.headers))
        return "", 204  # forgot to check credentials

    spec = Path(str(tmp_path)) / "openapi.json"
    spec.write_text(
        '{"openapi": "3.0.0", "security": [{"b": []}], "components": {"securitySchemes": '
        '{"b": {"type": "http", "scheme": "basic"}}}, "paths": {"/items/{item}": {"delete": '
        '{"responses": {"204": {"description": "gone"}, "401": {"description": "no"}}}}}}'
    )
    with serve(app) as served:
        safe = scan_now(served.url, spec=str(spec), auth=CREDS, checks=("MB-AUTH-001",))
        assert received == []  # nothing but GET/HEAD/OPTIONS without --unsafe
        unsafe = scan_now(
            served.url, spec=str(spec), auth=CREDS, unsafe=True, checks=("MB-AUTH-001",)
        )
    assert safe.findings == []
    assert received == [("DELETE", False)]  # once, and never with the user's credentials
    [finding] = unsafe.findings
    assert finding.detail.startswith("DELETE /items/{item} is declared secured but answered 204")


@pytest.mark.check("MB-AUTH-012")
def test_public_operation_exposes_data_flags_directory(broken: tuple[Served, Report]) -> None:
    served, report = broken
    [finding] = only(report, "MB-AUTH-012")
    assert finding.detail == "GET /v2/directory is public and returns 2 records with email, phone"
    assert paths(finding, served.url) == ["/v2/directory"]


@pytest.mark.check("MB-AUTH-012")
def test_public_operation_exposes_data_ignores_names_only(correct: tuple[Served, Report]) -> None:
    assert only(correct[1], "MB-AUTH-012") == []


@pytest.mark.check("MB-AUTH-012")
@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"id": 1, "password_hash": "pbkdf2:sha256:..."}, ({"password_hash"}, set(), 0)),
        ({"user": {"email": "a@b.test"}}, (set(), {"email"}, 1)),
        ([{"contact": "a@b.test"}, {"contact": "c@d.test"}], (set(), {"contact"}, 2)),
        ({"password": "", "token_type": "bearer", "email_verified": True}, (set(), set(), 0)),
    ],
)
def test_sensitive_fields(document: object, expected: tuple[set[str], set[str], int]) -> None:
    from middlebrick.checks.analyzers.sensitive import sensitive_fields

    assert sensitive_fields(document) == expected


def guarded_delete_app(received: list[tuple[str, str, str]]) -> object:
    """DELETE guarded by an exact-path rule in front of the app that only checks that some
    Authorization header is present; the route also answers with a trailing slash."""
    from flask import Flask, request

    app = Flask("guarded-delete")

    @app.route("/items/<item>", methods=["DELETE"], strict_slashes=False)
    def remove(item: str) -> tuple[str, int]:
        received.append((request.method, request.path, request.headers.get("Authorization", "")))
        return "", 204

    def guard(environ: dict[str, object], start: object) -> object:
        if environ["PATH_INFO"] == "/items/1" and "HTTP_AUTHORIZATION" not in environ:
            start("401 Unauthorized", [("WWW-Authenticate", 'Basic realm="x"')])  # type: ignore[operator]
            return [b""]
        return app.wsgi_app(environ, start)  # type: ignore[arg-type]

    return guard


WRITE_SPEC = (
    '{"openapi": "3.0.0", "security": [{"b": []}], "components": {"securitySchemes": '
    '{"b": {"type": "http", "scheme": "basic"}}}, "paths": {"/items/{id}": {"delete": '
    '{"responses": {"204": {"description": "gone"}, "401": {"description": "no"}}}}}}'
)


@pytest.mark.check("MB-AUTH-003")
@pytest.mark.check("MB-AUTH-004")
def test_write_operation_checks_flags_bypass_and_bogus_credentials_with_unsafe(
    tmp_path: object,
) -> None:
    from pathlib import Path

    spec = Path(str(tmp_path)) / "openapi.json"
    spec.write_text(WRITE_SPEC)
    received: list[tuple[str, str, str]] = []
    checks = ("MB-AUTH-003", "MB-AUTH-004")
    with serve(guarded_delete_app(received)) as served:
        safe = scan_now(served.url, spec=str(spec), auth=CREDS, checks=checks)
        assert received == []
        report = scan_now(served.url, spec=str(spec), auth=CREDS, unsafe=True, checks=checks)
    assert safe.findings == []
    details = sorted(f.detail for f in report.findings)
    assert details == [
        "semicolon suffix: DELETE /items/1; answered 204 where /items/1 refused",
        "trailing slash: DELETE /items/1/ answered 204 where /items/1 refused",
        "wrong Basic password accepted by DELETE /items/{id} (scheme 'b')",
    ]
    # writes went out anonymously or with a bogus credential, never with the user's own
    user_token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert len(received) == 3  # the bogus-password DELETE and the two bypass spellings
    assert not any(user_token in authorization for *_, authorization in received)
