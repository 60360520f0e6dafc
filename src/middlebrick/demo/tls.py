"""Throwaway certificate authorities and server TLS contexts (trustme), for the demo and tests."""

from __future__ import annotations

import ssl
import warnings
from datetime import datetime
from typing import Any

import trustme


def local_ca() -> Any:
    """A new CA that exists only in memory; `ca.cert_pem.write_to_path(p)` gives clients its PEM."""
    return trustme.CA(organization_name="middlebrick throwaway CA")


def server_context(
    ca: Any,
    *hostnames: str,
    minimum_version: ssl.TLSVersion | None = None,
    maximum_version: ssl.TLSVersion | None = None,
    ciphers: str | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    rsa: bool = False,
) -> ssl.SSLContext:
    """A server context with a certificate from `ca` for `hostnames` (default 127.0.0.1).

    Legacy versions and weak ciphers need `ciphers="...:@SECLEVEL=0"` on this OpenSSL; `rsa=True`
    issues an RSA key, which the old RSA-key-exchange cipher suites require.
    """
    cert = ca.issue_cert(
        *(hostnames or ("127.0.0.1",)),
        not_before=not_before,
        not_after=not_after,
        key_type=trustme.KeyType.RSA if rsa else trustme.KeyType.ECDSA,
    )
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if ciphers:
        ctx.set_ciphers(ciphers)
    with warnings.catch_warnings():  # legacy versions are asked for on purpose, by tests
        warnings.simplefilter("ignore", DeprecationWarning)
        if minimum_version:
            ctx.minimum_version = minimum_version
        if maximum_version:
            ctx.maximum_version = maximum_version
    cert.configure_cert(ctx)
    return ctx
