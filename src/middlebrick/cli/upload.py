"""`middlebrick scan --upload URL`: push the JSON report to a middlebrick dashboard
(`POST URL/api/v1/reports`) with the API token from `$MIDDLEBRICK_TOKEN`.

The destination and the token are checked before the scan starts, so a CI job with a missing
token fails at once (exit 2); the push happens after every local output was written, so a
dashboard that is down costs the upload (exit 3), never the report."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
from pydantic import SecretStr

from middlebrick.config import normalise_target
from middlebrick.errors import ConfigError, TargetError
from middlebrick.model import Report

TOKEN_ENV = "MIDDLEBRICK_TOKEN"  # noqa: S105 - the variable's name, not a token
REPORTS_PATH = "/api/v1/reports"
TIMEOUT = 60.0  # seconds for the whole upload
_MAX_SHOWN = 200  # characters of the dashboard's explanation quoted in the error


@dataclass(frozen=True, slots=True)
class Destination:
    endpoint: str  # the dashboard's reports URL
    token: SecretStr


def destination(url: str, environ: Mapping[str, str] | None = None) -> Destination:
    """Where `--upload URL` sends the report, with the token; `ConfigError` if either is
    unusable. Plain HTTP is accepted for loopback dashboards only: anywhere else the token would
    cross the network readable."""
    environ = os.environ if environ is None else environ
    token = environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise ConfigError(
            f"--upload needs the dashboard's API token in ${TOKEN_ENV} (its API tokens page)"
        )
    try:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        userinfo, query = bool(parts.username or parts.password), bool(parts.query)
    except ValueError:
        userinfo = query = False
    if userinfo:
        raise ConfigError(f"--upload: put the token in ${TOKEN_ENV}, not in the URL")
    if query:
        raise ConfigError("--upload takes the dashboard's URL, without a query")
    try:
        base = normalise_target(url)
    except ConfigError as exc:
        raise ConfigError(f"--upload: {exc}") from None
    split = urlsplit(base)
    if split.scheme == "http" and not _loopback(split.hostname or ""):
        raise ConfigError(
            f"--upload {base}: use https:// (over plain http the API token would travel "
            "readable); only a dashboard on this machine may use http://"
        )
    return Destination(base + REPORTS_PATH, SecretStr(token))


def push(report: Report, to: Destination) -> str:
    """Send `report`; the dashboard's page for it. `TargetError` (one line) if it was not kept."""
    return asyncio.run(_post(report, to))


async def _post(report: Report, to: Destination) -> str:
    headers = {
        "Authorization": f"Bearer {to.token.get_secret_value()}",
        "Content-Type": "application/json",
        "Accept": "application/json, application/problem+json",
    }
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as session,
            session.post(
                to.endpoint,
                data=report.model_dump_json().encode(),
                headers=headers,
                allow_redirects=False,  # a redirect must not carry the token elsewhere
            ) as response,
        ):
            text = await response.text(errors="replace")
            status = response.status
            location = response.headers.get("Location", "")
    except TimeoutError:
        raise TargetError(f"upload to {to.endpoint} failed: no answer in {TIMEOUT:.0f} s") from None
    except aiohttp.ClientError as exc:
        raise TargetError(f"upload to {to.endpoint} failed: {_reason(exc)}") from None
    if status == 201:
        return _page(text) or location or to.endpoint
    raise TargetError(f"upload to {to.endpoint} failed: {_refusal(status, text, location)}")


def _page(text: str) -> str | None:
    try:
        page = json.loads(text).get("page_url")
    except (ValueError, AttributeError):
        return None
    return page if isinstance(page, str) else None


def _refusal(status: int, text: str, location: str) -> str:
    """Why the dashboard did not keep the report, in one line."""
    if 300 <= status < 400:
        return f"the dashboard redirected ({status}) to {location or '?'}; give its final URL"
    if status == 401:
        return f"the dashboard refused the token in ${TOKEN_ENV} (401)"
    try:
        detail = json.loads(text).get("detail")
    except (ValueError, AttributeError):
        detail = None
    if not isinstance(detail, str):
        detail = text if len(text) < _MAX_SHOWN and "<" not in text else ""
    detail = " ".join(detail.split())[:_MAX_SHOWN]
    return f"the dashboard answered {status}" + (f": {detail}" if detail else "")


def _reason(exc: aiohttp.ClientError) -> str:
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return "its TLS certificate is not trusted"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"cannot connect ({exc.os_error.strerror or type(exc.os_error).__name__})"
    return " ".join(str(exc).split())[:_MAX_SHOWN] or type(exc).__name__


def _loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
