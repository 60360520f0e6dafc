"""The loopback harness: real WSGI and ASGI servers on 127.0.0.1, over HTTP and HTTPS, that stop
quickly and completely."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from middlebrick.demo.server import Served, is_asgi, serve
from middlebrick.demo.tls import server_context

StartResponse = Callable[[str, list[tuple[str, str]]], object]
ClientContext = Callable[..., ssl.SSLContext]


def hello_wsgi(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    body = f"hello over {environ['wsgi.url_scheme']}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def broken_wsgi(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    raise RuntimeError("boom")


def hello_flask() -> Flask:
    app = Flask("hello")
    app.add_url_rule("/", "hello", lambda: {"hello": "flask"})
    return app


def hello_starlette() -> Starlette:
    async def hello(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"hello over {request.url.scheme}")

    return Starlette(routes=[Route("/", hello)])


def refused(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


# serving ----------------------------------------------------------------------------------------


def test_serve_runs_a_wsgi_callable_on_a_free_loopback_port() -> None:
    with serve(hello_wsgi) as served:
        assert served == Served(f"http://127.0.0.1:{served.port}", "127.0.0.1", served.port, None)
        assert served.port > 0
        assert httpx.get(served.url).text == "hello over http"


def test_serve_runs_a_flask_app_over_https_verified_with_the_ca(
    ca: Any, ca_pem: Path, client_context: ClientContext
) -> None:
    with serve(hello_flask(), tls=server_context(ca), ca_pem=ca_pem) as served:
        assert served.url == f"https://127.0.0.1:{served.port}"
        assert served.ca_pem == ca_pem
        with httpx.Client(verify=client_context()) as http:
            assert http.get(served.url).json() == {"hello": "flask"}


def test_serve_runs_a_starlette_app_on_uvicorn() -> None:
    with serve(hello_starlette()) as served:
        response = httpx.get(served.url)
    assert response.text == "hello over http"
    assert response.headers["server"] == "uvicorn"


def test_serve_runs_a_starlette_app_over_https(ca: Any, client_context: ClientContext) -> None:
    with (
        serve(hello_starlette(), tls=server_context(ca)) as served,
        httpx.Client(verify=client_context()) as http,
    ):
        assert http.get(served.url).text == "hello over https"


def test_is_asgi_tells_starlette_from_flask_and_wsgi_callables() -> None:
    async def bare_asgi(scope: Any, receive: Any, send: Any) -> None: ...

    assert is_asgi(hello_starlette())
    assert is_asgi(bare_asgi)
    assert not is_asgi(hello_flask())
    assert not is_asgi(hello_wsgi)


def test_serve_takes_an_explicit_asgi_flag_over_the_guess() -> None:
    starlette = hello_starlette()

    class SyncLooking:  # a wrapper whose synchronous __call__ returns the app's coroutine
        def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
            return starlette(scope, receive, send)

    assert not is_asgi(SyncLooking())
    with serve(SyncLooking(), asgi=True) as served:
        assert httpx.get(served.url).text == "hello over http"


# the Server header ------------------------------------------------------------------------------


def test_serve_keeps_werkzeugs_server_header_by_default() -> None:
    with serve(hello_wsgi) as served:
        assert httpx.get(served.url).headers["server"].startswith("Werkzeug/")


@pytest.mark.parametrize("app", [hello_wsgi, hello_starlette()], ids=["wsgi", "asgi"])
def test_serve_replaces_the_server_header(app: Any) -> None:
    with serve(app, server_header="api") as served:
        assert httpx.get(served.url).headers.get_list("server") == ["api"]


@pytest.mark.parametrize("app", [hello_wsgi, hello_starlette()], ids=["wsgi", "asgi"])
def test_serve_omits_the_server_header_when_empty(app: Any) -> None:
    with serve(app, server_header="") as served:
        assert "server" not in httpx.get(served.url).headers


def test_serve_sets_the_header_on_the_servers_own_error_pages() -> None:
    with (
        serve(hello_wsgi, server_header="api") as served,
        socket.create_connection((served.host, served.port)) as raw,
    ):
        raw.sendall(b"GET / HTTP/1.1\r\n" + b"X-Many: 1\r\n" * 101 + b"\r\n")  # > 100
        answer = raw.recv(4096).decode()
    assert answer.startswith("HTTP/1.1 431")
    assert "Server: api\r\n" in answer


# quiet and clean --------------------------------------------------------------------------------


def test_serve_prints_nothing_for_requests_or_app_errors(capfd: pytest.CaptureFixture[str]) -> None:
    with serve(hello_flask()) as ok, serve(broken_wsgi) as broken:
        assert httpx.get(ok.url).status_code == 200
        assert httpx.get(broken.url).status_code == 500
    assert capfd.readouterr() == ("", "")


@pytest.mark.parametrize("app", [hello_wsgi, hello_starlette()], ids=["wsgi", "asgi"])
def test_serve_frees_the_port_and_its_threads_on_exit(app: Any) -> None:
    before = set(threading.enumerate())
    with serve(app) as served:
        assert httpx.get(served.url).status_code == 200
    assert refused(served.port)
    assert set(threading.enumerate()) <= before
    with socket.socket() as again:  # the port can be bound again at once
        again.bind(("127.0.0.1", served.port))


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_a_silent_client_blocks_neither_other_clients_nor_exit(
    tls: bool, ca: Any, client_context: ClientContext
) -> None:
    """Werkzeug alone does TLS handshakes in its accept loop: one mute client stalls everyone."""
    before = set(threading.enumerate())
    with serve(hello_wsgi, tls=server_context(ca) if tls else None) as served:
        silent = socket.create_connection((served.host, served.port))
        with httpx.Client(verify=client_context(), timeout=2) as http:
            assert http.get(served.url).status_code == 200
        started = time.monotonic()
    assert time.monotonic() - started < 1
    assert set(threading.enumerate()) <= before
    assert silent.recv(1) == b""  # the server hung up on it
    silent.close()


def test_serve_stops_within_a_second() -> None:
    for app in (hello_wsgi, hello_starlette()):
        with serve(app) as served:
            httpx.get(served.url)
            started = time.monotonic()
        assert time.monotonic() - started < 1


# TLS facts the scanner's tests rely on ----------------------------------------------------------


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1])
def test_a_legacy_only_server_is_reached_by_a_legacy_client(
    version: ssl.TLSVersion, ca: Any, client_context: ClientContext
) -> None:
    context = server_context(ca, minimum_version=version, maximum_version=version)
    with serve(hello_wsgi, tls=context) as served:
        try:
            with httpx.Client(verify=client_context(version)) as http:
                response = http.get(served.url)
        except httpx.ConnectError as error:
            if "NO_PROTOCOLS_AVAILABLE" in str(error) or "UNSUPPORTED_PROTOCOL" in str(error):
                pytest.skip(f"this OpenSSL ({ssl.OPENSSL_VERSION}) refuses {version.name}")
            raise
        assert response.text == "hello over https"
        with (
            httpx.Client(verify=client_context()) as modern,  # TLS 1.2+ only
            pytest.raises(httpx.ConnectError, match=r"PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL"),
        ):
            modern.get(served.url)


def test_a_weak_cipher_server_negotiates_a_null_cipher(
    ca: Any, client_context: ClientContext
) -> None:
    """NULL encryption with RSA key exchange: still offered by OpenSSL 3 at security level 0."""
    context = server_context(ca, ciphers="NULL-SHA:@SECLEVEL=0", rsa=True)
    context.maximum_version = ssl.TLSVersion.TLSv1_2  # TLS 1.3 suites cannot be weakened
    client = client_context()
    client.set_ciphers("NULL-SHA:@SECLEVEL=0")
    with (
        serve(hello_wsgi, tls=context) as served,
        socket.create_connection((served.host, served.port)) as raw,
        client.wrap_socket(raw, server_hostname=served.host) as tls,
    ):
        assert tls.cipher()[0] == "NULL-SHA"


def test_an_expired_certificate_is_refused_by_a_verifying_client(
    ca: Any, client_context: ClientContext
) -> None:
    past = datetime.now(UTC) - timedelta(days=30)
    context = server_context(ca, not_before=past - timedelta(days=365), not_after=past)
    with (
        serve(hello_wsgi, tls=context) as served,
        httpx.Client(verify=client_context()) as http,
        pytest.raises(httpx.ConnectError, match="certificate has expired"),
    ):
        http.get(served.url)


def test_a_certificate_for_another_name_is_refused_by_a_verifying_client(
    ca: Any, client_context: ClientContext
) -> None:
    with (
        serve(hello_wsgi, tls=server_context(ca, "api.example.test")) as served,
        httpx.Client(verify=client_context()) as http,
        pytest.raises(httpx.ConnectError, match="IP address mismatch"),
    ):
        http.get(served.url)
