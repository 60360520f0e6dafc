"""Throwaway certificate authorities and server TLS contexts (trustme), for the demo and tests.

What this machine's OpenSSL 3.0 accepts, so tests can build deliberately weak servers: TLS 1.0
and 1.1 work only at security level 0 (`@SECLEVEL=0` in the cipher string) on both ends; RSA key
exchange, CBC-SHA1, CAMELLIA, NULL-encryption and anonymous ECDH suites are still offered; 3DES,
RC4, DES, EXPORT, IDEA and SEED are compiled out; DHE and ADH need DH parameters, which these
contexts do not load.
"""

from __future__ import annotations

import ssl
import warnings
from datetime import datetime
from pathlib import Path

import trustme

_LEGACY_CIPHERS = "DEFAULT:@SECLEVEL=0"


def local_ca() -> trustme.CA:
    """A new CA that exists only in memory; `write_ca_pem` gives clients its certificate."""
    return trustme.CA(organization_name="middlebrick throwaway CA")


def write_ca_pem(ca: trustme.CA, path: Path) -> Path:
    """Write the CA's certificate as PEM to `path` (for `--ca-bundle`, `httpx` `verify=`)."""
    ca.cert_pem.write_to_path(str(path))
    return path


def server_context(
    ca: trustme.CA,
    *hostnames: str,
    minimum_version: ssl.TLSVersion | None = None,
    maximum_version: ssl.TLSVersion | None = None,
    ciphers: str | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    rsa: bool = False,
) -> ssl.SSLContext:
    """A server context with a certificate from `ca` for `hostnames` (default 127.0.0.1).

    A wrong name (`"api.example.test"`) makes a host-mismatch certificate; a past `not_after`
    an expired one, a future `not_before` one not yet valid. A `minimum_version` below TLS 1.2
    without `ciphers` lowers the security level to 0, without which OpenSSL 3 offers no cipher at
    those versions. `rsa=True` issues an RSA key (default ECDSA), which RSA-key-exchange suites
    (`AES128-SHA`, `NULL-SHA`, `CAMELLIA128-SHA`) require.
    """
    cert = ca.issue_cert(
        *(hostnames or ("127.0.0.1",)),
        not_before=not_before,
        not_after=not_after,
        key_type=trustme.KeyType.RSA if rsa else trustme.KeyType.ECDSA,
    )
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    legacy = minimum_version is not None and minimum_version < ssl.TLSVersion.TLSv1_2
    if ciphers or legacy:
        ctx.set_ciphers(ciphers or _LEGACY_CIPHERS)
    with warnings.catch_warnings():  # legacy versions are asked for on purpose, by tests
        warnings.simplefilter("ignore", DeprecationWarning)
        if minimum_version is not None:
            ctx.minimum_version = minimum_version
        if maximum_version is not None:
            ctx.maximum_version = maximum_version
    cert.configure_cert(ctx)
    return ctx
