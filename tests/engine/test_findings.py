"""The curl line a finding carries repeats the request without writing credentials into it."""

from __future__ import annotations

from middlebrick.engine.findings import curl
from middlebrick.http.exchange import Exchange, Headers, Request


def _exchange(method: str, headers: tuple[tuple[str, str], ...], body: bytes = b"") -> Exchange:
    return Exchange(
        id=1,
        purpose="test",
        request=Request(
            method, "https://api.example.test/reports?x=1", Headers(headers), body=body
        ),
        response=None,
    )


def test_curl_reads_credentials_from_the_environment() -> None:
    line = curl(_exchange("GET", (("Authorization", "Basic YWxp…(16)"),)))
    assert line == "curl -i -u \"$MIDDLEBRICK_AUTH\" 'https://api.example.test/reports?x=1'"


def test_curl_repeats_a_probe_body_quoted_for_the_shell() -> None:
    ex = _exchange("POST", (("Content-Type", "application/json"),), b'{"middlebrick": [1, 2')
    assert curl(ex) == (
        "curl -i -X POST -H 'Content-Type: application/json' "
        "--data-binary '{\"middlebrick\": [1, 2' 'https://api.example.test/reports?x=1'"
    )
