"""URLs users give the dashboard (scan targets, spec URLs, fleet entries), normalised before
anything is queued or quoted back."""

from __future__ import annotations

from urllib.parse import urlsplit

from middlebrick.config import normalise_target
from middlebrick.errors import ConfigError


def target_url(value: str, where: str) -> str:
    """`value` normalised (`config.normalise_target`); a URL with a user name or password is
    refused without quoting it, so the error cannot echo a credential."""
    try:
        parts = urlsplit(value if "://" in value else f"http://{value}")
        userinfo = bool(parts.username or parts.password)
    except ValueError:
        userinfo = False
    if userinfo:
        raise ConfigError(
            f"{where}: a URL may not carry a user name or password; give credentials apart"
        )
    try:
        return normalise_target(value)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
