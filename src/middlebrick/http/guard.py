"""Which URLs a server agrees to send requests to (the SSRF guard), and DNS pinning.

A dashboard or MCP server scans URLs that someone else typed, or that an assistant was talked into
asking for. A `TargetPolicy` admits a URL before anything is sent: it refuses cloud metadata and
link-local addresses always, and private, loopback and other non-public ones unless its operator
allowed them; every address the name resolves to must pass. The `Admission` carries the addresses
that passed, and a scan given them as `ScanConfig.pin` connects only there: the name is never
resolved again, so a DNS answer that changes after admission (DNS rebinding) changes nothing.
"""

from __future__ import annotations

import asyncio
import fnmatch
import ipaddress
import re
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult

from middlebrick.config import normalise_target
from middlebrick.errors import ConfigError, TargetError

__all__ = [
    "Admission",
    "NotPinned",
    "PinnedResolver",
    "Pins",
    "Rule",
    "TargetPolicy",
    "address_kind",
    "dashboard_policy",
    "ip_of",
    "parse_rule",
    "pin_of",
]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Pin = tuple[tuple[str, tuple[str, ...]], ...]

RESOLVE_TIMEOUT = 5.0  # seconds for the name lookup
WEB_ALLOW_ENV = "MIDDLEBRICK_WEB_ALLOW"
LOOPBACK_ADDRESSES = ("127.0.0.1", "::1")
_DEFAULT_PORT = {"http": 80, "https": 443}
_GLOB = frozenset("*?[")

# Instance metadata services hand out cloud credentials to whoever asks from inside: AWS, GCP,
# Azure, Oracle, DigitalOcean (169.254.169.254), AWS over IPv6, ECS task metadata, Alibaba, and
# Azure's WireServer (a public address, hence listed by address rather than by range).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",
        "169.254.170.2",
        "fd00:ec2::254",
        "100.100.100.200",
        "168.63.129.16",
    )
)
METADATA_NAMES = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.tencentyun.com",
    }
)
# kinds no allow-list entry can permit
ALWAYS_REFUSED = frozenset({"cloud metadata", "link-local"})

_RANGES: tuple[tuple[str, tuple[Network, ...]], ...] = tuple(
    (kind, tuple(ipaddress.ip_network(n) for n in networks))
    for kind, networks in (
        ("unspecified", ("0.0.0.0/32", "::/128")),
        ("loopback", ("127.0.0.0/8", "::1/128")),
        ("link-local", ("169.254.0.0/16", "fe80::/10")),
        ("private", ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")),
        ("shared (CGNAT)", ("100.64.0.0/10",)),
        ("unique-local", ("fc00::/7",)),
        ("site-local", ("fec0::/10",)),
        ("multicast", ("224.0.0.0/4", "ff00::/8")),
    )
)
# IPv6 prefixes that carry an IPv4 address in their last 32 bits and reach it (NAT64)
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
# what `inet_aton` reads as an IPv4 address: 1 to 4 decimal, octal or hex parts
_NUMERIC_HOST = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}\.?")


def ip_of(host: str) -> Address | None:
    """The address `host` spells, if it is an IP literal (an IPv4-mapped IPv6 one as IPv4)."""
    try:
        address = ipaddress.ip_address(host.strip("[]").partition("%")[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def address_kind(address: Address) -> str | None:
    """The kind of non-public address `address` is (`"private"`, `"loopback"`, ...); None for a
    public one. IPv6 forms that carry an IPv4 address (mapped, 6to4, NAT64) are judged by it."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and any(address in net for net in _NAT64):
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return address_kind(embedded)
    if address in METADATA_ADDRESSES:
        return "cloud metadata"
    for kind, networks in _RANGES:
        if any(address in net for net in networks):
            return kind
    if not address.is_global or address.is_reserved or address.is_private:
        return "reserved"
    return None


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
    return Rule(host.rstrip("."), port)


@dataclass(frozen=True, slots=True)
class Admission:
    """A URL a policy admitted, and the addresses its host may be reached at (all checked)."""

    url: str  # normalised (`config.normalise_target`)
    host: str  # lower case, IPv6 without brackets
    port: int
    addresses: tuple[str, ...]

    @property
    def pin(self) -> Pin:
        """For `ScanConfig(pin=...)`: connect to these addresses only."""
        return ((self.host, self.addresses),)


def pin_of(*admissions: Admission) -> Pin:
    """One pin for a scan that reaches several admitted URLs (a target and its spec URL)."""
    table: dict[str, tuple[str, ...]] = {}
    for admission in admissions:
        known = table.get(admission.host, ())
        table[admission.host] = (*known, *(a for a in admission.addresses if a not in known))
    return tuple(table.items())


@dataclass(frozen=True, slots=True)
class TargetPolicy:
    """Admits a URL, or refuses it with a `ConfigError` saying why in one line (`TargetError`
    when the name does not resolve).

    `loopback`: loopback addresses pass without an allow-list entry. `listed_only`: a host that is
    neither loopback nor matched by a rule is refused before any lookup, public or not (the MCP
    server's bound). Otherwise public addresses pass, and non-public ones pass when a rule permits
    them: a rule naming the host exactly (no glob), or a network containing the address. Cloud
    metadata and link-local addresses never pass.
    """

    rules: tuple[Rule, ...] = ()
    loopback: bool = False
    listed_only: bool = False
    owner: str = "this dashboard"
    how_to_list: str = f"{WEB_ALLOW_ENV}={{host}}"  # `{host}` is filled in
    how_to_permit: str = (
        f"{WEB_ALLOW_ENV}={{host}} without a glob, or the network, e.g. {WEB_ALLOW_ENV}=10.0.0.0/8"
    )

    def describe(self) -> str:
        return ", ".join([*(["loopback"] if self.loopback else []), *map(str, self.rules)])

    async def admit(self, url: str, *, what: str = "target") -> Admission:
        normalised = normalise_target(url)
        parts = urlsplit(normalised)
        host = (parts.hostname or "").lower()
        name = host.rstrip(".")
        port = parts.port or _DEFAULT_PORT[parts.scheme]
        _refuse_numeric_forms(name, what)
        if name in METADATA_NAMES:
            raise ConfigError(
                f"{what} {host} is a cloud metadata endpoint; {self.owner} never scans those"
            )
        literal = ip_of(name)
        if self.loopback and (
            _loopback_name(name) or (literal is not None and literal.is_loopback)
        ):
            # RFC 6761: localhost names are loopback whatever a resolver says, so no lookup
            addresses = (str(literal),) if literal is not None else LOOPBACK_ADDRESSES
            return Admission(normalised, host, port, addresses)
        matched = [r for r in self.rules if r.matches(name, port)]
        if self.listed_only and not matched:
            private = literal is not None and address_kind(literal) is not None
            raise ConfigError(
                f"{what} {name}:{port}{' (a non-public address)' if private else ''} is not on "
                f"{self.owner}'s allow-list; it scans "
                f"{'loopback and ' if self.loopback else ''}what its operator allows "
                f"({self.how_to_list.format(host=name)})"
            )
        by_name = any(r.explicit and r.network is None for r in matched)
        found = [literal] if literal is not None else await resolve(name, port)
        for address in found:
            kind = address_kind(address)
            if kind is None or (kind == "loopback" and self.loopback):
                continue
            subject = f"{name} is" if literal is not None else f"{name} resolves to {address},"
            if kind in ALWAYS_REFUSED:
                raise ConfigError(
                    f"{what} {subject} a {kind} address; {self.owner} never scans link-local "
                    "or cloud metadata addresses"
                )
            if by_name or any(
                address in net and r.port in (None, port)
                for r in self.rules
                if (net := r.network) is not None
            ):
                continue
            raise ConfigError(
                f"{what} {subject} a non-public ({kind}) address; {self.owner} scans such "
                f"addresses only when they are allowed explicitly "
                f"({self.how_to_permit.format(host=name)})"
            )
        return Admission(normalised, host, port, tuple(dict.fromkeys(map(str, found))))


def dashboard_policy(allow: Iterable[str], *, loopback: bool) -> TargetPolicy:
    """The dashboard's policy: public addresses, loopback when `loopback` (the dashboard itself
    is bound to loopback, so whoever reaches it is on this machine), and non-public addresses
    its operator allows (`allow`: entries as `MIDDLEBRICK_WEB_ALLOW` takes them)."""
    return TargetPolicy(
        rules=tuple(parse_rule(entry) for entry in allow if entry.strip()),
        loopback=loopback,
    )


async def resolve(host: str, port: int) -> list[Address]:
    """Every address `host` resolves to (IPv4-mapped ones as IPv4), or a `TargetError`."""
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT):
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
    except (OSError, TimeoutError, UnicodeError):
        raise TargetError(f"the host name {host} does not resolve") from None
    found = list(dict.fromkeys(a for info in infos if (a := ip_of(str(info[4][0]))) is not None))
    if not found:
        raise TargetError(f"the host name {host} does not resolve")
    return found


def _loopback_name(name: str) -> bool:
    return name == "localhost" or name.endswith(".localhost")


def _refuse_numeric_forms(name: str, what: str) -> None:
    """Refuse IPv4 addresses written other than as four decimal parts (`2130706433`,
    `0177.0.0.1`, `0x7f.1`, `127.1`): resolvers read them as addresses, and naming one is no way
    to reach an API but a classic way around a filter."""
    if not _NUMERIC_HOST.fullmatch(name) or ip_of(name) is not None:
        return
    try:
        meant = f" ({ipaddress.IPv4Address(socket.inet_aton(name))})"
    except OSError:
        meant = ""
    raise ConfigError(
        f"{what} host {name} is an IPv4 address in a non-standard form{meant}; "
        "write it as four decimal numbers"
    )


class NotPinned(OSError):
    """A pinned scan was asked to connect to a host it was not admitted for."""

    def __init__(self, host: str) -> None:
        super().__init__(
            f"refused: {host} is not a host admitted for this scan "
            "(a pinned scan connects only to the addresses checked when it was admitted)"
        )


@dataclass(frozen=True, slots=True)
class Pins:
    """A scan's `pin` as a lookup table. Empty: names resolve as usual."""

    table: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def of(cls, pin: Pin) -> Pins:
        return cls(MappingProxyType({_key(host): tuple(addresses) for host, addresses in pin}))

    def __bool__(self) -> bool:
        return bool(self.table)

    def addresses(self, host: str) -> tuple[str, ...]:
        """Where `host` may be reached: its pinned addresses; `()` when nothing is pinned (resolve
        as usual); `NotPinned` for a host outside a non-empty pin."""
        if not self.table:
            return ()
        addresses = self.table.get(_key(host))
        if not addresses:
            raise NotPinned(host)
        return addresses


class PinnedResolver(AbstractResolver):
    """An aiohttp resolver that answers from the pin and never asks DNS."""

    def __init__(self, pins: Pins) -> None:
        self._pins = pins

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = []
        for text in self._pins.addresses(host) or ():
            address = ipaddress.ip_address(text)
            found = socket.AF_INET if address.version == 4 else socket.AF_INET6
            if family not in (socket.AF_UNSPEC, found):
                continue
            results.append(
                ResolveResult(
                    hostname=host,
                    host=text,
                    port=port,
                    family=found,
                    proto=0,
                    flags=socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
                )
            )
        if not results:
            raise NotPinned(host)
        return results

    async def close(self) -> None:
        """Nothing to release."""


def _key(host: str) -> str:
    """One spelling per host: lower case, no brackets or trailing dot, IP addresses compressed,
    international names in ASCII (as aiohttp's URL library sends them)."""
    text = host.strip("[]").lower().rstrip(".")
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    try:
        return text.encode("idna").decode("ascii")
    except UnicodeError:
        return text
