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


def test_fingerprints_survive_a_new_port_and_differ_between_defects() -> None:
    from middlebrick.demo.server import serve

    from checks.conftest import scan_now
    from targets.headers import leaky_flask

    runs = []
    for _ in range(2):
        with serve(leaky_flask()) as served:
            runs.append({f.check_id: f.fingerprint for f in scan_now(served.url).findings})
    assert runs[0] == runs[1]
    assert len(set(runs[0].values())) == len(runs[0]) >= 2
    assert all(len(fp) == 24 for fp in runs[0].values())


def test_fingerprint_leaves_out_the_origin() -> None:
    from middlebrick.engine.findings import fingerprint

    a = fingerprint("MB-INV-002", "http://127.0.0.1:5001/v1/users")
    assert a == fingerprint("MB-INV-002", "http://127.0.0.1:6002/v1/users")
    assert a != fingerprint("MB-INV-002", "http://127.0.0.1:5001/v2/users")
