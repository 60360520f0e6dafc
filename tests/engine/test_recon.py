"""Recon's pure parts: framework fingerprints and auth schemes from real-looking headers."""

from __future__ import annotations

import pytest

from middlebrick.engine.recon import auth_schemes, fingerprint

from checks.conftest import exchange


@pytest.mark.parametrize(
    ("header", "framework"),
    [
        (("Server", "Werkzeug/3.1.3 Python/3.11.7"), "flask"),
        (("Server", "uvicorn"), "fastapi"),
        (("X-Powered-By", "Express"), "express"),
        (("Server", "WSGIServer/0.2 CPython/3.12.1"), "django"),
        (("Set-Cookie", "csrftoken=abc; Path=/"), "django"),
        (("Server", "nginx"), "generic"),
    ],
)
def test_fingerprint(header: tuple[str, str], framework: str) -> None:
    assert fingerprint([exchange(headers=[header])]) == framework


def test_auth_schemes_from_challenges() -> None:
    challenges = [
        exchange(status=401, headers=[("WWW-Authenticate", 'Basic realm="api", charset="UTF-8"')]),
        exchange(
            status=401, headers=[("WWW-Authenticate", 'Bearer, Digest realm="x", qop="auth"')]
        ),
        exchange(status=200, headers=[("WWW-Authenticate", "Negotiate")]),  # not a challenge
    ]
    assert auth_schemes(challenges) == ("basic", "bearer", "digest")
