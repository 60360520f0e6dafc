"""Recon: the first requests of a scan. Is the target there, which origin to scan, what runs it.

An unreachable target stops the scan here with a `TargetError` that says why in one line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urljoin, urlsplit

from middlebrick.checks._context import Origin, Target
from middlebrick.config import ScanConfig
from middlebrick.engine.scope import origin_of
from middlebrick.errors import TargetError
from middlebrick.http.client import HttpClient
from middlebrick.http.exchange import ErrorKind, Exchange

_HINT = {
    ErrorKind.TLS: " (use --ca-bundle PEM to trust a private CA, or --insecure to scan anyway)",
    ErrorKind.TIMEOUT: " (raise --timeout if the server is slow)",
}

# (header, pattern, framework) — first match wins; order from most to least specific.
_FINGERPRINTS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("server", re.compile(r"werkzeug", re.I), "flask"),
    ("x-powered-by", re.compile(r"express", re.I), "express"),
    ("server", re.compile(r"uvicorn|hypercorn", re.I), "fastapi"),
    ("server", re.compile(r"WSGIServer/.*CPython", re.I), "django"),
    ("x-powered-by", re.compile(r"django", re.I), "django"),
    ("set-cookie", re.compile(r"csrftoken=|django", re.I), "django"),
    ("set-cookie", re.compile(r"^session=", re.I), "flask"),
    ("x-powered-by", re.compile(r"php", re.I), "php"),
    ("server", re.compile(r"kestrel|microsoft-iis", re.I), "aspnet"),
)


def fail(ex: Exchange, url: str) -> TargetError:
    kind = ex.error_kind or ErrorKind.NETWORK
    return TargetError(f"cannot scan {url}: {ex.error}{_HINT.get(kind, '')}")


async def recon(client: HttpClient, config: ScanConfig) -> tuple[Target, list[Exchange]]:
    """Request the target's root, follow an http->https upgrade on the same host, fingerprint."""
    given = origin_of(config.target)
    base_path = urlsplit(config.target).path.rstrip("/")
    first = await client.send("GET", given.url + (base_path or "/"), purpose="recon")
    if first.response is None:
        raise fail(first, config.target)
    seen = [first]
    origin, http_origin = given, None
    if given.scheme == "http":
        http_origin = given
        upgrade = _https_upgrade(first, given)
        if upgrade is not None:
            origin = upgrade
            second = await client.send("GET", upgrade.url + (base_path or "/"), purpose="recon")
            if second.response is None:
                raise fail(second, upgrade.url)
            seen.append(second)
    elif given.port == 443:
        http_origin = Origin("http", given.host, 80)
    target = Target(
        url=config.target,
        origin=origin,
        base_path=base_path,
        given_origin=given,
        http_origin=http_origin,
        server=seen[-1].response.headers.get("server") if seen[-1].response else None,
        framework=fingerprint(seen),
        auth_schemes=(),
        has_credentials=config.has_credentials,
        credential_kinds=tuple(config.public_settings()["credentials"]),  # type: ignore[arg-type]
    )
    return target, seen


def _https_upgrade(ex: Exchange, given: Origin) -> Origin | None:
    """The https origin on the same host that an http answer redirects to, if it does."""
    resp = ex.response
    if resp is None or resp.status not in (301, 302, 303, 307, 308):
        return None
    location = resp.headers.get("location")
    if not location:
        return None
    try:
        dest = origin_of(urljoin(ex.request.url, location))
    except ValueError:
        return None
    if dest.scheme == "https" and dest.host == given.host:
        return dest
    return None


def fingerprint(exchanges: Iterable[Exchange]) -> str:
    """The framework behind the API, from headers alone; 'generic' when nothing tells."""
    for ex in exchanges:
        if ex.response is None:
            continue
        for header, pattern, framework in _FINGERPRINTS:
            if any(pattern.search(v) for v in ex.response.headers.get_all(header)):
                return framework
    return "generic"


def auth_schemes(exchanges: Iterable[Exchange]) -> tuple[str, ...]:
    """Lower-case auth schemes the API challenges with (`WWW-Authenticate`), in order seen."""
    schemes: dict[str, None] = {}
    for ex in exchanges:
        if ex.response is None or ex.response.status != 401:
            continue
        for value in ex.response.headers.get_all("www-authenticate"):
            for match in re.finditer(r"(?:^|,)\s*([A-Za-z][\w-]*)(?=\s|,|$)", value):
                schemes[match.group(1).lower()] = None
    return tuple(schemes)
