"""TLS handshakes with chosen versions and ciphers, and what the certificate says.

The standard library's `ssl` suffices for what the scanner asks: does the server accept TLS 1.0 or
1.1, does it accept cipher suites we name weak, is its certificate trusted, current and issued for
the host. Handshakes block, so callers run them in a thread with a timeout.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import NameOID

# OpenSSL's verify codes (x509_vfy.h) the certificate check tells apart.
CERT_NOT_YET_VALID = 9
CERT_HAS_EXPIRED = 10
HOSTNAME_MISMATCH = 62

# Families no current client needs: broken, export-grade, anonymous or unauthenticated.
WEAK_CIPHERS = "NULL:eNULL:aNULL:EXPORT:LOW:DES:3DES:RC4:MD5:!PSK:!SRP:@SECLEVEL=0"

# Client-side OpenSSL errors: no cipher or version left to offer with the constraints asked for.
_NOTHING_TO_OFFER = frozenset({"NO_CIPHERS_AVAILABLE", "NO_PROTOCOLS_AVAILABLE"})

VERSIONS = {
    "TLSv1": ssl.TLSVersion.TLSv1,
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2,
    "TLSv1.3": ssl.TLSVersion.TLSv1_3,
}


@dataclass(frozen=True, slots=True)
class Certificate:
    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime
    names: tuple[str, ...]  # DNS names and IP addresses from subjectAltName

    def matches(self, host: str) -> bool:
        return any(_name_matches(name, host) for name in self.names)


@dataclass(frozen=True, slots=True)
class Handshake:
    """The outcome of one handshake attempt."""

    ok: bool
    version: str | None = None
    cipher: str | None = None
    certificate: Certificate | None = None
    verify_code: int | None = None  # set when verification was asked for and failed
    verify_message: str | None = None
    error: str | None = None


def handshake(
    host: str,
    port: int,
    *,
    server_name: str | None = None,
    verify: bool = False,
    ca_bundle: Path | None = None,
    minimum: str | None = None,
    maximum: str | None = None,
    ciphers: str | None = None,
    timeout: float = 5.0,
    connect_to: Sequence[str] = (),
) -> Handshake:
    """Connect, handshake with the given constraints, and report what was negotiated.

    `connect_to`: the addresses a pinned scan admitted for `host`, tried in turn instead of
    resolving it; SNI and the certificate's name are still judged against `host`."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if verify:
        ctx.load_verify_locations(cafile=str(ca_bundle)) if ca_bundle else ctx.load_default_certs()
        ctx.check_hostname = False  # the hostname is judged from the certificate, below
        ctx.verify_mode = ssl.CERT_REQUIRED
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    try:
        with warnings.catch_warnings():
            # offering TLS 1.0/1.1 is the point of the legacy-version check
            warnings.simplefilter("ignore", DeprecationWarning)
            if minimum or maximum or ciphers:
                ctx.set_ciphers(ciphers or "DEFAULT:@SECLEVEL=0")
            if minimum:
                ctx.minimum_version = VERSIONS[minimum]
            if maximum:
                ctx.maximum_version = VERSIONS[maximum]
    except (ssl.SSLError, ValueError) as exc:
        return Handshake(ok=False, error=f"this OpenSSL cannot offer that: {exc}")
    sni = server_name or host
    try:
        ipaddress.ip_address(sni)
        sni_arg: str | None = None
    except ValueError:
        sni_arg = sni
    try:
        with (
            _connect(host, port, connect_to, timeout) as raw,
            ctx.wrap_socket(raw, server_hostname=sni_arg) as tls,
        ):
            der = tls.getpeercert(binary_form=True)
            cipher = tls.cipher()
            return Handshake(
                ok=True,
                version=tls.version(),
                cipher=cipher[0] if cipher else None,
                certificate=parse_certificate(der) if der else None,
            )
    except ssl.SSLCertVerificationError as exc:
        return Handshake(
            ok=False,
            verify_code=exc.verify_code,
            verify_message=exc.verify_message,
            error=f"certificate rejected: {exc.verify_message}",
        )
    except ssl.SSLError as exc:
        if exc.reason in _NOTHING_TO_OFFER:  # raised before a byte is sent: not the server's "no"
            return Handshake(ok=False, error=f"this OpenSSL cannot offer that: {exc}")
        return Handshake(ok=False, error=f"{type(exc).__name__}: {exc}")
    except OSError as exc:
        return Handshake(ok=False, error=f"{type(exc).__name__}: {exc}")


def _connect(host: str, port: int, addresses: Sequence[str], timeout: float) -> socket.socket:
    if not addresses:
        return socket.create_connection((host, port), timeout=timeout)
    failure: OSError | None = None
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout=timeout)
        except OSError as exc:
            failure = exc
    assert failure is not None
    raise failure


def parse_certificate(der: bytes) -> Certificate | None:
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return None
    names: list[str] = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names += san.get_values_for_type(x509.DNSName)
        names += [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        names += [str(a.value) for a in cn]
    return Certificate(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        names=tuple(names),
    )


def now() -> datetime:
    return datetime.now(UTC)


def _name_matches(pattern: str, host: str) -> bool:
    """RFC 6125 matching: exact, or one left-most `*` label; IP addresses match exactly."""
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".").strip("[]")
    try:
        return ipaddress.ip_address(host) == ipaddress.ip_address(pattern)
    except ValueError:
        pass
    if pattern == host:
        return True
    if pattern.startswith("*."):
        head, _, rest = host.partition(".")
        return bool(head) and rest == pattern[2:] and "." in rest
    return False
