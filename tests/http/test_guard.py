"""The SSRF guard: what the dashboard's policy admits and refuses, and the addresses it pins.

Literal addresses and `localhost` go through the real resolver; names with chosen answers go
through a stand-in for the event loop's `getaddrinfo`, the one place the guard asks DNS."""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Callable
from typing import Any

import pytest

from middlebrick.errors import ConfigError, TargetError
from middlebrick.http.guard import (
    Admission,
    TargetPolicy,
    address_kind,
    dashboard_policy,
    pin_of,
)

Answers = Callable[..., list[str]]


def admit(policy: TargetPolicy, url: str, what: str = "target") -> Admission:
    return asyncio.run(policy.admit(url, what=what))


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> Answers:
    """Make every name resolve to the given addresses; returns the names looked up."""
    looked_up: list[str] = []

    def install(*addresses: str) -> list[str]:
        async def getaddrinfo(
            self: asyncio.AbstractEventLoop, host: str, port: int, **_: Any
        ) -> list[Any]:
            looked_up.append(host)
            return [
                (
                    socket.AF_INET6 if ":" in a else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (a, port, 0, 0) if ":" in a else (a, port),
                )
                for a in addresses
            ]

        monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo", getaddrinfo)
        return looked_up

    return install


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        # cloud metadata, by address and in IPv6 disguises
        ("http://169.254.169.254/latest/meta-data", "a cloud metadata address"),
        ("http://169.254.170.2/v2/credentials", "a cloud metadata address"),
        ("http://[fd00:ec2::254]/latest", "a cloud metadata address"),
        ("http://100.100.100.200/latest/meta-data", "a cloud metadata address"),
        ("http://168.63.129.16/machine", "a cloud metadata address"),
        ("http://[::ffff:169.254.169.254]", "a cloud metadata address"),
        ("http://[::ffff:a9fe:a9fe]", "a cloud metadata address"),
        ("http://[64:ff9b::a9fe:a9fe]", "a cloud metadata address"),
        # link-local
        ("http://169.254.1.1", "a link-local address"),
        ("http://[fe80::1]", "a link-local address"),
        ("http://[fe80::1%25eth0]:8080", "a link-local address"),
        # every private range, its edges included
        ("http://10.0.0.1", "(private)"),
        ("http://10.255.255.255:8080", "(private)"),
        ("http://172.16.0.1", "(private)"),
        ("http://172.31.255.254", "(private)"),
        ("http://192.168.0.1", "(private)"),
        ("http://[::ffff:10.0.0.1]", "(private)"),
        ("http://[2002:a00:1::1]", "(private)"),  # 6to4 for 10.0.0.1
        ("http://[64:ff9b::c0a8:101]", "(private)"),  # NAT64 for 192.168.1.1
        ("http://100.64.0.1", "(shared (CGNAT))"),
        ("http://100.127.255.254", "(shared (CGNAT))"),
        ("http://[fd12:3456:789a::1]", "(unique-local)"),
        ("http://[fc00::1]", "(unique-local)"),
        ("http://[fec0::1]", "(site-local)"),
        # loopback, unless the policy allows it
        ("http://127.0.0.1:8000", "(loopback)"),
        ("http://127.8.8.8", "(loopback)"),
        ("http://[::1]:8000", "(loopback)"),
        ("http://[::ffff:127.0.0.1]", "(loopback)"),
        ("http://[0:0:0:0:0:ffff:7f00:1]", "(loopback)"),
        # unspecified, multicast, reserved
        ("http://0.0.0.0:8000", "(unspecified)"),
        ("http://[::]:8000", "(unspecified)"),
        ("http://224.0.0.1", "(multicast)"),
        ("http://239.255.255.250:1900", "(multicast)"),
        ("http://[ff02::1]", "(multicast)"),
        ("http://0.1.2.3", "(reserved)"),
        ("http://192.0.2.10", "(reserved)"),
        ("http://198.18.0.1", "(reserved)"),
        ("http://240.0.0.1", "(reserved)"),
        ("http://255.255.255.255", "(reserved)"),
        ("http://[::127.0.0.1]", "(reserved)"),  # IPv4-compatible, deprecated
        ("http://[2001:db8::1]", "(reserved)"),
    ],
)
def test_non_public_addresses_are_refused(url: str, reason: str, dns: Answers) -> None:
    looked_up = dns("93.184.216.34")
    with pytest.raises(ConfigError) as refused:
        admit(dashboard_policy((), loopback=False), url)
    assert reason in str(refused.value)
    assert "\n" not in str(refused.value)
    assert looked_up == []


@pytest.mark.parametrize(
    ("host", "meant"),
    [
        ("2130706433", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254"),
        ("010.0.0.1", "8.0.0.1"),
        ("3627734869", "216.58.215.85"),  # public, still not written as an address should be
    ],
)
def test_other_encodings_of_ipv4_addresses_are_refused(host: str, meant: str, dns: Answers) -> None:
    looked_up = dns("93.184.216.34")
    with pytest.raises(ConfigError, match=re.escape(f"non-standard form ({meant})")):
        admit(dashboard_policy((), loopback=True), f"http://{host}:8080/")
    assert looked_up == []


@pytest.mark.parametrize(
    "url",
    [
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://METADATA.Google.Internal./computeMetadata/v1/",
        "http://metadata.goog",
        "http://metadata",
        "http://instance-data.ec2.internal",
    ],
)
def test_metadata_names_are_refused_before_any_lookup(url: str, dns: Answers) -> None:
    looked_up = dns("93.184.216.34")  # even when the name would look public
    host = url.split("/")[2].lower().rstrip(".")
    with pytest.raises(ConfigError, match="cloud metadata endpoint"):
        admit(dashboard_policy([host, "*"], loopback=True), url)
    assert looked_up == []


def test_a_name_resolving_to_loopback_is_refused() -> None:
    """Real DNS: `localhost` is a name whose every answer is loopback."""
    with pytest.raises(
        ConfigError, match=r"localhost resolves to (127\.0\.0\.1|::1), a non-public"
    ):
        admit(dashboard_policy((), loopback=False), "http://localhost:8000")


def test_a_name_resolving_to_loopback_is_admitted_when_named() -> None:
    admission = admit(dashboard_policy(["localhost"], loopback=False), "http://localhost:8000/x")
    assert admission.url == "http://localhost:8000/x"
    assert (admission.host, admission.port) == ("localhost", 8000)
    assert admission.addresses
    assert all(ipaddress.ip_address(a).is_loopback for a in admission.addresses)


def test_loopback_allowed_pins_localhost_without_a_lookup(dns: Answers) -> None:
    looked_up = dns("10.0.0.1")  # whatever a resolver says, localhost is loopback (RFC 6761)
    policy = dashboard_policy((), loopback=True)
    assert admit(policy, "http://localhost:5000").addresses == ("127.0.0.1", "::1")
    assert admit(policy, "http://api.localhost:5000").addresses == ("127.0.0.1", "::1")
    assert admit(policy, "http://127.0.0.2:5000").addresses == ("127.0.0.2",)
    assert admit(policy, "http://[::ffff:127.0.0.1]:5000").addresses == ("127.0.0.1",)
    assert looked_up == []
    with pytest.raises(ConfigError, match=r"\(private\)"):
        admit(policy, "http://10.0.0.1:5000")


@pytest.mark.parametrize(
    ("allow", "url", "admitted"),
    [
        (["10.0.0.0/8"], "http://10.1.2.3:8080", True),
        (["10.0.0.0/8"], "http://192.168.1.1", False),
        (["10.0.0.5:8080"], "http://10.0.0.5:8080", True),
        (["10.0.0.5:8080"], "http://10.0.0.5:8081", False),
        (["10.0.0.0/8:8080"], "http://10.0.0.5:8081", False),
        (["[fd00::5]:443"], "https://[fd00::5]", True),
        (["fd00::/8"], "https://[fd00::5]:8443", True),
        (["127.0.0.1"], "http://127.0.0.1:9000", True),
        (["100.64.0.0/10"], "http://100.64.1.1", True),
        (["0.0.0.0"], "http://0.0.0.0:8000", True),
        (["*"], "http://10.0.0.1", False),  # a glob never permits a non-public address
        (["169.254.169.254"], "http://169.254.169.254", False),  # never, whatever the list
        (["169.254.0.0/16"], "http://169.254.10.10", False),
        (["fe80::/10"], "http://[fe80::1]", False),
        (["fd00:ec2::254"], "http://[fd00:ec2::254]", False),
    ],
)
def test_the_allow_list_permits_what_it_names(
    allow: list[str], url: str, admitted: bool, dns: Answers
) -> None:
    looked_up = dns("93.184.216.34")
    policy = dashboard_policy(allow, loopback=False)
    if admitted:
        admission = admit(policy, url)
        assert admission.addresses == (admission.host,)
    else:
        with pytest.raises(ConfigError):
            admit(policy, url)
    assert looked_up == []


@pytest.mark.parametrize(
    ("allow", "answers", "refusal"),
    [
        ((), ("93.184.216.34", "10.0.0.7"), r"resolves to 10\.0\.0\.7, a non-public \(private\)"),
        ((), ("10.0.0.7", "93.184.216.34"), r"resolves to 10\.0\.0\.7"),
        ((), ("2606:4700::1111", "fd00::1"), r"resolves to fd00::1, a non-public"),
        ((), ("::ffff:192.168.0.9",), r"resolves to 192\.168\.0\.9, a non-public"),
        ((), ("127.0.0.1",), r"resolves to 127\.0\.0\.1, a non-public \(loopback\)"),
        (("*.example.com",), ("10.0.0.7",), r"resolves to 10\.0\.0\.7"),
        (("api.example.com",), ("169.254.169.254",), r"a cloud metadata address; this dashboard"),
        (("api.example.com",), ("93.184.216.34", "169.254.1.1"), r"a link-local address"),
        (("10.0.0.0/8:443",), ("10.0.0.7",), r"resolves to 10\.0\.0\.7"),  # port 80 asked
    ],
)
def test_one_bad_answer_refuses_the_name(
    allow: tuple[str, ...], answers: tuple[str, ...], refusal: str, dns: Answers
) -> None:
    looked_up = dns(*answers)
    with pytest.raises(ConfigError, match=refusal):
        admit(dashboard_policy(allow, loopback=False), "http://api.example.com/v1")
    assert looked_up == ["api.example.com"]


@pytest.mark.parametrize(
    ("allow", "answers", "pinned"),
    [
        ((), ("93.184.216.34", "2606:4700::1111"), ("93.184.216.34", "2606:4700::1111")),
        ((), ("::ffff:93.184.216.34", "93.184.216.34"), ("93.184.216.34",)),
        ((), ("64:ff9b::5db8:d822",), ("64:ff9b::5db8:d822",)),  # NAT64 of a public address
        (("api.example.com",), ("10.0.0.7", "10.0.0.8"), ("10.0.0.7", "10.0.0.8")),
        (("api.example.com:80",), ("10.0.0.7",), ("10.0.0.7",)),
        (("10.0.0.0/24",), ("10.0.0.7", "93.184.216.34"), ("10.0.0.7", "93.184.216.34")),
        (("*.example.com", "10.0.0.0/8"), ("10.0.0.7",), ("10.0.0.7",)),
    ],
)
def test_admitted_names_carry_every_address_that_passed(
    allow: tuple[str, ...], answers: tuple[str, ...], pinned: tuple[str, ...], dns: Answers
) -> None:
    dns(*answers)
    admission = admit(dashboard_policy(allow, loopback=False), "http://API.example.com./v1/")
    assert admission == Admission("http://api.example.com./v1", "api.example.com.", 80, pinned)
    assert admission.pin == (("api.example.com.", pinned),)


def test_a_name_that_does_not_resolve_is_a_target_error() -> None:
    with pytest.raises(TargetError, match="does not resolve"):
        admit(dashboard_policy((), loopback=True), "http://no-such-host.invalid/")


def test_a_bad_allow_list_entry_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="allow-list entry"):
        dashboard_policy(["10.0.0.1:http"], loopback=False)


def test_the_spec_url_is_named_in_the_refusal() -> None:
    with pytest.raises(ConfigError, match=r"^spec 10\.0\.0\.1 is a non-public"):
        admit(dashboard_policy((), loopback=False), "http://10.0.0.1/openapi.json", what="spec")


def test_pin_of_merges_the_hosts_a_scan_reaches() -> None:
    target = Admission("http://a.test", "a.test", 80, ("127.0.0.1",))
    spec = Admission("http://b.test/spec.json", "b.test", 80, ("127.0.0.2",))
    again = Admission("https://a.test", "a.test", 443, ("127.0.0.1", "::1"))
    assert pin_of(target, spec, again) == (
        ("a.test", ("127.0.0.1", "::1")),
        ("b.test", ("127.0.0.2",)),
    )


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("93.184.216.34", None),
        ("2606:4700::1111", None),
        ("2002:5db8:d822::1", None),  # 6to4 of a public address
        ("192.88.99.1", None),
        ("100.100.100.200", "cloud metadata"),
        ("::ffff:100.64.0.1", "shared (CGNAT)"),
        ("2001::1", "reserved"),  # Teredo
    ],
)
def test_address_kind(address: str, kind: str | None) -> None:
    assert address_kind(ipaddress.ip_address(address)) == kind
