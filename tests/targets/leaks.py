"""An API whose answers leak personal data, secrets and password hashes, and a twin that serves
realistic but benign data (ids, UUIDs, digests, timestamps, masked values, sample keys)."""

from __future__ import annotations

from flask import Flask, Response, jsonify

from targets.clean import PASSWORD, USER

# canaries: searched for in every report; valid by structure but never real
CARD = "4539 1488 0343 6467"  # Luhn-valid Visa
SSN = "123-45-6789"
IBAN = "DE89370400440532013000"
AWS_KEY = "AKIAIOSFODNN7EXAMPLQ"
BCRYPT = "$2b$12$" + "a" * 22 + "b" * 31


def leaky_api() -> Flask:
    app = Flask("leaky-data")

    @app.get("/")
    def index() -> Response:
        return jsonify(links={"customers": "/customers", "config": "/config", "me": "/me"})

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
        return jsonify(links={"orders": "/orders", "me": "/me", "build": "/build"})

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
