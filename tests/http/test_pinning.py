"""DNS pinning against real loopback servers: a pinned scan reaches its host at the admitted
addresses only, keeps verifying TLS against the host name, refuses every other host, and never
asks DNS again, so an answer that changes after admission (DNS rebinding) changes nothing.

The `.test` names used here exist in no DNS (RFC 6761); where a test needs a name whose answer
changes, the event loop's `getaddrinfo` (what the guard and aiohttp ask) is replaced."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from flask import Flask, request
from mcp_types import CallToolResult
from pydantic import ValidationError

from mcp import Client
from middlebrick.config import ScanConfig
from middlebrick.demo.server import Served, serve
from middlebrick.demo.tls import local_ca, server_context
from middlebrick.engine import scan
from middlebrick.errors import SpecError, TargetError
from middlebrick.http.client import HttpClient, fetch_document, tls_context
from middlebrick.http.exchange import ErrorKind, Exchange, Masker
from middlebrick.http.guard import Pin, dashboard_policy, pin_of
from middlebrick.http.tls import handshake
from middlebrick.mcp_server.runs import audit_url
from middlebrick.mcp_server.server import build
from middlebrick.mcp_server.targets import AllowList
from middlebrick.model import CheckStatus

SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "pinned", "version": "1"},
    "paths": {"/items": {"get": {"responses": {"200": {"description": "items"}}}}},
}


def api(hits: list[str] | None = None) -> Flask:
    """Answers with the Host header it was sent; counts the requests it served."""
    app = Flask("pinned")

    @app.before_request
    def count() -> None:
        if hits is not None:
            hits.append(request.path)

    @app.get("/")
    def root() -> dict[str, str]:
        return {"host": request.host}

    @app.get("/items")
    def items() -> list[int]:
        return [1, 2]

    @app.get("/openapi.json")
    def spec() -> dict[str, Any]:
        return SPEC

    return app


@pytest.fixture
def no_dns(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every name lookup fails, and is recorded."""
    asked: list[str] = []

    async def getaddrinfo(self: asyncio.AbstractEventLoop, host: str, *_: Any, **__: Any) -> Any:
        asked.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo", getaddrinfo)
    return asked


@pytest.fixture
def rebinding(monkeypatch: pytest.MonkeyPatch) -> Callable[..., list[str]]:
    """DNS whose n-th answer is the n-th address given, and the last one from then on (an
    attacker's name that points one way while it is checked, then elsewhere)."""
    asked: list[str] = []

    def install(*answers: str) -> list[str]:
        async def getaddrinfo(
            self: asyncio.AbstractEventLoop, host: str, port: int, **_: Any
        ) -> list[Any]:
            asked.append(host)
            address = answers[min(len(asked), len(answers)) - 1]
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

        monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo", getaddrinfo)
        return asked

    return install


@pytest.fixture
def ca(tmp_path: Path) -> tuple[trustme.CA, Path]:
    authority = local_ca()
    pem = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(pem))
    return authority, pem


async def get(url: str, pin: Pin, *, ca_pem: Path | None = None) -> Exchange:
    async with HttpClient(
        masker=Masker(),
        user_agent="test",
        timeout=5,
        concurrency=2,
        rate=None,
        deadline=time.monotonic() + 30,
        body_cap=1 << 16,
        verify=tls_context(ca_pem, insecure=False),
        pin=pin,
    ) as client:
        return await client.send("GET", url, purpose="test")


@pytest.fixture
def served() -> Iterator[Served]:
    with serve(api()) as running:
        yield running


def test_a_pinned_name_is_reached_without_dns(served: Served, no_dns: list[str]) -> None:
    url = f"http://api.test:{served.port}/"
    ex = asyncio.run(get(url, (("api.test", ("127.0.0.1",)),)))
    assert ex.response is not None, ex.error
    assert json.loads(ex.response.body) == {"host": f"api.test:{served.port}"}
    assert no_dns == []


def test_without_a_pin_the_name_is_looked_up(served: Served, no_dns: list[str]) -> None:
    """The control for the test above: unpinned, the same request asks DNS and fails."""
    ex = asyncio.run(get(f"http://api.test:{served.port}/", ()))
    assert ex.response is None
    assert ex.error_kind is ErrorKind.DNS
    assert no_dns == ["api.test"]


@pytest.mark.parametrize("host", ["other.test", "127.0.0.1", "localhost", "api.test.evil.test"])
def test_hosts_outside_the_pin_are_refused(served: Served, no_dns: list[str], host: str) -> None:
    """127.0.0.1 answers on that port: only the pin stops the request, not the network."""
    ex = asyncio.run(get(f"http://{host}:{served.port}/", (("api.test", ("127.0.0.1",)),)))
    assert ex.response is None
    assert ex.error_kind is ErrorKind.DNS
    assert ex.error is not None
    assert f"refused: {host} is not a host admitted for this scan" in ex.error
    assert no_dns == []


def test_pinned_https_verifies_the_host_name(
    ca: tuple[trustme.CA, Path], no_dns: list[str]
) -> None:
    authority, pem = ca
    pin = (("api.test", ("127.0.0.1",)),)
    with serve(api(), tls=server_context(authority, "api.test")) as good:
        ex = asyncio.run(get(f"https://api.test:{good.port}/", pin, ca_pem=pem))
        assert ex.response is not None, ex.error
        assert ex.response.status == 200
        hs = handshake("api.test", good.port, verify=True, ca_bundle=pem, connect_to=("127.0.0.1",))
        assert hs.ok, hs.error
        assert hs.certificate is not None
        assert hs.certificate.matches("api.test")
    with serve(api(), tls=server_context(authority, "other.test")) as wrong:
        ex = asyncio.run(get(f"https://api.test:{wrong.port}/", pin, ca_pem=pem))
        assert ex.response is None
        assert ex.error_kind is ErrorKind.TLS
        assert ex.error is not None
        assert "certificate" in ex.error
    assert no_dns == []


def test_a_pinned_handshake_connects_to_the_pinned_address(
    ca: tuple[trustme.CA, Path], no_dns: list[str]
) -> None:
    authority, pem = ca
    with serve(api(), tls=server_context(authority, "api.test")) as good:
        unpinned = handshake("api.test", good.port, verify=True, ca_bundle=pem)
        pinned = handshake("api.test", good.port, ca_bundle=pem, connect_to=("10.255.255.1",))
    assert not unpinned.ok  # the name does not resolve: the handshake did not ask DNS around us
    assert not pinned.ok  # only the pinned address is tried
    assert no_dns == []


def test_a_pinned_https_scan_runs_its_tls_checks(
    ca: tuple[trustme.CA, Path], no_dns: list[str]
) -> None:
    authority, pem = ca
    with serve(api(), tls=server_context(authority, "api.test")) as good:
        report = asyncio.run(
            scan(
                ScanConfig(
                    target=f"https://api.test:{good.port}",
                    ca_bundle=pem,
                    pin=(("api.test", ("127.0.0.1",)),),
                    checks=("MB-ENC-008", "MB-ENC-009", "MB-ENC-010"),
                    budget=30,
                )
            )
        )
    assert {run.check_id: run.status for run in report.checks} == dict.fromkeys(
        ("MB-ENC-008", "MB-ENC-009", "MB-ENC-010"), CheckStatus.COMPLETED
    )
    assert report.findings == []
    assert no_dns == []


def test_a_scan_keeps_the_admitted_address_when_dns_changes(
    rebinding: Callable[..., list[str]],
) -> None:
    """Admitted while `rebind.test` pointed at the API; by the time the scan runs it points at
    127.0.0.2, where nothing listens. The pinned scan never asks again and scans the API."""
    hits: list[str] = []
    with serve(api(hits)) as served:
        asked = rebinding("127.0.0.1", "127.0.0.1", "127.0.0.2")
        policy = dashboard_policy(["rebind.test"], loopback=False)
        target = asyncio.run(policy.admit(f"http://rebind.test:{served.port}"))
        spec = asyncio.run(
            policy.admit(f"http://rebind.test:{served.port}/openapi.json", what="spec")
        )
        assert target.addresses == spec.addresses == ("127.0.0.1",)
        assert asked == ["rebind.test", "rebind.test"]
        config = ScanConfig(
            target=target.url,
            spec=f"http://rebind.test:{served.port}/openapi.json",
            pin=pin_of(target, spec),
            checks=("MB-CONF-001",),
            budget=30,
        )
        report = asyncio.run(scan(config))
        assert asked == ["rebind.test", "rebind.test"]
        assert report.requests_sent > 0
        assert "/openapi.json" in hits
        assert "/items" in hits
        # the control: unpinned, the same scan follows the new answer and finds nothing there
        with pytest.raises((SpecError, TargetError)):
            asyncio.run(scan(config.model_copy(update={"pin": ()})))
        assert asked[2:] == ["rebind.test"]


def test_the_spec_download_is_pinned(served: Served, no_dns: list[str]) -> None:
    url = f"http://spec.test:{served.port}/openapi.json"
    verify = tls_context(None, insecure=False)
    text = asyncio.run(
        fetch_document(url, verify=verify, seconds=5, pin=(("spec.test", ("127.0.0.1",)),))
    )
    assert json.loads(text) == SPEC
    with pytest.raises(SpecError, match=r"refused: spec\.test is not a host admitted"):
        asyncio.run(
            fetch_document(url, verify=verify, seconds=5, pin=(("api.test", ("127.0.0.1",)),))
        )
    assert no_dns == []


def test_the_mcp_server_fetches_a_spec_from_the_admitted_address(
    served: Served, rebinding: Callable[..., list[str]]
) -> None:
    asked = rebinding("127.0.0.1", "127.0.0.2")
    url = f"http://spec.test:{served.port}/openapi.json"
    report = asyncio.run(audit_url(url, AllowList.parse(["spec.test"])))
    assert report.spec == url
    assert asked == ["spec.test"]


def test_the_mcp_server_scans_the_admitted_address(
    served: Served, rebinding: Callable[..., list[str]]
) -> None:
    asked = rebinding("127.0.0.1", "127.0.0.2")
    server = build(AllowList.parse(["rebind.test"]))
    url = f"http://rebind.test:{served.port}"
    arguments = {"url": url, "checks": ["MB-CONF-001"], "budget_s": 30}

    async def call() -> CallToolResult:
        async with Client(server) as client:
            return await client.call_tool("scan_api", arguments)

    result = asyncio.run(call())
    assert not result.is_error, result.content
    assert asked == ["rebind.test"]


@pytest.mark.parametrize(
    "pin", [(("api.test", ("api.example.com",)),), (("api.test", ()),), (("", ("127.0.0.1",)),)]
)
def test_a_pin_holds_addresses_only(pin: Pin) -> None:
    """A name where an address belongs would be resolved when connecting, pin or not."""
    with pytest.raises(ValidationError, match="pin"):
        ScanConfig(target="http://api.test", pin=pin)
