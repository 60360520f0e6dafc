"""The MCP server's target guard: loopback always, the allow-list otherwise, no private address
unless allowed explicitly, and nothing looked up for a refused target."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from middlebrick.errors import ConfigError, TargetError
from middlebrick.mcp_server.targets import AllowList, Rule, parse_rule


def check(allow: AllowList, url: str) -> str:
    return asyncio.run(allow.check(url))


@pytest.fixture
def resolves_to(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Make every name resolve to the given addresses, recording the names looked up."""
    looked_up: list[str] = []

    def install(*addresses: str) -> list[str]:
        async def getaddrinfo(
            self: asyncio.AbstractEventLoop, host: str, port: int, **_: Any
        ) -> list[Any]:
            looked_up.append(host)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]

        monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo", getaddrinfo)
        return looked_up

    return install


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("api.example.com", Rule("api.example.com")),
        ("*.Staging.example.com:8443", Rule("*.staging.example.com", 8443)),
        ("10.0.0.0/8", Rule("10.0.0.0/8")),
        ("[fd00::1]:80", Rule("fd00::1", 80)),
        ("fd00::1", Rule("fd00::1")),
        ("https://api.example.com:444/v1", Rule("api.example.com", 444)),
    ],
)
def test_parse_rule_reads_host_and_port(raw: str, rule: Rule) -> None:
    assert parse_rule(raw) == rule


@pytest.mark.parametrize("raw", ["api.example.com:http", "host:0", ":8080"])
def test_parse_rule_refuses_a_bad_entry(raw: str) -> None:
    with pytest.raises(ConfigError, match="allow-list entry"):
        parse_rule(raw)


def test_env_and_options_combine() -> None:
    allow = AllowList.from_options(
        ["a.example.com"], {"MIDDLEBRICK_MCP_ALLOW": " b.example.com , ,*.c.example.com:8443"}
    )
    assert allow.describe() == "loopback, a.example.com, b.example.com, *.c.example.com:8443"


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080/api", "http://127.9.9.9", "http://localhost:3000", "http://[::1]"],
)
def test_loopback_is_always_allowed_without_a_lookup(url: str, resolves_to: Any) -> None:
    looked_up = resolves_to("93.184.216.34")
    assert check(AllowList(), url) == url.rstrip("/")
    assert looked_up == []


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com",
        "http://10.0.0.1",
        "http://192.168.1.1:8080",
        "http://169.254.169.254/latest/meta-data",
        "http://[fe80::1]",
        "http://0.0.0.0:5000",
        "http://api.example.com.evil.test",
    ],
)
def test_targets_off_the_list_are_refused_before_any_lookup(url: str, resolves_to: Any) -> None:
    looked_up = resolves_to("127.0.0.1")
    allow = AllowList.parse(["api.example.com"])
    with pytest.raises(ConfigError, match="allow-list"):
        check(allow, url)
    assert looked_up == []


def test_a_glob_allows_matching_public_hosts(resolves_to: Any) -> None:
    looked_up = resolves_to("93.184.216.34")
    allow = AllowList.parse(["*.staging.example.com"])
    assert (
        check(allow, "https://api.staging.example.com/v1") == "https://api.staging.example.com/v1"
    )
    assert looked_up == ["api.staging.example.com"]
    with pytest.raises(ConfigError):
        check(allow, "https://staging.example.com.evil.test")


def test_a_port_in_the_rule_is_the_only_port_allowed(resolves_to: Any) -> None:
    resolves_to("93.184.216.34")
    allow = AllowList.parse(["api.example.com:8443"])
    assert check(allow, "https://api.example.com:8443")
    with pytest.raises(ConfigError, match=r"api\.example\.com:443 is not"):
        check(allow, "https://api.example.com")


def test_a_glob_match_resolving_to_a_private_address_is_refused(resolves_to: Any) -> None:
    resolves_to("93.184.216.34", "10.1.2.3")
    with pytest.raises(ConfigError, match=r"resolves to 10\.1\.2\.3, a non-public"):
        check(AllowList.parse(["*.example.com"]), "http://rebind.example.com")


def test_a_private_address_is_allowed_when_named_exactly(resolves_to: Any) -> None:
    resolves_to("10.1.2.3")
    assert check(AllowList.parse(["api.internal.example.com"]), "http://api.internal.example.com")
    assert check(AllowList.parse(["10.0.0.5"]), "http://10.0.0.5:8080")
    assert check(AllowList.parse(["10.0.0.0/8"]), "http://10.20.30.40")
    assert check(
        AllowList.parse(["*.internal.example.com", "10.1.0.0/16"]), "http://x.internal.example.com"
    )


def test_a_name_that_does_not_resolve_is_a_target_error(monkeypatch: pytest.MonkeyPatch) -> None:
    async def getaddrinfo(self: asyncio.AbstractEventLoop, *_: Any, **__: Any) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo", getaddrinfo)
    with pytest.raises(TargetError, match="does not resolve"):
        check(AllowList.parse(["api.example.com"]), "http://api.example.com")
