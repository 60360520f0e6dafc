"""Build the contexts checks run in, with the one sender every active check must use.

The sender is where the safety rules hold for every check at once: the method policy, the scope,
and credentials added only when a check asks for them.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Sequence
from dataclasses import dataclass

from middlebrick.checks._check import Check
from middlebrick.checks._context import Context, ProbeContext, Sender, Target
from middlebrick.config import ScanConfig
from middlebrick.engine.scope import Scope
from middlebrick.errors import ScopeViolation
from middlebrick.http import tls
from middlebrick.http.client import HttpClient
from middlebrick.http.exchange import Exchange
from middlebrick.http.guard import NotPinned, Pins
from middlebrick.spec.operations import ApiSpec, Operation


def credential_headers(config: ScanConfig) -> dict[str, str]:
    headers: dict[str, str] = {}
    if config.auth is not None:
        token = base64.b64encode(config.auth.get_secret_value().encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    if config.bearer is not None:
        headers["Authorization"] = f"Bearer {config.bearer.get_secret_value()}"
    for name, value in config.headers:
        headers[name] = value.get_secret_value()
    return headers


def make_sender(client: HttpClient, scope: Scope, config: ScanConfig) -> Sender:
    creds = credential_headers(config)

    async def send(
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        credentials: bool = False,
        purpose: str,
        body: bytes = b"",
    ) -> Exchange:
        method = method.upper()
        if not config.allows(method):
            raise ScopeViolation(f"refused to send {method} {url}: unsafe methods need --unsafe")
        scope.require(url)
        merged = {**(creds if credentials else {}), **(headers or {})}
        return await client.send(
            method,
            url,
            merged,
            purpose=purpose,
            authenticated=credentials and bool(creds),
            body=body,
        )

    return send


def make_handshaker(client: HttpClient, target: Target, config: ScanConfig):  # type: ignore[no-untyped-def]
    pins = Pins.of(config.pin)

    async def handshake(**options: object) -> tls.Handshake:
        timeout = max(0.1, min(config.timeout, client.remaining))
        try:
            connect_to = pins.addresses(target.origin.host)
        except NotPinned as exc:
            return tls.Handshake(ok=False, error=str(exc))
        return await asyncio.to_thread(
            tls.handshake,
            target.origin.host,
            target.origin.port,
            ca_bundle=config.ca_bundle,
            timeout=timeout,
            connect_to=connect_to,
            **options,  # type: ignore[arg-type]
        )

    return handshake


@dataclass(frozen=True, slots=True)
class Facts:
    """What the engine knows before checks run, shared by every check's context."""

    target: Target
    operations: Sequence[Operation]
    protected: frozenset[str]
    spec: ApiSpec | None = None
    spec_exchange: Exchange | None = None


def probe_context(
    check: Check, facts: Facts, client: HttpClient, sender: Sender, config: ScanConfig
) -> ProbeContext:
    return ProbeContext(
        check=check,
        target=facts.target,
        operations=facts.operations,
        recorded=client.exchanges,
        protected_urls=facts.protected,
        spec=facts.spec,
        spec_exchange=facts.spec_exchange,
        unsafe=config.unsafe,
        _send=sender,
        _handshake=make_handshaker(client, facts.target, config),
        _basic=_split_basic(config),
        _bearer=config.bearer.get_secret_value() if config.bearer else None,
        _header_credentials=tuple((n, v.get_secret_value()) for n, v in config.headers),
    )


def _split_basic(config: ScanConfig) -> tuple[str, str] | None:
    if config.auth is None:
        return None
    user, _, password = config.auth.get_secret_value().partition(":")
    return user, password


def passive_context(check: Check, facts: Facts, exchanges: Sequence[Exchange]) -> Context:
    return Context(
        check=check,
        target=facts.target,
        operations=facts.operations,
        recorded=exchanges,
        protected_urls=facts.protected,
        spec=facts.spec,
        spec_exchange=facts.spec_exchange,
    )
