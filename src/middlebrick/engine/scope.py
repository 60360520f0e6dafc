"""The scan's scope: the origins requests may go to. Everything else is refused, whoever asks."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from middlebrick.checks._context import Origin
from middlebrick.errors import ScopeViolation

DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> Origin:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    return Origin(scheme, parts.hostname.lower(), parts.port or DEFAULT_PORTS[scheme])


@dataclass(frozen=True, slots=True)
class Scope:
    origins: frozenset[Origin]

    def contains(self, url: str) -> bool:
        try:
            return origin_of(url) in self.origins
        except ValueError:
            return False

    def require(self, url: str) -> None:
        if not self.contains(url):
            allowed = ", ".join(sorted(o.url for o in self.origins))
            raise ScopeViolation(f"refused to request {url}: outside the scan scope ({allowed})")
