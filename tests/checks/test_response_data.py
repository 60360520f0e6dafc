"""Personal data, secrets, password hashes and echoed credentials in responses: found with the
right kind and location, masked in every report, and nothing found in realistic benign data."""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from middlebrick.checks.analyzers.content import iban_valid, luhn, scan_body, ssn_valid
from middlebrick.cli import app
from middlebrick.demo.server import serve
from middlebrick.model import Severity
from middlebrick.report import WRITERS

from checks.conftest import scan_now
from targets.clean import PASSWORD, USER
from targets.leaks import (
    AWS_KEY,
    BCRYPT,
    CARD,
    IBAN,
    SESSION_JWT,
    SSN,
    benign_api,
    leaky_api,
)

CREDS = SecretStr(f"{USER}:{PASSWORD}")
CHECKS = ("MB-DATA-011", "MB-DATA-012", "MB-DATA-013", "MB-DATA-014")


@pytest.fixture(scope="module")
def leaky() -> tuple[str, list[tuple[str, str, Severity]]]:
    with serve(leaky_api()) as served:
        report = scan_now(served.url, auth=CREDS, checks=CHECKS)
    return served.url, [(f.check_id, f.detail, f.severity) for f in report.findings]


@pytest.mark.check("MB-DATA-011")
def test_personal_data_in_response_flags_cards_ssns_ibans(leaky: tuple[str, list]) -> None:
    _, found = leaky
    [pii] = [f for f in found if f[0] == "MB-DATA-011"]
    assert pii[1] == (
        "IBAN, US social security number, payment card number (3) in the answer to /customers"
    )
    assert pii[2] is Severity.HIGH


@pytest.mark.check("MB-DATA-012")
def test_secret_in_response_flags_aws_key(leaky: tuple[str, list]) -> None:
    _, found = leaky
    assert [(f[1], f[2]) for f in found if f[0] == "MB-DATA-012"] == [
        ("AWS access key id at $.aws_access_key_id in the answer to /config", Severity.CRITICAL),
        ("JSON Web Token at $[0].session in the answer to /sessions", Severity.HIGH),
    ]


@pytest.mark.check("MB-DATA-013")
def test_password_in_response_flags_plaintext_and_bcrypt(leaky: tuple[str, list]) -> None:
    _, found = leaky
    details = sorted(f[1] for f in found if f[0] == "MB-DATA-013")
    assert details == [
        "bcrypt hash at $.password_hash in the answer to /me",
        "plaintext password at $.password in the answer to /me",
    ]


@pytest.mark.check("MB-DATA-014")
def test_credentials_echoed_flags_password_in_profile(leaky: tuple[str, list]) -> None:
    _, found = leaky
    assert [f[1] for f in found if f[0] == "MB-DATA-014"] == [
        "the password sent by the scanner came back from /me"
    ]


@pytest.mark.check("MB-DATA-011")
@pytest.mark.check("MB-DATA-012")
@pytest.mark.check("MB-DATA-013")
@pytest.mark.check("MB-DATA-014")
def test_response_data_checks_ignores_benign_realistic_data() -> None:
    with serve(benign_api()) as served:
        report = scan_now(served.url, auth=CREDS, checks=CHECKS)
    assert report.findings == []


def test_planted_values_are_masked_in_every_report_format() -> None:
    with serve(leaky_api()) as served:
        outputs = {
            fmt: CliRunner()
            .invoke(
                app,
                ["scan", served.url, "-f", fmt, *(a for c in CHECKS for a in ("--check", c))],
                env={"MIDDLEBRICK_AUTH": f"{USER}:{PASSWORD}", "COLUMNS": "200"},
            )
            .output
            for fmt in WRITERS
        }
    json.loads(outputs["json"])
    for output in outputs.values():
        for planted in (CARD, SSN, IBAN, AWS_KEY, BCRYPT, PASSWORD, SESSION_JWT):
            assert planted not in output


def test_structural_validators() -> None:
    assert luhn("4539148803436467")
    assert not luhn("4539148803436468")
    assert iban_valid(IBAN)
    assert not iban_valid("DE89370400440532013001")
    assert ssn_valid("123", "45", "6789")
    assert not ssn_valid("666", "45", "6789")
    assert not ssn_valid("900", "45", "6789")
    assert not ssn_valid("123", "00", "6789")


BENIGN_CORPUS = [
    {"id": "f47ac10b-58cc-4372-a567-0e02b2c3d479", "created": 1732780800, "score": 0.123456789},
    {"items": [{"sku": 5105105105105100, "qty": 2}], "next": None},
    {"sha1": "da39a3ee5e6b4b0d3255bfef95601890afd80709", "size": 0},
    {"phone": "+1 (555) 010-9999", "email": "noreply@example.org"},
    {"password_policy": "min 12 chars", "password_changed_at": "2026-01-01"},
    {"token_type": "bearer", "expires_in": 3600},
    {"isbn": "978-3-16-148410-0", "doi": "10.1000/182"},
    {"geo": [52.520008, 13.404954], "zip": "10115"},
    # three base64url JSON parts, but not a JOSE header (no "alg"): a pagination cursor
    {
        "next_cursor": "eyJhZnRlciI6Im9fMTg0MiIsImxpbWl0Ijo1MH0"
        ".eyJ2IjoyLCJzb3J0IjoiY3JlYXRlZCJ9.c2lnbmF0dXJlLW5vdC1hLWtleQ"
    },
]


@pytest.mark.parametrize("document", BENIGN_CORPUS)
def test_benign_corpus_has_no_hits(document: object) -> None:
    assert scan_body(json.dumps(document).encode(), is_json=True) == []


@pytest.mark.check("MB-DATA-011")
def test_personal_data_in_response_flags_a_list_of_phone_numbers() -> None:
    from middlebrick.checks.response_data import personal_data_in_response

    from checks.conftest import exchange, run_passive

    people = [
        {"name": "Ann", "mobile": "+44 7700 900123"},
        {"name": "Ben", "phone_number": "+49 151 23456789"},
        {"name": "Cy", "tel": 4915198765432},
    ]
    hits = scan_body(json.dumps(people).encode(), is_json=True)
    assert sorted(h.kind for h in hits) == ["phone number"] * 3
    found = run_passive(personal_data_in_response, [exchange(body=json.dumps(people).encode())])
    assert [f.detail for f in found] == ["3 phone numbers in the answer to /users"]
    assert "+44 7700 900123" in found[0].secrets


@pytest.mark.check("MB-DATA-011")
@pytest.mark.parametrize(
    "document",
    [
        {"phone": "+1 (555) 010-9999"},  # fictional
        {"phone_verified": True, "phone_country": "DE"},
        {"telemetry": "1234567890", "cellular": False},
        {"mobile": "0000000"},
        {"fax": "n/a", "phone": "ask at the desk"},
        {"order": {"tracking_phone_code": "A1B2"}, "phone": "12345"},
    ],
)
def test_personal_data_in_response_ignores_phone_lookalikes(document: object) -> None:
    assert scan_body(json.dumps(document).encode(), is_json=True) == []


def test_text_bodies_are_judged_by_structure_alone() -> None:
    # without JSON field names, a Luhn-valid number with an issuer prefix counts
    hits = scan_body(b"Order 4539 1488 0343 6467 was placed", is_json=False)
    assert [h.kind for h in hits] == ["payment card number"]


def _model_api(*, leak: bool) -> object:
    from flask import Flask, jsonify

    app = Flask("model-api")
    spec = {
        "openapi": "3.0.3",
        "components": {
            "schemas": {
                "User": {"type": "object", "properties": {"id": {}, "name": {}}},
                "Page": {"allOf": [{"properties": {"total": {}}}, {"properties": {"items": {}}}]},
                "Open": {"type": "object", "properties": {"id": {}}, "additionalProperties": True},
            }
        },
        "paths": {
            "/users": {
                "get": {
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/User"},
                                    }
                                }
                            },
                        }
                    },
                }
            },
            "/page": {
                "get": {
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Page"}
                                }
                            },
                        }
                    },
                }
            },
            "/open": {
                "get": {
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Open"}
                                }
                            },
                        }
                    },
                }
            },
        },
    }

    @app.get("/openapi.json")
    def openapi() -> object:
        return jsonify(spec)

    @app.get("/users")
    def users() -> object:
        extra = {"password_hash_set": True, "role": "admin"} if leak else {}
        return jsonify([{"id": 1, "name": "A", **extra}, {"id": 2, "name": "B"}])

    @app.get("/page")
    def page() -> object:
        return jsonify(total=1, items=[], **({"debug_sql": "SELECT 1"} if leak else {}))

    @app.get("/open")
    def open_() -> object:
        return jsonify(id=1, anything="goes")

    return app


@pytest.mark.check("MB-DATA-015")
def test_undeclared_response_properties_flags_whole_model_serialisation() -> None:
    with serve(_model_api(leak=True)) as served:
        report = scan_now(served.url, checks=("MB-DATA-015",))
    found = {f.detail: f.severity for f in report.findings}
    assert found == {
        "GET /users returns undeclared password_hash_set, role": Severity.MEDIUM,
        "GET /page returns undeclared debug_sql": Severity.LOW,
    }


@pytest.mark.check("MB-DATA-015")
def test_undeclared_response_properties_ignores_declared_and_open_schemas() -> None:
    with serve(_model_api(leak=False)) as served:
        report = scan_now(served.url, checks=("MB-DATA-015",))
    assert report.findings == []
