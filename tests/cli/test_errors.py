"""Every way a scan can fail ends in one line on stderr and a documented exit code."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from middlebrick.cli import app

from targets.raw import closed_port, silent, speaks_ssh, tcp_server

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.output


def assert_one_line_error(output: str, *fragments: str) -> None:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("error: "), output
    assert "Traceback" not in output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_refused_connection_exits_3() -> None:
    code, out = run("scan", f"http://127.0.0.1:{closed_port()}")
    assert code == 3
    assert_one_line_error(out, "connection refused")


def test_non_http_service_exits_3() -> None:
    with tcp_server(speaks_ssh) as port:
        code, out = run("scan", f"http://127.0.0.1:{port}")
    assert code == 3
    assert_one_line_error(out, "did not answer with HTTP")


def test_silent_server_times_out_with_exit_3() -> None:
    with tcp_server(silent) as port:
        code, out = run("scan", f"http://127.0.0.1:{port}", "--timeout", "0.5")
    assert code == 3
    assert_one_line_error(out, "no response within 0.5s", "--timeout")


def test_tls_to_a_plain_http_port_exits_3() -> None:
    from middlebrick.demo.server import serve

    from targets.headers import careful_flask

    with serve(careful_flask()) as served:
        code, out = run("scan", served.url.replace("http://", "https://"))
    assert code == 3
    assert_one_line_error(out, "TLS handshake failed")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("scan", "ftp://example.test"), "only http"),
        (("scan", "http://127.0.0.1:1", "--auth", "nocolon"), "USER:PASS"),
        (("scan", "http://127.0.0.1:1", "--ca-bundle", "/nonexistent.pem"), "no such file"),
        (("scan", "http://127.0.0.1:1", "--check", "MB-NOPE-001"), "unknown check id"),
        (("scan", "http://127.0.0.1:1", "--header", "broken"), "Name: value"),
        (("scan", "http://127.0.0.1:1", "--concurrency", "0"), "concurrency"),
    ],
)
def test_configuration_errors_exit_2(args: tuple[str, ...], fragment: str) -> None:
    code, out = run(*args)
    assert code == 2
    assert_one_line_error(out, fragment)


def test_missing_spec_file_exits_3(tmp_path: Path) -> None:
    code, out = run("scan", "http://127.0.0.1:1", "--spec", str(tmp_path / "nope.yaml"))
    assert code == 3
    assert_one_line_error(out, "cannot read spec")


def test_broken_spec_names_the_line_and_exits_3(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text("openapi: 3.0.3\npaths:\n  /a: [unclosed\n")
    code, out = run("scan", "http://127.0.0.1:1", "--spec", str(spec))
    assert code == 3
    assert_one_line_error(out, f"{spec}:", "invalid YAML")


def test_unknown_option_is_a_usage_error() -> None:
    code, _ = run("scan", "http://127.0.0.1:1", "--no-such-option")
    assert code == 2


def test_untrusted_certificate_exits_3_with_a_hint() -> None:
    from middlebrick.demo.server import serve
    from middlebrick.demo.tls import local_ca, server_context

    from targets.headers import careful_flask

    with serve(careful_flask(), tls=server_context(local_ca())) as served:
        code, out = run("scan", served.url)
    assert code == 3
    assert_one_line_error(out, "certificate", "--ca-bundle", "--insecure")
