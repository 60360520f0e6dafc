"""An API whose answers leak personal data, secrets and password hashes, and a twin that serves
realistic but benign data (ids, UUIDs, digests, timestamps, masked values, sample keys)."""

from __future__ import annotations

import base64
import json

from flask import Flask, Response, jsonify

from targets.clean import PASSWORD, USER

# canaries: searched for in every report; valid by structure but never real
CARD = "4539 1488 0343 6467"  # Luhn-valid Visa
SSN = "123-45-6789"
IBAN = "DE89370400440532013000"
AWS_KEY = "AKIAIOSFODNN7EXAMPLQ"
BCRYPT = "$2b$12$" + "a" * 22 + "b" * 31


def _jwt(claims: dict[str, object], signature: str) -> str:
    def part(value: dict[str, object]) -> str:
        raw = json.dumps(value, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.{signature}"


# other people's sessions in a list of records: somebody else's bearer credentials
SESSION_JWT = _jwt({"sub": "4711", "role": "admin"}, "q3Vx9TzP0kLm2NbR7sYwE1aJ5cHd8fGi")
# what a token endpoint issues to its caller, and a Firebase web config: both are benign
ISSUED_JWT = _jwt({"sub": "carol", "scope": "orders:read"}, "Zx8Kp2Lm9Qr4Tv6Wy1Ab3Cd5Ef7Gh0Ij")
FIREBASE_KEY = "AIzaSyB3xQ9vN2mK7pL4rT8wZ1cF6hJ0dG5sE2a"


def leaky_api() -> Flask:
    app = Flask("leaky-data")

    @app.get("/")
    def index() -> Response:
        return jsonify(
            links={
                "customers": "/customers",
                "config": "/config",
                "me": "/me",
                "sessions": "/sessions",
            }
        )

    @app.get("/customers")
    def customers() -> Response:
        return jsonify(
            [
                {"id": 1, "name": "Ann", "email": "ann@corp.test", "card": CARD, "ssn": SSN},
                {"id": 2, "name": "Ben", "email": "ben@corp.test", "iban": IBAN},
            ]
        )

    @app.get("/config")
    def config() -> Response:
        return jsonify(aws_access_key_id=AWS_KEY, region="eu-west-1")

    @app.get("/sessions")
    def sessions() -> Response:
        return jsonify(
            [
                {"user": "ann", "session": SESSION_JWT, "ip": "10.0.0.7"},
                {"user": "ben", "session": None, "ip": "10.0.0.9"},
            ]
        )

    @app.get("/me")
    def me() -> Response:
        from flask import request

        auth = request.authorization
        if auth is None:
            return Response("", 401, {"WWW-Authenticate": 'Basic realm="x"'})
        return jsonify(user=auth.username, password=auth.password, password_hash=BCRYPT)

    return app


def benign_api() -> Flask:
    app = Flask("benign-data")

    @app.get("/")
    def index() -> Response:
        return jsonify(
            links={
                "orders": "/orders",
                "me": "/me",
                "build": "/build",
                "token": "/token",
                "web-config": "/web-config",
            }
        )

    @app.get("/token")
    def token() -> Response:
        # an OAuth 2.0 token response (RFC 6749, 5.1): the caller's own token
        return jsonify(access_token=ISSUED_JWT, token_type="Bearer", expires_in=3600)

    @app.get("/web-config")
    def web_config() -> Response:
        return jsonify(
            firebase={
                "apiKey": FIREBASE_KEY,
                "authDomain": "orders-prod.firebaseapp.com",
                "projectId": "orders-prod",
                "appId": "1:901234567890:web:7a1b2c3d4e5f6a7b",
            },
            mapbox_access_token="pk.eyJ1Ijoib3JkZXJzIiwiYSI6ImNsMnF6In0.Qm9yZWRfcHVibGljX3Rva2Vu",
        )

    @app.get("/orders")
    def orders() -> Response:
        return jsonify(
            [
                {
                    "id": 4539148803436467,  # a numeric id that happens to be Luhn-valid
                    "uuid": "8f14e45f-ceea-467f-a0e6-5d2b5c3a9b1e",
                    "order_number": "4111-1111-1111-1111",
                    "created_at": "2026-11-28T10:00:00Z",
                    "total": 1234567890.12,
                    "etag": "d41d8cd98f00b204e9800998ecf8427e",
                    "support": "support@example.com",
                    "phone_ext": "123-45-678",
                },
                {"id": 2, "uuid": "0e4c2f7a-3b1d-4a5e-9c8f-7d6e5f4a3b2c", "total": 0.5},
            ]
        )

    @app.get("/me")
    def me() -> Response:
        from flask import request

        auth = request.authorization
        if auth is None or (auth.username, auth.password) != (USER, PASSWORD):
            return Response("", 401, {"WWW-Authenticate": 'Basic realm="x"'})
        return jsonify(user=USER, email="carol@corp.test", password="********", api_key=None)

    @app.get("/build")
    def build() -> Response:
        return jsonify(
            commit="3f786850e387550fdab836ed7e6dc881de23001b",
            sha256="e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            api_key="your-api-key-here",
            docs_token_example="<token>",
        )

    return app
