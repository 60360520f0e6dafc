"""Which URLs the MCP server agrees to touch. An assistant can be talked (prompt-injected) into
asking for any URL, so before anything is sent the server refuses targets that are neither
loopback nor on its operator's allow-list; then it resolves the name and refuses private,
link-local and other non-public addresses unless the operator allowed them explicitly.

The check runs once, before the scan; the engine resolves the name again when it connects, so a
name whose DNS answer changes in between is not caught here (the allow-list is the real bound).
"""

from __future__ import annotations

import asyncio
import fnmatch
import ipaddress
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from middlebrick.config import normalise_target
from middlebrick.errors import ConfigError, TargetError

ENV_VAR = "MIDDLEBRICK_MCP_ALLOW"
RESOLVE_TIMEOUT = 5.0  # seconds for the name lookup
LOOPBACK_NAMES = frozenset({"localhost", "localhost."})
_GLOB = frozenset("*?[")
_DEFAULT_PORT = {"http": 80, "https": 443}

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class Rule:
    """One allow-list entry: a host name (a glob such as `*.staging.example.com` allowed), an IP
    address or a CIDR network, and optionally the one port it allows."""

    host: str
    port: int | None = None

    @property
    def network(self) -> Network | None:
        try:
            return ipaddress.ip_network(self.host, strict=False)
        except ValueError:
            return None

    @property
    def explicit(self) -> bool:
        """Names its host exactly (no glob): enough to allow a private address."""
        return not _GLOB & set(self.host)

    def matches(self, host: str, port: int) -> bool:
        if self.port is not None and self.port != port:
            return False
        network = self.network
        if network is not None:
            address = ip_of(host)
            return address is not None and address in network
        return fnmatch.fnmatchcase(host, self.host)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host and self.network is None else self.host
        return host if self.port is None else f"{host}:{self.port}"


def parse_rule(raw: str) -> Rule:
    """`HOST[:PORT]`, `[IPV6]:PORT`, a bare IPv6 address, `CIDR`, or a URL (its host and port)."""
    text = raw.strip().lower()
    port_text: str | None = None
    if "://" in text:  # a URL: its HOST[:PORT]
        text = urlsplit(text).netloc.rpartition("@")[2]
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else None
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    else:
        host = text  # a name, or a bare IPv6 address
    if not host:
        raise ConfigError(f"allow-list entry {raw!r} has no host")
    port = None
    if port_text is not None:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ConfigError(f"allow-list entry {raw!r}: the port must be a number 1-65535")
        port = int(port_text)
    return Rule(host, port)


@dataclass(frozen=True, slots=True)
class AllowList:
    """The hosts the server may scan besides loopback, which is always allowed."""

    rules: tuple[Rule, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        return cls(tuple(parse_rule(e) for e in entries if e.strip()))

    @classmethod
    def from_options(cls, options: Iterable[str], environ: Mapping[str, str]) -> AllowList:
        """`--allow` options plus the comma-separated entries of `$MIDDLEBRICK_MCP_ALLOW`."""
        return cls.parse([*options, *environ.get(ENV_VAR, "").split(",")])

    def describe(self) -> str:
        return ", ".join(["loopback", *map(str, self.rules)])

    async def check(self, url: str, *, what: str = "target") -> str:
        """The normalised URL if the server may send requests to it; otherwise a `ConfigError`
        (or `TargetError` for a name that does not resolve) saying why, in one line. Nothing is
        looked up for a URL the allow-list refuses."""
        normalised = normalise_target(url)
        parts = urlsplit(normalised)
        host = (parts.hostname or "").lower()
        port = parts.port or _DEFAULT_PORT[parts.scheme]
        literal = ip_of(host)
        if host in LOOPBACK_NAMES or (literal is not None and literal.is_loopback):
            return normalised
        matched = [r for r in self.rules if r.matches(host, port)]
        if not matched:
            kind = " (a non-public address)" if literal is not None and not _public(literal) else ""
            raise ConfigError(
                f"{what} {host}:{port}{kind} is not on this MCP server's allow-list; it scans "
                f"loopback and what its operator allows (`middlebrick mcp --allow {host}` or "
                f"{ENV_VAR})"
            )
        by_name = any(r.explicit and r.network is None for r in matched)
        for address in await _addresses(host, port, literal):
            if address.is_loopback or _public(address) or by_name:
                continue
            if any(address in net for r in self.rules if (net := r.network) is not None):
                continue
            raise ConfigError(
                f"{what} {host} resolves to {address}, a non-public (private, link-local or "
                "reserved) address; the "
                f"MCP server scans such addresses only when they are allowed explicitly "
                f"(`--allow {host}` without a glob, or the network, e.g. `--allow 10.0.0.0/8`)"
            )
        return normalised


def ip_of(host: str) -> Address | None:
    """The address `host` spells, if it is an IP literal (an IPv4-mapped IPv6 one as IPv4)."""
    try:
        address = ipaddress.ip_address(host.strip("[]").partition("%")[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _public(address: Address) -> bool:
    return address.is_global and not address.is_multicast


async def _addresses(host: str, port: int, literal: Address | None) -> list[Address]:
    if literal is not None:
        return [literal]
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT):
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
    except (OSError, TimeoutError):
        raise TargetError(f"the host name {host} does not resolve") from None
    found = (ip_of(str(info[4][0])) for info in infos)
    return list(dict.fromkeys(a for a in found if a is not None))
